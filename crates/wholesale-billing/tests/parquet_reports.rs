//! Reports written as Parquet read back with the Apache Arrow reader: every column of every row of
//! the USER, CUSTOMER and PARTNER reports of a generated month equals the CSV's field (an empty
//! field a null), `QUANTITY` an exact Decimal128(38, 4), the dates UTC timestamps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use arrow_array::{Array, Decimal128Array, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use wholesale_billing::synthetic::{GeneratorConfig, generate};
use wholesale_billing::{
    AssignmentLedger, Catalog, LoadMode, Period, ReportLevel, ReportOptions, Scope, Timestamp, report_schema,
};

#[test]
fn every_field_of_every_level_reads_back_as_the_csv_says() {
    let may = Period::month(2024, 5).unwrap();
    let config = GeneratorConfig {
        seed: 5,
        customers: 60,
        subscribers: 3_000,
        sub_partners: 2,
        month: may,
        catalog: Catalog::default(),
        order: Default::default(),
    };
    let mut events = Vec::new();
    let month = generate(&config, &mut events, &mut |_| {}).unwrap();
    let (ledger, _) = AssignmentLedger::from_csv(events.as_slice(), month.organisation, LoadMode::Strict).unwrap();
    for level in ReportLevel::ALL {
        let report = ledger
            .usage_report(may, &ReportOptions::new(level).scope(Scope::Subscription))
            .unwrap();
        let mut csv = Vec::new();
        report.write_csv(&mut csv).unwrap();
        let mut file = tempfile::tempfile().unwrap();
        report.write_parquet(&mut file).unwrap();

        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        assert_eq!(reader.schema().as_ref(), &report_schema(level));
        let batches: Vec<_> = reader.build().unwrap().collect::<Result<_, _>>().unwrap();
        let mut rows = csv::Reader::from_reader(csv.as_slice());
        let header = rows.headers().unwrap().clone();
        let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), records.len());
        assert!(!records.is_empty(), "{level}: no rows");
        let mut at = 0;
        let mut nulls = 0;
        for batch in &batches {
            for (c, name) in header.iter().enumerate() {
                let column = batch.column_by_name(name).unwrap();
                for i in 0..batch.num_rows() {
                    let want = &records[at + i][c];
                    if column.is_null(i) {
                        assert_eq!(want, "", "{level} {name} row {}", at + i);
                        nulls += 1;
                        continue;
                    }
                    let got = match column.data_type() {
                        DataType::Utf8 => column
                            .as_any()
                            .downcast_ref::<StringArray>()
                            .unwrap()
                            .value(i)
                            .to_owned(),
                        DataType::Decimal128(38, 4) => column
                            .as_any()
                            .downcast_ref::<Decimal128Array>()
                            .unwrap()
                            .value_as_string(i),
                        DataType::Timestamp(TimeUnit::Microsecond, Some(zone)) if zone.as_ref() == "UTC" => {
                            let micros = column
                                .as_any()
                                .downcast_ref::<TimestampMicrosecondArray>()
                                .unwrap()
                                .value(i);
                            assert_eq!(micros, Timestamp::parse_rfc3339(want).unwrap().as_micros());
                            want.to_owned()
                        }
                        other => panic!("{level} {name}: unexpected type {other}"),
                    };
                    assert_eq!(got, want, "{level} {name} row {}", at + i);
                }
            }
            at += batch.num_rows();
        }
        if level == ReportLevel::User {
            assert!(nulls > 0, "USER rows have absent ids (user or workspace)");
        }
    }
}
