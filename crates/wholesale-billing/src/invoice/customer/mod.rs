//! Invoices the partner sends: one per customer from its usage and the price book, and one
//! roll-up per sub-partner at the sub-partner's wholesale price; plus the margin against the
//! wholesale cost.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::money::{Currency, Money, RoundingPolicy};
use crate::org::Organisation;
use crate::quantity::Quantity;
use crate::rates::{BandUse, EffectiveTerms, PriceBook, SkuPrice, TierKind, UnitMode, WholesaleRateCard, price_units};
use crate::report::{ReportLevel, UsageReport};
use crate::time::Period;

/// Who an invoice is addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BillTo {
    /// One of the partner's customers.
    Customer {
        /// `CUSTOMER_ORG_ID`.
        org_id: String,
        /// `CUSTOMER_EXTERNAL_ID`, the partner's own id, on every document.
        external_id: String,
    },
    /// A sub-partner, billed for all of its customers' usage.
    SubPartner {
        /// The sub-partner's org id.
        org_id: String,
        /// Its name.
        name: String,
    },
}

impl BillTo {
    /// The org id billed.
    pub fn org_id(&self) -> &str {
        match self {
            BillTo::Customer { org_id, .. } | BillTo::SubPartner { org_id, .. } => org_id,
        }
    }

    /// The external id (customers) or name (sub-partners).
    pub fn label(&self) -> &str {
        match self {
            BillTo::Customer { external_id, .. } => external_id,
            BillTo::SubPartner { name, .. } => name,
        }
    }
}

/// How a line's amount was priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinePricing {
    /// One price per unit.
    Flat {
        /// The price per unit.
        #[serde(with = "rust_decimal::serde::str")]
        price: Decimal,
    },
    /// Volume or graduated tiers, with the bands used.
    Tiered {
        /// Volume or graduated.
        tiers: TierKind,
        /// The units of each band used and their amounts.
        bands: Vec<BandUse>,
    },
}

/// One line of a customer or sub-partner invoice, with how it was derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceLine {
    /// The SKU.
    pub sku: String,
    /// The description (the price book's, else the report's).
    pub description: String,
    /// The location, when lines are split per location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_id: Option<String>,
    /// Σ user-days of the usage rows.
    pub user_days: Quantity,
    /// Days in the billing period.
    pub days_in_period: u32,
    /// Prorated (user-months) or whole units.
    pub unit_mode: UnitMode,
    /// Units billed: user-months (4 decimals) or whole units.
    #[serde(with = "rust_decimal::serde::str")]
    pub units: Decimal,
    /// Flat or tiered pricing.
    pub pricing: LinePricing,
    /// The amount, rounded once to the minor unit.
    pub amount: Money,
    /// The derivation in words and numbers.
    pub derivation: String,
}

/// An invoice of the partner: lines, subtotal, discount, minimum-charge top-up, tax and total.
/// Every amount is rounded at its named stage and the total is the sum of rounded parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    /// Who is billed.
    pub bill_to: BillTo,
    /// The issuer (the partner).
    pub issuer_org_id: String,
    /// The issuer's name.
    pub issuer_name: String,
    /// The usage period billed.
    #[serde(serialize_with = "period_text")]
    pub period: Period,
    /// The currency.
    pub currency: Currency,
    /// The lines, by SKU (and location).
    pub lines: Vec<InvoiceLine>,
    /// Σ line amounts.
    pub subtotal: Money,
    /// Discount percentage applied to the subtotal.
    #[serde(with = "rust_decimal::serde::str")]
    pub discount_percent: Decimal,
    /// The discount, as a non-negative amount subtracted.
    pub discount: Money,
    /// The minimum monthly charge (zero: none).
    pub minimum_charge: Money,
    /// What is added so that the net amount reaches the minimum charge.
    pub minimum_top_up: Money,
    /// Tax percentage.
    #[serde(with = "rust_decimal::serde::str")]
    pub tax_percent: Decimal,
    /// Tax on the net amount.
    pub tax: Money,
    /// subtotal − discount + top-up + tax.
    pub total: Money,
}

fn period_text<S: serde::Serializer>(period: &Period, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(period)
}

impl Invoice {
    /// The amount before tax: subtotal − discount + top-up.
    ///
    /// # Errors
    /// Never for an invoice built by this crate (one currency); typed for safety.
    pub fn net(&self) -> Result<Money> {
        self.subtotal
            .checked_sub(self.discount)?
            .checked_add(self.minimum_top_up)
    }

    /// Writes the invoice as CSV in three blocks separated by an empty line: who and when
    /// (`field,value`), the lines with their derivation, and the amounts (`field,value`).
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_csv(&self, mut writer: impl Write) -> Result<()> {
        let io = |e| Error::io("writing an invoice", e);
        let map = |e: csv::Error| Error::io("writing an invoice", std::io::Error::other(e.to_string()));
        let (kind, org, label) = match &self.bill_to {
            BillTo::Customer { org_id, external_id } => ("customer", org_id, external_id),
            BillTo::SubPartner { org_id, name } => ("sub_partner", org_id, name),
        };
        let mut w = csv_block(&mut writer);
        for (k, v) in [
            ("bill_to", kind.to_owned()),
            ("org_id", org.clone()),
            (if kind == "customer" { "external_id" } else { "name" }, label.clone()),
            ("issuer", format!("{} ({})", self.issuer_name, self.issuer_org_id)),
            ("period", self.period.to_string()),
            ("currency", self.currency.to_string()),
        ] {
            w.write_record([k, v.as_str()]).map_err(map)?;
        }
        w.flush().map_err(io)?;
        drop(w);
        writer.write_all(b"\n").map_err(io)?;
        let mut w = csv_block(&mut writer);
        w.write_record([
            "sku",
            "description",
            "location_id",
            "user_days",
            "days_in_period",
            "unit_mode",
            "units",
            "unit_price",
            "amount",
            "derivation",
        ])
        .map_err(map)?;
        for l in &self.lines {
            let unit_price = match &l.pricing {
                LinePricing::Flat { price } => price.to_string(),
                LinePricing::Tiered { tiers, .. } => format!("{tiers:?} tiers").to_lowercase(),
            };
            w.write_record([
                l.sku.as_str(),
                &l.description,
                l.location_id.as_deref().unwrap_or(""),
                &l.user_days.to_string(),
                &l.days_in_period.to_string(),
                &l.unit_mode.to_string(),
                &l.units.to_string(),
                &unit_price,
                &l.amount.amount().to_string(),
                &l.derivation,
            ])
            .map_err(map)?;
        }
        w.flush().map_err(io)?;
        drop(w);
        writer.write_all(b"\n").map_err(io)?;
        let mut w = csv_block(&mut writer);
        for (k, v) in [
            ("subtotal", self.subtotal),
            ("discount", self.discount),
            ("minimum_top_up", self.minimum_top_up),
            ("tax", self.tax),
            ("total", self.total),
        ] {
            w.write_record([k, &v.amount().to_string()]).map_err(map)?;
        }
        w.flush().map_err(io)
    }
}

/// A CSV writer for one block of a multi-block file.
fn csv_block<W: Write>(writer: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(writer)
}

/// Options of [`bill_month`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BillingOptions {
    /// One line per SKU and location instead of per SKU (not for tiered SKUs, whose tiers apply to
    /// the customer's whole quantity of the SKU).
    pub per_location: bool,
}

/// Revenue, wholesale cost and margin of one customer, sub-partner or SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarginRow {
    /// `customer`, `sub_partner` or `sku`.
    pub dimension: &'static str,
    /// Org id or SKU.
    pub key: String,
    /// External id, name or description.
    pub label: String,
    /// What the partner bills before tax: an invoice's net amount for customers and sub-partners;
    /// for SKUs, the sum of line amounts before invoice-level discounts and minimum-charge top-ups.
    pub revenue: Money,
    /// What Cisco bills the partner for it: `round(round(user-days / days, 4) × wholesale rate)` per SKU.
    pub cost: Money,
    /// Revenue − cost.
    pub margin: Money,
}

/// The month's margins per customer, per sub-partner and per SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarginReport {
    /// The currency (price book and rate card must agree).
    pub currency: Currency,
    /// Rows: customers, then sub-partners, then SKUs.
    pub rows: Vec<MarginRow>,
}

impl MarginReport {
    /// Writes the margin report as CSV.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_csv(&self, writer: impl Write) -> Result<()> {
        let mut w = csv::Writer::from_writer(writer);
        let map = |e: csv::Error| Error::io("writing the margin report", std::io::Error::other(e.to_string()));
        w.write_record(["dimension", "key", "label", "revenue", "cost", "margin", "currency"])
            .map_err(map)?;
        for r in &self.rows {
            w.write_record([
                r.dimension,
                &r.key,
                &r.label,
                &r.revenue.amount().to_string(),
                &r.cost.amount().to_string(),
                &r.margin.amount().to_string(),
                self.currency.code(),
            ])
            .map_err(map)?;
        }
        w.flush().map_err(|e| Error::io("writing the margin report", e))
    }
}

/// A month of the partner's billing: its customers' invoices, its sub-partners' roll-ups and,
/// with a wholesale rate card, the margins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthlyBilling {
    /// The period billed.
    #[serde(serialize_with = "period_text")]
    pub period: Period,
    /// The currency.
    pub currency: Currency,
    /// One invoice per customer of the partner, by customer org id.
    pub customer_invoices: Vec<Invoice>,
    /// One roll-up invoice per sub-partner with usage, in organisation-file order.
    pub sub_partner_invoices: Vec<Invoice>,
    /// Margins, when a wholesale rate card was given.
    pub margin: Option<MarginReport>,
}

impl MonthlyBilling {
    /// Every invoice: customers, then sub-partners.
    pub fn invoices(&self) -> impl Iterator<Item = &Invoice> + '_ {
        self.customer_invoices.iter().chain(&self.sub_partner_invoices)
    }

    /// Writes one summary row per invoice (bill_to, org, label, subtotal, discount, top-up, tax,
    /// total, currency).
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_summary_csv(&self, writer: impl Write) -> Result<()> {
        let mut w = csv::Writer::from_writer(writer);
        let map = |e: csv::Error| Error::io("writing the invoice summary", std::io::Error::other(e.to_string()));
        w.write_record([
            "bill_to",
            "org_id",
            "external_id_or_name",
            "lines",
            "subtotal",
            "discount",
            "minimum_top_up",
            "tax",
            "total",
            "currency",
        ])
        .map_err(map)?;
        for inv in self.invoices() {
            let kind = match inv.bill_to {
                BillTo::Customer { .. } => "customer",
                BillTo::SubPartner { .. } => "sub_partner",
            };
            w.write_record([
                kind,
                inv.bill_to.org_id(),
                inv.bill_to.label(),
                &inv.lines.len().to_string(),
                &inv.subtotal.amount().to_string(),
                &inv.discount.amount().to_string(),
                &inv.minimum_top_up.amount().to_string(),
                &inv.tax.amount().to_string(),
                &inv.total.amount().to_string(),
                inv.currency.code(),
            ])
            .map_err(map)?;
        }
        w.flush().map_err(|e| Error::io("writing the invoice summary", e))
    }

    /// Writes the same summary as [`MonthlyBilling::write_summary_csv`] as pretty-printed JSON:
    /// `{"period", "currency", "grand_total", "invoices": [{"bill_to", "org_id",
    /// "external_id_or_name", "lines", "subtotal", "discount", "minimum_top_up", "tax", "total"}]}`,
    /// amounts as strings.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_summary_json(&self, writer: impl Write) -> Result<()> {
        #[derive(Serialize)]
        struct Row<'a> {
            bill_to: &'static str,
            org_id: &'a str,
            external_id_or_name: &'a str,
            lines: usize,
            #[serde(with = "rust_decimal::serde::str")]
            subtotal: Decimal,
            #[serde(with = "rust_decimal::serde::str")]
            discount: Decimal,
            #[serde(with = "rust_decimal::serde::str")]
            minimum_top_up: Decimal,
            #[serde(with = "rust_decimal::serde::str")]
            tax: Decimal,
            #[serde(with = "rust_decimal::serde::str")]
            total: Decimal,
        }
        #[derive(Serialize)]
        struct Document<'a> {
            period: String,
            currency: Currency,
            #[serde(with = "rust_decimal::serde::str")]
            grand_total: Decimal,
            invoices: Vec<Row<'a>>,
        }
        let invoices = self
            .invoices()
            .map(|inv| Row {
                bill_to: match inv.bill_to {
                    BillTo::Customer { .. } => "customer",
                    BillTo::SubPartner { .. } => "sub_partner",
                },
                org_id: inv.bill_to.org_id(),
                external_id_or_name: inv.bill_to.label(),
                lines: inv.lines.len(),
                subtotal: inv.subtotal.amount(),
                discount: inv.discount.amount(),
                minimum_top_up: inv.minimum_top_up.amount(),
                tax: inv.tax.amount(),
                total: inv.total.amount(),
            })
            .collect();
        let document = Document {
            period: self.period.to_string(),
            currency: self.currency,
            grand_total: self.grand_total()?.amount(),
            invoices,
        };
        serde_json::to_writer_pretty(writer, &document)
            .map_err(|e| Error::io("writing the invoice summary", std::io::Error::other(e.to_string())))
    }

    /// The sum of every invoice's total.
    ///
    /// # Errors
    /// Never for invoices of one book; typed for safety.
    pub fn grand_total(&self) -> Result<Money> {
        Money::sum(self.invoices().map(|i| i.total), self.currency)
    }
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
/// [`Error::Pricing`] for a SKU without a price (nothing is priced at zero silently), a PARTNER
/// level report, a report of another period, a row of an org that is neither the partner nor a
/// sub-partner, per-location lines of a tiered SKU; [`Error::CurrencyMismatch`] when the price book
/// and the rate card differ in currency.
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
        return Err(Error::Pricing(
            "customer invoices need a USER or CUSTOMER report, not a PARTNER report".into(),
        ));
    }
    usage.check_period(period, "usage report")?;
    if let Some(rates) = wholesale
        && rates.currency() != book.currency
    {
        return Err(Error::CurrencyMismatch {
            expected: book.currency.code().to_owned(),
            found: rates.currency().code().to_owned(),
        });
    }
    let days = period.days();
    let mut customers: BTreeMap<&str, BillUsage> = BTreeMap::new();
    let mut resellers: BTreeMap<usize, BillUsage> = BTreeMap::new();
    for row in usage.rows() {
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
                .ok_or_else(|| {
                    Error::Pricing(format!(
                        "the usage report has a row of org {} (customer {}), neither the partner nor a sub-partner",
                        row.partner_org_id, row.customer_org_id
                    ))
                })?;
            resellers.entry(index).or_default()
        };
        let location = if options.per_location { row.location_id } else { "" };
        let entry = bill
            .lines
            .entry((row.sku, location))
            .or_insert((Quantity::ZERO, Decimal::ZERO, row.description));
        entry.0 = entry.0.checked_add(row.quantity).ok_or(Error::Overflow("user-days"))?;
        entry.1 += whole_units(row.quantity, days);
    }

    let issuer = (&org.partner.org_id, &org.partner.name);
    let rounding = &book.rounding;
    let mut customer_invoices = Vec::with_capacity(customers.len());
    for (org_id, bill) in &customers {
        let terms = book.customer_terms(org_id, bill.external_id);
        let bill_to = BillTo::Customer {
            org_id: (*org_id).to_owned(),
            external_id: bill.external_id.to_owned(),
        };
        customer_invoices.push(make_invoice(
            bill_to,
            issuer,
            bill,
            &terms,
            period,
            book.currency,
            rounding,
        )?);
    }
    let mut sub_partner_invoices = Vec::with_capacity(resellers.len());
    for (index, bill) in &resellers {
        let sp = &org.sub_partners[*index];
        let terms = book.sub_partner_terms(&sp.org_id);
        let bill_to = BillTo::SubPartner {
            org_id: sp.org_id.clone(),
            name: sp.name.clone(),
        };
        sub_partner_invoices.push(make_invoice(
            bill_to,
            issuer,
            bill,
            &terms,
            period,
            book.currency,
            rounding,
        )?);
    }
    let margin = match wholesale {
        Some(rates) => Some(margins(
            &customer_invoices,
            &sub_partner_invoices,
            rates,
            book.currency,
            rounding,
        )?),
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
fn whole_units(user_days: Quantity, days: u32) -> Decimal {
    (user_days.to_decimal() / Decimal::from(days)).ceil()
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
    let mut lines = Vec::with_capacity(bill.lines.len());
    for ((sku, location), (user_days, whole, report_description)) in &bill.lines {
        if !user_days.is_positive() {
            continue;
        }
        let entry = terms.sku(sku)?;
        if !location.is_empty() && matches!(entry.price, SkuPrice::Tiered { .. }) {
            return Err(Error::Pricing(format!(
                "SKU {sku} has tiers, which apply to the whole quantity of a customer: per-location lines are not \
                 available for it"
            )));
        }
        let units = match terms.unit_mode {
            UnitMode::Prorated => rounding.quantity(user_days.to_decimal() / Decimal::from(days)),
            UnitMode::WholeUnits => *whole,
        };
        let (exact, bands) = price_units(&entry.price, units);
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
                let mut text = format!("{units_text}; {kind:?} tiers:").to_lowercase();
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
    let subtotal = Money::sum(lines.iter().map(|l| l.amount), currency)?;
    let discount = rounding.line(
        subtotal.amount() * terms.discount_percent / Decimal::ONE_HUNDRED,
        currency,
    );
    let after_discount = subtotal.checked_sub(discount)?;
    let minimum_charge = rounding.line(terms.minimum_charge, currency);
    let minimum_top_up = if after_discount.amount() < minimum_charge.amount() {
        minimum_charge.checked_sub(after_discount)?
    } else {
        Money::zero(currency)
    };
    let net = after_discount.checked_add(minimum_top_up)?;
    let tax = rounding.tax(net.amount() * terms.tax_percent / Decimal::ONE_HUNDRED, currency);
    let total = rounding.total(net.checked_add(tax)?.amount(), currency);
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

/// Wholesale cost of one invoice per SKU: `round(round(Σ user-days / days, 4) × rate)`.
fn cost_by_sku(
    invoice: &Invoice,
    rates: &WholesaleRateCard,
    rounding: &RoundingPolicy,
) -> Result<BTreeMap<String, Money>> {
    let mut days_by_sku: BTreeMap<&str, Quantity> = BTreeMap::new();
    for l in &invoice.lines {
        let slot = days_by_sku.entry(l.sku.as_str()).or_default();
        *slot = slot.checked_add(l.user_days).ok_or(Error::Overflow("user-days"))?;
    }
    let days = Decimal::from(invoice.period.days());
    days_by_sku
        .into_iter()
        .map(|(sku, user_days)| {
            let months = rounding.quantity(user_days.to_decimal() / days);
            let rate = rates.rate(sku)?.rate;
            Ok((sku.to_owned(), rounding.line(months * rate, rates.currency())))
        })
        .collect()
}

fn margins(
    customers: &[Invoice],
    resellers: &[Invoice],
    rates: &WholesaleRateCard,
    currency: Currency,
    rounding: &RoundingPolicy,
) -> Result<MarginReport> {
    let mut rows = Vec::new();
    let mut by_sku: BTreeMap<String, (Money, Money, String)> = BTreeMap::new();
    for (dimension, invoices) in [("customer", customers), ("sub_partner", resellers)] {
        for inv in invoices {
            let costs = cost_by_sku(inv, rates, rounding)?;
            let cost = Money::sum(costs.values().copied(), currency)?;
            let revenue = inv.net()?;
            rows.push(MarginRow {
                dimension,
                key: inv.bill_to.org_id().to_owned(),
                label: inv.bill_to.label().to_owned(),
                revenue,
                cost,
                margin: revenue.checked_sub(cost)?,
            });
            for l in &inv.lines {
                let slot = by_sku
                    .entry(l.sku.clone())
                    .or_insert_with(|| (Money::zero(currency), Money::zero(currency), l.description.clone()));
                slot.0 = slot.0.checked_add(l.amount)?;
            }
            for (sku, c) in costs {
                let slot = by_sku
                    .entry(sku)
                    .or_insert_with(|| (Money::zero(currency), Money::zero(currency), String::new()));
                slot.1 = slot.1.checked_add(c)?;
            }
        }
    }
    for (sku, (revenue, cost, label)) in by_sku {
        rows.push(MarginRow {
            dimension: "sku",
            key: sku,
            label,
            revenue,
            cost,
            margin: revenue.checked_sub(cost)?,
        });
    }
    Ok(MarginReport { currency, rows })
}
