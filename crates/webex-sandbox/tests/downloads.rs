//! Signed download URLs: no credentials, no tampering, no use after expiry or deletion.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{Api, END, START, config, downloader, webex_error};
use reqwest::StatusCode;
use webex_sandbox::Sandbox;

/// A completed report's fresh download URL.
async fn download_url(api: &Api, id: &str) -> String {
    let done = api.wait_done(id).await;
    assert_eq!(done["status"], "COMPLETED");
    done["tempDownloadURL"].as_str().unwrap().to_owned()
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name { value.to_owned() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

#[tokio::test]
async fn download_urls_are_signed_and_refuse_credentials() {
    let sandbox = Sandbox::start(config()).await.unwrap();
    let api = Api::partner(&sandbox);
    let id = api.create_ok(START, END, "CUSTOMER").await;
    let url = download_url(&api, &id).await;

    // About 30 minutes of validity.
    let parsed = url::Url::parse(&url).unwrap();
    assert_eq!(parsed.host_str(), Some("localhost"));
    let expires: u64 = parsed
        .query_pairs()
        .find(|(k, _)| k == "Expires")
        .unwrap()
        .1
        .parse()
        .unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!((now + 1795..=now + 1801).contains(&expires), "{expires} vs {now}");

    // A bearer token on the download host: 400, counted.
    let r = downloader().get(&url).bearer_auth(&api.token).send().await.unwrap();
    let message = webex_error(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(message, "credentials must not be sent to the download host");
    assert_eq!(sandbox.stats().download_auth_refusals, 1);

    // Tampering: 403.
    let signature = parsed
        .query_pairs()
        .find(|(k, _)| k == "Signature")
        .unwrap()
        .1
        .into_owned();
    let mut flipped = signature.clone().into_bytes();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let tampered = [
        with_param(&url, "Signature", std::str::from_utf8(&flipped).unwrap()),
        with_param(&url, "Key-Pair-Id", "APKAOTHERKEY"),
        with_param(&url, "Expires", &(expires + 3600).to_string()),
        with_param(&url, "Expires", "soon"),
        url.split('?').next().unwrap().to_owned(),
        url.replacen(".csv?", "0.csv?", 1),
    ];
    for bad in tampered {
        let r = downloader().get(&bad).send().await.unwrap();
        let message = webex_error(r, StatusCode::FORBIDDEN).await;
        assert!(message.contains("signature is not valid"), "{bad}: {message}");
    }
    // The genuine URL still works, and every GET gives a working URL.
    assert_eq!(downloader().get(&url).send().await.unwrap().status(), StatusCode::OK);
    let again = download_url(&api, &id).await;
    assert_eq!(downloader().get(&again).send().await.unwrap().status(), StatusCode::OK);

    // After DELETE: 404 on the download host.
    assert_eq!(api.delete(&id).await.status(), StatusCode::NO_CONTENT);
    let r = downloader().get(&url).send().await.unwrap();
    webex_error(r, StatusCode::NOT_FOUND).await;
    assert_eq!(sandbox.stats().download_auth_refusals, 1);
    assert_eq!(sandbox.stats().downloads, 2);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn download_urls_expire() {
    let sandbox = Sandbox::start(config().with_download_ttl(Duration::from_secs(1)))
        .await
        .unwrap();
    let api = Api::partner(&sandbox);
    let id = api.create_ok(START, END, "PARTNER").await;
    let url = download_url(&api, &id).await;
    assert_eq!(downloader().get(&url).send().await.unwrap().status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = downloader().get(&url).send().await.unwrap();
    assert_eq!(
        webex_error(r, StatusCode::FORBIDDEN).await,
        "the download URL has expired"
    );
    // A new GET issues a new URL.
    let fresh = download_url(&api, &id).await;
    assert_eq!(downloader().get(&fresh).send().await.unwrap().status(), StatusCode::OK);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_custom_download_origin_is_used() {
    let sandbox = Sandbox::start(config().with_download_base_url("https://billing-reports.example.invalid:8443/"))
        .await
        .unwrap();
    assert_eq!(
        sandbox.download_base_url(),
        "https://billing-reports.example.invalid:8443"
    );
    let api = Api::partner(&sandbox);
    let id = api.create_ok(START, END, "PARTNER").await;
    let url = download_url(&api, &id).await;
    let prefix = "https://billing-reports.example.invalid:8443/downloads/";
    assert!(url.starts_with(prefix), "{url}");
    // The signature covers the file and expiry, not the origin: served on the real listener.
    let local = url.replacen("https://billing-reports.example.invalid:8443", &sandbox.base_url(), 1);
    assert_eq!(downloader().get(&local).send().await.unwrap().status(), StatusCode::OK);
    sandbox.shutdown().await.unwrap();
}
