//! Instants, dates and report periods, all in UTC.
//!
//! A [`Timestamp`] is an instant counted in whole microseconds since 1970-01-01T00:00:00Z: the
//! resolution of the `exact` hour policy. A [`Period`] is an inclusive range of UTC dates, as the
//! Webex billing API takes them (`billingStartDate` 00:00:00.000 to `billingEndDate` 23:59:59.999).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::error::{Error, Quoted, Result};

/// Microseconds in one second.
pub const MICROS_PER_SECOND: i64 = 1_000_000;
/// Microseconds in one hour.
pub const MICROS_PER_HOUR: i64 = 3_600 * MICROS_PER_SECOND;
/// Microseconds in one (UTC) day.
pub const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// An instant in UTC, with microsecond resolution.
///
/// Parsed from RFC 3339 text with an explicit offset (`Z` or `+02:00`); text without an offset is
/// refused, because the billing contract cannot guess a time zone.
///
/// ```
/// use wholesale_billing::Timestamp;
/// let t: Timestamp = "2024-05-03T12:30:00+02:00".parse()?;
/// assert_eq!(t.to_string(), "2024-05-03T10:30:00Z");
/// assert_eq!(t.to_report_string(), "2024-05-03T10:30:00.000Z");
/// assert!("2024-05-03T10:30:00".parse::<Timestamp>().is_err());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// Why a text is not an RFC 3339 timestamp; `MissingOffset` is told apart because it is the most
/// common mistake in hand-made files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimestampError {
    MissingOffset,
    Invalid(&'static str),
}

impl TimestampError {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            TimestampError::MissingOffset => "no utc offset: write `Z` or `+HH:MM` after the time (rfc 3339)",
            TimestampError::Invalid(reason) => reason,
        }
    }
}

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// The instant `micros` microseconds after the Unix epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (`2024-05-03T10:30:00.123456+02:00`), converting to UTC.
    ///
    /// The date/time separator may be `T`, `t` or a space; fractional seconds may have any number of
    /// digits, of which the first six are kept (truncated toward the past).
    ///
    /// # Errors
    /// [`Error::InvalidTimestamp`] when the text is not RFC 3339 with an offset, or names an
    /// impossible date or time (2024-02-30, 24:00, a leap second).
    ///
    /// ```
    /// use wholesale_billing::Timestamp;
    /// let t = Timestamp::parse_rfc3339("2024-05-01T00:00:00.5Z")?;
    /// assert_eq!(t.as_micros() % 1_000_000, 500_000);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn parse_rfc3339(text: &str) -> Result<Self> {
        parse_rfc3339_bytes(text.as_bytes())
            .map(Timestamp)
            .map_err(|e| Error::InvalidTimestamp {
                input: text.to_owned(),
                reason: e.reason(),
            })
    }

    /// The instant of midnight UTC starting `date`.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use wholesale_billing::Timestamp;
    /// let d = NaiveDate::from_ymd_opt(1970, 1, 2).unwrap();
    /// assert_eq!(Timestamp::start_of_day(d).as_micros(), 86_400_000_000);
    /// ```
    pub fn start_of_day(date: NaiveDate) -> Self {
        Timestamp(day_number(date) * MICROS_PER_DAY)
    }

    /// The UTC date this instant falls on.
    pub fn date(self) -> NaiveDate {
        date_from_day_number(self.0.div_euclid(MICROS_PER_DAY))
    }

    /// The instant as a chrono `DateTime<Utc>`.
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The instant of a chrono `DateTime`, truncated to microseconds.
    pub fn from_datetime<Tz: chrono::TimeZone>(dt: &DateTime<Tz>) -> Self {
        Timestamp(dt.timestamp_micros())
    }

    /// The report form: UTC, truncated to milliseconds, `2024-05-03T10:30:00.000Z`.
    pub fn to_report_string(self) -> String {
        let mut buf = [0u8; 24];
        let text = self.format_report(&mut buf);
        text.to_owned()
    }

    /// Writes the report form into `buf` and returns it; no allocation (used on hot paths).
    pub(crate) fn format_report(self, buf: &mut [u8; 24]) -> &str {
        self.write_report(buf);
        // Every byte written is ASCII.
        std::str::from_utf8(&buf[..]).unwrap_or("")
    }

    /// Writes the report form, 24 ASCII bytes, into `buf` (for writers of bytes, which need no
    /// `str` of it).
    pub(crate) fn write_report(self, buf: &mut [u8; 24]) {
        let millis = self.0.div_euclid(1_000);
        let secs = millis.div_euclid(1_000);
        let ms = millis.rem_euclid(1_000) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        let y = y.clamp(0, 9999) as u32;
        write_digits(&mut buf[0..4], y);
        buf[4] = b'-';
        write_digits(&mut buf[5..7], m);
        buf[7] = b'-';
        write_digits(&mut buf[8..10], d);
        buf[10] = b'T';
        write_digits(&mut buf[11..13], sod / 3600);
        buf[13] = b':';
        write_digits(&mut buf[14..16], sod / 60 % 60);
        buf[16] = b':';
        write_digits(&mut buf[17..19], sod % 60);
        buf[19] = b'.';
        write_digits(&mut buf[20..23], ms);
        buf[23] = b'Z';
    }
}

/// The two digits of each number from 0 to 99, in order.
const DIGIT_PAIRS: &[u8; 200] = b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// Writes the last `out.len()` digits of `value` into `out` (leading zeros included), two at a
/// time from [`DIGIT_PAIRS`].
pub(crate) fn write_digits(out: &mut [u8], mut value: u32) {
    let mut end = out.len();
    while end >= 2 {
        let pair = (value % 100) as usize * 2;
        if let (Some(to), Some(from)) = (out.get_mut(end - 2..end), DIGIT_PAIRS.get(pair..pair + 2)) {
            to.copy_from_slice(from);
        }
        value /= 100;
        end -= 2;
    }
    if end == 1
        && let Some(first) = out.first_mut()
    {
        *first = b'0' + (value % 10) as u8;
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with as many fractional digits as needed (none, 3 or 6).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        let text = self.format_report(&mut buf);
        let micros = self.0.rem_euclid(MICROS_PER_SECOND);
        let base = &text[..19];
        if micros == 0 {
            write!(f, "{base}Z")
        } else if micros % 1_000 == 0 {
            write!(f, "{base}.{:03}Z", micros / 1_000)
        } else {
            write!(f, "{base}.{micros:06}Z")
        }
    }
}

impl FromStr for Timestamp {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Timestamp::parse_rfc3339(s)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse_rfc3339_bytes(text.as_bytes())
            .map(Timestamp)
            .map_err(|e| serde::de::Error::custom(format!("invalid timestamp {}: {}", Quoted(&text), e.reason())))
    }
}

/// The number of the two ASCII digits at `at` in `b`, if they are digits (inlined: where `b`'s
/// length is known, as an instant's first 19 bytes, no bounds check remains).
#[inline(always)]
fn two_digits(b: &[u8], at: usize) -> Option<u32> {
    let hi = b.get(at)?.wrapping_sub(b'0');
    let lo = b.get(at + 1)?.wrapping_sub(b'0');
    (hi < 10 && lo < 10).then_some(u32::from(hi) * 10 + u32::from(lo))
}

/// An RFC 3339 instant taken apart: whole seconds since the epoch in UTC, and the fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rfc3339 {
    /// Whole seconds since 1970-01-01T00:00:00Z (the offset applied).
    pub(crate) secs: i64,
    /// The first nine fraction digits, as nanoseconds.
    pub(crate) nanos: u32,
    /// How many fraction digits were written (0 without a fraction).
    pub(crate) fraction_digits: usize,
}

/// Parses RFC 3339 bytes into microseconds since the epoch (the hot path of the event loader).
pub(crate) fn parse_rfc3339_bytes(b: &[u8]) -> std::result::Result<i64, TimestampError> {
    let parts = parse_rfc3339_parts(b)?;
    Ok(parts.secs * MICROS_PER_SECOND + i64::from(parts.nanos / 1_000))
}

/// Parses RFC 3339 bytes (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, separator `T`, `t` or a
/// space) into UTC seconds and the fraction: the one parser of instants behind [`Timestamp`] and
/// the call records' [`CallTime`](crate::CallTime).
pub(crate) fn parse_rfc3339_parts(b: &[u8]) -> std::result::Result<Rfc3339, TimestampError> {
    use TimestampError::{Invalid, MissingOffset};
    const SHAPE: &str = "not rfc 3339: expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM)";
    if b.len() < 19 {
        if b.len() == 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') {
            return Err(Invalid("a date without a time: write YYYY-MM-DDTHH:MM:SSZ"));
        }
        return Err(Invalid(SHAPE));
    }
    // The first 19 bytes as an array: their digits are read without a bounds check each.
    let Some(head) = b.first_chunk::<19>() else {
        return Err(Invalid(SHAPE));
    };
    let year = match (two_digits(head, 0), two_digits(head, 2)) {
        (Some(c), Some(y)) => i64::from(c * 100 + y),
        _ => return Err(Invalid(SHAPE)),
    };
    if head[4] != b'-'
        || head[7] != b'-'
        || !matches!(head[10], b'T' | b't' | b' ')
        || head[13] != b':'
        || head[16] != b':'
    {
        return Err(Invalid(SHAPE));
    }
    let (Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        two_digits(head, 5),
        two_digits(head, 8),
        two_digits(head, 11),
        two_digits(head, 14),
        two_digits(head, 17),
    ) else {
        return Err(Invalid(SHAPE));
    };
    if !(1..=12).contains(&month) {
        return Err(Invalid("month out of range"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(Invalid("day out of range for the month"));
    }
    if hour > 23 {
        return Err(Invalid("hour out of range"));
    }
    if minute > 59 {
        return Err(Invalid("minute out of range"));
    }
    if second > 59 {
        return Err(Invalid("second out of range (leap seconds are not supported)"));
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    let mut fraction_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        fraction_digits = i - start;
        if fraction_digits == 0 {
            return Err(Invalid("a decimal point without fraction digits"));
        }
        for _ in fraction_digits..9 {
            nanos *= 10;
        }
    }
    let offset_secs: i64 = match b.get(i) {
        None => return Err(MissingOffset),
        Some(b'Z' | b'z') => {
            i += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            let negative = *sign == b'-';
            let (Some(oh), Some(om)) = (two_digits(b, i + 1), two_digits(b, i + 4)) else {
                return Err(Invalid("offset must be Z or ±HH:MM"));
            };
            if b.get(i + 3) != Some(&b':') {
                return Err(Invalid("offset must be Z or ±HH:MM"));
            }
            if oh > 23 || om > 59 {
                return Err(Invalid("offset out of range"));
            }
            i += 6;
            let secs = i64::from(oh * 3600 + om * 60);
            if negative { -secs } else { secs }
        }
        Some(_) => return Err(Invalid(SHAPE)),
    };
    if i != b.len() {
        return Err(Invalid("unexpected text after the offset"));
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_secs;
    Ok(Rfc3339 {
        secs,
        nanos,
        fraction_digits,
    })
}

/// Parses a vendor report's date: RFC 3339; without an offset it is read as UTC (the reports are
/// in UTC); a bare `YYYY-MM-DD` is midnight UTC.
pub(crate) fn parse_report_timestamp(b: &[u8]) -> std::result::Result<i64, TimestampError> {
    match parse_rfc3339_bytes(b) {
        Err(TimestampError::MissingOffset) if b.len() <= 64 => {
            let mut with_z = [0u8; 65];
            with_z[..b.len()].copy_from_slice(b);
            with_z[b.len()] = b'Z';
            parse_rfc3339_bytes(&with_z[..=b.len()])
        }
        Err(_) if b.len() == 10 => {
            let text = std::str::from_utf8(b).map_err(|_| TimestampError::Invalid("not utf-8"))?;
            let date = parse_date(text).map_err(|_| TimestampError::Invalid("not a date or an rfc 3339 timestamp"))?;
            Ok(day_number(date) * MICROS_PER_DAY)
        }
        other => other,
    }
}

pub(crate) fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (days since 1970-01-01).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a chrono date.
pub(crate) fn day_number(date: NaiveDate) -> i64 {
    days_from_civil(i64::from(date.year()), date.month(), date.day())
}

pub(crate) fn date_from_day_number(days: i64) -> NaiveDate {
    let (y, m, d) = civil_from_days(days);
    i32::try_from(y)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
        .unwrap_or(NaiveDate::MIN)
}

/// Parses `YYYY-MM-DD`.
///
/// # Errors
/// [`Error::InvalidDate`] for any other form or an impossible date.
///
/// ```
/// let d = wholesale_billing::parse_date("2024-02-29")?;
/// assert_eq!(d.to_string(), "2024-02-29");
/// assert!(wholesale_billing::parse_date("2023-02-29").is_err());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn parse_date(text: &str) -> Result<NaiveDate> {
    let bad = || Error::InvalidDate {
        input: text.to_owned(),
        expected: "YYYY-MM-DD",
    };
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let (Some(c), Some(y), Some(m), Some(d)) = (two_digits(b, 0), two_digits(b, 2), two_digits(b, 5), two_digits(b, 8))
    else {
        return Err(bad());
    };
    NaiveDate::from_ymd_opt((c * 100 + y) as i32, m, d).ok_or_else(bad)
}

/// An inclusive range of UTC dates: from `start` 00:00:00.000 to `end` 23:59:59.999.
///
/// Parsed from `YYYY-MM-DD..YYYY-MM-DD` or a month `YYYY-MM`.
///
/// ```
/// use wholesale_billing::Period;
/// let may: Period = "2024-05".parse()?;
/// assert_eq!(may.days(), 31);
/// assert_eq!(may.to_string(), "2024-05-01..2024-05-31");
/// let two = Period::from_dates("2024-05-01", "2024-05-02")?;
/// assert_eq!(two.days(), 2);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
}

impl Period {
    /// The period from `start` to `end`, both inclusive.
    ///
    /// # Errors
    /// [`Error::PeriodReversed`] when `start` is after `end`.
    pub fn new(start: NaiveDate, end: NaiveDate) -> Result<Self> {
        if start > end {
            return Err(Error::PeriodReversed { start, end });
        }
        Ok(Period { start, end })
    }

    /// The period between two `YYYY-MM-DD` texts, both inclusive.
    ///
    /// # Errors
    /// [`Error::InvalidDate`] for a malformed date, [`Error::PeriodReversed`] when start > end.
    pub fn from_dates(start: &str, end: &str) -> Result<Self> {
        Period::new(parse_date(start)?, parse_date(end)?)
    }

    /// The whole calendar month `year-month`.
    ///
    /// # Errors
    /// [`Error::InvalidDate`] when the month does not exist.
    ///
    /// ```
    /// let feb = wholesale_billing::Period::month(2024, 2)?;
    /// assert_eq!(feb.days(), 29);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn month(year: i32, month: u32) -> Result<Self> {
        let bad = || Error::InvalidDate {
            input: format!("{year:04}-{month:02}"),
            expected: "an existing month YYYY-MM",
        };
        let start = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
        let end = NaiveDate::from_ymd_opt(year, month, days_in_month(i64::from(year), month)).ok_or_else(bad)?;
        Ok(Period { start, end })
    }

    /// Parses a month `YYYY-MM`.
    ///
    /// # Errors
    /// [`Error::InvalidDate`] for any other form.
    pub fn parse_month(text: &str) -> Result<Self> {
        let b = text.as_bytes();
        let bad = || Error::InvalidDate {
            input: text.to_owned(),
            expected: "YYYY-MM",
        };
        if b.len() != 7 || b[4] != b'-' {
            return Err(bad());
        }
        let (Some(c), Some(y), Some(m)) = (two_digits(b, 0), two_digits(b, 2), two_digits(b, 5)) else {
            return Err(bad());
        };
        Period::month((c * 100 + y) as i32, m).map_err(|_| bad())
    }

    /// The first date (inclusive).
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// The last date (inclusive).
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// The number of days, both ends included.
    pub fn days(&self) -> u32 {
        (day_number(self.end) - day_number(self.start) + 1) as u32
    }

    /// The first instant: `start` 00:00:00 UTC.
    pub fn start_instant(&self) -> Timestamp {
        Timestamp::start_of_day(self.start)
    }

    /// The exclusive end: the day after `end`, 00:00:00 UTC.
    pub fn end_exclusive(&self) -> Timestamp {
        Timestamp((day_number(self.end) + 1) * MICROS_PER_DAY)
    }

    /// Whether `date` lies in the period.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl FromStr for Period {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.split_once("..") {
            Some((a, b)) => Period::from_dates(a.trim(), b.trim()),
            None => Period::parse_month(s.trim()),
        }
    }
}

/// A period serialises as its text, `YYYY-MM-DD..YYYY-MM-DD`, and reads back from it (or from a
/// month, `YYYY-MM`).
///
/// ```
/// use wholesale_billing::Period;
/// let may = Period::month(2024, 5)?;
/// assert_eq!(serde_json::to_string(&may).unwrap(), r#""2024-05-01..2024-05-31""#);
/// assert_eq!(serde_json::from_str::<Period>(r#""2024-05-01..2024-05-31""#).unwrap(), may);
/// assert_eq!(serde_json::from_str::<Period>(r#""2024-05""#).unwrap(), may);
/// assert!(serde_json::from_str::<Period>(r#""2024-05-31..2024-05-01""#).is_err());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
impl serde::Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_written_with_their_leading_zeros() {
        for width in 1..=9usize {
            for value in [
                0u32,
                1,
                9,
                10,
                42,
                99,
                100,
                305,
                999,
                1_000,
                20_24,
                123_456,
                999_999_999,
            ] {
                let mut out = vec![b'x'; width];
                write_digits(&mut out, value);
                let modulus = 10u64.pow(width as u32);
                let expected = format!("{:0width$}", u64::from(value) % modulus);
                assert_eq!(String::from_utf8_lossy(&out), expected, "{value} in {width} digits");
            }
        }
    }

    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (-800_000..800_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn parses_offsets_to_utc() {
        let z = Timestamp::parse_rfc3339("2024-05-03T10:30:00Z").unwrap();
        let plus = Timestamp::parse_rfc3339("2024-05-03T12:30:00+02:00").unwrap();
        let minus = Timestamp::parse_rfc3339("2024-05-03T05:00:00-05:30").unwrap();
        assert_eq!(z, plus);
        assert_eq!(z, minus);
        let chrono = DateTime::parse_from_rfc3339("2024-05-03T12:30:00+02:00").unwrap();
        assert_eq!(z.as_micros(), chrono.timestamp_micros());
    }

    #[test]
    fn offset_can_cross_a_day_and_year() {
        let t = Timestamp::parse_rfc3339("2025-01-01T01:00:00+02:00").unwrap();
        assert_eq!(t.to_report_string(), "2024-12-31T23:00:00.000Z");
    }

    #[test]
    fn fractions_are_truncated_to_micros() {
        let t = Timestamp::parse_rfc3339("2024-05-03T10:30:00.1234569Z").unwrap();
        assert_eq!(t.as_micros() % MICROS_PER_SECOND, 123_456);
        assert_eq!(t.to_string(), "2024-05-03T10:30:00.123456Z");
        assert_eq!(t.to_report_string(), "2024-05-03T10:30:00.123Z");
    }

    #[test]
    fn refuses_bad_timestamps() {
        for (text, missing_offset) in [
            ("2024-05-03T10:30:00", true),
            ("2024-05-03T10:30:00.5", true),
            ("2024-05-03", false),
            ("2024-02-30T10:30:00Z", false),
            ("2024-05-03T24:00:00Z", false),
            ("2024-05-03T10:30:60Z", false),
            ("2024-05-03T10:30:00+0200", false),
            ("2024-05-03T10:30:00Zjunk", false),
            ("2024-05-03T10:30:00.Z", false),
            ("２０２４-05-03T10:30:00Z", false),
            ("", false),
        ] {
            let err = parse_rfc3339_bytes(text.as_bytes()).unwrap_err();
            assert_eq!(err == TimestampError::MissingOffset, missing_offset, "{text}");
        }
    }

    #[test]
    fn leap_day_is_valid() {
        assert!(Timestamp::parse_rfc3339("2024-02-29T00:00:00Z").is_ok());
        assert!(Timestamp::parse_rfc3339("2023-02-29T00:00:00Z").is_err());
        assert!(Timestamp::parse_rfc3339("2000-02-29T00:00:00Z").is_ok());
        assert!(Timestamp::parse_rfc3339("1900-02-29T00:00:00Z").is_err());
    }

    #[test]
    fn period_bounds() {
        let p = Period::from_dates("2024-05-01", "2024-05-31").unwrap();
        assert_eq!(p.start_instant().to_report_string(), "2024-05-01T00:00:00.000Z");
        assert_eq!(p.end_exclusive().to_report_string(), "2024-06-01T00:00:00.000Z");
        assert!(Period::from_dates("2024-05-02", "2024-05-01").is_err());
        assert_eq!("2023-02".parse::<Period>().unwrap().days(), 28);
        assert!("2023-13".parse::<Period>().is_err());
    }

    #[test]
    fn negative_instants_format() {
        let t = Timestamp::from_micros(-1);
        assert_eq!(t.to_report_string(), "1969-12-31T23:59:59.999Z");
        assert_eq!(t.date().to_string(), "1969-12-31");
    }
}
