//! Reconciliation (SPEC.md §6): the partner's expected usage against the vendor's USER reports,
//! and the vendor reports against the vendor invoice.
//!
//! A [`Reconciler`] compares usage per (customer org, subscriber, SKU), summed over locations and
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
mod reconciler;
#[cfg(test)]
mod tests;
mod walk;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use output::{ClassSummary, CustomerSummary, ReconciliationSummary, SkuSummary};
pub use reconciler::Reconciler;

use crate::money::{Currency, Money};
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

/// One difference found by a [`Reconciler`].
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

/// The result of a [`Reconciler`]: the period, the currency of the money impacts and the findings,
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
