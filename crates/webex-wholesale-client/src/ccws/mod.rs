//! The Cisco Commerce Catalog Web Services (CCWS): Get Offers and Get Offer Details, and the
//! wholesale rate card they give.
//!
//! Authentication is the OAuth2 resource-owner password grant at the token URL (default
//! `https://id.cisco.com/oauth2/default/v1/token`), refreshed with the refresh token; the access
//! token is cached until shortly before it expires, and sent only to the API base (default
//! `https://apix.cisco.com`). Responses are read by the core's tolerant
//! [`OfferDetailsResponse`] (prices digit for digit).

mod token;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Deserialize;
use serde_json::json;
use url::Url;
use wholesale_billing::ccws::{OfferDetailsResponse, OfferItem, OfferStatus};
use wholesale_billing::{Timestamp, WholesaleRateCard};

pub use token::CcwsCredentials;

use crate::auth::Secret;
use crate::client::{DEFAULT_USER_AGENT, api_error, exchange, header_text, parse_base};
use crate::error::{Error, Result};
use crate::pagination::{origin_text, same_origin};
use crate::retry::{RequestKind, RetryPolicy};
use token::{TokenCache, TokenSource};

/// The default token URL: `https://id.cisco.com/oauth2/default/v1/token`.
pub const DEFAULT_TOKEN_URL: &str = "https://id.cisco.com/oauth2/default/v1/token";

/// The default API base: `https://apix.cisco.com`.
pub const DEFAULT_API_BASE: &str = "https://apix.cisco.com";

/// The most SKUs in one Get Offer Details request (more is error `B1003`).
pub const MAX_SKUS_PER_REQUEST: usize = 1000;

/// The most pages of Get Offers read (a guard against a `totalPages` that never ends).
const MAX_PAGES: u32 = 10_000;

/// Builds a [`CcwsClient`].
///
/// ```
/// use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials};
/// let client = CcwsClient::builder()
///     .token_url("http://127.0.0.1:8484/oauth2/default/v1/token")
///     .api_base("http://127.0.0.1:8484")
///     .credentials(CcwsCredentials::new("sandbox", "client-secret", "sandbox", "cco-password"))
///     .price_list("1109")
///     .build()?;
/// let debug = format!("{client:?}");
/// assert!(!debug.contains("client-secret") && !debug.contains("cco-password"));
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Debug)]
pub struct CcwsClientBuilder {
    token_url: String,
    api_base: String,
    credentials: Option<CcwsCredentials>,
    price_list: String,
    created_by: String,
    timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
    refresh_margin: Duration,
}

impl Default for CcwsClientBuilder {
    fn default() -> Self {
        CcwsClientBuilder {
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            api_base: DEFAULT_API_BASE.to_owned(),
            credentials: None,
            price_list: "1109".to_owned(),
            created_by: "wholesale-billing".to_owned(),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            refresh_margin: Duration::from_secs(60),
        }
    }
}

impl CcwsClientBuilder {
    /// The OAuth2 token URL.
    ///
    /// ```
    /// use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials};
    /// let client = CcwsClient::builder()
    ///     .token_url("http://127.0.0.1:8484/oauth2/default/v1/token")
    ///     .credentials(CcwsCredentials::new("id", "secret", "user", "password"))
    ///     .build()?;
    /// assert!(format!("{client:?}").contains(r#"token_url: "http://127.0.0.1:8484/oauth2/default/v1/token""#));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// The API base; `/commerce/CATALOG/lpcservices/v1/...` is appended.
    ///
    /// ```
    /// use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials};
    /// let client = CcwsClient::builder()
    ///     .api_base("http://127.0.0.1:8484/")
    ///     .credentials(CcwsCredentials::new("id", "secret", "user", "password"))
    ///     .build()?;
    /// assert!(format!("{client:?}").contains(r#"api_base: "http://127.0.0.1:8484/""#));
    /// assert!(CcwsClient::builder().api_base("apix.cisco.com").build().is_err());
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn api_base(mut self, url: impl Into<String>) -> Self {
        self.api_base = url.into();
        self
    }

    /// The OAuth2 credentials (required).
    ///
    /// ```
    /// use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials};
    /// assert!(CcwsClient::builder().build().is_err());
    /// let client = CcwsClient::builder().credentials(CcwsCredentials::new("id", "client-secret", "user", "cco-password")).build()?;
    /// let debug = format!("{client:?}");
    /// assert!(!debug.contains("client-secret") && !debug.contains("cco-password"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn credentials(mut self, credentials: CcwsCredentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The ERP price list id (`priceListId`, default `1109`).
    ///
    /// ```
    /// let b = webex_wholesale_client::ccws::CcwsClient::builder().price_list("1109");
    /// assert!(format!("{b:?}").contains(r#"price_list: "1109""#));
    /// ```
    #[must_use]
    pub fn price_list(mut self, id: impl Into<String>) -> Self {
        self.price_list = id.into();
        self
    }

    /// The application name sent as `createdBy` (default `wholesale-billing`, at most 50 chars).
    ///
    /// ```
    /// let b = webex_wholesale_client::ccws::CcwsClient::builder().created_by("acme-billing");
    /// assert!(format!("{b:?}").contains(r#"created_by: "acme-billing""#));
    /// ```
    #[must_use]
    pub fn created_by(mut self, name: impl Into<String>) -> Self {
        self.created_by = name.into();
        self
    }

    /// The longest a request may take (default 60 s).
    ///
    /// ```
    /// let b = webex_wholesale_client::ccws::CcwsClient::builder().timeout(std::time::Duration::from_secs(20));
    /// assert!(format!("{b:?}").contains("timeout: 20s"));
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy (the catalog queries are read-only, retried on 429 and 5xx).
    ///
    /// ```
    /// let b = webex_wholesale_client::ccws::CcwsClient::builder().retry_policy(webex_wholesale_client::RetryPolicy::none());
    /// assert!(format!("{b:?}").contains("max_retries: 0"));
    /// ```
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The `User-Agent` header.
    ///
    /// ```
    /// let b = webex_wholesale_client::ccws::CcwsClient::builder().user_agent("acme/1");
    /// assert!(format!("{b:?}").contains(r#"user_agent: "acme/1""#));
    /// ```
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How long before its expiry a token is renewed (default 60 s; at most half its lifetime).
    ///
    /// ```
    /// let b = webex_wholesale_client::ccws::CcwsClient::builder().refresh_margin(std::time::Duration::from_secs(30));
    /// assert!(format!("{b:?}").contains("refresh_margin: 30s"));
    /// ```
    #[must_use]
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// The client.
    ///
    /// # Errors
    /// [`Error::MissingCcwsCredentials`] without credentials; [`Error::InvalidUrl`],
    /// [`Error::NotHttpUrl`] or [`Error::UrlWithQuery`] for a URL that is not absolute http(s)
    /// (or, for the API base, has a query); [`Error::HttpClient`] when the HTTP client cannot be
    /// set up.
    ///
    /// ```
    /// use webex_wholesale_client::{Error, ccws::CcwsClient};
    /// assert!(matches!(CcwsClient::builder().build(), Err(Error::MissingCcwsCredentials)));
    /// ```
    pub fn build(self) -> Result<CcwsClient> {
        let credentials = self.credentials.ok_or(Error::MissingCcwsCredentials)?;
        let token_url = Url::parse(self.token_url.trim()).map_err(|source| Error::InvalidUrl {
            what: "token url",
            text: self.token_url.clone(),
            source,
        })?;
        if !matches!(token_url.scheme(), "http" | "https") || token_url.host_str().is_none() {
            return Err(Error::NotHttpUrl {
                what: "token url",
                url: self.token_url,
            });
        }
        let api_base = parse_base(&self.api_base, "ccws api base")?;
        let http = reqwest::Client::builder()
            .user_agent(&self.user_agent)
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::HttpClient)?;
        Ok(CcwsClient {
            inner: Arc::new(CcwsInner {
                tokens: TokenSource {
                    http: http.clone(),
                    token_url,
                    credentials,
                    retry: self.retry,
                    refresh_margin: self.refresh_margin,
                    cache: tokio::sync::Mutex::new(TokenCache::default()),
                },
                http,
                api_base,
                price_list: self.price_list,
                created_by: self.created_by,
                retry: self.retry,
            }),
        })
    }
}

/// The client of the Commerce Catalog: offers of a price list, offer details, rate cards.
///
/// ```no_run
/// use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials};
/// # async fn run() -> webex_wholesale_client::Result<()> {
/// let ccws = CcwsClient::builder()
///     .credentials(CcwsCredentials::new("client-id", "client-secret", "cco-user", "cco-password"))
///     .build()?;
/// let card = ccws.price_list_rate_card().await?;
/// for rate in card.rates() {
///     println!("{} {} {}", rate.sku, rate.rate, card.currency());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CcwsClient {
    inner: Arc<CcwsInner>,
}

struct CcwsInner {
    tokens: TokenSource,
    http: reqwest::Client,
    api_base: Url,
    price_list: String,
    created_by: String,
    retry: RetryPolicy,
}

impl fmt::Debug for CcwsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CcwsClient")
            .field("token_url", &self.inner.tokens.token_url.as_str())
            .field("api_base", &self.inner.api_base.as_str())
            .field("credentials", &self.inner.tokens.credentials)
            .field("price_list", &self.inner.price_list)
            .finish_non_exhaustive()
    }
}

/// One page of Get Offers.
///
/// ```
/// let page = webex_wholesale_client::ccws::OffersPage { page_no: 1, total_pages: 1, items: vec![] };
/// assert!(page.items.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OffersPage {
    /// This page's number (from 1).
    pub page_no: u32,
    /// The number of pages (`totalPages`).
    pub total_pages: u32,
    /// The offers (`itemDetails`): description, ERP family, subscription type, charge type, SKU.
    pub items: Vec<OfferItem>,
}

/// The paging fields of a Get Offers response; numbers may come as text.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PageInfo {
    page_no: Option<serde_json::Value>,
    total_pages: Option<serde_json::Value>,
}

fn number(value: Option<&serde_json::Value>) -> Option<u32> {
    match value? {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl CcwsClient {
    /// A builder with the defaults.
    ///
    /// ```
    /// use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials, DEFAULT_API_BASE, DEFAULT_TOKEN_URL};
    /// let client = CcwsClient::builder().credentials(CcwsCredentials::new("id", "secret", "user", "password")).build()?;
    /// let debug = format!("{client:?}");
    /// assert!(debug.contains(DEFAULT_TOKEN_URL) && debug.contains(DEFAULT_API_BASE));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn builder() -> CcwsClientBuilder {
        CcwsClientBuilder::default()
    }

    /// The current access token (cached; renewed shortly before expiry, by the refresh token when
    /// there is one).
    ///
    /// # Errors
    /// [`Error::OAuth`] when the token endpoint refuses the credentials; transport errors.
    ///
    /// ```no_run
    /// # async fn run(ccws: webex_wholesale_client::ccws::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let token = ccws.access_token().await?;
    /// assert_eq!(format!("{token:?}"), "Secret(<redacted>)");
    /// # Ok(()) }
    /// ```
    pub async fn access_token(&self) -> Result<Secret> {
        self.inner.tokens.access_token().await
    }

    /// One page of Get Offers for the price list.
    ///
    /// # Errors
    /// [`Error::CatalogRefused`] for a response with status `Error`; [`Error::Core`] for a malformed
    /// response; [`Error::Api`], [`Error::OAuth`], transport errors.
    ///
    /// ```no_run
    /// # async fn run(ccws: webex_wholesale_client::ccws::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let first = ccws.offers_page(1).await?;
    /// println!("{} pages", first.total_pages);
    /// # Ok(()) }
    /// ```
    pub async fn offers_page(&self, page_no: u32) -> Result<OffersPage> {
        let mut body = self.envelope();
        body["pageNo"] = json!(page_no);
        let text = self.post("offers", &body).await?;
        let response = read_response(&text, "get offers")?;
        let info: PageInfo = serde_json::from_str(&text).unwrap_or_default();
        Ok(OffersPage {
            page_no: number(info.page_no.as_ref()).unwrap_or(page_no),
            total_pages: number(info.total_pages.as_ref()).unwrap_or(page_no),
            items: response.item_details,
        })
    }

    /// Every offer of the price list: Get Offers page by page (`pageNo` from 1 to `totalPages`).
    ///
    /// # Errors
    /// As [`CcwsClient::offers_page`].
    ///
    /// ```no_run
    /// # async fn run(ccws: webex_wholesale_client::ccws::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let skus: Vec<String> = ccws.offers().await?.into_iter().filter_map(|o| o.product_id).collect();
    /// # Ok(()) }
    /// ```
    pub async fn offers(&self) -> Result<Vec<OfferItem>> {
        let mut items = Vec::new();
        let mut page_no = 1;
        loop {
            let page = self.offers_page(page_no).await?;
            let empty = page.items.is_empty();
            items.extend(page.items);
            if page_no >= page.total_pages.min(MAX_PAGES) || empty {
                return Ok(items);
            }
            page_no += 1;
        }
    }

    /// Get Offer Details for `skus` (duplicates removed, order kept), in requests of at most
    /// [`MAX_SKUS_PER_REQUEST`] SKUs: one response per request. Unknown SKUs come back as items
    /// with an `errorMessage`.
    ///
    /// # Errors
    /// [`Error::CatalogRefused`] for a response with status `Error` and no items (such as `B1003`);
    /// [`Error::Core`] for a malformed response; [`Error::Api`], [`Error::OAuth`], transport
    /// errors.
    ///
    /// ```no_run
    /// # async fn run(ccws: webex_wholesale_client::ccws::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let responses = ccws.offer_details(&["A-W-WXC-CALL-U", "A-W-WXM-MEET-U"]).await?;
    /// assert_eq!(responses.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn offer_details<S: AsRef<str>>(&self, skus: &[S]) -> Result<Vec<OfferDetailsResponse>> {
        let mut seen = std::collections::HashSet::new();
        let unique: Vec<&str> = skus
            .iter()
            .map(|s| s.as_ref().trim())
            .filter(|s| !s.is_empty() && seen.insert(*s))
            .collect();
        let mut responses = Vec::new();
        for batch in unique.chunks(MAX_SKUS_PER_REQUEST) {
            let mut body = self.envelope();
            body["itemList"] = json!(batch);
            let text = self.post("offerDetails", &body).await?;
            responses.push(read_response(&text, "get offer details")?);
        }
        Ok(responses)
    }

    /// The wholesale rate card of `skus`: [`CcwsClient::offer_details`], the batches merged, read
    /// by [`WholesaleRateCard::from_offer_details`].
    ///
    /// # Errors
    /// As [`CcwsClient::offer_details`]; [`Error::Core`] when the details do not make a rate card
    /// (an unknown SKU, a SKU without price, two currencies...), with the JSON path of the item.
    ///
    /// ```no_run
    /// # async fn run(ccws: webex_wholesale_client::ccws::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let card = ccws.rate_card(&["A-W-WXC-CALL-U"]).await?;
    /// println!("{}", card.rate("A-W-WXC-CALL-U").map(|r| r.rate).unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn rate_card<S: AsRef<str>>(&self, skus: &[S]) -> Result<WholesaleRateCard> {
        let mut responses = self.offer_details(skus).await?.into_iter();
        let mut merged = responses.next().unwrap_or_default();
        for r in responses {
            merged.item_details.extend(r.item_details);
            // The merged status is the worst of the batches' (Error, then Warning).
            if severity(r.status.as_ref()) > severity(merged.status.as_ref()) {
                merged.status = r.status;
            }
            if merged.error_message.is_none() {
                merged.error_message = r.error_message;
            }
        }
        WholesaleRateCard::from_offer_details(&merged).map_err(|e| Error::core("offer details", e))
    }

    /// The rate card of every offer of the price list: [`CcwsClient::offers`], then
    /// [`CcwsClient::rate_card`] of their SKUs.
    ///
    /// # Errors
    /// As those two.
    ///
    /// ```no_run
    /// # async fn run(ccws: webex_wholesale_client::ccws::CcwsClient) -> webex_wholesale_client::Result<()> {
    /// let card = ccws.price_list_rate_card().await?;
    /// # Ok(()) }
    /// ```
    pub async fn price_list_rate_card(&self) -> Result<WholesaleRateCard> {
        let skus: Vec<String> = self.offers().await?.into_iter().filter_map(|o| o.product_id).collect();
        self.rate_card(&skus).await
    }

    /// The fields every catalog request carries.
    fn envelope(&self) -> serde_json::Value {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        json!({
            "uuid": format!("WBILL_{}", uuid::Uuid::new_v4()),
            "createdBy": self.inner.created_by,
            "createdDateTime": Timestamp::from_micros(now).to_report_string(),
            "priceList": [{"priceListId": self.inner.price_list, "codeType": "PriceListIdentifier"}],
        })
    }

    /// POSTs to `/commerce/CATALOG/lpcservices/v1/<operation>` with the access token; a 401 gets
    /// one more try with a new token.
    async fn post(&self, operation: &str, body: &serde_json::Value) -> Result<String> {
        let mut url = self.inner.api_base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend(["commerce", "CATALOG", "lpcservices", "v1", operation]);
        }
        if !same_origin(&url, &self.inner.api_base) {
            return Err(Error::ForeignOrigin {
                context: "ccws request url",
                origin: origin_text(&url),
                expected: origin_text(&self.inner.api_base),
            });
        }
        let context = format!("POST {}", url.path());
        let mut renewed = false;
        loop {
            let token = self.inner.tokens.access_token().await?;
            let result = exchange(
                &self.inner.retry,
                RequestKind::Idempotent,
                &context,
                || async {
                    Ok(self
                        .inner
                        .http
                        .post(url.clone())
                        .bearer_auth(token.expose())
                        .header(ACCEPT, "application/json")
                        .header(CONTENT_TYPE, "application/json")
                        .body(body.to_string()))
                },
                |status, headers, body| api_error(&context, status, body, header_text(headers, "trackingid")),
            )
            .await;
            match result {
                Err(e) if e.status() == Some(401) && !renewed => {
                    self.inner.tokens.invalidate(&token).await;
                    renewed = true;
                }
                Err(e) => return Err(e),
                Ok((_, bytes)) => {
                    return String::from_utf8(bytes).map_err(|source| Error::NotUtf8 {
                        context: context.clone(),
                        source,
                    });
                }
            }
        }
    }
}

/// How bad a response status is: `Error` above `Warning` above the rest.
fn severity(status: Option<&OfferStatus>) -> u8 {
    match status {
        Some(OfferStatus::Error) => 2,
        Some(OfferStatus::Warning) => 1,
        _ => 0,
    }
}

/// Reads a catalog response; a top-level `status: Error` without items is an
/// [`Error::CatalogRefused`].
fn read_response(text: &str, request: &'static str) -> Result<OfferDetailsResponse> {
    let response = OfferDetailsResponse::from_json_str(text).map_err(|e| Error::core(request, e))?;
    if response.status == Some(OfferStatus::Error) && response.item_details.is_empty() {
        return Err(Error::CatalogRefused {
            request,
            message: response.error_message,
        });
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_errors() {
        let err = read_response(
            r#"{"status": "Error", "errorMessage": {"messageCode": "B1003", "messageText": "Maximum of 1000 items exceeded"}}"#,
            "get offer details",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "commerce catalog: get offer details: error B1003: Maximum of 1000 items exceeded \
             (B1003: more than 1000 PIDs in the request)"
        );
        let Error::CatalogRefused {
            request,
            message: Some(message),
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (*request, message.message_code.as_deref()),
            ("get offer details", Some("B1003"))
        );
        let bare = read_response(r#"{"status": "Error"}"#, "get offers").unwrap_err();
        assert_eq!(
            bare.to_string(),
            "commerce catalog: get offers: status Error without a message"
        );
        assert!(matches!(read_response("{", "x"), Err(Error::Core { .. })));
        assert_eq!(number(Some(&json!("3"))), Some(3));
        assert_eq!(number(Some(&json!(-1))), None);
        let order = [
            None,
            Some(OfferStatus::Success),
            Some(OfferStatus::Warning),
            Some(OfferStatus::Error),
        ];
        let ranks: Vec<u8> = order.iter().map(|s| severity(s.as_ref())).collect();
        assert_eq!(ranks, [0, 0, 1, 2]);
    }
}
