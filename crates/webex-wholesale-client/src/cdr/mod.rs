//! The Webex Calling CDR feed (`GET /v1/cdr_feed`, "Detailed Call History"): a period fetched as
//! consecutive 12-hour windows, each paged by `Link: rel="next"`, the records streamed to a writer
//! as the JSON `{"items": [...]}` the core's reader reads, every item kept as sent.
//!
//! - [`CdrRegion`]: the analytics host of each region (`analytics-calling.webexapis.com`, `-eu`,
//!   `-in`, `-au`, `-gov`); a 451 answer ("use another region") becomes
//!   [`Error::CdrWrongRegion`](crate::Error::CdrWrongRegion) naming the host and region.
//! - [`CdrFeed`]: the documented limits honoured before the server enforces them (1 initial
//!   request per minute per token, 10 page requests per minute: [`CdrRateLimits`] on a
//!   [`Clock`]), and 429 / 5xx retried by the client's [`RetryPolicy`](crate::RetryPolicy).
//! - Resume: after each complete window a [`CdrCheckpoint`] (the window's end, the output's length)
//!   — in a sidecar file with [`CdrFeed::fetch_to_file`] — so that an interrupted fetch resumes at
//!   the first incomplete window, its partial items cut off, and no window is written twice.
//!
//! One idea a file: `region` (the analytics hosts and the 451 answer), `window` (the period and its
//! 12-hour windows), `limit` (the request limits and their clock), `feed` (the fetch loop) and
//! `output` (the items writer, the checkpoint and the file fetch).
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

mod feed;
pub(crate) mod limit;
mod output;
mod region;
mod window;

pub use feed::{CdrFeed, CdrFeedBuilder, CdrProgress, MAX_PAGE, MIN_PAGE};
pub use limit::{CdrRateLimits, Clock, ManualClock, Sleep, TokioClock};
pub use output::{CdrCheckpoint, ItemsWriter, sidecar};
pub use region::CdrRegion;
pub use window::{CdrPeriod, CdrWindow, WINDOW, instant_text};
