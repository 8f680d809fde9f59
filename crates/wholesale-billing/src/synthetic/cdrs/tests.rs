//! Tests of the generated calls: determinism, time order, realism, re-delivery, formats, memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};

use super::*;
use crate::catalog::Catalog;
use crate::ledger::LoadMode;
use crate::synthetic::{GeneratorConfig, generate};
use crate::time::Timestamp;

fn month() -> Period {
    Period::month(2024, 5).unwrap()
}

fn ledger(seed: u64, customers: u32, subscribers: u64) -> AssignmentLedger {
    let config = GeneratorConfig {
        seed,
        customers,
        subscribers,
        sub_partners: 2,
        month: month(),
        catalog: Catalog::default(),
        order: Default::default(),
    };
    let mut events = Vec::new();
    let generated = generate(&config, &mut events, &mut |_| {}).unwrap();
    AssignmentLedger::from_csv(events.as_slice(), generated.organisation, LoadMode::Strict)
        .unwrap()
        .0
}

fn cdrs(ledger: &AssignmentLedger, config: &CdrConfig) -> (Vec<u8>, CdrMonth) {
    let mut out = Vec::new();
    let month = generate_cdrs(ledger, config, &mut out, &mut |_| {}).unwrap();
    (out, month)
}

/// The records of a CSV as maps of column name to value, in file order.
fn rows(csv: &[u8]) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv);
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header, CDR_COLUMNS);
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.len(), 85);
            header
                .iter()
                .zip(r.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.clone(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn start(row: &HashMap<String, String>) -> Timestamp {
    Timestamp::parse_rfc3339(&row["Start time"]).unwrap()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let ledger = ledger(3, 10, 120);
    let mut config = CdrConfig::new(5, month());
    config.calls_per_subscriber = 20;
    let a = cdrs(&ledger, &config);
    let b = cdrs(&ledger, &config);
    assert_eq!(a.0, b.0);
    assert_eq!(a.1, b.1);
    config.seed = 6;
    let c = cdrs(&ledger, &config);
    assert_ne!(a.0, c.0);
}

#[test]
fn a_month_of_calls_is_in_time_order_and_looks_real() {
    let ledger = ledger(11, 40, 600);
    let mut config = CdrConfig::new(11, month());
    config.calls_per_subscriber = 60;
    let (csv, summary) = cdrs(&ledger, &config);
    let rows = rows(&csv);
    assert_eq!(rows.len() as u64, summary.records);
    let distinct = summary.records - summary.duplicates;
    assert!(distinct > 15_000, "{distinct} records");
    // ~450 bytes a row, like the real report.
    let per_row = csv.len() as u64 / summary.records;
    assert!((380..=560).contains(&per_row), "{per_row} bytes a row");

    // First appearances are in time order; every repeat is a byte-identical earlier record
    // written later.
    let mut seen: HashMap<&str, &HashMap<String, String>> = HashMap::new();
    let mut last = Timestamp::EPOCH;
    let mut repeats = 0;
    for row in &rows {
        let id = row["Report ID"].as_str();
        if let Some(first) = seen.get(id) {
            assert_eq!(*first, row);
            assert!(start(row) <= last);
            repeats += 1;
            continue;
        }
        seen.insert(id, row);
        let at = start(row);
        assert!(at >= last, "{at:?} after {last:?}");
        last = at;
        assert!(at >= month().start_instant() && at < month().end_exclusive());
    }
    assert_eq!(repeats, summary.duplicates);
    // About 0.3% come back.
    assert!(
        repeats * 1000 >= distinct && repeats * 1000 <= distinct * 6,
        "{repeats} of {distinct}"
    );

    // Every record's organisation is a customer, and its user held a package then.
    let mut held: HashMap<&str, Vec<(Timestamp, Option<Timestamp>)>> = HashMap::new();
    let mut person: HashMap<&str, &str> = HashMap::new();
    for (index, key) in ledger.keys.iter().enumerate() {
        let user = [key.user_id, key.workspace_id, key.subscriber]
            .into_iter()
            .map(|s| ledger.strings.get(s))
            .find(|s| !s.is_empty())
            .unwrap();
        person.insert(user, ledger.strings.get(ledger.customers[key.customer as usize].org));
        for &(s, e) in ledger.key_intervals(index) {
            held.entry(user).or_default().push((
                Timestamp::from_micros(s),
                (e != i64::MAX).then_some(Timestamp::from_micros(e)),
            ));
        }
    }
    for row in seen.values() {
        let user = row["User UUID"].as_str();
        assert_eq!(person[user], row["Org UUID"]);
        let at = start(row);
        assert!(
            held[user].iter().any(|&(s, e)| s <= at && e.is_none_or(|e| at < e)),
            "{user} called at {at:?} while not assigned"
        );
    }

    // The mix of call types.
    let share = |t: CallType| summary.call_types.get(&t).copied().unwrap_or(0) * 1000 / distinct;
    let bounds = [
        (CallType::SipNational, 150, 320),
        (CallType::SipMobile, 90, 220),
        (CallType::SipInternational, 15, 70),
        (CallType::SipPremium, 1, 15),
        (CallType::SipShortcode, 1, 15),
        (CallType::SipTollfree, 20, 90),
        (CallType::SipEnterprise, 130, 330),
        (CallType::SipInbound, 250, 420),
        (CallType::SipMeeting, 5, 60),
    ];
    for (call_type, lo, hi) in bounds {
        let s = share(call_type);
        assert!((lo..=hi).contains(&s), "{call_type}: {s} per mille");
    }
    assert!(summary.call_types.contains_key(&CallType::Unknown));
    let counted: u64 = summary.call_types.values().sum();
    assert_eq!(counted, distinct);
    assert_eq!((summary.unknown_customer, summary.no_destination), (0, 0));

    // Legs, answers, durations, numbers and time zones.
    let count = |f: &dyn Fn(&HashMap<String, String>) -> bool| seen.values().filter(|r| f(r)).count() as u64;
    let terminating = count(&|r| r["Direction"] == "TERMINATING");
    assert!((300..=600).contains(&(terminating * 1000 / distinct)));
    let unanswered = count(&|r| r["Answered"] == "false");
    assert!((120..=300).contains(&(unanswered * 1000 / distinct)), "{unanswered}");
    assert!(
        seen.values()
            .filter(|r| r["Answered"] == "false")
            .all(|r| r["Duration"] == "0")
    );
    let zero_answered = count(&|r| r["Answered"] == "true" && r["Duration"] == "0");
    assert!(zero_answered > 0);
    let long = count(&|r| r["Duration"].parse::<u32>().unwrap() > 1800);
    let short = count(&|r| (1..=60).contains(&r["Duration"].parse::<u32>().unwrap()));
    assert!(long > 0 && short > 5 * long, "{short} short, {long} long");
    let zones: HashSet<&str> = seen.values().map(|r| r["Site timezone"].as_str()).collect();
    assert_eq!(zones, HashSet::from(["0", "60", "-300", "330", "600"]));
    let called: Vec<&str> = seen.values().map(|r| r["Called number"].as_str()).collect();
    assert!(called.iter().any(|n| n.starts_with("+44 ") && n.contains(' ')));
    assert!(called.iter().any(|n| n.starts_with("+1 (")));
    assert!(
        called
            .iter()
            .any(|n| n.starts_with("0") && n.bytes().all(|b| b.is_ascii_digit()))
    );
    assert!(
        called
            .iter()
            .any(|n| n.starts_with("+") && n[1..].bytes().all(|b| b.is_ascii_digit()))
    );
    // An internal call has two legs with one correlation id.
    let mut correlations: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in seen.values().filter(|r| r["Call type"] == "SIP_ENTERPRISE") {
        correlations
            .entry(r["Correlation ID"].as_str())
            .or_default()
            .push(r["Direction"].as_str());
    }
    assert!(
        correlations
            .values()
            .any(|d| d.len() == 2 && d.contains(&"ORIGINATING") && d.contains(&"TERMINATING"))
    );

    // Office hours peak, weekends are quiet (local time of the site).
    let mut by_local_hour = [0u64; 24];
    let (mut weekday, mut weekend) = (0u64, 0u64);
    for r in seen.values() {
        let offset: i64 = r["Site timezone"].parse().unwrap();
        let local = start(r).as_micros() / 1_000_000 / 60 + offset;
        let hour = (local / 60).rem_euclid(24) as usize;
        by_local_hour[hour] += 1;
        if (local / 60 / 24 + 3).rem_euclid(7) >= 5 {
            weekend += 1;
        } else {
            weekday += 1;
        }
    }
    assert!(by_local_hour[10] > 10 * by_local_hour[3], "{by_local_hour:?}");
    // May 2024: 8 weekend days, 23 weekdays.
    assert!(weekend * 23 * 4 < weekday * 8, "{weekend} weekend, {weekday} weekday");
}

#[test]
fn json_carries_the_same_records_as_csv() {
    let ledger = ledger(4, 8, 80);
    let mut config = CdrConfig::new(9, month());
    config.calls_per_subscriber = 30;
    let (csv, a) = cdrs(&ledger, &config);
    config.format = CdrFormat::Json;
    let (json, b) = cdrs(&ledger, &config);
    assert_eq!(a, b);
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let items = value["items"].as_array().unwrap();
    let rows = rows(&csv);
    assert_eq!(items.len(), rows.len());
    assert!(!rows.is_empty());
    for (item, row) in items.iter().zip(&rows) {
        let item = item.as_object().unwrap();
        assert_eq!(item.len(), row.len());
        for (key, value) in item {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                other => panic!("{other}"),
            };
            assert_eq!(row[key], text, "{key}");
        }
        assert!(item["Duration"].is_u64());
    }
    // An empty month is still a well-formed document.
    let empty = ledger_with_nobody();
    let (json, _) = cdrs(&empty, &config);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&json).unwrap()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

fn ledger_with_nobody() -> AssignmentLedger {
    let org = crate::org::Organisation::new(crate::org::Partner {
        org_id: "p".into(),
        name: "P".into(),
        subscription_id: "S".into(),
    })
    .unwrap();
    AssignmentLedger::builder(org).finish(LoadMode::Strict).unwrap().0
}

#[test]
fn planned_faults_only_when_asked() {
    let ledger = ledger(21, 10, 200);
    let mut config = CdrConfig::new(21, month());
    config.calls_per_subscriber = 80;
    let (plain, _) = cdrs(&ledger, &config);
    config.unknown_customer = true;
    config.no_destination = true;
    let (faulty, summary) = cdrs(&ledger, &config);
    assert!(summary.unknown_customer >= 5, "{summary:?}");
    assert!(summary.no_destination >= 2, "{summary:?}");
    let customers: HashSet<&str> = ledger.customers().iter().map(|c| c.org_id).collect();
    let strangers = |csv: &[u8]| {
        rows(csv)
            .iter()
            .filter(|r| !customers.contains(r["Org UUID"].as_str()))
            .map(|r| r["Report ID"].clone())
            .collect::<HashSet<_>>()
            .len() as u64
    };
    assert_eq!(strangers(&plain), 0);
    assert_eq!(strangers(&faulty), summary.unknown_customer);
    let unrated = rows(&faulty)
        .iter()
        .filter(|r| r["Called number"].starts_with("+882 16 "))
        .map(|r| r["Report ID"].clone())
        .collect::<HashSet<_>>()
        .len() as u64;
    assert_eq!(unrated, summary.no_destination);
}

/// Memory does not grow with the number of records: the records are drawn, sorted and written
/// slot by slot, and the largest slot stays the same size whether the month has a hundred
/// thousand records or a million.
#[test]
fn memory_does_not_grow_with_the_records() {
    let ledger = ledger(8, 5, 60);
    let mut config = CdrConfig::new(8, month());
    config.calls_per_subscriber = 2_000;
    let small = generate_cdrs(&ledger, &config, std::io::sink(), &mut |_| {}).unwrap();
    config.calls_per_subscriber = 25_000;
    let mut reported = 0;
    let large = generate_cdrs(&ledger, &config, std::io::sink(), &mut |n| reported = n).unwrap();
    assert!(large.records >= 1_000_000, "{}", large.records);
    assert_eq!(reported, large.records);
    assert!(small.records * 8 < large.records);
    // About 2,048 expected calls a slot, plus the second legs of internal calls.
    assert!(small.largest_batch <= 3_000, "{}", small.largest_batch);
    assert!(large.largest_batch <= 3_000, "{}", large.largest_batch);
}
