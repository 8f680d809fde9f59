//! `Period`: an inclusive range of UTC dates, and `Money`.

use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::PyDate;
use wholesale_billing::{Currency, Money, Period};

use crate::convert::{date_arg, decimal_arg, py_date, py_decimal, py_timestamp};
use crate::errors::OrRaise;

/// An inclusive range of UTC dates: from ``start`` 00:00:00.000 to ``end`` 23:59:59.999.
///
/// ``Period(start, end)`` takes two ``datetime.date`` or ``"YYYY-MM-DD"``; ``Period.month(2024, 5)``
/// a calendar month; ``Period.parse("2024-05")`` or ``Period.parse("2024-05-01..2024-05-31")`` a text.
#[pyclass(name = "Period", module = "wholesale_billing", frozen, eq, hash)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PyPeriod(pub(crate) Period);

#[pymethods]
impl PyPeriod {
    #[new]
    fn new(start: &Bound<'_, PyAny>, end: &Bound<'_, PyAny>) -> PyResult<Self> {
        Period::new(date_arg(start, "start")?, date_arg(end, "end")?)
            .map(PyPeriod)
            .or_raise()
    }

    /// The whole calendar month ``year``-``month``.
    #[staticmethod]
    fn month(year: i32, month: u32) -> PyResult<Self> {
        Period::month(year, month).map(PyPeriod).or_raise()
    }

    /// A period from ``"YYYY-MM"`` or ``"YYYY-MM-DD..YYYY-MM-DD"``.
    #[staticmethod]
    fn parse(text: String) -> PyResult<Self> {
        text.parse::<Period>().map(PyPeriod).or_raise()
    }

    /// The first date (inclusive).
    #[getter]
    fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_date(py, self.0.start())
    }

    /// The last date (inclusive).
    #[getter]
    fn end<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_date(py, self.0.end())
    }

    /// The number of days, both ends included.
    #[getter]
    fn days(&self) -> u32 {
        self.0.days()
    }

    /// The first instant: ``start`` 00:00 UTC.
    #[getter]
    fn start_instant<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_timestamp(py, self.0.start_instant())
    }

    /// The exclusive end: the day after ``end``, 00:00 UTC.
    #[getter]
    fn end_exclusive<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_timestamp(py, self.0.end_exclusive())
    }

    fn __contains__(&self, day: &Bound<'_, PyAny>) -> PyResult<bool> {
        if !day.is_instance_of::<PyDate>() {
            return Ok(false);
        }
        Ok(self.0.contains(date_arg(day, "date")?))
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Period('{}', '{}')", self.0.start(), self.0.end())
    }
}

/// An amount of money in a currency: ``amount`` is an exact ``decimal.Decimal``, ``currency`` an
/// ISO 4217 code.
#[pyclass(name = "Money", module = "wholesale_billing", frozen)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PyMoney(pub(crate) Money);

#[pymethods]
impl PyMoney {
    #[new]
    fn new(amount: &Bound<'_, PyAny>, currency: String) -> PyResult<Self> {
        let amount = decimal_arg(amount, "amount")?;
        let currency = Currency::from_code(&currency).or_raise()?;
        Ok(PyMoney(Money::new(amount, currency)))
    }

    /// The amount, exact.
    #[getter]
    fn amount<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_decimal(py, self.0.amount())
    }

    /// The ISO 4217 currency code.
    #[getter]
    fn currency(&self) -> String {
        self.0.currency().code().to_owned()
    }

    /// The decimals of the currency's minor unit (2 for USD, 0 for JPY, 3 for KWD): how many an
    /// amount is rounded to.
    #[getter]
    fn minor_unit(&self) -> u32 {
        self.0.currency().minor_unit()
    }

    fn __str__(&self) -> String {
        self.0.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Money('{}', '{}')", self.0.amount(), self.0.currency().code())
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(other) = other.cast::<PyMoney>() else {
            return Ok(py.NotImplemented());
        };
        let other = other.get().0;
        let (a, b) = (self.0, other);
        let result = match op {
            CompareOp::Eq => a.currency() == b.currency() && a.amount() == b.amount(),
            CompareOp::Ne => !(a.currency() == b.currency() && a.amount() == b.amount()),
            _ => return Ok(py.NotImplemented()),
        };
        Ok(result.into_pyobject(py)?.to_owned().into_any().unbind())
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.0.amount().normalize().hash(&mut h);
        self.0.currency().hash(&mut h);
        h.finish()
    }
}

/// A `Money` object.
pub(crate) fn py_money(py: Python<'_>, money: Money) -> PyResult<Bound<'_, PyAny>> {
    Ok(Bound::new(py, PyMoney(money))?.into_any())
}
