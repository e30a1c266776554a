//! The fan-out's rules over the in-memory store and a recording gateway: what a 410 means for a record
//! still in its handshake window, each record's own frames in order, and ending a removed member's
//! connections.

use std::time::Duration;

use chat_connections::store::InMemoryConnectionStore;
use chat_connections::testing::{RecordingGateway, connecting_record, record};
use chat_connections::{ConnectionRecord, ConnectionStore, Delivery, DeliveryPolicy, Fanout, Recipient};
use chat_wire::proxy::ConnectionType;

fn fanout() -> Fanout<InMemoryConnectionStore, RecordingGateway> {
    let policy = DeliveryPolicy { base_delay: Duration::from_millis(1), ..DeliveryPolicy::default() };
    Fanout::new(InMemoryConnectionStore::default(), RecordingGateway::default(), policy)
}

async fn ids(fanout: &Fanout<InMemoryConnectionStore, RecordingGateway>, booking: i64) -> Vec<String> {
    fanout.store().list(booking).await.expect("list").into_iter().map(|r| r.connection_id).collect()
}

#[tokio::test]
async fn a_410_for_a_record_still_in_its_handshake_is_retried_and_the_record_kept() {
    let fanout = fanout();
    fanout.store().put(&connecting_record(1, "new", "bob")).await.expect("put");
    fanout.gateway().make_upgrading("new", 1);
    let report = fanout
        .to_booking("http://x", 1, Some("message"), r#"{"type":"message"}"#, None)
        .await
        .expect("fan-out");
    assert_eq!(
        (report.delivered, report.gone, report.retries),
        (1, 0, 1),
        "delivered once the upgrade finished"
    );
    assert_eq!(fanout.gateway().frames_to("new").len(), 1);
    assert_eq!(ids(&fanout, 1).await, ["new"]);
}

#[tokio::test]
async fn a_record_in_its_handshake_that_answers_410_every_time_is_kept_as_connecting() {
    let fanout = fanout();
    fanout.store().put(&connecting_record(1, "new", "bob")).await.expect("put");
    fanout.gateway().make_upgrading("new", 100);
    let report = fanout.to_booking("http://x", 1, None, "{}", None).await.expect("fan-out");
    assert_eq!((report.connecting, report.gone, report.failed), (1, 0, 0));
    assert_eq!(ids(&fanout, 1).await, ["new"], "the next frame finds it");
    fanout.gateway().make_upgrading("new", 0);
    let report = fanout.to_booking("http://x", 1, None, "{}", None).await.expect("fan-out");
    assert_eq!(report.delivered, 1, "and reaches it once it is open");
}

#[tokio::test]
async fn a_410_for_an_established_connection_forgets_it_at_once() {
    let fanout = fanout();
    fanout.store().put(&record(1, "old", "bob")).await.expect("put");
    fanout.gateway().make_gone("old");
    let report = fanout.to_booking("http://x", 1, None, "{}", None).await.expect("fan-out");
    assert_eq!((report.gone, report.retries), (1, 0), "no retry: it is gone");
    assert!(ids(&fanout, 1).await.is_empty());
    let (delivery, _) = fanout.to_connection("http://x", Recipient::Unrecorded("old"), "{}").await;
    assert_eq!(delivery, Delivery::Gone, "a connection without a record is never connecting");
}

#[tokio::test]
async fn each_record_receives_its_own_frames_in_order_and_nothing_after_a_failed_one() {
    let fanout = fanout();
    for id in ["a", "b", "c"] {
        fanout.store().put(&record(1, id, id)).await.expect("put");
    }
    fanout.gateway().make_broken("c");
    let report = fanout
        .deliver("http://x", 1, |r| match r.connection_id.as_str() {
            "a" => vec![r#"{"n":1}"#, r#"{"n":2}"#],
            "b" => Vec::new(),
            _ => vec![r#"{"n":1}"#, r#"{"n":2}"#],
        })
        .await
        .expect("fan-out");
    assert_eq!((report.recipients, report.delivered, report.failed), (2, 1, 1));
    let numbers: Vec<i64> = fanout.gateway().frames_to("a").iter().filter_map(|f| f["n"].as_i64()).collect();
    assert_eq!(numbers, [1, 2]);
    assert!(fanout.gateway().frames_to("b").is_empty(), "nothing planned for b");
    assert_eq!(fanout.gateway().post_count(), 2, "c's second frame is not tried after its first failed");
}

#[tokio::test]
async fn a_user_connection_refreshed_after_joining_a_booking_keeps_receiving_it() {
    let fanout = fanout();
    let mut inbox = record(0, "inbox", "bob");
    inbox.connection_type = ConnectionType::User;
    // Recorded in booking 1 at its connect, refreshed since: its record under bob is renewed, and so is
    // booking 1's; booking 2 it joined later, and that record still has the old expiry.
    fanout.store().put_user_connection(&inbox, &[1]).await.expect("put");
    let old = ConnectionRecord { booking_id: 2, ttl: chat_wire::time::now_seconds() - 1, ..inbox.clone() };
    fanout.store().put(&old).await.expect("put");
    let renewed = chat_wire::time::now_seconds() + 3600;
    assert!(fanout.store().renew_user_connection("bob", "inbox", &[1], renewed).await.expect("renew"));
    let report = fanout
        .to_booking("http://x", 2, Some("message"), r#"{"type":"message"}"#, None)
        .await
        .expect("fan-out");
    assert_eq!((report.delivered, report.expired), (1, 0), "delivered, not expired");
    assert!(fanout.gateway().closed().is_empty());
    assert_eq!(
        fanout.store().find(2, "inbox").await.expect("find").expect("kept").ttl,
        renewed,
        "renewed to match"
    );
    // Without a renewed record under its user, an expired one is expired as before.
    fanout.store().remove_user_connection("bob", "inbox", &[1]).await.expect("remove");
    fanout.store().put(&old).await.expect("put");
    let report = fanout.to_booking("http://x", 2, None, "{}", None).await.expect("fan-out");
    assert_eq!(report.expired, 1);
}

#[tokio::test]
async fn evicting_a_member_closes_their_chat_connections_and_unlinks_their_user_connections() {
    let fanout = fanout();
    let mut user_connection = record(1, "bob-user", "bob");
    user_connection.connection_type = ConnectionType::User;
    for r in [record(1, "bob-tab", "bob"), user_connection, record(1, "alice-tab", "alice")] {
        fanout.store().put(&r).await.expect("put");
    }
    let ended = fanout
        .evict("http://x", 1, "bob", r#"{"type":"error"}"#, r#"{"type":"membership"}"#)
        .await
        .expect("evict");
    assert_eq!(ended, 2);
    assert_eq!(fanout.gateway().frames_to("bob-tab")[0]["type"], "error");
    assert_eq!(fanout.gateway().frames_to("bob-user")[0]["type"], "membership");
    assert_eq!(fanout.gateway().closed(), ["bob-tab"], "the user connection stays open for other bookings");
    assert_eq!(ids(&fanout, 1).await, ["alice-tab"]);
    assert!(fanout.gateway().frames_to("alice-tab").is_empty());
}
