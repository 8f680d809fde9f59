//! Tariffs end to end: the example tariff in TOML and JSON, a 100,000-prefix table, the
//! longest prefix against a brute-force scan, and the readers fed broken bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use wholesale_billing::{
    Catalog, Currency, Error, OrgFormat, PriceBook, Tariff, TariffDocument, Weekday, charge, error_with_causes,
};

const HEADER: &str = "prefix,destination,class,connect_fee,per_minute,initial,subsequent\n";

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tariff")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a tariff file and its prefix table, as the command line does.
fn load(name: &str) -> Tariff {
    let doc = TariffDocument::from_slice(&fixture(name), OrgFormat::from_file_name(name)).unwrap();
    let table = fixture(doc.prefix_table().unwrap());
    doc.with_prefix_table(table.as_slice()).unwrap().compile().unwrap()
}

#[test]
fn the_toml_and_json_forms_of_a_tariff_compile_equal() {
    let toml = load("uk.toml");
    assert_eq!(toml, load("uk.json"));
    assert_eq!(toml.currency(), Currency::GBP);
    assert_eq!(toml.prefix_count(), 12);
    assert_eq!(toml.destinations().len(), 8);
    toml.check_packages(&Catalog::default()).unwrap();
    toml.check_currency(&PriceBook::from_toml_str("currency = \"GBP\"\n").unwrap())
        .unwrap();

    // The longest prefix: 1212 (New York) within 1 (USA and Canada), 447 within 44.
    for (number, destination, prefix_len) in [
        ("12125550100", "New York", 4),
        ("14155550100", "USA and Canada", 1),
        ("447700900123", "UK mobile", 3),
        ("442079460000", "UK national", 3),
        ("4430", "UK national", 2),
        ("33612345678", "France mobile", 3),
    ] {
        let (id, len) = toml.lookup(number.as_bytes()).unwrap();
        assert_eq!(
            (toml.destination(id).unwrap().name(), len),
            (destination, prefix_len),
            "{number}"
        );
    }
    assert_eq!(toml.lookup(b"49301234"), None);

    // A Saturday call to a mobile at the weekend price; a Friday call at 18:00 at the evening one.
    let mobile = toml.destination_named("UK mobile").unwrap();
    let hour = 3_600_000_000_000;
    let weekend = toml.band_at(Weekday::Sat, 9 * hour);
    let evening = toml.band_at(Weekday::Fri, 18 * hour);
    assert_eq!(toml.band(weekend.unwrap()).unwrap().name(), "weekend");
    assert_eq!(toml.band(evening.unwrap()).unwrap().name(), "evening");
    let d = toml.destination(mobile).unwrap();
    let billable = d.billable_seconds(61).unwrap();
    assert_eq!(billable, 61);
    // 0.015 × 61 / 60 = 0.01525 → 0.0152 (half-even); 0.03 × 61 / 60 = 0.0305.
    assert_eq!(charge(toml.price(mobile, weekend), billable, 4).unwrap(), 152);
    assert_eq!(charge(toml.price(mobile, None), billable, 4).unwrap(), 305);
    // New York: 30/6 increments, 31 s → 36 s billable.
    let ny = toml.destination(toml.destination_named("New York").unwrap()).unwrap();
    assert_eq!(ny.billable_seconds(31).unwrap(), 36);
}

#[test]
fn the_guide_shows_the_example_tariff_as_it_is() {
    let guide = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/minutes.md")).unwrap();
    for name in ["uk.toml", "uk-prefixes.csv"] {
        let text = String::from_utf8(fixture(name)).unwrap();
        assert!(guide.contains(&text), "docs/minutes.md does not show {name} as it is");
    }
}

#[test]
fn a_tariff_written_back_reads_and_compiles_the_same() {
    let doc = TariffDocument::from_slice(&fixture("uk.toml"), OrgFormat::Toml).unwrap();
    let table = fixture("uk-prefixes.csv");
    let loaded = doc.clone().with_prefix_table(table.as_slice()).unwrap();
    let compiled = loaded.compile().unwrap();
    for text in [doc.to_toml_string().unwrap(), doc.to_json_string().unwrap()] {
        let format = if text.starts_with('{') {
            OrgFormat::Json
        } else {
            OrgFormat::Toml
        };
        let again = TariffDocument::from_slice(text.as_bytes(), format).unwrap();
        assert_eq!(again, doc);
        assert_eq!(again.prefix_table(), Some("uk-prefixes.csv"));
        let again = again.with_prefix_table(table.as_slice()).unwrap().compile().unwrap();
        assert_eq!(again, compiled);
    }
    // Inlined: one self-contained file, no table to load.
    let inline = loaded.inline_prefix_table();
    for text in [inline.to_toml_string().unwrap(), inline.to_json_string().unwrap()] {
        let format = if text.starts_with('{') {
            OrgFormat::Json
        } else {
            OrgFormat::Toml
        };
        let again = TariffDocument::from_slice(text.as_bytes(), format).unwrap();
        assert_eq!(again.prefix_table(), None);
        assert_eq!(again.compile().unwrap(), compiled);
    }
}

#[test]
fn a_currency_mismatch_names_both_currencies() {
    let tariff = load("uk.toml");
    let book = PriceBook::from_toml_str("currency = \"EUR\"\n").unwrap();
    let err = tariff.check_currency(&book).unwrap_err();
    assert!(matches!(
        err,
        Error::TariffCurrencyMismatch {
            tariff: Currency::GBP,
            price_book: Currency::EUR
        }
    ));
}

/// A deterministic table of `n` distinct prefixes under 200 country codes, about 10 prefixes
/// per destination, every row of a destination alike.
fn big_table(n: usize) -> (String, Vec<(String, String)>) {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let countries: Vec<String> = (0..200).map(|i| format!("{}", 20 + i * 4)).collect();
    let mut seen = BTreeSet::new();
    let mut rows = Vec::with_capacity(n);
    let mut csv = String::with_capacity(n * 48);
    csv.push_str(HEADER);
    while rows.len() < n {
        let country = &countries[(next() % 200) as usize];
        let len = 3 + (next() % 5) as usize;
        let tail: String = (0..len).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
        let prefix = format!("{country}{tail}");
        if !seen.insert(prefix.clone()) {
            continue;
        }
        let d = rows.len() / 10;
        let name = format!("D{d}");
        let class = ["national", "mobile", "international", "premium"][d % 4];
        csv.push_str(&format!(
            "{prefix},{name},{class},0.0{},0.{:04},60,{}\n",
            d % 10,
            d % 9999,
            1 + d % 60
        ));
        rows.push((prefix, name));
    }
    (csv, rows)
}

#[test]
fn a_table_of_100_000_prefixes_loads_and_finds_each() {
    let (csv, rows) = big_table(100_000);
    let doc = TariffDocument::from_toml_str("currency = \"USD\"\nprefix_table = \"big.csv\"\n").unwrap();
    let tariff = doc.with_prefix_table(csv.as_bytes()).unwrap().compile().unwrap();
    assert_eq!(tariff.prefix_count(), 100_000);
    assert_eq!(tariff.destinations().len(), 10_000);
    // The memory the docs quote (module `prefix`): 8 bytes a cell of the blocks and tails and
    // 120,000 bytes of first-level table; for this table 34,641 blocks and their tails in
    // 1,878,664 bytes (16,576,800 for the 205,710 trie nodes of 80 bytes it had before blocks
    // and tails).
    assert_eq!((tariff.prefix_table_bytes() - 120_000) % 8, 0);
    assert_eq!(
        (tariff.prefix_table_nodes(), tariff.prefix_table_bytes()),
        (34_641, 1_998_664)
    );
    assert!(
        tariff.prefix_table_bytes() < 32 << 20,
        "{}",
        tariff.prefix_table_bytes()
    );
    for (prefix, name) in rows.iter().step_by(97) {
        let number = format!("{prefix}99999");
        let (id, len) = tariff.lookup(number.as_bytes()).unwrap();
        // A longer prefix of the table may extend this one: the match is at least as long.
        assert!(len >= prefix.len(), "{prefix}");
        if len == prefix.len() {
            assert_eq!(tariff.destination(id).unwrap().name(), name);
        }
        let (id, len) = tariff.lookup(prefix.as_bytes()).unwrap();
        assert_eq!(
            (tariff.destination(id).unwrap().name(), len),
            (name.as_str(), prefix.len())
        );
    }
}

fn table_of(prefixes: &[String]) -> String {
    let mut csv = HEADER.to_owned();
    for (i, p) in prefixes.iter().enumerate() {
        csv.push_str(&format!("{p},D{i},national,0,0.01,1,1\n"));
    }
    csv
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(64) })]

    #[test]
    fn the_longest_prefix_is_a_brute_force_scan_of_the_table(
        prefixes in proptest::collection::btree_set("[0-9]{1,7}", 1..300),
        numbers in proptest::collection::vec("[0-9]{0,12}", 1..100),
    ) {
        let prefixes: Vec<String> = prefixes.into_iter().collect();
        let doc = TariffDocument::from_toml_str("currency = \"USD\"\nprefix_table = \"t.csv\"\n").unwrap();
        let tariff = doc.with_prefix_table(table_of(&prefixes).as_bytes()).unwrap().compile().unwrap();
        for number in numbers.iter().chain(&prefixes) {
            let brute = prefixes
                .iter()
                .enumerate()
                .filter(|(_, p)| number.starts_with(p.as_str()))
                .max_by_key(|(_, p)| p.len())
                .map(|(i, p)| (format!("D{i}"), p.len()));
            let found = tariff
                .lookup(number.as_bytes())
                .map(|(id, len)| (tariff.destination(id).unwrap().name().to_owned(), len));
            prop_assert_eq!(found, brute);
        }
    }

    /// Any bytes, and any mutation of a valid file: an error or a tariff, never a panic; an
    /// error is located.
    #[test]
    fn the_readers_never_panic(
        cut in any::<prop::sample::Index>(),
        insert in proptest::collection::vec(proptest::sample::select(b"\"[]{},=:.-\n 0123456789x\xff".to_vec()), 0..6),
        at in any::<prop::sample::Index>(),
        which in 0usize..3,
    ) {
        let name = ["uk.toml", "uk.json", "uk-prefixes.csv"][which];
        let mut bytes = fixture(name);
        let at = at.index(bytes.len());
        bytes.splice(at..at, insert);
        let end = bytes.len() - cut.index(bytes.len() / 4 + 1);
        bytes.truncate(end);
        let result = if which == 2 {
            TariffDocument::from_toml_str("currency = \"GBP\"\nprefix_table = \"t.csv\"\n")
                .unwrap()
                .with_prefix_table(bytes.as_slice())
                .and_then(|d| d.compile())
        } else {
            let format = if which == 0 { OrgFormat::Toml } else { OrgFormat::Json };
            TariffDocument::from_slice(&bytes, format).and_then(|d| {
                d.with_prefix_table(fixture("uk-prefixes.csv").as_slice())?.compile()
            })
        };
        if let Err(e) = result {
            let message = error_with_causes(&e);
            prop_assert!(
                message.starts_with("tariff: ") || message.starts_with("tariff prefix table: "),
                "{}", message
            );
        }
    }
}
