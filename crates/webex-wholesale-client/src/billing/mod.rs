//! Wholesale billing reports: create, get, list, delete, wait, download.

mod builders;
mod fetch;
mod request;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::Method;
use wholesale_billing::{LoadMode, Period, ReadOptions, ReportLevel, UsageReport};

pub use builders::{CreateReport, ListReports};
pub use fetch::{FetchOptions, FetchUsage, FetchedUsage, UsageSource};
pub use request::{NewReport, ReportFilter};

use crate::client::{Client, download_message, exchange};
use crate::error::{Error, Result};
use crate::models::{CreatedReport, DownloadUrl, Report, ReportStatus, ReportSummary};
use crate::pagination::Page;
use crate::retry::{Decision, Outcome, RequestKind};

/// The path of the billing reports under the API base.
const REPORTS: [&str; 3] = ["wholesale", "billing", "reports"];

/// The first wait of [`BillingReports::wait_until_complete`].
const FIRST_POLL: Duration = Duration::from_millis(250);

/// The billing report API (`/wholesale/billing/reports`), from [`Client::billing_reports`].
///
/// ```no_run
/// use std::time::{Duration, Instant};
/// use webex_wholesale_client::{Client, Period, ReportLevel};
/// # async fn run(client: Client) -> webex_wholesale_client::Result<()> {
/// let reports = client.billing_reports();
/// let created = reports.create(Period::month(2024, 5)?).level(ReportLevel::User).send().await?;
/// let report = reports
///     .wait_until_complete(&created.id, Duration::from_secs(10), Instant::now() + Duration::from_secs(600))
///     .await?;
/// let usage = reports.download(&report).await?;
/// println!("{} rows", usage.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BillingReports<'c> {
    client: &'c Client,
}

impl Client {
    /// The billing report API.
    ///
    /// ```
    /// use webex_wholesale_client::{Period, ReportLevel};
    /// let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let reports = client.billing_reports();
    /// assert_eq!(reports.create(Period::month(2024, 5)?).request().level, ReportLevel::Partner);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn billing_reports(&self) -> BillingReports<'_> {
        BillingReports { client: self }
    }

    /// Creates a report, never twice: see [`BillingReports::create`]. `known` are the ids of the
    /// reports of the same period, type and sub-partner that existed before (listed when `None`).
    pub(crate) async fn create_report(&self, new: &NewReport, known: Option<HashSet<String>>) -> Result<CreatedReport> {
        let url = self.endpoint(&REPORTS);
        let body = new.body();
        let known = match known {
            Some(known) => known,
            None => self.matching_reports(new).await?.into_iter().map(|r| r.id).collect(),
        };
        let mut retries = 0;
        loop {
            let error = match self
                .send(Method::POST, url.clone(), Some(&body), RequestKind::Create)
                .await
            {
                Ok(response) => return response.json(),
                Err(e) if e.create_may_have_happened() => e,
                Err(e) => return Err(e),
            };
            // The service may have created the report and lost the answer: look for it.
            let Decision::Retry(wait) = self
                .inner
                .retry
                .decide(retries, RequestKind::Idempotent, Outcome::Transport)
            else {
                return Err(error);
            };
            retries += 1;
            tokio::time::sleep(wait).await;
            let adopted = self.matching_reports(new).await?.into_iter().find(|r| {
                !known.contains(&r.id) && matches!(r.status, ReportStatus::InProgress | ReportStatus::Completed)
            });
            if let Some(r) = adopted {
                return Ok(CreatedReport {
                    id: r.id,
                    billing_start_date: Some(r.billing_start_date),
                    billing_end_date: Some(r.billing_end_date),
                    report_type: r.report_type.or(Some(new.level)),
                    category: r.category,
                });
            }
        }
    }

    /// The reports of the period, type and sub-partner of `new`.
    pub(crate) async fn matching_reports(&self, new: &NewReport) -> Result<Vec<ReportSummary>> {
        let all = self.list_all_reports(&new.exact_filter()).await?;
        Ok(all.into_iter().filter(|r| new.matches(r)).collect())
    }

    pub(crate) async fn list_reports(&self, filter: &ReportFilter) -> Result<Page<ReportSummary>> {
        let mut url = self.endpoint(&REPORTS);
        filter.apply(&mut url);
        self.get_page(url).await
    }

    pub(crate) async fn list_all_reports(&self, filter: &ReportFilter) -> Result<Vec<ReportSummary>> {
        let first = self.list_reports(filter).await?;
        self.all_pages(first).await
    }

    /// GETs a signed download URL without credentials, retrying per the policy.
    pub(crate) async fn download_bytes(&self, url: &DownloadUrl) -> Result<Vec<u8>> {
        let client = &self.inner.download;
        let context = "GET report download";
        let (_, body) = exchange(
            &self.inner.retry,
            RequestKind::Idempotent,
            context,
            || async { Ok(client.get(url.as_url().clone())) },
            |status, _, body| Error::Download {
                status,
                message: download_message(body),
            },
        )
        .await?;
        Ok(body)
    }
}

impl<'c> BillingReports<'c> {
    /// A report creation over `period` (type `PARTNER` unless changed).
    ///
    /// The creation is never duplicated by a retry: it is repeated only after a 429. After a 5xx,
    /// a timeout or a broken connection (the service may have created the report and lost the
    /// answer), the client lists the reports of the same period, type and sub-partner and adopts
    /// one that did not exist before the first attempt (`IN_PROGRESS` or `COMPLETED`) before it
    /// sends the creation again (within the retry policy's count).
    ///
    /// ```no_run
    /// use webex_wholesale_client::{Period, ReportLevel};
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let created = client.billing_reports().create(Period::month(2024, 5)?)
    ///     .level(ReportLevel::Customer)
    ///     .sub_partner("Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8x")
    ///     .send()
    ///     .await?;
    /// println!("{}", created.id);
    /// # Ok(()) }
    /// ```
    pub fn create(&self, period: Period) -> CreateReport<'c> {
        CreateReport {
            client: self.client,
            new: NewReport::new(period, ReportLevel::Partner),
        }
    }

    /// One report, with a fresh `tempDownloadURL` when it is `COMPLETED`.
    ///
    /// # Errors
    /// [`Error::Api`] (404 for an unknown id or another organisation's report), [`Error::Decode`],
    /// transport errors.
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let report = client.billing_reports().get("Y2lzY29zcGFyazovL3VzL0JJTExJTkdfUkVQT1JULzE").await?;
    /// println!("{}", report.status);
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: &str) -> Result<Report> {
        let mut segments = REPORTS.to_vec();
        segments.push(id);
        self.client.get_json(self.client.endpoint(&segments)).await
    }

    /// A report list with filters.
    ///
    /// ```no_run
    /// use webex_wholesale_client::{Period, ReportStatus};
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let completed = client.billing_reports().list()
    ///     .period(Period::month(2024, 5)?)
    ///     .status(ReportStatus::Completed)
    ///     .all()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn list(&self) -> ListReports<'c> {
        ListReports {
            client: self.client,
            filter: ReportFilter::default(),
        }
    }

    /// Deletes a report (its download URLs stop working; the period may be created again).
    ///
    /// # Errors
    /// [`Error::Api`] (404 for an unknown id), transport errors.
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// client.billing_reports().delete("Y2lzY29zcGFyazovL3VzL0JJTExJTkdfUkVQT1JULzE").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, id: &str) -> Result<()> {
        let mut segments = REPORTS.to_vec();
        segments.push(id);
        let url = self.client.endpoint(&segments);
        self.client
            .send(Method::DELETE, url, None, RequestKind::Idempotent)
            .await?;
        Ok(())
    }

    /// Polls a report — after 250 ms, then at doubling waits up to `poll_interval` — until it is
    /// `COMPLETED` (returned, with a fresh download URL) or `FAILED`, or `deadline` passes.
    ///
    /// # Errors
    /// [`Error::ReportFailed`] with the report's errors; [`Error::DeadlineExceeded`]; the errors of
    /// [`BillingReports::get`].
    ///
    /// ```no_run
    /// use std::time::{Duration, Instant};
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let deadline = Instant::now() + Duration::from_secs(300);
    /// let report = client.billing_reports().wait_until_complete("Y2lz", Duration::from_secs(5), deadline).await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_until_complete(&self, id: &str, poll_interval: Duration, deadline: Instant) -> Result<Report> {
        let started = Instant::now();
        // Growing waits: a report that is quick to generate is picked up quickly, a slow one is
        // polled no more often than `poll_interval`.
        let mut wait = poll_interval.min(FIRST_POLL);
        loop {
            let report = self.get(id).await?;
            match report.status {
                ReportStatus::Completed => return Ok(report),
                ReportStatus::Failed => {
                    return Err(Error::ReportFailed {
                        report_id: report.id,
                        errors: report.errors,
                    });
                }
                _ => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::DeadlineExceeded {
                    report_id: report.id,
                    status: report.status,
                    waited: now - started,
                });
            }
            let pause = wait.min(deadline - now);
            tracing::info!(
                report = %report.id,
                status = ?report.status,
                waited_s = (now - started).as_secs(),
                next_poll_ms = pause.as_millis() as u64,
                "report being generated: waiting"
            );
            tokio::time::sleep(pause).await;
            wait = wait.saturating_mul(2).min(poll_interval);
        }
    }

    /// The CSV of a `COMPLETED` report, fetched from its `tempDownloadURL` without the bearer
    /// token.
    ///
    /// # Errors
    /// [`Error::NoDownloadUrl`] when the report has none; [`Error::Download`] when the download
    /// host refuses (403 for an expired or tampered URL, 404 for a deleted report); transport
    /// errors.
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client, report: webex_wholesale_client::Report)
    /// # -> webex_wholesale_client::Result<()> {
    /// let csv = client.billing_reports().download_csv(&report).await?;
    /// std::fs::write("usage.csv", csv).ok();
    /// # Ok(()) }
    /// ```
    pub async fn download_csv(&self, report: &Report) -> Result<Vec<u8>> {
        let url = report.temp_download_url.as_ref().ok_or_else(|| Error::NoDownloadUrl {
            report_id: report.id.clone(),
            status: report.status.clone(),
        })?;
        self.client.download_bytes(url).await
    }

    /// The usage report of a `COMPLETED` report: its CSV read by the core reader, strictly, at
    /// the report's type (or the level its header shows when the type is unknown).
    ///
    /// # Errors
    /// As [`BillingReports::download_csv`]; [`Error::Core`] when the CSV is not a valid report
    /// (each bad row located by line and column).
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client, report: webex_wholesale_client::Report)
    /// # -> webex_wholesale_client::Result<()> {
    /// let usage = client.billing_reports().download(&report).await?;
    /// println!("{}", usage.total_quantity()?);
    /// # Ok(()) }
    /// ```
    pub async fn download(&self, report: &Report) -> Result<UsageReport> {
        let csv = self.download_csv(report).await?;
        parse_usage(&csv, report)
    }
}

/// Reads a downloaded CSV strictly.
pub(crate) fn parse_usage(csv: &[u8], report: &Report) -> Result<UsageReport> {
    let options = ReadOptions {
        level: report.report_type,
        mode: LoadMode::Strict,
    };
    UsageReport::read_csv(csv, &options)
        .map(|(usage, _)| usage)
        .map_err(|e| Error::core(format!("report {} csv", report.id), e))
}
