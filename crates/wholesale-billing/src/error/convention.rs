//! The one convention of every error of the crate, checked on a representative of each variant:
//! a message never contains its source's message (so printing the chain shows each cause once),
//! it starts lower-case, and every variant has its kind.

use std::collections::HashSet;

use rust_decimal::Decimal;

use super::*;
use crate::rates::ccws::ErrorMessage;

fn toml_error() -> toml::de::Error {
    toml::from_str::<toml::Table>("a = ").unwrap_err()
}

fn json_error() -> serde_json::Error {
    serde_json::from_str::<u8>("300").unwrap_err()
}

fn csv_error() -> csv::Error {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader("a,b\nc\n".as_bytes());
    rdr.records().find_map(std::result::Result::err).unwrap()
}

fn utf8_error() -> std::str::Utf8Error {
    let bytes = vec![b'a', 0xff];
    std::str::from_utf8(&bytes).unwrap_err()
}

fn period() -> Period {
    Period::month(2024, 5).unwrap()
}

fn row() -> Option<RowOrigin> {
    Some(RowOrigin {
        report: "usage report",
        file: 1,
        line: 17,
    })
}

/// One error of each variant, with sources where the variant has one.
fn representatives() -> Vec<Error> {
    let d = Decimal::new(-5, 1);
    let located = |source: Error| {
        source.in_file(
            "price book",
            TextLocation {
                line: Some(3),
                column: Some(8),
                path: Some("skus.X.price".into()),
            },
        )
    };
    vec![
        Error::io("reading events.csv", std::io::Error::other("disk gone")),
        Error::Csv {
            context: "writing the invoice",
            source: csv_error(),
        },
        Error::WriteToml {
            what: "organisation",
            source: toml::to_string(&1u8).unwrap_err(),
        },
        Error::WriteJson {
            what: "reconciliation",
            source: json_error(),
        },
        Error::ThreadFailed {
            task: "report formatting",
        },
        Error::Rejected {
            source_name: "events",
            issues: vec![LoadIssue::new(Severity::Error, 2, IssueKind::InvalidValue, "bad")],
        },
        Error::RecordsRejected {
            errors: 3,
            issues: vec![LoadIssue::new(Severity::Error, 2, IssueKind::InvalidValue, "bad").in_input(0)],
        },
        Error::InvalidTimestamp {
            input: "x".into(),
            reason: "not a timestamp",
        },
        Error::InvalidDate {
            input: "x".into(),
            expected: "YYYY-MM-DD",
        },
        Error::InvalidQuantity {
            input: "x".into(),
            reason: "not a number",
        },
        Error::InvalidMoney {
            input: "x".into(),
            reason: "not a number",
        },
        Error::InvalidPrice {
            input: "x".into(),
            reason: "not a number",
        },
        Error::UnknownName {
            what: "hour policy",
            value: "x".into(),
            expected: &["started", "completed", "exact"],
        },
        Error::UnknownCurrency { code: "XXX".into() },
        Error::InvalidCurrency {
            code: "US".into(),
            minor_unit: 9,
        },
        Error::CurrencyMismatch {
            expected: Currency::USD,
            found: Currency::EUR,
        },
        located(Error::NegativePrice {
            what: "price",
            value: d,
            sku: None,
        }),
        located(Error::Toml(toml_error())),
        located(Error::Json(json_error())),
        located(Error::InvalidUtf8 {
            offset: 1,
            source: utf8_error(),
        }),
        Error::EmptyOrganisationField {
            field: "partner.name".into(),
        },
        Error::DuplicateOrgId {
            org_id: "sp".into(),
            index: 1,
        },
        Error::OrganisationTooLarge {
            what: "sub-partners",
            count: 70_000,
            max: 65_534,
        },
        Error::IncompleteCatalogPackage { package: "x".into() },
        Error::UnknownSubPartner {
            org_id: "x".into(),
            known: vec!["sp".into()],
        },
        Error::UnknownRowOrg {
            org_id: "x".into(),
            customer_org_id: "c".into(),
            row: row(),
        },
        Error::MinutesOfUnknownCustomer {
            customer_org_id: "c9".into(),
        },
        Error::MinutesCostMissing,
        Error::NoCustomers,
        Error::TooFewSubscribers {
            subscribers: 1,
            customers: 2,
        },
        Error::TooManySubscribers { subscribers: 2, max: 1 },
        Error::GeneratorPackageMissing { package: "x" },
        Error::PeriodReversed {
            start: period().end(),
            end: period().start(),
        },
        Error::PeriodMismatch {
            document: "vendor invoice".into(),
            found: period(),
            expected: Period::month(2024, 6).unwrap(),
        },
        Error::ReportWithoutPeriod {
            report: "vendor report 2".into(),
            purpose: "reconciliation",
        },
        Error::RowsOutsidePeriod {
            report: "usage report".into(),
            period: period(),
            count: 4,
            rows: vec![OutsideRow {
                row: 1,
                sku: "A".into(),
                start: None,
                end: None,
            }],
        },
        Error::NotAWholeMonth { period: period() },
        Error::YearOutOfRange {
            year: 1,
            min: 1971,
            max: 9998,
        },
        Error::WrongReportLevel {
            purpose: "reconciliation",
            report: "vendor report 1".into(),
            expected: &[ReportLevel::User],
            found: ReportLevel::Customer,
        },
        Error::CannotRollUp {
            from: ReportLevel::Customer,
            to: ReportLevel::User,
        },
        Error::MixedReportLevels {
            first: ReportLevel::User,
            other: ReportLevel::Partner,
        },
        Error::NoReports {
            purpose: "concatenation",
        },
        Error::NothingToPlant { count: 2 },
        Error::MissingRate {
            sku: "A".into(),
            known: vec![],
            row: row(),
        },
        Error::MissingPrice {
            sku: "A".into(),
            billed: BilledParty::SubPartner { org_id: "sp".into() },
            row: row(),
        },
        Error::TiersPerLocation { sku: "A".into() },
        Error::EmptySku,
        Error::DuplicateSku { sku: "A".into() },
        Error::NegativePrice {
            what: "rate",
            value: d,
            sku: Some("A".into()),
        },
        Error::NegativeValue {
            what: "tax_percent",
            value: d,
        },
        Error::PercentAbove100 {
            what: "the tax percentage",
            value: Decimal::new(101, 0),
        },
        Error::InvalidSkuPricing {
            reason: "`bands` without `tiers`",
        },
        Error::OpenBandNotLast { band: 1 },
        Error::BandsNotAscending {
            band: 2,
            up_to: Decimal::ONE,
            previous: Decimal::TEN,
        },
        Error::NegativeCommitment {
            monthly: Money::new(d, Currency::USD),
        },
        Error::NegativeFixedLine {
            sku: "A".into(),
            what: "rate",
            value: d,
        },
        Error::CatalogRefused {
            status_error: true,
            item: Some((0, Some("A".into()))),
            message: Some(ErrorMessage {
                message_code: Some("B1003".into()),
                message_text: None,
            }),
        },
        Error::NoOfferItems,
        Error::MissingProductId,
        Error::OfferItem {
            sku: "A".into(),
            source: Box::new(Error::NoListPrice),
        },
        Error::InvalidDecimalCount { input: "two".into() },
        Error::TooManyDecimals {
            price: "1.234".into(),
            decimals: 3,
            max: 2,
        },
        Error::DifferingPrices {
            kind: "committed",
            first: Decimal::ONE,
            other: Decimal::TWO,
        },
        Error::NoListPrice,
        Error::MissingCurrency,
        Error::ItemCurrencyConflict {
            found: Currency::EUR,
            expected: Currency::USD,
            first_path: "itemDetails[0].currencyCode".into(),
        },
        Error::MixedCurrencies {
            sku: "B".into(),
            found: Currency::EUR,
            first_sku: "A".into(),
            first_item: 0,
            expected: Currency::USD,
        },
        Error::PrefixNotDigits { prefix: "44x".into() },
        Error::DuplicatePrefix {
            prefix: "447".into(),
            destination: "UK mobile".into(),
            first_destination: "UK".into(),
            first_at: "destinations[0].prefixes[1]".into(),
        },
        Error::DuplicateTariffName {
            what: "destination",
            name: "UK".into(),
            first_at: "destinations[0]".into(),
        },
        Error::EmptyTariffField {
            what: "the destination name",
        },
        Error::IncrementTooSmall {
            what: "subsequent",
            value: 0,
        },
        located(Error::TariffDecimals {
            value: Decimal::new(1, 7),
            max: 6,
        }),
        Error::RatingDecimalsTooMany { decimals: 9, max: 6 },
        Error::InvalidClockTime { input: "25:00".into() },
        Error::EmptyBandRange {
            from: "18:00".into(),
            to: "08:00".into(),
        },
        Error::UnknownBand {
            band: "night".into(),
            destination: "UK".into(),
        },
        Error::UnknownDestination {
            name: "UK freephone".into(),
        },
        Error::UnusedClass { class: "moblie".into() },
        Error::InconsistentDestination {
            destination: "UK".into(),
            field: "per_minute",
            first_line: 2,
        },
        Error::PrefixTableNotLoaded {
            file: "prefixes.csv".into(),
        },
        Error::TariffCurrencyMismatch {
            tariff: Currency::EUR,
            price_book: Currency::USD,
        },
        Error::UnknownAllowancePackage {
            package: "webex_callng".into(),
            known: "webex_calling".into(),
        },
        Error::Overflow {
            operation: "price × units",
            subject: "SKU A of customer c1".into(),
        },
    ]
}

/// Every error and its sources, outermost first.
fn chain<'a>(error: &'a (dyn std::error::Error + 'static)) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut all = vec![error];
    let mut cause = error.source();
    while let Some(e) = cause {
        all.push(e);
        cause = e.source();
    }
    all
}

#[test]
fn every_variant_has_a_representative() {
    let mut kinds: HashSet<ErrorKind> = HashSet::new();
    for e in representatives() {
        for link in chain(&e) {
            // A located error's source is its boxed error.
            let core = link
                .downcast_ref::<Error>()
                .or_else(|| link.downcast_ref::<Box<Error>>().map(|b| &**b));
            if let Some(core) = core {
                kinds.insert(core.kind());
            }
        }
    }
    let missing: Vec<&str> = ErrorKind::ALL
        .iter()
        .filter(|k| !kinds.contains(k))
        .map(|k| k.name())
        .collect();
    assert!(missing.is_empty(), "no representative of {missing:?}");
    assert_eq!(kinds.len(), ErrorKind::ALL.len());
}

#[test]
fn no_message_repeats_its_source_and_each_cause_shows_once() {
    for e in representatives() {
        let links = chain(&e);
        for pair in links.windows(2) {
            let (outer, inner) = (pair[0].to_string(), pair[1].to_string());
            assert!(!inner.is_empty(), "{e:?}: an empty source message");
            assert!(!outer.contains(&inner), "{outer:?} repeats its source {inner:?}");
        }
        let line = error_with_causes(&e);
        let joined: Vec<String> = links.iter().map(ToString::to_string).collect();
        assert_eq!(line, joined.join(": "));
    }
}

#[test]
fn messages_start_lower_case() {
    for e in representatives() {
        let message = e.to_string();
        let first_word = message.split([' ', ':']).next().unwrap_or_default();
        // An acronym or a code may open a message ("SKU A ..."); a capitalised word may not.
        let capitalised = first_word.chars().next().is_some_and(char::is_uppercase)
            && first_word.chars().skip(1).any(char::is_lowercase);
        assert!(!capitalised, "{message:?}");
    }
}

#[test]
fn error_kinds_are_distinct_and_named_after_their_variants() {
    let names: HashSet<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(names.len(), ErrorKind::ALL.len());
    assert_eq!(
        Error::NoReports {
            purpose: "concatenation"
        }
        .kind()
        .name(),
        "NoReports"
    );
    let e = Error::Toml(toml_error());
    assert!(format!("{e:?}").starts_with("Toml("), "{e:?}");
}

#[test]
fn a_5_mb_field_is_quoted_by_its_first_80_characters() {
    let field = "9".repeat(5 * 1024 * 1024);
    let e = Error::InvalidQuantity {
        input: field.clone(),
        reason: "too many decimals",
    };
    assert_eq!(
        e.to_string(),
        format!(
            "invalid quantity \"{}\"… (5242880 characters): too many decimals",
            "9".repeat(80)
        )
    );
    let e = Error::UnknownName {
        what: "hour policy",
        value: field.clone(),
        expected: &["started", "completed", "exact"],
    };
    assert_eq!(
        e.to_string(),
        format!(
            "unknown hour policy \"{}\"… (5242880 characters) (expected one of: started, completed, exact)",
            "9".repeat(80)
        )
    );
    let e = Error::Overflow {
        operation: "price × units",
        subject: format!("SKU {field} of customer c1"),
    };
    assert_eq!(
        e.to_string(),
        format!(
            "overflow: price × units for SKU {}… (5242880 characters) of customer c1",
            "9".repeat(80)
        )
    );
    let issue = LoadIssue::new(Severity::Error, 2, IssueKind::InvalidValue, "x").with_event_id(field);
    assert!(issue.to_string().len() < 200, "{}", issue.to_string().len());
}
