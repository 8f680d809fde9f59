//! Checked arithmetic on money and quantities: every sum, difference, product and quotient on a
//! money or quantity path fits or is an [`Error::Overflow`] naming the operation; nothing panics
//! (as `Decimal`'s operators do) and nothing saturates.
//!
//! The functions name the operation (`"price × units"`); the caller that knows what it computes
//! for adds the subject with [`Subject::for_subject`] (`"SKU A-W-WXC-CALL-U of customer c1"`), built
//! only when the operation overflowed.
// Every sum, difference, product and quotient of money or quantities here goes through
// `crate::checked`: clippy refuses an operator that could panic or overflow.
#![deny(clippy::arithmetic_side_effects)]

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::quantity::Quantity;

/// A number whose sums and differences are checked.
pub(crate) trait Exact: Copy {
    /// The neutral element of a sum.
    const ZERO: Self;
    /// `self + rhs`, `None` when it does not fit.
    fn add_checked(self, rhs: Self) -> Option<Self>;
    /// `self − rhs`, `None` when it does not fit.
    fn sub_checked(self, rhs: Self) -> Option<Self>;
}

impl Exact for Decimal {
    const ZERO: Self = Decimal::ZERO;
    fn add_checked(self, rhs: Self) -> Option<Self> {
        self.checked_add(rhs)
    }
    fn sub_checked(self, rhs: Self) -> Option<Self> {
        self.checked_sub(rhs)
    }
}

impl Exact for Quantity {
    const ZERO: Self = Quantity::ZERO;
    fn add_checked(self, rhs: Self) -> Option<Self> {
        self.checked_add(rhs)
    }
    fn sub_checked(self, rhs: Self) -> Option<Self> {
        self.checked_sub(rhs)
    }
}

impl Exact for i64 {
    const ZERO: Self = 0;
    fn add_checked(self, rhs: Self) -> Option<Self> {
        self.checked_add(rhs)
    }
    fn sub_checked(self, rhs: Self) -> Option<Self> {
        self.checked_sub(rhs)
    }
}

/// `a + b`.
///
/// # Errors
/// [`Error::Overflow`] of `operation` when the sum does not fit.
#[inline]
pub(crate) fn add<T: Exact>(a: T, b: T, operation: &'static str) -> Result<T> {
    a.add_checked(b).ok_or_else(|| Error::overflow(operation))
}

/// `a − b`.
///
/// # Errors
/// [`Error::Overflow`] of `operation` when the difference does not fit.
#[inline]
pub(crate) fn sub<T: Exact>(a: T, b: T, operation: &'static str) -> Result<T> {
    a.sub_checked(b).ok_or_else(|| Error::overflow(operation))
}

/// `Σ items` (zero for none).
///
/// # Errors
/// [`Error::Overflow`] of `operation` when a partial sum does not fit.
pub(crate) fn sum<T: Exact>(items: impl IntoIterator<Item = T>, operation: &'static str) -> Result<T> {
    items.into_iter().try_fold(T::ZERO, |acc, x| add(acc, x, operation))
}

/// `a × b`, exactly as `Decimal`'s `*` when it fits.
///
/// # Errors
/// [`Error::Overflow`] of `operation` when the product does not fit.
#[inline]
pub(crate) fn mul(a: Decimal, b: Decimal, operation: &'static str) -> Result<Decimal> {
    a.checked_mul(b).ok_or_else(|| Error::overflow(operation))
}

/// `a / b`, exactly as `Decimal`'s `/` when it fits.
///
/// # Errors
/// [`Error::Overflow`] of `operation` when the quotient does not fit or `b` is zero.
#[inline]
pub(crate) fn div(a: Decimal, b: Decimal, operation: &'static str) -> Result<Decimal> {
    a.checked_div(b).ok_or_else(|| Error::overflow(operation))
}

/// `amount × percent / 100`, in that order (the order every bill has always used, so results are
/// unchanged to the last digit).
///
/// # Errors
/// [`Error::Overflow`] of `operation` when the product does not fit.
pub(crate) fn percent_of(amount: Decimal, percent: Decimal, operation: &'static str) -> Result<Decimal> {
    div(mul(amount, percent, operation)?, Decimal::ONE_HUNDRED, operation)
}

/// Names what an overflow was computed for.
pub(crate) trait Subject<T> {
    /// The same result; an [`Error::Overflow`] without a subject gets `subject()`.
    fn for_subject(self, subject: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Subject<T> for Result<T> {
    #[inline]
    fn for_subject(self, subject: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| e.for_subject(subject))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflows_are_errors_with_their_operation_and_subject() {
        let err = mul(Decimal::MAX, Decimal::TWO, "price × units")
            .for_subject(|| "SKU X of customer c1".to_owned())
            .unwrap_err();
        assert_eq!(err.to_string(), "overflow: price × units for SKU X of customer c1");
        // An outer subject does not replace the inner one.
        let inner = add(i64::MAX, 1, "Σ user-days").for_subject(|| "SKU X".to_owned());
        let err = inner.for_subject(|| "the report".to_owned()).unwrap_err();
        assert_eq!(err.to_string(), "overflow: Σ user-days for SKU X");
        assert!(matches!(
            sub(Quantity::from_ten_thousandths(i64::MIN), Quantity::ONE, "x"),
            Err(Error::Overflow { .. })
        ));
        assert!(div(Decimal::ONE, Decimal::ZERO, "x").is_err());
        assert!(sum([Decimal::MAX, Decimal::ONE], "x").is_err());
        assert_eq!(sum([Decimal::ONE, Decimal::TWO], "x").unwrap(), Decimal::new(3, 0));
    }

    #[test]
    fn percent_is_product_then_quotient() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(percent_of(d("5035.42"), d("22"), "x").unwrap(), d("1107.7924"));
        assert_eq!(percent_of(d("1"), d("3"), "x").unwrap(), d("3") / d("100"));
        assert!(percent_of(d("20000000000000000000000000000"), d("10"), "x").is_err());
        // A non-overflowing result must equal the operators' one, to the last digit.
        let (a, p) = (d("123.456789"), d("33.333333333"));
        assert_eq!(percent_of(a, p, "x").unwrap(), a * p / Decimal::ONE_HUNDRED);
    }
}
