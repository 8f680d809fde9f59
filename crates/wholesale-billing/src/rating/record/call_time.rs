//! [`CallTime`]: the `Start time` of a call record, a UTC instant to the nanosecond.

use std::fmt;
use std::str::FromStr;

use chrono::Weekday;

use crate::error::{Error, Result};
use crate::time::{
    MICROS_PER_SECOND, Period, Rfc3339, Timestamp, TimestampError, day_number, parse_rfc3339_parts, write_digits,
};

/// Nanoseconds in one second.
const NANOS_PER_SECOND: i64 = 1_000_000_000;
/// Nanoseconds in one day.
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;
/// Nanoseconds in one minute.
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;

/// The days of the week from Monday, as `(day number + 3) mod 7` counts them (1970-01-01 was a
/// Thursday).
const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// The instant a call started (`Start time`, SPEC §7.1): nanoseconds since 1970-01-01T00:00:00Z,
/// so any 1677-09-21 to 2262-04-11 instant; others are refused.
///
/// Parsed from RFC 3339 with an offset (`Z` or `±HH:MM`, separator `T`, `t` or a space, 0 to 9
/// fraction digits), converted to UTC: `2024-05-03T10:30:00Z` and `2024-05-03T11:30:00+01:00` are
/// the same instant and compare equal. Text without an offset is refused (the contract cannot
/// guess a time zone).
///
/// `Display` writes UTC with `Z` and the fewest fraction digits among 0, 3, 6 and 9 that keep the
/// value exact: this is how `START_TIME` is written in the rated-records file.
///
/// ```
/// use chrono::Weekday;
/// use wholesale_billing::CallTime;
/// let t: CallTime = "2024-05-03T12:30:00.5+02:00".parse()?;
/// assert_eq!(t, "2024-05-03T10:30:00.500Z".parse()?);
/// assert_eq!(t.to_string(), "2024-05-03T10:30:00.500Z");
/// assert_eq!("2024-05-03T10:30:00.000000001Z".parse::<CallTime>()?.to_string(),
///     "2024-05-03T10:30:00.000000001Z");
/// // Friday 23:30 UTC is Saturday 00:30 at a site one hour east.
/// let t: CallTime = "2024-05-03T23:30:00Z".parse()?;
/// assert_eq!(t.local(60), (Weekday::Sat, 30 * 60 * 1_000_000_000));
/// assert!("2024-05-03T10:30:00".parse::<CallTime>().is_err());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct CallTime(i64);

impl CallTime {
    /// The instant `nanos` nanoseconds after the Unix epoch.
    ///
    /// ```
    /// use wholesale_billing::CallTime;
    /// assert_eq!(CallTime::from_nanos(1_500_000_000).to_string(), "1970-01-01T00:00:01.500Z");
    /// ```
    pub const fn from_nanos(nanos: i64) -> Self {
        CallTime(nanos)
    }

    /// Nanoseconds since the Unix epoch.
    ///
    /// ```
    /// use wholesale_billing::CallTime;
    /// assert_eq!("1970-01-01T00:00:01.000000002Z".parse::<CallTime>()?.as_nanos(), 1_000_000_002);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 text with an offset, as [`CallTime`] says.
    ///
    /// # Errors
    /// [`Error::InvalidTimestamp`] when the text is not RFC 3339 with an offset, has more than 9
    /// fraction digits, names an impossible date or time, or an instant out of range.
    ///
    /// ```
    /// use wholesale_billing::CallTime;
    /// let z = CallTime::parse("2024-05-03T10:30:00Z")?;
    /// assert_eq!(z, CallTime::parse("2024-05-03T10:30:00+00:00")?);
    /// let err = CallTime::parse("2024-05-03T10:30:00").unwrap_err();
    /// assert_eq!(err.to_string(),
    ///     "invalid timestamp \"2024-05-03T10:30:00\": no utc offset: write `Z` or `+HH:MM` after the time (rfc 3339)");
    /// assert!(CallTime::parse("2024-05-03T10:30:00.1234567891Z").is_err());
    /// assert!(CallTime::parse("2263-01-01T00:00:00Z").is_err());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        CallTime::parse_bytes(text.as_bytes()).map_err(|e| Error::InvalidTimestamp {
            input: text.to_owned(),
            reason: e.reason(),
        })
    }

    /// [`CallTime::parse`] on bytes, with the reason of a refusal (the readers' hot path).
    pub(crate) fn parse_bytes(b: &[u8]) -> std::result::Result<Self, TimestampError> {
        let Rfc3339 {
            secs,
            nanos,
            fraction_digits,
        } = parse_rfc3339_parts(b)?;
        if fraction_digits > 9 {
            return Err(TimestampError::Invalid(
                "more than 9 fraction digits: a call time is kept to the nanosecond",
            ));
        }
        let total = i128::from(secs) * i128::from(NANOS_PER_SECOND) + i128::from(nanos);
        i64::try_from(total).map(CallTime).ok().ok_or(TimestampError::Invalid(
            "out of the range of call times (1677-09-21 to 2262-04-11)",
        ))
    }

    /// The local weekday and time of day (nanoseconds since local midnight) at a site
    /// `site_offset_minutes` east of UTC (SPEC §7.4: `Start time + Site timezone minutes`).
    ///
    /// ```
    /// use chrono::Weekday;
    /// use wholesale_billing::CallTime;
    /// // Saturday 01:00 UTC is Friday 20:00 at a site five hours west.
    /// let t = CallTime::parse("2024-05-04T01:00:00Z")?;
    /// assert_eq!(t.local(-300), (Weekday::Fri, 20 * 3_600 * 1_000_000_000));
    /// assert_eq!(t.local(0), (Weekday::Sat, 3_600 * 1_000_000_000));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn local(self, site_offset_minutes: i32) -> (Weekday, u64) {
        // i128: an offset never overflows, whatever the instant.
        let local = i128::from(self.0) + i128::from(site_offset_minutes) * i128::from(NANOS_PER_MINUTE);
        let day = local.div_euclid(i128::from(NANOS_PER_DAY));
        let nanos_of_day = local.rem_euclid(i128::from(NANOS_PER_DAY));
        let weekday = WEEKDAYS[(day + 3).rem_euclid(7) as usize];
        (weekday, nanos_of_day as u64)
    }

    /// Whether the instant falls in `period`, `[start 00:00, end + 1 day 00:00)` UTC (SPEC §7.1).
    ///
    /// ```
    /// use wholesale_billing::{CallTime, Period};
    /// let may = Period::month(2024, 5)?;
    /// assert!(CallTime::parse("2024-05-01T00:00:00Z")?.in_period(&may));
    /// assert!(CallTime::parse("2024-05-31T23:59:59.999999999Z")?.in_period(&may));
    /// assert!(!CallTime::parse("2024-06-01T00:00:00Z")?.in_period(&may));
    /// assert!(!CallTime::parse("2024-05-01T01:59:59+02:00")?.in_period(&may));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn in_period(self, period: &Period) -> bool {
        self.in_range(&CallTime::period_range(period))
    }

    /// The instants of `period` in nanoseconds since 1970-01-01: from its first day's midnight
    /// (UTC) to the midnight after its last day, excluded (computed once for many calls).
    pub(crate) fn period_range(period: &Period) -> std::ops::Range<i128> {
        let start = i128::from(day_number(period.start())) * i128::from(NANOS_PER_DAY);
        let end = (i128::from(day_number(period.end())) + 1) * i128::from(NANOS_PER_DAY);
        start..end
    }

    /// Whether the instant is in `range` ([`CallTime::period_range`]).
    #[inline]
    pub(crate) fn in_range(self, range: &std::ops::Range<i128>) -> bool {
        range.contains(&i128::from(self.0))
    }

    /// The instant truncated to the microsecond, as a [`Timestamp`].
    ///
    /// ```
    /// use wholesale_billing::CallTime;
    /// let t = CallTime::parse("2024-05-03T10:30:00.123456789Z")?;
    /// assert_eq!(t.to_timestamp().to_string(), "2024-05-03T10:30:00.123456Z");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn to_timestamp(self) -> Timestamp {
        Timestamp::from_micros(self.0.div_euclid(1_000))
    }
}

impl From<Timestamp> for CallTime {
    /// The same instant; exact for every timestamp of 1677 to 2262, clamped outside.
    fn from(t: Timestamp) -> Self {
        CallTime(t.as_micros().saturating_mul(1_000))
    }
}

impl CallTime {
    /// The instant as SPEC §7.6 writes it (RFC 3339 in UTC, `Z`, with 0, 3, 6 or 9 fraction
    /// digits: as few as it needs) into `buf`.
    pub(crate) fn format(self, buf: &mut [u8; 32]) -> &str {
        let text = self.write(buf);
        // Every byte written is ASCII.
        std::str::from_utf8(text).unwrap_or("")
    }

    /// [`CallTime::format`] as the bytes of its ASCII (for writers of bytes).
    pub(crate) fn write(self, buf: &mut [u8; 32]) -> &[u8] {
        let secs = self.0.div_euclid(NANOS_PER_SECOND);
        let nanos = self.0.rem_euclid(NANOS_PER_SECOND);
        let mut base = [0u8; 24];
        Timestamp::from_micros(secs.saturating_mul(MICROS_PER_SECOND)).write_report(&mut base);
        let mut len = 19;
        if let (Some(to), Some(from)) = (buf.get_mut(..19), base.get(..19)) {
            to.copy_from_slice(from);
        }
        let (fraction, digits) = if nanos == 0 {
            (0, 0)
        } else if nanos % 1_000_000 == 0 {
            (nanos / 1_000_000, 3)
        } else if nanos % 1_000 == 0 {
            (nanos / 1_000, 6)
        } else {
            (nanos, 9)
        };
        if digits > 0 {
            buf[len] = b'.';
            if let Some(out) = buf.get_mut(len + 1..len + 1 + digits) {
                write_digits(out, fraction as u32);
            }
            len += 1 + digits;
        }
        buf[len] = b'Z';
        buf.get(..=len).unwrap_or_default()
    }
}

impl fmt::Display for CallTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 32];
        f.write_str(self.format(&mut buf))
    }
}

impl FromStr for CallTime {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        CallTime::parse(s)
    }
}

impl serde::Serialize for CallTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_z_are_one_instant() {
        let z = CallTime::parse("2024-05-03T10:30:00Z").unwrap();
        for text in [
            "2024-05-03T10:30:00+00:00",
            "2024-05-03T10:30:00-00:00",
            "2024-05-03t10:30:00z",
            "2024-05-03 10:30:00Z",
            "2024-05-03T12:30:00+02:00",
            "2024-05-03T05:00:00-05:30",
            "2024-05-03T10:30:00.000000000Z",
        ] {
            assert_eq!(CallTime::parse(text).unwrap(), z, "{text}");
        }
    }

    #[test]
    fn fraction_digits_zero_to_nine() {
        let base = CallTime::parse("2024-05-03T10:30:00Z").unwrap().as_nanos();
        for (fraction, nanos) in [
            (".1", 100_000_000),
            (".12", 120_000_000),
            (".123", 123_000_000),
            (".1234", 123_400_000),
            (".123456789", 123_456_789),
            (".000000001", 1),
        ] {
            let t = CallTime::parse(&format!("2024-05-03T10:30:00{fraction}Z")).unwrap();
            assert_eq!(t.as_nanos() - base, nanos, "{fraction}");
        }
        assert!(CallTime::parse("2024-05-03T10:30:00.1234567890Z").is_err());
        assert!(CallTime::parse("2024-05-03T10:30:00.Z").is_err());
    }

    #[test]
    fn display_uses_the_fewest_of_0_3_6_9_digits() {
        for (text, shown) in [
            ("2024-05-03T10:30:00Z", "2024-05-03T10:30:00Z"),
            ("2024-05-03T10:30:00.5Z", "2024-05-03T10:30:00.500Z"),
            ("2024-05-03T10:30:00.1234Z", "2024-05-03T10:30:00.123400Z"),
            ("2024-05-03T10:30:00.1234567Z", "2024-05-03T10:30:00.123456700Z"),
            ("1969-12-31T23:59:59.999999999Z", "1969-12-31T23:59:59.999999999Z"),
        ] {
            let t = CallTime::parse(text).unwrap();
            assert_eq!(t.to_string(), shown);
            assert_eq!(CallTime::parse(shown).unwrap(), t);
        }
    }

    #[test]
    fn missing_offset_and_range_are_refused() {
        assert_eq!(
            CallTime::parse_bytes(b"2024-05-03T10:30:00"),
            Err(TimestampError::MissingOffset)
        );
        assert!(CallTime::parse("1677-09-21T00:12:43.145224191Z").is_err());
        assert!(CallTime::parse("1677-09-21T00:12:43.145224192Z").is_ok());
        assert!(CallTime::parse("2262-04-11T23:47:16.854775807Z").is_ok());
        assert!(CallTime::parse("2262-04-11T23:47:16.854775808Z").is_err());
    }

    #[test]
    fn local_time_crosses_days_both_ways() {
        let t = CallTime::parse("2024-05-04T00:30:00Z").unwrap(); // a Saturday
        assert_eq!(t.local(0).0, Weekday::Sat);
        assert_eq!(t.local(-31), (Weekday::Fri, (23 * 60 + 59) * 60 * 1_000_000_000));
        assert_eq!(t.local(1440), (Weekday::Sun, 30 * 60 * 1_000_000_000));
        let epoch = CallTime::from_nanos(-1);
        assert_eq!(epoch.local(0), (Weekday::Wed, 86_400 * 1_000_000_000 - 1));
        assert_eq!(
            CallTime::from_nanos(i64::MIN).local(-1440).0,
            CallTime::from_nanos(i64::MIN).local(0).0.pred()
        );
    }
}
