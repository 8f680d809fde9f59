//! The database at rest: private files, no token or signing secret in clear text, the key file
//! beside it, and the upgrade of an earlier sandbox's database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::{Api, END, START, config, downloader, webex_error};
use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::Value;
use sha2::{Digest, Sha256};
use webex_sandbox::{Error, Sandbox};

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The database file and its `-wal` (if any), as bytes.
fn files_of(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    if let Ok(more) = std::fs::read(wal) {
        bytes.extend(more);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_database_keeps_hashes_of_the_tokens_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.sqlite");
    let sandbox = Sandbox::start(config().with_db_path(&db)).await.unwrap();
    let tokens = sandbox.tokens().to_vec();
    let api = Api::partner(&sandbox);
    let id = api.create_ok(START, END, "USER").await;
    let url = api.wait_done(&id).await["tempDownloadURL"].as_str().unwrap().to_owned();
    assert_eq!(downloader().get(&url).send().await.unwrap().status(), StatusCode::OK);

    #[cfg(unix)]
    {
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&dir.path().join("sandbox.sqlite.key")), 0o600);
        assert_eq!(mode(&dir.path().join("sandbox.sqlite-wal")), 0o600);
    }
    // While it runs and after it stopped: no token in the files, only its SHA-256.
    let no_token_in = |bytes: Vec<u8>| {
        for t in &tokens {
            assert!(!contains(&bytes, &t.token), "{} is in the database", t.token);
        }
    };
    no_token_in(files_of(&db));
    sandbox.shutdown().await.unwrap();
    no_token_in(files_of(&db));
    // The shutdown folded the write-ahead log into the file.
    let wal = dir.path().join("sandbox.sqlite-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    let conn = Connection::open(&db).unwrap();
    for t in &tokens {
        let hash: String = conn
            .query_row("SELECT token_sha256 FROM tokens WHERE org_id = ?1", [&t.org_id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(hash, sha256_hex(&t.token));
    }
    let secrets: i64 = conn
        .query_row("SELECT count(*) FROM meta WHERE key <> 'download_key_id'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(secrets, 0);
    drop(conn);

    // The same tokens and URLs after a restart, derived again from the key file.
    let sandbox = Sandbox::start(config().with_db_path(&db)).await.unwrap();
    assert_eq!(sandbox.tokens(), tokens.as_slice());
    let url = url.replacen(
        &url::Url::parse(&url).unwrap().origin().ascii_serialization(),
        &sandbox.download_base_url(),
        1,
    );
    assert_eq!(downloader().get(&url).send().await.unwrap().status(), StatusCode::OK);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_missing_or_foreign_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.sqlite");
    let key = dir.path().join("sandbox.sqlite.key");
    Sandbox::start(config().with_db_path(&db))
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();
    let original = std::fs::read(&key).unwrap();

    std::fs::remove_file(&key).unwrap();
    let err = Sandbox::start(config().with_db_path(&db)).await.unwrap_err();
    assert!(matches!(err, Error::KeyFileMissing { .. }), "{err}");
    assert!(err.to_string().contains("sandbox.sqlite.key"), "{err}");

    // Another database's key.
    let other = dir.path().join("other.sqlite");
    Sandbox::start(config().with_db_path(&other))
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();
    std::fs::copy(dir.path().join("other.sqlite.key"), &key).unwrap();
    let err = Sandbox::start(config().with_db_path(&db)).await.unwrap_err();
    assert!(matches!(err, Error::KeyFileMismatch { .. }), "{err}");

    // Its own key back: it starts.
    std::fs::write(&key, original).unwrap();
    Sandbox::start(config().with_db_path(&db))
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();
}

/// The layout of the sandboxes before this one: tokens and the signing secret in clear text.
const SCHEMA_0: &str = "
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE tokens (org_id TEXT PRIMARY KEY, token TEXT NOT NULL, person_id TEXT NOT NULL,
                         created_ms INTEGER NOT NULL);
    CREATE TABLE reports (uuid TEXT PRIMARY KEY, org_id TEXT NOT NULL, start_date TEXT NOT NULL,
        end_date TEXT NOT NULL, level TEXT NOT NULL, created_ms INTEGER NOT NULL, created_by TEXT NOT NULL,
        ready_ms INTEGER NOT NULL, file_uuid TEXT NOT NULL UNIQUE, outcome TEXT, error_code INTEGER,
        error_description TEXT, csv BLOB);
    CREATE INDEX reports_by_org ON reports (org_id);";

#[tokio::test]
async fn an_earlier_sandboxs_database_is_upgraded_and_its_secrets_erased() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.sqlite");
    let base = config();
    let partner = base.org.partner.org_id.clone();
    let sub_partner = base.org.sub_partners[0].org_id.clone();
    let old_token = "wbx-sandbox-partner-0123456789abcdef0123456789abcdef";
    let old_secret = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e7";
    {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(SCHEMA_0).unwrap();
        conn.execute(
            "INSERT INTO tokens VALUES (?1, ?2, 'person-p', 1700000000000), (?3, 'wbx-sandbox-1-old', 'person-s', 1700000000000)",
            [&partner, old_token, &sub_partner],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO meta VALUES ('download_secret', ?1), ('download_key_id', 'APKASANDBOXOLD')",
            [old_secret],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO reports VALUES ('5b8d518a-8f00-451b-a406-eaf49b4a7fa8', ?1, ?2, ?3, 'PARTNER', 1, \
             'person-p', 1, '0f0e0d0c-0b0a-4909-8807-060504030201', 'COMPLETED', NULL, NULL, X'612C620A')",
            [&partner, START, END],
        )
        .unwrap();
    }
    assert!(contains(&files_of(&db), old_secret));

    let sandbox = Sandbox::start(base.with_db_path(&db)).await.unwrap();
    let bytes = files_of(&db);
    assert!(!contains(&bytes, old_token), "the old token is still in the file");
    assert!(!contains(&bytes, old_secret), "the old secret is still in the file");
    // The old token is gone; the new one sees the old report, which downloads.
    let old = Api::with_token(&sandbox, old_token);
    webex_error(old.get("/v1/wholesale/billing/reports").await, StatusCode::UNAUTHORIZED).await;
    let api = Api::partner(&sandbox);
    assert_ne!(api.token, old_token);
    let list: Value = api.get("/v1/wholesale/billing/reports").await.json().await.unwrap();
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let report = api.wait_done(&id).await;
    assert_eq!(report["createdBy"], "person-p");
    let csv = downloader()
        .get(report["tempDownloadURL"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(csv.as_ref(), b"a,b\n");
    // A sub-partner keeps its creation instant.
    let subs: Value = api.get("/v1/wholesale/subPartners").await.json().await.unwrap();
    assert_eq!(subs["items"][0]["created"], "2023-11-14T22:13:20.000Z");
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_newer_or_foreign_database_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("newer.sqlite");
    Sandbox::start(config().with_db_path(&db))
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();
    Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA user_version = 7")
        .unwrap();
    let err = Sandbox::start(config().with_db_path(&db)).await.unwrap_err();
    assert!(matches!(err, Error::SchemaTooNew { found: 7, .. }), "{err}");
    assert!(err.to_string().contains("newer.sqlite"), "{err}");

    let foreign = dir.path().join("foreign.sqlite");
    Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE tokens (x)")
        .unwrap();
    let err = Sandbox::start(config().with_db_path(&foreign)).await.unwrap_err();
    assert!(matches!(&err, Error::ForeignDatabase { db } if *db == foreign), "{err}");
    assert!(err.to_string().contains("foreign.sqlite"), "{err}");
}
