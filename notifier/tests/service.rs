//! The notifier's rules on a real chat store (SQLite in a temporary directory), with a queue and a mailer
//! that record what they are asked and fail when told to: what happens when sending fails, when its
//! outcome is unknown, when a job comes twice, and when an event names several recipients.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_notifier::job::{self, Job};
use chat_notifier::mail::{Email, MailError, Mailer};
use chat_notifier::queue::{Queue, QueueError};
use chat_notifier::service::{Channels, Notifier, Outcome, Policy, Skip};
use chat_notifier::{Tally, handle_body};
use chat_store::domain::{Booking, BookingStatus};
use chat_store::notifications::{NotificationSettings, QuietHours};
use chat_store::{NewMessage, Store};
use futures_util::future::BoxFuture;

#[derive(Default)]
struct RecordingQueue {
    deferred: Mutex<Vec<(Job, Duration)>>,
}

impl Queue for RecordingQueue {
    fn defer<'a>(&'a self, job: &'a Job, delay: Duration) -> BoxFuture<'a, Result<(), QueueError>> {
        self.deferred.lock().expect("lock").push((job.clone(), delay));
        Box::pin(async { Ok(()) })
    }
}

/// Sends (records) unless a failure is queued for the next attempt.
#[derive(Default)]
struct ScriptedMailer {
    sent: Mutex<Vec<Email>>,
    failures: Mutex<Vec<MailError>>,
}

impl Mailer for ScriptedMailer {
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), MailError>> {
        let result = match self.failures.lock().expect("lock").pop() {
            Some(failure) => Err(failure),
            None => {
                self.sent.lock().expect("lock").push(email.clone());
                Ok(())
            }
        };
        Box::pin(async move { result })
    }
}

struct Fixture {
    notifier: Notifier,
    store: Store,
    queue: Arc<RecordingQueue>,
    mailer: Arc<ScriptedMailer>,
    _dir: tempfile::TempDir,
}

const NOW: i64 = 1_796_630_400_000; // 2026-12-07T08:00:00Z

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/chat.db", dir.path().display());
    let store: Store = Arc::new(chat_store::sql::SqlStore::connect(&url, 2).await.expect("store"));
    store.prepare().await.expect("migrations");
    let booking = Booking {
        id: 7,
        owner_id: "olga".into(),
        renter_id: "rob".into(),
        title: "Tent".into(),
        status: BookingStatus::Confirmed,
        chat: Default::default(),
    };
    store.insert_booking_if_absent(&booking).await.expect("booking");
    let settings =
        NotificationSettings { email: Some("rob@example.com".into()), ..NotificationSettings::default() };
    assert!(store.put_notification_settings("rob", &settings, 0).await.expect("settings"));
    let (queue, mailer) = (Arc::new(RecordingQueue::default()), Arc::new(ScriptedMailer::default()));
    let policy = Policy {
        delay: Duration::from_secs(60),
        min_interval: Duration::from_secs(900),
        booking_url: "https://m.example/b/{booking_id}".into(),
        public_api_url: "https://api.example".into(),
        link_secret: "a key of at least sixteen bytes".into(),
    };
    let channels = Channels { mailer: Some(mailer.clone()), pusher: None };
    let notifier = Notifier::new(store.clone(), queue.clone(), channels, policy);
    Fixture { notifier, store, queue, mailer, _dir: dir }
}

impl Fixture {
    async fn message_from_olga(&self, body: &str) -> Job {
        let new =
            NewMessage { booking_id: 7, sender_id: "olga", body, client_message_id: None, attachments: &[] };
        let stored = self.store.insert_message(new).await.expect("message");
        Job { booking_id: 7, recipient: "rob".into(), message_id: stored.message.id, due_at: Some(NOW) }
    }

    fn sent(&self) -> usize {
        self.mailer.sent.lock().expect("lock").len()
    }

    fn fail_next_send(&self, failure: MailError) {
        self.mailer.failures.lock().expect("lock").push(failure);
    }
}

#[tokio::test]
async fn a_refused_send_releases_the_claim_so_that_the_retry_sends_once() {
    let f = fixture().await;
    let job = f.message_from_olga("The tent is dry").await;
    f.fail_next_send(MailError::Failed("Throttling".into()));
    assert!(f.notifier.handle(&job, NOW).await.is_err(), "the queue retries it");
    assert_eq!(f.notifier.handle(&job, NOW + 1_000).await.expect("retry"), Outcome::Sent);
    assert_eq!(f.notifier.handle(&job, NOW + 2_000).await.expect("again"), Outcome::Skipped(Skip::Covered));
    assert_eq!(f.sent(), 1);
}

#[tokio::test]
async fn an_unconfirmed_send_keeps_the_claim_so_that_nothing_goes_out_twice() {
    let f = fixture().await;
    let job = f.message_from_olga("The tent is dry").await;
    f.fail_next_send(MailError::Unknown("timed out"));
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Unconfirmed);
    assert_eq!(f.notifier.handle(&job, NOW + 1_000).await.expect("dup"), Outcome::Skipped(Skip::Covered));
    assert_eq!(f.sent(), 0);
}

#[tokio::test]
async fn a_rejected_email_is_not_retried() {
    let f = fixture().await;
    let job = f.message_from_olga("The tent is dry").await;
    f.fail_next_send(MailError::Rejected("MessageRejected".into()));
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Skipped(Skip::Undeliverable));
}

#[tokio::test]
async fn messages_within_the_quiet_period_wait_for_its_end_and_go_out_together() {
    let f = fixture().await;
    let first = f.message_from_olga("One").await;
    assert_eq!(f.notifier.handle(&first, NOW).await.expect("first"), Outcome::Sent);
    let second = f.message_from_olga("Two").await;
    let third = f.message_from_olga("Three").await;
    let until = NOW + 900_000;
    assert_eq!(f.notifier.handle(&second, NOW + 5_000).await.expect("second"), Outcome::Deferred(until));
    assert_eq!(f.notifier.handle(&third, NOW + 6_000).await.expect("third"), Outcome::Deferred(until));
    // SQS waits at most 15 minutes a hop: the jobs come back early and wait again.
    let deferred = f.queue.deferred.lock().expect("lock").clone();
    assert!(deferred.iter().all(|(_, delay)| *delay <= chat_notifier::config::MAX_QUEUE_DELAY));
    let second_back = Job { due_at: Some(until), ..second };
    let third_back = Job { due_at: Some(until), ..third };
    assert_eq!(f.notifier.handle(&second_back, until).await.expect("due"), Outcome::Sent);
    assert_eq!(f.notifier.handle(&third_back, until).await.expect("due"), Outcome::Skipped(Skip::Covered));
    let sent = f.mailer.sent.lock().expect("lock").clone();
    assert_eq!(sent.len(), 2);
    // The second lists everything still unread, the first message included (rob has not read it).
    assert_eq!(sent[1].subject, "3 new messages about Tent");
    assert!(["One", "Two", "Three"].iter().all(|body| sent[1].text.contains(body)), "{}", sent[1].text);
}

#[tokio::test]
async fn quiet_hours_defer_to_their_end_and_a_job_never_comes_back_at_once() {
    let f = fixture().await;
    let quiet = QuietHours { start: "07:00".into(), end: "09:00".into(), time_zone: "UTC".into() };
    let settings = NotificationSettings {
        email: Some("rob@example.com".into()),
        quiet_hours: Some(quiet),
        ..NotificationSettings::default()
    };
    assert!(f.store.put_notification_settings("rob", &settings, 1).await.expect("settings"));
    let job = f.message_from_olga("Early").await;
    // 08:00 UTC: quiet until 09:00.
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("quiet"), Outcome::Deferred(NOW + 3_600_000));
    let deferred = f.queue.deferred.lock().expect("lock").clone();
    assert_eq!(deferred.last().map(|(_, delay)| *delay), Some(Duration::from_secs(900)), "the first hop");
    assert_eq!(f.sent(), 0);
}

#[tokio::test]
async fn an_event_for_several_recipients_is_split_into_a_job_each() {
    let f = fixture().await;
    let event = serde_json::json!({
        "detail": {
            "version": 1, "id": "7/message.created/1", "occurred_at": NOW, "booking_id": 7,
            "type": "message.created", "recipients": ["rob", "carol"],
            "message": {"id": 1, "booking_id": 7, "sender_id": "olga", "body": "hi", "created_at": NOW, "reactions": []}
        }
    });
    let mut tally = Tally::default();
    handle_body(&f.notifier, &event.to_string(), &mut tally).await.expect("split");
    let deferred = f.queue.deferred.lock().expect("lock").clone();
    let recipients: Vec<&str> = deferred.iter().map(|(job, _)| job.recipient.as_str()).collect();
    assert_eq!(recipients, ["rob", "carol"]);
    assert!(deferred.iter().all(|(job, delay)| job.due_at.is_none() && delay.is_zero()));
    assert_eq!(f.sent(), 0, "each is handled when it comes back on its own");
    let body = job::body(&deferred[0].0);
    assert_eq!(job::parse(&body).expect("a job").len(), 1);
    let mut bad = Tally::default();
    assert!(handle_body(&f.notifier, "not json", &mut bad).await.is_err(), "to the dead-letter queue");
    assert_eq!(bad.failed, 1);
}

#[tokio::test]
async fn a_member_who_blocked_the_other_is_not_told_of_what_they_sent_before() {
    let f = fixture().await;
    // olga writes, then rob blocks her before the delay is over: the waiting job sends nothing.
    let job = f.message_from_olga("Pay me outside the site").await;
    let blocked =
        chat_store::chat_state::change(f.store.as_ref(), 7, |_, state| state.block("rob", "olga", NOW))
            .await
            .expect("block");
    assert!(blocked.is_some());
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Skipped(Skip::Blocked));
    assert_eq!(f.sent(), 0);
    // Lifted, the next message is emailed as usual.
    chat_store::chat_state::change(f.store.as_ref(), 7, |_, state| state.unblock("rob"))
        .await
        .expect("unblock");
    let job = f.message_from_olga("Sorry, through the site then").await;
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Sent);
    assert_eq!(f.sent(), 1);
}
