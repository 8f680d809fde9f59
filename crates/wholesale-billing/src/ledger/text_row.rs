//! One event given as text, field by field: the parsing and validation of a row, the one
//! definition shared by the CSV reader, the Arrow reader and the records loader.

use super::builder::{LedgerBuilder, rejection};
use super::event::{Action, Event, SubscriberType};
use super::field::{Columns, Field};
use crate::error::{IssueKind, LoadIssue, Quoted};
use crate::time::{Timestamp, TimestampError, parse_rfc3339_bytes};

impl LedgerBuilder {
    /// Validates one row given as text and pushes it as an event (see [`parse_text_row`]).
    pub(super) fn push_text_row<'a>(&mut self, line: u64, cell: impl Fn(Field) -> &'a str, cols: &Columns) {
        match parse_text_row(line, cell, cols) {
            Ok(event) => self.push_row(line, &event, cols),
            Err(issue) => self.issues.push(issue),
        }
    }
}

/// Parses one row given as text: `cell(f)` is the text of field `f` (empty when absent), trimmed
/// here of ASCII white space; `line` is the row's line (or number) in its source and `cols` the
/// column of each field. A time, action or subscriber type that does not parse is the row's
/// issue. (Cells are read through a function, not gathered in an array: on the hot path of a
/// large file that copy counts.) Needs nothing of the load, so that a worker thread can do it.
pub(super) fn parse_text_row<'a>(
    line: u64,
    cell: impl Fn(Field) -> &'a str,
    cols: &Columns,
) -> Result<Event<'a>, LoadIssue> {
    let t = |f: Field| cell(f).trim_ascii();
    let event_id = t(Field::EventId);
    let reject = |field: Field, kind: IssueKind, message: String| rejection(line, event_id, cols, field, kind, message);
    let occurred_at = match parse_rfc3339_bytes(t(Field::OccurredAt).as_bytes()) {
        Ok(micros) => Timestamp::from_micros(micros),
        Err(e) => {
            let (kind, message) = match e {
                _ if t(Field::OccurredAt).is_empty() => (IssueKind::MissingField, "occurred_at is required".into()),
                TimestampError::MissingOffset => (IssueKind::MissingOffset, e.reason().to_owned()),
                TimestampError::Invalid(reason) => (
                    IssueKind::InvalidValue,
                    format!("{reason}: {}", Quoted(t(Field::OccurredAt))),
                ),
            };
            return Err(reject(Field::OccurredAt, kind, message));
        }
    };
    let action = match Action::from_name_bytes(t(Field::Action).as_bytes()) {
        Some(a) => a,
        None => {
            let (kind, message) = if t(Field::Action).is_empty() {
                (IssueKind::MissingField, "action is required".to_owned())
            } else {
                (
                    IssueKind::InvalidValue,
                    format!("action {} is not ASSIGN or REMOVE", Quoted(t(Field::Action))),
                )
            };
            return Err(reject(Field::Action, kind, message));
        }
    };
    let subscriber_type = match t(Field::SubscriberType) {
        "" => None,
        s => match SubscriberType::from_name_bytes(s.as_bytes()) {
            Some(st) => Some(st),
            None if action == Action::Remove => None,
            None => {
                let message = format!("subscriber_type {} is not USER or WORKSPACE", Quoted(s));
                return Err(reject(Field::SubscriberType, IssueKind::InvalidValue, message));
            }
        },
    };
    Ok(Event {
        event_id,
        occurred_at,
        action,
        subscriber_id: t(Field::SubscriberId),
        customer_org_id: t(Field::CustomerOrgId),
        customer_external_id: t(Field::CustomerExternalId),
        sub_partner_org_id: t(Field::SubPartnerOrgId),
        subscriber_type,
        user_id: t(Field::UserId),
        workspace_id: t(Field::WorkspaceId),
        package: t(Field::Package),
        location_id: t(Field::LocationId),
        license_id: t(Field::LicenseId),
    })
}
