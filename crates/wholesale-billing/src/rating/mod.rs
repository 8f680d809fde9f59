//! Minutes: rating Webex Calling call detail records (SPEC §7).
//!
//! Cisco's invoice covers packages only; the partner rates its customers' calls itself from the
//! Webex Calling detailed call history and pays its PSTN provider for them. This module is the
//! rating side of the library, in four parts that each own one idea:
//!
//! - **records** (`record`): one call leg (a CDR) with the fields of SPEC §7.1 parsed, the other
//!   columns kept as sent; streaming readers of the "Detailed Call History" CSV report and of the
//!   CDR feed's JSON (`{"items": [...]}`), strict or lenient, every rejected record located (line
//!   and column, or JSON path), duplicates by `Report ID` skipped or refused.
//! - **tariffs** (`tariff`): the tariff file of SPEC §7.8 (TOML, JSON, and destination tables from
//!   CSV), validated with located errors, compiled once into a longest-prefix structure and
//!   fixed-point prices.
//! - **the engine** (`engine`): charged legs and statuses, destination, increments, time bands in
//!   the site's local time, per-call half-even rounding, bundled minutes consumed in (`Start time`,
//!   `Report ID`) order; integer seconds and fixed-point money inside, `Decimal` at the edges.
//! - **outputs** (`output`): the rated-records table and the per-customer, per-destination
//!   summary that becomes the minutes lines of the customer invoices.
//!
//! The names of the call's fixed vocabularies ([`CallType`], [`Direction`]) are defined here once
//! for all four.

mod call;
mod engine;
mod output;
mod record;
mod tariff;

pub use call::{CallType, Direction};
pub use engine::{
    CallInput, CustomerDirectory, Pools, RatedCall, Rating, RatingCounts, RatingResult, RatingRun, RatingStatus,
    SpillStorage, rate_call,
};
#[cfg(feature = "parquet")]
pub use output::rated_csv_to_parquet;
pub use output::{RatedColumn, RatedRecord, RatedWriter, RatingSummary, SummaryColumn, SummaryRow};
pub use record::{
    CallFields, CallRecord, CallTime, CdrDiagnostics, CdrFormat, CdrReadOptions, CdrReader, Deduplicator,
    DuplicateCheck, RecordOrigin, read_call_records,
};
pub use tariff::{
    Allowance, AllowanceSpec, Band, BandId, BandPriceSpec, BandSpec, ClassId, ClockTime, DEFAULT_RATING_DECIMALS,
    Destination, DestinationId, DestinationSpec, MAX_RATING_DECIMALS, Price, TARIFF_AMOUNT_DECIMALS, Tariff,
    TariffAmount, TariffDocument, billable_seconds, charge,
};
