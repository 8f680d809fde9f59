//! The Webex client over real HTTP against `webex_sandbox::Sandbox`.
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers outside #[test] functions

mod common;

use std::time::{Duration, Instant};

use common::{Env, csv_of, may, start};
use webex_sandbox::{Faults, SubPartnersKey};
use webex_wholesale_client::wholesale_billing::{Scope, parse_date};
use webex_wholesale_client::{Client, DownloadUrl, Error, Period, ReportLevel, ReportStatus, SortBy, UsageSource};

const POLL: Duration = Duration::from_millis(20);

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

async fn fetch(client: &Client, level: ReportLevel, sub_partner: Option<&str>) -> webex_wholesale_client::FetchedUsage {
    client
        .fetch_usage(may(), level, sub_partner)
        .poll_interval(POLL)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap()
}

/// A sandbox with these faults injected.
async fn start_with(faults: Faults) -> Env {
    start(|c| c.with_faults(faults)).await
}

fn created(env: &Env, org_id: &str, level: ReportLevel) -> u64 {
    env.sandbox
        .stats()
        .reports_created_for(org_id, "2024-05-01", "2024-05-31", level)
}

#[tokio::test]
async fn fetched_reports_are_the_engines_byte_for_byte() {
    let env = start(|c| c).await;
    let client = env.client(None);
    for level in ReportLevel::ALL {
        let fetched = fetch(&client, level, None).await;
        assert_eq!(fetched.source, UsageSource::Created);
        assert_eq!(fetched.report.report_type, Some(level));
        assert!(!fetched.usage.is_empty(), "{level}");
        assert_eq!(
            csv_of(&fetched.usage),
            env.engine_csv(level, Scope::Partner),
            "{level} report differs"
        );
        // Once more: the completed report is reused, not created again.
        let again = fetch(&client, level, None).await;
        assert_eq!(
            (again.source, &again.report.id),
            (UsageSource::Reused, &fetched.report.id)
        );
        assert_eq!(created(&env, &env.partner_id(), level), 1);
    }
    // A sub-partner's report, asked by the partner and by the sub-partner itself.
    let sub = env.sub_partner_id(1);
    let by_partner = fetch(&client, ReportLevel::User, Some(&sub)).await;
    let expected = env.engine_csv(ReportLevel::User, Scope::SubPartner(sub.clone()));
    assert_eq!(csv_of(&by_partner.usage), expected);
    let own = env.client(Some(&sub));
    let by_itself = fetch(&own, ReportLevel::User, None).await;
    assert_eq!(
        (by_itself.source, &by_itself.report.id),
        (UsageSource::Reused, &by_partner.report.id)
    );
    assert_eq!(csv_of(&by_itself.usage), expected);
    let stats = env.sandbox.stats();
    assert_eq!(stats.download_auth_refusals, 0);
    assert!(stats.downloads >= 8, "{stats:?}");
}

#[tokio::test]
async fn create_get_list_delete_and_the_conflict_rule() {
    let env = start(|c| c.with_create_status(202)).await;
    let client = env.client(None);
    let reports = client.billing_reports();
    let created_report = reports.create(may()).level(ReportLevel::Customer).send().await.unwrap();
    assert_eq!(created_report.report_type, Some(ReportLevel::Customer));
    let pending = reports.get(&created_report.id).await.unwrap();
    assert_eq!(
        (pending.status, pending.temp_download_url),
        (ReportStatus::InProgress, None)
    );
    let done = reports
        .wait_until_complete(&created_report.id, POLL, deadline())
        .await
        .unwrap();
    assert!(done.temp_download_url.is_some() && done.created_by.is_some());
    assert_eq!(done.billing_end_date.to_string(), "2024-05-31");

    // A completed report of the period and type: 409 until it is deleted.
    let err = reports
        .create(may())
        .level(ReportLevel::Customer)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    assert!(err.tracking_id().is_some_and(|t| t.starts_with("WBILL_")), "{err:?}");
    assert!(err.to_string().contains("delete it to regenerate"), "{err}");
    // Another type of the same period is no conflict.
    reports.create(may()).send().await.unwrap();

    let listed = reports
        .list()
        .period(may())
        .level(ReportLevel::Customer)
        .all()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, created_report.id);
    reports.delete(&created_report.id).await.unwrap();
    assert!(reports.get(&created_report.id).await.unwrap_err().is_not_found());
    assert!(reports.delete(&created_report.id).await.unwrap_err().is_not_found());
    // The deleted report's download URL is dead.
    let err = reports.download(&done).await.unwrap_err();
    assert_eq!(err.status(), Some(404), "{err:?}");
    assert!(matches!(err, Error::Download { .. }));
    reports.create(may()).level(ReportLevel::Customer).send().await.unwrap();
    assert_eq!(created(&env, &env.partner_id(), ReportLevel::Customer), 2);

    // fetch_usage with regenerate: the completed report is deleted and made again.
    let first = fetch(&client, ReportLevel::Partner, None).await;
    let regenerated = client
        .fetch_usage(may(), ReportLevel::Partner, None)
        .regenerate(true)
        .poll_interval(POLL)
        .send()
        .await
        .unwrap();
    assert_eq!(regenerated.source, UsageSource::Regenerated);
    assert_ne!(regenerated.report.id, first.report.id);
    assert_eq!(csv_of(&regenerated.usage), csv_of(&first.usage));
    assert_eq!(created(&env, &env.partner_id(), ReportLevel::Partner), 2);
    assert!(reports.get(&first.report.id).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn bad_periods_are_refused_with_the_webex_body() {
    let env = start(|c| c).await;
    let client = env.client(None);
    for period in [
        Period::from_dates("2024-06-01", "2024-06-15").unwrap(),
        Period::from_dates("2019-06-14", "2019-06-30").unwrap(),
    ] {
        let err = client.billing_reports().create(period).send().await.unwrap_err();
        let Error::Api(api) = &err else { panic!("{err:?}") };
        assert_eq!(api.status, 400);
        assert!(api.body.is_some() && !api.message.is_empty(), "{api:?}");
    }
    let wrong = Client::builder()
        .base_url(env.sandbox.webex_base_url())
        .token("not-a-token")
        .build()
        .unwrap();
    let err = wrong.billing_reports().list().send().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(err.tracking_id().is_some());
}

#[tokio::test]
async fn lists_page_through_next_links() {
    let env = start(|c| c).await;
    let client = env.client(None);
    let reports = client.billing_reports();
    for day in 1..=5 {
        let date = format!("2024-05-{day:02}");
        let period = Period::from_dates(&date, &date).unwrap();
        reports.create(period).send().await.unwrap();
    }
    let first = reports
        .list()
        .max(2)
        .sort_by(SortBy::BillingStartDate)
        .send()
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let next = first.next.clone().unwrap();
    assert!(next.query().unwrap_or("").contains("cursor="), "{next}");
    let second = client.next_page(&first).await.unwrap().unwrap();
    assert_eq!(second.items.len(), 2);
    let all = client.all_pages(first).await.unwrap();
    let starts: Vec<String> = all.iter().map(|r| r.billing_start_date.to_string()).collect();
    assert_eq!(
        starts,
        ["2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04", "2024-05-05"]
    );
    let in_progress = reports
        .list()
        .status(ReportStatus::InProgress)
        .max(100)
        .all()
        .await
        .unwrap();
    assert!(in_progress.len() <= 5);
    let one_day = reports
        .list()
        .billing_start_date(parse_date("2024-05-03").unwrap())
        .billing_end_date(parse_date("2024-05-03").unwrap())
        .level(ReportLevel::Partner)
        .all()
        .await
        .unwrap();
    assert_eq!(one_day.len(), 1);
}

#[tokio::test]
async fn throttling_and_unavailability_are_retried_without_duplicates() {
    let env = start_with(Faults {
        every_429: Some(5),
        retry_after_secs: 1,
        percent_5xx: 20,
        seed: 11,
        ..Faults::default()
    })
    .await;
    let client = env.client(None);
    let fetched = fetch(&client, ReportLevel::Customer, None).await;
    assert_eq!(
        csv_of(&fetched.usage),
        env.engine_csv(ReportLevel::Customer, Scope::Partner)
    );
    let stats = env.sandbox.stats();
    assert!(stats.faults_429 >= 1 && stats.faults_5xx >= 1, "{stats:?}");
    assert_eq!(created(&env, &env.partner_id(), ReportLevel::Customer), 1);
}

#[tokio::test]
async fn a_lost_create_response_does_not_create_twice() {
    let env = start_with(Faults {
        lost_create: Some(1),
        ..Faults::default()
    })
    .await;
    let client = env.client(None);
    let fetched = fetch(&client, ReportLevel::User, None).await;
    assert_eq!(fetched.source, UsageSource::Created);
    let stats = env.sandbox.stats();
    assert_eq!((stats.lost_creates, stats.reports_created), (1, 1), "{stats:?}");
    assert_eq!(
        csv_of(&fetched.usage),
        env.engine_csv(ReportLevel::User, Scope::Partner)
    );

    // The same through a plain create.
    let env = start_with(Faults {
        lost_create: Some(1),
        ..Faults::default()
    })
    .await;
    let created_report = env.client(None).billing_reports().create(may()).send().await.unwrap();
    let listed = env.client(None).billing_reports().list().all().await.unwrap();
    assert_eq!(listed.iter().map(|r| &r.id).collect::<Vec<_>>(), [&created_report.id]);
    assert_eq!(env.sandbox.stats().reports_created, 1);
}

#[tokio::test]
async fn expired_tampered_and_forced_downloads_are_refused() {
    let env = start(|c| c.with_download_ttl(Duration::ZERO)).await;
    let client = env.client(None);
    let reports = client.billing_reports();
    let id = reports.create(may()).send().await.unwrap().id;
    let report = reports.wait_until_complete(&id, POLL, deadline()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let err = reports.download(&report).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "report download refused: http 403: the download URL has expired"
    );

    let env = start(|c| c).await;
    let client = env.client(None);
    let reports = client.billing_reports();
    let id = reports.create(may()).send().await.unwrap().id;
    let mut report = reports.wait_until_complete(&id, POLL, deadline()).await.unwrap();
    let url = report.temp_download_url.clone().unwrap();
    assert!(url.as_url().as_str().starts_with(&env.sandbox.download_base_url()));
    let mut tampered = url.as_url().clone();
    let pairs: Vec<(String, String)> = tampered
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "Signature" {
                format!("x{v}")
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    tampered.query_pairs_mut().clear().extend_pairs(pairs);
    report.temp_download_url = Some(DownloadUrl::parse(tampered.as_str()).unwrap());
    let err = reports.download(&report).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("Signature="), "{err:?}");

    // The client never sends the token there; forcing it is refused and counted.
    report.temp_download_url = Some(url.clone());
    let usage = reports.download(&report).await.unwrap();
    assert_eq!(csv_of(&usage), env.engine_csv(ReportLevel::Partner, Scope::Partner));
    assert_eq!(env.sandbox.stats().download_auth_refusals, 0);
    let token = env.sandbox.tokens()[0].token.clone();
    let forced = reqwest::Client::new()
        .get(url.as_url().clone())
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(forced.status().as_u16(), 400);
    assert!(
        forced
            .text()
            .await
            .unwrap()
            .contains("credentials must not be sent to the download host")
    );
    assert_eq!(env.sandbox.stats().download_auth_refusals, 1);
}

#[tokio::test]
async fn sub_partners_see_only_their_own() {
    let env = start(|c| c).await;
    let (a, b) = (env.sub_partner_id(0), env.sub_partner_id(2));
    let partner = env.client(None);
    let reseller = env.client(Some(&a));

    // Another sub-partner's report: 403 to create, 404 to read.
    let err = reseller
        .billing_reports()
        .create(may())
        .sub_partner(&b)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err:?}");
    let partners_report = partner.billing_reports().create(may()).send().await.unwrap();
    let err = reseller.billing_reports().get(&partners_report.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(reseller.billing_reports().list().all().await.unwrap().is_empty());
    let err = reseller.sub_partners().send().await.unwrap_err();
    assert_eq!(err.status(), Some(403));

    // Its own report, with or without its own id.
    let own = reseller
        .billing_reports()
        .create(may())
        .sub_partner(&a)
        .send()
        .await
        .unwrap();
    let listed = reseller.billing_reports().list().all().await.unwrap();
    assert_eq!(listed.iter().map(|r| &r.id).collect::<Vec<_>>(), [&own.id]);
    let by_partner = partner.billing_reports().list().sub_partner(&a).all().await.unwrap();
    assert_eq!(by_partner.iter().map(|r| &r.id).collect::<Vec<_>>(), [&own.id]);
    let fetched = fetch(&reseller, ReportLevel::Partner, None).await;
    assert!(
        matches!(fetched.source, UsageSource::Awaited | UsageSource::Reused),
        "{:?}",
        fetched.source
    );
    assert_eq!(
        csv_of(&fetched.usage),
        env.engine_csv(ReportLevel::Partner, Scope::SubPartner(a.clone()))
    );
}

#[tokio::test]
async fn sub_partners_and_customers() {
    for key in [SubPartnersKey::Items, SubPartnersKey::SubPartners] {
        let env = start(|c| c.with_sub_partners_key(key)).await;
        let client = env.client(None);
        let subs = client.sub_partners().max(1).all().await.unwrap();
        let ids: Vec<String> = subs.iter().map(|s| s.org_id.clone()).collect();
        let expected: Vec<String> = (0..3).map(|i| env.sub_partner_id(i)).collect();
        assert_eq!(ids, expected, "{key:?}");
        let first = client.sub_partners().max(2).send().await.unwrap();
        assert!(first.has_next() && first.items.len() == 2);
    }

    let env = start(|c| c).await;
    let client = env.client(None);
    let own = client.customers().list().max(2).all().await.unwrap();
    assert!(!own.is_empty());
    let one = client.customers().get(&own[0].id).await.unwrap();
    assert_eq!(one, own[0]);
    let external = own[0].external_id.clone().unwrap();
    let found = client.customers().list().external_id(&external).all().await.unwrap();
    assert_eq!(found.len(), 1);
    let ids = client.customers().external_ids(None).await.unwrap();
    assert_eq!(ids.len(), own.len());

    // The customers of a sub-partner match the org ids of its report.
    let sub = env.sub_partner_id(1);
    let theirs = client.customers().external_ids(Some(&sub)).await.unwrap();
    let report = fetch(&client, ReportLevel::Customer, Some(&sub)).await;
    for row in report.usage.rows() {
        assert_eq!(
            theirs.get(row.customer_org_id).map(String::as_str),
            Some(row.customer_external_id)
        );
    }
    // base64url of ciscospark://us/CUSTOMER/no-such-org: well formed, unknown.
    let err = client
        .customers()
        .get("Y2lzY29zcGFyazovL3VzL0NVU1RPTUVSL25vLXN1Y2gtb3Jn")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let err = client.customers().get("not-an-id").await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err:?}");
}

#[tokio::test]
async fn an_unknown_sub_partner_is_refused() {
    let env = start(|c| c).await;
    let err = env
        .client(None)
        .fetch_usage(may(), ReportLevel::Partner, Some("no-such-sub-partner"))
        .poll_interval(POLL)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err:?}");
}

#[tokio::test]
async fn a_failed_report_is_reported_then_replaced() {
    let env = start_with(Faults {
        failed_create: Some(1),
        ..Faults::default()
    })
    .await;
    let client = env.client(None);
    let reports = client.billing_reports();
    let first = reports.create(may()).send().await.unwrap();
    let err = reports
        .wait_until_complete(&first.id, POLL, deadline())
        .await
        .unwrap_err();
    match &err {
        Error::ReportFailed { report_id, errors } => {
            assert_eq!(report_id, &first.id);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].code, Some(1000));
            assert!(
                errors[0]
                    .description
                    .as_deref()
                    .unwrap_or("")
                    .contains("could not be generated")
            );
        }
        other => panic!("expected ReportFailed, got {other:?}"),
    }
    assert!(err.to_string().contains("failed"), "{err}");
    let failed = reports.get(&first.id).await.unwrap();
    assert_eq!(failed.status, ReportStatus::Failed);
    assert!(failed.temp_download_url.is_none());
    assert!(matches!(
        reports.download(&failed).await,
        Err(Error::NoDownloadUrl { .. })
    ));

    // A FAILED report does not block a new one for the same period and type: fetch_usage deletes
    // it and creates a fresh one, which completes.
    let fetched = fetch(&client, ReportLevel::Partner, None).await;
    assert_eq!(fetched.source, UsageSource::Created);
    assert_ne!(fetched.report.id, first.id);
    assert_eq!(
        csv_of(&fetched.usage),
        env.engine_csv(ReportLevel::Partner, Scope::Partner)
    );
    let listed = reports.list().all().await.unwrap();
    assert_eq!(listed.iter().map(|r| &r.id).collect::<Vec<_>>(), [&fetched.report.id]);
    let stats = env.sandbox.stats();
    assert_eq!((stats.failed_creates, stats.reports_created), (1, 2), "{stats:?}");
}

#[tokio::test]
async fn fetch_usage_reports_a_fresh_failure() {
    let env = start_with(Faults {
        failed_create: Some(1),
        ..Faults::default()
    })
    .await;
    let client = env.client(None);
    let err = client
        .fetch_usage(may(), ReportLevel::User, None)
        .poll_interval(POLL)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ReportFailed { .. }), "{err:?}");
    // Asked again, the failed report is replaced.
    let fetched = fetch(&client, ReportLevel::User, None).await;
    assert_eq!(fetched.source, UsageSource::Created);
    assert_eq!(created(&env, &env.partner_id(), ReportLevel::User), 2);
    assert_eq!(client.billing_reports().list().all().await.unwrap().len(), 1);
}
