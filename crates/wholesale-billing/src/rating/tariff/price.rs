//! The price of one call in fixed point (SPEC §7.4): tariff amounts in millionths of the
//! currency unit, billable seconds from the increments, and the charge rounded half-even once.
// Every sum and product of money or seconds here is checked: clippy refuses an operator that
// could overflow.
#![deny(clippy::arithmetic_side_effects)]

use std::num::NonZeroU32;

use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// The decimals of a tariff amount (`connect_fee`, `per_minute`, band prices): at most 6, held
/// exactly as integers of millionths ([`TariffAmount`]).
pub const TARIFF_AMOUNT_DECIMALS: u32 = 6;

/// The most `rating_decimals` a tariff may ask for: the charge of a call is rounded to at most
/// as many decimals as its amounts have.
pub const MAX_RATING_DECIMALS: u32 = TARIFF_AMOUNT_DECIMALS;

/// An amount of a tariff (a connect fee, a price per minute) in millionths of the currency
/// unit: exact, never negative, at most [`TARIFF_AMOUNT_DECIMALS`] decimals.
///
/// ```
/// use wholesale_billing::{Decimal, TariffAmount};
/// let per_minute = TariffAmount::from_decimal("0.0300".parse()?)?;
/// assert_eq!(per_minute.micros(), 30_000);
/// assert_eq!(per_minute.to_decimal().to_string(), "0.030000");
/// assert!(TariffAmount::from_decimal("0.0000001".parse()?).is_err());
/// assert!(TariffAmount::from_decimal("-1".parse()?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TariffAmount(i64);

impl TariffAmount {
    /// Zero.
    pub const ZERO: TariffAmount = TariffAmount(0);

    /// The amount of a decimal.
    ///
    /// # Errors
    /// [`Error::NegativePrice`] for a negative amount, [`Error::TariffDecimals`] for more than
    /// [`TARIFF_AMOUNT_DECIMALS`] decimals (trailing zeros do not count), [`Error::Overflow`]
    /// for an amount above 9,223,372,036,854 units.
    pub fn from_decimal(value: Decimal) -> Result<Self> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(Error::NegativePrice {
                what: "amount",
                value,
                sku: None,
            });
        }
        let normal = value.normalize();
        let Some(shift) = TARIFF_AMOUNT_DECIMALS.checked_sub(normal.scale()) else {
            return Err(Error::TariffDecimals {
                value,
                max: TARIFF_AMOUNT_DECIMALS,
            });
        };
        let micros = 10i128
            .checked_pow(shift)
            .and_then(|p| normal.mantissa().checked_mul(p))
            .and_then(|m| i64::try_from(m).ok())
            .ok_or_else(|| Error::overflow("tariff amount in millionths"))?;
        Ok(TariffAmount(micros))
    }

    /// The amount in millionths of the currency unit.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// The amount as a decimal with [`TARIFF_AMOUNT_DECIMALS`] decimals.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, TARIFF_AMOUNT_DECIMALS)
    }
}

/// The prices of a call at one destination (and band): a connect fee and a price per minute.
///
/// ```
/// use wholesale_billing::{Price, TariffAmount};
/// let price = Price { connect_fee: TariffAmount::ZERO, per_minute: TariffAmount::from_decimal("0.03".parse()?)? };
/// assert_eq!(price.per_minute.micros(), 30_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Price {
    /// Charged once per call.
    pub connect_fee: TariffAmount,
    /// Charged per minute of billable time, pro rata to the second.
    pub per_minute: TariffAmount,
}

/// The billable seconds of a call of `duration` seconds with rate increments `initial` and
/// `subsequent` (SPEC §7.4): `initial` when `duration ≤ initial`, else `initial` plus
/// `duration − initial` rounded up to a multiple of `subsequent`; 0 for a call of 0 seconds
/// (which is never charged).
///
/// # Errors
/// [`Error::Overflow`] when the billable seconds do not fit 64 bits.
///
/// ```
/// use std::num::NonZeroU32;
/// use wholesale_billing::billable_seconds;
/// let n = |v| NonZeroU32::new(v).unwrap();
/// assert_eq!(billable_seconds(61, n(60), n(1))?, 61);
/// assert_eq!(billable_seconds(61, n(60), n(60))?, 120);
/// assert_eq!(billable_seconds(31, n(30), n(6))?, 36);
/// assert_eq!(billable_seconds(5, n(30), n(6))?, 30);
/// assert_eq!(billable_seconds(0, n(60), n(60))?, 0);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn billable_seconds(duration: u64, initial: NonZeroU32, subsequent: NonZeroU32) -> Result<u64> {
    let initial = u64::from(initial.get());
    if duration == 0 {
        return Ok(0);
    }
    let Some(rest) = duration.checked_sub(initial).filter(|&r| r > 0) else {
        return Ok(initial);
    };
    let step = u64::from(subsequent.get());
    rest.div_ceil(step)
        .checked_mul(step)
        .and_then(|r| r.checked_add(initial))
        .ok_or_else(|| Error::overflow("billable seconds"))
}

/// [`billable_seconds`] of a duration that fits 32 bits, as a call's does: the same result,
/// which then always fits 64 bits, without a check or a branch.
#[inline(always)]
pub(crate) fn billable_seconds_u32(duration: u32, initial: NonZeroU32, subsequent: NonZeroU32) -> u64 {
    let rest = duration.saturating_sub(initial.get());
    // Below 2^32 × 2 + 2^32: no overflow.
    let billable = u64::from(rest.div_ceil(subsequent.get()))
        .wrapping_mul(u64::from(subsequent.get()))
        .wrapping_add(u64::from(initial.get()));
    if duration == 0 { 0 } else { billable }
}

/// The charge of `seconds` billable seconds at `price`, rounded half-even to `rating_decimals`
/// (SPEC §7.4): `round_half_even(connect_fee + per_minute × seconds / 60, rating_decimals)`,
/// computed exactly in 128-bit integers. The result is in units of 10^−`rating_decimals`
/// (`Decimal::new(charge, rating_decimals)` is the amount).
///
/// # Errors
/// [`Error::RatingDecimalsTooMany`] for `rating_decimals` above [`MAX_RATING_DECIMALS`];
/// [`Error::Overflow`] when the charge does not fit 64 bits of its units.
///
/// ```
/// use wholesale_billing::{Decimal, Price, TariffAmount, charge};
/// let amount = |s: &str| TariffAmount::from_decimal(s.parse().unwrap()).unwrap();
/// let price = Price { connect_fee: amount("0.10"), per_minute: amount("0.0300") };
/// // 0.10 + 0.03 × 61 / 60 = 0.1305 exactly.
/// assert_eq!(charge(price, 61, 4)?, 1305);
/// // 0.03 × 1 / 60 = 0.0005: half-even to 3 decimals gives 0.000, to 4 gives 0.0005.
/// let per_second = Price { connect_fee: TariffAmount::ZERO, per_minute: amount("0.03") };
/// assert_eq!(charge(per_second, 1, 3)?, 0);
/// assert_eq!(Decimal::new(charge(per_second, 1, 4)?, 4).to_string(), "0.0005");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[inline(always)]
pub fn charge(price: Price, seconds: u64, rating_decimals: u32) -> Result<i64> {
    // Every real call fits 64 bits (a price of 1,000 a minute for 8,000 years does): there the
    // unit is a constant, so its division is a multiplication. The rest takes 128 bits.
    if let Some(rounded) = charge_u64(price, seconds, rating_decimals) {
        return i64::try_from(rounded).map_err(|_| Error::overflow("connect fee + per minute × billable seconds"));
    }
    charge_i128(price, seconds, rating_decimals)
}

/// [`charge`] in 64 bits: `None` when a step does not fit (or `rating_decimals` is above 6).
#[inline]
fn charge_u64(price: Price, seconds: u64, rating_decimals: u32) -> Option<u64> {
    let per_minute = u64::try_from(price.per_minute.micros()).ok()?;
    let connect_fee = u64::try_from(price.connect_fee.micros()).ok()?;
    // The exact charge in units of 10^-6 / 60.
    let exact = per_minute
        .checked_mul(seconds)?
        .checked_add(connect_fee.checked_mul(60)?)?;
    // One unit of the result: 60 × 10^(6 − rating_decimals) units of the exact charge.
    match MAX_RATING_DECIMALS.checked_sub(rating_decimals)? {
        0 => half_even(exact, 60),
        1 => half_even(exact, 600),
        2 => half_even(exact, 6_000),
        3 => half_even(exact, 60_000),
        4 => half_even(exact, 600_000),
        5 => half_even(exact, 6_000_000),
        6 => half_even(exact, 60_000_000),
        _ => None,
    }
}

/// `exact / unit` rounded half-even (`unit` > 0).
#[inline(always)]
fn half_even(exact: u64, unit: u64) -> Option<u64> {
    let (quotient, remainder) = (exact.checked_div(unit)?, exact.checked_rem(unit)?);
    let twice = remainder.checked_mul(2)?;
    // Added rather than branched on: which way a charge rounds is as good as random.
    let up = (twice > unit) | ((twice == unit) & (quotient & 1 == 1));
    quotient.checked_add(u64::from(up))
}

/// [`charge`] in 128 bits, for what does not fit 64.
#[cold]
fn charge_i128(price: Price, seconds: u64, rating_decimals: u32) -> Result<i64> {
    let overflow = || Error::overflow("connect fee + per minute × billable seconds");
    // The exact charge in units of 10^-6 / 60.
    let exact = i128::from(price.per_minute.micros())
        .checked_mul(i128::from(seconds))
        .and_then(|v| v.checked_add(i128::from(price.connect_fee.micros()).checked_mul(60)?))
        .ok_or_else(overflow)?;
    let shift = MAX_RATING_DECIMALS
        .checked_sub(rating_decimals)
        .ok_or(Error::RatingDecimalsTooMany {
            decimals: rating_decimals,
            max: MAX_RATING_DECIMALS,
        })?;
    // One unit of the result in units of the exact charge: 60 × 10^(6 − rating_decimals).
    let unit = 10i128
        .checked_pow(shift)
        .and_then(|p| p.checked_mul(60))
        .ok_or_else(overflow)?;
    let (quotient, remainder) = (
        exact.checked_div_euclid(unit).ok_or_else(overflow)?,
        exact.checked_rem_euclid(unit).ok_or_else(overflow)?,
    );
    let twice = remainder.checked_mul(2).ok_or_else(overflow)?;
    let up = twice > unit || (twice == unit && quotient.checked_rem(2) == Some(1));
    let rounded = if up {
        quotient.checked_add(1).ok_or_else(overflow)?
    } else {
        quotient
    };
    i64::try_from(rounded).map_err(|_| overflow())
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::RoundingStrategy;

    use super::*;

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    fn amount(s: &str) -> TariffAmount {
        TariffAmount::from_decimal(s.parse().unwrap()).unwrap()
    }

    /// SPEC §7.4 in `Decimal`, the reference the fixed-point form must agree with.
    fn reference(connect_fee: Decimal, per_minute: Decimal, seconds: u64, decimals: u32) -> Decimal {
        let exact = (connect_fee * Decimal::from(60) + per_minute * Decimal::from(seconds)) / Decimal::from(60);
        exact.round_dp_with_strategy(decimals, RoundingStrategy::MidpointNearestEven)
    }

    #[test]
    fn hand_worked_increments() {
        assert_eq!(billable_seconds(61, n(60), n(1)).unwrap(), 61);
        assert_eq!(billable_seconds(61, n(60), n(60)).unwrap(), 120);
        assert_eq!(billable_seconds(31, n(30), n(6)).unwrap(), 36);
        assert_eq!(billable_seconds(60, n(60), n(60)).unwrap(), 60);
        assert_eq!(billable_seconds(1, n(1), n(1)).unwrap(), 1);
        assert_eq!(billable_seconds(36, n(30), n(6)).unwrap(), 36);
        assert_eq!(billable_seconds(37, n(30), n(6)).unwrap(), 42);
        assert!(billable_seconds(u64::MAX, n(2), n(2)).is_err());
        assert_eq!(billable_seconds(u64::MAX, n(1), n(1)).unwrap(), u64::MAX);
    }

    #[test]
    fn hand_worked_charges() {
        let price = Price {
            connect_fee: amount("0.05"),
            per_minute: amount("0.0150"),
        };
        // 0.05 + 0.015 × 120 / 60 = 0.08
        assert_eq!(charge(price, 120, 4).unwrap(), 800);
        // 0.05 + 0.015 × 61 / 60 = 0.06525 → 0.0652 (half-even) at 4; 0.065250 at 6.
        assert_eq!(charge(price, 61, 4).unwrap(), 652);
        assert_eq!(charge(price, 61, 6).unwrap(), 65_250);
        // 0.0035 → 0.004 (half-even to the even 4), 0.0025 → 0.002.
        let p = |c: &str| Price {
            connect_fee: amount(c),
            per_minute: TariffAmount::ZERO,
        };
        assert_eq!(charge(p("0.0035"), 1, 3).unwrap(), 4);
        assert_eq!(charge(p("0.0025"), 1, 3).unwrap(), 2);
        assert_eq!(charge(p("0.5"), 9, 0).unwrap(), 0);
        assert_eq!(charge(p("1.5"), 9, 0).unwrap(), 2);
        assert!(matches!(
            charge(price, 1, 7),
            Err(Error::RatingDecimalsTooMany { decimals: 7, max: 6 })
        ));
        let huge = Price {
            connect_fee: TariffAmount(i64::MAX),
            per_minute: TariffAmount(i64::MAX),
        };
        assert!(matches!(charge(huge, u64::MAX, 6), Err(Error::Overflow { .. })));
    }

    #[test]
    fn amounts_are_exact_millionths() {
        assert_eq!(amount("0.000001").micros(), 1);
        assert_eq!(amount("12.5").micros(), 12_500_000);
        assert_eq!(amount("0.1000000000").micros(), 100_000);
        assert_eq!(amount("-0").micros(), 0);
        assert!(matches!(
            TariffAmount::from_decimal("0.0000015".parse().unwrap()),
            Err(Error::TariffDecimals { max: 6, .. })
        ));
        assert!(matches!(
            TariffAmount::from_decimal("-0.01".parse().unwrap()),
            Err(Error::NegativePrice { .. })
        ));
        assert!(matches!(
            TariffAmount::from_decimal("99999999999999".parse().unwrap()),
            Err(Error::Overflow { .. })
        ));
    }

    proptest! {
        #[test]
        fn fixed_point_agrees_with_decimal(
            fee in 0i64..100_000_000,
            per_minute in 0i64..1_000_000_000,
            duration in 0u64..1_000_000,
            initial in 1u32..120,
            subsequent in 1u32..120,
            decimals in 0u32..=6,
        ) {
            let price = Price { connect_fee: TariffAmount(fee), per_minute: TariffAmount(per_minute) };
            let billable = billable_seconds(duration, n(initial), n(subsequent)).unwrap();
            prop_assert!(billable >= duration);
            prop_assert!(duration == 0 || billable >= u64::from(initial));
            let fixed = Decimal::new(charge(price, billable, decimals).unwrap(), decimals);
            let exact = reference(Decimal::new(fee, 6), Decimal::new(per_minute, 6), billable, decimals);
            prop_assert_eq!(fixed, exact);
            prop_assert!(!fixed.is_sign_negative() || fixed.is_zero());
        }

        #[test]
        fn the_64_bit_charge_equals_the_128_bit_one(
            fee in prop_oneof![0i64..100_000_000, 0i64..=i64::MAX],
            per_minute in prop_oneof![0i64..1_000_000_000, 0i64..=i64::MAX],
            seconds in prop_oneof![0u64..1_000_000, 0u64..=u64::MAX],
            decimals in 0u32..=7,
        ) {
            let price = Price { connect_fee: TariffAmount(fee), per_minute: TariffAmount(per_minute) };
            let general = charge_i128(price, seconds, decimals).ok();
            match charge_u64(price, seconds, decimals) {
                Some(fast) => prop_assert_eq!(i64::try_from(fast).ok(), general),
                // Only past 6 decimals or past 64 bits.
                None => prop_assert!(decimals > 6
                    || (per_minute as u128) * u128::from(seconds) + (fee as u128) * 60 > u128::from(u64::MAX)),
            }
            prop_assert_eq!(charge(price, seconds, decimals).ok(), general);
        }

        #[test]
        fn billable_seconds_of_32_bits_are_billable_seconds(
            duration in prop_oneof![0u32..100_000, Just(0), Just(u32::MAX), any::<u32>()],
            initial in prop_oneof![1u32..120, Just(u32::MAX), any::<u32>().prop_map(|v| v.max(1))],
            subsequent in prop_oneof![1u32..120, Just(u32::MAX), any::<u32>().prop_map(|v| v.max(1))],
        ) {
            prop_assert_eq!(
                billable_seconds_u32(duration, n(initial), n(subsequent)),
                billable_seconds(u64::from(duration), n(initial), n(subsequent)).unwrap()
            );
        }

        #[test]
        fn a_longer_call_never_costs_less(
            fee in 0i64..10_000_000,
            per_minute in 0i64..10_000_000,
            duration in 1u64..100_000,
            more in 0u64..10_000,
            initial in 1u32..120,
            subsequent in 1u32..120,
        ) {
            let price = Price { connect_fee: TariffAmount(fee), per_minute: TariffAmount(per_minute) };
            let short = billable_seconds(duration, n(initial), n(subsequent)).unwrap();
            let long = billable_seconds(duration + more, n(initial), n(subsequent)).unwrap();
            prop_assert!(long >= short);
            prop_assert!(charge(price, long, 4).unwrap() >= charge(price, short, 4).unwrap());
        }
    }
}
