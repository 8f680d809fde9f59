//! Tariffs (SPEC §7.3, §7.4, §7.5, §7.8): the file as written ([`TariffDocument`], TOML or JSON,
//! with destination tables from CSV) and the compiled form the engine rates with ([`Tariff`]).
//!
//! - `document`: the file's structure, read and written with located errors;
//! - `table`: the CSV prefix table;
//! - `band`: time bands, weekdays and local clock times;
//! - `price`: fixed-point amounts, billable seconds and the charge of a call;
//! - `prefix`: the longest-prefix digit trie and its first-level table;
//! - `compile`: the rules between keys, and the build of a [`Tariff`].

mod band;
mod compile;
mod document;
mod prefix;
mod price;
mod table;

use std::num::NonZeroU32;

use chrono::Weekday;
use rust_decimal::Decimal;

pub use band::{Band, ClockTime};
pub use document::{AllowanceSpec, BandPriceSpec, BandSpec, DEFAULT_RATING_DECIMALS, DestinationSpec, TariffDocument};
pub(crate) use prefix::LANES;
pub(crate) use price::billable_seconds_u32;
pub use price::{MAX_RATING_DECIMALS, Price, TARIFF_AMOUNT_DECIMALS, TariffAmount, billable_seconds, charge};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::money::Currency;
use crate::rates::PriceBook;
use crate::rating::{CallTime, CallType};

/// The index of a destination in a [`Tariff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestinationId(u32);

/// The index of a band in a [`Tariff`], in tariff order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BandId(u16);

/// The index of a destination class (`mobile`) in a [`Tariff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClassId(u16);

macro_rules! index_of {
    ($($id:ident),*) => {$(
        impl $id {
            /// The 0-based index.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    )*};
}
index_of!(DestinationId, BandId, ClassId);

/// The bit of a call type in a set of call types (11 types: they fit 16 bits).
const fn call_type_bit(call_type: CallType) -> u16 {
    1 << (call_type as u16)
}

/// A destination of a compiled tariff: its class, default price, increments and band prices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    name: String,
    class: ClassId,
    price: Price,
    initial: NonZeroU32,
    subsequent: NonZeroU32,
    /// The range of [`Tariff::band_prices`] that is this destination's.
    band_prices: (u32, u32),
}

impl Destination {
    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The class.
    pub fn class(&self) -> ClassId {
        self.class
    }

    /// The price out of every band (or in a band it gives no price for).
    pub fn default_price(&self) -> Price {
        self.price
    }

    /// The first increment, in seconds.
    pub fn initial(&self) -> NonZeroU32 {
        self.initial
    }

    /// The later increments, in seconds.
    pub fn subsequent(&self) -> NonZeroU32 {
        self.subsequent
    }

    /// The billable seconds of a call of `duration` seconds ([`billable_seconds`]).
    ///
    /// # Errors
    /// [`Error::Overflow`] when they do not fit 64 bits.
    pub fn billable_seconds(&self, duration: u64) -> Result<u64> {
        billable_seconds(duration, self.initial, self.subsequent)
    }
}

/// Bundled minutes of a compiled tariff: a package's minutes per user-month for some classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    package: String,
    minutes: Decimal,
    classes: Vec<ClassId>,
}

impl Allowance {
    /// The package (catalog name).
    pub fn package(&self) -> &str {
        &self.package
    }

    /// Minutes per user-month.
    pub fn minutes(&self) -> Decimal {
        self.minutes
    }

    /// The classes it covers, in the order the tariff lists them.
    pub fn classes(&self) -> &[ClassId] {
        &self.classes
    }

    /// Whether it covers calls to destinations of `class`.
    pub fn covers(&self, class: ClassId) -> bool {
        self.classes.contains(&class)
    }
}

/// A tariff compiled for rating: the longest-prefix table built once, prices in fixed point,
/// classes and bands by index. Made by [`TariffDocument::compile`]; nothing here allocates per
/// call.
///
/// ```
/// use wholesale_billing::{CallType, TariffDocument, Weekday};
/// let tariff = TariffDocument::from_toml_str(r#"
/// currency = "GBP"
/// [[bands]]
/// name = "weekend"
/// days = ["sat", "sun"]
/// from = "00:00"
/// to = "24:00"
/// [[destinations]]
/// name = "UK mobile"
/// class = "mobile"
/// prefixes = ["447"]
/// per_minute = "0.03"
/// initial = 60
/// subsequent = 1
/// bands = { weekend = { per_minute = "0.015" } }
/// "#)?.compile()?;
/// let (id, _) = tariff.lookup(b"447700900123").unwrap();
/// let band = tariff.band_at(Weekday::Sat, 10 * 3_600_000_000_000);
/// assert_eq!(tariff.band(band.unwrap()).unwrap().name(), "weekend");
/// assert_eq!(tariff.price(id, band).per_minute.micros(), 15_000);
/// assert_eq!(tariff.price(id, None).per_minute.micros(), 30_000);
/// assert!(tariff.charges(CallType::SipMobile) && !tariff.charges(CallType::SipTollfree));
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tariff {
    currency: Currency,
    rating_decimals: u32,
    charged_call_types: Vec<CallType>,
    /// Bit `i` for `CallType::ALL[i]`.
    charged: u16,
    tollfree: Option<DestinationId>,
    bands: Vec<Band>,
    classes: Vec<String>,
    destinations: Vec<Destination>,
    band_prices: Vec<(BandId, Price)>,
    allowances: Vec<Allowance>,
    prefixes: prefix::PrefixTable,
    /// The bands resolved per weekday and second of the local day.
    week: band::WeekBands,
}

impl Tariff {
    /// The currency of every amount.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The decimals of a call's charge.
    pub fn rating_decimals(&self) -> u32 {
        self.rating_decimals
    }

    /// The call types of originating legs that are charged, as the tariff lists them.
    pub fn charged_call_types(&self) -> &[CallType] {
        &self.charged_call_types
    }

    /// Whether originating legs of `call_type` are charged.
    #[inline]
    pub fn charges(&self, call_type: CallType) -> bool {
        self.charged & call_type_bit(call_type) != 0
    }

    /// The destination toll-free legs are priced at, if the tariff names one.
    pub fn tollfree_destination(&self) -> Option<DestinationId> {
        self.tollfree
    }

    /// The destination of the longest prefix of `digits` (ASCII digits; the number ends at the
    /// first other byte), and the length of that prefix. Allocation-free.
    ///
    /// ```
    /// use wholesale_billing::TariffDocument;
    /// let tariff = TariffDocument::from_toml_str("currency = \"USD\"\nprefix_table = \"p.csv\"\n")?
    ///     .with_prefix_table("prefix,destination,class,connect_fee,per_minute,initial,subsequent\n\
    ///                         1,US,national,0,0.01,6,6\n1212,NYC,national,0,0.005,6,6\n".as_bytes())?
    ///     .compile()?;
    /// let (id, len) = tariff.lookup(b"12125550100").unwrap();
    /// assert_eq!((tariff.destination(id).unwrap().name(), len), ("NYC", 4));
    /// assert_eq!(tariff.lookup(b"4420"), None);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[inline]
    pub fn lookup(&self, digits: &[u8]) -> Option<(DestinationId, usize)> {
        self.prefixes.lookup(digits).map(|(d, len)| (DestinationId(d), len))
    }

    /// The destination of the longest prefix of the digits of `number` (every character that is
    /// not an ASCII digit skipped, as in `+44 (20) 7946-0000`), and the length of that prefix in
    /// digits. Allocation-free.
    ///
    /// ```
    /// use wholesale_billing::TariffDocument;
    /// let tariff = TariffDocument::from_toml_str("currency = \"USD\"\nprefix_table = \"p.csv\"\n")?
    ///     .with_prefix_table("prefix,destination,class,connect_fee,per_minute,initial,subsequent\n\
    ///                         1,US,national,0,0.01,6,6\n1212,NYC,national,0,0.005,6,6\n".as_bytes())?
    ///     .compile()?;
    /// let (id, len) = tariff.lookup_number("+1 (212) 555-0100").unwrap();
    /// assert_eq!((tariff.destination(id).unwrap().name(), len), ("NYC", 4));
    /// assert_eq!(tariff.lookup_number("+1 (212) 555-0100"), tariff.lookup(b"12125550100"));
    /// assert_eq!(tariff.lookup_number("+44 20"), None);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[inline]
    pub fn lookup_number(&self, number: &str) -> Option<(DestinationId, usize)> {
        self.prefixes
            .lookup_number(number.as_bytes())
            .map(|(d, len)| (DestinationId(d), len))
    }

    /// [`Tariff::lookup_number`] of the first `count` of `numbers` (at most [`LANES`]) into
    /// `found`, their walks down the prefix table interleaved; [`Tariff::found`] reads a
    /// result.
    #[inline]
    pub(crate) fn lookup_numbers(&self, numbers: &[&[u8]; LANES], count: usize, found: &mut [(u32, u32); LANES]) {
        self.prefixes.lookup_numbers(numbers, count, found);
    }

    /// The destination and prefix length a result of [`Tariff::lookup_numbers`] stands for.
    #[inline]
    pub(crate) fn found(found: (u32, u32)) -> Option<(DestinationId, usize)> {
        let (destination, len) = found;
        destination.checked_sub(1).map(|d| (DestinationId(d), len as usize))
    }

    /// The destination of an id of this tariff.
    pub fn destination(&self, id: DestinationId) -> Option<&Destination> {
        self.destinations.get(id.index())
    }

    /// Every destination: those of the tariff file, then those of its prefix table.
    pub fn destinations(&self) -> &[Destination] {
        &self.destinations
    }

    /// The id of the destination named `name`.
    pub fn destination_named(&self, name: &str) -> Option<DestinationId> {
        self.destinations
            .iter()
            .position(|d| d.name == name)
            .and_then(|i| u32::try_from(i).ok())
            .map(DestinationId)
    }

    /// The price of a call to `destination` starting in `band`: the band's price where the
    /// destination gives one (its connect fee, if not given, the default one), else the default
    /// price. The default price of an id of another tariff is zero.
    #[inline]
    pub fn price(&self, destination: DestinationId, band: Option<BandId>) -> Price {
        match self.destinations.get(destination.index()) {
            Some(d) => self.price_at(d, band),
            None => Price::default(),
        }
    }

    /// [`Tariff::price`] of a destination of this tariff.
    #[inline]
    pub(crate) fn price_at(&self, d: &Destination, band: Option<BandId>) -> Price {
        let (start, end) = (d.band_prices.0 as usize, d.band_prices.1 as usize);
        // First whether the destination has band prices (the same answer for most calls),
        // then whether the call is in a band (as good as random).
        let Some(band) = band.filter(|_| start < end) else {
            return d.price;
        };
        self.band_prices
            .get(start..end)
            .and_then(|prices| prices.iter().find(|(b, _)| *b == band))
            .map_or(d.price, |(_, p)| *p)
    }

    /// The first band, in tariff order, that holds a local start on `weekday` at
    /// `nanos_of_day` nanoseconds after local midnight.
    #[inline]
    pub fn band_at(&self, weekday: Weekday, nanos_of_day: u64) -> Option<BandId> {
        self.bands
            .iter()
            .position(|b| b.holds(weekday, nanos_of_day))
            .and_then(|i| u16::try_from(i).ok())
            .map(BandId)
    }

    /// The first band, in tariff order, that holds the local start of a call that started at
    /// `start` at a site `site_offset_minutes` east of UTC: the band [`Tariff::band_at`] gives for
    /// [`CallTime::local`], found with integer arithmetic in a table of each weekday's second
    /// ranges built with the tariff.
    ///
    /// ```
    /// use wholesale_billing::{CallTime, TariffDocument};
    /// let tariff = TariffDocument::from_toml_str(r#"
    /// currency = "GBP"
    /// [[bands]]
    /// name = "weekend"
    /// days = ["sat", "sun"]
    /// from = "00:00"
    /// to = "24:00"
    /// "#)?.compile()?;
    /// // Friday 23:30 UTC is Saturday 00:30 at a site one hour east.
    /// let start = CallTime::parse("2024-05-03T23:30:00Z")?;
    /// assert_eq!(tariff.band_of_start(start, 0), None);
    /// let band = tariff.band_of_start(start, 60);
    /// assert_eq!(tariff.band(band.unwrap()).unwrap().name(), "weekend");
    /// let (weekday, nanos) = start.local(60);
    /// assert_eq!(band, tariff.band_at(weekday, nanos));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[inline]
    pub fn band_of_start(&self, start: CallTime, site_offset_minutes: i16) -> Option<BandId> {
        const NANOS_PER_SECOND: i64 = 1_000_000_000;
        const SECONDS_PER_WEEK: i64 = 7 * 86_400;
        // 1970-01-01, the epoch, was a Thursday: the Monday before is 3 days earlier.
        const MONDAY_BEFORE_EPOCH: i64 = 3 * 86_400;
        // Whole seconds suffice: band edges are whole seconds, and an offset of whole minutes
        // moves the instant by whole seconds. No overflow: |seconds| < 9.3 × 10^9.
        let nanos = start.as_nanos();
        // Floor divisions (an instant may be before 1970, a local time before the Monday),
        // unsigned where the numbers are not negative, the case of every real call: cheaper.
        let seconds = match u64::try_from(nanos) {
            Ok(nanos) => (nanos / NANOS_PER_SECOND as u64) as i64,
            Err(_) => nanos.div_euclid(NANOS_PER_SECOND),
        } + i64::from(site_offset_minutes) * 60
            + MONDAY_BEFORE_EPOCH;
        let second_of_week = match u64::try_from(seconds) {
            Ok(seconds) => seconds % SECONDS_PER_WEEK as u64,
            Err(_) => seconds.rem_euclid(SECONDS_PER_WEEK) as u64,
        };
        let second_of_week = u32::try_from(second_of_week).unwrap_or(0);
        self.week.band_at_second_of_week(second_of_week).map(BandId)
    }

    /// A band of this tariff.
    pub fn band(&self, id: BandId) -> Option<&Band> {
        self.bands.get(id.index())
    }

    /// Every band, in tariff order.
    pub fn bands(&self) -> &[Band] {
        &self.bands
    }

    /// The name of a class of this tariff.
    pub fn class_name(&self, id: ClassId) -> Option<&str> {
        self.classes.get(id.index()).map(String::as_str)
    }

    /// Every class, in order of first use by a destination.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The allowances, in the order they are drawn from.
    pub fn allowances(&self) -> &[Allowance] {
        &self.allowances
    }

    /// The number of prefixes.
    pub fn prefix_count(&self) -> usize {
        self.prefixes.len()
    }

    /// The bytes the longest-prefix table holds (8 per cell of its blocks and tails, and
    /// 120,000 of first-level table; see the module `prefix`).
    pub fn prefix_table_bytes(&self) -> usize {
        self.prefixes.memory_bytes()
    }

    /// The number of nodes of the longest-prefix table (the blocks of its trie; a chain of
    /// nodes ending in one prefix is a tail, not nodes).
    pub fn prefix_table_nodes(&self) -> usize {
        self.prefixes.nodes()
    }

    /// Checks that the price book the minutes are billed with is in the tariff's currency.
    ///
    /// # Errors
    /// [`Error::TariffCurrencyMismatch`] naming both currencies.
    ///
    /// ```
    /// use wholesale_billing::{PriceBook, TariffDocument, error_with_causes};
    /// let tariff = TariffDocument::from_toml_str("currency = \"EUR\"\n")?.compile()?;
    /// let book = PriceBook::from_toml_str("currency = \"USD\"\n")?;
    /// let err = tariff.check_currency(&book).unwrap_err();
    /// assert_eq!(err.to_string(), "the tariff is in EUR but the price book in USD: an invoice has one currency");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn check_currency(&self, price_book: &PriceBook) -> Result<()> {
        if price_book.currency == self.currency {
            Ok(())
        } else {
            Err(Error::TariffCurrencyMismatch {
                tariff: self.currency,
                price_book: price_book.currency,
            })
        }
    }

    /// Checks that every allowance names a package of the catalog (case-insensitive).
    ///
    /// # Errors
    /// [`Error::InvalidFile`] at `allowances[i].package` whose source is an
    /// [`Error::UnknownAllowancePackage`] listing the catalog's packages.
    ///
    /// ```
    /// use wholesale_billing::{Catalog, TariffDocument, error_with_causes};
    /// let tariff = TariffDocument::from_toml_str(r#"
    /// currency = "EUR"
    /// [[destinations]]
    /// name = "FR"
    /// class = "national"
    /// per_minute = "0.01"
    /// initial = 1
    /// subsequent = 1
    /// [[allowances]]
    /// package = "webex_callng"
    /// minutes = "100"
    /// classes = ["national"]
    /// "#)?.compile()?;
    /// let err = tariff.check_packages(&Catalog::default()).unwrap_err();
    /// assert!(error_with_causes(&err).starts_with(
    ///     "tariff: at allowances[0].package: allowance package \"webex_callng\" is not in the catalog (known: "));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn check_packages(&self, catalog: &Catalog) -> Result<()> {
        for (i, allowance) in self.allowances.iter().enumerate() {
            if catalog.get(&allowance.package).is_none() {
                let error = Error::UnknownAllowancePackage {
                    package: allowance.package.clone(),
                    known: catalog.package_names(),
                };
                return Err(error.at_path(document::FILE, format!("allowances[{i}].package")));
            }
        }
        Ok(())
    }
}
