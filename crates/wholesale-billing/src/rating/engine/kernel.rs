//! The rating of one call leg (SPEC §7.2–§7.4, §7.7): status, destination, band, billable seconds
//! and charge, from its parsed fields, allocation-free.

use crate::error::Result;
use crate::rating::{
    BandId, CallTime, CallType, ClassId, DestinationId, Direction, Price, Tariff, TariffAmount, charge,
};

use crate::rating::tariff::{LANES, billable_seconds_u32};

use super::status::RatingStatus;

/// The fields of a call leg the kernel rates.
///
/// ```
/// use wholesale_billing::{CallInput, CallTime, CallType, Direction};
/// let call = CallInput {
///     known_customer: true,
///     direction: Direction::Originating,
///     call_type: CallType::SipMobile,
///     answered: true,
///     duration: 61,
///     called_number: "+44 7700 900123",
///     start_time: CallTime::parse("2024-05-04T10:00:00Z")?,
///     site_timezone: 0,
/// };
/// assert_eq!(call.duration, 61);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallInput<'a> {
    /// Whether the record's `Org UUID` is a customer.
    pub known_customer: bool,
    /// `Direction`.
    pub direction: Direction,
    /// `Call type`.
    pub call_type: CallType,
    /// `Answered`.
    pub answered: bool,
    /// `Duration`, whole seconds.
    pub duration: u32,
    /// `Called number`, as given.
    pub called_number: &'a str,
    /// `Start time`.
    pub start_time: CallTime,
    /// `Site timezone`, minutes east of UTC.
    pub site_timezone: i16,
}

/// A call leg rated without allowances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatedCall {
    /// The status.
    pub status: RatingStatus,
    /// The destination (charged records only).
    pub destination: Option<DestinationId>,
    /// The class of the destination (charged records only).
    pub class: Option<ClassId>,
    /// The length of the matched prefix; 0 for a toll-free leg and uncharged records.
    pub prefix_len: usize,
    /// The band that holds the local start (charged records only), even when the destination
    /// gives no price for it.
    pub band: Option<BandId>,
    /// Billable seconds (0 when not charged).
    pub billable_seconds: u64,
    /// The price applied (the band's where the destination gives one); zero when not charged.
    pub price: Price,
    /// The charge in units of 10^−`rating_decimals`, before any allowance.
    pub charge: i64,
}

impl RatedCall {
    const fn uncharged(status: RatingStatus) -> Self {
        RatedCall {
            status,
            destination: None,
            class: None,
            prefix_len: 0,
            band: None,
            billable_seconds: 0,
            price: Price {
                connect_fee: TariffAmount::ZERO,
                per_minute: TariffAmount::ZERO,
            },
            charge: 0,
        }
    }
}

/// Rates one call leg at `tariff`: the status of SPEC §7.7 (first that applies:
/// `unknown_customer`, `terminating`, `not_answered`, `zero_duration`, `not_charged_call_type`,
/// then `charged` or `no_destination`); for a charged leg the destination of the longest prefix
/// of the called number's digits (a toll-free terminating leg: the tariff's toll-free
/// destination, no prefix), the first band in tariff order holding the local start, the billable
/// seconds by increments and the charge rounded half-even to `rating_decimals`. Allocates nothing.
///
/// The work that does not depend on the call is done once per tariff: the prefix table's
/// first level ([`Tariff::lookup_number`]), the bands of each weekday as second ranges
/// ([`Tariff::band_of_start`]), prices in integer millionths ([`charge`]).
///
/// # Errors
/// [`Error::Overflow`](crate::Error::Overflow) when the billable seconds or the charge do not fit.
///
/// ```
/// use wholesale_billing::{CallInput, CallTime, CallType, Decimal, Direction, RatingStatus, TariffDocument, rate_call};
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
/// connect_fee = "0.10"
/// per_minute = "0.03"
/// initial = 60
/// subsequent = 1
/// bands = { weekend = { per_minute = "0.015" } }
/// "#)?.compile()?;
/// let mut call = CallInput {
///     known_customer: true, direction: Direction::Originating, call_type: CallType::SipMobile,
///     answered: true, duration: 61, called_number: "+44 7700 900123",
///     start_time: CallTime::parse("2024-05-03T10:00:00Z")?, site_timezone: 0,
/// };
/// // Friday: 0.10 + 0.03 × 61 / 60 = 0.1305.
/// let rated = rate_call(&tariff, &call)?;
/// assert_eq!((rated.status, rated.prefix_len, rated.billable_seconds), (RatingStatus::Charged, 3, 61));
/// assert_eq!(Decimal::new(rated.charge, 4).to_string(), "0.1305");
/// // Friday 23:30 UTC is Saturday 00:30 at a site one hour east: the weekend band.
/// call.start_time = CallTime::parse("2024-05-03T23:30:00Z")?;
/// call.site_timezone = 60;
/// let rated = rate_call(&tariff, &call)?;
/// assert_eq!(tariff.band(rated.band.unwrap()).unwrap().name(), "weekend");
/// assert_eq!(Decimal::new(rated.charge, 4).to_string(), "0.1152"); // 0.11525 half-even
/// call.answered = false;
/// assert_eq!(rate_call(&tariff, &call)?.status, RatingStatus::NotAnswered);
/// call.known_customer = false;
/// assert_eq!(rate_call(&tariff, &call)?.status, RatingStatus::UnknownCustomer);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[inline]
pub fn rate_call(tariff: &Tariff, call: &CallInput<'_>) -> Result<RatedCall> {
    match status(tariff, call) {
        Rating::Uncharged(status) => Ok(RatedCall::uncharged(status)),
        Rating::TollFree(destination) => priced(tariff, call, destination, 0),
        Rating::Lookup => match tariff.lookup_number(call.called_number) {
            Some((destination, prefix_len)) => priced(tariff, call, destination, prefix_len),
            None => Ok(RatedCall::uncharged(RatingStatus::NoDestination)),
        },
    }
}

impl Tariff {
    /// Rates `calls` as [`rate_call`] rates each, appending the results to `out` in the order
    /// of `calls`; faster on many calls: the longest-prefix lookups of 16 calls at a time are
    /// interleaved, one level of the prefix table at a time across the calls, so that their
    /// memory reads (random reads in a table of megabytes) wait together rather than one
    /// after the other.
    ///
    /// # Errors
    /// [`Error::Overflow`](crate::Error::Overflow) as [`rate_call`]; `out` then holds the
    /// results of the calls before the one that failed (its index in `calls` is the number of
    /// results appended).
    ///
    /// ```
    /// use wholesale_billing::{CallInput, CallTime, CallType, Direction, RatingStatus, TariffDocument, rate_call};
    /// let tariff = TariffDocument::from_toml_str(r#"
    /// currency = "GBP"
    /// [[destinations]]
    /// name = "UK mobile"
    /// class = "mobile"
    /// prefixes = ["447"]
    /// per_minute = "0.03"
    /// initial = 60
    /// subsequent = 1
    /// [[destinations]]
    /// name = "UK London"
    /// class = "national"
    /// prefixes = ["4420"]
    /// per_minute = "0.01"
    /// initial = 60
    /// subsequent = 60
    /// "#)?.compile()?;
    /// let call = |number, duration| CallInput {
    ///     known_customer: true, direction: Direction::Originating, call_type: CallType::SipMobile,
    ///     answered: true, duration, called_number: number,
    ///     start_time: CallTime::parse("2024-05-03T10:00:00Z").unwrap(), site_timezone: 0,
    /// };
    /// let calls: Vec<CallInput> = (0..40)
    ///     .map(|i| call(["+44 7700 900123", "+44 20 7946 0000", "+1 212 555 0100"][i % 3], 1 + i as u32 * 7))
    ///     .collect();
    /// let mut rated = Vec::new();
    /// tariff.rate_calls(&calls, &mut rated)?;
    /// assert_eq!(rated.len(), 40);
    /// for (call, rated) in calls.iter().zip(&rated) {
    ///     assert_eq!(*rated, rate_call(&tariff, call)?);
    /// }
    /// assert_eq!((rated[1].status, rated[1].prefix_len, rated[1].billable_seconds), (RatingStatus::Charged, 4, 60));
    /// assert_eq!(rated[2].status, RatingStatus::NoDestination);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn rate_calls(&self, calls: &[CallInput<'_>], out: &mut Vec<RatedCall>) -> Result<()> {
        out.reserve(calls.len());
        let mut ratings = [Rating::Lookup; LANES];
        let mut numbers: [&[u8]; LANES] = [&[]; LANES];
        let mut found = [(0, 0); LANES];
        for chunk in calls.chunks(LANES) {
            let mut lookups = 0usize;
            for (call, rating) in chunk.iter().zip(ratings.iter_mut()) {
                *rating = status(self, call);
                // Written at every call, kept by the calls to look up: no branch. At most
                // LANES - 1 before the last call of a chunk: the index is in bounds.
                numbers[lookups & (LANES - 1)] = call.called_number.as_bytes();
                lookups = lookups.wrapping_add(usize::from(*rating == Rating::Lookup));
            }
            self.lookup_numbers(&numbers, lookups, &mut found);
            // The destinations found, read together before the pricing reads them one call at
            // a time: their reads (random, in a table of hundreds of kilobytes) then overlap
            // instead of each holding up its call. `black_box` keeps the reads, whose values
            // are not needed here (the pricing reads them again, from the L1 cache): 6 % off
            // `uniform_batch` for 9 instructions a call.
            let mut read = 0u32;
            for &(destination, _) in found.iter().take(lookups) {
                let d = self.destinations().get(destination.wrapping_sub(1) as usize);
                read ^= d.map_or(0, |d| d.initial().get());
            }
            std::hint::black_box(read);
            let mut found = found.iter();
            for (call, rating) in chunk.iter().zip(ratings) {
                let rated = match rating {
                    Rating::Uncharged(status) => RatedCall::uncharged(status),
                    Rating::TollFree(destination) => priced(self, call, destination, 0)?,
                    Rating::Lookup => match found.next().and_then(|&f| Tariff::found(f)) {
                        Some((destination, prefix_len)) => priced(self, call, destination, prefix_len)?,
                        None => RatedCall::uncharged(RatingStatus::NoDestination),
                    },
                };
                out.push(rated);
            }
        }
        Ok(())
    }
}

/// What the status of a call leaves to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rating {
    /// Nothing: the call is not charged, for this reason.
    Uncharged(RatingStatus),
    /// A toll-free leg: priced at this destination.
    TollFree(DestinationId),
    /// A charged leg: priced at the destination of its called number's longest prefix.
    Lookup,
}

/// The statuses of an uncharged call, in SPEC §7.7's order of precedence.
const UNCHARGED: [RatingStatus; 5] = [
    RatingStatus::UnknownCustomer,
    RatingStatus::Terminating,
    RatingStatus::NotAnswered,
    RatingStatus::ZeroDuration,
    RatingStatus::NotChargedCallType,
];

/// The status of SPEC §7.7 of `call`, up to its destination.
#[inline]
fn status(tariff: &Tariff, call: &CallInput<'_>) -> Rating {
    let terminating = call.direction == Direction::Terminating;
    let tollfree = tariff
        .tollfree_destination()
        .filter(|_| terminating & (call.call_type == CallType::SipTollfree));
    // The reasons not to charge, one a bit in the order of [`UNCHARGED`]: the first that
    // applies is the status. Not branched on one by one: for a run of calls they are as good
    // as random.
    let reasons = u32::from(!call.known_customer)
        | u32::from(terminating & tollfree.is_none()) << 1
        | u32::from(!call.answered) << 2
        | u32::from(call.duration == 0) << 3
        | u32::from(tollfree.is_none() & !tariff.charges(call.call_type)) << 4;
    match UNCHARGED.get(reasons.trailing_zeros() as usize) {
        Some(&status) => Rating::Uncharged(status),
        None => tollfree.map_or(Rating::Lookup, Rating::TollFree),
    }
}

/// A charged `call` priced at `destination`, found by a prefix of `prefix_len` digits.
#[inline(always)]
fn priced(tariff: &Tariff, call: &CallInput<'_>, destination: DestinationId, prefix_len: usize) -> Result<RatedCall> {
    let Some(d) = tariff.destination(destination) else {
        return Ok(RatedCall::uncharged(RatingStatus::NoDestination));
    };
    let band = tariff.band_of_start(call.start_time, call.site_timezone);
    let billable_seconds = billable_seconds_u32(call.duration, d.initial(), d.subsequent());
    let price = tariff.price_at(d, band);
    let charge = charge(price, billable_seconds, tariff.rating_decimals())?;
    Ok(RatedCall {
        status: RatingStatus::Charged,
        destination: Some(destination),
        class: Some(d.class()),
        prefix_len,
        band,
        billable_seconds,
        price,
        charge,
    })
}

/// The digits of `number` (every other character removed), appended to `out`.
pub(crate) fn push_digits(number: &str, out: &mut Vec<u8>) {
    // An ASCII digit is one byte of UTF-8, and no byte of another character.
    out.extend(number.bytes().filter(u8::is_ascii_digit));
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::rating::TariffDocument;

    /// A tariff of `prefixes` spread over `destinations` destinations (prices, increments and
    /// band prices drawn from `seed`), with `bands` bands of the tariff, toll-free legs at the
    /// destination `tollfree` if any, `charged` the bits of the charged call types.
    fn tariff(
        prefixes: &[String],
        destinations: usize,
        bands: usize,
        tollfree: Option<usize>,
        charged: u16,
        seed: u64,
    ) -> Tariff {
        let mut rng = seed;
        let mut draw = |n: u64| {
            rng = rng
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (rng >> 33) % n
        };
        let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let types: Vec<String> = CallType::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| charged & (1 << i) != 0)
            .map(|(_, t)| format!("\"{t}\""))
            .collect();
        let mut toml = format!(
            "currency = \"USD\"\nrating_decimals = {}\ncharged_call_types = [{}]\n",
            draw(7),
            types.join(", ")
        );
        if let Some(t) = tollfree {
            toml.push_str(&format!("tollfree_destination = \"D{}\"\n", t % destinations));
        }
        for b in 0..bands {
            let from = draw(24 * 60);
            let to = from + 1 + draw(24 * 60 - from);
            let on: Vec<String> = days
                .iter()
                .filter(|_| draw(2) == 0)
                .map(|d| format!("\"{d}\""))
                .collect();
            let on = if on.is_empty() { vec!["\"sat\"".to_owned()] } else { on };
            toml.push_str(&format!(
                "[[bands]]\nname = \"b{b}\"\ndays = [{}]\nfrom = \"{:02}:{:02}\"\nto = \"{:02}:{:02}\"\n",
                on.join(", "),
                from / 60,
                from % 60,
                to / 60,
                to % 60
            ));
        }
        let money = |v: u64| format!("{}.{:06}", v / 1_000_000, v % 1_000_000);
        for d in 0..destinations {
            let mine: Vec<String> = prefixes
                .iter()
                .enumerate()
                .filter(|(i, _)| i % destinations == d)
                .map(|(_, p)| format!("\"{p}\""))
                .collect();
            // Now and then a price whose charge overflows.
            let per_minute = if draw(15) == 0 {
                9_000_000_000_000_000_000
            } else {
                draw(5_000_000)
            };
            toml.push_str(&format!(
                "[[destinations]]\nname = \"D{d}\"\nclass = \"c{}\"\nprefixes = [{}]\nconnect_fee = \"{}\"\n\
                 per_minute = \"{}\"\ninitial = {}\nsubsequent = {}\n",
                d % 3,
                mine.join(", "),
                money(draw(200_000)),
                money(per_minute),
                1 + draw(90),
                1 + draw(90)
            ));
            let mut priced = Vec::new();
            for b in 0..bands {
                if draw(2) == 0 {
                    priced.push(format!("b{b} = {{ per_minute = \"{}\" }}", money(draw(5_000_000))));
                }
            }
            if !priced.is_empty() {
                toml.push_str(&format!("bands = {{ {} }}\n", priced.join(", ")));
            }
        }
        TariffDocument::from_toml_str(&toml).unwrap().compile().unwrap()
    }

    /// The fields of a call leg: known customer, terminating, call type (index), answered,
    /// duration, called number (a prefix's index to go under, and what follows it), start time
    /// (nanoseconds), site time zone.
    type Fields = (bool, bool, usize, bool, u32, (Option<usize>, String), i64, i16);

    /// A call leg of arbitrary fields.
    fn call_input() -> impl Strategy<Value = Fields> {
        (
            proptest::bool::weighted(0.95),
            proptest::bool::weighted(0.3),
            0..CallType::ALL.len(),
            proptest::bool::weighted(0.9),
            prop_oneof![0u32..4_000, Just(0), Just(u32::MAX)],
            (proptest::option::weighted(0.7, any::<usize>()), "[0-3 +()-]{0,16}"),
            0i64..4_000_000_000_000_000_000,
            -720i16..=840,
        )
    }

    proptest! {
        #[test]
        fn rating_in_batches_is_rating_one_by_one(
            prefixes in proptest::collection::btree_set("[0-3]{1,7}", 1..60),
            destinations in 1usize..6,
            bands in 0usize..3,
            tollfree in proptest::option::of(0usize..6),
            charged in any::<u16>(),
            seed in any::<u64>(),
            fields in proptest::collection::vec(call_input(), 0..70),
        ) {
            let prefixes: Vec<String> = prefixes.into_iter().collect();
            let tariff = tariff(&prefixes, destinations.min(prefixes.len()), bands, tollfree, charged, seed);
            // Most numbers under a prefix of the tariff, with punctuation.
            let numbers: Vec<String> = fields
                .iter()
                .map(|(.., (under, tail), _, _)| match under {
                    Some(i) => format!("+{}{tail}", prefixes[i % prefixes.len()]),
                    None => tail.clone(),
                })
                .collect();
            let calls: Vec<CallInput<'_>> = fields
                .iter()
                .zip(&numbers)
                .map(|((known, terminating, call_type, answered, duration, _, nanos, zone), number)| CallInput {
                    known_customer: *known || *terminating,
                    direction: if *terminating { Direction::Terminating } else { Direction::Originating },
                    call_type: CallType::ALL[*call_type],
                    answered: *answered,
                    duration: *duration,
                    called_number: number,
                    start_time: CallTime::from_nanos(*nanos),
                    site_timezone: *zone,
                })
                .collect();
            let mut one_by_one = Vec::new();
            let mut failed = false;
            for call in &calls {
                match rate_call(&tariff, call) {
                    Ok(rated) => one_by_one.push(rated),
                    Err(_) => {
                        failed = true;
                        break;
                    }
                }
            }
            // Appended after what `out` holds.
            let mut batch = vec![RatedCall::uncharged(RatingStatus::Terminating)];
            let result = tariff.rate_calls(&calls, &mut batch);
            prop_assert_eq!(result.is_err(), failed);
            prop_assert_eq!(batch.first().map(|r| r.status), Some(RatingStatus::Terminating));
            prop_assert_eq!(&batch[1..], &one_by_one[..]);
        }
    }

    #[test]
    fn numbers_of_any_length_and_punctuation() {
        let tariff = TariffDocument::from_toml_str(
            "currency = \"USD\"\n[[destinations]]\nname = \"X\"\nclass = \"c\"\nprefixes = [\"12\"]\n\
             per_minute = \"1\"\ninitial = 1\nsubsequent = 1\n",
        )
        .unwrap()
        .compile()
        .unwrap();
        let long = format!("+1 2{}", "3".repeat(100));
        assert_eq!(tariff.lookup_number(&long).map(|(_, l)| l), Some(2));
        assert_eq!(tariff.lookup_number("(1) 2"), tariff.lookup_number("12"));
        assert_eq!(tariff.lookup_number("+1 2 3 4 5"), tariff.lookup(b"12345"));
        let mut s = Vec::new();
        push_digits("+44 (20) 7946-0000", &mut s);
        assert_eq!(s, b"442079460000");
        s.clear();
        push_digits("٣ +1 ²2", &mut s);
        assert_eq!(s, b"12");
    }
}
