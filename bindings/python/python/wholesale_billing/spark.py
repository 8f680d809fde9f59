"""Usage reports on Apache Spark, for a provider whose history does not fit one machine.

The engine that computes a subscriber's usage is the same as everywhere else (the Rust core, run
by each Spark task on its partition); Spark moves the data and does the sums:

1. the events are checked where one partition cannot see the whole: a customer named under two
   owners, and an ``event_id`` given to two subscribers, raise ``BillingInputError``; each
   customer's external id (the latest given, in time order, ties in input order) is put on
   every row of that customer, so that each partition knows it;
2. the events are repartitioned by ``subscriber_id`` and each partition's subscribers are billed
   with ``mapInArrow``: ``Ledger.from_arrow`` over the partition's Arrow batches, then the USER
   report of the period, handed back to Spark as Arrow;
3. the CUSTOMER and PARTNER reports are Spark aggregations of the USER rows, quantities summed
   in ``DecimalType(38, 4)`` (exact: the report's ten-thousandths), the consumption dates the
   earliest start and the latest end.

The results are Spark DataFrames with the report's columns (text, ``QUANTITY`` as
``DecimalType(38, 4)``, the dates as timestamps), to write where the cluster writes
(``df.write.parquet(...)``), or to collect with :func:`to_report` into a ``UsageReport`` whose CSV
is, byte for byte, what ``wbill usage`` writes from the same events.

    >>> from pyspark.sql import SparkSession                      # doctest: +SKIP
    >>> import wholesale_billing as wb, wholesale_billing.spark as wbs  # doctest: +SKIP
    >>> spark = SparkSession.builder.getOrCreate()                # doctest: +SKIP
    >>> org = wb.Organisation.from_file("org.toml")               # doctest: +SKIP
    >>> events = spark.read.parquet("events/")                    # doctest: +SKIP
    >>> reports = wbs.usage_reports(events, org, "2024-05", all=True)   # doctest: +SKIP
    >>> reports["customer"].write.parquet("customer-2024-05/")    # doctest: +SKIP
    >>> wbs.to_report(reports["partner"], "partner").to_csv("partner.csv")  # doctest: +SKIP

Every executor needs ``wholesale_billing`` (and ``pyarrow``) installed: ship the wheel with
``spark-submit --py-files`` or install it in the cluster's Python environment (see the README).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

import wholesale_billing as wb

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame

__all__ = ["usage_reports", "to_report", "report_columns", "rate_calls"]

#: The columns a CUSTOMER row keeps from its USER rows (the grouping key first); the others are
#: empty at that level, as in the core's roll-up (SPEC.md §4).
_CUSTOMER_KEY = ("PARTNER_ORG_ID", "CUSTOMER_ORG_ID", "SKU", "LOCATION_ID", "LICENSE_ID")
_PARTNER_KEY = ("PARTNER_ORG_ID", "SKU")
#: Columns that depend on the key only (the partner's name on its org, a SKU's names on the SKU).
_CARRIED = ("PARTNER_NAME", "SUBSCRIPTION_ID", "SERVICE_NAME", "DESCRIPTION")


_LEVELS = ("user", "customer", "partner")


def _level(level: str) -> Any:
    """``level`` checked and in lower case; a ``ValueError`` for another name."""
    name = str(level).lower()
    if name not in _LEVELS:
        raise ValueError(f"level {level!r} is not one of {', '.join(_LEVELS)}")
    return name


_EVENT_REQUIRED = (
    "event_id",
    "occurred_at",
    "action",
    "subscriber_id",
    "customer_org_id",
    "subscriber_type",
    "package",
)


def _empty_ledger() -> wb.Ledger:
    """A ledger without events (of a placeholder partner): what the core makes of nothing gives
    the columns and Arrow types of its outputs."""
    import pyarrow as pa

    schema = pa.schema([(name, pa.string()) for name in _EVENT_REQUIRED])
    return wb.Ledger.from_arrow(wb.Organisation(wb.Partner("p", "P", "S")), schema.empty_table())


def _empty_report(level: str) -> wb.UsageReport:
    """A report of ``level`` without rows."""
    return _empty_ledger().usage_report(wb.Period.month(2024, 1), level=_level(level), all=True)


def report_columns(level: str) -> list[str]:
    """The columns of a report of ``level``, in order (those of its CSV).

    >>> report_columns("partner")[:3]
    ['PARTNER_NAME', 'PARTNER_ORG_ID', 'SUBSCRIPTION_ID']
    """
    return _empty_report(level).columns


def _arrow_schema(level: str) -> pa.Schema:
    """The Arrow schema of a report of ``level``, every column nullable (as Spark's are)."""
    import pyarrow as pa

    schema = pa.table(_empty_report(level)).schema
    return pa.schema([field.with_nullable(True) for field in schema])


def _spark_schema(level: str) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(_arrow_schema(level))


def _period(start: Any, end: Any) -> wb.Period:
    if isinstance(start, wb.Period) and end is None:
        return start
    if end is None:
        return wb.Period.parse(str(start))
    return wb.Period(start, end)


def _name(events: DataFrame, field: str) -> str | None:
    """The name of the events column of ``field`` (any case, spaces or underscores, as the CSV
    header allows)."""
    wanted = field.replace("_", "")
    for column in events.columns:
        if column.replace("_", "").replace(" ", "").lower() == wanted:
            return column
    return None


def _column(events: DataFrame, field: str) -> Any:
    """The events column of ``field`` (see :func:`_name`), or ``None``."""
    from pyspark.sql import functions as F

    name = _name(events, field)
    return None if name is None else F.col(f"`{name}`")


def _check_across_partitions(events: DataFrame) -> None:
    """Raises ``BillingInputError`` for what no single partition can see."""
    from pyspark.sql import functions as F

    action = _column(events, "action")
    customer = _column(events, "customer_org_id")
    owner = _column(events, "sub_partner_org_id")
    subscriber = _column(events, "subscriber_id")
    event_id = _column(events, "event_id")
    problems: list[str] = []
    if owner is not None:
        owners = (
            events.where(F.upper(F.trim(action)) == "ASSIGN")
            .where(F.length(F.trim(customer)) > 0)
            .groupBy(F.trim(customer).alias("customer"))
            .agg(F.countDistinct(F.coalesce(F.trim(owner), F.lit(""))).alias("owners"))
            .where(F.col("owners") > 1)
            .orderBy("customer")
            .limit(20)
            .collect()
        )
        problems += [f"customer {row['customer']!r} is named under {row['owners']} owners" for row in owners]
    shared = (
        events.groupBy(F.trim(event_id).alias("event_id"))
        .agg(F.countDistinct(F.trim(subscriber)).alias("subscribers"))
        .where(F.col("subscribers") > 1)
        .orderBy("event_id")
        .limit(20)
        .collect()
    )
    problems += [f"event_id {row['event_id']!r} is given to {row['subscribers']} subscribers" for row in shared]
    if problems:
        raise wb.BillingInputError("events: " + "; ".join(problems))


def _with_customer_external_ids(events: DataFrame) -> DataFrame:
    """Every row of a customer carries the customer's external id: the latest non-empty one given
    (by ``occurred_at``, ties in input order), as the core keeps it."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    name = _name(events, "customer_external_id")
    if name is None:
        return events
    external = F.col(f"`{name}`")
    customer = F.trim(_column(events, "customer_org_id"))
    at = _column(events, "occurred_at").cast("timestamp")
    numbered = events.withColumn("__wb_row", F.monotonically_increasing_id())
    given = (
        numbered.where(F.length(customer) > 0)
        .where(F.length(F.trim(external)) > 0)
        .select(
            customer.alias("__wb_customer"),
            F.trim(external).alias("__wb_external"),
            at.alias("__wb_at"),
            F.col("__wb_row"),
        )
    )
    latest = Window.partitionBy("__wb_customer").orderBy(F.col("__wb_at").desc(), F.col("__wb_row").desc())
    last = (
        given.withColumn("__wb_rank", F.row_number().over(latest))
        .where(F.col("__wb_rank") == 1)
        .select("__wb_customer", "__wb_external")
    )
    joined = numbered.join(last, customer == F.col("__wb_customer"), "left")
    replaced = F.when(F.length(customer) > 0, F.col("__wb_external")).otherwise(external)
    return joined.withColumn(name, replaced).drop("__wb_customer", "__wb_external", "__wb_row")


def _user_rows(
    events: DataFrame,
    org_toml: str,
    period: wb.Period,
    options: dict[str, Any],
    lenient: bool,
) -> DataFrame:
    """The USER rows of every partition's subscribers, computed by the core."""
    start, end = period.start, period.end
    schema = _arrow_schema("user")

    def bill(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        import wholesale_billing as wb

        table = pa.Table.from_batches(list(batches))
        if table.num_rows == 0:
            return
        org = wb.Organisation.from_toml(org_toml)
        ledger = wb.Ledger.from_arrow(org, table, lenient=lenient)
        report = ledger.usage_report(start, end, level="user", **options)
        yield from pa.table(report).cast(schema).to_batches()

    return events.mapInArrow(bill, _spark_schema("user"))


def _roll_up(user: DataFrame, level: str, whole_subscription_of: wb.Partner | None) -> DataFrame:
    """CUSTOMER or PARTNER rows summed from USER rows in ``DecimalType(38, 4)``; the PARTNER rows
    of the whole subscription are the partner's (``whole_subscription_of``), as the core sums
    them."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DecimalType

    if level == "partner" and whole_subscription_of is not None:
        user = user.withColumn("PARTNER_NAME", F.lit(whole_subscription_of.name)).withColumn(
            "PARTNER_ORG_ID", F.lit(whole_subscription_of.org_id)
        )

    key = _CUSTOMER_KEY if level == "customer" else _PARTNER_KEY
    columns = report_columns(level)
    aggregates = [F.first(c, ignorenulls=True).alias(c) for c in _CARRIED if c in columns]
    if "CUSTOMER_EXTERNAL_ID" in columns:
        # One external id per customer on its USER rows: the group's is that one.
        aggregates.append(F.max("CUSTOMER_EXTERNAL_ID").alias("CUSTOMER_EXTERNAL_ID"))
    aggregates += [
        F.min("CONSUMPTION_START_DATE").alias("CONSUMPTION_START_DATE"),
        F.max("CONSUMPTION_END_DATE").alias("CONSUMPTION_END_DATE"),
        F.sum("QUANTITY").cast(DecimalType(38, 4)).alias("QUANTITY"),
    ]
    grouped = user.groupBy(*key).agg(*aggregates)
    spark_schema = _spark_schema(level)
    return grouped.select(
        *[
            (F.col(f.name) if f.name in grouped.columns else F.lit(None)).cast(f.dataType).alias(f.name)
            for f in spark_schema.fields
        ]
    )


def usage_reports(
    events: DataFrame,
    org: wb.Organisation,
    start: Any,
    end: Any = None,
    *,
    levels: Sequence[str] = ("user", "customer", "partner"),
    sub_partner: str | None = None,
    all: bool = False,
    hour_policy: Literal["started", "completed", "exact"] = "started",
    lenient: bool = False,
    partitions: int | None = None,
) -> dict[str, DataFrame]:
    """The usage reports of a period from a Spark DataFrame of events, as Spark DataFrames.

    ``events`` has the columns of the events CSV (``docs/events.md``), as text, or with
    ``occurred_at`` a timestamp; ``start``/``end``, ``sub_partner``, ``all``, ``hour_policy`` and
    ``lenient`` are those of ``Ledger.usage_report`` and ``Ledger.from_arrow``. ``partitions``: how
    many partitions the subscribers are spread over (default: Spark's shuffle partitions).

    Returns ``{level: DataFrame}`` for each of ``levels``; the USER rows are computed once and the
    other levels summed from them (with several levels the USER rows are persisted, memory and
    disk: ``unpersist()`` the USER DataFrame when done). Nothing runs until a result is written or
    collected (but the checks of step 1 of the module's description, which run now).

    Raises ``BillingInputError`` for a customer under two owners or an ``event_id`` of two
    subscribers; a bad row fails the Spark job with the core's located error (strict) or is
    skipped (``lenient=True``).
    """
    period = _period(start, end)
    levels = [_level(level) for level in levels]
    _check_across_partitions(events)
    prepared = _with_customer_external_ids(events)
    subscriber = _column(prepared, "subscriber_id")
    spread = prepared.repartition(partitions, subscriber) if partitions else prepared.repartition(subscriber)
    options: dict[str, Any] = {"sub_partner": sub_partner, "all": all, "hour_policy": hour_policy}
    user = _user_rows(spread, org.to_toml(), period, options, lenient)
    if len(levels) > 1:
        from pyspark import StorageLevel

        # Computed once for every level asked for, not once per level.
        user = user.persist(StorageLevel.MEMORY_AND_DISK)
    whole = org.partner if all and sub_partner is None else None
    out: dict[str, DataFrame] = {}
    for level in levels:
        out[level] = user if level == "user" else _roll_up(user, level, whole)
    return out


def to_report(df: DataFrame, level: str, period: Any = None) -> wb.UsageReport:
    """Collects a report DataFrame of :func:`usage_reports` on the driver, in report order, as a
    ``UsageReport`` (read through Arrow by the core, every value checked as a CSV's would be):
    its ``to_csv()`` is what ``wbill usage`` writes. ``period``: as ``UsageReport.read_csv``."""
    report = wb.UsageReport.from_arrow(df.toArrow(), level=_level(level), period=period)
    return report.sorted()


#: The part of :func:`rate_calls`'s one Spark result a row belongs to.
_PART = "__wb_part"
#: The customer a row of events or of calls is grouped under.
_KEY = "__wb_customer"


def _rating_schemas(tariff: wb.Tariff) -> tuple[pa.Schema, pa.Schema]:
    """The Arrow schemas of the rated records and of the summary: text, whole numbers, and
    decimals at their fixed scales (a charge at the tariff's ``rating_decimals``, minutes at 4, an
    amount at the currency's minor unit; SPEC §7.6)."""
    import pyarrow as pa

    cdrs = "Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID\n"
    result = wb.rate(cdrs.encode(), tariff, "2024-01", ledger=_empty_ledger())
    money = wb.Money("0", tariff.currency).minor_unit
    scales = {
        "CHARGE": tariff.rating_decimals,
        "BILLABLE_MINUTES": 4,
        "COVERED_MINUTES": 4,
        "AMOUNT": money,
    }
    whole = {"DURATION", "BILLABLE_SECONDS", "COVERED_SECONDS", "CALLS"}

    def field(name: str) -> pa.Field:
        if name in scales:
            return pa.field(name, pa.decimal128(38, scales[name]))
        return pa.field(name, pa.int64() if name in whole else pa.string())

    rated_frame = result.rated
    if rated_frame is None:  # only when written to a file, which this call does not ask for
        raise RuntimeError("rate() returned no rated records")
    rated = pa.schema([field(name) for name in rated_frame.columns])
    summary = pa.schema([field(name) for name in result.summary.columns])
    return rated, summary


def rate_calls(
    cdrs: DataFrame,
    events: DataFrame,
    org: wb.Organisation,
    tariff: wb.Tariff,
    start: Any,
    end: Any = None,
    *,
    hour_policy: Literal["started", "completed", "exact"] = "started",
    lenient: bool = False,
    partitions: int | None = None,
) -> tuple[DataFrame, DataFrame]:
    """Minutes rating (SPEC §7) of a Spark DataFrame of call records, as Spark DataFrames: the
    rated records and the summary per customer and destination.

    ``cdrs`` has the columns of the Detailed Call History (``Report ID``, ``Start time``,
    ``Duration``, ``Org UUID``, ...; names compared ignoring case, spaces and underscores), as text
    or typed; ``events`` the events CSV's, as for :func:`usage_reports`, which give the customers,
    their owners and the allowance pools. The calls and events are grouped by customer (a
    subscriber's events go to every customer it was assigned to; a call to its ``Org UUID``) and
    each customer is rated by the core with ``wb.rate`` (pools sized from its USER report, used in
    ``Start time`` then ``Report ID`` order, as the engine does): the summary rows equal
    ``wb.rate``'s over the whole month, the rated records are its rows (in no particular order:
    sort by ``REPORT_ID`` for the engine's order of a time-ordered input). Decimals are exact:
    ``CHARGE`` at the tariff's ``rating_decimals``, minutes at 4, ``AMOUNT`` at the currency's
    minor unit.

    The two results come from one Spark computation, persisted so that using both does not rate
    twice; ``unpersist()`` either when done. A bad record or event fails the job with the core's
    located error (strict), or is skipped (``lenient=True``).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    import pyarrow as pa

    period = _period(start, end)
    _check_across_partitions(events)
    prepared = _with_customer_external_ids(events)
    action = _column(prepared, "action")
    subscriber = F.trim(_column(prepared, "subscriber_id"))
    customer = F.trim(_column(prepared, "customer_org_id"))
    customers_of = (
        prepared.where(F.upper(F.trim(action)) == "ASSIGN")
        .where(F.length(customer) > 0)
        .select(subscriber.alias("__wb_subscriber"), customer.alias(_KEY))
        .distinct()
    )
    keyed_events = (
        prepared.join(customers_of, subscriber == F.col("__wb_subscriber"), "left")
        .withColumn(_KEY, F.coalesce(F.col(_KEY), F.lit("")))
        .drop("__wb_subscriber")
    )
    org_column = next(
        (c for c in cdrs.columns if c.replace("_", "").replace(" ", "").lower() == "orguuid"), None
    )
    if org_column is None:
        raise wb.BillingInputError("call records: no Org UUID column (the customer of each call)")
    keyed_cdrs = cdrs.withColumn(_KEY, F.coalesce(F.trim(F.col(f"`{org_column}`")), F.lit("")))
    if partitions:
        keyed_events = keyed_events.repartition(partitions, _KEY)
        keyed_cdrs = keyed_cdrs.repartition(partitions, _KEY)

    rated_schema, summary_schema = _rating_schemas(tariff)
    names = list(rated_schema.names) + [n for n in summary_schema.names if n not in rated_schema.names]
    fields = {f.name: f for f in list(rated_schema) + list(summary_schema)}
    out_schema = pa.schema([pa.field(_PART, pa.string())] + [fields[n].with_nullable(True) for n in names])
    org_toml = org.to_toml()
    start_date, end_date = period.start, period.end
    event_names = [c for c in keyed_events.columns if c != _KEY]

    def rate_customer(events_part: pa.Table, cdrs_part: pa.Table) -> pa.Table:
        import pyarrow as pa

        import wholesale_billing as wb

        if cdrs_part.num_rows == 0:
            return out_schema.empty_table()
        customers = wb.Organisation.from_toml(org_toml)
        ledger = wb.Ledger.from_arrow(customers, events_part.select(event_names), lenient=lenient)
        calls = cdrs_part.drop_columns([_KEY]).to_pandas()
        result = wb.rate(
            calls, tariff, start_date, end_date, ledger=ledger, hour_policy=hour_policy, lenient=lenient
        )
        parts = []
        for part, frame, schema in (("rated", result.rated, rated_schema), ("summary", result.summary, summary_schema)):
            table = pa.Table.from_pandas(frame, preserve_index=False).cast(schema)
            columns = {n: table.column(n) for n in table.column_names}
            rows = table.num_rows
            parts.append(
                pa.table(
                    [pa.array([part] * rows, pa.string())]
                    + [columns[n] if n in columns else pa.nulls(rows, fields[n].type) for n in names],
                    schema=out_schema,
                )
            )
        return pa.concat_tables(parts)

    both = (
        keyed_events.groupBy(_KEY)
        .cogroup(keyed_cdrs.groupBy(_KEY))
        .applyInArrow(rate_customer, from_arrow_schema(out_schema))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    rated = both.where(F.col(_PART) == "rated").select(*rated_schema.names)
    summary = both.where(F.col(_PART) == "summary").select(*summary_schema.names)
    return rated, summary
