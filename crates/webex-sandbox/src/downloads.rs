//! Signed, expiring report downloads on the download host:
//! `/downloads/<uuid>.csv?Expires=<epoch s>&Signature=<base64url HMAC-SHA256>&Key-Pair-Id=<key id>`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use rusqlite::Connection;

use crate::error::Result;
use crate::http::{ApiError, Query};
use crate::ids::random_hex;
use crate::keys::SandboxKey;
use crate::state::{AppState, now_ms};
use crate::stats::bump;
use crate::store::{self, Outcome};

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks download URLs with a secret derived from the database's key (the database
/// keeps only the public key id).
#[derive(Clone)]
pub(crate) struct Signer {
    secret: Vec<u8>,
    key_id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// The signer of a database: the secret derived from its key, the key id stored in it (made at
    /// the first start).
    pub(crate) fn load(conn: &Connection, key: &SandboxKey) -> Result<Self> {
        let key_id = store::meta_or_init(conn, "download_key_id", || {
            let suffix: String = random_hex().chars().take(9).collect();
            format!("APKASANDBOX{}", suffix.to_ascii_uppercase())
        })?;
        Ok(Signer {
            secret: key.signing_secret().to_vec(),
            key_id,
        })
    }

    fn mac(&self, file: &str, expires: u64) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(&self.secret).ok()?;
        mac.update(format!("{file}:{expires}").as_bytes());
        Some(mac)
    }

    /// A URL for `<file_uuid>.csv` valid for at least `ttl` from `now_ms`.
    pub(crate) fn url(&self, base: &str, file_uuid: &str, now_ms: i64, ttl: Duration) -> String {
        let file = format!("{file_uuid}.csv");
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let expires = u64::try_from(now_ms.saturating_add(ttl_ms).saturating_add(999) / 1000).unwrap_or(0);
        let signature = self
            .mac(&file, expires)
            .map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
            .unwrap_or_default();
        format!(
            "{base}/downloads/{file}?Expires={expires}&Signature={signature}&Key-Pair-Id={}",
            self.key_id
        )
    }

    /// Whether `signature` signs (`file`, `expires`) under `key_id`.
    pub(crate) fn verify(&self, file: &str, expires: u64, signature: &str, key_id: &str) -> bool {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(signature.trim_end_matches('=')) else {
            return false;
        };
        key_id == self.key_id && self.mac(file, expires).is_some_and(|m| m.verify_slice(&bytes).is_ok())
    }
}

/// `GET /downloads/{file}`.
pub(crate) async fn download(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    if headers.contains_key(AUTHORIZATION) {
        bump(&state.counters.download_auth_refusals);
        return Err(ApiError::bad_request(
            "credentials must not be sent to the download host",
        ));
    }
    let Path(file) = path.map_err(|_| ApiError::not_found("the file does not exist"))?;
    let q = Query::parse(raw.as_deref());
    let bad_signature = || ApiError::forbidden("the download URL's signature is not valid");
    let expires = q
        .get("Expires")
        .and_then(|e| e.parse::<u64>().ok())
        .ok_or_else(bad_signature)?;
    let signature = q.get("Signature").ok_or_else(bad_signature)?;
    let key_id = q.get("Key-Pair-Id").ok_or_else(bad_signature)?;
    if !state.signer.verify(&file, expires, signature, key_id) {
        return Err(bad_signature());
    }
    let now_s = u64::try_from(now_ms() / 1000).unwrap_or(0);
    if now_s >= expires {
        return Err(ApiError::forbidden("the download URL has expired"));
    }
    let gone = || ApiError::not_found("the report does not exist (it may have been deleted)");
    let file_uuid = file.strip_suffix(".csv").ok_or_else(gone)?.to_owned();
    match state.db.read(move |c| store::report_file(c, &file_uuid)).await? {
        Some((record, Some(csv))) if record.outcome == Some(Outcome::Completed) => {
            bump(&state.counters.downloads);
            let disposition = format!("attachment; filename=\"{file}\"");
            Ok((
                StatusCode::OK,
                [
                    (CONTENT_TYPE, "text/csv".to_owned()),
                    (CONTENT_DISPOSITION, disposition),
                ],
                csv,
            )
                .into_response())
        }
        _ => Err(gone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_verify_and_tampering_does_not() {
        let mut conn = Connection::open_in_memory().unwrap();
        store::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        let key = SandboxKey::ephemeral().unwrap();
        let signer = Signer::load(&conn, &key).unwrap();
        assert_eq!(Signer::load(&conn, &key).unwrap().key_id, signer.key_id);
        assert!(signer.key_id.starts_with("APKASANDBOX"));
        let url = signer.url("http://localhost:1", "abc", 1_000_500, Duration::from_secs(1800));
        let parsed = url::Url::parse(&url).unwrap();
        assert_eq!(parsed.path(), "/downloads/abc.csv");
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["Expires"], "2801");
        let expires: u64 = q["Expires"].parse().unwrap();
        assert!(signer.verify("abc.csv", expires, &q["Signature"], &q["Key-Pair-Id"]));
        assert!(!signer.verify("abd.csv", expires, &q["Signature"], &q["Key-Pair-Id"]));
        assert!(!signer.verify("abc.csv", expires + 1, &q["Signature"], &q["Key-Pair-Id"]));
        assert!(!signer.verify("abc.csv", expires, &q["Signature"], "APKAOTHER"));
        assert!(!signer.verify("abc.csv", expires, "not base64!", &q["Key-Pair-Id"]));
        let other = Signer::load(&conn, &SandboxKey::ephemeral().unwrap()).unwrap();
        assert!(!other.verify("abc.csv", expires, &q["Signature"], &signer.key_id));
    }
}
