//! [`CustomerDirectory`]: who each `Org UUID` of the call records is (SPEC §7.2, §7.7).

use hashbrown::HashMap;

use crate::ledger::AssignmentLedger;

/// The index of a customer in a [`CustomerDirectory`].
pub(crate) type CustomerIndex = u32;

/// One customer: its org id, its external id and the org id of its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Customer {
    pub(crate) org_id: String,
    pub(crate) external_id: String,
    pub(crate) partner_org_id: String,
}

/// The customers of a rating run: the organisations named in an `ASSIGN` row of the events, each
/// with its `CUSTOMER_EXTERNAL_ID` and `PARTNER_ORG_ID` as the §4 USER report has them (the
/// external id the ledger keeps; the org id of the owning partner or sub-partner).
///
/// Without events ([`CustomerDirectory::open`]) every organisation met is its own customer, with
/// an empty external id and partner, and no pools.
///
/// ```
/// use wholesale_billing::{AssignmentLedger, CustomerDirectory, Event, LoadMode, Organisation, Partner};
/// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
/// let mut b = AssignmentLedger::builder(org);
/// b.push(Event::assign("e1", "2024-05-01T00:00:00Z".parse()?, "s1", "c1", "webex_calling").external_id("EXT-1"));
/// let (ledger, _) = b.finish(LoadMode::Strict)?;
/// let directory = CustomerDirectory::from_ledger(&ledger);
/// assert_eq!(directory.len(), 1);
/// assert_eq!(directory.external_id("c1"), Some("EXT-1"));
/// assert_eq!(directory.partner_org_id("c1"), Some("p"));
/// assert_eq!(directory.external_id("c2"), None);
/// assert!(CustomerDirectory::open().is_open());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CustomerDirectory {
    customers: Vec<Customer>,
    by_org: OrgIndex,
    /// Every organisation is a customer (no events given).
    open: bool,
}

impl CustomerDirectory {
    /// The customers of `ledger`: every organisation named in an accepted `ASSIGN`.
    pub fn from_ledger(ledger: &AssignmentLedger) -> Self {
        let org = ledger.organisation();
        let mut directory = CustomerDirectory::default();
        for c in ledger.customers() {
            let (_, partner_org_id) = org.owner_identity(c.owner);
            directory.insert(Customer {
                org_id: c.org_id.to_owned(),
                external_id: c.external_id.to_owned(),
                partner_org_id: partner_org_id.to_owned(),
            });
        }
        directory
    }

    /// A directory without events: every organisation met is its own customer, with an empty
    /// external id and partner (and, having no USER rows, no pools).
    pub fn open() -> Self {
        CustomerDirectory {
            open: true,
            ..CustomerDirectory::default()
        }
    }

    /// Whether every organisation is a customer (no events given).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The number of customers known so far.
    pub fn len(&self) -> usize {
        self.customers.len()
    }

    /// Whether no customer is known yet.
    pub fn is_empty(&self) -> bool {
        self.customers.is_empty()
    }

    /// The external id of the customer `org_id`, if it is one.
    pub fn external_id(&self, org_id: &str) -> Option<&str> {
        self.index(org_id).map(|i| self.get(i).external_id.as_str())
    }

    /// The org id of the owner (partner or sub-partner) of the customer `org_id`, if it is one.
    pub fn partner_org_id(&self, org_id: &str) -> Option<&str> {
        self.index(org_id).map(|i| self.get(i).partner_org_id.as_str())
    }

    fn insert(&mut self, customer: Customer) -> CustomerIndex {
        if let Some(i) = self.by_org.get(&customer.org_id) {
            return i;
        }
        // More than 4 billion customers cannot be; saturate rather than fail.
        let index = CustomerIndex::try_from(self.customers.len()).unwrap_or(CustomerIndex::MAX);
        self.by_org.insert(&customer.org_id, index);
        self.customers.push(customer);
        index
    }

    pub(crate) fn index(&self, org_id: &str) -> Option<CustomerIndex> {
        self.by_org.get(org_id)
    }

    /// The customer of `org_id`: known, or added when the directory is open.
    pub(crate) fn resolve(&mut self, org_id: &str) -> Option<CustomerIndex> {
        match self.index(org_id) {
            Some(i) => Some(i),
            None if self.open => Some(self.insert(Customer {
                org_id: org_id.to_owned(),
                external_id: String::new(),
                partner_org_id: String::new(),
            })),
            None => None,
        }
    }

    /// The customer at `index` (an empty one for an index of no customer).
    pub(crate) fn get(&self, index: CustomerIndex) -> &Customer {
        static NONE: Customer = Customer {
            org_id: String::new(),
            external_id: String::new(),
            partner_org_id: String::new(),
        };
        self.customers.get(index as usize).unwrap_or(&NONE)
    }
}

/// The longest org id kept in the table itself.
const INLINE: usize = 39;

/// An org id of up to [`INLINE`] bytes, zero-padded, its length in the last byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct InlineId([u8; INLINE + 1]);

impl InlineId {
    fn of(id: &str) -> Option<Self> {
        let bytes = id.as_bytes();
        let len = u8::try_from(bytes.len()).ok().filter(|&l| usize::from(l) <= INLINE)?;
        let mut key = [0u8; INLINE + 1];
        key.get_mut(..bytes.len())?.copy_from_slice(bytes);
        *key.last_mut()? = len;
        Some(InlineId(key))
    }
}

/// Org ids to customer indices. An id of up to [`INLINE`] bytes (a UUID's 36) is kept in the
/// table itself, so that the lookup of every call record reaches one place in memory rather than
/// two (the table, then a string on the heap); a longer id is kept as a string.
#[derive(Debug, Clone, Default)]
struct OrgIndex {
    inline: HashMap<InlineId, CustomerIndex>,
    long: HashMap<String, CustomerIndex>,
}

impl OrgIndex {
    fn get(&self, id: &str) -> Option<CustomerIndex> {
        match InlineId::of(id) {
            Some(key) => self.inline.get(&key).copied(),
            None => self.long.get(id).copied(),
        }
    }

    fn insert(&mut self, id: &str, index: CustomerIndex) {
        match InlineId::of(id) {
            Some(key) => self.inline.insert(key, index),
            None => self.long.insert(id.to_owned(), index),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_directory_adds_every_org_once() {
        let mut d = CustomerDirectory::open();
        assert_eq!(d.resolve("a"), Some(0));
        assert_eq!(d.resolve("b"), Some(1));
        assert_eq!(d.resolve("a"), Some(0));
        assert_eq!(d.get(1).org_id, "b");
        assert_eq!(d.get(9).org_id, "");
        let mut closed = CustomerDirectory::default();
        assert_eq!(closed.resolve("a"), None);
    }

    /// Ids kept in the table and as strings, of every length about the limit, and ids that
    /// differ only by a trailing NUL or by their last byte, are each their own customer.
    #[test]
    fn ids_short_and_long_are_told_apart() {
        let mut d = CustomerDirectory::open();
        let ids: Vec<String> = [0, 1, INLINE - 1, INLINE, INLINE + 1, 36, 100]
            .into_iter()
            .flat_map(|n| {
                [
                    "x".repeat(n),
                    format!("{}\0", "x".repeat(n)),
                    format!("{}y", "x".repeat(n)),
                ]
            })
            .collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        for (i, id) in unique.iter().enumerate() {
            assert_eq!(d.resolve(id), u32::try_from(i).ok(), "{id:?}");
        }
        for (i, id) in unique.iter().enumerate() {
            assert_eq!(d.index(id), u32::try_from(i).ok(), "{id:?}");
            assert_eq!(d.get(d.index(id).unwrap_or(u32::MAX)).org_id, *id);
        }
        assert_eq!(d.len(), unique.len());
        assert_eq!(d.index(&"x".repeat(2)), None);
    }
}
