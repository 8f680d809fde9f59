//! The columns of the rating outputs (SPEC §7.6), defined once: the writers write these names in
//! this order, and the Python binding names its data-frame columns by them.

use serde::{Deserialize, Serialize};

string_enum! {
    /// A column of the rated-records table, in file order.
    ///
    /// ```
    /// use wholesale_billing::RatedColumn;
    /// let names: Vec<&str> = RatedColumn::ALL.iter().map(|c| c.as_str()).collect();
    /// assert_eq!(names.join(","), "REPORT_ID,CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,PARTNER_ORG_ID,USER_UUID,\
    /// START_TIME,DURATION,STATUS,RATED_NUMBER,PREFIX,DESTINATION,CLASS,BAND,BILLABLE_SECONDS,\
    /// COVERED_SECONDS,CHARGE,CURRENCY");
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum RatedColumn("rated-records column") {
        /// `Report ID` of the record.
        ReportId = "REPORT_ID",
        /// The record's `Org UUID`.
        CustomerOrgId = "CUSTOMER_ORG_ID",
        /// The customer's external id, as in the §4 USER report.
        CustomerExternalId = "CUSTOMER_EXTERNAL_ID",
        /// The org id of the customer's owner (partner or sub-partner).
        PartnerOrgId = "PARTNER_ORG_ID",
        /// `User UUID`.
        UserUuid = "USER_UUID",
        /// `Start time`, in UTC.
        StartTime = "START_TIME",
        /// `Duration`, seconds.
        Duration = "DURATION",
        /// The [`RatingStatus`](crate::RatingStatus).
        Status = "STATUS",
        /// The digits of `Called number` (charged and `no_destination` records).
        RatedNumber = "RATED_NUMBER",
        /// The matched prefix (empty for toll-free legs).
        Prefix = "PREFIX",
        /// The destination's name.
        Destination = "DESTINATION",
        /// The destination's class.
        Class = "CLASS",
        /// The band holding the local start.
        Band = "BAND",
        /// Billable seconds.
        BillableSeconds = "BILLABLE_SECONDS",
        /// Seconds covered by allowances.
        CoveredSeconds = "COVERED_SECONDS",
        /// The charge, with `rating_decimals` decimals.
        Charge = "CHARGE",
        /// The tariff's currency.
        Currency = "CURRENCY",
    }
}

string_enum! {
    /// A column of the rating summary, in file order.
    ///
    /// ```
    /// use wholesale_billing::SummaryColumn;
    /// let names: Vec<&str> = SummaryColumn::ALL.iter().map(|c| c.as_str()).collect();
    /// assert_eq!(names.join(","), "CUSTOMER_ORG_ID,DESTINATION,CALLS,BILLABLE_MINUTES,COVERED_MINUTES,AMOUNT,CURRENCY");
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum SummaryColumn("summary column") {
        /// The customer.
        CustomerOrgId = "CUSTOMER_ORG_ID",
        /// The destination's name.
        Destination = "DESTINATION",
        /// Charged calls, covered ones included.
        Calls = "CALLS",
        /// Σ billable seconds / 60, half-even to 4 decimals.
        BillableMinutes = "BILLABLE_MINUTES",
        /// Σ covered seconds / 60, half-even to 4 decimals.
        CoveredMinutes = "COVERED_MINUTES",
        /// Σ `CHARGE`, half-even to the currency's minor unit.
        Amount = "AMOUNT",
        /// The tariff's currency.
        Currency = "CURRENCY",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_column_names() {
        for c in RatedColumn::ALL {
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
        for c in SummaryColumn::ALL {
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{c}\""));
        }
    }
}
