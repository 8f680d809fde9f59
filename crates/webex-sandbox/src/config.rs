//! The sandbox's configuration: dataset, address, life-cycle knobs, tokens, CCWS and faults.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use wholesale_billing::{Organisation, WholesaleRateCard};

use crate::error::{Error, Result};

/// The default listening address (`127.0.0.1:8484`).
///
/// ```
/// assert_eq!(webex_sandbox::DEFAULT_ADDR.to_string(), "127.0.0.1:8484");
/// ```
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8484);

/// Everything a [`Sandbox`](crate::Sandbox) needs: the dataset and how to serve it.
///
/// Build one with [`SandboxConfig::new`] and adjust it with the `with_*` methods or the public
/// fields; [`Sandbox::start`](crate::Sandbox::start) checks it.
///
/// ```
/// use std::time::Duration;
/// use webex_sandbox::{Faults, SandboxConfig, SubPartnersKey};
/// use wholesale_billing::Organisation;
///
/// let org = Organisation::from_toml_str(r#"
///     [partner]
///     org_id = "p-1"
///     name = "Acme Telecom"
///     subscription_id = "Sub1234567"
/// "#)?;
/// let events = b"event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package\n".to_vec();
/// let config = SandboxConfig::new(org, events)
///     .with_addr("127.0.0.1:0".parse().unwrap())
///     .with_today(wholesale_billing::NaiveDate::from_ymd_opt(2024, 7, 1).unwrap())
///     .with_report_delay(Duration::from_millis(50))
///     .with_sub_partners_key(SubPartnersKey::SubPartners)
///     .with_faults(Faults { every_429: Some(5), ..Faults::default() });
/// assert_eq!(config.create_status, 200);
/// assert_eq!(config.download_ttl, Duration::from_secs(30 * 60));
/// assert!(config.validate().is_ok());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The partner, its sub-partners and the catalog.
    pub org: Organisation,
    /// The assignment events CSV (SPEC.md §2), loaded strictly: a refused load fails the start.
    pub events_csv: Vec<u8>,
    /// The wholesale rate card the CCWS endpoints price from; `None`: every SKU is unknown to CCWS.
    pub rates: Option<WholesaleRateCard>,
    /// The SQLite file keeping reports and the hashes of the tokens across restarts (created with
    /// mode 0600, in WAL mode), beside its key file `<db_path>.key` from which the tokens and the
    /// download-signing secret are derived; `None`: an in-memory database and key (lost at
    /// shutdown).
    pub db_path: Option<PathBuf>,
    /// Where to listen (default `127.0.0.1:8484`; port 0 picks a free port).
    pub addr: SocketAddr,
    /// "Today" for the date rules of report creation; `None`: the server's UTC date.
    pub today: Option<NaiveDate>,
    /// How long a new report stays `IN_PROGRESS` (default 500 ms).
    pub report_delay: Duration,
    /// The status of a successful report creation: 200 (default) or 202.
    pub create_status: u16,
    /// The public URL of the API, as clients reach it (for example through a proxy): the base of
    /// `Link` headers and of [`Sandbox::base_url`](crate::Sandbox::base_url). `None`:
    /// `http://<listening address>` (loopback when listening on all interfaces). The request's
    /// `Host` header is never used.
    pub public_base_url: Option<String>,
    /// The origin of download URLs; `None`: `http://localhost:<port>` (another origin than the API's
    /// `http://127.0.0.1:<port>`).
    pub download_base_url: Option<String>,
    /// How long a download URL stays valid after the GET that issued it (default 30 minutes).
    pub download_ttl: Duration,
    /// The key of the sub-partner list (default `items`).
    pub sub_partners_key: SubPartnersKey,
    /// Token overrides, org id → token, while configured (they are not stored); other
    /// organisations use their own token, derived from the database's key.
    pub tokens: BTreeMap<String, String>,
    /// The CCWS (Cisco Commerce Catalog) side.
    pub ccws: CcwsConfig,
    /// Fault injection (none by default).
    pub faults: Faults,
    /// The CDR feed (`GET /v1/cdr_feed`): its records, limits and regions.
    pub cdr: CdrFeedConfig,
    /// How long a shutdown lets requests in flight and reports being generated finish before it
    /// aborts the requests and leaves the reports to the next start (default 10 seconds).
    pub shutdown_grace: Duration,
}

/// The analytics host of the sandbox's own region (the US one), unless configured otherwise.
pub const DEFAULT_CDR_REGION_HOST: &str = "analytics-calling.webexapis.com";

/// The CDR feed of the sandbox: its records, the rate limits it enforces, and the regions.
///
/// ```
/// use std::time::Duration;
/// let cdr = webex_sandbox::CdrFeedConfig::default();
/// assert_eq!(cdr.records, None);
/// assert_eq!((cdr.initial_per_period, cdr.pages_per_period, cdr.limit_period), (1, 10, Duration::from_secs(60)));
/// assert_eq!(cdr.region_host, "analytics-calling.webexapis.com");
/// assert!(cdr.org_regions.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdrFeedConfig {
    /// The call records to serve: a JSON `{"items": [...]}` document or JSON lines (one record
    /// per line), each a JSON object with a `Start time` (RFC 3339). Given, they replace the
    /// records stored in the database; `None`: the stored ones are served (none at first).
    pub records: Option<Vec<u8>>,
    /// Initial requests (without a paging cursor) a token may send per [`Self::limit_period`]
    /// (default 1, as Webex).
    pub initial_per_period: u32,
    /// Page requests (following a `Link`) a token may send per [`Self::limit_period`] (default 10).
    pub pages_per_period: u32,
    /// The period of the rate limits (default one minute).
    pub limit_period: Duration,
    /// The analytics host of this sandbox's region (default [`DEFAULT_CDR_REGION_HOST`]).
    pub region_host: String,
    /// Organisations hosted in another region: org id → that region's analytics host. Their
    /// tokens get 451 with the Webex body naming the host.
    pub org_regions: BTreeMap<String, String>,
}

impl Default for CdrFeedConfig {
    fn default() -> Self {
        CdrFeedConfig {
            records: None,
            initial_per_period: 1,
            pages_per_period: 10,
            limit_period: Duration::from_secs(60),
            region_host: DEFAULT_CDR_REGION_HOST.to_owned(),
            org_regions: BTreeMap::new(),
        }
    }
}

/// The key under which `GET /v1/wholesale/subPartners` lists the sub-partners.
///
/// ```
/// assert_eq!(webex_sandbox::SubPartnersKey::default().as_str(), "items");
/// assert_eq!(webex_sandbox::SubPartnersKey::SubPartners.as_str(), "subPartners");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubPartnersKey {
    /// `items`, as the schema `SubPartnersListResponse` says (the default).
    #[default]
    Items,
    /// `subPartners`, as the public specification's example shows.
    SubPartners,
}

impl SubPartnersKey {
    /// The JSON key.
    pub fn as_str(self) -> &'static str {
        match self {
            SubPartnersKey::Items => "items",
            SubPartnersKey::SubPartners => "subPartners",
        }
    }
}

/// The CCWS credentials the sandbox accepts, and how it pages and prices.
///
/// ```
/// let ccws = webex_sandbox::CcwsConfig::default();
/// assert_eq!((ccws.client_id.as_str(), ccws.password.as_str()), ("sandbox", "sandbox"));
/// assert_eq!((ccws.token_ttl.as_secs(), ccws.page_size, ccws.price_list_id.as_str()), (3600, 2, "1109"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CcwsConfig {
    /// The accepted `client_id` (default `sandbox`).
    pub client_id: String,
    /// The accepted `client_secret` (default `sandbox`).
    pub client_secret: String,
    /// The accepted `username` (default `sandbox`).
    pub username: String,
    /// The accepted `password` (default `sandbox`).
    pub password: String,
    /// The lifetime of an access token (`expires_in`, default one hour).
    pub token_ttl: Duration,
    /// Items per page of Get Offers (default 2).
    pub page_size: usize,
    /// The price list the sandbox serves (`erpPriceListID`, default `1109`, the guide's sample).
    pub price_list_id: String,
}

impl Default for CcwsConfig {
    fn default() -> Self {
        CcwsConfig {
            client_id: "sandbox".into(),
            client_secret: "sandbox".into(),
            username: "sandbox".into(),
            password: "sandbox".into(),
            token_ttl: Duration::from_secs(3600),
            page_size: 2,
            price_list_id: "1109".into(),
        }
    }
}

/// Faults injected into the Webex API requests (`/v1/...`), for testing clients.
///
/// ```
/// let faults = webex_sandbox::Faults::default();
/// assert_eq!((faults.every_429, faults.retry_after_secs, faults.percent_5xx), (None, 1, 0));
/// assert_eq!((faults.lost_create, faults.failed_create), (None, None));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Faults {
    /// Every N-th Webex API request is answered 429 with `Retry-After`.
    pub every_429: Option<u32>,
    /// The `Retry-After` seconds of an injected 429 (default 1).
    pub retry_after_secs: u64,
    /// This share (0–100) of Webex API requests is answered 503, deterministically from `seed`.
    pub percent_5xx: u8,
    /// The seed of the 5xx draw.
    pub seed: u64,
    /// The N-th report creation is carried out, then answered 503 (a lost response).
    pub lost_create: Option<u32>,
    /// The N-th report creation is accepted, then the report ends `FAILED` (after the usual delay)
    /// with error code 1000, as when Webex cannot generate a report.
    pub failed_create: Option<u32>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            every_429: None,
            retry_after_secs: 1,
            percent_5xx: 0,
            seed: 0,
            lost_create: None,
            failed_create: None,
        }
    }
}

impl SandboxConfig {
    /// A configuration with the defaults: `127.0.0.1:8484`, an in-memory database, no rate card,
    /// 500 ms report delay, status 200, 30-minute download URLs, no faults, a 10-second shutdown grace.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new());
    /// assert_eq!(config.addr, webex_sandbox::DEFAULT_ADDR);
    /// assert_eq!((config.db_path, config.rates, config.report_delay.as_millis()), (None, None, 500));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn new(org: Organisation, events_csv: Vec<u8>) -> Self {
        SandboxConfig {
            org,
            events_csv,
            rates: None,
            db_path: None,
            addr: DEFAULT_ADDR,
            today: None,
            report_delay: Duration::from_millis(500),
            create_status: 200,
            public_base_url: None,
            download_base_url: None,
            download_ttl: Duration::from_secs(30 * 60),
            sub_partners_key: SubPartnersKey::Items,
            tokens: BTreeMap::new(),
            ccws: CcwsConfig::default(),
            faults: Faults::default(),
            cdr: CdrFeedConfig::default(),
            shutdown_grace: Duration::from_secs(10),
        }
    }

    /// Sets the CDR feed.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// use webex_sandbox::{CdrFeedConfig, SandboxConfig};
    /// let records = br#"{"Report ID": "r1", "Start time": "2024-05-01T10:00:00.000Z"}"#.to_vec();
    /// let mut cdr = CdrFeedConfig { records: Some(records), initial_per_period: 100, ..CdrFeedConfig::default() };
    /// cdr.org_regions.insert("sp".into(), "analytics-calling-eu.webexapis.com".into());
    /// let config = SandboxConfig::new(org, Vec::new()).with_cdr(cdr);
    /// assert!(config.validate().is_ok());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_cdr(mut self, cdr: CdrFeedConfig) -> Self {
        self.cdr = cdr;
        self
    }

    /// Prices the CCWS endpoints from `rates`.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let card = wholesale_billing::WholesaleRateCard::from_toml_str(
    ///     "currency = \"USD\"\n[rates.\"A-W-WXC-CALL-U\"]\nrate = \"8.00\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new()).with_rates(card);
    /// assert_eq!(config.rates.unwrap().len(), 1);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_rates(mut self, rates: WholesaleRateCard) -> Self {
        self.rates = Some(rates);
        self
    }

    /// Keeps state in the SQLite file `path` (created when missing).
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new()).with_db_path("sandbox.sqlite");
    /// assert_eq!(config.db_path.unwrap().to_str(), Some("sandbox.sqlite"));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_db_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.db_path = Some(path.into());
        self
    }

    /// Listens on `addr`.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new()).with_addr("127.0.0.1:0".parse().unwrap());
    /// assert_eq!(config.addr.port(), 0);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Fixes "today".
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let today = wholesale_billing::NaiveDate::from_ymd_opt(2024, 7, 1).unwrap();
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new()).with_today(today);
    /// assert_eq!(config.today, Some(today));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// Sets how long new reports stay `IN_PROGRESS`.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new())
    ///     .with_report_delay(std::time::Duration::from_secs(2));
    /// assert_eq!(config.report_delay.as_secs(), 2);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_report_delay(mut self, delay: Duration) -> Self {
        self.report_delay = delay;
        self
    }

    /// Answers report creation with this status (200 or 202).
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new()).with_create_status(202);
    /// assert!(config.validate().is_ok());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_create_status(mut self, status: u16) -> Self {
        self.create_status = status;
        self
    }

    /// Announces the API at this URL (`http(s)://host[:port][/prefix]`) in `Link` headers and
    /// [`Sandbox::base_url`](crate::Sandbox::base_url).
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new())
    ///     .with_public_base_url("https://sandbox.example.com");
    /// assert!(config.validate().is_ok());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_public_base_url(mut self, url: impl Into<String>) -> Self {
        self.public_base_url = Some(url.into());
        self
    }

    /// Issues download URLs on this origin (`http://host:port`).
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new())
    ///     .with_download_base_url("http://downloads.localhost:8484");
    /// assert!(config.validate().is_ok());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_download_base_url(mut self, url: impl Into<String>) -> Self {
        self.download_base_url = Some(url.into());
        self
    }

    /// Sets the lifetime of download URLs.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new())
    ///     .with_download_ttl(std::time::Duration::from_secs(1));
    /// assert_eq!(config.download_ttl.as_secs(), 1);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_download_ttl(mut self, ttl: Duration) -> Self {
        self.download_ttl = ttl;
        self
    }

    /// Lists sub-partners under this key.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// use webex_sandbox::{SandboxConfig, SubPartnersKey};
    /// let config = SandboxConfig::new(org, Vec::new()).with_sub_partners_key(SubPartnersKey::SubPartners);
    /// assert_eq!(config.sub_partners_key.as_str(), "subPartners");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_sub_partners_key(mut self, key: SubPartnersKey) -> Self {
        self.sub_partners_key = key;
        self
    }

    /// Uses `token` for the organisation `org_id`.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new()).with_token("sp", "my-reseller-token");
    /// assert_eq!(config.tokens["sp"], "my-reseller-token");
    /// assert!(config.validate().is_ok());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_token(mut self, org_id: impl Into<String>, token: impl Into<String>) -> Self {
        self.tokens.insert(org_id.into(), token.into());
        self
    }

    /// Sets the CCWS side.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// use webex_sandbox::{CcwsConfig, SandboxConfig};
    /// let ccws = CcwsConfig { page_size: 10, ..CcwsConfig::default() };
    /// let config = SandboxConfig::new(org, Vec::new()).with_ccws(ccws);
    /// assert_eq!(config.ccws.page_size, 10);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_ccws(mut self, ccws: CcwsConfig) -> Self {
        self.ccws = ccws;
        self
    }

    /// Sets how long a shutdown waits for requests in flight and reports being generated.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// let config = webex_sandbox::SandboxConfig::new(org, Vec::new())
    ///     .with_shutdown_grace(std::time::Duration::from_secs(2));
    /// assert_eq!(config.shutdown_grace.as_secs(), 2);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Sets the faults to inject.
    ///
    /// ```
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n[[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"")?;
    /// use webex_sandbox::{Faults, SandboxConfig};
    /// let config = SandboxConfig::new(org, Vec::new())
    ///     .with_faults(Faults { percent_5xx: 10, seed: 42, ..Faults::default() });
    /// assert_eq!(config.faults.percent_5xx, 10);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Checks the configuration (the dataset itself is checked when the sandbox starts).
    ///
    /// # Errors
    /// [`Error::InvalidCreateStatus`] for a create status other than 200 or 202;
    /// [`Error::FaultShareAbove100`] for a 5xx share over 100; [`Error::ZeroSetting`] for a fault
    /// period, lost create, CCWS page size or CDR rate limit of 0; [`Error::RegionForUnknownOrg`]
    /// for a CDR region given to an org id that is neither the partner nor a sub-partner; [`Error::InvalidDownloadBaseUrl`] for a download
    /// base URL that is not an `http(s)` origin; [`Error::InvalidPublicBaseUrl`] for a public base
    /// URL that is not an `http(s)` URL without credentials, query or fragment;
    /// [`Error::TokenForUnknownOrg`], [`Error::InvalidToken`] or [`Error::SharedToken`] for a token
    /// override for an unknown org id, empty or with white space, or given to two orgs.
    ///
    /// ```
    /// # use webex_sandbox::SandboxConfig;
    /// # let org = wholesale_billing::Organisation::from_toml_str(
    /// #     "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"")?;
    /// let config = SandboxConfig::new(org, Vec::new()).with_create_status(201);
    /// let err = config.validate().unwrap_err();
    /// assert!(matches!(err, webex_sandbox::Error::InvalidCreateStatus { status: 201 }));
    /// assert_eq!(err.to_string(), "invalid sandbox configuration: create_status must be 200 or 202, not 201");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn validate(&self) -> Result<()> {
        if !matches!(self.create_status, 200 | 202) {
            return Err(Error::InvalidCreateStatus {
                status: self.create_status,
            });
        }
        if self.faults.percent_5xx > 100 {
            return Err(Error::FaultShareAbove100 {
                percent: self.faults.percent_5xx,
            });
        }
        let zero = [
            (self.faults.every_429 == Some(0), "the 429 fault period"),
            (self.faults.lost_create == Some(0), "the lost create's number"),
            (self.ccws.page_size == 0, "the ccws page size"),
            (
                self.cdr.initial_per_period == 0,
                "the cdr feed's initial requests per period",
            ),
            (
                self.cdr.pages_per_period == 0,
                "the cdr feed's page requests per period",
            ),
            (self.cdr.limit_period.is_zero(), "the cdr feed's rate limit period"),
        ];
        if let Some((_, setting)) = zero.into_iter().find(|(is_zero, _)| *is_zero) {
            return Err(Error::ZeroSetting { setting });
        }
        if let Some(base) = &self.download_base_url {
            let invalid = |source| Error::InvalidDownloadBaseUrl {
                url: base.clone(),
                source,
            };
            let url = url::Url::parse(base).map_err(|e| invalid(Some(e)))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(invalid(None));
            }
        }
        if let Some(base) = &self.public_base_url {
            let invalid = |source| Error::InvalidPublicBaseUrl {
                url: base.clone(),
                source,
            };
            let url = url::Url::parse(base).map_err(|e| invalid(Some(e)))?;
            let plain = matches!(url.scheme(), "http" | "https")
                && url.host().is_some()
                && url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty()
                && url.password().is_none();
            if !plain {
                return Err(invalid(None));
            }
        }
        for org_id in self.cdr.org_regions.keys() {
            if self.org.owner_by_org_id(org_id).is_none() {
                return Err(Error::RegionForUnknownOrg { org_id: org_id.clone() });
            }
        }
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (org_id, token) in &self.tokens {
            if self.org.owner_by_org_id(org_id).is_none() {
                return Err(Error::TokenForUnknownOrg { org_id: org_id.clone() });
            }
            if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::InvalidToken { org_id: org_id.clone() });
            }
            if let Some(first) = seen.insert(token, org_id) {
                return Err(Error::SharedToken {
                    first: first.to_owned(),
                    second: org_id.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SandboxConfig {
        let org = Organisation::from_toml_str(
            "[partner]\norg_id = \"p\"\nname = \"P\"\nsubscription_id = \"S\"\n\
             [[sub_partners]]\norg_id = \"sp\"\nname = \"SP\"\n",
        )
        .unwrap();
        SandboxConfig::new(org, Vec::new())
    }

    #[test]
    fn refuses_inconsistent_settings() {
        assert!(config().validate().is_ok());
        let cases: Vec<(SandboxConfig, &str)> = vec![
            (
                config().with_faults(Faults {
                    percent_5xx: 101,
                    ..Faults::default()
                }),
                "percentage",
            ),
            (
                config().with_faults(Faults {
                    every_429: Some(0),
                    ..Faults::default()
                }),
                "429",
            ),
            (
                config().with_faults(Faults {
                    lost_create: Some(0),
                    ..Faults::default()
                }),
                "lost create",
            ),
            (
                config().with_ccws(CcwsConfig {
                    page_size: 0,
                    ..CcwsConfig::default()
                }),
                "page size",
            ),
            (config().with_download_base_url("ftp://x"), "origin"),
            (config().with_public_base_url("localhost:8484"), "public base url"),
            (config().with_public_base_url("http://h/?a=1"), "public base url"),
            (config().with_public_base_url("http://u:p@h"), "public base url"),
            (config().with_token("nobody", "t"), "neither"),
            (config().with_token("p", "a b"), "white space"),
            (
                config().with_token("p", "t").with_token("sp", "t"),
                "orgs \"p\" and \"sp\" would share one token",
            ),
        ];
        for (c, needle) in cases {
            let err = c.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        // The typed fields, and the parser's error kept as the source.
        let err = config().with_public_base_url("localhost:8484").validate().unwrap_err();
        assert!(
            matches!(&err, Error::InvalidPublicBaseUrl { url, source: None } if url == "localhost:8484"),
            "{err:?}"
        );
        let err = config().with_download_base_url("http://[::1").validate().unwrap_err();
        assert!(
            matches!(&err, Error::InvalidDownloadBaseUrl { source: Some(_), .. }),
            "{err:?}"
        );
        assert_eq!(
            wholesale_billing::error_with_causes(&err),
            "invalid sandbox configuration: the download base url \"http://[::1\" is not an http(s) origin: \
             invalid IPv6 address"
        );
        let err = config().with_token("p", "").validate().unwrap_err();
        assert!(
            matches!(&err, Error::InvalidToken { org_id } if org_id == "p"),
            "{err:?}"
        );
        let err = config()
            .with_faults(Faults {
                lost_create: Some(0),
                ..Faults::default()
            })
            .validate()
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::ZeroSetting {
                    setting: "the lost create's number"
                }
            ),
            "{err:?}"
        );
        assert!(
            config()
                .with_token("sp", "tok")
                .with_create_status(202)
                .validate()
                .is_ok()
        );
    }
}
