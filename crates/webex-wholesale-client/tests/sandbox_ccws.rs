//! The Commerce Catalog client (and the blocking facade) over real HTTP against the sandbox.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers outside #[test] functions

mod common;

use std::time::Duration;

use common::{RATES, retries, start};
use webex_sandbox::CcwsConfig;
use webex_wholesale_client::Error;
use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials};
use webex_wholesale_client::wholesale_billing::WholesaleRateCard;

fn ccws(env: &common::Env, password: &str) -> CcwsClient {
    let base = env.sandbox.base_url();
    CcwsClient::builder()
        // The token endpoint on another origin than the API, as id.cisco.com and apix.cisco.com.
        .token_url(format!("{}/oauth2/default/v1/token", env.sandbox.download_base_url()))
        .api_base(base)
        .credentials(CcwsCredentials::new("sandbox", "sandbox", "sandbox", password))
        .retry_policy(retries())
        .build()
        .unwrap()
}

#[tokio::test]
async fn offers_and_details_make_the_rate_card() {
    let env = start(|c| c).await;
    let client = ccws(&env, "sandbox");
    let first = client.offers_page(1).await.unwrap();
    assert_eq!((first.page_no, first.total_pages, first.items.len()), (1, 3, 2));
    let offers = client.offers().await.unwrap();
    let skus: Vec<String> = offers.iter().filter_map(|o| o.product_id.clone()).collect();
    assert_eq!(skus.len(), 5);

    let card = client.price_list_rate_card().await.unwrap();
    let expected = WholesaleRateCard::from_toml_str(RATES).unwrap();
    assert_eq!(card.currency(), expected.currency());
    for rate in expected.rates() {
        let got = card.rate(&rate.sku).unwrap();
        assert_eq!(
            (got.rate, got.committed_rate),
            (rate.rate, rate.committed_rate),
            "{}",
            rate.sku
        );
    }
    assert_eq!(card.len(), expected.len());
}

#[tokio::test]
async fn more_than_a_thousand_skus_are_split() {
    let env = start(|c| c).await;
    let client = ccws(&env, "sandbox");
    let mut skus: Vec<String> = (0..996).map(|i| format!("A-W-UNKNOWN-{i:04}")).collect();
    skus.extend(
        WholesaleRateCard::from_toml_str(RATES)
            .unwrap()
            .rates()
            .map(|r| r.sku.clone()),
    );
    assert_eq!(skus.len(), 1001);
    let before = env.sandbox.stats().requests;
    let responses = client.offer_details(&skus).await.unwrap();
    let sizes: Vec<usize> = responses.iter().map(|r| r.item_details.len()).collect();
    assert_eq!(sizes, [1000, 1]);
    // One token request and two detail requests.
    assert_eq!(env.sandbox.stats().requests - before, 3);
    // The unknown SKUs make the rate card fail, naming the first.
    let err = client.rate_card(&skus).await.unwrap_err();
    assert!(matches!(err, Error::Core { .. }), "{err:?}");
    let message = wholesale_billing::error_with_causes(&err);
    assert!(message.contains("A-W-UNKNOWN-0000"), "{message}");
    let known = &skus[996..];
    let card = client.rate_card(known).await.unwrap();
    assert_eq!(card.len(), 5);
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires() {
    let env = start(|c| {
        c.with_ccws(CcwsConfig {
            token_ttl: Duration::from_secs(2),
            ..CcwsConfig::default()
        })
    })
    .await;
    let client = ccws(&env, "sandbox");
    let first = client.access_token().await.unwrap();
    assert_eq!(client.access_token().await.unwrap(), first, "cached");
    // Renewed after half its life (the refresh margin is at most half the lifetime).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = client.access_token().await.unwrap();
    assert_ne!(second, first);
    assert_eq!(client.offers().await.unwrap().len(), 5);

    let err = ccws(&env, "wrong").offers().await.unwrap_err();
    let Error::OAuth { status, error, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!((*status, error.as_str()), (401, "invalid_grant"));
    assert!(!format!("{err:?}").contains("wrong"));
}

#[cfg(feature = "blocking")]
#[test]
fn the_blocking_clients_against_the_sandbox() {
    use webex_wholesale_client::wholesale_billing::Scope;
    use webex_wholesale_client::{FetchOptions, ReportLevel, UsageSource, blocking};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let env = runtime.block_on(start(|c| c));
    let client = blocking::Client::new(env.client(None)).unwrap();
    let options = FetchOptions {
        poll_interval: Duration::from_millis(20),
        ..FetchOptions::default()
    };
    let fetched = client
        .fetch_usage(common::may(), ReportLevel::Customer, None, &options)
        .unwrap();
    assert_eq!(fetched.source, UsageSource::Created);
    assert_eq!(
        common::csv_of(&fetched.usage),
        env.engine_csv(ReportLevel::Customer, Scope::Partner)
    );
    assert_eq!(client.sub_partners(&Default::default()).unwrap().len(), 3);
    let catalog = blocking::CcwsClient::new(ccws(&env, "sandbox")).unwrap();
    assert_eq!(catalog.price_list_rate_card().unwrap().len(), 5);
    drop((client, catalog));
    runtime.block_on(env.sandbox.shutdown()).unwrap();
}
