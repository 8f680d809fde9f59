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
    assert len(python_blocks(PACKAGE_README)) >= 2


@pytest.mark.parametrize("index", range(len(python_blocks(PACKAGE_README))))
def test_package_readme_python_example_runs(
    index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import wholesale_billing as wb

    # The files the examples name: a generated month without sub-partners (the demo price book
    # prices the partner's customers), the demo's rate card and price book, and a vendor USER report
    # and invoice that agree with the events.
    org, events = wb.generate(seed=3, customers=40, subscribers=400, sub_partners=0, month="2024-05")
    (tmp_path / "org.toml").write_text(org.to_toml(), encoding="utf-8")
    (tmp_path / "events.csv").write_bytes(events)
    demo = ROOT / "crates" / "wbill" / "demo"
    for name in ("rates.toml", "prices.toml"):
        (tmp_path / name).write_bytes((demo / name).read_bytes())
    report = wb.Ledger.from_csv(events, org).usage_report("2024-05", level="user", all=True)
    report.to_csv(str(tmp_path / "vendor-user.csv"))
    rates = wb.WholesaleRateCard.from_file(str(tmp_path / "rates.toml"))
    wb.expected_vendor_invoice(report, "2024-05", rates).to_csv(str(tmp_path / "vendor-invoice.csv"))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = compile(python_blocks(PACKAGE_README)[index], f"python README block {index + 1}", "exec")
        exec(code, {})
    finally:
        os.chdir(cwd)
    capsys.readouterr()
