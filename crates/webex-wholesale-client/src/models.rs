//! The resources of the Webex Wholesale APIs: billing reports, sub-partners and customers.
//!
//! Responses are read tolerantly: unknown fields are ignored, enumerations keep values they do
//! not know (`Other`), and dates accept the `YYYY-MM-DD` form and the date-time form some
//! generated clients send. Report types are the core's [`ReportLevel`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;
use wholesale_billing::{NaiveDate, ReportLevel};

/// An enumeration of the API sent as text, keeping values it does not know.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// Any other value, as sent.
            Other(String),
        }

        impl $name {
            #[doc = concat!("The value as the API writes it.\n\n```\nuse webex_wholesale_client::",
                stringify!($name), ";\nlet v: ", stringify!($name), " = \"something-new\".into();\n",
                "assert_eq!(v.as_str(), \"something-new\");\n```")]
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                $(if text.eq_ignore_ascii_case($text) {
                    return $name::$variant;
                })*
                $name::Other(text.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Ok($name::from(text.as_str()))
            }
        }
    };
}

string_enum! {
    /// The status of a billing report.
    ///
    /// ```
    /// use webex_wholesale_client::ReportStatus;
    /// let s: ReportStatus = serde_json::from_str(r#""IN_PROGRESS""#).unwrap();
    /// assert_eq!(s, ReportStatus::InProgress);
    /// assert_eq!(ReportStatus::Completed.to_string(), "COMPLETED");
    /// ```
    ReportStatus {
        /// `IN_PROGRESS`: report generation is in progress.
        InProgress => "IN_PROGRESS",
        /// `COMPLETED`: the report can be downloaded.
        Completed => "COMPLETED",
        /// `FAILED`: report generation failed (see the report's `errors`).
        Failed => "FAILED",
    }
}

string_enum! {
    /// The category of a billing report.
    ///
    /// ```
    /// use webex_wholesale_client::ReportCategory;
    /// assert_eq!(ReportCategory::from("POINT_IN_TIME"), ReportCategory::PointInTime);
    /// ```
    ReportCategory {
        /// `RECONCILIATION`: usage over the billing period.
        Reconciliation => "RECONCILIATION",
        /// `POINT_IN_TIME`: current package allocations.
        PointInTime => "POINT_IN_TIME",
    }
}

string_enum! {
    /// The sort order of a billing report list (`sortBy`).
    ///
    /// ```
    /// assert_eq!(webex_wholesale_client::SortBy::BillingStartDate.as_str(), "billingStartDate");
    /// ```
    SortBy {
        /// By id.
        Id => "id",
        /// By billing start date (the service's default).
        BillingStartDate => "billingStartDate",
        /// By billing end date.
        BillingEndDate => "billingEndDate",
        /// By status.
        Status => "status",
    }
}

string_enum! {
    /// The provisioning state of a sub-partner.
    ///
    /// ```
    /// assert_eq!(webex_wholesale_client::ProvisioningState::Active.as_str(), "active");
    /// ```
    ProvisioningState {
        /// `active`: can provision, update and delete customers.
        Active => "active",
        /// `suspended`: can only delete existing customers.
        Suspended => "suspended",
    }
}

string_enum! {
    /// The status of a wholesale customer.
    ///
    /// ```
    /// use webex_wholesale_client::CustomerStatus;
    /// assert_eq!(CustomerStatus::from("provisioned_with_errors"), CustomerStatus::ProvisionedWithErrors);
    /// ```
    CustomerStatus {
        /// `provisioned`.
        Provisioned => "provisioned",
        /// `provisioned_with_errors`.
        ProvisionedWithErrors => "provisioned_with_errors",
        /// `provisioning`.
        Provisioning => "provisioning",
        /// `updating`.
        Updating => "updating",
        /// `deleting`.
        Deleting => "deleting",
        /// `error`.
        Error => "error",
        /// `pending_rpl_review`.
        PendingRplReview => "pending_rpl_review",
    }
}

/// The answer to a report creation (`ReportId`): the new report's id and what was asked.
///
/// ```
/// let created: webex_wholesale_client::CreatedReport = serde_json::from_str(r#"{"id": "Y2lz",
///     "billingStartDate": "2024-05-01", "billingEndDate": "2024-05-31", "type": "USER"}"#).unwrap();
/// assert_eq!(created.report_type, Some(wholesale_billing::ReportLevel::User));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedReport {
    /// The report's id.
    pub id: String,
    /// The first day of the billing period.
    #[serde(default, with = "opt_date", skip_serializing_if = "Option::is_none")]
    pub billing_start_date: Option<NaiveDate>,
    /// The last day of the billing period.
    #[serde(default, with = "opt_date", skip_serializing_if = "Option::is_none")]
    pub billing_end_date: Option<NaiveDate>,
    /// `PARTNER`, `CUSTOMER` or `USER`.
    #[serde(
        default,
        rename = "type",
        alias = "reportType",
        skip_serializing_if = "Option::is_none"
    )]
    pub report_type: Option<ReportLevel>,
    /// The category, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<ReportCategory>,
}

/// A billing report as listed (`ListReport`).
///
/// ```
/// use webex_wholesale_client::{ReportStatus, ReportSummary};
/// let r: ReportSummary = serde_json::from_str(r#"{"id": "Y2lz", "billingStartDate": "2024-05-01",
///     "billingEndDate": "2024-05-31", "status": "COMPLETED", "type": "PARTNER", "extra": 1}"#).unwrap();
/// assert_eq!(r.status, ReportStatus::Completed);
/// assert_eq!(r.billing_end_date.to_string(), "2024-05-31");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportSummary {
    /// The report's id.
    pub id: String,
    /// The first day of the billing period.
    #[serde(with = "date")]
    pub billing_start_date: NaiveDate,
    /// The last day of the billing period.
    #[serde(with = "date")]
    pub billing_end_date: NaiveDate,
    /// The status.
    pub status: ReportStatus,
    /// `PARTNER`, `CUSTOMER` or `USER`.
    #[serde(
        default,
        rename = "type",
        alias = "reportType",
        skip_serializing_if = "Option::is_none"
    )]
    pub report_type: Option<ReportLevel>,
    /// The category, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<ReportCategory>,
}

/// One billing report (`GET /wholesale/billing/reports/{id}`).
///
/// ```
/// use webex_wholesale_client::{Report, ReportStatus};
/// let r: Report = serde_json::from_str(r#"{"id": "Y2lz", "billingStartDate": "2024-05-01",
///     "billingEndDate": "2024-05-31", "type": "PARTNER", "status": "COMPLETED",
///     "tempDownloadURL": "https://billing-reports.example.com/r.csv?Expires=1&Signature=abc&Key-Pair-Id=K"}"#).unwrap();
/// assert_eq!(r.status, ReportStatus::Completed);
/// assert_eq!(format!("{:?}", r.temp_download_url.unwrap()),
///     "DownloadUrl(https://billing-reports.example.com/r.csv?<redacted>)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The report's id.
    pub id: String,
    /// The first day of the billing period.
    #[serde(with = "date")]
    pub billing_start_date: NaiveDate,
    /// The last day of the billing period.
    #[serde(with = "date")]
    pub billing_end_date: NaiveDate,
    /// `PARTNER`, `CUSTOMER` or `USER`.
    #[serde(
        default,
        rename = "type",
        alias = "reportType",
        skip_serializing_if = "Option::is_none"
    )]
    pub report_type: Option<ReportLevel>,
    /// The category, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<ReportCategory>,
    /// When the report was generated (RFC 3339, as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The person id of the administrator who created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// The status.
    pub status: ReportStatus,
    /// The signed, expiring URL of the CSV (present when `COMPLETED`).
    #[serde(default, rename = "tempDownloadURL", skip_serializing_if = "Option::is_none")]
    pub temp_download_url: Option<DownloadUrl>,
    /// The errors of a failed generation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ReportError>,
}

/// An error of a report's generation (`{"code", "description"}`).
///
/// ```
/// let e: webex_wholesale_client::ReportError =
///     serde_json::from_str(r#"{"code": 2024, "description": "Billing Report not found."}"#).unwrap();
/// assert_eq!(e.code, Some(2024));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportError {
    /// The error code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// What went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A signed download URL (`tempDownloadURL`). It is a credential until it expires: `Debug` hides
/// its query (the signature), and the client fetches it without the bearer token.
///
/// ```
/// use webex_wholesale_client::DownloadUrl;
/// let url = DownloadUrl::parse("https://reports.example.com/a.csv?Expires=9&Signature=s")?;
/// assert_eq!(url.as_url().host_str(), Some("reports.example.com"));
/// assert!(!format!("{url:?}").contains("Signature"));
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DownloadUrl(Url);

impl DownloadUrl {
    /// Parses an absolute URL.
    ///
    /// # Errors
    /// [`crate::Error::InvalidDownloadUrl`] when the text is not an absolute URL;
    /// [`crate::Error::DownloadUrlNotHttp`] when its scheme is not `http` or `https`.
    ///
    /// ```
    /// use webex_wholesale_client::{DownloadUrl, Error};
    /// assert!(matches!(DownloadUrl::parse("not a url"), Err(Error::InvalidDownloadUrl(_))));
    /// let err = DownloadUrl::parse("ftp://h/a.csv?Signature=s").unwrap_err();
    /// assert_eq!(err.to_string(), r#"a download url must be an absolute http(s) url, not a "ftp" url"#);
    /// ```
    pub fn parse(text: &str) -> crate::Result<Self> {
        let url = Url::parse(text).map_err(crate::Error::InvalidDownloadUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(crate::Error::DownloadUrlNotHttp {
                scheme: url.scheme().to_owned(),
            });
        }
        Ok(DownloadUrl(url))
    }

    /// The URL, signature included.
    ///
    /// ```
    /// let url = webex_wholesale_client::DownloadUrl::parse("https://h/a.csv?Signature=s")?;
    /// assert_eq!(url.as_url().query(), Some("Signature=s"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Debug for DownloadUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.clone();
        shown.set_query(None);
        shown.set_fragment(None);
        let _ = shown.set_password(None);
        let query = if self.0.query().is_some() { "?<redacted>" } else { "" };
        write!(f, "DownloadUrl({shown}{query})")
    }
}

impl Serialize for DownloadUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for DownloadUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DownloadUrl::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A wholesale sub-partner (`SubPartner`).
///
/// ```
/// let s: webex_wholesale_client::SubPartner = serde_json::from_str(r#"{"orgId": "sp-1",
///     "subscriptionId": "Sub2", "provisioningState": "active", "created": "2023-02-16T14:10:18.855Z"}"#).unwrap();
/// assert_eq!(s.org_id, "sp-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubPartner {
    /// The sub-partner's organisation id.
    pub org_id: String,
    /// The wholesale subscription id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// `active` or `suspended`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_state: Option<ProvisioningState>,
    /// When the sub-partner was created (RFC 3339, as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When its billing started (a date or a date-time, as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_start_date: Option<String>,
}

/// A wholesale customer (`Customer`).
///
/// ```
/// let c: webex_wholesale_client::Customer = serde_json::from_str(r#"{"id": "Y2lz", "orgId": "c-1",
///     "externalId": "ACME-1", "status": "provisioned", "packages": ["webex_calling"]}"#).unwrap();
/// assert_eq!(c.external_id.as_deref(), Some("ACME-1"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// The customer's id (`customerId` of the other customer requests).
    pub id: String,
    /// The customer's organisation id (only when provisioned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    /// The partner's own id of the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The provisioning status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CustomerStatus>,
    /// The packages (`webex_calling`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
}

/// `YYYY-MM-DD` dates; a date-time (`2021-05-21T00:00:00.000Z`) is read as its date.
mod date {
    use serde::{Deserialize, Deserializer, Serializer};
    use wholesale_billing::NaiveDate;

    pub(super) fn parse(text: &str) -> Result<NaiveDate, String> {
        let day = match text.as_bytes().get(10) {
            Some(b'T' | b't' | b' ') => text.get(..10).unwrap_or(text),
            _ => text,
        };
        wholesale_billing::parse_date(day).map_err(|e| e.to_string())
    }

    pub(super) fn serialize<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(date)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveDate, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Optional dates, as [`date`].
mod opt_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use wholesale_billing::NaiveDate;

    pub(super) fn serialize<S: Serializer>(date: &Option<NaiveDate>, serializer: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(d) => serializer.collect_str(d),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) => super::date::parse(&text).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_accept_the_date_time_form_and_refuse_garbage() {
        let r: ReportSummary = serde_json::from_str(
            r#"{"id": "x", "billingStartDate": "2021-05-21T00:00:00.000Z", "billingEndDate": "2021-05-30",
                "status": "weird", "reportType": "CUSTOMER"}"#,
        )
        .unwrap();
        assert_eq!(r.billing_start_date.to_string(), "2021-05-21");
        assert_eq!(r.status, ReportStatus::Other("weird".into()));
        assert_eq!(r.report_type, Some(ReportLevel::Customer));
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#""billingStartDate":"2021-05-21""#), "{json}");
        assert!(
            serde_json::from_str::<ReportSummary>(
                r#"{"id": "x", "billingStartDate": "21/05/2021",
            "billingEndDate": "2021-05-30", "status": "COMPLETED"}"#
            )
            .is_err()
        );
        let c: CreatedReport = serde_json::from_str(r#"{"id": "x", "billingStartDate": null}"#).unwrap();
        assert_eq!(c.billing_start_date, None);
    }

    #[test]
    fn download_urls_are_redacted() {
        let r: Report = serde_json::from_str(
            r#"{"id": "x", "billingStartDate": "2021-05-21", "billingEndDate": "2021-05-30", "status": "COMPLETED",
                "tempDownloadURL": "https://u:pw@h.example/a.csv?Expires=1&Signature=SIG&Key-Pair-Id=K#f"}"#,
        )
        .unwrap();
        let debug = format!("{r:?}");
        assert!(
            !debug.contains("SIG") && !debug.contains("pw") && !debug.contains("Key-Pair"),
            "{debug}"
        );
        assert!(serde_json::from_str::<DownloadUrl>(r#""ftp://h/a.csv""#).is_err());
    }
}
