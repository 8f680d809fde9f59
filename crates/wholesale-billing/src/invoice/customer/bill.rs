//! The billing computation of a month: usage rows routed to customers and sub-partners, priced
//! by the price book into invoices ([`Billing`]).
// Every sum, difference, product and quotient of money or quantities here goes through
// `crate::checked`: clippy refuses an operator that could panic or overflow.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;

use super::margin::margins;
use super::{BillTo, Invoice, InvoiceLine, LinePricing, MonthlyBilling};
use crate::checked::{self, Subject};
use crate::error::{Error, Result};
use crate::money::{Currency, Money, RoundingPolicy};
use crate::org::Organisation;
use crate::quantity::Quantity;
use crate::rates::{EffectiveTerms, PriceBook, SkuPrice, UnitMode, WholesaleRateCard, price_units};
use crate::report::{ReportLevel, UsageReport, billing_period};
use crate::time::Period;

/// Usage of one bill, per (SKU, location): user-days, whole units, and a description; texts
/// borrowed from the report.
#[derive(Default)]
struct BillUsage<'r> {
    /// (SKU, location or "") → (user-days, Σ per-row whole units, report description).
    lines: BTreeMap<(&'r str, &'r str), (Quantity, Decimal, &'r str)>,
    external_id: &'r str,
}

/// Bills a month: one invoice per customer of the partner and one roll-up per sub-partner, from a
/// USER or CUSTOMER usage report of the whole subscription (or of the partner only) and the price
/// book; with a wholesale rate card ([`Billing::wholesale`]), the margins too. A builder, ended by
/// [`Billing::run`].
///
/// Per customer and SKU: units are `round(Σ user-days / days, 4)` (prorated) or `Σ ceil(user-days
/// / days)` over the report's rows (whole units); the line is `round(price(units))` with flat,
/// volume or graduated prices; subtotal = Σ lines; discount = `round(subtotal × d%)`; a top-up
/// brings subtotal − discount to the minimum charge; tax = `round(net × t%)`; total = net + tax.
/// Rows are routed by `PARTNER_ORG_ID`: the partner's (or empty) to customer invoices, a
/// sub-partner's to that sub-partner's roll-up.
///
/// ```
/// use wholesale_billing::{Billing, Organisation, Partner, Period, PriceBook, ReadOptions, UsageReport};
/// let org = Organisation::new(Partner { org_id: "p".into(), name: "Acme".into(), subscription_id: "S".into() })?;
/// let book = PriceBook::from_toml_str(r#"
///     currency = "USD"
///     tax_percent = "10"
///     [skus."A-W-WXC-CALL-U"]
///     price = "12.00"
/// "#)?;
/// let csv = "CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,SUBSCRIBER_ID,SKU,QUANTITY\n\
///            c1,CUST-1,s1,A-W-WXC-CALL-U,31\nc1,CUST-1,s2,A-W-WXC-CALL-U,15.5\n";
/// let (usage, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
/// let usage = usage.with_period(Period::month(2024, 5)?)?;
/// let month = Billing::new(&org, &book).run(&usage)?;
/// let invoice = &month.customer_invoices[0];
/// assert_eq!(invoice.lines[0].units.to_string(), "1.5000");       // 46.5 user-days / 31 days
/// assert_eq!(invoice.subtotal.to_string(), "18.00 USD");
/// assert_eq!(invoice.total.to_string(), "19.80 USD");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "a billing builder does nothing until `run`"]
pub struct Billing<'a> {
    org: &'a Organisation,
    book: &'a PriceBook,
    wholesale: Option<&'a WholesaleRateCard>,
    per_location: bool,
}

impl<'a> Billing<'a> {
    /// The billing of `org`'s customers and sub-partners at the prices of `book`: one line per
    /// SKU, no margins.
    ///
    /// ```
    /// use wholesale_billing::{Billing, Organisation, Partner, Period, PriceBook, ReadOptions, UsageReport};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "Acme".into(), subscription_id: "S".into() })?;
    /// let book = PriceBook::from_toml_str("currency = \"EUR\"")?;
    /// let (none, _) = UsageReport::read_csv("CUSTOMER_ORG_ID,SKU,QUANTITY\n".as_bytes(), &ReadOptions::default())?;
    /// let month = Billing::new(&org, &book).run(&none.with_period(Period::month(2024, 5)?)?)?;
    /// assert!(month.customer_invoices.is_empty() && month.margin.is_none());
    /// assert_eq!(month.grand_total()?.to_string(), "0.00 EUR");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn new(org: &'a Organisation, book: &'a PriceBook) -> Self {
        Billing {
            org,
            book,
            wholesale: None,
            per_location: false,
        }
    }

    /// Also the margin report: revenue against the wholesale cost at `rates` (in the price
    /// book's currency), per customer, sub-partner and SKU. `None` (as not calling it): no
    /// margins.
    ///
    /// ```
    /// use wholesale_billing::{Billing, Currency, Decimal, Organisation, Partner, Period, PriceBook, ReadOptions,
    ///     UsageReport, WholesaleRate, WholesaleRateCard};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "Acme".into(), subscription_id: "S".into() })?;
    /// let book = PriceBook::from_toml_str("currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\nprice = \"12.00\"")?;
    /// let mut rates = WholesaleRateCard::new(Currency::USD);
    /// rates.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0)))?;
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,31\n";
    /// let (usage, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let usage = usage.with_period(Period::month(2024, 5)?)?;
    /// let month = Billing::new(&org, &book).wholesale(&rates).run(&usage)?;
    /// let margin = month.margin.expect("a rate card gives margins");
    /// assert_eq!(margin.rows[0].margin.to_string(), "4.00 USD");    // 12.00 − 8.00
    /// let none: Option<&WholesaleRateCard> = None;
    /// assert!(Billing::new(&org, &book).wholesale(none).run(&usage)?.margin.is_none());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn wholesale(mut self, rates: impl Into<Option<&'a WholesaleRateCard>>) -> Self {
        self.wholesale = rates.into();
        self
    }

    /// One line per SKU and location (`true`) instead of per SKU (the default); not for tiered
    /// SKUs, whose tiers apply to the customer's whole quantity of the SKU.
    ///
    /// ```
    /// use wholesale_billing::{Billing, Organisation, Partner, Period, PriceBook, ReadOptions, UsageReport};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "Acme".into(), subscription_id: "S".into() })?;
    /// let book = PriceBook::from_toml_str("currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\nprice = \"12.00\"")?;
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY,LOCATION_ID\n\
    ///            c1,s1,A-W-WXC-CALL-U,31,paris\nc1,s2,A-W-WXC-CALL-U,31,lyon\n";
    /// let (usage, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let usage = usage.with_period(Period::month(2024, 5)?)?;
    /// let month = Billing::new(&org, &book).per_location(true).run(&usage)?;
    /// let locations: Vec<_> = month.customer_invoices[0].lines.iter().map(|l| l.location_id.as_deref()).collect();
    /// assert_eq!(locations, [Some("lyon"), Some("paris")]);
    /// assert_eq!(Billing::new(&org, &book).run(&usage)?.customer_invoices[0].lines.len(), 1);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn per_location(mut self, per_location: bool) -> Self {
        self.per_location = per_location;
        self
    }

    /// The month's invoices (and margins) of `usage`: a USER or CUSTOMER report that knows its
    /// period ([`UsageReport::with_period`] for a report read from CSV), the period billed.
    ///
    /// # Errors
    /// [`Error::WrongReportLevel`] for a PARTNER level report; [`Error::ReportWithoutPeriod`] for
    /// a report that does not know its period; [`Error::MissingPrice`] for a SKU without a price
    /// and [`Error::MissingRate`] for a SKU without a wholesale rate (nothing is priced at zero
    /// silently), each naming the first row that needs it when the report was read from CSV;
    /// [`Error::UnknownRowOrg`] for a row of an org that is neither the partner nor a
    /// sub-partner; [`Error::TiersPerLocation`] for per-location lines of a tiered SKU;
    /// [`Error::CurrencyMismatch`] when the price book and the rate card differ in currency;
    /// [`Error::Overflow`] for amounts beyond range.
    ///
    /// ```
    /// use wholesale_billing::{Billing, Error, Organisation, Partner, PriceBook, ReadOptions, UsageReport};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "Acme".into(), subscription_id: "S".into() })?;
    /// let book = PriceBook::from_toml_str("currency = \"USD\"")?;
    /// let (partner_level, _) = UsageReport::read_csv("SKU,QUANTITY\nA-W-WXC-CALL-U,31\n".as_bytes(), &ReadOptions::default())?;
    /// let err = Billing::new(&org, &book).run(&partner_level).unwrap_err();
    /// assert!(matches!(err, Error::WrongReportLevel { .. }), "{err}");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn run(&self, usage: &UsageReport) -> Result<MonthlyBilling> {
        let levels = &[ReportLevel::User, ReportLevel::Customer];
        let period = billing_period(&[usage], "customer billing", levels, |_| "usage report".to_owned())?;
        bill(usage, self.org, self.book, self.wholesale, period, self.per_location)
    }
}

/// The computation of [`Billing::run`], its inputs checked.
fn bill(
    usage: &UsageReport,
    org: &Organisation,
    book: &PriceBook,
    wholesale: Option<&WholesaleRateCard>,
    period: Period,
    per_location: bool,
) -> Result<MonthlyBilling> {
    if let Some(rates) = wholesale
        && rates.currency() != book.currency
    {
        return Err(Error::CurrencyMismatch {
            expected: book.currency,
            found: rates.currency(),
        });
    }
    let days = period.days();
    let mut customers: BTreeMap<&str, BillUsage> = BTreeMap::new();
    let mut resellers: BTreeMap<usize, BillUsage> = BTreeMap::new();
    for (i, row) in usage.rows().enumerate() {
        let bill = if row.partner_org_id.is_empty() || row.partner_org_id == org.partner.org_id {
            let bill = customers.entry(row.customer_org_id).or_default();
            if bill.external_id.is_empty() {
                bill.external_id = row.customer_external_id;
            }
            bill
        } else {
            let index = org
                .sub_partners
                .iter()
                .position(|sp| sp.org_id == row.partner_org_id)
                .ok_or_else(|| Error::UnknownRowOrg {
                    org_id: row.partner_org_id.to_owned(),
                    customer_org_id: row.customer_org_id.to_owned(),
                    row: usage.row_origin(i, "usage report"),
                })?;
            resellers.entry(index).or_default()
        };
        let location = if per_location { row.location_id } else { "" };
        let entry = bill
            .lines
            .entry((row.sku, location))
            .or_insert((Quantity::ZERO, Decimal::ZERO, row.description));
        let subject = || format!("SKU {} of customer {}", row.sku, row.customer_org_id);
        entry.0 = checked::add(entry.0, row.quantity, "Σ user-days").for_subject(subject)?;
        let whole = whole_units(row.quantity, days).and_then(|w| checked::add(entry.1, w, "Σ whole units"));
        entry.1 = whole.for_subject(subject)?;
    }

    // A missing price or rate names the first usage row that needs it.
    let locate = |e: Error| match &e {
        Error::MissingPrice { sku, .. } | Error::MissingRate { sku, .. } => {
            let row = UsageReport::first_row_of_sku(&[usage], "usage report", sku);
            e.needed_by(row)
        }
        _ => e,
    };
    let issuer = (&org.partner.org_id, &org.partner.name);
    let rounding = &book.rounding;
    let mut customer_invoices = Vec::with_capacity(customers.len());
    for (org_id, bill) in &customers {
        let terms = book.customer_terms(org_id, bill.external_id);
        let bill_to = BillTo::Customer {
            org_id: (*org_id).to_owned(),
            external_id: bill.external_id.to_owned(),
        };
        customer_invoices
            .push(make_invoice(bill_to, issuer, bill, &terms, period, book.currency, rounding).map_err(locate)?);
    }
    let mut sub_partner_invoices = Vec::with_capacity(resellers.len());
    for (index, bill) in &resellers {
        let sp = &org.sub_partners[*index];
        let terms = book.sub_partner_terms(&sp.org_id);
        let bill_to = BillTo::SubPartner {
            org_id: sp.org_id.clone(),
            name: sp.name.clone(),
        };
        sub_partner_invoices
            .push(make_invoice(bill_to, issuer, bill, &terms, period, book.currency, rounding).map_err(locate)?);
    }
    let margin = match wholesale {
        Some(rates) => Some(
            margins(
                &customer_invoices,
                &sub_partner_invoices,
                rates,
                book.currency,
                rounding,
            )
            .map_err(locate)?,
        ),
        None => None,
    };
    Ok(MonthlyBilling {
        period,
        currency: book.currency,
        customer_invoices,
        sub_partner_invoices,
        margin,
    })
}

/// `ceil(user-days / days)` of one report row.
fn whole_units(user_days: Quantity, days: u32) -> Result<Decimal> {
    checked::div(user_days.to_decimal(), Decimal::from(days), "user-days / days").map(|units| units.ceil())
}

fn make_invoice(
    bill_to: BillTo,
    (issuer_org_id, issuer_name): (&String, &String),
    bill: &BillUsage<'_>,
    terms: &EffectiveTerms<'_>,
    period: Period,
    currency: Currency,
    rounding: &RoundingPolicy,
) -> Result<Invoice> {
    let days = period.days();
    let whom = bill_to.whom();
    let mut lines = Vec::with_capacity(bill.lines.len());
    for ((sku, location), (user_days, whole, report_description)) in &bill.lines {
        let subject = || format!("SKU {sku} of {whom}");
        if !user_days.is_positive() {
            continue;
        }
        let entry = terms.sku(sku)?;
        if !location.is_empty() && matches!(entry.price, SkuPrice::Tiered { .. }) {
            return Err(Error::TiersPerLocation { sku: (*sku).to_owned() });
        }
        let units = match terms.unit_mode {
            UnitMode::Prorated => rounding.user_months(*user_days, period).for_subject(subject)?,
            UnitMode::WholeUnits => *whole,
        };
        let (exact, bands) = price_units(&entry.price, units).for_subject(subject)?;
        let amount = rounding.line(exact, currency);
        let units_text = match terms.unit_mode {
            UnitMode::Prorated => format!("{user_days} user-days / {days} days = {units} user-months"),
            UnitMode::WholeUnits => format!("{user_days} user-days, whole units per row = {units} units"),
        };
        let (pricing, derivation) = match (&entry.price, bands.is_empty()) {
            (SkuPrice::Flat(price), _) => (
                LinePricing::Flat { price: *price },
                format!("{units_text} × {price} = {exact} → {}", amount.amount()),
            ),
            (SkuPrice::Tiered { kind, .. }, _) => {
                let mut text = format!("{units_text}; {kind} tiers:").to_lowercase();
                for b in &bands {
                    let _ = write!(text, " band {} {} × {} = {};", b.band, b.units, b.price, b.amount);
                }
                let _ = write!(text, " Σ {exact} → {}", amount.amount());
                (LinePricing::Tiered { tiers: *kind, bands }, text)
            }
        };
        lines.push(InvoiceLine {
            sku: (*sku).to_owned(),
            description: if entry.description.is_empty() {
                (*report_description).to_owned()
            } else {
                entry.description.clone()
            },
            location_id: (!location.is_empty()).then(|| (*location).to_owned()),
            user_days: *user_days,
            days_in_period: days,
            unit_mode: terms.unit_mode,
            units,
            pricing,
            amount,
            derivation,
        });
    }
    let subject = || format!("the invoice of {whom}");
    let subtotal = Money::sum(lines.iter().map(|l| l.amount), currency).for_subject(subject)?;
    let discount =
        checked::percent_of(subtotal.amount(), terms.discount_percent, "subtotal × discount %").for_subject(subject)?;
    let discount = rounding.line(discount, currency);
    let after_discount = subtotal.checked_sub(discount).for_subject(subject)?;
    let minimum_charge = rounding.line(terms.minimum_charge, currency);
    let minimum_top_up = if after_discount.amount() < minimum_charge.amount() {
        minimum_charge.checked_sub(after_discount).for_subject(subject)?
    } else {
        Money::zero(currency)
    };
    let net = after_discount.checked_add(minimum_top_up).for_subject(subject)?;
    let tax = checked::percent_of(net.amount(), terms.tax_percent, "net × tax %").for_subject(subject)?;
    let tax = rounding.tax(tax, currency);
    let total = rounding.total(net.checked_add(tax).for_subject(subject)?.amount(), currency);
    Ok(Invoice {
        bill_to,
        issuer_org_id: issuer_org_id.clone(),
        issuer_name: issuer_name.clone(),
        period,
        currency,
        lines,
        subtotal,
        discount_percent: terms.discount_percent,
        discount,
        minimum_charge,
        minimum_top_up,
        tax_percent: terms.tax_percent,
        tax,
        total,
    })
}
