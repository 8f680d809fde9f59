//! Call detail records (SPEC §7.1, §7.7): one call leg parsed into a [`CallRecord`], read in a
//! stream from the Webex "Detailed Call History" CSV report or the CDR feed's JSON by a
//! [`CdrReader`], duplicates by `Report ID` told apart by a [`Deduplicator`].
//!
//! One idea per file: the instant of a call ([`CallTime`]), the fields and their value rules,
//! the record and where it was read, the two readers, the reader that makes several inputs one
//! stream, the deduplicator.

mod call_record;
mod call_time;
mod csv_input;
mod dedup;
mod field;
mod json_input;
mod reader;

pub use call_record::{CallFields, CallRecord, RecordOrigin};
pub use call_time::CallTime;
pub use dedup::{Deduplicator, DuplicateCheck};
pub(crate) use dedup::{pack_origin, unpack_origin};
pub(crate) use field::CdrField;
pub use reader::{CdrDiagnostics, CdrFormat, CdrReadOptions, CdrReader, read_call_records};
pub(crate) use reader::{default_threads, issue_at, strict_check};
