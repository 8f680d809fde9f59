//! Unit tests over HTTP against the scripted [`crate::stub::Stub`].

#[cfg(feature = "blocking")]
mod blocking;
mod ccws;
mod reports;
mod transport;

use std::time::Duration;

use serde_json::{Value, json};

use crate::stub::Stub;
use crate::{Client, RetryPolicy};

/// The token the tests use.
pub(crate) const TOKEN: &str = "tok-s3cr3t-123";

/// Short, deterministic retries.
pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(3)
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(40))
        .max_retry_after(Duration::from_secs(2))
}

/// A client of the stub's API (`<stub>/v1`).
pub(crate) fn client(stub: &Stub) -> Client {
    Client::builder()
        .base_url(format!("{}/v1", stub.base()))
        .token(TOKEN)
        .retry_policy(fast_retries())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A list item.
pub(crate) fn summary(id: &str, status: &str) -> Value {
    json!({"id": id, "billingStartDate": "2024-05-01", "billingEndDate": "2024-05-31", "status": status,
           "type": "PARTNER", "category": "RECONCILIATION"})
}

/// `{"items": [...]}`.
pub(crate) fn items(items: Vec<Value>) -> String {
    json!({ "items": items }).to_string()
}

/// A Webex error body.
pub(crate) fn error_body(message: &str, tracking_id: &str) -> String {
    json!({"message": message, "errors": [{"description": message}], "trackingId": tracking_id}).to_string()
}

/// A partner CSV of one row.
pub(crate) const PARTNER_CSV: &str = "PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,SERVICE_NAME,SKU,DESCRIPTION,\
CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,QUANTITY\n\
Acme,p-1,Sub1,WEBEX_CALLING,A-W-WXC-CALL-U,Wholesale Webex Calling Usage,2024-05-01T00:00:00.000Z,\
2024-05-31T23:59:59.999Z,31.0000\n";
