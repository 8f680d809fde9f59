//! A sandbox over a small synthetic partner month (May 2024: 12 customers, 150 subscribers, three
//! sub-partners), and the engine's own reports of the same data.
#![allow(dead_code)]

use std::time::Duration;

use webex_sandbox::{OrgKind, Sandbox, SandboxConfig};
use webex_wholesale_client::wholesale_billing::synthetic::{GeneratorConfig, generate};
use webex_wholesale_client::wholesale_billing::{
    AssignmentLedger, LoadMode, Organisation, ReportOptions, Scope, WholesaleRateCard, parse_date,
};
use webex_wholesale_client::{Client, Period, ReportLevel, RetryPolicy};

/// The month of the data.
pub fn may() -> Period {
    Period::month(2024, 5).unwrap()
}

/// The rate card the sandbox's catalog prices from (five SKUs: three pages of two).
pub const RATES: &str = r#"currency = "USD"
[rates."A-W-CA-CALL-U"]
rate = "5.00"
committed_rate = "4.50"
[rates."A-W-WXC-CALL-U"]
rate = "8.00"
committed_rate = "7.20"
[rates."A-W-WXE-CALL-U"]
rate = "6.00"
[rates."A-W-WXM-MEET-U"]
rate = "9.00"
[rates."A-W-SUITE-U"]
rate = "12.5"
"#;

pub struct Env {
    pub sandbox: Sandbox,
    pub ledger: AssignmentLedger,
}

/// The synthetic month: its organisation and events CSV.
pub fn dataset() -> (Organisation, Vec<u8>) {
    let config = GeneratorConfig {
        seed: 7,
        customers: 12,
        subscribers: 150,
        sub_partners: 3,
        month: may(),
        catalog: wholesale_billing::Catalog::default(),
        order: Default::default(),
    };
    let mut events = Vec::new();
    let month = generate(&config, &mut events, &mut |_| {}).unwrap();
    (month.organisation, events)
}

/// A sandbox with a 50 ms report delay, "today" 2024-06-15 and the [`RATES`], as `configure`
/// changes it.
pub async fn start(configure: impl FnOnce(SandboxConfig) -> SandboxConfig) -> Env {
    let (org, events) = dataset();
    let (ledger, _) = AssignmentLedger::from_csv(events.as_slice(), org.clone(), LoadMode::Strict).unwrap();
    let config = SandboxConfig::new(org, events)
        .with_addr("127.0.0.1:0".parse().unwrap())
        .with_report_delay(Duration::from_millis(50))
        .with_today(parse_date("2024-06-15").unwrap())
        .with_rates(WholesaleRateCard::from_toml_str(RATES).unwrap());
    let sandbox = Sandbox::start(configure(config)).await.unwrap();
    Env { sandbox, ledger }
}

/// Short, deterministic retries.
pub fn retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(4)
        .initial_backoff(Duration::from_millis(20))
        .max_backoff(Duration::from_millis(100))
        .max_retry_after(Duration::from_secs(1))
}

impl Env {
    /// The partner's org id.
    pub fn partner_id(&self) -> String {
        self.ledger.organisation().partner.org_id.clone()
    }

    /// The org id of sub-partner `i`.
    pub fn sub_partner_id(&self, i: usize) -> String {
        self.ledger.organisation().sub_partners[i].org_id.clone()
    }

    /// A client with the token of `org_id` (the partner's when `None`).
    pub fn client(&self, org_id: Option<&str>) -> Client {
        let token = match org_id {
            Some(id) => self.sandbox.token_of(id).unwrap().token.clone(),
            None => self
                .sandbox
                .tokens()
                .iter()
                .find(|t| t.kind == OrgKind::Partner)
                .unwrap()
                .token
                .clone(),
        };
        Client::builder()
            .base_url(self.sandbox.webex_base_url())
            .token(token)
            .retry_policy(retries())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    /// The engine's CSV of the month at `level` for `scope`.
    pub fn engine_csv(&self, level: ReportLevel, scope: Scope) -> Vec<u8> {
        let report = self
            .ledger
            .usage_report(may(), &ReportOptions::new(level).scope(scope))
            .unwrap();
        let mut csv = Vec::new();
        report.write_csv(&mut csv).unwrap();
        csv
    }
}

/// The CSV the core writes of a report.
pub fn csv_of(report: &webex_wholesale_client::UsageReport) -> Vec<u8> {
    let mut csv = Vec::new();
    report.write_csv(&mut csv).unwrap();
    csv
}
