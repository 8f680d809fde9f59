//! Computing a usage report from a ledger: one pass over the row keys, in report order.

use std::collections::BTreeMap;
use std::io::Write;

use crate::checked::{self, Subject};
use crate::error::{Error, Result};
use crate::ledger::AssignmentLedger;
use crate::org::Owner;
use crate::proration::{HourPolicy, prorate};
use crate::quantity::Quantity;
use crate::report::write::{ROWS_PER_CHUNK, format_rows, write_error, write_formatted, write_header};
use crate::report::{NO_ORIGIN, ReportLevel, ReportOptions, RowData, Scope, UsageReport, WrittenReport};
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
        let maker = self.row_maker(period, options)?;
        let row_of = |index: usize| maker.row(index);
        let mut rows = rows_in_parallel(self.keys.len(), options.thread_count(), per_thread, row_of)?;
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
    /// Writes the usage report of `period` at the options' level, scope and hour policy as CSV
    /// (the bytes of [`AssignmentLedger::usage_report`] then [`UsageReport::write_csv`]), without
    /// holding it: USER rows are computed and formatted a chunk of row keys at a time on
    /// `options.threads` threads and written in order, so memory holds a few chunks, not the
    /// report. CUSTOMER and PARTNER reports, sums over every USER row, are computed whole, then
    /// written.
    ///
    /// # Errors
    /// As [`AssignmentLedger::usage_report`]; [`Error::Io`](crate::Error::Io) when writing fails;
    /// [`Error::Overflow`](crate::Error::Overflow) when a SKU's total does not fit a quantity.
    ///
    /// ```
    /// use wholesale_billing::{AssignmentLedger, Event, LoadMode, Organisation, Partner, Period,
    ///     ReportLevel, ReportOptions};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let mut b = AssignmentLedger::builder(org);
    /// b.push(Event::assign("e1", "2024-05-01T00:00:00Z".parse()?, "s1", "c1", "webex_calling"));
    /// b.push(Event::assign("e2", "2024-05-16T00:00:00Z".parse()?, "s2", "c1", "webex_calling"));
    /// let (ledger, _) = b.finish(LoadMode::Strict)?;
    /// let (may, options) = (Period::month(2024, 5)?, ReportOptions::new(ReportLevel::User));
    /// let mut streamed = Vec::new();
    /// let written = ledger.write_usage_csv(may, &options, &mut streamed)?;
    /// let mut whole = Vec::new();
    /// ledger.usage_report(may, &options)?.write_csv(&mut whole)?;
    /// assert_eq!(streamed, whole);
    /// assert_eq!(written.rows, 2);
    /// let totals: Vec<(&str, String)> =
    ///     written.quantity_by_sku.iter().map(|(sku, q)| (sku.as_str(), q.to_string())).collect();
    /// assert_eq!(totals, [("A-W-WXC-CALL-U", "47.0000".to_owned())]);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn write_usage_csv(
        &self,
        period: Period,
        options: &ReportOptions,
        writer: impl Write,
    ) -> Result<WrittenReport> {
        self.write_usage_csv_in_chunks(period, options, writer, ROWS_PER_CHUNK)
    }

    /// [`AssignmentLedger::write_usage_csv`] with `per_chunk` row keys a chunk.
    fn write_usage_csv_in_chunks(
        &self,
        period: Period,
        options: &ReportOptions,
        mut writer: impl Write,
        per_chunk: usize,
    ) -> Result<WrittenReport> {
        let threads = options.thread_count();
        if options.level != ReportLevel::User {
            let report = self.usage_report(period, options)?;
            report.write_csv_with_threads(writer, threads)?;
            let quantity_by_sku = report.quantity_by_sku()?;
            return Ok(WrittenReport {
                level: report.level,
                rows: report.rows.len() as u64,
                quantity_by_sku: quantity_by_sku
                    .into_iter()
                    .map(|(sku, q)| (sku.to_owned(), q))
                    .collect(),
            });
        }
        let maker = self.row_maker(period, options)?;
        let per_chunk = per_chunk.max(1);
        let chunk_count = self.keys.len().div_ceil(per_chunk);
        let packages = self.labels.packages.len();
        // A chunk's formatted rows, how many, and the quantity of each package (`None`: no row).
        let make = |i: usize| -> Result<(Vec<u8>, usize, Vec<Option<Quantity>>)> {
            let mut rows = Vec::with_capacity(per_chunk);
            let mut totals = vec![None; packages];
            for index in i * per_chunk..((i + 1) * per_chunk).min(self.keys.len()) {
                let Some(row) = maker.row(index) else { continue };
                let package = self.keys[index].package.index();
                add_to(&mut totals, package, row.quantity)?;
                rows.push(row);
            }
            Ok((format_rows(&self.strings, ReportLevel::User, &rows), rows.len(), totals))
        };
        write_header(&mut writer, ReportLevel::User)?;
        let mut rows = 0u64;
        let mut totals: Vec<Option<Quantity>> = vec![None; packages];
        crate::parallel::in_order(
            chunk_count,
            threads,
            "report rows",
            make,
            |(formatted, made, chunk_totals)| {
                write_formatted(&mut writer, &formatted)?;
                rows += made as u64;
                for (package, quantity) in chunk_totals.into_iter().enumerate() {
                    if let Some(quantity) = quantity {
                        add_to(&mut totals, package, quantity)?;
                    }
                }
                Ok(())
            },
        )?;
        writer.flush().map_err(write_error)?;
        let mut by_sku: BTreeMap<String, Quantity> = BTreeMap::new();
        for (package, quantity) in totals.into_iter().enumerate() {
            let (Some(quantity), Some(&[_, sku, _])) = (quantity, self.labels.packages.get(package)) else {
                continue;
            };
            let sku = self.strings.get(sku);
            let slot = by_sku.entry(sku.to_owned()).or_default();
            *slot = checked::add(*slot, quantity, "Σ user-days")
                .for_subject(|| format!("SKU {sku} of the usage report"))?;
        }
        Ok(WrittenReport {
            level: ReportLevel::User,
            rows,
            quantity_by_sku: by_sku.into_iter().collect(),
        })
    }
}

/// Adds `quantity` to the total of `package` in `totals`.
fn add_to(totals: &mut [Option<Quantity>], package: usize, quantity: Quantity) -> Result<()> {
    if let Some(slot) = totals.get_mut(package) {
        let sum = checked::add(slot.unwrap_or(Quantity::ZERO), quantity, "Σ user-days");
        *slot = Some(sum.for_subject(|| "a package's rows of the usage report".to_owned())?);
    }
    Ok(())
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
        policy: HourPolicy,
    ) -> Vec<(crate::RowKey<'_>, Vec<Quantity>)> {
        self.keys
            .iter()
            .enumerate()
            .filter(|(_, k)| *self.strings.text(k.subscriber) == *subscriber_id)
            .map(|(i, k)| {
                let owner = self.customers[k.customer as usize].owner;
                let clamp = self.org.billing_start(owner).map(|t| t.as_micros());
                let days = crate::proration::day_quantities(
                    self.key_intervals(i),
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

/// What makes the USER row of a row key for one period, scope and hour policy.
struct RowMaker<'l> {
    ledger: &'l AssignmentLedger,
    /// The owner whose customers are reported; `None` for every owner.
    wanted: Option<Owner>,
    /// The billing start of each owner (index: [`owner_index`]), in microseconds.
    clamps: Vec<Option<i64>>,
    period_start: i64,
    period_end: i64,
    policy: HourPolicy,
}

impl AssignmentLedger {
    /// The [`RowMaker`] of `period` and `options`' scope and hour policy.
    fn row_maker(&self, period: Period, options: &ReportOptions) -> Result<RowMaker<'_>> {
        let wanted: Option<Owner> = match &options.scope {
            Scope::Partner => Some(Owner::Partner),
            Scope::SubPartner(org_id) => {
                self.org.sub_partner(org_id)?;
                self.org.sub_partner_index(org_id).map(Owner::SubPartner)
            }
            Scope::Subscription => None,
        };
        let clamps = std::iter::once(Owner::Partner)
            .chain((0..self.org.sub_partners.len()).map(|i| Owner::SubPartner(i as u16)))
            .map(|o| self.org.billing_start(o).map(|t| t.as_micros()))
            .collect();
        Ok(RowMaker {
            ledger: self,
            wanted,
            clamps,
            period_start: period.start_instant().as_micros(),
            period_end: period.end_exclusive().as_micros(),
            policy: options.hour_policy,
        })
    }
}

impl RowMaker<'_> {
    /// The USER row of the key at `index`: `None` when its customer is out of scope or its
    /// quantity is zero.
    fn row(&self, index: usize) -> Option<RowData> {
        let ledger = self.ledger;
        let key = ledger.keys.get(index)?;
        let customer = &ledger.customers[key.customer as usize];
        if self.wanted.is_some_and(|w| w != customer.owner) {
            return None;
        }
        let owner_index = owner_index(customer.owner);
        let clamp = self.clamps.get(owner_index).copied().flatten();
        let prorated = prorate(
            ledger.key_intervals(index),
            clamp,
            self.period_start,
            self.period_end,
            self.policy,
        );
        let (start, end) = prorated.span?;
        if prorated.quantity <= Quantity::ZERO {
            return None;
        }
        let [partner_name, partner_org_id] = ledger.labels.owners.get(owner_index).copied().unwrap_or_default();
        let [service_name, sku, description] = ledger.labels.packages[key.package.index()];
        // An end at the period's exclusive end is written as 23:59:59.999 of the end date.
        let last_milli = self.period_end - 1_000;
        Some(RowData {
            partner_name,
            partner_org_id,
            subscription_id: ledger.labels.subscription_id,
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
            end: if end >= self.period_end { last_milli } else { end },
            quantity: prorated.quantity,
            origin: NO_ORIGIN,
        })
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

/// The rows `row_of` makes of the keys `0..keys`, in key order: on `threads` threads (no more
/// than one a `per_thread` keys), each making the rows of a run of keys in place in one vector
/// sized for a row a key, whose runs are then closed up (no second copy of the rows).
fn rows_in_parallel(
    keys: usize,
    threads: usize,
    per_thread: usize,
    row_of: impl Fn(usize) -> Option<RowData> + Sync,
) -> Result<Vec<RowData>> {
    let threads = threads.min(keys / per_thread.max(1) + 1);
    if threads < 2 {
        return Ok((0..keys).filter_map(&row_of).collect());
    }
    let run = keys.div_ceil(threads);
    let mut rows = vec![RowData::default(); keys];
    let row_of = &row_of;
    let made: Vec<usize> = std::thread::scope(|scope| {
        let runs: Vec<_> = rows
            .chunks_mut(run)
            .enumerate()
            .map(|(i, out)| {
                scope.spawn(move || {
                    let mut made = 0;
                    let keys = i * run..i * run + out.len();
                    for (slot, row) in out.iter_mut().zip(keys.filter_map(row_of)) {
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
    fn uuid_ids_are_written_without_unpacking_the_ledger() -> Result<()> {
        let org = Organisation::from_toml_str(
            "[partner]\norg_id = \"5f0c1e2a-0000-4000-8000-000000000001\"\nname = \"P\"\nsubscription_id = \"S\"\n",
        )?;
        let mut builder = AssignmentLedger::builder(org);
        let uuid = |n: u32| format!("{n:08x}-527f-42d9-9bd8-46ef7899a5d7");
        let texts: Vec<[String; 6]> = (0..40u32)
            .map(|i| {
                // Some ids in capitals or not UUIDs: kept as text beside the packed ones.
                let subscriber = if i % 9 == 4 { uuid(i).to_uppercase() } else { uuid(i) };
                let customer = if i % 4 == 0 {
                    format!("cust-{i}")
                } else {
                    uuid(1_000 + i % 5)
                };
                [
                    format!("e{i}"),
                    subscriber,
                    customer,
                    uuid(2_000 + i),
                    uuid(3_000 + i % 3),
                    uuid(4_000 + i),
                ]
            })
            .collect();
        for (i, [id, subscriber, customer, user, location, license]) in texts.iter().enumerate() {
            let at = format!("2024-05-{:02}T{:02}:00:00Z", 1 + i % 28, i % 24).parse()?;
            let event = Event::assign(id, at, subscriber, customer, "webex_calling")
                .user(user)
                .location(location)
                .license(license);
            builder.push(event);
        }
        let (ledger, _) = builder.finish(LoadMode::Strict)?;
        let may = Period::month(2024, 5)?;
        let options = ReportOptions::new(ReportLevel::User);
        let mut streamed = Vec::new();
        let written = ledger.write_usage_csv(may, &options, &mut streamed)?;
        assert_eq!(written.rows, 40);
        assert!(!ledger.strings.is_unpacked(), "writing a report unpacked the ids");
        let report = ledger.usage_report(may, &options)?;
        let mut whole = Vec::new();
        report.write_csv(&mut whole)?;
        assert!(streamed == whole);
        // The other levels, summed from the USER rows, match a plain report's sums.
        let (plain, _) = UsageReport::read_csv(whole.as_slice(), &crate::ReadOptions::default())?;
        for level in [ReportLevel::Customer, ReportLevel::Partner] {
            let mut summed = Vec::new();
            ledger.write_usage_csv(may, &ReportOptions::new(level), &mut summed)?;
            let mut expected = Vec::new();
            plain.aggregate(level)?.write_csv(&mut expected)?;
            assert!(summed == expected, "{level}");
        }
        assert!(!ledger.strings.is_unpacked(), "summing a report unpacked the ids");
        let text = String::from_utf8(whole).unwrap_or_default();
        for [_, subscriber, customer, user, location, license] in &texts {
            let line = text
                .lines()
                .find(|l| l.contains(subscriber.as_str()))
                .unwrap_or_default();
            for id in [customer, user, location, license] {
                assert!(line.contains(id.as_str()), "{id} in {line}");
            }
        }
        // Rows in report order: by customer org id, then subscriber, as text.
        let rows: Vec<(String, String)> = report
            .rows()
            .map(|r| (r.customer_org_id.to_owned(), r.subscriber_id.to_owned()))
            .collect();
        let mut sorted = rows.clone();
        sorted.sort();
        assert_eq!(rows, sorted);
        Ok(())
    }

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
            for level in [ReportLevel::User, ReportLevel::Customer, ReportLevel::Partner] {
                let options = ReportOptions::new(level).scope(scope.clone());
                let whole = ledger.usage_report(may, &options)?;
                let mut expected = Vec::new();
                whole.write_csv_with_threads(&mut expected, 1)?;
                let totals: Vec<(String, Quantity)> = whole
                    .quantity_by_sku()?
                    .into_iter()
                    .map(|(sku, q)| (sku.to_owned(), q))
                    .collect();
                for (threads, per_chunk) in [(1, 1 << 14), (1, 3), (2, 1), (3, 4), (7, 5)] {
                    let mut streamed = Vec::new();
                    let written = ledger.write_usage_csv_in_chunks(
                        may,
                        &options.clone().threads(threads),
                        &mut streamed,
                        per_chunk,
                    )?;
                    let case = format!("{level} {scope:?} on {threads} threads, {per_chunk} keys a chunk");
                    assert!(streamed == expected, "{case}");
                    assert_eq!(written.rows, whole.len() as u64, "{case}");
                    assert_eq!(written.quantity_by_sku, totals, "{case}");
                    assert_eq!(written.level, level, "{case}");
                }
            }
        }
        Ok(())
    }
}
