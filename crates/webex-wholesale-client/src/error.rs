//! The crate's one error type, the Webex error body, and the decoding helpers that locate a bad
//! field by its JSON path.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use wholesale_billing::Quoted;
use wholesale_billing::ccws::ErrorMessage;

use crate::models::{ReportError, ReportStatus};

/// The result type of this crate.
///
/// ```
/// fn report_id() -> webex_wholesale_client::Result<String> {
///     Ok("Y2lzY29zcGFyazovL3VzL0JJTExJTkdfUkVQT1JULzE".to_owned())
/// }
/// assert!(report_id().is_ok());
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to Webex or to the Cisco Commerce Catalog.
///
/// Messages are lower-case and never repeat their source (print the chain with
/// [`wholesale_billing::error_with_causes`]); errors of the Webex APIs carry the `trackingId` to
/// quote to Cisco.
///
/// ```
/// use webex_wholesale_client::Error;
/// let err = Error::NotHttpUrl { what: "base url", url: "ftp://example.com".into() };
/// assert_eq!(err.to_string(), r#"invalid configuration: base url "ftp://example.com" is not an absolute http(s) url"#);
/// assert_eq!(err.status(), None);
/// ```
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Webex client was built without a bearer token.
    #[error("invalid configuration: no bearer token: call token() or token_provider()")]
    MissingToken,
    /// The CCWS client was built without OAuth2 client credentials.
    #[error("invalid configuration: no ccws credentials: call credentials()")]
    MissingCcwsCredentials,
    /// A configured URL does not parse.
    #[error("invalid configuration: {what} {} is not a url", Quoted(text))]
    InvalidUrl {
        /// Which URL ("base url", "ccws api base").
        what: &'static str,
        /// The text as given.
        text: String,
        /// The parser's error.
        #[source]
        source: url::ParseError,
    },
    /// A configured URL parses but is not an absolute `http(s)` URL with a host.
    #[error("invalid configuration: {what} {} is not an absolute http(s) url", Quoted(url))]
    NotHttpUrl {
        /// Which URL ("base url", "ccws api base", "token url").
        what: &'static str,
        /// The URL as given.
        url: String,
    },
    /// A configured base URL has a query or a fragment, which the paths of requests cannot follow.
    #[error("invalid configuration: {what} {} must not have a query or fragment", Quoted(url))]
    UrlWithQuery {
        /// Which URL ("base url", "ccws api base").
        what: &'static str,
        /// The URL as given.
        url: String,
    },
    /// A download URL does not parse. The URL is not quoted: it may carry a signature.
    #[error("a download url must be an absolute http(s) url")]
    InvalidDownloadUrl(#[source] url::ParseError),
    /// A download URL has another scheme than `http` or `https`. The URL is not quoted: it may
    /// carry a signature.
    #[error("a download url must be an absolute http(s) url, not a {} url", Quoted(scheme))]
    DownloadUrlNotHttp {
        /// The URL's scheme (`ftp`, `file`).
        scheme: String,
    },
    /// The HTTP client could not be set up (its TLS backend, ...).
    #[error("invalid configuration: cannot set up the http client")]
    HttpClient(#[source] reqwest::Error),
    /// A request body could not be encoded as JSON.
    #[error("{context}: cannot encode the request body as json")]
    EncodeBody {
        /// The request (`POST /v1/wholesale/billing/reports`).
        context: String,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// A response body is not UTF-8 text.
    #[error("{context}: the response is not utf-8")]
    NotUtf8 {
        /// The request.
        context: String,
        /// The decoder's error.
        #[source]
        source: std::string::FromUtf8Error,
    },
    /// The service answered with an HTTP error status (after the retries the policy allows).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// A response body was not what the API documents; the error names the JSON path.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// A `Link: rel="next"` header leads back to a page already read: following it would loop.
    #[error("{endpoint}: the next page link leads back to a page already read")]
    PageLoop {
        /// The method and path of the page request (`GET /v1/customers`).
        endpoint: String,
    },
    /// The connection failed, or the response could not be read.
    #[error("{context}: transport error")]
    Transport {
        /// What was being done (`GET /v1/wholesale/billing/reports`).
        context: String,
        /// The underlying error (never carrying a signed download URL).
        #[source]
        source: reqwest::Error,
    },
    /// A request took longer than the configured timeout.
    #[error("{context}: timed out")]
    Timeout {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
    /// A billing report was still not complete at the caller's deadline.
    #[error("report {report_id} is still {status} after {waited:?}: deadline exceeded")]
    DeadlineExceeded {
        /// The report's id.
        report_id: String,
        /// Its last known status.
        status: ReportStatus,
        /// How long the client waited.
        waited: Duration,
    },
    /// A billing report's generation failed on the service.
    #[error("report {report_id} failed{}", FailedErrors(errors))]
    ReportFailed {
        /// The report's id.
        report_id: String,
        /// The report's `errors`, as sent.
        errors: Vec<ReportError>,
    },
    /// [`Client::fetch_usage`](crate::Client::fetch_usage) found no usable report in all its
    /// rounds: every report it created or awaited went away (another client deleted it) or
    /// conflicted.
    #[error("no usable report of {period} {level} after {rounds} rounds")]
    NoUsableReport {
        /// The period asked for.
        period: wholesale_billing::Period,
        /// The report level asked for.
        level: wholesale_billing::ReportLevel,
        /// How many rounds were tried.
        rounds: usize,
    },
    /// A billing report has no `tempDownloadURL` (it is not `COMPLETED`).
    #[error("report {report_id} has no download url (status {status})")]
    NoDownloadUrl {
        /// The report's id.
        report_id: String,
        /// Its status.
        status: ReportStatus,
    },
    /// The download host refused a report download (an expired, tampered or revoked URL).
    #[error("report download refused: http {status}: {message}")]
    Download {
        /// The HTTP status (403 for an expired or tampered URL, 404 for a deleted report).
        status: u16,
        /// The host's message (`the download URL has expired`), or an excerpt of its body.
        message: String,
    },
    /// A URL (a `Link: rel="next"` target, a request URL) is not on the configured API origin: the
    /// client refuses to send its token there.
    #[error("{context}: {origin} is not the api origin {expected}: refused")]
    ForeignOrigin {
        /// Where the URL came from (`next page link`).
        context: &'static str,
        /// The URL's origin (scheme, host and port).
        origin: String,
        /// The configured API origin.
        expected: String,
    },
    /// The OAuth2 token endpoint refused the credentials or the refresh token.
    #[error("oauth2 token request failed: http {status}: {error}{}", Describe(description))]
    OAuth {
        /// The HTTP status.
        status: u16,
        /// The OAuth2 `error` (`invalid_grant`, `invalid_client`).
        error: String,
        /// The `error_description`, when sent.
        description: Option<String>,
    },
    /// The Commerce Catalog answered `status: Error` for the whole request (such as `B1003`, more
    /// than 1000 PIDs in the request).
    #[error("commerce catalog: {request}: {}", CatalogMessage(message))]
    CatalogRefused {
        /// The request ("get offers", "get offer details").
        request: &'static str,
        /// The response's `errorMessage` (its `messageCode` and `messageText`), when sent.
        message: Option<ErrorMessage>,
    },
    /// The core library refused data the service sent (a report CSV, an offer details response).
    #[error("{context}")]
    Core {
        /// What was being read.
        context: String,
        /// The core's error, with the line, column or JSON path of the culprit.
        #[source]
        source: Box<wholesale_billing::Error>,
    },
    /// The CDR feed answered 451: the organisation's records are served in another region.
    #[error("{context}: http 451: this organisation's call records are served by {}{}",
        host.as_deref().map_or_else(|| "another region (not named)".to_owned(), |h| format!("{} ({})",
            Quoted(h), region.map_or("an unknown region", |r| r.as_str()))),
        TrackingSuffix(tracking_id))]
    CdrWrongRegion {
        /// The method and path of the request.
        context: String,
        /// The host the answer names (`analytics-calling-eu.webexapis.com`), when it names one.
        host: Option<String>,
        /// The region of that host, when it is a known one.
        region: Option<crate::cdr::CdrRegion>,
        /// The answer's message, as sent.
        message: String,
        /// The `trackingid` of the answer.
        tracking_id: Option<String>,
    },
    /// A CDR feed page size outside the documented 500 to 5000.
    #[error("invalid configuration: the cdr feed page size must be 500 to 5000, not {max}")]
    CdrPageSize {
        /// The size asked for.
        max: u32,
    },
    /// A CDR period that ends before it starts (or is empty).
    #[error("invalid cdr period: it ends ({end}) at or before it starts ({start})")]
    CdrEmptyPeriod {
        /// The start, RFC 3339.
        start: String,
        /// The end (exclusive), RFC 3339.
        end: String,
    },
    /// A region name that is none of `us`, `eu`, `in`, `au`, `gov`.
    #[error("unknown cdr region {}: expected us, eu, in, au or gov", Quoted(text))]
    UnknownCdrRegion {
        /// The text given.
        text: String,
    },
    /// An item of a CDR feed page that is not a JSON object.
    #[error("{context}: unexpected response at items[{index}]: a call record must be a json object")]
    CdrItemNotObject {
        /// The request and its window.
        context: String,
        /// The item's index in its page.
        index: usize,
    },
    /// The output of a CDR fetch could not be written, synced or renamed.
    #[error("cdr output {}: {what}", path.display())]
    CdrOutput {
        /// The file.
        path: std::path::PathBuf,
        /// What was being done ("writing", "syncing", "renaming into place").
        what: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint file that cannot be read as one.
    #[error("cdr checkpoint {}: not a checkpoint of this client", path.display())]
    CdrCheckpointUnreadable {
        /// The file.
        path: std::path::PathBuf,
        /// The JSON reader's error.
        #[source]
        source: serde_json::Error,
    },
    /// A checkpoint that does not fit the fetch being resumed.
    #[error("cdr checkpoint {}: {problem}", path.display())]
    CdrCheckpointMismatch {
        /// The file.
        path: std::path::PathBuf,
        /// What does not fit ("it is of the period ... not ...", "the partial output is shorter ...").
        problem: String,
    },
    /// A partial fetch exists beside the output and resuming was not asked for.
    #[error("cdr output {}: a partial fetch is checkpointed in {}: resume it, or delete both files to start again",
        path.display(), checkpoint.display())]
    CdrPartialExists {
        /// The output.
        path: std::path::PathBuf,
        /// Its checkpoint file.
        checkpoint: std::path::PathBuf,
    },
    /// The caller stopped the fetch (its progress callback answered `Break`); the output is
    /// checkpointed after the last complete window.
    #[error("cdr fetch stopped by the caller after {windows_done} complete windows")]
    CdrFetchStopped {
        /// Complete windows so far (of the whole period, resumed ones included).
        windows_done: u32,
    },
    /// The blocking client was called inside an async runtime.
    #[error("blocking runtime: the blocking client was called inside an async runtime: use the async client there")]
    InsideAsyncRuntime,
    /// The blocking client could not start its runtime.
    #[error("blocking runtime: cannot start the runtime")]
    RuntimeStart(#[source] std::io::Error),
}

impl Error {
    /// The HTTP status of an [`Error::Api`], [`Error::Download`] or [`Error::OAuth`].
    ///
    /// ```
    /// let err = webex_wholesale_client::Error::Download { status: 403, message: "expired".into() };
    /// assert_eq!(err.status(), Some(403));
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::CdrWrongRegion { .. } => Some(451),
            Error::Download { status, .. } | Error::OAuth { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The Webex `trackingId` of the failed request, when there was a response.
    ///
    /// ```
    /// let err = webex_wholesale_client::Error::MissingToken;
    /// assert_eq!(err.tracking_id(), None);
    /// ```
    pub fn tracking_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.tracking_id.as_deref(),
            Error::Decode(e) => e.tracking_id.as_deref(),
            Error::CdrWrongRegion { tracking_id, .. } => tracking_id.as_deref(),
            _ => None,
        }
    }

    /// Whether this is an HTTP 409 Conflict (a completed report for the period exists).
    ///
    /// ```
    /// let err = webex_wholesale_client::Error::MissingToken;
    /// assert!(!err.is_conflict());
    /// ```
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Api(e) if e.status == 409)
    }

    /// Whether this is an HTTP 404 Not Found.
    ///
    /// ```
    /// let err = webex_wholesale_client::Error::Download { status: 404, message: "gone".into() };
    /// assert!(!err.is_not_found()); // a download error, not an API error
    /// ```
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api(e) if e.status == 404)
    }

    /// Whether a create request that ended with this error may nevertheless have been carried out
    /// (a 5xx, a timeout or a broken connection): the response may have been lost.
    pub(crate) fn create_may_have_happened(&self) -> bool {
        match self {
            Error::Api(e) => e.status >= 500,
            Error::Timeout { .. } | Error::Transport { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn core(context: impl Into<String>, source: wholesale_billing::Error) -> Self {
        Error::Core {
            context: context.into(),
            source: Box::new(source),
        }
    }
}

impl From<wholesale_billing::Error> for Error {
    /// A core error met outside a download (a bad period, ...).
    fn from(source: wholesale_billing::Error) -> Self {
        Error::core("wholesale-billing", source)
    }
}

/// ` (tracking id X)` when there is one.
struct TrackingSuffix<'a>(&'a Option<String>);

impl fmt::Display for TrackingSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, " (tracking id {id})"),
            None => Ok(()),
        }
    }
}

struct FailedErrors<'a>(&'a [ReportError]);

impl fmt::Display for FailedErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            if let Some(code) = &e.code {
                write!(f, "{code} ")?;
            }
            f.write_str(e.description.as_deref().unwrap_or("(no description)"))?;
        }
        Ok(())
    }
}

struct CatalogMessage<'a>(&'a Option<ErrorMessage>);

impl fmt::Display for CatalogMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(m) if !m.is_empty() => m.fmt(f),
            _ => f.write_str("status Error without a message"),
        }
    }
}

struct Describe<'a>(&'a Option<String>);

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, ": {d}"),
            None => Ok(()),
        }
    }
}

/// An HTTP error answer of the Webex APIs.
///
/// ```
/// use webex_wholesale_client::{ApiError, ApiErrorBody};
/// let body: ApiErrorBody = serde_json::from_str(
///     r#"{"message": "Conflict", "errors": [{"description": "delete it first"}], "trackingId": "ROUTER_1"}"#).unwrap();
/// let err = ApiError::new("POST /v1/wholesale/billing/reports", 409, Some(body), None, "");
/// assert_eq!(err.message, "delete it first");
/// assert_eq!(err.tracking_id.as_deref(), Some("ROUTER_1"));
/// assert_eq!(err.to_string(),
///     "POST /v1/wholesale/billing/reports: http 409: delete it first (tracking id ROUTER_1)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The method and path of the request (`GET /v1/wholesale/billing/reports/Y2lz…`).
    pub endpoint: String,
    /// The HTTP status.
    pub status: u16,
    /// The best message found: the first `errors[].description`, else `message`, else an excerpt
    /// of the body, else the status's reason.
    pub message: String,
    /// The Webex error body, when the response had one.
    pub body: Option<ApiErrorBody>,
    /// The `trackingid` response header, else the body's `trackingId`.
    pub tracking_id: Option<String>,
}

impl ApiError {
    /// An error from its parts; `raw` is the response body, used when it is not a Webex error body.
    ///
    /// ```
    /// let err = webex_wholesale_client::ApiError::new("GET /x", 502, None, Some("T1".into()), "<html>bad gateway");
    /// assert_eq!(err.message, "<html>bad gateway");
    /// ```
    pub fn new(
        endpoint: impl Into<String>,
        status: u16,
        body: Option<ApiErrorBody>,
        header_tracking_id: Option<String>,
        raw: &str,
    ) -> Self {
        let from_body = body.as_ref().and_then(|b| {
            b.errors
                .iter()
                .filter_map(|e| e.description.as_deref())
                .map(str::trim)
                .find(|d| !d.is_empty())
                .or_else(|| b.message.as_deref().map(str::trim).filter(|m| !m.is_empty()))
                .map(str::to_owned)
        });
        let message = from_body
            .or_else(|| Some(excerpt(raw)).filter(|e| !e.is_empty() && e != "{}"))
            .unwrap_or_else(|| {
                reqwest::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("no message")
                    .to_lowercase()
            });
        let tracking_id = header_tracking_id.or_else(|| body.as_ref().and_then(|b| b.tracking_id.clone()));
        ApiError {
            endpoint: endpoint.into(),
            status,
            message,
            body,
            tracking_id,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: http {}: {}", self.endpoint, self.status, self.message)?;
        if let Some(t) = &self.tracking_id {
            write!(f, " (tracking id {t})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The error body of the Webex APIs: `{"message", "errors": [{"description"}], "trackingId"}`.
/// Every part may be missing.
///
/// ```
/// use webex_wholesale_client::ApiErrorBody;
/// let body: ApiErrorBody = serde_json::from_str(r#"{"errorCode": 451}"#).unwrap();
/// assert_eq!((body.error_code, body.message), (Some(451), None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ApiErrorBody {
    /// The summary message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The individual errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ApiErrorDetail>,
    /// The tracking id of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// A numeric error code, when sent at the top level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
}

/// One element of the `errors` of a Webex error body.
///
/// ```
/// let d: webex_wholesale_client::ApiErrorDetail =
///     serde_json::from_str(r#"{"description": "bad date", "errorCode": 400}"#).unwrap();
/// assert_eq!(d.description.as_deref(), Some("bad date"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ApiErrorDetail {
    /// What is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A numeric code, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
}

/// A response body that does not have the documented shape. What the JSON reader found wrong is
/// its source.
///
/// ```
/// let err = webex_wholesale_client::DecodeError {
///     context: "GET /v1/wholesale/billing/reports".into(),
///     path: "items[0].status".into(),
///     excerpt: r#"{"items":[{"status":3}]}"#.into(),
///     tracking_id: None,
///     source: serde_json::from_str::<String>("3").unwrap_err(),
/// };
/// assert_eq!(err.to_string(),
///     r#"GET /v1/wholesale/billing/reports: unexpected response at items[0].status (body: {"items":[{"status":3}]})"#);
/// assert_eq!(wholesale_billing::error_with_causes(&err),
///     format!("{err}: invalid type: integer `3`, expected a string at line 1 column 1"));
/// ```
#[derive(Debug)]
pub struct DecodeError {
    /// Which response (`GET /v1/wholesale/billing/reports`).
    pub context: String,
    /// The JSON path of the culprit (`items[3].status`; `.` for the whole body).
    pub path: String,
    /// What the JSON reader found wrong (its line and column are in the body as sent).
    pub source: serde_json::Error,
    /// The first characters of the body (empty for bodies that carry secrets, such as tokens).
    pub excerpt: String,
    /// The response's tracking id.
    pub tracking_id: Option<String>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: unexpected response at {}", self.context, self.path)?;
        if !self.excerpt.is_empty() {
            write!(f, " (body: {})", self.excerpt)?;
        }
        if let Some(t) = &self.tracking_id {
            write!(f, " (tracking id {t})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The most characters of a body quoted in an error.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// The first [`EXCERPT_CHARS`] characters of a body, control characters replaced, `…` when cut.
pub(crate) fn excerpt(raw: &str) -> String {
    let mut out: String = raw
        .trim()
        .chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if raw.trim().chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Decodes a JSON body, locating errors by JSON path. `secret` bodies are not quoted.
pub(crate) fn decode_json<T: DeserializeOwned>(
    bytes: &[u8],
    context: &str,
    tracking_id: Option<&str>,
    secret: bool,
) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let fail = |path: String, source: serde_json::Error| {
        Error::Decode(Box::new(DecodeError {
            context: context.to_owned(),
            path,
            source,
            excerpt: if secret {
                String::new()
            } else {
                excerpt(&String::from_utf8_lossy(bytes))
            },
            tracking_id: tracking_id.map(str::to_owned),
        }))
    };
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        fail(path, e.into_inner())
    })?;
    de.end().map_err(|e| fail(".".to_owned(), e))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        id: String,
        count: u32,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        items: Vec<Item>,
    }

    #[test]
    fn decode_errors_name_the_json_path_and_quote_the_body() {
        let body = br#"{"items": [{"id": "a", "count": 1}, {"id": "b", "count": "two"}]}"#;
        let err = decode_json::<Body>(body, "GET /x", Some("WBILL_1"), false).unwrap_err();
        let Error::Decode(d) = &err else { panic!("{err:?}") };
        assert_eq!(d.path, "items[1].count");
        assert!(d.source.to_string().contains("expected u32"), "{}", d.source);
        assert!(d.excerpt.starts_with(r#"{"items": [{"id": "a""#));
        assert_eq!(err.tracking_id(), Some("WBILL_1"));
        assert_eq!(
            wholesale_billing::error_with_causes(&err),
            format!(
                "GET /x: unexpected response at items[1].count (body: {}) (tracking id WBILL_1): \
                 invalid type: string \"two\", expected u32 at line 1 column 62",
                String::from_utf8_lossy(body)
            )
        );
        let secret = decode_json::<Body>(br#"{"access_token": "s3cr3t"}"#, "token", None, true).unwrap_err();
        let chain = wholesale_billing::error_with_causes(&secret);
        assert!(!chain.contains("s3cr3t"), "{chain}");
        let trailing = decode_json::<Body>(br#"{"items": []} x"#, "GET /x", None, false).unwrap_err();
        let chain = wholesale_billing::error_with_causes(&trailing);
        assert!(chain.starts_with("GET /x: unexpected response at . (body: "), "{chain}");
        assert!(chain.contains("trailing"), "{chain}");
    }

    #[test]
    fn excerpts_are_short_and_single_line() {
        let long = format!("line1\nline2 {}", "x".repeat(500));
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.starts_with("line1 line2") && e.ends_with('…'));
        assert_eq!(excerpt("  short  "), "short");
    }

    /// The variant of an error, by a `match` without a `_` arm: a new variant fails to compile here
    /// until it has a representative below.
    fn variant(e: &Error) -> usize {
        match e {
            Error::MissingToken => 0,
            Error::MissingCcwsCredentials => 1,
            Error::InvalidUrl { .. } => 2,
            Error::NotHttpUrl { .. } => 3,
            Error::UrlWithQuery { .. } => 4,
            Error::InvalidDownloadUrl(_) => 5,
            Error::DownloadUrlNotHttp { .. } => 6,
            Error::HttpClient(_) => 7,
            Error::EncodeBody { .. } => 8,
            Error::NotUtf8 { .. } => 9,
            Error::Api(_) => 10,
            Error::Decode(_) => 11,
            Error::PageLoop { .. } => 12,
            Error::Transport { .. } => 13,
            Error::Timeout { .. } => 14,
            Error::DeadlineExceeded { .. } => 15,
            Error::ReportFailed { .. } => 16,
            Error::NoUsableReport { .. } => 17,
            Error::NoDownloadUrl { .. } => 18,
            Error::Download { .. } => 19,
            Error::ForeignOrigin { .. } => 20,
            Error::OAuth { .. } => 21,
            Error::CatalogRefused { .. } => 22,
            Error::Core { .. } => 23,
            Error::InsideAsyncRuntime => 24,
            Error::RuntimeStart(_) => 25,
            Error::CdrWrongRegion { .. } => 26,
            Error::CdrPageSize { .. } => 27,
            Error::CdrEmptyPeriod { .. } => 28,
            Error::UnknownCdrRegion { .. } => 29,
            Error::CdrItemNotObject { .. } => 30,
            Error::CdrOutput { .. } => 31,
            Error::CdrCheckpointUnreadable { .. } => 32,
            Error::CdrCheckpointMismatch { .. } => 33,
            Error::CdrPartialExists { .. } => 34,
            Error::CdrFetchStopped { .. } => 35,
        }
    }

    const VARIANTS: usize = 36;

    /// A reqwest error with a source (a URL that does not parse).
    fn reqwest_error() -> reqwest::Error {
        reqwest::Client::new().get("http://[::1").build().unwrap_err()
    }

    fn representatives() -> Vec<Error> {
        let report_error = ReportError {
            code: Some(1),
            description: Some("no data".into()),
        };
        vec![
            Error::MissingToken,
            Error::MissingCcwsCredentials,
            Error::InvalidUrl {
                what: "base url",
                text: "http://[::1".into(),
                source: url::Url::parse("http://[::1").unwrap_err(),
            },
            Error::NotHttpUrl {
                what: "base url",
                url: "ftp://h".into(),
            },
            Error::UrlWithQuery {
                what: "base url",
                url: "http://h/?a=1".into(),
            },
            Error::InvalidDownloadUrl(url::Url::parse("a.csv").unwrap_err()),
            Error::DownloadUrlNotHttp { scheme: "ftp".into() },
            Error::HttpClient(reqwest_error()),
            Error::EncodeBody {
                context: "POST /x".into(),
                source: serde_json::to_vec(&std::collections::BTreeMap::from([((1, 2), 3)])).unwrap_err(),
            },
            Error::NotUtf8 {
                context: "POST /x".into(),
                source: String::from_utf8(vec![0xff]).unwrap_err(),
            },
            Error::Api(Box::new(ApiError::new("GET /x", 500, None, None, "boom"))),
            decode_json::<Body>(b"{}", "GET /x", None, false).unwrap_err(),
            Error::PageLoop {
                endpoint: "GET /x".into(),
            },
            Error::Transport {
                context: "GET /x".into(),
                source: reqwest_error(),
            },
            Error::Timeout {
                context: "GET /x".into(),
                source: reqwest_error(),
            },
            Error::DeadlineExceeded {
                report_id: "r".into(),
                status: ReportStatus::InProgress,
                waited: Duration::from_secs(1),
            },
            Error::ReportFailed {
                report_id: "r".into(),
                errors: vec![report_error],
            },
            Error::NoUsableReport {
                period: wholesale_billing::Period::month(2024, 5).unwrap(),
                level: wholesale_billing::ReportLevel::User,
                rounds: 6,
            },
            Error::NoDownloadUrl {
                report_id: "r".into(),
                status: ReportStatus::InProgress,
            },
            Error::Download {
                status: 403,
                message: "expired".into(),
            },
            Error::ForeignOrigin {
                context: "next page link",
                origin: "http://evil".into(),
                expected: "http://api".into(),
            },
            Error::OAuth {
                status: 400,
                error: "invalid_grant".into(),
                description: Some("expired".into()),
            },
            Error::CatalogRefused {
                request: "get offer details",
                message: Some(ErrorMessage {
                    message_code: Some("B1003".into()),
                    message_text: None,
                }),
            },
            Error::core(
                "report r csv",
                wholesale_billing::Organisation::from_json_str("{").unwrap_err(),
            ),
            Error::InsideAsyncRuntime,
            Error::RuntimeStart(std::io::Error::other("no threads")),
            Error::CdrWrongRegion {
                context: "GET /v1/cdr_feed".into(),
                host: Some("analytics-calling-eu.webexapis.com".into()),
                region: Some(crate::cdr::CdrRegion::Eu),
                message: "Please use analytics-calling-eu.webexapis.com".into(),
                tracking_id: Some("ROUTER_1".into()),
            },
            Error::CdrPageSize { max: 10 },
            Error::CdrEmptyPeriod {
                start: "2024-05-01T00:00:00.000Z".into(),
                end: "2024-05-01T00:00:00.000Z".into(),
            },
            Error::UnknownCdrRegion { text: "mars".into() },
            Error::CdrItemNotObject {
                context: "GET /v1/cdr_feed".into(),
                index: 3,
            },
            Error::CdrOutput {
                path: "cdrs.json.partial".into(),
                what: "syncing",
                source: std::io::Error::other("disk full"),
            },
            Error::CdrCheckpointUnreadable {
                path: "cdrs.json.checkpoint".into(),
                source: serde_json::from_str::<u8>("x").unwrap_err(),
            },
            Error::CdrCheckpointMismatch {
                path: "cdrs.json.checkpoint".into(),
                problem: "it is of a complete fetch".into(),
            },
            Error::CdrPartialExists {
                path: "cdrs.json".into(),
                checkpoint: "cdrs.json.checkpoint".into(),
            },
            Error::CdrFetchStopped { windows_done: 3 },
        ]
    }

    #[test]
    fn no_message_repeats_its_source() {
        let all = representatives();
        let seen: std::collections::BTreeSet<usize> = all.iter().map(variant).collect();
        assert_eq!(seen.len(), VARIANTS, "a variant without a representative");
        for e in &all {
            let mut outer: &(dyn std::error::Error + 'static) = e;
            let mut causes = 0;
            while let Some(inner) = outer.source() {
                let (o, i) = (outer.to_string(), inner.to_string());
                assert!(!i.is_empty() && !o.contains(&i), "{o:?} repeats its source {i:?}");
                outer = inner;
                causes += 1;
            }
            let line = wholesale_billing::error_with_causes(e);
            assert!(line.matches(": ").count() >= causes, "{line}");
            // Lower-case: a method or a code may open a message ("GET /x"), a capitalised word may not.
            let message = e.to_string();
            let first = message.split([' ', ':']).next().unwrap_or_default();
            assert!(
                !(first.chars().next().is_some_and(char::is_uppercase) && first.chars().any(char::is_lowercase)),
                "{message}"
            );
        }
        let transport = &all[13];
        assert_eq!(
            wholesale_billing::error_with_causes(transport),
            format!(
                "GET /x: transport error: builder error: {}",
                url::ParseError::InvalidIpv6Address
            )
        );
    }

    #[test]
    fn configured_urls_are_quoted_by_their_first_80_characters() {
        let url = format!("ftp://{}", "h".repeat(5000));
        let message = Error::NotHttpUrl { what: "base url", url }.to_string();
        assert_eq!(
            message,
            format!(
                "invalid configuration: base url \"ftp://{}\"… (5006 characters) is not an absolute http(s) url",
                "h".repeat(74)
            )
        );
    }

    #[test]
    fn api_error_message_falls_back_in_order() {
        let body = ApiErrorBody {
            message: Some("Top".into()),
            errors: vec![ApiErrorDetail {
                description: Some("  ".into()),
                error_code: None,
            }],
            tracking_id: Some("BODY_T".into()),
            error_code: None,
        };
        let e = ApiError::new("GET /x", 400, Some(body), None, "");
        assert_eq!((e.message.as_str(), e.tracking_id.as_deref()), ("Top", Some("BODY_T")));
        let e = ApiError::new("GET /x", 503, None, Some("HDR".into()), "");
        assert_eq!(e.message, "service unavailable");
        assert_eq!(e.tracking_id.as_deref(), Some("HDR"));
    }
}
