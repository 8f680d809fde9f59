"""Usage reports: levels, scopes, hour policies, periods, reading, aggregation, conversions."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import event

import wholesale_billing as wb

UTC = timezone.utc
D = Decimal


def test_readme_numbers(ledger: wb.Ledger) -> None:
    partner = ledger.usage_report("2024-05-01", "2024-05-31")
    assert len(partner) == 1
    row = partner[0]
    assert row.quantity == D("1.6250")
    assert str(row.quantity) == "1.6250", "four decimals kept"
    assert (row.customer_org_id, row.subscriber_id, row.subscriber_type) == ("cust-1", "sub-1", "USER")
    assert row.consumption_start == datetime(2024, 5, 1, tzinfo=UTC)
    assert row.consumption_end == datetime(2024, 5, 2, 15, tzinfo=UTC)
    assert (row.sku, row.service_name) == ("A-W-WXC-CALL-U", "WEBEX_CALLING")

    reseller = ledger.usage_report(wb.Period.month(2024, 5), level="partner", sub_partner="reseller-1")
    [row] = list(reseller)
    assert row.quantity == D("21.5000")
    assert (row.partner_name, row.partner_org_id, row.subscription_id) == ("Reseller One", "reseller-1", "Sub1234567")
    assert row.customer_org_id == "" and row.subscriber_type is None
    assert row.consumption_end == datetime(2024, 5, 31, 23, 59, 59, 999000, tzinfo=UTC)
    assert reseller.to_csv() == (
        "PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,SERVICE_NAME,SKU,DESCRIPTION,CONSUMPTION_START_DATE,"
        "CONSUMPTION_END_DATE,QUANTITY\n"
        "Reseller One,reseller-1,Sub1234567,COMMON_AREA_CALLING,A-W-CA-CALL-U,Wholesale Common Area Calling Usage,"
        "2024-05-10T12:00:00.000Z,2024-05-31T23:59:59.999Z,21.5000\n"
    )


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("started", "1.6250"), ("completed", "1.5416"), ("exact", "1.5938"), ("Completed", "1.5416")],
)
def test_hour_policies(org: wb.Organisation, policy: str, expected: str) -> None:
    # Assigned from 00:30 on May 1st to 14:45 on May 2nd.
    ledger = wb.Ledger.from_records(
        org,
        [
            event("e1", "2024-05-01T00:30:00Z", "ASSIGN", "s", customer_org_id="c", package="webex_calling"),
            event("e2", "2024-05-02T14:45:00Z", "REMOVE", "s"),
        ],
    )
    assert ledger.usage_report("2024-05", hour_policy=policy)[0].quantity == D(expected)  # type: ignore[arg-type]


def test_period_forms_agree(ledger: wb.Ledger) -> None:
    forms = [
        ledger.usage_report("2024-05"),
        ledger.usage_report("2024-05-01..2024-05-31"),
        ledger.usage_report(date(2024, 5, 1), date(2024, 5, 31)),
        ledger.usage_report("2024-05-01", date(2024, 5, 31)),
        ledger.usage_report(wb.Period("2024-05-01", "2024-05-31")),
        ledger.usage_report(wb.Period.parse("2024-05")),
    ]
    assert len({r.to_csv() for r in forms}) == 1
    assert forms[0].period == wb.Period.month(2024, 5)


def test_period_object() -> None:
    may = wb.Period.month(2024, 5)
    assert (may.start, may.end, may.days) == (date(2024, 5, 1), date(2024, 5, 31), 31)
    assert may.start_instant == datetime(2024, 5, 1, tzinfo=UTC)
    assert may.end_exclusive == datetime(2024, 6, 1, tzinfo=UTC)
    assert date(2024, 5, 31) in may and date(2024, 6, 1) not in may
    assert str(may) == "2024-05-01..2024-05-31"
    assert {may, wb.Period.parse("2024-05")} == {may}
    assert wb.Period.month(2024, 2).days == 29
    with pytest.raises(wb.BillingInputError, match="after end"):
        wb.Period("2024-05-31", "2024-05-01")
    with pytest.raises(wb.BillingInputError, match="YYYY-MM-DD"):
        wb.Period("2024/05/01", "2024-05-31")
    with pytest.raises(TypeError, match="not a datetime"):
        wb.Period(datetime(2024, 5, 1, tzinfo=UTC), date(2024, 5, 2))


def test_bad_arguments(ledger: wb.Ledger) -> None:
    with pytest.raises(ValueError, match="not both"):
        ledger.usage_report("2024-05", sub_partner="reseller-1", all=True)
    with pytest.raises(wb.BillingInputError, match='unknown report level "daily"'):
        ledger.usage_report("2024-05", level="daily")  # type: ignore[arg-type]
    with pytest.raises(wb.BillingInputError, match="unknown hour policy"):
        ledger.usage_report("2024-05", hour_policy="hourly")  # type: ignore[arg-type]
    with pytest.raises(wb.BillingInputError, match="sub-partner"):
        ledger.usage_report("2024-05", sub_partner="nope")
    with pytest.raises(TypeError):
        ledger.usage_report(date(2024, 5, 1))


def test_levels_and_scopes(month_ledger: wb.Ledger) -> None:
    org = month_ledger.organisation
    scopes: list[dict[str, object]] = [{}, {"all": True}]
    scopes += [{"sub_partner": sp.org_id} for sp in org.sub_partners]
    for scope in scopes:
        user = month_ledger.usage_report("2024-05", level="user", **scope)  # type: ignore[arg-type]
        customer = month_ledger.usage_report("2024-05", level="customer", **scope)  # type: ignore[arg-type]
        partner = month_ledger.usage_report("2024-05", level="partner", **scope)  # type: ignore[arg-type]
        assert (user.level, customer.level, partner.level) == ("USER", "CUSTOMER", "PARTNER")
        assert user.quantity_by_sku() == customer.quantity_by_sku() == partner.quantity_by_sku()
        assert user.total_quantity() == sum(user.quantity_by_sku().values(), D(0))
        assert user.aggregate("customer").to_csv() == customer.to_csv()
        if not scope.get("all"):
            assert customer.aggregate("partner").to_csv() == partner.to_csv()
    with pytest.raises(wb.BillingInputError, match="coarser"):
        month_ledger.usage_report("2024-05", level="customer").aggregate("user")


def test_subscription_is_partner_plus_sub_partners(month_ledger: wb.Ledger) -> None:
    org = month_ledger.organisation
    parts = [month_ledger.usage_report("2024-05")] + [
        month_ledger.usage_report("2024-05", sub_partner=sp.org_id) for sp in org.sub_partners
    ]
    whole = month_ledger.usage_report("2024-05", all=True)
    joined = wb.UsageReport.concat(parts)
    assert len(joined) == len(whole) == sum(len(p) for p in parts)
    assert joined.sorted().to_csv() == whole.sorted().to_csv()
    assert joined.period == whole.period


def test_rows_iteration_indexing_and_dicts(month_ledger: wb.Ledger) -> None:
    report = month_ledger.usage_report("2024-05")
    rows = list(report)
    assert len(rows) == len(report) > 10
    assert rows[0] == report[0] and rows[-1] == report[-1]
    with pytest.raises(IndexError):
        report[len(report)]
    dicts = report.to_dicts()
    # Keyed by the Webex CSV columns, in their order, with typed values.
    assert list(dicts[0]) == report.columns
    assert report.columns == [
        "PARTNER_NAME",
        "PARTNER_ORG_ID",
        "SUBSCRIPTION_ID",
        "CUSTOMER_ORG_ID",
        "CUSTOMER_EXTERNAL_ID",
        "TYPE",
        "SUBSCRIBER_ID",
        "USER_ID",
        "WORKSPACE_ID",
        "SERVICE_NAME",
        "SKU",
        "DESCRIPTION",
        "CONSUMPTION_START_DATE",
        "CONSUMPTION_END_DATE",
        "QUANTITY",
        "LOCATION_ID",
        "LICENSE_ID",
    ]
    assert dicts[3] == rows[3].to_dict()
    assert dicts[3]["QUANTITY"] == rows[3].quantity
    assert dicts[3]["TYPE"] == rows[3].subscriber_type
    assert dicts[3]["CONSUMPTION_END_DATE"] == rows[3].consumption_end
    assert all(isinstance(d["QUANTITY"], Decimal) for d in dicts)
    partner = month_ledger.usage_report("2024-05", level="partner")
    assert list(partner.to_dicts()[0]) == partner.columns == [
        "PARTNER_NAME",
        "PARTNER_ORG_ID",
        "SUBSCRIPTION_ID",
        "SERVICE_NAME",
        "SKU",
        "DESCRIPTION",
        "CONSUMPTION_START_DATE",
        "CONSUMPTION_END_DATE",
        "QUANTITY",
    ]


def test_csv_round_trip(tmp_path: Path, month_ledger: wb.Ledger) -> None:
    for level in ["user", "customer", "partner"]:
        report = month_ledger.usage_report("2024-05", level=level, all=True)  # type: ignore[arg-type]
        text = report.to_csv()
        assert text is not None
        path = tmp_path / f"{level}.csv"
        assert report.to_csv(path) is None
        assert path.read_text() == text
        read = wb.UsageReport.read_csv(path)
        assert read.level == report.level
        assert read.period is None
        assert read.to_csv() == text
        assert read.diagnostics is not None and read.diagnostics.rows_read == len(report)
        assert wb.UsageReport.read_csv(text.encode(), level=level).to_csv() == text  # type: ignore[arg-type]


def test_read_csv_is_tolerant_and_locates_bad_rows() -> None:
    csv = (
        "\ufeffPartner Name,Customer Org ID,Type,Subscriber ID,SKU,Consumption Start,Consumption End,Quantity,Extra\n"
        "Acme,c1,User,s1,A-W-WXC-CALL-U,2024-05-01T00:00:00.000Z,2024-05-31T23:59:59.999Z,31,x\n"
        "Acme,c1,User,s2,A-W-WXC-CALL-U,2024-05-01,2024-05-02,one,x\n"
    ).encode()
    with pytest.raises(wb.BillingInputError) as info:
        wb.UsageReport.read_csv(csv)
    assert str(info.value.issues[0]) == (
        'line 3, column 8 (QUANTITY): error: invalid quantity "one": not a plain decimal number'
    )
    assert "line 3, column 8" in str(info.value)
    lenient = wb.UsageReport.read_csv(csv, lenient=True)
    assert (lenient.level, len(lenient)) == ("USER", 1)
    assert lenient.diagnostics is not None and lenient.diagnostics.error_count == 1


def test_quantity_by_sku_sorted() -> None:
    report = wb.UsageReport.read_csv(b"SKU,QUANTITY\nB,2\nA,1.5\nA,0.25\n")
    assert report.quantity_by_sku() == {"A": D("1.7500"), "B": D("2.0000")}
    assert list(report.quantity_by_sku()) == ["A", "B"]
    assert report.total_quantity() == D("3.75")


def test_concat_refuses_mixed_levels(month_ledger: wb.Ledger) -> None:
    with pytest.raises(wb.BillingInputError, match="one level"):
        wb.UsageReport.concat(
            [month_ledger.usage_report("2024-05"), month_ledger.usage_report("2024-05", level="partner")]
        )


def test_to_pandas(month_ledger: wb.Ledger) -> None:
    pd = pytest.importorskip("pandas")
    report = month_ledger.usage_report("2024-05", all=True)
    df = report.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == report.columns
    assert len(df) == len(report)
    assert all(isinstance(q, Decimal) for q in df["QUANTITY"])
    assert df["QUANTITY"].sum() == report.total_quantity()
    assert str(df["CONSUMPTION_START_DATE"].dt.tz) == "UTC"
    assert df["CONSUMPTION_START_DATE"].iloc[0].to_pydatetime() == report[0].consumption_start
    # The frame lines up with the report's CSV read by pandas.
    import io

    text = report.to_csv()
    assert text is not None
    read = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(read.columns) == list(df.columns)
    assert list(read["QUANTITY"]) == [str(q) for q in df["QUANTITY"]]


def test_to_polars(month_ledger: wb.Ledger) -> None:
    pl = pytest.importorskip("polars")
    report = month_ledger.usage_report("2024-05", level="customer", all=True)
    df = report.to_polars()
    assert isinstance(df, pl.DataFrame)
    assert df.height == len(report)
    assert df.columns == report.columns
    assert isinstance(df.schema["QUANTITY"], pl.Decimal)
    assert df["QUANTITY"].sum() == report.total_quantity()
    assert df.schema["CONSUMPTION_END_DATE"] == pl.Datetime("us", "UTC")
    assert df["CONSUMPTION_END_DATE"][0] == report[0].consumption_end


def test_optional_dependency_message(monkeypatch: pytest.MonkeyPatch, ledger: wb.Ledger) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"to_pandas\(\) needs pandas.*pip install pandas"):
        ledger.usage_report("2024-05").to_pandas()
