//! # webex-sandbox
//!
//! A local server that behaves like the Webex Wholesale APIs (billing reports, sub-partners,
//! customers) and the Cisco Commerce Catalog web services (CCWS), computed from a dataset — an
//! organisation file and its assignment events — by the `wholesale-billing` engine. The contract
//! it keeps is `crates/webex-sandbox/API.md`.
//!
//! - `/v1/wholesale/billing/reports[/{id}]`: reports go `IN_PROGRESS` → `COMPLETED` after
//!   [`SandboxConfig::report_delay`]; their CSV is byte for byte the engine's
//!   [`UsageReport::write_csv`](wholesale_billing::UsageReport::write_csv) of the organisation,
//!   period and level (the `started` hour policy).
//! - `/downloads/<uuid>.csv?Expires=…&Signature=…&Key-Pair-Id=…` on the download host (by default
//!   `http://localhost:PORT`, another origin than the API's `http://127.0.0.1:PORT`): signed,
//!   expiring, refused with an `Authorization` header.
//! - `/v1/wholesale/subPartners`, `/v1/wholesale/customers[/{id}]`.
//! - `/oauth2/default/v1/token`, `/commerce/CATALOG/lpcservices/v1/offers` and `.../offerDetails`.
//! - `/sandbox/stats`: the [`Stats`], without authentication.
//!
//! Every organisation (the partner and each sub-partner) gets a bearer token at the first start;
//! tokens, the download-signing secret and the reports live in SQLite
//! ([`SandboxConfig::db_path`]) and survive restarts.
//!
//! ```
//! use std::time::Duration;
//! use webex_sandbox::{OrgKind, Sandbox, SandboxConfig};
//! use wholesale_billing::Organisation;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let org = Organisation::from_toml_str(r#"
//!     [partner]
//!     org_id = "partner-1"
//!     name = "Acme Telecom"
//!     subscription_id = "Sub1234567"
//! "#)?;
//! let events = "\
//! event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package
//! e1,2024-05-01T00:00:00Z,ASSIGN,sub-1,cust-1,USER,webex_calling
//! ";
//! let config = SandboxConfig::new(org, events.as_bytes().to_vec())
//!     .with_addr("127.0.0.1:0".parse()?)
//!     .with_report_delay(Duration::from_millis(10));
//! let runtime = tokio::runtime::Runtime::new()?;
//! runtime.block_on(async {
//!     let sandbox = Sandbox::start(config).await?;
//!     assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
//!     assert!(sandbox.download_base_url().starts_with("http://localhost:"));
//!     let partner = &sandbox.tokens()[0];
//!     assert_eq!((partner.kind, partner.org_id.as_str()), (OrgKind::Partner, "partner-1"));
//!     assert!(partner.token.starts_with("wbx-sandbox-partner-"));
//!     sandbox.shutdown().await
//! })?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod auth;
mod ccws;
mod config;
mod directory;
mod downloads;
mod error;
mod http;
mod ids;
mod partners;
mod reports;
mod state;
mod stats;
mod store;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wholesale_billing::{AssignmentLedger, LoadMode};

pub use auth::{OrgKind, OrgToken};
pub use config::{CcwsConfig, DEFAULT_ADDR, Faults, SandboxConfig, SubPartnersKey};
pub use error::{Error, Result};
pub use stats::{ReportCount, Stats};

use crate::auth::TokenBook;
use crate::directory::Directory;
use crate::downloads::Signer;
use crate::state::{AppState, now_ms};
use crate::store::Store;

/// How long [`Sandbox::shutdown`] waits for open connections before it stops the server anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running sandbox server.
///
/// Dropping it stops the server too (without waiting); [`Sandbox::shutdown`] stops it gracefully
/// and waits for reports still being generated, so the database is complete for a restart.
///
/// ```
/// use webex_sandbox::{OrgKind, Sandbox, SandboxConfig};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let org = wholesale_billing::Organisation::from_toml_str(r#"
///     [partner]
///     org_id = "p-1"
///     name = "Acme Telecom"
///     subscription_id = "Sub1234567"
///     [[sub_partners]]
///     org_id = "sp-1"
///     name = "Reseller One"
/// "#)?;
/// let events = b"event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package\n".to_vec();
/// let config = SandboxConfig::new(org, events).with_addr("127.0.0.1:0".parse()?).with_token("sp-1", "reseller");
/// tokio::runtime::Runtime::new()?.block_on(async {
///     let sandbox = Sandbox::start(config).await?;
///     assert_ne!(sandbox.addr().port(), 0);
///     assert_eq!(sandbox.base_url(), format!("http://{}", sandbox.addr()));
///     let reseller = sandbox.token_of("sp-1").unwrap();
///     assert_eq!((reseller.kind, reseller.token.as_str()), (OrgKind::SubPartner, "reseller"));
///     assert!(reseller.to_string().starts_with("sub-partner sp-1"));
///     assert_eq!(sandbox.stats().reports_created, 0);
///     sandbox.shutdown().await
/// })?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Sandbox {
    state: Arc<AppState>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl Sandbox {
    /// Loads the dataset, opens the database, binds the address and serves on the current tokio
    /// runtime; returns as soon as the server accepts connections.
    ///
    /// Reports left `IN_PROGRESS` by a previous run on the same database are generated again.
    ///
    /// # Errors
    /// [`Error::Config`] for an inconsistent configuration ([`SandboxConfig::validate`]) or tokens
    /// that would be shared; [`Error::Dataset`] when the events CSV is refused in strict mode;
    /// [`Error::Database`] / [`Error::CorruptDatabase`] for the SQLite file; [`Error::Io`] when the
    /// address cannot be bound.
    ///
    /// ```no_run
    /// # async fn run(config: webex_sandbox::SandboxConfig) -> webex_sandbox::Result<()> {
    /// let sandbox = webex_sandbox::Sandbox::start(config).await?;
    /// println!("webex api at {}/v1", sandbox.base_url());
    /// sandbox.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(config: SandboxConfig) -> Result<Sandbox> {
        config.validate()?;
        let SandboxConfig {
            org,
            events_csv,
            rates,
            db_path,
            addr,
            today,
            report_delay,
            create_status,
            download_base_url,
            download_ttl,
            sub_partners_key,
            tokens,
            ccws,
            faults,
        } = config;
        let (ledger, directory) = tokio::task::spawn_blocking(move || -> Result<_> {
            let (ledger, _) =
                AssignmentLedger::from_csv(events_csv.as_slice(), org, LoadMode::Strict).map_err(Error::Dataset)?;
            let directory = Directory::from_ledger(&ledger);
            Ok((ledger, directory))
        })
        .await
        .map_err(|source| Error::Task {
            what: "dataset loader",
            source,
        })??;

        let store = Arc::new(Store::open(db_path.as_deref())?);
        let book = TokenBook::new(auth::provision(&store, ledger.organisation(), &tokens, now_ms())?);
        let signer = Signer::load_or_create(&store)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| Error::io("binding the listening address", e))?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io("reading the listening address", e))?;
        let base_url = format!("http://{}", reachable(local));
        let download_base_url = download_base_url
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://localhost:{}", local.port()));

        let state = Arc::new(AppState {
            ledger: Arc::new(ledger),
            directory,
            rates,
            store,
            tokens: book,
            signer,
            counters: stats::Counters::default(),
            ccws_tokens: Mutex::default(),
            ccws,
            faults,
            today,
            report_delay,
            create_status,
            download_ttl,
            sub_partners_key,
            base_url,
            download_base_url,
            creations: AtomicU64::new(0),
            tasks: Mutex::default(),
        });
        for record in state.store.pending_reports()? {
            reports::spawn_generation(&state, record);
        }
        let router = http::router(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    // A dropped sender stops the server too.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Sandbox {
            state,
            addr: local,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API origin, `http://127.0.0.1:PORT`; the Webex base URL is this plus `/v1`.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    /// The Webex API base URL a client is given: [`Sandbox::base_url`] plus `/v1`.
    pub fn webex_base_url(&self) -> String {
        format!("{}/v1", self.state.base_url)
    }

    /// The origin of download URLs (by default `http://localhost:PORT`).
    pub fn download_base_url(&self) -> String {
        self.state.download_base_url.clone()
    }

    /// The organisations' tokens: the partner first, then the sub-partners in file order.
    pub fn tokens(&self) -> &[OrgToken] {
        &self.state.tokens.tokens
    }

    /// The token of one organisation.
    pub fn token_of(&self, org_id: &str) -> Option<&OrgToken> {
        self.state.tokens.of_org(org_id)
    }

    /// What the server counted since it started.
    pub fn stats(&self) -> Stats {
        self.state.counters.snapshot()
    }

    /// Stops accepting requests, lets open ones finish (at most 10 seconds), and waits for reports
    /// still being generated. The database keeps everything for a restart.
    ///
    /// # Errors
    /// [`Error::Task`] when the server task failed, [`Error::Server`] when it had to be stopped; [`Error::Io`] when it
    /// ended with an I/O error.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = match self.server.take() {
            None => Ok(()),
            Some(mut server) => match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(e))) => Err(Error::io("serving", e)),
                Ok(Err(source)) => Err(Error::Task { what: "server", source }),
                Err(_) => {
                    server.abort();
                    Err(Error::Server(
                        "open connections did not finish within 10 seconds; the server was stopped".into(),
                    ))
                }
            },
        };
        for task in self.state.take_tasks() {
            let _ = task.await;
        }
        result
    }

    /// Waits until the server task ends on its own (it only does on an error).
    async fn stopped(&mut self) -> Result<()> {
        match self.server.as_mut() {
            None => Ok(()),
            Some(server) => match server.await {
                Ok(Ok(())) => Err(Error::Server("the server stopped".into())),
                Ok(Err(e)) => Err(Error::io("serving", e)),
                Err(source) => Err(Error::Task { what: "server", source }),
            },
        }
    }
}

/// Runs a sandbox until Ctrl-C, then shuts it down gracefully. `on_ready` is called once the
/// server accepts connections — the place to print its URLs and tokens.
///
/// # Errors
/// As [`Sandbox::start`] and [`Sandbox::shutdown`]; [`Error::Io`] when Ctrl-C cannot be awaited;
/// [`Error::Server`] when the server stops on its own.
///
/// ```no_run
/// # async fn run(config: webex_sandbox::SandboxConfig) -> webex_sandbox::Result<()> {
/// webex_sandbox::serve_forever(config, |sandbox| {
///     println!("webex api  {}/v1", sandbox.base_url());
///     for token in sandbox.tokens() {
///         println!("{token}");
///     }
/// })
/// .await
/// # }
/// ```
pub async fn serve_forever(config: SandboxConfig, on_ready: impl FnOnce(&Sandbox)) -> Result<()> {
    let mut sandbox = Sandbox::start(config).await?;
    on_ready(&sandbox);
    let interrupted = tokio::select! {
        signal = tokio::signal::ctrl_c() => signal.map_err(|e| Error::io("waiting for ctrl-c", e)),
        ended = sandbox.stopped() => ended,
    };
    match interrupted {
        Ok(()) => sandbox.shutdown().await,
        Err(e) => {
            let _ = sandbox.shutdown().await;
            Err(e)
        }
    }
}

/// The address clients should use: the loopback address when bound to all interfaces.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port()),
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_become_loopback() {
        let any: SocketAddr = "0.0.0.0:80".parse().unwrap();
        assert_eq!(reachable(any).to_string(), "127.0.0.1:80");
        let any6: SocketAddr = "[::]:80".parse().unwrap();
        assert_eq!(reachable(any6).to_string(), "[::1]:80");
        let one: SocketAddr = "10.0.0.1:80".parse().unwrap();
        assert_eq!(reachable(one), one);
    }
}
