#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The CSV reader on one thread, on two and on seven (workers making the records of parts of the
//! input cut at row ends): the same records in
//! the same order, from the same places, with the same issues and the same errors, whatever the
//! input (quoted line breaks, CRLF, blank lines, bad UTF-8, short and cut rows, duplicates, an
//! input that fails mid-way), and a rating's outputs byte for byte.

use std::io::Read;

use proptest::prelude::*;
use wholesale_billing::{CallRecord, CdrReadOptions, CdrReader, LoadMode, Period, Rating, TariffDocument};

const HEADER: &str =
    "Report ID,Start time,Duration,Direction,Call type,Answered,Called number,Org UUID,Location,Client type\n";

/// What a read gave: each record with its origin, and the diagnostics or the error, as text.
fn read(
    input: &[u8],
    threads: usize,
    mode: LoadMode,
    fail_after: Option<usize>,
) -> (Vec<(CallRecord, String)>, String) {
    let options = CdrReadOptions {
        mode,
        ..CdrReadOptions::default()
    };
    let mut reader = CdrReader::new(options).threads(threads);
    let mut records = Vec::new();
    let input = Failing {
        bytes: input,
        at: 0,
        fail_after,
    };
    let read = reader.read(input, None, |r| {
        records.push((r.clone(), r.origin().to_string()));
        Ok(())
    });
    let end = match read {
        Err(e) => format!("read error: {e}"),
        Ok(()) => match reader.finish() {
            Ok(diagnostics) => format!("{diagnostics:?}"),
            Err(e) => format!("finish error: {e:?}"),
        },
    };
    (records, end)
}

/// An input that fails with an I/O error after `fail_after` bytes, and gives few bytes per read.
struct Failing<'a> {
    bytes: &'a [u8],
    at: usize,
    fail_after: Option<usize>,
}

impl Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.fail_after.is_some_and(|n| self.at >= n) {
            return Err(std::io::Error::other("the disk went away"));
        }
        let limit = self.fail_after.map_or(usize::MAX, |n| n - self.at);
        let rest = self.bytes.get(self.at..).unwrap_or_default();
        let n = rest.len().min(buf.len()).min(limit).min(4099);
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

fn same_both_ways(input: &[u8], mode: LoadMode, fail_after: Option<usize>) {
    let (one, end_one) = read(input, 1, mode, fail_after);
    for threads in [2, 7] {
        let (many, end_many) = read(input, threads, mode, fail_after);
        assert_eq!(end_one, end_many, "{threads} threads");
        assert_eq!(one.len(), many.len(), "{threads} threads");
        for ((a, origin_a), (b, origin_b)) in one.iter().zip(&many) {
            assert_eq!(a, b);
            assert_eq!(origin_a, origin_b);
            assert_eq!(a.others().collect::<Vec<_>>(), b.others().collect::<Vec<_>>());
        }
    }
}

/// One row of a kind, numbered `i`.
fn row(kind: u8, i: usize) -> Vec<u8> {
    let good = format!(
        "r{i},2024-05-03T10:{:02}:00Z,{},ORIGINATING,SIP_NATIONAL,true,+44 20 7946 {i:04},org-1,Leeds,WXC_DEVICE",
        i % 60,
        i % 300
    );
    let text = match kind % 10 {
        0..=3 => good,
        // A duplicate of row 0 or a conflicting one.
        4 => "r0,2024-05-03T10:00:00Z,0,ORIGINATING,SIP_NATIONAL,true,+44 20 7946 0000,org-1,Leeds,WXC_DEVICE".into(),
        5 => format!("r{i},2024-05-03T10:00:00Z,12.5,ORIGINATING,SIP_NATIONAL,true,,org-1,\"York, North\nEast\",SIP"),
        6 => format!("r{i},2024-05-03T10:00:00Z,5,ORIGINATING"),
        7 => {
            let mut bytes = good.into_bytes();
            bytes.extend_from_slice(b"\xff");
            return bytes;
        }
        8 => {
            let mut bytes = format!("r{i}").into_bytes();
            bytes.extend_from_slice(b"\xC3,2024-05-03T10:00:00Z,5,ORIGINATING,SIP_NATIONAL,true,,org-1,x,y");
            return bytes;
        }
        _ => format!("r{i},2024-05-03T10:00:00+01:00,7,TERMINATING,SIP_INBOUND,false,,org-2,\"a \"\"b\"\"\",\r"),
    };
    text.into_bytes()
}

fn file(kinds: &[u8], crlf: bool, blank_every: usize, last_newline: bool) -> Vec<u8> {
    let mut out = HEADER.as_bytes().to_vec();
    for (i, &kind) in kinds.iter().enumerate() {
        out.extend(row(kind, i));
        if i + 1 < kinds.len() || last_newline {
            out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        if blank_every > 0 && i % blank_every == blank_every - 1 {
            out.push(b'\n');
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn one_thread_and_two_read_alike(
        kinds in proptest::collection::vec(0u8..10, 0..60),
        crlf in any::<bool>(),
        blank_every in 0usize..5,
        last_newline in any::<bool>(),
        strict in any::<bool>(),
        fail in proptest::option::of(0usize..4000),
    ) {
        let input = file(&kinds, crlf, blank_every, last_newline);
        let mode = if strict { LoadMode::Strict } else { LoadMode::Lenient };
        same_both_ways(&input, mode, fail);
    }
}

#[test]
fn a_large_input_crosses_chunks_and_batches_alike() {
    // About 2.5 MB and 25,000 rows: several parts of 1 MiB or more, handed round to the workers.
    let kinds: Vec<u8> = (0..25_000usize)
        .map(|i| if i % 997 == 0 { (i % 10) as u8 } else { 0 })
        .collect();
    let input = file(&kinds, false, 0, true);
    assert!(input.len() > 2 << 20);
    same_both_ways(&input, LoadMode::Lenient, None);
    same_both_ways(&input, LoadMode::Strict, None);
    same_both_ways(&input, LoadMode::Lenient, Some(3 << 19));
    let (records, _) = read(&input, 2, LoadMode::Lenient, None);
    assert!(records.len() > 24_500);
    assert_eq!(records.last().unwrap().0.report_id(), "r24999");
}

#[test]
fn a_header_refused_alike() {
    let input = b"Report ID,Start time\nr1,2024-05-03T10:00:00Z\n";
    let (_, one) = read(input, 1, LoadMode::Strict, None);
    let (_, two) = read(input, 2, LoadMode::Strict, None);
    let (_, seven) = read(input, 7, LoadMode::Strict, None);
    assert!(one.starts_with("read error: "), "{one}");
    assert_eq!(one, two);
    assert_eq!(one, seven);
    let (_, empty) = read(b"", 2, LoadMode::Strict, None);
    assert_eq!(empty, read(b"", 1, LoadMode::Strict, None).1);
}

#[test]
fn a_rating_writes_the_same_bytes_with_one_thread_two_or_seven() {
    let tariff = TariffDocument::from_toml_str(
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
    .unwrap();
    let kinds: Vec<u8> = (0..10_000usize).map(|i| [0, 1, 4, 9][i % 4]).collect();
    let input = file(&kinds, false, 0, true);
    let may = Period::month(2024, 5).unwrap();
    let outputs: Vec<(Vec<u8>, String)> = [1, 2, 7]
        .into_iter()
        .map(|threads| {
            let mut run = Rating::new(&tariff, may)
                .threads(threads)
                .mode(LoadMode::Lenient)
                .start()
                .unwrap();
            let options = CdrReadOptions {
                mode: LoadMode::Lenient,
                ..CdrReadOptions::default()
            };
            run.read([input.as_slice()], &options).unwrap();
            let mut out = Vec::new();
            let result = run.finish(&mut out).unwrap();
            (out, format!("{result:?}"))
        })
        .collect();
    assert!(outputs[0].0.len() > 100_000);
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
}
