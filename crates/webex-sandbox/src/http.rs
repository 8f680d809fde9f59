//! HTTP plumbing: the router, the Webex error shape, tracking ids, fault injection, and helpers to
//! read bodies and queries without ever answering 500 to bad input.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use uuid::Uuid;

use crate::state::AppState;
use crate::stats::bump;
use crate::{ccws, cdr, downloads, partners, reports};

/// The largest Webex API request body (64 KiB); larger ones get 413.
pub(crate) const WEBEX_BODY_LIMIT: usize = 64 * 1024;
/// The largest CCWS request body (1 MiB: 1000 SKUs fit comfortably).
pub(crate) const CCWS_BODY_LIMIT: usize = 1024 * 1024;

const TRACKING_ID: HeaderName = HeaderName::from_static("trackingid");

/// A Webex API error: a status and a message, answered as
/// `{"message", "errors": [{"description"}], "trackingId"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) retry_after: Option<u64>,
    /// A top-level `errorCode` for the body (the CDR feed's 451 has one).
    pub(crate) error_code: Option<i64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
            error_code: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub(crate) fn unavailable() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the service is temporarily unavailable; retry later",
        )
    }

    /// The error for a body the extractor refused (413 when too large, else 400).
    pub(crate) fn from_body(rejection: &BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is larger than {} KiB", WEBEX_BODY_LIMIT / 1024),
            )
        } else {
            ApiError::bad_request(format!("the request body could not be read: {}", rejection.body_text()))
        }
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal sandbox error: {}", wholesale_billing::error_with_causes(&e)),
        )
    }
}

/// The message of an error response, for the tracking layer to render with the tracking id.
#[derive(Debug, Clone)]
struct WebexErrorMessage(String, Option<i64>);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response
            .extensions_mut()
            .insert(WebexErrorMessage(self.message, self.error_code));
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<i64>,
    errors: [ErrorDescription<'a>; 1],
    tracking_id: &'a str,
}

#[derive(Serialize)]
struct ErrorDescription<'a> {
    description: &'a str,
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (status, [(CONTENT_TYPE, "application/json")], bytes).into_response(),
        Err(e) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal sandbox error: {e}"),
        )
        .into_response(),
    }
}

/// Gives every response a `trackingid` header (the request's `TrackingID`, else `ROUTER_<uuid>`),
/// renders Webex errors with it, and counts requests.
async fn tracking(State(state): State<Arc<AppState>>, mut request: Request, next: Next) -> Response {
    if request.uri().path() != "/sandbox/stats" {
        bump(&state.counters.requests);
    }
    let sent = request
        .headers()
        .get(TRACKING_ID)
        .filter(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace))
        .cloned();
    let tracking_id = sent.unwrap_or_else(|| {
        HeaderValue::from_str(&format!("ROUTER_{}", Uuid::new_v4())).unwrap_or(HeaderValue::from_static("ROUTER"))
    });
    request.extensions_mut().insert(tracking_id.clone());
    let mut response = next.run(request).await;
    if let Some(WebexErrorMessage(message, error_code)) = response.extensions_mut().remove::<WebexErrorMessage>() {
        let id = String::from_utf8_lossy(tracking_id.as_bytes());
        let body = ErrorBody {
            message: &message,
            error_code,
            errors: [ErrorDescription { description: &message }],
            tracking_id: &id,
        };
        if let Ok(bytes) = serde_json::to_vec(&body) {
            *response.body_mut() = Body::from(bytes);
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
    }
    response.headers_mut().insert(TRACKING_ID, tracking_id);
    response
}

/// Decides the injected faults of a Webex API request before anything else happens.
async fn faults(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let n = bump(&state.counters.webex_requests);
    let faults = state.faults;
    if faults
        .every_429
        .is_some_and(|every| every > 0 && n.is_multiple_of(u64::from(every)))
    {
        bump(&state.counters.faults_429);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many requests; retry after the number of seconds in the retry-after header",
        );
        e.retry_after = Some(faults.retry_after_secs);
        return e.into_response();
    }
    if faults.percent_5xx > 0
        && splitmix64(faults.seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)) % 100 < u64::from(faults.percent_5xx)
    {
        bump(&state.counters.faults_5xx);
        return ApiError::unavailable().into_response();
    }
    next.run(request).await
}

/// A well-mixed 64-bit hash (SplitMix64's finaliser).
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

async fn not_found() -> ApiError {
    ApiError::not_found("the requested resource does not exist")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "the method is not allowed for the requested resource",
    )
}

async fn stats(State(state): State<Arc<AppState>>) -> Response {
    json_response(StatusCode::OK, &state.counters.snapshot())
}

/// Every route of the sandbox.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let webex = Router::new()
        .route(
            "/v1/wholesale/billing/reports",
            get(reports::list).post(reports::create),
        )
        .route(
            "/v1/wholesale/billing/reports/{id}",
            get(reports::get_one).delete(reports::delete),
        )
        .route("/v1/wholesale/subPartners", get(partners::sub_partners))
        .route("/v1/wholesale/customers", get(partners::customers))
        .route("/v1/wholesale/customers/{id}", get(partners::customer))
        .route("/v1/cdr_feed", get(cdr::feed))
        .layer(from_fn_with_state(state.clone(), faults))
        .layer(DefaultBodyLimit::max(WEBEX_BODY_LIMIT));
    let ccws = Router::new()
        .route("/oauth2/default/v1/token", post(ccws::token))
        .route("/commerce/CATALOG/lpcservices/v1/offers", post(ccws::offers))
        .route(
            "/commerce/CATALOG/lpcservices/v1/offerDetails",
            post(ccws::offer_details),
        )
        .layer(DefaultBodyLimit::max(CCWS_BODY_LIMIT));
    Router::new()
        .merge(webex)
        .merge(ccws)
        .route("/downloads/{file}", get(downloads::download))
        .route("/sandbox/stats", get(stats))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(WEBEX_BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), tracking))
        .with_state(state)
}

/// The body of a request, or the Webex error for it.
pub(crate) fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|r| ApiError::from_body(&r))
}

/// A request's query parameters, in order, decoded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query(pub(crate) Vec<(String, String)>);

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> Self {
        Query(
            url::form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`; an empty value counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every value of `name`, comma-separated lists split.
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// A non-negative integer parameter.
    pub(crate) fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => {
                v.trim().parse::<u64>().map(Some).map_err(|_| {
                    ApiError::bad_request(format!("{name} must be a non-negative whole number, not {v:?}"))
                })
            }
        }
    }

    /// `max`: 1 or more (default and ceiling 100; larger values are clamped).
    pub(crate) fn max(&self) -> Result<usize, ApiError> {
        match self.get("max") {
            None => Ok(MAX_PAGE),
            Some(v) => {
                let digits = v.trim().trim_start_matches('+');
                match digits.parse::<i64>() {
                    Ok(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(MAX_PAGE).min(MAX_PAGE)),
                    Ok(_) => Err(ApiError::bad_request(format!("max must be at least 1, not {v}"))),
                    // Too many digits for an i64: still a whole number, so clamped.
                    Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(MAX_PAGE),
                    Err(_) => Err(ApiError::bad_request(format!("max must be a whole number, not {v:?}"))),
                }
            }
        }
    }

    /// The `Link` header value to the same request with `name` set to `value` (other parameters
    /// kept in order), on `base`: the sandbox's public URL, never the request's `Host`.
    pub(crate) fn next_link(&self, base: &str, path: &str, name: &str, value: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in self.0.iter().filter(|(k, _)| k != name) {
            query.append_pair(k, v);
        }
        query.append_pair(name, value);
        format!("<{base}{path}?{}>; rel=\"next\"", query.finish())
    }
}

/// The most items a list page holds.
pub(crate) const MAX_PAGE: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_helpers() {
        let q = Query::parse(Some("max=500&status=a,b&status=c&empty=&offset=x&n=3"));
        assert_eq!(q.max().unwrap(), 100);
        assert_eq!(q.all("status"), vec!["a", "b", "c"]);
        assert_eq!(q.get("empty"), None);
        assert!(q.number("offset").is_err());
        assert_eq!(q.number("n").unwrap(), Some(3));
        assert!(Query::parse(Some("max=0")).max().is_err());
        assert!(Query::parse(Some("max=two")).max().is_err());
        assert_eq!(Query::parse(None).max().unwrap(), 100);
        assert_eq!(Query::parse(Some("max=123456789012345678901234")).max().unwrap(), 100);
        assert_eq!(Query::parse(Some("max=7")).max().unwrap(), 7);
        assert!(Query::parse(Some("max=-123456789012345678901234")).max().is_err());
        assert_eq!(
            Query::parse(Some("a=1&cursor=old&b=x y")).next_link("http://127.0.0.1:9", "/p", "cursor", "new"),
            "<http://127.0.0.1:9/p?a=1&b=x+y&cursor=new>; rel=\"next\""
        );
        assert_eq!(
            Query::default().next_link("https://sandbox.example/api", "/p", "offset", "2"),
            "<https://sandbox.example/api/p?offset=2>; rel=\"next\""
        );
    }

    #[test]
    fn the_5xx_draw_is_near_its_share() {
        let hits = (1..=10_000u64)
            .filter(|n| splitmix64(42 ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)) % 100 < 20)
            .count();
        assert!((1_800..2_200).contains(&hits), "{hits}");
    }
}
