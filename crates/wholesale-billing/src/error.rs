//! The crate's one error type, and the per-row findings of the loaders.
//!
//! [`Error`] is returned by every fallible function of the crate. Input errors say where they
//! were: a row of a CSV file carries its line, column and field in a [`LoadIssue`]; an
//! organisation file error carries its line, column and path of keys.

use std::fmt;

use crate::money::Money;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `wholesale-billing`.
///
/// Messages are lower-case and say where the bad input was.
///
/// ```
/// use wholesale_billing::{Error, Period};
/// let err = "2024-05-31..2024-05-01".parse::<Period>().unwrap_err();
/// assert!(matches!(err, Error::InvalidPeriod { .. }));
/// assert_eq!(err.to_string(), "invalid period: start 2024-05-31 is after end 2024-05-01");
/// ```
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing failed.
    #[error("i/o error while {context}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The organisation is well formed but not valid (duplicate org id, empty name, ...).
    #[error("invalid organisation: {0}")]
    InvalidOrganisation(String),
    /// Rows were rejected and the load was strict (or nothing could be loaded at all).
    #[error("{source_name}: {count} row error(s){first}", count = issues.len(), first = FirstIssue(issues))]
    Rejected {
        /// What was being loaded ("events", "usage report").
        source_name: &'static str,
        /// Every error found (warnings are not included).
        issues: Vec<LoadIssue>,
    },
    /// A text could not be read as a timestamp.
    #[error("invalid timestamp {input:?}: {reason}")]
    InvalidTimestamp {
        /// The text as given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A text could not be read as a date (`YYYY-MM-DD`) or a month (`YYYY-MM`).
    #[error("invalid date {input:?}: expected {expected}")]
    InvalidDate {
        /// The text as given.
        input: String,
        /// The expected form.
        expected: &'static str,
    },
    /// A period whose start is after its end, or outside the supported years.
    #[error("invalid period: {reason}")]
    InvalidPeriod {
        /// Why it was refused.
        reason: String,
    },
    /// A text could not be read as a quantity (at most four decimals).
    #[error("invalid quantity {input:?}: {reason}")]
    InvalidQuantity {
        /// The text as given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A value named something the data does not know (a sub-partner org id, a hour policy...).
    #[error("unknown {what} {value:?}{hint}")]
    Unknown {
        /// The kind of thing ("sub-partner", "hour policy").
        what: &'static str,
        /// The value as given.
        value: String,
        /// A hint on what is known, starting with "; " when present.
        hint: String,
    },
    /// Two amounts in different currencies met in one sum or document.
    #[error("currency mismatch: expected {expected}, found {found}")]
    CurrencyMismatch {
        /// The currency of the document or the left operand.
        expected: String,
        /// The other currency.
        found: String,
    },
    /// A text could not be read as an amount of money or a rate.
    #[error("invalid amount {input:?}: {reason}")]
    InvalidMoney {
        /// The text as given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An organisation file, rate card, price book or other configuration file is malformed
    /// (syntax, a missing, unknown or mistyped key, a bad value), located by line, column and key
    /// path.
    #[error("{file}: {location}{message}")]
    InvalidFile {
        /// Which kind of file ("wholesale rate card", "price book", "offer details").
        file: &'static str,
        /// Line, column and key path, as far as known.
        location: TextLocation,
        /// What is wrong.
        message: String,
    },
    /// Something needed to price a line is missing (a SKU without a rate, a period without days).
    #[error("cannot price: {0}")]
    Pricing(String),
    /// An arithmetic result or a count does not fit its representation (a `Decimal` of money, a
    /// [`Quantity`](crate::Quantity), a 32-bit index), with what overflowed and for what.
    ///
    /// ```
    /// use wholesale_billing::Error;
    /// let err = Error::Overflow {
    ///     operation: "price × units",
    ///     subject: "SKU A-W-WXC-CALL-U of customer cust-1".into(),
    /// };
    /// assert_eq!(err.to_string(), "overflow: price × units for SKU A-W-WXC-CALL-U of customer cust-1");
    /// ```
    #[error("overflow: {operation}{}", ForSubject(subject))]
    Overflow {
        /// What did not fit: an operation in the domain's words (`"price × units"`, `"Σ user-days"`,
        /// `"subtotal × tax %"`) or a count (`"more than 4 billion events"`).
        operation: &'static str,
        /// What it was computed for (`"SKU A-W-WXC-CALL-U of customer cust-1"`, `"the vendor
        /// invoice"`); empty when the operation says it all.
        subject: String,
    },
    /// A vendor invoice read from a file states a total (its `TOTAL` row) that is not the sum of
    /// its lines: the file is cut or altered.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Error, Money};
    /// let err = Error::InvoiceTotalMismatch {
    ///     line: 6,
    ///     stated: Money::parse("5035.43", Currency::USD)?,
    ///     lines_sum: Money::parse("5035.42", Currency::USD)?,
    /// };
    /// assert_eq!(
    ///     err.to_string(),
    ///     "vendor invoice line 6: the stated total 5035.43 USD is not the sum of the lines, 5035.42 USD"
    /// );
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[error("vendor invoice line {line}: the stated total {stated} is not the sum of the lines, {lines_sum}")]
    InvoiceTotalMismatch {
        /// The 1-based line of the `TOTAL` row.
        line: u64,
        /// The total as the file states it.
        stated: Money,
        /// The sum of the lines' extended amounts.
        lines_sum: Money,
    },
}

impl Error {
    /// An overflow of `operation`, for a subject given later ([`Error::for_subject`]).
    pub(crate) fn overflow(operation: &'static str) -> Self {
        Error::Overflow {
            operation,
            subject: String::new(),
        }
    }

    /// The same error, an [`Error::Overflow`] without a subject given `subject()`; any other error,
    /// or an overflow that names its subject already, unchanged.
    pub(crate) fn for_subject(self, subject: impl FnOnce() -> String) -> Self {
        match self {
            Error::Overflow { operation, subject: s } if s.is_empty() => Error::Overflow {
                operation,
                subject: subject(),
            },
            other => other,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The row issues of a [`Error::Rejected`] load, empty for any other error.
    ///
    /// ```
    /// use wholesale_billing::Error;
    /// let err = Error::Overflow { operation: "price × units", subject: String::new() };
    /// assert!(err.issues().is_empty());
    /// ```
    pub fn issues(&self) -> &[LoadIssue] {
        match self {
            Error::Rejected { issues, .. } => issues,
            _ => &[],
        }
    }
}

/// ` for {subject}`, or nothing for an empty subject.
struct ForSubject<'a>(&'a str);

impl fmt::Display for ForSubject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, " for {}", self.0)
        }
    }
}

struct FirstIssue<'a>(&'a [LoadIssue]);

impl fmt::Display for FirstIssue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.first() {
            Some(issue) => write!(f, "; first: {issue}"),
            None => Ok(()),
        }
    }
}

/// Where in a text document (TOML, JSON) something was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextLocation {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Path of keys (`sub_partners[1].billing_start`), when known.
    pub path: Option<String>,
}

impl fmt::Display for TextLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(line) = self.line {
            write!(f, "line {line}")?;
            wrote = true;
        }
        if let Some(column) = self.column {
            write!(f, "{}column {column}", if wrote { ", " } else { "" })?;
            wrote = true;
        }
        if let Some(path) = self.path.as_deref().filter(|p| !p.is_empty() && *p != ".") {
            write!(f, "{}{path}", if wrote { " at " } else { "at " })?;
            wrote = true;
        }
        if wrote {
            f.write_str(": ")?;
        }
        Ok(())
    }
}

/// How serious a [`LoadIssue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The row was used, or skipped on purpose (exact duplicate, redundant assign); nothing lost.
    Warning,
    /// The row was rejected.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// What kind of problem a [`LoadIssue`] reports.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// The file is not readable CSV (bad quoting, bad UTF-8, a missing header column).
    MalformedCsv,
    /// A required field is empty or its column is absent.
    MissingField,
    /// A field has a value of the wrong form (timestamp, action, type, quantity...).
    InvalidValue,
    /// A timestamp without an explicit UTC offset.
    MissingOffset,
    /// A package the catalog does not know.
    UnknownPackage,
    /// A `sub_partner_org_id` absent from the organisation file.
    UnknownSubPartner,
    /// A customer named under two owners (the partner and a sub-partner, or two sub-partners).
    CustomerOwnerConflict,
    /// An exact duplicate of an earlier row (same `event_id`, same content): skipped.
    DuplicateEvent,
    /// The same `event_id` as an earlier row with other content.
    ConflictingEventId,
    /// `REMOVE` while nothing is assigned.
    RemoveWithoutAssignment,
    /// `ASSIGN` identical to the current assignment: a no-op.
    RedundantAssign,
}

impl IssueKind {
    /// Every kind, in declaration order.
    pub const ALL: [IssueKind; 11] = [
        IssueKind::MalformedCsv,
        IssueKind::MissingField,
        IssueKind::InvalidValue,
        IssueKind::MissingOffset,
        IssueKind::UnknownPackage,
        IssueKind::UnknownSubPartner,
        IssueKind::CustomerOwnerConflict,
        IssueKind::DuplicateEvent,
        IssueKind::ConflictingEventId,
        IssueKind::RemoveWithoutAssignment,
        IssueKind::RedundantAssign,
    ];

    /// The snake-case name, as serialised (`"missing_offset"`, ...).
    ///
    /// ```
    /// use wholesale_billing::IssueKind;
    /// assert_eq!(IssueKind::MissingOffset.as_str(), "missing_offset");
    /// assert_eq!(IssueKind::from_name("redundant_assign"), Some(IssueKind::RedundantAssign));
    /// assert_eq!(IssueKind::from_name("nonsense"), None);
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            IssueKind::MalformedCsv => "malformed_csv",
            IssueKind::MissingField => "missing_field",
            IssueKind::InvalidValue => "invalid_value",
            IssueKind::MissingOffset => "missing_offset",
            IssueKind::UnknownPackage => "unknown_package",
            IssueKind::UnknownSubPartner => "unknown_sub_partner",
            IssueKind::CustomerOwnerConflict => "customer_owner_conflict",
            IssueKind::DuplicateEvent => "duplicate_event",
            IssueKind::ConflictingEventId => "conflicting_event_id",
            IssueKind::RemoveWithoutAssignment => "remove_without_assignment",
            IssueKind::RedundantAssign => "redundant_assign",
        }
    }

    /// The kind named `name` ([`IssueKind::as_str`]), if any.
    pub fn from_name(name: &str) -> Option<IssueKind> {
        IssueKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for IssueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding of a loader about one row: where, what and why.
///
/// `line` is the 1-based physical line of the row in its file (the header is line 1). For events
/// pushed through the builder API it is the 1-based number of the event in push order.
///
/// ```
/// use wholesale_billing::{IssueKind, LoadIssue, Severity};
/// let issue = LoadIssue::new(Severity::Error, 7, IssueKind::MissingOffset, "timestamp has no utc offset")
///     .at_column(2, "occurred_at");
/// assert_eq!(issue.to_string(), "line 7, column 2 (occurred_at): error: timestamp has no utc offset");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoadIssue {
    /// Error (row rejected) or warning.
    pub severity: Severity,
    /// 1-based line in the file (or event number for built ledgers).
    pub line: u64,
    /// 1-based column of the offending field, when one field is to blame.
    pub column: Option<usize>,
    /// Name of the offending column, when one field is to blame.
    pub field: Option<String>,
    /// The row's `event_id`, when known.
    pub event_id: Option<String>,
    /// The class of the problem.
    pub kind: IssueKind,
    /// A lower-case human explanation.
    pub message: String,
}

impl LoadIssue {
    /// A new issue at a line, without a column.
    pub fn new(severity: Severity, line: u64, kind: IssueKind, message: impl Into<String>) -> Self {
        LoadIssue {
            severity,
            line,
            column: None,
            field: None,
            event_id: None,
            kind,
            message: message.into(),
        }
    }

    /// The same issue, blamed on a column (1-based) and field name.
    #[must_use]
    pub fn at_column(mut self, column: usize, field: impl Into<String>) -> Self {
        self.column = Some(column);
        self.field = Some(field.into());
        self
    }

    /// The same issue, naming the row's event id.
    #[must_use]
    pub fn with_event_id(mut self, event_id: impl Into<String>) -> Self {
        let id = event_id.into();
        if !id.is_empty() {
            self.event_id = Some(id);
        }
        self
    }

    /// Whether this issue rejected its row.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for LoadIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = self.column {
            write!(f, ", column {column}")?;
        }
        if let Some(field) = &self.field {
            write!(f, " ({field})")?;
        }
        write!(f, ": {}: {}", self.severity, self.message)?;
        if let Some(id) = &self.event_id {
            write!(f, " [event_id {id}]")?;
        }
        Ok(())
    }
}

/// An error and its causes on one line, `a: b: c`, leaving out a cause whose text the line already
/// ends with (an error that repeats its source in its own message). For messages shown to people:
/// command-line output, Python exceptions.
///
/// ```
/// use wholesale_billing::{Error, error_with_causes};
/// let err = Error::Io { context: "reading events.csv".into(), source: std::io::Error::other("disk gone") };
/// assert_eq!(error_with_causes(&err), "i/o error while reading events.csv: disk gone");
///
/// // An error that shows its source in its own message: the source is not repeated.
/// #[derive(Debug)]
/// struct Send(std::io::Error);
/// impl std::fmt::Display for Send {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "sending: {}", self.0)
///     }
/// }
/// impl std::error::Error for Send {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
/// let err = Send(std::io::Error::other("connection refused"));
/// assert_eq!(error_with_causes(&err), "sending: connection refused");
/// ```
pub fn error_with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        let text = e.to_string();
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = e.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::IssueKind;

    #[test]
    fn issue_kind_names_are_the_serialised_ones() {
        for kind in IssueKind::ALL {
            let json = serde_json::to_value(kind).ok();
            assert_eq!(json.as_ref().and_then(|v| v.as_str()), Some(kind.as_str()));
            assert_eq!(IssueKind::from_name(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
    }
}
