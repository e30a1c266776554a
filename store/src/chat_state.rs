//! A booking's chat state, kept on the booking's own record so the read that authorises every frame
//! brings it along: who blocked whom, whether the operator closed the chat, and when the booking ended
//! (its chat becomes read-only a grace period later, unless the operator reopened it). The rules are
//! here, free of I/O; [`change`] is the compare-and-set loop every writer goes through, so two changes
//! made at once (two blocks, a block and a close) are both kept.

use chat_wire::{BookingId, ChatBlock, ChatClosure, ChatStateView, ClosureReason};
use serde::{Deserialize, Serialize};

use crate::domain::{Booking, BookingStatus};
use crate::{ChatStore, StoreError};

/// How many times [`change`] reads and writes again when another writer changed the state in between.
const CHANGE_ATTEMPTS: usize = 8;

/// What the chat of one booking keeps besides its messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatState {
    /// Who blocked whom; at most one block per blocker.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<ChatBlock>,
    /// Set while the operator has the chat closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<OperatorClosure>,
    /// When the booking was first seen cancelled or completed, epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// When the operator last reopened the chat, epoch ms: an ended booking's grace period does not
    /// apply to a chat reopened after it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reopened_at: Option<i64>,
    /// The version this state was read at (0: never written); the store's compare-and-set guard, not
    /// part of the stored JSON.
    #[serde(skip)]
    pub version: i64,
}

/// The operator's closing of a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorClosure {
    /// Who closed it (the service credential's name, for the audit).
    pub by: String,
    /// When, epoch ms.
    pub at: i64,
    /// What the members are told, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Whether a member may write in a chat, and if not why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteRefusal {
    /// The chat is read-only (closed by the operator, or ended past its grace period).
    Closed,
    /// The other member blocked this one.
    Blocked,
}

impl ChatState {
    /// The state as members see it at `now`, for a booking in `status`, with `grace_ms` of writing left
    /// to an ended booking.
    pub fn view(&self, status: BookingStatus, now: i64, grace_ms: i64) -> ChatStateView {
        let read_only_at = self.read_only_at(status, grace_ms);
        let closed = match (&self.closed, read_only_at) {
            (Some(closure), _) => Some(ChatClosure {
                reason: ClosureReason::Moderator,
                at: closure.at,
                note: closure.note.clone(),
            }),
            (None, Some(at)) if now >= at => {
                Some(ChatClosure { reason: ClosureReason::Ended, at, note: None })
            }
            (None, _) => None,
        };
        ChatStateView { writable: closed.is_none(), closed, read_only_at, blocks: self.blocks.clone() }
    }

    /// When an ended booking's chat becomes read-only: `grace_ms` after it ended, unless the operator
    /// reopened the chat since.
    fn read_only_at(&self, status: BookingStatus, grace_ms: i64) -> Option<i64> {
        if !matches!(status, BookingStatus::Cancelled | BookingStatus::Completed) {
            return None;
        }
        let ended_at = self.ended_at?;
        match self.reopened_at {
            Some(reopened) if reopened >= ended_at => None,
            _ => Some(ended_at.saturating_add(grace_ms)),
        }
    }

    /// Why `user_id` may not write now, if they may not.
    pub fn refusal(
        &self,
        user_id: &str,
        status: BookingStatus,
        now: i64,
        grace_ms: i64,
    ) -> Option<WriteRefusal> {
        if !self.view(status, now, grace_ms).writable {
            Some(WriteRefusal::Closed)
        } else if self.is_blocked(user_id) {
            Some(WriteRefusal::Blocked)
        } else {
            None
        }
    }

    /// Whether another member blocked `user_id`.
    pub fn is_blocked(&self, user_id: &str) -> bool {
        self.blocks.iter().any(|block| block.blocked_user_id == user_id)
    }

    /// `user_id` blocks `other`; whether that changed anything.
    pub fn block(&mut self, user_id: &str, other: &str, now: i64) -> bool {
        if self.blocks.iter().any(|b| b.user_id == user_id && b.blocked_user_id == other) {
            return false;
        }
        self.blocks.retain(|b| b.user_id != user_id);
        self.blocks.push(ChatBlock { user_id: user_id.into(), blocked_user_id: other.into(), at: now });
        true
    }

    /// `user_id` lifts their block; whether there was one.
    pub fn unblock(&mut self, user_id: &str) -> bool {
        let before = self.blocks.len();
        self.blocks.retain(|b| b.user_id != user_id);
        self.blocks.len() != before
    }

    /// The operator closes the chat; whether it was open.
    pub fn close(&mut self, by: &str, note: Option<String>, now: i64) -> bool {
        if self.closed.is_some() {
            return false;
        }
        self.closed = Some(OperatorClosure { by: by.into(), at: now, note });
        true
    }

    /// The operator reopens the chat: closed by them, or read-only since its booking ended. Whether it
    /// changed anything.
    pub fn reopen(&mut self, status: BookingStatus, now: i64) -> bool {
        let ended = matches!(status, BookingStatus::Cancelled | BookingStatus::Completed);
        let grace_running = self.reopened_at.zip(self.ended_at).is_some_and(|(r, e)| r >= e);
        if self.closed.is_none() && (!ended || grace_running) {
            return false;
        }
        self.closed = None;
        if ended {
            self.ended_at.get_or_insert(now);
            self.reopened_at = Some(now);
        }
        true
    }

    /// Records when the booking ended, the first time it is seen ended; whether that changed anything.
    pub fn mark_ended(&mut self, status: BookingStatus, now: i64) -> bool {
        let ended = matches!(status, BookingStatus::Cancelled | BookingStatus::Completed);
        if !ended || self.ended_at.is_some() {
            return false;
        }
        self.ended_at = Some(now);
        true
    }
}

/// Applies `edit` to the chat state of `booking_id` and writes it, from the version read, reading and
/// applying again when another writer changed it in between. `edit` answers whether it changed
/// anything; nothing is written when it did not. The booking as written (or as read, unchanged), `None`
/// when there is no such booking.
///
/// # Errors
/// The store's; [`StoreError::Contention`] after [`CHANGE_ATTEMPTS`] lost races.
pub async fn change(
    store: &dyn ChatStore,
    booking_id: BookingId,
    mut edit: impl FnMut(&Booking, &mut ChatState) -> bool + Send,
) -> Result<Option<Booking>, StoreError> {
    for _ in 0..CHANGE_ATTEMPTS {
        let Some(mut booking) = store.booking(booking_id).await? else { return Ok(None) };
        let mut state = booking.chat.clone();
        if !edit(&booking, &mut state) {
            return Ok(Some(booking));
        }
        if store.put_chat_state(booking_id, &state, booking.chat.version).await? {
            state.version = booking.chat.version + 1;
            booking.chat = state;
            return Ok(Some(booking));
        }
    }
    Err(StoreError::Contention("changing a chat state"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use BookingStatus::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn an_ended_booking_stays_writable_for_its_grace_period_then_is_read_only_until_reopened() {
        let mut state = ChatState::default();
        assert!(state.view(Completed, 0, DAY).writable, "no end recorded: writable");
        assert!(state.mark_ended(Completed, 1_000));
        assert!(!state.mark_ended(Completed, 2_000), "the first end counts");
        let during = state.view(Completed, 1_000 + DAY - 1, DAY);
        assert_eq!((during.writable, during.read_only_at), (true, Some(1_000 + DAY)));
        let after = state.view(Completed, 1_000 + DAY, DAY);
        assert_eq!(after.closed.map(|c| (c.reason, c.at)), Some((ClosureReason::Ended, 1_000 + DAY)));
        assert!(state.reopen(Completed, 5 * DAY));
        let reopened = state.view(Completed, 9 * DAY, DAY);
        assert_eq!((reopened.writable, reopened.read_only_at), (true, None));
        assert!(!state.reopen(Completed, 6 * DAY), "reopening an open chat changes nothing");
        assert!(state.view(Active, 0, 0).writable && !state.mark_ended(Active, 0));
    }

    #[test]
    fn the_operator_closes_and_reopens_whatever_the_status() {
        let mut state = ChatState::default();
        assert!(state.close("service", Some("under review".into()), 7));
        assert!(!state.close("service", None, 8), "closed already");
        let view = state.view(Confirmed, 10, DAY);
        assert_eq!(
            view.closed.map(|c| (c.reason, c.at, c.note)),
            Some((ClosureReason::Moderator, 7, Some("under review".into())))
        );
        assert_eq!(state.refusal("bob", Confirmed, 10, DAY), Some(WriteRefusal::Closed));
        assert!(state.reopen(Confirmed, 11));
        assert_eq!((state.refusal("bob", Confirmed, 12, DAY), state.reopened_at), (None, None));
    }

    #[test]
    fn a_block_stops_the_blocked_member_only_and_one_block_per_blocker() {
        let mut state = ChatState::default();
        assert!(state.block("alice", "bob", 1));
        assert!(!state.block("alice", "bob", 2), "blocking again changes nothing");
        assert_eq!(state.refusal("bob", Confirmed, 3, DAY), Some(WriteRefusal::Blocked));
        assert_eq!(state.refusal("alice", Confirmed, 3, DAY), None);
        assert!(state.block("bob", "alice", 4));
        assert_eq!(state.blocks.len(), 2);
        assert!(state.unblock("alice") && !state.unblock("alice"));
        assert_eq!(state.refusal("bob", Confirmed, 5, DAY), None);
        assert_eq!(state.refusal("alice", Confirmed, 5, DAY), Some(WriteRefusal::Blocked));
    }

    #[test]
    fn the_stored_json_leaves_out_what_is_empty_and_the_version() {
        let state = ChatState { version: 9, ..ChatState::default() };
        assert_eq!(serde_json::to_string(&state).expect("serialises"), "{}");
        let back: ChatState = serde_json::from_str("{}").expect("parses");
        assert_eq!(back, ChatState::default());
    }
}
