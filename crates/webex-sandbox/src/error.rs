//! The crate's error type.

use std::path::PathBuf;

use wholesale_billing::Quoted;

/// What can go wrong while starting, running or stopping a sandbox.
///
/// Requests never produce this type: bad input is answered with the Webex error body and a 4xx
/// status. These errors are about the sandbox itself (its configuration, data, database or socket).
/// Messages never repeat their source: print the chain with
/// [`wholesale_billing::error_with_causes`].
///
/// ```
/// let err = webex_sandbox::Error::InvalidCreateStatus { status: 201 };
/// assert_eq!(err.to_string(), "invalid sandbox configuration: create_status must be 200 or 202, not 201");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configured status of a successful report creation is neither 200 nor 202.
    #[error("invalid sandbox configuration: create_status must be 200 or 202, not {status}")]
    InvalidCreateStatus {
        /// The status configured.
        status: u16,
    },
    /// The share of requests answered 5xx is over 100 %.
    #[error("invalid sandbox configuration: the 5xx share is a percentage (0 to 100), not {percent}")]
    FaultShareAbove100 {
        /// The share configured.
        percent: u8,
    },
    /// A setting that counts from 1 (a fault period, a page size) is 0.
    #[error("invalid sandbox configuration: {setting} must be at least 1, not 0")]
    ZeroSetting {
        /// Which setting ("the 429 fault period", "the lost create's number", "the ccws page size").
        setting: &'static str,
    },
    /// The download base URL is not an `http(s)` origin.
    #[error(
        "invalid sandbox configuration: the download base url {} is not an http(s) origin",
        Quoted(url)
    )]
    InvalidDownloadBaseUrl {
        /// The URL as configured.
        url: String,
        /// Why it does not parse, when it does not.
        #[source]
        source: Option<url::ParseError>,
    },
    /// The public base URL is not an `http(s)` URL without credentials, query or fragment.
    #[error(
        "invalid sandbox configuration: the public base url {} is not an http(s) url without credentials, query or \
         fragment",
        Quoted(url)
    )]
    InvalidPublicBaseUrl {
        /// The URL as configured.
        url: String,
        /// Why it does not parse, when it does not.
        #[source]
        source: Option<url::ParseError>,
    },
    /// A token is configured for an org id that is neither the partner nor a sub-partner.
    #[error(
        "invalid sandbox configuration: a token is configured for org {}, which is neither the partner nor a \
         sub-partner",
        Quoted(org_id)
    )]
    TokenForUnknownOrg {
        /// The org id the token is configured for.
        org_id: String,
    },
    /// A CDR region is configured for an org id that is neither the partner nor a sub-partner.
    #[error(
        "invalid sandbox configuration: a cdr region is configured for org {}, which is neither the partner nor a \
         sub-partner",
        Quoted(org_id)
    )]
    RegionForUnknownOrg {
        /// The org id the region is configured for.
        org_id: String,
    },
    /// The CDR records given are not JSON (`{"items": [...]}` or JSON lines).
    #[error("the cdr records could not be read: {at}")]
    CdrJson {
        /// Where: `line 3` of JSON lines, or `the {"items": [...]} document`.
        at: String,
        /// The JSON reader's error (with its line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A CDR record without a usable field the feed needs.
    #[error("the cdr records could not be read: {at}: {} {problem}", Quoted(field))]
    InvalidCdr {
        /// Where: `items[3]` or `line 4`.
        at: String,
        /// The field (`Start time`).
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A configured token is empty or holds white space (it is not quoted: it is a secret).
    #[error(
        "invalid sandbox configuration: the token of org {} must be non-empty and without white space",
        Quoted(org_id)
    )]
    InvalidToken {
        /// The org whose token it is.
        org_id: String,
    },
    /// Two organisations would share one token (configured, or configured and derived).
    #[error(
        "invalid sandbox configuration: orgs {} and {} would share one token; configure distinct tokens",
        Quoted(first),
        Quoted(second)
    )]
    SharedToken {
        /// The org met first with the token.
        first: String,
        /// The org that would have it too.
        second: String,
    },
    /// The events CSV (or the organisation) was refused by the billing engine.
    #[error("the dataset could not be loaded")]
    Dataset(#[source] wholesale_billing::Error),
    /// The SQLite database failed.
    #[error("database error")]
    Database(#[from] rusqlite::Error),
    /// A row of the database holds a value the sandbox cannot read back.
    #[error(
        "corrupt database: table {table}, row {}, column {column}: cannot read {}",
        Quoted(row),
        Quoted(value)
    )]
    CorruptValue {
        /// The table (`reports`).
        table: &'static str,
        /// The column (`start_date`, `level`, `outcome`).
        column: &'static str,
        /// The row's key (a report's id).
        row: String,
        /// The value found.
        value: String,
    },
    /// The file is an SQLite database without a schema version that is not an earlier sandbox's.
    #[error(
        "corrupt database: {} is an unversioned database that is not an earlier sandbox's (tables meta, tokens \
         and reports)",
        db.display()
    )]
    ForeignDatabase {
        /// The database file.
        db: PathBuf,
    },
    /// SQLite refused to put the database in write-ahead-log mode.
    #[error(
        "the database {} cannot use write-ahead logging (journal mode {})",
        db.display(),
        Quoted(journal_mode)
    )]
    NoWriteAheadLog {
        /// The database file.
        db: PathBuf,
        /// The journal mode SQLite answered.
        journal_mode: String,
    },
    /// An operating-system error (binding the socket, waiting for Ctrl-C...).
    #[error("i/o error while {context}")]
    Io {
        /// What the sandbox was doing.
        context: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server stopped on its own, without an error.
    #[error("server error: the server stopped")]
    ServerStopped,
    /// An operating-system error on one of the sandbox's files (the database, its key file).
    #[error("i/o error while {what} {}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What the sandbox was doing with it.
        what: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The database holds tokens but its key file is gone: they cannot be derived again.
    #[error(
        "the key file {} of the database {} is missing: the database's tokens and download urls cannot be \
         restored without it (restore the file, or remove the database to start afresh)",
        key.display(),
        db.display()
    )]
    KeyFileMissing {
        /// The key file expected.
        key: PathBuf,
        /// The database.
        db: PathBuf,
    },
    /// The key file is not the one the database's tokens were derived from.
    #[error(
        "the key file {} does not belong to its database: the token of org {org_id:?} does not match",
        key.display()
    )]
    KeyFileMismatch {
        /// The key file.
        key: PathBuf,
        /// The first organisation whose stored token hash differs.
        org_id: String,
    },
    /// Others than the owner may read or write the key file.
    #[error(
        "the key file {} may be read or written by others (mode {mode:03o}); make it private with chmod 600",
        key.display()
    )]
    KeyFileExposed {
        /// The key file.
        key: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file does not hold a key.
    #[error(
        "the key file {} does not hold a sandbox key (one line of 43 base64url characters)",
        key.display()
    )]
    KeyFileMalformed {
        /// The key file.
        key: PathBuf,
    },
    /// The operating system's random source failed.
    #[error("the operating system's random source failed")]
    Random(#[source] getrandom::Error),
    /// The database was written by a newer version of the sandbox.
    #[error(
        "the database {} has schema version {found}; this sandbox reads versions up to {supported}",
        db.display()
    )]
    SchemaTooNew {
        /// The database file.
        db: PathBuf,
        /// The database's `user_version`.
        found: i64,
        /// The newest version this sandbox knows.
        supported: i64,
    },
    /// The database is closed: the sandbox is stopping.
    #[error("the database is closed: the sandbox is stopping")]
    DatabaseClosed,
    /// A database call panicked (a bug of the sandbox); what it wrote is undone.
    #[error("a database call panicked; what it wrote is undone")]
    DatabaseCallPanicked,
    /// The group commit of a write failed: nothing of the write is kept.
    #[error("the database transaction could not be committed")]
    Commit(#[source] std::sync::Arc<rusqlite::Error>),
    /// A task of the sandbox (the dataset loader, the server) panicked or was cancelled.
    #[error("server error: the {what} task failed")]
    Task {
        /// Which task ("dataset loader", "server").
        what: &'static str,
        /// Why it ended.
        #[source]
        source: tokio::task::JoinError,
    },
}

impl Error {
    pub(crate) fn io(context: &'static str, source: std::io::Error) -> Self {
        Error::Io { context, source }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// The variant of an error, by a `match` without a `_` arm: a new variant fails to compile here
    /// until it has a representative below.
    fn variant(e: &Error) -> usize {
        match e {
            Error::InvalidCreateStatus { .. } => 0,
            Error::FaultShareAbove100 { .. } => 1,
            Error::ZeroSetting { .. } => 2,
            Error::InvalidDownloadBaseUrl { .. } => 3,
            Error::InvalidPublicBaseUrl { .. } => 4,
            Error::TokenForUnknownOrg { .. } => 5,
            Error::InvalidToken { .. } => 6,
            Error::SharedToken { .. } => 7,
            Error::Dataset(_) => 8,
            Error::Database(_) => 9,
            Error::CorruptValue { .. } => 10,
            Error::ForeignDatabase { .. } => 11,
            Error::NoWriteAheadLog { .. } => 12,
            Error::Io { .. } => 13,
            Error::ServerStopped => 14,
            Error::Task { .. } => 15,
            Error::File { .. } => 16,
            Error::KeyFileMissing { .. } => 17,
            Error::KeyFileMismatch { .. } => 18,
            Error::KeyFileExposed { .. } => 19,
            Error::KeyFileMalformed { .. } => 20,
            Error::Random(_) => 21,
            Error::SchemaTooNew { .. } => 22,
            Error::DatabaseClosed => 23,
            Error::DatabaseCallPanicked => 24,
            Error::Commit(_) => 25,
            Error::RegionForUnknownOrg { .. } => 26,
            Error::CdrJson { .. } => 27,
            Error::InvalidCdr { .. } => 28,
        }
    }

    #[test]
    fn no_message_repeats_its_source() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let cancelled = runtime.block_on(async {
            let task = tokio::spawn(std::future::pending::<()>());
            task.abort();
            task.await.unwrap_err()
        });
        let all = [
            Error::InvalidCreateStatus { status: 201 },
            Error::FaultShareAbove100 { percent: 101 },
            Error::ZeroSetting {
                setting: "the ccws page size",
            },
            Error::InvalidDownloadBaseUrl {
                url: "http://[::1".into(),
                source: Some(url::Url::parse("http://[::1").unwrap_err()),
            },
            Error::InvalidPublicBaseUrl {
                url: "localhost:8484".into(),
                source: None,
            },
            Error::TokenForUnknownOrg {
                org_id: "stranger".into(),
            },
            Error::InvalidToken { org_id: "p".into() },
            Error::SharedToken {
                first: "p".into(),
                second: "sp".into(),
            },
            Error::Dataset(wholesale_billing::Period::from_dates("2024-05-02", "2024-05-01").unwrap_err()),
            Error::Database(rusqlite::Error::InvalidColumnName("x".into())),
            Error::CorruptValue {
                table: "reports",
                column: "start_date",
                row: "r".into(),
                value: "x".into(),
            },
            Error::ForeignDatabase {
                db: "/tmp/foreign.sqlite".into(),
            },
            Error::NoWriteAheadLog {
                db: "/tmp/sandbox.sqlite".into(),
                journal_mode: "delete".into(),
            },
            Error::io("binding the socket", std::io::Error::other("address in use")),
            Error::ServerStopped,
            Error::Task {
                what: "server",
                source: cancelled,
            },
            Error::File {
                path: "/tmp/sandbox.sqlite".into(),
                what: "opening",
                source: std::io::Error::other("permission denied"),
            },
            Error::KeyFileMissing {
                key: "/tmp/sandbox.sqlite.key".into(),
                db: "/tmp/sandbox.sqlite".into(),
            },
            Error::KeyFileMismatch {
                key: "/tmp/sandbox.sqlite.key".into(),
                org_id: "partner".into(),
            },
            Error::KeyFileExposed {
                key: "/tmp/sandbox.sqlite.key".into(),
                mode: 0o644,
            },
            Error::KeyFileMalformed {
                key: "/tmp/sandbox.sqlite.key".into(),
            },
            Error::Random(getrandom::Error::UNSUPPORTED),
            Error::SchemaTooNew {
                db: "/tmp/sandbox.sqlite".into(),
                found: 7,
                supported: 2,
            },
            Error::DatabaseClosed,
            Error::DatabaseCallPanicked,
            Error::Commit(std::sync::Arc::new(rusqlite::Error::InvalidQuery)),
            Error::RegionForUnknownOrg { org_id: "x".into() },
            Error::CdrJson {
                at: "line 3".into(),
                source: serde_json::from_str::<serde_json::Value>("{").unwrap_err(),
            },
            Error::InvalidCdr {
                at: "items[2]".into(),
                field: "Start time",
                problem: "is missing or not an rfc 3339 instant",
            },
        ];
        let seen: std::collections::BTreeSet<usize> = all.iter().map(variant).collect();
        assert_eq!(seen.len(), 29, "a variant without a representative");
        for e in &all {
            let mut outer: &(dyn std::error::Error + 'static) = e;
            while let Some(inner) = outer.source() {
                let (o, i) = (outer.to_string(), inner.to_string());
                assert!(!i.is_empty() && !o.contains(&i), "{o:?} repeats its source {i:?}");
                outer = inner;
            }
        }
        for e in &all {
            // Lower-case: an acronym ("SKU") may open a message, a capitalised word may not.
            let message = e.to_string();
            let first = message.split([' ', ':']).next().unwrap_or_default();
            assert!(
                !(first.chars().next().is_some_and(char::is_uppercase) && first.chars().any(char::is_lowercase)),
                "{message}"
            );
        }
        assert_eq!(
            wholesale_billing::error_with_causes(&all[8]),
            "the dataset could not be loaded: invalid period: start 2024-05-02 is after end 2024-05-01"
        );
        assert_eq!(
            wholesale_billing::error_with_causes(&all[13]),
            "i/o error while binding the socket: address in use"
        );
        assert_eq!(
            wholesale_billing::error_with_causes(&all[3]),
            "invalid sandbox configuration: the download base url \"http://[::1\" is not an http(s) origin: \
             invalid IPv6 address"
        );
        // Input is quoted by its first 80 characters.
        let long = Error::TokenForUnknownOrg {
            org_id: "o".repeat(1000),
        }
        .to_string();
        assert!(
            long.contains(&format!("\"{}\"… (1000 characters)", "o".repeat(80))),
            "{long}"
        );
        assert!(long.len() < 250, "{long}");
    }
}
