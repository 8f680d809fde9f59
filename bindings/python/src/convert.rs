//! Conversions at the boundary: `decimal.Decimal` ↔ `Decimal`, `date` ↔ `NaiveDate`, aware
//! `datetime` ↔ `Timestamp`, periods, durations, input sources (path, bytes, file object) and
//! outputs (a path, or the text returned).
//!
//! No float crosses for an amount or a quantity: a `float` is refused with a `TypeError`.

use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use pyo3::exceptions::{PyImportError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyDelta, PyDict, PyFloat, PyInt, PyString, PyType,
};
use wholesale_billing::{self as wb, Decimal, HourPolicy, Period, Quantity, ReportLevel, Timestamp};

use crate::errors::{OrRaise, float_refused, input_error, io_error};
use crate::period::PyPeriod;

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// `decimal.Decimal`.
pub(crate) fn decimal_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    DECIMAL.import(py, "decimal", "Decimal")
}

/// A `decimal.Decimal` of exactly the same digits.
pub(crate) fn py_decimal(py: Python<'_>, value: Decimal) -> PyResult<Bound<'_, PyAny>> {
    decimal_type(py)?.call1((value.to_string(),))
}

/// A quantity (user-days, four decimals) as a `decimal.Decimal`.
pub(crate) fn py_quantity(py: Python<'_>, value: Quantity) -> PyResult<Bound<'_, PyAny>> {
    py_decimal(py, value.to_decimal())
}

/// An exact number from a `decimal.Decimal`, an `int` or a `str` (`"8.00"`); a `float` (or a
/// `bool`) is refused with a `TypeError`.
pub(crate) fn decimal_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Decimal> {
    let py = value.py();
    if value.is_instance_of::<PyFloat>() {
        return Err(float_refused(what));
    }
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected a decimal.Decimal, an int or a str, not a bool"
        )));
    }
    if value.is_instance_of::<PyInt>() {
        if let Ok(v) = value.extract::<i64>() {
            return Ok(Decimal::from(v));
        }
        let text = value.str()?.to_cow()?.into_owned();
        return Decimal::from_str_exact(&text).map_err(|_| {
            input_error(
                py,
                format!("{what}: the integer {text} does not fit a decimal of 28 digits"),
            )
        });
    }
    if value.is_instance_of::<PyString>() {
        let text = value.cast::<PyString>()?.to_cow()?;
        return wb::parse_decimal(&text).or_raise();
    }
    if value.is_instance(decimal_type(py)?)? {
        let text = value.str()?.to_cow()?.into_owned();
        return Decimal::from_str_exact(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map_err(|_| {
                input_error(
                    py,
                    format!("{what}: Decimal({text:?}) is not a finite number of at most 28 significant digits"),
                )
            });
    }
    if value.hasattr("__index__")? {
        // An integer of another library (numpy.int64, ...): exact through `operator.index`.
        let index = py.import("operator")?.call_method1("index", (value,))?;
        return decimal_arg(&index, what);
    }
    Err(PyTypeError::new_err(format!(
        "{what}: expected a decimal.Decimal, an int or a str, not {}",
        value.get_type().name()?
    )))
}

/// An optional exact number (`None` → `None`).
pub(crate) fn opt_decimal_arg(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<Decimal>> {
    match value {
        Some(v) if !v.is_none() => decimal_arg(v, what).map(Some),
        _ => Ok(None),
    }
}

/// A quantity in user-days (at most four decimals).
pub(crate) fn quantity_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Quantity> {
    Quantity::try_from_decimal(decimal_arg(value, what)?).or_raise()
}

/// A `date`, from a `datetime.date` (not a `datetime`) or `"YYYY-MM-DD"`.
pub(crate) fn date_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<NaiveDate> {
    if value.is_instance_of::<PyDateTime>() {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected a datetime.date or \"YYYY-MM-DD\", not a datetime (periods are whole UTC days)"
        )));
    }
    if value.is_instance_of::<PyDate>() {
        return value.extract::<NaiveDate>();
    }
    if let Ok(text) = value.cast::<PyString>() {
        return wb::parse_date(&text.to_cow()?).or_raise();
    }
    Err(PyTypeError::new_err(format!(
        "{what}: expected a datetime.date or \"YYYY-MM-DD\", not {}",
        value.get_type().name()?
    )))
}

/// An optional date (`None` → `None`).
pub(crate) fn opt_date_arg(value: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Option<NaiveDate>> {
    match value {
        Some(v) if !v.is_none() => date_arg(v, what).map(Some),
        _ => Ok(None),
    }
}

/// The instant of an aware `datetime` (any `tzinfo`), truncated to microseconds; `None` for a
/// naive one.
pub(crate) fn aware_instant(dt: &Bound<'_, PyDateTime>) -> PyResult<Option<Timestamp>> {
    let py = dt.py();
    let offset = dt.call_method0("utcoffset")?;
    if offset.is_none() {
        return Ok(None);
    }
    let offset: TimeDelta = offset.extract()?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("tzinfo", py.None())?;
    let naive: NaiveDateTime = dt.call_method("replace", (), Some(&kwargs))?.extract()?;
    let utc = naive
        .checked_sub_signed(offset)
        .ok_or_else(|| PyValueError::new_err("the datetime is out of range once converted to UTC"))?;
    Ok(Some(Timestamp::from_datetime(&utc.and_utc())))
}

/// An instant, from an aware `datetime` or RFC 3339 text with an offset.
pub(crate) fn timestamp_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Timestamp> {
    let py = value.py();
    if let Ok(text) = value.cast::<PyString>() {
        return Timestamp::parse_rfc3339(&text.to_cow()?).or_raise();
    }
    if let Ok(dt) = value.cast::<PyDateTime>() {
        return aware_instant(dt)?.ok_or_else(|| {
            input_error(
                py,
                format!("{what}: a naive datetime has no UTC offset; give tzinfo (e.g. datetime.timezone.utc)"),
            )
        });
    }
    Err(PyTypeError::new_err(format!(
        "{what}: expected an aware datetime or RFC 3339 text, not {}",
        value.get_type().name()?
    )))
}

/// An instant as an aware `datetime` in UTC.
pub(crate) fn py_timestamp(py: Python<'_>, value: Timestamp) -> PyResult<Bound<'_, PyAny>> {
    Ok(value.to_datetime().into_pyobject(py)?.into_any())
}

/// An optional instant as an aware `datetime` or `None`.
pub(crate) fn py_opt_timestamp(py: Python<'_>, value: Option<Timestamp>) -> PyResult<Bound<'_, PyAny>> {
    match value {
        Some(t) => py_timestamp(py, t),
        None => Ok(py.None().into_bound(py)),
    }
}

/// A date as a `datetime.date`.
pub(crate) fn py_date(py: Python<'_>, value: NaiveDate) -> PyResult<Bound<'_, PyAny>> {
    Ok(value.into_pyobject(py)?.into_any())
}

/// A period from `(start, end)`: a `Period`, a text (`"2024-05"` or `"2024-05-01..2024-05-31"`)
/// with no end, or two dates (`date` or `"YYYY-MM-DD"`), both inclusive.
pub(crate) fn period_arg(start: &Bound<'_, PyAny>, end: Option<&Bound<'_, PyAny>>) -> PyResult<Period> {
    let end = end.filter(|e| !e.is_none());
    if let Ok(p) = start.cast::<PyPeriod>() {
        if end.is_some() {
            return Err(PyTypeError::new_err(
                "give a Period, or a start and an end date, not both",
            ));
        }
        return Ok(p.get().0);
    }
    match end {
        Some(end) => Period::new(date_arg(start, "start")?, date_arg(end, "end")?).or_raise(),
        None => match start.cast::<PyString>() {
            Ok(text) => Period::from_str(&text.to_cow()?).or_raise(),
            Err(_) => Err(PyTypeError::new_err(
                "give a Period, a text (\"2024-05\" or \"2024-05-01..2024-05-31\"), or a start and an end date",
            )),
        },
    }
}

/// A period given alone: a `Period` or its text.
pub(crate) fn period_param(value: &Bound<'_, PyAny>) -> PyResult<Period> {
    period_arg(value, None)
}

/// A duration: a `datetime.timedelta`, or a whole number of seconds (`int`), not negative. Floats
/// are refused like everywhere else: no float crosses the boundary.
pub(crate) fn duration_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Duration> {
    let bad = || PyValueError::new_err(format!("{what}: expected a duration that is not negative"));
    if value.is_instance_of::<PyDelta>() {
        let delta: TimeDelta = value.extract()?;
        return delta.to_std().map_err(|_| bad());
    }
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected a timedelta or seconds, not a bool"
        )));
    }
    if value.is_instance_of::<PyInt>() {
        let seconds: u64 = value.extract().map_err(|_| bad())?;
        return Ok(Duration::from_secs(seconds));
    }
    Err(PyTypeError::new_err(format!(
        "{what}: expected a datetime.timedelta or a whole number of seconds, not {}",
        value.get_type().name()?
    )))
}

/// A report level: `"user"`, `"customer"` or `"partner"` (any case).
pub(crate) fn level_arg(text: &str) -> PyResult<ReportLevel> {
    ReportLevel::from_str(text).or_raise()
}

/// An hour policy: `"started"`, `"completed"` or `"exact"` (any case).
pub(crate) fn hour_policy_arg(text: &str) -> PyResult<HourPolicy> {
    HourPolicy::from_str(text).or_raise()
}

/// Imports an optional dependency, or says how to get it.
pub(crate) fn optional_import<'py>(py: Python<'py>, module: &str, method: &str) -> PyResult<Bound<'py, PyModule>> {
    // The package's extra that brings the module (pyproject.toml).
    let extra = if module == "pyarrow" { "arrow" } else { module };
    py.import(module).map_err(|e| {
        if e.is_instance_of::<PyImportError>(py) {
            PyImportError::new_err(format!(
                "{method}() needs {module}, an optional dependency of wholesale_billing: \
                 pip install {module}  (or: pip install \"wholesale-billing[{extra}]\")"
            ))
        } else {
            e
        }
    })
}

/// Where input comes from: a file path (`str` or `os.PathLike`), the bytes themselves, or a binary
/// file object's contents.
pub(crate) enum Source<'a> {
    /// A path, opened and read without the GIL.
    Path(PathBuf),
    /// Bytes borrowed from a `bytes` object.
    Borrowed(&'a [u8]),
    /// Bytes copied from a `bytearray`, `memoryview` or file object.
    Owned(Vec<u8>),
}

impl<'a> Source<'a> {
    /// The source of a Python argument.
    pub(crate) fn from_py(value: &'a Bound<'_, PyAny>, what: &str) -> PyResult<Source<'a>> {
        if let Ok(bytes) = value.cast::<PyBytes>() {
            return Ok(Source::Borrowed(bytes.as_bytes()));
        }
        if value.is_instance_of::<PyByteArray>() || value.hasattr("tobytes")? {
            let bytes = value.py().get_type::<PyBytes>().call1((value,))?;
            return Ok(Source::Owned(bytes.extract::<Vec<u8>>()?));
        }
        if value.is_instance_of::<PyString>() || value.hasattr("__fspath__")? {
            return Ok(Source::Path(value.extract::<PathBuf>()?));
        }
        if value.hasattr("read")? {
            let data = value.call_method0("read")?;
            if let Ok(text) = data.cast::<PyString>() {
                return Ok(Source::Owned(text.to_cow()?.as_bytes().to_vec()));
            }
            return Ok(Source::Owned(data.extract::<Vec<u8>>()?));
        }
        Err(PyTypeError::new_err(format!(
            "{what}: expected a path (str or os.PathLike), bytes, or a binary file object, not {}",
            value.get_type().name()?
        )))
    }

    /// Runs `f` on a reader of the source, without the GIL. A file that cannot be opened is a
    /// `BillingIOError` naming it.
    pub(crate) fn read_with<T, F>(&self, py: Python<'_>, what: &str, f: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(&mut (dyn Read + Send)) -> T + Send,
    {
        let result = py.detach(|| -> std::io::Result<T> {
            match self {
                Source::Path(path) => {
                    let file = std::fs::File::open(path)?;
                    let mut reader = BufReader::with_capacity(1 << 20, file);
                    Ok(f(&mut reader))
                }
                Source::Borrowed(bytes) => Ok(f(&mut &bytes[..])),
                Source::Owned(bytes) => Ok(f(&mut bytes.as_slice())),
            }
        });
        result.map_err(|e| match self {
            Source::Path(path) => {
                let name = path.display().to_string();
                io_error(py, &format!("opening the {what} {name}"), &e, Some(&name))
            }
            _ => io_error(py, &format!("reading the {what}"), &e, None),
        })
    }
}

/// The bytes of a file, read without the GIL (the core decodes them, locating bytes that are not
/// UTF-8).
pub(crate) fn read_file_bytes(py: Python<'_>, path: &PathBuf, what: &str) -> PyResult<Vec<u8>> {
    py.detach(|| std::fs::read(path)).map_err(|e| {
        let name = path.display().to_string();
        io_error(py, &format!("reading the {what} {name}"), &e, Some(&name))
    })
}

/// Writes what `write` produces to `path` (returning `None`), whole or not at all (see
/// [`write_whole`]), or returns it as text when no path is given. Both without the GIL.
pub(crate) fn write_output<F>(py: Python<'_>, path: Option<PathBuf>, what: &str, write: F) -> PyResult<Option<String>>
where
    F: FnOnce(&mut dyn std::io::Write) -> wb::Result<()> + Send,
{
    enum Failure {
        Core(wb::Error),
        Io(std::io::Error),
        Utf8,
    }
    let result = py.detach(|| -> Result<Option<String>, Failure> {
        match &path {
            Some(path) => {
                let mut failure = None;
                write_whole(path, |out| {
                    write(out).map_err(|e| {
                        failure = Some(e);
                        std::io::Error::other("the content could not be written")
                    })
                })
                .map_err(|e| match failure.take() {
                    Some(core) => Failure::Core(core),
                    None => Failure::Io(e),
                })?;
                Ok(None)
            }
            None => {
                let mut buffer = Vec::with_capacity(1 << 16);
                write(&mut buffer).map_err(Failure::Core)?;
                String::from_utf8(buffer).map(Some).map_err(|_| Failure::Utf8)
            }
        }
    });
    match result {
        Ok(text) => Ok(text),
        Err(Failure::Core(e)) => Err(e).or_raise(),
        Err(Failure::Io(e)) => {
            let name = path.map(|p| p.display().to_string()).unwrap_or_default();
            Err(io_error(py, &format!("writing the {what} {name}"), &e, Some(&name)))
        }
        Err(Failure::Utf8) => Err(PyValueError::new_err(format!("the {what} is not valid UTF-8"))),
    }
}

/// Writes a file whole or not at all: to a temporary file beside it (`.NAME.tmp-XXXXXX`),
/// flushed and synced, then renamed over it, and the directory synced. A reader sees the old
/// file or the new one, never a part; a failure (or a crash) leaves the old one as it was. The
/// old file's permissions are kept; a link to a file replaces the file it points to; a device
/// or a pipe (`/dev/null`) is written in place.
pub(crate) fn write_whole(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write as _;
    let (target, permissions) = match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => {
            let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            let target = if is_link {
                std::fs::canonicalize(path)?
            } else {
                path.to_owned()
            };
            (target, Some(meta.permissions()))
        }
        Ok(meta) if !meta.is_dir() => {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
            write(&mut out)?;
            return out.flush();
        }
        // A directory: the rename below fails with the system's error.
        Ok(_) => (path.to_owned(), None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (path.to_owned(), None),
        Err(e) => return Err(e),
    };
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.tmp-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // The mode `open` gives a new file (0666 less the umask), not a temporary's 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut out = std::io::BufWriter::with_capacity(1 << 20, builder.tempfile_in(&dir)?);
    write(&mut out)?;
    let temp = out.into_inner().map_err(|e| e.into_error())?;
    if let Some(permissions) = permissions {
        std::fs::set_permissions(temp.path(), permissions)?;
    }
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|e| e.error)?;
    #[cfg(unix)]
    std::fs::File::open(&dir)?.sync_all()?;
    Ok(())
}
