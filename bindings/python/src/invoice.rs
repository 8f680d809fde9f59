//! Invoices: the vendor invoice (expected, or read as Cisco sent it) and the month's customer and
//! sub-partner invoices with the margin report.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use wholesale_billing::{
    self as wb, BillTo, BillingOptions, Commitment, Diagnostics, FixedLine, Invoice, InvoiceLine, LinePricing,
    MarginReport, MarginRow, Money, MonthlyBilling, VendorInvoice, VendorInvoiceLine, VendorInvoiceOptions,
};

use crate::convert::{
    Source, decimal_arg, opt_decimal_arg, period_param, py_date, py_decimal, py_quantity, write_output,
};
use crate::errors::OrRaise;
use crate::ledger::PyDiagnostics;
use crate::org::PyOrganisation;
use crate::period::{PyMoney, PyPeriod, py_money};
use crate::rates::{PyPriceBook, PyRateCard, rounding_arg};
use crate::report::{PyUsageReport, reports_arg};
use crate::table::Table;
use crate::text::quoted;

fn json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string_pretty(value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A fixed line of a vendor invoice (a support plan, a one-off charge): ``quantity`` × ``rate``.
#[pyclass(name = "FixedLine", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyFixedLine(FixedLine);

#[pymethods]
impl PyFixedLine {
    #[new]
    #[pyo3(
        signature = (sku, quantity, rate, description = String::new()),
        text_signature = "(sku, quantity, rate, description='')"
    )]
    fn new(sku: String, quantity: &Bound<'_, PyAny>, rate: &Bound<'_, PyAny>, description: String) -> PyResult<Self> {
        Ok(PyFixedLine(FixedLine {
            sku,
            description,
            quantity: decimal_arg(quantity, "quantity")?,
            rate: decimal_arg(rate, "rate")?,
        }))
    }

    /// The SKU.
    #[getter]
    fn sku(&self) -> &str {
        &self.0.sku
    }

    /// The description.
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }

    /// The quantity.
    #[getter]
    fn quantity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.quantity)
    }

    /// The price per unit.
    #[getter]
    fn rate<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.rate)
    }

    fn __repr__(&self) -> String {
        format!(
            "FixedLine({}, Decimal('{}'), Decimal('{}'), {})",
            quoted(&self.0.sku),
            self.0.quantity,
            self.0.rate,
            quoted(&self.0.description)
        )
    }
}

/// One line of a vendor invoice.
#[pyclass(name = "VendorInvoiceLine", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyVendorInvoiceLine(VendorInvoiceLine);

#[pymethods]
impl PyVendorInvoiceLine {
    /// The SKU (``TAX``, ``OVERAGE`` for those lines).
    #[getter]
    fn sku(&self) -> &str {
        &self.0.sku
    }

    /// The description.
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }

    /// ``"usage"``, ``"committed_spend"``, ``"overage"``, ``"tax"`` or ``"other"``.
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.kind.as_str()
    }

    /// The period the line covers, when it says.
    #[getter]
    fn period(&self) -> Option<PyPeriod> {
        self.0.period.map(PyPeriod)
    }

    /// The quantity: user-months for usage lines.
    #[getter]
    fn quantity<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.quantity)
    }

    /// The price per unit.
    #[getter]
    fn rate<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.rate)
    }

    /// The line's amount, rounded to the currency's minor unit.
    #[getter]
    fn extended<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_money(py, self.0.extended)
    }

    /// The user-days the quantity derives from (usage lines).
    #[getter]
    fn user_days<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.user_days.map(|q| py_quantity(py, q)).transpose()
    }

    /// The days of the billing period (usage lines).
    #[getter]
    fn days_in_period(&self) -> Option<u32> {
        self.0.days_in_period
    }

    /// The line of the CSV it was read from.
    #[getter]
    fn source_line(&self) -> Option<u64> {
        self.0.source_line
    }

    fn __repr__(&self) -> String {
        format!(
            "VendorInvoiceLine({}, kind='{}', quantity=Decimal('{}'), rate=Decimal('{}'), extended={})",
            quoted(&self.0.sku),
            self.0.kind,
            self.0.quantity,
            self.0.rate,
            quoted(&self.0.extended.to_string())
        )
    }
}

/// The invoice Cisco sends for a billing period: computed by ``expected_vendor_invoice``, or read
/// as sent by ``VendorInvoice.read_csv``.
#[pyclass(name = "VendorInvoice", module = "wholesale_billing", frozen)]
pub(crate) struct PyVendorInvoice {
    pub(crate) invoice: Arc<VendorInvoice>,
    diagnostics: Option<Diagnostics>,
}

impl PyVendorInvoice {
    fn table<'py>(&self, py: Python<'py>) -> PyResult<Table<'py>> {
        let lines = &self.invoice.lines;
        let mut table = Table::new(py);
        table.text("sku", lines.iter().map(|l| l.sku.as_str()));
        table.text("description", lines.iter().map(|l| l.description.as_str()));
        table.text("kind", lines.iter().map(|l| l.kind.as_str()));
        let date = |d: Option<wb::NaiveDate>| match d {
            Some(d) => py_date(py, d),
            None => Ok(py.None().into_bound(py)),
        };
        let starts = lines
            .iter()
            .map(|l| date(l.period.map(|p| p.start())))
            .collect::<PyResult<Vec<_>>>()?;
        let ends = lines
            .iter()
            .map(|l| date(l.period.map(|p| p.end())))
            .collect::<PyResult<Vec<_>>>()?;
        table.values("period_start", starts);
        table.values("period_end", ends);
        table.decimals("quantity", lines.iter().map(|l| Some(l.quantity)));
        table.decimals("rate", lines.iter().map(|l| Some(l.rate)));
        table.decimals("extended_amount", lines.iter().map(|l| Some(l.extended.amount())));
        let currencies: Vec<String> = lines.iter().map(|l| l.extended.currency().code().to_owned()).collect();
        table.text("currency", currencies.iter().map(String::as_str));
        table.decimals("user_days", lines.iter().map(|l| l.user_days.map(|q| q.to_decimal())));
        let days = lines
            .iter()
            .map(|l| l.days_in_period.into_bound_py_any(py))
            .collect::<PyResult<Vec<_>>>()?;
        table.values("days_in_period", days);
        Ok(table)
    }
}

#[pymethods]
impl PyVendorInvoice {
    /// Reads an invoice as Cisco sent it, as CSV lines (path, bytes or binary file object):
    /// ``sku``, ``quantity``, ``rate``, ``extended_amount`` and ``currency`` required; a ``TOTAL``
    /// row is kept as ``stated_total``, even when it is not the sum of the lines (a warning in
    /// ``diagnostics``; ``reconcile`` reports the difference). A cut file raises.
    #[staticmethod]
    fn read_csv(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<Self> {
        let source = Source::from_py(source, "vendor invoice")?;
        let (invoice, diagnostics) = source
            .read_with(py, "vendor invoice", |reader| VendorInvoice::read_csv(reader))?
            .or_raise()?;
        Ok(PyVendorInvoice {
            invoice: Arc::new(invoice),
            diagnostics: Some(diagnostics),
        })
    }

    /// The ISO 4217 currency.
    #[getter]
    fn currency(&self) -> String {
        self.invoice.currency.code().to_owned()
    }

    /// The billing period, when known.
    #[getter]
    fn period(&self) -> Option<PyPeriod> {
        self.invoice.period.map(PyPeriod)
    }

    /// The lines, in invoice order.
    #[getter]
    fn lines(&self) -> Vec<PyVendorInvoiceLine> {
        self.invoice.lines.iter().cloned().map(PyVendorInvoiceLine).collect()
    }

    /// Committed deal: the usage lines at committed rates the overage was computed from.
    #[getter]
    fn overage_basis(&self) -> Vec<PyVendorInvoiceLine> {
        self.invoice
            .overage_basis
            .iter()
            .cloned()
            .map(PyVendorInvoiceLine)
            .collect()
    }

    /// The ``TOTAL`` row of a read invoice, as written.
    #[getter]
    fn stated_total(&self) -> Option<PyMoney> {
        self.invoice.stated_total.map(PyMoney)
    }

    /// What reading the CSV noticed (``None`` for a computed invoice).
    #[getter]
    fn diagnostics(&self) -> Option<PyDiagnostics> {
        self.diagnostics.clone().map(PyDiagnostics)
    }

    /// The sum of the lines.
    #[getter]
    fn total(&self) -> PyResult<PyMoney> {
        self.invoice.total().map(PyMoney).or_raise()
    }

    /// The sum of the lines of one kind (``"usage"``, ``"tax"``, ...).
    fn total_of(&self, kind: String) -> PyResult<PyMoney> {
        let kind: wb::LineKind = kind.parse().or_raise()?;
        self.invoice.total_of(kind).map(PyMoney).or_raise()
    }

    /// The quantity (user-months) of the usage lines, per SKU.
    fn usage_quantity_by_sku<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (sku, quantity) in self.invoice.usage_quantity_by_sku().or_raise()? {
            dict.set_item(sku, py_decimal(py, quantity)?)?;
        }
        Ok(dict)
    }

    /// The invoice as CSV (lines and a ``TOTAL`` row): written to ``path`` or returned.
    #[pyo3(signature = (path = None))]
    fn to_csv(&self, py: Python<'_>, path: Option<PathBuf>) -> PyResult<Option<String>> {
        let invoice = &self.invoice;
        write_output(py, path, "vendor invoice", |out| invoice.write_csv(out))
    }

    /// The invoice as JSON (amounts as strings).
    fn to_json(&self) -> PyResult<String> {
        json(&*self.invoice)
    }

    /// One dict per line, keyed by the invoice CSV's columns (``sku``, ..., ``extended_amount``,
    /// ``currency``, ``user_days``, ``days_in_period``); amounts as ``decimal.Decimal``.
    fn to_dicts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.table(py)?.to_dicts()?.into_any())
    }

    /// The lines as a pandas ``DataFrame`` (needs pandas).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.table(py)?.to_pandas("to_pandas")
    }

    /// The lines as a polars ``DataFrame`` (needs polars).
    fn to_polars<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.table(py)?.to_polars("to_polars")
    }

    fn __repr__(&self) -> String {
        format!(
            "VendorInvoice(period={}, lines={}, total={})",
            self.invoice
                .period
                .map_or_else(|| "None".to_owned(), |p| format!("'{p}'")),
            self.invoice.lines.len(),
            self.invoice
                .total()
                .map_or_else(|e| e.to_string(), |t| quoted(&t.to_string()))
        )
    }
}

fn fixed_line_arg(value: &Bound<'_, PyAny>) -> PyResult<FixedLine> {
    if let Ok(line) = value.cast::<PyFixedLine>() {
        return Ok(line.get().0.clone());
    }
    let dict = value
        .cast::<PyDict>()
        .map_err(|_| PyTypeError::new_err("fixed_lines: expected FixedLine objects or dicts"))?;
    let get = |key: &str| -> PyResult<Bound<'_, PyAny>> {
        dict.get_item(key)?
            .ok_or_else(|| PyValueError::new_err(format!("fixed_lines: a line without {key:?}")))
    };
    Ok(FixedLine {
        sku: get("sku")?.extract()?,
        description: match dict.get_item("description")? {
            Some(d) if !d.is_none() => d.extract()?,
            _ => String::new(),
        },
        quantity: decimal_arg(&get("quantity")?, "fixed line quantity")?,
        rate: decimal_arg(&get("rate")?, "fixed line rate")?,
    })
}

/// The invoice Cisco should send for ``period``: per SKU, user-months = round(user-days / days, 4)
/// and extended = round(quantity × rate, 2); ``committed`` (an amount in the rate card's currency,
/// or ``Money``) bills the committed spend and the previous month's overage; ``fixed_lines`` and
/// ``tax_percent`` add lines. Computed without the GIL.
#[pyfunction]
#[pyo3(signature = (usage, period, rates, *, committed = None, fixed_lines = None, tax_percent = None, rounding = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn expected_vendor_invoice(
    py: Python<'_>,
    usage: &Bound<'_, PyAny>,
    period: &Bound<'_, PyAny>,
    rates: PyRef<'_, PyRateCard>,
    committed: Option<&Bound<'_, PyAny>>,
    fixed_lines: Option<&Bound<'_, PyAny>>,
    tax_percent: Option<&Bound<'_, PyAny>>,
    rounding: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyVendorInvoice> {
    let reports = reports_arg(usage, "usage")?;
    let period = period_param(period)?;
    let card = rates.0.clone();
    let commitment = match committed.filter(|c| !c.is_none()) {
        None => Commitment::Uncommitted,
        Some(c) => match c.cast::<PyMoney>() {
            Ok(m) => Commitment::Committed { monthly: m.get().0 },
            Err(_) => Commitment::Committed {
                monthly: Money::new(decimal_arg(c, "committed")?, card.currency()),
            },
        },
    };
    let fixed_lines = match fixed_lines.filter(|f| !f.is_none()) {
        None => Vec::new(),
        Some(lines) => lines
            .try_iter()?
            .map(|l| fixed_line_arg(&l?))
            .collect::<PyResult<Vec<_>>>()?,
    };
    let options = VendorInvoiceOptions {
        commitment,
        fixed_lines,
        tax_percent: opt_decimal_arg(tax_percent, "tax_percent")?,
        rounding: rounding_arg(rounding)?,
    };
    let invoice = py
        .detach(|| wb::expected_vendor_invoice(reports.iter().map(|r| r.as_ref()), period, &card, &options))
        .or_raise()?;
    Ok(PyVendorInvoice {
        invoice: Arc::new(invoice),
        diagnostics: None,
    })
}

/// How units of one tiered band were priced.
#[pyclass(name = "BandUse", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyBandUse(wb::BandUse);

#[pymethods]
impl PyBandUse {
    /// The 1-based band number.
    #[getter]
    fn band(&self) -> usize {
        self.0.band
    }

    /// Units in the band.
    #[getter]
    fn units<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.units)
    }

    /// The band's price per unit.
    #[getter]
    fn price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.price)
    }

    /// Units × price, exact.
    #[getter]
    fn amount<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.amount)
    }

    fn __repr__(&self) -> String {
        format!(
            "BandUse(band={}, units=Decimal('{}'), price=Decimal('{}'), amount=Decimal('{}'))",
            self.0.band, self.0.units, self.0.price, self.0.amount
        )
    }
}

/// One line of a customer or sub-partner invoice, with how it was derived.
#[pyclass(name = "InvoiceLine", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyInvoiceLine(InvoiceLine);

#[pymethods]
impl PyInvoiceLine {
    /// The SKU.
    #[getter]
    fn sku(&self) -> &str {
        &self.0.sku
    }

    /// The description shown (the price book's, else the report's).
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }

    /// The location, for per-location lines.
    #[getter]
    fn location_id(&self) -> Option<&str> {
        self.0.location_id.as_deref()
    }

    /// The user-days billed.
    #[getter]
    fn user_days<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_quantity(py, self.0.user_days)
    }

    /// The days of the billing period.
    #[getter]
    fn days_in_period(&self) -> u32 {
        self.0.days_in_period
    }

    /// ``"prorated"`` or ``"whole_units"``.
    #[getter]
    fn unit_mode(&self) -> String {
        self.0.unit_mode.to_string()
    }

    /// The units priced (user-months, or whole units).
    #[getter]
    fn units<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.units)
    }

    /// The flat price per unit, ``None`` for a tiered price.
    #[getter]
    fn unit_price<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.0.pricing {
            LinePricing::Flat { price } => py_decimal(py, *price).map(Some),
            LinePricing::Tiered { .. } => Ok(None),
        }
    }

    /// ``"volume"`` or ``"graduated"`` for a tiered price, else ``None``.
    #[getter]
    fn tiers(&self) -> Option<&'static str> {
        match &self.0.pricing {
            LinePricing::Flat { .. } => None,
            LinePricing::Tiered { tiers, .. } => Some(tiers.as_str()),
        }
    }

    /// The bands used by a tiered price (empty for a flat one).
    #[getter]
    fn bands(&self) -> Vec<PyBandUse> {
        match &self.0.pricing {
            LinePricing::Flat { .. } => Vec::new(),
            LinePricing::Tiered { bands, .. } => bands.iter().cloned().map(PyBandUse).collect(),
        }
    }

    /// The line's amount, rounded.
    #[getter]
    fn amount<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_money(py, self.0.amount)
    }

    /// How the amount was computed, in words and numbers.
    #[getter]
    fn derivation(&self) -> &str {
        &self.0.derivation
    }

    fn __repr__(&self) -> String {
        format!(
            "InvoiceLine({}, units=Decimal('{}'), amount={})",
            quoted(&self.0.sku),
            self.0.units,
            quoted(&self.0.amount.to_string())
        )
    }
}

/// An invoice to a customer of the partner, or a roll-up to a sub-partner.
#[pyclass(name = "Invoice", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyInvoice(Invoice);

#[pymethods]
impl PyInvoice {
    /// ``"customer"`` or ``"sub_partner"``.
    #[getter]
    fn bill_to(&self) -> &'static str {
        match self.0.bill_to {
            BillTo::Customer { .. } => "customer",
            BillTo::SubPartner { .. } => "sub_partner",
        }
    }

    /// The org id billed.
    #[getter]
    fn org_id(&self) -> &str {
        self.0.bill_to.org_id()
    }

    /// The customer's external id, or the sub-partner's name.
    #[getter]
    fn label(&self) -> &str {
        self.0.bill_to.label()
    }

    /// The issuer's org id (the partner).
    #[getter]
    fn issuer_org_id(&self) -> &str {
        &self.0.issuer_org_id
    }

    /// The issuer's name.
    #[getter]
    fn issuer_name(&self) -> &str {
        &self.0.issuer_name
    }

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

    /// The lines.
    #[getter]
    fn lines(&self) -> Vec<PyInvoiceLine> {
        self.0.lines.iter().cloned().map(PyInvoiceLine).collect()
    }

    /// The sum of the lines.
    #[getter]
    fn subtotal(&self) -> PyMoney {
        PyMoney(self.0.subtotal)
    }

    /// The discount percentage applied.
    #[getter]
    fn discount_percent<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.discount_percent)
    }

    /// The discount.
    #[getter]
    fn discount(&self) -> PyMoney {
        PyMoney(self.0.discount)
    }

    /// The minimum charge of the terms.
    #[getter]
    fn minimum_charge(&self) -> PyMoney {
        PyMoney(self.0.minimum_charge)
    }

    /// What brought the net up to the minimum charge.
    #[getter]
    fn minimum_top_up(&self) -> PyMoney {
        PyMoney(self.0.minimum_top_up)
    }

    /// The tax percentage applied.
    #[getter]
    fn tax_percent<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.tax_percent)
    }

    /// The tax.
    #[getter]
    fn tax(&self) -> PyMoney {
        PyMoney(self.0.tax)
    }

    /// Net + tax.
    #[getter]
    fn total(&self) -> PyMoney {
        PyMoney(self.0.total)
    }

    /// Subtotal − discount + minimum top-up.
    fn net(&self) -> PyResult<PyMoney> {
        self.0.net().map(PyMoney).or_raise()
    }

    /// The invoice as CSV: written to ``path`` or returned.
    #[pyo3(signature = (path = None))]
    fn to_csv(&self, py: Python<'_>, path: Option<PathBuf>) -> PyResult<Option<String>> {
        let invoice = &self.0;
        write_output(py, path, "invoice", |out| invoice.write_csv(out))
    }

    /// The invoice as JSON (amounts as strings).
    fn to_json(&self) -> PyResult<String> {
        json(&self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "Invoice(bill_to='{}', org_id={}, label={}, lines={}, total={})",
            self.bill_to(),
            quoted(self.0.bill_to.org_id()),
            quoted(self.0.bill_to.label()),
            self.0.lines.len(),
            quoted(&self.0.total.to_string())
        )
    }
}

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
pub(crate) struct PyMarginReport(Arc<MarginReport>);

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
        let lines = invoices
            .iter()
            .map(|i| i.lines.len().into_bound_py_any(py))
            .collect::<PyResult<Vec<_>>>()?;
        table.values("lines", lines);
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

/// Bills a month from a USER or CUSTOMER usage report (of the whole subscription, or of the
/// partner only), the organisation and the price book; with ``rates``, also the margin report.
/// ``per_location=True`` gives one line per SKU and location. Computed without the GIL.
#[pyfunction]
#[pyo3(signature = (usage, org, price_book, period, *, rates = None, per_location = false))]
pub(crate) fn bill_month(
    py: Python<'_>,
    usage: PyRef<'_, PyUsageReport>,
    org: PyRef<'_, PyOrganisation>,
    price_book: PyRef<'_, PyPriceBook>,
    period: &Bound<'_, PyAny>,
    rates: Option<PyRef<'_, PyRateCard>>,
    per_location: bool,
) -> PyResult<PyMonthlyBilling> {
    let period = period_param(period)?;
    let usage = usage.inner().clone();
    let org = org.0.clone();
    let book = price_book.0.clone();
    let rates = rates.map(|r| r.0.clone());
    let options = BillingOptions { per_location };
    let month = py
        .detach(|| wb::bill_month(&usage, &org, &book, rates.as_deref(), period, &options))
        .or_raise()?;
    Ok(PyMonthlyBilling(Arc::new(month)))
}
