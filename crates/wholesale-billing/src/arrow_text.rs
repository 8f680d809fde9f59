//! Arrow columns read as the text a CSV field would hold (feature `arrow`), so that an Arrow
//! source goes through the same validation as its CSV: text borrowed as it is, numbers, dates and
//! timestamps written once per batch. A timestamp with a time zone is an instant, written in RFC
//! 3339 UTC; one without a zone is a wall-clock time, written without an offset (which the
//! validation of an instant refuses as it refuses such a CSV field); a decimal keeps its scale; a
//! null is an empty field.

use std::fmt::Write as _;
use std::io::Read;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType};
use arrow_schema::{ArrowError, DataType, Field, TimeUnit};
use chrono::{DateTime, NaiveDate, SecondsFormat};

use crate::error::Error;

/// An Arrow failure while `context`: I/O as [`Error::Io`] with its own cause, anything else (a
/// malformed file, a batch that breaks its schema) as invalid data.
pub(crate) fn arrow_error(context: &str, e: ArrowError) -> Error {
    match e {
        ArrowError::IoError(_, source) => Error::io(context, source),
        e => Error::io(context, std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
    }
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
pub(crate) fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The text of one column of a batch, row by row: borrowed from a text array, or written once
/// for a column of numbers, dates or timestamps.
pub(crate) enum TextColumn<'a> {
    /// Values of a text array.
    Text(&'a dyn Array),
    /// Values of a dictionary of text: each row's key into `values`.
    Dictionary {
        keys: Vec<Option<usize>>,
        values: Box<TextColumn<'a>>,
    },
    /// Values written as text: row `r` is `text[ends[r - 1]..ends[r]]`.
    Written { text: String, ends: Vec<usize> },
}

impl<'a> TextColumn<'a> {
    /// Whether a column of `data_type` can be read as text.
    pub(crate) fn accepts(data_type: &DataType) -> bool {
        match data_type {
            DataType::Decimal128(_, _) => true,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => true,
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => true,
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => true,
            DataType::Dictionary(_, values) => {
                matches!(
                    values.as_ref(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                )
            }
            _ => false,
        }
    }

    /// Why a column of `field`'s type cannot be read (see [`TextColumn::accepts`]).
    pub(crate) fn refusal(field: &Field) -> String {
        format!(
            "column {} is of arrow type {}: it must hold text, whole or decimal numbers, dates or timestamps",
            field.name(),
            field.data_type()
        )
    }

    /// The column's text.
    pub(crate) fn new(array: &'a dyn Array) -> Self {
        match array.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => TextColumn::Text(array),
            DataType::Dictionary(_, _) => match array.as_any_dictionary_opt() {
                Some(dictionary) => {
                    let keys = dictionary.normalized_keys();
                    let keys = (0..array.len())
                        .map(|r| (!dictionary.keys().is_null(r)).then(|| keys.get(r).copied()).flatten())
                        .collect();
                    // The dictionary's values outlive this batch's column: borrow them from it.
                    TextColumn::Dictionary {
                        keys,
                        values: Box::new(TextColumn::Text(dictionary.values().as_ref())),
                    }
                }
                None => Self::written(array),
            },
            _ => Self::written(array),
        }
    }

    /// Writes every value of a column of numbers, dates or timestamps as its CSV text.
    fn written(array: &dyn Array) -> Self {
        let mut text = String::with_capacity(array.len() * 24);
        let mut ends = Vec::with_capacity(array.len());
        for row in 0..array.len() {
            if array.is_valid(row) {
                write_value(array, row, &mut text);
            }
            ends.push(text.len());
        }
        TextColumn::Written { text, ends }
    }

    /// The text of row `row` (empty for a null).
    pub(crate) fn get(&self, row: usize) -> &str {
        match self {
            TextColumn::Text(array) => {
                if array.is_null(row) {
                    return "";
                }
                if let Some(a) = array.as_string_opt::<i32>() {
                    a.value(row)
                } else if let Some(a) = array.as_string_opt::<i64>() {
                    a.value(row)
                } else if let Some(a) = array.as_string_view_opt() {
                    a.value(row)
                } else {
                    ""
                }
            }
            TextColumn::Dictionary { keys, values } => match keys.get(row).copied().flatten() {
                Some(key) => values.get(key),
                None => "",
            },
            TextColumn::Written { text, ends } => {
                let end = ends.get(row).copied().unwrap_or(0);
                let start = row.checked_sub(1).and_then(|r| ends.get(r).copied()).unwrap_or(0);
                text.get(start..end).unwrap_or("")
            }
        }
    }
}

/// Appends the text of the (valid) value at `row` of a column of numbers, dates or timestamps.
fn write_value(array: &dyn Array, row: usize, out: &mut String) {
    fn int<T: ArrowPrimitiveType>(array: &dyn Array, row: usize, out: &mut String)
    where
        T::Native: std::fmt::Display,
    {
        if let Some(a) = array.as_primitive_opt::<T>() {
            let _ = write!(out, "{}", a.value(row));
        }
    }
    fn value<T: ArrowPrimitiveType<Native = i64>>(array: &dyn Array, row: usize) -> Option<i64> {
        array.as_primitive_opt::<T>().map(|a| a.value(row))
    }
    match array.data_type() {
        DataType::Int8 => int::<Int8Type>(array, row, out),
        DataType::Int16 => int::<Int16Type>(array, row, out),
        DataType::Int32 => int::<Int32Type>(array, row, out),
        DataType::Int64 => int::<Int64Type>(array, row, out),
        DataType::UInt8 => int::<UInt8Type>(array, row, out),
        DataType::UInt16 => int::<UInt16Type>(array, row, out),
        DataType::UInt32 => int::<UInt32Type>(array, row, out),
        DataType::UInt64 => int::<UInt64Type>(array, row, out),
        DataType::Decimal128(_, _) => {
            if let Some(a) = array.as_primitive_opt::<Decimal128Type>() {
                out.push_str(&a.value_as_string(row));
            }
        }
        DataType::Date32 => {
            if let Some(a) = array.as_primitive_opt::<Date32Type>() {
                write_date(i64::from(a.value(row)), out);
            }
        }
        DataType::Date64 => {
            if let Some(a) = array.as_primitive_opt::<Date64Type>() {
                write_date(a.value(row).div_euclid(86_400_000), out);
            }
        }
        DataType::Timestamp(unit, zone) => {
            let (v, per_second) = match unit {
                TimeUnit::Second => (value::<TimestampSecondType>(array, row), 1),
                TimeUnit::Millisecond => (value::<TimestampMillisecondType>(array, row), 1_000),
                TimeUnit::Microsecond => (value::<TimestampMicrosecondType>(array, row), 1_000_000),
                TimeUnit::Nanosecond => (value::<TimestampNanosecondType>(array, row), 1_000_000_000),
            };
            let Some(v) = v else { return };
            let (seconds, fraction) = (v.div_euclid(per_second), v.rem_euclid(per_second));
            let nanos = u32::try_from(fraction * (1_000_000_000 / per_second)).unwrap_or(0);
            let Some(instant) = DateTime::from_timestamp(seconds, nanos) else {
                let _ = write!(out, "{v} {unit:?} since the epoch is out of range");
                return;
            };
            if zone.is_some() {
                // An instant (Arrow stores it in UTC whatever its zone): RFC 3339 in UTC.
                out.push_str(&instant.to_rfc3339_opts(SecondsFormat::AutoSi, true));
            } else {
                // A wall-clock time without a zone: written without an offset, which the row
                // validation refuses as it refuses such a CSV field.
                let _ = write!(out, "{}", instant.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f"));
            }
        }
        _ => {}
    }
}

/// Appends the ISO date `days` after 1970-01-01.
fn write_date(days: i64, out: &mut String) {
    let date = NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::TimeDelta::try_days(days)?));
    match date {
        Some(d) => {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
        None => {
            let _ = write!(out, "{days} days since the epoch is out of range");
        }
    }
}
