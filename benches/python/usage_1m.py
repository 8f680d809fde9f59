"""Times the USER report of a generated month from Python, the way `wbill usage` makes it.

Usage: python benches/python/usage_1m.py EVENTS.csv ORG.toml OUT.csv

Loads the events, computes the USER report of the whole subscription for May 2024 under the
`started` policy and writes it as CSV: the same work as
`wbill usage --events EVENTS.csv --org ORG.toml --from 2024-05-01 --to 2024-05-31 --level user --all --out OUT.csv`.
"""

import sys
import time

import wholesale_billing as wb


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    events, org_path, out = sys.argv[1:]
    started = time.perf_counter()
    org = wb.Organisation.from_file(org_path)
    ledger = wb.Ledger.from_csv(events, org)
    loaded = time.perf_counter()
    report = ledger.usage_report("2024-05-01", "2024-05-31", level="user", all=True)
    report.to_csv(out)
    done = time.perf_counter()
    print(
        f"{ledger.diagnostics.rows_read} rows read, {len(report)} USER rows written in {done - started:.2f} s "
        f"(load {loaded - started:.2f} s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
