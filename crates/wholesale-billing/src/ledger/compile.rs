//! Compiling a ledger from the accepted events: duplicate event ids, customers' external ids,
//! the per-subscriber replay in time order, and the load's diagnostics (SPEC.md §2).

use std::sync::Arc;

use hashbrown::HashMap;

use super::builder::LedgerBuilder;
use super::field::Field;
use super::raw::NO_CUSTOMER;
use super::replay::{Replay, sort_keys_in_report_order};
use super::{AssignmentLedger, Diagnostics, KeyData, LoadMode};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};
use crate::strings::{Interner, ShortTexts, StringTable, Sym};

impl LedgerBuilder {
    /// Finds events whose id an earlier event already used: an exact duplicate is skipped with a
    /// warning, other content is an error. Returns which events are dropped.
    fn drop_duplicate_ids(&mut self, strings: &StringTable) -> Vec<bool> {
        let mut dropped = vec![false; self.events.len()];
        let mut by_hash: Vec<(u64, u32)> = self
            .event_id_hashes
            .iter()
            .enumerate()
            .map(|(i, &h)| (h, i as u32))
            .collect();
        by_hash.sort_unstable();
        let id_text = |i: u32| self.event_ids.get(Sym::from_index(i + 1));
        let mut start = 0;
        while start < by_hash.len() {
            let mut end = start + 1;
            while end < by_hash.len() && by_hash[end].0 == by_hash[start].0 {
                end += 1;
            }
            // Within one hash, each event is compared with the earliest kept event of the same id.
            for j in start + 1..end {
                let later = by_hash[j].1;
                let Some(first) = by_hash[start..j]
                    .iter()
                    .map(|&(_, i)| i)
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
                let mut issue = LoadIssue::new(severity, event.line, kind, message).with_event_id(id_text(later));
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

    /// Replays every subscriber's events in time order (ties keep push order) and compiles the
    /// ledger.
    ///
    /// # Errors
    /// [`Error::Rejected`] in strict mode when any row was rejected or a `REMOVE` found nothing
    /// assigned, with every error; [`Error::Io`] or [`Error::Overflow`] when the input could not be
    /// read or does not fit.
    pub fn finish(mut self, mode: LoadMode) -> Result<(AssignmentLedger, Diagnostics)> {
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
        let mut order: Vec<u128> = Vec::with_capacity(self.events.len());
        order.extend(
            self.events
                .iter()
                .enumerate()
                .filter(|(i, _)| !dropped[*i])
                .map(|(i, e)| {
                    let at = (e.at as u64) ^ (1 << 63);
                    ((e.subscriber.index() as u128) << 96) | (u128::from(at) << 32) | i as u128
                }),
        );
        order.sort_unstable();

        let mut keys: Vec<KeyData> = Vec::new();
        let mut intervals: Vec<(i64, i64)> = Vec::with_capacity(self.events.len());
        let mut subscriber_count = 0usize;
        let mut replay = Replay::default();
        let remove_severity = match mode {
            LoadMode::Strict => Severity::Error,
            LoadMode::Lenient => Severity::Warning,
        };
        let mut start = 0;
        while start < order.len() {
            let subscriber = order[start] >> 96;
            let mut end = start + 1;
            while end < order.len() && order[end] >> 96 == subscriber {
                end += 1;
            }
            let group = order[start..end]
                .iter()
                .map(|&o| &self.events[(o & 0xFFFF_FFFF) as usize]);
            let before = keys.len();
            replay.run(
                group,
                &strings,
                &mut keys,
                &mut intervals,
                &mut self.issues,
                remove_severity,
            );
            if keys.len() > before {
                subscriber_count += 1;
            }
            start = end;
        }
        drop(order);

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

        sort_keys_in_report_order(&mut keys, &self.customers, &strings, &self.labels);
        let mut used = vec![false; self.customers.len()];
        for k in &keys {
            used[k.customer as usize] = true;
        }
        let customer_count = used.iter().filter(|u| **u).count();
        let ledger = AssignmentLedger {
            org: self.org,
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
