//! Usage quantities: exact fixed-point numbers with four decimals.
//!
//! The Webex billing report gives quantities in days with four decimal places. Inside the engine a
//! [`Quantity`] is an integer count of ten-thousandths, so sums are exact and fast; at the edges
//! it converts to and from [`rust_decimal::Decimal`].

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::error::{Error, Quoted, Result};

/// The decimals of a quantity (user-days, user-months): four (ten-thousandths).
pub const QUANTITY_DECIMALS: u32 = 4;

/// Ten-thousandths in one unit.
pub const QUANTITY_SCALE: i64 = 10_i64.pow(QUANTITY_DECIMALS);

/// A quantity with exactly four decimals (days of usage, or user-months).
///
/// Sums and differences are checked ([`Quantity::checked_add`], [`Quantity::checked_sub`],
/// [`Quantity::try_sum`]): a quantity has no `+` that could overflow or saturate silently.
///
/// ```
/// use wholesale_billing::Quantity;
/// let q: Quantity = "1.625".parse()?;
/// assert_eq!(q.to_string(), "1.6250");
/// assert_eq!(q.checked_add(Quantity::ONE), Some("2.6250".parse()?));
/// assert_eq!(q.to_decimal().to_string(), "1.6250");
/// assert!("0.00001".parse::<Quantity>().is_err());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i64);

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity(0);
    /// One (a full day).
    pub const ONE: Quantity = Quantity(QUANTITY_SCALE);

    /// The quantity `units / 10_000`.
    ///
    /// ```
    /// assert_eq!(wholesale_billing::Quantity::from_ten_thousandths(417).to_string(), "0.0417");
    /// ```
    pub const fn from_ten_thousandths(units: i64) -> Self {
        Quantity(units)
    }

    /// The quantity as a count of ten-thousandths.
    pub const fn ten_thousandths(self) -> i64 {
        self.0
    }

    /// Whether the quantity is exactly zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Whether the quantity is above zero.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Whether the quantity is below zero.
    ///
    /// ```
    /// use wholesale_billing::Quantity;
    /// assert!("-0.0001".parse::<Quantity>()?.is_negative());
    /// assert!(!Quantity::ZERO.is_negative());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The exact decimal value, with scale 4.
    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 4)
    }

    /// A decimal with at most four decimals as a quantity.
    ///
    /// # Errors
    /// [`Error::InvalidQuantity`] when the decimal has more precision than four decimals (after
    /// removing trailing zeros) or does not fit.
    ///
    /// ```
    /// use rust_decimal::Decimal;
    /// use wholesale_billing::Quantity;
    /// let q = Quantity::try_from_decimal(Decimal::new(5, 1))?;
    /// assert_eq!(q.to_string(), "0.5000");
    /// assert!(Quantity::try_from_decimal(Decimal::new(12345, 5)).is_err());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn try_from_decimal(value: Decimal) -> Result<Self> {
        let bad = |reason| Error::InvalidQuantity {
            input: value.to_string(),
            reason,
        };
        let normal = value.normalize();
        if normal.scale() > 4 {
            return Err(bad("more than four decimals"));
        }
        let scaled = normal
            .checked_mul(Decimal::from(QUANTITY_SCALE))
            .ok_or_else(|| bad("too large"))?;
        i64::try_from(scaled).map(Quantity).map_err(|_| bad("too large"))
    }

    /// `self + other`, `None` when the sum does not fit (beyond ±922,337,203,685,477 days).
    ///
    /// ```
    /// use wholesale_billing::Quantity;
    /// let big: Quantity = "900000000000000".parse()?;
    /// assert_eq!(Quantity::ONE.checked_add(Quantity::ONE), Some("2".parse()?));
    /// assert_eq!(big.checked_add(big), None);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_add(other.0).map(Quantity)
    }

    /// `self − other`, `None` when the difference does not fit.
    ///
    /// ```
    /// use wholesale_billing::Quantity;
    /// assert_eq!(Quantity::ONE.checked_sub(Quantity::ONE), Some(Quantity::ZERO));
    /// assert_eq!(Quantity::from_ten_thousandths(i64::MIN).checked_sub(Quantity::ONE), None);
    /// ```
    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        self.0.checked_sub(other.0).map(Quantity)
    }

    /// The sum of quantities (zero for none).
    ///
    /// # Errors
    /// [`Error::Overflow`] (`Σ quantities`) when a partial sum does not fit.
    ///
    /// ```
    /// use wholesale_billing::{Error, Quantity};
    /// let days = ["1.5", "2.25"].map(|q| q.parse::<Quantity>().unwrap());
    /// assert_eq!(Quantity::try_sum(days)?.to_string(), "3.7500");
    /// let big: Quantity = "900000000000000".parse()?;
    /// assert!(matches!(Quantity::try_sum([big, big]), Err(Error::Overflow { .. })));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn try_sum(quantities: impl IntoIterator<Item = Quantity>) -> Result<Quantity> {
        crate::checked::sum(quantities, "Σ quantities")
    }

    /// Writes the report form (`12.5000`) into `buf`, returning the text; no allocation.
    pub(crate) fn format_into(self, buf: &mut [u8; 24]) -> &str {
        let negative = self.0 < 0;
        let mut v = self.0.unsigned_abs();
        let mut i = buf.len();
        for _ in 0..4 {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        i -= 1;
        buf[i] = b'.';
        loop {
            i -= 1;
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if negative {
            i -= 1;
            buf[i] = b'-';
        }
        std::str::from_utf8(&buf[i..]).unwrap_or("")
    }
}

/// `round_half_even(numerator / denominator)` for non-negative integers: the rounding of the
/// billing contract, on integers.
pub(crate) const fn div_round_half_even(numerator: i64, denominator: i64) -> i64 {
    let q = numerator / denominator;
    let r = numerator % denominator;
    let twice = 2 * r;
    if twice > denominator || (twice == denominator && q % 2 == 1) {
        q + 1
    } else {
        q
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 24];
        f.pad(self.format_into(&mut buf))
    }
}

impl FromStr for Quantity {
    type Err = Error;

    /// Parses a plain decimal (`12`, `0.5`, `1.6250`, `-3.25`); at most four decimals.
    fn from_str(s: &str) -> Result<Self> {
        parse_quantity(s.as_bytes()).map_err(|reason| Error::InvalidQuantity {
            input: s.to_owned(),
            reason,
        })
    }
}

pub(crate) fn parse_quantity(b: &[u8]) -> std::result::Result<Quantity, &'static str> {
    let (negative, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        Some(_) => (false, b),
        None => return Err("empty"),
    };
    let (int_part, frac_part) = match digits.iter().position(|&c| c == b'.') {
        Some(dot) => (&digits[..dot], &digits[dot + 1..]),
        None => (digits, &digits[digits.len()..]),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err("not a number");
    }
    let mut value: i64 = 0;
    for &c in int_part {
        if !c.is_ascii_digit() {
            return Err("not a plain decimal number");
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(c - b'0')))
            .ok_or("too large")?;
    }
    let mut frac: i64 = 0;
    for (i, &c) in frac_part.iter().enumerate() {
        if !c.is_ascii_digit() {
            return Err("not a plain decimal number");
        }
        if i >= 4 {
            if c != b'0' {
                return Err("more than four decimals");
            }
        } else {
            frac = frac * 10 + i64::from(c - b'0');
        }
    }
    for _ in frac_part.len().min(4)..4 {
        frac *= 10;
    }
    let units = value
        .checked_mul(QUANTITY_SCALE)
        .and_then(|v| v.checked_add(frac))
        .ok_or("too large")?;
    Ok(Quantity(if negative { -units } else { units }))
}

impl From<Quantity> for Decimal {
    fn from(q: Quantity) -> Decimal {
        q.to_decimal()
    }
}

impl TryFrom<Decimal> for Quantity {
    type Error = Error;
    fn try_from(value: Decimal) -> Result<Self> {
        Quantity::try_from_decimal(value)
    }
}

impl serde::Serialize for Quantity {
    /// Serialised as a string (`"1.6250"`), never a float.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        parse_quantity(text.as_bytes())
            .map_err(|reason| serde::de::Error::custom(format!("invalid quantity {}: {reason}", Quoted(&text))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_even_on_integers() {
        assert_eq!(div_round_half_even(10_000, 24), 417);
        assert_eq!(div_round_half_even(5, 2), 2);
        assert_eq!(div_round_half_even(7, 2), 4);
        assert_eq!(div_round_half_even(15 * 10_000, 24), 6_250);
        assert_eq!(div_round_half_even(0, 24), 0);
    }

    #[test]
    fn formats_and_parses() {
        for (text, units, shown) in [
            ("0", 0, "0.0000"),
            ("1", 10_000, "1.0000"),
            ("0.0417", 417, "0.0417"),
            ("-3.25", -32_500, "-3.2500"),
            ("12.50000", 125_000, "12.5000"),
            (".5", 5_000, "0.5000"),
            ("7.", 70_000, "7.0000"),
        ] {
            let q: Quantity = text.parse().unwrap();
            assert_eq!(q.ten_thousandths(), units, "{text}");
            assert_eq!(q.to_string(), shown);
        }
        for bad in ["", "-", ".", "1e3", "1.23456", "abc", "1,5", "99999999999999999999"] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad}");
        }
    }

    #[test]
    fn decimal_round_trip() {
        let q = Quantity::from_ten_thousandths(356_6889);
        assert_eq!(Quantity::try_from_decimal(q.to_decimal()).unwrap(), q);
        assert_eq!(q.to_decimal().to_string(), "356.6889");
    }

    #[test]
    fn extreme_values_format() {
        let q = Quantity::from_ten_thousandths(i64::MIN);
        assert_eq!(q.to_string(), "-922337203685477.5808");
    }
}
