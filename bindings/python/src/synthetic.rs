//! The deterministic generator of realistic partner months, and of their calls and tariffs.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use wholesale_billing::synthetic::{
    CdrConfig, DEFAULT_CALLS_PER_SUBSCRIBER, DEFAULT_PREFIXES, GeneratorConfig, TariffConfig,
    generate as generate_month, generate_cdrs, generate_tariff,
};
use wholesale_billing::{Catalog, CdrFormat, EventOrder};

use crate::convert::period_param;
use crate::errors::{OrRaise, input_error};
use crate::ledger::PyLedger;
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
///
/// ``order`` is ``"time"`` (the rows by ``occurred_at`` across all subscribers, event ids
/// increasing with it, as a provisioning log is written) or ``"customer"`` (grouped by customer
/// and subscriber); both hold the same events and give the same reports.
#[pyfunction]
#[pyo3(
    signature = (*, seed = 1, customers = 200, subscribers = 2000, sub_partners = 2, month = None, catalog = None, order = "time".to_owned()),
    text_signature = "(*, seed=1, customers=200, subscribers=2000, sub_partners=2, month='2024-05', catalog=None, order='time')"
)]
#[allow(clippy::too_many_arguments)] // the keyword arguments of the Python function
pub(crate) fn generate<'py>(
    py: Python<'py>,
    seed: u64,
    customers: u32,
    subscribers: u64,
    sub_partners: u16,
    month: Option<Bound<'py, PyAny>>,
    catalog: Option<Bound<'py, PyAny>>,
    order: String,
) -> PyResult<(PyOrganisation, Bound<'py, PyBytes>)> {
    let order = match order.parse::<EventOrder>() {
        Ok(order) => order,
        Err(e) => return Err(input_error(py, format!("order: {e}"))),
    };
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
        order,
    };
    let (generated, events) = py
        .detach(|| {
            let mut events = Vec::new();
            generate_month(&config, &mut events, &mut |_| {}).map(|g| (g, events))
        })
        .or_raise()?;
    Ok((PyOrganisation::wrap(generated.organisation), PyBytes::new(py, &events)))
}

/// A deterministic month of calls of ``ledger``'s subscribers and the tariffs to rate them: the
/// files of ``wbill gen --cdrs``, byte for byte, as ``{name: bytes}``: ``"cdrs.csv"`` (the
/// "Detailed Call History" report; ``"cdrs.json"``, the CDR feed's items, with
/// ``format="json"``), ``"tariff.toml"`` with ``"prefixes.csv"`` (what customers pay) and
/// ``"cost-tariff.toml"`` with ``"cost-prefixes.csv"`` (what the PSTN provider charges).
///
/// ``month`` is ``"YYYY-MM"`` or a ``Period`` (the ledger's month for ``generate``'s events);
/// ``prefixes`` the rows of the destination tables; ``unknown_customer`` and ``no_destination``
/// plant records that rate ``unknown_customer`` and ``no_destination``. Generated without the
/// GIL. Load a tariff with ``Tariff.from_toml(files["tariff.toml"].decode(),
/// prefix_table=files["prefixes.csv"])``.
#[pyfunction]
#[pyo3(
    signature = (ledger, *, seed = 1, month = None, calls_per_subscriber = DEFAULT_CALLS_PER_SUBSCRIBER, prefixes = DEFAULT_PREFIXES, format = "csv".to_owned(), unknown_customer = false, no_destination = false),
    text_signature = "(ledger, *, seed=1, month='2024-05', calls_per_subscriber=100, prefixes=2000, format='csv', unknown_customer=False, no_destination=False)"
)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn generate_calls<'py>(
    py: Python<'py>,
    ledger: PyRef<'py, PyLedger>,
    seed: u64,
    month: Option<Bound<'py, PyAny>>,
    calls_per_subscriber: u32,
    prefixes: u32,
    format: String,
    unknown_customer: bool,
    no_destination: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let period = match month {
        Some(m) if !m.is_none() => period_param(&m)?,
        _ => wholesale_billing::Period::parse_month("2024-05").or_raise()?,
    };
    let format = match format.to_ascii_lowercase().as_str() {
        "csv" => CdrFormat::Csv,
        "json" => CdrFormat::Json,
        _ => {
            return Err(input_error(
                py,
                format!("format: expected \"csv\" or \"json\", not {format:?}"),
            ));
        }
    };
    let config = CdrConfig {
        seed,
        period,
        calls_per_subscriber,
        format,
        unknown_customer,
        no_destination,
    };
    let ledger = Arc::clone(ledger.assignment_ledger());
    let files = py
        .detach(|| -> wholesale_billing::Result<Vec<(String, Vec<u8>)>> {
            let mut cdrs = Vec::new();
            generate_cdrs(&ledger, &config, &mut cdrs, &mut |_| {})?;
            let tariff = generate_tariff(&TariffConfig {
                prefixes,
                ..TariffConfig::new(seed)
            });
            let (mut toml, mut table, mut cost_toml, mut cost_table) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            tariff.write_price(&mut toml, &mut table, "prefixes.csv")?;
            tariff.write_cost(&mut cost_toml, &mut cost_table, "cost-prefixes.csv")?;
            Ok(vec![
                (format!("cdrs.{}", format.extension()), cdrs),
                ("tariff.toml".to_owned(), toml),
                ("prefixes.csv".to_owned(), table),
                ("cost-tariff.toml".to_owned(), cost_toml),
                ("cost-prefixes.csv".to_owned(), cost_table),
            ])
        })
        .or_raise()?;
    let dict = PyDict::new(py);
    for (name, bytes) in files {
        dict.set_item(name, PyBytes::new(py, &bytes))?;
    }
    Ok(dict)
}
