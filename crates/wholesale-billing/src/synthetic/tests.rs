//! Tests of the generator: determinism, strict loading, realism of the month.
use std::collections::{BTreeMap, HashMap, HashSet};

use super::*;
use crate::catalog::CatalogOverride;
use crate::ledger::{AssignmentLedger, LoadMode};
use crate::report::{ReportLevel, ReportOptions, Scope};

fn config(seed: u64, customers: u32, subscribers: u64, sub_partners: u16) -> GeneratorConfig {
    GeneratorConfig {
        seed,
        customers,
        subscribers,
        sub_partners,
        month: Period::month(2024, 5).unwrap(),
        catalog: Catalog::default(),
        order: Default::default(),
    }
}

fn run(config: &GeneratorConfig) -> (Vec<u8>, GeneratedMonth) {
    let mut csv = Vec::new();
    let month = generate(config, &mut csv, &mut |_| {}).unwrap();
    (csv, month)
}

#[test]
fn same_config_same_bytes_other_seed_other_bytes() {
    let a = run(&config(11, 30, 500, 3));
    let b = run(&config(11, 30, 500, 3));
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
    let c = run(&config(12, 30, 500, 3));
    assert_ne!(a.0, c.0);
    assert_ne!(a.1.organisation, c.1.organisation);
}

#[test]
fn a_month_loads_strictly_and_looks_real() {
    let cfg = config(2024, 100, 2_000, 4);
    let mut calls = Vec::new();
    let mut csv = Vec::new();
    let month = generate(&cfg, &mut csv, &mut |done| calls.push(done)).unwrap();
    assert_eq!(calls.last(), Some(&2_000));
    assert!(calls.windows(2).all(|w| w[0] < w[1]));
    assert_eq!((month.subscribers, month.customers), (2_000, 100));
    assert_eq!(month.users + month.workspaces, 2_000);
    assert!(month.workspaces > 150 && month.workspaces < 450, "{}", month.workspaces);

    let (ledger, diagnostics) =
        AssignmentLedger::from_csv(csv.as_slice(), month.organisation.clone(), LoadMode::Strict).unwrap();
    assert!(diagnostics.issues.is_empty(), "{:?}", diagnostics.issues.first());
    assert_eq!(diagnostics.rows_read, month.events);
    assert_eq!(diagnostics.rows_accepted, month.events);
    assert_eq!(ledger.subscriber_count(), 2_000);
    assert_eq!(ledger.customer_count(), 100);
    let per_mille = month.events * 1000 / 2_000;
    assert!((1_050..1_200).contains(&per_mille), "{per_mille}");

    let text = String::from_utf8(csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "event_id,occurred_at,action,subscriber_id,customer_org_id,customer_external_id,sub_partner_org_id,\
             subscriber_type,user_id,workspace_id,package,location_id,license_id"
        )
    );
    let month_start = cfg.month.start_instant();
    let month_end = cfg.month.end_exclusive();
    let (mut zulu, mut offset, mut millis, mut removes, mut mid_hour_changes, mut before, mut during) =
        (0, 0, 0, 0, 0, 0, 0);
    let mut current: HashMap<&str, &str> = HashMap::new();
    let mut per_customer: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut owners: HashSet<&str> = HashSet::new();
    let mut first_seen: HashSet<&str> = HashSet::new();
    let mut licenses: HashMap<(&str, &str), HashSet<&str>> = HashMap::new();
    let mut blank_licenses = 0;
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 13, "{line}");
        let at: Timestamp = f[1].parse().unwrap();
        assert!(at < month_end, "{line}");
        let t = f[1];
        if t.ends_with('Z') {
            zulu += 1;
        } else {
            let off = &t[t.len() - 6..];
            assert!(off.starts_with('+') || off.starts_with('-'), "{line}");
            assert_eq!(&off[3..4], ":");
            offset += 1;
        }
        if t.contains('.') {
            millis += 1;
        }
        assert!(f[0].starts_with("ev-") && f[0].len() == 13, "{line}");
        assert_eq!(f[3].len(), 36);
        match f[2] {
            "REMOVE" => {
                removes += 1;
                assert!(f[4..].iter().all(|c| c.is_empty()), "{line}");
            }
            "ASSIGN" => {
                if first_seen.insert(f[3]) {
                    if at < month_start {
                        before += 1;
                    } else {
                        during += 1;
                    }
                }
                assert_eq!(f[4].len(), 36);
                assert!(f[5].starts_with("CUST-"));
                owners.insert(f[6]);
                match f[7] {
                    "USER" => assert!(f[8].len() == 36 && f[9].is_empty()),
                    "WORKSPACE" => assert!(f[8].is_empty() && f[9].len() == 36),
                    other => panic!("type {other}"),
                }
                assert_eq!(f[11].len(), 36);
                assert!(matches!(f[12].len(), 0 | 36), "{line}");
                if f[12].is_empty() {
                    blank_licenses += 1;
                } else {
                    licenses.entry((f[4], f[10])).or_default().insert(f[12]);
                }
                if let Some(previous) = current.insert(f[3], f[10])
                    && previous != f[10]
                    && at.as_micros() % MICROS_PER_HOUR != 0
                {
                    mid_hour_changes += 1;
                }
                per_customer.entry(f[4]).or_default().insert(f[3]);
            }
            other => panic!("action {other}"),
        }
    }
    assert!(zulu > 0 && offset > 0 && millis > 0, "{zulu} {offset} {millis}");
    let share = offset * 1000 / (zulu + offset);
    assert!((200..300).contains(&share), "{share}");
    assert!(removes > 0);
    assert!(mid_hour_changes > 0);
    // One license per customer and package, shared by its subscribers; a few blank ones.
    assert!(
        licenses.values().all(|set| set.len() == 1),
        "a customer's package has one license"
    );
    assert!(licenses.len() < first_seen.len(), "licenses are shared");
    assert!(blank_licenses > 0);
    assert!(before > during && during > 0, "{before} {during}");
    assert!(owners.contains("") && owners.len() > 2, "{owners:?}");

    let billing_starts = month
        .organisation
        .sub_partners
        .iter()
        .filter_map(|sp| sp.billing_start)
        .collect::<Vec<_>>();
    assert_eq!(billing_starts.len(), 2);
    assert!(billing_starts.iter().all(|&b| b > month_start && b < month_end));

    assert_eq!(per_customer.len(), 100);
    let small = per_customer.values().filter(|s| s.len() < 20).count();
    assert!(small > 50, "{small}");
    assert!(per_customer.values().any(|s| s.len() >= 50));
    assert_eq!(per_customer.values().map(HashSet::len).sum::<usize>(), 2_000);

    let toml = month.organisation.to_toml_string().unwrap();
    assert_eq!(Organisation::from_toml_str(&toml).unwrap(), month.organisation);
    assert!(month.organisation.partner.subscription_id.starts_with("Sub"));
    assert_eq!(month.organisation.partner.subscription_id.len(), 10);
}

#[test]
fn without_sub_partners_every_customer_is_the_partners() {
    let (csv, month) = run(&config(3, 20, 200, 0));
    assert!(month.organisation.sub_partners.is_empty());
    let text = String::from_utf8(csv).unwrap();
    assert!(
        text.lines()
            .skip(1)
            .filter(|l| l.contains(",ASSIGN,"))
            .all(|l| l.split(',').nth(6) == Some(""))
    );
    let (ledger, _) = AssignmentLedger::from_csv(text.as_bytes(), month.organisation, LoadMode::Strict).unwrap();
    assert_eq!(ledger.subscriber_count(), 200);
}

#[test]
fn tiny_and_exact_fills() {
    for (customers, subscribers) in [(1, 1), (5, 5), (1, 300), (7, 8)] {
        let (csv, month) = run(&config(9, customers, subscribers, 1));
        let (ledger, _) = AssignmentLedger::from_csv(csv.as_slice(), month.organisation, LoadMode::Strict).unwrap();
        assert_eq!(ledger.subscriber_count() as u64, subscribers);
        assert_eq!(ledger.customer_count(), customers as usize);
    }
}

#[test]
fn sizes_add_up_exactly() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (customers, subscribers) in [(1u32, 1u64), (3, 3), (10, 11), (1_000, 20_000), (50, 1_000_003)] {
        let sizes = customer_sizes(&mut rng, customers, subscribers);
        assert_eq!(sizes.len(), customers as usize);
        assert!(sizes.iter().all(|&s| s >= 1));
        assert_eq!(sizes.iter().sum::<u64>(), subscribers);
    }
}

#[test]
fn timestamps_are_written_in_local_time() {
    let at = Timestamp::parse_rfc3339("2024-05-31T22:30:00.250Z")
        .unwrap()
        .as_micros();
    let mut line = Vec::new();
    push_timestamp(&mut line, at, Some(330));
    assert_eq!(line, b"2024-06-01T04:00:00.250+05:30");
    line.clear();
    push_timestamp(&mut line, at, Some(-300));
    assert_eq!(line, b"2024-05-31T17:30:00.250-05:00");
    line.clear();
    push_timestamp(&mut line, at, None);
    assert_eq!(line, b"2024-05-31T22:30:00.250Z");
    for text in ["2024-06-01T04:00:00.250+05:30", "2024-05-31T17:30:00.250-05:00"] {
        assert_eq!(Timestamp::parse_rfc3339(text).unwrap().as_micros(), at);
    }
    line.clear();
    push_number(&mut line, 12_345_678_901, 10);
    assert_eq!(line, b"12345678901");
}

#[test]
fn uuids_look_like_uuids() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let id = uuid_string(&mut rng);
    let parts: Vec<&str> = id.split('-').collect();
    assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
    assert!(
        id.bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert!(parts[2].starts_with('4'));
}

#[test]
fn validate_refuses_bad_configs() {
    assert!(config(1, 1, 1, 0).validate().is_ok());
    let err = config(1, 0, 10, 0).validate().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid generator settings: the generator needs at least one customer"
    );
    assert!(matches!(
        config(1, 10, 9, 0).validate(),
        Err(Error::TooFewSubscribers {
            subscribers: 9,
            customers: 10
        })
    ));
    assert!(config(1, 1, MAX_SUBSCRIBERS + 1, 0).validate().is_err());
    assert!(config(1, 1, 10, u16::MAX).validate().is_err());
    for (start, end) in [
        ("2024-05-02", "2024-05-31"),
        ("2024-05-01", "2024-05-30"),
        ("2024-05-01", "2024-06-30"),
        ("2024-04-30", "2024-05-31"),
    ] {
        let mut c = config(1, 1, 10, 0);
        c.month = Period::from_dates(start, end).unwrap();
        let err = c.validate().unwrap_err();
        assert!(matches!(err, Error::NotAWholeMonth { .. }), "{err}");
        assert!(err.to_string().contains("whole calendar month"), "{err}");
    }
    let mut c = config(1, 1, 10, 0);
    c.month = Period::month(1970, 1).unwrap();
    assert!(matches!(c.validate(), Err(Error::YearOutOfRange { year: 1970, .. })));
    let mut sink = Vec::new();
    assert!(generate(&config(1, 0, 0, 0), &mut sink, &mut |_| {}).is_err());
    assert!(sink.is_empty());
}

/// The SKUs of every USER report of a generated month (the subscription, the partner's and each
/// sub-partner's) with their user-days, and the subscribers of each package in the events.
fn skus_and_packages(
    month: &GeneratedMonth,
    csv: &[u8],
) -> (BTreeMap<String, crate::Quantity>, HashMap<String, usize>) {
    let (ledger, _) = AssignmentLedger::from_csv(csv, month.organisation.clone(), LoadMode::Strict).unwrap();
    let may = Period::month(2024, 5).unwrap();
    let mut scopes = vec![Scope::Subscription, Scope::Partner];
    scopes.extend(
        month
            .organisation
            .sub_partners
            .iter()
            .map(|sp| Scope::SubPartner(sp.org_id.clone())),
    );
    let mut skus = BTreeMap::new();
    for scope in scopes {
        let report = ledger
            .usage_report(may, &ReportOptions::new(ReportLevel::User).scope(scope))
            .unwrap();
        for (sku, quantity) in report.quantity_by_sku().unwrap() {
            skus.entry(sku.to_owned()).or_insert(quantity);
        }
    }
    let mut first_package: HashMap<&str, &str> = HashMap::new();
    let text = std::str::from_utf8(csv).unwrap();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[2] == "ASSIGN" {
            first_package.entry(f[3]).or_insert(f[10]);
        }
    }
    let mut packages = HashMap::new();
    for package in first_package.values() {
        *packages.entry((*package).to_owned()).or_insert(0) += 1;
    }
    (skus, packages)
}

fn with_catalog(mut config: GeneratorConfig, overrides: &[(&str, &str)]) -> GeneratorConfig {
    let overrides: BTreeMap<String, CatalogOverride> = overrides
        .iter()
        .map(|(package, sku)| {
            let o = CatalogOverride {
                sku: Some((*sku).to_owned()),
                ..Default::default()
            };
            ((*package).to_owned(), o)
        })
        .collect();
    config.catalog = Catalog::with_overrides(&overrides).unwrap();
    config
}

#[test]
fn without_overrides_no_report_has_a_placeholder_sku() {
    let cfg = config(2024, 200, 2_000, 2);
    assert_eq!(cfg.packages_left_out(), ["webex_suite", "cx_essentials"]);
    let (csv, month) = run(&cfg);
    let (skus, packages) = skus_and_packages(&month, &csv);
    assert_eq!(
        skus.keys().map(String::as_str).collect::<Vec<_>>(),
        ["A-W-CA-CALL-U", "A-W-WXC-CALL-U", "A-W-WXE-CALL-U", "A-W-WXM-MEET-U"]
    );
    assert!(
        month
            .organisation
            .catalog
            .entries()
            .iter()
            .filter(|e| e.placeholder)
            .all(|e| !skus.contains_key(&e.sku))
    );
    assert!(!packages.contains_key("webex_suite") && !packages.contains_key("cx_essentials"));
    // The remaining user packages keep their proportions: 450 : 250 : 100 of 800.
    // Workspaces hold webex_calling too (~10%): count users' packages only where it matters.
    let share = |package: &str| packages[package] as u64 * 1000 / month.users;
    assert!((250..370).contains(&share("webex_voice")), "{}", share("webex_voice"));
    assert!(
        (80..170).contains(&share("webex_meetings")),
        "{}",
        share("webex_meetings")
    );
    assert!(share("webex_calling") > 520, "{}", share("webex_calling"));
    // The organisation file has no catalog section: nothing was configured.
    assert!(!month.organisation.to_toml_string().unwrap().contains("[catalog"));
}

#[test]
fn a_configured_package_is_generated_under_its_sku_and_the_org_file_carries_it() {
    let cfg = with_catalog(config(2024, 200, 2_000, 2), &[("webex_suite", "A-W-SUITE-TEST")]);
    assert_eq!(cfg.packages_left_out(), ["cx_essentials"]);
    let (csv, month) = run(&cfg);
    let (skus, packages) = skus_and_packages(&month, &csv);
    assert!(skus["A-W-SUITE-TEST"] > crate::Quantity::ZERO, "{skus:?}");
    assert!(!skus.keys().any(|sku| sku.starts_with("PLACEHOLDER")), "{skus:?}");
    assert!(!packages.contains_key("cx_essentials"));
    let share = packages["webex_suite"] as u64 * 1000 / month.users;
    assert!(
        (110..210).contains(&share),
        "webex_suite: {share} per mille of the users"
    );

    let toml = month.organisation.to_toml_string().unwrap();
    assert!(
        toml.contains("[catalog.webex_suite]\nsku = \"A-W-SUITE-TEST\""),
        "{toml}"
    );
    let again = Organisation::from_toml_str(&toml).unwrap();
    assert_eq!(again, month.organisation);
    assert_eq!(again.catalog.get("webex_suite").unwrap().sku, "A-W-SUITE-TEST");

    // Same config, same bytes; without the override, other bytes.
    assert_eq!(run(&cfg).0, csv);
    assert_ne!(run(&config(2024, 200, 2_000, 2)).0, csv);
}

#[test]
fn with_every_package_configured_all_six_are_generated() {
    let cfg = with_catalog(
        config(5, 100, 3_000, 1),
        &[("webex_suite", "A-W-SUITE-TEST"), ("cx_essentials", "A-W-CX-TEST")],
    );
    assert!(cfg.packages_left_out().is_empty());
    let (csv, month) = run(&cfg);
    let (skus, packages) = skus_and_packages(&month, &csv);
    assert_eq!(skus.len(), 6, "{skus:?}");
    assert_eq!(packages.len(), 6, "{packages:?}");
}

#[test]
fn a_package_without_an_alternative_is_not_changed() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let only = [("webex_calling", 10)];
    assert_eq!(draw_package(&mut rng, &only, None), Some("webex_calling"));
    assert_eq!(draw_package(&mut rng, &only, Some("webex_calling")), None);
    assert_eq!(draw_package(&mut rng, &[], None), None);
}

/// The rows of an events CSV without their ids, sorted; and each row's instant, in file order.
fn rows_and_instants(csv: &[u8]) -> (Vec<String>, Vec<i64>) {
    let text = String::from_utf8(csv.to_vec()).unwrap();
    let mut rows = Vec::new();
    let mut instants = Vec::new();
    for (i, line) in text.lines().skip(1).enumerate() {
        let (id, rest) = line.split_once(',').unwrap();
        assert_eq!(id, format!("ev-{:010}", i + 1), "ids number the rows in order");
        let at = rest.split(',').next().unwrap();
        instants.push(Timestamp::parse_rfc3339(at).unwrap().as_micros());
        rows.push(rest.to_owned());
    }
    rows.sort();
    (rows, instants)
}

#[test]
fn time_order_and_customer_order_hold_the_same_month() {
    let mut by_time = config(77, 40, 1_500, 3);
    by_time.order = EventOrder::Time;
    let mut grouped = by_time.clone();
    grouped.order = EventOrder::Customer;
    let (time_csv, time_month) = run(&by_time);
    let (grouped_csv, grouped_month) = run(&grouped);
    assert_eq!(time_month, grouped_month);
    let (time_rows, time_instants) = rows_and_instants(&time_csv);
    let (grouped_rows, grouped_instants) = rows_and_instants(&grouped_csv);
    assert_eq!(time_rows, grouped_rows, "the same rows, ids apart");
    assert!(time_instants.windows(2).all(|w| w[0] <= w[1]), "rows in time order");
    assert!(
        grouped_instants.windows(2).any(|w| w[0] > w[1]),
        "grouped rows are not in time order"
    );

    // Runs of a few rows in a spill give the same bytes as one run in memory.
    let mut spill = std::io::Cursor::new(Vec::new());
    let mut out = Emitter {
        out: BufWriter::new(Vec::new()),
        line: Vec::new(),
        events: 0,
        sorter: Some(TimeSorter::new(&mut spill, 300)),
        at: 0,
    };
    let mut from_runs = HEADER.to_vec();
    for (at, row) in time_instants.iter().zip(time_csv.split(|&b| b == b'\n').skip(1)) {
        let rest = &row[row.iter().position(|&b| b == b',').unwrap()..];
        out.at = *at;
        out.line = [rest, b"\n"].concat();
        out.flush_line().unwrap();
    }
    out.finish().unwrap();
    from_runs.extend(out.out.into_inner().unwrap());
    assert!(spill.get_ref().len() > time_csv.len() / 2, "the runs went to the spill");
    assert_eq!(from_runs, time_csv);

    // Both load into the same ledger: the same USER report.
    let report = |csv: &[u8], month: &GeneratedMonth| {
        let (ledger, diagnostics) =
            AssignmentLedger::from_csv(csv, month.organisation.clone(), LoadMode::Strict).unwrap();
        assert!(diagnostics.issues.is_empty());
        let options = ReportOptions::new(ReportLevel::User).scope(Scope::Subscription);
        let report = ledger.usage_report(Period::month(2024, 5).unwrap(), &options).unwrap();
        let mut csv = Vec::new();
        report.write_csv(&mut csv).unwrap();
        csv
    };
    assert_eq!(report(&time_csv, &time_month), report(&grouped_csv, &grouped_month));
}
