//! Events given as records: rows of text cells under a header of column names, as a program or a
//! data frame holds them, validated exactly as the rows of an events CSV.

use super::builder::LedgerBuilder;
use super::field::{Columns, Field, cell_indexes, event_columns};
use crate::error::Result;

const SOURCE: &str = "events";

impl LedgerBuilder {
    /// Starts loading events given as records: `header` names the columns as an events CSV
    /// header does (any order and case, compared by [`normalize_header`](crate::normalize_header),
    /// unknown columns ignored), then each [`EventRecords::push`] gives one row of cells under it.
    ///
    /// Each row is validated as a row of the events CSV and its problems are the same issues (kind,
    /// message, field), located by the row's 1-based number among these records (`line`) and the
    /// 1-based position of the cell in the header (`column`).
    ///
    /// # Errors
    /// [`Error::Rejected`](crate::Error::Rejected), with one issue at line 0, when the header lacks
    /// a required column (`event_id`, `occurred_at`, `action`, `subscriber_id`,
    /// `customer_org_id`, `subscriber_type`, `package`) or names one twice.
    ///
    /// ```
    /// use wholesale_billing::{IssueKind, LedgerBuilder, LoadMode, Organisation, Partner};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let mut builder = LedgerBuilder::new(org);
    /// let mut records = builder.records(&[
    ///     "Event ID", "occurred_at", "action", "subscriber_id", "customer_org_id", "subscriber_type", "package",
    /// ])?;
    /// records
    ///     .push(&["e1", "2024-05-01T00:00:00Z", "ASSIGN", "s1", "c1", "USER", "webex_calling"])
    ///     .push(&[Some("e2"), Some("2024-05-02T00:00:00"), Some("REMOVE"), Some("s1")]);
    /// assert_eq!(records.rows(), 2);
    /// let issue = &builder.issues()[0];
    /// assert_eq!((issue.line, issue.column, issue.kind), (2, Some(2), IssueKind::MissingOffset));
    /// assert_eq!(issue.field.as_deref(), Some("occurred_at"));
    ///
    /// let (ledger, diagnostics) = builder.finish(LoadMode::Lenient)?;
    /// assert_eq!((diagnostics.rows_read, diagnostics.rows_accepted), (2, 1));
    /// assert_eq!(ledger.row_key_count(), 1);
    ///
    /// // A header without the required columns is refused at line 0.
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let err = LedgerBuilder::new(org).records(&["event_id"]).unwrap_err();
    /// assert_eq!(err.issues()[0].line, 0);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn records<S: AsRef<str>>(&mut self, header: &[S]) -> Result<EventRecords<'_>> {
        let cols = event_columns(header.iter().map(|name| name.as_ref().as_bytes()), 0, SOURCE)?;
        self.start_columns(&cols);
        Ok(EventRecords {
            idx: cell_indexes(&cols),
            cols,
            rows: 0,
            builder: self,
        })
    }
}

/// Rows of events under a header, pushed one by one into a [`LedgerBuilder`] (see
/// [`LedgerBuilder::records`]).
#[derive(Debug)]
pub struct EventRecords<'b> {
    builder: &'b mut LedgerBuilder,
    /// The 1-based column of each field.
    cols: Columns,
    /// The 0-based cell of each field.
    idx: [Option<usize>; 13],
    rows: u64,
}

impl EventRecords<'_> {
    /// Validates one row and keeps its event when it is usable; a problem is recorded in the
    /// builder (see [`LedgerBuilder::issues`]) as for a CSV row. `cells[i]` is the cell under
    /// header column `i`, given as `&str` or `Option<&str>`: `None`, a missing cell (a row
    /// shorter than the header) and white space are an empty field; cells of unknown columns are
    /// not read.
    ///
    /// ```
    /// # use wholesale_billing::{LedgerBuilder, Organisation, Partner};
    /// # let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let mut builder = LedgerBuilder::new(org);
    /// let header = ["action", "occurred_at", "event_id", "subscriber_id", "customer_org_id", "subscriber_type", "package"];
    /// builder.records(&header)?.push(&["ASSIGN", "2024-05-01T00:00:00Z", "e1", "s1", " c1 ", "USER", "nope"]);
    /// let issue = builder.issues()[0].to_string();
    /// assert!(issue.starts_with("line 1, column 7 (package): error: unknown package \"nope\"; known: "), "{issue}");
    /// assert!(issue.ends_with(" [event_id e1]"), "{issue}");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn push<'c, C>(&mut self, cells: &[C]) -> &mut Self
    where
        C: Copy + Into<Option<&'c str>>,
    {
        self.rows += 1;
        self.builder.rows_read += 1;
        let idx = &self.idx;
        let cell = |f: Field| {
            let cell = idx[f as usize].and_then(|i| cells.get(i)).and_then(|&cell| cell.into());
            cell.unwrap_or("")
        };
        self.builder.push_text_row(self.rows, cell, &self.cols);
        self
    }

    /// The number of rows pushed so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }
}
