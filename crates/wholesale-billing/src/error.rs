//! The crate's one error type, and the per-row findings of the loaders.
//!
//! [`Error`] is returned by every fallible function of the crate. Input errors say where they
//! were: a row of a CSV file carries its line, column and field in a [`LoadIssue`]; an
//! organisation file error carries its line, column and path of keys.

use std::fmt;

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
    /// A name that is not one of the values of a named set (an hour policy, a report level, a
    /// finding class...).
    ///
    /// ```
    /// use wholesale_billing::{Error, HourPolicy};
    /// let err = "hourly".parse::<HourPolicy>().unwrap_err();
    /// assert!(matches!(err, Error::UnknownName { what: "hour policy", .. }));
    /// assert_eq!(err.to_string(), r#"unknown hour policy "hourly" (expected one of: started, completed, exact)"#);
    /// ```
    #[error("unknown {what} {value:?} (expected one of: {})", .expected.join(", "))]
    UnknownName {
        /// The kind of value ("hour policy", "report level").
        what: &'static str,
        /// The text as given.
        value: String,
        /// Every accepted name.
        expected: &'static [&'static str],
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
    /// An arithmetic result or a size does not fit the representation.
    #[error("overflow: {0}")]
    Overflow(&'static str),
}

impl Error {
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
    /// let err = Error::Overflow("x");
    /// assert!(err.issues().is_empty());
    /// ```
    pub fn issues(&self) -> &[LoadIssue] {
        match self {
            Error::Rejected { issues, .. } => issues,
            _ => &[],
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

string_enum! {
    /// How serious a [`LoadIssue`] is.
    ///
    /// ```
    /// use wholesale_billing::Severity;
    /// assert_eq!("warning".parse::<Severity>()?, Severity::Warning);
    /// assert_eq!(Severity::Error.to_string(), "error");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Severity("severity") {
        /// The row was used, or skipped on purpose (exact duplicate, redundant assign); nothing lost.
        Warning = "warning",
        /// The row was rejected.
        Error = "error",
    }
}

string_enum! {
    /// What kind of problem a [`LoadIssue`] reports.
    ///
    /// ```
    /// use wholesale_billing::IssueKind;
    /// assert_eq!(IssueKind::MissingOffset.as_str(), "missing_offset");
    /// assert_eq!(IssueKind::from_name("redundant_assign"), Some(IssueKind::RedundantAssign));
    /// assert_eq!(IssueKind::from_name("nonsense"), None);
    /// ```
    #[non_exhaustive]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum IssueKind("issue kind") {
        /// The file is not readable CSV (bad quoting, bad UTF-8, a missing header column).
        MalformedCsv = "malformed_csv",
        /// A required field is empty or its column is absent.
        MissingField = "missing_field",
        /// A field has a value of the wrong form (timestamp, action, type, quantity...).
        InvalidValue = "invalid_value",
        /// A timestamp without an explicit UTC offset.
        MissingOffset = "missing_offset",
        /// A package the catalog does not know.
        UnknownPackage = "unknown_package",
        /// A `sub_partner_org_id` absent from the organisation file.
        UnknownSubPartner = "unknown_sub_partner",
        /// A customer named under two owners (the partner and a sub-partner, or two sub-partners).
        CustomerOwnerConflict = "customer_owner_conflict",
        /// An exact duplicate of an earlier row (same `event_id`, same content): skipped.
        DuplicateEvent = "duplicate_event",
        /// The same `event_id` as an earlier row with other content.
        ConflictingEventId = "conflicting_event_id",
        /// `REMOVE` while nothing is assigned.
        RemoveWithoutAssignment = "remove_without_assignment",
        /// `ASSIGN` identical to the current assignment: a no-op.
        RedundantAssign = "redundant_assign",
    }
}

impl IssueKind {
    /// The kind named exactly `name` ([`IssueKind::as_str`], case-sensitive), if any.
    pub fn from_name(name: &str) -> Option<IssueKind> {
        IssueKind::ALL.into_iter().find(|k| k.as_str() == name)
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
    use super::{IssueKind, Severity};

    #[test]
    fn issue_kind_names_are_the_serialised_ones() {
        for kind in IssueKind::ALL {
            let json = serde_json::to_value(kind).ok();
            assert_eq!(json.as_ref().and_then(|v| v.as_str()), Some(kind.as_str()));
            assert_eq!(IssueKind::from_name(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(IssueKind::from_name("MISSING_OFFSET"), None);
    }

    #[test]
    fn severity_names_are_the_serialised_ones() {
        for severity in Severity::ALL {
            let json = serde_json::to_value(severity).ok();
            assert_eq!(json.as_ref().and_then(|v| v.as_str()), Some(severity.as_str()));
        }
    }
}
