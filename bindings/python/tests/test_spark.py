"""``wholesale_billing.spark`` on a local Spark session: the USER, CUSTOMER and PARTNER reports of a
generated month, computed partition by partition and summed by Spark, equal the library's own
reports (what ``wbill usage`` writes) byte for byte; what one partition cannot see is refused."""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any, Literal

import pytest

import wholesale_billing as wb

pytest.importorskip("pyspark")
pa = pytest.importorskip("pyarrow")
pacsv = pytest.importorskip("pyarrow.csv")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (17 or later)", allow_module_level=True)

import wholesale_billing.spark as wbs  # noqa: E402

LEVELS: tuple[Literal["user", "customer", "partner"], ...] = ("user", "customer", "partner")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    # The Python workers run this interpreter, where wholesale_billing and pyarrow are installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("wholesale-billing-tests")
        .config("spark.sql.shuffle.partitions", "5")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_month() -> tuple[wb.Organisation, bytes]:
    return wb.generate(seed=21, customers=30, subscribers=900, sub_partners=2, month="2024-05")


def _text_table(events: bytes) -> Any:
    names = events.split(b"\n", 1)[0].decode().split(",")
    options = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True)
    return pacsv.read_csv(io.BytesIO(events), convert_options=options)


@pytest.mark.parametrize("all_subscription", [True, False])
def test_spark_reports_equal_the_engine_byte_for_byte(
    spark: Any, spark_month: tuple[wb.Organisation, bytes], all_subscription: bool
) -> None:
    org, events = spark_month
    ledger = wb.Ledger.from_csv(events, org)
    frame = spark.createDataFrame(_text_table(events))
    reports = wbs.usage_reports(frame, org, "2024-05", all=all_subscription, partitions=4)
    assert set(reports) == set(LEVELS)
    for level in LEVELS:
        want = ledger.usage_report("2024-05", level=level, all=all_subscription).to_csv()
        got = wbs.to_report(reports[level], level).to_csv()
        assert want is not None and got is not None
        assert got.count("\n") > 1, level
        assert got == want, level
    quantity: Any = reports["customer"].schema["QUANTITY"].dataType
    assert (quantity.precision, quantity.scale) == (38, 4)


def test_timestamps_and_several_partitions_give_the_same_reports(
    spark: Any, spark_month: tuple[wb.Organisation, bytes]
) -> None:
    org, events = spark_month
    from pyspark.sql import functions as F

    frame = spark.createDataFrame(_text_table(events)).withColumn("occurred_at", F.col("occurred_at").cast("timestamp"))
    ledger = wb.Ledger.from_csv(events, org)
    for partitions in (1, 7):
        reports = wbs.usage_reports(frame, org, "2024-05", levels=["customer"], all=True, partitions=partitions)
        assert list(reports) == ["customer"]
        got = wbs.to_report(reports["customer"], "customer").to_csv()
        assert got == ledger.usage_report("2024-05", level="customer", all=True).to_csv(), partitions


def test_what_no_partition_sees_is_refused(spark: Any, spark_month: tuple[wb.Organisation, bytes]) -> None:
    org, events = spark_month
    table = _text_table(events)
    rows = table.to_pylist()
    first = next(r for r in rows if r["action"] == "ASSIGN" and not r["sub_partner_org_id"])
    other_owner = org.sub_partners[0].org_id
    rows.append({**first, "event_id": "moved", "subscriber_id": "someone-else", "sub_partner_org_id": other_owner})
    frame = spark.createDataFrame(pa.Table.from_pylist(rows, schema=table.schema))
    with pytest.raises(wb.BillingInputError, match="named under 2 owners"):
        wbs.usage_reports(frame, org, "2024-05", all=True)
    rows[-1] = {**first, "subscriber_id": "someone-else"}
    frame = spark.createDataFrame(pa.Table.from_pylist(rows, schema=table.schema))
    with pytest.raises(wb.BillingInputError, match="given to 2 subscribers"):
        wbs.usage_reports(frame, org, "2024-05", all=True)


def test_report_columns_are_the_engines() -> None:
    assert wbs.report_columns("user")[-3:] == ["QUANTITY", "LOCATION_ID", "LICENSE_ID"]
    assert "SUBSCRIBER_ID" not in wbs.report_columns("customer")


@pytest.fixture(scope="module")
def calls_month(tmp_path_factory: pytest.TempPathFactory) -> tuple[wb.Organisation, bytes, Any]:
    """A generated month with calls, its tariff loaded from files (a prefix table beside it)."""
    org, events = wb.generate(seed=13, customers=12, subscribers=240, sub_partners=2, month="2024-05")
    files = wb.generate_calls(wb.Ledger.from_csv(events, org), seed=13, month="2024-05", calls_per_subscriber=40)
    folder = tmp_path_factory.mktemp("calls")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return org, events, folder


def test_spark_rating_equals_the_engine(spark: Any, calls_month: tuple[wb.Organisation, bytes, Any]) -> None:
    org, events, folder = calls_month
    tariff = wb.Tariff.load(folder / "tariff.toml")
    cdrs_csv = (folder / "cdrs.csv").read_bytes()
    want = wb.rate(cdrs_csv, tariff, "2024-05", ledger=wb.Ledger.from_csv(events, org))

    cdr_names = cdrs_csv.split(b"\n", 1)[0].decode().split(",")
    cdr_types = {n: pa.string() for n in cdr_names}
    cdr_table = pacsv.read_csv(io.BytesIO(cdrs_csv), convert_options=pacsv.ConvertOptions(column_types=cdr_types))
    rated, summary = wbs.rate_calls(
        spark.createDataFrame(cdr_table), spark.createDataFrame(_text_table(events)), org, tariff, "2024-05", partitions=3
    )
    got_summary = sorted(
        (r.asDict() for r in summary.collect()), key=lambda r: (r["CUSTOMER_ORG_ID"], r["DESTINATION"])
    )
    want_summary = sorted(want.summary_dicts(), key=lambda r: (r["CUSTOMER_ORG_ID"], r["DESTINATION"]))
    assert len(got_summary) > 10
    assert got_summary == want_summary
    minor = wb.Money("0", tariff.currency).minor_unit
    assert all(-r["AMOUNT"].as_tuple().exponent == minor for r in got_summary)
    want_rated = want.rated
    assert want_rated is not None
    got_rated = sorted((tuple(r) for r in rated.collect()), key=lambda r: str(r[0]))
    expected = sorted(
        (tuple(row) for row in want_rated.itertuples(index=False)),
        key=lambda r: str(r[0]),
    )
    assert len(got_rated) == len(expected) > 1000
    assert got_rated == expected
    rated.unpersist()


def test_the_readme_job_writes_every_level(
    spark: Any, spark_month: tuple[wb.Organisation, bytes], tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """examples/python/spark_usage_job.py, the job the README submits, run on the local session."""
    import importlib.util
    from pathlib import Path

    org, events = spark_month
    (tmp_path / "org.toml").write_text(org.to_toml())
    (tmp_path / "events.csv").write_bytes(events)
    job_path = Path(__file__).resolve().parents[3] / "examples" / "python" / "spark_usage_job.py"
    spec = importlib.util.spec_from_file_location("spark_usage_job", job_path)
    assert spec is not None and spec.loader is not None
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    out = tmp_path / "usage"
    status = job.main(
        [
            "--events", str(tmp_path / "events.csv"), "--events-format", "csv", "--org", str(tmp_path / "org.toml"),
            "--month", "2024-05", "--all", "--partitions", "3", "--out", str(out),
        ]
    )
    assert status == 0
    ledger = wb.Ledger.from_csv(events, org)
    pq = pytest.importorskip("pyarrow.parquet")
    for level in LEVELS:
        written = wb.UsageReport.from_arrow(pq.read_table(out / level), level=level).sorted()
        assert written.to_csv() == ledger.usage_report("2024-05", level=level, all=True).to_csv(), level
    printed = capsys.readouterr().out
    assert "A-W-WXC-CALL-U" in printed, printed
