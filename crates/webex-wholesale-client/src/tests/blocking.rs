//! The blocking facade: the stub runs on its own runtime, the client on the test's thread.

use std::time::Duration;

use serde_json::json;

use super::{PARTNER_CSV, TOKEN, client, items, summary};
use crate::stub::{Reply, Stub};
use crate::{Error, FetchOptions, ReportFilter, UsageSource};

fn server() -> (tokio::runtime::Runtime, Stub) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stub = runtime.block_on(Stub::start(|r, _| {
        let port = r.host.rsplit(':').next().unwrap_or("").to_owned();
        match (r.method.as_str(), r.path.as_str()) {
            (_, "/downloads/r-1.csv") => Reply::json(200, PARTNER_CSV),
            ("GET", "/v1/wholesale/billing/reports") => Reply::json(200, items(vec![summary("r-1", "COMPLETED")])),
            ("GET", "/v1/wholesale/billing/reports/r-1") => {
                let mut report = summary("r-1", "COMPLETED");
                report["tempDownloadURL"] = json!(format!("http://localhost:{port}/downloads/r-1.csv?Signature=s"));
                Reply::json(200, report.to_string())
            }
            ("GET", "/v1/wholesale/subPartners") => Reply::json(
                200,
                json!({"subPartners": [{"orgId": "sp-1", "provisioningState": "active"}]}).to_string(),
            ),
            ("GET", "/v1/wholesale/customers") => Reply::json(
                200,
                items(vec![
                    json!({"id": "c1", "orgId": "org-1", "externalId": "EXT-1", "status": "provisioned"}),
                    json!({"id": "c2", "externalId": "EXT-2", "status": "provisioning"}),
                ]),
            ),
            _ => Reply::json(404, "{}"),
        }
    }));
    (runtime, stub)
}

#[test]
fn the_blocking_client_has_the_same_calls() {
    let (runtime, stub) = server();
    let client = crate::blocking::Client::new(client(&stub)).unwrap();
    let page = client.list_reports(&ReportFilter::default()).unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(client.next_page(&page).unwrap().is_none());
    let report = client.report("r-1").unwrap();
    assert_eq!(client.download(&report).unwrap().len(), 1);
    let options = FetchOptions {
        poll_interval: Duration::from_millis(5),
        ..FetchOptions::default()
    };
    let period = wholesale_billing::Period::month(2024, 5).unwrap();
    let fetched = client
        .fetch_usage(period, wholesale_billing::ReportLevel::Partner, None, &options)
        .unwrap();
    assert_eq!(fetched.source, UsageSource::Reused);
    let subs = client.sub_partners(&crate::SubPartnerFilter::default()).unwrap();
    assert_eq!(subs[0].org_id, "sp-1");
    let ids = client.customer_external_ids(None).unwrap();
    assert_eq!(
        ids.into_iter().collect::<Vec<_>>(),
        [("org-1".to_owned(), "EXT-1".to_owned())]
    );
    assert!(!format!("{client:?}").contains(TOKEN));
    drop(stub);
    drop(runtime);
}

#[tokio::test]
async fn the_blocking_client_refuses_to_run_inside_a_runtime() {
    let client = crate::Client::builder().token(TOKEN).build().unwrap();
    let blocking = std::thread::spawn(move || crate::blocking::Client::new(client))
        .join()
        .unwrap()
        .unwrap();
    let err = blocking.report("r-1").unwrap_err();
    assert!(matches!(err, Error::InsideAsyncRuntime), "{err:?}");
    // Dropping a runtime inside another panics: drop it on a plain thread.
    std::thread::spawn(move || drop(blocking)).join().unwrap();
}
