//! The wholesale rate card: the partner's Cisco price per SKU and user-month.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::money::Currency;

/// The partner's Cisco price of one SKU, per user-month.
///
/// ```
/// use wholesale_billing::{Decimal, WholesaleRate};
/// let rate = WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(8, 0));
/// assert_eq!(rate.committed_or_list(), Decimal::new(8, 0));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WholesaleRate {
    /// The SKU (`A-W-WXC-CALL-U`).
    pub sku: String,
    /// The SKU's description, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Price per user-month under an uncommitted deal.
    #[serde(with = "crate::money::decimal_text")]
    pub rate: Decimal,
    /// Price per user-month under a committed deal (used for overage), when it differs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::money::decimal_text::option"
    )]
    pub committed_rate: Option<Decimal>,
    /// Unit of measure from the catalog (`Per User`), when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit_of_measure: String,
    /// Charge type from the catalog (`Usage`), when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub charge_type: String,
}

impl WholesaleRate {
    /// A rate with only a SKU and an uncommitted price.
    pub fn new(sku: impl Into<String>, rate: Decimal) -> Self {
        WholesaleRate {
            sku: sku.into(),
            description: String::new(),
            rate,
            committed_rate: None,
            unit_of_measure: String::new(),
            charge_type: String::new(),
        }
    }

    /// The committed price, or the uncommitted one when no committed price is given.
    pub fn committed_or_list(&self) -> Decimal {
        self.committed_rate.unwrap_or(self.rate)
    }
}

/// The partner's wholesale prices, one currency, keyed by SKU.
///
/// ```
/// use wholesale_billing::{Currency, Decimal, WholesaleRate, WholesaleRateCard};
/// let mut card = WholesaleRateCard::new(Currency::USD);
/// card.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(800, 2)))?;
/// assert_eq!(card.rate("A-W-WXC-CALL-U")?.rate.to_string(), "8.00");
/// assert!(card.rate("A-W-NOPE").is_err());
/// assert!(card.insert(WholesaleRate::new("A-W-NEG", Decimal::new(-1, 0))).is_err());
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WholesaleRateCard {
    currency: Currency,
    rates: BTreeMap<String, WholesaleRate>,
}

impl WholesaleRateCard {
    /// An empty card in `currency`.
    pub fn new(currency: Currency) -> Self {
        WholesaleRateCard {
            currency,
            rates: BTreeMap::new(),
        }
    }

    /// The card's currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Adds a rate.
    ///
    /// # Errors
    /// [`Error::EmptySku`] for an empty SKU, [`Error::NegativePrice`] for a negative rate or
    /// committed rate, [`Error::DuplicateSku`] for a SKU already on the card.
    ///
    /// ```
    /// use wholesale_billing::{Currency, Decimal, Error, WholesaleRate, WholesaleRateCard};
    /// let mut card = WholesaleRateCard::new(Currency::USD);
    /// card.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(800, 2)))?;
    /// let err = card.insert(WholesaleRate::new("A-W-WXC-CALL-U", Decimal::new(800, 2))).unwrap_err();
    /// assert!(matches!(err, Error::DuplicateSku { .. }));
    /// let err = card.insert(WholesaleRate::new("A-W-X", Decimal::new(-1, 0))).unwrap_err();
    /// assert_eq!(err.to_string(), "negative rate -1 for SKU A-W-X");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn insert(&mut self, rate: WholesaleRate) -> Result<()> {
        if rate.sku.trim().is_empty() {
            return Err(Error::EmptySku);
        }
        for (what, value) in [("rate", Some(rate.rate)), ("committed rate", rate.committed_rate)] {
            if let Some(value) = value.filter(|v| v.is_sign_negative() && !v.is_zero()) {
                return Err(Error::NegativePrice {
                    what,
                    value,
                    sku: Some(rate.sku),
                });
            }
        }
        if self.rates.contains_key(&rate.sku) {
            return Err(Error::DuplicateSku { sku: rate.sku });
        }
        self.rates.insert(rate.sku.clone(), rate);
        Ok(())
    }

    /// The rate of a SKU, if the card has one.
    pub fn get(&self, sku: &str) -> Option<&WholesaleRate> {
        self.rates.get(sku)
    }

    /// The rate of a SKU.
    ///
    /// # Errors
    /// [`Error::MissingRate`] naming the SKU and the SKUs the card has when it has no rate for it:
    /// nothing is priced at zero silently. (The computations that look rates up for usage rows
    /// add the row that needs it.)
    pub fn rate(&self, sku: &str) -> Result<&WholesaleRate> {
        self.rates.get(sku).ok_or_else(|| Error::MissingRate {
            sku: sku.to_owned(),
            known: self.rates.keys().cloned().collect(),
            row: None,
        })
    }

    /// Every rate, by SKU.
    pub fn rates(&self) -> impl ExactSizeIterator<Item = &WholesaleRate> + '_ {
        self.rates.values()
    }

    /// The number of SKUs on the card.
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    /// Whether the card has no rates.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }
}
