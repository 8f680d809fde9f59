//! The billing computation of a month: usage rows routed to customers and sub-partners, priced
//! by the price book into invoices ([`Billing`]).
// Every sum, difference, product and quotient of money or quantities here goes through
// `crate::checked`: clippy refuses an operator that could panic or overflow.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;

use super::margin::{MinutesMargin, margins};
use super::minutes::{DestinationMinutes, MINUTES_SKU, Minutes};
use super::{BillTo, Invoice, InvoiceLine, LinePricing, MonthlyBilling};
use crate::checked::{self, Subject};
use crate::error::{Error, Result};
use crate::money::{Currency, Money, RoundingPolicy};
use crate::org::Organisation;
use crate::quantity::Quantity;
use crate::rates::{EffectiveTerms, PriceBook, SkuPrice, UnitMode, WholesaleRateCard, price_units};
use crate::rating::CustomerDirectory;
use crate::report::{ReportLevel, UsageReport, billing_period};
use crate::time::Period;

/// Usage of one bill, per (SKU, location): user-days, whole units, and a description; texts
/// borrowed from the report.
#[derive(Default)]
struct BillUsage<'r> {
    /// (SKU, location or "") → (user-days, Σ per-row whole units, report description).
    lines: BTreeMap<(&'r str, &'r str), (Quantity, Decimal, &'r str)>,
    external_id: &'r str,
    /// Destination → the minutes of the price tariff's summary rows.
    minutes: BTreeMap<&'r str, DestinationMinutes>,
    /// Σ `AMOUNT` of the cost tariff's summary rows.
    minutes_cost: Decimal,
    /// Whether the cost tariff's summary has a row for the bill.
    has_minutes_cost: bool,
    /// Whether the bill gets an invoice: it has usage rows or minutes at the price tariff (a
    /// bill with only a minutes cost shows in the margin report alone).
    invoiced: bool,
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
#[derive(Debug, Clone, Copy)]
#[must_use = "a billing builder does nothing until `run`"]
pub struct Billing<'a> {
    org: &'a Organisation,
    book: &'a PriceBook,
    wholesale: Option<&'a WholesaleRateCard>,
    minutes: Option<Minutes<'a>>,
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
            minutes: None,
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

    /// Also the minutes: one minutes line per destination of each customer's rows in the price
    /// tariff's summary, beside the package lines, and, with a wholesale rate card, the minutes
    /// in the margin report (which then needs [`Minutes::cost`]). `None` (as not calling it): no
    /// minutes, and every output exactly as without this method.
    ///
    /// The invoice-level rules are unchanged and apply to the subtotal that now includes the
    /// minutes: discount, minimum charge, tax; the subtotal is the sum of the rounded lines.
    /// Minutes are routed by the customer's owner in `Minutes`' customers: the partner's
    /// customers get them on their invoices (an invoice of minutes only for a customer without
    /// package usage), a sub-partner's customers on the sub-partner's roll-up, one line per
    /// destination whose amount, calls and minutes are the sums of its customers' rounded rows.
    ///
    /// ```
    /// use wholesale_billing::{AssignmentLedger, Billing, CallFields, CallRecord, CallTime, CallType,
    ///     CustomerDirectory, Direction, Event, LoadMode, Minutes, Organisation, Partner, Period, PriceBook, Rating,
    ///     ReportLevel, ReportOptions, Scope, TariffDocument};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "Acme".into(), subscription_id: "S".into() })?;
    /// let mut b = AssignmentLedger::builder(org.clone());
    /// b.push(Event::assign("e1", "2024-05-01T00:00:00Z".parse()?, "s1", "c1", "webex_calling").external_id("C-1"));
    /// let (ledger, _) = b.finish(LoadMode::Strict)?;
    /// let may = Period::month(2024, 5)?;
    /// let tariff = TariffDocument::from_toml_str(r#"
    /// currency = "USD"
    /// [[destinations]]
    /// name = "US"
    /// class = "national"
    /// prefixes = ["1"]
    /// per_minute = "0.10"
    /// initial = 60
    /// subsequent = 60
    /// "#)?.compile()?;
    /// let mut run = Rating::new(&tariff, may).customers(&ledger).start()?;
    /// run.push(&CallRecord::from_fields(&CallFields {
    ///     report_id: "r1", start_time: CallTime::parse("2024-05-02T10:00:00Z")?, duration: 125,
    ///     direction: Direction::Originating, call_type: CallType::SipNational, answered: true,
    ///     called_number: "+1 212 555 0100", calling_number: "", org_uuid: "c1", user_uuid: "u1", site_timezone: 0,
    /// })?)?;
    /// let summary = run.finish(std::io::sink())?.summary;                 // 3 minutes × 0.10
    /// let book = PriceBook::from_toml_str("currency = \"USD\"\ntax_percent = \"10\"\n[skus.\"A-W-WXC-CALL-U\"]\nprice = \"12.00\"")?;
    /// let usage = ledger.usage_report(may, &ReportOptions::new(ReportLevel::User).scope(Scope::Subscription))?;
    /// let customers = CustomerDirectory::from_ledger(&ledger);
    /// let month = Billing::new(&org, &book).minutes(Minutes::new(&summary, &customers)).run(&usage)?;
    /// let invoice = &month.customer_invoices[0];
    /// let minutes = invoice.lines.last().unwrap();
    /// assert!(minutes.is_minutes());
    /// assert_eq!((minutes.description.as_str(), minutes.amount.to_string()), ("calls to US", "0.30 USD".to_owned()));
    /// assert_eq!(invoice.subtotal.to_string(), "12.30 USD");              // 12.00 + 0.30
    /// assert_eq!(invoice.total.to_string(), "13.53 USD");                 // + 10 % tax
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn minutes(mut self, minutes: impl Into<Option<Minutes<'a>>>) -> Self {
        self.minutes = minutes.into();
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
    /// [`Error::TariffCurrencyMismatch`] when a minutes summary is in another currency than the
    /// price book (naming both); [`Error::MinutesOfUnknownCustomer`] for a minutes row of an org
    /// that is no customer of the partner or of a sub-partner; [`Error::MinutesCostMissing`] for
    /// minutes and a wholesale rate card without [`Minutes::cost`];
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
        bill(usage, self, period)
    }
}

/// The computation of [`Billing::run`], its inputs checked.
fn bill(usage: &UsageReport, billing: &Billing<'_>, period: Period) -> Result<MonthlyBilling> {
    let Billing {
        org,
        book,
        wholesale,
        minutes,
        per_location,
    } = *billing;
    if let Some(rates) = wholesale
        && rates.currency() != book.currency
    {
        return Err(Error::CurrencyMismatch {
            expected: book.currency,
            found: rates.currency(),
        });
    }
    if let Some(minutes) = &minutes {
        minutes.check_currency(book.currency)?;
        if wholesale.is_some() && !minutes.has_cost() {
            return Err(Error::MinutesCostMissing);
        }
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
        bill.invoiced = true;
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

    if let Some(minutes) = &minutes {
        route_minutes(minutes, org, &mut customers, &mut resellers)?;
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
    for (org_id, bill) in customers.iter().filter(|(_, b)| b.invoiced) {
        let terms = book.customer_terms(org_id, bill.external_id);
        let bill_to = BillTo::Customer {
            org_id: (*org_id).to_owned(),
            external_id: bill.external_id.to_owned(),
        };
        customer_invoices
            .push(make_invoice(bill_to, issuer, bill, &terms, period, book.currency, rounding).map_err(locate)?);
    }
    let mut sub_partner_invoices = Vec::with_capacity(resellers.len());
    for (index, bill) in resellers.iter().filter(|(_, b)| b.invoiced) {
        let sp = &org.sub_partners[*index];
        let terms = book.sub_partner_terms(&sp.org_id);
        let bill_to = BillTo::SubPartner {
            org_id: sp.org_id.clone(),
            name: sp.name.clone(),
        };
        sub_partner_invoices
            .push(make_invoice(bill_to, issuer, bill, &terms, period, book.currency, rounding).map_err(locate)?);
    }
    let minutes_margins = match minutes {
        Some(_) => Some(minutes_margins(&customers, &resellers, org, book.currency)?),
        None => None,
    };
    let margin = match wholesale {
        Some(rates) => Some(
            margins(
                &customer_invoices,
                &sub_partner_invoices,
                minutes_margins.as_deref(),
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
        minutes_billed: minutes.is_some(),
    })
}

/// Routes the rows of the minutes summaries to the bills of the customers' owners: the partner's
/// customers to their own bills, a sub-partner's customers to the sub-partner's roll-up.
fn route_minutes<'r>(
    minutes: &Minutes<'r>,
    org: &Organisation,
    customers: &mut BTreeMap<&'r str, BillUsage<'r>>,
    resellers: &mut BTreeMap<usize, BillUsage<'r>>,
) -> Result<()> {
    let directory = minutes.customers;
    let owner = |customer: &str| -> Result<Option<usize>> {
        let unknown = || Error::MinutesOfUnknownCustomer {
            customer_org_id: customer.to_owned(),
        };
        let owner = directory.partner_org_id(customer).ok_or_else(unknown)?;
        if owner.is_empty() || owner == org.partner.org_id {
            return Ok(None);
        }
        let index = org.sub_partners.iter().position(|sp| sp.org_id == owner);
        index.map(Some).ok_or_else(unknown)
    };
    fn bill_of<'m, 'r>(
        customers: &'m mut BTreeMap<&'r str, BillUsage<'r>>,
        resellers: &'m mut BTreeMap<usize, BillUsage<'r>>,
        owner: Option<usize>,
        customer: &'r str,
        directory: &'r CustomerDirectory,
    ) -> &'m mut BillUsage<'r> {
        match owner {
            None => {
                let bill = customers.entry(customer).or_default();
                if bill.external_id.is_empty() {
                    bill.external_id = directory.external_id(customer).unwrap_or_default();
                }
                bill
            }
            Some(index) => resellers.entry(index).or_default(),
        }
    }
    for row in minutes.price.rows() {
        let index = owner(&row.customer_org_id)?;
        let bill = bill_of(customers, resellers, index, &row.customer_org_id, directory);
        bill.invoiced = true;
        bill.minutes.entry(row.destination.as_str()).or_default().add(row)?;
    }
    for row in minutes.cost.iter().flat_map(|s| s.rows()) {
        let index = owner(&row.customer_org_id)?;
        let bill = bill_of(customers, resellers, index, &row.customer_org_id, directory);
        bill.has_minutes_cost = true;
        bill.minutes_cost = checked::add(bill.minutes_cost, row.amount, "Σ minutes cost")
            .for_subject(|| format!("the minutes of customer {}", row.customer_org_id))?;
    }
    Ok(())
}

/// The minutes revenue and cost of every bill with minutes, customers then sub-partners.
fn minutes_margins(
    customers: &BTreeMap<&str, BillUsage<'_>>,
    resellers: &BTreeMap<usize, BillUsage<'_>>,
    org: &Organisation,
    currency: Currency,
) -> Result<Vec<MinutesMargin>> {
    let mut out = Vec::new();
    let bills = customers
        .iter()
        .map(|(org_id, bill)| {
            (
                BillTo::Customer {
                    org_id: (*org_id).to_owned(),
                    external_id: bill.external_id.to_owned(),
                },
                bill,
            )
        })
        .chain(resellers.iter().filter_map(|(index, bill)| {
            let sp = org.sub_partners.get(*index)?;
            Some((
                BillTo::SubPartner {
                    org_id: sp.org_id.clone(),
                    name: sp.name.clone(),
                },
                bill,
            ))
        }));
    for (bill_to, bill) in bills {
        if bill.minutes.is_empty() && !bill.has_minutes_cost {
            continue;
        }
        let whom = bill_to.whom();
        let subject = || format!("the minutes of {whom}");
        let revenue = bill
            .minutes
            .values()
            .try_fold(Decimal::ZERO, |sum, m| checked::add(sum, m.amount, "Σ minutes amounts"))
            .for_subject(subject)?;
        // Added to a zero of the currency's scale, so that 0 reads 0.00.
        let zero = Money::zero(currency);
        let revenue = zero.checked_add(Money::new(revenue, currency)).for_subject(subject)?;
        let cost = zero
            .checked_add(Money::new(bill.minutes_cost, currency))
            .for_subject(subject)?;
        out.push(MinutesMargin {
            bill_to,
            invoiced: bill.invoiced,
            revenue,
            cost,
        });
    }
    Ok(out)
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
    for (destination, m) in &bill.minutes {
        let amount = Money::zero(currency)
            .checked_add(Money::new(m.amount, currency))
            .for_subject(|| format!("the minutes to {destination} of {whom}"))?;
        let derivation = match bill_to {
            BillTo::Customer { .. } => format!(
                "{} call{}, {} billable minutes ({} covered by allowances), rated call by call: amount {}",
                m.calls,
                if m.calls == 1 { "" } else { "s" },
                m.billable,
                m.covered,
                amount.amount()
            ),
            BillTo::SubPartner { .. } => format!(
                "{} call{} of {} customer{}, {} billable minutes ({} covered by allowances): Σ of the customers' \
                 rounded amounts = {}",
                m.calls,
                if m.calls == 1 { "" } else { "s" },
                m.rows,
                if m.rows == 1 { "" } else { "s" },
                m.billable,
                m.covered,
                amount.amount()
            ),
        };
        lines.push(InvoiceLine {
            sku: MINUTES_SKU.to_owned(),
            description: format!("calls to {destination}"),
            location_id: None,
            user_days: Quantity::ZERO,
            days_in_period: days,
            unit_mode: terms.unit_mode,
            units: m.billable,
            pricing: LinePricing::Minutes {
                destination: (*destination).to_owned(),
                calls: m.calls,
                billable_minutes: m.billable,
                covered_minutes: m.covered,
            },
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
