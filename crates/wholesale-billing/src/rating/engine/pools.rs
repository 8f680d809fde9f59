//! [`Pools`]: each customer's bundled seconds per allowance for one period (SPEC §7.5, §7.7).
// Every sum and product of seconds here is checked.
#![deny(clippy::arithmetic_side_effects)]

use hashbrown::HashMap;
use rust_decimal::Decimal;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::rating::Tariff;
use crate::report::{ReportLevel, UsageReport};
use crate::time::Period;

use super::customers::{CustomerDirectory, CustomerIndex};

/// The pools of a rating run: per customer, the seconds of each allowance of the tariff (in
/// tariff order), sized from the §4 USER report of the same period:
/// `floor(Σ over the customer's USER rows of the allowance's package (minutes × 60 × QUANTITY / days))`,
/// computed exactly (the sum first, one floor at the end). A USER row's package is the catalog
/// package of its SKU and service name. Pools are never shared between customers.
///
/// ```
/// use wholesale_billing::{AssignmentLedger, CustomerDirectory, Event, LoadMode, Organisation, Partner,
///     Period, Pools, ReportLevel, ReportOptions, Scope, TariffDocument};
/// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
/// let mut b = AssignmentLedger::builder(org);
/// b.push(Event::assign("e1", "2024-05-01T00:00:00Z".parse()?, "s1", "c1", "webex_calling"));
/// b.push(Event::remove("e2", "2024-05-16T00:00:00Z".parse()?, "s1"));
/// let (ledger, _) = b.finish(LoadMode::Strict)?;
/// let may = Period::month(2024, 5)?;
/// let users = ledger.usage_report(may, &ReportOptions::new(ReportLevel::User).scope(Scope::Subscription))?;
/// let tariff = TariffDocument::from_toml_str(r#"
/// currency = "GBP"
/// [[destinations]]
/// name = "UK"
/// class = "national"
/// prefixes = ["44"]
/// per_minute = "0.01"
/// initial = 1
/// subsequent = 1
/// [[allowances]]
/// package = "webex_calling"
/// minutes = "100"
/// classes = ["national"]
/// "#)?.compile()?;
/// let directory = CustomerDirectory::from_ledger(&ledger);
/// let pools = Pools::from_report(&users, &ledger.organisation().catalog, &tariff, may, &directory)?;
/// // 15 of 31 days of 100 minutes: floor(6000 × 15 / 31) = 2903 seconds.
/// assert_eq!(pools.seconds("c1", 0), Some(2903));
/// assert_eq!(pools.seconds("c2", 0), None);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pools {
    /// Per customer (by org id): the seconds of each allowance, in tariff order.
    by_org: HashMap<String, Vec<u64>>,
}

impl Pools {
    /// No pools: every call pays in full.
    pub fn none() -> Self {
        Pools::default()
    }

    /// The pools of the customers of `directory` from a USER report of `period`.
    ///
    /// # Errors
    /// [`Error::WrongReportLevel`] for a report of another level; [`Error::PeriodMismatch`] for a
    /// report of another period; [`Error::Overflow`] when a sum does not fit.
    pub fn from_report(
        report: &UsageReport,
        catalog: &Catalog,
        tariff: &Tariff,
        period: Period,
        directory: &CustomerDirectory,
    ) -> Result<Self> {
        if report.level() != ReportLevel::User {
            return Err(Error::WrongReportLevel {
                purpose: "sizing the pools of bundled minutes",
                report: "usage report".to_owned(),
                expected: &[ReportLevel::User],
                found: report.level(),
            });
        }
        if let Some(found) = report.period
            && found != period
        {
            return Err(Error::PeriodMismatch {
                document: "usage report".to_owned(),
                found,
                expected: period,
            });
        }
        let allowances = tariff.allowances();
        // Per customer and allowance: Σ minutes × 60 × QUANTITY, exact.
        let mut sums: HashMap<&str, Vec<Decimal>> = HashMap::new();
        for row in report.rows() {
            if directory.index(row.customer_org_id).is_none() {
                continue;
            }
            let Some(package) = catalog
                .entries()
                .iter()
                .find(|e| e.sku == row.sku && e.service_name == row.service_name)
                .or_else(|| catalog.by_sku(row.sku))
            else {
                continue;
            };
            for (i, allowance) in allowances.iter().enumerate() {
                if !allowance.package().eq_ignore_ascii_case(&package.package) {
                    continue;
                }
                let seconds = allowance
                    .minutes()
                    .checked_mul(Decimal::from(60))
                    .and_then(|s| s.checked_mul(row.quantity.to_decimal()))
                    .ok_or_else(|| Error::overflow("allowance minutes × 60 × quantity"))?;
                let sum = sums
                    .entry(row.customer_org_id)
                    .or_insert_with(|| vec![Decimal::ZERO; allowances.len()]);
                if let Some(s) = sum.get_mut(i) {
                    *s = s
                        .checked_add(seconds)
                        .ok_or_else(|| Error::overflow("Σ allowance seconds of a customer"))?;
                }
            }
        }
        let days = i128::from(period.days());
        let mut by_org = HashMap::with_capacity(sums.len());
        for (org, sums) in sums {
            let seconds = sums
                .into_iter()
                .map(|s| floor_div(s, days))
                .collect::<Result<Vec<u64>>>()
                .map_err(|e| e.for_subject(|| format!("customer {org}")))?;
            by_org.insert(org.to_owned(), seconds);
        }
        Ok(Pools { by_org })
    }

    /// The seconds of allowance `allowance` (its index in the tariff) of the customer `org_id`;
    /// `None` when the customer has no pools.
    pub fn seconds(&self, org_id: &str, allowance: usize) -> Option<u64> {
        self.by_org.get(org_id).and_then(|p| p.get(allowance).copied())
    }

    /// Whether no customer has a pool.
    pub fn is_empty(&self) -> bool {
        self.by_org.is_empty()
    }

    /// The pools per customer index of `directory`.
    pub(crate) fn by_customer(&self, directory: &CustomerDirectory) -> HashMap<CustomerIndex, Vec<u64>> {
        self.by_org
            .iter()
            .filter_map(|(org, pools)| directory.index(org).map(|i| (i, pools.clone())))
            .collect()
    }
}

/// `floor(value / days)` of a non-negative exact decimal, as whole seconds.
fn floor_div(value: Decimal, days: i128) -> Result<u64> {
    let overflow = || Error::overflow("allowance seconds");
    let scale = 10i128.checked_pow(value.scale()).ok_or_else(overflow)?;
    let divisor = scale.checked_mul(days).ok_or_else(overflow)?;
    let floor = value.mantissa().checked_div_euclid(divisor).ok_or_else(overflow)?;
    u64::try_from(floor.max(0)).map_err(|_| overflow())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_taken_once_of_the_exact_sum() {
        // 1000 minutes for 0.5 + 0.5 of 31 days: floor(60000 / 31) = 1935 (not 967 + 967).
        let half = Decimal::new(30_000_000, 3);
        assert_eq!(floor_div(half + half, 31).unwrap(), 1935);
        assert_eq!(floor_div(half, 31).unwrap(), 967);
        assert_eq!(floor_div(Decimal::new(6200, 0), 31).unwrap(), 200);
    }
}
