//! The rating engine against hand-worked cases of every rule of SPEC §7, properties, and an
//! independent `Decimal` reference written from the SPEC text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use wholesale_billing::{
    AssignmentLedger, CallFields, CallRecord, CallTime, CallType, Direction, Error, Event, LoadMode, Organisation,
    Partner, Period, Rating, RatingResult, RatingStatus, SubPartner, Tariff, TariffDocument,
};

const TARIFF: &str = r#"
currency = "GBP"
rating_decimals = 4
tollfree_destination = "UK freephone"
[[bands]]
name = "weekend"
days = ["sat", "sun"]
from = "00:00"
to = "24:00"
[[bands]]
name = "evening"
days = ["mon", "tue", "wed", "thu", "fri"]
from = "18:00"
to = "24:00"
[[destinations]]
name = "UK national"
class = "national"
prefixes = ["44"]
connect_fee = "0.10"
per_minute = "0.06"
initial = 60
subsequent = 1
[[destinations]]
name = "UK London"
class = "national"
prefixes = ["4420"]
per_minute = "0.06"
initial = 60
subsequent = 60
[[destinations]]
name = "UK mobile"
class = "mobile"
prefixes = ["447"]
per_minute = "0.03"
initial = 30
subsequent = 6
bands = { weekend = { per_minute = "0.015" } }
[[destinations]]
name = "UK freephone"
class = "freephone"
prefixes = ["44800"]
per_minute = "0.012"
initial = 1
subsequent = 1
"#;

fn tariff(allowances: &str) -> Tariff {
    TariffDocument::from_toml_str(&format!("{TARIFF}{allowances}"))
        .unwrap()
        .compile()
        .unwrap()
}

fn may() -> Period {
    Period::month(2024, 5).unwrap()
}

/// c1 (external id EXT-1, the partner's) and c2 (sub-partner sp's) hold one webex_calling
/// subscriber each for all of May: a pool of `minutes × 60` seconds each.
fn ledger() -> AssignmentLedger {
    let mut org = Organisation::new(Partner {
        org_id: "p".into(),
        name: "P".into(),
        subscription_id: "S".into(),
    })
    .unwrap();
    org.sub_partners.push(SubPartner {
        org_id: "sp".into(),
        name: "SP".into(),
        billing_start: None,
    });
    let mut b = AssignmentLedger::builder(org);
    let at = "2024-05-01T00:00:00Z".parse().unwrap();
    b.push(Event::assign("e1", at, "s1", "c1", "webex_calling").external_id("EXT-1"));
    b.push(Event::assign("e2", at, "s2", "c2", "webex_calling").sub_partner("sp"));
    b.finish(LoadMode::Strict).unwrap().0
}

#[derive(Clone, Debug)]
struct Call {
    id: String,
    at: String,
    duration: u32,
    number: String,
    org: String,
    direction: Direction,
    call_type: CallType,
    answered: bool,
    tz: i16,
}

fn call(id: &str, at: &str, duration: u32, number: &str) -> Call {
    Call {
        id: id.into(),
        at: at.into(),
        duration,
        number: number.into(),
        org: "c1".into(),
        direction: Direction::Originating,
        call_type: CallType::SipNational,
        answered: true,
        tz: 0,
    }
}

fn record(c: &Call) -> CallRecord {
    CallRecord::from_fields(&CallFields {
        report_id: &c.id,
        start_time: CallTime::parse(&c.at).unwrap(),
        duration: c.duration,
        direction: c.direction,
        call_type: c.call_type,
        answered: c.answered,
        called_number: &c.number,
        calling_number: "",
        org_uuid: &c.org,
        user_uuid: "u",
        site_timezone: c.tz,
    })
    .unwrap()
}

/// The rated rows (as maps of column → value) and the result.
/// Rated rows, each as (column, value) pairs.
type Rows = Vec<Vec<(String, String)>>;

fn rate(tariff: &Tariff, calls: &[Call], mode: LoadMode) -> Result<(Rows, RatingResult), Error> {
    let ledger = ledger();
    let mut run = Rating::new(tariff, may()).customers(&ledger).mode(mode).start()?;
    for c in calls {
        run.push(&record(c))?;
    }
    let mut out = Vec::new();
    let result = run.finish(&mut out)?;
    let mut rdr = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = rdr
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect();
    Ok((rows, result))
}

fn get<'a>(row: &'a [(String, String)], column: &str) -> &'a str {
    &row.iter().find(|(c, _)| c == column).unwrap().1
}

fn strict(tariff: &Tariff, calls: &[Call]) -> Rows {
    rate(tariff, calls, LoadMode::Strict).unwrap().0
}

#[test]
fn increments_give_the_billable_seconds() {
    let t = tariff("");
    let rows = strict(
        &t,
        &[
            call("a", "2024-05-01T10:00:00Z", 61, "+44 1632 960000"),
            call("b", "2024-05-01T10:00:00Z", 61, "+44 20 7946 0000"),
            call("c", "2024-05-01T10:00:00Z", 31, "+44 7700 900123"),
            call("d", "2024-05-01T10:00:00Z", 5, "+44 7700 900123"),
        ],
    );
    let billable: Vec<&str> = rows.iter().map(|r| get(r, "BILLABLE_SECONDS")).collect();
    assert_eq!(billable, ["61", "120", "36", "30"]);
    // 0.10 + 0.06 × 61 / 60 = 0.161; 0.06 × 2 = 0.12; 0.03 × 36 / 60 = 0.018.
    let charges: Vec<&str> = rows.iter().map(|r| get(r, "CHARGE")).collect();
    assert_eq!(charges, ["0.1610", "0.1200", "0.0180", "0.0150"]);
    assert_eq!(get(&rows[1], "PREFIX"), "4420");
    assert_eq!(get(&rows[1], "DESTINATION"), "UK London");
    assert_eq!(get(&rows[0], "RATED_NUMBER"), "4416329600 00".replace(' ', ""));
    assert_eq!(get(&rows[0], "CUSTOMER_EXTERNAL_ID"), "EXT-1");
    assert_eq!(get(&rows[0], "PARTNER_ORG_ID"), "p");
}

#[test]
fn a_saturday_local_call_that_is_friday_in_utc_gets_the_weekend_band() {
    let t = tariff("");
    let mut sat = call("a", "2024-05-03T23:30:00Z", 60, "+447700900123");
    sat.tz = 60;
    let mut fri = sat.clone();
    fri.id = "b".into();
    fri.tz = 0;
    let rows = strict(&t, &[sat, fri]);
    assert_eq!(get(&rows[0], "BAND"), "weekend");
    assert_eq!(get(&rows[0], "CHARGE"), "0.0150");
    assert_eq!(get(&rows[1], "BAND"), "evening");
    // The mobile destination has no evening price: the default applies, the band is still named.
    assert_eq!(get(&rows[1], "CHARGE"), "0.0300");
    assert_eq!(get(&rows[0], "START_TIME"), "2024-05-03T23:30:00Z");
}

#[test]
fn a_pool_of_90_seconds_covers_one_call_and_30_seconds_of_the_next() {
    let t = tariff("[[allowances]]\npackage = \"webex_calling\"\nminutes = \"1.5\"\nclasses = [\"national\"]\n");
    let (rows, result) = rate(
        &t,
        &[
            call("r3", "2024-05-03T10:00:00Z", 60, "+44 1632 960000"),
            call("r2", "2024-05-02T10:00:00Z", 60, "+44 1632 960000"),
            call("r1", "2024-05-01T10:00:00Z", 60, "+44 1632 960000"),
        ],
        LoadMode::Strict,
    )
    .unwrap();
    // Input order kept; consumed in time order: r1 covered, r2 30 s, r3 nothing.
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (get(r, "REPORT_ID"), get(r, "COVERED_SECONDS"), get(r, "CHARGE")))
        .collect();
    assert_eq!(
        got,
        [("r3", "0", "0.1600"), ("r2", "30", "0.1300"), ("r1", "60", "0.0000")]
    );
    assert_eq!(result.counts.covered_calls, 2);
    let s = &result.summary.rows()[0];
    assert_eq!(
        (s.calls, s.billable_minutes.to_string(), s.covered_minutes.to_string()),
        (3, "3.0000".into(), "1.5000".into())
    );
    assert_eq!(s.amount.to_string(), "0.29");
}

#[test]
fn an_exact_emptying_is_fully_covered_and_pools_are_per_customer() {
    let t = tariff("[[allowances]]\npackage = \"webex_calling\"\nminutes = \"1\"\nclasses = [\"national\"]\n");
    let mut other = call("x", "2024-05-01T09:00:00Z", 60, "+44 1632 960000");
    other.org = "c2".into();
    let rows = strict(
        &t,
        &[
            other,
            call("a", "2024-05-01T10:00:00Z", 60, "+44 1632 960000"),
            call("b", "2024-05-01T11:00:00Z", 1, "+44 1632 960000"),
        ],
    );
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (get(r, "COVERED_SECONDS"), get(r, "CHARGE"), get(r, "PARTNER_ORG_ID")))
        .collect();
    // c2's call uses c2's pool; c1's 60 s empties its pool exactly: no connect fee; the next pays.
    assert_eq!(
        got,
        [("60", "0.0000", "sp"), ("60", "0.0000", "p"), ("0", "0.1600", "p")]
    );
}

#[test]
fn a_class_in_two_allowances_draws_from_them_in_tariff_order_within_one_call() {
    let t = tariff(
        "[[allowances]]\npackage = \"webex_calling\"\nminutes = \"0.5\"\nclasses = [\"national\"]\n\
         [[allowances]]\npackage = \"webex_calling\"\nminutes = \"1\"\nclasses = [\"national\", \"mobile\"]\n",
    );
    let rows = strict(
        &t,
        &[
            call("a", "2024-05-01T10:00:00Z", 75, "+44 1632 960000"),
            call("b", "2024-05-01T11:00:00Z", 60, "+44 1632 960000"),
        ],
    );
    // a: 30 s from the first, 45 s from the second (fully covered); b: the last 15 s of the second.
    assert_eq!(get(&rows[0], "COVERED_SECONDS"), "75");
    assert_eq!(get(&rows[0], "CHARGE"), "0.0000");
    assert_eq!(get(&rows[1], "COVERED_SECONDS"), "15");
    // 0.10 + 0.06 × 45 / 60 = 0.145.
    assert_eq!(get(&rows[1], "CHARGE"), "0.1450");
}

#[test]
fn ties_in_start_time_are_broken_by_report_id_bytes() {
    let t = tariff("[[allowances]]\npackage = \"webex_calling\"\nminutes = \"1\"\nclasses = [\"national\"]\n");
    // Same instant written two ways; "id-0000B" < "id-0000a" as bytes (B = 0x42 < a = 0x61),
    // and both share their first 8 bytes.
    let rows = strict(
        &t,
        &[
            call("id-0000a", "2024-05-01T10:00:00+01:00", 60, "+44 1632 960000"),
            call("id-0000B", "2024-05-01T09:00:00Z", 60, "+44 1632 960000"),
        ],
    );
    assert_eq!(get(&rows[0], "COVERED_SECONDS"), "0");
    assert_eq!(get(&rows[1], "COVERED_SECONDS"), "60");
}

#[test]
fn statuses_follow_their_precedence() {
    let t = tariff("");
    let base = call("x", "2024-05-01T10:00:00Z", 0, "+99");
    let mut calls = Vec::new();
    let mut add = |id: &str, f: &dyn Fn(&mut Call)| {
        let mut c = base.clone();
        c.id = id.into();
        f(&mut c);
        calls.push(c);
    };
    // Unknown customer beats everything.
    add("u", &|c| {
        c.org = "nobody".into();
        c.direction = Direction::Terminating;
        c.answered = false;
    });
    add("t", &|c| {
        c.direction = Direction::Terminating;
        c.answered = false;
    });
    add("n", &|c| c.answered = false);
    add("z", &|c| c.call_type = CallType::SipEmergency);
    add("e", &|c| {
        c.duration = 5;
        c.call_type = CallType::SipEmergency;
    });
    add("d", &|c| {
        c.duration = 5;
        c.number = "+99 (1) 234".into();
    });
    let (rows, result) = rate(&t, &calls, LoadMode::Lenient).unwrap();
    let statuses: Vec<&str> = rows.iter().map(|r| get(r, "STATUS")).collect();
    assert_eq!(
        statuses,
        [
            "unknown_customer",
            "terminating",
            "not_answered",
            "zero_duration",
            "not_charged_call_type",
            "no_destination"
        ]
    );
    assert_eq!(get(&rows[0], "CUSTOMER_ORG_ID"), "nobody");
    // no_destination keeps its digits; other uncharged rows are empty with a charge of 0.0000.
    assert_eq!(get(&rows[5], "RATED_NUMBER"), "991234");
    for r in &rows {
        assert_eq!((get(r, "PREFIX"), get(r, "DESTINATION"), get(r, "BAND")), ("", "", ""));
        assert_eq!((get(r, "BILLABLE_SECONDS"), get(r, "CHARGE")), ("0", "0.0000"));
    }
    assert_eq!(result.counts.status(RatingStatus::NoDestination), 1);
    assert_eq!(result.issues.len(), 2);
    assert!(result.summary.rows().is_empty());
    // Strict: both are errors and nothing is written.
    let err = rate(&t, &calls, LoadMode::Strict).unwrap_err();
    assert!(matches!(err, Error::RecordsRejected { errors: 2, .. }), "{err}");
    assert!(err.to_string().contains("unknown customer \"nobody\""), "{err}");
}

#[test]
fn toll_free_terminating_legs_are_priced_at_the_named_destination() {
    let t = tariff("[[allowances]]\npackage = \"webex_calling\"\nminutes = \"1\"\nclasses = [\"freephone\"]\n");
    let mut c = call("a", "2024-05-01T10:00:00Z", 90, "0800 123 456");
    c.direction = Direction::Terminating;
    c.call_type = CallType::SipTollfree;
    let rows = strict(&t, &[c]);
    let r = &rows[0];
    assert_eq!(get(r, "STATUS"), "charged");
    assert_eq!((get(r, "PREFIX"), get(r, "RATED_NUMBER")), ("", "0800123456"));
    assert_eq!((get(r, "DESTINATION"), get(r, "CLASS")), ("UK freephone", "freephone"));
    // 60 s covered by the freephone allowance, 30 s at 0.012: 0.006.
    assert_eq!((get(r, "COVERED_SECONDS"), get(r, "CHARGE")), ("60", "0.0060"));
}

#[test]
fn records_outside_the_period_are_counted_without_a_row() {
    let t = tariff("");
    let (rows, result) = rate(
        &t,
        &[
            call("a", "2024-04-30T23:59:59Z", 60, "+44 1632 960000"),
            call("b", "2024-05-31T23:59:59Z", 60, "+44 1632 960000"),
            call("c", "2024-06-01T00:00:00Z", 60, "+44 1632 960000"),
        ],
        LoadMode::Strict,
    )
    .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(result.counts.outside_period, 2);
    assert_eq!(result.issues.len(), 2);
    assert!(
        result.issues[0].to_string().contains("outside the period"),
        "{}",
        result.issues[0]
    );
}

#[test]
fn the_summary_rounds_once() {
    let t = tariff("");
    // Three mobile calls of 31 s: 36 billable s each, 0.018 each; Σ 0.054 → 0.05; 108 s = 1.8 min.
    // Rounding each call first would give 0.02 × 3 = 0.06.
    let calls: Vec<Call> = (0..3)
        .map(|i| call(&format!("m{i}"), "2024-05-01T10:00:00Z", 31, "+447700900123"))
        .collect();
    let (_, result) = rate(&t, &calls, LoadMode::Strict).unwrap();
    let s = &result.summary.rows()[0];
    assert_eq!(s.destination, "UK mobile");
    assert_eq!(
        (s.billable_minutes.to_string(), s.amount.to_string()),
        ("1.8000".into(), "0.05".into())
    );
    let mut csv = Vec::new();
    result.summary.write_csv(&mut csv).unwrap();
    assert_eq!(
        String::from_utf8(csv).unwrap(),
        "CUSTOMER_ORG_ID,DESTINATION,CALLS,BILLABLE_MINUTES,COVERED_MINUTES,AMOUNT,CURRENCY\n\
         c1,UK mobile,3,1.8000,0.0000,0.05,GBP\n"
    );
}

// ---- the reference: SPEC §7.4–§7.5 in plain Decimal, from the text alone ----

/// (prefix, destination, class, connect fee, per minute, initial, subsequent, weekend per minute)
type Dest = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u64,
    u64,
    Option<&'static str>,
);
const DESTS: [Dest; 4] = [
    ("44", "UK national", "national", "0.10", "0.06", 60, 1, None),
    ("4420", "UK London", "national", "0", "0.06", 60, 60, None),
    ("447", "UK mobile", "mobile", "0", "0.03", 30, 6, Some("0.015")),
    ("44800", "UK freephone", "freephone", "0", "0.012", 1, 1, None),
];

/// The reference charge and covered seconds per call (in input order), pool `pool` seconds for
/// national and mobile calls of c1 (one allowance).
fn reference(calls: &[Call], pool: u64) -> Vec<(Decimal, u64)> {
    struct Priced {
        key: (i64, Vec<u8>),
        billable: u64,
        fee: Decimal,
        per_minute: Decimal,
        covers: bool,
    }
    let round = |d: Decimal| d.round_dp_with_strategy(4, RoundingStrategy::MidpointNearestEven);
    let mut priced: Vec<Option<Priced>> = Vec::new();
    for c in calls {
        let start = CallTime::parse(&c.at).unwrap();
        let charged = c.org == "c1"
            && c.direction == Direction::Originating
            && c.answered
            && c.duration > 0
            && [CallType::SipNational, CallType::SipMobile].contains(&c.call_type);
        let digits: String = c.number.chars().filter(char::is_ascii_digit).collect();
        let dest = DESTS
            .iter()
            .filter(|d| digits.starts_with(d.0))
            .max_by_key(|d| d.0.len());
        let (Some(d), true) = (dest, charged) else {
            priced.push(None);
            continue;
        };
        let d_ = u64::from(c.duration);
        let billable = if d_ <= d.5 {
            d.5
        } else {
            d.5 + (d_ - d.5).div_ceil(d.6) * d.6
        };
        // Local weekday from the instant + offset (1970-01-01 was a Thursday).
        let local = start.as_nanos() + i64::from(c.tz) * 60_000_000_000;
        let weekday = (local.div_euclid(86_400_000_000_000) + 3).rem_euclid(7); // 0 = Monday
        let hour = local.rem_euclid(86_400_000_000_000) / 3_600_000_000_000;
        let weekend = weekday >= 5;
        let per_minute = match (weekend, d.7) {
            (true, Some(p)) => p,
            _ => d.4,
        };
        let _ = hour;
        priced.push(Some(Priced {
            key: (start.as_nanos(), c.id.clone().into_bytes()),
            billable,
            fee: d.3.parse().unwrap(),
            per_minute: per_minute.parse().unwrap(),
            covers: d.2 == "national" || d.2 == "mobile",
        }));
    }
    let mut order: Vec<usize> = (0..priced.len()).filter(|&i| priced[i].is_some()).collect();
    order.sort_by(|&a, &b| priced[a].as_ref().unwrap().key.cmp(&priced[b].as_ref().unwrap().key));
    let mut covered = vec![0u64; priced.len()];
    let mut left = pool;
    for i in order {
        let p = priced[i].as_ref().unwrap();
        if p.covers {
            let take = p.billable.min(left);
            left -= take;
            covered[i] = take;
        }
    }
    priced
        .iter()
        .zip(covered)
        .map(|(p, cov)| match p {
            None => (Decimal::ZERO, 0),
            Some(p) if cov == p.billable => (Decimal::ZERO, cov),
            Some(p) => (
                round(p.fee + p.per_minute * Decimal::from(p.billable - cov) / Decimal::from(60)),
                cov,
            ),
        })
        .collect()
}

fn arb_call() -> impl Strategy<Value = Call> {
    (
        0u32..1000,
        0i64..31 * 86_400,
        0u32..2000,
        prop::sample::select(vec![
            "+44 1632 960000",
            "+44 20 7946 0000",
            "+44 7700 900123",
            "0044 800 1",
            "+99 1",
        ]),
        prop::sample::select(vec!["c1", "c1", "c1", "nobody"]),
        prop::sample::select(vec![CallType::SipNational, CallType::SipMobile, CallType::SipEmergency]),
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.9),
        -720i16..720,
    )
        .prop_map(
            |(id, secs, duration, number, org, call_type, originating, answered, tz)| Call {
                id: format!("r{id:04}"),
                at: CallTime::from_nanos((1_714_521_600 + secs) * 1_000_000_000).to_string(),
                duration,
                number: number.into(),
                org: org.into(),
                direction: if originating {
                    Direction::Originating
                } else {
                    Direction::Terminating
                },
                call_type,
                answered,
                tz,
            },
        )
}

fn unique(calls: Vec<Call>) -> Vec<Call> {
    let mut seen = std::collections::HashSet::new();
    calls.into_iter().filter(|c| seen.insert(c.id.clone())).collect()
}

fn charges(rows: &[Vec<(String, String)>]) -> Vec<(String, Decimal, u64)> {
    rows.iter()
        .map(|r| {
            (
                get(r, "REPORT_ID").to_owned(),
                get(r, "CHARGE").parse().unwrap(),
                get(r, "COVERED_SECONDS").parse().unwrap(),
            )
        })
        .collect()
}

const ALLOWANCE: &str =
    "[[allowances]]\npackage = \"webex_calling\"\nminutes = \"20\"\nclasses = [\"national\", \"mobile\"]\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_agrees_with_the_reference(calls in prop::collection::vec(arb_call(), 1..300)) {
        let calls = unique(calls);
        let t = tariff(ALLOWANCE);
        let (rows, result) = rate(&t, &calls, LoadMode::Lenient).unwrap();
        let expected = reference(&calls, 1200);
        let got: Vec<(Decimal, u64)> = charges(&rows).into_iter().map(|(_, c, s)| (c, s)).collect();
        prop_assert_eq!(got, expected);
        // Covered seconds never exceed the pool; charges are never negative.
        let covered: u64 = charges(&rows).iter().map(|c| c.2).sum();
        prop_assert!(covered <= 1200);
        prop_assert!(charges(&rows).iter().all(|c| c.1 >= Decimal::ZERO));
        prop_assert_eq!(result.counts.rows as usize, calls.len());
    }

    #[test]
    fn input_order_and_splitting_do_not_change_a_charge(calls in prop::collection::vec(arb_call(), 1..200), seed in any::<u64>()) {
        let calls = unique(calls);
        let t = tariff(ALLOWANCE);
        let mut by_id = charges(&rate(&t, &calls, LoadMode::Lenient).unwrap().0);
        let mut shuffled = calls.clone();
        let n = shuffled.len();
        for i in 0..n {
            let j = (seed as usize).wrapping_mul(i + 7).wrapping_add(i) % n;
            shuffled.swap(i, j);
        }
        let (rows, result) = rate(&t, &shuffled, LoadMode::Lenient).unwrap();
        let mut again = charges(&rows);
        by_id.sort();
        again.sort();
        prop_assert_eq!(by_id, again);
        // Two inputs read as one give the same rows as one input.
        let csv = |calls: &[Call]| {
            let mut s = String::from("Report ID,Start time,Duration,Direction,Call type,Answered,Called number,Org UUID,User UUID,Site timezone\n");
            for c in calls {
                s.push_str(&format!("{},{},{},{},{},{},{},{},u,{}\n", c.id, c.at, c.duration, c.direction, c.call_type, c.answered, c.number, c.org, c.tz));
            }
            s
        };
        let (a, b) = shuffled.split_at(n / 2);
        let ledger = ledger();
        let mut run = Rating::new(&t, may()).customers(&ledger).mode(LoadMode::Lenient).start().unwrap();
        run.read([csv(a), csv(b)].iter().map(|s| s.as_bytes()), &wholesale_billing::CdrReadOptions::default()).unwrap();
        let mut out = Vec::new();
        let split = run.finish(&mut out).unwrap();
        prop_assert_eq!(split.summary, result.summary);
        let mut one = Vec::new();
        let mut single = Rating::new(&t, may()).customers(&ledger).mode(LoadMode::Lenient).start().unwrap();
        single.read([csv(&shuffled)].iter().map(|s| s.as_bytes()), &wholesale_billing::CdrReadOptions::default()).unwrap();
        single.finish(&mut one).unwrap();
        prop_assert_eq!(out, one);
    }

    #[test]
    fn a_longer_call_never_costs_less(d in 1u32..5000, extra in 0u32..5000, n in 0usize..4) {
        let t = tariff("");
        let number = ["+44 1632 960000", "+44 20 7946 0000", "+447700900123", "+44800"][n];
        let rows = strict(&t, &[
            call("a", "2024-05-01T10:00:00Z", d, number),
            call("b", "2024-05-01T10:00:00Z", d + extra, number),
        ]);
        let a: Decimal = get(&rows[0], "CHARGE").parse().unwrap();
        let b: Decimal = get(&rows[1], "CHARGE").parse().unwrap();
        prop_assert!(b >= a && a > Decimal::ZERO);
    }
}

/// Names of the tariff and of the customers, and ids of the records, that hold commas, quotes or
/// line breaks are written quoted (each name quoted once per run, each id as it needs), so the
/// rated CSV reads back to the values.
#[test]
fn texts_that_need_quotes_are_written_quoted() {
    let tariff = TariffDocument::from_toml_str(&TARIFF.replace(r#""UK mobile""#, r#""UK \"mobile\", all\nnetworks""#))
        .unwrap()
        .compile()
        .unwrap();
    let mut org = Organisation::new(Partner {
        org_id: "p,1".into(),
        name: "P".into(),
        subscription_id: "S".into(),
    })
    .unwrap();
    org.sub_partners.clear();
    let mut b = AssignmentLedger::builder(org);
    let at = "2024-05-01T00:00:00Z".parse().unwrap();
    b.push(Event::assign("e1", at, "s1", "c1", "webex_calling").external_id("EXT \"1\", a"));
    let ledger = b.finish(LoadMode::Strict).unwrap().0;
    let mut run = Rating::new(&tariff, may())
        .customers(&ledger)
        .mode(LoadMode::Lenient)
        .start()
        .unwrap();
    let plain = call("plain", "2024-05-01T10:00:00Z", 61, "+44 7700 900123");
    let quoted = Call {
        id: "a,\"b\"".into(),
        ..plain.clone()
    };
    let unknown = Call {
        id: "c".into(),
        org: "org \"x\", y".into(),
        ..plain.clone()
    };
    for c in [&plain, &quoted, &unknown] {
        run.push(&record(c)).unwrap();
    }
    let mut out = Vec::new();
    run.finish(&mut out).unwrap();
    let mut rdr = csv::Reader::from_reader(out.as_slice());
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let columns = |row: &Vec<String>| [0, 1, 2, 3, 10].map(|i| row[i].clone());
    assert_eq!(
        rows.iter().map(columns).collect::<Vec<_>>(),
        [
            ["plain", "c1", "EXT \"1\", a", "p,1", "UK \"mobile\", all\nnetworks"],
            ["a,\"b\"", "c1", "EXT \"1\", a", "p,1", "UK \"mobile\", all\nnetworks"],
            // Unknown customer: no destination.
            ["c", "org \"x\", y", "", "", ""],
        ]
        .map(|r| r.map(str::to_owned))
    );
}
