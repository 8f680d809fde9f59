//! The Cisco Commerce Catalog web services: the OAuth2 token endpoint, Get Offers and Get Offer
//! Details, priced from the sandbox's wholesale rate card.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Map, Value};
use wholesale_billing::ccws::{
    CreatedDateTime, Determinant, ErrorMessage, OfferDetailsResponse, OfferItem, OfferStatus, PricePoint,
};
use wholesale_billing::{Decimal, WholesaleRate};

use crate::auth::bearer;
use crate::http::json_response;
use crate::ids::random_hex;
use crate::state::{AppState, now_ms, rfc3339_ms};

/// The most SKUs of one Get Offer Details request.
pub(crate) const MAX_ITEMS: usize = 1000;

/// The CCWS tokens issued so far.
#[derive(Debug, Default)]
pub(crate) struct CcwsTokens {
    access: HashMap<String, Instant>,
    refresh: HashSet<String>,
}

#[derive(Serialize)]
struct TokenBody {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: String,
}

#[derive(Serialize)]
struct OAuthError<'a> {
    error: &'a str,
    error_description: &'a str,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &OAuthError {
            error,
            error_description: description,
        },
    )
}

/// The client credentials of HTTP Basic authentication, if sent.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /oauth2/default/v1/token` (form-encoded).
pub(crate) async fn token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let raw = match raw {
        Ok(raw) => raw,
        Err(r) => return oauth_error(r.status(), "invalid_request", "the request body could not be read"),
    };
    let form: HashMap<String, String> = url::form_urlencoded::parse(&raw).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let (client_id, client_secret) = basic_credentials(&headers)
        .unwrap_or_else(|| (field("client_id").to_owned(), field("client_secret").to_owned()));
    let grant = field("grant_type");
    if grant.is_empty() {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required");
    }
    if !matches!(grant, "password" | "refresh_token") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be password or refresh_token",
        );
    }
    let cfg = &state.ccws;
    if client_id != cfg.client_id || client_secret != cfg.client_secret {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the client credentials are not valid",
        );
    }
    let mut tokens = state.ccws_tokens.lock().unwrap_or_else(PoisonError::into_inner);
    let refresh_token = if grant == "password" {
        if field("username") != cfg.username || field("password") != cfg.password {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_grant",
                "the resource owner credentials are not valid",
            );
        }
        let fresh = format!("ccws-refresh-{}", random_hex());
        tokens.refresh.insert(fresh.clone());
        fresh
    } else {
        let sent = field("refresh_token");
        if !tokens.refresh.contains(sent) {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_grant",
                "the refresh token is not valid",
            );
        }
        sent.to_owned()
    };
    let now = Instant::now();
    tokens.access.retain(|_, expiry| *expiry > now);
    let access_token = format!("ccws-sandbox-{}", random_hex());
    tokens.access.insert(access_token.clone(), now + cfg.token_ttl);
    drop(tokens);
    json_response(
        StatusCode::OK,
        &TokenBody {
            access_token,
            token_type: "Bearer",
            expires_in: cfg.token_ttl.as_secs(),
            refresh_token,
        },
    )
}

/// 401 unless the request carries a live CCWS access token.
fn check_token(state: &AppState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let live = bearer(headers).is_some_and(|t| {
        let tokens = state.ccws_tokens.lock().unwrap_or_else(PoisonError::into_inner);
        tokens.access.get(t).is_some_and(|expiry| *expiry > Instant::now())
    });
    if live {
        return Ok(());
    }
    let mut response = oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "a valid ccws access token is required (post to /oauth2/default/v1/token)",
    );
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    Err(Box::new(response))
}

/// A catalog answer with status `Error` and an `errorMessage`.
fn catalog_error(status: StatusCode, header: &Header, code: &str, text: String) -> Response {
    json_response(
        status,
        &OfferDetailsResponse {
            uuid: Some(header.uuid.clone()),
            created_by: Some(header.created_by.clone()),
            created_date_time: Some(header.created_date_time.clone()),
            status: Some(OfferStatus::Error),
            item_details: Vec::new(),
            error_message: Some(ErrorMessage {
                message_code: Some(code.to_owned()),
                message_text: Some(text),
            }),
        },
    )
}

/// The echoed part of a catalog request.
struct Header {
    uuid: String,
    created_by: String,
    created_date_time: CreatedDateTime,
}

/// A JSON value as text (strings as they are, numbers and booleans written out).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A catalog request: its JSON object and echoed header.
type CatalogRequest = (Map<String, Value>, Header);

/// Reads a catalog request: its JSON object, echoed header, and checked price list. `Err` is the
/// response to send.
fn read_request(
    state: &AppState,
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<CatalogRequest, Box<Response>> {
    check_token(state, headers)?;
    let mut header = Header {
        uuid: String::new(),
        created_by: String::new(),
        created_date_time: CreatedDateTime::Text(rfc3339_ms(now_ms())),
    };
    let bad = |header: &Header, text: String| {
        Err(Box::new(catalog_error(
            StatusCode::BAD_REQUEST,
            header,
            "INVALID_REQUEST",
            text,
        )))
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(r) => {
            let status = r.status();
            let text = format!("the request body could not be read: {}", r.body_text());
            return Err(Box::new(catalog_error(status, &header, "INVALID_REQUEST", text)));
        }
    };
    let object = match serde_json::from_slice::<Value>(&raw) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return bad(&header, "the request body must be a json object".into()),
        Err(e) => return bad(&header, format!("invalid json: {e}")),
    };
    header.uuid = text(object.get("uuid")).unwrap_or_default();
    header.created_by = text(object.get("createdBy")).unwrap_or_default();
    match object.get("createdDateTime") {
        Some(Value::String(s)) => header.created_date_time = CreatedDateTime::Text(s.clone()),
        Some(Value::Number(n)) => {
            if let Some(ms) = n.as_i64() {
                header.created_date_time = CreatedDateTime::EpochMillis(ms);
            }
        }
        _ => {}
    }
    let price_lists = match object.get("priceList") {
        Some(Value::Array(items)) => items.clone(),
        _ => return bad(&header, "priceList must be an array with one price list".into()),
    };
    let ids: Vec<Option<String>> = price_lists.iter().map(|p| text(p.get("priceListId"))).collect();
    match ids.as_slice() {
        [Some(id)] if *id == state.ccws.price_list_id => Ok((object, header)),
        [Some(id)] => Err(Box::new(catalog_error(
            StatusCode::OK,
            &header,
            "PRICE_LIST_NOT_FOUND",
            format!(
                "price list {id} is not served here (the sandbox serves {})",
                state.ccws.price_list_id
            ),
        ))),
        [None] => bad(&header, "priceList[0].priceListId is required".into()),
        _ => bad(
            &header,
            format!("priceList must hold exactly one price list, not {}", ids.len()),
        ),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OffersBody {
    uuid: String,
    created_by: String,
    created_date_time: CreatedDateTime,
    status: OfferStatus,
    page_no: u64,
    total_pages: u64,
    item_details: Vec<OfferSummary>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OfferSummary {
    product_description: String,
    erp_family: &'static str,
    subscription_type: &'static str,
    charge_type: String,
    #[serde(rename = "productID")]
    product_id: String,
}

/// `POST /commerce/CATALOG/lpcservices/v1/offers`.
pub(crate) async fn offers(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let (object, header) = match read_request(&state, &headers, raw) {
        Ok(r) => r,
        Err(response) => return *response,
    };
    let page_no = match object.get("pageNo") {
        None | Some(Value::Null) => 1,
        Some(v) => match text(Some(v)).and_then(|t| t.parse::<u64>().ok()) {
            Some(n) if n >= 1 => n,
            _ => {
                return catalog_error(
                    StatusCode::BAD_REQUEST,
                    &header,
                    "INVALID_REQUEST",
                    format!("pageNo must be a page number from 1, not {v}"),
                );
            }
        },
    };
    let rates: Vec<&WholesaleRate> = state.rates.iter().flat_map(|card| card.rates()).collect();
    let page_size = state.ccws.page_size.max(1);
    let total_pages = rates.len().div_ceil(page_size).max(1);
    let skip = usize::try_from(page_no - 1)
        .unwrap_or(usize::MAX)
        .saturating_mul(page_size);
    let item_details = rates
        .into_iter()
        .skip(skip)
        .take(page_size)
        .map(|rate| OfferSummary {
            product_description: description(&state, rate),
            erp_family: ERP_FAMILY,
            subscription_type: "Product",
            charge_type: or(&rate.charge_type, "Usage"),
            product_id: rate.sku.clone(),
        })
        .collect();
    json_response(
        StatusCode::OK,
        &OffersBody {
            uuid: header.uuid,
            created_by: header.created_by,
            created_date_time: header.created_date_time,
            status: OfferStatus::Success,
            page_no,
            total_pages: u64::try_from(total_pages).unwrap_or(u64::MAX),
            item_details,
        },
    )
}

const ERP_FAMILY: &str = "WXCWST";

fn or(value: &str, default: &str) -> String {
    if value.trim().is_empty() { default } else { value }.to_owned()
}

fn description(state: &AppState, rate: &WholesaleRate) -> String {
    if !rate.description.trim().is_empty() {
        return rate.description.clone();
    }
    state
        .org()
        .catalog
        .by_sku(&rate.sku)
        .map(|e| e.description.clone())
        .unwrap_or_default()
}

/// The Get Offer Details item of a rate, after the guide's sample response.
fn offer_item(state: &AppState, rate: &WholesaleRate, currency: &str) -> OfferItem {
    let scale = |d: Decimal| d.normalize().scale();
    let decimals = rate.committed_rate.map_or(0, scale).max(scale(rate.rate)).max(4);
    let point = |price: Decimal, value: &str| PricePoint {
        list_price: Some(price.to_string()),
        determinants: vec![Determinant {
            determinant_type: Some("pricingTerm".into()),
            value: Some(value.into()),
            ..Determinant::default()
        }],
        ..PricePoint::default()
    };
    let mut price_points = vec![point(rate.rate, "")];
    if let Some(committed) = rate.committed_rate {
        price_points.push(point(committed, "COMMITTED"));
    }
    let s = |t: &str| Some(t.to_owned());
    OfferItem {
        product_description: Some(description(state, rate)),
        erp_family: s(ERP_FAMILY),
        product_type: s("APPSWIND"),
        product_sub_group: s("WXCALL"),
        item_catalog_category: s("Billing"),
        erp_price_list_id: Some(state.ccws.price_list_id.clone()),
        unit_of_measure: Some(or(&rate.unit_of_measure, "Per User")),
        base_discount_category: s("MARKET"),
        upfront_discount: s("Yes"),
        subscription_type: s("Product"),
        charge_type: Some(or(&rate.charge_type, "Usage")),
        delivery_method: s("CLOUD"),
        smart_account: s("Blank / Not Enabled"),
        smart_licensing_enabled: s("No"),
        decimal_expansion_value: Some(decimals.to_string()),
        product_id: Some(rate.sku.clone()),
        currency_code: s(currency),
        price_points,
        recurring_offer_flag: s("Y"),
        internal_business_entity: s("Collaboration"),
        software_type: s("SaaS"),
        ..OfferItem::default()
    }
}

/// `POST /commerce/CATALOG/lpcservices/v1/offerDetails`.
pub(crate) async fn offer_details(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let (object, header) = match read_request(&state, &headers, raw) {
        Ok(r) => r,
        Err(response) => return *response,
    };
    let skus: Vec<String> = match object.get("itemList") {
        Some(Value::Array(items)) => {
            // Product ids are text: a number or a boolean is not one (unlike other fields).
            let skus: Vec<Option<String>> = items.iter().map(|i| i.as_str().map(str::to_owned)).collect();
            if skus.iter().any(Option::is_none) {
                return catalog_error(
                    StatusCode::BAD_REQUEST,
                    &header,
                    "INVALID_REQUEST",
                    "itemList must be an array of product ids".into(),
                );
            }
            skus.into_iter().flatten().collect()
        }
        _ => Vec::new(),
    };
    if skus.is_empty() {
        return catalog_error(
            StatusCode::BAD_REQUEST,
            &header,
            "INVALID_REQUEST",
            "itemList must name 1 to 1000 product ids".into(),
        );
    }
    if skus.len() > MAX_ITEMS {
        return catalog_error(
            StatusCode::OK,
            &header,
            "B1003",
            "Maximum of 1000 items exceeded".into(),
        );
    }
    let currency = state
        .rates
        .as_ref()
        .map(|c| c.currency().code().to_owned())
        .unwrap_or_default();
    let item_details: Vec<OfferItem> = skus
        .iter()
        .map(|sku| match state.rates.as_ref().and_then(|c| c.get(sku.trim())) {
            Some(rate) => offer_item(&state, rate, &currency),
            None => OfferItem {
                product_id: Some(sku.clone()),
                error_message: Some(ErrorMessage {
                    message_code: Some("ITEM_NOT_FOUND".into()),
                    message_text: Some(format!("item {sku} is not on price list {}", state.ccws.price_list_id)),
                }),
                ..OfferItem::default()
            },
        })
        .collect();
    // API.md: status Success; unknown SKUs carry their own errorMessage.
    json_response(
        StatusCode::OK,
        &OfferDetailsResponse {
            uuid: Some(header.uuid),
            created_by: Some(header.created_by),
            created_date_time: Some(header.created_date_time),
            status: Some(OfferStatus::Success),
            item_details,
            error_message: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_read() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic c2FuZGJveDpzZWNyZXQ="));
        assert_eq!(basic_credentials(&h), Some(("sandbox".into(), "secret".into())));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&h), None);
    }

    #[test]
    fn text_of_json_values() {
        assert_eq!(text(Some(&Value::from(3))), Some("3".into()));
        assert_eq!(text(Some(&Value::from("x"))), Some("x".into()));
        assert_eq!(text(Some(&Value::Null)), None);
        assert_eq!(text(None), None);
    }
}
