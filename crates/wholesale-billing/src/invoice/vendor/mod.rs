//! The vendor invoice (SPEC.md §5.1): what the partner pays Cisco for a billing period, computed
//! from usage and the wholesale rate card, or read from the invoice Cisco sent.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::COMMITTED_SPEND_SKU;
use crate::csvutil::{csv_error, field, find_columns, open_with_header, record_line};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};
use crate::ledger::Diagnostics;
use crate::money::{Currency, Money, RoundingPolicy, parse_decimal};
use crate::quantity::Quantity;
use crate::rates::WholesaleRateCard;
use crate::report::UsageReport;
use crate::time::Period;

/// What an invoice line bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// Prorated package usage of the period (user-months × rate).
    #[default]
    Usage,
    /// The monthly committed spend, billed in advance (`A-W-CS-MNTH`).
    CommittedSpend,
    /// Usage above the committed spend, at committed rates.
    Overage,
    /// Tax.
    Tax,
    /// Anything else (support plans, one-off services).
    Other,
}

impl LineKind {
    /// The snake-case name (`usage`, `committed_spend`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Usage => "usage",
            LineKind::CommittedSpend => "committed_spend",
            LineKind::Overage => "overage",
            LineKind::Tax => "tax",
            LineKind::Other => "other",
        }
    }

    fn parse(text: &str) -> Option<LineKind> {
        [
            LineKind::Usage,
            LineKind::CommittedSpend,
            LineKind::Overage,
            LineKind::Tax,
            LineKind::Other,
        ]
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for LineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a vendor invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorInvoiceLine {
    /// The SKU (`A-W-WXC-CALL-U`); `OVERAGE` for the overage line, which has no Cisco SKU of its own.
    pub sku: String,
    /// The SKU's description.
    pub description: String,
    /// What the line bills.
    pub kind: LineKind,
    /// The period billed, when the line says.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "period_text")]
    pub period: Option<Period>,
    /// Quantity: user-months for usage (4 decimals), a count otherwise.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// Price per unit.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
    /// Quantity × rate, rounded to the minor unit ("extended amount", excluding tax).
    pub extended: Money,
    /// For a computed usage line: the user-days the quantity comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_days: Option<Quantity>,
    /// For a computed usage line: the days of the billing period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_in_period: Option<u32>,
    /// For a line read from a file: its line number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_line: Option<u64>,
}

/// A fixed monthly line the usage does not give (a support plan such as `SVS-FLEX-SUPT-BAS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedLine {
    /// The SKU.
    pub sku: String,
    /// Its description.
    #[serde(default)]
    pub description: String,
    /// Quantity.
    #[serde(with = "rust_decimal::serde::str")]
    pub quantity: Decimal,
    /// Price per unit.
    #[serde(with = "rust_decimal::serde::str")]
    pub rate: Decimal,
}

/// The partner's purchasing model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Commitment {
    /// Usage billed monthly in arrears at the uncommitted rates.
    #[default]
    Uncommitted,
    /// A monthly committed spend billed in advance (`A-W-CS-MNTH`), plus the period's overage at
    /// committed rates.
    Committed {
        /// The monthly committed spend.
        monthly: Money,
    },
}

/// How to compute an expected vendor invoice.
///
/// ```
/// use wholesale_billing::{Commitment, Currency, Money, VendorInvoiceOptions};
/// let options = VendorInvoiceOptions {
///     commitment: Commitment::Committed { monthly: Money::parse("5000", Currency::USD)? },
///     ..VendorInvoiceOptions::default()
/// };
/// assert!(options.fixed_lines.is_empty());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VendorInvoiceOptions {
    /// Uncommitted (default) or committed.
    pub commitment: Commitment,
    /// Fixed lines added as they are (support plans).
    pub fixed_lines: Vec<FixedLine>,
    /// Tax percentage on the subtotal (`None`: no tax line).
    pub tax_percent: Option<Decimal>,
    /// The rounding of each stage.
    pub rounding: RoundingPolicy,
}

/// A vendor invoice: lines, each with its extended amount; the total is the sum of the lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendorInvoice {
    /// The invoice currency.
    pub currency: Currency,
    /// The usage period billed, when known.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "period_text")]
    pub period: Option<Period>,
    /// The lines, in order.
    pub lines: Vec<VendorInvoiceLine>,
    /// For a committed deal: the usage at committed rates that the overage is computed from
    /// (informational, not part of the total).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overage_basis: Vec<VendorInvoiceLine>,
    /// For an invoice read from a file: the total it states (its `TOTAL` row), kept as written so
    /// that [`reconcile`](crate::reconcile) can check it against the sum of the lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_total: Option<Money>,
}

/// Refuses negative money where a price or an amount is expected: the commitment, a fixed line's
/// quantity or rate, the tax percentage.
fn check_options(options: &VendorInvoiceOptions) -> Result<()> {
    if let Commitment::Committed { monthly } = &options.commitment
        && monthly.amount() < Decimal::ZERO
    {
        return Err(Error::Pricing(format!("the monthly commitment {monthly} is negative")));
    }
    for line in &options.fixed_lines {
        for (what, value) in [("quantity", line.quantity), ("rate", line.rate)] {
            if value < Decimal::ZERO {
                return Err(Error::Pricing(format!(
                    "fixed line {}: the {what} {value} is negative",
                    line.sku
                )));
            }
        }
    }
    if let Some(tax) = options.tax_percent
        && tax < Decimal::ZERO
    {
        return Err(Error::Pricing(format!("the tax percentage {tax} is negative")));
    }
    Ok(())
}

/// Σ user-days per SKU over reports (any level: they agree per SKU).
fn user_days_by_sku<'a>(
    reports: impl IntoIterator<Item = &'a UsageReport>,
    period: Period,
) -> Result<BTreeMap<String, Quantity>> {
    let mut totals: BTreeMap<String, Quantity> = BTreeMap::new();
    for report in reports {
        report.check_period(period, "usage report")?;
        for (sku, q) in report.quantity_by_sku() {
            let slot = totals.entry(sku.to_owned()).or_default();
            *slot = slot.checked_add(q).ok_or(Error::Overflow("user-days"))?;
        }
    }
    Ok(totals)
}

/// The invoice Cisco should send for `period`, from the usage of the whole subscription (the
/// partner's report and every sub-partner's) and the wholesale rate card (SPEC.md §5.1).
///
/// Uncommitted: per SKU, `QTY = round(Σ user-days / days in period, 4)`, `EXTENDED = round(QTY ×
/// RATE, minor unit)`. Committed: one `A-W-CS-MNTH` line of the monthly commitment and an
/// `OVERAGE` line `max(0, Σ round(QTY × committed rate) − commitment)`. Fixed lines as given; a
/// tax line when a tax percentage is set. The total is the sum of the rounded lines.
///
/// # Errors
/// [`Error::Pricing`] for a SKU with usage but no rate (nothing is priced at zero silently) or a
/// report of another period; [`Error::CurrencyMismatch`] for a commitment in another currency than
/// the rate card.
///
/// ```
/// use wholesale_billing::{Currency, Decimal, Period, ReadOptions, UsageReport, VendorInvoiceOptions,
///     WholesaleRate, WholesaleRateCard, expected_vendor_invoice};
/// let csv = "SKU,QUANTITY\nA-W-CA-CALL-U,3162.75\n";   // 105.425 user-months over 30 days
/// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
/// let mut rates = WholesaleRateCard::new(Currency::USD);
/// rates.insert(WholesaleRate::new("A-W-CA-CALL-U", Decimal::new(5, 0)))?;
/// let period = Period::from_dates("2023-04-13", "2023-05-12")?;
/// let invoice = expected_vendor_invoice([&report], period, &rates, &VendorInvoiceOptions::default())?;
/// assert_eq!(invoice.lines[0].quantity.to_string(), "105.4250");
/// assert_eq!(invoice.lines[0].extended.to_string(), "527.12 USD");
/// assert_eq!(invoice.total()?.to_string(), "527.12 USD");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn expected_vendor_invoice<'a>(
    usage: impl IntoIterator<Item = &'a UsageReport>,
    period: Period,
    rates: &WholesaleRateCard,
    options: &VendorInvoiceOptions,
) -> Result<VendorInvoice> {
    let currency = rates.currency();
    let rounding = &options.rounding;
    let days = period.days();
    check_options(options)?;
    let user_days = user_days_by_sku(usage, period)?;
    let mut lines = Vec::new();
    let mut basis = Vec::new();
    for (sku, days_used) in &user_days {
        if !days_used.is_positive() {
            continue;
        }
        let rate = rates.rate(sku)?;
        let quantity = rounding.quantity(days_used.to_decimal() / Decimal::from(days));
        let price = match options.commitment {
            Commitment::Uncommitted => rate.rate,
            Commitment::Committed { .. } => rate.committed_or_list(),
        };
        let amount = quantity.checked_mul(price).ok_or(Error::Overflow("invoice line"))?;
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
        match options.commitment {
            Commitment::Uncommitted => lines.push(line),
            Commitment::Committed { .. } => basis.push(line),
        }
    }
    if let Commitment::Committed { monthly } = options.commitment {
        if monthly.currency() != currency {
            return Err(Error::CurrencyMismatch {
                expected: currency.code().to_owned(),
                found: monthly.currency().code().to_owned(),
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
        let at_committed = Money::sum(basis.iter().map(|l| l.extended), currency)?;
        let over = at_committed.checked_sub(monthly)?;
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
    for fixed in &options.fixed_lines {
        let amount = fixed
            .quantity
            .checked_mul(fixed.rate)
            .ok_or(Error::Overflow("invoice line"))?;
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
    if let Some(percent) = options.tax_percent {
        let subtotal = Money::sum(lines.iter().map(|l| l.extended), currency)?;
        let tax = rounding.tax(subtotal.amount() * percent / Decimal::ONE_HUNDRED, currency);
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

impl VendorInvoice {
    /// The total: the sum of the lines' extended amounts.
    ///
    /// # Errors
    /// [`Error::CurrencyMismatch`] if a line is in another currency than the invoice.
    pub fn total(&self) -> Result<Money> {
        Money::sum(self.lines.iter().map(|l| l.extended), self.currency)
    }

    /// The total of the lines of one kind.
    ///
    /// # Errors
    /// As [`VendorInvoice::total`].
    pub fn total_of(&self, kind: LineKind) -> Result<Money> {
        Money::sum(
            self.lines.iter().filter(|l| l.kind == kind).map(|l| l.extended),
            self.currency,
        )
    }

    /// Usage lines' quantities per SKU (user-months), summed when a SKU has several lines.
    ///
    /// # Errors
    /// [`Error::Overflow`] if a sum does not fit a `Decimal`.
    pub fn usage_quantity_by_sku(&self) -> Result<BTreeMap<&str, Decimal>> {
        let mut out: BTreeMap<&str, Decimal> = BTreeMap::new();
        for line in self.lines.iter().filter(|l| l.kind == LineKind::Usage) {
            let slot = out.entry(line.sku.as_str()).or_default();
            *slot = slot
                .checked_add(line.quantity)
                .ok_or(Error::Overflow("invoice quantities"))?;
        }
        Ok(out)
    }

    /// Writes the invoice as CSV: one row per line (`sku, description, kind, period_start,
    /// period_end, quantity, rate, extended_amount, currency, user_days, days_in_period`), then a
    /// `TOTAL` row.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails; [`Error::CurrencyMismatch`] for a mixed invoice.
    pub fn write_csv(&self, writer: impl Write) -> Result<()> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(writer);
        let map = |e: csv::Error| Error::io("writing the invoice", std::io::Error::other(e.to_string()));
        w.write_record(COLUMNS).map_err(map)?;
        for l in &self.lines {
            let (start, end) = match l.period {
                Some(p) => (p.start().to_string(), p.end().to_string()),
                None => (String::new(), String::new()),
            };
            w.write_record([
                l.sku.as_str(),
                &l.description,
                l.kind.as_str(),
                &start,
                &end,
                &l.quantity.to_string(),
                &l.rate.to_string(),
                &l.extended.amount().to_string(),
                l.extended.currency().code(),
                &l.user_days.map(|q| q.to_string()).unwrap_or_default(),
                &l.days_in_period.map(|d| d.to_string()).unwrap_or_default(),
            ])
            .map_err(map)?;
        }
        let total = self.total()?;
        w.write_record([
            "TOTAL",
            "",
            "",
            "",
            "",
            "",
            "",
            &total.amount().to_string(),
            total.currency().code(),
            "",
            "",
        ])
        .map_err(map)?;
        w.flush().map_err(|e| Error::io("writing the invoice", e))
    }

    /// Reads an invoice as Cisco sent it, as CSV lines: `sku`, `quantity`, `rate`,
    /// `extended_amount` (aliases `extended`, `amount`) and `currency` are required; `description`,
    /// `kind` (`usage`, `committed_spend`, `overage`, `tax`, `other`; default `usage`, or
    /// `committed_spend` for `A-W-CS-MNTH`), the period (`period` as `YYYY-MM-DD..YYYY-MM-DD`, or
    /// `period_start` and `period_end`), and the derivation columns `user_days` and
    /// `days_in_period` that [`VendorInvoice::write_csv`] writes are optional. A `TOTAL` row is kept as
    /// [`VendorInvoice::stated_total`]. Extended amounts and the total are kept as written, so the
    /// invoice's own arithmetic can be checked by [`reconcile`](crate::reconcile).
    ///
    /// # Errors
    /// [`Error::Rejected`] (source "vendor invoice") with every bad row located by line, column and
    /// field: a malformed number, a missing value, a second currency; [`Error::Io`] when reading
    /// fails.
    ///
    /// ```
    /// use wholesale_billing::VendorInvoice;
    /// let csv = "sku,description,quantity,rate,extended_amount,currency\n\
    ///            A-W-CA-CALL-U,Wholesale Common Area Calling Usage,105.425,5,527.12,USD\n\
    ///            A-W-WXC-CALL-U,Wholesale Webex Calling Usage,356.6889,8,2853.51,USD\n";
    /// let (invoice, _) = VendorInvoice::read_csv(csv.as_bytes())?;
    /// assert_eq!(invoice.total()?.to_string(), "3380.63 USD");
    /// let bad = "sku,quantity,rate,extended_amount,currency\nA,1,2,two,USD\n";
    /// let err = VendorInvoice::read_csv(bad.as_bytes()).unwrap_err();
    /// assert_eq!(err.issues()[0].to_string(),
    ///     "line 2, column 4 (extended_amount): error: invalid amount \"two\": not a plain decimal number");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn read_csv(reader: impl Read) -> Result<(VendorInvoice, Diagnostics)> {
        let mut record = csv::ByteRecord::new();
        let mut rdr = open_with_header(reader, &mut record, SOURCE)?;
        let names = INVOICE_COLS.map(|(_, canonical, aliases)| (canonical, aliases));
        let required = [
            InvoiceCol::Sku,
            InvoiceCol::Quantity,
            InvoiceCol::Rate,
            InvoiceCol::Extended,
            InvoiceCol::Currency,
        ]
        .map(|c| c as usize);
        let cols = find_columns(&record, &names, &required, SOURCE)?;
        let mut lines = Vec::new();
        let mut issues = Vec::new();
        let mut currency: Option<(Currency, u64)> = None;
        let mut total: Option<Decimal> = None;
        let mut diagnostics = Diagnostics::default();
        let mut period: Option<Period> = None;
        while rdr.read_byte_record(&mut record).map_err(|e| csv_error(SOURCE, e))? {
            diagnostics.rows_read += 1;
            let line = record_line(&mut rdr, &record);
            let text = |c: InvoiceCol| -> std::result::Result<&str, LoadIssue> {
                let raw = field(&record, cols[c as usize].map(|i| i - 1));
                std::str::from_utf8(raw).map_err(|_| issue_at(line, &cols, c, "not valid utf-8".into()))
            };
            match read_invoice_row(line, &cols, &text, &mut currency) {
                Ok(Row::Line(l)) => {
                    if l.period.is_some() && period.is_none() && l.kind == LineKind::Usage {
                        period = l.period;
                    }
                    lines.push(*l);
                }
                Ok(Row::Total(amount)) => {
                    if total.is_some() {
                        issues.push(LoadIssue::new(
                            Severity::Error,
                            line,
                            IssueKind::InvalidValue,
                            "a second TOTAL row".to_owned(),
                        ));
                    }
                    total = Some(amount);
                }
                Err(issue) => issues.push(issue),
            }
        }
        let currency = currency.map_or(Currency::USD, |(c, _)| c);
        diagnostics.rows_accepted = lines.len() as u64;
        if !issues.is_empty() {
            return Err(Error::Rejected {
                source_name: SOURCE,
                issues,
            });
        }
        let invoice = VendorInvoice {
            currency,
            period,
            lines,
            overage_basis: Vec::new(),
            stated_total: total.map(|t| Money::new(t, currency)),
        };
        Ok((invoice, diagnostics))
    }
}

const SOURCE: &str = "vendor invoice";

const COLUMNS: [&str; 11] = [
    "sku",
    "description",
    "kind",
    "period_start",
    "period_end",
    "quantity",
    "rate",
    "extended_amount",
    "currency",
    "user_days",
    "days_in_period",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum InvoiceCol {
    Sku,
    Description,
    Kind,
    Period,
    PeriodStart,
    PeriodEnd,
    Quantity,
    Rate,
    Extended,
    Currency,
    UserDays,
    DaysInPeriod,
}

const INVOICE_COLS: [(InvoiceCol, &str, &[&str]); 12] = [
    (InvoiceCol::Sku, "sku", &["sku", "service_sku"]),
    (
        InvoiceCol::Description,
        "description",
        &["description", "service_description"],
    ),
    (InvoiceCol::Kind, "kind", &["kind", "line_kind"]),
    (InvoiceCol::Period, "period", &["period", "billing_period"]),
    (InvoiceCol::PeriodStart, "period_start", &["period_start", "start_date"]),
    (InvoiceCol::PeriodEnd, "period_end", &["period_end", "end_date"]),
    (InvoiceCol::Quantity, "quantity", &["quantity", "qty"]),
    (InvoiceCol::Rate, "rate", &["rate", "rate_price", "unit_price"]),
    (
        InvoiceCol::Extended,
        "extended_amount",
        &["extended_amount", "extended", "amount", "extended_amount_excl_tax"],
    ),
    (InvoiceCol::Currency, "currency", &["currency", "currency_code"]),
    (InvoiceCol::UserDays, "user_days", &["user_days"]),
    (InvoiceCol::DaysInPeriod, "days_in_period", &["days_in_period"]),
];

fn issue_at(line: u64, cols: &[Option<usize>; 12], c: InvoiceCol, message: String) -> LoadIssue {
    let issue = LoadIssue::new(Severity::Error, line, IssueKind::InvalidValue, message);
    match cols[c as usize] {
        Some(column) => issue.at_column(column, INVOICE_COLS[c as usize].1),
        None => issue,
    }
}

enum Row {
    Line(Box<VendorInvoiceLine>),
    Total(Decimal),
}

fn read_invoice_row<'r>(
    line: u64,
    cols: &[Option<usize>; 12],
    text: &dyn Fn(InvoiceCol) -> std::result::Result<&'r str, LoadIssue>,
    currency: &mut Option<(Currency, u64)>,
) -> std::result::Result<Row, LoadIssue> {
    let bad = |c: InvoiceCol, message: String| issue_at(line, cols, c, message);
    let sku = text(InvoiceCol::Sku)?;
    let number = |c: InvoiceCol| -> std::result::Result<Decimal, LoadIssue> {
        let t = text(c)?;
        if t.is_empty() {
            let mut issue = bad(c, format!("{} is required", INVOICE_COLS[c as usize].1));
            issue.kind = IssueKind::MissingField;
            return Err(issue);
        }
        parse_decimal(t).map_err(|e| bad(c, e.to_string()))
    };
    if sku.eq_ignore_ascii_case("TOTAL") {
        return number(InvoiceCol::Extended).map(Row::Total);
    }
    if sku.is_empty() {
        let mut issue = bad(InvoiceCol::Sku, "sku is required".into());
        issue.kind = IssueKind::MissingField;
        return Err(issue);
    }
    let code = text(InvoiceCol::Currency)?;
    let this = Currency::from_code(code).map_err(|e| bad(InvoiceCol::Currency, e.to_string()))?;
    match currency {
        Some((first, first_line)) if *first != this => {
            return Err(bad(
                InvoiceCol::Currency,
                format!("currency {this} differs from {first} on line {first_line}"),
            ));
        }
        Some(_) => {}
        None => *currency = Some((this, line)),
    }
    let quantity = number(InvoiceCol::Quantity)?;
    let rate = number(InvoiceCol::Rate)?;
    let extended = number(InvoiceCol::Extended)?;
    let kind = match text(InvoiceCol::Kind)? {
        "" if sku == COMMITTED_SPEND_SKU => LineKind::CommittedSpend,
        "" => LineKind::Usage,
        k => LineKind::parse(k).ok_or_else(|| {
            bad(
                InvoiceCol::Kind,
                format!("kind {k:?} is not usage, committed_spend, overage, tax or other"),
            )
        })?,
    };
    let period = read_period(text, &bad)?;
    let user_days = match text(InvoiceCol::UserDays)? {
        "" => None,
        t => Some(
            t.parse::<Quantity>()
                .map_err(|e| bad(InvoiceCol::UserDays, e.to_string()))?,
        ),
    };
    let days_in_period = match text(InvoiceCol::DaysInPeriod)? {
        "" => None,
        t => Some(t.parse::<u32>().map_err(|_| {
            bad(
                InvoiceCol::DaysInPeriod,
                format!("days_in_period {t:?} is not a whole number of days"),
            )
        })?),
    };
    Ok(Row::Line(Box::new(VendorInvoiceLine {
        sku: sku.to_owned(),
        description: text(InvoiceCol::Description)?.to_owned(),
        kind,
        period,
        quantity,
        rate,
        extended: Money::new(extended, this),
        user_days,
        days_in_period,
        source_line: Some(line),
    })))
}

fn read_period<'r>(
    text: &dyn Fn(InvoiceCol) -> std::result::Result<&'r str, LoadIssue>,
    bad: &dyn Fn(InvoiceCol, String) -> LoadIssue,
) -> std::result::Result<Option<Period>, LoadIssue> {
    let joined = text(InvoiceCol::Period)?;
    if !joined.is_empty() {
        return joined
            .parse::<Period>()
            .map(Some)
            .map_err(|e| bad(InvoiceCol::Period, e.to_string()));
    }
    let (start, end) = (text(InvoiceCol::PeriodStart)?, text(InvoiceCol::PeriodEnd)?);
    match (start.is_empty(), end.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Period::from_dates(start, end)
            .map(Some)
            .map_err(|e| bad(InvoiceCol::PeriodStart, e.to_string())),
        (true, false) => Err(bad(InvoiceCol::PeriodStart, "period_end without period_start".into())),
        (false, true) => Err(bad(InvoiceCol::PeriodEnd, "period_start without period_end".into())),
    }
}

/// Periods serialise as `YYYY-MM-DD..YYYY-MM-DD`.
mod period_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::time::Period;

    pub(super) fn serialize<S: Serializer>(period: &Option<Period>, s: S) -> Result<S::Ok, S::Error> {
        match period {
            Some(p) => s.collect_str(p),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Period>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| t.parse().map_err(serde::de::Error::custom)).transpose()
    }
}

#[cfg(test)]
mod tests;
