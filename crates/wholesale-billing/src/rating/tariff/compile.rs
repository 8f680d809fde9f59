//! Compiling a [`TariffDocument`]: every rule between its keys checked, each error located at
//! its key path (or its line of the prefix table), and the [`Tariff`] built.

use std::num::NonZeroU32;

use hashbrown::HashMap;

use super::band::{Band, WeekBands};
use super::document::{DestinationSpec, FILE, TariffDocument};
use super::prefix::PrefixTrie;
use super::price::{MAX_RATING_DECIMALS, Price, TariffAmount};
use super::table::{PrefixTable, TABLE_FILE};
use super::{Allowance, BandId, ClassId, Destination, DestinationId, Tariff, call_type_bit};
use crate::error::{Error, Result, TextLocation};

/// Where a destination was defined: in the tariff file, or in its prefix table.
#[derive(Clone, Copy)]
enum Origin<'a> {
    /// `destinations[i]`.
    File(usize),
    /// The `i`-th destination of the table.
    Table(&'a PrefixTable, usize),
}

impl Origin<'_> {
    /// `error` located at `field` of the destination (a table column, or a key).
    fn locate(self, field: &str, error: Error) -> Error {
        match self {
            Origin::File(i) => error.at_path(FILE, format!("destinations[{i}].{field}")),
            Origin::Table(table, d) => {
                let column = table.column(if field == "name" { "destination" } else { field });
                error.in_file(
                    TABLE_FILE,
                    TextLocation {
                        line: usize::try_from(table.first_line(d)).ok(),
                        column: (column > 0).then_some(column),
                        path: None,
                    },
                )
            }
        }
    }

    /// `error` about prefix `p` of the destination.
    fn locate_prefix(self, p: usize, error: Error) -> Error {
        match self {
            Origin::File(i) => error.at_path(FILE, format!("destinations[{i}].prefixes[{p}]")),
            Origin::Table(table, d) => error.in_file(
                TABLE_FILE,
                TextLocation {
                    line: usize::try_from(table.prefix_line(d, p)).ok(),
                    column: Some(table.column("prefix")),
                    path: None,
                },
            ),
        }
    }

    /// Where the destination is, in words (`destinations[2]`, `prefix table line 7`).
    fn describe(self) -> String {
        match self {
            Origin::File(i) => format!("destinations[{i}]"),
            Origin::Table(table, d) => format!("prefix table line {}", table.first_line(d)),
        }
    }

    /// Where its prefix `p` is, in words.
    fn describe_prefix(self, p: usize) -> String {
        match self {
            Origin::File(i) => format!("destinations[{i}].prefixes[{p}]"),
            Origin::Table(table, d) => format!("prefix table line {}", table.prefix_line(d, p)),
        }
    }
}

impl TariffDocument {
    /// Checks every rule of the tariff and builds the [`Tariff`] the engine rates with.
    ///
    /// The rules: `rating_decimals` at most 6; a loaded prefix table if the tariff names one;
    /// bands with a name (each once), at least one day and `from` before `to`; destinations with
    /// a name (each once, across the file and the table), a class, amounts of at most 6
    /// decimals, increments of at least 1 second, band prices only for bands the tariff defines
    /// and prefixes of digits, each given to one destination once; a `tollfree_destination`
    /// that the tariff defines; allowances with a package, minutes not negative and classes that
    /// some destination has.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] at the key path (`destinations[3].subsequent`; file "tariff") or
    /// the line and column of the prefix table (file "tariff prefix table") of the first rule
    /// broken; its source says which: [`Error::RatingDecimalsTooMany`],
    /// [`Error::PrefixTableNotLoaded`], [`Error::EmptyTariffField`],
    /// [`Error::DuplicateTariffName`], [`Error::EmptyBandRange`], [`Error::TariffDecimals`],
    /// [`Error::IncrementTooSmall`], [`Error::UnknownBand`], [`Error::PrefixNotDigits`],
    /// [`Error::DuplicatePrefix`] (naming both destinations), [`Error::UnknownDestination`],
    /// [`Error::NegativeValue`], [`Error::UnusedClass`]; [`Error::Overflow`] past 65,535 bands
    /// or classes.
    ///
    /// ```
    /// use wholesale_billing::{TariffDocument, error_with_causes};
    /// let doc = TariffDocument::from_toml_str(r#"
    /// currency = "GBP"
    /// [[destinations]]
    /// name = "UK"
    /// class = "national"
    /// prefixes = ["44"]
    /// per_minute = "0.01"
    /// initial = 60
    /// subsequent = 60
    /// [[destinations]]
    /// name = "UK mobile"
    /// class = "mobile"
    /// prefixes = ["447", "44"]
    /// per_minute = "0.03"
    /// initial = 60
    /// subsequent = 1
    /// "#)?;
    /// let err = doc.compile().unwrap_err();
    /// assert_eq!(error_with_causes(&err), "tariff: at destinations[1].prefixes[1]: prefix \"44\" of destination \
    ///     \"UK mobile\" is already a prefix of destination \"UK\" (destinations[0].prefixes[0])");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn compile(&self) -> Result<Tariff> {
        if self.rating_decimals > MAX_RATING_DECIMALS {
            let error = Error::RatingDecimalsTooMany {
                decimals: self.rating_decimals,
                max: MAX_RATING_DECIMALS,
            };
            return Err(error.at_path(FILE, "rating_decimals"));
        }
        if let (Some(file), None) = (&self.prefix_table, &self.table) {
            let error = Error::PrefixTableNotLoaded { file: file.clone() };
            return Err(error.at_path(FILE, "prefix_table"));
        }
        let bands = self.compile_bands()?;
        let band_ids: HashMap<&str, BandId> = bands.iter().map(|(name, id, _)| (*name, *id)).collect();
        let bands: Vec<Band> = bands.into_iter().map(|(_, _, band)| band).collect();

        let mut builder = Builder::default();
        let table = self.table.as_ref();
        let origins = (0..self.destinations.len()).map(Origin::File).chain(
            table
                .into_iter()
                .flat_map(|t| (0..t.destinations().len()).map(move |d| Origin::Table(t, d))),
        );
        let specs = self.destinations.iter().chain(self.table_destinations());
        for (spec, origin) in specs.zip(origins) {
            builder.add(spec, origin, &band_ids)?;
        }

        let tollfree = match &self.tollfree_destination {
            None => None,
            Some(name) => Some(builder.named.get(name.as_str()).map(|(id, _)| *id).ok_or_else(|| {
                Error::UnknownDestination { name: name.clone() }.at_path(FILE, "tollfree_destination")
            })?),
        };
        let allowances = self.compile_allowances(&builder.class_ids)?;
        let charged = self.charged_call_types.iter().fold(0u16, |m, t| m | call_type_bit(*t));
        let Builder {
            prefixes,
            classes,
            destinations,
            band_prices,
            ..
        } = builder;
        let prefixes = prefixes.freeze()?;
        let week = WeekBands::new(&bands);
        Ok(Tariff {
            currency: self.currency,
            rating_decimals: self.rating_decimals,
            charged_call_types: self.charged_call_types.clone(),
            charged,
            tollfree,
            bands,
            classes,
            destinations,
            band_prices,
            allowances,
            prefixes,
            week,
        })
    }

    fn compile_bands(&self) -> Result<Vec<(&str, BandId, Band)>> {
        let mut out: Vec<(&str, BandId, Band)> = Vec::with_capacity(self.bands.len());
        for (i, spec) in self.bands.iter().enumerate() {
            let at = |field: &str, e: Error| e.at_path(FILE, format!("bands[{i}]{field}"));
            if let Some(first) = out.iter().position(|(name, _, _)| *name == spec.name) {
                let error = Error::DuplicateTariffName {
                    what: "band",
                    name: spec.name.clone(),
                    first_at: format!("bands[{first}]"),
                };
                return Err(at(".name", error));
            }
            let field = if spec.name.trim().is_empty() {
                ".name"
            } else if spec.days.is_empty() {
                ".days"
            } else {
                ""
            };
            let band = Band::new(&spec.name, &spec.days, spec.from, spec.to).map_err(|e| at(field, e))?;
            let id = u16::try_from(i).map_err(|_| Error::overflow("more than 65,535 bands"))?;
            out.push((spec.name.as_str(), BandId(id), band));
        }
        Ok(out)
    }

    fn compile_allowances(&self, class_ids: &HashMap<String, ClassId>) -> Result<Vec<Allowance>> {
        let mut out = Vec::with_capacity(self.allowances.len());
        for (i, spec) in self.allowances.iter().enumerate() {
            let at = |field: String, e: Error| e.at_path(FILE, format!("allowances[{i}].{field}"));
            if spec.package.trim().is_empty() {
                return Err(at("package".into(), Error::EmptyTariffField { what: "the package" }));
            }
            if spec.minutes.is_sign_negative() && !spec.minutes.is_zero() {
                let error = Error::NegativeValue {
                    what: "minutes",
                    value: spec.minutes,
                };
                return Err(at("minutes".into(), error));
            }
            if spec.classes.is_empty() {
                let error = Error::EmptyTariffField {
                    what: "the list of classes",
                };
                return Err(at("classes".into(), error));
            }
            let mut classes = Vec::with_capacity(spec.classes.len());
            for (j, class) in spec.classes.iter().enumerate() {
                let id = class_ids
                    .get(class.as_str())
                    .ok_or_else(|| at(format!("classes[{j}]"), Error::UnusedClass { class: class.clone() }))?;
                classes.push(*id);
            }
            out.push(Allowance {
                package: spec.package.clone(),
                minutes: spec.minutes,
                classes,
            });
        }
        Ok(out)
    }
}

/// The destinations, classes and prefixes compiled so far.
#[derive(Default)]
struct Builder<'a> {
    prefixes: PrefixTrie,
    classes: Vec<String>,
    class_ids: HashMap<String, ClassId>,
    destinations: Vec<Destination>,
    band_prices: Vec<(BandId, Price)>,
    /// Each destination by name, with where it was defined.
    named: HashMap<&'a str, (DestinationId, Origin<'a>)>,
    /// Where each destination was defined, by index.
    origins: Vec<(&'a DestinationSpec, Origin<'a>)>,
}

impl<'a> Builder<'a> {
    fn add(&mut self, spec: &'a DestinationSpec, origin: Origin<'a>, bands: &HashMap<&str, BandId>) -> Result<()> {
        if spec.name.trim().is_empty() {
            return Err(origin.locate(
                "name",
                Error::EmptyTariffField {
                    what: "the destination name",
                },
            ));
        }
        if spec.class.trim().is_empty() {
            return Err(origin.locate("class", Error::EmptyTariffField { what: "the class" }));
        }
        let index = self.destinations.len();
        let id = DestinationId(u32::try_from(index).map_err(|_| Error::overflow("more than 4 billion destinations"))?);
        if let Some((_, first)) = self.named.get(spec.name.as_str()) {
            let error = Error::DuplicateTariffName {
                what: "destination",
                name: spec.name.clone(),
                first_at: first.describe(),
            };
            return Err(origin.locate("name", error));
        }
        let amount = |field: &str, value| TariffAmount::from_decimal(value).map_err(|e| origin.locate(field, e));
        let price = Price {
            connect_fee: amount("connect_fee", spec.connect_fee)?,
            per_minute: amount("per_minute", spec.per_minute)?,
        };
        let increment = |field: &'static str, value: u64| {
            u32::try_from(value)
                .ok()
                .and_then(NonZeroU32::new)
                .ok_or_else(|| origin.locate(field, Error::IncrementTooSmall { what: field, value }))
        };
        let initial = increment("initial", spec.initial)?;
        let subsequent = increment("subsequent", spec.subsequent)?;

        let start = self.band_prices.len();
        for (name, band_price) in &spec.bands {
            let field = |key: &str| format!("bands.{name}{key}");
            let Some(&band) = bands.get(name.as_str()) else {
                let error = Error::UnknownBand {
                    band: name.clone(),
                    destination: spec.name.clone(),
                };
                return Err(origin.locate(&field(""), error));
            };
            let per_minute = amount(&field(".per_minute"), band_price.per_minute)?;
            let connect_fee = match band_price.connect_fee {
                Some(fee) => amount(&field(".connect_fee"), fee)?,
                None => price.connect_fee,
            };
            self.band_prices.push((
                band,
                Price {
                    connect_fee,
                    per_minute,
                },
            ));
        }
        let band_prices = (
            u32::try_from(start).map_err(|_| Error::overflow("more than 4 billion band prices"))?,
            u32::try_from(self.band_prices.len()).map_err(|_| Error::overflow("more than 4 billion band prices"))?,
        );

        let class = match self.class_ids.get(spec.class.as_str()) {
            Some(id) => *id,
            None => {
                let id = ClassId(
                    u16::try_from(self.classes.len()).map_err(|_| Error::overflow("more than 65,535 classes"))?,
                );
                self.classes.push(spec.class.clone());
                self.class_ids.insert(spec.class.clone(), id);
                id
            }
        };

        for (p, prefix) in spec.prefixes.iter().enumerate() {
            let inserted = self
                .prefixes
                .insert(prefix, index)
                .map_err(|e| origin.locate_prefix(p, e))?;
            if let Err(first) = inserted {
                let Some((first_spec, first_origin)) =
                    self.origins
                        .get(first)
                        .copied()
                        .or(if first == index { Some((spec, origin)) } else { None })
                else {
                    continue;
                };
                let first_p = first_spec.prefixes.iter().position(|q| q == prefix).unwrap_or(0);
                let error = Error::DuplicatePrefix {
                    prefix: prefix.clone(),
                    destination: spec.name.clone(),
                    first_destination: first_spec.name.clone(),
                    first_at: first_origin.describe_prefix(first_p),
                };
                return Err(origin.locate_prefix(p, error));
            }
        }

        self.named.insert(spec.name.as_str(), (id, origin));
        self.origins.push((spec, origin));
        self.destinations.push(Destination {
            name: spec.name.clone(),
            class,
            price,
            initial,
            subsequent,
            band_prices,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Weekday;

    use super::*;
    use crate::error_with_causes;
    use crate::rating::{CallTime, CallType};

    const BASE: &str = r#"
currency = "GBP"
tollfree_destination = "UK freephone"

[[bands]]
name = "offpeak"
days = ["sat", "sun"]
from = "00:00"
to = "24:00"

[[bands]]
name = "evening"
days = ["mon", "tue", "wed", "thu", "fri"]
from = "18:00"
to = "24:00"

[[destinations]]
name = "UK mobile"
class = "mobile"
prefixes = ["447"]
connect_fee = "0.05"
per_minute = "0.0300"
initial = 60
subsequent = 1
bands = { offpeak = { per_minute = "0.0150", connect_fee = "0" }, evening = { per_minute = "0.02" } }

[[destinations]]
name = "UK freephone"
class = "national"
connect_fee = "0.00"
per_minute = "0.01"
initial = 60
subsequent = 60

[[allowances]]
package = "webex_calling"
minutes = "1000"
classes = ["national", "mobile"]
"#;

    fn compile(text: &str) -> Result<Tariff> {
        TariffDocument::from_toml_str(text)?.compile()
    }

    fn error(text: &str) -> String {
        error_with_causes(&compile(text).unwrap_err())
    }

    const CSV: &str = "prefix,destination,class,connect_fee,per_minute,initial,subsequent\n\
                       44,UK,national,0,0.01,60,60\n441,UK,national,0,0.01,60,60\n";

    proptest::proptest! {
        #[test]
        fn the_band_of_a_start_is_the_band_of_its_local_time(
            bands in proptest::collection::vec((1u8..128, 0u32..1440, 1u32..=1440), 0..5),
            starts in proptest::collection::vec((i64::MIN..=i64::MAX, -1440i16..=1440), 1..40),
            near in proptest::collection::vec((1_700_000_000i64..1_800_000_000, 0u32..1_000_000_000), 1..40),
        ) {
            // Random bands (days as a bit set, minutes of the day, overlapping at will), starts
            // anywhere in the range of call times and near the edges of days.
            let mut text = String::from("currency = \"GBP\"\n");
            for (i, (days, from, length)) in bands.iter().enumerate() {
                let days: Vec<String> = (0..7)
                    .filter(|d| days & (1 << d) != 0)
                    .map(|d| format!("\"{}\"", super::super::band::weekday_name(Weekday::try_from(d).unwrap())))
                    .collect();
                let to = (from + length).min(1440);
                let clock = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
                text.push_str(&format!(
                    "[[bands]]\nname = \"b{i}\"\ndays = [{}]\nfrom = \"{}\"\nto = \"{}\"\n",
                    days.join(", "), clock(*from), clock(to.max(from + 1))
                ));
            }
            let tariff = compile(&text).unwrap();
            let edges = near.iter().flat_map(|(s, n)| {
                let at = s - s.rem_euclid(60) + i64::from(*n % 3) - 1;
                [(at * 1_000_000_000 + i64::from(*n), 0i16), (at * 1_000_000_000, (*n % 2881) as i16 - 1440)]
            });
            for (nanos, offset) in starts.iter().copied().chain(edges) {
                let start = CallTime::from_nanos(nanos);
                let (weekday, nanos_of_day) = start.local(i32::from(offset));
                proptest::prop_assert_eq!(tariff.band_of_start(start, offset), tariff.band_at(weekday, nanos_of_day));
            }
        }
    }

    #[test]
    fn a_tariff_compiles_with_its_bands_prices_and_allowances() {
        let tariff = compile(BASE).unwrap();
        let (mobile, len) = tariff.lookup(b"447700900123").unwrap();
        assert_eq!(len, 3);
        let d = tariff.destination(mobile).unwrap();
        assert_eq!((d.name(), tariff.class_name(d.class())), ("UK mobile", Some("mobile")));
        let nanos = |h: u64| h * 3_600_000_000_000;
        let offpeak = tariff.band_at(Weekday::Sat, nanos(12));
        let evening = tariff.band_at(Weekday::Fri, nanos(18));
        assert_eq!(offpeak.map(BandId::index), Some(0));
        assert_eq!(evening.map(BandId::index), Some(1));
        assert_eq!(tariff.band_at(Weekday::Fri, nanos(18) - 1), None);
        assert_eq!(tariff.band_at(Weekday::Sat, nanos(24)), None);
        assert_eq!(tariff.price(mobile, None).connect_fee.micros(), 50_000);
        assert_eq!(tariff.price(mobile, offpeak).connect_fee.micros(), 0);
        assert_eq!(tariff.price(mobile, offpeak).per_minute.micros(), 15_000);
        // A band price without its own connect fee keeps the destination's.
        assert_eq!(tariff.price(mobile, evening).connect_fee.micros(), 50_000);
        assert_eq!(tariff.price(mobile, evening).per_minute.micros(), 20_000);
        let freephone = tariff.tollfree_destination().unwrap();
        assert_eq!(tariff.destination(freephone).unwrap().name(), "UK freephone");
        // The freephone destination has no band price: the default in every band.
        assert_eq!(tariff.price(freephone, offpeak), tariff.price(freephone, None));
        let allowance = &tariff.allowances()[0];
        assert_eq!(allowance.package(), "webex_calling");
        assert!(allowance.covers(d.class()));
        assert_eq!(tariff.classes(), ["mobile", "national"]);
        assert!(tariff.charges(CallType::SipNational) && !tariff.charges(CallType::SipInbound));
        assert_eq!(tariff.prefix_count(), 1);
    }

    #[test]
    fn every_rule_is_located_at_its_key() {
        let with = |from: &str, to: &str| {
            assert!(BASE.contains(from), "{from}");
            BASE.replacen(from, to, 1)
        };
        for (text, expected) in [
            (
                with("currency = \"GBP\"", "currency = \"GBP\"\nrating_decimals = 7"),
                "tariff: at rating_decimals: rating_decimals 7 is above 6",
            ),
            (
                with("to = \"24:00\"", "to = \"00:00\""),
                "tariff: at bands[0]: the band from 00:00 to 00:00 is empty: `from` must be before `to` \
                 (write two bands for a range over midnight)",
            ),
            (
                with("days = [\"sat\", \"sun\"]", "days = []"),
                "tariff: at bands[0].days: the list of days is empty",
            ),
            (
                with("name = \"evening\"", "name = \"offpeak\""),
                "tariff: at bands[1].name: band \"offpeak\" is defined twice (first at bands[0])",
            ),
            (
                with("subsequent = 1", "subsequent = 0"),
                "tariff: at destinations[0].subsequent: the subsequent increment is 0 seconds: increments are at \
                 least 1 second",
            ),
            (
                with("initial = 60\nsubsequent = 60", "initial = 4294967296\nsubsequent = 60"),
                "tariff: at destinations[1].initial: the initial increment is 4294967296 seconds",
            ),
            (
                with("\"0.0300\"", "\"0.0300001\""),
                "tariff: at destinations[0].per_minute: 0.0300001 has more than 6 decimals",
            ),
            (
                with("evening = {", "night = {"),
                "tariff: at destinations[0].bands.night: band \"night\" of destination \"UK mobile\" is defined by \
                 no [[bands]]",
            ),
            (
                with("per_minute = \"0.0150\"", "per_minute = \"0.01500001\""),
                "tariff: at destinations[0].bands.offpeak.per_minute: 0.01500001 has more than 6 decimals",
            ),
            (
                with("prefixes = [\"447\"]", "prefixes = [\"447\", \"+44\"]"),
                "tariff: at destinations[0].prefixes[1]: prefix \"+44\" is not a string of digits",
            ),
            (
                with("prefixes = [\"447\"]", "prefixes = [\"447\", \"447\"]"),
                "tariff: at destinations[0].prefixes[1]: prefix \"447\" of destination \"UK mobile\" is already a \
                 prefix of destination \"UK mobile\" (destinations[0].prefixes[0])",
            ),
            (
                with("name = \"UK freephone\"", "name = \"UK mobile\""),
                "tariff: at destinations[1].name: destination \"UK mobile\" is defined twice (first at \
                 destinations[0])",
            ),
            (
                with("class = \"mobile\"", "class = \" \""),
                "tariff: at destinations[0].class: the class is empty",
            ),
            (
                with(
                    "tollfree_destination = \"UK freephone\"",
                    "tollfree_destination = \"UK freefone\"",
                ),
                "tariff: at tollfree_destination: destination \"UK freefone\" is not defined by the tariff",
            ),
            (
                with(
                    "classes = [\"national\", \"mobile\"]",
                    "classes = [\"national\", \"moblie\"]",
                ),
                "tariff: at allowances[0].classes[1]: class \"moblie\" is the class of no destination",
            ),
            (
                with("classes = [\"national\", \"mobile\"]", "classes = []"),
                "tariff: at allowances[0].classes: the list of classes is empty",
            ),
            (
                with("minutes = \"1000\"", "minutes = \"-1\""),
                "tariff: at allowances[0].minutes: minutes -1 is negative",
            ),
            (
                with("package = \"webex_calling\"", "package = \"\""),
                "tariff: at allowances[0].package: the package is empty",
            ),
            (
                with("currency = \"GBP\"", "currency = \"GBP\"\nprefix_table = \"uk.csv\""),
                "tariff: at prefix_table: the tariff names the prefix table \"uk.csv\", which was not loaded",
            ),
        ] {
            let message = error(&text);
            assert!(message.starts_with(expected), "{message}\nexpected: {expected}");
        }
    }

    #[test]
    fn table_conflicts_name_both_places() {
        let with_table = |text: &str, csv: &str| {
            TariffDocument::from_toml_str(text)
                .and_then(|d| d.with_prefix_table(csv.as_bytes()))
                .and_then(|d| d.compile())
        };
        let text = format!("prefix_table = \"uk.csv\"\n{BASE}");
        let tariff = with_table(&text, CSV).unwrap();
        assert_eq!(tariff.prefix_count(), 3);
        assert_eq!(tariff.destinations().len(), 3);
        let (uk, len) = tariff.lookup(b"4412345").unwrap();
        assert_eq!((tariff.destination(uk).unwrap().name(), len), ("UK", 3));

        let clash = format!("{CSV}4471,UK,national,0,0.01,60,60\n447,UK,national,0,0.01,60,60\n");
        let err = error_with_causes(&with_table(&text, &clash).unwrap_err());
        assert_eq!(
            err,
            "tariff prefix table: line 5, column 1: prefix \"447\" of destination \"UK\" is already a prefix of \
             destination \"UK mobile\" (destinations[0].prefixes[0])"
        );
        let twice = format!("{CSV}441,UK,national,0,0.01,60,60\n");
        let err = error_with_causes(&with_table(&text, &twice).unwrap_err());
        assert_eq!(
            err,
            "tariff prefix table: line 4, column 1: prefix \"441\" of destination \"UK\" is already a prefix of \
             destination \"UK\" (prefix table line 3)"
        );
        let named = CSV.replace(",UK,", ",UK mobile,").replace("national", "mobile");
        let err = error_with_causes(&with_table(&text, &named).unwrap_err());
        assert_eq!(
            err,
            "tariff prefix table: line 2, column 2: destination \"UK mobile\" is defined twice (first at \
             destinations[0])"
        );
    }
}
