//! The Commerce Catalog client against a scripted token endpoint and catalog.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::fast_retries;
use crate::Error;
use crate::ccws::{CcwsClient, CcwsCredentials};
use crate::stub::{Recorded, Reply, Stub};

const TOKEN_PATH: &str = "/oauth2/default/v1/token";
const OFFERS: &str = "/commerce/CATALOG/lpcservices/v1/offers";
const DETAILS: &str = "/commerce/CATALOG/lpcservices/v1/offerDetails";

#[derive(Default)]
struct Catalog {
    issued: u32,
    valid_access: Option<String>,
    valid_refresh: Option<String>,
    ttl: u64,
    grants: Vec<String>,
    refuse_refresh: bool,
}

impl Catalog {
    fn handle(&mut self, r: &Recorded) -> Reply {
        match r.path.as_str() {
            TOKEN_PATH => {
                let grant = r.form("grant_type").unwrap_or_default();
                self.grants.push(grant.clone());
                let client_ok = r.form("client_id").as_deref() == Some("cid")
                    && r.form("client_secret").as_deref() == Some("csecret");
                let ok = client_ok
                    && match grant.as_str() {
                        "password" => {
                            r.form("username").as_deref() == Some("user")
                                && r.form("password").as_deref() == Some("pw-s3cret")
                        }
                        "refresh_token" => !self.refuse_refresh && r.form("refresh_token") == self.valid_refresh,
                        _ => false,
                    };
                if !ok {
                    return Reply::json(
                        401,
                        r#"{"error": "invalid_grant", "error_description": "bad credentials"}"#,
                    );
                }
                self.issued += 1;
                let access = format!("at-{}", self.issued);
                let refresh = format!("rt-{}", self.issued);
                self.valid_access = Some(access.clone());
                self.valid_refresh = Some(refresh.clone());
                Reply::json(
                    200,
                    json!({"access_token": access, "token_type": "Bearer", "expires_in": self.ttl,
                           "refresh_token": refresh})
                    .to_string(),
                )
            }
            OFFERS | DETAILS => {
                let expected = self.valid_access.as_ref().map(|t| format!("Bearer {t}"));
                if r.authorization.is_none() || r.authorization != expected {
                    return Reply::json(401, r#"{"message": "invalid token"}"#);
                }
                let body: Value = serde_json::from_str(&r.body).unwrap();
                assert_eq!(body["priceList"][0]["priceListId"], "1109");
                assert_eq!(body["priceList"][0]["codeType"], "PriceListIdentifier");
                assert!(body["uuid"].as_str().unwrap().starts_with("WBILL_"));
                assert_eq!(body["createdDateTime"].as_str().unwrap().len(), 24);
                if r.path == OFFERS {
                    let page = body["pageNo"].as_u64().unwrap();
                    let items: Vec<Value> = (0..if page < 3 { 2 } else { 1 })
                        .map(|i| json!({"productID": format!("SKU-{page}-{i}"), "chargeType": "Usage"}))
                        .collect();
                    Reply::json(
                        200,
                        json!({"status": "Success", "pageNo": page, "totalPages": "3", "itemDetails": items})
                            .to_string(),
                    )
                } else {
                    let skus = body["itemList"].as_array().unwrap();
                    if skus.len() > 1000 {
                        return Reply::json(
                            200,
                            r#"{"status": "Error", "errorMessage": {"messageCode": "B1003", "messageText": "max"}}"#,
                        );
                    }
                    let items: Vec<Value> = skus
                        .iter()
                        .map(|s| {
                            json!({"productID": s, "currencyCode": "USD", "decimalExpansionValue": "4",
                                   "pricePoints": [{"listPrice": 9.950, "determinants":
                                       [{"determinantType": "pricingTerm", "value": ""}]}]})
                        })
                        .collect();
                    Reply::json(200, json!({"status": "Success", "itemDetails": items}).to_string())
                }
            }
            _ => Reply::json(404, "{}"),
        }
    }
}

async fn catalog(ttl: u64) -> (Stub, Arc<Mutex<Catalog>>, CcwsClient) {
    let state = Arc::new(Mutex::new(Catalog {
        ttl,
        ..Catalog::default()
    }));
    let shared = state.clone();
    let stub = Stub::start(move |r, _| shared.lock().unwrap().handle(r)).await;
    let client = CcwsClient::builder()
        .token_url(format!("{}{TOKEN_PATH}", stub.other_origin()))
        .api_base(stub.base())
        .credentials(CcwsCredentials::new("cid", "csecret", "user", "pw-s3cret"))
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    (stub, state, client)
}

#[tokio::test]
async fn the_token_is_cached_refreshed_and_only_sent_to_the_api() {
    let (stub, state, client) = catalog(1).await;
    client.offers_page(1).await.unwrap();
    client.offers_page(2).await.unwrap();
    assert_eq!(state.lock().unwrap().grants, ["password"]);
    // The one-second token is renewed after half its life, by the refresh token.
    tokio::time::sleep(Duration::from_millis(600)).await;
    client.offers_page(3).await.unwrap();
    assert_eq!(state.lock().unwrap().grants, ["password", "refresh_token"]);
    // A refused refresh token: back to the password grant.
    state.lock().unwrap().refuse_refresh = true;
    tokio::time::sleep(Duration::from_millis(600)).await;
    client.offers_page(1).await.unwrap();
    assert_eq!(
        state.lock().unwrap().grants,
        ["password", "refresh_token", "refresh_token", "password"]
    );
    for r in stub.requests() {
        if r.path == TOKEN_PATH {
            assert!(r.host.starts_with("localhost") && r.authorization.is_none(), "{r:?}");
        } else {
            assert!(r.host.starts_with("127.0.0.1"), "{r:?}");
            assert!(
                r.authorization.as_deref().is_some_and(|a| a.starts_with("Bearer at-")),
                "{r:?}"
            );
            assert!(!r.body.contains("pw-s3cret") && !r.body.contains("csecret"));
        }
    }
    assert!(!format!("{client:?}").contains("pw-s3cret"));
}

#[tokio::test]
async fn a_refused_token_is_replaced_once() {
    let (_stub, state, client) = catalog(3600).await;
    client.offers_page(1).await.unwrap();
    // The service forgets the token (revoked): the client gets a new one and tries again.
    state.lock().unwrap().valid_access = Some("revoked".into());
    let page = client.offers_page(1).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(state.lock().unwrap().grants, ["password", "refresh_token"]);
}

#[tokio::test]
async fn bad_credentials_are_an_oauth_error() {
    let (stub, _, _) = catalog(3600).await;
    let client = CcwsClient::builder()
        .token_url(format!("{}{TOKEN_PATH}", stub.other_origin()))
        .api_base(stub.base())
        .credentials(CcwsCredentials::new("cid", "csecret", "user", "wrong-password"))
        .build()
        .unwrap();
    let err = client.offers().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "oauth2 token request failed: http 401: invalid_grant: bad credentials"
    );
    assert!(!format!("{err:?}").contains("wrong-password"));
    assert_eq!(stub.requests().len(), 1, "a 401 of the token endpoint is not retried");
}

#[tokio::test]
async fn offers_are_read_page_by_page() {
    let (stub, _, client) = catalog(3600).await;
    let offers = client.offers().await.unwrap();
    let skus: Vec<String> = offers.into_iter().filter_map(|o| o.product_id).collect();
    assert_eq!(skus, ["SKU-1-0", "SKU-1-1", "SKU-2-0", "SKU-2-1", "SKU-3-0"]);
    assert_eq!(stub.count("POST", OFFERS), 3);
    let card = client.price_list_rate_card().await.unwrap();
    assert_eq!(card.len(), 5);
}

#[tokio::test]
async fn details_are_batched_by_a_thousand_and_merged_into_one_rate_card() {
    let (stub, _, client) = catalog(3600).await;
    let mut skus: Vec<String> = (0..1001).map(|i| format!("A-SKU-{i:04}")).collect();
    skus.push("A-SKU-0000".into());
    skus.push(" ".into());
    let responses = client.offer_details(&skus).await.unwrap();
    let sizes: Vec<usize> = responses.iter().map(|r| r.item_details.len()).collect();
    assert_eq!(sizes, [1000, 1]);
    let card = client.rate_card(&skus).await.unwrap();
    assert_eq!(card.len(), 1001);
    assert_eq!(card.rate("A-SKU-1000").unwrap().rate.to_string(), "9.95");
    assert_eq!(stub.count("POST", DETAILS), 4);
    let sent: Vec<usize> = stub
        .requests()
        .iter()
        .filter(|r| r.path == DETAILS)
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).unwrap()["itemList"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sent, [1000, 1, 1000, 1]);
}

#[tokio::test]
async fn an_unknown_api_base_is_refused_at_build() {
    let err = CcwsClient::builder()
        .api_base("ftp://apix.cisco.com")
        .credentials(CcwsCredentials::new("a", "b", "c", "d"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotHttpUrl { what: "ccws api base", url } if url == "ftp://apix.cisco.com"),
        "{err:?}"
    );
}
