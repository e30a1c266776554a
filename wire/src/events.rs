//! Chat events for the app: what happened in a booking's chat, published once per change to the
//! deployment's event bus (Amazon EventBridge on AWS, a JSON-lines file under `make dev`) so that the
//! marketplace can act on it (its own push service, analytics, a webhook). `docs/events.md` is the
//! contract and `docs/events.schema.json` its JSON Schema, held to these types by `wire/tests/events.rs`.
//!
//! Versioned: `version` is [`EVENTS_VERSION`]; a field may be added within a version, never removed or
//! changed in meaning. Delivery is at least once (EventBridge retries its targets): `id` is the same for
//! every delivery of one change, so consumers de-duplicate by it.

use serde::{Deserialize, Serialize};

use crate::server::ChatMessage;
use crate::{BookingId, MessageId};

/// The events' schema version.
pub const EVENTS_VERSION: u32 = 1;

/// The `Source` of every EventBridge entry the chat publishes.
pub const EVENT_SOURCE: &str = "booking-chat";

/// One change in a booking's chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatEvent {
    /// [`EVENTS_VERSION`].
    pub version: u32,
    /// The same for every delivery of this change (see [`ChatEvent::new`]).
    pub id: String,
    /// When the change happened, epoch milliseconds.
    pub occurred_at: i64,
    /// The booking whose chat changed.
    pub booking_id: BookingId,
    /// What happened (`type`, and its fields beside the ones above).
    #[serde(flatten)]
    pub change: Change,
}

/// What happened. The `type` is also the EventBridge entry's `DetailType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Change {
    /// A message was sent (once per message: a retried `client_message_id` publishes nothing more).
    /// `recipients` are the members who did not send it.
    #[serde(rename = "message.created")]
    MessageCreated {
        /// The message as stored.
        message: ChatMessage,
        /// The members who should read it.
        recipients: Vec<String>,
    },
    /// A message's text was edited; `message` is as it is now.
    #[serde(rename = "message.edited")]
    MessageEdited {
        /// The message with its new text.
        message: ChatMessage,
    },
    /// A message became a tombstone (its text and reactions are gone).
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        /// The deleted message.
        message_id: MessageId,
        /// Its author, who deleted it.
        sender_id: String,
    },
    /// A member's read position moved forward to `last_read_message_id`.
    #[serde(rename = "message.read")]
    MessageRead {
        /// The reader.
        user_id: String,
        /// The last message they have read now.
        last_read_message_id: MessageId,
    },
    /// The booking's status changed; `changed_by` is the owner's user id, or `service` for the marketplace.
    #[serde(rename = "booking.status_changed")]
    BookingStatusChanged {
        /// The status now.
        status: String,
        /// The status before.
        previous_status: String,
        /// Who changed it.
        changed_by: String,
    },
    /// A member blocked the other: the blocked member can no longer write in this booking's chat.
    #[serde(rename = "member.blocked")]
    MemberBlocked {
        /// Who blocked.
        user_id: String,
        /// Who is blocked.
        blocked_user_id: String,
    },
    /// A member lifted their block of the other.
    #[serde(rename = "member.unblocked")]
    MemberUnblocked {
        /// Who lifted it.
        user_id: String,
        /// Who was blocked.
        blocked_user_id: String,
    },
    /// A member reported a message or the other member (the report's own words are not in the event:
    /// the operator reads them through the moderation API).
    #[serde(rename = "member.reported")]
    MemberReported {
        /// The report's id.
        report_id: String,
        /// Who reported.
        reporter_id: String,
        /// Who is reported.
        reported_user_id: String,
        /// The message reported, if one was.
        message_id: Option<MessageId>,
        /// Why.
        reason: crate::ReportReason,
    },
}

impl Change {
    /// The event's `type`: `message.created` and so on.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MessageCreated { .. } => "message.created",
            Self::MessageEdited { .. } => "message.edited",
            Self::MessageDeleted { .. } => "message.deleted",
            Self::MessageRead { .. } => "message.read",
            Self::BookingStatusChanged { .. } => "booking.status_changed",
            Self::MemberBlocked { .. } => "member.blocked",
            Self::MemberUnblocked { .. } => "member.unblocked",
            Self::MemberReported { .. } => "member.reported",
        }
    }

    /// What makes this change unique within its booking and type: a message's id (and its edit time: a
    /// message is edited more than once), a read position, a status change's time.
    fn key(&self, occurred_at: i64) -> String {
        match self {
            Self::MessageCreated { message, .. } => message.id.to_string(),
            Self::MessageEdited { message } => {
                format!("{}.{}", message.id, message.edited_at.unwrap_or(occurred_at))
            }
            Self::MessageDeleted { message_id, .. } => message_id.to_string(),
            Self::MessageRead { user_id, last_read_message_id } => {
                format!("{user_id}.{last_read_message_id}")
            }
            Self::BookingStatusChanged { status, .. } => format!("{status}.{occurred_at}"),
            Self::MemberBlocked { user_id, .. } | Self::MemberUnblocked { user_id, .. } => {
                format!("{user_id}.{occurred_at}")
            }
            Self::MemberReported { report_id, .. } => report_id.clone(),
        }
    }
}

impl ChatEvent {
    /// The event of `change` in `booking_id` at `occurred_at`. Its id is derived from the change (for
    /// example `1/message.created/42`), so a change published twice carries one id.
    pub fn new(booking_id: BookingId, occurred_at: i64, change: Change) -> Self {
        let id = format!("{booking_id}/{}/{}", change.kind(), change.key(occurred_at));
        Self { version: EVENTS_VERSION, id, occurred_at, booking_id, change }
    }
}
