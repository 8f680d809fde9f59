//! The margin report: revenue against wholesale cost, per customer, sub-partner and SKU.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use wholesale_billing::{MarginReport, MarginRow};

use crate::convert::write_output;
use crate::period::PyMoney;
use crate::table::Table;
use crate::text::quoted;

/// One row of the margin report: revenue, wholesale cost and margin of a customer, a
/// sub-partner or a SKU (``dimension``).
#[pyclass(name = "MarginRow", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyMarginRow(MarginRow);

#[pymethods]
impl PyMarginRow {
    /// ``"customer"``, ``"sub_partner"`` or ``"sku"``.
    #[getter]
    fn dimension(&self) -> &'static str {
        self.0.dimension
    }

    /// The org id or SKU.
    #[getter]
    fn key(&self) -> &str {
        &self.0.key
    }

    /// The external id, name or description.
    #[getter]
    fn label(&self) -> &str {
        &self.0.label
    }

    /// What was invoiced.
    #[getter]
    fn revenue(&self) -> PyMoney {
        PyMoney(self.0.revenue)
    }

    /// What the same usage costs at the wholesale rates.
    #[getter]
    fn cost(&self) -> PyMoney {
        PyMoney(self.0.cost)
    }

    /// Revenue − cost.
    #[getter]
    fn margin(&self) -> PyMoney {
        PyMoney(self.0.margin)
    }

    fn __repr__(&self) -> String {
        format!(
            "MarginRow(dimension='{}', key={}, revenue={}, cost={}, margin={})",
            self.0.dimension,
            quoted(&self.0.key),
            quoted(&self.0.revenue.to_string()),
            quoted(&self.0.cost.to_string()),
            quoted(&self.0.margin.to_string())
        )
    }
}

/// Revenue against wholesale cost, per customer, sub-partner and SKU.
#[pyclass(name = "MarginReport", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyMarginReport(pub(super) Arc<MarginReport>);

impl PyMarginReport {
    fn table<'py>(&self, py: Python<'py>) -> Table<'py> {
        let rows = &self.0.rows;
        let mut table = Table::new(py);
        table.text("dimension", rows.iter().map(|r| r.dimension));
        table.text("key", rows.iter().map(|r| r.key.as_str()));
        table.text("label", rows.iter().map(|r| r.label.as_str()));
        table.decimals("revenue", rows.iter().map(|r| Some(r.revenue.amount())));
        table.decimals("cost", rows.iter().map(|r| Some(r.cost.amount())));
        table.decimals("margin", rows.iter().map(|r| Some(r.margin.amount())));
        table.text("currency", rows.iter().map(|_| self.0.currency.code()));
        table
    }
}

#[pymethods]
impl PyMarginReport {
    /// The ISO 4217 currency.
    #[getter]
    fn currency(&self) -> String {
        self.0.currency.code().to_owned()
    }

    /// The rows.
    #[getter]
    fn rows(&self) -> Vec<PyMarginRow> {
        self.0.rows.iter().cloned().map(PyMarginRow).collect()
    }

    /// The report as CSV: written to ``path`` or returned.
    #[pyo3(signature = (path = None))]
    fn to_csv(&self, py: Python<'_>, path: Option<PathBuf>) -> PyResult<Option<String>> {
        let report = &self.0;
        write_output(py, path, "margin report", |out| report.write_csv(out))
    }

    /// One dict per row (amounts as ``decimal.Decimal``).
    fn to_dicts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.table(py).to_dicts()?.into_any())
    }

    /// A pandas ``DataFrame`` (needs pandas).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.table(py).to_pandas("to_pandas")
    }

    /// A polars ``DataFrame`` (needs polars).
    fn to_polars<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.table(py).to_polars("to_polars")
    }

    /// The table through the Arrow PyCapsule interface (``pyarrow.table(x)``,
    /// ``polars.DataFrame(x)``, DuckDB): the columns of ``to_dicts()``, amounts exact decimals.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        self.table(py).stream_capsule(requested_schema)
    }

    fn __len__(&self) -> usize {
        self.0.rows.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "MarginReport(currency='{}', rows={})",
            self.0.currency,
            self.0.rows.len()
        )
    }
}
