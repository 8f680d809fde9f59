//! [`CallRecord`]: one call leg with the fields of SPEC §7.1 parsed and every other column kept,
//! and [`RecordOrigin`], where it was read.

use std::fmt;

use crate::error::{Error, IssueKind, Result};
use crate::rating::{CallType, Direction};

use super::call_time::CallTime;
use super::field::{self, CdrField, MAX_SITE_OFFSET_MINUTES, ValueError};

/// Where a call record was read: which input of several read as one, and its line (CSV; for JSON
/// the line of its first key) and, in JSON, its index in `items`.
///
/// ```
/// use wholesale_billing::RecordOrigin;
/// let csv = RecordOrigin { input: 0, line: 7, item: None };
/// assert_eq!(csv.to_string(), "input 1, line 7");
/// let json = RecordOrigin { input: 1, line: 12, item: Some(3) };
/// assert_eq!(json.to_string(), "input 2, line 12 at items[3]");
/// let remembered = RecordOrigin { input: 1, line: 0, item: Some(3) };
/// assert_eq!(remembered.to_string(), "input 2 at items[3]");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RecordOrigin {
    /// The 0-based index of the input among those read as one, in the order given.
    pub input: usize,
    /// The 1-based line (0 when not known: an origin remembered by a [`Deduplicator`](crate::Deduplicator)
    /// for a JSON item keeps its index only).
    pub line: u64,
    /// The 0-based index of the record in the JSON `items` array; `None` for CSV.
    pub item: Option<u64>,
}

impl fmt::Display for RecordOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input {}", self.input + 1)?;
        if self.line > 0 {
            write!(f, ", line {}", self.line)?;
        }
        if let Some(item) = self.item {
            write!(f, " at items[{item}]")?;
        }
        Ok(())
    }
}

/// The fields of SPEC §7.1 of a call record, borrowed: what [`CallRecord::fields`] gives and
/// [`CallRecord::from_fields`] takes. Two records with equal fields are identical duplicates when
/// they share a `Report ID`.
///
/// ```
/// use wholesale_billing::{CallFields, CallRecord, CallTime, CallType, Direction};
/// let fields = CallFields {
///     report_id: "r1",
///     start_time: CallTime::parse("2024-05-03T10:30:00Z")?,
///     duration: 61,
///     direction: Direction::Originating,
///     call_type: CallType::SipNational,
///     answered: true,
///     called_number: "+44 20 7946 0000",
///     calling_number: "+44 20 7946 0001",
///     org_uuid: "org-1",
///     user_uuid: "user-1",
///     site_timezone: 60,
/// };
/// let record = CallRecord::from_fields(&fields)?;
/// assert_eq!(record.fields(), fields);
/// assert_eq!(record.duration(), 61);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallFields<'a> {
    /// `Report ID`: the record's unique id.
    pub report_id: &'a str,
    /// `Start time`.
    pub start_time: CallTime,
    /// `Duration`, whole seconds.
    pub duration: u32,
    /// `Direction`.
    pub direction: Direction,
    /// `Call type`.
    pub call_type: CallType,
    /// `Answered`.
    pub answered: bool,
    /// `Called number`, as given (may be empty).
    pub called_number: &'a str,
    /// `Calling number`, as given (may be empty).
    pub calling_number: &'a str,
    /// `Org UUID`: the customer organisation.
    pub org_uuid: &'a str,
    /// `User UUID` (may be empty).
    pub user_uuid: &'a str,
    /// `Site timezone`: minutes east of UTC, within ±1440.
    pub site_timezone: i16,
}

/// A value as a reader met it, before the rules of SPEC §7.7 are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum RawValue {
    /// Not in the record (no such column or key).
    #[default]
    Absent,
    /// JSON `null`.
    Null,
    /// Text (a CSV field, a JSON string): a span of the record's text.
    Text(u32, u32),
    /// A JSON boolean.
    Bool(bool),
    /// A JSON number, written in the record's text (a float with its fraction: `36.0`, `1e3` as
    /// `1000.0`), so that the rules on text refuse what is not whole.
    Number(u32, u32),
    /// A JSON array or object, written in the record's text.
    Composite(u32, u32),
}

/// The text fields, in the order of [`CallRecord::spans`].
const TEXT_FIELDS: [CdrField; 5] = [
    CdrField::ReportId,
    CdrField::CalledNumber,
    CdrField::CallingNumber,
    CdrField::OrgUuid,
    CdrField::UserUuid,
];

fn text_slot(field: CdrField) -> Option<usize> {
    TEXT_FIELDS.iter().position(|&f| f == field)
}

/// One call leg (a CDR): the fields of SPEC §7.1 parsed, where it was read, and every other
/// column (CSV) or key (JSON) kept as text, by name, in input order.
///
/// A reader fills one record in place and lends it to its consumer ([`CdrReader::read`](crate::CdrReader::read)):
/// its buffers are reused, so reading allocates nothing per record once they have grown. Clone a
/// record to keep it.
///
/// Two records are equal (`==`) when their fields of SPEC §7.1 and their other columns (names
/// and values, in order) are equal; where they were read does not count.
///
/// ```
/// use wholesale_billing::{CallRecord, CallType, CdrReadOptions, read_call_records};
/// let csv = "Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID,Location\n\
///            r1,2024-05-03T10:30:00Z,36,ORIGINATING,SIP_MOBILE,true,org-1,Leeds\n";
/// let mut records: Vec<CallRecord> = Vec::new();
/// read_call_records([csv.as_bytes()], &CdrReadOptions::default(), |r| {
///     records.push(r.clone());
///     Ok(())
/// })?;
/// assert_eq!(records[0].report_id(), "r1");
/// assert_eq!(records[0].call_type(), CallType::SipMobile);
/// assert_eq!(records[0].other("location"), Some("Leeds"));
/// assert_eq!(records[0].others().collect::<Vec<_>>(), [("Location", "Leeds")]);
/// assert_eq!(records[0].origin().line, 2);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallRecord {
    pub(crate) start_time: CallTime,
    pub(crate) duration: u32,
    pub(crate) direction: Option<Direction>,
    pub(crate) call_type: Option<CallType>,
    pub(crate) answered: bool,
    pub(crate) site_timezone: i16,
    pub(crate) origin: RecordOrigin,
    /// Every text of the record: the parsed text fields, the raw values, the other columns.
    pub(crate) text: String,
    /// Spans of `text`: `Report ID`, `Called number`, `Calling number`, `Org UUID`, `User UUID`.
    spans: [(u32, u32); 5],
    /// The values of the known fields as met, by [`CdrField::index`].
    pub(crate) raw: [RawValue; 11],
    /// The other columns: (index into `names`, span of `text`), in input order.
    pub(crate) other: Vec<(u32, u32, u32)>,
    /// Names of other columns (the CSV header's, the JSON keys met so far).
    pub(crate) names: Vec<String>,
    /// Where the fields are of the CSV row the record was read from, when the row is lent
    /// (`in_row`): a row of valid UTF-8 becomes `text` whole rather than copied field by field.
    pub(crate) row: crate::csvsplit::Row,
    /// The other columns of `row`: (0-based column, index into `names`), set once per input.
    pub(crate) row_others: Vec<(usize, u32)>,
    /// Whether the other columns are those of `row` (else those of `other`).
    pub(crate) in_row: bool,
    /// Whether its texts are known to hold no comma, quote or line break (a CSV row read
    /// without quotes): they are written to CSV as they are, unchecked.
    pub(crate) plain: bool,
    /// [`CallRecord::content_fingerprint`], when the reader computed it (on its worker thread).
    pub(crate) fingerprint: Option<u64>,
    /// The record's index among the records read (set by a reader that defers duplicates).
    pub(crate) read_index: u64,
    /// Where its `Report ID` is (set by a reader that defers duplicates).
    pub(crate) id_place: super::reader::Place,
}

impl CallRecord {
    /// A record of the given fields, without other columns, read nowhere (origin: input 0, line 0).
    ///
    /// # Errors
    /// [`Error::Rejected`] (as the readers report it, at line 0) when a required text field is
    /// empty (`Report ID`, `Org UUID`) or `site_timezone` is beyond ±1440.
    ///
    /// ```
    /// use wholesale_billing::{CallFields, CallRecord, CallTime, CallType, Direction};
    /// let mut fields = CallFields {
    ///     report_id: "r1", start_time: CallTime::from_nanos(0), duration: 0,
    ///     direction: Direction::Terminating, call_type: CallType::SipInbound, answered: false,
    ///     called_number: "", calling_number: "", org_uuid: "org-1", user_uuid: "", site_timezone: 0,
    /// };
    /// assert!(CallRecord::from_fields(&fields).is_ok());
    /// fields.site_timezone = 1441;
    /// assert!(CallRecord::from_fields(&fields).is_err());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_fields(fields: &CallFields<'_>) -> Result<Self> {
        let mut record = CallRecord::default();
        let mut issues = Vec::new();
        if i32::from(fields.site_timezone).abs() > i32::from(MAX_SITE_OFFSET_MINUTES) {
            issues.push((
                CdrField::SiteTimezone,
                (
                    IssueKind::InvalidValue,
                    format!(
                        "invalid site timezone \"{}\": beyond ±1440 minutes (a day) from utc",
                        fields.site_timezone
                    ),
                ),
            ));
        }
        for (field, text) in [
            (CdrField::ReportId, fields.report_id),
            (CdrField::CalledNumber, fields.called_number),
            (CdrField::CallingNumber, fields.calling_number),
            (CdrField::OrgUuid, fields.org_uuid),
            (CdrField::UserUuid, fields.user_uuid),
        ] {
            if let Err(e) = record.push_raw_text(field, text) {
                issues.push((field, e));
            }
        }
        record.start_time = fields.start_time;
        record.duration = fields.duration;
        record.direction = Some(fields.direction);
        record.call_type = Some(fields.call_type);
        record.answered = fields.answered;
        record.site_timezone = fields.site_timezone;
        for (field, slot) in TEXT_FIELDS.iter().zip(0..) {
            match record.raw[field.index()] {
                RawValue::Text(start, end) => record.spans[slot] = (start, end),
                _ => record.spans[slot] = (0, 0),
            }
            if field.is_required() && record.spans[slot].0 == record.spans[slot].1 {
                issues.push((*field, missing(*field)));
            }
        }
        if issues.is_empty() {
            return Ok(record);
        }
        Err(Error::Rejected {
            source_name: "call record",
            issues: issues
                .into_iter()
                .map(|(field, (kind, message))| {
                    let mut issue = crate::error::LoadIssue::new(crate::error::Severity::Error, 0, kind, message);
                    issue.field = Some(field.name().to_owned());
                    issue
                })
                .collect(),
        })
    }

    /// The fields of SPEC §7.1.
    ///
    /// ```
    /// # use wholesale_billing::{CallFields, CallRecord, CallTime, CallType, Direction};
    /// # let fields = CallFields { report_id: "r1", start_time: CallTime::from_nanos(0), duration: 5,
    /// #     direction: Direction::Originating, call_type: CallType::SipNational, answered: true,
    /// #     called_number: "0207", calling_number: "", org_uuid: "o", user_uuid: "", site_timezone: 0 };
    /// let record = CallRecord::from_fields(&fields)?;
    /// assert_eq!(record.fields().called_number, "0207");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn fields(&self) -> CallFields<'_> {
        CallFields {
            report_id: self.report_id(),
            start_time: self.start_time,
            duration: self.duration,
            direction: self.direction(),
            call_type: self.call_type(),
            answered: self.answered,
            called_number: self.called_number(),
            calling_number: self.calling_number(),
            org_uuid: self.org_uuid(),
            user_uuid: self.user_uuid(),
            site_timezone: self.site_timezone,
        }
    }

    /// Reads a byte of each cache line of the record's text and gives something of them (for
    /// [`std::hint::black_box`]): a thread about to take many records made on another thread
    /// reads their texts together, in a loop whose reads do not wait for each other, instead of
    /// waiting for memory once a record.
    #[inline]
    pub(crate) fn touch(&self) -> u8 {
        self.text.as_bytes().iter().step_by(64).fold(0, |seen, &b| seen ^ b)
    }

    fn span(&self, slot: usize) -> &str {
        let (start, end) = self.spans.get(slot).copied().unwrap_or((0, 0));
        self.text.get(start as usize..end as usize).unwrap_or("")
    }

    /// `Report ID`: the record's unique id.
    pub fn report_id(&self) -> &str {
        self.span(0)
    }

    /// `Start time`.
    pub fn start_time(&self) -> CallTime {
        self.start_time
    }

    /// `Duration`, whole seconds.
    pub fn duration(&self) -> u32 {
        self.duration
    }

    /// `Direction`.
    pub fn direction(&self) -> Direction {
        self.direction.unwrap_or(Direction::Originating)
    }

    /// `Call type`.
    pub fn call_type(&self) -> CallType {
        self.call_type.unwrap_or(CallType::Unknown)
    }

    /// `Answered`.
    pub fn answered(&self) -> bool {
        self.answered
    }

    /// `Called number`, as given (may be empty).
    pub fn called_number(&self) -> &str {
        self.span(1)
    }

    /// `Calling number`, as given (may be empty).
    pub fn calling_number(&self) -> &str {
        self.span(2)
    }

    /// `Org UUID`: the customer organisation.
    pub fn org_uuid(&self) -> &str {
        self.span(3)
    }

    /// `User UUID` (may be empty).
    pub fn user_uuid(&self) -> &str {
        self.span(4)
    }

    /// `Site timezone`: minutes east of UTC, within ±1440 (0 when empty or absent).
    pub fn site_timezone(&self) -> i16 {
        self.site_timezone
    }

    /// Where the record was read.
    pub fn origin(&self) -> RecordOrigin {
        self.origin
    }

    /// The value of the other column (or key) `name`, as sent: a column named exactly `name`,
    /// else one whose name is `name` ignoring case, spaces, underscores and other punctuation
    /// (`"location"` finds `Location`, `"client_type"` finds `Client type`). JSON values that are
    /// not strings are given as JSON text (`36`, `true`); `null` is empty.
    ///
    /// ```
    /// # use wholesale_billing::{CdrReadOptions, read_call_records};
    /// let json = r#"{"items": [{"Report ID": "r1", "Start time": "2024-05-03T10:30:00Z", "Duration": 36,
    ///   "Direction": "ORIGINATING", "Call type": "SIP_NATIONAL", "Answered": "true", "Org UUID": "o",
    ///   "Client type": "WXC_DEVICE", "Ring duration": 4}]}"#;
    /// read_call_records([json.as_bytes()], &CdrReadOptions::default(), |r| {
    ///     assert_eq!(r.other("client_type"), Some("WXC_DEVICE"));
    ///     assert_eq!(r.other("Ring duration"), Some("4"));
    ///     assert_eq!(r.other("Duration"), None); // a field of SPEC §7.1, not an other column
    ///     Ok(())
    /// })?;
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn other(&self, name: &str) -> Option<&str> {
        let exact = self.others().find(|(n, _)| *n == name);
        exact
            .or_else(|| self.others().find(|(n, _)| names_match(n, name)))
            .map(|(_, value)| value)
    }

    /// Every other column (or key) as (name, value), in input order.
    pub fn others(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let name = |name: u32| self.names.get(name as usize).map_or("", String::as_str);
        let copied = self
            .other
            .iter()
            .map(move |&(n, start, end)| (name(n), self.text.get(start as usize..end as usize).unwrap_or("")));
        // A lent row is the record's text; its fields are spans of it.
        let lent: &[(usize, u32)] = if self.in_row { &self.row_others } else { &[] };
        let in_row = lent.iter().map(move |&(col, n)| {
            let value = self.row.span(col).and_then(|(start, end)| self.text.get(start..end));
            (name(n), value.unwrap_or(""))
        });
        copied.chain(in_row)
    }

    // ---- filling, for the readers ----

    /// Empties the record for the next one read (keeping its buffers and names).
    pub(crate) fn clear(&mut self, origin: RecordOrigin) {
        self.text.clear();
        self.raw = [RawValue::Absent; 11];
        self.other.clear();
        self.in_row = false;
        self.plain = false;
        self.fingerprint = None;
        self.origin = origin;
    }

    /// The 64-bit fingerprint (XXH3) of the fields of SPEC §7.1 other than `Report ID`, after
    /// parsing: what tells an identical duplicate from a conflicting one (within one run: it is
    /// never stored). The numbers are hashed as 16 bytes, then each text with the hash so far
    /// as its seed (a text's end is where its hash ends), rather than all copied into one buffer
    /// first: 538 instructions a call record (the hashing included) became 417.
    pub(crate) fn content_fingerprint(&self) -> u64 {
        use xxhash_rust::xxh3::xxh3_64_with_seed;
        let f = self.fields();
        let mut numbers = [0u8; 16];
        numbers[..8].copy_from_slice(&f.start_time.as_nanos().to_le_bytes());
        numbers[8..12].copy_from_slice(&f.duration.to_le_bytes());
        numbers[12] = f.direction as u8;
        numbers[13] = f.call_type as u8;
        numbers[14..16].copy_from_slice(&f.site_timezone.to_le_bytes());
        let seed = u64::from(f.answered);
        [f.called_number, f.calling_number, f.org_uuid, f.user_uuid]
            .into_iter()
            .fold(xxh3_64_with_seed(&numbers, seed), |hash, text| {
                xxh3_64_with_seed(text.as_bytes(), hash)
            })
    }

    /// Appends `text` to the record's text and returns its span.
    pub(crate) fn push_text(&mut self, text: &str) -> std::result::Result<(u32, u32), ValueError> {
        let start = self.text.len();
        self.text.push_str(text);
        match (u32::try_from(start), u32::try_from(self.text.len())) {
            (Ok(start), Ok(end)) => Ok((start, end)),
            _ => Err((IssueKind::InvalidValue, "the record is over 4 GiB of text".to_owned())),
        }
    }

    /// Appends a value written by `Display` to the record's text and returns its span.
    pub(crate) fn push_display(&mut self, value: impl fmt::Display) -> std::result::Result<(u32, u32), ValueError> {
        use std::fmt::Write as _;
        let start = self.text.len();
        // Writing to a `String` cannot fail.
        let _ = write!(self.text, "{value}");
        match (u32::try_from(start), u32::try_from(self.text.len())) {
            (Ok(start), Ok(end)) => Ok((start, end)),
            _ => Err((IssueKind::InvalidValue, "the record is over 4 GiB of text".to_owned())),
        }
    }

    /// Records the raw text of a known field.
    pub(crate) fn push_raw_text(&mut self, field: CdrField, text: &str) -> std::result::Result<(), ValueError> {
        let (start, end) = self.push_text(text)?;
        self.raw[field.index()] = RawValue::Text(start, end);
        Ok(())
    }

    /// Records the raw text of a known field that is already in the record's text, at
    /// `start..end` (a field of the row lent as the text), without its surrounding ASCII space.
    pub(crate) fn raw_text_span(
        &mut self,
        field: CdrField,
        start: usize,
        end: usize,
    ) -> std::result::Result<(), ValueError> {
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(start), Ok(end)) if start <= end && end as usize <= self.text.len() => {
                let (start, end) = trimmed_span(&self.text, start, end);
                self.raw[field.index()] = RawValue::Text(start, end);
                Ok(())
            }
            _ => Err((IssueKind::InvalidValue, "a field outside the row's text".to_owned())),
        }
    }

    /// Records the value of an other column `name` (an index into the names).
    pub(crate) fn push_other(&mut self, name: u32, text: &str) -> std::result::Result<(), ValueError> {
        let (start, end) = self.push_text(text)?;
        self.other.push((name, start, end));
        Ok(())
    }

    /// Applies the value rules of SPEC §7.7 to the raw values: sets the parsed fields and calls
    /// `issue` for every field refused (after which the record must not be used). Returns whether
    /// every field was accepted.
    pub(crate) fn parse_fields(&mut self, mut issue: impl FnMut(CdrField, ValueError)) -> bool {
        let mut ok = true;
        for field in CdrField::ALL {
            if let Err(e) = self.parse_field(field) {
                ok = false;
                issue(field, e);
            }
        }
        ok
    }

    fn parse_field(&mut self, field: CdrField) -> std::result::Result<(), ValueError> {
        let raw = self.raw[field.index()];
        // The text of the value, for fields read from text; JSON booleans and numbers apart.
        let text: &[u8] = match raw {
            RawValue::Absent | RawValue::Null => b"",
            RawValue::Text(s, e) | RawValue::Number(s, e) | RawValue::Composite(s, e) => self
                .text
                .as_bytes()
                .get(s as usize..e as usize)
                .unwrap_or(&[])
                .trim_ascii(),
            RawValue::Bool(_) => b"",
        };
        if field.is_required() && (text.is_empty() && !matches!(raw, RawValue::Bool(_))) {
            return Err(missing(field));
        }
        match (field, raw) {
            (_, RawValue::Composite(..)) => return Err(wrong_json_type(field, "an array or object")),
            (CdrField::Answered, RawValue::Bool(b)) => self.answered = b,
            (_, RawValue::Bool(_)) => return Err(wrong_json_type(field, "a boolean")),
            (
                CdrField::StartTime | CdrField::Direction | CdrField::CallType | CdrField::Answered,
                RawValue::Number(..),
            ) => {
                return Err(wrong_json_type(field, "a number"));
            }
            _ => {}
        }
        match field {
            CdrField::StartTime => self.start_time = field::parse_start_time(text)?,
            CdrField::Duration => self.duration = field::parse_duration(text)?,
            CdrField::Direction => self.direction = Some(field::parse_direction(text)?),
            CdrField::CallType => self.call_type = Some(field::parse_call_type(text)?),
            CdrField::Answered => {
                if !matches!(raw, RawValue::Bool(_)) {
                    self.answered = field::parse_answered(text)?;
                }
            }
            CdrField::SiteTimezone => self.site_timezone = field::parse_site_timezone(text)?,
            CdrField::ReportId
            | CdrField::CalledNumber
            | CdrField::CallingNumber
            | CdrField::OrgUuid
            | CdrField::UserUuid => {
                let span = match raw {
                    RawValue::Text(s, e) | RawValue::Number(s, e) => trimmed_span(&self.text, s, e),
                    _ => (0, 0),
                };
                if let Some(slot) = text_slot(field) {
                    self.spans[slot] = span;
                }
            }
        }
        Ok(())
    }
}

/// The span `(start, end)` of `text` without its surrounding ASCII white space.
fn trimmed_span(text: &str, start: u32, end: u32) -> (u32, u32) {
    let bytes = text.as_bytes().get(start as usize..end as usize).unwrap_or(&[]);
    let lead = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let trail = bytes[lead..]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    (start + lead as u32, end - trail as u32)
}

fn missing(field: CdrField) -> ValueError {
    (IssueKind::MissingField, format!("{} is required", field.name()))
}

fn wrong_json_type(field: CdrField, found: &str) -> ValueError {
    (
        IssueKind::InvalidValue,
        format!(
            "invalid {}: {found}, where text is expected",
            field.name().to_lowercase()
        ),
    )
}

/// Whether two column names are the same ignoring case and every character other than letters
/// and digits.
pub(crate) fn names_match(a: &str, b: &str) -> bool {
    let mut a = a.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase);
    let mut b = b.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (x, y) if x == y => {}
            _ => return false,
        }
    }
}

impl PartialEq for CallRecord {
    fn eq(&self, other: &Self) -> bool {
        self.fields() == other.fields() && self.others().eq(other.others())
    }
}

impl Eq for CallRecord {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_but_the_report_id_changes_the_fingerprint() -> Result<()> {
        let base = CallFields {
            report_id: "r1",
            start_time: CallTime::from_nanos(1_714_560_000_000_000_000),
            duration: 61,
            direction: Direction::Originating,
            call_type: CallType::SipNational,
            answered: true,
            called_number: "12",
            calling_number: "345",
            org_uuid: "org",
            user_uuid: "user",
            site_timezone: 60,
        };
        let print = |f: &CallFields<'_>| CallRecord::from_fields(f).map(|r| r.content_fingerprint());
        let first = print(&base)?;
        assert_eq!(
            print(&CallFields {
                report_id: "r2",
                ..base
            })?,
            first
        );
        let others = [
            CallFields {
                start_time: CallTime::from_nanos(1_714_560_000_000_000_001),
                ..base
            },
            CallFields { duration: 60, ..base },
            CallFields {
                direction: Direction::Terminating,
                ..base
            },
            CallFields {
                call_type: CallType::SipMobile,
                ..base
            },
            CallFields {
                answered: false,
                ..base
            },
            CallFields {
                called_number: "13",
                ..base
            },
            // The same bytes cut elsewhere between two texts.
            CallFields {
                called_number: "123",
                calling_number: "45",
                ..base
            },
            CallFields {
                calling_number: "",
                ..base
            },
            CallFields {
                org_uuid: "orh",
                ..base
            },
            CallFields {
                org_uuid: "o",
                user_uuid: "rguser",
                ..base
            },
            CallFields {
                user_uuid: "usr",
                ..base
            },
            CallFields {
                site_timezone: -60,
                ..base
            },
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(print(other)?, first, "change {i}");
        }
        Ok(())
    }

    #[test]
    fn names_match_ignores_case_and_punctuation() {
        assert!(names_match("Client type", "client_type"));
        assert!(names_match("ClientType", "CLIENT-TYPE"));
        assert!(!names_match("Client type", "Client"));
    }

    #[test]
    fn trimmed_spans() {
        assert_eq!(trimmed_span("  ab ", 0, 5), (2, 4));
        assert_eq!(trimmed_span("   ", 0, 3), (3, 3));
    }
}
