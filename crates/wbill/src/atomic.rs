//! Output files written whole or not at all.
//!
//! Every file `wbill` writes is written to a temporary file beside its target
//! (`.user.csv.tmp-XXXXXX`), flushed, synced, and renamed over the target; then the directory is
//! synced. A rename is atomic: a reader sees the old file or the new one, never a part. A
//! directory of outputs is built in a temporary directory beside its target
//! (`.invoices.tmp-XXXXXX`) and swapped in whole, so a reader sees the old set or the new one,
//! never a mix, and nothing stale of an earlier run stays.
//!
//! On Ctrl-C (SIGINT) and SIGTERM the temporary files and directories are removed and the
//! process dies of the signal (status 130 or 143 in a shell). After SIGKILL or a power cut a
//! temporary may stay beside its target, under its `.NAME.tmp-` name, never the target's.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use anyhow::{Context, Result, bail};
use tempfile::{NamedTempFile, TempDir};

/// The buffer of a file being written.
const BUFFER: usize = 1 << 20;

/// Bytes written to a temporary file between two syncs started in the background (see
/// [`SyncAhead`]).
const SYNC_AHEAD_BYTES: u64 = 64 << 20;

/// Bytes between two background syncs of an output: [`SYNC_AHEAD_BYTES`], or never with
/// `--threads 1` (no thread is started then).
fn sync_ahead_bytes() -> u64 {
    if crate::progress::threads() > 1 {
        SYNC_AHEAD_BYTES
    } else {
        u64::MAX
    }
}

/// A temporary file being written that has what is already written synced in the background,
/// every [`SYNC_AHEAD_BYTES`]: the disk writes of a large output overlap its making, and the
/// sync before the rename waits for the last bytes only (half a second of a 400 MB report on
/// this project's machines). The syncing thread starts with the first sync; a sync that fails
/// fails the file at [`SyncAhead::finish`].
struct SyncAhead {
    temp: NamedTempFile,
    written: u64,
    /// Bytes between two syncs ([`SYNC_AHEAD_BYTES`] but in tests).
    every: u64,
    /// The syncing thread, once started: a sync is asked for by a message.
    syncer: Option<(std::sync::mpsc::SyncSender<()>, std::thread::JoinHandle<io::Result<()>>)>,
}

impl SyncAhead {
    fn new(temp: NamedTempFile, every: u64) -> Self {
        SyncAhead {
            temp,
            written: 0,
            every: every.max(1),
            syncer: None,
        }
    }

    /// Asks for a sync of what is written; none is queued behind one already asked for.
    fn sync_ahead(&mut self) -> io::Result<()> {
        if self.syncer.is_none() {
            let file = self.temp.as_file().try_clone()?;
            let (ask, asked) = std::sync::mpsc::sync_channel::<()>(1);
            let thread = std::thread::Builder::new()
                .name("sync-ahead".into())
                .spawn(move || asked.iter().try_for_each(|()| file.sync_data()))?;
            self.syncer = Some((ask, thread));
        }
        if let Some((ask, _)) = &self.syncer {
            // Full: a sync is already waiting, and it will cover these bytes too.
            let _ = ask.try_send(());
        }
        Ok(())
    }

    /// Waits for the syncs asked for, and gives the file back.
    fn finish(self) -> io::Result<NamedTempFile> {
        if let Some((ask, thread)) = self.syncer {
            drop(ask);
            thread
                .join()
                .map_err(|_| io::Error::other("the thread syncing the file stopped"))??;
        }
        Ok(self.temp)
    }
}

impl Write for SyncAhead {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.temp.write(buf)?;
        let before = self.written;
        self.written += n as u64;
        if self.written / self.every > before / self.every {
            self.sync_ahead()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// Buffers handed to the thread writing a file and not yet written back to it: the maker of
/// the content runs this far ahead of the writes.
const BEHIND_BUFFERS: usize = 4;

/// A temporary file written by a thread of its own (with more than one thread): the content is
/// gathered in buffers of [`BUFFER`] bytes, and each full one is handed to the writing thread,
/// which gives it back empty once written. Copying the bytes into the kernel's page cache is
/// the costly part of writing a large output (the pages are new; on a virtual machine each may
/// have to be got from the host first), and it runs here beside the making of the content
/// instead of in turn with it. With `--threads 1` the buffers are written in place.
struct WriteBehind {
    buf: Vec<u8>,
    /// `None` once finished.
    sink: Option<Sink>,
}

enum Sink {
    /// `--threads 1`: each full buffer written in place.
    Inline(SyncAhead),
    /// The writing thread: full buffers to it, empty ones back.
    Thread {
        full: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
        empty: std::sync::mpsc::Receiver<Vec<u8>>,
        thread: std::thread::JoinHandle<io::Result<SyncAhead>>,
    },
}

impl WriteBehind {
    fn new(file: SyncAhead, threads: usize) -> io::Result<Self> {
        let sink = if threads > 1 {
            let (full, to_write) = std::sync::mpsc::sync_channel::<Vec<u8>>(BEHIND_BUFFERS);
            let (give_back, empty) = std::sync::mpsc::channel();
            let mut file = file;
            let thread = std::thread::Builder::new().name("write-behind".into()).spawn(move || {
                for mut buf in to_write {
                    file.write_all(&buf)?;
                    buf.clear();
                    // The maker may be gone already (it failed): nothing to give back to.
                    let _ = give_back.send(buf);
                }
                Ok(file)
            })?;
            Sink::Thread {
                full: Some(full),
                empty,
                thread,
            }
        } else {
            Sink::Inline(file)
        };
        Ok(WriteBehind {
            buf: Vec::with_capacity(BUFFER),
            sink: Some(sink),
        })
    }

    /// Writes the buffer, or hands it to the writing thread and takes an empty one.
    fn hand_over(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        match &mut self.sink {
            None => Err(already_written()),
            Some(Sink::Inline(file)) => {
                file.write_all(&self.buf)?;
                self.buf.clear();
                Ok(())
            }
            Some(Sink::Thread { full, empty, .. }) => {
                let next = empty.try_recv().unwrap_or_else(|_| Vec::with_capacity(BUFFER));
                let buf = std::mem::replace(&mut self.buf, next);
                let sent = full.as_ref().map(|full| full.send(buf));
                if matches!(sent, Some(Ok(()))) {
                    return Ok(());
                }
                // The writing thread stopped: its error says why; the buffer sent is lost, so
                // even a thread that ended well leaves the file short.
                self.finish()?;
                Err(io::Error::other("the thread writing the file stopped before the end"))
            }
        }
    }

    /// Writes what is left, waits for the writing thread, and gives the file back.
    fn finish(&mut self) -> io::Result<SyncAhead> {
        match self.sink.take() {
            None => Err(already_written()),
            Some(Sink::Inline(mut file)) => {
                file.write_all(&self.buf)?;
                self.buf.clear();
                Ok(file)
            }
            Some(Sink::Thread { full, thread, .. }) => {
                let last = std::mem::take(&mut self.buf);
                let sent = match &full {
                    Some(full) if !last.is_empty() => full.send(last).is_ok(),
                    _ => true,
                };
                drop(full);
                let file = thread
                    .join()
                    .map_err(|_| io::Error::other("the thread writing the file stopped"))??;
                if sent {
                    Ok(file)
                } else {
                    Err(io::Error::other("the thread writing the file stopped before the end"))
                }
            }
        }
    }
}

fn already_written() -> io::Error {
    io::Error::other("the file is already written")
}

impl Drop for WriteBehind {
    /// A file given up (its run failed): the writing thread is waited for, so that the
    /// temporary file it holds is removed before the process ends.
    fn drop(&mut self) {
        if let Some(Sink::Thread { full, thread, .. }) = self.sink.take() {
            drop(full);
            let _ = thread.join();
        }
    }
}

impl Write for WriteBehind {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.sink.is_none() {
            return Err(already_written());
        }
        let mut rest = data;
        while !rest.is_empty() {
            let room = BUFFER.saturating_sub(self.buf.len());
            if room == 0 {
                self.hand_over()?;
                continue;
            }
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.buf.extend_from_slice(now);
            rest = later;
        }
        Ok(data.len())
    }

    /// Hands what is gathered on to be written; [`WriteBehind::finish`] waits for the writes.
    fn flush(&mut self) -> io::Result<()> {
        self.hand_over()
    }
}

/// A temporary file or directory that exists only until its work is committed.
enum Temporary {
    File(PathBuf),
    Dir(PathBuf),
}

/// The temporaries alive now, removed by the signal handler. Held locked across every commit's
/// renames, so a signal lands either before a rename (the temporary goes, the target stays as it
/// was) or after it (the target is whole and new).
static LIVE: Mutex<BTreeMap<u64, Temporary>> = Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn live() -> MutexGuard<'static, BTreeMap<u64, Temporary>> {
    LIVE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A temporary known to the signal handler until dropped (or disarmed).
struct Registration(u64);

impl Registration {
    fn new(temporary: Temporary) -> Result<Self> {
        watch_signals()?;
        Ok(Registration::within(&mut live(), temporary))
    }

    /// Registers while the caller holds the lock.
    fn within(live: &mut BTreeMap<u64, Temporary>, temporary: Temporary) -> Self {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        live.insert(id, temporary);
        Registration(id)
    }

    /// Forgets the temporary (it took its target's name) while the caller holds the lock.
    fn disarm(self, live: &mut BTreeMap<u64, Temporary>) {
        live.remove(&self.0);
        std::mem::forget(self);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        live().remove(&self.0);
    }
}

/// Removes every live temporary; the caller holds the lock and ends the process next.
fn remove_all(live: &BTreeMap<u64, Temporary>) {
    for temporary in live.values() {
        // Nothing more can be done about a temporary that cannot be removed: its name says
        // what it is.
        let _ = match temporary {
            Temporary::File(path) => fs::remove_file(path),
            Temporary::Dir(path) => fs::remove_dir_all(path),
        };
    }
}

/// Removes every live temporary and ends the process as `signal` would have without a handler.
pub fn die_of(signal: i32) -> ! {
    let live = live();
    remove_all(&live);
    #[cfg(unix)]
    let _ = signal_hook::low_level::emulate_default_handler(signal);
    // Where the signal cannot be re-raised: the status a shell shows for it.
    std::process::exit(128 + signal)
}

/// Starts, once, the thread that cleans up on SIGINT and SIGTERM.
fn watch_signals() -> Result<()> {
    static WATCHING: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    let started = WATCHING.get_or_init(|| start_watching().map_err(|e| e.to_string()));
    match started {
        Ok(()) => Ok(()),
        Err(e) => bail!("cannot watch for ctrl-c to clean up temporary files: {e}"),
    }
}

#[cfg(unix)]
fn start_watching() -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    // A signal ignored by whoever started us (`trap '' INT`, a background job of a script) stays
    // ignored, as other tools leave it.
    let watched: Vec<i32> = [SIGINT, SIGTERM]
        .into_iter()
        .filter(|s| !ignored_at_start(*s))
        .collect();
    if watched.is_empty() {
        return Ok(());
    }
    let mut signals = signal_hook::iterator::Signals::new(watched)?;
    std::thread::Builder::new()
        .name("wbill-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                die_of(signal);
            }
        })?;
    Ok(())
}

/// Whether `signal` is ignored now (before any handler of ours): the `SigIgn` mask of
/// `/proc/self/status`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn ignored_at_start(signal: i32) -> bool {
    let Ok(status) = fs::read_to_string("/proc/self/status") else {
        return false;
    };
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok());
    match (mask, u32::try_from(signal - 1)) {
        (Some(mask), Ok(bit)) if bit < 64 => mask & (1 << bit) != 0,
        _ => false,
    }
}

#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn ignored_at_start(_: i32) -> bool {
    false
}

#[cfg(not(unix))]
fn start_watching() -> io::Result<()> {
    Ok(())
}

/// `path`'s directory (`.` for a bare file name) and file name.
fn split(path: &Path) -> Result<(PathBuf, String)> {
    let Some(Component::Normal(name)) = path.components().next_back() else {
        bail!("{} does not name a file or directory", path.display());
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_string_lossy().into_owned()))
}

/// Makes a directory's entries durable (a rename in it, a file created in it).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Where a file's bytes go.
enum Target {
    /// A regular file (or none yet): replaced by a rename, keeping the old file's permissions.
    Replace {
        path: PathBuf,
        permissions: Option<fs::Permissions>,
    },
    /// A device, a pipe or a socket (`/dev/null`, a named pipe): written in place.
    InPlace(PathBuf),
}

impl Target {
    fn of(path: &Path) -> Result<Target> {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => bail!("{} is a directory", path.display()),
            Ok(meta) if meta.is_file() => {
                // A link to a file: the file it points to is replaced, the link stays.
                let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
                let path = if is_link {
                    fs::canonicalize(path).with_context(|| format!("cannot resolve {}", path.display()))?
                } else {
                    path.to_owned()
                };
                Ok(Target::Replace {
                    path,
                    permissions: Some(meta.permissions()),
                })
            }
            Ok(_) => Ok(Target::InPlace(path.to_owned())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Target::Replace {
                path: path.to_owned(),
                permissions: None,
            }),
            Err(e) => Err(e).with_context(|| format!("cannot write {}", path.display())),
        }
    }
}

/// A file being written: to a temporary beside its target until [`AtomicFile::finish`] and
/// [`Finished::commit`] (or [`commit_all`]) put it in place.
pub struct AtomicFile {
    inner: Inner,
    /// The target as the user named it, for messages.
    shown: PathBuf,
}

enum Inner {
    Temporary {
        writer: WriteBehind,
        target: PathBuf,
        permissions: Option<fs::Permissions>,
        registration: Registration,
    },
    InPlace(BufWriter<File>),
}

impl AtomicFile {
    /// Starts writing `path`: a new temporary file beside it.
    pub fn create(path: &Path) -> Result<AtomicFile> {
        let inner = match Target::of(path)? {
            Target::InPlace(path) => {
                let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
                Inner::InPlace(BufWriter::with_capacity(BUFFER, file))
            }
            Target::Replace {
                path: target,
                permissions,
            } => {
                let (dir, name) = split(&target)?;
                let prefix = format!(".{name}.tmp-");
                let mut builder = tempfile::Builder::new();
                builder.prefix(&prefix);
                // The mode `File::create` gives (0666 less the umask), not a temporary's 0600.
                #[cfg(unix)]
                builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
                let temp = builder
                    .tempfile_in(&dir)
                    .with_context(|| format!("cannot create a temporary file for {} in {}", name, dir.display()))?;
                let registration = Registration::new(Temporary::File(temp.path().to_owned()))?;
                Inner::Temporary {
                    writer: WriteBehind::new(SyncAhead::new(temp, sync_ahead_bytes()), crate::progress::threads())
                        .with_context(|| format!("cannot start writing {}", name))?,
                    target,
                    permissions,
                    registration,
                }
            }
        };
        Ok(AtomicFile {
            inner,
            shown: path.to_owned(),
        })
    }

    /// Where to write the content.
    pub fn writer(&mut self) -> &mut dyn Write {
        match &mut self.inner {
            Inner::Temporary { writer, .. } => writer,
            Inner::InPlace(writer) => writer,
        }
    }

    /// Flushes and syncs the content; the target is not touched yet.
    pub fn finish(self) -> Result<Finished> {
        let shown = self.shown;
        let context = || format!("writing {}", shown.display());
        let inner = match self.inner {
            Inner::Temporary {
                mut writer,
                target,
                permissions,
                registration,
            } => {
                let temp = writer.finish().with_context(context)?;
                let temp = temp.finish().with_context(context)?;
                if let Some(permissions) = permissions {
                    fs::set_permissions(temp.path(), permissions).with_context(context)?;
                }
                temp.as_file().sync_all().with_context(context)?;
                FinishedInner::Temporary {
                    temp,
                    target,
                    registration,
                }
            }
            Inner::InPlace(mut writer) => {
                writer.flush().with_context(context)?;
                FinishedInner::InPlace
            }
        };
        Ok(Finished { inner, shown })
    }
}

/// A file whose content is complete and synced, not yet in place.
pub struct Finished {
    inner: FinishedInner,
    shown: PathBuf,
}

enum FinishedInner {
    Temporary {
        temp: NamedTempFile,
        target: PathBuf,
        registration: Registration,
    },
    InPlace,
}

impl Finished {
    /// Renames the file over its target and syncs the directory.
    pub fn commit(self) -> Result<()> {
        commit_all([self])
    }
}

/// Renames finished files over their targets, one after the other with no signal handled
/// between them, then syncs their directories. Each rename is atomic; a crash between two of
/// them leaves the first file new and the second old.
pub fn commit_all(files: impl IntoIterator<Item = Finished>) -> Result<()> {
    let mut files = files.into_iter().collect::<Vec<_>>().into_iter();
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut failure = None;
    {
        // No `?` while the lock is held: a registration dropped here would wait for it.
        let mut live = live();
        for Finished { inner, shown } in files.by_ref() {
            let FinishedInner::Temporary {
                temp,
                target,
                registration,
            } = inner
            else {
                continue;
            };
            // On failure the temporary is removed with the error.
            registration.disarm(&mut live);
            if let Err(e) = temp.persist(&target) {
                failure = Some((e.error, shown));
                break;
            }
            if let Ok((dir, _)) = split(&target)
                && !dirs.contains(&dir)
            {
                dirs.push(dir);
            }
        }
    }
    // The files not put in place go, with their temporaries.
    drop(files);
    if let Some((error, shown)) = failure {
        return Err(error).with_context(|| format!("cannot put {} in place", shown.display()));
    }
    for dir in dirs {
        sync_dir(&dir).with_context(|| format!("syncing {}", dir.display()))?;
    }
    Ok(())
}

/// Writes `path` whole or not at all with what `write` produces.
pub fn write_file<T>(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
    let mut file = AtomicFile::create(path)?;
    let value = write(file.writer())?;
    file.finish()?.commit()?;
    Ok(value)
}

/// Which paths (relative to the directory) of an existing output directory a command may
/// replace: those it writes. Anything else there makes it refuse, so that pointing `--out-dir`
/// at a directory of other files never deletes them.
pub type MayReplace = fn(&Path) -> bool;

/// A directory of outputs being built beside its target, swapped in whole by
/// [`StagedDir::commit`].
pub struct StagedDir {
    staging: TempDir,
    registration: Registration,
    target: PathBuf,
    may_replace: MayReplace,
    what: &'static str,
}

impl StagedDir {
    /// Starts a directory of outputs for `target` (written by the command `what`), refusing at
    /// once a target that is a file or holds files the command does not write.
    pub fn create(target: &Path, what: &'static str, may_replace: MayReplace) -> Result<StagedDir> {
        let (parent, name) = split(target)?;
        fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
        check_replaceable(target, what, may_replace, None)?;
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.tmp-"))
            .tempdir_in(&parent)
            .with_context(|| format!("cannot create a temporary directory for {name} in {}", parent.display()))?;
        let registration = Registration::new(Temporary::Dir(staging.path().to_owned()))?;
        Ok(StagedDir {
            staging,
            registration,
            target: target.to_owned(),
            may_replace,
            what,
        })
    }

    /// The directory being built (where the command writes, and reads back what it wrote).
    pub fn path(&self) -> &Path {
        self.staging.path()
    }

    /// Makes the directory `relative` (and its parents) in the directory being built.
    pub fn create_dir(&self, relative: &Path) -> Result<()> {
        let _making = live();
        fs::create_dir_all(self.staging.path().join(relative))
            .with_context(|| format!("cannot create {}", self.target.join(relative).display()))
    }

    /// Writes the file `relative` in the directory being built (its directories created). Not
    /// synced one by one: [`StagedDir::commit`] syncs the whole tree once.
    pub fn write<T>(&self, relative: impl AsRef<Path>, write: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
        let path = self.staging.path().join(relative.as_ref());
        let context = || format!("writing {}", self.target.join(relative.as_ref()).display());
        let file = {
            // No entry is made while the signal handler removes the directory (it holds the
            // lock until the process ends); writing into an entry made is harmless.
            let _making = live();
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).with_context(context)?;
            }
            File::create(&path).with_context(context)?
        };
        let mut out = BufWriter::with_capacity(BUFFER, file);
        let value = write(&mut out)?;
        out.flush().with_context(context)?;
        Ok(value)
    }

    /// Syncs the new directory and swaps it in for the target: one atomic rename where the
    /// target did not exist, or where the system exchanges two paths in one step (Linux
    /// `renameat2(RENAME_EXCHANGE)`, macOS `renamex_np(RENAME_SWAP)`); elsewhere two renames,
    /// the old directory aside first, then the new one in (a crash between them leaves no
    /// target, the old set under `.NAME.old-…` and the new under `.NAME.tmp-…`, never a mix).
    /// The old set is then removed.
    pub fn commit(self) -> Result<()> {
        let StagedDir {
            staging,
            registration,
            target,
            may_replace,
            what,
        } = self;
        let (parent, name) = split(&target)?;
        sync_tree(staging.path()).with_context(|| format!("syncing the new {}", target.display()))?;
        check_replaceable(&target, what, may_replace, Some(staging.path()))?;
        let context = || format!("cannot put the new {} in place", target.display());
        // No `?` below returns while the lock is held with a registration younger than it.
        let exchanged = {
            let live = live();
            if fs::symlink_metadata(&target).is_err() {
                fs::rename(staging.path(), &target).with_context(context)?;
                None
            } else {
                let exchanged = exchange(staging.path(), &target).with_context(context)?;
                drop(live);
                Some(exchanged)
            }
        };
        // What is left to remove: the old set, under a temporary name, and its registration.
        let leftover = match exchanged {
            None => {
                registration.disarm(&mut live());
                let _ = staging.keep();
                None
            }
            // The staging path now holds the old set.
            Some(true) => Some((staging, registration)),
            Some(false) => {
                let old = tempfile::Builder::new()
                    .prefix(&format!(".{name}.old-"))
                    .tempdir_in(&parent)
                    .with_context(context)?;
                let old_registration = Registration::new(Temporary::Dir(old.path().to_owned()))?;
                {
                    let mut live = live();
                    fs::rename(&target, old.path()).with_context(context)?;
                    if let Err(e) = fs::rename(staging.path(), &target) {
                        // Put the old set back.
                        let _ = fs::rename(old.path(), &target);
                        return Err(e).with_context(context);
                    }
                    registration.disarm(&mut live);
                }
                let _ = staging.keep();
                Some((old, old_registration))
            }
        };
        sync_dir(&parent).with_context(|| format!("syncing {}", parent.display()))?;
        if let Some((old, registration)) = leftover {
            let path = old.path().to_owned();
            old.close()
                .with_context(|| format!("removing the old outputs {}", path.display()))?;
            drop(registration);
        }
        Ok(())
    }
}

/// Refuses a target that exists and is not a directory, or holds anything the command does not
/// write (by `may_replace`, or by name in the new set `new`).
fn check_replaceable(target: &Path, what: &str, may_replace: MayReplace, new: Option<&Path>) -> Result<()> {
    let meta = match fs::symlink_metadata(target) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", target.display())),
    };
    if !meta.is_dir() {
        bail!(
            "{} exists and is not a directory: give a directory for the outputs of `{what}`",
            target.display()
        );
    }
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = target.join(&relative);
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
            let path = relative.join(entry.file_name());
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let in_new = new.is_some_and(|n| {
                fs::symlink_metadata(n.join(&path)).is_ok_and(|m| m.is_dir() == is_dir && !m.is_symlink())
            });
            if !in_new && !may_replace(&path) {
                bail!(
                    "{} holds {}, which `{what}` does not write: the directory is replaced whole, so give a new \
                     or empty directory (or remove it first)",
                    target.display(),
                    path.display()
                );
            }
            if is_dir {
                pending.push(path);
            }
        }
    }
    Ok(())
}

/// Exchanges two paths in one atomic step where the system can; `false` where it cannot.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "ios"))]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        // The system or the file system does not support it.
        Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "ios")))]
fn exchange(_: &Path, _: &Path) -> io::Result<bool> {
    Ok(false)
}

/// Makes everything written under `dir` durable: one `syncfs` of its file system on Linux
/// (tens of thousands of invoices would take minutes synced one by one), else file by file.
fn sync_tree(dir: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        rustix::fs::syncfs(File::open(dir)?)?;
        Ok(())
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let mut pending = vec![dir.to_owned()];
        while let Some(dir) = pending.pop() {
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                if entry.file_type()?.is_dir() {
                    pending.push(entry.path());
                } else {
                    fs::OpenOptions::new().write(true).open(entry.path())?.sync_all()?;
                }
            }
            sync_dir(&dir)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_behind_the_file_holds_every_byte_in_order() -> Result<()> {
        let dir = tempfile::tempdir()?;
        // Pieces of every size around the buffer's, on a thread and in place.
        let sizes = [1, 1_000, BUFFER - 1, 1, BUFFER, 3 * BUFFER + 7, 0, 12];
        let mut expected = Vec::new();
        for (n, &size) in sizes.iter().enumerate() {
            expected.extend((0..size).map(|i| (i % 251) as u8 ^ n as u8));
        }
        for threads in [1, 2] {
            let mut file = WriteBehind::new(SyncAhead::new(NamedTempFile::new_in(dir.path())?, 1 << 20), threads)?;
            assert_eq!(matches!(file.sink, Some(Sink::Thread { .. })), threads > 1);
            let mut at = 0;
            for &size in &sizes {
                file.write_all(&expected[at..at + size])?;
                at += size;
                if size == 1 {
                    file.flush()?;
                }
            }
            let temp = file.finish()?.finish()?;
            assert_eq!(fs::read(temp.path())?, expected, "{threads} threads");
            assert!(file.write_all(b"late").is_err(), "a finished file takes no more bytes");
        }
        Ok(())
    }

    #[test]
    fn a_file_given_up_is_removed_before_the_writer_returns() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut file = WriteBehind::new(SyncAhead::new(NamedTempFile::new_in(dir.path())?, 1 << 20), 2)?;
        file.write_all(&vec![7u8; 3 * BUFFER])?;
        drop(file);
        assert_eq!(fs::read_dir(dir.path())?.count(), 0);
        Ok(())
    }

    #[test]
    fn synced_ahead_the_file_holds_every_byte_once() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let mut file = SyncAhead::new(NamedTempFile::new_in(dir.path())?, 1_500);
        let piece: Vec<u8> = (0..=255u8).cycle().take(1_000).collect();
        for _ in 0..10 {
            file.write_all(&piece)?;
        }
        assert!(file.syncer.is_some(), "a sync was asked for past 1,500 bytes");
        let temp = file.finish()?;
        assert_eq!(fs::read(temp.path())?, piece.repeat(10));
        // Under the interval no thread starts.
        let mut small = SyncAhead::new(NamedTempFile::new_in(dir.path())?, 1_500);
        small.write_all(&piece)?;
        assert!(small.syncer.is_none());
        assert_eq!(fs::read(small.finish()?.path())?, piece);
        Ok(())
    }
}
