"""Heavy work runs without the GIL: another Python thread keeps running meanwhile."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import wholesale_billing as wb


def progress_while(work: Callable[[], Any]) -> tuple[int, float]:
    """Runs `work` on a thread; counts how often this thread ran meanwhile."""
    started = threading.Event()
    done = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        started.set()
        try:
            work()
        except BaseException as e:  # pragma: no cover - reported below
            failure.append(e)
        finally:
            done.set()

    thread = threading.Thread(target=run)
    # Timed from before the start: a call that keeps the GIL also keeps this thread waiting in
    # `started.wait()`, so the count stays near zero over the whole duration.
    begin = time.perf_counter()
    thread.start()
    started.wait()
    count = 0
    while not done.is_set():
        count += 1
    elapsed = time.perf_counter() - begin
    thread.join()
    if failure:
        raise failure[0]
    return count, elapsed


@pytest.fixture(scope="module")
def big() -> tuple[wb.Organisation, bytes, wb.Ledger]:
    org, events = wb.generate(seed=3, customers=15_000, subscribers=150_000, sub_partners=2)
    return org, events, wb.Ledger.from_csv(events, org)


@pytest.fixture(scope="module")
def baseline() -> float:
    """Iterations a second of the counting loop while the other thread sleeps (GIL released)."""
    count, elapsed = progress_while(lambda: time.sleep(0.2))
    return count / elapsed


BOOK = """
currency = "USD"
[skus."A-W-WXC-CALL-U"]
price = "12.00"
[skus."A-W-WXE-CALL-U"]
price = "9.00"
[skus."A-W-WXM-MEET-U"]
price = "13.50"
[skus."A-W-CA-CALL-U"]
price = "7.50"
"""


@pytest.fixture(scope="module")
def big_calls(big: tuple[wb.Organisation, bytes, wb.Ledger]) -> tuple[bytes, wb.Tariff]:
    files = wb.generate_calls(big[2], seed=3, calls_per_subscriber=1)
    return files["cdrs.csv"], wb.Tariff.from_toml(files["tariff.toml"].decode(), prefix_table=files["prefixes.csv"])


@pytest.mark.parametrize("step", ["generate", "load", "report", "csv", "bill", "reconcile", "calls", "rate"])
def test_heavy_work_releases_the_gil(
    step: str,
    big: tuple[wb.Organisation, bytes, wb.Ledger],
    big_calls: tuple[bytes, wb.Tariff],
    baseline: float,
) -> None:
    org, events, ledger = big
    cdrs, tariff = big_calls
    user = ledger.usage_report("2024-05")
    rates = wb.WholesaleRateCard(
        "USD",
        {
            "A-W-WXC-CALL-U": 8,
            "A-W-WXE-CALL-U": 6,
            "A-W-WXM-MEET-U": 9,
            "A-W-CA-CALL-U": 5,
        },
    )
    book = wb.PriceBook.from_toml(BOOK)
    vendor, _ = wb.plant_discrepancies(user, seed=1, count=10)
    work: dict[str, Callable[[], Any]] = {
        "generate": lambda: wb.generate(seed=4, customers=15_000, subscribers=150_000),
        "load": lambda: wb.Ledger.from_csv(events, org),
        "report": lambda: ledger.usage_report("2024-05", all=True, hour_policy="exact"),
        "csv": lambda: user.to_csv(),
        "bill": lambda: wb.bill_month(user, org, book, rates=rates, per_location=True),
        "reconcile": lambda: wb.reconcile(user, vendor, rates),
        "calls": lambda: wb.generate_calls(ledger, seed=4, calls_per_subscriber=1),
        "rate": lambda: wb.rate(cdrs, tariff, "2024-05", ledger=ledger),
    }
    count, elapsed = progress_while(work[step])
    # Holding the GIL, one Rust call would stop this thread for its whole duration; released, this
    # thread keeps counting at about its baseline speed. Calls too short to tell are not judged.
    if elapsed > 0.03:
        assert count / elapsed > 0.2 * baseline, (step, count, elapsed, baseline)


def test_the_harness_sees_a_held_gil(baseline: float) -> None:
    """The control: a long C call that keeps the GIL (``sum`` over a range) stops the counting."""
    count, elapsed = progress_while(lambda: sum(range(30_000_000)))
    assert elapsed > 0.03
    assert count / elapsed < 0.2 * baseline, (count, elapsed, baseline)
