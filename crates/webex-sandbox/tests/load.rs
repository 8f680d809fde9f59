//! A bounded load on loopback: a fixed number of requests, many at a time, mixing lists, gets,
//! downloads and creations on a database file. Nothing fails, and the results are consistent: every
//! created report is listed and completes, and every download is the engine's CSV. (Throughput is
//! measured by `benches/benches/sandbox_load.rs`, not here.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Api, END, START, config, downloader, expected_csv};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use webex_sandbox::Sandbox;
use wholesale_billing::{NaiveDate, ReportLevel};

/// Requests in all, and at most this many at once.
const REQUESTS: usize = 480;
const CONCURRENCY: usize = 16;
/// The whole test must end within this time (it takes about a second).
const LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy)]
enum Op {
    List,
    Get,
    Download,
    Create,
}

/// 40 % list, 30 % get, 15 % download, 15 % create, interleaved.
fn op(n: usize) -> Op {
    const CYCLE: [Op; 20] = [
        Op::List,
        Op::Get,
        Op::Create,
        Op::List,
        Op::Download,
        Op::Get,
        Op::List,
        Op::Create,
        Op::Get,
        Op::List,
        Op::Download,
        Op::List,
        Op::Get,
        Op::Create,
        Op::List,
        Op::Get,
        Op::Download,
        Op::List,
        Op::Get,
        Op::List,
    ];
    CYCLE[n % CYCLE.len()]
}

/// A report created under load: who it is for and what it covers.
#[derive(Debug, Clone)]
struct Created {
    id: String,
    org_id: String,
    start: NaiveDate,
    end: NaiveDate,
    level: ReportLevel,
}

/// The `n`-th creation's key: distinct periods of one or more days in 2024.
fn create_key(n: usize, org_ids: &[String]) -> (String, NaiveDate, NaiveDate, ReportLevel) {
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let start = first + chrono::Days::new(u64::try_from(n / 3).unwrap());
    let end = start + chrono::Days::new(u64::try_from(n % 5).unwrap());
    let level = ReportLevel::ALL[n % 3];
    (org_ids[n % org_ids.len()].clone(), start, end, level)
}

/// Every item of a list, following `Link` verbatim.
async fn list_all(api: &Api, query: &str) -> Vec<Value> {
    let mut url = format!("{}/v1/wholesale/billing/reports{query}", api.base);
    let mut items = Vec::new();
    loop {
        let r = api.http.get(&url).bearer_auth(&api.token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let next = r.headers().get("link").map(|l| l.to_str().unwrap().to_owned());
        let page: Value = r.json().await.unwrap();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match next {
            None => return items,
            Some(link) => url = link.trim_start_matches('<').split(">;").next().unwrap().to_owned(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mixed_load_has_no_errors_and_consistent_results() {
    tokio::time::timeout(LIMIT, mixed_load())
        .await
        .expect("the load test ran past its time limit");
}

async fn mixed_load() {
    let dir = tempfile::tempdir().unwrap();
    let config = config()
        .with_db_path(dir.path().join("sandbox.sqlite"))
        .with_report_delay(Duration::ZERO);
    let base_config = config.clone();
    let sandbox = Sandbox::start(config).await.unwrap();
    let api = Api::partner(&sandbox);
    let org_ids: Vec<String> = sandbox.tokens().iter().map(|t| t.org_id.clone()).collect();

    // Three completed reports for the readers, with the engine's CSV of each.
    let mut seeded = Vec::new();
    for level in ["PARTNER", "CUSTOMER", "USER"] {
        let id = api.create_ok(START, END, level).await;
        let done = api.wait_done(&id).await;
        let url = done["tempDownloadURL"].as_str().unwrap().to_owned();
        let expected = expected_csv(&base_config, &org_ids[0], START, END, level.parse().unwrap());
        seeded.push((id, url, expected));
    }
    let seeded = Arc::new(seeded);
    let created = Arc::new(Mutex::new(Vec::<Created>::new()));
    let next = Arc::new(AtomicUsize::new(0));
    let creations = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (api, seeded, created, next, creations, org_ids) = (
            api.clone(),
            seeded.clone(),
            created.clone(),
            next.clone(),
            creations.clone(),
            org_ids.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut counts: HashMap<&'static str, usize> = HashMap::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= REQUESTS {
                    return counts;
                }
                let (id, url, expected) = &seeded[n % seeded.len()];
                match op(n) {
                    Op::List => {
                        let r = api.get("/v1/wholesale/billing/reports?max=5").await;
                        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
                        let page: Value = r.json().await.unwrap();
                        assert_eq!(page["items"].as_array().unwrap().len(), 3, "{page}");
                        *counts.entry("list").or_default() += 1;
                    }
                    Op::Get => {
                        let r = api.get(&format!("/v1/wholesale/billing/reports/{id}")).await;
                        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
                        let report: Value = r.json().await.unwrap();
                        assert_eq!(report["status"], "COMPLETED");
                        *counts.entry("get").or_default() += 1;
                    }
                    Op::Download => {
                        let r = downloader().get(url).send().await.unwrap();
                        assert_eq!(r.status(), StatusCode::OK);
                        assert_eq!(r.bytes().await.unwrap(), expected.as_slice());
                        *counts.entry("download").or_default() += 1;
                    }
                    Op::Create => {
                        let c = creations.fetch_add(1, Ordering::Relaxed);
                        // Sub-partners only: the partner's own list keeps its three reports.
                        let (org_id, start, end, level) = create_key(c, &org_ids[1..]);
                        let body = json!({
                            "billingStartDate": start.to_string(),
                            "billingEndDate": end.to_string(),
                            "type": level.as_str(),
                            "subPartnerOrgId": org_id,
                        });
                        let r = api.create(body).await;
                        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
                        let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
                        created.lock().await.push(Created {
                            id,
                            org_id,
                            start,
                            end,
                            level,
                        });
                        *counts.entry("create").or_default() += 1;
                    }
                }
            }
        }));
    }
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    for w in workers {
        for (k, v) in w.await.unwrap() {
            *counts.entry(k).or_default() += v;
        }
    }
    assert_eq!(counts.values().sum::<usize>(), REQUESTS);
    assert_eq!(
        (counts["list"], counts["get"], counts["download"], counts["create"]),
        (192, 144, 72, 72)
    );

    // Every created report is listed for its organisation, completes, and downloads the engine's CSV.
    let created = created.lock().await.clone();
    assert_eq!(created.len(), 72);
    assert_eq!(sandbox.stats().reports_created, 3 + 72);
    for sp in &org_ids[1..] {
        let listed: Vec<String> = list_all(&api, &format!("?subPartnerOrgId={sp}"))
            .await
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect();
        let mine: Vec<&Created> = created.iter().filter(|c| &c.org_id == sp).collect();
        assert_eq!(listed.len(), mine.len());
        assert!(mine.iter().all(|c| listed.contains(&c.id)));
    }
    for (i, c) in created.iter().enumerate() {
        let done = api.wait_done(&c.id).await;
        assert_eq!(done["status"], "COMPLETED", "{done}");
        if i % 6 == 0 {
            let url = done["tempDownloadURL"].as_str().unwrap();
            let csv = downloader().get(url).send().await.unwrap().bytes().await.unwrap();
            let (start, end) = (c.start.to_string(), c.end.to_string());
            assert_eq!(
                csv,
                expected_csv(&base_config, &c.org_id, &start, &end, c.level).as_slice()
            );
        }
    }
    sandbox.shutdown().await.unwrap();

    // All of it is in the database after a restart.
    let sandbox = Sandbox::start(base_config).await.unwrap();
    let api = Api::partner(&sandbox);
    for c in &created {
        let r = api.get(&format!("/v1/wholesale/billing/reports/{}", c.id)).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    sandbox.shutdown().await.unwrap();
}
