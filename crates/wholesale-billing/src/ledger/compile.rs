//! Compiling a ledger from the accepted events: duplicate event ids, customers' external ids,
//! the per-subscriber replay in time order, and the load's diagnostics (SPEC.md §2).

use std::sync::Arc;

use hashbrown::HashMap;

use super::builder::LedgerBuilder;
use super::field::Field;
use super::raw::{NO_CUSTOMER, RawEvent};
use super::replay::{Replay, sort_keys_in_report_order};
use super::{AssignmentLedger, Diagnostics, KeyData, LoadMode};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};
use crate::strings::{Interner, ShortTexts, StringTable, Sym};

impl LedgerBuilder {
    /// Finds events whose id an earlier event already used: an exact duplicate is skipped with a
    /// warning, other content is an error. Returns which events are dropped.
    fn drop_duplicate_ids(&mut self, strings: &StringTable) -> Vec<bool> {
        let mut dropped = vec![false; self.events.len()];
        // (hash, event index) in one number, sorted: the events of one id are consecutive.
        let mut by_hash: Vec<u64> = self
            .event_id_hashes
            .iter()
            .enumerate()
            .map(|(i, &h)| (u64::from(h) << 32) | i as u64)
            .collect();
        by_hash.sort_unstable();
        let id_text = |i: u32| self.event_ids.get(Sym::from_index(i + 1));
        let index_of = |o: u64| o as u32;
        let mut start = 0;
        while start < by_hash.len() {
            let mut end = start + 1;
            while end < by_hash.len() && by_hash[end] >> 32 == by_hash[start] >> 32 {
                end += 1;
            }
            // Within one hash, each event is compared with the earliest kept event of the same id.
            for j in start + 1..end {
                let later = index_of(by_hash[j]);
                let Some(first) = by_hash[start..j]
                    .iter()
                    .map(|&o| index_of(o))
                    .find(|&i| !dropped[i as usize] && id_text(i) == id_text(later))
                else {
                    continue;
                };
                let (earlier, event) = (&self.events[first as usize], &self.events[later as usize]);
                let (severity, kind, message) = if earlier.same_content(event, strings) {
                    let message = format!("exact duplicate of line {}; skipped", earlier.line);
                    (Severity::Warning, IssueKind::DuplicateEvent, message)
                } else {
                    let message = format!("event_id already used on line {} with other content", earlier.line);
                    (Severity::Error, IssueKind::ConflictingEventId, message)
                };
                let mut issue =
                    LoadIssue::new(severity, event.line.into(), kind, message).with_event_id(id_text(later));
                if let Some(column) = self.event_id_column {
                    issue = issue.at_column(column, Field::EventId.name());
                }
                self.issues.push(issue);
                dropped[later as usize] = true;
            }
            start = end;
        }
        dropped
    }

    /// A customer's external id is the latest non-empty one given, in time order (ties: file order).
    fn set_external_ids(&mut self, dropped: &[bool]) {
        let mut set_at: Vec<(i64, u32)> = vec![(i64::MIN, 0); self.customers.len()];
        for (i, e) in self.events.iter().enumerate() {
            if dropped[i] || e.customer == NO_CUSTOMER || e.external_id.is_empty() {
                continue;
            }
            let c = e.customer as usize;
            if (e.at, i as u32) >= set_at[c] {
                set_at[c] = (e.at, i as u32);
                self.customers[c].external_id = e.external_id;
            }
        }
    }

    /// The sort key (subscriber symbol, index) of each event kept, cut into `runs` runs of
    /// subscriber symbols (each run's keys in one vector sized for it); a subscriber's events are
    /// put in time order when its run is replayed.
    fn sort_keys_by_run(&self, dropped: &[bool], runs: usize) -> Vec<Vec<u64>> {
        let kept = || self.events.iter().enumerate().filter(|(i, _)| !dropped[*i]);
        let symbols = self.events.iter().map(|e| e.subscriber.index() + 1).max().unwrap_or(1);
        let run_of = |e: &RawEvent| e.subscriber.index() * runs / symbols;
        let mut counts = vec![0usize; runs];
        for (_, e) in kept() {
            counts[run_of(e)] += 1;
        }
        let mut orders: Vec<Vec<u64>> = counts.into_iter().map(Vec::with_capacity).collect();
        for (i, e) in kept() {
            orders[run_of(e)].push(((e.subscriber.index() as u64) << 32) | i as u64);
        }
        orders
    }

    /// Replays every subscriber's events in time order (ties keep push order) and compiles the
    /// ledger.
    ///
    /// # Errors
    /// [`Error::Rejected`] in strict mode when any row was rejected or a `REMOVE` found nothing
    /// assigned, with every error; [`Error::Io`] or [`Error::Overflow`] when the input could not be
    /// read or does not fit.
    pub fn finish(self, mode: LoadMode) -> Result<(AssignmentLedger, Diagnostics)> {
        self.finish_in_runs(mode, EVENTS_PER_RUN)
    }

    /// [`LedgerBuilder::finish`] with at least `per_run` events a thread replaying.
    fn finish_in_runs(mut self, mode: LoadMode, per_run: usize) -> Result<(AssignmentLedger, Diagnostics)> {
        if let Some(fatal) = self.fatal.take() {
            return Err(fatal);
        }
        // What only the load needed goes before the compile allocates its own: the texts' hash
        // index, the short texts, the customers' index, and (once duplicates are found) the
        // event ids.
        let strings = std::mem::take(&mut self.strings).freeze();
        self.short_texts = ShortTexts::default();
        self.customer_index = HashMap::new();
        let dropped = self.drop_duplicate_ids(&strings);
        self.event_ids = Interner::new();
        self.event_id_hashes = Vec::new();
        self.set_external_ids(&dropped);
        let remove_severity = match mode {
            LoadMode::Strict => Severity::Error,
            LoadMode::Lenient => Severity::Warning,
        };
        // Each subscriber's events are replayed alone: the subscribers are cut into runs of
        // symbols, each sorted and replayed on a thread of its own, and the runs' keys, intervals
        // and issues put end to end, as one sort by symbol would have them.
        let runs = self.threads.min(self.events.len() / per_run.max(1) + 1).max(1);
        let orders = self.sort_keys_by_run(&dropped, runs);
        drop(dropped);
        let events = &self.events;
        let strings_ref = &strings;
        let replayed: Vec<Replayed> = if runs == 1 {
            orders
                .into_iter()
                .map(|order| replay_run(events, strings_ref, order, remove_severity))
                .collect()
        } else {
            std::thread::scope(|scope| {
                let threads: Vec<_> = orders
                    .into_iter()
                    .map(|order| scope.spawn(move || replay_run(events, strings_ref, order, remove_severity)))
                    .collect();
                threads
                    .into_iter()
                    .map(|t| t.join())
                    .collect::<std::result::Result<_, _>>()
            })
            .map_err(|_| Error::ThreadFailed { task: "ledger replay" })?
        };
        // The events are replayed: they go before the runs are put together.
        self.events = Vec::new();
        let mut runs = replayed.into_iter();
        let Replayed {
            mut keys,
            mut intervals,
            issues,
            subscribers: mut subscriber_count,
        } = runs.next().unwrap_or_default();
        self.issues.extend(issues);
        for run in runs {
            let offset =
                u32::try_from(intervals.len()).map_err(|_| Error::overflow("more than 4 billion intervals"))?;
            for mut key in run.keys {
                key.first_interval = key
                    .first_interval
                    .checked_add(offset)
                    .ok_or_else(|| Error::overflow("more than 4 billion intervals"))?;
                keys.push(key);
            }
            intervals.extend(run.intervals);
            self.issues.extend(run.issues);
            subscriber_count += run.subscribers;
        }

        self.issues.sort_by_key(|i| (i.line, i.severity));
        // CSV rows and events pushed in code both count as rows read.
        let rows_read = self.rows_read + self.pushed;
        let rejected_rows = {
            let mut lines: Vec<u64> = self
                .issues
                .iter()
                .filter(|i| i.is_error() && i.kind != IssueKind::RemoveWithoutAssignment)
                .map(|i| i.line)
                .collect();
            lines.dedup();
            lines.len() as u64
        };
        let skipped = self
            .issues
            .iter()
            .filter(|i| matches!(i.kind, IssueKind::DuplicateEvent | IssueKind::RemoveWithoutAssignment))
            .count() as u64;
        let diagnostics = Diagnostics {
            rows_read,
            rows_accepted: rows_read.saturating_sub(rejected_rows + skipped),
            issues: self.issues,
        };
        if mode == LoadMode::Strict && diagnostics.error_count() > 0 {
            return Err(Error::Rejected {
                source_name: "events",
                issues: diagnostics.issues.into_iter().filter(LoadIssue::is_error).collect(),
            });
        }

        sort_keys_in_report_order(
            &mut keys,
            &mut intervals,
            &self.customers,
            &strings,
            &self.labels,
            self.threads,
            per_run,
        )?;
        let mut used = vec![false; self.customers.len()];
        for k in &keys {
            used[k.customer as usize] = true;
        }
        let customer_count = used.iter().filter(|u| **u).count();
        let ledger = AssignmentLedger {
            org: Arc::clone(&self.rules.org),
            strings: Arc::new(strings),
            customers: self.customers,
            keys,
            intervals,
            labels: self.labels,
            subscriber_count,
            customer_count,
        };
        Ok((ledger, diagnostics))
    }
}

/// Events at least a thread replaying, when several do.
const EVENTS_PER_RUN: usize = 1 << 16;

/// What the replay of one run of subscribers made.
#[derive(Default)]
struct Replayed {
    keys: Vec<KeyData>,
    intervals: Vec<(i64, i64)>,
    issues: Vec<LoadIssue>,
    /// The subscribers with a key.
    subscribers: usize,
}

/// Sorts one run's sort keys and replays each of its subscribers' events in time order.
fn replay_run(events: &[RawEvent], strings: &StringTable, mut order: Vec<u64>, remove_severity: Severity) -> Replayed {
    order.sort_unstable();
    let event = |o: u64| (o & 0xFFFF_FFFF) as usize;
    let mut out = Replayed {
        intervals: Vec::with_capacity(order.len()),
        ..Replayed::default()
    };
    let mut replay = Replay::default();
    for subscriber in order.chunk_by_mut(|a, b| a >> 32 == b >> 32) {
        // In time order; ties in file order.
        subscriber.sort_unstable_by_key(|&o| (events[event(o)].at, o));
        let group = subscriber.iter().map(|&o| &events[event(o)]);
        let before = out.keys.len();
        replay.run(
            group,
            strings,
            &mut out.keys,
            &mut out.intervals,
            &mut out.issues,
            remove_severity,
        );
        if out.keys.len() > before {
            out.subscribers += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;
    use crate::ledger::builder::test_builder;

    /// A builder of 300 events over 60 subscribers of 9 customers: assignments, package changes, removes (some
    /// with nothing assigned), exact duplicates and ids used twice with other content.
    fn builder(threads: usize) -> Result<LedgerBuilder> {
        let mut builder = test_builder(threads)?;
        for i in 0..300u32 {
            let at = format!("2024-05-{:02}T{:02}:00:00Z", 1 + (i * 7) % 28, (i * 5) % 24).parse()?;
            let subscriber = format!("s{}", (i * 37) % 60);
            let customer = format!("c{}", (i * 37) % 60 % 9);
            let id = format!("e{}", if i % 23 == 0 { i - i % 46 } else { i });
            let mut event = if i % 4 == 3 {
                Event::remove("", at, &subscriber)
            } else {
                let package = if i % 3 == 0 { "webex_calling" } else { "webex_meetings" };
                Event::assign("", at, &subscriber, &customer, package)
            };
            event.event_id = &id;
            builder.push(event);
        }
        Ok(builder)
    }

    #[test]
    fn ids_whose_hashes_collide_are_told_apart_by_their_texts() -> Result<()> {
        let show = |built: Result<(AssignmentLedger, Diagnostics)>| match built {
            Ok((ledger, diagnostics)) => format!("{:?}\n{:?}\n{diagnostics:?}", ledger.keys, ledger.intervals),
            Err(e) => format!("{e:?}"),
        };
        // The test builder's events, with an exact duplicate of a new event twice.
        let events = || -> Result<LedgerBuilder> {
            let mut builder = builder(1)?;
            let at = "2024-05-20T10:00:00Z".parse()?;
            for _ in 0..3 {
                builder.push(Event::assign("again", at, "s-new", "c-new", "webex_calling"));
            }
            Ok(builder)
        };
        let plain = show(events()?.finish(LoadMode::Lenient));
        assert!(
            plain.contains("DuplicateEvent") && plain.contains("ConflictingEventId"),
            "{plain}"
        );
        // Every id given one hash, or the parity of its length: the same duplicates, the same
        // ledger.
        for buckets in [1, 2] {
            let mut colliding = events()?;
            let hashes: Vec<u32> = (0..colliding.event_id_hashes.len() as u32)
                .map(|i| (colliding.event_ids.get(Sym::from_index(i + 1)).len() % buckets) as u32)
                .collect();
            colliding.event_id_hashes = hashes;
            assert_eq!(show(colliding.finish(LoadMode::Lenient)), plain, "{buckets} hashes");
        }
        Ok(())
    }

    #[test]
    fn a_row_past_line_4294967295_stops_the_load() -> Result<()> {
        let mut builder = test_builder(1)?;
        let event = Event::assign("e1", "2024-05-01T00:00:00Z".parse()?, "s1", "c1", "webex_calling");
        builder.push_row(u64::from(u32::MAX), &event, &[None; 13]);
        assert_eq!(builder.accepted(), 1);
        let mut next = event;
        next.event_id = "e2";
        builder.push_row(u64::from(u32::MAX) + 1, &next, &[None; 13]);
        assert_eq!(builder.accepted(), 1);
        let finished = builder.finish(LoadMode::Lenient);
        assert!(
            matches!(&finished, Err(Error::Overflow { operation, .. }) if operation.contains("4,294,967,295 rows")),
            "{finished:?}"
        );
        Ok(())
    }

    #[test]
    fn runs_of_subscribers_replay_as_one() -> Result<()> {
        for mode in [LoadMode::Lenient, LoadMode::Strict] {
            let compile = |threads: usize| -> String {
                let built = builder(threads).and_then(|b| b.finish_in_runs(mode, 1));
                match built {
                    Ok((ledger, diagnostics)) => format!(
                        "{:?}\n{:?}\n{}\n{diagnostics:?}",
                        ledger.keys, ledger.intervals, ledger.subscriber_count
                    ),
                    Err(e) => format!("{e:?}"),
                }
            };
            let one = compile(1);
            assert!(one.contains("RemoveWithoutAssignment"), "{one}");
            assert!(mode == LoadMode::Strict || one.contains("KeyData"), "{one}");
            for threads in [2, 3, 7] {
                assert_eq!(compile(threads), one, "{mode:?} on {threads} threads");
            }
        }
        Ok(())
    }
}
