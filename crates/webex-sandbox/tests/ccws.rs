//! The CCWS side: OAuth2 tokens, Get Offers paging, Get Offer Details priced from the rate card.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::config;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use webex_sandbox::{CcwsConfig, Sandbox};
use wholesale_billing::WholesaleRateCard;
use wholesale_billing::ccws::OfferDetailsResponse;

const RATES: &str = r#"
currency = "USD"
[rates."A-W-CA-CALL-U"]
rate = "5.00"
committed_rate = "4.50"
description = "Wholesale Common Area Calling Usage"
[rates."A-W-WXC-CALL-U"]
rate = "8.00"
committed_rate = "7.20"
description = "Wholesale Webex Calling Usage"
unit_of_measure = "Per User"
charge_type = "Usage"
[rates."A-W-WXE-CALL-U"]
rate = "6.125"
[rates."A-W-WXM-MEET-U"]
rate = "9"
[rates."A-W-SUITE-U"]
rate = "12.50"
"#;

/// A form-encoded body.
type Form<'a> = &'a [(&'a str, &'a str)];

fn card() -> WholesaleRateCard {
    WholesaleRateCard::from_toml_str(RATES).unwrap()
}

async fn token_request(base: &str, form: &[(&str, &str)]) -> reqwest::Response {
    Client::new()
        .post(format!("{base}/oauth2/default/v1/token"))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn password_token(base: &str) -> Value {
    let r = token_request(
        base,
        &[
            ("grant_type", "password"),
            ("client_id", "sandbox"),
            ("client_secret", "sandbox"),
            ("username", "sandbox"),
            ("password", "sandbox"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn catalog_body(page: Value, price_list: &str) -> Value {
    json!({
        "uuid": "TEST-1", "createdBy": "tester", "pageNo": page, "createdDateTime": "2024-07-01T10:00:00.000Z",
        "priceList": [{"priceListId": price_list, "codeType": "PriceListIdentifier"}]
    })
}

async fn catalog(base: &str, token: Option<&str>, path: &str, body: &Value) -> reqwest::Response {
    let mut request = Client::new()
        .post(format!("{base}/commerce/CATALOG/lpcservices/v1/{path}"))
        .json(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn tokens_by_password_and_refresh() {
    let sandbox = Sandbox::start(config().with_rates(card())).await.unwrap();
    let base = sandbox.base_url();
    let token = password_token(&base).await;
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    let access = token["access_token"].as_str().unwrap();
    let refresh = token["refresh_token"].as_str().unwrap();
    assert_ne!(access, refresh);

    let r = token_request(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "sandbox"),
            ("client_secret", "sandbox"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let refreshed: Value = r.json().await.unwrap();
    assert_ne!(refreshed["access_token"], access);
    // Both access tokens work.
    for t in [access, refreshed["access_token"].as_str().unwrap()] {
        let r = catalog(&base, Some(t), "offers", &catalog_body(json!(1), "1109")).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // Client credentials may come as HTTP Basic.
    let r = Client::new()
        .post(format!("{base}/oauth2/default/v1/token"))
        .basic_auth("sandbox", Some("sandbox"))
        .form(&[
            ("grant_type", "password"),
            ("username", "sandbox"),
            ("password", "sandbox"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let cases: [(Form<'_>, StatusCode, &str); 6] = [
        (
            &[
                ("grant_type", "password"),
                ("client_id", "sandbox"),
                ("client_secret", "wrong"),
                ("username", "sandbox"),
                ("password", "sandbox"),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "password"),
                ("client_id", "sandbox"),
                ("client_secret", "sandbox"),
                ("username", "sandbox"),
                ("password", "wrong"),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
        ),
        (
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "sandbox"),
                ("client_secret", "sandbox"),
                ("refresh_token", "stale"),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
        ),
        (
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "other"),
                ("client_secret", "sandbox"),
                ("refresh_token", refresh),
            ],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            &[("grant_type", "client_credentials")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (&[("client_id", "sandbox")], StatusCode::BAD_REQUEST, "invalid_request"),
    ];
    for (form, status, error) in cases {
        let r = token_request(&base, form).await;
        assert_eq!(r.status(), status, "{form:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], error);
        assert!(body["error_description"].is_string());
    }
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_catalog_needs_a_live_token() {
    let ccws = CcwsConfig {
        token_ttl: Duration::from_millis(300),
        client_secret: "s3cret".into(),
        ..CcwsConfig::default()
    };
    let sandbox = Sandbox::start(config().with_rates(card()).with_ccws(ccws))
        .await
        .unwrap();
    let base = sandbox.base_url();
    let body = catalog_body(json!(1), "1109");
    for path in ["offers", "offerDetails"] {
        let r = catalog(&base, None, path, &body).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_token");
        let r = catalog(&base, Some("made-up"), path, &body).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // A Webex token is no CCWS token.
    let webex = sandbox.tokens()[0].token.clone();
    assert_eq!(
        catalog(&base, Some(&webex), "offers", &body).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The configured secret is required; the token expires.
    let form = [
        ("grant_type", "password"),
        ("client_id", "sandbox"),
        ("client_secret", "s3cret"),
        ("username", "sandbox"),
        ("password", "sandbox"),
    ];
    let token: Value = token_request(&base, &form).await.json().await.unwrap();
    assert_eq!(token["expires_in"], 0);
    let access = token["access_token"].as_str().unwrap();
    assert_eq!(
        catalog(&base, Some(access), "offers", &body).await.status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        catalog(&base, Some(access), "offers", &body).await.status(),
        StatusCode::UNAUTHORIZED
    );
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn offers_are_paged() {
    let sandbox = Sandbox::start(config().with_rates(card())).await.unwrap();
    let base = sandbox.base_url();
    let token = password_token(&base).await;
    let access = token["access_token"].as_str();
    let mut skus = Vec::new();
    for page in 1..=4 {
        let r = catalog(&base, access, "offers", &catalog_body(json!(page), "1109")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], "Success");
        assert_eq!(body["uuid"], "TEST-1");
        assert_eq!(body["createdBy"], "tester");
        assert_eq!(body["createdDateTime"], "2024-07-01T10:00:00.000Z");
        assert_eq!(body["pageNo"], page);
        assert_eq!(body["totalPages"], 3);
        let items = body["itemDetails"].as_array().unwrap();
        assert!(items.len() <= 2);
        if page == 4 {
            assert!(items.is_empty());
        }
        for item in items {
            assert_eq!(item["chargeType"], "Usage");
            assert_eq!(item["subscriptionType"], "Product");
            assert!(item["erpFamily"].is_string() && item["productDescription"].is_string());
            skus.push(item["productID"].as_str().unwrap().to_owned());
        }
    }
    let expected: Vec<String> = card().rates().map(|r| r.sku.clone()).collect();
    assert_eq!(skus, expected);
    // The page number may be sent as text.
    let r = catalog(&base, access, "offers", &catalog_body(json!("2"), "1109")).await;
    assert_eq!(r.json::<Value>().await.unwrap()["pageNo"], 2);

    // Bad requests.
    for body in [
        catalog_body(json!(0), "1109"),
        catalog_body(json!("x"), "1109"),
        json!({"uuid": "u"}),
        json!([1]),
    ] {
        let r = catalog(&base, access, "offers", &body).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["status"], "Error");
        assert!(answer["errorMessage"]["messageText"].is_string());
    }
    let r = Client::new()
        .post(format!("{base}/commerce/CATALOG/lpcservices/v1/offers"))
        .bearer_auth(access.unwrap())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Another price list.
    let r = catalog(&base, access, "offers", &catalog_body(json!(1), "9999")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "Error");
    assert_eq!(body["errorMessage"]["messageCode"], "PRICE_LIST_NOT_FOUND");
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn offer_details_carry_the_rate_cards_prices() {
    let sandbox = Sandbox::start(config().with_rates(card())).await.unwrap();
    let base = sandbox.base_url();
    let token = password_token(&base).await;
    let access = token["access_token"].as_str();
    let details = |items: Value| {
        let mut body = catalog_body(json!(1), "1109");
        body["itemList"] = items;
        body
    };

    // Every SKU: the response gives back the same rate card.
    let all: Vec<String> = card().rates().map(|r| r.sku.clone()).collect();
    let r = catalog(&base, access, "offerDetails", &details(json!(all))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let response = OfferDetailsResponse::from_json_str(&text).unwrap();
    assert_eq!(response.status.as_ref().map(|s| s.as_str()), Some("Success"));
    assert_eq!(response.uuid.as_deref(), Some("TEST-1"));
    let back = WholesaleRateCard::from_offer_details(&response).unwrap();
    assert_eq!(back.currency(), card().currency());
    for rate in card().rates() {
        let got = back.rate(&rate.sku).unwrap();
        assert_eq!(
            (got.rate, got.committed_rate),
            (rate.rate, rate.committed_rate),
            "{}",
            rate.sku
        );
        assert_eq!(got.rate.to_string(), rate.rate.to_string(), "digits kept");
    }
    let calling = back.rate("A-W-WXC-CALL-U").unwrap();
    assert_eq!(calling.description, "Wholesale Webex Calling Usage");
    assert_eq!(
        (calling.unit_of_measure.as_str(), calling.charge_type.as_str()),
        ("Per User", "Usage")
    );
    let index = all.iter().position(|s| s == "A-W-WXC-CALL-U").unwrap();
    let item = &response.item_details[index];
    assert_eq!(item.erp_price_list_id.as_deref(), Some("1109"));
    assert_eq!(item.currency_code.as_deref(), Some("USD"));
    assert_eq!(item.decimal_expansion_value.as_deref(), Some("4"));
    let raw: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(raw["itemDetails"][index]["pricePoints"][0]["listPrice"], "8.00");
    assert_eq!(raw["itemDetails"][index]["pricePoints"][1]["listPrice"], "7.20");

    // Unknown SKUs get an item error.
    let r = catalog(
        &base,
        access,
        "offerDetails",
        &details(json!(["A-W-WXC-CALL-U", "NOPE-1"])),
    )
    .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "Success");
    assert_eq!(body["itemDetails"][0]["productID"], "A-W-WXC-CALL-U");
    assert!(body["itemDetails"][0].get("errorMessage").is_none());
    assert_eq!(body["itemDetails"][1]["productID"], "NOPE-1");
    assert_eq!(body["itemDetails"][1]["errorMessage"]["messageCode"], "ITEM_NOT_FOUND");
    let r = catalog(&base, access, "offerDetails", &details(json!(["NOPE-1"]))).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "Success");
    assert!(body.get("errorMessage").is_none());
    // The engine refuses such a response, naming the SKU.
    let err = WholesaleRateCard::from_offer_details_json(&body.to_string()).unwrap_err();
    let message = wholesale_billing::error_with_causes(&err);
    assert!(message.contains("SKU NOPE-1: error ITEM_NOT_FOUND"), "{message}");

    // Product ids are text: a number, a boolean, null or an object is a 400.
    for bad in [
        json!([1]),
        json!(["A-W-WXC-CALL-U", true]),
        json!([null]),
        json!([{"a": 1}]),
    ] {
        let r = catalog(&base, access, "offerDetails", &details(bad.clone())).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errorMessage"]["messageCode"], "INVALID_REQUEST", "{bad}");
    }

    // 1000 items are fine; 1001 → B1003.
    let many: Vec<&str> = std::iter::repeat_n("A-W-WXC-CALL-U", 1000).collect();
    let r = catalog(&base, access, "offerDetails", &details(json!(many))).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["itemDetails"].as_array().unwrap().len(), 1000);
    let too_many: Vec<&str> = std::iter::repeat_n("A-W-WXC-CALL-U", 1001).collect();
    let r = catalog(&base, access, "offerDetails", &details(json!(too_many))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "Error");
    assert_eq!(body["errorMessage"]["messageCode"], "B1003");
    assert_eq!(body["errorMessage"]["messageText"], "Maximum of 1000 items exceeded");
    let err = WholesaleRateCard::from_offer_details_json(&body.to_string()).unwrap_err();
    let message = wholesale_billing::error_with_causes(&err);
    assert!(message.contains("B1003"), "{message}");

    // No or bad item list: 400.
    for items in [json!([]), json!(null), json!("A-W-WXC-CALL-U"), json!([{"sku": 1}])] {
        let r = catalog(&base, access, "offerDetails", &details(items.clone())).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{items}");
    }
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn without_a_rate_card_every_sku_is_unknown() {
    let sandbox = Sandbox::start(config()).await.unwrap();
    let base = sandbox.base_url();
    let token = password_token(&base).await;
    let access = token["access_token"].as_str();
    let r = catalog(&base, access, "offers", &catalog_body(json!(1), "1109")).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        (
            body["totalPages"].as_u64(),
            body["itemDetails"].as_array().map(Vec::len)
        ),
        (Some(1), Some(0))
    );
    let mut request = catalog_body(json!(1), "1109");
    request["itemList"] = json!(["A-W-WXC-CALL-U"]);
    let body: Value = catalog(&base, access, "offerDetails", &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "Success");
    assert_eq!(body["itemDetails"][0]["errorMessage"]["messageCode"], "ITEM_NOT_FOUND");
    sandbox.shutdown().await.unwrap();
}
