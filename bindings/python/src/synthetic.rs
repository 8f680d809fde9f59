//! The deterministic generator of realistic partner months.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use wholesale_billing::Catalog;
use wholesale_billing::synthetic::{GeneratorConfig, generate as generate_month};

use crate::convert::period_param;
use crate::errors::OrRaise;
use crate::org::{PyOrganisation, catalog_overrides};

/// A deterministic, realistic partner month: ``(organisation, events_csv)``, the events CSV as
/// ``bytes``. The same arguments always give the same bytes. ``month`` is ``"YYYY-MM"`` or a
/// ``Period`` of one whole calendar month. Generated without the GIL.
///
/// Only packages whose SKU is known are generated: the Webex documents give none for
/// ``webex_suite`` and ``cx_essentials``, which are left out unless ``catalog`` configures them,
/// as the ``[catalog.<package>]`` sections of an organisation file do
/// (``catalog={"webex_suite": {"sku": "A-W-SUITE-U"}}``); the organisation then carries that
/// catalog.
#[pyfunction]
#[pyo3(
    signature = (*, seed = 1, customers = 200, subscribers = 2000, sub_partners = 2, month = None, catalog = None),
    text_signature = "(*, seed=1, customers=200, subscribers=2000, sub_partners=2, month='2024-05', catalog=None)"
)]
pub(crate) fn generate<'py>(
    py: Python<'py>,
    seed: u64,
    customers: u32,
    subscribers: u64,
    sub_partners: u16,
    month: Option<Bound<'py, PyAny>>,
    catalog: Option<Bound<'py, PyAny>>,
) -> PyResult<(PyOrganisation, Bound<'py, PyBytes>)> {
    let month = match month {
        Some(m) if !m.is_none() => period_param(&m)?,
        _ => wholesale_billing::Period::parse_month("2024-05").or_raise()?,
    };
    let catalog = match catalog {
        Some(c) if !c.is_none() => Catalog::with_overrides(&catalog_overrides(&c)?).or_raise()?,
        _ => Catalog::default(),
    };
    let config = GeneratorConfig {
        seed,
        customers,
        subscribers,
        sub_partners,
        month,
        catalog,
    };
    let (generated, events) = py
        .detach(|| {
            let mut events = Vec::new();
            generate_month(&config, &mut events, &mut |_| {}).map(|g| (g, events))
        })
        .or_raise()?;
    Ok((PyOrganisation::wrap(generated.organisation), PyBytes::new(py, &events)))
}
