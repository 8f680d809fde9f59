//! Rate cards: what the partner pays Cisco per SKU ([`WholesaleRateCard`]) and what it charges
//! its own customers and resellers ([`PriceBook`](crate::PriceBook)) (SPEC.md §5.2).

pub mod ccws;
mod price_book;
mod wholesale;
mod wholesale_io;

pub use price_book::{
    BandUse, EffectiveTerms, PriceBand, PriceBook, SkuEntry, SkuPrice, Terms, TierKind, UnitMode, price_units,
};
pub use wholesale::{WholesaleRate, WholesaleRateCard};
