//! `GET /v1/cdr_feed`: the call records of the dataset, with the rules of the Webex CDR feed —
//! windows of at most 12 hours within the last 30 days (and not the last 5 minutes), `max`
//! clamped to 500–5000, `Link` paging, 1 initial and 10 page requests per minute per token
//! (configurable), and 451 for an organisation hosted in another region.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_TYPE, LINK};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::auth::OrgKind;
use crate::config::CdrFeedConfig;
use crate::error::{Error, Result};
use crate::http::{ApiError, Query};
use crate::state::{AppState, rfc3339_ms};
use crate::store;

const PATH: &str = "/v1/cdr_feed";
/// The fewest and most records per page.
const MIN_MAX: u64 = 500;
const MAX_MAX: u64 = 5000;
/// The longest window.
const WINDOW_MS: i64 = 12 * 3600 * 1000;
/// How far back records can be asked for.
const HISTORY_DAYS: i64 = 30;
/// The most recent minutes that cannot be asked for.
const RECENT_MS: i64 = 5 * 60 * 1000;

/// The feed's settings and the requests each token sent recently.
#[derive(Debug)]
pub(crate) struct CdrFeedState {
    initial: usize,
    pages: usize,
    period: Duration,
    region_host: String,
    org_regions: BTreeMap<String, String>,
    sent: Mutex<HashMap<String, [VecDeque<Instant>; 2]>>,
}

impl CdrFeedState {
    pub(crate) fn new(config: &CdrFeedConfig) -> Self {
        CdrFeedState {
            initial: usize::try_from(config.initial_per_period).unwrap_or(usize::MAX),
            pages: usize::try_from(config.pages_per_period).unwrap_or(usize::MAX),
            period: config.limit_period,
            region_host: config.region_host.clone(),
            org_regions: config.org_regions.clone(),
            sent: Mutex::default(),
        }
    }

    /// Counts a request of `org_id` (a page request or an initial one), or says how many seconds
    /// to wait when the limit is reached.
    fn admit(&self, org_id: &str, page: bool) -> std::result::Result<(), u64> {
        let now = Instant::now();
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        let (slot, limit) = if page { (1, self.pages) } else { (0, self.initial) };
        let log = &mut sent.entry(org_id.to_owned()).or_default()[slot];
        while log.front().is_some_and(|t| now.duration_since(*t) >= self.period) {
            log.pop_front();
        }
        if log.len() < limit {
            log.push_back(now);
            return Ok(());
        }
        let oldest = log.front().copied().unwrap_or(now);
        let wait = self.period.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }
}

/// The fields of a record the feed reads; every other key is kept as given.
#[derive(Deserialize)]
struct Keys {
    #[serde(rename = "Start time")]
    start_time: Option<serde_json::Value>,
    #[serde(rename = "Org UUID")]
    org_uuid: Option<serde_json::Value>,
}

/// How a record's place is named: `items[i]` or `record n`.
type Locate = fn(usize) -> String;

#[derive(Deserialize)]
struct ItemsDocument {
    items: Vec<Box<RawValue>>,
}

/// The records of a `{"items": [...]}` document or of JSON lines: (start ms, org id, item JSON).
///
/// # Errors
/// [`Error::CdrJson`] for text that is neither; [`Error::InvalidCdr`] for a record that is not an
/// object or has no RFC 3339 `Start time`.
pub(crate) fn parse_records(bytes: &[u8]) -> Result<Vec<(i64, String, String)>> {
    let text = String::from_utf8_lossy(bytes);
    let (raw, at): (Vec<Box<RawValue>>, Locate) = match serde_json::from_str::<ItemsDocument>(&text) {
        Ok(doc) => (doc.items, |i| format!("items[{i}]")),
        Err(document_error) => {
            let mut items = Vec::new();
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                match serde_json::from_str::<Box<RawValue>>(line) {
                    Ok(item) => items.push(item),
                    Err(_) if n == 0 => {
                        return Err(Error::CdrJson {
                            at: "the {\"items\": [...]} document".into(),
                            source: document_error,
                        });
                    }
                    Err(source) => {
                        return Err(Error::CdrJson {
                            at: format!("line {}", n + 1),
                            source,
                        });
                    }
                }
            }
            (items, |i| format!("record {}", i + 1))
        }
    };
    raw.iter()
        .enumerate()
        .map(|(i, item)| {
            let invalid = |field, problem| Error::InvalidCdr {
                at: at(i),
                field,
                problem,
            };
            if !item.get().trim_start().starts_with('{') {
                return Err(invalid("item", "is not a json object"));
            }
            let keys: Keys = serde_json::from_str(item.get()).map_err(|_| invalid("item", "is not a json object"))?;
            let start = keys
                .start_time
                .as_ref()
                .and_then(serde_json::Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
                .ok_or_else(|| invalid("Start time", "is missing or not an rfc 3339 instant"))?;
            Ok((
                start.timestamp_millis(),
                keys.org_uuid
                    .as_ref()
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                item.get().to_owned(),
            ))
        })
        .collect()
}

/// An instant parameter (`YYYY-MM-DDTHH:MM:SS.mmmZ`, any RFC 3339 accepted).
fn instant(q: &Query, name: &str) -> std::result::Result<i64, ApiError> {
    let text = q
        .get(name)
        .ok_or_else(|| ApiError::bad_request(format!("{name} is required (YYYY-MM-DDTHH:MM:SS.mmmZ)")))?;
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{name} {text:?} is not a time in the form YYYY-MM-DDTHH:MM:SS.mmmZ"
            ))
        })
}

/// The instants that can be asked for: with a configured "today", the 30 days before its
/// midnight (and not after 5 minutes ago); else the 30 days before now, without the last 5 minutes.
fn history(state: &AppState) -> (i64, i64) {
    let now = Utc::now().timestamp_millis();
    let days = TimeDelta::days(HISTORY_DAYS).num_milliseconds();
    match state.today.and_then(|d| d.and_hms_opt(0, 0, 0)) {
        Some(midnight) => {
            let midnight = midnight.and_utc().timestamp_millis();
            (midnight - days, midnight.min(now - RECENT_MS))
        }
        None => (now - days, now - RECENT_MS),
    }
}

/// `GET /v1/cdr_feed`.
pub(crate) async fn feed(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> std::result::Result<Response, ApiError> {
    let caller = state.tokens.caller(&headers)?;
    let feed = &state.cdr;
    if let Some(host) = feed.org_regions.get(&caller.org_id).filter(|h| **h != feed.region_host) {
        let mut e = ApiError::new(
            StatusCode::from_u16(451).unwrap_or(StatusCode::FORBIDDEN),
            format!("This server cannot serve the data for this organization. Please use {host}"),
        );
        e.error_code = Some(451);
        return Err(e);
    }
    let q = Query::parse(raw.as_deref());
    let start = instant(&q, "startTime")?;
    let end = instant(&q, "endTime")?;
    if end <= start {
        return Err(ApiError::bad_request("endTime must be after startTime"));
    }
    if end - start > WINDOW_MS {
        return Err(ApiError::bad_request(
            "the time window from startTime to endTime must not be longer than 12 hours",
        ));
    }
    let (oldest, newest) = history(&state);
    if start < oldest {
        return Err(ApiError::bad_request(format!(
            "startTime must not be earlier than 30 days ago ({})",
            rfc3339_ms(oldest)
        )));
    }
    if end > newest {
        return Err(ApiError::bad_request(format!(
            "endTime must not be later than 5 minutes ago ({})",
            rfc3339_ms(newest)
        )));
    }
    let max = match q.get("max") {
        None => MAX_MAX,
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request(format!("max must be a whole number, not {v:?}")))?
            .clamp(MIN_MAX as i64, MAX_MAX as i64)
            .unsigned_abs(),
    };
    let cursor = match (q.get("startTimeForNextFetch"), q.number("nextRecord")?) {
        (None, None) => None,
        (Some(_), Some(seq)) => Some((
            instant(&q, "startTimeForNextFetch")?,
            i64::try_from(seq).unwrap_or(i64::MAX),
        )),
        _ => {
            return Err(ApiError::bad_request(
                "startTimeForNextFetch and nextRecord come together, from the Link header",
            ));
        }
    };
    if let Err(wait) = feed.admit(&caller.org_id, cursor.is_some()) {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many requests: the cdr feed allows {} {} requests per {} seconds per token",
                if cursor.is_some() { feed.pages } else { feed.initial },
                if cursor.is_some() { "page" } else { "initial" },
                feed.period.as_secs()
            ),
        );
        e.retry_after = Some(wait.max(1));
        return Err(e);
    }
    let visible: Option<Vec<String>> = match caller.kind {
        OrgKind::Partner => None,
        OrgKind::SubPartner => Some(
            state
                .directory
                .owned_by(&caller.org_id)
                .map(|c| c.org_id.clone())
                .collect(),
        ),
    };
    let take = usize::try_from(max).unwrap_or(usize::MAX).saturating_add(1);
    let at = cursor.unwrap_or((start, i64::MIN));
    let mut rows = state
        .db
        .read(move |c| {
            let visible = |org: &str| visible.as_ref().is_none_or(|v| v.iter().any(|o| o == org));
            store::cdrs_in(c, (start, end), at, take, &visible)
        })
        .await?;
    let next = (rows.len() == take).then(|| rows.pop()).flatten();
    let mut body = String::with_capacity(rows.iter().map(|r| r.item.len() + 1).sum::<usize>() + 16);
    body.push_str("{\"items\":[");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&row.item);
    }
    body.push_str("]}");
    let mut response = (StatusCode::OK, [(CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(next) = next {
        let mut query = Query(
            q.0.into_iter()
                .filter(|(k, _)| k != "startTimeForNextFetch" && k != "nextRecord")
                .collect(),
        );
        query
            .0
            .push(("startTimeForNextFetch".into(), rfc3339_ms(next.start_ms)));
        let link = query.next_link(&state.base_url, PATH, "nextRecord", &next.seq.to_string());
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(LINK, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_in_both_forms() {
        let doc = br#"{"items": [{"Start time": "2024-05-01T10:00:00.000Z", "Org UUID": "o1", "Report ID": "a"},
            {"Start time": "2024-05-01T11:00:00Z", "Report ID": "b"}]}"#;
        let records = parse_records(doc).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].0, 1_714_557_600_000);
        assert_eq!((records[0].1.as_str(), records[1].1.as_str()), ("o1", ""));
        assert!(records[1].2.contains(r#""Report ID": "b""#));
        let lines =
            b"{\"Start time\": \"2024-05-01T10:00:00.000Z\"}\n\n{\"Start time\": \"2024-05-01T10:00:01.000Z\"}\n";
        assert_eq!(parse_records(lines).unwrap().len(), 2);
        let bad = b"{\"Start time\": \"2024-05-01T10:00:00.000Z\"}\n{\"Start time\": \"yesterday\"}\n";
        let err = parse_records(bad).unwrap_err().to_string();
        assert_eq!(
            err,
            "the cdr records could not be read: record 2: \"Start time\" is missing or not an rfc 3339 instant"
        );
        let err = parse_records(b"{\"Start time\": 1}\n{").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = parse_records(br#"{"items": [3]}"#).unwrap_err().to_string();
        assert!(err.contains("items[0]: \"item\" is not a json object"), "{err}");
    }
}
