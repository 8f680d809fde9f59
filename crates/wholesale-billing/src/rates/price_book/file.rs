//! The price book's file form (TOML or JSON): the raw structure, its checks and their located errors.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::{PriceBand, PriceBook, SkuEntry, SkuPrice, Terms, TierKind, UnitMode};
use crate::error::{Error, Result, TextLocation};
use crate::money::{Currency, RoundingPolicy};
use crate::textfile::{parse_json, parse_toml};

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
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBook {
    currency: String,
    #[serde(default)]
    rounding: RoundingPolicy,
    #[serde(default)]
    unit_mode: Option<UnitMode>,
    #[serde(default, with = "crate::money::decimal_text::present")]
    tax_percent: Option<Decimal>,
    #[serde(default, with = "crate::money::decimal_text::present")]
    discount_percent: Option<Decimal>,
    #[serde(default, with = "crate::money::decimal_text::present")]
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
    #[serde(default, with = "crate::money::decimal_text::present")]
    tax_percent: Option<Decimal>,
    #[serde(default, with = "crate::money::decimal_text::present")]
    discount_percent: Option<Decimal>,
    #[serde(default, with = "crate::money::decimal_text::present")]
    minimum_charge: Option<Decimal>,
    #[serde(default)]
    skus: BTreeMap<String, RawSku>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSku {
    #[serde(default, with = "crate::money::decimal_text::present")]
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
