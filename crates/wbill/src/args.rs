//! Value parsers of the command line: a bad value is refused by clap, which names its option
//! (`invalid value '-1' for '--tolerance <USER_DAYS>': …`) and exits with status 2.

use wholesale_billing::{Decimal, FixedLine, NaiveDate, Period, Quantity};

/// The error text of a value parser (clap prints it after the option and the value).
type Parsed<T> = Result<T, String>;

/// A plain decimal number (`527.12`, `-3`), the form of every amount and rate.
pub fn decimal(text: &str) -> Parsed<Decimal> {
    wholesale_billing::parse_decimal(text).map_err(|e| e.to_string())
}

/// A decimal that is not below zero (`-0` is zero).
pub fn non_negative_decimal(text: &str) -> Parsed<Decimal> {
    let value = decimal(text)?;
    if value < Decimal::ZERO {
        return Err(format!("{value} is negative"));
    }
    Ok(value)
}

/// A percentage from 0 to 100.
pub fn percent(text: &str) -> Parsed<Decimal> {
    let value = decimal(text)?;
    if value < Decimal::ZERO || value > Decimal::ONE_HUNDRED {
        return Err(format!("{value} is not a percentage from 0 to 100"));
    }
    Ok(value)
}

/// A quantity of user-days that is not below zero.
pub fn non_negative_quantity(text: &str) -> Parsed<Quantity> {
    let value: Quantity = text.parse().map_err(|e: wholesale_billing::Error| e.to_string())?;
    if value.is_negative() {
        return Err(format!("{value} is negative"));
    }
    Ok(value)
}

/// A date `YYYY-MM-DD`.
pub fn date(text: &str) -> Parsed<NaiveDate> {
    wholesale_billing::parse_date(text).map_err(|e| e.to_string())
}

/// A month `YYYY-MM`.
pub fn month(text: &str) -> Parsed<Period> {
    Period::parse_month(text).map_err(|e| e.to_string())
}

/// A fixed invoice line, `SKU:QUANTITY:RATE[:DESCRIPTION]`, its quantity and rate not negative.
pub fn fixed_line(text: &str) -> Parsed<FixedLine> {
    let parts: Vec<&str> = text.splitn(4, ':').collect();
    let [sku, quantity, rate, rest @ ..] = parts.as_slice() else {
        return Err("expected SKU:QUANTITY:RATE[:DESCRIPTION]".to_owned());
    };
    if sku.trim().is_empty() {
        return Err("the SKU is empty (expected SKU:QUANTITY:RATE[:DESCRIPTION])".to_owned());
    }
    let number = |what: &str, text: &str| non_negative_decimal(text).map_err(|e| format!("the {what}: {e}"));
    Ok(FixedLine {
        sku: (*sku).to_owned(),
        description: rest.first().map(|d| (*d).to_owned()).unwrap_or_default(),
        quantity: number("quantity", quantity)?,
        rate: number("rate", rate)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(decimal("-3.50").unwrap().to_string(), "-3.50");
        assert!(decimal("1e3").unwrap_err().contains("not a plain decimal number"));
        assert!(non_negative_decimal("-0").unwrap().is_zero());
        assert_eq!(non_negative_decimal("-0.01").unwrap_err(), "-0.01 is negative");
        assert_eq!(percent("100").unwrap(), Decimal::ONE_HUNDRED);
        assert_eq!(
            percent("100.01").unwrap_err(),
            "100.01 is not a percentage from 0 to 100"
        );
        assert_eq!(percent("-1").unwrap_err(), "-1 is not a percentage from 0 to 100");
        assert_eq!(non_negative_quantity("0.5").unwrap().to_string(), "0.5000");
        assert_eq!(non_negative_quantity("-1").unwrap_err(), "-1.0000 is negative");
    }

    #[test]
    fn fixed_lines() {
        let line = fixed_line("SVS-FLEX-SUPT-BAS:1:0.00:Support: basic").unwrap();
        assert_eq!(line.sku, "SVS-FLEX-SUPT-BAS");
        assert_eq!(line.description, "Support: basic");
        assert_eq!(line.rate.to_string(), "0.00");
        assert_eq!(
            fixed_line("A:1").unwrap_err(),
            "expected SKU:QUANTITY:RATE[:DESCRIPTION]"
        );
        assert_eq!(fixed_line("A:-1:2").unwrap_err(), "the quantity: -1 is negative");
    }
}
