//! Report creation (never duplicated), waiting and `fetch_usage`, against a small stateful fake of
//! the billing report API.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wholesale_billing::{Period, ReportLevel};

use super::{client, error_body, items};
use crate::stub::{Recorded, Reply, Stub};
use crate::{Error, NewReport, ReportStatus, UsageSource};

const REPORTS: &str = "/v1/wholesale/billing/reports";

/// A USER report of one row: readable at every level.
const USER_CSV: &str = "PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,TYPE,\
SUBSCRIBER_ID,USER_ID,WORKSPACE_ID,SERVICE_NAME,SKU,DESCRIPTION,CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,\
QUANTITY,LOCATION_ID,LICENSE_ID\n\
Acme,p-1,Sub1,c-1,EXT-1,USER,s-1,u-1,,WEBEX_CALLING,A-W-WXC-CALL-U,Wholesale Webex Calling Usage,\
2024-05-01T00:00:00.000Z,2024-05-31T23:59:59.999Z,31.0000,,\n";

struct FakeReport {
    id: String,
    start: String,
    end: String,
    kind: String,
    status: &'static str,
    polls_left: u32,
    fails: bool,
}

#[derive(Default)]
struct Fake {
    reports: Vec<FakeReport>,
    created: usize,
    posts: usize,
    /// POSTs (1-based) carried out and then answered 503.
    lose: Vec<usize>,
    /// POSTs answered 503 without effect.
    refuse: Vec<usize>,
    /// POSTs answered 429 without effect.
    throttle: Vec<usize>,
    /// Reports created from now on fail.
    failing: bool,
    /// How many GETs a new report stays in progress.
    polls: u32,
    /// The next list answers no items.
    hide_next_list: bool,
}

impl Fake {
    fn json(r: &FakeReport, port: &str) -> Value {
        let mut v = json!({"id": r.id, "billingStartDate": r.start, "billingEndDate": r.end, "type": r.kind,
            "category": "RECONCILIATION", "status": r.status});
        if r.status == "COMPLETED" {
            v["tempDownloadURL"] = json!(format!("http://localhost:{port}/downloads/{}.csv?Signature=s", r.id));
        }
        if r.status == "FAILED" {
            v["errors"] = json!([{"code": 2024, "description": "no data"}]);
        }
        v
    }

    fn handle(&mut self, r: &Recorded) -> Reply {
        let port = r.host.rsplit(':').next().unwrap_or("").to_owned();
        let id = r.path.strip_prefix(&format!("{REPORTS}/")).map(str::to_owned);
        if r.path.starts_with("/downloads/") {
            return Reply::json(200, USER_CSV);
        }
        match (r.method.as_str(), id) {
            ("POST", None) => {
                self.posts += 1;
                if self.refuse.contains(&self.posts) {
                    return Reply::json(503, error_body("unavailable", "F503"));
                }
                if self.throttle.contains(&self.posts) {
                    return Reply::json(429, error_body("throttled", "F429")).header("Retry-After", "0");
                }
                let body: Value = serde_json::from_str(&r.body).unwrap();
                let (start, end, kind) = (
                    body["billingStartDate"].as_str().unwrap().to_owned(),
                    body["billingEndDate"].as_str().unwrap().to_owned(),
                    body["type"].as_str().unwrap_or("PARTNER").to_owned(),
                );
                let completed = self
                    .reports
                    .iter()
                    .any(|x| x.start == start && x.end == end && x.kind == kind && x.status == "COMPLETED");
                if completed {
                    return Reply::json(
                        409,
                        error_body("a completed report exists; delete it to regenerate", "F409"),
                    );
                }
                self.created += 1;
                let report = FakeReport {
                    id: format!("r-{}", self.created),
                    start,
                    end,
                    kind,
                    status: "IN_PROGRESS",
                    polls_left: self.polls,
                    fails: self.failing,
                };
                let answer = json!({"id": report.id, "billingStartDate": report.start,
                    "billingEndDate": report.end, "type": report.kind});
                self.reports.push(report);
                if self.lose.contains(&self.posts) {
                    Reply::json(503, error_body("lost", "FLOST"))
                } else {
                    Reply::json(200, answer.to_string())
                }
            }
            ("GET", None) => {
                if std::mem::take(&mut self.hide_next_list) {
                    return Reply::json(200, items(vec![]));
                }
                let listed = self
                    .reports
                    .iter()
                    .filter(|x| r.param("billingStartDate").is_none_or(|v| v == x.start))
                    .filter(|x| r.param("billingEndDate").is_none_or(|v| v == x.end))
                    .filter(|x| r.param("type").is_none_or(|v| v == x.kind))
                    .map(|x| Fake::json(x, &port))
                    .collect();
                Reply::json(200, items(listed))
            }
            ("GET", Some(id)) => match self.reports.iter_mut().find(|x| x.id == id) {
                Some(x) => {
                    if x.status == "IN_PROGRESS" {
                        if x.polls_left == 0 {
                            x.status = if x.fails { "FAILED" } else { "COMPLETED" };
                        } else {
                            x.polls_left -= 1;
                        }
                    }
                    Reply::json(200, Fake::json(x, &port).to_string())
                }
                None => Reply::json(404, error_body("not found", "F404")),
            },
            ("DELETE", Some(id)) => match self.reports.iter().position(|x| x.id == id) {
                Some(i) => {
                    self.reports.remove(i);
                    Reply::json(204, "")
                }
                None => Reply::json(404, error_body("not found", "F404")),
            },
            _ => Reply::json(405, "{}"),
        }
    }
}

async fn fake(setup: impl FnOnce(&mut Fake)) -> (Stub, Arc<Mutex<Fake>>) {
    let mut state = Fake::default();
    setup(&mut state);
    let state = Arc::new(Mutex::new(state));
    let shared = state.clone();
    let stub = Stub::start(move |r, _| shared.lock().unwrap().handle(r)).await;
    (stub, state)
}

fn may() -> Period {
    Period::month(2024, 5).unwrap()
}

#[tokio::test]
async fn a_lost_create_is_adopted_not_repeated() {
    let (stub, state) = fake(|f| f.lose = vec![1]).await;
    let created = client(&stub).billing_reports().create(may()).send().await.unwrap();
    assert_eq!(created.id, "r-1");
    let fake = state.lock().unwrap();
    assert_eq!((fake.posts, fake.created), (1, 1));
    // One list before the POST, one after the lost answer.
    assert_eq!(stub.count("GET", REPORTS), 2);
}

#[tokio::test]
async fn a_create_refused_before_any_effect_is_sent_again() {
    let (stub, state) = fake(|f| f.refuse = vec![1]).await;
    let created = client(&stub)
        .billing_reports()
        .create(may())
        .level(ReportLevel::User)
        .send()
        .await
        .unwrap();
    assert_eq!(created.id, "r-1");
    assert_eq!(created.report_type, Some(ReportLevel::User));
    let fake = state.lock().unwrap();
    assert_eq!((fake.posts, fake.created), (2, 1));
}

#[tokio::test]
async fn a_throttled_create_is_retried_without_looking() {
    let (stub, state) = fake(|f| f.throttle = vec![1, 2]).await;
    client(&stub).billing_reports().create(may()).send().await.unwrap();
    let (posts, created) = {
        let fake = state.lock().unwrap();
        (fake.posts, fake.created)
    };
    assert_eq!((posts, created), (3, 1));
    assert_eq!(stub.count("GET", REPORTS), 1);
}

#[tokio::test]
async fn a_create_failing_for_good_gives_the_last_error() {
    let (stub, state) = fake(|f| f.refuse = vec![1, 2, 3, 4, 5]).await;
    let err = client(&stub).billing_reports().create(may()).send().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.tracking_id(), Some("F503"));
    // The first POST and the three the policy allows after looking each time.
    assert_eq!(state.lock().unwrap().posts, 4);
    assert_eq!(state.lock().unwrap().created, 0);
}

#[tokio::test]
async fn a_conflict_on_create_is_reported() {
    let (stub, _) = fake(|_| {}).await;
    let client = client(&stub);
    let created = client.billing_reports().create(may()).send().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    client
        .billing_reports()
        .wait_until_complete(&created.id, Duration::from_millis(5), deadline)
        .await
        .unwrap();
    let err = client.billing_reports().create(may()).send().await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
}

#[tokio::test]
async fn waiting_ends_in_completion_failure_or_deadline() {
    let (stub, state) = fake(|f| f.polls = 2).await;
    let client = client(&stub);
    let reports = client.billing_reports();
    let poll = Duration::from_millis(5);
    let created = reports.create(may()).send().await.unwrap();
    let report = reports
        .wait_until_complete(&created.id, poll, Instant::now() + Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(report.status, ReportStatus::Completed);
    assert_eq!(stub.count("GET", &format!("{REPORTS}/r-1")), 3);

    state.lock().unwrap().polls = 1000;
    let slow = reports.create(may()).level(ReportLevel::User).send().await.unwrap();
    let err = reports
        .wait_until_complete(
            &slow.id,
            Duration::from_millis(20),
            Instant::now() + Duration::from_millis(50),
        )
        .await
        .unwrap_err();
    let Error::DeadlineExceeded { status, waited, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*status, ReportStatus::InProgress);
    assert!(
        *waited >= Duration::from_millis(50) && *waited < Duration::from_secs(1),
        "{waited:?}"
    );

    {
        let mut fake = state.lock().unwrap();
        fake.polls = 0;
        fake.failing = true;
    }
    let failing = reports.create(may()).level(ReportLevel::Customer).send().await.unwrap();
    let err = reports
        .wait_until_complete(&failing.id, poll, Instant::now() + Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), format!("report {} failed: 2024 no data", failing.id));
}

#[tokio::test]
async fn fetch_usage_creates_then_reuses_then_regenerates() {
    let (stub, state) = fake(|f| f.polls = 1).await;
    let client = client(&stub);
    let fetch = || {
        client
            .fetch_usage(may(), ReportLevel::Partner, None)
            .poll_interval(Duration::from_millis(5))
            .timeout(Duration::from_secs(5))
    };
    let first = fetch().send().await.unwrap();
    assert_eq!(first.source, UsageSource::Created);
    assert_eq!(first.usage.len(), 1);
    assert_eq!(first.report.id, "r-1");
    assert_eq!(
        first.usage.period(),
        Some(may()),
        "the fetched report carries its period"
    );

    let second = fetch().send().await.unwrap();
    assert_eq!((second.source, second.report.id.as_str()), (UsageSource::Reused, "r-1"));
    assert_eq!(state.lock().unwrap().posts, 1);

    let third = fetch().regenerate(true).send().await.unwrap();
    assert_eq!(
        (third.source, third.report.id.as_str()),
        (UsageSource::Regenerated, "r-2")
    );
    assert_eq!(stub.count("DELETE", &format!("{REPORTS}/r-1")), 1);
    assert_eq!(state.lock().unwrap().posts, 2);
    // Downloads never carried the token.
    assert!(
        stub.requests()
            .iter()
            .filter(|r| r.path.starts_with("/downloads/"))
            .all(|r| r.authorization.is_none())
    );
}

#[tokio::test]
async fn fetch_usage_awaits_a_report_in_progress_and_replaces_a_failed_one() {
    let (stub, state) = fake(|f| f.polls = 3).await;
    let client = client(&stub);
    let created = client
        .create_report(&NewReport::new(may(), ReportLevel::User), None)
        .await
        .unwrap();
    let fetched = client
        .fetch_usage(may(), ReportLevel::User, None)
        .poll_interval(Duration::from_millis(5))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (fetched.source, fetched.report.id.as_str()),
        (UsageSource::Awaited, created.id.as_str())
    );
    assert_eq!(state.lock().unwrap().posts, 1);

    // A failed report of another level: deleted and created again.
    {
        let mut fake = state.lock().unwrap();
        fake.failing = true;
        fake.polls = 0;
    }
    let failed = client
        .create_report(&NewReport::new(may(), ReportLevel::Customer), None)
        .await
        .unwrap();
    client.billing_reports().get(&failed.id).await.unwrap();
    state.lock().unwrap().failing = false;
    let fetched = client
        .fetch_usage(may(), ReportLevel::Customer, None)
        .poll_interval(Duration::from_millis(5))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.source, UsageSource::Created);
    assert_ne!(fetched.report.id, failed.id);
    assert_eq!(stub.count("DELETE", &format!("{REPORTS}/{}", failed.id)), 1);
}

#[tokio::test]
async fn fetch_usage_goes_back_to_the_list_after_a_conflict() {
    let (stub, state) = fake(|_| {}).await;
    let client = client(&stub);
    let first = client
        .fetch_usage(may(), ReportLevel::Partner, None)
        .poll_interval(Duration::from_millis(5))
        .send()
        .await
        .unwrap();
    state.lock().unwrap().hide_next_list = true;
    let again = client
        .fetch_usage(may(), ReportLevel::Partner, None)
        .poll_interval(Duration::from_millis(5))
        .send()
        .await
        .unwrap();
    assert_eq!((again.source, again.report.id), (UsageSource::Reused, first.report.id));
    assert_eq!(state.lock().unwrap().posts, 2);
}

#[tokio::test]
async fn fetch_usage_gives_up_when_the_created_report_fails() {
    let (stub, _) = fake(|f| f.failing = true).await;
    let err = client(&stub)
        .fetch_usage(may(), ReportLevel::Partner, None)
        .poll_interval(Duration::from_millis(5))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ReportFailed { .. }), "{err:?}");
}
