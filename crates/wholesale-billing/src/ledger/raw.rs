//! An accepted event in compact form, as the builder keeps it until the replay.

use super::event::{Action, SubscriberType};
use crate::strings::{StringTable, Sym};

/// An accepted event, compact: 44 bytes whatever its text (aligned to 4 bytes, so the time's
/// 8 bytes leave no padding; its fields are read by value, never lent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, packed(4))]
pub(super) struct RawEvent {
    pub(super) at: i64,
    /// The row's line (or row) in its source; a load stops at more than `u32::MAX`.
    pub(super) line: u32,
    pub(super) subscriber: Sym,
    pub(super) customer: u32,
    pub(super) user_id: Sym,
    pub(super) workspace_id: Sym,
    pub(super) location: Sym,
    pub(super) license: Sym,
    pub(super) external_id: Sym,
    pub(super) package: u16,
    pub(super) action: Action,
    pub(super) subscriber_type: Option<SubscriberType>,
}

impl RawEvent {
    /// Same content (the line differs for a duplicate row). Stored (not interned) texts are
    /// compared as text.
    pub(super) fn same_content(&self, other: &RawEvent, strings: &StringTable) -> bool {
        let text_eq = |a: Sym, b: Sym| strings.same_text(a, b);
        let bare = |e: &RawEvent| RawEvent {
            line: 0,
            user_id: Sym::EMPTY,
            workspace_id: Sym::EMPTY,
            license: Sym::EMPTY,
            ..*e
        };
        bare(self) == bare(other)
            && text_eq(self.user_id, other.user_id)
            && text_eq(self.workspace_id, other.workspace_id)
            && text_eq(self.license, other.license)
    }
}

/// The `customer` of an event that names none (a `REMOVE`).
pub(super) const NO_CUSTOMER: u32 = u32::MAX;
/// The `package` of an event that names none (a `REMOVE`).
pub(super) const NO_PACKAGE: u16 = u16::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_takes_44_bytes() {
        assert_eq!(size_of::<RawEvent>(), 44);
    }
}
