//! Event records (mappings) and data frames (pandas or polars) as the events CSV the core reads:
//! the core validates them exactly as a file, and every issue is mapped back to its record.
//!
//! Header names are the record keys (or the frame's columns) as given, so the core finds columns
//! by name as in a file (case-insensitive, aliases, unknown ones ignored). Cell values: `str`;
//! `int`; an aware `datetime` (written as RFC 3339 in UTC; a naive one is written without an
//! offset, which the core reports as a missing offset); `date`; `None`, NaN, `NaT` and `NA` as
//! empty; anything else through `str()`, except a `float` with a value, a `bool` and `bytes`,
//! which are refused with a `TypeError`.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDate, PyDateTime, PyDict, PyFloat, PyInt, PyList, PySlice, PyString};
use wholesale_billing::LoadIssue;

use crate::convert::aware_instant;

/// A CSV made from records, and where each record starts in it.
pub(crate) struct CsvInput {
    /// The CSV, header first.
    pub(crate) bytes: Vec<u8>,
    /// The physical line (1-based) on which each record starts.
    record_starts: Vec<u64>,
    /// Whether column numbers mean something to the caller (a frame's column positions).
    keep_columns: bool,
    /// How the source is named in errors.
    pub(crate) source_name: &'static str,
}

impl CsvInput {
    /// The same issue, located by record: `line` is the 1-based record (row) number, 0 for the
    /// columns themselves; `column` is kept for a frame (its 1-based column position), dropped
    /// for mappings.
    pub(crate) fn remap(&self, mut issue: LoadIssue) -> LoadIssue {
        issue.line = match self.record_starts.binary_search(&issue.line) {
            Ok(i) => i as u64 + 1,
            Err(i) => i as u64,
        };
        if !self.keep_columns {
            issue.column = None;
        }
        issue
    }
}

/// Writes CSV fields, counting physical lines.
struct CsvBuilder {
    out: Vec<u8>,
    line: u64,
    starts: Vec<u64>,
    first_in_record: bool,
}

impl CsvBuilder {
    fn new(capacity: usize) -> Self {
        CsvBuilder {
            out: Vec::with_capacity(capacity),
            line: 1,
            starts: Vec::new(),
            first_in_record: true,
        }
    }

    fn field(&mut self, text: &str) {
        if !self.first_in_record {
            self.out.push(b',');
        }
        self.first_in_record = false;
        if text.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
            self.out.push(b'"');
            for b in text.bytes() {
                if b == b'"' {
                    self.out.push(b'"');
                }
                if b == b'\n' {
                    self.line += 1;
                }
                self.out.push(b);
            }
            self.out.push(b'"');
        } else {
            self.out.extend_from_slice(text.as_bytes());
        }
    }

    fn start_record(&mut self) {
        self.starts.push(self.line);
    }

    fn end_record(&mut self) {
        self.out.push(b'\n');
        self.line += 1;
        self.first_in_record = true;
    }

    fn finish(self, keep_columns: bool, source_name: &'static str) -> CsvInput {
        CsvInput {
            bytes: self.out,
            record_starts: self.starts,
            keep_columns,
            source_name,
        }
    }
}

fn is_missing_marker(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    let name = value.get_type().name()?;
    let name = name.to_cow()?;
    Ok(name == "NaTType" || name == "NAType")
}

/// The CSV text of one value.
fn cell_text(value: &Bound<'_, PyAny>, out: &mut String, record: usize, column: &str) -> PyResult<()> {
    out.clear();
    let refuse = |what: &str| {
        PyTypeError::new_err(format!(
            "record {record}, {column:?}: {what} is not accepted in an event; give text (str), an int or a datetime"
        ))
    };
    if value.is_none() {
        return Ok(());
    }
    if let Ok(text) = value.cast::<PyString>() {
        out.push_str(&text.to_cow()?);
        return Ok(());
    }
    if value.is_instance_of::<PyBool>() {
        return Err(refuse("a bool"));
    }
    if value.is_instance_of::<PyInt>() {
        out.push_str(&value.str()?.to_cow()?);
        return Ok(());
    }
    if value.is_instance_of::<PyFloat>() {
        let f: f64 = value.extract()?;
        if f.is_nan() {
            return Ok(());
        }
        return Err(refuse("a float"));
    }
    if let Ok(dt) = value.cast::<PyDateTime>() {
        if is_missing_marker(value)? {
            return Ok(());
        }
        match aware_instant(dt)? {
            Some(t) => out.push_str(&t.to_string()),
            None => out.push_str(&dt.call_method0("isoformat")?.str()?.to_cow()?),
        }
        return Ok(());
    }
    if value.is_instance_of::<PyDate>() {
        out.push_str(&value.call_method0("isoformat")?.str()?.to_cow()?);
        return Ok(());
    }
    if value.is_instance_of::<PyBytes>() {
        return Err(refuse("bytes"));
    }
    if is_missing_marker(value)? {
        return Ok(());
    }
    out.push_str(&value.str()?.to_cow()?);
    Ok(())
}

/// A column name as the core compares them: lower-case words joined by `_` (`"Event ID"` and
/// `"event_id"` are one column).
fn normalized(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending = false;
    for c in name.trim_start_matches('\u{feff}').chars() {
        if c.is_alphanumeric() {
            if pending && !out.is_empty() {
                out.push('_');
            }
            pending = false;
            out.extend(c.to_lowercase());
        } else {
            pending = true;
        }
    }
    out
}

/// The events CSV of an iterable of mappings (keys are column names; spellings that name the
/// same column, like `"Event_ID"` and `"event_id"`, are one column).
pub(crate) fn records_to_csv(records: &Bound<'_, PyAny>) -> PyResult<CsvInput> {
    let py = records.py();
    let mut header: Vec<String> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut rows: Vec<Vec<Option<Bound<'_, PyAny>>>> = Vec::new();
    for (n, item) in records.try_iter()?.enumerate() {
        let item = item?;
        let dict = match item.cast_into::<PyDict>() {
            Ok(d) => d,
            Err(e) => {
                let item = e.into_inner();
                if !item.hasattr("keys")? {
                    return Err(PyTypeError::new_err(format!(
                        "record {}: expected a mapping of column name to value, not {}",
                        n + 1,
                        item.get_type().name()?
                    )));
                }
                py.get_type::<PyDict>().call1((item,))?.cast_into::<PyDict>()?
            }
        };
        let mut row: Vec<Option<Bound<'_, PyAny>>> = Vec::with_capacity(header.len());
        for (key, value) in dict.iter() {
            let key = key
                .cast_into::<PyString>()
                .map_err(|_| PyTypeError::new_err(format!("record {}: keys must be column names (str)", n + 1)))?;
            let name = key.to_cow()?;
            let i = *index.entry(normalized(&name)).or_insert_with(|| {
                header.push(name.clone().into_owned());
                header.len() - 1
            });
            if row.len() <= i {
                row.resize_with(i + 1, || None);
            }
            if row[i].is_none() {
                row[i] = Some(value);
            }
        }
        rows.push(row);
    }
    let mut csv = CsvBuilder::new(rows.len() * 128 + 256);
    for name in &header {
        csv.field(name);
    }
    csv.end_record();
    let mut text = String::new();
    for (n, row) in rows.iter().enumerate() {
        csv.start_record();
        for (i, name) in header.iter().enumerate() {
            match row.get(i).and_then(Option::as_ref) {
                Some(value) => cell_text(value, &mut text, n + 1, name)?,
                None => text.clear(),
            }
            csv.field(&text);
        }
        csv.end_record();
    }
    Ok(csv.finish(false, "event records"))
}

/// The events CSV of a pandas or polars data frame (detected by the class's module; neither
/// library is imported here).
pub(crate) fn dataframe_to_csv(frame: &Bound<'_, PyAny>) -> PyResult<CsvInput> {
    let py = frame.py();
    let module: String = frame.get_type().getattr("__module__")?.extract()?;
    let root = module.split('.').next().unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    let mut columns: Vec<Bound<'_, PyList>> = Vec::new();
    match root {
        "pandas" => {
            let iloc = frame.getattr("iloc")?;
            for (i, name) in frame.getattr("columns")?.try_iter()?.enumerate() {
                names.push(name?.str()?.to_cow()?.into_owned());
                let series = iloc.get_item((PySlice::full(py), i))?;
                columns.push(series.call_method0("tolist")?.cast_into::<PyList>()?);
            }
        }
        "polars" => {
            for (i, name) in frame.getattr("columns")?.try_iter()?.enumerate() {
                names.push(name?.str()?.to_cow()?.into_owned());
                let series = frame.call_method1("to_series", (i,))?;
                columns.push(series.call_method0("to_list")?.cast_into::<PyList>()?);
            }
        }
        _ => {
            return Err(PyTypeError::new_err(format!(
                "expected a pandas or a polars DataFrame, not {module}.{}",
                frame.get_type().name()?
            )));
        }
    }
    let rows = columns.first().map_or(0, |c| c.len());
    let mut csv = CsvBuilder::new(rows * 128 + 256);
    for name in &names {
        csv.field(name);
    }
    csv.end_record();
    let mut text = String::new();
    for r in 0..rows {
        csv.start_record();
        for (column, name) in columns.iter().zip(&names) {
            cell_text(&column.get_item(r)?, &mut text, r + 1, name)?;
            csv.field(&text);
        }
        csv.end_record();
    }
    Ok(csv.finish(true, "events data frame"))
}
