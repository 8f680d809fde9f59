//! The expected vendor invoice: what Cisco should bill for a period, from the usage reports and
//! the wholesale rate card ([`ExpectedInvoice`]).
// Every sum, difference, product and quotient of money or quantities here goes through
// `crate::checked`: clippy refuses an operator that could panic or overflow.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{FixedLine, LineKind, VendorInvoice, VendorInvoiceLine};
use crate::catalog::COMMITTED_SPEND_SKU;
use crate::checked::{self, Subject};
use crate::error::{Error, Result};
use crate::money::{Money, RoundingPolicy};
use crate::quantity::Quantity;
use crate::rates::WholesaleRateCard;
use crate::report::{ANY_LEVEL, UsageReport, billing_period};
use crate::time::Period;

/// The invoice Cisco should send for a period: a builder over the wholesale rate card, ended by
/// [`ExpectedInvoice::build`] with the usage reports of the whole subscription (SPEC.md §5.1).
///
/// Uncommitted (the default): per SKU, `QTY = round(Σ user-days / days in period, 4)`, `EXTENDED =
/// round(QTY × RATE, minor unit)`. Committed ([`ExpectedInvoice::committed`]): one `A-W-CS-MNTH`
/// line of the monthly commitment and an `OVERAGE` line `max(0, Σ round(QTY × committed rate) −
/// commitment)`. Fixed lines as given; a tax line when a tax percentage is set. The total is the
/// sum of the rounded lines.
///
/// ```
/// use wholesale_billing::{Currency, Decimal, ExpectedInvoice, Period, ReadOptions, UsageReport,
///     WholesaleRate, WholesaleRateCard};
/// let csv = "SKU,QUANTITY\nA-W-CA-CALL-U,3162.75\n";   // 105.425 user-months over 30 days
/// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
/// let report = report.with_period(Period::from_dates("2023-04-13", "2023-05-12")?)?;
/// let mut rates = WholesaleRateCard::new(Currency::USD);
/// rates.insert(WholesaleRate::new("A-W-CA-CALL-U", Decimal::new(5, 0)))?;
/// let invoice = ExpectedInvoice::new(&rates).build([&report])?;
/// assert_eq!(invoice.lines[0].quantity.to_string(), "105.4250");
/// assert_eq!(invoice.lines[0].extended.to_string(), "527.12 USD");
/// assert_eq!(invoice.total()?.to_string(), "527.12 USD");
/// assert_eq!(invoice.period, report.period());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "an invoice builder does nothing until `build`"]
pub struct ExpectedInvoice<'r> {
    rates: &'r WholesaleRateCard,
    /// The monthly committed spend of a committed deal; `None`: uncommitted.
    committed: Option<Money>,
    fixed_lines: Vec<FixedLine>,
    tax_percent: Option<Decimal>,
    rounding: RoundingPolicy,
}

impl<'r> ExpectedInvoice<'r> {
    /// The expected invoice at the rates of `rates`: uncommitted, without fixed lines or tax,
    /// rounded half-even at every stage.
    ///
    /// ```
    /// use wholesale_billing::{Currency, ExpectedInvoice, Period, ReadOptions, UsageReport, WholesaleRateCard};
    /// let rates = WholesaleRateCard::new(Currency::EUR);
    /// let none = UsageReport::read_csv("SKU,QUANTITY\n".as_bytes(), &ReadOptions::default())?.0;
    /// let none = none.with_period(Period::month(2024, 5)?)?;
    /// let invoice = ExpectedInvoice::new(&rates).build([&none])?;
    /// assert!(invoice.lines.is_empty());
    /// assert_eq!(invoice.total()?.to_string(), "0.00 EUR");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn new(rates: &'r WholesaleRateCard) -> Self {
        ExpectedInvoice {
            rates,
            committed: None,
            fixed_lines: Vec::new(),
            tax_percent: None,
            rounding: RoundingPolicy::default(),
        }
    }

    /// A committed deal: `monthly` (in the rate card's currency, not negative) is billed in
    /// advance on an `A-W-CS-MNTH` line, and the usage at committed rates above it on an
    /// `OVERAGE` line. `None` (as not calling it): uncommitted.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, ExpectedInvoice, LineKind, Money, Period, ReadOptions,
    ///     UsageReport, WholesaleRate, WholesaleRateCard};
    /// let (report, _) = UsageReport::read_csv("SKU,QUANTITY\nA-W-WXC-CALL-U,3100\n".as_bytes(), &ReadOptions::default())?;
    /// let report = report.with_period(Period::month(2024, 5)?)?;     // 100 user-months
    /// let mut rates = WholesaleRateCard::new(Currency::USD);
    /// let mut rate = WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0));
    /// rate.committed_rate = Some(Decimal::new(7, 0));
    /// rates.insert(rate)?;
    /// let invoice = ExpectedInvoice::new(&rates)
    ///     .committed(Money::parse("500", Currency::USD)?)
    ///     .build([&report])?;
    /// assert_eq!(invoice.total_of(LineKind::CommittedSpend)?.to_string(), "500.00 USD");
    /// assert_eq!(invoice.total_of(LineKind::Overage)?.to_string(), "200.00 USD");   // 700 − 500
    /// assert_eq!(invoice.overage_basis[0].rate, Decimal::new(7, 0));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn committed(mut self, monthly: impl Into<Option<Money>>) -> Self {
        self.committed = monthly.into();
        self
    }

    /// Adds fixed lines the usage does not give (support plans), billed as they are, after those
    /// added before.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, ExpectedInvoice, FixedLine, LineKind, Period, ReadOptions,
    ///     UsageReport, WholesaleRateCard};
    /// let rates = WholesaleRateCard::new(Currency::USD);
    /// let none = UsageReport::read_csv("SKU,QUANTITY\n".as_bytes(), &ReadOptions::default())?.0;
    /// let none = none.with_period(Period::month(2024, 5)?)?;
    /// let support = FixedLine {
    ///     sku: "SVS-FLEX-SUPT-BAS".into(),
    ///     description: "Basic Support for Flex Plan".into(),
    ///     quantity: Decimal::ONE,
    ///     rate: Decimal::new(12550, 2),
    /// };
    /// let invoice = ExpectedInvoice::new(&rates).fixed_lines([support]).build([&none])?;
    /// assert_eq!(invoice.lines[0].kind, LineKind::Other);
    /// assert_eq!(invoice.total()?.to_string(), "125.50 USD");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn fixed_lines(mut self, lines: impl IntoIterator<Item = FixedLine>) -> Self {
        self.fixed_lines.extend(lines);
        self
    }

    /// A tax line of `percent` (0 to 100) of the subtotal, rounded by the tax rule. `None` (as
    /// not calling it): no tax line.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, ExpectedInvoice, FixedLine, LineKind, Period, ReadOptions,
    ///     UsageReport, WholesaleRateCard};
    /// let rates = WholesaleRateCard::new(Currency::USD);
    /// let none = UsageReport::read_csv("SKU,QUANTITY\n".as_bytes(), &ReadOptions::default())?.0;
    /// let none = none.with_period(Period::month(2024, 5)?)?;
    /// let line = FixedLine { sku: "X".into(), description: String::new(), quantity: Decimal::ONE, rate: Decimal::new(1005, 2) };
    /// let invoice = ExpectedInvoice::new(&rates)
    ///     .fixed_lines([line])
    ///     .tax_percent(Decimal::new(20, 0))
    ///     .build([&none])?;
    /// assert_eq!(invoice.total_of(LineKind::Tax)?.to_string(), "2.01 USD");    // 20 % of 10.05
    /// assert_eq!(invoice.total()?.to_string(), "12.06 USD");
    /// assert!(ExpectedInvoice::new(&rates).tax_percent(Decimal::new(101, 0)).build([&none]).is_err());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn tax_percent(mut self, percent: impl Into<Option<Decimal>>) -> Self {
        self.tax_percent = percent.into();
        self
    }

    /// The rounding of each stage (half-even to the minor unit by default).
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, ExpectedInvoice, Period, ReadOptions, RoundingMode,
    ///     RoundingPolicy, UsageReport, WholesaleRate, WholesaleRateCard};
    /// let (report, _) = UsageReport::read_csv("SKU,QUANTITY\nA-W-CA-CALL-U,3162.75\n".as_bytes(), &ReadOptions::default())?;
    /// let report = report.with_period(Period::from_dates("2023-04-13", "2023-05-12")?)?;
    /// let mut rates = WholesaleRateCard::new(Currency::USD);
    /// rates.insert(WholesaleRate::new("A-W-CA-CALL-U", Decimal::new(5, 0)))?;
    /// let up = RoundingPolicy { line: RoundingMode::Up, ..RoundingPolicy::default() };
    /// let invoice = ExpectedInvoice::new(&rates).rounding(up).build([&report])?;
    /// assert_eq!(invoice.lines[0].extended.to_string(), "527.13 USD");   // 527.125 rounded up
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn rounding(mut self, rounding: RoundingPolicy) -> Self {
        self.rounding = rounding;
        self
    }

    /// The invoice of the usage of the whole subscription: the partner's report and every
    /// sub-partner's, at any level (they agree per SKU), each knowing its period
    /// ([`UsageReport::with_period`] for a report read from CSV), all the same one: the invoice's.
    ///
    /// # Errors
    /// [`Error::NoReports`] for no report; [`Error::ReportWithoutPeriod`] for a report that does
    /// not know its period; [`Error::PeriodMismatch`] for reports of different periods;
    /// [`Error::MissingRate`] for a SKU with usage but no rate (nothing is priced at zero
    /// silently), naming the first row that needs it when the reports were read from CSV;
    /// [`Error::CurrencyMismatch`] for a commitment in another currency than the rate card;
    /// [`Error::NegativeCommitment`], [`Error::NegativeFixedLine`], [`Error::NegativeValue`] or
    /// [`Error::PercentAbove100`] for options out of range; [`Error::Overflow`] for amounts
    /// beyond range.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Error, ExpectedInvoice, ReadOptions, UsageReport, WholesaleRateCard};
    /// let (report, _) = UsageReport::read_csv("SKU,QUANTITY\nA-W-CA-CALL-U,31\n".as_bytes(), &ReadOptions::default())?;
    /// let rates = WholesaleRateCard::new(Currency::USD);
    /// let err = ExpectedInvoice::new(&rates).build([&report]).unwrap_err();
    /// assert!(matches!(err, Error::ReportWithoutPeriod { .. }), "{err}");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn build<'a>(&self, usage: impl IntoIterator<Item = &'a UsageReport>) -> Result<VendorInvoice> {
        let usage: Vec<&UsageReport> = usage.into_iter().collect();
        let several = usage.len() > 1;
        let period = billing_period(&usage, "the expected vendor invoice", ANY_LEVEL, |i| {
            if several {
                format!("usage report {}", i.saturating_add(1))
            } else {
                "usage report".to_owned()
            }
        })?;
        self.check_options()?;
        self.compute(&usage, period)
    }

    /// Refuses negative money where a price or an amount is expected (the commitment, a fixed
    /// line's quantity or rate, the tax percentage) and a tax percentage above 100.
    fn check_options(&self) -> Result<()> {
        if let Some(monthly) = self.committed
            && monthly.amount() < Decimal::ZERO
        {
            return Err(Error::NegativeCommitment { monthly });
        }
        for line in &self.fixed_lines {
            for (what, value) in [("quantity", line.quantity), ("rate", line.rate)] {
                if value < Decimal::ZERO {
                    return Err(Error::NegativeFixedLine {
                        sku: line.sku.clone(),
                        what,
                        value,
                    });
                }
            }
        }
        if let Some(value) = self.tax_percent {
            let what = "the tax percentage";
            if value < Decimal::ZERO {
                return Err(Error::NegativeValue { what, value });
            }
            if value > Decimal::ONE_HUNDRED {
                return Err(Error::PercentAbove100 { what, value });
            }
        }
        Ok(())
    }

    fn compute(&self, usage: &[&UsageReport], period: Period) -> Result<VendorInvoice> {
        let rates = self.rates;
        let rounding = &self.rounding;
        let days = period.days();
        let currency = rates.currency();
        let user_days = user_days_by_sku(usage)?;
        let mut lines = Vec::new();
        let mut basis = Vec::new();
        for (sku, days_used) in &user_days {
            if !days_used.is_positive() {
                continue;
            }
            let rate = rates
                .rate(sku)
                .map_err(|e| e.needed_by(UsageReport::first_row_of_sku(usage, "usage report", sku)))?;
            let subject = || format!("SKU {sku} of the vendor invoice");
            let quantity = rounding.user_months(*days_used, period).for_subject(subject)?;
            let price = match self.committed {
                None => rate.rate,
                Some(_) => rate.committed_or_list(),
            };
            let amount = checked::mul(quantity, price, "user-months × rate").for_subject(subject)?;
            let line = VendorInvoiceLine {
                sku: sku.clone(),
                description: rate.description.clone(),
                kind: LineKind::Usage,
                period: Some(period),
                quantity,
                rate: price,
                extended: rounding.line(amount, currency),
                user_days: Some(*days_used),
                days_in_period: Some(days),
                source_line: None,
            };
            match self.committed {
                None => lines.push(line),
                Some(_) => basis.push(line),
            }
        }
        if let Some(monthly) = self.committed {
            if monthly.currency() != currency {
                return Err(Error::CurrencyMismatch {
                    expected: currency,
                    found: monthly.currency(),
                });
            }
            let monthly = monthly.round(rounding.line);
            lines.push(VendorInvoiceLine {
                sku: COMMITTED_SPEND_SKU.to_owned(),
                description: "Committed spend, billed in advance".to_owned(),
                kind: LineKind::CommittedSpend,
                period: None,
                quantity: Decimal::ONE,
                rate: monthly.amount(),
                extended: monthly,
                user_days: None,
                days_in_period: None,
                source_line: None,
            });
            let subject = || "the overage of the vendor invoice".to_owned();
            let at_committed = Money::sum(basis.iter().map(|l| l.extended), currency).for_subject(subject)?;
            let over = at_committed.checked_sub(monthly).for_subject(subject)?;
            let overage = if over.is_negative() {
                Money::zero(currency)
            } else {
                over
            };
            lines.push(VendorInvoiceLine {
                sku: "OVERAGE".to_owned(),
                description: format!("Usage above the committed spend, {period}"),
                kind: LineKind::Overage,
                period: Some(period),
                quantity: Decimal::ONE,
                rate: overage.amount(),
                extended: overage,
                user_days: None,
                days_in_period: Some(days),
                source_line: None,
            });
        }
        for fixed in &self.fixed_lines {
            let amount = checked::mul(fixed.quantity, fixed.rate, "quantity × rate")
                .for_subject(|| format!("fixed line {} of the vendor invoice", fixed.sku))?;
            lines.push(VendorInvoiceLine {
                sku: fixed.sku.clone(),
                description: fixed.description.clone(),
                kind: LineKind::Other,
                period: Some(period),
                quantity: fixed.quantity,
                rate: fixed.rate,
                extended: rounding.line(amount, currency),
                user_days: None,
                days_in_period: None,
                source_line: None,
            });
        }
        if let Some(percent) = self.tax_percent {
            let subject = || "the vendor invoice".to_owned();
            let subtotal = Money::sum(lines.iter().map(|l| l.extended), currency).for_subject(subject)?;
            let tax = checked::percent_of(subtotal.amount(), percent, "subtotal × tax %").for_subject(subject)?;
            let tax = rounding.tax(tax, currency);
            lines.push(VendorInvoiceLine {
                sku: "TAX".to_owned(),
                description: format!("Tax {percent}%"),
                kind: LineKind::Tax,
                period: None,
                quantity: Decimal::ONE,
                rate: tax.amount(),
                extended: tax,
                user_days: None,
                days_in_period: None,
                source_line: None,
            });
        }
        Ok(VendorInvoice {
            currency,
            period: Some(period),
            lines,
            overage_basis: basis,
            stated_total: None,
        })
    }
}

/// Σ user-days per SKU over reports (any level: they agree per SKU).
fn user_days_by_sku(reports: &[&UsageReport]) -> Result<BTreeMap<String, Quantity>> {
    let mut totals: BTreeMap<String, Quantity> = BTreeMap::new();
    for report in reports {
        for (sku, q) in report.quantity_by_sku()? {
            let slot = totals.entry(sku.to_owned()).or_default();
            *slot = checked::add(*slot, q, "Σ user-days").for_subject(|| format!("SKU {sku} of the usage reports"))?;
        }
    }
    Ok(totals)
}
