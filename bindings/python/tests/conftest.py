"""Shared fixtures: a small organisation and events, a generated month, rate cards and a price book."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import wholesale_billing as wb

ORG_TOML = """
[partner]
org_id = "partner-1"
name = "Acme Telecom"
subscription_id = "Sub1234567"

[[sub_partners]]
org_id = "reseller-1"
name = "Reseller One"
billing_start = "2024-05-10T12:00:00Z"
"""

EVENTS_CSV = b"""event_id,occurred_at,action,subscriber_id,customer_org_id,sub_partner_org_id,subscriber_type,package
e1,2024-05-01T00:00:00Z,ASSIGN,sub-1,cust-1,,USER,webex_calling
e2,2024-05-02T17:00:00+02:00,REMOVE,sub-1,,,,
e3,2024-05-01T00:00:00Z,ASSIGN,sub-2,cust-2,reseller-1,WORKSPACE,common_area_calling
"""

RATES_TOML = """
currency = "USD"

[rates."A-W-CA-CALL-U"]
rate = "5.00"
committed_rate = "4.50"
description = "Wholesale Common Area Calling Usage"

[rates."A-W-WXC-CALL-U"]
rate = "8.00"
committed_rate = "7.20"

[rates."A-W-WXE-CALL-U"]
rate = "6.00"

[rates."A-W-WXM-MEET-U"]
rate = "9.00"
"""

PRICES_TOML = """
currency = "USD"
unit_mode = "prorated"
tax_percent = "20"
minimum_charge = "15.00"

[skus."A-W-CA-CALL-U"]
price = "7.50"

[skus."A-W-WXC-CALL-U"]
tiers = "graduated"
bands = [{ up_to = "20", price = "12.00" }, { up_to = "100", price = "11.00" }, { price = "10.00" }]

[skus."A-W-WXE-CALL-U"]
price = "9.00"

[skus."A-W-WXM-MEET-U"]
tiers = "volume"
bands = [{ up_to = "10", price = "13.50" }, { price = "12.00" }]

[customers."CUST-000001"]
discount_percent = "10"

[customers."CUST-000002"]
unit_mode = "whole_units"
"""


def sub_partner_prices(org: wb.Organisation) -> str:
    """The price book with a section per sub-partner (its wholesale price + 18%)."""
    text = PRICES_TOML
    for sp in org.sub_partners:
        text += f'\n[sub_partners."{sp.org_id}"]\n'
        for sku, price in [
            ("A-W-CA-CALL-U", "5.90"),
            ("A-W-WXC-CALL-U", "9.44"),
            ("A-W-WXE-CALL-U", "7.08"),
            ("A-W-WXM-MEET-U", "10.62"),
        ]:
            text += f'skus."{sku}" = {{ price = "{price}" }}\n'
    return text


@pytest.fixture(scope="session")
def org() -> wb.Organisation:
    return wb.Organisation.from_toml(ORG_TOML)


@pytest.fixture(scope="session")
def ledger(org: wb.Organisation) -> wb.Ledger:
    return wb.Ledger.from_csv(EVENTS_CSV, org)


@pytest.fixture(scope="session")
def month() -> tuple[wb.Organisation, bytes]:
    return wb.generate(seed=7, customers=20, subscribers=300, sub_partners=2, month="2024-05")


@pytest.fixture(scope="session")
def month_ledger(month: tuple[wb.Organisation, bytes]) -> wb.Ledger:
    org, events = month
    return wb.Ledger.from_csv(events, org)


@pytest.fixture(scope="session")
def rates() -> wb.WholesaleRateCard:
    return wb.WholesaleRateCard.from_toml(RATES_TOML)


@pytest.fixture(scope="session")
def price_book() -> wb.PriceBook:
    return wb.PriceBook.from_toml(PRICES_TOML)


def event(event_id: str, at: Any, action: str, subscriber: Any, **fields: Any) -> dict[str, Any]:
    """An event record with the CSV column names."""
    record: dict[str, Any] = {
        "event_id": event_id,
        "occurred_at": at,
        "action": action,
        "subscriber_id": subscriber,
    }
    if action.upper() == "ASSIGN":
        record.setdefault("subscriber_type", "USER")
    record.update(fields)
    return record


D = Decimal
