//! The SQLite store: tokens, the download-signing secret and the reports (with their CSV).

use std::path::Path;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Row, params};
use wholesale_billing::{ReportLevel, parse_date};

use crate::error::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    org_id TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    person_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
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
CREATE INDEX IF NOT EXISTS reports_by_org ON reports (org_id);
";

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

/// A stored organisation token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredToken {
    pub(crate) token: String,
    pub(crate) person_id: String,
    pub(crate) created_ms: i64,
}

/// The database, behind a mutex (statements are short; report CSVs are written once).
#[derive(Debug)]
pub(crate) struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (or creates) the database; `None` opens an in-memory one.
    pub(crate) fn open(path: Option<&Path>) -> Result<Self> {
        let conn = match path {
            Some(p) => Connection::open(p)?,
            None => Connection::open_in_memory()?,
        };
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of `key`, set to `init()` first when missing.
    pub(crate) fn meta_or_init(&self, key: &str, init: impl FnOnce() -> String) -> Result<String> {
        let conn = self.conn();
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

    /// The token stored for `org_id`.
    pub(crate) fn token(&self, org_id: &str) -> Result<Option<StoredToken>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT token, person_id, created_ms FROM tokens WHERE org_id = ?1",
                [org_id],
                |r| {
                    Ok(StoredToken {
                        token: r.get(0)?,
                        person_id: r.get(1)?,
                        created_ms: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Stores (or replaces) the token of `org_id`.
    pub(crate) fn put_token(&self, org_id: &str, t: &StoredToken) -> Result<()> {
        self.conn().execute(
            "INSERT INTO tokens (org_id, token, person_id, created_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (org_id) DO UPDATE SET token = excluded.token",
            params![org_id, t.token, t.person_id, t.created_ms],
        )?;
        Ok(())
    }

    /// Adds a new report (outcome pending).
    pub(crate) fn insert_report(&self, r: &ReportRecord) -> Result<()> {
        self.conn().execute(
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
    pub(crate) fn set_outcome(&self, uuid: &str, outcome: &Outcome, csv: Option<&[u8]>) -> Result<()> {
        let (name, code, description) = match outcome {
            Outcome::Completed => ("COMPLETED", None, None),
            Outcome::Failed { code, description } => ("FAILED", Some(*code), Some(description.as_str())),
        };
        self.conn().execute(
            "UPDATE reports SET outcome = ?2, error_code = ?3, error_description = ?4, csv = ?5 WHERE uuid = ?1",
            params![uuid, name, code, description, csv],
        )?;
        Ok(())
    }

    /// The report with this UUID.
    pub(crate) fn report(&self, uuid: &str) -> Result<Option<ReportRecord>> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE uuid = ?1");
        let conn = self.conn();
        let raw = conn.query_row(&sql, [uuid], RawReport::from_row).optional()?;
        raw.map(RawReport::into_record).transpose()
    }

    /// The reports of an organisation, oldest first.
    pub(crate) fn reports_of(&self, org_id: &str) -> Result<Vec<ReportRecord>> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE org_id = ?1 ORDER BY created_ms, uuid");
        self.query_reports(&sql, [org_id])
    }

    /// The reports whose outcome is not yet known.
    pub(crate) fn pending_reports(&self) -> Result<Vec<ReportRecord>> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE outcome IS NULL ORDER BY created_ms, uuid");
        self.query_reports(&sql, [])
    }

    fn query_reports<P: rusqlite::Params>(&self, sql: &str, params: P) -> Result<Vec<ReportRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(sql)?;
        let raws = stmt
            .query_map(params, RawReport::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        raws.into_iter().map(RawReport::into_record).collect()
    }

    /// The report with this download file UUID and its CSV.
    pub(crate) fn report_file(&self, file_uuid: &str) -> Result<Option<(ReportRecord, Option<Vec<u8>>)>> {
        let sql = format!("SELECT {REPORT_COLUMNS}, csv FROM reports WHERE file_uuid = ?1");
        let conn = self.conn();
        let raw = conn
            .query_row(&sql, [file_uuid], |r| {
                Ok((RawReport::from_row(r)?, r.get::<_, Option<Vec<u8>>>(12)?))
            })
            .optional()?;
        match raw {
            None => Ok(None),
            Some((raw, csv)) => Ok(Some((raw.into_record()?, csv))),
        }
    }

    /// Deletes a report; whether it existed.
    pub(crate) fn delete_report(&self, uuid: &str) -> Result<bool> {
        Ok(self.conn().execute("DELETE FROM reports WHERE uuid = ?1", [uuid])? > 0)
    }
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
        let corrupt =
            |what: &str, value: &str| Error::CorruptDatabase(format!("report {}: {what} {value:?}", self.uuid));
        let date = |text: &str| parse_date(text).map_err(|_| corrupt("date", text));
        let level = ReportLevel::from_str(&self.level).map_err(|_| corrupt("type", &self.level))?;
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
            start: date(&self.start)?,
            end: date(&self.end)?,
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
        let store = Store::open(None).unwrap();
        store.insert_report(&record("a", "org")).unwrap();
        store.insert_report(&record("b", "other")).unwrap();
        assert_eq!(store.report("a").unwrap(), Some(record("a", "org")));
        assert_eq!(store.pending_reports().unwrap().len(), 2);
        store.set_outcome("a", &Outcome::Completed, Some(b"x,y\n")).unwrap();
        let failed = Outcome::Failed {
            code: 1000,
            description: "nope".into(),
        };
        store.set_outcome("b", &failed, None).unwrap();
        assert_eq!(store.report("b").unwrap().unwrap().outcome, Some(failed));
        let (rec, csv) = store.report_file("f-a").unwrap().unwrap();
        assert_eq!((rec.outcome, csv), (Some(Outcome::Completed), Some(b"x,y\n".to_vec())));
        assert_eq!(store.reports_of("org").unwrap().len(), 1);
        assert!(store.pending_reports().unwrap().is_empty());
        assert!(store.delete_report("a").unwrap());
        assert!(!store.delete_report("a").unwrap());
        assert_eq!(store.report_file("f-a").unwrap(), None);
    }

    #[test]
    fn meta_and_tokens() {
        let store = Store::open(None).unwrap();
        assert_eq!(store.meta_or_init("k", || "v1".into()).unwrap(), "v1");
        assert_eq!(store.meta_or_init("k", || "v2".into()).unwrap(), "v1");
        let t = StoredToken {
            token: "t1".into(),
            person_id: "p".into(),
            created_ms: 1,
        };
        store.put_token("org", &t).unwrap();
        store
            .put_token(
                "org",
                &StoredToken {
                    token: "t2".into(),
                    ..t.clone()
                },
            )
            .unwrap();
        let back = store.token("org").unwrap().unwrap();
        assert_eq!((back.token.as_str(), back.person_id.as_str()), ("t2", "p"));
        assert_eq!(store.token("nobody").unwrap(), None);
    }

    #[test]
    fn corrupt_rows_are_errors() {
        let store = Store::open(None).unwrap();
        store.insert_report(&record("a", "org")).unwrap();
        store
            .conn()
            .execute("UPDATE reports SET level = 'WEEKLY' WHERE uuid = 'a'", [])
            .unwrap();
        assert!(matches!(store.report("a"), Err(Error::CorruptDatabase(_))));
    }
}
