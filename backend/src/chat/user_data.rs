//! The operator's duties to one user and to data minimisation (issue 26; docs/privacy.md is the design):
//!
//! - [`ChatService::erase_user`]: the user's messages become tombstones ("Deleted user") so the other
//!   side's conversation keeps its shape, their reactions, files, read positions, presence and
//!   notification settings go, and their open connections are closed. Every step is idempotent, and a
//!   call does a bounded amount of work and says whether it finished, so an erasure that stopped (a
//!   timeout, a crash) is finished by calling again.
//! - [`ChatService::export_user`]: everything the chat holds about the user, as one JSON document
//!   (`docs/export.schema.json`) written page by page, so a heavy user's export never sits in memory.
//! - [`ChatService::run_retention`]: deletes the chats (and files) of bookings that ended more than the
//!   retention period ago.
//!
//! Each is appended to the audit log with who asked, never with a message's text.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chat_store::PageCursor;
use chat_store::attachments::AttachmentRecord;
use chat_store::domain::Booking;
use chat_store::moderation::{AuditEntry, actions};
use chat_store::user_data::Purged;
use chat_wire::time::now_millis;
use chat_wire::{BookingId, ChatMessage, ErrorCode, ServerFrame, ServerPayload};
use serde::Serialize;
use serde_json::json;

use super::{ChatError, ChatService};

/// The reason an erased user's messages show (`moderation.reason` of their tombstones).
pub const ERASED_REASON: &str = "Deleted user";

/// Messages read per page while erasing or exporting.
const PAGE: u32 = 100;

/// A booking's history read page by page, oldest first: what erasing and exporting walk through.
pub(super) struct Pages {
    booking_id: BookingId,
    after: Option<chat_wire::MessageId>,
}

impl Pages {
    /// From the booking's first message.
    pub(super) fn of(booking_id: BookingId) -> Self {
        Self { booking_id, after: Some(0) }
    }

    /// The next page; `None` once the last was read.
    pub(super) async fn next(&mut self, chat: &ChatService) -> Result<Option<Vec<ChatMessage>>, ChatError> {
        let Some(after) = self.after else { return Ok(None) };
        let page = chat.store.messages(self.booking_id, PageCursor::After(after), PAGE).await?;
        self.after = page.messages.last().filter(|_| page.has_more).map(|last| last.id);
        Ok(Some(page.messages))
    }
}

/// `user_id`'s reactions on `message`.
pub(super) fn reactions_of<'a>(
    message: &'a ChatMessage,
    user_id: &'a str,
) -> impl Iterator<Item = &'a chat_wire::ReactionSummary> {
    message.reactions.iter().filter(move |r| r.user_ids.iter().any(|u| u == user_id))
}

/// What one call of [`ChatService::erase_user`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// The user.
    pub user_id: String,
    /// `true` once nothing of the user is left to erase; `false`: call again to continue.
    pub complete: bool,
    /// Bookings of theirs visited by this call.
    pub bookings: u32,
    /// Their messages made tombstones by this call.
    pub messages: u64,
    /// Their reactions removed by this call.
    pub reactions: u64,
    /// Their uploads whose files and records this call deleted.
    pub files: u64,
    /// Read positions, presence records and notification claims deleted by this call.
    pub records: u64,
    /// Whether this call deleted their notification settings.
    pub settings: bool,
}

/// What one pass of the retention job did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RetentionPass {
    /// `false` when it stopped at its time budget with chats still due.
    pub complete: bool,
    /// Bookings whose chat was deleted.
    pub bookings: u64,
    /// Messages deleted.
    pub messages: u64,
    /// Uploads whose files were deleted.
    pub files: u64,
}

/// Checks a user id named by the operator, as the marketplace's are checked.
pub(super) fn valid_user_id(user_id: &str) -> Result<(), ChatError> {
    chat_store::domain::validate_user_id("user_id", user_id).map_err(ChatError::Invalid)
}

/// Where an erasure call stops: a time budget and a number of messages.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// When to stop.
    pub until: Instant,
    /// Most messages to make tombstones.
    pub messages: u64,
}

impl Budget {
    /// `time` from now and at most `messages`.
    pub fn new(time: Duration, messages: u64) -> Self {
        Self { until: Instant::now() + time, messages }
    }

    fn spent(&self, erasure: &Erasure) -> bool {
        Instant::now() >= self.until || erasure.messages >= self.messages
    }
}

impl ChatService {
    /// Erases `user_id` (see the module): as much as `budget` allows; call again until `complete`.
    ///
    /// # Errors
    /// [`ChatError::Invalid`] for a malformed user id, [`ChatError::FilesUnavailable`] when their files
    /// cannot be deleted (nothing after that step is done; call again), [`ChatError::Unexpected`].
    pub async fn erase_user(&self, user_id: &str, actor: &str, budget: Budget) -> Result<Erasure, ChatError> {
        valid_user_id(user_id)?;
        let mut erasure = Erasure { user_id: user_id.to_owned(), ..Erasure::default() };
        for booking in self.bookings_of_member(user_id).await? {
            let booking_id = booking.id;
            erasure.bookings += 1;
            self.close_connections(booking_id, user_id).await;
            if !self.erase_messages(booking_id, user_id, &mut erasure, &budget).await? {
                return self.erased(erasure, actor).await;
            }
            let uploads = self.store.user_data().uploads_of(booking_id, user_id).await?;
            erasure.files += self.forget_uploads(booking_id, &uploads).await?;
            erasure.records += self.store.user_data().forget_member(booking_id, user_id).await?.records;
        }
        erasure.settings = self.store.user_data().forget_settings(user_id).await?;
        erasure.complete = true;
        self.erased(erasure, actor).await
    }

    /// Every booking `user_id` is a member of, as it is now (the index may list one they just left).
    pub(super) async fn bookings_of_member(&self, user_id: &str) -> Result<Vec<Booking>, ChatError> {
        let mut bookings = Vec::new();
        for booking_id in self.store.user_data().bookings_of_member(user_id).await? {
            if let Some(booking) = self.store.booking(booking_id).await?.filter(|b| b.is_member(user_id)) {
                bookings.push(booking);
            }
        }
        Ok(bookings)
    }

    async fn erased(&self, erasure: Erasure, actor: &str) -> Result<Erasure, ChatError> {
        let detail = json!({
            "complete": erasure.complete, "bookings": erasure.bookings, "messages": erasure.messages,
            "reactions": erasure.reactions, "files": erasure.files,
        });
        let entry =
            AuditEntry::new(actor, actions::USER_ERASED).target(erasure.user_id.clone()).detail(detail);
        self.audit(entry).await?;
        Ok(erasure)
    }

    /// Tells `user_id`'s connections of the booking that they end, and closes them.
    async fn close_connections(&self, booking_id: BookingId, user_id: &str) {
        let now = now_millis();
        let closing = ServerFrame::error(ErrorCode::RemovedFromBooking, "this account was erased", now);
        let leaving = ServerPayload::Membership { booking_id, user_id: user_id.to_owned(), member: false };
        self.notifier.evict(booking_id, user_id, closing, ServerFrame::new(leaving, now)).await;
    }

    /// Makes `user_id`'s messages of the booking tombstones and removes their reactions, oldest first;
    /// `false` when the budget ran out first.
    async fn erase_messages(
        &self,
        booking_id: BookingId,
        user_id: &str,
        erasure: &mut Erasure,
        budget: &Budget,
    ) -> Result<bool, ChatError> {
        let mut pages = Pages::of(booking_id);
        while let Some(page) = pages.next(self).await? {
            for message in &page {
                if budget.spent(erasure) {
                    return Ok(false);
                }
                if message.sender_id == user_id && message.moderation.is_none() {
                    // Its reactions, theirs included, go with it.
                    self.tombstone(message, ERASED_REASON).await?;
                    erasure.messages += 1;
                } else {
                    erasure.reactions += self.remove_reactions(message, user_id).await?;
                }
            }
        }
        Ok(true)
    }

    /// Removes `user_id`'s reactions from `message`, telling the booking of each.
    async fn remove_reactions(&self, message: &ChatMessage, user_id: &str) -> Result<u64, ChatError> {
        let mut removed = 0;
        for summary in reactions_of(message, user_id) {
            let toggled =
                self.store.toggle_reaction(message.booking_id, message.id, user_id, &summary.emoji).await?;
            if toggled.added {
                // It was gone already (a race): put it back out of the way.
                self.store.toggle_reaction(message.booking_id, message.id, user_id, &summary.emoji).await?;
                continue;
            }
            removed += 1;
            let payload = ServerPayload::Reaction {
                booking_id: message.booking_id,
                message_id: message.id,
                user_id: user_id.to_owned(),
                emoji: summary.emoji.clone(),
                added: false,
                reactions: toggled.reactions,
            };
            self.notifier.notify(message.booking_id, ServerFrame::new(payload, now_millis())).await;
        }
        Ok(removed)
    }

    /// Deletes the files of `uploads` (each upload's, its stored file's and its thumbnail's object; a
    /// missing one is no error), then their records: how many.
    async fn forget_uploads(
        &self,
        booking_id: BookingId,
        uploads: &[AttachmentRecord],
    ) -> Result<u64, ChatError> {
        if uploads.is_empty() {
            return Ok(0);
        }
        if let Some(files) = &self.files {
            let keys: Vec<String> = uploads
                .iter()
                .flat_map(|record| {
                    let id = &record.attachment.id;
                    use chat_files::keys;
                    [
                        keys::upload(booking_id, id),
                        keys::original(booking_id, id),
                        keys::thumbnail(booking_id, id),
                    ]
                })
                .collect();
            files.store.delete(&keys).await.map_err(ChatError::FilesUnavailable)?;
        }
        let ids: Vec<String> = uploads.iter().map(|record| record.attachment.id.clone()).collect();
        self.store.delete_attachments(booking_id, &ids).await?;
        Ok(u64::try_from(ids.len()).unwrap_or(u64::MAX))
    }

    /// Whether chats are deleted after a retention period (`CHAT_RETENTION_DAYS`).
    pub fn retains(&self) -> bool {
        self.limits.retention.is_some()
    }

    /// One pass of the retention job: deletes the chats (files first) of the bookings whose retention
    /// period is over, oldest first, until none is due or `budget` is spent.
    ///
    /// # Errors
    /// [`ChatError::Invalid`] when retention is off (`CHAT_RETENTION_DAYS` unset),
    /// [`ChatError::FilesUnavailable`], [`ChatError::Unexpected`].
    pub async fn run_retention(&self, actor: &str, budget: Duration) -> Result<RetentionPass, ChatError> {
        let Some(retention) = self.limits.retention else {
            return Err(ChatError::Invalid("retention is off: CHAT_RETENTION_DAYS is not set".into()));
        };
        let until = Instant::now() + budget;
        let cutoff = now_millis().saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
        let mut pass = RetentionPass::default();
        // DynamoDB's index may list a chat for a moment after it was purged: each is handled once a pass.
        let mut seen = HashSet::new();
        while Instant::now() < until {
            let due = self.store.user_data().due_for_retention(cutoff, 25).await?;
            let fresh: Vec<BookingId> = due.into_iter().filter(|id| seen.insert(*id)).collect();
            if fresh.is_empty() {
                pass.complete = true;
                break;
            }
            for booking_id in fresh {
                let uploads = self.store.user_data().uploads_of_booking(booking_id).await?;
                pass.files += self.forget_uploads(booking_id, &uploads).await?;
                if let Some(Purged { messages, .. }) =
                    self.store.user_data().purge_chat(booking_id, cutoff).await?
                {
                    pass.bookings += 1;
                    pass.messages += messages;
                }
            }
        }
        if pass.bookings > 0 || pass.files > 0 {
            let detail = json!({"bookings": pass.bookings, "messages": pass.messages, "files": pass.files});
            self.audit(AuditEntry::new(actor, actions::RETENTION_RUN).detail(detail)).await?;
        }
        Ok(pass)
    }
}
