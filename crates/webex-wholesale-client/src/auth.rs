//! Secrets and bearer tokens: a [`Secret`] never shows in `Debug`, and a [`TokenProvider`] gives
//! the client a fresh token before every request.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::Result;

/// A secret text (an access token, a client secret, a password): its `Debug` shows
/// `<redacted>`, it has no `Display`, and it is read only through [`Secret::expose`].
///
/// ```
/// use webex_wholesale_client::Secret;
/// let token = Secret::new("wbx-partner-0123456789abcdef");
/// assert_eq!(format!("{token:?}"), "Secret(<redacted>)");
/// assert_eq!(token.expose(), "wbx-partner-0123456789abcdef");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret text.
    ///
    /// ```
    /// let s = webex_wholesale_client::Secret::new(String::from("p@ss"));
    /// assert!(!s.is_empty());
    /// ```
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The secret text, for the one place that must send it.
    ///
    /// ```
    /// assert_eq!(webex_wholesale_client::Secret::from("t").expose(), "t");
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty (or only white space).
    ///
    /// ```
    /// assert!(webex_wholesale_client::Secret::from(" ").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Self {
        Secret(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Self {
        Secret(text.to_owned())
    }
}

/// The future a [`TokenProvider`] returns.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Secret>> + Send + 'a>>;

/// Where the client gets its bearer token, asked before every request (including retries), so a
/// provider can refresh an expiring OAuth token. A [`Secret`] is a provider of itself; so is any
/// `Fn() -> impl Future<Output = Result<Secret>>`.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use webex_wholesale_client::{Secret, TokenFuture, TokenProvider};
///
/// /// A provider that would call an OAuth server; here it counts its calls.
/// struct Rotating(AtomicU32);
///
/// impl TokenProvider for Rotating {
///     fn token(&self) -> TokenFuture<'_> {
///         Box::pin(async move {
///             let n = self.0.fetch_add(1, Ordering::Relaxed);
///             Ok(Secret::new(format!("token-{n}")))
///         })
///     }
/// }
///
/// // The client asks before every request; each answer is fresh.
/// let provider = Rotating(AtomicU32::new(0));
/// let runtime = tokio::runtime::Builder::new_current_thread().build()?;
/// assert_eq!(runtime.block_on(provider.token())?.expose(), "token-0");
/// assert_eq!(runtime.block_on(provider.token())?.expose(), "token-1");
///
/// let client = webex_wholesale_client::Client::builder().token_provider(provider).build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait TokenProvider: Send + Sync {
    /// The token to send now.
    ///
    /// # Errors
    /// Whatever the provider cannot overcome (its own OAuth server refusing, ...).
    fn token(&self) -> TokenFuture<'_>;
}

impl TokenProvider for Secret {
    fn token(&self) -> TokenFuture<'_> {
        let token = self.clone();
        Box::pin(async move { Ok(token) })
    }
}

impl<F, Fut> TokenProvider for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = Result<Secret>> + Send + 'static,
{
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self())
    }
}

impl<P: TokenProvider + ?Sized> TokenProvider for Arc<P> {
    fn token(&self) -> TokenFuture<'_> {
        (**self).token()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn providers() {
        let s = Secret::new("abc");
        assert_eq!(s.token().await.unwrap().expose(), "abc");
        let f = || async { Ok(Secret::new("from-closure")) };
        assert_eq!(f.token().await.unwrap().expose(), "from-closure");
        let shared: Arc<dyn TokenProvider> = Arc::new(Secret::new("shared"));
        assert_eq!(shared.token().await.unwrap().expose(), "shared");
        assert_eq!(format!("{:?}", Some(s)), "Some(Secret(<redacted>))");
    }
}
