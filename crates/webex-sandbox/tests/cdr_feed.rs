//! `GET /v1/cdr_feed`: the window rules (12 hours, the 30 days before today, not the future),
//! `max` clamping, `Link` paging on the public URL, the per-token limits, 451, and records kept in
//! the database across restarts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Api, echoed_error};
use reqwest::StatusCode;
use serde_json::Value;
use webex_sandbox::{CdrFeedConfig, Sandbox};

/// `n` records one minute apart from 2024-06-20 00:00 UTC, for customer `cust-<i % 3>`.
fn records(n: usize) -> Vec<u8> {
    let start = chrono::DateTime::parse_from_rfc3339("2024-06-20T00:00:00Z").unwrap();
    (0..n)
        .map(|i| {
            let t = start + chrono::TimeDelta::minutes(i64::try_from(i).unwrap());
            format!(
                "{{\"Report ID\": \"r{i}\", \"Start time\": \"{}\", \"Org UUID\": \"cust-{}\", \"Duration\": 60}}\n",
                t.to_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                i % 3
            )
        })
        .collect::<String>()
        .into_bytes()
}

fn feed_config(n: usize) -> CdrFeedConfig {
    CdrFeedConfig {
        records: Some(records(n)),
        initial_per_period: 1000,
        pages_per_period: 1000,
        ..CdrFeedConfig::default()
    }
}

fn window(start: &str, end: &str) -> String {
    format!("/v1/cdr_feed?startTime={start}&endTime={end}")
}

async fn items(r: reqwest::Response) -> (Vec<Value>, Option<String>) {
    assert_eq!(r.status(), StatusCode::OK);
    let link = r.headers().get("link").map(|l| l.to_str().unwrap().to_owned());
    let body: Value = r.json().await.unwrap();
    (body["items"].as_array().unwrap().clone(), link)
}

#[tokio::test]
async fn the_window_rules() {
    let sandbox = Sandbox::start(common::config().with_cdr(feed_config(10)))
        .await
        .unwrap();
    let api = Api::partner(&sandbox);
    // Today is 2024-07-01: the 30 days before it are 2024-06-01 to 2024-06-30.
    let (found, link) = items(
        api.get(&window("2024-06-20T00:00:00.000Z", "2024-06-20T12:00:00.000Z"))
            .await,
    )
    .await;
    assert_eq!((found.len(), link), (10, None));
    assert_eq!(found[3]["Report ID"], "r3");
    for (path, needle) in [
        (
            window("2024-06-20T00:00:00.000Z", "2024-06-20T12:00:00.001Z"),
            "must not be longer than 12 hours",
        ),
        (
            window("2024-05-31T23:00:00.000Z", "2024-06-01T01:00:00.000Z"),
            "earlier than 30 days ago",
        ),
        (
            window("2024-06-30T23:00:00.000Z", "2024-07-01T00:00:00.001Z"),
            "later than 5 minutes ago",
        ),
        (
            window("2024-06-20T12:00:00.000Z", "2024-06-20T12:00:00.000Z"),
            "endTime must be after startTime",
        ),
        (
            "/v1/cdr_feed?endTime=2024-06-20T12:00:00.000Z".to_owned(),
            "startTime is required",
        ),
        (
            window("yesterday", "2024-06-20T12:00:00.000Z"),
            "YYYY-MM-DDTHH:MM:SS.mmmZ",
        ),
        (
            format!(
                "{}&max=lots",
                window("2024-06-20T00:00:00.000Z", "2024-06-20T12:00:00.000Z")
            ),
            "max must be a whole number",
        ),
    ] {
        let message = echoed_error(api.get(&path).await, StatusCode::BAD_REQUEST).await;
        assert!(message.contains(needle), "{path}: {message}");
    }
    // The edges are inside.
    for (s, e) in [
        ("2024-06-01T00:00:00.000Z", "2024-06-01T12:00:00.000Z"),
        ("2024-06-30T12:00:00.000Z", "2024-07-01T00:00:00.000Z"),
    ] {
        assert_eq!(api.get(&window(s, e)).await.status(), StatusCode::OK, "{s}");
    }
    // Without a token: 401.
    let anonymous = Api::with_token(&sandbox, "nope");
    echoed_error(
        anonymous
            .get(&window("2024-06-20T00:00:00.000Z", "2024-06-20T12:00:00.000Z"))
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn pages_of_max_clamped_to_500_follow_the_link_on_the_public_url() {
    let config = common::config().with_cdr(feed_config(720));
    let sandbox = Sandbox::start(config).await.unwrap();
    let api = Api::partner(&sandbox);
    let first = format!(
        "{}&max=100",
        window("2024-06-20T00:00:00.000Z", "2024-06-20T12:00:00.000Z")
    );
    let (page1, link) = items(api.get(&first).await).await;
    assert_eq!(page1.len(), 500);
    let link = link.expect("a next link");
    let prefix = format!("<{}/v1/cdr_feed?", sandbox.base_url());
    assert!(link.starts_with(&prefix) && link.ends_with(">; rel=\"next\""), "{link}");
    assert!(
        link.contains("startTimeForNextFetch=2024-06-20T08%3A20%3A00.000Z"),
        "{link}"
    );
    let next = &link[sandbox.base_url().len() + 1..link.len() - 13];
    let (page2, last) = items(api.get(next).await).await;
    assert_eq!((page2.len(), last), (220, None));
    let ids: Vec<&str> = page1
        .iter()
        .chain(&page2)
        .map(|v| v["Report ID"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..720).map(|i| format!("r{i}")).collect();
    assert_eq!(ids, expected);
    // A max over 5000 is clamped to 5000: one page.
    let big = format!(
        "{}&max=99999",
        window("2024-06-20T00:00:00.000Z", "2024-06-20T12:00:00.000Z")
    );
    let (all, none) = items(api.get(&big).await).await;
    assert_eq!((all.len(), none), (720, None));
    // A sub-partner sees only its customers' records (here none of the generated ones).
    let (theirs, _) = items(Api::sub_partner(&sandbox, 0).get(&big).await).await;
    assert!(theirs.is_empty());
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_rate_limits_answer_429_with_retry_after() {
    let cdr = CdrFeedConfig {
        initial_per_period: 1,
        pages_per_period: 1,
        limit_period: Duration::from_secs(60),
        ..feed_config(720)
    };
    let sandbox = Sandbox::start(common::config().with_cdr(cdr)).await.unwrap();
    let api = Api::partner(&sandbox);
    let first = format!(
        "{}&max=500",
        window("2024-06-20T00:00:00.000Z", "2024-06-20T12:00:00.000Z")
    );
    let (_, link) = items(api.get(&first).await).await;
    let r = api.get(&first).await;
    let retry_after: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((59..=60).contains(&retry_after), "{retry_after}");
    let message = echoed_error(r, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(message.contains("1 initial requests per 60 seconds"), "{message}");
    // Page requests are counted apart: one goes, the next waits.
    let link = link.unwrap();
    let next = link[sandbox.base_url().len() + 1..link.len() - 13].to_owned();
    assert_eq!(api.get(&next).await.status(), StatusCode::OK);
    assert_eq!(api.get(&next).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // Per token: another organisation is not limited by the partner's requests.
    assert_eq!(Api::sub_partner(&sandbox, 0).get(&first).await.status(), StatusCode::OK);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn another_region_gets_451_with_the_webex_body() {
    let config = common::config();
    let sp = config.org.sub_partners[0].org_id.clone();
    let mut cdr = feed_config(10);
    cdr.org_regions.insert(sp, "analytics-calling-eu.webexapis.com".into());
    let sandbox = Sandbox::start(config.with_cdr(cdr)).await.unwrap();
    let r = Api::sub_partner(&sandbox, 0)
        .get(&window("2024-06-20T00:00:00.000Z", "2024-06-20T12:00:00.000Z"))
        .await;
    assert_eq!(r.status().as_u16(), 451);
    let tracking = r.headers()["trackingid"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "This server cannot serve the data for this organization. Please use analytics-calling-eu.webexapis.com"
    );
    assert_eq!(
        (body["errorCode"].as_i64(), body["trackingId"].as_str()),
        (Some(451), Some(tracking.as_str()))
    );
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn records_are_kept_in_the_database_and_bad_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.sqlite");
    let sandbox = Sandbox::start(common::config().with_db_path(&db).with_cdr(feed_config(30)))
        .await
        .unwrap();
    sandbox.shutdown().await.unwrap();
    // Restarted without records: the stored ones are served.
    let cdr = CdrFeedConfig {
        records: None,
        ..feed_config(0)
    };
    let sandbox = Sandbox::start(common::config().with_db_path(&db).with_cdr(cdr))
        .await
        .unwrap();
    let (found, _) = items(
        Api::partner(&sandbox)
            .get(&window("2024-06-20T00:00:00.000Z", "2024-06-20T12:00:00.000Z"))
            .await,
    )
    .await;
    assert_eq!(found.len(), 30);
    sandbox.shutdown().await.unwrap();
    // A record without a start time stops the start, located.
    let cdr = CdrFeedConfig {
        records: Some(br#"{"items": [{"Start time": "2024-06-20T00:00:00Z"}, {"Report ID": "x"}]}"#.to_vec()),
        ..feed_config(0)
    };
    let err = Sandbox::start(common::config().with_cdr(cdr)).await.unwrap_err();
    assert!(
        matches!(err, webex_sandbox::Error::InvalidCdr { ref at, .. } if at == "items[1]"),
        "{err}"
    );
}
