//! The outputs of a rating (SPEC §7.6, §7.7): the rated-records table and the summary per
//! customer and destination, each with its columns defined once.

mod column;
mod rated;
mod summary;

pub use column::{RatedColumn, SummaryColumn};
#[cfg(feature = "parquet")]
pub use rated::rated_csv_to_parquet;
pub use rated::{RatedRecord, RatedWriter};
pub(crate) use rated::{RatedRow, RowText, push_header};
pub(crate) use summary::Totals;
pub use summary::{RatingSummary, SummaryRow};
