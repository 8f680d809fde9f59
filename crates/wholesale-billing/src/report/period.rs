//! The period of a usage report: known from the engine for a computed report, given once with
//! [`UsageReport::with_period`] (and checked against the rows' dates) for a report read from CSV;
//! and the one check of the reports given together to a money computation (level and period).

use crate::error::{Error, OutsideRow, Result};
use crate::report::{NO_END, NO_START, ReportLevel, RowData, UsageReport};
use crate::time::{Period, Timestamp};

impl UsageReport {
    /// The period the report covers: the billing period of a computed report, or the one given
    /// with [`UsageReport::with_period`]; `None` for a report read from CSV and not given one.
    ///
    /// ```
    /// use wholesale_billing::{Period, ReadOptions, UsageReport};
    /// let csv = "SKU,QUANTITY\nA-W-WXC-CALL-U,31\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// assert_eq!(report.period(), None);
    /// let may = Period::month(2024, 5)?;
    /// assert_eq!(report.with_period(may)?.period(), Some(may));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn period(&self) -> Option<Period> {
        self.period
    }

    /// The same report, known to cover `period`: what the money computations need of a report
    /// read from CSV, which carries no period. Every row's consumption dates must lie within
    /// `[start 00:00, end + 1 day 00:00)` (a row without dates is not checked); a report that
    /// knows its period already must know this one.
    ///
    /// # Errors
    /// [`Error::RowsOutsidePeriod`] naming the first rows outside the period (by their 1-based
    /// data row number) and how many there are: a report of another period, given by mistake;
    /// [`Error::PeriodMismatch`] for a report that knows another period.
    ///
    /// ```
    /// use wholesale_billing::{Error, Period, ReadOptions, UsageReport};
    /// let csv = "SKU,CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,QUANTITY\n\
    ///            A-W-CA-CALL-U,2024-05-01T00:00:00.000Z,2024-05-31T23:59:59.999Z,31\n\
    ///            A-W-CA-CALL-U,2023-04-13T00:00:00.000Z,2023-05-12T10:00:00.000Z,29.4583\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let err = report.clone().with_period(Period::month(2024, 5)?).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid period: the usage report has 1 row outside 2024-05-01..2024-05-31: \
    ///     row 2 (A-W-CA-CALL-U, 2023-04-13T00:00:00.000Z..2023-05-12T10:00:00.000Z); is it a report of another period?");
    /// let both = Period::from_dates("2023-04-01", "2024-05-31")?;
    /// let report = report.with_period(both)?;
    /// assert_eq!(report.period(), Some(both));
    /// assert!(matches!(report.with_period(Period::month(2024, 5)?), Err(Error::PeriodMismatch { .. })));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn with_period(mut self, period: Period) -> Result<UsageReport> {
        const WHICH: &str = "usage report";
        match self.period {
            Some(p) if p != period => {
                return Err(Error::PeriodMismatch {
                    document: WHICH.to_owned(),
                    found: p,
                    expected: period,
                });
            }
            Some(_) => return Ok(self),
            None => {}
        }
        let (from, until) = (period.start_instant().as_micros(), period.end_exclusive().as_micros());
        let outside = |r: &RowData| {
            (r.start != NO_START && !(from..until).contains(&r.start))
                || (r.end != NO_END && !(from..=until).contains(&r.end))
        };
        let mut bad = self.rows.iter().enumerate().filter(|(_, r)| outside(r));
        let date = |micros: i64, none: i64| (micros != none).then(|| Timestamp::from_micros(micros));
        let rows: Vec<OutsideRow> = bad
            .by_ref()
            .take(3)
            .map(|(i, r)| OutsideRow {
                row: i + 1,
                sku: self.strings.get(r.sku).to_owned(),
                start: date(r.start, NO_START),
                end: date(r.end, NO_END),
            })
            .collect();
        if rows.is_empty() {
            self.period = Some(period);
            return Ok(self);
        }
        let count = rows.len() + bad.count();
        Err(Error::RowsOutsidePeriod {
            report: WHICH.to_owned(),
            period,
            count,
            rows,
        })
    }
}

/// Every report level: what a computation that takes any level accepts.
pub(crate) const ANY_LEVEL: &[ReportLevel] = &[ReportLevel::Partner, ReportLevel::Customer, ReportLevel::User];

/// The one check of the reports given together to a computation (`purpose`, as in "customer
/// billing"), at its entry: each is at one of `levels` and knows its period, and all know the
/// same one, which is returned. `name(i)` names the `i`-th report in messages ("vendor report 2").
///
/// # Errors
/// [`Error::NoReports`] for no report; [`Error::WrongReportLevel`];
/// [`Error::ReportWithoutPeriod`] for a report that does not know its period;
/// [`Error::PeriodMismatch`] naming a report of another period than the first's.
pub(crate) fn billing_period(
    reports: &[&UsageReport],
    purpose: &'static str,
    levels: &'static [ReportLevel],
    name: impl Fn(usize) -> String,
) -> Result<Period> {
    let mut period = None;
    for (i, report) in reports.iter().enumerate() {
        if !levels.contains(&report.level) {
            return Err(Error::WrongReportLevel {
                purpose,
                report: name(i),
                expected: levels,
                found: report.level,
            });
        }
        let Some(found) = report.period else {
            return Err(Error::ReportWithoutPeriod {
                report: name(i),
                purpose,
            });
        };
        match period {
            None => period = Some(found),
            Some(expected) if expected != found => {
                return Err(Error::PeriodMismatch {
                    document: name(i),
                    found,
                    expected,
                });
            }
            Some(_) => {}
        }
    }
    period.ok_or(Error::NoReports { purpose })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ReadOptions;

    fn read(csv: &str) -> UsageReport {
        UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())
            .unwrap()
            .0
    }

    #[test]
    fn billing_period_checks_level_then_period_then_agreement() {
        let may = Period::month(2024, 5).unwrap();
        let june = Period::month(2024, 6).unwrap();
        let user = read("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A,1\n");
        let partner = read("SKU,QUANTITY\nA,1\n").with_period(may).unwrap();
        let name = |i: usize| format!("report {}", i + 1);
        let users = &[ReportLevel::User];

        let err = billing_period(&[&partner], "reconciliation", users, name).unwrap_err();
        assert_eq!(
            err.to_string(),
            "wrong report level: the report 1 is a PARTNER report; reconciliation takes a USER report"
        );
        let err = billing_period(&[&user], "reconciliation", users, name).unwrap_err();
        assert!(matches!(err, Error::ReportWithoutPeriod { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "the report 1 does not say its period, which reconciliation needs: give it its period with \
             `with_period` (a report read from CSV carries none)"
        );
        let in_may = user.clone().with_period(may).unwrap();
        let in_june = user.with_period(june).unwrap();
        let err = billing_period(&[&in_may, &in_may, &in_june], "reconciliation", users, name).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid period: the report 3 covers 2024-06-01..2024-06-30, the billing period is 2024-05-01..2024-05-31"
        );
        assert_eq!(
            billing_period(&[&in_may, &in_may], "reconciliation", users, name).unwrap(),
            may
        );
        assert_eq!(billing_period(&[&partner], "x", ANY_LEVEL, name).unwrap(), may);
        let err = billing_period(&[], "the expected vendor invoice", ANY_LEVEL, name).unwrap_err();
        assert_eq!(
            err.to_string(),
            "there is no usage report for the expected vendor invoice"
        );
    }

    #[test]
    fn with_period_counts_every_row_outside_and_quotes_three() {
        let rows: String = (1..=5)
            .map(|d| format!("A,2024-04-0{d}T00:00:00Z,2024-04-0{d}T01:00:00Z,1\n"))
            .collect();
        let report = read(&format!(
            "SKU,CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,QUANTITY\n{rows}"
        ));
        let err = report.with_period(Period::month(2024, 5).unwrap()).unwrap_err();
        let Error::RowsOutsidePeriod { count, rows, .. } = &err else {
            panic!("{err}");
        };
        assert_eq!((*count, rows.len()), (5, 3));
        assert!(err.to_string().contains("row 3 (A, "), "{err}");
        assert!(
            err.to_string().ends_with(", …; is it a report of another period?"),
            "{err}"
        );
    }
}
