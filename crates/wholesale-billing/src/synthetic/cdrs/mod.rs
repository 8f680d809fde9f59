//! A realistic month of calls for the subscribers of a ledger: the Webex "Detailed Call History"
//! report as CSV, or the CDR feed's JSON (`{"items": [...]}`), in time order, streamed.
//!
//! What a month of calls looks like:
//!
//! - **Who calls.** Every subscriber of the ledger, only while it holds a package, at a rate set by
//!   the package: [`CdrConfig::calls_per_subscriber`] is the mean number of calls a `webex_calling`
//!   user assigned the whole month makes or receives; `webex_voice` users call 75% of that,
//!   `cx_essentials` agents 160%, common-area phones 25%, Meetings-only users 4% (calls into
//!   meetings), and workspaces holding a user package about a third.
//! - **When.** Office hours of the site's local time peak (10:00–11:00 is the busiest hour),
//!   evenings are quiet and weekends quieter still. Sites lie in five time zones (`Site timezone`
//!   0, 60, -300, 330 and 600 minutes: the UK, Germany, the US east coast, India, Australia),
//!   each customer location in one of them.
//! - **What.** Of a Calling user's calls about 23% go to national fixed lines, 15% to mobiles,
//!   4% abroad, 0.5% to premium numbers, 0.5% to short codes (directory enquiries, UK sites only),
//!   1.5% to freephone numbers, 0.03% to emergency services, 15% to colleagues (two legs:
//!   `SIP_ENTERPRISE` originating and terminating, one correlation id), 2% into meetings, 35% come
//!   in from the PSTN (`TERMINATING`, `SIP_INBOUND`) and 3% to the customer's own freephone number
//!   (`TERMINATING`, `SIP_TOLLFREE`). About a fifth of the calls are not answered (duration 0) and
//!   1.5% of the answered ones last 0 seconds; answered calls last from a second to two hours,
//!   most under three minutes.
//! - **Numbers** are written as people and systems write them: `+44 20 7946 0000`,
//!   `+442079460000`, `02079460000` (UK sites calling UK numbers), `+1 (212) 555-0100`,
//!   `4930…`. Every number a charged call dials lies in a range of the generated tariff
//!   ([`super::tariff`]).
//! - **Re-delivery.** About 0.3% of the records appear a second time, byte for byte, up to a few
//!   hours of calls later in the file, as the CDR feed re-delivers late records.
//! - **Planned faults**, only when asked: records of an organisation that is no customer
//!   ([`CdrConfig::unknown_customer`], one call in 997) and international calls to a range no
//!   tariff prices ([`CdrConfig::no_destination`], one international call in 50).
//!
//! **Memory.** Calls are drawn slot by slot in time order: the period is cut into slots of at most
//! an hour, each small enough to hold about 2,048 expected calls; a slot's calls are drawn, sorted
//! by `Start time` and written before the next slot is drawn. Memory is proportional to the number
//! of subscribers (their assignments and sites) plus one slot, never to the number of records: a
//! month of 10 million records streams like a month of ten thousand
//! ([`CdrMonth::largest_batch`] reports the largest slot).

mod mix;
mod population;
mod record;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use self::mix::{Kind, Profile, ZERO_DURATION_PER_MILLE, activity, answered_per_mille, draw_duration, draw_kind};
use self::population::{Caller, Population, Site};
pub use self::record::CDR_COLUMNS;
use self::record::{Col, Record, csv_header};
use super::numbering::{COUNTRIES, Country, HOME, Number, SHORT_CODE_PREFIX, Style, UNRATED, UNRATED_PREFIX, ZONES};
use super::{civil_from_days, push_number, uuid};
use crate::error::{Error, Result};
use crate::ledger::AssignmentLedger;
use crate::rating::CdrFormat;
use crate::rating::{CallType, Direction};
use crate::time::Period;

const MILLIS_PER_HOUR: i64 = 3_600_000;
const MILLIS_PER_DAY: i64 = 24 * MILLIS_PER_HOUR;
const MILLIS_PER_HOUR_WIDE: u128 = 3_600_000;
/// Expected calls per slot: an hour is cut into slots of about this many calls.
const BATCH_CALLS: u128 = 2_048;
/// Records re-delivered, per 10,000.
const DUPLICATES_PER_10000: u32 = 30;
/// A re-delivered record comes back 1 to this many slots later.
const DUPLICATE_DELAY_SLOTS: u64 = 24;
/// With [`CdrConfig::unknown_customer`]: one call in this many is made by a stranger.
const UNKNOWN_CUSTOMER_EVERY: u64 = 997;
/// With [`CdrConfig::no_destination`]: one international call in this many dials an unrated range.
const NO_DESTINATION_EVERY: u64 = 50;
/// `progress` is called after about this many records.
const PROGRESS_EVERY: u64 = 1 << 16;
/// Mixed into the seed so the calls do not replay the events' random stream.
const STREAM: u64 = 0x0cd7_ca11_5eed_0001;

/// The default of [`CdrConfig::calls_per_subscriber`]: about five calls a working day.
///
/// ```
/// assert_eq!(wholesale_billing::synthetic::DEFAULT_CALLS_PER_SUBSCRIBER, 100);
/// ```
pub const DEFAULT_CALLS_PER_SUBSCRIBER: u32 = 100;

/// What calls to generate.
///
/// ```
/// use wholesale_billing::Period;
/// use wholesale_billing::CdrFormat;
/// use wholesale_billing::synthetic::{CdrConfig, DEFAULT_CALLS_PER_SUBSCRIBER};
/// let config = CdrConfig::new(7, Period::month(2024, 5)?);
/// assert_eq!(config.calls_per_subscriber, DEFAULT_CALLS_PER_SUBSCRIBER);
/// assert_eq!(config.format, CdrFormat::Csv);
/// assert!(!config.unknown_customer && !config.no_destination);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdrConfig {
    /// The seed of the random stream: the same config and ledger always give the same bytes.
    pub seed: u64,
    /// The period of the calls (dates inclusive, UTC).
    pub period: Period,
    /// Mean calls made or received by a `webex_calling` user assigned the whole period; other
    /// packages call more or less (see the module's documentation).
    pub calls_per_subscriber: u32,
    /// CSV report or feed JSON.
    pub format: CdrFormat,
    /// Also write a few records (one call in 997) of an organisation that is no customer, as a
    /// call history shared by several partners would: rated `unknown_customer`.
    pub unknown_customer: bool,
    /// Also dial, on one international call in 50, a range no generated tariff prices: rated
    /// `no_destination`.
    pub no_destination: bool,
}

impl CdrConfig {
    /// The defaults for `seed` and `period`: [`DEFAULT_CALLS_PER_SUBSCRIBER`], CSV, no planned
    /// faults.
    pub fn new(seed: u64, period: Period) -> CdrConfig {
        CdrConfig {
            seed,
            period,
            calls_per_subscriber: DEFAULT_CALLS_PER_SUBSCRIBER,
            format: CdrFormat::Csv,
            unknown_customer: false,
            no_destination: false,
        }
    }
}

/// What [`generate_cdrs`] wrote.
///
/// ```
/// use wholesale_billing::synthetic::CdrMonth;
/// let month = CdrMonth::default();
/// assert_eq!((month.records, month.duplicates, month.largest_batch), (0, 0, 0));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CdrMonth {
    /// Records written, re-delivered duplicates included.
    pub records: u64,
    /// Records written a second time (identical, later in the file).
    pub duplicates: u64,
    /// Distinct records per call type.
    pub call_types: BTreeMap<CallType, u64>,
    /// Distinct records of the organisation that is no customer.
    pub unknown_customer: u64,
    /// Distinct records dialling a range no tariff prices.
    pub no_destination: u64,
    /// The most records held at once (one slot): bounded whatever the number of records.
    pub largest_batch: usize,
}

/// Writes a month of calls of `ledger`'s subscribers to `out`, in `Start time` order (the
/// re-delivered duplicates aside), and returns what it wrote.
///
/// `progress` is called with the number of records written so far, about every 65,536 records
/// and once at the end. The output depends on `config` and the ledger only (byte for byte).
///
/// # Errors
/// [`Error::Io`] when writing fails.
///
/// ```
/// use wholesale_billing::{AssignmentLedger, Catalog, LoadMode, Period};
/// use wholesale_billing::synthetic::{CdrConfig, GeneratorConfig, generate, generate_cdrs};
/// let month = Period::month(2024, 5)?;
/// let config = GeneratorConfig {
///     seed: 7, customers: 3, subscribers: 40, sub_partners: 1, month, catalog: Catalog::default(),
///     order: Default::default(),
/// };
/// let mut events = Vec::new();
/// let generated = generate(&config, &mut events, &mut |_| {})?;
/// let (ledger, _) = AssignmentLedger::from_csv(events.as_slice(), generated.organisation, LoadMode::Strict)?;
/// let mut csv = Vec::new();
/// let calls = generate_cdrs(&ledger, &CdrConfig::new(7, month), &mut csv, &mut |_| {})?;
/// let text = String::from_utf8(csv).unwrap();
/// assert!(text.starts_with("Answer indicator,Answer time,Answered,"));
/// assert_eq!(text.lines().count() as u64, calls.records + 1);
/// assert!(calls.records > 1_000);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn generate_cdrs(
    ledger: &AssignmentLedger,
    config: &CdrConfig,
    out: impl Write,
    progress: &mut dyn FnMut(u64),
) -> Result<CdrMonth> {
    let start = config.period.start_instant().as_micros() / 1_000;
    let end = config.period.end_exclusive().as_micros() / 1_000;
    let population = Population::new(ledger, config.seed, start, end);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ STREAM);
    let stranger = Stranger {
        org: uuid(&mut rng),
        user: uuid(&mut rng),
    };
    let mut writer = Writer {
        out: BufWriter::with_capacity(1 << 20, out),
        format: config.format,
        written: 0,
        next_progress: PROGRESS_EVERY,
    };
    writer.begin()?;

    let hours = (end - start) / MILLIS_PER_HOUR;
    // Per zone: the activity of every hour of the period and their sum.
    let activities: Vec<Vec<u32>> = ZONES
        .iter()
        .map(|zone| {
            (0..hours)
                .map(|h| {
                    let local = start + h * MILLIS_PER_HOUR + i64::from(zone.offset) * 60_000;
                    activity(local.div_euclid(MILLIS_PER_HOUR))
                })
                .collect()
        })
        .collect();
    let sums: Vec<u128> = activities
        .iter()
        .map(|a| a.iter().map(|&x| u128::from(x)).sum())
        .collect();
    let rate = u128::from(config.calls_per_subscriber);

    let mut maker = CallMaker {
        population: &population,
        config,
        stranger,
        record: Record::new(),
        calls: 0,
        international: 0,
    };
    let mut batch = Batch::default();
    let mut month = CdrMonth::default();
    let mut pending: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut slot_number = 0u64;
    let mut expected = vec![0u128; ZONES.len()];
    for hour in 0..hours {
        let hour_start = start + hour * MILLIS_PER_HOUR;
        let mut calls_this_hour = 0u128;
        for (zone, slot) in expected.iter_mut().enumerate() {
            let weight = u128::from(population.groups.get(zone).map_or(0, |g| g.total()));
            let act = activities
                .get(zone)
                .and_then(|a| a.get(hour as usize))
                .copied()
                .map_or(0, u128::from);
            let sum = sums.get(zone).copied().unwrap_or(0).max(1);
            // Expected milli-calls of the zone in this hour.
            *slot = rate * weight * act / sum;
            calls_this_hour += *slot / 1000;
        }
        let slots = i64::try_from(calls_this_hour.div_ceil(BATCH_CALLS).max(1)).unwrap_or(1);
        for s in 0..slots {
            let from = hour_start + s * MILLIS_PER_HOUR / slots;
            let to = hour_start + (s + 1) * MILLIS_PER_HOUR / slots;
            batch.clear();
            for (zone, &milli) in expected.iter().enumerate() {
                let Some(group) = population.groups.get(zone) else {
                    continue;
                };
                let share = milli * u128::try_from(to - from).unwrap_or(0) / MILLIS_PER_HOUR_WIDE;
                let mut count = share / 1000;
                if rng.random_range(0..1000u128) < share % 1000 {
                    count += 1;
                }
                for _ in 0..count {
                    let point = rng.random_range(0..group.total().max(1));
                    let at = rng.random_range(from..to);
                    let Some(caller) = group.at(point).and_then(|i| population.callers.get(i as usize)) else {
                        continue;
                    };
                    // Thinning: a subscriber calls only while assigned, at its package's rate.
                    let Some(segment) = population.segment_at(caller, at) else {
                        continue;
                    };
                    if rng.random_range(0..caller.weight.max(1)) >= segment.weight {
                        continue;
                    }
                    let site = population.sites.get(segment.site as usize);
                    if let Some(site) = site {
                        maker.call(&mut rng, &mut batch, &mut month, caller, segment.profile, site, at, to)?;
                    }
                }
            }
            month.largest_batch = month.largest_batch.max(batch.entries.len());
            batch.entries.sort_unstable_by_key(|e| (e.at, e.seq));
            slot_number += 1;
            for entry in &batch.entries {
                let bytes = batch.bytes(entry);
                writer.record(bytes, progress)?;
                if rng.random_range(0..10_000u32) < DUPLICATES_PER_10000 {
                    let release = slot_number + rng.random_range(1..=DUPLICATE_DELAY_SLOTS);
                    pending.push((release, bytes.to_vec()));
                }
            }
            month.records += batch.entries.len() as u64;
            let mut i = 0;
            while i < pending.len() {
                if pending.get(i).is_some_and(|(release, _)| *release <= slot_number) {
                    let (_, bytes) = pending.remove(i);
                    writer.record(&bytes, progress)?;
                    month.records += 1;
                    month.duplicates += 1;
                } else {
                    i += 1;
                }
            }
        }
    }
    for (_, bytes) in pending.drain(..) {
        writer.record(&bytes, progress)?;
        month.records += 1;
        month.duplicates += 1;
    }
    writer.end()?;
    progress(writer.written);
    Ok(month)
}

/// The organisation that is no customer, and its one user.
struct Stranger {
    org: [u8; 36],
    user: [u8; 36],
}

/// The records of one slot, formatted, waiting to be sorted by time.
#[derive(Default)]
struct Batch {
    text: Vec<u8>,
    entries: Vec<Entry>,
}

struct Entry {
    at: i64,
    seq: u32,
    start: usize,
    end: usize,
}

impl Batch {
    fn clear(&mut self) {
        self.text.clear();
        self.entries.clear();
    }

    fn bytes(&self, entry: &Entry) -> &[u8] {
        self.text.get(entry.start..entry.end).unwrap_or_default()
    }

    fn push(&mut self, at: i64, record: &Record, format: CdrFormat) {
        let start = self.text.len();
        match format {
            CdrFormat::Csv => record.write_csv(&mut self.text),
            CdrFormat::Json => record.write_json(&mut self.text),
        }
        let seq = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        self.entries.push(Entry {
            at,
            seq,
            start,
            end: self.text.len(),
        });
    }
}

/// The output: header, records, and the JSON envelope.
struct Writer<W: Write> {
    out: BufWriter<W>,
    format: CdrFormat,
    written: u64,
    next_progress: u64,
}

impl<W: Write> Writer<W> {
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| Error::io("writing the generated call records", e))
    }

    fn begin(&mut self) -> Result<()> {
        match self.format {
            CdrFormat::Csv => {
                let mut header = Vec::new();
                csv_header(&mut header);
                self.write(&header)
            }
            CdrFormat::Json => self.write(b"{\"items\": ["),
        }
    }

    fn record(&mut self, bytes: &[u8], progress: &mut dyn FnMut(u64)) -> Result<()> {
        if self.format == CdrFormat::Json {
            self.write(if self.written == 0 { b"\n" } else { b",\n" })?;
        }
        self.write(bytes)?;
        self.written += 1;
        if self.written >= self.next_progress {
            self.next_progress += PROGRESS_EVERY;
            progress(self.written);
        }
        Ok(())
    }

    fn end(&mut self) -> Result<()> {
        if self.format == CdrFormat::Json {
            self.write(b"\n]}\n")?;
        }
        self.out
            .flush()
            .map_err(|e| Error::io("writing the generated call records", e))
    }
}

/// Who is on the line: the subscriber's side of a leg.
struct Party<'p> {
    caller: &'p Caller,
    site: &'p Site,
    /// Stranger ids replace the customer's (a record of an organisation that is no customer).
    stranger: bool,
}

/// The other end of a leg, and how it is rated.
struct Leg {
    direction: Direction,
    call_type: CallType,
    called: Vec<u8>,
    calling: Vec<u8>,
    dialled: Vec<u8>,
    country: &'static str,
    pstn: bool,
    /// Index in [`Population::callers`] of a colleague on an internal call.
    callee: Option<u32>,
}

/// Makes the records of calls.
struct CallMaker<'p, 'c> {
    population: &'p Population<'p>,
    config: &'c CdrConfig,
    stranger: Stranger,
    record: Record,
    calls: u64,
    international: u64,
}

impl CallMaker<'_, '_> {
    /// Draws a call of `caller` at `at` and adds its records (one, or two for an internal call)
    /// to `batch`; every leg starts before `slot_end`.
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        rng: &mut ChaCha8Rng,
        batch: &mut Batch,
        month: &mut CdrMonth,
        caller: &Caller,
        profile: Profile,
        site: &Site,
        at: i64,
        slot_end: i64,
    ) -> Result<()> {
        let population = self.population;
        self.calls += 1;
        let stranger = self.config.unknown_customer && self.calls.is_multiple_of(UNKNOWN_CUSTOMER_EVERY);
        let kind = draw_kind(rng, profile);
        let leg = self.leg(rng, kind, caller, site, at);
        let answered = rng.random_range(0..1000) < answered_per_mille(kind);
        let duration = if !answered || rng.random_range(0..1000) < ZERO_DURATION_PER_MILLE {
            0
        } else {
            draw_duration(rng, kind)
        };
        let correlation = uuid(rng);
        let party = Party { caller, site, stranger };
        self.write_leg(rng, batch, &party, &leg, answered, duration, &correlation, at, month);
        if stranger {
            month.unknown_customer += 1;
        } else if let Some(callee) = leg.callee.and_then(|i| population.callers.get(i as usize)) {
            // The colleague's leg, a moment later, at its own site.
            let at = (at + rng.random_range(20..400)).min(slot_end - 1);
            let site = population
                .segment_at(callee, at)
                .and_then(|s| population.sites.get(s.site as usize));
            if let Some(callee_site) = site {
                let back = Leg {
                    direction: Direction::Terminating,
                    call_type: CallType::SipEnterprise,
                    called: leg.called.clone(),
                    calling: leg.calling.clone(),
                    dialled: Vec::new(),
                    country: "",
                    pstn: false,
                    callee: None,
                };
                let party = Party {
                    caller: callee,
                    site: callee_site,
                    stranger: false,
                };
                self.write_leg(rng, batch, &party, &back, answered, duration, &correlation, at, month);
            }
        }
        Ok(())
    }

    /// The direction, call type and numbers of a call of `kind`.
    fn leg(&mut self, rng: &mut ChaCha8Rng, kind: Kind, caller: &Caller, site: &Site, at: i64) -> Leg {
        let zone = ZONES.get(site.zone).unwrap_or(&ZONES[0]);
        let country = COUNTRIES.get(zone.country).unwrap_or(&COUNTRIES[HOME]);
        let home = zone.country == HOME;
        let own = own_number(caller, country);
        let mut leg = Leg {
            direction: Direction::Originating,
            call_type: CallType::SipNational,
            called: Vec::new(),
            calling: Vec::new(),
            dialled: Vec::new(),
            country: "",
            pstn: true,
            callee: None,
        };
        own.write(&mut leg.calling, country, Style::E164);
        let local = |rng: &mut ChaCha8Rng, leg: &mut Leg, ranges: &[&str], call_type: CallType| {
            let prefix = pick_str(rng, ranges);
            let number = Number::draw(rng, country, prefix);
            let style = if home {
                match rng.random_range(0..100) {
                    0..40 => Style::National,
                    40..75 => Style::Spaced,
                    _ => Style::E164,
                }
            } else if rng.random_range(0..2) == 0 {
                Style::Spaced
            } else {
                Style::E164
            };
            number.write(&mut leg.called, country, style);
            number.write(
                &mut leg.dialled,
                country,
                if home { Style::National } else { Style::Digits },
            );
            leg.call_type = call_type;
        };
        match kind {
            Kind::National | Kind::Unknown => {
                local(rng, &mut leg, country.fixed, CallType::SipNational);
                if kind == Kind::Unknown {
                    leg.call_type = CallType::Unknown;
                }
            }
            Kind::Mobile => {
                let ranges = if country.mobile.is_empty() {
                    country.fixed
                } else {
                    country.mobile
                };
                local(rng, &mut leg, ranges, CallType::SipMobile);
            }
            Kind::Premium if !country.premium.is_empty() => {
                local(rng, &mut leg, country.premium, CallType::SipPremium);
            }
            Kind::TollFreeOut if !country.tollfree.is_empty() => {
                local(rng, &mut leg, country.tollfree, CallType::SipTollfree);
            }
            Kind::ShortCode if home => {
                let mut code = SHORT_CODE_PREFIX.as_bytes().to_vec();
                for _ in 0..3 {
                    code.push(b'0' + rng.random_range(0..10u8));
                }
                leg.called.extend_from_slice(&code);
                leg.dialled = code;
                leg.call_type = CallType::SipShortcode;
            }
            Kind::Premium | Kind::TollFreeOut | Kind::ShortCode => {
                local(rng, &mut leg, country.fixed, CallType::SipNational);
            }
            Kind::International => {
                self.international += 1;
                leg.call_type = CallType::SipInternational;
                if self.config.no_destination && self.international.is_multiple_of(NO_DESTINATION_EVERY) {
                    let number = Number::draw(rng, &UNRATED, UNRATED_PREFIX);
                    number.write(&mut leg.called, &UNRATED, Style::Spaced);
                    leg.dialled.extend_from_slice(if home { b"00" } else { b"011" });
                    number.write(&mut leg.dialled, &UNRATED, Style::Digits);
                } else {
                    let target = pick_country(rng, zone.country);
                    let to = COUNTRIES.get(target).unwrap_or(&COUNTRIES[HOME]);
                    let ranges = if !to.mobile.is_empty() && rng.random_range(0..10) < 4 {
                        to.mobile
                    } else {
                        to.fixed
                    };
                    let prefix = pick_str(rng, ranges);
                    let number = Number::draw(rng, to, prefix);
                    let style = match rng.random_range(0..10) {
                        0..5 => Style::Spaced,
                        5..9 => Style::E164,
                        _ => Style::Digits,
                    };
                    number.write(&mut leg.called, to, style);
                    leg.dialled.extend_from_slice(if home { b"00" } else { b"011" });
                    number.write(&mut leg.dialled, to, Style::Digits);
                    leg.country = to.iso;
                }
            }
            Kind::Emergency => {
                leg.called.extend_from_slice(country.emergency.as_bytes());
                leg.dialled.extend_from_slice(country.emergency.as_bytes());
                leg.call_type = CallType::SipEmergency;
            }
            Kind::Meeting => {
                // The Webex dial-in number of the site's country.
                let bridge = Number::from_hash(0x5eed_b41d, country, country.fixed.first().copied().unwrap_or(""));
                leg.called.clear();
                bridge.write(&mut leg.called, country, Style::E164);
                leg.call_type = CallType::SipMeeting;
                leg.pstn = false;
            }
            Kind::Internal => {
                leg.call_type = CallType::SipEnterprise;
                leg.pstn = false;
                leg.calling.clear();
                leg.calling.extend_from_slice(caller.extension.digits());
                let colleague = self.colleague(rng, caller, at);
                let extension = colleague
                    .and_then(|i| self.population.callers.get(i as usize))
                    .map_or_else(|| Number::extension(rng.random_range(0..7000)), |c| c.extension);
                leg.called.extend_from_slice(extension.digits());
                leg.dialled.extend_from_slice(extension.digits());
                leg.callee = colleague;
            }
            Kind::Inbound | Kind::TollFreeIn => {
                leg.direction = Direction::Terminating;
                let (from_country, ranges) = match rng.random_range(0..100) {
                    0..55 => (country, country.fixed),
                    55..90 if !country.mobile.is_empty() => (country, country.mobile),
                    55..90 => (country, country.fixed),
                    _ => {
                        let to = COUNTRIES.get(pick_country(rng, zone.country)).unwrap_or(country);
                        (to, to.fixed)
                    }
                };
                let prefix = pick_str(rng, ranges);
                let from = Number::draw(rng, from_country, prefix);
                leg.calling.clear();
                from.write(&mut leg.calling, from_country, Style::E164);
                if kind == Kind::TollFreeIn {
                    leg.call_type = CallType::SipTollfree;
                    let freephone = self
                        .population
                        .customers
                        .get(caller.customer as usize)
                        .map_or(own, |c| c.freephone);
                    freephone.write(&mut leg.called, country, Style::E164);
                } else {
                    leg.call_type = CallType::SipInbound;
                    own.write(&mut leg.called, country, Style::E164);
                }
            }
        }
        leg
    }

    /// A colleague of `caller` (another subscriber of its customer) assigned at `at`.
    fn colleague(&self, rng: &mut ChaCha8Rng, caller: &Caller, at: i64) -> Option<u32> {
        let customer = self.population.customers.get(caller.customer as usize)?;
        if customer.callers < 2 {
            return None;
        }
        let pick = customer.first_caller + rng.random_range(0..customer.callers);
        let other = self.population.callers.get(pick as usize)?;
        let same = std::ptr::eq(other, caller);
        (!same && self.population.segment_at(other, at).is_some()).then_some(pick)
    }

    /// Formats one leg into the batch.
    #[allow(clippy::too_many_arguments)]
    fn write_leg(
        &mut self,
        rng: &mut ChaCha8Rng,
        batch: &mut Batch,
        party: &Party<'_>,
        leg: &Leg,
        answered: bool,
        duration: u32,
        correlation: &[u8; 36],
        at: i64,
        month: &mut CdrMonth,
    ) {
        let population = self.population;
        let caller = party.caller;
        let site = party.site;
        let zone = ZONES.get(site.zone).unwrap_or(&ZONES[0]);
        let country = COUNTRIES.get(zone.country).unwrap_or(&COUNTRIES[HOME]);
        let r = &mut self.record;
        r.clear();
        let ring: u32 = if answered {
            rng.random_range(1..=20)
        } else {
            rng.random_range(5..=45)
        };
        let answer_at = at + i64::from(ring) * 1000 + rng.random_range(0..1000);
        let release_at = if answered {
            answer_at + i64::from(duration) * 1000
        } else {
            answer_at
        };
        r.set(Col::AnswerIndicator, if answered { b"Yes" } else { b"No" });
        if answered {
            r.set_with(Col::AnswerTime, |o| push_instant(o, answer_at, b'T', true));
        }
        r.set(Col::Answered, if answered { b"true" } else { b"false" });
        r.set_with(Col::CallId, |o| {
            o.extend_from_slice(b"SSE");
            push_number(o, rng.random_range(0..10_000_000_000u64), 10);
            o.extend_from_slice(b"@10.");
            push_number(o, u64::from(rng.random_range(0..256u16)), 1);
            o.push(b'.');
            push_number(o, u64::from(rng.random_range(0..256u16)), 1);
            o.push(b'.');
            push_number(o, u64::from(rng.random_range(1..255u16)), 1);
        });
        let (outcome, reason, releasing): (&[u8], &[u8], &[u8]) = if answered {
            (
                b"Success",
                b"Normal",
                if rng.random_range(0..2) == 0 {
                    b"Local"
                } else {
                    b"Remote"
                },
            )
        } else if rng.random_range(0..5) == 0 {
            (b"Refusal", b"UserBusy", b"Remote")
        } else {
            (b"Failure", b"NoAnswer", b"Local")
        };
        r.set(Col::CallOutcome, outcome);
        r.set(Col::CallOutcomeReason, reason);
        r.set(Col::CallType, leg.call_type.as_str().as_bytes());
        r.set(Col::CalledNumber, &leg.called);
        r.set(Col::CallingNumber, &leg.calling);
        // The client: a desk phone for workspaces, the Webex App or a desk phone for users.
        let device = caller.workspace || ((caller.hash & 0xff) < 140 && rng.random_range(0..2) == 0);
        if device {
            let models: [&[u8]; 5] = [b"8865-3PCC", b"8845-3PCC", b"8851-3PCC", b"6871-3PCC", b"8832-3PCC"];
            let model = models[((caller.hash >> 8) % 5) as usize];
            r.set(Col::ClientType, b"WXC_DEVICE");
            r.set(Col::ClientVersion, b"sip88xx.12-0-1MPP0001-339");
            r.set(Col::Model, model);
            r.set_with(Col::DeviceMac, |o| {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                o.extend_from_slice(b"A4B439");
                for shift in (0..6).rev() {
                    o.push(HEX[((caller.hash >> (16 + shift * 4)) & 0xf) as usize]);
                }
            });
        } else {
            let systems: [&[u8]; 4] = [b"windows", b"mac", b"ios", b"android"];
            r.set(Col::ClientType, b"TEAMS_WXC_CLIENT");
            r.set(Col::ClientVersion, b"44.5.0.29672");
            r.set(Col::OsType, systems[((caller.hash >> 12) % 4) as usize]);
        }
        r.set(Col::CorrelationId, correlation);
        if leg.direction == Direction::Originating && !leg.dialled.is_empty() {
            r.set(Col::DialedDigits, &leg.dialled);
        }
        r.set(Col::Direction, leg.direction.as_str().as_bytes());
        r.set_with(Col::Duration, |o| push_number(o, u64::from(duration), 1));
        r.set(Col::InternationalCountry, leg.country.as_bytes());
        r.set(Col::Location, site.city.as_bytes());
        if party.stranger {
            r.set(Col::OrgUuid, &self.stranger.org);
        } else {
            let org = population
                .customers
                .get(caller.customer as usize)
                .map_or("", |c| population.text(c.org));
            r.set(Col::OrgUuid, org.as_bytes());
        }
        r.set_with(Col::ReleaseTime, |o| push_instant(o, release_at, b' ', false));
        r.set_with(Col::RingDuration, |o| push_number(o, u64::from(ring), 1));
        r.set(Col::ReleasingParty, releasing);
        r.set_with(Col::ReportId, |o| o.extend_from_slice(&uuid(rng)));
        r.set_with(Col::SiteMainNumber, |o| site.main_number.write(o, country, Style::E164));
        r.set_with(Col::SiteTimezone, |o| {
            if zone.offset < 0 {
                o.push(b'-');
            }
            push_number(o, u64::from(zone.offset.unsigned_abs()), 1);
        });
        r.set(Col::SiteUuid, site.uuid.as_bytes());
        r.set_with(Col::StartTime, |o| push_instant(o, at, b'T', true));
        r.set_with(Col::UserNumber, |o| {
            own_number(caller, country).write(o, country, Style::E164)
        });
        r.set(Col::UserType, if caller.workspace { b"Place" } else { b"User" });
        if party.stranger {
            r.set(Col::UserUuid, &self.stranger.user);
        } else {
            r.set(Col::UserUuid, population.text(caller.user_uuid).as_bytes());
        }
        if leg.pstn {
            r.set(Col::PstnVendorName, b"Tidewater PSTN");
        }
        let is_unrated = leg.digits_start_with(UNRATED_PREFIX);
        batch.push(at, r, self.config.format);
        *month.call_types.entry(leg.call_type).or_insert(0) += 1;
        if is_unrated {
            month.no_destination += 1;
        }
    }
}

impl Leg {
    /// Whether the called number's digits start with `prefix`.
    fn digits_start_with(&self, prefix: &str) -> bool {
        self.called
            .iter()
            .filter(|b| b.is_ascii_digit())
            .take(prefix.len())
            .copied()
            .eq(prefix.bytes())
    }
}

/// The subscriber's own number (a DID in its site's country).
fn own_number(caller: &Caller, country: &Country) -> Number {
    let range = country
        .fixed
        .get((caller.hash >> 40) as usize % country.fixed.len().max(1))
        .copied()
        .unwrap_or("");
    Number::from_hash(caller.hash, country, range)
}

/// A destination country of an international call from `from` (never `from` itself).
fn pick_country(rng: &mut ChaCha8Rng, from: usize) -> usize {
    let total: u32 = COUNTRIES
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != from)
        .map(|(_, c)| c.weight)
        .sum();
    let mut r = rng.random_range(0..total.max(1));
    for (i, c) in COUNTRIES.iter().enumerate() {
        if i == from {
            continue;
        }
        if r < c.weight {
            return i;
        }
        r -= c.weight;
    }
    HOME
}

fn pick_str<'s>(rng: &mut ChaCha8Rng, items: &[&'s str]) -> &'s str {
    if items.is_empty() {
        return "";
    }
    items.get(rng.random_range(0..items.len())).copied().unwrap_or("")
}

/// Appends a UTC instant in milliseconds: `2024-05-03T10:30:00.123Z` (`sep` `T`, `zulu`) or
/// `2024-05-03 10:30:00.123` (the feed's `Release time`).
fn push_instant(out: &mut Vec<u8>, millis: i64, sep: u8, zulu: bool) {
    let (year, month, day) = civil_from_days(millis.div_euclid(MILLIS_PER_DAY));
    let ms = millis.rem_euclid(MILLIS_PER_DAY) as u64;
    push_number(out, year.clamp(0, 9999) as u64, 4);
    out.push(b'-');
    push_number(out, u64::from(month), 2);
    out.push(b'-');
    push_number(out, u64::from(day), 2);
    out.push(sep);
    push_number(out, ms / 3_600_000, 2);
    out.push(b':');
    push_number(out, ms / 60_000 % 60, 2);
    out.push(b':');
    push_number(out, ms / 1000 % 60, 2);
    out.push(b'.');
    push_number(out, ms % 1000, 3);
    if zulu {
        out.push(b'Z');
    }
}
