//! The handler, driven by real API Gateway WebSocket event JSON (and the `$connect` authorizer's event
//! built from the same handshakes), with fakes for the backend and the gateway and the in-memory
//! connection store.

mod support;

use std::sync::Arc;

use chat_connections::ConnectionStore;
use chat_connections::store::InMemoryConnectionStore;
use chat_connections::testing::{DownStore, RecordingGateway};
use chat_proxy::authorizer::AuthorizerResponse;
use chat_proxy::ports::BackendError;
use chat_proxy::{Proxy, Unauthorized};
use chat_wire::ErrorCode;
use chat_wire::proxy::{Audience, ConnectResponse, ConnectionType};
use chat_wire::server::MAX_CONNECTION_SECONDS;
use chat_wire::time::now_seconds;
use serde_json::{Value, json};
use support::{
    ENDPOINT, FakeBackend, Harness, accepted, as_user, authorizer_event, event, fixture, harness,
    message_event, passed_on, record, refused, reply,
};

const CONNECTION: &str = "Vx2pYdWsliACFtw=";

async fn seed(h: &Harness, records: &[(i64, &str, &str)]) {
    for (booking, connection, user) in records {
        h.store.put(&record(*booking, connection, user)).await.expect("put");
    }
}

/// A handshake as API Gateway runs it: the authorizer on the handshake of fixture `name`, then, unless it
/// refused, `$connect` with the context it left. Returns the authorizer's answer and the handshake's status.
async fn handshake(
    h: &Harness,
    name: &str,
    token: &str,
    edit: impl Fn(&mut Value),
) -> (Result<AuthorizerResponse, Unauthorized>, i64) {
    let mut value = fixture(name, token);
    edit(&mut value);
    let mut request = authorizer_event(name, token);
    let edited: Value = value.clone();
    request.headers = serde_json::from_value(edited["headers"].clone()).unwrap_or_default();
    request.query_string_parameters =
        serde_json::from_value(edited["queryStringParameters"].clone()).unwrap_or_default();
    let authorized = h.proxy.authorize(&request).await;
    let status = match &authorized {
        Err(Unauthorized) => 401,
        Ok(response) => {
            value["requestContext"]["authorizer"] = passed_on(response);
            h.proxy.handle(event(value)).await.status_code
        }
    };
    (authorized, status)
}

async fn connect(h: &Harness, name: &str, token: &str) -> (Result<AuthorizerResponse, Unauthorized>, i64) {
    handshake(h, name, token, |_| {}).await
}

#[tokio::test]
async fn connect_with_a_query_token_records_the_connection_with_a_bounded_ttl() {
    let h = harness(FakeBackend {
        on_connect: Box::new(|booking_id, _| {
            Ok(ConnectResponse { user_id: "bob".into(), booking_id, expires_at: now_seconds() + 600 })
        }),
        ..FakeBackend::default()
    });
    let (authorized, status) = connect(&h, "connect_query_token", "jwt-abc").await;
    assert_eq!(status, 200);
    let authorized = authorized.expect("allowed");
    assert_eq!(authorized.principal_id, "bob");
    let sent = h.backend.connects.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1, "the backend is asked once per connection, by the authorizer");
    assert_eq!(sent[0].0, 1);
    assert_eq!(sent[0].1.token, "jwt-abc");
    assert_eq!(sent[0].1.connection_id, CONNECTION);
    assert_eq!(sent[0].1.connection_type, ConnectionType::Chat);
    let stored = h.store.get(CONNECTION).expect("recorded");
    assert_eq!((stored.booking_id, stored.user_id.as_str()), (1, "bob"));
    assert!(stored.ttl <= now_seconds() + 600, "never later than the token's expiry");
    assert!(stored.ttl > now_seconds() + 590);
}

#[tokio::test]
async fn the_authorizer_allows_only_connect_of_its_stage_and_passes_the_identity_on() {
    let h = harness(FakeBackend::default());
    let request = authorizer_event("connect_query_token", "t");
    let answer = h.proxy.authorize(&request).await.expect("allowed");
    assert_eq!(
        answer.policy_document,
        json!({"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": request.method_arn}]})
    );
    assert!(request.method_arn.ends_with("/dev/$connect"));
    assert_eq!(answer.context["user_id"], "alice");
    assert_eq!(answer.context["booking_id"], 1);
    assert_eq!(answer.context["status"], 200);
    assert!(answer.context.values().all(|v| v.is_string() || v.is_number()), "API Gateway takes no objects");
    let text = serde_json::to_string(&answer).expect("json");
    assert!(!text.contains("\"t\""), "the token is not in the answer");
    // What API Gateway passes on (stringified) reads back as the same identity on $default.
    seed(&h, &[(1, CONNECTION, "alice")]).await;
    let mut frame = fixture("message", "");
    frame["requestContext"]["authorizer"] = passed_on(&answer);
    h.proxy.handle(event(frame)).await;
    assert_eq!(h.backend.messages.lock().expect("lock")[0].1.user_id, "alice");
}

#[tokio::test]
async fn the_ttl_never_exceeds_two_hours_after_connect() {
    let h = harness(FakeBackend {
        on_connect: Box::new(|booking_id, _| {
            Ok(ConnectResponse { user_id: "bob".into(), booking_id, expires_at: now_seconds() + 86_400 })
        }),
        ..FakeBackend::default()
    });
    assert_eq!(connect(&h, "connect_query_token", "t").await.1, 200);
    let stored = h.store.get(CONNECTION).expect("recorded");
    assert!(stored.ttl <= stored.connected_at / 1000 + MAX_CONNECTION_SECONDS);
}

#[tokio::test]
async fn connect_with_a_subprotocol_token_echoes_chat_v1() {
    let h = harness(FakeBackend::default());
    let mut value = fixture("connect_subprotocol_token", "jwt-sub");
    let answer =
        h.proxy.authorize(&authorizer_event("connect_subprotocol_token", "jwt-sub")).await.expect("allowed");
    value["requestContext"]["authorizer"] = passed_on(&answer);
    let response = h.proxy.handle(event(value)).await;
    assert_eq!(response.status_code, 200);
    assert_eq!(response.headers.get("sec-websocket-protocol").expect("echoed"), "chat.v1");
    assert_eq!(h.backend.connects.lock().expect("lock")[0].1.token, "jwt-sub");
}

#[tokio::test]
async fn a_lone_bearer_subprotocol_is_never_echoed() {
    let h = harness(FakeBackend::default());
    let only_bearer = |value: &mut Value| {
        value["headers"]["Sec-WebSocket-Protocol"] = "bearer.jwt-secret-part".into();
        value["multiValueHeaders"]["Sec-WebSocket-Protocol"] = json!(["bearer.jwt-secret-part"]);
    };
    let mut value = fixture("connect_subprotocol_token", "jwt-secret-part");
    only_bearer(&mut value);
    let mut request = authorizer_event("connect_subprotocol_token", "jwt-secret-part");
    request.headers.insert("Sec-WebSocket-Protocol".into(), "bearer.jwt-secret-part".into());
    let answer = h.proxy.authorize(&request).await.expect("the token is still read from the subprotocol");
    assert_eq!(h.backend.connects.lock().expect("lock")[0].1.token, "jwt-secret-part");
    value["requestContext"]["authorizer"] = passed_on(&answer);
    let response = h.proxy.handle(event(value)).await;
    assert_eq!(response.status_code, 200);
    assert!(
        response.headers.get("sec-websocket-protocol").is_none(),
        "chat.v1 was not offered and a bearer value is never echoed: {:?}",
        response.headers
    );
    let text = serde_json::to_string(&response).expect("serialise");
    assert!(!text.contains("jwt-secret-part"), "the token never goes back to the client");
}

#[tokio::test]
async fn connect_with_a_header_token_from_a_non_browser_client() {
    let h = harness(FakeBackend::default());
    assert_eq!(connect(&h, "connect_header_token", "jwt-header").await.1, 200);
    let sent = h.backend.connects.lock().expect("lock").clone();
    assert_eq!(sent[0].1.token, "jwt-header");
    assert_eq!(sent[0].1.connection_type, ConnectionType::Booking);
    assert_eq!(h.store.get(CONNECTION).expect("recorded").connection_type, ConnectionType::Booking);

    let (_, status) = handshake(&h, "connect_header_token", "", |value| {
        value["headers"].as_object_mut().expect("headers").remove("Authorization");
        value["multiValueHeaders"].as_object_mut().expect("headers").remove("Authorization");
        value["headers"]["X-Api-Key"] = "jwt-key".into();
    })
    .await;
    assert_eq!(status, 200);
    assert_eq!(h.backend.connects.lock().expect("lock")[1].1.token, "jwt-key");
}

#[tokio::test]
async fn backend_refusals_keep_their_handshake_status_and_record_nothing() {
    for (status, code) in [
        (401, ErrorCode::AuthenticationError),
        (403, ErrorCode::AuthorizationError),
        (404, ErrorCode::NotFound),
    ] {
        let h = harness(FakeBackend {
            on_connect: Box::new(move |_, _| Err(refused(status, code))),
            ..FakeBackend::default()
        });
        let (authorized, got) = connect(&h, "connect_query_token", "t").await;
        assert_eq!(got, i64::from(status));
        // A token refused is the authorizer's own 401; the rest travel to $connect in the context.
        assert_eq!(authorized.is_err(), status == 401, "{status}");
        assert!(h.store.is_empty());
    }
}

#[tokio::test]
async fn a_backend_that_is_down_slow_or_failing_refuses_the_handshake() {
    for error in [
        || BackendError::Unavailable("timed out".into()),
        || BackendError::Unavailable("backend answered 503".into()),
        || BackendError::Contract("not JSON".into()),
    ] {
        let h =
            harness(FakeBackend { on_connect: Box::new(move |_, _| Err(error())), ..FakeBackend::default() });
        let (_, status) = connect(&h, "connect_query_token", "t").await;
        assert_eq!(status, 502, "a connection whose user is unknown is never accepted");
        assert!(h.store.is_empty());
    }
}

#[tokio::test]
async fn bad_handshakes_are_refused_before_the_backend_is_asked() {
    let h = harness(FakeBackend::default());
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutation, i64)> = vec![
        (Box::new(|e| e["queryStringParameters"] = json!({"token": "t"})), 400),
        (Box::new(|e| e["queryStringParameters"]["booking_id"] = "abc".into()), 400),
        (Box::new(|e| e["queryStringParameters"]["booking_id"] = "-4".into()), 400),
        (Box::new(|e| e["queryStringParameters"]["type"] = "gossip".into()), 400),
        (Box::new(|e| e["queryStringParameters"] = json!({"booking_id": "1"})), 401),
    ];
    for (mutate, status) in cases {
        assert_eq!(handshake(&h, "connect_query_token", "t", &mutate).await.1, status);
    }
    assert!(h.backend.connects.lock().expect("lock").is_empty());
    assert!(h.store.is_empty());
}

#[tokio::test]
async fn connect_without_the_authorizers_context_is_refused_and_records_nothing() {
    let h = harness(FakeBackend::default());
    let response = h.proxy.handle(event(fixture("connect_query_token", "t"))).await;
    assert_eq!(response.status_code, 500, "the route is misconfigured without its authorizer");
    assert!(h.store.is_empty());
    assert!(h.backend.connects.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_broadcast_reaches_every_connection_of_the_booking_and_no_other() {
    let h = harness(FakeBackend::default());
    seed(&h, &[(1, CONNECTION, "alice"), (1, "bob-1", "bob"), (1, "bob-2", "bob"), (2, "carol-1", "carol")])
        .await;
    let response = h.proxy.handle(accepted(fixture("message", ""))).await;
    assert_eq!(response.status_code, 200);
    let forwarded = h.backend.messages.lock().expect("lock").clone();
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].0, 1);
    assert_eq!(forwarded[0].1.user_id, "alice");
    assert_eq!(forwarded[0].1.message["data"]["client_message_id"], "c-7f3a");
    for connection in [CONNECTION, "bob-1", "bob-2"] {
        let frames = h.gateway.frames_to(connection);
        assert_eq!(frames.len(), 1, "{connection}");
        assert_eq!(frames[0]["type"], "message");
        assert!(frames[0].get("broadcast").is_none(), "delivery flags are not relayed");
    }
    assert!(h.gateway.frames_to("carol-1").is_empty());
    for (endpoint, _) in h.gateway.targets() {
        assert_eq!(endpoint, ENDPOINT, "built from apiId, region and stage, never from domainName");
    }
}

#[tokio::test]
async fn the_endpoint_ignores_a_custom_domain_and_honours_configuration() {
    let h = harness(FakeBackend::default());
    seed(&h, &[(1, CONNECTION, "alice")]).await;
    let mut value = fixture("message", "");
    value["requestContext"]["domainName"] = "chat.example.com".into();
    h.proxy.handle(accepted(value)).await;
    assert_eq!(h.gateway.targets()[0].0, ENDPOINT);

    let mut settings = support::settings();
    settings.management_endpoint = Some("http://127.0.0.1:3001/local".into());
    let gateway = Arc::new(RecordingGateway::default());
    let store = Arc::new(InMemoryConnectionStore::default());
    store.put(&record(1, CONNECTION, "alice")).await.expect("put");
    let proxy = Proxy::new(store, gateway.clone(), Arc::new(FakeBackend::default()), settings);
    proxy.handle(accepted(fixture("message", ""))).await;
    assert_eq!(gateway.targets()[0].0, "http://127.0.0.1:3001/local");
}

#[tokio::test]
async fn exclude_sender_leaves_the_sender_out() {
    let h = harness(FakeBackend {
        on_message: Box::new(|_, _| {
            Ok(Some(reply(
                json!({"type": "typing", "user_id": "alice", "timestamp": 1}),
                Audience::BookingExceptSender,
            )))
        }),
        ..FakeBackend::default()
    });
    seed(&h, &[(1, CONNECTION, "alice"), (1, "bob-1", "bob")]).await;
    h.proxy.handle(message_event(CONNECTION, r#"{"action":"typing","data":{"is_typing":true}}"#)).await;
    assert!(h.gateway.frames_to(CONNECTION).is_empty());
    assert_eq!(h.gateway.frames_to("bob-1")[0]["type"], "typing");
}

#[tokio::test]
async fn a_reply_to_the_sender_reaches_only_the_sender_and_204_reaches_nobody() {
    let h = harness(FakeBackend {
        on_message: Box::new(|_, request| {
            if request.message["action"] == "ping" {
                Ok(Some(reply(json!({"type": "pong", "request_id": "p", "timestamp": 1}), Audience::Sender)))
            } else {
                Ok(None)
            }
        }),
        ..FakeBackend::default()
    });
    seed(&h, &[(1, CONNECTION, "alice"), (1, "bob-1", "bob")]).await;
    h.proxy.handle(message_event(CONNECTION, r#"{"action":"ping","request_id":"p"}"#)).await;
    assert_eq!(
        h.gateway.frames_to(CONNECTION),
        vec![json!({"type": "pong", "request_id": "p", "timestamp": 1})]
    );
    assert!(h.gateway.frames_to("bob-1").is_empty());
    h.proxy.handle(message_event(CONNECTION, r#"{"action":"quiet"}"#)).await;
    assert_eq!(h.gateway.post_count(), 1);
}

#[tokio::test]
async fn oversized_binary_and_non_json_frames_get_error_frames_without_calling_the_backend() {
    let h = harness(FakeBackend::default());
    seed(&h, &[(1, CONNECTION, "alice")]).await;
    let huge = format!(r#"{{"body":"{}"}}"#, "x".repeat(33 * 1024));
    h.proxy.handle(message_event(CONNECTION, &huge)).await;
    let mut binary = fixture("message", "");
    binary["isBase64Encoded"] = true.into();
    binary["body"] = "AAECAw==".into();
    h.proxy.handle(accepted(binary)).await;
    h.proxy.handle(message_event(CONNECTION, "{not json")).await;
    h.proxy.handle(message_event(CONNECTION, "")).await;
    let codes: Vec<Value> =
        h.gateway.frames_to(CONNECTION).iter().map(|f| f["error"]["code"].clone()).collect();
    assert_eq!(
        codes,
        vec![
            json!("PAYLOAD_TOO_LARGE"),
            json!("VALIDATION_ERROR"),
            json!("VALIDATION_ERROR"),
            json!("VALIDATION_ERROR")
        ]
    );
    assert!(h.backend.messages.lock().expect("lock").is_empty());
    assert!(h.gateway.closed().is_empty(), "errors never close a healthy connection");
    assert!(h.store.get(CONNECTION).is_some());
}

#[tokio::test]
async fn backend_failures_become_error_frames_for_the_sender_with_the_request_id() {
    let h = harness(FakeBackend {
        on_message: Box::new(|_, request| match request.message["data"]["mode"].as_str() {
            Some("down") => Err(BackendError::Unavailable("timed out".into())),
            Some("garbled") => Err(BackendError::Contract("not JSON".into())),
            _ => Err(refused(429, ErrorCode::RateLimited)),
        }),
        ..FakeBackend::default()
    });
    seed(&h, &[(1, CONNECTION, "alice"), (1, "bob-1", "bob")]).await;
    for mode in ["down", "garbled", "limited"] {
        let body = json!({"action": "x", "data": {"mode": mode}, "request_id": mode}).to_string();
        h.proxy.handle(message_event(CONNECTION, &body)).await;
    }
    let frames = h.gateway.frames_to(CONNECTION);
    let got: Vec<(Value, Value)> =
        frames.iter().map(|f| (f["error"]["code"].clone(), f["request_id"].clone())).collect();
    assert_eq!(
        got,
        vec![
            (json!("BACKEND_UNAVAILABLE"), json!("down")),
            (json!("BACKEND_UNAVAILABLE"), json!("garbled")),
            (json!("RATE_LIMITED"), json!("limited")),
        ]
    );
    assert!(h.gateway.frames_to("bob-1").is_empty());
    assert!(h.gateway.closed().is_empty());
}

/// A `$default` event of bob's `connection_id` on booking 1 whose `$connect` token expired a second ago.
fn expired_event(connection_id: &str, body: &str) -> Value {
    let mut value = as_user(fixture("message", ""), 1, "bob");
    value["requestContext"]["connectionId"] = connection_id.into();
    value["requestContext"]["authorizer"]["expires_at"] = (now_seconds() - 1).to_string().into();
    value["body"] = body.into();
    value
}

#[tokio::test]
async fn a_frame_without_an_identity_is_refused_and_the_socket_closed() {
    let h = harness(FakeBackend::default());
    let mut never = fixture("message", "");
    never["requestContext"]["connectionId"] = "never-authorized".into();
    h.proxy.handle(event(never)).await;
    assert_eq!(h.gateway.frames_to("never-authorized")[0]["error"]["code"], "AUTHENTICATION_ERROR");
    assert_eq!(h.gateway.closed(), vec!["never-authorized".to_owned()]);
    assert!(h.backend.messages.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_frame_on_a_connection_whose_token_expired_unrenewed_is_told_token_expired_and_closed() {
    let h = harness(FakeBackend::default());
    let mut stale = record(1, "old-1", "bob");
    stale.ttl = now_seconds() - 1;
    h.store.put(&stale).await.expect("put");
    h.proxy.handle(event(expired_event("old-1", r#"{"action":"ping"}"#))).await;
    let told = h.gateway.frames_to("old-1");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0]["error"]["code"], "TOKEN_EXPIRED");
    assert_eq!(h.gateway.closed(), vec!["old-1".to_owned()]);
    assert!(h.store.get("old-1").is_none(), "its record is forgotten");
    assert!(h.backend.messages.lock().expect("lock").is_empty(), "nothing reaches the backend");
}

#[tokio::test]
async fn a_connection_renewed_by_refresh_keeps_working_after_its_connect_token_expired() {
    let h = harness(FakeBackend::default());
    let renewed_until = now_seconds() + 900;
    let mut renewed = record(1, "old-1", "bob");
    renewed.ttl = renewed_until;
    h.store.put(&renewed).await.expect("put");
    let answer = h.proxy.handle(event(expired_event("old-1", r#"{"action":"ping"}"#))).await;
    assert_eq!(answer.status_code, 200);
    let sent = h.backend.messages.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1, "the frame went to the backend");
    assert_eq!(sent[0].1.expires_at, Some(renewed_until), "with the renewed expiry, for `session`");
    assert!(h.gateway.closed().is_empty());
    assert!(h.gateway.frames_to("old-1").iter().all(|f| f["type"] != "error"));
}

#[tokio::test]
async fn a_refresh_extends_the_record_within_two_hours_of_connect_before_the_session_frame_is_delivered() {
    let far = now_seconds() + 10 * 3600;
    let backend = FakeBackend {
        on_message: Box::new(move |_, _| {
            let frame = json!({"type": "session", "user_id": "alice", "expires_at": far * 1000, "closes_at": 1, "timestamp": 1});
            Ok(Some(reply(frame, Audience::Sender).renewing(Some(far))))
        }),
        ..FakeBackend::default()
    };
    let h = harness(backend);
    seed(&h, &[(1, CONNECTION, "alice")]).await;
    h.proxy.handle(message_event(CONNECTION, r#"{"action":"refresh","data":{"token":"t"}}"#)).await;
    let frames = h.gateway.frames_to(CONNECTION);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["type"], "session");
    assert!(frames[0].get("token_expires_at").is_none(), "the instruction is not relayed");
    let ttl = h.store.get(CONNECTION).expect("recorded").ttl;
    assert!(ttl < far, "never past API Gateway's two hours");
    assert!(ttl > now_seconds() + MAX_CONNECTION_SECONDS - 60, "but extended to them: {ttl}");

    // A refresh on a connection whose record is gone cannot be honoured: the client is told to reconnect.
    h.store.remove(1, CONNECTION).await.expect("remove");
    h.proxy.handle(message_event(CONNECTION, r#"{"action":"refresh","data":{"token":"t"}}"#)).await;
    let frames = h.gateway.frames_to(CONNECTION);
    assert_eq!(frames[1]["error"]["code"], "TOKEN_EXPIRED");
    assert_eq!(h.gateway.closed(), vec![CONNECTION.to_owned()]);
}

#[tokio::test]
async fn a_broadcast_tells_and_closes_the_bookings_expired_connections_instead_of_skipping_them() {
    let h = harness(FakeBackend::default());
    seed(&h, &[(1, CONNECTION, "alice"), (1, "bob-1", "bob")]).await;
    let mut stale = record(1, "bob-stale", "bob");
    stale.ttl = now_seconds() - 1;
    h.store.put(&stale).await.expect("put");
    h.proxy.handle(message_event(CONNECTION, r#"{"action":"send_message","data":{"body":"hi"}}"#)).await;
    assert_eq!(h.gateway.frames_to("bob-1")[0]["type"], "message");
    let told = h.gateway.frames_to("bob-stale");
    assert_eq!(told.len(), 1, "the message is not delivered on an expired token");
    assert_eq!(told[0]["error"]["code"], "TOKEN_EXPIRED");
    assert_eq!(h.gateway.closed(), vec!["bob-stale".to_owned()]);
    assert!(h.store.get("bob-stale").is_none());
}

#[tokio::test]
async fn a_fan_out_where_one_of_three_connections_is_gone_delivers_two_and_forgets_the_gone_one() {
    let h = harness(FakeBackend::default());
    seed(&h, &[(1, CONNECTION, "alice"), (1, "bob-1", "bob"), (1, "bob-stale", "bob")]).await;
    h.gateway.make_gone("bob-stale");
    let response = h.proxy.handle(accepted(fixture("message", ""))).await;
    assert_eq!(response.status_code, 200, "a gone connection does not fail the broadcast");
    assert_eq!(h.gateway.frames_to(CONNECTION).len(), 1);
    assert_eq!(h.gateway.frames_to("bob-1").len(), 1);
    assert!(h.store.get("bob-stale").is_none(), "gone records are removed");
    assert_eq!(h.store.list(1).await.expect("list").len(), 2);
}

#[tokio::test]
async fn throttled_deliveries_are_retried_and_persistent_failures_do_not_block_the_others() {
    let h = harness(FakeBackend::default());
    seed(&h, &[(1, CONNECTION, "alice"), (1, "flaky", "bob"), (1, "hopeless", "bob"), (1, "broken", "bob")])
        .await;
    h.gateway.make_flaky("flaky", 2);
    h.gateway.make_flaky("hopeless", 100);
    h.gateway.make_broken("broken");
    h.proxy.handle(accepted(fixture("message", ""))).await;
    assert_eq!(h.gateway.frames_to("flaky").len(), 1, "delivered on the third attempt");
    assert!(h.gateway.frames_to("hopeless").is_empty(), "given up after the bounded attempts");
    assert!(h.gateway.frames_to("broken").is_empty());
    assert_eq!(h.gateway.frames_to(CONNECTION).len(), 1);
    assert!(h.store.get("hopeless").is_some(), "a failing connection is not forgotten");
}

#[tokio::test]
async fn an_answer_too_large_to_post_is_replaced_by_an_error_frame_saying_why() {
    let h = harness(FakeBackend {
        on_message: Box::new(|_, _| {
            let history = json!({"type": "history", "messages": "x".repeat(200_000), "timestamp": 1});
            Ok(Some(reply(history, Audience::Sender)))
        }),
        ..FakeBackend::default()
    });
    seed(&h, &[(1, CONNECTION, "alice")]).await;
    h.gateway.refuse_frames_over(128 * 1024);
    h.proxy.handle(message_event(CONNECTION, r#"{"action":"sync","request_id":"r-7"}"#)).await;
    let frames = h.gateway.frames_to(CONNECTION);
    assert_eq!(frames.len(), 1, "exactly one answer: {frames:?}");
    assert_eq!(frames[0]["type"], "error");
    assert_eq!(frames[0]["error"]["code"], ErrorCode::PayloadTooLarge.as_str());
    assert!(frames[0]["error"]["message"].as_str().expect("text").contains("128 KB"));
    assert_eq!(frames[0]["request_id"], "r-7");
}

#[tokio::test]
async fn a_sender_whose_own_copy_of_a_broadcast_fails_is_told() {
    let h = harness(FakeBackend::default());
    seed(&h, &[(1, CONNECTION, "alice"), (1, "other", "bob")]).await;
    h.gateway.make_flaky(CONNECTION, 3);
    h.proxy.handle(message_event(CONNECTION, r#"{"body":"hi","request_id":"r-1"}"#)).await;
    assert_eq!(h.gateway.frames_to("other").len(), 1, "the others get the broadcast");
    let frames = h.gateway.frames_to(CONNECTION);
    assert_eq!(frames.len(), 1, "the sender gets one answer: {frames:?}");
    assert_eq!(frames[0]["error"]["code"], ErrorCode::InternalError.as_str());
    assert_eq!(frames[0]["request_id"], "r-1");
}

#[tokio::test]
async fn a_connection_store_that_is_down_refuses_handshakes_with_503_and_broadcasts_with_backend_unavailable()
{
    let gateway = Arc::new(RecordingGateway::default());
    let proxy = Proxy::new(DownStore, gateway.clone(), FakeBackend::default(), support::settings());
    let answer = proxy.authorize(&authorizer_event("connect_query_token", "t")).await.expect("allowed");
    let mut value = fixture("connect_query_token", "t");
    value["requestContext"]["authorizer"] = passed_on(&answer);
    assert_eq!(proxy.handle(event(value)).await.status_code, 503);
    assert_eq!(
        proxy.handle(message_event(CONNECTION, r#"{"body":"hi","request_id":"p"}"#)).await.status_code,
        200
    );
    let frames = gateway.frames_to(CONNECTION);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0]["error"]["code"], ErrorCode::BackendUnavailable.as_str());
    assert_eq!(frames[0]["request_id"], "p");
}

#[tokio::test]
async fn booking_status_connections_receive_status_frames_only() {
    let h = harness(FakeBackend::default());
    seed(&h, &[(1, CONNECTION, "alice")]).await;
    let mut watcher = record(1, "watcher", "bob");
    watcher.connection_type = ConnectionType::Booking;
    h.store.put(&watcher).await.expect("put");
    h.proxy.handle(accepted(fixture("message", ""))).await;
    assert!(h.gateway.frames_to("watcher").is_empty());
    assert_eq!(h.gateway.frames_to(CONNECTION).len(), 1);
}

#[tokio::test]
async fn disconnect_removes_the_records_and_tells_the_backend() {
    let h = harness(FakeBackend::default());
    seed(&h, &[(1, CONNECTION, "alice"), (1, "bob-1", "bob")]).await;
    let response = h.proxy.handle(accepted(fixture("disconnect", ""))).await;
    assert_eq!(response.status_code, 200);
    assert!(h.store.get(CONNECTION).is_none());
    assert_eq!(h.store.list(1).await.expect("list").len(), 1);
    let told = h.backend.disconnects.lock().expect("lock").clone();
    assert_eq!(
        (told[0].0, told[0].1.user_id.as_str(), told[0].1.connection_id.as_str()),
        (1, "alice", CONNECTION)
    );
    // Idempotent: a second disconnect is fine; a disconnect of a connection never accepted tells nobody.
    assert_eq!(h.proxy.handle(accepted(fixture("disconnect", ""))).await.status_code, 200);
    assert_eq!(h.proxy.handle(event(fixture("disconnect", ""))).await.status_code, 200);
    assert_eq!(h.backend.disconnects.lock().expect("lock").len(), 2);
}

#[tokio::test]
async fn disconnect_succeeds_when_the_backend_is_down() {
    let h = harness(FakeBackend { fail_disconnect: true, ..FakeBackend::default() });
    seed(&h, &[(1, CONNECTION, "alice")]).await;
    assert_eq!(h.proxy.handle(accepted(fixture("disconnect", ""))).await.status_code, 200);
    assert!(h.store.get(CONNECTION).is_none());
}

#[tokio::test]
async fn malformed_events_are_answered_without_panicking() {
    let h = harness(FakeBackend::default());
    let minimal = json!({"requestContext": {"connectedAt": 0, "requestTimeEpoch": 0}});
    assert_eq!(h.proxy.handle(event(minimal)).await.status_code, 400, "no connection id");
    let no_route = json!({"requestContext": {"connectedAt": 0, "requestTimeEpoch": 0, "connectionId": "x"}});
    assert_eq!(
        h.proxy.handle(event(no_route)).await.status_code,
        500,
        "no endpoint can be built without apiId and stage"
    );
    let connect_without_context = json!({"requestContext": {"routeKey": "$connect", "connectedAt": 0, "requestTimeEpoch": 0, "connectionId": "x"}});
    assert_eq!(h.proxy.handle(event(connect_without_context)).await.status_code, 500);
    assert!(
        h.proxy.invoke(json!({"type": "REQUEST", "methodArn": 5})).await.is_err(),
        "an unreadable event fails"
    );
    let mut no_body = fixture("message", "");
    no_body.as_object_mut().expect("object").remove("body");
    seed(&h, &[(1, CONNECTION, "alice")]).await;
    assert_eq!(h.proxy.handle(accepted(no_body)).await.status_code, 200);
    assert_eq!(h.gateway.frames_to(CONNECTION)[0]["error"]["code"], "VALIDATION_ERROR");
    // The runtime's own deserialisation rejects events missing required fields instead of guessing.
    assert!(
        serde_json::from_value::<aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest>(json!({}))
            .is_err()
    );
}
