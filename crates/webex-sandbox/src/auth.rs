//! Organisation tokens: provisioned once, kept in the database, checked on every Webex request.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use wholesale_billing::Organisation;

use crate::error::{Error, Result};
use crate::http::ApiError;
use crate::ids::{IdKind, encode, new_uuid, random_hex};
use crate::store::{Store, StoredToken};

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

/// Gives every organisation its token: the configured override, else the stored one, else a new
/// one (stored). Sub-partner tokens are numbered from 1 in file order.
pub(crate) fn provision(
    store: &Store,
    org: &Organisation,
    overrides: &BTreeMap<String, String>,
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
        let stored = store.token(org_id)?;
        let token = match (overrides.get(org_id), &stored) {
            (Some(t), _) => t.clone(),
            (None, Some(s)) => s.token.clone(),
            (None, None) if kind == OrgKind::Partner => format!("wbx-sandbox-partner-{}", random_hex()),
            (None, None) => format!("wbx-sandbox-{index}-{}", random_hex()),
        };
        let record = StoredToken {
            token: token.clone(),
            person_id: stored
                .as_ref()
                .map_or_else(|| encode(IdKind::People, &new_uuid()), |s| s.person_id.clone()),
            created_ms: stored.as_ref().map_or(now_ms, |s| s.created_ms),
        };
        if stored.as_ref() != Some(&record) {
            store.put_token(org_id, &record)?;
        }
        if let Some(other) = owners.insert(token.clone(), org_id.to_owned()) {
            return Err(Error::Config(format!(
                "orgs {other:?} and {org_id:?} would share one token; configure distinct tokens"
            )));
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
    fn tokens_are_generated_once_and_overridable() {
        let store = Store::open(None).unwrap();
        let first = provision(&store, &org(), &BTreeMap::new(), 7).unwrap();
        assert!(first[0].token.starts_with("wbx-sandbox-partner-"));
        assert!(first[2].token.starts_with("wbx-sandbox-2-"));
        assert_eq!(first[2].token.len(), "wbx-sandbox-2-".len() + 32);
        let again = provision(&store, &org(), &BTreeMap::new(), 9).unwrap();
        assert_eq!(first, again);
        let overrides = BTreeMap::from([("sp1".to_owned(), "mine".to_owned())]);
        let changed = provision(&store, &org(), &overrides, 9).unwrap();
        assert_eq!(changed[1].token, "mine");
        assert_eq!(changed[1].person_id, first[1].person_id);
        let clash = BTreeMap::from([("sp1".to_owned(), first[0].token.clone())]);
        assert!(provision(&store, &org(), &clash, 9).is_err());
        assert!(first[1].to_string().starts_with("sub-partner sp1 "));
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
