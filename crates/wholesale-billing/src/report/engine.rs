//! Computing a usage report from a ledger: one pass over the row keys, in report order.

use crate::error::Result;
use crate::ledger::AssignmentLedger;
use crate::org::Owner;
use crate::proration::prorate;
use crate::quantity::Quantity;
use crate::report::{NO_ORIGIN, ReportLevel, ReportOptions, RowData, Scope, UsageReport};
use crate::strings::Sym;
use crate::time::Period;

impl AssignmentLedger {
    /// The usage report of `period` at the options' level, scope and hour policy (SPEC.md §3–§4).
    ///
    /// USER rows come straight from the row keys; CUSTOMER and PARTNER rows are sums of them, so
    /// the levels always add up exactly. Only rows with a quantity above zero appear.
    ///
    /// # Errors
    /// [`Error::UnknownSubPartner`](crate::Error::UnknownSubPartner) for a sub-partner the organisation does not name.
    ///
    /// ```
    /// use wholesale_billing::{AssignmentLedger, Event, HourPolicy, LoadMode, Organisation, Partner,
    ///     Period, ReportLevel, ReportOptions};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let mut b = AssignmentLedger::builder(org);
    /// let at = |t: &str| t.parse().unwrap();
    /// b.push(Event::assign("e1", at("2024-05-01T00:00:00Z"), "s1", "c1", "webex_calling"));
    /// b.push(Event::assign("e2", at("2024-05-01T10:30:00Z"), "s1", "c1", "webex_voice"));
    /// b.push(Event::remove("e3", at("2024-05-02T00:00:00Z"), "s1"));
    /// let (ledger, _) = b.finish(LoadMode::Strict)?;
    /// let may = Period::month(2024, 5)?;
    /// let quantities = |policy| -> wholesale_billing::Result<Vec<String>> {
    ///     let options = ReportOptions::new(ReportLevel::User).hour_policy(policy);
    ///     Ok(ledger.usage_report(may, &options)?.rows().map(|r| r.quantity.to_string()).collect())
    /// };
    /// // 11 and 14 started hours; 10 and 13 completed hours; 10.5 h and 13.5 h exactly.
    /// assert_eq!(quantities(HourPolicy::Started)?, ["0.4583", "0.5833"]);
    /// assert_eq!(quantities(HourPolicy::Completed)?, ["0.4167", "0.5417"]);
    /// assert_eq!(quantities(HourPolicy::Exact)?, ["0.4375", "0.5625"]);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn usage_report(&self, period: Period, options: &ReportOptions) -> Result<UsageReport> {
        let wanted: Option<Owner> = match &options.scope {
            Scope::Partner => Some(Owner::Partner),
            Scope::SubPartner(org_id) => {
                self.org.sub_partner(org_id)?;
                self.org.sub_partner_index(org_id).map(Owner::SubPartner)
            }
            Scope::Subscription => None,
        };
        let period_start = period.start_instant().as_micros();
        let period_end = period.end_exclusive().as_micros();
        // An end at the period's exclusive end is written as 23:59:59.999 of the end date.
        let last_milli = period_end - 1_000;
        let clamps: Vec<Option<i64>> = std::iter::once(Owner::Partner)
            .chain((0..self.org.sub_partners.len()).map(|i| Owner::SubPartner(i as u16)))
            .map(|o| self.org.billing_start(o).map(|t| t.as_micros()))
            .collect();
        let mut rows = Vec::new();
        for key in &self.keys {
            let customer = &self.customers[key.customer as usize];
            if wanted.is_some_and(|w| w != customer.owner) {
                continue;
            }
            let owner_index = owner_index(customer.owner);
            let clamp = clamps.get(owner_index).copied().flatten();
            let prorated = prorate(
                self.key_intervals(key),
                clamp,
                period_start,
                period_end,
                options.hour_policy,
            );
            let Some((start, end)) = prorated.span else { continue };
            if prorated.quantity <= Quantity::ZERO {
                continue;
            }
            let [partner_name, partner_org_id] = self.labels.owners.get(owner_index).copied().unwrap_or_default();
            let [service_name, sku, description] = self.labels.packages[key.package.index()];
            rows.push(RowData {
                partner_name,
                partner_org_id,
                subscription_id: self.labels.subscription_id,
                customer_org_id: customer.org,
                customer_external_id: customer.external_id,
                subscriber_id: key.subscriber,
                user_id: key.user_id,
                workspace_id: key.workspace_id,
                service_name,
                sku,
                description,
                location_id: key.location,
                license_id: key.license,
                subscriber_type: key.subscriber_type,
                start,
                end: if end >= period_end { last_milli } else { end },
                quantity: prorated.quantity,
                origin: NO_ORIGIN,
            });
        }
        if options.level == ReportLevel::Partner && options.scope == Scope::Subscription {
            // Whole-subscription totals per SKU are the partner's.
            let [name, org_id] = self.labels.owners.first().copied().unwrap_or([Sym::EMPTY; 2]);
            for r in &mut rows {
                r.partner_name = name;
                r.partner_org_id = org_id;
            }
        }
        let user = UsageReport {
            level: ReportLevel::User,
            period: Some(period),
            strings: self.strings.clone(),
            rows,
            files: 0,
        };
        match options.level {
            ReportLevel::User => Ok(user),
            level => user.aggregate(level),
        }
    }
}

impl AssignmentLedger {
    /// The day-by-day quantities of every row key of one subscriber over `period`: what a USER row
    /// is the sum of, to explain a number. Index 0 is the period's first day. Billing starts of
    /// sub-partners are applied; keys without usage in the period are included (all zeros).
    ///
    /// ```
    /// use wholesale_billing::{AssignmentLedger, Event, HourPolicy, LoadMode, Organisation, Partner, Period};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let mut b = AssignmentLedger::builder(org);
    /// b.push(Event::assign("e1", "2024-05-01T00:00:00Z".parse()?, "s1", "c1", "webex_calling"));
    /// b.push(Event::remove("e2", "2024-05-02T15:00:00Z".parse()?, "s1"));
    /// let (ledger, _) = b.finish(LoadMode::Strict)?;
    /// let days = ledger.explain_subscriber("s1", Period::from_dates("2024-05-01", "2024-05-03")?, HourPolicy::Started);
    /// let shown: Vec<String> = days[0].1.iter().map(|q| q.to_string()).collect();
    /// assert_eq!(shown, ["1.0000", "0.6250", "0.0000"]);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn explain_subscriber(
        &self,
        subscriber_id: &str,
        period: Period,
        policy: crate::HourPolicy,
    ) -> Vec<(crate::RowKey<'_>, Vec<Quantity>)> {
        self.keys
            .iter()
            .filter(|k| self.strings.get(k.subscriber) == subscriber_id)
            .map(|k| {
                let owner = self.customers[k.customer as usize].owner;
                let clamp = self.org.billing_start(owner).map(|t| t.as_micros());
                let days = crate::proration::day_quantities(
                    self.key_intervals(k),
                    clamp,
                    period.start_instant().as_micros(),
                    period.days(),
                    policy,
                );
                (self.row_key(k), days)
            })
            .collect()
    }
}

fn owner_index(owner: Owner) -> usize {
    match owner {
        Owner::Partner => 0,
        Owner::SubPartner(i) => usize::from(i) + 1,
    }
}
