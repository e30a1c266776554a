//! Properties of the handler over arbitrary events: it never panics, answers every event with a status
//! API Gateway understands, and answers every frame of a recorded connection with exactly one frame.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use chat_connections::ConnectionStore;
use chat_connections::store::InMemoryConnectionStore;
use chat_connections::testing::RecordingGateway;
use chat_proxy::authorizer::AuthorizerRequest;
use chat_proxy::{InvocationError, Proxy};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{FakeBackend, as_user, fixture, record};

const CONNECTION: &str = "Vx2pYdWsliACFtw=";

/// One of `fixed`, or anything matching `pattern`.
fn named(fixed: &[&'static str], pattern: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![proptest::sample::select(fixed.to_vec()).prop_map(str::to_owned), pattern]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,60}",
        Just(String::new()),
        Just("chat.v1, bearer.t0k3n".to_owned()),
        Just("bearer.".to_owned()),
        "[0-9]{1,25}",
        "-?[0-9]{1,3}",
    ]
}

/// A frame body: JSON of every shape a client might send, or anything at all.
fn body() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,300}",
        Just(String::new()),
        (prop_oneof![Just("send_message"), Just("ping"), Just("sync"), Just("react"), Just("x")], text())
            .prop_map(
                |(action, id)| json!({"action": action, "request_id": id, "data": {"body": id}}).to_string()
            ),
        "[a-z]{0,3}".prop_map(|s| s.repeat(12_000)),
    ]
}

/// An event: one of the real fixtures, with its route, connection, query, headers, body and encoding
/// replaced by arbitrary values.
fn event() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("connect_query_token"),
            Just("connect_subprotocol_token"),
            Just("connect_header_token"),
            Just("message"),
            Just("disconnect")
        ],
        proptest::option::of(named(&["$connect", "$disconnect", "$default", "sendmessage"], ".{0,10}")),
        proptest::option::of(prop_oneof![Just(CONNECTION.to_owned()), Just(String::new()), ".{0,20}"]),
        proptest::collection::btree_map(named(&["booking_id", "token", "type"], "[a-z]{1,5}"), text(), 0..4),
        proptest::collection::btree_map(
            named(&["Sec-WebSocket-Protocol", "Authorization", "X-Api-Key"], "[A-Za-z-]{1,10}"),
            "[ -~]{0,40}",
            0..4,
        ),
        proptest::option::of(body()),
        any::<bool>(),
        0..3u8,
    )
        .prop_map(|(name, route, connection, query, headers, body, base64, shape)| {
            let mut event = fixture(name, "token");
            if let Some(route) = route {
                event["requestContext"]["routeKey"] = route.into();
            }
            match connection {
                Some(id) => event["requestContext"]["connectionId"] = id.into(),
                None => drop(event["requestContext"].as_object_mut().map(|c| c.remove("connectionId"))),
            }
            if !query.is_empty() {
                let query: BTreeMap<String, String> = query.into_iter().collect();
                event["queryStringParameters"] = json!(query);
            }
            for (name, value) in headers {
                event["headers"][name.as_str()] = value.into();
            }
            if let Some(body) = body {
                event["body"] = body.into();
            }
            event["isBase64Encoded"] = base64.into();
            match shape {
                // As the authorizer left it for alice on booking 1 (its identity, stringified).
                0 => as_user(event, 1, "alice"),
                // The authorizer's own event for this handshake.
                1 => {
                    event["type"] = "REQUEST".into();
                    event["methodArn"] =
                        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev/$connect".into();
                    event
                }
                _ => event,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_event_is_answered_and_every_frame_of_a_recorded_connection_gets_exactly_one_frame(value in event()) {
        if chat_proxy::event::is_authorizer(&value.to_string()) {
            // The authorizer answers every event it can read: a policy, or Unauthorized (401).
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let proxy = Proxy::new(
                Arc::new(InMemoryConnectionStore::default()),
                RecordingGateway::default(),
                FakeBackend::default(),
                support::settings(),
            );
            let readable = serde_json::from_value::<AuthorizerRequest>(value.clone()).is_ok();
            let answer = runtime.block_on(proxy.invoke(value));
            match answer {
                Ok(policy) => prop_assert!(policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"),
                Err(InvocationError::Unauthorized(_)) => prop_assert!(readable),
                Err(InvocationError::Unreadable(_)) => prop_assert!(!readable),
            }
            return Ok(());
        }
        // What the runtime cannot deserialise never reaches the handler (it fails the invocation).
        let Ok(event) = serde_json::from_value::<ApiGatewayWebsocketProxyRequest>(value) else {
            return Ok(());
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let (status, frames, is_frame) = runtime.block_on(async {
            let store = Arc::new(InMemoryConnectionStore::default());
            store.put(&record(1, CONNECTION, "alice")).await.expect("put");
            let gateway = Arc::new(RecordingGateway::default());
            let proxy = Proxy::new(store, gateway.clone(), FakeBackend::default(), support::settings());
            let context = &event.request_context;
            let is_frame = context.connection_id.as_deref() == Some(CONNECTION)
                && !matches!(context.route_key.as_deref(), Some("$connect" | "$disconnect"));
            let answer = proxy.handle(event).await;
            (answer.status_code, gateway.frames_to(CONNECTION), is_frame)
        });
        prop_assert!([200, 400, 401, 403, 404, 500, 502, 503].contains(&status), "status {}", status);
        if is_frame {
            prop_assert_eq!(status, 200);
            prop_assert_eq!(frames.len(), 1, "frames: {:?}", frames);
        }
    }
}
