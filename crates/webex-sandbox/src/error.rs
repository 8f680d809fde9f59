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
}

impl Error {
    pub(crate) fn io(context: &'static str, source: std::io::Error) -> Self {
        Error::Io { context, source }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
