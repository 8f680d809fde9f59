//! Reconciliation (SPEC.md §6): the partner's expected usage against the vendor's USER reports,
//! and the vendor reports against the vendor invoice.
//!
//! [`reconcile`] compares usage per (customer org, subscriber, SKU), summed over locations and
//! licenses, and checks the invoice's quantities and arithmetic. Every difference becomes a
//! [`Finding`] with both quantities, the difference and what it costs at the wholesale rate. The
//! result, a [`Reconciliation`], writes itself as CSV or JSON and sums itself up
//! ([`Reconciliation::summary`]) for people.
//!
//! The comparison is built for a month of a million subscribers: each report's strings are
//! translated once into one shared numbering (reports read from different files have different
//! string tables), then the rows are sorted by number and merged; no text is copied per row.

mod invoice_checks;
mod matching;
mod output;
#[cfg(test)]
mod tests;
mod walk;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use output::{ClassSummary, CustomerSummary, ReconciliationSummary, SkuSummary};

use crate::error::{Error, Result, RowOrigin};
use crate::invoice::VendorInvoice;
use crate::money::{Currency, Money, RoundingPolicy};
use crate::quantity::Quantity;
use crate::rates::WholesaleRateCard;
use crate::report::{ReportLevel, UsageReport};
use crate::time::Period;

string_enum! {
    /// What kind of difference a [`Finding`] reports.
    ///
    /// Findings are sorted by class in the order of [`FindingClass::ALL`].
    ///
    /// ```
    /// use wholesale_billing::FindingClass;
    /// let class: FindingClass = "sku_mismatch".parse()?;
    /// assert_eq!(class, FindingClass::SkuMismatch);
    /// assert_eq!(class.to_string(), "sku_mismatch");
    /// assert_eq!(serde_json::to_string(&class).unwrap(), "\"sku_mismatch\"");
    /// assert!("typo".parse::<FindingClass>().is_err());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum FindingClass("finding class") {
        /// Expected usage of a (customer, subscriber, SKU) that no vendor report has.
        MissingFromVendor = "missing_from_vendor",
        /// Vendor-reported usage of a (customer, subscriber, SKU) the partner's data does not have.
        UnexpectedVendorUsage = "unexpected_vendor_usage",
        /// Both have the (customer, subscriber, SKU), with quantities further apart than the tolerance.
        QuantityMismatch = "quantity_mismatch",
        /// The vendor reports a subscriber under another SKU than the partner's data.
        SkuMismatch = "sku_mismatch",
        /// The invoice's quantity of a usage SKU differs from the vendor reports' user-months.
        InvoiceQuantityMismatch = "invoice_quantity_mismatch",
        /// An invoice line whose amount is not its quantity × rate, or a total that is not the sum of
        /// the lines.
        InvoiceArithmetic = "invoice_arithmetic",
    }
}

impl FindingClass {
    /// The unit of the quantities of a finding of this class.
    ///
    /// ```
    /// use wholesale_billing::{FindingClass, FindingUnit};
    /// assert_eq!(FindingClass::QuantityMismatch.unit(), FindingUnit::UserDays);
    /// assert_eq!(FindingClass::InvoiceQuantityMismatch.unit(), FindingUnit::UserMonths);
    /// assert_eq!(FindingClass::InvoiceArithmetic.unit(), FindingUnit::Money);
    /// ```
    pub fn unit(self) -> FindingUnit {
        match self {
            FindingClass::InvoiceQuantityMismatch => FindingUnit::UserMonths,
            FindingClass::InvoiceArithmetic => FindingUnit::Money,
            _ => FindingUnit::UserDays,
        }
    }
}

string_enum! {
    /// The unit of a finding's `expected`, `actual` and `difference`.
    ///
    /// ```
    /// use wholesale_billing::FindingUnit;
    /// assert_eq!(FindingUnit::UserMonths.to_string(), "user_months");
    /// assert_eq!(serde_json::to_string(&FindingUnit::Money).unwrap(), "\"money\"");
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum FindingUnit("finding unit") {
        /// Days of usage (the reports' `QUANTITY`).
        UserDays = "user_days",
        /// User-months (the invoice's `QTY`: user-days / days in the period, 4 decimals).
        UserMonths = "user_months",
        /// An amount in the reconciliation's currency.
        Money = "money",
    }
}

/// One difference found by [`reconcile`].
///
/// Usage findings name the customer and subscriber; invoice findings leave them empty and name the
/// invoice line's SKU (`TOTAL` for the invoice total). Quantities and amounts serialise as strings.
///
/// ```
/// use wholesale_billing::{Currency, Decimal, Finding, FindingClass, FindingUnit, Money};
/// let finding = Finding {
///     class: FindingClass::QuantityMismatch,
///     customer_org_id: "c1".into(),
///     customer_external_id: "CUST-1".into(),
///     subscriber_id: "s1".into(),
///     sku: "A-W-WXC-CALL-U".into(),
///     expected_sku: None,
///     expected: "31.0000".parse().unwrap(),
///     actual: "30.0000".parse().unwrap(),
///     difference: "-1.0000".parse().unwrap(),
///     unit: FindingUnit::UserDays,
///     money_impact: Money::parse("-0.26", Currency::USD)?,
///     detail: "...".into(),
/// };
/// let json = serde_json::to_string(&finding).unwrap();
/// assert!(json.contains(r#""difference":"-1.0000""#), "{json}");
/// assert!(json.contains(r#""money_impact":{"amount":"-0.26","currency":"USD"}"#), "{json}");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of difference.
    pub class: FindingClass,
    /// The customer org (empty for invoice findings).
    pub customer_org_id: String,
    /// The partner's external id of the customer (from the partner's data when it has the row).
    pub customer_external_id: String,
    /// The subscriber (empty for invoice findings).
    pub subscriber_id: String,
    /// The SKU concerned; for `sku_mismatch` the vendor's SKU; `TOTAL` for an invoice total.
    pub sku: String,
    /// For `sku_mismatch` only: the SKU the partner's data says.
    pub expected_sku: Option<String>,
    /// What the partner's data (or the recomputation) says.
    #[serde(with = "crate::money::decimal_text")]
    pub expected: Decimal,
    /// What the vendor says.
    #[serde(with = "crate::money::decimal_text")]
    pub actual: Decimal,
    /// `actual − expected`.
    #[serde(with = "crate::money::decimal_text")]
    pub difference: Decimal,
    /// The unit of `expected`, `actual` and `difference`.
    pub unit: FindingUnit,
    /// What the difference costs the partner (positive) or saves it (negative) at the wholesale
    /// rate, rounded like an invoice line.
    pub money_impact: Money,
    /// One human sentence.
    pub detail: String,
}

/// How to reconcile.
///
/// ```
/// use wholesale_billing::{Quantity, ReconcileOptions};
/// let options = ReconcileOptions::default().tolerance("0.0417".parse()?);
/// assert_eq!(options.tolerance, Quantity::from_ten_thousandths(417));
/// assert_eq!(ReconcileOptions::default().tolerance, Quantity::ZERO);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReconcileOptions {
    /// The largest difference in user-days (per customer, subscriber and SKU) that is not a
    /// `quantity_mismatch`. Default 0: the numbers are exact.
    pub tolerance: Quantity,
    /// The rounding of user-months and money amounts (half-even by default, as the invoice).
    pub rounding: RoundingPolicy,
    /// The total the vendor invoice states, checked against the sum of its lines; overrides the
    /// invoice's own [`VendorInvoice::stated_total`] (its `TOTAL` row when read from CSV), for a
    /// total known apart from the file. Ignored when no invoice is given.
    pub stated_invoice_total: Option<Money>,
}

impl ReconcileOptions {
    /// The same options with another tolerance (user-days).
    #[must_use]
    pub fn tolerance(mut self, tolerance: Quantity) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The same options with another rounding policy.
    #[must_use]
    pub fn rounding(mut self, rounding: RoundingPolicy) -> Self {
        self.rounding = rounding;
        self
    }

    /// The same options with the invoice total as stated on the invoice.
    #[must_use]
    pub fn stated_invoice_total(mut self, total: Money) -> Self {
        self.stated_invoice_total = Some(total);
        self
    }
}

/// The result of [`reconcile`]: the period, the currency of the money impacts and the findings,
/// sorted by class, customer, subscriber and SKU.
///
/// Serialises as `{"period": "2024-05-01..2024-05-31", "currency": "USD", "findings": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// The billing period compared.
    pub period: Period,
    /// The currency of every money impact (the rate card's).
    pub currency: Currency,
    /// Every difference found, sorted.
    pub findings: Vec<Finding>,
}

/// Compares the partner's expected usage with the vendor's USER reports, and those reports with
/// the vendor invoice (SPEC.md §6).
///
/// **Usage.** Per (customer org, subscriber, SKU), quantities summed over locations and licenses,
/// `expected` against every vendor report together (the partner's and every sub-partner's):
///
/// - on both sides, further apart than `options.tolerance` → `quantity_mismatch`;
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
/// **Invoice** (when given). Per usage SKU, the invoice's quantity against `round(Σ vendor
/// user-days / days in the period, 4)` → `invoice_quantity_mismatch` when they differ by 0.0001
/// user-months or more (a SKU billed without report usage and report usage not billed included;
/// skipped for a committed invoice that lists no usage lines). Every line whose extended amount
/// is not `round(quantity × rate)` to the minor unit, and a stated total
/// ([`ReconcileOptions::stated_invoice_total`]) that is not the sum of the lines →
/// `invoice_arithmetic`, the money difference being the impact.
///
/// # Errors
/// [`Error::WrongReportLevel`] when a report is not at the USER level; [`Error::PeriodMismatch`]
/// or [`Error::RowsOutsidePeriod`] when a report or the invoice covers another period;
/// [`Error::MissingRate`] for a SKU of the reports or of a usage line the rate card does not
/// price, naming a vendor report row or invoice line (else an expected row) that needs it; [`Error::CurrencyMismatch`] for an invoice (or an
/// invoice line, or a stated total) in another currency than the rate card;
/// [`Error::InvalidQuantity`] for a negative tolerance; [`Error::Overflow`] for sums beyond range.
///
/// ```
/// use wholesale_billing::{Currency, Decimal, FindingClass, Period, ReadOptions, ReconcileOptions,
///     UsageReport, WholesaleRate, WholesaleRateCard, reconcile};
/// let read = |csv: &str| UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).map(|r| r.0);
/// let expected = read("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n\
///                      c1,s1,A-W-WXC-CALL-U,31\nc1,s2,A-W-WXC-CALL-U,10\n")?;
/// let vendor = read("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n\
///                    c1,s1,A-W-WXC-CALL-U,31\nc1,s2,A-W-WXC-CALL-U,10.5\n")?;
/// let mut rates = WholesaleRateCard::new(Currency::USD);
/// rates.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0)))?;
/// let may = Period::month(2024, 5)?;
/// let result = reconcile(&expected, [&vendor], None, &rates, may, &ReconcileOptions::default())?;
/// assert_eq!(result.findings.len(), 1);
/// let finding = &result.findings[0];
/// assert_eq!(finding.class, FindingClass::QuantityMismatch);
/// assert_eq!(finding.subscriber_id, "s2");
/// assert_eq!(finding.difference.to_string(), "0.5000");
/// // 0.5 user-days / 31 days × 8.00 = 0.129… → 0.13
/// assert_eq!(finding.money_impact.to_string(), "0.13 USD");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn reconcile<'a>(
    expected: &UsageReport,
    vendor_reports: impl IntoIterator<Item = &'a UsageReport>,
    vendor_invoice: Option<&VendorInvoice>,
    rates: &WholesaleRateCard,
    period: Period,
    options: &ReconcileOptions,
) -> Result<Reconciliation> {
    if options.tolerance.ten_thousandths() < 0 {
        return Err(Error::InvalidQuantity {
            input: options.tolerance.to_string(),
            reason: "a tolerance cannot be negative",
        });
    }
    let vendor: Vec<&UsageReport> = vendor_reports.into_iter().collect();
    check_report(expected, "expected usage report", period)?;
    for (i, report) in vendor.iter().enumerate() {
        check_report(report, &format!("vendor report {}", i + 1), period)?;
    }
    let currency = rates.currency();
    if let Some(invoice) = vendor_invoice {
        invoice_checks::check_currency(invoice, currency, period, options)?;
    }
    // A missing rate names a row that needs it: of the invoice, the vendor reports, or the
    // expected report.
    let locate = |e: Error| match &e {
        Error::MissingRate { sku, .. } => {
            let row = vendor_invoice
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
    let usage = matching::compare_usage(expected, &vendor, rates, period, options).map_err(locate)?;
    let mut findings = usage.findings;
    if let Some(invoice) = vendor_invoice {
        invoice_checks::check_invoice(
            invoice,
            &usage.vendor_days_by_sku,
            rates,
            period,
            options,
            &mut findings,
        )
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

/// A report to reconcile must be at the USER level and, when it says, of the period.
fn check_report(report: &UsageReport, which: &str, period: Period) -> Result<()> {
    if report.level() != ReportLevel::User {
        return Err(Error::WrongReportLevel {
            purpose: "reconciliation",
            report: which.to_owned(),
            expected: &[ReportLevel::User],
            found: report.level(),
        });
    }
    report.check_period(period, which)
}

impl Reconciliation {
    /// Whether nothing was found.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Period, Reconciliation};
    /// let empty = Reconciliation { period: Period::month(2024, 5)?, currency: Currency::USD, findings: vec![] };
    /// assert!(empty.is_clean());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings of one class.
    ///
    /// ```
    /// use wholesale_billing::{Currency, FindingClass, Period, Reconciliation};
    /// let empty = Reconciliation { period: Period::month(2024, 5)?, currency: Currency::USD, findings: vec![] };
    /// assert_eq!(empty.of_class(FindingClass::SkuMismatch).count(), 0);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn of_class(&self, class: FindingClass) -> impl Iterator<Item = &Finding> + '_ {
        self.findings.iter().filter(move |f| f.class == class)
    }
}
