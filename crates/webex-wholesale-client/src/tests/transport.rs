//! Retries, timeouts, errors, paging and origins.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{TOKEN, client, error_body, items, summary};
use crate::stub::{Reply, Stub};
use crate::{Client, Error, RetryPolicy};

#[tokio::test]
async fn a_429_waits_the_retry_after_and_the_tracking_id_stays() {
    let stub = Stub::start(|_, i| {
        if i == 0 {
            Reply::json(429, error_body("slow down", "ROUTER_429")).header("Retry-After", "1")
        } else {
            Reply::json(200, items(vec![summary("r-1", "COMPLETED")]))
        }
    })
    .await;
    let started = Instant::now();
    let page = client(&stub).billing_reports().list().send().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(page.items.len(), 1);
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1900), "{elapsed:?}");
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    let tracking = requests[0].tracking_id.clone().unwrap();
    assert!(tracking.starts_with("WBILL_") && tracking.len() == 6 + 36, "{tracking}");
    assert_eq!(requests[1].tracking_id.as_deref(), Some(tracking.as_str()));
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn a_long_retry_after_is_capped() {
    let stub = Stub::start(|_, i| {
        if i == 0 {
            Reply::json(429, "{}").header("Retry-After", "3600")
        } else {
            Reply::json(200, items(vec![]))
        }
    })
    .await;
    let capped = Client::builder()
        .base_url(format!("{}/v1", stub.base()))
        .token(TOKEN)
        .retry_policy(RetryPolicy::default().max_retry_after(Duration::from_millis(150)))
        .build()
        .unwrap();
    let started = Instant::now();
    capped.billing_reports().list().send().await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn persistent_5xx_are_retried_a_bounded_number_of_times() {
    let stub =
        Stub::start(|_, _| Reply::json(503, error_body("down", "ROUTER_503")).header("trackingid", "T-503")).await;
    let started = Instant::now();
    let err = client(&stub).billing_reports().get("r-1").await.unwrap_err();
    let elapsed = started.elapsed();
    // 3 retries: 10 + 20 + 40 ms of backoff.
    assert_eq!(stub.requests().len(), 4);
    assert!(
        elapsed >= Duration::from_millis(70) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.tracking_id(), Some("T-503"));
}

#[tokio::test]
async fn a_5xx_then_success_is_retried() {
    let stub = Stub::start(|_, i| match i {
        0 => Reply::json(500, "oops"),
        1 => Reply::json(502, "<html>bad gateway</html>"),
        _ => Reply::json(200, summary("r-1", "IN_PROGRESS").to_string()),
    })
    .await;
    let report = client(&stub).billing_reports().get("r-1").await.unwrap();
    assert_eq!(report.id, "r-1");
    assert_eq!(stub.requests().len(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_carry_the_webex_body() {
    let stub = Stub::start(|r, _| match r.path.as_str() {
        "/v1/wholesale/billing/reports/conflict" => Reply::json(
            409,
            json!({"message": "Conflict", "errors": [{"description": "a completed report exists; delete it"}],
                   "trackingId": "BODY_T"})
            .to_string(),
        )
        .header("trackingid", "WBILL_header"),
        "/v1/wholesale/billing/reports/plain" => Reply::json(404, "no such report"),
        _ => Reply::json(400, "{}"),
    })
    .await;
    let reports = client(&stub);
    let reports = reports.billing_reports();

    let err = reports.get("conflict").await.unwrap_err();
    assert!(err.is_conflict());
    let Error::Api(api) = &err else { panic!("{err:?}") };
    assert_eq!(api.message, "a completed report exists; delete it");
    assert_eq!(api.tracking_id.as_deref(), Some("WBILL_header"));
    assert_eq!(api.body.as_ref().and_then(|b| b.tracking_id.as_deref()), Some("BODY_T"));
    assert_eq!(
        err.to_string(),
        "GET /v1/wholesale/billing/reports/conflict: http 409: a completed report exists; delete it \
         (tracking id WBILL_header)"
    );

    let err = reports.get("plain").await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(
        err.to_string(),
        "GET /v1/wholesale/billing/reports/plain: http 404: no such report"
    );
    let err = reports.get("other").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET /v1/wholesale/billing/reports/other: http 400: bad request"
    );
    assert_eq!(stub.requests().len(), 3);
}

#[tokio::test]
async fn a_malformed_body_names_the_json_path() {
    let stub = Stub::start(|_, _| {
        Reply::json(
            200,
            r#"{"items": [{"id": "a", "billingStartDate": "2024-05-01", "billingEndDate": "2024-05-31",
                "status": "COMPLETED"}, {"id": "b", "billingStartDate": "2024-05-01",
                "billingEndDate": 20240531, "status": "COMPLETED"}]}"#,
        )
        .header("trackingid", "T-DEC")
    })
    .await;
    let err = client(&stub).billing_reports().list().send().await.unwrap_err();
    let Error::Decode(d) = &err else { panic!("{err:?}") };
    assert_eq!(d.path, "items[1].billingEndDate");
    assert_eq!(d.context, "GET /v1/wholesale/billing/reports");
    assert!(d.excerpt.starts_with(r#"{"items": [{"id": "a""#), "{}", d.excerpt);
    assert_eq!(err.tracking_id(), Some("T-DEC"));
}

#[tokio::test]
async fn a_slow_answer_is_a_timeout() {
    let stub = Stub::start(|_, _| Reply::json(200, items(vec![])).delay(Duration::from_millis(400))).await;
    let client = Client::builder()
        .base_url(format!("{}/v1", stub.base()))
        .token(TOKEN)
        .timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.billing_reports().list().send().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(err.to_string(), "GET /v1/wholesale/billing/reports: timed out");
}

#[tokio::test]
async fn pages_follow_the_next_links_verbatim() {
    let stub = Stub::start(|r, _| {
        let base = format!("http://{}", r.host);
        match r.param("cursor").as_deref() {
            None => Reply::json(200, items(vec![summary("r-1", "COMPLETED"), summary("r-2", "FAILED")])).header(
                "Link",
                format!(r#"<{base}/v1/wholesale/billing/reports?max=2&type=PARTNER&cursor=c2>; rel="next""#),
            ),
            // A relative link, after another relation.
            Some("c2") => Reply::json(200, items(vec![summary("r-3", "IN_PROGRESS"), summary("r-4", "COMPLETED")]))
                .header(
                    "Link",
                    r#"</v1/wholesale/billing/reports?max=2&cursor=c1>; rel="prev", </v1/wholesale/billing/reports?max=2&type=PARTNER&cursor=c3>; rel="next""#,
                ),
            _ => Reply::json(200, items(vec![summary("r-5", "COMPLETED")])),
        }
    })
    .await;
    let client = client(&stub);
    let first = client
        .billing_reports()
        .list()
        .max(2)
        .level(wholesale_billing::ReportLevel::Partner)
        .send()
        .await
        .unwrap();
    assert!(first.has_next());
    let second = client.next_page(&first).await.unwrap().unwrap();
    assert_eq!(second.items[0].id, "r-3");
    let all = client.all_pages(first).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["r-1", "r-2", "r-3", "r-4", "r-5"]);
    let queries: Vec<String> = stub.requests().iter().map(|r| r.query.clone()).collect();
    assert_eq!(
        queries,
        [
            "type=PARTNER&max=2",
            "max=2&type=PARTNER&cursor=c2",
            "max=2&type=PARTNER&cursor=c2",
            "max=2&type=PARTNER&cursor=c3"
        ]
    );
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused() {
    let stub = Stub::start(|r, _| {
        let other = format!("http://localhost:{}", r.host.rsplit(':').next().unwrap_or(""));
        Reply::json(200, items(vec![summary("r-1", "COMPLETED")])).header(
            "Link",
            format!(r#"<{other}/v1/wholesale/billing/reports?cursor=steal>; rel="next""#),
        )
    })
    .await;
    let err = client(&stub).billing_reports().list().all().await.unwrap_err();
    let Error::ForeignOrigin { context, origin, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (*context, origin.as_str()),
        ("next page link", stub.other_origin().as_str())
    );
    let requests = stub.requests();
    assert_eq!(requests.len(), 1);
    assert!(requests.iter().all(|r| r.host.starts_with("127.0.0.1")));
}

#[tokio::test]
async fn a_next_link_back_to_a_page_already_read_is_a_loop() {
    let stub = Stub::start(|r, _| {
        let base = format!("http://{}", r.host);
        Reply::json(200, items(vec![summary("r-1", "COMPLETED")])).header(
            "Link",
            format!(r#"<{base}/v1/wholesale/billing/reports?cursor=again>; rel="next""#),
        )
    })
    .await;
    let err = client(&stub).billing_reports().list().all().await.unwrap_err();
    assert!(
        matches!(&err, Error::PageLoop { endpoint } if endpoint == "GET /v1/wholesale/billing/reports"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "GET /v1/wholesale/billing/reports: the next page link leads back to a page already read"
    );
    // The first page, the linked page, and no third request for the same link.
    assert_eq!(stub.requests().len(), 2);
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed() {
    let stub = Stub::start(|r, _| {
        if r.host.starts_with("localhost") {
            Reply::json(200, items(vec![]))
        } else {
            let other = format!("http://localhost:{}", r.host.rsplit(':').next().unwrap_or(""));
            Reply::json(302, "").header("Location", format!("{other}/v1/wholesale/billing/reports"))
        }
    })
    .await;
    let err = client(&stub).billing_reports().list().send().await.unwrap_err();
    assert_eq!(err.status(), Some(302));
    assert!(
        stub.requests()
            .iter()
            .all(|r| r.authorization.is_some() && r.host.starts_with("127.0.0.1"))
    );
}

#[tokio::test]
async fn the_token_never_goes_to_the_download_host() {
    let stub = Stub::start(|r, _| {
        let port = r.host.rsplit(':').next().unwrap_or("").to_owned();
        if r.path.starts_with("/downloads/") {
            if r.authorization.is_some() {
                Reply::json(
                    400,
                    error_body("credentials must not be sent to the download host", "D"),
                )
            } else {
                Reply::json(200, super::PARTNER_CSV).header("content-type", "text/csv")
            }
        } else {
            let mut report = summary("r-1", "COMPLETED");
            report["tempDownloadURL"] = json!(format!(
                "http://localhost:{port}/downloads/u-1.csv?Expires=99999999999&Signature=SIGNATURE&Key-Pair-Id=K1"
            ));
            Reply::json(200, report.to_string())
        }
    })
    .await;
    let client = client(&stub);
    let report = client.billing_reports().get("r-1").await.unwrap();
    assert!(!format!("{report:?}").contains("SIGNATURE"));
    let usage = client.billing_reports().download(&report).await.unwrap();
    assert_eq!(usage.len(), 1);
    assert_eq!(usage.total_quantity().unwrap().to_string(), "31.0000");
    let requests = stub.requests();
    let download = requests.iter().find(|r| r.path == "/downloads/u-1.csv").unwrap();
    assert_eq!(
        (download.authorization.as_ref(), download.tracking_id.as_ref()),
        (None, None)
    );
    assert!(download.host.starts_with("localhost"));
    assert_eq!(download.param("Signature").as_deref(), Some("SIGNATURE"));
}

#[tokio::test]
async fn refused_downloads_are_typed_and_never_show_the_signature() {
    let stub = Stub::start(|r, _| match r.param("Signature").as_deref() {
        Some("old") => Reply::json(403, error_body("the download URL has expired", "D1")),
        _ => Reply::json(404, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>"),
    })
    .await;
    let client = client(&stub);
    let report = |query: &str| -> crate::Report {
        serde_json::from_value(
            json!({"id": "r", "billingStartDate": "2024-05-01", "billingEndDate": "2024-05-31",
            "status": "COMPLETED", "tempDownloadURL": format!("{}/downloads/a.csv?{query}", stub.other_origin())}),
        )
        .unwrap()
    };
    let err = client
        .billing_reports()
        .download(&report("Signature=old"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "report download refused: http 403: the download URL has expired"
    );
    let err = client
        .billing_reports()
        .download(&report("Signature=x"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "report download refused: http 404: gone");

    // A transport error names no URL (the signature is a credential).
    let unreachable: crate::Report = serde_json::from_value(json!({"id": "r", "billingStartDate": "2024-05-01",
        "billingEndDate": "2024-05-31", "status": "COMPLETED",
        "tempDownloadURL": "http://127.0.0.1:9/a.csv?Signature=TOPSECRET"}))
    .unwrap();
    let no_retry = Client::builder()
        .token(TOKEN)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = no_retry.billing_reports().download(&unreachable).await.unwrap_err();
    let text = format!("{} {err:?}", wholesale_billing::error_with_causes(&err));
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(!text.contains("TOPSECRET"), "{text}");

    // Without a URL.
    let mut pending = report("x=1");
    pending.temp_download_url = None;
    pending.status = crate::ReportStatus::InProgress;
    let err = client.billing_reports().download(&pending).await.unwrap_err();
    assert_eq!(err.to_string(), "report r has no download url (status IN_PROGRESS)");
}

#[tokio::test]
async fn a_bad_csv_is_a_core_error_with_its_line() {
    let stub = Stub::start(|_, _| Reply::json(200, "SKU,QUANTITY\nA,1\nB,lots\n")).await;
    let report: crate::Report = serde_json::from_value(json!({"id": "r", "billingStartDate": "2024-05-01",
        "billingEndDate": "2024-05-31", "status": "COMPLETED", "type": "PARTNER",
        "tempDownloadURL": format!("{}/downloads/a.csv", stub.other_origin())}))
    .unwrap();
    let err = client(&stub).billing_reports().download(&report).await.unwrap_err();
    assert!(matches!(err, Error::Core { .. }), "{err:?}");
    assert_eq!(err.to_string(), "report r csv");
    let message = wholesale_billing::error_with_causes(&err);
    assert!(
        message.starts_with("report r csv: usage report: 1 row error(s)"),
        "{message}"
    );
    assert!(
        format!("{:?}", std::error::Error::source(&err)).contains("line"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_token_provider_is_asked_for_every_attempt() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    let stub = Stub::start(|_, i| {
        if i == 0 {
            Reply::json(503, "{}")
        } else {
            Reply::json(200, items(vec![]))
        }
    })
    .await;
    let calls = Arc::new(AtomicU32::new(0));
    let counter = calls.clone();
    let client = Client::builder()
        .base_url(format!("{}/v1", stub.base()))
        .token_provider(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move { Ok(crate::Secret::new(format!("token-{n}"))) }
        })
        .retry_policy(super::fast_retries())
        .build()
        .unwrap();
    client.billing_reports().list().send().await.unwrap();
    let auth: Vec<Option<String>> = stub.requests().into_iter().map(|r| r.authorization).collect();
    assert_eq!(auth, [Some("Bearer token-0".into()), Some("Bearer token-1".into())]);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
