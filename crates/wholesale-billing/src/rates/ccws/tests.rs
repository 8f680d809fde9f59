//! Tests of the Commerce Catalog types and their mapping to a rate card.
use super::rate_card::names_committed_term;
use super::*;
use crate::WholesaleRateCard;

fn determinant(kind: &str, value: &str) -> Determinant {
    Determinant {
        determinant_type: Some(kind.into()),
        value: Some(value.into()),
        ..Determinant::default()
    }
}

#[test]
fn the_committed_term_rule() {
    for (kind, value, committed) in [
        ("pricingTerm", "", false),
        ("pricingTerm", "COMMITTED", true),
        ("pricingTerm", "committed", true),
        ("pricingTerm", "Commit", true),
        ("pricingTerm", "UNCOMMITTED", false),
        ("pricingTerm", "NON-COMMITTED", false),
        ("pricingTerm", "Non Committed", false),
        ("commitTerm", "Y", true),
        ("CommittedTerm", "yes", true),
        ("commitTerm", "N", false),
        ("commitTerm", "", false),
        ("pricingTerm", "Y", false),
    ] {
        assert_eq!(
            names_committed_term(&determinant(kind, value)),
            committed,
            "{kind} {value}"
        );
    }
}

#[test]
fn floats_in_text_fields_are_text_but_refused_as_prices() {
    let item: OfferItem =
        serde_json::from_str(r#"{"decimalExpansionValue": 4.0, "productID": null, "pricePoints": null}"#).unwrap();
    assert_eq!(item.decimal_expansion_value.as_deref(), Some("4"));
    assert_eq!(item.product_id, None);
    assert!(item.price_points.is_empty());
    let err = serde_json::from_str::<PricePoint>(r#"{"listPrice": 9.95}"#).unwrap_err();
    assert!(err.to_string().contains("not exact"), "{err}");
    let ok = serde_json::from_str::<PricePoint>(r#"{"listPrice": 10}"#).unwrap();
    assert_eq!(ok.list_price.as_deref(), Some("10"));
}

#[test]
fn top_level_error_message() {
    let err = WholesaleRateCard::from_offer_details_json(
        r#"{"status": "Error", "errorMessage": {"messageCode": "B1003", "messageText": "limit"}}"#,
    )
    .unwrap_err();
    assert_eq!(
        crate::error_with_causes(&err),
        "offer details: at errorMessage: the response has status Error: error B1003: limit \
         (B1003: more than 1000 PIDs in the request)"
    );
    let err = WholesaleRateCard::from_offer_details_json(r#"{"status": "Error"}"#).unwrap_err();
    assert_eq!(
        crate::error_with_causes(&err),
        "offer details: at status: the response has status Error and no error message"
    );
    // An empty errorMessage on a successful item is no error.
    let ok = WholesaleRateCard::from_offer_details_json(
        r#"{"status": "Warning", "itemDetails": [{"productID": "X", "currencyCode": "USD",
            "listPrice": "1", "errorMessage": {"messageCode": "", "messageText": null}}]}"#,
    )
    .unwrap();
    assert_eq!(ok.rate("X").unwrap().rate.to_string(), "1");
}
