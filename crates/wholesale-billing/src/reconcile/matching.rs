//! The usage comparison: per (customer, subscriber, SKU), expected against the vendor reports.
//!
//! Every report is walked in (customer, subscriber) text order and the walks merged
//! ([`walk`](super::walk)), in two halves on two threads for large reports. SKUs, few, are numbered
//! once per string table and ranked by text. No text is copied per row; texts are only copied
//! into the findings.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};
use rust_decimal::Decimal;

use super::walk::{Cell, Side, Walk, split, walking_order};
use super::{Finding, FindingClass, FindingUnit, Reconciler};
use crate::checked::{self, Subject};
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::quantity::Quantity;
use crate::rates::WholesaleRateCard;
use crate::report::UsageReport;
use crate::strings::{StringTable, Sym};
use crate::time::Period;

/// A slot of a SKU cache not filled yet.
const UNSEEN: u32 = u32::MAX;

/// SKU texts numbered in first-seen order, borrowed from the reports.
struct Skus<'a> {
    texts: Vec<&'a str>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl<'a> Skus<'a> {
    fn new() -> Self {
        Skus {
            texts: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    fn id(&mut self, text: &'a str) -> Result<u32> {
        let Skus { texts, index, hasher } = self;
        let hash = hasher.hash_one(text);
        if let Some(&id) = index.find(hash, |&id| texts.get(id as usize).is_some_and(|t| *t == text)) {
            return Ok(id);
        }
        let id = u32::try_from(texts.len())
            .ok()
            .filter(|&id| id != UNSEEN)
            .ok_or(Error::overflow("more than 4 billion distinct SKUs"))?;
        texts.push(text);
        index.insert_unique(hash, id, |&i| {
            hasher.hash_one(texts.get(i as usize).copied().unwrap_or_default())
        });
        Ok(id)
    }
}

/// What the usage comparison gives.
pub(super) struct UsageComparison {
    /// The usage findings, not sorted yet.
    pub(super) findings: Vec<Finding>,
    /// Σ user-days of the vendor reports per SKU, in SKU order (for the invoice checks).
    pub(super) vendor_days_by_sku: Vec<(String, Quantity)>,
}

/// Everything the findings need to name and price what they found.
struct Context<'a, 'r> {
    sides: &'r [Side<'a>],
    /// SKU texts by rank.
    skus: Vec<&'a str>,
    /// The uncommitted rate of each SKU, by rank.
    rates: Vec<Decimal>,
    days: Decimal,
    options: &'r Reconciler<'r>,
    currency: Currency,
}

/// Below this many rows in all, the comparison runs on the caller's thread only (unit tests take
/// the two-thread path on small reports).
pub(super) const PARALLEL_ROWS: usize = if cfg!(test) { 64 } else { 100_000 };

pub(super) fn compare_usage(
    expected: &UsageReport,
    vendor: &[&UsageReport],
    rates: &WholesaleRateCard,
    period: Period,
    options: &Reconciler<'_>,
) -> Result<UsageComparison> {
    let mut reports: Vec<&UsageReport> = Vec::with_capacity(vendor.len() + 1);
    reports.push(expected);
    reports.extend_from_slice(vendor);
    if u32::try_from(reports.len()).is_err() {
        return Err(Error::overflow("more than 4 billion reports"));
    }
    if reports.iter().any(|r| u32::try_from(r.rows.len()).is_err()) {
        return Err(Error::overflow("more than 4 billion rows in a report"));
    }
    let rows: usize = reports.iter().map(|r| r.len()).sum();
    let parallel = rows >= PARALLEL_ROWS && options.threads >= 2;

    // One pass per report for its walking order (the expected report's on a helper thread), one
    // for its SKUs, numbered through one cache per string table.
    let (expected_order, prepared) = std::thread::scope(|scope| {
        let helper = parallel.then(|| scope.spawn(|| walking_order(expected)));
        let prepared = prepare(&reports, !parallel);
        let expected_order = match helper {
            Some(h) => h.join().unwrap_or_else(|payload| std::panic::resume_unwind(payload)),
            None => Ok(None),
        };
        (expected_order, prepared)
    });
    let (mut sides, mut caches, sku_ids) = prepared?;
    if parallel && let Some(side) = sides.first_mut() {
        side.order = expected_order?;
    }

    // SKUs by text: their rank orders a subscriber's cells, and prices them.
    let mut by_text: Vec<u32> = (0..sku_ids.texts.len() as u32).collect();
    by_text.sort_unstable_by_key(|&id| sku_ids.texts.get(id as usize).copied().unwrap_or_default());
    let mut rank_of = vec![0u32; by_text.len()];
    for (rank, &id) in by_text.iter().enumerate() {
        if let Some(slot) = rank_of.get_mut(id as usize) {
            *slot = rank as u32;
        }
    }
    for (_, slots) in &mut caches {
        for slot in slots.iter_mut().filter(|s| **s != UNSEEN) {
            *slot = rank_of.get(*slot as usize).copied().unwrap_or_default();
        }
    }
    let skus: Vec<&str> = by_text
        .iter()
        .map(|&id| sku_ids.texts.get(id as usize).copied().unwrap_or_default())
        .collect();
    let sku_rates = skus
        .iter()
        .map(|sku| rates.rate(sku).map(|r| r.rate))
        .collect::<Result<Vec<Decimal>>>()?;

    // The merge, in two halves split at a customer on two threads when the reports are large.
    let whole: Vec<(usize, usize)> = sides.iter().map(|s| (0, s.len())).collect();
    let slots: Vec<&[u32]> = caches.iter().map(|(_, s)| s.as_slice()).collect();
    let walk = Walk {
        sides: &sides,
        slots: &slots,
        skus: skus.len(),
        tolerance: options.tolerance.ten_thousandths().unsigned_abs(),
    };
    let (mut raw, vendor_days) = match split(&sides).filter(|_| parallel) {
        Some((left, right)) => {
            let (left, right) = std::thread::scope(|scope| {
                let helper = scope.spawn(|| walk.merge(&left));
                let right = walk.merge(&right);
                let left = helper
                    .join()
                    .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
                (left, right)
            });
            let (mut raw, mut days) = left?;
            let (more, more_days) = right?;
            raw.extend(more);
            for ((total, add), sku) in days.iter_mut().zip(more_days).zip(&skus) {
                *total = checked::add(*total, add, "Σ user-days")
                    .for_subject(|| format!("SKU {sku} of the vendor reports"))?;
            }
            (raw, days)
        }
        None => walk.merge(&whole)?,
    };

    let context = Context {
        sides: &sides,
        skus,
        rates: sku_rates,
        days: Decimal::from(period.days()),
        options,
        currency: rates.currency(),
    };
    let findings = raw
        .drain(..)
        .map(|(class, customer, subscriber, cell, expected_cell)| {
            context.finding(class, customer, subscriber, &cell, expected_cell.as_ref())
        })
        .collect::<Result<Vec<Finding>>>()?;
    let vendor_days_by_sku = context
        .skus
        .iter()
        .zip(vendor_days)
        .filter(|(_, days)| *days != 0)
        .map(|(sku, days)| ((*sku).to_owned(), Quantity::from_ten_thousandths(days)))
        .collect();
    Ok(UsageComparison {
        findings,
        vendor_days_by_sku,
    })
}

type Prepared<'a> = (Vec<Side<'a>>, Vec<(&'a StringTable, Vec<u32>)>, Skus<'a>);

/// A side per report with the SKU cache it uses, its walking order computed unless
/// `expected_order` is false (then the first side's order is left to the caller), and the SKUs.
fn prepare<'a>(reports: &[&'a UsageReport], expected_order: bool) -> Result<Prepared<'a>> {
    let mut sku_ids = Skus::new();
    let mut caches: Vec<(&'a StringTable, Vec<u32>)> = Vec::new();
    let mut sides = Vec::with_capacity(reports.len());
    for (i, &report) in reports.iter().enumerate() {
        let table: &'a StringTable = &report.strings;
        let cache = match caches.iter().position(|(t, _)| std::ptr::eq(*t, table)) {
            Some(c) => c,
            None => {
                caches.push((table, Vec::new()));
                caches.len() - 1
            }
        };
        if let Some((_, slots)) = caches.get_mut(cache) {
            let mut last = None;
            for r in &report.rows {
                if last == Some(r.sku) {
                    continue;
                }
                last = Some(r.sku);
                sku_id(slots, r.sku, table, &mut sku_ids)?;
            }
        }
        let order = if i > 0 || expected_order {
            walking_order(report)?
        } else {
            None
        };
        sides.push(Side {
            report,
            order,
            skus: cache,
        });
    }
    Ok((sides, caches, sku_ids))
}

/// The number of a SKU symbol of `table`, through the table's cache.
fn sku_id<'a>(slots: &mut Vec<u32>, sym: Sym, table: &'a StringTable, skus: &mut Skus<'a>) -> Result<u32> {
    let i = sym.index();
    if let Some(&id) = slots.get(i)
        && id != UNSEEN
    {
        return Ok(id);
    }
    let id = skus.id(table.get(sym))?;
    if slots.len() <= i {
        slots.resize(i + 1, UNSEEN);
    }
    if let Some(slot) = slots.get_mut(i) {
        *slot = id;
    }
    Ok(id)
}

impl Context<'_, '_> {
    fn external_id(&self, origin: Option<(u32, u32)>) -> &str {
        origin
            .and_then(|(report, row)| {
                let side = self.sides.get(report as usize)?;
                let r = side.report.rows.get(row as usize)?;
                Some(side.text(r.customer_external_id))
            })
            .unwrap_or_default()
    }

    fn sku(&self, rank: u32) -> &str {
        self.skus.get(rank as usize).copied().unwrap_or_default()
    }

    fn rate(&self, rank: u32) -> Decimal {
        // Every rank has a rate: `compare_usage` refuses SKUs without one before matching.
        self.rates.get(rank as usize).copied().unwrap_or_default()
    }

    /// The value of `user_days` of a SKU, not rounded.
    fn value(&self, user_days: i64, rank: u32) -> Result<Decimal> {
        let value = checked::mul(
            Decimal::new(user_days, 4),
            self.rate(rank),
            "user-days × wholesale rate",
        )?;
        checked::div(value, self.days, "money impact / days")
    }

    /// A usage finding about `cell`; for `sku_mismatch`, `cell` is the vendor's and
    /// `expected_cell` the partner's.
    fn finding(
        &self,
        class: FindingClass,
        customer: &str,
        subscriber: &str,
        cell: &Cell,
        expected_cell: Option<&Cell>,
    ) -> Result<Finding> {
        let sku = self.sku(cell.sku);
        let subject = || format!("SKU {sku} of subscriber {subscriber} of customer {customer}");
        let (expected, actual, raw_impact, origin) = match expected_cell {
            Some(e) => {
                let vendor_value = self.value(cell.vendor, cell.sku).for_subject(subject)?;
                let expected_value = self.value(e.expected, e.sku).for_subject(subject)?;
                let impact = checked::sub(vendor_value, expected_value, "vendor − expected money impact")
                    .for_subject(subject)?;
                (e.expected, cell.vendor, impact, e.expected_origin)
            }
            None => {
                let difference =
                    checked::sub(cell.vendor, cell.expected, "vendor − expected user-days").for_subject(subject)?;
                let origin = cell.expected_origin.or(cell.vendor_origin);
                let impact = self.value(difference, cell.sku).for_subject(subject)?;
                (cell.expected, cell.vendor, impact, origin)
            }
        };
        let difference = checked::sub(actual, expected, "vendor − expected user-days").for_subject(subject)?;
        let money_impact: Money = self.options.rounding.line(raw_impact, self.currency);
        let q = Quantity::from_ten_thousandths;
        let who = format!("subscriber {subscriber} of customer {customer}");
        let detail = match class {
            FindingClass::MissingFromVendor => format!(
                "the partner's data has {} user-days of {sku} for {who}, no vendor report has any",
                q(expected)
            ),
            FindingClass::UnexpectedVendorUsage => format!(
                "the vendor reports {} user-days of {sku} for {who}, the partner's data has none",
                q(actual)
            ),
            FindingClass::QuantityMismatch => format!(
                "the vendor reports {} user-days of {sku} for {who}, the partner's data has {}",
                q(actual),
                q(expected)
            ),
            _ => format!(
                "the vendor reports {who} under {sku} ({} user-days), the partner's data under {} ({} user-days)",
                q(actual),
                expected_cell.map(|e| self.sku(e.sku)).unwrap_or_default(),
                q(expected)
            ),
        };
        Ok(Finding {
            class,
            customer_org_id: customer.to_owned(),
            customer_external_id: self.external_id(origin).to_owned(),
            subscriber_id: subscriber.to_owned(),
            sku: sku.to_owned(),
            expected_sku: expected_cell.map(|e| self.sku(e.sku).to_owned()),
            expected: Decimal::new(expected, 4),
            actual: Decimal::new(actual, 4),
            difference: Decimal::new(difference, 4),
            unit: FindingUnit::UserDays,
            money_impact,
            detail,
        })
    }
}
