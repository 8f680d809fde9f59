//! The CCWS OAuth2 token: resource-owner password grant, refresh-token grant, cached until shortly
//! before it expires.

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::header::ACCEPT;
use serde::Deserialize;
use url::Url;

use crate::auth::Secret;
use crate::client::exchange;
use crate::error::{Error, Result, decode_json};
use crate::retry::{RequestKind, RetryPolicy};

/// The credentials of the resource-owner password grant.
///
/// ```
/// use webex_wholesale_client::ccws::CcwsCredentials;
/// let c = CcwsCredentials::new("client-id", "client-secret", "cco-user", "cco-password");
/// let debug = format!("{c:?}");
/// assert!(!debug.contains("client-secret") && !debug.contains("cco-password"), "{debug}");
/// ```
#[derive(Clone)]
pub struct CcwsCredentials {
    /// The application's client id (from the Cisco API console).
    pub client_id: String,
    /// The application's client secret.
    pub client_secret: Secret,
    /// The CCO user name.
    pub username: String,
    /// The CCO password.
    pub password: Secret,
}

impl CcwsCredentials {
    /// Credentials from their four parts.
    ///
    /// ```
    /// let c = webex_wholesale_client::ccws::CcwsCredentials::new("id", "s", "u", "p");
    /// assert_eq!(c.username, "u");
    /// ```
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        CcwsCredentials {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            username: username.into(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for CcwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CcwsCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
}

/// The token endpoint's error answer.
#[derive(Deserialize, Default)]
#[serde(default)]
struct OAuthError {
    error: Option<String>,
    error_description: Option<String>,
}

/// The cached tokens.
#[derive(Default)]
pub(crate) struct TokenCache {
    access: Option<(Secret, Instant)>,
    refresh: Option<Secret>,
}

/// How a token was obtained (for tests and statistics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grant {
    Password,
    Refresh,
}

pub(crate) struct TokenSource {
    pub(crate) http: reqwest::Client,
    pub(crate) token_url: Url,
    pub(crate) credentials: CcwsCredentials,
    pub(crate) retry: RetryPolicy,
    pub(crate) refresh_margin: Duration,
    pub(crate) cache: tokio::sync::Mutex<TokenCache>,
}

impl TokenSource {
    /// The access token: the cached one until shortly before it expires, then one from the
    /// refresh token, else from the password grant.
    pub(crate) async fn access_token(&self) -> Result<Secret> {
        let mut cache = self.cache.lock().await;
        if let Some((token, renew_at)) = &cache.access
            && Instant::now() < *renew_at
        {
            return Ok(token.clone());
        }
        let refreshed = match cache.refresh.clone() {
            Some(refresh) => match self.grant(Grant::Refresh, Some(&refresh)).await {
                Ok(t) => Some(t),
                // A refused refresh token (expired, revoked): start again from the password.
                Err(Error::OAuth { .. }) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let response = match refreshed {
            Some(r) => r,
            None => self.grant(Grant::Password, None).await?,
        };
        // At most a day: a token is renewed at least daily, and the instant cannot overflow.
        let lifetime = Duration::from_secs(response.expires_in.unwrap_or(3600).min(86_400));
        let margin = self.refresh_margin.min(lifetime / 2);
        let token = Secret::new(response.access_token);
        cache.access = Some((token.clone(), Instant::now() + (lifetime - margin)));
        if let Some(refresh) = response.refresh_token {
            cache.refresh = Some(Secret::new(refresh));
        }
        Ok(token)
    }

    /// Forgets `token` (the API refused it) so that the next call gets another one.
    pub(crate) async fn invalidate(&self, token: &Secret) {
        let mut cache = self.cache.lock().await;
        if cache.access.as_ref().is_some_and(|(t, _)| t == token) {
            cache.access = None;
        }
    }

    async fn grant(&self, grant: Grant, refresh: Option<&Secret>) -> Result<TokenResponse> {
        let c = &self.credentials;
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.expose()),
        ];
        match (grant, refresh) {
            (Grant::Refresh, Some(token)) => {
                form.push(("grant_type", "refresh_token"));
                form.push(("refresh_token", token.expose()));
            }
            _ => {
                form.push(("grant_type", "password"));
                form.push(("username", c.username.as_str()));
                form.push(("password", c.password.expose()));
            }
        }
        let context = format!("POST {}", self.token_url.path());
        let (_, body) = exchange(
            &self.retry,
            RequestKind::Idempotent,
            &context,
            || async {
                Ok(self
                    .http
                    .post(self.token_url.clone())
                    .header(ACCEPT, "application/json")
                    .form(&form))
            },
            |status, _, body| {
                let parsed: OAuthError = serde_json::from_slice(body).unwrap_or_default();
                Error::OAuth {
                    status,
                    error: parsed.error.unwrap_or_else(|| "unknown_error".into()),
                    description: parsed.error_description,
                }
            },
        )
        .await?;
        decode_json(&body, &context, None, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_responses_are_never_quoted() {
        let err = decode_json::<TokenResponse>(br#"{"access_token": 5, "refresh": "r-secret"}"#, "POST /t", None, true)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("access_token") && !err.contains("r-secret"), "{err}");
    }
}
