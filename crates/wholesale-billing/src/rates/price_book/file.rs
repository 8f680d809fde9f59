//! The price book's file form (TOML or JSON): the raw structure, its checks and their located errors.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::{PriceBand, PriceBook, SkuEntry, SkuPrice, Terms, TierKind, UnitMode};
use crate::error::{Error, Result};
use crate::money::{Currency, RoundingPolicy};
use crate::textfile::{parse_json, parse_toml, utf8_text};

impl PriceBook {
    /// Reads a TOML price book.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] with line, column and key path for bad syntax, an unknown key, a
    /// price that is not a decimal string, a negative price or percentage, a tax or discount
    /// percentage above 100 or malformed tiers; its source says which ([`Error::Toml`], [`Error::NegativePrice`],
    /// [`Error::NegativeValue`], [`Error::PercentAbove100`], [`Error::InvalidSkuPricing`],
    /// [`Error::OpenBandNotLast`], [`Error::BandsNotAscending`], [`Error::UnknownCurrency`]).
    ///
    /// ```
    /// use wholesale_billing::{PriceBook, error_with_causes};
    /// let err = PriceBook::from_toml_str("currency = \"EUR\"\ndiscount_percent = \"110\"\n").unwrap_err();
    /// assert_eq!(error_with_causes(&err), "price book: at discount_percent: discount_percent 110 is above 100");
    /// ```
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

    /// Reads a TOML price book from its bytes.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] naming the line, column and byte offset of the first byte that is
    /// not UTF-8, else as [`PriceBook::from_toml_str`].
    ///
    /// ```
    /// use wholesale_billing::{PriceBook, error_with_causes};
    /// let book = PriceBook::from_toml_slice(b"currency = \"EUR\"\n[skus.X]\nprice = \"1\"\n")?;
    /// assert_eq!(book.defaults.skus.len(), 1);
    /// let err = PriceBook::from_toml_slice(b"currency = \"EUR\"\n[skus.X]\nprice = \"\xc3\"\n").unwrap_err();
    /// assert!(error_with_causes(&err).starts_with("price book: line 3, column 10: invalid utf-8 at byte 35"));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_toml_slice(bytes: &[u8]) -> Result<Self> {
        PriceBook::from_toml_str(utf8_text(bytes, FILE)?)
    }

    /// Reads a JSON price book from its bytes.
    ///
    /// # Errors
    /// As [`PriceBook::from_toml_slice`] and [`PriceBook::from_json_str`].
    ///
    /// ```
    /// use wholesale_billing::PriceBook;
    /// let book = PriceBook::from_json_slice(br#"{"currency": "EUR", "skus": {"X": {"price": "1"}}}"#)?;
    /// assert_eq!(book.defaults.skus.len(), 1);
    /// assert!(PriceBook::from_json_slice(b"{\"currency\": \"\xff\"}").is_err());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self> {
        PriceBook::from_json_str(utf8_text(bytes, FILE)?)
    }

    fn from_raw(raw: RawBook) -> Result<Self> {
        let currency = Currency::from_code(&raw.currency).map_err(|e| e.at_path(FILE, "currency"))?;
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
        let percent_ok = |name: &'static str, v: Option<Decimal>, max: Option<Decimal>| -> Result<()> {
            if let Some(value) = v {
                if value.is_sign_negative() && !value.is_zero() {
                    return Err(Error::NegativeValue { what: name, value }.at_path(FILE, format!("{prefix}{name}")));
                }
                if max.is_some_and(|m| value > m) {
                    return Err(Error::PercentAbove100 { what: name, value }.at_path(FILE, format!("{prefix}{name}")));
                }
            }
            Ok(())
        };
        percent_ok("tax_percent", self.tax_percent, Some(Decimal::ONE_HUNDRED))?;
        percent_ok("discount_percent", self.discount_percent, Some(Decimal::ONE_HUNDRED))?;
        percent_ok("minimum_charge", self.minimum_charge, None)?;
        let mut skus = BTreeMap::new();
        for (sku, raw) in self.skus {
            let path = format!("{prefix}skus.{sku}");
            let price = match (raw.price, raw.tiers) {
                (Some(_), Some(_)) => return Err(invalid_pricing(&path, "give either `price` or `tiers` and `bands`")),
                (None, None) => return Err(invalid_pricing(&path, "a SKU needs `price`, or `tiers` and `bands`")),
                (Some(p), None) => {
                    if !raw.bands.is_empty() {
                        return Err(invalid_pricing(&path, "`bands` without `tiers`"));
                    }
                    if p.is_sign_negative() && !p.is_zero() {
                        let negative = Error::NegativePrice {
                            what: "price",
                            value: p,
                            sku: None,
                        };
                        return Err(negative.at_path(FILE, path));
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
        return Err(invalid_pricing(path, "`tiers` needs at least one band"));
    };
    if last.up_to.is_some() {
        return Err(invalid_pricing(path, "the last band must be open (no `up_to`)"));
    }
    let mut previous = Decimal::ZERO;
    for (i, band) in rest.iter().enumerate() {
        match band.up_to {
            None => return Err(Error::OpenBandNotLast { band: i + 1 }.at_path(FILE, path)),
            Some(up_to) if up_to <= previous => {
                return Err(Error::BandsNotAscending {
                    band: i + 1,
                    up_to,
                    previous,
                }
                .at_path(FILE, path));
            }
            Some(up) => previous = up,
        }
    }
    if let Some(band) = bands.iter().find(|b| b.price.is_sign_negative() && !b.price.is_zero()) {
        let negative = Error::NegativePrice {
            what: "band price",
            value: band.price,
            sku: None,
        };
        return Err(negative.at_path(FILE, path));
    }
    Ok(())
}

/// The file name in errors.
const FILE: &str = "price book";

/// A SKU's `price`, `tiers` and `bands` that do not make one price, at its path.
fn invalid_pricing(path: &str, reason: &'static str) -> Error {
    Error::InvalidSkuPricing { reason }.at_path(FILE, path)
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
            let err = crate::error_with_causes(&err.unwrap_err());
            assert!(err.contains(needle), "{needle}: {err}");
            assert!(err.starts_with("price book: "), "{err}");
        }
        let err = crate::error_with_causes(
            &PriceBook::from_toml_str(&BOOK.replace("price = \"12.00\"", "price = 12.5")).unwrap_err(),
        );
        assert!(err.contains("line 7"), "{err}");
    }

    #[test]
    fn percentages_above_100_are_refused_where_they_are() {
        let with_tax = |tax: &str| {
            BOOK.replace(
                "[customers.\"CUST-1\"]\n",
                &format!("[customers.\"CUST-1\"]\ntax_percent = \"{tax}\"\n"),
            )
        };
        let book = PriceBook::from_toml_str(&with_tax("100")).unwrap();
        assert_eq!(book.customer_terms("org-x", "CUST-1").tax_percent, d("100"));
        let err = PriceBook::from_toml_str(&with_tax("100.01")).unwrap_err();
        assert_eq!(
            crate::error_with_causes(&err),
            "price book: at customers.CUST-1.tax_percent: tax_percent 100.01 is above 100"
        );
        assert!(matches!(&err, Error::InvalidFile { source, .. }
            if matches!(**source, Error::PercentAbove100 { what: "tax_percent", .. })));
        let top = BOOK.replace("tax_percent = \"21\"", "tax_percent = \"150\"");
        let err = crate::error_with_causes(&PriceBook::from_toml_str(&top).unwrap_err());
        assert_eq!(err, "price book: at tax_percent: tax_percent 150 is above 100");
        let json = r#"{"currency": "EUR", "sub_partners": {"sp-1": {"tax_percent": "101"}}}"#;
        let err = crate::error_with_causes(&PriceBook::from_json_str(json).unwrap_err());
        assert_eq!(
            err,
            "price book: at sub_partners.sp-1.tax_percent: tax_percent 101 is above 100"
        );
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
