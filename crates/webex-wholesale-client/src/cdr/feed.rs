//! The fetch loop: [`CdrFeed`] and its builder, one window paged by `Link`, a period window by
//! window into a writer, with the progress after each complete window.

use std::collections::HashSet;
use std::fmt;
use std::io::Write;
use std::ops::ControlFlow;
use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use super::limit::{CdrRateLimits, Clock, RateLimiter, RequestClass, TokioClock};
use super::output::{CdrCheckpoint, ItemsWriter, output_error};
use super::region::wrong_region;
use super::window::{CdrPeriod, CdrWindow, instant_text};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::retry::RequestKind;

/// The fewest records per page the feed serves.
pub const MIN_PAGE: u32 = 500;
/// The most records per page the feed serves (and the default).
pub const MAX_PAGE: u32 = 5000;

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

/// The client of the CDR feed: a [`Client`] on an analytics host (see
/// [`CdrRegion::base_url`](super::CdrRegion::base_url)), its rate limiter and page size. Clones share
/// the limiter (the limits are per token).
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
