//! [`CdrReader`]: reads call records from CSV and JSON inputs as one stream, strict or lenient,
//! every rejected record located, duplicates by `Report ID` handled.

use std::io::{BufRead, BufReader, Read};

use crate::error::{Error, IssueKind, LoadIssue, Quoted, Result, Severity};
use crate::ledger::LoadMode;

use super::call_record::{CallRecord, RecordOrigin};
use super::dedup::{Deduplicator, DuplicateCheck};
use super::field::{CdrField, ValueError};

/// What the readers name in their errors.
pub(crate) const SOURCE: &str = "call records";

/// How to read call records.
///
/// ```
/// use wholesale_billing::{CdrReadOptions, LoadMode};
/// let options = CdrReadOptions { mode: LoadMode::Lenient, ..CdrReadOptions::default() };
/// assert_eq!(options.max_issues, 1000);
/// assert!(options.deduplicate);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CdrReadOptions {
    /// Strict (the default): the read goes on to find every error, then fails with them; no
    /// record is passed on after the first error. Lenient: bad records are skipped and reported,
    /// the others passed on.
    pub mode: LoadMode,
    /// The most issues of each severity kept in the diagnostics (and in a strict error); the
    /// counts cover them all.
    pub max_issues: usize,
    /// Whether duplicates by `Report ID` are handled by the reader (the default): an identical
    /// duplicate is skipped with a warning, a conflicting one is an error locating both records.
    /// Off, every record is passed on and a [`Deduplicator`] may be used by the caller.
    pub deduplicate: bool,
}

impl Default for CdrReadOptions {
    fn default() -> Self {
        CdrReadOptions {
            mode: LoadMode::Strict,
            max_issues: 1000,
            deduplicate: true,
        }
    }
}

/// The two forms of call records: the "Detailed Call History" CSV report and the CDR feed's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CdrFormat {
    /// The CSV report: a header naming the columns, one record per row (the default).
    #[default]
    Csv,
    /// The feed's JSON: `{"items": [{...}, ...]}`.
    Json,
}

impl CdrFormat {
    /// The usual file extension: `csv` or `json`.
    ///
    /// ```
    /// use wholesale_billing::CdrFormat;
    /// assert_eq!(CdrFormat::Json.extension(), "json");
    /// assert_eq!(CdrFormat::default().extension(), "csv");
    /// ```
    pub fn extension(self) -> &'static str {
        match self {
            CdrFormat::Csv => "csv",
            CdrFormat::Json => "json",
        }
    }

    /// The format of an input from its first bytes: JSON when its first character other than
    /// white space (and a byte order mark) is `{`, else CSV.
    ///
    /// ```
    /// use wholesale_billing::CdrFormat;
    /// assert_eq!(CdrFormat::detect(b"\xEF\xBB\xBF \n {\"items\": []}"), CdrFormat::Json);
    /// assert_eq!(CdrFormat::detect(b"Report ID,Start time\n"), CdrFormat::Csv);
    /// ```
    pub fn detect(start: &[u8]) -> CdrFormat {
        let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
        match start.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => CdrFormat::Json,
            _ => CdrFormat::Csv,
        }
    }
}

/// What a read of call records found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CdrDiagnostics {
    /// Inputs read.
    pub inputs: usize,
    /// Records read (CSV rows, JSON items), good and bad.
    pub records_read: u64,
    /// Distinct, valid records: those passed on (in strict mode, those before the first error).
    pub records_accepted: u64,
    /// Records refused (a bad value, a conflicting duplicate, a short row).
    pub records_rejected: u64,
    /// Identical duplicates skipped.
    pub duplicates_skipped: u64,
    /// Errors found (a record may have several).
    pub errors: u64,
    /// Warnings (an identical duplicate skipped).
    pub warnings: u64,
    /// The first issues of each severity (as many as [`CdrReadOptions::max_issues`]), in read order.
    pub issues: Vec<LoadIssue>,
}

impl CdrDiagnostics {
    /// How many issues were found but not kept in [`CdrDiagnostics::issues`].
    ///
    /// ```
    /// assert_eq!(wholesale_billing::CdrDiagnostics::default().issues_left_out(), 0);
    /// ```
    pub fn issues_left_out(&self) -> u64 {
        (self.errors + self.warnings).saturating_sub(self.issues.len() as u64)
    }
}

/// Where a known field was in the record being read: its line and column (CSV) or the line,
/// column and key of its JSON key.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Place {
    pub(crate) line: u64,
    pub(crate) column: Option<usize>,
    /// The key as written, an index into the record's names (JSON).
    pub(crate) key: Option<u32>,
}

/// Reads call records from any number of inputs, CSV or JSON, as one stream.
///
/// Each input is read by one call of [`CdrReader::read`], in order (its index in issues and
/// origins is the number of inputs read before it); [`CdrReader::finish`] ends the read. The
/// reader fills one [`CallRecord`] in place and lends it to the consumer: nothing is kept per
/// record but its `Report ID` and fingerprint (see [`Deduplicator`]), so a month of 10 million
/// records is never held whole.
///
/// The values follow SPEC §7.7: `Start time` RFC 3339 with an offset and 0 to 9 fraction digits,
/// `Duration` digits only, `Answered` `true`/`false` in any case, `Site timezone` signed minutes
/// within ±1440 (empty or null is 0); in JSON `Answered` may be a boolean, `Duration` a number or
/// a digit string, `Site timezone` a number or a string. Required: `Report ID`, `Start time`,
/// `Duration`, `Direction`, `Call type`, `Answered` and `Org UUID` (in CSV their columns must be in
/// the header); `Called number`, `Calling number`, `User UUID` and `Site timezone` may be empty
/// or absent. Column names and keys compare ignoring case, spaces and underscores; every other
/// column or key is kept as text on the record.
///
/// ```
/// use wholesale_billing::{CdrFormat, CdrReadOptions, CdrReader, LoadMode};
/// let csv = "Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID,Called number\n\
///            r1,2024-05-03T10:30:00Z,61,ORIGINATING,SIP_NATIONAL,true,org-1,+44 20 7946 0000\n\
///            r2,2024-05-03T10:31:00Z,12.5,ORIGINATING,SIP_NATIONAL,true,org-1,\n";
/// let json = r#"{"items": [
///   {"Report ID": "r3", "Start time": "2024-05-03T11:30:00+01:00", "Duration": 30,
///    "Direction": "ORIGINATING", "Call type": "SIP_MOBILE", "Answered": true, "Org UUID": "org-1"},
///   {"Report ID": "r1", "Start time": "2024-05-03T10:30:00Z", "Duration": "61",
///    "Direction": "ORIGINATING", "Call type": "SIP_NATIONAL", "Answered": "TRUE", "Org UUID": "org-1",
///    "Called number": "+44 20 7946 0000"}
/// ]}"#;
/// let lenient = CdrReadOptions { mode: LoadMode::Lenient, ..CdrReadOptions::default() };
/// let mut reader = CdrReader::new(lenient);
/// let mut seconds = 0;
/// reader.read(csv.as_bytes(), None, |r| { seconds += r.duration(); Ok(()) })?;
/// reader.read(json.as_bytes(), Some(CdrFormat::Json), |r| { seconds += r.duration(); Ok(()) })?;
/// let diagnostics = reader.finish()?;
/// assert_eq!(seconds, 91); // r1 once (its JSON copy is an identical duplicate) and r3
/// assert_eq!((diagnostics.records_read, diagnostics.records_accepted), (4, 2));
/// assert_eq!(diagnostics.duplicates_skipped, 1);
/// assert_eq!(diagnostics.issues[0].to_string(),
///     "input 1, line 3, column 3 (Duration): error: invalid duration \"12.5\": whole seconds, digits only");
/// assert_eq!(diagnostics.issues[1].to_string(),
///     "input 2, line 4, column 4 (items[1].Report ID): warning: an identical duplicate of the record \
///      at input 1, line 2: skipped");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug)]
pub struct CdrReader {
    pub(crate) options: CdrReadOptions,
    pub(crate) record: CallRecord,
    dedup: Option<Deduplicator>,
    pub(crate) diagnostics: CdrDiagnostics,
    errors_kept: usize,
    warnings_kept: usize,
    /// Where each known field of the record being read is.
    pub(crate) places: [Place; 11],
    /// The index of the input being read.
    pub(crate) input: usize,
    /// Value errors of the record being read, reused.
    pending: Vec<(CdrField, ValueError)>,
    /// Threads that read a CSV input (see [`CdrReader::threads`]).
    threads: usize,
    /// Duplicates are left to the consumer, which finds them after the read
    /// ([`CdrReader::defer_duplicates`]).
    pub(crate) deferred: bool,
    /// For each issue kept, the index of the record it is about (records read before it), so that
    /// issues found later about a record can be put in read order among them.
    pub(crate) issue_records: Vec<u64>,
}

pub(crate) use crate::parallel::default_threads;

impl CdrReader {
    /// A reader with no input read yet.
    pub fn new(options: CdrReadOptions) -> Self {
        CdrReader {
            options,
            record: CallRecord::default(),
            dedup: options.deduplicate.then(Deduplicator::new),
            diagnostics: CdrDiagnostics::default(),
            errors_kept: 0,
            warnings_kept: 0,
            places: [Place::default(); 11],
            input: 0,
            pending: Vec::new(),
            threads: default_threads(),
            deferred: false,
            issue_records: Vec::new(),
        }
    }

    /// Duplicates are not looked for while reading: every valid record is passed on, with its
    /// fingerprint, its index among the records read and the place of its `Report ID`, even
    /// after an error of a strict read, and the consumer finds the duplicates after the read
    /// (the rating run does, partitioned on disk, in bounded memory).
    pub(crate) fn defer_duplicates(mut self) -> Self {
        self.dedup = None;
        self.deferred = true;
        self
    }

    /// Whether the records passed on carry their fingerprint (for a deduplicator).
    pub(crate) fn fingerprints(&self) -> bool {
        self.dedup.is_some() || self.deferred
    }

    /// The threads that read a CSV input (default: the machine's available parallelism). With
    /// N of two or more, the calling thread cuts the input into parts of whole rows (about 1 MiB
    /// each, cut at a line break outside quotes) and hands them round to N − 1 worker threads,
    /// which split them into rows and make them records (their values put and parsed), while the
    /// calling thread takes the records back in input order, removes duplicates and calls the
    /// consumer: the same records in the same order, the same issues, as with one. JSON inputs
    /// are read by the calling thread alone. 0 counts as 1.
    ///
    /// ```
    /// use wholesale_billing::{CdrReadOptions, CdrReader};
    /// let csv = "Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID\n\
    ///            r1,2024-05-03T10:30:00Z,61,ORIGINATING,SIP_NATIONAL,true,org-1\n\
    ///            r2,2024-05-03T10:31:00Z,5,ORIGINATING,SIP_NATIONAL,true,org-1\n";
    /// let mut ids = [Vec::new(), Vec::new()];
    /// for (threads, ids) in [1, 7].into_iter().zip(&mut ids) {
    ///     let mut reader = CdrReader::new(CdrReadOptions::default()).threads(threads);
    ///     reader.read(csv.as_bytes(), None, |r| { ids.push(r.report_id().to_owned()); Ok(()) })?;
    ///     assert_eq!(reader.finish()?.records_accepted, 2);
    /// }
    /// assert_eq!(ids[0], ["r1", "r2"]);
    /// assert_eq!(ids[0], ids[1]);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Reads one input, CSV or JSON (`None`: told by its first bytes, [`CdrFormat::detect`]),
    /// calling `on_record` with each distinct, valid record in input order.
    ///
    /// # Errors
    /// [`Error::Io`] when reading fails; [`Error::Rejected`] when a CSV header lacks a required
    /// column or names one twice, or the input is empty; whatever `on_record` returns, which stops
    /// the read. Bad records are not errors here: they are in the diagnostics, and make
    /// [`CdrReader::finish`] fail in strict mode.
    pub fn read<R: Read>(
        &mut self,
        input: R,
        format: Option<CdrFormat>,
        mut on_record: impl FnMut(&CallRecord) -> Result<()>,
    ) -> Result<()> {
        let mut input = BufReader::with_capacity(1 << 16, input);
        let format = match format {
            Some(format) => format,
            None => {
                let start = input
                    .fill_buf()
                    .map_err(|e| Error::io(format!("reading call records input {}", self.input + 1), e))?;
                CdrFormat::detect(start)
            }
        };
        self.diagnostics.inputs += 1;
        let threads = self.threads;
        let result = match format {
            CdrFormat::Csv => super::csv_input::read_csv(self, input, &mut on_record, threads),
            CdrFormat::Json => super::json_input::read_json(self, input, &mut on_record),
        };
        self.input += 1;
        result
    }

    /// What the read found so far.
    pub fn diagnostics(&self) -> &CdrDiagnostics {
        &self.diagnostics
    }

    /// The deduplicator of the read (`None` when [`CdrReadOptions::deduplicate`] is off), e.g.
    /// for its memory use.
    pub fn deduplicator(&self) -> Option<&Deduplicator> {
        self.dedup.as_ref()
    }

    /// Ends the read.
    ///
    /// # Errors
    /// [`Error::RecordsRejected`] in strict mode when any error was found: the first
    /// [`CdrReadOptions::max_issues`] errors and their count.
    pub fn finish(self) -> Result<CdrDiagnostics> {
        strict_check(self.options.mode, self.diagnostics)
    }

    /// Ends the read without the strict check: the diagnostics and, for each issue kept, the
    /// index of the record it is about.
    pub(crate) fn finish_unchecked(self) -> (CdrDiagnostics, Vec<u64>) {
        (self.diagnostics, self.issue_records)
    }

    /// Notes an issue: counted, and kept while under the cap of its severity.
    pub(crate) fn issue(&mut self, issue: LoadIssue) {
        let (count, kept) = if issue.is_error() {
            (&mut self.diagnostics.errors, &mut self.errors_kept)
        } else {
            (&mut self.diagnostics.warnings, &mut self.warnings_kept)
        };
        *count += 1;
        if *kept < self.options.max_issues {
            *kept += 1;
            self.diagnostics.issues.push(issue.in_input(self.input));
            self.issue_records.push(self.diagnostics.records_read);
        }
    }

    /// A record read and refused as a whole (a short row, a JSON item that is not an object).
    pub(crate) fn reject(&mut self, issue: LoadIssue) {
        self.issue(issue);
        self.diagnostics.records_read += 1;
        self.diagnostics.records_rejected += 1;
    }

    /// The issue about a known field of the record being read, where that field is.
    pub(crate) fn field_issue(
        &self,
        severity: Severity,
        field: CdrField,
        kind: IssueKind,
        message: String,
    ) -> LoadIssue {
        field_issue_at(&self.record, &self.places, severity, field, kind, message)
    }

    /// The record in `self.record` is filled: parse it, handle duplicates, pass it on.
    ///
    /// `refused` tells that the reader already refused one of its values (bad UTF-8, a key given
    /// twice): the record is then counted as rejected after its other values are checked.
    pub(crate) fn finish_record(
        &mut self,
        refused: bool,
        on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
    ) -> Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.clear();
        let ok = self.record.parse_fields(|field, e| pending.push((field, e)));
        for (field, (kind, message)) in pending.drain(..) {
            let issue = self.field_issue(Severity::Error, field, kind, message);
            self.issue(issue);
        }
        self.pending = pending;
        self.accept(ok && !refused, on_record)
    }

    /// The record in `self.record` is parsed, its value issues noted: count it, and unless
    /// `valid` is false (a value refused), handle duplicates and pass it on.
    pub(crate) fn accept(&mut self, valid: bool, on_record: &mut dyn FnMut(&CallRecord) -> Result<()>) -> Result<()> {
        let read_index = self.diagnostics.records_read;
        self.diagnostics.records_read += 1;
        if !valid {
            self.diagnostics.records_rejected += 1;
            return Ok(());
        }
        if self.deferred {
            self.diagnostics.records_accepted += 1;
            self.record.read_index = read_index;
            self.record.id_place = self.places[CdrField::ReportId.index()];
            return on_record(&self.record);
        }
        if let Some(dedup) = &mut self.dedup {
            match dedup.check(&self.record)? {
                DuplicateCheck::New => {}
                DuplicateCheck::Identical { first } => {
                    self.diagnostics.duplicates_skipped += 1;
                    let issue = self.field_issue(
                        Severity::Warning,
                        CdrField::ReportId,
                        IssueKind::DuplicateRecord,
                        format!("an identical duplicate of the record at {first}: skipped"),
                    );
                    self.issue(issue);
                    return Ok(());
                }
                DuplicateCheck::Conflicting { first } => {
                    self.diagnostics.records_rejected += 1;
                    let message = format!(
                        "report id {} was first read at {first} with other content",
                        Quoted(self.record.report_id())
                    );
                    let issue = self.field_issue(
                        Severity::Error,
                        CdrField::ReportId,
                        IssueKind::ConflictingRecordId,
                        message,
                    );
                    self.issue(issue);
                    return Ok(());
                }
            }
        }
        self.diagnostics.records_accepted += 1;
        if self.options.mode == LoadMode::Lenient || self.diagnostics.errors == 0 {
            on_record(&self.record)?;
        }
        Ok(())
    }

    /// Starts the next record, read at `origin`.
    pub(crate) fn start_record(&mut self, origin: RecordOrigin) {
        self.record.clear(origin);
        self.places = [Place::default(); 11];
    }
}

/// The issue about a known field of `record`, where `places` say that field is.
pub(crate) fn field_issue_at(
    record: &CallRecord,
    places: &[Place; 11],
    severity: Severity,
    field: CdrField,
    kind: IssueKind,
    message: String,
) -> LoadIssue {
    let place = places[field.index()];
    let origin = record.origin;
    let line = if place.line > 0 { place.line } else { origin.line };
    let key = place.key.and_then(|k| record.names.get(k as usize)).map(String::as_str);
    issue_at(line, place.column, origin.item, key, field, (severity, kind, message))
}

/// The issue about `field` of a record: at `line` and `column`, of JSON item `item` under the key
/// as written (`key`, else the field's name) or of a CSV column.
pub(crate) fn issue_at(
    line: u64,
    column: Option<usize>,
    item: Option<u64>,
    key: Option<&str>,
    field: CdrField,
    (severity, kind, message): (Severity, IssueKind, String),
) -> LoadIssue {
    let mut issue = LoadIssue::new(severity, line, kind, message);
    if let Some(item) = item {
        issue.column = column;
        issue = issue.at_path(format!("items[{item}].{}", key.unwrap_or(field.name())));
    } else {
        match column {
            Some(column) => issue = issue.at_column(column, field.name()),
            None => issue.field = Some(field.name().to_owned()),
        }
    }
    issue
}

/// The end of a read: in strict mode any error fails it, with the errors kept.
pub(crate) fn strict_check(mode: LoadMode, mut diagnostics: CdrDiagnostics) -> Result<CdrDiagnostics> {
    if mode == LoadMode::Strict && diagnostics.errors > 0 {
        diagnostics.issues.retain(LoadIssue::is_error);
        return Err(Error::RecordsRejected {
            errors: diagnostics.errors,
            issues: diagnostics.issues,
        });
    }
    Ok(diagnostics)
}

/// Reads every input as one stream with a [`CdrReader`], each in the format its first bytes tell.
///
/// # Errors
/// As [`CdrReader::read`] and [`CdrReader::finish`].
///
/// ```
/// use wholesale_billing::{CdrReadOptions, read_call_records};
/// let csv = "Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID\n\
///            r1,2024-05-03T10:30:00Z,61,ORIGINATING,SIP_NATIONAL,true,org-1\n";
/// let mut ids = Vec::new();
/// let diagnostics = read_call_records([csv.as_bytes()], &CdrReadOptions::default(), |r| {
///     ids.push(r.report_id().to_owned());
///     Ok(())
/// })?;
/// assert_eq!(ids, ["r1"]);
/// assert_eq!(diagnostics.records_accepted, 1);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn read_call_records<R: Read>(
    inputs: impl IntoIterator<Item = R>,
    options: &CdrReadOptions,
    mut on_record: impl FnMut(&CallRecord) -> Result<()>,
) -> Result<CdrDiagnostics> {
    let mut reader = CdrReader::new(*options);
    for input in inputs {
        reader.read(input, None, &mut on_record)?;
    }
    reader.finish()
}
