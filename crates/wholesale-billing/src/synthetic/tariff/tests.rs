//! Tests of the generated tariff: well-formed TOML with the keys of SPEC §7.8, a consistent
//! destination table, and a destination for every number a generated call dials.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};

use super::*;
use crate::catalog::Catalog;
use crate::ledger::{AssignmentLedger, LoadMode};
use crate::rating::Direction;
use crate::synthetic::{CdrConfig, GeneratorConfig, generate, generate_cdrs};
use crate::time::Period;

struct Written {
    toml: toml::Value,
    /// prefix → (destination, class, connect fee, per minute, initial, subsequent)
    table: HashMap<String, Vec<String>>,
    rows: usize,
}

fn write(tariff: &GeneratedTariff, side: Side) -> Written {
    let (mut toml, mut csv) = (Vec::new(), Vec::new());
    match side {
        Side::Price => tariff.write_price(&mut toml, &mut csv, "prefixes.csv").unwrap(),
        Side::Cost => tariff.write_cost(&mut toml, &mut csv, "cost-prefixes.csv").unwrap(),
    }
    let toml: toml::Value = toml::from_str(std::str::from_utf8(&toml).unwrap()).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "prefix",
            "destination",
            "class",
            "connect_fee",
            "per_minute",
            "initial",
            "subsequent"
        ]
    );
    let mut table = HashMap::new();
    let mut rows = 0;
    for record in reader.records() {
        let record = record.unwrap();
        rows += 1;
        let fields: Vec<String> = record.iter().skip(1).map(str::to_owned).collect();
        // A prefix is in one destination only.
        assert!(table.insert(record[0].to_owned(), fields).is_none(), "{}", &record[0]);
    }
    Written { toml, table, rows }
}

/// The destination of the longest prefix of `digits`, in the TOML destinations and the table.
fn longest(written: &Written, digits: &str) -> Option<String> {
    let mut prefixes: Vec<(&str, String)> = written.table.iter().map(|(p, f)| (p.as_str(), f[0].clone())).collect();
    for d in written.toml["destinations"].as_array().unwrap() {
        for p in d["prefixes"].as_array().unwrap() {
            prefixes.push((p.as_str().unwrap(), d["name"].as_str().unwrap().to_owned()));
        }
    }
    prefixes
        .into_iter()
        .filter(|(p, _)| digits.starts_with(p))
        .max_by_key(|(p, _)| p.len())
        .map(|(_, d)| d)
}

#[test]
fn the_tariff_has_the_keys_of_the_spec_and_a_consistent_table() {
    let tariff = generate_tariff(&TariffConfig::new(5));
    assert_eq!(tariff.prefix_count(), DEFAULT_PREFIXES as usize);
    let price = write(&tariff, Side::Price);
    assert_eq!(price.rows, 2_000);
    let t = &price.toml;
    assert_eq!(t["currency"].as_str(), Some("USD"));
    assert_eq!(t["rating_decimals"].as_integer(), Some(4));
    assert_eq!(t["prefix_table"].as_str(), Some("prefixes.csv"));
    assert_eq!(t["tollfree_destination"].as_str(), Some("UK freephone"));
    let charged: Vec<&str> = t["charged_call_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        charged,
        [
            "SIP_NATIONAL",
            "SIP_MOBILE",
            "SIP_INTERNATIONAL",
            "SIP_PREMIUM",
            "SIP_SHORTCODE"
        ]
    );
    let bands = t["bands"].as_array().unwrap();
    let band_names: HashSet<&str> = bands.iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(band_names, HashSet::from(["offpeak", "evening", "night"]));
    for band in bands {
        assert!(band["from"].as_str().unwrap() < band["to"].as_str().unwrap());
        for day in band["days"].as_array().unwrap() {
            assert!(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].contains(&day.as_str().unwrap()));
        }
    }
    let destinations = t["destinations"].as_array().unwrap();
    let mut toml_names = HashSet::new();
    for d in destinations {
        for key in [
            "name",
            "class",
            "prefixes",
            "connect_fee",
            "per_minute",
            "initial",
            "subsequent",
        ] {
            assert!(d.get(key).is_some(), "{key} in {d}");
        }
        assert!(d["initial"].as_integer().unwrap() >= 1 && d["subsequent"].as_integer().unwrap() >= 1);
        toml_names.insert(d["name"].as_str().unwrap());
        if let Some(b) = d.get("bands") {
            for (name, price) in b.as_table().unwrap() {
                assert!(band_names.contains(name.as_str()));
                assert!(price["per_minute"].as_str().unwrap().parse::<Decimal>().is_ok());
            }
        }
    }
    assert!(toml_names.contains("UK freephone"));
    let with_bands = destinations.iter().filter(|d| d.get("bands").is_some()).count();
    assert_eq!(with_bands, 2);
    let allowances = t["allowances"].as_array().unwrap();
    let packages: Vec<&str> = allowances.iter().map(|a| a["package"].as_str().unwrap()).collect();
    assert!(packages.contains(&"webex_calling"));
    for a in allowances {
        assert!(a["minutes"].as_str().unwrap().parse::<Decimal>().unwrap() > Decimal::ZERO);
        assert!(!a["classes"].as_array().unwrap().is_empty());
    }

    // The table: one class and one set of prices per destination, none also in the TOML file;
    // the increments and classes the brief asks for; prices with up to 6 decimals.
    let mut by_destination: HashMap<&str, &Vec<String>> = HashMap::new();
    let (mut increments, mut classes, mut six) = (HashSet::new(), HashSet::new(), 0);
    for fields in price.table.values() {
        let first = by_destination.entry(fields[0].as_str()).or_insert(fields);
        assert_eq!(&first[1..], &fields[1..], "{}", fields[0]);
        assert!(!toml_names.contains(fields[0].as_str()));
        increments.insert((fields[4].clone(), fields[5].clone()));
        classes.insert(fields[1].clone());
        let per_minute = &fields[3];
        let decimals = per_minute.split('.').nth(1).unwrap().len();
        assert!(decimals == 4 || decimals == 6, "{per_minute}");
        six += usize::from(decimals == 6);
    }
    assert!(six > 0);
    for inc in [("60", "60"), ("60", "1"), ("30", "6"), ("1", "1")] {
        assert!(increments.contains(&(inc.0.to_owned(), inc.1.to_owned())), "{inc:?}");
    }
    for class in ["international", "premium", "tollfree"] {
        assert!(classes.contains(class));
    }
    assert!(by_destination.len() > 100, "{}", by_destination.len());

    // The cost tariff: the same prefixes and destinations, cheaper.
    let cost = write(&tariff, Side::Cost);
    assert_eq!(cost.toml["prefix_table"].as_str(), Some("cost-prefixes.csv"));
    assert!(cost.toml.get("allowances").is_none() && cost.toml.get("bands").is_none());
    assert_eq!(cost.rows, price.rows);
    for (prefix, fields) in &price.table {
        let c = &cost.table[prefix];
        assert_eq!(c[0], fields[0]);
        let (p, c) = (fields[3].parse::<Decimal>().unwrap(), c[3].parse::<Decimal>().unwrap());
        assert!(c <= p && (p.is_zero() || c < p), "{prefix}: cost {c} price {p}");
    }
}

#[test]
fn same_seed_same_bytes_and_large_tables() {
    let mut config = TariffConfig::new(9);
    config.prefixes = 100_000;
    let a = generate_tariff(&config);
    assert_eq!(a.prefix_count(), 100_000);
    let (mut ta, mut ca, mut tb, mut cb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    a.write_price(&mut ta, &mut ca, "p.csv").unwrap();
    generate_tariff(&config).write_price(&mut tb, &mut cb, "p.csv").unwrap();
    assert_eq!((ta, ca), (tb, cb));
    config.prefixes = 10;
    assert_eq!(
        generate_tariff(&config).prefix_count(),
        TariffConfig::min_prefixes() as usize
    );
}

#[test]
fn every_number_a_charged_call_dials_has_a_destination() {
    let month = Period::month(2024, 5).unwrap();
    let config = GeneratorConfig {
        seed: 17,
        customers: 20,
        subscribers: 300,
        sub_partners: 1,
        month,
        catalog: Catalog::default(),
        order: Default::default(),
    };
    let mut events = Vec::new();
    let generated = generate(&config, &mut events, &mut |_| {}).unwrap();
    let (ledger, _) = AssignmentLedger::from_csv(events.as_slice(), generated.organisation, LoadMode::Strict).unwrap();
    let mut cdr_config = CdrConfig::new(17, month);
    cdr_config.calls_per_subscriber = 40;
    cdr_config.no_destination = true;
    let mut csv = Vec::new();
    let summary = generate_cdrs(&ledger, &cdr_config, &mut csv, &mut |_| {}).unwrap();
    let mut tariff_config = TariffConfig::new(17);
    tariff_config.prefixes = 300;
    let price = write(&generate_tariff(&tariff_config), Side::Price);

    let mut reader = csv::Reader::from_reader(csv.as_slice());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (direction, call_type, called) = (col("Direction"), col("Call type"), col("Called number"));
    let charged: HashSet<&str> = [
        "SIP_NATIONAL",
        "SIP_MOBILE",
        "SIP_INTERNATIONAL",
        "SIP_PREMIUM",
        "SIP_SHORTCODE",
    ]
    .into();
    let (mut rated, mut unrated) = (0u64, HashSet::new());
    let mut classes: HashMap<String, u64> = HashMap::new();
    let class_of: HashMap<String, String> = price
        .table
        .values()
        .map(|f| (f[0].clone(), f[1].clone()))
        .chain(price.toml["destinations"].as_array().unwrap().iter().map(|d| {
            (
                d["name"].as_str().unwrap().to_owned(),
                d["class"].as_str().unwrap().to_owned(),
            )
        }))
        .collect();
    for record in reader.records() {
        let r = record.unwrap();
        if r[direction] != *Direction::Originating.as_str() || !charged.contains(&r[call_type]) {
            continue;
        }
        let digits: String = r[called].chars().filter(char::is_ascii_digit).collect();
        match longest(&price, &digits) {
            Some(destination) => {
                rated += 1;
                *classes.entry(class_of[&destination].clone()).or_default() += 1;
            }
            None => {
                assert!(digits.starts_with("88216"), "{} has no destination", &r[called]);
                unrated.insert(digits);
            }
        }
    }
    assert!(rated > 2_000, "{rated}");
    assert_eq!(unrated.len() as u64, summary.no_destination);
    for class in ["national", "mobile", "international", "premium"] {
        assert!(classes.get(class).copied().unwrap_or(0) > 0, "{class}: {classes:?}");
    }
}
