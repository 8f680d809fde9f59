//! The Python exceptions of the package and the one wrapper that maps every error enum of the
//! wrapped crates onto them (one `match` per enum, every current variant named).
//!
//! The classes are made with Python's `type()` when the module is first initialised, because
//! several of them subclass two bases (`BillingInputError(BillingError, ValueError)`), which a
//! `#[pyclass]` cannot. They live in a process-wide cell so that every raise uses the same class
//! objects as the module exports.
//!
//! ```text
//! BillingError(Exception)
//! ├── BillingInputError(BillingError, ValueError)       issues, line, column, path, file
//! │   ├── CurrencyMismatchError                          expected, found
//! │   └── PricingError
//! ├── BillingIOError(BillingError, OSError)
//! ├── BillingOverflowError(BillingError, OverflowError)
//! ├── ApiError(BillingError)                             status, tracking_id, endpoint, host, region
//! │   └── ReportFailedError                              report_id, errors
//! ├── TransportError(BillingError, ConnectionError)
//! ├── ClientTimeoutError(BillingError, TimeoutError)
//! ├── ClientClosedError(BillingError, RuntimeError)
//! └── SandboxError(BillingError)
//! ```

use pyo3::IntoPyObjectExt;
use pyo3::call::PyCallArgs;
use pyo3::exceptions::{
    PyConnectionError, PyException, PyOSError, PyOverflowError, PyRuntimeError, PyTimeoutError, PyTypeError,
    PyValueError,
};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};
use webex_wholesale_client as client;
use wholesale_billing as wb;

use crate::ledger::PyLoadIssue;

/// The exception classes, created once.
pub(crate) struct Exceptions {
    pub(crate) billing: Py<PyType>,
    pub(crate) input: Py<PyType>,
    pub(crate) currency_mismatch: Py<PyType>,
    pub(crate) pricing: Py<PyType>,
    pub(crate) io: Py<PyType>,
    pub(crate) overflow: Py<PyType>,
    pub(crate) api: Py<PyType>,
    pub(crate) report_failed: Py<PyType>,
    pub(crate) transport: Py<PyType>,
    pub(crate) timeout: Py<PyType>,
    pub(crate) closed: Py<PyType>,
    pub(crate) sandbox: Py<PyType>,
}

static EXCEPTIONS: PyOnceLock<Exceptions> = PyOnceLock::new();

/// The exception classes (created on first use).
pub(crate) fn exceptions(py: Python<'_>) -> PyResult<&Exceptions> {
    EXCEPTIONS.get_or_try_init(py, || create(py))
}

/// One class: `type(name, bases, {"__module__": ..., "__doc__": ..., **attrs})`.
fn make_class<'py>(
    py: Python<'py>,
    name: &str,
    bases: Vec<Bound<'py, PyAny>>,
    doc: &str,
    attrs: &[(&str, Bound<'py, PyAny>)],
) -> PyResult<Py<PyType>> {
    let namespace = PyDict::new(py);
    namespace.set_item("__module__", "wholesale_billing")?;
    namespace.set_item("__doc__", doc)?;
    for (key, value) in attrs {
        namespace.set_item(key, value)?;
    }
    let bases = PyTuple::new(py, bases)?;
    let class = py
        .get_type::<PyType>()
        .call1((name, bases, namespace))?
        .cast_into::<PyType>()?;
    Ok(class.unbind())
}

fn create(py: Python<'_>) -> PyResult<Exceptions> {
    let none = || py.None().into_bound(py);
    let empty = || PyTuple::empty(py).into_any();
    let ty = |t: &Py<PyType>| t.bind(py).clone().into_any();
    let billing = make_class(
        py,
        "BillingError",
        vec![py.get_type::<PyException>().into_any()],
        "Base class of every error raised by wholesale_billing.",
        &[],
    )?;
    let input_attrs = [
        ("issues", empty()),
        ("line", none()),
        ("column", none()),
        ("path", none()),
        ("file", none()),
    ];
    let input = make_class(
        py,
        "BillingInputError",
        vec![ty(&billing), py.get_type::<PyValueError>().into_any()],
        "Bad input: a malformed file, row, date, amount or name; also a ValueError.\n\n\
         ``issues`` holds every rejected row (LoadIssue) when a load failed; ``line``, ``column`` and\n\
         ``path`` locate the (first) problem when known; ``file`` names the file it is in when the\n\
         package opened it (a tariff and its prefix table).",
        &input_attrs,
    )?;
    let currency_mismatch = make_class(
        py,
        "CurrencyMismatchError",
        vec![ty(&input)],
        "Two amounts in different currencies met in one sum or document.",
        &[("expected", none()), ("found", none())],
    )?;
    let pricing = make_class(
        py,
        "PricingError",
        vec![ty(&input)],
        "Something needed to price a line is missing (a SKU without a rate or price, a report of another \
         period or level).",
        &[],
    )?;
    let io = make_class(
        py,
        "BillingIOError",
        vec![ty(&billing), py.get_type::<PyOSError>().into_any()],
        "Reading or writing failed; also an OSError.",
        &[],
    )?;
    let overflow = make_class(
        py,
        "BillingOverflowError",
        vec![ty(&billing), py.get_type::<PyOverflowError>().into_any()],
        "An arithmetic result or a size does not fit the exact representation.",
        &[],
    )?;
    let api = make_class(
        py,
        "ApiError",
        vec![ty(&billing)],
        "The Webex or Commerce Catalog API answered with an error or an unexpected response.\n\n\
         ``status`` is the HTTP status when there was one, ``tracking_id`` the Webex trackingId.",
        &[
            ("status", none()),
            ("tracking_id", none()),
            ("endpoint", none()),
            ("host", none()),
            ("region", none()),
        ],
    )?;
    let report_failed = make_class(
        py,
        "ReportFailedError",
        vec![ty(&api)],
        "A billing report ended FAILED; ``errors`` lists (code, description) pairs.",
        &[("report_id", none()), ("errors", empty())],
    )?;
    let transport = make_class(
        py,
        "TransportError",
        vec![ty(&billing), py.get_type::<PyConnectionError>().into_any()],
        "The request could not be sent or its answer not read (connection refused, reset, TLS).",
        &[],
    )?;
    let timeout = make_class(
        py,
        "ClientTimeoutError",
        vec![ty(&billing), py.get_type::<PyTimeoutError>().into_any()],
        "A request timed out, or a report was not complete before the deadline.",
        &[],
    )?;
    let closed = make_class(
        py,
        "ClientClosedError",
        vec![ty(&billing), py.get_type::<PyRuntimeError>().into_any()],
        "A WebexClient, CcwsClient or CdrFeed was called after close() or the end of its with block.",
        &[],
    )?;
    let sandbox = make_class(
        py,
        "SandboxError",
        vec![ty(&billing)],
        "The local sandbox failed (its database or its server).",
        &[],
    )?;
    Ok(Exceptions {
        billing,
        input,
        currency_mismatch,
        pricing,
        io,
        overflow,
        api,
        report_failed,
        transport,
        timeout,
        closed,
        sandbox,
    })
}

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let e = exceptions(py)?;
    for (name, class) in [
        ("BillingError", &e.billing),
        ("BillingInputError", &e.input),
        ("CurrencyMismatchError", &e.currency_mismatch),
        ("PricingError", &e.pricing),
        ("BillingIOError", &e.io),
        ("BillingOverflowError", &e.overflow),
        ("ApiError", &e.api),
        ("ReportFailedError", &e.report_failed),
        ("TransportError", &e.transport),
        ("ClientTimeoutError", &e.timeout),
        ("ClientClosedError", &e.closed),
        ("SandboxError", &e.sandbox),
    ] {
        m.add(name, class.bind(py))?;
    }
    Ok(())
}

/// Raises `class(*args)` with extra attributes set on the instance.
fn raise<'py, A>(py: Python<'py>, class: &Py<PyType>, args: A, attrs: Vec<(&str, Bound<'py, PyAny>)>) -> PyErr
where
    A: PyCallArgs<'py>,
{
    let made = class.bind(py).call1(args).and_then(|exc| {
        for (key, value) in attrs {
            exc.setattr(key, value)?;
        }
        Ok(exc)
    });
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

fn classes_or_err<T>(py: Python<'_>, f: impl FnOnce(&Exceptions) -> T) -> Result<T, PyErr> {
    exceptions(py).map(f)
}

/// A `BillingInputError` with a message only (bad arguments that the Rust crates would refuse the
/// same way: a naive datetime, a date in the wrong form).
pub(crate) fn input_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    let message = message.into();
    classes_or_err(py, |e| raise(py, &e.input, (message,), Vec::new())).unwrap_or_else(|e| e)
}

/// A `ClientClosedError`: a client was called after `close()`.
pub(crate) fn closed_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    let message = message.into();
    classes_or_err(py, |e| raise(py, &e.closed, (message,), Vec::new())).unwrap_or_else(|e| e)
}

/// A `TypeError` for a float where an exact number is needed.
pub(crate) fn float_refused(what: &str) -> PyErr {
    PyTypeError::new_err(format!(
        "{what}: a float is not exact and is refused; give a decimal.Decimal or a str (e.g. Decimal(\"8.00\"))"
    ))
}

/// An `OSError` subclass (`BillingIOError`) for a failed file operation, with `errno`,
/// `strerror` and `filename` when the OS gave a code.
pub(crate) fn io_error(py: Python<'_>, context: &str, source: &std::io::Error, filename: Option<&str>) -> PyErr {
    classes_or_err(py, |e| match (source.raw_os_error(), filename) {
        (Some(code), Some(name)) => raise(py, &e.io, (code, format!("{context}: {source}"), name), Vec::new()),
        (Some(code), None) => raise(py, &e.io, (code, format!("{context}: {source}")), Vec::new()),
        _ => raise(py, &e.io, (format!("i/o error while {context}: {source}"),), Vec::new()),
    })
    .unwrap_or_else(|e| e)
}

/// Any error of the wrapped crates, on its way to Python.
#[derive(Debug)]
pub(crate) enum BindingError {
    /// `wholesale_billing::Error`.
    Core(wb::Error),
    /// `webex_wholesale_client::Error`.
    Client(client::Error),
    /// `webex_sandbox::Error`.
    Sandbox(webex_sandbox::Error),
}

impl From<wb::Error> for BindingError {
    fn from(e: wb::Error) -> Self {
        BindingError::Core(e)
    }
}

impl From<client::Error> for BindingError {
    fn from(e: client::Error) -> Self {
        BindingError::Client(e)
    }
}

impl From<webex_sandbox::Error> for BindingError {
    fn from(e: webex_sandbox::Error) -> Self {
        BindingError::Sandbox(e)
    }
}

impl From<BindingError> for PyErr {
    fn from(e: BindingError) -> Self {
        Python::attach(|py| match &e {
            BindingError::Core(core) => core_error(py, core, &wb::error_with_causes(core)),
            BindingError::Client(c) => client_error(py, c),
            BindingError::Sandbox(s) => sandbox_error(py, s),
        })
    }
}

/// `result.or_raise()?`: the error of a wrapped crate as its Python exception.
pub(crate) trait OrRaise<T> {
    /// Maps the error through [`BindingError`].
    fn or_raise(self) -> PyResult<T>;
}

impl<T, E: Into<BindingError>> OrRaise<T> for Result<T, E> {
    fn or_raise(self) -> PyResult<T> {
        self.map_err(|e| PyErr::from(e.into()))
    }
}

fn opt<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: Option<T>) -> Bound<'py, PyAny> {
    match value {
        Some(v) => v.into_bound_py_any(py).unwrap_or_else(|_| py.None().into_bound(py)),
        None => py.None().into_bound(py),
    }
}

/// The exception class of each kind of core error: a `match` without a `_` arm, so that a kind
/// added to the core (with its variant) does not compile here until it is mapped.
pub(crate) fn core_class(e: &Exceptions, kind: wb::ErrorKind) -> &Py<PyType> {
    use wb::ErrorKind as K;
    match kind {
        K::Io | K::Csv => &e.io,
        K::Overflow => &e.overflow,
        K::CurrencyMismatch | K::ItemCurrencyConflict | K::MixedCurrencies | K::TariffCurrencyMismatch => {
            &e.currency_mismatch
        }
        // Something needed to price a line is missing or refused.
        K::MissingRate
        | K::MissingPrice
        | K::MinutesCostMissing
        | K::MinutesOfUnknownCustomer
        | K::TiersPerLocation
        | K::WrongReportLevel
        | K::PeriodMismatch
        | K::ReportWithoutPeriod
        | K::RowsOutsidePeriod
        | K::UnknownRowOrg
        | K::EmptySku
        | K::DuplicateSku
        | K::NegativePrice
        | K::NegativeCommitment
        | K::NegativeFixedLine => &e.pricing,
        // Bad input: a malformed file, row, value or name.
        K::Rejected
        | K::RecordsRejected
        | K::InvalidTimestamp
        | K::InvalidDate
        | K::InvalidQuantity
        | K::InvalidMoney
        | K::InvalidPrice
        | K::UnknownName
        | K::UnknownCurrency
        | K::InvalidCurrency
        | K::InvalidFile
        | K::Toml
        | K::Json
        | K::InvalidUtf8
        | K::EmptyOrganisationField
        | K::DuplicateOrgId
        | K::OrganisationTooLarge
        | K::IncompleteCatalogPackage
        | K::UnknownSubPartner
        | K::NoCustomers
        | K::TooFewSubscribers
        | K::TooManySubscribers
        | K::PeriodReversed
        | K::NotAWholeMonth
        | K::YearOutOfRange
        | K::CannotRollUp
        | K::MixedReportLevels
        | K::NoReports
        | K::NothingToPlant
        | K::NegativeValue
        | K::PercentAbove100
        | K::InvalidSkuPricing
        | K::OpenBandNotLast
        | K::BandsNotAscending
        | K::CatalogRefused
        | K::NoOfferItems
        | K::MissingProductId
        | K::OfferItem
        | K::InvalidDecimalCount
        | K::TooManyDecimals
        | K::DifferingPrices
        | K::NoListPrice
        | K::MissingCurrency
        | K::PrefixNotDigits
        | K::DuplicatePrefix
        | K::DuplicateTariffName
        | K::EmptyTariffField
        | K::IncrementTooSmall
        | K::TariffDecimals
        | K::RatingDecimalsTooMany
        | K::InvalidClockTime
        | K::EmptyBandRange
        | K::UnknownBand
        | K::UnknownDestination
        | K::UnusedClass
        | K::InconsistentDestination
        | K::PrefixTableNotLoaded
        | K::UnknownAllowancePackage => &e.input,
        // Not the caller's input: a document that cannot be written, a failed helper thread, a
        // defect of the generator.
        K::WriteToml | K::WriteJson | K::ThreadFailed | K::GeneratorPackageMissing => &e.billing,
    }
}

/// `{kind name: exception class}` for every kind of core error: what the tests check the mapping
/// with (every kind maps to a named class of the package).
#[pyfunction(name = "_error_classes")]
pub(crate) fn error_classes(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let e = exceptions(py)?;
    let classes = PyDict::new(py);
    for kind in wb::ErrorKind::ALL {
        classes.set_item(kind.name(), core_class(e, *kind).bind(py))?;
    }
    Ok(classes)
}

/// The exception of a core error; `message` is its text with its causes (and any context of the
/// caller). An error located in a file ([`wb::Error::InvalidFile`]) raises the class of what is
/// wrong there, with `line`, `column` and `path`; an error about a usage row read from CSV sets
/// `line`.
pub(crate) fn core_error(py: Python<'_>, error: &wb::Error, message: &str) -> PyErr {
    // The innermost of the errors that only locate another.
    let mut leaf = error;
    let mut location = None;
    loop {
        match leaf {
            wb::Error::InvalidFile {
                location: at, source, ..
            } => {
                location = location.or(Some(at));
                leaf = source;
            }
            wb::Error::OfferItem { source, .. } => leaf = source,
            _ => break,
        }
    }
    let made = classes_or_err(py, |e| {
        let class = core_class(e, leaf.kind());
        let mut attrs: Vec<(&str, Bound<'_, PyAny>)> = Vec::new();
        if let Some(at) = location {
            attrs.extend([
                ("line", opt(py, at.line)),
                ("column", opt(py, at.column)),
                ("path", opt(py, at.path.clone())),
            ]);
        }
        if let Some(row) = leaf.row() {
            attrs.push(("line", opt(py, Some(row.line))));
        }
        match leaf {
            wb::Error::Io { context, source } => return io_error(py, context, source, None),
            wb::Error::Rejected { issues, .. } | wb::Error::RecordsRejected { issues, .. } => {
                let first = issues.iter().find(|i| i.is_error()).or(issues.first());
                let list: Vec<PyLoadIssue> = issues.iter().cloned().map(PyLoadIssue::from).collect();
                match PyList::new(py, list) {
                    Ok(l) => attrs.push(("issues", l.to_tuple().into_any())),
                    Err(err) => return err,
                }
                attrs.push(("line", opt(py, first.map(|i| i.line))));
                attrs.push(("column", opt(py, first.and_then(|i| i.column))));
            }
            wb::Error::CurrencyMismatch { expected, found }
            | wb::Error::ItemCurrencyConflict { expected, found, .. }
            | wb::Error::MixedCurrencies { expected, found, .. } => {
                attrs.push(("expected", opt(py, Some(expected.code()))));
                attrs.push(("found", opt(py, Some(found.code()))));
            }
            // The price book sets the invoice's currency: the tariff's is the one found.
            wb::Error::TariffCurrencyMismatch { tariff, price_book } => {
                attrs.push(("expected", opt(py, Some(price_book.code()))));
                attrs.push(("found", opt(py, Some(tariff.code()))));
            }
            _ => {}
        }
        raise(py, class, (message,), attrs)
    });
    made.unwrap_or_else(|e| e)
}

/// The exception of a core error about a file the package opened: the message starts with
/// `in FILE: ` and the exception's `file` attribute names it.
pub(crate) fn core_error_in_file(py: Python<'_>, error: &wb::Error, file: &str) -> PyErr {
    let message = format!("in {file}: {}", wb::error_with_causes(error));
    let err = core_error(py, error, &message);
    let value = err.value(py);
    if value.hasattr("file").unwrap_or(false)
        && let Err(e) = value.setattr("file", file)
    {
        return e;
    }
    err
}

/// The exception of a client error.
fn client_error(py: Python<'_>, error: &client::Error) -> PyErr {
    // The causes too: a transport error's root cause (connection refused, a TLS failure) matters.
    let message = wholesale_billing::error_with_causes(error);
    let made = classes_or_err(py, |e| {
        let api = |attrs: Vec<(&str, Bound<'_, PyAny>)>| raise(py, &e.api, (message.as_str(),), attrs);
        let status_and_tracking = || {
            vec![
                ("status", opt(py, error.status())),
                ("tracking_id", opt(py, error.tracking_id())),
            ]
        };
        match error {
            client::Error::MissingToken
            | client::Error::MissingCcwsCredentials
            | client::Error::InvalidUrl { .. }
            | client::Error::NotHttpUrl { .. }
            | client::Error::UrlWithQuery { .. }
            | client::Error::InvalidDownloadUrl(_)
            | client::Error::DownloadUrlNotHttp { .. }
            | client::Error::HttpClient(_)
            | client::Error::CdrPageSize { .. }
            | client::Error::CdrEmptyPeriod { .. }
            | client::Error::UnknownCdrRegion { .. }
            | client::Error::CdrCheckpointUnreadable { .. }
            | client::Error::CdrCheckpointMismatch { .. }
            | client::Error::CdrPartialExists { .. } => raise(py, &e.input, (message.as_str(),), Vec::new()),
            client::Error::CdrWrongRegion {
                host, region, context, ..
            } => {
                let mut attrs = status_and_tracking();
                attrs.push(("endpoint", opt(py, Some(context.as_str()))));
                attrs.push(("host", opt(py, host.as_deref())));
                attrs.push(("region", opt(py, region.map(|r| r.as_str()))));
                api(attrs)
            }
            client::Error::CdrOutput { path, what, source } => {
                io_error(py, what, source, Some(&path.display().to_string()))
            }
            client::Error::CdrItemNotObject { .. } => api(status_and_tracking()),
            client::Error::CdrFetchStopped { .. } => raise(py, &e.billing, (message.as_str(),), Vec::new()),
            client::Error::Api(body) => {
                let mut attrs = status_and_tracking();
                attrs.push(("endpoint", opt(py, Some(body.endpoint.as_str()))));
                api(attrs)
            }
            client::Error::Decode(_)
            | client::Error::PageLoop { .. }
            | client::Error::NoUsableReport { .. }
            | client::Error::NoDownloadUrl { .. }
            | client::Error::Download { .. }
            | client::Error::ForeignOrigin { .. }
            | client::Error::OAuth { .. }
            | client::Error::NotUtf8 { .. }
            | client::Error::CatalogRefused { .. } => api(status_and_tracking()),
            client::Error::ReportFailed { report_id, errors } => {
                let pairs: Vec<(Option<i64>, Option<String>)> =
                    errors.iter().map(|r| (r.code, r.description.clone())).collect();
                let errors = match PyList::new(py, pairs) {
                    Ok(list) => list.to_tuple().into_any(),
                    Err(err) => return err,
                };
                raise(
                    py,
                    &e.report_failed,
                    (message.as_str(),),
                    vec![("report_id", opt(py, Some(report_id.as_str()))), ("errors", errors)],
                )
            }
            client::Error::Transport { .. } => raise(py, &e.transport, (message.as_str(),), Vec::new()),
            client::Error::Timeout { .. } | client::Error::DeadlineExceeded { .. } => {
                raise(py, &e.timeout, (message.as_str(),), Vec::new())
            }
            client::Error::Core { source, .. } => core_error(py, source, &message),
            client::Error::InsideAsyncRuntime | client::Error::RuntimeStart(_) | client::Error::EncodeBody { .. } => {
                raise(py, &e.billing, (message.as_str(),), Vec::new())
            }
            // The enum is non-exhaustive: a variant added later is still a BillingError.
            _ => raise(py, &e.billing, (message.as_str(),), Vec::new()),
        }
    });
    made.unwrap_or_else(|e| e)
}

/// The exception of a sandbox error.
fn sandbox_error(py: Python<'_>, error: &webex_sandbox::Error) -> PyErr {
    let message = wholesale_billing::error_with_causes(error);
    let made = classes_or_err(py, |e| match error {
        webex_sandbox::Error::InvalidCreateStatus { .. }
        | webex_sandbox::Error::FaultShareAbove100 { .. }
        | webex_sandbox::Error::ZeroSetting { .. }
        | webex_sandbox::Error::InvalidDownloadBaseUrl { .. }
        | webex_sandbox::Error::InvalidPublicBaseUrl { .. }
        | webex_sandbox::Error::TokenForUnknownOrg { .. }
        | webex_sandbox::Error::InvalidToken { .. }
        | webex_sandbox::Error::SharedToken { .. }
        | webex_sandbox::Error::RegionForUnknownOrg { .. }
        | webex_sandbox::Error::CdrJson { .. }
        | webex_sandbox::Error::InvalidCdr { .. } => raise(py, &e.input, (message.as_str(),), Vec::new()),
        webex_sandbox::Error::Dataset(source) => core_error(py, source, &message),
        webex_sandbox::Error::Io { context, source } => io_error(py, context, source, None),
        webex_sandbox::Error::File { path, what, source } => {
            io_error(py, what, source, Some(&path.display().to_string()))
        }
        webex_sandbox::Error::Database(_)
        | webex_sandbox::Error::CorruptValue { .. }
        | webex_sandbox::Error::ForeignDatabase { .. }
        | webex_sandbox::Error::NoWriteAheadLog { .. }
        | webex_sandbox::Error::SchemaTooNew { .. }
        | webex_sandbox::Error::KeyFileMissing { .. }
        | webex_sandbox::Error::KeyFileMismatch { .. }
        | webex_sandbox::Error::KeyFileExposed { .. }
        | webex_sandbox::Error::KeyFileMalformed { .. }
        | webex_sandbox::Error::Random(_)
        | webex_sandbox::Error::DatabaseClosed
        | webex_sandbox::Error::DatabaseCallPanicked
        | webex_sandbox::Error::Commit(_)
        | webex_sandbox::Error::Task { .. }
        | webex_sandbox::Error::ServerStopped => raise(py, &e.sandbox, (message.as_str(),), Vec::new()),
        // The enum is non-exhaustive: a variant added later is still a BillingError.
        _ => raise(py, &e.billing, (message.as_str(),), Vec::new()),
    });
    made.unwrap_or_else(|e| e)
}
