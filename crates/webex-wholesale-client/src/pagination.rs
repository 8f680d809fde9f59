//! Pages of a list and the `Link: <…>; rel="next"` header (RFC 8288) that leads to the next one.
//!
//! The client follows next links verbatim (the Webex convention), but only on the API's own
//! origin: a next link to another scheme, host or port is refused with
//! [`crate::Error::ForeignOrigin`] rather than sent the bearer token.

use serde::Deserialize;
use url::Url;

/// One page of a list, and the URL of the next page when the service gave one.
///
/// ```
/// use webex_wholesale_client::Page;
/// let page = Page::new(vec![1, 2, 3], None);
/// assert!(!page.has_next());
/// assert_eq!(page.into_iter().sum::<i32>(), 6);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The `Link: rel="next"` URL, already checked to be on the API origin.
    pub next: Option<Url>,
}

impl<T> Page<T> {
    /// A page of `items`.
    ///
    /// ```
    /// let page = webex_wholesale_client::Page::new(vec!["a"], None);
    /// assert_eq!(page.items, ["a"]);
    /// ```
    pub fn new(items: Vec<T>, next: Option<Url>) -> Self {
        Page { items, next }
    }

    /// Whether a next page follows.
    ///
    /// ```
    /// let next = url::Url::parse("https://webexapis.com/v1/wholesale/customers?offset=10").ok();
    /// assert!(webex_wholesale_client::Page::<u8>::new(vec![], next).has_next());
    /// ```
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// A list body: `{"items": [...]}`, or `{"subPartners": [...]}` (the key of the sub-partner
/// example in the public specification). A body without either key is an empty page.
#[derive(Debug, Deserialize)]
pub(crate) struct ListBody<T> {
    #[serde(default = "Vec::new", alias = "subPartners")]
    pub(crate) items: Vec<T>,
}

/// The target of the `rel="next"` link among the `Link` header values, resolved against `base`
/// (the URL of the page that carried it). Parameters other than `rel` are ignored; `rel` may list
/// several relation types (`rel="next last"`).
///
/// ```
/// use url::Url;
/// use webex_wholesale_client::pagination::next_link;
/// let base = Url::parse("https://webexapis.com/v1/wholesale/customers?max=2")?;
/// let header = r#"<https://webexapis.com/v1/wholesale/customers?max=2&offset=0>; rel="prev", </v1/wholesale/customers?max=2&offset=4>; rel="next""#;
/// assert_eq!(next_link([header], &base).unwrap().as_str(),
///     "https://webexapis.com/v1/wholesale/customers?max=2&offset=4");
/// assert_eq!(next_link(["<https://x/>; rel=prev"], &base), None);
/// # Ok::<(), url::ParseError>(())
/// ```
pub fn next_link<'a>(values: impl IntoIterator<Item = &'a str>, base: &Url) -> Option<Url> {
    values
        .into_iter()
        .flat_map(parse_links)
        .find(|(_, rels)| rels.split_ascii_whitespace().any(|r| r.eq_ignore_ascii_case("next")))
        .and_then(|(target, _)| base.join(target.trim()).ok())
}

/// The `(target, rel)` pairs of one `Link` header value.
fn parse_links(value: &str) -> Vec<(&str, String)> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>').map(|i| open + i) else {
            break;
        };
        let target = &rest[open + 1..close];
        rest = &rest[close + 1..];
        // The parameters run to the next top-level comma (commas may appear in quoted values).
        let mut in_quotes = false;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '"' => in_quotes = !in_quotes,
                ',' if !in_quotes => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let params = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
        let rel = params
            .split(';')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("rel"))
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
            .unwrap_or_default();
        links.push((target, rel));
    }
    links
}

/// Whether two URLs share scheme, host and port (the port defaulting by scheme).
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str().map(str::to_ascii_lowercase) == b.host_str().map(str::to_ascii_lowercase)
        && a.port_or_known_default() == b.port_or_known_default()
}

/// `scheme://host:port` of a URL, for error messages.
pub(crate) fn origin_text(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:8484/v1/wholesale/billing/reports?max=2").unwrap()
    }

    #[test]
    fn link_headers_in_their_various_forms() {
        let cases: [(&[&str], Option<&str>); 8] = [
            (
                &[r#"<http://127.0.0.1:8484/v1/wholesale/billing/reports?max=2&cursor=abc>; rel="next""#],
                Some("http://127.0.0.1:8484/v1/wholesale/billing/reports?max=2&cursor=abc"),
            ),
            (&["<http://h/a?x=1,2>;rel=next"], Some("http://h/a?x=1,2")),
            (
                &[r#"<http://h/first>; rel="first", <http://h/n>; title="a, b"; rel="next""#],
                Some("http://h/n"),
            ),
            (
                &[r#"<http://h/p>; rel="prev""#, r#"<http://h/n2>; REL="NEXT""#],
                Some("http://h/n2"),
            ),
            (&[r#"<http://h/n3>; rel="next last""#], Some("http://h/n3")),
            (
                &["<?cursor=z>; rel=\"next\""],
                Some("http://127.0.0.1:8484/v1/wholesale/billing/reports?cursor=z"),
            ),
            (&["garbage", "<unterminated; rel=next"], None),
            (&[], None),
        ];
        for (values, expected) in cases {
            let got = next_link(values.iter().copied(), &base());
            assert_eq!(got.as_ref().map(Url::as_str), expected, "{values:?}");
        }
    }

    #[test]
    fn origins() {
        let a = Url::parse("https://webexapis.com/v1").unwrap();
        for (other, same) in [
            ("https://WEBEXAPIS.com:443/v1/x", true),
            ("https://webexapis.com/other", true),
            ("http://webexapis.com/v1", false),
            ("https://webexapis.com:8443/v1", false),
            ("https://billing-reports.webexcontent.com/a.csv", false),
        ] {
            assert_eq!(same_origin(&a, &Url::parse(other).unwrap()), same, "{other}");
        }
        assert_eq!(origin_text(&a), "https://webexapis.com");
    }

    #[test]
    fn list_bodies_accept_both_keys() {
        let a: ListBody<u8> = serde_json::from_str(r#"{"items": [1]}"#).unwrap();
        let b: ListBody<u8> = serde_json::from_str(r#"{"subPartners": [2], "other": 0}"#).unwrap();
        let c: ListBody<u8> = serde_json::from_str("{}").unwrap();
        assert_eq!((a.items, b.items, c.items), (vec![1], vec![2], vec![]));
    }
}
