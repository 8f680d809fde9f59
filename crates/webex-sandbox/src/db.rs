//! The database handle: SQLite in WAL mode with one writer thread and a pool of reader
//! connections, so that no request thread ever waits for the disk or for a lock.
//!
//! - Reads run on a read-only connection of the pool, on tokio's blocking threads; in WAL mode they
//!   never wait for a write.
//! - Writes are jobs sent to the writer thread, which owns the only writable connection. It runs
//!   the jobs waiting in its queue one after the other, each in its own savepoint (a failing job is
//!   undone alone), inside one transaction, and commits them together (a group commit): one commit
//!   for many creations under load. A job's caller gets its answer once the commit is done.
//! - Commits do not sync the disk (`synchronous = NORMAL`): a killed process loses nothing that was
//!   committed, a power loss may lose the last commits but never leaves a damaged database.
//!
//! An in-memory database has a single connection, the writer's: reads are jobs too.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use deadpool::unmanaged::Pool;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::store;

/// How long a connection waits for a lock held by another process on the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Reader connections of a database file.
const READERS: usize = 8;
/// The most jobs one group commit takes.
const MAX_BATCH: usize = 256;

/// The database of a sandbox.
#[derive(Debug)]
pub(crate) struct Database {
    /// The writer thread's queue.
    jobs: mpsc::Sender<Message>,
    /// Connections opened read-only; `None` for an in-memory database (the writer reads too).
    readers: Option<Pool<Connection>>,
}

/// What the writer thread is sent.
enum Message {
    Job(Box<dyn Job>),
    /// Finish the jobs sent before, fold the log into the file, close the connection, answer.
    Close(oneshot::Sender<Result<()>>),
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Message::Job(_) => "Job",
            Message::Close(_) => "Close",
        })
    }
}

/// A write, as the writer thread runs it.
trait Job: Send {
    /// Runs the write (inside a savepoint); whether it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller: with the write's result once committed, else with `failure`.
    fn answer(self: Box<Self>, failure: Option<Error>);
}

/// A job with its result type and the channel of its answer.
struct Write<T, F> {
    f: Option<F>,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Write<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(f) = self.f.take() else {
            return false;
        };
        let result = catch_unwind(AssertUnwindSafe(|| f(conn))).unwrap_or(Err(Error::DatabaseCallPanicked));
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, failure: Option<Error>) {
        let result = match (failure, self.result) {
            (Some(e), _) => Err(e),
            (None, Some(result)) => result,
            (None, None) => Err(Error::DatabaseClosed),
        };
        let _ = self.reply.send(result);
    }
}

impl Database {
    /// Opens the database file `path` (created with mode 0600 when missing) or, for `None`, a new
    /// in-memory database, brings its schema up to date and starts its writer thread. Blocking:
    /// call it on a blocking thread.
    ///
    /// # Errors
    /// [`Error::File`] when the file cannot be created; [`Error::Database`] when SQLite cannot open
    /// it; the errors of [`store::migrate`]; [`Error::Io`] when the writer thread cannot start.
    pub(crate) fn open(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            let mut conn = Connection::open_in_memory()?;
            store::migrate(&mut conn, Path::new(":memory:"))?;
            return Ok(Database {
                jobs: spawn_writer(conn)?,
                readers: None,
            });
        };
        create_private(path)?;
        let mut writer = Connection::open(path)?;
        writer.busy_timeout(BUSY_TIMEOUT)?;
        if store::migrate(&mut writer, path)? {
            // Rewrite the file so that no free page keeps the erased secrets.
            writer.execute_batch("VACUUM")?;
        }
        let mode: String = writer.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::NoWriteAheadLog {
                db: path.to_path_buf(),
                journal_mode: mode,
            });
        }
        writer.pragma_update(None, "synchronous", "NORMAL")?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
                )?;
                conn.busy_timeout(BUSY_TIMEOUT)?;
                Ok(conn)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Database {
            jobs: spawn_writer(writer)?,
            readers: Some(Pool::from(readers)),
        })
    }

    /// Runs `f` on a reader connection, on a blocking thread (on an in-memory database: as a job
    /// of the writer thread).
    ///
    /// # Errors
    /// What `f` returns; [`Error::DatabaseClosed`] after [`Database::close`];
    /// [`Error::DatabaseCallPanicked`] when `f` panicked.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let Some(readers) = &self.readers else {
            return self.write(f).await;
        };
        let conn = readers.get().await.map_err(|_| Error::DatabaseClosed)?;
        match tokio::task::spawn_blocking(move || f(&conn)).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => Err(Error::DatabaseCallPanicked),
            Err(_) => Err(Error::DatabaseClosed),
        }
    }

    /// Has the writer thread run `f` (in a savepoint: undone if it fails) and commit it; waits for
    /// the answer asynchronously.
    ///
    /// # Errors
    /// What `f` returns; [`Error::Commit`] when the group commit failed (nothing of `f` is kept);
    /// [`Error::DatabaseClosed`] after [`Database::close`]; [`Error::DatabaseCallPanicked`].
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.send(f)?.await.unwrap_or(Err(Error::DatabaseClosed))
    }

    /// As [`Database::write`], waiting on the current thread: for work already on a blocking
    /// thread (never call it on a request thread).
    ///
    /// # Errors
    /// As [`Database::write`].
    pub(crate) fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.send(f)?.blocking_recv().unwrap_or(Err(Error::DatabaseClosed))
    }

    fn send<T, F>(&self, f: F) -> Result<oneshot::Receiver<Result<T>>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Write {
            f: Some(f),
            result: None,
            reply,
        };
        self.jobs
            .send(Message::Job(Box::new(job)))
            .map_err(|_| Error::DatabaseClosed)?;
        Ok(answer)
    }

    /// Lets the writer finish the jobs sent before, copies the write-ahead log into the database
    /// file (`wal_checkpoint(TRUNCATE)`) and closes every connection. Later calls get
    /// [`Error::DatabaseClosed`].
    ///
    /// # Errors
    /// [`Error::Database`] when the checkpoint fails (the log is then replayed at the next open:
    /// nothing is lost).
    pub(crate) async fn close(&self) -> Result<()> {
        if let Some(readers) = &self.readers {
            readers.close();
        }
        let (reply, answer) = oneshot::channel();
        if self.jobs.send(Message::Close(reply)).is_err() {
            return Ok(());
        }
        answer.await.unwrap_or(Ok(()))
    }
}

/// Starts the writer thread on `conn`; its queue.
fn spawn_writer(conn: Connection) -> Result<mpsc::Sender<Message>> {
    let (jobs, queue) = mpsc::channel();
    std::thread::Builder::new()
        .name("webex-sandbox-db-writer".into())
        .spawn(move || writer_loop(conn, &queue))
        .map_err(|e| Error::io("starting the database writer thread", e))?;
    Ok(jobs)
}

fn writer_loop(mut conn: Connection, queue: &mpsc::Receiver<Message>) {
    while let Ok(first) = queue.recv() {
        let mut batch = Vec::new();
        let mut close = None;
        match first {
            Message::Job(job) => batch.push(job),
            Message::Close(reply) => close = Some(reply),
        }
        while close.is_none() && batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(Message::Job(job)) => batch.push(job),
                Ok(Message::Close(reply)) => close = Some(reply),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            group_commit(&mut conn, batch);
        }
        if let Some(reply) = close {
            // In-memory databases have no log: the pragma answers without doing anything.
            let checkpoint = conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .map_err(Error::from);
            drop(conn);
            let _ = reply.send(checkpoint);
            return;
        }
    }
}

/// Runs `batch` in one transaction, each job in a savepoint, and answers every job.
fn group_commit(conn: &mut Connection, mut batch: Vec<Box<dyn Job>>) {
    let done = (|| -> rusqlite::Result<()> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for job in &mut batch {
            conn.execute_batch("SAVEPOINT job")?;
            if job.run(conn) {
                conn.execute_batch("RELEASE job")?;
            } else {
                conn.execute_batch("ROLLBACK TO job; RELEASE job")?;
            }
        }
        conn.execute_batch("COMMIT")
    })();
    match done {
        Ok(()) => {
            for job in batch {
                job.answer(None);
            }
        }
        Err(e) => {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            let e = Arc::new(e);
            for job in batch {
                job.answer(Some(Error::Commit(e.clone())));
            }
        }
    }
}

/// Creates the database file with mode 0600 unless it exists (SQLite gives its `-wal` and `-shm`
/// files the database file's mode).
fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(Error::File {
            path: path.to_owned(),
            what: "creating the database",
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_and_writes_run_and_the_close_is_final() {
        for file in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("db.sqlite");
            let db = Arc::new(Database::open(file.then_some(path.as_path())).unwrap());
            db.write(|c| store::meta_or_init(c, "k", || "v".into())).await.unwrap();
            let v = db
                .read(|c| store::meta_or_init(c, "k", || "other".into()))
                .await
                .unwrap();
            assert_eq!(v, "v");
            if file {
                // Readers are read-only.
                let err = db.read(|c| Ok(c.execute("DELETE FROM meta", [])?)).await.unwrap_err();
                assert!(matches!(err, Error::Database(_)), "{err}");
                let mode: String = db
                    .read(|c| Ok(c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?))
                    .await
                    .unwrap();
                assert_eq!(mode, "wal");
            }
            // A failing write is undone alone; a panicking one too.
            let err = db
                .write(|c| {
                    store::meta_or_init(c, "gone", || "x".into())?;
                    Err::<(), _>(Error::DatabaseClosed)
                })
                .await
                .unwrap_err();
            assert!(matches!(err, Error::DatabaseClosed), "{err}");
            let err = db.write(|_| -> Result<()> { panic!("boom") }).await.unwrap_err();
            assert!(matches!(err, Error::DatabaseCallPanicked), "{err}");
            let err = db.read(|_| -> Result<()> { panic!("boom") }).await.unwrap_err();
            assert!(matches!(err, Error::DatabaseCallPanicked), "{err}");
            let gone = db
                .read(|c| {
                    Ok(c.query_row("SELECT count(*) FROM meta WHERE key = 'gone'", [], |r| {
                        r.get::<_, i64>(0)
                    })?)
                })
                .await
                .unwrap();
            assert_eq!(gone, 0);
            // Many writes at once are committed together and all answered.
            let writes = (0..50).map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write(move |c| store::meta_or_init(c, &format!("n{i}"), || i.to_string()))
                        .await
                })
            });
            for (i, w) in writes.enumerate() {
                assert_eq!(w.await.unwrap().unwrap(), i.to_string());
            }
            // From a blocking thread.
            let blocking = db.clone();
            let v = tokio::task::spawn_blocking(move || {
                blocking.write_blocking(|c| store::meta_or_init(c, "k", || "other".into()))
            })
            .await
            .unwrap()
            .unwrap();
            assert_eq!(v, "v");
            db.close().await.unwrap();
            assert!(matches!(db.read(|_| Ok(())).await, Err(Error::DatabaseClosed)));
            assert!(matches!(db.write(|_| Ok(())).await, Err(Error::DatabaseClosed)));
            if file {
                // The log was folded into the file.
                let wal = dir.path().join("db.sqlite-wal");
                assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
            }
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_database_file_and_its_log_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let db = Database::open(Some(&path)).unwrap();
        db.write(|c| store::meta_or_init(c, "k", || "v".into())).await.unwrap();
        db.read(|c| store::meta_or_init(c, "k", || "v".into())).await.unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("db.sqlite-wal")), 0o600);
        assert_eq!(mode(&dir.path().join("db.sqlite-shm")), 0o600);
    }
}
