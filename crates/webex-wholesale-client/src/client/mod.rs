//! The Webex client: its builder, and the one place where requests are sent, retried and checked.

mod builder;

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use url::Url;

pub use builder::ClientBuilder;
pub(crate) use builder::parse_base;

use crate::auth::TokenProvider;
use crate::cdr::limit::{RateLimiter, RequestClass};
use crate::error::{ApiError, ApiErrorBody, Error, Result, decode_json, excerpt};
use crate::pagination::{ListBody, Page, next_link, origin_text, same_origin};
use crate::retry::{Decision, Outcome, RequestKind, RetryPolicy, parse_retry_after};

/// The default API base: `https://webexapis.com/v1`.
pub const DEFAULT_BASE_URL: &str = "https://webexapis.com/v1";

/// The default `User-Agent`: `webex-wholesale-client/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("webex-wholesale-client/", env!("CARGO_PKG_VERSION"));

/// The request header that carries the client's tracking id.
const TRACKING_ID: &str = "TrackingID";

/// The response header that carries the tracking id.
const RESPONSE_TRACKING_ID: &str = "trackingid";

/// The typed client of the Webex Wholesale billing-report, sub-partner and customer APIs.
///
/// Cheap to clone (the connection pool is shared). Every request carries a `TrackingID` header
/// (`WBILL_<uuid>`, kept across the retries of one call), is retried by the [`RetryPolicy`], and
/// is refused unless its URL is on the base URL's origin.
///
/// ```no_run
/// use webex_wholesale_client::{Client, Period, ReportLevel};
/// # async fn run() -> webex_wholesale_client::Result<()> {
/// let client = Client::builder().token(std::env::var("WEBEX_TOKEN").unwrap_or_default()).build()?;
/// let fetched = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::Customer, None).send().await?;
/// println!("{} rows", fetched.usage.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(super) api: reqwest::Client,
    pub(crate) download: reqwest::Client,
    pub(super) base: Url,
    pub(super) token: Arc<dyn TokenProvider>,
    pub(crate) retry: RetryPolicy,
    pub(super) user_agent: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("token", &"<redacted>")
            .field("retry", &self.inner.retry)
            .field("user_agent", &self.inner.user_agent)
            .finish()
    }
}

/// A successful response, its body read.
pub(crate) struct Response {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) tracking_id: Option<String>,
    pub(crate) context: String,
}

impl Response {
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T> {
        decode_json(&self.body, &self.context, self.tracking_id.as_deref(), false)
    }
}

impl Client {
    /// A builder with the defaults.
    ///
    /// ```
    /// use webex_wholesale_client::{Client, DEFAULT_BASE_URL, DEFAULT_USER_AGENT};
    /// let client = Client::builder().token("t").build()?;
    /// assert_eq!(client.base_url().as_str(), DEFAULT_BASE_URL);
    /// assert!(format!("{client:?}").contains(DEFAULT_USER_AGENT));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API base URL.
    ///
    /// ```
    /// let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// assert_eq!(client.base_url().as_str(), "https://webexapis.com/v1");
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The retry policy.
    ///
    /// ```
    /// let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// assert_eq!(client.retry_policy().max_retries, 4);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The URL of a path under the base: each segment percent-encoded.
    pub(crate) fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends one API request, retrying per the policy; `Ok` only for a 2xx answer.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        kind: RequestKind,
    ) -> Result<Response> {
        self.send_gated(method, url, body, kind, None).await
    }

    /// As [`Client::send`], every attempt (retries included) first waiting for `gate`: a rate
    /// limiter and the class of the request, as the limit counts it.
    pub(crate) async fn send_gated(
        &self,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
        kind: RequestKind,
        gate: Option<(&RateLimiter, RequestClass)>,
    ) -> Result<Response> {
        let context = format!("{method} {}", url.path());
        if !same_origin(&url, &self.inner.base) {
            return Err(Error::ForeignOrigin {
                context: "request url",
                origin: origin_text(&url),
                expected: origin_text(&self.inner.base),
            });
        }
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|source| Error::EncodeBody {
                context: context.clone(),
                source,
            })?;
        let tracking = format!("WBILL_{}", uuid::Uuid::new_v4());
        let inner = &self.inner;
        let (headers, body) = exchange(
            &inner.retry,
            kind,
            &context,
            || async {
                if let Some((limiter, class)) = gate {
                    limiter.acquire(class).await;
                }
                let token = inner.token.token().await?;
                let mut request = inner
                    .api
                    .request(method.clone(), url.clone())
                    .bearer_auth(token.expose())
                    .header(TRACKING_ID, &tracking)
                    .header(ACCEPT, "application/json");
                if let Some(body) = &body {
                    request = request.header(CONTENT_TYPE, "application/json").body(body.clone());
                }
                Ok(request)
            },
            |status, headers, body| api_error(&context, status, body, header_text(headers, RESPONSE_TRACKING_ID)),
        )
        .await?;
        let tracking_id = header_text(&headers, RESPONSE_TRACKING_ID);
        Ok(Response {
            headers,
            body,
            tracking_id,
            context,
        })
    }

    /// GETs a JSON resource.
    pub(crate) async fn get_json<T: DeserializeOwned>(&self, url: Url) -> Result<T> {
        self.send(Method::GET, url, None, RequestKind::Idempotent).await?.json()
    }

    /// GETs one page of a list.
    pub(crate) async fn get_page<T: DeserializeOwned>(&self, url: Url) -> Result<Page<T>> {
        let response = self
            .send(Method::GET, url.clone(), None, RequestKind::Idempotent)
            .await?;
        let body: ListBody<T> = response.json()?;
        Ok(Page::new(body.items, self.next_of(&response, &url)?))
    }

    /// The `Link: rel="next"` URL of a response to `url`, checked to be on the API origin.
    pub(crate) fn next_of(&self, response: &Response, url: &Url) -> Result<Option<Url>> {
        let links = response.headers.get_all(reqwest::header::LINK);
        let next = next_link(links.iter().filter_map(|v| v.to_str().ok()), url);
        if let Some(next) = &next
            && !same_origin(next, &self.inner.base)
        {
            return Err(Error::ForeignOrigin {
                context: "next page link",
                origin: origin_text(next),
                expected: origin_text(&self.inner.base),
            });
        }
        Ok(next)
    }

    /// The page after `page`, when there is one: its `Link: rel="next"` URL, followed verbatim.
    ///
    /// # Errors
    /// As every request ([`Error::Api`], [`Error::Decode`], ...); [`Error::ForeignOrigin`] when the
    /// next page's own next link leaves the API origin.
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let mut page = client.billing_reports().list().max(10).send().await?;
    /// loop {
    ///     for report in &page.items {
    ///         println!("{} {}", report.id, report.status);
    ///     }
    ///     match client.next_page(&page).await? {
    ///         Some(next) => page = next,
    ///         None => break,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_page<T: DeserializeOwned>(&self, page: &Page<T>) -> Result<Option<Page<T>>> {
        match &page.next {
            Some(url) => self.get_page(url.clone()).await.map(Some),
            None => Ok(None),
        }
    }

    /// Every item of `first` and of the pages after it.
    ///
    /// # Errors
    /// As [`Client::next_page`]; [`Error::PageLoop`] when a next link leads back to a page already
    /// read (a loop).
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let first = client.customers().list().max(100).send().await?;
    /// let customers = client.all_pages(first).await?;
    /// # Ok(()) }
    /// ```
    pub async fn all_pages<T: DeserializeOwned>(&self, first: Page<T>) -> Result<Vec<T>> {
        let mut items = first.items;
        let mut next = first.next;
        let mut seen = HashSet::new();
        while let Some(url) = next {
            if !seen.insert(url.as_str().to_owned()) {
                return Err(Error::PageLoop {
                    endpoint: format!("GET {}", url.path()),
                });
            }
            let page = self.get_page::<T>(url).await?;
            items.extend(page.items);
            next = page.next;
        }
        Ok(items)
    }
}

/// Sends a request built by `build` (again for every retry) until it succeeds or the policy
/// stops; an error status becomes the error `on_error` makes of it.
pub(crate) async fn exchange<B, F>(
    policy: &RetryPolicy,
    kind: RequestKind,
    context: &str,
    mut build: B,
    on_error: impl Fn(u16, &HeaderMap, &[u8]) -> Error,
) -> Result<(HeaderMap, Vec<u8>)>
where
    B: FnMut() -> F,
    F: Future<Output = Result<reqwest::RequestBuilder>>,
{
    let mut retries = 0u32;
    loop {
        let request = build().await?;
        let attempt = retries.saturating_add(1);
        // What is logged names the request by method and path only: never a query (a signed
        // download URL is a credential), never a header (the token).
        tracing::debug!(request = context, attempt, "sending");
        let started = std::time::Instant::now();
        let (outcome, error) = match read(request.send().await).await {
            Ok((status, headers, body)) if (200..300).contains(&status) => {
                tracing::info!(
                    request = context,
                    status,
                    bytes = body.len(),
                    ms = started.elapsed().as_millis() as u64,
                    attempt,
                    "answered"
                );
                return Ok((headers, body));
            }
            Ok((status, headers, body)) => {
                let retry_after = header_text(&headers, RETRY_AFTER.as_str()).and_then(|v| parse_retry_after(&v));
                tracing::info!(
                    request = context,
                    status,
                    ms = started.elapsed().as_millis() as u64,
                    attempt,
                    retry_after_ms = retry_after.map(|d| d.as_millis() as u64),
                    "answered with an error"
                );
                (
                    Outcome::Status { status, retry_after },
                    on_error(status, &headers, &body),
                )
            }
            Err(e) => {
                let failed = transport_error(e, context);
                tracing::info!(request = context, attempt, error = %failed.1, "no answer");
                failed
            }
        };
        match policy.decide(retries, kind, outcome) {
            Decision::Retry(wait) => {
                retries += 1;
                tracing::info!(
                    request = context,
                    wait_ms = wait.as_millis() as u64,
                    next_attempt = attempt.saturating_add(1),
                    "retrying"
                );
                tokio::time::sleep(wait).await;
            }
            Decision::Stop => return Err(error),
        }
    }
}

/// The status, headers and body of a response, or the error that prevented reading them.
pub(crate) async fn read(
    sent: std::result::Result<reqwest::Response, reqwest::Error>,
) -> std::result::Result<(u16, HeaderMap, Vec<u8>), reqwest::Error> {
    let response = sent?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    Ok((status, headers, body.to_vec()))
}

/// A header's value as text.
pub(crate) fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The typed error of an HTTP error answer.
pub(crate) fn api_error(context: &str, status: u16, body: &[u8], tracking_id: Option<String>) -> Error {
    let parsed = serde_json::from_slice::<ApiErrorBody>(body).ok();
    let raw = String::from_utf8_lossy(body);
    Error::Api(Box::new(ApiError::new(context, status, parsed, tracking_id, &raw)))
}

/// The retry outcome and the typed error of a failed exchange; the error never carries the URL
/// (a signed download URL is a credential).
pub(crate) fn transport_error(e: reqwest::Error, context: &str) -> (Outcome, Error) {
    let source = e.without_url();
    if source.is_timeout() {
        (
            Outcome::Timeout,
            Error::Timeout {
                context: context.to_owned(),
                source,
            },
        )
    } else {
        (
            Outcome::Transport,
            Error::Transport {
                context: context.to_owned(),
                source,
            },
        )
    }
}

/// A message for a refused download: the Webex error body's, else an XML `<Message>` (CloudFront),
/// else an excerpt of the body.
pub(crate) fn download_message(body: &[u8]) -> String {
    if let Ok(parsed) = serde_json::from_slice::<ApiErrorBody>(body) {
        let e = ApiError::new("", 0, Some(parsed), None, "");
        if !e.message.is_empty() && e.message != "no message" {
            return e.message;
        }
    }
    let raw = String::from_utf8_lossy(body);
    if let (Some(start), Some(end)) = (raw.find("<Message>"), raw.find("</Message>"))
        && start + 9 <= end
    {
        return excerpt(&raw[start + 9..end]);
    }
    excerpt(&raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            parse_base("http://127.0.0.1:1/v1/", "base url").unwrap().as_str(),
            "http://127.0.0.1:1/v1"
        );
        for bad in ["ftp://h/v1", "/v1", "mailto:x@y", "https://h/v1?x=1"] {
            assert!(parse_base(bad, "base url").is_err(), "{bad}");
        }
        let client = Client::builder().base_url("http://h:1/v1/").token("t").build().unwrap();
        assert_eq!(
            client.endpoint(&["wholesale", "billing", "reports", "a/b c"]).as_str(),
            "http://h:1/v1/wholesale/billing/reports/a%2Fb%20c"
        );
        let root = Client::builder().base_url("http://h:1").token("t").build().unwrap();
        assert_eq!(
            root.endpoint(&["wholesale", "customers"]).as_str(),
            "http://h:1/wholesale/customers"
        );
    }

    #[test]
    fn download_messages() {
        assert_eq!(
            download_message(br#"{"message": "the download URL has expired", "trackingId": "X"}"#),
            "the download URL has expired"
        );
        assert_eq!(
            download_message(b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"),
            "Request has expired"
        );
        assert_eq!(download_message(b"nope"), "nope");
    }

    #[test]
    fn debug_redacts_tokens() {
        let builder = Client::builder().token("super-secret-token");
        assert!(!format!("{builder:?}").contains("super-secret"));
        let client = builder.build().unwrap();
        let debug = format!("{client:?}");
        assert!(
            !debug.contains("super-secret") && debug.contains("<redacted>"),
            "{debug}"
        );
    }
}
