#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A rating run finds duplicates after the read, partitioned in its spill; the reader with its
//! `Deduplicator` finds them record by record. Both must give the same diagnostics (counts and
//! issues, in order, capped alike), the same rated bytes and the same result, whatever the
//! inputs: CSV and JSON mixed, UUID and other ids, identical and conflicting duplicates across
//! inputs, bad rows, records outside the period, numbers without destination, strict or lenient.

use proptest::prelude::*;
use wholesale_billing::{CdrReadOptions, CdrReader, LoadMode, Period, Rating, Tariff, TariffDocument};

fn tariff() -> Tariff {
    TariffDocument::from_toml_str(
        r#"
currency = "GBP"
[[destinations]]
name = "UK"
class = "national"
prefixes = ["44"]
per_minute = "0.06"
initial = 60
subsequent = 1
"#,
    )
    .unwrap()
    .compile()
    .unwrap()
}

/// One record: (id, start, duration, called number), each from a small set so that ids repeat.
#[derive(Debug, Clone)]
struct Rec {
    id: u8,
    uuid: bool,
    day: u8,
    duration: u8,
    number: u8,
    bad: bool,
}

fn id(r: &Rec) -> String {
    if r.uuid {
        format!("0a0c2eb7-f1f6-3326-86f9-565d2e1155{:02x}", r.id)
    } else {
        format!("r{}", r.id)
    }
}

fn start(r: &Rec) -> String {
    // Day 0 is in April: outside the period.
    if r.day == 0 {
        "2024-04-30T23:00:00Z".into()
    } else {
        format!("2024-05-{:02}T10:00:00+01:00", r.day)
    }
}

fn number(r: &Rec) -> &'static str {
    ["+44 20 7946 0000", "+33 1 40 00 00 00", "02079460000"][usize::from(r.number % 3)]
}

fn csv(recs: &[Rec]) -> String {
    let mut out = String::from("Report ID,Start time,Duration,Direction,Call type,Answered,Called number,Org UUID\n");
    for r in recs {
        let duration = if r.bad {
            "1.5".to_owned()
        } else {
            r.duration.to_string()
        };
        out.push_str(&format!(
            "{},{},{duration},ORIGINATING,SIP_NATIONAL,true,{},org-{}\n",
            id(r),
            start(r),
            number(r),
            r.id % 3
        ));
    }
    out
}

fn json(recs: &[Rec]) -> String {
    let items: Vec<String> = recs
        .iter()
        .map(|r| {
            let duration = if r.bad {
                "\"1.5\"".to_owned()
            } else {
                r.duration.to_string()
            };
            // Two spellings of the id's key, as the feed may send.
            let key = if r.id % 2 == 0 { "Report ID" } else { "reportId" };
            format!(
                r#"{{"{key}": "{}", "Start time": "{}", "Duration": {duration}, "Direction": "ORIGINATING",
 "Call type": "SIP_NATIONAL", "Answered": true, "Called number": "{}", "Org UUID": "org-{}"}}"#,
                id(r),
                start(r),
                number(r),
                r.id % 3
            )
        })
        .collect();
    format!("{{\"items\": [\n{}\n]}}", items.join(",\n"))
}

fn rec() -> impl Strategy<Value = Rec> {
    (0u8..12, any::<bool>(), 0u8..4, 0u8..4, 0u8..4, 0u8..12).prop_map(|(id, uuid, day, duration, number, bad)| Rec {
        id,
        uuid,
        day,
        duration: duration * 20,
        number,
        bad: bad == 0,
    })
}

/// The inputs as text: each CSV or JSON.
fn inputs(parts: &[(bool, Vec<Rec>)]) -> Vec<String> {
    parts
        .iter()
        .map(|(is_json, recs)| if *is_json { json(recs) } else { csv(recs) })
        .collect()
}

/// A run of May 2024 with the read's mode and cap.
fn start_run<'t>(tariff: &'t Tariff, options: &CdrReadOptions, threads: usize) -> wholesale_billing::RatingRun<'t> {
    Rating::new(tariff, Period::month(2024, 5).unwrap())
        .mode(options.mode)
        .max_issues(options.max_issues)
        .threads(threads)
        .start()
        .unwrap()
}

/// What the reader with its deduplicator gives, the records pushed one by one into a run.
fn by_reader(inputs: &[String], options: &CdrReadOptions, threads: usize) -> String {
    let tariff = tariff();
    let mut run = start_run(&tariff, options, threads);
    let mut reader = CdrReader::new(*options).threads(threads);
    for input in inputs {
        if let Err(e) = reader.read(input.as_bytes(), None, |r| run.push(r)) {
            return format!("read error: {e:?}");
        }
    }
    let diagnostics = match reader.finish() {
        Ok(d) => d,
        Err(e) => return format!("finish error: {e:?}"),
    };
    finish(run, format!("{diagnostics:?}"))
}

/// What a run reading the inputs itself gives.
fn by_run(inputs: &[String], options: &CdrReadOptions, threads: usize) -> String {
    let tariff = tariff();
    let mut run = start_run(&tariff, options, threads);
    let diagnostics = match run.read(inputs.iter().map(String::as_bytes), options) {
        Ok(d) => d,
        Err(wholesale_billing::Error::RecordsRejected { errors, issues }) => {
            return format!(
                "finish error: {:?}",
                wholesale_billing::Error::RecordsRejected { errors, issues }
            );
        }
        Err(e) => return format!("read error: {e:?}"),
    };
    finish(run, format!("{diagnostics:?}"))
}

fn finish<S: wholesale_billing::SpillStorage>(run: wholesale_billing::RatingRun<'_, S>, diagnostics: String) -> String {
    let mut out = Vec::new();
    match run.finish(&mut out) {
        Ok(result) => format!(
            "{diagnostics}\n{}\n{:?}\n{:?}\n{:?}\n{}",
            String::from_utf8(out).unwrap(),
            result.summary,
            result.counts,
            result.issues,
            result.allowance_candidates
        ),
        Err(e) => format!("{diagnostics}\nrating error: {e:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn duplicates_found_after_the_read_are_those_found_while_reading(
        parts in proptest::collection::vec((any::<bool>(), proptest::collection::vec(rec(), 0..25)), 1..4),
        strict in any::<bool>(),
        max_issues in prop_oneof![Just(2usize), Just(1000usize)],
        threads in 1usize..3,
    ) {
        let inputs = inputs(&parts);
        let mode = if strict { LoadMode::Strict } else { LoadMode::Lenient };
        let options = CdrReadOptions { mode, max_issues, ..CdrReadOptions::default() };
        let want = by_reader(&inputs, &options, threads);
        let got = by_run(&inputs, &options, threads);
        prop_assert_eq!(got, want);
    }
}

#[test]
fn many_duplicates_across_partitions_and_frames() {
    // 60,000 records, one in three a re-delivery of an earlier one, one in 500 conflicting: keys
    // over every partition and many frames; the same outputs both ways.
    let recs: Vec<Rec> = (0..60_000u32)
        .map(|i| {
            let k = if i % 3 == 2 { i / 7 } else { i };
            Rec {
                id: 0,
                uuid: true,
                day: (k % 28 + 1) as u8,
                duration: if i % 500 == 499 { 7 } else { (k % 200) as u8 },
                number: (k % 3) as u8,
                bad: false,
            }
        })
        .collect();
    let mut text = String::from("Report ID,Start time,Duration,Direction,Call type,Answered,Called number,Org UUID\n");
    for (i, r) in recs.iter().enumerate() {
        let k = if i % 3 == 2 { i / 7 } else { i };
        text.push_str(&format!(
            "{:08x}-f1f6-3326-86f9-565d2e11553d,{},{},ORIGINATING,SIP_NATIONAL,true,{},org-{}\n",
            k,
            start(r),
            r.duration,
            number(r),
            k % 5
        ));
    }
    let inputs = vec![text];
    let options = CdrReadOptions {
        mode: LoadMode::Lenient,
        ..CdrReadOptions::default()
    };
    let want = by_reader(&inputs, &options, 2);
    assert!(!want.contains("duplicates_skipped: 0,"), "{want}");
    assert!(want.lines().count() > 30_000);
    assert_eq!(by_run(&inputs, &options, 2), want);
    let strict = CdrReadOptions::default();
    let want = by_reader(&inputs, &strict, 1);
    assert!(want.starts_with("finish error"), "{want}");
    assert_eq!(by_run(&inputs, &strict, 1), want);
}
