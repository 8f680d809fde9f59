//! Reconciliation: the partner's expected usage against the vendor's reports and invoice; and
//! planted discrepancies to test it.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use wholesale_billing::{self as wb, Finding, FindingClass, Quantity, Reconciler, Reconciliation};

use crate::convert::{py_decimal, py_quantity, quantity_arg, write_output};
use crate::errors::OrRaise;
use crate::invoice::PyVendorInvoice;
use crate::period::{PyMoney, PyPeriod, py_money};
use crate::rates::{PyRateCard, rounding_arg};
use crate::report::{PyUsageReport, reports_arg};
use crate::table::Table;
use crate::text::{quoted, quoted_opt};

/// One difference between the partner's numbers and the vendor's, priced at the wholesale rate.
///
/// ``finding_class`` is one of ``missing_from_vendor``, ``unexpected_vendor_usage``,
/// ``quantity_mismatch``, ``sku_mismatch``, ``invoice_quantity_mismatch``, ``invoice_arithmetic``;
/// ``expected``, ``actual`` and ``difference`` are in ``unit`` (``user_days``, ``user_months`` or
/// ``money``).
#[pyclass(name = "Finding", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyFinding(Finding);

#[pymethods]
impl PyFinding {
    /// The class of the finding.
    #[getter]
    fn finding_class(&self) -> &'static str {
        self.0.class.as_str()
    }

    /// The customer org (empty for invoice findings).
    #[getter]
    fn customer_org_id(&self) -> &str {
        &self.0.customer_org_id
    }

    /// The customer's external id, when known.
    #[getter]
    fn customer_external_id(&self) -> &str {
        &self.0.customer_external_id
    }

    /// The subscriber (empty for invoice findings).
    #[getter]
    fn subscriber_id(&self) -> &str {
        &self.0.subscriber_id
    }

    /// The SKU (for ``sku_mismatch``: the vendor's).
    #[getter]
    fn sku(&self) -> &str {
        &self.0.sku
    }

    /// For ``sku_mismatch``: the SKU the partner expected.
    #[getter]
    fn expected_sku(&self) -> Option<&str> {
        self.0.expected_sku.as_deref()
    }

    /// The partner's number.
    #[getter]
    fn expected<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.expected)
    }

    /// The vendor's number.
    #[getter]
    fn actual<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.actual)
    }

    /// ``actual − expected``.
    #[getter]
    fn difference<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.difference)
    }

    /// ``"user_days"``, ``"user_months"`` or ``"money"``.
    #[getter]
    fn unit(&self) -> &'static str {
        self.0.unit.as_str()
    }

    /// The difference priced at the wholesale rate (positive: the vendor bills more).
    #[getter]
    fn money_impact<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_money(py, self.0.money_impact)
    }

    /// A human explanation.
    #[getter]
    fn detail(&self) -> &str {
        &self.0.detail
    }

    fn __repr__(&self) -> String {
        format!(
            "Finding({}, customer_org_id={}, subscriber_id={}, sku={}, expected_sku={}, difference=Decimal('{}'), money_impact={})",
            quoted(self.0.class.as_str()),
            quoted(&self.0.customer_org_id),
            quoted(&self.0.subscriber_id),
            quoted(&self.0.sku),
            quoted_opt(self.0.expected_sku.as_deref()),
            self.0.difference,
            quoted(&self.0.money_impact.to_string())
        )
    }
}

/// A group of a reconciliation summary: findings of one class, customer or SKU.
#[pyclass(name = "FindingGroup", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyFindingGroup {
    /// The class, customer org id or SKU.
    #[pyo3(get)]
    key: String,
    /// The customer's external id (customer groups), else empty.
    #[pyo3(get)]
    label: String,
    /// The number of findings.
    #[pyo3(get)]
    count: usize,
    impact: wb::Money,
}

#[pymethods]
impl PyFindingGroup {
    /// The net money impact of the group.
    #[getter]
    fn money_impact(&self) -> PyMoney {
        PyMoney(self.impact)
    }

    fn __repr__(&self) -> String {
        format!(
            "FindingGroup(key={}, count={}, money_impact={})",
            quoted(&self.key),
            self.count,
            quoted(&self.impact.to_string())
        )
    }
}

/// Findings counted and priced by class, customer and SKU; ``str()`` gives the human summary.
#[pyclass(name = "ReconciliationSummary", module = "wholesale_billing", frozen)]
pub(crate) struct PySummary(wb::ReconciliationSummary);

#[pymethods]
impl PySummary {
    /// The period reconciled.
    #[getter]
    fn period(&self) -> PyPeriod {
        PyPeriod(self.0.period)
    }

    /// The ISO 4217 currency.
    #[getter]
    fn currency(&self) -> String {
        self.0.currency.code().to_owned()
    }

    /// The number of findings.
    #[getter]
    fn findings(&self) -> usize {
        self.0.findings
    }

    /// The net money impact of every finding.
    #[getter]
    fn money_impact(&self) -> PyMoney {
        PyMoney(self.0.money_impact)
    }

    /// One group per finding class (all six, zero counts included).
    #[getter]
    fn by_class(&self) -> Vec<PyFindingGroup> {
        self.0
            .by_class
            .iter()
            .map(|c| PyFindingGroup {
                key: c.class.as_str().to_owned(),
                label: String::new(),
                count: c.count,
                impact: c.money_impact,
            })
            .collect()
    }

    /// One group per customer with findings.
    #[getter]
    fn by_customer(&self) -> Vec<PyFindingGroup> {
        self.0
            .by_customer
            .iter()
            .map(|c| PyFindingGroup {
                key: c.customer_org_id.clone(),
                label: c.customer_external_id.clone(),
                count: c.count,
                impact: c.money_impact,
            })
            .collect()
    }

    /// One group per SKU with findings.
    #[getter]
    fn by_sku(&self) -> Vec<PyFindingGroup> {
        self.0
            .by_sku
            .iter()
            .map(|s| PyFindingGroup {
                key: s.sku.clone(),
                label: String::new(),
                count: s.count,
                impact: s.money_impact,
            })
            .collect()
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "ReconciliationSummary(period='{}', findings={}, money_impact={})",
            self.0.period,
            self.0.findings,
            quoted(&self.0.money_impact.to_string())
        )
    }
}

/// The result of ``reconcile``: the findings, sorted by class, customer, subscriber and SKU.
/// ``len()``, iteration and ``bool()`` (true when there are findings) work.
#[pyclass(name = "Reconciliation", module = "wholesale_billing", frozen)]
pub(crate) struct PyReconciliation(Arc<Reconciliation>);

impl PyReconciliation {
    fn table<'py>(&self, py: Python<'py>) -> Table<'py> {
        let findings = &self.0.findings;
        let mut table = Table::new(py);
        table.text("finding_class", findings.iter().map(|f| f.class.as_str()));
        table.text("customer_org_id", findings.iter().map(|f| f.customer_org_id.as_str()));
        table.text(
            "customer_external_id",
            findings.iter().map(|f| f.customer_external_id.as_str()),
        );
        table.text("subscriber_id", findings.iter().map(|f| f.subscriber_id.as_str()));
        table.text("sku", findings.iter().map(|f| f.sku.as_str()));
        table.opt_text("expected_sku", findings.iter().map(|f| f.expected_sku.as_deref()));
        table.decimals("expected", findings.iter().map(|f| Some(f.expected)));
        table.decimals("actual", findings.iter().map(|f| Some(f.actual)));
        table.decimals("difference", findings.iter().map(|f| Some(f.difference)));
        table.text("unit", findings.iter().map(|f| f.unit.as_str()));
        table.decimals("money_impact", findings.iter().map(|f| Some(f.money_impact.amount())));
        let currencies: Vec<String> = findings
            .iter()
            .map(|f| f.money_impact.currency().code().to_owned())
            .collect();
        table.text("currency", currencies.iter().map(String::as_str));
        table.text("detail", findings.iter().map(|f| f.detail.as_str()));
        table
    }
}

#[pymethods]
impl PyReconciliation {
    /// The period reconciled.
    #[getter]
    fn period(&self) -> PyPeriod {
        PyPeriod(self.0.period)
    }

    /// The ISO 4217 currency of the money impacts.
    #[getter]
    fn currency(&self) -> String {
        self.0.currency.code().to_owned()
    }

    /// Every finding.
    #[getter]
    fn findings(&self) -> Vec<PyFinding> {
        self.0.findings.iter().cloned().map(PyFinding).collect()
    }

    /// Whether nothing was found.
    #[getter]
    fn is_clean(&self) -> bool {
        self.0.is_clean()
    }

    /// The findings of one class (``"quantity_mismatch"``, ...).
    fn of_class(&self, finding_class: String) -> PyResult<Vec<PyFinding>> {
        let class = FindingClass::from_str(&finding_class).or_raise()?;
        Ok(self.0.of_class(class).cloned().map(PyFinding).collect())
    }

    /// Counts and money impact by class, customer and SKU.
    fn summary(&self) -> PyResult<PySummary> {
        self.0.summary().map(PySummary).or_raise()
    }

    fn __len__(&self) -> usize {
        self.0.findings.len()
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let list = pyo3::types::PyList::new(py, self.findings())?;
        Ok(list.try_iter()?.into_any().unbind())
    }

    /// The findings as CSV: written to ``path`` or returned.
    #[pyo3(signature = (path = None))]
    fn to_csv(&self, py: Python<'_>, path: Option<PathBuf>) -> PyResult<Option<String>> {
        let result = &self.0;
        write_output(py, path, "reconciliation", |out| result.write_csv(out))
    }

    /// The reconciliation as JSON (amounts as strings).
    fn to_json(&self) -> PyResult<String> {
        self.0.to_json().or_raise()
    }

    /// One dict per finding, keyed by the CSV's columns, ``finding_class`` standing for ``class``
    /// (numbers as ``decimal.Decimal``).
    fn to_dicts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.table(py).to_dicts()?.into_any())
    }

    /// A pandas ``DataFrame`` of the findings (needs pandas).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.table(py).to_pandas("to_pandas")
    }

    /// A polars ``DataFrame`` of the findings (needs polars).
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

    fn __repr__(&self) -> String {
        format!(
            "Reconciliation(period='{}', findings={})",
            self.0.period,
            self.0.findings.len()
        )
    }
}

/// Compares, per (customer, subscriber, SKU), the ``expected`` USER report (from the partner's
/// own events) with the vendor's USER reports (the partner's and every sub-partner's), and the
/// reports with the ``vendor_invoice`` per SKU. Every report knows its period, the same one: the
/// reconciliation's (see ``UsageReport.with_period``). ``tolerance`` is in user-days (default 0:
/// the numbers are exact). Computed without the GIL.
#[pyfunction]
#[pyo3(signature = (expected, vendor_reports, rates, *, vendor_invoice = None, tolerance = None, rounding = None, stated_invoice_total = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn reconcile(
    py: Python<'_>,
    expected: PyRef<'_, PyUsageReport>,
    vendor_reports: &Bound<'_, PyAny>,
    rates: PyRef<'_, PyRateCard>,
    vendor_invoice: Option<PyRef<'_, PyVendorInvoice>>,
    tolerance: Option<&Bound<'_, PyAny>>,
    rounding: Option<&Bound<'_, PyAny>>,
    stated_invoice_total: Option<PyRef<'_, PyMoney>>,
) -> PyResult<PyReconciliation> {
    let expected = expected.inner().clone();
    let vendor = reports_arg(vendor_reports, "vendor_reports")?;
    let rates = rates.0.clone();
    let invoice = vendor_invoice.map(|i| i.invoice.clone());
    let rounding = rounding_arg(rounding)?;
    let tolerance = match tolerance.filter(|t| !t.is_none()) {
        Some(t) => quantity_arg(t, "tolerance")?,
        None => Quantity::ZERO,
    };
    let stated_total = stated_invoice_total.map(|total| total.0);
    let result = py
        .detach(|| {
            Reconciler::new(&rates)
                .invoice(invoice.as_deref())
                .tolerance(tolerance)
                .rounding(rounding)
                .stated_total(stated_total)
                .run(&expected, vendor.iter().map(|r| r.as_ref()))
        })
        .or_raise()?;
    Ok(PyReconciliation(Arc::new(result)))
}

/// A discrepancy planted by ``plant_discrepancies``: the finding ``reconcile`` must give.
#[pyclass(name = "PlantedDiscrepancy", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyPlanted(wb::synthetic::PlantedDiscrepancy);

#[pymethods]
impl PyPlanted {
    /// The class of finding it must give.
    #[getter]
    fn finding_class(&self) -> &'static str {
        self.0.class.as_str()
    }

    /// The customer org.
    #[getter]
    fn customer_org_id(&self) -> &str {
        &self.0.customer_org_id
    }

    /// The subscriber.
    #[getter]
    fn subscriber_id(&self) -> &str {
        &self.0.subscriber_id
    }

    /// The SKU the finding names (for ``sku_mismatch`` the vendor's).
    #[getter]
    fn sku(&self) -> &str {
        &self.0.sku
    }

    /// For ``sku_mismatch``: the original SKU.
    #[getter]
    fn expected_sku(&self) -> Option<&str> {
        self.0.expected_sku.as_deref()
    }

    /// The original quantity (user-days).
    #[getter]
    fn expected<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_quantity(py, self.0.expected)
    }

    /// The planted quantity (user-days).
    #[getter]
    fn actual<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_quantity(py, self.0.actual)
    }

    fn __repr__(&self) -> String {
        format!(
            "PlantedDiscrepancy({}, customer_org_id={}, subscriber_id={}, sku={})",
            quoted(self.0.class.as_str()),
            quoted(&self.0.customer_org_id),
            quoted(&self.0.subscriber_id),
            quoted(&self.0.sku)
        )
    }
}

/// A copy of a USER ``report`` with ``count`` known discrepancies drawn from ``seed``, and the
/// list of them sorted like reconciliation findings: for testing ``reconcile``.
#[pyfunction]
#[pyo3(signature = (report, *, seed, count))]
pub(crate) fn plant_discrepancies(
    py: Python<'_>,
    report: PyRef<'_, PyUsageReport>,
    seed: u64,
    count: usize,
) -> PyResult<(PyUsageReport, Vec<PyPlanted>)> {
    let report = report.inner().clone();
    let (vendor, planted) = py
        .detach(|| wb::synthetic::plant_discrepancies(&report, seed, count))
        .or_raise()?;
    Ok((
        PyUsageReport::computed(vendor),
        planted.into_iter().map(PyPlanted).collect(),
    ))
}
