//! Building a ledger: row validation as events arrive, then the per-subscriber replay that turns
//! events into merged intervals (SPEC.md §2).

use std::sync::Arc;

use hashbrown::HashMap;

use super::event::{Action, Event, SubscriberType};
use super::replay::{Replay, sort_keys_in_report_order};
use super::{AssignmentLedger, CustomerData, Diagnostics, KeyData, LabelSyms, LoadMode};
use crate::catalog::PackageId;
use crate::error::{Error, IssueKind, LoadIssue, Quoted, Result, Severity};
use crate::org::{Organisation, Owner};
use crate::strings::{Interner, Sym};

/// The fields of an event, used to locate a problem in a CSV row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    EventId,
    OccurredAt,
    Action,
    SubscriberId,
    CustomerOrgId,
    CustomerExternalId,
    SubPartnerOrgId,
    SubscriberType,
    UserId,
    WorkspaceId,
    Package,
    LocationId,
    LicenseId,
}

impl Field {
    pub(crate) const ALL: [Field; 13] = [
        Field::EventId,
        Field::OccurredAt,
        Field::Action,
        Field::SubscriberId,
        Field::CustomerOrgId,
        Field::CustomerExternalId,
        Field::SubPartnerOrgId,
        Field::SubscriberType,
        Field::UserId,
        Field::WorkspaceId,
        Field::Package,
        Field::LocationId,
        Field::LicenseId,
    ];

    /// The accepted (normalised) header names of the field: its name only.
    pub(crate) fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::EventId => &["event_id"],
            Field::OccurredAt => &["occurred_at"],
            Field::Action => &["action"],
            Field::SubscriberId => &["subscriber_id"],
            Field::CustomerOrgId => &["customer_org_id"],
            Field::CustomerExternalId => &["customer_external_id"],
            Field::SubPartnerOrgId => &["sub_partner_org_id"],
            Field::SubscriberType => &["subscriber_type"],
            Field::UserId => &["user_id"],
            Field::WorkspaceId => &["workspace_id"],
            Field::Package => &["package"],
            Field::LocationId => &["location_id"],
            Field::LicenseId => &["license_id"],
        }
    }

    pub(crate) fn name(self) -> &'static str {
        self.aliases().first().copied().unwrap_or("")
    }
}

/// 1-based column of each field in the source, when the source is a CSV file.
pub(crate) type Columns = [Option<usize>; 13];

/// An accepted event, compact: 56 bytes whatever its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RawEvent {
    pub(super) at: i64,
    pub(super) line: u64,
    pub(super) subscriber: Sym,
    pub(super) customer: u32,
    pub(super) user_id: Sym,
    pub(super) workspace_id: Sym,
    pub(super) location: Sym,
    pub(super) license: Sym,
    pub(super) external_id: Sym,
    pub(super) package: u16,
    pub(super) action: Action,
    pub(super) subscriber_type: Option<SubscriberType>,
}

impl RawEvent {
    /// Same content (the line differs for a duplicate row). Stored (not interned) texts are
    /// compared as text.
    fn same_content(&self, other: &RawEvent, strings: &Interner) -> bool {
        let text_eq = |a: Sym, b: Sym| a == b || strings.get(a) == strings.get(b);
        let bare = |e: &RawEvent| RawEvent {
            line: 0,
            user_id: Sym::EMPTY,
            workspace_id: Sym::EMPTY,
            license: Sym::EMPTY,
            ..*e
        };
        bare(self) == bare(other)
            && text_eq(self.user_id, other.user_id)
            && text_eq(self.workspace_id, other.workspace_id)
            && text_eq(self.license, other.license)
    }
}

const NO_CUSTOMER: u32 = u32::MAX;
const NO_PACKAGE: u16 = u16::MAX;

/// Collects assignment events (from code or CSV), validating each row, then compiles them into an
/// [`AssignmentLedger`].
///
/// Rows with a problem are recorded with their line (or push number) and reason; nothing is
/// dropped silently. [`LedgerBuilder::finish`] then replays each subscriber's events in time order.
///
/// ```
/// use wholesale_billing::{AssignmentLedger, Event, LoadMode, Organisation, Partner, IssueKind};
/// let org = Organisation::new(Partner {
///     org_id: "p-1".into(), name: "Acme".into(), subscription_id: "Sub1".into(),
/// })?;
/// let build = || -> wholesale_billing::Result<_> {
///     let mut builder = AssignmentLedger::builder(org.clone());
///     builder
///         .push(Event::assign("e1", "2024-05-01T08:00:00Z".parse()?, "s1", "c1", "webex_calling").user("u1"))
///         .push(Event::remove("e2", "2024-05-01T20:00:00Z".parse()?, "s1"))
///         .push(Event::remove("e3", "2024-05-02T20:00:00Z".parse()?, "s1"));
///     Ok(builder)
/// };
/// // Strict: the REMOVE with nothing assigned fails the load.
/// let err = build()?.finish(LoadMode::Strict).unwrap_err();
/// assert_eq!(err.issues()[0].kind, IssueKind::RemoveWithoutAssignment);
/// // Lenient: it is a warning.
/// let (ledger, diagnostics) = build()?.finish(LoadMode::Lenient)?;
/// assert_eq!(diagnostics.warning_count(), 1);
/// assert_eq!(ledger.row_key_count(), 1);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub struct LedgerBuilder {
    org: Arc<Organisation>,
    strings: Interner,
    events: Vec<RawEvent>,
    customers: Vec<CustomerData>,
    customer_index: HashMap<Sym, u32>,
    /// The event id of each accepted event (symbol `i + 1` for event `i`), stored, not interned.
    event_ids: Interner,
    /// The hash of each accepted event's id: duplicates are found by sorting at the end.
    event_id_hashes: Vec<u64>,
    /// Sub-partner org id → owner.
    owners: HashMap<String, Owner>,
    /// The last text and symbol of a few low-cardinality fields: consecutive rows usually share
    /// them, and a hit saves a probe of the big string table.
    recent: [(String, Sym); 3],
    labels: LabelSyms,
    issues: Vec<LoadIssue>,
    /// The 1-based column of `event_id` when reading CSV (to locate duplicate ids).
    event_id_column: Option<usize>,
    rows_read: u64,
    pushed: u64,
    fatal: Option<Error>,
}

impl std::fmt::Debug for LedgerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LedgerBuilder")
            .field("rows_read", &self.rows_read)
            .field("events", &self.events.len())
            .field("issues", &self.issues.len())
            .finish_non_exhaustive()
    }
}

impl LedgerBuilder {
    /// A builder for the events of `org`.
    pub fn new(org: Organisation) -> Self {
        let mut strings = Interner::new();
        let mut sym = |s: &str| strings.intern(s).unwrap_or(Sym::EMPTY);
        let packages = org
            .catalog
            .entries()
            .iter()
            .map(|e| [sym(&e.service_name), sym(&e.sku), sym(&e.description)])
            .collect();
        let mut owners = vec![[sym(&org.partner.name), sym(&org.partner.org_id)]];
        owners.extend(org.sub_partners.iter().map(|sp| [sym(&sp.name), sym(&sp.org_id)]));
        let subscription_id = sym(&org.partner.subscription_id);
        let org_owners = org
            .sub_partners
            .iter()
            .enumerate()
            .map(|(i, sp)| (sp.org_id.clone(), Owner::SubPartner(i as u16)))
            .collect();
        LedgerBuilder {
            org: Arc::new(org),
            strings,
            events: Vec::new(),
            customers: Vec::new(),
            customer_index: HashMap::new(),
            event_ids: Interner::new(),
            event_id_hashes: Vec::new(),
            owners: org_owners,
            recent: Default::default(),
            labels: LabelSyms {
                packages,
                owners,
                subscription_id,
            },
            issues: Vec::new(),
            event_id_column: None,
            rows_read: 0,
            pushed: 0,
            fatal: None,
        }
    }

    /// The organisation the events are for.
    pub fn organisation(&self) -> &Organisation {
        &self.org
    }

    /// Reserves room for about `additional` more events (and their ids and texts), so that a
    /// large load does not grow its tables step by step.
    ///
    /// ```
    /// # use wholesale_billing::{LedgerBuilder, Organisation, Partner};
    /// # let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let mut builder = LedgerBuilder::new(org);
    /// builder.reserve(1_000);
    /// assert_eq!(builder.accepted(), 0);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn reserve(&mut self, additional: usize) {
        self.events.reserve(additional);
        self.event_id_hashes.reserve(additional);
        self.event_ids.reserve(0, additional * 16);
        // Subscribers are interned; user or workspace and license ids are stored per event.
        self.strings.reserve(additional, additional * 3 * 36);
    }

    /// Adds one event (its texts trimmed of white space, as the CSV reader does). A row-level
    /// problem is recorded (see [`LedgerBuilder::issues`]) and reported
    /// by [`LedgerBuilder::finish`]; its line is the 1-based number of the event in push order.
    pub fn push(&mut self, event: Event<'_>) -> &mut Self {
        self.pushed += 1;
        let line = self.pushed;
        self.push_row(line, &event.trimmed(), &[None; 13]);
        self
    }

    /// The issues recorded so far (rows rejected or warned about).
    pub fn issues(&self) -> &[LoadIssue] {
        &self.issues
    }

    /// The number of events accepted so far.
    pub fn accepted(&self) -> usize {
        self.events.len()
    }

    pub(crate) fn record(&mut self, issue: LoadIssue) {
        self.issues.push(issue);
    }

    pub(crate) fn set_event_id_column(&mut self, column: Option<usize>) {
        self.event_id_column = column;
    }

    pub(crate) fn count_row(&mut self) {
        self.rows_read += 1;
    }

    pub(crate) fn set_fatal(&mut self, error: Error) {
        if self.fatal.is_none() {
            self.fatal = Some(error);
        }
    }

    fn reject(&mut self, line: u64, ev: &Event<'_>, cols: &Columns, field: Field, kind: IssueKind, message: String) {
        let mut issue = LoadIssue::new(Severity::Error, line, kind, message).with_event_id(ev.event_id);
        let column = cols[field as usize];
        if let Some(column) = column {
            issue = issue.at_column(column, field.name());
        } else {
            issue.field = Some(field.name().to_owned());
        }
        self.issues.push(issue);
    }

    /// Validates one row and keeps it when it is usable. `line` is the row's line in its source.
    pub(crate) fn push_row(&mut self, line: u64, ev: &Event<'_>, cols: &Columns) {
        if let Err(e) = self.try_push_row(line, ev, cols) {
            self.set_fatal(e);
        }
    }

    fn try_push_row(&mut self, line: u64, ev: &Event<'_>, cols: &Columns) -> Result<()> {
        let missing = |f: Field| format!("{} is required", f.name());
        if ev.event_id.is_empty() {
            self.reject(
                line,
                ev,
                cols,
                Field::EventId,
                IssueKind::MissingField,
                missing(Field::EventId),
            );
            return Ok(());
        }
        if ev.subscriber_id.is_empty() {
            let kind = IssueKind::MissingField;
            self.reject(line, ev, cols, Field::SubscriberId, kind, missing(Field::SubscriberId));
            return Ok(());
        }
        let mut customer = NO_CUSTOMER;
        let mut new_customer: Option<(Sym, Owner)> = None;
        let mut package = NO_PACKAGE;
        if ev.action == Action::Assign {
            for (field, empty) in [
                (Field::CustomerOrgId, ev.customer_org_id.is_empty()),
                (Field::SubscriberType, ev.subscriber_type.is_none()),
                (Field::Package, ev.package.is_empty()),
            ] {
                if empty {
                    let message = format!("{} is required for ASSIGN", field.name());
                    self.reject(line, ev, cols, field, IssueKind::MissingField, message);
                    return Ok(());
                }
            }
            let Some(p) = self.package_id(ev.package) else {
                let message = format!(
                    "unknown package {}; known: {} (add others under [catalog.<package>] in the organisation file)",
                    Quoted(ev.package),
                    self.org.catalog.package_names()
                );
                self.reject(line, ev, cols, Field::Package, IssueKind::UnknownPackage, message);
                return Ok(());
            };
            package = p.0;
            let Some(owner) = self.owner(ev.sub_partner_org_id) else {
                let message = format!(
                    "sub-partner {} is not in the organisation file",
                    Quoted(ev.sub_partner_org_id)
                );
                let kind = IssueKind::UnknownSubPartner;
                self.reject(line, ev, cols, Field::SubPartnerOrgId, kind, message);
                return Ok(());
            };
            let org_sym = self.intern_recent(0, ev.customer_org_id)?;
            match self.customer_index.get(&org_sym) {
                Some(&index) => {
                    let existing = self.customers[index as usize].owner;
                    if existing != owner {
                        let message = format!(
                            "customer {} is already owned by {}; this row names {}",
                            Quoted(ev.customer_org_id),
                            self.describe_owner(existing),
                            self.describe_owner(owner)
                        );
                        let kind = IssueKind::CustomerOwnerConflict;
                        self.reject(line, ev, cols, Field::SubPartnerOrgId, kind, message);
                        return Ok(());
                    }
                    customer = index;
                }
                None => new_customer = Some((org_sym, owner)),
            }
        }
        let raw = RawEvent {
            at: ev.occurred_at.as_micros(),
            line,
            subscriber: self.strings.intern(ev.subscriber_id)?,
            customer,
            user_id: self.strings.store(ev.user_id)?,
            workspace_id: self.strings.store(ev.workspace_id)?,
            location: self.intern_recent(2, ev.location_id)?,
            license: self.strings.store(ev.license_id)?,
            external_id: self.intern_recent(1, ev.customer_external_id)?,
            package,
            action: ev.action,
            subscriber_type: if ev.action == Action::Assign {
                ev.subscriber_type
            } else {
                None
            },
        };
        let raw = if ev.action == Action::Remove {
            // A REMOVE uses only its subscriber and time; other columns are not part of its content.
            RawEvent {
                user_id: Sym::EMPTY,
                workspace_id: Sym::EMPTY,
                location: Sym::EMPTY,
                license: Sym::EMPTY,
                external_id: Sym::EMPTY,
                ..raw
            }
        } else {
            raw
        };
        if u32::try_from(self.events.len()).is_err() {
            return Err(Error::overflow("more than 4 billion events"));
        }
        let mut raw = raw;
        if let Some((org_sym, owner)) = new_customer {
            let c = u32::try_from(self.customers.len()).map_err(|_| Error::overflow("too many customers"))?;
            self.customers.push(CustomerData {
                org: org_sym,
                external_id: Sym::EMPTY,
                owner,
            });
            self.customer_index.insert(org_sym, c);
            raw.customer = c;
        }
        self.event_ids.store(ev.event_id)?;
        self.event_id_hashes.push(self.event_ids.hash_of(ev.event_id));
        self.events.push(raw);
        Ok(())
    }

    fn package_id(&self, package: &str) -> Option<PackageId> {
        self.org.catalog.lookup(package)
    }

    fn owner(&self, sub_partner_org_id: &str) -> Option<Owner> {
        if sub_partner_org_id.is_empty() {
            return Some(Owner::Partner);
        }
        self.owners.get(sub_partner_org_id).copied()
    }

    /// Interns a low-cardinality field (`slot` 0: customer org, 1: external id, 2: location)
    /// through its one-entry cache.
    fn intern_recent(&mut self, slot: usize, text: &str) -> Result<Sym> {
        let (last, sym) = &mut self.recent[slot];
        if text.is_empty() {
            return Ok(Sym::EMPTY);
        }
        if last.as_str() != text {
            *sym = self.strings.intern(text)?;
            last.clear();
            last.push_str(text);
        }
        Ok(*sym)
    }

    fn describe_owner(&self, owner: Owner) -> String {
        match owner {
            Owner::Partner => "the partner".to_owned(),
            Owner::SubPartner(_) => format!("sub-partner {}", Quoted(self.org.owner_identity(owner).1)),
        }
    }

    /// Finds events whose id an earlier event already used: an exact duplicate is skipped with a
    /// warning, other content is an error. Returns which events are dropped.
    fn drop_duplicate_ids(&mut self) -> Vec<bool> {
        let mut dropped = vec![false; self.events.len()];
        let mut by_hash: Vec<(u64, u32)> = self
            .event_id_hashes
            .iter()
            .enumerate()
            .map(|(i, &h)| (h, i as u32))
            .collect();
        by_hash.sort_unstable();
        let id_text = |i: u32| self.event_ids.get(Sym::from_index(i + 1));
        let mut start = 0;
        while start < by_hash.len() {
            let mut end = start + 1;
            while end < by_hash.len() && by_hash[end].0 == by_hash[start].0 {
                end += 1;
            }
            // Within one hash, each event is compared with the earliest kept event of the same id.
            for j in start + 1..end {
                let later = by_hash[j].1;
                let Some(first) = by_hash[start..j]
                    .iter()
                    .map(|&(_, i)| i)
                    .find(|&i| !dropped[i as usize] && id_text(i) == id_text(later))
                else {
                    continue;
                };
                let (earlier, event) = (&self.events[first as usize], &self.events[later as usize]);
                let (severity, kind, message) = if earlier.same_content(event, &self.strings) {
                    let message = format!("exact duplicate of line {}; skipped", earlier.line);
                    (Severity::Warning, IssueKind::DuplicateEvent, message)
                } else {
                    let message = format!("event_id already used on line {} with other content", earlier.line);
                    (Severity::Error, IssueKind::ConflictingEventId, message)
                };
                let mut issue = LoadIssue::new(severity, event.line, kind, message).with_event_id(id_text(later));
                if let Some(column) = self.event_id_column {
                    issue = issue.at_column(column, Field::EventId.name());
                }
                self.issues.push(issue);
                dropped[later as usize] = true;
            }
            start = end;
        }
        dropped
    }

    /// A customer's external id is the latest non-empty one given, in time order (ties: file order).
    fn set_external_ids(&mut self, dropped: &[bool]) {
        let mut set_at: Vec<(i64, u32)> = vec![(i64::MIN, 0); self.customers.len()];
        for (i, e) in self.events.iter().enumerate() {
            if dropped[i] || e.customer == NO_CUSTOMER || e.external_id.is_empty() {
                continue;
            }
            let c = e.customer as usize;
            if (e.at, i as u32) >= set_at[c] {
                set_at[c] = (e.at, i as u32);
                self.customers[c].external_id = e.external_id;
            }
        }
    }

    /// Replays every subscriber's events in time order (ties keep push order) and compiles the
    /// ledger.
    ///
    /// # Errors
    /// [`Error::Rejected`] in strict mode when any row was rejected or a `REMOVE` found nothing
    /// assigned, with every error; [`Error::Io`] or [`Error::Overflow`] when the input could not be
    /// read or does not fit.
    pub fn finish(mut self, mode: LoadMode) -> Result<(AssignmentLedger, Diagnostics)> {
        if let Some(fatal) = self.fatal.take() {
            return Err(fatal);
        }
        let dropped = self.drop_duplicate_ids();
        self.set_external_ids(&dropped);
        let mut order: Vec<u128> = self
            .events
            .iter()
            .enumerate()
            .filter(|(i, _)| !dropped[*i])
            .map(|(i, e)| {
                let at = (e.at as u64) ^ (1 << 63);
                ((e.subscriber.index() as u128) << 96) | (u128::from(at) << 32) | i as u128
            })
            .collect();
        order.sort_unstable();

        let mut keys: Vec<KeyData> = Vec::new();
        let mut intervals: Vec<(i64, i64)> = Vec::with_capacity(self.events.len());
        let mut subscriber_count = 0usize;
        let mut replay = Replay::default();
        let remove_severity = match mode {
            LoadMode::Strict => Severity::Error,
            LoadMode::Lenient => Severity::Warning,
        };
        let mut start = 0;
        while start < order.len() {
            let subscriber = order[start] >> 96;
            let mut end = start + 1;
            while end < order.len() && order[end] >> 96 == subscriber {
                end += 1;
            }
            let group = order[start..end]
                .iter()
                .map(|&o| &self.events[(o & 0xFFFF_FFFF) as usize]);
            let before = keys.len();
            replay.run(
                group,
                &self.strings,
                &mut keys,
                &mut intervals,
                &mut self.issues,
                remove_severity,
            );
            if keys.len() > before {
                subscriber_count += 1;
            }
            start = end;
        }
        drop(order);

        self.issues.sort_by_key(|i| (i.line, i.severity));
        // CSV rows and events pushed in code both count as rows read.
        let rows_read = self.rows_read + self.pushed;
        let rejected_rows = {
            let mut lines: Vec<u64> = self
                .issues
                .iter()
                .filter(|i| i.is_error() && i.kind != IssueKind::RemoveWithoutAssignment)
                .map(|i| i.line)
                .collect();
            lines.dedup();
            lines.len() as u64
        };
        let skipped = self
            .issues
            .iter()
            .filter(|i| matches!(i.kind, IssueKind::DuplicateEvent | IssueKind::RemoveWithoutAssignment))
            .count() as u64;
        let diagnostics = Diagnostics {
            rows_read,
            rows_accepted: rows_read.saturating_sub(rejected_rows + skipped),
            issues: self.issues,
        };
        if mode == LoadMode::Strict && diagnostics.error_count() > 0 {
            return Err(Error::Rejected {
                source_name: "events",
                issues: diagnostics.issues.into_iter().filter(LoadIssue::is_error).collect(),
            });
        }

        let strings = self.strings.freeze();
        sort_keys_in_report_order(&mut keys, &self.customers, &strings, &self.labels);
        let mut used = vec![false; self.customers.len()];
        for k in &keys {
            used[k.customer as usize] = true;
        }
        let customer_count = used.iter().filter(|u| **u).count();
        let ledger = AssignmentLedger {
            org: self.org,
            strings: Arc::new(strings),
            customers: self.customers,
            keys,
            intervals,
            labels: self.labels,
            subscriber_count,
            customer_count,
        };
        Ok((ledger, diagnostics))
    }
}
