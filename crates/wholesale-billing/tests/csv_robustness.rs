#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Robustness of the CSV readers (SPEC.md §2 events, §4 vendor reports): fuzz-style properties
//! (random bytes, mutated valid files, random rows) and targeted cases.

use proptest::prelude::*;
use wholesale_billing::{
    AssignmentLedger, Error, HourPolicy, IssueKind, LedgerBuilder, LoadIssue, LoadMode, Organisation, Period,
    ReadOptions, ReportLevel, ReportOptions, ReportRow, Scope, SubscriberType, UsageReport,
};

const ORG: &str = r#"
[partner]
org_id = "partner-1"
name = "Acme Telecom"
subscription_id = "Sub1234567"

[[sub_partners]]
org_id = "sp-1"
name = "Reseller, One"
billing_start = "2024-05-02T06:00:00Z"
"#;

const HEADER: &str = "event_id,occurred_at,action,subscriber_id,customer_org_id,customer_external_id,\
                      sub_partner_org_id,subscriber_type,user_id,workspace_id,package,location_id,license_id";

/// A valid events file with quoting, offsets, a sub-partner, a workspace and a multi-line field.
const VALID_EVENTS: &str = "\
event_id,occurred_at,action,subscriber_id,customer_org_id,customer_external_id,sub_partner_org_id,subscriber_type,user_id,workspace_id,package,location_id,license_id
e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,\"Acme, Inc.\",,USER,u1,,webex_calling,L1,LIC1
e2,2024-05-01T12:30:00+02:00,ASSIGN,s1,c1,\"Acme, Inc.\",,USER,u1,,webex_voice,L1,LIC1
e3,2024-05-02T15:00:00Z,REMOVE,s1,,,,,,,,,
e4,2024-05-01T08:00:00.250Z,ASSIGN,s2,c2,\"multi
line\",sp-1,WORKSPACE,,w2,common_area_calling,,
e5,2024-05-03T01:00:00-05:30,REMOVE,s2,,,,,,,,,
e6,2024-05-02T23:00:00Z,ASSIGN,s3,c1,\"Acme, Inc.\",,USER,\"u\"\"3\",,webex_meetings,L2,
";

fn org() -> Organisation {
    Organisation::from_toml_str(ORG).unwrap()
}

fn may() -> Period {
    Period::month(2024, 5).unwrap()
}

fn lines_in(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

fn check_lines(issues: &[LoadIssue], max_line: u64, what: &str) {
    for issue in issues {
        assert!(
            issue.line >= 1 && issue.line <= max_line,
            "{what}: issue line {} outside 1..={max_line}: {issue}",
            issue.line
        );
    }
}

/// (line, kind) of the issues that fail a strict load.
fn failing(issues: &[LoadIssue]) -> Vec<(u64, IssueKind)> {
    let mut v: Vec<_> = issues
        .iter()
        .filter(|i| i.is_error() || i.kind == IssueKind::RemoveWithoutAssignment)
        .map(|i| (i.line, i.kind))
        .collect();
    v.sort_by_key(|(line, kind)| (*line, format!("{kind:?}")));
    v
}

fn all_reports(ledger: &AssignmentLedger, period: Period) -> Vec<String> {
    let mut out = Vec::new();
    for level in ReportLevel::ALL {
        for policy in HourPolicy::ALL {
            for scope in [Scope::Partner, Scope::SubPartner("sp-1".into()), Scope::Subscription] {
                let options = ReportOptions::new(level).hour_policy(policy).scope(scope);
                let report = ledger.usage_report(period, &options).unwrap();
                let mut text = Vec::new();
                report.write_csv(&mut text).unwrap();
                out.push(String::from_utf8(text).unwrap());
            }
        }
    }
    out
}

/// Feeds `bytes` to the events loader in both modes: no panic, every issue located on a real line,
/// strict and lenient agree.
fn check_events(bytes: &[u8]) {
    let max = lines_in(bytes);
    let strict = AssignmentLedger::from_csv(bytes, org(), LoadMode::Strict);
    let lenient = AssignmentLedger::from_csv(bytes, org(), LoadMode::Lenient);
    if let Err(e) = &strict {
        assert!(!e.issues().is_empty() || matches!(e, Error::Io { .. }), "{e}");
        check_lines(e.issues(), max, "strict events");
    }
    match (&strict, &lenient) {
        (_, Err(e)) => {
            check_lines(e.issues(), max, "lenient events");
            // Lenient fails only when the file itself is unusable (header, broken CSV).
            assert!(e.issues().iter().all(|i| i.kind == IssueKind::MalformedCsv), "{e}");
            assert!(strict.is_err());
        }
        (Ok((a, da)), Ok((b, db))) => {
            check_lines(&da.issues, max, "strict events");
            check_lines(&db.issues, max, "lenient events");
            assert_eq!(da.error_count(), 0);
            assert_eq!(failing(&db.issues), vec![]);
            for period in [may(), Period::from_dates("2024-04-30", "2024-05-02").unwrap()] {
                assert_eq!(all_reports(a, period), all_reports(b, period));
            }
        }
        (Err(e), Ok((b, db))) => {
            check_lines(&db.issues, max, "lenient events");
            assert_eq!(failing(e.issues()), failing(&db.issues), "{e}");
            let _ = all_reports(b, may());
        }
    }
}

/// Feeds `bytes` to the report reader, every level and mode.
fn check_report(bytes: &[u8]) {
    let max = lines_in(bytes);
    for level in [
        None,
        Some(ReportLevel::User),
        Some(ReportLevel::Customer),
        Some(ReportLevel::Partner),
    ] {
        let strict = UsageReport::read_csv(
            bytes,
            &ReadOptions {
                level,
                mode: LoadMode::Strict,
            },
        );
        let lenient = UsageReport::read_csv(
            bytes,
            &ReadOptions {
                level,
                mode: LoadMode::Lenient,
            },
        );
        match (&strict, &lenient) {
            (Err(e), Err(l)) => {
                check_lines(e.issues(), max, "strict report");
                check_lines(l.issues(), max, "lenient report");
                assert!(l.issues().iter().all(|i| i.kind == IssueKind::MalformedCsv), "{l}");
            }
            (Ok(_), Err(l)) => panic!("strict read succeeded where lenient failed: {l}"),
            (Ok((a, da)), Ok((b, db))) => {
                assert!(da.issues.is_empty() && db.issues.is_empty());
                assert_eq!(a.rows().collect::<Vec<_>>(), b.rows().collect::<Vec<_>>());
                let _ = a.aggregate(ReportLevel::Partner);
                let mut out = Vec::new();
                a.write_csv(&mut out).unwrap();
            }
            (Err(e), Ok((b, db))) => {
                check_lines(e.issues(), max, "strict report");
                check_lines(&db.issues, max, "lenient report");
                let strict_issues: Vec<_> = e.issues().iter().map(|i| (i.line, i.kind)).collect();
                let lenient_issues: Vec<_> = db.issues.iter().map(|i| (i.line, i.kind)).collect();
                assert_eq!(strict_issues, lenient_issues);
                assert_eq!(db.rows_read, db.rows_accepted + db.issues.len() as u64);
                assert_eq!(b.len() as u64, db.rows_accepted);
            }
        }
    }
}

fn valid_report_csv() -> Vec<u8> {
    let (ledger, _) = AssignmentLedger::from_csv(VALID_EVENTS.as_bytes(), org(), LoadMode::Strict).unwrap();
    let options = ReportOptions::new(ReportLevel::User).scope(Scope::Subscription);
    let report = ledger.usage_report(may(), &options).unwrap();
    let mut out = Vec::new();
    report.write_csv(&mut out).unwrap();
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    DuplicateLine(usize),
    Truncate(usize),
}

fn special_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => proptest::sample::select(b",\"\n\r:+-.Z0123456789T ".to_vec()),
        1 => any::<u8>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), special_byte()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), 1usize..8).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<usize>(), proptest::collection::vec(special_byte(), 1..6)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Set(i, b) => {
                if !bytes.is_empty() {
                    bytes[i % len] = *b;
                }
            }
            Mutation::Delete(i, n) => {
                let start = (i % len).min(bytes.len());
                let end = (start + n).min(bytes.len());
                bytes.drain(start..end);
            }
            Mutation::Insert(i, v) => {
                let at = (i % (bytes.len() + 1)).min(bytes.len());
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::DuplicateLine(i) => {
                let lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let pick = i % lines.len();
                let mut out = Vec::new();
                for (n, line) in lines.iter().enumerate() {
                    if n > 0 {
                        out.push(b'\n');
                    }
                    out.extend_from_slice(line);
                    if n == pick {
                        out.push(b'\n');
                        out.extend_from_slice(line);
                    }
                }
                bytes = out;
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
        }
    }
    bytes
}

/// A field of a random events row, from values that reach every validation path.
fn field_of(column: usize) -> BoxedStrategy<String> {
    let pool: &[&str] = match column {
        0 => &["e1", "e2", "e3", "", "e4"],
        1 => &[
            "2024-05-01T00:00:00Z",
            "2024-05-01T10:30:00+02:00",
            "2024-05-02T00:00:00.5Z",
            "2024-05-01T23:59:59.999999-05:30",
            "2024-05-01T00:00:00",
            "2024-02-30T00:00:00Z",
            "",
            "garbage",
            "9999-12-31T23:59:59Z",
            "0000-01-01T00:00:00+23:59",
            "2024-05-01 12:00:00z",
        ],
        2 => &["ASSIGN", "REMOVE", "assign", "Remove", "ADD", ""],
        3 => &["s1", "s2", "", "s3"],
        4 => &["c1", "c2", "", "c3"],
        5 => &["", "X", "\"a,b\""],
        6 => &["", "", "sp-1", "sp-9"],
        7 => &["USER", "WORKSPACE", "", "robot"],
        10 => &[
            "webex_calling",
            "webex_voice",
            "",
            "nope",
            "WEBEX_MEETINGS",
            "webex_suite",
        ],
        _ => &["", "L1", "\"x\ny\""],
    };
    proptest::sample::select(pool.to_vec()).prop_map(str::to_owned).boxed()
}

fn random_row() -> impl Strategy<Value = String> {
    (0..13usize)
        .map(field_of)
        .collect::<Vec<_>>()
        .prop_map(|fields| fields.join(","))
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(128) })]

    #[test]
    fn random_bytes_never_panic(with_header in any::<bool>(), bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut events = Vec::new();
        let mut report = Vec::new();
        if with_header {
            events.extend_from_slice(HEADER.as_bytes());
            events.push(b'\n');
            let names: Vec<&str> = ReportLevel::User.columns().iter().map(|c| c.name()).collect();
            report.extend_from_slice(names.join(",").as_bytes());
            report.push(b'\n');
        }
        events.extend_from_slice(&bytes);
        report.extend_from_slice(&bytes);
        check_events(&events);
        check_report(&report);
    }

    #[test]
    fn mutated_valid_files_never_panic(mutations in proptest::collection::vec(mutation(), 1..8)) {
        check_events(&mutate(VALID_EVENTS.as_bytes().to_vec(), &mutations));
        check_report(&mutate(valid_report_csv(), &mutations));
    }

    #[test]
    fn random_rows_never_panic(rows in proptest::collection::vec(random_row(), 0..12)) {
        let mut text = String::from(HEADER);
        text.push('\n');
        for r in &rows {
            text.push_str(r);
            text.push('\n');
        }
        check_events(text.as_bytes());
    }

    /// Reports with awkward text (commas, quotes, newlines, non-ASCII) survive write → read.
    #[test]
    fn write_then_read_gives_the_same_rows(
        names in proptest::collection::vec("[a-c,\"\n\r é日'-]{1,8}", 4),
        minutes in proptest::collection::vec(0i64..3 * 24 * 60, 2),
    ) {
        let clean: Vec<String> = names
            .iter()
            .map(|n| format!("x{}x", n.trim_matches(|c: char| c.is_ascii_whitespace())))
            .collect();
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let ts = |m: i64| format!("2024-05-{:02}T{:02}:{:02}:00Z", 1 + m / 1440, m / 60 % 24, m % 60);
        let (a, b) = (minutes[0].min(minutes[1]), minutes[0].max(minutes[1]) + 1);
        let csv = format!(
            "{HEADER}\ne1,{},ASSIGN,{},{},{},,USER,{},,webex_calling,{},\ne2,{},REMOVE,{},,,,,,,,,\n",
            ts(a),
            quote(&clean[0]),
            quote(&clean[1]),
            quote(&clean[2]),
            quote(&clean[3]),
            quote(&clean[3]),
            ts(b),
            quote(&clean[0]),
        );
        let (ledger, _) = AssignmentLedger::from_csv(csv.as_bytes(), org(), LoadMode::Strict).unwrap();
        for level in ReportLevel::ALL {
            let report = ledger.usage_report(may(), &ReportOptions::new(level)).unwrap();
            prop_assert_eq!(report.len(), 1);
            let mut text = Vec::new();
            report.write_csv(&mut text).unwrap();
            let (back, diagnostics) =
                UsageReport::read_csv(text.as_slice(), &ReadOptions { level: Some(level), mode: LoadMode::Strict }).unwrap();
            prop_assert!(diagnostics.issues.is_empty());
            prop_assert_eq!(back.level(), level);
            prop_assert_eq!(back.rows().collect::<Vec<_>>(), report.rows().collect::<Vec<_>>());
            let row = back.row(0).unwrap();
            if level != ReportLevel::Partner {
                prop_assert_eq!(row.customer_org_id, clean[1].as_str());
                prop_assert_eq!(row.customer_external_id, clean[2].as_str());
            }
        }
    }
}

fn events_err(csv: &str) -> Error {
    match AssignmentLedger::from_csv(csv.as_bytes(), org(), LoadMode::Strict) {
        Ok(_) => panic!("loaded: {csv}"),
        Err(e) => e,
    }
}

fn report_err(csv: &str, level: Option<ReportLevel>) -> Error {
    match UsageReport::read_csv(
        csv.as_bytes(),
        &ReadOptions {
            level,
            mode: LoadMode::Lenient,
        },
    ) {
        Ok(_) => panic!("read: {csv}"),
        Err(e) => e,
    }
}

fn user_quantities(ledger: &AssignmentLedger) -> Vec<String> {
    let report = ledger
        .usage_report(may(), &ReportOptions::new(ReportLevel::User))
        .unwrap();
    report.rows().map(|r| r.quantity.to_string()).collect()
}

#[test]
fn events_with_bom_any_column_order_case_and_extra_columns() {
    let csv = "\u{feff}PACKAGE,Action,Occurred_At,Note,EVENT_ID,Subscriber_ID,Customer_Org_ID,Subscriber_Type\n\
               webex_calling,assign,2024-05-01T00:00:00Z,\"hello, world\",e1,s1,c1,USER\n\
               ,remove,2024-05-01T12:00:00Z,,e2,s1,,\n";
    let (ledger, diagnostics) = AssignmentLedger::from_csv(csv.as_bytes(), org(), LoadMode::Strict).unwrap();
    assert_eq!(diagnostics.issues, vec![]);
    assert_eq!(diagnostics.rows_read, 2);
    // 12 h → 0.5000.
    assert_eq!(user_quantities(&ledger), ["0.5000"]);
}

#[test]
fn events_with_bom_and_quoted_header_names() {
    let csv = "\u{feff}\"event_id\",\"occurred_at\",\"action\",\"subscriber_id\",\"customer_org_id\",\"subscriber_type\",\"package\"\n\
               \"e1\",\"2024-05-01T00:00:00Z\",\"ASSIGN\",\"s1\",\"c1\",\"WORKSPACE\",\"webex_calling\"\n";
    let (ledger, diagnostics) = AssignmentLedger::from_csv(csv.as_bytes(), org(), LoadMode::Strict).unwrap();
    assert_eq!(diagnostics.issues, vec![]);
    // Open from May 1 00:00: 31 days.
    assert_eq!(user_quantities(&ledger), ["31.0000"]);
}

#[test]
fn events_with_crlf_line_endings_report_physical_lines() {
    let csv = format!(
        "{HEADER}\r\n\
         e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,,,USER,,,webex_calling,,\r\n\
         e2,2024-05-01T06:00:00Z,REMOVE,s1,,,,,,,,,\r\n\
         e3,2024-05-01T06:00:00,REMOVE,s1,,,,,,,,,\r\n"
    );
    // CRLF rows load like LF rows: [00:00, 06:00) = 6 h → 0.2500.
    let (ledger, diagnostics) = AssignmentLedger::from_csv(csv.as_bytes(), org(), LoadMode::Lenient).unwrap();
    assert_eq!(user_quantities(&ledger), ["0.2500"]);
    // SPEC §2: every rejected row is reported with its line number; e3 is on line 4.
    let lines: Vec<_> = diagnostics.issues.iter().map(|i| (i.line, i.kind)).collect();
    assert_eq!(lines, [(4, IssueKind::MissingOffset)]);
}

#[test]
fn events_line_numbers_count_blank_lines() {
    let csv = format!(
        "{HEADER}\n\
         e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,,,USER,,,webex_calling,,\n\
         \n\
         e2,2024-05-01T06:00:00,REMOVE,s1,,,,,,,,,\n\
         e3,2024-05-01T07:00:00,REMOVE,s1,,,,,,,,,\n"
    );
    // Line 3 is blank: e2 is on line 4, e3 on line 5.
    let err = events_err(&csv);
    let lines: Vec<_> = err.issues().iter().map(|i| (i.line, i.kind)).collect();
    assert_eq!(lines, [(4, IssueKind::MissingOffset), (5, IssueKind::MissingOffset)]);
}

#[test]
fn report_with_crlf_line_endings_reports_physical_lines() {
    let csv = "SKU,QUANTITY\r\nA-W-WXC-CALL-U,1\r\nA-W-WXC-CALL-U,one\r\n";
    let err = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).unwrap_err();
    // The bad quantity is on line 3.
    assert_eq!(err.issues()[0].line, 3, "{err}");
}

#[test]
fn events_missing_required_column_is_named() {
    let csv = "event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type\n\
               e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,USER\n";
    let err = events_err(csv);
    assert_eq!(err.issues().len(), 1);
    let issue = &err.issues()[0];
    assert_eq!((issue.line, issue.kind), (1, IssueKind::MalformedCsv));
    assert!(issue.message.contains("package"), "{issue}");
    assert!(!issue.message.contains("occurred_at"), "{issue}");
    // An empty file has no header.
    let empty = events_err("");
    assert_eq!(empty.issues()[0].line, 1);
}

#[test]
fn events_bad_rows_are_reported_with_their_lines() {
    let csv = format!(
        "{HEADER}\n\
         e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,,,USER,,,webex_calling,,\n\
         e2,2024-05-01T01:00:00Z,ADD,s1,c1,,,USER,,,webex_calling,,\n\
         e3,2024-05-01T02:00:00Z,ASSIGN,s2,c1,,,ROBOT,,,webex_calling,,\n\
         e4,2024-05-01T03:00:00Z,ASSIGN,s3,c1,,,USER,,,webex_nope,,\n\
         e5,2024-13-01T00:00:00Z,ASSIGN,s4,c1,,,USER,,,webex_calling,,\n\
         e6,2024-05-01T05:00:00Z,ASSIGN,,c1,,,USER,,,webex_calling,,\n\
         e7,2024-05-01T06:00:00Z,ASSIGN,s5,,,,USER,,,webex_calling,,\n\
         e8,2024-05-01T12:00:00Z,REMOVE,s1,,,,,,,,,\n"
    );
    let expected = [
        (3, IssueKind::InvalidValue, "action", 3),
        (4, IssueKind::InvalidValue, "subscriber_type", 8),
        (5, IssueKind::UnknownPackage, "package", 11),
        (6, IssueKind::InvalidValue, "occurred_at", 2),
        (7, IssueKind::MissingField, "subscriber_id", 4),
        (8, IssueKind::MissingField, "customer_org_id", 5),
    ];
    let located = |issues: &[LoadIssue]| -> Vec<(u64, IssueKind, String, usize)> {
        issues
            .iter()
            .map(|i| {
                (
                    i.line,
                    i.kind,
                    i.field.clone().unwrap_or_default(),
                    i.column.unwrap_or(0),
                )
            })
            .collect()
    };
    let want: Vec<_> = expected.iter().map(|&(l, k, f, c)| (l, k, f.to_owned(), c)).collect();
    let err = events_err(&csv);
    assert_eq!(located(err.issues()), want);
    let (ledger, diagnostics) = AssignmentLedger::from_csv(csv.as_bytes(), org(), LoadMode::Lenient).unwrap();
    assert_eq!(located(&diagnostics.issues), want);
    assert_eq!(diagnostics.rows_read, 8);
    assert_eq!(diagnostics.rows_accepted, 2);
    assert_eq!(user_quantities(&ledger), ["0.5000"]);
}

#[test]
fn events_with_invalid_utf8_are_located_by_field() {
    let mut csv = format!("{HEADER},note\n").into_bytes();
    // A bad byte in user_id (column 9): rejected there, with its event id.
    csv.extend_from_slice(b"e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,,,USER,u\xff1,,webex_calling,,,\n");
    // A bad byte only in the unknown `note` column: accepted.
    csv.extend_from_slice(b"e2,2024-05-01T00:00:00Z,ASSIGN,s2,c1,,,USER,u2,,webex_calling,,,n\xfe\n");
    // Bad bytes in the event id and in the package: the first known field (event_id) is named,
    // with the id shown lossily.
    csv.extend_from_slice(b"e\xc33,2024-05-01T00:00:00Z,ASSIGN,s3,c1,,,USER,u3,,webex_\xe9,,,\n");
    let (ledger, diagnostics) = AssignmentLedger::from_csv(&csv[..], org(), LoadMode::Lenient).unwrap();
    let issues: Vec<String> = diagnostics.issues.iter().map(ToString::to_string).collect();
    assert_eq!(
        issues,
        [
            "line 2, column 9 (user_id): error: not valid utf-8 [event_id e1]",
            "line 4, column 1 (event_id): error: not valid utf-8 [event_id e\u{fffd}3]",
        ]
    );
    assert_eq!((diagnostics.rows_read, diagnostics.rows_accepted), (3, 1));
    // Only e2 (s2, assigned all May).
    assert_eq!(user_quantities(&ledger), ["31.0000"]);
    let err = AssignmentLedger::from_csv(&csv[..], org(), LoadMode::Strict).unwrap_err();
    assert_eq!(err.issues().len(), 2);
}

#[test]
fn events_quoted_fields_with_commas_and_newlines() {
    let csv = format!(
        "{HEADER}\n\
         e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,\"Acme, Inc.\nHead office\",,USER,\"u,1\",,webex_calling,\"L\"\"1\",\n\
         e2,2024-05-01T06:00:00Z,REMOVE,s1,,,,,,,,,\n\
         e3,2024-05-01T07:00:00,REMOVE,s1,,,,,,,,,\n"
    );
    // e1 spans lines 2–3, so e2 is on line 4 and the bad e3 on line 5.
    let err = events_err(&csv);
    assert_eq!(err.issues().len(), 1);
    assert_eq!(err.issues()[0].line, 5);
    let (ledger, _) = AssignmentLedger::from_csv(csv.as_bytes(), org(), LoadMode::Lenient).unwrap();
    let report = ledger
        .usage_report(may(), &ReportOptions::new(ReportLevel::User))
        .unwrap();
    let row = report.row(0).unwrap();
    assert_eq!(row.customer_external_id, "Acme, Inc.\nHead office");
    assert_eq!(row.user_id, "u,1");
    assert_eq!(row.location_id, "L\"1");
    // 6 h → 0.2500.
    assert_eq!(row.quantity.to_string(), "0.2500");
    let mut text = Vec::new();
    report.write_csv(&mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains(",c1,\"Acme, Inc.\nHead office\",USER,s1,\"u,1\",,WEBEX_CALLING,"),
        "{text}"
    );
    assert!(text.ends_with(",0.2500,\"L\"\"1\",\n"), "{text}");
}

#[test]
fn events_cut_in_the_last_row_are_a_located_error() {
    // A file truncated in its last row, as a crash leaves it: fewer fields than the header and no
    // line break at the end. e6 (line 8) is cut in its customer_org_id (column 5).
    let cut_at = VALID_EVENTS.find("e6,").unwrap() + "e6,2024-05-02T23:00:00Z,ASSIGN,s3,c".len();
    let cut = &VALID_EVENTS[..cut_at];
    let err = events_err(cut);
    let [issue] = err.issues() else { panic!("{err}") };
    assert_eq!(
        (issue.line, issue.column, issue.field.as_deref(), issue.kind),
        (8, Some(5), Some("customer_org_id"), IssueKind::MalformedCsv)
    );
    assert_eq!(
        issue.to_string(),
        "line 8, column 5 (customer_org_id): error: row cut short: 5 of the header's 13 fields, and the \
         file ends without a line break (a truncated file?) [event_id e6]"
    );
    // Lenient: the cut row is reported and skipped; the rest loads as the file without it.
    let (ledger, diagnostics) = AssignmentLedger::from_csv(cut.as_bytes(), org(), LoadMode::Lenient).unwrap();
    assert_eq!((diagnostics.rows_read, diagnostics.rows_accepted), (6, 5));
    assert_eq!(diagnostics.issues.len(), 1);
    let without_e6 = &VALID_EVENTS[..VALID_EVENTS.find("e6,").unwrap()];
    let (whole, _) = AssignmentLedger::from_csv(without_e6.as_bytes(), org(), LoadMode::Strict).unwrap();
    assert_eq!(all_reports(&ledger, may()), all_reports(&whole, may()));

    // A REMOVE cut in its subscriber id would otherwise end another subscriber's assignment.
    let assign = "e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,,,USER,,,webex_calling,,";
    let err = events_err(&format!("{HEADER}\n{assign}\ne2,2024-05-02T00:00:00Z,REMOVE,s"));
    let [issue] = err.issues() else { panic!("{err}") };
    assert_eq!(
        (issue.line, issue.column, issue.field.as_deref(), issue.kind),
        (3, Some(4), Some("subscriber_id"), IssueKind::MalformedCsv)
    );
    // Cut between the two bytes of a CRLF line break: the short row is whole.
    let crlf = format!("{HEADER}\r\n{assign}\r\ne2,2024-05-02T00:00:00Z,REMOVE,s1\r");
    assert!(AssignmentLedger::from_csv(crlf.as_bytes(), org(), LoadMode::Strict).is_ok());
    // As before: a short last row that ends with a line break, and a whole last row without one.
    for text in [
        format!("{HEADER}\n{assign}\ne2,2024-05-02T00:00:00Z,REMOVE,s1\n"),
        format!("{HEADER}\n{assign}\ne2,2024-05-02T00:00:00Z,REMOVE,s1,,,,,,,,,"),
    ] {
        let (ledger, _) = AssignmentLedger::from_csv(text.as_bytes(), org(), LoadMode::Strict).unwrap();
        assert_eq!(user_quantities(&ledger), ["1.0000"], "{text}");
    }
}

/// The events header in another order, with an unknown column, for the records comparison.
const SHUFFLED: [usize; 14] = [10, 2, 13, 1, 0, 3, 7, 4, 5, 6, 8, 9, 11, 12];

/// The names of [`HEADER`] and an unknown `note` (index 13), in `SHUFFLED` order.
fn shuffled_header() -> Vec<String> {
    let names: Vec<&str> = HEADER.split(',').chain(["Note"]).collect();
    SHUFFLED.iter().map(|&i| names[i].to_uppercase()).collect()
}

/// A cell of a random events row as its text (the values of [`field_of`], unquoted), padded with
/// spaces or not.
fn cell_of(column: usize) -> BoxedStrategy<String> {
    (field_of(column), any::<bool>())
        .prop_map(|(csv, pad)| {
            let text = match csv.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                Some(quoted) => quoted.replace("\"\"", "\""),
                None => csv,
            };
            if pad { format!(" {text}\t") } else { text }
        })
        .boxed()
}

/// An issue of the CSV load located as the records loader locates it: `line`, and a line named
/// in the message (the first row of a duplicate id), are row numbers.
fn by_row(mut issue: LoadIssue, row_starts: &[u64]) -> LoadIssue {
    let row = |line: u64| row_starts.binary_search(&line).unwrap() as u64 + 1;
    issue.line = row(issue.line);
    if let Some((before, after)) = issue.message.split_once("line ") {
        let digits = after.len() - after.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let line: u64 = after[..digits].parse().unwrap();
        issue.message = format!("{before}line {}{}", row(line), &after[digits..]);
    }
    issue
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(256) })]

    /// Records under a header are validated exactly as the rows of the events CSV that holds the
    /// same cells: the same issues (kind, message, column, field, event id) located by row
    /// number, the same counts, the same ledger, in both modes.
    #[test]
    fn records_load_as_the_csv_of_the_same_cells(
        rows in proptest::collection::vec(
            (0..13usize).map(cell_of).collect::<Vec<_>>().prop_map(|mut cells| { cells.push("n".into()); cells }),
            0..12,
        ),
        empty_as_none in any::<bool>(),
    ) {
        let header = shuffled_header();
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let mut csv = header.join(",");
        let mut row_starts = Vec::new();
        let mut line = 2;
        for row in &rows {
            let cells: Vec<String> = SHUFFLED.iter().map(|&i| quote(&row[i])).collect();
            let text = cells.join(",");
            row_starts.push(line);
            line += 1 + text.matches('\n').count() as u64;
            csv.push('\n');
            csv.push_str(&text);
        }
        csv.push('\n');
        for mode in [LoadMode::Strict, LoadMode::Lenient] {
            let from_csv = AssignmentLedger::from_csv(csv.as_bytes(), org(), mode);
            let mut builder = LedgerBuilder::new(org());
            let mut records = builder.records(&header).unwrap();
            for row in &rows {
                let cells: Vec<Option<&str>> = SHUFFLED
                    .iter()
                    .map(|&i| Some(row[i].as_str()).filter(|t| !(empty_as_none && t.is_empty())))
                    .collect();
                records.push(&cells);
            }
            prop_assert_eq!(records.rows(), rows.len() as u64);
            let from_records = builder.finish(mode);
            match (from_csv, from_records) {
                (Ok((a, da)), Ok((b, db))) => {
                    prop_assert_eq!((da.rows_read, da.rows_accepted), (db.rows_read, db.rows_accepted));
                    let issues: Vec<LoadIssue> = da.issues.into_iter().map(|i| by_row(i, &row_starts)).collect();
                    prop_assert_eq!(issues, db.issues);
                    prop_assert_eq!(all_reports(&a, may()), all_reports(&b, may()));
                }
                (Err(a), Err(b)) => {
                    let issues: Vec<LoadIssue> = a.issues().iter().cloned().map(|i| by_row(i, &row_starts)).collect();
                    prop_assert_eq!(issues.as_slice(), b.issues());
                }
                (a, b) => prop_assert!(false, "csv: {:?}\nrecords: {:?}", a.err(), b.err()),
            }
        }
    }
}

const HUMAN_HEADER: &str = "Partner Name,Partner Org ID,Subscription ID,Customer Org ID,Customer External ID,Type,\
                            Subscriber ID,User ID,Workspace ID,Service Name,SKU,Description,Consumption Start,\
                            Consumption End,Quantity,Location ID,License ID";

#[test]
fn report_with_bom_and_human_header() {
    let csv = format!(
        "\u{feff}{HUMAN_HEADER}\n\
         Acme Telecom,partner-1,Sub1234567,c1,EXT-1,USER,s1,u1,,WEBEX_CALLING,A-W-WXC-CALL-U,Wholesale Webex Calling Usage,\
         2024-05-01T00:00:00.000Z,2024-05-02T15:00:00.000Z,1.6250,L1,LIC1\n"
    );
    let (report, diagnostics) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).unwrap();
    assert!(diagnostics.issues.is_empty());
    assert_eq!(report.level(), ReportLevel::User);
    let row = report.row(0).unwrap();
    assert_eq!(
        (row.partner_name, row.partner_org_id, row.subscription_id),
        ("Acme Telecom", "partner-1", "Sub1234567")
    );
    assert_eq!(
        (
            row.customer_org_id,
            row.customer_external_id,
            row.subscriber_id,
            row.user_id
        ),
        ("c1", "EXT-1", "s1", "u1")
    );
    assert_eq!(row.subscriber_type, Some(SubscriberType::User));
    assert_eq!(
        (row.service_name, row.sku, row.description),
        ("WEBEX_CALLING", "A-W-WXC-CALL-U", "Wholesale Webex Calling Usage")
    );
    assert_eq!(
        row.consumption_start.unwrap().to_report_string(),
        "2024-05-01T00:00:00.000Z"
    );
    assert_eq!(
        row.consumption_end.unwrap().to_report_string(),
        "2024-05-02T15:00:00.000Z"
    );
    assert_eq!(row.quantity.to_string(), "1.6250");
    assert_eq!((row.location_id, row.license_id), ("L1", "LIC1"));
    // "Consumption Start Date" and upper/lower case variants are found too.
    let csv = "sku,QUANTITY,consumption start date,CONSUMPTION END DATE\nA-W-WXC-CALL-U,2,2024-05-01T00:00:00.000Z,2024-05-31T23:59:59.999Z\n";
    let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(report.level(), ReportLevel::Partner);
    let row = report.row(0).unwrap();
    assert_eq!(
        row.consumption_end.unwrap().to_report_string(),
        "2024-05-31T23:59:59.999Z"
    );
}

#[test]
fn report_with_extra_and_missing_optional_columns() {
    let csv = "Note,CUSTOMER_ORG_ID,SKU,QUANTITY,Whatever\n\
               x,c1,A-W-WXC-CALL-U,1.5,y\n\
               x,c2,A-W-WXE-CALL-U,0.25,y\n";
    let (report, diagnostics) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).unwrap();
    assert!(diagnostics.issues.is_empty());
    assert_eq!(report.level(), ReportLevel::Customer);
    assert_eq!(report.len(), 2);
    let row = report.row(1).unwrap();
    assert_eq!(
        (row.customer_org_id, row.sku, row.partner_name),
        ("c2", "A-W-WXE-CALL-U", "")
    );
    assert_eq!(row.consumption_start, None);
    assert_eq!(row.consumption_end, None);
    assert_eq!(row.quantity.to_string(), "0.2500");
    // Σ = 1.5 + 0.25 = 1.7500.
    assert_eq!(report.total_quantity().unwrap().to_string(), "1.7500");
}

#[test]
fn report_with_a_negative_quantity_is_refused_where_it_is() {
    let csv = "SKU,QUANTITY\nA-W-WXC-CALL-U,1.5\nA-W-WXE-CALL-U,-26.8750\n";
    let err = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).unwrap_err();
    assert_eq!(
        err.issues()[0].to_string(),
        "line 3, column 2 (QUANTITY): error: quantity -26.8750 is negative: usage is never below zero"
    );
}

#[test]
fn report_missing_required_column_is_named() {
    let err = report_err("PARTNER_NAME,SKU\nAcme,A-W-WXC-CALL-U\n", None);
    assert_eq!(
        (err.issues()[0].line, err.issues()[0].kind),
        (1, IssueKind::MalformedCsv)
    );
    assert!(err.issues()[0].message.contains("QUANTITY"), "{err}");
    let err = report_err(
        "CUSTOMER_ORG_ID,SKU,QUANTITY\nc1,A-W-WXC-CALL-U,1\n",
        Some(ReportLevel::User),
    );
    assert!(err.issues()[0].message.contains("SUBSCRIBER_ID"), "{err}");
    let err = report_err("SKU,QUANTITY\nA-W-WXC-CALL-U,1\n", Some(ReportLevel::Customer));
    assert!(err.issues()[0].message.contains("CUSTOMER_ORG_ID"), "{err}");
}

#[test]
fn report_bad_rows_are_reported_with_their_lines() {
    let csv = "CUSTOMER_ORG_ID,TYPE,SUBSCRIBER_ID,SKU,CONSUMPTION_START_DATE,QUANTITY\n\
               c1,USER,s1,A-W-WXC-CALL-U,2024-05-01T00:00:00.000Z,1\n\
               c1,USER,s2,A-W-WXC-CALL-U,2024-05-01T00:00:00.000Z,1.23456\n\
               c1,\"multi\nline\",s3,A-W-WXC-CALL-U,2024-05-01T00:00:00.000Z,1\n\
               c1,USER,s4,A-W-WXC-CALL-U,yesterday,1\n\
               c1,USER,,A-W-WXC-CALL-U,2024-05-01T00:00:00.000Z,1\n\
               c1,USER,s6\n\
               c1,WORKSPACE,s7,A-W-WXC-CALL-U,2024-05-02,0.5\n";
    let err = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).unwrap_err();
    let found: Vec<_> = err
        .issues()
        .iter()
        .map(|i| (i.line, i.kind, i.field.clone().unwrap_or_default()))
        .collect();
    let want: Vec<(u64, IssueKind, String)> = vec![
        (3, IssueKind::InvalidValue, "QUANTITY".into()),
        (4, IssueKind::InvalidValue, "TYPE".into()),
        (6, IssueKind::InvalidValue, "CONSUMPTION_START_DATE".into()),
        (7, IssueKind::MissingField, "SUBSCRIBER_ID".into()),
        // A row short of the header's fields is cut: located at its first missing column.
        (8, IssueKind::MalformedCsv, "SKU".into()),
    ];
    assert_eq!(found, want);
    let lenient = ReadOptions {
        level: None,
        mode: LoadMode::Lenient,
    };
    let (report, diagnostics) = UsageReport::read_csv(csv.as_bytes(), &lenient).unwrap();
    assert_eq!(diagnostics.rows_read, 7);
    assert_eq!(diagnostics.rows_accepted, 2);
    assert_eq!(report.len(), 2);
    let last = report.row(1).unwrap();
    assert_eq!(last.subscriber_type, Some(SubscriberType::Workspace));
    // A bare date is midnight UTC.
    assert_eq!(
        last.consumption_start.unwrap().to_report_string(),
        "2024-05-02T00:00:00.000Z"
    );
}

#[test]
fn round_trip_of_computed_reports() {
    let (ledger, _) = AssignmentLedger::from_csv(VALID_EVENTS.as_bytes(), org(), LoadMode::Strict).unwrap();
    for level in ReportLevel::ALL {
        for scope in [Scope::Partner, Scope::SubPartner("sp-1".into()), Scope::Subscription] {
            let options = ReportOptions::new(level).scope(scope.clone());
            let report = ledger.usage_report(may(), &options).unwrap();
            assert!(!report.is_empty(), "{level} {scope:?}");
            let mut text = Vec::new();
            report.write_csv(&mut text).unwrap();
            let (back, _) = UsageReport::read_csv(text.as_slice(), &ReadOptions::default()).unwrap();
            // The level is recognised from the header.
            assert_eq!(back.level(), level);
            // Every instant here is millisecond-aligned (e4's 08:00:00.250, or the billing start 05-02
            // 06:00 it is clamped to), so every field survives exactly.
            let a: Vec<ReportRow<'_>> = report.rows().collect();
            let b: Vec<ReportRow<'_>> = back.rows().collect();
            assert_eq!(a, b, "{level} {scope:?}");
            let mut again = Vec::new();
            back.write_csv(&mut again).unwrap();
            assert_eq!(text, again);
        }
    }
}
