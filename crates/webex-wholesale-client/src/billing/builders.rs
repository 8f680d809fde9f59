//! The request builders of the billing report API.

use wholesale_billing::{NaiveDate, Period, ReportLevel};

use super::{NewReport, ReportFilter};
use crate::client::Client;
use crate::error::Result;
use crate::models::{CreatedReport, ReportStatus, ReportSummary, SortBy};
use crate::pagination::Page;

/// A report creation, from [`BillingReports::create`](crate::BillingReports::create); ends with [`CreateReport::send`].
///
/// ```
/// use webex_wholesale_client::{Period, ReportLevel};
/// let client = webex_wholesale_client::Client::builder().token("t").build()?;
/// let create = client.billing_reports().create(Period::month(2024, 5)?).level(ReportLevel::User).internal(true);
/// assert_eq!(create.request().level, ReportLevel::User);
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until sent"]
pub struct CreateReport<'c> {
    pub(crate) client: &'c Client,
    pub(crate) new: NewReport,
}

impl CreateReport<'_> {
    /// The report type (`type`).
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// use webex_wholesale_client::{Period, ReportLevel};
    /// let c = client.billing_reports().create(Period::month(2024, 5)?).level(ReportLevel::Customer);
    /// assert_eq!(c.request().body()["type"], "CUSTOMER");
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn level(mut self, level: ReportLevel) -> Self {
        self.new.level = level;
        self
    }

    /// The sub-partner (`subPartnerOrgId`).
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let c = client.billing_reports().create(webex_wholesale_client::Period::month(2024, 5)?).sub_partner("sp-1");
    /// assert_eq!(c.request().body()["subPartnerOrgId"], "sp-1");
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn sub_partner(mut self, org_id: impl Into<String>) -> Self {
        self.new.sub_partner = Some(org_id.into());
        self
    }

    /// Whether internal organisations are included (`internal`).
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let c = client.billing_reports().create(webex_wholesale_client::Period::month(2024, 5)?).internal(true);
    /// assert_eq!(c.request().internal, Some(true));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn internal(mut self, internal: bool) -> Self {
        self.new.internal = Some(internal);
        self
    }

    /// What will be sent.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let c = client.billing_reports().create(webex_wholesale_client::Period::month(2024, 5)?);
    /// assert_eq!(c.request().sub_partner, None);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn request(&self) -> &NewReport {
        &self.new
    }

    /// Sends the creation (see [`BillingReports::create`](crate::BillingReports::create) for the retry rule).
    ///
    /// # Errors
    /// [`Error::Api`](crate::Error::Api): 400 for bad dates (the current day or later, more than five years back),
    /// 409 when a `COMPLETED` report of the period and type exists (delete it to regenerate),
    /// 403 for another sub-partner; transport errors.
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// match client.billing_reports().create(webex_wholesale_client::Period::month(2024, 5)?).send().await {
    ///     Err(e) if e.is_conflict() => println!("already generated"),
    ///     other => println!("{:?}", other?.id),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<CreatedReport> {
        self.client.create_report(&self.new, None).await
    }
}

/// A billing report list, from [`BillingReports::list`](crate::BillingReports::list); ends with [`ListReports::send`] (one
/// page) or [`ListReports::all`] (every page).
///
/// ```
/// use webex_wholesale_client::{ReportLevel, SortBy};
/// let client = webex_wholesale_client::Client::builder().token("t").build()?;
/// let list = client.billing_reports().list().level(ReportLevel::User).sort_by(SortBy::Status).max(20);
/// assert_eq!(list.filter().max, Some(20));
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until sent"]
pub struct ListReports<'c> {
    pub(crate) client: &'c Client,
    pub(crate) filter: ReportFilter,
}

impl ListReports<'_> {
    /// Replaces every filter.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.billing_reports().list().with_filter(webex_wholesale_client::ReportFilter::default().max(3));
    /// assert_eq!(l.filter().max, Some(3));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn with_filter(mut self, filter: ReportFilter) -> Self {
        self.filter = filter;
        self
    }

    /// The filters so far.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// assert_eq!(client.billing_reports().list().filter().max, None);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn filter(&self) -> &ReportFilter {
        &self.filter
    }

    /// Only reports of this period ([`ReportFilter::period`]).
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.billing_reports().list().period(webex_wholesale_client::Period::month(2024, 5)?);
    /// let mut url = client.base_url().clone();
    /// l.filter().apply(&mut url);
    /// assert_eq!(url.query(), Some("billingStartDate=2024-05-01&billingEndDate=2024-05-31"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn period(mut self, period: Period) -> Self {
        self.filter = self.filter.period(period);
        self
    }

    /// `billingStartDate`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let start = wholesale_billing::parse_date("2024-05-01")?;
    /// let l = client.billing_reports().list().billing_start_date(start);
    /// assert_eq!(l.filter().billing_start_date, Some(start));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn billing_start_date(mut self, date: NaiveDate) -> Self {
        self.filter.billing_start_date = Some(date);
        self
    }

    /// `billingEndDate`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let end = wholesale_billing::parse_date("2024-05-31")?;
    /// let l = client.billing_reports().list().billing_end_date(end);
    /// assert_eq!(l.filter().billing_end_date, Some(end));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn billing_end_date(mut self, date: NaiveDate) -> Self {
        self.filter.billing_end_date = Some(date);
        self
    }

    /// `type`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.billing_reports().list().level(webex_wholesale_client::ReportLevel::Partner);
    /// assert_eq!(l.filter().level, Some(webex_wholesale_client::ReportLevel::Partner));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn level(mut self, level: ReportLevel) -> Self {
        self.filter.level = Some(level);
        self
    }

    /// `status`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.billing_reports().list().status(webex_wholesale_client::ReportStatus::InProgress);
    /// let mut url = client.base_url().clone();
    /// l.filter().apply(&mut url);
    /// assert_eq!(url.query(), Some("status=IN_PROGRESS"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn status(mut self, status: ReportStatus) -> Self {
        self.filter.status = Some(status);
        self
    }

    /// `subPartnerOrgId`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.billing_reports().list().sub_partner("sp-1");
    /// assert_eq!(l.filter().sub_partner.as_deref(), Some("sp-1"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn sub_partner(mut self, org_id: impl Into<String>) -> Self {
        self.filter.sub_partner = Some(org_id.into());
        self
    }

    /// `sortBy`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.billing_reports().list().sort_by(webex_wholesale_client::SortBy::BillingEndDate);
    /// assert_eq!(l.filter().sort_by, Some(webex_wholesale_client::SortBy::BillingEndDate));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn sort_by(mut self, sort_by: SortBy) -> Self {
        self.filter.sort_by = Some(sort_by);
        self
    }

    /// `max`: items per page (1 to 100).
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.billing_reports().list().max(100);
    /// assert_eq!(l.filter().max, Some(100));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn max(mut self, max: u32) -> Self {
        self.filter.max = Some(max);
        self
    }

    /// The first page; [`Client::next_page`] gives the following ones.
    ///
    /// # Errors
    /// [`Error::Api`](crate::Error::Api) (400 for a bad filter, 403 for another sub-partner), [`Error::Decode`](crate::Error::Decode),
    /// [`Error::ForeignOrigin`](crate::Error::ForeignOrigin) for a next link off the API origin, transport errors.
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let page = client.billing_reports().list().max(10).send().await?;
    /// println!("{} reports, more: {}", page.items.len(), page.has_next());
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Page<ReportSummary>> {
        self.client.list_reports(&self.filter).await
    }

    /// Every report, following the next links.
    ///
    /// # Errors
    /// As [`ListReports::send`] and [`Client::all_pages`].
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let all = client.billing_reports().list().all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn all(self) -> Result<Vec<ReportSummary>> {
        self.client.list_all_reports(&self.filter).await
    }
}
