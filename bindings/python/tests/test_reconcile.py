"""Reconciliation: clean against itself, planted discrepancies found exactly, conversions."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

import wholesale_billing as wb

D = Decimal


def test_report_against_itself_is_clean(month_ledger: wb.Ledger, rates: wb.WholesaleRateCard) -> None:
    expected = month_ledger.usage_report("2024-05", all=True)
    invoice = wb.expected_vendor_invoice(expected, rates)
    result = wb.reconcile(expected, [expected], rates, vendor_invoice=invoice)
    assert result.is_clean
    assert len(result) == 0 and not result
    assert result.findings == []
    assert "clean, no findings" in str(result.summary())


def test_planted_discrepancies_are_found(month_ledger: wb.Ledger, rates: wb.WholesaleRateCard) -> None:
    expected = month_ledger.usage_report("2024-05")
    vendor, planted = wb.plant_discrepancies(expected, seed=3, count=8)
    assert len(planted) == 8
    result = wb.reconcile(expected, vendor, rates)
    found = [(f.finding_class, f.customer_org_id, f.subscriber_id, f.sku, f.expected_sku) for f in result]
    want = [(p.finding_class, p.customer_org_id, p.subscriber_id, p.sku, p.expected_sku) for p in planted]
    assert found == want
    for f in result.findings:
        assert f.difference == f.actual - f.expected
        assert f.unit == "user_days"
        assert f.money_impact.currency == "USD"
        assert f.detail
    summary = result.summary()
    assert summary.findings == 8
    assert sum(g.count for g in summary.by_class) == 8
    assert len(summary.by_class) == 6
    assert summary.money_impact.amount == sum((f.money_impact.amount for f in result), D(0))
    assert {g.key for g in summary.by_sku} == {f.sku for f in result}
    assert "finding(s)" in str(summary)
    assert result.of_class("quantity_mismatch") == [] or all(
        f.finding_class == "quantity_mismatch" for f in result.of_class("quantity_mismatch")
    )
    with pytest.raises(wb.BillingInputError, match="finding class"):
        result.of_class("nope")  # type: ignore[arg-type]

    csv = result.to_csv()
    assert csv is not None and csv.count("\n") == 9 and csv.startswith("class,customer_org_id,")
    assert len(json.loads(result.to_json())["findings"]) == 8
    dicts = result.to_dicts()
    assert [d["finding_class"] for d in dicts] == [f.finding_class for f in result]
    assert all(isinstance(d["difference"], Decimal) for d in dicts)


def test_invoice_findings(month_ledger: wb.Ledger, rates: wb.WholesaleRateCard) -> None:
    expected = month_ledger.usage_report("2024-05", all=True)
    invoice = wb.expected_vendor_invoice(expected, rates)
    csv = invoice.to_csv()
    assert csv is not None
    first = invoice.lines[0]
    wrong = csv.replace(f",{first.extended.amount},", f",{first.extended.amount + 1},", 1)
    vendor_invoice = wb.VendorInvoice.read_csv(wrong.encode())
    # The stated total (no longer the sum of the lines) is kept, with a warning at its row.
    assert vendor_invoice.stated_total == invoice.total
    diagnostics = vendor_invoice.diagnostics
    assert diagnostics is not None and diagnostics.error_count == 0
    [warning] = diagnostics.issues
    assert warning.severity == "warning" and warning.field == "extended_amount"
    assert warning.line == len(invoice.lines) + 2
    assert "is not the sum of the lines" in warning.message
    result = wb.reconcile(expected, expected, rates, vendor_invoice=vendor_invoice)
    classes = {f.finding_class for f in result}
    assert "invoice_arithmetic" in classes
    arithmetic = result.of_class("invoice_arithmetic")
    assert all(f.unit == "money" for f in arithmetic)
    # The wrong line, and the stated total against the sum of the lines.
    assert {f.sku for f in arithmetic} == {first.sku, "TOTAL"}
    [total] = [f for f in arithmetic if f.sku == "TOTAL"]
    assert total.difference == D(-1)


def test_tolerance_and_level_checks(month_ledger: wb.Ledger, rates: wb.WholesaleRateCard) -> None:
    expected = month_ledger.usage_report("2024-05")
    vendor, planted = wb.plant_discrepancies(expected, seed=1, count=4)
    strict = wb.reconcile(expected, vendor, rates)
    loose = wb.reconcile(expected, vendor, rates, tolerance=D(1000))
    assert len(loose) <= len(strict)
    with pytest.raises(wb.BillingInputError, match="negative"):
        wb.reconcile(expected, vendor, rates, tolerance="-1")
    with pytest.raises(wb.BillingInputError, match="reconciliation takes a USER report"):
        wb.reconcile(month_ledger.usage_report("2024-05", level="customer"), vendor, rates)
    with pytest.raises(wb.BillingInputError, match="covers 2024-06-01..2024-06-30"):
        wb.reconcile(expected, month_ledger.usage_report("2024-06"), rates)


def test_reports_read_from_csv_are_given_their_period(month_ledger: wb.Ledger, rates: wb.WholesaleRateCard) -> None:
    expected = month_ledger.usage_report("2024-05")
    assert expected.period == wb.Period.month(2024, 5)
    csv = expected.to_csv()
    assert csv is not None
    read = wb.UsageReport.read_csv(csv.encode())
    assert read.period is None
    with pytest.raises(wb.PricingError, match="vendor report 1 does not say its period"):
        wb.reconcile(expected, read, rates)
    # Given once, at reading or after; its rows' dates are checked against it.
    assert wb.reconcile(expected, wb.UsageReport.read_csv(csv.encode(), period="2024-05"), rates).is_clean
    may = read.with_period(wb.Period.month(2024, 5))
    assert may.period == wb.Period.month(2024, 5) and len(may) == len(read)
    assert wb.reconcile(expected, may, rates).is_clean
    with pytest.raises(wb.PricingError, match="outside 2024-06-01..2024-06-30"):
        read.with_period("2024-06")
    with pytest.raises(wb.PricingError, match="outside 2024-06-01..2024-06-30"):
        wb.UsageReport.read_csv(csv.encode(), period="2024-06")


def test_findings_as_frames(month_ledger: wb.Ledger, rates: wb.WholesaleRateCard) -> None:
    expected = month_ledger.usage_report("2024-05")
    vendor, _ = wb.plant_discrepancies(expected, seed=5, count=4)
    result = wb.reconcile(expected, vendor, rates)
    pd = pytest.importorskip("pandas")
    df = result.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == 4
    assert all(isinstance(v, Decimal) for v in df["money_impact"])
    pl = pytest.importorskip("polars")
    frame = result.to_polars()
    assert isinstance(frame, pl.DataFrame) and frame.height == 4
