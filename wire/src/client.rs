//! Frames sent by clients, and their parsing.
//!
//! The canonical shape is `{"action": "send_message", "data": {...}, "request_id": "..."}`. Two shapes of the
//! frontend we replace are accepted too: `{"body": "Hello"}` is a `send_message`, and
//! `{"type": "reaction", "emoji": "👍", "message_id": 123}` is a `react`. Parsing never panics and every
//! failure names what was wrong, so it can be sent back to the client as a `VALIDATION_ERROR` frame.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::MessageId;

/// Longest `request_id` accepted. It is echoed in every answer, so an unbounded one would let a client
/// push answers over API Gateway's 128 KB message limit.
pub const MAX_REQUEST_ID_CHARS: usize = 128;

/// A parsed client frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFrame {
    /// What the client asks for.
    pub action: ClientAction,
    /// Client-chosen id echoed in the answer, so a client can match answers to requests.
    pub request_id: Option<String>,
}

/// The actions a client may ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientAction {
    /// Post a chat message. Idempotent per (booking, sender, `client_message_id`).
    SendMessage {
        /// The text of the message.
        body: String,
        /// Client-chosen id making retries safe; absent in the legacy `{"body": ...}` frame.
        client_message_id: Option<String>,
        /// Ids of the sender's ready attachments to carry; the body may be empty when there are some.
        attachments: Vec<String>,
    },
    /// Toggle a reaction of the sender on a message.
    React {
        /// The message reacted to; must belong to the same booking.
        message_id: MessageId,
        /// A single emoji.
        emoji: String,
    },
    /// Mark everything up to `message_id` as read.
    Read {
        /// The last message the sender has read.
        message_id: MessageId,
    },
    /// Typing indicator; relayed, never stored.
    Typing {
        /// Whether the sender is typing now.
        is_typing: bool,
    },
    /// History, or resume after a reconnect.
    Sync {
        /// Only messages after this id. Without it (and without `resume`), the latest page.
        after_message_id: Option<MessageId>,
        /// Only messages before this id (scrolling back). Ignored when `after_message_id` is given.
        before_message_id: Option<MessageId>,
        /// Resume after a gap: every message the client holds that changed since it last synced, and every
        /// newer one. Wins over `after_message_id` and `before_message_id`.
        resume: Option<Resume>,
        /// Page size; the server caps it.
        limit: Option<u32>,
    },
    /// Liveness check; answered with `pong`.
    Ping,
    /// Renew this connection's token without reconnecting: answered with `session`.
    Refresh {
        /// The new token: the same user's, still a member of the booking.
        token: String,
    },
    /// Ask when this connection's token expires and when the gateway closes it: answered with `session`.
    Session,
    /// Replace the text of one of the sender's own messages, within the edit window.
    EditMessage {
        /// The message to edit; must be the sender's own, in the same booking, not deleted.
        message_id: MessageId,
        /// The new text, validated as a `send_message` body.
        body: String,
    },
    /// Delete one of the sender's own messages, within the edit window: it becomes a tombstone (empty
    /// body, no reactions) that keeps its id. Deleting it again answers the same tombstone.
    DeleteMessage {
        /// The message to delete; must be the sender's own, in the same booking.
        message_id: MessageId,
    },
    /// Block the other member of the booking: they can no longer write in its chat. Answered with
    /// `chat_state` to the booking; blocking again changes nothing.
    Block,
    /// Lift the sender's block of the other member. Answered with `chat_state`.
    Unblock,
    /// Ask to upload a file: answered with `upload` (the pending attachment and its form).
    UploadAttachment {
        /// The file's name.
        name: String,
        /// The type the file is declared as.
        content_type: String,
        /// Its size in bytes.
        size: u64,
    },
    /// Ask how an attachment is now: answered with `attachment` (as the push after processing), so a
    /// client that missed the push (a dropped connection) learns the verdict.
    GetAttachment {
        /// The attachment: the sender's own, or one on a message of this booking.
        attachment_id: String,
    },
    /// Ask for a URL of one of an attachment's files: answered with `attachment_url`.
    AttachmentUrl {
        /// The attachment, of a message of this booking (or the sender's own upload).
        attachment_id: String,
        /// The file or its thumbnail.
        variant: crate::AttachmentVariant,
    },
    /// Report a message, or the other member, to the marketplace. Answered with `report_received` to
    /// the sender only.
    Report {
        /// Why.
        reason: ReportReason,
        /// The message reported; absent to report the other member.
        message_id: Option<MessageId>,
        /// The member's own words, at most [`MAX_REPORT_DETAILS_CHARS`] characters.
        details: Option<String>,
    },
    /// Search the history of the frame's booking, or of every booking of the sender, by words: answered
    /// with `search_results` to the sender only. The server checks the query and the limit
    /// (`chat_store::search`).
    Search {
        /// The words to find, as typed: every word must match.
        query: String,
        /// The frame's booking (the default) or all the sender's bookings.
        scope: SearchScope,
        /// Only results after this cursor: the `next` of an earlier answer.
        before: Option<String>,
        /// How many results, at most; the server's default when absent.
        limit: Option<u32>,
    },
}

/// Where a `search` looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SearchScope {
    /// The booking the frame is about.
    #[default]
    Booking,
    /// Every booking of the sender (the most recently active ones a user connection covers).
    All,
}

/// Longest `details` of a report.
pub const MAX_REPORT_DETAILS_CHARS: usize = 1000;

/// Why a member reports a message or a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ReportReason {
    /// Unwanted advertising or repeated messages.
    Spam,
    /// An attempt to defraud (fake payment, a deposit asked for outside the marketplace).
    Scam,
    /// Insults, threats, harassment.
    Harassment,
    /// Asking to talk or pay outside the marketplace.
    OffPlatform,
    /// Sexual, violent or otherwise inappropriate content.
    Inappropriate,
    /// Anything else (say what in `details`).
    Other,
}

impl ReportReason {
    /// Every reason, in the order above.
    pub const ALL: [Self; 6] =
        [Self::Spam, Self::Scam, Self::Harassment, Self::OffPlatform, Self::Inappropriate, Self::Other];

    /// The reason as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spam => "spam",
            Self::Scam => "scam",
            Self::Harassment => "harassment",
            Self::OffPlatform => "off_platform",
            Self::Inappropriate => "inappropriate",
            Self::Other => "other",
        }
    }

    /// The reason of a wire name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == name)
    }
}

impl ClientAction {
    /// The action's wire name, for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::SendMessage { .. } => "send_message",
            Self::React { .. } => "react",
            Self::Read { .. } => "read",
            Self::Typing { .. } => "typing",
            Self::Sync { .. } => "sync",
            Self::Ping => "ping",
            Self::Refresh { .. } => "refresh",
            Self::Session => "session",
            Self::EditMessage { .. } => "edit_message",
            Self::DeleteMessage { .. } => "delete_message",
            Self::Block => "block",
            Self::Unblock => "unblock",
            Self::Report { .. } => "report",
            Self::UploadAttachment { .. } => "upload_attachment",
            Self::AttachmentUrl { .. } => "attachment_url",
            Self::GetAttachment { .. } => "get_attachment",
            Self::Search { .. } => "search",
        }
    }
}

/// What a resuming `sync` says about the client's copy of a booking: it holds messages from
/// `from_message_id` on, as they were at `changed_since`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// The oldest message the client holds: changes to older ones do not concern it.
    pub from_message_id: MessageId,
    /// The `synced_at` of the client's last complete `sync` (the first page's, when it took several).
    pub changed_since: i64,
}

/// Why a client frame could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The text is not JSON.
    #[error("frame is not valid JSON: {0}")]
    NotJson(String),
    /// The JSON is not an object.
    #[error("frame must be a JSON object")]
    NotAnObject,
    /// Neither `action` nor one of the compatibility shapes.
    #[error("frame has no \"action\"")]
    MissingAction,
    /// `action` names nothing we know.
    #[error("unknown action {0:?}")]
    UnknownAction(String),
    /// The action's data is missing a field or has one of the wrong type.
    #[error("invalid data for {action}: {reason}")]
    InvalidData {
        /// The action whose data was wrong.
        action: &'static str,
        /// What was wrong, as serde says it.
        reason: String,
    },
    /// `request_id` is neither a string nor an integer, or is longer than [`MAX_REQUEST_ID_CHARS`].
    #[error("request_id must be an integer or a string of at most {MAX_REQUEST_ID_CHARS} characters")]
    InvalidRequestId,
}

#[derive(Deserialize)]
struct SendMessageData {
    // Absent only beside attachments.
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    client_message_id: Option<String>,
    #[serde(default)]
    attachments: Vec<String>,
}

#[derive(Deserialize)]
struct UploadAttachmentData {
    name: String,
    content_type: String,
    size: u64,
}

#[derive(Deserialize)]
struct GetAttachmentData {
    attachment_id: String,
}

#[derive(Deserialize)]
struct AttachmentUrlData {
    attachment_id: String,
    #[serde(default)]
    variant: crate::AttachmentVariant,
}

#[derive(Deserialize)]
struct ReactData {
    message_id: MessageId,
    emoji: String,
}

#[derive(Deserialize)]
struct ReadData {
    message_id: MessageId,
}

#[derive(Deserialize)]
struct TypingData {
    is_typing: bool,
}

#[derive(Deserialize)]
struct RefreshData {
    token: String,
}

#[derive(Deserialize)]
struct EditMessageData {
    message_id: MessageId,
    body: String,
}

#[derive(Deserialize)]
struct DeleteMessageData {
    message_id: MessageId,
}

#[derive(Deserialize)]
struct ReportData {
    reason: ReportReason,
    #[serde(default)]
    message_id: Option<MessageId>,
    #[serde(default)]
    details: Option<String>,
}

#[derive(Deserialize)]
struct SearchData {
    query: String,
    #[serde(default)]
    scope: SearchScope,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Deserialize, Default)]
struct SyncData {
    #[serde(default)]
    after_message_id: Option<MessageId>,
    #[serde(default)]
    before_message_id: Option<MessageId>,
    #[serde(default)]
    from_message_id: Option<MessageId>,
    #[serde(default)]
    changed_since: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

/// A frame that could not be understood: why, and its `request_id` when it had a usable one, so that even
/// the error answering it can be matched to the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct FrameRejection {
    /// What was wrong.
    pub error: FrameError,
    /// The frame's `request_id`, if it had a valid one.
    pub request_id: Option<String>,
}

impl From<FrameError> for FrameRejection {
    fn from(error: FrameError) -> Self {
        Self { error, request_id: None }
    }
}

impl ClientFrame {
    /// Parses a text frame.
    ///
    /// # Errors
    /// A [`FrameRejection`] naming what is wrong: not JSON, not an object, no or unknown action, bad data.
    pub fn parse(text: &str) -> Result<Self, FrameRejection> {
        let value: Value = serde_json::from_str(text).map_err(|e| FrameError::NotJson(e.to_string()))?;
        Self::from_value(value)
    }

    /// Parses a frame that is already JSON.
    ///
    /// # Errors
    /// As [`ClientFrame::parse`], except for [`FrameError::NotJson`].
    pub fn from_value(value: Value) -> Result<Self, FrameRejection> {
        let Value::Object(mut object) = value else {
            return Err(FrameError::NotAnObject.into());
        };
        let request_id = match object.remove("request_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) if id.chars().count() <= MAX_REQUEST_ID_CHARS => Some(id),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
            Some(_) => return Err(FrameError::InvalidRequestId.into()),
        };
        let action = match object.remove("action") {
            Some(Value::String(name)) => {
                let data = match object.remove("data") {
                    None | Some(Value::Null) => Value::Object(Map::new()),
                    Some(data) => data,
                };
                parse_action(&name, data)
            }
            Some(_) => Err(FrameError::MissingAction),
            None => parse_legacy(object),
        };
        match action {
            Ok(action) => Ok(Self { action, request_id }),
            Err(error) => Err(FrameRejection { error, request_id }),
        }
    }
}

fn data<T: DeserializeOwned>(action: &'static str, data: Value) -> Result<T, FrameError> {
    serde_json::from_value(data).map_err(|e| FrameError::InvalidData { action, reason: e.to_string() })
}

fn parse_action(name: &str, value: Value) -> Result<ClientAction, FrameError> {
    Ok(match name {
        "send_message" => {
            let d: SendMessageData = data("send_message", value)?;
            if d.body.is_none() && d.attachments.is_empty() {
                return Err(FrameError::InvalidData {
                    action: "send_message",
                    reason: "missing field `body` (a message without attachments needs one)".into(),
                });
            }
            ClientAction::SendMessage {
                body: d.body.unwrap_or_default(),
                client_message_id: d.client_message_id,
                attachments: d.attachments,
            }
        }
        "react" => {
            let d: ReactData = data("react", value)?;
            ClientAction::React { message_id: d.message_id, emoji: d.emoji }
        }
        "read" => {
            let d: ReadData = data("read", value)?;
            ClientAction::Read { message_id: d.message_id }
        }
        "typing" => {
            let d: TypingData = data("typing", value)?;
            ClientAction::Typing { is_typing: d.is_typing }
        }
        "sync" => {
            let d: SyncData = data("sync", value)?;
            let resume = match (d.from_message_id, d.changed_since) {
                (Some(from_message_id), Some(changed_since)) => {
                    Some(Resume { from_message_id, changed_since })
                }
                (None, None) => None,
                _ => {
                    return Err(FrameError::InvalidData {
                        action: "sync",
                        reason: "from_message_id and changed_since go together (a resume)".into(),
                    });
                }
            };
            ClientAction::Sync {
                after_message_id: d.after_message_id,
                before_message_id: d.before_message_id,
                resume,
                limit: d.limit,
            }
        }
        "ping" => ClientAction::Ping,
        "refresh" => {
            let d: RefreshData = data("refresh", value)?;
            ClientAction::Refresh { token: d.token }
        }
        "session" => ClientAction::Session,
        "edit_message" => {
            let d: EditMessageData = data("edit_message", value)?;
            ClientAction::EditMessage { message_id: d.message_id, body: d.body }
        }
        "delete_message" => {
            let d: DeleteMessageData = data("delete_message", value)?;
            ClientAction::DeleteMessage { message_id: d.message_id }
        }
        "upload_attachment" => {
            let d: UploadAttachmentData = data("upload_attachment", value)?;
            ClientAction::UploadAttachment { name: d.name, content_type: d.content_type, size: d.size }
        }
        "get_attachment" => {
            let d: GetAttachmentData = data("get_attachment", value)?;
            ClientAction::GetAttachment { attachment_id: d.attachment_id }
        }
        "attachment_url" => {
            let d: AttachmentUrlData = data("attachment_url", value)?;
            ClientAction::AttachmentUrl { attachment_id: d.attachment_id, variant: d.variant }
        }
        "block" => ClientAction::Block,
        "unblock" => ClientAction::Unblock,
        "report" => {
            let d: ReportData = data("report", value)?;
            ClientAction::Report { reason: d.reason, message_id: d.message_id, details: d.details }
        }
        "search" => {
            let d: SearchData = data("search", value)?;
            ClientAction::Search { query: d.query, scope: d.scope, before: d.before, limit: d.limit }
        }
        other => return Err(FrameError::UnknownAction(other.to_owned())),
    })
}

/// The shapes the existing frontend sends, which carry no `action`.
fn parse_legacy(object: Map<String, Value>) -> Result<ClientAction, FrameError> {
    if object.get("type").and_then(Value::as_str) == Some("reaction") {
        return parse_action("react", Value::Object(object));
    }
    if object.contains_key("body") {
        return parse_action("send_message", Value::Object(object));
    }
    Err(FrameError::MissingAction)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ClientFrame, FrameError> {
        ClientFrame::parse(text).map_err(|rejection| rejection.error)
    }

    #[test]
    fn canonical_send_message_is_parsed_with_request_id() {
        let frame = parse(
            r#"{"action":"send_message","data":{"body":"hi","client_message_id":"c1"},"request_id":"r1"}"#,
        )
        .expect("valid frame");
        assert_eq!(
            frame,
            ClientFrame {
                action: ClientAction::SendMessage {
                    body: "hi".into(),
                    client_message_id: Some("c1".into()),
                    attachments: vec![]
                },
                request_id: Some("r1".into()),
            }
        );
    }

    #[test]
    fn legacy_body_frame_is_a_send_message() {
        let frame = parse(r#"{"body":"Hello"}"#).expect("valid frame");
        assert_eq!(
            frame.action,
            ClientAction::SendMessage { body: "Hello".into(), client_message_id: None, attachments: vec![] }
        );
    }

    #[test]
    fn legacy_reaction_frame_is_a_react() {
        let frame = parse(r#"{"type":"reaction","emoji":"👍","message_id":123}"#).expect("valid");
        assert_eq!(frame.action, ClientAction::React { message_id: 123, emoji: "👍".into() });
    }

    #[test]
    fn every_action_parses_and_names_itself() {
        for (text, name) in [
            (r#"{"action":"react","data":{"message_id":1,"emoji":"🎉"}}"#, "react"),
            (r#"{"action":"read","data":{"message_id":7}}"#, "read"),
            (r#"{"action":"typing","data":{"is_typing":true}}"#, "typing"),
            (r#"{"action":"sync","data":{"after_message_id":3}}"#, "sync"),
            (r#"{"action":"sync"}"#, "sync"),
            (r#"{"action":"ping"}"#, "ping"),
            (r#"{"action":"refresh","data":{"token":"a.b.c"}}"#, "refresh"),
            (r#"{"action":"session"}"#, "session"),
            (r#"{"action":"edit_message","data":{"message_id":3,"body":"fixed"}}"#, "edit_message"),
            (r#"{"action":"delete_message","data":{"message_id":3}}"#, "delete_message"),
            (r#"{"action":"search","data":{"query":"canoe"}}"#, "search"),
        ] {
            assert_eq!(parse(text).expect(text).action.name(), name);
        }
    }

    #[test]
    fn a_resuming_sync_names_where_the_client_copy_starts_and_when_it_was_synced() {
        let frame = parse(r#"{"action":"sync","data":{"from_message_id":4,"changed_since":1700000000000}}"#)
            .expect("valid");
        let ClientAction::Sync { resume, .. } = frame.action else { panic!("a sync") };
        assert_eq!(resume, Some(Resume { from_message_id: 4, changed_since: 1_700_000_000_000 }));
        for half in [
            r#"{"action":"sync","data":{"from_message_id":4}}"#,
            r#"{"action":"sync","data":{"changed_since":1}}"#,
        ] {
            assert!(matches!(parse(half), Err(FrameError::InvalidData { action: "sync", .. })), "{half}");
        }
    }

    #[test]
    fn numeric_request_id_is_echoed_as_text() {
        let frame = parse(r#"{"action":"ping","request_id":42}"#).expect("valid");
        assert_eq!(frame.request_id.as_deref(), Some("42"));
    }

    #[test]
    fn bad_frames_say_what_is_wrong() {
        assert!(matches!(parse("not json"), Err(FrameError::NotJson(_))));
        assert_eq!(parse("[1,2]"), Err(FrameError::NotAnObject));
        assert_eq!(parse("{}"), Err(FrameError::MissingAction));
        assert_eq!(parse(r#"{"action":5}"#), Err(FrameError::MissingAction));
        assert_eq!(parse(r#"{"action":"explode"}"#), Err(FrameError::UnknownAction("explode".into())));
        assert!(matches!(
            parse(r#"{"action":"send_message","data":{}}"#),
            Err(FrameError::InvalidData { action: "send_message", .. })
        ));
        assert!(matches!(
            parse(r#"{"action":"read","data":{"message_id":"x"}}"#),
            Err(FrameError::InvalidData { action: "read", .. })
        ));
        assert!(matches!(
            parse(r#"{"action":"refresh","data":{}}"#),
            Err(FrameError::InvalidData { action: "refresh", .. })
        ));
        assert_eq!(parse(r#"{"action":"ping","request_id":{}}"#), Err(FrameError::InvalidRequestId));
        assert_eq!(parse(r#"{"action":"ping","request_id":1.5}"#), Err(FrameError::InvalidRequestId));
    }

    #[test]
    fn a_rejected_frame_keeps_its_request_id_for_the_error_answering_it() {
        let rejection =
            ClientFrame::parse(r#"{"action":"explode","request_id":"r-9"}"#).expect_err("unknown");
        assert_eq!(rejection.request_id.as_deref(), Some("r-9"));
        assert_eq!(rejection.error, FrameError::UnknownAction("explode".into()));
        let rejection =
            ClientFrame::parse(r#"{"action":"read","data":{},"request_id":7}"#).expect_err("bad data");
        assert_eq!(rejection.request_id.as_deref(), Some("7"));
        assert_eq!(ClientFrame::parse("[]").expect_err("not an object").request_id, None);
    }

    #[test]
    fn an_overlong_request_id_is_refused_because_every_answer_echoes_it() {
        let long = "r".repeat(MAX_REQUEST_ID_CHARS + 1);
        let frame = serde_json::json!({"action": "ping", "request_id": long}).to_string();
        assert_eq!(parse(&frame), Err(FrameError::InvalidRequestId));
        let fits = serde_json::json!({"action": "ping", "request_id": &long[1..]}).to_string();
        assert!(parse(&fits).is_ok());
    }

    #[test]
    fn edit_and_delete_carry_the_message_and_the_new_body() {
        let frame = parse(
            r#"{"action":"edit_message","data":{"message_id":12,"body":"fixed typo"},"request_id":"e1"}"#,
        )
        .expect("valid");
        assert_eq!(frame.action, ClientAction::EditMessage { message_id: 12, body: "fixed typo".into() });
        assert_eq!(frame.request_id.as_deref(), Some("e1"));
        let frame = parse(r#"{"action":"delete_message","data":{"message_id":12}}"#).expect("valid");
        assert_eq!(frame.action, ClientAction::DeleteMessage { message_id: 12 });
    }

    #[test]
    fn edit_and_delete_without_their_fields_are_invalid_data() {
        for (text, action) in [
            (r#"{"action":"edit_message","data":{"message_id":1}}"#, "edit_message"),
            (r#"{"action":"edit_message","data":{"body":"x"}}"#, "edit_message"),
            (r#"{"action":"edit_message","data":{"message_id":"1","body":"x"}}"#, "edit_message"),
            (r#"{"action":"edit_message","data":{"message_id":1,"body":7}}"#, "edit_message"),
            (r#"{"action":"delete_message"}"#, "delete_message"),
            (r#"{"action":"delete_message","data":{"message_id":null}}"#, "delete_message"),
        ] {
            assert!(
                matches!(parse(text), Err(FrameError::InvalidData { action: a, .. }) if a == action),
                "{text}"
            );
        }
    }

    #[test]
    fn a_search_defaults_to_the_frames_booking_and_refuses_an_unknown_scope() {
        let frame =
            parse(r#"{"action":"search","data":{"query":"canoe paddle"},"request_id":"q1"}"#).expect("valid");
        assert_eq!(
            frame.action,
            ClientAction::Search {
                query: "canoe paddle".into(),
                scope: SearchScope::Booking,
                before: None,
                limit: None
            }
        );
        let frame =
            parse(r#"{"action":"search","data":{"query":"x","scope":"all","before":"abc","limit":5}}"#)
                .expect("valid");
        let ClientAction::Search { scope, before, limit, .. } = frame.action else { panic!("a search") };
        assert_eq!((scope, before.as_deref(), limit), (SearchScope::All, Some("abc"), Some(5)));
        for bad in [
            r#"{"action":"search","data":{}}"#,
            r#"{"action":"search","data":{"query":"x","scope":"everywhere"}}"#,
            r#"{"action":"search","data":{"query":"x","limit":-1}}"#,
        ] {
            assert!(matches!(parse(bad), Err(FrameError::InvalidData { action: "search", .. })), "{bad}");
        }
    }
}
