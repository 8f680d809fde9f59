//! Walking reports in (customer, subscriber) text order and merging the walks.
//!
//! Each report has its own string table, so rows of different reports are compared by text. A
//! report is walked in its row order when that is already (customer, subscriber) text order — as
//! reports are written, checked in one pass — else in a sorted permutation keyed by 8-byte text
//! prefixes. The walks are merged through a heap of their next keys, one (customer, subscriber)
//! at a time, and each group's rows are summed per SKU and classified.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::checked::{self, Subject};
use crate::error::{Error, Result};
use crate::reconcile::FindingClass;
use crate::report::{RowData, UsageReport};
use crate::strings::{StringTable, Sym};

/// One report being walked in (customer, subscriber) text order.
pub(super) struct Side<'a> {
    pub(super) report: &'a UsageReport,
    /// Row indices in walking order; `None` when the rows already are in that order.
    pub(super) order: Option<Vec<u32>>,
    /// The SKU cache (symbol index → SKU rank) of the report's string table, by index.
    pub(super) skus: usize,
}

impl<'a> Side<'a> {
    pub(super) fn len(&self) -> usize {
        self.report.rows.len()
    }

    pub(super) fn text(&self, sym: Sym) -> &'a str {
        let table: &'a StringTable = &self.report.strings;
        table.get(sym)
    }

    /// The row index at walking position `pos`.
    fn row_index(&self, pos: usize) -> Option<usize> {
        match &self.order {
            Some(order) => order.get(pos).map(|&i| i as usize),
            None => (pos < self.report.rows.len()).then_some(pos),
        }
    }

    pub(super) fn row(&self, pos: usize) -> Option<(usize, &'a RowData)> {
        let rows: &'a [RowData] = &self.report.rows;
        self.row_index(pos).and_then(|i| rows.get(i).map(|r| (i, r)))
    }

    fn key(&self, r: &RowData) -> (&'a str, &'a str) {
        (self.text(r.customer_org_id), self.text(r.subscriber_id))
    }
}

/// Whether two rows of one report have the same (customer, subscriber): equal symbols are equal
/// texts; unequal symbols may still be (texts stored twice).
fn same_key(table: &StringTable, a: &RowData, b: &RowData) -> bool {
    (a.customer_org_id == b.customer_org_id || table.get(a.customer_org_id) == table.get(b.customer_org_id))
        && (a.subscriber_id == b.subscriber_id || table.get(a.subscriber_id) == table.get(b.subscriber_id))
}

fn key_order(table: &StringTable, a: &RowData, b: &RowData) -> Ordering {
    let text_order = |x: Sym, y: Sym| {
        if x == y {
            Ordering::Equal
        } else {
            table.get(x).cmp(table.get(y))
        }
    };
    text_order(a.customer_org_id, b.customer_org_id).then_with(|| text_order(a.subscriber_id, b.subscriber_id))
}

/// The first 8 bytes of a text as a big-endian number, zero-padded: ordered as the texts are,
/// ties broken by the full texts.
fn prefix(text: &str) -> u64 {
    let mut bytes = [0u8; 8];
    for (slot, b) in bytes.iter_mut().zip(text.bytes()) {
        *slot = b;
    }
    u64::from_be_bytes(bytes)
}

/// A row's place in (customer, subscriber) text order, mostly decided by numbers.
struct SortKey {
    customer_prefix: u64,
    subscriber_prefix: u64,
    customer: Sym,
    subscriber: Sym,
    row: u32,
}

/// `None` when the report's rows are in (customer, subscriber) text order, else the row indices
/// in that order (ties in row order).
pub(super) fn walking_order(report: &UsageReport) -> Result<Option<Vec<u32>>> {
    let table: &StringTable = &report.strings;
    let rows = &report.rows;
    if rows
        .windows(2)
        .all(|w| key_order(table, &w[0], &w[1]) != Ordering::Greater)
    {
        return Ok(None);
    }
    let mut keys = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let row = u32::try_from(i).map_err(|_| Error::overflow("more than 4 billion rows in a report"))?;
        keys.push(SortKey {
            customer_prefix: prefix(table.get(r.customer_org_id)),
            subscriber_prefix: prefix(table.get(r.subscriber_id)),
            customer: r.customer_org_id,
            subscriber: r.subscriber_id,
            row,
        });
    }
    // Prefixes first; on a tie, the texts (equal symbols are equal texts); then the row.
    let text_order = |x: Sym, y: Sym| {
        if x == y {
            Ordering::Equal
        } else {
            table.get(x).cmp(table.get(y))
        }
    };
    keys.sort_unstable_by(|a, b| {
        a.customer_prefix
            .cmp(&b.customer_prefix)
            .then_with(|| text_order(a.customer, b.customer))
            .then_with(|| a.subscriber_prefix.cmp(&b.subscriber_prefix))
            .then_with(|| text_order(a.subscriber, b.subscriber))
            .then(a.row.cmp(&b.row))
    });
    Ok(Some(keys.into_iter().map(|k| k.row).collect()))
}

/// A row of the current (customer, subscriber) group.
#[derive(Clone, Copy)]
struct Part {
    /// The SKU's rank in text order.
    sku: u32,
    /// 0 for the expected report, else the vendor report's number.
    report: u32,
    row: u32,
    /// Ten-thousandths of a user-day.
    quantity: i64,
}

/// The usage of one (customer, subscriber, SKU) on both sides.
#[derive(Clone, Copy)]
pub(super) struct Cell {
    pub(super) sku: u32,
    pub(super) expected: i64,
    pub(super) vendor: i64,
    /// The first expected row, as (report, row): where the customer's external id is read.
    pub(super) expected_origin: Option<(u32, u32)>,
    /// The first vendor row (lowest report, then row).
    pub(super) vendor_origin: Option<(u32, u32)>,
}

/// A finding before its texts are copied and its money priced.
pub(super) type RawFinding<'a> = (FindingClass, &'a str, &'a str, Cell, Option<Cell>);

/// Two halves of the walk, split at the customer in the middle of the largest report: every
/// side's positions before that customer, and from it on.
#[allow(clippy::type_complexity)]
pub(super) fn split(sides: &[Side<'_>]) -> Option<(Vec<(usize, usize)>, Vec<(usize, usize)>)> {
    let largest = sides.iter().max_by_key(|s| s.len())?;
    let (_, middle) = largest.row(largest.len() / 2)?;
    let pivot = largest.text(middle.customer_org_id);
    let mut left = Vec::with_capacity(sides.len());
    let mut right = Vec::with_capacity(sides.len());
    for side in sides {
        // The first position whose customer is not before the pivot (customers ascend).
        let (mut lo, mut hi) = (0, side.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let before = side.row(mid).is_some_and(|(_, r)| side.text(r.customer_org_id) < pivot);
            if before {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        left.push((0, lo));
        right.push((lo, side.len()));
    }
    Some((left, right))
}

/// What a merge of (part of) the walk needs, shared by the threads.
pub(super) struct Walk<'a, 'w> {
    pub(super) sides: &'w [Side<'a>],
    /// SKU caches (symbol index → SKU rank), by the sides' `skus`.
    pub(super) slots: &'w [&'w [u32]],
    pub(super) skus: usize,
    pub(super) tolerance: u64,
}

impl<'a> Walk<'a, '_> {
    /// Merges the sides' positions `ranges` (one `(start, end)` per side): the findings of every
    /// (customer, subscriber) in them, and the vendor's user-days per SKU rank.
    pub(super) fn merge(&self, ranges: &[(usize, usize)]) -> Result<(Vec<RawFinding<'a>>, Vec<i64>)> {
        let sides = self.sides;
        let mut next: Vec<usize> = ranges.iter().map(|r| r.0).collect();
        let head = |i: usize, pos: usize| -> Option<(usize, &'a RowData)> {
            let end = ranges.get(i).map_or(0, |r| r.1);
            if pos < end { sides.get(i)?.row(pos) } else { None }
        };
        let mut heap: BinaryHeap<Reverse<(&str, &str, usize)>> = BinaryHeap::with_capacity(sides.len());
        for (i, side) in sides.iter().enumerate() {
            if let Some((_, r)) = next.get(i).and_then(|&pos| head(i, pos)) {
                let (customer, subscriber) = side.key(r);
                heap.push(Reverse((customer, subscriber, i)));
            }
        }
        let mut vendor_days = vec![0i64; self.skus];
        let mut findings = Vec::new();
        let mut parts: Vec<Part> = Vec::new();
        let mut cells: Vec<Cell> = Vec::new();
        let mut only_expected: Vec<Cell> = Vec::new();
        let mut only_vendor: Vec<Cell> = Vec::new();
        let mut touched: Vec<usize> = Vec::new();
        while let Some(Reverse((customer, subscriber, first_side))) = heap.pop() {
            parts.clear();
            touched.clear();
            touched.push(first_side);
            while let Some(Reverse((c, s, i))) = heap.peek()
                && *c == customer
                && *s == subscriber
            {
                touched.push(*i);
                heap.pop();
            }
            for &i in &touched {
                let (Some(side), Some(pos)) = (sides.get(i), next.get_mut(i)) else {
                    continue;
                };
                let table: &StringTable = &side.report.strings;
                let slots = self.slots.get(side.skus).copied().unwrap_or_default();
                let Some((_, first)) = head(i, *pos) else { continue };
                while let Some((row, r)) = head(i, *pos) {
                    if !same_key(table, first, r) {
                        let (c, s) = side.key(r);
                        heap.push(Reverse((c, s, i)));
                        break;
                    }
                    let sku = slots.get(r.sku.index()).copied().unwrap_or_default();
                    let quantity = r.quantity.ten_thousandths();
                    if i > 0
                        && let Some(total) = vendor_days.get_mut(sku as usize)
                    {
                        *total = checked::add(*total, quantity, "Σ user-days")
                            .for_subject(|| format!("SKU {} of the vendor reports", table.get(r.sku)))?;
                    }
                    parts.push(Part {
                        sku,
                        report: i as u32,
                        row: row as u32,
                        quantity,
                    });
                    *pos += 1;
                }
            }
            parts.sort_unstable_by_key(|p| (p.sku, p.report, p.row));
            cells.clear();
            for p in &parts {
                let cell = match cells.last_mut() {
                    Some(c) if c.sku == p.sku => c,
                    _ => {
                        cells.push(Cell {
                            sku: p.sku,
                            expected: 0,
                            vendor: 0,
                            expected_origin: None,
                            vendor_origin: None,
                        });
                        cells.last_mut().ok_or(Error::overflow("cells"))?
                    }
                };
                let (sum, origin) = if p.report == 0 {
                    (&mut cell.expected, &mut cell.expected_origin)
                } else {
                    (&mut cell.vendor, &mut cell.vendor_origin)
                };
                *sum = checked::add(*sum, p.quantity, "Σ user-days")
                    .for_subject(|| format!("subscriber {subscriber} of customer {customer}"))?;
                origin.get_or_insert((p.report, p.row));
            }
            only_expected.clear();
            only_vendor.clear();
            for c in &cells {
                match (c.expected != 0, c.vendor != 0) {
                    (true, true) => {
                        let difference = checked::sub(c.vendor, c.expected, "vendor − expected user-days")
                            .for_subject(|| format!("subscriber {subscriber} of customer {customer}"))?;
                        if difference.unsigned_abs() > self.tolerance {
                            findings.push((FindingClass::QuantityMismatch, customer, subscriber, *c, None));
                        }
                    }
                    (true, false) => only_expected.push(*c),
                    (false, true) => only_vendor.push(*c),
                    (false, false) => {}
                }
            }
            // Pairing: both lists are in SKU order (cells are); the i-th with the i-th.
            let paired = only_expected.len().min(only_vendor.len());
            for (e, v) in only_expected.iter().zip(&only_vendor) {
                findings.push((FindingClass::SkuMismatch, customer, subscriber, *v, Some(*e)));
            }
            for c in only_expected.iter().skip(paired) {
                findings.push((FindingClass::MissingFromVendor, customer, subscriber, *c, None));
            }
            for c in only_vendor.iter().skip(paired) {
                findings.push((FindingClass::UnexpectedVendorUsage, customer, subscriber, *c, None));
            }
        }
        Ok((findings, vendor_days))
    }
}
