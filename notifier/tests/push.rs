//! Web Push end to end inside the notifier: the real pusher (`WebPusher`: RFC 8291 encryption, a VAPID
//! signature, HTTP) against a push service on loopback that records what it is sent and answers as told,
//! with the notifier's rules on a real chat store (SQLite). Each payload is decrypted with the
//! subscriber's own keys, by the decryption that the RFC's worked example checks first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chat_notifier::job::Job;
use chat_notifier::mail::{Email, MailError, Mailer};
use chat_notifier::push::{Payload, Vapid, WebPusher};
use chat_notifier::queue::{Queue, QueueError};
use chat_notifier::service::{ChannelCounts, Channels, Notifier, Outcome, Policy, Skip};
use chat_store::domain::{Booking, BookingStatus};
use chat_store::notifications::NotificationSettings;
use chat_store::push::{LOCAL_VAPID_PRIVATE_KEY, PushHosts, PushKeys, PushSubscription};
use chat_store::{NewMessage, Store};
use futures_util::future::BoxFuture;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use web_push_native::Auth;

const NOW: i64 = 1_796_630_400_000; // 2026-12-07T08:00:00Z

/// One request the push service received.
#[derive(Debug, Clone)]
struct Received {
    browser: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A push service: records each request, answers each browser (the path's last segment) with the status
/// it was told (201 by default), after `delay`.
#[derive(Default)]
struct PushService {
    received: Mutex<Vec<Received>>,
    answers: Mutex<HashMap<String, u16>>,
    delay: Mutex<Duration>,
}

async fn receive(
    State(service): State<Arc<PushService>>,
    Path(browser): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let delay = *service.delay.lock().expect("lock");
    tokio::time::sleep(delay).await;
    service.received.lock().expect("lock").push(Received {
        browser: browser.clone(),
        headers,
        body: body.to_vec(),
    });
    let status = service.answers.lock().expect("lock").get(&browser).copied().unwrap_or(201);
    StatusCode::from_u16(status).expect("status")
}

/// A browser: its key pair and auth secret, as the Push API makes them.
struct Browser {
    name: String,
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new(n: u8) -> Self {
        Self {
            name: format!("browser-{n}"),
            secret: p256::SecretKey::from_slice(&[n; 32]).expect("key"),
            auth: [n; 16],
        }
    }

    fn subscription(&self, origin: &str) -> PushSubscription {
        let public = self.secret.public_key().to_encoded_point(false);
        PushSubscription {
            endpoint: format!("{origin}/push/{}", self.name),
            keys: PushKeys {
                p256dh: URL_SAFE_NO_PAD.encode(public.as_bytes()),
                auth: URL_SAFE_NO_PAD.encode(self.auth),
            },
            created_at: NOW,
        }
    }

    /// What the browser would show: the payload decrypted with its own keys.
    fn decrypt(&self, body: &[u8]) -> Payload {
        let plain = web_push_native::decrypt(body.to_vec(), &self.secret, &Auth::from(self.auth))
            .expect("the payload decrypts with the subscriber's keys");
        serde_json::from_slice(&plain).expect("the payload is JSON")
    }
}

#[derive(Default)]
struct NoQueue;

impl Queue for NoQueue {
    fn defer<'a>(&'a self, _: &'a Job, _: Duration) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async { Ok(()) })
    }
}

#[derive(Default)]
struct ScriptedMailer {
    sent: Mutex<Vec<Email>>,
    failure: Mutex<Option<MailError>>,
}

impl Mailer for ScriptedMailer {
    fn send<'a>(&'a self, email: &'a Email) -> BoxFuture<'a, Result<(), MailError>> {
        let result = match self.failure.lock().expect("lock").take() {
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
    service: Arc<PushService>,
    mailer: Arc<ScriptedMailer>,
    origin: String,
    _dir: tempfile::TempDir,
}

/// Rob, renter of booking 7, subscribed with `browsers`, and with an email address when `email`.
async fn fixture(browsers: &[&Browser], email: bool) -> Fixture {
    let service = Arc::new(PushService::default());
    let app = axum::Router::new()
        .route("/push/{browser}", axum::routing::post(receive))
        .with_state(service.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("temp dir");
    let store: Store = Arc::new(
        chat_store::sql::SqlStore::connect(&format!("sqlite://{}/chat.db", dir.path().display()), 2)
            .await
            .expect("store"),
    );
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
    let settings = NotificationSettings {
        email: email.then(|| "rob@example.com".into()),
        push_subscriptions: browsers.iter().map(|b| b.subscription(&origin)).collect(),
        ..NotificationSettings::default()
    };
    assert!(store.put_notification_settings("rob", &settings, 0).await.expect("settings"));

    let vapid = Vapid::new(&LOCAL_VAPID_PRIVATE_KEY.into(), "mailto:ops@example.com").expect("vapid");
    let pusher = WebPusher::new(
        vapid,
        Duration::from_secs(3600),
        PushHosts::parse("127.0.0.1"),
        Duration::from_millis(500),
    );
    let mailer = Arc::new(ScriptedMailer::default());
    let policy = Policy {
        delay: Duration::from_secs(60),
        min_interval: Duration::from_secs(900),
        booking_url: "https://m.example/b/{booking_id}".into(),
        public_api_url: "https://api.example".into(),
        link_secret: "a key of at least sixteen bytes".into(),
    };
    let channels = Channels { mailer: Some(mailer.clone()), pusher: Some(Arc::new(pusher)) };
    let notifier = Notifier::new(store.clone(), Arc::new(NoQueue), channels, policy);
    Fixture { notifier, store, service, mailer, origin, _dir: dir }
}

impl Fixture {
    async fn message_from_olga(&self, body: &str) -> Job {
        let new =
            NewMessage { booking_id: 7, sender_id: "olga", body, client_message_id: None, attachments: &[] };
        let stored = self.store.insert_message(new).await.expect("message");
        Job { booking_id: 7, recipient: "rob".into(), message_id: stored.message.id, due_at: Some(NOW) }
    }

    fn received(&self) -> Vec<Received> {
        self.service.received.lock().expect("lock").clone()
    }

    fn answer(&self, browser: &Browser, status: u16) {
        self.service.answers.lock().expect("lock").insert(browser.name.clone(), status);
    }

    async fn browsers_kept(&self) -> Vec<String> {
        let settings = self.store.notification_settings("rob").await.expect("settings").settings;
        settings
            .push_subscriptions
            .into_iter()
            .map(|s| s.endpoint.rsplit('/').next().unwrap_or_default().to_owned())
            .collect()
    }
}

#[test]
fn the_decryption_the_tests_use_reads_rfc_8291s_worked_example() {
    let b64 = |text: &str| URL_SAFE_NO_PAD.decode(text).expect("b64");
    // RFC 8291, section 5 and appendix A: the user agent's private key, its auth secret, the message.
    let ua = p256::SecretKey::from_slice(&b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")).expect("key");
    let auth: [u8; 16] = b64("BTBZMqHH6r4Tts7J_aSIgg").try_into().expect("16 bytes");
    let auth = Auth::from(auth);
    let message = b64(
        "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8w\
         EqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
    );
    let plain = web_push_native::decrypt(message, &ua, &auth).expect("decrypts");
    assert_eq!(plain, b"When I grow up, I want to be a watermelon");
}

#[tokio::test]
async fn each_browser_gets_one_push_that_decrypts_with_its_keys_beside_the_email() {
    let (phone, laptop) = (Browser::new(1), Browser::new(2));
    let f = fixture(&[&phone, &laptop], true).await;
    let job = f.message_from_olga("Is 9 am fine for the pick-up?").await;
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Sent);
    assert_eq!(f.notifier.take_counts(), ChannelCounts { emailed: 1, pushed: 2, ..ChannelCounts::default() });
    assert_eq!(f.mailer.sent.lock().expect("lock").len(), 1, "the email under the same claim");

    let received = f.received();
    assert_eq!(received.len(), 2, "one push per browser");
    for browser in [&phone, &laptop] {
        let push = received.iter().find(|r| r.browser == browser.name).expect("pushed");
        let payload = browser.decrypt(&push.body);
        assert_eq!(payload.v, 1);
        assert_eq!(payload.title, "New message about Tent");
        assert_eq!(payload.body, "The owner: Is 9 am fine for the pick-up?");
        assert_eq!(payload.url, "https://m.example/b/7");
        assert_eq!((payload.booking_id, payload.unread, payload.tag.as_str()), (7, 1, "booking-7"));
        let header =
            |name: &str| push.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(header("content-encoding"), "aes128gcm");
        assert_eq!(
            (header("ttl"), header("topic"), header("urgency")),
            ("3600".into(), "booking-7".into(), "normal".into())
        );
        assert_vapid(&header("authorization"), &f.origin);
    }
    // Another message in the quiet period: nothing more.
    let again = f.message_from_olga("Or 10?").await;
    assert_ne!(f.notifier.handle(&again, NOW + 1_000).await.expect("handled"), Outcome::Sent);
    assert_eq!(f.received().len(), 2);
}

/// A VAPID header (RFC 8292) for `origin`, its JWT checked by another implementation than the signer.
fn assert_vapid(header: &str, origin: &str) {
    let (token, key) =
        header.strip_prefix("vapid t=").and_then(|h| h.split_once(", k=")).expect("vapid t=…, k=…");
    assert_eq!(key, chat_store::push::LOCAL_VAPID_PUBLIC_KEY);
    let (signed, signature) = token.rsplit_once('.').expect("a JWT");
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD.decode(signed.split_once('.').expect("claims").1).expect("b64"),
    )
    .expect("json");
    assert_eq!(claims["aud"], origin);
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_FIXED,
        URL_SAFE_NO_PAD.decode(key).expect("b64"),
    )
    .verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(signature).expect("b64"))
    .expect("signed with the deployment's key");
}

#[tokio::test]
async fn a_browser_its_push_service_no_longer_knows_is_removed_and_the_others_still_get_it() {
    let (gone, kept, expired) = (Browser::new(1), Browser::new(2), Browser::new(3));
    let f = fixture(&[&gone, &kept, &expired], false).await;
    f.answer(&gone, 410);
    f.answer(&expired, 404);
    let job = f.message_from_olga("Still there?").await;
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Sent);
    assert_eq!(
        f.notifier.take_counts(),
        ChannelCounts { pushed: 1, push_gone: 2, ..ChannelCounts::default() }
    );
    assert_eq!(f.browsers_kept().await, ["browser-2"]);
}

#[tokio::test]
async fn when_every_channel_fails_for_now_the_claim_is_released_and_the_retry_pushes_once() {
    let phone = Browser::new(1);
    let f = fixture(&[&phone], true).await;
    f.answer(&phone, 503);
    *f.mailer.failure.lock().expect("lock") = Some(MailError::Failed("Throttling".into()));
    let job = f.message_from_olga("Hello?").await;
    assert!(f.notifier.handle(&job, NOW).await.is_err(), "the queue brings it back");
    f.answer(&phone, 201);
    assert_eq!(f.notifier.handle(&job, NOW + 1_000).await.expect("retry"), Outcome::Sent);
    assert_eq!(f.notifier.handle(&job, NOW + 2_000).await.expect("dup"), Outcome::Skipped(Skip::Covered));
    let delivered = f.received().iter().filter(|r| r.browser == phone.name).count();
    assert_eq!(delivered, 2, "a 503, then the one that was taken; nothing after");
    assert_eq!(f.mailer.sent.lock().expect("lock").len(), 1);
    assert_eq!(f.browsers_kept().await, ["browser-1"], "a 503 removes nothing");
}

#[tokio::test]
async fn a_push_that_went_out_is_not_sent_again_when_the_email_fails() {
    let phone = Browser::new(1);
    let f = fixture(&[&phone], true).await;
    *f.mailer.failure.lock().expect("lock") = Some(MailError::Failed("Throttling".into()));
    let job = f.message_from_olga("Hello?").await;
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Sent);
    assert_eq!(f.notifier.handle(&job, NOW + 1_000).await.expect("dup"), Outcome::Skipped(Skip::Covered));
    assert_eq!(f.received().len(), 1);
}

#[tokio::test]
async fn a_push_service_that_does_not_answer_keeps_the_claim_so_nothing_goes_out_twice() {
    let phone = Browser::new(1);
    let f = fixture(&[&phone], false).await;
    *f.service.delay.lock().expect("lock") = Duration::from_secs(2);
    let job = f.message_from_olga("Hello?").await;
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Unconfirmed);
    assert_eq!(f.notifier.take_counts().push_failed, 1);
    assert_eq!(f.notifier.handle(&job, NOW + 1_000).await.expect("dup"), Outcome::Skipped(Skip::Covered));
}

#[tokio::test]
async fn push_turned_off_or_refused_sends_nothing_there() {
    let phone = Browser::new(1);
    let f = fixture(&[&phone], false).await;
    let mut settings = f.store.notification_settings("rob").await.expect("read");
    settings.settings.push_enabled = false;
    assert!(
        f.store.put_notification_settings("rob", &settings.settings, settings.version).await.expect("write")
    );
    let job = f.message_from_olga("Hello?").await;
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Skipped(Skip::NoChannel));
    assert!(f.received().is_empty());

    let refused = Browser::new(2);
    let f = fixture(&[&refused], false).await;
    f.answer(&refused, 403);
    let job = f.message_from_olga("Hello?").await;
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Skipped(Skip::Undeliverable));
    let counts = f.notifier.take_counts();
    assert_eq!(
        (counts.push_failed, counts.push_unauthorized),
        (1, 1),
        "a VAPID key the service refuses is an alarm"
    );
    assert_eq!(f.browsers_kept().await, ["browser-2"]);
}

#[tokio::test]
async fn an_endpoint_the_deployment_no_longer_allows_is_never_called() {
    let phone = Browser::new(1);
    let f = fixture(&[&phone], false).await;
    let mut settings = f.store.notification_settings("rob").await.expect("read");
    settings.settings.push_subscriptions[0].endpoint =
        f.origin.replace("127.0.0.1", "localhost") + "/push/browser-1";
    assert!(
        f.store.put_notification_settings("rob", &settings.settings, settings.version).await.expect("write")
    );
    let job = f.message_from_olga("Hello?").await;
    assert_eq!(f.notifier.handle(&job, NOW).await.expect("handled"), Outcome::Skipped(Skip::Undeliverable));
    assert!(f.received().is_empty(), "localhost is not in this deployment's list");
}
