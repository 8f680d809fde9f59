#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every error says where: invalid UTF-8 in a TOML or JSON file names its byte offset and line; a
//! missing rate or price names the usage row that needs it; a huge field is quoted by its first
//! 80 characters, not in full.

use wholesale_billing::ccws::OfferDetailsResponse;
use wholesale_billing::{
    AssignmentLedger, Billing, Currency, Decimal, Error, ErrorKind, ExpectedInvoice, LoadMode, OrgFormat, Organisation,
    Period, PriceBook, ReadOptions, RowOrigin, UsageReport, WholesaleRate, WholesaleRateCard, error_with_causes,
};

const ORG: &str = "[partner]\norg_id = \"p\"\nname = \"Acme\"\nsubscription_id = \"Sub1\"\n";

/// A field of 5 MiB.
fn huge(c: char) -> String {
    c.to_string().repeat(5 * 1024 * 1024)
}

fn may() -> Period {
    Period::month(2024, 5).unwrap()
}

/// A report read from CSV, of May 2024.
fn read(csv: &str) -> UsageReport {
    UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())
        .unwrap()
        .0
        .with_period(may())
        .unwrap()
}

/// The byte offset, line and column of the first invalid byte, from the source of the error.
fn utf8_location(err: &Error) -> (usize, Option<usize>, Option<usize>) {
    let Error::InvalidFile { location, source, .. } = err else {
        panic!("{err:?}")
    };
    let Error::InvalidUtf8 { offset, .. } = **source else {
        panic!("{source:?}")
    };
    (offset, location.line, location.column)
}

#[test]
fn invalid_utf8_in_every_text_file_names_byte_line_and_column() {
    // Offsets, lines and columns as Python's decoder counts them (columns in characters, 1-based).
    let org = b"[partner]\norg_id = \"p\"\nname = \"\xe9\"\nsubscription_id = \"S\"\n";
    let err = Organisation::from_slice_with_format(org, OrgFormat::Toml).unwrap_err();
    assert_eq!(utf8_location(&err), (31, Some(3), Some(9)));
    assert_eq!(
        error_with_causes(&err),
        "organisation file: line 3, column 9: invalid utf-8 at byte 31: invalid utf-8 sequence of 1 bytes from index 31"
    );
    let err = Organisation::from_reader(&org[..], OrgFormat::Toml).unwrap_err();
    assert_eq!(utf8_location(&err), (31, Some(3), Some(9)));

    let json_org = b"{\"partner\": {\"org_id\": \"p\",\n \"name\": \"Acme\",\n \"subscription_id\": \"\xff\"}}";
    let err = Organisation::from_slice_with_format(json_org, OrgFormat::Json).unwrap_err();
    assert_eq!(utf8_location(&err), (66, Some(3), Some(22)));

    let book = b"currency = \"EUR\"\n[skus.X]\nprice = \"1\"\ndescription = \"caf\xe9\"\n";
    let err = PriceBook::from_toml_slice(book).unwrap_err();
    assert_eq!(utf8_location(&err), (56, Some(4), Some(19)));
    assert!(PriceBook::from_json_slice(b"{\"currency\": \"\xe9\"}").is_err());

    let card = b"currency = \"USD\"\n\n[rates.\"A\xc0\"]\nrate = \"1\"\n";
    let err = WholesaleRateCard::from_toml_slice(card).unwrap_err();
    assert_eq!(utf8_location(&err), (27, Some(3), Some(10)));
    let err = WholesaleRateCard::from_json_slice(b"{\"currency\": \"USD\",\n\"rates\": {\"\x80\": {}}}").unwrap_err();
    assert_eq!(utf8_location(&err), (31, Some(2), Some(12)));

    let offer = b"{\"itemDetails\": [\n  {\"productID\": \"A\", \"productDescription\": \"\xf0\x9f\"}]}";
    let err = OfferDetailsResponse::from_json_slice(offer).unwrap_err();
    assert_eq!(utf8_location(&err), (62, Some(2), Some(45)));
    assert_eq!(err.kind(), ErrorKind::InvalidFile);
}

#[test]
fn a_missing_rate_names_the_line_of_the_row_that_needs_it() {
    let partner = read("SKU,QUANTITY\nA-W-WXC-CALL-U,31\n");
    let reseller = read("SKU,QUANTITY\nA-W-WXC-CALL-U,2\nA-W-NOPE,0\nA-W-NOPE,4\n");
    let mut rates = WholesaleRateCard::new(Currency::USD);
    rates
        .insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0)))
        .unwrap();
    let invoice = ExpectedInvoice::new(&rates);

    // Two reports: the second one's line 4 (its first row of the SKU with usage).
    let err = invoice.build([&partner, &reseller]).unwrap_err();
    let at = RowOrigin {
        report: "usage report",
        file: 1,
        line: 4,
    };
    assert_eq!(err.row(), Some(&at));
    assert_eq!(
        err.to_string(),
        "no wholesale rate for SKU A-W-NOPE, needed by line 4 of usage report 2 (the rate card has A-W-WXC-CALL-U)"
    );

    // The same reports concatenated: the part is the file.
    let both = UsageReport::concat([&partner, &reseller]).unwrap();
    let err = invoice.build([&both]).unwrap_err();
    assert_eq!(err.row(), Some(&at));
    // ... and so after sorting and aggregating it.
    let sorted = both.sorted();
    let err = invoice.build([&sorted]).unwrap_err();
    assert_eq!(err.row(), Some(&at));

    // A computed report has no lines: the error names the SKU only.
    let org = Organisation::from_toml_str(ORG).unwrap();
    let events = "event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package\n\
                  e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,USER,webex_meetings\n";
    let (ledger, _) = AssignmentLedger::from_csv(events.as_bytes(), org, LoadMode::Strict).unwrap();
    let computed = ledger
        .usage_report(may(), &wholesale_billing::ReportOptions::default())
        .unwrap();
    let err = invoice.build([&computed]).unwrap_err();
    assert!(matches!(err, Error::MissingRate { row: None, .. }), "{err:?}");
}

#[test]
fn a_missing_price_and_a_missing_margin_rate_name_the_row() {
    let org = Organisation::from_toml_str(ORG).unwrap();
    let usage = read(
        "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,31\nc2,s2,A-W-WXC-CALL-U,31\n\
         c2,s3,A-W-WXM-MEET-U,31\n",
    );
    let book = PriceBook::from_toml_str(
        "currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\nprice = \"10\"\n[skus.\"A-W-WXM-MEET-U\"]\nprice = \"5\"\n",
    )
    .unwrap();
    let mut rates = WholesaleRateCard::new(Currency::USD);
    rates
        .insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0)))
        .unwrap();
    let err = Billing::new(&org, &book).wholesale(&rates).run(&usage).unwrap_err();
    assert!(matches!(err, Error::MissingRate { .. }), "{err:?}");
    assert_eq!(err.row().map(|r| r.line), Some(4));

    let stranger = read(
        "PARTNER_ORG_ID,CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\np,c1,s1,A-W-WXC-CALL-U,31\nx,c9,s2,A-W-WXC-CALL-U,1\n",
    );
    let err = Billing::new(&org, &book).run(&stranger).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the usage report has a row of org x (customer c9, line 3 of usage report 1), neither the partner nor a sub-partner"
    );

    let book = PriceBook::from_toml_str("currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\nprice = \"10\"\n").unwrap();
    let err = Billing::new(&org, &book).run(&usage).unwrap_err();
    assert!(matches!(err, Error::MissingPrice { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "no price for SKU A-W-WXM-MEET-U in the price book (customer c2), needed by line 4 of usage report 1"
    );
}

/// A message about a 5 MiB field holds its first 80 characters and its length, not the field.
fn assert_cut(message: &str, what: &str) {
    assert!(
        message.len() < 1000,
        "{what}: {} bytes: {}…",
        message.len(),
        &message[..200]
    );
    assert!(message.contains("… (524288"), "{what}: {message}");
}

#[test]
fn a_5_mb_field_is_quoted_by_its_first_80_characters() {
    let org = Organisation::from_toml_str(ORG).unwrap();
    let header = "event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package\n";

    // The events reader: a bad timestamp, an unknown action, an unknown package.
    for (row, field) in [
        (
            format!("e1,{},ASSIGN,s1,c1,USER,webex_calling\n", huge('9')),
            "occurred_at",
        ),
        (
            format!("e1,2024-05-01T00:00:00Z,{},s1,c1,USER,webex_calling\n", huge('A')),
            "action",
        ),
        (
            format!("e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,USER,{}\n", huge('p')),
            "package",
        ),
    ] {
        let csv = format!("{header}{row}");
        let err = AssignmentLedger::from_csv(csv.as_bytes(), org.clone(), LoadMode::Strict).unwrap_err();
        assert_eq!(err.issues().len(), 1, "{field}");
        assert_cut(&err.issues()[0].message, field);
        assert_cut(&err.to_string(), field);
    }

    // The report reader: a bad quantity and a bad date.
    for (csv, field) in [
        (format!("SKU,QUANTITY\nA,{}\n", huge('1') + "x"), "QUANTITY"),
        (
            format!("SKU,QUANTITY,CONSUMPTION_START_DATE\nA,1,{}\n", huge('2')),
            "CONSUMPTION_START_DATE",
        ),
    ] {
        let err = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).unwrap_err();
        assert_eq!(err.issues()[0].field.as_deref(), Some(field));
        assert_cut(&err.issues()[0].message, field);
        assert_cut(&err.to_string(), field);
    }

    // A TOML file: a bad timestamp value, an unknown key; a JSON file: a string for a number.
    let bad_value = format!(
        "{ORG}[[sub_partners]]\norg_id = \"sp\"\nname = \"R\"\nbilling_start = \"{}\"\n",
        huge('7')
    );
    let err = Organisation::from_toml_str(&bad_value).unwrap_err();
    assert_cut(&error_with_causes(&err), "billing_start");
    let bad_key = format!("{ORG}{} = 1\n", huge('k'));
    let err = Organisation::from_toml_str(&bad_key).unwrap_err();
    assert_cut(&error_with_causes(&err), "key");
    let bad_type = format!("{{\"currency\": \"USD\", \"rates\": \"{}\"}}", huge('j'));
    let err = WholesaleRateCard::from_json_str(&bad_type).unwrap_err();
    assert!(matches!(&err, Error::InvalidFile { source, .. } if matches!(**source, Error::Json(_))));
    assert_cut(&error_with_causes(&err), "rates");
    let price = format!("currency = \"USD\"\n[rates.A]\nrate = \"{}\"\n", huge('3') + ".5.");
    let err = WholesaleRateCard::from_toml_str(&price).unwrap_err();
    assert_cut(&error_with_causes(&err), "rate");
}
