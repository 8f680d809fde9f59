//! The crate's error type.

/// What can go wrong while starting, running or stopping a sandbox.
///
/// Requests never produce this type: bad input is answered with the Webex error body and a 4xx
/// status. These errors are about the sandbox itself (its configuration, data, database or socket).
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
    #[error("the dataset could not be loaded: {0}")]
    Dataset(#[source] wholesale_billing::Error),
    /// The SQLite database failed.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// The database holds something the sandbox cannot read back.
    #[error("corrupt database: {0}")]
    CorruptDatabase(String),
    /// An operating-system error (binding the socket, waiting for Ctrl-C...).
    #[error("i/o error while {context}: {source}")]
    Io {
        /// What the sandbox was doing.
        context: &'static str,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server task stopped abnormally.
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
}

impl Error {
    pub(crate) fn io(context: &'static str, source: std::io::Error) -> Self {
        Error::Io { context, source }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
