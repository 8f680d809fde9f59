//! The billing of a month (``bill_month``) and its result, ``MonthlyBilling``.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use wholesale_billing::{BillTo, Billing, Invoice, MonthlyBilling};

use super::{PyInvoice, PyMarginReport, json};
use crate::convert::write_output;
use crate::errors::OrRaise;
use crate::org::PyOrganisation;
use crate::period::{PyMoney, PyPeriod};
use crate::rates::{PyPriceBook, PyRateCard};
use crate::report::PyUsageReport;
use crate::table::Table;
use crate::text::quoted;

/// A billed month: one invoice per customer of the partner, one roll-up per sub-partner, and
/// the margin report when a rate card was given.
#[pyclass(name = "MonthlyBilling", module = "wholesale_billing", frozen)]
pub(crate) struct PyMonthlyBilling(Arc<MonthlyBilling>);

impl PyMonthlyBilling {
    fn table<'py>(&self, py: Python<'py>) -> PyResult<Table<'py>> {
        let invoices: Vec<&Invoice> = self.0.invoices().collect();
        let mut table = Table::new(py);
        table.text(
            "bill_to",
            invoices.iter().map(|i| match i.bill_to {
                BillTo::Customer { .. } => "customer",
                BillTo::SubPartner { .. } => "sub_partner",
            }),
        );
        table.text("org_id", invoices.iter().map(|i| i.bill_to.org_id()));
        table.text("external_id_or_name", invoices.iter().map(|i| i.bill_to.label()));
        table.ints("lines", invoices.iter().map(|i| i64::try_from(i.lines.len()).ok()));
        table.decimals("subtotal", invoices.iter().map(|i| Some(i.subtotal.amount())));
        table.decimals("discount", invoices.iter().map(|i| Some(i.discount.amount())));
        table.decimals(
            "minimum_top_up",
            invoices.iter().map(|i| Some(i.minimum_top_up.amount())),
        );
        table.decimals("tax", invoices.iter().map(|i| Some(i.tax.amount())));
        table.decimals("total", invoices.iter().map(|i| Some(i.total.amount())));
        table.text("currency", invoices.iter().map(|i| i.currency.code()));
        Ok(table)
    }
}

#[pymethods]
impl PyMonthlyBilling {
    /// The billing period.
    #[getter]
    fn period(&self) -> PyPeriod {
        PyPeriod(self.0.period)
    }

    /// The ISO 4217 currency.
    #[getter]
    fn currency(&self) -> String {
        self.0.currency.code().to_owned()
    }

    /// One invoice per customer of the partner, by org id.
    #[getter]
    fn customer_invoices(&self) -> Vec<PyInvoice> {
        self.0.customer_invoices.iter().cloned().map(PyInvoice).collect()
    }

    /// One roll-up invoice per sub-partner.
    #[getter]
    fn sub_partner_invoices(&self) -> Vec<PyInvoice> {
        self.0.sub_partner_invoices.iter().cloned().map(PyInvoice).collect()
    }

    /// Every invoice: the customers', then the sub-partners'.
    fn invoices(&self) -> Vec<PyInvoice> {
        self.0.invoices().cloned().map(PyInvoice).collect()
    }

    /// The margin report (``None`` without a rate card).
    #[getter]
    fn margin(&self) -> Option<PyMarginReport> {
        self.0.margin.clone().map(|m| PyMarginReport(Arc::new(m)))
    }

    /// The sum of every invoice's total.
    #[getter]
    fn grand_total(&self) -> PyResult<PyMoney> {
        self.0.grand_total().map(PyMoney).or_raise()
    }

    /// The summary (one row per invoice) as CSV: written to ``path`` or returned.
    #[pyo3(signature = (path = None))]
    fn summary_csv(&self, py: Python<'_>, path: Option<PathBuf>) -> PyResult<Option<String>> {
        let month = &self.0;
        write_output(py, path, "invoice summary", |out| month.write_summary_csv(out))
    }

    /// The month as JSON (amounts as strings).
    fn to_json(&self) -> PyResult<String> {
        json(&*self.0)
    }

    /// The summary, one dict per invoice, keyed by the columns of ``summary_csv()`` (amounts as
    /// ``decimal.Decimal``).
    fn to_dicts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.table(py)?.to_dicts()?.into_any())
    }

    /// The summary as a pandas ``DataFrame`` (needs pandas).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.table(py)?.to_pandas("to_pandas")
    }

    /// The summary as a polars ``DataFrame`` (needs polars).
    fn to_polars<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.table(py)?.to_polars("to_polars")
    }

    /// The table through the Arrow PyCapsule interface (``pyarrow.table(x)``,
    /// ``polars.DataFrame(x)``, DuckDB): the columns of ``to_dicts()``, amounts exact decimals.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        self.table(py)?.stream_capsule(requested_schema)
    }

    fn __repr__(&self) -> String {
        format!(
            "MonthlyBilling(period='{}', customer_invoices={}, sub_partner_invoices={}, grand_total={})",
            self.0.period,
            self.0.customer_invoices.len(),
            self.0.sub_partner_invoices.len(),
            self.0
                .grand_total()
                .map_or_else(|e| e.to_string(), |t| quoted(&t.to_string()))
        )
    }
}

/// Bills the month of the ``usage`` report (USER or CUSTOMER, of the whole subscription or of
/// the partner only; the period billed is the report's: see ``UsageReport.with_period``), for the
/// organisation at the prices of the price book; with ``rates``, also the margin report.
/// ``per_location=True`` gives one line per SKU and location. Computed without the GIL.
#[pyfunction]
#[pyo3(signature = (usage, org, price_book, *, rates = None, per_location = false))]
pub(crate) fn bill_month(
    py: Python<'_>,
    usage: PyRef<'_, PyUsageReport>,
    org: PyRef<'_, PyOrganisation>,
    price_book: PyRef<'_, PyPriceBook>,
    rates: Option<PyRef<'_, PyRateCard>>,
    per_location: bool,
) -> PyResult<PyMonthlyBilling> {
    let usage = usage.inner().clone();
    let org = org.0.clone();
    let book = price_book.0.clone();
    let rates = rates.map(|r| r.0.clone());
    let month = py
        .detach(|| {
            Billing::new(&org, &book)
                .wholesale(rates.as_deref())
                .per_location(per_location)
                .run(&usage)
        })
        .or_raise()?;
    Ok(PyMonthlyBilling(Arc::new(month)))
}
