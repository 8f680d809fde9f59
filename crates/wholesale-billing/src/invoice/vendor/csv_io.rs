//! The vendor invoice as CSV: [`VendorInvoice::write_csv`] and [`VendorInvoice::read_csv`], with
//! the column names and aliases the reader accepts.

use std::io::{Read, Write};

use rust_decimal::Decimal;

use super::{LineKind, VendorInvoice, VendorInvoiceLine};
use crate::catalog::COMMITTED_SPEND_SKU;
use crate::csvutil::{
    csv_error, csv_write_error, field, find_columns, normalize_header, open_with_header, record_line,
};
use crate::error::{Error, IssueKind, LoadIssue, Quoted, Result, Severity};
use crate::ledger::Diagnostics;
use crate::money::{Currency, Money, parse_decimal};
use crate::quantity::Quantity;
use crate::time::Period;

impl VendorInvoice {
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
        let map = |e: csv::Error| csv_write_error("writing the invoice", e);
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
    /// `days_in_period` that [`VendorInvoice::write_csv`] writes are optional. Extended amounts are
    /// kept as written, so each line's arithmetic can be checked by a [`Reconciler`](crate::Reconciler).
    ///
    /// A `TOTAL` row is kept as [`VendorInvoice::stated_total`], as written: a total that is not
    /// the sum of the lines is what Cisco stated, and a [`Reconciler`](crate::Reconciler) reports the
    /// difference as an `invoice_arithmetic` finding; the reader warns of it in the diagnostics,
    /// at the `TOTAL` row, with both amounts.
    ///
    /// **A cut file is told from a whole one** where the file allows it: a row with fewer fields
    /// than the header (a row cut mid-field) is a located error. A file with the header
    /// [`VendorInvoice::write_csv`] writes (which always ends with a `TOTAL` row) but no `TOTAL` row
    /// is cut (after a whole row); any other file without a `TOTAL` row (a hand-made one) is read,
    /// with a warning in the diagnostics that nothing tells whether it is whole.
    ///
    /// # Errors
    /// [`Error::Rejected`] (source "vendor invoice") with every bad row located by line, column and
    /// field: a row with fewer fields than the header, a malformed number, a missing value, a
    /// second currency, a second `TOTAL` row, a missing `TOTAL` row in a file of `write_csv`'s
    /// form; [`Error::Overflow`] when the sum of the lines does not fit a `Decimal`; [`Error::Io`]
    /// when reading fails.
    ///
    /// ```
    /// use wholesale_billing::VendorInvoice;
    /// let csv = "sku,description,quantity,rate,extended_amount,currency\n\
    ///            A-W-CA-CALL-U,Wholesale Common Area Calling Usage,105.425,5,527.12,USD\n\
    ///            A-W-WXC-CALL-U,Wholesale Webex Calling Usage,356.6889,8,2853.51,USD\n";
    /// let (invoice, diagnostics) = VendorInvoice::read_csv(csv.as_bytes())?;
    /// assert_eq!(invoice.total()?.to_string(), "3380.63 USD");
    /// assert_eq!(diagnostics.warning_count(), 1, "no TOTAL row: nothing says the file is whole");
    /// let bad = "sku,quantity,rate,extended_amount,currency\nA,1,2,two,USD\n";
    /// let err = VendorInvoice::read_csv(bad.as_bytes()).unwrap_err();
    /// assert_eq!(err.issues()[0].to_string(),
    ///     "line 2, column 4 (extended_amount): error: invalid amount \"two\": not a plain decimal number");
    ///
    /// // A cut file: a row cut mid-field.
    /// let cut = "sku,quantity,rate,extended_amount,currency\nA,1,2,2.00,USD\nB,1,2,2.0";
    /// let err = VendorInvoice::read_csv(cut.as_bytes()).unwrap_err();
    /// assert_eq!(err.issues()[0].to_string(),
    ///     "line 3, column 5 (currency): error: the row ends after 4 of 5 fields: it is cut short");
    ///
    /// // A whole invoice whose total is not the sum of its lines: kept as stated, with a warning.
    /// let off = "sku,quantity,rate,extended_amount,currency\nA,1,2,2.00,USD\nTOTAL,,,4.00,USD\n";
    /// let (invoice, diagnostics) = VendorInvoice::read_csv(off.as_bytes())?;
    /// assert_eq!(invoice.stated_total.map(|t| t.to_string()).as_deref(), Some("4.00 USD"));
    /// assert_eq!(diagnostics.issues[0].to_string(),
    ///     "line 3, column 4 (extended_amount): warning: the stated total 4.00 USD is not the sum of the \
    ///      lines, 2.00 USD: kept as stated (reconciliation reports the difference)");
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
        let header = record.clone();
        // The form `write_csv` writes, which always ends with a TOTAL row.
        let written_here = header.len() == COLUMNS.len()
            && header
                .iter()
                .zip(COLUMNS)
                .all(|(name, ours)| normalize_header(name) == ours);
        let mut lines = Vec::new();
        let mut issues = Vec::new();
        let mut currency: Option<(Currency, u64)> = None;
        let mut total: Option<(Decimal, u64)> = None;
        let mut diagnostics = Diagnostics::default();
        let mut period: Option<Period> = None;
        let mut last_line = 1;
        while rdr.read_byte_record(&mut record).map_err(|e| csv_error(SOURCE, e))? {
            diagnostics.rows_read += 1;
            let line = record_line(&mut rdr, &record);
            last_line = line;
            if record.len() < header.len() {
                issues.push(cut_row(line, record.len(), &header));
                continue;
            }
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
                    total = Some((amount, line));
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
            stated_total: total.map(|(t, _)| Money::new(t, currency)),
        };
        match total {
            Some((stated, line)) => {
                let lines_sum = invoice.total()?;
                if stated != lines_sum.amount() {
                    let mut warning = issue_at(
                        line,
                        &cols,
                        InvoiceCol::Extended,
                        format!(
                            "the stated total {} is not the sum of the lines, {lines_sum}: kept as stated \
                             (reconciliation reports the difference)",
                            Money::new(stated, currency)
                        ),
                    );
                    warning.severity = Severity::Warning;
                    diagnostics.issues.push(warning);
                }
            }
            None if written_here => {
                return Err(Error::Rejected {
                    source_name: SOURCE,
                    issues: vec![LoadIssue::new(
                        Severity::Error,
                        last_line.saturating_add(1),
                        IssueKind::MalformedCsv,
                        "no TOTAL row, which every invoice in this form ends with: the file is cut",
                    )],
                });
            }
            None => diagnostics.issues.push(LoadIssue::new(
                Severity::Warning,
                last_line.saturating_add(1),
                IssueKind::MissingField,
                "no TOTAL row: nothing tells whether the file is whole (a cut file would not be noticed)",
            )),
        }
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

/// A row with fewer fields than the header: cut short (a file cut mid-row, or a hand-made row
/// missing its last fields), located at the first missing field.
fn cut_row(line: u64, fields: usize, header: &csv::ByteRecord) -> LoadIssue {
    let name = header.get(fields).map(String::from_utf8_lossy).unwrap_or_default();
    LoadIssue::new(
        Severity::Error,
        line,
        IssueKind::MalformedCsv,
        format!(
            "the row ends after {fields} of {} fields: it is cut short",
            header.len()
        ),
    )
    .at_column(fields + 1, name.trim())
}

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
        k => LineKind::from_name_bytes(k.as_bytes()).ok_or_else(|| {
            bad(
                InvoiceCol::Kind,
                format!(
                    "kind {} is not usage, committed_spend, overage, tax or other",
                    Quoted(k)
                ),
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
                format!("days_in_period {} is not a whole number of days", Quoted(t)),
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
