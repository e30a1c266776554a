//! The proxy at the edges of a connection: presence never precedes the record; only the sender's copy of
//! an answer carries its `request_id`; members' user frames ride the same fan-out; a record still in its
//! handshake is not forgotten on a 410.

mod support;

use std::sync::Arc;

use chat_connections::ConnectionStore;
use chat_connections::testing::{DownStore, RecordingGateway, connecting_record};
use chat_proxy::Proxy;
use chat_wire::proxy::{Audience, ConnectionType, UserFrame};
use chat_wire::{ServerFrame, ServerPayload};
use serde_json::json;
use support::{
    FakeBackend, accepted, authorizer_event, event, fixture, harness, message_event, passed_on, record,
    reply, shared,
};

const CONNECTION: &str = "Vx2pYdWsliACFtw=";

#[tokio::test]
async fn the_backend_hears_of_a_connection_once_its_record_is_written_and_not_before() {
    let h = harness(FakeBackend::default());
    let answer = h.proxy.authorize(&authorizer_event("connect_query_token", "t")).await.expect("allowed");
    assert!(h.backend.connecteds.lock().expect("lock").is_empty(), "the authorizer records no presence");
    let mut value = fixture("connect_query_token", "t");
    value["requestContext"]["authorizer"] = passed_on(&answer);
    assert_eq!(h.proxy.handle(event(value)).await.status_code, 200);
    let told = h.backend.connecteds.lock().expect("lock").clone();
    assert_eq!(told.len(), 1);
    assert_eq!(
        (told[0].0, told[0].1.user_id.as_str(), told[0].1.connection_id.as_str()),
        (1, "alice", CONNECTION)
    );
    assert!(h.store.get(CONNECTION).is_some(), "recorded");

    // A record that cannot be written: the handshake is refused, and nobody is told someone came online.
    let backend = shared(FakeBackend::default());
    let proxy =
        Proxy::new(DownStore, Arc::new(RecordingGateway::default()), backend.clone(), support::settings());
    let answer = proxy.authorize(&authorizer_event("connect_query_token", "t")).await.expect("allowed");
    let mut value = fixture("connect_query_token", "t");
    value["requestContext"]["authorizer"] = passed_on(&answer);
    assert_eq!(proxy.handle(event(value)).await.status_code, 503);
    assert!(backend.connecteds.lock().expect("lock").is_empty(), "no presence without a record");
}

#[tokio::test]
async fn only_the_sender_copy_of_a_broadcast_carries_the_request_id() {
    let h = harness(FakeBackend {
        on_message: Box::new(|_, _| {
            let frame = json!({"type": "message", "booking_id": 1, "request_id": "1", "timestamp": 1});
            Ok(Some(reply(frame, Audience::Booking)))
        }),
        ..FakeBackend::default()
    });
    h.store.put(&record(1, CONNECTION, "alice")).await.expect("put");
    h.store.put(&record(1, "bob-1", "bob")).await.expect("put");
    h.proxy.handle(message_event(CONNECTION, r#"{"action":"send_message","request_id":1}"#)).await;
    assert_eq!(h.gateway.frames_to(CONNECTION)[0]["request_id"], "1");
    let other = &h.gateway.frames_to("bob-1")[0];
    assert_eq!(other["type"], "message");
    assert!(other.get("request_id").is_none(), "{other}");
}

#[tokio::test]
async fn user_frames_follow_the_frame_to_their_members_user_connections_in_the_same_fanout() {
    let h = harness(FakeBackend {
        on_message: Box::new(|_, _| {
            let unread = ServerFrame::new(
                ServerPayload::Unread { booking_id: 1, unread_count: 3, last_read_message_id: None },
                1,
            );
            let frame = json!({"type": "message", "booking_id": 1, "timestamp": 1});
            Ok(Some(reply(frame, Audience::Booking).with_user_frames(vec![UserFrame::new("bob", &unread)])))
        }),
        ..FakeBackend::default()
    });
    let mut bobs_inbox = record(1, "bob-user", "bob");
    bobs_inbox.connection_type = ConnectionType::User;
    let mut alices_inbox = record(1, "alice-user", "alice");
    alices_inbox.connection_type = ConnectionType::User;
    for r in [record(1, CONNECTION, "alice"), record(1, "bob-tab", "bob"), bobs_inbox, alices_inbox] {
        h.store.put(&r).await.expect("put");
    }
    h.proxy.handle(accepted(fixture("message", ""))).await;
    let types = |id: &str| -> Vec<String> {
        h.gateway.frames_to(id).iter().map(|f| f["type"].as_str().unwrap_or_default().to_owned()).collect()
    };
    assert_eq!(types("bob-user"), ["message", "unread"], "the message, then bob's count");
    assert_eq!(types("bob-tab"), ["message"], "a chat connection gets no count");
    assert_eq!(types("alice-user"), ["message"], "nor another member's user connection");
    assert_eq!(types(CONNECTION), ["message"]);
}

#[tokio::test]
async fn a_410_for_a_record_still_in_its_handshake_keeps_the_record() {
    let h = harness(FakeBackend::default());
    h.store.put(&record(1, CONNECTION, "alice")).await.expect("put");
    h.store.put(&connecting_record(1, "joining", "bob")).await.expect("put");
    h.gateway.make_upgrading("joining", 100);
    h.proxy.handle(accepted(fixture("message", ""))).await;
    assert!(h.store.get("joining").is_some(), "kept: its upgrade is not finished");
    h.gateway.make_upgrading("joining", 0);
    h.proxy.handle(accepted(fixture("message", ""))).await;
    assert_eq!(h.gateway.frames_to("joining").len(), 1, "and the next frame reaches it");
}
