//! The retail price book: what the partner charges its customers, and its sub-partners, per SKU
//! and user-month (SPEC.md §5.2).
//!
//! ```toml
//! currency = "EUR"
//! unit_mode = "prorated"            # or "whole_units"
//! tax_percent = "21"
//! discount_percent = "0"
//! minimum_charge = "25.00"          # per customer and month, before tax
//!
//! [skus."A-W-WXC-CALL-U"]
//! price = "12.00"
//! description = "Cloud Calling"
//!
//! [skus."A-W-CA-CALL-U"]
//! tiers = "graduated"               # or "volume"
//! bands = [{ up_to = "10", price = "6.00" }, { price = "5.00" }]
//!
//! [customers."CUST-000123"]         # a customer org id or external id
//! discount_percent = "10"
//! skus."A-W-WXC-CALL-U" = { price = "11.00" }
//!
//! [sub_partners."<sub-partner org id>"]   # what the partner charges this reseller
//! skus."A-W-WXC-CALL-U" = { price = "9.00" }
//! ```
//!
//! Amounts and percentages are strings (`"12.00"`), never floats.
//!
//! This module holds the price book and how its terms resolve for one bill; `file` reads the file
//! form above and `tiers` prices units under flat and tiered prices ([`price_units`]).

mod file;
mod tiers;

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use tiers::{BandUse, price_units};

use crate::error::{BilledParty, Error, Result};
use crate::money::{Currency, Money, RoundingPolicy};

string_enum! {
    /// How user-days become billed units.
    ///
    /// ```
    /// use wholesale_billing::UnitMode;
    /// assert_eq!("whole_units".parse::<UnitMode>()?, UnitMode::WholeUnits);
    /// assert_eq!(UnitMode::default().to_string(), "prorated");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum UnitMode("unit mode") {
        /// User-months: `round(Σ user-days / days in period, 4)` per customer and SKU.
        #[default]
        Prorated = "prorated",
        /// Whole units: `ceil(user-days / days in period)` per report row, summed.
        WholeUnits = "whole_units",
    }
}

string_enum! {
    /// How tiers apply to a quantity.
    ///
    /// ```
    /// use wholesale_billing::TierKind;
    /// assert_eq!("graduated".parse::<TierKind>()?, TierKind::Graduated);
    /// assert_eq!(TierKind::Volume.to_string(), "volume");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum TierKind("tier kind") {
        /// Every unit at the price of the band the total quantity falls in.
        Volume = "volume",
        /// Each band's units at that band's price.
        Graduated = "graduated",
    }
}

/// One band of a tiered price: units up to `up_to` (inclusive; `None`: no limit) at `price`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceBand {
    /// Upper bound of the band in units, inclusive; `None` for the last, open band.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::money::decimal_text::present"
    )]
    pub up_to: Option<Decimal>,
    /// Price per unit in the band.
    #[serde(with = "crate::money::decimal_text")]
    pub price: Decimal,
}

/// The price of one SKU: flat, or tiered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SkuPrice {
    /// One price per unit.
    Flat(#[serde(with = "crate::money::decimal_text")] Decimal),
    /// Bands of volume or graduated pricing, increasing `up_to`, the last one open.
    Tiered {
        /// Volume or graduated.
        kind: TierKind,
        /// The bands.
        bands: Vec<PriceBand>,
    },
}

/// The price of a SKU with an optional customer-facing description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkuEntry {
    /// Flat or tiered price.
    pub price: SkuPrice,
    /// The description shown on invoices; the report's description when empty.
    pub description: String,
}

/// Terms that a customer or sub-partner section can override.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Terms {
    /// Unit mode.
    pub unit_mode: Option<UnitMode>,
    /// Tax percentage (`21` for 21%).
    #[serde(with = "crate::money::decimal_text::option")]
    pub tax_percent: Option<Decimal>,
    /// Discount percentage on the subtotal.
    #[serde(with = "crate::money::decimal_text::option")]
    pub discount_percent: Option<Decimal>,
    /// Minimum monthly charge before tax.
    #[serde(with = "crate::money::decimal_text::option")]
    pub minimum_charge: Option<Decimal>,
    /// SKU prices.
    pub skus: BTreeMap<String, SkuEntry>,
}

/// The effective terms of one bill: book defaults with one section's overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveTerms<'b> {
    /// Unit mode.
    pub unit_mode: UnitMode,
    /// Tax percentage.
    pub tax_percent: Decimal,
    /// Discount percentage.
    pub discount_percent: Decimal,
    /// Minimum monthly charge (zero: none).
    pub minimum_charge: Decimal,
    book: &'b PriceBook,
    section: Option<&'b Terms>,
    /// Whether book-level SKU prices apply (customers) or only the section's (sub-partners).
    book_prices: bool,
    billed: BilledParty,
}

impl EffectiveTerms<'_> {
    /// The price of a SKU under these terms.
    ///
    /// # Errors
    /// [`Error::MissingPrice`] naming the SKU and who is billed when no price applies: nothing is
    /// priced at zero silently.
    pub fn sku(&self, sku: &str) -> Result<&SkuEntry> {
        self.section
            .and_then(|s| s.skus.get(sku))
            .or_else(|| {
                if self.book_prices {
                    self.book.defaults.skus.get(sku)
                } else {
                    None
                }
            })
            .ok_or_else(|| Error::MissingPrice {
                sku: sku.to_owned(),
                billed: self.billed.clone(),
                row: None,
            })
    }
}

/// The partner's retail prices and terms.
///
/// ```
/// use wholesale_billing::{PriceBook, UnitMode};
/// let book = PriceBook::from_toml_str(r#"
///     currency = "EUR"
///     tax_percent = "21"
///     [skus."A-W-WXC-CALL-U"]
///     price = "12.00"
///     [customers."CUST-1"]
///     discount_percent = "10"
///     unit_mode = "whole_units"
/// "#)?;
/// let terms = book.customer_terms("org-1", "CUST-1");
/// assert_eq!(terms.unit_mode, UnitMode::WholeUnits);
/// assert_eq!(terms.discount_percent.to_string(), "10");
/// assert_eq!(terms.tax_percent.to_string(), "21");
/// assert!(terms.sku("A-W-WXC-CALL-U").is_ok());
/// assert!(terms.sku("A-W-NOPE").is_err());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceBook {
    /// The currency of every price.
    pub currency: Currency,
    /// The rounding of each stage.
    pub rounding: RoundingPolicy,
    /// Book-level terms and SKU prices.
    pub defaults: Terms,
    /// Per-customer overrides, keyed by customer org id or external id.
    pub customers: BTreeMap<String, Terms>,
    /// What the partner charges each sub-partner, keyed by sub-partner org id.
    pub sub_partners: BTreeMap<String, Terms>,
}

impl PriceBook {
    /// The terms of a customer: its section (found by org id, else by external id) over the book's.
    pub fn customer_terms(&self, customer_org_id: &str, external_id: &str) -> EffectiveTerms<'_> {
        let section = self.customers.get(customer_org_id).or_else(|| {
            (!external_id.is_empty())
                .then(|| self.customers.get(external_id))
                .flatten()
        });
        let billed = BilledParty::Customer {
            org_id: customer_org_id.to_owned(),
            external_id: external_id.to_owned(),
        };
        self.effective(section, true, billed)
    }

    /// The terms of a sub-partner roll-up: only its own section's SKU prices apply (its wholesale
    /// price), other terms default to the book's.
    pub fn sub_partner_terms(&self, sub_partner_org_id: &str) -> EffectiveTerms<'_> {
        let section = self.sub_partners.get(sub_partner_org_id);
        let billed = BilledParty::SubPartner {
            org_id: sub_partner_org_id.to_owned(),
        };
        self.effective(section, false, billed)
    }

    fn effective<'b>(
        &'b self,
        section: Option<&'b Terms>,
        book_prices: bool,
        billed: BilledParty,
    ) -> EffectiveTerms<'b> {
        let pick = |f: fn(&Terms) -> Option<Decimal>| section.and_then(f).or_else(|| f(&self.defaults));
        EffectiveTerms {
            unit_mode: section
                .and_then(|s| s.unit_mode)
                .or(self.defaults.unit_mode)
                .unwrap_or_default(),
            tax_percent: pick(|t| t.tax_percent).unwrap_or(Decimal::ZERO),
            discount_percent: pick(|t| t.discount_percent).unwrap_or(Decimal::ZERO),
            minimum_charge: pick(|t| t.minimum_charge).unwrap_or(Decimal::ZERO),
            book: self,
            section,
            book_prices,
            billed,
        }
    }
}

/// A price in the book's currency (for callers that want `Money`).
impl PriceBook {
    /// `amount` as money in the book's currency.
    pub fn money(&self, amount: Decimal) -> Money {
        Money::new(amount, self.currency)
    }
}
