//! The vendor invoice (SPEC.md §5.1): what the partner pays Cisco for a billing period, computed
//! from usage and the wholesale rate card, or read from the invoice Cisco sent.
//!
//! This module holds the invoice model; [`ExpectedInvoice`] (in `expected`) computes the invoice
//! Cisco should send, and `csv_io` writes and reads the invoice as CSV.

mod csv_io;
mod expected;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use expected::ExpectedInvoice;

use crate::checked::{self, Subject};
use crate::error::Result;
use crate::money::{Currency, Money};
use crate::quantity::Quantity;
use crate::time::Period;

string_enum! {
    /// What an invoice line bills.
    ///
    /// ```
    /// use wholesale_billing::LineKind;
    /// assert_eq!("Committed_Spend".parse::<LineKind>()?, LineKind::CommittedSpend);
    /// assert_eq!(LineKind::Tax.to_string(), "tax");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum LineKind("line kind") {
        /// Prorated package usage of the period (user-months × rate).
        #[default]
        Usage = "usage",
        /// The monthly committed spend, billed in advance (`A-W-CS-MNTH`).
        CommittedSpend = "committed_spend",
        /// Usage above the committed spend, at committed rates.
        Overage = "overage",
        /// Tax.
        Tax = "tax",
        /// Anything else (support plans, one-off services).
        Other = "other",
    }
}

/// One line of a vendor invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorInvoiceLine {
    /// The SKU (`A-W-WXC-CALL-U`); `OVERAGE` for the overage line, which has no Cisco SKU of its own.
    pub sku: String,
    /// The SKU's description.
    pub description: String,
    /// What the line bills.
    pub kind: LineKind,
    /// The period billed, when the line says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// Quantity: user-months for usage (4 decimals), a count otherwise.
    #[serde(with = "crate::money::decimal_text")]
    pub quantity: Decimal,
    /// Price per unit.
    #[serde(with = "crate::money::decimal_text")]
    pub rate: Decimal,
    /// Quantity × rate, rounded to the minor unit ("extended amount", excluding tax).
    pub extended: Money,
    /// For a computed usage line: the user-days the quantity comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_days: Option<Quantity>,
    /// For a computed usage line: the days of the billing period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_in_period: Option<u32>,
    /// For a line read from a file: its line number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_line: Option<u64>,
}

/// A fixed monthly line the usage does not give (a support plan such as `SVS-FLEX-SUPT-BAS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedLine {
    /// The SKU.
    pub sku: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Quantity.
    #[serde(with = "crate::money::decimal_text")]
    pub quantity: Decimal,
    /// Price per unit.
    #[serde(with = "crate::money::decimal_text")]
    pub rate: Decimal,
}

/// A vendor invoice: lines, each with its extended amount; the total is the sum of the lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorInvoice {
    /// The invoice currency.
    pub currency: Currency,
    /// The usage period billed, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Period>,
    /// The lines, in order.
    pub lines: Vec<VendorInvoiceLine>,
    /// For a committed deal: the usage at committed rates that the overage is computed from
    /// (informational, not part of the total).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overage_basis: Vec<VendorInvoiceLine>,
    /// For an invoice read from a file: the total it states (its `TOTAL` row), kept as written so
    /// that a [`Reconciler`](crate::Reconciler) can check it against the sum of the lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_total: Option<Money>,
}

impl VendorInvoice {
    /// The total: the sum of the lines' extended amounts.
    ///
    /// # Errors
    /// [`Error::CurrencyMismatch`](crate::Error::CurrencyMismatch) if a line is in another currency than the invoice;
    /// [`Error::Overflow`](crate::Error::Overflow) if the sum does not fit a `Decimal`.
    pub fn total(&self) -> Result<Money> {
        Money::sum(self.lines.iter().map(|l| l.extended), self.currency)
            .for_subject(|| "the lines of the vendor invoice".to_owned())
    }

    /// The total of the lines of one kind.
    ///
    /// # Errors
    /// As [`VendorInvoice::total`].
    pub fn total_of(&self, kind: LineKind) -> Result<Money> {
        Money::sum(
            self.lines.iter().filter(|l| l.kind == kind).map(|l| l.extended),
            self.currency,
        )
        .for_subject(|| format!("the {kind} lines of the vendor invoice"))
    }

    /// Usage lines' quantities per SKU (user-months), summed when a SKU has several lines.
    ///
    /// # Errors
    /// [`Error::Overflow`](crate::Error::Overflow) if a sum does not fit a `Decimal`.
    pub fn usage_quantity_by_sku(&self) -> Result<BTreeMap<&str, Decimal>> {
        let mut out: BTreeMap<&str, Decimal> = BTreeMap::new();
        for line in self.lines.iter().filter(|l| l.kind == LineKind::Usage) {
            let slot = out.entry(line.sku.as_str()).or_default();
            *slot = checked::add(*slot, line.quantity, "Σ usage quantities")
                .for_subject(|| format!("SKU {} of the vendor invoice", line.sku))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
