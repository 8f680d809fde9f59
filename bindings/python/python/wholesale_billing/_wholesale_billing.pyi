"""Type stubs of the native module ``wholesale_billing._wholesale_billing``.

Amounts and quantities are ``decimal.Decimal`` (a ``float`` is refused with ``TypeError``);
instants are aware ``datetime`` objects in UTC; dates are ``datetime.date``.

The rules the numbers follow (the events and organisation files, hour policies, report columns,
rounding, invoices, reconciliation classes and the sign of a money impact) are described in the
guide, ``docs/`` in the repository.
"""

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any, Literal, TypedDict, Union

from typing_extensions import CapsuleType, Protocol, Self, TypeAlias, final

__all__ = [
    "__version__",
    "DEFAULT_BASE_URL",
    "BillingError",
    "BillingInputError",
    "CurrencyMismatchError",
    "PricingError",
    "BillingIOError",
    "BillingOverflowError",
    "ApiError",
    "ReportFailedError",
    "TransportError",
    "ClientTimeoutError",
    "ClientClosedError",
    "SandboxError",
    "Period",
    "Money",
    "Partner",
    "SubPartner",
    "CatalogEntry",
    "Organisation",
    "LoadIssue",
    "Diagnostics",
    "RowKey",
    "LedgerCustomer",
    "Ledger",
    "ReportRow",
    "UsageReport",
    "WholesaleRate",
    "WholesaleRateCard",
    "PriceBook",
    "FixedLine",
    "VendorInvoiceLine",
    "VendorInvoice",
    "BandUse",
    "InvoiceLine",
    "Invoice",
    "MarginRow",
    "MarginReport",
    "MonthlyBilling",
    "Finding",
    "FindingGroup",
    "ReconciliationSummary",
    "Reconciliation",
    "PlantedDiscrepancy",
    "BillingReport",
    "BillingReportSummary",
    "CreatedReport",
    "FetchedUsage",
    "WebexSubPartner",
    "WebexCustomer",
    "WebexClient",
    "CdrFeed",
    "CcwsClient",
    "Sandbox",
    "expected_vendor_invoice",
    "bill_month",
    "reconcile",
    "plant_discrepancies",
    "generate",
    "generate_calls",
    "Tariff",
    "RatingResult",
    "rate",
]

_Path: TypeAlias = Union[str, "os.PathLike[str]"]
_Source: TypeAlias = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]
_DecimalLike: TypeAlias = Union[Decimal, int, str]
_DateLike: TypeAlias = Union[date, str]
_InstantLike: TypeAlias = Union[datetime, str]
_PeriodLike: TypeAlias = Union["Period", str]
_CdrInput: TypeAlias = Union[str, "os.PathLike[str]", bytes, bytearray]
_Duration: TypeAlias = Union[timedelta, int]
_Level: TypeAlias = Literal["user", "customer", "partner", "USER", "CUSTOMER", "PARTNER"]
_HourPolicy: TypeAlias = Literal["started", "completed", "exact"]
_Rounding: TypeAlias = Union[str, Mapping[str, str], None]

class _ArrowStreamExportable(Protocol):
    """Anything that exports an Arrow C stream (pyarrow, polars, DuckDB, pandas tables...)."""

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

class _Faults(TypedDict, total=False):
    every_429: int
    retry_after_secs: int
    percent_5xx: int
    seed: int
    lost_create: int
    failed_create: int

__version__: str
DEFAULT_BASE_URL: str

# ---- exceptions ----

class BillingError(Exception):
    """Base class of every error raised by wholesale_billing."""

class BillingInputError(BillingError, ValueError):
    """Bad input (a malformed file, row, date, amount or name); also a ValueError."""

    issues: tuple[LoadIssue, ...]
    line: int | None
    column: int | None
    path: str | None
    file: str | None

class CurrencyMismatchError(BillingInputError):
    expected: str | None
    found: str | None

class PricingError(BillingInputError): ...
class BillingIOError(BillingError, OSError): ...
class BillingOverflowError(BillingError, OverflowError): ...

class ApiError(BillingError):
    status: int | None
    tracking_id: str | None
    endpoint: str | None
    host: str | None
    """A 451 from the CDR feed: the analytics host the answer names (``None`` otherwise)."""
    region: str | None
    """A 451 from the CDR feed: that host's region (``us``, ``eu``, ...), when known."""

class ReportFailedError(ApiError):
    report_id: str | None
    errors: tuple[tuple[int | None, str | None], ...]

class TransportError(BillingError, ConnectionError): ...
class ClientTimeoutError(BillingError, TimeoutError): ...

class ClientClosedError(BillingError, RuntimeError):
    """A ``WebexClient``, ``CcwsClient`` or ``CdrFeed`` was called after ``close()`` or the end of its ``with`` block."""

class SandboxError(BillingError): ...

def _error_classes() -> dict[str, type[BillingError]]:
    """The exception class of every kind of error of the core crate, by kind name (for the tests)."""

# ---- periods and money ----

@final
class Period:
    """An inclusive range of UTC dates."""

    def __new__(cls, start: _DateLike, end: _DateLike) -> Self: ...
    @staticmethod
    def month(year: int, month: int) -> Period: ...
    @staticmethod
    def parse(text: str) -> Period: ...
    @property
    def start(self) -> date: ...
    @property
    def end(self) -> date: ...
    @property
    def days(self) -> int: ...
    @property
    def start_instant(self) -> datetime: ...
    @property
    def end_exclusive(self) -> datetime: ...
    def __contains__(self, key: object, /) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Money:
    """An exact amount in an ISO 4217 currency."""

    def __new__(cls, amount: _DecimalLike, currency: str) -> Self: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...
    @property
    def minor_unit(self) -> int:
        """The decimals of the currency's minor unit (2 for USD, 0 for JPY)."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

# ---- organisation ----

@final
class Partner:
    def __new__(cls, org_id: str, name: str, subscription_id: str) -> Self: ...
    @property
    def org_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def subscription_id(self) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class SubPartner:
    def __new__(cls, org_id: str, name: str, billing_start: _InstantLike | None = None) -> Self: ...
    @property
    def org_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def billing_start(self) -> datetime | None: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class CatalogEntry:
    @property
    def package(self) -> str: ...
    @property
    def service_name(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def placeholder(self) -> bool: ...

@final
class Organisation:
    def __new__(
        cls,
        partner: Partner,
        sub_partners: Iterable[SubPartner] | None = None,
        catalog: Mapping[str, Mapping[str, str | None]] | None = None,
    ) -> Self: ...
    @staticmethod
    def from_file(path: _Path) -> Organisation: ...
    @staticmethod
    def from_toml(text: str) -> Organisation: ...
    @staticmethod
    def from_json(text: str) -> Organisation: ...
    @property
    def partner(self) -> Partner: ...
    @property
    def sub_partners(self) -> list[SubPartner]: ...
    @property
    def catalog(self) -> list[CatalogEntry]: ...
    def catalog_entry(self, package: str) -> CatalogEntry | None: ...
    def sub_partner(self, org_id: str) -> SubPartner: ...
    def to_toml(self) -> str: ...
    def to_json(self) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...

# ---- ledger ----

_IssueKind: TypeAlias = Literal[
    "malformed_csv",
    "missing_field",
    "invalid_value",
    "missing_offset",
    "unknown_package",
    "unknown_sub_partner",
    "customer_owner_conflict",
    "duplicate_event",
    "conflicting_event_id",
    "remove_without_assignment",
    "redundant_assign",
    "malformed_json",
    "duplicate_record",
    "conflicting_record_id",
    "unknown_customer",
    "no_destination",
    "outside_period",
]

@final
class LoadIssue:
    def __new__(
        cls,
        severity: Literal["error", "warning"],
        line: int,
        kind: _IssueKind,
        message: str,
        *,
        column: int | None = None,
        field: str | None = None,
        event_id: str | None = None,
    ) -> Self: ...
    @property
    def severity(self) -> Literal["error", "warning"]: ...
    @property
    def kind(self) -> _IssueKind: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int | None: ...
    @property
    def field(self) -> str | None: ...
    @property
    def event_id(self) -> str | None: ...
    @property
    def input(self) -> int | None:
        """The 0-based index of the input among several read as one (call record files)."""
    @property
    def row_group(self) -> int | None:
        """The 1-based row group of a Parquet file the row is in; ``line`` is then its row in it."""
    @property
    def message(self) -> str: ...
    @property
    def is_error(self) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Diagnostics:
    @property
    def rows_read(self) -> int: ...
    @property
    def rows_accepted(self) -> int: ...
    @property
    def issues(self) -> list[LoadIssue]: ...
    @property
    def error_count(self) -> int: ...
    @property
    def warning_count(self) -> int: ...

@final
class RowKey:
    @property
    def customer_org_id(self) -> str: ...
    @property
    def subscriber_id(self) -> str: ...
    @property
    def package(self) -> str: ...
    @property
    def location_id(self) -> str: ...
    @property
    def license_id(self) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class LedgerCustomer:
    @property
    def org_id(self) -> str: ...
    @property
    def external_id(self) -> str: ...
    @property
    def sub_partner_org_id(self) -> str | None: ...
    @property
    def packages(self) -> list[str]: ...

@final
class Ledger:
    """A partner's package-assignment history, validated and compiled."""

    @staticmethod
    def from_csv(source: _Source, org: Organisation, *, lenient: bool = False) -> Ledger: ...
    @staticmethod
    def from_records(org: Organisation, records: Iterable[Mapping[str, Any]], *, lenient: bool = False) -> Ledger: ...
    @staticmethod
    def from_dataframe(org: Organisation, df: Any, *, lenient: bool = False) -> Ledger: ...
    @staticmethod
    def from_arrow(org: Organisation, data: _ArrowStreamExportable, *, lenient: bool = False) -> Ledger: ...
    @property
    def organisation(self) -> Organisation: ...
    @property
    def diagnostics(self) -> Diagnostics: ...
    @property
    def row_key_count(self) -> int: ...
    @property
    def subscriber_count(self) -> int: ...
    @property
    def customer_count(self) -> int: ...
    def customers(self) -> list[LedgerCustomer]: ...
    def intervals(self) -> list[tuple[RowKey, datetime, datetime | None]]: ...
    def usage_report(
        self,
        start: _PeriodLike | date,
        end: _DateLike | None = None,
        *,
        level: _Level = "user",
        sub_partner: str | None = None,
        all: bool = False,
        hour_policy: _HourPolicy = "started",
    ) -> UsageReport: ...
    def write_usage_csv(
        self,
        path: _Path,
        start: _PeriodLike | date,
        end: _DateLike | None = None,
        *,
        level: _Level = "user",
        sub_partner: str | None = None,
        all: bool = False,
        hour_policy: _HourPolicy = "started",
    ) -> int: ...
    def explain_subscriber(
        self,
        subscriber_id: str,
        start: _PeriodLike | date,
        end: _DateLike | None = None,
        *,
        hour_policy: _HourPolicy = "started",
    ) -> list[tuple[RowKey, list[Decimal]]]: ...

# ---- usage reports ----

@final
class ReportRow:
    """One row of a usage report; attributes a level does not have are empty."""

    @property
    def partner_name(self) -> str: ...
    @property
    def partner_org_id(self) -> str: ...
    @property
    def subscription_id(self) -> str: ...
    @property
    def customer_org_id(self) -> str: ...
    @property
    def customer_external_id(self) -> str: ...
    @property
    def subscriber_type(self) -> Literal["USER", "WORKSPACE"] | None: ...
    @property
    def subscriber_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def workspace_id(self) -> str: ...
    @property
    def service_name(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def consumption_start(self) -> datetime | None: ...
    @property
    def consumption_end(self) -> datetime | None: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def location_id(self) -> str: ...
    @property
    def license_id(self) -> str: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class UsageReport:
    """A usage report in the Webex billing report's form."""

    @staticmethod
    def read_csv(
        source: _Source, *, level: _Level | None = None, lenient: bool = False, period: _PeriodLike | None = None
    ) -> UsageReport: ...
    @staticmethod
    def from_arrow(
        data: _ArrowStreamExportable,
        *,
        level: _Level | None = None,
        lenient: bool = False,
        period: _PeriodLike | None = None,
    ) -> UsageReport: ...
    @staticmethod
    def concat(reports: Iterable[UsageReport]) -> UsageReport: ...
    @staticmethod
    def subscription_total(reports: Iterable[UsageReport]) -> UsageReport: ...
    @property
    def level(self) -> Literal["USER", "CUSTOMER", "PARTNER"]: ...
    @property
    def period(self) -> Period | None: ...
    def with_period(self, period: _PeriodLike) -> UsageReport: ...
    @property
    def columns(self) -> list[str]: ...
    @property
    def diagnostics(self) -> Diagnostics | None: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[ReportRow]: ...
    def __getitem__(self, key: int, /) -> ReportRow: ...
    def aggregate(self, level: _Level) -> UsageReport: ...
    def sorted(self) -> UsageReport: ...
    def quantity_by_sku(self) -> dict[str, Decimal]: ...
    def total_quantity(self) -> Decimal: ...
    def to_dicts(self) -> list[dict[str, Any]]: ...
    def to_pandas(self) -> Any: ...
    def to_polars(self) -> Any: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> CapsuleType: ...
    def to_csv(self, path: _Path | None = None) -> str | None: ...

# ---- rates ----

@final
class WholesaleRate:
    def __new__(
        cls,
        sku: str,
        rate: _DecimalLike,
        *,
        committed_rate: _DecimalLike | None = None,
        description: str = "",
        unit_of_measure: str = "",
        charge_type: str = "",
    ) -> Self: ...
    @property
    def sku(self) -> str: ...
    @property
    def rate(self) -> Decimal: ...
    @property
    def committed_rate(self) -> Decimal | None: ...
    @property
    def description(self) -> str: ...
    @property
    def unit_of_measure(self) -> str: ...
    @property
    def charge_type(self) -> str: ...
    def committed_or_list(self) -> Decimal: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class WholesaleRateCard:
    def __new__(
        cls, currency: str, rates: Iterable[WholesaleRate] | Mapping[str, _DecimalLike] | None = None
    ) -> Self: ...
    @staticmethod
    def from_file(path: _Path) -> WholesaleRateCard: ...
    @staticmethod
    def from_csv(source: _Source) -> WholesaleRateCard: ...
    @staticmethod
    def from_toml(text: str) -> WholesaleRateCard: ...
    @staticmethod
    def from_json(text: str) -> WholesaleRateCard: ...
    @staticmethod
    def from_offer_details_json(text: str) -> WholesaleRateCard: ...
    @property
    def currency(self) -> str: ...
    @property
    def rates(self) -> list[WholesaleRate]: ...
    def get(self, sku: str) -> WholesaleRate | None: ...
    def rate(self, sku: str) -> WholesaleRate: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object, /) -> bool: ...
    def __getitem__(self, key: str, /) -> WholesaleRate: ...
    def to_csv(self, path: _Path | None = None) -> str | None: ...
    def to_toml(self) -> str: ...
    def to_json(self) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class PriceBook:
    @staticmethod
    def from_file(path: _Path) -> PriceBook: ...
    @staticmethod
    def from_toml(text: str) -> PriceBook: ...
    @staticmethod
    def from_json(text: str) -> PriceBook: ...
    @property
    def currency(self) -> str: ...
    @property
    def skus(self) -> list[str]: ...
    @property
    def customers(self) -> list[str]: ...
    @property
    def sub_partners(self) -> list[str]: ...
    def to_json(self) -> str: ...

# ---- invoices ----

@final
class FixedLine:
    def __new__(cls, sku: str, quantity: _DecimalLike, rate: _DecimalLike, description: str = "") -> Self: ...
    @property
    def sku(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def rate(self) -> Decimal: ...

@final
class VendorInvoiceLine:
    @property
    def sku(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def kind(self) -> Literal["usage", "committed_spend", "overage", "tax", "other"]: ...
    @property
    def period(self) -> Period | None: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def rate(self) -> Decimal: ...
    @property
    def extended(self) -> Money: ...
    @property
    def user_days(self) -> Decimal | None: ...
    @property
    def days_in_period(self) -> int | None: ...
    @property
    def source_line(self) -> int | None: ...

@final
class VendorInvoice:
    @staticmethod
    def read_csv(source: _Source) -> VendorInvoice: ...
    @property
    def currency(self) -> str: ...
    @property
    def period(self) -> Period | None: ...
    @property
    def lines(self) -> list[VendorInvoiceLine]: ...
    @property
    def overage_basis(self) -> list[VendorInvoiceLine]: ...
    @property
    def stated_total(self) -> Money | None: ...
    @property
    def diagnostics(self) -> Diagnostics | None: ...
    @property
    def total(self) -> Money: ...
    def total_of(self, kind: str) -> Money: ...
    def usage_quantity_by_sku(self) -> dict[str, Decimal]: ...
    def to_csv(self, path: _Path | None = None) -> str | None: ...
    def to_json(self) -> str: ...
    def to_dicts(self) -> list[dict[str, Any]]: ...
    def to_pandas(self) -> Any: ...
    def to_polars(self) -> Any: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> CapsuleType: ...

@final
class BandUse:
    @property
    def band(self) -> int: ...
    @property
    def units(self) -> Decimal: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def amount(self) -> Decimal: ...

@final
class InvoiceLine:
    @property
    def sku(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def location_id(self) -> str | None: ...
    @property
    def user_days(self) -> Decimal: ...
    @property
    def days_in_period(self) -> int: ...
    @property
    def unit_mode(self) -> Literal["prorated", "whole_units"]: ...
    @property
    def units(self) -> Decimal: ...
    @property
    def unit_price(self) -> Decimal | None: ...
    @property
    def tiers(self) -> Literal["volume", "graduated"] | None: ...
    @property
    def bands(self) -> list[BandUse]: ...
    @property
    def amount(self) -> Money: ...
    @property
    def derivation(self) -> str: ...

@final
class Invoice:
    @property
    def bill_to(self) -> Literal["customer", "sub_partner"]: ...
    @property
    def org_id(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def issuer_org_id(self) -> str: ...
    @property
    def issuer_name(self) -> str: ...
    @property
    def period(self) -> Period: ...
    @property
    def currency(self) -> str: ...
    @property
    def lines(self) -> list[InvoiceLine]: ...
    @property
    def subtotal(self) -> Money: ...
    @property
    def discount_percent(self) -> Decimal: ...
    @property
    def discount(self) -> Money: ...
    @property
    def minimum_charge(self) -> Money: ...
    @property
    def minimum_top_up(self) -> Money: ...
    @property
    def tax_percent(self) -> Decimal: ...
    @property
    def tax(self) -> Money: ...
    @property
    def total(self) -> Money: ...
    def net(self) -> Money: ...
    def to_csv(self, path: _Path | None = None) -> str | None: ...
    def to_json(self) -> str: ...

@final
class MarginRow:
    @property
    def dimension(self) -> Literal["customer", "sub_partner", "sku"]: ...
    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def revenue(self) -> Money: ...
    @property
    def cost(self) -> Money: ...
    @property
    def margin(self) -> Money: ...

@final
class MarginReport:
    @property
    def currency(self) -> str: ...
    @property
    def rows(self) -> list[MarginRow]: ...
    def to_csv(self, path: _Path | None = None) -> str | None: ...
    def to_dicts(self) -> list[dict[str, Any]]: ...
    def to_pandas(self) -> Any: ...
    def to_polars(self) -> Any: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> CapsuleType: ...
    def __len__(self) -> int: ...

@final
class MonthlyBilling:
    @property
    def period(self) -> Period: ...
    @property
    def currency(self) -> str: ...
    @property
    def customer_invoices(self) -> list[Invoice]: ...
    @property
    def sub_partner_invoices(self) -> list[Invoice]: ...
    def invoices(self) -> list[Invoice]: ...
    @property
    def margin(self) -> MarginReport | None: ...
    @property
    def grand_total(self) -> Money: ...
    def summary_csv(self, path: _Path | None = None) -> str | None: ...
    def to_json(self) -> str: ...
    def to_dicts(self) -> list[dict[str, Any]]: ...
    def to_pandas(self) -> Any: ...
    def to_polars(self) -> Any: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> CapsuleType: ...

def expected_vendor_invoice(
    usage: UsageReport | Iterable[UsageReport],
    rates: WholesaleRateCard,
    *,
    committed: Money | _DecimalLike | None = None,
    fixed_lines: Iterable[FixedLine | Mapping[str, Any]] | None = None,
    tax_percent: _DecimalLike | None = None,
    rounding: _Rounding = None,
) -> VendorInvoice: ...
def bill_month(
    usage: UsageReport,
    org: Organisation,
    price_book: PriceBook,
    *,
    rates: WholesaleRateCard | None = None,
    per_location: bool = False,
) -> MonthlyBilling: ...

# ---- reconciliation ----

_FindingClass: TypeAlias = Literal[
    "missing_from_vendor",
    "unexpected_vendor_usage",
    "quantity_mismatch",
    "sku_mismatch",
    "invoice_quantity_mismatch",
    "invoice_arithmetic",
]

@final
class Finding:
    @property
    def finding_class(self) -> _FindingClass: ...
    @property
    def customer_org_id(self) -> str: ...
    @property
    def customer_external_id(self) -> str: ...
    @property
    def subscriber_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def expected_sku(self) -> str | None: ...
    @property
    def expected(self) -> Decimal: ...
    @property
    def actual(self) -> Decimal: ...
    @property
    def difference(self) -> Decimal: ...
    @property
    def unit(self) -> Literal["user_days", "user_months", "money"]: ...
    @property
    def money_impact(self) -> Money: ...
    @property
    def detail(self) -> str: ...

@final
class FindingGroup:
    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def money_impact(self) -> Money: ...

@final
class ReconciliationSummary:
    @property
    def period(self) -> Period: ...
    @property
    def currency(self) -> str: ...
    @property
    def findings(self) -> int: ...
    @property
    def money_impact(self) -> Money: ...
    @property
    def by_class(self) -> list[FindingGroup]: ...
    @property
    def by_customer(self) -> list[FindingGroup]: ...
    @property
    def by_sku(self) -> list[FindingGroup]: ...

@final
class Reconciliation:
    @property
    def period(self) -> Period: ...
    @property
    def currency(self) -> str: ...
    @property
    def findings(self) -> list[Finding]: ...
    @property
    def is_clean(self) -> bool: ...
    def of_class(self, finding_class: _FindingClass) -> list[Finding]: ...
    def summary(self) -> ReconciliationSummary: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Finding]: ...
    def to_csv(self, path: _Path | None = None) -> str | None: ...
    def to_json(self) -> str: ...
    def to_dicts(self) -> list[dict[str, Any]]: ...
    def to_pandas(self) -> Any: ...
    def to_polars(self) -> Any: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> CapsuleType: ...

@final
class PlantedDiscrepancy:
    @property
    def finding_class(self) -> _FindingClass: ...
    @property
    def customer_org_id(self) -> str: ...
    @property
    def subscriber_id(self) -> str: ...
    @property
    def sku(self) -> str: ...
    @property
    def expected_sku(self) -> str | None: ...
    @property
    def expected(self) -> Decimal: ...
    @property
    def actual(self) -> Decimal: ...

def reconcile(
    expected: UsageReport,
    vendor_reports: UsageReport | Iterable[UsageReport],
    rates: WholesaleRateCard,
    *,
    vendor_invoice: VendorInvoice | None = None,
    tolerance: _DecimalLike | None = None,
    rounding: _Rounding = None,
    stated_invoice_total: Money | None = None,
) -> Reconciliation: ...
def plant_discrepancies(report: UsageReport, *, seed: int, count: int) -> tuple[UsageReport, list[PlantedDiscrepancy]]: ...
def generate(
    *,
    seed: int = 1,
    customers: int = 200,
    subscribers: int = 2000,
    sub_partners: int = 2,
    month: _PeriodLike = "2024-05",
    catalog: Mapping[str, Mapping[str, str | None]] | None = None,
    order: Literal["time", "customer"] = "time",
) -> tuple[Organisation, bytes]: ...

def generate_calls(
    ledger: Ledger,
    *,
    seed: int = 1,
    month: _PeriodLike = "2024-05",
    calls_per_subscriber: int = 100,
    prefixes: int = 2000,
    format: Literal["csv", "json"] = "csv",
    unknown_customer: bool = False,
    no_destination: bool = False,
) -> dict[str, bytes]:
    """A month of calls of ``ledger``'s subscribers and the tariffs to rate them: the files of
    ``wbill gen --cdrs`` (``cdrs.csv`` or ``cdrs.json``, ``tariff.toml``, ``prefixes.csv``,
    ``cost-tariff.toml``, ``cost-prefixes.csv``), byte for byte."""

# ---- minutes: tariffs and rating ----

_RatingStatus: TypeAlias = Literal[
    "unknown_customer",
    "terminating",
    "not_answered",
    "zero_duration",
    "not_charged_call_type",
    "charged",
    "no_destination",
]

# What Tariff.lookup finds for a number ("class" is a keyword: the functional form).
_TariffDestination = TypedDict(
    "_TariffDestination",
    {
        "name": str,
        "class": str,
        "prefix": str,
        "connect_fee": Decimal,
        "per_minute": Decimal,
        "initial": int,
        "subsequent": int,
    },
)

@final
class Tariff:
    """A compiled minutes tariff (SPEC §7.8): currency, rounding, charged call types, time bands,
    destinations with their longest-prefix table, and bundled minutes.

    A broken tariff raises ``BillingInputError`` located by ``line``, ``column``, ``path`` (key
    path) and, from ``load``, ``file``.
    """

    @staticmethod
    def load(path: str | os.PathLike[str]) -> Tariff:
        """Reads a TOML file (JSON by the ``.json`` extension) and its ``prefix_table`` CSV,
        named relative to the file."""
    @staticmethod
    def from_toml(text: str, *, prefix_table: _Source | None = None) -> Tariff: ...
    @staticmethod
    def from_json(text: str, *, prefix_table: _Source | None = None) -> Tariff: ...
    @property
    def currency(self) -> str: ...
    @property
    def rating_decimals(self) -> int: ...
    @property
    def charged_call_types(self) -> list[str]: ...
    @property
    def tollfree_destination(self) -> str | None: ...
    @property
    def prefix_table(self) -> str | None: ...
    @property
    def destination_count(self) -> int: ...
    @property
    def prefix_count(self) -> int: ...
    @property
    def classes(self) -> list[str]: ...
    @property
    def bands(self) -> list[tuple[str, list[str], str, str]]:
        """``(name, days, from, to)`` in the order they are tried."""
    @property
    def allowances(self) -> list[tuple[str, Decimal, list[str]]]:
        """``(package, minutes per user-month, classes)`` in the order they are drawn from."""
    def lookup(self, number: str) -> _TariffDestination | None:
        """The destination of the longest prefix matching the number's digits, or ``None``."""
    def billable_seconds(self, number: str, duration: int) -> int | None: ...
    def to_toml(self) -> str: ...
    def to_json(self) -> str: ...

class _RatingCounts(TypedDict):
    unknown_customer: int
    terminating: int
    not_answered: int
    zero_duration: int
    not_charged_call_type: int
    charged: int
    no_destination: int
    rows: int
    records_read: int
    duplicates: int
    rejected: int
    outside_period: int
    covered_calls: int

_SummaryDict = TypedDict(
    "_SummaryDict",
    {
        "CUSTOMER_ORG_ID": str,
        "DESTINATION": str,
        "CALLS": int,
        "BILLABLE_MINUTES": Decimal,
        "COVERED_MINUTES": Decimal,
        "AMOUNT": Decimal,
        "CURRENCY": str,
    },
)

@final
class RatingResult:
    """What ``rate()`` gives: the summary and the rated records as pandas DataFrames (money and
    minutes as ``decimal.Decimal``), the counts and the issues."""

    @property
    def summary(self) -> Any:
        """pandas DataFrame: ``CUSTOMER_ORG_ID, DESTINATION, CALLS, BILLABLE_MINUTES,
        COVERED_MINUTES, AMOUNT, CURRENCY``."""
    def summary_dicts(self) -> list[_SummaryDict]: ...
    @property
    def rated(self) -> Any | None:
        """pandas DataFrame of the rated records (``None`` when written to ``rated_out``)."""
    @property
    def counts(self) -> _RatingCounts: ...
    @property
    def issues(self) -> list[LoadIssue]: ...
    @property
    def currency(self) -> str: ...
    @property
    def total(self) -> Decimal: ...

def rate(
    cdrs: _CdrInput | list[_CdrInput] | tuple[_CdrInput, ...] | Any,
    tariff: Tariff,
    start: _PeriodLike | date,
    end: _DateLike | None = None,
    *,
    ledger: Ledger | None = None,
    hour_policy: _HourPolicy = "started",
    lenient: bool = False,
    rated_out: str | os.PathLike[str] | None = None,
) -> RatingResult:
    """Rates call records (paths, bytes, or a pandas or polars DataFrame) at a tariff (SPEC §7)."""

# ---- Webex and Commerce Catalog clients ----

@final
class BillingReport:
    @property
    def id(self) -> str: ...
    @property
    def billing_start_date(self) -> date: ...
    @property
    def billing_end_date(self) -> date: ...
    @property
    def report_type(self) -> Literal["USER", "CUSTOMER", "PARTNER"] | None: ...
    @property
    def category(self) -> str | None: ...
    @property
    def created(self) -> datetime | None: ...
    @property
    def created_text(self) -> str | None: ...
    @property
    def created_by(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def temp_download_url(self) -> str | None: ...
    @property
    def errors(self) -> list[tuple[int | None, str | None]]: ...

@final
class BillingReportSummary:
    @property
    def id(self) -> str: ...
    @property
    def billing_start_date(self) -> date: ...
    @property
    def billing_end_date(self) -> date: ...
    @property
    def status(self) -> str: ...
    @property
    def report_type(self) -> Literal["USER", "CUSTOMER", "PARTNER"] | None: ...
    @property
    def category(self) -> str | None: ...

@final
class CreatedReport:
    @property
    def id(self) -> str: ...
    @property
    def billing_start_date(self) -> date | None: ...
    @property
    def billing_end_date(self) -> date | None: ...
    @property
    def report_type(self) -> Literal["USER", "CUSTOMER", "PARTNER"] | None: ...

@final
class FetchedUsage:
    @property
    def report(self) -> BillingReport: ...
    @property
    def usage(self) -> UsageReport: ...
    @property
    def source(self) -> Literal["reused", "awaited", "created", "regenerated"]: ...

@final
class WebexSubPartner:
    @property
    def org_id(self) -> str: ...
    @property
    def subscription_id(self) -> str | None: ...
    @property
    def provisioning_state(self) -> str | None: ...
    @property
    def created(self) -> datetime | None: ...
    @property
    def created_text(self) -> str | None: ...
    @property
    def billing_start_date(self) -> datetime | None: ...
    @property
    def billing_start_text(self) -> str | None: ...

@final
class WebexCustomer:
    @property
    def id(self) -> str: ...
    @property
    def org_id(self) -> str | None: ...
    @property
    def external_id(self) -> str | None: ...
    @property
    def status(self) -> str | None: ...
    @property
    def packages(self) -> list[str]: ...

@final
class CdrFeed:
    """The Webex Calling CDR feed (``GET /v1/cdr_feed``) of one region: 12-hour windows, ``Link``
    paging, the documented limits (1 initial and 10 page requests a minute) honoured, resumable.

    A context manager: leaving the ``with`` block closes it, as ``close()`` does; its connections
    are closed and later calls raise ``ClientClosedError``.
    """

    def __new__(
        cls,
        *,
        token: str,
        region: Literal["us", "eu", "in", "au", "gov"] = "us",
        base_url: str | None = None,
        max: int = 5000,
        initial_per_minute: int = 1,
        pages_per_minute: int = 10,
        timeout: _Duration | None = None,
        max_retries: int | None = None,
    ) -> Self: ...
    @property
    def base_url(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None:
        """Closes the connections; later calls raise ``ClientClosedError``. Idempotent."""
    def fetch(
        self,
        start: _PeriodLike | date,
        end: _DateLike | None = None,
        *,
        out: _Path,
        resume: bool = False,
        progress: Callable[[datetime, datetime, int], object] | None = None,
    ) -> dict[str, int]:
        """Fetches the records of the period into ``out`` (``{"items": [...]}``); returns
        ``windows``, ``records`` and ``bytes``.

        ``progress(start, end, records)`` is called after each complete window (its instants as
        aware UTC datetimes, its record count); an exception it raises stops the fetch, keeping the
        checkpoint for ``resume=True``, and propagates."""
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: object) -> bool: ...

@final
class WebexClient:
    """A blocking client of the Webex Wholesale billing-report, sub-partner and customer APIs.

    A context manager: leaving the ``with`` block closes it, as ``close()`` does; its connections
    are closed and later calls raise ``ClientClosedError``.
    """

    def __new__(
        cls,
        *,
        token: str,
        base_url: str | None = None,
        timeout: _Duration | None = None,
        connect_timeout: _Duration | None = None,
        download_timeout: _Duration | None = None,
        max_retries: int | None = None,
        user_agent: str | None = None,
    ) -> Self: ...
    @property
    def base_url(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None:
        """Closes the connections; later calls raise ``ClientClosedError``. Idempotent."""
    def fetch_usage(
        self,
        start: _PeriodLike | date,
        end: _DateLike | None = None,
        *,
        level: _Level = "user",
        sub_partner: str | None = None,
        regenerate: bool = False,
        poll_interval: _Duration | None = None,
        timeout: _Duration | None = None,
        internal: bool | None = None,
    ) -> FetchedUsage: ...
    def list_reports(
        self,
        *,
        start: _DateLike | None = None,
        end: _DateLike | None = None,
        level: _Level | None = None,
        status: str | None = None,
        sub_partner: str | None = None,
        sort_by: str | None = None,
        max: int | None = None,
    ) -> list[BillingReportSummary]: ...
    def create_report(
        self,
        start: _PeriodLike | date,
        end: _DateLike | None = None,
        *,
        level: _Level = "partner",
        sub_partner: str | None = None,
        internal: bool | None = None,
    ) -> CreatedReport: ...
    def get_report(self, report_id: str) -> BillingReport: ...
    def delete_report(self, report_id: str) -> None: ...
    def wait_until_complete(
        self, report_id: str, *, poll_interval: _Duration | None = None, timeout: _Duration | None = None
    ) -> BillingReport: ...
    def download_csv(self, report: BillingReport) -> bytes: ...
    def download(self, report: BillingReport) -> UsageReport: ...
    def sub_partners(self, *, provisioning_state: str | None = None, max: int | None = None) -> list[WebexSubPartner]: ...
    def customers(
        self,
        *,
        external_id: str | None = None,
        org_id: str | None = None,
        status: str | Iterable[str] | None = None,
        on_behalf_of_sub_partner: str | None = None,
        max: int | None = None,
    ) -> list[WebexCustomer]: ...
    def customer(self, customer_id: str) -> WebexCustomer: ...
    def customer_external_ids(self, *, on_behalf_of_sub_partner: str | None = None) -> dict[str, str]: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: object) -> bool: ...

@final
class CcwsClient:
    """A blocking client of the Cisco Commerce Catalog (CCWS).

    A context manager: leaving the ``with`` block closes it, as ``close()`` does; its connections
    are closed and later calls raise ``ClientClosedError``.
    """

    def __new__(
        cls,
        *,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        token_url: str | None = None,
        api_base: str | None = None,
        price_list: str | None = None,
        timeout: _Duration | None = None,
        max_retries: int | None = None,
        user_agent: str | None = None,
    ) -> Self: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None:
        """Closes the connections; later calls raise ``ClientClosedError``. Idempotent."""
    def rate_card(self, skus: str | Iterable[str]) -> WholesaleRateCard: ...
    def price_list_rate_card(self) -> WholesaleRateCard: ...
    def offer_skus(self) -> list[str]: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: object) -> bool: ...

# ---- sandbox ----

@final
class Sandbox:
    """A local sandbox of the Webex Wholesale APIs and the Commerce Catalog."""

    @staticmethod
    def start(
        org: Organisation,
        events: _Source,
        *,
        rates: WholesaleRateCard | None = None,
        today: _DateLike | None = None,
        report_delay_ms: int = 500,
        db_path: _Path | None = None,
        addr: str | None = None,
        tokens: dict[str, str] | None = None,
        faults: _Faults | None = None,
        download_ttl: _Duration | None = None,
        create_status: int = 200,
        sub_partners_key: Literal["items", "subPartners"] = "items",
        cdrs: _Source | None = None,
        cdr_initial_per_minute: int = 1,
        cdr_pages_per_minute: int = 10,
        public_base_url: str | None = None,
        shutdown_grace: _Duration | None = None,
    ) -> Sandbox: ...
    @property
    def base_url(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def download_base_url(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def tokens(self) -> dict[str, str]: ...
    @property
    def partner_token(self) -> str | None: ...
    def token_of(self, org_id: str) -> str | None: ...
    @property
    def is_running(self) -> bool: ...
    def stats(self) -> dict[str, Any]: ...
    def webex_client(self, org_id: str | None = None) -> WebexClient: ...
    def ccws_client(self) -> CcwsClient: ...
    def stop(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *_args: object) -> bool: ...
