//! The vendor invoice: the invoice Cisco should send (``expected_vendor_invoice``) or the one it
//! sent (``VendorInvoice.read_csv``), its lines and its fixed lines.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use wholesale_billing::{self as wb, Diagnostics, ExpectedInvoice, FixedLine, Money, VendorInvoice, VendorInvoiceLine};

use super::json;
use crate::convert::{Source, decimal_arg, opt_decimal_arg, py_decimal, py_quantity, write_output};
use crate::errors::OrRaise;
use crate::ledger::PyDiagnostics;
use crate::period::{PyMoney, PyPeriod, py_money};
use crate::rates::{PyRateCard, rounding_arg};
use crate::report::reports_arg;
use crate::table::Table;
use crate::text::quoted;

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
        table.dates("period_start", lines.iter().map(|l| l.period.map(|p| p.start())));
        table.dates("period_end", lines.iter().map(|l| l.period.map(|p| p.end())));
        table.decimals("quantity", lines.iter().map(|l| Some(l.quantity)));
        table.decimals("rate", lines.iter().map(|l| Some(l.rate)));
        table.decimals("extended_amount", lines.iter().map(|l| Some(l.extended.amount())));
        let currencies: Vec<String> = lines.iter().map(|l| l.extended.currency().code().to_owned()).collect();
        table.text("currency", currencies.iter().map(String::as_str));
        table.decimals("user_days", lines.iter().map(|l| l.user_days.map(|q| q.to_decimal())));
        table.ints("days_in_period", lines.iter().map(|l| l.days_in_period.map(i64::from)));
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

/// The invoice Cisco should send for the period of the ``usage`` reports (one report, or the
/// partner's and every sub-partner's, all of one period: see ``UsageReport.with_period``): per SKU,
/// user-months = round(user-days / days, 4) and extended = round(quantity × rate, 2);
/// ``committed`` (an amount in the rate card's currency, or ``Money``) bills the committed spend
/// and the previous month's overage; ``fixed_lines`` and ``tax_percent`` add lines. Computed
/// without the GIL.
#[pyfunction]
#[pyo3(signature = (usage, rates, *, committed = None, fixed_lines = None, tax_percent = None, rounding = None))]
pub(crate) fn expected_vendor_invoice(
    py: Python<'_>,
    usage: &Bound<'_, PyAny>,
    rates: PyRef<'_, PyRateCard>,
    committed: Option<&Bound<'_, PyAny>>,
    fixed_lines: Option<&Bound<'_, PyAny>>,
    tax_percent: Option<&Bound<'_, PyAny>>,
    rounding: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyVendorInvoice> {
    let reports = reports_arg(usage, "usage")?;
    let card = rates.0.clone();
    let committed = match committed.filter(|c| !c.is_none()) {
        None => None,
        Some(c) => Some(match c.cast::<PyMoney>() {
            Ok(m) => m.get().0,
            Err(_) => Money::new(decimal_arg(c, "committed")?, card.currency()),
        }),
    };
    let fixed_lines = match fixed_lines.filter(|f| !f.is_none()) {
        None => Vec::new(),
        Some(lines) => lines
            .try_iter()?
            .map(|l| fixed_line_arg(&l?))
            .collect::<PyResult<Vec<_>>>()?,
    };
    let tax_percent = opt_decimal_arg(tax_percent, "tax_percent")?;
    let rounding = rounding_arg(rounding)?;
    let invoice = py
        .detach(|| {
            ExpectedInvoice::new(&card)
                .committed(committed)
                .fixed_lines(fixed_lines)
                .tax_percent(tax_percent)
                .rounding(rounding)
                .build(reports.iter().map(|r| r.as_ref()))
        })
        .or_raise()?;
    Ok(PyVendorInvoice {
        invoice: Arc::new(invoice),
        diagnostics: None,
    })
}
