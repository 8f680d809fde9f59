//! `wbill` killed while it writes (SIGKILL, SIGINT, SIGTERM): the old output stays intact, byte
//! for byte; a temporary is removed on SIGINT and SIGTERM, and after SIGKILL stays under a name
//! no one takes for the output. Each test waits for the temporary to be written to (no fixed
//! sleep), then sends the signal.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const SIGINT: i32 = 2;
const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;

const PERIOD: [&str; 4] = ["--from", "2024-05-01", "--to", "2024-05-31"];

/// A generated month big enough that writing its outputs takes a moment (about 13 MB of
/// events, 60,000 subscribers in 3,000 customers), made once per build and reused.
fn month() -> &'static Path {
    static MONTH: OnceLock<PathBuf> = OnceLock::new();
    MONTH.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("crash-month-60k");
        // The month is stamped with the binary that made it (size and modification time): a
        // month of an earlier build, whose generator may differ, is made again.
        let binary = std::fs::metadata(env!("CARGO_BIN_EXE_wbill")).unwrap();
        let stamp = format!("{} {:?}\n", binary.len(), binary.modified().unwrap());
        if std::fs::read_to_string(dir.join("made-by")).ok().as_deref() != Some(stamp.as_str()) {
            let out = wbill(&dir_parent(&dir))
                .args(["gen", "--seed", "5", "--customers", "3000", "--subscribers", "60000"])
                .args(["--sub-partners", "0", "--month", "2024-05", "--out-dir"])
                .arg(&dir)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            std::fs::write(dir.join("made-by"), &stamp).unwrap();
        }
        let prices = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/prices.toml")).unwrap();
        std::fs::write(dir.join("prices.toml"), prices).unwrap();
        dir
    })
}

fn dir_parent(dir: &Path) -> PathBuf {
    dir.parent().unwrap().to_owned()
}

fn wbill(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wbill"));
    command.current_dir(dir).stdin(Stdio::null());
    command
}

/// The entries of `dir` whose name starts with `prefix`.
fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

/// Waits until `ready` (polling every millisecond), then sends `signal` and waits for the end.
fn signal_when(mut child: Child, signal: i32, ready: impl Fn() -> bool) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            panic!("wbill ended ({status}) before its output was caught being written: {stderr}");
        }
        assert!(Instant::now() < deadline, "no temporary output appeared");
        std::thread::sleep(Duration::from_millis(1));
    }
    if signal == SIGKILL {
        child.kill().unwrap();
    } else {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
    }
    child.wait().unwrap()
}

/// The files under `dir`, by relative path, with their bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(
                    path.strip_prefix(dir).unwrap().to_owned(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    files
}

/// Checks what a signal left: the process died of SIGINT or SIGTERM (status 130 or 143 in a
/// shell) with its temporaries removed, or was killed and left them under their names.
fn check_end(status: ExitStatus, signal: i32, leftovers: &[PathBuf], temp_prefix: &str) {
    assert_eq!(status.signal(), Some(signal), "{status}");
    if signal == SIGKILL {
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
        let name = leftovers[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(temp_prefix) && name.len() > temp_prefix.len(),
            "{name}"
        );
        std::fs::remove_dir_all(&leftovers[0])
            .or_else(|_| std::fs::remove_file(&leftovers[0]))
            .unwrap();
    } else {
        assert!(leftovers.is_empty(), "left after signal {signal}: {leftovers:?}");
    }
}

/// `wbill usage --out user.csv` killed while writing the report: the old report stays whole.
fn usage_killed_mid_write(signal: i32) {
    let work = tempfile::tempdir().unwrap();
    let month = month();
    let target = work.path().join("user.csv");
    let old = b"an earlier report, whole\n".repeat(1000);
    std::fs::write(&target, &old).unwrap();
    let child = wbill(work.path())
        .arg("usage")
        .arg("--events")
        .arg(month.join("events.csv"))
        .arg("--org")
        .arg(month.join("org.toml"))
        .args(PERIOD)
        .args(["--level", "user", "--all", "--out", "user.csv"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = signal_when(child, signal, || {
        named(work.path(), ".user.csv.tmp-")
            .iter()
            .any(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
    });
    assert_eq!(std::fs::read(&target).unwrap(), old, "the old report changed");
    check_end(status, signal, &named(work.path(), ".user.csv.tmp-"), ".user.csv.tmp-");
}

#[test]
fn usage_out_survives_sigkill() {
    usage_killed_mid_write(SIGKILL);
}

#[test]
fn usage_out_survives_sigint() {
    usage_killed_mid_write(SIGINT);
}

#[test]
fn usage_out_survives_sigterm() {
    usage_killed_mid_write(SIGTERM);
}

/// SIGINT ignored by the caller (`trap '' INT`, a background job of a script) stays ignored:
/// wbill finishes and puts its output in place.
#[test]
fn an_ignored_sigint_stays_ignored() {
    let work = tempfile::tempdir().unwrap();
    let month = month();
    std::fs::write(work.path().join("user.csv"), "old\n").unwrap();
    let script = format!(
        "trap '' INT; exec '{}' usage --events '{}' --org '{}' --from 2024-05-01 --to 2024-05-31 --all --out user.csv",
        env!("CARGO_BIN_EXE_wbill"),
        month.join("events.csv").display(),
        month.join("org.toml").display()
    );
    let child = Command::new("sh")
        .args(["-c", &script])
        .current_dir(work.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = signal_when(child, SIGINT, || {
        named(work.path(), ".user.csv.tmp-")
            .iter()
            .any(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
    });
    assert!(status.success(), "{status}");
    assert!(
        std::fs::read_to_string(work.path().join("user.csv"))
            .unwrap()
            .starts_with("PARTNER_NAME,")
    );
    assert!(named(work.path(), ".user.csv.tmp-").is_empty());
}

/// `wbill invoice customers --out-dir inv` killed while writing its invoices: the old set stays,
/// file for file and byte for byte.
fn invoices_killed_mid_write(signal: i32) {
    let work = tempfile::tempdir().unwrap();
    let month = month();
    let inv = work.path().join("inv");
    std::fs::create_dir_all(inv.join("customers")).unwrap();
    std::fs::write(inv.join("customers/CUST-OLD.csv"), "an earlier invoice\n").unwrap();
    std::fs::write(inv.join("summary.csv"), "an earlier summary\n").unwrap();
    std::fs::write(inv.join("margin.csv"), "an earlier margin report\n").unwrap();
    let before = tree(&inv);
    let child = wbill(work.path())
        .args(["invoice", "customers", "--events"])
        .arg(month.join("events.csv"))
        .arg("--org")
        .arg(month.join("org.toml"))
        .arg("--price-book")
        .arg(month.join("prices.toml"))
        .args(PERIOD)
        .args(["--out-dir", "inv"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = signal_when(child, signal, || {
        named(work.path(), ".inv.tmp-")
            .iter()
            .any(|staging| std::fs::read_dir(staging.join("customers")).is_ok_and(|mut d| d.next().is_some()))
    });
    assert_eq!(tree(&inv), before, "the old invoices changed");
    check_end(status, signal, &named(work.path(), ".inv.tmp-"), ".inv.tmp-");
}

#[test]
fn invoice_out_dir_survives_sigkill() {
    invoices_killed_mid_write(SIGKILL);
}

#[test]
fn invoice_out_dir_survives_sigint() {
    invoices_killed_mid_write(SIGINT);
}

/// `wbill gen` killed while writing events.csv: the old events and organisation stay.
#[test]
fn gen_survives_sigint_and_sigkill() {
    for signal in [SIGINT, SIGKILL] {
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("events.csv"), "old events\n").unwrap();
        std::fs::write(work.path().join("org.toml"), "# old organisation\n").unwrap();
        let before = tree(work.path());
        let child = wbill(work.path())
            .args([
                "gen",
                "--customers",
                "10000",
                "--subscribers",
                "400000",
                "--month",
                "2024-05",
            ])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = signal_when(child, signal, || {
            named(work.path(), ".events.csv.tmp-")
                .iter()
                .any(|p| std::fs::metadata(p).is_ok_and(|m| m.len() > 0))
        });
        let leftovers = named(work.path(), ".events.csv.tmp-");
        check_end(status, signal, &leftovers, ".events.csv.tmp-");
        assert_eq!(tree(work.path()), before, "signal {signal}");
    }
}
