//! Members' files as the chat store keeps them ([docs/attachments.md](../../docs/attachments.md)): one
//! record per upload, from its form to its message, and on each message the descriptions of its files.
//!
//! A record is created `pending` when a member asks to upload, finished once (`ready` or `rejected`) when
//! the media processor has looked at the bytes, and claimed by one message: the store claims every
//! attachment of a new message in the same write that stores it, on the condition that each is `ready`,
//! the sender's, of this booking and claimed by no message yet, so a file is never on two messages
//! whatever races. A message keeps its files' descriptions (JSON: `messages.attachments` on SQL, `att`
//! on DynamoDB), so reading history costs no extra read; a tombstone keeps none.

use chat_wire::{Attachment, AttachmentStatus, BookingId, MessageId};

use crate::StoreError;

/// One upload's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRecord {
    /// The booking it was uploaded to.
    pub booking_id: BookingId,
    /// Who uploaded it: only they may send it.
    pub uploader_id: String,
    /// What members see of it.
    pub attachment: Attachment,
    /// The message that carries it, once sent.
    pub message_id: Option<MessageId>,
    /// When the upload was asked for, epoch milliseconds.
    pub created_at: i64,
}

/// The status as stored.
pub(crate) fn status_name(status: AttachmentStatus) -> &'static str {
    match status {
        AttachmentStatus::Pending => "pending",
        AttachmentStatus::Ready => "ready",
        AttachmentStatus::Rejected => "rejected",
    }
}

/// A message's attachments as stored: `None` when it has none.
pub(crate) fn to_json(attachments: &[Attachment]) -> Option<String> {
    // Attachments hold strings, numbers and booleans only: serialising cannot fail.
    (!attachments.is_empty()).then(|| serde_json::to_string(attachments).unwrap_or_default())
}

/// A message's attachments read back.
pub(crate) fn from_json(text: Option<&str>) -> Result<Vec<Attachment>, StoreError> {
    text.filter(|t| !t.is_empty()).map_or(Ok(Vec::new()), |text| {
        serde_json::from_str(text).map_err(|e| StoreError::Inconsistent(format!("message attachments: {e}")))
    })
}

/// One attachment's description as stored on its record.
pub(crate) fn describe(attachment: &Attachment) -> String {
    serde_json::to_string(attachment).unwrap_or_default()
}

/// A record's description read back.
pub(crate) fn described(text: &str) -> Result<Attachment, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Inconsistent(format!("attachment record: {e}")))
}
