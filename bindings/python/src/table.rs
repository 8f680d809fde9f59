//! Tables built column by column: as a list of dicts, a pandas or a polars `DataFrame` (those
//! libraries are imported only when asked for).
//!
//! Decimal and instant columns stay typed until the end, so that a data frame gets them without a
//! Python object per cell where the library can avoid it: polars gets exact decimal text cast to
//! `Decimal` and integer microseconds made UTC `Datetime`; pandas gets `decimal.Decimal` objects
//! (it has no exact decimal type of its own) and `datetime64[us, UTC]` from microseconds.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use wholesale_billing::{Decimal, Timestamp};

use crate::convert::{optional_import, py_decimal, py_timestamp};

/// The values of one column.
enum ColumnData<'py> {
    /// Python values (text, integers, `None`, objects).
    Values(Vec<Bound<'py, PyAny>>),
    /// Exact numbers.
    Decimals(Vec<Option<Decimal>>),
    /// Instants, in microseconds since the epoch (UTC).
    Instants(Vec<Option<i64>>),
}

/// Named columns of equal length.
pub(crate) struct Table<'py> {
    py: Python<'py>,
    names: Vec<&'static str>,
    columns: Vec<ColumnData<'py>>,
}

/// Python strings of a column of text, reusing the object of a value repeated from the row
/// before (rows in report order repeat partner, customer and SKU texts).
pub(crate) fn strings<'py, 'a>(py: Python<'py>, values: impl Iterator<Item = &'a str>) -> Vec<Bound<'py, PyAny>> {
    let mut last: Option<(&'a str, Bound<'py, PyAny>)> = None;
    let mut out = Vec::with_capacity(values.size_hint().0);
    for value in values {
        let object = match &last {
            Some((text, object)) if *text == value => object.clone(),
            _ => {
                let object = PyString::new(py, value).into_any();
                last = Some((value, object.clone()));
                object
            }
        };
        out.push(object);
    }
    out
}

/// Whether a column holds integers and `None`s, with at least one of each (bools are not integers).
fn nullable_ints(values: &[Bound<'_, PyAny>]) -> bool {
    let (mut ints, mut nones) = (false, false);
    for v in values {
        if v.is_none() {
            nones = true;
        } else if v.is_instance_of::<pyo3::types::PyInt>() && !v.is_instance_of::<pyo3::types::PyBool>() {
            ints = true;
        } else {
            return false;
        }
    }
    ints && nones
}

impl<'py> Table<'py> {
    /// A table without columns.
    pub(crate) fn new(py: Python<'py>) -> Self {
        Table {
            py,
            names: Vec::new(),
            columns: Vec::new(),
        }
    }

    /// Adds a column of Python values.
    pub(crate) fn values(&mut self, name: &'static str, values: Vec<Bound<'py, PyAny>>) {
        self.names.push(name);
        self.columns.push(ColumnData::Values(values));
    }

    /// Adds a column of text.
    pub(crate) fn text<'a>(&mut self, name: &'static str, values: impl Iterator<Item = &'a str>) {
        let column = strings(self.py, values);
        self.values(name, column);
    }

    /// Adds a column of optional text (`None` for a missing value).
    pub(crate) fn opt_text<'a>(&mut self, name: &'static str, values: impl Iterator<Item = Option<&'a str>>) {
        let py = self.py;
        let column = values
            .map(|v| match v {
                Some(text) => PyString::new(py, text).into_any(),
                None => py.None().into_bound(py),
            })
            .collect();
        self.values(name, column);
    }

    /// Adds a column of exact numbers (`None` for a missing value).
    pub(crate) fn decimals(&mut self, name: &'static str, values: impl Iterator<Item = Option<Decimal>>) {
        self.names.push(name);
        self.columns.push(ColumnData::Decimals(values.collect()));
    }

    /// Adds a column of instants (`None` for a missing value).
    pub(crate) fn instants(&mut self, name: &'static str, values: impl Iterator<Item = Option<Timestamp>>) {
        self.names.push(name);
        self.columns.push(ColumnData::Instants(
            values.map(|t| t.map(Timestamp::as_micros)).collect(),
        ));
    }

    fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| match c {
            ColumnData::Values(v) => v.len(),
            ColumnData::Decimals(v) => v.len(),
            ColumnData::Instants(v) => v.len(),
        })
    }

    /// The Python objects of a column (`decimal.Decimal`, aware `datetime`), a repeated value
    /// sharing one object.
    fn objects(&self, column: &ColumnData<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let py = self.py;
        let none = || py.None().into_bound(py);
        match column {
            ColumnData::Values(values) => Ok(values.clone()),
            ColumnData::Decimals(values) => {
                let mut last: Option<(Decimal, Bound<'py, PyAny>)> = None;
                values
                    .iter()
                    .map(|v| match v {
                        None => Ok(none()),
                        Some(d) => match &last {
                            Some((prev, object)) if prev == d && prev.scale() == d.scale() => Ok(object.clone()),
                            _ => {
                                let object = py_decimal(py, *d)?;
                                last = Some((*d, object.clone()));
                                Ok(object)
                            }
                        },
                    })
                    .collect()
            }
            ColumnData::Instants(values) => {
                let mut last: Option<(i64, Bound<'py, PyAny>)> = None;
                values
                    .iter()
                    .map(|v| match v {
                        None => Ok(none()),
                        Some(micros) => match &last {
                            Some((prev, object)) if prev == micros => Ok(object.clone()),
                            _ => {
                                let object = py_timestamp(py, Timestamp::from_micros(*micros))?;
                                last = Some((*micros, object.clone()));
                                Ok(object)
                            }
                        },
                    })
                    .collect()
            }
        }
    }

    /// One dict per row, keys in column order.
    pub(crate) fn to_dicts(&self) -> PyResult<Bound<'py, PyList>> {
        let columns = self
            .columns
            .iter()
            .map(|c| self.objects(c))
            .collect::<PyResult<Vec<_>>>()?;
        let names: Vec<Bound<'py, PyString>> = self.names.iter().map(|n| PyString::new(self.py, n)).collect();
        let rows = (0..self.rows())
            .map(|r| {
                let dict = PyDict::new(self.py);
                for (name, column) in names.iter().zip(&columns) {
                    dict.set_item(name, &column[r])?;
                }
                Ok(dict)
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(self.py, rows)
    }

    /// A pandas `DataFrame`: decimals as `decimal.Decimal` objects, instants as
    /// `datetime64[us, UTC]`.
    pub(crate) fn to_pandas(&self, method: &str) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let pandas = optional_import(py, "pandas", method)?;
        let data = PyDict::new(py);
        for (name, column) in self.names.iter().zip(&self.columns) {
            let value = match column {
                ColumnData::Instants(micros) => {
                    let kwargs = PyDict::new(py);
                    kwargs.set_item("unit", "us")?;
                    kwargs.set_item("utc", true)?;
                    let index = pandas
                        .getattr("to_datetime")?
                        .call((PyList::new(py, micros)?,), Some(&kwargs))?;
                    // Whole-second instants would otherwise come out with a coarser unit.
                    index.call_method1("as_unit", ("us",)).unwrap_or(index)
                }
                ColumnData::Values(values) if nullable_ints(values) => {
                    // Integers with gaps: pandas's nullable Int64, not float64 with NaN.
                    let kwargs = PyDict::new(py);
                    kwargs.set_item("dtype", "Int64")?;
                    pandas
                        .getattr("array")?
                        .call((PyList::new(py, values)?,), Some(&kwargs))?
                }
                other => PyList::new(py, self.objects(other)?)?.into_any(),
            };
            data.set_item(name, value)?;
        }
        let kwargs = PyDict::new(py);
        kwargs.set_item("columns", PyList::new(py, &self.names)?)?;
        pandas.getattr("DataFrame")?.call((data,), Some(&kwargs))
    }

    /// A polars `DataFrame`: decimals as `Decimal` columns (the scale of the most precise value),
    /// instants as `Datetime("us", "UTC")`.
    pub(crate) fn to_polars(&self, method: &str) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let polars = optional_import(py, "polars", method)?;
        let series_type = polars.getattr("Series")?;
        let mut series = Vec::with_capacity(self.columns.len());
        for (name, column) in self.names.iter().zip(&self.columns) {
            let s = match column {
                ColumnData::Values(values) => series_type.call1((name, PyList::new(py, values)?))?,
                ColumnData::Decimals(values) => {
                    let scale = values.iter().flatten().map(Decimal::scale).max().unwrap_or(0);
                    let texts: Vec<Option<String>> = values.iter().map(|v| v.map(|d| d.to_string())).collect();
                    let dtype = polars.getattr("Decimal")?.call1((38, scale))?;
                    series_type
                        .call1((name, PyList::new(py, texts)?))?
                        .call_method1("cast", (dtype,))?
                }
                ColumnData::Instants(micros) => {
                    let ints = series_type
                        .call1((name, PyList::new(py, micros)?))?
                        .call_method1("cast", (polars.getattr("Int64")?,))?;
                    let kwargs = PyDict::new(py);
                    kwargs.set_item("time_unit", "us")?;
                    polars
                        .getattr("from_epoch")?
                        .call((ints,), Some(&kwargs))?
                        .getattr("dt")?
                        .call_method1("replace_time_zone", ("UTC",))?
                }
            };
            series.push(s);
        }
        polars.getattr("DataFrame")?.call1((PyList::new(py, series)?,))
    }
}
