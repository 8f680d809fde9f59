//! Shared fixtures of the integration tests: a small generated dataset, a started sandbox, and an
//! HTTP client with the Webex conventions.
#![allow(dead_code)]

use std::time::Duration;

use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use webex_sandbox::{Sandbox, SandboxConfig};
use wholesale_billing::synthetic::{GeneratorConfig, generate};
use wholesale_billing::{
    AssignmentLedger, LoadMode, NaiveDate, Organisation, Period, ReportLevel, ReportOptions, Scope,
};

/// The month of the generated data.
pub const START: &str = "2024-05-01";
pub const END: &str = "2024-05-31";

/// "Today" of the sandboxes under test.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 7, 1).unwrap()
}

/// A generated month: ~200 subscribers, 12 customers, 2 sub-partners.
pub fn dataset() -> (Organisation, Vec<u8>) {
    let config = GeneratorConfig {
        seed: 20240501,
        customers: 12,
        subscribers: 200,
        sub_partners: 2,
        month: Period::month(2024, 5).unwrap(),
        catalog: wholesale_billing::Catalog::default(),
        order: Default::default(),
    };
    let mut csv = Vec::new();
    let month = generate(&config, &mut csv, &mut |_| {}).unwrap();
    (month.organisation, csv)
}

/// The default test configuration: any port, fixed today, a short report delay.
pub fn config() -> SandboxConfig {
    let (org, events) = dataset();
    SandboxConfig::new(org, events)
        .with_addr("127.0.0.1:0".parse().unwrap())
        .with_today(today())
        .with_report_delay(Duration::from_millis(150))
}

/// The CSV the engine writes for an organisation, period and level.
pub fn expected_csv(config: &SandboxConfig, org_id: &str, start: &str, end: &str, level: ReportLevel) -> Vec<u8> {
    let (ledger, _) =
        AssignmentLedger::from_csv(config.events_csv.as_slice(), config.org.clone(), LoadMode::Strict).unwrap();
    let scope = if org_id == config.org.partner.org_id {
        Scope::Partner
    } else {
        Scope::SubPartner(org_id.to_owned())
    };
    let report = ledger
        .usage_report(
            Period::from_dates(start, end).unwrap(),
            &ReportOptions::new(level).scope(scope),
        )
        .unwrap();
    let mut out = Vec::new();
    report.write_csv(&mut out).unwrap();
    out
}

/// A client of one sandbox, speaking as one organisation.
#[derive(Clone)]
pub struct Api {
    pub http: Client,
    pub base: String,
    pub token: String,
}

impl Api {
    /// The partner's client.
    pub fn partner(sandbox: &Sandbox) -> Self {
        Api::with_token(sandbox, &sandbox.tokens()[0].token)
    }

    /// The client of the `i`-th sub-partner (from 0).
    pub fn sub_partner(sandbox: &Sandbox, i: usize) -> Self {
        Api::with_token(sandbox, &sandbox.tokens()[i + 1].token)
    }

    pub fn with_token(sandbox: &Sandbox, token: &str) -> Self {
        Api {
            http: Client::new(),
            base: sandbox.base_url(),
            token: token.to_owned(),
        }
    }

    /// A request to `path` (starting with `/`), authenticated, with a fresh `TrackingID`
    /// (`SIMPLE_<uuid>`, as wxc_sdk sends).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("TrackingID", format!("SIMPLE_{}", uuid::Uuid::new_v4()))
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn create(&self, body: Value) -> Response {
        self.request(Method::POST, "/v1/wholesale/billing/reports")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a report and returns its id (asserting success).
    pub async fn create_ok(&self, start: &str, end: &str, level: &str) -> String {
        let r = self
            .create(json!({"billingStartDate": start, "billingEndDate": end, "type": level}))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
        r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
    }

    /// GETs a report until it is no longer IN_PROGRESS.
    pub async fn wait_done(&self, id: &str) -> Value {
        for _ in 0..200 {
            let r = self.get(&format!("/v1/wholesale/billing/reports/{id}")).await;
            assert_eq!(r.status(), StatusCode::OK);
            let v: Value = r.json().await.unwrap();
            if v["status"] != "IN_PROGRESS" {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("report {id} stayed IN_PROGRESS");
    }

    pub async fn delete(&self, id: &str) -> Response {
        self.request(Method::DELETE, &format!("/v1/wholesale/billing/reports/{id}"))
            .send()
            .await
            .unwrap()
    }
}

/// Asserts the Webex error shape and returns the message.
pub async fn webex_error(r: Response, status: StatusCode) -> String {
    assert_eq!(r.status(), status);
    let tracking = r
        .headers()
        .get("trackingid")
        .expect("a trackingid header")
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = r.json().await.unwrap();
    let message = body["message"].as_str().expect("a message").to_owned();
    assert_eq!(body["errors"][0]["description"], message.as_str());
    assert_eq!(body["trackingId"], tracking.as_str());
    message
}

/// Asserts the Webex error shape with the tracking id the request sent (an [`Api`] request sends
/// `SIMPLE_<uuid>`; the server's own are `ROUTER_<uuid>`), and returns the message.
pub async fn echoed_error(r: Response, status: StatusCode) -> String {
    let tracking = r.headers().get("trackingid").map(|t| t.to_str().unwrap().to_owned());
    let tracking = tracking.expect("a trackingid header");
    assert!(tracking.starts_with("SIMPLE_"), "{tracking} is not the TrackingID sent");
    webex_error(r, status).await
}

/// A plain client for the download host (never sends a token).
pub fn downloader() -> Client {
    Client::new()
}
