//! `Sandbox`: a local Webex Wholesale + CCWS sandbox of a dataset, served on a tokio runtime that
//! the object owns, for tests and demos.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use webex_sandbox::{Faults, Sandbox, SandboxConfig, SubPartnersKey};
use webex_wholesale_client::ccws::CcwsCredentials;

use crate::client::{PyCcwsClient, PyWebexClient};
use crate::convert::{Source, date_arg, duration_arg};
use crate::errors::{OrRaise, input_error};
use crate::org::PyOrganisation;
use crate::rates::PyRateCard;
use crate::text::quoted;

/// The `faults` argument of `Sandbox.start`: a dict of integers by `Faults` field name.
fn faults_arg(dict: &Bound<'_, PyDict>) -> PyResult<Faults> {
    fn int<T: TryFrom<i128>>(value: &Bound<'_, PyAny>, key: &str) -> PyResult<T> {
        let n: i128 = if value.is_instance_of::<pyo3::types::PyBool>() {
            None
        } else {
            value.extract().ok()
        }
        .ok_or_else(|| {
            let type_name = value
                .get_type()
                .name()
                .map_or_else(|_| "?".to_owned(), |n| n.to_string());
            PyTypeError::new_err(format!("faults[{key:?}]: expected an integer, not {type_name}"))
        })?;
        T::try_from(n).map_err(|_| input_error(value.py(), format!("faults[{key:?}]: {n} is out of range")))
    }
    let mut faults = Faults::default();
    for (key, value) in dict.iter() {
        let key: String = key
            .extract()
            .map_err(|_| PyTypeError::new_err("faults: keys must be strings"))?;
        let value = &value;
        match key.as_str() {
            "every_429" => faults.every_429 = Some(int(value, &key)?),
            "retry_after_secs" => faults.retry_after_secs = int(value, &key)?,
            "percent_5xx" => {
                let percent: u8 = int(value, &key)?;
                if percent > 100 {
                    return Err(input_error(
                        dict.py(),
                        format!("faults[\"percent_5xx\"]: {percent} is not within 0..=100"),
                    ));
                }
                faults.percent_5xx = percent;
            }
            "seed" => faults.seed = int(value, &key)?,
            "lost_create" => faults.lost_create = Some(int(value, &key)?),
            "failed_create" => faults.failed_create = Some(int(value, &key)?),
            other => {
                return Err(input_error(
                    dict.py(),
                    format!(
                        "faults: unknown key {other:?} (expected every_429, retry_after_secs, percent_5xx, seed, \
                     lost_create or failed_create)"
                    ),
                ));
            }
        }
    }
    Ok(faults)
}

/// A running sandbox and the runtime that serves it.
struct Running {
    runtime: Option<tokio::runtime::Runtime>,
    sandbox: Option<Sandbox>,
}

impl Running {
    /// Stops the server gracefully, then the runtime.
    fn stop(mut self) -> webex_sandbox::Result<()> {
        let result = match (self.runtime.as_ref(), self.sandbox.take()) {
            (Some(runtime), Some(sandbox)) => runtime.block_on(sandbox.shutdown()),
            _ => Ok(()),
        };
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(2));
        }
        result
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Dropping the sandbox drops its stop channel, which stops the server; the runtime is
        // left to wind down in the background so that a garbage collection never blocks.
        drop(self.sandbox.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A local sandbox of the Webex Wholesale APIs (billing reports, sub-partners, customers) and the
/// Cisco Commerce Catalog, computed from an organisation and its events by the same engine.
///
/// ``Sandbox.start(org, events, ...)`` starts it on its own runtime (by default on an ephemeral
/// port of 127.0.0.1) and returns once it listens; use it as a context manager, or call
/// ``stop()``. ``base_url`` is what ``WebexClient`` takes; ``tokens`` maps each org id (the
/// partner and every sub-partner) to its bearer token.
#[pyclass(name = "Sandbox", module = "wholesale_billing", frozen)]
pub(crate) struct PySandbox {
    running: Mutex<Option<Running>>,
    origin: String,
    download_base_url: String,
    addr: SocketAddr,
    tokens: Vec<(String, String)>,
    partner_org_id: String,
}

impl PySandbox {
    fn token_of(&self, org_id: &str) -> Option<&str> {
        self.tokens.iter().find(|(o, _)| o == org_id).map(|(_, t)| t.as_str())
    }

    fn lock(&self) -> MutexGuard<'_, Option<Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[pymethods]
impl PySandbox {
    /// Starts a sandbox of ``org`` and its ``events`` (an events CSV: path, bytes or binary file
    /// object). ``rates``: the wholesale rate card the Commerce Catalog serves; ``today``: the
    /// sandbox's date (reports of periods not yet over are refused); ``report_delay_ms``: how long
    /// a report stays ``IN_PROGRESS``; ``db_path``: a SQLite file (mode 0600) that keeps reports
    /// and token hashes across restarts, beside its key file ``<db_path>.key`` from which the
    /// tokens are derived again at each start (in memory when ``None``); ``addr``:
    /// ``"HOST:PORT"`` to listen on;
    /// ``tokens``: fixed tokens by org id; ``faults``: faults injected into the Webex API, a dict
    /// of integers with the keys ``every_429`` (every N-th request gets 429),
    /// ``retry_after_secs`` (its ``Retry-After``, default 1), ``percent_5xx`` (0–100 of requests
    /// get 503), ``seed`` (of the 503 draw), ``lost_create`` (the N-th creation is carried out,
    /// then answered 503) and ``failed_create`` (the N-th created report ends ``FAILED``);
    /// ``download_ttl``: how long a signed download URL stays valid (``timedelta`` or whole
    /// seconds; default 30 minutes); ``create_status``: the status of a successful create (200,
    /// or 202 as some deployments answer); ``sub_partners_key``: the key of the sub-partner
    /// list, ``"items"`` or ``"subPartners"``; ``cdrs``: call records served by
    /// ``GET /v1/cdr_feed`` (a source of JSON ``{"items": [...]}`` or JSON lines), with
    /// ``cdr_initial_per_minute`` and ``cdr_pages_per_minute`` its limits per token (Webex: 1 and 10);
    /// ``public_base_url``: the URL the API is announced at (``http(s)://host[:port][/prefix]``, in
    /// ``Link`` headers and ``base_url``) when it is reached through a proxy; ``shutdown_grace``:
    /// how long ``stop`` lets requests in flight finish (``timedelta`` or whole seconds; default 10 s).
    #[staticmethod]
    #[pyo3(signature = (org, events, *, rates = None, today = None, report_delay_ms = 500, db_path = None, addr = None, tokens = None, faults = None, download_ttl = None, create_status = 200, sub_partners_key = "items", cdrs = None, cdr_initial_per_minute = 1, cdr_pages_per_minute = 10, public_base_url = None, shutdown_grace = None))]
    #[allow(clippy::too_many_arguments)]
    fn start(
        py: Python<'_>,
        org: PyRef<'_, PyOrganisation>,
        events: &Bound<'_, PyAny>,
        rates: Option<PyRef<'_, PyRateCard>>,
        today: Option<&Bound<'_, PyAny>>,
        report_delay_ms: u64,
        db_path: Option<PathBuf>,
        addr: Option<String>,
        tokens: Option<&Bound<'_, PyDict>>,
        faults: Option<&Bound<'_, PyDict>>,
        download_ttl: Option<&Bound<'_, PyAny>>,
        create_status: u16,
        sub_partners_key: &str,
        cdrs: Option<&Bound<'_, PyAny>>,
        cdr_initial_per_minute: u32,
        cdr_pages_per_minute: u32,
        public_base_url: Option<String>,
        shutdown_grace: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let cdr_records = match cdrs.filter(|c| !c.is_none()) {
            None => None,
            Some(cdrs) => {
                let source = Source::from_py(cdrs, "call records")?;
                let read = source.read_with(py, "call records", |reader| {
                    let mut bytes = Vec::new();
                    reader.read_to_end(&mut bytes).map(|_| bytes)
                })?;
                Some(read.map_err(|e| crate::errors::io_error(py, "reading the call records", &e, None))?)
            }
        };
        let source = Source::from_py(events, "events CSV")?;
        let events = source.read_with(py, "events CSV", |reader| {
            let mut bytes = Vec::new();
            reader.read_to_end(&mut bytes).map(|_| bytes)
        })?;
        let events = events.map_err(|e| crate::errors::io_error(py, "reading the events CSV", &e, None))?;
        let addr: SocketAddr = addr
            .as_deref()
            .unwrap_or("127.0.0.1:0")
            .parse()
            .map_err(|e| input_error(py, format!("addr: expected HOST:PORT (e.g. 127.0.0.1:0): {e}")))?;
        let partner_org_id = org.0.partner.org_id.clone();
        let mut config = SandboxConfig::new(org.cloned(), events)
            .with_addr(addr)
            .with_report_delay(Duration::from_millis(report_delay_ms));
        if let Some(rates) = rates {
            config = config.with_rates(wholesale_billing::WholesaleRateCard::clone(&rates.0));
        }
        if let Some(today) = today.filter(|t| !t.is_none()) {
            config = config.with_today(date_arg(today, "today")?);
        }
        if let Some(path) = db_path {
            config = config.with_db_path(path);
        }
        if let Some(tokens) = tokens {
            for (org_id, token) in tokens.iter() {
                config = config.with_token(org_id.extract::<String>()?, token.extract::<String>()?);
            }
        }
        if let Some(faults) = faults {
            config = config.with_faults(faults_arg(faults)?);
        }
        config = config.with_cdr(webex_sandbox::CdrFeedConfig {
            records: cdr_records,
            initial_per_period: cdr_initial_per_minute,
            pages_per_period: cdr_pages_per_minute,
            ..webex_sandbox::CdrFeedConfig::default()
        });
        if let Some(ttl) = download_ttl {
            config = config.with_download_ttl(duration_arg(ttl, "download_ttl")?);
        }
        if let Some(url) = public_base_url {
            config = config.with_public_base_url(url);
        }
        if let Some(grace) = shutdown_grace.filter(|g| !g.is_none()) {
            config = config.with_shutdown_grace(duration_arg(grace, "shutdown_grace")?);
        }
        config = config
            .with_create_status(create_status)
            .with_sub_partners_key(match sub_partners_key {
                "items" => SubPartnersKey::Items,
                "subPartners" => SubPartnersKey::SubPartners,
                other => {
                    return Err(input_error(
                        py,
                        format!("sub_partners_key: expected \"items\" or \"subPartners\", not {other:?}"),
                    ));
                }
            });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("wholesale-billing-sandbox")
            .enable_all()
            .build()
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the sandbox runtime: {e}")))?;
        let sandbox = py.detach(|| runtime.block_on(Sandbox::start(config)));
        let sandbox = match sandbox {
            Ok(s) => s,
            Err(e) => {
                runtime.shutdown_background();
                return Err(e).or_raise();
            }
        };
        let tokens = sandbox
            .tokens()
            .iter()
            .map(|t| (t.org_id.clone(), t.token.clone()))
            .collect();
        Ok(PySandbox {
            origin: sandbox.base_url(),
            download_base_url: sandbox.download_base_url(),
            addr: sandbox.addr(),
            tokens,
            partner_org_id,
            running: Mutex::new(Some(Running {
                runtime: Some(runtime),
                sandbox: Some(sandbox),
            })),
        })
    }

    /// The Webex API base URL (``http://127.0.0.1:PORT/v1``): give it to ``WebexClient``.
    #[getter]
    fn base_url(&self) -> String {
        format!("{}/v1", self.origin)
    }

    /// The server's origin (``http://127.0.0.1:PORT``), also the Commerce Catalog API base.
    #[getter]
    fn origin(&self) -> &str {
        &self.origin
    }

    /// The origin signed downloads are served from (another origin than the API's).
    #[getter]
    fn download_base_url(&self) -> &str {
        &self.download_base_url
    }

    /// The port listened on.
    #[getter]
    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Bearer tokens by org id: the partner and every sub-partner (the database keeps only their
    /// hashes; the same tokens come back at a restart on the same ``db_path`` and key file).
    #[getter]
    fn tokens<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (org, token) in &self.tokens {
            dict.set_item(org, token)?;
        }
        Ok(dict)
    }

    /// The partner's bearer token.
    #[getter]
    fn partner_token(&self) -> Option<&str> {
        self.token_of(&self.partner_org_id)
    }

    /// The bearer token of an org (the partner or a sub-partner), or ``None``.
    #[pyo3(name = "token_of")]
    fn py_token_of(&self, org_id: String) -> Option<String> {
        self.token_of(&org_id).map(str::to_owned)
    }

    /// Whether the server is still running.
    #[getter]
    fn is_running(&self) -> bool {
        self.lock().is_some()
    }

    /// What the server counted since it started: requests, reports created (also by key),
    /// downloads, faults injected.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let stats = {
            let guard = self.lock();
            let running = guard
                .as_ref()
                .and_then(|r| r.sandbox.as_ref())
                .ok_or_else(|| PyRuntimeError::new_err("the sandbox is stopped"))?;
            running.stats()
        };
        let text = serde_json::to_string(&stats).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        py.import("json")?.call_method1("loads", (text,))
    }

    /// A ``WebexClient`` of this sandbox with the token of ``org_id`` (the partner's by default).
    #[pyo3(signature = (org_id = None))]
    fn webex_client(&self, org_id: Option<String>) -> PyResult<PyWebexClient> {
        let org_id = org_id.unwrap_or_else(|| self.partner_org_id.clone());
        let token = self
            .token_of(&org_id)
            .ok_or_else(|| PyValueError::new_err(format!("the sandbox has no token for org {org_id:?}")))?;
        PyWebexClient::with_token(&self.base_url(), token)
    }

    /// A ``CcwsClient`` of this sandbox's Commerce Catalog (its default credentials).
    fn ccws_client(&self) -> PyResult<PyCcwsClient> {
        PyCcwsClient::for_origin(
            &self.origin,
            CcwsCredentials::new("sandbox", "sandbox", "sandbox", "sandbox"),
        )
    }

    /// Stops the server (waiting for open connections, at most 10 seconds); idempotent.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let running = self.lock().take();
        match running {
            Some(running) => py.detach(|| running.stop()).or_raise(),
            None => Ok(()),
        }
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.stop(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "Sandbox(base_url={}, running={})",
            quoted(&self.base_url()),
            if self.is_running() { "True" } else { "False" }
        )
    }
}
