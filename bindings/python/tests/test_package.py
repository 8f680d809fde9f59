"""The package: public names, typing (stubs checked against the built module), generator."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

import wholesale_billing as wb
from wholesale_billing import _wholesale_billing as native


def test_public_names() -> None:
    assert wb.__version__ == native.__version__
    assert set(wb.__all__) == set(native.__all__)
    for name in wb.__all__:
        assert getattr(wb, name) is getattr(native, name)
    assert (Path(wb.__file__).parent / "py.typed").exists()
    assert (Path(wb.__file__).parent / "_wholesale_billing.pyi").exists()
    assert wb.DEFAULT_BASE_URL.startswith("https://")


def test_generator_is_deterministic() -> None:
    org, events = wb.generate(seed=7, customers=5, subscribers=60, sub_partners=2, month="2024-05")
    again_org, again = wb.generate(seed=7, customers=5, subscribers=60, sub_partners=2, month=wb.Period.month(2024, 5))
    assert isinstance(events, bytes) and events == again and org == again_org
    assert len(org.sub_partners) == 2
    ledger = wb.Ledger.from_csv(events, org)
    assert (ledger.subscriber_count, ledger.customer_count) == (60, 5)
    assert ledger.diagnostics.issues == []
    assert wb.generate(seed=8, customers=5, subscribers=60)[1] != events
    with pytest.raises(wb.BillingInputError, match="whole calendar month"):
        wb.generate(month="2024-05-01..2024-05-30")
    with pytest.raises(wb.BillingInputError, match="every customer needs at least one"):
        wb.generate(customers=10, subscribers=5)


def test_generator_orders_events_by_time_or_by_customer() -> None:
    org, by_time = wb.generate(seed=7, customers=5, subscribers=60, order="time")
    same_org, grouped = wb.generate(seed=7, customers=5, subscribers=60, order="customer")
    assert org == same_org and by_time != grouped
    assert by_time == wb.generate(seed=7, customers=5, subscribers=60)[1]

    def rows(csv: bytes) -> list[str]:
        return sorted(line.split(",", 1)[1] for line in csv.decode().splitlines()[1:])

    assert rows(by_time) == rows(grouped)
    instants = [datetime.fromisoformat(line.split(",")[1]) for line in by_time.decode().splitlines()[1:]]
    assert instants == sorted(instants)
    user = wb.Ledger.from_csv(by_time, org).usage_report("2024-05", level="user", all=True)
    again = wb.Ledger.from_csv(grouped, org).usage_report("2024-05", level="user", all=True)
    assert user.to_csv() == again.to_csv()
    with pytest.raises(wb.BillingInputError, match="order: .*time.*customer"):
        wb.generate(order="random")  # type: ignore[arg-type]


def test_generator_leaves_out_packages_without_a_known_sku_unless_configured() -> None:
    def skus(org: wb.Organisation, events: bytes) -> set[str]:
        ledger = wb.Ledger.from_csv(events, org)
        return {row.sku for row in ledger.usage_report("2024-05", level="user", all=True)}

    org, events = wb.generate(seed=3, customers=40, subscribers=600)
    assert skus(org, events) == {"A-W-CA-CALL-U", "A-W-WXC-CALL-U", "A-W-WXE-CALL-U", "A-W-WXM-MEET-U"}
    assert b"webex_suite" not in events and b"cx_essentials" not in events

    configured, more = wb.generate(seed=3, customers=40, subscribers=600, catalog={"webex_suite": {"sku": "A-W-SUITE-TEST"}})
    assert "A-W-SUITE-TEST" in skus(configured, more)
    assert not any(sku.startswith("PLACEHOLDER") for sku in skus(configured, more))
    suite = configured.catalog_entry("webex_suite")
    assert suite is not None and suite.sku == "A-W-SUITE-TEST" and not suite.placeholder
    assert '[catalog.webex_suite]\nsku = "A-W-SUITE-TEST"' in configured.to_toml()
    with pytest.raises(wb.BillingInputError, match="needs `sku` and `description`"):
        wb.generate(catalog={"webex_ai_agent": {"sku": "A-W-AI"}})
    with pytest.raises(TypeError, match="unknown key"):
        wb.generate(catalog={"webex_suite": {"skus": "A-W-SUITE-TEST"}})


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=Path(__file__).parent, check=False)


def test_stubs_match_the_built_module() -> None:
    pytest.importorskip("mypy")
    for module in ["wholesale_billing._wholesale_billing", "wholesale_billing"]:
        result = run("-m", "mypy.stubtest", module)
        assert result.returncode == 0, result.stdout + result.stderr


def test_stubs_type_check_a_typical_script(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    script = tmp_path / "typical.py"
    script.write_text(
        textwrap.dedent(
            """
            from decimal import Decimal
            import wholesale_billing as wb

            org, events = wb.generate(seed=1, customers=2, subscribers=10)
            ledger = wb.Ledger.from_csv(events, org, lenient=True)
            report = ledger.usage_report("2024-05-01", "2024-05-31", level="customer", all=True)
            total: Decimal = report.total_quantity()
            for row in report:
                quantity: Decimal = row.quantity
            rates = wb.WholesaleRateCard("USD", {"A-W-WXC-CALL-U": Decimal("8.00")})
            try:
                invoice = wb.expected_vendor_invoice(report, rates, tax_percent="20")
                amount: Decimal = invoice.total.amount
            except wb.PricingError as e:
                issues: tuple[wb.LoadIssue, ...] = e.issues
            text: str | None = report.to_csv()
            """
        )
    )
    result = run("-m", "mypy", "--strict", str(script))
    assert result.returncode == 0, result.stdout + result.stderr
    bad = tmp_path / "bad.py"
    bad.write_text("import wholesale_billing as wb\nwb.Money(1.5, 'USD')\n")
    result = run("-m", "mypy", "--strict", str(bad))
    assert result.returncode != 0 and "Money" in result.stdout, "a float amount is a type error too"
