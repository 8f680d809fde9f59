//! What the server counted since it started (served at `GET /sandbox/stats`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::NaiveDate;
use serde::Serialize;
use wholesale_billing::ReportLevel;

/// The server's counters since it started (they are not kept across restarts).
///
/// ```
/// use webex_sandbox::Stats;
/// let stats = Stats::default();
/// assert_eq!(stats.reports_created, 0);
/// assert_eq!(stats.reports_created_for("p-1", "2024-05-01", "2024-05-31", wholesale_billing::ReportLevel::User), 0);
/// let json = serde_json::to_value(&stats).unwrap();
/// assert_eq!(json["download_auth_refusals"], 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Every request served, except those to `/sandbox/stats`.
    pub requests: u64,
    /// Requests to the Webex APIs (`/v1/...`), faulted ones included.
    pub webex_requests: u64,
    /// Reports created (a lost create included).
    pub reports_created: u64,
    /// Reports created per (organisation, period, type), in key order.
    pub reports_created_by_key: Vec<ReportCount>,
    /// Download requests refused because they carried an `Authorization` header.
    pub download_auth_refusals: u64,
    /// Report CSVs served.
    pub downloads: u64,
    /// Faults injected (429s, 503s, lost creates and failed creates).
    pub faults_injected: u64,
    /// Injected 429 answers.
    pub faults_429: u64,
    /// Injected 503 answers (not counting lost creates).
    pub faults_5xx: u64,
    /// Creations carried out and answered 503.
    pub lost_creates: u64,
    /// Creations accepted whose report was made to fail.
    pub failed_creates: u64,
}

/// The number of reports created for one (organisation, period, type).
///
/// ```
/// let stats = webex_sandbox::Stats::default();
/// // One entry per key that saw a creation, in key order.
/// assert!(stats.reports_created_by_key.iter().all(|c| c.count > 0));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct ReportCount {
    /// The organisation the reports cover.
    pub org_id: String,
    /// `billingStartDate` (`YYYY-MM-DD`).
    pub billing_start_date: String,
    /// `billingEndDate` (`YYYY-MM-DD`).
    pub billing_end_date: String,
    /// `type`.
    #[serde(rename = "type")]
    pub report_type: ReportLevel,
    /// Reports created.
    pub count: u64,
}

impl Stats {
    /// The number of reports created for this organisation, period (`YYYY-MM-DD`) and type.
    ///
    /// ```
    /// use wholesale_billing::ReportLevel;
    /// let stats = webex_sandbox::Stats::default();
    /// assert_eq!(stats.reports_created_for("p-1", "2024-05-01", "2024-05-31", ReportLevel::Partner), 0);
    /// ```
    pub fn reports_created_for(&self, org_id: &str, start: &str, end: &str, report_type: ReportLevel) -> u64 {
        self.reports_created_by_key
            .iter()
            .filter(|c| {
                c.org_id == org_id
                    && c.billing_start_date == start
                    && c.billing_end_date == end
                    && c.report_type == report_type
            })
            .map(|c| c.count)
            .sum()
    }
}

/// A key of [`Stats::reports_created_by_key`].
pub(crate) type ReportKey = (String, NaiveDate, NaiveDate, ReportLevel);

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) requests: AtomicU64,
    pub(crate) webex_requests: AtomicU64,
    pub(crate) download_auth_refusals: AtomicU64,
    pub(crate) downloads: AtomicU64,
    pub(crate) faults_429: AtomicU64,
    pub(crate) faults_5xx: AtomicU64,
    pub(crate) lost_creates: AtomicU64,
    pub(crate) failed_creates: AtomicU64,
    created: Mutex<BTreeMap<ReportKey, u64>>,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) -> u64 {
    counter.fetch_add(1, Ordering::Relaxed) + 1
}

impl Counters {
    /// Counts a created report.
    pub(crate) fn report_created(&self, key: ReportKey) {
        let mut map = self.created.lock().unwrap_or_else(PoisonError::into_inner);
        *map.entry(key).or_insert(0) += 1;
    }

    /// A snapshot.
    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let map = self.created.lock().unwrap_or_else(PoisonError::into_inner);
        let by_key: Vec<ReportCount> = map
            .iter()
            .map(|((org_id, start, end, level), count)| ReportCount {
                org_id: org_id.clone(),
                billing_start_date: start.to_string(),
                billing_end_date: end.to_string(),
                report_type: *level,
                count: *count,
            })
            .collect();
        let (f429, f5xx) = (get(&self.faults_429), get(&self.faults_5xx));
        let (lost, failed) = (get(&self.lost_creates), get(&self.failed_creates));
        Stats {
            requests: get(&self.requests),
            webex_requests: get(&self.webex_requests),
            reports_created: by_key.iter().map(|c| c.count).sum(),
            reports_created_by_key: by_key,
            download_auth_refusals: get(&self.download_auth_refusals),
            downloads: get(&self.downloads),
            faults_injected: f429 + f5xx + lost + failed,
            faults_429: f429,
            faults_5xx: f5xx,
            lost_creates: lost,
            failed_creates: failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_key() {
        let c = Counters::default();
        let d = |day| NaiveDate::from_ymd_opt(2024, 5, day).unwrap();
        c.report_created(("p".into(), d(1), d(31), ReportLevel::User));
        c.report_created(("p".into(), d(1), d(31), ReportLevel::User));
        c.report_created(("p".into(), d(1), d(31), ReportLevel::Partner));
        bump(&c.faults_429);
        bump(&c.lost_creates);
        bump(&c.failed_creates);
        let s = c.snapshot();
        assert_eq!(s.reports_created, 3);
        assert_eq!(
            s.reports_created_for("p", "2024-05-01", "2024-05-31", ReportLevel::User),
            2
        );
        assert_eq!((s.faults_injected, s.failed_creates), (3, 1));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["reports_created_by_key"][0]["type"], "PARTNER");
    }
}
