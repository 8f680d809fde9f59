//! The CDR feed client against the sandbox over real HTTP (loopback): a month of generated call
//! records fetched window by window, paging, the rate limits (on a manual clock), 429 / 5xx
//! retries, 451, and an interrupted fetch resumed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeDelta, TimeZone, Utc};
use webex_sandbox::{CdrFeedConfig, Faults, SandboxConfig};
use webex_wholesale_client::cdr::{CdrFeed, CdrPeriod, CdrRateLimits, CdrRegion, Clock, ManualClock};
use webex_wholesale_client::wholesale_billing::{Period, parse_date};
use webex_wholesale_client::{Client, Error, Secret};

/// June 2024 (30 days): the sandbox's "today" is 1 July, so the whole month can be asked for.
fn june() -> CdrPeriod {
    CdrPeriod::from_period(&Period::month(2024, 6).unwrap())
}

/// Generated records of June: `n` spread over the month (deterministic), plus a burst of 1,200
/// in the window 2024-06-10 00:00–12:00 (three pages of 500), each with the 85-key shape's
/// essentials and keys in a non-alphabetical order.
fn records(n: usize) -> Vec<String> {
    let start = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::new();
    for i in 0..n {
        let offset_ms = i64::try_from(next() % (30 * 86_400_000)).unwrap();
        out.push(record(i, start + TimeDelta::milliseconds(offset_ms)));
    }
    let burst = Utc.with_ymd_and_hms(2024, 6, 10, 0, 0, 0).unwrap();
    for i in 0..1200 {
        out.push(record(
            n + i,
            burst + TimeDelta::seconds(i64::try_from(i).unwrap() * 30),
        ));
    }
    out
}

fn record(i: usize, start: chrono::DateTime<Utc>) -> String {
    format!(
        r#"{{"Start time": "{}", "Report ID": "r-{i:06}", "Duration": {}, "Org UUID": "cust-{}", "Direction": "ORIGINATING", "Called number": "+44 20 7946 {:04}", "Answered": "true"}}"#,
        start.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        i % 600,
        i % 7,
        i % 10_000
    )
}

/// A sandbox serving `items` with "today" 2024-07-01, as `configure` changes it.
async fn start(items: &[String], configure: impl FnOnce(SandboxConfig) -> SandboxConfig) -> common::Env {
    let records = items.join("\n").into_bytes();
    common::start(move |c| {
        configure(c.with_today(parse_date("2024-07-01").unwrap()).with_cdr(CdrFeedConfig {
            records: Some(records),
            initial_per_period: 10_000,
            pages_per_period: 10_000,
            ..CdrFeedConfig::default()
        }))
    })
    .await
}

/// A client of the partner whose token provider notes the clock's time of every request sent.
fn recording_client(env: &common::Env, clock: Option<ManualClock>, log: Arc<Mutex<Vec<Duration>>>) -> Client {
    let secret = env.sandbox.tokens()[0].token.clone();
    Client::builder()
        .base_url(env.sandbox.webex_base_url())
        .retry_policy(common::retries())
        .token_provider(move || {
            let now = clock.as_ref().map_or(Duration::ZERO, Clock::now);
            log.lock().unwrap().push(now);
            let secret = Secret::new(secret.clone());
            async move { Ok(secret) }
        })
        .build()
        .unwrap()
}

/// The items of a `{"items": [...]}` output, as values.
fn items_of(bytes: &[u8]) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    doc["items"].as_array().unwrap().clone()
}

/// The records as values, sorted by start time then report id (the feed's order within a window).
fn sorted(items: &[String]) -> Vec<serde_json::Value> {
    let mut v: Vec<serde_json::Value> = items.iter().map(|s| serde_json::from_str(s).unwrap()).collect();
    v.sort_by(|a, b| {
        (a["Start time"].as_str(), a["Report ID"].as_str()).cmp(&(b["Start time"].as_str(), b["Report ID"].as_str()))
    });
    v
}

#[tokio::test]
async fn a_month_fetched_window_by_window_holds_every_record_once_within_the_limits() {
    let items = records(6000);
    let env = start(&items, |c| c).await;
    let clock = ManualClock::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let feed = CdrFeed::builder(recording_client(&env, Some(clock.clone()), log.clone()))
        .page_size(500)
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(feed.rate_limits(), CdrRateLimits::default());
    let mut out = Vec::new();
    let mut pages_per_window = Vec::new();
    let done = feed
        .fetch_into(&june(), &mut out, None, |_, cp, p| {
            assert_eq!(cp.windows, p.windows_done);
            pages_per_window.push(p.pages);
            Ok(ControlFlow::Continue(()))
        })
        .await
        .unwrap();
    assert!(done.is_complete());
    assert_eq!((done.windows, done.records, done.bytes), (60, 7200, out.len() as u64));
    // Every record once, as sent (each line of the output is a record's exact text).
    let text = String::from_utf8(out.clone()).unwrap();
    let lines: std::collections::HashSet<&str> = text.lines().map(|l| l.trim_end_matches(',')).collect();
    assert!(items.iter().all(|i| lines.contains(i.as_str())));
    assert_eq!(sorted(&items), items_of(&out));
    // Paging: the burst window took three pages of 500; the others one.
    assert_eq!(pages_per_window.len(), 60);
    assert_eq!(pages_per_window[18], 3, "{pages_per_window:?}");
    let total_pages: u32 = pages_per_window.iter().sum();
    // The limits: one initial request per minute, at most ten page requests per minute.
    let times = log.lock().unwrap().clone();
    assert_eq!(times.len(), usize::try_from(total_pages).unwrap());
    let mut initial = Vec::new();
    let mut pages = Vec::new();
    let mut k = 0;
    for n in &pages_per_window {
        initial.push(times[k]);
        pages.extend_from_slice(&times[k + 1..k + usize::try_from(*n).unwrap()]);
        k += usize::try_from(*n).unwrap();
    }
    assert!(
        initial.windows(2).all(|w| w[1] - w[0] >= Duration::from_secs(60)),
        "{initial:?}"
    );
    assert_eq!(initial.last(), Some(&Duration::from_secs(59 * 60)));
    assert!(pages.windows(11).all(|w| w[10] - w[0] >= Duration::from_secs(60)));
    assert_eq!(pages.len(), 2);
}

#[tokio::test]
async fn page_requests_beyond_ten_a_minute_wait() {
    // One window of 6,000 records in pages of 500: 1 initial and 11 page requests.
    let burst = Utc.with_ymd_and_hms(2024, 6, 5, 0, 0, 0).unwrap();
    let items: Vec<String> = (0..6000)
        .map(|i| record(i, burst + TimeDelta::seconds(i64::try_from(i).unwrap())))
        .collect();
    let env = start(&items, |c| c).await;
    let clock = ManualClock::new();
    let log = Arc::new(Mutex::new(Vec::new()));
    let feed = CdrFeed::builder(recording_client(&env, Some(clock.clone()), log.clone()))
        .page_size(500)
        .clock(clock.clone())
        .build()
        .unwrap();
    let window = CdrPeriod::new(burst, burst + TimeDelta::hours(12))
        .unwrap()
        .windows()
        .next()
        .unwrap();
    let mut n = 0;
    let (records, pages) = feed
        .fetch_window(window, |_| {
            n += 1;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!((records, pages, n), (6000, 12, 6000));
    let times: Vec<u64> = log.lock().unwrap().iter().map(Duration::as_secs).collect();
    assert_eq!(times, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 60]);
}

#[tokio::test]
async fn the_server_limits_and_faults_are_retried() {
    let items = records(600);
    // The sandbox allows one initial request a second; every 5th request gets 429, 20% get 503.
    let env = start(&items, |c| {
        let mut cdr = c.cdr.clone();
        cdr.initial_per_period = 1;
        cdr.limit_period = Duration::from_secs(1);
        c.with_cdr(cdr).with_faults(Faults {
            every_429: Some(5),
            retry_after_secs: 1,
            percent_5xx: 20,
            seed: 3,
            ..Faults::default()
        })
    })
    .await;
    let log = Arc::new(Mutex::new(Vec::new()));
    let client = recording_client(&env, None, log.clone());
    let feed = CdrFeed::builder(client)
        .rate_limits(CdrRateLimits::unlimited())
        .build()
        .unwrap();
    let day = CdrPeriod::from_period(&Period::from_dates("2024-06-09", "2024-06-10").unwrap());
    let mut out = Vec::new();
    let started = std::time::Instant::now();
    let done = feed
        .fetch_into(&day, &mut out, None, |_, _, _| Ok(ControlFlow::Continue(())))
        .await
        .unwrap();
    let expected: Vec<String> = items
        .iter()
        .filter(|i| i.contains("\"Start time\": \"2024-06-09") || i.contains("\"Start time\": \"2024-06-10"))
        .cloned()
        .collect();
    assert_eq!(done.records, expected.len() as u64);
    assert_eq!(items_of(&out), sorted(&expected));
    let stats = env.sandbox.stats();
    assert!(stats.faults_429 >= 1 && stats.faults_5xx >= 1, "{stats:?}");
    // Four windows, one initial request a second at most: at least three seconds.
    assert!(started.elapsed() >= Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(log.lock().unwrap().len() > 4);
}

#[tokio::test]
async fn another_region_is_a_typed_error_naming_it() {
    let env = start(&records(10), |c| c).await;
    let sp = env.sub_partner_id(1);
    let env = start(&records(10), |c| {
        let mut cdr = c.cdr.clone();
        cdr.org_regions
            .insert(sp.clone(), "analytics-calling-eu.webexapis.com".into());
        c.with_cdr(cdr)
    })
    .await;
    let feed = CdrFeed::builder(env.client(Some(&sp)))
        .rate_limits(CdrRateLimits::unlimited())
        .build()
        .unwrap();
    let err = feed
        .fetch_window(june().windows().next().unwrap(), |_| Ok(()))
        .await
        .unwrap_err();
    match &err {
        Error::CdrWrongRegion {
            host,
            region,
            tracking_id,
            ..
        } => {
            assert_eq!(host.as_deref(), Some("analytics-calling-eu.webexapis.com"));
            assert_eq!(*region, Some(CdrRegion::Eu));
            assert!(tracking_id.as_deref().is_some_and(|t| t.starts_with("WBILL_")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.status(), Some(451));
    assert!(
        err.to_string()
            .contains("served by \"analytics-calling-eu.webexapis.com\" (eu)"),
        "{err}"
    );
    // The partner's own region serves it.
    let partner = CdrFeed::builder(env.client(None))
        .rate_limits(CdrRateLimits::unlimited())
        .build()
        .unwrap();
    assert!(
        partner
            .fetch_window(june().windows().next().unwrap(), |_| Ok(()))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn an_interrupted_fetch_resumes_at_the_first_incomplete_window() {
    let items = records(3000);
    let env = start(&items, |c| c).await;
    let dir = tempfile::tempdir().unwrap();
    let feed = CdrFeed::builder(env.client(None))
        .page_size(500)
        .rate_limits(CdrRateLimits::unlimited())
        .build()
        .unwrap();
    // The uninterrupted fetch.
    let whole = dir.path().join("whole.json");
    let done = feed
        .fetch_to_file(&june(), &whole, false, |_| ControlFlow::Continue(()))
        .await
        .unwrap();
    assert_eq!(done.records, 4200);
    assert!(!dir.path().join("whole.json.partial").exists() && !dir.path().join("whole.json.checkpoint").exists());
    let expected = std::fs::read(&whole).unwrap();

    // Stopped after 20 windows, then a partial window's items appended (as a kill mid-window leaves).
    let out = dir.path().join("june.json");
    let err = feed
        .fetch_to_file(&june(), &out, false, |p| {
            if p.windows_done == 20 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CdrFetchStopped { windows_done: 20 }), "{err}");
    assert!(!out.exists());
    let partial = dir.path().join("june.json.partial");
    let checkpoint = dir.path().join("june.json.checkpoint");
    let cp = webex_wholesale_client::cdr::CdrCheckpoint::read(&checkpoint)
        .unwrap()
        .unwrap();
    assert_eq!((cp.windows, cp.bytes), (20, std::fs::metadata(&partial).unwrap().len()));
    assert_eq!(cp.done_until, june().start() + TimeDelta::days(10));
    let mut f = std::fs::OpenOptions::new().append(true).open(&partial).unwrap();
    std::io::Write::write_all(
        &mut f,
        b",\n{\"Start time\": \"2024-06-11T00:00:01.000Z\", \"Report ID\": \"half",
    )
    .unwrap();
    drop(f);

    // Without resume: refused, nothing touched.
    let err = feed
        .fetch_to_file(&june(), &out, false, |_| ControlFlow::Continue(()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CdrPartialExists { .. }), "{err}");
    // A checkpoint of another period is refused too.
    let may = CdrPeriod::from_period(&Period::month(2024, 5).unwrap());
    let err = feed
        .fetch_to_file(&may, &out, true, |_| ControlFlow::Continue(()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CdrCheckpointMismatch { .. }), "{err}");

    // Resumed: 40 more windows, never one of the first 20 again; the same bytes as the whole.
    let mut windows = Vec::new();
    let done = feed
        .fetch_to_file(&june(), &out, true, |p| {
            windows.push(p.window.start);
            ControlFlow::Continue(())
        })
        .await
        .unwrap();
    assert_eq!(windows.len(), 40);
    assert!(windows.iter().all(|w| *w >= june().start() + TimeDelta::days(10)));
    assert_eq!((done.windows, done.records), (60, 4200));
    assert_eq!(std::fs::read(&out).unwrap(), expected);
    assert!(!partial.exists() && !checkpoint.exists());
}
