//! The assignment ledger: a partner's package-assignment history, validated and compiled into
//! merged intervals per row key (SPEC.md §2–§3).
//!
//! Build one from the events CSV ([`AssignmentLedger::from_csv`]), from records under a header
//! ([`LedgerBuilder::records`]) or in code ([`LedgerBuilder::push`]), then ask it for usage
//! reports ([`AssignmentLedger::usage_report`]).

#[cfg(feature = "arrow")]
mod arrow_events;
mod builder;
mod compile;
mod csv_events;
mod event;
mod field;
mod raw;
mod records;
mod replay;
mod text_row;

use std::sync::Arc;

pub use builder::LedgerBuilder;
pub use event::{Action, Event, SubscriberType};
pub use records::EventRecords;

use crate::catalog::PackageId;
use crate::error::{LoadIssue, Result};
use crate::org::{Organisation, Owner};
use crate::strings::{StringTable, Sym};
use crate::time::Timestamp;

/// How a loader treats rows it cannot use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadMode {
    /// Any error fails the whole load, with the list of every error (the default).
    #[default]
    Strict,
    /// Bad rows are skipped and reported; the rest is loaded. `REMOVE` with nothing assigned is a
    /// warning.
    Lenient,
}

/// What a load read and everything it noticed, row by row.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostics {
    /// Data rows read (not counting the header).
    pub rows_read: u64,
    /// Rows that became part of the result.
    pub rows_accepted: u64,
    /// Errors (rows rejected) and warnings, in line order.
    pub issues: Vec<LoadIssue>,
}

impl Diagnostics {
    /// The number of errors (rejected rows).
    pub fn error_count(&self) -> usize {
        self.issues.iter().filter(|i| i.is_error()).count()
    }

    /// The number of warnings.
    pub fn warning_count(&self) -> usize {
        self.issues.len() - self.error_count()
    }
}

/// The end of an assignment still open at the end of the data.
pub(crate) const OPEN_END: i64 = i64::MAX;

/// A customer of the ledger.
#[derive(Debug, Clone)]
pub(crate) struct CustomerData {
    pub(crate) org: Sym,
    /// The latest non-empty external id given, in time order.
    pub(crate) external_id: Sym,
    pub(crate) owner: Owner,
}

/// A row key (customer, subscriber, package, location, license) with its merged intervals: 32
/// bytes. The intervals of consecutive keys are consecutive: a key's run ends where the next
/// key's starts (see [`AssignmentLedger::key_intervals`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyData {
    pub(crate) customer: u32,
    pub(crate) subscriber: Sym,
    pub(crate) package: PackageId,
    pub(crate) location: Sym,
    pub(crate) license: Sym,
    pub(crate) subscriber_type: Option<SubscriberType>,
    pub(crate) user_id: Sym,
    pub(crate) workspace_id: Sym,
    /// The index of its first interval.
    pub(crate) first_interval: u32,
}

/// The strings a report row needs besides the ledger's ids.
#[derive(Debug, Clone)]
pub(crate) struct LabelSyms {
    /// Per package: service name, SKU, description.
    pub(crate) packages: Vec<[Sym; 3]>,
    /// Per owner (index 0 the partner, then sub-partners): name, org id.
    pub(crate) owners: Vec<[Sym; 2]>,
    pub(crate) subscription_id: Sym,
}

/// A validated, compiled assignment history.
///
/// Row keys are kept in report order (customer org, subscriber, SKU, location, license) with their
/// assignment intervals merged, so a usage report for any period, scope or hour policy is one pass.
///
/// ```
/// use wholesale_billing::{AssignmentLedger, LoadMode, Organisation};
/// let org = Organisation::from_toml_str(r#"
///     [partner]
///     org_id = "p-1"
///     name = "Acme"
///     subscription_id = "Sub1"
/// "#)?;
/// let csv = "event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package\n\
///            e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,USER,webex_calling\n\
///            e2,2024-05-01T12:00:00+02:00,REMOVE,s1,,,\n";
/// let (ledger, diagnostics) = AssignmentLedger::from_csv(csv.as_bytes(), org, LoadMode::Strict)?;
/// assert_eq!(diagnostics.rows_accepted, 2);
/// assert_eq!(ledger.row_key_count(), 1);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AssignmentLedger {
    pub(crate) org: Arc<Organisation>,
    pub(crate) strings: Arc<StringTable>,
    pub(crate) customers: Vec<CustomerData>,
    pub(crate) keys: Vec<KeyData>,
    pub(crate) intervals: Vec<(i64, i64)>,
    pub(crate) labels: LabelSyms,
    pub(crate) subscriber_count: usize,
    pub(crate) customer_count: usize,
}

impl AssignmentLedger {
    /// A builder for events given in code.
    pub fn builder(org: Organisation) -> LedgerBuilder {
        LedgerBuilder::new(org)
    }

    /// Loads an events CSV (SPEC.md §2) and compiles it.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) when reading fails; [`Error::Rejected`](crate::Error::Rejected)
    /// when the header lacks a required column, and in strict mode when any row is rejected (with
    /// every error, located by line, column and field).
    pub fn from_csv(
        reader: impl std::io::Read + Send,
        org: Organisation,
        mode: LoadMode,
    ) -> Result<(Self, Diagnostics)> {
        let mut builder = LedgerBuilder::new(org);
        builder.read_csv(reader)?;
        builder.finish(mode)
    }

    /// The organisation the ledger was built for.
    pub fn organisation(&self) -> &Organisation {
        &self.org
    }

    /// The number of distinct row keys with at least one non-empty interval.
    pub fn row_key_count(&self) -> usize {
        self.keys.len()
    }

    /// The number of distinct subscribers with at least one non-empty interval.
    pub fn subscriber_count(&self) -> usize {
        self.subscriber_count
    }

    /// The number of distinct customers with at least one non-empty interval.
    pub fn customer_count(&self) -> usize {
        self.customer_count
    }

    /// Every customer named by an accepted `ASSIGN`, by org id: its owner, its latest external id
    /// (in time order) and the packages assigned to it (those with any non-empty interval), sorted.
    ///
    /// ```
    /// use wholesale_billing::{AssignmentLedger, Event, LoadMode, Organisation, Owner, Partner};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let mut b = AssignmentLedger::builder(org);
    /// let at = |t: &str| t.parse().unwrap();
    /// b.push(Event::assign("e1", at("2024-05-01T00:00:00Z"), "s1", "c1", "webex_voice").external_id("OLD"));
    /// b.push(Event::assign("e2", at("2024-05-02T00:00:00Z"), "s2", "c1", "webex_calling").external_id("NEW"));
    /// let (ledger, _) = b.finish(LoadMode::Strict)?;
    /// let customers = ledger.customers();
    /// assert_eq!(customers[0].org_id, "c1");
    /// assert_eq!(customers[0].external_id, "NEW");
    /// assert_eq!(customers[0].owner, Owner::Partner);
    /// assert_eq!(customers[0].packages, ["webex_calling", "webex_voice"]);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn customers(&self) -> Vec<CustomerInfo<'_>> {
        let mut packages: Vec<Vec<&str>> = vec![Vec::new(); self.customers.len()];
        for k in &self.keys {
            let name = self.org.catalog.entry(k.package).package.as_str();
            let list = &mut packages[k.customer as usize];
            if !list.contains(&name) {
                list.push(name);
            }
        }
        let mut out: Vec<CustomerInfo<'_>> = self
            .customers
            .iter()
            .zip(packages)
            .map(|(c, mut packages)| {
                packages.sort_unstable();
                CustomerInfo {
                    org_id: self.strings.get(c.org),
                    external_id: self.strings.get(c.external_id),
                    owner: c.owner,
                    packages,
                }
            })
            .collect();
        out.sort_unstable_by(|a, b| a.org_id.cmp(b.org_id));
        out
    }

    /// Approximate heap bytes held (string arena, keys, intervals).
    pub fn heap_bytes(&self) -> usize {
        self.strings.heap_bytes()
            + self.keys.capacity() * size_of::<KeyData>()
            + self.intervals.capacity() * 16
            + self.customers.capacity() * size_of::<CustomerData>()
    }

    /// Every assignment interval of the ledger, in report order: (row key, start, end). `end` is
    /// `None` for an assignment still open at the end of the data. Intervals are merged per key and
    /// never empty; sub-partner billing starts are not applied here.
    ///
    /// ```
    /// # use wholesale_billing::{AssignmentLedger, Event, LoadMode, Organisation, Partner};
    /// # let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let mut b = AssignmentLedger::builder(org);
    /// b.push(Event::assign("e1", "2024-05-01T10:00:00Z".parse()?, "s1", "c1", "webex_calling"));
    /// let (ledger, _) = b.finish(LoadMode::Strict)?;
    /// let all: Vec<_> = ledger.intervals().collect();
    /// assert_eq!(all.len(), 1);
    /// assert_eq!(all[0].0.subscriber_id, "s1");
    /// assert_eq!(all[0].2, None);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn intervals(&self) -> impl Iterator<Item = (RowKey<'_>, Timestamp, Option<Timestamp>)> + '_ {
        self.keys.iter().enumerate().flat_map(move |(i, k)| {
            let key = self.row_key(k);
            self.key_intervals(i).iter().map(move |&(s, e)| {
                (
                    key,
                    Timestamp::from_micros(s),
                    (e != OPEN_END).then_some(Timestamp::from_micros(e)),
                )
            })
        })
    }

    /// The merged intervals of the key at `index`: from its first interval to the next key's.
    pub(crate) fn key_intervals(&self, index: usize) -> &[(i64, i64)] {
        intervals_of(&self.keys, &self.intervals, index)
    }

    pub(crate) fn row_key<'a>(&'a self, k: &KeyData) -> RowKey<'a> {
        let customer = &self.customers[k.customer as usize];
        RowKey {
            customer_org_id: self.strings.get(customer.org),
            subscriber_id: self.strings.get(k.subscriber),
            package: &self.org.catalog.entry(k.package).package,
            location_id: self.strings.get(k.location),
            license_id: self.strings.get(k.license),
        }
    }
}

/// The intervals of `keys[index]` in `intervals`, where each key's run ends where the next
/// key's starts (the last key's at the end); empty for an index out of range.
pub(crate) fn intervals_of<'a>(keys: &[KeyData], intervals: &'a [(i64, i64)], index: usize) -> &'a [(i64, i64)] {
    let Some(key) = keys.get(index) else { return &[] };
    let end = keys
        .get(index + 1)
        .map_or(intervals.len(), |next| next.first_interval as usize);
    intervals.get(key.first_interval as usize..end).unwrap_or(&[])
}

/// A customer of a ledger (see [`AssignmentLedger::customers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInfo<'a> {
    /// `CUSTOMER_ORG_ID`.
    pub org_id: &'a str,
    /// The latest non-empty `CUSTOMER_EXTERNAL_ID` given, in time order; empty when none.
    pub external_id: &'a str,
    /// The partner or the sub-partner owning it.
    pub owner: Owner,
    /// API names of the packages assigned to it, sorted.
    pub packages: Vec<&'a str>,
}

/// The identity of a USER report row (SPEC.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowKey<'a> {
    /// The customer org.
    pub customer_org_id: &'a str,
    /// The subscriber.
    pub subscriber_id: &'a str,
    /// The package's API name.
    pub package: &'a str,
    /// The location (may be empty).
    pub location_id: &'a str,
    /// The license (may be empty).
    pub license_id: &'a str,
}
