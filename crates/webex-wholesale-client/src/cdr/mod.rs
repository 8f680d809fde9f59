//! The Webex Calling CDR feed (`GET /v1/cdr_feed`, "Detailed Call History"): a period fetched as
//! consecutive 12-hour windows, each paged by `Link: rel="next"`, the records streamed to a writer
//! as the JSON `{"items": [...]}` the core's reader reads, every item kept as sent.
//!
//! - [`CdrRegion`]: the analytics host of each region (`analytics-calling.webexapis.com`, `-eu`,
//!   `-in`, `-au`, `-gov`); a 451 answer ("use another region") becomes
//!   [`Error::CdrWrongRegion`] naming the host and region.
//! - [`CdrFeed`]: the documented limits honoured before the server enforces them (1 initial
//!   request per minute per token, 10 page requests per minute: [`CdrRateLimits`] on a
//!   [`Clock`]), and 429 / 5xx retried by the client's [`RetryPolicy`](crate::RetryPolicy).
//! - Resume: after each complete window a [`CdrCheckpoint`] (the window's end, the output's length)
//!   — in a sidecar file with [`CdrFeed::fetch_to_file`] — so that an interrupted fetch resumes at
//!   the first incomplete window, its partial items cut off, and no window is written twice.
//!
//! ```no_run
//! use webex_wholesale_client::Client;
//! use webex_wholesale_client::cdr::{CdrFeed, CdrPeriod, CdrRegion};
//! use wholesale_billing::Period;
//!
//! # async fn run() -> webex_wholesale_client::Result<()> {
//! let client = Client::builder()
//!     .base_url(CdrRegion::Eu.base_url())
//!     .token(std::env::var("WEBEX_TOKEN").unwrap_or_default())
//!     .build()?;
//! let feed = CdrFeed::new(client);
//! let period = CdrPeriod::from_period(&Period::from_dates("2024-05-01", "2024-05-07")?);
//! let done = feed.fetch_to_file(&period, "may-week1-cdrs.json".as_ref(), true, |p| {
//!     eprintln!("{p}");
//!     std::ops::ControlFlow::Continue(())
//! }).await?;
//! println!("{} records in {} windows", done.records, done.windows);
//! # Ok(()) }
//! ```

pub(crate) mod limit;
mod output;

use std::collections::HashSet;
use std::fmt;
use std::io::Write;
use std::ops::ControlFlow;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

pub use limit::{CdrRateLimits, Clock, ManualClock, Sleep, TokioClock};
pub use output::{CdrCheckpoint, ItemsWriter, sidecar};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::retry::RequestKind;
use limit::{RateLimiter, RequestClass};

/// The longest window one request may cover: 12 hours.
pub const WINDOW: TimeDelta = TimeDelta::hours(12);
/// The fewest records per page the feed serves.
pub const MIN_PAGE: u32 = 500;
/// The most records per page the feed serves (and the default).
pub const MAX_PAGE: u32 = 5000;

/// A Webex Calling analytics region, which serves the call records of the organisations it hosts.
///
/// ```
/// use webex_wholesale_client::cdr::CdrRegion;
/// let eu: CdrRegion = "EU".parse()?;
/// assert_eq!(eu.host(), "analytics-calling-eu.webexapis.com");
/// assert_eq!(eu.base_url(), "https://analytics-calling-eu.webexapis.com/v1");
/// assert_eq!(CdrRegion::from_host("analytics-calling.webexapis.com"), Some(CdrRegion::Us));
/// assert_eq!(CdrRegion::Gov.to_string(), "gov");
/// assert!("mars".parse::<CdrRegion>().is_err());
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CdrRegion {
    /// `analytics-calling.webexapis.com` (the default).
    #[default]
    Us,
    /// `analytics-calling-eu.webexapis.com`.
    Eu,
    /// `analytics-calling-in.webexapis.com`.
    In,
    /// `analytics-calling-au.webexapis.com`.
    Au,
    /// `analytics-calling-gov.webexapis.com`.
    Gov,
}

impl CdrRegion {
    /// Every region.
    pub const ALL: [CdrRegion; 5] = [
        CdrRegion::Us,
        CdrRegion::Eu,
        CdrRegion::In,
        CdrRegion::Au,
        CdrRegion::Gov,
    ];

    /// The region's name: `us`, `eu`, `in`, `au`, `gov`.
    ///
    /// ```
    /// assert_eq!(webex_wholesale_client::cdr::CdrRegion::Au.as_str(), "au");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            CdrRegion::Us => "us",
            CdrRegion::Eu => "eu",
            CdrRegion::In => "in",
            CdrRegion::Au => "au",
            CdrRegion::Gov => "gov",
        }
    }

    /// The analytics host.
    ///
    /// ```
    /// assert_eq!(webex_wholesale_client::cdr::CdrRegion::In.host(), "analytics-calling-in.webexapis.com");
    /// ```
    pub fn host(self) -> &'static str {
        match self {
            CdrRegion::Us => "analytics-calling.webexapis.com",
            CdrRegion::Eu => "analytics-calling-eu.webexapis.com",
            CdrRegion::In => "analytics-calling-in.webexapis.com",
            CdrRegion::Au => "analytics-calling-au.webexapis.com",
            CdrRegion::Gov => "analytics-calling-gov.webexapis.com",
        }
    }

    /// The API base URL to build a [`Client`] with: `https://<host>/v1`.
    ///
    /// ```
    /// let client = webex_wholesale_client::Client::builder()
    ///     .base_url(webex_wholesale_client::cdr::CdrRegion::Us.base_url()).token("t").build()?;
    /// assert_eq!(client.base_url().host_str(), Some("analytics-calling.webexapis.com"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn base_url(self) -> String {
        format!("https://{}/v1", self.host())
    }

    /// The region of an analytics host (case-insensitive), if it is one.
    ///
    /// ```
    /// use webex_wholesale_client::cdr::CdrRegion;
    /// assert_eq!(CdrRegion::from_host("Analytics-Calling-AU.webexapis.com"), Some(CdrRegion::Au));
    /// assert_eq!(CdrRegion::from_host("webexapis.com"), None);
    /// ```
    pub fn from_host(host: &str) -> Option<CdrRegion> {
        CdrRegion::ALL
            .into_iter()
            .find(|r| r.host().eq_ignore_ascii_case(host.trim()))
    }
}

impl fmt::Display for CdrRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CdrRegion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        CdrRegion::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::UnknownCdrRegion { text: s.to_owned() })
    }
}

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

/// What a fetch has done so far, given to the progress callback after each complete window.
///
/// Its `Display` is the progress line `wbill cdr fetch` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdrProgress {
    /// The window just completed.
    pub window: CdrWindow,
    /// Complete windows so far (resumed ones included).
    pub windows_done: u32,
    /// Windows of the whole period.
    pub windows_total: u32,
    /// Records of the window just completed.
    pub window_records: u64,
    /// Records written so far (resumed ones included).
    pub records: u64,
    /// Pages requested for this window.
    pub pages: u32,
}

impl fmt::Display for CdrProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "window {}/{} {}: {} records in {} pages, {} in all",
            self.windows_done, self.windows_total, self.window, self.window_records, self.pages, self.records
        )
    }
}

/// The body of a feed page: the items kept as sent.
#[derive(Deserialize)]
struct FeedPage {
    #[serde(default)]
    items: Vec<Box<RawValue>>,
}

/// The client of the CDR feed: a [`Client`] on an analytics host (see [`CdrRegion::base_url`]),
/// its rate limiter and page size. Clones share the limiter (the limits are per token).
///
/// ```
/// use webex_wholesale_client::Client;
/// use webex_wholesale_client::cdr::{CdrFeed, CdrRateLimits, CdrRegion, ManualClock};
/// let client = Client::builder().base_url(CdrRegion::Eu.base_url()).token("t").build()?;
/// let feed = CdrFeed::builder(client)
///     .page_size(1000)
///     .rate_limits(CdrRateLimits::default())
///     .clock(ManualClock::new())
///     .build()?;
/// assert_eq!(feed.page_size(), 1000);
/// assert!(CdrFeed::builder(feed.client().clone()).page_size(100).build().is_err());
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CdrFeed {
    client: Client,
    limiter: RateLimiter,
    page_size: u32,
}

/// Builds a [`CdrFeed`].
///
/// ```
/// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
/// let feed = webex_wholesale_client::cdr::CdrFeed::builder(client).build()?;
/// assert_eq!(feed.page_size(), 5000);
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
pub struct CdrFeedBuilder {
    client: Client,
    limits: CdrRateLimits,
    clock: Arc<dyn Clock>,
    page_size: u32,
}

impl fmt::Debug for CdrFeedBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CdrFeedBuilder")
            .field("client", &self.client)
            .field("limits", &self.limits)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl CdrFeedBuilder {
    /// Records per page (`max`): 500 to 5000 (default 5000).
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let feed = webex_wholesale_client::cdr::CdrFeed::builder(client).page_size(500).build()?;
    /// assert_eq!(feed.page_size(), 500);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn page_size(mut self, max: u32) -> Self {
        self.page_size = max;
        self
    }

    /// The limits to honour (default [`CdrRateLimits::default`], the documented ones).
    ///
    /// ```
    /// use webex_wholesale_client::cdr::{CdrFeed, CdrRateLimits};
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let feed = CdrFeed::builder(client).rate_limits(CdrRateLimits::unlimited()).build()?;
    /// assert_eq!(feed.rate_limits(), CdrRateLimits::unlimited());
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn rate_limits(mut self, limits: CdrRateLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The clock the limiter reads and sleeps on (default [`TokioClock`]).
    ///
    /// ```
    /// use webex_wholesale_client::cdr::{CdrFeed, ManualClock};
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let feed = CdrFeed::builder(client).clock(ManualClock::new()).build()?;
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The feed.
    ///
    /// # Errors
    /// [`Error::CdrPageSize`] for a page size outside 500 to 5000.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let err = webex_wholesale_client::cdr::CdrFeed::builder(client).page_size(6000).build().unwrap_err();
    /// assert_eq!(err.to_string(), "invalid configuration: the cdr feed page size must be 500 to 5000, not 6000");
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn build(self) -> Result<CdrFeed> {
        if !(MIN_PAGE..=MAX_PAGE).contains(&self.page_size) {
            return Err(Error::CdrPageSize { max: self.page_size });
        }
        Ok(CdrFeed {
            client: self.client,
            limiter: RateLimiter::new(self.limits, self.clock),
            page_size: self.page_size,
        })
    }
}

impl CdrFeed {
    /// A feed with the defaults: pages of 5000, the documented limits on the real clock.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let feed = webex_wholesale_client::cdr::CdrFeed::new(client);
    /// assert_eq!(feed.page_size(), 5000);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn new(client: Client) -> Self {
        CdrFeed {
            client,
            limiter: RateLimiter::new(CdrRateLimits::default(), Arc::new(TokioClock::default())),
            page_size: MAX_PAGE,
        }
    }

    /// A builder on `client`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let feed = webex_wholesale_client::cdr::CdrFeed::builder(client).page_size(2000).build()?;
    /// assert_eq!(feed.page_size(), 2000);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn builder(client: Client) -> CdrFeedBuilder {
        CdrFeedBuilder {
            client,
            limits: CdrRateLimits::default(),
            clock: Arc::new(TokioClock::default()),
            page_size: MAX_PAGE,
        }
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Records per page.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }

    /// The limits honoured.
    pub fn rate_limits(&self) -> CdrRateLimits {
        self.limiter.limits()
    }

    /// Fetches one window, page by page, handing each record (a JSON object, as sent) to `sink`.
    /// Returns the number of records and of pages.
    ///
    /// # Errors
    /// As every request ([`Error::Api`], [`Error::Decode`], [`Error::Transport`], ...), once the
    /// retries are spent; [`Error::CdrWrongRegion`] for a 451; [`Error::CdrItemNotObject`];
    /// [`Error::PageLoop`] when a next link leads back to a page already read; what `sink` returns.
    ///
    /// ```no_run
    /// # async fn run(feed: webex_wholesale_client::cdr::CdrFeed, period: webex_wholesale_client::cdr::CdrPeriod)
    /// # -> webex_wholesale_client::Result<()> {
    /// let first = period.windows().next().unwrap();
    /// let mut ids = Vec::new();
    /// feed.fetch_window(first, |item| {
    ///     ids.push(item.get().len());
    ///     Ok(())
    /// }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn fetch_window(
        &self,
        window: CdrWindow,
        mut sink: impl FnMut(&RawValue) -> Result<()>,
    ) -> Result<(u64, u32)> {
        let mut url = self.client.endpoint(&["cdr_feed"]);
        url.query_pairs_mut()
            .append_pair("startTime", &instant_text(window.start))
            .append_pair("endTime", &instant_text(window.end))
            .append_pair("max", &self.page_size.to_string());
        let mut class = RequestClass::Initial;
        let mut seen: HashSet<Url> = HashSet::new();
        let (mut records, mut pages) = (0u64, 0u32);
        loop {
            let response = self
                .client
                .send_gated(
                    Method::GET,
                    url.clone(),
                    None,
                    RequestKind::Idempotent,
                    Some((&self.limiter, class)),
                )
                .await
                .map_err(wrong_region)?;
            pages = pages.saturating_add(1);
            let page: FeedPage = response.json()?;
            let empty = page.items.is_empty();
            for (index, item) in page.items.iter().enumerate() {
                if !item.get().trim_start().starts_with('{') {
                    return Err(Error::CdrItemNotObject {
                        context: format!("{} ({window})", response.context),
                        index,
                    });
                }
                sink(item)?;
                records = records.saturating_add(1);
            }
            match self.client.next_of(&response, &url)? {
                Some(next) if !empty => {
                    if !seen.insert(next.clone()) {
                        return Err(Error::PageLoop {
                            endpoint: format!("GET {}", next.path()),
                        });
                    }
                    url = next;
                    class = RequestClass::Page;
                }
                _ => return Ok((records, pages)),
            }
        }
    }

    /// Fetches `period` window by window into `out` as `{"items": [...]}`, resuming after
    /// `resume` when given (the caller has cut `out` back to [`CdrCheckpoint::bytes`] and placed
    /// its end there). After each complete window, `on_window` is given the writer (to flush and
    /// sync it), the checkpoint to keep, and the progress; `Break` stops the fetch with
    /// [`Error::CdrFetchStopped`]. Returns the final checkpoint ([`CdrCheckpoint::is_complete`]),
    /// once the closing `]}` is written.
    ///
    /// # Errors
    /// As [`CdrFeed::fetch_window`]; [`Error::CdrCheckpointMismatch`] when `resume` is of another
    /// period; [`Error::CdrOutput`] (path `-`) when `out` fails; what `on_window` returns.
    ///
    /// ```no_run
    /// # async fn run(feed: webex_wholesale_client::cdr::CdrFeed, period: webex_wholesale_client::cdr::CdrPeriod)
    /// # -> webex_wholesale_client::Result<()> {
    /// let mut out = Vec::new();
    /// let done = feed.fetch_into(&period, &mut out, None, |_, _, _| Ok(std::ops::ControlFlow::Continue(()))).await?;
    /// assert_eq!(done.bytes, out.len() as u64);
    /// # Ok(()) }
    /// ```
    pub async fn fetch_into<W, F>(
        &self,
        period: &CdrPeriod,
        out: &mut W,
        resume: Option<&CdrCheckpoint>,
        mut on_window: F,
    ) -> Result<CdrCheckpoint>
    where
        W: Write,
        F: FnMut(&mut W, &CdrCheckpoint, &CdrProgress) -> Result<ControlFlow<()>>,
    {
        let windows_total = u32::try_from(period.windows().count()).unwrap_or(u32::MAX);
        let (mut writer, mut checkpoint) = match resume {
            Some(cp) => {
                cp.check_period(period, std::path::Path::new("-"))?;
                (ItemsWriter::resume(&mut *out, cp.bytes, cp.records), cp.clone())
            }
            None => (
                ItemsWriter::start(&mut *out).map_err(|e| output_error("-", "writing", e))?,
                CdrCheckpoint::start(period),
            ),
        };
        checkpoint.bytes = writer.bytes();
        let resume_at = checkpoint.done_until();
        for window in period.windows().filter(|w| w.start >= resume_at) {
            let (window_records, pages) = self
                .fetch_window(window, |item| {
                    writer.item(item).map_err(|e| output_error("-", "writing", e))
                })
                .await?;
            checkpoint.advance(window.end, writer.bytes(), writer.records());
            let progress = CdrProgress {
                window,
                windows_done: checkpoint.windows,
                windows_total,
                window_records,
                records: writer.records(),
                pages,
            };
            if on_window(writer.get_mut(), &checkpoint, &progress)?.is_break() {
                return Err(Error::CdrFetchStopped {
                    windows_done: checkpoint.windows,
                });
            }
        }
        writer.finish().map_err(|e| output_error("-", "writing", e))?;
        checkpoint.complete(writer.bytes());
        Ok(checkpoint)
    }
}

/// An I/O error of the output.
pub(crate) fn output_error(path: impl Into<std::path::PathBuf>, what: &'static str, source: std::io::Error) -> Error {
    Error::CdrOutput {
        path: path.into(),
        what,
        source,
    }
}

/// A 451 answer as [`Error::CdrWrongRegion`], naming the host in "Please use {host}".
fn wrong_region(e: Error) -> Error {
    match e {
        Error::Api(api) if api.status == 451 => {
            let message = api
                .body
                .as_ref()
                .and_then(|b| b.message.clone())
                .unwrap_or_else(|| api.message.clone());
            let host = named_host(&message);
            Error::CdrWrongRegion {
                context: api.endpoint,
                region: host.as_deref().and_then(CdrRegion::from_host),
                host,
                message,
                tracking_id: api.tracking_id,
            }
        }
        other => other,
    }
}

/// The host after "use " in a 451 message: a bare host or a URL.
fn named_host(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let at = lower.rfind("use ")?;
    let word = message[at + 4..].split_whitespace().next()?;
    let word = word
        .trim_end_matches(['.', ',', ';', ')', '"', '\''])
        .trim_start_matches(['(', '"', '\'']);
    if word.is_empty() {
        return None;
    }
    let host = match Url::parse(word) {
        Ok(url) if url.host_str().is_some() => url.host_str().map(str::to_owned),
        _ => Some(word.split('/').next().unwrap_or(word).to_owned()),
    };
    host.filter(|h| !h.is_empty()).map(|h| h.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_named_by_451_answers() {
        for (message, host) in [
            (
                "This server cannot serve the data for this organization. Please use analytics-calling-eu.webexapis.com",
                Some("analytics-calling-eu.webexapis.com"),
            ),
            (
                "Please use https://Analytics-Calling-AU.webexapis.com/v1/cdr_feed.",
                Some("analytics-calling-au.webexapis.com"),
            ),
            (
                "Please use (analytics-calling-gov.webexapis.com).",
                Some("analytics-calling-gov.webexapis.com"),
            ),
            ("cannot serve this organization", None),
            ("Please use ", None),
        ] {
            assert_eq!(named_host(message).as_deref(), host, "{message}");
        }
    }

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
