//! The per-subscriber replay that turns time-ordered events into merged intervals per row key,
//! and the sort of row keys into report order.

use super::event::Action;
use super::raw::RawEvent;
use super::{CustomerData, KeyData, LabelSyms, OPEN_END, intervals_of};
use crate::catalog::PackageId;
use crate::error::{Error, IssueKind, LoadIssue, Quoted, Result, Severity};
use crate::strings::{StringTable, Sym};

/// Scratch space of the per-subscriber replay, reused across subscribers.
#[derive(Default)]
pub(super) struct Replay {
    /// (customer, package, location, license) → index in `keys` of this subscriber's keys.
    local: Vec<((u32, u16, Sym, Sym), usize)>,
    /// (local key, start, end) in time order.
    segments: Vec<(usize, i64, i64)>,
    /// This subscriber's keys, before they are known to have any non-empty interval.
    staged: Vec<KeyData>,
}

impl Replay {
    pub(super) fn run<'e>(
        &mut self,
        events: impl Iterator<Item = &'e RawEvent>,
        strings: &StringTable,
        keys: &mut Vec<KeyData>,
        intervals: &mut Vec<(i64, i64)>,
        issues: &mut Vec<LoadIssue>,
        remove_severity: Severity,
    ) {
        self.local.clear();
        self.segments.clear();
        let mut current: Option<(usize, i64)> = None;
        let staged = &mut self.staged;
        staged.clear();
        for e in events {
            match e.action {
                Action::Assign => {
                    // Customers, locations and licenses are interned: equal texts, equal symbols.
                    let tuple = (e.customer, e.package, e.location, e.license);
                    let local = match self.local.iter().find(|(t, _)| *t == tuple) {
                        Some(&(_, i)) => i,
                        None => {
                            staged.push(KeyData {
                                customer: e.customer,
                                subscriber: e.subscriber,
                                package: PackageId(e.package),
                                location: e.location,
                                license: e.license,
                                subscriber_type: e.subscriber_type,
                                user_id: Sym::EMPTY,
                                workspace_id: Sym::EMPTY,
                                first_interval: 0,
                            });
                            self.local.push((tuple, staged.len() - 1));
                            staged.len() - 1
                        }
                    };
                    if let Some((k, _)) = current
                        && k == local
                    {
                        issues.push(LoadIssue::new(
                            Severity::Warning,
                            e.line.into(),
                            IssueKind::RedundantAssign,
                            format!(
                                "assign identical to the current assignment of subscriber {}; no-op",
                                Quoted(&strings.text(e.subscriber))
                            ),
                        ));
                        continue;
                    }
                    let key = &mut staged[local];
                    if e.subscriber_type.is_some() {
                        key.subscriber_type = e.subscriber_type;
                    }
                    if !e.user_id.is_empty() {
                        key.user_id = e.user_id;
                    }
                    if !e.workspace_id.is_empty() {
                        key.workspace_id = e.workspace_id;
                    }
                    if let Some((k, s)) = current {
                        self.segments.push((k, s, e.at));
                    }
                    current = Some((local, e.at));
                }
                Action::Remove => match current.take() {
                    Some((k, s)) => self.segments.push((k, s, e.at)),
                    None => issues.push(LoadIssue::new(
                        remove_severity,
                        e.line.into(),
                        IssueKind::RemoveWithoutAssignment,
                        format!(
                            "remove while nothing is assigned to subscriber {}",
                            Quoted(&strings.text(e.subscriber))
                        ),
                    )),
                },
            }
        }
        if let Some((k, s)) = current {
            self.segments.push((k, s, OPEN_END));
        }
        // Each key's intervals, in time order, merged where they touch; empty ones dropped.
        for (local, key) in staged.drain(..).enumerate() {
            let mut key = key;
            let first = intervals.len();
            for &(_, s, e) in self.segments.iter().filter(|(k, _, _)| *k == local) {
                if s >= e {
                    continue;
                }
                let n = intervals.len();
                if n > first && intervals[n - 1].1 >= s {
                    intervals[n - 1].1 = intervals[n - 1].1.max(e);
                } else {
                    intervals.push((s, e));
                }
            }
            if intervals.len() > first {
                key.first_interval = first as u32;
                keys.push(key);
            }
        }
    }
}

/// Sorts keys by (customer org, subscriber, SKU, location, license), comparing text: customers
/// ranked by their org id, then the keys bucket-sorted by customer rank and each bucket sorted by
/// the first eight bytes of the subscriber id (read once a key, packed with the key's index in
/// one number), the texts themselves read only on a tie; then the keys gathered in that order, on
/// up to `threads` threads, each given at least `per_thread` keys; then their intervals, so that
/// each key's still end where the next key's start.
///
/// # Errors
/// [`Error::ThreadFailed`] when a sorting thread stopped; [`Error::Overflow`] past `u32::MAX`
/// intervals.
pub(super) fn sort_keys_in_report_order(
    keys: &mut Vec<KeyData>,
    intervals: &mut Vec<(i64, i64)>,
    customers: &[CustomerData],
    strings: &StringTable,
    labels: &LabelSyms,
    threads: usize,
    per_thread: usize,
) -> Result<()> {
    let mut by_org: Vec<(u64, u32)> = customers
        .iter()
        .enumerate()
        .map(|(i, c)| (strings.prefix(c.org), i as u32))
        .collect();
    by_org.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| strings.cmp_texts(customers[a.1 as usize].org, customers[b.1 as usize].org))
    });
    let mut rank = vec![0u32; customers.len()];
    for (r, &(_, c)) in by_org.iter().enumerate() {
        rank[c as usize] = r as u32;
    }
    drop(by_org);
    let mut sku_rank: Vec<u16> = vec![0; labels.packages.len()];
    let mut pkgs: Vec<usize> = (0..labels.packages.len()).collect();
    pkgs.sort_by(|&a, &b| strings.cmp_texts(labels.packages[a][1], labels.packages[b][1]));
    for (r, &p) in pkgs.iter().enumerate() {
        sku_rank[p] = r as u16;
    }
    let mut counts = vec![0usize; customers.len() + 1];
    for k in keys.iter() {
        counts[rank[k.customer as usize] as usize + 1] += 1;
    }
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
    let bounds = counts.clone();
    // (subscriber prefix, key index) in the low 96 bits; the bucket is the rank.
    let mut order = vec![0u128; keys.len()];
    for (i, k) in keys.iter().enumerate() {
        let r = rank[k.customer as usize] as usize;
        let prefix = strings.prefix(k.subscriber);
        order[counts[r]] = (u128::from(prefix) << 32) | i as u128;
        counts[r] += 1;
    }
    let index = |o: u128| (o as u32) as usize;
    let full = |a: &u128, b: &u128| {
        let (a, b) = (&keys[index(*a)], &keys[index(*b)]);
        strings
            .cmp_texts(a.subscriber, b.subscriber)
            .then_with(|| sku_rank[a.package.index()].cmp(&sku_rank[b.package.index()]))
            .then_with(|| strings.cmp_texts(a.location, b.location))
            .then_with(|| strings.cmp_texts(a.license, b.license))
    };
    // Sorts the buckets of `order` between `bounds` (positions in the whole, the first of them
    // where `order` starts).
    let sort_buckets = |order: &mut [u128], bounds: &[usize]| {
        let base = bounds.first().copied().unwrap_or(0);
        for w in bounds.windows(2) {
            let bucket = &mut order[w[0] - base..w[1] - base];
            bucket.sort_unstable();
            // Keys whose subscriber ids start alike (a subscriber's own keys) by their texts.
            for alike in bucket.chunk_by_mut(|a, b| a >> 32 == b >> 32) {
                if alike.len() > 1 {
                    alike.sort_by(full);
                }
            }
        }
    };
    // A piece's keys in order, each with the length of its run of intervals.
    let gather = |order: &[u128]| -> (Vec<KeyData>, Vec<u32>) {
        let keys_in_order = order.iter().map(|&o| keys[index(o)]).collect();
        let lengths = order
            .iter()
            .map(|&o| intervals_of(keys, intervals, index(o)).len() as u32)
            .collect();
        (keys_in_order, lengths)
    };
    let threads = threads.min(keys.len() / per_thread.max(1) + 1).max(1);
    // The buckets cut into `threads` pieces of about as many keys, each sorted and gathered on
    // its own thread.
    let per_thread = keys.len().div_ceil(threads);
    let mut cuts: Vec<usize> = (1..threads)
        .map(|t| bounds.partition_point(|&b| b < t * per_thread))
        .collect();
    cuts.insert(0, 0);
    cuts.push(bounds.len() - 1);
    cuts.dedup();
    let sorted: Vec<(Vec<KeyData>, Vec<u32>)> = std::thread::scope(|scope| {
        let mut rest: &mut [u128] = &mut order;
        let mut pieces = Vec::new();
        for w in cuts.windows(2) {
            let (from, to) = (w[0], w[1]);
            let (piece, tail) = std::mem::take(&mut rest).split_at_mut(bounds[to] - bounds[from]);
            rest = tail;
            let bounds = &bounds[from..=to];
            pieces.push(move || {
                sort_buckets(piece, bounds);
                gather(piece)
            });
        }
        let last = pieces.pop();
        let spawned: Vec<_> = pieces.into_iter().map(|piece| scope.spawn(piece)).collect();
        // The last piece on this thread.
        let last = last.map(|mut piece| piece()).unwrap_or_default();
        let sorted: std::thread::Result<Vec<_>> = spawned.into_iter().map(|t| t.join()).collect();
        sorted.map(|mut sorted| {
            sorted.push(last);
            sorted
        })
    })
    .map_err(|_| Error::ThreadFailed {
        task: "sorting the ledger's keys",
    })?;
    // The keys in their new order, then their intervals (the old keys gone first).
    drop(order);
    let total: usize = sorted.iter().map(|(k, _)| k.len()).sum();
    *keys = Vec::new();
    keys.reserve_exact(total);
    let mut lengths = Vec::with_capacity(total);
    for (piece_keys, piece_lengths) in sorted {
        keys.extend(piece_keys);
        lengths.extend(piece_lengths);
    }
    let mut in_order: Vec<(i64, i64)> = Vec::with_capacity(intervals.len());
    for (key, length) in keys.iter_mut().zip(lengths) {
        let from = key.first_interval as usize;
        key.first_interval =
            u32::try_from(in_order.len()).map_err(|_| Error::overflow("more than 4 billion intervals"))?;
        in_order.extend_from_slice(intervals.get(from..from + length as usize).unwrap_or(&[]));
    }
    *intervals = in_order;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_takes_32_bytes() {
        assert_eq!(size_of::<KeyData>(), 32);
    }
}
