//! The store's notification records, on every store: members' settings, written by compare-and-set on
//! their version, and the claims that let one notifier, of several racing, tell a member about a booking's
//! messages (`ChatStore::claim_notification`, `release_notification`). Driven through the store the real
//! startup path opened.

use chat_backend::store::notifications::{Claim, ClaimRequest, NotificationSettings, Notified, QuietHours};
use chat_backend::store::push::{PushKeys, PushSubscription};
use chat_backend::store::{NewMessage, PageCursor, PresenceConnection, Store};

use crate::helpers::{TestApp, chrono_now};

crate::on_every_store!(
    settings_never_written_are_the_defaults_at_version_0,
    settings_written_at_version_0_read_back_at_version_1_and_the_next_write_needs_it,
    a_write_at_a_stale_version_returns_false_and_changes_nothing,
    concurrent_read_modify_write_loops_lose_no_mute,
    a_claim_is_granted_then_covered_then_too_soon_then_granted_after_the_interval,
    of_eight_concurrent_claims_of_the_same_messages_exactly_one_is_granted,
    a_released_claim_puts_the_previous_one_back_so_a_retry_claims,
    a_release_after_a_newer_claim_keeps_the_newer_one,
    notification_records_do_not_show_up_in_a_bookings_reads_or_the_inbox,
);

/// The quiet period of every claim here, ms.
const INTERVAL: i64 = 60_000;

fn claim(user_id: &str, through: i64, now: i64) -> ClaimRequest<'_> {
    ClaimRequest { booking_id: 1, user_id, through, now, min_interval_ms: INTERVAL }
}

async fn settings_never_written_are_the_defaults_at_version_0(app: TestApp) {
    let stored = app.store.notification_settings("bob").await.expect("read");
    assert_eq!(stored.settings, NotificationSettings::default());
    assert_eq!(stored.version, 0);
}

async fn settings_written_at_version_0_read_back_at_version_1_and_the_next_write_needs_it(app: TestApp) {
    let settings = NotificationSettings {
        email: Some("bob@example.com".into()),
        email_enabled: false,
        push_enabled: true,
        quiet_hours: Some(QuietHours {
            start: "22:00".into(),
            end: "07:00".into(),
            time_zone: "Europe/Paris".into(),
        }),
        muted_bookings: vec![1, 2],
        push_subscriptions: vec![PushSubscription {
            endpoint: "https://fcm.googleapis.com/fcm/send/x:APA91b".into(),
            keys: PushKeys { p256dh: format!("B{}", "A".repeat(86)), auth: "AAAAAAAAAAAAAAAAAAAAAA".into() },
            created_at: 1_765_000_000_000,
        }],
    };
    assert!(app.store.put_notification_settings("bob", &settings, 0).await.expect("write"));
    let stored = app.store.notification_settings("bob").await.expect("read");
    assert_eq!((stored.settings, stored.version), (settings.clone(), 1));

    // Version 0 means "none stored": once written, it no longer matches.
    assert!(
        !app.store
            .put_notification_settings("bob", &NotificationSettings::default(), 0)
            .await
            .expect("write")
    );
    let unmuted = NotificationSettings { muted_bookings: vec![], ..settings };
    assert!(app.store.put_notification_settings("bob", &unmuted, 1).await.expect("write"));
    let stored = app.store.notification_settings("bob").await.expect("read");
    assert_eq!((stored.settings, stored.version), (unmuted, 2));
    // Another member's are their own.
    assert_eq!(app.store.notification_settings("alice").await.expect("read").version, 0);
}

async fn a_write_at_a_stale_version_returns_false_and_changes_nothing(app: TestApp) {
    let first = NotificationSettings { push_enabled: false, ..NotificationSettings::default() };
    assert!(app.store.put_notification_settings("bob", &first, 0).await.expect("write"));
    let second = NotificationSettings { muted_bookings: vec![7], ..first.clone() };
    assert!(app.store.put_notification_settings("bob", &second, 1).await.expect("write"));

    let stale = NotificationSettings { email_enabled: false, ..first };
    for version in [1, 3, -1] {
        assert!(
            !app.store.put_notification_settings("bob", &stale, version).await.expect("write"),
            "version {version} is not the stored one"
        );
    }
    let stored = app.store.notification_settings("bob").await.expect("read");
    assert_eq!((stored.settings, stored.version), (second, 2));
}

/// Mutes `booking_id` for `user_id` as a caller must: read, change, write at the version read, and start
/// again when another write came first.
async fn mute(store: Store, user_id: &str, booking_id: i64) -> u32 {
    for attempt in 1..=100 {
        let mut stored = store.notification_settings(user_id).await.expect("read");
        stored.settings.set_muted(booking_id, true).expect("mute");
        if store.put_notification_settings(user_id, &stored.settings, stored.version).await.expect("write") {
            return attempt;
        }
    }
    panic!("muting {booking_id} lost 100 races");
}

async fn concurrent_read_modify_write_loops_lose_no_mute(app: TestApp) {
    let tasks: Vec<_> =
        (1..=8).map(|booking| tokio::spawn(mute(app.store.clone(), "bob", booking))).collect();
    let mut attempts = 0;
    for task in tasks {
        attempts += task.await.expect("task");
    }
    let stored = app.store.notification_settings("bob").await.expect("read");
    let mut muted = stored.settings.muted_bookings.clone();
    muted.sort_unstable();
    assert_eq!(muted, (1..=8).collect::<Vec<_>>(), "after {attempts} attempts");
    assert_eq!(stored.version, 8, "one write per mute");
}

async fn a_claim_is_granted_then_covered_then_too_soon_then_granted_after_the_interval(app: TestApp) {
    let store = &app.store;
    let t0 = 1_000_000;
    assert_eq!(
        store.claim_notification(claim("bob", 5, t0)).await.expect("claim"),
        Claim::Claimed { previous: None }
    );
    // The same messages, whenever asked: covered.
    assert_eq!(store.claim_notification(claim("bob", 5, t0 + 10)).await.expect("claim"), Claim::Covered);
    assert_eq!(
        store.claim_notification(claim("bob", 4, t0 + 2 * INTERVAL)).await.expect("claim"),
        Claim::Covered
    );
    // Newer messages within the quiet period: not before it ends.
    assert_eq!(
        store.claim_notification(claim("bob", 6, t0 + INTERVAL - 1)).await.expect("claim"),
        Claim::TooSoon { until: t0 + INTERVAL }
    );
    // Once it ended: granted, and what was recorded before is returned.
    assert_eq!(
        store.claim_notification(claim("bob", 6, t0 + INTERVAL)).await.expect("claim"),
        Claim::Claimed { previous: Some(Notified { through: 5, at: t0 }) }
    );
    assert_eq!(
        store.claim_notification(claim("bob", 7, t0 + INTERVAL + 1)).await.expect("claim"),
        Claim::TooSoon { until: t0 + 2 * INTERVAL }
    );
    // Another member, and the same member in another booking, have records of their own.
    assert_eq!(
        store.claim_notification(claim("alice", 6, t0)).await.expect("claim"),
        Claim::Claimed { previous: None }
    );
    let other_booking = ClaimRequest { booking_id: 2, ..claim("bob", 6, t0) };
    assert_eq!(
        store.claim_notification(other_booking).await.expect("claim"),
        Claim::Claimed { previous: None }
    );
}

async fn of_eight_concurrent_claims_of_the_same_messages_exactly_one_is_granted(app: TestApp) {
    // Over an earlier notification whose quiet period ended, so that the winner replaces a record
    // (a conditional update) as well as in the first round, where it creates one.
    let now = chrono_now() * 1000;
    for (round, through, previous) in [(1, 5, None), (2, 9, Some(Notified { through: 5, at: now }))] {
        let at = now + (round - 1) * INTERVAL;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = app.store.clone();
                tokio::spawn(async move {
                    store.claim_notification(claim("bob", through, at)).await.expect("claim")
                })
            })
            .collect();
        let mut claims = Vec::new();
        for task in tasks {
            claims.push(task.await.expect("task"));
        }
        let granted: Vec<_> = claims.iter().filter(|c| matches!(c, Claim::Claimed { .. })).collect();
        assert_eq!(granted, vec![&Claim::Claimed { previous }], "round {round}: {claims:?}");
        assert_eq!(claims.iter().filter(|c| **c == Claim::Covered).count(), 7, "round {round}: {claims:?}");
    }
}

async fn a_released_claim_puts_the_previous_one_back_so_a_retry_claims(app: TestApp) {
    let store = &app.store;
    let t0 = 1_000_000;
    // The first notification fails to send: released, nothing is recorded, and a retry is granted.
    let first = claim("bob", 5, t0);
    assert_eq!(store.claim_notification(first).await.expect("claim"), Claim::Claimed { previous: None });
    store.release_notification(first, None).await.expect("release");
    let retry = claim("bob", 5, t0 + 1);
    assert_eq!(store.claim_notification(retry).await.expect("claim"), Claim::Claimed { previous: None });

    // A later one fails too: the retry's record comes back, so the quiet period still counts from it.
    let previous = Some(Notified { through: 5, at: t0 + 1 });
    let later = claim("bob", 8, t0 + 1 + INTERVAL);
    assert_eq!(store.claim_notification(later).await.expect("claim"), Claim::Claimed { previous });
    store.release_notification(later, previous).await.expect("release");
    assert_eq!(
        store.claim_notification(claim("bob", 8, t0 + INTERVAL)).await.expect("claim"),
        Claim::TooSoon { until: t0 + 1 + INTERVAL }
    );
    assert_eq!(
        store.claim_notification(claim("bob", 8, t0 + 2 + INTERVAL)).await.expect("claim"),
        Claim::Claimed { previous }
    );
    // Releasing a claim that is not recorded (released already) changes nothing.
    store.release_notification(later, previous).await.expect("release");
    assert_eq!(
        store.claim_notification(claim("bob", 8, t0 + 3 * INTERVAL)).await.expect("claim"),
        Claim::Covered
    );
}

async fn a_release_after_a_newer_claim_keeps_the_newer_one(app: TestApp) {
    let store = &app.store;
    let t0 = 1_000_000;
    let older = claim("bob", 5, t0);
    assert_eq!(store.claim_notification(older).await.expect("claim"), Claim::Claimed { previous: None });
    let newer = claim("bob", 9, t0 + INTERVAL);
    let previous = Some(Notified { through: 5, at: t0 });
    assert_eq!(store.claim_notification(newer).await.expect("claim"), Claim::Claimed { previous });

    // The older claim's sender gives up late: neither deleting nor putting anything back touches the newer.
    store.release_notification(older, None).await.expect("release");
    store.release_notification(older, Some(Notified { through: 1, at: 0 })).await.expect("release");
    assert_eq!(
        store.claim_notification(claim("bob", 10, t0 + INTERVAL + 1)).await.expect("claim"),
        Claim::TooSoon { until: t0 + 2 * INTERVAL }
    );
    assert_eq!(
        store.claim_notification(claim("bob", 9, t0 + 5 * INTERVAL)).await.expect("claim"),
        Claim::Covered
    );
}

/// Everything a booking's reads and a member's inbox return, as text.
async fn reads_of_booking_1(store: &Store) -> String {
    let latest = store.messages(1, PageCursor::Before(None), 50).await.expect("history");
    let after = store.messages(1, PageCursor::After(0), 50).await.expect("history");
    let changed = store.messages(1, PageCursor::Changed { from: 0, since: 0 }, 50).await.expect("resume");
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        (latest.messages, latest.has_more),
        (after.messages, after.has_more),
        (changed.messages, changed.has_more),
        store.read_positions(1).await.expect("read positions"),
        store.presence_records(1).await.expect("presence"),
        store.count_messages(1).await.expect("count"),
        store.unread_count(1, "bob", 0, 999).await.expect("unread"),
        store.bookings_of("bob", 100).await.expect("inbox"),
    )
}

async fn notification_records_do_not_show_up_in_a_bookings_reads_or_the_inbox(app: TestApp) {
    let store = &app.store;
    let new = NewMessage {
        booking_id: 1,
        sender_id: "alice",
        body: "hello",
        client_message_id: Some("m1"),
        attachments: &[],
    };
    let sent = store.insert_message(new).await.expect("send").message;
    store.toggle_reaction(1, sent.id, "bob", "👍").await.expect("react");
    store.mark_read(1, "alice", sent.id).await.expect("read");
    let connection =
        PresenceConnection { user_id: "alice", connection_id: "c1", at: chrono_now() * 1000 + 60_000 };
    store.add_presence(1, connection).await.expect("presence");
    let before = reads_of_booking_1(store).await;

    for user in ["alice", "bob", "carol"] {
        let settings = NotificationSettings { muted_bookings: vec![1], ..NotificationSettings::default() };
        assert!(store.put_notification_settings(user, &settings, 0).await.expect("settings"));
        let request = claim(user, sent.id, 1_000);
        assert_eq!(
            store.claim_notification(request).await.expect("claim"),
            Claim::Claimed { previous: None }
        );
    }
    assert_eq!(reads_of_booking_1(store).await, before);
}
