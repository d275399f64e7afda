"""The records API under load: Locust users reading by id, searching and writing in bulk.

`make loadtest` runs it headless against a URL (default: the local `make run`); the Argo CD suite
runs it in a pod against the records Service to drive KEDA (tests/argocd/autoscaling.test.ts).

Each user writes a small bulk of its own first, so reads by id hit records that exist, then
mixes, by weight: reads by id 6, searches 3 (a date range, a title term, or both), bulk writes of
1 to 10 records 1. Settings come from the environment:
  RECORDS_TOKEN        a bearer token with records:read and records:write (none: auth off)
  RECORDS_TOKENS       several, comma-separated: each user takes the next, so users are distinct
                       callers (the service limits concurrent searches per caller)
  RECORDS_USER_RATE    requests per second per user (default 0: as fast as answers come)
  RECORDS_RECONNECT    requests per connection (default 0: keep it open). A Kubernetes Service
                       balances connections, not requests: a user that keeps its connection never
                       reaches a pod started after it connected, so the autoscaling test reconnects.
"""
import os
import random
import string

from locust import HttpUser, constant, constant_throughput, task

TOKENS = [token for token in os.environ.get("RECORDS_TOKENS", os.environ.get("RECORDS_TOKEN", "")).split(",") if token]
RATE = float(os.environ.get("RECORDS_USER_RATE", "0"))
RECONNECT = int(os.environ.get("RECORDS_RECONNECT", "0"))
TERMS = ["confort", "records", "data", "moyen", "alpha", "élan", "report", "new"]


def title() -> str:
    words = random.choices(TERMS, k=3) + ["".join(random.choices(string.ascii_lowercase, k=6))]
    return " ".join(words)


def items(count: int) -> list:
    return [
        {
            "title": title(),
            "uri": f"https://example.org/load/{random.randrange(10**9)}",
            "date": f"{random.randint(1990, 2025)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}",
        }
        for _ in range(count)
    ]


class RecordsUser(HttpUser):
    wait_time = constant_throughput(RATE) if RATE > 0 else constant(0)
    started = 0

    def on_start(self):
        self.client.headers["accept"] = "application/json"
        if TOKENS:
            token = TOKENS[RecordsUser.started % len(TOKENS)]
            RecordsUser.started += 1
            self.client.headers["authorization"] = f"Bearer {token}"
        self.ids = []
        self.requests = 0
        self.write(10)

    def reconnect(self):
        """Closes the connection every RECONNECT requests: the next one opens a new one."""
        self.requests += 1
        if RECONNECT and self.requests % RECONNECT == 0:
            self.client.close()

    def write(self, count: int):
        with self.client.post("/v1/bulk", json={"items": items(count)}, name="POST /v1/bulk", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            self.ids.extend(response.json().get("ids", []))
            del self.ids[:-500]

    @task(6)
    def read(self):
        self.reconnect()
        if not self.ids:
            return self.write(5)
        self.client.get(f"/v1/{random.choice(self.ids)}", name="GET /v1/:id")

    @task(3)
    def search(self):
        self.reconnect()
        after = random.randint(1990, 2020)
        params = random.choice([
            {"after": f"{after}-01-01", "before": f"{after + 5}-01-01", "limit": 20},
            {"contains": random.choice(TERMS), "limit": 20},
            {"contains": random.choice(TERMS), "after": f"{after}-01-01", "limit": 20},
        ])
        self.client.get("/v1/", params=params, name="GET /v1/ (search)")

    @task(1)
    def bulk(self):
        self.reconnect()
        self.write(random.randint(1, 10))
