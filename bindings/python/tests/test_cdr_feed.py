"""The CDR feed client against the sandbox: a period fetched into a file, resumable; errors typed."""

from __future__ import annotations

import json
from datetime import date
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
