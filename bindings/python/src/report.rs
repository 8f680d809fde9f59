//! `UsageReport`: a usage report at the USER, CUSTOMER or PARTNER level, computed or read from a
//! Webex billing report CSV; its rows as typed objects, dicts and data frames.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::{PyIndexError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use wholesale_billing::{Column, Diagnostics, LoadMode, Period, ReadOptions, ReportRow, UsageReport};

use crate::convert::{Source, level_arg, period_param, py_opt_timestamp, py_quantity, write_output};
use crate::errors::OrRaise;
use crate::ledger::PyDiagnostics;
use crate::period::PyPeriod;
use crate::table::{ArrowTable, Table, arrow_stream_arg};

/// The value of a row's column: its text, `None` for a missing `TYPE` or date, a `Decimal` for
/// `QUANTITY`, an aware `datetime` for the dates.
fn field_value<'py>(py: Python<'py>, row: &ReportRow<'_>, column: Column) -> PyResult<Bound<'py, PyAny>> {
    let text = |s: &str| -> PyResult<Bound<'py, PyAny>> { Ok(s.into_pyobject(py)?.into_any()) };
    match column {
        Column::PartnerName => text(row.partner_name),
        Column::PartnerOrgId => text(row.partner_org_id),
        Column::SubscriptionId => text(row.subscription_id),
        Column::CustomerOrgId => text(row.customer_org_id),
        Column::CustomerExternalId => text(row.customer_external_id),
        Column::Type => match row.subscriber_type {
            Some(t) => text(t.as_str()),
            None => Ok(py.None().into_bound(py)),
        },
        Column::SubscriberId => text(row.subscriber_id),
        Column::UserId => text(row.user_id),
        Column::WorkspaceId => text(row.workspace_id),
        Column::ServiceName => text(row.service_name),
        Column::Sku => text(row.sku),
        Column::Description => text(row.description),
        Column::ConsumptionStartDate => py_opt_timestamp(py, row.consumption_start),
        Column::ConsumptionEndDate => py_opt_timestamp(py, row.consumption_end),
        Column::Quantity => py_quantity(py, row.quantity),
        Column::LocationId => text(row.location_id),
        Column::LicenseId => text(row.license_id),
    }
}

/// One row of a usage report. Attributes a level does not have are ``""`` (or ``None``).
///
/// ``quantity`` is a ``decimal.Decimal`` of user-days with four decimals; ``consumption_start`` and
/// ``consumption_end`` are aware ``datetime`` objects in UTC.
#[pyclass(name = "ReportRow", module = "wholesale_billing", frozen)]
pub(crate) struct PyReportRow {
    report: Arc<UsageReport>,
    index: usize,
}

impl PyReportRow {
    fn row(&self) -> PyResult<ReportRow<'_>> {
        self.report
            .row(self.index)
            .ok_or_else(|| PyIndexError::new_err("row index out of range"))
    }

    fn get<'py>(&self, py: Python<'py>, column: Column) -> PyResult<Bound<'py, PyAny>> {
        field_value(py, &self.row()?, column)
    }
}

#[pymethods]
impl PyReportRow {
    /// ``PARTNER_NAME``: the partner's, or the sub-partner's in a sub-partner report.
    #[getter]
    fn partner_name<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::PartnerName)
    }

    /// ``PARTNER_ORG_ID``.
    #[getter]
    fn partner_org_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::PartnerOrgId)
    }

    /// ``SUBSCRIPTION_ID``.
    #[getter]
    fn subscription_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::SubscriptionId)
    }

    /// ``CUSTOMER_ORG_ID`` (CUSTOMER, USER).
    #[getter]
    fn customer_org_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::CustomerOrgId)
    }

    /// ``CUSTOMER_EXTERNAL_ID`` (CUSTOMER, USER).
    #[getter]
    fn customer_external_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::CustomerExternalId)
    }

    /// ``TYPE`` (USER): ``"USER"``, ``"WORKSPACE"`` or ``None``.
    #[getter]
    fn subscriber_type<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::Type)
    }

    /// ``SUBSCRIBER_ID`` (USER).
    #[getter]
    fn subscriber_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::SubscriberId)
    }

    /// ``USER_ID`` (USER).
    #[getter]
    fn user_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::UserId)
    }

    /// ``WORKSPACE_ID`` (USER).
    #[getter]
    fn workspace_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::WorkspaceId)
    }

    /// ``SERVICE_NAME``.
    #[getter]
    fn service_name<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::ServiceName)
    }

    /// ``SKU``.
    #[getter]
    fn sku<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::Sku)
    }

    /// ``DESCRIPTION``.
    #[getter]
    fn description<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::Description)
    }

    /// ``CONSUMPTION_START_DATE``: an aware datetime in UTC (``None`` only in a read report
    /// that lacks it).
    #[getter]
    fn consumption_start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::ConsumptionStartDate)
    }

    /// ``CONSUMPTION_END_DATE``: an aware datetime in UTC (``None`` only in a read report that
    /// lacks it).
    #[getter]
    fn consumption_end<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::ConsumptionEndDate)
    }

    /// ``QUANTITY``: user-days, a ``decimal.Decimal`` with four decimals.
    #[getter]
    fn quantity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::Quantity)
    }

    /// ``LOCATION_ID`` (CUSTOMER, USER).
    #[getter]
    fn location_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::LocationId)
    }

    /// ``LICENSE_ID`` (CUSTOMER, USER).
    #[getter]
    fn license_id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.get(py, Column::LicenseId)
    }

    /// The row's fields of its report's level, as a dict keyed by the Webex CSV column names
    /// (``"QUANTITY"``, ``"TYPE"``, ...), as ``UsageReport.to_dicts()``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let row = self.row()?;
        let dict = PyDict::new(py);
        for &column in self.report.level().columns() {
            dict.set_item(column.name(), field_value(py, &row, column)?)?;
        }
        Ok(dict)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        match other.cast::<PyReportRow>() {
            Ok(o) => Ok(o.get().row()? == self.row()?),
            Err(_) => Ok(false),
        }
    }

    fn __repr__(&self) -> PyResult<String> {
        let row = self.row()?;
        let mut parts = Vec::new();
        for &column in self.report.level().columns() {
            let text = match column {
                Column::Quantity => format!("Decimal('{}')", row.quantity),
                Column::ConsumptionStartDate => row.consumption_start.map_or("None".into(), |t| format!("'{t}'")),
                Column::ConsumptionEndDate => row.consumption_end.map_or("None".into(), |t| format!("'{t}'")),
                Column::Type => row.subscriber_type.map_or("None".into(), |t| format!("'{t}'")),
                _ => Python::attach(|py| {
                    field_value(py, &row, column)
                        .and_then(|v| v.repr())
                        .map(|r| r.to_string())
                        .unwrap_or_default()
                }),
            };
            parts.push(format!("{}={text}", column.row_field()));
        }
        Ok(format!("ReportRow({})", parts.join(", ")))
    }
}

/// The iterator over a report's rows.
#[pyclass(module = "wholesale_billing")]
pub(crate) struct ReportRowIterator {
    report: Arc<UsageReport>,
    next: usize,
}

#[pymethods]
impl ReportRowIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&mut self) -> Option<PyReportRow> {
        if self.next >= self.report.len() {
            return None;
        }
        let row = PyReportRow {
            report: self.report.clone(),
            index: self.next,
        };
        self.next += 1;
        Some(row)
    }
}

/// A usage report: its level, the period it covers (when known) and its rows, in the Webex
/// billing report's form.
///
/// Computed by ``Ledger.usage_report(...)``, read from a vendor CSV by ``UsageReport.read_csv``,
/// fetched by ``WebexClient.fetch_usage``. ``len(report)``, iteration (``ReportRow`` objects) and
/// indexing work; ``to_dicts()``, ``to_pandas()``, ``to_polars()`` and ``to_csv()`` convert.
#[pyclass(name = "UsageReport", module = "wholesale_billing", frozen)]
pub(crate) struct PyUsageReport {
    report: Arc<UsageReport>,
    diagnostics: Option<Diagnostics>,
}

impl PyUsageReport {
    /// A report computed by the engine (no load diagnostics).
    pub(crate) fn computed(report: UsageReport) -> Self {
        PyUsageReport {
            report: Arc::new(report),
            diagnostics: None,
        }
    }

    /// A report read from a file or a table, with what the read noticed.
    fn read((report, diagnostics): (UsageReport, Diagnostics)) -> Self {
        PyUsageReport {
            report: Arc::new(report),
            diagnostics: Some(diagnostics),
        }
    }

    /// The report inside.
    pub(crate) fn inner(&self) -> &Arc<UsageReport> {
        &self.report
    }

    /// The report's Arrow record batches (made by the core, without the GIL).
    fn arrow(&self, py: Python<'_>) -> PyResult<ArrowTable> {
        let report = &self.report;
        let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let batches = py.detach(|| report.record_batches_with_threads(threads));
        Ok(ArrowTable {
            schema: report.schema(),
            batches: batches.or_raise()?,
        })
    }

    fn table<'py>(&self, py: Python<'py>) -> Table<'py> {
        let report = &self.report;
        let mut table = Table::new(py);
        for &column in report.level().columns() {
            let rows = report.rows();
            let name = column.name();
            match column {
                Column::PartnerName => table.text(name, rows.map(|r| r.partner_name)),
                Column::PartnerOrgId => table.text(name, rows.map(|r| r.partner_org_id)),
                Column::SubscriptionId => table.text(name, rows.map(|r| r.subscription_id)),
                Column::CustomerOrgId => table.text(name, rows.map(|r| r.customer_org_id)),
                Column::CustomerExternalId => table.text(name, rows.map(|r| r.customer_external_id)),
                Column::Type => table.opt_text(name, rows.map(|r| r.subscriber_type.map(|t| t.as_str()))),
                Column::SubscriberId => table.text(name, rows.map(|r| r.subscriber_id)),
                Column::UserId => table.text(name, rows.map(|r| r.user_id)),
                Column::WorkspaceId => table.text(name, rows.map(|r| r.workspace_id)),
                Column::ServiceName => table.text(name, rows.map(|r| r.service_name)),
                Column::Sku => table.text(name, rows.map(|r| r.sku)),
                Column::Description => table.text(name, rows.map(|r| r.description)),
                Column::ConsumptionStartDate => table.instants(name, rows.map(|r| r.consumption_start)),
                Column::ConsumptionEndDate => table.instants(name, rows.map(|r| r.consumption_end)),
                Column::Quantity => table.decimals(name, rows.map(|r| Some(r.quantity.to_decimal()))),
                Column::LocationId => table.text(name, rows.map(|r| r.location_id)),
                Column::LicenseId => table.text(name, rows.map(|r| r.license_id)),
            }
        }
        table
    }
}

/// The read options and period of `read_csv` and `from_arrow`.
fn read_args(
    level: Option<String>,
    lenient: bool,
    period: Option<&Bound<'_, PyAny>>,
) -> PyResult<(ReadOptions, Option<Period>)> {
    let options = ReadOptions {
        level: level.as_deref().map(level_arg).transpose()?,
        mode: if lenient { LoadMode::Lenient } else { LoadMode::Strict },
    };
    let period = period.filter(|p| !p.is_none()).map(period_param).transpose()?;
    Ok((options, period))
}

/// A report read, given `period` when there is one.
fn with_period(
    read: wholesale_billing::Result<(UsageReport, Diagnostics)>,
    period: Option<Period>,
) -> wholesale_billing::Result<(UsageReport, Diagnostics)> {
    let (report, diagnostics) = read?;
    let report = match period {
        Some(period) => report.with_period(period)?,
        None => report,
    };
    Ok((report, diagnostics))
}

/// Collects `UsageReport` objects from an iterable (or takes one report alone).
pub(crate) fn reports_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Arc<UsageReport>>> {
    if let Ok(one) = value.cast::<PyUsageReport>() {
        return Ok(vec![one.get().report.clone()]);
    }
    let mut out = Vec::new();
    for item in value.try_iter()? {
        let item = item?;
        let report = item
            .cast::<PyUsageReport>()
            .map_err(|_| PyTypeError::new_err(format!("{what}: expected UsageReport objects")))?;
        out.push(report.get().report.clone());
    }
    Ok(out)
}

#[pymethods]
impl PyUsageReport {
    /// Reads a vendor usage report CSV (path, bytes or binary file object): columns by name in
    /// the ``UPPER_SNAKE`` or the human form, BOM tolerated, extra columns ignored. ``level``:
    /// the expected level (``"user"``, ``"customer"``, ``"partner"``), else from the header.
    /// Strict by default; ``lenient=True`` skips bad rows (see ``diagnostics``). ``period`` (a
    /// ``Period`` or its text, ``"2024-05"``): the period the report covers, as ``with_period``
    /// gives it; without it the report has no period, and the invoices and the reconciliation
    /// refuse it.
    #[staticmethod]
    #[pyo3(signature = (source, *, level = None, lenient = false, period = None))]
    fn read_csv(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        level: Option<String>,
        lenient: bool,
        period: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let (options, period) = read_args(level, lenient, period)?;
        let source = Source::from_py(source, "usage report")?;
        let read = source
            .read_with(py, "usage report", move |reader| {
                with_period(UsageReport::read_csv(reader, &options), period)
            })?
            .or_raise()?;
        Ok(PyUsageReport::read(read))
    }

    /// Reads a usage report from any Arrow table or stream (an object with
    /// ``__arrow_c_stream__``: a ``pyarrow.Table``, a polars ``DataFrame``, a Spark result's
    /// ``toArrow()``, a Parquet file read by pyarrow): columns by name as ``read_csv`` finds them,
    /// each value read as that CSV's field would be (``QUANTITY`` a decimal, an integer or text,
    /// never a float; the dates timestamps or text). Issues are located by row (``line``, 1-based,
    /// across the batches) and column position. ``level``, ``lenient`` and ``period`` as
    /// ``read_csv``. Rows keep their order.
    #[staticmethod]
    #[pyo3(signature = (data, *, level = None, lenient = false, period = None))]
    fn from_arrow(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        level: Option<String>,
        lenient: bool,
        period: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let (options, period) = read_args(level, lenient, period)?;
        let reader = arrow_stream_arg(data, "usage report")?.into_reader()?;
        let read = py
            .detach(move || {
                let schema = reader.schema();
                with_period(UsageReport::read_arrow(&schema, reader, &options), period)
            })
            .or_raise()?;
        Ok(PyUsageReport::read(read))
    }

    /// One report of the rows of several reports of one level, in order (e.g. the partner's and
    /// every sub-partner's). The period is kept when all agree.
    #[staticmethod]
    fn concat(py: Python<'_>, reports: &Bound<'_, PyAny>) -> PyResult<Self> {
        let reports = reports_arg(reports, "reports")?;
        let report = py
            .detach(|| UsageReport::concat(reports.iter().map(|r| r.as_ref())))
            .or_raise()?;
        Ok(PyUsageReport::computed(report))
    }

    /// The whole subscription's report from the partner's own report (first) and every
    /// sub-partner's, as ``Ledger.usage_report(..., all=True)`` computes it: PARTNER rows are
    /// summed per SKU under the partner.
    #[staticmethod]
    fn subscription_total(py: Python<'_>, reports: &Bound<'_, PyAny>) -> PyResult<Self> {
        let reports = reports_arg(reports, "reports")?;
        let report = py
            .detach(|| UsageReport::subscription_total(reports.iter().map(|r| r.as_ref())))
            .or_raise()?;
        Ok(PyUsageReport::computed(report))
    }

    /// ``"USER"``, ``"CUSTOMER"`` or ``"PARTNER"``.
    #[getter]
    fn level(&self) -> &'static str {
        self.report.level().as_str()
    }

    /// The period the report covers: the billing period of a computed report, or the one given
    /// by ``with_period`` (or ``read_csv(..., period=...)``); ``None`` for a report read from CSV
    /// without one.
    #[getter]
    fn period(&self) -> Option<PyPeriod> {
        self.report.period().map(PyPeriod)
    }

    /// The same report, known to cover ``period`` (a ``Period`` or its text, ``"2024-05"``): what
    /// ``expected_vendor_invoice``, ``bill_month`` and ``reconcile`` need of a report read from
    /// CSV. Raises ``PricingError`` when a row's consumption dates fall outside the period (a
    /// report of another month, given by mistake), or when the report knows another period.
    fn with_period(&self, py: Python<'_>, period: &Bound<'_, PyAny>) -> PyResult<Self> {
        let period = period_param(period)?;
        let report = self.report.clone();
        let report = py
            .detach(|| Arc::unwrap_or_clone(report).with_period(period))
            .or_raise()?;
        Ok(PyUsageReport {
            report: Arc::new(report),
            diagnostics: self.diagnostics.clone(),
        })
    }

    /// The CSV columns of the report's level, in order.
    #[getter]
    fn columns(&self) -> Vec<&'static str> {
        self.report.level().columns().iter().map(|c| c.name()).collect()
    }

    /// What reading the CSV noticed (``None`` for a computed report).
    #[getter]
    fn diagnostics(&self) -> Option<PyDiagnostics> {
        self.diagnostics.clone().map(PyDiagnostics)
    }

    fn __len__(&self) -> usize {
        self.report.len()
    }

    fn __iter__(&self) -> ReportRowIterator {
        ReportRowIterator {
            report: self.report.clone(),
            next: 0,
        }
    }

    fn __getitem__(&self, index: isize) -> PyResult<PyReportRow> {
        let len = self.report.len() as isize;
        let i = if index < 0 { index + len } else { index };
        if i < 0 || i >= len {
            return Err(PyIndexError::new_err("report row index out of range"));
        }
        Ok(PyReportRow {
            report: self.report.clone(),
            index: i as usize,
        })
    }

    /// The report rolled up to a coarser level (``"customer"`` or ``"partner"``).
    fn aggregate(&self, py: Python<'_>, level: String) -> PyResult<Self> {
        let level = level_arg(&level)?;
        let report = &self.report;
        let out = py.detach(|| report.aggregate(level)).or_raise()?;
        Ok(PyUsageReport::computed(out))
    }

    /// The same rows in report order: customer org, subscriber, SKU, location, license, partner org.
    fn sorted(&self, py: Python<'_>) -> Self {
        let report = &self.report;
        PyUsageReport::computed(py.detach(|| report.sorted()))
    }

    /// Quantity (user-days) per SKU, sorted by SKU.
    fn quantity_by_sku<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (sku, quantity) in self.report.quantity_by_sku().or_raise()? {
            dict.set_item(sku, py_quantity(py, quantity)?)?;
        }
        Ok(dict)
    }

    /// The sum of all quantities (user-days).
    fn total_quantity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_quantity(py, self.report.total_quantity().or_raise()?)
    }

    /// One dict per row, keyed by the level's Webex CSV column names (``"PARTNER_NAME"``, ...,
    /// ``"QUANTITY"``): the columns of the report's CSV, with typed values.
    fn to_dicts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.table(py).to_dicts()?.into_any())
    }

    /// A pandas ``DataFrame`` with the Webex CSV columns (needs pandas and pyarrow), made from the
    /// report's Arrow table without a Python object per cell: ``pd.ArrowDtype`` columns,
    /// ``QUANTITY`` an exact ``decimal128(38, 4)``, the consumption dates ``timestamp[us, UTC]``,
    /// text nullable (an absent id is ``<NA>``, not ``""``).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let arrow = self.arrow(py)?;
        arrow.into_pandas(py, "to_pandas")
    }

    /// A polars ``DataFrame`` with the Webex CSV columns (needs polars), read from the report's
    /// Arrow table: ``QUANTITY`` ``Decimal(38, 4)``, the consumption dates ``Datetime("us", "UTC")``,
    /// an absent id null.
    fn to_polars<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let arrow = self.arrow(py)?;
        arrow.into_polars(py, "to_polars")
    }

    /// The report through the Arrow PyCapsule interface, so that ``pyarrow.table(report)``,
    /// ``polars.DataFrame(report)`` and DuckDB read it without a copy: the columns of the CSV,
    /// ``QUANTITY`` ``Decimal128(38, 4)``, the consumption dates UTC timestamps, an empty field
    /// null; batches of 65,536 rows.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        self.arrow(py)?.stream_capsule(py, requested_schema)
    }

    /// The report as the Webex billing report CSV: written to ``path`` (returns ``None``), or
    /// returned as text. Written without the GIL.
    #[pyo3(signature = (path = None))]
    fn to_csv(&self, py: Python<'_>, path: Option<PathBuf>) -> PyResult<Option<String>> {
        let report = &self.report;
        write_output(py, path, "usage report", |out| report.write_csv(out))
    }

    fn __repr__(&self) -> String {
        format!(
            "UsageReport(level={}, period={}, rows={}, total_quantity={})",
            self.report.level(),
            self.report
                .period()
                .map_or_else(|| "None".to_owned(), |p| format!("'{p}'")),
            self.report.len(),
            self.report
                .total_quantity()
                .map_or_else(|_| "overflow".to_owned(), |q| q.to_string())
        )
    }
}
