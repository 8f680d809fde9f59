//! Events read from Arrow record batches, Arrow IPC files and streams, and Parquet files give the
//! same ledger as their CSV (the same report, byte for byte), and their problems are found and
//! located as the CSV's are (row, or row group and row; column; field).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Cursor, Seek, SeekFrom, Write};
use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::Schema;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use wholesale_billing::synthetic::{GeneratorConfig, generate};
use wholesale_billing::{
    Catalog, Error, IssueKind, LedgerBuilder, LoadMode, Organisation, Period, ReportLevel, ReportOptions, Scope,
    Timestamp,
};

/// A generated May: its organisation and events CSV.
fn may_events() -> (Organisation, Vec<u8>) {
    let config = GeneratorConfig {
        seed: 11,
        customers: 40,
        subscribers: 2_500,
        sub_partners: 2,
        month: Period::month(2024, 5).unwrap(),
        catalog: Catalog::default(),
        order: Default::default(),
    };
    let mut events = Vec::new();
    let month = generate(&config, &mut events, &mut |_| {}).unwrap();
    (month.organisation, events)
}

/// The events CSV as one record batch: `occurred_at` a UTC timestamp, `package` a dictionary,
/// every other column text (empty fields null), columns in the CSV's order.
fn as_batch(csv_bytes: &[u8]) -> RecordBatch {
    let mut reader = csv::Reader::from_reader(csv_bytes);
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let columns = header.iter().enumerate().map(|(c, name)| {
        let cells = records.iter().map(|r| r.get(c).filter(|v| !v.is_empty()));
        let array: ArrayRef = match name.as_str() {
            "occurred_at" => Arc::new(
                cells
                    .map(|v| v.map(|v| Timestamp::parse_rfc3339(v).unwrap().as_micros()))
                    .collect::<TimestampMicrosecondArray>()
                    .with_timezone("UTC"),
            ),
            "package" => {
                let mut builder = StringDictionaryBuilder::<Int32Type>::new();
                for v in cells {
                    builder.append_option(v);
                }
                Arc::new(builder.finish())
            }
            _ => Arc::new(cells.collect::<StringArray>()),
        };
        (name.clone(), array)
    });
    RecordBatch::try_from_iter(columns).unwrap()
}

fn parquet_of(batch: &RecordBatch, rows_per_group: usize) -> std::fs::File {
    let mut file = tempfile::tempfile().unwrap();
    let properties = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows_per_group))
        .build();
    let mut writer = ArrowWriter::try_new(file.try_clone().unwrap(), batch.schema(), Some(properties)).unwrap();
    // In pieces, so that batches and row groups do not line up.
    let mut at = 0;
    while at < batch.num_rows() {
        let len = 777.min(batch.num_rows() - at);
        writer.write(&batch.slice(at, len)).unwrap();
        at += len;
    }
    writer.close().unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    file
}

fn user_report(builder: LedgerBuilder) -> Vec<u8> {
    let (ledger, _) = builder.finish(LoadMode::Strict).unwrap();
    let report = ledger
        .usage_report(
            Period::month(2024, 5).unwrap(),
            &ReportOptions::new(ReportLevel::User).scope(Scope::Subscription),
        )
        .unwrap();
    let mut out = Vec::new();
    report.write_csv(&mut out).unwrap();
    out
}

#[test]
fn arrow_ipc_and_parquet_events_give_the_csv_report_byte_for_byte() {
    let (org, csv_bytes) = may_events();
    let mut builder = LedgerBuilder::new(org.clone());
    builder.read_csv(csv_bytes.as_slice()).unwrap();
    let want = user_report(builder);
    assert!(want.len() > 100_000, "a real report: {} bytes", want.len());

    let batch = as_batch(&csv_bytes);
    let batches: Vec<RecordBatch> = (0..batch.num_rows())
        .step_by(1000)
        .map(|at| batch.slice(at, 1000.min(batch.num_rows() - at)))
        .collect();

    let mut builder = LedgerBuilder::new(org.clone());
    builder
        .read_arrow(&batch.schema(), batches.iter().cloned().map(Ok))
        .unwrap();
    assert_eq!(user_report(builder), want, "record batches");

    let mut file = Vec::new();
    let mut writer = arrow_ipc::writer::FileWriter::try_new(&mut file, &batch.schema()).unwrap();
    for b in &batches {
        writer.write(b).unwrap();
    }
    writer.finish().unwrap();
    drop(writer);
    let mut builder = LedgerBuilder::new(org.clone());
    builder.read_arrow_ipc(Cursor::new(file)).unwrap();
    assert_eq!(user_report(builder), want, "arrow ipc file");

    let mut stream = Vec::new();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut stream, &batch.schema()).unwrap();
    for b in &batches {
        writer.write(b).unwrap();
    }
    writer.finish().unwrap();
    drop(writer);
    let mut builder = LedgerBuilder::new(org.clone());
    builder.read_arrow_ipc(Cursor::new(stream)).unwrap();
    assert_eq!(user_report(builder), want, "arrow ipc stream");

    let mut builder = LedgerBuilder::new(org);
    builder.read_parquet(parquet_of(&batch, 1000)).unwrap();
    assert_eq!(user_report(builder), want, "parquet");
}

#[test]
fn parquet_issues_are_located_by_row_group_row_and_column() {
    let (org, csv_bytes) = may_events();
    let batch = as_batch(&csv_bytes);
    let action = batch.schema().index_of("action").unwrap();
    // Row 1,500 (1-based) of the file says "ADD": row 500 of the second row group of 1,000.
    let mut actions: Vec<Option<String>> = (0..batch.num_rows())
        .map(|r| {
            let column = batch.column(action).as_any().downcast_ref::<StringArray>().unwrap();
            Some(column.value(r).to_owned())
        })
        .collect();
    actions[1_499] = Some("ADD".into());
    let mut columns = batch.columns().to_vec();
    columns[action] = Arc::new(actions.into_iter().collect::<StringArray>());
    let broken = RecordBatch::try_new(batch.schema(), columns).unwrap();

    let mut builder = LedgerBuilder::new(org.clone());
    builder.read_parquet(parquet_of(&broken, 1000)).unwrap();
    let issue = &builder.issues()[0];
    assert_eq!(
        (issue.row_group, issue.line, issue.column, issue.kind),
        (Some(2), 500, Some(action + 1), IssueKind::InvalidValue)
    );
    assert!(
        issue.to_string().starts_with(&format!(
            "row group 2, row 500, column {} (action): error: action \"ADD\" is not ASSIGN or REMOVE",
            action + 1
        )),
        "{issue}"
    );
    let Err(Error::Rejected { issues, .. }) = builder.finish(LoadMode::Strict) else {
        panic!("a strict load of a bad row fails");
    };
    assert_eq!(issues.len(), 1);

    // The same rows as record batches: located by row among all of them.
    let mut builder = LedgerBuilder::new(org);
    builder
        .read_arrow(
            &broken.schema(),
            [Ok(broken.slice(0, 1000)), Ok(broken.slice(1000, 1000))],
        )
        .unwrap();
    let issue = &builder.issues()[0];
    assert_eq!((issue.row_group, issue.line), (None, 1_500));
}

#[test]
fn a_column_of_another_type_is_refused_with_its_place() {
    let (org, csv_bytes) = may_events();
    let batch = as_batch(&csv_bytes).slice(0, 10);
    let schema = batch.schema();
    let at = schema.index_of("subscriber_id").unwrap();
    let mut fields = schema.fields().to_vec();
    fields[at] = Arc::new(arrow_schema::Field::new(
        "subscriber_id",
        arrow_schema::DataType::Float64,
        true,
    ));
    let mut columns = batch.columns().to_vec();
    columns[at] = Arc::new(Float64Array::from(vec![1.5; 10]));
    let floats = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let err = LedgerBuilder::new(org)
        .read_arrow(&floats.schema(), [Ok(floats.clone())])
        .map(|_| ())
        .unwrap_err();
    let issue = &err.issues()[0];
    assert_eq!(
        (issue.line, issue.column, issue.field.as_deref()),
        (0, Some(at + 1), Some("subscriber_id"))
    );
    assert_eq!(
        err.to_string(),
        format!(
            "events: 1 row error(s); first: line 0, column {} (subscriber_id): error: column subscriber_id is of \
             arrow type Float64: it must hold text, booleans, whole or decimal numbers, dates or timestamps",
            at + 1
        )
    );
}

#[test]
fn a_timestamp_without_a_zone_is_refused_as_in_a_csv() {
    let (org, csv_bytes) = may_events();
    let batch = as_batch(&csv_bytes).slice(0, 3);
    let at = batch.schema().index_of("occurred_at").unwrap();
    let mut columns = batch.columns().to_vec();
    columns[at] = Arc::new(TimestampMicrosecondArray::from(vec![1_714_521_600_000_000; 3]));
    let fields: Vec<_> = batch
        .schema()
        .fields()
        .iter()
        .zip(&columns)
        .map(|(f, c)| arrow_schema::Field::new(f.name(), c.data_type().clone(), true))
        .collect();
    let naive = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let mut builder = LedgerBuilder::new(org);
    builder.read_arrow(&naive.schema(), [Ok(naive.clone())]).unwrap();
    let kinds: Vec<_> = builder.issues().iter().map(|i| (i.line, i.kind)).collect();
    assert_eq!(
        kinds,
        [
            (1, IssueKind::MissingOffset),
            (2, IssueKind::MissingOffset),
            (3, IssueKind::MissingOffset)
        ]
    );
}

#[test]
fn a_parquet_file_cut_short_is_an_error_not_a_short_ledger() {
    let (org, csv_bytes) = may_events();
    let mut file = parquet_of(&as_batch(&csv_bytes), 1000);
    let len = file.metadata().unwrap().len();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
    let mut cut = tempfile::tempfile().unwrap();
    cut.write_all(&bytes[..usize::try_from(len / 2).unwrap()]).unwrap();
    let err = LedgerBuilder::new(org).read_parquet(cut).map(|_| ()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("reading the events as parquet"), "{err}");
}
