//! Fault injection, restarts on the same database, and refused starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Api, END, START, config, downloader, webex_error};
use reqwest::StatusCode;
use serde_json::{Value, json};
use webex_sandbox::{Error, Faults, Sandbox, SandboxConfig};
use wholesale_billing::ReportLevel;

#[tokio::test]
async fn every_nth_request_gets_429_before_any_effect() {
    let faults = Faults {
        every_429: Some(3),
        retry_after_secs: 2,
        ..Faults::default()
    };
    let sandbox = Sandbox::start(config().with_faults(faults)).await.unwrap();
    let api = Api::partner(&sandbox);
    assert_eq!(api.get("/v1/wholesale/billing/reports").await.status(), StatusCode::OK);
    assert_eq!(api.get("/v1/wholesale/subPartners").await.status(), StatusCode::OK);
    // The third: a create, refused before it creates anything.
    let r = api
        .create(json!({"billingStartDate": START, "billingEndDate": END}))
        .await;
    assert_eq!(r.headers()["retry-after"], "2");
    webex_error(r, StatusCode::TOO_MANY_REQUESTS).await;
    let list: Value = api.get("/v1/wholesale/billing/reports").await.json().await.unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
    assert_eq!(api.get("/v1/wholesale/customers").await.status(), StatusCode::OK);
    // The sixth; unauthenticated requests count too.
    let r = reqwest::get(format!("{}/v1/wholesale/customers", sandbox.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Downloads, CCWS and statistics are not faulted.
    for _ in 0..5 {
        let r = reqwest::get(format!("{}/sandbox/stats", sandbox.base_url()))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let stats = sandbox.stats();
    assert_eq!(
        (stats.faults_429, stats.faults_injected, stats.webex_requests),
        (2, 2, 6)
    );
    assert_eq!(stats.reports_created, 0);
    sandbox.shutdown().await.unwrap();
}

async fn statuses(sandbox: &Sandbox, n: usize) -> Vec<StatusCode> {
    let api = Api::partner(sandbox);
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(api.get("/v1/wholesale/billing/reports").await.status());
    }
    out
}

#[tokio::test]
async fn a_share_of_requests_gets_503_deterministically() {
    let faults = Faults {
        percent_5xx: 30,
        seed: 7,
        ..Faults::default()
    };
    let first = Sandbox::start(config().with_faults(faults)).await.unwrap();
    let a = statuses(&first, 200).await;
    let failed = a.iter().filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE).count();
    assert!((35..=85).contains(&failed), "{failed} of 200");
    assert!(
        a.iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(first.stats().faults_5xx, failed as u64);
    first.shutdown().await.unwrap();
    let second = Sandbox::start(config().with_faults(faults)).await.unwrap();
    assert_eq!(statuses(&second, 200).await, a, "the same seed gives the same faults");
    second.shutdown().await.unwrap();
    let other = Sandbox::start(config().with_faults(Faults { seed: 8, ..faults }))
        .await
        .unwrap();
    assert_ne!(statuses(&other, 200).await, a);
    other.shutdown().await.unwrap();

    // A faulted create creates nothing.
    let always = Faults {
        percent_5xx: 100,
        ..Faults::default()
    };
    let sandbox = Sandbox::start(config().with_faults(always)).await.unwrap();
    let api = Api::partner(&sandbox);
    for _ in 0..3 {
        let r = api
            .create(json!({"billingStartDate": START, "billingEndDate": END}))
            .await;
        webex_error(r, StatusCode::SERVICE_UNAVAILABLE).await;
    }
    assert_eq!(sandbox.stats().reports_created, 0);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_lost_create_is_carried_out_and_counted() {
    let faults = Faults {
        lost_create: Some(2),
        ..Faults::default()
    };
    let config = config().with_faults(faults);
    let partner = config.org.partner.org_id.clone();
    let sandbox = Sandbox::start(config).await.unwrap();
    let api = Api::partner(&sandbox);
    api.create_ok(START, END, "USER").await;
    let body = json!({"billingStartDate": START, "billingEndDate": END, "type": "CUSTOMER"});
    let r = api.create(body.clone()).await;
    webex_error(r, StatusCode::SERVICE_UNAVAILABLE).await;
    // The report exists: a careful client finds it...
    let list: Value = api
        .get("/v1/wholesale/billing/reports?type=CUSTOMER")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // ... a naive retry creates a second one (allowed while the first is IN_PROGRESS).
    assert_eq!(api.create(body).await.status(), StatusCode::OK);
    let stats = sandbox.stats();
    assert_eq!(
        stats.reports_created_for(&partner, START, END, ReportLevel::Customer),
        2
    );
    assert_eq!(stats.reports_created_for(&partner, START, END, ReportLevel::User), 1);
    assert_eq!(
        (stats.lost_creates, stats.faults_injected, stats.reports_created),
        (1, 1, 3)
    );
    let json: Value = reqwest::get(format!("{}/sandbox/stats", sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["reports_created"], 3);
    assert_eq!(json["lost_creates"], 1);
    assert_eq!(json["reports_created_by_key"].as_array().unwrap().len(), 2);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_failed_create_ends_failed_and_does_not_block_a_new_report() {
    let faults = Faults {
        failed_create: Some(1),
        ..Faults::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.sqlite");
    let sandbox = Sandbox::start(config().with_faults(faults).with_db_path(&db))
        .await
        .unwrap();
    let api = Api::partner(&sandbox);
    let failed = api.create_ok(START, END, "USER").await;
    let report = api.wait_done(&failed).await;
    assert_eq!(report["status"], "FAILED", "{report}");
    assert_eq!(report["errors"][0]["code"], 1000, "{report}");
    assert!(
        report["errors"][0]["description"]
            .as_str()
            .unwrap()
            .contains("could not be generated")
    );
    assert!(report.get("tempDownloadURL").is_none(), "{report}");
    // Listed as FAILED, with the filter too.
    let list: Value = api
        .get("/v1/wholesale/billing/reports?status=FAILED")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    // A new report for the same period and type is allowed while the failed one exists, and
    // completes; then a third is refused (409) because a completed one exists.
    let second = api.create_ok(START, END, "USER").await;
    assert_eq!(api.wait_done(&second).await["status"], "COMPLETED");
    let body = json!({"billingStartDate": START, "billingEndDate": END, "type": "USER"});
    webex_error(api.create(body).await, StatusCode::CONFLICT).await;
    let stats = sandbox.stats();
    assert_eq!(
        (stats.failed_creates, stats.faults_injected, stats.reports_created),
        (1, 1, 2)
    );
    // The failure is stored: a restart still shows it FAILED.
    sandbox.shutdown().await.unwrap();
    let sandbox = Sandbox::start(config().with_db_path(&db)).await.unwrap();
    let api = Api::partner(&sandbox);
    assert_eq!(api.wait_done(&failed).await["status"], "FAILED");
    assert_eq!(api.delete(&failed).await.status(), StatusCode::NO_CONTENT);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_restart_on_the_same_database_keeps_reports_tokens_and_urls() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.sqlite");
    let base_config = || config().with_db_path(&db);

    let sandbox = Sandbox::start(base_config()).await.unwrap();
    let tokens = sandbox.tokens().to_vec();
    let api = Api::partner(&sandbox);
    let id = api.create_ok(START, END, "USER").await;
    let url = api.wait_done(&id).await["tempDownloadURL"].as_str().unwrap().to_owned();
    let old_origin = sandbox.download_base_url();
    let csv = downloader().get(&url).send().await.unwrap().bytes().await.unwrap();
    // A second report, still in progress at shutdown.
    let slow = base_config().with_report_delay(Duration::from_secs(2));
    sandbox.shutdown().await.unwrap();
    let sandbox = Sandbox::start(slow).await.unwrap();
    assert_eq!(sandbox.tokens(), tokens.as_slice());
    let api = Api::partner(&sandbox);
    let pending = api.create_ok(START, END, "PARTNER").await;
    sandbox.shutdown().await.unwrap();

    let sp = tokens[1].org_id.clone();
    let sandbox = Sandbox::start(base_config().with_token(&sp, "my-own-token"))
        .await
        .unwrap();
    assert_eq!(sandbox.tokens()[0], tokens[0]);
    assert_eq!(sandbox.tokens()[1].token, "my-own-token");
    assert_eq!(sandbox.tokens()[2], tokens[2]);
    let api = Api::partner(&sandbox);
    let done: Value = api
        .get(&format!("/v1/wholesale/billing/reports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "COMPLETED");
    // The old URL still works on the new port (the signing secret is kept), and so does a new one.
    let url = url.replacen(&old_origin, &sandbox.download_base_url(), 1);
    assert_eq!(downloader().get(&url).send().await.unwrap().bytes().await.unwrap(), csv);
    let fresh = done["tempDownloadURL"].as_str().unwrap();
    assert_eq!(
        downloader().get(fresh).send().await.unwrap().bytes().await.unwrap(),
        csv
    );
    // The completed report still blocks its duplicate.
    let r = api
        .create(json!({"billingStartDate": START, "billingEndDate": END, "type": "USER"}))
        .await;
    webex_error(r, StatusCode::CONFLICT).await;
    // The pending one keeps its own delay.
    let early: Value = api
        .get(&format!("/v1/wholesale/billing/reports/{pending}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(early["status"], "IN_PROGRESS");
    assert_eq!(api.wait_done(&pending).await["status"], "COMPLETED");
    // The overridden token works; the old one does not.
    let sub = Api::with_token(&sandbox, "my-own-token");
    assert_eq!(sub.get("/v1/wholesale/billing/reports").await.status(), StatusCode::OK);
    let old = Api::with_token(&sandbox, &tokens[1].token);
    webex_error(old.get("/v1/wholesale/billing/reports").await, StatusCode::UNAUTHORIZED).await;
    sandbox.shutdown().await.unwrap();

    // An override is not stored: without it, the organisation's own token is back.
    let sandbox = Sandbox::start(base_config()).await.unwrap();
    assert_eq!(sandbox.tokens(), tokens.as_slice());
    sandbox.shutdown().await.unwrap();

    // Another database knows nothing of it.
    let other = Sandbox::start(config()).await.unwrap();
    assert_ne!(other.tokens()[0].token, tokens[0].token);
    other.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_starts_are_errors() {
    let base = config();
    let bad_events = b"event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package\n\
                       e1,2024-05-01T00:00:00,ASSIGN,s1,c1,USER,webex_calling\n"
        .to_vec();
    let err = Sandbox::start(SandboxConfig::new(base.org.clone(), bad_events))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Dataset(_)), "{err}");
    let message = wholesale_billing::error_with_causes(&err);
    assert!(message.contains("no utc offset"), "{message}");

    let err = Sandbox::start(config().with_create_status(204)).await.unwrap_err();
    assert!(matches!(err, Error::InvalidCreateStatus { status: 204 }), "{err}");

    let running = Sandbox::start(config()).await.unwrap();
    let err = Sandbox::start(config().with_addr(running.addr())).await.unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    running.shutdown().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let err = Sandbox::start(config().with_db_path(dir.path())).await.unwrap_err();
    assert!(matches!(err, Error::Database(_)), "{err}");
}

#[tokio::test]
async fn a_stuck_connection_holds_the_shutdown_no_longer_than_its_grace() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.sqlite");
    let config = config()
        .with_db_path(&db)
        .with_shutdown_grace(Duration::from_millis(300));
    let sandbox = Sandbox::start(config.clone()).await.unwrap();
    let api = Api::partner(&sandbox);
    let id = api.create_ok(START, END, "USER").await;
    api.wait_done(&id).await;
    // A request whose head never ends: the server cannot finish it.
    let mut stuck = tokio::net::TcpStream::connect(sandbox.addr()).await.unwrap();
    stuck
        .write_all(b"GET /v1/wholesale/billing/reports HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let began = std::time::Instant::now();
    sandbox.shutdown().await.unwrap();
    let took = began.elapsed();
    assert!(took < Duration::from_secs(3), "the shutdown took {took:?}");
    // The database was closed properly: a restart has the report.
    let sandbox = Sandbox::start(config).await.unwrap();
    assert_eq!(Api::partner(&sandbox).wait_done(&id).await["status"], "COMPLETED");
    sandbox.shutdown().await.unwrap();
    drop(stuck);
}

#[tokio::test]
async fn dropping_the_sandbox_stops_the_server() {
    let sandbox = Sandbox::start(config()).await.unwrap();
    let url = format!("{}/sandbox/stats", sandbox.base_url());
    assert!(reqwest::get(&url).await.is_ok());
    drop(sandbox);
    let mut refused = false;
    for _ in 0..50 {
        let client = reqwest::Client::new();
        if client.get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused);
}
