//! Criterion benchmark of the rating kernel (`rate_call`, issue 10 point 10): 1,000,000
//! pre-parsed call legs rated on one thread against a 100,000-prefix tariff (target: at least
//! 20 million records per second per core).
//!
//! The tariff: the `tariff_lookup` bench's table (100,000 random prefixes of 5 to 10 digits under
//! 200 country codes, 10,000 destinations) with two bands, `weekend` (Saturday and Sunday) and
//! `evening` (weekdays 19:00–24:00). The calls, a mix like a month of Webex Calling history:
//! 72 % charged national / mobile legs and 8 % international ones to numbers under prefixes of
//! the table (`+` and 12 digits), 1 % to numbers under no prefix, 10 % terminating (inbound),
//! 6 % unanswered, 2 % answered with zero duration, 1 % internal (not charged); durations of 1 s
//! to 20 min, start times over May 2024 (weekends included), sites at UTC−5, UTC, UTC+1 and
//! UTC+5:30. Two variants of the numbers: `uniform` (every prefix equally likely, the worst case
//! for caches) and `hot_200` (real traffic: 95 % of the charged legs go to 200 destinations).
//! Run with `cargo bench -p wholesale-billing-benches --bench rating_kernel`.
#![allow(clippy::expect_used)] // a benchmark that cannot set up should stop loudly

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wholesale_billing::{
    CallInput, CallTime, CallType, Direction, RatedCall, RatingStatus, Tariff, TariffDocument, rate_call,
};
use wholesale_billing_benches::{Rng, prefix_table};

const PREFIXES: usize = 100_000;
const CALLS: usize = 1_000_000;
/// Digits of a called number (after its `+`).
const DIGITS: usize = 12;

const TARIFF: &str = r#"
currency = "USD"
prefix_table = "big.csv"

[[bands]]
name = "weekend"
days = ["sat", "sun"]
from = "00:00"
to = "24:00"

[[bands]]
name = "evening"
days = ["mon", "tue", "wed", "thu", "fri"]
from = "19:00"
to = "24:00"
"#;

/// The fields of a call leg but its number, which lives in a shared buffer.
struct Leg {
    known_customer: bool,
    direction: Direction,
    call_type: CallType,
    answered: bool,
    duration: u32,
    start_time: CallTime,
    site_timezone: i16,
}

/// `CALLS` legs and their numbers (`+` and `DIGITS` digits each, concatenated); the numbers of
/// charged legs are drawn under `targets` (the prefixes the traffic goes to).
fn calls(rng: &mut Rng, prefixes: &[String], hot: Option<&[String]>) -> (Vec<Leg>, String) {
    let may_2024 = CallTime::parse("2024-05-01T00:00:00Z")
        .expect("a valid time")
        .as_nanos();
    let mut legs = Vec::with_capacity(CALLS);
    let mut numbers = String::with_capacity(CALLS * (DIGITS + 1));
    for _ in 0..CALLS {
        let kind = rng.below(100);
        let (direction, call_type, answered, duration) = match kind {
            0..72 => (
                Direction::Originating,
                if kind.is_multiple_of(2) {
                    CallType::SipNational
                } else {
                    CallType::SipMobile
                },
                true,
                1 + rng.below(1200) as u32,
            ),
            72..81 => (
                Direction::Originating,
                CallType::SipInternational,
                true,
                1 + rng.below(1200) as u32,
            ),
            81..91 => (
                Direction::Terminating,
                CallType::SipInbound,
                true,
                1 + rng.below(1200) as u32,
            ),
            91..97 => (Direction::Originating, CallType::SipNational, false, 0),
            97..99 => (Direction::Originating, CallType::SipMobile, true, 0),
            _ => (
                Direction::Originating,
                CallType::SipEnterprise,
                true,
                1 + rng.below(600) as u32,
            ),
        };
        let start = numbers.len();
        numbers.push('+');
        if kind == 80 {
            numbers.push_str("99"); // under no prefix of the table
        } else {
            let pool = match hot {
                Some(hot) if rng.below(100) < 95 => hot,
                _ => prefixes,
            };
            numbers.push_str(&pool[rng.below(pool.len() as u64) as usize]);
        }
        while numbers.len() < start + 1 + DIGITS {
            numbers.push(char::from(b'0' + rng.below(10) as u8));
        }
        let seconds = rng.below(31 * 86_400) as i64;
        legs.push(Leg {
            known_customer: true,
            direction,
            call_type,
            answered,
            duration,
            start_time: CallTime::from_nanos(may_2024 + seconds * 1_000_000_000),
            site_timezone: [-300, 0, 60, 330][rng.below(4) as usize],
        });
    }
    (legs, numbers)
}

/// The inputs of the kernel: each leg with its number borrowed from `numbers`.
fn inputs<'a>(legs: &[Leg], numbers: &'a str) -> Vec<CallInput<'a>> {
    legs.iter()
        .zip(numbers.as_bytes().chunks_exact(DIGITS + 1))
        .map(|(leg, number)| CallInput {
            known_customer: leg.known_customer,
            direction: leg.direction,
            call_type: leg.call_type,
            answered: leg.answered,
            duration: leg.duration,
            called_number: std::str::from_utf8(number).expect("ASCII digits"),
            start_time: leg.start_time,
            site_timezone: leg.site_timezone,
        })
        .collect()
}

/// Calls rated per [`Tariff::rate_calls`] in the batch variants: a batch of an engine's
/// records, its results (64 bytes each) staying in the L1 and L2 caches.
const BATCH: usize = 1024;

/// Rates every call; the sum of the charges and the number of charged legs.
fn rate_all(tariff: &Tariff, calls: &[CallInput<'_>]) -> (i64, usize) {
    let mut total = 0i64;
    let mut charged = 0usize;
    for call in calls {
        let rated = rate_call(tariff, black_box(call)).expect("no overflow");
        total = total.wrapping_add(rated.charge);
        charged += usize::from(rated.status == RatingStatus::Charged);
    }
    (total, charged)
}

/// [`rate_all`] by [`Tariff::rate_calls`], [`BATCH`] calls at a time into one buffer.
fn rate_all_batch(tariff: &Tariff, calls: &[CallInput<'_>], rated: &mut Vec<RatedCall>) -> (i64, usize) {
    let mut total = 0i64;
    let mut charged = 0usize;
    for batch in calls.chunks(BATCH) {
        rated.clear();
        tariff.rate_calls(black_box(batch), rated).expect("no overflow");
        for r in rated.iter() {
            total = total.wrapping_add(r.charge);
            charged += usize::from(r.status == RatingStatus::Charged);
        }
    }
    (total, charged)
}

fn rating_kernel(c: &mut Criterion) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (csv, prefixes) = prefix_table(&mut rng, PREFIXES);
    let tariff = TariffDocument::from_toml_str(TARIFF)
        .and_then(|d| d.with_prefix_table(csv.as_bytes()))
        .and_then(|d| d.compile())
        .expect("the tariff compiles");
    // 200 destinations of the table (ten prefixes each): the hot traffic's.
    let hot: Vec<String> = (0..200)
        .flat_map(|i| {
            let d = (i * 47) % (PREFIXES / 10);
            prefixes[d * 10..d * 10 + 10].iter().cloned()
        })
        .collect();
    let (uniform_legs, uniform_numbers) = calls(&mut rng, &prefixes, None);
    let (hot_legs, hot_numbers) = calls(&mut rng, &prefixes, Some(&hot));
    let uniform = inputs(&uniform_legs, &uniform_numbers);
    let hot = inputs(&hot_legs, &hot_numbers);
    let mut rated = Vec::with_capacity(BATCH);
    for (name, calls) in [("uniform", &uniform), ("hot_200", &hot)] {
        let (total, charged) = rate_all(&tariff, calls);
        eprintln!(
            "rating_kernel {name}: {} calls, {charged} charged, charges sum {total}",
            calls.len()
        );
        // The batch kernel rates every call as the one-by-one kernel does.
        assert_eq!(rate_all_batch(&tariff, calls, &mut rated), (total, charged), "{name}");
    }
    let mut group = c.benchmark_group("rating_kernel_100k_prefixes");
    group.throughput(Throughput::Elements(CALLS as u64));
    group.sample_size(20);
    group.bench_function("uniform", |b| b.iter(|| black_box(rate_all(&tariff, &uniform))));
    group.bench_function("hot_200", |b| b.iter(|| black_box(rate_all(&tariff, &hot))));
    group.bench_function("uniform_batch", |b| {
        b.iter(|| black_box(rate_all_batch(&tariff, &uniform, &mut rated)))
    });
    group.bench_function("hot_200_batch", |b| {
        b.iter(|| black_box(rate_all_batch(&tariff, &hot, &mut rated)))
    });
    group.finish();
}

criterion_group!(benches, rating_kernel);
criterion_main!(benches);
