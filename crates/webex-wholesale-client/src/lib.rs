//! # webex-wholesale-client
//!
//! The typed client of the Webex Wholesale billing-report, sub-partner and customer APIs
//! (`https://webexapis.com/v1/wholesale/...`) and of the Cisco Commerce Catalog ([`ccws`]), for
//! shadow billing with the [`wholesale_billing`] engine.
//!
//! - [`Client`]: a builder with an injectable base URL, a bearer token or a [`TokenProvider`],
//!   timeouts, a [`RetryPolicy`] and a user agent; request builders that end in `.send().await`;
//!   lists as [`Page`]s following `Link: rel="next"`.
//! - [`Client::fetch_usage`]: the usage report of a period in one call — an existing completed
//!   report is reused, one in progress awaited, a failed one replaced, a missing one created
//!   (never twice, even when the service loses the answer); the CSV is downloaded without the
//!   token and read strictly by [`UsageReport::read_csv`].
//! - [`ccws::CcwsClient`]: OAuth2 password grant with refresh, Get Offers (paged), Get Offer
//!   Details (batched by 1000 SKUs), and the [`WholesaleRateCard`] they give.
//! - `blocking` (feature `blocking`): `blocking::Client` and `blocking::CcwsClient`, the same without
//!   `async`.
//!
//! Security: tokens, secrets and signed download URLs are redacted in `Debug`; the bearer token
//! is only sent to the base URL's scheme, host and port (request URLs, redirects and next-page
//! links elsewhere are refused); downloads go through a client without credentials.
//!
//! ```no_run
//! use webex_wholesale_client::{Client, Period, ReportLevel};
//!
//! # async fn run() -> webex_wholesale_client::Result<()> {
//! let client = Client::builder()
//!     .base_url("https://webexapis.com/v1")
//!     .token(std::env::var("WEBEX_TOKEN").unwrap_or_default())
//!     .build()?;
//! let fetched = client.fetch_usage(Period::month(2024, 5)?, ReportLevel::User, None).send().await?;
//! println!("{:?}: {} rows, {} days", fetched.source, fetched.usage.len(), fetched.usage.total_quantity()?);
//!
//! // The external ids of the customers, to put names on the rows.
//! let external_ids = client.customers().external_ids(None).await?;
//! println!("{} customers have an external id", external_ids.len());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod billing;
#[cfg(feature = "blocking")]
pub mod blocking;
pub mod ccws;
pub mod cdr;
mod client;
mod error;
mod models;
pub mod pagination;
mod partners;
pub mod retry;

#[cfg(test)]
mod stub;
#[cfg(test)]
mod tests;

pub use auth::{Secret, TokenFuture, TokenProvider};
pub use billing::{
    BillingReports, CreateReport, FetchOptions, FetchUsage, FetchedUsage, ListReports, NewReport, ReportFilter,
    UsageSource,
};
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_USER_AGENT};
pub use error::{ApiError, ApiErrorBody, ApiErrorDetail, DecodeError, Error, Result};
pub use models::{
    CreatedReport, Customer, CustomerStatus, DownloadUrl, ProvisioningState, Report, ReportCategory, ReportError,
    ReportStatus, ReportSummary, SortBy, SubPartner,
};
pub use pagination::Page;
pub use partners::{CustomerFilter, Customers, ListCustomers, ListSubPartners, SubPartnerFilter};
pub use retry::{Decision, Outcome, RequestKind, RetryPolicy};

/// The core crate, re-exported so that callers name the same types.
pub use wholesale_billing;
pub use wholesale_billing::{Period, ReportLevel, UsageReport, WholesaleRateCard};

/// The guide's page on minutes (tariffs, and fetching the call history), its examples run as
/// doctests here because they use both this crate and the core.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/minutes.md")]
pub struct DocsMinutes;
