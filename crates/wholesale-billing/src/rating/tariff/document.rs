//! The tariff file (SPEC §7.8) as written: TOML or JSON of one structure, read with every error
//! located by line, column and key path, and written back.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::Weekday;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use super::band::{ClockTime, weekdays};
use super::table::{PrefixTable, read_prefix_table};
use crate::error::{Error, Result};
use crate::money::Currency;
use crate::money::decimal_text::{self, DecimalText};
use crate::org::OrgFormat;
use crate::rating::CallType;
use crate::textfile::{parse_json, parse_toml, utf8_text};

/// The `file` of the errors about a tariff document.
pub(crate) const FILE: &str = "tariff";

/// The default `rating_decimals`.
pub const DEFAULT_RATING_DECIMALS: u32 = 4;

/// A tariff as its file gives it (SPEC §7.8): currency, rounding, charged call types, time
/// bands, destinations with their prefixes and prices, allowances, and the name of a CSV prefix
/// table. Read it with [`TariffDocument::from_slice`] (or `from_toml_str` / `from_json_str`),
/// give it the prefix table it names ([`TariffDocument::prefix_table`],
/// [`TariffDocument::with_prefix_table`]), then [`TariffDocument::compile`] it: compiling checks
/// every rule and builds the [`Tariff`](super::Tariff) the engine rates with.
///
/// The library opens no files: the caller opens the prefix table, relative to the tariff
/// file's directory.
///
/// ```
/// use wholesale_billing::{OrgFormat, TariffDocument};
/// let text = br#"
/// currency = "GBP"
/// prefix_table = "prefixes.csv"
///
/// [[destinations]]
/// name = "UK mobile"
/// class = "mobile"
/// prefixes = ["447"]
/// connect_fee = "0.00"
/// per_minute = "0.0300"
/// initial = 60
/// subsequent = 1
/// "#;
/// let doc = TariffDocument::from_slice(text, OrgFormat::Toml)?;
/// assert_eq!(doc.prefix_table(), Some("prefixes.csv"));
/// assert_eq!(doc.rating_decimals, 4);
/// let csv = "prefix,destination,class,connect_fee,per_minute,initial,subsequent\n\
///            44,UK national,national,0,0.01,60,60\n";
/// let tariff = doc.with_prefix_table(csv.as_bytes())?.compile()?;
/// let (id, len) = tariff.lookup(b"447700900123").unwrap();
/// assert_eq!((tariff.destination(id).unwrap().name(), len), ("UK mobile", 3));
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffDocument {
    /// The currency of every amount.
    pub currency: Currency,
    /// The decimals each call's charge is rounded to, half-even (default 4, at most 6).
    #[serde(default = "default_rating_decimals")]
    pub rating_decimals: u32,
    /// The call types of originating legs that are charged (default: national, mobile,
    /// international, premium, short codes). Names in any case.
    #[serde(default = "default_charged", deserialize_with = "call_types")]
    pub charged_call_types: Vec<CallType>,
    /// The destination whose prices the called customer pays for a toll-free leg, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tollfree_destination: Option<String>,
    /// The CSV destination table, relative to the tariff file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_table: Option<String>,
    /// The time bands, in the order they are tried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<BandSpec>,
    /// The destinations of the file itself (the prefix table's are apart).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<DestinationSpec>,
    /// The bundled minutes of packages, in the order they are drawn from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowances: Vec<AllowanceSpec>,
    /// The prefix table, once loaded.
    #[serde(skip)]
    pub(crate) table: Option<PrefixTable>,
}

/// A time band of a tariff file: `[[bands]]`.
///
/// ```
/// use wholesale_billing::{BandSpec, ClockTime, Weekday};
/// let band = BandSpec {
///     name: "offpeak".into(),
///     days: vec![Weekday::Sat, Weekday::Sun],
///     from: "00:00".parse()?,
///     to: "24:00".parse()?,
/// };
/// assert_eq!(band.to.seconds(), 86_400);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSpec {
    /// The band's name, which destinations give prices for.
    pub name: String,
    /// Its weekdays (`mon` … `sun`; long names and any case are read).
    #[serde(with = "weekdays")]
    pub days: Vec<Weekday>,
    /// The local time it starts at (included).
    pub from: ClockTime,
    /// The local time it ends at (excluded); `24:00` is the end of the day.
    pub to: ClockTime,
}

/// A destination of a tariff file (`[[destinations]]`) or of its prefix table.
///
/// ```
/// use wholesale_billing::{Decimal, DestinationSpec};
/// let uk = DestinationSpec::new("UK", "national", Decimal::ZERO, Decimal::new(1, 2), 60, 60)
///     .with_prefixes(["44"]);
/// assert_eq!(uk.prefixes, ["44"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationSpec {
    /// The destination's name (`UK mobile`).
    pub name: String,
    /// Its class (`mobile`), which allowances name.
    pub class: String,
    /// Its digit prefixes; a destination without prefixes is only reached as the
    /// `tollfree_destination`.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// The fee per call (default 0).
    #[serde(default, deserialize_with = "price", serialize_with = "decimal_text::serialize")]
    pub connect_fee: Decimal,
    /// The price per minute, at most 6 decimals.
    #[serde(deserialize_with = "price", serialize_with = "decimal_text::serialize")]
    pub per_minute: Decimal,
    /// The first increment in seconds (at least 1).
    pub initial: u64,
    /// The later increments in seconds (at least 1).
    pub subsequent: u64,
    /// Prices by band name; a band without a price here has the default prices.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bands: BTreeMap<String, BandPriceSpec>,
}

impl DestinationSpec {
    /// A destination without prefixes nor band prices.
    pub fn new(
        name: impl Into<String>,
        class: impl Into<String>,
        connect_fee: Decimal,
        per_minute: Decimal,
        initial: u64,
        subsequent: u64,
    ) -> Self {
        DestinationSpec {
            name: name.into(),
            class: class.into(),
            prefixes: Vec::new(),
            connect_fee,
            per_minute,
            initial,
            subsequent,
            bands: BTreeMap::new(),
        }
    }

    /// The same destination with these prefixes added.
    #[must_use]
    pub fn with_prefixes<S: Into<String>>(mut self, prefixes: impl IntoIterator<Item = S>) -> Self {
        self.prefixes.extend(prefixes.into_iter().map(Into::into));
        self
    }
}

/// The price of a destination in one band: `bands = { offpeak = { per_minute = "0.0150" } }`.
///
/// ```
/// use wholesale_billing::{BandPriceSpec, Decimal};
/// let offpeak = BandPriceSpec { per_minute: Decimal::new(15, 3), connect_fee: None };
/// assert_eq!(offpeak.per_minute.to_string(), "0.015");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandPriceSpec {
    /// The price per minute in the band.
    #[serde(deserialize_with = "price", serialize_with = "decimal_text::serialize")]
    pub per_minute: Decimal,
    /// The fee per call in the band; none: the destination's.
    #[serde(
        default,
        deserialize_with = "present_price",
        serialize_with = "decimal_text::option::serialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub connect_fee: Option<Decimal>,
}

/// Bundled minutes: `[[allowances]]`.
///
/// ```
/// use wholesale_billing::{AllowanceSpec, Decimal};
/// let a = AllowanceSpec { package: "webex_calling".into(), minutes: Decimal::from(1000), classes: vec!["national".into()] };
/// assert_eq!(a.classes.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowanceSpec {
    /// The package (catalog name) whose subscribers bring the minutes.
    pub package: String,
    /// Minutes per user-month (may have decimals).
    #[serde(with = "decimal_text")]
    pub minutes: Decimal,
    /// The destination classes the minutes cover.
    pub classes: Vec<String>,
}

fn default_rating_decimals() -> u32 {
    DEFAULT_RATING_DECIMALS
}

fn default_charged() -> Vec<CallType> {
    CallType::DEFAULT_CHARGED.to_vec()
}

/// A tariff amount: a decimal string (or a whole number), never negative.
const PRICE: DecimalText = DecimalText {
    what: "price",
    example: "\"0.0300\"",
    price: true,
};

fn price<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Decimal, D::Error> {
    d.deserialize_any(PRICE)
}

fn present_price<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<Decimal>, D::Error> {
    d.deserialize_any(PRICE).map(Some)
}

/// Call type names in any case (`sip_mobile`), refused with the list of names.
fn call_types<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<CallType>, D::Error> {
    struct Named(CallType);
    impl<'de> Deserialize<'de> for Named {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
            text.parse().map(Named).map_err(serde::de::Error::custom)
        }
    }
    Ok(Vec::<Named>::deserialize(d)?.into_iter().map(|Named(t)| t).collect())
}

impl TariffDocument {
    /// The `file` of the [`Error::InvalidFile`] errors located in the prefix table (and the
    /// `source_name` of its rejections), so that a caller names the table's file for them.
    pub const PREFIX_TABLE_FILE: &'static str = super::table::TABLE_FILE;

    /// Reads a TOML tariff.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] (`file` "tariff") with line, column and key path for bad syntax,
    /// an unknown, missing or mistyped key, an amount that is not a decimal string or is
    /// negative, an unknown call type or weekday, a clock time that is not `HH:MM`. The rules
    /// between keys are checked by [`TariffDocument::compile`].
    ///
    /// ```
    /// use wholesale_billing::{TariffDocument, error_with_causes};
    /// let err = TariffDocument::from_toml_str("currency = \"EUR\"\ncharged_call_types = [\"SIP_MOBIL\"]\n").unwrap_err();
    /// assert!(error_with_causes(&err).starts_with(
    ///     "tariff: line 2, column 22 at charged_call_types[0]: unknown call type \"SIP_MOBIL\""));
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Self> {
        parse_toml(text, FILE)
    }

    /// Reads a JSON tariff, the same structure as the TOML form.
    ///
    /// # Errors
    /// As [`TariffDocument::from_toml_str`], located by line, column (in bytes) and JSON path.
    ///
    /// ```
    /// use wholesale_billing::{TariffDocument, error_with_causes};
    /// let doc = TariffDocument::from_json_str(r#"{"currency": "EUR", "rating_decimals": 2}"#)?;
    /// assert_eq!(doc.rating_decimals, 2);
    /// let err = TariffDocument::from_json_str(r#"{"currency": "EUR", "bands": [{"name": "n",
    ///     "days": ["mon"], "from": "8:00", "to": "18:00"}]}"#).unwrap_err();
    /// assert!(error_with_causes(&err).contains("at bands[0].from: invalid clock time \"8:00\""));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_json_str(text: &str) -> Result<Self> {
        parse_json(text, FILE, &[])
    }

    /// Reads a tariff from its bytes, in the given format ([`OrgFormat::from_file_name`] tells
    /// it from a file name).
    ///
    /// # Errors
    /// [`Error::InvalidFile`] naming the line, column and byte offset of the first byte that is
    /// not UTF-8, else as [`TariffDocument::from_toml_str`].
    ///
    /// ```
    /// use wholesale_billing::{OrgFormat, TariffDocument, error_with_causes};
    /// let err = TariffDocument::from_slice(b"currency = \"\xff\"", OrgFormat::Toml).unwrap_err();
    /// assert!(error_with_causes(&err).starts_with("tariff: line 1, column 13: invalid utf-8 at byte 12"));
    /// ```
    pub fn from_slice(bytes: &[u8], format: OrgFormat) -> Result<Self> {
        let text = utf8_text(bytes, FILE)?;
        match format {
            OrgFormat::Toml => TariffDocument::from_toml_str(text),
            OrgFormat::Json => TariffDocument::from_json_str(text),
        }
    }

    /// The prefix table the tariff names (`prefix_table = "file.csv"`), relative to the tariff
    /// file; the caller opens it and gives it to [`TariffDocument::with_prefix_table`].
    pub fn prefix_table(&self) -> Option<&str> {
        self.prefix_table.as_deref()
    }

    /// The tariff with its prefix table read from `reader`: a CSV with the columns `prefix`,
    /// `destination`, `class`, `connect_fee`, `per_minute`, `initial` and `subsequent` (by
    /// name, any order and case, BOM tolerated), one row per prefix. Every row of a destination
    /// must carry the same class and prices; band prices are given only in the tariff file.
    /// A table given again replaces the one before.
    ///
    /// # Errors
    /// [`Error::Io`] when reading fails; [`Error::Rejected`] (`source_name` "tariff prefix
    /// table") listing every bad row by line, column and field: a prefix that is not digits, an
    /// amount that is not a plain decimal, negative or with more than 6 decimals, an increment
    /// below 1, a destination whose rows differ, an empty name or class.
    ///
    /// ```
    /// use wholesale_billing::TariffDocument;
    /// let doc = TariffDocument::from_toml_str("currency = \"USD\"\nprefix_table = \"p.csv\"\n")?;
    /// let csv = "prefix,destination,class,connect_fee,per_minute,initial,subsequent\n\
    ///            1,US,national,0,0.01,60,60\n\
    ///            1212,US,national,0,0.02,60,60\n";
    /// let err = doc.with_prefix_table(csv.as_bytes()).unwrap_err();
    /// assert_eq!(err.issues()[0].to_string(), "line 3, column 5 (per_minute): error: destination \"US\" \
    ///     has another per_minute than on line 2: every row of a destination carries the same class and prices");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn with_prefix_table(mut self, reader: impl Read) -> Result<Self> {
        self.table = Some(read_prefix_table(reader)?);
        Ok(self)
    }

    /// The destinations read from the prefix table (empty before
    /// [`TariffDocument::with_prefix_table`]), in order of their first row.
    pub fn table_destinations(&self) -> &[DestinationSpec] {
        self.table.as_ref().map_or(&[], |t| t.destinations())
    }

    /// The same tariff with the destinations of its prefix table moved into `destinations`
    /// and no `prefix_table`: one self-contained file when written.
    ///
    /// ```
    /// use wholesale_billing::TariffDocument;
    /// let doc = TariffDocument::from_toml_str("currency = \"USD\"\nprefix_table = \"p.csv\"\n")?
    ///     .with_prefix_table("prefix,destination,class,connect_fee,per_minute,initial,subsequent\n\
    ///                         1,US,national,0,0.01,60,60\n".as_bytes())?
    ///     .inline_prefix_table();
    /// assert_eq!(doc.prefix_table(), None);
    /// assert_eq!(doc.destinations[0].prefixes, ["1"]);
    /// assert!(doc.to_toml_string()?.contains("[[destinations]]\nname = \"US\""));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn inline_prefix_table(mut self) -> Self {
        if let Some(table) = self.table.take() {
            self.destinations.extend(table.into_destinations());
            self.prefix_table = None;
        }
        self
    }

    /// The tariff in its TOML form, amounts as strings exactly as held; the prefix table stays
    /// a reference (`prefix_table`), unless the table was loaded into a tariff that names none,
    /// when its destinations are written in `[[destinations]]`.
    /// [`TariffDocument::from_toml_str`] reads it back to an equal document.
    ///
    /// # Errors
    /// [`Error::WriteToml`] if TOML cannot represent a value (never for a read tariff).
    ///
    /// ```
    /// use wholesale_billing::TariffDocument;
    /// let doc = TariffDocument::from_json_str(r#"{"currency": "EUR",
    ///     "destinations": [{"name": "FR", "class": "national", "prefixes": ["33"], "per_minute": "0.02",
    ///                       "initial": 1, "subsequent": 1}]}"#)?;
    /// let text = doc.to_toml_string()?;
    /// assert!(text.starts_with("currency = \"EUR\"\nrating_decimals = 4\n"));
    /// assert_eq!(TariffDocument::from_toml_str(&text)?, doc);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn to_toml_string(&self) -> Result<String> {
        toml::to_string(&self.written()).map_err(|source| Error::WriteToml { what: FILE, source })
    }

    /// The tariff in its JSON form (pretty-printed), as [`TariffDocument::to_toml_string`].
    ///
    /// # Errors
    /// [`Error::WriteJson`] if JSON cannot represent a value (never for a read tariff).
    ///
    /// ```
    /// use wholesale_billing::TariffDocument;
    /// let doc = TariffDocument::from_toml_str("currency = \"EUR\"\n")?;
    /// let json = doc.to_json_string()?;
    /// assert!(json.contains("\"charged_call_types\": [\n    \"SIP_NATIONAL\""));
    /// assert_eq!(TariffDocument::from_json_str(&json)?, doc);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn to_json_string(&self) -> Result<String> {
        let mut text =
            serde_json::to_string_pretty(&self.written()).map_err(|source| Error::WriteJson { what: FILE, source })?;
        text.push('\n');
        Ok(text)
    }

    /// The document as written: a loaded table without a name inlined.
    fn written(&self) -> std::borrow::Cow<'_, TariffDocument> {
        if self.prefix_table.is_none() && self.table.is_some() {
            std::borrow::Cow::Owned(self.clone().inline_prefix_table())
        } else {
            std::borrow::Cow::Borrowed(self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_with_causes;

    #[test]
    fn defaults() {
        let doc = TariffDocument::from_toml_str("currency = \"usd\"\n").unwrap();
        assert_eq!(doc.currency, Currency::USD);
        assert_eq!(doc.rating_decimals, 4);
        assert_eq!(doc.charged_call_types, CallType::DEFAULT_CHARGED);
        assert!(doc.bands.is_empty() && doc.destinations.is_empty() && doc.allowances.is_empty());
        assert_eq!(doc.tollfree_destination, None);
    }

    #[test]
    fn read_errors_are_located() {
        let base = "currency = \"USD\"\n[[destinations]]\nname = \"UK\"\nclass = \"national\"\nprefixes = [\"44\"]\n\
                    per_minute = \"0.01\"\ninitial = 60\nsubsequent = 60\n";
        assert!(TariffDocument::from_toml_str(base).is_ok());
        for (bad, expected) in [
            (
                base.replace("\"0.01\"", "0.01"),
                "tariff: line 6, column 14 at destinations[0].per_minute: a price written as a float is not exact",
            ),
            (
                base.replace("\"0.01\"", "\"-0.01\""),
                "tariff: line 6, column 14 at destinations[0].per_minute: negative price -0.01",
            ),
            (
                base.replace("initial = 60", "initial = -1"),
                "tariff: line 7, column 11 at destinations[0].initial: invalid value: integer `-1`",
            ),
            (
                base.replace("class = \"national\"", "klass = \"national\""),
                "tariff: line 4, column 1 at destinations[0].klass: unknown field `klass`",
            ),
            (
                base.replace("currency = \"USD\"", "currency = \"USX\""),
                "tariff: line 1, column 12 at currency: unknown currency",
            ),
            (
                format!(
                    "{base}[[bands]]\nname = \"w\"\ndays = [\"sat\", \"caturday\"]\nfrom = \"00:00\"\nto = \"24:00\"\n"
                ),
                "tariff: line 11, column 8 at bands[0].days[1]: unknown weekday \"caturday\"",
            ),
        ] {
            let err = error_with_causes(&TariffDocument::from_toml_str(&bad).unwrap_err());
            assert!(err.starts_with(expected), "{err}");
        }
    }
}
