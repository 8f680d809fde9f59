//! `Ledger`: the assignment ledger, loaded from an events CSV, records or a data frame; load
//! diagnostics; usage reports.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::IntoPyDict;

use wholesale_billing::{
    AssignmentLedger, Diagnostics, IssueKind, LedgerBuilder, LoadIssue, LoadMode, Organisation, Owner, ReportOptions,
    RowKey, Scope, Severity,
};

use crate::convert::{
    Source, hour_policy_arg, level_arg, period_arg, py_opt_timestamp, py_quantity, py_timestamp, write_output,
};
use crate::errors::OrRaise;
use crate::org::PyOrganisation;
use crate::records::{EventTable, dataframe_table, records_table};
use crate::report::PyUsageReport;
use crate::table::arrow_stream_arg;
use crate::text::{quoted, quoted_opt};

/// An interval: its key, start and end (`None`: still open).
type Interval<'py> = (PyRowKey, Bound<'py, PyAny>, Bound<'py, PyAny>);

fn mode(lenient: bool) -> LoadMode {
    if lenient { LoadMode::Lenient } else { LoadMode::Strict }
}

/// One finding of a loader about one row: where, what and why.
///
/// ``line`` is the 1-based physical line in the file (the header is line 1), or the 1-based record
/// (row) number for records and data frames (0: the columns themselves). ``column`` is the 1-based
/// column when one field is to blame (the frame's column position; ``None`` for mappings);
/// ``field`` its name. ``severity`` is ``"error"`` (row rejected) or ``"warning"``; ``kind`` names
/// the problem (``"missing_offset"``, ``"unknown_package"``, ...).
#[pyclass(name = "LoadIssue", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyLoadIssue(pub(crate) LoadIssue);

impl From<LoadIssue> for PyLoadIssue {
    fn from(issue: LoadIssue) -> Self {
        PyLoadIssue(issue)
    }
}

#[pymethods]
impl PyLoadIssue {
    #[new]
    #[pyo3(signature = (severity, line, kind, message, *, column = None, field = None, event_id = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        severity: String,
        line: u64,
        kind: String,
        message: String,
        column: Option<usize>,
        field: Option<String>,
        event_id: Option<String>,
    ) -> PyResult<Self> {
        let severity: Severity = severity.parse().or_raise()?;
        let kind =
            IssueKind::from_name(&kind).ok_or_else(|| PyValueError::new_err(format!("unknown issue kind {kind:?}")))?;
        let mut issue = LoadIssue::new(severity, line, kind, message);
        issue.column = column;
        issue.field = field;
        issue.event_id = event_id;
        Ok(PyLoadIssue(issue))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let issue = &slf.get().0;
        let args = (
            issue.severity.to_string(),
            issue.line,
            issue.kind.as_str(),
            issue.message.clone(),
        );
        let kwargs = [
            ("column", issue.column.into_bound_py_any(py)?),
            ("field", issue.field.clone().into_bound_py_any(py)?),
            ("event_id", issue.event_id.clone().into_bound_py_any(py)?),
        ]
        .into_py_dict(py)?;
        let partial = py.import("functools")?.getattr("partial")?;
        let rebuild = partial.call((slf.get_type(),), Some(&kwargs))?;
        (rebuild, args).into_bound_py_any(py)
    }

    /// ``"error"`` (the row was rejected) or ``"warning"``.
    #[getter]
    fn severity(&self) -> String {
        self.0.severity.to_string()
    }

    /// The kind of problem, snake_case (``"missing_field"``, ``"duplicate_event"``, ...).
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    /// The 1-based line (or record number).
    #[getter]
    fn line(&self) -> u64 {
        self.0.line
    }

    /// The 1-based column of the offending field, when one field is to blame.
    #[getter]
    fn column(&self) -> Option<usize> {
        self.0.column
    }

    /// The name of the offending field.
    #[getter]
    fn field(&self) -> Option<&str> {
        self.0.field.as_deref()
    }

    /// The row's ``event_id``, when known.
    #[getter]
    fn event_id(&self) -> Option<&str> {
        self.0.event_id.as_deref()
    }

    /// The 0-based index of the input among several read as one (call record files), when the
    /// load read several.
    #[getter]
    fn input(&self) -> Option<u32> {
        self.0.input
    }

    /// The 1-based row group of a Parquet file the row is in (``line`` is then the 1-based row
    /// within it); ``None`` for other inputs.
    #[getter]
    fn row_group(&self) -> Option<u32> {
        self.0.row_group
    }

    /// A lower-case explanation.
    #[getter]
    fn message(&self) -> &str {
        &self.0.message
    }

    /// Whether the row was rejected.
    #[getter]
    fn is_error(&self) -> bool {
        self.0.is_error()
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("LoadIssue({})", quoted(&self.0.to_string()))
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyLoadIssue>().is_ok_and(|o| o.get().0 == self.0)
    }
}

/// What a load read and everything it noticed, row by row.
#[pyclass(name = "Diagnostics", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyDiagnostics(pub(crate) Diagnostics);

#[pymethods]
impl PyDiagnostics {
    /// Data rows read (not counting the header).
    #[getter]
    fn rows_read(&self) -> u64 {
        self.0.rows_read
    }

    /// Rows that became part of the result.
    #[getter]
    fn rows_accepted(&self) -> u64 {
        self.0.rows_accepted
    }

    /// Errors (rows rejected) and warnings, in line order.
    #[getter]
    fn issues(&self) -> Vec<PyLoadIssue> {
        self.0.issues.iter().cloned().map(PyLoadIssue).collect()
    }

    /// The number of errors (rejected rows).
    #[getter]
    fn error_count(&self) -> usize {
        self.0.error_count()
    }

    /// The number of warnings.
    #[getter]
    fn warning_count(&self) -> usize {
        self.0.warning_count()
    }

    fn __repr__(&self) -> String {
        format!(
            "Diagnostics(rows_read={}, rows_accepted={}, errors={}, warnings={})",
            self.0.rows_read,
            self.0.rows_accepted,
            self.0.error_count(),
            self.0.warning_count()
        )
    }
}

/// The identity of a USER report row: customer, subscriber, package, location, license.
#[pyclass(name = "RowKey", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PyRowKey {
    /// The customer org.
    #[pyo3(get)]
    customer_org_id: String,
    /// The subscriber.
    #[pyo3(get)]
    subscriber_id: String,
    /// The package's API name.
    #[pyo3(get)]
    package: String,
    /// The location (may be empty).
    #[pyo3(get)]
    location_id: String,
    /// The license (may be empty).
    #[pyo3(get)]
    license_id: String,
}

impl From<RowKey<'_>> for PyRowKey {
    fn from(k: RowKey<'_>) -> Self {
        PyRowKey {
            customer_org_id: k.customer_org_id.to_owned(),
            subscriber_id: k.subscriber_id.to_owned(),
            package: k.package.to_owned(),
            location_id: k.location_id.to_owned(),
            license_id: k.license_id.to_owned(),
        }
    }
}

#[pymethods]
impl PyRowKey {
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyRowKey>().is_ok_and(|o| *o.get() == *self)
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut h);
        h.finish()
    }

    fn __repr__(&self) -> String {
        format!(
            "RowKey(customer_org_id={}, subscriber_id={}, package={}, location_id={}, license_id={})",
            quoted(&self.customer_org_id),
            quoted(&self.subscriber_id),
            quoted(&self.package),
            quoted(&self.location_id),
            quoted(&self.license_id)
        )
    }
}

/// A customer of a ledger: its owner, latest external id and the packages assigned to it.
#[pyclass(name = "LedgerCustomer", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyLedgerCustomer {
    /// ``CUSTOMER_ORG_ID``.
    #[pyo3(get)]
    org_id: String,
    /// The latest non-empty ``CUSTOMER_EXTERNAL_ID`` given (in time order); empty when none.
    #[pyo3(get)]
    external_id: String,
    /// The sub-partner owning the customer, ``None`` for the partner's own customers.
    #[pyo3(get)]
    sub_partner_org_id: Option<String>,
    /// API names of the packages assigned to it, sorted.
    #[pyo3(get)]
    packages: Vec<String>,
}

#[pymethods]
impl PyLedgerCustomer {
    fn __repr__(&self) -> String {
        format!(
            "LedgerCustomer(org_id={}, external_id={}, sub_partner_org_id={}, packages=[{}])",
            quoted(&self.org_id),
            quoted(&self.external_id),
            quoted_opt(self.sub_partner_org_id.as_deref()),
            self.packages.iter().map(|p| quoted(p)).collect::<Vec<_>>().join(", ")
        )
    }
}

/// A partner's package-assignment history, validated and compiled: the source of usage reports.
///
/// Load one with ``Ledger.from_csv(path_or_bytes, org)``, ``Ledger.from_records(org, records)``,
/// ``Ledger.from_dataframe(org, df)`` or ``Ledger.from_arrow(org, table)`` (strict by default: any bad row raises
/// ``BillingInputError`` with every issue; ``lenient=True`` skips bad rows and reports them in
/// ``diagnostics``).
#[pyclass(name = "Ledger", module = "wholesale_billing", frozen)]
pub(crate) struct PyLedger {
    ledger: Arc<AssignmentLedger>,
    diagnostics: Diagnostics,
}

impl PyLedger {
    /// The ledger (shared, for work without the GIL).
    pub(crate) fn assignment_ledger(&self) -> &Arc<AssignmentLedger> {
        &self.ledger
    }

    /// Loads events given as text rows, without the GIL.
    fn from_table(py: Python<'_>, table: EventTable, org: Organisation, lenient: bool) -> PyResult<Self> {
        let (ledger, diagnostics) = py.detach(|| table.load(org, mode(lenient))).or_raise()?;
        Ok(PyLedger {
            ledger: Arc::new(ledger),
            diagnostics,
        })
    }
}

#[pymethods]
impl PyLedger {
    /// Loads an events CSV from a path (``str`` or ``os.PathLike``), ``bytes``, or a binary file
    /// object. Reading and validation run without the GIL.
    #[staticmethod]
    #[pyo3(signature = (source, org, *, lenient = false))]
    fn from_csv(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        org: PyRef<'_, PyOrganisation>,
        lenient: bool,
    ) -> PyResult<Self> {
        let source = Source::from_py(source, "events CSV")?;
        let org = org.cloned();
        let (ledger, diagnostics) = source
            .read_with(py, "events CSV", move |reader| {
                AssignmentLedger::from_csv(reader, org, mode(lenient))
            })?
            .or_raise()?;
        Ok(PyLedger {
            ledger: Arc::new(ledger),
            diagnostics,
        })
    }

    /// Loads events from an iterable of mappings whose keys are the events CSV column names
    /// (``event_id``, ``occurred_at``, ``action``, ...); ``occurred_at`` is an aware ``datetime`` or
    /// RFC 3339 text. Issues are located by record number (``line``) and field.
    #[staticmethod]
    #[pyo3(signature = (org, records, *, lenient = false))]
    fn from_records(
        py: Python<'_>,
        org: PyRef<'_, PyOrganisation>,
        records: &Bound<'_, PyAny>,
        lenient: bool,
    ) -> PyResult<Self> {
        let table = records_table(records)?;
        PyLedger::from_table(py, table, org.cloned(), lenient)
    }

    /// Loads events from a pandas or a polars ``DataFrame`` with the events CSV columns. Issues
    /// are located by row number (``line``, 1-based) and column position.
    #[staticmethod]
    #[pyo3(signature = (org, df, *, lenient = false))]
    fn from_dataframe(
        py: Python<'_>,
        org: PyRef<'_, PyOrganisation>,
        df: &Bound<'_, PyAny>,
        lenient: bool,
    ) -> PyResult<Self> {
        let table = dataframe_table(df)?;
        PyLedger::from_table(py, table, org.cloned(), lenient)
    }

    /// Loads events from any Arrow table or stream: an object with ``__arrow_c_stream__`` (a
    /// ``pyarrow.Table`` or ``RecordBatchReader``, a polars ``DataFrame``, a DuckDB result, a
    /// Spark partition's batches gathered by pyarrow), read through the Arrow C stream without a
    /// copy. Columns by name as in the events CSV; text, whole-number, date and timestamp
    /// columns (a timestamp needs a time zone, as a CSV field needs an offset; see
    /// ``docs/events.md``). Issues are located by row (``line``, 1-based, across the batches) and
    /// column position. Reading and validation run without the GIL.
    #[staticmethod]
    #[pyo3(signature = (org, data, *, lenient = false))]
    fn from_arrow(
        py: Python<'_>,
        org: PyRef<'_, PyOrganisation>,
        data: &Bound<'_, PyAny>,
        lenient: bool,
    ) -> PyResult<Self> {
        let reader = arrow_stream_arg(data, "events")?.into_reader()?;
        let org = org.cloned();
        let (ledger, diagnostics) = py
            .detach(move || {
                let schema = reader.schema();
                let mut builder = LedgerBuilder::new(org);
                builder.read_arrow(&schema, reader)?;
                builder.finish(mode(lenient))
            })
            .or_raise()?;
        Ok(PyLedger {
            ledger: Arc::new(ledger),
            diagnostics,
        })
    }

    /// The organisation the ledger was built for.
    #[getter]
    fn organisation(&self) -> PyOrganisation {
        PyOrganisation::wrap(self.ledger.organisation().clone())
    }

    /// What the load read and noticed.
    #[getter]
    fn diagnostics(&self) -> PyDiagnostics {
        PyDiagnostics(self.diagnostics.clone())
    }

    /// The number of distinct row keys with at least one non-empty interval.
    #[getter]
    fn row_key_count(&self) -> usize {
        self.ledger.row_key_count()
    }

    /// The number of distinct subscribers with at least one non-empty interval.
    #[getter]
    fn subscriber_count(&self) -> usize {
        self.ledger.subscriber_count()
    }

    /// The number of distinct customers with at least one non-empty interval.
    #[getter]
    fn customer_count(&self) -> usize {
        self.ledger.customer_count()
    }

    /// Every customer named by an accepted ``ASSIGN``, sorted by org id.
    fn customers(&self) -> Vec<PyLedgerCustomer> {
        let org = self.ledger.organisation();
        self.ledger
            .customers()
            .into_iter()
            .map(|c| PyLedgerCustomer {
                org_id: c.org_id.to_owned(),
                external_id: c.external_id.to_owned(),
                sub_partner_org_id: match c.owner {
                    Owner::Partner => None,
                    owner => Some(org.owner_identity(owner).1.to_owned()),
                },
                packages: c.packages.into_iter().map(str::to_owned).collect(),
            })
            .collect()
    }

    /// Every assignment interval, in report order: ``(key, start, end)``, ``end`` ``None`` for an
    /// assignment still open. Merged per key; sub-partner billing starts not applied.
    fn intervals<'py>(&self, py: Python<'py>) -> PyResult<Vec<Interval<'py>>> {
        self.ledger
            .intervals()
            .map(|(key, start, end)| {
                Ok((
                    PyRowKey::from(key),
                    py_timestamp(py, start)?,
                    py_opt_timestamp(py, end)?,
                ))
            })
            .collect()
    }

    /// The usage report of a period: ``usage_report(start, end)`` with two dates (``date`` or
    /// ``"YYYY-MM-DD"``, both inclusive), or ``usage_report(period)`` with a ``Period`` or its text.
    ///
    /// ``level``: ``"user"``, ``"customer"`` or ``"partner"``; the partner's own customers by
    /// default, one sub-partner's with ``sub_partner=ORG_ID``, the whole subscription with
    /// ``all=True``; ``hour_policy``: ``"started"``, ``"completed"`` or ``"exact"``. Computed
    /// without the GIL.
    #[pyo3(
        signature = (start, end = None, *, level = "user".to_owned(), sub_partner = None, all = false, hour_policy = "started".to_owned()),
        text_signature = "($self, start, end=None, *, level='user', sub_partner=None, all=False, hour_policy='started')"
    )]
    #[allow(clippy::too_many_arguments)]
    fn usage_report(
        &self,
        py: Python<'_>,
        start: &Bound<'_, PyAny>,
        end: Option<&Bound<'_, PyAny>>,
        level: String,
        sub_partner: Option<String>,
        all: bool,
        hour_policy: String,
    ) -> PyResult<PyUsageReport> {
        let period = period_arg(start, end)?;
        let options = report_options(&level, sub_partner, all, &hour_policy)?;
        let ledger = &self.ledger;
        let report = py.detach(|| ledger.usage_report(period, &options)).or_raise()?;
        Ok(PyUsageReport::computed(report))
    }

    /// Writes the usage report of a period to ``path`` as the Webex billing report CSV, the same
    /// bytes as ``usage_report(...).to_csv(path)``, without holding the report: USER rows are
    /// computed and written a chunk at a time (CUSTOMER and PARTNER reports are computed whole).
    /// The file is written whole or not at all. The period and options are those of
    /// ``usage_report``; returns the number of rows written. Without the GIL.
    #[pyo3(
        signature = (path, start, end = None, *, level = "user".to_owned(), sub_partner = None, all = false, hour_policy = "started".to_owned()),
        text_signature = "($self, path, start, end=None, *, level='user', sub_partner=None, all=False, hour_policy='started')"
    )]
    #[allow(clippy::too_many_arguments)]
    fn write_usage_csv(
        &self,
        py: Python<'_>,
        path: PathBuf,
        start: &Bound<'_, PyAny>,
        end: Option<&Bound<'_, PyAny>>,
        level: String,
        sub_partner: Option<String>,
        all: bool,
        hour_policy: String,
    ) -> PyResult<u64> {
        let period = period_arg(start, end)?;
        let options = report_options(&level, sub_partner, all, &hour_policy)?;
        let ledger = &self.ledger;
        let mut rows = 0;
        write_output(py, Some(path), "usage report", |out| {
            rows = ledger.write_usage_csv(period, &options, out)?.rows;
            Ok(())
        })?;
        Ok(rows)
    }

    /// The day-by-day quantities of every row key of one subscriber over a period (what a USER
    /// row is the sum of): ``[(key, [Decimal per day])]``, billing starts applied.
    #[pyo3(
        signature = (subscriber_id, start, end = None, *, hour_policy = "started".to_owned()),
        text_signature = "($self, subscriber_id, start, end=None, *, hour_policy='started')"
    )]
    fn explain_subscriber<'py>(
        &self,
        py: Python<'py>,
        subscriber_id: String,
        start: &Bound<'py, PyAny>,
        end: Option<&Bound<'py, PyAny>>,
        hour_policy: String,
    ) -> PyResult<Vec<(PyRowKey, Vec<Bound<'py, PyAny>>)>> {
        let period = period_arg(start, end)?;
        let policy = hour_policy_arg(&hour_policy)?;
        self.ledger
            .explain_subscriber(&subscriber_id, period, policy)
            .into_iter()
            .map(|(key, days)| {
                let days = days.into_iter().map(|q| py_quantity(py, q)).collect::<PyResult<_>>()?;
                Ok((PyRowKey::from(key), days))
            })
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Ledger(partner='{}', customers={}, subscribers={}, row_keys={})",
            self.ledger.organisation().partner.org_id,
            self.ledger.customer_count(),
            self.ledger.subscriber_count(),
            self.ledger.row_key_count()
        )
    }
}

/// The report options of ``usage_report``'s keyword arguments.
fn report_options(level: &str, sub_partner: Option<String>, all: bool, hour_policy: &str) -> PyResult<ReportOptions> {
    let scope = match (sub_partner, all) {
        (Some(_), true) => {
            return Err(PyValueError::new_err("give sub_partner=ORG_ID or all=True, not both"));
        }
        (Some(org_id), false) => Scope::SubPartner(org_id),
        (None, true) => Scope::Subscription,
        (None, false) => Scope::Partner,
    };
    Ok(ReportOptions::new(level_arg(level)?)
        .scope(scope)
        .hour_policy(hour_policy_arg(hour_policy)?))
}
