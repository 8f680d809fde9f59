//! When to retry a request: a pure function of the request's kind, the number of retries so far,
//! and what happened (an HTTP status with its `Retry-After`, a timeout, a broken connection).
//!
//! The rules ([`RetryPolicy::decide`]):
//!
//! - never more than [`RetryPolicy::max_retries`] retries;
//! - **429 Too Many Requests**, for every request (even a create: a 429 was not processed): wait
//!   `Retry-After` seconds, at most [`RetryPolicy::max_retry_after`]; without a usable
//!   `Retry-After`, the backoff;
//! - **408, 500, 502, 503, 504, a timeout or a transport error**, for idempotent requests (GET,
//!   DELETE, the catalog's read-only POSTs) only: wait the backoff, or the `Retry-After` of a 503
//!   when it is longer (capped likewise). A create is never retried on these: the service may
//!   have carried it out and lost the answer; the billing client looks for the report it may have
//!   created instead (see [`crate::BillingReports::create`]);
//! - anything else is final.
//!
//! The backoff is deterministic, without jitter: `initial_backoff × 2^retry`, at most
//! `max_backoff`.

use std::time::Duration;

/// How many times, and how long apart, failed requests are retried.
///
/// ```
/// use std::time::Duration;
/// use webex_wholesale_client::RetryPolicy;
/// let policy = RetryPolicy::default().max_retries(2).initial_backoff(Duration::from_millis(100));
/// assert_eq!(policy.backoff(0), Duration::from_millis(100));
/// assert_eq!(policy.backoff(3), Duration::from_millis(800));
/// assert_eq!(RetryPolicy::none().max_retries, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The most retries of one request (default 4).
    pub max_retries: u32,
    /// The wait before the first retry of a 5xx or a transport error (default 500 ms).
    pub initial_backoff: Duration,
    /// The longest backoff (default 8 s).
    pub max_backoff: Duration,
    /// The longest wait a `Retry-After` can impose (default 60 s, as wxc_sdk).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// What kind of request is retried.
///
/// ```
/// use webex_wholesale_client::RequestKind;
/// assert_ne!(RequestKind::Idempotent, RequestKind::Create);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A request that may be repeated without harm (GET, DELETE, the catalog's queries).
    Idempotent,
    /// A request that creates something: repeated only when it was surely not processed (429).
    Create,
}

/// What one attempt ended with.
///
/// ```
/// use std::time::Duration;
/// use webex_wholesale_client::Outcome;
/// let o = Outcome::Status { status: 429, retry_after: Some(Duration::from_secs(1)) };
/// assert_ne!(o, Outcome::Timeout);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP error status, with the parsed `Retry-After` header.
    Status {
        /// The status code.
        status: u16,
        /// The `Retry-After`, when present and readable.
        retry_after: Option<Duration>,
    },
    /// The request timed out.
    Timeout,
    /// The connection failed or broke.
    Transport,
}

/// The policy's answer.
///
/// ```
/// use webex_wholesale_client::Decision;
/// assert_eq!(Decision::Stop, Decision::Stop);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then send again.
    Retry(Duration),
    /// Give up and report the error.
    Stop,
}

impl RetryPolicy {
    /// A policy that never retries.
    ///
    /// ```
    /// use webex_wholesale_client::{Decision, Outcome, RequestKind, RetryPolicy};
    /// let d = RetryPolicy::none().decide(0, RequestKind::Idempotent, Outcome::Timeout);
    /// assert_eq!(d, Decision::Stop);
    /// ```
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The same policy with another retry count.
    ///
    /// ```
    /// assert_eq!(webex_wholesale_client::RetryPolicy::default().max_retries(7).max_retries, 7);
    /// ```
    #[must_use]
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The same policy with another first backoff.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = webex_wholesale_client::RetryPolicy::default().initial_backoff(Duration::from_millis(5));
    /// assert_eq!(p.backoff(1), Duration::from_millis(10));
    /// ```
    #[must_use]
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// The same policy with another longest backoff.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = webex_wholesale_client::RetryPolicy::default().max_backoff(Duration::from_secs(1));
    /// assert_eq!(p.backoff(10), Duration::from_secs(1));
    /// ```
    #[must_use]
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// The same policy with another cap on `Retry-After`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use webex_wholesale_client::{Decision, Outcome, RequestKind, RetryPolicy};
    /// let p = RetryPolicy::default().max_retry_after(Duration::from_secs(2));
    /// let o = Outcome::Status { status: 429, retry_after: Some(Duration::from_secs(3600)) };
    /// assert_eq!(p.decide(0, RequestKind::Create, o), Decision::Retry(Duration::from_secs(2)));
    /// ```
    #[must_use]
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// The backoff before retry number `retry + 1`: `initial_backoff × 2^retry`, at most
    /// `max_backoff`.
    ///
    /// ```
    /// let p = webex_wholesale_client::RetryPolicy::default();
    /// assert_eq!(p.backoff(0).as_millis(), 500);
    /// assert_eq!(p.backoff(100), p.max_backoff);
    /// ```
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry).unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// Whether to retry after `retries` retries of a request of `kind` that ended in `outcome`,
    /// and after how long (see the [module rules](self)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use webex_wholesale_client::{Decision, Outcome, RequestKind, RetryPolicy};
    /// let p = RetryPolicy::default();
    /// let unavailable = Outcome::Status { status: 503, retry_after: None };
    /// assert_eq!(p.decide(1, RequestKind::Idempotent, unavailable), Decision::Retry(Duration::from_secs(1)));
    /// assert_eq!(p.decide(0, RequestKind::Create, unavailable), Decision::Stop);
    /// assert_eq!(p.decide(0, RequestKind::Idempotent, Outcome::Status { status: 404, retry_after: None }),
    ///     Decision::Stop);
    /// assert_eq!(p.decide(4, RequestKind::Idempotent, Outcome::Timeout), Decision::Stop);
    /// ```
    pub fn decide(&self, retries: u32, kind: RequestKind, outcome: Outcome) -> Decision {
        if retries >= self.max_retries {
            return Decision::Stop;
        }
        let backoff = self.backoff(retries);
        match outcome {
            Outcome::Status {
                status: 429,
                retry_after,
            } => Decision::Retry(retry_after.map_or(backoff, |r| r.min(self.max_retry_after))),
            _ if kind == RequestKind::Create => Decision::Stop,
            Outcome::Status {
                status: 408 | 500 | 502 | 503 | 504,
                retry_after,
            } => Decision::Retry(retry_after.map_or(backoff, |r| r.min(self.max_retry_after).max(backoff))),
            Outcome::Status { .. } => Decision::Stop,
            Outcome::Timeout | Outcome::Transport => Decision::Retry(backoff),
        }
    }
}

/// Reads a `Retry-After` header: whole seconds (`120`). The HTTP-date form is not read (`None`:
/// the backoff applies).
///
/// ```
/// use std::time::Duration;
/// use webex_wholesale_client::retry::parse_retry_after;
/// assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
/// assert_eq!(parse_retry_after("Fri, 31 Dec 1999 23:59:59 GMT"), None);
/// ```
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<u64>) -> Outcome {
        Outcome::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn the_rules() {
        let p = RetryPolicy::default();
        let ms = Duration::from_millis;
        use Decision::{Retry, Stop};
        use RequestKind::{Create, Idempotent};
        for (retries, kind, outcome, expected) in [
            (0, Idempotent, status(429, Some(1)), Retry(ms(1000))),
            (0, Create, status(429, Some(1)), Retry(ms(1000))),
            (0, Create, status(429, Some(3600)), Retry(ms(60_000))),
            (2, Create, status(429, None), Retry(ms(2000))),
            (0, Idempotent, status(500, None), Retry(ms(500))),
            (1, Idempotent, status(502, None), Retry(ms(1000))),
            (2, Idempotent, status(503, None), Retry(ms(2000))),
            (3, Idempotent, status(504, None), Retry(ms(4000))),
            (0, Idempotent, status(503, Some(3)), Retry(ms(3000))),
            (3, Idempotent, status(503, Some(1)), Retry(ms(4000))),
            (0, Idempotent, status(408, None), Retry(ms(500))),
            (0, Idempotent, Outcome::Timeout, Retry(ms(500))),
            (0, Idempotent, Outcome::Transport, Retry(ms(500))),
            (0, Create, status(500, None), Stop),
            (0, Create, status(503, Some(1)), Stop),
            (0, Create, Outcome::Timeout, Stop),
            (0, Create, Outcome::Transport, Stop),
            (0, Idempotent, status(400, None), Stop),
            (0, Idempotent, status(401, None), Stop),
            (0, Idempotent, status(404, None), Stop),
            (0, Idempotent, status(409, None), Stop),
            (0, Idempotent, status(501, None), Stop),
            (4, Idempotent, status(429, Some(1)), Stop),
            (4, Idempotent, status(503, None), Stop),
        ] {
            assert_eq!(
                p.decide(retries, kind, outcome),
                expected,
                "{retries} {kind:?} {outcome:?}"
            );
        }
    }

    #[test]
    fn backoff_is_bounded_and_never_overflows() {
        let p = RetryPolicy::default().max_backoff(Duration::from_secs(3));
        let waits: Vec<u128> = (0..6).map(|r| p.backoff(r).as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 3000, 3000, 3000]);
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(3));
        let huge = RetryPolicy::default()
            .initial_backoff(Duration::MAX)
            .max_backoff(Duration::MAX);
        assert_eq!(huge.backoff(5), Duration::MAX);
        let total: Duration = (0..p.max_retries).map(|r| p.backoff(r)).sum();
        assert!(total <= Duration::from_secs(9), "{total:?}");
    }
}
