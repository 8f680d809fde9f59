//! `fetch_usage`: the usage report of a period in one call, reusing what the service already has.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use wholesale_billing::{Period, ReportLevel, UsageReport};

use super::NewReport;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::{Report, ReportStatus};

/// How many times [`FetchUsage::send`] goes back to the list (a report failing, another client
/// creating the same report at the same time) before it gives up.
const MAX_ROUNDS: usize = 4;

/// The options of [`Client::fetch_usage`].
///
/// ```
/// use std::time::Duration;
/// use webex_wholesale_client::FetchOptions;
/// let options = FetchOptions::default();
/// assert_eq!((options.regenerate, options.poll_interval), (false, Duration::from_secs(10)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// Delete an existing `COMPLETED` report of the period first, so that the service generates
    /// it again (the service refuses a new one while it exists).
    pub regenerate: bool,
    /// How often to poll a report in progress (default 10 s).
    pub poll_interval: Duration,
    /// How long to wait for the report in all (default 30 min).
    pub timeout: Duration,
    /// The `internal` flag of a report created (not sent when `None`).
    pub internal: Option<bool>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            regenerate: false,
            poll_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(30 * 60),
            internal: None,
        }
    }
}

/// Where the report of a [`FetchedUsage`] came from.
///
/// ```
/// assert_ne!(webex_wholesale_client::UsageSource::Reused, webex_wholesale_client::UsageSource::Created);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageSource {
    /// A `COMPLETED` report of the period existed.
    Reused,
    /// A report of the period was in progress; the client waited for it.
    Awaited,
    /// The client created the report.
    Created,
    /// The client deleted the existing report and created it again (`regenerate`).
    Regenerated,
}

/// The result of [`FetchUsage::send`]: the report's metadata and its rows.
///
/// ```no_run
/// use webex_wholesale_client::{Period, ReportLevel, UsageSource};
/// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
/// let fetched = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::User, None).send().await?;
/// if fetched.source == UsageSource::Created {
///     println!("report {} was generated for this call", fetched.report.id);
/// }
/// println!("{} rows", fetched.usage.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FetchedUsage {
    /// The completed report (its `tempDownloadURL` is the one the rows were downloaded from).
    pub report: Report,
    /// The rows, read strictly by the core reader, with the report's billing period (every row's
    /// dates checked against it), ready for the money functions.
    pub usage: UsageReport,
    /// Whether the report was reused, awaited, created or regenerated.
    pub source: UsageSource,
}

impl Client {
    /// The usage report of `period` at `level` (for `sub_partner` when given) in one call:
    ///
    /// 1. list the reports with exactly this period, type and sub-partner;
    /// 2. with [`FetchUsage::regenerate`], delete the `COMPLETED` and `FAILED` ones first;
    /// 3. reuse a `COMPLETED` one; else wait for one `IN_PROGRESS`; `FAILED` ones are deleted;
    /// 4. else create it (a 409 — someone else's completed report — sends it back to 1; the
    ///    creation is never duplicated, see [`crate::BillingReports::create`]) and wait for it;
    /// 5. download the CSV without the token and read it strictly.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use webex_wholesale_client::{Period, ReportLevel};
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let fetched = client
    ///     .fetch_usage(Period::month(2024, 5)?, ReportLevel::User, Some("Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8x"))
    ///     .poll_interval(Duration::from_secs(5))
    ///     .send()
    ///     .await?;
    /// println!("{:?}: {} rows", fetched.source, fetched.usage.len());
    /// # Ok(()) }
    /// ```
    pub fn fetch_usage(&self, period: Period, level: ReportLevel, sub_partner: Option<&str>) -> FetchUsage<'_> {
        let mut new = NewReport::new(period, level);
        new.sub_partner = sub_partner.map(str::to_owned);
        FetchUsage {
            client: self,
            new,
            options: FetchOptions::default(),
        }
    }

    pub(crate) async fn fetch_usage_with(&self, mut new: NewReport, options: &FetchOptions) -> Result<FetchedUsage> {
        new.internal = options.internal;
        let now = Instant::now();
        // A timeout too long to represent is as good as none (a century).
        let deadline = now
            .checked_add(options.timeout)
            .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86_400)))
            .unwrap_or(now);
        let reports = self.billing_reports();
        let mut regenerate = options.regenerate;
        let mut regenerated = false;
        let mut last_error = None;
        for _ in 0..MAX_ROUNDS {
            let existing = self.matching_reports(&new).await?;
            if regenerate {
                for r in existing.iter().filter(|r| r.status != ReportStatus::InProgress) {
                    self.delete_if_present(&r.id).await?;
                    regenerated = true;
                }
                regenerate = false;
                continue;
            }
            if let Some(done) = existing.iter().find(|r| r.status == ReportStatus::Completed) {
                let report = reports.get(&done.id).await?;
                if report.status == ReportStatus::Completed {
                    return self.finish(report, UsageSource::Reused).await;
                }
                continue;
            }
            if let Some(running) = existing.iter().find(|r| r.status == ReportStatus::InProgress) {
                match reports
                    .wait_until_complete(&running.id, options.poll_interval, deadline)
                    .await
                {
                    Ok(report) => {
                        let source = if regenerated {
                            UsageSource::Regenerated
                        } else {
                            UsageSource::Awaited
                        };
                        return self.finish(report, source).await;
                    }
                    Err(e @ Error::ReportFailed { .. }) => {
                        self.delete_if_present(&running.id).await?;
                        last_error = Some(e);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            }
            for failed in existing.iter().filter(|r| r.status == ReportStatus::Failed) {
                self.delete_if_present(&failed.id).await?;
            }
            let known: HashSet<String> = existing.into_iter().map(|r| r.id).collect();
            match self.create_report(&new, Some(known)).await {
                Ok(created) => {
                    let report = reports
                        .wait_until_complete(&created.id, options.poll_interval, deadline)
                        .await?;
                    let source = if regenerated {
                        UsageSource::Regenerated
                    } else {
                        UsageSource::Created
                    };
                    return self.finish(report, source).await;
                }
                Err(e) if e.is_conflict() => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or(Error::NoUsableReport {
            period: new.period,
            level: new.level,
            rounds: MAX_ROUNDS,
        }))
    }

    /// Deletes a report; one already gone (a retried delete, another client) is fine.
    async fn delete_if_present(&self, id: &str) -> Result<()> {
        match self.billing_reports().delete(id).await {
            Err(e) if e.is_not_found() => Ok(()),
            other => other,
        }
    }

    /// Downloads a completed report and gives its rows the report's billing period, so the money
    /// functions take it as it is (rows outside that period are an error).
    async fn finish(&self, report: Report, source: UsageSource) -> Result<FetchedUsage> {
        let usage = self.billing_reports().download(&report).await?;
        let period = Period::new(report.billing_start_date, report.billing_end_date)
            .map_err(|e| Error::core(format!("report {}", report.id), e))?;
        let usage = usage
            .with_period(period)
            .map_err(|e| Error::core(format!("report {}", report.id), e))?;
        Ok(FetchedUsage { report, usage, source })
    }
}

/// A one-call usage fetch, from [`Client::fetch_usage`]; ends with [`FetchUsage::send`].
///
/// ```
/// use webex_wholesale_client::{Period, ReportLevel};
/// let client = webex_wholesale_client::Client::builder().token("t").build()?;
/// let fetch = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::Partner, None).regenerate(true);
/// assert!(fetch.options().regenerate);
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until sent"]
pub struct FetchUsage<'c> {
    client: &'c Client,
    new: NewReport,
    options: FetchOptions,
}

impl FetchUsage<'_> {
    /// Deletes an existing completed report first, so that the service generates it again.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// # use webex_wholesale_client::{Period, ReportLevel};
    /// let f = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::User, None).regenerate(true);
    /// assert!(f.options().regenerate);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn regenerate(mut self, regenerate: bool) -> Self {
        self.options.regenerate = regenerate;
        self
    }

    /// How often to poll a report in progress.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// # use webex_wholesale_client::{Period, ReportLevel};
    /// let f = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::User, None)
    ///     .poll_interval(std::time::Duration::from_secs(2));
    /// assert_eq!(f.options().poll_interval.as_secs(), 2);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.options.poll_interval = interval;
        self
    }

    /// How long to wait in all.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// # use webex_wholesale_client::{Period, ReportLevel};
    /// let f = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::User, None)
    ///     .timeout(std::time::Duration::from_secs(120));
    /// assert_eq!(f.options().timeout.as_secs(), 120);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = timeout;
        self
    }

    /// The `internal` flag of a report created.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// # use webex_wholesale_client::{Period, ReportLevel};
    /// let f = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::User, None).internal(true);
    /// assert_eq!(f.options().internal, Some(true));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn internal(mut self, internal: bool) -> Self {
        self.options.internal = Some(internal);
        self
    }

    /// Replaces every option.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// # use webex_wholesale_client::{FetchOptions, Period, ReportLevel};
    /// let options = FetchOptions { regenerate: true, ..FetchOptions::default() };
    /// let f = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::User, None).with_options(options.clone());
    /// assert_eq!(f.options(), &options);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn with_options(mut self, options: FetchOptions) -> Self {
        self.options = options;
        self
    }

    /// The options so far.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// # use webex_wholesale_client::{Period, ReportLevel};
    /// assert!(!client.fetch_usage(Period::month(2024, 5)?, ReportLevel::User, None).options().regenerate);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// Fetches the usage (see [`Client::fetch_usage`]).
    ///
    /// # Errors
    /// [`Error::ReportFailed`] when the created report fails; [`Error::DeadlineExceeded`] past the
    /// timeout; [`Error::Api`] (400 bad period, 403 another sub-partner, a 409 that persists);
    /// [`Error::Download`], [`Error::Core`] for a CSV the core refuses; transport errors.
    ///
    /// ```no_run
    /// # use webex_wholesale_client::{Period, ReportLevel};
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let fetched = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::Partner, None).send().await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<FetchedUsage> {
        self.client.fetch_usage_with(self.new, &self.options).await
    }
}
