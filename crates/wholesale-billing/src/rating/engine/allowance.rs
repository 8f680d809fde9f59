//! Bundled minutes consumed in order (SPEC §7.5, §7.7): the allowance candidates of a run, sorted
//! per customer by (`Start time`, `Report ID` as bytes), consumed from the pools, and summed up as
//! one *cutoff* per (customer, allowance): the call that empties the pool and what it took.
//! Whether a call is covered, and by how much, then follows from its place against the cutoffs,
//! so the second phase reads the records back in input order with no per-record state.
// Every sum and difference of seconds here is checked.
#![deny(clippy::arithmetic_side_effects)]

use std::cmp::Ordering;

use hashbrown::HashMap;

use crate::error::{Error, Result};
use crate::rating::Tariff;

/// A charged call that an allowance may cover: 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) customer: u32,
    /// The record's place in the run (its row in the spill).
    pub(crate) ordinal: u32,
    /// `Start time`, nanoseconds since the epoch.
    pub(crate) start: i64,
    /// The first 8 bytes of `Report ID`, big-endian, zero-padded: orders as the bytes do, ties
    /// aside.
    pub(crate) id_prefix: u64,
    pub(crate) billable: u32,
    pub(crate) class: u16,
}

/// The first 8 bytes of an id as a big-endian integer, zero-padded.
pub(crate) fn id_prefix(id: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    for (slot, &b) in bytes.iter_mut().zip(id) {
        *slot = b;
    }
    u64::from_be_bytes(bytes)
}

/// Where a (customer, allowance) pool ran out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Cutoff {
    /// Never: every call that drew from it got all it asked.
    #[default]
    Never,
    /// The pool was empty from the start.
    Empty,
    /// The call at this key emptied it, taking `covered` seconds; later calls get nothing.
    At {
        ordinal: u32,
        start: i64,
        id_prefix: u64,
        /// The full `Report ID`, known when another candidate of the customer shares its start
        /// and id prefix (only then is it needed to compare).
        id: Option<String>,
        covered: u64,
    },
}

/// The per-customer cutoffs of a run, one per allowance of the tariff.
pub(crate) type Cutoffs = HashMap<u32, Vec<Cutoff>>;

/// The consumption of the pools by the candidates in order of use, per customer by (`Start
/// time`, `Report ID` as bytes): [`Consumer::take`] each, then [`Consumer::cutoffs`].
///
/// `pools` gives each customer's seconds per allowance (tariff order); a class listed in several
/// allowances draws from them in tariff order, moving on within the same call. A call that
/// empties a pool exactly is its cutoff with all it asked covered.
pub(crate) struct Consumer<'c> {
    tariff: &'c Tariff,
    pools: &'c HashMap<u32, Vec<u64>>,
    ids: &'c HashMap<u32, String>,
    cutoffs: Cutoffs,
    customer: Option<u32>,
    remaining: Vec<u64>,
}

impl<'c> Consumer<'c> {
    /// Pools untouched; `ids` gives the full ids of the candidates tied on (customer, start, id
    /// prefix).
    pub(crate) fn new(tariff: &'c Tariff, pools: &'c HashMap<u32, Vec<u64>>, ids: &'c HashMap<u32, String>) -> Self {
        Consumer {
            tariff,
            pools,
            ids,
            cutoffs: HashMap::new(),
            customer: None,
            remaining: Vec::new(),
        }
    }

    /// Each customer's cutoffs.
    pub(crate) fn cutoffs(self) -> Cutoffs {
        self.cutoffs
    }

    /// The next candidate in order of use takes what its customer's pools give it.
    pub(crate) fn take(&mut self, c: &Candidate) -> Result<()> {
        let allowances = self.tariff.allowances();
        let Some(pool) = self.pools.get(&c.customer) else {
            return Ok(());
        };
        let remaining = &mut self.remaining;
        if self.customer != Some(c.customer) {
            self.customer = Some(c.customer);
            remaining.clone_from(pool);
            let initial = pool
                .iter()
                .map(|&s| if s == 0 { Cutoff::Empty } else { Cutoff::Never })
                .collect();
            self.cutoffs.insert(c.customer, initial);
        }
        let Some(cuts) = self.cutoffs.get_mut(&c.customer) else {
            return Ok(());
        };
        let mut need = u64::from(c.billable);
        for (i, allowance) in allowances.iter().enumerate() {
            if need == 0 {
                break;
            }
            if !covers(allowance, c.class) {
                continue;
            }
            let (Some(left), Some(cut)) = (remaining.get_mut(i), cuts.get_mut(i)) else {
                continue;
            };
            if *left == 0 {
                continue;
            }
            let take = need.min(*left);
            *left = left
                .checked_sub(take)
                .ok_or_else(|| Error::overflow("pool − covered seconds"))?;
            need = need
                .checked_sub(take)
                .ok_or_else(|| Error::overflow("billable − covered seconds"))?;
            if *left == 0 {
                *cut = Cutoff::At {
                    ordinal: c.ordinal,
                    start: c.start,
                    id_prefix: c.id_prefix,
                    id: self.ids.get(&c.ordinal).cloned(),
                    covered: take,
                };
            }
        }
        Ok(())
    }
}

/// Whether `allowance` covers the class of index `class`.
fn covers(allowance: &crate::rating::Allowance, class: u16) -> bool {
    allowance.classes().iter().any(|c| c.index() == usize::from(class))
}

/// A rated record's key for the cutoffs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallKey<'a> {
    pub(crate) ordinal: u32,
    pub(crate) start: i64,
    /// The `Report ID`'s UTF-8 bytes.
    pub(crate) id: &'a [u8],
}

fn compare(key: &CallKey<'_>, cut: &Cutoff) -> Ordering {
    match cut {
        Cutoff::Never => Ordering::Less,
        Cutoff::Empty => Ordering::Greater,
        Cutoff::At {
            ordinal,
            start,
            id_prefix: prefix,
            id,
            ..
        } => {
            if key.ordinal == *ordinal {
                return Ordering::Equal;
            }
            (key.start, id_prefix(key.id))
                .cmp(&(*start, *prefix))
                .then_with(|| match id {
                    Some(id) => key.id.cmp(id.as_bytes()),
                    None => key.ordinal.cmp(ordinal),
                })
        }
    }
}

/// The seconds of a call of `billable` seconds to a destination of `class` that the customer's
/// allowances cover, from their cutoffs.
pub(crate) fn covered(tariff: &Tariff, cuts: &[Cutoff], class: u16, billable: u64, key: &CallKey<'_>) -> Result<u64> {
    let mut need = billable;
    let mut covered = 0u64;
    for (allowance, cut) in tariff.allowances().iter().zip(cuts) {
        if need == 0 {
            break;
        }
        if !covers(allowance, class) {
            continue;
        }
        let take = match (compare(key, cut), cut) {
            (Ordering::Less, _) => need,
            (Ordering::Equal, Cutoff::At { covered, .. }) => (*covered).min(need),
            _ => 0,
        };
        need = need
            .checked_sub(take)
            .ok_or_else(|| Error::overflow("billable − covered seconds"))?;
        covered = covered
            .checked_add(take)
            .ok_or_else(|| Error::overflow("covered seconds"))?;
    }
    Ok(covered)
}
