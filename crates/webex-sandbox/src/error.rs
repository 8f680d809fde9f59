//! The crate's error type.

/// What can go wrong while starting, running or stopping a sandbox.
///
/// Requests never produce this type: bad input is answered with the Webex error body and a 4xx
/// status. These errors are about the sandbox itself (its configuration, data, database or socket).
/// Messages never repeat their source: print the chain with
/// [`wholesale_billing::error_with_causes`].
///
/// ```
/// let err = webex_sandbox::Error::Config("create_status must be 200 or 202, not 201".into());
/// assert_eq!(err.to_string(), "invalid sandbox configuration: create_status must be 200 or 202, not 201");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is inconsistent (a bad status, an unknown org id in the tokens...).
    #[error("invalid sandbox configuration: {0}")]
    Config(String),
    /// The events CSV (or the organisation) was refused by the billing engine.
    #[error("the dataset could not be loaded")]
    Dataset(#[source] wholesale_billing::Error),
    /// The SQLite database failed.
    #[error("database error")]
    Database(#[from] rusqlite::Error),
    /// The database holds something the sandbox cannot read back.
    #[error("corrupt database: {0}")]
    CorruptDatabase(String),
    /// An operating-system error (binding the socket, waiting for Ctrl-C...).
    #[error("i/o error while {context}")]
    Io {
        /// What the sandbox was doing.
        context: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server stopped on its own or had to be stopped.
    #[error("server error: {0}")]
    Server(String),
    /// An operating-system error on one of the sandbox's files (the database, its key file).
    #[error("i/o error while {what} {}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
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
        key: std::path::PathBuf,
        /// The database.
        db: std::path::PathBuf,
    },
    /// The key file is not the one the database's tokens were derived from.
    #[error(
        "the key file {} does not belong to its database: the token of org {org_id:?} does not match",
        key.display()
    )]
    KeyFileMismatch {
        /// The key file.
        key: std::path::PathBuf,
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
        key: std::path::PathBuf,
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
        key: std::path::PathBuf,
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
        db: std::path::PathBuf,
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
            Error::Config(_) => 0,
            Error::Dataset(_) => 1,
            Error::Database(_) => 2,
            Error::CorruptDatabase(_) => 3,
            Error::Io { .. } => 4,
            Error::Server(_) => 5,
            Error::Task { .. } => 6,
            Error::File { .. } => 7,
            Error::KeyFileMissing { .. } => 8,
            Error::KeyFileMismatch { .. } => 9,
            Error::KeyFileExposed { .. } => 10,
            Error::KeyFileMalformed { .. } => 11,
            Error::Random(_) => 12,
            Error::SchemaTooNew { .. } => 13,
            Error::DatabaseClosed => 14,
            Error::DatabaseCallPanicked => 15,
            Error::Commit(_) => 16,
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
            Error::Config("create_status must be 200 or 202".into()),
            Error::Dataset(wholesale_billing::Period::from_dates("2024-05-02", "2024-05-01").unwrap_err()),
            Error::Database(rusqlite::Error::InvalidColumnName("x".into())),
            Error::CorruptDatabase("report r: date \"x\"".into()),
            Error::io("binding the socket", std::io::Error::other("address in use")),
            Error::Server("the server stopped".into()),
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
        ];
        let seen: std::collections::BTreeSet<usize> = all.iter().map(variant).collect();
        assert_eq!(seen.len(), 17, "a variant without a representative");
        for e in &all {
            let mut outer: &(dyn std::error::Error + 'static) = e;
            while let Some(inner) = outer.source() {
                let (o, i) = (outer.to_string(), inner.to_string());
                assert!(!i.is_empty() && !o.contains(&i), "{o:?} repeats its source {i:?}");
                outer = inner;
            }
        }
        assert_eq!(
            wholesale_billing::error_with_causes(&all[1]),
            "the dataset could not be loaded: invalid period: start 2024-05-02 is after end 2024-05-01"
        );
        assert_eq!(
            wholesale_billing::error_with_causes(&all[4]),
            "i/o error while binding the socket: address in use"
        );
    }
}
