//! What the function is invoked with and what it answers, read from and written to JSON text directly:
//! the runtime hands over the event's text ([`Event::from_json`]) and serialises the [`Answer`], with no
//! `serde_json::Value` between (a tree of maps and strings built and dropped for every event, then read
//! again into the event's type, was a twentieth of a message's instructions).
//!
//! One function is both the `$connect` authorizer and the integration of every route, so an event says
//! which it is by its shape: an authorizer event has `"type": "REQUEST"` and a `methodArn`.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::authorizer::{AuthorizerRequest, AuthorizerResponse};

/// An invocation's event.
#[derive(Debug)]
pub enum Event {
    /// The `$connect` authorizer's request.
    Authorizer(AuthorizerRequest),
    /// An event of a WebSocket route (boxed: it is ten times the size of the other).
    WebSocket(Box<ApiGatewayWebsocketProxyRequest>),
}

impl Event {
    /// The event in `json`: first its shape (the rest of the text is skipped), then the event's own type.
    ///
    /// # Errors
    /// When `json` is not JSON, or not an event of the type its shape says.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let shape: Shape = serde_json::from_str(json)?;
        if shape.is_authorizer() {
            Ok(Self::Authorizer(serde_json::from_str(json)?))
        } else {
            Ok(Self::WebSocket(Box::new(serde_json::from_str(json)?)))
        }
    }
}

/// Whether the event in `json` is an authorizer event by its shape, the rule [`Event::from_json`] reads it
/// by (`false` for text that is not a JSON object).
pub fn is_authorizer(json: &str) -> bool {
    serde_json::from_str::<Shape>(json).is_ok_and(|shape| shape.is_authorizer())
}

/// An invocation's answer, serialised as the answer of its kind alone.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// The authorizer's policy and context.
    Authorizer(AuthorizerResponse),
    /// A route's answer to API Gateway.
    WebSocket(ApiGatewayProxyResponse),
}

/// The fields of an event that tell an authorizer event from a WebSocket event.
#[derive(Debug, Default, Deserialize)]
struct Shape {
    /// `type`, when it is there (`"REQUEST"` for an authorizer event; any JSON is read).
    #[serde(rename = "type", default)]
    kind: Value,
    /// Whether `methodArn` is there, whatever its value.
    #[serde(rename = "methodArn", default, deserialize_with = "present")]
    method_arn: bool,
}

impl Shape {
    /// Whether an event of this shape is an authorizer event.
    fn is_authorizer(&self) -> bool {
        self.kind.as_str() == Some("REQUEST") && self.method_arn
    }
}

/// `true` for a field that is there, with any value (`null` included).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authorizer_event_has_type_request_and_a_method_arn_at_its_top() {
        let events = [
            (r#"{"type": "REQUEST", "methodArn": "arn:aws:execute-api:eu-west-1:1:a/dev/$connect"}"#, true),
            (r#"{"type": "REQUEST", "methodArn": null}"#, true),
            (r#"{"type": "REQUEST", "methodArn": 5, "headers": {"type": "x"}}"#, true),
            (r#"{"type": "REQUEST"}"#, false),
            (r#"{"type": 5, "methodArn": "arn"}"#, false),
            (r#"{"requestContext": {"routeKey": "$default", "type": "REQUEST", "methodArn": "arn"}}"#, false),
            (r#"{"methodArn": "arn", "type": "TOKEN"}"#, false),
            ("[1]", false),
            ("not json", false),
        ];
        for (text, authorizer) in events {
            assert_eq!(is_authorizer(text), authorizer, "{text}");
        }
    }

    #[test]
    fn an_event_is_read_as_the_type_its_shape_names() {
        let authorizer =
            r#"{"type": "REQUEST", "methodArn": "arn:aws:execute-api:eu-west-1:1:a/dev/$connect"}"#;
        assert!(matches!(Event::from_json(authorizer), Ok(Event::Authorizer(_))));
        let message = include_str!("../tests/fixtures/message.json");
        assert!(matches!(Event::from_json(message), Ok(Event::WebSocket(_))));
        assert!(Event::from_json(r#"{"type": "REQUEST", "methodArn": 5}"#).is_err());
        assert!(Event::from_json("not json").is_err());
    }
}
