//! The events API Gateway sends to a WebSocket integration, field for field: `$connect` with the
//! handshake's headers and query string, messages with `messageId` and the routed key, `$disconnect`
//! with `disconnectStatusCode` and `disconnectReason`. Every event carries a complete `requestContext`,
//! with the `$connect` authorizer's context in `authorizer` when one ran. Also the authorizer's own
//! `REQUEST` event.

use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use crate::ids::{api_gateway_id, now_ms, request_time};

/// What every event of one connection shares.
#[derive(Debug, Clone)]
pub struct ConnectionMeta {
    /// The API's id.
    pub api_id: String,
    /// The stage.
    pub stage: String,
    /// The host clients connect to.
    pub domain_name: String,
    /// API Gateway's connection id.
    pub connection_id: String,
    /// When the handshake began, epoch ms.
    pub connected_at: i64,
    /// The client's address.
    pub source_ip: String,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
    /// What the `$connect` authorizer returned: its `principalId` and context, passed on to every event
    /// of the connection as `requestContext.authorizer`.
    pub authorizer: Option<Map<String, Value>>,
}

fn context(meta: &ConnectionMeta, route_key: &str, event_type: &str) -> Map<String, Value> {
    let now = now_ms();
    let request_id = api_gateway_id();
    let mut identity = Map::new();
    identity.insert("sourceIp".into(), meta.source_ip.clone().into());
    if let Some(agent) = &meta.user_agent {
        identity.insert("userAgent".into(), agent.clone().into());
    }
    let value = json!({
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(now),
        "messageDirection": "IN",
        "stage": meta.stage,
        "connectedAt": meta.connected_at,
        "requestTimeEpoch": now,
        "identity": identity,
        "requestId": request_id,
        "domainName": meta.domain_name,
        "connectionId": meta.connection_id,
        "apiId": meta.api_id,
    });
    let mut map = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(authorizer) = &meta.authorizer {
        map.insert("authorizer".into(), Value::Object(authorizer.clone()));
    }
    map
}

/// API Gateway's two views of repeated keys: the last value of each, and all values of each.
fn single_and_multi<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        single.insert(name.to_owned(), value.into());
        if let Value::Array(values) = multi.entry(name.to_owned()).or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(value.into());
        }
    }
    (single, multi)
}

/// The handshake's part of a `$connect` or authorizer event: headers and query string.
fn handshake(event: &mut Value, headers: &HeaderMap, query: &[(String, String)]) {
    let (single, multi) = single_and_multi(
        headers.iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?))),
    );
    event["headers"] = single.into();
    event["multiValueHeaders"] = multi.into();
    if !query.is_empty() {
        let (single, multi) = single_and_multi(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        event["queryStringParameters"] = single.into();
        event["multiValueQueryStringParameters"] = multi.into();
    }
}

/// The `$connect` event.
pub fn connect(meta: &ConnectionMeta, headers: &HeaderMap, query: &[(String, String)]) -> Value {
    let mut event = json!({"requestContext": context(meta, "$connect", "CONNECT"), "isBase64Encoded": false});
    handshake(&mut event, headers, query);
    event
}

/// The `REQUEST` authorizer's event for `$connect`: the handshake, and the ARN of the route it guards.
pub fn authorizer(
    meta: &ConnectionMeta,
    region: &str,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Value {
    let method_arn =
        format!("arn:aws:execute-api:{region}:123456789012:{}/{}/$connect", meta.api_id, meta.stage);
    let mut event = json!({
        "type": "REQUEST",
        "methodArn": method_arn,
        "requestContext": context(meta, "$connect", "CONNECT"),
        "stageVariables": {},
    });
    handshake(&mut event, headers, query);
    event
}

/// A message event routed to `route_key`.
pub fn message(meta: &ConnectionMeta, route_key: &str, body: String, is_base64: bool) -> Value {
    let mut context = context(meta, route_key, "MESSAGE");
    context.insert("messageId".into(), api_gateway_id().into());
    json!({ "requestContext": context, "body": Value::String(body), "isBase64Encoded": is_base64 })
}

/// The `$disconnect` event.
pub fn disconnect(meta: &ConnectionMeta, status_code: u16, reason: &str) -> Value {
    let mut context = context(meta, "$disconnect", "DISCONNECT");
    context.insert("disconnectStatusCode".into(), status_code.into());
    context.insert("disconnectReason".into(), reason.into());
    let mut headers = Map::new();
    headers.insert("Host".into(), meta.domain_name.clone().into());
    json!({ "headers": headers, "requestContext": context, "isBase64Encoded": false })
}

/// Route selection by `$request.body.action`: the frame's `action` if it names a configured route, else
/// `$default`.
pub fn select_route<'a>(body: &str, routes: &'a [String]) -> &'a str {
    let action = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_owned));
    match action {
        Some(action) => routes.iter().find(|r| **r == action).map_or("$default", String::as_str),
        None => "$default",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;

    fn meta() -> ConnectionMeta {
        ConnectionMeta {
            api_id: "localapi00".into(),
            stage: "local".into(),
            domain_name: "127.0.0.1:3001".into(),
            connection_id: "Vx2pYdWsliACFtw=".into(),
            connected_at: 1_795_325_400_000,
            source_ip: "127.0.0.1".into(),
            user_agent: Some("test".into()),
            authorizer: None,
        }
    }

    #[test]
    fn events_deserialise_with_the_real_lambda_types() {
        let mut headers = HeaderMap::new();
        headers.insert("sec-websocket-protocol", "chat.v1, bearer.x".parse().expect("header"));
        let query = vec![("booking_id".to_owned(), "1".to_owned())];
        for event in [
            connect(&meta(), &headers, &query),
            message(&meta(), "$default", "{}".into(), false),
            disconnect(&meta(), 1001, "Going away"),
        ] {
            let typed: ApiGatewayWebsocketProxyRequest = serde_json::from_value(event).expect("real type");
            let context = typed.request_context;
            assert_eq!(context.connection_id.as_deref(), Some("Vx2pYdWsliACFtw="));
            assert_eq!(context.apiid.as_deref(), Some("localapi00"));
            assert_eq!(context.stage.as_deref(), Some("local"));
            assert!(
                context.request_id.is_some() && context.route_key.is_some() && context.event_type.is_some()
            );
            assert_eq!(context.connected_at, 1_795_325_400_000);
            assert!(context.request_time_epoch > 0);
            assert_eq!(context.identity.source_ip.as_deref(), Some("127.0.0.1"));
        }
        let typed: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(disconnect(&meta(), 1001, "Going away")).expect("typed");
        assert_eq!(typed.request_context.disconnect_status_code, Some(1001));
        assert_eq!(typed.request_context.disconnect_reason.as_deref(), Some("Going away"));
        let typed: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(message(&meta(), "$default", "{}".into(), false)).expect("typed");
        assert!(typed.request_context.message_id.is_some());
    }

    #[test]
    fn routes_are_selected_by_the_body_action() {
        let routes = vec!["send_message".to_owned()];
        assert_eq!(select_route(r#"{"action":"send_message"}"#, &routes), "send_message");
        assert_eq!(select_route(r#"{"action":"ping"}"#, &routes), "$default");
        assert_eq!(select_route("not json", &routes), "$default");
        assert_eq!(select_route(r#"{"body":"legacy"}"#, &routes), "$default");
    }
}
