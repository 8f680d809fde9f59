"""Money: decimals only, rate cards, price books, the vendor invoice and customer invoices."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import RATES_TOML, sub_partner_prices

import wholesale_billing as wb

D = Decimal

SEED_USAGE = b"SKU,QUANTITY\nA-W-CA-CALL-U,3162.75\nA-W-WXC-CALL-U,10700.667\nA-W-WXE-CALL-U,8040.207\nA-W-WXM-MEET-U,155.832\n"
SEED_PERIOD = "2023-04-13..2023-05-12"

OFFER_DETAILS = {
    "status": "Success",
    "itemDetails": [
        {
            "productID": "A-W-WXC-CALL-U",
            "currencyCode": "USD",
            "decimalExpansionValue": "2",
            "productDescription": "Wholesale Webex Calling Usage",
            "pricePoints": [
                {"listPrice": "9.95", "determinants": [{"determinantType": "pricingTerm", "value": ""}]},
                {"listPrice": "8.50", "determinants": [{"determinantType": "pricingTerm", "value": "COMMITTED"}]},
            ],
        }
    ],
}


def seed_rates() -> wb.WholesaleRateCard:
    prices: dict[str, Decimal | int | str] = {
        "A-W-CA-CALL-U": D("5.00"),
        "A-W-WXC-CALL-U": "8",
        "A-W-WXE-CALL-U": 6,
        "A-W-WXM-MEET-U": D("9"),
    }
    return wb.WholesaleRateCard("USD", prices)


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(TypeError, match=r"float.*Decimal"):
        wb.Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        wb.WholesaleRate("X", 8.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        wb.WholesaleRate("X", D(8), committed_rate=7.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        wb.WholesaleRateCard("USD", {"X": 8.0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        wb.FixedLine("X", 1, 0.5)  # type: ignore[arg-type]
    usage = wb.UsageReport.read_csv(SEED_USAGE, period=SEED_PERIOD)
    with pytest.raises(TypeError, match="float"):
        wb.expected_vendor_invoice(usage, seed_rates(), tax_percent=20.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        wb.reconcile(usage, usage, seed_rates(), tolerance=0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bool"):
        wb.Money(True, "USD")


def test_money_is_exact() -> None:
    money = wb.Money("527.125", "usd")
    assert money.amount == D("527.125")
    assert isinstance(money.amount, Decimal)
    assert money.currency == "USD"
    assert str(money) == "527.125 USD"
    assert wb.Money(D("1.10"), "USD") == wb.Money("1.1", "USD")
    assert wb.Money(1, "USD") != wb.Money(1, "EUR")
    assert len({wb.Money(D("1.10"), "USD"), wb.Money("1.1", "USD")}) == 1
    with pytest.raises(wb.BillingInputError, match="invalid amount"):
        wb.Money("1,5", "USD")
    with pytest.raises(wb.BillingInputError, match="currency"):
        wb.Money(1, "XXXX")
    with pytest.raises(wb.BillingInputError, match="NaN"):
        wb.Money(D("NaN"), "USD")


def test_rate_card_forms_agree(tmp_path: Path, rates: wb.WholesaleRateCard) -> None:
    assert rates.currency == "USD"
    assert len(rates) == 4
    calling = rates["A-W-WXC-CALL-U"]
    assert (calling.rate, calling.committed_rate, calling.committed_or_list()) == (D("8.00"), D("7.20"), D("7.20"))
    assert rates["A-W-WXE-CALL-U"].committed_or_list() == D("6.00")
    assert "A-W-WXC-CALL-U" in rates and "nope" not in rates and 3 not in rates
    assert rates.get("nope") is None
    with pytest.raises(KeyError):
        rates["nope"]
    with pytest.raises(wb.PricingError, match="no wholesale rate for SKU nope"):
        rates.rate("nope")

    assert wb.WholesaleRateCard.from_toml(rates.to_toml()) == rates
    assert wb.WholesaleRateCard.from_json(rates.to_json()) == rates
    csv = rates.to_csv()
    assert csv is not None and csv.startswith("sku,rate,committed_rate,currency,")
    assert wb.WholesaleRateCard.from_csv(csv.encode()) == rates
    for name, text in [("r.toml", RATES_TOML), ("r.json", rates.to_json()), ("r.csv", csv)]:
        (tmp_path / name).write_text(text)
        assert wb.WholesaleRateCard.from_file(tmp_path / name) == rates
    built = wb.WholesaleRateCard("USD", [wb.WholesaleRate("A", "8.00", committed_rate=D("7.5"), description="a")])
    assert built["A"].description == "a"


def test_offer_details(tmp_path: Path) -> None:
    text = json.dumps(OFFER_DETAILS)
    card = wb.WholesaleRateCard.from_offer_details_json(text)
    rate = card["A-W-WXC-CALL-U"]
    assert (rate.rate, rate.committed_rate) == (D("9.95"), D("8.50"))
    (tmp_path / "offer.json").write_text(text)
    assert wb.WholesaleRateCard.from_file(tmp_path / "offer.json") == card
    bad = json.loads(text)
    bad["itemDetails"][0]["pricePoints"][0]["listPrice"] = "9.955"
    with pytest.raises(wb.BillingInputError, match="more than its decimalExpansionValue") as info:
        wb.WholesaleRateCard.from_offer_details_json(json.dumps(bad))
    assert info.value.path == "itemDetails[0].pricePoints[0].listPrice"


def test_rate_card_errors_are_located() -> None:
    with pytest.raises(wb.BillingInputError) as info:
        wb.WholesaleRateCard.from_toml('currency = "USD"\n[rates.X]\nrate = 8.00\n')
    assert (info.value.line, info.value.column, info.value.path) == (3, 8, "rates.X.rate")
    assert "line 3, column 8 at rates.X.rate" in str(info.value)
    with pytest.raises(wb.BillingInputError) as info:
        wb.WholesaleRateCard.from_csv(b"SKU,Rate Price,Currency\nA,8.00,USD\nB,-1,USD\n")
    assert str(info.value.issues[0]) == "line 3, column 2 (rate): error: negative price -1"
    with pytest.raises(wb.PricingError, match="negative"):
        wb.WholesaleRateCard("USD", {"A": "-1"})


def test_seed_invoice_to_the_cent(tmp_path: Path) -> None:
    usage = wb.UsageReport.read_csv(SEED_USAGE, period=SEED_PERIOD)
    invoice = wb.expected_vendor_invoice(
        usage, seed_rates(), fixed_lines=[wb.FixedLine("SVS-FLEX-SUPT-BAS", 1, "0.00", "Support")]
    )
    assert [(line.sku, line.quantity, line.extended.amount) for line in invoice.lines] == [
        ("A-W-CA-CALL-U", D("105.4250"), D("527.12")),
        ("A-W-WXC-CALL-U", D("356.6889"), D("2853.51")),
        ("A-W-WXE-CALL-U", D("268.0069"), D("1608.04")),
        ("A-W-WXM-MEET-U", D("5.1944"), D("46.75")),
        ("SVS-FLEX-SUPT-BAS", D("1"), D("0.00")),
    ]
    assert invoice.total == wb.Money("5035.42", "USD")
    assert invoice.total_of("usage") == wb.Money("5035.42", "USD")
    assert invoice.lines[0].user_days == D("3162.7500")
    assert invoice.lines[0].days_in_period == 30
    assert invoice.period == wb.Period.parse(SEED_PERIOD)
    assert invoice.usage_quantity_by_sku()["A-W-CA-CALL-U"] == D("105.4250")

    path = tmp_path / "invoice.csv"
    invoice.to_csv(path)
    read = wb.VendorInvoice.read_csv(path)
    assert read.total == invoice.total
    assert read.stated_total == wb.Money("5035.42", "USD")
    # The reader keeps what an invoice from Cisco has; user_days and days_in_period are not read back.
    assert [(x.sku, x.kind, x.quantity, x.rate, x.extended) for x in read.lines] == [
        (x.sku, x.kind, x.quantity, x.rate, x.extended) for x in invoice.lines
    ]
    assert json.loads(invoice.to_json())["lines"][0]["extended"]["amount"] == "527.12"
    dicts = invoice.to_dicts()
    assert dicts[1]["extended_amount"] == D("2853.51") and dicts[1]["kind"] == "usage"
    assert dicts[1]["period_start"] == date(2023, 4, 13) and dicts[1]["days_in_period"] == 30
    assert list(dicts[0]) == invoice.to_csv().splitlines()[0].split(",")  # type: ignore[union-attr]


def test_committed_and_tax_and_mismatch() -> None:
    usage = wb.UsageReport.read_csv(SEED_USAGE, period=SEED_PERIOD)
    card = wb.WholesaleRateCard.from_toml(RATES_TOML)
    invoice = wb.expected_vendor_invoice(usage, card, committed="1000", tax_percent="10")
    kinds = [line.kind for line in invoice.lines]
    assert kinds == ["committed_spend", "overage", "tax"]
    committed, overage, tax = invoice.lines
    at_committed = sum((line.extended.amount for line in invoice.overage_basis), D(0))
    assert overage.extended.amount == max(D(0), at_committed - D(1000))
    assert tax.extended.amount == (
        (committed.extended.amount + overage.extended.amount) * D("0.10")
    ).quantize(D("0.01"))
    assert invoice.total.amount == sum((line.extended.amount for line in invoice.lines), D(0))
    with pytest.raises(wb.CurrencyMismatchError) as info:
        wb.expected_vendor_invoice(usage, card, committed=wb.Money(1000, "EUR"))
    assert (info.value.expected, info.value.found) == ("USD", "EUR")
    assert isinstance(info.value, ValueError)
    with pytest.raises(
        wb.PricingError,
        match=r"no wholesale rate for SKU A-W-WXC-CALL-U, needed by line 3 of usage report 1 "
        r"\(the rate card has A-W-CA-CALL-U\)",
    ) as missing:
        wb.expected_vendor_invoice(usage, wb.WholesaleRateCard("USD", {"A-W-CA-CALL-U": 5}))
    assert missing.value.line == 3


def test_price_book(price_book: wb.PriceBook) -> None:
    assert price_book.currency == "USD"
    assert "A-W-WXC-CALL-U" in price_book.skus
    assert price_book.customers == ["CUST-000001", "CUST-000002"]
    assert json.loads(price_book.to_json())["currency"] == "USD"
    with pytest.raises(wb.BillingInputError, match="price"):
        wb.PriceBook.from_toml('currency = "USD"\n[skus.X]\nprice = 8.5\n')


def test_bill_month(month_ledger: wb.Ledger, rates: wb.WholesaleRateCard) -> None:
    org = month_ledger.organisation
    book = wb.PriceBook.from_toml(sub_partner_prices(org))
    usage = month_ledger.usage_report("2024-05", all=True)
    month = wb.bill_month(usage, org, book, rates=rates)
    assert month.period == wb.Period.month(2024, 5)
    assert len(month.customer_invoices) > 0
    assert len(month.sub_partner_invoices) == len(org.sub_partners)
    total = D(0)
    for invoice in month.invoices():
        lines = sum((line.amount.amount for line in invoice.lines), D(0))
        assert invoice.subtotal.amount == lines
        net = invoice.subtotal.amount - invoice.discount.amount + invoice.minimum_top_up.amount
        assert invoice.net().amount == net
        assert invoice.total.amount == net + invoice.tax.amount
        assert invoice.total.amount == invoice.total.amount.quantize(D("0.01"))
        total += invoice.total.amount
        for line in invoice.lines:
            assert line.derivation
            assert (line.unit_price is None) == (line.tiers is not None)
            if line.tiers == "graduated":
                assert sum((b.amount for b in line.bands), D(0)).quantize(D("0.01")) == line.amount.amount
    assert month.grand_total.amount == total
    assert month.margin is not None
    skus = [r for r in month.margin.rows if r.dimension == "sku"]
    assert all(r.margin.amount == r.revenue.amount - r.cost.amount for r in month.margin.rows)
    assert skus
    summary = month.summary_csv()
    assert summary is not None and summary.count("\n") == len(month.invoices()) + 1
    assert len(month.to_dicts()) == len(month.invoices())
    assert list(month.to_dicts()[0]) == summary.splitlines()[0].split(",")
    first = month.customer_invoices[0]
    assert first.bill_to == "customer" and first.to_csv()
    assert json.loads(first.to_json())["total"]["currency"] == "USD"
    assert json.loads(month.to_json())["period"] == "2024-05-01..2024-05-31"

    with pytest.raises(wb.PricingError, match="PARTNER report"):
        wb.bill_month(month_ledger.usage_report("2024-05", level="partner"), org, book)
    with pytest.raises(wb.PricingError, match="no price for SKU"):
        wb.bill_month(usage, org, wb.PriceBook.from_toml('currency = "USD"'))
    eur = wb.WholesaleRateCard("EUR", {"A-W-CA-CALL-U": 1})
    with pytest.raises(wb.CurrencyMismatchError):
        wb.bill_month(usage, org, book, rates=eur)


def test_numpy_integers_are_exact_and_numpy_floats_refused() -> None:
    np = pytest.importorskip("numpy")
    assert wb.Money(np.int64(5), "USD").amount == D(5)
    with pytest.raises(TypeError, match="float"):
        wb.Money(np.float64(5), "USD")


def test_durations_refuse_floats_too() -> None:
    # No float crosses the boundary, not even for a timeout: a timedelta or whole seconds.
    with pytest.raises(TypeError, match="whole number of seconds"):
        wb.WebexClient(token="t", timeout=1.5)  # type: ignore[arg-type]
    client = wb.WebexClient(token="t", timeout=timedelta(milliseconds=1500), connect_timeout=3)
    assert client.base_url.endswith("/v1")


def test_invoice_tables_keep_integers_integers() -> None:
    pd = pytest.importorskip("pandas")
    usage = wb.UsageReport.read_csv(SEED_USAGE, period=SEED_PERIOD)
    card = wb.WholesaleRateCard.from_toml(RATES_TOML)
    invoice = wb.expected_vendor_invoice(usage, card, tax_percent="10")
    df = invoice.to_pandas()
    # Usage lines say their days in period, the tax line has none: nullable int64, never a float.
    assert str(df["days_in_period"].dtype) == "int64[pyarrow]"
    assert df["days_in_period"].isna().tolist() == [line.days_in_period is None for line in invoice.lines]
    assert all(isinstance(v, D) for v in df["quantity"])
    assert not any(str(dtype).startswith("float") for dtype in df.dtypes), df.dtypes
    assert pd.api.types.is_integer_dtype(df["days_in_period"].dtype)
