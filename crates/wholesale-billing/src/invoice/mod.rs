//! Invoices: the vendor invoice Cisco sends the partner ([`VendorInvoice`]), computed or read,
//! and the invoices the partner sends its customers and resellers.

mod customer;
mod vendor;

pub use customer::{
    BillTo, BillingOptions, Invoice, InvoiceLine, LinePricing, MarginReport, MarginRow, MonthlyBilling, bill_month,
};
pub use vendor::{
    Commitment, FixedLine, LineKind, VendorInvoice, VendorInvoiceLine, VendorInvoiceOptions, expected_vendor_invoice,
};
