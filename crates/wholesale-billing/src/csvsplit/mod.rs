//! CSV input split into rows fast and in parallel: rows cut at their commas where the `csv` crate
//! would read them the same ([`rows`]), and an input cut into parts of whole rows that worker
//! threads make batches of while the calling thread takes them in input order ([`parts`]). The
//! events reader and the call-records reader both read this way.

mod parts;
mod rows;

pub(crate) use parts::{PART_BYTES, Part, Unpiped, cut_ahead, make_in_parts};
pub(crate) use rows::{Row, RowAt};
