//! The fixed vocabularies of a call record: its direction and its call type (SPEC §7.1).

use serde::{Deserialize, Serialize};

string_enum! {
    /// The direction of a call leg, as the Webex call history writes it.
    ///
    /// ```
    /// use wholesale_billing::Direction;
    /// assert_eq!("originating".parse::<Direction>()?, Direction::Originating);
    /// assert_eq!(Direction::Terminating.to_string(), "TERMINATING");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum Direction("call direction") {
        /// A leg placed by the partner's user or workspace.
        Originating = "ORIGINATING",
        /// A leg received by the partner's user or workspace.
        Terminating = "TERMINATING",
    }
}

string_enum! {
    /// The `Call type` of a call leg (SPEC §7.1): which network the call went to.
    ///
    /// ```
    /// use wholesale_billing::CallType;
    /// assert_eq!("sip_mobile".parse::<CallType>()?, CallType::SipMobile);
    /// assert_eq!(CallType::SipTollfree.as_str(), "SIP_TOLLFREE");
    /// assert_eq!(CallType::ALL.len(), 11);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum CallType("call type") {
        /// A national fixed-line number.
        SipNational = "SIP_NATIONAL",
        /// A mobile number.
        SipMobile = "SIP_MOBILE",
        /// A number abroad.
        SipInternational = "SIP_INTERNATIONAL",
        /// A premium-rate number.
        SipPremium = "SIP_PREMIUM",
        /// A short code.
        SipShortcode = "SIP_SHORTCODE",
        /// A toll-free (freephone) number.
        SipTollfree = "SIP_TOLLFREE",
        /// An emergency number.
        SipEmergency = "SIP_EMERGENCY",
        /// A call inside the enterprise (another user, a trunk of the same organisation).
        SipEnterprise = "SIP_ENTERPRISE",
        /// An inbound call from the PSTN.
        SipInbound = "SIP_INBOUND",
        /// A call to or from a meeting.
        SipMeeting = "SIP_MEETING",
        /// A call type the history does not name.
        Unknown = "UNKNOWN",
    }
}

impl CallType {
    /// The call types charged when a tariff does not list its own (SPEC §7.2):
    /// national, mobile, international, premium and short codes.
    ///
    /// ```
    /// use wholesale_billing::CallType;
    /// assert!(CallType::DEFAULT_CHARGED.contains(&CallType::SipMobile));
    /// assert!(!CallType::DEFAULT_CHARGED.contains(&CallType::SipTollfree));
    /// ```
    pub const DEFAULT_CHARGED: [CallType; 5] = [
        CallType::SipNational,
        CallType::SipMobile,
        CallType::SipInternational,
        CallType::SipPremium,
        CallType::SipShortcode,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_the_history_names() {
        for value in CallType::ALL {
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, format!("\"{}\"", value.as_str()));
        }
        for value in Direction::ALL {
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, format!("\"{}\"", value.as_str()));
        }
    }
}
