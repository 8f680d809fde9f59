//! From a Get Offer Details response to the core's wholesale rate card.

use rust_decimal::Decimal;

use super::{Determinant, FILE, OfferDetailsResponse, OfferItem};
use crate::error::{Error, Result};
use crate::money::{Currency, parse_price};
use crate::rates::wholesale::{WholesaleRate, WholesaleRateCard};

impl WholesaleRateCard {
    /// The rate card of a Get Offer Details response: one [`WholesaleRate`] per item.
    ///
    /// - `sku` is `productID`; `description`, `unit_of_measure` and `charge_type` are
    ///   `productDescription`, `unitOfMeasure` and `chargeType`.
    /// - The currency is the item's `currencyCode`, else its `listPriceCurrency`, else that of its
    ///   price points; every currency an item names must agree, and all items share one currency.
    /// - **Committed or not.** A price point is *committed* when one of its determinants has the
    ///   `value` `COMMITTED`, `COMMIT` or `COMMITMENT` (ignoring case, spaces and punctuation), or
    ///   a `determinantType` containing `commit` (ignoring case) with the `value` `Y`, `YES` or
    ///   `TRUE`. Every other price point (such as the sample's `pricingTerm` with an empty value)
    ///   is *uncommitted*. Price points without a `listPrice` (rate tables) are skipped.
    /// - `rate` is the `listPrice` of the uncommitted price points, else the item's own
    ///   `listPrice`; `committed_rate` is the `listPrice` of the committed price points, if any.
    ///   Several price points of one kind must have the same price: the card holds one price per
    ///   SKU, and tiered rate tables are refused rather than flattened.
    /// - `decimalExpansionValue`, when given, is the most decimals a price may have (trailing zeros
    ///   do not count); prices are kept exactly as written.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] (`file` `"offer details"`) with the JSON path of the culprit, whose
    /// source says what is wrong: the service's own error ([`Error::CatalogRefused`]: status
    /// `Error` or an `errorMessage`, with its `messageCode` and `messageText`; `B1003` is
    /// explained as more than 1000 PIDs in the request), no items ([`Error::NoOfferItems`]), an
    /// item without `productID` ([`Error::MissingProductId`]), items in two currencies
    /// ([`Error::MixedCurrencies`]), a SKU seen twice ([`Error::DuplicateSku`]); or, about one
    /// item, an [`Error::OfferItem`] naming its SKU whose source is the problem: no price, a price
    /// that is not a plain non-negative decimal or has more decimals than
    /// `decimalExpansionValue`, differing prices of one kind, an unknown, a second or no currency.
    ///
    /// ```
    /// use wholesale_billing::ccws::{Determinant, OfferDetailsResponse, OfferItem, PricePoint};
    /// use wholesale_billing::WholesaleRateCard;
    /// let point = |price: &str, value: &str| PricePoint {
    ///     list_price: Some(price.into()),
    ///     determinants: vec![Determinant {
    ///         determinant_type: Some("pricingTerm".into()), value: Some(value.into()), ..Default::default()
    ///     }],
    ///     ..Default::default()
    /// };
    /// let item = OfferItem {
    ///     product_id: Some("A-W-WXC-CALL-U".into()),
    ///     currency_code: Some("USD".into()),
    ///     decimal_expansion_value: Some("2".into()),
    ///     price_points: vec![point("9.95", ""), point("8.50", "COMMITTED")],
    ///     ..Default::default()
    /// };
    /// let mut response = OfferDetailsResponse { item_details: vec![item], ..Default::default() };
    /// let card = WholesaleRateCard::from_offer_details(&response)?;
    /// let rate = card.rate("A-W-WXC-CALL-U")?;
    /// assert_eq!((rate.rate.to_string(), rate.committed_rate.unwrap().to_string()), ("9.95".into(), "8.50".into()));
    ///
    /// response.item_details[0].price_points[0].list_price = Some("9.955".into());
    /// let err = WholesaleRateCard::from_offer_details(&response).unwrap_err();
    /// assert_eq!(wholesale_billing::error_with_causes(&err),
    ///     "offer details: at itemDetails[0].pricePoints[0].listPrice: \
    ///      SKU A-W-WXC-CALL-U: price 9.955 has 3 decimals, more than its decimalExpansionValue 2");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_offer_details(response: &OfferDetailsResponse) -> Result<Self> {
        response.check_errors()?;
        let mut card: Option<(WholesaleRateCard, usize, String)> = None;
        for (i, item) in response.item_details.iter().enumerate() {
            let path = format!("itemDetails[{i}]");
            let (rate, currency) = item_rate(item, &path)?;
            match &mut card {
                None => {
                    let mut first = WholesaleRateCard::new(currency);
                    let sku = rate.sku.clone();
                    first.insert(rate).map_err(|e| e.at_path(FILE, path))?;
                    card = Some((first, i, sku));
                }
                Some((card, first, first_sku)) => {
                    if card.currency() != currency {
                        let mixed = Error::MixedCurrencies {
                            sku: rate.sku,
                            found: currency,
                            first_sku: first_sku.clone(),
                            first_item: *first,
                            expected: card.currency(),
                        };
                        return Err(mixed.at_path(FILE, path));
                    }
                    if card.get(&rate.sku).is_some() {
                        return Err(Error::DuplicateSku { sku: rate.sku }.at_path(FILE, format!("{path}.productID")));
                    }
                    card.insert(rate).map_err(|e| e.at_path(FILE, path))?;
                }
            }
        }
        card.map(|(card, _, _)| card)
            .ok_or_else(|| Error::NoOfferItems.at_path(FILE, "itemDetails"))
    }

    /// The rate card of a Get Offer Details response given as JSON text: as
    /// [`OfferDetailsResponse::from_json_str`] then [`WholesaleRateCard::from_offer_details`].
    ///
    /// # Errors
    /// As those two functions.
    ///
    /// ```
    /// use wholesale_billing::WholesaleRateCard;
    /// let err = WholesaleRateCard::from_offer_details_json(r#"{"status": "Error", "itemDetails": [
    ///     {"errorMessage": {"messageCode": "B1003", "messageText": "Too many items"}}]}"#).unwrap_err();
    /// assert_eq!(wholesale_billing::error_with_causes(&err), "offer details: at itemDetails[0].errorMessage: the response has status Error: \
    ///     item 0: error B1003: Too many items (B1003: more than 1000 PIDs in the request)");
    /// ```
    pub fn from_offer_details_json(text: &str) -> Result<Self> {
        WholesaleRateCard::from_offer_details(&OfferDetailsResponse::from_json_str(text)?)
    }
}

/// A problem of the item with this SKU, at a path of the response.
fn in_item(sku: &str, path: impl Into<String>, problem: Error) -> Error {
    Error::OfferItem {
        sku: sku.to_owned(),
        source: Box::new(problem),
    }
    .at_path(FILE, path)
}

pub(super) fn non_empty(text: &Option<String>) -> Option<&str> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty())
}

/// Whether a determinant names a committed term (the rule of
/// [`WholesaleRateCard::from_offer_details`]).
pub(super) fn names_committed_term(d: &Determinant) -> bool {
    let value: String = d
        .value
        .as_deref()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let kind = d.determinant_type.as_deref().unwrap_or("").to_ascii_lowercase();
    matches!(value.as_str(), "COMMIT" | "COMMITTED" | "COMMITMENT")
        || (kind.contains("commit") && matches!(value.as_str(), "Y" | "YES" | "TRUE"))
}

/// The rate and currency of one item.
fn item_rate(item: &OfferItem, path: &str) -> Result<(WholesaleRate, Currency)> {
    let sku = non_empty(&item.product_id)
        .ok_or_else(|| Error::MissingProductId.at_path(FILE, format!("{path}.productID")))?;
    let decimals = match non_empty(&item.decimal_expansion_value) {
        None => None,
        Some(t) => Some(t.parse::<u32>().map_err(|_| {
            let invalid = Error::InvalidDecimalCount { input: t.to_owned() };
            in_item(sku, format!("{path}.decimalExpansionValue"), invalid)
        })?),
    };
    let price = |text: &str, at_path: String| -> Result<Decimal> {
        let value = parse_price(text).map_err(|e| in_item(sku, at_path.clone(), e))?;
        let scale = value.normalize().scale();
        match decimals {
            Some(max) if scale > max => {
                let too_many = Error::TooManyDecimals {
                    price: text.to_owned(),
                    decimals: scale,
                    max,
                };
                Err(in_item(sku, at_path, too_many))
            }
            _ => Ok(value),
        }
    };

    let currency = item_currency(item, path, sku)?;

    let mut uncommitted = Vec::new();
    let mut committed = Vec::new();
    for (j, point) in item.price_points.iter().enumerate() {
        let Some(text) = non_empty(&point.list_price) else {
            continue;
        };
        let point_path = format!("{path}.pricePoints[{j}].listPrice");
        let value = price(text, point_path.clone())?;
        if point.determinants.iter().any(names_committed_term) {
            committed.push((value, point_path));
        } else {
            uncommitted.push((value, point_path));
        }
    }
    let one = |prices: &[(Decimal, String)], kind: &'static str| -> Result<Option<Decimal>> {
        let Some((first, _)) = prices.first() else {
            return Ok(None);
        };
        match prices.iter().find(|(p, _)| p != first) {
            Some((other, other_path)) => {
                let differing = Error::DifferingPrices {
                    kind,
                    first: *first,
                    other: *other,
                };
                Err(in_item(sku, other_path.clone(), differing))
            }
            None => Ok(Some(*first)),
        }
    };
    let rate = match (one(&uncommitted, "uncommitted")?, non_empty(&item.list_price)) {
        (Some(rate), _) => rate,
        (None, Some(text)) => price(text, format!("{path}.listPrice"))?,
        (None, None) => return Err(in_item(sku, format!("{path}.pricePoints"), Error::NoListPrice)),
    };
    let committed_rate = one(&committed, "committed")?;
    let text = |t: &Option<String>| non_empty(t).unwrap_or("").to_owned();
    let rate = WholesaleRate {
        sku: sku.to_owned(),
        description: text(&item.product_description),
        rate,
        committed_rate,
        unit_of_measure: text(&item.unit_of_measure),
        charge_type: text(&item.charge_type),
    };
    Ok((rate, currency))
}

/// The currency of an item: every currency it names, in order of precedence, must agree.
fn item_currency(item: &OfferItem, path: &str, sku: &str) -> Result<Currency> {
    let named = [
        (format!("{path}.currencyCode"), &item.currency_code),
        (format!("{path}.listPriceCurrency"), &item.list_price_currency),
    ]
    .into_iter()
    .chain(item.price_points.iter().enumerate().map(|(j, p)| {
        (
            format!("{path}.pricePoints[{j}].listPriceCurrency"),
            &p.list_price_currency,
        )
    }))
    .filter_map(|(p, code)| non_empty(code).map(|c| (p, c)));
    let mut found: Option<(Currency, String)> = None;
    for (p, code) in named {
        let currency = Currency::from_code(code).map_err(|e| in_item(sku, p.clone(), e))?;
        match &found {
            None => found = Some((currency, p)),
            Some((first, first_path)) if *first != currency => {
                let conflict = Error::ItemCurrencyConflict {
                    found: currency,
                    expected: *first,
                    first_path: first_path.clone(),
                };
                return Err(in_item(sku, p, conflict));
            }
            Some(_) => {}
        }
    }
    found
        .map(|(c, _)| c)
        .ok_or_else(|| in_item(sku, format!("{path}.currencyCode"), Error::MissingCurrency))
}
