"""Organisation files: reading, attributes, writing, errors located by line and column."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import ORG_TOML

import wholesale_billing as wb


def test_from_toml_attributes(org: wb.Organisation) -> None:
    assert org.partner.org_id == "partner-1"
    assert org.partner.name == "Acme Telecom"
    assert org.partner.subscription_id == "Sub1234567"
    [reseller] = org.sub_partners
    assert reseller.org_id == "reseller-1"
    assert reseller.name == "Reseller One"
    assert reseller.billing_start == datetime(2024, 5, 10, 12, tzinfo=timezone.utc)
    assert reseller.billing_start is not None and reseller.billing_start.utcoffset() is not None
    assert org.sub_partner("reseller-1") == reseller


def test_catalog_entries(org: wb.Organisation) -> None:
    calling = org.catalog_entry("webex_calling")
    assert calling is not None
    assert (calling.sku, calling.service_name, calling.placeholder) == (
        "A-W-WXC-CALL-U",
        "WEBEX_CALLING",
        False,
    )
    assert org.catalog_entry("WEBEX_CALLING") is not None, "package names are case-insensitive"
    suite = org.catalog_entry("webex_suite")
    assert suite is not None and suite.placeholder
    assert {e.package for e in org.catalog} >= {"webex_calling", "common_area_calling", "webex_suite"}
    assert org.catalog_entry("nope") is None


def test_toml_json_round_trip(org: wb.Organisation) -> None:
    assert wb.Organisation.from_toml(org.to_toml()) == org
    assert wb.Organisation.from_json(org.to_json()) == org


def test_from_file_by_extension(tmp_path: Path, org: wb.Organisation) -> None:
    toml_file = tmp_path / "org.toml"
    toml_file.write_text(ORG_TOML)
    json_file = tmp_path / "org.json"
    json_file.write_text(org.to_json())
    assert wb.Organisation.from_file(toml_file) == org
    assert wb.Organisation.from_file(str(json_file)) == org


def test_missing_file_is_an_os_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(wb.BillingIOError) as info:
        wb.Organisation.from_file(missing)
    assert isinstance(info.value, OSError)
    assert info.value.errno == 2
    assert info.value.filename == str(missing)


def test_errors_are_located() -> None:
    bad = ORG_TOML.replace('billing_start = "2024-05-10T12:00:00Z"', 'billing_start = "2024-05-10"')
    with pytest.raises(wb.BillingInputError) as info:
        wb.Organisation.from_toml(bad)
    error = info.value
    assert isinstance(error, ValueError)
    assert "line 10" in str(error)
    assert error.line == 10
    assert error.column is not None
    assert error.path == "sub_partners[0].billing_start"

    with pytest.raises(wb.BillingInputError, match="line 1, column 40 at partner: missing field `subscription_id`"):
        wb.Organisation.from_json('{"partner": {"org_id": "p", "name": "P"}}')


def test_unknown_sub_partner_lists_known(org: wb.Organisation) -> None:
    with pytest.raises(wb.BillingInputError, match='unknown sub-partner "nope"; known: reseller-1'):
        org.sub_partner("nope")


def test_constructor() -> None:
    org = wb.Organisation(
        wb.Partner("p-1", "Acme", "Sub1"),
        sub_partners=[wb.SubPartner("sp-1", "One", billing_start="2024-05-10T14:00:00+02:00")],
        catalog={"webex_suite": {"sku": "A-W-SUITE", "description": "Suite"}},
    )
    assert org.sub_partners[0].billing_start == datetime(2024, 5, 10, 12, tzinfo=timezone.utc)
    suite = org.catalog_entry("webex_suite")
    assert suite is not None and suite.sku == "A-W-SUITE" and not suite.placeholder
    assert wb.Organisation.from_toml(org.to_toml()) == org
    with pytest.raises(wb.BillingInputError, match="appears twice"):
        wb.Organisation(wb.Partner("p-1", "Acme", "Sub1"), sub_partners=[wb.SubPartner("p-1", "Dup")])
    with pytest.raises(wb.BillingInputError, match="naive datetime"):
        wb.SubPartner("sp", "SP", billing_start=datetime(2024, 5, 1))
