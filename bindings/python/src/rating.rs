//! `rate()`: call records (files, bytes or a DataFrame) rated at a tariff by the core's engine
//! (SPEC §7), and its `RatingResult` with the summary and the rated records as DataFrames.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use wholesale_billing::{
    self as wb, AssignmentLedger, CdrDiagnostics, CdrReadOptions, Decimal, LoadIssue, LoadMode, RatedColumn, Rating,
    RatingCounts, RatingResult, SpillStorage, SummaryColumn, SummaryRow, Tariff,
};

use crate::convert::{decimal_type, hour_policy_arg, period_arg, write_whole};
use crate::errors::{OrRaise, float_refused, input_error, io_error};
use crate::ledger::{PyLedger, PyLoadIssue};
use crate::table::{Table, arrow_stream_arg};
use crate::tariff::PyTariff;

/// One input of a rating: a file, or records already in memory (bytes, or a DataFrame written
/// as CSV).
enum CdrInput {
    Path(PathBuf),
    Bytes(Vec<u8>),
}

/// Rows of a DataFrame converted between two checks for Ctrl-C.
const SIGNAL_EVERY: usize = 1 << 16;

/// The inputs of `cdrs`: a path, bytes, a DataFrame, or a list of paths and bytes.
fn cdr_inputs(py: Python<'_>, cdrs: &Bound<'_, PyAny>) -> PyResult<Vec<CdrInput>> {
    if let Some(one) = single_input(cdrs)? {
        return Ok(vec![one]);
    }
    let module: String = cdrs.get_type().getattr("__module__")?.extract()?;
    let frame_library = matches!(module.split('.').next(), Some("pandas" | "polars"));
    if !frame_library && cdrs.hasattr("__arrow_c_stream__")? {
        return Ok(vec![CdrInput::Bytes(arrow_csv(py, cdrs)?)]);
    }
    if cdrs.hasattr("columns")? && cdrs.hasattr("__getitem__")? {
        return Ok(vec![CdrInput::Bytes(dataframe_csv(py, cdrs)?)]);
    }
    if cdrs.is_instance_of::<PyList>() || cdrs.is_instance_of::<PyTuple>() {
        let mut inputs = Vec::new();
        for item in cdrs.try_iter()? {
            let item = item?;
            match single_input(&item)? {
                Some(input) => inputs.push(input),
                None => return Err(cdrs_type_error(&item)?),
            }
        }
        if inputs.is_empty() {
            return Err(input_error(py, "cdrs: the list of call record files is empty"));
        }
        return Ok(inputs);
    }
    Err(cdrs_type_error(cdrs)?)
}

fn cdrs_type_error(value: &Bound<'_, PyAny>) -> PyResult<PyErr> {
    Ok(PyTypeError::new_err(format!(
        "cdrs: expected a path (str or os.PathLike), bytes, a list of them, or a pandas or polars DataFrame, not {}",
        value.get_type().name()?
    )))
}

/// A path or bytes; `None` for anything else.
fn single_input(value: &Bound<'_, PyAny>) -> PyResult<Option<CdrInput>> {
    if let Ok(bytes) = value.cast::<PyBytes>() {
        return Ok(Some(CdrInput::Bytes(bytes.as_bytes().to_vec())));
    }
    if value.is_instance_of::<PyByteArray>() {
        return Ok(Some(CdrInput::Bytes(value.extract::<Vec<u8>>()?)));
    }
    if value.is_instance_of::<PyString>() || value.hasattr("__fspath__")? {
        return Ok(Some(CdrInput::Path(value.extract::<PathBuf>()?)));
    }
    Ok(None)
}

/// An Arrow table or stream (pyarrow, DuckDB...) as the CSV it holds (see `ArrowCsv`: line `n`
/// of the CSV, as issues name it, is row `n − 1`), made without the GIL.
fn arrow_csv(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let reader = arrow_stream_arg(data, "cdrs")?.into_reader()?;
    py.detach(move || {
        let schema = reader.schema();
        let mut csv = wholesale_billing::ArrowCsv::new(&schema, "call records", reader)?;
        let mut bytes = Vec::new();
        csv.read_to_end(&mut bytes).map_err(|e| wholesale_billing::Error::Io {
            context: "reading the call records' arrow batches".into(),
            source: e,
        })?;
        Ok::<_, wholesale_billing::Error>(bytes)
    })
    .or_raise()
}

/// A DataFrame (pandas or polars) as CSV, every value written as its exact text: text as it
/// is, integers in digits, booleans `true`/`false`, aware datetimes in ISO 8601 with their
/// offset, `Decimal`s as their digits, missing values (`None`, `NaN`, `NaT`, `NA`) empty. A float
/// that is a number is refused: a duration or an amount must not pass through binary floating
/// point. Column names are passed on as they are; the core matches them (SPEC §7.7).
fn dataframe_csv(py: Python<'_>, frame: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let names: Vec<String> = frame
        .getattr("columns")?
        .try_iter()?
        .map(|c| c.and_then(|c| c.str().map(|s| s.to_string())))
        .collect::<PyResult<_>>()?;
    let columns: Vec<Bound<'_, PyList>> = names
        .iter()
        .map(|name| {
            let series = frame.get_item(name)?;
            let values = series.call_method0("to_list")?;
            Ok(values.cast_into::<PyList>()?)
        })
        .collect::<PyResult<_>>()?;
    let rows = columns.first().map_or(0, |c| c.len());
    let mut out = csv::Writer::from_writer(Vec::with_capacity(rows * 64 + 256));
    let csv_error = |e: csv::Error| input_error(py, format!("cdrs: the DataFrame could not be written as CSV: {e}"));
    out.write_record(&names).map_err(csv_error)?;
    let decimal = decimal_type(py)?;
    let mut record: Vec<String> = Vec::with_capacity(names.len());
    for row in 0..rows {
        if row % SIGNAL_EVERY == SIGNAL_EVERY - 1 {
            py.check_signals()?;
        }
        record.clear();
        for (name, column) in names.iter().zip(&columns) {
            let value = column.get_item(row)?;
            record.push(cell_text(&value, decimal, name, row)?);
        }
        out.write_record(&record).map_err(csv_error)?;
    }
    out.into_inner().map_err(|e| {
        input_error(
            py,
            format!("cdrs: the DataFrame could not be written as CSV: {}", e.error()),
        )
    })
}

/// The exact text of one DataFrame value (see [`dataframe_csv`]).
fn cell_text(
    value: &Bound<'_, PyAny>,
    decimal: &Bound<'_, pyo3::types::PyType>,
    column: &str,
    row: usize,
) -> PyResult<String> {
    let py = value.py();
    if value.is_none() {
        return Ok(String::new());
    }
    if let Ok(text) = value.cast::<PyString>() {
        return Ok(text.to_cow()?.into_owned());
    }
    if value.is_instance_of::<PyBool>() {
        return Ok(if value.is_truthy()? { "true" } else { "false" }.to_owned());
    }
    if value.is_instance_of::<PyInt>() || value.is_instance(decimal)? {
        return Ok(value.str()?.to_cow()?.into_owned());
    }
    if let Ok(float) = value.cast::<PyFloat>() {
        if float.value().is_nan() {
            return Ok(String::new());
        }
        return Err(float_refused(&format!(
            "cdrs: column {column:?}, row {row}: {}",
            value.repr()?
        )));
    }
    if value.is_instance_of::<PyDateTime>() {
        if value.getattr("tzinfo")?.is_none() {
            return Err(input_error(
                py,
                format!("cdrs: column {column:?}, row {row}: a naive datetime; give it a time zone (UTC)"),
            ));
        }
        return Ok(value.call_method0("isoformat")?.str()?.to_cow()?.into_owned());
    }
    let type_name = value.get_type().name()?.to_cow()?.into_owned();
    // pandas's missing values of datetime and nullable columns.
    if type_name == "NaTType" || type_name == "NAType" {
        return Ok(String::new());
    }
    if value.hasattr("__index__")? {
        return Ok(value.call_method0("__index__")?.str()?.to_cow()?.into_owned());
    }
    Err(PyTypeError::new_err(format!(
        "cdrs: column {column:?}, row {row}: expected text, an integer, a bool, a Decimal or an aware datetime, not {type_name}"
    )))
}

/// What a rating run failed with, on its way out of the GIL-free part.
enum Failure {
    /// A call record file could not be opened.
    Open(PathBuf, std::io::Error),
    /// The spill file could not be created.
    Spill(PathBuf, std::io::Error),
    /// The rated-records file could not be written.
    Output(PathBuf, std::io::Error),
    /// The engine refused.
    Core(wb::Error),
}

impl From<wb::Error> for Failure {
    fn from(e: wb::Error) -> Self {
        Failure::Core(e)
    }
}

/// The rating's settings, owned, to cross into the GIL-free part.
struct Job {
    tariff: Arc<Tariff>,
    ledger: Option<Arc<AssignmentLedger>>,
    period: wb::Period,
    hour_policy: wb::HourPolicy,
    mode: LoadMode,
    inputs: Vec<CdrInput>,
    rated_out: Option<PathBuf>,
}

/// What a run gives back: the read's diagnostics, the result, and the rated CSV when kept.
type Done = (CdrDiagnostics, RatingResult, Option<Vec<u8>>);

impl Job {
    fn run(&self) -> Result<Done, Failure> {
        let rating = Rating::new(&self.tariff, self.period)
            .hour_policy(self.hour_policy)
            .mode(self.mode);
        let rating = match &self.ledger {
            Some(ledger) => rating.customers(ledger),
            None => rating,
        };
        match &self.rated_out {
            // A large month: the spill in a temporary file beside the output.
            Some(path) => {
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                let spill = tempfile::tempfile_in(dir).map_err(|e| Failure::Spill(dir.to_owned(), e))?;
                self.rate(rating.spill(spill))
            }
            None => self.rate(rating),
        }
    }

    fn rate<S: SpillStorage>(&self, rating: Rating<'_, S>) -> Result<Done, Failure> {
        let mut run = rating.start()?;
        let mut files = Vec::new();
        for input in &self.inputs {
            if let CdrInput::Path(path) = input {
                let file = std::fs::File::open(path).map_err(|e| Failure::Open(path.clone(), e))?;
                files.push(std::io::BufReader::with_capacity(1 << 20, file));
            }
        }
        let mut files = files.into_iter();
        let readers: Vec<Box<dyn Read + '_>> = self
            .inputs
            .iter()
            .map(|input| -> Box<dyn Read + '_> {
                match input {
                    CdrInput::Path(_) => match files.next() {
                        Some(file) => Box::new(file),
                        None => Box::new(std::io::empty()),
                    },
                    CdrInput::Bytes(bytes) => Box::new(bytes.as_slice()),
                }
            })
            .collect();
        let options = CdrReadOptions {
            mode: self.mode,
            ..CdrReadOptions::default()
        };
        let read = run.read(readers, &options)?;
        match &self.rated_out {
            Some(path) => {
                let mut failure = None;
                let mut result = None;
                write_whole(path, |out| match run.finish(out) {
                    Ok(r) => {
                        result = Some(r);
                        Ok(())
                    }
                    Err(e) => {
                        failure = Some(e);
                        Err(std::io::Error::other("the rated records could not be written"))
                    }
                })
                .map_err(|e| match failure.take() {
                    Some(core) => Failure::Core(core),
                    None => Failure::Output(path.clone(), e),
                })?;
                match result {
                    Some(result) => Ok((read, result, None)),
                    None => Err(Failure::Output(
                        path.clone(),
                        std::io::Error::other("the rating gave no result"),
                    )),
                }
            }
            None => {
                let mut rated = Vec::new();
                let result = run.finish(&mut rated)?;
                Ok((read, result, Some(rated)))
            }
        }
    }
}

/// Rates call records at a tariff (SPEC §7) and returns a ``RatingResult``.
///
/// ``cdrs``: a path (``str`` or ``os.PathLike``) of a "Detailed Call History" CSV or a CDR feed
/// JSON (``{"items": [...]}``), told apart by content; the ``bytes`` of one; a list of them, read
/// as one input (a record in two files is rated once); or a pandas or polars DataFrame with the
/// call record columns, named as in the CSV or the JSON (case, spaces and underscores ignored),
/// its values given as text, integers, bools, ``Decimal`` or aware datetimes (a float is refused);
/// its row at position ``i`` is line ``i + 2`` in issues. ``start``/``end``: the period
/// (``Period``, ``"2024-05"``, or two dates, inclusive). ``ledger``: the events that name the
/// customers, their owners and the allowance pools (without it every organisation is a customer
/// and no allowance applies). ``hour_policy`` sizes the pools. ``lenient``: bad records, unknown
/// customers and numbers with no destination are reported in ``issues`` instead of raising.
/// ``rated_out``: write the rated records there as CSV (whole or not at all; then ``rated`` is
/// ``None``), for a month too large to hold as a DataFrame. Rated without the GIL.
#[pyfunction]
#[pyo3(
    signature = (cdrs, tariff, start, end = None, *, ledger = None, hour_policy = "started".to_owned(), lenient = false, rated_out = None),
    text_signature = "(cdrs, tariff, start, end=None, *, ledger=None, hour_policy='started', lenient=False, rated_out=None)"
)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn rate(
    py: Python<'_>,
    cdrs: &Bound<'_, PyAny>,
    tariff: PyRef<'_, PyTariff>,
    start: &Bound<'_, PyAny>,
    end: Option<&Bound<'_, PyAny>>,
    ledger: Option<PyRef<'_, PyLedger>>,
    hour_policy: String,
    lenient: bool,
    rated_out: Option<PathBuf>,
) -> PyResult<PyRatingResult> {
    let job = Job {
        tariff: Arc::clone(&tariff.tariff),
        ledger: ledger.map(|l| Arc::clone(l.assignment_ledger())),
        period: period_arg(start, end)?,
        hour_policy: hour_policy_arg(&hour_policy)?,
        mode: if lenient { LoadMode::Lenient } else { LoadMode::Strict },
        inputs: cdr_inputs(py, cdrs)?,
        rated_out,
    };
    let (read, result, rated) = py.detach(|| job.run()).map_err(|failure| match failure {
        Failure::Open(path, e) => {
            let name = path.display().to_string();
            io_error(py, &format!("opening the call records {name}"), &e, Some(&name))
        }
        Failure::Spill(dir, e) => {
            let name = dir.display().to_string();
            io_error(
                py,
                &format!("creating the rating's temporary file in {name}"),
                &e,
                Some(&name),
            )
        }
        Failure::Output(path, e) => {
            let name = path.display().to_string();
            io_error(py, &format!("writing the rated records {name}"), &e, Some(&name))
        }
        Failure::Core(e) => PyErr::from(crate::errors::BindingError::from(e)),
    })?;
    let mut issues = read.issues.clone();
    issues.extend(result.issues.iter().cloned());
    Ok(PyRatingResult {
        summary: result.summary.rows().to_vec(),
        counts: result.counts,
        read,
        issues,
        rated,
        currency: job.tariff.currency().code().to_owned(),
    })
}

/// What ``rate()`` gives: the summary and the rated records as pandas DataFrames (money and
/// minutes as ``decimal.Decimal``), the counts and the issues.
#[pyclass(name = "RatingResult", module = "wholesale_billing", frozen)]
pub(crate) struct PyRatingResult {
    summary: Vec<SummaryRow>,
    counts: RatingCounts,
    read: CdrDiagnostics,
    issues: Vec<LoadIssue>,
    rated: Option<Vec<u8>>,
    currency: String,
}

impl PyRatingResult {
    fn summary_table<'py>(&self, py: Python<'py>) -> Table<'py> {
        let rows = &self.summary;
        let mut table = Table::new(py);
        for column in SummaryColumn::ALL {
            let name = column.as_str();
            match column {
                SummaryColumn::CustomerOrgId => table.text(name, rows.iter().map(|r| r.customer_org_id.as_str())),
                SummaryColumn::Destination => table.text(name, rows.iter().map(|r| r.destination.as_str())),
                SummaryColumn::Calls => table.ints(name, rows.iter().map(|r| i64::try_from(r.calls).ok())),
                SummaryColumn::BillableMinutes => table.decimals(name, rows.iter().map(|r| Some(r.billable_minutes))),
                SummaryColumn::CoveredMinutes => table.decimals(name, rows.iter().map(|r| Some(r.covered_minutes))),
                SummaryColumn::Amount => table.decimals(name, rows.iter().map(|r| Some(r.amount))),
                SummaryColumn::Currency => table.text(name, rows.iter().map(|r| r.currency.code())),
            }
        }
        table
    }

    /// The rated records CSV (written by the core) as a table with typed columns.
    fn rated_table<'py>(py: Python<'py>, csv_bytes: &[u8]) -> PyResult<Table<'py>> {
        let bad = |what: String| input_error(py, format!("the rated records could not be read back: {what}"));
        let mut reader = csv::Reader::from_reader(csv_bytes);
        let header = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
        let names: Vec<&str> = RatedColumn::ALL.iter().map(|c| c.as_str()).collect();
        if header.iter().collect::<Vec<_>>() != names {
            return Err(bad(format!(
                "unexpected header {:?}",
                header.iter().collect::<Vec<_>>()
            )));
        }
        let mut cells: Vec<Vec<String>> = vec![Vec::new(); names.len()];
        for record in reader.records() {
            let record = record.map_err(|e| bad(e.to_string()))?;
            for (column, value) in cells.iter_mut().zip(record.iter()) {
                column.push(value.to_owned());
            }
        }
        let mut table = Table::new(py);
        for (column, values) in RatedColumn::ALL.iter().zip(&cells) {
            let name = column.as_str();
            match column {
                RatedColumn::Duration | RatedColumn::BillableSeconds | RatedColumn::CoveredSeconds => {
                    let ints = values
                        .iter()
                        .map(|v| {
                            v.parse::<i64>()
                                .map(Some)
                                .map_err(|_| bad(format!("{name} {v:?} is not a whole number")))
                        })
                        .collect::<PyResult<Vec<_>>>()?;
                    table.ints(name, ints.into_iter());
                }
                RatedColumn::Charge => {
                    let decimals = values
                        .iter()
                        .map(|v| {
                            Decimal::from_str_exact(v)
                                .map(Some)
                                .map_err(|_| bad(format!("{name} {v:?} is not a decimal")))
                        })
                        .collect::<PyResult<Vec<_>>>()?;
                    table.decimals(name, decimals.into_iter());
                }
                _ => table.text(name, values.iter().map(String::as_str)),
            }
        }
        Ok(table)
    }
}

#[pymethods]
impl PyRatingResult {
    /// The summary per customer and destination (SPEC §7.6), a pandas DataFrame with the columns
    /// ``CUSTOMER_ORG_ID, DESTINATION, CALLS, BILLABLE_MINUTES, COVERED_MINUTES, AMOUNT,
    /// CURRENCY``; minutes and amounts as ``decimal.Decimal`` (needs pandas).
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.summary_table(py).to_pandas("RatingResult.summary")
    }

    /// The summary as a list of dicts keyed by its column names (no pandas needed).
    fn summary_dicts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.summary_table(py).to_dicts()
    }

    /// The rated records, one row per distinct record of the period in input order, a pandas
    /// DataFrame with the columns of the rated-records CSV (``REPORT_ID`` … ``CURRENCY``):
    /// ``DURATION``, ``BILLABLE_SECONDS`` and ``COVERED_SECONDS`` as integers, ``CHARGE`` as
    /// ``decimal.Decimal``, ``START_TIME`` as the CSV's exact UTC text (nanoseconds kept), the
    /// rest as text (empty where the CSV is). ``None`` when they were written to ``rated_out``.
    #[getter]
    fn rated<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match &self.rated {
            Some(bytes) => Self::rated_table(py, bytes)?.to_pandas("RatingResult.rated").map(Some),
            None => Ok(None),
        }
    }

    /// The counts: one entry per status (``"charged"``, ``"not_answered"``, …), and ``rows``
    /// (rated records), ``records_read``, ``duplicates`` (identical re-deliveries skipped),
    /// ``rejected``, ``outside_period`` and ``covered_calls`` (calls an allowance covered, wholly
    /// or partly).
    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let counts = PyDict::new(py);
        for (status, n) in self.counts.by_status() {
            counts.set_item(status.as_str(), n)?;
        }
        counts.set_item("rows", self.counts.rows)?;
        counts.set_item("records_read", self.read.records_read)?;
        counts.set_item("duplicates", self.read.duplicates_skipped)?;
        counts.set_item("rejected", self.read.records_rejected)?;
        counts.set_item("outside_period", self.counts.outside_period)?;
        counts.set_item("covered_calls", self.counts.covered_calls)?;
        Ok(counts)
    }

    /// Every issue of the run, located (``line`` and ``column``, or the JSON path in ``field``;
    /// ``input`` the index of the file among several): in lenient mode the rejected records, the
    /// unknown customers and the numbers with no destination (errors), and in any mode the
    /// skipped duplicates and the records outside the period (warnings). At most 1000 of each
    /// severity per phase; the counts cover them all.
    #[getter]
    fn issues(&self) -> Vec<PyLoadIssue> {
        self.issues.iter().cloned().map(PyLoadIssue::from).collect()
    }

    /// The tariff's currency.
    #[getter]
    fn currency(&self) -> &str {
        &self.currency
    }

    /// Σ ``AMOUNT`` of the summary, a ``decimal.Decimal``.
    #[getter]
    fn total<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let total = self
            .summary
            .iter()
            .try_fold(Decimal::ZERO, |sum, row| sum.checked_add(row.amount))
            .ok_or(wb::Error::Overflow {
                operation: "Σ AMOUNT",
                subject: "the rating summary".into(),
            })
            .or_raise()?;
        crate::convert::py_decimal(py, total)
    }

    fn __repr__(&self) -> String {
        format!(
            "RatingResult(rows={}, summary_rows={}, issues={}, currency={:?})",
            self.counts.rows,
            self.summary.len(),
            self.issues.len(),
            self.currency
        )
    }
}
