//! A month of billing ([`MonthlyBilling`]) and its summary files, one row per invoice.

use std::io::Write;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{BillTo, Invoice, InvoiceMinutes, MarginReport};
use crate::csvutil::csv_write_error;
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::time::Period;

/// A month of the partner's billing: its customers' invoices, its sub-partners' roll-ups and,
/// with a wholesale rate card, the margins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthlyBilling {
    /// The period billed.
    pub period: Period,
    /// The currency.
    pub currency: Currency,
    /// One invoice per customer of the partner, by customer org id.
    pub customer_invoices: Vec<Invoice>,
    /// One roll-up invoice per sub-partner with usage, in organisation-file order.
    pub sub_partner_invoices: Vec<Invoice>,
    /// Margins, when a wholesale rate card was given.
    pub margin: Option<MarginReport>,
    /// Whether minutes were billed ([`crate::Billing::minutes`]): the summary files then show
    /// each invoice's minutes.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub minutes_billed: bool,
}

impl MonthlyBilling {
    /// Every invoice: customers, then sub-partners.
    pub fn invoices(&self) -> impl Iterator<Item = &Invoice> + '_ {
        self.customer_invoices.iter().chain(&self.sub_partner_invoices)
    }

    /// Writes one summary row per invoice (bill_to, org, label, subtotal, discount, top-up, tax,
    /// total, currency), and when minutes were billed, the invoice's minutes after them: `calls`,
    /// `billable_minutes`, `covered_minutes`, `minutes_amount` ([`Invoice::minutes`]).
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_summary_csv(&self, writer: impl Write) -> Result<()> {
        let mut w = csv::Writer::from_writer(writer);
        let map = |e: csv::Error| csv_write_error("writing the invoice summary", e);
        w.write_record(
            [
                "bill_to",
                "org_id",
                "external_id_or_name",
                "lines",
                "subtotal",
                "discount",
                "minimum_top_up",
                "tax",
                "total",
                "currency",
            ]
            .into_iter()
            .chain(self.minutes_columns()),
        )
        .map_err(map)?;
        for inv in self.invoices() {
            let kind = match inv.bill_to {
                BillTo::Customer { .. } => "customer",
                BillTo::SubPartner { .. } => "sub_partner",
            };
            let mut record = vec![
                kind.to_owned(),
                inv.bill_to.org_id().to_owned(),
                inv.bill_to.label().to_owned(),
                inv.lines.len().to_string(),
                inv.subtotal.amount().to_string(),
                inv.discount.amount().to_string(),
                inv.minimum_top_up.amount().to_string(),
                inv.tax.amount().to_string(),
                inv.total.amount().to_string(),
                inv.currency.code().to_owned(),
            ];
            if self.minutes_billed {
                let m = inv.minutes()?;
                record.extend([
                    m.calls.to_string(),
                    m.billable_minutes.to_string(),
                    m.covered_minutes.to_string(),
                    m.amount.amount().to_string(),
                ]);
            }
            w.write_record(&record).map_err(map)?;
        }
        w.flush().map_err(|e| Error::io("writing the invoice summary", e))
    }

    /// Writes the same summary as [`MonthlyBilling::write_summary_csv`] as pretty-printed JSON:
    /// `{"period", "currency", "grand_total", "invoices": [{"bill_to", "org_id",
    /// "external_id_or_name", "lines", "subtotal", "discount", "minimum_top_up", "tax", "total"}]}`,
    /// amounts as strings; when minutes were billed, each invoice also has `"minutes": {"calls",
    /// "billable_minutes", "covered_minutes", "amount"}`.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_summary_json(&self, writer: impl Write) -> Result<()> {
        #[derive(Serialize)]
        struct Row<'a> {
            bill_to: &'static str,
            org_id: &'a str,
            external_id_or_name: &'a str,
            lines: usize,
            #[serde(with = "crate::money::decimal_text")]
            subtotal: Decimal,
            #[serde(with = "crate::money::decimal_text")]
            discount: Decimal,
            #[serde(with = "crate::money::decimal_text")]
            minimum_top_up: Decimal,
            #[serde(with = "crate::money::decimal_text")]
            tax: Decimal,
            #[serde(with = "crate::money::decimal_text")]
            total: Decimal,
            #[serde(skip_serializing_if = "Option::is_none")]
            minutes: Option<InvoiceMinutes>,
        }
        #[derive(Serialize)]
        struct Document<'a> {
            period: String,
            currency: Currency,
            #[serde(with = "crate::money::decimal_text")]
            grand_total: Decimal,
            invoices: Vec<Row<'a>>,
        }
        let invoices = self
            .invoices()
            .map(|inv| {
                Ok(Row {
                    bill_to: match inv.bill_to {
                        BillTo::Customer { .. } => "customer",
                        BillTo::SubPartner { .. } => "sub_partner",
                    },
                    org_id: inv.bill_to.org_id(),
                    external_id_or_name: inv.bill_to.label(),
                    lines: inv.lines.len(),
                    subtotal: inv.subtotal.amount(),
                    discount: inv.discount.amount(),
                    minimum_top_up: inv.minimum_top_up.amount(),
                    tax: inv.tax.amount(),
                    total: inv.total.amount(),
                    minutes: self.minutes_billed.then(|| inv.minutes()).transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let document = Document {
            period: self.period.to_string(),
            currency: self.currency,
            grand_total: self.grand_total()?.amount(),
            invoices,
        };
        serde_json::to_writer_pretty(writer, &document)
            .map_err(|e| Error::json_write("invoice summary", "writing the invoice summary", e))
    }

    /// The minutes columns of the summary CSV: none unless minutes were billed.
    fn minutes_columns(&self) -> impl Iterator<Item = &'static str> {
        let columns: &[&str] = if self.minutes_billed {
            &["calls", "billable_minutes", "covered_minutes", "minutes_amount"]
        } else {
            &[]
        };
        columns.iter().copied()
    }

    /// The sum of every invoice's total.
    ///
    /// # Errors
    /// Never for invoices of one book; typed for safety.
    pub fn grand_total(&self) -> Result<Money> {
        Money::sum(self.invoices().map(|i| i.total), self.currency)
    }
}
