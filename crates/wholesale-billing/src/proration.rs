//! Hourly proration (SPEC.md §3): from merged assignment intervals to day quantities and their
//! sum over a period.
//!
//! Everything here is integer arithmetic on microseconds and hours; a quantity is a count of
//! ten-thousandths of a day, rounded half-even once per day.

use serde::{Deserialize, Serialize};

use crate::quantity::{QUANTITY_SCALE, Quantity, div_round_half_even};
use crate::time::{MICROS_PER_DAY, MICROS_PER_HOUR};

string_enum! {
    /// When an hour of assignment counts.
    ///
    /// ```
    /// use wholesale_billing::HourPolicy;
    /// assert_eq!("Completed".parse::<HourPolicy>()?, HourPolicy::Completed);
    /// assert!("hourly".parse::<HourPolicy>().is_err());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum HourPolicy("hour policy") {
        /// An hour counts when any instant of it is assigned (the default).
        #[default]
        Started = "started",
        /// An hour counts when all of it is assigned.
        Completed = "completed",
        /// Not hour-based: the day's quantity is the covered duration, in microseconds, over 24 h.
        Exact = "exact",
    }
}

/// Day quantity of `h` counted hours: `round_half_even(h / 24, 4)` in ten-thousandths.
const HOUR_QUANTITY: [i64; 25] = {
    let mut table = [0i64; 25];
    let mut h = 0;
    while h <= 24 {
        table[h] = div_round_half_even(h as i64 * QUANTITY_SCALE, 24);
        h += 1;
    }
    table
};

/// The quantity of one day of `hours` counted hours (0..=24).
///
/// ```
/// use wholesale_billing::day_quantity_for_hours;
/// assert_eq!(day_quantity_for_hours(12).unwrap().to_string(), "0.5000");
/// assert_eq!(day_quantity_for_hours(1).unwrap().to_string(), "0.0417");
/// assert!(day_quantity_for_hours(25).is_none());
/// ```
pub fn day_quantity_for_hours(hours: u32) -> Option<Quantity> {
    HOUR_QUANTITY
        .get(hours as usize)
        .map(|&q| Quantity::from_ten_thousandths(q))
}

/// The quantity of one day with `micros` microseconds covered under the `exact` policy.
///
/// ```
/// use wholesale_billing::day_quantity_for_micros;
/// assert_eq!(day_quantity_for_micros(30 * 60 * 1_000_000).unwrap().to_string(), "0.0208");
/// ```
pub fn day_quantity_for_micros(micros: i64) -> Option<Quantity> {
    (0..=MICROS_PER_DAY)
        .contains(&micros)
        .then(|| Quantity::from_ten_thousandths(div_round_half_even(micros * QUANTITY_SCALE, MICROS_PER_DAY)))
}

/// The result of prorating one row key over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prorated {
    /// Σ day quantities over the period.
    pub(crate) quantity: Quantity,
    /// Smallest start and largest end of the intervals clipped to the period, if any overlap.
    pub(crate) span: Option<(i64, i64)>,
}

/// Prorates merged, sorted, disjoint intervals over `[period_start, period_end)` (both whole UTC
/// days), after clamping each interval to start no earlier than `clamp_start`.
pub(crate) fn prorate(
    intervals: &[(i64, i64)],
    clamp_start: Option<i64>,
    period_start: i64,
    period_end: i64,
    policy: HourPolicy,
) -> Prorated {
    let mut acc = DayAccumulator::new(policy);
    let mut span: Option<(i64, i64)> = None;
    // Last hour (relative to period_start) already counted, so that two intervals touching the same
    // hour count it once under `started`.
    let mut last_hour: i64 = -1;
    for &(s, e) in intervals {
        let s = clamp_start.map_or(s, |c| s.max(c)).max(period_start);
        let e = e.min(period_end);
        if s >= e {
            continue;
        }
        span = Some(match span {
            None => (s, e),
            Some((a, b)) => (a.min(s), b.max(e)),
        });
        let (rs, re) = (s - period_start, e - period_start);
        match policy {
            HourPolicy::Started | HourPolicy::Completed => {
                let (first, end) = if policy == HourPolicy::Started {
                    (rs / MICROS_PER_HOUR, (re + MICROS_PER_HOUR - 1) / MICROS_PER_HOUR)
                } else {
                    ((rs + MICROS_PER_HOUR - 1) / MICROS_PER_HOUR, re / MICROS_PER_HOUR)
                };
                let first = first.max(last_hour + 1);
                if first < end {
                    acc.add_hours(first, end);
                    last_hour = end - 1;
                }
            }
            HourPolicy::Exact => acc.add_micros(rs, re),
        }
    }
    Prorated {
        quantity: acc.finish(),
        span,
    }
}

/// Sums day quantities, rounding each day once, walking days in increasing order.
struct DayAccumulator {
    policy: HourPolicy,
    total: i64,
    day: i64,
    /// Hours (hour policies) or microseconds (exact) of `day` so far.
    amount: i64,
}

impl DayAccumulator {
    fn new(policy: HourPolicy) -> Self {
        DayAccumulator {
            policy,
            total: 0,
            day: -1,
            amount: 0,
        }
    }

    fn flush(&mut self) {
        if self.amount > 0 {
            self.total += match self.policy {
                HourPolicy::Exact => div_round_half_even(self.amount * QUANTITY_SCALE, MICROS_PER_DAY),
                _ => HOUR_QUANTITY[self.amount.min(24) as usize],
            };
        }
        self.amount = 0;
    }

    fn move_to(&mut self, day: i64) {
        if day != self.day {
            self.flush();
            self.day = day;
        }
    }

    /// Hours `[first, end)`, counted from the period start, in increasing order across calls.
    fn add_hours(&mut self, mut first: i64, end: i64) {
        while first < end {
            let day = first / 24;
            let day_end = (day + 1) * 24;
            if first == day * 24 && end >= day_end {
                // Whole days at once.
                let whole = (end - first) / 24;
                self.move_to(day);
                self.flush();
                self.total += whole * QUANTITY_SCALE;
                self.day = day + whole - 1;
                first += whole * 24;
                continue;
            }
            let seg_end = end.min(day_end);
            self.move_to(day);
            self.amount += seg_end - first;
            first = seg_end;
        }
    }

    /// Microseconds `[s, e)`, counted from the period start, in increasing order across calls.
    fn add_micros(&mut self, mut s: i64, e: i64) {
        while s < e {
            let day = s / MICROS_PER_DAY;
            let day_start = day * MICROS_PER_DAY;
            let day_end = day_start + MICROS_PER_DAY;
            if s == day_start && e >= day_end {
                let whole = (e - s) / MICROS_PER_DAY;
                self.move_to(day);
                self.flush();
                self.total += whole * QUANTITY_SCALE;
                self.day = day + whole - 1;
                s += whole * MICROS_PER_DAY;
                continue;
            }
            let seg_end = e.min(day_end);
            self.move_to(day);
            self.amount += seg_end - s;
            s = seg_end;
        }
    }

    fn finish(mut self) -> Quantity {
        self.flush();
        Quantity::from_ten_thousandths(self.total)
    }
}

/// Day-by-day quantities of a key over a period: the reference the fast path is tested against,
/// and the explanation of a row (`wbill explain` later). Index 0 is the period's first day.
pub(crate) fn day_quantities(
    intervals: &[(i64, i64)],
    clamp_start: Option<i64>,
    period_start: i64,
    days: u32,
    policy: HourPolicy,
) -> Vec<Quantity> {
    (0..i64::from(days))
        .map(|d| {
            let day_start = period_start + d * MICROS_PER_DAY;
            let clipped: Vec<(i64, i64)> = intervals
                .iter()
                .map(|&(s, e)| {
                    (
                        clamp_start.map_or(s, |c| s.max(c)).max(day_start),
                        e.min(day_start + MICROS_PER_DAY),
                    )
                })
                .filter(|(s, e)| s < e)
                .collect();
            match policy {
                HourPolicy::Exact => {
                    let covered: i64 = clipped.iter().map(|(s, e)| e - s).sum();
                    Quantity::from_ten_thousandths(div_round_half_even(covered * QUANTITY_SCALE, MICROS_PER_DAY))
                }
                _ => {
                    let hours = (0..24)
                        .filter(|h| {
                            let hs = day_start + h * MICROS_PER_HOUR;
                            let he = hs + MICROS_PER_HOUR;
                            match policy {
                                HourPolicy::Started => clipped.iter().any(|&(s, e)| s < he && e > hs),
                                _ => clipped.iter().any(|&(s, e)| s <= hs && e >= he),
                            }
                        })
                        .count();
                    Quantity::from_ten_thousandths(HOUR_QUANTITY[hours])
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = MICROS_PER_HOUR;
    const D: i64 = MICROS_PER_DAY;

    fn q(intervals: &[(i64, i64)], days: u32, policy: HourPolicy) -> Quantity {
        prorate(intervals, None, 0, i64::from(days) * D, policy).quantity
    }

    #[test]
    fn hour_table() {
        assert_eq!(HOUR_QUANTITY[24], 10_000);
        assert_eq!(HOUR_QUANTITY[12], 5_000);
        assert_eq!(HOUR_QUANTITY[1], 417);
        assert_eq!(HOUR_QUANTITY[15], 6_250);
        // 5/24 = 0.208333 → 0.2083; 7/24 = 0.291666 → 0.2917
        assert_eq!(HOUR_QUANTITY[5], 2_083);
        assert_eq!(HOUR_QUANTITY[7], 2_917);
    }

    #[test]
    fn seed_examples() {
        assert_eq!(q(&[(0, 12 * H)], 1, HourPolicy::Started).to_string(), "0.5000");
        assert_eq!(q(&[(0, 39 * H)], 2, HourPolicy::Started).to_string(), "1.6250");
    }

    #[test]
    fn package_change_at_half_past_ten() {
        let half = 10 * H + 30 * 60 * 1_000_000;
        let before = [(0, half)];
        let after = [(half, D)];
        // started: hour 10 counts for both packages.
        assert_eq!(
            q(&before, 1, HourPolicy::Started),
            Quantity::from_ten_thousandths(HOUR_QUANTITY[11])
        );
        assert_eq!(
            q(&after, 1, HourPolicy::Started),
            Quantity::from_ten_thousandths(HOUR_QUANTITY[14])
        );
        // completed: hour 10 counts for neither.
        assert_eq!(
            q(&before, 1, HourPolicy::Completed),
            Quantity::from_ten_thousandths(HOUR_QUANTITY[10])
        );
        assert_eq!(
            q(&after, 1, HourPolicy::Completed),
            Quantity::from_ten_thousandths(HOUR_QUANTITY[13])
        );
        // exact: 10.5 h → 0.4375, 13.5 h → 0.5625.
        assert_eq!(q(&before, 1, HourPolicy::Exact).to_string(), "0.4375");
        assert_eq!(q(&after, 1, HourPolicy::Exact).to_string(), "0.5625");
    }

    #[test]
    fn gap_inside_an_hour_counts_the_hour_once() {
        let m = 60 * 1_000_000;
        let intervals = [(10 * H, 10 * H + 10 * m), (10 * H + 40 * m, 11 * H + 5 * m)];
        // started: hours 10 and 11.
        assert_eq!(
            q(&intervals, 1, HourPolicy::Started),
            Quantity::from_ten_thousandths(HOUR_QUANTITY[2])
        );
        // completed: none.
        assert_eq!(q(&intervals, 1, HourPolicy::Completed), Quantity::ZERO);
        // exact: 35 minutes → 35/1440 = 0.024305… → 0.0243.
        assert_eq!(q(&intervals, 1, HourPolicy::Exact).to_string(), "0.0243");
    }

    #[test]
    fn open_interval_stops_at_period_end() {
        let p = prorate(&[(-5 * D, i64::MAX)], None, 0, 3 * D, HourPolicy::Started);
        assert_eq!(p.quantity.to_string(), "3.0000");
        assert_eq!(p.span, Some((0, 3 * D)));
    }

    #[test]
    fn clamp_moves_the_start() {
        let p = prorate(&[(0, 2 * D)], Some(D + 12 * H + 1), 0, 2 * D, HourPolicy::Started);
        assert_eq!(p.quantity.to_string(), "0.5000");
        assert_eq!(p.span, Some((D + 12 * H + 1, 2 * D)));
        let none = prorate(&[(0, D)], Some(2 * D), 0, 2 * D, HourPolicy::Started);
        assert_eq!(none.quantity, Quantity::ZERO);
        assert_eq!(none.span, None);
    }

    #[test]
    fn fast_path_matches_reference_on_a_grid() {
        let m = 60 * 1_000_000;
        let points: Vec<i64> = (-2..100).map(|i| i * 37 * m).collect();
        for policy in HourPolicy::ALL {
            for (i, &a) in points.iter().enumerate() {
                for &b in points[i + 1..].iter().step_by(3) {
                    for &(c, d) in &[(b + 5 * m, b + 2 * H), (b + 24 * H, b + 30 * H + 7), (b, b + 1)] {
                        let intervals = [(a, b), (c, d)];
                        let fast = prorate(&intervals, None, 0, 2 * D, policy).quantity;
                        let slow = Quantity::try_sum(day_quantities(&intervals, None, 0, 2, policy)).unwrap();
                        assert_eq!(fast, slow, "{policy} {intervals:?}");
                    }
                }
            }
        }
    }
}
