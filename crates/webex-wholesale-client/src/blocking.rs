//! A synchronous facade (feature `blocking`): [`Client`] and [`CcwsClient`] run the async clients
//! on an internal current-thread tokio runtime, for scripts, command-line tools and Python.
//!
//! They must not be called from inside an async runtime (they answer [`Error::InsideAsyncRuntime`]).
//!
//! ```no_run
//! use webex_wholesale_client::{FetchOptions, Period, ReportLevel};
//! # fn run() -> webex_wholesale_client::Result<()> {
//! let client = webex_wholesale_client::blocking::Client::new(
//!     webex_wholesale_client::Client::builder().token("wbx-token").build()?,
//! )?;
//! let fetched = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::User, None, &FetchOptions::default())?;
//! println!("{} rows", fetched.usage.len());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use wholesale_billing::ccws::{OfferDetailsResponse, OfferItem};
use wholesale_billing::{Period, ReportLevel, UsageReport, WholesaleRateCard};

use crate::auth::Secret;
use crate::billing::{FetchOptions, FetchedUsage, NewReport, ReportFilter};
use crate::ccws::OffersPage;
use crate::error::{Error, Result};
use crate::models::{CreatedReport, Customer, Report, ReportSummary, SubPartner};
use crate::pagination::Page;
use crate::partners::{CustomerFilter, SubPartnerFilter};

/// Runs futures to completion on a private current-thread runtime.
#[derive(Clone)]
struct Runner(Arc<tokio::runtime::Runtime>);

impl Runner {
    fn new() -> Result<Self> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| Runner(Arc::new(rt)))
            .map_err(Error::RuntimeStart)
    }

    fn run<T>(&self, future: impl Future<Output = Result<T>>) -> Result<T> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(Error::InsideAsyncRuntime);
        }
        self.0.block_on(future)
    }
}

/// The blocking Webex client: the methods of [`crate::Client`] without `async`.
///
/// ```
/// let async_client = webex_wholesale_client::Client::builder().token("t").build()?;
/// let client = webex_wholesale_client::blocking::Client::new(async_client)?;
/// assert_eq!(client.async_client().base_url().as_str(), "https://webexapis.com/v1");
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: crate::Client,
    runner: Runner,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("blocking::Client").field(&self.inner).finish()
    }
}

impl Client {
    /// Wraps an async client.
    ///
    /// # Errors
    /// [`Error::RuntimeStart`] when the runtime cannot start.
    ///
    /// ```
    /// let async_client = webex_wholesale_client::Client::builder().base_url("http://127.0.0.1:8484/v1").token("t").build()?;
    /// let c = webex_wholesale_client::blocking::Client::new(async_client)?;
    /// assert_eq!(c.async_client().base_url().as_str(), "http://127.0.0.1:8484/v1");
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn new(client: crate::Client) -> Result<Self> {
        Ok(Client {
            inner: client,
            runner: Runner::new()?,
        })
    }

    /// The async client inside.
    ///
    /// ```
    /// # let c = webex_wholesale_client::blocking::Client::new(
    /// #     webex_wholesale_client::Client::builder().token("t").build()?)?;
    /// assert_eq!(c.async_client().retry_policy().max_retries, 4);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn async_client(&self) -> &crate::Client {
        &self.inner
    }

    /// Creates a report, never twice (see [`crate::BillingReports::create`]).
    ///
    /// # Errors
    /// As [`crate::CreateReport::send`].
    ///
    /// ```no_run
    /// # use webex_wholesale_client::{NewReport, Period, ReportLevel};
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let created = client.create_report(&NewReport::new(Period::month(2024, 5)?, ReportLevel::User))?;
    /// # Ok(()) }
    /// ```
    pub fn create_report(&self, new: &NewReport) -> Result<CreatedReport> {
        self.runner.run(self.inner.create_report(new, None))
    }

    /// One report.
    ///
    /// # Errors
    /// As [`crate::BillingReports::get`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let report = client.report("Y2lz")?;
    /// # Ok(()) }
    /// ```
    pub fn report(&self, id: &str) -> Result<Report> {
        self.runner.run(self.inner.billing_reports().get(id))
    }

    /// The first page of a report list.
    ///
    /// # Errors
    /// As [`crate::ListReports::send`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let page = client.list_reports(&webex_wholesale_client::ReportFilter::default().max(10))?;
    /// let next = client.next_page(&page)?;
    /// # Ok(()) }
    /// ```
    pub fn list_reports(&self, filter: &ReportFilter) -> Result<Page<ReportSummary>> {
        self.runner.run(self.inner.list_reports(filter))
    }

    /// Every report of a list.
    ///
    /// # Errors
    /// As [`crate::ListReports::all`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let all = client.all_reports(&webex_wholesale_client::ReportFilter::default())?;
    /// # Ok(()) }
    /// ```
    pub fn all_reports(&self, filter: &ReportFilter) -> Result<Vec<ReportSummary>> {
        self.runner.run(self.inner.list_all_reports(filter))
    }

    /// The page after `page`.
    ///
    /// # Errors
    /// As [`crate::Client::next_page`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let first = client.list_reports(&webex_wholesale_client::ReportFilter::default())?;
    /// if let Some(second) = client.next_page(&first)? { println!("{}", second.items.len()); }
    /// # Ok(()) }
    /// ```
    pub fn next_page<T: DeserializeOwned>(&self, page: &Page<T>) -> Result<Option<Page<T>>> {
        self.runner.run(self.inner.next_page(page))
    }

    /// Deletes a report.
    ///
    /// # Errors
    /// As [`crate::BillingReports::delete`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// client.delete_report("Y2lz")?;
    /// # Ok(()) }
    /// ```
    pub fn delete_report(&self, id: &str) -> Result<()> {
        self.runner.run(self.inner.billing_reports().delete(id))
    }

    /// Polls a report until it is complete.
    ///
    /// # Errors
    /// As [`crate::BillingReports::wait_until_complete`].
    ///
    /// ```no_run
    /// # use std::time::{Duration, Instant};
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let r = client.wait_until_complete("Y2lz", Duration::from_secs(5), Instant::now() + Duration::from_secs(60))?;
    /// # Ok(()) }
    /// ```
    pub fn wait_until_complete(&self, id: &str, poll_interval: Duration, deadline: Instant) -> Result<Report> {
        self.runner.run(
            self.inner
                .billing_reports()
                .wait_until_complete(id, poll_interval, deadline),
        )
    }

    /// The CSV of a completed report.
    ///
    /// # Errors
    /// As [`crate::BillingReports::download_csv`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client, r: webex_wholesale_client::Report)
    /// # -> webex_wholesale_client::Result<()> {
    /// let csv = client.download_csv(&r)?;
    /// # Ok(()) }
    /// ```
    pub fn download_csv(&self, report: &Report) -> Result<Vec<u8>> {
        self.runner.run(self.inner.billing_reports().download_csv(report))
    }

    /// The usage report of a completed report.
    ///
    /// # Errors
    /// As [`crate::BillingReports::download`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client, r: webex_wholesale_client::Report)
    /// # -> webex_wholesale_client::Result<()> {
    /// let usage = client.download(&r)?;
    /// # Ok(()) }
    /// ```
    pub fn download(&self, report: &Report) -> Result<UsageReport> {
        self.runner.run(self.inner.billing_reports().download(report))
    }

    /// The usage report of a period in one call (see [`crate::Client::fetch_usage`]).
    ///
    /// # Errors
    /// As [`crate::FetchUsage::send`].
    ///
    /// ```no_run
    /// # use webex_wholesale_client::{FetchOptions, Period, ReportLevel};
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let options = FetchOptions { regenerate: true, ..FetchOptions::default() };
    /// let fetched = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::Partner, Some("sp-1"), &options)?;
    /// # Ok(()) }
    /// ```
    pub fn fetch_usage(
        &self,
        period: Period,
        level: ReportLevel,
        sub_partner: Option<&str>,
        options: &FetchOptions,
    ) -> Result<FetchedUsage> {
        let mut new = NewReport::new(period, level);
        new.sub_partner = sub_partner.map(str::to_owned);
        self.runner.run(self.inner.fetch_usage_with(new, options))
    }

    /// Every sub-partner.
    ///
    /// # Errors
    /// As [`crate::ListSubPartners::all`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let subs = client.sub_partners(&webex_wholesale_client::SubPartnerFilter::default())?;
    /// # Ok(()) }
    /// ```
    pub fn sub_partners(&self, filter: &SubPartnerFilter) -> Result<Vec<SubPartner>> {
        self.runner
            .run(self.inner.sub_partners().with_filter(filter.clone()).all())
    }

    /// Every customer matching `filter`.
    ///
    /// # Errors
    /// As [`crate::ListCustomers::all`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let customers = client.customers(&webex_wholesale_client::CustomerFilter::default())?;
    /// # Ok(()) }
    /// ```
    pub fn customers(&self, filter: &CustomerFilter) -> Result<Vec<Customer>> {
        self.runner
            .run(self.inner.customers().list().with_filter(filter.clone()).all())
    }

    /// One customer.
    ///
    /// # Errors
    /// As [`crate::Customers::get`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let customer = client.customer("Y2lz")?;
    /// # Ok(()) }
    /// ```
    pub fn customer(&self, id: &str) -> Result<Customer> {
        self.runner.run(self.inner.customers().get(id))
    }

    /// The external id of every customer organisation, by org id.
    ///
    /// # Errors
    /// As [`crate::Customers::external_ids`].
    ///
    /// ```no_run
    /// # fn run(client: webex_wholesale_client::blocking::Client) -> webex_wholesale_client::Result<()> {
    /// let ids = client.customer_external_ids(None)?;
    /// # Ok(()) }
    /// ```
    pub fn customer_external_ids(&self, on_behalf_of_sub_partner: Option<&str>) -> Result<BTreeMap<String, String>> {
        self.runner
            .run(self.inner.customers().external_ids(on_behalf_of_sub_partner))
    }
}

/// The blocking Commerce Catalog client: the methods of [`crate::ccws::CcwsClient`] without
/// `async`.
///
/// ```no_run
/// use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials};
/// # fn run() -> webex_wholesale_client::Result<()> {
/// let ccws = CcwsClient::builder()
///     .credentials(CcwsCredentials::new("client-id", "client-secret", "cco-user", "cco-password"))
///     .build()?;
/// let blocking = webex_wholesale_client::blocking::CcwsClient::new(ccws)?;
/// let card = blocking.price_list_rate_card()?;
/// println!("{} rates in {}", card.rates().len(), card.currency());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CcwsClient {
    inner: crate::ccws::CcwsClient,
    runner: Runner,
}

impl std::fmt::Debug for CcwsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("blocking::CcwsClient").field(&self.inner).finish()
    }
}

impl CcwsClient {
    /// Wraps an async catalog client.
    ///
    /// # Errors
    /// [`Error::RuntimeStart`] when the runtime cannot start.
    ///
    /// ```
    /// # use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials};
    /// let c = webex_wholesale_client::blocking::CcwsClient::new(
    ///     CcwsClient::builder().credentials(CcwsCredentials::new("i", "client-secret", "u", "cco-password")).build()?)?;
    /// let debug = format!("{c:?}");
    /// assert!(debug.starts_with("blocking::CcwsClient(") && !debug.contains("client-secret"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn new(client: crate::ccws::CcwsClient) -> Result<Self> {
        Ok(CcwsClient {
            inner: client,
            runner: Runner::new()?,
        })
    }

    /// The current access token.
    ///
    /// # Errors
    /// As [`crate::ccws::CcwsClient::access_token`].
    ///
    /// ```no_run
    /// # fn run(c: webex_wholesale_client::blocking::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let token = c.access_token()?;
    /// # Ok(()) }
    /// ```
    pub fn access_token(&self) -> Result<Secret> {
        self.runner.run(self.inner.access_token())
    }

    /// One page of Get Offers.
    ///
    /// # Errors
    /// As [`crate::ccws::CcwsClient::offers_page`].
    ///
    /// ```no_run
    /// # fn run(c: webex_wholesale_client::blocking::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let page = c.offers_page(1)?;
    /// # Ok(()) }
    /// ```
    pub fn offers_page(&self, page_no: u32) -> Result<OffersPage> {
        self.runner.run(self.inner.offers_page(page_no))
    }

    /// Every offer of the price list.
    ///
    /// # Errors
    /// As [`crate::ccws::CcwsClient::offers`].
    ///
    /// ```no_run
    /// # fn run(c: webex_wholesale_client::blocking::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let offers = c.offers()?;
    /// # Ok(()) }
    /// ```
    pub fn offers(&self) -> Result<Vec<OfferItem>> {
        self.runner.run(self.inner.offers())
    }

    /// Get Offer Details, in batches of at most 1000 SKUs.
    ///
    /// # Errors
    /// As [`crate::ccws::CcwsClient::offer_details`].
    ///
    /// ```no_run
    /// # fn run(c: webex_wholesale_client::blocking::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let details = c.offer_details(&["A-W-WXC-CALL-U"])?;
    /// # Ok(()) }
    /// ```
    pub fn offer_details<S: AsRef<str>>(&self, skus: &[S]) -> Result<Vec<OfferDetailsResponse>> {
        self.runner.run(self.inner.offer_details(skus))
    }

    /// The wholesale rate card of `skus`.
    ///
    /// # Errors
    /// As [`crate::ccws::CcwsClient::rate_card`].
    ///
    /// ```no_run
    /// # fn run(c: webex_wholesale_client::blocking::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let card = c.rate_card(&["A-W-WXC-CALL-U"])?;
    /// # Ok(()) }
    /// ```
    pub fn rate_card<S: AsRef<str>>(&self, skus: &[S]) -> Result<WholesaleRateCard> {
        self.runner.run(self.inner.rate_card(skus))
    }

    /// The rate card of every offer of the price list.
    ///
    /// # Errors
    /// As [`crate::ccws::CcwsClient::price_list_rate_card`].
    ///
    /// ```no_run
    /// # fn run(c: webex_wholesale_client::blocking::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let card = c.price_list_rate_card()?;
    /// # Ok(()) }
    /// ```
    pub fn price_list_rate_card(&self) -> Result<WholesaleRateCard> {
        self.runner.run(self.inner.price_list_rate_card())
    }
}

/// The blocking CDR feed: [`crate::cdr::CdrFeed`] without `async`.
///
/// ```
/// use webex_wholesale_client::cdr::{CdrFeed, CdrRegion};
/// let client = webex_wholesale_client::Client::builder().base_url(CdrRegion::Au.base_url()).token("t").build()?;
/// let feed = webex_wholesale_client::blocking::CdrFeed::new(CdrFeed::new(client))?;
/// assert_eq!(feed.async_feed().client().base_url().host_str(), Some("analytics-calling-au.webexapis.com"));
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Clone)]
pub struct CdrFeed {
    inner: crate::cdr::CdrFeed,
    runner: Runner,
}

impl std::fmt::Debug for CdrFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("blocking::CdrFeed").field(&self.inner).finish()
    }
}

impl CdrFeed {
    /// Wraps an async feed.
    ///
    /// # Errors
    /// [`Error::RuntimeStart`] when the runtime cannot start.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let feed = webex_wholesale_client::blocking::CdrFeed::new(webex_wholesale_client::cdr::CdrFeed::new(client))?;
    /// assert_eq!(feed.async_feed().page_size(), 5000);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn new(feed: crate::cdr::CdrFeed) -> Result<Self> {
        Ok(CdrFeed {
            inner: feed,
            runner: Runner::new()?,
        })
    }

    /// The async feed inside.
    pub fn async_feed(&self) -> &crate::cdr::CdrFeed {
        &self.inner
    }

    /// Fetches one window (see [`crate::cdr::CdrFeed::fetch_window`]).
    ///
    /// # Errors
    /// As [`crate::cdr::CdrFeed::fetch_window`]; [`Error::InsideAsyncRuntime`].
    ///
    /// ```no_run
    /// # fn run(feed: webex_wholesale_client::blocking::CdrFeed, period: webex_wholesale_client::cdr::CdrPeriod)
    /// # -> webex_wholesale_client::Result<()> {
    /// let mut n = 0;
    /// let (records, pages) = feed.fetch_window(period.windows().next().unwrap(), |_| { n += 1; Ok(()) })?;
    /// assert_eq!(records, n);
    /// # Ok(()) }
    /// ```
    pub fn fetch_window(
        &self,
        window: crate::cdr::CdrWindow,
        sink: impl FnMut(&serde_json::value::RawValue) -> Result<()>,
    ) -> Result<(u64, u32)> {
        self.runner.run(self.inner.fetch_window(window, sink))
    }

    /// Fetches a period into a file, resumable (see [`crate::cdr::CdrFeed::fetch_to_file`]).
    ///
    /// # Errors
    /// As [`crate::cdr::CdrFeed::fetch_to_file`]; [`Error::InsideAsyncRuntime`].
    ///
    /// ```no_run
    /// # fn run(feed: webex_wholesale_client::blocking::CdrFeed, period: webex_wholesale_client::cdr::CdrPeriod)
    /// # -> webex_wholesale_client::Result<()> {
    /// let done = feed.fetch_to_file(&period, "cdrs.json".as_ref(), true, |_| std::ops::ControlFlow::Continue(()))?;
    /// assert!(done.is_complete());
    /// # Ok(()) }
    /// ```
    pub fn fetch_to_file(
        &self,
        period: &crate::cdr::CdrPeriod,
        out: &std::path::Path,
        resume: bool,
        progress: impl FnMut(&crate::cdr::CdrProgress) -> std::ops::ControlFlow<()>,
    ) -> Result<crate::cdr::CdrCheckpoint> {
        self.runner.run(self.inner.fetch_to_file(period, out, resume, progress))
    }
}
