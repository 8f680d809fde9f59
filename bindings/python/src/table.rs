//! Tables built column by column, and every table's ways out: a list of dicts, the Arrow
//! PyCapsule interface (`__arrow_c_stream__`), a pandas or a polars `DataFrame` (those libraries
//! are imported only when asked for).
//!
//! A table's columns are Arrow arrays: text is `Utf8` (absent values null), whole numbers `Int64`,
//! exact numbers `Decimal128(38, s)` (`s` the most decimals a value of the column has: never a
//! float), instants `Timestamp(µs, "UTC")`, dates `Date32`. The data frames are made from the Arrow table without
//! a Python object per cell: pandas gets `pd.ArrowDtype` columns (`decimal128`, nullable text),
//! polars its own `Decimal`, `String` and `Datetime` columns.

use std::sync::Arc;

use arrow_array::types::Date32Type;
use arrow_array::{
    Array, ArrayRef, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PyInt, PyList, PyString};
use pyo3_arrow::ffi::{ArrayIterator, to_stream_pycapsule};
use pyo3_arrow::{PyRecordBatchReader, PyTable};
use wholesale_billing::{Decimal, NaiveDate, Timestamp};

use crate::convert::{optional_import, py_date, py_decimal, py_timestamp};

/// The Arrow stream of `data` (any object with `__arrow_c_stream__`); a `TypeError` naming
/// `what` for anything else.
pub(crate) fn arrow_stream_arg(data: &Bound<'_, PyAny>, what: &str) -> PyResult<PyRecordBatchReader> {
    if !data.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected an Arrow table or stream (an object with __arrow_c_stream__: pyarrow, polars, \
             DuckDB, pandas with pyarrow), not {}",
            data.get_type().name()?
        )));
    }
    data.extract()
}

/// The precision of a decimal column: Arrow's widest `Decimal128`.
const DECIMAL_PRECISION: u8 = 38;

fn arrow_error(e: ArrowError) -> PyErr {
    PyValueError::new_err(format!("arrow: {e}"))
}

/// Record batches of one schema: what every table hands to Arrow consumers.
pub(crate) struct ArrowTable {
    pub(crate) schema: SchemaRef,
    pub(crate) batches: Vec<RecordBatch>,
}

impl ArrowTable {
    /// The Arrow C stream of the batches, as `__arrow_c_stream__` returns it (cast to
    /// `requested_schema` where the consumer asks for one Arrow can cast to).
    pub(crate) fn stream_capsule<'py>(
        self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let field = Arc::new(Field::new_struct("", self.schema.fields().clone(), false));
        let arrays = self
            .batches
            .into_iter()
            .map(|batch| Ok(Arc::new(arrow_array::StructArray::from(batch)) as ArrayRef));
        Ok(to_stream_pycapsule(
            py,
            Box::new(ArrayIterator::new(arrays, field)),
            requested_schema,
        )?)
    }

    /// A `pyarrow.Table` of the batches (needs pyarrow).
    fn into_pyarrow<'py>(self, py: Python<'py>, method: &str) -> PyResult<Bound<'py, PyAny>> {
        let pyarrow = optional_import(py, "pyarrow", method)?;
        let table = Bound::new(py, PyTable::try_new(self.batches, self.schema)?)?;
        pyarrow.getattr("table")?.call1((table,))
    }

    /// A pandas `DataFrame` of `pd.ArrowDtype` columns (needs pandas and pyarrow): exact
    /// `decimal128` numbers, nullable text and integers, UTC timestamps.
    pub(crate) fn into_pandas<'py>(self, py: Python<'py>, method: &str) -> PyResult<Bound<'py, PyAny>> {
        let pandas = optional_import(py, "pandas", method)?;
        let table = self.into_pyarrow(py, method)?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("types_mapper", pandas.getattr("ArrowDtype")?)?;
        table.call_method("to_pandas", (), Some(&kwargs))
    }

    /// A polars `DataFrame` (needs polars), read through the Arrow C stream.
    pub(crate) fn into_polars<'py>(self, py: Python<'py>, method: &str) -> PyResult<Bound<'py, PyAny>> {
        let polars = optional_import(py, "polars", method)?;
        let table = Bound::new(py, PyTable::try_new(self.batches, self.schema)?)?;
        polars.getattr("DataFrame")?.call1((table,))
    }
}

/// The values of one column.
enum ColumnData {
    /// Text; `None` is absent.
    Text(StringArray),
    /// Whole numbers; `None` is absent.
    Ints(Int64Array),
    /// Exact numbers, each with its own scale (Arrow gets them at the column's largest).
    Decimals(Vec<Option<Decimal>>),
    /// Instants, in microseconds since the epoch, UTC.
    Instants(TimestampMicrosecondArray),
    /// Dates, in days since 1970-01-01.
    Dates(Date32Array),
}

impl ColumnData {
    fn len(&self) -> usize {
        match self {
            ColumnData::Text(a) => a.len(),
            ColumnData::Ints(a) => a.len(),
            ColumnData::Decimals(v) => v.len(),
            ColumnData::Instants(a) => a.len(),
            ColumnData::Dates(a) => a.len(),
        }
    }

    /// The column as an Arrow array.
    fn to_arrow(&self) -> PyResult<ArrayRef> {
        Ok(match self {
            ColumnData::Text(a) => Arc::new(a.clone()),
            ColumnData::Ints(a) => Arc::new(a.clone()),
            ColumnData::Instants(a) => Arc::new(a.clone()),
            ColumnData::Dates(a) => Arc::new(a.clone()),
            ColumnData::Decimals(values) => {
                let scale = values.iter().flatten().map(Decimal::scale).max().unwrap_or(0);
                let mantissas = values
                    .iter()
                    .map(|v| {
                        v.map(|d| {
                            let factor = 10i128.checked_pow(scale - d.scale());
                            factor.and_then(|f| d.mantissa().checked_mul(f)).ok_or_else(|| {
                                PyValueError::new_err(format!("{d} does not fit a decimal of scale {scale}"))
                            })
                        })
                        .transpose()
                    })
                    .collect::<PyResult<Decimal128Array>>()?;
                let scale = i8::try_from(scale).map_err(|_| PyValueError::new_err("decimal scale above 127"))?;
                Arc::new(
                    mantissas
                        .with_precision_and_scale(DECIMAL_PRECISION, scale)
                        .map_err(arrow_error)?,
                )
            }
        })
    }
}

/// Named columns of equal length.
pub(crate) struct Table<'py> {
    py: Python<'py>,
    names: Vec<&'static str>,
    columns: Vec<ColumnData>,
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

    /// Adds a column of text.
    pub(crate) fn text<'a>(&mut self, name: &'static str, values: impl Iterator<Item = &'a str>) {
        self.names.push(name);
        self.columns.push(ColumnData::Text(values.map(Some).collect()));
    }

    /// Adds a column of optional text (`None` for a missing value).
    pub(crate) fn opt_text<'a>(&mut self, name: &'static str, values: impl Iterator<Item = Option<&'a str>>) {
        self.names.push(name);
        self.columns.push(ColumnData::Text(values.collect()));
    }

    /// Adds a column of whole numbers (`None` for a missing value).
    pub(crate) fn ints(&mut self, name: &'static str, values: impl Iterator<Item = Option<i64>>) {
        self.names.push(name);
        self.columns.push(ColumnData::Ints(values.collect()));
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
            values
                .map(|t| t.map(Timestamp::as_micros))
                .collect::<TimestampMicrosecondArray>()
                .with_timezone("UTC"),
        ));
    }

    /// Adds a column of dates (`None` for a missing value).
    pub(crate) fn dates(&mut self, name: &'static str, values: impl Iterator<Item = Option<NaiveDate>>) {
        self.names.push(name);
        self.columns.push(ColumnData::Dates(
            values.map(|d| d.map(Date32Type::from_naive_date)).collect(),
        ));
    }

    fn rows(&self) -> usize {
        self.columns.first().map_or(0, ColumnData::len)
    }

    /// The table as Arrow: one record batch, every column nullable.
    pub(crate) fn arrow(&self) -> PyResult<ArrowTable> {
        let arrays = self
            .columns
            .iter()
            .map(ColumnData::to_arrow)
            .collect::<PyResult<Vec<_>>>()?;
        let fields: Vec<Field> = self
            .names
            .iter()
            .zip(&arrays)
            .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(Arc::clone(&schema), arrays).map_err(arrow_error)?;
        Ok(ArrowTable {
            schema,
            batches: vec![batch],
        })
    }

    /// The Python objects of a column (`str`, `int`, `decimal.Decimal`, aware `datetime`, `None`),
    /// a value repeated from the row before sharing one object.
    fn objects(&self, column: &ColumnData) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let py = self.py;
        let none = || py.None().into_bound(py);
        let mut last: Option<(usize, Bound<'py, PyAny>)> = None;
        // Row `r`'s object: the last one when `same(previous row, r)`, else `make(r)`.
        let mut cached = |r: usize,
                          same: &dyn Fn(usize, usize) -> bool,
                          make: &dyn Fn(usize) -> PyResult<Bound<'py, PyAny>>|
         -> PyResult<Bound<'py, PyAny>> {
            if let Some((prev, object)) = &last
                && same(*prev, r)
            {
                return Ok(object.clone());
            }
            let object = make(r)?;
            last = Some((r, object.clone()));
            Ok(object)
        };
        (0..self.rows())
            .map(|r| match column {
                ColumnData::Text(a) if a.is_null(r) => Ok(none()),
                ColumnData::Text(a) => cached(r, &|p, r| a.value(p) == a.value(r), &|r| {
                    Ok(PyString::new(py, a.value(r)).into_any())
                }),
                ColumnData::Ints(a) if a.is_null(r) => Ok(none()),
                ColumnData::Ints(a) => Ok(PyInt::new(py, a.value(r)).into_any()),
                ColumnData::Decimals(values) => match values.get(r).copied().flatten() {
                    None => Ok(none()),
                    Some(d) => cached(
                        r,
                        &|p, _| {
                            values
                                .get(p)
                                .copied()
                                .flatten()
                                .is_some_and(|e| e == d && e.scale() == d.scale())
                        },
                        &|_| py_decimal(py, d),
                    ),
                },
                ColumnData::Dates(a) if a.is_null(r) => Ok(none()),
                ColumnData::Dates(a) => match Date32Type::to_naive_date_opt(a.value(r)) {
                    Some(d) => py_date(py, d),
                    None => Ok(none()),
                },
                ColumnData::Instants(a) if a.is_null(r) => Ok(none()),
                ColumnData::Instants(a) => cached(r, &|p, r| a.value(p) == a.value(r), &|r| {
                    py_timestamp(py, Timestamp::from_micros(a.value(r)))
                }),
            })
            .collect()
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

    /// A pandas `DataFrame` of the table's Arrow columns (see [`ArrowTable::into_pandas`]).
    pub(crate) fn to_pandas(&self, method: &str) -> PyResult<Bound<'py, PyAny>> {
        self.arrow()?.into_pandas(self.py, method)
    }

    /// A polars `DataFrame` of the table's Arrow columns.
    pub(crate) fn to_polars(&self, method: &str) -> PyResult<Bound<'py, PyAny>> {
        self.arrow()?.into_polars(self.py, method)
    }

    /// The table's Arrow C stream (`__arrow_c_stream__`).
    pub(crate) fn stream_capsule(
        &self,
        requested_schema: Option<Bound<'py, PyCapsule>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        self.arrow()?.stream_capsule(self.py, requested_schema)
    }
}
