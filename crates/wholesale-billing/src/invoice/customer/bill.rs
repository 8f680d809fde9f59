//! The billing computation of a month: usage rows routed to customers and sub-partners, priced
//! by the price book into invoices ([`bill_month`]).
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
use crate::report::{ReportLevel, UsageReport};
use crate::time::Period;

/// Options of [`bill_month`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BillingOptions {
    /// One line per SKU and location instead of per SKU (not for tiered SKUs, whose tiers apply to
    /// the customer's whole quantity of the SKU).
    pub per_location: bool,
}

/// Usage of one bill, per (SKU, location): user-days, whole units, and a description; texts
/// borrowed from the report.
#[derive(Default)]
struct BillUsage<'r> {
    /// (SKU, location or "") → (user-days, Σ per-row whole units, report description).
    lines: BTreeMap<(&'r str, &'r str), (Quantity, Decimal, &'r str)>,
    external_id: &'r str,
}

/// Bills a month: one invoice per customer of the partner and one roll-up per sub-partner, from a
/// USER or CUSTOMER usage report of the whole subscription (or of the partner only), the price book
/// and, for margins, the wholesale rate card.
///
/// Per customer and SKU: units are `round(Σ user-days / days, 4)` (prorated) or `Σ ceil(user-days
/// / days)` over the report's rows (whole units); the line is `round(price(units))` with flat,
/// volume or graduated prices; subtotal = Σ lines; discount = `round(subtotal × d%)`; a top-up
/// brings subtotal − discount to the minimum charge; tax = `round(net × t%)`; total = net + tax.
/// Rows are routed by `PARTNER_ORG_ID`: the partner's (or empty) to customer invoices, a
/// sub-partner's to that sub-partner's roll-up.
///
/// # Errors
/// [`Error::MissingPrice`] for a SKU without a price and [`Error::MissingRate`] for a SKU without
/// a wholesale rate (nothing is priced at zero silently), each naming the first row that needs it
/// when the report was read from CSV; [`Error::WrongReportLevel`] for a PARTNER level report;
/// [`Error::PeriodMismatch`] or [`Error::RowsOutsidePeriod`] for a report of another period;
/// [`Error::UnknownRowOrg`] for a row of an org that is neither the partner nor a sub-partner;
/// [`Error::TiersPerLocation`] for per-location lines of a tiered SKU; [`Error::CurrencyMismatch`]
/// when the price book and the rate card differ in currency.
///
/// ```
/// use wholesale_billing::{bill_month, BillingOptions, Organisation, Partner, Period, PriceBook,
///     ReadOptions, UsageReport};
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
/// let month = bill_month(&usage, &org, &book, None, Period::month(2024, 5)?, &BillingOptions::default())?;
/// let invoice = &month.customer_invoices[0];
/// assert_eq!(invoice.lines[0].units.to_string(), "1.5000");       // 46.5 user-days / 31 days
/// assert_eq!(invoice.subtotal.to_string(), "18.00 USD");
/// assert_eq!(invoice.total.to_string(), "19.80 USD");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn bill_month(
    usage: &UsageReport,
    org: &Organisation,
    book: &PriceBook,
    wholesale: Option<&WholesaleRateCard>,
    period: Period,
    options: &BillingOptions,
) -> Result<MonthlyBilling> {
    if usage.level() == ReportLevel::Partner {
        return Err(Error::WrongReportLevel {
            purpose: "customer billing",
            report: "usage report".to_owned(),
            expected: &[ReportLevel::User, ReportLevel::Customer],
            found: usage.level(),
        });
    }
    usage.check_period(period, "usage report")?;
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
        let location = if options.per_location { row.location_id } else { "" };
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
