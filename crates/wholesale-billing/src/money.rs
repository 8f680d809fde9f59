//! Money: exact decimal amounts in an ISO 4217 currency, and the rounding named at every stage
//! (SPEC.md §5).
//!
//! An amount is a [`Decimal`]; a [`Money`] pairs it with a [`Currency`] and refuses to mix
//! currencies. Rounding happens at named stages of a [`RoundingPolicy`] — quantities to 4 decimals,
//! lines and tax to the currency's minor unit, totals as the sum of rounded lines — half-even unless
//! configured.
// Every sum, difference, product and quotient of money or quantities here goes through
// `crate::checked`: clippy refuses an operator that could panic or overflow.
#![deny(clippy::arithmetic_side_effects)]

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::checked;
use crate::error::{Error, Result};

/// An ISO 4217 currency: its three-letter code and the number of decimals of its minor unit.
///
/// ```
/// use wholesale_billing::Currency;
/// let usd: Currency = "USD".parse()?;
/// assert_eq!(usd.minor_unit(), 2);
/// assert_eq!("jpy".parse::<Currency>()?.minor_unit(), 0);
/// assert_eq!(Currency::with_minor_unit("XTS", 3)?.code(), "XTS");
/// assert!("US".parse::<Currency>().is_err());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency {
    code: [u8; 3],
    minor_unit: u8,
}

/// ISO 4217 codes with a minor unit other than 2 decimals; every other known code has 2.
const MINOR_UNIT_EXCEPTIONS: [(&str, u8); 18] = [
    ("BHD", 3),
    ("CLP", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("TND", 3),
    ("UGX", 0),
    ("VND", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("UYW", 4),
];

/// ISO 4217 codes known to have a 2-decimal minor unit (the currencies Cisco bills in and more).
const TWO_DECIMALS: [&str; 52] = [
    "AED", "ARS", "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "COP", "CZK", "DKK", "EGP", "EUR", "GBP", "GHS", "HKD",
    "HRK", "HUF", "IDR", "ILS", "INR", "KES", "KZT", "MAD", "MXN", "MYR", "NGN", "NOK", "NZD", "PEN", "PHP", "PKR",
    "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "UAH", "USD", "UYU", "ZAR", "LKR",
    "BDT", "DZD", "VES", "XTS",
];

impl Currency {
    /// US dollar.
    pub const USD: Currency = Currency {
        code: *b"USD",
        minor_unit: 2,
    };
    /// Euro.
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        minor_unit: 2,
    };
    /// Pound sterling.
    pub const GBP: Currency = Currency {
        code: *b"GBP",
        minor_unit: 2,
    };

    /// A known ISO 4217 currency (case-insensitive code).
    ///
    /// # Errors
    /// [`Error::Unknown`] for a code the crate does not know; [`Currency::with_minor_unit`] takes
    /// any well-formed code.
    pub fn from_code(code: &str) -> Result<Self> {
        let upper = code.trim().to_ascii_uppercase();
        let minor = MINOR_UNIT_EXCEPTIONS
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|(_, m)| *m)
            .or_else(|| TWO_DECIMALS.contains(&upper.as_str()).then_some(2));
        match minor {
            Some(m) => Currency::with_minor_unit(&upper, m),
            None => Err(Error::Unknown {
                what: "currency",
                value: code.to_owned(),
                hint: "; give an ISO 4217 code (USD, EUR, GBP, JPY, ...)".to_owned(),
            }),
        }
    }

    /// Any three-letter code with an explicit minor unit (0 to 4 decimals).
    ///
    /// # Errors
    /// [`Error::Unknown`] when the code is not three ASCII letters or the minor unit exceeds 4.
    pub fn with_minor_unit(code: &str, minor_unit: u8) -> Result<Self> {
        let upper = code.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) || minor_unit > 4 {
            return Err(Error::Unknown {
                what: "currency",
                value: code.to_owned(),
                hint: "; a currency is three letters with a minor unit of 0 to 4 decimals".to_owned(),
            });
        }
        Ok(Currency {
            code: [bytes[0], bytes[1], bytes[2]],
            minor_unit,
        })
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Decimals of the minor unit (2 for USD, 0 for JPY).
    pub fn minor_unit(&self) -> u32 {
        u32::from(self.minor_unit)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Currency::from_code(&text).map_err(serde::de::Error::custom)
    }
}

/// How a value is rounded at one stage.
///
/// ```
/// use wholesale_billing::{Decimal, RoundingMode};
/// let x: Decimal = "527.125".parse().unwrap();
/// assert_eq!(RoundingMode::HalfEven.round(x, 2).to_string(), "527.12");
/// assert_eq!(RoundingMode::HalfUp.round(x, 2).to_string(), "527.13");
/// assert_eq!(RoundingMode::Up.round("0.001".parse().unwrap(), 2).to_string(), "0.01");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Half to even ("banker's"): the billing contract's default.
    #[default]
    HalfEven,
    /// Half away from zero.
    HalfUp,
    /// Half toward zero.
    HalfDown,
    /// Away from zero.
    Up,
    /// Toward zero (truncation).
    Down,
    /// Toward positive infinity.
    Ceiling,
    /// Toward negative infinity.
    Floor,
}

impl RoundingMode {
    /// `value` rounded to `decimals` places under this mode.
    pub fn round(self, value: Decimal, decimals: u32) -> Decimal {
        let strategy = match self {
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfDown => RoundingStrategy::MidpointTowardZero,
            RoundingMode::Up => RoundingStrategy::AwayFromZero,
            RoundingMode::Down => RoundingStrategy::ToZero,
            RoundingMode::Ceiling => RoundingStrategy::ToPositiveInfinity,
            RoundingMode::Floor => RoundingStrategy::ToNegativeInfinity,
        };
        let mut rounded = value.round_dp_with_strategy(decimals, strategy);
        // Always carry exactly `decimals` places, so `527.1` prints as `527.10`.
        rounded.rescale(decimals);
        rounded
    }
}

/// The rounding of every stage of a bill, named. Half-even everywhere by default.
///
/// | stage | to | applied to |
/// |---|---|---|
/// | `quantity` | 4 decimals | user-months from user-days |
/// | `line` | the currency's minor unit | quantity × rate, discounts, minimum-charge top-ups |
/// | `tax` | the currency's minor unit | tax of a document |
/// | `total` | the currency's minor unit | totals, which are sums of rounded lines (so this stage only fixes the scale) |
///
/// ```
/// use wholesale_billing::{Currency, Decimal, RoundingPolicy};
/// let policy = RoundingPolicy::default();
/// let qty = policy.quantity("105.42499".parse::<Decimal>().unwrap());
/// assert_eq!(qty.to_string(), "105.4250");
/// let line = policy.line("527.125".parse().unwrap(), Currency::USD);
/// assert_eq!(line.to_string(), "527.12 USD");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoundingPolicy {
    /// Quantities (user-months), to 4 decimals.
    pub quantity: RoundingMode,
    /// Money lines, to the minor unit.
    pub line: RoundingMode,
    /// Tax, to the minor unit.
    pub tax: RoundingMode,
    /// Totals, to the minor unit.
    pub total: RoundingMode,
}

/// Decimals of a quantity (user-days, user-months).
pub const QUANTITY_DECIMALS: u32 = 4;

impl RoundingPolicy {
    /// A quantity rounded to 4 decimals.
    pub fn quantity(&self, value: Decimal) -> Decimal {
        self.quantity.round(value, QUANTITY_DECIMALS)
    }

    /// A money line rounded to the currency's minor unit.
    pub fn line(&self, amount: Decimal, currency: Currency) -> Money {
        Money::new(self.line.round(amount, currency.minor_unit()), currency)
    }

    /// A tax amount rounded to the currency's minor unit.
    pub fn tax(&self, amount: Decimal, currency: Currency) -> Money {
        Money::new(self.tax.round(amount, currency.minor_unit()), currency)
    }

    /// A total rounded to the currency's minor unit.
    pub fn total(&self, amount: Decimal, currency: Currency) -> Money {
        Money::new(self.total.round(amount, currency.minor_unit()), currency)
    }
}

/// An exact amount in a currency. Arithmetic between two amounts checks their currencies.
///
/// Serialised as `{"amount": "527.12", "currency": "USD"}`: the amount is a string, never a float.
///
/// ```
/// use wholesale_billing::{Currency, Money};
/// let a = Money::parse("527.12", Currency::USD)?;
/// let b = Money::parse("2853.51", Currency::USD)?;
/// assert_eq!(a.checked_add(b)?.to_string(), "3380.63 USD");
/// let eur = Money::parse("1", Currency::EUR)?;
/// assert!(a.checked_add(eur).is_err());
/// assert_eq!(serde_json::to_string(&a).unwrap(), r#"{"amount":"527.12","currency":"USD"}"#);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// `amount` in `currency`, as given (not rounded).
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    /// Zero in `currency`, with the currency's scale.
    pub fn zero(currency: Currency) -> Self {
        Money::new(Decimal::new(0, currency.minor_unit()), currency)
    }

    /// Parses a plain decimal amount (`"527.12"`, `"-3"`).
    ///
    /// # Errors
    /// [`Error::InvalidMoney`] when the text is not a plain decimal number.
    pub fn parse(text: &str, currency: Currency) -> Result<Self> {
        parse_decimal(text).map(|amount| Money::new(amount, currency))
    }

    /// The amount.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    fn same_currency(&self, other: &Money) -> Result<()> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(Error::CurrencyMismatch {
                expected: self.currency.code().to_owned(),
                found: other.currency.code().to_owned(),
            })
        }
    }

    /// The sum of two amounts of one currency.
    ///
    /// # Errors
    /// [`Error::CurrencyMismatch`] for two currencies, [`Error::Overflow`] beyond `Decimal`.
    pub fn checked_add(self, other: Money) -> Result<Money> {
        self.same_currency(&other)?;
        let amount = checked::add(self.amount, other.amount, "sum of amounts")?;
        Ok(Money::new(amount, self.currency))
    }

    /// The difference of two amounts of one currency.
    ///
    /// # Errors
    /// As [`Money::checked_add`].
    pub fn checked_sub(self, other: Money) -> Result<Money> {
        self.same_currency(&other)?;
        let amount = checked::sub(self.amount, other.amount, "difference of amounts")?;
        Ok(Money::new(amount, self.currency))
    }

    /// The amount times a factor (a quantity, a rate), not rounded.
    ///
    /// # Errors
    /// [`Error::Overflow`] beyond `Decimal`.
    pub fn checked_mul(self, factor: Decimal) -> Result<Money> {
        let amount = checked::mul(self.amount, factor, "amount × factor")?;
        Ok(Money::new(amount, self.currency))
    }

    /// The amount rounded to the currency's minor unit under `mode`.
    pub fn round(self, mode: RoundingMode) -> Money {
        Money::new(mode.round(self.amount, self.currency.minor_unit()), self.currency)
    }

    /// Whether the amount has no more decimals than the currency's minor unit.
    pub fn is_rounded(&self) -> bool {
        self.amount.normalize().scale() <= self.currency.minor_unit()
    }

    /// Whether the amount is below zero.
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    /// The sum of amounts, all in `currency` (zero for none).
    ///
    /// # Errors
    /// [`Error::CurrencyMismatch`] if any amount is in another currency; [`Error::Overflow`]
    /// beyond `Decimal`.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Money};
    /// let lines = ["527.12", "2853.51", "1608.04", "46.75", "0.00"]
    ///     .map(|a| Money::parse(a, Currency::USD).unwrap());
    /// assert_eq!(Money::sum(lines, Currency::USD)?.to_string(), "5035.42 USD");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn sum(amounts: impl IntoIterator<Item = Money>, currency: Currency) -> Result<Money> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }
}

impl fmt::Display for Money {
    /// `527.12 USD`, with at least the currency's decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut amount = self.amount;
        if amount.scale() < self.currency.minor_unit() {
            amount.rescale(self.currency.minor_unit());
        }
        write!(f, "{amount} {}", self.currency)
    }
}

/// Parses a plain decimal number (`12`, `-0.5`, `1.6250`; no exponent, no thousands separators).
///
/// # Errors
/// [`Error::InvalidMoney`] naming the text.
pub(crate) fn parse_decimal(text: &str) -> Result<Decimal> {
    let t = text.trim();
    let plain = !t.is_empty()
        && t.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || b == b'.' || (i == 0 && (b == b'-' || b == b'+')))
        && t.bytes().filter(|&b| b == b'.').count() <= 1
        && t.bytes().any(|b| b.is_ascii_digit());
    if !plain {
        return Err(Error::InvalidMoney {
            input: text.to_owned(),
            reason: "not a plain decimal number",
        });
    }
    Decimal::from_str_exact(t.trim_start_matches('+')).map_err(|_| Error::InvalidMoney {
        input: text.to_owned(),
        reason: "too many digits",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn seed_invoice_lines_round_half_even() {
        let policy = RoundingPolicy::default();
        let lines = [
            ("105.425", "5", "527.12"),
            ("356.6889", "8", "2853.51"),
            ("268.0069", "6", "1608.04"),
            ("5.1944", "9", "46.75"),
            ("1", "0.00", "0.00"),
        ];
        let mut total = Money::zero(Currency::USD);
        for (qty, rate, expected) in lines {
            let line = policy.line(d(qty) * d(rate), Currency::USD);
            assert_eq!(line.amount().to_string(), expected);
            total = total.checked_add(line).unwrap();
        }
        assert_eq!(total.to_string(), "5035.42 USD");
    }

    #[test]
    fn modes_differ_only_where_they_should() {
        let cases = [
            (
                "2.345",
                [("half_even", "2.34"), ("half_up", "2.35"), ("half_down", "2.34")],
            ),
            (
                "-2.345",
                [("half_even", "-2.34"), ("half_up", "-2.35"), ("half_down", "-2.34")],
            ),
            (
                "2.355",
                [("half_even", "2.36"), ("half_up", "2.36"), ("half_down", "2.35")],
            ),
        ];
        for (value, expected) in cases {
            for (mode, want) in expected {
                let mode: RoundingMode = serde_json::from_str(&format!("\"{mode}\"")).unwrap();
                assert_eq!(mode.round(d(value), 2).to_string(), want, "{value} {mode:?}");
            }
        }
        assert_eq!(RoundingMode::Floor.round(d("-0.001"), 2).to_string(), "-0.01");
        assert_eq!(RoundingMode::Ceiling.round(d("-0.009"), 2).to_string(), "0.00");
        assert_eq!(RoundingMode::Down.round(d("0.019"), 2).to_string(), "0.01");
    }

    #[test]
    fn currencies() {
        assert_eq!(Currency::from_code("kwd").unwrap().minor_unit(), 3);
        assert!(Currency::from_code("ABC").is_err());
        assert!(Currency::with_minor_unit("AB1", 2).is_err());
        assert!(Currency::with_minor_unit("ABC", 5).is_err());
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(RoundingPolicy::default().line(d("1234.5"), jpy).to_string(), "1234 JPY");
        assert_eq!(Money::zero(jpy).to_string(), "0 JPY");
    }

    #[test]
    fn money_json_round_trip() {
        let m = Money::parse("-12.50", Currency::EUR).unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"-12.50","currency":"EUR"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        assert!(serde_json::from_str::<Money>(r#"{"amount":1.5,"currency":"EUR"}"#).is_err());
    }

    #[test]
    fn parse_refuses_non_plain_numbers() {
        for bad in ["", "1e3", "1,000.00", "$5", "1.2.3", "-", "."] {
            assert!(parse_decimal(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_decimal("+7.10").unwrap().to_string(), "7.10");
    }
}
