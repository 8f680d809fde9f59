//! The CDR feed's documented rate limits, honoured before the server enforces them: "1 initial
//! request per minute per user token, with up to 10 additional pagination requests per minute per
//! user token". A sliding window per kind of request, on an injectable [`Clock`].

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A boxed future that sleeps.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Time as the rate limiter sees it: a monotonic reading and a way to wait.
///
/// [`TokioClock`] is the real one; [`ManualClock`] advances only when slept on, so that tests of
/// the limits run without waiting real minutes.
///
/// ```
/// use std::time::Duration;
/// use webex_wholesale_client::cdr::{Clock, ManualClock};
/// let clock = ManualClock::new();
/// let _ = clock.sleep(Duration::from_secs(60)); // advances at once
/// assert_eq!(clock.now(), Duration::from_secs(60));
/// ```
pub trait Clock: Send + Sync + 'static {
    /// The time elapsed since an arbitrary origin, never decreasing.
    fn now(&self) -> Duration;
    /// A future that completes after `wait`.
    fn sleep(&self, wait: Duration) -> Sleep;
}

/// The real clock: tokio's monotonic time and `tokio::time::sleep`.
///
/// ```
/// use webex_wholesale_client::cdr::{Clock, TokioClock};
/// let clock = TokioClock::default();
/// assert!(clock.now() <= clock.now());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock {
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&self, wait: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock for tests: it stands still, and a sleep moves it forward at once (nothing waits).
/// Clones share one time.
///
/// ```
/// use std::time::Duration;
/// use webex_wholesale_client::cdr::{Clock, ManualClock};
/// let clock = ManualClock::new();
/// let other = clock.clone();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(other.now(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<Mutex<Duration>>,
}

impl ManualClock {
    /// A clock at zero.
    ///
    /// ```
    /// use webex_wholesale_client::cdr::{Clock, ManualClock};
    /// assert_eq!(ManualClock::new().now(), std::time::Duration::ZERO);
    /// ```
    pub fn new() -> Self {
        ManualClock::default()
    }

    /// Moves the clock forward by `by`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use webex_wholesale_client::cdr::{Clock, ManualClock};
    /// let clock = ManualClock::new();
    /// clock.advance(Duration::from_millis(1500));
    /// assert_eq!(clock.now().as_millis(), 1500);
    /// ```
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.saturating_add(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sleep(&self, wait: Duration) -> Sleep {
        self.advance(wait);
        Box::pin(std::future::ready(()))
    }
}

/// How many requests of each kind a token may send per period.
///
/// The default is the documented limit of the Webex CDR feed: 1 initial request (the first of a
/// time window) and 10 page requests (following a `Link: rel="next"`) per minute.
///
/// ```
/// use webex_wholesale_client::cdr::CdrRateLimits;
/// let limits = CdrRateLimits::default();
/// assert_eq!((limits.initial, limits.pages, limits.per.as_secs()), (1, 10, 60));
/// assert!(CdrRateLimits::unlimited().initial > 1_000_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CdrRateLimits {
    /// Initial requests (the first request of a window) per period (default 1).
    pub initial: u32,
    /// Page requests per period (default 10).
    pub pages: u32,
    /// The period (default one minute).
    pub per: Duration,
}

impl Default for CdrRateLimits {
    fn default() -> Self {
        CdrRateLimits {
            initial: 1,
            pages: 10,
            per: Duration::from_secs(60),
        }
    }
}

impl CdrRateLimits {
    /// No limit in practice (for a server with none, such as a sandbox configured so).
    ///
    /// ```
    /// let l = webex_wholesale_client::cdr::CdrRateLimits::unlimited();
    /// assert_eq!(l.initial, u32::MAX);
    /// ```
    pub fn unlimited() -> Self {
        CdrRateLimits {
            initial: u32::MAX,
            pages: u32::MAX,
            per: Duration::from_secs(60),
        }
    }
}

/// The kind of a feed request, as the limits count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestClass {
    /// The first request of a window.
    Initial,
    /// A request following a next link.
    Page,
}

/// A sliding-window limiter per request class, shared by the clones of a feed.
#[derive(Clone)]
pub(crate) struct RateLimiter {
    limits: CdrRateLimits,
    clock: Arc<dyn Clock>,
    sent: Arc<tokio::sync::Mutex<[VecDeque<Duration>; 2]>>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    pub(crate) fn new(limits: CdrRateLimits, clock: Arc<dyn Clock>) -> Self {
        RateLimiter {
            limits,
            clock,
            sent: Arc::default(),
        }
    }

    pub(crate) fn limits(&self) -> CdrRateLimits {
        self.limits
    }

    /// Waits until a request of `class` may go without passing the limit, and counts it as sent.
    pub(crate) async fn acquire(&self, class: RequestClass) {
        let (limit, slot) = match class {
            RequestClass::Initial => (self.limits.initial, 0),
            RequestClass::Page => (self.limits.pages, 1),
        };
        let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        // Held across the wait: requests of one feed go one at a time.
        let mut sent = self.sent.lock().await;
        loop {
            let now = self.clock.now();
            let log = &mut sent[slot];
            while log.front().is_some_and(|t| t.saturating_add(self.limits.per) <= now) {
                log.pop_front();
            }
            if log.len() < limit {
                log.push_back(now);
                return;
            }
            let oldest = log.front().copied().unwrap_or(now);
            let wait = oldest.saturating_add(self.limits.per).saturating_sub(now);
            tracing::info!(
                class = ?class,
                limit,
                per_s = self.limits.per.as_secs(),
                wait_ms = wait.as_millis() as u64,
                "waiting for the CDR feed's rate limit"
            );
            self.clock.sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_limiter_spaces_requests() {
        let clock = ManualClock::new();
        let limiter = RateLimiter::new(CdrRateLimits::default(), Arc::new(clock.clone()));
        let mut initial = Vec::new();
        for _ in 0..3 {
            limiter.acquire(RequestClass::Initial).await;
            initial.push(clock.now().as_secs());
        }
        assert_eq!(initial, [0, 60, 120]);
        let mut pages = Vec::new();
        for _ in 0..21 {
            limiter.acquire(RequestClass::Page).await;
            pages.push(clock.now().as_secs());
        }
        // Ten at once, then ten a minute after the first, then one more.
        assert_eq!(pages.iter().filter(|&&t| t == 120).count(), 10);
        assert_eq!(pages.iter().filter(|&&t| t == 180).count(), 10);
        assert_eq!(pages.last(), Some(&240));
    }
}
