//! Wholesale sub-partners and customers: who the partner bills, and the external ids of the
//! customers' organisations.

use std::collections::BTreeMap;

use url::Url;

use crate::client::Client;
use crate::error::Result;
use crate::models::{Customer, CustomerStatus, ProvisioningState, SubPartner};
use crate::pagination::Page;

/// The filters of a sub-partner list.
///
/// ```
/// use webex_wholesale_client::{ProvisioningState, SubPartnerFilter};
/// let mut url = url::Url::parse("https://webexapis.com/v1/wholesale/subPartners").unwrap();
/// SubPartnerFilter { provisioning_state: Some(ProvisioningState::Active), max: Some(10), ..Default::default() }
///     .apply(&mut url);
/// assert_eq!(url.query(), Some("provisioningState=active&max=10"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubPartnerFilter {
    /// `provisioningState`.
    pub provisioning_state: Option<ProvisioningState>,
    /// `offset`: the first item (paging continues through the `Link` next URL).
    pub offset: Option<u32>,
    /// `max`: items per page.
    pub max: Option<u32>,
}

impl SubPartnerFilter {
    /// Appends the filters to a URL's query.
    ///
    /// ```
    /// let mut url = url::Url::parse("https://h/s").unwrap();
    /// webex_wholesale_client::SubPartnerFilter::default().apply(&mut url);
    /// assert_eq!(url.query(), None);
    /// ```
    pub fn apply(&self, url: &mut Url) {
        let mut pairs = url.query_pairs_mut();
        if let Some(state) = &self.provisioning_state {
            pairs.append_pair("provisioningState", state.as_str());
        }
        if let Some(offset) = self.offset {
            pairs.append_pair("offset", &offset.to_string());
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

/// The filters of a customer list.
///
/// ```
/// use webex_wholesale_client::{CustomerFilter, CustomerStatus};
/// let mut url = url::Url::parse("https://webexapis.com/v1/wholesale/customers").unwrap();
/// CustomerFilter {
///     status: vec![CustomerStatus::Provisioned, CustomerStatus::Error],
///     on_behalf_of_sub_partner: Some("sp-1".into()),
///     ..Default::default()
/// }
/// .apply(&mut url);
/// assert_eq!(url.query(), Some("status=provisioned&status=error&onBehalfOfSubPartnerOrgId=sp-1"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// `externalId`.
    pub external_id: Option<String>,
    /// `orgId`.
    pub org_id: Option<String>,
    /// `status` (repeated for several).
    pub status: Vec<CustomerStatus>,
    /// `onBehalfOfSubPartnerOrgId`: a sub-partner's customers, with the partner's token.
    pub on_behalf_of_sub_partner: Option<String>,
    /// `offset`.
    pub offset: Option<u32>,
    /// `max`: items per page.
    pub max: Option<u32>,
}

impl CustomerFilter {
    /// Appends the filters to a URL's query.
    ///
    /// ```
    /// let mut url = url::Url::parse("https://h/c").unwrap();
    /// webex_wholesale_client::CustomerFilter { external_id: Some("A 1".into()), ..Default::default() }.apply(&mut url);
    /// assert_eq!(url.query(), Some("externalId=A+1"));
    /// ```
    pub fn apply(&self, url: &mut Url) {
        let mut pairs = url.query_pairs_mut();
        if let Some(v) = &self.external_id {
            pairs.append_pair("externalId", v);
        }
        if let Some(v) = &self.org_id {
            pairs.append_pair("orgId", v);
        }
        for s in &self.status {
            pairs.append_pair("status", s.as_str());
        }
        if let Some(v) = &self.on_behalf_of_sub_partner {
            pairs.append_pair("onBehalfOfSubPartnerOrgId", v);
        }
        if let Some(offset) = self.offset {
            pairs.append_pair("offset", &offset.to_string());
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

impl Client {
    /// A sub-partner list (`GET /wholesale/subPartners`; a partner token).
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// for sub in client.sub_partners().max(50).all().await? {
    ///     println!("{} {:?}", sub.org_id, sub.provisioning_state);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn sub_partners(&self) -> ListSubPartners<'_> {
        ListSubPartners {
            client: self,
            filter: SubPartnerFilter::default(),
        }
    }

    /// The customer API (`/wholesale/customers`).
    ///
    /// ```
    /// let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let customers = client.customers();
    /// assert_eq!(customers.list().filter(), &webex_wholesale_client::CustomerFilter::default());
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn customers(&self) -> Customers<'_> {
        Customers { client: self }
    }

    pub(crate) async fn list_sub_partners(&self, filter: &SubPartnerFilter) -> Result<Page<SubPartner>> {
        let mut url = self.endpoint(&["wholesale", "subPartners"]);
        filter.apply(&mut url);
        self.get_page(url).await
    }

    pub(crate) async fn list_customers(&self, filter: &CustomerFilter) -> Result<Page<Customer>> {
        let mut url = self.endpoint(&["wholesale", "customers"]);
        filter.apply(&mut url);
        self.get_page(url).await
    }
}

/// A sub-partner list, from [`Client::sub_partners`]; ends with [`ListSubPartners::send`] (one
/// page) or [`ListSubPartners::all`]. Both response keys (`items`, `subPartners`) are read.
///
/// ```
/// let client = webex_wholesale_client::Client::builder().token("t").build()?;
/// let list = client.sub_partners().provisioning_state(webex_wholesale_client::ProvisioningState::Active);
/// assert!(list.filter().provisioning_state.is_some());
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until sent"]
pub struct ListSubPartners<'c> {
    client: &'c Client,
    filter: SubPartnerFilter,
}

impl ListSubPartners<'_> {
    /// Replaces every filter.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let filter = webex_wholesale_client::SubPartnerFilter { max: Some(25), ..Default::default() };
    /// let l = client.sub_partners().offset(50).with_filter(filter.clone());
    /// assert_eq!(l.filter(), &filter);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn with_filter(mut self, filter: SubPartnerFilter) -> Self {
        self.filter = filter;
        self
    }

    /// The filters so far.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// assert_eq!(client.sub_partners().filter().max, None);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn filter(&self) -> &SubPartnerFilter {
        &self.filter
    }

    /// `provisioningState`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.sub_partners().provisioning_state(webex_wholesale_client::ProvisioningState::Suspended);
    /// let mut url = client.base_url().clone();
    /// l.filter().apply(&mut url);
    /// assert_eq!(url.query(), Some("provisioningState=suspended"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn provisioning_state(mut self, state: ProvisioningState) -> Self {
        self.filter.provisioning_state = Some(state);
        self
    }

    /// `offset`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.sub_partners().offset(20);
    /// assert_eq!(l.filter().offset, Some(20));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn offset(mut self, offset: u32) -> Self {
        self.filter.offset = Some(offset);
        self
    }

    /// `max`: items per page.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.sub_partners().max(10);
    /// assert_eq!(l.filter().max, Some(10));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn max(mut self, max: u32) -> Self {
        self.filter.max = Some(max);
        self
    }

    /// The first page.
    ///
    /// # Errors
    /// [`crate::Error::Api`] (403 with a sub-partner's token), [`crate::Error::Decode`], transport
    /// errors.
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let page = client.sub_partners().send().await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Page<SubPartner>> {
        self.client.list_sub_partners(&self.filter).await
    }

    /// Every sub-partner, following the next links.
    ///
    /// # Errors
    /// As [`ListSubPartners::send`] and [`Client::all_pages`].
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let all = client.sub_partners().all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn all(self) -> Result<Vec<SubPartner>> {
        let first = self.client.list_sub_partners(&self.filter).await?;
        self.client.all_pages(first).await
    }
}

/// The customer API, from [`Client::customers`].
///
/// ```no_run
/// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
/// let ids = client.customers().external_ids(None).await?;
/// for (org_id, external_id) in &ids {
///     println!("{org_id} -> {external_id}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Customers<'c> {
    client: &'c Client,
}

impl<'c> Customers<'c> {
    /// A customer list with filters.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.customers().list().external_id("ACME-1");
    /// assert_eq!(l.filter().external_id.as_deref(), Some("ACME-1"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn list(&self) -> ListCustomers<'c> {
        ListCustomers {
            client: self.client,
            filter: CustomerFilter::default(),
        }
    }

    /// One customer by its `id`.
    ///
    /// # Errors
    /// [`crate::Error::Api`] (404 for an unknown id), [`crate::Error::Decode`], transport errors.
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let customer = client.customers().get("Y2lzY29zcGFyazovL3VzL0NVU1RPTUVSL2MtMQ").await?;
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: &str) -> Result<Customer> {
        let url = self.client.endpoint(&["wholesale", "customers", id]);
        self.client.get_json(url).await
    }

    /// The external id of every customer organisation, by org id (customers without an org id or
    /// an external id are left out): the partner's own customers, or a sub-partner's with
    /// `on_behalf_of_sub_partner`.
    ///
    /// # Errors
    /// As [`ListCustomers::all`].
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let ids = client.customers().external_ids(Some("sp-1")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn external_ids(&self, on_behalf_of_sub_partner: Option<&str>) -> Result<BTreeMap<String, String>> {
        let filter = CustomerFilter {
            on_behalf_of_sub_partner: on_behalf_of_sub_partner.map(str::to_owned),
            ..CustomerFilter::default()
        };
        let customers = self.list().with_filter(filter).all().await?;
        Ok(customers
            .into_iter()
            .filter_map(|c| Some((c.org_id?, c.external_id?)))
            .collect())
    }
}

/// A customer list, from [`Customers::list`]; ends with [`ListCustomers::send`] (one page) or
/// [`ListCustomers::all`].
///
/// ```
/// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
/// let l = client.customers().list().on_behalf_of_sub_partner("sp-1").max(100);
/// assert_eq!(l.filter().max, Some(100));
/// # Ok::<(), webex_wholesale_client::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until sent"]
pub struct ListCustomers<'c> {
    client: &'c Client,
    filter: CustomerFilter,
}

impl ListCustomers<'_> {
    /// Replaces every filter.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let filter = webex_wholesale_client::CustomerFilter { org_id: Some("c-1".into()), ..Default::default() };
    /// let l = client.customers().list().max(10).with_filter(filter.clone());
    /// assert_eq!(l.filter(), &filter);
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn with_filter(mut self, filter: CustomerFilter) -> Self {
        self.filter = filter;
        self
    }

    /// The filters so far.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// assert!(client.customers().list().filter().status.is_empty());
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn filter(&self) -> &CustomerFilter {
        &self.filter
    }

    /// `externalId`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.customers().list().external_id("X-1");
    /// assert_eq!(l.filter().external_id.as_deref(), Some("X-1"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn external_id(mut self, external_id: impl Into<String>) -> Self {
        self.filter.external_id = Some(external_id.into());
        self
    }

    /// `orgId`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.customers().list().org_id("c-1");
    /// assert_eq!(l.filter().org_id.as_deref(), Some("c-1"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn org_id(mut self, org_id: impl Into<String>) -> Self {
        self.filter.org_id = Some(org_id.into());
        self
    }

    /// Adds a `status`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// use webex_wholesale_client::CustomerStatus;
    /// let l = client.customers().list().status(CustomerStatus::Provisioned).status(CustomerStatus::Error);
    /// let mut url = client.base_url().clone();
    /// l.filter().apply(&mut url);
    /// assert_eq!(url.query(), Some("status=provisioned&status=error"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn status(mut self, status: CustomerStatus) -> Self {
        self.filter.status.push(status);
        self
    }

    /// `onBehalfOfSubPartnerOrgId`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.customers().list().on_behalf_of_sub_partner("sp-1");
    /// assert_eq!(l.filter().on_behalf_of_sub_partner.as_deref(), Some("sp-1"));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn on_behalf_of_sub_partner(mut self, org_id: impl Into<String>) -> Self {
        self.filter.on_behalf_of_sub_partner = Some(org_id.into());
        self
    }

    /// `offset`.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.customers().list().offset(100);
    /// assert_eq!(l.filter().offset, Some(100));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn offset(mut self, offset: u32) -> Self {
        self.filter.offset = Some(offset);
        self
    }

    /// `max`: items per page.
    ///
    /// ```
    /// # let client = webex_wholesale_client::Client::builder().token("t").build()?;
    /// let l = client.customers().list().max(100);
    /// assert_eq!(l.filter().max, Some(100));
    /// # Ok::<(), webex_wholesale_client::Error>(())
    /// ```
    pub fn max(mut self, max: u32) -> Self {
        self.filter.max = Some(max);
        self
    }

    /// The first page.
    ///
    /// # Errors
    /// [`crate::Error::Api`], [`crate::Error::Decode`], transport errors.
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let page = client.customers().list().max(10).send().await?;
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Page<Customer>> {
        self.client.list_customers(&self.filter).await
    }

    /// Every customer, following the next links.
    ///
    /// # Errors
    /// As [`ListCustomers::send`] and [`Client::all_pages`].
    ///
    /// ```no_run
    /// # async fn run(client: webex_wholesale_client::Client) -> webex_wholesale_client::Result<()> {
    /// let all = client.customers().list().all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn all(self) -> Result<Vec<Customer>> {
        let first = self.client.list_customers(&self.filter).await?;
        self.client.all_pages(first).await
    }
}
