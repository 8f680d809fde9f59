//! The SQLite schema and its queries: token hashes, the download key id and the reports (with their
//! CSV). Every function takes a connection (or a transaction); [`crate::db::Database`] decides on
//! which thread and connection they run.

use std::path::Path;
use std::str::FromStr;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Row, params};
use wholesale_billing::{ReportLevel, parse_date};

use crate::error::{Error, Result};

/// The schema version this sandbox writes (`PRAGMA user_version`). Version 0 is the layout of
/// earlier sandboxes, which kept tokens and the download-signing secret in clear text; version 1
/// had no call records.
pub(crate) const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE tokens (
    org_id TEXT PRIMARY KEY,
    -- The token's public prefix (wbx-sandbox-partner-, wbx-sandbox-2-); NULL until derived.
    label TEXT,
    -- SHA-256 (hex) of the organisation's own token; NULL until derived.
    token_sha256 TEXT,
    person_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE reports (
    uuid TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    level TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    ready_ms INTEGER NOT NULL,
    file_uuid TEXT NOT NULL UNIQUE,
    outcome TEXT,
    error_code INTEGER,
    error_description TEXT,
    csv BLOB
);
-- The 409 rule looks reports up by key; lists by organisation (a prefix of the key).
CREATE INDEX reports_by_key ON reports (org_id, start_date, end_date, level);
PRAGMA user_version = 1;
";

/// From version 1: the call records of the CDR feed, in the order given, found by start time.
const MIGRATE_FROM_1: &str = "
CREATE TABLE cdrs (
    seq INTEGER PRIMARY KEY,
    start_ms INTEGER NOT NULL,
    org_id TEXT NOT NULL,
    item TEXT NOT NULL
);
CREATE INDEX cdrs_by_start ON cdrs (start_ms, seq);
PRAGMA user_version = 2;
";

/// From version 0: the clear-text tokens and signing secret go; person ids, creation instants,
/// the key id and the reports stay.
const MIGRATE_FROM_0: &str = "
CREATE TABLE tokens_v1 (
    org_id TEXT PRIMARY KEY,
    label TEXT,
    token_sha256 TEXT,
    person_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
INSERT INTO tokens_v1 (org_id, person_id, created_ms) SELECT org_id, person_id, created_ms FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_v1 RENAME TO tokens;
DELETE FROM meta WHERE key = 'download_secret';
DROP INDEX IF EXISTS reports_by_org;
CREATE INDEX reports_by_key ON reports (org_id, start_date, end_date, level);
PRAGMA user_version = 1;
";

/// Creates the schema in a new database, or brings an older one to [`SCHEMA_VERSION`]. Returns
/// whether clear-text secrets were erased (the caller then rewrites the file with `VACUUM` so
/// that no free page keeps them).
///
/// # Errors
/// [`Error::SchemaTooNew`] for a database of a newer sandbox; [`Error::ForeignDatabase`] for an
/// unversioned database that is not an earlier sandbox's; [`Error::Database`].
pub(crate) fn migrate(conn: &mut Connection, db: &Path) -> Result<bool> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let erased = match version {
        SCHEMA_VERSION => false,
        1 => {
            tx.execute_batch(MIGRATE_FROM_1)?;
            false
        }
        v if v > SCHEMA_VERSION => {
            return Err(Error::SchemaTooNew {
                db: db.to_owned(),
                found: v,
                supported: SCHEMA_VERSION,
            });
        }
        _ => {
            let tables: i64 = tx.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'tokens', 'reports')",
                [],
                |r| r.get(0),
            )?;
            let clear_tokens: i64 = tx.query_row(
                "SELECT count(*) FROM pragma_table_info('tokens') WHERE name = 'token'",
                [],
                |r| r.get(0),
            )?;
            match (tables, clear_tokens) {
                (0, _) => {
                    tx.execute_batch(SCHEMA)?;
                    tx.execute_batch(MIGRATE_FROM_1)?;
                    false
                }
                (3, 1) => {
                    tx.execute_batch(MIGRATE_FROM_0)?;
                    tx.execute_batch(MIGRATE_FROM_1)?;
                    true
                }
                _ => {
                    return Err(Error::ForeignDatabase { db: db.to_path_buf() });
                }
            }
        }
    };
    tx.commit()?;
    Ok(erased)
}

/// One stored call record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredCdr {
    pub(crate) seq: i64,
    pub(crate) start_ms: i64,
    pub(crate) org_id: String,
    pub(crate) item: String,
}

/// Replaces the stored call records by `records` (start ms, org id, item JSON), in their order.
pub(crate) fn replace_cdrs(conn: &Connection, records: &[(i64, String, String)]) -> Result<()> {
    conn.execute("DELETE FROM cdrs", [])?;
    let mut insert = conn.prepare("INSERT INTO cdrs (start_ms, org_id, item) VALUES (?1, ?2, ?3)")?;
    for (start_ms, org_id, item) in records {
        insert.execute(params![start_ms, org_id, item])?;
    }
    Ok(())
}

/// The call records with `start_ms` in `[from_ms, to_ms)`, from the position `(after_ms, seq)`
/// on, in (start, seq) order, that `visible` accepts by org id: at most `limit`.
pub(crate) fn cdrs_in(
    conn: &Connection,
    (from_ms, to_ms): (i64, i64),
    (at_ms, at_seq): (i64, i64),
    limit: usize,
    visible: &dyn Fn(&str) -> bool,
) -> Result<Vec<StoredCdr>> {
    let mut query = conn.prepare_cached(
        "SELECT seq, start_ms, org_id, item FROM cdrs \
         WHERE start_ms >= ?1 AND start_ms < ?2 AND (start_ms > ?3 OR (start_ms = ?3 AND seq >= ?4)) \
         ORDER BY start_ms, seq",
    )?;
    let mut rows = query.query(params![from_ms, to_ms, at_ms, at_seq])?;
    let mut found = Vec::new();
    while found.len() < limit {
        let Some(row) = rows.next()? else { break };
        let org_id: String = row.get(2)?;
        if visible(&org_id) {
            found.push(StoredCdr {
                seq: row.get(0)?,
                start_ms: row.get(1)?,
                org_id,
                item: row.get(3)?,
            });
        }
    }
    Ok(found)
}

const REPORT_COLUMNS: &str = "uuid, org_id, start_date, end_date, level, created_ms, created_by, ready_ms, file_uuid, \
                              outcome, error_code, error_description";

/// The result of generating a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The CSV is stored.
    Completed,
    /// The engine could not produce the report.
    Failed { code: i64, description: String },
}

/// A report as stored (without its CSV).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportRecord {
    /// The UUID of the report id (lower-case, hyphenated).
    pub(crate) uuid: String,
    /// The organisation the report covers (the partner or a sub-partner).
    pub(crate) org_id: String,
    pub(crate) start: NaiveDate,
    pub(crate) end: NaiveDate,
    pub(crate) level: ReportLevel,
    pub(crate) created_ms: i64,
    /// The person id (encoded) of the admin who created it.
    pub(crate) created_by: String,
    /// Not visible as finished before this instant.
    pub(crate) ready_ms: i64,
    /// The UUID of the download file name.
    pub(crate) file_uuid: String,
    /// `None` while the engine is still at work.
    pub(crate) outcome: Option<Outcome>,
}

/// What the database keeps of an organisation's token: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredToken {
    /// The token's public prefix; `None` in a database brought from version 0, until derived.
    pub(crate) label: Option<String>,
    /// The SHA-256 (hex) of the organisation's own token; `None` with `label`.
    pub(crate) token_sha256: Option<String>,
    pub(crate) person_id: String,
    pub(crate) created_ms: i64,
}

/// The value of `key`, set to `init()` first when missing.
pub(crate) fn meta_or_init(conn: &Connection, key: &str, init: impl FnOnce() -> String) -> Result<String> {
    let found: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?;
    match found {
        Some(v) => Ok(v),
        None => {
            let v = init();
            conn.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![key, v])?;
            Ok(v)
        }
    }
}

/// Whether the database holds a token hash (then its key file must not be replaced).
pub(crate) fn has_token_hashes(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM tokens WHERE token_sha256 IS NOT NULL)",
        [],
        |r| r.get(0),
    )?)
}

/// The token record of `org_id`.
pub(crate) fn token(conn: &Connection, org_id: &str) -> Result<Option<StoredToken>> {
    Ok(conn
        .query_row(
            "SELECT label, token_sha256, person_id, created_ms FROM tokens WHERE org_id = ?1",
            [org_id],
            |r| {
                Ok(StoredToken {
                    label: r.get(0)?,
                    token_sha256: r.get(1)?,
                    person_id: r.get(2)?,
                    created_ms: r.get(3)?,
                })
            },
        )
        .optional()?)
}

/// Stores (or replaces) the token record of `org_id`.
pub(crate) fn put_token(conn: &Connection, org_id: &str, t: &StoredToken) -> Result<()> {
    conn.execute(
        "INSERT INTO tokens (org_id, label, token_sha256, person_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (org_id) DO UPDATE SET label = excluded.label, token_sha256 = excluded.token_sha256",
        params![org_id, t.label, t.token_sha256, t.person_id, t.created_ms],
    )?;
    Ok(())
}

/// Adds a new report (outcome pending).
pub(crate) fn insert_report(conn: &Connection, r: &ReportRecord) -> Result<()> {
    conn.execute(
        "INSERT INTO reports (uuid, org_id, start_date, end_date, level, created_ms, created_by, ready_ms, file_uuid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            r.uuid,
            r.org_id,
            r.start.to_string(),
            r.end.to_string(),
            r.level.as_str(),
            r.created_ms,
            r.created_by,
            r.ready_ms,
            r.file_uuid
        ],
    )?;
    Ok(())
}

/// Records the outcome of a report (and its CSV when completed). A deleted report stays deleted.
pub(crate) fn set_outcome(conn: &Connection, uuid: &str, outcome: &Outcome, csv: Option<&[u8]>) -> Result<()> {
    let (name, code, description) = match outcome {
        Outcome::Completed => ("COMPLETED", None, None),
        Outcome::Failed { code, description } => ("FAILED", Some(*code), Some(description.as_str())),
    };
    conn.execute(
        "UPDATE reports SET outcome = ?2, error_code = ?3, error_description = ?4, csv = ?5 WHERE uuid = ?1",
        params![uuid, name, code, description, csv],
    )?;
    Ok(())
}

/// The report with this UUID.
pub(crate) fn report(conn: &Connection, uuid: &str) -> Result<Option<ReportRecord>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE uuid = ?1");
    let raw = conn
        .prepare_cached(&sql)?
        .query_row([uuid], RawReport::from_row)
        .optional()?;
    raw.map(RawReport::into_record).transpose()
}

/// The reports of an organisation, oldest first.
pub(crate) fn reports_of(conn: &Connection, org_id: &str) -> Result<Vec<ReportRecord>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE org_id = ?1 ORDER BY created_ms, uuid");
    query_reports(conn, &sql, [org_id])
}

/// The reports of an organisation for one period and type, oldest first.
pub(crate) fn reports_for(
    conn: &Connection,
    org_id: &str,
    start: NaiveDate,
    end: NaiveDate,
    level: ReportLevel,
) -> Result<Vec<ReportRecord>> {
    let sql = format!(
        "SELECT {REPORT_COLUMNS} FROM reports WHERE org_id = ?1 AND start_date = ?2 AND end_date = ?3 AND level = ?4 \
         ORDER BY created_ms, uuid"
    );
    query_reports(
        conn,
        &sql,
        params![org_id, start.to_string(), end.to_string(), level.as_str()],
    )
}

/// The reports whose outcome is not yet known.
pub(crate) fn pending_reports(conn: &Connection) -> Result<Vec<ReportRecord>> {
    let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE outcome IS NULL ORDER BY created_ms, uuid");
    query_reports(conn, &sql, [])
}

fn query_reports<P: rusqlite::Params>(conn: &Connection, sql: &str, params: P) -> Result<Vec<ReportRecord>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let raws = stmt
        .query_map(params, RawReport::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    raws.into_iter().map(RawReport::into_record).collect()
}

/// The report with this download file UUID and its CSV.
pub(crate) fn report_file(conn: &Connection, file_uuid: &str) -> Result<Option<(ReportRecord, Option<Vec<u8>>)>> {
    let sql = format!("SELECT {REPORT_COLUMNS}, csv FROM reports WHERE file_uuid = ?1");
    let raw = conn
        .prepare_cached(&sql)?
        .query_row([file_uuid], |r| {
            Ok((RawReport::from_row(r)?, r.get::<_, Option<Vec<u8>>>(12)?))
        })
        .optional()?;
    match raw {
        None => Ok(None),
        Some((raw, csv)) => Ok(Some((raw.into_record()?, csv))),
    }
}

/// Deletes a report; whether it existed.
pub(crate) fn delete_report(conn: &Connection, uuid: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM reports WHERE uuid = ?1", [uuid])? > 0)
}

/// A report row as SQLite gives it, before its text is checked.
struct RawReport {
    uuid: String,
    org_id: String,
    start: String,
    end: String,
    level: String,
    created_ms: i64,
    created_by: String,
    ready_ms: i64,
    file_uuid: String,
    outcome: Option<String>,
    error_code: Option<i64>,
    error_description: Option<String>,
}

impl RawReport {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawReport {
            uuid: r.get(0)?,
            org_id: r.get(1)?,
            start: r.get(2)?,
            end: r.get(3)?,
            level: r.get(4)?,
            created_ms: r.get(5)?,
            created_by: r.get(6)?,
            ready_ms: r.get(7)?,
            file_uuid: r.get(8)?,
            outcome: r.get(9)?,
            error_code: r.get(10)?,
            error_description: r.get(11)?,
        })
    }

    fn into_record(self) -> Result<ReportRecord> {
        let corrupt = |column: &'static str, value: &str| Error::CorruptValue {
            table: "reports",
            column,
            row: self.uuid.clone(),
            value: value.to_owned(),
        };
        let date = |column, text: &str| parse_date(text).map_err(|_| corrupt(column, text));
        let level = ReportLevel::from_str(&self.level).map_err(|_| corrupt("level", &self.level))?;
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some("COMPLETED") => Some(Outcome::Completed),
            Some("FAILED") => Some(Outcome::Failed {
                code: self.error_code.unwrap_or(0),
                description: self.error_description.clone().unwrap_or_default(),
            }),
            Some(other) => return Err(corrupt("outcome", other)),
        };
        Ok(ReportRecord {
            start: date("start_date", &self.start)?,
            end: date("end_date", &self.end)?,
            level,
            outcome,
            uuid: self.uuid,
            org_id: self.org_id,
            created_ms: self.created_ms,
            created_by: self.created_by,
            ready_ms: self.ready_ms,
            file_uuid: self.file_uuid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        assert!(!migrate(&mut conn, Path::new(":memory:")).unwrap());
        conn
    }

    fn record(uuid: &str, org: &str) -> ReportRecord {
        ReportRecord {
            uuid: uuid.into(),
            org_id: org.into(),
            start: NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(),
            end: NaiveDate::from_ymd_opt(2024, 5, 31).unwrap(),
            level: ReportLevel::Customer,
            created_ms: 5,
            created_by: "me".into(),
            ready_ms: 10,
            file_uuid: format!("f-{uuid}"),
            outcome: None,
        }
    }

    #[test]
    fn reports_round_trip() {
        let conn = memory();
        insert_report(&conn, &record("a", "org")).unwrap();
        insert_report(&conn, &record("b", "other")).unwrap();
        assert_eq!(report(&conn, "a").unwrap(), Some(record("a", "org")));
        assert_eq!(pending_reports(&conn).unwrap().len(), 2);
        set_outcome(&conn, "a", &Outcome::Completed, Some(b"x,y\n")).unwrap();
        let failed = Outcome::Failed {
            code: 1000,
            description: "nope".into(),
        };
        set_outcome(&conn, "b", &failed, None).unwrap();
        assert_eq!(report(&conn, "b").unwrap().unwrap().outcome, Some(failed));
        let (rec, csv) = report_file(&conn, "f-a").unwrap().unwrap();
        assert_eq!((rec.outcome, csv), (Some(Outcome::Completed), Some(b"x,y\n".to_vec())));
        assert_eq!(reports_of(&conn, "org").unwrap().len(), 1);
        let a = record("a", "org");
        assert_eq!(reports_for(&conn, "org", a.start, a.end, a.level).unwrap().len(), 1);
        assert!(
            reports_for(&conn, "org", a.start, a.end, ReportLevel::User)
                .unwrap()
                .is_empty()
        );
        assert!(pending_reports(&conn).unwrap().is_empty());
        assert!(delete_report(&conn, "a").unwrap());
        assert!(!delete_report(&conn, "a").unwrap());
        assert_eq!(report_file(&conn, "f-a").unwrap(), None);
    }

    #[test]
    fn meta_and_tokens() {
        let conn = memory();
        assert_eq!(meta_or_init(&conn, "k", || "v1".into()).unwrap(), "v1");
        assert_eq!(meta_or_init(&conn, "k", || "v2".into()).unwrap(), "v1");
        assert!(!has_token_hashes(&conn).unwrap());
        let t = StoredToken {
            label: Some("wbx-".into()),
            token_sha256: Some("h1".into()),
            person_id: "p".into(),
            created_ms: 1,
        };
        put_token(&conn, "org", &t).unwrap();
        put_token(
            &conn,
            "org",
            &StoredToken {
                token_sha256: Some("h2".into()),
                created_ms: 2,
                ..t.clone()
            },
        )
        .unwrap();
        let back = token(&conn, "org").unwrap().unwrap();
        assert_eq!(back.token_sha256.as_deref(), Some("h2"));
        assert_eq!((back.person_id.as_str(), back.created_ms), ("p", 1));
        assert_eq!(token(&conn, "nobody").unwrap(), None);
        assert!(has_token_hashes(&conn).unwrap());
    }

    #[test]
    fn corrupt_rows_are_errors() {
        let conn = memory();
        insert_report(&conn, &record("a", "org")).unwrap();
        conn.execute("UPDATE reports SET level = 'WEEKLY' WHERE uuid = 'a'", [])
            .unwrap();
        let err = report(&conn, "a").unwrap_err();
        assert!(
            matches!(&err, Error::CorruptValue { table: "reports", column: "level", row, value }
                if row == "a" && value == "WEEKLY"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            r#"corrupt database: table reports, row "a", column level: cannot read "WEEKLY""#
        );
        conn.execute(
            "UPDATE reports SET level = 'CUSTOMER', end_date = 'soon' WHERE uuid = 'a'",
            [],
        )
        .unwrap();
        assert!(
            matches!(report(&conn, "a"), Err(Error::CorruptValue { column: "end_date", .. })),
            "the end date"
        );
    }

    /// The layout of the sandboxes before schema versions: tokens and the secret in clear text.
    pub(crate) const SCHEMA_0: &str = "
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE tokens (org_id TEXT PRIMARY KEY, token TEXT NOT NULL, person_id TEXT NOT NULL,
                             created_ms INTEGER NOT NULL);
        CREATE TABLE reports (uuid TEXT PRIMARY KEY, org_id TEXT NOT NULL, start_date TEXT NOT NULL,
            end_date TEXT NOT NULL, level TEXT NOT NULL, created_ms INTEGER NOT NULL, created_by TEXT NOT NULL,
            ready_ms INTEGER NOT NULL, file_uuid TEXT NOT NULL UNIQUE, outcome TEXT, error_code INTEGER,
            error_description TEXT, csv BLOB);
        CREATE INDEX reports_by_org ON reports (org_id);";

    #[test]
    fn version_0_loses_its_clear_secrets_and_keeps_the_rest() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA_0).unwrap();
        conn.execute_batch(
            "INSERT INTO tokens VALUES ('p', 'wbx-sandbox-partner-0123', 'person', 7);
             INSERT INTO meta VALUES ('download_secret', 'shh'), ('download_key_id', 'APKASANDBOXABC');",
        )
        .unwrap();
        insert_report(&conn, &record("a", "p")).unwrap();
        assert!(migrate(&mut conn, Path::new(":memory:")).unwrap());
        let t = token(&conn, "p").unwrap().unwrap();
        assert_eq!((t.label, t.token_sha256), (None, None));
        assert_eq!((t.person_id.as_str(), t.created_ms), ("person", 7));
        assert_eq!(
            meta_or_init(&conn, "download_key_id", String::new).unwrap(),
            "APKASANDBOXABC"
        );
        let secret: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'download_secret'", [], |r| r.get(0))
            .optional()
            .unwrap();
        assert_eq!(secret, None);
        assert_eq!(report(&conn, "a").unwrap(), Some(record("a", "p")));
        // Once is enough; a newer version is refused; a foreign database too.
        assert!(!migrate(&mut conn, Path::new(":memory:")).unwrap());
        conn.execute_batch("PRAGMA user_version = 3").unwrap();
        assert!(matches!(
            migrate(&mut conn, Path::new(":memory:")),
            Err(Error::SchemaTooNew { found: 3, .. })
        ));
        let mut foreign = Connection::open_in_memory().unwrap();
        foreign.execute_batch("CREATE TABLE tokens (x)").unwrap();
        assert!(matches!(
            migrate(&mut foreign, Path::new(":memory:")),
            Err(Error::ForeignDatabase { .. })
        ));
    }
}
