//! Invoices: the vendor invoice (expected, or read as Cisco sent it), and the month's customer
//! and sub-partner invoices with the margin report; one file each.

mod billing;
mod customer;
mod margin;
mod vendor;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

pub(crate) use billing::{PyMonthlyBilling, bill_month};
pub(crate) use customer::{PyBandUse, PyInvoice, PyInvoiceLine};
pub(crate) use margin::{PyMarginReport, PyMarginRow};
pub(crate) use vendor::{PyFixedLine, PyVendorInvoice, PyVendorInvoiceLine, expected_vendor_invoice};

fn json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string_pretty(value).map_err(|e| PyValueError::new_err(e.to_string()))
}
