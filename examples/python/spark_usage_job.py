"""The month's usage reports on a Spark cluster: the job the README's ``spark-submit`` runs.

Reads the partner's assignment events (Parquet, or CSV with a header, the columns of the events
CSV: docs/events.md), computes the USER, CUSTOMER and PARTNER reports of the month with
``wholesale_billing.spark`` (each subscriber billed by the Rust engine inside its partition, the
roll-ups summed by Spark in DecimalType(38, 4)) and writes each level as Parquet under ``--out``;
the PARTNER totals are printed.

    spark-submit --master yarn --py-files dist/wholesale_billing-*.whl \\
        --conf spark.sql.session.timeZone=UTC examples/python/spark_usage_job.py \\
        --events s3://bucket/events/ --org org.toml --month 2024-05 --all --out s3://bucket/usage-2024-05/

``--org`` is read on the driver; every executor needs ``wholesale_billing`` and ``pyarrow``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import wholesale_billing as wb
import wholesale_billing.spark as wbs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", required=True, help="events: a Parquet file or folder, or a CSV")
    parser.add_argument("--events-format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("--org", required=True, help="the organisation file (TOML or JSON), on the driver")
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--all", action="store_true", help="the whole subscription (the partner's and every sub-partner's customers)")
    parser.add_argument("--sub-partner", default=None, help="one sub-partner's customers")
    parser.add_argument("--partitions", type=int, default=None, help="partitions the subscribers are spread over")
    parser.add_argument("--out", required=True, help="a folder: <out>/user, <out>/customer, <out>/partner as Parquet")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName(f"wholesale-billing usage {args.month}").getOrCreate()
    org = wb.Organisation.from_file(args.org)
    if args.events_format == "parquet":
        events = spark.read.parquet(args.events)
    else:
        # Every column as text: the engine validates each value as the events CSV's field.
        events = spark.read.option("header", True).option("inferSchema", False).csv(args.events)
    reports = wbs.usage_reports(
        events, org, args.month, all=args.all, sub_partner=args.sub_partner, partitions=args.partitions
    )
    for level, frame in reports.items():
        frame.write.mode("overwrite").parquet(f"{args.out.rstrip('/')}/{level}")
    partner = wbs.to_report(reports["partner"], "partner", period=args.month)
    for row in partner:
        print(f"{row.partner_name}\t{row.sku}\t{row.quantity}")
    reports["user"].unpersist()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
