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
use crate::quantity::{QUANTITY_DECIMALS, Quantity};
use crate::time::Period;

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
    /// [`Error::UnknownCurrency`] for a code the crate does not know; [`Currency::with_minor_unit`]
    /// takes any well-formed code.
    pub fn from_code(code: &str) -> Result<Self> {
        let upper = code.trim().to_ascii_uppercase();
        let minor = MINOR_UNIT_EXCEPTIONS
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|(_, m)| *m)
            .or_else(|| TWO_DECIMALS.contains(&upper.as_str()).then_some(2));
        match minor {
            Some(m) => Currency::with_minor_unit(&upper, m),
            None => Err(Error::UnknownCurrency { code: code.to_owned() }),
        }
    }

    /// Any three-letter code with an explicit minor unit (0 to 4 decimals).
    ///
    /// # Errors
    /// [`Error::InvalidCurrency`] when the code is not three ASCII letters or the minor unit
    /// exceeds 4.
    pub fn with_minor_unit(code: &str, minor_unit: u8) -> Result<Self> {
        let upper = code.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_uppercase) || minor_unit > 4 {
            return Err(Error::InvalidCurrency {
                code: code.to_owned(),
                minor_unit,
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

string_enum! {
    /// How a value is rounded at one stage.
    ///
    /// ```
    /// use wholesale_billing::{Decimal, RoundingMode};
    /// let x: Decimal = "527.125".parse().unwrap();
    /// assert_eq!(RoundingMode::HalfEven.round(x, 2).to_string(), "527.12");
    /// assert_eq!(RoundingMode::HalfUp.round(x, 2).to_string(), "527.13");
    /// assert_eq!(RoundingMode::Up.round("0.001".parse().unwrap(), 2).to_string(), "0.01");
    /// assert_eq!("half_down".parse::<RoundingMode>()?, RoundingMode::HalfDown);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RoundingMode("rounding mode") {
        /// Half to even ("banker's"): the billing contract's default.
        #[default]
        HalfEven = "half_even",
        /// Half away from zero.
        HalfUp = "half_up",
        /// Half toward zero.
        HalfDown = "half_down",
        /// Away from zero.
        Up = "up",
        /// Toward zero (truncation).
        Down = "down",
        /// Toward positive infinity.
        Ceiling = "ceiling",
        /// Toward negative infinity.
        Floor = "floor",
    }
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

impl RoundingPolicy {
    /// A quantity rounded to 4 decimals.
    pub fn quantity(&self, value: Decimal) -> Decimal {
        self.quantity.round(value, QUANTITY_DECIMALS)
    }

    /// User-months of `user_days` in `period` (SPEC.md §5.1): `Σ user-days / days in the period`,
    /// rounded to 4 decimals at the quantity stage (half-even by default). The quantity of a
    /// vendor invoice's usage line, of a prorated customer invoice line, of a margin's cost and
    /// of the reconciliation's invoice check.
    ///
    /// # Errors
    /// [`Error::Overflow`] (`user-days / days`, without a subject: the caller names it with
    /// `for_subject`) if the division does not fit a `Decimal` (it always does for a
    /// [`Quantity`]: kept checked as every quantity arithmetic).
    ///
    /// ```
    /// use wholesale_billing::{Period, Quantity, RoundingMode, RoundingPolicy};
    /// let may = Period::month(2024, 5)?;
    /// let user_days: Quantity = "3268.1750".parse()?;
    /// assert_eq!(RoundingPolicy::default().user_months(user_days, may)?.to_string(), "105.4250");
    /// // 0.00005 user-months exactly: half-even keeps 0.0000, half-up gives 0.0001.
    /// let tiny: Quantity = "0.0031".parse()?;
    /// let half = Period::from_dates("2024-05-01", "2024-07-01")?; // 62 days
    /// assert_eq!(RoundingPolicy::default().user_months(tiny, half)?.to_string(), "0.0000");
    /// let up = RoundingPolicy { quantity: RoundingMode::HalfUp, ..RoundingPolicy::default() };
    /// assert_eq!(up.user_months(tiny, half)?.to_string(), "0.0001");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn user_months(&self, user_days: Quantity, period: Period) -> Result<Decimal> {
        let months = checked::div(user_days.to_decimal(), Decimal::from(period.days()), "user-days / days")?;
        Ok(self.quantity(months))
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
    #[serde(with = "decimal_text")]
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
                expected: self.currency,
                found: other.currency,
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

/// Parses a plain decimal number (`12`, `-0.5`, `+1.6250`; surrounding white space allowed; no
/// exponent, no thousands separators), exactly as written: the crate's one reader of decimals in
/// text (files, command-line options, Python strings).
///
/// # Errors
/// [`Error::InvalidMoney`] naming the text: not a plain decimal number, or more digits than a
/// [`Decimal`] holds.
///
/// ```
/// use wholesale_billing::parse_decimal;
/// assert_eq!(parse_decimal(" 8.00 ")?.to_string(), "8.00");
/// assert_eq!(parse_decimal("+7.10")?.to_string(), "7.10");
/// assert_eq!(parse_decimal("1e3").unwrap_err().to_string(), r#"invalid amount "1e3": not a plain decimal number"#);
/// assert!(parse_decimal("1,000.00").is_err());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn parse_decimal(text: &str) -> Result<Decimal> {
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

/// Parses a price: a plain decimal ([`parse_decimal`]) that is not negative; `-0` and `-0.00`
/// are zero, with their scale. The readers place the error in their located ones.
///
/// # Errors
/// [`Error::InvalidPrice`] for a text that is not a plain decimal number, [`Error::NegativePrice`]
/// for a negative one.
pub(crate) fn parse_price(text: &str) -> Result<Decimal> {
    let price = parse_decimal(text).map_err(|e| match e {
        Error::InvalidMoney { input, reason } => Error::InvalidPrice { input, reason },
        other => other,
    })?;
    non_negative_price(price)
}

/// `price` when it is not below zero (`-0` becomes `0` of the same scale).
///
/// # Errors
/// [`Error::NegativePrice`] for a negative price.
fn non_negative_price(price: Decimal) -> Result<Decimal> {
    if price.is_zero() {
        return Ok(Decimal::new(0, price.scale()));
    }
    if price.is_sign_negative() {
        return Err(Error::NegativePrice {
            what: "price",
            value: price,
            sku: None,
        });
    }
    Ok(price)
}

/// Decimals as strings, the one serde form of every amount, price, rate and percentage of the
/// crate: written as their exact text (`"527.10"`), read from a plain decimal string
/// ([`parse_decimal`]) or a whole number; a float is refused, since it is not the number
/// written. Use as `#[serde(with = "crate::money::decimal_text")]` (`decimal_text::option` for an
/// `Option<Decimal>`); a reader with other rules (a non-negative price, a hint in its file's
/// syntax) deserialises with a [`DecimalText`](decimal_text::DecimalText) of its own.
pub(crate) mod decimal_text {
    use std::fmt;

    use rust_decimal::Decimal;
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    /// What a decimal in a file is, for reading it and for the messages about it.
    #[derive(Debug, Clone, Copy)]
    pub(crate) struct DecimalText {
        /// The kind of number in messages (`amount`, `price`), after `a`/`an`.
        pub(crate) what: &'static str,
        /// How the file writes one, for the hints (`"12.00"`, `rate = "8.00"`).
        pub(crate) example: &'static str,
        /// Whether it is a price: never negative (`-0` is zero).
        pub(crate) price: bool,
    }

    /// An amount, rate or percentage of any sign, `"12.00"`.
    pub(crate) const AMOUNT: DecimalText = DecimalText {
        what: "amount",
        example: "\"12.00\"",
        price: false,
    };

    impl DecimalText {
        fn article(&self) -> &'static str {
            if self.what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            }
        }

        fn check_sign<E: de::Error>(&self, value: Decimal) -> Result<Decimal, E> {
            if self.price {
                super::non_negative_price(value).map_err(E::custom)
            } else {
                Ok(value)
            }
        }
    }

    impl Visitor<'_> for DecimalText {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "{} {} as a decimal string, e.g. {}",
                self.article(),
                self.what,
                self.example
            )
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            if self.price {
                super::parse_price(v).map_err(E::custom)
            } else {
                super::parse_decimal(v).map_err(E::custom)
            }
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            self.check_sign(Decimal::from(v))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            self.check_sign(Decimal::from(v))
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Decimal, E> {
            Err(E::custom(format!(
                "{} {} written as a float is not exact: write {}s as strings, e.g. {}",
                self.article(),
                self.what,
                self.what,
                self.example
            )))
        }
    }

    /// Writes the decimal's exact text.
    pub(crate) fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    /// Reads an [`AMOUNT`].
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(AMOUNT)
    }

    /// The same for an `Option<Decimal>`: `None` is written as nothing (with
    /// `skip_serializing_if`) or `null`, and read from `null` (or an absent key, with
    /// `#[serde(default)]`).
    pub(crate) mod option {
        use rust_decimal::Decimal;
        use serde::{Deserialize, Deserializer, Serializer};

        /// Writes the decimal's exact text, or `null`.
        pub(crate) fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => s.collect_str(v),
                None => s.serialize_none(),
            }
        }

        /// Reads an amount, or `null`.
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            /// An amount in an `Option`.
            struct Amount(Decimal);
            impl<'de> Deserialize<'de> for Amount {
                fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    super::deserialize(d).map(Amount)
                }
            }
            Ok(Option::<Amount>::deserialize(d)?.map(|a| a.0))
        }
    }

    /// An optional decimal of a configuration file that is absent or given, never `null`: with
    /// `#[serde(default)]`, an absent key is `None`; a key that is present must be an amount.
    pub(crate) mod present {
        use rust_decimal::Decimal;
        use serde::Deserializer;

        pub(crate) use super::option::serialize;

        /// Reads an amount.
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
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
    fn decimal_text_writes_the_exact_text_and_reads_plain_decimals() {
        #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
        struct Doc {
            #[serde(with = "decimal_text")]
            a: Decimal,
            #[serde(default, with = "decimal_text::option")]
            b: Option<Decimal>,
            #[serde(default, with = "decimal_text::present")]
            c: Option<Decimal>,
        }
        let mut negative_zero = d("0.00");
        negative_zero.set_sign_negative(true);
        for value in [
            d("527.10"),
            d("-3"),
            d("0.0001"),
            Decimal::MAX,
            Decimal::MIN,
            negative_zero,
        ] {
            let doc = Doc {
                a: value,
                b: Some(value),
                c: None,
            };
            let json = serde_json::to_string(&doc).unwrap();
            // The text `rust_decimal::serde::str` wrote before, digit for digit.
            let before = rust_decimal::serde::str::serialize(&value, serde_json::value::Serializer).unwrap();
            let text = before.as_str().unwrap();
            assert_eq!(json, format!(r#"{{"a":"{text}","b":"{text}","c":null}}"#));
            let back: Doc = serde_json::from_str(&json.replace(",\"c\":null", "")).unwrap();
            assert_eq!(back, doc);
        }
        let read = |json: &str| serde_json::from_str::<Doc>(json).map_err(|e| e.to_string());
        assert_eq!(read(r#"{"a": 7, "b": null}"#).unwrap().a, d("7"));
        assert_eq!(read(r#"{"a": " +1.50 "}"#).unwrap().a.to_string(), "1.50");
        assert!(
            read(r#"{"a": 1.5}"#)
                .unwrap_err()
                .starts_with("an amount written as a float is not exact: write amounts as strings, e.g. \"12.00\"")
        );
        assert!(
            read(r#"{"a": "1e3"}"#)
                .unwrap_err()
                .starts_with("invalid amount \"1e3\": not a plain decimal number")
        );
        assert!(
            read(r#"{"a": true}"#)
                .unwrap_err()
                .contains("expected an amount as a decimal string")
        );
        assert!(
            read(r#"{"a": "1", "c": null}"#).is_err(),
            "a configuration key given as null"
        );
        assert_eq!(read(r#"{"a": "1", "c": "2"}"#).unwrap().c, Some(d("2")));
    }

    #[test]
    fn parse_refuses_non_plain_numbers() {
        for bad in ["", "1e3", "1,000.00", "$5", "1.2.3", "-", "."] {
            assert!(parse_decimal(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_decimal("+7.10").unwrap().to_string(), "7.10");
    }
}
