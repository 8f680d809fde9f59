//! The ledger builder: events arrive (in code, from CSV, as records) and each row is validated
//! against the organisation as it comes; [`LedgerBuilder::finish`] (in `compile`) then turns the
//! accepted events into a ledger.

use std::sync::Arc;

use hashbrown::HashMap;

use super::event::{Action, Event};
use super::field::{Columns, Field};
use super::raw::{NO_CUSTOMER, NO_PACKAGE, RawEvent};
use super::{CustomerData, LabelSyms};
use crate::error::{Error, IssueKind, LoadIssue, Quoted, Result, Severity};
use crate::org::{Organisation, Owner};
use crate::strings::{Interner, ShortTexts, Sym};

/// Collects assignment events (in code, from CSV or as records), validating each row, then
/// compiles them into an [`AssignmentLedger`](crate::AssignmentLedger).
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
    pub(super) strings: Interner,
    pub(super) events: Vec<RawEvent>,
    pub(super) customers: Vec<CustomerData>,
    /// The customer of each org id (symbol) an `ASSIGN` named, with its owner.
    pub(super) customer_index: HashMap<Sym, (u32, Owner)>,
    /// The event id of each accepted event (symbol `i + 1` for event `i`), stored, not interned.
    pub(super) event_ids: Interner,
    /// The hash of each accepted event's id: duplicates are found by sorting at the end.
    pub(super) event_id_hashes: Vec<u32>,
    /// What a row is checked against, shared with the threads that read rows.
    pub(super) rules: Arc<Rules>,
    /// The texts of a few low-cardinality fields (customer org, external id, location,
    /// license) with their symbols.
    pub(super) short_texts: ShortTexts,
    pub(super) labels: LabelSyms,
    pub(super) issues: Vec<LoadIssue>,
    /// The 1-based column of `event_id` when reading CSV or records (to locate duplicate ids).
    pub(super) event_id_column: Option<usize>,
    pub(super) rows_read: u64,
    pub(super) pushed: u64,
    pub(super) fatal: Option<Error>,
    /// The threads of [`LedgerBuilder::read_csv`].
    pub(super) threads: usize,
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
        let mut strings = Interner::packing();
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
        let rules = Arc::new(Rules {
            owners: org
                .sub_partners
                .iter()
                .enumerate()
                .map(|(i, sp)| (sp.org_id.clone(), Owner::SubPartner(i as u16)))
                .collect(),
            org: Arc::new(org),
        });
        LedgerBuilder {
            strings,
            events: Vec::new(),
            customers: Vec::new(),
            customer_index: HashMap::new(),
            event_ids: Interner::new(),
            event_id_hashes: Vec::new(),
            rules,
            short_texts: ShortTexts::default(),
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
            threads: crate::parallel::default_threads(),
        }
    }

    /// The threads [`LedgerBuilder::read_csv`] uses (default: the machine's available
    /// parallelism): with 2 or more, parts of the CSV are split into rows, parsed and checked on
    /// `threads - 1` worker threads while the calling thread keeps the rows, and
    /// [`LedgerBuilder::finish`] sorts and replays the subscribers' events in `threads` runs of
    /// subscribers, each on its own thread; with 1 nothing is spawned. The ledger and its issues
    /// are the same with any.
    ///
    /// ```
    /// use wholesale_billing::{LedgerBuilder, LoadMode, Organisation, Partner};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let csv = "event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package\n\
    ///            e1,2024-05-01T00:00:00Z,ASSIGN,s1,c1,USER,webex_calling\n";
    /// let mut builder = LedgerBuilder::new(org);
    /// builder.threads(1).read_csv(csv.as_bytes())?;
    /// let (ledger, diagnostics) = builder.finish(LoadMode::Strict)?;
    /// assert_eq!((ledger.subscriber_count(), diagnostics.rows_read), (1, 1));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn threads(&mut self, threads: usize) -> &mut Self {
        self.threads = threads.max(1);
        self
    }

    /// The organisation the events are for.
    pub fn organisation(&self) -> &Organisation {
        &self.rules.org
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
        // Subscribers and licenses are interned; user or workspace ids are stored per event.
        self.strings.reserve(additional, additional * 3 * 36);
        self.strings.reserve_packed(additional * 3);
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

    /// Where rows from columns (CSV, records) start: the column of `event_id` locates duplicate
    /// ids found at the end.
    pub(super) fn start_columns(&mut self, cols: &Columns) {
        self.event_id_column = cols[Field::EventId as usize];
    }

    pub(super) fn set_fatal(&mut self, error: Error) {
        if self.fatal.is_none() {
            self.fatal = Some(error);
        }
    }

    /// Validates one row and keeps it when it is usable. `line` is the row's line in its source.
    pub(super) fn push_row(&mut self, line: u64, ev: &Event<'_>, cols: &Columns) {
        if let Err(e) = self.try_push_row(line, ev, cols) {
            self.set_fatal(e);
        }
    }

    fn try_push_row(&mut self, line: u64, ev: &Event<'_>, cols: &Columns) -> Result<()> {
        match self.rules.check(line, ev, cols) {
            Ok(checked) => self.accept(line, ev, checked, cols),
            Err(issue) => {
                self.issues.push(issue);
                Ok(())
            }
        }
    }

    /// Keeps a row that passed [`Rules::check`]: its texts interned or stored, its customer
    /// found or added. A customer already owned by another owner rejects the row; an error is a
    /// table too large (the load cannot go on).
    pub(super) fn accept(&mut self, line: u64, ev: &Event<'_>, checked: Checked, cols: &Columns) -> Result<()> {
        self.accept_packed(line, ev, checked, cols, &Packed::of(ev))
    }

    /// [`LedgerBuilder::accept`] with the row's UUIDs packed beforehand (by a worker thread).
    pub(super) fn accept_packed(
        &mut self,
        line: u64,
        ev: &Event<'_>,
        checked: Checked,
        cols: &Columns,
        packed: &Packed,
    ) -> Result<()> {
        let mut customer = NO_CUSTOMER;
        let mut new_customer: Option<(Sym, Owner)> = None;
        if ev.action == Action::Assign {
            let owner = checked.owner;
            let org_sym = self.intern_short(ev.customer_org_id, packed.org)?;
            match self.customer_index.get(&org_sym) {
                Some(&(index, existing)) => {
                    if existing != owner {
                        let message = format!(
                            "customer {} is already owned by {}; this row names {}",
                            Quoted(ev.customer_org_id),
                            self.describe_owner(existing),
                            self.describe_owner(owner)
                        );
                        let kind = IssueKind::CustomerOwnerConflict;
                        self.issues.push(rejection(
                            line,
                            ev.event_id,
                            cols,
                            Field::SubPartnerOrgId,
                            kind,
                            message,
                        ));
                        return Ok(());
                    }
                    customer = index;
                }
                None => new_customer = Some((org_sym, owner)),
            }
        }
        let raw = RawEvent {
            at: ev.occurred_at.as_micros(),
            line: u32::try_from(line).map_err(|_| Error::overflow("more than 4,294,967,295 rows in one load"))?,
            subscriber: self.strings.intern_packed(ev.subscriber_id, packed.subscriber)?,
            customer,
            user_id: self.strings.store_packed(ev.user_id, packed.user)?,
            workspace_id: self.strings.store_packed(ev.workspace_id, packed.workspace)?,
            location: self.intern_short(ev.location_id, packed.location)?,
            license: self.intern_short(ev.license_id, packed.license)?,
            external_id: self.intern_short(ev.customer_external_id, packed.external)?,
            package: checked.package,
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
            self.customer_index.insert(org_sym, (c, owner));
            raw.customer = c;
        }
        self.event_ids.store(ev.event_id)?;
        self.event_id_hashes.push(self.event_ids.hash_of(ev.event_id));
        self.events.push(raw);
        Ok(())
    }

    /// Reads the table slots [`LedgerBuilder::accept_packed`] looks up for `ev` (its subscriber
    /// and short texts), and gives something of what it read: see [`Interner::touch`].
    #[inline]
    pub(super) fn touch(&self, ev: &Event<'_>, packed: &Packed) -> u32 {
        let short =
            |text: &str, packed: &Option<[u8; 16]>| self.short_texts.touch(text, packed.as_ref(), &self.strings);
        let mut seen = self.strings.touch(ev.subscriber_id, packed.subscriber.as_ref());
        if ev.action == Action::Assign {
            seen ^= short(ev.customer_org_id, &packed.org);
        }
        seen ^ short(ev.customer_external_id, &packed.external)
            ^ short(ev.location_id, &packed.location)
            ^ short(ev.license_id, &packed.license)
    }

    /// Reads the slot of `ev`'s customer in the customers' index, when its org id is known,
    /// as [`LedgerBuilder::touch`] does (after it: the org id's slot is then cached).
    #[inline]
    pub(super) fn touch_customer(&self, ev: &Event<'_>, packed: &Packed) -> u32 {
        if ev.action != Action::Assign {
            return 0;
        }
        self.short_texts
            .get(ev.customer_org_id, packed.org.as_ref(), &self.strings)
            .and_then(|org| self.customer_index.get(&org))
            .map_or(0, |&(index, _)| index)
    }

    /// Interns a low-cardinality field through the short texts; `packed` is the text packed
    /// as a UUID, if it is one.
    #[inline]
    fn intern_short(&mut self, text: &str, packed: Option<[u8; 16]>) -> Result<Sym> {
        self.short_texts.intern(text, packed, &mut self.strings)
    }

    fn describe_owner(&self, owner: Owner) -> String {
        match owner {
            Owner::Partner => "the partner".to_owned(),
            Owner::SubPartner(_) => format!("sub-partner {}", Quoted(self.rules.org.owner_identity(owner).1)),
        }
    }
}

/// A row's ids packed when they are lowercase UUIDs ([`pack_uuid`](crate::strings::pack_uuid)):
/// made by the thread that parsed the row, so that the thread keeping rows does not.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Packed {
    subscriber: Option<[u8; 16]>,
    user: Option<[u8; 16]>,
    workspace: Option<[u8; 16]>,
    license: Option<[u8; 16]>,
    org: Option<[u8; 16]>,
    external: Option<[u8; 16]>,
    location: Option<[u8; 16]>,
}

impl Packed {
    /// The packed ids of `ev`.
    pub(super) fn of(ev: &Event<'_>) -> Packed {
        use crate::strings::pack_uuid;
        Packed {
            subscriber: pack_uuid(ev.subscriber_id),
            user: pack_uuid(ev.user_id),
            workspace: pack_uuid(ev.workspace_id),
            license: pack_uuid(ev.license_id),
            org: pack_uuid(ev.customer_org_id),
            external: pack_uuid(ev.customer_external_id),
            location: pack_uuid(ev.location_id),
        }
    }
}

/// A row's rejection for one field: the issue names the field, and its column when the source
/// has one.
pub(super) fn rejection(
    line: u64,
    event_id: &str,
    cols: &Columns,
    field: Field,
    kind: IssueKind,
    message: String,
) -> LoadIssue {
    let issue = LoadIssue::new(Severity::Error, line, kind, message).with_event_id(event_id);
    match cols[field as usize] {
        Some(column) => issue.at_column(column, field.name()),
        None => LoadIssue {
            field: Some(field.name().to_owned()),
            ..issue
        },
    }
}

/// What a row is checked against before it is kept: the organisation's catalog and
/// sub-partners. Read-only, so that the threads reading rows check them.
#[derive(Debug)]
pub(super) struct Rules {
    /// The organisation (the builder's own, kept here only).
    pub(super) org: Arc<Organisation>,
    /// Sub-partner org id → owner.
    owners: HashMap<String, Owner>,
}

/// What [`Rules::check`] found of a row that passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Checked {
    /// The package of an `ASSIGN` ([`NO_PACKAGE`] for a `REMOVE`).
    pub(super) package: u16,
    /// The owner an `ASSIGN` names (the partner for a `REMOVE`).
    pub(super) owner: Owner,
}

impl Rules {
    /// Checks what needs nothing of the rows before: the required fields, the package and the
    /// sub-partner. The issue is the row's rejection.
    pub(super) fn check(&self, line: u64, ev: &Event<'_>, cols: &Columns) -> std::result::Result<Checked, LoadIssue> {
        let reject =
            |field: Field, kind: IssueKind, message: String| rejection(line, ev.event_id, cols, field, kind, message);
        let missing = |f: Field| format!("{} is required", f.name());
        if ev.event_id.is_empty() {
            return Err(reject(Field::EventId, IssueKind::MissingField, missing(Field::EventId)));
        }
        if ev.subscriber_id.is_empty() {
            return Err(reject(
                Field::SubscriberId,
                IssueKind::MissingField,
                missing(Field::SubscriberId),
            ));
        }
        if ev.action != Action::Assign {
            return Ok(Checked {
                package: NO_PACKAGE,
                owner: Owner::Partner,
            });
        }
        for (field, empty) in [
            (Field::CustomerOrgId, ev.customer_org_id.is_empty()),
            (Field::SubscriberType, ev.subscriber_type.is_none()),
            (Field::Package, ev.package.is_empty()),
        ] {
            if empty {
                let message = format!("{} is required for ASSIGN", field.name());
                return Err(reject(field, IssueKind::MissingField, message));
            }
        }
        let Some(package) = self.org.catalog.lookup(ev.package) else {
            let message = format!(
                "unknown package {}; known: {} (add others under [catalog.<package>] in the organisation file)",
                Quoted(ev.package),
                self.org.catalog.package_names()
            );
            return Err(reject(Field::Package, IssueKind::UnknownPackage, message));
        };
        let owner = if ev.sub_partner_org_id.is_empty() {
            Owner::Partner
        } else {
            let Some(&owner) = self.owners.get(ev.sub_partner_org_id) else {
                let message = format!(
                    "sub-partner {} is not in the organisation file",
                    Quoted(ev.sub_partner_org_id)
                );
                return Err(reject(Field::SubPartnerOrgId, IssueKind::UnknownSubPartner, message));
            };
            owner
        };
        Ok(Checked {
            package: package.0,
            owner,
        })
    }
}

/// A builder for a partner with no sub-partners, on `threads` threads (for tests).
#[cfg(test)]
pub(super) fn test_builder(threads: usize) -> Result<LedgerBuilder> {
    let org = Organisation::new(crate::org::Partner {
        org_id: "p".into(),
        name: "P".into(),
        subscription_id: "S".into(),
    })?;
    let mut builder = LedgerBuilder::new(org);
    builder.threads(threads);
    Ok(builder)
}
