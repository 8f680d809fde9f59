//! The fields of SPEC §7.1 that a call record parses, how their names are recognised, and the
//! value rules of SPEC §7.7, shared by the CSV and the JSON readers.

use crate::csvutil::normalize_header;
use crate::error::{IssueKind, Quoted};
use crate::rating::{CallType, Direction};

use super::call_time::CallTime;
use crate::time::TimestampError;

/// A field of SPEC §7.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CdrField {
    ReportId,
    StartTime,
    Duration,
    Direction,
    CallType,
    Answered,
    CalledNumber,
    CallingNumber,
    OrgUuid,
    UserUuid,
    SiteTimezone,
}

impl CdrField {
    /// Every field, in the order of SPEC §7.1 (the index of a field is its place here).
    pub(crate) const ALL: [CdrField; 11] = [
        CdrField::ReportId,
        CdrField::StartTime,
        CdrField::Duration,
        CdrField::Direction,
        CdrField::CallType,
        CdrField::Answered,
        CdrField::CalledNumber,
        CdrField::CallingNumber,
        CdrField::OrgUuid,
        CdrField::UserUuid,
        CdrField::SiteTimezone,
    ];

    /// The fields a record cannot do without; the numbers and `User UUID` may be empty (an
    /// internal leg has no PSTN number, a workspace or a service may have no user), and an empty
    /// `Site timezone` is 0.
    pub(crate) const REQUIRED: [CdrField; 7] = [
        CdrField::ReportId,
        CdrField::StartTime,
        CdrField::Duration,
        CdrField::Direction,
        CdrField::CallType,
        CdrField::Answered,
        CdrField::OrgUuid,
    ];

    /// The name as the Webex call history writes it.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            CdrField::ReportId => "Report ID",
            CdrField::StartTime => "Start time",
            CdrField::Duration => "Duration",
            CdrField::Direction => "Direction",
            CdrField::CallType => "Call type",
            CdrField::Answered => "Answered",
            CdrField::CalledNumber => "Called number",
            CdrField::CallingNumber => "Calling number",
            CdrField::OrgUuid => "Org UUID",
            CdrField::UserUuid => "User UUID",
            CdrField::SiteTimezone => "Site timezone",
        }
    }

    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn is_required(self) -> bool {
        CdrField::REQUIRED.contains(&self)
    }

    /// The field a column or key name names, comparing names as SPEC §7.7 says: ignoring case,
    /// spaces and underscores (`Start time`, `start_time`, `StartTime`, `START-TIME`).
    pub(crate) fn from_name(name: impl AsRef<[u8]>) -> Option<CdrField> {
        CdrField::from_normalized(&normalize_header(name))
    }

    /// [`CdrField::from_name`] of a name already in [`normalize_header`] form.
    pub(crate) fn from_normalized(normalized: &str) -> Option<CdrField> {
        let mut squashed = [0u8; 16];
        let mut len = 0;
        for b in normalized.bytes().filter(|&b| b != b'_') {
            *squashed.get_mut(len)? = b;
            len += 1;
        }
        let squashed = squashed.get(..len)?;
        CdrField::ALL.into_iter().find(|field| {
            let mut name = field
                .name()
                .bytes()
                .filter(|&b| b != b' ')
                .map(|b| b.to_ascii_lowercase());
            squashed.iter().all(|&b| name.next() == Some(b)) && name.next().is_none()
        })
    }
}

/// Why a value was refused: the kind of issue and a lower-case message.
pub(crate) type ValueError = (IssueKind, String);

fn invalid(what: &str, text: &[u8], rule: &str) -> ValueError {
    (
        IssueKind::InvalidValue,
        format!("invalid {what} {}: {rule}", Quoted(&String::from_utf8_lossy(text))),
    )
}

/// `Start time`: RFC 3339 with an offset, 0 to 9 fraction digits.
pub(crate) fn parse_start_time(text: &[u8]) -> Result<CallTime, ValueError> {
    CallTime::parse_bytes(text).map_err(|e| {
        let kind = match e {
            TimestampError::MissingOffset => IssueKind::MissingOffset,
            TimestampError::Invalid(_) => IssueKind::InvalidValue,
        };
        (
            kind,
            format!(
                "invalid timestamp {}: {}",
                Quoted(&String::from_utf8_lossy(text)),
                e.reason()
            ),
        )
    })
}

/// `Duration`: whole seconds, digits only (`-5`, `12.5`, `+3` refused), at most `u32::MAX`.
pub(crate) fn parse_duration(text: &[u8]) -> Result<u32, ValueError> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return Err(invalid("duration", text, "whole seconds, digits only"));
    }
    text.iter()
        .try_fold(0u32, |n, &d| n.checked_mul(10)?.checked_add(u32::from(d - b'0')))
        .ok_or_else(|| invalid("duration", text, "more than 4294967295 seconds"))
}

/// `Direction`: `ORIGINATING` or `TERMINATING`, any case.
pub(crate) fn parse_direction(text: &[u8]) -> Result<Direction, ValueError> {
    Direction::from_name_bytes(text).ok_or_else(|| invalid("direction", text, "expected ORIGINATING or TERMINATING"))
}

/// `Call type`: one of the names of [`CallType`], any case.
pub(crate) fn parse_call_type(text: &[u8]) -> Result<CallType, ValueError> {
    CallType::from_name_bytes(text).ok_or_else(|| {
        let names: Vec<&str> = CallType::ALL.iter().map(|t| t.as_str()).collect();
        invalid("call type", text, &format!("expected one of: {}", names.join(", ")))
    })
}

/// `Answered`: `true` or `false`, any case (`yes`, `1` refused).
pub(crate) fn parse_answered(text: &[u8]) -> Result<bool, ValueError> {
    if text.eq_ignore_ascii_case(b"true") {
        Ok(true)
    } else if text.eq_ignore_ascii_case(b"false") {
        Ok(false)
    } else {
        Err(invalid("answered", text, "expected true or false"))
    }
}

/// The most minutes a site may be away from UTC.
pub(crate) const MAX_SITE_OFFSET_MINUTES: i16 = 1440;

/// `Site timezone`: minutes east of UTC, an optional sign and digits, within ±1440; empty is 0.
pub(crate) fn parse_site_timezone(text: &[u8]) -> Result<i16, ValueError> {
    if text.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid(
            "site timezone",
            text,
            "whole minutes from utc, digits with an optional sign",
        ));
    }
    let magnitude = digits.iter().fold(0i32, |n, &d| n * 10 + i32::from(d - b'0'));
    if magnitude > i32::from(MAX_SITE_OFFSET_MINUTES) {
        return Err(invalid("site timezone", text, "beyond ±1440 minutes (a day) from utc"));
    }
    let minutes = if negative { -magnitude } else { magnitude };
    Ok(minutes as i16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_ignoring_case_spaces_and_underscores() {
        for name in [
            "Start time",
            "start_time",
            "StartTime",
            "START TIME",
            "\u{feff}Start time",
            " start-time ",
        ] {
            assert_eq!(CdrField::from_name(name), Some(CdrField::StartTime), "{name}");
        }
        assert_eq!(CdrField::from_name("Org UUID"), Some(CdrField::OrgUuid));
        assert_eq!(CdrField::from_name("orgUuid"), Some(CdrField::OrgUuid));
        assert_eq!(CdrField::from_name("Report ID"), Some(CdrField::ReportId));
        assert_eq!(CdrField::from_name("Report time"), None);
        assert_eq!(CdrField::from_name("Start times"), None);
        assert_eq!(CdrField::from_name("Answer time"), None);
        assert_eq!(CdrField::from_name(""), None);
        assert_eq!(CdrField::from_name("a very long column name that is no field"), None);
        for field in CdrField::ALL {
            assert_eq!(CdrField::from_name(field.name()), Some(field));
            assert_eq!(CdrField::ALL[field.index()], field);
        }
    }

    #[test]
    fn duration_is_digits_only() {
        assert_eq!(parse_duration(b"0"), Ok(0));
        assert_eq!(parse_duration(b"36"), Ok(36));
        assert_eq!(parse_duration(b"007"), Ok(7));
        assert_eq!(parse_duration(b"4294967295"), Ok(u32::MAX));
        for bad in [&b"-5"[..], b"12.5", b"+3", b"", b"1e3", b"4294967296", b" 5", b"five"] {
            let (kind, message) = parse_duration(bad).unwrap_err();
            assert_eq!(kind, IssueKind::InvalidValue);
            assert!(message.starts_with("invalid duration"), "{message}");
        }
    }

    #[test]
    fn answered_is_true_or_false_in_any_case() {
        assert_eq!(parse_answered(b"true"), Ok(true));
        assert_eq!(parse_answered(b"TRUE"), Ok(true));
        assert_eq!(parse_answered(b"False"), Ok(false));
        for bad in [&b"yes"[..], b"1", b"", b"t", b"truee"] {
            assert!(parse_answered(bad).is_err());
        }
    }

    #[test]
    fn site_timezone_is_signed_minutes_within_a_day() {
        assert_eq!(parse_site_timezone(b""), Ok(0));
        assert_eq!(parse_site_timezone(b"-300"), Ok(-300));
        assert_eq!(parse_site_timezone(b"+60"), Ok(60));
        assert_eq!(parse_site_timezone(b"1440"), Ok(1440));
        assert_eq!(parse_site_timezone(b"-1440"), Ok(-1440));
        let (_, message) = parse_site_timezone(b"1441").unwrap_err();
        assert_eq!(
            message,
            "invalid site timezone \"1441\": beyond ±1440 minutes (a day) from utc"
        );
        for bad in [&b"-"[..], b"5.5", b"UTC", b"99999999", b"--5"] {
            assert!(parse_site_timezone(bad).is_err());
        }
    }

    #[test]
    fn direction_call_type_and_start_time() {
        assert_eq!(parse_direction(b"originating"), Ok(Direction::Originating));
        assert!(parse_direction(b"INBOUND").is_err());
        assert_eq!(parse_call_type(b"SIP_TOLLFREE"), Ok(CallType::SipTollfree));
        assert!(parse_call_type(b"SIP_LOCAL").is_err());
        assert_eq!(
            parse_start_time(b"2024-05-03T10:30:00").unwrap_err().0,
            IssueKind::MissingOffset
        );
        assert_eq!(parse_start_time(b"2024-05-03").unwrap_err().0, IssueKind::InvalidValue);
        assert!(parse_start_time(b"2024-05-03T10:30:00.5+01:00").is_ok());
    }
}
