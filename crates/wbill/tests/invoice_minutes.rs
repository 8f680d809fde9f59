//! End-to-end tests of `wbill invoice customers --cdrs` on a small generated month: the minutes
//! lines equal the summary, invoices add up to the cent, roll-ups sum their customers, the margin
//! is price − cost, a currency mismatch is refused, and a run without --cdrs is unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::wbill;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use wholesale_billing::Decimal;

/// A small month with calls in `dir/m`, and a price book with prices for the sub-partners.
fn month(dir: &Path) {
    common::calls_month(dir);
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let mut book = std::fs::read_to_string(demo.join("prices.toml")).unwrap();
    let org = std::fs::read_to_string(dir.join("m/org.toml")).unwrap();
    let ids: Vec<&str> = org
        .lines()
        .filter_map(|l| l.strip_prefix("org_id = \""))
        .map(|l| l.trim_end_matches('"'))
        .collect();
    assert!(ids.len() >= 3, "a partner and sub-partners: {ids:?}");
    for id in &ids[1..] {
        book.push_str(&format!("\n[sub_partners.\"{id}\"]\n"));
        for (sku, price) in [
            ("A-W-CA-CALL-U", "6.00"),
            ("A-W-WXC-CALL-U", "9.00"),
            ("A-W-WXE-CALL-U", "7.00"),
            ("A-W-WXM-MEET-U", "8.00"),
        ] {
            book.push_str(&format!("skus.\"{sku}\" = {{ price = \"{price}\" }}\n"));
        }
    }
    std::fs::write(dir.join("m/prices.toml"), book).unwrap();
    std::fs::copy(demo.join("rates.toml"), dir.join("m/rates.toml")).unwrap();
}

fn customers(dir: &Path, out_dir: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "invoice",
        "customers",
        "--events",
        "events.csv",
        "--org",
        "org.toml",
        "--price-book",
        "prices.toml",
        "--rates",
        "rates.toml",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-31",
        "--out-dir",
        out_dir,
    ];
    args.extend_from_slice(extra);
    wbill(&args, &dir.join("m"))
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap_or_else(|_| panic!("a decimal: {text:?}"))
}

/// The rows of a CSV file, header first.
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// An invoice: its minutes lines (destination → (amount, derivation)) and its amounts.
struct Invoice {
    minutes: BTreeMap<String, Decimal>,
    lines_sum: Decimal,
    amounts: BTreeMap<String, Decimal>,
}

fn invoice(path: &Path) -> Invoice {
    let rows = csv_rows(path);
    let mut minutes = BTreeMap::new();
    let mut lines_sum = Decimal::ZERO;
    let mut amounts = BTreeMap::new();
    for row in &rows {
        match row.len() {
            10 if row[0] != "sku" => {
                lines_sum += dec(&row[8]);
                if row[0] == "MINUTES" {
                    let destination = row[1].strip_prefix("calls to ").unwrap().to_owned();
                    assert_eq!(row[5], "minutes");
                    assert!(row[9].contains(" billable minutes ("), "{}", row[9]);
                    minutes.insert(destination, dec(&row[8]));
                }
            }
            2 if ["subtotal", "discount", "minimum_top_up", "tax", "total"].contains(&row[0].as_str()) => {
                amounts.insert(row[0].clone(), dec(&row[1]));
            }
            _ => {}
        }
    }
    Invoice {
        minutes,
        lines_sum,
        amounts,
    }
}

#[test]
fn minutes_reach_the_invoices_roll_ups_and_margin() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    month(dir);
    let with = [
        "--cdrs",
        "cdrs.csv",
        "--tariff",
        "tariff.toml",
        "--cost-tariff",
        "cost-tariff.toml",
    ];
    let out = customers(dir, "inv", &with);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let inv = dir.join("m/inv");
    for file in ["rated.csv", "summary.csv", "cost-rated.csv", "cost-summary.csv"] {
        assert!(inv.join("minutes").join(file).is_file(), "{file}");
    }

    // Summary rows: customer → destination → amount, at the price and the cost tariff.
    let summary = |file: &str| {
        let mut by_customer: BTreeMap<String, BTreeMap<String, Decimal>> = BTreeMap::new();
        for row in csv_rows(&inv.join("minutes").join(file)).into_iter().skip(1) {
            by_customer
                .entry(row[0].clone())
                .or_default()
                .insert(row[1].clone(), dec(&row[5]));
        }
        by_customer
    };
    let price = summary("summary.csv");
    let cost = summary("cost-summary.csv");
    assert!(!price.is_empty());

    // Who is billed where: the invoice summary (with its minutes columns).
    let rows = csv_rows(&inv.join("summary.csv"));
    assert_eq!(
        rows[0][10..],
        ["calls", "billable_minutes", "covered_minutes", "minutes_amount"]
    );
    let mut customer_files = BTreeMap::new();
    for row in &rows[1..] {
        if row[0] == "customer" {
            customer_files.insert(row[1].clone(), row[2].clone());
        }
    }

    // Every customer invoice: minutes lines = its summary rows, and it adds up to the cent.
    let mut billed_customers = 0;
    for entry in std::fs::read_dir(inv.join("customers")).unwrap() {
        let path = entry.unwrap().path();
        let invoice = invoice(&path);
        let a = &invoice.amounts;
        assert_eq!(a["subtotal"], invoice.lines_sum, "{}", path.display());
        assert_eq!(
            a["total"],
            a["subtotal"] - a["discount"] + a["minimum_top_up"] + a["tax"],
            "{}",
            path.display()
        );
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let org = customer_files.iter().find(|(_, label)| *label == stem).unwrap().0;
        assert_eq!(invoice.minutes, price.get(org).cloned().unwrap_or_default(), "{stem}");
        billed_customers += usize::from(!invoice.minutes.is_empty());
    }
    assert!(billed_customers > 0);

    // Sub-partner roll-ups: per destination, Σ of their customers' rounded amounts.
    let rated = csv_rows(&inv.join("minutes/rated.csv"));
    let owner_of: BTreeMap<&str, &str> = rated[1..].iter().map(|r| (r[1].as_str(), r[3].as_str())).collect();
    let mut sub_partner_rows = 0;
    for row in rows[1..].iter().filter(|r| r[0] == "sub_partner") {
        let mut expected: BTreeMap<String, Decimal> = BTreeMap::new();
        for (customer, destinations) in &price {
            if owner_of.get(customer.as_str()) == Some(&row[1].as_str()) {
                for (destination, amount) in destinations {
                    *expected.entry(destination.clone()).or_default() += *amount;
                }
            }
        }
        let file = row[2].replace(' ', "_");
        let invoice = invoice(&inv.join("sub-partners").join(format!("{file}.csv")));
        assert_eq!(invoice.minutes, expected, "{file}");
        assert_eq!(dec(&row[13]), expected.values().sum::<Decimal>());
        sub_partner_rows += 1;
    }
    assert!(sub_partner_rows > 0);

    // Margin: minutes rows are price − cost of the summaries.
    let sum = |m: &BTreeMap<String, Decimal>| m.values().sum::<Decimal>();
    let margin = csv_rows(&inv.join("margin.csv"));
    let mut minutes_rows = 0;
    for row in margin.iter().filter(|r| r[0] == "customer_minutes") {
        let revenue = price.get(&row[1]).map(sum).unwrap_or_default();
        let expected_cost = cost.get(&row[1]).map(sum).unwrap_or_default();
        assert_eq!((dec(&row[3]), dec(&row[4])), (revenue, expected_cost), "{}", row[1]);
        assert_eq!(dec(&row[5]), revenue - expected_cost);
        minutes_rows += 1;
    }
    assert!(minutes_rows > 0);
    let (mut revenue, mut total_cost) = (Decimal::ZERO, Decimal::ZERO);
    for row in margin
        .iter()
        .filter(|r| r[0] == "customer_minutes" || r[0] == "sub_partner_minutes")
    {
        revenue += dec(&row[3]);
        total_cost += dec(&row[4]);
    }
    assert_eq!(revenue, price.values().map(sum).sum::<Decimal>());
    assert_eq!(total_cost, cost.values().map(sum).sum::<Decimal>());
}

#[test]
fn without_cdrs_nothing_changes_and_bad_currencies_or_costs_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    month(dir);
    // The same command minus the minutes flags, twice: byte-identical outputs, no minutes.
    let out = customers(dir, "a", &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = std::fs::read_to_string(dir.join("m/a/summary.csv")).unwrap();
    assert!(
        summary.starts_with(
            "bill_to,org_id,external_id_or_name,lines,subtotal,discount,minimum_top_up,tax,total,currency\n"
        )
    );
    assert!(!dir.join("m/a/minutes").exists());
    let margin = std::fs::read_to_string(dir.join("m/a/margin.csv")).unwrap();
    assert!(!margin.contains("_minutes,"));
    for entry in std::fs::read_dir(dir.join("m/a/customers")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("MINUTES"));
    }

    // With minutes, the package lines of each invoice are those of the run without.
    let with = [
        "--cdrs",
        "cdrs.csv",
        "--tariff",
        "tariff.toml",
        "--cost-tariff",
        "cost-tariff.toml",
    ];
    let out = customers(dir, "b", &with);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for entry in std::fs::read_dir(dir.join("m/a/customers")).unwrap() {
        let path = entry.unwrap().path();
        let without = std::fs::read_to_string(&path).unwrap();
        let with = std::fs::read_to_string(dir.join("m/b/customers").join(path.file_name().unwrap())).unwrap();
        let packages = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with("A-W-"))
                .map(str::to_owned)
                .collect()
        };
        assert_eq!(packages(&without), packages(&with));
    }

    // A tariff in another currency: refused, both currencies named, nothing written.
    let tariff = std::fs::read_to_string(dir.join("m/tariff.toml")).unwrap();
    std::fs::write(
        dir.join("m/eur.toml"),
        tariff.replace("currency = \"USD\"", "currency = \"EUR\""),
    )
    .unwrap();
    let out = customers(
        dir,
        "c",
        &[
            "--cdrs",
            "cdrs.csv",
            "--tariff",
            "eur.toml",
            "--cost-tariff",
            "cost-tariff.toml",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("EUR") && stderr.contains("USD") && stderr.contains("eur.toml"),
        "{stderr}"
    );
    assert!(!dir.join("m/c").exists());

    // Minutes with a margin report but no cost tariff: refused rather than a cost of zero.
    let out = customers(dir, "d", &["--cdrs", "cdrs.csv", "--tariff", "tariff.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--cost-tariff"), "{stderr}");
    assert!(!dir.join("m/d").exists());

    // --cdrs without --tariff is a usage error.
    let out = customers(dir, "e", &["--cdrs", "cdrs.csv"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}
