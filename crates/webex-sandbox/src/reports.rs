//! `/v1/wholesale/billing/reports`: create, list, get and delete billing reports, and their
//! generation by the engine.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::header::LINK;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use wholesale_billing::{AssignmentLedger, Period, ReportLevel, ReportOptions, Scope, parse_date};

use crate::auth::{OrgKind, OrgToken};
use crate::error::Error;
use crate::http::{ApiError, Query, body, json_response};
use crate::ids::{IdKind, decode_report, encode, new_uuid};
use crate::state::{AppState, now_ms, rfc3339_ms};
use crate::stats::bump;
use crate::store::{self, Outcome, ReportRecord};

/// The `code` of a `FAILED` report's error (sandbox rule).
pub(crate) const REPORT_FAILED_CODE: i64 = 1000;
const CATEGORY: &str = "RECONCILIATION";
const REPORTS_PATH: &str = "/v1/wholesale/billing/reports";

/// A report's status as the API shows it. The order is the `sortBy=status` order (alphabetical).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Status {
    Completed,
    Failed,
    InProgress,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "COMPLETED",
            Status::Failed => "FAILED",
            Status::InProgress => "IN_PROGRESS",
        }
    }

    fn parse(text: &str) -> Result<Self, ApiError> {
        [Status::Completed, Status::Failed, Status::InProgress]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                ApiError::bad_request(format!("status must be IN_PROGRESS, COMPLETED or FAILED, not {text:?}"))
            })
    }

    /// The status of a report at `now_ms`: in progress until both its delay has passed and the
    /// engine has finished.
    pub(crate) fn of(record: &ReportRecord, now_ms: i64) -> Self {
        match &record.outcome {
            None => Status::InProgress,
            Some(_) if now_ms < record.ready_ms => Status::InProgress,
            Some(Outcome::Completed) => Status::Completed,
            Some(Outcome::Failed { .. }) => Status::Failed,
        }
    }
}

fn parse_type(text: &str) -> Result<ReportLevel, ApiError> {
    ReportLevel::ALL
        .into_iter()
        .find(|l| l.as_str() == text)
        .ok_or_else(|| ApiError::bad_request(format!("type must be PARTNER, CUSTOMER or USER, not {text:?}")))
}

fn parse_day(name: &str, text: &str) -> Result<NaiveDate, ApiError> {
    parse_date(text).map_err(|_| ApiError::bad_request(format!("{name} must be a date YYYY-MM-DD, not {text:?}")))
}

/// `today − 5 years`, same month and day (29 February → the 28th).
pub(crate) fn five_years_before(today: NaiveDate) -> NaiveDate {
    let year = today.year() - 5;
    NaiveDate::from_ymd_opt(year, today.month(), today.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, today.month(), 28))
        .unwrap_or(NaiveDate::MIN)
}

/// The date rules of report creation.
pub(crate) fn check_period(start: NaiveDate, end: NaiveDate, today: NaiveDate) -> Result<(), ApiError> {
    if start > end {
        return Err(ApiError::bad_request(format!(
            "billingStartDate {start} is after billingEndDate {end}"
        )));
    }
    let earliest = five_years_before(today);
    if start < earliest {
        return Err(ApiError::bad_request(format!(
            "billingStartDate {start} is more than five years ago: the earliest allowed date is {earliest}"
        )));
    }
    if end >= today {
        return Err(ApiError::bad_request(format!(
            "billingEndDate {end} is not in the past: reports cover days before today ({today})"
        )));
    }
    Ok(())
}

/// The organisation a request is about: the caller's own, or, for a partner token, the
/// sub-partner it names.
pub(crate) fn target_org(
    state: &AppState,
    caller: &OrgToken,
    requested: Option<&str>,
    param: &str,
) -> Result<String, ApiError> {
    match requested.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(caller.org_id.clone()),
        Some(id) if id == caller.org_id => Ok(caller.org_id.clone()),
        Some(_) if caller.kind == OrgKind::SubPartner => Err(ApiError::forbidden(format!(
            "a sub-partner token may only use its own organisation id as {param}"
        ))),
        Some(id) if state.org().sub_partner_index(id).is_some() => Ok(id.to_owned()),
        Some(id) => Err(ApiError::not_found(format!("no sub-partner {id:?} under this partner"))),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    billing_start_date: Option<String>,
    billing_end_date: Option<String>,
    #[serde(rename = "type")]
    report_type: Option<String>,
    sub_partner_org_id: Option<String>,
    #[allow(dead_code)]
    internal: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportIdBody<'a> {
    id: String,
    billing_start_date: String,
    billing_end_date: String,
    #[serde(rename = "type")]
    report_type: &'a str,
    category: &'a str,
}

/// `POST /v1/wholesale/billing/reports`.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = state.tokens.caller(&headers)?;
    let raw = body(raw)?;
    let request: CreateBody =
        serde_json::from_slice(&raw).map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))?;
    let date = |name: &str, value: &Option<String>| match value.as_deref() {
        None => Err(ApiError::bad_request(format!("{name} is required"))),
        Some(v) => parse_day(name, v),
    };
    let start = date("billingStartDate", &request.billing_start_date)?;
    let end = date("billingEndDate", &request.billing_end_date)?;
    let level = match request.report_type.as_deref() {
        None => ReportLevel::Partner,
        Some(t) => parse_type(t)?,
    };
    check_period(start, end, state.today())?;
    let org_id = target_org(&state, caller, request.sub_partner_org_id.as_deref(), "subPartnerOrgId")?;

    let now = now_ms();
    let delay = i64::try_from(state.report_delay.as_millis()).unwrap_or(i64::MAX);
    let record = ReportRecord {
        uuid: new_uuid(),
        org_id,
        start,
        end,
        level,
        created_ms: now,
        created_by: caller.person_id.clone(),
        ready_ms: now.saturating_add(delay),
        file_uuid: new_uuid(),
        outcome: None,
    };
    // The 409 rule and the insertion in one write (one savepoint of the writer).
    // Creations are numbered (for the faults) in the order the writer commits them.
    let inserted = record.clone();
    let shared = state.clone();
    let created = state
        .db
        .write(move |tx| {
            let completed_exists = store::reports_for(tx, &inserted.org_id, start, end, level)?
                .iter()
                .any(|r| Status::of(r, now) == Status::Completed);
            if completed_exists {
                return Ok(None);
            }
            store::insert_report(tx, &inserted)?;
            let n = bump(&shared.creations);
            let injected_failure = shared.faults.failed_create.is_some_and(|failed| u64::from(failed) == n);
            if injected_failure {
                let outcome = Outcome::Failed {
                    code: REPORT_FAILED_CODE,
                    description: "the report could not be generated (injected fault)".to_owned(),
                };
                store::set_outcome(tx, &inserted.uuid, &outcome, None)?;
            }
            Ok(Some((n, injected_failure)))
        })
        .await?;
    let Some((n, injected_failure)) = created else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "a completed report for this period and type exists; delete it to regenerate",
        ));
    };
    state
        .counters
        .report_created((record.org_id.clone(), start, end, level));
    let id = encode(IdKind::BillingReport, &record.uuid);
    if injected_failure {
        bump(&state.counters.failed_creates);
    } else {
        spawn_generation(&state, record);
    }

    if state.faults.lost_create.is_some_and(|lost| u64::from(lost) == n) {
        bump(&state.counters.lost_creates);
        return Err(ApiError::unavailable());
    }
    let status = StatusCode::from_u16(state.create_status).unwrap_or(StatusCode::OK);
    Ok(json_response(
        status,
        &ReportIdBody {
            id,
            billing_start_date: start.to_string(),
            billing_end_date: end.to_string(),
            report_type: level.as_str(),
            category: CATEGORY,
        },
    ))
}

/// Generates a report's CSV on a blocking thread and records the outcome. A generation cut short
/// by a shutdown leaves the report pending: the next start generates it again.
pub(crate) fn spawn_generation(state: &Arc<AppState>, record: ReportRecord) {
    let ledger = state.ledger.clone();
    let db = state.db.clone();
    let task = tokio::task::spawn_blocking(move || {
        let (outcome, csv) = generate(&ledger, &record.org_id, record.start, record.end, record.level);
        // The writer is awaited on this blocking thread, never on a request thread.
        let uuid = record.uuid;
        let key = uuid.clone();
        match db.write_blocking(move |c| store::set_outcome(c, &key, &outcome, csv.as_deref())) {
            Ok(()) | Err(Error::DatabaseClosed) => {}
            Err(e) => eprintln!(
                "webex-sandbox: the outcome of report {uuid} could not be stored: {}",
                wholesale_billing::error_with_causes(&e)
            ),
        }
    });
    state.track(task);
}

/// The CSV of a report: the engine's report of that organisation, period and level under the
/// `started` hour policy, or why it could not be made.
pub(crate) fn generate(
    ledger: &AssignmentLedger,
    org_id: &str,
    start: NaiveDate,
    end: NaiveDate,
    level: ReportLevel,
) -> (Outcome, Option<Vec<u8>>) {
    let scope = if org_id == ledger.organisation().partner.org_id {
        Scope::Partner
    } else {
        Scope::SubPartner(org_id.to_owned())
    };
    let result = Period::new(start, end)
        .and_then(|period| ledger.usage_report(period, &ReportOptions::new(level).scope(scope)))
        .and_then(|report| {
            let mut csv = Vec::new();
            report.write_csv(&mut csv)?;
            Ok(csv)
        });
    match result {
        Ok(csv) => (Outcome::Completed, Some(csv)),
        Err(e) => (
            Outcome::Failed {
                code: REPORT_FAILED_CODE,
                description: format!(
                    "the report could not be generated: {}",
                    wholesale_billing::error_with_causes(&e)
                ),
            },
            None,
        ),
    }
}

/// The report named by a path id that the caller may see; 400 for a malformed id, 404 otherwise.
async fn visible_report(
    state: &AppState,
    caller: &OrgToken,
    path: Result<Path<String>, PathRejection>,
) -> Result<ReportRecord, ApiError> {
    let Path(id) = path.map_err(|e| ApiError::bad_request(format!("invalid report id: {}", e.body_text())))?;
    let uuid = decode_report(&id).ok_or_else(|| ApiError::bad_request(format!("{id:?} is not a billing report id")))?;
    match state.db.read(move |c| store::report(c, &uuid)).await? {
        Some(r) if caller.kind == OrgKind::Partner || r.org_id == caller.org_id => Ok(r),
        _ => Err(ApiError::not_found("billing report not found")),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportBody<'a> {
    id: String,
    billing_start_date: String,
    billing_end_date: String,
    #[serde(rename = "type")]
    report_type: &'a str,
    category: &'a str,
    created: String,
    created_by: &'a str,
    status: &'a str,
    #[serde(rename = "tempDownloadURL", skip_serializing_if = "Option::is_none")]
    temp_download_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<ReportErrorBody<'a>>>,
}

#[derive(Serialize)]
struct ReportErrorBody<'a> {
    code: i64,
    description: &'a str,
}

/// `GET /v1/wholesale/billing/reports/{id}`.
pub(crate) async fn get_one(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let caller = state.tokens.caller(&headers)?;
    let record = visible_report(&state, caller, path).await?;
    let now = now_ms();
    let status = Status::of(&record, now);
    let temp_download_url = (status == Status::Completed).then(|| {
        state
            .signer
            .url(&state.download_base_url, &record.file_uuid, now, state.download_ttl)
    });
    let errors = match (&record.outcome, status) {
        (Some(Outcome::Failed { code, description }), Status::Failed) => Some(vec![ReportErrorBody {
            code: *code,
            description,
        }]),
        _ => None,
    };
    Ok(json_response(
        StatusCode::OK,
        &ReportBody {
            id: encode(IdKind::BillingReport, &record.uuid),
            billing_start_date: record.start.to_string(),
            billing_end_date: record.end.to_string(),
            report_type: record.level.as_str(),
            category: CATEGORY,
            created: rfc3339_ms(record.created_ms),
            created_by: &record.created_by,
            status: status.as_str(),
            temp_download_url,
            errors,
        },
    ))
}

/// `DELETE /v1/wholesale/billing/reports/{id}`.
pub(crate) async fn delete(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let caller = state.tokens.caller(&headers)?;
    let record = visible_report(&state, caller, path).await?;
    let uuid = record.uuid;
    if !state.db.write(move |c| store::delete_report(c, &uuid)).await? {
        return Err(ApiError::not_found("billing report not found"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    Id,
    BillingStartDate,
    BillingEndDate,
    Status,
}

impl SortBy {
    fn parse(text: &str) -> Result<Self, ApiError> {
        match text {
            "id" => Ok(SortBy::Id),
            "billingStartDate" => Ok(SortBy::BillingStartDate),
            "billingEndDate" => Ok(SortBy::BillingEndDate),
            "status" => Ok(SortBy::Status),
            _ => Err(ApiError::bad_request(format!(
                "sortBy must be id, billingStartDate, billingEndDate or status, not {text:?}"
            ))),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListItem<'a> {
    id: String,
    billing_start_date: String,
    billing_end_date: String,
    status: &'a str,
    #[serde(rename = "type")]
    report_type: &'a str,
    category: &'a str,
}

#[derive(Serialize)]
struct ListBody<'a> {
    items: Vec<ListItem<'a>>,
}

/// A list filter date: `YYYY-MM-DD`, or a date-time whose date part is taken (some SDKs send
/// `2024-05-01T00:00:00.000Z`).
fn filter_day(name: &str, text: &str) -> Result<NaiveDate, ApiError> {
    match text.split_once('T') {
        Some((day, _)) if day.len() == 10 => parse_day(name, day),
        _ => parse_day(name, text),
    }
}

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_cursor(cursor: &str) -> Result<usize, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::bad_request("invalid cursor: follow the link header verbatim"))
}

/// `GET /v1/wholesale/billing/reports`.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let caller = state.tokens.caller(&headers)?;
    let q = Query::parse(raw.as_deref());
    let org_id = target_org(&state, caller, q.get("subPartnerOrgId"), "subPartnerOrgId")?;
    let start = q
        .get("billingStartDate")
        .map(|v| filter_day("billingStartDate", v))
        .transpose()?;
    let end = q
        .get("billingEndDate")
        .map(|v| filter_day("billingEndDate", v))
        .transpose()?;
    let level = q.get("type").map(parse_type).transpose()?;
    let status = q.get("status").map(Status::parse).transpose()?;
    let sort = q.get("sortBy").map_or(Ok(SortBy::BillingStartDate), SortBy::parse)?;
    let max = q.max()?;
    let offset = q.get("cursor").map(decode_cursor).transpose()?.unwrap_or(0);

    let now = now_ms();
    let mut rows: Vec<(ReportRecord, Status, String)> = state
        .db
        .read(move |c| store::reports_of(c, &org_id))
        .await?
        .into_iter()
        .map(|r| {
            let s = Status::of(&r, now);
            let id = encode(IdKind::BillingReport, &r.uuid);
            (r, s, id)
        })
        .filter(|(r, s, _)| {
            start.is_none_or(|d| r.start == d)
                && end.is_none_or(|d| r.end == d)
                && level.is_none_or(|l| r.level == l)
                && status.is_none_or(|x| *s == x)
        })
        .collect();
    // Stable: ties keep creation order.
    match sort {
        SortBy::Id => rows.sort_by(|a, b| a.2.cmp(&b.2)),
        SortBy::BillingStartDate => rows.sort_by_key(|(r, _, _)| r.start),
        SortBy::BillingEndDate => rows.sort_by_key(|(r, _, _)| r.end),
        SortBy::Status => rows.sort_by_key(|(_, s, _)| *s),
    }
    let total = rows.len();
    let items: Vec<ListItem<'_>> = rows
        .into_iter()
        .skip(offset)
        .take(max)
        .map(|(r, s, id)| ListItem {
            id,
            billing_start_date: r.start.to_string(),
            billing_end_date: r.end.to_string(),
            status: s.as_str(),
            report_type: r.level.as_str(),
            category: CATEGORY,
        })
        .collect();
    let mut response = json_response(StatusCode::OK, &ListBody { items });
    let next = offset.saturating_add(max);
    if next < total {
        let link = q.next_link(&state.base_url, REPORTS_PATH, "cursor", &encode_cursor(next));
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(LINK, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn date_rules() {
        let today = d(2024, 6, 15);
        assert!(check_period(d(2024, 5, 1), d(2024, 6, 14), today).is_ok());
        assert!(check_period(d(2024, 5, 2), d(2024, 5, 1), today).is_err());
        assert!(check_period(d(2024, 5, 1), d(2024, 6, 15), today).is_err());
        assert!(check_period(d(2019, 6, 15), d(2019, 6, 30), today).is_ok());
        assert!(check_period(d(2019, 6, 14), d(2019, 6, 30), today).is_err());
        assert_eq!(five_years_before(d(2024, 2, 29)), d(2019, 2, 28));
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        assert!(decode_cursor("garbage!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("offset:x")).is_err());
    }

    #[test]
    fn a_report_of_an_unknown_sub_partner_fails() {
        let org = wholesale_billing::Organisation::from_toml_str(
            "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n",
        )
        .unwrap();
        let (ledger, _) = AssignmentLedger::from_csv(
            "event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package\n".as_bytes(),
            org,
            wholesale_billing::LoadMode::Strict,
        )
        .unwrap();
        let (outcome, csv) = generate(&ledger, "gone", d(2024, 5, 1), d(2024, 5, 31), ReportLevel::User);
        assert!(csv.is_none());
        match outcome {
            Outcome::Failed { code, description } => {
                assert_eq!(code, REPORT_FAILED_CODE);
                assert!(description.contains("gone"), "{description}");
            }
            Outcome::Completed => panic!("expected a failure"),
        }
        let (outcome, csv) = generate(&ledger, "p", d(2024, 5, 1), d(2024, 5, 31), ReportLevel::Partner);
        assert_eq!(outcome, Outcome::Completed);
        assert!(csv.unwrap().starts_with(b"PARTNER_NAME,"));
    }

    #[test]
    fn status_needs_delay_and_outcome() {
        let mut r = ReportRecord {
            uuid: "u".into(),
            org_id: "p".into(),
            start: d(2024, 5, 1),
            end: d(2024, 5, 31),
            level: ReportLevel::User,
            created_ms: 0,
            created_by: String::new(),
            ready_ms: 100,
            file_uuid: "f".into(),
            outcome: None,
        };
        assert_eq!(Status::of(&r, 200), Status::InProgress);
        r.outcome = Some(Outcome::Completed);
        assert_eq!(Status::of(&r, 99), Status::InProgress);
        assert_eq!(Status::of(&r, 100), Status::Completed);
    }
}
