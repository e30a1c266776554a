//! The HTTP contract between the Lambda proxy and the backend.
//!
//! - the `$connect` authorizer → `POST /api/chat/ws/{booking_id}/connect` with [`ConnectRequest`],
//!   answered by [`ConnectResponse`] (or 401/403/404 with an [`ErrorResponse`]): the token and the
//!   membership, nothing recorded.
//! - `$connect`, once the connection's record is written → `POST /api/chat/ws/{booking_id}/connected` with
//!   [`ConnectedRequest`] (204, best effort): the member's presence, which so never precedes the record.
//! - `$default` → `POST /api/chat/ws/{booking_id}/message` with [`MessageRequest`], answered by a
//!   [`ProxyReply`] (200) or nothing (204).
//! - `$disconnect` → `POST /api/chat/ws/{booking_id}/disconnect` with [`DisconnectRequest`] (best effort).
//! - `$connect` of a user connection (`?type=user`, no booking) → `POST /api/chat/ws/user/connect`
//!   ([`USER_CONNECT_PATH`]) with [`ConnectRequest`], answered by [`UserConnectResponse`]: the user and
//!   their bookings (at most [`MAX_USER_BOOKINGS`]). Its frames name their booking (`booking_id` at the top
//!   level, [`booking_named_by`]) and go to that booking's message route.
//!
//! Every call carries [`PROXY_SECRET_HEADER`]. The Lambda knows nothing about chat: it relays
//! [`ProxyReply::frame`] untouched but for one rule (only the sender's copy keeps the `request_id`), which is
//! why the frame is kept as a JSON object here rather than a typed [`ServerFrame`]. A reply may also carry
//! [`UserFrame`]s: frames for one member's user connections of the booking (their `unread` count), which
//! the Lambda delivers in the same fan-out, from the same `Query` of the booking's records.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::BookingId;
use crate::server::{ErrorBody, ServerFrame};

/// The header carrying the secret shared by the Lambda and the backend.
pub const PROXY_SECRET_HEADER: &str = "x-proxy-secret";

/// The route a user connection's `$connect` calls (no booking in the path: the user's bookings are the
/// answer).
pub const USER_CONNECT_PATH: &str = "/api/chat/ws/user/connect";

/// Most bookings a user connection covers at `$connect`: the user's most recently active ones. Each is one
/// connection record, written with one more under the user at `$connect` (one `BatchWriteItem` per 25) and
/// removed at `$disconnect`; a booking the user joins later is added by the backend.
pub const MAX_USER_BOOKINGS: u32 = 100;

/// What a connection is for, chosen by the client with `?type=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConnectionType {
    /// The booking's chat (the default).
    #[default]
    Chat,
    /// Watches the booking's status only.
    Booking,
    /// A user's connection across all their bookings (no `booking_id` at the handshake): messages,
    /// edits, receipts, status changes and unread counts of every booking, each frame naming its booking.
    User,
}

impl ConnectionType {
    /// The type as it appears on the wire and in connection records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Booking => "booking",
            Self::User => "user",
        }
    }

    /// Parses the `?type=` query parameter.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "chat" => Some(Self::Chat),
            "booking" => Some(Self::Booking),
            "user" => Some(Self::User),
            _ => None,
        }
    }
}

/// Whether a frame of `frame_type` goes to a connection of `connection_type`: connections of type
/// `booking` watch the booking's status only; connections of type `user` receive what concerns their
/// user across bookings (messages and their changes, receipts, status changes, unread counts), not the
/// moment-to-moment frames of an open chat (typing, presence, reactions). Every transport's fan-out
/// applies this one rule.
pub fn delivers_to(frame_type: Option<&str>, connection_type: ConnectionType) -> bool {
    match connection_type {
        ConnectionType::Chat => true,
        ConnectionType::Booking => frame_type == Some("booking_status"),
        ConnectionType::User => matches!(
            frame_type,
            Some("message" | "message_updated" | "receipt" | "booking_status" | "unread" | "membership")
        ),
    }
}

/// The booking a user connection's frame names: its top-level `booking_id`, a positive integer (or the
/// text of one). `None` when it is missing or invalid: the frame is refused with `VALIDATION_ERROR`.
pub fn booking_named_by(frame: &Value) -> Option<BookingId> {
    match frame.get("booking_id")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|id| *id > 0)
}

impl ProxyReply {
    /// The frame's `type`, if it has one.
    pub fn frame_type(&self) -> Option<&str> {
        self.frame.get("type").and_then(Value::as_str)
    }
}

/// Body of the connect call.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectRequest {
    /// API Gateway's connection id.
    pub connection_id: String,
    /// The client's JWT, as it came (query string, subprotocol or header).
    pub token: String,
    /// What the connection is for.
    #[serde(default)]
    pub connection_type: ConnectionType,
}

/// Answer to a successful connect call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectResponse {
    /// The authenticated user.
    pub user_id: String,
    /// The booking joined.
    pub booking_id: BookingId,
    /// When the token expires, in seconds since the Unix epoch: connection records must not outlive it.
    pub expires_at: i64,
}

/// Answer to a successful user connect call (`POST /api/chat/ws/user/connect`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserConnectResponse {
    /// The authenticated user.
    pub user_id: String,
    /// When the token expires, in seconds since the Unix epoch: connection records must not outlive it.
    pub expires_at: i64,
    /// The user's bookings, most recently active first, at most 100 (`MAX_USER_BOOKINGS`): the connection is
    /// recorded in each.
    pub booking_ids: Vec<BookingId>,
}

/// Body of the message call.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageRequest {
    /// The sending connection.
    pub connection_id: String,
    /// The user the connection was authenticated as at connect time.
    pub user_id: String,
    /// The client's frame: a JSON object (`docs/asyncapi.yaml`), or the raw text of a frame that is not
    /// one.
    #[cfg_attr(feature = "openapi", schema(schema_with = client_frame_schema))]
    pub message: Value,
    /// What the connection is for, as recorded at connect time.
    #[serde(default)]
    pub connection_type: ConnectionType,
    /// When API Gateway accepted the connection, milliseconds since the Unix epoch (for `session`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<i64>,
    /// When the connection's token expires, seconds since the Unix epoch: the token of `$connect`, or the
    /// last one a `refresh` gave (for `session`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// Body of the connected call: `$connect` recorded the connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectedRequest {
    /// The recorded connection.
    pub connection_id: String,
    /// Its user, as the connect call accepted it.
    pub user_id: String,
    /// When API Gateway accepted the connection, milliseconds since the Unix epoch.
    pub connected_at: i64,
    /// When its token expires, seconds since the Unix epoch: the member counts as online until then at
    /// the latest, should the `$disconnect` be lost.
    pub expires_at: i64,
}

/// Body of the disconnect call.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisconnectRequest {
    /// The closed connection.
    pub connection_id: String,
    /// Its user.
    pub user_id: String,
}

/// Body of every non-2xx answer of the backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResponse {
    /// What went wrong.
    pub error: ErrorBody,
}

/// Who receives a frame the backend answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The connection that sent the frame being answered.
    Sender,
    /// Every connection of the booking, the sender's included (its copy is its acknowledgement).
    Booking,
    /// Every connection of the booking but the sender's (a typing indicator).
    BookingExceptSender,
}

/// A 200 answer of the message call: a server frame plus delivery instructions.
///
/// The audience is two booleans, `broadcast` and `exclude_sender` (the contract the Lambda and the backend
/// agreed first): the sender only, the whole booking, or the booking but the sender. `exclude_sender`
/// without `broadcast` means the sender only (in Rust, `audience()` reads the pair, so that combination
/// goes no further than this type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProxyReply {
    /// `true`: send to every connection of the booking. `false`: to the sender only.
    #[serde(default)]
    broadcast: bool,
    /// With `broadcast`, leave the sender out (typing indicators).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    exclude_sender: bool,
    /// The sending connection now holds a token that expires at this time (seconds since the Unix epoch),
    /// after a `refresh`: the proxy extends the connection's record to match before delivering the frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expires_at: Option<i64>,
    /// Frames for the user connections of one member each (an `unread` count), delivered in the same
    /// fan-out as the frame.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_frames: Vec<UserFrame>,
    /// The frame to deliver, relayed as it is.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = ServerFrame))]
    pub frame: Map<String, Value>,
}

/// A frame for the user connections of one member of the booking (`type=user`), none of their others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserFrame {
    /// The member.
    pub user_id: String,
    /// The frame, relayed as it is.
    #[cfg_attr(feature = "openapi", schema(value_type = ServerFrame))]
    pub frame: Map<String, Value>,
}

impl UserFrame {
    /// A frame for `user_id`'s user connections.
    pub fn new(user_id: impl Into<String>, frame: &ServerFrame) -> Self {
        Self { user_id: user_id.into(), frame: to_object(frame) }
    }

    /// The frame as the text to send.
    pub fn frame_text(&self) -> String {
        serde_json::to_string(&self.frame).unwrap_or_else(|_| String::from("{}"))
    }
}

fn to_object(frame: &ServerFrame) -> Map<String, Value> {
    match serde_json::to_value(frame) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

/// The schema of [`MessageRequest::message`]: an object or a string.
#[cfg(feature = "openapi")]
fn client_frame_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::String]))
        .description(Some("The client's frame: a JSON object (docs/asyncapi.yaml), or the raw text of a frame that is not one."))
        .into()
}

impl ProxyReply {
    /// Wraps a server frame with who receives it.
    pub fn new(frame: &ServerFrame, audience: Audience) -> Self {
        Self::from_object(to_object(frame), audience)
    }

    /// Wraps a frame that is already a JSON object with who receives it.
    pub fn from_object(frame: Map<String, Value>, audience: Audience) -> Self {
        let (broadcast, exclude_sender) = match audience {
            Audience::Sender => (false, false),
            Audience::Booking => (true, false),
            Audience::BookingExceptSender => (true, true),
        };
        Self { broadcast, exclude_sender, token_expires_at: None, user_frames: Vec::new(), frame }
    }

    /// Who receives the frame. `exclude_sender` without `broadcast` is read as the sender only.
    pub fn audience(&self) -> Audience {
        match (self.broadcast, self.exclude_sender) {
            (false, _) => Audience::Sender,
            (true, false) => Audience::Booking,
            (true, true) => Audience::BookingExceptSender,
        }
    }

    /// Tells the proxy the sending connection's token now expires at `expires_at` (epoch seconds).
    #[must_use]
    pub fn renewing(mut self, expires_at: Option<i64>) -> Self {
        self.token_expires_at = expires_at;
        self
    }

    /// Adds frames for members' user connections.
    #[must_use]
    pub fn with_user_frames(mut self, user_frames: Vec<UserFrame>) -> Self {
        self.user_frames = user_frames;
        self
    }

    /// Names `booking_id` at the top level of the frame unless it names one already: every frame a user
    /// connection receives says which booking it is about (a `pong` or an `error` included).
    #[must_use]
    pub fn naming_booking(mut self, booking_id: BookingId) -> Self {
        self.frame.entry("booking_id").or_insert_with(|| booking_id.into());
        self
    }

    /// The frame as the text to send to the sender (without the delivery instructions).
    pub fn frame_text(&self) -> String {
        serde_json::to_string(&self.frame).unwrap_or_else(|_| String::from("{}"))
    }

    /// The frame as the other connections of a broadcast receive it: without the sender's `request_id`.
    pub fn others_text(&self) -> String {
        if !self.frame.contains_key("request_id") {
            return self.frame_text();
        }
        let mut frame = self.frame.clone();
        frame.remove("request_id");
        serde_json::to_string(&frame).unwrap_or_else(|_| String::from("{}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ServerPayload, server::ErrorCode};
    use serde_json::json;

    #[test]
    fn reply_flattens_the_frame_beside_the_delivery_flags() {
        let frame = ServerFrame::new(ServerPayload::Pong, 7);
        let reply = ProxyReply::new(&frame, Audience::BookingExceptSender);
        assert_eq!(
            serde_json::to_value(&reply).expect("ser"),
            json!({"type": "pong", "timestamp": 7, "broadcast": true, "exclude_sender": true})
        );
    }

    #[test]
    fn parsed_reply_relays_the_frame_without_the_flags() {
        let reply: ProxyReply = serde_json::from_value(json!({
            "type": "error", "error": {"code": "NOT_FOUND", "message": "no"}, "timestamp": 1,
            "broadcast": false
        }))
        .expect("parse");
        assert_eq!(reply.audience(), Audience::Sender);
        let frame: ServerFrame = serde_json::from_str(&reply.frame_text()).expect("frame");
        assert_eq!(frame, ServerFrame::error(ErrorCode::NotFound, "no", 1));
    }

    #[test]
    fn the_wire_flags_read_as_one_audience_each() {
        let read = |value: Value| serde_json::from_value::<ProxyReply>(value).expect("parse").audience();
        assert_eq!(read(json!({"type": "pong"})), Audience::Sender);
        assert_eq!(read(json!({"type": "pong", "broadcast": true})), Audience::Booking);
        assert_eq!(
            read(json!({"type": "t", "broadcast": true, "exclude_sender": true})),
            Audience::BookingExceptSender
        );
        assert_eq!(
            read(json!({"type": "t", "exclude_sender": true})),
            Audience::Sender,
            "meaningless: sender only"
        );
        for audience in [Audience::Sender, Audience::Booking, Audience::BookingExceptSender] {
            let reply = ProxyReply::new(&ServerFrame::new(ServerPayload::Pong, 1), audience);
            assert_eq!(read(serde_json::to_value(&reply).expect("ser")), audience);
        }
    }

    #[test]
    fn a_renewal_travels_beside_the_frame_and_not_in_it() {
        let frame = ServerFrame::new(ServerPayload::Pong, 7);
        let reply = ProxyReply::new(&frame, Audience::Sender).renewing(Some(1_900_000_000));
        let wire = serde_json::to_value(&reply).expect("ser");
        assert_eq!(wire["token_expires_at"], 1_900_000_000);
        let back: ProxyReply = serde_json::from_value(wire).expect("parse");
        assert_eq!(back.token_expires_at, Some(1_900_000_000));
        let relayed: Value = serde_json::from_str(&back.frame_text()).expect("frame");
        assert_eq!(relayed, serde_json::to_value(&frame).expect("ser"), "the frame, without the instruction");
        let plain: ProxyReply = serde_json::from_value(json!({"type": "pong"})).expect("parse");
        assert_eq!(plain.token_expires_at, None);
    }

    #[test]
    fn only_the_sender_copy_of_a_reply_keeps_its_request_id() {
        let frame = ServerFrame::new(ServerPayload::Pong, 7).answering(Some("1".into()));
        let reply = ProxyReply::new(&frame, Audience::Booking);
        assert_eq!(serde_json::from_str::<Value>(&reply.frame_text()).expect("json")["request_id"], "1");
        let others: Value = serde_json::from_str(&reply.others_text()).expect("json");
        assert_eq!(others, json!({"type": "pong", "timestamp": 7}));
    }

    #[test]
    fn user_frames_travel_beside_the_frame_and_only_when_there_are_some() {
        let unread = ServerFrame::new(
            ServerPayload::Unread { booking_id: 3, unread_count: 2, last_read_message_id: Some(5) },
            7,
        );
        let reply = ProxyReply::new(&ServerFrame::new(ServerPayload::Pong, 7), Audience::Booking)
            .with_user_frames(vec![UserFrame::new("bob", &unread)]);
        let wire = serde_json::to_value(&reply).expect("ser");
        assert_eq!(wire["user_frames"][0]["user_id"], "bob");
        assert_eq!(wire["user_frames"][0]["frame"]["unread_count"], 2);
        let back: ProxyReply = serde_json::from_value(wire).expect("parse");
        let relayed: Value = serde_json::from_str(&back.user_frames[0].frame_text()).expect("json");
        assert_eq!(relayed, serde_json::to_value(&unread).expect("ser"));
        assert!(!back.frame_text().contains("user_frames"), "not in the relayed frame");
        let plain = serde_json::to_value(ProxyReply::new(&unread, Audience::Sender)).expect("ser");
        assert!(plain.get("user_frames").is_none());
    }

    #[test]
    fn booking_connections_receive_status_frames_only() {
        assert!(delivers_to(Some("message"), ConnectionType::Chat));
        assert!(delivers_to(Some("booking_status"), ConnectionType::Booking));
        assert!(!delivers_to(Some("message"), ConnectionType::Booking));
        assert!(!delivers_to(None, ConnectionType::Booking));
    }

    #[test]
    fn user_connections_receive_what_concerns_their_user_and_not_the_chatter() {
        for kind in ["message", "message_updated", "receipt", "booking_status", "unread", "membership"] {
            assert!(delivers_to(Some(kind), ConnectionType::User), "{kind}");
        }
        for kind in ["typing", "presence", "reaction", "pong", "history"] {
            assert!(!delivers_to(Some(kind), ConnectionType::User), "{kind}");
        }
        assert!(!delivers_to(None, ConnectionType::User));
        assert_eq!(ConnectionType::parse("user"), Some(ConnectionType::User));
        assert_eq!(ConnectionType::User.as_str(), "user");
    }

    #[test]
    fn a_frame_names_its_booking_with_a_positive_integer() {
        assert_eq!(booking_named_by(&json!({"action": "ping", "booking_id": 7})), Some(7));
        assert_eq!(booking_named_by(&json!({"booking_id": "7"})), Some(7));
        assert_eq!(booking_named_by(&json!({"action": "ping"})), None);
        assert_eq!(booking_named_by(&json!({"booking_id": 0})), None);
        assert_eq!(booking_named_by(&json!({"booking_id": -3})), None);
        assert_eq!(booking_named_by(&json!({"booking_id": 1.5})), None);
        assert_eq!(booking_named_by(&json!({"booking_id": [7]})), None);
        assert_eq!(booking_named_by(&json!("text")), None);
    }

    #[test]
    fn answers_to_a_user_connection_name_their_booking_once() {
        let pong =
            ProxyReply::new(&ServerFrame::new(ServerPayload::Pong, 1), Audience::Sender).naming_booking(7);
        assert_eq!(pong.frame["booking_id"], 7);
        let receipt = ServerFrame::new(
            ServerPayload::Receipt { booking_id: 3, user_id: "a".into(), last_read_message_id: 1 },
            1,
        );
        let named = ProxyReply::new(&receipt, Audience::Booking).naming_booking(7);
        assert_eq!(named.frame["booking_id"], 3, "a frame that names its booking keeps it");
        let parsed: ServerFrame =
            serde_json::from_str(&pong.frame_text()).expect("a named pong still parses");
        assert_eq!(parsed.payload, ServerPayload::Pong);
    }

    #[test]
    fn connection_type_defaults_to_chat() {
        let req: ConnectRequest =
            serde_json::from_value(json!({"connection_id": "c", "token": "t"})).expect("parse");
        assert_eq!(req.connection_type, ConnectionType::Chat);
        assert_eq!(ConnectionType::parse("booking"), Some(ConnectionType::Booking));
        assert_eq!(ConnectionType::parse("nope"), None);
    }
}
