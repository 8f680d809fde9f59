//! What to create and what to list: [`NewReport`] and [`ReportFilter`].

use serde_json::json;
use url::Url;
use wholesale_billing::{NaiveDate, Period, ReportLevel};

use crate::models::{ReportStatus, ReportSummary, SortBy};

/// A report to create: period, level (`type`), sub-partner and the `internal` flag.
///
/// ```
/// use webex_wholesale_client::{NewReport, Period, ReportLevel};
/// let new = NewReport::new(Period::month(2024, 5)?, ReportLevel::User).sub_partner("sp-1").internal(true);
/// assert_eq!(new.body(), serde_json::json!({"billingStartDate": "2024-05-01", "billingEndDate": "2024-05-31",
///     "type": "USER", "subPartnerOrgId": "sp-1", "internal": true}));
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReport {
    /// The billing period (`billingStartDate`, `billingEndDate`).
    pub period: Period,
    /// The report type (`type`, the API's default `PARTNER`).
    pub level: ReportLevel,
    /// A sub-partner's organisation id (`subPartnerOrgId`).
    pub sub_partner: Option<String>,
    /// Whether internal organisations are included (`internal`; not sent when `None`).
    pub internal: Option<bool>,
}

impl NewReport {
    /// A report of `level` over `period`, for the partner itself.
    ///
    /// ```
    /// use webex_wholesale_client::{NewReport, Period, ReportLevel};
    /// assert_eq!(NewReport::new(Period::month(2024, 5)?, ReportLevel::Partner).sub_partner, None);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn new(period: Period, level: ReportLevel) -> Self {
        NewReport {
            period,
            level,
            sub_partner: None,
            internal: None,
        }
    }

    /// The same report for a sub-partner.
    ///
    /// ```
    /// use webex_wholesale_client::{NewReport, Period, ReportLevel};
    /// let new = NewReport::new(Period::month(2024, 5)?, ReportLevel::Partner).sub_partner("sp-9");
    /// assert_eq!(new.sub_partner.as_deref(), Some("sp-9"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn sub_partner(mut self, org_id: impl Into<String>) -> Self {
        self.sub_partner = Some(org_id.into());
        self
    }

    /// The same report with the `internal` flag.
    ///
    /// ```
    /// use webex_wholesale_client::{NewReport, Period, ReportLevel};
    /// assert_eq!(NewReport::new(Period::month(2024, 5)?, ReportLevel::User).internal(false).internal, Some(false));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn internal(mut self, internal: bool) -> Self {
        self.internal = Some(internal);
        self
    }

    /// The JSON body of the create request.
    ///
    /// ```
    /// use webex_wholesale_client::{NewReport, Period, ReportLevel};
    /// let body = NewReport::new(Period::month(2024, 2)?, ReportLevel::Partner).body();
    /// assert_eq!(body["billingEndDate"], "2024-02-29");
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn body(&self) -> serde_json::Value {
        let mut body = json!({
            "billingStartDate": self.period.start().to_string(),
            "billingEndDate": self.period.end().to_string(),
            "type": self.level.as_str(),
        });
        if let Some(map) = body.as_object_mut() {
            if let Some(id) = &self.sub_partner {
                map.insert("subPartnerOrgId".into(), json!(id));
            }
            if let Some(internal) = self.internal {
                map.insert("internal".into(), json!(internal));
            }
        }
        body
    }

    /// The list filter that finds the reports of this period, type and sub-partner.
    ///
    /// ```
    /// use webex_wholesale_client::{NewReport, Period, ReportLevel};
    /// let filter = NewReport::new(Period::month(2024, 5)?, ReportLevel::User).exact_filter();
    /// assert_eq!(filter.level, Some(ReportLevel::User));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn exact_filter(&self) -> ReportFilter {
        ReportFilter {
            billing_start_date: Some(self.period.start()),
            billing_end_date: Some(self.period.end()),
            level: Some(self.level),
            sub_partner: self.sub_partner.clone(),
            ..ReportFilter::default()
        }
    }

    /// Whether a listed report is of this period and type (a list item does not say its
    /// sub-partner; the list filter does).
    pub(crate) fn matches(&self, r: &ReportSummary) -> bool {
        r.billing_start_date == self.period.start()
            && r.billing_end_date == self.period.end()
            && r.report_type.is_none_or(|t| t == self.level)
    }
}

/// The filters of a billing report list. Fields left `None` are not sent.
///
/// ```
/// use webex_wholesale_client::{ReportFilter, ReportStatus, SortBy};
/// let filter = ReportFilter::default().status(ReportStatus::Completed).sort_by(SortBy::Id).max(50);
/// let mut url = url::Url::parse("https://webexapis.com/v1/wholesale/billing/reports").unwrap();
/// filter.apply(&mut url);
/// assert_eq!(url.query(), Some("status=COMPLETED&sortBy=id&max=50"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// `billingStartDate` (exact match).
    pub billing_start_date: Option<NaiveDate>,
    /// `billingEndDate` (exact match).
    pub billing_end_date: Option<NaiveDate>,
    /// `type`.
    pub level: Option<ReportLevel>,
    /// `status`.
    pub status: Option<ReportStatus>,
    /// `subPartnerOrgId`.
    pub sub_partner: Option<String>,
    /// `sortBy`.
    pub sort_by: Option<SortBy>,
    /// `max`: items per page (1 to 100).
    pub max: Option<u32>,
}

impl ReportFilter {
    /// Only reports of this period (both dates).
    ///
    /// ```
    /// use webex_wholesale_client::{Period, ReportFilter};
    /// let f = ReportFilter::default().period(Period::month(2024, 5)?);
    /// assert_eq!(f.billing_end_date.unwrap().to_string(), "2024-05-31");
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    #[must_use]
    pub fn period(mut self, period: Period) -> Self {
        self.billing_start_date = Some(period.start());
        self.billing_end_date = Some(period.end());
        self
    }

    /// Only reports of this type.
    ///
    /// ```
    /// use webex_wholesale_client::{ReportFilter, ReportLevel};
    /// assert_eq!(ReportFilter::default().level(ReportLevel::User).level, Some(ReportLevel::User));
    /// ```
    #[must_use]
    pub fn level(mut self, level: ReportLevel) -> Self {
        self.level = Some(level);
        self
    }

    /// Only reports with this status.
    ///
    /// ```
    /// use webex_wholesale_client::{ReportFilter, ReportStatus};
    /// assert!(ReportFilter::default().status(ReportStatus::Failed).status.is_some());
    /// ```
    #[must_use]
    pub fn status(mut self, status: ReportStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only reports of this sub-partner.
    ///
    /// ```
    /// assert!(webex_wholesale_client::ReportFilter::default().sub_partner("sp").sub_partner.is_some());
    /// ```
    #[must_use]
    pub fn sub_partner(mut self, org_id: impl Into<String>) -> Self {
        self.sub_partner = Some(org_id.into());
        self
    }

    /// The sort order.
    ///
    /// ```
    /// use webex_wholesale_client::{ReportFilter, SortBy};
    /// assert_eq!(ReportFilter::default().sort_by(SortBy::Status).sort_by, Some(SortBy::Status));
    /// ```
    #[must_use]
    pub fn sort_by(mut self, sort_by: SortBy) -> Self {
        self.sort_by = Some(sort_by);
        self
    }

    /// Items per page (the service allows 1 to 100).
    ///
    /// ```
    /// assert_eq!(webex_wholesale_client::ReportFilter::default().max(5).max, Some(5));
    /// ```
    #[must_use]
    pub fn max(mut self, max: u32) -> Self {
        self.max = Some(max);
        self
    }

    /// Appends the filters to a URL's query.
    ///
    /// ```
    /// use webex_wholesale_client::{Period, ReportFilter, ReportLevel};
    /// let mut url = url::Url::parse("https://h/r").unwrap();
    /// ReportFilter::default().period(Period::month(2024, 5)?).level(ReportLevel::User).sub_partner("a b").apply(&mut url);
    /// assert_eq!(url.query(),
    ///     Some("billingStartDate=2024-05-01&billingEndDate=2024-05-31&type=USER&subPartnerOrgId=a+b"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn apply(&self, url: &mut Url) {
        let mut pairs = url.query_pairs_mut();
        if let Some(d) = self.billing_start_date {
            pairs.append_pair("billingStartDate", &d.to_string());
        }
        if let Some(d) = self.billing_end_date {
            pairs.append_pair("billingEndDate", &d.to_string());
        }
        if let Some(level) = self.level {
            pairs.append_pair("type", level.as_str());
        }
        if let Some(status) = &self.status {
            pairs.append_pair("status", status.as_str());
        }
        if let Some(id) = &self.sub_partner {
            pairs.append_pair("subPartnerOrgId", id);
        }
        if let Some(sort) = &self.sort_by {
            pairs.append_pair("sortBy", sort.as_str());
        }
        if let Some(max) = self.max {
            pairs.append_pair("max", &max.to_string());
        }
        drop(pairs);
        if url.query() == Some("") {
            url.set_query(None);
        }
    }
}
