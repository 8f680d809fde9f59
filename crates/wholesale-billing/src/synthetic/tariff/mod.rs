//! A realistic tariff for the generated calls (SPEC §7.8): what the partner's customers pay per
//! call (the price tariff) and what its PSTN provider charges the partner (the cost tariff), each a
//! TOML file naming a destination table CSV of the same prefixes.
//!
//! What a tariff looks like:
//!
//! - **Home destinations** (the United Kingdom, in the TOML file with their band prices): fixed
//!   lines (`national`, `441`, `442`, `443` and the national forms `01`, `02`, `03`), mobiles
//!   (`mobile`, `447`, `07`), premium numbers (`449`, `09`), directory enquiries (`118`) and
//!   freephone (`tollfree`, `44800`, `44808`, `0800`, `0808`), which is also the
//!   `tollfree_destination`: a customer pays for the calls its freephone number receives.
//! - **The rest of the world** in the destination table: per country its fixed lines and its
//!   mobiles (`international`), premium and toll-free ranges, priced by distance (a few cents a
//!   minute to Europe and North America, up to forty cents to the furthest), a connect fee on
//!   some, increments `60/60`, `60/1`, `30/6` or `1/1`, prices with 4 or 6 decimals. The table is
//!   grown to [`TariffConfig::prefixes`] rows by listing sub-ranges (`4915` → `49151`, …): most
//!   stay in their range's destination, one in five becomes a destination of its own at another
//!   price, as operators' ranges do.
//! - **Bands** (local time of the site): `offpeak` all weekend, `evening` 18:00–24:00 and `night`
//!   00:00–08:00 on weekdays; home fixed lines and mobiles are cheaper off-peak and in the
//!   evening, and have no night price (the night band is named, the default price applies).
//! - **Allowances** for the calling packages, in minutes per user-month of `national` and
//!   `mobile` calls: `webex_calling` 1,000, `webex_suite` 1,000, `webex_voice` 500,
//!   `cx_essentials` 2,000, and `common_area_calling` 250.5 minutes of `national` calls.
//! - **The cost tariff** has the same destinations and prefixes at 40–75% of the price, per
//!   second (`1/1`), without connect fees, bands or allowances.
//!
//! Every number a generated call dials ([`super::generate_cdrs`]) lies under a prefix of the
//! table, so rating finds a destination for every charged call (unless the calls were generated
//! with [`super::CdrConfig::no_destination`]).

use std::io::{BufWriter, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::numbering::{COUNTRIES, Country, HOME};
use crate::error::{Error, Result};
use crate::money::Currency;
use crate::rating::CallType;

/// The default of [`TariffConfig::prefixes`].
///
/// ```
/// assert_eq!(wholesale_billing::synthetic::DEFAULT_PREFIXES, 2_000);
/// ```
pub const DEFAULT_PREFIXES: u32 = 2_000;

/// Mixed into the seed so the tariff does not replay another generator's random stream.
const STREAM: u64 = 0x7a21_ff5e_ed00_0002;

/// What tariff to generate.
///
/// ```
/// use wholesale_billing::synthetic::{DEFAULT_PREFIXES, TariffConfig};
/// let config = TariffConfig::new(1);
/// assert_eq!(config.prefixes, DEFAULT_PREFIXES);
/// assert_eq!(config.currency.code(), "USD");
/// assert!(TariffConfig::min_prefixes() < 200);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TariffConfig {
    /// The seed of the random stream: the same config always gives the same bytes.
    pub seed: u64,
    /// Rows of the destination table CSV; at least [`TariffConfig::min_prefixes`] (a smaller
    /// number gets that many).
    pub prefixes: u32,
    /// The currency of every price.
    pub currency: Currency,
}

impl TariffConfig {
    /// [`DEFAULT_PREFIXES`] prefixes in US dollars.
    pub fn new(seed: u64) -> TariffConfig {
        TariffConfig {
            seed,
            prefixes: DEFAULT_PREFIXES,
            currency: Currency::USD,
        }
    }

    /// The smallest destination table: one row per range of every country abroad.
    pub fn min_prefixes() -> u32 {
        let rows: usize = COUNTRIES
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != HOME)
            .map(|(_, c)| c.fixed.len() + c.mobile.len() + c.premium.len() + c.tollfree.len())
            .sum();
        u32::try_from(rows).unwrap_or(u32::MAX)
    }
}

/// A destination of the tariff, prices in millionths of the currency unit.
#[derive(Debug, Clone)]
struct Destination {
    name: String,
    class: &'static str,
    /// The prefixes of a destination of the TOML file (empty for a table destination).
    toml_prefixes: Vec<&'static str>,
    connect_fee: i64,
    per_minute: i64,
    /// Decimals the prices are written with (4 or 6).
    decimals: u32,
    initial: u32,
    subsequent: u32,
    /// Band prices per minute (TOML destinations only).
    bands: Vec<(&'static str, i64)>,
    /// The cost per minute (the PSTN provider's price), per second, no connect fee.
    cost_per_minute: i64,
}

/// A generated pair of tariffs (price and cost), ready to be written.
///
/// ```
/// use wholesale_billing::synthetic::{TariffConfig, generate_tariff};
/// let mut config = TariffConfig::new(3);
/// config.prefixes = 500;
/// let tariff = generate_tariff(&config);
/// assert_eq!(tariff.prefix_count(), 500);
/// let (mut toml, mut csv) = (Vec::new(), Vec::new());
/// tariff.write_price(&mut toml, &mut csv, "prefixes.csv")?;
/// let toml = String::from_utf8(toml).unwrap();
/// assert!(toml.contains("prefix_table = \"prefixes.csv\""));
/// assert!(toml.contains("tollfree_destination = \"UK freephone\""));
/// let csv = String::from_utf8(csv).unwrap();
/// assert!(csv.starts_with("prefix,destination,class,connect_fee,per_minute,initial,subsequent\n"));
/// assert_eq!(csv.lines().count(), 501);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GeneratedTariff {
    seed: u64,
    currency: Currency,
    destinations: Vec<Destination>,
    /// The destination table: (prefix, index in `destinations`).
    table: Vec<(String, u32)>,
}

/// The name of the home freephone destination: the tariff's `tollfree_destination`.
const FREEPHONE: &str = "UK freephone";

/// Generates a price tariff and its cost tariff for `config` (see the module documentation).
///
/// ```
/// use wholesale_billing::synthetic::{TariffConfig, generate_tariff};
/// let mut config = TariffConfig::new(1);
/// config.prefixes = 100_000;
/// let tariff = generate_tariff(&config);
/// assert_eq!(tariff.prefix_count(), 100_000);
/// assert!(tariff.destination_count() > 10_000);
/// ```
pub fn generate_tariff(config: &TariffConfig) -> GeneratedTariff {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ STREAM);
    let mut destinations = home_destinations(&mut rng);
    let mut table: Vec<(String, u32)> = Vec::new();
    // The table's base rows, then sub-ranges breadth first until it has `prefixes` rows.
    let mut queue: std::collections::VecDeque<(usize, u32, usize)> = std::collections::VecDeque::new();
    for (i, country) in COUNTRIES.iter().enumerate() {
        if i == HOME {
            continue;
        }
        let kinds: [(&[&'static str], &str, &'static str); 4] = [
            (country.fixed, "", "international"),
            (country.mobile, " mobile", "international"),
            (country.premium, " premium", "premium"),
            (country.tollfree, " toll-free", "tollfree"),
        ];
        for (ranges, suffix, class) in kinds {
            if ranges.is_empty() {
                continue;
            }
            let index = index_of(destinations.len());
            destinations.push(abroad(
                &mut rng,
                country,
                format!("{}{suffix}", country.name),
                class,
                suffix,
            ));
            for range in ranges {
                queue.push_back((table.len(), index, country.digits));
                table.push(((*range).to_owned(), index));
            }
        }
    }
    let wanted = config.prefixes.max(TariffConfig::min_prefixes()) as usize;
    while table.len() < wanted {
        let Some((row, parent, digits)) = queue.pop_front() else {
            break;
        };
        let Some(prefix) = table.get(row).map(|(p, _)| p.clone()) else {
            break;
        };
        if prefix.len() + 1 >= digits {
            continue;
        }
        for digit in 0..10u8 {
            if table.len() >= wanted {
                break;
            }
            let mut child = prefix.clone();
            child.push(char::from(b'0' + digit));
            let destination = if rng.random_range(0..5) == 0 {
                let Some(base) = destinations.get(parent as usize) else {
                    break;
                };
                let mut own = base.clone();
                own.name = format!("{} {child}", base.name);
                let percent = rng.random_range(80..=150);
                own.per_minute = round_to(base.per_minute * percent / 100, own.decimals);
                own.cost_per_minute = own.per_minute * rng.random_range(40..=75) / 100;
                destinations.push(own);
                index_of(destinations.len() - 1)
            } else {
                parent
            };
            queue.push_back((table.len(), destination, digits));
            table.push((child, destination));
        }
    }
    GeneratedTariff {
        seed: config.seed,
        currency: config.currency,
        destinations,
        table,
    }
}

impl GeneratedTariff {
    /// Rows of the destination table.
    ///
    /// ```
    /// use wholesale_billing::synthetic::{TariffConfig, generate_tariff};
    /// assert_eq!(generate_tariff(&TariffConfig::new(1)).prefix_count(), 2_000);
    /// ```
    pub fn prefix_count(&self) -> usize {
        self.table.len()
    }

    /// Destinations, in the TOML file and in the table.
    ///
    /// ```
    /// use wholesale_billing::synthetic::{TariffConfig, generate_tariff};
    /// assert!(generate_tariff(&TariffConfig::new(1)).destination_count() > 100);
    /// ```
    pub fn destination_count(&self) -> usize {
        self.destinations.len()
    }

    /// Writes the price tariff: the TOML file (naming `table_file` as its `prefix_table`) and
    /// the destination table CSV.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    ///
    /// ```
    /// use wholesale_billing::synthetic::{TariffConfig, generate_tariff};
    /// let (mut toml, mut csv) = (Vec::new(), Vec::new());
    /// generate_tariff(&TariffConfig::new(1)).write_price(&mut toml, &mut csv, "prefixes.csv")?;
    /// assert!(String::from_utf8(toml).unwrap().contains("[[allowances]]"));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn write_price(&self, toml: impl Write, table: impl Write, table_file: &str) -> Result<()> {
        self.write(Side::Price, toml, table, table_file)
    }

    /// Writes the cost tariff (the PSTN provider's prices for the same destinations): the TOML
    /// file naming `table_file` and the destination table CSV.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    ///
    /// ```
    /// use wholesale_billing::synthetic::{TariffConfig, generate_tariff};
    /// let (mut toml, mut csv) = (Vec::new(), Vec::new());
    /// generate_tariff(&TariffConfig::new(1)).write_cost(&mut toml, &mut csv, "cost-prefixes.csv")?;
    /// let toml = String::from_utf8(toml).unwrap();
    /// assert!(toml.contains("prefix_table = \"cost-prefixes.csv\"") && !toml.contains("[[allowances]]"));
    /// assert_eq!(String::from_utf8(csv).unwrap().lines().count(), 2_001);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn write_cost(&self, toml: impl Write, table: impl Write, table_file: &str) -> Result<()> {
        self.write(Side::Cost, toml, table, table_file)
    }

    fn write(&self, side: Side, toml: impl Write, table: impl Write, table_file: &str) -> Result<()> {
        let io = |e| Error::io("writing the generated tariff", e);
        let mut out = BufWriter::new(toml);
        out.write_all(self.toml(side, table_file).as_bytes()).map_err(io)?;
        out.flush().map_err(io)?;
        let mut out = BufWriter::with_capacity(1 << 16, table);
        out.write_all(b"prefix,destination,class,connect_fee,per_minute,initial,subsequent\n")
            .map_err(io)?;
        let mut line = String::with_capacity(128);
        for (prefix, index) in &self.table {
            let Some(d) = self.destinations.get(*index as usize) else {
                continue;
            };
            let (connect_fee, per_minute, decimals, initial, subsequent) = side.prices(d);
            line.clear();
            line.push_str(prefix);
            line.push(',');
            line.push_str(&d.name);
            line.push(',');
            line.push_str(d.class);
            line.push(',');
            line.push_str(&money(connect_fee, decimals));
            line.push(',');
            line.push_str(&money(per_minute, decimals));
            line.push_str(&format!(",{initial},{subsequent}\n"));
            out.write_all(line.as_bytes()).map_err(io)?;
        }
        out.flush().map_err(io)
    }

    /// The TOML file of one side.
    fn toml(&self, side: Side, table_file: &str) -> String {
        let mut t = String::with_capacity(4096);
        let what = match side {
            Side::Price => "what the partner's customers pay per call",
            Side::Cost => "what the partner's PSTN provider charges it per call",
        };
        t.push_str(&format!(
            "# A generated tariff (seed {}): {what}.\n# Destinations abroad are in {table_file}.\n",
            self.seed
        ));
        t.push_str(&format!(
            "currency = \"{}\"\nrating_decimals = 4\n",
            self.currency.code()
        ));
        let charged: Vec<String> = CallType::DEFAULT_CHARGED
            .iter()
            .map(|c| format!("\"{}\"", c.as_str()))
            .collect();
        t.push_str(&format!("charged_call_types = [{}]\n", charged.join(", ")));
        t.push_str(&format!("tollfree_destination = \"{FREEPHONE}\"\n"));
        t.push_str(&format!("prefix_table = \"{}\"\n", toml_escape(table_file)));
        if side == Side::Price {
            for (name, days, from, to) in BANDS {
                let days: Vec<String> = days.iter().map(|d| format!("\"{d}\"")).collect();
                t.push_str(&format!(
                    "\n[[bands]]\nname = \"{name}\"\ndays = [{}]\nfrom = \"{from}\"\nto = \"{to}\"\n",
                    days.join(", ")
                ));
            }
        }
        for d in self.destinations.iter().filter(|d| !d.toml_prefixes.is_empty()) {
            let (connect_fee, per_minute, decimals, initial, subsequent) = side.prices(d);
            let prefixes: Vec<String> = d.toml_prefixes.iter().map(|p| format!("\"{p}\"")).collect();
            t.push_str(&format!(
                "\n[[destinations]]\nname = \"{}\"\nclass = \"{}\"\nprefixes = [{}]\nconnect_fee = \"{}\"\n\
                 per_minute = \"{}\"\ninitial = {initial}\nsubsequent = {subsequent}\n",
                d.name,
                d.class,
                prefixes.join(", "),
                money(connect_fee, decimals),
                money(per_minute, decimals),
            ));
            if side == Side::Price && !d.bands.is_empty() {
                let bands: Vec<String> = d
                    .bands
                    .iter()
                    .map(|(band, price)| format!("{band} = {{ per_minute = \"{}\" }}", money(*price, decimals)))
                    .collect();
                t.push_str(&format!("bands = {{ {} }}\n", bands.join(", ")));
            }
        }
        if side == Side::Price {
            for (package, minutes, classes) in ALLOWANCES {
                let classes: Vec<String> = classes.iter().map(|c| format!("\"{c}\"")).collect();
                t.push_str(&format!(
                    "\n[[allowances]]\npackage = \"{package}\"\nminutes = \"{minutes}\"\nclasses = [{}]\n",
                    classes.join(", ")
                ));
            }
        }
        t
    }
}

/// Which of the two tariffs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Price,
    Cost,
}

impl Side {
    /// (connect fee, per minute, decimals, initial, subsequent) of a destination.
    fn prices(self, d: &Destination) -> (i64, i64, u32, u32, u32) {
        match self {
            Side::Price => (d.connect_fee, d.per_minute, d.decimals, d.initial, d.subsequent),
            Side::Cost => (0, d.cost_per_minute, 6, 1, 1),
        }
    }
}

/// The bands: name, weekdays, local from, local to.
const BANDS: [(&str, &[&str], &str, &str); 3] = [
    ("offpeak", &["sat", "sun"], "00:00", "24:00"),
    ("evening", &["mon", "tue", "wed", "thu", "fri"], "18:00", "24:00"),
    ("night", &["mon", "tue", "wed", "thu", "fri"], "00:00", "08:00"),
];

/// The allowances: package, minutes per user-month, classes.
const ALLOWANCES: [(&str, &str, &[&str]); 5] = [
    ("webex_calling", "1000", &["national", "mobile"]),
    ("webex_suite", "1000", &["national", "mobile"]),
    ("webex_voice", "500", &["national", "mobile"]),
    ("cx_essentials", "2000", &["national", "mobile"]),
    ("common_area_calling", "250.5", &["national"]),
];

/// The home destinations of the TOML file. Prices in millionths.
fn home_destinations(rng: &mut ChaCha8Rng) -> Vec<Destination> {
    let home =
        |name: &str, class, prefixes: Vec<&'static str>, connect_fee, per_minute, (initial, subsequent)| Destination {
            name: name.to_owned(),
            class,
            toml_prefixes: prefixes,
            connect_fee,
            per_minute,
            decimals: 4,
            initial,
            subsequent,
            bands: Vec::new(),
            cost_per_minute: 0,
        };
    let national = rng.random_range(100..=200i64) * 100;
    let mobile = rng.random_range(250..=450i64) * 100;
    let mut list = vec![
        Destination {
            bands: vec![("offpeak", national / 200 * 100), ("evening", national * 2 / 300 * 100)],
            ..home(
                "United Kingdom",
                "national",
                vec!["441", "442", "443", "01", "02", "03"],
                0,
                national,
                (60, 1),
            )
        },
        Destination {
            bands: vec![("offpeak", mobile / 200 * 100), ("evening", mobile * 3 / 400 * 100)],
            ..home("United Kingdom mobile", "mobile", vec!["447", "07"], 0, mobile, (60, 1))
        },
        home(
            "United Kingdom premium",
            "premium",
            vec!["449", "09"],
            100_000,
            rng.random_range(60..=150i64) * 10_000,
            (60, 60),
        ),
        home(
            "UK directory enquiries",
            "premium",
            vec!["118"],
            500_000,
            1_500_000,
            (60, 60),
        ),
        home(
            FREEPHONE,
            "tollfree",
            vec!["44800", "44808", "0800", "0808"],
            0,
            rng.random_range(150..=250i64) * 100,
            (1, 1),
        ),
    ];
    for d in &mut list {
        d.cost_per_minute = d.per_minute * rng.random_range(40..=75) / 100;
    }
    list
}

/// A destination abroad: prices by the country's tier and the kind of range.
fn abroad(rng: &mut ChaCha8Rng, country: &Country, name: String, class: &'static str, kind: &str) -> Destination {
    let decimals = if rng.random_range(0..2) == 0 { 4 } else { 6 };
    let (lo, hi) = match country.tier {
        0 => (20_000, 60_000),
        1 => (40_000, 120_000),
        2 => (80_000, 250_000),
        _ => (150_000, 450_000),
    };
    let mut per_minute = rng.random_range(lo..=hi);
    if kind == " mobile" {
        per_minute = per_minute * rng.random_range(150..=300) / 100;
    } else if kind == " premium" {
        per_minute = rng.random_range(800_000..=2_000_000);
    } else if kind == " toll-free" {
        per_minute = 0;
    }
    let per_minute = round_to(per_minute, decimals);
    let (initial, subsequent) = match (kind, rng.random_range(0..4)) {
        (" toll-free", _) => (1, 1),
        (" premium", _) | (_, 0) => (60, 60),
        (_, 1) => (60, 1),
        (_, 2) => (30, 6),
        _ => (1, 1),
    };
    let connect_fee = if kind != " toll-free" && rng.random_range(0..10) < 3 {
        rng.random_range(100..=500) * 100
    } else {
        0
    };
    Destination {
        name,
        class,
        toml_prefixes: Vec::new(),
        connect_fee,
        per_minute,
        decimals,
        initial,
        subsequent,
        bands: Vec::new(),
        cost_per_minute: per_minute * rng.random_range(40..=75) / 100,
    }
}

/// Rounds millionths down to `decimals` (4: a multiple of 100).
fn round_to(micros: i64, decimals: u32) -> i64 {
    let step = 10i64.pow(6u32.saturating_sub(decimals));
    micros / step * step
}

/// Millionths written with exactly `decimals` decimals (`0.0300`).
fn money(micros: i64, decimals: u32) -> String {
    let mut value = Decimal::new(micros, 6);
    value.rescale(decimals);
    value.to_string()
}

fn index_of(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// A string for a TOML basic string (quotes and backslashes escaped).
fn toml_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests;
