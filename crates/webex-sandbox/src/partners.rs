//! `/v1/wholesale/subPartners` and `/v1/wholesale/customers`.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::header::LINK;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;

use crate::auth::OrgKind;
use crate::directory::CustomerEntry;
use crate::http::{ApiError, Query, json_response};
use crate::ids::{IdKind, decode, encode};
use crate::reports::target_org;
use crate::state::{AppState, rfc3339_ms};

const SUB_PARTNERS_PATH: &str = "/v1/wholesale/subPartners";
const CUSTOMERS_PATH: &str = "/v1/wholesale/customers";

/// The customer statuses of the public specification.
const CUSTOMER_STATUSES: [&str; 7] = [
    "provisioned",
    "provisioned_with_errors",
    "provisioning",
    "updating",
    "deleting",
    "error",
    "pending_rpl_review",
];

/// One page of `items` starting at `offset` query parameter, with the `Link` to the next one.
fn page<T: Serialize>(state: &AppState, q: &Query, path: &str, key: &str, all: Vec<T>) -> Result<Response, ApiError> {
    let offset = usize::try_from(q.number("offset")?.unwrap_or(0)).unwrap_or(usize::MAX);
    let max = q.max()?;
    let total = all.len();
    let items: Vec<T> = all.into_iter().skip(offset).take(max).collect();
    let body = serde_json::json!({ key: items });
    let mut response = json_response(StatusCode::OK, &body);
    let next = offset.saturating_add(max);
    if next < total {
        let link = q.next_link(&state.base_url, path, "offset", &next.to_string());
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(LINK, value);
        }
    }
    Ok(response)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SubPartnerBody<'a> {
    org_id: &'a str,
    subscription_id: &'a str,
    provisioning_state: &'a str,
    created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_start_date: Option<String>,
}

/// `GET /v1/wholesale/subPartners`.
pub(crate) async fn sub_partners(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let caller = state.tokens.caller(&headers)?;
    if caller.kind != OrgKind::Partner {
        return Err(ApiError::forbidden("listing sub-partners requires a partner token"));
    }
    let q = Query::parse(raw.as_deref());
    let wanted = match q.get("provisioningState") {
        None | Some("active") => true,
        Some("suspended") => false,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "provisioningState must be active or suspended, not {other:?}"
            )));
        }
    };
    let org = state.org();
    let items: Vec<SubPartnerBody<'_>> = if wanted {
        org.sub_partners
            .iter()
            .map(|sp| SubPartnerBody {
                org_id: &sp.org_id,
                subscription_id: &org.partner.subscription_id,
                provisioning_state: "active",
                created: rfc3339_ms(state.tokens.of_org(&sp.org_id).map_or(0, |t| t.created_ms)),
                billing_start_date: sp.billing_start.map(|t| rfc3339_ms(t.as_micros().div_euclid(1000))),
            })
            .collect()
    } else {
        Vec::new()
    };
    page(&state, &q, SUB_PARTNERS_PATH, state.sub_partners_key.as_str(), items)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerBody<'a> {
    id: String,
    org_id: &'a str,
    external_id: &'a str,
    status: &'a str,
    packages: &'a [String],
}

impl<'a> From<&'a CustomerEntry> for CustomerBody<'a> {
    fn from(c: &'a CustomerEntry) -> Self {
        CustomerBody {
            id: encode(IdKind::Customer, &c.org_id),
            org_id: &c.org_id,
            external_id: &c.external_id,
            status: "provisioned",
            packages: &c.packages,
        }
    }
}

/// `GET /v1/wholesale/customers`.
pub(crate) async fn customers(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let caller = state.tokens.caller(&headers)?;
    let q = Query::parse(raw.as_deref());
    let owner = target_org(
        &state,
        caller,
        q.get("onBehalfOfSubPartnerOrgId"),
        "onBehalfOfSubPartnerOrgId",
    )?;
    let statuses = q.all("status");
    if let Some(bad) = statuses.iter().find(|s| !CUSTOMER_STATUSES.contains(s)) {
        return Err(ApiError::bad_request(format!(
            "status must be one of {}, not {bad:?}",
            CUSTOMER_STATUSES.join(", ")
        )));
    }
    let provisioned_wanted = statuses.is_empty() || statuses.contains(&"provisioned");
    let external_id = q.get("externalId");
    let org_id = q.get("orgId");
    let items: Vec<CustomerBody<'_>> = state
        .directory
        .owned_by(&owner)
        .filter(|c| {
            provisioned_wanted && external_id.is_none_or(|e| c.external_id == e) && org_id.is_none_or(|o| c.org_id == o)
        })
        .map(CustomerBody::from)
        .collect();
    page(&state, &q, CUSTOMERS_PATH, "items", items)
}

/// `GET /v1/wholesale/customers/{id}`.
pub(crate) async fn customer(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let caller = state.tokens.caller(&headers)?;
    let Path(id) = path.map_err(|e| ApiError::bad_request(format!("invalid customer id: {}", e.body_text())))?;
    let org_id =
        decode(IdKind::Customer, &id).ok_or_else(|| ApiError::bad_request(format!("{id:?} is not a customer id")))?;
    match state.directory.get(&org_id) {
        Some(c) if caller.kind == OrgKind::Partner || c.owner_org_id == caller.org_id => {
            Ok(json_response(StatusCode::OK, &CustomerBody::from(c)))
        }
        _ => Err(ApiError::not_found("customer not found")),
    }
}
