//! Invoices: the vendor invoice Cisco sends the partner ([`VendorInvoice`]), computed or read,
//! and the invoices the partner sends its customers and resellers.

mod customer;
mod vendor;

pub use customer::{
    BillTo, Billing, Invoice, InvoiceLine, InvoiceMinutes, LinePricing, MINUTES_SKU, MarginReport, MarginRow, Minutes,
    MonthlyBilling,
};
pub use vendor::{ExpectedInvoice, FixedLine, LineKind, VendorInvoice, VendorInvoiceLine};
