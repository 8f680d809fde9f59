//! Rate cards: what the partner pays Cisco per SKU ([`WholesaleRateCard`]) and what it charges
//! its own customers and resellers ([`PriceBook`](crate::PriceBook)) (SPEC.md §5.2).

mod wholesale;

pub use wholesale::{WholesaleRate, WholesaleRateCard};
