//! Minutes tariffs (SPEC §7.8): what a customer pays per call, or what the PSTN provider charges
//! the partner, loaded, validated and compiled once by the core.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use wholesale_billing::{self as wb, DestinationId, OrgFormat, Tariff, TariffDocument};

use crate::convert::{Source, py_decimal, read_file_bytes};
use crate::errors::{OrRaise, core_error, core_error_in_file};
use crate::text::quoted;

/// A compiled minutes tariff: currency, rounding, charged call types, time bands, destinations
/// with their longest-prefix table, and bundled minutes (allowances).
///
/// ``Tariff.load(path)`` reads a TOML file (or JSON, by the ``.json`` extension) and the
/// ``prefix_table`` CSV it names, relative to the file; ``Tariff.from_toml(text,
/// prefix_table=...)`` and ``Tariff.from_json(...)`` read text. A broken tariff raises
/// ``BillingInputError`` located by ``line``, ``column`` and ``path`` (the key path, e.g.
/// ``destinations[3].subsequent``) and, for ``load``, ``file``.
#[pyclass(name = "Tariff", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone)]
pub(crate) struct PyTariff {
    pub(crate) tariff: Arc<Tariff>,
    doc: Arc<TariffDocument>,
}

impl PyTariff {
    /// Adds the prefix table (when one is given) and compiles, without the GIL. An error names
    /// `files.0` (the tariff file) or, when it is located in the prefix table, `files.1`.
    fn compile(
        py: Python<'_>,
        doc: TariffDocument,
        table: Option<Source<'_>>,
        files: (Option<&Path>, Option<&Path>),
    ) -> PyResult<Self> {
        let doc = match table {
            // An error of reading the table is the table's.
            Some(table) => table
                .read_with(py, "tariff prefix table", |reader| doc.with_prefix_table(reader))?
                .map_err(|e| located(py, &e, (files.1.or(files.0), None)))?,
            None => doc,
        };
        let tariff = py.detach(|| doc.compile()).map_err(|e| located(py, &e, files))?;
        Ok(PyTariff {
            tariff: Arc::new(tariff),
            doc: Arc::new(doc),
        })
    }

    /// The digits of a number, as the engine rates it (SPEC §7.3: every other character removed).
    fn digits(number: &str) -> Vec<u8> {
        number.bytes().filter(u8::is_ascii_digit).collect()
    }
}

/// The exception of a tariff error: with the name of the file it is in (the prefix table's when
/// the error is located there, else the tariff file's) when the tariff came from files.
fn located(py: Python<'_>, error: &wb::Error, (tariff, table): (Option<&Path>, Option<&Path>)) -> PyErr {
    let in_table = matches!(error, wb::Error::InvalidFile { file, .. } if *file == TariffDocument::PREFIX_TABLE_FILE);
    let file = match (in_table, table) {
        (true, Some(table)) => Some(table),
        _ => tariff,
    };
    match file {
        Some(file) => core_error_in_file(py, error, &file.display().to_string()),
        None => core_error(py, error, &wb::error_with_causes(error)),
    }
}

/// `(package, minutes, classes)` of `Tariff.allowances`.
type AllowanceTuple<'py> = (String, Bound<'py, PyAny>, Vec<String>);

#[pymethods]
impl PyTariff {
    /// Reads a tariff file (TOML, or JSON by the ``.json`` extension) and the ``prefix_table``
    /// it names (relative to the file's directory), validates and compiles it, without the GIL.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let bytes = read_file_bytes(py, &path, "tariff")?;
        let format = OrgFormat::from_file_name(&path.to_string_lossy());
        let doc = TariffDocument::from_slice(&bytes, format).map_err(|e| located(py, &e, (Some(&path), None)))?;
        let table = doc.prefix_table().map(|name| {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            dir.join(name)
        });
        let source = table.clone().map(Source::Path);
        Self::compile(py, doc, source, (Some(&path), table.as_deref()))
    }

    /// Reads the TOML form; ``prefix_table`` (a path, ``bytes`` or a binary file object) gives the
    /// destination table CSV when the text names one.
    #[staticmethod]
    #[pyo3(signature = (text, *, prefix_table = None))]
    fn from_toml(py: Python<'_>, text: &str, prefix_table: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let doc = TariffDocument::from_toml_str(text).or_raise()?;
        let table = prefix_table
            .map(|t| Source::from_py(t, "tariff prefix table"))
            .transpose()?;
        Self::compile(py, doc, table, (None, None))
    }

    /// Reads the JSON form; ``prefix_table`` as for ``from_toml``.
    #[staticmethod]
    #[pyo3(signature = (text, *, prefix_table = None))]
    fn from_json(py: Python<'_>, text: &str, prefix_table: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let doc = TariffDocument::from_json_str(text).or_raise()?;
        let table = prefix_table
            .map(|t| Source::from_py(t, "tariff prefix table"))
            .transpose()?;
        Self::compile(py, doc, table, (None, None))
    }

    /// The currency of every amount (``"GBP"``).
    #[getter]
    fn currency(&self) -> String {
        self.tariff.currency().code().to_owned()
    }

    /// The decimals each call's charge is rounded to, half-even.
    #[getter]
    fn rating_decimals(&self) -> u32 {
        self.tariff.rating_decimals()
    }

    /// The call types of originating legs that are charged (``["SIP_NATIONAL", ...]``).
    #[getter]
    fn charged_call_types(&self) -> Vec<&'static str> {
        self.tariff.charged_call_types().iter().map(|t| t.as_str()).collect()
    }

    /// The destination whose prices the called customer pays for a toll-free leg, if any.
    #[getter]
    fn tollfree_destination(&self) -> Option<&str> {
        self.tariff
            .tollfree_destination()
            .and_then(|id| self.tariff.destination(id))
            .map(|d| d.name())
    }

    /// The name of the destination table CSV the tariff names, if any.
    #[getter]
    fn prefix_table(&self) -> Option<&str> {
        self.doc.prefix_table()
    }

    /// The number of destinations (of the file and of its prefix table).
    #[getter]
    fn destination_count(&self) -> usize {
        self.tariff.destinations().len()
    }

    /// The number of prefixes of the longest-prefix table.
    #[getter]
    fn prefix_count(&self) -> usize {
        self.tariff.prefix_count()
    }

    /// The destination classes (``["national", "mobile", ...]``).
    #[getter]
    fn classes(&self) -> Vec<String> {
        self.tariff.classes().to_vec()
    }

    /// The time bands, in the order they are tried: ``(name, days, from, to)`` with days
    /// ``"mon"`` … ``"sun"`` and local clock times ``"HH:MM"``.
    #[getter]
    fn bands(&self) -> Vec<(String, Vec<String>, String, String)> {
        self.doc
            .bands
            .iter()
            .map(|b| {
                let days = b.days.iter().map(|d| d.to_string().to_lowercase()).collect();
                (b.name.clone(), days, b.from.to_string(), b.to.to_string())
            })
            .collect()
    }

    /// The bundled minutes, in the order they are drawn from: ``(package, minutes per
    /// user-month as Decimal, classes)``.
    #[getter]
    fn allowances<'py>(&self, py: Python<'py>) -> PyResult<Vec<AllowanceTuple<'py>>> {
        self.doc
            .allowances
            .iter()
            .map(|a| Ok((a.package.clone(), py_decimal(py, a.minutes)?, a.classes.clone())))
            .collect()
    }

    /// The destination a number is rated at (longest matching prefix of its digits), or
    /// ``None``: a dict with ``name``, ``class``, ``prefix``, ``connect_fee`` and ``per_minute``
    /// (``Decimal``), ``initial`` and ``subsequent`` (seconds).
    fn lookup<'py>(&self, py: Python<'py>, number: &str) -> PyResult<Option<Bound<'py, PyDict>>> {
        let digits = Self::digits(number);
        let Some((id, len)) = self.tariff.lookup(&digits) else {
            return Ok(None);
        };
        let prefix = String::from_utf8_lossy(digits.get(..len).unwrap_or_default()).into_owned();
        destination_dict(py, &self.tariff, id, &prefix).map(Some)
    }

    /// The billable seconds of a call of ``duration`` seconds to ``number``'s destination
    /// (its ``initial``/``subsequent`` increments), or ``None`` when no prefix matches.
    fn billable_seconds(&self, number: &str, duration: u64) -> PyResult<Option<u64>> {
        let digits = Self::digits(number);
        let Some((id, _)) = self.tariff.lookup(&digits) else {
            return Ok(None);
        };
        self.tariff
            .destination(id)
            .map(|d| d.billable_seconds(duration))
            .transpose()
            .or_raise()
    }

    /// The tariff written as TOML (its ``prefix_table`` kept as a reference).
    fn to_toml(&self) -> PyResult<String> {
        self.doc.to_toml_string().or_raise()
    }

    /// The tariff written as JSON (its ``prefix_table`` kept as a reference).
    fn to_json(&self) -> PyResult<String> {
        self.doc.to_json_string().or_raise()
    }

    /// Pickled self-contained (its prefix table's destinations written inline), so that it
    /// reaches a process that has no access to the table's file (a Spark executor).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let doc = (*slf.get().doc).clone().inline_prefix_table();
        let json = py.detach(|| doc.to_json_string()).or_raise()?;
        let from_json = slf.get_type().getattr("from_json")?;
        (from_json, (json,)).into_bound_py_any(py)
    }

    fn __repr__(&self) -> String {
        format!(
            "Tariff(currency={}, destinations={}, prefixes={}, bands={}, allowances={})",
            quoted(self.tariff.currency().code()),
            self.tariff.destinations().len(),
            self.tariff.prefix_count(),
            self.tariff.bands().len(),
            self.tariff.allowances().len()
        )
    }
}

/// The dict `Tariff.lookup` returns.
fn destination_dict<'py>(
    py: Python<'py>,
    tariff: &Tariff,
    id: DestinationId,
    prefix: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    if let Some(d) = tariff.destination(id) {
        let price = d.default_price();
        dict.set_item("name", d.name())?;
        dict.set_item("class", tariff.class_name(d.class()).unwrap_or_default())?;
        dict.set_item("prefix", prefix)?;
        dict.set_item("connect_fee", py_decimal(py, price.connect_fee.to_decimal())?)?;
        dict.set_item("per_minute", py_decimal(py, price.per_minute.to_decimal())?)?;
        dict.set_item("initial", d.initial().get())?;
        dict.set_item("subsequent", d.subsequent().get())?;
    }
    Ok(dict)
}
