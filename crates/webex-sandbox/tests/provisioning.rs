//! Sub-partners and customers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Api, config, webex_error};
use reqwest::StatusCode;
use serde_json::Value;
use webex_sandbox::{Sandbox, SandboxConfig, SubPartnersKey};
use wholesale_billing::{AssignmentLedger, LoadMode, Period, ReportLevel, ReportOptions, Scope};

/// Follows `Link: rel="next"`; returns the items under `key` and the number of pages.
async fn all_pages(api: &Api, path: &str, key: &str) -> (Vec<Value>, usize) {
    let mut url = format!("{}{path}", api.base);
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let r = api.http.get(&url).bearer_auth(&api.token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        let next = r.headers().get("link").map(|l| l.to_str().unwrap().to_owned());
        let page: Value = r.json().await.unwrap();
        items.extend(
            page[key]
                .as_array()
                .unwrap_or_else(|| panic!("no {key} in {page}"))
                .iter()
                .cloned(),
        );
        pages += 1;
        match next {
            None => return (items, pages),
            Some(link) => url = link.trim_start_matches('<').split(">;").next().unwrap().to_owned(),
        }
    }
}

#[tokio::test]
async fn sub_partners_under_either_key() {
    for key in [SubPartnersKey::Items, SubPartnersKey::SubPartners] {
        let config = config().with_sub_partners_key(key);
        let sandbox = Sandbox::start(config.clone()).await.unwrap();
        let api = Api::partner(&sandbox);
        let (items, pages) = all_pages(&api, "/v1/wholesale/subPartners?max=1", key.as_str()).await;
        assert_eq!((items.len(), pages), (2, 2));
        for (item, sp) in items.iter().zip(&config.org.sub_partners) {
            assert_eq!(item["orgId"], sp.org_id.as_str());
            assert_eq!(item["subscriptionId"], config.org.partner.subscription_id.as_str());
            assert_eq!(item["provisioningState"], "active");
            assert!(item["created"].as_str().unwrap().ends_with('Z'));
            match sp.billing_start {
                Some(t) => assert_eq!(item["billingStartDate"], t.to_report_string().as_str()),
                None => assert!(item.get("billingStartDate").is_none()),
            }
        }
        let (active, _) = all_pages(&api, "/v1/wholesale/subPartners?provisioningState=active", key.as_str()).await;
        assert_eq!(active.len(), 2);
        let (suspended, _) = all_pages(
            &api,
            "/v1/wholesale/subPartners?provisioningState=suspended",
            key.as_str(),
        )
        .await;
        assert!(suspended.is_empty());
        let (second, _) = all_pages(&api, "/v1/wholesale/subPartners?offset=1", key.as_str()).await;
        assert_eq!(second[0]["orgId"], config.org.sub_partners[1].org_id.as_str());
        for bad in ["provisioningState=gone", "offset=-1", "offset=x", "max=0"] {
            let r = api.get(&format!("/v1/wholesale/subPartners?{bad}")).await;
            webex_error(r, StatusCode::BAD_REQUEST).await;
        }
        let r = Api::sub_partner(&sandbox, 0).get("/v1/wholesale/subPartners").await;
        webex_error(r, StatusCode::FORBIDDEN).await;
        sandbox.shutdown().await.unwrap();
    }
}

/// The expected customers per owner: org id → (external id, packages), from the engine.
fn expected_customers(config: &SandboxConfig, scope: Scope) -> BTreeMap<String, (String, BTreeSet<String>)> {
    let (ledger, _) =
        AssignmentLedger::from_csv(config.events_csv.as_slice(), config.org.clone(), LoadMode::Strict).unwrap();
    let everything = Period::from_dates("2000-01-01", "2024-06-30").unwrap();
    let report = ledger
        .usage_report(everything, &ReportOptions::new(ReportLevel::User).scope(scope))
        .unwrap();
    let mut out: BTreeMap<String, (String, BTreeSet<String>)> = report
        .rows()
        .map(|r| {
            (
                r.customer_org_id.to_owned(),
                (r.customer_external_id.to_owned(), BTreeSet::new()),
            )
        })
        .collect();
    for (key, _, _) in ledger.intervals() {
        if let Some(c) = out.get_mut(key.customer_org_id) {
            c.1.insert(key.package.to_owned());
        }
    }
    out
}

fn as_map(items: &[Value]) -> BTreeMap<String, (String, BTreeSet<String>)> {
    items
        .iter()
        .map(|c| {
            assert_eq!(c["status"], "provisioned");
            let packages = c["packages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_owned());
            (
                c["orgId"].as_str().unwrap().to_owned(),
                (c["externalId"].as_str().unwrap().to_owned(), packages.collect()),
            )
        })
        .collect()
}

#[tokio::test]
async fn customers_by_owner_with_filters_paging_and_get() {
    let config = config();
    let sandbox = Sandbox::start(config.clone()).await.unwrap();
    let partner = Api::partner(&sandbox);
    let sp0 = Api::sub_partner(&sandbox, 0);
    let sp0_id = config.org.sub_partners[0].org_id.clone();
    let sp1_id = config.org.sub_partners[1].org_id.clone();

    let own_expected = expected_customers(&config, Scope::Partner);
    assert!(own_expected.len() >= 3, "the dataset gives the partner customers");
    let (own, pages) = all_pages(&partner, "/v1/wholesale/customers?max=2", "items").await;
    assert_eq!(pages, own_expected.len().div_ceil(2));
    assert_eq!(as_map(&own), own_expected);

    let sp0_expected = expected_customers(&config, Scope::SubPartner(sp0_id.clone()));
    assert!(!sp0_expected.is_empty());
    let (on_behalf, _) = all_pages(
        &partner,
        &format!("/v1/wholesale/customers?onBehalfOfSubPartnerOrgId={sp0_id}"),
        "items",
    )
    .await;
    assert_eq!(as_map(&on_behalf), sp0_expected);
    let (theirs, _) = all_pages(&sp0, "/v1/wholesale/customers", "items").await;
    assert_eq!(as_map(&theirs), sp0_expected);
    let r = sp0
        .get(&format!("/v1/wholesale/customers?onBehalfOfSubPartnerOrgId={sp1_id}"))
        .await;
    webex_error(r, StatusCode::FORBIDDEN).await;
    let r = partner
        .get("/v1/wholesale/customers?onBehalfOfSubPartnerOrgId=nobody")
        .await;
    webex_error(r, StatusCode::NOT_FOUND).await;

    // Filters.
    let first = &own[0];
    let external = first["externalId"].as_str().unwrap();
    let org = first["orgId"].as_str().unwrap();
    let (by_external, _) = all_pages(
        &partner,
        &format!("/v1/wholesale/customers?externalId={external}"),
        "items",
    )
    .await;
    assert_eq!(by_external.len(), 1);
    assert_eq!(by_external[0]["orgId"], org);
    let (by_org, _) = all_pages(&partner, &format!("/v1/wholesale/customers?orgId={org}"), "items").await;
    assert_eq!(by_org.len(), 1);
    let (provisioned, _) = all_pages(&partner, "/v1/wholesale/customers?status=provisioned,error", "items").await;
    assert_eq!(provisioned.len(), own.len());
    let (errors, _) = all_pages(&partner, "/v1/wholesale/customers?status=error", "items").await;
    assert!(errors.is_empty());
    let r = partner.get("/v1/wholesale/customers?status=happy").await;
    webex_error(r, StatusCode::BAD_REQUEST).await;

    // Get one: the partner sees any customer of the subscription, a sub-partner its own.
    let id = first["id"].as_str().unwrap();
    let got: Value = partner
        .get(&format!("/v1/wholesale/customers/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&got, first);
    let r = sp0.get(&format!("/v1/wholesale/customers/{id}")).await;
    webex_error(r, StatusCode::NOT_FOUND).await;
    let theirs_id = theirs[0]["id"].as_str().unwrap();
    assert_eq!(
        sp0.get(&format!("/v1/wholesale/customers/{theirs_id}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        partner
            .get(&format!("/v1/wholesale/customers/{theirs_id}"))
            .await
            .status(),
        StatusCode::OK
    );
    use base64::Engine;
    let unknown = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("ciscospark://us/CUSTOMER/nobody");
    let r = partner.get(&format!("/v1/wholesale/customers/{unknown}")).await;
    webex_error(r, StatusCode::NOT_FOUND).await;
    sandbox.shutdown().await.unwrap();
}
