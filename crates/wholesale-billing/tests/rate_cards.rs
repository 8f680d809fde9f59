#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Wholesale rate cards: the CSV, TOML and JSON forms, and the CCWS Get Offer Details response
//! (SPEC.md §5.2).

use std::collections::BTreeMap;

use proptest::prelude::*;
use wholesale_billing::ccws::{CreatedDateTime, OfferDetailsResponse, OfferStatus};
use wholesale_billing::{Currency, Error, WholesaleRate, WholesaleRateCard};

const SAMPLE: &str = include_str!("fixtures/ccws/offer_details_sample.json");
const TWO_SKUS: &str = include_str!("fixtures/ccws/offer_details_two_skus.json");
const ERROR: &str = include_str!("fixtures/ccws/offer_details_error.json");

fn rate_text(card: &WholesaleRateCard, sku: &str) -> (String, Option<String>) {
    let rate = card.rate(sku).unwrap();
    (rate.rate.to_string(), rate.committed_rate.map(|c| c.to_string()))
}

// ---- CCWS Get Offer Details ----

#[test]
fn the_seed_sample_maps_to_a_rate_card() {
    let response = OfferDetailsResponse::from_json_str(SAMPLE).unwrap();
    assert_eq!(response.uuid.as_deref(), Some("TEST123"));
    assert_eq!(response.created_by.as_deref(), Some("gamove4"));
    assert_eq!(
        response.created_date_time,
        Some(CreatedDateTime::EpochMillis(1_487_741_403_176))
    );
    assert_eq!(response.status, Some(OfferStatus::Success));
    let item = &response.item_details[0];
    assert_eq!(item.erp_price_list_id.as_deref(), Some("1109"));
    assert_eq!(item.item_catalog_category.as_deref(), Some("Billing"));
    assert_eq!(item.item_type.as_deref(), Some("PRODUCT LIST>$0"));
    assert_eq!(
        item.price_points[0].determinants[0].determinant_type.as_deref(),
        Some("pricingTerm")
    );

    let card = WholesaleRateCard::from_offer_details(&response).unwrap();
    assert_eq!(card.currency(), Currency::USD);
    assert_eq!(card.len(), 1);
    let rate = card.rate("A-W-WXC-CALL-U").unwrap();
    assert_eq!(rate.rate.to_string(), "9.95");
    assert_eq!(rate.committed_rate, None);
    assert_eq!(rate.description, "Wholesale Webex Calling Usage");
    assert_eq!(rate.unit_of_measure, "Per User");
    assert_eq!(rate.charge_type, "Usage");
    assert_eq!(WholesaleRateCard::from_offer_details_json(SAMPLE).unwrap(), card);
}

#[test]
fn the_seed_sample_serialises_back_to_the_same_json() {
    let response = OfferDetailsResponse::from_json_str(SAMPLE).unwrap();
    let again: serde_json::Value = serde_json::to_value(&response).unwrap();
    let original: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
    assert_eq!(again, original);
    // And the emitted text reads back to the same response.
    let text = serde_json::to_string(&response).unwrap();
    assert_eq!(OfferDetailsResponse::from_json_str(&text).unwrap(), response);
}

#[test]
fn two_skus_with_a_committed_price_point() {
    let card = WholesaleRateCard::from_offer_details_json(TWO_SKUS).unwrap();
    assert_eq!(card.currency(), Currency::USD);
    assert_eq!(
        rate_text(&card, "A-W-WXC-CALL-U"),
        ("9.95".to_owned(), Some("8.95".to_owned()))
    );
    assert_eq!(rate_text(&card, "A-W-WXM-MEET-U"), ("4.5000".to_owned(), None));
    assert_eq!(
        card.rate("A-W-WXM-MEET-U").unwrap().description,
        "Wholesale Webex Meetings Usage"
    );
    let response = OfferDetailsResponse::from_json_str(TWO_SKUS).unwrap();
    assert_eq!(
        response.created_date_time,
        Some(CreatedDateTime::Text("2024-05-01T08:30:00.000Z".into()))
    );
}

#[test]
fn an_error_status_names_the_message_code() {
    let response = OfferDetailsResponse::from_json_str(ERROR).unwrap();
    assert_eq!(response.status, Some(OfferStatus::Error));
    let err = WholesaleRateCard::from_offer_details(&response).unwrap_err();
    let Error::InvalidFile { file, location, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*file, "offer details");
    assert_eq!(location.path.as_deref(), Some("itemDetails[0].errorMessage"));
    assert_eq!(
        wholesale_billing::error_with_causes(&err),
        "offer details: at itemDetails[0].errorMessage: the response has status Error: item 0: error B1003: \
         Maximum number of PIDs (Product IDs) in the request is 1000. (B1003: more than 1000 PIDs in the request)"
    );
}

#[test]
fn a_json_number_price_is_read_from_its_digits() {
    // 0.10000000000000000555 and 0.1 are the same f64: a reader going through a float could not
    // tell the two apart, nor 9.950 from 9.95.
    for literal in ["9.950", "0.10000000000000000555", "0.1", "12"] {
        let json = format!(
            r#"{{"itemDetails": [{{"productID": "A", "currencyCode": "USD", "pricePoints": [{{"listPrice": {literal}}}]}}]}}"#
        );
        let card = WholesaleRateCard::from_offer_details_json(&json).unwrap();
        assert_eq!(card.rate("A").unwrap().rate.to_string(), literal);
    }
    // The item-level listPrice too, and serde_json used directly refuses rather than rounds.
    let json = r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD", "listPrice": 4.10}]}"#;
    let card = WholesaleRateCard::from_offer_details_json(json).unwrap();
    assert_eq!(card.rate("A").unwrap().rate.to_string(), "4.10");
    let err = serde_json::from_str::<OfferDetailsResponse>(json).unwrap_err();
    assert!(err.to_string().contains("not exact"), "{err}");
}

#[test]
fn tolerant_of_unknown_and_missing_fields() {
    let json = r#"{"status": "Warning", "newField": [1, {"x": null}], "itemDetails": [{
        "productid": "A-W-WXC-CALL-U", "listPriceCurrency": "usd", "listPrice": "8", "decimalExpansionValue": 2,
        "billingModel": ["Usage", {"kind": "x"}], "pricePoints": null, "somethingElse": 1.5, "errorMessage": null}]}"#;
    let card = WholesaleRateCard::from_offer_details_json(json).unwrap();
    assert_eq!(rate_text(&card, "A-W-WXC-CALL-U"), ("8".to_owned(), None));
    assert_eq!(card.currency(), Currency::USD);
    assert_eq!(card.rate("A-W-WXC-CALL-U").unwrap().unit_of_measure, "");
}

#[test]
fn committed_price_points_and_the_item_list_price() {
    let item = |points: &str, extra: &str| {
        format!(r#"{{"itemDetails": [{{"productID": "A", "currencyCode": "USD", "pricePoints": [{points}]{extra}}}]}}"#)
    };
    let point = |price: &str, kind: &str, value: &str| {
        format!(r#"{{"listPrice": "{price}", "determinants": [{{"determinantType": "{kind}", "value": "{value}"}}]}}"#)
    };
    let cases = [
        // Uncommitted and committed points, either order.
        (
            item(
                &[point("5", "pricingTerm", "COMMITTED"), point("6", "pricingTerm", "")].join(","),
                "",
            ),
            ("6", Some("5")),
        ),
        // A commitment flag.
        (
            item(
                &[point("6", "pricingTerm", ""), point("5.5", "commitTerm", "Y")].join(","),
                "",
            ),
            ("6", Some("5.5")),
        ),
        // UNCOMMITTED is not committed; equal uncommitted prices are one price.
        (
            item(
                &[
                    point("6", "pricingTerm", "UNCOMMITTED"),
                    point("6.00", "pricingTerm", ""),
                ]
                .join(","),
                "",
            ),
            ("6", None),
        ),
        // Only a committed point: the rate is the item's listPrice.
        (
            item(&point("5", "pricingTerm", "Committed"), r#", "listPrice": "7.25""#),
            ("7.25", Some("5")),
        ),
        // The price points win over the item's listPrice.
        (
            item(&point("6", "pricingTerm", ""), r#", "listPrice": "7.25""#),
            ("6", None),
        ),
        // A point without a price (a rate table) is skipped.
        (
            item(
                r#"{"rateTableName": "T1", "Rates": [{"From": "1", "To": "10"}]}"#,
                r#", "listPrice": "3""#,
            ),
            ("3", None),
        ),
    ];
    for (json, (rate, committed)) in cases {
        let card = WholesaleRateCard::from_offer_details_json(&json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(
            rate_text(&card, "A"),
            (rate.to_owned(), committed.map(str::to_owned)),
            "{json}"
        );
    }
}

#[test]
fn offer_details_errors_are_located() {
    let cases = [
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD", "listPrice": "1"},
                {"productID": "B", "currencyCode": "EUR", "listPrice": "1"}]}"#,
            "offer details: at itemDetails[1]: SKU B is priced in EUR but SKU A (itemDetails[0]) in USD: \
             a rate card has one currency",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD", "listPriceCurrency": "EUR", "listPrice": "1"}]}"#,
            "offer details: at itemDetails[0].listPriceCurrency: SKU A: currency EUR differs from USD at \
             itemDetails[0].currencyCode",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD", "pricePoints": [{"listPrice": "9.9500",
                "listPriceCurrency": "GBP"}]}]}"#,
            "offer details: at itemDetails[0].pricePoints[0].listPriceCurrency: SKU A: currency GBP differs from \
             USD at itemDetails[0].currencyCode",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD", "decimalExpansionValue": "2",
                "pricePoints": [{"listPrice": "9.951"}]}]}"#,
            "offer details: at itemDetails[0].pricePoints[0].listPrice: SKU A: price 9.951 has 3 decimals, more \
             than its decimalExpansionValue 2",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD", "decimalExpansionValue": "two",
                "listPrice": "1"}]}"#,
            "offer details: at itemDetails[0].decimalExpansionValue: SKU A: decimalExpansionValue \"two\" is not a \
             whole number of decimals",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD", "pricePoints": [{"listPrice": 1e2}]}]}"#,
            "offer details: at itemDetails[0].pricePoints[0].listPrice: SKU A: invalid price \"1e2\": not a plain \
             decimal number",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD", "listPrice": "-1"}]}"#,
            "offer details: at itemDetails[0].listPrice: SKU A: negative price -1",
        ),
        (
            r#"{"itemDetails": [{"currencyCode": "USD", "listPrice": "1"}]}"#,
            "offer details: at itemDetails[0].productID: an item without a productID",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD"}]}"#,
            "offer details: at itemDetails[0].pricePoints: SKU A: no list price (no uncommitted price point \
             with a listPrice, no listPrice)",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD",
                "pricePoints": [{"listPrice": "1"}, {"listPrice": "2"}]}]}"#,
            "offer details: at itemDetails[0].pricePoints[1].listPrice: SKU A: uncommitted price points with \
             different list prices (1 and 2): a rate card holds one price per SKU",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "USD", "listPrice": "1"},
                {"productid": "A", "currencyCode": "USD", "listPrice": "1"}]}"#,
            "offer details: at itemDetails[1].productID: SKU A appears twice on the rate card",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "listPrice": "1"}]}"#,
            "offer details: at itemDetails[0].currencyCode: SKU A: no currency",
        ),
        (
            r#"{"itemDetails": [{"productID": "A", "currencyCode": "Dollars", "listPrice": "1"}]}"#,
            "offer details: at itemDetails[0].currencyCode: SKU A: unknown currency \"Dollars\"; give an ISO 4217 \
             code (USD, EUR, GBP, JPY, ...)",
        ),
        (
            r#"{"itemDetails": []}"#,
            "offer details: at itemDetails: the response has no items",
        ),
        (
            r#"{"status": "Error", "errorMessage": {"messageCode": "E42", "messageText": "Price list not found"}}"#,
            "offer details: at errorMessage: the response has status Error: error E42: Price list not found",
        ),
        (
            r#"{"status": "Success", "itemDetails": [{"productID": "A-X", "errorMessage": {"messageText": "Invalid PID"}}]}"#,
            "offer details: at itemDetails[0].errorMessage: SKU A-X: error: Invalid PID",
        ),
        (
            "{\"itemDetails\": [{\"productID\": \"A\",\n  \"pricePoints\": [{\"listPrice\": 1.5, \"version\": {}}]}]}",
            "offer details: line 2, column 50 at itemDetails[0].pricePoints[0].version: invalid type: map, \
             expected a text",
        ),
        (
            r#"{"itemDetails": [{"productID": "A"}]"#,
            "offer details: line 1, column 36: EOF while parsing an object",
        ),
    ];
    for (json, expected) in cases {
        let err = WholesaleRateCard::from_offer_details_json(json).unwrap_err();
        assert!(matches!(err, Error::InvalidFile { .. }), "{err:?}");
        assert_eq!(wholesale_billing::error_with_causes(&err), expected, "{json}");
    }
}

// ---- CSV ----

#[test]
fn csv_with_human_headers_aliases_and_extra_columns() {
    let csv = "\u{feff}Product ID,List Price,Committed Price,Currency Code,Unit of Measure,Charge Type,Notes,Description\r\n\
               A-W-WXC-CALL-U, 8.00 ,7.50,usd,Per User,Usage,x,\"Calling, usage\"\r\n\
               \r\n\
               A-W-WXM-MEET-U,4,,USD,,,,\r\n";
    let card = WholesaleRateCard::from_csv(csv.as_bytes()).unwrap();
    assert_eq!(card.currency(), Currency::USD);
    assert_eq!(
        rate_text(&card, "A-W-WXC-CALL-U"),
        ("8.00".to_owned(), Some("7.50".to_owned()))
    );
    let calling = card.rate("A-W-WXC-CALL-U").unwrap();
    assert_eq!(
        (
            calling.description.as_str(),
            calling.unit_of_measure.as_str(),
            calling.charge_type.as_str()
        ),
        ("Calling, usage", "Per User", "Usage")
    );
    assert_eq!(rate_text(&card, "A-W-WXM-MEET-U"), ("4".to_owned(), None));
    for header in ["sku,Rate Price,currency", "SKU,PRICE,CURRENCY", "sku,rate,currency"] {
        let card = WholesaleRateCard::from_csv(format!("{header}\nX,1.5,EUR\n").as_bytes()).unwrap();
        assert_eq!(rate_text(&card, "X"), ("1.5".to_owned(), None), "{header}");
    }
}

#[test]
fn csv_errors_are_located() {
    let cases = [
        (
            "sku,rate,currency\nA,-1,USD\n",
            "line 2, column 2 (rate): error: negative price -1",
        ),
        (
            "sku,rate,currency\nA,1,USD\nA,2,USD\n",
            "line 3, column 1 (sku): error: SKU A appears twice (first on line 2)",
        ),
        (
            "sku,rate,currency\n,1,USD\n",
            "line 2, column 1 (sku): error: sku is required",
        ),
        (
            "sku,rate,currency\nA,1.2.3,USD\n",
            "line 2, column 2 (rate): error: invalid price \"1.2.3\": not a plain decimal number",
        ),
        (
            "sku,rate,currency\nA,\"1,000.00\",USD\n",
            "line 2, column 2 (rate): error: invalid price \"1,000.00\": not a plain decimal number",
        ),
        (
            "sku,currency,rate,committed_rate\nA,USD,1,-0.5\n",
            "line 2, column 4 (committed_rate): error: negative price -0.5",
        ),
        (
            "sku,rate,currency\nA,,USD\n",
            "line 2, column 2 (rate): error: rate is required",
        ),
        (
            "sku,rate,currency\nA,1,\n",
            "line 2, column 3 (currency): error: currency is required",
        ),
        (
            "sku,rate,currency\nA,1,USD\nB,2,EUR\n",
            "line 3, column 3 (currency): error: currency EUR differs from USD (line 2): a rate card has one currency",
        ),
        (
            "sku,rate,currency\nA,1,XXX\n",
            "line 2, column 3 (currency): error: unknown currency \"XXX\"; give an ISO 4217 code (USD, EUR, GBP, \
             JPY, ...)",
        ),
        (
            "sku,currency\nA,USD\n",
            "line 1: error: the header lacks required column(s): rate",
        ),
        (
            "sku,price,rate,currency\n",
            "line 1: error: column rate appears twice (columns 2 and 3)",
        ),
        (
            "sku,rate,currency\n",
            "line 1: error: no rate rows: a rate card needs at least one row (its currency is read from the rows)",
        ),
        ("", "line 1: error: empty file: no header row"),
    ];
    for (csv, expected) in cases {
        let err = WholesaleRateCard::from_csv(csv.as_bytes()).unwrap_err();
        let Error::Rejected { source_name, issues } = &err else {
            panic!("{csv:?}: {err:?}")
        };
        assert_eq!(*source_name, "wholesale rate card");
        assert_eq!(issues.len(), 1, "{csv:?}: {issues:?}");
        assert_eq!(issues[0].to_string(), expected, "{csv:?}");
    }
}

#[test]
fn csv_reports_every_bad_row() {
    let csv = "sku,rate,currency\nA,1,USD\nB,x,USD\nA,2,USD\n,3,EUR\nC,4,USD\n";
    let err = WholesaleRateCard::from_csv(csv.as_bytes()).unwrap_err();
    let issues: Vec<String> = err.issues().iter().map(ToString::to_string).collect();
    assert_eq!(
        issues,
        [
            "line 3, column 2 (rate): error: invalid price \"x\": not a plain decimal number",
            "line 4, column 1 (sku): error: SKU A appears twice (first on line 2)",
            "line 5, column 1 (sku): error: sku is required",
            "line 5, column 3 (currency): error: currency EUR differs from USD (line 2): a rate card has one currency",
        ]
    );
    assert!(
        err.to_string()
            .starts_with("wholesale rate card: 4 row error(s); first: line 3")
    );
}

// ---- TOML and JSON ----

#[test]
fn toml_errors_are_located() {
    let cases = [
        (
            "currency = \"USD\"\n[rates.X]\nrate = 8.00\n",
            "wholesale rate card: line 3, column 8 at rates.X.rate: a price written as a float is not exact: write \
             prices as strings, e.g. rate = \"8.00\"",
        ),
        (
            "currency = \"USD\"\n[rates.X]\nrate = \"8\"\ncommitted_rate = 7.5\n",
            "wholesale rate card: line 4, column 18 at rates.X.committed_rate: a price written as a float is not \
             exact: write prices as strings, e.g. rate = \"8.00\"",
        ),
        (
            "currency = \"USD\"\n[rates.X]\nrate = \"-8.00\"\n",
            "wholesale rate card: line 3, column 8 at rates.X.rate: negative price -8.00",
        ),
        (
            "currency = \"USD\"\n[rates.X]\nrate = \"1e3\"\n",
            "wholesale rate card: line 3, column 8 at rates.X.rate: invalid price \"1e3\": not a plain decimal number",
        ),
        (
            "currency = \"USD\"\n[rates.X]\nrate = \"8\"\ncomitted_rate = \"7\"\n",
            "wholesale rate card: line 4, column 1 at rates.X.comitted_rate: unknown field `comitted_rate`, expected \
             one of `rate`, `committed_rate`, `description`, `unit_of_measure`, `charge_type`",
        ),
        (
            "currency = \"USD\"\n[rates.X]\ndescription = \"x\"\n",
            "wholesale rate card: line 2, column 1 at rates.X: missing field `rate`",
        ),
        (
            "currency = \"USD\"\n[rates.\"\"]\nrate = \"1\"\n",
            "wholesale rate card: line 2, column 2 at rates: a rate with an empty SKU",
        ),
        (
            "currency = \"XXX\"\n",
            "wholesale rate card: line 1, column 12 at currency: unknown currency \"XXX\"; give an ISO 4217 code (USD, \
             EUR, GBP, JPY, ...)",
        ),
        (
            "[rates.X]\nrate = \"1\"\n",
            "wholesale rate card: line 1, column 1: missing field `currency`",
        ),
        (
            "currency = \"USD\"\n[rates.X\nrate = \"1\"\n",
            "wholesale rate card: line 2, column 9: unclosed table, expected `]`",
        ),
        (
            "currency = \"USD\"\n[rates.X]\nrate = \"1\"\n[rates.X]\nrate = \"2\"\n",
            "wholesale rate card: line 4, column 8: duplicate key",
        ),
    ];
    for (toml, expected) in cases {
        let err = WholesaleRateCard::from_toml_str(toml).unwrap_err();
        let Error::InvalidFile { file, location, .. } = &err else {
            panic!("{toml:?}: {err:?}")
        };
        assert_eq!(*file, "wholesale rate card");
        assert!(location.line.is_some() && location.column.is_some(), "{toml:?}");
        assert_eq!(wholesale_billing::error_with_causes(&err), expected, "{toml:?}");
    }
}

#[test]
fn json_errors_are_located() {
    let cases = [
        (
            r#"{"currency": "USD", "rates": {"X": {"rate": 8.5}}}"#,
            "wholesale rate card: line 1, column 47 at rates.X.rate: a price written as a float is not exact: write \
             prices as strings, e.g. \"rate\": \"8.00\"",
        ),
        (
            "{\"currency\": \"USD\",\n \"rates\": {\"X\": {\"rate\": \"1\"},\n  \"X\": {\"rate\": \"2\"}}}",
            "wholesale rate card: line 3, column 5 at rates: SKU X appears twice",
        ),
        (
            r#"{"currency": "USD", "rates": {"": {"rate": "1"}}}"#,
            "wholesale rate card: line 1, column 32 at rates: a rate with an empty SKU",
        ),
        (
            r#"{"currency": "USD", "rates": {"X": {"rate": "-2"}}}"#,
            "wholesale rate card: line 1, column 48 at rates.X.rate: negative price -2",
        ),
        (
            r#"{"currency": "USD", "rates": {"X": {"rate": "1"}}} x"#,
            "wholesale rate card: line 1, column 52: trailing characters",
        ),
        (
            r#"{"currency": "USD", "rates": {"X": {"rate": "1", "sku": "X"}}}"#,
            "wholesale rate card: line 1, column 54 at rates.X.sku: unknown field `sku`, expected one of `rate`, \
             `committed_rate`, `description`, `unit_of_measure`, `charge_type`",
        ),
    ];
    for (json, expected) in cases {
        let err = WholesaleRateCard::from_json_str(json).unwrap_err();
        assert!(matches!(err, Error::InvalidFile { .. }), "{err:?}");
        assert_eq!(wholesale_billing::error_with_causes(&err), expected, "{json}");
    }
}

// ---- Round trips ----

fn sample_card() -> WholesaleRateCard {
    let mut card = WholesaleRateCard::new(Currency::EUR);
    let mut calling = WholesaleRate::new("A-W-WXC-CALL-U", "8.000".parse().unwrap());
    calling.committed_rate = Some("7.5".parse().unwrap());
    calling.description = "Wholesale \"Webex\" Calling, Usage".into();
    calling.unit_of_measure = "Per User".into();
    calling.charge_type = "Usage".into();
    card.insert(calling).unwrap();
    card.insert(WholesaleRate::new("A-W-WXM-MEET-U", "0".parse().unwrap()))
        .unwrap();
    card.insert(WholesaleRate::new("SVS FLEX.SUPT#BAS", "0.00".parse().unwrap()))
        .unwrap();
    card
}

fn csv_of(card: &WholesaleRateCard) -> String {
    let mut out = Vec::new();
    card.write_csv(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn every_form_round_trips_exactly() {
    let card = sample_card();
    let csv = csv_of(&card);
    assert_eq!(
        csv,
        "sku,rate,committed_rate,currency,description,unit_of_measure,charge_type\n\
         A-W-WXC-CALL-U,8.000,7.5,EUR,\"Wholesale \"\"Webex\"\" Calling, Usage\",Per User,Usage\n\
         A-W-WXM-MEET-U,0,,EUR,,,\n\
         SVS FLEX.SUPT#BAS,0.00,,EUR,,,\n"
    );
    let from_csv = WholesaleRateCard::from_csv(csv.as_bytes()).unwrap();
    let toml = from_csv.to_toml_string().unwrap();
    let from_toml = WholesaleRateCard::from_toml_str(&toml).unwrap();
    let json = from_toml.to_json_string().unwrap();
    let from_json = WholesaleRateCard::from_json_str(&json).unwrap();
    for other in [&from_csv, &from_toml, &from_json] {
        assert_eq!(other, &card);
        assert_eq!(csv_of(other), csv, "the scales of the prices are kept");
    }
    assert!(
        toml.contains("[rates.\"SVS FLEX.SUPT#BAS\"]\nrate = \"0.00\"\n"),
        "{toml}"
    );
    assert!(toml.contains("rate = \"8.000\"\ncommitted_rate = \"7.5\"\n"), "{toml}");
    assert!(json.contains("\"rate\": \"8.000\""), "{json}");
}

#[test]
fn an_empty_card_round_trips_through_toml_and_json() {
    let card = WholesaleRateCard::new(Currency::GBP);
    let toml = card.to_toml_string().unwrap();
    assert_eq!(WholesaleRateCard::from_toml_str(&toml).unwrap(), card);
    assert_eq!(
        WholesaleRateCard::from_json_str(&card.to_json_string().unwrap()).unwrap(),
        card
    );
    // The CSV form carries the currency on its rows: an empty card cannot be read back from it.
    assert!(WholesaleRateCard::from_csv(csv_of(&card).as_bytes()).is_err());
}

#[test]
fn an_offer_details_card_converts_to_every_form() {
    let card = WholesaleRateCard::from_offer_details_json(TWO_SKUS).unwrap();
    let toml = card.to_toml_string().unwrap();
    assert_eq!(
        toml,
        "currency = \"USD\"\n\n\
         [rates.A-W-WXC-CALL-U]\nrate = \"9.95\"\ncommitted_rate = \"8.95\"\n\
         description = \"Wholesale Webex Calling Usage\"\nunit_of_measure = \"Per User\"\ncharge_type = \"Usage\"\n\n\
         [rates.A-W-WXM-MEET-U]\nrate = \"4.5000\"\n\
         description = \"Wholesale Webex Meetings Usage\"\nunit_of_measure = \"Per User\"\ncharge_type = \"Usage\"\n"
    );
    assert_eq!(WholesaleRateCard::from_toml_str(&toml).unwrap(), card);
    assert_eq!(WholesaleRateCard::from_csv(csv_of(&card).as_bytes()).unwrap(), card);
}

/// A plain non-negative decimal with 0 to 8 decimals, as text.
fn decimal_text() -> impl Strategy<Value = String> {
    (0u64..10_000_000_000, 0u32..=8).prop_map(|(mantissa, scale)| {
        let digits = format!("{mantissa:0>width$}", width = scale as usize + 1);
        let (int, frac) = digits.split_at(digits.len() - scale as usize);
        if frac.is_empty() {
            int.to_owned()
        } else {
            format!("{int}.{frac}")
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any decimal rate survives TOML → card → CSV → card → TOML digit for digit.
    #[test]
    fn random_rates_survive_toml_and_csv(
        rates in proptest::collection::btree_map(
            "[A-Z][A-Z0-9-]{0,15}",
            (decimal_text(), proptest::option::of(decimal_text()), "([A-Za-z0-9][A-Za-z0-9,\"' ]{0,12}[A-Za-z0-9])?"),
            1..8,
        ),
        currency in prop::sample::select(vec!["USD", "EUR", "JPY", "KWD"]),
    ) {
        let mut toml = format!("currency = \"{currency}\"\n");
        for (sku, (rate, committed, description)) in &rates {
            toml.push_str(&format!("\n[rates.\"{sku}\"]\nrate = \"{rate}\"\n"));
            if let Some(c) = committed {
                toml.push_str(&format!("committed_rate = \"{c}\"\n"));
            }
            toml.push_str(&format!("description = \"{}\"\n", description.replace('"', "\\\"")));
        }
        let card = WholesaleRateCard::from_toml_str(&toml).unwrap();
        let csv = csv_of(&card);
        let again = WholesaleRateCard::from_csv(csv.as_bytes()).unwrap();
        prop_assert_eq!(&again, &card);
        let read: BTreeMap<String, (String, Option<String>, String)> = again
            .rates()
            .map(|r| (r.sku.clone(), (r.rate.to_string(), r.committed_rate.map(|c| c.to_string()), r.description.clone())))
            .collect();
        let written: BTreeMap<String, (String, Option<String>, String)> =
            rates.into_iter().collect();
        prop_assert_eq!(read, written);
        prop_assert_eq!(again.to_toml_string().unwrap(), card.to_toml_string().unwrap());
        prop_assert_eq!(again.currency().to_string(), currency);
    }
}
