//! Tiered pricing: the amount of a number of units under a flat, volume or graduated price.
// Every sum, difference, product and quotient of money or quantities here goes through
// `crate::checked`: clippy refuses an operator that could panic or overflow.
#![deny(clippy::arithmetic_side_effects)]

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{SkuPrice, TierKind};
use crate::checked;
use crate::error::Result;
use crate::money::decimal_text;

/// The amount of `units` under a SKU price, exact (not rounded), with the band(s) used.
///
/// # Errors
/// [`Error::Overflow`](crate::Error::Overflow) when a band's units × price, or the sum of the
/// bands, does not fit a `Decimal` (it names the operation; the caller names the SKU and whom it
/// bills).
///
/// ```
/// use wholesale_billing::{Decimal, Error, PriceBand, SkuPrice, TierKind, price_units};
/// let d = |s: &str| s.parse::<Decimal>().unwrap();
/// let bands = vec![
///     PriceBand { up_to: Some(d("10")), price: d("6") },
///     PriceBand { up_to: None, price: d("5") },
/// ];
/// let volume = SkuPrice::Tiered { kind: TierKind::Volume, bands: bands.clone() };
/// let graduated = SkuPrice::Tiered { kind: TierKind::Graduated, bands };
/// assert_eq!(price_units(&volume, d("12"))?.0.to_string(), "60");      // 12 × 5
/// assert_eq!(price_units(&graduated, d("12"))?.0.to_string(), "70");   // 10 × 6 + 2 × 5
/// assert_eq!(price_units(&SkuPrice::Flat(d("2.5")), d("4"))?.0.to_string(), "10.0");
/// let err = price_units(&SkuPrice::Flat(Decimal::MAX), d("2")).unwrap_err();
/// assert!(matches!(err, Error::Overflow { operation: "price × units", .. }));
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn price_units(price: &SkuPrice, units: Decimal) -> Result<(Decimal, Vec<BandUse>)> {
    match price {
        SkuPrice::Flat(p) => Ok((checked::mul(units, *p, "price × units")?, Vec::new())),
        SkuPrice::Tiered {
            kind: TierKind::Volume,
            bands,
        } => {
            // Bands numbered from 1: the first that holds all the units, else the last.
            let (number, band) = (1usize..)
                .zip(bands)
                .find(|(_, b)| b.up_to.is_none_or(|up| units <= up))
                .or_else(|| bands.last().map(|b| (bands.len(), b)))
                .map_or((1, None), |(n, b)| (n, Some(b)));
            let price = band.map_or(Decimal::ZERO, |b| b.price);
            let amount = checked::mul(units, price, "price × units")?;
            let used = BandUse {
                band: number,
                units,
                price,
                amount,
            };
            Ok((amount, vec![used]))
        }
        SkuPrice::Tiered {
            kind: TierKind::Graduated,
            bands,
        } => {
            let mut uses = Vec::new();
            let mut floor = Decimal::ZERO;
            let mut total = Decimal::ZERO;
            for (number, band) in (1usize..).zip(bands) {
                if units <= floor {
                    break;
                }
                let top = band.up_to.map_or(units, |up| up.min(units));
                let in_band = checked::sub(top, floor, "units in a price band")?;
                if in_band > Decimal::ZERO {
                    let amount = checked::mul(in_band, band.price, "price × units in a band")?;
                    total = checked::add(total, amount, "Σ price bands")?;
                    uses.push(BandUse {
                        band: number,
                        units: in_band,
                        price: band.price,
                        amount,
                    });
                }
                floor = band.up_to.unwrap_or(units);
            }
            Ok((total, uses))
        }
    }
}

/// How many units of a tiered price fell in one band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandUse {
    /// 1-based band number.
    pub band: usize,
    /// Units in the band.
    #[serde(with = "decimal_text")]
    pub units: Decimal,
    /// The band's price per unit.
    #[serde(with = "decimal_text")]
    pub price: Decimal,
    /// Units × price, exact.
    #[serde(with = "decimal_text")]
    pub amount: Decimal,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rates::PriceBand;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn graduated_and_volume_tiers() {
        let bands = vec![
            PriceBand {
                up_to: Some(d("10")),
                price: d("6"),
            },
            PriceBand {
                up_to: Some(d("50")),
                price: d("5.5"),
            },
            PriceBand {
                up_to: None,
                price: d("5"),
            },
        ];
        let graduated = SkuPrice::Tiered {
            kind: TierKind::Graduated,
            bands: bands.clone(),
        };
        let volume = SkuPrice::Tiered {
            kind: TierKind::Volume,
            bands,
        };
        // 60.5 units graduated: 10 × 6 + 40 × 5.5 + 10.5 × 5 = 60 + 220 + 52.5 = 332.5
        let (amount, uses) = price_units(&graduated, d("60.5")).unwrap();
        assert_eq!(amount, d("332.5"));
        assert_eq!(uses.len(), 3);
        // volume: all 60.5 units at band 3 (5) = 302.5; 50 units at band 2 (inclusive) = 275
        assert_eq!(price_units(&volume, d("60.5")).unwrap().0, d("302.5"));
        assert_eq!(price_units(&volume, d("50")).unwrap().0, d("275.0"));
        assert_eq!(price_units(&volume, d("50")).unwrap().1[0].band, 2);
        // within the first band
        assert_eq!(price_units(&graduated, d("3.25")).unwrap().0, d("19.50"));
        assert_eq!(price_units(&graduated, Decimal::ZERO).unwrap().0, Decimal::ZERO);
    }
}
