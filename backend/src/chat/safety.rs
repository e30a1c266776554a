//! Trust and safety in a booking's chat (issue 23): a member blocks the other, and the chat follows
//! its booking, read-only a grace period after the booking was cancelled or completed, or closed and
//! reopened by the operator. The state lives on the booking ([`chat_store::chat_state`]), read with it
//! on every frame; every change goes through its compare-and-set loop and reaches the booking's
//! connections as a `chat_state` frame.

use crate::presend::Verdict;
use chat_store::chat_state::{self, ChatState, WriteRefusal};
use chat_store::domain::Booking;
use chat_store::domain::MessageBody;
use chat_store::moderation::{AuditEntry, actions};
use chat_wire::events::Change;
use chat_wire::time::now_millis;
use chat_wire::{BookingId, ChatStateView, MessageId, ServerFrame};
use serde_json::json;

use super::{Caller, ChatError, ChatService, Reply};

impl ChatService {
    /// What every writing action (send, edit, delete, react, type) requires beyond [`ChatService::admit`]:
    /// a writable chat, and a caller the other member has not blocked. Returns the booking.
    pub(super) async fn admit_writer(&self, caller: Caller<'_>) -> Result<Booking, ChatError> {
        let booking = self.note_end(self.admit(caller).await?).await?;
        match booking.chat.refusal(caller.user_id, booking.status, now_millis(), self.grace_ms()) {
            None => Ok(booking),
            Some(WriteRefusal::Closed) => Err(ChatError::ChatClosed),
            Some(WriteRefusal::Blocked) => Err(ChatError::Blocked),
        }
    }

    /// The chat state of `booking` as its members see it now.
    pub fn chat_view(&self, booking: &Booking) -> ChatStateView {
        booking.chat.view(booking.status, now_millis(), self.grace_ms())
    }

    fn grace_ms(&self) -> i64 {
        i64::try_from(self.limits.read_only_after.as_millis()).unwrap_or(i64::MAX)
    }

    /// Records when a cancelled or completed booking ended, the first time it is seen so (at its status
    /// change, or for a booking that ended before this existed, at its first write after): the grace
    /// period counts from then.
    async fn note_end(&self, booking: Booking) -> Result<Booking, ChatError> {
        let mut probe = booking.chat.clone();
        if !probe.mark_ended(booking.status, now_millis()) {
            return Ok(booking);
        }
        let changed = chat_state::change(self.store.as_ref(), booking.id, |b, state| {
            state.mark_ended(b.status, now_millis())
        })
        .await?;
        Ok(changed.unwrap_or(booking))
    }

    /// After a status change: an ended booking's grace period starts, and its connections are told.
    pub(super) async fn booking_ended(&self, booking_id: BookingId) {
        let noted = async {
            let booking = self.booking(booking_id).await?;
            self.note_end(booking).await
        };
        match noted.await {
            Ok(booking) => self.announce(&booking).await,
            Err(error) => tracing::warn!(error = %error, "could not record when the booking ended"),
        }
    }

    /// `block` and `unblock` frames: the caller blocks the other member, or lifts their block; the new
    /// state goes to the booking (the caller's copy is the answer).
    pub(super) async fn block_frame(&self, caller: Caller<'_>, block: bool) -> Result<Reply, ChatError> {
        let booking = self.admit(caller).await?;
        let booking = self.change_block(&booking, caller.user_id, block).await?;
        let frame = ServerFrame::new(self.chat_view(&booking).frame(booking.id), now_millis());
        Ok(Reply::to_booking(frame))
    }

    /// Blocks or unblocks through the HTTP API: as the frames, the state pushed to the booking's
    /// connections.
    ///
    /// # Errors
    /// As [`ChatService::member_booking`]; [`ChatError::Unexpected`].
    pub async fn set_block(
        &self,
        booking_id: BookingId,
        user_id: &str,
        block: bool,
    ) -> Result<ChatStateView, ChatError> {
        let booking = self.member_booking(booking_id, user_id).await?;
        let booking = self.change_block(&booking, user_id, block).await?;
        self.announce(&booking).await;
        Ok(self.chat_view(&booking))
    }

    /// Writes the block (or its lifting) and publishes the event when it changed anything.
    async fn change_block(
        &self,
        booking: &Booking,
        user_id: &str,
        block: bool,
    ) -> Result<Booking, ChatError> {
        let other = if booking.owner_id == user_id { &booking.renter_id } else { &booking.owner_id };
        let mut changed = false;
        let written = chat_state::change(self.store.as_ref(), booking.id, |_, state| {
            changed = if block { state.block(user_id, other, now_millis()) } else { state.unblock(user_id) };
            changed
        })
        .await?
        .ok_or(ChatError::BookingNotFound)?;
        if changed {
            let (user_id, blocked_user_id) = (user_id.to_owned(), other.clone());
            let change = if block {
                Change::MemberBlocked { user_id, blocked_user_id }
            } else {
                Change::MemberUnblocked { user_id, blocked_user_id }
            };
            self.publish(booking.id, now_millis(), change).await;
        }
        Ok(written)
    }

    /// The operator closes a booking's chat (`open` false, with an optional note to the members) or
    /// reopens it (also an ended booking's, whose grace period then no longer applies). Idempotent;
    /// the state goes to the booking's connections.
    ///
    /// The change goes to the audit log.
    ///
    /// # Errors
    /// [`ChatError::BookingNotFound`], [`ChatError::Invalid`] for a note over 500 characters,
    /// [`ChatError::Unexpected`].
    pub async fn set_chat_open(
        &self,
        booking_id: BookingId,
        open: bool,
        note: Option<String>,
        actor: &str,
    ) -> Result<(ChatStateView, bool), ChatError> {
        if note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS || n.chars().any(char::is_control))
        {
            return Err(ChatError::Invalid(format!(
                "note must be at most {MAX_NOTE_CHARS} characters, without control characters"
            )));
        }
        let mut changed = false;
        let booking = chat_state::change(self.store.as_ref(), booking_id, |b, state: &mut ChatState| {
            let now = now_millis();
            changed = if open { state.reopen(b.status, now) } else { state.close(actor, note.clone(), now) };
            changed
        })
        .await?
        .ok_or(ChatError::BookingNotFound)?;
        if changed {
            let action = if open { actions::CHAT_REOPENED } else { actions::CHAT_CLOSED };
            let entry = AuditEntry::new(actor, action).booking(booking_id).detail(json!({"note": note}));
            self.audit(entry).await?;
            self.announce(&booking).await;
        }
        Ok((self.chat_view(&booking), changed))
    }

    /// Pushes the booking's chat state to its connections.
    async fn announce(&self, booking: &Booking) {
        let frame = ServerFrame::new(self.chat_view(booking).frame(booking.id), now_millis());
        self.notifier.notify(booking.id, frame).await;
    }
}

/// Longest note an operator leaves the members when closing a chat.
pub const MAX_NOTE_CHARS: usize = 500;

impl ChatService {
    /// What the deployment's pre-send hook makes of `body` ([`crate::presend`]): the body to store, the
    /// hook's rewrite checked as any body (its length with the masking's slack).
    pub(super) async fn presend(
        &self,
        booking: &Booking,
        sender_id: &str,
        body: MessageBody,
        edit_of: Option<MessageId>,
    ) -> Result<MessageBody, ChatError> {
        let Some(hook) = &self.presend else { return Ok(body) };
        match hook.check(booking.id, sender_id, body.as_str(), edit_of).await {
            Ok(Verdict::Allow) => Ok(body),
            Ok(Verdict::Reject(reason)) => Err(ChatError::Refused(reason.chars().take(200).collect())),
            Ok(Verdict::Rewrite(text)) => self.body(text),
            Err(_) => Err(ChatError::HookUnavailable),
        }
    }
}
