//! The instants of a fetch and the 12-hour windows that cover them.

use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use crate::error::{Error, Result};

/// The longest window one request may cover: 12 hours.
pub const WINDOW: TimeDelta = TimeDelta::hours(12);

/// The instants of a fetch: `[start, end)`, UTC.
///
/// ```
/// use webex_wholesale_client::cdr::CdrPeriod;
/// use wholesale_billing::Period;
/// let may = CdrPeriod::from_period(&Period::month(2024, 5)?);
/// assert_eq!(may.to_string(), "2024-05-01T00:00:00.000Z..2024-06-01T00:00:00.000Z");
/// assert_eq!(may.windows().count(), 62);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CdrPeriod {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl CdrPeriod {
    /// The period `[start, end)`.
    ///
    /// # Errors
    /// [`Error::CdrEmptyPeriod`] when `end` is not after `start`.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use webex_wholesale_client::cdr::CdrPeriod;
    /// let start = Utc.with_ymd_and_hms(2024, 5, 1, 6, 0, 0).unwrap();
    /// let p = CdrPeriod::new(start, start + chrono::TimeDelta::hours(30))?;
    /// assert_eq!(p.windows().count(), 3);
    /// assert!(CdrPeriod::new(start, start).is_err());
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self> {
        if end <= start {
            return Err(Error::CdrEmptyPeriod {
                start: instant_text(start),
                end: instant_text(end),
            });
        }
        Ok(CdrPeriod { start, end })
    }

    /// The instants of inclusive dates (SPEC §7.1): `[start 00:00, end + 1 day 00:00)` UTC.
    ///
    /// ```
    /// use webex_wholesale_client::cdr::CdrPeriod;
    /// let day = CdrPeriod::from_period(&wholesale_billing::Period::from_dates("2024-05-03", "2024-05-03")?);
    /// assert_eq!(day.windows().count(), 2);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_period(period: &wholesale_billing::Period) -> Self {
        CdrPeriod {
            start: period.start_instant().to_datetime(),
            end: period.end_exclusive().to_datetime(),
        }
    }

    /// The first instant.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The end, exclusive.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// The consecutive windows of at most 12 hours that cover the period, from its start.
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use webex_wholesale_client::cdr::CdrPeriod;
    /// let start = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
    /// let p = CdrPeriod::new(start, start + chrono::TimeDelta::hours(13))?;
    /// let w: Vec<_> = p.windows().map(|w| w.to_string()).collect();
    /// assert_eq!(w, ["2024-05-01T00:00:00.000Z..2024-05-01T12:00:00.000Z",
    ///                "2024-05-01T12:00:00.000Z..2024-05-01T13:00:00.000Z"]);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn windows(&self) -> impl Iterator<Item = CdrWindow> + use<> {
        let end = self.end;
        let mut next = Some(self.start);
        std::iter::from_fn(move || {
            let start = next?;
            let stop = start.checked_add_signed(WINDOW).map_or(end, |e| e.min(end));
            next = (stop < end).then_some(stop);
            Some(CdrWindow { start, end: stop })
        })
    }
}

impl fmt::Display for CdrPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", instant_text(self.start), instant_text(self.end))
    }
}

/// One request window: `[start, end)`, at most 12 hours.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// let start = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
/// let w = webex_wholesale_client::cdr::CdrWindow { start, end: start + chrono::TimeDelta::hours(12) };
/// assert_eq!(w.to_string(), "2024-05-01T00:00:00.000Z..2024-05-01T12:00:00.000Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CdrWindow {
    /// The window's first instant (`startTime`).
    pub start: DateTime<Utc>,
    /// The window's end, exclusive (`endTime`).
    pub end: DateTime<Utc>,
}

impl fmt::Display for CdrWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", instant_text(self.start), instant_text(self.end))
    }
}

/// An instant in the feed's form: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// let t = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
/// assert_eq!(webex_wholesale_client::cdr::instant_text(t), "2024-05-01T12:00:00.000Z");
/// ```
pub fn instant_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_period_once() {
        let p = CdrPeriod::from_period(&wholesale_billing::Period::from_dates("2024-02-01", "2024-02-29").unwrap());
        let windows: Vec<CdrWindow> = p.windows().collect();
        assert_eq!(windows.len(), 58);
        assert_eq!(windows[0].start, p.start());
        assert_eq!(windows[57].end, p.end());
        assert!(windows.windows(2).all(|w| w[0].end == w[1].start));
        assert!(windows.iter().all(|w| w.end - w.start <= WINDOW));
    }
}
