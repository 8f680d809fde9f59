//! Computing a usage report from a ledger: one pass over the row keys, in report order.

use crate::error::{Error, Result};
use crate::ledger::{AssignmentLedger, KeyData};
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
        self.usage_report_in_runs(period, options, KEYS_PER_THREAD)
    }

    /// [`AssignmentLedger::usage_report`] with at least `per_thread` keys a thread.
    fn usage_report_in_runs(&self, period: Period, options: &ReportOptions, per_thread: usize) -> Result<UsageReport> {
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
        let row_of = |key: &KeyData| -> Option<RowData> {
            let customer = &self.customers[key.customer as usize];
            if wanted.is_some_and(|w| w != customer.owner) {
                return None;
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
            let (start, end) = prorated.span?;
            if prorated.quantity <= Quantity::ZERO {
                return None;
            }
            let [partner_name, partner_org_id] = self.labels.owners.get(owner_index).copied().unwrap_or_default();
            let [service_name, sku, description] = self.labels.packages[key.package.index()];
            Some(RowData {
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
            })
        };
        let mut rows = rows_in_parallel(&self.keys, options.threads, per_thread, row_of)?;
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

/// Keys at least this many a thread, when the rows are computed on several.
const KEYS_PER_THREAD: usize = 1 << 16;

/// The rows `row_of` makes of `keys`, in key order: on `threads` threads (0: the available
/// parallelism; no more than one a `per_thread` keys), each making the rows of a run of keys in place in one vector sized for a row a
/// key, whose runs are then closed up (no second copy of the rows).
fn rows_in_parallel(
    keys: &[KeyData],
    threads: usize,
    per_thread: usize,
    row_of: impl Fn(&KeyData) -> Option<RowData> + Sync,
) -> Result<Vec<RowData>> {
    let threads = match threads {
        0 => crate::parallel::default_threads(),
        n => n,
    }
    .min(keys.len() / per_thread.max(1) + 1);
    if threads < 2 {
        return Ok(keys.iter().filter_map(&row_of).collect());
    }
    let run = keys.len().div_ceil(threads);
    let mut rows = vec![RowData::default(); keys.len()];
    let row_of = &row_of;
    let made: Vec<usize> = std::thread::scope(|scope| {
        let runs: Vec<_> = keys
            .chunks(run)
            .zip(rows.chunks_mut(run))
            .map(|(keys, out)| {
                scope.spawn(move || {
                    let mut made = 0;
                    for (slot, row) in out.iter_mut().zip(keys.iter().filter_map(row_of)) {
                        *slot = row;
                        made += 1;
                    }
                    made
                })
            })
            .collect();
        runs.into_iter()
            .map(|r| r.join())
            .collect::<std::result::Result<_, _>>()
    })
    .map_err(|_| Error::ThreadFailed { task: "report rows" })?;
    let mut at = 0;
    for (i, made) in made.into_iter().enumerate() {
        let start = i * run;
        rows.copy_within(start..start + made, at);
        at += made;
    }
    rows.truncate(at);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;
    use crate::ledger::LoadMode;
    use crate::org::Organisation;

    #[test]
    fn rows_are_the_same_on_any_number_of_threads() -> Result<()> {
        let org = Organisation::from_toml_str(
            "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"\n",
        )?;
        let mut builder = AssignmentLedger::builder(org);
        for i in 0..97u32 {
            let at = format!("2024-05-{:02}T{:02}:00:00Z", 1 + i % 28, i % 24).parse()?;
            let (subscriber, customer) = (format!("s{i}"), format!("c{}", i % 7));
            let mut event = Event::assign("", at, &subscriber, &customer, "webex_calling");
            let id = format!("e{i}");
            event.event_id = &id;
            if i % 7 == 3 {
                event.sub_partner_org_id = "sp";
            }
            // Some keys end before the month: they make no row.
            let before = "2024-04-01T00:00:00Z".parse()?;
            if i % 5 == 0 {
                event.occurred_at = before;
            }
            builder.push(event);
            if i % 5 == 0 {
                let id = format!("r{i}");
                builder.push(Event::remove(&id, "2024-04-02T00:00:00Z".parse()?, &subscriber));
            }
        }
        let (ledger, _) = builder.finish(LoadMode::Strict)?;
        let may = Period::month(2024, 5)?;
        for scope in [Scope::Subscription, Scope::Partner, Scope::SubPartner("sp".into())] {
            let options = ReportOptions::new(ReportLevel::User).scope(scope.clone()).threads(1);
            let one = ledger.usage_report(may, &options)?;
            assert!(one.len() > 5, "{scope:?}");
            for threads in [2, 3, 7] {
                let many = ledger.usage_report_in_runs(may, &options.clone().threads(threads), 1)?;
                assert_eq!(many.rows, one.rows, "{scope:?} on {threads} threads");
            }
        }
        Ok(())
    }
}
