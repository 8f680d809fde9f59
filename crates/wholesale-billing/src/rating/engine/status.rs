//! [`RatingStatus`]: why a rated record is charged or not (SPEC §7.2, §7.3, §7.7).

use serde::{Deserialize, Serialize};

string_enum! {
    /// The status of a rated record, in the order of precedence of SPEC §7.7: the first that
    /// applies is the record's.
    ///
    /// ```
    /// use wholesale_billing::RatingStatus;
    /// assert_eq!("charged".parse::<RatingStatus>()?, RatingStatus::Charged);
    /// assert_eq!(RatingStatus::UnknownCustomer.to_string(), "unknown_customer");
    /// assert_eq!(RatingStatus::ALL.len(), 7);
    /// assert!(RatingStatus::Charged.is_charged() && !RatingStatus::NoDestination.is_charged());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum RatingStatus("rating status") {
        /// The record's `Org UUID` is no customer named in an `ASSIGN` row of the events.
        UnknownCustomer = "unknown_customer",
        /// A `TERMINATING` leg (except a toll-free one when the tariff names a toll-free destination).
        Terminating = "terminating",
        /// The call was not answered.
        NotAnswered = "not_answered",
        /// The call lasted 0 seconds.
        ZeroDuration = "zero_duration",
        /// The call type is not one of the tariff's charged call types.
        NotChargedCallType = "not_charged_call_type",
        /// Charged (also when an allowance covers it, wholly or partly).
        Charged = "charged",
        /// A charged leg whose number matches no prefix of the tariff.
        NoDestination = "no_destination",
    }
}

impl RatingStatus {
    /// Whether the record is charged (priced at a destination; its charge may still be 0 when an
    /// allowance covers it).
    pub const fn is_charged(self) -> bool {
        matches!(self, RatingStatus::Charged)
    }

    /// The index of the status in [`RatingStatus::ALL`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The status of an index of [`RatingStatus::ALL`].
    pub(crate) fn from_index(index: u8) -> Option<RatingStatus> {
        RatingStatus::ALL.get(usize::from(index)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_status_names() {
        for (i, value) in RatingStatus::ALL.into_iter().enumerate() {
            assert_eq!(
                serde_json::to_string(&value).unwrap(),
                format!("\"{}\"", value.as_str())
            );
            assert_eq!(value.index(), i);
            assert_eq!(RatingStatus::from_index(i as u8), Some(value));
        }
        assert_eq!(RatingStatus::from_index(7), None);
    }
}
