//! `wbill sandbox serve` as a process: SIGTERM stops it as cleanly as Ctrl-C (SIGINT), with exit
//! status 0, the database closed, and everything there at the next start.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const ORG: &str = r#"
[partner]
org_id = "p-1"
name = "Acme Telecom"
subscription_id = "Sub1234567"

[[sub_partners]]
org_id = "sp-1"
name = "Reseller One"
"#;

const EVENTS: &str = "\
event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package
e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,USER,webex_calling
";

/// A running `wbill sandbox serve`.
struct Served {
    child: Child,
    stderr: BufReader<ChildStderr>,
    /// Kept open: the server prints a token line per organisation.
    _stdout: BufReader<ChildStdout>,
    /// `127.0.0.1:PORT`.
    addr: String,
    /// The partner's token, as printed.
    token: String,
}

fn serve(dir: &Path) -> Served {
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
            "--addr",
            "127.0.0.1:0",
            "--today",
            "2024-06-15",
            "--report-delay-ms",
            "0",
        ])
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
    assert!(line.starts_with("partner "), "{line}");
    let token = line.split_whitespace().last().unwrap().to_owned();
    Served {
        child,
        stderr,
        _stdout: stdout,
        addr,
        token,
    }
}

/// One HTTP/1.1 request; the status and body of the answer.
fn http(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// The text value of `key` in a JSON object.
fn field(json: &str, key: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value[key].as_str().unwrap_or_default().to_owned()
}

fn stop(mut served: Served, signal: &str) -> (ExitStatus, String) {
    let status = Command::new("kill")
        .args(["-s", signal, &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let began = Instant::now();
    let exit = loop {
        if let Some(exit) = served.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "wbill did not stop on {signal}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    served.stderr.read_to_string(&mut rest).unwrap();
    (exit, rest)
}

#[test]
fn sigterm_and_sigint_stop_the_server_cleanly_and_keep_its_data() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("org.toml"), ORG).unwrap();
        std::fs::write(dir.path().join("events.csv"), EVENTS).unwrap();

        let served = serve(dir.path());
        let (status, created) = http(
            &served.addr,
            "POST",
            "/v1/wholesale/billing/reports",
            &served.token,
            r#"{"billingStartDate": "2024-05-01", "billingEndDate": "2024-05-31", "type": "USER"}"#,
        );
        assert_eq!(status, 200, "{created}");
        let id = field(&created, "id");
        let path = format!("/v1/wholesale/billing/reports/{id}");
        let began = Instant::now();
        while field(&http(&served.addr, "GET", &path, &served.token, "").1, "status") != "COMPLETED" {
            assert!(began.elapsed() < Duration::from_secs(20), "the report did not complete");
            std::thread::sleep(Duration::from_millis(20));
        }
        let token = served.token.clone();
        let (exit, stderr) = stop(served, signal);
        assert_eq!(exit.code(), Some(0), "SIG{signal}: {exit:?}\n{stderr}");
        assert!(stderr.contains("sandbox stopped; the database is closed"), "{stderr}");
        // The write-ahead log was folded into the database file.
        let wal = dir.path().join("sandbox.db-wal");
        assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);

        // The next start has the same token and the report.
        let served = serve(dir.path());
        assert_eq!(served.token, token);
        let (status, report) = http(&served.addr, "GET", &path, &served.token, "");
        assert_eq!(
            (status, field(&report, "status").as_str()),
            (200, "COMPLETED"),
            "{report}"
        );
        let (exit, _) = stop(served, signal);
        assert_eq!(exit.code(), Some(0));
    }
}
