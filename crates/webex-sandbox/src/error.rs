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
        ];
        let seen: std::collections::BTreeSet<usize> = all.iter().map(variant).collect();
        assert_eq!(seen.len(), 7, "a variant without a representative");
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
