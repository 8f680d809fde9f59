//! Assignment events: the input of shadow billing (SPEC.md §2).

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

string_enum! {
    /// What an event does to a subscriber's package.
    ///
    /// ```
    /// use wholesale_billing::Action;
    /// assert_eq!("assign".parse::<Action>()?, Action::Assign);
    /// assert!("ADD".parse::<Action>().is_err());
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum Action("action") {
        /// Starts an assignment (ending the current one, if any).
        Assign = "ASSIGN",
        /// Ends the current assignment.
        Remove = "REMOVE",
    }
}

string_enum! {
    /// A subscriber is a user or a workspace (the report's `TYPE`).
    ///
    /// ```
    /// use wholesale_billing::SubscriberType;
    /// assert_eq!("Workspace".parse::<SubscriberType>()?, SubscriberType::Workspace);
    /// assert_eq!(SubscriberType::User.as_str(), "USER");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum SubscriberType("subscriber type") {
        /// A person (`USER_ID`).
        User = "USER",
        /// A shared device or room (`WORKSPACE_ID`).
        Workspace = "WORKSPACE",
    }
}

/// One assignment event, borrowing its text: what a row of the events CSV says.
///
/// Empty strings mean "absent". Build one with [`Event::assign`] or [`Event::remove`] and the
/// chained setters, then give it to [`LedgerBuilder::push`](crate::LedgerBuilder::push).
///
/// ```
/// use wholesale_billing::{Event, SubscriberType};
/// let at = "2024-05-01T09:00:00Z".parse()?;
/// let e = Event::assign("ev-1", at, "sub-1", "cust-1", "webex_calling")
///     .user("user-1")
///     .location("loc-1")
///     .external_id("CUST-001");
/// assert_eq!(e.subscriber_type, Some(SubscriberType::User));
/// assert_eq!(e.location_id, "loc-1");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// Unique id of the event.
    pub event_id: &'a str,
    /// When it happened (UTC).
    pub occurred_at: Timestamp,
    /// `ASSIGN` or `REMOVE`.
    pub action: Action,
    /// The subscriber.
    pub subscriber_id: &'a str,
    /// The customer org (required for `ASSIGN`).
    pub customer_org_id: &'a str,
    /// The partner's id for the customer.
    pub customer_external_id: &'a str,
    /// The owning sub-partner; empty: the partner itself.
    pub sub_partner_org_id: &'a str,
    /// User or workspace (required for `ASSIGN`).
    pub subscriber_type: Option<SubscriberType>,
    /// The Webex user id, for users.
    pub user_id: &'a str,
    /// The workspace id, for workspaces.
    pub workspace_id: &'a str,
    /// The package's API name (required for `ASSIGN`).
    pub package: &'a str,
    /// The location.
    pub location_id: &'a str,
    /// The license.
    pub license_id: &'a str,
}

impl<'a> Event<'a> {
    /// An `ASSIGN` of `package` to `subscriber_id` in `customer_org_id`; the subscriber type
    /// defaults to [`SubscriberType::User`].
    pub fn assign(
        event_id: &'a str,
        occurred_at: Timestamp,
        subscriber_id: &'a str,
        customer_org_id: &'a str,
        package: &'a str,
    ) -> Self {
        Event {
            event_id,
            occurred_at,
            action: Action::Assign,
            subscriber_id,
            customer_org_id,
            customer_external_id: "",
            sub_partner_org_id: "",
            subscriber_type: Some(SubscriberType::User),
            user_id: "",
            workspace_id: "",
            package,
            location_id: "",
            license_id: "",
        }
    }

    /// A `REMOVE` of whatever `subscriber_id` holds.
    pub fn remove(event_id: &'a str, occurred_at: Timestamp, subscriber_id: &'a str) -> Self {
        Event {
            event_id,
            occurred_at,
            action: Action::Remove,
            subscriber_id,
            customer_org_id: "",
            customer_external_id: "",
            sub_partner_org_id: "",
            subscriber_type: None,
            user_id: "",
            workspace_id: "",
            package: "",
            location_id: "",
            license_id: "",
        }
    }

    /// The subscriber is the user `user_id`.
    #[must_use]
    pub fn user(mut self, user_id: &'a str) -> Self {
        self.subscriber_type = Some(SubscriberType::User);
        self.user_id = user_id;
        self
    }

    /// The subscriber is the workspace `workspace_id`.
    #[must_use]
    pub fn workspace(mut self, workspace_id: &'a str) -> Self {
        self.subscriber_type = Some(SubscriberType::Workspace);
        self.workspace_id = workspace_id;
        self
    }

    /// The customer is owned by this sub-partner.
    #[must_use]
    pub fn sub_partner(mut self, org_id: &'a str) -> Self {
        self.sub_partner_org_id = org_id;
        self
    }

    /// The customer's external id.
    #[must_use]
    pub fn external_id(mut self, external_id: &'a str) -> Self {
        self.customer_external_id = external_id;
        self
    }

    /// The location.
    #[must_use]
    pub fn location(mut self, location_id: &'a str) -> Self {
        self.location_id = location_id;
        self
    }

    /// The license.
    #[must_use]
    pub fn license(mut self, license_id: &'a str) -> Self {
        self.license_id = license_id;
        self
    }

    /// The same event with white space trimmed from every text, as the CSV reader does.
    pub(crate) fn trimmed(&self) -> Event<'a> {
        Event {
            event_id: self.event_id.trim(),
            subscriber_id: self.subscriber_id.trim(),
            customer_org_id: self.customer_org_id.trim(),
            customer_external_id: self.customer_external_id.trim(),
            sub_partner_org_id: self.sub_partner_org_id.trim(),
            user_id: self.user_id.trim(),
            workspace_id: self.workspace_id.trim(),
            package: self.package.trim(),
            location_id: self.location_id.trim(),
            license_id: self.license_id.trim(),
            ..*self
        }
    }
}
