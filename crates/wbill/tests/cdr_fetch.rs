//! `wbill cdr fetch` against `wbill sandbox serve`, both as processes: a month fetched whole, and
//! a fetch killed (SIGKILL) after its first window, then resumed to the same bytes.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const ORG: &str = "[partner]\norg_id = \"p-1\"\nname = \"Acme Telecom\"\nsubscription_id = \"Sub1234567\"\n";
const EVENTS: &str = "\
event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package
e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,USER,webex_calling
";

/// 2,000 records over June 2024, one every 21.6 minutes, as JSON lines.
fn records() -> String {
    (0..2000u64)
        .map(|i| {
            let secs = i * 1296;
            let (day, rest) = (1 + secs / 86_400, secs % 86_400);
            format!(
                "{{\"Report ID\": \"r{i}\", \"Start time\": \"2024-06-{day:02}T{:02}:{:02}:{:02}.000Z\", \"Duration\": {}}}\n",
                rest / 3600,
                rest % 3600 / 60,
                rest % 60,
                i % 300
            )
        })
        .collect()
}

struct Served {
    child: Child,
    /// Kept open, so that the server's prints never fail.
    _pipes: (BufReader<ChildStdout>, BufReader<ChildStderr>),
    base: String,
    token: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Served {
    std::fs::write(dir.join("org.toml"), ORG).unwrap();
    std::fs::write(dir.join("events.csv"), EVENTS).unwrap();
    std::fs::write(dir.join("cdrs.jsonl"), records()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wbill"))
        .args([
            "sandbox",
            "serve",
            "--org",
            "org.toml",
            "--events",
            "events.csv",
            "--db",
            "sandbox.db",
        ])
        .args(["--addr", "127.0.0.1:0", "--today", "2024-07-01", "--cdrs", "cdrs.jsonl"])
        .args(["--cdr-initial-per-minute", "1000", "--cdr-pages-per-minute", "1000"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert_ne!(stderr.read_line(&mut line).unwrap(), 0, "wbill ended before listening");
        if let Some(rest) = line.strip_prefix("wbill: sandbox listening on http://") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let token = line.split_whitespace().last().unwrap().to_owned();
    Served {
        child,
        _pipes: (stdout, stderr),
        base: format!("http://{addr}/v1"),
        token,
    }
}

fn fetch(served: &Served, dir: &Path, out: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wbill"));
    cmd.args(["cdr", "fetch", "--base-url", &served.base, "--token-env", "CDR_TOKEN"])
        .args([
            "--from",
            "2024-06-01",
            "--to",
            "2024-06-30",
            "--out",
            out,
            "--max",
            "500",
        ])
        .args(extra)
        .env("CDR_TOKEN", &served.token)
        .current_dir(dir);
    cmd
}

const FAST: [&str; 4] = ["--initial-per-minute", "1000", "--pages-per-minute", "1000"];

#[test]
fn a_month_is_fetched_and_a_killed_fetch_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path());

    let whole = fetch(&served, dir.path(), "whole.json", &FAST).output().unwrap();
    let stderr = String::from_utf8_lossy(&whole.stderr);
    assert!(whole.status.success(), "{stderr}");
    assert!(
        stderr.contains("window 60/60 2024-06-30T12:00:00.000Z..2024-07-01T00:00:00.000Z"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2,000 call records in 60 windows written to whole.json"),
        "{stderr}"
    );
    let expected = std::fs::read(dir.path().join("whole.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&expected).unwrap();
    let ids: Vec<&str> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["Report ID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, (0..2000).map(|i| format!("r{i}")).collect::<Vec<_>>());

    // With the documented limits the second window waits a minute: kill it while it waits.
    let mut child = fetch(&served, dir.path(), "june.json", &[])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = dir.path().join("june.json.checkpoint");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !checkpoint.exists() {
        assert!(Instant::now() < deadline, "no checkpoint");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dir.path().join("june.json").exists());
    assert!(dir.path().join("june.json.partial").exists());

    // Without --resume: refused, exit status 1.
    let refused = fetch(&served, dir.path(), "june.json", &FAST).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("resume it"));

    let mut resume = FAST.to_vec();
    resume.push("--resume");
    let resumed = fetch(&served, dir.path(), "june.json", &resume).output().unwrap();
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert!(!stderr.contains("window 1/60"), "the first window again: {stderr}");
    assert!(stderr.contains("window 60/60"), "{stderr}");
    assert_eq!(std::fs::read(dir.path().join("june.json")).unwrap(), expected);
    assert!(!checkpoint.exists() && !dir.path().join("june.json.partial").exists());
}

#[test]
fn verbose_shows_each_request_never_the_token_and_quiet_shows_nothing_but_issues() {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path());
    let mut args = FAST.to_vec();
    args.push("-v");
    let verbose = fetch(&served, dir.path(), "v.json", &args).output().unwrap();
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(verbose.status.success(), "{stderr}");
    let answered: Vec<&str> = stderr.lines().filter(|l| l.contains("answered")).collect();
    // One initial request per window, and the pages after it.
    assert!(answered.len() >= 60, "{stderr}");
    assert!(
        answered
            .iter()
            .all(|l| l.contains("GET /v1/cdr_feed") && l.contains("status=200")),
        "{stderr}"
    );
    assert!(!stderr.contains(&served.token), "the token was logged: {stderr}");
    assert!(!stderr.contains("startTime="), "a query was logged: {stderr}");
    assert!(
        !stderr.contains("sending"),
        "-v does not show each request as sent: {stderr}"
    );
    assert!(stderr.contains("window 60/60"), "{stderr}");

    args.push("-v");
    let very = fetch(&served, dir.path(), "vv.json", &args).output().unwrap();
    let stderr = String::from_utf8_lossy(&very.stderr);
    assert!(very.status.success(), "{stderr}");
    assert!(
        stderr.lines().filter(|l| l.contains("sending")).count() >= 60,
        "{stderr}"
    );

    let mut quiet_args = FAST.to_vec();
    quiet_args.push("--quiet");
    let quiet = fetch(&served, dir.path(), "q.json", &quiet_args).output().unwrap();
    assert!(quiet.status.success());
    assert_eq!(String::from_utf8_lossy(&quiet.stderr), "");
    let plain = fetch(&served, dir.path(), "plain.json", &FAST).output().unwrap();
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(stderr.contains("2,000 call records in 60 windows"), "{stderr}");
    assert!(!stderr.contains("answered"), "no log without -v: {stderr}");
    let bytes = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    assert_eq!(bytes("v.json"), bytes("plain.json"));
    assert_eq!(bytes("vv.json"), bytes("plain.json"));
    assert_eq!(bytes("q.json"), bytes("plain.json"));
}

#[test]
fn usage_errors_are_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_wbill"))
        .args([
            "cdr",
            "fetch",
            "--from",
            "June",
            "--to",
            "2024-06-30",
            "--out",
            "x.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neither a date"));
    let out = Command::new(env!("CARGO_BIN_EXE_wbill"))
        .args([
            "cdr",
            "fetch",
            "--region",
            "mars",
            "--from",
            "2024-06-01",
            "--to",
            "2024-06-30",
            "--out",
            "x.json",
        ])
        .env("WEBEX_TOKEN", "t")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown cdr region \"mars\""));
}
