//! The invoice to a customer of the partner, or the roll-up to a sub-partner, and its lines with
//! how each was priced.

use std::path::PathBuf;

use pyo3::prelude::*;
use wholesale_billing::{self as wb, BillTo, Invoice, InvoiceLine, LinePricing};

use super::json;
use crate::convert::{py_decimal, py_quantity, write_output};
use crate::errors::OrRaise;
use crate::period::{PyMoney, PyPeriod, py_money};
use crate::text::quoted;

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
            LinePricing::Tiered { .. } | LinePricing::Minutes { .. } => Ok(None),
        }
    }

    /// ``"volume"`` or ``"graduated"`` for a tiered price, else ``None``.
    #[getter]
    fn tiers(&self) -> Option<&'static str> {
        match &self.0.pricing {
            LinePricing::Flat { .. } | LinePricing::Minutes { .. } => None,
            LinePricing::Tiered { tiers, .. } => Some(tiers.as_str()),
        }
    }

    /// The bands used by a tiered price (empty for a flat one).
    #[getter]
    fn bands(&self) -> Vec<PyBandUse> {
        match &self.0.pricing {
            LinePricing::Flat { .. } | LinePricing::Minutes { .. } => Vec::new(),
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
pub(crate) struct PyInvoice(pub(super) Invoice);

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
