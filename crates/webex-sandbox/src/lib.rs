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
//! - `/v1/cdr_feed`: the call records of [`CdrFeedConfig::records`] (kept in the database), with
//!   the Webex rules: windows of at most 12 hours in the 30 days before "today", `max` clamped to
//!   500–5000, `Link` paging, 1 initial and 10 page requests per minute per token (configurable;
//!   429 with `Retry-After` beyond), 451 for an organisation of another region.
//! - `/oauth2/default/v1/token`, `/commerce/CATALOG/lpcservices/v1/offers` and `.../offerDetails`.
//! - `/sandbox/stats`: the [`Stats`], without authentication.
//!
//! Every organisation (the partner and each sub-partner) has a bearer token, derived from the
//! database's key ([`SandboxConfig::db_path`] plus `.key`, mode 0600) like the download-signing
//! secret: the SQLite database (mode 0600, WAL) keeps the reports and only hashes of the tokens,
//! and with its key file everything survives restarts. [`Sandbox::tokens`] gives the tokens.
//!
//! No request thread touches the database: reads run on a pool of read-only connections on
//! tokio's blocking threads, writes on one writer thread that commits them in groups, so report
//! creations never stall reads. [`serve_forever`] stops on Ctrl-C and on `SIGTERM` alike.
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
mod cdr;
mod config;
mod db;
mod directory;
mod downloads;
mod error;
mod http;
mod ids;
mod keys;
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
pub use config::{
    CcwsConfig, CdrFeedConfig, DEFAULT_ADDR, DEFAULT_CDR_REGION_HOST, Faults, SandboxConfig, SubPartnersKey,
};
pub use error::{Error, Result};
pub use stats::{ReportCount, Stats};

use crate::auth::TokenBook;
use crate::db::Database;
use crate::directory::Directory;
use crate::downloads::Signer;
use crate::keys::SandboxKey;
use crate::state::{AppState, now_ms};

/// A running sandbox server.
///
/// Dropping it stops the server too (without waiting); [`Sandbox::shutdown`] stops it gracefully,
/// waits (within [`SandboxConfig::shutdown_grace`]) for requests in flight and reports being
/// generated, and closes the database.
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
    shutdown_grace: Duration,
}

impl Sandbox {
    /// Loads the dataset, opens the database, binds the address and serves on the current tokio
    /// runtime; returns as soon as the server accepts connections.
    ///
    /// Reports left `IN_PROGRESS` by a previous run on the same database are generated again.
    ///
    /// # Errors
    /// The errors of [`SandboxConfig::validate`] for an inconsistent configuration;
    /// [`Error::SharedToken`] for tokens that would be shared; [`Error::Dataset`] when the events
    /// CSV is refused in strict mode; [`Error::CdrJson`] or [`Error::InvalidCdr`] when the CDR
    /// records are not JSON or lack a `Start time`; [`Error::Database`] / [`Error::ForeignDatabase`] /
    /// [`Error::CorruptValue`] / [`Error::NoWriteAheadLog`] / [`Error::SchemaTooNew`] /
    /// [`Error::File`] for the SQLite file; [`Error::KeyFileMissing`], [`Error::KeyFileMismatch`],
    /// [`Error::KeyFileExposed`], [`Error::KeyFileMalformed`] for its key file; [`Error::Io`] when
    /// the address cannot be bound.
    ///
    /// A database of an earlier sandbox, which kept tokens and the signing secret in clear text,
    /// is upgraded: both are erased (the file is rewritten), reports and person ids stay; its
    /// organisations get new tokens and its earlier download URLs stop working.
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
            cdr,
            public_base_url,
            shutdown_grace,
        } = config;
        let cdr_state = cdr::CdrFeedState::new(&cdr);
        let cdr_records = match cdr.records {
            None => None,
            Some(bytes) => Some(
                tokio::task::spawn_blocking(move || cdr::parse_records(&bytes))
                    .await
                    .map_err(|source| Error::Task {
                        what: "cdr loader",
                        source,
                    })??,
            ),
        };
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
        let ledger = Arc::new(ledger);

        let path = db_path.clone();
        let db = Arc::new(
            tokio::task::spawn_blocking(move || Database::open(path.as_deref()))
                .await
                .map_err(|source| Error::Task {
                    what: "database opener",
                    source,
                })??,
        );
        let hashed = db.read(store::has_token_hashes).await?;
        let key = tokio::task::spawn_blocking(move || match db_path {
            None => SandboxKey::ephemeral(),
            Some(path) => SandboxKey::for_database(&path, !hashed),
        })
        .await
        .map_err(|source| Error::Task {
            what: "key file reader",
            source,
        })??;
        let org = ledger.clone();
        let (tokens, signer) = db
            .write(move |c| {
                let tokens = auth::provision(c, org.organisation(), &tokens, &key, now_ms())?;
                Ok((tokens, Signer::load(c, &key)?))
            })
            .await?;
        if let Some(records) = cdr_records {
            db.write(move |c| store::replace_cdrs(c, &records)).await?;
        }
        let pending = db.read(store::pending_reports).await?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| Error::io("binding the listening address", e))?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io("reading the listening address", e))?;
        let base_url = public_base_url
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{}", reachable(local)));
        let download_base_url = download_base_url
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://localhost:{}", local.port()));

        let state = Arc::new(AppState {
            ledger,
            directory,
            rates,
            db,
            tokens: TokenBook::new(tokens),
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
            cdr: cdr_state,
            tasks: Mutex::default(),
        });
        for record in pending {
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
            shutdown_grace,
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API's public URL: [`SandboxConfig::public_base_url`], else `http://127.0.0.1:PORT`; the
    /// Webex base URL is this plus `/v1`.
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

    /// Stops accepting connections; lets requests in flight and reports being generated finish
    /// within [`SandboxConfig::shutdown_grace`] (default 10 seconds), then stops waiting for them
    /// (requests still open are aborted, reports still being generated stay pending and are
    /// generated again at the next start); closes the database, copying its write-ahead log into
    /// the file. Stopping at the deadline is a normal stop, not an error.
    ///
    /// # Errors
    /// [`Error::Task`] when the server task failed; [`Error::Io`] when it ended with an I/O
    /// error; [`Error::Database`] when the final checkpoint failed (the log is replayed at the
    /// next start: nothing is lost).
    pub async fn shutdown(mut self) -> Result<()> {
        let deadline = tokio::time::Instant::now() + self.shutdown_grace;
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = match self.server.take() {
            None => Ok(()),
            Some(mut server) => match tokio::time::timeout_at(deadline, &mut server).await {
                Ok(Ok(Ok(()))) => Ok(()),
                Ok(Ok(Err(e))) => Err(Error::io("serving", e)),
                Ok(Err(source)) => Err(Error::Task { what: "server", source }),
                Err(_) => {
                    server.abort();
                    Ok(())
                }
            },
        };
        for task in self.state.take_tasks() {
            let _ = tokio::time::timeout_at(deadline, task).await;
        }
        let closed = self.state.db.close().await;
        served.and(closed)
    }

    /// Waits until the server task ends on its own (it only does on an error).
    async fn stopped(&mut self) -> Result<()> {
        match self.server.as_mut() {
            None => Ok(()),
            Some(server) => match server.await {
                Ok(Ok(())) => Err(Error::ServerStopped),
                Ok(Err(e)) => Err(Error::io("serving", e)),
                Err(source) => Err(Error::Task { what: "server", source }),
            },
        }
    }
}

/// Runs a sandbox until Ctrl-C (`SIGINT`) or `SIGTERM`, then shuts it down gracefully
/// ([`Sandbox::shutdown`]). `on_ready` is called once the server accepts connections — the place
/// to print its URLs and tokens.
///
/// # Errors
/// As [`Sandbox::start`] and [`Sandbox::shutdown`]; [`Error::Io`] when the signals cannot be
/// awaited; [`Error::ServerStopped`] when the server stops on its own.
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
    // Listening before the server starts: a signal that comes right after `on_ready` is not lost.
    let mut stop = StopSignals::listen()?;
    let mut sandbox = Sandbox::start(config).await?;
    on_ready(&sandbox);
    let interrupted = tokio::select! {
        signal = stop.recv() => signal,
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

/// The signals that stop [`serve_forever`].
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    #[cfg(unix)]
    fn listen() -> Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt()).map_err(|e| Error::io("listening for SIGINT", e))?,
            terminate: signal(SignalKind::terminate()).map_err(|e| Error::io("listening for SIGTERM", e))?,
        })
    }

    #[cfg(not(unix))]
    fn listen() -> Result<Self> {
        Ok(StopSignals {})
    }

    /// Waits for the first of them.
    #[cfg(unix)]
    async fn recv(&mut self) -> Result<()> {
        tokio::select! {
            _ = self.interrupt.recv() => Ok(()),
            _ = self.terminate.recv() => Ok(()),
        }
    }

    #[cfg(not(unix))]
    async fn recv(&mut self) -> Result<()> {
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| Error::io("waiting for ctrl-c", e))
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
