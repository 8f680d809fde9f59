//! Webex-style ids (`base64url(ciscospark://us/<KIND>/<value>)`) and random texts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// The kinds of id the sandbox issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdKind {
    /// `BILLING_REPORT/<uuid>`.
    BillingReport,
    /// `PEOPLE/<uuid>`.
    People,
    /// `CUSTOMER/<org id>`.
    Customer,
}

impl IdKind {
    fn prefix(self) -> &'static str {
        match self {
            IdKind::BillingReport => "ciscospark://us/BILLING_REPORT/",
            IdKind::People => "ciscospark://us/PEOPLE/",
            IdKind::Customer => "ciscospark://us/CUSTOMER/",
        }
    }
}

/// The encoded id of `value`.
pub(crate) fn encode(kind: IdKind, value: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}{value}", kind.prefix()))
}

/// The value inside an encoded id of `kind`; `None` when the id is not one (bad base64, another
/// kind, an empty value). Trailing `=` padding is tolerated.
pub(crate) fn decode(kind: IdKind, id: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(id.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let value = text.strip_prefix(kind.prefix())?;
    (!value.is_empty()).then(|| value.to_owned())
}

/// The UUID (lower-case, hyphenated) inside a report id.
pub(crate) fn decode_report(id: &str) -> Option<String> {
    let value = decode(IdKind::BillingReport, id)?;
    Uuid::parse_str(&value).ok().map(|u| u.hyphenated().to_string())
}

/// 32 random lower-case hex digits.
pub(crate) fn random_hex() -> String {
    Uuid::new_v4().simple().to_string()
}

/// A new random UUID, hyphenated.
pub(crate) fn new_uuid() -> String {
    Uuid::new_v4().hyphenated().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specification_example_decodes() {
        let id = "Y2lzY29zcGFyazovL3VzL0JJTExJTkdfUkVQT1JULzViOGQ1MThhLThmMDAtNDUxYi1hNDA2LWVhZjQ5YjRhN2ZhOA";
        assert_eq!(
            decode_report(id).as_deref(),
            Some("5b8d518a-8f00-451b-a406-eaf49b4a7fa8")
        );
        assert_eq!(
            encode(IdKind::BillingReport, "5b8d518a-8f00-451b-a406-eaf49b4a7fa8"),
            id
        );
    }

    #[test]
    fn bad_ids_are_none() {
        assert_eq!(decode_report("not base64!"), None);
        assert_eq!(decode_report(&encode(IdKind::People, &new_uuid())), None);
        assert_eq!(decode_report(&encode(IdKind::BillingReport, "not-a-uuid")), None);
        assert_eq!(decode(IdKind::Customer, &encode(IdKind::Customer, "")), None);
        assert_eq!(
            decode(IdKind::Customer, &encode(IdKind::Customer, "c-1")).as_deref(),
            Some("c-1")
        );
        assert_eq!(random_hex().len(), 32);
    }
}
