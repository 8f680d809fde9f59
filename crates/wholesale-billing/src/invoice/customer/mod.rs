//! Invoices the partner sends: one per customer from its usage and the price book, and one
//! roll-up per sub-partner at the sub-partner's wholesale price; plus the margin against the
//! wholesale cost.
//!
//! This module holds the invoice itself and its CSV form; [`Billing`] (in `bill`) computes a
//! month of invoices, `margin` the margins against the wholesale cost and `summary` the month's
//! [`MonthlyBilling`] with its summary files.

mod bill;
mod margin;
mod minutes;
mod summary;

use std::io::Write;

use rust_decimal::Decimal;
use serde::Serialize;

pub use bill::Billing;
pub use margin::{MarginReport, MarginRow};
pub use minutes::{MINUTES_SKU, Minutes};
pub use summary::MonthlyBilling;

use crate::csvutil::csv_write_error;
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::quantity::Quantity;
use crate::rates::{BandUse, TierKind, UnitMode};
use crate::time::Period;

/// Who an invoice is addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BillTo {
    /// One of the partner's customers.
    Customer {
        /// `CUSTOMER_ORG_ID`.
        org_id: String,
        /// `CUSTOMER_EXTERNAL_ID`, the partner's own id, on every document.
        external_id: String,
    },
    /// A sub-partner, billed for all of its customers' usage.
    SubPartner {
        /// The sub-partner's org id.
        org_id: String,
        /// Its name.
        name: String,
    },
}

impl BillTo {
    /// The org id billed.
    pub fn org_id(&self) -> &str {
        match self {
            BillTo::Customer { org_id, .. } | BillTo::SubPartner { org_id, .. } => org_id,
        }
    }

    /// The external id (customers) or name (sub-partners).
    pub fn label(&self) -> &str {
        match self {
            BillTo::Customer { external_id, .. } => external_id,
            BillTo::SubPartner { name, .. } => name,
        }
    }

    /// Who, in words: `customer <org id>` or `sub-partner <org id>`.
    pub(crate) fn whom(&self) -> String {
        match self {
            BillTo::Customer { org_id, .. } => format!("customer {org_id}"),
            BillTo::SubPartner { org_id, .. } => format!("sub-partner {org_id}"),
        }
    }
}

/// How a line's amount was priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinePricing {
    /// One price per unit.
    Flat {
        /// The price per unit.
        #[serde(with = "crate::money::decimal_text")]
        price: Decimal,
    },
    /// Volume or graduated tiers, with the bands used.
    Tiered {
        /// Volume or graduated.
        tiers: TierKind,
        /// The units of each band used and their amounts.
        bands: Vec<BandUse>,
    },
    /// Calls rated call by call at the tariff (a minutes line, SKU [`MINUTES_SKU`]): the line's
    /// units are the billable minutes, its amount the summary's `AMOUNT` (or, on a sub-partner's
    /// roll-up, the sum of its customers' amounts).
    Minutes {
        /// The destination of the calls.
        destination: String,
        /// The calls charged, covered ones included.
        calls: u64,
        /// Billable minutes (4 decimals).
        #[serde(with = "crate::money::decimal_text")]
        billable_minutes: Decimal,
        /// Minutes covered by the packages' allowances (4 decimals).
        #[serde(with = "crate::money::decimal_text")]
        covered_minutes: Decimal,
    },
}

/// One line of a customer or sub-partner invoice, with how it was derived: a package (SKU)
/// line, or a minutes line ([`LinePricing::Minutes`]: SKU [`MINUTES_SKU`], no user-days, the
/// billable minutes as units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceLine {
    /// The SKU.
    pub sku: String,
    /// The description (the price book's, else the report's).
    pub description: String,
    /// The location, when lines are split per location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    /// Σ user-days of the usage rows.
    pub user_days: Quantity,
    /// Days in the billing period.
    pub days_in_period: u32,
    /// Prorated (user-months) or whole units.
    pub unit_mode: UnitMode,
    /// Units billed: user-months (4 decimals) or whole units.
    #[serde(with = "crate::money::decimal_text")]
    pub units: Decimal,
    /// Flat or tiered pricing.
    pub pricing: LinePricing,
    /// The amount, rounded once to the minor unit.
    pub amount: Money,
    /// The derivation in words and numbers.
    pub derivation: String,
}

/// An invoice of the partner: lines, subtotal, discount, minimum-charge top-up, tax and total.
/// Every amount is rounded at its named stage and the total is the sum of rounded parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    /// Who is billed.
    pub bill_to: BillTo,
    /// The issuer (the partner).
    pub issuer_org_id: String,
    /// The issuer's name.
    pub issuer_name: String,
    /// The usage period billed.
    pub period: Period,
    /// The currency.
    pub currency: Currency,
    /// The lines, by SKU (and location).
    pub lines: Vec<InvoiceLine>,
    /// Σ line amounts.
    pub subtotal: Money,
    /// Discount percentage applied to the subtotal.
    #[serde(with = "crate::money::decimal_text")]
    pub discount_percent: Decimal,
    /// The discount, as a non-negative amount subtracted.
    pub discount: Money,
    /// The minimum monthly charge (zero: none).
    pub minimum_charge: Money,
    /// What is added so that the net amount reaches the minimum charge.
    pub minimum_top_up: Money,
    /// Tax percentage.
    #[serde(with = "crate::money::decimal_text")]
    pub tax_percent: Decimal,
    /// Tax on the net amount.
    pub tax: Money,
    /// subtotal − discount + top-up + tax.
    pub total: Money,
}

impl InvoiceLine {
    /// Whether the line bills minutes (calls to one destination) rather than a package.
    ///
    /// ```
    /// use wholesale_billing::{Billing, Organisation, Partner, Period, PriceBook, ReadOptions, UsageReport};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "Acme".into(), subscription_id: "S".into() })?;
    /// let book = PriceBook::from_toml_str("currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\nprice = \"12.00\"")?;
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,31\n";
    /// let (usage, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let month = Billing::new(&org, &book).run(&usage.with_period(Period::month(2024, 5)?)?)?;
    /// assert!(!month.customer_invoices[0].lines[0].is_minutes());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn is_minutes(&self) -> bool {
        matches!(self.pricing, LinePricing::Minutes { .. })
    }
}

/// The minutes of one invoice: sums over its minutes lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InvoiceMinutes {
    /// Σ calls.
    pub calls: u64,
    /// Σ billable minutes.
    #[serde(with = "crate::money::decimal_text")]
    pub billable_minutes: Decimal,
    /// Σ covered minutes.
    #[serde(with = "crate::money::decimal_text")]
    pub covered_minutes: Decimal,
    /// Σ amounts of the minutes lines (before the invoice's discount and tax).
    pub amount: Money,
}

impl Invoice {
    /// The sums of the invoice's minutes lines (all zero when it has none).
    ///
    /// # Errors
    /// [`Error::Overflow`] for sums beyond range.
    ///
    /// ```
    /// use wholesale_billing::{Billing, Organisation, Partner, Period, PriceBook, ReadOptions, UsageReport};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "Acme".into(), subscription_id: "S".into() })?;
    /// let book = PriceBook::from_toml_str("currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\nprice = \"12.00\"")?;
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,31\n";
    /// let (usage, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let month = Billing::new(&org, &book).run(&usage.with_period(Period::month(2024, 5)?)?)?;
    /// let minutes = month.customer_invoices[0].minutes()?;
    /// assert_eq!((minutes.calls, minutes.amount.to_string()), (0, "0.00 USD".to_owned()));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn minutes(&self) -> Result<InvoiceMinutes> {
        let overflow = || Error::overflow("Σ minutes of an invoice").for_subject(|| self.bill_to.whom());
        let mut sums = InvoiceMinutes {
            calls: 0,
            billable_minutes: Decimal::ZERO,
            covered_minutes: Decimal::ZERO,
            amount: Money::zero(self.currency),
        };
        for line in &self.lines {
            if let LinePricing::Minutes {
                calls,
                billable_minutes,
                covered_minutes,
                ..
            } = &line.pricing
            {
                sums.calls = sums.calls.checked_add(*calls).ok_or_else(overflow)?;
                sums.billable_minutes = sums
                    .billable_minutes
                    .checked_add(*billable_minutes)
                    .ok_or_else(overflow)?;
                sums.covered_minutes = sums
                    .covered_minutes
                    .checked_add(*covered_minutes)
                    .ok_or_else(overflow)?;
                sums.amount = sums.amount.checked_add(line.amount)?;
            }
        }
        Ok(sums)
    }

    /// The amount before tax: subtotal − discount + top-up.
    ///
    /// # Errors
    /// Never for an invoice built by this crate (one currency); typed for safety.
    pub fn net(&self) -> Result<Money> {
        self.subtotal
            .checked_sub(self.discount)?
            .checked_add(self.minimum_top_up)
    }

    /// Writes the invoice as CSV in three blocks separated by an empty line: who and when
    /// (`field,value`), the lines with their derivation, and the amounts (`field,value`).
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_csv(&self, mut writer: impl Write) -> Result<()> {
        let io = |e| Error::io("writing an invoice", e);
        let map = |e: csv::Error| csv_write_error("writing an invoice", e);
        let (kind, org, label) = match &self.bill_to {
            BillTo::Customer { org_id, external_id } => ("customer", org_id, external_id),
            BillTo::SubPartner { org_id, name } => ("sub_partner", org_id, name),
        };
        let mut w = csv_block(&mut writer);
        for (k, v) in [
            ("bill_to", kind.to_owned()),
            ("org_id", org.clone()),
            (if kind == "customer" { "external_id" } else { "name" }, label.clone()),
            ("issuer", format!("{} ({})", self.issuer_name, self.issuer_org_id)),
            ("period", self.period.to_string()),
            ("currency", self.currency.to_string()),
        ] {
            w.write_record([k, v.as_str()]).map_err(map)?;
        }
        w.flush().map_err(io)?;
        drop(w);
        writer.write_all(b"\n").map_err(io)?;
        let mut w = csv_block(&mut writer);
        w.write_record([
            "sku",
            "description",
            "location_id",
            "user_days",
            "days_in_period",
            "unit_mode",
            "units",
            "unit_price",
            "amount",
            "derivation",
        ])
        .map_err(map)?;
        for l in &self.lines {
            let unit_price = match &l.pricing {
                LinePricing::Flat { price } => price.to_string(),
                LinePricing::Tiered { tiers, .. } => format!("{tiers:?} tiers").to_lowercase(),
                LinePricing::Minutes { .. } => "rated per call".to_owned(),
            };
            // A minutes line has no user-days: its units are billable minutes.
            let (user_days, days, unit_mode) = if l.is_minutes() {
                (String::new(), String::new(), "minutes".to_owned())
            } else {
                (
                    l.user_days.to_string(),
                    l.days_in_period.to_string(),
                    l.unit_mode.to_string(),
                )
            };
            w.write_record([
                l.sku.as_str(),
                &l.description,
                l.location_id.as_deref().unwrap_or(""),
                &user_days,
                &days,
                &unit_mode,
                &l.units.to_string(),
                &unit_price,
                &l.amount.amount().to_string(),
                &l.derivation,
            ])
            .map_err(map)?;
        }
        w.flush().map_err(io)?;
        drop(w);
        writer.write_all(b"\n").map_err(io)?;
        let mut w = csv_block(&mut writer);
        for (k, v) in [
            ("subtotal", self.subtotal),
            ("discount", self.discount),
            ("minimum_top_up", self.minimum_top_up),
            ("tax", self.tax),
            ("total", self.total),
        ] {
            w.write_record([k, &v.amount().to_string()]).map_err(map)?;
        }
        w.flush().map_err(io)
    }
}

/// A CSV writer for one block of a multi-block file.
fn csv_block<W: Write>(writer: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(writer)
}
