//! One call record as text: the 85 columns of the Webex "Detailed Call History" in the order of
//! the CDR API's specification, written as a CSV row or as a feed JSON object.

/// Every column of the detailed call history, in the order of the CDR feed API's specification
/// (`reference/webex-api.md` §3.2); the CSV header and the JSON keys.
///
/// ```
/// use wholesale_billing::synthetic::CDR_COLUMNS;
/// assert_eq!(CDR_COLUMNS.len(), 85);
/// assert_eq!(CDR_COLUMNS[59], "Start time");
/// assert!(CDR_COLUMNS.contains(&"Report ID"));
/// ```
pub const CDR_COLUMNS: [&str; 85] = [
    "Answer indicator",
    "Answer time",
    "Answered",
    "Authorization code",
    "Call ID",
    "Caller ID number",
    "Call outcome",
    "Call outcome reason",
    "Call Recording Platform Name",
    "Call Recording Result",
    "Call Recording Trigger",
    "Call transfer Time",
    "Call type",
    "Called line ID",
    "Called number",
    "Calling line ID",
    "Calling number",
    "Client type",
    "Client version",
    "Correlation ID",
    "Department ID",
    "Device MAC",
    "Device owner UUID",
    "Dialed digits",
    "Direction",
    "Duration",
    "External caller ID number",
    "Final local SessionID",
    "Final remote SessionID",
    "Inbound trunk",
    "International country",
    "Local call ID",
    "Local SessionID",
    "Location",
    "Model",
    "Network call ID",
    "Org UUID",
    "Original reason",
    "OS type",
    "Outbound trunk",
    "Public Called IP Address",
    "Public Calling IP Address",
    "Release time",
    "Ring duration",
    "Redirecting party UUID",
    "Redirect reason",
    "Redirecting number",
    "Related call ID",
    "Related reason",
    "Releasing party",
    "Remote call ID",
    "Remote SessionID",
    "Report ID",
    "Report time",
    "Route group",
    "Route list calls overage",
    "Site main number",
    "Site timezone",
    "Site UUID",
    "Start time",
    "Sub client type",
    "Transfer related call ID",
    "User",
    "User number",
    "User type",
    "User UUID",
    "PSTN Vendor Name",
    "PSTN Legal Entity",
    "PSTN Vendor Org ID",
    "PSTN Provider ID",
    "Original Called Party UUID",
    "Recall Type",
    "Hold Duration",
    "Auto Attendant Key Pressed",
    "Queue Type",
    "Answered Elsewhere",
    "Caller Reputation Score",
    "Caller Reputation Service Result",
    "Caller Reputation Score Reason",
    "Interaction ID",
    "WxCC consult merge status",
    "ELIN",
    "Emergency number source",
    "Transfer type",
    "Transfer type context",
];

/// The columns the generator fills, by their index in [`CDR_COLUMNS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(super) enum Col {
    AnswerIndicator = 0,
    AnswerTime = 1,
    Answered = 2,
    CallId = 4,
    CallOutcome = 6,
    CallOutcomeReason = 7,
    CallType = 12,
    CalledNumber = 14,
    CallingNumber = 16,
    ClientType = 17,
    ClientVersion = 18,
    CorrelationId = 19,
    DeviceMac = 21,
    DialedDigits = 23,
    Direction = 24,
    Duration = 25,
    InternationalCountry = 30,
    Location = 33,
    Model = 34,
    OrgUuid = 36,
    OsType = 38,
    ReleaseTime = 42,
    RingDuration = 43,
    ReleasingParty = 49,
    ReportId = 52,
    SiteMainNumber = 56,
    SiteTimezone = 57,
    SiteUuid = 58,
    StartTime = 59,
    UserNumber = 63,
    UserType = 64,
    UserUuid = 65,
    PstnVendorName = 66,
}

/// The columns written as JSON numbers in the feed (the others are strings, as the feed sends).
const NUMERIC: [Col; 1] = [Col::Duration];

/// A record being built: each filled column's text, kept in one scratch buffer.
pub(super) struct Record {
    text: Vec<u8>,
    /// Per column: its range in `text` (empty: the column is empty).
    spans: [(u32, u32); CDR_COLUMNS.len()],
}

impl Record {
    pub fn new() -> Record {
        Record {
            text: Vec::with_capacity(1024),
            spans: [(0, 0); CDR_COLUMNS.len()],
        }
    }

    /// Empties every column.
    pub fn clear(&mut self) {
        self.text.clear();
        self.spans = [(0, 0); CDR_COLUMNS.len()];
    }

    /// Sets a column to `value`.
    pub fn set(&mut self, col: Col, value: &[u8]) {
        let start = self.text.len();
        self.text.extend_from_slice(value);
        self.finish(col, start);
    }

    /// Sets a column to what `write` appends.
    pub fn set_with(&mut self, col: Col, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.text.len();
        write(&mut self.text);
        self.finish(col, start);
    }

    fn finish(&mut self, col: Col, start: usize) {
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        if let Some(span) = self.spans.get_mut(col as usize) {
            *span = (to_u32(start), to_u32(self.text.len()));
        }
    }

    /// A column's text.
    #[cfg(test)]
    pub fn get(&self, col: Col) -> &[u8] {
        self.value(col as usize)
    }

    fn value(&self, index: usize) -> &[u8] {
        let (s, e) = self.spans.get(index).copied().unwrap_or((0, 0));
        self.text.get(s as usize..e as usize).unwrap_or_default()
    }

    /// Appends the record as a CSV row (ending in `\n`). Values never hold a comma, a quote or
    /// a line break, so none is quoted.
    pub fn write_csv(&self, out: &mut Vec<u8>) {
        for index in 0..CDR_COLUMNS.len() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(self.value(index));
        }
        out.push(b'\n');
    }

    /// Appends the record as one JSON object of the feed (the filled columns only).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        let mut first = true;
        for (index, name) in CDR_COLUMNS.iter().enumerate() {
            let value = self.value(index);
            if value.is_empty() {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            json_string(out, name.as_bytes());
            out.push(b':');
            if NUMERIC.iter().any(|&c| c as usize == index) {
                out.extend_from_slice(value);
            } else {
                json_string(out, value);
            }
        }
        out.push(b'}');
    }
}

/// The CSV header row.
pub(super) fn csv_header(out: &mut Vec<u8>) {
    out.extend_from_slice(CDR_COLUMNS.join(",").as_bytes());
    out.push(b'\n');
}

/// Appends a JSON string literal.
fn json_string(out: &mut Vec<u8>, value: &[u8]) {
    out.push(b'"');
    if !value.iter().any(|&b| b == b'"' || b == b'\\' || b < 0x20) {
        out.extend_from_slice(value);
        out.push(b'"');
        return;
    }
    for &b in value {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0..0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn columns_are_named_by_their_index() {
        let named = [
            (Col::AnswerIndicator, "Answer indicator"),
            (Col::AnswerTime, "Answer time"),
            (Col::Answered, "Answered"),
            (Col::CallId, "Call ID"),
            (Col::CallOutcome, "Call outcome"),
            (Col::CallOutcomeReason, "Call outcome reason"),
            (Col::CallType, "Call type"),
            (Col::CalledNumber, "Called number"),
            (Col::CallingNumber, "Calling number"),
            (Col::ClientType, "Client type"),
            (Col::ClientVersion, "Client version"),
            (Col::CorrelationId, "Correlation ID"),
            (Col::DeviceMac, "Device MAC"),
            (Col::DialedDigits, "Dialed digits"),
            (Col::Direction, "Direction"),
            (Col::Duration, "Duration"),
            (Col::InternationalCountry, "International country"),
            (Col::Location, "Location"),
            (Col::Model, "Model"),
            (Col::OrgUuid, "Org UUID"),
            (Col::OsType, "OS type"),
            (Col::ReleaseTime, "Release time"),
            (Col::RingDuration, "Ring duration"),
            (Col::ReleasingParty, "Releasing party"),
            (Col::ReportId, "Report ID"),
            (Col::SiteMainNumber, "Site main number"),
            (Col::SiteTimezone, "Site timezone"),
            (Col::SiteUuid, "Site UUID"),
            (Col::StartTime, "Start time"),
            (Col::UserNumber, "User number"),
            (Col::UserType, "User type"),
            (Col::UserUuid, "User UUID"),
            (Col::PstnVendorName, "PSTN Vendor Name"),
        ];
        for (col, name) in named {
            assert_eq!(CDR_COLUMNS[col as usize], name);
        }
        let mut distinct = CDR_COLUMNS.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 85);
    }

    #[test]
    fn csv_and_json_carry_the_same_values() {
        let mut record = Record::new();
        record.set(Col::ReportId, b"r-1");
        record.set(Col::Duration, b"36");
        record.set_with(Col::Location, |out| out.extend_from_slice(b"New \"York\""));
        let mut csv = Vec::new();
        record.write_csv(&mut csv);
        assert_eq!(csv.iter().filter(|&&b| b == b',').count(), 84);
        let mut json = Vec::new();
        record.write_json(&mut json);
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["Report ID"], "r-1");
        assert_eq!(value["Duration"], 36);
        assert_eq!(value["Location"], "New \"York\"");
        assert_eq!(value.as_object().unwrap().len(), 3);
        record.clear();
        assert!(record.get(Col::ReportId).is_empty());
    }
}
