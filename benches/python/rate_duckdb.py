"""The peer of `wbill cdr rate` for issue 10, point 10: the same rating, without allowances, in DuckDB SQL.

What a data engineer would write to rate a month of Webex Calling records (SPEC §7.2–§7.4, §7.7) with a
tariff of SPEC §7.8: read the Detailed Call History CSV, keep one row per `Report ID` (identical
duplicates dropped, a conflicting one refused), give each record its status, find the longest prefix of
the called number's digits by an equi-join on every prefix of the number, pick the first band holding the
local start, count the billable seconds by increments and round the charge half-even — in integers, so
that the result can be compared with `wbill`'s to the last digit — then write the rated records and the
per-customer, per-destination summary as CSV.

The tariff (TOML, with its CSV prefix table) is flattened to four small tables first; that step is
timed apart and is not part of the comparison. Customers are not checked (no events): every `Org UUID`
is a customer, as `wbill cdr rate` without `--events` does, and no allowance applies.

Usage::

    python benches/python/rate_duckdb.py --cdrs cdrs.csv --tariff tariff.toml \
        --from 2024-05-01 --to 2024-05-31 --out rated.csv --summary summary.csv [--threads N]

Prints the seconds of the SQL (read, rate, write) on stderr. `benches/README.md` has the figures and
`benches/python/compare_duckdb.sh` runs both side by side and compares the summaries.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

WEEKDAYS = {
    "mon": 1, "monday": 1, "tue": 2, "tuesday": 2, "wed": 3, "wednesday": 3, "thu": 4, "thursday": 4,
    "fri": 5, "friday": 5, "sat": 6, "saturday": 6, "sun": 7, "sunday": 7,
}
DEFAULT_CHARGED = ["SIP_NATIONAL", "SIP_MOBILE", "SIP_INTERNATIONAL", "SIP_PREMIUM", "SIP_SHORTCODE"]
MICROS = Decimal(1_000_000)
DAY_US = 86_400_000_000
MINOR_UNIT = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3, "JOD": 3}


def micros(text: str) -> int:
    value = Decimal(text) * MICROS
    if value != value.to_integral_value():
        raise ValueError(f"{text}: more than 6 decimals")
    return int(value)


def clock_us(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    while len(parts) < 3:
        parts.append(0)
    return (parts[0] * 3600 + parts[1] * 60 + parts[2]) * 1_000_000


@dataclass
class Settings:
    """What the SQL needs of the tariff besides its tables."""

    currency: str
    decimals: int
    minor: int
    charged: list[str]
    tollfree: str | None
    max_prefix: int


def flatten(tariff_path: Path, out: Path) -> Settings:
    """The tariff as four CSV tables in `out`, and its settings."""
    doc = tomllib.loads(tariff_path.read_text())
    destinations: dict[str, tuple[str, int, int, int, int]] = {}
    prefixes: list[tuple[str, str]] = []
    band_prices: list[tuple[str, str, int | None, int]] = []
    for d in doc.get("destinations", []):
        name = d["name"]
        destinations[name] = (
            d["class"], micros(d.get("connect_fee", "0")), micros(d["per_minute"]), d["initial"], d["subsequent"]
        )
        prefixes.extend((p, name) for p in d.get("prefixes", []))
        for band, price in d.get("bands", {}).items():
            fee = price.get("connect_fee")
            band_prices.append((name, band, None if fee is None else micros(fee), micros(price["per_minute"])))
    table = doc.get("prefix_table")
    if table:
        with open(tariff_path.parent / table, newline="") as f:
            for row in csv.DictReader(f):
                name = row["destination"]
                destinations.setdefault(
                    name,
                    (row["class"], micros(row["connect_fee"]), micros(row["per_minute"]),
                     int(row["initial"]), int(row["subsequent"])),
                )
                prefixes.append((row["prefix"], name))
    bands = []
    for order, b in enumerate(doc.get("bands", [])):
        for day in b["days"]:
            bands.append((order, b["name"], WEEKDAYS[day.lower()], clock_us(b["from"]), clock_us(b["to"])))

    def write(name: str, header: list[str], rows: list[tuple[object, ...]]) -> None:
        with open(out / name, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)

    write("destinations.csv", ["destination", "class", "connect_fee", "per_minute", "initial", "subsequent"],
          [(k, *v) for k, v in destinations.items()])
    write("prefixes.csv", ["prefix", "destination"], prefixes)
    write("band_prices.csv", ["destination", "band", "connect_fee", "per_minute"], band_prices)
    write("bands.csv", ["ord", "band", "isodow", "from_us", "to_us"], bands)
    currency = doc["currency"]
    return Settings(
        currency=currency,
        decimals=int(doc.get("rating_decimals", 4)),
        minor=MINOR_UNIT.get(currency, 2),
        charged=list(doc.get("charged_call_types", DEFAULT_CHARGED)),
        tollfree=doc.get("tollfree_destination"),
        max_prefix=max(len(p) for p, _ in prefixes),
    )


def sql_text(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def rate(con: duckdb.DuckDBPyConnection, cdrs: list[str], tables: Path, t: Settings,
         start: dt.date, end: dt.date, out: str, summary: str) -> None:
    decimals, minor = t.decimals, t.minor
    charged = ", ".join(sql_text(c) for c in t.charged)
    tollfree = sql_text(t.tollfree) if t.tollfree else "NULL"
    files = "[" + ", ".join(sql_text(c) for c in cdrs) + "]"
    # charge in units of 10^-decimals = (fee_us × 60 + per_minute_us × billable) / (60 × 10^(6 - decimals))
    charge_den = 60 * 10 ** (6 - decimals)
    con.execute(f"""
CREATE OR REPLACE MACRO half_even(n, d) AS
  (n // d) + CASE WHEN 2 * (n % d) > d OR (2 * (n % d) = d AND (n // d) % 2 = 1) THEN 1 ELSE 0 END;
CREATE OR REPLACE MACRO fixed(n, k) AS
  CASE WHEN k = 0 THEN n::VARCHAR
       ELSE (n // (10 ** k)::HUGEINT)::VARCHAR || '.' || lpad((n % (10 ** k)::HUGEINT)::VARCHAR, k, '0') END;
CREATE OR REPLACE TABLE destinations AS SELECT * FROM read_csv({sql_text(str(tables / 'destinations.csv'))},
  header = true, columns = {{'destination': 'VARCHAR', 'class': 'VARCHAR', 'connect_fee': 'BIGINT',
  'per_minute': 'BIGINT', 'initial': 'BIGINT', 'subsequent': 'BIGINT'}});
CREATE OR REPLACE TABLE prefixes AS SELECT * FROM read_csv({sql_text(str(tables / 'prefixes.csv'))},
  header = true, columns = {{'prefix': 'VARCHAR', 'destination': 'VARCHAR'}});
CREATE OR REPLACE TABLE band_prices AS SELECT * FROM read_csv({sql_text(str(tables / 'band_prices.csv'))},
  header = true, columns = {{'destination': 'VARCHAR', 'band': 'VARCHAR', 'connect_fee': 'BIGINT',
  'per_minute': 'BIGINT'}});
CREATE OR REPLACE TABLE bands AS SELECT * FROM read_csv({sql_text(str(tables / 'bands.csv'))},
  header = true, columns = {{'ord': 'INTEGER', 'band': 'VARCHAR', 'isodow': 'INTEGER', 'from_us': 'BIGINT',
  'to_us': 'BIGINT'}});

CREATE OR REPLACE TEMP TABLE calls AS
WITH raw AS (
  SELECT DISTINCT
    "Report ID" AS report_id,
    "Start time"::TIMESTAMPTZ AS start_time,
    "Duration"::BIGINT AS duration,
    upper("Direction") AS direction,
    upper("Call type") AS call_type,
    lower("Answered") = 'true' AS answered,
    "Called number" AS called_number,
    "Calling number" AS calling_number,
    "Org UUID" AS org,
    "User UUID" AS user_uuid,
    coalesce(nullif("Site timezone", '')::INTEGER, 0) AS tz
  FROM read_csv({files}, header = true, all_varchar = true, union_by_name = true)
), numbered AS (
  SELECT *, count(*) OVER (PARTITION BY report_id) AS versions FROM raw
)
SELECT *,
  CASE
    WHEN direction = 'TERMINATING' AND NOT (call_type = 'SIP_TOLLFREE' AND {tollfree} IS NOT NULL) THEN 'terminating'
    WHEN NOT answered THEN 'not_answered'
    WHEN duration = 0 THEN 'zero_duration'
    WHEN direction = 'ORIGINATING' AND call_type NOT IN ({charged}) THEN 'not_charged_call_type'
    ELSE 'charged'
  END AS status,
  regexp_replace(called_number, '[^0-9]', '', 'g') AS digits,
  epoch_us(start_time) + tz::BIGINT * 60000000 AS local_us
FROM numbered
WHERE start_time >= {sql_text(start.isoformat() + 'T00:00:00Z')}::TIMESTAMPTZ
  AND start_time < {sql_text((end + dt.timedelta(days=1)).isoformat() + 'T00:00:00Z')}::TIMESTAMPTZ;
""")
    conflicts = con.execute("SELECT count(*) FROM calls WHERE versions > 1").fetchone()
    if conflicts and conflicts[0]:
        raise SystemExit(f"{conflicts[0]} records share a Report ID with other content")
    con.execute(f"""
CREATE OR REPLACE TEMP TABLE matched AS
WITH charged AS (SELECT report_id, digits, call_type, direction FROM calls WHERE status = 'charged'),
tolls AS (SELECT report_id, {tollfree} AS destination, 0 AS prefix_len FROM charged
          WHERE direction = 'TERMINATING'),
numbers AS (
  SELECT report_id, digits, unnest(range(1, least(length(digits), {t.max_prefix}) + 1)) AS k
  FROM charged WHERE direction = 'ORIGINATING'
),
candidates AS (
  SELECT n.report_id, p.destination, n.k AS prefix_len
  FROM numbers n JOIN prefixes p ON p.prefix = substr(n.digits, 1, n.k)
)
SELECT report_id, arg_max(destination, prefix_len) AS destination, max(prefix_len) AS prefix_len
FROM candidates GROUP BY report_id
UNION ALL SELECT * FROM tolls;

CREATE OR REPLACE TEMP TABLE rated AS
WITH banded AS (
  SELECT c.*, m.destination, m.prefix_len,
    (SELECT b.band FROM bands b
     WHERE b.isodow = ((((c.local_us // {DAY_US}) + 3) % 7 + 7) % 7) + 1
       AND c.local_us - (c.local_us // {DAY_US}) * {DAY_US} >= b.from_us
       AND c.local_us - (c.local_us // {DAY_US}) * {DAY_US} < b.to_us
     ORDER BY b.ord LIMIT 1) AS band
  FROM calls c LEFT JOIN matched m USING (report_id)
), priced AS (
  SELECT b.*, d.class,
    CASE WHEN b.status <> 'charged' THEN 0
         WHEN b.duration <= d.initial THEN d.initial
         ELSE d.initial + ((b.duration - d.initial + d.subsequent - 1) // d.subsequent) * d.subsequent
    END AS billable,
    coalesce(bp.connect_fee, d.connect_fee) AS fee_us,
    coalesce(bp.per_minute, d.per_minute) AS per_minute_us
  FROM banded b
  LEFT JOIN destinations d ON d.destination = b.destination
  LEFT JOIN band_prices bp ON bp.destination = b.destination AND bp.band = b.band
)
SELECT *,
  CASE WHEN status = 'charged' AND destination IS NULL THEN 'no_destination' ELSE status END AS final_status,
  CASE WHEN status = 'charged' AND destination IS NOT NULL
       THEN half_even(fee_us::HUGEINT * 60 + per_minute_us::HUGEINT * billable, {charge_den})
       ELSE 0 END AS charge
FROM priced;

COPY (
  SELECT report_id AS REPORT_ID, org AS CUSTOMER_ORG_ID, NULL AS CUSTOMER_EXTERNAL_ID, NULL AS PARTNER_ORG_ID,
    user_uuid AS USER_UUID, CASE WHEN epoch_us(start_time) % 1000000 = 0 THEN strftime(start_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ')
      WHEN epoch_us(start_time) % 1000 = 0 THEN strftime(start_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')
      ELSE strftime(start_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') END AS START_TIME,
    duration AS DURATION, final_status AS STATUS,
    CASE WHEN final_status IN ('charged', 'no_destination') THEN digits ELSE NULL END AS RATED_NUMBER,
    CASE WHEN final_status = 'charged' AND prefix_len > 0 THEN substr(digits, 1, prefix_len) ELSE NULL END AS PREFIX,
    CASE WHEN final_status = 'charged' THEN destination ELSE NULL END AS DESTINATION,
    CASE WHEN final_status = 'charged' THEN class ELSE NULL END AS CLASS,
    CASE WHEN final_status = 'charged' THEN band ELSE NULL END AS BAND,
    CASE WHEN final_status = 'charged' THEN billable ELSE 0 END AS BILLABLE_SECONDS,
    0 AS COVERED_SECONDS, fixed(charge, {decimals}) AS CHARGE, {sql_text(t.currency)} AS CURRENCY
  FROM rated
) TO {sql_text(out)} (HEADER, DELIMITER ',');

COPY (
  SELECT org AS CUSTOMER_ORG_ID, destination AS DESTINATION, count(*) AS CALLS,
    fixed(half_even(sum(billable)::HUGEINT * 10000, 60), 4) AS BILLABLE_MINUTES,
    '0.0000' AS COVERED_MINUTES,
    fixed(half_even(sum(charge)::HUGEINT, {10 ** (decimals - minor)}), {minor}) AS AMOUNT,
    {sql_text(t.currency)} AS CURRENCY
  FROM rated WHERE final_status = 'charged'
  GROUP BY org, destination ORDER BY org, destination
) TO {sql_text(summary)} (HEADER, DELIMITER ',');
""")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cdrs", nargs="+", required=True)
    p.add_argument("--tariff", type=Path, required=True)
    p.add_argument("--from", dest="start", type=dt.date.fromisoformat, required=True)
    p.add_argument("--to", dest="end", type=dt.date.fromisoformat, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--summary", required=True)
    p.add_argument("--threads", type=int, default=0, help="DuckDB threads (0: all cores)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        settings = flatten(args.tariff, Path(tmp))
        t1 = time.perf_counter()
        con = duckdb.connect()
        if args.threads:
            con.execute(f"SET threads TO {args.threads}")
        con.execute("SET preserve_insertion_order = false")
        rate(con, args.cdrs, Path(tmp), settings, args.start, args.end, args.out, args.summary)
        t2 = time.perf_counter()
        rows = con.execute("SELECT count(*) FROM rated").fetchone()
        n = rows[0] if rows else 0
    print(f"duckdb {duckdb.__version__}: tariff flattened in {t1 - t0:.2f} s; {n:,} records rated in "
          f"{t2 - t1:.2f} s ({n / (t2 - t1):,.0f} records/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
