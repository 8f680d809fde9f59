//! Event records (mappings) and data frames (pandas or polars) as rows of text cells under a
//! header, fed straight to the core's records loader (`LedgerBuilder::records`): the core
//! validates them exactly as the rows of an events file and locates every issue by record (row)
//! number and column.
//!
//! Header names are the record keys (or the frame's columns) as given, so the core finds columns
//! by name as in a file (case-insensitive, aliases, unknown ones ignored). Cell values: `str`;
//! `int`; an aware `datetime` (written as RFC 3339 in UTC; a naive one is written without an
//! offset, which the core reports as a missing offset); `date`; `None`, NaN, `NaT` and `NA` as
//! empty; anything else through `str()`, except a `float` with a value, a `bool` and `bytes`,
//! which are refused with a `TypeError`.

use std::collections::HashMap;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDate, PyDateTime, PyDict, PyFloat, PyInt, PyList, PySlice, PyString};
use wholesale_billing::{self as wb, AssignmentLedger, Diagnostics, LedgerBuilder, LoadIssue, LoadMode, Organisation};

use crate::convert::aware_instant;

/// Events as text: a header and rows of cells, every cell's text in one buffer.
pub(crate) struct EventTable {
    /// The column names, as given.
    header: Vec<String>,
    /// The text of every cell, row after row, each row's cells in header order.
    text: String,
    /// Where each cell ends in `text`, `header.len()` cells a row.
    ends: Vec<usize>,
    /// Whether column numbers mean something to the caller (a frame's column positions).
    keep_columns: bool,
    /// How the source is named in errors.
    source_name: &'static str,
}

impl EventTable {
    fn new(header: Vec<String>, rows: usize, keep_columns: bool, source_name: &'static str) -> Self {
        let cells = rows.saturating_mul(header.len());
        EventTable {
            text: String::with_capacity(cells.saturating_mul(12)),
            ends: Vec::with_capacity(cells),
            header,
            keep_columns,
            source_name,
        }
    }

    /// Appends one cell (cells come row after row, in header order).
    fn push_cell(&mut self, value: Option<&Bound<'_, PyAny>>, record: usize, column: usize) -> PyResult<()> {
        if let Some(value) = value {
            let name = self.header.get(column).map_or("", String::as_str);
            cell_text(value, &mut self.text, record, name)?;
        }
        self.ends.push(self.text.len());
        Ok(())
    }

    /// Validates and compiles the events (no Python object is touched: run it without the GIL).
    /// Issues are located by record: `line` is the 1-based record (row) number, 0 for the
    /// columns themselves; `column` is kept for a frame (its 1-based column position), dropped
    /// for mappings. Errors name the source.
    pub(crate) fn load(&self, org: Organisation, mode: LoadMode) -> wb::Result<(AssignmentLedger, Diagnostics)> {
        let locate = |mut issue: LoadIssue| {
            if !self.keep_columns {
                issue.column = None;
            }
            issue
        };
        let result = self.load_located(org, mode).map(|(ledger, mut diagnostics)| {
            diagnostics.issues = diagnostics.issues.into_iter().map(locate).collect();
            (ledger, diagnostics)
        });
        result.map_err(|e| match e {
            wb::Error::Rejected { issues, .. } => wb::Error::Rejected {
                source_name: self.source_name,
                issues: issues.into_iter().map(locate).collect(),
            },
            e => e,
        })
    }

    fn load_located(&self, org: Organisation, mode: LoadMode) -> wb::Result<(AssignmentLedger, Diagnostics)> {
        let width = self.header.len().max(1);
        let mut builder = LedgerBuilder::new(org);
        builder.reserve(self.ends.len() / width);
        let mut records = builder.records(&self.header)?;
        let mut cells: Vec<&str> = Vec::with_capacity(width);
        let mut start = 0;
        for row in self.ends.chunks(width) {
            cells.clear();
            for &end in row {
                cells.push(self.text.get(start..end).unwrap_or_default());
                start = end;
            }
            records.push(&cells);
        }
        builder.finish(mode)
    }
}

fn is_missing_marker(value: &Bound<'_, PyAny>) -> PyResult<bool> {
    let name = value.get_type().name()?;
    let name = name.to_cow()?;
    Ok(name == "NaTType" || name == "NAType")
}

/// Appends the text of one value.
fn cell_text(value: &Bound<'_, PyAny>, out: &mut String, record: usize, column: &str) -> PyResult<()> {
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

/// The events of an iterable of mappings (keys are column names; spellings that name the same
/// column, like `"Event_ID"` and `"event_id"`, are one column).
pub(crate) fn records_table(records: &Bound<'_, PyAny>) -> PyResult<EventTable> {
    let py = records.py();
    let mut header: Vec<String> = Vec::new();
    // Columns by normalised name, and by key as given (records repeat the same keys: each
    // spelling is normalised once).
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
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
            let i = match by_key.get(&*name) {
                Some(&i) => i,
                None => {
                    let i = *by_name.entry(wb::normalize_header(&*name)).or_insert_with(|| {
                        header.push(name.clone().into_owned());
                        header.len() - 1
                    });
                    by_key.insert(name.into_owned(), i);
                    i
                }
            };
            if row.len() <= i {
                row.resize_with(i + 1, || None);
            }
            if row[i].is_none() {
                row[i] = Some(value);
            }
        }
        rows.push(row);
    }
    let mut table = EventTable::new(header, rows.len(), false, "event records");
    let width = table.header.len();
    for (n, row) in rows.iter().enumerate() {
        for i in 0..width {
            table.push_cell(row.get(i).and_then(Option::as_ref), n + 1, i)?;
        }
    }
    Ok(table)
}

/// The events of a pandas or polars data frame (detected by the class's module; neither library
/// is imported here).
pub(crate) fn dataframe_table(frame: &Bound<'_, PyAny>) -> PyResult<EventTable> {
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
    let mut table = EventTable::new(names, rows, true, "events data frame");
    for r in 0..rows {
        for (i, column) in columns.iter().enumerate() {
            table.push_cell(Some(&column.get_item(r)?), r + 1, i)?;
        }
    }
    Ok(table)
}
