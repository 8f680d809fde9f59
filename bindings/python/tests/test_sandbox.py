"""The sandbox round trip: what the Webex client fetches equals what the ledger computes."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import pytest
from conftest import EVENTS_CSV

import wholesale_billing as wb

TEN_MS = timedelta(milliseconds=10)
FIFTY_MS = timedelta(milliseconds=50)

LEVELS: list[Literal["user", "customer", "partner"]] = ["user", "customer", "partner"]


@pytest.fixture(scope="module")
def sandbox(month: tuple[wb.Organisation, bytes], rates: wb.WholesaleRateCard):  # type: ignore[no-untyped-def]
    org, events = month
    with wb.Sandbox.start(org, events, rates=rates, today=date(2024, 6, 15), report_delay_ms=20) as running:
        yield running
    assert not running.is_running


def test_fetch_usage_equals_the_ledger(sandbox: wb.Sandbox, month_ledger: wb.Ledger) -> None:
    org = month_ledger.organisation
    client = sandbox.webex_client()
    assert client.base_url == sandbox.base_url
    scopes: list[str | None] = [None, *(sp.org_id for sp in org.sub_partners)]
    for sub_partner in scopes:
        for level in LEVELS:
            fetched = client.fetch_usage(
                "2024-05-01", "2024-05-31", level=level, sub_partner=sub_partner, poll_interval=TEN_MS
            )
            mine = month_ledger.usage_report("2024-05", level=level, sub_partner=sub_partner)
            assert fetched.source in ("created", "awaited")
            assert fetched.report.status == "COMPLETED"
            assert fetched.report.report_type == level.upper()
            assert fetched.usage.to_csv() == mine.to_csv()
            assert len(fetched.usage) == len(mine)
            for theirs, ours in zip(fetched.usage, mine):
                assert theirs == ours
                assert theirs.quantity == ours.quantity
    # The whole subscription from the fetched reports, as the ledger makes it.
    for level in LEVELS:
        parts = [
            client.fetch_usage("2024-05", level=level, sub_partner=sp, poll_interval=TEN_MS).usage for sp in scopes
        ]
        whole = wb.UsageReport.subscription_total(parts)
        assert whole.to_csv() == month_ledger.usage_report("2024-05", level=level, all=True).to_csv()
    again = client.fetch_usage(wb.Period.month(2024, 5), poll_interval=timedelta(milliseconds=10))
    assert again.source == "reused"
    regenerated = client.fetch_usage("2024-05", regenerate=True, poll_interval=TEN_MS)
    assert regenerated.source == "regenerated"


def test_report_life_cycle(sandbox: wb.Sandbox, month_ledger: wb.Ledger) -> None:
    client = sandbox.webex_client()
    created = client.create_report("2024-05-01", "2024-05-15", level="customer")
    assert created.id
    done = client.wait_until_complete(created.id, poll_interval=TEN_MS, timeout=30)
    assert done.status == "COMPLETED"
    assert done.created is not None and done.created.tzinfo is not None and done.created_text
    assert done.created.utcoffset() == timedelta(0)
    assert done.billing_start_date == date(2024, 5, 1) and done.billing_end_date == date(2024, 5, 15)
    assert done.temp_download_url is not None
    assert done.temp_download_url.startswith(sandbox.download_base_url)
    csv = client.download_csv(done)
    mine = month_ledger.usage_report("2024-05-01", "2024-05-15", level="customer").to_csv()
    assert csv.decode() == mine
    assert client.download(done).to_csv() == mine
    assert client.get_report(created.id).id == created.id
    listed = client.list_reports(start="2024-05-01", end="2024-05-15", level="customer")
    assert [r.id for r in listed] == [created.id]
    assert listed[0].status == "COMPLETED"
    client.delete_report(created.id)
    assert client.list_reports(start="2024-05-01", end="2024-05-15", level="customer") == []
    with pytest.raises(wb.ApiError) as info:
        client.get_report(created.id)
    assert info.value.status == 404


def test_partners_and_customers(sandbox: wb.Sandbox, month_ledger: wb.Ledger) -> None:
    org = month_ledger.organisation
    client = sandbox.webex_client()
    listed = client.sub_partners()
    assert sorted(s.org_id for s in listed) == sorted(sp.org_id for sp in org.sub_partners)
    for s in listed:
        # Instants are aware UTC datetimes; the text is kept as the API wrote it.
        if s.created_text is not None:
            assert s.created is not None and s.created.utcoffset() == timedelta(0)
        start = next(sp.billing_start for sp in org.sub_partners if sp.org_id == s.org_id)
        if start is not None and s.billing_start_text is not None:
            assert s.billing_start_date == start
    customers = client.customers()
    mine = [c for c in month_ledger.customers() if c.sub_partner_org_id is None]
    assert sorted(c.external_id or "" for c in customers) == sorted(c.external_id for c in mine)
    ids = client.customer_external_ids()
    assert ids == {c.org_id: c.external_id for c in mine}
    one = client.customer(customers[0].id)
    assert one.id == customers[0].id
    reseller = org.sub_partners[0].org_id
    theirs = client.customer_external_ids(on_behalf_of_sub_partner=reseller)
    assert theirs == {c.org_id: c.external_id for c in month_ledger.customers() if c.sub_partner_org_id == reseller}


def test_tokens_stats_and_sub_partner_clients(sandbox: wb.Sandbox, month_ledger: wb.Ledger) -> None:
    org = month_ledger.organisation
    tokens = sandbox.tokens
    assert set(tokens) == {org.partner.org_id, *(sp.org_id for sp in org.sub_partners)}
    assert sandbox.partner_token == tokens[org.partner.org_id]
    assert sandbox.token_of("nope") is None
    reseller = org.sub_partners[1].org_id
    as_reseller = sandbox.webex_client(reseller)
    fetched = as_reseller.fetch_usage("2024-05", level="partner", poll_interval=TEN_MS)
    assert fetched.usage.to_csv() == month_ledger.usage_report("2024-05", level="partner", sub_partner=reseller).to_csv()
    stats = sandbox.stats()
    assert stats["requests"] > 0 and stats["reports_created"] > 0
    assert sandbox.base_url == f"{sandbox.origin}/v1"
    assert sandbox.port > 0


def test_commerce_catalog(sandbox: wb.Sandbox, rates: wb.WholesaleRateCard) -> None:
    ccws = sandbox.ccws_client()
    card = ccws.price_list_rate_card()
    assert [(r.sku, r.rate, r.committed_rate) for r in card.rates] == [
        (r.sku, r.rate, r.committed_rate) for r in rates.rates
    ]
    assert sorted(ccws.offer_skus()) == sorted(r.sku for r in rates.rates)
    two = ccws.rate_card(["A-W-WXC-CALL-U", "A-W-CA-CALL-U"])
    assert sorted(r.sku for r in two.rates) == ["A-W-CA-CALL-U", "A-W-WXC-CALL-U"]
    assert two["A-W-WXC-CALL-U"].rate == rates["A-W-WXC-CALL-U"].rate


def test_stop_is_idempotent_and_state_persists(tmp_path: Path, month: tuple[wb.Organisation, bytes]) -> None:
    org, events = month
    db = tmp_path / "sandbox.db"
    first = wb.Sandbox.start(org, events, today="2024-06-15", report_delay_ms=10, db_path=db)
    tokens = first.tokens
    created = first.webex_client().create_report("2024-05", level="partner")
    first.stop()
    first.stop()
    assert not first.is_running
    with pytest.raises(RuntimeError, match="stopped"):
        first.stats()
    # The database keeps hashes of the tokens, never the tokens; its key file sits beside it.
    stored = db.read_bytes()
    assert all(token.encode() not in stored for token in tokens.values())
    assert (tmp_path / "sandbox.db.key").exists()
    with wb.Sandbox.start(org, events, today="2024-06-15", report_delay_ms=10, db_path=str(db)) as second:
        assert second.tokens == tokens
        assert second.webex_client().wait_until_complete(created.id, poll_interval=TEN_MS).id == created.id


def test_client_as_context_manager(sandbox: wb.Sandbox) -> None:
    token = sandbox.partner_token
    assert token is not None
    with wb.WebexClient(token=token, base_url=sandbox.base_url, timeout=timedelta(seconds=30)) as client:
        assert client.list_reports(max=1) is not None


def test_a_failed_report_raises_then_is_replaced(month: tuple[wb.Organisation, bytes]) -> None:
    org, events = month
    with wb.Sandbox.start(
        org, events, today=date(2024, 6, 15), report_delay_ms=20, faults={"failed_create": 1}
    ) as running:
        client = running.webex_client()
        with pytest.raises(wb.ReportFailedError) as info:
            client.fetch_usage("2024-05", level="user", poll_interval=TEN_MS)
        assert isinstance(info.value, wb.ApiError)
        assert info.value.report_id
        code, description = info.value.errors[0]
        assert code == 1000
        assert description is not None and "could not be generated" in description
        [failed] = client.list_reports(start="2024-05-01", end="2024-05-31", level="user")
        assert failed.status == "FAILED" and failed.id == info.value.report_id
        assert client.get_report(failed.id).temp_download_url is None
        fetched = client.fetch_usage("2024-05", level="user", poll_interval=TEN_MS)
        assert fetched.source == "created"
        assert [r.id for r in client.list_reports(level="user")] == [fetched.report.id]
        stats = running.stats()
        assert (stats["failed_creates"], stats["reports_created"]) == (1, 2)


def test_throttling_is_retried(month: tuple[wb.Organisation, bytes]) -> None:
    org, events = month
    with wb.Sandbox.start(
        org,
        events,
        today=date(2024, 6, 15),
        report_delay_ms=20,
        faults={"every_429": 3, "retry_after_secs": 0, "percent_5xx": 10, "seed": 7},
    ) as running:
        fetched = running.webex_client().fetch_usage("2024-05", level="partner", poll_interval=TEN_MS)
        assert fetched.source == "created"
        stats = running.stats()
        assert stats["faults_429"] >= 1 and stats["reports_created"] == 1


@pytest.mark.parametrize(
    ("faults", "error", "message"),
    [
        ({"every_492": 2}, wb.BillingInputError, "unknown key"),
        ({"percent_5xx": 101}, wb.BillingInputError, "0..=100"),
        ({"lost_create": -1}, wb.BillingInputError, "-1 is out of range"),
        ({"failed_create": True}, TypeError, "not bool"),
        ({"seed": "7"}, TypeError, "expected an integer, not str"),
    ],
)
def test_bad_faults_are_refused(
    month: tuple[wb.Organisation, bytes], faults: dict[str, object], error: type[Exception], message: str
) -> None:
    org, events = month
    with pytest.raises(error, match=message):
        wb.Sandbox.start(org, events, faults=faults)  # type: ignore[arg-type]


def test_expired_download_urls_202_creates_and_the_other_list_key(month: tuple[wb.Organisation, bytes]) -> None:
    org, events = month
    with wb.Sandbox.start(
        org,
        events,
        today=date(2024, 6, 15),
        report_delay_ms=20,
        download_ttl=timedelta(0),
        create_status=202,
        sub_partners_key="subPartners",
    ) as running:
        client = running.webex_client()
        created = client.create_report("2024-05", level="partner")
        done = client.wait_until_complete(created.id, poll_interval=TEN_MS)
        assert done.temp_download_url is not None
        # The URL expired as it was issued (to the second): a second later the host refuses it.
        time.sleep(1.1)
        with pytest.raises(wb.ApiError) as info:
            client.download_csv(done)
        assert info.value.status == 403
        assert "expired" in str(info.value)
        # The client reads the sub-partner list under either key.
        assert sorted(s.org_id for s in client.sub_partners()) == sorted(sp.org_id for sp in org.sub_partners)
    with pytest.raises(wb.BillingInputError, match="sub_partners_key"):
        wb.Sandbox.start(org, events, sub_partners_key="nope")  # type: ignore[arg-type]
    with pytest.raises(wb.BillingInputError, match="create_status"):
        wb.Sandbox.start(org, events, create_status=418)


def _tcp_connections(port: int) -> int | None:
    """The ESTABLISHED TCP connections on this machine with ``port`` at either end (the client's
    sockets and the server's), from Linux's /proc/net/tcp tables; ``None`` without them."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not any(t.exists() for t in tables):
        return None
    count = 0
    for table in tables:
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            local, remote, state = line.split()[1:4]
            ports = {int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)}
            if state == "01" and port in ports:  # 01: ESTABLISHED
                count += 1
    return count


def _wait_for_no_connections(port: int) -> int | None:
    """The connections left once none is, or after five seconds."""
    deadline = time.monotonic() + 5
    left = _tcp_connections(port)
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = _tcp_connections(port)
    return left


def test_clients_close_their_connections(org: wb.Organisation, rates: wb.WholesaleRateCard) -> None:
    with wb.Sandbox.start(org, EVENTS_CSV, rates=rates, today=date(2024, 6, 15), report_delay_ms=10) as running:
        port = running.port
        with running.webex_client() as client:
            assert client.list_reports() == []
            assert not client.closed
            during = _tcp_connections(port)
        assert client.closed
        assert repr(client) == f"WebexClient(base_url='{running.base_url}', closed=True)"
        assert client.base_url == running.base_url
        if during is not None:
            # The pooled keep-alive connection (both its ends) was open; leaving the block closed it,
            # and the server saw it closed too.
            assert during >= 2
            assert _wait_for_no_connections(port) == 0
        with pytest.raises(wb.ClientClosedError, match="this WebexClient is closed") as info:
            client.list_reports()
        assert isinstance(info.value, RuntimeError)
        client.close()  # again: nothing happens
        assert client.closed

        ccws = running.ccws_client()
        with ccws:
            assert "A-W-WXC-CALL-U" in ccws.offer_skus()
            during = _tcp_connections(port)
        assert ccws.closed
        if during is not None:
            assert during >= 2
            assert _wait_for_no_connections(port) == 0
        with pytest.raises(wb.ClientClosedError, match="this CcwsClient is closed"):
            ccws.price_list_rate_card()

        # close() without a with block, and a client that raised inside its block is closed too.
        other = running.webex_client()
        other.close()
        with pytest.raises(wb.ClientClosedError):
            other.sub_partners()
        with pytest.raises(wb.ApiError), running.webex_client() as failing:
            failing.get_report("bm90LWEtcmVwb3J0")
        assert failing.closed


def test_public_base_url_and_shutdown_grace(month: tuple[wb.Organisation, bytes]) -> None:
    org, events = month
    running = wb.Sandbox.start(
        org, events, public_base_url="https://sandbox.example.com/wbx", shutdown_grace=timedelta(seconds=1)
    )
    try:
        # Announced at the proxy's URL, listening on a local port.
        assert running.origin == "https://sandbox.example.com/wbx"
        assert running.base_url == "https://sandbox.example.com/wbx/v1"
        assert running.port > 0
    finally:
        running.stop()
    with pytest.raises(wb.BillingError, match="public base url"):
        wb.Sandbox.start(org, events, public_base_url="localhost:8484")
    with pytest.raises(ValueError, match="shutdown_grace"):
        wb.Sandbox.start(org, events, shutdown_grace=-1)
