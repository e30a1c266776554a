//! A user's export (docs/privacy.md; its shape is `docs/export.schema.json`): everything the chat holds
//! about one user, as one JSON document written piece by piece into a bounded channel, so memory holds a
//! page of messages, never the whole document, and a reader that goes away stops the writer.
//!
//! The document ends with `"complete": true`; when a read fails half-way the stream ends in an error
//! instead, so the reader never holds a document that looks whole and is not.

use std::sync::Arc;

use chat_store::domain::Booking;
use chat_store::moderation::{AuditEntry, actions};
use chat_wire::time::now_millis;
use futures_util::stream::BoxStream;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::user_data::{Pages, reactions_of, valid_user_id};
use super::{ChatError, ChatService};

/// The `format` of the document: its schema's name and version.
pub const EXPORT_FORMAT: &str = "booking-chat.user-export/1";

/// Pieces that may wait for a slow reader.
const BUFFERED_PIECES: usize = 16;

/// The export as it is written: pieces of JSON text, or an error that ends it.
pub type ExportStream = BoxStream<'static, Result<String, std::io::Error>>;

/// Where the writer puts the pieces; `Err(())` once the reader went away.
struct Out(mpsc::Sender<Result<String, std::io::Error>>);

impl Out {
    async fn put(&self, piece: impl Into<String>) -> Result<(), Stop> {
        self.0.send(Ok(piece.into())).await.map_err(|_| Stop::ReaderGone)
    }

    async fn json(&self, value: &impl Serialize) -> Result<(), Stop> {
        self.put(to_text(value)?).await
    }
}

/// `value` as JSON text (the export's values are plain data: this fails only on a bug).
fn to_text(value: &impl Serialize) -> Result<String, Stop> {
    serde_json::to_string(value).map_err(|e| Stop::Failed(ChatError::Invalid(format!("export: {e}"))))
}

/// The member's notification settings as exported: their push subscriptions without the browsers'
/// keys (a secret of each browser, useless to the member).
fn exported_settings(settings: &chat_store::notifications::NotificationSettings) -> Value {
    let mut value = serde_json::to_value(settings).unwrap_or(Value::Null);
    if let Some(Value::Array(subscriptions)) = value.get_mut("push_subscriptions") {
        for subscription in subscriptions.iter_mut().filter_map(Value::as_object_mut) {
            subscription.remove("keys");
        }
    }
    value
}

/// Why the writer stopped early.
enum Stop {
    ReaderGone,
    Failed(ChatError),
}

impl From<ChatError> for Stop {
    fn from(error: ChatError) -> Self {
        Self::Failed(error)
    }
}

impl From<chat_store::StoreError> for Stop {
    fn from(error: chat_store::StoreError) -> Self {
        Self::Failed(error.into())
    }
}

impl ChatService {
    /// Starts `user_id`'s export for `actor` (recorded in the audit log first): the document's pieces.
    ///
    /// # Errors
    /// [`ChatError::Invalid`] for a malformed user id, [`ChatError::Unexpected`] when the audit log
    /// cannot be written. Later failures end the stream with an error.
    pub async fn export_user(
        self: &Arc<Self>,
        user_id: &str,
        actor: &str,
    ) -> Result<ExportStream, ChatError> {
        valid_user_id(user_id)?;
        self.audit(AuditEntry::new(actor, actions::USER_EXPORTED).target(user_id.to_owned())).await?;
        let (tx, mut rx) = mpsc::channel(BUFFERED_PIECES);
        let (service, user_id) = (Arc::clone(self), user_id.to_owned());
        tokio::spawn(async move {
            let out = Out(tx);
            if let Err(Stop::Failed(error)) = service.write_export(&user_id, &out).await {
                tracing::error!(error = %error, "a user's export failed half-way");
                let _ = out.0.send(Err(std::io::Error::other("the export failed; ask again"))).await;
            }
        });
        let pieces = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        Ok(Box::pin(pieces))
    }

    async fn write_export(&self, user_id: &str, out: &Out) -> Result<(), Stop> {
        let settings = self.store.notification_settings(user_id).await?;
        let head = json!({
            "format": EXPORT_FORMAT,
            "user_id": user_id,
            "exported_at": now_millis(),
            "notification_settings": (settings.version > 0).then(|| exported_settings(&settings.settings)),
        });
        let head = to_text(&head)?;
        // The head's closing brace makes way for the bookings.
        out.put(format!("{},\"bookings\":[", head.trim_end_matches('}'))).await?;
        for (index, booking) in self.bookings_of_member(user_id).await?.iter().enumerate() {
            if index > 0 {
                out.put(",").await?;
            }
            self.write_booking(booking, user_id, out).await?;
        }
        out.put("],\"reports\":").await?;
        // What the member wrote and what became of it; the operator's note and name are the operator's.
        let reports: Vec<Value> = self
            .moderation
            .reports_by(user_id)
            .await?
            .into_iter()
            .map(|r| {
                json!({
                    "report_id": r.id, "booking_id": r.booking_id, "reported_user_id": r.reported_user_id,
                    "message_id": r.message_id, "reason": r.reason, "details": r.details,
                    "created_at": r.created_at, "status": r.status(),
                    "outcome": r.resolution.as_ref().map(|resolution| resolution.outcome),
                })
            })
            .collect();
        out.json(&reports).await?;
        out.put(",\"complete\":true}").await
    }

    /// One booking's part: what the user wrote, reacted, uploaded, read and blocked in it.
    async fn write_booking(&self, booking: &Booking, user_id: &str, out: &Out) -> Result<(), Stop> {
        let role = if booking.owner_id == user_id { "owner" } else { "renter" };
        let head =
            json!({"booking_id": booking.id, "title": booking.title, "role": role, "status": booking.status});
        let head = to_text(&head)?;
        out.put(format!("{},\"messages\":[", head.trim_end_matches('}'))).await?;
        let mut reactions: Vec<Value> = Vec::new();
        let (mut pages, mut first) = (Pages::of(booking.id), true);
        while let Some(page) = pages.next(self).await? {
            for message in &page {
                for summary in reactions_of(message, user_id) {
                    reactions.push(json!({"message_id": message.id, "emoji": summary.emoji}));
                }
                if message.sender_id == user_id {
                    out.put(if first { "" } else { "," }).await?;
                    out.json(message).await?;
                    first = false;
                }
            }
        }
        let data = self.store.user_data();
        let uploads: Vec<Value> = data
            .uploads_of(booking.id, user_id)
            .await?
            .into_iter()
            .map(|r| json!({"attachment": r.attachment, "message_id": r.message_id, "created_at": r.created_at}))
            .collect();
        let blocks: Vec<_> = booking.chat.blocks.iter().filter(|b| b.user_id == user_id).collect();
        let rest = json!({
            "reactions": reactions,
            "uploads": uploads,
            "member_state": data.member_state(booking.id, user_id).await?,
            "blocks": blocks,
        });
        let rest = to_text(&rest)?;
        out.put(format!("],{}", rest.trim_start_matches('{'))).await
    }
}
