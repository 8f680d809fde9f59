#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Call detail records (SPEC §7.1, §7.7): the CSV report and the feed's JSON give the same
//! records; duplicates; strict and lenient reads; located errors; both readers never panic.

use proptest::prelude::*;
use wholesale_billing::{
    CallRecord, CallType, CdrFormat, CdrReadOptions, CdrReader, Direction, Error, IssueKind, LoadMode, Severity,
    read_call_records,
};

const CSV: &str = "\u{feff}Report ID,Start time,Duration,Direction,Call type,Answered,Called number,Calling number,Org UUID,User UUID,Site timezone,Location,Client type\n\
0a0c2eb7-f1f6-3326-86f9-565d2e11553d,2024-05-03T10:30:00.123Z,61,ORIGINATING,SIP_NATIONAL,true,+44 20 7946 0000,+44 20 7946 0001,org-1,user-1,60,Leeds,WXC_DEVICE\n\
r2,2024-05-04T01:00:00+02:00,0,TERMINATING,SIP_INBOUND,FALSE,+44 20 7946 0001,,org-1,,-300,Leeds,\n\
r3,2024-05-04T23:59:59.999999999Z,3600,originating,sip_international,True,0033 1 23 45 67 89,,org-2,user-9,,\"York, North\",SIP\n";

const JSON: &str = r#"{"items": [
  {"Report ID": "0a0c2eb7-f1f6-3326-86f9-565d2e11553d", "Start time": "2024-05-03T11:30:00.123+01:00",
   "Duration": 61, "Direction": "ORIGINATING", "Call type": "SIP_NATIONAL", "Answered": true,
   "Called number": "+44 20 7946 0000", "Calling number": "+44 20 7946 0001", "Org UUID": "org-1",
   "User UUID": "user-1", "Site timezone": 60, "Location": "Leeds", "Client type": "WXC_DEVICE"},
  {"Report ID": "r2", "Start time": "2024-05-03T23:00:00Z", "Duration": "0", "Direction": "TERMINATING",
   "Call type": "SIP_INBOUND", "Answered": "false", "Called number": "+44 20 7946 0001", "Calling number": null,
   "Org UUID": "org-1", "User UUID": "", "Site timezone": "-300", "Location": "Leeds", "Client type": ""},
  {"report_id": "r3", "StartTime": "2024-05-04T23:59:59.999999999Z", "duration": 3600,
   "DIRECTION": "originating", "call type": "sip_international", "Answered": "True",
   "Called number": "0033 1 23 45 67 89", "Org UUID": "org-2", "User UUID": "user-9", "Site timezone": null,
   "Location": "York, North", "Client type": "SIP"}
], "next": null}"#;

fn read_all(
    inputs: &[&str],
    options: &CdrReadOptions,
) -> Result<(Vec<CallRecord>, wholesale_billing::CdrDiagnostics), Error> {
    let mut records = Vec::new();
    let diagnostics = read_call_records(inputs.iter().map(|s| s.as_bytes()), options, |r| {
        records.push(r.clone());
        Ok(())
    })?;
    Ok((records, diagnostics))
}

fn lenient() -> CdrReadOptions {
    CdrReadOptions {
        mode: LoadMode::Lenient,
        ..CdrReadOptions::default()
    }
}

#[test]
fn csv_and_json_of_the_same_records_are_equal() {
    let (csv, _) = read_all(&[CSV], &CdrReadOptions::default()).unwrap();
    let (json, _) = read_all(&[JSON], &CdrReadOptions::default()).unwrap();
    assert_eq!(csv.len(), 3);
    for (c, j) in csv.iter().zip(&json) {
        assert_eq!(c.fields(), j.fields());
    }
    // The other columns are equal but for the JSON null, kept as empty text, and the JSON record
    // r3 that lacks `Calling number` (absent and empty read alike).
    assert_eq!(csv[0], json[0]);
    assert_eq!(
        csv[0].others().collect::<Vec<_>>(),
        [("Location", "Leeds"), ("Client type", "WXC_DEVICE")]
    );
    assert_eq!(csv[2].other("location"), Some("York, North"));
    assert_eq!(json[2].other("Client type"), Some("SIP"));

    let r = &csv[1];
    assert_eq!(r.start_time().to_string(), "2024-05-03T23:00:00Z");
    assert_eq!(
        (r.duration(), r.direction(), r.call_type(), r.answered()),
        (0, Direction::Terminating, CallType::SipInbound, false)
    );
    assert_eq!((r.calling_number(), r.user_uuid(), r.site_timezone()), ("", "", -300));
    assert_eq!(csv[2].start_time().to_string(), "2024-05-04T23:59:59.999999999Z");
    assert_eq!(csv[2].site_timezone(), 0);
    assert_eq!(csv[2].call_type(), CallType::SipInternational);

    // Origins: CSV lines, JSON item indices and the line of each item.
    assert_eq!(csv.iter().map(|r| r.origin().line).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(
        json.iter()
            .map(|r| (r.origin().item, r.origin().line))
            .collect::<Vec<_>>(),
        [(Some(0), 2), (Some(1), 6), (Some(2), 9)]
    );
}

#[test]
fn the_same_records_in_two_inputs_are_identical_duplicates() {
    let (records, diagnostics) = read_all(&[CSV, JSON], &CdrReadOptions::default()).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(diagnostics.inputs, 2);
    assert_eq!(diagnostics.records_read, 6);
    assert_eq!(diagnostics.duplicates_skipped, 3);
    assert_eq!(diagnostics.warnings, 3);
    let warning = &diagnostics.issues[0];
    assert_eq!(warning.kind, IssueKind::DuplicateRecord);
    assert_eq!(warning.severity, Severity::Warning);
    assert_eq!(warning.input, Some(1));
    assert_eq!(
        warning.to_string(),
        "input 2, line 2, column 4 (items[0].Report ID): warning: an identical duplicate of the record at input 1, line 2: skipped"
    );
}

#[test]
fn a_conflicting_duplicate_is_an_error_locating_both_records() {
    let changed = JSON.replacen("\"Duration\": 61", "\"Duration\": 62", 1);
    let err = read_all(&[CSV, &changed], &CdrReadOptions::default()).unwrap_err();
    let Error::RecordsRejected { errors, issues } = &err else {
        panic!("{err}")
    };
    assert_eq!(*errors, 1);
    assert_eq!(issues[0].kind, IssueKind::ConflictingRecordId);
    assert_eq!(
        issues[0].to_string(),
        "input 2, line 2, column 4 (items[0].Report ID): error: report id \"0a0c2eb7-f1f6-3326-86f9-565d2e11553d\" \
         was first read at input 1, line 2 with other content"
    );
    // Lenient: the first is kept, the conflicting one refused and reported.
    let (records, diagnostics) = read_all(&[CSV, &changed], &lenient()).unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].duration(), 61);
    assert_eq!((diagnostics.records_rejected, diagnostics.duplicates_skipped), (1, 2));
    // A conflict within JSON names the first record by its item.
    let twice = JSON.replacen(
        "\"Report ID\": \"r2\"",
        "\"Report ID\": \"0a0c2eb7-f1f6-3326-86f9-565d2e11553d\"",
        1,
    );
    let err = read_all(&[&twice], &CdrReadOptions::default()).unwrap_err();
    assert!(
        err.issues()[0]
            .message
            .ends_with("first read at input 1 at items[0] with other content"),
        "{err}"
    );
}

#[test]
fn non_uuid_ids_are_deduplicated_too() {
    let csv = "Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID\n\
               A-1,2024-05-03T10:30:00Z,5,ORIGINATING,SIP_NATIONAL,true,o\n\
               a-1,2024-05-03T10:30:00Z,5,ORIGINATING,SIP_NATIONAL,true,o\n\
               A-1,2024-05-03T10:30:00+00:00,5,ORIGINATING,SIP_NATIONAL,TRUE,o\n\
               0A0C2EB7-F1F6-3326-86F9-565D2E11553D,2024-05-03T10:30:00Z,5,ORIGINATING,SIP_NATIONAL,true,o\n\
               0a0c2eb7-f1f6-3326-86f9-565d2e11553d,2024-05-03T10:30:00Z,5,ORIGINATING,SIP_NATIONAL,true,o\n";
    let (records, diagnostics) = read_all(&[csv], &CdrReadOptions::default()).unwrap();
    let ids: Vec<&str> = records.iter().map(CallRecord::report_id).collect();
    assert_eq!(
        ids,
        [
            "A-1",
            "a-1",
            "0A0C2EB7-F1F6-3326-86F9-565D2E11553D",
            "0a0c2eb7-f1f6-3326-86f9-565d2e11553d"
        ]
    );
    assert_eq!(diagnostics.duplicates_skipped, 1);
}

#[test]
fn strict_reads_on_and_fails_with_every_error_lenient_skips_them() {
    let csv = "Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID,Site timezone\n\
               r1,2024-05-03T10:30:00Z,-5,ORIGINATING,SIP_NATIONAL,true,o,\n\
               r2,2024-05-03T10:30:00,12.5,ORIGINATING,SIP_NATIONAL,yes,o,1441\n\
               r3,2024-05-03T10:30:00Z,5,ORIGINATING,SIP_NATIONAL,true,o,-60\n\
               r4,2024-05-03T10:30:00Z,5,SIDEWAYS,SIP_LOCAL,true,,\n";
    let mut delivered = 0;
    let err = read_call_records([csv.as_bytes()], &CdrReadOptions::default(), |_| {
        delivered += 1;
        Ok(())
    })
    .unwrap_err();
    // Nothing is passed on after the first error in strict mode.
    assert_eq!(delivered, 0);
    let issues: Vec<String> = err.issues().iter().map(ToString::to_string).collect();
    assert_eq!(
        issues,
        [
            "input 1, line 2, column 3 (Duration): error: invalid duration \"-5\": whole seconds, digits only",
            "input 1, line 3, column 2 (Start time): error: invalid timestamp \"2024-05-03T10:30:00\": no utc offset: write `Z` or `+HH:MM` after the time (rfc 3339)",
            "input 1, line 3, column 3 (Duration): error: invalid duration \"12.5\": whole seconds, digits only",
            "input 1, line 3, column 6 (Answered): error: invalid answered \"yes\": expected true or false",
            "input 1, line 3, column 8 (Site timezone): error: invalid site timezone \"1441\": beyond ±1440 minutes (a day) from utc",
            "input 1, line 5, column 4 (Direction): error: invalid direction \"SIDEWAYS\": expected ORIGINATING or TERMINATING",
            "input 1, line 5, column 5 (Call type): error: invalid call type \"SIP_LOCAL\": expected one of: SIP_NATIONAL, SIP_MOBILE, SIP_INTERNATIONAL, SIP_PREMIUM, SIP_SHORTCODE, SIP_TOLLFREE, SIP_EMERGENCY, SIP_ENTERPRISE, SIP_INBOUND, SIP_MEETING, UNKNOWN",
            "input 1, line 5, column 7 (Org UUID): error: Org UUID is required",
        ]
    );
    assert_eq!(err.issues()[1].kind, IssueKind::MissingOffset);
    assert_eq!(err.issues()[7].kind, IssueKind::MissingField);

    let (records, diagnostics) = read_all(&[csv], &lenient()).unwrap();
    assert_eq!(records.iter().map(CallRecord::report_id).collect::<Vec<_>>(), ["r3"]);
    assert_eq!(
        (
            diagnostics.records_read,
            diagnostics.records_rejected,
            diagnostics.errors
        ),
        (4, 3, 8)
    );
}

#[test]
fn strict_errors_are_capped_and_counted() {
    let mut csv = String::from("Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID\n");
    for i in 0..30 {
        csv.push_str(&format!(
            "r{i},2024-05-03T10:30:00Z,x,ORIGINATING,SIP_NATIONAL,true,o\n"
        ));
    }
    let options = CdrReadOptions {
        max_issues: 10,
        ..CdrReadOptions::default()
    };
    let err = read_all(&[&csv], &options).unwrap_err();
    assert!(matches!(err, Error::RecordsRejected { errors: 30, .. }));
    assert_eq!(err.issues().len(), 10);
    assert!(err.to_string().ends_with("; 20 more not listed"), "{err}");
}

#[test]
fn json_values_follow_the_rules_and_errors_name_their_path() {
    let json = r#"{"items": [
  {"Report ID": "r1", "Start time": "2024-05-03T10:30:00Z", "Duration": 12.5, "Direction": "ORIGINATING",
   "Call type": "SIP_NATIONAL", "Answered": "yes", "Org UUID": "o", "Site timezone": 30.0},
  {"Report ID": "r2", "Start time": "2024-05-03T10:30:00Z", "Duration": -5, "Direction": "ORIGINATING",
   "Call type": "SIP_NATIONAL", "Answered": 1, "Org UUID": "o", "Duration": 5},
  {"Report ID": "r3", "Start time": "2024-05-03T10:30:00Z", "Duration": 36.0, "Direction": "ORIGINATING",
   "Call type": "SIP_NATIONAL", "Answered": true, "Org UUID": null},
  "not a record",
  {"Report ID": "r5", "Start time": "2024-05-03T10:30:00Z", "Duration": 5, "Direction": "ORIGINATING",
   "Call type": "SIP_NATIONAL", "Answered": false, "Org UUID": "o", "Site timezone": "-90", "Extra": {"a": [1]}}
]}"#;
    let err = read_all(&[json], &CdrReadOptions::default()).unwrap_err();
    let issues: Vec<String> = err.issues().iter().map(ToString::to_string).collect();
    assert_eq!(
        issues,
        [
            "input 1, line 2, column 61 (items[0].Duration): error: invalid duration \"12.5\": whole seconds, digits only",
            "input 1, line 3, column 33 (items[0].Answered): error: invalid answered \"yes\": expected true or false",
            "input 1, line 3, column 69 (items[0].Site timezone): error: invalid site timezone \"30.0\": whole minutes from utc, digits with an optional sign",
            "input 1, line 5, column 65 (items[1].Duration): error: the key \"Duration\" appears twice in the record",
            "input 1, line 4, column 61 (items[1].Duration): error: invalid duration \"-5\": whole seconds, digits only",
            "input 1, line 5, column 33 (items[1].Answered): error: invalid answered: a number, where text is expected",
            "input 1, line 6, column 61 (items[2].Duration): error: invalid duration \"36.0\": whole seconds, digits only",
            "input 1, line 7, column 51 (items[2].Org UUID): error: Org UUID is required",
            "input 1, line 8 (items[3]): error: a call record must be an object, not a string",
        ]
    );
    let (records, _) = read_all(&[json], &lenient()).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].site_timezone(), -90);
    assert_eq!(records[0].other("extra"), Some(r#"{"a":[1]}"#));
}

#[test]
fn cut_files_are_located_errors() {
    // A CSV cut in its last row.
    let cut = &CSV[..CSV.len() - 20];
    let err = read_all(&[cut], &CdrReadOptions::default()).unwrap_err();
    assert_eq!(
        err.issues()[0].to_string(),
        "input 1, line 4, column 11 (Site timezone): error: the file ends mid-row: its last row has 10 of the header's 13 fields (a file cut short)"
    );
    // A JSON cut in an item: the items before it are read.
    let cut = &JSON[..JSON.find("\"r3\"").unwrap()];
    let (records, diagnostics) = read_all(&[cut], &lenient()).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(diagnostics.records_rejected, 1);
    assert_eq!(
        diagnostics.issues[0].to_string(),
        "input 1, line 9, column 16 (items[2]): error: the file ends mid-document (a file cut short)"
    );
    assert_eq!(diagnostics.issues[0].kind, IssueKind::MalformedJson);
    // A JSON without items; not JSON at all.
    let (_, diagnostics) = read_all(&["{\"data\": []}"], &lenient()).unwrap();
    assert_eq!(
        diagnostics.issues[0].message,
        "no items array: the feed's json is {\"items\": [...]}"
    );
    let (_, diagnostics) = read_all(&["{\"items\": [}"], &lenient()).unwrap();
    assert!(
        diagnostics.issues[0].message.starts_with("malformed json: "),
        "{:?}",
        diagnostics.issues
    );
}

#[test]
fn a_header_without_a_required_column_is_refused_naming_it() {
    let csv =
        "Report ID,Start time,Direction,Call type,Answered\nr1,2024-05-03T10:30:00Z,ORIGINATING,SIP_NATIONAL,true\n";
    let err = read_all(&[CSV, csv], &CdrReadOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }));
    assert_eq!(
        err.issues()[0].to_string(),
        "input 2, line 1: error: the header lacks required column(s): Duration, Org UUID"
    );
    let err = read_all(&[""], &CdrReadOptions::default()).unwrap_err();
    assert_eq!(
        err.issues()[0].to_string(),
        "input 1, line 1: error: empty file: no header row"
    );
}

#[test]
fn the_consumer_can_stop_the_read() {
    let mut reader = CdrReader::new(CdrReadOptions::default());
    let err = reader
        .read(JSON.as_bytes(), Some(CdrFormat::Json), |r| {
            Err(Error::Overflow {
                operation: "test stop",
                subject: r.report_id().to_owned(),
            })
        })
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Overflow {
            operation: "test stop",
            ..
        }
    ));
    let err = CdrReader::new(CdrReadOptions::default())
        .read(CSV.as_bytes(), None, |_| Err(Error::NoReports { purpose: "the test" }))
        .unwrap_err();
    assert!(matches!(err, Error::NoReports { .. }));
}

/// Every issue of a read says where: a line, and a column or a JSON path.
fn assert_located(result: Result<(Vec<CallRecord>, wholesale_billing::CdrDiagnostics), Error>) {
    let issues = match &result {
        Ok((_, diagnostics)) => diagnostics.issues.clone(),
        Err(e @ (Error::Rejected { .. } | Error::RecordsRejected { .. })) => e.issues().to_vec(),
        Err(e) => panic!("unexpected error {e:?}"),
    };
    if let Err(e) = &result {
        assert!(!e.issues().is_empty());
    }
    for issue in issues {
        assert!(issue.line >= 1, "{issue}");
        assert_eq!(issue.input, Some(0), "{issue}");
        assert!(!issue.message.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), json in any::<bool>()) {
        let mut input = bytes;
        if json {
            input.insert(0, b'{');
        }
        for mode in [LoadMode::Strict, LoadMode::Lenient] {
            let options = CdrReadOptions { mode, ..CdrReadOptions::default() };
            let mut records = Vec::new();
            let result = read_call_records([&input[..]], &options, |r| { records.push(r.clone()); Ok(()) })
                .map(|d| (records, d));
            assert_located(result);
        }
    }

    #[test]
    fn mutated_valid_files_never_panic(
        json in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..8),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let mut input = if json { JSON } else { CSV }.as_bytes().to_vec();
        for (at, byte, op) in edits {
            let i = at.index(input.len().max(1));
            match op {
                0 if i < input.len() => input[i] = byte,
                1 => input.insert(i.min(input.len()), byte),
                _ if i < input.len() => { input.remove(i); }
                _ => {}
            }
        }
        if do_cut {
            input.truncate(cut.index(input.len() + 1));
        }
        let options = CdrReadOptions { mode: LoadMode::Lenient, ..CdrReadOptions::default() };
        let mut records = Vec::new();
        let result = read_call_records([&input[..]], &options, |r| { records.push(r.clone()); Ok(()) })
            .map(|d| (records, d));
        if let Ok((records, diagnostics)) = &result {
            prop_assert_eq!(records.len() as u64, diagnostics.records_accepted);
            prop_assert!(diagnostics.records_accepted + diagnostics.records_rejected + diagnostics.duplicates_skipped
                <= diagnostics.records_read);
        }
        assert_located(result);
    }
}
