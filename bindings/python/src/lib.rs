//! # wholesale_billing (Python)
//!
//! The private native module `wholesale_billing._wholesale_billing` of the Python package
//! `wholesale_billing`. It registers classes and functions and converts values at the boundary;
//! every computation is done by the Rust crates (`wholesale-billing`, `webex-wholesale-client`,
//! `webex-sandbox`). Heavy work (loading, reports, CSV writing, billing, reconciliation, API calls)
//! runs without the GIL.
#![forbid(unsafe_code)]

mod client;
mod convert;
mod errors;
mod invoice;
mod ledger;
mod org;
mod period;
mod rates;
mod rating;
mod reconcile;
mod records;
mod report;
mod sandbox;
mod synthetic;
mod table;
mod tariff;
mod text;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _wholesale_billing(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // What the API clients do (each request answered, retry and wait: `tracing` events of
    // `webex_wholesale_client`) goes to Python's `logging`, under loggers named after the Rust
    // modules (`webex_wholesale_client.client`, ...). Levels are read from `logging` at each
    // event (loggers cached, levels not), so a level set later applies. Another logger already
    // installed in the process (a second import) is left in place.
    let _ = pyo3_log::Logger::new(m.py(), pyo3_log::Caching::Loggers)?
        .filter(log::LevelFilter::Debug)
        .install();
    m.add("DEFAULT_BASE_URL", client::DEFAULT_BASE_URL)?;
    errors::register(m)?;
    m.add_class::<period::PyPeriod>()?;
    m.add_class::<period::PyMoney>()?;
    m.add_class::<org::PyPartner>()?;
    m.add_class::<org::PySubPartner>()?;
    m.add_class::<org::PyCatalogEntry>()?;
    m.add_class::<org::PyOrganisation>()?;
    m.add_class::<ledger::PyLoadIssue>()?;
    m.add_class::<ledger::PyDiagnostics>()?;
    m.add_class::<ledger::PyRowKey>()?;
    m.add_class::<ledger::PyLedgerCustomer>()?;
    m.add_class::<ledger::PyLedger>()?;
    m.add_class::<report::PyReportRow>()?;
    m.add_class::<report::PyUsageReport>()?;
    m.add_class::<rates::PyWholesaleRate>()?;
    m.add_class::<rates::PyRateCard>()?;
    m.add_class::<rates::PyPriceBook>()?;
    m.add_class::<invoice::PyFixedLine>()?;
    m.add_class::<invoice::PyVendorInvoiceLine>()?;
    m.add_class::<invoice::PyVendorInvoice>()?;
    m.add_class::<invoice::PyBandUse>()?;
    m.add_class::<invoice::PyInvoiceLine>()?;
    m.add_class::<invoice::PyInvoice>()?;
    m.add_class::<invoice::PyMarginRow>()?;
    m.add_class::<invoice::PyMarginReport>()?;
    m.add_class::<invoice::PyMonthlyBilling>()?;
    m.add_class::<reconcile::PyFinding>()?;
    m.add_class::<reconcile::PyFindingGroup>()?;
    m.add_class::<reconcile::PySummary>()?;
    m.add_class::<reconcile::PyReconciliation>()?;
    m.add_class::<reconcile::PyPlanted>()?;
    m.add_class::<client::PyBillingReport>()?;
    m.add_class::<client::PyReportSummary>()?;
    m.add_class::<client::PyCreatedReport>()?;
    m.add_class::<client::PyFetchedUsage>()?;
    m.add_class::<client::PyWebexSubPartner>()?;
    m.add_class::<client::PyWebexCustomer>()?;
    m.add_class::<client::PyWebexClient>()?;
    m.add_class::<client::PyCdrFeed>()?;
    m.add_class::<client::PyCcwsClient>()?;
    m.add_class::<sandbox::PySandbox>()?;
    m.add_class::<tariff::PyTariff>()?;
    m.add_class::<rating::PyRatingResult>()?;
    m.add_function(wrap_pyfunction!(invoice::expected_vendor_invoice, m)?)?;
    m.add_function(wrap_pyfunction!(invoice::bill_month, m)?)?;
    m.add_function(wrap_pyfunction!(reconcile::reconcile, m)?)?;
    m.add_function(wrap_pyfunction!(reconcile::plant_discrepancies, m)?)?;
    m.add_function(wrap_pyfunction!(synthetic::generate, m)?)?;
    m.add_function(wrap_pyfunction!(synthetic::generate_calls, m)?)?;
    m.add_function(wrap_pyfunction!(rating::rate, m)?)?;
    // Private (for the tests): set, not added, so that it stays out of the module's `__all__`.
    m.setattr("_error_classes", wrap_pyfunction!(errors::error_classes, m)?)?;
    Ok(())
}
