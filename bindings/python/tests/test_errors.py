"""The exception hierarchy and the mapping of every error class of the Rust crates onto it."""

from __future__ import annotations

import pickle
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import EVENTS_CSV

import wholesale_billing as wb

TEN_MS = timedelta(milliseconds=10)
FIFTY_MS = timedelta(milliseconds=50)


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (wb.BillingError, (Exception,)),
        (wb.BillingInputError, (wb.BillingError, ValueError)),
        (wb.CurrencyMismatchError, (wb.BillingInputError, ValueError)),
        (wb.PricingError, (wb.BillingInputError, ValueError)),
        (wb.BillingIOError, (wb.BillingError, OSError)),
        (wb.BillingOverflowError, (wb.BillingError, OverflowError)),
        (wb.ApiError, (wb.BillingError,)),
        (wb.ReportFailedError, (wb.ApiError, wb.BillingError)),
        (wb.TransportError, (wb.BillingError, ConnectionError, OSError)),
        (wb.ClientTimeoutError, (wb.BillingError, TimeoutError, OSError)),
        (wb.ClientClosedError, (wb.BillingError, RuntimeError)),
        (wb.SandboxError, (wb.BillingError,)),
    ],
)
def test_hierarchy(cls: type[BaseException], bases: tuple[type[BaseException], ...]) -> None:
    for base in bases:
        assert issubclass(cls, base)
    assert cls.__module__ == "wholesale_billing"
    assert cls.__doc__
    # Raisable and catchable from Python code too.
    with pytest.raises(wb.BillingError):
        raise cls("boom")


def test_every_core_error_kind_maps_to_a_named_exception() -> None:
    from wholesale_billing import _wholesale_billing as native

    classes = native._error_classes()
    exported = {getattr(wb, name) for name in wb.__all__}
    # One entry per variant of the core's error enum (its ErrorKind), each a named class of the
    # package: never a bare Exception or RuntimeError.
    assert len(classes) >= 60
    for kind, cls in classes.items():
        assert cls in exported and cls.__module__ == "wholesale_billing", kind
        assert issubclass(cls, wb.BillingError) and cls not in (Exception, RuntimeError), kind
    # Only what is not the caller's input (a document that cannot be written, a failed thread)
    # is the base class itself.
    assert {k for k, c in classes.items() if c is wb.BillingError} == {
        "WriteToml",
        "WriteJson",
        "ThreadFailed",
        "GeneratorPackageMissing",
    }
    assert classes["MissingRate"] is wb.PricingError
    assert classes["MissingPrice"] is wb.PricingError
    assert classes["WrongReportLevel"] is wb.PricingError
    assert classes["CurrencyMismatch"] is wb.CurrencyMismatchError
    assert classes["InvalidFile"] is wb.BillingInputError
    assert classes["InvalidUtf8"] is wb.BillingInputError
    assert classes["Io"] is wb.BillingIOError
    assert classes["Overflow"] is wb.BillingOverflowError


def test_located_errors_carry_their_line(tmp_path: Path) -> None:
    usage = wb.UsageReport.read_csv(b"SKU,QUANTITY\nA,1\nB,2\n", period="2024-05")
    with pytest.raises(wb.PricingError) as info:
        wb.expected_vendor_invoice(usage, wb.WholesaleRateCard("USD", {"A": 1}))
    assert info.value.line == 3
    assert str(info.value) == "no wholesale rate for SKU B, needed by line 3 of usage report 1 (the rate card has A)"
    bad = tmp_path / "org.toml"
    bad.write_bytes(b'[partner]\norg_id = "p"\nname = "Caf\xe9"\nsubscription_id = "S"\n')
    with pytest.raises(wb.BillingInputError) as located:
        wb.Organisation.from_file(bad)
    assert (located.value.line, located.value.column) == (3, 12)
    assert str(located.value).startswith("organisation file: line 3, column 12: invalid utf-8 at byte 34: ")


def test_structured_attributes_have_defaults() -> None:
    error = wb.BillingInputError("x")
    assert (error.issues, error.line, error.column, error.path) == ((), None, None, None)
    api = wb.ApiError("x")
    assert (api.status, api.tracking_id, api.endpoint) == (None, None, None)
    failed = wb.ReportFailedError("x")
    assert (failed.report_id, failed.errors, failed.status) == (None, (), None)


def test_input_error_carries_issues_and_pickles(org: wb.Organisation) -> None:
    bad = EVENTS_CSV.replace(b"USER", b"HUMAN")
    with pytest.raises(wb.BillingInputError) as info:
        wb.Ledger.from_csv(bad, org)
    error = info.value
    assert "line 2, column 7 (subscriber_type)" in str(error)
    assert error.issues[0].kind == "invalid_value"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is wb.BillingInputError and str(copy) == str(error)


def test_io_error_names_the_file(tmp_path: Path, org: wb.Organisation) -> None:
    missing = tmp_path / "missing.csv"
    with pytest.raises(wb.BillingIOError) as info:
        wb.Ledger.from_csv(missing, org)
    assert isinstance(info.value, OSError)
    assert info.value.errno == 2 and info.value.filename == str(missing)
    with pytest.raises(wb.BillingIOError):
        wb.UsageReport.read_csv(b"SKU,QUANTITY\nA,1\n").to_csv(tmp_path / "no-such-dir" / "out.csv")


def test_overflow() -> None:
    usage = wb.UsageReport.read_csv(b"SKU,QUANTITY\nA,1\n").with_period("2024-05")
    huge = "7922816251426433759354395033"
    with pytest.raises(wb.BillingOverflowError, match="overflow"):
        wb.expected_vendor_invoice(
            usage, wb.WholesaleRateCard("USD", {"A": 1}), fixed_lines=[wb.FixedLine("X", huge, 100)]
        )


def test_extreme_numbers_raise_overflow_not_crash() -> None:
    # Issue 9: a price of Decimal's maximum for two units was a panic of the extension.
    usage = wb.UsageReport.read_csv(b"CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,62\n", period="2024-05")
    book = wb.PriceBook.from_toml('currency = "USD"\n[skus."A-W-WXC-CALL-U"]\nprice = "79228162514264337593543950335"\n')
    org = wb.Organisation(wb.Partner("p-1", "Acme", "S"))
    with pytest.raises(wb.BillingOverflowError, match="price × units for SKU A-W-WXC-CALL-U of customer c1"):
        wb.bill_month(usage, org, book)
    huge = b"SKU,QUANTITY\nA,900000000000000\nB,900000000000000\n"
    with pytest.raises(wb.BillingOverflowError, match="user-days"):
        wb.UsageReport.read_csv(huge).total_quantity()


def test_type_errors_are_plain() -> None:
    with pytest.raises(TypeError):
        wb.Ledger.from_csv(42, wb.Organisation(wb.Partner("p", "P", "S")))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a decimal.Decimal"):
        wb.Money([1], "USD")  # type: ignore[arg-type]


def test_client_configuration_errors_are_input_errors() -> None:
    with pytest.raises(wb.BillingInputError, match="not an absolute http"):
        wb.WebexClient(token="t", base_url="ftp://example.invalid/v1")
    with pytest.raises(wb.BillingInputError, match="query"):
        wb.WebexClient(token="t", base_url="http://127.0.0.1:9/v1?x=1")


def test_transport_error() -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    client = wb.WebexClient(token="t", base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=5)
    with pytest.raises(wb.TransportError) as info:
        client.list_reports()
    assert isinstance(info.value, ConnectionError)
    # The root cause is in the message, once.
    message = str(info.value)
    assert "refused" in message.lower(), message
    assert message.count("error sending request") == 1, message


def test_api_errors_carry_status_and_tracking_id(month: tuple[wb.Organisation, bytes]) -> None:
    org, events = month
    with wb.Sandbox.start(org, events, today="2024-06-15", report_delay_ms=10) as sandbox:
        intruder = wb.WebexClient(token="not-a-token", base_url=sandbox.base_url, max_retries=0)
        with pytest.raises(wb.ApiError) as info:
            intruder.list_reports()
        assert info.value.status == 401
        assert info.value.tracking_id
        assert info.value.endpoint

        client = sandbox.webex_client()
        with pytest.raises(wb.ApiError) as info:
            client.get_report("bm90LWEtcmVwb3J0")
        assert info.value.status in (400, 404)
        with pytest.raises(wb.ApiError, match="not in the past") as info:
            client.create_report("2024-06-01", "2024-06-30", level="user")
        assert info.value.status == 400


def test_deadline_is_a_timeout(month: tuple[wb.Organisation, bytes]) -> None:
    org, events = month
    with wb.Sandbox.start(org, events, today="2024-06-15", report_delay_ms=60_000) as sandbox:
        client = sandbox.webex_client()
        created = client.create_report("2024-05", level="partner")
        with pytest.raises(wb.ClientTimeoutError, match="deadline") as info:
            client.wait_until_complete(created.id, poll_interval=TEN_MS, timeout=FIFTY_MS)
        assert isinstance(info.value, TimeoutError)


def test_sandbox_errors(tmp_path: Path, org: wb.Organisation) -> None:
    with pytest.raises(wb.BillingInputError, match="dataset") as info:
        wb.Sandbox.start(org, EVENTS_CSV.replace(b"webex_calling", b"nope"))
    assert info.value.issues[0].kind == "unknown_package"
    with pytest.raises(wb.BillingInputError, match="neither the partner nor a sub-partner"):
        wb.Sandbox.start(org, EVENTS_CSV, tokens={"stranger": "tok"})
    with pytest.raises(wb.SandboxError):
        wb.Sandbox.start(org, EVENTS_CSV, db_path=tmp_path)
    with pytest.raises(ValueError, match="HOST:PORT"):
        wb.Sandbox.start(org, EVENTS_CSV, addr="nowhere")
