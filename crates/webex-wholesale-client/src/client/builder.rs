//! [`ClientBuilder`]: base URL, token, timeouts, retry policy and user agent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::redirect;
use url::Url;

use super::{Client, DEFAULT_BASE_URL, DEFAULT_USER_AGENT, Inner};
use crate::auth::{Secret, TokenProvider};
use crate::error::{Error, Result};
use crate::pagination::same_origin;
use crate::retry::RetryPolicy;

/// Builds a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use webex_wholesale_client::{Client, RetryPolicy};
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:8484/v1")
///     .token("wbx-sandbox-partner-0123")
///     .timeout(Duration::from_secs(10))
///     .retry_policy(RetryPolicy::default().max_retries(2))
///     .user_agent("acme-billing/1.0")
///     .build()?;
/// assert_eq!(client.base_url().as_str(), "http://127.0.0.1:8484/v1");
/// assert!(!format!("{client:?}").contains("0123"));
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
pub struct ClientBuilder {
    base_url: String,
    token: Option<Arc<dyn TokenProvider>>,
    timeout: Duration,
    connect_timeout: Duration,
    download_timeout: Duration,
    retry: RetryPolicy,
    user_agent: String,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            download_timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            user_agent: DEFAULT_USER_AGENT.to_owned(),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("download_timeout", &self.download_timeout)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

impl ClientBuilder {
    /// The API base (default [`DEFAULT_BASE_URL`]); paths such as `/wholesale/billing/reports`
    /// are appended to it. The bearer token is only ever sent to its scheme, host and port.
    ///
    /// ```
    /// let client = webex_wholesale_client::Client::builder().base_url("http://localhost:8484/v1/").token("t").build()?;
    /// assert_eq!(client.base_url().as_str(), "http://localhost:8484/v1");
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// A fixed bearer token.
    ///
    /// ```
    /// use webex_wholesale_client::Client;
    /// assert!(Client::builder().build().is_err());
    /// assert!(Client::builder().token(String::from("t")).build().is_ok());
    /// ```
    #[must_use]
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(Arc::new(token.into()));
        self
    }

    /// A provider asked for the bearer token before every request (see [`TokenProvider`]).
    ///
    /// ```
    /// use webex_wholesale_client::{Client, Secret};
    /// let client = Client::builder().token_provider(|| async { Ok(Secret::new("fresh")) }).build()?;
    /// assert!(format!("{client:?}").contains(r#"token: "<redacted>""#));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn token_provider(mut self, provider: impl TokenProvider + 'static) -> Self {
        self.token = Some(Arc::new(provider));
        self
    }

    /// The longest an API request may take, response body included (default 30 s).
    ///
    /// ```
    /// let b = webex_wholesale_client::Client::builder().timeout(std::time::Duration::from_secs(5));
    /// assert!(format!("{b:?}").contains(", timeout: 5s,"));
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest a connection may take to open (default 10 s).
    ///
    /// ```
    /// let b = webex_wholesale_client::Client::builder().connect_timeout(std::time::Duration::from_secs(2));
    /// assert!(format!("{b:?}").contains("connect_timeout: 2s"));
    /// ```
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest a report download may take (default 300 s).
    ///
    /// ```
    /// let b = webex_wholesale_client::Client::builder().download_timeout(std::time::Duration::from_secs(600));
    /// assert!(format!("{b:?}").contains("download_timeout: 600s"));
    /// ```
    #[must_use]
    pub fn download_timeout(mut self, timeout: Duration) -> Self {
        self.download_timeout = timeout;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    ///
    /// ```
    /// use webex_wholesale_client::{Client, RetryPolicy};
    /// let client = Client::builder().retry_policy(RetryPolicy::none()).token("t").build()?;
    /// assert_eq!(client.retry_policy().max_retries, 0);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The `User-Agent` header (default [`DEFAULT_USER_AGENT`]).
    ///
    /// ```
    /// let client = webex_wholesale_client::Client::builder().user_agent("acme/2").token("t").build()?;
    /// assert!(format!("{client:?}").contains(r#"user_agent: "acme/2""#));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The client.
    ///
    /// # Errors
    /// [`Error::MissingToken`] when no token was given; [`Error::InvalidUrl`],
    /// [`Error::NotHttpUrl`] or [`Error::UrlWithQuery`] when the base URL is not an absolute
    /// http(s) URL without a query; [`Error::HttpClient`] when the HTTP client cannot be set up.
    ///
    /// ```
    /// let err = webex_wholesale_client::Client::builder().build().unwrap_err();
    /// assert!(matches!(err, webex_wholesale_client::Error::MissingToken));
    /// assert!(err.to_string().contains("no bearer token"));
    /// ```
    pub fn build(self) -> Result<Client> {
        let token = self.token.ok_or(Error::MissingToken)?;
        let base = parse_base(&self.base_url, "base url")?;
        let origin = base.clone();
        let api = reqwest::Client::builder()
            .user_agent(&self.user_agent)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .redirect(redirect::Policy::custom(move |attempt| {
                // Follow redirects only within the API origin: elsewhere the token would follow.
                if attempt.previous().len() >= 5 || !same_origin(attempt.url(), &origin) {
                    attempt.stop()
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(Error::HttpClient)?;
        let download = download_client(&self.user_agent, self.download_timeout, self.connect_timeout)?;
        Ok(Client {
            inner: Arc::new(Inner {
                api,
                download,
                base,
                token,
                retry: self.retry,
                user_agent: self.user_agent,
            }),
        })
    }
}

/// An HTTP client without credentials, for signed download URLs.
fn download_client(user_agent: &str, timeout: Duration, connect: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(timeout)
        .connect_timeout(connect)
        .redirect(redirect::Policy::limited(5))
        .build()
        .map_err(Error::HttpClient)
}

/// An absolute http(s) URL with a host, its path without a trailing slash.
pub(crate) fn parse_base(text: &str, what: &'static str) -> Result<Url> {
    let mut url = Url::parse(text.trim()).map_err(|source| Error::InvalidUrl {
        what,
        text: text.to_owned(),
        source,
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || url.cannot_be_a_base() {
        return Err(Error::NotHttpUrl {
            what,
            url: text.to_owned(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::UrlWithQuery {
            what,
            url: text.to_owned(),
        });
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}
