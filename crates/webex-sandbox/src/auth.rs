//! Organisation tokens: derived from the database's key, kept in the database as hashes, checked
//! on every Webex request.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use wholesale_billing::Organisation;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::http::ApiError;
use crate::ids::{IdKind, encode, new_uuid};
use crate::keys::{SandboxKey, sha256_hex};
use crate::store::{self, StoredToken};

/// Whether an organisation is the partner or one of its sub-partners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgKind {
    /// The partner.
    Partner,
    /// A sub-partner (reseller) of the partner.
    SubPartner,
}

impl OrgKind {
    /// `partner` or `sub-partner`.
    ///
    /// ```
    /// assert_eq!(webex_sandbox::OrgKind::SubPartner.as_str(), "sub-partner");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Partner => "partner",
            OrgKind::SubPartner => "sub-partner",
        }
    }
}

/// The admin token of one organisation.
///
/// Its `Display` is the line the sandbox prints at start:
/// `partner     <org id>                             token <token>`.
///
/// ```no_run
/// # async fn run(config: webex_sandbox::SandboxConfig) -> webex_sandbox::Result<()> {
/// let sandbox = webex_sandbox::Sandbox::start(config).await?;
/// for token in sandbox.tokens() {
///     println!("{token}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrgToken {
    /// The org id, as the organisation file says.
    pub org_id: String,
    /// The organisation's name.
    pub name: String,
    /// Partner or sub-partner.
    pub kind: OrgKind,
    /// The bearer token.
    pub token: String,
    /// The person id of the organisation's admin (reports' `createdBy`).
    pub person_id: String,
    /// When the token was first provisioned, in milliseconds since the epoch (the sub-partner's
    /// `created`).
    pub created_ms: i64,
}

impl fmt::Display for OrgToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<11} {:<36} token {}", self.kind.as_str(), self.org_id, self.token)
    }
}

/// Gives every organisation its token: the configured override, else its own token, derived from
/// the database's key (`<label><32 hex>`, the label fixed at the first start: `wbx-sandbox-partner-`,
/// or `wbx-sandbox-<n>-` for the n-th sub-partner in file order). The database keeps the label and
/// the SHA-256 of the organisation's own token, never a token; overrides are not stored. Run it
/// as one write ([`crate::db::Database::write`]): all or nothing.
///
/// # Errors
/// [`Error::KeyFileMismatch`] when a stored hash is not the hash of the derived token (the key
/// file was replaced); [`Error::SharedToken`] when two organisations would share a token;
/// [`Error::Database`].
pub(crate) fn provision(
    conn: &Connection,
    org: &Organisation,
    overrides: &BTreeMap<String, String>,
    key: &SandboxKey,
    now_ms: i64,
) -> Result<Vec<OrgToken>> {
    let orgs = std::iter::once((
        org.partner.org_id.as_str(),
        org.partner.name.as_str(),
        OrgKind::Partner,
        0,
    ))
    .chain(
        org.sub_partners
            .iter()
            .enumerate()
            .map(|(i, sp)| (sp.org_id.as_str(), sp.name.as_str(), OrgKind::SubPartner, i + 1)),
    );
    let mut tokens = Vec::new();
    let mut owners: HashMap<String, String> = HashMap::new();
    for (org_id, name, kind, index) in orgs {
        let stored = store::token(conn, org_id)?;
        let label = match stored.as_ref().and_then(|s| s.label.clone()) {
            Some(label) => label,
            None if kind == OrgKind::Partner => "wbx-sandbox-partner-".to_owned(),
            None => format!("wbx-sandbox-{index}-"),
        };
        let own = format!("{label}{}", key.token_secret(org_id));
        let record = StoredToken {
            token_sha256: Some(sha256_hex(&own)),
            label: Some(label),
            person_id: stored
                .as_ref()
                .map_or_else(|| encode(IdKind::People, &new_uuid()), |s| s.person_id.clone()),
            created_ms: stored.as_ref().map_or(now_ms, |s| s.created_ms),
        };
        match stored.as_ref().and_then(|s| s.token_sha256.as_ref()) {
            Some(hash) if Some(hash) != record.token_sha256.as_ref() => {
                return Err(Error::KeyFileMismatch {
                    key: key.path().map(Path::to_path_buf).unwrap_or_default(),
                    org_id: org_id.to_owned(),
                });
            }
            Some(_) => {}
            None => store::put_token(conn, org_id, &record)?,
        }
        let token = overrides.get(org_id).cloned().unwrap_or(own);
        if let Some(other) = owners.insert(token.clone(), org_id.to_owned()) {
            return Err(Error::SharedToken {
                first: other,
                second: org_id.to_owned(),
            });
        }
        tokens.push(OrgToken {
            org_id: org_id.to_owned(),
            name: name.to_owned(),
            kind,
            token,
            person_id: record.person_id,
            created_ms: record.created_ms,
        });
    }
    Ok(tokens)
}

/// The bearer token of a request, if it sent one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The tokens, indexed.
#[derive(Debug)]
pub(crate) struct TokenBook {
    pub(crate) tokens: Vec<OrgToken>,
    index: HashMap<String, usize>,
}

impl TokenBook {
    pub(crate) fn new(tokens: Vec<OrgToken>) -> Self {
        let index = tokens.iter().enumerate().map(|(i, t)| (t.token.clone(), i)).collect();
        TokenBook { tokens, index }
    }

    /// The organisation calling, or 401.
    pub(crate) fn caller(&self, headers: &HeaderMap) -> Result<&OrgToken, ApiError> {
        let token = bearer(headers).ok_or_else(|| {
            ApiError::unauthorized("the request requires a valid access token in the authorization header")
        })?;
        self.index
            .get(token)
            .and_then(|&i| self.tokens.get(i))
            .ok_or_else(|| ApiError::unauthorized("the access token is not valid"))
    }

    /// The token of an organisation.
    pub(crate) fn of_org(&self, org_id: &str) -> Option<&OrgToken> {
        self.tokens.iter().find(|t| t.org_id == org_id)
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn org() -> Organisation {
        Organisation::from_toml_str(
            "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n\
             [[sub_partners]]\norg_id = \"sp1\"\nname = \"One\"\n\
             [[sub_partners]]\norg_id = \"sp2\"\nname = \"Two\"\n",
        )
        .unwrap()
    }

    #[test]
    fn tokens_are_derived_kept_as_hashes_and_overridable() {
        let mut conn = Connection::open_in_memory().unwrap();
        store::migrate(&mut conn, Path::new(":memory:")).unwrap();
        let key = SandboxKey::ephemeral().unwrap();
        let none = BTreeMap::new();
        let first = provision(&conn, &org(), &none, &key, 7).unwrap();
        assert!(first[0].token.starts_with("wbx-sandbox-partner-"));
        assert!(first[2].token.starts_with("wbx-sandbox-2-"));
        assert_eq!(first[2].token.len(), "wbx-sandbox-2-".len() + 32);
        // The database holds hashes, not tokens.
        let stored = store::token(&conn, "sp2").unwrap().unwrap();
        assert_eq!(stored.token_sha256, Some(sha256_hex(&first[2].token)));
        assert_eq!(stored.label.as_deref(), Some("wbx-sandbox-2-"));
        let again = provision(&conn, &org(), &none, &key, 9).unwrap();
        assert_eq!(first, again);
        let overrides = BTreeMap::from([("sp1".to_owned(), "mine".to_owned())]);
        let changed = provision(&conn, &org(), &overrides, &key, 9).unwrap();
        assert_eq!(changed[1].token, "mine");
        assert_eq!(changed[1].person_id, first[1].person_id);
        // An override is not stored: without it the own token is back.
        assert_eq!(provision(&conn, &org(), &none, &key, 9).unwrap(), first);
        let clash = BTreeMap::from([("sp1".to_owned(), first[0].token.clone())]);
        let err = provision(&conn, &org(), &clash, &key, 9).unwrap_err();
        assert!(
            matches!(&err, Error::SharedToken { first, second } if first == "p" && second == "sp1"),
            "{err:?}"
        );
        assert!(first[1].to_string().starts_with("sub-partner sp1 "));
        // Another key does not give the stored tokens.
        let other = SandboxKey::ephemeral().unwrap();
        let err = provision(&conn, &org(), &none, &other, 9).unwrap_err();
        assert!(
            matches!(&err, Error::KeyFileMismatch { org_id, .. } if org_id == "p"),
            "{err}"
        );
    }

    #[test]
    fn a_reordered_file_keeps_each_token() {
        let mut conn = Connection::open_in_memory().unwrap();
        store::migrate(&mut conn, Path::new(":memory:")).unwrap();
        let key = SandboxKey::ephemeral().unwrap();
        let first = provision(&conn, &org(), &BTreeMap::new(), &key, 7).unwrap();
        let swapped = Organisation::from_toml_str(
            "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n\
             [[sub_partners]]\norg_id = \"sp2\"\nname = \"Two\"\n\
             [[sub_partners]]\norg_id = \"sp1\"\nname = \"One\"\n",
        )
        .unwrap();
        let after = provision(&conn, &swapped, &BTreeMap::new(), &key, 9).unwrap();
        assert_eq!(after[1].token, first[2].token);
        assert_eq!(after[2].token, first[1].token);
    }

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("bearer  abc "));
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }
}
