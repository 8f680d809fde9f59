//! A deterministic generator of realistic partner months: an [`Organisation`] and its events CSV
//! (SPEC.md §2), for demos, tests and benchmarks.
//!
//! The same [`GeneratorConfig`] always gives the same bytes (a ChaCha8 stream seeded from
//! [`GeneratorConfig::seed`]). The events are drawn customer by customer, subscriber by
//! subscriber, and written in the order of [`GeneratorConfig::order`]: in time order (the
//! default, as a provisioning log is written) they are sorted in runs and merged
//! ([`generate_with_spill`] keeps the runs in a file and the memory to one run of 32 MiB); grouped
//! by customer they are written as drawn, with memory for the customers only.
//!
//! What a month looks like:
//!
//! - **Organisation**: a partner (UUID-formed org id, a name, `Sub` + 7 digits), `sub_partners`
//!   resellers of which half (rounded up) start billing inside the month, and
//!   [`GeneratorConfig::catalog`] (the default catalog, or one with `[catalog.<package>]`
//!   overrides, which the organisation file then carries).
//! - **Customers**: a UUID org id, an external id `CUST-000123`, one to three locations; about 60%
//!   owned by the partner, the rest by the sub-partners (unevenly). Sizes are skewed: most customers
//!   have fewer than 20 subscribers, a few have hundreds; the sizes add up to exactly `subscribers`.
//! - **Subscribers**: about 85% users and 15% workspaces. Users hold `webex_calling` (~45%),
//!   `webex_voice` (~25%), `webex_suite` (~15%), `webex_meetings` (~10%) or `cx_essentials` (~5%);
//!   workspaces `common_area_calling` (~90%) or `webex_calling`. Only packages whose SKU is known
//!   are drawn: the default catalog has no SKU for `webex_suite` and `cx_essentials` (placeholders),
//!   so unless the catalog configures them the users hold the other three in the same proportions
//!   (`webex_calling` ~56%, `webex_voice` ~31%, `webex_meetings` ~13%); see
//!   [`GeneratorConfig::packages_left_out`]. Every assignment names a location of
//!   its customer and the customer's license of the package (shared by its subscribers, as Webex
//!   licenses are); about 3% carry no license id, like assignments older than the field.
//! - **Timeline**: about 80% of the subscribers were assigned before the month, 20% during it. During
//!   the month about 5% are removed (a third of them re-assigned later), 3% change package, mostly at
//!   half past an hour, 1% change location; a few are assigned and removed within the same hour.
//!   Nothing happens at or after the end of the month. About 1.1 events per subscriber.
//! - **Text**: event ids `ev-0000000001`, in the order of the rows; about 75% of the timestamps
//!   are written in UTC (`Z`), the others with the customer's UTC offset (`+02:00`, `-05:00`,
//!   `+05:30`, ...); a few carry milliseconds.
//! - **Order** ([`EventOrder`]): rows in time order across all subscribers (by instant; rows of
//!   the same instant in the order drawn), or grouped by customer and subscriber, each
//!   subscriber's events in time order. Both load into the same ledger and the same reports.
//!
//! The file loads in strict mode without a single warning.

use std::collections::HashSet;
use std::io::{BufWriter, Write};

use chrono::Datelike;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::ledger::SubscriberType;
use crate::org::{Organisation, Partner, SubPartner};
use crate::time::{MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_SECOND, Period, Timestamp, civil_from_days};

mod cdrs;
mod discrepancies;
mod numbering;
mod tariff;
mod time_order;
pub use cdrs::{CDR_COLUMNS, CdrConfig, CdrMonth, DEFAULT_CALLS_PER_SUBSCRIBER, generate_cdrs};
pub use discrepancies::{PlantedDiscrepancy, plant_discrepancies};
pub use tariff::{DEFAULT_PREFIXES, GeneratedTariff, TariffConfig, generate_tariff};
pub use time_order::Spill;

use time_order::TimeSorter;

/// The header row of the generated events CSV (SPEC.md §2).
const HEADER: &[u8] = b"event_id,occurred_at,action,subscriber_id,customer_org_id,customer_external_id,\
sub_partner_org_id,subscriber_type,user_id,workspace_id,package,location_id,license_id\n";

const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
/// `progress` is called after every this many subscribers (and once at the end).
const PROGRESS_EVERY: u64 = 10_000;
/// The largest month the generator makes (event ids and the ledger's u32 indexes stay comfortable).
const MAX_SUBSCRIBERS: u64 = 1_000_000_000;
/// Org ids of the sub-partners must fit [`Organisation::validate`] (fewer than 65,535).
const MAX_SUB_PARTNERS: u16 = u16::MAX - 1;
const MIN_YEAR: i32 = 1971;
const MAX_YEAR: i32 = 9998;

/// User packages with their share in per-mille (sums to 1000); a package the catalog leaves out
/// is dropped and the others keep their proportions.
const USER_PACKAGES: [(&str, u32); 5] = [
    ("webex_calling", 450),
    ("webex_voice", 250),
    ("webex_suite", 150),
    ("webex_meetings", 100),
    ("cx_essentials", 50),
];
/// Workspace packages with their share in per-mille (sums to 1000).
const WORKSPACE_PACKAGES: [(&str, u32); 2] = [("common_area_calling", 900), ("webex_calling", 100)];

/// UTC offsets (minutes) customers write their timestamps in, when they do not write `Z`.
const OFFSETS: [i16; 12] = [60, 120, 120, 330, -300, -240, -480, 600, 540, -180, 480, -360];

const PARTNER_PREFIXES: [&str; 12] = [
    "Northwind",
    "Bluewave",
    "Summit",
    "Harbor",
    "Meridian",
    "Atlas",
    "Evergreen",
    "Beacon",
    "Cobalt",
    "Keystone",
    "Sterling",
    "Tidewater",
];
const PARTNER_SUFFIXES: [&str; 5] = ["Telecom", "Communications", "Networks", "Connect", "Voice"];
const RESELLER_PREFIXES: [&str; 20] = [
    "Redwood",
    "Lakeside",
    "Granite",
    "Horizon",
    "Riverside",
    "Crescent",
    "Pioneer",
    "Silverline",
    "Oakridge",
    "Brightpath",
    "Cedar",
    "Falcon",
    "Highland",
    "Ironbridge",
    "Juniper",
    "Maple",
    "Northstar",
    "Pinecrest",
    "Quartz",
    "Westgate",
];
const RESELLER_SUFFIXES: [&str; 8] = [
    "IT Solutions",
    "Unified Communications",
    "Business Telecom",
    "Cloud Voice",
    "Networks",
    "Systems",
    "Technology Partners",
    "Managed Services",
];

/// What to generate.
///
/// ```
/// use wholesale_billing::{Catalog, Period};
/// use wholesale_billing::synthetic::GeneratorConfig;
/// let config = GeneratorConfig {
///     seed: 42,
///     customers: 50_000,
///     subscribers: 1_000_000,
///     sub_partners: 20,
///     month: Period::month(2024, 5)?,
///     catalog: Catalog::default(),
///     order: Default::default(),
/// };
/// config.validate()?;
/// assert_eq!(config.packages_left_out(), ["webex_suite", "cx_essentials"]);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorConfig {
    /// The seed of the random stream: the same config always gives the same bytes.
    pub seed: u64,
    /// The number of customers (at least 1).
    pub customers: u32,
    /// The number of subscribers, spread over the customers (at least one each).
    pub subscribers: u64,
    /// The number of sub-partners (0: every customer is the partner's own).
    pub sub_partners: u16,
    /// The month of the data: a whole calendar month. Assignments start before or during it;
    /// nothing happens after it.
    pub month: Period,
    /// The catalog of the generated organisation: [`Catalog::default`], or the default with the
    /// `[catalog.<package>]` overrides of an organisation file ([`Catalog::with_overrides`],
    /// [`Catalog::from_slice_with_format`]). A package whose SKU is a placeholder in it is not
    /// generated ([`GeneratorConfig::packages_left_out`]); a configured one is, under its SKU.
    pub catalog: Catalog,
    /// The order of the rows (default: [`EventOrder::Time`]).
    pub order: EventOrder,
}

string_enum! {
    /// The order of the rows of a generated events CSV ([`GeneratorConfig::order`]).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub enum EventOrder("order of generated events") {
        /// By instant across all subscribers, as a provisioning log is written (rows of the same
        /// instant in the order drawn); event ids increase with time. The default.
        #[default]
        Time = "time",
        /// Grouped by customer, then subscriber, each subscriber's events in time order: written
        /// as drawn, in memory for the customers only.
        Customer = "customer",
    }
}

impl GeneratorConfig {
    /// Checks the config: at least one customer, at least one subscriber per customer, at most
    /// 1,000,000,000 subscribers and 65,534 sub-partners, and a whole calendar month between the
    /// years 1971 and 9998.
    ///
    /// # Errors
    /// [`Error::NotAWholeMonth`] for a period that is not one whole calendar month,
    /// [`Error::YearOutOfRange`] out of the supported years; [`Error::NoCustomers`],
    /// [`Error::TooFewSubscribers`], [`Error::TooManySubscribers`] or
    /// [`Error::OrganisationTooLarge`] for counts that cannot make an organisation.
    ///
    /// ```
    /// use wholesale_billing::{Error, Period};
    /// use wholesale_billing::synthetic::GeneratorConfig;
    /// let mut config = GeneratorConfig {
    ///     seed: 1, customers: 10, subscribers: 100, sub_partners: 2, month: Period::month(2024, 5)?,
    ///     catalog: Default::default(),
    ///     order: Default::default(),
    /// };
    /// assert!(config.validate().is_ok());
    /// config.month = Period::from_dates("2024-05-02", "2024-05-31")?;
    /// assert!(matches!(config.validate(), Err(Error::NotAWholeMonth { .. })));
    /// config.month = Period::month(2024, 5)?;
    /// config.subscribers = 5;
    /// assert_eq!(config.validate().unwrap_err().to_string(),
    ///     "invalid generator settings: 5 subscribers cannot fill 10 customers: every customer needs at least one");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.customers == 0 {
            return Err(Error::NoCustomers);
        }
        if self.subscribers < u64::from(self.customers) {
            return Err(Error::TooFewSubscribers {
                subscribers: self.subscribers,
                customers: self.customers,
            });
        }
        if self.subscribers > MAX_SUBSCRIBERS {
            return Err(Error::TooManySubscribers {
                subscribers: self.subscribers,
                max: MAX_SUBSCRIBERS,
            });
        }
        if self.sub_partners > MAX_SUB_PARTNERS {
            return Err(Error::OrganisationTooLarge {
                what: "sub-partners",
                count: usize::from(self.sub_partners),
                max: usize::from(MAX_SUB_PARTNERS),
            });
        }
        let start = self.month.start();
        let whole = Period::month(start.year(), start.month()).ok();
        if whole != Some(self.month) {
            return Err(Error::NotAWholeMonth { period: self.month });
        }
        if !(MIN_YEAR..=MAX_YEAR).contains(&start.year()) {
            return Err(Error::YearOutOfRange {
                year: start.year(),
                min: MIN_YEAR,
                max: MAX_YEAR,
            });
        }
        Ok(())
    }

    /// The packages the generator knows but leaves out because their SKU is a placeholder in
    /// [`GeneratorConfig::catalog`] (the Webex documents give none and the catalog does not
    /// configure one), in catalog order. Configure a package (`[catalog.webex_suite] sku = "…"`)
    /// to have it generated.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use wholesale_billing::{Catalog, CatalogOverride, Period};
    /// use wholesale_billing::synthetic::GeneratorConfig;
    /// let mut config = GeneratorConfig {
    ///     seed: 1, customers: 10, subscribers: 100, sub_partners: 2, month: Period::month(2024, 5)?,
    ///     catalog: Catalog::default(),
    ///     order: Default::default(),
    /// };
    /// assert_eq!(config.packages_left_out(), ["webex_suite", "cx_essentials"]);
    /// let suite = CatalogOverride { sku: Some("A-W-SUITE-U".into()), ..Default::default() };
    /// config.catalog = Catalog::with_overrides(&BTreeMap::from([("webex_suite".to_owned(), suite)]))?;
    /// assert_eq!(config.packages_left_out(), ["cx_essentials"]);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn packages_left_out(&self) -> Vec<&'static str> {
        PACKAGES
            .iter()
            .copied()
            .filter(|package| !is_generated(&self.catalog, package))
            .collect()
    }
}

/// Whether the generator draws `package`: the catalog has it under a known (or configured) SKU.
fn is_generated(catalog: &Catalog, package: &str) -> bool {
    catalog.get(package).is_some_and(|entry| !entry.placeholder)
}

/// What [`generate`] made: the organisation and counts of the events it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedMonth {
    /// The partner, its sub-partners and [`GeneratorConfig::catalog`] (write it with
    /// [`Organisation::to_toml_string`]: the file carries the catalog's overrides).
    pub organisation: Organisation,
    /// Event rows written (not counting the header).
    pub events: u64,
    /// Subscribers generated; every one has an assignment of non-zero length.
    pub subscribers: u64,
    /// Customers generated; every one has at least one subscriber.
    pub customers: u32,
    /// Subscribers that are users.
    pub users: u64,
    /// Subscribers that are workspaces.
    pub workspaces: u64,
}

/// Generates a partner month: writes its events CSV to `events_csv` and returns the organisation.
///
/// `progress` is called with the number of subscribers generated so far, every 10,000 subscribers
/// and once at the end. The output depends on `config` only (byte for byte). Only the packages
/// whose SKU is known in `config.catalog` are assigned ([`GeneratorConfig::packages_left_out`]).
/// In time order ([`EventOrder::Time`]) the sorted runs are kept in memory (about the size of the
/// file): [`generate_with_spill`] keeps them in a file.
///
/// # Errors
/// As [`GeneratorConfig::validate`]; [`Error::Io`] when writing fails.
///
/// ```
/// use wholesale_billing::{AssignmentLedger, Catalog, LoadMode, Period};
/// use wholesale_billing::synthetic::{GeneratorConfig, generate};
/// let config = GeneratorConfig {
///     seed: 7, customers: 5, subscribers: 60, sub_partners: 2, month: Period::month(2024, 5)?,
///     catalog: Catalog::default(), order: Default::default(),
/// };
/// let mut csv = Vec::new();
/// let mut last = 0;
/// let month = generate(&config, &mut csv, &mut |done| last = done)?;
/// assert_eq!((month.subscribers, month.users + month.workspaces, last), (60, 60, 60));
/// assert_eq!(month.organisation.sub_partners.len(), 2);
/// let (ledger, diagnostics) =
///     AssignmentLedger::from_csv(csv.as_slice(), month.organisation.clone(), LoadMode::Strict)?;
/// assert_eq!(diagnostics.rows_read, month.events);
/// assert_eq!(ledger.subscriber_count(), 60);
/// assert_eq!(ledger.customer_count(), 5);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn generate(
    config: &GeneratorConfig,
    events_csv: impl Write,
    progress: &mut dyn FnMut(u64),
) -> Result<GeneratedMonth> {
    generate_with_spill(config, events_csv, &mut std::io::Cursor::new(Vec::new()), progress)
}

/// [`generate`], with the sorted runs of a month in time order written to `spill` (an empty
/// temporary file, say: the core opens no path), so that memory holds one run of 32 MiB whatever
/// the size of the month. Grouped by customer, the spill is not used.
///
/// # Errors
/// As [`generate`]; [`Error::Io`] when the spill fails.
///
/// ```
/// use wholesale_billing::{Catalog, EventOrder, Period};
/// use wholesale_billing::synthetic::{GeneratorConfig, generate, generate_with_spill};
/// let mut config = GeneratorConfig {
///     seed: 7, customers: 5, subscribers: 60, sub_partners: 2, month: Period::month(2024, 5)?,
///     catalog: Catalog::default(), order: EventOrder::Time,
/// };
/// let (mut by_time, mut spill) = (Vec::new(), std::io::Cursor::new(Vec::new()));
/// generate_with_spill(&config, &mut by_time, &mut spill, &mut |_| {})?;
/// let text = String::from_utf8(by_time.clone()).unwrap();
/// let second_row = text.lines().nth(2).unwrap();
/// assert!(second_row.starts_with("ev-0000000002,"));
/// // The same rows, grouped by customer (their ids apart).
/// config.order = EventOrder::Customer;
/// let mut grouped = Vec::new();
/// generate(&config, &mut grouped, &mut |_| {})?;
/// let rows = |csv: &[u8]| {
///     let mut rows: Vec<String> = String::from_utf8(csv.to_vec()).unwrap().lines()
///         .map(|l| l.split_once(',').unwrap().1.to_owned()).collect();
///     rows.sort();
///     rows
/// };
/// assert_eq!(rows(&by_time), rows(&grouped));
/// assert_ne!(by_time, grouped);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn generate_with_spill(
    config: &GeneratorConfig,
    events_csv: impl Write,
    spill: &mut dyn Spill,
    progress: &mut dyn FnMut(u64),
) -> Result<GeneratedMonth> {
    config.validate()?;
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let month_start = config.month.start_instant().as_micros();
    let month_end = config.month.end_exclusive().as_micros();

    let organisation = organisation(&mut rng, config, month_start)?;
    let mixes = Mixes::new(&organisation.catalog)?;
    let sub_partner_ids: Vec<&[u8]> = organisation
        .sub_partners
        .iter()
        .map(|sp| sp.org_id.as_bytes())
        .collect();
    // Sub-partners are unevenly large: each gets a weight 1..=8 (prefix sums for the draw).
    let mut sub_partner_weights = Vec::with_capacity(sub_partner_ids.len());
    let mut acc = 0u32;
    for _ in 0..sub_partner_ids.len() {
        acc += rng.random_range(1..=8);
        sub_partner_weights.push(acc);
    }
    let sizes = customer_sizes(&mut rng, config.customers, config.subscribers);

    let mut out = Emitter {
        out: BufWriter::with_capacity(1 << 20, events_csv),
        line: Vec::with_capacity(512),
        events: 0,
        sorter: match config.order {
            EventOrder::Time => Some(TimeSorter::new(spill, time_order::RUN_BYTES)),
            EventOrder::Customer => None,
        },
        at: 0,
    };
    out.write_raw(HEADER)?;
    let mut month = Month {
        start: month_start,
        end: month_end,
        days: i64::from(config.month.days()),
        changes: Vec::with_capacity(4),
    };
    let (mut done, mut users, mut workspaces) = (0u64, 0u64, 0u64);
    for (index, &size) in sizes.iter().enumerate() {
        let owner = match sub_partner_weights.last() {
            Some(&total) if rng.random_range(0..1000) >= 600 => {
                let pick = rng.random_range(0..total);
                sub_partner_ids
                    .get(sub_partner_weights.partition_point(|&w| w <= pick))
                    .copied()
            }
            _ => None,
        };
        let customer = Customer::new(&mut rng, index, owner.unwrap_or(b""));
        for _ in 0..size {
            let subscriber = Subscriber::new(&mut rng, &customer, &mixes);
            match subscriber.kind {
                SubscriberType::User => users += 1,
                SubscriberType::Workspace => workspaces += 1,
            }
            month.timeline(&mut rng, &mut out, &customer, &mixes, subscriber)?;
            done += 1;
            if done % PROGRESS_EVERY == 0 && done != config.subscribers {
                progress(done);
            }
        }
    }
    out.finish()?;
    progress(done);
    Ok(GeneratedMonth {
        organisation,
        events: out.events,
        subscribers: done,
        customers: config.customers,
        users,
        workspaces,
    })
}

/// The partner, `config.sub_partners` sub-partners (half of them, rounded up, with a billing
/// start inside the month) and the config's catalog.
fn organisation(rng: &mut ChaCha8Rng, config: &GeneratorConfig, month_start: i64) -> Result<Organisation> {
    let partner = Partner {
        org_id: uuid_string(rng),
        name: format!("{} {}", pick(rng, &PARTNER_PREFIXES), pick(rng, &PARTNER_SUFFIXES)),
        subscription_id: format!("Sub{:07}", rng.random_range(0..10_000_000u32)),
    };
    let n = usize::from(config.sub_partners);
    // Exactly ceil(n / 2) billing starts, at shuffled positions.
    let mut starts: Vec<bool> = (0..n).map(|i| i < n.div_ceil(2)).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        starts.swap(i, j);
    }
    let mut names = HashSet::with_capacity(n);
    let mut sub_partners = Vec::with_capacity(n);
    for (i, has_start) in starts.into_iter().enumerate() {
        let mut name = String::new();
        for _ in 0..4 {
            name = format!("{} {}", pick(rng, &RESELLER_PREFIXES), pick(rng, &RESELLER_SUFFIXES));
            if !names.contains(&name) {
                break;
            }
        }
        if names.contains(&name) {
            name = format!("{name} {}", i + 1);
        }
        names.insert(name.clone());
        let billing_start = has_start.then(|| {
            let day = rng.random_range(1..28i64); // the 2nd to the 28th
            let minutes = rng.random_range(0..24 * 60i64);
            Timestamp::from_micros(month_start + day * MICROS_PER_DAY + minutes * MICROS_PER_MINUTE)
        });
        sub_partners.push(SubPartner {
            org_id: uuid_string(rng),
            name,
            billing_start,
        });
    }
    let organisation = Organisation {
        partner,
        sub_partners,
        catalog: config.catalog.clone(),
    };
    organisation.validate()?;
    Ok(organisation)
}

/// The number of subscribers of each customer: at least one each, exactly `subscribers` in all,
/// the rest spread in proportion to skewed weights (80%: 1–15, 15%: 16–80, 5%: 81–600).
fn customer_sizes(rng: &mut ChaCha8Rng, customers: u32, subscribers: u64) -> Vec<u64> {
    let weights: Vec<u64> = (0..customers)
        .map(|_| match rng.random_range(0..1000) {
            0..800 => rng.random_range(1..=15),
            800..950 => rng.random_range(16..=80),
            _ => rng.random_range(81..=600),
        })
        .collect();
    let total = u128::from(weights.iter().sum::<u64>().max(1));
    let rest = u128::from(subscribers.saturating_sub(u64::from(customers)));
    // Cumulative rounding: the shares add up to `rest` exactly.
    let mut cumulative = 0u128;
    let mut given = 0u128;
    weights
        .iter()
        .map(|&w| {
            cumulative += u128::from(w);
            let upto = rest * cumulative / total;
            let share = upto - given;
            given = upto;
            1 + u64::try_from(share).unwrap_or(0)
        })
        .collect()
}

fn pick<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> &'a str {
    items.get(rng.random_range(0..items.len())).copied().unwrap_or("")
}

/// A random (version 4) UUID, lower-case hex `8-4-4-4-12`.
fn uuid(rng: &mut ChaCha8Rng) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bits: u128 = rng.random();
    bits = (bits & !(0xf << 76)) | (0x4 << 76);
    bits = (bits & !(0x3 << 62)) | (0x2 << 62);
    let mut out = [b'-'; 36];
    let mut nibble = 32;
    for (i, slot) in out.iter_mut().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            continue;
        }
        nibble -= 1;
        *slot = HEX[((bits >> (nibble * 4)) & 0xf) as usize];
    }
    out
}

fn uuid_string(rng: &mut ChaCha8Rng) -> String {
    String::from_utf8_lossy(&uuid(rng)).into_owned()
}

/// The package mixes of users and workspaces, less the packages the catalog leaves out.
struct Mixes {
    user: Vec<(&'static str, u32)>,
    workspace: Vec<(&'static str, u32)>,
}

impl Mixes {
    /// The mixes of `catalog`: [`USER_PACKAGES`] and [`WORKSPACE_PACKAGES`] without the packages
    /// whose SKU is a placeholder; the weights of the others are kept, so they keep their
    /// proportions.
    fn new(catalog: &Catalog) -> Result<Self> {
        for (package, _) in USER_PACKAGES.iter().chain(WORKSPACE_PACKAGES.iter()) {
            if catalog.get(package).is_none() {
                return Err(Error::GeneratorPackageMissing { package });
            }
        }
        let known = |mix: &[(&'static str, u32)]| -> Result<Vec<(&'static str, u32)>> {
            let kept: Vec<_> = mix
                .iter()
                .copied()
                .filter(|(package, _)| is_generated(catalog, package))
                .collect();
            match (kept.is_empty(), mix.first()) {
                (true, Some(&(package, _))) => Err(Error::GeneratorPackageMissing { package }),
                _ => Ok(kept),
            }
        };
        Ok(Mixes {
            user: known(&USER_PACKAGES)?,
            workspace: known(&WORKSPACE_PACKAGES)?,
        })
    }

    fn of(&self, kind: SubscriberType) -> &[(&'static str, u32)] {
        match kind {
            SubscriberType::User => &self.user,
            SubscriberType::Workspace => &self.workspace,
        }
    }
}

/// Draws one package of a mix by its weights, never `except`; `None` when the mix has no other.
fn draw_package(rng: &mut ChaCha8Rng, mix: &[(&'static str, u32)], except: Option<&str>) -> Option<&'static str> {
    let total: u32 = mix.iter().filter(|(p, _)| Some(*p) != except).map(|(_, w)| w).sum();
    if total == 0 {
        return None;
    }
    let mut r = rng.random_range(0..total);
    for &(package, weight) in mix.iter().filter(|(p, _)| Some(*p) != except) {
        if r < weight {
            return Some(package);
        }
        r -= weight;
    }
    None
}

struct Customer<'a> {
    org: [u8; 36],
    external_id: String,
    /// The owning sub-partner's org id; empty: the partner.
    owner: &'a [u8],
    locations: [[u8; 36]; 3],
    location_count: usize,
    /// The UTC offset (minutes) of the customer's systems.
    offset: i16,
    /// The customer's license id per package (index in [`PACKAGES`]): a Webex license belongs to
    /// the customer's subscription of a package and is shared by its subscribers.
    licenses: [[u8; 36]; PACKAGES.len()],
}

/// Every package the generator assigns, in a fixed order.
const PACKAGES: [&str; 6] = [
    "common_area_calling",
    "webex_calling",
    "webex_voice",
    "webex_meetings",
    "webex_suite",
    "cx_essentials",
];

impl<'a> Customer<'a> {
    fn new(rng: &mut ChaCha8Rng, index: usize, owner: &'a [u8]) -> Self {
        let org = uuid(rng);
        let location_count = match rng.random_range(0..1000) {
            0..600 => 1,
            600..850 => 2,
            _ => 3,
        };
        let mut locations = [[0u8; 36]; 3];
        for slot in locations.iter_mut().take(location_count) {
            *slot = uuid(rng);
        }
        let offset = OFFSETS.get(rng.random_range(0..OFFSETS.len())).copied().unwrap_or(0);
        let mut licenses = [[0u8; 36]; PACKAGES.len()];
        for license in &mut licenses {
            *license = uuid(rng);
        }
        Customer {
            org,
            external_id: format!("CUST-{:06}", index + 1),
            owner,
            locations,
            location_count,
            offset,
            licenses,
        }
    }

    /// The license of `package`; a few subscribers (about 3%) carry none, as assignments made
    /// before Webex introduced the field do.
    fn license(&self, rng: &mut ChaCha8Rng, package: &str) -> Option<[u8; 36]> {
        if rng.random_range(0..1000) < 30 {
            return None;
        }
        PACKAGES
            .iter()
            .position(|p| *p == package)
            .and_then(|i| self.licenses.get(i))
            .copied()
    }

    fn location(&self, index: usize) -> &[u8] {
        self.locations.get(index).map(|l| l.as_slice()).unwrap_or_default()
    }
}

struct Subscriber {
    id: [u8; 36],
    kind: SubscriberType,
    /// The user id or the workspace id.
    person: [u8; 36],
    package: &'static str,
    location: usize,
    license: Option<[u8; 36]>,
}

impl Subscriber {
    fn new(rng: &mut ChaCha8Rng, customer: &Customer<'_>, mixes: &Mixes) -> Self {
        let kind = if rng.random_range(0..1000) < 850 {
            SubscriberType::User
        } else {
            SubscriberType::Workspace
        };
        // A mix is never empty (`Mixes::new`): the fallback is not reached.
        let mix = mixes.of(kind);
        let package = draw_package(rng, mix, None)
            .or_else(|| mix.first().map(|&(p, _)| p))
            .unwrap_or_default();
        Subscriber {
            id: uuid(rng),
            kind,
            person: uuid(rng),
            package,
            location: rng.random_range(0..customer.location_count.max(1)),
            license: customer.license(rng, package),
        }
    }
}

/// A change of a subscriber during the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Remove,
    Reassign,
    Package,
    Location,
}

struct Month {
    start: i64,
    end: i64,
    days: i64,
    /// Scratch list of (instant, change), reused across subscribers.
    changes: Vec<(i64, Change)>,
}

impl Month {
    /// Draws a subscriber's history and writes its events, in time order.
    fn timeline<W: Write>(
        &mut self,
        rng: &mut ChaCha8Rng,
        out: &mut Emitter<'_, W>,
        customer: &Customer<'_>,
        mixes: &Mixes,
        mut sub: Subscriber,
    ) -> Result<()> {
        let latest_start = self.end - 2 * MICROS_PER_HOUR;
        let during = rng.random_range(0..1000) < 200;
        let start = if during {
            let day = rng.random_range(0..self.days);
            (self.start + day * MICROS_PER_DAY + time_of_day(rng)).min(latest_start)
        } else {
            let days_before = match rng.random_range(0..1000) {
                0..500 => rng.random_range(1..=30),
                500..850 => rng.random_range(31..=120),
                _ => rng.random_range(121..=730),
            };
            self.start - days_before * MICROS_PER_DAY + time_of_day(rng)
        };
        let start = with_millis(rng, start);
        out.assign(rng, start, customer, &sub)?;

        // A few are assigned and removed within the same hour.
        let minute = (start.rem_euclid(MICROS_PER_HOUR)) / MICROS_PER_MINUTE;
        if during && minute < 58 && rng.random_range(0..1000) < 25 {
            let hour = start - start.rem_euclid(MICROS_PER_HOUR);
            let at = hour + rng.random_range(minute + 1..60) * MICROS_PER_MINUTE + seconds(rng);
            return out.remove(rng, at, customer, &sub);
        }

        let lo = start.max(self.start) + MICROS_PER_MINUTE;
        let hi = self.end - MICROS_PER_MINUTE;
        if hi - lo < 2 * MICROS_PER_HOUR {
            return Ok(());
        }
        self.changes.clear();
        if rng.random_range(0..1000) < 50 {
            let removed = lo + rng.random_range(0..(hi - lo) / MICROS_PER_SECOND) * MICROS_PER_SECOND;
            self.changes.push((removed, Change::Remove));
            if hi - removed > 2 * MICROS_PER_HOUR && rng.random_range(0..1000) < 350 {
                let back = removed + MICROS_PER_HOUR;
                let at = back + rng.random_range(0..(hi - back) / MICROS_PER_SECOND) * MICROS_PER_SECOND;
                self.changes.push((with_millis(rng, at), Change::Reassign));
            }
        }
        if rng.random_range(0..1000) < 30 {
            // At half past an hour (or some other minute) strictly inside the window.
            let first_hour = lo.div_euclid(MICROS_PER_HOUR) + 1;
            let last_hour = hi.div_euclid(MICROS_PER_HOUR) - 1;
            if first_hour <= last_hour {
                let hour = rng.random_range(first_hour..=last_hour) * MICROS_PER_HOUR;
                let at = if rng.random_range(0..1000) < 700 {
                    hour + 30 * MICROS_PER_MINUTE
                } else {
                    hour + rng.random_range(1..60) * MICROS_PER_MINUTE + seconds(rng)
                };
                self.changes.push((at, Change::Package));
            }
        }
        if customer.location_count > 1 && rng.random_range(0..1000) < 10 {
            let at = lo + rng.random_range(0..(hi - lo) / MICROS_PER_MINUTE) * MICROS_PER_MINUTE;
            self.changes.push((at, Change::Location));
        }
        self.changes.sort_by_key(|&(at, _)| at);

        let mut assigned = true;
        let mut last = start;
        for &(at, change) in &self.changes {
            if at <= last {
                continue;
            }
            match change {
                Change::Remove if assigned => {
                    out.remove(rng, at, customer, &sub)?;
                    assigned = false;
                }
                Change::Reassign if !assigned => {
                    out.assign(rng, at, customer, &sub)?;
                    assigned = true;
                }
                Change::Package if assigned => {
                    let Some(package) = draw_package(rng, mixes.of(sub.kind), Some(sub.package)) else {
                        continue;
                    };
                    sub.package = package;
                    sub.license = customer.license(rng, sub.package);
                    out.assign(rng, at, customer, &sub)?;
                }
                Change::Location if assigned => {
                    let step = rng.random_range(1..customer.location_count);
                    sub.location = (sub.location + step) % customer.location_count;
                    out.assign(rng, at, customer, &sub)?;
                }
                _ => continue,
            }
            last = at;
        }
        Ok(())
    }
}

/// A time of day: mostly office hours (06:00–19:59 UTC), sometimes any time; whole seconds.
fn time_of_day(rng: &mut ChaCha8Rng) -> i64 {
    let hour = if rng.random_range(0..1000) < 900 {
        rng.random_range(6..20)
    } else {
        rng.random_range(0..24)
    };
    hour * MICROS_PER_HOUR + rng.random_range(0..60) * MICROS_PER_MINUTE + seconds(rng)
}

fn seconds(rng: &mut ChaCha8Rng) -> i64 {
    rng.random_range(0..60) * MICROS_PER_SECOND
}

/// Sometimes (3%) adds milliseconds to an instant.
fn with_millis(rng: &mut ChaCha8Rng, at: i64) -> i64 {
    if rng.random_range(0..1000) < 30 {
        at + rng.random_range(1..1000) * 1_000
    } else {
        at
    }
}

/// Writes the rows of the events CSV.
struct Emitter<'s, W: Write> {
    out: BufWriter<W>,
    line: Vec<u8>,
    events: u64,
    /// In time order: the rows, without their ids, sorted before they are written.
    sorter: Option<TimeSorter<'s>>,
    /// The instant of the row in `line`.
    at: i64,
}

impl<W: Write> Emitter<'_, W> {
    fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io("writing the generated events csv", e))
    }

    /// Starts a row: `event_id,occurred_at,ACTION,subscriber_id`.
    /// In time order the id is given when the rows are written in order.
    fn begin(&mut self, rng: &mut ChaCha8Rng, at: i64, customer: &Customer<'_>, action: &[u8], sub: &Subscriber) {
        self.events += 1;
        self.at = at;
        self.line.clear();
        if self.sorter.is_none() {
            push_event_id(&mut self.line, self.events);
        }
        self.line.push(b',');
        let offset = (rng.random_range(0..1000) < 250).then_some(customer.offset);
        push_timestamp(&mut self.line, at, offset);
        self.line.push(b',');
        self.line.extend_from_slice(action);
        self.line.push(b',');
        self.line.extend_from_slice(&sub.id);
    }

    fn assign(&mut self, rng: &mut ChaCha8Rng, at: i64, customer: &Customer<'_>, sub: &Subscriber) -> Result<()> {
        self.begin(rng, at, customer, b"ASSIGN", sub);
        let line = &mut self.line;
        line.push(b',');
        line.extend_from_slice(&customer.org);
        line.push(b',');
        line.extend_from_slice(customer.external_id.as_bytes());
        line.push(b',');
        line.extend_from_slice(customer.owner);
        line.push(b',');
        line.extend_from_slice(sub.kind.as_str().as_bytes());
        line.push(b',');
        if sub.kind == SubscriberType::User {
            line.extend_from_slice(&sub.person);
            line.extend_from_slice(b",,");
        } else {
            line.push(b',');
            line.extend_from_slice(&sub.person);
            line.push(b',');
        }
        line.extend_from_slice(sub.package.as_bytes());
        line.push(b',');
        line.extend_from_slice(customer.location(sub.location));
        line.push(b',');
        if let Some(license) = &sub.license {
            line.extend_from_slice(license);
        }
        line.push(b'\n');
        self.flush_line()
    }

    fn remove(&mut self, rng: &mut ChaCha8Rng, at: i64, customer: &Customer<'_>, sub: &Subscriber) -> Result<()> {
        self.begin(rng, at, customer, b"REMOVE", sub);
        self.line.extend_from_slice(b",,,,,,,,,\n");
        self.flush_line()
    }

    fn flush_line(&mut self) -> Result<()> {
        match &mut self.sorter {
            Some(sorter) => sorter.push(self.at, &self.line),
            None => self
                .out
                .write_all(&self.line)
                .map_err(|e| Error::io("writing the generated events csv", e)),
        }
    }

    /// Writes the rows sorted (in time order) and flushes the output.
    fn finish(&mut self) -> Result<()> {
        if let Some(sorter) = self.sorter.take() {
            let out = &mut self.out;
            let mut id = Vec::with_capacity(16);
            let mut events = 0u64;
            sorter.finish(|row| {
                events += 1;
                id.clear();
                push_event_id(&mut id, events);
                out.write_all(&id)
                    .and_then(|()| out.write_all(row))
                    .map_err(|e| Error::io("writing the generated events csv", e))
            })?;
        }
        self.out
            .flush()
            .map_err(|e| Error::io("writing the generated events csv", e))
    }
}

/// Appends the event id of the `n`th row: `ev-0000000001`.
fn push_event_id(line: &mut Vec<u8>, n: u64) {
    line.extend_from_slice(b"ev-");
    push_number(line, n, 10);
}

/// Appends `value` in decimal, zero-padded to at least `width` digits.
fn push_number(line: &mut Vec<u8>, mut value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut n = 0;
    while value > 0 || n < width {
        if let Some(slot) = digits.get_mut(n) {
            *slot = b'0' + (value % 10) as u8;
        }
        value /= 10;
        n += 1;
        if n >= digits.len() {
            break;
        }
    }
    line.extend(digits[..n].iter().rev());
}

/// Appends an instant in RFC 3339: UTC with `Z`, or the local time of a UTC offset (minutes) with
/// `+HH:MM` / `-HH:MM`; milliseconds when the instant has any.
fn push_timestamp(line: &mut Vec<u8>, micros: i64, offset_minutes: Option<i16>) {
    let offset = i64::from(offset_minutes.unwrap_or(0));
    let local = micros + offset * MICROS_PER_MINUTE;
    let secs = local.div_euclid(MICROS_PER_SECOND);
    let fraction = local.rem_euclid(MICROS_PER_SECOND);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let second_of_day = secs.rem_euclid(86_400) as u64;
    push_number(line, year.clamp(0, 9999) as u64, 4);
    line.push(b'-');
    push_number(line, u64::from(month), 2);
    line.push(b'-');
    push_number(line, u64::from(day), 2);
    line.push(b'T');
    push_number(line, second_of_day / 3600, 2);
    line.push(b':');
    push_number(line, second_of_day / 60 % 60, 2);
    line.push(b':');
    push_number(line, second_of_day % 60, 2);
    if fraction != 0 {
        line.push(b'.');
        if fraction % 1_000 == 0 {
            push_number(line, (fraction / 1_000) as u64, 3);
        } else {
            push_number(line, fraction as u64, 6);
        }
    }
    match offset_minutes {
        None => line.push(b'Z'),
        Some(_) => {
            line.push(if offset < 0 { b'-' } else { b'+' });
            let abs = offset.unsigned_abs();
            push_number(line, abs / 60, 2);
            line.push(b':');
            push_number(line, abs % 60, 2);
        }
    }
}

#[cfg(test)]
mod tests;
