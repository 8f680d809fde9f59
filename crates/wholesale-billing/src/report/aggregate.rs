//! Rolling a report up to a coarser level: USER → CUSTOMER → PARTNER (SPEC.md §4).

use hashbrown::HashMap;

use crate::error::{Error, Result};
use crate::report::{NO_END, NO_START, ReportLevel, RowData, UsageReport};
use crate::strings::Sym;

impl UsageReport {
    /// The same usage at a coarser level: CUSTOMER rows sum USER rows by (partner org, customer org,
    /// SKU, location, license); PARTNER rows sum by (partner org, SKU). Consumption dates are the
    /// min / max of the parts.
    ///
    /// # Errors
    /// [`Error::Unknown`] when asked for a finer level than the report has (a CUSTOMER report
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
            return Err(Error::Unknown {
                what: "aggregation",
                value: format!("{} → {}", self.level, level),
                hint: "; a report can only be rolled up to a coarser level".to_owned(),
            });
        }
        let key_of = |r: &RowData| -> [Sym; 5] {
            match level {
                ReportLevel::Customer => [r.partner_org_id, r.customer_org_id, r.sku, r.location_id, r.license_id],
                _ => [r.partner_org_id, r.sku, Sym::EMPTY, Sym::EMPTY, Sym::EMPTY],
            }
        };
        let mut index: HashMap<[Sym; 5], usize> = HashMap::new();
        let mut out: Vec<RowData> = Vec::new();
        for r in &self.rows {
            let slot = *index.entry(key_of(r)).or_insert_with(|| {
                let mut first = *r;
                first.quantity = crate::Quantity::ZERO;
                first.start = NO_START;
                first.end = NO_END;
                first.subscriber_type = None;
                first.subscriber_id = Sym::EMPTY;
                first.user_id = Sym::EMPTY;
                first.workspace_id = Sym::EMPTY;
                if level == ReportLevel::Partner {
                    first.customer_org_id = Sym::EMPTY;
                    first.customer_external_id = Sym::EMPTY;
                    first.location_id = Sym::EMPTY;
                    first.license_id = Sym::EMPTY;
                }
                out.push(first);
                out.len() - 1
            });
            let acc = &mut out[slot];
            acc.quantity = acc
                .quantity
                .checked_add(r.quantity)
                .ok_or(Error::Overflow("quantity sum"))?;
            acc.start = acc.start.min(r.start);
            acc.end = acc.end.max(r.end);
            if acc.customer_external_id.is_empty() && level == ReportLevel::Customer {
                acc.customer_external_id = r.customer_external_id;
            }
        }
        let s = |sym: Sym| self.strings.get(sym);
        out.sort_unstable_by(|a, b| {
            s(a.customer_org_id)
                .cmp(s(b.customer_org_id))
                .then_with(|| s(a.sku).cmp(s(b.sku)))
                .then_with(|| s(a.location_id).cmp(s(b.location_id)))
                .then_with(|| s(a.license_id).cmp(s(b.license_id)))
                .then_with(|| s(a.partner_org_id).cmp(s(b.partner_org_id)))
        });
        Ok(UsageReport {
            level,
            period: self.period,
            strings: self.strings.clone(),
            rows: out,
        })
    }
}
