//! Minutes on the customer invoices: the rating summaries of the month (price and cost tariffs),
//! routed to the invoices by the customers' owners ([`Minutes`]).
// Every sum of money or minutes here goes through `crate::checked`: clippy refuses an operator
// that could panic or overflow.
#![deny(clippy::arithmetic_side_effects)]

use rust_decimal::Decimal;

use crate::checked::{self, Subject};
use crate::error::{Error, Result};
use crate::money::Currency;
use crate::rating::{CustomerDirectory, RatingSummary, SummaryRow};

/// The `sku` of every minutes line of an invoice ([`crate::LinePricing::Minutes`]).
pub const MINUTES_SKU: &str = "MINUTES";

/// The minutes of a month, for [`crate::Billing::minutes`]: the summary of the calls rated at the
/// price tariff (what the customers pay, SPEC §7.6), optionally the summary of the same calls
/// rated at the PSTN provider's cost tariff (what the partner pays, for the margin report), and
/// the customers of the events the calls were rated with (who owns each customer).
///
/// Each customer invoice gets one minutes line per destination of its summary rows, `AMOUNT`
/// as it is (already rounded to the minor unit); a sub-partner's roll-up gets one line per
/// destination whose amount, calls and minutes are the sums of its customers' rounded rows.
/// A customer with calls but no package usage in the month gets an invoice of minutes only.
///
/// ```
/// use wholesale_billing::{AssignmentLedger, CustomerDirectory, Event, LoadMode, Minutes, Organisation, Partner,
///     RatingSummary};
/// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
/// let mut b = AssignmentLedger::builder(org);
/// b.push(Event::assign("e1", "2024-05-01T00:00:00Z".parse()?, "s1", "c1", "webex_calling"));
/// let (ledger, _) = b.finish(LoadMode::Strict)?;
/// let customers = CustomerDirectory::from_ledger(&ledger);
/// let (price, cost) = (RatingSummary::default(), RatingSummary::default());
/// let minutes = Minutes::new(&price, &customers).cost(&cost);
/// assert!(minutes.has_cost());
/// assert!(!Minutes::new(&price, &customers).has_cost());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Minutes<'a> {
    pub(super) price: &'a RatingSummary,
    pub(super) cost: Option<&'a RatingSummary>,
    pub(super) customers: &'a CustomerDirectory,
}

impl<'a> Minutes<'a> {
    /// The minutes of `price` (the price tariff's summary), for the customers of `customers`
    /// ([`CustomerDirectory::from_ledger`] of the events the calls were rated with).
    ///
    /// ```
    /// use wholesale_billing::{CustomerDirectory, Minutes, RatingSummary};
    /// let (summary, customers) = (RatingSummary::default(), CustomerDirectory::default());
    /// assert!(!Minutes::new(&summary, &customers).has_cost());
    /// ```
    pub fn new(price: &'a RatingSummary, customers: &'a CustomerDirectory) -> Self {
        Minutes {
            price,
            cost: None,
            customers,
        }
    }

    /// Also the cost of the same calls, the summary of the cost tariff: needed by the margin
    /// report ([`crate::Billing::wholesale`]), which refuses minutes without their cost.
    ///
    /// ```
    /// use wholesale_billing::{CustomerDirectory, Minutes, RatingSummary};
    /// let (summary, customers) = (RatingSummary::default(), CustomerDirectory::default());
    /// assert!(Minutes::new(&summary, &customers).cost(&summary).has_cost());
    /// let none: Option<&RatingSummary> = None;
    /// assert!(!Minutes::new(&summary, &customers).cost(none).has_cost());
    /// ```
    pub fn cost(mut self, cost: impl Into<Option<&'a RatingSummary>>) -> Self {
        self.cost = cost.into();
        self
    }

    /// Whether the cost tariff's summary was given.
    ///
    /// ```
    /// use wholesale_billing::{CustomerDirectory, Minutes, RatingSummary};
    /// let (summary, customers) = (RatingSummary::default(), CustomerDirectory::default());
    /// assert!(!Minutes::new(&summary, &customers).has_cost());
    /// ```
    pub fn has_cost(&self) -> bool {
        self.cost.is_some()
    }

    /// Checks that every row of both summaries is in `currency` (the price book's).
    pub(super) fn check_currency(&self, currency: Currency) -> Result<()> {
        let rows = self.price.rows().iter().chain(self.cost.iter().flat_map(|s| s.rows()));
        match rows.map(|r| r.currency).find(|c| *c != currency) {
            Some(tariff) => Err(Error::TariffCurrencyMismatch {
                tariff,
                price_book: currency,
            }),
            None => Ok(()),
        }
    }
}

/// The minutes of one bill to one destination: sums of rounded summary rows.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct DestinationMinutes {
    pub(super) calls: u64,
    pub(super) billable: Decimal,
    pub(super) covered: Decimal,
    pub(super) amount: Decimal,
    /// The number of summary rows (customers) summed.
    pub(super) rows: u32,
}

impl DestinationMinutes {
    /// Adds one summary row.
    pub(super) fn add(&mut self, row: &SummaryRow) -> Result<()> {
        let subject = || format!("the minutes to {} of customer {}", row.destination, row.customer_org_id);
        self.calls = self
            .calls
            .checked_add(row.calls)
            .ok_or_else(|| Error::overflow("Σ calls"))
            .for_subject(subject)?;
        self.billable = checked::add(self.billable, row.billable_minutes, "Σ billable minutes").for_subject(subject)?;
        self.covered = checked::add(self.covered, row.covered_minutes, "Σ covered minutes").for_subject(subject)?;
        self.amount = checked::add(self.amount, row.amount, "Σ minutes amounts").for_subject(subject)?;
        self.rows = self
            .rows
            .checked_add(1)
            .ok_or_else(|| Error::overflow("Σ rows"))
            .for_subject(subject)?;
        Ok(())
    }
}
