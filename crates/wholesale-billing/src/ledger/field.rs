//! The fields of an event and the columns that carry them (SPEC.md §2): their header names, the
//! required ones, and where each sits in a given header.

use crate::csvutil::find_columns_at;
use crate::error::Result;

/// The fields of an event, used to find its columns and to locate a problem in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    EventId,
    OccurredAt,
    Action,
    SubscriberId,
    CustomerOrgId,
    CustomerExternalId,
    SubPartnerOrgId,
    SubscriberType,
    UserId,
    WorkspaceId,
    Package,
    LocationId,
    LicenseId,
}

impl Field {
    pub(crate) const ALL: [Field; 13] = [
        Field::EventId,
        Field::OccurredAt,
        Field::Action,
        Field::SubscriberId,
        Field::CustomerOrgId,
        Field::CustomerExternalId,
        Field::SubPartnerOrgId,
        Field::SubscriberType,
        Field::UserId,
        Field::WorkspaceId,
        Field::Package,
        Field::LocationId,
        Field::LicenseId,
    ];

    /// The accepted (normalised) header names of the field: its name only.
    pub(crate) fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::EventId => &["event_id"],
            Field::OccurredAt => &["occurred_at"],
            Field::Action => &["action"],
            Field::SubscriberId => &["subscriber_id"],
            Field::CustomerOrgId => &["customer_org_id"],
            Field::CustomerExternalId => &["customer_external_id"],
            Field::SubPartnerOrgId => &["sub_partner_org_id"],
            Field::SubscriberType => &["subscriber_type"],
            Field::UserId => &["user_id"],
            Field::WorkspaceId => &["workspace_id"],
            Field::Package => &["package"],
            Field::LocationId => &["location_id"],
            Field::LicenseId => &["license_id"],
        }
    }

    pub(crate) fn name(self) -> &'static str {
        self.aliases().first().copied().unwrap_or("")
    }
}

/// 1-based column of each field in the source, when the source has columns (a CSV file, records
/// under a header).
pub(crate) type Columns = [Option<usize>; 13];

/// Columns every events source must have.
const REQUIRED: [Field; 7] = [
    Field::EventId,
    Field::OccurredAt,
    Field::Action,
    Field::SubscriberId,
    Field::CustomerOrgId,
    Field::SubscriberType,
    Field::Package,
];

/// Where each field is in a header (names compared after
/// [`normalize_header`](crate::normalize_header); unknown names ignored).
///
/// # Errors
/// [`Error::Rejected`](crate::Error::Rejected) at `header_line` when the header lacks a required
/// column or names one twice.
pub(crate) fn event_columns<'h>(
    header: impl IntoIterator<Item = &'h [u8]>,
    header_line: u64,
    source_name: &'static str,
) -> Result<Columns> {
    let names: [(&str, &[&str]); 13] = Field::ALL.map(|f| (f.name(), f.aliases()));
    find_columns_at(
        header,
        header_line,
        |name| names.iter().position(|(_, aliases)| aliases.contains(&name)),
        |col| names[col].0,
        &REQUIRED.map(|f| f as usize),
        source_name,
    )
}

/// The 0-based position of each field in a row, from its 1-based column.
pub(crate) fn cell_indexes(cols: &Columns) -> [Option<usize>; 13] {
    cols.map(|c| c.map(|c| c - 1))
}
