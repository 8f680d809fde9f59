//! Wholesale rate cards (what the partner pays Cisco) and price books (what it charges).

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::{PyKeyError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping, PyString};
use wholesale_billing::ccws::OfferDetailsResponse;
use wholesale_billing::{Currency, PriceBook, RoundingMode, RoundingPolicy, WholesaleRate, WholesaleRateCard};

use crate::convert::{Source, decimal_arg, opt_decimal_arg, py_decimal, read_file_bytes, write_output};
use crate::errors::OrRaise;
use crate::text::quoted;

/// The partner's Cisco price of one SKU, per user-month: ``rate`` (uncommitted) and the optional
/// ``committed_rate``, as ``decimal.Decimal``.
#[pyclass(name = "WholesaleRate", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyWholesaleRate(pub(crate) WholesaleRate);

#[pymethods]
impl PyWholesaleRate {
    #[new]
    #[pyo3(
        signature = (sku, rate, *, committed_rate = None, description = String::new(), unit_of_measure = String::new(), charge_type = String::new()),
        text_signature = "(sku, rate, *, committed_rate=None, description='', unit_of_measure='', charge_type='')"
    )]
    fn new(
        sku: String,
        rate: &Bound<'_, PyAny>,
        committed_rate: Option<&Bound<'_, PyAny>>,
        description: String,
        unit_of_measure: String,
        charge_type: String,
    ) -> PyResult<Self> {
        Ok(PyWholesaleRate(WholesaleRate {
            sku,
            description,
            rate: decimal_arg(rate, "rate")?,
            committed_rate: opt_decimal_arg(committed_rate, "committed_rate")?,
            unit_of_measure,
            charge_type,
        }))
    }

    /// The SKU.
    #[getter]
    fn sku(&self) -> &str {
        &self.0.sku
    }

    /// Price per user-month under an uncommitted deal.
    #[getter]
    fn rate<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.rate)
    }

    /// Price per user-month under a committed deal, when it differs.
    #[getter]
    fn committed_rate<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.committed_rate.map(|r| py_decimal(py, r)).transpose()
    }

    /// The SKU's description, when known.
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }

    /// Unit of measure from the catalog (``Per User``), when known.
    #[getter]
    fn unit_of_measure(&self) -> &str {
        &self.0.unit_of_measure
    }

    /// Charge type from the catalog (``Usage``), when known.
    #[getter]
    fn charge_type(&self) -> &str {
        &self.0.charge_type
    }

    /// The committed price, or the uncommitted one when no committed price is given.
    fn committed_or_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.committed_or_list())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyWholesaleRate>().is_ok_and(|o| o.get().0 == self.0)
    }

    fn __repr__(&self) -> String {
        let committed = self
            .0
            .committed_rate
            .map_or_else(String::new, |c| format!(", committed_rate=Decimal('{c}')"));
        format!(
            "WholesaleRate({}, Decimal('{}'){committed})",
            quoted(&self.0.sku),
            self.0.rate
        )
    }
}

/// The partner's wholesale prices, in one currency, keyed by SKU.
///
/// ``WholesaleRateCard("USD", {"A-W-WXC-CALL-U": Decimal("8.00")})`` or with ``WholesaleRate``
/// objects; or read with ``from_file`` (CSV, TOML, JSON, or a Cisco Commerce Catalog "Get Offer
/// Details" JSON response), ``from_csv``, ``from_toml``, ``from_json``, ``from_offer_details_json``.
#[pyclass(name = "WholesaleRateCard", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyRateCard(pub(crate) Arc<WholesaleRateCard>);

impl PyRateCard {
    pub(crate) fn wrap(card: WholesaleRateCard) -> Self {
        PyRateCard(Arc::new(card))
    }
}

#[pymethods]
impl PyRateCard {
    #[new]
    #[pyo3(signature = (currency, rates = None))]
    fn new(currency: String, rates: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let mut card = WholesaleRateCard::new(Currency::from_code(&currency).or_raise()?);
        if let Some(rates) = rates.filter(|r| !r.is_none()) {
            if let Ok(mapping) = rates.cast::<PyMapping>() {
                for item in mapping.items()?.iter() {
                    let (sku, price): (String, Bound<'_, PyAny>) = item.extract()?;
                    let what = format!("rate of {sku}");
                    let rate = decimal_arg(&price, &what)?;
                    card.insert(WholesaleRate::new(sku, rate)).or_raise()?;
                }
            } else {
                for item in rates.try_iter()? {
                    let item = item?;
                    let rate = item.cast::<PyWholesaleRate>().map_err(|_| {
                        PyTypeError::new_err("rates: expected WholesaleRate objects or a mapping of SKU to price")
                    })?;
                    card.insert(rate.get().0.clone()).or_raise()?;
                }
            }
        }
        Ok(PyRateCard::wrap(card))
    }

    /// Reads a rate card file: CSV (``.csv``), JSON (``.json``: a rate card, or a Commerce Catalog
    /// "Get Offer Details" response, recognised by its ``itemDetails``) or TOML (anything else).
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let name = path.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".csv") {
            let source = Source::Path(path);
            return source
                .read_with(py, "rate card", |reader| WholesaleRateCard::from_csv(reader))?
                .map(PyRateCard::wrap)
                .or_raise();
        }
        let bytes = read_file_bytes(py, &path, "rate card")?;
        let card = if name.ends_with(".json") {
            if bytes.windows(13).any(|w| w == b"\"itemDetails\"") {
                OfferDetailsResponse::from_json_slice(&bytes).and_then(|r| WholesaleRateCard::from_offer_details(&r))
            } else {
                WholesaleRateCard::from_json_slice(&bytes)
            }
        } else {
            WholesaleRateCard::from_toml_slice(&bytes)
        };
        card.map(PyRateCard::wrap).or_raise()
    }

    /// Reads a rate card CSV (path, bytes or binary file object).
    #[staticmethod]
    fn from_csv(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<Self> {
        let source = Source::from_py(source, "rate card")?;
        source
            .read_with(py, "rate card", |reader| WholesaleRateCard::from_csv(reader))?
            .map(PyRateCard::wrap)
            .or_raise()
    }

    /// Reads the TOML form (prices as strings: ``rate = "8.00"``).
    #[staticmethod]
    fn from_toml(text: String) -> PyResult<Self> {
        WholesaleRateCard::from_toml_str(&text).map(PyRateCard::wrap).or_raise()
    }

    /// Reads the JSON form (``{"currency": "USD", "rates": {"SKU": {"rate": "8.00"}}}``).
    #[staticmethod]
    fn from_json(text: String) -> PyResult<Self> {
        WholesaleRateCard::from_json_str(&text).map(PyRateCard::wrap).or_raise()
    }

    /// Reads a Cisco Commerce Catalog "Get Offer Details" JSON response.
    #[staticmethod]
    fn from_offer_details_json(text: String) -> PyResult<Self> {
        WholesaleRateCard::from_offer_details_json(&text)
            .map(PyRateCard::wrap)
            .or_raise()
    }

    /// The ISO 4217 currency of every price.
    #[getter]
    fn currency(&self) -> String {
        self.0.currency().code().to_owned()
    }

    /// Every rate, by SKU.
    #[getter]
    fn rates(&self) -> Vec<PyWholesaleRate> {
        self.0.rates().cloned().map(PyWholesaleRate).collect()
    }

    /// The rate of a SKU, or ``None``.
    fn get(&self, sku: String) -> Option<PyWholesaleRate> {
        self.0.get(&sku).cloned().map(PyWholesaleRate)
    }

    /// The rate of a SKU (``PricingError`` naming the SKUs the card has otherwise).
    fn rate(&self, sku: String) -> PyResult<PyWholesaleRate> {
        self.0.rate(&sku).cloned().map(PyWholesaleRate).or_raise()
    }

    fn __len__(&self) -> usize {
        self.0.len()
    }

    fn __contains__(&self, sku: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(match sku.cast::<PyString>() {
            Ok(s) => self.0.get(&s.to_cow()?).is_some(),
            Err(_) => false,
        })
    }

    fn __getitem__(&self, sku: String) -> PyResult<PyWholesaleRate> {
        self.0
            .get(&sku)
            .cloned()
            .map(PyWholesaleRate)
            .ok_or_else(|| PyKeyError::new_err(sku))
    }

    /// The card as CSV: written to ``path`` (returns ``None``) or returned as text.
    #[pyo3(signature = (path = None))]
    fn to_csv(&self, py: Python<'_>, path: Option<PathBuf>) -> PyResult<Option<String>> {
        let card = &self.0;
        write_output(py, path, "rate card", |out| card.write_csv(out))
    }

    /// The card in the TOML form.
    fn to_toml(&self) -> PyResult<String> {
        self.0.to_toml_string().or_raise()
    }

    /// The card in the JSON form.
    fn to_json(&self) -> PyResult<String> {
        self.0.to_json_string().or_raise()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyRateCard>().is_ok_and(|o| *o.get().0 == *self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "WholesaleRateCard(currency='{}', skus={})",
            self.0.currency(),
            self.0.len()
        )
    }
}

/// The partner's retail price book: prices per SKU and user-month, customer and sub-partner
/// sections, tiers, minimum charge, discount, tax and unit mode. Read it with ``from_file``
/// (TOML, or JSON by extension), ``from_toml`` or ``from_json``.
#[pyclass(name = "PriceBook", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyPriceBook(pub(crate) Arc<PriceBook>);

#[pymethods]
impl PyPriceBook {
    /// Reads a price book file: JSON when the name ends in ``.json``, else TOML.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let bytes = read_file_bytes(py, &path, "price book")?;
        let book = if path.to_string_lossy().to_ascii_lowercase().ends_with(".json") {
            PriceBook::from_json_slice(&bytes)
        } else {
            PriceBook::from_toml_slice(&bytes)
        };
        book.map(|b| PyPriceBook(Arc::new(b))).or_raise()
    }

    /// Reads the TOML form.
    #[staticmethod]
    fn from_toml(text: String) -> PyResult<Self> {
        PriceBook::from_toml_str(&text)
            .map(|b| PyPriceBook(Arc::new(b)))
            .or_raise()
    }

    /// Reads the JSON form.
    #[staticmethod]
    fn from_json(text: String) -> PyResult<Self> {
        PriceBook::from_json_str(&text)
            .map(|b| PyPriceBook(Arc::new(b)))
            .or_raise()
    }

    /// The ISO 4217 currency of every price.
    #[getter]
    fn currency(&self) -> String {
        self.0.currency.code().to_owned()
    }

    /// The SKUs priced at the book level.
    #[getter]
    fn skus(&self) -> Vec<String> {
        self.0.defaults.skus.keys().cloned().collect()
    }

    /// The customer sections (by customer org id or external id).
    #[getter]
    fn customers(&self) -> Vec<String> {
        self.0.customers.keys().cloned().collect()
    }

    /// The sub-partner sections (by sub-partner org id).
    #[getter]
    fn sub_partners(&self) -> Vec<String> {
        self.0.sub_partners.keys().cloned().collect()
    }

    /// The book as JSON (amounts as strings), for inspection.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&*self.0).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    fn __repr__(&self) -> String {
        format!(
            "PriceBook(currency='{}', skus={}, customers={}, sub_partners={})",
            self.0.currency,
            self.0.defaults.skus.len(),
            self.0.customers.len(),
            self.0.sub_partners.len()
        )
    }
}

fn rounding_mode(text: &str) -> PyResult<RoundingMode> {
    text.parse().or_raise()
}

/// A rounding policy: ``None`` (half-even everywhere), one mode for every stage
/// (``"half_up"``), or a mapping of stage (``quantity``, ``line``, ``tax``, ``total``) to mode.
pub(crate) fn rounding_arg(value: Option<&Bound<'_, PyAny>>) -> PyResult<RoundingPolicy> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(RoundingPolicy::default());
    };
    if let Ok(text) = value.cast::<PyString>() {
        let mode = rounding_mode(&text.to_cow()?)?;
        return Ok(RoundingPolicy {
            quantity: mode,
            line: mode,
            tax: mode,
            total: mode,
        });
    }
    let dict = value
        .cast::<PyDict>()
        .map_err(|_| PyTypeError::new_err("rounding: expected a mode (str) or a dict of stage to mode"))?;
    let mut policy = RoundingPolicy::default();
    for (stage, mode) in dict.iter() {
        let stage: String = stage.extract()?;
        let mode = rounding_mode(&mode.extract::<String>()?)?;
        match stage.as_str() {
            "quantity" => policy.quantity = mode,
            "line" => policy.line = mode,
            "tax" => policy.tax = mode,
            "total" => policy.total = mode,
            other => {
                return Err(PyValueError::new_err(format!(
                    "rounding: unknown stage {other:?} (expected quantity, line, tax, total)"
                )));
            }
        }
    }
    Ok(policy)
}
