//! Time bands (SPEC §7.4): a set of weekdays and a local clock range `[from, to)`.
//!
//! Weekdays are written `mon` … `sun` (long names, `monday` … `sunday`, and any case are read
//! too; a tariff is written back with the short lower-case names). Clock times are `HH:MM`
//! (`HH:MM:SS` is read too) from `00:00` to `24:00`.

use std::fmt;
use std::hint::select_unpredictable;
use std::str::FromStr;

use chrono::Weekday;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// Nanoseconds in one second.
const NANOS_PER_SECOND: u64 = 1_000_000_000;
/// Seconds in one day: `24:00`.
const SECONDS_PER_DAY: u32 = 86_400;

/// A time of the local day from `00:00` to `24:00`, to the second.
///
/// ```
/// use wholesale_billing::ClockTime;
/// let t: ClockTime = "08:30".parse()?;
/// assert_eq!(t.seconds(), 30_600);
/// assert_eq!(t.to_string(), "08:30");
/// assert_eq!("24:00".parse::<ClockTime>()?.seconds(), 86_400);
/// assert_eq!("07:00:30".parse::<ClockTime>()?.to_string(), "07:00:30");
/// assert!("24:01".parse::<ClockTime>().is_err());
/// assert!("8:30".parse::<ClockTime>().is_err());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u32);

impl ClockTime {
    /// Seconds since the start of the local day (0 to 86,400).
    pub const fn seconds(self) -> u32 {
        self.0
    }

    /// Nanoseconds since the start of the local day.
    pub fn nanos(self) -> u64 {
        u64::from(self.0).saturating_mul(NANOS_PER_SECOND)
    }
}

impl FromStr for ClockTime {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let invalid = || Error::InvalidClockTime { input: s.to_owned() };
        let b = s.as_bytes();
        let two = |at: usize| -> Option<u32> {
            let (h, l) = (*b.get(at)?, *b.get(at + 1)?);
            (h.is_ascii_digit() && l.is_ascii_digit()).then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
        };
        let (hours, minutes, seconds) = match b.len() {
            5 if b[2] == b':' => (two(0), two(3), Some(0)),
            8 if b[2] == b':' && b[5] == b':' => (two(0), two(3), two(6)),
            _ => return Err(invalid()),
        };
        let (Some(h), Some(m), Some(sec)) = (hours, minutes, seconds) else {
            return Err(invalid());
        };
        if m > 59 || sec > 59 {
            return Err(invalid());
        }
        let total = h * 3600 + m * 60 + sec;
        if total > SECONDS_PER_DAY {
            return Err(invalid());
        }
        Ok(ClockTime(total))
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, m, s) = (self.0 / 3600, self.0 / 60 % 60, self.0 % 60);
        // Padded as asked (`{:>8}`), as a `str` is.
        if s == 0 {
            f.pad(&format!("{h:02}:{m:02}"))
        } else {
            f.pad(&format!("{h:02}:{m:02}:{s:02}"))
        }
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The names a weekday is read from, in the message of an unknown one.
const DAY_NAMES: &[&str] = &[
    "mon",
    "tue",
    "wed",
    "thu",
    "fri",
    "sat",
    "sun",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The weekday named `name`: `mon` … `sun` or `monday` … `sunday`, any case.
///
/// # Errors
/// [`Error::UnknownName`] (`what` "weekday") listing the names.
pub(crate) fn parse_weekday(name: &str) -> Result<Weekday> {
    let lower = name.trim().to_ascii_lowercase();
    let index = DAY_NAMES
        .iter()
        .position(|n| *n == lower)
        .ok_or_else(|| Error::UnknownName {
            what: "weekday",
            value: name.to_owned(),
            expected: DAY_NAMES,
        })?;
    Ok(Weekday::try_from((index % 7) as u8).unwrap_or(Weekday::Mon))
}

/// The short lower-case name of a weekday (`mon`).
pub(crate) fn weekday_name(day: Weekday) -> &'static str {
    DAY_NAMES[day.num_days_from_monday() as usize]
}

/// Serde of a list of weekdays: read by [`parse_weekday`], written by [`weekday_name`].
pub(crate) mod weekdays {
    use chrono::Weekday;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    /// One weekday, read by name.
    struct Day(Weekday);

    impl<'de> Deserialize<'de> for Day {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
            super::parse_weekday(&text).map(Day).map_err(serde::de::Error::custom)
        }
    }

    pub(crate) fn serialize<S: Serializer>(days: &[Weekday], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(days.len()))?;
        for day in days {
            seq.serialize_element(super::weekday_name(*day))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Weekday>, D::Error> {
        Ok(Vec::<Day>::deserialize(d)?.into_iter().map(|Day(w)| w).collect())
    }
}

/// A band of a compiled tariff: its name, weekdays and local clock range in nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    name: String,
    /// Bit `n` for the weekday `n` days from Monday.
    days: u8,
    from: u64,
    to: u64,
}

impl Band {
    /// A band of `days` from `from` to `to` (local time).
    ///
    /// # Errors
    /// [`Error::EmptyTariffField`] for an empty name or no day, [`Error::EmptyBandRange`] when
    /// `from` is not before `to`.
    pub(crate) fn new(name: &str, days: &[Weekday], from: ClockTime, to: ClockTime) -> Result<Band> {
        if name.trim().is_empty() {
            return Err(Error::EmptyTariffField { what: "the band name" });
        }
        if days.is_empty() {
            return Err(Error::EmptyTariffField {
                what: "the list of days",
            });
        }
        if from >= to {
            return Err(Error::EmptyBandRange {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        let days = days.iter().fold(0u8, |mask, d| mask | 1 << d.num_days_from_monday());
        Ok(Band {
            name: name.to_owned(),
            days,
            from: from.nanos(),
            to: to.nanos(),
        })
    }

    /// The band's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the band holds a local start on `weekday` at `nanos_of_day` nanoseconds after
    /// local midnight.
    #[inline]
    pub fn holds(&self, weekday: Weekday, nanos_of_day: u64) -> bool {
        self.days & (1 << weekday.num_days_from_monday()) != 0 && self.from <= nanos_of_day && nanos_of_day < self.to
    }

    /// The band's weekdays, Monday first.
    pub fn days(&self) -> impl Iterator<Item = Weekday> + '_ {
        (0u8..7)
            .filter(|d| self.days & (1 << d) != 0)
            .filter_map(|d| Weekday::try_from(d).ok())
    }

    /// The start of the local clock range, in nanoseconds after midnight.
    pub fn from_nanos(&self) -> u64 {
        self.from
    }

    /// The end (excluded) of the local clock range, in nanoseconds after midnight.
    pub fn to_nanos(&self) -> u64 {
        self.to
    }
}

/// The bands of a tariff resolved per weekday, built once: each local day cut into second
/// ranges, each with the first band in tariff order that holds it (or none). The band of a
/// local start is then a short scan of its day's ranges, with no test of days or clock times;
/// or, by the second of the week, one read in a table of the week's minutes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct WeekBands {
    /// The ranges of weekday `w` (days from Monday) are `ranges[starts[w]..starts[w + 1]]`.
    starts: [u32; 8],
    /// Each range's end (excluded), seconds after local midnight, and its band's index; the
    /// ranges of a day follow each other from 0 and the last ends at 86,400.
    ranges: Vec<(u32, Option<u16>)>,
    /// Per minute of the week (from Monday 00:00), the band of all its seconds: its index + 1,
    /// 0 for none, [`WeekBands::SCAN`] when its seconds are not all in one range (a band edge
    /// with seconds) or the band's index is above 253. 10,080 bytes.
    minutes: Vec<u8>,
}

impl WeekBands {
    /// The week of `bands` (in tariff order).
    pub(crate) fn new(bands: &[Band]) -> WeekBands {
        let mut week = WeekBands::default();
        for day in 0u8..7 {
            let weekday = Weekday::try_from(day).unwrap_or(Weekday::Mon);
            // Band edges are whole seconds: every second between two edges has the same band.
            let mut edges: Vec<u32> = bands
                .iter()
                .filter(|b| b.days & (1 << day) != 0)
                .flat_map(|b| [b.from / NANOS_PER_SECOND, b.to / NANOS_PER_SECOND])
                .filter_map(|s| u32::try_from(s).ok())
                .filter(|&s| s > 0 && s < SECONDS_PER_DAY)
                .collect();
            edges.push(SECONDS_PER_DAY);
            edges.sort_unstable();
            edges.dedup();
            let mut start = 0u32;
            for end in edges {
                let at = u64::from(start) * NANOS_PER_SECOND;
                let band = bands
                    .iter()
                    .position(|b| b.holds(weekday, at))
                    .and_then(|i| u16::try_from(i).ok());
                match week.ranges.last_mut() {
                    // The same band as the day's range before: one range.
                    Some(last) if start > 0 && last.1 == band => last.0 = end,
                    _ => week.ranges.push((end, band)),
                }
                start = end;
            }
            let count = u32::try_from(week.ranges.len()).unwrap_or(u32::MAX);
            if let Some(s) = week.starts.get_mut(usize::from(day) + 1) {
                *s = count;
            }
        }
        let ranges = |day: usize| {
            let (start, end) = (week.starts[day] as usize, week.starts[day + 1] as usize);
            week.ranges.get(start..end).unwrap_or_default()
        };
        week.minutes = (0..7)
            .flat_map(|day| {
                let ranges = ranges(day);
                (0..SECONDS_PER_DAY / 60).map(move |minute| {
                    let (first, last) = (minute * 60, minute * 60 + 59);
                    match ranges.iter().find(|(end, _)| first < *end) {
                        Some((end, band)) if last < *end => match band {
                            None => 0,
                            Some(b) => u8::try_from(*b)
                                .ok()
                                .filter(|&b| b < Self::SCAN - 1)
                                .map_or(Self::SCAN, |b| b + 1),
                        },
                        _ => Self::SCAN,
                    }
                })
            })
            .collect();
        week
    }

    /// In [`WeekBands::minutes`]: look in the day's ranges.
    const SCAN: u8 = u8::MAX;

    /// The index of the first band holding the local start `second_of_week` seconds after
    /// Monday 00:00 (0 to 604,799): [`WeekBands::band_at`] of its day and second, mostly read
    /// in the table of the week's minutes.
    #[inline]
    pub(crate) fn band_at_second_of_week(&self, second_of_week: u32) -> Option<u16> {
        let band = self
            .minutes
            .get((second_of_week / 60) as usize)
            .copied()
            .unwrap_or(Self::SCAN);
        if band == Self::SCAN {
            let day = second_of_week / SECONDS_PER_DAY;
            return self.band_at(day as usize, second_of_week - day * SECONDS_PER_DAY);
        }
        // Not a branch: whether a call is in a band is as good as random.
        select_unpredictable(band != 0, Some(u16::from(band).wrapping_sub(1)), None)
    }

    /// The index of the first band holding `second_of_day` (0 to 86,399) on the weekday
    /// `day` days from Monday (0 to 6).
    #[inline]
    pub(crate) fn band_at(&self, day: usize, second_of_day: u32) -> Option<u16> {
        let (Some(&start), Some(&end)) = (self.starts.get(day), self.starts.get(day + 1)) else {
            return None;
        };
        self.ranges
            .get(start as usize..end as usize)?
            .iter()
            .find(|(range_end, _)| second_of_day < *range_end)
            .and_then(|(_, band)| *band)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_by_short_or_long_name_in_any_case() {
        assert_eq!(parse_weekday("sat").unwrap(), Weekday::Sat);
        assert_eq!(parse_weekday("Sunday").unwrap(), Weekday::Sun);
        assert_eq!(parse_weekday("MON").unwrap(), Weekday::Mon);
        let err = parse_weekday("sonntag").unwrap_err();
        assert!(matches!(err, Error::UnknownName { what: "weekday", .. }));
        assert!(
            err.to_string()
                .starts_with("unknown weekday \"sonntag\" (expected one of: mon, tue")
        );
        for day in [Weekday::Mon, Weekday::Wed, Weekday::Sun] {
            assert_eq!(parse_weekday(weekday_name(day)).unwrap(), day);
        }
    }

    #[test]
    fn clock_times() {
        for (text, seconds) in [("00:00", 0), ("23:59", 86_340), ("24:00", 86_400), ("12:00:01", 43_201)] {
            let t: ClockTime = text.parse().unwrap();
            assert_eq!(t.seconds(), seconds);
            assert_eq!(t.to_string(), text);
        }
        for bad in [
            "24:00:01", "25:00", "12:60", "12:00:60", "1200", "12:0", "ab:cd", "", "12:00 ", "+1:00",
        ] {
            assert!(
                matches!(bad.parse::<ClockTime>(), Err(Error::InvalidClockTime { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_minutes_of_the_week_agree_with_the_ranges() {
        let t = |s: &str| s.parse::<ClockTime>().unwrap();
        let bands = [
            Band::new("weekend", &[Weekday::Sat, Weekday::Sun], t("00:00"), t("24:00")).unwrap(),
            // An edge with seconds: its minute is looked up in the ranges.
            Band::new("evening", &[Weekday::Fri, Weekday::Sat], t("18:00:30"), t("23:59:59")).unwrap(),
            Band::new("lunch", &[Weekday::Mon], t("12:00"), t("13:00")).unwrap(),
        ];
        let week = WeekBands::new(&bands);
        assert_eq!(week.minutes.len(), 10_080);
        let day = SECONDS_PER_DAY;
        assert_eq!(week.minutes[(4 * day / 60 + 18 * 60) as usize], WeekBands::SCAN);
        assert_eq!(week.minutes[(12 * 60) as usize], 3);
        for second in (0..7 * day)
            .step_by(7)
            .chain([4 * day + 18 * 3600 + 29, 4 * day + 18 * 3600 + 30])
        {
            let expected = week.band_at((second / day) as usize, second % day);
            assert_eq!(week.band_at_second_of_week(second), expected, "{second}");
        }
        assert_eq!(week.band_at_second_of_week(4 * day + 18 * 3600 + 30), Some(1));
        assert_eq!(week.band_at_second_of_week(4 * day + 18 * 3600 + 29), None);
        assert_eq!(week.band_at_second_of_week(5 * day + 18 * 3600 + 29), Some(0));
        assert_eq!(WeekBands::default().band_at_second_of_week(5 * day), None);
    }

    #[test]
    fn a_band_holds_its_days_from_its_start_to_before_its_end() {
        let t = |s: &str| s.parse::<ClockTime>().unwrap();
        let band = Band::new("evening", &[Weekday::Fri, Weekday::Sat], t("18:00"), t("24:00")).unwrap();
        let six_pm = 18 * 3600 * NANOS_PER_SECOND;
        assert!(band.holds(Weekday::Fri, six_pm));
        assert!(!band.holds(Weekday::Fri, six_pm - 1));
        assert!(band.holds(Weekday::Sat, 24 * 3600 * NANOS_PER_SECOND - 1));
        assert!(!band.holds(Weekday::Thu, six_pm));
        assert_eq!(band.days().collect::<Vec<_>>(), [Weekday::Fri, Weekday::Sat]);
        assert!(matches!(
            Band::new("x", &[Weekday::Mon], t("08:00"), t("08:00")),
            Err(Error::EmptyBandRange { .. })
        ));
        assert!(matches!(
            Band::new("x", &[], t("08:00"), t("09:00")),
            Err(Error::EmptyTariffField { .. })
        ));
    }
}
