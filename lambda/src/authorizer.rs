//! The `$connect` authorizer, and the connection context it leaves for every later event.
//!
//! API Gateway runs a Lambda `REQUEST` authorizer before the `$connect` integration and passes the context
//! map it returns in `requestContext.authorizer` of the connection's `$connect`, `$default` and
//! `$disconnect` events. So the connection's booking, user, type and token expiry are looked up once per
//! connection, here, and every frame after carries them for free: no record is ever read by connection id.
//!
//! An authorizer can answer only three ways: refuse as unauthorized (the function fails with the message
//! `Unauthorized`: 401), deny (403) or allow. It refuses with 401 what is a matter of the token (missing,
//! malformed, forged, expired). Every other verdict keeps its own status by travelling in the context to
//! the `$connect` integration, which refuses with it: a malformed request 400, not a member 403, no such
//! booking 404, a backend that is down 502. The policy allows invoking `$connect` of this stage only.
//!
//! The authorizer is configured with no identity source: API Gateway would refuse with 401, before the
//! authorizer runs, a client that leaves one out, and the token may come from any of four places
//! (`docs/protocol.md`). WebSocket authorizers are not cached, so no identity source is needed for a cache
//! key either.

use std::collections::HashMap;

use chat_connections::record::ttl_for;
use chat_wire::BookingId;
use chat_wire::proxy::ConnectionType;
use chat_wire::time::now_seconds;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The event of a `REQUEST` authorizer on a WebSocket API's `$connect` route (only what is used of it).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerRequest {
    /// `REQUEST`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/$connect`: what the policy allows.
    pub method_arn: String,
    /// The handshake's headers, named as the client sent them.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub headers: HashMap<String, String>,
    /// The query string.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub query_string_parameters: HashMap<String, String>,
    /// The connection.
    #[serde(default)]
    pub request_context: AuthorizerRequestContext,
}

/// The part of an authorizer event's `requestContext` that is used.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerRequestContext {
    /// API Gateway's id of the connection being opened.
    #[serde(default)]
    pub connection_id: Option<String>,
    /// When API Gateway accepted the connection, epoch ms.
    #[serde(default)]
    pub connected_at: Option<i64>,
    /// The stage, for metrics.
    #[serde(default)]
    pub stage: Option<String>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<HashMap<String, String>, D::Error> {
    Ok(Option::<HashMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

impl AuthorizerRequest {
    /// A header, whatever case the client sent its name in.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }

    /// A query-string parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query_string_parameters.get(name).map(String::as_str)
    }
}

/// What the authorizer answers when it does not refuse as unauthorized.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerResponse {
    /// The user, or `anonymous` when the verdict is a refusal.
    pub principal_id: String,
    /// Allow invoking `$connect` of this stage.
    pub policy_document: Value,
    /// The verdict and, when accepted, the connection's identity: strings and numbers only, as API
    /// Gateway requires.
    pub context: Map<String, Value>,
}

impl AuthorizerResponse {
    /// Allows `method_arn` with `context`.
    pub fn allow(method_arn: &str, principal_id: &str, context: Map<String, Value>) -> Self {
        Self {
            principal_id: principal_id.to_owned(),
            policy_document: json!({
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": method_arn}]
            }),
            context,
        }
    }
}

/// The authorizer's verdict on a connection, as the later events of the connection carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted as this identity.
    Accepted(ConnectionContext),
    /// Refused with this handshake status (400, 403, 404, 502, ...).
    Refused(u16),
}

/// What a connection covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One booking, named at the handshake (`chat` and `booking` connections).
    Booking(BookingId),
    /// Every booking of the user at `$connect` (a `user` connection, at most
    /// [`chat_wire::proxy::MAX_USER_BOOKINGS`]): the connection is recorded in each; its frames name their
    /// booking.
    User(Vec<BookingId>),
}

/// Who a connection is, as the authorizer found: what every event after `$connect` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionContext {
    /// The booking joined, or the user's bookings (a `user` connection; then `connection_type` is
    /// [`ConnectionType::User`], and only then).
    pub scope: Scope,
    /// The authenticated user.
    pub user_id: String,
    /// What the connection is for.
    pub connection_type: ConnectionType,
    /// When the token expires, epoch seconds.
    pub expires_at: i64,
}

impl ConnectionContext {
    /// When the connection's record expires, and with it the connection: never later than the token's
    /// expiry nor two hours after connect.
    pub fn ttl(&self, connected_at_ms: i64) -> i64 {
        ttl_for(connected_at_ms, self.expires_at)
    }

    /// Whether the connection has outlived its token (or API Gateway's two hours) at `now_seconds`.
    pub fn is_expired(&self, connected_at_ms: i64, now: i64) -> bool {
        self.ttl(connected_at_ms) <= now
    }

    /// [`ConnectionContext::is_expired`] now.
    pub fn is_expired_now(&self, connected_at_ms: i64) -> bool {
        self.is_expired(connected_at_ms, now_seconds())
    }
}

const STATUS: &str = "status";
const BOOKING_ID: &str = "booking_id";
/// A user connection's bookings, comma-separated (context values must be strings or numbers).
const BOOKING_IDS: &str = "booking_ids";
const USER_ID: &str = "user_id";
const CONNECTION_TYPE: &str = "connection_type";
const EXPIRES_AT: &str = "expires_at";

impl Verdict {
    /// The verdict as the authorizer's context map.
    pub fn to_context(&self) -> Map<String, Value> {
        let mut map = Map::new();
        match self {
            Self::Accepted(identity) => {
                map.insert(STATUS.into(), 200.into());
                match &identity.scope {
                    Scope::Booking(booking_id) => {
                        map.insert(BOOKING_ID.into(), (*booking_id).into());
                    }
                    Scope::User(booking_ids) => {
                        let ids: Vec<String> = booking_ids.iter().map(ToString::to_string).collect();
                        map.insert(BOOKING_IDS.into(), ids.join(",").into());
                    }
                }
                map.insert(USER_ID.into(), identity.user_id.clone().into());
                map.insert(CONNECTION_TYPE.into(), identity.connection_type.as_str().into());
                map.insert(EXPIRES_AT.into(), identity.expires_at.into());
            }
            Self::Refused(status) => {
                map.insert(STATUS.into(), (*status).into());
            }
        }
        map
    }

    /// The verdict from `requestContext.authorizer` of an event; `None` when there is none, or it is not
    /// ours. Numbers are read from numbers or from text (API Gateway may pass context values stringified).
    pub fn from_context(fields: &HashMap<String, Value>) -> Option<Self> {
        let number = |key: &str| match fields.get(key)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        };
        let text = |key: &str| fields.get(key).and_then(Value::as_str);
        let status = u16::try_from(number(STATUS)?).ok()?;
        if status != 200 {
            return Some(Self::Refused(status));
        }
        let connection_type = ConnectionType::parse(text(CONNECTION_TYPE)?)?;
        let scope = if connection_type == ConnectionType::User {
            let ids = text(BOOKING_IDS)?;
            let ids = ids.split(',').filter(|id| !id.is_empty()).map(|id| id.parse().ok());
            Scope::User(ids.collect::<Option<Vec<BookingId>>>()?)
        } else {
            Scope::Booking(number(BOOKING_ID)?)
        };
        Some(Self::Accepted(ConnectionContext {
            scope,
            user_id: text(USER_ID)?.to_owned(),
            connection_type,
            expires_at: number(EXPIRES_AT)?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(map: Map<String, Value>) -> HashMap<String, Value> {
        map.into_iter().collect()
    }

    #[test]
    fn a_verdict_survives_the_context_map_even_stringified() {
        let accepted = Verdict::Accepted(ConnectionContext {
            scope: Scope::Booking(42),
            user_id: "alice".into(),
            connection_type: ConnectionType::Booking,
            expires_at: 1_800_000_000,
        });
        assert_eq!(Verdict::from_context(&fields(accepted.to_context())), Some(accepted.clone()));
        let stringified: HashMap<String, Value> = accepted
            .to_context()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v.as_str().map_or_else(|| v.to_string(), str::to_owned))))
            .collect();
        assert_eq!(Verdict::from_context(&stringified), Some(accepted));
        let refused = Verdict::Refused(404);
        assert_eq!(Verdict::from_context(&fields(refused.to_context())), Some(refused));
        assert_eq!(Verdict::from_context(&HashMap::new()), None, "no authorizer, no verdict");
    }

    #[test]
    fn a_user_connections_bookings_travel_as_one_comma_separated_string() {
        let accepted = Verdict::Accepted(ConnectionContext {
            scope: Scope::User(vec![3, 1, 20]),
            user_id: "alice".into(),
            connection_type: ConnectionType::User,
            expires_at: 1_800_000_000,
        });
        let context = accepted.to_context();
        assert_eq!(context[BOOKING_IDS], "3,1,20");
        assert!(context.get(BOOKING_ID).is_none(), "a user connection has no one booking");
        assert_eq!(Verdict::from_context(&fields(context)), Some(accepted));
        let none = Verdict::Accepted(ConnectionContext {
            scope: Scope::User(Vec::new()),
            user_id: "alice".into(),
            connection_type: ConnectionType::User,
            expires_at: 1_800_000_000,
        });
        assert_eq!(Verdict::from_context(&fields(none.to_context())), Some(none), "a user with no booking");
        let mut broken = fields(accepted_user_context());
        broken.insert(BOOKING_IDS.into(), "1,x".into());
        assert_eq!(Verdict::from_context(&broken), None, "a context that is not ours");
    }

    fn accepted_user_context() -> Map<String, Value> {
        Verdict::Accepted(ConnectionContext {
            scope: Scope::User(vec![1]),
            user_id: "a".into(),
            connection_type: ConnectionType::User,
            expires_at: 1,
        })
        .to_context()
    }

    #[test]
    fn the_real_authorizer_event_shape_is_read() {
        let event = json!({
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:abcdef123/test/$connect",
            "headers": {"Sec-WebSocket-Protocol": "chat.v1, bearer.t"},
            "multiValueHeaders": {"Sec-WebSocket-Protocol": ["chat.v1, bearer.t"]},
            "queryStringParameters": null,
            "requestContext": {"connectionId": "c-1", "connectedAt": 1, "routeKey": "$connect"},
            "stageVariables": {}
        });
        assert!(crate::event::is_authorizer(&event.to_string()));
        let request: AuthorizerRequest = serde_json::from_value(event).expect("parse");
        assert_eq!(request.header("sec-websocket-protocol"), Some("chat.v1, bearer.t"));
        assert_eq!(request.query("booking_id"), None);
        assert_eq!(request.request_context.connection_id.as_deref(), Some("c-1"));
        assert!(!crate::event::is_authorizer(
            &json!({"requestContext": {"routeKey": "$connect"}}).to_string()
        ));
    }
}
