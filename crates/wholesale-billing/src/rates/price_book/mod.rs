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

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, TextLocation};
use crate::money::{Currency, Money, RoundingPolicy, parse_decimal};
use crate::textfile::{parse_json, parse_toml};

/// How user-days become billed units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitMode {
    /// User-months: `round(Σ user-days / days in period, 4)` per customer and SKU.
    #[default]
    Prorated,
    /// Whole units: `ceil(user-days / days in period)` per report row, summed.
    WholeUnits,
}

impl fmt::Display for UnitMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnitMode::Prorated => "prorated",
            UnitMode::WholeUnits => "whole_units",
        })
    }
}

/// How tiers apply to a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierKind {
    /// Every unit at the price of the band the total quantity falls in.
    Volume,
    /// Each band's units at that band's price.
    Graduated,
}

/// One band of a tiered price: units up to `up_to` (inclusive; `None`: no limit) at `price`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceBand {
    /// Upper bound of the band in units, inclusive; `None` for the last, open band.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_decimal_text")]
    pub up_to: Option<Decimal>,
    /// Price per unit in the band.
    #[serde(with = "decimal_text")]
    pub price: Decimal,
}

/// The price of one SKU: flat, or tiered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum SkuPrice {
    /// One price per unit.
    Flat(Decimal),
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
    pub tax_percent: Option<Decimal>,
    /// Discount percentage on the subtotal.
    pub discount_percent: Option<Decimal>,
    /// Minimum monthly charge before tax.
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
    who: String,
}

impl EffectiveTerms<'_> {
    /// The price of a SKU under these terms.
    ///
    /// # Errors
    /// [`Error::Pricing`] naming the SKU and who is billed when no price applies: nothing is
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
            .ok_or_else(|| Error::Pricing(format!("no price for SKU {sku} in the price book ({})", self.who)))
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
    /// Reads a TOML price book.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] with line, column and key path for bad syntax, an unknown key, a
    /// price that is not a decimal string, a negative price or percentage, or malformed tiers.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        PriceBook::from_raw(parse_toml(text, FILE)?)
    }

    /// Reads a JSON price book (same structure as TOML).
    ///
    /// # Errors
    /// As [`PriceBook::from_toml_str`].
    pub fn from_json_str(text: &str) -> Result<Self> {
        PriceBook::from_raw(parse_json(text, FILE, &[])?)
    }

    fn from_raw(raw: RawBook) -> Result<Self> {
        let currency = Currency::from_code(&raw.currency).map_err(|e| at_path("currency", e.to_string()))?;
        let defaults = RawTerms {
            unit_mode: raw.unit_mode,
            tax_percent: raw.tax_percent,
            discount_percent: raw.discount_percent,
            minimum_charge: raw.minimum_charge,
            skus: raw.skus,
        }
        .into_terms("")?;
        let customers = raw
            .customers
            .into_iter()
            .map(|(k, v)| Ok((k.clone(), v.into_terms(&format!("customers.{k}."))?)))
            .collect::<Result<_>>()?;
        let sub_partners = raw
            .sub_partners
            .into_iter()
            .map(|(k, v)| Ok((k.clone(), v.into_terms(&format!("sub_partners.{k}."))?)))
            .collect::<Result<_>>()?;
        Ok(PriceBook {
            currency,
            rounding: raw.rounding,
            defaults,
            customers,
            sub_partners,
        })
    }

    /// The terms of a customer: its section (found by org id, else by external id) over the book's.
    pub fn customer_terms(&self, customer_org_id: &str, external_id: &str) -> EffectiveTerms<'_> {
        let section = self.customers.get(customer_org_id).or_else(|| {
            (!external_id.is_empty())
                .then(|| self.customers.get(external_id))
                .flatten()
        });
        let who = if external_id.is_empty() {
            format!("customer {customer_org_id}")
        } else {
            format!("customer {customer_org_id} / {external_id}")
        };
        self.effective(section, true, who)
    }

    /// The terms of a sub-partner roll-up: only its own section's SKU prices apply (its wholesale
    /// price), other terms default to the book's.
    pub fn sub_partner_terms(&self, sub_partner_org_id: &str) -> EffectiveTerms<'_> {
        let section = self.sub_partners.get(sub_partner_org_id);
        self.effective(section, false, format!("sub-partner {sub_partner_org_id}"))
    }

    fn effective<'b>(&'b self, section: Option<&'b Terms>, book_prices: bool, who: String) -> EffectiveTerms<'b> {
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
            who,
        }
    }
}

/// The amount of `units` under a SKU price, exact (not rounded), with the band(s) used.
///
/// ```
/// use wholesale_billing::{Decimal, PriceBand, SkuPrice, TierKind, price_units};
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// let bands = vec![
///     PriceBand { up_to: Some(d("10")), price: d("6") },
///     PriceBand { up_to: None, price: d("5") },
/// ];
/// let volume = SkuPrice::Tiered { kind: TierKind::Volume, bands: bands.clone() };
/// let graduated = SkuPrice::Tiered { kind: TierKind::Graduated, bands };
/// assert_eq!(price_units(&volume, d("12")).0.to_string(), "60");      // 12 × 5
/// assert_eq!(price_units(&graduated, d("12")).0.to_string(), "70");   // 10 × 6 + 2 × 5
/// assert_eq!(price_units(&SkuPrice::Flat(d("2.5")), d("4")).0.to_string(), "10.0");
/// ```
pub fn price_units(price: &SkuPrice, units: Decimal) -> (Decimal, Vec<BandUse>) {
    match price {
        SkuPrice::Flat(p) => (units * p, Vec::new()),
        SkuPrice::Tiered {
            kind: TierKind::Volume,
            bands,
        } => {
            let (index, band) = bands
                .iter()
                .enumerate()
                .find(|(_, b)| b.up_to.is_none_or(|up| units <= up))
                .or_else(|| bands.iter().enumerate().next_back())
                .map_or((0, None), |(i, b)| (i, Some(b)));
            let price = band.map_or(Decimal::ZERO, |b| b.price);
            let amount = units * price;
            let used = BandUse {
                band: index + 1,
                units,
                price,
                amount,
            };
            (amount, vec![used])
        }
        SkuPrice::Tiered {
            kind: TierKind::Graduated,
            bands,
        } => {
            let mut uses = Vec::new();
            let mut floor = Decimal::ZERO;
            let mut total = Decimal::ZERO;
            for (i, band) in bands.iter().enumerate() {
                if units <= floor {
                    break;
                }
                let top = band.up_to.map_or(units, |up| up.min(units));
                let in_band = top - floor;
                if in_band > Decimal::ZERO {
                    let amount = in_band * band.price;
                    total += amount;
                    uses.push(BandUse {
                        band: i + 1,
                        units: in_band,
                        price: band.price,
                        amount,
                    });
                }
                floor = band.up_to.unwrap_or(units);
            }
            (total, uses)
        }
    }
}

/// How many units of a tiered price fell in one band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandUse {
    /// 1-based band number.
    pub band: usize,
    /// Units in the band.
    #[serde(with = "decimal_text")]
    pub units: Decimal,
    /// The band's price per unit.
    #[serde(with = "decimal_text")]
    pub price: Decimal,
    /// Units × price, exact.
    #[serde(with = "decimal_text")]
    pub amount: Decimal,
}

/// A price in the book's currency (for callers that want `Money`).
impl PriceBook {
    /// `amount` as money in the book's currency.
    pub fn money(&self, amount: Decimal) -> Money {
        Money::new(amount, self.currency)
    }
}

// ---- the file form ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBook {
    currency: String,
    #[serde(default)]
    rounding: RoundingPolicy,
    #[serde(default)]
    unit_mode: Option<UnitMode>,
    #[serde(default, with = "opt_decimal_text")]
    tax_percent: Option<Decimal>,
    #[serde(default, with = "opt_decimal_text")]
    discount_percent: Option<Decimal>,
    #[serde(default, with = "opt_decimal_text")]
    minimum_charge: Option<Decimal>,
    #[serde(default)]
    skus: BTreeMap<String, RawSku>,
    #[serde(default)]
    customers: BTreeMap<String, RawTerms>,
    #[serde(default)]
    sub_partners: BTreeMap<String, RawTerms>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTerms {
    #[serde(default)]
    unit_mode: Option<UnitMode>,
    #[serde(default, with = "opt_decimal_text")]
    tax_percent: Option<Decimal>,
    #[serde(default, with = "opt_decimal_text")]
    discount_percent: Option<Decimal>,
    #[serde(default, with = "opt_decimal_text")]
    minimum_charge: Option<Decimal>,
    #[serde(default)]
    skus: BTreeMap<String, RawSku>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSku {
    #[serde(default, with = "opt_decimal_text")]
    price: Option<Decimal>,
    #[serde(default)]
    tiers: Option<TierKind>,
    #[serde(default)]
    bands: Vec<PriceBand>,
    #[serde(default)]
    description: String,
}

impl RawTerms {
    fn into_terms(self, prefix: &str) -> Result<Terms> {
        let percent_ok = |name: &str, v: Option<Decimal>, max: Option<Decimal>| -> Result<()> {
            if let Some(v) = v {
                if v.is_sign_negative() && !v.is_zero() {
                    return Err(at_path(&format!("{prefix}{name}"), format!("{name} is negative: {v}")));
                }
                if max.is_some_and(|m| v > m) {
                    return Err(at_path(&format!("{prefix}{name}"), format!("{name} is above 100: {v}")));
                }
            }
            Ok(())
        };
        percent_ok("tax_percent", self.tax_percent, None)?;
        percent_ok("discount_percent", self.discount_percent, Some(Decimal::ONE_HUNDRED))?;
        percent_ok("minimum_charge", self.minimum_charge, None)?;
        let mut skus = BTreeMap::new();
        for (sku, raw) in self.skus {
            let path = format!("{prefix}skus.{sku}");
            let price = match (raw.price, raw.tiers) {
                (Some(_), Some(_)) => return Err(at_path(&path, "give either `price` or `tiers` and `bands`".into())),
                (None, None) => return Err(at_path(&path, "a SKU needs `price`, or `tiers` and `bands`".into())),
                (Some(p), None) => {
                    if !raw.bands.is_empty() {
                        return Err(at_path(&path, "`bands` without `tiers`".into()));
                    }
                    if p.is_sign_negative() && !p.is_zero() {
                        return Err(at_path(&path, format!("negative price {p}")));
                    }
                    SkuPrice::Flat(p)
                }
                (None, Some(kind)) => {
                    check_bands(&path, &raw.bands)?;
                    SkuPrice::Tiered { kind, bands: raw.bands }
                }
            };
            skus.insert(
                sku,
                SkuEntry {
                    price,
                    description: raw.description,
                },
            );
        }
        Ok(Terms {
            unit_mode: self.unit_mode,
            tax_percent: self.tax_percent,
            discount_percent: self.discount_percent,
            minimum_charge: self.minimum_charge,
            skus,
        })
    }
}

fn check_bands(path: &str, bands: &[PriceBand]) -> Result<()> {
    let Some((last, rest)) = bands.split_last() else {
        return Err(at_path(path, "`tiers` needs at least one band".into()));
    };
    if last.up_to.is_some() {
        return Err(at_path(path, "the last band must be open (no `up_to`)".into()));
    }
    let mut previous = Decimal::ZERO;
    for (i, band) in rest.iter().enumerate() {
        match band.up_to {
            None => {
                return Err(at_path(
                    path,
                    format!("band {} has no `up_to` but is not the last", i + 1),
                ));
            }
            Some(up) if up <= previous => {
                return Err(at_path(
                    path,
                    format!("band {} ends at {up}, not above {previous}", i + 1),
                ));
            }
            Some(up) => previous = up,
        }
    }
    if let Some(band) = bands.iter().find(|b| b.price.is_sign_negative() && !b.price.is_zero()) {
        return Err(at_path(path, format!("negative band price {}", band.price)));
    }
    Ok(())
}

/// The file name in errors.
const FILE: &str = "price book";

fn invalid(location: TextLocation, message: String) -> Error {
    Error::InvalidFile {
        file: FILE,
        location,
        message,
    }
}

fn at_path(path: &str, message: String) -> Error {
    invalid(
        TextLocation {
            path: Some(path.to_owned()),
            ..TextLocation::default()
        },
        message,
    )
}

/// Decimals as strings in files: `"12.00"`. Integers are accepted; floats are refused (lossy).
mod decimal_text {
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }

    pub(super) struct DecimalVisitor;

    impl serde::de::Visitor<'_> for DecimalVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a decimal number as a string, e.g. \"12.00\"")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Decimal, E> {
            super::parse_decimal(v).map_err(E::custom)
        }

        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Decimal, E> {
            Err(E::custom(
                "write amounts as strings (\"12.00\"): a floating-point number cannot be read exactly",
            ))
        }
    }
}

mod opt_decimal_text {
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_any(super::decimal_text::DecimalVisitor).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    const BOOK: &str = r#"
currency = "EUR"
tax_percent = "21"
minimum_charge = "25"

[skus."A-W-WXC-CALL-U"]
price = "12.00"
description = "Cloud Calling"

[skus."A-W-CA-CALL-U"]
tiers = "graduated"
bands = [{ up_to = "10", price = "6.00" }, { up_to = "50", price = "5.50" }, { price = "5.00" }]

[customers."CUST-1"]
discount_percent = "10"
skus."A-W-WXC-CALL-U" = { price = "11.00" }

[sub_partners."sp-1"]
skus."A-W-WXC-CALL-U" = { price = "9.00" }
"#;

    #[test]
    fn reads_terms_and_overrides() {
        let book = PriceBook::from_toml_str(BOOK).unwrap();
        assert_eq!(book.currency, Currency::EUR);
        let c = book.customer_terms("org-x", "CUST-1");
        assert_eq!(c.discount_percent, d("10"));
        assert_eq!(c.minimum_charge, d("25"));
        assert_eq!(c.sku("A-W-WXC-CALL-U").unwrap().price, SkuPrice::Flat(d("11.00")));
        assert!(matches!(c.sku("A-W-CA-CALL-U").unwrap().price, SkuPrice::Tiered { .. }));
        let other = book.customer_terms("org-y", "CUST-2");
        assert_eq!(other.sku("A-W-WXC-CALL-U").unwrap().price, SkuPrice::Flat(d("12.00")));
        assert_eq!(other.discount_percent, Decimal::ZERO);
        let sp = book.sub_partner_terms("sp-1");
        assert_eq!(sp.sku("A-W-WXC-CALL-U").unwrap().price, SkuPrice::Flat(d("9.00")));
        let err = sp.sku("A-W-CA-CALL-U").unwrap_err().to_string();
        assert!(
            err.contains("no price for SKU A-W-CA-CALL-U") && err.contains("sub-partner sp-1"),
            "{err}"
        );
        let json = serde_json::to_string(&book).unwrap();
        assert!(json.contains("\"11.00\"") || json.contains("11.00"), "{json}");
    }

    #[test]
    fn graduated_and_volume_tiers() {
        let bands = vec![
            PriceBand {
                up_to: Some(d("10")),
                price: d("6"),
            },
            PriceBand {
                up_to: Some(d("50")),
                price: d("5.5"),
            },
            PriceBand {
                up_to: None,
                price: d("5"),
            },
        ];
        let graduated = SkuPrice::Tiered {
            kind: TierKind::Graduated,
            bands: bands.clone(),
        };
        let volume = SkuPrice::Tiered {
            kind: TierKind::Volume,
            bands,
        };
        // 60.5 units graduated: 10 × 6 + 40 × 5.5 + 10.5 × 5 = 60 + 220 + 52.5 = 332.5
        let (amount, uses) = price_units(&graduated, d("60.5"));
        assert_eq!(amount, d("332.5"));
        assert_eq!(uses.len(), 3);
        // volume: all 60.5 units at band 3 (5) = 302.5; 50 units at band 2 (inclusive) = 275
        assert_eq!(price_units(&volume, d("60.5")).0, d("302.5"));
        assert_eq!(price_units(&volume, d("50")).0, d("275.0"));
        assert_eq!(price_units(&volume, d("50")).1[0].band, 2);
        // within the first band
        assert_eq!(price_units(&graduated, d("3.25")).0, d("19.50"));
        assert_eq!(price_units(&graduated, Decimal::ZERO).0, Decimal::ZERO);
    }

    #[test]
    fn errors_are_located() {
        for (bad, needle) in [
            (
                BOOK.replace("price = \"12.00\"", "price = 12.5"),
                "write amounts as strings",
            ),
            (BOOK.replace("price = \"12.00\"", "price = \"-1\""), "negative price"),
            (
                BOOK.replace("price = \"12.00\"", "price = \"12,00\""),
                "not a plain decimal",
            ),
            (
                BOOK.replace("{ up_to = \"50\", price = \"5.50\" }, ", ""),
                "skus.A-W-CA-CALL-U",
            ),
            (
                BOOK.replace("{ price = \"5.00\" }", "{ up_to = \"60\", price = \"5.00\" }"),
                "must be open",
            ),
            (BOOK.replace("up_to = \"50\"", "up_to = \"5\""), "not above 10"),
            (
                BOOK.replace("discount_percent = \"10\"", "discount_percent = \"110\""),
                "above 100",
            ),
            (BOOK.replace("currency = \"EUR\"", "currency = \"EURO\""), "currency"),
            (
                BOOK.replace("description = \"Cloud Calling\"", "descripton = \"x\""),
                "descripton",
            ),
        ] {
            let err = PriceBook::from_toml_str(&bad);
            if needle == "skus.A-W-CA-CALL-U" {
                assert!(err.is_ok(), "two bands are fine");
                continue;
            }
            let err = err.unwrap_err().to_string();
            assert!(err.contains(needle), "{needle}: {err}");
            assert!(err.starts_with("price book: "), "{err}");
        }
        let err = PriceBook::from_toml_str(&BOOK.replace("price = \"12.00\"", "price = 12.5"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 7"), "{err}");
    }

    #[test]
    fn json_form_reads_the_same() {
        let json = r#"{"currency": "EUR", "tax_percent": "21", "minimum_charge": "25",
            "skus": {"A-W-WXC-CALL-U": {"price": "12.00", "description": "Cloud Calling"},
                     "A-W-CA-CALL-U": {"tiers": "graduated", "bands": [{"up_to": "10", "price": "6.00"},
                        {"up_to": "50", "price": "5.50"}, {"price": "5.00"}]}},
            "customers": {"CUST-1": {"discount_percent": "10", "skus": {"A-W-WXC-CALL-U": {"price": "11.00"}}}},
            "sub_partners": {"sp-1": {"skus": {"A-W-WXC-CALL-U": {"price": "9.00"}}}}}"#;
        assert_eq!(
            PriceBook::from_json_str(json).unwrap(),
            PriceBook::from_toml_str(BOOK).unwrap()
        );
        assert!(PriceBook::from_json_str(&json.replace("\"12.00\"", "12.5")).is_err());
    }
}
