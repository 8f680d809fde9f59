//! Planted discrepancies: a copy of a USER report with known differences, so that a demo or a
//! test can check that a [`Reconciler`](crate::Reconciler) finds exactly what was planted.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ledger::SubscriberType;
use crate::quantity::Quantity;
use crate::reconcile::FindingClass;
use crate::report::{ReportLevel, RowData, UsageReport};
use crate::strings::{Interner, StringTable, Sym};

/// One difference planted by [`plant_discrepancies`]: what reconciling the original report (as
/// expected) against the planted one (as the vendor's) must find.
///
/// ```
/// use wholesale_billing::{FindingClass, Quantity};
/// use wholesale_billing::synthetic::PlantedDiscrepancy;
/// let planted = PlantedDiscrepancy {
///     class: FindingClass::MissingFromVendor,
///     customer_org_id: "c1".into(),
///     subscriber_id: "s1".into(),
///     sku: "A-W-WXC-CALL-U".into(),
///     expected_sku: None,
///     expected: Quantity::ONE,
///     actual: Quantity::ZERO,
/// };
/// assert_eq!(planted.class.as_str(), "missing_from_vendor");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PlantedDiscrepancy {
    /// The class of finding it must give.
    pub class: FindingClass,
    /// The customer org.
    pub customer_org_id: String,
    /// The subscriber (a new one for `unexpected_vendor_usage`).
    pub subscriber_id: String,
    /// The SKU the finding names: for `sku_mismatch` the new (vendor's) SKU.
    pub sku: String,
    /// For `sku_mismatch`: the SKU of the original report.
    pub expected_sku: Option<String>,
    /// The original quantity of the (customer, subscriber, SKU), in user-days (zero when new).
    pub expected: Quantity,
    /// The planted quantity (zero when dropped).
    pub actual: Quantity,
}

/// The kinds of change, in the order a seed shuffles.
const KINDS: [FindingClass; 4] = [
    FindingClass::MissingFromVendor,
    FindingClass::QuantityMismatch,
    FindingClass::SkuMismatch,
    FindingClass::UnexpectedVendorUsage,
];

/// A copy of the USER `report` with `count` known changes drawn from `seed`, and the list of them
/// sorted like reconciliation findings (class, customer, subscriber, SKU).
///
/// The changes cycle through four kinds, in an order drawn from the seed:
///
/// - every row of one (customer, subscriber, SKU) dropped → `missing_from_vendor`;
/// - one row's quantity changed (by 0.0001 to 10 user-days) → `quantity_mismatch`;
/// - every row of one (customer, subscriber, SKU) moved to another SKU of the report that the
///   subscriber does not have → `sku_mismatch`;
/// - a new row for a new subscriber of an existing customer → `unexpected_vendor_usage`.
///
/// Each change touches its own (customer, subscriber); when the report runs out of subscribers
/// (or a subscriber already has every SKU), the change becomes a new subscriber instead. Rows keep
/// the report's order (new rows are sorted in when the report was sorted). The same report, seed
/// and count always give the same result.
///
/// # Errors
/// [`Error::WrongReportLevel`] for a report that is not at the USER level,
/// [`Error::NothingToPlant`] for changes asked of a report without rows; [`Error::Overflow`] beyond the string table's capacity.
///
/// ```
/// use wholesale_billing::{Currency, Decimal, Period, ReadOptions, Reconciler, UsageReport, WholesaleRate,
///     WholesaleRateCard};
/// use wholesale_billing::synthetic::plant_discrepancies;
/// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n\
///            c1,s1,A-W-WXC-CALL-U,31\nc1,s2,A-W-WXE-CALL-U,12.5\nc2,s3,A-W-WXC-CALL-U,3\nc2,s4,A-W-WXC-CALL-U,1\n";
/// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
/// let report = report.with_period(Period::month(2024, 5)?)?;
/// let (vendor, planted) = plant_discrepancies(&report, 7, 4)?;
/// assert_eq!(vendor.period(), report.period());
/// assert_eq!(planted.len(), 4);
///
/// let mut rates = WholesaleRateCard::new(Currency::USD);
/// rates.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0)))?;
/// rates.insert(WholesaleRate::new("A-W-WXE-CALL-U", Decimal::new(6, 0)))?;
/// let result = Reconciler::new(&rates).run(&report, [&vendor])?;
/// let found: Vec<_> = result.findings.iter()
///     .map(|f| (f.class, f.customer_org_id.as_str(), f.subscriber_id.as_str(), f.sku.as_str()))
///     .collect();
/// let want: Vec<_> = planted.iter()
///     .map(|p| (p.class, p.customer_org_id.as_str(), p.subscriber_id.as_str(), p.sku.as_str()))
///     .collect();
/// assert_eq!(found, want);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn plant_discrepancies(
    report: &UsageReport,
    seed: u64,
    count: usize,
) -> Result<(UsageReport, Vec<PlantedDiscrepancy>)> {
    if report.level() != ReportLevel::User {
        return Err(Error::WrongReportLevel {
            purpose: "planting discrepancies",
            report: "usage report".to_owned(),
            expected: &[ReportLevel::User],
            found: report.level(),
        });
    }
    if count == 0 {
        return Ok((report.clone(), Vec::new()));
    }
    if report.is_empty() {
        return Err(Error::NothingToPlant { count });
    }
    let mut planter = Planter::new(report, seed);
    let mut kinds = KINDS;
    for i in (1..kinds.len()).rev() {
        let j = planter.rng.random_range(0..=i);
        kinds.swap(i, j);
    }
    for i in 0..count {
        let kind = kinds
            .get(i % kinds.len())
            .copied()
            .unwrap_or(FindingClass::UnexpectedVendorUsage);
        let planted = kind != FindingClass::UnexpectedVendorUsage && planter.change_existing(kind);
        if !planted {
            planter.add_subscriber(i)?;
        }
    }
    planter.finish()
}

/// A (customer, subscriber) of the report: a range of `order`.
#[derive(Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
}

struct Planter<'r> {
    report: &'r UsageReport,
    rng: ChaCha8Rng,
    /// Row indices in report order (customer, subscriber, SKU, location, license text).
    order: Vec<usize>,
    /// Whether the report's rows were already in that order.
    sorted: bool,
    groups: Vec<Group>,
    /// Groups not changed yet.
    unused: Vec<usize>,
    /// The report's SKUs in text order, each with a row that has it (for its labels).
    skus: Vec<(&'r str, usize)>,
    rows: Vec<RowData>,
    dropped: Vec<bool>,
    /// New rows, with texts still to intern: (template row, subscriber id, SKU template row, quantity).
    new_rows: Vec<(usize, String, usize, Quantity)>,
    /// Every subscriber id of the report, filled when the first new subscriber is named.
    subscribers: HashSet<&'r str>,
    planted: Vec<PlantedDiscrepancy>,
}

fn report_order(table: &StringTable, a: &RowData, b: &RowData) -> Ordering {
    let s = |sym: Sym| table.get(sym);
    s(a.customer_org_id)
        .cmp(s(b.customer_org_id))
        .then_with(|| s(a.subscriber_id).cmp(s(b.subscriber_id)))
        .then_with(|| s(a.sku).cmp(s(b.sku)))
        .then_with(|| s(a.location_id).cmp(s(b.location_id)))
        .then_with(|| s(a.license_id).cmp(s(b.license_id)))
}

impl<'r> Planter<'r> {
    fn new(report: &'r UsageReport, seed: u64) -> Self {
        let table: &'r StringTable = &report.strings;
        let rows = &report.rows;
        let sorted = rows
            .windows(2)
            .all(|w| report_order(table, &w[0], &w[1]) != Ordering::Greater);
        let mut order: Vec<usize> = (0..rows.len()).collect();
        if !sorted {
            order.sort_by(|&a, &b| report_order(table, &rows[a], &rows[b]));
        }
        let mut groups = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let first = &rows[order[start]];
            let same = |i: &usize| {
                let r = &rows[*i];
                table.get(r.customer_org_id) == table.get(first.customer_org_id)
                    && table.get(r.subscriber_id) == table.get(first.subscriber_id)
            };
            let end = start + order[start..].iter().take_while(|i| same(i)).count();
            groups.push(Group { start, end });
            start = end;
        }
        let mut skus: BTreeMap<&'r str, usize> = BTreeMap::new();
        for (i, r) in rows.iter().enumerate() {
            skus.entry(table.get(r.sku)).or_insert(i);
        }
        Planter {
            report,
            rng: ChaCha8Rng::seed_from_u64(seed),
            unused: (0..groups.len()).collect(),
            order,
            sorted,
            groups,
            skus: skus.into_iter().collect(),
            rows: rows.clone(),
            dropped: vec![false; rows.len()],
            new_rows: Vec::new(),
            subscribers: HashSet::new(),
            planted: Vec::new(),
        }
    }

    fn text(&self, sym: Sym) -> &'r str {
        let table: &'r StringTable = &self.report.strings;
        table.get(sym)
    }

    /// The rows (indices) of a group, and its SKUs with a positive total, in SKU order (a SKU whose
    /// total does not fit a quantity is no candidate).
    fn group_skus(&self, group: Group) -> Vec<(&'r str, Vec<usize>, i64)> {
        let mut out: Vec<(&'r str, Vec<usize>, Option<i64>)> = Vec::new();
        for &i in self.order.get(group.start..group.end).unwrap_or_default() {
            let Some(r) = self.report.rows.get(i) else { continue };
            let sku = self.text(r.sku);
            match out.last_mut() {
                Some((s, rows, total)) if *s == sku => {
                    rows.push(i);
                    *total = total.and_then(|t| t.checked_add(r.quantity.ten_thousandths()));
                }
                _ => out.push((sku, vec![i], Some(r.quantity.ten_thousandths()))),
            }
        }
        out.into_iter()
            .filter_map(|(sku, rows, total)| total.filter(|t| *t > 0).map(|t| (sku, rows, t)))
            .collect()
    }

    /// Plants a change of `kind` in a (customer, subscriber) not changed yet; false when none fits.
    fn change_existing(&mut self, kind: FindingClass) -> bool {
        while !self.unused.is_empty() {
            let pick = self.rng.random_range(0..self.unused.len());
            let group_index = self.unused.swap_remove(pick);
            let Some(&group) = self.groups.get(group_index) else {
                continue;
            };
            let skus = self.group_skus(group);
            if skus.is_empty() {
                continue;
            }
            let (sku, rows, total) = skus[self.rng.random_range(0..skus.len())].clone();
            let Some(&first) = rows.first() else { continue };
            let Some(r) = self.report.rows.get(first) else { continue };
            let mut planted = PlantedDiscrepancy {
                class: kind,
                customer_org_id: self.text(r.customer_org_id).to_owned(),
                subscriber_id: self.text(r.subscriber_id).to_owned(),
                sku: sku.to_owned(),
                expected_sku: None,
                expected: Quantity::from_ten_thousandths(total),
                actual: Quantity::ZERO,
            };
            match kind {
                FindingClass::MissingFromVendor => {
                    for &i in &rows {
                        if let Some(d) = self.dropped.get_mut(i) {
                            *d = true;
                        }
                    }
                }
                FindingClass::SkuMismatch => {
                    let candidates: Vec<(&'r str, usize)> = self
                        .skus
                        .iter()
                        .filter(|(s, _)| !self.group_has_sku(group, s))
                        .copied()
                        .collect();
                    if candidates.is_empty() {
                        return self.change_quantity(planted, &rows, total);
                    }
                    let (new_sku, template) = candidates[self.rng.random_range(0..candidates.len())];
                    let Some(t) = self.report.rows.get(template).copied() else {
                        continue;
                    };
                    for &i in &rows {
                        if let Some(row) = self.rows.get_mut(i) {
                            row.sku = t.sku;
                            row.service_name = t.service_name;
                            row.description = t.description;
                        }
                    }
                    planted.expected_sku = Some(sku.to_owned());
                    planted.sku = new_sku.to_owned();
                    planted.actual = planted.expected;
                }
                _ => return self.change_quantity(planted, &rows, total),
            }
            self.planted.push(planted);
            return true;
        }
        false
    }

    fn group_has_sku(&self, group: Group, sku: &str) -> bool {
        self.order
            .get(group.start..group.end)
            .unwrap_or_default()
            .iter()
            .any(|&i| self.report.rows.get(i).is_some_and(|r| self.text(r.sku) == sku))
    }

    /// Changes the quantity of one of `rows` (of one SKU, totalling `total` > 0).
    fn change_quantity(&mut self, mut planted: PlantedDiscrepancy, rows: &[usize], total: i64) -> bool {
        let i = rows[self.rng.random_range(0..rows.len())];
        let Some(row) = self.rows.get_mut(i) else { return false };
        let old = row.quantity.ten_thousandths();
        let delta: i64 = self.rng.random_range(1..=100_000);
        let down = self.rng.random_bool(0.5) && old > delta && total > delta;
        let new = if down {
            old.checked_sub(delta)
        } else {
            old.checked_add(delta)
        };
        // Beyond the quantity range: no change planted here.
        let Some((new, actual)) = new.and_then(|n| Some((n, total.checked_sub(old)?.checked_add(n)?))) else {
            return false;
        };
        row.quantity = Quantity::from_ten_thousandths(new);
        planted.class = FindingClass::QuantityMismatch;
        planted.actual = Quantity::from_ten_thousandths(actual);
        self.planted.push(planted);
        true
    }

    /// Adds a new subscriber to a random customer of the report, with one row of a random SKU.
    fn add_subscriber(&mut self, n: usize) -> Result<()> {
        if self.subscribers.is_empty() {
            let table: &'r StringTable = &self.report.strings;
            self.subscribers = self.report.rows.iter().map(|r| table.get(r.subscriber_id)).collect();
        }
        let group = self.groups[self.rng.random_range(0..self.groups.len())];
        let template = self.order.get(group.start).copied().unwrap_or_default();
        let (sku, sku_template) = self.skus[self.rng.random_range(0..self.skus.len())];
        let days = self.report.period().map_or(31, |p| i64::from(p.days()));
        let quantity = Quantity::from_ten_thousandths(self.rng.random_range(1..=days * 10_000));
        let mut id = String::new();
        for attempt in 0u32.. {
            id = format!("planted-{n:04}-{:08x}", self.rng.random::<u32>());
            if !self.subscribers.contains(id.as_str()) && !self.planted.iter().any(|p| p.subscriber_id == id) {
                break;
            }
            if attempt > 1_000 {
                return Err(Error::overflow("no free subscriber id to plant"));
            }
        }
        let customer = self
            .report
            .rows
            .get(template)
            .map(|r| self.text(r.customer_org_id))
            .unwrap_or_default();
        self.planted.push(PlantedDiscrepancy {
            class: FindingClass::UnexpectedVendorUsage,
            customer_org_id: customer.to_owned(),
            subscriber_id: id.clone(),
            sku: sku.to_owned(),
            expected_sku: None,
            expected: Quantity::ZERO,
            actual: quantity,
        });
        self.new_rows.push((template, id, sku_template, quantity));
        Ok(())
    }

    fn finish(self) -> Result<(UsageReport, Vec<PlantedDiscrepancy>)> {
        let Planter {
            report,
            sorted,
            rows,
            dropped,
            new_rows,
            mut planted,
            ..
        } = self;
        let kept = rows
            .into_iter()
            .zip(dropped)
            .filter(|(_, dropped)| !dropped)
            .map(|(r, _)| r);
        let (strings, mut rows) = if new_rows.is_empty() {
            (report.strings.clone(), kept.collect::<Vec<_>>())
        } else {
            let mut copy = TableCopy::new(&report.strings);
            let mut out = Vec::with_capacity(report.rows.len() + new_rows.len());
            for r in kept {
                out.push(copy.row(&r)?);
            }
            for (template, id, sku_template, quantity) in new_rows {
                let (Some(t), Some(s)) = (report.rows.get(template), report.rows.get(sku_template)) else {
                    continue;
                };
                let mut r = copy.row(t)?;
                let id = copy.interner.intern(&id)?;
                r.subscriber_id = id;
                (r.user_id, r.workspace_id) = match t.subscriber_type {
                    Some(SubscriberType::Workspace) => (Sym::EMPTY, id),
                    _ => (id, Sym::EMPTY),
                };
                r.sku = copy.sym(s.sku)?;
                r.service_name = copy.sym(s.service_name)?;
                r.description = copy.sym(s.description)?;
                r.quantity = quantity;
                out.push(r);
            }
            (Arc::new(copy.interner.freeze()), out)
        };
        if sorted {
            rows.sort_by(|a, b| report_order(&strings, a, b));
        }
        planted.sort_by(|a, b| {
            (a.class, &a.customer_org_id, &a.subscriber_id, &a.sku).cmp(&(
                b.class,
                &b.customer_org_id,
                &b.subscriber_id,
                &b.sku,
            ))
        });
        let out = UsageReport {
            level: report.level,
            period: report.period,
            strings,
            rows,
            files: report.files,
        };
        Ok((out, planted))
    }
}

/// Copies rows into a new string table (to add texts to a frozen one).
struct TableCopy<'t> {
    from: &'t StringTable,
    interner: Interner,
    /// Old symbol index → new symbol, `None` until seen.
    map: Vec<Option<Sym>>,
}

impl<'t> TableCopy<'t> {
    fn new(from: &'t StringTable) -> Self {
        TableCopy {
            from,
            interner: Interner::new(),
            map: Vec::new(),
        }
    }

    fn sym(&mut self, old: Sym) -> Result<Sym> {
        let i = old.index();
        if let Some(Some(new)) = self.map.get(i) {
            return Ok(*new);
        }
        let new = self.interner.intern(self.from.get(old))?;
        if self.map.len() <= i {
            self.map.resize(i + 1, None);
        }
        if let Some(slot) = self.map.get_mut(i) {
            *slot = Some(new);
        }
        Ok(new)
    }

    fn row(&mut self, r: &RowData) -> Result<RowData> {
        Ok(RowData {
            partner_name: self.sym(r.partner_name)?,
            partner_org_id: self.sym(r.partner_org_id)?,
            subscription_id: self.sym(r.subscription_id)?,
            customer_org_id: self.sym(r.customer_org_id)?,
            customer_external_id: self.sym(r.customer_external_id)?,
            subscriber_id: self.sym(r.subscriber_id)?,
            user_id: self.sym(r.user_id)?,
            workspace_id: self.sym(r.workspace_id)?,
            service_name: self.sym(r.service_name)?,
            sku: self.sym(r.sku)?,
            description: self.sym(r.description)?,
            location_id: self.sym(r.location_id)?,
            license_id: self.sym(r.license_id)?,
            ..*r
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ReadOptions;

    fn report(csv: &str) -> UsageReport {
        UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())
            .unwrap()
            .0
    }

    const CSV: &str = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,TYPE,SKU,QUANTITY,LOCATION_ID\n\
                       c1,s1,USER,A,31,L1\nc1,s1,USER,A,2,L2\nc1,s2,USER,B,12.5,L1\nc2,s3,WORKSPACE,A,3,L1\n\
                       c2,s4,USER,A,1,L1\nc2,s5,USER,B,7,L1\n";

    #[test]
    fn zero_changes_is_a_copy_and_partner_reports_are_refused() {
        let r = report(CSV);
        let (copy, planted) = plant_discrepancies(&r, 1, 0).unwrap();
        assert!(planted.is_empty());
        assert_eq!(copy.rows().collect::<Vec<_>>(), r.rows().collect::<Vec<_>>());
        let partner = report("SKU,QUANTITY\nA,1\n");
        assert!(matches!(
            plant_discrepancies(&partner, 1, 1),
            Err(Error::WrongReportLevel { .. })
        ));
        let empty = report("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n");
        assert!(matches!(
            plant_discrepancies(&empty, 1, 1),
            Err(Error::NothingToPlant { count: 1 })
        ));
    }

    #[test]
    fn same_seed_same_changes_and_every_kind_when_four() {
        let r = report(CSV);
        let (a, pa) = plant_discrepancies(&r, 42, 4).unwrap();
        let (b, pb) = plant_discrepancies(&r, 42, 4).unwrap();
        assert_eq!(pa, pb);
        assert_eq!(a.rows().collect::<Vec<_>>(), b.rows().collect::<Vec<_>>());
        let mut classes: Vec<FindingClass> = pa.iter().map(|p| p.class).collect();
        classes.sort();
        assert_eq!(classes, {
            let mut k = KINDS.to_vec();
            k.sort();
            k
        });
        let mut pairs: Vec<(&str, &str)> = pa
            .iter()
            .map(|p| (p.customer_org_id.as_str(), p.subscriber_id.as_str()))
            .collect();
        pairs.sort();
        pairs.dedup();
        assert_eq!(pairs.len(), 4, "each change has its own (customer, subscriber)");
    }

    #[test]
    fn a_dropped_key_loses_every_location_and_a_new_subscriber_keeps_its_type() {
        for seed in 0..40 {
            let r = report(CSV);
            let (v, planted) = plant_discrepancies(&r, seed, 6).unwrap();
            for p in &planted {
                let rows: Vec<_> = v
                    .rows()
                    .filter(|row| row.customer_org_id == p.customer_org_id && row.subscriber_id == p.subscriber_id)
                    .collect();
                let of_sku =
                    Quantity::try_sum(rows.iter().filter(|row| row.sku == p.sku).map(|row| row.quantity)).unwrap();
                assert_eq!(of_sku, p.actual, "{p:?}");
                if p.class == FindingClass::UnexpectedVendorUsage {
                    assert_eq!(rows.len(), 1);
                    assert_eq!(
                        rows[0].user_id.is_empty(),
                        rows[0].subscriber_type == Some(SubscriberType::Workspace)
                    );
                }
            }
            // Rows stay in report order.
            let keys: Vec<_> = v
                .rows()
                .map(|r| (r.customer_org_id, r.subscriber_id, r.sku, r.location_id))
                .collect();
            assert!(keys.windows(2).all(|w| w[0] <= w[1]), "seed {seed}");
        }
    }
}
