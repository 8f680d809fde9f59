//! The blocking Webex Wholesale client and Commerce Catalog (CCWS) client. Every call runs
//! without the GIL.

use std::ops::ControlFlow;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials};
use webex_wholesale_client::{
    self as client, Client, CreatedReport, Customer, CustomerFilter, CustomerStatus, FetchOptions, FetchedUsage,
    NewReport, ProvisioningState, Report, ReportFilter, ReportStatus, ReportSummary, RetryPolicy, SortBy, SubPartner,
    SubPartnerFilter, UsageSource, blocking,
};

use crate::convert::{duration_arg, level_arg, opt_date_arg, period_arg, py_date};
use crate::errors::{OrRaise, closed_error};
use crate::rates::PyRateCard;
use crate::report::PyUsageReport;
use crate::text::quoted;

fn opt_duration(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Duration>> {
    match value {
        Some(v) if !v.is_none() => duration_arg(v, what).map(Some),
        _ => Ok(None),
    }
}

/// A blocking client that its Python object owns until `close()`. Each call takes a handle (a
/// clone); `close()` drops the object's own, and once no call still holds one the client's
/// connections are closed and its runtime stopped. Later calls raise `ClientClosedError`.
struct Owned<T> {
    /// The Python class name, for the error.
    class: &'static str,
    client: Mutex<Option<T>>,
}

impl<T: Clone + Send> Owned<T> {
    fn new(class: &'static str, client: T) -> Self {
        Owned {
            class,
            client: Mutex::new(Some(client)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<T>> {
        // The lock is only held to clone or take: a panic cannot leave the value half-changed.
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A handle for one call.
    fn get(&self, py: Python<'_>) -> PyResult<T> {
        self.lock().clone().ok_or_else(|| {
            closed_error(
                py,
                format!(
                    "this {} is closed (by close() or the end of its with block): create a new one",
                    self.class
                ),
            )
        })
    }

    /// Drops the object's handle (without the GIL: stopping the runtime may wait for its
    /// threads); nothing when already closed.
    fn close(&self, py: Python<'_>) {
        let taken = self.lock().take();
        if let Some(client) = taken {
            py.detach(move || drop(client));
        }
    }

    fn is_closed(&self) -> bool {
        self.lock().is_none()
    }
}

fn retry(max_retries: Option<u32>) -> RetryPolicy {
    match max_retries {
        Some(n) => RetryPolicy::default().max_retries(n),
        None => RetryPolicy::default(),
    }
}

/// An instant the API wrote as text, as an aware UTC ``datetime``; ``None`` when absent or not
/// an RFC 3339 instant.
fn py_api_instant<'py>(py: Python<'py>, text: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
    let instant = text.and_then(|t| wholesale_billing::Timestamp::parse_rfc3339(t).ok());
    crate::convert::py_opt_timestamp(py, instant)
}

/// A Webex billing report's metadata: dates, type, status, and where to download it.
#[pyclass(name = "BillingReport", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyBillingReport(pub(crate) Report);

#[pymethods]
impl PyBillingReport {
    /// The report id.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }

    /// ``billingStartDate``.
    #[getter]
    fn billing_start_date<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_date(py, self.0.billing_start_date)
    }

    /// ``billingEndDate``.
    #[getter]
    fn billing_end_date<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_date(py, self.0.billing_end_date)
    }

    /// ``"PARTNER"``, ``"CUSTOMER"`` or ``"USER"``, when the API said.
    #[getter]
    fn report_type(&self) -> Option<&'static str> {
        self.0.report_type.map(|l| l.as_str())
    }

    /// ``"RECONCILIATION"`` or ``"POINT_IN_TIME"``, when the API said.
    #[getter]
    fn category(&self) -> Option<&str> {
        self.0.category.as_ref().map(|c| c.as_str())
    }

    /// When it was created: an aware ``datetime`` in UTC (``None`` when the API did not say, or
    /// said something that is not an RFC 3339 instant; ``created_text`` has it as written).
    #[getter]
    fn created<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_api_instant(py, self.0.created.as_deref())
    }

    /// When it was created, as the API wrote it.
    #[getter]
    fn created_text(&self) -> Option<&str> {
        self.0.created.as_deref()
    }

    /// Who created it.
    #[getter]
    fn created_by(&self) -> Option<&str> {
        self.0.created_by.as_deref()
    }

    /// ``"IN_PROGRESS"``, ``"COMPLETED"``, ``"FAILED"`` (or what else the API said).
    #[getter]
    fn status(&self) -> &str {
        self.0.status.as_str()
    }

    /// The signed, expiring download URL of a completed report.
    #[getter]
    fn temp_download_url(&self) -> Option<&str> {
        self.0.temp_download_url.as_ref().map(|u| u.as_url().as_str())
    }

    /// The errors of a failed report: ``(code, description)`` pairs.
    #[getter]
    fn errors(&self) -> Vec<(Option<i64>, Option<String>)> {
        self.0.errors.iter().map(|e| (e.code, e.description.clone())).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "BillingReport(id={}, period='{}..{}', type={}, status='{}')",
            quoted(&self.0.id),
            self.0.billing_start_date,
            self.0.billing_end_date,
            self.0.report_type.map_or("None".to_owned(), |l| format!("'{l}'")),
            self.0.status
        )
    }
}

/// A billing report as listed.
#[pyclass(name = "BillingReportSummary", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyReportSummary(ReportSummary);

#[pymethods]
impl PyReportSummary {
    /// The report id.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }

    /// ``billingStartDate``.
    #[getter]
    fn billing_start_date<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_date(py, self.0.billing_start_date)
    }

    /// ``billingEndDate``.
    #[getter]
    fn billing_end_date<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_date(py, self.0.billing_end_date)
    }

    /// The status.
    #[getter]
    fn status(&self) -> &str {
        self.0.status.as_str()
    }

    /// The report type, when the API said.
    #[getter]
    fn report_type(&self) -> Option<&'static str> {
        self.0.report_type.map(|l| l.as_str())
    }

    /// The category, when the API said.
    #[getter]
    fn category(&self) -> Option<&str> {
        self.0.category.as_ref().map(|c| c.as_str())
    }

    fn __repr__(&self) -> String {
        format!(
            "BillingReportSummary(id={}, period='{}..{}', status='{}')",
            quoted(&self.0.id),
            self.0.billing_start_date,
            self.0.billing_end_date,
            self.0.status
        )
    }
}

/// The answer to creating a billing report.
#[pyclass(name = "CreatedReport", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyCreatedReport(CreatedReport);

#[pymethods]
impl PyCreatedReport {
    /// The new report's id.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }

    /// ``billingStartDate``, when the API echoed it.
    #[getter]
    fn billing_start_date<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.billing_start_date.map(|d| py_date(py, d)).transpose()
    }

    /// ``billingEndDate``, when the API echoed it.
    #[getter]
    fn billing_end_date<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.billing_end_date.map(|d| py_date(py, d)).transpose()
    }

    /// The report type, when the API echoed it.
    #[getter]
    fn report_type(&self) -> Option<&'static str> {
        self.0.report_type.map(|l| l.as_str())
    }

    fn __repr__(&self) -> String {
        format!("CreatedReport(id={})", quoted(&self.0.id))
    }
}

/// The result of ``WebexClient.fetch_usage``: the report's metadata, its rows, and where it came
/// from (``"reused"``, ``"awaited"``, ``"created"`` or ``"regenerated"``).
#[pyclass(name = "FetchedUsage", module = "wholesale_billing", frozen)]
pub(crate) struct PyFetchedUsage {
    report: Report,
    usage: Py<PyUsageReport>,
    source: UsageSource,
}

#[pymethods]
impl PyFetchedUsage {
    /// The completed report.
    #[getter]
    fn report(&self) -> PyBillingReport {
        PyBillingReport(self.report.clone())
    }

    /// The rows, read strictly.
    #[getter]
    fn usage(&self, py: Python<'_>) -> Py<PyUsageReport> {
        self.usage.clone_ref(py)
    }

    /// ``"reused"``, ``"awaited"``, ``"created"`` or ``"regenerated"``.
    #[getter]
    fn source(&self) -> &'static str {
        match self.source {
            UsageSource::Reused => "reused",
            UsageSource::Awaited => "awaited",
            UsageSource::Created => "created",
            UsageSource::Regenerated => "regenerated",
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "FetchedUsage(report={}, source='{}')",
            quoted(&self.report.id),
            self.source()
        )
    }
}

/// A sub-partner as the Webex API lists it.
#[pyclass(name = "WebexSubPartner", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyWebexSubPartner(SubPartner);

#[pymethods]
impl PyWebexSubPartner {
    /// The sub-partner's org id.
    #[getter]
    fn org_id(&self) -> &str {
        &self.0.org_id
    }

    /// The shared subscription id.
    #[getter]
    fn subscription_id(&self) -> Option<&str> {
        self.0.subscription_id.as_deref()
    }

    /// ``"active"``, ``"suspended"`` (or what else the API said).
    #[getter]
    fn provisioning_state(&self) -> Option<&str> {
        self.0.provisioning_state.as_ref().map(|s| s.as_str())
    }

    /// When it was created: an aware ``datetime`` in UTC (``None`` when the API did not say, or
    /// said something that is not an RFC 3339 instant; ``created_text`` has it as written).
    #[getter]
    fn created<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_api_instant(py, self.0.created.as_deref())
    }

    /// When it was created, as the API wrote it.
    #[getter]
    fn created_text(&self) -> Option<&str> {
        self.0.created.as_deref()
    }

    /// Its billing start: an aware ``datetime`` in UTC (``None`` when the API did not say, or said
    /// something that is not an RFC 3339 instant; ``billing_start_text`` has it as written).
    #[getter]
    fn billing_start_date<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_api_instant(py, self.0.billing_start_date.as_deref())
    }

    /// Its billing start, as the API wrote it.
    #[getter]
    fn billing_start_text(&self) -> Option<&str> {
        self.0.billing_start_date.as_deref()
    }

    fn __repr__(&self) -> String {
        format!("WebexSubPartner(org_id={})", quoted(&self.0.org_id))
    }
}

/// A customer as the Webex API lists it.
#[pyclass(name = "WebexCustomer", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyWebexCustomer(Customer);

#[pymethods]
impl PyWebexCustomer {
    /// The customer's id in the wholesale API.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }

    /// The customer's org id.
    #[getter]
    fn org_id(&self) -> Option<&str> {
        self.0.org_id.as_deref()
    }

    /// The partner's external id of the customer.
    #[getter]
    fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }

    /// The provisioning status.
    #[getter]
    fn status(&self) -> Option<&str> {
        self.0.status.as_ref().map(|s| s.as_str())
    }

    /// The packages provisioned.
    #[getter]
    fn packages(&self) -> Vec<String> {
        self.0.packages.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "WebexCustomer(id={}, external_id={})",
            quoted(&self.0.id),
            self.0.external_id.as_deref().map_or("None".to_owned(), quoted)
        )
    }
}

/// A blocking client of the Webex Wholesale billing-report, sub-partner and customer APIs.
///
/// ``WebexClient(token=..., base_url=...)`` (the base URL defaults to Webex's, ``DEFAULT_BASE_URL``;
/// give ``Sandbox.base_url`` to talk to a sandbox). The token is only ever sent to the base URL's
/// origin. Durations are ``datetime.timedelta`` or seconds. A context manager: leaving the
/// ``with`` block closes it, as ``close()`` does (its connections are closed; later calls raise
/// ``ClientClosedError``).
#[pyclass(name = "WebexClient", module = "wholesale_billing", frozen)]
pub(crate) struct PyWebexClient {
    client: Owned<blocking::Client>,
    /// The API base URL, kept for `base_url` and `repr` after `close()`.
    base_url: String,
}

impl PyWebexClient {
    /// A client of `base_url` with `token` and the default settings.
    pub(crate) fn with_token(base_url: &str, token: &str) -> PyResult<Self> {
        let inner = Client::builder().base_url(base_url).token(token).build().or_raise()?;
        Self::wrap(inner)
    }

    fn wrap(inner: Client) -> PyResult<Self> {
        let base_url = inner.base_url().as_str().to_owned();
        Ok(PyWebexClient {
            client: Owned::new("WebexClient", blocking::Client::new(inner).or_raise()?),
            base_url,
        })
    }
}

#[pymethods]
impl PyWebexClient {
    #[new]
    #[pyo3(signature = (*, token, base_url = None, timeout = None, connect_timeout = None, download_timeout = None, max_retries = None, user_agent = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        token: String,
        base_url: Option<String>,
        timeout: Option<&Bound<'_, PyAny>>,
        connect_timeout: Option<&Bound<'_, PyAny>>,
        download_timeout: Option<&Bound<'_, PyAny>>,
        max_retries: Option<u32>,
        user_agent: Option<String>,
    ) -> PyResult<Self> {
        let mut builder = Client::builder().token(token).retry_policy(retry(max_retries));
        if let Some(url) = base_url {
            builder = builder.base_url(url);
        }
        if let Some(t) = opt_duration(timeout, "timeout")? {
            builder = builder.timeout(t);
        }
        if let Some(t) = opt_duration(connect_timeout, "connect_timeout")? {
            builder = builder.connect_timeout(t);
        }
        if let Some(t) = opt_duration(download_timeout, "download_timeout")? {
            builder = builder.download_timeout(t);
        }
        if let Some(agent) = user_agent {
            builder = builder.user_agent(agent);
        }
        Self::wrap(builder.build().or_raise()?)
    }

    /// The API base URL.
    #[getter]
    fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether ``close()`` was called (or the ``with`` block ended).
    #[getter]
    fn closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Closes the client: its pooled connections are closed and later calls raise
    /// ``ClientClosedError``. A call running on another thread finishes first. Closing again
    /// does nothing.
    fn close(&self, py: Python<'_>) {
        self.client.close(py);
    }

    /// The usage report of a period in one call: an existing completed report is reused, one in
    /// progress awaited, a failed one replaced, a missing one created (never twice); the CSV is
    /// downloaded without the token and read strictly.
    #[pyo3(
        signature = (start, end = None, *, level = "user".to_owned(), sub_partner = None, regenerate = false, poll_interval = None, timeout = None, internal = None),
        text_signature = "($self, start, end=None, *, level='user', sub_partner=None, regenerate=False, poll_interval=None, timeout=None, internal=None)"
    )]
    #[allow(clippy::too_many_arguments)]
    fn fetch_usage(
        &self,
        py: Python<'_>,
        start: &Bound<'_, PyAny>,
        end: Option<&Bound<'_, PyAny>>,
        level: String,
        sub_partner: Option<String>,
        regenerate: bool,
        poll_interval: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
        internal: Option<bool>,
    ) -> PyResult<PyFetchedUsage> {
        let period = period_arg(start, end)?;
        let level = level_arg(&level)?;
        let mut options = FetchOptions {
            regenerate,
            internal,
            ..FetchOptions::default()
        };
        if let Some(p) = opt_duration(poll_interval, "poll_interval")? {
            options.poll_interval = p;
        }
        if let Some(t) = opt_duration(timeout, "timeout")? {
            options.timeout = t;
        }
        let client = self.client.get(py)?;
        let FetchedUsage { report, usage, source } = py
            .detach(|| client.fetch_usage(period, level, sub_partner.as_deref(), &options))
            .or_raise()?;
        Ok(PyFetchedUsage {
            report,
            usage: Py::new(py, PyUsageReport::computed(usage))?,
            source,
        })
    }

    /// Every billing report matching the filters (all pages).
    #[pyo3(signature = (*, start = None, end = None, level = None, status = None, sub_partner = None, sort_by = None, max = None))]
    #[allow(clippy::too_many_arguments)]
    fn list_reports(
        &self,
        py: Python<'_>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        level: Option<String>,
        status: Option<String>,
        sub_partner: Option<String>,
        sort_by: Option<String>,
        max: Option<u32>,
    ) -> PyResult<Vec<PyReportSummary>> {
        let filter = ReportFilter {
            billing_start_date: opt_date_arg(start, "start")?,
            billing_end_date: opt_date_arg(end, "end")?,
            level: level.as_deref().map(level_arg).transpose()?,
            status: status.as_deref().map(ReportStatus::from),
            sub_partner,
            sort_by: sort_by.as_deref().map(SortBy::from),
            max,
        };
        let client = self.client.get(py)?;
        let reports = py.detach(|| client.all_reports(&filter)).or_raise()?;
        Ok(reports.into_iter().map(PyReportSummary).collect())
    }

    /// Creates a billing report (never twice, even when the service loses the answer).
    #[pyo3(
        signature = (start, end = None, *, level = "partner".to_owned(), sub_partner = None, internal = None),
        text_signature = "($self, start, end=None, *, level='partner', sub_partner=None, internal=None)"
    )]
    fn create_report(
        &self,
        py: Python<'_>,
        start: &Bound<'_, PyAny>,
        end: Option<&Bound<'_, PyAny>>,
        level: String,
        sub_partner: Option<String>,
        internal: Option<bool>,
    ) -> PyResult<PyCreatedReport> {
        let mut new = NewReport::new(period_arg(start, end)?, level_arg(&level)?);
        new.sub_partner = sub_partner;
        new.internal = internal;
        let client = self.client.get(py)?;
        py.detach(|| client.create_report(&new)).map(PyCreatedReport).or_raise()
    }

    /// One billing report.
    fn get_report(&self, py: Python<'_>, report_id: String) -> PyResult<PyBillingReport> {
        let client = self.client.get(py)?;
        py.detach(|| client.report(&report_id)).map(PyBillingReport).or_raise()
    }

    /// Deletes a billing report.
    fn delete_report(&self, py: Python<'_>, report_id: String) -> PyResult<()> {
        let client = self.client.get(py)?;
        py.detach(|| client.delete_report(&report_id)).or_raise()
    }

    /// Polls a report until it is complete (``ClientTimeoutError`` past ``timeout``, default 30
    /// minutes; ``ReportFailedError`` if it fails).
    #[pyo3(signature = (report_id, *, poll_interval = None, timeout = None))]
    fn wait_until_complete(
        &self,
        py: Python<'_>,
        report_id: String,
        poll_interval: Option<&Bound<'_, PyAny>>,
        timeout: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyBillingReport> {
        let defaults = FetchOptions::default();
        let poll = opt_duration(poll_interval, "poll_interval")?.unwrap_or(defaults.poll_interval);
        let timeout = opt_duration(timeout, "timeout")?.unwrap_or(defaults.timeout);
        let client = self.client.get(py)?;
        py.detach(|| client.wait_until_complete(&report_id, poll, Instant::now() + timeout))
            .map(PyBillingReport)
            .or_raise()
    }

    /// The CSV bytes of a completed report (downloaded without the token).
    fn download_csv<'py>(&self, py: Python<'py>, report: PyRef<'_, PyBillingReport>) -> PyResult<Bound<'py, PyBytes>> {
        let client = self.client.get(py)?;
        let report = &report.0;
        let bytes = py.detach(|| client.download_csv(report)).or_raise()?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The usage report of a completed report, read strictly.
    fn download(&self, py: Python<'_>, report: PyRef<'_, PyBillingReport>) -> PyResult<PyUsageReport> {
        let client = self.client.get(py)?;
        let report = &report.0;
        py.detach(|| client.download(report))
            .map(PyUsageReport::computed)
            .or_raise()
    }

    /// Every sub-partner of the partner.
    #[pyo3(signature = (*, provisioning_state = None, max = None))]
    fn sub_partners(
        &self,
        py: Python<'_>,
        provisioning_state: Option<String>,
        max: Option<u32>,
    ) -> PyResult<Vec<PyWebexSubPartner>> {
        let filter = SubPartnerFilter {
            provisioning_state: provisioning_state.as_deref().map(ProvisioningState::from),
            offset: None,
            max,
        };
        let client = self.client.get(py)?;
        let list = py.detach(|| client.sub_partners(&filter)).or_raise()?;
        Ok(list.into_iter().map(PyWebexSubPartner).collect())
    }

    /// Every customer matching the filters (``status``: one status or several).
    #[pyo3(signature = (*, external_id = None, org_id = None, status = None, on_behalf_of_sub_partner = None, max = None))]
    fn customers(
        &self,
        py: Python<'_>,
        external_id: Option<String>,
        org_id: Option<String>,
        status: Option<&Bound<'_, PyAny>>,
        on_behalf_of_sub_partner: Option<String>,
        max: Option<u32>,
    ) -> PyResult<Vec<PyWebexCustomer>> {
        let status: Vec<CustomerStatus> = match status.filter(|s| !s.is_none()) {
            None => Vec::new(),
            Some(s) if s.is_instance_of::<PyString>() => vec![CustomerStatus::from(s.extract::<String>()?.as_str())],
            Some(s) => s
                .try_iter()?
                .map(|item| Ok(CustomerStatus::from(item?.extract::<String>()?.as_str())))
                .collect::<PyResult<_>>()?,
        };
        let filter = CustomerFilter {
            external_id,
            org_id,
            status,
            on_behalf_of_sub_partner,
            offset: None,
            max,
        };
        let client = self.client.get(py)?;
        let list = py.detach(|| client.customers(&filter)).or_raise()?;
        Ok(list.into_iter().map(PyWebexCustomer).collect())
    }

    /// One customer.
    fn customer(&self, py: Python<'_>, customer_id: String) -> PyResult<PyWebexCustomer> {
        let client = self.client.get(py)?;
        py.detach(|| client.customer(&customer_id))
            .map(PyWebexCustomer)
            .or_raise()
    }

    /// The external id of every customer organisation, by org id.
    #[pyo3(signature = (*, on_behalf_of_sub_partner = None))]
    fn customer_external_ids<'py>(
        &self,
        py: Python<'py>,
        on_behalf_of_sub_partner: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let client = self.client.get(py)?;
        let ids = py
            .detach(|| client.customer_external_ids(on_behalf_of_sub_partner.as_deref()))
            .or_raise()?;
        let dict = PyDict::new(py);
        for (org, ext) in ids {
            dict.set_item(org, ext)?;
        }
        Ok(dict)
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Closes the client; exceptions propagate.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.client.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let closed = if self.client.is_closed() { ", closed=True" } else { "" };
        format!("WebexClient(base_url={}{closed})", quoted(&self.base_url))
    }
}

/// A blocking client of the Cisco Commerce Catalog (CCWS): OAuth2 password grant with refresh,
/// Get Offers, Get Offer Details, and the wholesale rate card they give. A context manager:
/// leaving the ``with`` block closes it, as ``close()`` does.
#[pyclass(name = "CcwsClient", module = "wholesale_billing", frozen)]
pub(crate) struct PyCcwsClient {
    client: Owned<blocking::CcwsClient>,
}

impl PyCcwsClient {
    fn wrap(inner: CcwsClient) -> PyResult<Self> {
        Ok(PyCcwsClient {
            client: Owned::new("CcwsClient", blocking::CcwsClient::new(inner).or_raise()?),
        })
    }
}

impl PyCcwsClient {
    /// A client of a sandbox-like server at `origin` with the given credentials.
    pub(crate) fn for_origin(origin: &str, credentials: CcwsCredentials) -> PyResult<Self> {
        let inner = CcwsClient::builder()
            .token_url(format!("{origin}/oauth2/default/v1/token"))
            .api_base(origin)
            .credentials(credentials)
            .build()
            .or_raise()?;
        Self::wrap(inner)
    }
}

#[pymethods]
impl PyCcwsClient {
    #[new]
    #[pyo3(signature = (*, client_id, client_secret, username, password, token_url = None, api_base = None, price_list = None, timeout = None, max_retries = None, user_agent = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        client_id: String,
        client_secret: String,
        username: String,
        password: String,
        token_url: Option<String>,
        api_base: Option<String>,
        price_list: Option<String>,
        timeout: Option<&Bound<'_, PyAny>>,
        max_retries: Option<u32>,
        user_agent: Option<String>,
    ) -> PyResult<Self> {
        let mut builder = CcwsClient::builder()
            .credentials(CcwsCredentials::new(client_id, client_secret, username, password))
            .retry_policy(retry(max_retries));
        if let Some(url) = token_url {
            builder = builder.token_url(url);
        }
        if let Some(url) = api_base {
            builder = builder.api_base(url);
        }
        if let Some(id) = price_list {
            builder = builder.price_list(id);
        }
        if let Some(t) = opt_duration(timeout, "timeout")? {
            builder = builder.timeout(t);
        }
        if let Some(agent) = user_agent {
            builder = builder.user_agent(agent);
        }
        Self::wrap(builder.build().or_raise()?)
    }

    /// Whether ``close()`` was called (or the ``with`` block ended).
    #[getter]
    fn closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Closes the client: its connections are closed, its cached token dropped, and later calls
    /// raise ``ClientClosedError``. Closing again does nothing.
    fn close(&self, py: Python<'_>) {
        self.client.close(py);
    }

    /// The wholesale rate card of these SKUs (Get Offer Details, in batches of 1000).
    fn rate_card(&self, py: Python<'_>, skus: &Bound<'_, PyAny>) -> PyResult<PyRateCard> {
        let skus: Vec<String> = if skus.is_instance_of::<PyString>() {
            vec![skus.extract()?]
        } else {
            skus.try_iter()?
                .map(|s| s?.extract::<String>())
                .collect::<PyResult<_>>()?
        };
        let client = self.client.get(py)?;
        py.detach(|| client.rate_card(&skus)).map(PyRateCard::wrap).or_raise()
    }

    /// The rate card of every offer of the price list (Get Offers, then Get Offer Details).
    fn price_list_rate_card(&self, py: Python<'_>) -> PyResult<PyRateCard> {
        let client = self.client.get(py)?;
        py.detach(|| client.price_list_rate_card())
            .map(PyRateCard::wrap)
            .or_raise()
    }

    /// The SKUs (product ids) of every offer of the price list.
    fn offer_skus(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let client = self.client.get(py)?;
        let offers = py.detach(|| client.offers()).or_raise()?;
        Ok(offers.into_iter().filter_map(|o| o.product_id).collect())
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Closes the client; exceptions propagate.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.client.close(py);
        false
    }

    fn __repr__(&self) -> String {
        if self.client.is_closed() {
            "CcwsClient(..., closed=True)".to_owned()
        } else {
            "CcwsClient(...)".to_owned()
        }
    }
}

/// The default Webex API base URL.
pub(crate) const DEFAULT_BASE_URL: &str = client::DEFAULT_BASE_URL;

/// The Webex Calling CDR feed (``GET /v1/cdr_feed``) of one region, with its documented limits
/// honoured before the server enforces them (1 initial and 10 page requests a minute per token).
/// A context manager: leaving the ``with`` block closes it, as ``close()`` does.
#[pyclass(name = "CdrFeed", module = "wholesale_billing", frozen)]
pub(crate) struct PyCdrFeed {
    feed: Owned<blocking::CdrFeed>,
    base_url: String,
}

#[pymethods]
impl PyCdrFeed {
    #[new]
    #[pyo3(signature = (*, token, region = "us", base_url = None, max = 5000, initial_per_minute = 1, pages_per_minute = 10, timeout = None, max_retries = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        token: String,
        region: &str,
        base_url: Option<String>,
        max: u32,
        initial_per_minute: u32,
        pages_per_minute: u32,
        timeout: Option<&Bound<'_, PyAny>>,
        max_retries: Option<u32>,
    ) -> PyResult<Self> {
        let region: client::cdr::CdrRegion = region.parse().or_raise()?;
        let mut builder = Client::builder()
            .token(token)
            .retry_policy(retry(max_retries))
            .base_url(base_url.unwrap_or_else(|| region.base_url()));
        if let Some(t) = opt_duration(timeout, "timeout")? {
            builder = builder.timeout(t);
        }
        let inner = builder.build().or_raise()?;
        let base_url = inner.base_url().as_str().to_owned();
        let limits = client::cdr::CdrRateLimits {
            initial: initial_per_minute.max(1),
            pages: pages_per_minute.max(1),
            per: Duration::from_secs(60),
        };
        let feed = client::cdr::CdrFeed::builder(inner)
            .page_size(max)
            .rate_limits(limits)
            .build()
            .or_raise()?;
        Ok(PyCdrFeed {
            feed: Owned::new("CdrFeed", blocking::CdrFeed::new(feed).or_raise()?),
            base_url,
        })
    }

    /// The feed's base URL.
    #[getter]
    fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether ``close()`` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.feed.is_closed()
    }

    /// Closes the feed's connections; later calls raise ``ClientClosedError``. Closing again does
    /// nothing.
    fn close(&self, py: Python<'_>) {
        self.feed.close(py);
    }

    /// Fetches the call records of the dates ``start`` to ``end`` (inclusive, UTC; or a
    /// ``Period``) into the JSON file ``out`` (``{"items": [...]}``, each record as sent), 12-hour
    /// window by window; ``out`` appears only when complete. With ``resume=True`` an interrupted
    /// fetch continues from its checkpoint (``out + ".checkpoint"``). ``progress``, when given, is
    /// called after each complete window with its start and end (aware UTC ``datetime``) and its
    /// record count; an exception it raises stops the fetch, the checkpoint kept for a resume, and
    /// propagates. Returns a dict with ``windows``, ``records`` and ``bytes``.
    #[pyo3(signature = (start, end = None, *, out, resume = false, progress = None))]
    fn fetch<'py>(
        &self,
        py: Python<'py>,
        start: &Bound<'py, PyAny>,
        end: Option<&Bound<'py, PyAny>>,
        out: std::path::PathBuf,
        resume: bool,
        progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let period = client::cdr::CdrPeriod::from_period(&period_arg(start, end)?);
        let progress = match progress.filter(|p| !p.is_none()) {
            Some(p) if !p.is_callable() => {
                return Err(PyTypeError::new_err(format!(
                    "progress: expected a callable, not {}",
                    p.get_type().name()?
                )));
            }
            p => p.map(Bound::unbind),
        };
        let feed = self.feed.get(py)?;
        // The first exception of the callback: it stops the fetch (`Break`, the checkpoint kept)
        // and is raised instead of the "stopped" error that follows.
        let mut raised: Option<PyErr> = None;
        let fetched = py.detach(|| {
            feed.fetch_to_file(&period, &out, resume, |p| {
                let Some(callback) = &progress else {
                    return ControlFlow::Continue(());
                };
                Python::attach(
                    |py| match callback.call1(py, (p.window.start, p.window.end, p.window_records)) {
                        Ok(_) => ControlFlow::Continue(()),
                        Err(e) => {
                            raised = Some(e);
                            ControlFlow::Break(())
                        }
                    },
                )
            })
        });
        if let Some(e) = raised {
            return Err(e);
        }
        let done = fetched.or_raise()?;
        let dict = PyDict::new(py);
        dict.set_item("windows", done.windows)?;
        dict.set_item("records", done.records)?;
        dict.set_item("bytes", done.bytes)?;
        Ok(dict)
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// Closes the feed; exceptions propagate.
    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.feed.close(py);
        false
    }

    fn __repr__(&self) -> String {
        let closed = if self.feed.is_closed() { ", closed=True" } else { "" };
        format!("CdrFeed(base_url={}{closed})", quoted(&self.base_url))
    }
}
