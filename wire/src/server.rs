//! Frames sent by the server, and the error codes shared by every part.
//!
//! A frame is `{"type": "...", ..., "request_id": "..." (echoed when given), "timestamp": <epoch ms>}`.
//! Only the connection whose frame is answered sees its `request_id`: the copies of a broadcast the other
//! connections receive carry none ([`ServerFrame::without_request_id`]).

use serde::{Deserialize, Serialize};

use crate::{BookingId, MessageId, SearchScope};

/// API Gateway closes every WebSocket two hours after it opened, whatever its token: no connection record
/// may outlive that, and `session` announces it as `closes_at`.
pub const MAX_CONNECTION_SECONDS: i64 = 2 * 60 * 60;

/// What a connection whose token has expired is told before it is closed.
pub const TOKEN_EXPIRED_MESSAGE: &str = "this connection's token has expired; reconnect with a fresh token";

/// How far back of a client's `changed_since` a resuming `sync` looks: writes are stamped by the clock of
/// the backend instance that made them and commit within the backend's timeout (under 30 s), so a change
/// stamped more than this before a `history` answer's `synced_at` was visible to that answer's reads. A
/// resume therefore returns every change the client may have missed, and possibly a few it has already
/// (the client replaces messages by id).
pub const RESUME_MARGIN_MS: i64 = 2 * 60 * 1000;

/// A frame sent to a client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerFrame {
    /// The `type` tag and its fields.
    #[serde(flatten)]
    pub payload: ServerPayload,
    /// The `request_id` of the client frame this answers, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// When the server produced the frame, in milliseconds since the Unix epoch.
    pub timestamp: i64,
}

impl ServerFrame {
    /// A frame answering nothing in particular (a broadcast the client did not ask for).
    pub fn new(payload: ServerPayload, timestamp: i64) -> Self {
        Self { payload, request_id: None, timestamp }
    }

    /// Echoes the `request_id` of the client frame this answers.
    #[must_use]
    pub fn answering(mut self, request_id: Option<String>) -> Self {
        self.request_id = request_id;
        self
    }

    /// The frame as the other connections of a broadcast receive it: without the sender's `request_id`,
    /// which a client numbering its requests 1, 2, 3 would take for the answer to its own.
    #[must_use]
    pub fn without_request_id(self) -> Self {
        Self { request_id: None, ..self }
    }

    /// An `error` frame.
    pub fn error(code: ErrorCode, message: impl Into<String>, timestamp: i64) -> Self {
        Self::new(ServerPayload::Error { error: ErrorBody::new(code, message) }, timestamp)
    }

    /// The frame as JSON text, as it goes on the wire.
    pub fn to_text(&self) -> String {
        // A ServerFrame holds only strings, numbers, booleans and vectors of them: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// The kinds of server frame, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ServerPayload {
    /// A new chat message (also the sender's acknowledgement).
    Message {
        /// The booking the message belongs to.
        booking_id: BookingId,
        /// The stored message.
        message: ChatMessage,
        /// The kinds of contact detail hidden from this message before it was stored, because the
        /// booking is not confirmed yet; absent when none was.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        masked: Vec<ContactKind>,
    },
    /// A page of history, oldest first.
    History {
        /// The booking the messages belong to.
        booking_id: BookingId,
        /// The messages, oldest first.
        messages: Vec<ChatMessage>,
        /// Whether more messages exist beyond this page in the direction asked for.
        has_more: bool,
        /// Where each member has read up to, so a reloaded client shows "seen" at once.
        #[serde(default)]
        read_positions: Vec<ReadPosition>,
        /// Whether each member is online and when they were last seen.
        #[serde(default)]
        presence: Vec<MemberPresence>,
        /// The server's time, in milliseconds since the Unix epoch, when it began reading this page: the
        /// `changed_since` of the client's next resuming `sync` (the first page's, when a resume takes
        /// several). `null` from a server that cannot resume.
        #[serde(default)]
        synced_at: Option<i64>,
        /// Whether the chat may be written in and who blocked whom; absent from servers before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chat_state: Option<ChatStateView>,
    },
    /// A reaction was added or removed.
    Reaction {
        /// The booking of the message.
        booking_id: BookingId,
        /// The message reacted to.
        message_id: MessageId,
        /// Who toggled the reaction.
        user_id: String,
        /// The emoji toggled.
        emoji: String,
        /// `true` if the reaction was added, `false` if it was removed.
        added: bool,
        /// All reactions of the message after the change.
        reactions: Vec<ReactionSummary>,
    },
    /// A user's read position.
    Receipt {
        /// The booking.
        booking_id: BookingId,
        /// Whose receipt this is.
        user_id: String,
        /// The last message that user has read; never moves backwards.
        last_read_message_id: MessageId,
    },
    /// A user started or stopped typing.
    Typing {
        /// The booking.
        booking_id: BookingId,
        /// Who is typing.
        user_id: String,
        /// Whether they are typing now.
        is_typing: bool,
    },
    /// Answer to `ping`.
    Pong,
    /// The booking's status changed.
    BookingStatus {
        /// The booking.
        booking_id: BookingId,
        /// The new status.
        status: String,
        /// The status before the change.
        previous_status: String,
        /// Who changed it.
        changed_by: String,
    },
    /// A member of the booking came online (their first live connection) or went offline (their last one
    /// closed).
    Presence {
        /// The booking.
        booking_id: BookingId,
        /// The member.
        user_id: String,
        /// Whether they have a live connection now.
        online: bool,
        /// When they were last seen online, in milliseconds since the Unix epoch; `null` if never.
        last_seen_at: Option<i64>,
    },
    /// When this connection's token expires and when the gateway closes the connection: the answer to
    /// `session` and to `refresh`. A client renews before `expires_at` (with `refresh`) and reconnects
    /// before `closes_at`.
    Session {
        /// The connection's user.
        user_id: String,
        /// When the connection's token expires, in milliseconds since the Unix epoch.
        expires_at: i64,
        /// When the gateway closes the connection whatever the token (API Gateway's two hours), in
        /// milliseconds since the Unix epoch.
        closes_at: i64,
    },
    /// Something went wrong; the connection stays open (except after `TOKEN_EXPIRED`).
    Error {
        /// What went wrong.
        error: ErrorBody,
    },
    /// A message was edited or deleted: its current state (also the sender's acknowledgement).
    MessageUpdated {
        /// The booking the message belongs to.
        booking_id: BookingId,
        /// The message as it is now: the new body and `edited_at`, or a tombstone (`deleted`).
        message: ChatMessage,
        /// The kinds of contact detail hidden from the edited text (as for [`ServerPayload::Message`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        masked: Vec<ContactKind>,
    },
    /// How many messages of a booking the connection's user has not read, pushed to their user
    /// connections when it changes: when they read (on any of their connections), and when another member
    /// sends a message.
    Unread {
        /// The booking.
        booking_id: BookingId,
        /// Messages of the other member after the user's read position (capped like the inbox's).
        unread_count: u32,
        /// The user's read position; `null` if they have read nothing.
        last_read_message_id: Option<MessageId>,
    },
    /// The user became a member of a booking (a booking created or changed by the marketplace after
    /// their user connection opened), or stopped being one: sent to their user connections, which cover
    /// the booking from now on, or no longer. (A removed member's chat connections of the booking are
    /// told `REMOVED_FROM_BOOKING` and closed instead.)
    Membership {
        /// The booking.
        booking_id: BookingId,
        /// The user whose membership changed.
        user_id: String,
        /// Whether they are a member now.
        member: bool,
    },
    /// Whether the booking's chat may be written in, and who blocked whom: to every connection of the
    /// booking whenever it changes (a block, an unblock, the operator closing or reopening the chat, the
    /// booking ending).
    ChatState {
        /// The booking.
        booking_id: BookingId,
        /// Whether members may write (send, edit, react, type); history stays readable either way.
        writable: bool,
        /// Why the chat is read-only; `null` while it is writable.
        closed: Option<ChatClosure>,
        /// When the chat of a cancelled or completed booking becomes (or became) read-only; `null` while
        /// the booking has not ended, or after the operator reopened it.
        read_only_at: Option<i64>,
        /// Who blocked whom in this booking.
        blocks: Vec<ChatBlock>,
    },
    /// The answer to `upload_attachment`: the pending attachment and the form to upload its file with.
    Upload {
        /// The booking.
        booking_id: BookingId,
        /// The attachment, `pending`.
        attachment: Attachment,
        /// POST the file with this form.
        upload: UploadTarget,
    },
    /// An attachment was processed: `ready`, or `rejected` with why. To the uploader's chat connections
    /// of the booking, by the backend.
    Attachment {
        /// The booking.
        booking_id: BookingId,
        /// The attachment as it is now.
        attachment: Attachment,
    },
    /// The answer to `attachment_url`: where to fetch one file, for a few minutes.
    AttachmentUrl {
        /// The booking.
        booking_id: BookingId,
        /// The attachment.
        attachment_id: String,
        /// Which file.
        variant: AttachmentVariant,
        /// The signed URL; never store it.
        url: String,
        /// When it stops working, epoch milliseconds.
        expires_at: i64,
    },
    /// A member's report was received (to the reporter only).
    ReportReceived {
        /// The booking reported about.
        booking_id: BookingId,
        /// The report's id, for the member's reference.
        report_id: String,
    },
    /// The answer to `search`, to the sender only: a page of the messages that match, newest first.
    SearchResults {
        /// The booking the `search` frame named.
        booking_id: BookingId,
        /// The query as searched (trimmed).
        query: String,
        /// Where it searched.
        scope: SearchScope,
        /// The matches, newest first (ties by booking, then message id).
        results: Vec<SearchResult>,
        /// Whether more matches follow: ask again with `before` = `next`.
        has_more: bool,
        /// The cursor of the next page (opaque); `null` when there is none.
        next: Option<String>,
    },
}

/// One message a search found: where it is and the words around the match. To show it in its
/// context, a client reads history around it (`sync {before_message_id: message_id + 1}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResult {
    /// The message's booking.
    pub booking_id: BookingId,
    /// The message.
    pub message_id: MessageId,
    /// Who sent it.
    pub sender_id: String,
    /// When it was sent, epoch milliseconds.
    pub created_at: i64,
    /// At most about 160 characters of its text around the first matching word, with `…` where the
    /// text was cut.
    pub snippet: String,
}

/// The chat state of a booking as `history` carries it (a `chat_state` frame without its booking).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatStateView {
    /// Whether members may write.
    pub writable: bool,
    /// Why the chat is read-only; `null` while it is writable.
    pub closed: Option<ChatClosure>,
    /// When an ended booking's chat becomes (or became) read-only.
    pub read_only_at: Option<i64>,
    /// Who blocked whom.
    pub blocks: Vec<ChatBlock>,
}

impl ChatStateView {
    /// The `chat_state` frame of `booking_id` showing this state.
    pub fn frame(self, booking_id: BookingId) -> ServerPayload {
        let Self { writable, closed, read_only_at, blocks } = self;
        ServerPayload::ChatState { booking_id, writable, closed, read_only_at, blocks }
    }
}

/// Why a chat is read-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatClosure {
    /// `ended`: the booking was cancelled or completed and its grace period is over; `moderator`: the
    /// marketplace's operator closed it.
    pub reason: ClosureReason,
    /// Since when, epoch milliseconds.
    pub at: i64,
    /// The operator's note to the members, if any.
    pub note: Option<String>,
}

/// Why a chat was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ClosureReason {
    /// The booking ended (cancelled or completed) and the grace period is over.
    Ended,
    /// The operator closed it.
    Moderator,
}

/// One member's block of the other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatBlock {
    /// Who blocked.
    pub user_id: String,
    /// Who is blocked: they cannot write in the booking's chat while the block stands.
    pub blocked_user_id: String,
    /// When, epoch milliseconds.
    pub at: i64,
}

impl ServerPayload {
    /// The frame's `type` tag.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Message { .. } => "message",
            Self::History { .. } => "history",
            Self::Reaction { .. } => "reaction",
            Self::Receipt { .. } => "receipt",
            Self::Typing { .. } => "typing",
            Self::Pong => "pong",
            Self::BookingStatus { .. } => "booking_status",
            Self::Session { .. } => "session",
            Self::Presence { .. } => "presence",
            Self::Error { .. } => "error",
            Self::MessageUpdated { .. } => "message_updated",
            Self::Unread { .. } => "unread",
            Self::Membership { .. } => "membership",
            Self::ChatState { .. } => "chat_state",
            Self::ReportReceived { .. } => "report_received",
            Self::Upload { .. } => "upload",
            Self::Attachment { .. } => "attachment",
            Self::AttachmentUrl { .. } => "attachment_url",
            Self::SearchResults { .. } => "search_results",
        }
    }
}

/// A kind of contact detail the chat hides while a booking is not confirmed (`docs/protocol.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ContactKind {
    /// A phone number, international or national, in digits or in English digit words.
    Phone,
    /// An email address, plain or spelled out ("john at gmail dot com").
    Email,
    /// A link, with or without its scheme (`https://…`, `www.…`, `example.com/x`).
    Link,
    /// A messaging handle: `@name`, or a service's name and an id (`telegram: johnd`).
    Handle,
}

impl ContactKind {
    /// Every kind, in order.
    pub const ALL: [ContactKind; 4] = [Self::Phone, Self::Email, Self::Link, Self::Handle];

    /// The kind's name in settings and on the wire: `phone`, `email`, `link` or `handle`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Link => "link",
            Self::Handle => "handle",
        }
    }

    /// Reads a comma-separated list of kinds (`"phone,email,link,handle"`; spaces and case are ignored,
    /// an empty list hides nothing), sorted and without duplicates.
    ///
    /// # Errors
    /// A message naming the entry that is not a kind.
    pub fn parse_list(list: &str) -> Result<Vec<ContactKind>, String> {
        let mut kinds = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            let kind = Self::ALL
                .into_iter()
                .find(|kind| kind.as_str().eq_ignore_ascii_case(entry))
                .ok_or_else(|| {
                    format!("unknown contact kind {entry:?}: expected a comma-separated list of phone, email, link, handle")
                })?;
            kinds.push(kind);
        }
        kinds.sort_unstable();
        kinds.dedup();
        Ok(kinds)
    }

    /// What replaces a detail of this kind, so that any client shows why without code of its own.
    pub fn placeholder(self) -> &'static str {
        match self {
            Self::Phone => "[phone number hidden until the booking is confirmed]",
            Self::Email => "[email address hidden until the booking is confirmed]",
            Self::Link => "[link hidden until the booking is confirmed]",
            Self::Handle => "[messaging handle hidden until the booking is confirmed]",
        }
    }
}

/// A stored chat message as clients see it.
///
/// `edited_at` and `deleted` are always written; a frame from an older producer without them reads as a
/// message never edited nor deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatMessage {
    /// Assigned by the backend; increasing within a booking.
    pub id: MessageId,
    /// The booking (chat room).
    pub booking_id: BookingId,
    /// The author's user id.
    pub sender_id: String,
    /// The text.
    pub body: String,
    /// The author's idempotency key, if it sent one.
    pub client_message_id: Option<String>,
    /// When the backend stored it, in milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Reactions, one entry per emoji, in the order they were first used.
    pub reactions: Vec<ReactionSummary>,
    /// When the author last edited it, in milliseconds since the Unix epoch; `null` if never.
    #[serde(default)]
    pub edited_at: Option<i64>,
    /// The author deleted it: a tombstone that keeps its id, so history has no gap; `body` is empty and
    /// `reactions` is empty.
    #[serde(default)]
    pub deleted: bool,
    /// Set when the marketplace's operator hid the message (a tombstone, `deleted` true): why, and
    /// when. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<Moderation>,
    /// Its files, all `ready`; none on a tombstone. Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// A file attached to a message ([docs/attachments.md](../../docs/attachments.md)). Its files are fetched
/// with `attachment_url`; no URL is ever part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// `att_` and 32 hex digits.
    pub id: String,
    /// The file name the member gave it (its last path segment).
    pub name: String,
    /// The type the processor found in the bytes (the declared one while `pending`).
    pub content_type: String,
    /// Its size in bytes, as stored (the declared one while `pending`).
    pub size: u64,
    /// Where it is in its life.
    pub status: AttachmentStatus,
    /// An image's width in pixels, upright.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// An image's height in pixels, upright.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Whether a thumbnail exists (images).
    #[serde(default)]
    pub thumbnail: bool,
    /// Why it was rejected, in words for the member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where an attachment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AttachmentStatus {
    /// Waiting for its upload, or being processed.
    Pending,
    /// Processed: it may be sent and downloaded.
    Ready,
    /// Refused by the processor (see `reason`).
    Rejected,
}

/// Which file of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AttachmentVariant {
    /// The file, metadata stripped.
    #[default]
    Original,
    /// The thumbnail of an image (JPEG, at most 320 px on its long side).
    Thumbnail,
}

/// A form to upload a file with: a multipart/form-data POST to `url` of every field, then the file as
/// the last part, named `file` (S3's browser-based upload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadTarget {
    /// Where to POST.
    pub url: String,
    /// `POST`.
    pub method: String,
    /// The fields, sent before the file.
    pub fields: std::collections::BTreeMap<String, String>,
    /// When the form stops being accepted, epoch milliseconds.
    pub expires_at: i64,
}

/// Why and when the operator hid a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Moderation {
    /// The reason shown to the members, e.g. "Removed by the marketplace: spam".
    pub reason: String,
    /// When, epoch milliseconds.
    pub at: i64,
}

/// How far one member of a booking has read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadPosition {
    /// The member.
    pub user_id: String,
    /// The last message they have read; never moves backwards.
    pub last_read_message_id: MessageId,
}

/// Whether one member of a booking is online, and when they were last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberPresence {
    /// The member.
    pub user_id: String,
    /// Whether they have a live connection to the booking.
    pub online: bool,
    /// When they were last seen online, in milliseconds since the Unix epoch (now-ish while online);
    /// `null` if never.
    pub last_seen_at: Option<i64>,
}

/// The reactions of one emoji on one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReactionSummary {
    /// The emoji.
    pub emoji: String,
    /// How many users reacted with it.
    pub count: u32,
    /// Who reacted with it.
    pub user_ids: Vec<String>,
}

/// The `error` object of an error frame or an error HTTP response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation; never contains internals.
    pub message: String,
}

impl ErrorBody {
    /// An error body.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

/// The error codes every part uses (`docs/protocol.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    /// Missing, malformed or forged token (an expired one is [`ErrorCode::TokenExpired`]).
    AuthenticationError,
    /// The token has expired. On a WebSocket the connection is closed after this frame: reconnect with a
    /// fresh token, or renew it with `refresh` before it expires.
    TokenExpired,
    /// The user may not do this (not a member of the booking, not its owner).
    AuthorizationError,
    /// The request is malformed or breaks a rule.
    ValidationError,
    /// The frame or body is larger than allowed.
    PayloadTooLarge,
    /// The user sends too fast.
    RateLimited,
    /// The booking or message does not exist.
    NotFound,
    /// The backend could not be reached in time or failed.
    BackendUnavailable,
    /// A bug or an infrastructure failure; details are in the logs only.
    InternalError,
    /// The marketplace removed the user from the booking: on a WebSocket the connection is closed after
    /// this frame, and reconnecting to the booking is refused (403).
    RemovedFromBooking,
    /// The other member blocked the caller: they cannot send, edit, react or type in this booking.
    Blocked,
    /// The booking's chat is read-only (ended past its grace period, or closed by the operator).
    ChatClosed,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthenticationError => "AUTHENTICATION_ERROR",
            Self::TokenExpired => "TOKEN_EXPIRED",
            Self::AuthorizationError => "AUTHORIZATION_ERROR",
            Self::ValidationError => "VALIDATION_ERROR",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::RateLimited => "RATE_LIMITED",
            Self::NotFound => "NOT_FOUND",
            Self::BackendUnavailable => "BACKEND_UNAVAILABLE",
            Self::InternalError => "INTERNAL_ERROR",
            Self::RemovedFromBooking => "REMOVED_FROM_BOOKING",
            Self::Blocked => "BLOCKED",
            Self::ChatClosed => "CHAT_CLOSED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frames_are_tagged_by_type_with_request_id_and_timestamp() {
        let frame = ServerFrame::new(ServerPayload::Pong, 1700).answering(Some("r9".into()));
        assert_eq!(frame.payload.type_name(), "pong");
        assert_eq!(
            serde_json::to_value(&frame).expect("serialise"),
            json!({"type": "pong", "request_id": "r9", "timestamp": 1700})
        );
    }

    #[test]
    fn the_copies_of_a_broadcast_for_others_carry_no_request_id() {
        let frame = ServerFrame::new(ServerPayload::Pong, 1700).answering(Some("1".into()));
        let others = serde_json::to_value(frame.clone().without_request_id()).expect("serialise");
        assert_eq!(others, json!({"type": "pong", "timestamp": 1700}));
        assert_eq!(frame.request_id.as_deref(), Some("1"), "the sender's copy keeps it");
    }

    #[test]
    fn error_frame_has_the_design_shape() {
        let frame = ServerFrame::error(ErrorCode::PayloadTooLarge, "too big", 5);
        assert_eq!(
            serde_json::to_value(&frame).expect("serialise"),
            json!({"type": "error", "error": {"code": "PAYLOAD_TOO_LARGE", "message": "too big"}, "timestamp": 5})
        );
    }

    #[test]
    fn frames_round_trip() {
        let frame = ServerFrame::new(
            ServerPayload::Message {
                booking_id: 1,
                message: ChatMessage {
                    id: 3,
                    booking_id: 1,
                    sender_id: "alice".into(),
                    body: "hi".into(),
                    client_message_id: None,
                    created_at: 9,
                    reactions: vec![],
                    edited_at: None,
                    deleted: false,
                    moderation: None,
                    attachments: Vec::new(),
                },
                masked: vec![],
            },
            10,
        );
        let back: ServerFrame = serde_json::from_str(&frame.to_text()).expect("parse");
        assert_eq!(back, frame);
        assert!(!frame.to_text().contains("masked"), "absent when nothing was hidden");
        let ServerPayload::Message { booking_id, message, .. } = frame.payload else { unreachable!() };
        let masked = ServerPayload::Message {
            booking_id,
            message,
            masked: vec![ContactKind::Phone, ContactKind::Link],
        };
        let text = ServerFrame::new(masked, 10).to_text();
        assert!(text.contains(r#""masked":["phone","link"]"#), "{text}");
    }

    #[test]
    fn contact_kinds_parse_from_a_list_and_say_why_they_are_hidden() {
        assert_eq!(
            ContactKind::parse_list(" phone, link,phone,"),
            Ok(vec![ContactKind::Phone, ContactKind::Link])
        );
        assert_eq!(ContactKind::parse_list(""), Ok(vec![]));
        assert!(ContactKind::parse_list("phone,fax").expect_err("fax").contains("fax"));
        assert!(ContactKind::ALL.iter().all(|k| k.placeholder().contains("confirmed")));
    }

    #[test]
    fn error_codes_serialise_as_their_names() {
        for code in [
            ErrorCode::AuthenticationError,
            ErrorCode::TokenExpired,
            ErrorCode::AuthorizationError,
            ErrorCode::ValidationError,
            ErrorCode::PayloadTooLarge,
            ErrorCode::RateLimited,
            ErrorCode::NotFound,
            ErrorCode::BackendUnavailable,
            ErrorCode::InternalError,
            ErrorCode::RemovedFromBooking,
        ] {
            assert_eq!(serde_json::to_value(code).expect("ser"), json!(code.as_str()));
        }
    }

    fn message() -> ChatMessage {
        ChatMessage {
            id: 3,
            booking_id: 1,
            sender_id: "alice".into(),
            body: "hi".into(),
            client_message_id: None,
            created_at: 9,
            reactions: vec![],
            edited_at: None,
            deleted: false,
            moderation: None,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_message_always_says_whether_it_was_edited_or_deleted() {
        let written = serde_json::to_value(message()).expect("serialise");
        assert_eq!(written["edited_at"], json!(null));
        assert_eq!(written["deleted"], json!(false));
        let edited = ChatMessage { edited_at: Some(20), ..message() };
        assert_eq!(serde_json::to_value(edited).expect("serialise")["edited_at"], json!(20));
    }

    #[test]
    fn a_message_from_an_older_producer_without_the_edit_fields_still_parses() {
        let old = json!({"id": 3, "booking_id": 1, "sender_id": "alice", "body": "hi",
            "client_message_id": null, "created_at": 9, "reactions": []});
        assert_eq!(serde_json::from_value::<ChatMessage>(old).expect("parse"), message());
    }

    #[test]
    fn unread_names_its_booking_count_and_position() {
        let frame = ServerFrame::new(
            ServerPayload::Unread { booking_id: 4, unread_count: 0, last_read_message_id: Some(9) },
            3,
        );
        assert_eq!(frame.payload.type_name(), "unread");
        assert_eq!(
            serde_json::to_value(&frame).expect("serialise"),
            json!({"type": "unread", "booking_id": 4, "unread_count": 0, "last_read_message_id": 9, "timestamp": 3})
        );
        let back: ServerFrame = serde_json::from_str(&frame.to_text()).expect("parse");
        assert_eq!(back, frame);
    }

    #[test]
    fn message_updated_carries_the_message_as_it_is_now() {
        let tombstone = ChatMessage { body: String::new(), deleted: true, ..message() };
        let frame = ServerFrame::new(
            ServerPayload::MessageUpdated { booking_id: 1, message: tombstone, masked: vec![] },
            30,
        )
        .answering(Some("d1".into()));
        assert_eq!(frame.payload.type_name(), "message_updated");
        let written = serde_json::to_value(&frame).expect("serialise");
        assert_eq!(written["type"], "message_updated");
        assert_eq!(written["message"]["deleted"], true);
        assert_eq!(written["request_id"], "d1");
        let back: ServerFrame = serde_json::from_value(written).expect("parse");
        assert_eq!(back, frame);
    }
}
