"""The CDR feed client against the sandbox: a period fetched into a file, resumable; errors typed."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

import wholesale_billing as wb


def _records(n: int) -> bytes:
    lines = []
    for i in range(n):
        day, minute = 1 + i % 30, i % 1440
        start = f"2024-06-{day:02d}T{minute // 60:02d}:{minute % 60:02d}:00.000Z"
        lines.append(json.dumps({"Report ID": f"r{i}", "Start time": start, "Duration": i % 120}))
    return ("\n".join(lines) + "\n").encode()


def test_fetch_a_period_into_a_file(month: tuple[wb.Organisation, bytes], tmp_path: Path) -> None:
    org, events = month
    with wb.Sandbox.start(
        org,
        events,
        today=date(2024, 7, 1),
        cdrs=_records(900),
        cdr_initial_per_minute=1000,
        cdr_pages_per_minute=1000,
    ) as sandbox:
        token = sandbox.partner_token
        assert token is not None
        feed = wb.CdrFeed(
            token=token,
            base_url=sandbox.base_url,
            max=500,
            initial_per_minute=1000,
            pages_per_minute=1000,
        )
        assert feed.base_url == sandbox.base_url
        out = tmp_path / "june.json"
        done = feed.fetch("2024-06-01", "2024-06-30", out=out)
        assert done == {"windows": 60, "records": 900, "bytes": out.stat().st_size}
        items = json.loads(out.read_text())["items"]
        assert sorted(item["Report ID"] for item in items) == sorted(f"r{i}" for i in range(900))
        # Outside the 30 days before today: the sandbox answers 400, raised as an API error.
        with pytest.raises(wb.ApiError) as raised:
            feed.fetch("2024-05-31", "2024-05-31", out=tmp_path / "may.json")
        assert raised.value.status == 400
        assert not (tmp_path / "may.json").exists()
        feed.close()
        assert feed.closed
        with pytest.raises(wb.ClientClosedError):
            feed.fetch("2024-06-01", "2024-06-01", out=out)


def test_bad_settings_are_input_errors() -> None:
    with pytest.raises(wb.BillingInputError, match="unknown cdr region"):
        wb.CdrFeed(token="t", region="mars")  # type: ignore[arg-type]
    with pytest.raises(wb.BillingInputError, match="500 to 5000"):
        wb.CdrFeed(token="t", max=10)
    feed = wb.CdrFeed(token="t", region="eu")
    assert feed.base_url == "https://analytics-calling-eu.webexapis.com/v1"


def _sandbox(month: tuple[wb.Organisation, bytes], records: int) -> wb.Sandbox:
    org, events = month
    return wb.Sandbox.start(
        org,
        events,
        today=date(2024, 7, 1),
        cdrs=_records(records),
        cdr_initial_per_minute=1000,
        cdr_pages_per_minute=1000,
    )


def _feed(sandbox: wb.Sandbox) -> wb.CdrFeed:
    token = sandbox.partner_token
    assert token is not None
    return wb.CdrFeed(
        token=token, base_url=sandbox.base_url, max=500, initial_per_minute=1000, pages_per_minute=1000
    )


def test_the_feed_is_a_context_manager(month: tuple[wb.Organisation, bytes], tmp_path: Path) -> None:
    with _sandbox(month, 10) as sandbox:
        with _feed(sandbox) as feed:
            assert not feed.closed
            assert repr(feed) == f"CdrFeed(base_url='{sandbox.base_url}')"
            done = feed.fetch("2024-06-01", "2024-06-01", out=tmp_path / "day.json")
            assert done["windows"] == 2
        assert feed.closed
        assert repr(feed) == f"CdrFeed(base_url='{sandbox.base_url}', closed=True)"
        with pytest.raises(wb.ClientClosedError, match="this CdrFeed is closed"):
            feed.fetch("2024-06-01", "2024-06-01", out=tmp_path / "again.json")
        feed.close()  # closing again does nothing
        assert feed.closed
        # An exception inside the block propagates, and the feed is closed all the same.
        with pytest.raises(KeyError):
            with _feed(sandbox) as other:
                raise KeyError("inside")
        assert other.closed


def test_progress_is_called_after_each_window(month: tuple[wb.Organisation, bytes], tmp_path: Path) -> None:
    calls: list[tuple[datetime, datetime, int]] = []

    def progress(start: datetime, end: datetime, records: int) -> None:
        calls.append((start, end, records))

    with _sandbox(month, 900) as sandbox, _feed(sandbox) as feed:
        done = feed.fetch("2024-06-01", "2024-06-30", out=tmp_path / "june.json", progress=progress)
    assert done["windows"] == len(calls) == 60
    assert sum(records for _, _, records in calls) == done["records"] == 900
    assert calls[0][0] == datetime(2024, 6, 1, tzinfo=timezone.utc)
    assert calls[-1][1] == datetime(2024, 7, 1, tzinfo=timezone.utc)
    assert all(end - start == timedelta(hours=12) for start, end, _ in calls)
    assert all(a[1] == b[0] for a, b in zip(calls, calls[1:]))
    # Each window's count is the number of its records in the file.
    items = json.loads((tmp_path / "june.json").read_text())["items"]
    for start, end, records in calls:
        inside = [i for i in items if start <= datetime.fromisoformat(i["Start time"].replace("Z", "+00:00")) < end]
        assert len(inside) == records, (start, end)


class _Stop(Exception):
    pass


def test_an_exception_in_progress_stops_the_fetch_for_a_resume(
    month: tuple[wb.Organisation, bytes], tmp_path: Path
) -> None:
    out = tmp_path / "june.json"
    checkpoint = tmp_path / "june.json.checkpoint"
    seen: list[datetime] = []

    def stop_after_three(start: datetime, end: datetime, records: int) -> None:
        seen.append(start)
        if len(seen) == 3:
            raise _Stop(f"stopped at {end:%Y-%m-%dT%H}")

    with _sandbox(month, 900) as sandbox, _feed(sandbox) as feed:
        with pytest.raises(_Stop, match="stopped at 2024-06-02T12"):
            feed.fetch("2024-06-01", "2024-06-30", out=out, progress=stop_after_three)
        assert len(seen) == 3
        assert not out.exists()
        assert json.loads(checkpoint.read_text())["windows"] == 3
        # Without resume the checkpoint is refused; with it the fetch goes on at the fourth window.
        with pytest.raises(wb.BillingError, match="checkpoint"):
            feed.fetch("2024-06-01", "2024-06-30", out=out)
        resumed: list[datetime] = []
        done = feed.fetch(
            "2024-06-01", "2024-06-30", out=out, resume=True, progress=lambda s, e, n: resumed.append(s)
        )
    assert resumed[0] == datetime(2024, 6, 2, 12, tzinfo=timezone.utc)
    assert len(resumed) == 57
    assert done == {"windows": 60, "records": 900, "bytes": out.stat().st_size}
    assert not checkpoint.exists()
    ids = [item["Report ID"] for item in json.loads(out.read_text())["items"]]
    assert sorted(ids) == sorted(f"r{i}" for i in range(900))  # every record once: no window twice


def test_progress_must_be_callable(tmp_path: Path) -> None:
    feed = wb.CdrFeed(token="t", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(TypeError, match="progress: expected a callable, not int"):
        feed.fetch("2024-06-01", "2024-06-01", out=tmp_path / "x.json", progress=3)  # type: ignore[arg-type]
    assert not (tmp_path / "x.json.partial").exists()


def test_the_client_logs_each_request_through_logging(
    month: tuple[wb.Organisation, bytes], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    org, events = month
    with wb.Sandbox.start(
        org,
        events,
        today=date(2024, 7, 1),
        cdrs=_records(300),
        cdr_initial_per_minute=1000,
        cdr_pages_per_minute=1000,
    ) as sandbox:
        partner_token = sandbox.partner_token
        assert partner_token is not None
        token: str = partner_token
        feed = wb.CdrFeed(token=token, base_url=sandbox.base_url, initial_per_minute=1000, pages_per_minute=1000)
        # The loggers' levels are those of `logging`: WARNING by default, so no request is logged.
        feed.fetch("2024-06-01", "2024-06-02", out=tmp_path / "quiet.json")
        assert not [r for r in caplog.records if r.name.startswith("webex_wholesale_client")]
        with caplog.at_level(logging.INFO, logger="webex_wholesale_client"):
            feed.fetch("2024-06-01", "2024-06-02", out=tmp_path / "two-days.json")
        feed.close()
    answered = [r for r in caplog.records if "answered" in r.getMessage()]
    assert len(answered) >= 4, [r.getMessage() for r in caplog.records]
    assert all(r.name.startswith("webex_wholesale_client") for r in answered)
    assert all("GET /v1/cdr_feed" in r.getMessage() and "status=200" in r.getMessage() for r in answered)
    assert all(r.levelno == logging.INFO for r in answered)
    assert not any(token in r.getMessage() for r in caplog.records)
    assert not any("startTime=" in r.getMessage() for r in caplog.records)
    assert (tmp_path / "quiet.json").read_bytes() == (tmp_path / "two-days.json").read_bytes()
