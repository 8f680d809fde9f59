//! The analytics regions of the CDR feed, and the 451 answer ("use another region") that names one.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::error::{Error, Result};

/// A Webex Calling analytics region, which serves the call records of the organisations it hosts.
///
/// ```
/// use webex_wholesale_client::cdr::CdrRegion;
/// let eu: CdrRegion = "EU".parse()?;
/// assert_eq!(eu.host(), "analytics-calling-eu.webexapis.com");
/// assert_eq!(eu.base_url(), "https://analytics-calling-eu.webexapis.com/v1");
/// assert_eq!(CdrRegion::from_host("analytics-calling.webexapis.com"), Some(CdrRegion::Us));
/// assert_eq!(CdrRegion::Gov.to_string(), "gov");
/// assert!("mars".parse::<CdrRegion>().is_err());
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CdrRegion {
    /// `analytics-calling.webexapis.com` (the default).
    #[default]
    Us,
    /// `analytics-calling-eu.webexapis.com`.
    Eu,
    /// `analytics-calling-in.webexapis.com`.
    In,
    /// `analytics-calling-au.webexapis.com`.
    Au,
    /// `analytics-calling-gov.webexapis.com`.
    Gov,
}

impl CdrRegion {
    /// Every region.
    pub const ALL: [CdrRegion; 5] = [
        CdrRegion::Us,
        CdrRegion::Eu,
        CdrRegion::In,
        CdrRegion::Au,
        CdrRegion::Gov,
    ];

    /// The region's name: `us`, `eu`, `in`, `au`, `gov`.
    ///
    /// ```
    /// assert_eq!(webex_wholesale_client::cdr::CdrRegion::Au.as_str(), "au");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            CdrRegion::Us => "us",
            CdrRegion::Eu => "eu",
            CdrRegion::In => "in",
            CdrRegion::Au => "au",
            CdrRegion::Gov => "gov",
        }
    }

    /// The analytics host.
    ///
    /// ```
    /// assert_eq!(webex_wholesale_client::cdr::CdrRegion::In.host(), "analytics-calling-in.webexapis.com");
    /// ```
    pub fn host(self) -> &'static str {
        match self {
            CdrRegion::Us => "analytics-calling.webexapis.com",
            CdrRegion::Eu => "analytics-calling-eu.webexapis.com",
            CdrRegion::In => "analytics-calling-in.webexapis.com",
            CdrRegion::Au => "analytics-calling-au.webexapis.com",
            CdrRegion::Gov => "analytics-calling-gov.webexapis.com",
        }
    }

    /// The API base URL to build a [`Client`](crate::Client) with: `https://<host>/v1`.
    ///
    /// ```
    /// let client = webex_wholesale_client::Client::builder()
    ///     .base_url(webex_wholesale_client::cdr::CdrRegion::Us.base_url()).token("t").build()?;
    /// assert_eq!(client.base_url().host_str(), Some("analytics-calling.webexapis.com"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn base_url(self) -> String {
        format!("https://{}/v1", self.host())
    }

    /// The region of an analytics host (case-insensitive), if it is one.
    ///
    /// ```
    /// use webex_wholesale_client::cdr::CdrRegion;
    /// assert_eq!(CdrRegion::from_host("Analytics-Calling-AU.webexapis.com"), Some(CdrRegion::Au));
    /// assert_eq!(CdrRegion::from_host("webexapis.com"), None);
    /// ```
    pub fn from_host(host: &str) -> Option<CdrRegion> {
        CdrRegion::ALL
            .into_iter()
            .find(|r| r.host().eq_ignore_ascii_case(host.trim()))
    }
}

impl fmt::Display for CdrRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CdrRegion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        CdrRegion::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::UnknownCdrRegion { text: s.to_owned() })
    }
}

/// A 451 answer as [`Error::CdrWrongRegion`], naming the host in "Please use {host}".
pub(super) fn wrong_region(e: Error) -> Error {
    match e {
        Error::Api(api) if api.status == 451 => {
            let message = api
                .body
                .as_ref()
                .and_then(|b| b.message.clone())
                .unwrap_or_else(|| api.message.clone());
            let host = named_host(&message);
            Error::CdrWrongRegion {
                context: api.endpoint,
                region: host.as_deref().and_then(CdrRegion::from_host),
                host,
                message,
                tracking_id: api.tracking_id,
            }
        }
        other => other,
    }
}

/// The host after "use " in a 451 message: a bare host or a URL.
fn named_host(message: &str) -> Option<String> {
    let lower = message.to_ascii_lowercase();
    let at = lower.rfind("use ")?;
    let word = message[at + 4..].split_whitespace().next()?;
    let word = word
        .trim_end_matches(['.', ',', ';', ')', '"', '\''])
        .trim_start_matches(['(', '"', '\'']);
    if word.is_empty() {
        return None;
    }
    let host = match Url::parse(word) {
        Ok(url) if url.host_str().is_some() => url.host_str().map(str::to_owned),
        _ => Some(word.split('/').next().unwrap_or(word).to_owned()),
    };
    host.filter(|h| !h.is_empty()).map(|h| h.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_named_by_451_answers() {
        for (message, host) in [
            (
                "This server cannot serve the data for this organization. Please use analytics-calling-eu.webexapis.com",
                Some("analytics-calling-eu.webexapis.com"),
            ),
            (
                "Please use https://Analytics-Calling-AU.webexapis.com/v1/cdr_feed.",
                Some("analytics-calling-au.webexapis.com"),
            ),
            (
                "Please use (analytics-calling-gov.webexapis.com).",
                Some("analytics-calling-gov.webexapis.com"),
            ),
            ("cannot serve this organization", None),
            ("Please use ", None),
        ] {
            assert_eq!(named_host(message).as_deref(), host, "{message}");
        }
    }
}
