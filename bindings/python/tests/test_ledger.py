"""Loading events: CSV (path, bytes, file), records and data frames; strict and lenient; issues."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import EVENTS_CSV, event

import wholesale_billing as wb

UTC = timezone.utc


def test_csv_from_bytes_path_and_file(tmp_path: Path, org: wb.Organisation) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(EVENTS_CSV)
    loaded = [
        wb.Ledger.from_csv(EVENTS_CSV, org),
        wb.Ledger.from_csv(path, org),
        wb.Ledger.from_csv(str(path), org),
        wb.Ledger.from_csv(io.BytesIO(EVENTS_CSV), org),
        wb.Ledger.from_csv(bytearray(EVENTS_CSV), org),
        wb.Ledger.from_csv(memoryview(EVENTS_CSV), org),
    ]
    csvs = {ledger.usage_report("2024-05", all=True).to_csv() for ledger in loaded}
    assert len(csvs) == 1
    ledger = loaded[0]
    assert (ledger.customer_count, ledger.subscriber_count, ledger.row_key_count) == (2, 2, 2)
    assert ledger.diagnostics.rows_read == 3
    assert ledger.diagnostics.rows_accepted == 3
    assert ledger.diagnostics.issues == []
    assert ledger.organisation == org


def test_strict_error_carries_every_issue_located(org: wb.Organisation) -> None:
    bad = EVENTS_CSV.replace(b"2024-05-02T17:00:00+02:00", b"2024-05-02T17:00:00").replace(
        b"webex_calling", b"webex_nothing"
    )
    with pytest.raises(wb.BillingInputError) as info:
        wb.Ledger.from_csv(bad, org)
    error = info.value
    assert isinstance(error, ValueError)
    assert "line 2, column 8 (package)" in str(error)
    assert (error.line, error.column) == (2, 8)
    kinds = [(i.line, i.column, i.field, i.kind, i.severity) for i in error.issues]
    assert kinds == [
        (2, 8, "package", "unknown_package", "error"),
        (3, 2, "occurred_at", "missing_offset", "error"),
    ]
    assert error.issues[1].event_id == "e2"
    assert "no utc offset" in error.issues[1].message
    assert str(error.issues[1]).startswith("line 3, column 2 (occurred_at): error:")


def test_lenient_reports_and_skips(org: wb.Organisation) -> None:
    bad = EVENTS_CSV + b"e4,2024-05-03T00:00:00Z,REMOVE,sub-9,,,,\n"
    with pytest.raises(wb.BillingInputError, match="remove"):
        wb.Ledger.from_csv(bad, org)
    ledger = wb.Ledger.from_csv(bad, org, lenient=True)
    diagnostics = ledger.diagnostics
    assert diagnostics.warning_count == 1
    assert diagnostics.error_count == 0
    [issue] = diagnostics.issues
    assert (issue.line, issue.kind, issue.severity, issue.is_error) == (
        5,
        "remove_without_assignment",
        "warning",
        False,
    )


def test_missing_required_column(org: wb.Organisation) -> None:
    csv = b"event_id,occurred_at,action,subscriber_id\ne1,2024-05-01T00:00:00Z,ASSIGN,s1\n"
    with pytest.raises(wb.BillingInputError, match="customer_org_id"):
        wb.Ledger.from_csv(csv, org)


def test_records_with_datetimes_and_text(org: wb.Organisation, ledger: wb.Ledger) -> None:
    plus_two = timezone(timedelta(hours=2))
    records = [
        event("e1", datetime(2024, 5, 1, tzinfo=UTC), "ASSIGN", "sub-1", customer_org_id="cust-1", package="webex_calling"),
        event("e2", datetime(2024, 5, 2, 17, tzinfo=plus_two), "REMOVE", "sub-1"),
        {
            "Event_ID": "e3",
            "OCCURRED_AT": "2024-05-01T00:00:00Z",
            "action": "assign",
            "subscriber_id": "sub-2",
            "customer_org_id": "cust-2",
            "sub_partner_org_id": "reseller-1",
            "subscriber_type": "WORKSPACE",
            "package": "common_area_calling",
            "note": "unknown keys are ignored",
        },
    ]
    from_records = wb.Ledger.from_records(org, records)
    for level in ["user", "customer", "partner"]:
        assert (
            from_records.usage_report("2024-05", level=level, all=True).to_csv()  # type: ignore[arg-type]
            == ledger.usage_report("2024-05", level=level, all=True).to_csv()  # type: ignore[arg-type]
        )
    # Any iterable of mappings, including a generator.
    again = wb.Ledger.from_records(org, (dict(r) for r in records))
    assert again.row_key_count == from_records.row_key_count


def test_records_issues_are_located_by_record(org: wb.Organisation) -> None:
    records = [
        event("e1", "2024-05-01T00:00:00Z", "ASSIGN", "s1", customer_org_id="c1", package="webex_calling"),
        event("e2", datetime(2024, 5, 2, 10), "REMOVE", "s1"),
        event("e3", "2024-05-01T00:00:00Z", "ASSIGN", "s2", customer_org_id="c2", package="nope"),
    ]
    with pytest.raises(wb.BillingInputError) as info:
        wb.Ledger.from_records(org, records)
    located = [(i.line, i.column, i.field, i.kind) for i in info.value.issues]
    assert located == [(2, None, "occurred_at", "missing_offset"), (3, None, "package", "unknown_package")]
    assert "event records: 2 row error(s); first: line 2 (occurred_at)" in str(info.value)

    lenient = wb.Ledger.from_records(org, records, lenient=True)
    assert lenient.diagnostics.error_count == 2
    assert lenient.row_key_count == 1


def test_records_duplicates_name_records_and_empty_input_names_the_columns(org: wb.Organisation) -> None:
    first = event("e1", "2024-05-01T00:00:00Z", "ASSIGN", "s1", customer_org_id="c1", package="webex_calling")
    ledger = wb.Ledger.from_records(org, [first, dict(first), {**first, "package": "webex_voice"}], lenient=True)
    located = [(i.line, i.field, i.kind, i.message) for i in ledger.diagnostics.issues]
    # Lines in messages are record numbers too.
    assert located == [
        (2, "event_id", "duplicate_event", "exact duplicate of line 1; skipped"),
        (3, "event_id", "conflicting_event_id", "event_id already used on line 1 with other content"),
    ]
    with pytest.raises(wb.BillingInputError) as info:
        wb.Ledger.from_records(org, [])
    [issue] = info.value.issues
    assert (issue.line, issue.kind) == (0, "malformed_csv")
    assert "lacks required column(s): event_id, occurred_at" in issue.message


def test_records_refuse_floats_and_bad_items(org: wb.Organisation) -> None:
    with pytest.raises(TypeError, match="float"):
        wb.Ledger.from_records(
            org, [event("e1", "2024-05-01T00:00:00Z", "ASSIGN", "s1", customer_org_id=1.5, package="webex_calling")]
        )
    with pytest.raises(TypeError, match="record 1"):
        wb.Ledger.from_records(org, [["not", "a", "mapping"]])  # type: ignore[list-item]
    # Integers and None are fine.
    ledger = wb.Ledger.from_records(
        org,
        [event("e1", "2024-05-01T00:00:00Z", "ASSIGN", 7, customer_org_id=42, package="webex_calling", location_id=None)],
    )
    assert ledger.usage_report("2024-05")[0].subscriber_id == "7"


def frame_events() -> dict[str, list[object]]:
    return {
        "event_id": ["e1", "e2", "e3"],
        "occurred_at": [
            datetime(2024, 5, 1, tzinfo=UTC),
            datetime(2024, 5, 2, 15, tzinfo=UTC),
            datetime(2024, 5, 1, tzinfo=UTC),
        ],
        "action": ["ASSIGN", "REMOVE", "ASSIGN"],
        "subscriber_id": ["sub-1", "sub-1", "sub-2"],
        "customer_org_id": ["cust-1", None, "cust-2"],
        "sub_partner_org_id": [None, None, "reseller-1"],
        "subscriber_type": ["USER", None, "WORKSPACE"],
        "package": ["webex_calling", None, "common_area_calling"],
    }


def test_pandas_dataframe(org: wb.Organisation, ledger: wb.Ledger) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(frame_events())
    from_frame = wb.Ledger.from_dataframe(org, df)
    assert from_frame.usage_report("2024-05", all=True).to_csv() == ledger.usage_report("2024-05", all=True).to_csv()

    naive = df.copy()
    naive["occurred_at"] = naive["occurred_at"].dt.tz_localize(None)
    with pytest.raises(wb.BillingInputError) as info:
        wb.Ledger.from_dataframe(org, naive)
    first = info.value.issues[0]
    assert (first.line, first.column, first.field, first.kind) == (1, 2, "occurred_at", "missing_offset")


def test_polars_dataframe(org: wb.Organisation, ledger: wb.Ledger) -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame(frame_events())
    from_frame = wb.Ledger.from_dataframe(org, df)
    assert from_frame.usage_report("2024-05", all=True).to_csv() == ledger.usage_report("2024-05", all=True).to_csv()

    bad = df.with_columns(pl.Series("package", ["webex_calling", None, "nope"]))
    with pytest.raises(wb.BillingInputError) as info:
        wb.Ledger.from_dataframe(org, bad)
    [issue] = info.value.issues
    assert (issue.line, issue.column, issue.field, issue.kind) == (3, 8, "package", "unknown_package")


def test_dataframe_cells_with_separators_and_duplicate_columns(org: wb.Organisation, ledger: wb.Ledger) -> None:
    pd = pytest.importorskip("pandas")
    events = frame_events()
    events["customer_external_id"] = ['Acme, "Inc."\nHead office', None, " padded "]
    df = pd.DataFrame(events)
    from_frame = wb.Ledger.from_dataframe(org, df)
    assert [c.external_id for c in from_frame.customers()] == ['Acme, "Inc."\nHead office', "padded"]
    quantities = [row.quantity for row in from_frame.usage_report("2024-05", all=True)]
    assert quantities == [row.quantity for row in ledger.usage_report("2024-05", all=True)]

    twice = df.assign(**{"Event ID": df["event_id"]})
    with pytest.raises(wb.BillingInputError) as info:
        wb.Ledger.from_dataframe(org, twice)
    [issue] = info.value.issues
    assert issue.line == 0
    assert "column event_id appears twice (columns 1 and 10)" in issue.message


def test_dataframe_type_is_checked(org: wb.Organisation) -> None:
    with pytest.raises(TypeError, match="pandas or a polars DataFrame"):
        wb.Ledger.from_dataframe(org, {"event_id": ["e1"]})


def test_customers_intervals_and_explain(ledger: wb.Ledger) -> None:
    customers = ledger.customers()
    assert [(c.org_id, c.sub_partner_org_id, c.packages) for c in customers] == [
        ("cust-1", None, ["webex_calling"]),
        ("cust-2", "reseller-1", ["common_area_calling"]),
    ]
    intervals = ledger.intervals()
    assert len(intervals) == 2
    key, start, end = intervals[0]
    assert (key.customer_org_id, key.subscriber_id, key.package) == ("cust-1", "sub-1", "webex_calling")
    assert start == datetime(2024, 5, 1, tzinfo=UTC)
    assert end == datetime(2024, 5, 2, 15, tzinfo=UTC)
    assert intervals[1][2] is None, "an assignment still open has no end"

    [(key, days)] = ledger.explain_subscriber("sub-1", "2024-05-01", "2024-05-03")
    assert key.subscriber_id == "sub-1"
    assert days == [Decimal("1.0000"), Decimal("0.6250"), Decimal("0.0000")]
    assert all(isinstance(d, Decimal) for d in days)
