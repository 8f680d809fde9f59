//! Throughput of the sandbox under load: reads alone against reads mixed with report creations,
//! measured side by side in one run (issue 9, point 8).
//!
//! A sandbox of a generated month (200 subscribers, 12 customers, 2 sub-partners) keeps its state
//! in a SQLite file in a temporary directory and serves on its own runtime; a client on another
//! runtime keeps `--concurrency` requests in flight on loopback. Phases alternate:
//!
//! - **reads**: 40 % list (`GET /v1/wholesale/billing/reports?max=10`), 30 % get (one of three
//!   completed reports, which signs a fresh download URL), 15 % download (the CSV of one of them),
//!   in these proportions (so 47 / 35 / 18 %);
//! - **mix**: the same plus 15 % create (`POST /v1/wholesale/billing/reports`), each for a new
//!   (period, type) so that none is refused, for one of the two sub-partners (the list the readers
//!   fetch keeps its size: what is measured is the cost of the writes, not of a longer list).
//!
//! Every answer must be a success (200, or 200 for the creates); anything else is counted as an
//! error and printed. Run with
//!
//! ```sh
//! cargo bench -p wholesale-billing-benches --bench sandbox_load -- [--secs 5] [--rounds 3] [--concurrency 32] [--memory]
//! ```
//!
//! `--memory` uses the in-memory database instead of a file. Without `--bench` (as under
//! `cargo test --all-targets`) it runs one short round to show that it works.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr)] // a benchmark that cannot set up should stop loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use webex_sandbox::{Sandbox, SandboxConfig};
use wholesale_billing::NaiveDate;
use wholesale_billing::synthetic::{GeneratorConfig, generate};

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    List,
    Get,
    Download,
    Create,
}

/// The operation of the `n`-th request of a phase: a fixed cycle of 20 (or 17 without creates)
/// in the stated proportions, shuffled by a hash so that neighbours differ.
fn op(n: u64, with_creates: bool) -> Op {
    // 8 list, 6 get, 3 download (, 3 create) out of 17 (20).
    let cycle: &[Op] = if with_creates {
        &[
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
        ]
    } else {
        &[
            Op::List,
            Op::Get,
            Op::List,
            Op::Download,
            Op::Get,
            Op::List,
            Op::Get,
            Op::List,
            Op::Download,
            Op::List,
            Op::Get,
            Op::List,
            Op::Get,
            Op::Download,
            Op::List,
            Op::Get,
            Op::List,
        ]
    };
    // Each block of `len` requests is the cycle rotated by a pseudo-random amount.
    let len = cycle.len() as u64;
    cycle[usize::try_from((n % len + mix64(n / len) % len) % len).unwrap()]
}

/// SplitMix64's finaliser.
fn mix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct Options {
    secs: f64,
    rounds: usize,
    concurrency: usize,
    memory: bool,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let mut o = if bench {
        Options {
            secs: 5.0,
            rounds: 3,
            concurrency: 32,
            memory: false,
        }
    } else {
        Options {
            secs: 0.3,
            rounds: 1,
            concurrency: 4,
            memory: false,
        }
    };
    if let Some(v) = value("--secs") {
        o.secs = v.parse().expect("--secs: a number of seconds");
    }
    if let Some(v) = value("--rounds") {
        o.rounds = v.parse().expect("--rounds: a whole number");
    }
    if let Some(v) = value("--concurrency") {
        o.concurrency = v.parse().expect("--concurrency: a whole number");
    }
    o.memory = args.iter().any(|a| a == "--memory");
    o
}

/// What the readers read: the seeded reports' ids and download URLs.
struct Targets {
    base: String,
    token: String,
    sub_partners: Vec<String>,
    ids: Vec<String>,
    urls: Vec<String>,
    /// The n-th create makes the n-th (period, type).
    creates: AtomicU64,
}

/// The body of the `n`-th create: a new (start, end, type) within the five years before "today".
fn create_body(n: u64, sub_partner: &str) -> Value {
    let earliest = NaiveDate::from_ymd_opt(2019, 7, 2).unwrap();
    let days = 1_800u64;
    let level = ["PARTNER", "CUSTOMER", "USER"][usize::try_from(n % 3).unwrap()];
    let k = n / 3;
    let start = earliest.iter_days().nth(usize::try_from(k % days).unwrap()).unwrap();
    let end = start.iter_days().nth(usize::try_from(k / days).unwrap()).unwrap();
    json!({
        "billingStartDate": start.to_string(),
        "billingEndDate": end.to_string(),
        "type": level,
        "subPartnerOrgId": sub_partner,
    })
}

struct Phase {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    latencies_us: Vec<u64>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile_ms(&mut self, p: f64) -> f64 {
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        self.latencies_us.get(i).copied().unwrap_or(0) as f64 / 1000.0
    }
}

async fn one(http: &Client, t: &Targets, op: Op, n: u64) -> Result<(), String> {
    let pick = usize::try_from(mix64(n) % t.ids.len() as u64).unwrap();
    let response = match op {
        Op::List => {
            http.get(format!("{}/v1/wholesale/billing/reports?max=10", t.base))
                .bearer_auth(&t.token)
                .send()
                .await
        }
        Op::Get => {
            http.get(format!("{}/v1/wholesale/billing/reports/{}", t.base, t.ids[pick]))
                .bearer_auth(&t.token)
                .send()
                .await
        }
        Op::Download => http.get(&t.urls[pick]).send().await,
        Op::Create => {
            let c = t.creates.fetch_add(1, Ordering::Relaxed);
            let sp = &t.sub_partners[usize::try_from(c % t.sub_partners.len() as u64).unwrap()];
            http.post(format!("{}/v1/wholesale/billing/reports", t.base))
                .bearer_auth(&t.token)
                .json(&create_body(c, sp))
                .send()
                .await
        }
    };
    let response = response.map_err(|e| format!("{op:?}: {e}"))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| format!("{op:?}: {e}"))?;
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(format!("{op:?}: {status} {}", String::from_utf8_lossy(&body)))
    }
}

async fn phase(http: &Client, t: &Arc<Targets>, with_creates: bool, o: &Options) -> Phase {
    let counter = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(o.secs);
    let mut workers = Vec::new();
    for _ in 0..o.concurrency {
        let (http, t, counter) = (http.clone(), t.clone(), counter.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < until {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let began = Instant::now();
                if let Err(e) = one(&http, &t, op(n, with_creates), n).await {
                    if errors < 3 {
                        eprintln!("error: {e}");
                    }
                    errors += 1;
                }
                latencies.push(u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.unwrap();
        all.extend(l);
        errors += e;
    }
    Phase {
        requests: all.len() as u64,
        errors,
        elapsed: start.elapsed(),
        latencies_us: all,
    }
}

fn main() {
    let o = options();
    let mut events = Vec::new();
    let generator = GeneratorConfig {
        seed: 20240501,
        customers: 12,
        subscribers: 200,
        sub_partners: 2,
        month: wholesale_billing::Period::month(2024, 5).unwrap(),
        catalog: wholesale_billing::Catalog::default(),
        order: Default::default(),
    };
    let month = generate(&generator, &mut events, &mut |_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = SandboxConfig::new(month.organisation, events)
        .with_addr("127.0.0.1:0".parse().unwrap())
        .with_today(NaiveDate::from_ymd_opt(2024, 7, 1).unwrap())
        .with_report_delay(Duration::ZERO);
    if !o.memory {
        config = config.with_db_path(dir.path().join("sandbox.sqlite"));
    }
    // The server on its own runtime, as `wbill sandbox serve` runs it (one worker per core).
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sandbox = server_rt.block_on(Sandbox::start(config)).unwrap();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    client_rt.block_on(async {
        let http = Client::builder().pool_max_idle_per_host(o.concurrency).build().unwrap();
        let token = sandbox.tokens()[0].token.clone();
        let base = sandbox.base_url();
        let mut ids = Vec::new();
        let mut urls = Vec::new();
        for level in ["PARTNER", "CUSTOMER", "USER"] {
            let r: Value = http
                .post(format!("{base}/v1/wholesale/billing/reports"))
                .bearer_auth(&token)
                .json(&json!({"billingStartDate": "2024-05-01", "billingEndDate": "2024-05-31", "type": level}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = r["id"].as_str().unwrap().to_owned();
            let url = loop {
                let r: Value = http
                    .get(format!("{base}/v1/wholesale/billing/reports/{id}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if r["status"] == "COMPLETED" {
                    break r["tempDownloadURL"].as_str().unwrap().to_owned();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            };
            ids.push(id);
            urls.push(url);
        }
        let targets = Arc::new(Targets {
            base,
            token,
            sub_partners: sandbox.tokens()[1..].iter().map(|t| t.org_id.clone()).collect(),
            ids,
            urls,
            creates: AtomicU64::new(0),
        });
        println!(
            "sandbox_load: {} database, concurrency {}, {} s per phase, {} rounds",
            if o.memory { "in-memory" } else { "file" },
            o.concurrency,
            o.secs,
            o.rounds
        );
        println!("round | phase | requests | errors | req/s | p50 ms | p99 ms | mix / reads");
        let mut ratios = Vec::new();
        for round in 1..=o.rounds {
            let mut reads = phase(&http, &targets, false, &o).await;
            let mut mix = phase(&http, &targets, true, &o).await;
            let ratio = mix.rate() / reads.rate();
            ratios.push(ratio);
            for (name, p) in [("reads", &mut reads), ("mix", &mut mix)] {
                let (p50, p99) = (p.percentile_ms(0.50), p.percentile_ms(0.99));
                println!(
                    "{round} | {name} | {} | {} | {:.0} | {p50:.1} | {p99:.1} | {}",
                    p.requests,
                    p.errors,
                    p.rate(),
                    if name == "mix" {
                        format!("{ratio:.2}")
                    } else {
                        String::new()
                    }
                );
            }
            assert_eq!(reads.errors + mix.errors, 0, "requests failed");
        }
        ratios.sort_by(f64::total_cmp);
        println!(
            "mix / reads: min {:.2}, median {:.2}, max {:.2}; reports created {}",
            ratios[0],
            ratios[ratios.len() / 2],
            ratios[ratios.len() - 1],
            sandbox.stats().reports_created
        );
    });
    server_rt.block_on(sandbox.shutdown()).unwrap();
}
