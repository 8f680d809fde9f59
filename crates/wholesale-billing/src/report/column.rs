//! The columns of the Webex billing reports, defined once: name, human aliases, levels.

use std::fmt;

use crate::csvutil::normalize_header;
use crate::report::ReportLevel;

/// A column of the Webex billing report CSV (SPEC.md §4).
///
/// Every column of every level, in the order of the USER level (the RTM billing pack's order);
/// each level's columns ([`ReportLevel::columns`]) are these in this order, less the ones it does not
/// have. The writer writes [`Column::name`] in the header, the tolerant reader also accepts the
/// [`Column::aliases`], and the Python binding names its dict keys and data-frame columns by name.
///
/// ```
/// use wholesale_billing::{Column, ReportLevel};
/// assert_eq!(Column::ConsumptionStartDate.name(), "CONSUMPTION_START_DATE");
/// assert_eq!(Column::from_header("Consumption Start"), Some(Column::ConsumptionStartDate));
/// assert_eq!(Column::LocationId.levels(), [ReportLevel::Customer, ReportLevel::User]);
/// assert!(ReportLevel::Partner.columns().contains(&Column::Sku));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Column {
    /// `PARTNER_NAME`: the partner's, or the sub-partner's in a sub-partner report.
    PartnerName,
    /// `PARTNER_ORG_ID`.
    PartnerOrgId,
    /// `SUBSCRIPTION_ID`.
    SubscriptionId,
    /// `CUSTOMER_ORG_ID` (CUSTOMER, USER).
    CustomerOrgId,
    /// `CUSTOMER_EXTERNAL_ID` (CUSTOMER, USER).
    CustomerExternalId,
    /// `TYPE` (USER): `USER` or `WORKSPACE`.
    Type,
    /// `SUBSCRIBER_ID` (USER).
    SubscriberId,
    /// `USER_ID` (USER).
    UserId,
    /// `WORKSPACE_ID` (USER).
    WorkspaceId,
    /// `SERVICE_NAME`.
    ServiceName,
    /// `SKU`.
    Sku,
    /// `DESCRIPTION`.
    Description,
    /// `CONSUMPTION_START_DATE`.
    ConsumptionStartDate,
    /// `CONSUMPTION_END_DATE`.
    ConsumptionEndDate,
    /// `QUANTITY`, in days.
    Quantity,
    /// `LOCATION_ID` (CUSTOMER, USER).
    LocationId,
    /// `LICENSE_ID` (CUSTOMER, USER).
    LicenseId,
}

/// The levels that have every column but the USER-only ones.
const CUSTOMER_AND_USER: &[ReportLevel] = &[ReportLevel::Customer, ReportLevel::User];
/// Every level.
const EVERY_LEVEL: &[ReportLevel] = &ReportLevel::ALL;
/// The USER level alone.
const USER_ONLY: &[ReportLevel] = &[ReportLevel::User];

/// One column's description: name, the `ReportRow` field, human aliases, levels.
struct Spec {
    name: &'static str,
    field: &'static str,
    aliases: &'static [&'static str],
    levels: &'static [ReportLevel],
}

/// The columns' descriptions, in the order of [`Column::ALL`].
const SPECS: [Spec; 17] = [
    Spec {
        name: "PARTNER_NAME",
        field: "partner_name",
        aliases: &["Partner Name", "Partner"],
        levels: EVERY_LEVEL,
    },
    Spec {
        name: "PARTNER_ORG_ID",
        field: "partner_org_id",
        aliases: &["Partner Org ID", "Partner ID"],
        levels: EVERY_LEVEL,
    },
    Spec {
        name: "SUBSCRIPTION_ID",
        field: "subscription_id",
        aliases: &["Subscription ID", "Subscription"],
        levels: EVERY_LEVEL,
    },
    Spec {
        name: "CUSTOMER_ORG_ID",
        field: "customer_org_id",
        aliases: &["Customer Org ID", "Customer ID"],
        levels: CUSTOMER_AND_USER,
    },
    Spec {
        name: "CUSTOMER_EXTERNAL_ID",
        field: "customer_external_id",
        aliases: &["Customer External ID", "External ID"],
        levels: CUSTOMER_AND_USER,
    },
    Spec {
        name: "TYPE",
        field: "subscriber_type",
        aliases: &["Type", "Subscriber Type"],
        levels: USER_ONLY,
    },
    Spec {
        name: "SUBSCRIBER_ID",
        field: "subscriber_id",
        aliases: &["Subscriber ID", "Subscriber"],
        levels: USER_ONLY,
    },
    Spec {
        name: "USER_ID",
        field: "user_id",
        aliases: &["User ID"],
        levels: USER_ONLY,
    },
    Spec {
        name: "WORKSPACE_ID",
        field: "workspace_id",
        aliases: &["Workspace ID"],
        levels: USER_ONLY,
    },
    Spec {
        name: "SERVICE_NAME",
        field: "service_name",
        aliases: &["Service Name", "Service"],
        levels: EVERY_LEVEL,
    },
    Spec {
        name: "SKU",
        field: "sku",
        aliases: &["SKU"],
        levels: EVERY_LEVEL,
    },
    Spec {
        name: "DESCRIPTION",
        field: "description",
        aliases: &["Description"],
        levels: EVERY_LEVEL,
    },
    Spec {
        name: "CONSUMPTION_START_DATE",
        field: "consumption_start",
        aliases: &["Consumption Start Date", "Consumption Start", "Consumption Start Time"],
        levels: EVERY_LEVEL,
    },
    Spec {
        name: "CONSUMPTION_END_DATE",
        field: "consumption_end",
        aliases: &["Consumption End Date", "Consumption End", "Consumption End Time"],
        levels: EVERY_LEVEL,
    },
    Spec {
        name: "QUANTITY",
        field: "quantity",
        aliases: &["Quantity"],
        levels: EVERY_LEVEL,
    },
    Spec {
        name: "LOCATION_ID",
        field: "location_id",
        aliases: &["Location ID", "Location"],
        levels: CUSTOMER_AND_USER,
    },
    Spec {
        name: "LICENSE_ID",
        field: "license_id",
        aliases: &["License ID", "License"],
        levels: CUSTOMER_AND_USER,
    },
];

impl Column {
    /// Every column, in the order of the USER level.
    ///
    /// ```
    /// use wholesale_billing::{Column, ReportLevel};
    /// assert_eq!(Column::ALL.as_slice(), ReportLevel::User.columns());
    /// assert_eq!(Column::ALL[0], Column::PartnerName);
    /// ```
    pub const ALL: [Column; 17] = [
        Column::PartnerName,
        Column::PartnerOrgId,
        Column::SubscriptionId,
        Column::CustomerOrgId,
        Column::CustomerExternalId,
        Column::Type,
        Column::SubscriberId,
        Column::UserId,
        Column::WorkspaceId,
        Column::ServiceName,
        Column::Sku,
        Column::Description,
        Column::ConsumptionStartDate,
        Column::ConsumptionEndDate,
        Column::Quantity,
        Column::LocationId,
        Column::LicenseId,
    ];

    const fn spec(self) -> &'static Spec {
        &SPECS[self as usize]
    }

    /// The column's position in [`Column::ALL`] (0 to 16).
    ///
    /// ```
    /// use wholesale_billing::Column;
    /// assert!(Column::ALL.iter().enumerate().all(|(i, c)| c.index() == i));
    /// ```
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The exact name, as the Webex report's header writes it (`PARTNER_NAME`).
    ///
    /// ```
    /// assert_eq!(wholesale_billing::Column::Type.name(), "TYPE");
    /// ```
    pub const fn name(self) -> &'static str {
        self.spec().name
    }

    /// The human forms the tolerant reader accepts besides the name, compared as
    /// [`Column::from_header`] does (`"Partner Name"`, `"Partner"`).
    ///
    /// ```
    /// use wholesale_billing::Column;
    /// assert_eq!(Column::SubscriberId.aliases(), ["Subscriber ID", "Subscriber"]);
    /// ```
    pub const fn aliases(self) -> &'static [&'static str] {
        self.spec().aliases
    }

    /// The levels whose reports have the column, coarsest first.
    ///
    /// ```
    /// use wholesale_billing::{Column, ReportLevel};
    /// assert_eq!(Column::Quantity.levels(), ReportLevel::ALL);
    /// assert_eq!(Column::WorkspaceId.levels(), [ReportLevel::User]);
    /// ```
    pub const fn levels(self) -> &'static [ReportLevel] {
        self.spec().levels
    }

    /// The name of the [`ReportRow`](crate::ReportRow) field that holds the column's value
    /// (`subscriber_type` for `TYPE`, `consumption_start` for `CONSUMPTION_START_DATE`).
    ///
    /// ```
    /// use wholesale_billing::Column;
    /// assert_eq!(Column::Type.row_field(), "subscriber_type");
    /// assert_eq!(Column::Sku.row_field(), "sku");
    /// ```
    pub const fn row_field(self) -> &'static str {
        self.spec().field
    }

    /// The column a CSV header names: its name or one of its aliases, ignoring case, a BOM,
    /// surrounding space and the separators between words (`"Customer Org-ID"` is
    /// `CUSTOMER_ORG_ID`).
    ///
    /// ```
    /// use wholesale_billing::Column;
    /// assert_eq!(Column::from_header("\u{feff}partner_org_id"), Some(Column::PartnerOrgId));
    /// assert_eq!(Column::from_header("Customer Org-ID"), Some(Column::CustomerOrgId));
    /// assert_eq!(Column::from_header("Consumption End Time"), Some(Column::ConsumptionEndDate));
    /// assert_eq!(Column::from_header("Extra"), None);
    /// ```
    pub fn from_header(header: &str) -> Option<Column> {
        Column::from_normalized_header(&normalize_header(header.as_bytes()))
    }

    /// As [`Column::from_header`], for a header already normalised by `normalize_header`.
    pub(crate) fn from_normalized_header(normalized: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| {
            std::iter::once(c.name())
                .chain(c.aliases().iter().copied())
                .any(|name| normalize_header(name.as_bytes()) == normalized)
        })
    }
}

impl fmt::Display for Column {
    /// The name (`PARTNER_NAME`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// The columns of `level`, in order: [`Column::ALL`] less the columns whose levels lack it.
/// `N` is their number, checked when the crate is compiled.
const fn columns_of<const N: usize>(level: ReportLevel) -> [Column; N] {
    let mut out = [Column::PartnerName; N];
    let (mut i, mut n) = (0, 0);
    while i < Column::ALL.len() {
        let levels = SPECS[i].levels;
        let mut j = 0;
        while j < levels.len() {
            if levels[j] as u8 == level as u8 {
                assert!(n < N, "more columns at this level than declared");
                out[n] = Column::ALL[i];
                n += 1;
            }
            j += 1;
        }
        i += 1;
    }
    assert!(n == N, "fewer columns at this level than declared");
    out
}

pub(super) const PARTNER_COLUMNS: [Column; 9] = columns_of(ReportLevel::Partner);
pub(super) const CUSTOMER_COLUMNS: [Column; 13] = columns_of(ReportLevel::Customer);
pub(super) const USER_COLUMNS: [Column; 17] = columns_of(ReportLevel::User);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_level_has_every_column() {
        assert_eq!(USER_COLUMNS, Column::ALL);
    }

    #[test]
    fn each_level_lists_the_columns_that_name_it_in_order() {
        for level in ReportLevel::ALL {
            let expected: Vec<Column> = Column::ALL
                .into_iter()
                .filter(|c| c.levels().contains(&level))
                .collect();
            assert_eq!(level.columns(), expected.as_slice(), "{level}");
        }
    }

    #[test]
    fn names_and_aliases_find_their_column_and_no_other() {
        let mut seen = std::collections::HashSet::new();
        for column in Column::ALL {
            assert_eq!(Column::from_header(column.name()), Some(column));
            for alias in column.aliases() {
                assert_eq!(Column::from_header(alias), Some(column), "{alias}");
                assert_eq!(Column::from_header(&alias.to_uppercase()), Some(column), "{alias}");
            }
            for name in std::iter::once(column.name()).chain(column.aliases().iter().copied()) {
                let normalized = normalize_header(name.as_bytes());
                let owner = seen.iter().find(|(n, _)| *n == normalized).map(|(_, c)| *c);
                assert!(owner.is_none_or(|c| c == column), "{name} names two columns");
                seen.insert((normalized, column));
            }
        }
    }

    #[test]
    fn row_fields_are_the_serialised_row_keys_by_name() {
        let row = crate::ReportRow {
            partner_name: "",
            partner_org_id: "",
            subscription_id: "",
            customer_org_id: "",
            customer_external_id: "",
            subscriber_type: None,
            subscriber_id: "",
            user_id: "",
            workspace_id: "",
            service_name: "",
            sku: "",
            description: "",
            consumption_start: None,
            consumption_end: None,
            quantity: crate::Quantity::ZERO,
            location_id: "",
            license_id: "",
        };
        let json = serde_json::to_value(row).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut names: Vec<&str> = Column::ALL.iter().map(|c| c.name()).collect();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        names.sort_unstable();
        assert_eq!(keys_sorted, names);
        for column in Column::ALL {
            let renamed = [
                (Column::Type, "subscriber_type"),
                (Column::ConsumptionStartDate, "consumption_start"),
                (Column::ConsumptionEndDate, "consumption_end"),
            ];
            match renamed.iter().find(|(c, _)| *c == column) {
                Some((_, field)) => assert_eq!(column.row_field(), *field),
                None => assert_eq!(column.row_field().to_uppercase(), column.name()),
            }
        }
    }
}
