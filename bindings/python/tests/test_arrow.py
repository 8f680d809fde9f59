"""Arrow in and out: every table exports ``__arrow_c_stream__`` (pyarrow, polars read it without a
copy), ``to_pandas()`` and ``to_polars()`` are made from it with exact decimal columns and nulls for
absent ids, and ``Ledger.from_arrow`` loads events from any Arrow table as from its CSV."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest

import wholesale_billing as wb

pa = pytest.importorskip("pyarrow")
pacsv = pytest.importorskip("pyarrow.csv")


def test_report_exports_arrow_with_exact_types(month_ledger: wb.Ledger) -> None:
    report = month_ledger.usage_report("2024-05", all=True)
    table = pa.table(report)
    assert table.num_rows == len(report)
    assert table.column_names == report.columns
    assert table.schema.field("QUANTITY").type == pa.decimal128(38, 4)
    assert table.schema.field("CONSUMPTION_START_DATE").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("SUBSCRIBER_ID").type == pa.string()
    # Every value equals the report's own, an empty CSV field a null.
    dicts = report.to_dicts()
    rows = table.to_pylist()
    for want, got in zip(dicts, rows):
        for name, value in want.items():
            if value == "":
                assert got[name] is None, name
            else:
                assert got[name] == value, name
    assert sum(table.column("QUANTITY").to_pylist(), Decimal(0)) == report.total_quantity()


def test_to_pandas_is_arrow_backed_and_exact(month_ledger: wb.Ledger) -> None:
    pd = pytest.importorskip("pandas")
    report = month_ledger.usage_report("2024-05", all=True)
    df = report.to_pandas()
    assert list(df.columns) == report.columns and len(df) == len(report)
    assert df["QUANTITY"].dtype == pd.ArrowDtype(pa.decimal128(38, 4))
    assert all(isinstance(q, Decimal) for q in df["QUANTITY"])
    assert df["QUANTITY"].sum() == report.total_quantity()
    # An absent id is missing, not an empty string.
    text = report.to_csv()
    assert text is not None
    read = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    absent = read["WORKSPACE_ID"] == ""
    assert absent.any()
    assert df["WORKSPACE_ID"][absent.to_numpy()].isna().all()
    assert not df["WORKSPACE_ID"][~absent.to_numpy()].isna().any()


def test_polars_reads_the_report_directly(month_ledger: wb.Ledger) -> None:
    pl = pytest.importorskip("polars")
    report = month_ledger.usage_report("2024-05", level="customer", all=True)
    frame = pl.DataFrame(report)
    assert frame.columns == report.columns and frame.height == len(report)
    assert frame.schema["QUANTITY"] == pl.Decimal(38, 4)
    assert frame["QUANTITY"].sum() == report.total_quantity()
    assert frame.equals(report.to_polars())


def test_every_table_exports_arrow(month_ledger: wb.Ledger, rates: wb.WholesaleRateCard) -> None:
    expected = month_ledger.usage_report("2024-05")
    vendor, _ = wb.plant_discrepancies(expected, seed=5, count=4)
    findings = pa.table(wb.reconcile(expected, vendor, rates))
    assert findings.num_rows == 4
    assert pa.types.is_decimal(findings.schema.field("money_impact").type)
    invoice = wb.expected_vendor_invoice(expected, rates, tax_percent="10")
    lines = pa.table(invoice)
    assert lines.num_rows == len(invoice.lines)
    assert lines.schema.field("days_in_period").type == pa.int64()
    assert lines.schema.field("period_start").type == pa.date32()
    assert [d["extended_amount"] for d in invoice.to_dicts()] == lines.column("extended_amount").to_pylist()


def _events_table(events: bytes) -> Any:
    """The events CSV as pyarrow reads it: ``occurred_at`` a UTC timestamp, the rest text."""
    names = events.split(b"\n", 1)[0].decode().split(",")
    types = {n: (pa.timestamp("us", tz="UTC") if n == "occurred_at" else pa.string()) for n in names}
    return pacsv.read_csv(io.BytesIO(events), convert_options=pacsv.ConvertOptions(column_types=types))


def test_ledger_from_arrow_equals_from_csv(month: tuple[wb.Organisation, bytes]) -> None:
    org, events = month
    want = wb.Ledger.from_csv(events, org).usage_report("2024-05", all=True).to_csv()
    table = _events_table(events)
    assert wb.Ledger.from_arrow(org, table).usage_report("2024-05", all=True).to_csv() == want
    # In several batches, and from polars.
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=100))
    assert wb.Ledger.from_arrow(org, reader).usage_report("2024-05", all=True).to_csv() == want
    pl = pytest.importorskip("polars")
    frame = pl.from_arrow(table)
    assert wb.Ledger.from_arrow(org, frame).usage_report("2024-05", all=True).to_csv() == want


def test_ledger_from_arrow_locates_bad_rows(month: tuple[wb.Organisation, bytes]) -> None:
    org, events = month
    table = _events_table(events).slice(0, 50)
    actions = table.column("action").to_pylist()
    actions[9] = "ADD"
    at = table.column_names.index("action")
    broken = table.set_column(at, "action", pa.array(actions))
    with pytest.raises(wb.BillingInputError) as caught:
        wb.Ledger.from_arrow(org, broken)
    issue = caught.value.issues[0]
    assert (issue.line, issue.column, issue.field) == (10, at + 1, "action")
    lenient = wb.Ledger.from_arrow(org, broken, lenient=True)
    assert lenient.diagnostics.rows_read == 50 and lenient.diagnostics.error_count == 1
    floats = table.set_column(at, "action", pa.array([1.5] * 50))
    with pytest.raises(wb.BillingInputError, match="arrow type Float64"):
        wb.Ledger.from_arrow(org, floats)
    with pytest.raises(TypeError, match="events: expected an Arrow table or stream.*not list"):
        wb.Ledger.from_arrow(org, [1, 2, 3])  # type: ignore[arg-type]


def test_rate_takes_an_arrow_table(tmp_path: Any) -> None:
    org, events = wb.generate(seed=3, customers=8, subscribers=120, month="2024-05")
    ledger = wb.Ledger.from_csv(events, org)
    files = wb.generate_calls(ledger, seed=3, month="2024-05", calls_per_subscriber=30)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    tariff = wb.Tariff.load(tmp_path / "tariff.toml")
    want = wb.rate(files["cdrs.csv"], tariff, "2024-05", ledger=ledger)
    names = files["cdrs.csv"].split(b"\n", 1)[0].decode().split(",")
    options = pacsv.ConvertOptions(column_types={n: pa.string() for n in names})
    table = pacsv.read_csv(io.BytesIO(files["cdrs.csv"]), convert_options=options)
    got = wb.rate(table, tariff, "2024-05", ledger=ledger)
    assert got.summary_dicts() == want.summary_dicts() and len(got.summary_dicts()) > 5
    assert got.counts == want.counts
