//! Bad input, authentication and tracking ids: always the Webex error shape and a 4xx.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Api, END, START, config, echoed_error, webex_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use webex_sandbox::Sandbox;

fn create_path() -> &'static str {
    "/v1/wholesale/billing/reports"
}

#[tokio::test]
async fn report_creation_validation() {
    let sandbox = Sandbox::start(config()).await.unwrap();
    let api = Api::partner(&sandbox);
    // today is 2024-07-01: the earliest start is 2019-07-01, the latest end 2024-06-30.
    let cases: Vec<(Value, &str)> = vec![
        (json!({"billingEndDate": END}), "billingStartDate is required"),
        (json!({"billingStartDate": START}), "billingEndDate is required"),
        (
            json!({"billingStartDate": "2024-5-01", "billingEndDate": END}),
            "must be a date YYYY-MM-DD",
        ),
        (
            json!({"billingStartDate": START, "billingEndDate": "2024-02-30"}),
            "must be a date YYYY-MM-DD",
        ),
        (
            json!({"billingStartDate": "2024-05-01T00:00:00Z", "billingEndDate": END}),
            "must be a date",
        ),
        (
            json!({"billingStartDate": "2024-06-01", "billingEndDate": "2024-05-31"}),
            "is after billingEndDate",
        ),
        (
            json!({"billingStartDate": "2019-06-30", "billingEndDate": END}),
            "more than five years ago",
        ),
        (
            json!({"billingStartDate": START, "billingEndDate": "2024-07-01"}),
            "is not in the past",
        ),
        (
            json!({"billingStartDate": START, "billingEndDate": "2024-07-02"}),
            "is not in the past",
        ),
        (
            json!({"billingStartDate": START, "billingEndDate": END, "type": "WEEKLY"}),
            "type must be",
        ),
        (
            json!({"billingStartDate": START, "billingEndDate": END, "type": "user"}),
            "type must be",
        ),
        (
            json!({"billingStartDate": 20240501, "billingEndDate": END}),
            "invalid request body",
        ),
        (
            json!({"billingStartDate": START, "billingEndDate": END, "type": 3}),
            "invalid request body",
        ),
        (
            json!({"billingStartDate": START, "billingEndDate": END, "internal": "yes"}),
            "invalid request body",
        ),
        (json!([START, END]), "invalid request body"),
    ];
    for (body, needle) in cases {
        let r = api.create(body.clone()).await;
        let message = echoed_error(r, StatusCode::BAD_REQUEST).await;
        assert!(message.contains(needle), "{body}: {message}");
    }
    // The edges are allowed.
    api.create_ok("2019-07-01", "2019-07-31", "PARTNER").await;
    api.create_ok("2024-06-30", "2024-06-30", "PARTNER").await;
    let r = api
        .create(json!({"billingStartDate": START, "billingEndDate": END, "internal": true, "extra": {"x": 1}}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Malformed JSON and an empty body.
    for raw in ["{\"billingStartDate\": ", "", "not json"] {
        let r = api
            .request(Method::POST, create_path())
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let message = echoed_error(r, StatusCode::BAD_REQUEST).await;
        assert!(message.starts_with("invalid request body"), "{message}");
    }
    // 100 KB → 413.
    let big = json!({"billingStartDate": START, "billingEndDate": END, "pad": "x".repeat(100 * 1024)});
    let message = echoed_error(api.create(big).await, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(message.contains("64 KiB"), "{message}");
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn list_and_id_validation() {
    let sandbox = Sandbox::start(config()).await.unwrap();
    let api = Api::partner(&sandbox);
    for query in [
        "max=0",
        "max=-3",
        "max=ten",
        "sortBy=created",
        "status=DONE",
        "type=WEEKLY",
        "billingStartDate=May",
        "billingEndDate=2024-13-01",
        "cursor=%%%",
    ] {
        let r = api.get(&format!("/v1/wholesale/billing/reports?{query}")).await;
        echoed_error(r, StatusCode::BAD_REQUEST).await;
    }
    // Bad ids → 400; a well-formed unknown id → 404.
    let people = base64_url("ciscospark://us/PEOPLE/5b8d518a-8f00-451b-a406-eaf49b4a7fa8");
    let not_uuid = base64_url("ciscospark://us/BILLING_REPORT/12");
    for id in ["not-an-id!", "abc", people.as_str(), not_uuid.as_str()] {
        let r = api.get(&format!("/v1/wholesale/billing/reports/{id}")).await;
        let message = echoed_error(r, StatusCode::BAD_REQUEST).await;
        assert!(message.contains("is not a billing report id"), "{message}");
        echoed_error(api.delete(id).await, StatusCode::BAD_REQUEST).await;
    }
    let unknown = base64_url("ciscospark://us/BILLING_REPORT/5b8d518a-8f00-451b-a406-eaf49b4a7fa8");
    let r = api.get(&format!("/v1/wholesale/billing/reports/{unknown}")).await;
    assert_eq!(echoed_error(r, StatusCode::NOT_FOUND).await, "billing report not found");
    echoed_error(api.delete(&unknown).await, StatusCode::NOT_FOUND).await;
    for id in ["%FF%FE", "bad!"] {
        let r = api.get(&format!("/v1/wholesale/customers/{id}")).await;
        echoed_error(r, StatusCode::BAD_REQUEST).await;
    }
    sandbox.shutdown().await.unwrap();
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn authentication_is_required_everywhere() {
    let sandbox = Sandbox::start(config()).await.unwrap();
    let good = Api::partner(&sandbox);
    let id = good.create_ok(START, END, "PARTNER").await;
    let http = reqwest::Client::new();
    let base = sandbox.base_url();
    let routes = [
        (Method::GET, "/v1/wholesale/billing/reports".to_owned()),
        (Method::POST, "/v1/wholesale/billing/reports".to_owned()),
        (Method::GET, format!("/v1/wholesale/billing/reports/{id}")),
        (Method::DELETE, format!("/v1/wholesale/billing/reports/{id}")),
        (Method::GET, "/v1/wholesale/subPartners".to_owned()),
        (Method::GET, "/v1/wholesale/customers".to_owned()),
        (Method::GET, "/v1/wholesale/customers/abc".to_owned()),
    ];
    for (method, path) in routes {
        let url = format!("{base}{path}");
        let none = http
            .request(method.clone(), &url)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let message = webex_error(none, StatusCode::UNAUTHORIZED).await;
        assert!(message.contains("requires a valid access token"), "{message}");
        let unknown = http
            .request(method.clone(), &url)
            .bearer_auth("wbx-sandbox-partner-00000000000000000000000000000000")
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        webex_error(unknown, StatusCode::UNAUTHORIZED).await;
        let basic = http
            .request(method, &url)
            .basic_auth("a", Some("b"))
            .send()
            .await
            .unwrap();
        webex_error(basic, StatusCode::UNAUTHORIZED).await;
    }
    // The report survived the unauthenticated DELETEs.
    assert_eq!(
        good.get(&format!("/v1/wholesale/billing/reports/{id}")).await.status(),
        StatusCode::OK
    );
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_response_has_a_tracking_id() {
    let sandbox = Sandbox::start(config()).await.unwrap();
    let api = Api::partner(&sandbox);
    // A request with the token and no TrackingID.
    let plain = |method: Method, path: &str| {
        api.http
            .request(method, format!("{}{path}", api.base))
            .bearer_auth(&api.token)
    };
    // Echoed when sent, on success and on error.
    let r = plain(Method::GET, "/v1/wholesale/billing/reports")
        .header("TrackingID", "SIMPLE_abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["trackingid"], "SIMPLE_abc-123");
    let r = plain(Method::POST, "/v1/wholesale/billing/reports")
        .header("TrackingID", "SIMPLE_err-1")
        .json(&json!({"billingStartDate": "bad", "billingEndDate": END}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["trackingid"], "SIMPLE_err-1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["trackingId"], "SIMPLE_err-1");
    // Generated otherwise, distinct per request.
    let a = plain(Method::GET, "/v1/wholesale/billing/reports")
        .send()
        .await
        .unwrap();
    let b = plain(Method::GET, "/v1/wholesale/nothing").send().await.unwrap();
    let (a, b) = (a.headers()["trackingid"].clone(), b.headers()["trackingid"].clone());
    assert!(a.to_str().unwrap().starts_with("ROUTER_"), "{a:?}");
    assert!(b.to_str().unwrap().starts_with("ROUTER_"), "{b:?}");
    assert_ne!(a, b);
    // Unknown routes and methods are Webex errors too.
    let message = webex_error(api.get("/v1/wholesale/nothing").await, StatusCode::NOT_FOUND).await;
    assert_eq!(message, "the requested resource does not exist");
    let r = api
        .request(Method::PUT, "/v1/wholesale/billing/reports")
        .send()
        .await
        .unwrap();
    webex_error(r, StatusCode::METHOD_NOT_ALLOWED).await;
    // The statistics endpoint needs no token.
    let stats: Value = reqwest::get(format!("{}/sandbox/stats", sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["requests"].as_u64().unwrap() >= 6);
    assert_eq!(stats["reports_created"], 0);
    sandbox.shutdown().await.unwrap();
}
