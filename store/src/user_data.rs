//! What the operator's duties need of the store beyond the chat's own reads and writes ([`UserDataStore`],
//! which every [`crate::ChatStore`] is): a user's state in a booking and their settings, for the export
//! and the erasure of one user; and the bookings whose chat is due for deletion under the retention
//! period, for the retention job. `docs/privacy.md` is the design.
//!
//! Each write here is idempotent (a delete of what is gone deletes nothing), so an erasure or a retention
//! pass that stopped half-way is finished by running it again.
//!
//! Retention counts from [`retained_from`]: when the booking ended, or when the operator last reopened its
//! chat after that. Every adapter keeps that instant beside the chat state (the same write), indexed while
//! the chat is not purged: SQL in `bookings.retained_from` (`0011_retention.sql`), DynamoDB on the booking
//! item's keys in the `gsi1` index (partition [`RETENTION_PARTITION`]), so the job never scans.

use chat_wire::{BookingId, MessageId};
use futures_util::future::BoxFuture;
use serde::Serialize;

use crate::StoreError;
use crate::attachments::AttachmentRecord;
use crate::chat_state::ChatState;

/// The `gsi1pk` under which DynamoDB indexes the bookings whose chat awaits deletion, sorted by
/// `gsi1sk` = `{retained from, 20 digits}#{booking id, 20 digits}`.
pub const RETENTION_PARTITION: &str = "RETAIN";

/// Most bookings one call of [`UserDataStore::due_for_retention`] returns.
pub const MAX_DUE: u32 = 100;

/// When a booking's retention period starts: when it ended, or when its chat was last reopened after
/// that (a reopened chat may be written in again). `None` while the booking has not ended.
pub fn retained_from(state: &ChatState) -> Option<i64> {
    let ended = state.ended_at?;
    Some(state.reopened_at.map_or(ended, |reopened| reopened.max(ended)))
}

/// One user's state in one booking besides their messages, as an export shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MemberState {
    /// The last message they have read, if they read any.
    pub last_read_message_id: Option<MessageId>,
    /// When they last disconnected from the booking's chat, epoch ms.
    pub last_seen_at: Option<i64>,
    /// How many connections of theirs are recorded as open.
    pub open_connections: u32,
    /// The newest message they were notified of (email or push), if any.
    pub notified_through: Option<MessageId>,
}

/// What a call removed, for the erasure's report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// Rows or items deleted.
    pub records: u64,
}

/// A booking's chat deleted by the retention job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Messages deleted (tombstones included).
    pub messages: u64,
    /// Other records deleted: reactions, idempotency keys, read positions, notification claims and
    /// uploads' records.
    pub records: u64,
}

/// The store's side of export, erasure and retention (docs/privacy.md).
pub trait UserDataStore: Send + Sync {
    /// Every booking `user_id` is a member of, however many (the inbox lists the most recent only). On
    /// DynamoDB by the inbox's index, which may lag a change of members by a moment.
    fn bookings_of_member<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<BookingId>, StoreError>>;

    /// Every upload's record `user_id` made in the booking, sent or not, oldest first.
    fn uploads_of<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<AttachmentRecord>, StoreError>>;

    /// `user_id`'s read position, presence and notification claim in the booking.
    fn member_state<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<MemberState, StoreError>>;

    /// Deletes `user_id`'s read position, presence records (open connections and last seen) and
    /// notification claim in the booking. Idempotent.
    fn forget_member<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<Removed, StoreError>>;

    /// Deletes `user_id`'s notification settings (their email address, push subscriptions and mutes);
    /// `true` when there were some. Idempotent.
    fn forget_settings<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Bookings whose retention started before `cutoff` and whose chat is not purged since, oldest first,
    /// at most `limit` (capped at [`MAX_DUE`]).
    fn due_for_retention(&self, cutoff: i64, limit: u32)
    -> BoxFuture<'_, Result<Vec<BookingId>, StoreError>>;

    /// Every upload's record of the booking (so the job can delete their files before their records).
    fn uploads_of_booking(
        &self,
        booking_id: BookingId,
    ) -> BoxFuture<'_, Result<Vec<AttachmentRecord>, StoreError>>;

    /// Deletes the booking's chat if its retention started before `cutoff`: messages, reactions,
    /// idempotency keys, read positions, notification claims and uploads' records; the booking, its members
    /// and its chat state stay, and its message ids keep increasing. Takes the booking out of
    /// [`UserDataStore::due_for_retention`] unless a reopening moved its start since. Idempotent: `None`
    /// when it was not due (reopened since, or purged already).
    fn purge_chat(
        &self,
        booking_id: BookingId,
        cutoff: i64,
    ) -> BoxFuture<'_, Result<Option<Purged>, StoreError>>;
}

/// [`UserDataStore`] for an adapter whose inherent `async fn`s are `member_of`, `uploads` (a booking's, or
/// one uploader's of it), `member_state_of`, `forget_member_records`, `forget_settings_record`, `due` and
/// `purge`: each is boxed and delegated, as `delegate_moderation_store!` does for the moderation port.
macro_rules! delegate_user_data_store {
    ($adapter:ty) => {
        impl $crate::user_data::UserDataStore for $adapter {
            fn bookings_of_member<'a>(
                &'a self,
                user_id: &'a str,
            ) -> BoxFuture<'a, Result<Vec<BookingId>, StoreError>> {
                Box::pin(self.member_of(user_id))
            }

            fn uploads_of<'a>(
                &'a self,
                booking_id: BookingId,
                user_id: &'a str,
            ) -> BoxFuture<'a, Result<Vec<AttachmentRecord>, StoreError>> {
                Box::pin(self.uploads(booking_id, Some(user_id)))
            }

            fn member_state<'a>(
                &'a self,
                booking_id: BookingId,
                user_id: &'a str,
            ) -> BoxFuture<'a, Result<MemberState, StoreError>> {
                Box::pin(self.member_state_of(booking_id, user_id))
            }

            fn forget_member<'a>(
                &'a self,
                booking_id: BookingId,
                user_id: &'a str,
            ) -> BoxFuture<'a, Result<Removed, StoreError>> {
                Box::pin(self.forget_member_records(booking_id, user_id))
            }

            fn forget_settings<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
                Box::pin(self.forget_settings_record(user_id))
            }

            fn due_for_retention(
                &self,
                cutoff: i64,
                limit: u32,
            ) -> BoxFuture<'_, Result<Vec<BookingId>, StoreError>> {
                Box::pin(self.due(cutoff, limit))
            }

            fn uploads_of_booking(
                &self,
                booking_id: BookingId,
            ) -> BoxFuture<'_, Result<Vec<AttachmentRecord>, StoreError>> {
                Box::pin(self.uploads(booking_id, None))
            }

            fn purge_chat(
                &self,
                booking_id: BookingId,
                cutoff: i64,
            ) -> BoxFuture<'_, Result<Option<Purged>, StoreError>> {
                Box::pin(self.purge(booking_id, cutoff))
            }
        }
    };
}
pub(crate) use delegate_user_data_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_starts_when_the_booking_ended_or_its_chat_was_reopened_after() {
        let state = |ended_at, reopened_at| ChatState { ended_at, reopened_at, ..ChatState::default() };
        assert_eq!(retained_from(&state(None, Some(5))), None);
        assert_eq!(retained_from(&state(Some(10), None)), Some(10));
        assert_eq!(retained_from(&state(Some(10), Some(5))), Some(10));
        assert_eq!(retained_from(&state(Some(10), Some(20))), Some(20));
    }
}
