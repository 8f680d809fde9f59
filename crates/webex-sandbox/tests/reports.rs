//! Billing reports over HTTP: life cycle, CSV equality with the engine, duplicates, isolation,
//! listing and paging.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Api, END, START, config, downloader, expected_csv, webex_error};
use reqwest::StatusCode;
use serde_json::{Value, json};
use webex_sandbox::Sandbox;
use wholesale_billing::ReportLevel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_complete_after_the_delay_and_download_the_engines_csv() {
    let config = config();
    let sandbox = Sandbox::start(config.clone()).await.unwrap();
    let api = Api::partner(&sandbox);
    let partner = config.org.partner.org_id.clone();
    for level in ReportLevel::ALL {
        let began = Instant::now();
        let r = api
            .create(json!({"billingStartDate": START, "billingEndDate": END, "type": level.as_str()}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let created: Value = r.json().await.unwrap();
        assert_eq!(created["billingStartDate"], START);
        assert_eq!(created["billingEndDate"], END);
        assert_eq!(created["type"], level.as_str());
        assert_eq!(created["category"], "RECONCILIATION");
        let id = created["id"].as_str().unwrap();
        let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(id).unwrap()).unwrap();
        assert!(decoded.starts_with("ciscospark://us/BILLING_REPORT/"), "{decoded}");

        let first: Value = api
            .get(&format!("/v1/wholesale/billing/reports/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(first["status"], "IN_PROGRESS");
        assert!(first.get("tempDownloadURL").is_none());

        let done = api.wait_done(id).await;
        assert!(began.elapsed() >= Duration::from_millis(150));
        assert_eq!(done["status"], "COMPLETED");
        assert_eq!(done["id"], id);
        assert_eq!(done["type"], level.as_str());
        assert_eq!(done["category"], "RECONCILIATION");
        assert_eq!(done["createdBy"], sandbox.tokens()[0].person_id.as_str());
        let created_at = done["created"].as_str().unwrap();
        assert!(created_at.ends_with('Z') && created_at.len() == 24, "{created_at}");
        assert!(done.get("errors").is_none());
        let url = done["tempDownloadURL"].as_str().unwrap();
        assert!(
            url.starts_with(&format!("{}/downloads/", sandbox.download_base_url())),
            "{url}"
        );
        assert!(url.contains(".csv?Expires=") && url.contains("&Signature=") && url.contains("&Key-Pair-Id="));

        let download = downloader().get(url).send().await.unwrap();
        assert_eq!(download.status(), StatusCode::OK);
        assert_eq!(download.headers()["content-type"], "text/csv");
        let bytes = download.bytes().await.unwrap();
        assert_eq!(
            bytes.as_ref(),
            expected_csv(&config, &partner, START, END, level).as_slice()
        );
        assert!(
            bytes.iter().filter(|&&b| b == b'\n').count() > 1,
            "the partner has usage"
        );
    }
    let stats = sandbox.stats();
    assert_eq!(stats.reports_created, 3);
    assert_eq!(stats.downloads, 3);
    assert_eq!(stats.reports_created_for(&partner, START, END, ReportLevel::User), 1);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn sub_partner_reports_are_scoped_and_isolated() {
    let config = config();
    let sandbox = Sandbox::start(config.clone()).await.unwrap();
    let partner = Api::partner(&sandbox);
    let sp0 = Api::sub_partner(&sandbox, 0);
    let sp1 = Api::sub_partner(&sandbox, 1);
    let sp0_id = config.org.sub_partners[0].org_id.clone();
    let sp1_id = config.org.sub_partners[1].org_id.clone();

    // The partner reports for a sub-partner.
    let r = partner
        .create(json!({"billingStartDate": START, "billingEndDate": END, "type": "USER", "subPartnerOrgId": sp0_id}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let for_sp0 = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let done = partner.wait_done(&for_sp0).await;
    let csv = downloader()
        .get(done["tempDownloadURL"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        csv.as_ref(),
        expected_csv(&config, &sp0_id, START, END, ReportLevel::User).as_slice()
    );
    assert!(
        csv.iter().filter(|&&b| b == b'\n').count() > 5,
        "the sub-partner has usage"
    );

    // A sub-partner reports for itself (repeating its own id is allowed).
    let own = sp1.create_ok(START, END, "CUSTOMER").await;
    let r = sp1
        .create(json!({"billingStartDate": START, "billingEndDate": END, "type": "PARTNER", "subPartnerOrgId": sp1_id}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let done = sp1.wait_done(&own).await;
    let csv = downloader()
        .get(done["tempDownloadURL"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        csv.as_ref(),
        expected_csv(&config, &sp1_id, START, END, ReportLevel::Customer).as_slice()
    );
    assert!(
        csv.iter().filter(|&&b| b == b'\n').count() > 1,
        "the sub-partner has usage"
    );

    // ... but not for another sub-partner: 403.
    let r = sp1
        .create(json!({"billingStartDate": START, "billingEndDate": END, "subPartnerOrgId": sp0_id}))
        .await;
    webex_error(r, StatusCode::FORBIDDEN).await;
    let r = sp1
        .get(&format!("/v1/wholesale/billing/reports?subPartnerOrgId={sp0_id}"))
        .await;
    webex_error(r, StatusCode::FORBIDDEN).await;
    // An unknown sub-partner for the partner: 404.
    let r = partner
        .create(json!({"billingStartDate": START, "billingEndDate": END, "subPartnerOrgId": "nobody"}))
        .await;
    webex_error(r, StatusCode::NOT_FOUND).await;

    // Another organisation's report does not exist for a sub-partner.
    let partner_own = partner.create_ok(START, END, "PARTNER").await;
    for id in [&partner_own, &own] {
        let r = sp0.get(&format!("/v1/wholesale/billing/reports/{id}")).await;
        webex_error(r, StatusCode::NOT_FOUND).await;
        webex_error(sp0.delete(id).await, StatusCode::NOT_FOUND).await;
    }
    // The sub-partner sees the report made about it; the partner sees everything by id.
    assert_eq!(
        sp0.get(&format!("/v1/wholesale/billing/reports/{for_sp0}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        partner
            .get(&format!("/v1/wholesale/billing/reports/{own}"))
            .await
            .status(),
        StatusCode::OK
    );

    // Lists: each organisation's own; the partner's with subPartnerOrgId.
    let ids = |v: Value| -> HashSet<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = |api: &Api, query: &str| {
        let api = api.clone();
        let path = format!("/v1/wholesale/billing/reports{query}");
        async move { ids(api.get(&path).await.json().await.unwrap()) }
    };
    assert_eq!(list(&partner, "").await, HashSet::from([partner_own.clone()]));
    assert_eq!(list(&sp0, "").await, HashSet::from([for_sp0.clone()]));
    assert_eq!(
        list(&partner, &format!("?subPartnerOrgId={sp0_id}")).await,
        HashSet::from([for_sp0.clone()])
    );
    assert_eq!(list(&sp1, "").await.len(), 2);
    assert_eq!(list(&sp1, &format!("?subPartnerOrgId={sp1_id}")).await.len(), 2);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_completed_report_blocks_its_duplicate_until_deleted() {
    let sandbox = Sandbox::start(config()).await.unwrap();
    let api = Api::partner(&sandbox);
    let first = api.create_ok(START, END, "USER").await;
    // While the first is IN_PROGRESS a second may be created.
    let second = api.create_ok(START, END, "USER").await;
    assert_eq!(api.wait_done(&first).await["status"], "COMPLETED");
    assert_eq!(api.wait_done(&second).await["status"], "COMPLETED");
    let r = api
        .create(json!({"billingStartDate": START, "billingEndDate": END, "type": "USER"}))
        .await;
    let message = webex_error(r, StatusCode::CONFLICT).await;
    assert_eq!(
        message,
        "a completed report for this period and type exists; delete it to regenerate"
    );
    // Another type, or another period, is no duplicate.
    api.create_ok(START, END, "CUSTOMER").await;
    api.create_ok(START, "2024-05-30", "USER").await;

    let r = api.delete(&first).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(r.bytes().await.unwrap().is_empty());
    webex_error(
        api.get(&format!("/v1/wholesale/billing/reports/{first}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    webex_error(api.delete(&first).await, StatusCode::NOT_FOUND).await;
    // The second still blocks.
    let r = api
        .create(json!({"billingStartDate": START, "billingEndDate": END, "type": "USER"}))
        .await;
    webex_error(r, StatusCode::CONFLICT).await;
    assert_eq!(api.delete(&second).await.status(), StatusCode::NO_CONTENT);
    api.create_ok(START, END, "USER").await;
    sandbox.shutdown().await.unwrap();
}

/// Every item of a list, following `Link: rel="next"` verbatim; also the number of pages.
async fn list_all(api: &Api, query: &str) -> (Vec<Value>, usize) {
    let mut url = format!("{}/v1/wholesale/billing/reports{query}", api.base);
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let r = api.http.get(&url).bearer_auth(&api.token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let next = r.headers().get("link").map(|l| l.to_str().unwrap().to_owned());
        let page: Value = r.json().await.unwrap();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        pages += 1;
        match next {
            None => return (items, pages),
            Some(link) => {
                assert!(link.ends_with(">; rel=\"next\""), "{link}");
                url = link.trim_start_matches('<').split(">;").next().unwrap().to_owned();
                assert!(url.starts_with(&api.base), "{url}");
            }
        }
    }
}

#[tokio::test]
async fn lists_filter_sort_and_page() {
    let sandbox = Sandbox::start(config()).await.unwrap();
    let api = Api::partner(&sandbox);
    let specs = [
        ("2024-05-01", "2024-05-31", "USER"),
        ("2024-05-01", "2024-05-31", "CUSTOMER"),
        ("2024-05-16", "2024-05-31", "PARTNER"),
        ("2024-04-01", "2024-04-30", "USER"),
        ("2024-05-01", "2024-05-15", "PARTNER"),
        ("2024-03-01", "2024-05-31", "PARTNER"),
    ];
    let mut ids = Vec::new();
    for (start, end, level) in specs {
        ids.push(api.create_ok(start, end, level).await);
    }
    // In progress at first.
    let (items, _) = list_all(&api, "?status=IN_PROGRESS").await;
    assert_eq!(items.len(), 6);
    for id in &ids {
        api.wait_done(id).await;
    }

    let (items, pages) = list_all(&api, "?max=2").await;
    assert_eq!((items.len(), pages), (6, 3));
    let seen: HashSet<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(seen.len(), 6);
    let starts: Vec<&str> = items.iter().map(|i| i["billingStartDate"].as_str().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
    for item in &items {
        assert_eq!(item["status"], "COMPLETED");
        assert_eq!(item["category"], "RECONCILIATION");
        assert!(item["type"].is_string() && item["billingEndDate"].is_string());
    }

    // Filters are kept on every page.
    let (partner_items, pages) = list_all(&api, "?type=PARTNER&max=1").await;
    assert_eq!((partner_items.len(), pages), (3, 3));
    assert!(partner_items.iter().all(|i| i["type"] == "PARTNER"));
    assert_eq!(list_all(&api, "?billingEndDate=2024-05-31").await.0.len(), 4);
    assert_eq!(list_all(&api, "?billingStartDate=2024-05-16").await.0.len(), 1);
    assert_eq!(
        list_all(
            &api,
            "?billingStartDate=2024-05-01T00:00:00.000Z&billingEndDate=2024-05-31"
        )
        .await
        .0
        .len(),
        2
    );
    assert_eq!(list_all(&api, "?status=COMPLETED&type=USER").await.0.len(), 2);
    assert_eq!(list_all(&api, "?status=FAILED").await.0.len(), 0);

    // sortBy.
    let (by_id, _) = list_all(&api, "?sortBy=id&max=4").await;
    let id_order: Vec<&str> = by_id.iter().map(|i| i["id"].as_str().unwrap()).collect();
    let mut sorted = id_order.clone();
    sorted.sort_unstable();
    assert_eq!(id_order, sorted);
    let (by_end, _) = list_all(&api, "?sortBy=billingEndDate").await;
    let ends: Vec<&str> = by_end.iter().map(|i| i["billingEndDate"].as_str().unwrap()).collect();
    assert!(ends.windows(2).all(|w| w[0] <= w[1]), "{ends:?}");
    assert_eq!(list_all(&api, "?sortBy=status").await.0.len(), 6);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn max_above_100_is_clamped() {
    let sandbox = Sandbox::start(config().with_report_delay(Duration::ZERO))
        .await
        .unwrap();
    let api = Api::partner(&sandbox);
    let first = wholesale_billing::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for i in 0..101 {
        let day = (first + chrono::Days::new(i)).to_string();
        api.create_ok(&day, &day, "PARTNER").await;
    }
    let r = api.get("/v1/wholesale/billing/reports?max=1000").await;
    assert!(r.headers().contains_key("link"));
    let page: Value = r.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 100);
    let (all, pages) = list_all(&api, "?max=99999999999999999999999").await;
    assert_eq!((all.len(), pages), (101, 2));
    let (all, pages) = list_all(&api, "").await;
    assert_eq!((all.len(), pages), (101, 2));
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn creation_may_answer_202() {
    let sandbox = Sandbox::start(config().with_create_status(202)).await.unwrap();
    let api = Api::partner(&sandbox);
    let r = api
        .create(json!({"billingStartDate": START, "billingEndDate": END}))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "PARTNER");
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn links_are_built_from_the_public_url_never_the_host_header() {
    for public in [None, Some("https://sandbox.example.com/webex/")] {
        let mut config = config().with_report_delay(Duration::ZERO);
        if let Some(url) = public {
            config = config.with_public_base_url(url);
        }
        let sandbox = Sandbox::start(config).await.unwrap();
        let base = sandbox.base_url();
        match public {
            Some(_) => assert_eq!(base, "https://sandbox.example.com/webex"),
            None => assert_eq!(base, format!("http://{}", sandbox.addr())),
        }
        // The sandbox listens here whatever URL it announces.
        let local = format!("http://{}", sandbox.addr());
        let mut api = Api::partner(&sandbox);
        api.base.clone_from(&local);
        for day in ["2024-05-01", "2024-05-02"] {
            api.create_ok(day, day, "PARTNER").await;
        }
        for path in ["/v1/wholesale/billing/reports?max=1", "/v1/wholesale/customers?max=1"] {
            let r = api
                .http
                .get(format!("{local}{path}"))
                .bearer_auth(&api.token)
                .header("host", "evil.example:666")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let link = r.headers()["link"].to_str().unwrap().to_owned();
            assert!(link.starts_with(&format!("<{base}/v1/wholesale/")), "{link}");
            assert!(!link.contains("evil"), "{link}");
        }
        sandbox.shutdown().await.unwrap();
    }
}
