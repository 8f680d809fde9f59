//! Who calls: the subscribers of a ledger with their assignments inside the period, their sites
//! and how much they call, grouped by time zone for the draw.

use hashbrown::HashMap;

use super::mix::{Profile, package_profile};
use crate::ledger::{AssignmentLedger, SubscriberType};
use crate::strings::Sym;
use crate::synthetic::numbering::{COUNTRIES, Number, ZONES, pick_weighted, stable_hash};

const MICROS_PER_MILLI: i64 = 1_000;

/// A stretch of time in which a subscriber holds one package at one site.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    /// Start, UTC milliseconds since the epoch (inclusive).
    pub start: i64,
    /// End, UTC milliseconds since the epoch (exclusive).
    pub end: i64,
    /// What the package lets the subscriber call.
    pub profile: Profile,
    /// Calls relative to a `webex_calling` user (per mille).
    pub weight: u32,
    /// Index in [`Population::sites`].
    pub site: u32,
}

/// A subscriber who holds a package at some time of the period.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    /// Index in [`Population::customers`].
    pub customer: u32,
    /// `User UUID`: the user or workspace id (the subscriber id when the events give neither).
    pub user_uuid: Sym,
    pub workspace: bool,
    pub first_segment: u32,
    pub segments: u32,
    /// The largest segment weight: the rate the subscriber is drawn at.
    pub weight: u32,
    /// A stable hash of the subscriber: its number, device and apps.
    pub hash: u64,
    /// Its extension in its customer.
    pub extension: Number,
}

/// A site (a customer location): where a call is made, in which time zone.
#[derive(Debug, Clone)]
pub(super) struct Site {
    /// `Site UUID`: the location id, or a made-up one when the events give none.
    pub uuid: String,
    /// Index in [`ZONES`].
    pub zone: usize,
    pub city: &'static str,
    pub main_number: Number,
}

/// A customer organisation.
#[derive(Debug, Clone)]
pub(super) struct Customer {
    pub org: Sym,
    /// Its callers are `first_caller..first_caller + callers`.
    pub first_caller: u32,
    pub callers: u32,
    /// Its freephone number (inbound toll-free calls), in its main site's country.
    pub freephone: Number,
    /// Index in [`ZONES`] of its main site.
    pub zone: usize,
}

/// The callers of one time zone, drawn by weight.
#[derive(Debug, Clone, Default)]
pub(super) struct Group {
    pub callers: Vec<u32>,
    /// Prefix sums of the callers' weights.
    pub cumulative: Vec<u64>,
}

impl Group {
    pub fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// The caller at `point` (`0..total`).
    pub fn at(&self, point: u64) -> Option<u32> {
        let i = self.cumulative.partition_point(|&c| c <= point);
        self.callers.get(i).copied()
    }
}

/// Every caller of the period.
pub(super) struct Population<'a> {
    pub ledger: &'a AssignmentLedger,
    pub callers: Vec<Caller>,
    pub segments: Vec<Segment>,
    pub sites: Vec<Site>,
    pub customers: Vec<Customer>,
    /// Per zone of [`ZONES`].
    pub groups: Vec<Group>,
}

impl<'a> Population<'a> {
    /// The callers of `ledger` between `start` and `end` (UTC milliseconds).
    pub fn new(ledger: &'a AssignmentLedger, seed: u64, start: i64, end: i64) -> Population<'a> {
        let strings = &ledger.strings;
        let catalog = &ledger.org.catalog;
        let mut callers: Vec<Caller> = Vec::new();
        let mut segments: Vec<Segment> = Vec::new();
        let mut sites: Vec<Site> = Vec::new();
        let mut site_of: HashMap<(u32, Sym), u32> = HashMap::new();
        let mut customers: Vec<Customer> = Vec::new();
        let mut customer_of: HashMap<u32, u32> = HashMap::new();
        // Row keys come in report order (customer, subscriber, ...): a subscriber's keys are
        // consecutive.
        let mut current: Option<(u32, Sym)> = None;
        for (index, key) in ledger.keys.iter().enumerate() {
            let customer = *customer_of.entry(key.customer).or_insert_with(|| {
                let org = ledger
                    .customers
                    .get(key.customer as usize)
                    .map(|c| c.org)
                    .unwrap_or_default();
                customers.push(Customer {
                    org,
                    first_caller: u32::try_from(callers.len()).unwrap_or(u32::MAX),
                    callers: 0,
                    freephone: Number::dialled(""),
                    zone: usize::MAX,
                });
                u32::try_from(customers.len() - 1).unwrap_or(u32::MAX)
            });
            let package = catalog.entry(key.package).package.as_str();
            let (profile, user_weight, workspace_weight) = package_profile(package);
            let workspace = key.subscriber_type == Some(SubscriberType::Workspace);
            let weight = if workspace { workspace_weight } else { user_weight };
            let site = *site_of.entry((key.customer, key.location)).or_insert_with(|| {
                let name = strings.get(key.location);
                let org = ledger
                    .customers
                    .get(key.customer as usize)
                    .map(|c| strings.get(c.org))
                    .unwrap_or_default();
                let uuid = if name.is_empty() {
                    made_up_uuid(stable_hash(seed, org.as_bytes()))
                } else {
                    name.to_owned()
                };
                let h = stable_hash(seed, uuid.as_bytes());
                let zone = pick_weighted(h, ZONES, |z| z.weight);
                let z = &ZONES[zone];
                let country = &COUNTRIES[z.country];
                let city = z
                    .cities
                    .get((h >> 20) as usize % z.cities.len().max(1))
                    .copied()
                    .unwrap_or("");
                let range = country
                    .fixed
                    .get((h >> 28) as usize % country.fixed.len().max(1))
                    .copied()
                    .unwrap_or("");
                sites.push(Site {
                    uuid,
                    zone,
                    city,
                    main_number: Number::from_hash(h >> 8, country, range),
                });
                u32::try_from(sites.len() - 1).unwrap_or(u32::MAX)
            });
            if current != Some((key.customer, key.subscriber)) {
                current = Some((key.customer, key.subscriber));
                let person = match (key.user_id, key.workspace_id) {
                    (u, _) if !u.is_empty() => u,
                    (_, w) if !w.is_empty() => w,
                    _ => key.subscriber,
                };
                let index_in_customer = customers.get(customer as usize).map_or(0, |c| c.callers);
                if let Some(c) = customers.get_mut(customer as usize) {
                    c.callers += 1;
                }
                callers.push(Caller {
                    customer,
                    user_uuid: person,
                    workspace,
                    first_segment: u32::try_from(segments.len()).unwrap_or(u32::MAX),
                    segments: 0,
                    weight: 0,
                    hash: stable_hash(seed, strings.get(key.subscriber).as_bytes()),
                    extension: Number::extension(index_in_customer),
                });
            }
            let Some(caller) = callers.last_mut() else { continue };
            for &(s, e) in ledger.key_intervals(index) {
                let s = (s / MICROS_PER_MILLI).max(start);
                let e = (e / MICROS_PER_MILLI).min(end);
                if s < e {
                    segments.push(Segment {
                        start: s,
                        end: e,
                        profile,
                        weight,
                        site,
                    });
                    caller.segments += 1;
                    caller.weight = caller.weight.max(weight);
                }
            }
        }
        for caller in &callers {
            let first = caller.first_segment as usize;
            if let Some(list) = segments.get_mut(first..first + caller.segments as usize) {
                list.sort_by_key(|s| s.start);
            }
        }
        // A customer's main site is the site of its first caller's first segment.
        for customer in &mut customers {
            let zone = callers
                .get(customer.first_caller as usize..(customer.first_caller + customer.callers) as usize)
                .unwrap_or_default()
                .iter()
                .find_map(|c| segments.get(c.first_segment as usize).filter(|_| c.segments > 0))
                .and_then(|s| sites.get(s.site as usize))
                .map_or(0, |s| s.zone);
            customer.zone = zone;
            let country = &COUNTRIES[ZONES[zone].country];
            let h = stable_hash(seed ^ 0x0f, strings.get(customer.org).as_bytes());
            let range = country
                .tollfree
                .get(h as usize % country.tollfree.len().max(1))
                .copied()
                .unwrap_or(SITE_FREEPHONE_FALLBACK);
            customer.freephone = Number::from_hash(h >> 8, country, range);
        }
        let mut groups = vec![Group::default(); ZONES.len()];
        for (index, caller) in callers.iter().enumerate() {
            if caller.segments == 0 || caller.weight == 0 {
                continue;
            }
            let Some(zone) = segments
                .get(caller.first_segment as usize)
                .and_then(|s| sites.get(s.site as usize))
                .map(|s| s.zone)
            else {
                continue;
            };
            if let Some(group) = groups.get_mut(zone) {
                let total = group.total() + u64::from(caller.weight);
                group.callers.push(u32::try_from(index).unwrap_or(u32::MAX));
                group.cumulative.push(total);
            }
        }
        Population {
            ledger,
            callers,
            segments,
            sites,
            customers,
            groups,
        }
    }

    /// The segment of `caller` holding the instant `at` (UTC milliseconds), if any.
    pub fn segment_at(&self, caller: &Caller, at: i64) -> Option<&Segment> {
        let first = caller.first_segment as usize;
        self.segments
            .get(first..first + caller.segments as usize)?
            .iter()
            .find(|s| s.start <= at && at < s.end)
    }

    /// The text of an interned string of the ledger.
    pub fn text(&self, sym: Sym) -> &'a str {
        self.ledger.strings.get(sym)
    }
}

/// A customer with no toll-free range in its country gets a home-country freephone number.
const SITE_FREEPHONE_FALLBACK: &str = "44800";

/// A UUID-formed id made of a hash (a site the events give no location id for).
fn made_up_uuid(mut h: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for i in 0..32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        if i == 16 {
            h = stable_hash(h, b"uuid");
        }
        out.push(char::from(HEX[(h & 0xf) as usize]));
        h >>= 4;
    }
    out
}
