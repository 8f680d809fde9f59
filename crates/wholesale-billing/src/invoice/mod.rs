//! Invoices: the vendor invoice Cisco sends the partner ([`VendorInvoice`]), computed or read,
//! and the invoices the partner sends its customers and resellers.

mod vendor;

pub use vendor::{
    Commitment, FixedLine, LineKind, VendorInvoice, VendorInvoiceLine, VendorInvoiceOptions, expected_vendor_invoice,
};
