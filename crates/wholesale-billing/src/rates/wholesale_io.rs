//! Reading and writing wholesale rate cards as CSV, TOML and JSON (SPEC.md §5.2).
//!
//! The TOML form (JSON has the same structure):
//!
//! ```toml
//! currency = "USD"
//!
//! [rates."A-W-WXC-CALL-U"]
//! rate = "8.00"                 # required; a string (or a whole number), never a float
//! committed_rate = "7.50"       # optional
//! description = "Wholesale Webex Calling Usage"
//! unit_of_measure = "Per User"
//! charge_type = "Usage"
//! ```
//!
//! The CSV form has one row per SKU and the columns `sku`, `rate`, `committed_rate`, `currency`,
//! `description`, `unit_of_measure` and `charge_type`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{Read, Write};
use std::marker::PhantomData;

use rust_decimal::Decimal;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::csvutil::{csv_error, csv_write_error, field, find_columns, header_error, open_with_header, record_line};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};
use crate::money::decimal_text::DecimalText;
use crate::money::{Currency, parse_price};
use crate::rates::wholesale::{WholesaleRate, WholesaleRateCard};
use crate::textfile::{parse_json, parse_toml, utf8_text};

/// The `file` of the errors about a rate card file, and the `source_name` of CSV rejections.
const SOURCE: &str = "wholesale rate card";

/// The CSV columns, in the order [`WholesaleRateCard::write_csv`] writes them, with the header
/// names accepted for each (normalised: lower case, `_` for separators).
const COLUMNS: [(&str, &[&str]); 7] = [
    ("sku", &["sku", "product_id", "productid", "pid"]),
    ("rate", &["rate", "price", "rate_price", "list_price", "listprice"]),
    (
        "committed_rate",
        &["committed_rate", "committed_price", "commit_rate", "committed"],
    ),
    ("currency", &["currency", "currency_code", "list_price_currency"]),
    ("description", &["description", "product_description"]),
    ("unit_of_measure", &["unit_of_measure", "uom", "unit"]),
    ("charge_type", &["charge_type"]),
];
const SKU: usize = 0;
const RATE: usize = 1;
const COMMITTED: usize = 2;
const CURRENCY: usize = 3;
const DESCRIPTION: usize = 4;
const UNIT: usize = 5;
const CHARGE: usize = 6;

impl WholesaleRateCard {
    /// Reads a rate card CSV: columns by name, case-insensitive, in the snake or the human form
    /// (`"Rate Price"`, `"Unit of Measure"`); BOM tolerated; unknown columns ignored. `sku`, `rate`
    /// (or `price`, `rate_price`, `list_price`) and `currency` are required, with the same
    /// currency on every row; `committed_rate`, `description`, `unit_of_measure` and
    /// `charge_type` are optional. Prices are plain decimals (`8.00`), never negative.
    ///
    /// # Errors
    /// [`Error::Io`] when reading fails; [`Error::Rejected`] (`source_name` `"wholesale rate
    /// card"`) when the header lacks a required column, when the file has no rate row, or when
    /// any row is bad — an empty SKU or price, a price that is not a plain decimal or is negative,
    /// a SKU seen before, a second currency — each issue located by line, column and field.
    ///
    /// ```
    /// use wholesale_billing::WholesaleRateCard;
    /// let csv = "SKU,Rate Price,Currency,Unit of Measure\n\
    ///            A-W-WXC-CALL-U,8.00,USD,Per User\n\
    ///            A-W-WXM-MEET-U,-1,USD,Per User\n";
    /// let err = WholesaleRateCard::from_csv(csv.as_bytes()).unwrap_err();
    /// assert_eq!(err.issues()[0].to_string(), "line 3, column 2 (rate): error: negative price -1");
    ///
    /// let card = WholesaleRateCard::from_csv(&csv.as_bytes()[..csv.find("A-W-WXM").unwrap()])?;
    /// assert_eq!(card.rate("A-W-WXC-CALL-U")?.rate.to_string(), "8.00");
    /// assert_eq!(card.rate("A-W-WXC-CALL-U")?.unit_of_measure, "Per User");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_csv(reader: impl Read) -> Result<Self> {
        let mut record = csv::ByteRecord::new();
        let mut rdr = open_with_header(reader, &mut record, SOURCE)?;
        let cols = find_columns(&record, &COLUMNS, &[SKU, RATE, CURRENCY], SOURCE)?;
        let mut issues = Vec::new();
        let mut rates = Vec::new();
        let mut currency: Option<(Currency, u64)> = None;
        let mut first_line_of_sku: HashMap<String, u64> = HashMap::new();
        while rdr.read_byte_record(&mut record).map_err(|e| csv_error(SOURCE, e))? {
            let line = record_line(&mut rdr, &record);
            let mut row = CsvRow {
                record: &record,
                cols: &cols,
                line,
                issues: &mut issues,
                ok: true,
            };
            let sku = row.text(SKU, true);
            let rate = row.price(RATE, true);
            let committed_rate = row.price(COMMITTED, false);
            if let Some(code) = row.text(CURRENCY, true).filter(|c| !c.is_empty()) {
                match (Currency::from_code(&code), currency) {
                    (Err(e), _) => row.bad(CURRENCY, IssueKind::InvalidValue, e.to_string()),
                    (Ok(c), None) => currency = Some((c, line)),
                    (Ok(c), Some((first, first_line))) if c != first => row.bad(
                        CURRENCY,
                        IssueKind::InvalidValue,
                        format!("currency {c} differs from {first} (line {first_line}): a rate card has one currency"),
                    ),
                    (Ok(_), Some(_)) => {}
                }
            }
            if let Some(sku) = sku.as_deref().filter(|s| !s.is_empty()) {
                if let Some(first) = first_line_of_sku.get(sku) {
                    let message = format!("SKU {sku} appears twice (first on line {first})");
                    row.bad(SKU, IssueKind::InvalidValue, message);
                } else {
                    first_line_of_sku.insert(sku.to_owned(), line);
                }
            }
            let description = row.text(DESCRIPTION, false).unwrap_or_default();
            let unit_of_measure = row.text(UNIT, false).unwrap_or_default();
            let charge_type = row.text(CHARGE, false).unwrap_or_default();
            if let (true, Some(sku), Some(Some(rate))) = (row.ok, sku, rate) {
                rates.push((
                    line,
                    WholesaleRate {
                        sku,
                        description,
                        rate,
                        committed_rate: committed_rate.flatten(),
                        unit_of_measure,
                        charge_type,
                    },
                ));
            }
        }
        if !issues.is_empty() {
            return Err(Error::Rejected {
                source_name: SOURCE,
                issues,
            });
        }
        let Some((currency, _)) = currency else {
            return Err(header_error(
                SOURCE,
                "no rate rows: a rate card needs at least one row (its currency is read from the rows)".into(),
            ));
        };
        let mut card = WholesaleRateCard::new(currency);
        for (line, rate) in rates {
            card.insert(rate).map_err(|e| Error::Rejected {
                source_name: SOURCE,
                issues: vec![LoadIssue::new(
                    Severity::Error,
                    line,
                    IssueKind::InvalidValue,
                    e.to_string(),
                )],
            })?;
        }
        Ok(card)
    }

    /// Writes the card as CSV: the header `sku,rate,committed_rate,currency,description,
    /// unit_of_measure,charge_type`, then one row per SKU in SKU order, prices exactly as held
    /// (`8.00` stays `8.00`). [`WholesaleRateCard::from_csv`] reads it back to an equal card
    /// (for a card with at least one rate: the CSV form carries the currency on its rows).
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, WholesaleRate, WholesaleRateCard};
    /// let mut card = WholesaleRateCard::new(Currency::USD);
    /// card.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(800, 2)))?;
    /// let mut csv = Vec::new();
    /// card.write_csv(&mut csv)?;
    /// assert_eq!(String::from_utf8(csv.clone()).unwrap(),
    ///     "sku,rate,committed_rate,currency,description,unit_of_measure,charge_type\n\
    ///      A-W-WXC-CALL-U,8.00,,USD,,,\n");
    /// assert_eq!(WholesaleRateCard::from_csv(csv.as_slice())?, card);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn write_csv(&self, mut writer: impl Write) -> Result<()> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::with_capacity(64 * (self.len() + 1)));
        let csv_err = |e: csv::Error| csv_write_error("writing the wholesale rate card", e);
        w.write_record(COLUMNS.map(|(name, _)| name)).map_err(csv_err)?;
        let currency = self.currency().to_string();
        for r in self.rates() {
            let committed = r.committed_rate.map(|c| c.to_string()).unwrap_or_default();
            w.write_record([
                r.sku.as_str(),
                &r.rate.to_string(),
                &committed,
                &currency,
                &r.description,
                &r.unit_of_measure,
                &r.charge_type,
            ])
            .map_err(csv_err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| Error::io("writing the wholesale rate card", e.into_error()))?;
        let io = |e| Error::io("writing the wholesale rate card", e);
        writer.write_all(&bytes).map_err(io)?;
        writer.flush().map_err(io)
    }

    /// Reads a TOML rate card: `currency`, then one `[rates."SKU"]` table per SKU with `rate` and the optional `committed_rate`,
    /// `description`, `unit_of_measure` and `charge_type`. Prices are strings (`rate = "8.00"`)
    /// or whole numbers (`rate = 8`); a TOML float (`rate = 8.00`) is refused because it is a
    /// binary float, not the exact price written.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] (`file` `"wholesale rate card"`) with line, column and key path for
    /// bad syntax, an unknown, missing or mistyped key, a float, negative or malformed price, an
    /// empty SKU or an unknown currency.
    ///
    /// ```
    /// use wholesale_billing::WholesaleRateCard;
    /// let card = WholesaleRateCard::from_toml_str(r#"
    /// currency = "USD"
    /// [rates."A-W-WXC-CALL-U"]
    /// rate = "8.00"
    /// committed_rate = "7.50"
    /// "#)?;
    /// assert_eq!(card.rate("A-W-WXC-CALL-U")?.committed_or_list().to_string(), "7.50");
    ///
    /// let err = WholesaleRateCard::from_toml_str("currency = \"USD\"\n[rates.X]\nrate = 8.00\n").unwrap_err();
    /// assert_eq!(wholesale_billing::error_with_causes(&err), "wholesale rate card: line 3, column 8 at rates.X.rate: \
    ///     a price written as a float is not exact: write prices as strings, e.g. rate = \"8.00\"");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let file: RateCardFile<TomlSyntax> = parse_toml(text, SOURCE)?;
        file.into_card()
    }

    /// Reads a JSON rate card, the same structure as the TOML form:
    /// `{"currency": "USD", "rates": {"A-W-WXC-CALL-U": {"rate": "8.00"}}}`. Prices are strings
    /// or whole numbers; a JSON number with a fraction or an exponent is refused.
    ///
    /// # Errors
    /// As [`WholesaleRateCard::from_toml_str`], located by line, column (in bytes, as serde_json
    /// counts) and JSON path; also a SKU that appears twice in `rates`.
    ///
    /// ```
    /// use wholesale_billing::WholesaleRateCard;
    /// let card = WholesaleRateCard::from_json_str(r#"{"currency": "EUR", "rates": {"A-W-WXC-CALL-U": {"rate": 7}}}"#)?;
    /// assert_eq!(card.rate("A-W-WXC-CALL-U")?.rate.to_string(), "7");
    ///
    /// let err = WholesaleRateCard::from_json_str(r#"{"currency": "EUR", "rates": {"X": {"rate": "7,5"}}}"#)
    ///     .unwrap_err();
    /// assert_eq!(wholesale_billing::error_with_causes(&err),
    ///     "wholesale rate card: line 1, column 49 at rates.X.rate: invalid price \"7,5\": not a plain decimal number");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_json_str(text: &str) -> Result<Self> {
        let file: RateCardFile<JsonSyntax> = parse_json(text, SOURCE, &[])?;
        file.into_card()
    }

    /// Reads a TOML rate card from its bytes.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] naming the line, column and byte offset of the first byte that is
    /// not UTF-8, else as [`WholesaleRateCard::from_toml_str`].
    ///
    /// ```
    /// use wholesale_billing::{WholesaleRateCard, error_with_causes};
    /// let card = WholesaleRateCard::from_toml_slice(b"currency = \"USD\"\n[rates.X]\nrate = \"8\"\n")?;
    /// assert_eq!(card.len(), 1);
    /// let err = WholesaleRateCard::from_toml_slice(b"currency = \"USD\"\n[rates.X]\ndescription = \"\xff\"\n").unwrap_err();
    /// assert!(error_with_causes(&err).starts_with("wholesale rate card: line 3, column 16: invalid utf-8 at byte 42"));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_toml_slice(bytes: &[u8]) -> Result<Self> {
        WholesaleRateCard::from_toml_str(utf8_text(bytes, SOURCE)?)
    }

    /// Reads a JSON rate card from its bytes.
    ///
    /// # Errors
    /// As [`WholesaleRateCard::from_toml_slice`] and [`WholesaleRateCard::from_json_str`].
    ///
    /// ```
    /// use wholesale_billing::WholesaleRateCard;
    /// let card = WholesaleRateCard::from_json_slice(br#"{"currency": "EUR", "rates": {"X": {"rate": "7"}}}"#)?;
    /// assert_eq!(card.rate("X")?.rate.to_string(), "7");
    /// assert!(WholesaleRateCard::from_json_slice(b"{\"currency\": \"\xff\"}").is_err());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self> {
        WholesaleRateCard::from_json_str(utf8_text(bytes, SOURCE)?)
    }

    /// Writes the card in the TOML form, prices as strings exactly as held.
    /// [`WholesaleRateCard::from_toml_str`] reads it back to an equal card.
    ///
    /// # Errors
    /// [`Error::WriteToml`] if TOML cannot represent a value (never for a valid card).
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, WholesaleRate, WholesaleRateCard};
    /// let mut card = WholesaleRateCard::new(Currency::USD);
    /// let mut rate = WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(800, 2));
    /// rate.committed_rate = Some(Decimal::new(750, 2));
    /// card.insert(rate)?;
    /// let text = card.to_toml_string()?;
    /// assert_eq!(text, "currency = \"USD\"\n\n[rates.A-W-WXC-CALL-U]\nrate = \"8.00\"\ncommitted_rate = \"7.50\"\n");
    /// assert_eq!(WholesaleRateCard::from_toml_str(&text)?, card);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(&RateCardOut::of(self)).map_err(|source| Error::WriteToml { what: SOURCE, source })
    }

    /// Writes the card in the JSON form (pretty-printed), prices as strings exactly as held.
    /// [`WholesaleRateCard::from_json_str`] reads it back to an equal card.
    ///
    /// # Errors
    /// Never for a valid card; typed for symmetry with [`WholesaleRateCard::to_toml_string`].
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, WholesaleRate, WholesaleRateCard};
    /// let mut card = WholesaleRateCard::new(Currency::EUR);
    /// card.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(800, 2)))?;
    /// let json = card.to_json_string()?;
    /// assert!(json.contains(r#""rate": "8.00""#));
    /// assert_eq!(WholesaleRateCard::from_json_str(&json)?, card);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn to_json_string(&self) -> Result<String> {
        serde_json::to_string_pretty(&RateCardOut::of(self)).map_err(|source| Error::WriteJson { what: SOURCE, source })
    }
}

// ---- CSV ----

/// One CSV row being read: its fields, and the issues found so far.
struct CsvRow<'a> {
    record: &'a csv::ByteRecord,
    cols: &'a [Option<usize>; 7],
    line: u64,
    issues: &'a mut Vec<LoadIssue>,
    ok: bool,
}

impl CsvRow<'_> {
    fn bad(&mut self, col: usize, kind: IssueKind, message: String) {
        let mut issue = LoadIssue::new(Severity::Error, self.line, kind, message);
        match self.cols[col] {
            Some(c) => issue = issue.at_column(c, COLUMNS[col].0),
            None => issue.field = Some(COLUMNS[col].0.to_owned()),
        }
        self.issues.push(issue);
        self.ok = false;
    }

    /// The trimmed text of a field (empty when absent); `None` after an issue.
    fn text(&mut self, col: usize, required: bool) -> Option<String> {
        let bytes = field(self.record, self.cols[col].map(|i| i - 1));
        let Ok(text) = std::str::from_utf8(bytes) else {
            self.bad(col, IssueKind::InvalidValue, "not valid utf-8".into());
            return None;
        };
        if required && text.is_empty() {
            self.bad(col, IssueKind::MissingField, format!("{} is required", COLUMNS[col].0));
            return None;
        }
        Some(text.to_owned())
    }

    /// The price of a field: `Some(None)` when empty and optional, `None` after an issue.
    fn price(&mut self, col: usize, required: bool) -> Option<Option<Decimal>> {
        let text = self.text(col, required)?;
        if text.is_empty() {
            return Some(None);
        }
        match parse_price(&text) {
            Ok(price) => Some(Some(price)),
            Err(e) => {
                self.bad(col, IssueKind::InvalidValue, e.to_string());
                None
            }
        }
    }
}

// ---- TOML and JSON ----

/// How a file form writes a price, for the hint of the float error.
trait PriceSyntax {
    const EXAMPLE: &'static str;
}

enum TomlSyntax {}
impl PriceSyntax for TomlSyntax {
    const EXAMPLE: &'static str = "rate = \"8.00\"";
}

enum JsonSyntax {}
impl PriceSyntax for JsonSyntax {
    const EXAMPLE: &'static str = "\"rate\": \"8.00\"";
}

/// A price read exactly: a decimal string or a whole number, never a float, never negative.
struct Price<S>(Decimal, PhantomData<S>);

impl<'de, S: PriceSyntax> Deserialize<'de> for Price<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let price = DecimalText {
            what: "price",
            example: S::EXAMPLE,
            price: true,
        };
        deserializer.deserialize_any(price).map(|d| Price(d, PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: PriceSyntax"))]
struct RateCardFile<S> {
    currency: Currency,
    #[serde(default = "Rates::empty")]
    rates: Rates<S>,
}

/// The `rates` table in file order; an empty or repeated SKU is refused where it is read.
struct Rates<S>(Vec<(String, RateEntry<S>)>);

impl<S> Rates<S> {
    fn empty() -> Self {
        Rates(Vec::new())
    }
}

impl<'de, S: PriceSyntax> Deserialize<'de> for Rates<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct RatesVisitor<S>(PhantomData<S>);
        impl<'de, S: PriceSyntax> Visitor<'de> for RatesVisitor<S> {
            type Value = Rates<S>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of rates keyed by SKU")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Rates<S>, A::Error> {
                let mut rates: Vec<(String, RateEntry<S>)> = Vec::new();
                while let Some(sku) = map.next_key::<String>()? {
                    if sku.trim().is_empty() {
                        return Err(de::Error::custom("a rate with an empty SKU"));
                    }
                    if rates.iter().any(|(s, _)| *s == sku) {
                        return Err(de::Error::custom(format!("SKU {sku} appears twice")));
                    }
                    let entry = map.next_value::<RateEntry<S>>()?;
                    rates.push((sku, entry));
                }
                Ok(Rates(rates))
            }
        }
        deserializer.deserialize_map(RatesVisitor(PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: PriceSyntax"))]
struct RateEntry<S> {
    rate: Price<S>,
    #[serde(default)]
    committed_rate: Option<Price<S>>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    unit_of_measure: String,
    #[serde(default)]
    charge_type: String,
}

impl<S> RateCardFile<S> {
    fn into_card(self) -> Result<WholesaleRateCard> {
        let mut card = WholesaleRateCard::new(self.currency);
        for (sku, e) in self.rates.0 {
            let path = format!("rates.{sku}");
            card.insert(WholesaleRate {
                sku,
                description: e.description,
                rate: e.rate.0,
                committed_rate: e.committed_rate.map(|p| p.0),
                unit_of_measure: e.unit_of_measure,
                charge_type: e.charge_type,
            })
            .map_err(|e| e.at_path(SOURCE, path))?;
        }
        Ok(card)
    }
}

#[derive(Serialize)]
struct RateCardOut<'a> {
    currency: Currency,
    rates: BTreeMap<&'a str, RateOut<'a>>,
}

#[derive(Serialize)]
struct RateOut<'a> {
    rate: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    committed_rate: Option<String>,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    unit_of_measure: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    charge_type: &'a str,
}

impl<'a> RateCardOut<'a> {
    fn of(card: &'a WholesaleRateCard) -> Self {
        RateCardOut {
            currency: card.currency(),
            rates: card
                .rates()
                .map(|r| {
                    let out = RateOut {
                        rate: r.rate.to_string(),
                        committed_rate: r.committed_rate.map(|c| c.to_string()),
                        description: &r.description,
                        unit_of_measure: &r.unit_of_measure,
                        charge_type: &r.charge_type,
                    };
                    (r.sku.as_str(), out)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::money::parse_price;

    #[test]
    fn prices_are_exact_or_refused() {
        assert_eq!(parse_price("8.00").unwrap().to_string(), "8.00");
        assert_eq!(parse_price("-0").unwrap().to_string(), "0");
        assert_eq!(parse_price("-0.01").unwrap_err().to_string(), "negative price -0.01");
        assert_eq!(
            parse_price("1e3").unwrap_err().to_string(),
            "invalid price \"1e3\": not a plain decimal number"
        );
        let long = "9".repeat(5 * 1024 * 1024) + "x";
        let message = parse_price(&long).unwrap_err().to_string();
        assert!(
            message.len() < 200 && message.ends_with("(5242881 characters): not a plain decimal number"),
            "{message}"
        );
    }

    #[test]
    fn file_prices_keep_their_rules() {
        use crate::WholesaleRateCard;
        let toml =
            |rate: &str| WholesaleRateCard::from_toml_str(&format!("currency = \"USD\"\n[rates.X]\nrate = {rate}\n"));
        assert_eq!(toml("8").unwrap().rate("X").unwrap().rate.to_string(), "8");
        assert_eq!(toml("\"-0.00\"").unwrap().rate("X").unwrap().rate.to_string(), "0.00");
        let err = |rate: &str| crate::error_with_causes(&toml(rate).unwrap_err());
        assert!(err("-1").ends_with("negative price -1"), "{}", err("-1"));
        assert!(err("\"-1\"").ends_with("negative price -1"), "{}", err("\"-1\""));
        assert!(
            err("true").ends_with("expected a price as a decimal string, e.g. rate = \"8.00\""),
            "{}",
            err("true")
        );
        let json = WholesaleRateCard::from_json_str(r#"{"currency": "USD", "rates": {"X": {"rate": 8.5}}}"#);
        assert!(
            crate::error_with_causes(&json.unwrap_err())
                .ends_with("a price written as a float is not exact: write prices as strings, e.g. \"rate\": \"8.00\"")
        );
    }
}
