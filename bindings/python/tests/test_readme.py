"""The Python examples of the READMEs run as written: the project's (from the repository root) and the
package's (in a folder holding the files it names, made from a generated month)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def python_blocks(readme: Path = ROOT / "README.md") -> list[str]:
    text = readme.read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


PACKAGE_README = ROOT / "bindings" / "python" / "README.md"


def test_readme_has_python_examples() -> None:
    assert python_blocks(), "the README shows Python"


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_example_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(python_blocks()[index], f"README.md python block {index + 1}", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "USD" in out and "line 1" in out, out


def test_package_readme_has_python_examples() -> None:
    assert len(python_blocks(PACKAGE_README)) >= 3


MAY = "2024-05"


def package_readme_files(folder: Path) -> None:
    """Writes the files the package README's examples name, made from a generated month with two
    sub-partners: the events and organisation file, the demo's rate card and its price book with a
    section for each sub-partner, and the vendor's side as Webex gives it, a USER report for the
    partner (`vendor-user.csv`) and one for each sub-partner (`vendor-user-<org id>.csv`), and the
    invoice."""
    import wholesale_billing as wb

    org, events = wb.generate(seed=3, customers=40, subscribers=400, sub_partners=2, month=MAY)
    (folder / "org.toml").write_text(org.to_toml(), encoding="utf-8")
    (folder / "events.csv").write_bytes(events)
    demo = ROOT / "crates" / "wbill" / "demo"
    (folder / "rates.toml").write_bytes((demo / "rates.toml").read_bytes())
    rates = wb.WholesaleRateCard.from_file(str(folder / "rates.toml"))
    book = (demo / "prices.toml").read_text(encoding="utf-8")
    for sp in org.sub_partners:
        book += f'\n[sub_partners."{sp.org_id}"]\n'
        book += "".join(f'skus."{r.sku}" = {{ price = "{r.rate * 2}" }}\n' for r in rates.rates)
    (folder / "prices.toml").write_text(book, encoding="utf-8")
    ledger = wb.Ledger.from_csv(events, org)
    ledger.usage_report(MAY, level="user").to_csv(str(folder / "vendor-user.csv"))
    for sp in org.sub_partners:
        report = ledger.usage_report(MAY, level="user", sub_partner=sp.org_id)
        report.to_csv(str(folder / f"vendor-user-{sp.org_id}.csv"))
    whole = ledger.usage_report(MAY, level="user", all=True)
    wb.expected_vendor_invoice(whole, rates).to_csv(str(folder / "vendor-invoice.csv"))


@pytest.mark.parametrize("index", range(len(python_blocks(PACKAGE_README))))
def test_package_readme_python_example_runs(
    index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package_readme_files(tmp_path)
    block = python_blocks(PACKAGE_README)[index]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(block, f"python README block {index + 1}", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    if "wb.reconcile(" in block:
        assert "reconciliation 2024-05-01..2024-05-31: clean, no findings" in out, out
    if "wb.CdrFeed(" in block:
        assert "2024-06-02 00:00..12:00 UTC: 1 calls" in out and "'windows': 6, 'records': 3" in out, out


def test_package_readme_reconciliation_needs_every_vendor_report(tmp_path: Path) -> None:
    """The month of the README's examples has sub-partner usage, so the reconciliation example would
    fail if it compared the whole subscription with the partner's report alone."""
    import wholesale_billing as wb

    package_readme_files(tmp_path)
    org = wb.Organisation.from_file(str(tmp_path / "org.toml"))
    ledger = wb.Ledger.from_csv(str(tmp_path / "events.csv"), org)
    whole = ledger.usage_report(MAY, level="user", all=True)
    rates = wb.WholesaleRateCard.from_file(str(tmp_path / "rates.toml"))
    partner_only = wb.UsageReport.read_csv(str(tmp_path / "vendor-user.csv"), period=MAY)
    wrong = wb.reconcile(whole, partner_only, rates)
    missing = wrong.of_class("missing_from_vendor")
    assert len(missing) == len(wrong) > 0
    resellers = {row.subscriber_id for row in whole if row.partner_org_id != org.partner.org_id}
    assert {f.subscriber_id for f in missing} == resellers
    # Like with like: the partner's own usage against the partner's report is clean too.
    assert wb.reconcile(ledger.usage_report(MAY, level="user"), partner_only, rates).is_clean
