//! What a reconciliation gives people and programs: a summary, CSV and JSON.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{Finding, FindingClass, Reconciliation};
use crate::checked::Subject;
use crate::csvutil::csv_write_error;
use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::time::Period;

/// Findings and money impact of one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassSummary {
    /// The class.
    pub class: FindingClass,
    /// How many findings.
    pub count: usize,
    /// Their summed money impact.
    pub money_impact: Money,
}

/// Findings and money impact of one customer (usage findings only: invoice findings name no
/// customer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerSummary {
    /// The customer org.
    pub customer_org_id: String,
    /// The partner's external id of the customer (of its first finding).
    pub customer_external_id: String,
    /// How many findings.
    pub count: usize,
    /// Their summed money impact.
    pub money_impact: Money,
}

/// Findings and money impact of one SKU (the finding's `sku`: the vendor's for `sku_mismatch`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkuSummary {
    /// The SKU (`TOTAL` for a stated invoice total).
    pub sku: String,
    /// How many findings.
    pub count: usize,
    /// Their summed money impact.
    pub money_impact: Money,
}

/// Counts and money impact of a [`Reconciliation`]'s findings: in all, per class (every class,
/// in class order, zeros included), per customer and per SKU (both in text order).
///
/// Sums of money are checked: beyond `Decimal`'s range (about 7.9 × 10²⁸)
/// [`Reconciliation::summary`] is an error, never a saturated amount.
///
/// ```
/// use wholesale_billing::{Currency, Period, Reconciliation};
/// let clean = Reconciliation { period: Period::month(2024, 5)?, currency: Currency::USD, findings: vec![] };
/// let summary = clean.summary()?;
/// assert_eq!(summary.findings, 0);
/// assert_eq!(summary.by_class.len(), 6);
/// assert_eq!(summary.to_string(), "reconciliation 2024-05-01..2024-05-31: clean, no findings\n");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReconciliationSummary {
    /// The billing period compared.
    pub period: Period,
    /// The currency of the money impacts.
    pub currency: Currency,
    /// The number of findings.
    pub findings: usize,
    /// The net money impact of every finding.
    pub money_impact: Money,
    /// Per class.
    pub by_class: Vec<ClassSummary>,
    /// Per customer.
    pub by_customer: Vec<CustomerSummary>,
    /// Per SKU.
    pub by_sku: Vec<SkuSummary>,
}

/// `total += amount`, checked; `subject` names the total in an overflow error.
fn add(total: &mut Money, amount: Money, subject: impl FnOnce() -> String) -> Result<()> {
    *total = total.checked_add(amount).for_subject(subject)?;
    Ok(())
}

impl Reconciliation {
    /// Counts and money impact per class, per customer and per SKU.
    ///
    /// # Errors
    /// [`Error::Overflow`](crate::Error::Overflow) when a sum of money impacts does not fit a
    /// `Decimal` (it never saturates); [`Error::CurrencyMismatch`](crate::Error::CurrencyMismatch)
    /// for a finding in another currency than the reconciliation.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Period, Reconciliation};
    /// let clean = Reconciliation { period: Period::month(2024, 5)?, currency: Currency::USD, findings: vec![] };
    /// assert_eq!(clean.summary()?.money_impact.to_string(), "0.00 USD");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn summary(&self) -> Result<ReconciliationSummary> {
        let zero = Money::zero(self.currency);
        let mut total = zero;
        let mut by_class: Vec<ClassSummary> = FindingClass::ALL
            .into_iter()
            .map(|class| ClassSummary {
                class,
                count: 0,
                money_impact: zero,
            })
            .collect();
        let mut by_customer: BTreeMap<&str, CustomerSummary> = BTreeMap::new();
        let mut by_sku: BTreeMap<&str, SkuSummary> = BTreeMap::new();
        for f in &self.findings {
            add(&mut total, f.money_impact, || {
                "the net money impact of the reconciliation".to_owned()
            })?;
            if let Some(c) = by_class.iter_mut().find(|c| c.class == f.class) {
                c.count += 1;
                add(&mut c.money_impact, f.money_impact, || {
                    format!("the money impact of class {}", f.class)
                })?;
            }
            if !f.customer_org_id.is_empty() {
                let c = by_customer
                    .entry(f.customer_org_id.as_str())
                    .or_insert_with(|| CustomerSummary {
                        customer_org_id: f.customer_org_id.clone(),
                        customer_external_id: f.customer_external_id.clone(),
                        count: 0,
                        money_impact: zero,
                    });
                c.count += 1;
                add(&mut c.money_impact, f.money_impact, || {
                    format!("the money impact of customer {}", f.customer_org_id)
                })?;
            }
            let s = by_sku.entry(f.sku.as_str()).or_insert_with(|| SkuSummary {
                sku: f.sku.clone(),
                count: 0,
                money_impact: zero,
            });
            s.count += 1;
            add(&mut s.money_impact, f.money_impact, || {
                format!("the money impact of SKU {}", f.sku)
            })?;
        }
        Ok(ReconciliationSummary {
            period: self.period,
            currency: self.currency,
            findings: self.findings.len(),
            money_impact: total,
            by_class,
            by_customer: by_customer.into_values().collect(),
            by_sku: by_sku.into_values().collect(),
        })
    }

    /// Writes the findings as CSV, one row per finding in order, under the header
    /// `class, customer_org_id, customer_external_id, subscriber_id, sku, expected_sku, expected,
    /// actual, difference, unit, money_impact, currency, detail`.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Period, Reconciliation};
    /// let clean = Reconciliation { period: Period::month(2024, 5)?, currency: Currency::USD, findings: vec![] };
    /// let mut out = Vec::new();
    /// clean.write_csv(&mut out)?;
    /// assert_eq!(String::from_utf8(out).unwrap(),
    ///     "class,customer_org_id,customer_external_id,subscriber_id,sku,expected_sku,expected,actual,\
    ///      difference,unit,money_impact,currency,detail\n");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn write_csv(&self, writer: impl Write) -> Result<()> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(writer);
        let map = |e: csv::Error| csv_write_error("writing the reconciliation", e);
        w.write_record(CSV_COLUMNS).map_err(map)?;
        for f in &self.findings {
            w.write_record([
                f.class.as_str(),
                &f.customer_org_id,
                &f.customer_external_id,
                &f.subscriber_id,
                &f.sku,
                f.expected_sku.as_deref().unwrap_or_default(),
                &f.expected.to_string(),
                &f.actual.to_string(),
                &f.difference.to_string(),
                f.unit.as_str(),
                &f.money_impact.amount().to_string(),
                f.money_impact.currency().code(),
                &f.detail,
            ])
            .map_err(map)?;
        }
        w.flush().map_err(|e| Error::io("writing the reconciliation", e))
    }

    /// Writes the findings as Parquet: the columns of [`Reconciliation::write_csv`] by the same
    /// names, `expected`, `actual` and `difference` exact `Decimal128(38, 4)`, `money_impact` a
    /// `Decimal128(38, s)` at the currency's minor unit, the other columns `Utf8` (an empty field
    /// a null).
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Period, Reconciliation};
    /// let clean = Reconciliation { period: Period::month(2024, 5)?, currency: Currency::USD, findings: vec![] };
    /// let mut parquet = Vec::new();
    /// clean.write_parquet(&mut parquet)?;
    /// assert_eq!(&parquet[..4], b"PAR1");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[cfg(feature = "parquet")]
    pub fn write_parquet(&self, out: impl Write + Send) -> Result<()> {
        use crate::parquet_table::{Kind, csv_to_parquet};
        let mut csv = Vec::new();
        self.write_csv(&mut csv)?;
        let columns = CSV_COLUMNS.map(|name| {
            let kind = match name {
                "expected" | "actual" | "difference" => Kind::Decimal(crate::quantity::QUANTITY_DECIMALS),
                "money_impact" => Kind::Decimal(self.currency.minor_unit()),
                _ => Kind::Text,
            };
            (name, kind)
        });
        csv_to_parquet(csv.as_slice(), out, &columns, "writing the reconciliation as parquet")
    }

    /// The reconciliation as pretty-printed JSON: `{"period", "currency", "summary": {"findings",
    /// "money_impact", "by_class", "by_customer", "by_sku"}, "findings": [...]}`, quantities and
    /// amounts as strings; the summary is [`Reconciliation::summary`], whole.
    ///
    /// # Errors
    /// [`Error::Io`] if serialisation fails (it does not for these types); as
    /// [`Reconciliation::summary`].
    ///
    /// ```
    /// use wholesale_billing::{Currency, Period, Reconciliation};
    /// let clean = Reconciliation { period: Period::month(2024, 5)?, currency: Currency::USD, findings: vec![] };
    /// let json: serde_json::Value = serde_json::from_str(&clean.to_json()?).unwrap();
    /// assert_eq!(json["period"], "2024-05-01..2024-05-31");
    /// assert_eq!(json["currency"], "USD");
    /// assert_eq!(json["findings"].as_array().map(Vec::len), Some(0));
    /// assert_eq!(json["summary"]["money_impact"]["amount"], "0.00");
    /// assert_eq!(json["summary"]["by_class"].as_array().map(Vec::len), Some(6));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn to_json(&self) -> Result<String> {
        #[derive(Serialize)]
        struct Document<'a> {
            period: Period,
            currency: Currency,
            summary: Summary,
            findings: &'a [Finding],
        }
        /// The summary without what the document already says.
        #[derive(Serialize)]
        struct Summary {
            findings: usize,
            money_impact: Money,
            by_class: Vec<ClassSummary>,
            by_customer: Vec<CustomerSummary>,
            by_sku: Vec<SkuSummary>,
        }
        let summary = self.summary()?;
        let document = Document {
            period: self.period,
            currency: self.currency,
            summary: Summary {
                findings: summary.findings,
                money_impact: summary.money_impact,
                by_class: summary.by_class,
                by_customer: summary.by_customer,
                by_sku: summary.by_sku,
            },
            findings: &self.findings,
        };
        serde_json::to_string_pretty(&document).map_err(|source| Error::WriteJson {
            what: "reconciliation",
            source,
        })
    }
}

const CSV_COLUMNS: [&str; 13] = [
    "class",
    "customer_org_id",
    "customer_external_id",
    "subscriber_id",
    "sku",
    "expected_sku",
    "expected",
    "actual",
    "difference",
    "unit",
    "money_impact",
    "currency",
    "detail",
];

/// The customers shown in a summary's text, by largest money impact.
const TOP_CUSTOMERS: usize = 10;

impl fmt::Display for ReconciliationSummary {
    /// A few lines for a terminal: the totals, then per class, per SKU and the customers with the
    /// largest impact.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.findings == 0 {
            return writeln!(f, "reconciliation {}: clean, no findings", self.period);
        }
        writeln!(
            f,
            "reconciliation {}: {} finding(s), net money impact {}",
            self.period,
            self.findings,
            signed(self.money_impact)
        )?;
        writeln!(f, "  by class:")?;
        for c in self.by_class.iter().filter(|c| c.count > 0) {
            writeln!(f, "    {:<26} {:>9}  {:>16}", c.class, c.count, signed(c.money_impact))?;
        }
        writeln!(f, "  by SKU:")?;
        for s in &self.by_sku {
            writeln!(f, "    {:<26} {:>9}  {:>16}", s.sku, s.count, signed(s.money_impact))?;
        }
        if !self.by_customer.is_empty() {
            let mut customers: Vec<&CustomerSummary> = self.by_customer.iter().collect();
            customers.sort_by(|a, b| {
                b.money_impact
                    .amount()
                    .abs()
                    .cmp(&a.money_impact.amount().abs())
                    .then_with(|| a.customer_org_id.cmp(&b.customer_org_id))
            });
            let shown = customers.len().min(TOP_CUSTOMERS);
            writeln!(
                f,
                "  customers ({} with findings; {shown} largest impact shown):",
                customers.len()
            )?;
            for c in customers.into_iter().take(shown) {
                let name = if c.customer_external_id.is_empty() {
                    c.customer_org_id.clone()
                } else {
                    format!("{} ({})", c.customer_external_id, c.customer_org_id)
                };
                writeln!(f, "    {name:<26} {:>9}  {:>16}", c.count, signed(c.money_impact))?;
            }
        }
        Ok(())
    }
}

/// `+12.34 USD` / `-0.50 USD` / `0.00 USD`.
fn signed(m: Money) -> String {
    if m.amount() > Decimal::ZERO {
        format!("+{m}")
    } else {
        m.to_string()
    }
}

impl fmt::Display for Reconciliation {
    /// The summary's text (see [`ReconciliationSummary`]); when the summary cannot be computed
    /// ([`Reconciliation::summary`] fails), one line saying why.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.summary() {
            Ok(summary) => summary.fmt(f),
            Err(e) => writeln!(
                f,
                "reconciliation {}: {} finding(s), no summary: {e}",
                self.period,
                self.findings.len()
            ),
        }
    }
}
