//! The state shared by every request handler.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use tokio::task::JoinHandle;
use wholesale_billing::{AssignmentLedger, Organisation, WholesaleRateCard};

use crate::auth::TokenBook;
use crate::ccws::CcwsTokens;
use crate::config::{CcwsConfig, Faults, SubPartnersKey};
use crate::db::Database;
use crate::directory::Directory;
use crate::downloads::Signer;
use crate::stats::Counters;

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) ledger: Arc<AssignmentLedger>,
    pub(crate) directory: Directory,
    pub(crate) rates: Option<WholesaleRateCard>,
    pub(crate) db: Arc<Database>,
    pub(crate) tokens: TokenBook,
    pub(crate) signer: Signer,
    pub(crate) counters: Counters,
    pub(crate) ccws_tokens: Mutex<CcwsTokens>,
    pub(crate) ccws: CcwsConfig,
    pub(crate) faults: Faults,
    pub(crate) today: Option<NaiveDate>,
    pub(crate) report_delay: Duration,
    pub(crate) create_status: u16,
    pub(crate) download_ttl: Duration,
    pub(crate) sub_partners_key: SubPartnersKey,
    /// The public URL of the API: the configured one, else `http://127.0.0.1:PORT`.
    pub(crate) base_url: String,
    /// The origin of download URLs.
    pub(crate) download_base_url: String,
    /// Report creations so far (for the lost-create fault).
    pub(crate) creations: AtomicU64,
    /// The CDR feed's settings and rate-limit counts.
    pub(crate) cdr: crate::cdr::CdrFeedState,
    /// Report generations still running.
    pub(crate) tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl AppState {
    pub(crate) fn org(&self) -> &Organisation {
        self.ledger.organisation()
    }

    /// "Today": the configured date or the UTC date.
    pub(crate) fn today(&self) -> NaiveDate {
        self.today.unwrap_or_else(|| Utc::now().date_naive())
    }

    /// Keeps a background task so that shutdown can wait for it.
    pub(crate) fn track(&self, task: JoinHandle<()>) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }

    /// The background tasks still kept (taken out).
    pub(crate) fn take_tasks(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// An instant in the API's form: RFC 3339 UTC with milliseconds (`2024-06-01T08:00:00.000Z`).
pub(crate) fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_have_milliseconds() {
        assert_eq!(rfc3339_ms(1_717_228_800_000), "2024-06-01T08:00:00.000Z");
        assert_eq!(rfc3339_ms(1_717_228_800_123), "2024-06-01T08:00:00.123Z");
    }
}
