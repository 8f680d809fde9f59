#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Hand-checked proration and report cases, end to end through the public API, against SPEC.md §2–§4.
//!
//! Every expected number below is computed by hand from SPEC.md; the arithmetic is in the comments.

use wholesale_billing::{
    AssignmentLedger, Diagnostics, Error, Event, HourPolicy, IssueKind, LoadMode, Organisation, Period, ReportLevel,
    ReportOptions, Scope, Severity, Timestamp, UsageReport,
};

/// The partner, a sub-partner with a billing start (given with a `+02:00` offset: 09:30Z) and a
/// sub-partner without one.
const ORG: &str = r#"
[partner]
org_id = "partner-1"
name = "Acme Telecom"
subscription_id = "Sub1234567"

[[sub_partners]]
org_id = "sp-1"
name = "Reseller One"
billing_start = "2024-05-10T11:30:00+02:00"

[[sub_partners]]
org_id = "sp-2"
name = "Reseller Two"
"#;

const HEADER: &str = "event_id,occurred_at,action,subscriber_id,customer_org_id,customer_external_id,\
                      sub_partner_org_id,subscriber_type,user_id,workspace_id,package,location_id,license_id";

fn org() -> Organisation {
    Organisation::from_toml_str(ORG).unwrap()
}

/// An events file: the header then `rows` (row i is on line i + 2).
fn events(rows: &[String]) -> String {
    let mut text = String::from(HEADER);
    text.push('\n');
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text
}

/// An ASSIGN row of a partner customer's user, no location or license.
fn assign(id: &str, at: &str, sub: &str, cust: &str, package: &str) -> String {
    format!("{id},{at},ASSIGN,{sub},{cust},,,USER,,,{package},,")
}

/// An ASSIGN row of a sub-partner customer's user.
fn assign_sp(id: &str, at: &str, sub: &str, cust: &str, sp: &str, package: &str) -> String {
    format!("{id},{at},ASSIGN,{sub},{cust},,{sp},USER,,,{package},,")
}

/// An ASSIGN row with a location.
fn assign_loc(id: &str, at: &str, sub: &str, cust: &str, package: &str, loc: &str) -> String {
    format!("{id},{at},ASSIGN,{sub},{cust},,,USER,,,{package},{loc},")
}

fn remove(id: &str, at: &str, sub: &str) -> String {
    format!("{id},{at},REMOVE,{sub},,,,,,,,,")
}

fn try_load(csv: &str, mode: LoadMode) -> Result<(AssignmentLedger, Diagnostics), Error> {
    AssignmentLedger::from_csv(csv.as_bytes(), org(), mode)
}

fn load(csv: &str) -> (AssignmentLedger, Diagnostics) {
    try_load(csv, LoadMode::Strict).unwrap()
}

fn may() -> Period {
    Period::month(2024, 5).unwrap()
}

fn report(
    ledger: &AssignmentLedger,
    period: Period,
    level: ReportLevel,
    policy: HourPolicy,
    scope: Scope,
) -> UsageReport {
    ledger
        .usage_report(period, &ReportOptions::new(level).hour_policy(policy).scope(scope))
        .unwrap()
}

/// USER report of the partner's customers.
fn user(ledger: &AssignmentLedger, period: Period, policy: HourPolicy) -> UsageReport {
    report(ledger, period, ReportLevel::User, policy, Scope::Partner)
}

fn quantities(report: &UsageReport) -> Vec<String> {
    report.rows().map(|r| r.quantity.to_string()).collect()
}

fn dates(report: &UsageReport) -> Vec<(String, String)> {
    report
        .rows()
        .map(|r| {
            (
                r.consumption_start.unwrap().to_report_string(),
                r.consumption_end.unwrap().to_report_string(),
            )
        })
        .collect()
}

fn csv_text(report: &UsageReport) -> String {
    let mut out = Vec::new();
    report.write_csv(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

#[test]
fn seed_examples_twelve_hours_and_thirty_nine_hours() {
    let csv = events(&[
        assign("e1", "2024-05-01T00:00:00Z", "s1", "c1", "webex_calling"),
        remove("e2", "2024-05-01T12:00:00Z", "s1"),
        assign("e3", "2024-05-01T00:00:00Z", "s2", "c1", "webex_calling"),
        remove("e4", "2024-05-02T15:00:00Z", "s2"),
    ]);
    let (ledger, diagnostics) = load(&csv);
    assert_eq!(diagnostics.issues, vec![]);
    // s1: 12 whole hours on May 1 → round_half_even(12/24, 4) = 0.5000 under every policy.
    // s2: May 1 24 h → 1; May 2 hours 0..14 = 15 h → 15/24 = 0.625 → 1.6250 (the seed's 39 h).
    for policy in HourPolicy::ALL {
        assert_eq!(
            quantities(&user(&ledger, may(), policy)),
            ["0.5000", "1.6250"],
            "{policy}"
        );
    }
    // The default policy is `started`.
    let default = ledger
        .usage_report(may(), &ReportOptions::new(ReportLevel::User))
        .unwrap();
    assert_eq!(quantities(&default), ["0.5000", "1.6250"]);
}

#[test]
fn package_change_at_half_past_ten_under_each_policy() {
    // May 2: webex_meetings [06:00, 10:30), then common_area_calling [10:30, 20:15).
    let csv = events(&[
        assign("e1", "2024-05-02T06:00:00Z", "s1", "c1", "webex_meetings"),
        assign("e2", "2024-05-02T10:30:00Z", "s1", "c1", "common_area_calling"),
        remove("e3", "2024-05-02T20:15:00Z", "s1"),
    ]);
    let (ledger, _) = load(&csv);
    let period = Period::from_dates("2024-05-01", "2024-05-03").unwrap();
    // Rows sorted by SKU: A-W-CA-CALL-U (common area) before A-W-WXM-MEET-U (meetings).
    // started: CA hours 10..=20 = 11 → 11/24 = 0.458333 → 0.4583; meetings hours 6..=10 = 5 →
    //          5/24 = 0.208333 → 0.2083. Hour 10 counts for both packages.
    let started = user(&ledger, period, HourPolicy::Started);
    assert_eq!(quantities(&started), ["0.4583", "0.2083"]);
    assert_eq!(
        started.rows().map(|r| r.sku).collect::<Vec<_>>(),
        ["A-W-CA-CALL-U", "A-W-WXM-MEET-U"]
    );
    // completed: CA hours 11..=19 = 9 → 0.3750; meetings hours 6..=9 = 4 → 0.166667 → 0.1667.
    assert_eq!(
        quantities(&user(&ledger, period, HourPolicy::Completed)),
        ["0.3750", "0.1667"]
    );
    // exact: CA 9 h 45 min = 9.75/24 = 0.40625 → half-even to 4 dp → 0.4062;
    //        meetings 4.5 h = 4.5/24 = 0.1875.
    assert_eq!(
        quantities(&user(&ledger, period, HourPolicy::Exact)),
        ["0.4062", "0.1875"]
    );
    assert_eq!(
        dates(&started),
        [
            pair("2024-05-02T10:30:00.000Z", "2024-05-02T20:15:00.000Z"),
            pair("2024-05-02T06:00:00.000Z", "2024-05-02T10:30:00.000Z"),
        ]
    );
}

#[test]
fn assign_and_remove_in_the_same_hour() {
    // [09:10, 09:47:30) on May 1.
    let csv = events(&[
        assign("e1", "2024-05-01T09:10:00Z", "s1", "c1", "webex_calling"),
        remove("e2", "2024-05-01T09:47:30Z", "s1"),
    ]);
    let (ledger, _) = load(&csv);
    // started: hour 9 → 1/24 = 0.041667 → 0.0417.
    assert_eq!(quantities(&user(&ledger, may(), HourPolicy::Started)), ["0.0417"]);
    // completed: no whole hour → 0 → no row (only rows with quantity > 0 appear).
    assert!(user(&ledger, may(), HourPolicy::Completed).is_empty());
    // exact: 37 min 30 s = 2250 s; 2250/86400 = 0.0260417 → 0.0260.
    assert_eq!(quantities(&user(&ledger, may(), HourPolicy::Exact)), ["0.0260"]);
}

#[test]
fn gap_inside_an_hour_and_touching_intervals() {
    let csv = events(&[
        // s1, one key: [10:05, 10:20) and [10:50, 12:00).
        assign("e1", "2024-05-01T10:05:00Z", "s1", "c1", "webex_calling"),
        remove("e2", "2024-05-01T10:20:00Z", "s1"),
        assign("e3", "2024-05-01T10:50:00Z", "s1", "c1", "webex_calling"),
        remove("e4", "2024-05-01T12:00:00Z", "s1"),
        // s2, one key: [14:00, 14:30) and [14:30, 15:00) touch: their union is hour 14.
        assign("e5", "2024-05-01T14:00:00Z", "s2", "c1", "webex_calling"),
        remove("e6", "2024-05-01T14:30:00Z", "s2"),
        assign("e7", "2024-05-01T14:30:00Z", "s2", "c1", "webex_calling"),
        remove("e8", "2024-05-01T15:00:00Z", "s2"),
    ]);
    let (ledger, _) = load(&csv);
    // started: s1 hours 10 and 11 (hour 10 once) → 2/24 = 0.083333 → 0.0833; s2 hour 14 → 0.0417.
    let started = user(&ledger, may(), HourPolicy::Started);
    assert_eq!(quantities(&started), ["0.0833", "0.0417"]);
    // completed: s1 only hour 11 is whole → 0.0417; s2 the union covers all of hour 14 → 0.0417.
    assert_eq!(
        quantities(&user(&ledger, may(), HourPolicy::Completed)),
        ["0.0417", "0.0417"]
    );
    // exact: s1 15 + 70 = 85 min → 85/1440 = 0.0590278 → 0.0590; s2 60 min → 0.0417.
    assert_eq!(
        quantities(&user(&ledger, may(), HourPolicy::Exact)),
        ["0.0590", "0.0417"]
    );
    // One row per key; dates are the smallest start and the largest end.
    assert_eq!(
        dates(&started),
        [
            pair("2024-05-01T10:05:00.000Z", "2024-05-01T12:00:00.000Z"),
            pair("2024-05-01T14:00:00.000Z", "2024-05-01T15:00:00.000Z"),
        ]
    );
}

#[test]
fn assignment_open_past_the_period_end() {
    let csv = events(&[
        // s1 open from May 30 18:00.
        assign("e1", "2024-05-30T18:00:00Z", "s1", "c1", "webex_calling"),
        // s2 ends exactly at the period's exclusive end.
        assign("e2", "2024-05-31T00:00:00Z", "s2", "c1", "webex_calling"),
        remove("e3", "2024-06-01T00:00:00Z", "s2"),
    ]);
    let (ledger, _) = load(&csv);
    // May: s1 hours 18..=23 on May 30 = 6 → 0.25, May 31 → 1: 1.2500. s2: May 31 → 1.0000.
    let may_report = user(&ledger, may(), HourPolicy::Started);
    assert_eq!(quantities(&may_report), ["1.2500", "1.0000"]);
    // An end at (or past) the exclusive end is written as 23:59:59.999 of the end date.
    assert_eq!(
        dates(&may_report),
        [
            pair("2024-05-30T18:00:00.000Z", "2024-05-31T23:59:59.999Z"),
            pair("2024-05-31T00:00:00.000Z", "2024-05-31T23:59:59.999Z"),
        ]
    );
    assert!(csv_text(&may_report).contains(",2024-05-30T18:00:00.000Z,2024-05-31T23:59:59.999Z,1.2500,"));
    // June: s1 all 30 days → 30.0000; s2 nothing in June → no row.
    let june = user(&ledger, Period::month(2024, 6).unwrap(), HourPolicy::Completed);
    assert_eq!(quantities(&june), ["30.0000"]);
    assert_eq!(
        dates(&june),
        [pair("2024-06-01T00:00:00.000Z", "2024-06-30T23:59:59.999Z")]
    );
    // Open assignments are open in the ledger.
    let open: Vec<_> = ledger.intervals().filter(|(_, _, end)| end.is_none()).collect();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].0.subscriber_id, "s1");
}

#[test]
fn sub_partner_billing_start_mid_day_clamps_the_start() {
    // sp-1 bills from 2024-05-10T11:30:00+02:00 = 09:30Z.
    let csv = events(&[
        assign_sp("e1", "2024-05-08T00:00:00Z", "s7", "c7", "sp-1", "webex_calling"),
        remove("e2", "2024-05-11T06:00:00Z", "s7"),
        // Entirely before the billing start: never billed.
        assign_sp("e3", "2024-05-01T00:00:00Z", "s8", "c7", "sp-1", "webex_calling"),
        remove("e4", "2024-05-09T00:00:00Z", "s8"),
    ]);
    let (ledger, _) = load(&csv);
    let sp1 = || Scope::SubPartner("sp-1".into());
    // Clamped interval [05-10T09:30, 05-11T06:00).
    // started: May 10 hours 9..=23 = 15 → 0.625; May 11 hours 0..=5 = 6 → 0.25: 0.8750.
    let started = report(&ledger, may(), ReportLevel::User, HourPolicy::Started, sp1());
    assert_eq!(quantities(&started), ["0.8750"]);
    // completed: May 10 hours 10..=23 = 14 → 0.583333 → 0.5833; + 0.25 = 0.8333.
    let completed = report(&ledger, may(), ReportLevel::User, HourPolicy::Completed, sp1());
    assert_eq!(quantities(&completed), ["0.8333"]);
    // exact: May 10 14.5 h → 0.6041667 → 0.6042; + 0.25 = 0.8542.
    let exact = report(&ledger, may(), ReportLevel::User, HourPolicy::Exact, sp1());
    assert_eq!(quantities(&exact), ["0.8542"]);
    // CONSUMPTION_START_DATE is the clamped start.
    assert_eq!(
        dates(&started),
        [pair("2024-05-10T09:30:00.000Z", "2024-05-11T06:00:00.000Z")]
    );
    let row = started.row(0).unwrap();
    assert_eq!((row.partner_name, row.partner_org_id), ("Reseller One", "sp-1"));
    // The partner's own report has none of it.
    assert!(user(&ledger, may(), HourPolicy::Started).is_empty());
    // explain_subscriber applies the clamp too: May 8, 9 are zero, May 10 0.6250, May 11 0.2500.
    let days = ledger.explain_subscriber("s7", may(), HourPolicy::Started);
    assert_eq!(days.len(), 1);
    let shown: Vec<String> = days[0].1[7..11].iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["0.0000", "0.0000", "0.6250", "0.2500"]);
}

#[test]
fn remove_with_nothing_assigned() {
    let csv = events(&[
        assign("e1", "2024-05-01T08:00:00Z", "s1", "c1", "webex_calling"), // line 2
        remove("e2", "2024-05-01T20:00:00Z", "s1"),                        // line 3
        remove("e3", "2024-05-02T00:00:00Z", "s1"),                        // line 4: already removed
        remove("e4", "2024-05-01T00:00:00Z", "s2"),                        // line 5: never assigned
    ]);
    let err = try_load(&csv, LoadMode::Strict).unwrap_err();
    let issues = err.issues();
    assert_eq!(issues.len(), 2, "{issues:?}");
    assert!(issues.iter().all(|i| i.kind == IssueKind::RemoveWithoutAssignment));
    assert!(issues.iter().all(|i| i.severity == Severity::Error));
    assert_eq!(issues.iter().map(|i| i.line).collect::<Vec<_>>(), [4, 5]);
    assert_eq!(
        issues[1].to_string(),
        "line 5: error: remove while nothing is assigned to subscriber \"s2\""
    );

    let (ledger, diagnostics) = try_load(&csv, LoadMode::Lenient).unwrap();
    assert_eq!(diagnostics.error_count(), 0);
    assert_eq!(diagnostics.warning_count(), 2);
    assert_eq!(diagnostics.issues.iter().map(|i| i.line).collect::<Vec<_>>(), [4, 5]);
    assert!(
        diagnostics
            .issues
            .iter()
            .all(|i| i.kind == IssueKind::RemoveWithoutAssignment)
    );
    // s1: hours 8..=19 = 12 → 0.5000.
    assert_eq!(quantities(&user(&ledger, may(), HourPolicy::Started)), ["0.5000"]);
}

#[test]
fn offsets_are_converted_to_utc() {
    let csv = events(&[
        // s1: 02:00+02:00 = 00:00Z, 01:30+02:00 next day = 23:30Z on May 1.
        assign("e1", "2024-05-01T02:00:00+02:00", "s1", "c1", "webex_calling"),
        remove("e2", "2024-05-02T01:30:00+02:00", "s1"),
        // s2: 2024-06-01T01:00+02:00 = May 31 23:00Z; 2024-05-31T19:30-05:30 = June 1 01:00Z.
        assign("e3", "2024-06-01T01:00:00+02:00", "s2", "c1", "webex_calling"),
        remove("e4", "2024-05-31T19:30:00-05:30", "s2"),
        // s3: 10:00:00.250999+01:00 = 09:00:00.250999Z, to 09:00:00.750Z.
        assign("e5", "2024-05-05T10:00:00.250999+01:00", "s3", "c1", "webex_calling"),
        remove("e6", "2024-05-05T09:00:00.750Z", "s3"),
    ]);
    let (ledger, _) = load(&csv);
    // started: s1 hours 0..=23 → 1.0000; s2 May 31 hour 23 → 0.0417; s3 hour 9 → 0.0417.
    let started = user(&ledger, may(), HourPolicy::Started);
    assert_eq!(quantities(&started), ["1.0000", "0.0417", "0.0417"]);
    assert_eq!(
        dates(&started),
        [
            pair("2024-05-01T00:00:00.000Z", "2024-05-01T23:30:00.000Z"),
            pair("2024-05-31T23:00:00.000Z", "2024-05-31T23:59:59.999Z"),
            // Truncated (not rounded) to milliseconds.
            pair("2024-05-05T09:00:00.250Z", "2024-05-05T09:00:00.750Z"),
        ]
    );
    // completed: s1 23 whole hours → 0.958333 → 0.9583; s2 hour 23 whole → 0.0417; s3 none.
    assert_eq!(
        quantities(&user(&ledger, may(), HourPolicy::Completed)),
        ["0.9583", "0.0417"]
    );
    // exact: s1 23.5/24 = 0.9791667 → 0.9792; s2 1 h → 0.0417; s3 0.499001 s → 0.0000, no row.
    assert_eq!(
        quantities(&user(&ledger, may(), HourPolicy::Exact)),
        ["0.9792", "0.0417"]
    );
    // June: s2 hour 0 → 0.0417, [06-01T00:00, 06-01T01:00).
    let june = user(&ledger, Period::month(2024, 6).unwrap(), HourPolicy::Started);
    assert_eq!(quantities(&june), ["0.0417"]);
    assert_eq!(
        dates(&june),
        [pair("2024-06-01T00:00:00.000Z", "2024-06-01T01:00:00.000Z")]
    );
}

#[test]
fn out_of_order_rows_give_the_same_report_as_sorted_rows() {
    let sorted = vec![
        assign("e1", "2024-05-01T06:00:00Z", "s1", "c1", "webex_calling"),
        assign("e2", "2024-05-01T08:00:00Z", "s2", "c2", "webex_meetings"),
        assign("e3", "2024-05-01T09:30:00Z", "s1", "c1", "webex_voice"),
        remove("e4", "2024-05-01T11:00:00Z", "s1"),
        assign("e5", "2024-05-01T13:15:00+01:00", "s1", "c1", "webex_calling"),
        remove("e6", "2024-05-02T03:00:00Z", "s2"),
        remove("e7", "2024-05-02T10:00:00Z", "s1"),
    ];
    let mut shuffled = sorted.clone();
    shuffled.reverse();
    shuffled.swap(1, 4);
    let (a, _) = load(&events(&sorted));
    let (b, _) = load(&events(&shuffled));
    for policy in HourPolicy::ALL {
        for level in ReportLevel::ALL {
            let ra = report(&a, may(), level, policy, Scope::Partner);
            let rb = report(&b, may(), level, policy, Scope::Partner);
            assert_eq!(csv_text(&ra), csv_text(&rb), "{policy} {level}");
        }
    }
    // Hand check, started: s1 calling [06:00, 09:30) ∪ [12:15 (13:15+01:00), May 2 10:00):
    //   May 1 hours 6..=9 and 12..=23 = 16 h → 0.666667 → 0.6667; May 2 hours 0..=9 = 10 → 0.416667
    //   → 0.4167; total 1.0834. s1 voice [09:30, 11:00): hours 9, 10 → 0.0833.
    //   s2 meetings [May 1 08:00, May 2 03:00): 16 h → 0.666667 → 0.6667; 3 h → 0.125: 0.7917.
    assert_eq!(
        quantities(&user(&b, may(), HourPolicy::Started)),
        ["1.0834", "0.0833", "0.7917"]
    );
}

#[test]
fn ties_keep_file_order() {
    // Two ASSIGNs at the same instant: the later in the file wins; the first lasts zero time.
    let first = [
        assign("e1", "2024-05-01T10:00:00Z", "s1", "c1", "webex_calling"),
        assign("e2", "2024-05-01T10:00:00Z", "s1", "c1", "webex_voice"),
        remove("e3", "2024-05-01T12:00:00Z", "s1"),
    ];
    let (ledger, _) = load(&events(&first));
    let r = user(&ledger, may(), HourPolicy::Started);
    // Only voice: [10:00, 12:00) = 2 h → 0.0833.
    assert_eq!(r.rows().map(|r| r.sku).collect::<Vec<_>>(), ["A-W-WXE-CALL-U"]);
    assert_eq!(quantities(&r), ["0.0833"]);
    let second = [first[1].clone(), first[0].clone(), first[2].clone()];
    let (ledger, _) = load(&events(&second));
    let r = user(&ledger, may(), HourPolicy::Started);
    assert_eq!(r.rows().map(|r| r.sku).collect::<Vec<_>>(), ["A-W-WXC-CALL-U"]);
}

#[test]
fn duplicate_event_ids() {
    let base = vec![
        assign("e1", "2024-05-01T00:00:00Z", "s1", "c1", "webex_calling"), // line 2
        remove("e2", "2024-05-01T12:00:00Z", "s1"),                        // line 3
        remove("e2", "2024-05-01T12:00:00Z", "s1"),                        // line 4: exact duplicate
    ];
    // An exact duplicate is skipped with a warning (had it been replayed, this second REMOVE would
    // find nothing assigned and fail the strict load).
    let (ledger, diagnostics) = load(&events(&base));
    assert_eq!(diagnostics.error_count(), 0);
    assert_eq!(diagnostics.issues.len(), 1);
    let issue = &diagnostics.issues[0];
    assert_eq!(
        (issue.kind, issue.severity, issue.line),
        (IssueKind::DuplicateEvent, Severity::Warning, 4)
    );
    assert_eq!(quantities(&user(&ledger, may(), HourPolicy::Started)), ["0.5000"]);

    // The same id with other content (another time) is an error on its line.
    let mut conflicting = base.clone();
    conflicting.push(remove("e1", "2024-05-01T13:00:00Z", "s1")); // line 5
    let err = try_load(&events(&conflicting), LoadMode::Strict).unwrap_err();
    assert_eq!(err.issues().len(), 1, "{:?}", err.issues());
    assert_eq!(err.issues()[0].kind, IssueKind::ConflictingEventId);
    assert_eq!(err.issues()[0].line, 5);
    let (ledger, diagnostics) = try_load(&events(&conflicting), LoadMode::Lenient).unwrap();
    assert_eq!(diagnostics.error_count(), 1);
    assert_eq!(diagnostics.warning_count(), 1);
    assert_eq!(quantities(&user(&ledger, may(), HourPolicy::Started)), ["0.5000"]);
}

#[test]
fn customer_named_under_two_owners_is_an_error() {
    let csv = events(&[
        assign("e1", "2024-05-01T00:00:00Z", "s1", "c1", "webex_calling"), // line 2: partner
        assign_sp("e2", "2024-05-01T00:00:00Z", "s2", "c1", "sp-2", "webex_calling"), // line 3
        assign_sp("e3", "2024-05-01T00:00:00Z", "s3", "c2", "sp-1", "webex_calling"), // line 4
        assign_sp("e4", "2024-05-01T00:00:00Z", "s4", "c2", "sp-2", "webex_calling"), // line 5
    ]);
    let err = try_load(&csv, LoadMode::Strict).unwrap_err();
    let found: Vec<_> = err.issues().iter().map(|i| (i.kind, i.line)).collect();
    assert_eq!(
        found,
        [
            (IssueKind::CustomerOwnerConflict, 3),
            (IssueKind::CustomerOwnerConflict, 5)
        ]
    );
    // Lenient: the two conflicting rows are rejected, the rest loads.
    let (ledger, diagnostics) = try_load(&csv, LoadMode::Lenient).unwrap();
    assert_eq!(diagnostics.error_count(), 2);
    assert_eq!(ledger.subscriber_count(), 2);
}

#[test]
fn unknown_sub_partner_is_an_error() {
    let csv = events(&[
        assign("e1", "2024-05-01T00:00:00Z", "s1", "c1", "webex_calling"),
        assign_sp("e2", "2024-05-01T00:00:00Z", "s2", "c2", "sp-404", "webex_calling"), // line 3
    ]);
    let err = try_load(&csv, LoadMode::Strict).unwrap_err();
    assert_eq!(err.issues().len(), 1);
    let issue = &err.issues()[0];
    assert_eq!((issue.kind, issue.line), (IssueKind::UnknownSubPartner, 3));
    assert_eq!(issue.field.as_deref(), Some("sub_partner_org_id"));
    assert_eq!(issue.column, Some(7));
}

#[test]
fn missing_offset_is_an_error_with_line_column_and_field() {
    let csv = events(&[
        assign("e1", "2024-05-01T00:00:00Z", "s1", "c1", "webex_calling"),
        assign("e2", "2024-05-01T08:00:00", "s2", "c1", "webex_calling"), // line 3
    ]);
    let err = try_load(&csv, LoadMode::Strict).unwrap_err();
    assert_eq!(err.issues().len(), 1);
    let issue = &err.issues()[0];
    assert_eq!(issue.kind, IssueKind::MissingOffset);
    assert_eq!(issue.line, 3);
    assert_eq!(issue.column, Some(2));
    assert_eq!(issue.field.as_deref(), Some("occurred_at"));
    assert_eq!(issue.event_id.as_deref(), Some("e2"));
}

#[test]
fn assign_identical_to_the_current_one_is_a_warning_and_a_no_op() {
    let csv = events(&[
        assign_loc("e1", "2024-05-01T08:00:00Z", "s1", "c1", "webex_calling", "L1"), // line 2
        assign_loc("e2", "2024-05-01T12:00:00Z", "s1", "c1", "webex_calling", "L1"), // line 3: identical
        assign_loc("e3", "2024-05-01T14:00:00Z", "s1", "c1", "webex_calling", "L2"), // line 4: location change
        remove("e4", "2024-05-01T20:00:00Z", "s1"),
    ]);
    let (ledger, diagnostics) = load(&csv);
    assert_eq!(diagnostics.issues.len(), 1, "{:?}", diagnostics.issues);
    let issue = &diagnostics.issues[0];
    assert_eq!(
        (issue.kind, issue.severity, issue.line),
        (IssueKind::RedundantAssign, Severity::Warning, 3)
    );
    // L1 [08:00, 14:00) = 6 h → 0.25; L2 [14:00, 20:00) = 6 h → 0.25.
    let r = user(&ledger, may(), HourPolicy::Started);
    assert_eq!(quantities(&r), ["0.2500", "0.2500"]);
    assert_eq!(r.rows().map(|r| r.location_id).collect::<Vec<_>>(), ["L1", "L2"]);
    assert_eq!(
        dates(&r),
        [
            pair("2024-05-01T08:00:00.000Z", "2024-05-01T14:00:00.000Z"),
            pair("2024-05-01T14:00:00.000Z", "2024-05-01T20:00:00.000Z"),
        ]
    );
}

/// c1 (external id EXT-1): s1 calling at L1/LIC1 39 h; s2 common area workspace at L1 for
/// [05-03 10:30, 22:00); s3 calling at L1/LIC1 from 05-31 12:00, open. c2 (external id "EXT, 2"):
/// s4 calling, one hour.
fn small_ledger() -> AssignmentLedger {
    let csv = events(&[
        "e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,EXT-1,,USER,u1,,webex_calling,L1,LIC1".into(),
        "e2,2024-05-02T15:00:00Z,REMOVE,s1,,,,,,,,,".into(),
        "e3,2024-05-03T10:30:00Z,ASSIGN,s2,c1,EXT-1,,WORKSPACE,,w2,common_area_calling,L1,".into(),
        "e4,2024-05-03T22:00:00Z,REMOVE,s2,,,,,,,,,".into(),
        "e5,2024-05-31T12:00:00Z,ASSIGN,s3,c1,EXT-1,,USER,u3,,webex_calling,L1,LIC1".into(),
        "e6,2024-05-10T00:00:00Z,ASSIGN,s4,c2,\"EXT, 2\",,USER,u4,,webex_calling,,".into(),
        "e7,2024-05-10T01:00:00Z,REMOVE,s4,,,,,,,,,".into(),
    ]);
    load(&csv).0
}

#[test]
fn user_report_csv_text() {
    let r = user(&small_ledger(), may(), HourPolicy::Started);
    // s1: 24 h + 15 h → 1.6250. s2: hours 10..=21 = 12 → 0.5000. s3: hours 12..=23 → 0.5000, end at
    // the period's end. s4: hour 0 → 0.0417. Sorted by customer, subscriber, SKU, location, license.
    let expected = "\
PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,TYPE,SUBSCRIBER_ID,USER_ID,WORKSPACE_ID,SERVICE_NAME,SKU,DESCRIPTION,CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,QUANTITY,LOCATION_ID,LICENSE_ID
Acme Telecom,partner-1,Sub1234567,c1,EXT-1,USER,s1,u1,,WEBEX_CALLING,A-W-WXC-CALL-U,Wholesale Webex Calling Usage,2024-05-01T00:00:00.000Z,2024-05-02T15:00:00.000Z,1.6250,L1,LIC1
Acme Telecom,partner-1,Sub1234567,c1,EXT-1,WORKSPACE,s2,,w2,COMMON_AREA_CALLING,A-W-CA-CALL-U,Wholesale Common Area Calling Usage,2024-05-03T10:30:00.000Z,2024-05-03T22:00:00.000Z,0.5000,L1,
Acme Telecom,partner-1,Sub1234567,c1,EXT-1,USER,s3,u3,,WEBEX_CALLING,A-W-WXC-CALL-U,Wholesale Webex Calling Usage,2024-05-31T12:00:00.000Z,2024-05-31T23:59:59.999Z,0.5000,L1,LIC1
Acme Telecom,partner-1,Sub1234567,c2,\"EXT, 2\",USER,s4,u4,,WEBEX_CALLING,A-W-WXC-CALL-U,Wholesale Webex Calling Usage,2024-05-10T00:00:00.000Z,2024-05-10T01:00:00.000Z,0.0417,,
";
    assert_eq!(csv_text(&r), expected);
}

#[test]
fn customer_report_csv_text() {
    let r = report(
        &small_ledger(),
        may(),
        ReportLevel::Customer,
        HourPolicy::Started,
        Scope::Partner,
    );
    // c1 common area at L1: 0.5000. c1 calling at L1/LIC1: s1 + s3 = 1.6250 + 0.5000 = 2.1250, dates
    // min 05-01 00:00 / max 05-31 23:59:59.999. c2 calling: 0.0417.
    let expected = "\
PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,SERVICE_NAME,SKU,DESCRIPTION,CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,QUANTITY,LOCATION_ID,LICENSE_ID
Acme Telecom,partner-1,Sub1234567,c1,EXT-1,COMMON_AREA_CALLING,A-W-CA-CALL-U,Wholesale Common Area Calling Usage,2024-05-03T10:30:00.000Z,2024-05-03T22:00:00.000Z,0.5000,L1,
Acme Telecom,partner-1,Sub1234567,c1,EXT-1,WEBEX_CALLING,A-W-WXC-CALL-U,Wholesale Webex Calling Usage,2024-05-01T00:00:00.000Z,2024-05-31T23:59:59.999Z,2.1250,L1,LIC1
Acme Telecom,partner-1,Sub1234567,c2,\"EXT, 2\",WEBEX_CALLING,A-W-WXC-CALL-U,Wholesale Webex Calling Usage,2024-05-10T00:00:00.000Z,2024-05-10T01:00:00.000Z,0.0417,,
";
    assert_eq!(csv_text(&r), expected);
}

#[test]
fn partner_report_csv_text() {
    let r = report(
        &small_ledger(),
        may(),
        ReportLevel::Partner,
        HourPolicy::Started,
        Scope::Partner,
    );
    // Common area: 0.5000. Calling: 1.6250 + 0.5000 + 0.0417 = 2.1667.
    let expected = "\
PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,SERVICE_NAME,SKU,DESCRIPTION,CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,QUANTITY
Acme Telecom,partner-1,Sub1234567,COMMON_AREA_CALLING,A-W-CA-CALL-U,Wholesale Common Area Calling Usage,2024-05-03T10:30:00.000Z,2024-05-03T22:00:00.000Z,0.5000
Acme Telecom,partner-1,Sub1234567,WEBEX_CALLING,A-W-WXC-CALL-U,Wholesale Webex Calling Usage,2024-05-01T00:00:00.000Z,2024-05-31T23:59:59.999Z,2.1667
";
    assert_eq!(csv_text(&r), expected);
}

/// c1 of the partner: s1 calling [05-01 00:00, 12:00) = 0.5. c8 of sp-1 (billing start 05-10 09:30Z):
/// s8 calling [05-12 00:00, 06:00) = 0.25. c9 of sp-2: s9 voice [05-05 00:00, 05-06 00:00) = 1.
fn scoped_ledger() -> AssignmentLedger {
    let csv = events(&[
        assign("e1", "2024-05-01T00:00:00Z", "s1", "c1", "webex_calling"),
        remove("e2", "2024-05-01T12:00:00Z", "s1"),
        assign_sp("e3", "2024-05-12T00:00:00Z", "s8", "c8", "sp-1", "webex_calling"),
        remove("e4", "2024-05-12T06:00:00Z", "s8"),
        assign_sp("e5", "2024-05-05T00:00:00Z", "s9", "c9", "sp-2", "webex_voice"),
        remove("e6", "2024-05-06T00:00:00Z", "s9"),
    ]);
    load(&csv).0
}

#[test]
fn partner_and_sub_partner_scopes() {
    let ledger = scoped_ledger();
    let started = HourPolicy::Started;
    let partner = report(&ledger, may(), ReportLevel::User, started, Scope::Partner);
    assert_eq!(partner.rows().map(|r| r.customer_org_id).collect::<Vec<_>>(), ["c1"]);
    assert_eq!(quantities(&partner), ["0.5000"]);

    let sp2 = report(
        &ledger,
        may(),
        ReportLevel::Partner,
        started,
        Scope::SubPartner("sp-2".into()),
    );
    // The sub-partner's name and org id, the shared subscription id; the end 05-06 00:00 is not the
    // period's end, so it is written as is.
    assert_eq!(
        csv_text(&sp2),
        "PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,SERVICE_NAME,SKU,DESCRIPTION,CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,QUANTITY\n\
         Reseller Two,sp-2,Sub1234567,WEBEX_VOICE,A-W-WXE-CALL-U,Wholesale Enhanced Calling Usage,2024-05-05T00:00:00.000Z,2024-05-06T00:00:00.000Z,1.0000\n"
    );
    let sp1 = report(
        &ledger,
        may(),
        ReportLevel::User,
        started,
        Scope::SubPartner("sp-1".into()),
    );
    let row = sp1.row(0).unwrap();
    assert_eq!(
        (
            row.partner_name,
            row.partner_org_id,
            row.subscription_id,
            row.customer_org_id
        ),
        ("Reseller One", "sp-1", "Sub1234567", "c8")
    );
    assert_eq!(quantities(&sp1), ["0.2500"]);

    assert!(
        ledger
            .usage_report(
                may(),
                &ReportOptions::new(ReportLevel::User).scope(Scope::SubPartner("sp-404".into()))
            )
            .is_err()
    );
}

#[test]
fn subscription_scope_is_the_partner_plus_every_sub_partner() {
    let ledger = scoped_ledger();
    let started = HourPolicy::Started;
    let all = report(&ledger, may(), ReportLevel::User, started, Scope::Subscription);
    // Every customer, each row under its owner's name, sorted by customer org.
    let owners: Vec<_> = all
        .rows()
        .map(|r| (r.customer_org_id, r.partner_name, r.partner_org_id, r.subscription_id))
        .collect();
    assert_eq!(
        owners,
        [
            ("c1", "Acme Telecom", "partner-1", "Sub1234567"),
            ("c8", "Reseller One", "sp-1", "Sub1234567"),
            ("c9", "Reseller Two", "sp-2", "Sub1234567"),
        ]
    );
    assert_eq!(quantities(&all), ["0.5000", "0.2500", "1.0000"]);
    // Totals per SKU: calling 0.5 + 0.25 = 0.7500; voice 1.0000.
    let totals = report(&ledger, may(), ReportLevel::Partner, started, Scope::Subscription);
    let by_sku: Vec<(String, String)> = totals
        .quantity_by_sku()
        .unwrap()
        .into_iter()
        .map(|(s, q)| (s.to_owned(), q.to_string()))
        .collect();
    assert_eq!(
        by_sku,
        [pair("A-W-WXC-CALL-U", "0.7500"), pair("A-W-WXE-CALL-U", "1.0000")]
    );
    assert_eq!(totals.len(), 2);
}

#[test]
fn builder_api_gives_the_same_numbers() {
    let at = |t: &str| -> Timestamp { t.parse().unwrap() };
    let mut b = AssignmentLedger::builder(org());
    b.push(Event::assign("e1", at("2024-05-01T00:00:00Z"), "s2", "c1", "webex_calling").user("u2"))
        .push(Event::remove("e2", at("2024-05-02T17:00:00+02:00"), "s2"))
        .push(Event::assign("e3", at("2024-05-03T00:00:00Z"), "s3", "c3", "webex_meetings").sub_partner("sp-2"))
        .push(Event::remove("e4", at("2024-05-03T05:30:00Z"), "s3"));
    let (ledger, diagnostics) = b.finish(LoadMode::Strict).unwrap();
    assert_eq!(diagnostics.issues, vec![]);
    // s2: 24 h + 15 h (17:00+02:00 = 15:00Z) → 1.6250.
    assert_eq!(quantities(&user(&ledger, may(), HourPolicy::Started)), ["1.6250"]);
    // s3: hours 0..=5 = 6 → 0.25 started; 5 whole hours → 0.208333 → 0.2083 completed;
    //     5.5/24 = 0.2291667 → 0.2292 exact.
    let sp2 = |p| report(&ledger, may(), ReportLevel::User, p, Scope::SubPartner("sp-2".into()));
    assert_eq!(quantities(&sp2(HourPolicy::Started)), ["0.2500"]);
    assert_eq!(quantities(&sp2(HourPolicy::Completed)), ["0.2083"]);
    assert_eq!(quantities(&sp2(HourPolicy::Exact)), ["0.2292"]);
}

/// SPEC §3 rounds each row key's day separately; SPEC §4 claims the per-subscriber day sum stays ≤ 1
/// under `completed` and `exact`. Both cannot hold: this history follows §3 to the letter and its day
/// sum is 1.0001. The test pins the §3 numbers; the contradiction is a SPEC issue, reported.
#[test]
fn spec_per_key_rounding_can_push_a_day_sum_over_one() {
    let csv = events(&[
        assign("e1", "2024-05-01T00:00:00Z", "s1", "c1", "webex_calling"),
        assign("e2", "2024-05-01T07:00:00Z", "s1", "c1", "webex_voice"),
        assign("e3", "2024-05-01T14:00:00Z", "s1", "c1", "webex_meetings"),
        assign("e4", "2024-05-01T21:00:00Z", "s1", "c1", "common_area_calling"),
        remove("e5", "2024-05-02T00:00:00Z", "s1"),
    ]);
    let (ledger, _) = load(&csv);
    let day = Period::from_dates("2024-05-01", "2024-05-01").unwrap();
    for policy in [HourPolicy::Completed, HourPolicy::Exact] {
        // 7 h → 7/24 = 0.291667 → 0.2917 (three packages); 3 h → 0.1250 (common area).
        let mut per_key: Vec<(String, String)> = ledger
            .explain_subscriber("s1", day, policy)
            .into_iter()
            .map(|(k, days)| (k.package.to_owned(), days[0].to_string()))
            .collect();
        per_key.sort();
        assert_eq!(
            per_key,
            [
                pair("common_area_calling", "0.1250"),
                pair("webex_calling", "0.2917"),
                pair("webex_meetings", "0.2917"),
                pair("webex_voice", "0.2917"),
            ],
            "{policy}"
        );
        // 3 × 0.2917 + 0.1250 = 1.0001 > 1.
        let total = user(&ledger, day, policy).total_quantity().unwrap();
        assert_eq!(total.to_string(), "1.0001", "{policy}");
    }
}

#[test]
fn leap_february_and_a_year_boundary() {
    let csv = events(&[
        // Open from 2023-12-31 22:00Z (written 2024-01-01T00:00+02:00).
        assign("e1", "2024-01-01T00:00:00+02:00", "s1", "c1", "webex_calling"),
    ]);
    let (ledger, _) = load(&csv);
    // February 2024 has 29 days, all covered: 29.0000, written up to 2024-02-29T23:59:59.999Z.
    let feb = user(&ledger, Period::month(2024, 2).unwrap(), HourPolicy::Exact);
    assert_eq!(quantities(&feb), ["29.0000"]);
    assert_eq!(
        dates(&feb),
        [pair("2024-02-01T00:00:00.000Z", "2024-02-29T23:59:59.999Z")]
    );
    // December 2023: hours 22 and 23 of Dec 31 → 2/24 = 0.083333 → 0.0833.
    let dec = user(&ledger, Period::month(2023, 12).unwrap(), HourPolicy::Started);
    assert_eq!(quantities(&dec), ["0.0833"]);
    assert_eq!(
        dates(&dec),
        [pair("2023-12-31T22:00:00.000Z", "2023-12-31T23:59:59.999Z")]
    );
}

/// SPEC §3: a row key is (customer org, subscriber, package, location, license), compared as text,
/// and its intervals are merged before proration: one USER row.
#[test]
fn same_key_with_a_license_is_one_row() {
    let csv = events(&[
        "e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,,,USER,u1,,webex_calling,L1,LIC1".into(),
        "e2,2024-05-01T06:00:00Z,REMOVE,s1,,,,,,,,,".into(),
        "e3,2024-05-01T12:00:00Z,ASSIGN,s1,c1,,,USER,u1,,webex_calling,L1,LIC1".into(),
        "e4,2024-05-01T18:00:00Z,REMOVE,s1,,,,,,,,,".into(),
    ]);
    let (ledger, _) = load(&csv);
    assert_eq!(ledger.row_key_count(), 1);
    // [00:00, 06:00) ∪ [12:00, 18:00) = 12 h → 0.5000, from 00:00 to 18:00.
    let r = user(&ledger, may(), HourPolicy::Started);
    assert_eq!(quantities(&r), ["0.5000"]);
    assert_eq!(
        dates(&r),
        [pair("2024-05-01T00:00:00.000Z", "2024-05-01T18:00:00.000Z")]
    );
    assert_eq!(ledger.explain_subscriber("s1", may(), HourPolicy::Started).len(), 1);
}

/// SPEC §2: an ASSIGN identical to the current one (license included) is a no-op and a warning.
#[test]
fn identical_assign_with_a_license_is_a_no_op() {
    let csv = events(&[
        "e1,2024-05-01T08:00:00Z,ASSIGN,s1,c1,,,USER,u1,,webex_calling,L1,LIC1".into(),
        "e2,2024-05-01T12:00:00Z,ASSIGN,s1,c1,,,USER,u1,,webex_calling,L1,LIC1".into(), // line 3
        "e3,2024-05-01T20:00:00Z,REMOVE,s1,,,,,,,,,".into(),
    ]);
    let (ledger, diagnostics) = load(&csv);
    let found: Vec<_> = diagnostics.issues.iter().map(|i| (i.line, i.kind)).collect();
    assert_eq!(found, [(3, IssueKind::RedundantAssign)]);
    // [08:00, 20:00) = 12 h → 0.5000 in one row.
    assert_eq!(quantities(&user(&ledger, may(), HourPolicy::Started)), ["0.5000"]);
}
