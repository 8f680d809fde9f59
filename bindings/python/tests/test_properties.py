"""Hypothesis properties mirroring the invariants of SPEC.md, through the Python API.

- levels add up exactly per SKU (Σ USER = Σ CUSTOMER = Σ PARTNER);
- splitting a period into two and adding gives the same quantity per row key;
- the order of events with distinct timestamps does not matter;
- documents add up to the cent (vendor invoice and customer invoices);
- a report reconciled against itself finds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wholesale_billing as wb

UTC = timezone.utc
D = Decimal
START = datetime(2024, 4, 28, tzinfo=UTC)
PACKAGES = ["webex_calling", "webex_voice", "webex_meetings", "common_area_calling"]
# Customer → owner (None: the partner); fixed so that no customer has two owners.
CUSTOMERS = {"c1": None, "c2": "reseller-1", "c3": None, "c4": "reseller-1"}
POLICIES = ["started", "completed", "exact"]

ORG = wb.Organisation(
    wb.Partner("partner-1", "Acme", "Sub1"),
    sub_partners=[wb.SubPartner("reseller-1", "Reseller One", billing_start="2024-05-10T12:30:00Z")],
)
RATES = wb.WholesaleRateCard(
    "USD",
    {"A-W-WXC-CALL-U": "8.00", "A-W-WXE-CALL-U": "6.00", "A-W-WXM-MEET-U": "9.00", "A-W-CA-CALL-U": "5.00"},
)


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Events of a few subscribers: alternating ASSIGN and REMOVE at distinct minutes."""
    records: list[dict[str, Any]] = []
    n = 0
    for s in range(draw(st.integers(1, 6))):
        customer = draw(st.sampled_from(sorted(CUSTOMERS)))
        minutes = sorted(draw(st.sets(st.integers(0, 40 * 24 * 60), min_size=1, max_size=6)))
        for i, minute in enumerate(minutes):
            n += 1
            at = START + timedelta(minutes=minute, seconds=draw(st.integers(0, 59)))
            record: dict[str, Any] = {
                "event_id": f"e{n}",
                "occurred_at": at,
                "subscriber_id": f"s{s}",
            }
            if i % 2 == 0 or draw(st.booleans()):
                record.update(
                    action="ASSIGN",
                    customer_org_id=customer,
                    sub_partner_org_id=CUSTOMERS[customer] or "",
                    subscriber_type="USER",
                    package=draw(st.sampled_from(PACKAGES)),
                    location_id=draw(st.sampled_from(["", "l1", "l2"])),
                )
            else:
                record["action"] = "REMOVE"
            records.append(record)
    return records


def load(records: list[dict[str, Any]]) -> wb.Ledger:
    # Lenient: a redundant ASSIGN is a warning either way; every REMOVE follows an ASSIGN here.
    return wb.Ledger.from_records(ORG, records, lenient=True)


def by_key(report: wb.UsageReport) -> dict[tuple[str, ...], Decimal]:
    out: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    for row in report:
        out[(row.customer_org_id, row.subscriber_id, row.sku, row.location_id, row.license_id)] += row.quantity
    return dict(out)


FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(histories(), st.sampled_from(POLICIES), st.sampled_from(["partner", "sub", "all"]))
def test_levels_add_up_per_sku(records: list[dict[str, Any]], policy: str, scope: str) -> None:
    ledger = load(records)
    kwargs: dict[str, Any] = {"hour_policy": policy}
    if scope == "sub":
        kwargs["sub_partner"] = "reseller-1"
    elif scope == "all":
        kwargs["all"] = True
    totals = [
        ledger.usage_report("2024-05", level=level, **kwargs).quantity_by_sku()  # type: ignore[arg-type]
        for level in ["user", "customer", "partner"]
    ]
    assert totals[0] == totals[1] == totals[2]
    for quantity in totals[0].values():
        assert quantity > 0 and quantity == quantity.quantize(D("0.0001"))


@FAST
@given(histories(), st.sampled_from(POLICIES), st.integers(1, 30))
def test_splitting_a_period_adds_up(records: list[dict[str, Any]], policy: str, split: int) -> None:
    ledger = load(records)
    whole = by_key(ledger.usage_report("2024-05", all=True, hour_policy=policy))  # type: ignore[arg-type]
    first = by_key(ledger.usage_report(date(2024, 5, 1), date(2024, 5, split), all=True, hour_policy=policy))  # type: ignore[arg-type]
    second = by_key(ledger.usage_report(date(2024, 5, split + 1), date(2024, 5, 31), all=True, hour_policy=policy))  # type: ignore[arg-type]
    keys = set(whole) | set(first) | set(second)
    for key in keys:
        assert whole.get(key, D(0)) == first.get(key, D(0)) + second.get(key, D(0)), key


@FAST
@given(histories(), st.randoms(use_true_random=False))
def test_order_of_distinct_events_does_not_matter(records: list[dict[str, Any]], random: Any) -> None:
    times = [r["occurred_at"] for r in records]
    if len(set(times)) != len(times):
        return
    shuffled = list(records)
    random.shuffle(shuffled)
    assert load(records).usage_report("2024-05", all=True).to_csv() == load(shuffled).usage_report("2024-05", all=True).to_csv()


@FAST
@given(
    histories(),
    st.dictionaries(
        st.sampled_from(["A-W-WXC-CALL-U", "A-W-WXE-CALL-U", "A-W-WXM-MEET-U", "A-W-CA-CALL-U"]),
        st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False),
        min_size=4,
    ),
    st.one_of(st.none(), st.decimals(min_value=0, max_value=30, places=1, allow_nan=False, allow_infinity=False)),
)
def test_vendor_invoice_adds_up_to_the_cent(
    records: list[dict[str, Any]], prices: dict[str, Decimal], tax: Decimal | None
) -> None:
    usage = load(records).usage_report("2024-05", level="customer", all=True)
    rates = wb.WholesaleRateCard("USD", prices)
    invoice = wb.expected_vendor_invoice(usage, rates, tax_percent=tax)
    cent = D("0.01")
    for line in invoice.lines:
        assert line.extended.amount == line.extended.amount.quantize(cent)
        if line.kind == "usage":
            assert line.user_days is not None and line.days_in_period == 31
            quantity = (line.user_days / 31).quantize(D("0.0001"), rounding=ROUND_HALF_EVEN)
            assert line.quantity == quantity
            assert line.extended.amount == (quantity * line.rate).quantize(cent, rounding=ROUND_HALF_EVEN)
    assert invoice.total.amount == sum((line.extended.amount for line in invoice.lines), D(0))
    assert set(invoice.usage_quantity_by_sku()) == set(usage.quantity_by_sku())


@FAST
@given(histories())
def test_customer_invoices_add_up_to_the_cent(records: list[dict[str, Any]]) -> None:
    book = wb.PriceBook.from_toml(
        """
        currency = "USD"
        tax_percent = "21"
        minimum_charge = "5.00"
        [skus."A-W-WXC-CALL-U"]
        tiers = "graduated"
        bands = [{ up_to = "0.5", price = "12.00" }, { price = "10.00" }]
        [skus."A-W-WXE-CALL-U"]
        price = "9.99"
        [skus."A-W-WXM-MEET-U"]
        tiers = "volume"
        bands = [{ up_to = "1", price = "13.50" }, { price = "12.00" }]
        [skus."A-W-CA-CALL-U"]
        price = "7.50"
        [customers.c3]
        discount_percent = "12.5"
        unit_mode = "whole_units"
        [sub_partners.reseller-1]
        skus."A-W-WXC-CALL-U" = { price = "9.44" }
        skus."A-W-WXE-CALL-U" = { price = "7.08" }
        skus."A-W-WXM-MEET-U" = { price = "10.62" }
        skus."A-W-CA-CALL-U" = { price = "5.90" }
        """
    )
    usage = load(records).usage_report("2024-05", all=True)
    month = wb.bill_month(usage, ORG, book, rates=RATES)
    cent = D("0.01")
    for invoice in month.invoices():
        assert invoice.subtotal.amount == sum((line.amount.amount for line in invoice.lines), D(0))
        net = invoice.net().amount
        assert net == invoice.subtotal.amount - invoice.discount.amount + invoice.minimum_top_up.amount
        assert invoice.total.amount == net + invoice.tax.amount
        for money in [invoice.subtotal, invoice.discount, invoice.tax, invoice.total, *(x.amount for x in invoice.lines)]:
            assert money.amount == money.amount.quantize(cent)
            assert money.currency == "USD"
        if invoice.lines:
            assert net >= invoice.minimum_charge.amount
    assert month.grand_total.amount == sum((i.total.amount for i in month.invoices()), D(0))


@FAST
@given(histories(), st.sampled_from(POLICIES))
def test_reconciling_a_report_against_itself_finds_nothing(records: list[dict[str, Any]], policy: str) -> None:
    report = load(records).usage_report("2024-05", all=True, hour_policy=policy)  # type: ignore[arg-type]
    invoice = wb.expected_vendor_invoice(report, RATES)
    result = wb.reconcile(report, [report], RATES, vendor_invoice=invoice)
    assert result.is_clean, result.findings
    # Split into the partner's and the reseller's reports, as the vendor sends them.
    ledger = load(records)
    parts = [
        ledger.usage_report("2024-05", hour_policy=policy),  # type: ignore[arg-type]
        ledger.usage_report("2024-05", sub_partner="reseller-1", hour_policy=policy),  # type: ignore[arg-type]
    ]
    assert wb.reconcile(report, parts, RATES).is_clean
