//! Reports and the operator's moderation (issue 23): a member reports a message or the other member; the
//! operator (the service credential) reads the open reports with their context, resolves them, hides
//! messages, and closes or reopens chats (`chat::safety`). Every operator action is appended to the
//! audit log ([`chat_store::moderation`]), which never holds a message's text, a report's details or a
//! token.

use chat_store::PageCursor;
use chat_store::domain::Booking;
use chat_store::moderation::{
    AuditEntry, ModerationText, NewReport, Report, ReportStatus, Resolution, ResolutionOutcome, actions,
};
use chat_wire::events::Change;
use chat_wire::time::now_millis;
use chat_wire::{BookingId, ChatMessage, MessageId, ReportReason, ServerFrame, ServerPayload};
use serde_json::json;

use super::{Caller, ChatError, ChatService, Reply, message_updated};

/// How many messages on each side of a reported one the operator sees (a report about the member shows
/// the latest twice as many).
const CONTEXT_MESSAGES: u32 = 5;

/// A report with what the operator needs to decide: the booking, and the messages around the one
/// reported (or the latest, for a report about the member).
#[derive(Debug, Clone)]
pub struct ReportInContext {
    /// The report.
    pub report: Report,
    /// Its booking, `None` if the marketplace deleted it since.
    pub booking: Option<Booking>,
    /// The messages around it, oldest first (the reported one included, as it is now).
    pub messages: Vec<ChatMessage>,
}

impl ChatService {
    /// `report` frame: answered to the reporter only. A blocked member, or one of a closed chat, may
    /// still report.
    pub(super) async fn report_frame(
        &self,
        caller: Caller<'_>,
        reason: ReportReason,
        message_id: Option<MessageId>,
        details: Option<String>,
    ) -> Result<Reply, ChatError> {
        let booking = self.admit(caller).await?;
        let report = self.report(&booking, caller.user_id, reason, message_id, details.as_deref()).await?;
        let payload = ServerPayload::ReportReceived { booking_id: booking.id, report_id: report.id };
        Ok(Reply::to_sender(ServerFrame::new(payload, now_millis())))
    }

    /// A member's report through the HTTP API; the report's id.
    ///
    /// # Errors
    /// As [`ChatService::member_booking`]; [`ChatError::MessageNotFound`]; [`ChatError::Invalid`] for
    /// details over 1,000 characters or a member reporting their own message.
    pub async fn report_http(
        &self,
        booking_id: BookingId,
        user_id: &str,
        reason: ReportReason,
        message_id: Option<MessageId>,
        details: Option<&str>,
    ) -> Result<String, ChatError> {
        let booking = self.member_booking(booking_id, user_id).await?;
        Ok(self.report(&booking, user_id, reason, message_id, details).await?.id)
    }

    /// Stores a report about `message_id`'s sender, or about the other member, and publishes it.
    async fn report(
        &self,
        booking: &Booking,
        reporter: &str,
        reason: ReportReason,
        message_id: Option<MessageId>,
        details: Option<&str>,
    ) -> Result<Report, ChatError> {
        let reported = match message_id {
            Some(id) => {
                let message = self.store.message(booking.id, id).await?.ok_or(ChatError::MessageNotFound)?;
                if message.sender_id == reporter {
                    return Err(ChatError::Invalid("you cannot report your own message".into()));
                }
                message.sender_id
            }
            None if booking.owner_id == reporter => booking.renter_id.clone(),
            None => booking.owner_id.clone(),
        };
        let new = NewReport::new(booking.id, reporter, reported, message_id, reason, details, now_millis())
            .map_err(|e| ChatError::Invalid(e.to_string()))?;
        let report = self.moderation.add_report(&new).await?;
        let change = Change::MemberReported {
            report_id: report.id.clone(),
            reporter_id: report.reporter_id.clone(),
            reported_user_id: report.reported_user_id.clone(),
            message_id,
            reason,
        };
        self.publish(booking.id, report.created_at, change).await;
        Ok(report)
    }

    /// The reports in `status`, oldest first, after `after`, each with its context.
    ///
    /// # Errors
    /// [`ChatError::Unexpected`].
    pub async fn reports(
        &self,
        status: ReportStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ReportInContext>, ChatError> {
        let reports = self.moderation.reports(status, after, limit).await?;
        let mut page = Vec::with_capacity(reports.len());
        for report in reports {
            page.push(self.in_context(report).await?);
        }
        Ok(page)
    }

    async fn in_context(&self, report: Report) -> Result<ReportInContext, ChatError> {
        let booking = self.store.booking(report.booking_id).await?;
        let messages = match report.message_id {
            Some(id) => {
                let (before, after) = futures_util::try_join!(
                    self.store.messages(
                        report.booking_id,
                        PageCursor::Before(Some(id + 1)),
                        CONTEXT_MESSAGES + 1
                    ),
                    self.store.messages(report.booking_id, PageCursor::After(id), CONTEXT_MESSAGES),
                )?;
                before.messages.into_iter().chain(after.messages).collect()
            }
            None => {
                self.store
                    .messages(report.booking_id, PageCursor::Before(None), 2 * CONTEXT_MESSAGES)
                    .await?
                    .messages
            }
        };
        Ok(ReportInContext { report, booking, messages })
    }

    /// The operator resolves a report; the first resolution stands (a second call answers it unchanged).
    /// `None` for an unknown report.
    ///
    /// # Errors
    /// [`ChatError::Invalid`] for a note over 1,000 characters; [`ChatError::Unexpected`].
    pub async fn resolve_report(
        &self,
        report_id: &str,
        outcome: ResolutionOutcome,
        note: Option<&str>,
        actor: &str,
    ) -> Result<Option<(Report, bool)>, ChatError> {
        let note =
            ModerationText::parse_optional(note).map_err(|e| ChatError::Invalid(format!("note: {e}")))?;
        let resolution = Resolution { outcome, note, by: actor.to_owned(), at: now_millis() };
        let Some(resolved) = self.moderation.resolve_report(report_id, &resolution).await? else {
            return Ok(None);
        };
        let now = resolved.by_this_call();
        let report = resolved.into_report();
        if now {
            let entry = AuditEntry::new(actor, actions::REPORT_RESOLVED)
                .booking(report.booking_id)
                .target(report.id.clone())
                .detail(json!({"outcome": outcome.as_str(), "reason": report.reason.as_str()}));
            self.audit(entry).await?;
        }
        Ok(Some((report, now)))
    }

    /// The operator hides a message: a tombstone with `reason`, sent to the booking like a delete.
    ///
    /// # Errors
    /// [`ChatError::BookingNotFound`], [`ChatError::MessageNotFound`], [`ChatError::Invalid`] for an
    /// empty reason or one over 200 characters, [`ChatError::Unexpected`].
    pub async fn hide_message(
        &self,
        booking_id: BookingId,
        message_id: MessageId,
        reason: &str,
        actor: &str,
    ) -> Result<ChatMessage, ChatError> {
        let reason = reason.trim();
        if reason.is_empty()
            || reason.chars().count() > MAX_HIDE_REASON_CHARS
            || reason.chars().any(char::is_control)
        {
            return Err(ChatError::Invalid(format!(
                "reason must be 1 to {MAX_HIDE_REASON_CHARS} characters, without control characters"
            )));
        }
        self.booking(booking_id).await?;
        let before = self.store.message(booking_id, message_id).await?.ok_or(ChatError::MessageNotFound)?;
        if before.moderation.is_none() {
            let entry = AuditEntry::new(actor, actions::MESSAGE_HIDDEN)
                .booking(booking_id)
                .target(message_id.to_string())
                .detail(json!({"reason": reason, "sender_id": before.sender_id}));
            self.audit(entry).await?;
        }
        self.tombstone(&before, reason).await
    }

    /// Makes `before` a tombstone with `reason` (unless it has one: the first reason stays), deletes its
    /// files, and tells the booking and the marketplace; the message as it is now.
    pub(super) async fn tombstone(
        &self,
        before: &ChatMessage,
        reason: &str,
    ) -> Result<ChatMessage, ChatError> {
        let (booking_id, message_id) = (before.booking_id, before.id);
        let message = self
            .store
            .hide_message(booking_id, message_id, reason)
            .await?
            .ok_or(ChatError::MessageNotFound)?;
        if before.moderation.is_none() {
            self.delete_files(before).await;
            let change = Change::MessageDeleted { message_id, sender_id: message.sender_id.clone() };
            self.publish(booking_id, now_millis(), change).await;
        }
        let reply = message_updated(message.clone(), vec![]);
        self.notifier.notify(booking_id, reply.frame).await;
        Ok(message)
    }

    /// Appends to the audit log: an operator action that cannot be recorded fails (it has been done,
    /// and the caller retries; a retried action records itself then).
    pub(super) async fn audit(&self, entry: AuditEntry) -> Result<(), ChatError> {
        self.moderation.append_audit(&entry).await?;
        Ok(())
    }

    /// The audit log, oldest first, after `after`; only `booking_id`'s entries when given.
    ///
    /// # Errors
    /// [`ChatError::Unexpected`].
    pub async fn audit_log(
        &self,
        booking_id: Option<BookingId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, ChatError> {
        Ok(match booking_id {
            Some(id) => self.moderation.audit_of_booking(id, after, limit).await?,
            None => self.moderation.audit(after, limit).await?,
        })
    }
}

/// Longest reason the operator gives for hiding a message (the members see it).
pub const MAX_HIDE_REASON_CHARS: usize = 200;
