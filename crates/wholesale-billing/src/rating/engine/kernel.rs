//! The rating of one call leg (SPEC §7.2–§7.4, §7.7): status, destination, band, billable seconds
//! and charge, from its parsed fields, allocation-free.

use crate::error::Result;
use crate::rating::{
    BandId, CallTime, CallType, ClassId, DestinationId, Direction, Price, Tariff, TariffAmount, charge,
};

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
    let tollfree = match (call.direction, call.call_type, tariff.tollfree_destination()) {
        (Direction::Terminating, CallType::SipTollfree, Some(d)) => Some(d),
        _ => None,
    };
    let status = if !call.known_customer {
        RatingStatus::UnknownCustomer
    } else if call.direction == Direction::Terminating && tollfree.is_none() {
        RatingStatus::Terminating
    } else if !call.answered {
        RatingStatus::NotAnswered
    } else if call.duration == 0 {
        RatingStatus::ZeroDuration
    } else if tollfree.is_none() && !tariff.charges(call.call_type) {
        RatingStatus::NotChargedCallType
    } else {
        RatingStatus::Charged
    };
    if status != RatingStatus::Charged {
        return Ok(RatedCall::uncharged(status));
    }
    let (destination, prefix_len) = match tollfree {
        Some(d) => (d, 0),
        None => match tariff.lookup_number(call.called_number) {
            Some(found) => found,
            None => return Ok(RatedCall::uncharged(RatingStatus::NoDestination)),
        },
    };
    let Some(d) = tariff.destination(destination) else {
        return Ok(RatedCall::uncharged(RatingStatus::NoDestination));
    };
    let band = tariff.band_of_start(call.start_time, call.site_timezone);
    let billable_seconds = d.billable_seconds(u64::from(call.duration))?;
    let price = tariff.price(destination, band);
    let charge = charge(price, billable_seconds, tariff.rating_decimals())?;
    Ok(RatedCall {
        status,
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
pub(crate) fn push_digits(number: &str, out: &mut String) {
    out.extend(number.chars().filter(char::is_ascii_digit));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_of_any_length_and_punctuation() {
        let tariff = crate::rating::TariffDocument::from_toml_str(
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
        let mut s = String::new();
        push_digits("+44 (20) 7946-0000", &mut s);
        assert_eq!(s, "442079460000");
    }
}
