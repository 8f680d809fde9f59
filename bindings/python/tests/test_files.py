"""Every file the extension writes is written whole or not at all: to a temporary file beside
it, synced, then renamed over it, so a reader (or a hard link to the old file) never sees a part."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from conftest import sub_partner_prices

import wholesale_billing as wb


def writers(month_ledger: wb.Ledger, rates: wb.WholesaleRateCard) -> dict[str, Callable[[Path], object]]:
    """Each file writer of the package, by the name of the file it writes."""
    org = month_ledger.organisation
    usage = month_ledger.usage_report("2024-05", all=True)
    invoice = wb.expected_vendor_invoice(usage, rates)
    book = wb.PriceBook.from_toml(sub_partner_prices(org))
    month = wb.bill_month(usage, org, book, rates=rates)
    assert month.margin is not None
    margin = month.margin
    result = wb.reconcile(usage, usage, rates, vendor_invoice=invoice)
    return {
        "usage.csv": usage.to_csv,
        "vendor-invoice.csv": invoice.to_csv,
        "customer-invoice.csv": month.customer_invoices[0].to_csv,
        "summary.csv": month.summary_csv,
        "margin.csv": margin.to_csv,
        "findings.csv": result.to_csv,
        "rates.csv": rates.to_csv,
    }


def test_files_are_replaced_by_a_rename(
    tmp_path: Path, month_ledger: wb.Ledger, rates: wb.WholesaleRateCard
) -> None:
    for name, write in writers(month_ledger, rates).items():
        target = tmp_path / name
        target.write_text("old content\n")
        os.chmod(target, 0o640)
        kept = tmp_path / f"{name}.was"
        os.link(target, kept)
        assert write(target) is None
        # The old file (the hard link's) was not rewritten in place: it was replaced.
        assert kept.read_text() == "old content\n", name
        new = target.read_text()
        assert new != "old content\n" and new.endswith("\n"), name
        assert stat.S_IMODE(target.stat().st_mode) == 0o640, name
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_a_new_file_and_a_link(tmp_path: Path, month_ledger: wb.Ledger, rates: wb.WholesaleRateCard) -> None:
    usage = month_ledger.usage_report("2024-05", all=True)
    usage.to_csv(tmp_path / "new.csv")
    # As readable as any new file (0666 less the umask), not a temporary's 0600.
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) & 0o044 == 0o044 & ~current_umask()
    (tmp_path / "real.csv").write_text("old\n")
    (tmp_path / "link.csv").symlink_to("real.csv")
    usage.to_csv(tmp_path / "link.csv")
    assert (tmp_path / "link.csv").is_symlink()
    assert (tmp_path / "real.csv").read_text() == usage.to_csv()
    usage.to_csv(os.devnull)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failed_write_leaves_the_target_and_no_temporary(tmp_path: Path, month_ledger: wb.Ledger) -> None:
    usage = month_ledger.usage_report("2024-05", all=True)
    directory = tmp_path / "a-directory"
    directory.mkdir()
    (directory / "inside.txt").write_text("mine\n")
    with pytest.raises(wb.BillingIOError) as info:
        usage.to_csv(directory)
    assert info.value.filename == str(directory)
    assert (directory / "inside.txt").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-directory"]


def test_a_report_written_without_holding_it(tmp_path: Path, month_ledger: wb.Ledger) -> None:
    # The same bytes as the report computed whole, then written.
    path = tmp_path / "streamed.csv"
    levels: list[Literal["user", "customer", "partner"]] = ["user", "customer", "partner"]
    for level in levels:
        for all_ in (True, False):
            rows = month_ledger.write_usage_csv(path, "2024-05", level=level, all=all_)
            report = month_ledger.usage_report("2024-05", level=level, all=all_)
            assert path.read_text() == report.to_csv(), (level, all_)
            assert rows == len(report) > 0, (level, all_)
    assert [p.name for p in tmp_path.iterdir()] == ["streamed.csv"]
    with pytest.raises(ValueError, match="not both"):
        month_ledger.write_usage_csv(path, "2024-05", sub_partner="sp", all=True)
