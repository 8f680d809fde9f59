//! Cisco Commerce Catalog Web Services (CCWS): the "Get Offer Details" response, and the wholesale
//! rate card it gives (SPEC.md §5.2).
//!
//! The types follow the response message of the Webex Wholesale route-to-market guide, section
//! 4.4 "Get Offer Details API" (a `uuid`, `createdBy`, `createdDateTime`, `status` and one
//! [`OfferItem`] per SKU in `itemDetails`). They are tolerant: unknown fields are ignored (and not
//! kept), every field may be missing, and a text field may be sent as a JSON number or boolean.
//! Prices stay text, exactly as sent; [`OfferDetailsResponse::from_json_str`] reads a `listPrice`
//! sent as a JSON number digit for digit, never through a binary float. They serialise back to the
//! same JSON for every field they know (absent fields stay absent; a text field sent as a number
//! comes back as a string), so an emulator can emit them.
//!
//! ```
//! use wholesale_billing::ccws::{OfferDetailsResponse, OfferStatus};
//! use wholesale_billing::WholesaleRateCard;
//!
//! let json = r#"{"uuid":"TEST123","createdBy":"gamove4","createdDateTime":1487741403176,"status":"Success",
//!   "itemDetails":[{"productDescription":"Wholesale Webex Calling Usage","unitOfMeasure":"Per User",
//!   "chargeType":"Usage","decimalExpansionValue":"4","productID":"A-W-WXC-CALL-U","currencyCode":"USD",
//!   "pricePoints":[{"listPrice":"9.95","determinants":[{"determinantType":"pricingTerm","value":""}]}]}]}"#;
//! let response = OfferDetailsResponse::from_json_str(json)?;
//! assert_eq!(response.status, Some(OfferStatus::Success));
//! let card = WholesaleRateCard::from_offer_details(&response)?;
//! let rate = card.rate("A-W-WXC-CALL-U")?;
//! assert_eq!((rate.rate.to_string().as_str(), card.currency().code()), ("9.95", "USD"));
//! # Ok::<(), wholesale_billing::Error>(())
//! ```

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::textfile::{parse_json, utf8_text};

/// The `file` of the errors about an offer details response.
const FILE: &str = "offer details";

/// The keys whose JSON number values are read from their literal text.
const PRICE_KEYS: [&str; 2] = ["listPrice", "NetPriceOnly"];

/// The response of CCWS "Get Offer Details".
///
/// ```
/// use wholesale_billing::ccws::{CreatedDateTime, OfferDetailsResponse};
/// let response = OfferDetailsResponse::from_json_str(r#"{"uuid": "u-1", "createdDateTime": 1487741403176,
///     "status": "Success", "itemDetails": [], "somethingNew": {"x": 1}}"#)?;
/// assert_eq!(response.created_date_time, Some(CreatedDateTime::EpochMillis(1487741403176)));
/// assert_eq!(serde_json::to_string(&response).unwrap(),
///     r#"{"uuid":"u-1","createdDateTime":1487741403176,"status":"Success","itemDetails":[]}"#);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OfferDetailsResponse {
    /// Message unique identifier (echoes the request's).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub uuid: Option<String>,
    /// Name of the application that made the request.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub created_by: Option<String>,
    /// Request date and time: `YYYY-MM-DDTHH:MM:SS.mmmZ` per the guide, epoch milliseconds in its
    /// sample.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<CreatedDateTime>,
    /// `Success`, `Error` or `Warning`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<OfferStatus>,
    /// One entry per requested SKU.
    #[serde(deserialize_with = "loose::list")]
    pub item_details: Vec<OfferItem>,
    /// An error of the whole request, if the service sends one at the top level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<ErrorMessage>,
}

/// The `createdDateTime` of a response: a date-time text, or epoch milliseconds as a JSON number.
///
/// ```
/// use wholesale_billing::ccws::CreatedDateTime;
/// let text: CreatedDateTime = serde_json::from_str(r#""2017-02-22T05:30:03.176Z""#).unwrap();
/// assert_eq!(text, CreatedDateTime::Text("2017-02-22T05:30:03.176Z".into()));
/// let millis: CreatedDateTime = serde_json::from_str("1487741403176").unwrap();
/// assert_eq!(serde_json::to_string(&millis).unwrap(), "1487741403176");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CreatedDateTime {
    /// As sent in text, e.g. `2017-02-22T05:30:03.176Z`.
    Text(String),
    /// Milliseconds since 1970-01-01T00:00:00Z.
    EpochMillis(i64),
}

impl Serialize for CreatedDateTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            CreatedDateTime::Text(t) => serializer.serialize_str(t),
            CreatedDateTime::EpochMillis(ms) => serializer.serialize_i64(*ms),
        }
    }
}

impl<'de> Deserialize<'de> for CreatedDateTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = CreatedDateTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date-time text or whole epoch milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
                Ok(CreatedDateTime::Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
                Ok(CreatedDateTime::EpochMillis(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
                i64::try_from(v)
                    .map(CreatedDateTime::EpochMillis)
                    .map_err(|_| E::custom(format!("{v} milliseconds is out of range")))
            }
        }
        deserializer.deserialize_any(V)
    }
}

string_enum! {
    /// The `status` of a response.
    ///
    /// ```
    /// use wholesale_billing::ccws::OfferStatus;
    /// let status: OfferStatus = serde_json::from_str(r#""error""#).unwrap();
    /// assert_eq!(status, OfferStatus::Error);
    /// assert_eq!(serde_json::to_string(&OfferStatus::Other("Pending".into())).unwrap(), r#""Pending""#);
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum OfferStatus("offer status", other = Other, path = "wholesale_billing::ccws") {
        /// `Success`.
        Success = "Success",
        /// `Warning`: the items may carry messages.
        Warning = "Warning",
        /// `Error`: the request failed (e.g. `B1003`, more than 1000 PIDs).
        Error = "Error",
    }
}

impl<'de> Deserialize<'de> for OfferStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(OfferStatus::from(loose::text(deserializer)?.unwrap_or_default()))
    }
}

/// One SKU of a response (an element of `itemDetails`), with the fields of the guide's table and
/// of its sample response.
///
/// ```
/// use wholesale_billing::ccws::OfferItem;
/// // `productid` (the table's spelling) is read as `productID` (the sample's); numbers are read as text.
/// let item: OfferItem = serde_json::from_str(r#"{"productid": "A-W-WXC-CALL-U", "decimalExpansionValue": 4}"#)
///     .unwrap();
/// assert_eq!(item.product_id.as_deref(), Some("A-W-WXC-CALL-U"));
/// assert_eq!(item.decimal_expansion_value.as_deref(), Some("4"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OfferItem {
    /// Product description (`Wholesale Webex Calling Usage`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub product_description: Option<String>,
    /// ERP family (`WXCWST`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub erp_family: Option<String>,
    /// Product type (`APPSWIND`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub product_type: Option<String>,
    /// Product sub group (`WXCALL`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub product_sub_group: Option<String>,
    /// Item catalog category (`Billing`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub item_catalog_category: Option<String>,
    /// ERP price list id (`1109`).
    #[serde(
        rename = "erpPriceListID",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "loose::text"
    )]
    pub erp_price_list_id: Option<String>,
    /// Unit of measure (`Per User`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub unit_of_measure: Option<String>,
    /// Quantity unit of measure.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub qty_unit_of_measure: Option<String>,
    /// Base discount category (`MARKET`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub base_discount_category: Option<String>,
    /// Up-front discount (`Yes`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub upfront_discount: Option<String>,
    /// Subscription type (`Product`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub subscription_type: Option<String>,
    /// Charge type (`Usage`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub charge_type: Option<String>,
    /// Delivery method (`CLOUD`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub delivery_method: Option<String>,
    /// Smart account indicator (`Blank / Not Enabled`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub smart_account: Option<String>,
    /// Smart licensing enabled (`No`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub smart_licensing_enabled: Option<String>,
    /// Billing model (an array whose elements the guide does not describe; kept as sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_model: Option<serde_json::Value>,
    /// Renewal grace window.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub grace_window_for_renewal: Option<String>,
    /// Provisioning info required.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub provisioning_info_required: Option<String>,
    /// Change subscription enabled.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub change_subscription_enabled: Option<String>,
    /// Change offer enabled.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub change_offer_enabled: Option<String>,
    /// The number of decimals of the price values (`4`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub decimal_expansion_value: Option<String>,
    /// Initial standard term (an array; kept as sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_standard_term: Option<serde_json::Value>,
    /// Default standard term.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub default_standard_term: Option<String>,
    /// Initial renewal term (an array; kept as sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_renewal_term: Option<serde_json::Value>,
    /// Default renewal term.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub default_renewal_term: Option<String>,
    /// The SKU (`A-W-WXC-CALL-U`): `productID` in the sample, `productid` in the table.
    #[serde(
        rename = "productID",
        alias = "productid",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "loose::text"
    )]
    pub product_id: Option<String>,
    /// Currency code (`USD`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub currency_code: Option<String>,
    /// The prices of the SKU, each under its determinants.
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "loose::list")]
    pub price_points: Vec<PricePoint>,
    /// A list price given on the item itself rather than in a price point, as text.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::price")]
    pub list_price: Option<String>,
    /// The currency of the item's `listPrice`.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub list_price_currency: Option<String>,
    /// Recurring offer flag (`Y`; in the sample, not in the table).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub recurring_offer_flag: Option<String>,
    /// Internal business entity (`Collaboration`; in the sample, not in the table).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub internal_business_entity: Option<String>,
    /// IB trackable (`Y`; in the sample, not in the table).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub ib_trackable: Option<String>,
    /// Is serviceable (`N`; in the sample, not in the table).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub is_serviceable: Option<String>,
    /// Warranty (`WARR-DEFAULT-90DAY`; in the sample, not in the table).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub warranty: Option<String>,
    /// Software type (`SaaS`; in the sample, not in the table).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub software_type: Option<String>,
    /// Software stack (`Application`; in the sample, not in the table).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub software_stack: Option<String>,
    /// Item type (`PRODUCT LIST>$0`; in the sample, not in the table).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub item_type: Option<String>,
    /// The error of this item, if any (`B1003`: more than 1000 PIDs in the request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<ErrorMessage>,
}

/// One price of a SKU (an element of `pricePoints`), under its determinants.
///
/// ```
/// use wholesale_billing::ccws::PricePoint;
/// let point: PricePoint = serde_json::from_str(
///     r#"{"listPrice": "9.95", "determinants": [{"determinantType": "pricingTerm", "value": ""}]}"#).unwrap();
/// assert_eq!(point.list_price.as_deref(), Some("9.95"));
/// assert_eq!(point.determinants[0].determinant_type.as_deref(), Some("pricingTerm"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PricePoint {
    /// The list price, as text (`9.95`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::price")]
    pub list_price: Option<String>,
    /// The currency of the list price.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub list_price_currency: Option<String>,
    /// What this price applies to (pricing term, quantity range...).
    #[serde(skip_serializing_if = "Vec::is_empty", deserialize_with = "loose::list")]
    pub determinants: Vec<Determinant>,
    /// Rate table version.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub version: Option<String>,
    /// Rate table name.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub rate_table_name: Option<String>,
    /// Rate table.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub rate_table: Option<String>,
    /// Rate table tiers (sent when the request's `actionCode` is `RatePrice`).
    #[serde(
        rename = "Rates",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "loose::list"
    )]
    pub rates: Vec<RateTier>,
}

/// A determinant of a price point (an element of `determinants`).
///
/// ```
/// use wholesale_billing::ccws::Determinant;
/// let d: Determinant = serde_json::from_str(r#"{"determinantType": "quantity", "from": 1, "to": "1000"}"#).unwrap();
/// assert_eq!((d.from.as_deref(), d.to.as_deref()), (Some("1"), Some("1000")));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Determinant {
    /// Determinant type (`pricingTerm`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub determinant_type: Option<String>,
    /// Determinant value (empty in the sample; `COMMITTED` marks a committed price, see
    /// [`WholesaleRateCard::from_offer_details`](crate::WholesaleRateCard::from_offer_details)).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub value: Option<String>,
    /// Determinant quantity from.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub from: Option<String>,
    /// Determinant quantity to.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub to: Option<String>,
}

/// A tier of a rate table (an element of `Rates`; the guide names its fields `From`, `To` and
/// `NetPriceOnly` without describing them further).
///
/// ```
/// use wholesale_billing::ccws::RateTier;
/// let tier: RateTier = serde_json::from_str(r#"{"From": "1", "To": "100", "NetPriceOnly": "2.50"}"#).unwrap();
/// assert_eq!(tier.net_price_only.as_deref(), Some("2.50"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RateTier {
    /// Determinant value from.
    #[serde(
        rename = "From",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "loose::text"
    )]
    pub from: Option<String>,
    /// Determinant value to.
    #[serde(
        rename = "To",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "loose::text"
    )]
    pub to: Option<String>,
    /// Net price only, as text.
    #[serde(
        rename = "NetPriceOnly",
        skip_serializing_if = "Option::is_none",
        deserialize_with = "loose::price"
    )]
    pub net_price_only: Option<String>,
}

/// An error reported by the service (`errorMessage`).
///
/// ```
/// use wholesale_billing::ccws::ErrorMessage;
/// let m = ErrorMessage { message_code: Some("B1003".into()), message_text: Some("too many items".into()) };
/// assert_eq!(m.to_string(), "error B1003: too many items (B1003: more than 1000 PIDs in the request)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ErrorMessage {
    /// Error code (`B1003`).
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub message_code: Option<String>,
    /// Error text.
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "loose::text")]
    pub message_text: Option<String>,
}

impl ErrorMessage {
    /// Whether the message has neither a code nor a text.
    ///
    /// ```
    /// assert!(wholesale_billing::ccws::ErrorMessage::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        blank(&self.message_code) && blank(&self.message_text)
    }
}

impl fmt::Display for ErrorMessage {
    /// `error B1003: <text>`, with the meaning of the codes the guide documents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.message_code.as_deref().map(str::trim).unwrap_or("");
        let text = self.message_text.as_deref().map(str::trim).unwrap_or("");
        f.write_str("error")?;
        if !code.is_empty() {
            write!(f, " {code}")?;
        }
        if !text.is_empty() {
            write!(f, ": {text}")?;
        }
        if code.eq_ignore_ascii_case("B1003") {
            f.write_str(" (B1003: more than 1000 PIDs in the request)")?;
        }
        Ok(())
    }
}

impl OfferDetailsResponse {
    /// Reads a response from its JSON text. A `listPrice` (or `NetPriceOnly`) sent as a JSON
    /// number is read from its literal text, digit for digit: `9.950` stays `9.950`.
    ///
    /// # Errors
    /// [`Error::InvalidFile`](crate::Error::InvalidFile) (`file` `"offer details"`) located by line, column (in bytes) and
    /// JSON path, for bad JSON or a field of the wrong shape.
    ///
    /// ```
    /// use wholesale_billing::ccws::OfferDetailsResponse;
    /// let r = OfferDetailsResponse::from_json_str(r#"{"itemDetails": [{"pricePoints": [{"listPrice": 9.950}]}]}"#)?;
    /// assert_eq!(r.item_details[0].price_points[0].list_price.as_deref(), Some("9.950"));
    ///
    /// let err = OfferDetailsResponse::from_json_str(r#"{"itemDetails": [{"pricePoints": 3}]}"#).unwrap_err();
    /// assert_eq!(wholesale_billing::error_with_causes(&err),
    ///     "offer details: line 1, column 34 at itemDetails[0].pricePoints: invalid type: integer `3`, expected a sequence");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_json_str(text: &str) -> Result<Self> {
        parse_json(text, FILE, &PRICE_KEYS)
    }

    /// Reads a response from its bytes.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] naming the line, column and byte offset of the first byte that is
    /// not UTF-8, else as [`OfferDetailsResponse::from_json_str`].
    ///
    /// ```
    /// use wholesale_billing::ccws::OfferDetailsResponse;
    /// let r = OfferDetailsResponse::from_json_slice(br#"{"itemDetails": []}"#)?;
    /// assert!(r.item_details.is_empty());
    /// let err = OfferDetailsResponse::from_json_slice(b"{\"status\": \"\xff\"}").unwrap_err();
    /// assert!(wholesale_billing::error_with_causes(&err).starts_with("offer details: line 1, column 13: invalid utf-8 at byte 12"));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn from_json_slice(bytes: &[u8]) -> Result<Self> {
        OfferDetailsResponse::from_json_str(utf8_text(bytes, FILE)?)
    }

    /// The service's errors as one crate error ([`Error::CatalogRefused`], located at the
    /// `errorMessage` or the `status`): a top-level `errorMessage`, an item's `errorMessage`, or
    /// status `Error`.
    fn check_errors(&self) -> Result<()> {
        let status_error = self.status == Some(OfferStatus::Error);
        if let Some(m) = self.error_message.as_ref().filter(|m| !m.is_empty()) {
            let refused = Error::CatalogRefused {
                status_error,
                item: None,
                message: Some(m.clone()),
            };
            return Err(refused.at_path(FILE, "errorMessage"));
        }
        for (i, item) in self.item_details.iter().enumerate() {
            if let Some(m) = item.error_message.as_ref().filter(|m| !m.is_empty()) {
                let refused = Error::CatalogRefused {
                    status_error,
                    item: Some((i, non_empty(&item.product_id).map(str::to_owned))),
                    message: Some(m.clone()),
                };
                return Err(refused.at_path(FILE, format!("itemDetails[{i}].errorMessage")));
            }
        }
        if status_error {
            let refused = Error::CatalogRefused {
                status_error,
                item: None,
                message: None,
            };
            return Err(refused.at_path(FILE, "status"));
        }
        Ok(())
    }
}

/// Tolerant field readers.
mod loose {
    use std::fmt;

    use serde::de::{self, Visitor};
    use serde::{Deserialize, Deserializer};

    /// Text from a string, a number or a boolean; `null` is absent.
    pub(super) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(Text { price: false })
    }

    /// Like [`text`], but a number with a fraction is refused: it would have passed through a
    /// binary float. [`super::OfferDetailsResponse::from_json_str`] quotes such numbers first.
    pub(super) fn price<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
        deserializer.deserialize_any(Text { price: true })
    }

    /// A list; `null` is empty.
    pub(super) fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
        Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
    }

    struct Text {
        price: bool,
    }

    impl<'de> Visitor<'de> for Text {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(if self.price { "a price as text" } else { "a text" })
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            if self.price {
                Err(E::custom(
                    "a price sent as a JSON number with a fraction is not exact once parsed: send prices as strings, \
                     or read the response with OfferDetailsResponse::from_json_str, which keeps the digits",
                ))
            } else {
                Ok(Some(v.to_string()))
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(self)
        }
    }
}

mod rate_card;

use rate_card::non_empty;

#[cfg(test)]
mod tests;
