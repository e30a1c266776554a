//! User connections (`?type=user`, no booking): the authorizer asks the backend for the user's bookings,
//! `$connect` records the connection in each, a frame names the booking it acts on, and `$disconnect`
//! forgets every record. Driven by the real event fixtures, with the fakes of the other tests.

mod support;

use chat_connections::ConnectionStore;
use chat_proxy::Unauthorized;
use chat_proxy::authorizer::AuthorizerResponse;
use chat_wire::proxy::{Audience, ConnectionType, UserConnectResponse};
use chat_wire::time::now_seconds;
use serde_json::{Value, json};
use support::{
    FakeBackend, Harness, as_user_connection, authorizer_event, event, fixture, harness, passed_on, record,
    refused, reply,
};

const CONNECTION: &str = "Vx2pYdWsliACFtw=";

/// The handshake of `connect_query_token` with `query` as its query string: the authorizer, then
/// `$connect` with the context it left.
async fn handshake(h: &Harness, query: Value) -> (Result<AuthorizerResponse, Unauthorized>, i64) {
    let mut value = fixture("connect_query_token", "jwt");
    value["queryStringParameters"] = query.clone();
    value["multiValueQueryStringParameters"] = Value::Null;
    let mut request = authorizer_event("connect_query_token", "jwt");
    request.query_string_parameters = serde_json::from_value(query).expect("query");
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

/// A `$default` event of alice's user connection (bookings 1 and 2) carrying `frame`.
fn user_frame(frame: &Value) -> aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest {
    let mut value = fixture("message", "");
    value["requestContext"]["connectionId"] = CONNECTION.into();
    value["body"] = frame.to_string().into();
    event(as_user_connection(value, &[1, 2], "alice", now_seconds() + 3600))
}

/// Records alice's user connection in bookings 1 and 2 and under her, as its `$connect` does.
async fn recorded_user_connection(h: &Harness) {
    let mut r = record(0, CONNECTION, "alice");
    r.connection_type = ConnectionType::User;
    h.store.put_user_connection(&r, &[1, 2]).await.expect("put");
}

#[tokio::test]
async fn a_user_connection_is_authorized_without_a_booking_and_recorded_in_each_of_the_users_bookings() {
    let h = harness(FakeBackend {
        on_connect_user: Box::new(|_| {
            Ok(UserConnectResponse {
                user_id: "alice".into(),
                expires_at: now_seconds() + 600,
                booking_ids: vec![3, 1, 2, 3],
            })
        }),
        ..FakeBackend::default()
    });
    let (authorized, status) = handshake(&h, json!({"type": "user", "token": "jwt"})).await;
    assert_eq!(status, 200);
    let context = authorized.expect("allowed").context;
    assert_eq!(context["connection_type"], "user");
    assert_eq!(context["booking_ids"], "3,1,2", "each booking once, as one string");
    assert!(context.get("booking_id").is_none());
    assert!(h.backend.connects.lock().expect("lock").is_empty(), "no booking's connect route");
    let asked = h.backend.user_connects.lock().expect("lock").clone();
    assert_eq!(asked.len(), 1);
    assert_eq!((asked[0].token.as_str(), asked[0].connection_type), ("jwt", ConnectionType::User));
    for booking in [1, 2, 3] {
        let records = h.store.list(booking).await.expect("list");
        assert_eq!(records.len(), 1, "booking {booking}");
        assert_eq!(records[0].connection_id, CONNECTION);
        assert_eq!(records[0].connection_type, ConnectionType::User);
        assert!(records[0].ttl <= now_seconds() + 600, "the same TTL rule as any connection");
    }
}

#[tokio::test]
async fn a_user_handshake_that_names_a_booking_is_refused_with_400_and_a_refused_token_with_401() {
    let h = harness(FakeBackend::default());
    let (_, status) = handshake(&h, json!({"type": "user", "booking_id": "1", "token": "jwt"})).await;
    assert_eq!(status, 400);
    assert!(h.backend.user_connects.lock().expect("lock").is_empty(), "refused before the backend");

    let h = harness(FakeBackend {
        on_connect_user: Box::new(|_| Err(refused(401, chat_wire::ErrorCode::AuthenticationError))),
        ..FakeBackend::default()
    });
    let (authorized, status) = handshake(&h, json!({"type": "user", "token": "jwt"})).await;
    assert_eq!((authorized.err(), status), (Some(Unauthorized), 401));
    assert!(h.store.is_empty());
}

#[tokio::test]
async fn a_frame_naming_a_booking_goes_to_that_booking_and_the_sender_gets_exactly_one_copy() {
    let h = harness(FakeBackend::default());
    recorded_user_connection(&h).await;
    h.store.put(&record(2, "bob-chat", "bob")).await.expect("put");
    h.store.put(&record(1, "bob-other", "bob")).await.expect("put");
    let frame =
        json!({"action": "send_message", "booking_id": 2, "data": {"body": "hi"}, "request_id": "r1"});
    assert_eq!(h.proxy.handle(user_frame(&frame)).await.status_code, 200);
    let sent = h.backend.messages.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, 2, "the booking's message route");
    assert_eq!(sent[0].1.connection_type, ConnectionType::User);
    assert_eq!(sent[0].1.user_id, "alice");
    assert_eq!(h.gateway.frames_to(CONNECTION).len(), 1, "one copy to the sender, though it is recorded");
    assert_eq!(h.gateway.frames_to("bob-chat").len(), 1, "the booking hears it");
    assert!(h.gateway.frames_to("bob-other").is_empty(), "another booking does not");
}

#[tokio::test]
async fn a_frame_to_a_booking_joined_after_connect_is_still_answered() {
    let h = harness(FakeBackend::default());
    recorded_user_connection(&h).await;
    let frame = json!({"action": "send_message", "booking_id": 9, "data": {"body": "hi"}});
    h.proxy.handle(user_frame(&frame)).await;
    assert_eq!(h.backend.messages.lock().expect("lock")[0].0, 9);
    assert_eq!(h.gateway.frames_to(CONNECTION).len(), 1, "the sender's copy comes directly");
}

#[tokio::test]
async fn a_user_connections_frame_without_a_valid_booking_is_refused_with_validation_error() {
    let h = harness(FakeBackend::default());
    recorded_user_connection(&h).await;
    for frame in [
        json!({"action": "ping", "request_id": "p"}),
        json!({"action": "ping", "request_id": "p", "booking_id": 0}),
        json!({"action": "ping", "request_id": "p", "booking_id": "seven"}),
    ] {
        h.proxy.handle(user_frame(&frame)).await;
    }
    assert!(h.backend.messages.lock().expect("lock").is_empty(), "nothing reaches the backend");
    let answers = h.gateway.frames_to(CONNECTION);
    assert_eq!(answers.len(), 3);
    for answer in answers {
        assert_eq!(answer["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(answer["request_id"], "p");
    }
}

#[tokio::test]
async fn answers_to_a_user_connection_name_their_booking_errors_included() {
    let h = harness(FakeBackend {
        on_message: Box::new(|_, request| match request.message["action"].as_str() {
            Some("ping") => Ok(Some(reply(json!({"type": "pong", "timestamp": 1}), Audience::Sender))),
            _ => Err(refused(403, chat_wire::ErrorCode::AuthorizationError)),
        }),
        ..FakeBackend::default()
    });
    recorded_user_connection(&h).await;
    h.proxy.handle(user_frame(&json!({"action": "ping", "booking_id": 2}))).await;
    h.proxy.handle(user_frame(&json!({"action": "read", "booking_id": 5, "data": {"message_id": 1}}))).await;
    let answers = h.gateway.frames_to(CONNECTION);
    assert_eq!((answers[0]["type"].as_str(), answers[0]["booking_id"].as_i64()), (Some("pong"), Some(2)));
    assert_eq!(answers[1]["error"]["code"], "AUTHORIZATION_ERROR");
    assert_eq!(answers[1]["booking_id"], 5);
}

#[tokio::test]
async fn disconnect_forgets_every_record_of_a_user_connection_and_tells_no_presence() {
    let h = harness(FakeBackend::default());
    recorded_user_connection(&h).await;
    h.store.put(&record(1, "bob-chat", "bob")).await.expect("put");
    let event = event(as_user_connection(fixture("disconnect", ""), &[1, 2], "alice", now_seconds() + 3600));
    assert_eq!(h.proxy.handle(event).await.status_code, 200);
    assert!(h.store.list(2).await.expect("list").is_empty());
    let left = h.store.list(1).await.expect("list");
    assert_eq!(left.iter().map(|r| r.connection_id.as_str()).collect::<Vec<_>>(), ["bob-chat"]);
    assert!(h.backend.disconnects.lock().expect("lock").is_empty(), "a user connection has no presence");
}

#[tokio::test]
async fn a_refreshed_user_connection_lives_on_past_its_connect_token_in_every_booking() {
    let renewed = now_seconds() + 1800;
    let h = harness(FakeBackend {
        on_message: Box::new(move |_, _| {
            let session = json!({"type": "session", "user_id": "alice", "expires_at": renewed * 1000,
                "closes_at": (now_seconds() + 7200) * 1000, "timestamp": 1});
            Ok(Some(reply(session, Audience::Sender).renewing(Some(renewed))))
        }),
        ..FakeBackend::default()
    });
    recorded_user_connection(&h).await;
    h.proxy.handle(user_frame(&json!({"action": "refresh", "booking_id": 1, "data": {"token": "t"}}))).await;
    assert_eq!(h.gateway.frames_to(CONNECTION)[0]["type"], "session");
    let own = h.store.find_user_connection("alice", CONNECTION).await.expect("find").expect("recorded");
    assert_eq!(own.ttl, renewed, "its record under alice");
    for booking in [1, 2] {
        assert_eq!(h.store.find(booking, CONNECTION).await.expect("find").expect("recorded").ttl, renewed);
    }
    // Its $connect token has expired since: the next frame reads the renewed record and goes through.
    let mut value = fixture("message", "");
    value["requestContext"]["connectionId"] = CONNECTION.into();
    value["body"] = json!({"action": "ping", "booking_id": 2}).to_string().into();
    h.proxy.handle(event(as_user_connection(value, &[1, 2], "alice", now_seconds() - 1))).await;
    let forwarded = h.backend.messages.lock().expect("lock").clone();
    assert_eq!(forwarded.len(), 2, "the refresh and the ping both reached the backend");
    assert_eq!((forwarded[1].0, forwarded[1].1.expires_at), (2, Some(renewed)));
    assert!(h.gateway.closed().is_empty(), "not closed");
}

#[tokio::test]
async fn an_expired_user_connection_is_told_and_closed_on_its_next_frame() {
    let h = harness(FakeBackend::default());
    recorded_user_connection(&h).await;
    // Never refreshed: its records expire with its $connect token.
    let lapsed = now_seconds() - 1;
    h.store.renew_user_connection("alice", CONNECTION, &[1, 2], lapsed).await.expect("renew");
    let mut value = fixture("message", "");
    value["body"] = json!({"action": "ping", "booking_id": 1}).to_string().into();
    let expired = event(as_user_connection(value, &[1, 2], "alice", now_seconds() - 1));
    h.proxy.handle(expired).await;
    assert!(h.backend.messages.lock().expect("lock").is_empty());
    assert_eq!(h.gateway.frames_to(CONNECTION)[0]["error"]["code"], "TOKEN_EXPIRED");
    assert_eq!(h.gateway.closed(), [CONNECTION]);
}
