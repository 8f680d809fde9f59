//! A tariff's destination table from CSV (SPEC §7.8): one row per prefix, header
//! `prefix,destination,class,connect_fee,per_minute,initial,subsequent`, rows of one
//! destination alike. Read in one pass with one reused record; one allocation per prefix (the
//! prefix kept) and per destination.

use std::collections::BTreeMap;
use std::io::Read;

use hashbrown::HashMap;
use rust_decimal::Decimal;

use super::document::DestinationSpec;
use super::price::TariffAmount;
use crate::csvutil::{csv_error, field, find_columns, open_with_header, record_line};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};
use crate::money::parse_price;

/// The `source_name` of the table's rejections and the `file` of its located errors.
pub(crate) const TABLE_FILE: &str = "tariff prefix table";

/// The columns, in the order of the header SPEC gives, with the names accepted for each
/// (normalised).
const COLUMNS: [(&str, &[&str]); 7] = [
    ("prefix", &["prefix"]),
    ("destination", &["destination", "destination_name"]),
    ("class", &["class", "destination_class"]),
    ("connect_fee", &["connect_fee"]),
    ("per_minute", &["per_minute", "price_per_minute"]),
    ("initial", &["initial", "initial_increment"]),
    ("subsequent", &["subsequent", "subsequent_increment"]),
];
const PREFIX: usize = 0;
const DESTINATION: usize = 1;
const CLASS: usize = 2;
const CONNECT_FEE: usize = 3;
const PER_MINUTE: usize = 4;
const INITIAL: usize = 5;
const SUBSEQUENT: usize = 6;

/// The destinations of a prefix table, with the lines they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrefixTable {
    destinations: Vec<DestinationSpec>,
    /// The line of each destination's first row.
    first_lines: Vec<u64>,
    /// The line of each prefix of each destination.
    prefix_lines: Vec<Vec<u64>>,
    /// The 1-based column of each of [`COLUMNS`] in the file.
    columns: [usize; 7],
}

impl PrefixTable {
    pub(crate) fn destinations(&self) -> &[DestinationSpec] {
        &self.destinations
    }

    pub(crate) fn into_destinations(self) -> Vec<DestinationSpec> {
        self.destinations
    }

    /// The line of destination `d`'s first row.
    pub(crate) fn first_line(&self, d: usize) -> u64 {
        self.first_lines.get(d).copied().unwrap_or(0)
    }

    /// The line of prefix `p` of destination `d`.
    pub(crate) fn prefix_line(&self, d: usize, p: usize) -> u64 {
        self.prefix_lines.get(d).and_then(|l| l.get(p)).copied().unwrap_or(0)
    }

    /// The column of `name` ("per_minute"), 0 if it is not one of the table's.
    pub(crate) fn column(&self, name: &str) -> usize {
        COLUMNS
            .iter()
            .position(|(n, _)| *n == name)
            .and_then(|i| self.columns.get(i))
            .copied()
            .unwrap_or(0)
    }
}

/// Reads a prefix table.
///
/// # Errors
/// See [`TariffDocument::with_prefix_table`](super::TariffDocument::with_prefix_table).
pub(crate) fn read_prefix_table(reader: impl Read) -> Result<PrefixTable> {
    let mut record = csv::ByteRecord::new();
    let mut rdr = open_with_header(reader, &mut record, TABLE_FILE)?;
    let found = find_columns(&record, &COLUMNS, &[0, 1, 2, 3, 4, 5, 6], TABLE_FILE)?;
    let columns = found.map(|c| c.unwrap_or(0));
    let mut table = PrefixTable {
        destinations: Vec::new(),
        first_lines: Vec::new(),
        prefix_lines: Vec::new(),
        columns,
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut issues = Vec::new();
    while rdr
        .read_byte_record(&mut record)
        .map_err(|e| csv_error(TABLE_FILE, e))?
    {
        let line = record_line(&mut rdr, &record);
        let mut row = Row {
            record: &record,
            columns: &columns,
            line,
            issues: &mut issues,
        };
        let prefix = row.prefix();
        let name = row.name(DESTINATION, "the destination name");
        let class = row.name(CLASS, "the class");
        let connect_fee = row.amount(CONNECT_FEE);
        let per_minute = row.amount(PER_MINUTE);
        let initial = row.increment(INITIAL, "initial");
        let subsequent = row.increment(SUBSEQUENT, "subsequent");
        let (
            Some(prefix),
            Some(name),
            Some(class),
            Some(connect_fee),
            Some(per_minute),
            Some(initial),
            Some(subsequent),
        ) = (prefix, name, class, connect_fee, per_minute, initial, subsequent)
        else {
            continue;
        };
        let Some(&d) = index.get(name) else {
            index.insert(name.to_owned(), table.destinations.len());
            table.destinations.push(DestinationSpec {
                name: name.to_owned(),
                class: class.to_owned(),
                prefixes: vec![prefix.to_owned()],
                connect_fee,
                per_minute,
                initial,
                subsequent,
                bands: BTreeMap::new(),
            });
            table.first_lines.push(line);
            table.prefix_lines.push(vec![line]);
            continue;
        };
        let (Some(first), Some(lines)) = (table.destinations.get_mut(d), table.prefix_lines.get_mut(d)) else {
            continue;
        };
        let differs = [
            (CLASS, first.class != class),
            (CONNECT_FEE, first.connect_fee != connect_fee),
            (PER_MINUTE, first.per_minute != per_minute),
            (INITIAL, first.initial != initial),
            (SUBSEQUENT, first.subsequent != subsequent),
        ]
        .into_iter()
        .find(|(_, differs)| *differs);
        if let Some((col, _)) = differs {
            let error = Error::InconsistentDestination {
                destination: name.to_owned(),
                field: COLUMNS[col].0,
                first_line: table.first_lines.get(d).copied().unwrap_or(0),
            };
            row.bad(col, IssueKind::InvalidValue, &error);
            continue;
        }
        first.prefixes.push(prefix.to_owned());
        lines.push(line);
    }
    if !issues.is_empty() {
        return Err(Error::Rejected {
            source_name: TABLE_FILE,
            issues,
        });
    }
    Ok(table)
}

/// One row being read: its fields, each checked, and the issues it adds.
struct Row<'a> {
    record: &'a csv::ByteRecord,
    columns: &'a [usize; 7],
    line: u64,
    issues: &'a mut Vec<LoadIssue>,
}

impl<'a> Row<'a> {
    fn bad(&mut self, col: usize, kind: IssueKind, error: &dyn std::fmt::Display) {
        let column = self.columns.get(col).copied().unwrap_or(0);
        self.issues.push(
            LoadIssue::new(Severity::Error, self.line, kind, error.to_string()).at_column(column, COLUMNS[col].0),
        );
    }

    /// The field's text, trimmed; `None` (with an issue) when it is not UTF-8.
    fn text(&mut self, col: usize) -> Option<&'a str> {
        let column = self.columns.get(col).copied().unwrap_or(0);
        let bytes = field(self.record, column.checked_sub(1));
        match std::str::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) => {
                let message = format!("invalid utf-8 at byte {} of the field", e.valid_up_to());
                self.bad(col, IssueKind::InvalidValue, &message);
                None
            }
        }
    }

    fn prefix(&mut self) -> Option<&'a str> {
        let text = self.text(PREFIX)?;
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            let kind = if text.is_empty() {
                IssueKind::MissingField
            } else {
                IssueKind::InvalidValue
            };
            self.bad(
                PREFIX,
                kind,
                &Error::PrefixNotDigits {
                    prefix: text.to_owned(),
                },
            );
            return None;
        }
        Some(text)
    }

    fn name(&mut self, col: usize, what: &'static str) -> Option<&'a str> {
        let text = self.text(col)?;
        if text.is_empty() {
            self.bad(col, IssueKind::MissingField, &Error::EmptyTariffField { what });
            return None;
        }
        Some(text)
    }

    fn amount(&mut self, col: usize) -> Option<Decimal> {
        let text = self.text(col)?;
        let checked = parse_price(text).and_then(|value| TariffAmount::from_decimal(value).map(|_| value));
        match checked {
            Ok(value) => Some(value),
            Err(e) => {
                self.bad(col, IssueKind::InvalidValue, &e);
                None
            }
        }
    }

    fn increment(&mut self, col: usize, what: &'static str) -> Option<u64> {
        let text = self.text(col)?;
        let value = if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            text.parse::<u64>().ok()
        };
        match value {
            Some(v) if v >= 1 && v <= u64::from(u32::MAX) => Some(v),
            Some(v) if v >= 1 => {
                self.bad(
                    col,
                    IssueKind::InvalidValue,
                    &format!("the {what} increment {v} is above {}", u32::MAX),
                );
                None
            }
            Some(v) => {
                self.bad(
                    col,
                    IssueKind::InvalidValue,
                    &Error::IncrementTooSmall { what, value: v },
                );
                None
            }
            None => {
                let message = format!("the {what} increment {text:?} is not a whole number of seconds");
                self.bad(col, IssueKind::InvalidValue, &message);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "prefix,destination,class,connect_fee,per_minute,initial,subsequent\n";

    #[test]
    fn rows_group_into_destinations() {
        let csv = format!(
            "{HEADER}44,UK,national,0,0.01,60,60\n447,UK mobile,mobile,0.05,0.03,60,1\n\
             441,UK,national,0.00,0.010,60,60\n"
        );
        let table = read_prefix_table(csv.as_bytes()).unwrap();
        let names: Vec<_> = table.destinations().iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["UK", "UK mobile"]);
        assert_eq!(table.destinations()[0].prefixes, ["44", "441"]);
        assert_eq!((table.first_line(0), table.prefix_line(0, 1)), (2, 4));
        assert_eq!(table.column("per_minute"), 5);
    }

    #[test]
    fn columns_by_name_in_any_order() {
        let csv =
            "\u{feff}Subsequent,Initial,Per Minute,Connect Fee,Class,Destination,Prefix\n1,30,0.02,0,national,FR,33\n";
        let table = read_prefix_table(csv.as_bytes()).unwrap();
        let fr = &table.destinations()[0];
        assert_eq!((fr.initial, fr.subsequent, fr.prefixes[0].as_str()), (30, 1, "33"));
        let err = read_prefix_table("prefix,destination\n1,x\n".as_bytes()).unwrap_err();
        assert!(
            err.issues()[0].message.contains("lacks required column(s): class"),
            "{err}"
        );
    }

    #[test]
    fn every_bad_row_is_located() {
        let csv = format!(
            "{HEADER}4x,UK,national,0,0.01,60,60\n44,,national,0,0.01,60,60\n44,UK,national,-1,0.01,60,60\n\
             44,UK,national,0,0.0000001,60,60\n44,UK,national,0,0.01,0,60\n44,UK,national,0,0.01,60,1.5\n\
             44,UK,national,0,0.01,60,60\n45,UK,mobile,0,0.01,60,60\n"
        );
        let err = read_prefix_table(csv.as_bytes()).unwrap_err();
        let issues: Vec<String> = err.issues().iter().map(ToString::to_string).collect();
        assert_eq!(
            issues,
            [
                "line 2, column 1 (prefix): error: prefix \"4x\" is not a string of digits",
                "line 3, column 2 (destination): error: the destination name is empty",
                "line 4, column 4 (connect_fee): error: negative price -1",
                "line 5, column 5 (per_minute): error: 0.0000001 has more than 6 decimals, the most a tariff amount may have",
                "line 6, column 6 (initial): error: the initial increment is 0 seconds: increments are at least 1 second",
                "line 7, column 7 (subsequent): error: the subsequent increment \"1.5\" is not a whole number of seconds",
                "line 9, column 3 (class): error: destination \"UK\" has another class than on line 8: every row of a \
                 destination carries the same class and prices",
            ]
        );
        assert!(matches!(
            err,
            Error::Rejected {
                source_name: TABLE_FILE,
                ..
            }
        ));
    }
}
