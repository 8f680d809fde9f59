//! [`Reconciler`]: the reconciliation of one period, as a builder over the wholesale rate card.

use super::{Reconciliation, invoice_checks, matching};
use crate::error::{Error, Result, RowOrigin};
use crate::invoice::VendorInvoice;
use crate::money::{Money, RoundingPolicy};
use crate::quantity::Quantity;
use crate::rates::WholesaleRateCard;
use crate::report::{ReportLevel, UsageReport, billing_period};

/// Compares the partner's expected usage with the vendor's USER reports, and those reports with
/// the vendor invoice (SPEC.md §6): a builder over the wholesale rate card (which prices every
/// finding), ended by [`Reconciler::run`].
///
/// **Usage.** Per (customer org, subscriber, SKU), quantities summed over locations and licenses,
/// the expected report against every vendor report together (the partner's and every
/// sub-partner's):
///
/// - on both sides, further apart than the [tolerance](Reconciler::tolerance) →
///   `quantity_mismatch`;
/// - only expected → `missing_from_vendor`; only at the vendor → `unexpected_vendor_usage`;
/// - but for one (customer, subscriber), SKUs only expected and SKUs only at the vendor are paired
///   into `sku_mismatch` findings: both lists in SKU order, the first expected-only SKU with the
///   first vendor-only SKU, and so on; the SKUs left over are missing or unexpected.
///
/// A quantity that sums to zero is no usage. The money impact of a usage finding is the
/// difference in user-days / days in the period × the SKU's uncommitted wholesale rate, rounded
/// like an invoice line; for `sku_mismatch`, the vendor's quantity at the vendor's SKU's rate
/// minus the expected quantity at the expected SKU's rate.
///
/// **Invoice** (when given with [`Reconciler::invoice`]). Per usage SKU, the invoice's quantity
/// against `round(Σ vendor user-days / days in the period, 4)` → `invoice_quantity_mismatch` when
/// they differ by 0.0001 user-months or more (a SKU billed without report usage and report usage
/// not billed included; skipped for a committed invoice that lists no usage lines). Every line
/// whose extended amount is not `round(quantity × rate)` to the minor unit, and a stated total
/// ([`Reconciler::stated_total`], else the invoice's own) that is not the sum of the lines →
/// `invoice_arithmetic`, the money difference being the impact.
///
/// ```
/// use wholesale_billing::{Currency, Decimal, FindingClass, Period, ReadOptions, Reconciler, UsageReport,
///     WholesaleRate, WholesaleRateCard};
/// let may = Period::month(2024, 5)?;
/// let read = |csv: &str| UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?.0.with_period(may);
/// let expected = read("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n\
///                      c1,s1,A-W-WXC-CALL-U,31\nc1,s2,A-W-WXC-CALL-U,10\n")?;
/// let vendor = read("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n\
///                    c1,s1,A-W-WXC-CALL-U,31\nc1,s2,A-W-WXC-CALL-U,10.5\n")?;
/// let mut rates = WholesaleRateCard::new(Currency::USD);
/// rates.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0)))?;
/// let result = Reconciler::new(&rates).run(&expected, [&vendor])?;
/// assert_eq!(result.period, may);
/// assert_eq!(result.findings.len(), 1);
/// let finding = &result.findings[0];
/// assert_eq!(finding.class, FindingClass::QuantityMismatch);
/// assert_eq!(finding.subscriber_id, "s2");
/// assert_eq!(finding.difference.to_string(), "0.5000");
/// // 0.5 user-days / 31 days × 8.00 = 0.129… → 0.13
/// assert_eq!(finding.money_impact.to_string(), "0.13 USD");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a reconciler does nothing until `run`"]
pub struct Reconciler<'a> {
    pub(super) rates: &'a WholesaleRateCard,
    pub(super) invoice: Option<&'a VendorInvoice>,
    /// The largest difference in user-days (per customer, subscriber and SKU) that is not a
    /// `quantity_mismatch`.
    pub(super) tolerance: Quantity,
    pub(super) rounding: RoundingPolicy,
    /// The invoice total to check, overriding the invoice's own `stated_total`.
    pub(super) stated_total: Option<Money>,
    /// The threads of a large reconciliation (1: none spawned).
    pub(super) threads: usize,
}

impl<'a> Reconciler<'a> {
    /// A reconciliation priced at `rates`: usage only, exact (tolerance 0), rounded half-even.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Period, ReadOptions, Reconciler, UsageReport, WholesaleRateCard};
    /// let (report, _) = UsageReport::read_csv("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n".as_bytes(),
    ///                                         &ReadOptions::default())?;
    /// let report = report.with_period(Period::month(2024, 5)?)?;
    /// let rates = WholesaleRateCard::new(Currency::USD);
    /// assert!(Reconciler::new(&rates).run(&report, [&report])?.is_clean());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn new(rates: &'a WholesaleRateCard) -> Self {
        Reconciler {
            rates,
            invoice: None,
            tolerance: Quantity::ZERO,
            rounding: RoundingPolicy::default(),
            stated_total: None,
            threads: crate::parallel::default_threads(),
        }
    }

    /// The threads of a large reconciliation (default: the machine's available parallelism): with
    /// 2 or more, reports of many rows are prepared and merged on two threads; with 1 nothing is
    /// spawned. The result is the same with any.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Period, ReadOptions, Reconciler, UsageReport, WholesaleRateCard};
    /// let (report, _) = UsageReport::read_csv("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n".as_bytes(),
    ///                                         &ReadOptions::default())?;
    /// let report = report.with_period(Period::month(2024, 5)?)?;
    /// let rates = WholesaleRateCard::new(Currency::USD);
    /// assert!(Reconciler::new(&rates).threads(1).run(&report, [&report])?.is_clean());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Also checks the vendor invoice: its usage quantities against the vendor reports and its
    /// arithmetic. The invoice must be in the rate card's currency and, when it says its period,
    /// of the reports' period. `None` (as not calling it): usage only.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, FindingClass, Period, ReadOptions, Reconciler, UsageReport,
    ///     VendorInvoice, WholesaleRate, WholesaleRateCard};
    /// let (report, _) = UsageReport::read_csv("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,31\n".as_bytes(),
    ///                                         &ReadOptions::default())?;
    /// let report = report.with_period(Period::month(2024, 5)?)?;
    /// let mut rates = WholesaleRateCard::new(Currency::USD);
    /// rates.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0)))?;
    /// // One user-month at 8.00, invoiced as 1.5 user-months.
    /// let csv = "sku,quantity,rate,extended_amount,currency\nA-W-WXC-CALL-U,1.5,8.00,12.00,USD\nTOTAL,,,12.00,USD\n";
    /// let (invoice, _) = VendorInvoice::read_csv(csv.as_bytes())?;
    /// let result = Reconciler::new(&rates).invoice(&invoice).run(&report, [&report])?;
    /// assert_eq!(result.findings.len(), 1);
    /// assert_eq!(result.findings[0].class, FindingClass::InvoiceQuantityMismatch);
    /// assert_eq!(result.findings[0].money_impact.to_string(), "4.00 USD");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn invoice(mut self, invoice: impl Into<Option<&'a VendorInvoice>>) -> Self {
        self.invoice = invoice.into();
        self
    }

    /// The largest difference in user-days (per customer, subscriber and SKU) that is not a
    /// `quantity_mismatch` (default 0: the numbers are exact; a negative tolerance is refused by
    /// [`Reconciler::run`]).
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, Period, ReadOptions, Reconciler, UsageReport, WholesaleRate,
    ///     WholesaleRateCard};
    /// let may = Period::month(2024, 5)?;
    /// let read = |csv: &str| UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?.0.with_period(may);
    /// let expected = read("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,31\n")?;
    /// let vendor = read("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,31.0417\n")?;
    /// let mut rates = WholesaleRateCard::new(Currency::USD);
    /// rates.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0)))?;
    /// assert_eq!(Reconciler::new(&rates).run(&expected, [&vendor])?.findings.len(), 1);
    /// let one_hour = Reconciler::new(&rates).tolerance("0.0417".parse()?);
    /// assert!(one_hour.run(&expected, [&vendor])?.is_clean());
    /// assert!(Reconciler::new(&rates).tolerance("-1".parse()?).run(&expected, [&vendor]).is_err());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn tolerance(mut self, user_days: Quantity) -> Self {
        self.tolerance = user_days;
        self
    }

    /// The rounding of user-months and money amounts (half-even by default, as the invoice).
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, Period, ReadOptions, Reconciler, RoundingMode, RoundingPolicy,
    ///     UsageReport, WholesaleRate, WholesaleRateCard};
    /// let may = Period::month(2024, 5)?;
    /// let read = |csv: &str| UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?.0.with_period(may);
    /// let expected = read("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,10\n")?;
    /// let vendor = read("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,10.5\n")?;
    /// let mut rates = WholesaleRateCard::new(Currency::USD);
    /// rates.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0)))?;
    /// let down = RoundingPolicy { line: RoundingMode::Down, ..RoundingPolicy::default() };
    /// let result = Reconciler::new(&rates).rounding(down).run(&expected, [&vendor])?;
    /// // 0.5 user-days / 31 days × 8.00 = 0.129… → 0.12 rounded down
    /// assert_eq!(result.findings[0].money_impact.to_string(), "0.12 USD");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn rounding(mut self, rounding: RoundingPolicy) -> Self {
        self.rounding = rounding;
        self
    }

    /// The total the vendor invoice states, checked against the sum of its lines: overrides the
    /// invoice's own [`VendorInvoice::stated_total`] (its `TOTAL` row when read from CSV), for a
    /// total known apart from the file. Ignored without an [invoice](Reconciler::invoice). `None`
    /// (as not calling it): the invoice's own.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, FindingClass, Money, Period, ReadOptions, Reconciler,
    ///     UsageReport, VendorInvoice, WholesaleRate, WholesaleRateCard};
    /// let (report, _) = UsageReport::read_csv("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,31\n".as_bytes(),
    ///                                         &ReadOptions::default())?;
    /// let report = report.with_period(Period::month(2024, 5)?)?;
    /// let mut rates = WholesaleRateCard::new(Currency::USD);
    /// rates.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0)))?;
    /// let csv = "sku,quantity,rate,extended_amount,currency\nA-W-WXC-CALL-U,1,8.00,8.00,USD\n";
    /// let (invoice, _) = VendorInvoice::read_csv(csv.as_bytes())?;
    /// let reconciler = Reconciler::new(&rates).invoice(&invoice);
    /// assert!(reconciler.run(&report, [&report])?.is_clean());
    /// let stated = reconciler.stated_total(Money::parse("9.00", Currency::USD)?).run(&report, [&report])?;
    /// assert_eq!(stated.findings[0].class, FindingClass::InvoiceArithmetic);
    /// assert_eq!(stated.findings[0].sku, "TOTAL");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn stated_total(mut self, total: impl Into<Option<Money>>) -> Self {
        self.stated_total = total.into();
        self
    }

    /// The findings of `expected` (the partner's own USER report) against `vendor` (the vendor's
    /// USER reports: the partner's and every sub-partner's), and of the invoice if given, sorted
    /// by class, customer, subscriber and SKU. Every report knows its period
    /// ([`UsageReport::with_period`] for a report read from CSV), the same one: the
    /// reconciliation's.
    ///
    /// # Errors
    /// [`Error::InvalidQuantity`] for a negative tolerance; [`Error::WrongReportLevel`] when a
    /// report is not at the USER level; [`Error::ReportWithoutPeriod`] for a report that does not
    /// know its period; [`Error::PeriodMismatch`] when a vendor report or the invoice covers
    /// another period than the expected report; [`Error::CurrencyMismatch`] for an invoice (or
    /// an invoice line, or a stated total) in another currency than the rate card;
    /// [`Error::MissingRate`] for a SKU of the reports or of a usage line the rate card does not
    /// price, naming a vendor report row or invoice line (else an expected row) that needs it;
    /// [`Error::Overflow`] for sums beyond range.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Error, Period, ReadOptions, Reconciler, UsageReport, WholesaleRateCard};
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,31\n";
    /// let (read, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let may = read.clone().with_period(Period::month(2024, 5)?)?;
    /// let june = read.clone().with_period(Period::month(2024, 6)?)?;
    /// let rates = WholesaleRateCard::new(Currency::USD);
    /// let err = Reconciler::new(&rates).run(&may, [&june]).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid period: the vendor report 1 covers 2024-06-01..2024-06-30, \
    ///     the billing period is 2024-05-01..2024-05-31");
    /// let err = Reconciler::new(&rates).run(&may, [&read]).unwrap_err();
    /// assert!(matches!(err, Error::ReportWithoutPeriod { .. }), "{err}");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn run<'r>(
        &self,
        expected: &UsageReport,
        vendor: impl IntoIterator<Item = &'r UsageReport>,
    ) -> Result<Reconciliation> {
        if self.tolerance.ten_thousandths() < 0 {
            return Err(Error::InvalidQuantity {
                input: self.tolerance.to_string(),
                reason: "a tolerance cannot be negative",
            });
        }
        let vendor: Vec<&UsageReport> = vendor.into_iter().collect();
        let mut reports = Vec::with_capacity(vendor.len() + 1);
        reports.push(expected);
        reports.extend_from_slice(&vendor);
        let period = billing_period(&reports, "reconciliation", &[ReportLevel::User], |i| match i {
            0 => "expected usage report".to_owned(),
            i => format!("vendor report {i}"),
        })?;
        let rates = self.rates;
        let currency = rates.currency();
        if let Some(invoice) = self.invoice {
            invoice_checks::check_currency(invoice, currency, period, self)?;
        }
        // A missing rate names a row that needs it: of the invoice, the vendor reports, or the
        // expected report.
        let locate = |e: Error| match &e {
            Error::MissingRate { sku, .. } => {
                let row = self
                    .invoice
                    .and_then(|inv| inv.lines.iter().find(|l| l.sku == *sku))
                    .and_then(|l| l.source_line)
                    .map(|line| RowOrigin {
                        report: "vendor invoice",
                        file: 0,
                        line,
                    })
                    .or_else(|| UsageReport::first_row_of_sku(&vendor, "vendor report", sku))
                    .or_else(|| UsageReport::first_row_of_sku(&[expected], "expected usage report", sku));
                e.needed_by(row)
            }
            _ => e,
        };
        let usage = matching::compare_usage(expected, &vendor, rates, period, self).map_err(locate)?;
        let mut findings = usage.findings;
        if let Some(invoice) = self.invoice {
            invoice_checks::check_invoice(invoice, &usage.vendor_days_by_sku, rates, period, self, &mut findings)
                .map_err(locate)?;
        }
        findings.sort_by(|a, b| {
            (a.class, &a.customer_org_id, &a.subscriber_id, &a.sku, &a.expected_sku).cmp(&(
                b.class,
                &b.customer_org_id,
                &b.subscriber_id,
                &b.sku,
                &b.expected_sku,
            ))
        });
        Ok(Reconciliation {
            period,
            currency,
            findings,
        })
    }
}
