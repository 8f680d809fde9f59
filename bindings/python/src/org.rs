//! `Organisation`: the partner, its sub-partners and the package catalog.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use wholesale_billing::{CatalogEntry, CatalogOverride, OrgFormat, Organisation, Partner, SubPartner};

use crate::convert::{py_opt_timestamp, read_file_bytes, timestamp_arg};
use crate::errors::OrRaise;
use crate::text::quoted;

/// The partner: ``org_id``, ``name`` and ``subscription_id``.
#[pyclass(name = "Partner", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyPartner(pub(crate) Partner);

#[pymethods]
impl PyPartner {
    #[new]
    fn new(org_id: String, name: String, subscription_id: String) -> Self {
        PyPartner(Partner {
            org_id,
            name,
            subscription_id,
        })
    }

    /// The partner's org id.
    #[getter]
    fn org_id(&self) -> &str {
        &self.0.org_id
    }

    /// The partner's name (``PARTNER_NAME``).
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    /// The Webex Wholesale subscription id (``SUBSCRIPTION_ID``).
    #[getter]
    fn subscription_id(&self) -> &str {
        &self.0.subscription_id
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyPartner>().is_ok_and(|o| o.get().0 == self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "Partner(org_id={}, name={}, subscription_id={})",
            quoted(&self.0.org_id),
            quoted(&self.0.name),
            quoted(&self.0.subscription_id)
        )
    }
}

/// A sub-partner (reseller): ``org_id``, ``name`` and an optional ``billing_start`` (an aware
/// ``datetime`` in UTC) before which its customers' usage is not billed.
#[pyclass(name = "SubPartner", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PySubPartner(pub(crate) SubPartner);

#[pymethods]
impl PySubPartner {
    #[new]
    #[pyo3(signature = (org_id, name, billing_start = None))]
    fn new(org_id: String, name: String, billing_start: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let billing_start = match billing_start {
            Some(b) if !b.is_none() => Some(timestamp_arg(b, "billing_start")?),
            _ => None,
        };
        Ok(PySubPartner(SubPartner {
            org_id,
            name,
            billing_start,
        }))
    }

    /// The sub-partner's org id.
    #[getter]
    fn org_id(&self) -> &str {
        &self.0.org_id
    }

    /// The sub-partner's name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }

    /// When billing starts (UTC), or ``None``: all usage counts.
    #[getter]
    fn billing_start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_opt_timestamp(py, self.0.billing_start)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PySubPartner>().is_ok_and(|o| o.get().0 == self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "SubPartner(org_id={}, name={}, billing_start={})",
            quoted(&self.0.org_id),
            quoted(&self.0.name),
            self.0
                .billing_start
                .map_or_else(|| "None".to_owned(), |t| format!("'{t}'"))
        )
    }
}

/// One package of the catalog: what it is billed as.
#[pyclass(name = "CatalogEntry", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyCatalogEntry(pub(crate) CatalogEntry);

#[pymethods]
impl PyCatalogEntry {
    /// The package's API name (``webex_calling``).
    #[getter]
    fn package(&self) -> &str {
        &self.0.package
    }

    /// The report's ``SERVICE_NAME``.
    #[getter]
    fn service_name(&self) -> &str {
        &self.0.service_name
    }

    /// The SKU billed.
    #[getter]
    fn sku(&self) -> &str {
        &self.0.sku
    }

    /// The report's ``DESCRIPTION``.
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }

    /// True when the SKU is a placeholder, not known from the Webex documents nor configured.
    #[getter]
    fn placeholder(&self) -> bool {
        self.0.placeholder
    }

    fn __repr__(&self) -> String {
        format!(
            "CatalogEntry(package={}, sku={}, service_name={}, placeholder={})",
            quoted(&self.0.package),
            quoted(&self.0.sku),
            quoted(&self.0.service_name),
            if self.0.placeholder { "True" } else { "False" }
        )
    }
}

/// A partner organisation: the partner, its sub-partners and the package catalog.
///
/// Read one with ``Organisation.from_file(path)`` (TOML, or JSON by extension),
/// ``Organisation.from_toml(text)`` or ``Organisation.from_json(text)``; or build one with
/// ``Organisation(partner, sub_partners=[...], catalog={"webex_suite": {"sku": ...}})``.
#[pyclass(name = "Organisation", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyOrganisation(pub(crate) Arc<Organisation>);

impl PyOrganisation {
    pub(crate) fn wrap(org: Organisation) -> Self {
        PyOrganisation(Arc::new(org))
    }

    /// A copy of the organisation, for a consumer that takes it by value.
    pub(crate) fn cloned(&self) -> Organisation {
        Organisation::clone(&self.0)
    }
}

pub(crate) fn catalog_overrides(catalog: &Bound<'_, PyAny>) -> PyResult<BTreeMap<String, CatalogOverride>> {
    let mut out = BTreeMap::new();
    let dict = catalog
        .cast::<PyDict>()
        .map_err(|_| PyTypeError::new_err("catalog: expected a dict of package → {sku, service_name, description}"))?;
    for (package, fields) in dict.iter() {
        let package: String = package.extract()?;
        let fields = fields
            .cast::<PyDict>()
            .map_err(|_| PyTypeError::new_err(format!("catalog[{package:?}]: expected a dict")))?;
        let mut entry = CatalogOverride::default();
        for (key, value) in fields.iter() {
            let key: String = key.extract()?;
            let value: Option<String> = value.extract()?;
            match key.as_str() {
                "sku" => entry.sku = value,
                "service_name" => entry.service_name = value,
                "description" => entry.description = value,
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "catalog[{package:?}]: unknown key {other:?} (expected sku, service_name, description)"
                    )));
                }
            }
        }
        out.insert(package, entry);
    }
    Ok(out)
}

#[pymethods]
impl PyOrganisation {
    #[new]
    #[pyo3(signature = (partner, sub_partners = None, catalog = None))]
    fn new(
        partner: PyRef<'_, PyPartner>,
        sub_partners: Option<&Bound<'_, PyAny>>,
        catalog: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut org = Organisation::new(partner.0.clone()).or_raise()?;
        if let Some(subs) = sub_partners.filter(|s| !s.is_none()) {
            for sp in subs.try_iter()? {
                let sp = sp?;
                let sp = sp
                    .cast::<PySubPartner>()
                    .map_err(|_| PyTypeError::new_err("sub_partners: expected SubPartner objects"))?;
                org.sub_partners.push(sp.get().0.clone());
            }
        }
        if let Some(catalog) = catalog.filter(|c| !c.is_none()) {
            org.catalog = wholesale_billing::Catalog::with_overrides(&catalog_overrides(catalog)?).or_raise()?;
        }
        org.validate().or_raise()?;
        Ok(PyOrganisation::wrap(org))
    }

    /// Reads an organisation file: JSON when the name ends in ``.json``, else TOML.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let bytes = read_file_bytes(py, &path, "organisation file")?;
        let format = OrgFormat::from_file_name(&path.to_string_lossy());
        Organisation::from_slice_with_format(&bytes, format)
            .map(PyOrganisation::wrap)
            .or_raise()
    }

    /// Reads the TOML form of an organisation file.
    #[staticmethod]
    fn from_toml(text: String) -> PyResult<Self> {
        Organisation::from_toml_str(&text).map(PyOrganisation::wrap).or_raise()
    }

    /// Reads the JSON form of an organisation file.
    #[staticmethod]
    fn from_json(text: String) -> PyResult<Self> {
        Organisation::from_json_str(&text).map(PyOrganisation::wrap).or_raise()
    }

    /// The partner.
    #[getter]
    fn partner(&self) -> PyPartner {
        PyPartner(self.0.partner.clone())
    }

    /// The sub-partners, in file order.
    #[getter]
    fn sub_partners(&self) -> Vec<PySubPartner> {
        self.0.sub_partners.iter().cloned().map(PySubPartner).collect()
    }

    /// The package catalog.
    #[getter]
    fn catalog(&self) -> Vec<PyCatalogEntry> {
        self.0.catalog.entries().iter().cloned().map(PyCatalogEntry).collect()
    }

    /// The catalog entry of a package (API name, any case), or ``None``.
    fn catalog_entry(&self, package: String) -> Option<PyCatalogEntry> {
        self.0.catalog.get(&package).cloned().map(PyCatalogEntry)
    }

    /// The sub-partner with this org id (``BillingInputError`` listing the known ones otherwise).
    fn sub_partner(&self, org_id: String) -> PyResult<PySubPartner> {
        self.0.sub_partner(&org_id).cloned().map(PySubPartner).or_raise()
    }

    /// The organisation as a TOML organisation file.
    fn to_toml(&self) -> PyResult<String> {
        self.0.to_toml_string().or_raise()
    }

    /// The organisation as a JSON organisation file.
    fn to_json(&self) -> PyResult<String> {
        self.0.to_json_string().or_raise()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyOrganisation>().is_ok_and(|o| *o.get().0 == *self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "Organisation(partner={} ({}), sub_partners={})",
            quoted(&self.0.partner.name),
            self.0.partner.org_id,
            self.0.sub_partners.len()
        )
    }
}
