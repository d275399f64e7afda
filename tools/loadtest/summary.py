"""Prints Locust's stats CSV (…_stats.csv) as a summary table: one row per request name."""
import csv
import sys

COLUMNS = [
    ("request", "Name", "{}"),
    ("requests", "Request Count", "{:.0f}"),
    ("failures", "Failure Count", "{:.0f}"),
    ("req/s", "Requests/s", "{:.1f}"),
    ("p50 ms", "50%", "{:.0f}"),
    ("p95 ms", "95%", "{:.0f}"),
    ("p99 ms", "99%", "{:.0f}"),
    ("max ms", "Max Response Time", "{:.0f}"),
]


def cell(row, column, form):
    value = row.get(column, "")
    try:
        return form.format(float(value)) if form != "{}" else value
    except ValueError:
        return value


def main(path):
    with open(path, newline="") as file:
        rows = [{**row, "Name": row["Name"] if row["Name"] != "Aggregated" else "all"} for row in csv.DictReader(file)]
    table = [[title for title, _, _ in COLUMNS]] + [[cell(row, column, form) for _, column, form in COLUMNS] for row in rows]
    widths = [max(len(line[index]) for line in table) for index in range(len(COLUMNS))]
    for number, line in enumerate(table):
        print("  ".join(value.ljust(width) if index == 0 else value.rjust(width) for index, (value, width) in enumerate(zip(line, widths))))
        if number == 0:
            print("  ".join("-" * width for width in widths))


if __name__ == "__main__":
    main(sys.argv[1])
