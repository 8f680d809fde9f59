//! Rolling a report up to a coarser level: USER → CUSTOMER → PARTNER (SPEC.md §4).

use hashbrown::HashMap;

use crate::checked::{self, Subject};
use crate::error::{Error, Result};
use crate::quantity::Quantity;
use crate::report::{NO_END, NO_START, ReportLevel, RowData, UsageReport};
use crate::strings::{Entry, StringTable, Sym};

/// A new, empty group shaped after its first row.
fn push_group(out: &mut Vec<RowData>, first: &RowData, level: ReportLevel) -> usize {
    let mut group = *first;
    group.quantity = Quantity::ZERO;
    group.start = NO_START;
    group.end = NO_END;
    group.subscriber_type = None;
    group.subscriber_id = Sym::EMPTY;
    group.user_id = Sym::EMPTY;
    group.workspace_id = Sym::EMPTY;
    group.customer_external_id = Sym::EMPTY;
    if level == ReportLevel::Partner {
        group.customer_org_id = Sym::EMPTY;
        group.location_id = Sym::EMPTY;
        group.license_id = Sym::EMPTY;
    }
    out.push(group);
    out.len() - 1
}

/// Adds a row into its group: quantities summed, dates widened, the first external id kept;
/// `strings` names the row in an overflow error.
fn add_to(group: &mut RowData, r: &RowData, strings: &StringTable) -> Result<()> {
    group.quantity = checked::add(group.quantity, r.quantity, "Σ user-days").for_subject(|| {
        match &*strings.text(r.customer_org_id) {
            "" => format!("SKU {}", strings.text(r.sku)),
            customer => format!("SKU {} of customer {customer}", strings.text(r.sku)),
        }
    })?;
    group.start = group.start.min(r.start);
    group.end = group.end.max(r.end);
    if group.customer_external_id.is_empty() && !group.customer_org_id.is_empty() {
        group.customer_external_id = r.customer_external_id;
    }
    Ok(())
}

impl UsageReport {
    /// Row indices grouped by customer org (text order), keeping row order within a customer.
    fn customer_order(&self) -> Vec<usize> {
        let cmp = |a: Sym, b: Sym| self.strings.cmp_texts(a, b);
        let mut order: Vec<usize> = (0..self.rows.len()).collect();
        let sorted = self
            .rows
            .windows(2)
            .all(|w| cmp(w[0].customer_org_id, w[1].customer_org_id).is_le());
        if !sorted {
            order.sort_by(|&a, &b| cmp(self.rows[a].customer_org_id, self.rows[b].customer_org_id));
        }
        order
    }

    /// PARTNER rows of this report's rows: sums by (partner org, SKU), ordered by SKU then org.
    fn partner_rows(&self) -> Result<Vec<RowData>> {
        let cmp = |a: Sym, b: Sym| self.strings.cmp_texts(a, b);
        let mut out: Vec<RowData> = Vec::new();
        let mut index: HashMap<(Sym, Sym), usize> = HashMap::new();
        for r in &self.rows {
            let slot = *index
                .entry((r.partner_org_id, r.sku))
                .or_insert_with(|| push_group(&mut out, r, ReportLevel::Partner));
            add_to(&mut out[slot], r, &self.strings)?;
        }
        out.sort_unstable_by(|a, b| cmp(a.sku, b.sku).then_with(|| cmp(a.partner_org_id, b.partner_org_id)));
        Ok(out)
    }

    /// The whole subscription's report from the partner's own report (first) and every
    /// sub-partner's, all of one level, as [`Scope::Subscription`](crate::Scope::Subscription)
    /// computes it: USER and CUSTOMER rows together in report order; PARTNER rows summed per SKU
    /// under the partner's name, org id and subscription (taken from the partner's report, which
    /// must then have a row; otherwise one row per SKU and org).
    ///
    /// # Errors
    /// As [`UsageReport::concat`].
    ///
    /// ```
    /// use wholesale_billing::{ReadOptions, UsageReport};
    /// let read = |csv: &str| UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).map(|r| r.0);
    /// let partner = read("PARTNER_NAME,PARTNER_ORG_ID,SKU,QUANTITY\nAcme,p,A,1\nAcme,p,B,2\n")?;
    /// let reseller = read("PARTNER_NAME,PARTNER_ORG_ID,SKU,QUANTITY\nResell,sp,A,2.5\n")?;
    /// let whole = UsageReport::subscription_total([&partner, &reseller])?;
    /// assert_eq!(whole.len(), 2);
    /// let a = whole.row(0).unwrap();
    /// assert_eq!((a.partner_org_id, a.sku, a.quantity.to_string().as_str()), ("p", "A", "3.5000"));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn subscription_total<'a>(reports: impl IntoIterator<Item = &'a UsageReport>) -> Result<UsageReport> {
        let reports: Vec<&UsageReport> = reports.into_iter().collect();
        let all = UsageReport::concat(reports.iter().copied())?;
        let partner_has_rows = reports.first().is_some_and(|r| !r.is_empty());
        if all.level != ReportLevel::Partner || !partner_has_rows {
            return Ok(all.sorted());
        }
        let mut relabelled = all;
        let head = relabelled.rows[0];
        for r in &mut relabelled.rows {
            r.partner_name = head.partner_name;
            r.partner_org_id = head.partner_org_id;
            r.subscription_id = head.subscription_id;
        }
        let rows = relabelled.partner_rows()?;
        Ok(UsageReport { rows, ..relabelled })
    }

    /// The same usage at a coarser level: CUSTOMER rows sum USER rows by (partner org, customer org,
    /// SKU, location, license); PARTNER rows sum by (partner org, SKU). Consumption dates are the
    /// min / max of the parts.
    ///
    /// # Errors
    /// [`Error::CannotRollUp`] when asked for a finer level than the report has (a CUSTOMER report
    /// cannot be split into users); [`Error::Overflow`] if a sum does not fit.
    ///
    /// ```
    /// use wholesale_billing::{ReadOptions, ReportLevel, UsageReport};
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A,1\nc1,s2,A,0.5\nc2,s3,A,2\n";
    /// let (user, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let customer = user.aggregate(ReportLevel::Customer)?;
    /// assert_eq!(customer.len(), 2);
    /// assert_eq!(customer.row(0).unwrap().quantity.to_string(), "1.5000");
    /// let partner = customer.aggregate(ReportLevel::Partner)?;
    /// assert_eq!(partner.row(0).unwrap().quantity.to_string(), "3.5000");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn aggregate(&self, level: ReportLevel) -> Result<UsageReport> {
        if level == self.level {
            return Ok(self.clone());
        }
        if level > self.level {
            return Err(Error::CannotRollUp {
                from: self.level,
                to: level,
            });
        }
        let cmp = |a: Sym, b: Sym| self.strings.cmp_texts(a, b);
        let mut out: Vec<RowData> = Vec::new();
        if level == ReportLevel::Partner {
            out = self.partner_rows()?;
        } else {
            // Customer by customer (rows of a computed report already come so; a read one is
            // ordered first), grouping each customer's rows by partner, SKU, location and license
            // text, then ordering the groups as the report does.
            let order = self.customer_order();
            let mut index: HashMap<(Sym, Sym, Sym, Entry<'_>), usize> = HashMap::new();
            let mut run_start = 0;
            while run_start < order.len() {
                let customer = self.rows[order[run_start]].customer_org_id;
                let first_group = out.len();
                index.clear();
                let mut run_end = run_start;
                while run_end < order.len() && self.rows[order[run_end]].customer_org_id == customer {
                    let r = &self.rows[order[run_end]];
                    let slot = *index
                        .entry((r.partner_org_id, r.sku, r.location_id, self.strings.entry(r.license_id)))
                        .or_insert_with(|| push_group(&mut out, r, level));
                    add_to(&mut out[slot], r, &self.strings)?;
                    run_end += 1;
                }
                out[first_group..].sort_unstable_by(|a, b| {
                    cmp(a.sku, b.sku)
                        .then_with(|| cmp(a.location_id, b.location_id))
                        .then_with(|| cmp(a.license_id, b.license_id))
                        .then_with(|| cmp(a.partner_org_id, b.partner_org_id))
                });
                run_start = run_end;
            }
        }
        Ok(UsageReport {
            level,
            period: self.period,
            strings: self.strings.clone(),
            rows: out,
            files: self.files,
        })
    }
}
