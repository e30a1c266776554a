//! Notifications end to end: members on WebSockets through the emulator and the Lambda, the backend
//! publishing to EventBridge on moto, a rule into the notifier's SQS queue, the notifier polling it, and
//! the emails as moto's SES keeps them. Each test has its own bus, queue, store and recipients' addresses.

mod support;

use std::time::Duration;

use apigw_ws_emulator::EmulatorConfig;
use dev_stack::notifications::LocalNotifications;
use dev_stack::{ConnectionRecords, DevStack};
use local_services::moto::Moto;
use serde_json::{Value, json};
use support::{
    Client, SERVICE_TOKEN, backend_settings_with, connect_as, fastrand_suffix, next_of_type, put_booking,
    send, start_stack_with, token,
};

struct Harness {
    stack: DevStack,
    local: LocalNotifications,
    /// Makes this test's addresses its own on the moto every test shares.
    tag: String,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start(delay: u64, min_interval: u64, overrides: &[(&str, &str)]) -> Self {
        // RUST_LOG=info shows what the notifier decided.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
        let tag = format!("n{}", fastrand_suffix());
        let local =
            LocalNotifications::provision(&Moto::shared().endpoint(), &tag).await.expect("provisioned");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut backend = backend_settings_with(dir.path(), overrides);
        backend.events = local.events(&backend);
        let mut stack =
            start_stack_with(backend.clone(), ConnectionRecords::InMemory, EmulatorConfig::default()).await;
        let notifier = local.notifier(
            &backend,
            &stack.backend_url,
            Duration::from_secs(delay),
            Duration::from_secs(min_interval),
        );
        stack.run_notifier(&notifier).await.expect("notifier starts");
        put_booking(&stack, 7, "olga", "rob").await;
        let harness = Self { stack, local, tag, _dir: dir };
        for user in ["olga", "rob"] {
            harness.set_email(user).await;
        }
        harness
    }

    fn address(&self, user: &str) -> String {
        format!("{user}-{}@example.com", self.tag)
    }

    async fn set_email(&self, user: &str) {
        let response = reqwest::Client::new()
            .put(format!("{}/api/service/users/{user}/email", self.stack.backend_url))
            .bearer_auth(SERVICE_TOKEN)
            .json(&json!({"email": self.address(user)}))
            .send()
            .await
            .expect("service API");
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
    }

    /// The raw emails moto's SES has for `user`'s address.
    async fn emails_to(&self, user: &str) -> Vec<String> {
        let data: Value = reqwest::get(format!("{}/moto-api/data.json", self.local.endpoint))
            .await
            .expect("moto")
            .json()
            .await
            .expect("json");
        let address = self.address(user);
        data["ses"]["RawMessage"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter(|m| {
                        m["destinations"].as_array().is_some_and(|d| d.first() == Some(&json!(address)))
                    })
                    .filter_map(|m| m["raw_data"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits up to `within` for `user` to have `count` emails, then `settle` more to see that no more
    /// come; the emails.
    async fn expect_emails(
        &self,
        user: &str,
        count: usize,
        within: Duration,
        settle: Duration,
    ) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + within;
        while self.emails_to(user).await.len() < count && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        tokio::time::sleep(settle).await;
        let emails = self.emails_to(user).await;
        assert_eq!(emails.len(), count, "emails to {user}: {emails:#?}");
        emails
    }

    async fn say(&self, client: &mut Client, id: &str, body: &str) -> i64 {
        send(client, json!({"action": "send_message", "data": {"body": body, "client_message_id": id}}))
            .await;
        let frame =
            support::next_matching(client, |f| f["type"] == "message" && f["message"]["body"] == body).await;
        frame["message"]["id"].as_i64().expect("id")
    }

    async fn settings(&self, user: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}/api/chat/notifications", self.stack.backend_url))
            .bearer_auth(token(user))
            .send()
            .await
            .expect("settings")
            .json()
            .await
            .expect("json")
    }

    async fn put_settings(&self, user: &str, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .put(format!("{}/api/chat/notifications", self.stack.backend_url))
            .bearer_auth(token(user))
            .json(&body)
            .send()
            .await
            .expect("settings")
    }
}

/// The text of a raw email with its quoted-printable soft breaks and escapes undone (lettre encodes long
/// lines so), enough to search it.
fn readable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "");
    let mut out = String::new();
    let mut rest = joined.as_str();
    while let Some(at) = rest.find('=') {
        out.push_str(&rest[..at]);
        let hex = rest.get(at + 1..at + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[at + 3..];
            }
            None => {
                out.push('=');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The email's one-click unsubscribe URL, from its `List-Unsubscribe` header.
fn unsubscribe_url(raw: &str) -> String {
    let unfolded = raw.replace("\r\n ", " ").replace("\r\n\t", " ");
    let line =
        unfolded.lines().find(|l| l.starts_with("List-Unsubscribe: ")).expect("List-Unsubscribe header");
    line.trim_end().trim_start_matches("List-Unsubscribe: <").trim_end_matches('>').to_owned()
}

async fn offline_member_gets_exactly_one_email(overrides: &[(&str, &str)]) {
    let t = Harness::start(60, 60, overrides).await;
    let mut olga = connect_as(&t.stack, 7, "olga").await;
    t.say(&mut olga, "o-1", "The tent is dry and packed").await;

    // Rob has no connection: no delay; one email, and no second one.
    let emails = t.expect_emails("rob", 1, Duration::from_secs(20), Duration::from_secs(3)).await;
    let email = readable(&emails[0]);
    assert!(email.contains("Subject: New message about Tent"), "{email}");
    assert!(email.contains("The owner: The tent is dry and packed"), "{email}");
    assert!(email.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{email}");
    assert!(
        email.contains(&format!("{}/?booking_id=7", t.stack.backend_url)),
        "a link back to the booking: {email}"
    );
    assert!(t.emails_to("olga").await.is_empty(), "the sender is not told about her own message");
}

#[tokio::test]
async fn a_message_to_an_offline_member_is_emailed_once() {
    offline_member_gets_exactly_one_email(&[]).await;
}

#[tokio::test]
async fn a_message_to_an_offline_member_is_emailed_once_on_dynamodb() {
    let endpoint = Moto::shared().endpoint();
    let table = format!("chat-{}", fastrand_suffix());
    offline_member_gets_exactly_one_email(&[
        ("CHAT_STORE", "dynamodb"),
        ("CHAT_TABLE", &table),
        ("CHAT_TABLE_CREATE", "true"),
        ("DYNAMODB_ENDPOINT", &endpoint),
    ])
    .await;
}

#[tokio::test]
async fn a_message_read_within_the_delay_is_not_emailed() {
    let t = Harness::start(4, 60, &[]).await;
    let mut olga = connect_as(&t.stack, 7, "olga").await;
    let mut rob = connect_as(&t.stack, 7, "rob").await;
    next_of_type(&mut olga, "presence").await;
    let id = t.say(&mut olga, "o-1", "Pick-up at nine?").await;
    next_of_type(&mut rob, "message").await;
    send(&mut rob, json!({"action": "read", "data": {"message_id": id}})).await;
    support::next_matching(&mut olga, |f| f["type"] == "receipt" && f["user_id"] == "rob").await;

    t.expect_emails("rob", 0, Duration::ZERO, Duration::from_secs(8)).await;
}

#[tokio::test]
async fn three_messages_in_a_row_make_one_email_that_lists_them_all() {
    let t = Harness::start(4, 60, &[]).await;
    let mut olga = connect_as(&t.stack, 7, "olga").await;
    let _rob = connect_as(&t.stack, 7, "rob").await; // online, not reading
    next_of_type(&mut olga, "presence").await;
    for (n, body) in ["First: the tent", "Second: the poles", "Third: the pegs"].iter().enumerate() {
        t.say(&mut olga, &format!("o-{n}"), body).await;
    }

    let emails = t.expect_emails("rob", 1, Duration::from_secs(20), Duration::from_secs(5)).await;
    let email = readable(&emails[0]);
    assert!(email.contains("Subject: 3 new messages about Tent"), "{email}");
    for body in ["First: the tent", "Second: the poles", "Third: the pegs"] {
        assert!(email.contains(body), "{body} in {email}");
    }
}

#[tokio::test]
async fn quiet_hours_hold_what_falls_due_in_them_and_a_mute_holds_everything() {
    let t = Harness::start(2, 60, &[]).await;
    // Rob's quiet hours around now, in Tokyo's time zone (his, not the server's).
    let tokyo = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("Asia/Tokyo").expect("zone"));
    let hour = |delta: i64| format!("{:02}:00", (i64::from(tokyo.hour()) + delta).rem_euclid(24));
    let quiet = json!({"start": hour(-1), "end": hour(2), "time_zone": "Asia/Tokyo"});
    let answer = t
        .put_settings("rob", json!({"email_enabled": true, "push_enabled": true, "quiet_hours": quiet}))
        .await;
    assert_eq!(answer.status(), 200);
    let bad = json!({"email_enabled": true, "push_enabled": true, "quiet_hours": {"start": "25:00", "end": "07:00", "time_zone": "UTC"}});
    assert_eq!(t.put_settings("rob", bad).await.status(), 400, "malformed quiet hours are refused");
    assert_eq!(t.settings("rob").await["quiet_hours"], quiet, "and change nothing");
    // Olga mutes the booking.
    let mute = reqwest::Client::new()
        .put(format!("{}/api/chat/bookings/7/mute", t.stack.backend_url))
        .bearer_auth(token("olga"))
        .json(&json!({"muted": true}))
        .send()
        .await
        .expect("mute");
    assert_eq!(mute.status(), 200);
    assert_eq!(t.settings("olga").await["muted_bookings"], json!([7]));

    let mut olga = connect_as(&t.stack, 7, "olga").await;
    t.say(&mut olga, "o-1", "Are you awake?").await;
    drop(olga.close(None).await);
    let mut rob = connect_as(&t.stack, 7, "rob").await;
    t.say(&mut rob, "r-1", "Now I am").await;

    // Past the 2-s delay and then some: neither is emailed.
    t.expect_emails("rob", 0, Duration::ZERO, Duration::from_secs(6)).await;
    t.expect_emails("olga", 0, Duration::ZERO, Duration::ZERO).await;
    // Rob's is waiting on the queue for the end of his quiet hours.
    let sqs =
        aws_sdk_sqs::Client::new(&chat_settings::aws::local(&t.local.endpoint, Duration::from_secs(20)));
    let delayed = aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesDelayed;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&t.local.queue_url)
        .attribute_names(delayed.clone())
        .send()
        .await
        .expect("attributes");
    let count: u32 =
        attributes.attributes().and_then(|a| a.get(&delayed)).and_then(|n| n.parse().ok()).expect("a count");
    assert_eq!(count, 1, "rob's notification waits on the queue");
}

#[tokio::test]
async fn the_unsubscribe_link_works_for_its_member_only_and_once() {
    let t = Harness::start(2, 1, &[]).await;
    let mut olga = connect_as(&t.stack, 7, "olga").await;
    t.say(&mut olga, "o-1", "Here is the gate code").await;
    let emails = t.expect_emails("rob", 1, Duration::from_secs(20), Duration::ZERO).await;
    let url = unsubscribe_url(&emails[0]);
    let (base, token_part) = url.split_once("?token=").expect("a token");
    let http = reqwest::Client::new();

    // A token re-signed for someone else does not verify.
    let (_, signature) = token_part.split_once('.').expect("user.signature");
    let forged = format!("{base}?token=b2xnYQ.{signature}"); // "olga", base64url
    assert_eq!(http.post(&forged).send().await.expect("post").status(), 400);
    // Opening the link changes nothing (mail scanners open links).
    let page = http.get(&url).send().await.expect("get");
    assert_eq!(page.status(), 200, "{url}");
    assert!(page.text().await.expect("page").contains("<form method=\"post\""));
    assert_eq!(t.settings("rob").await["email_enabled"], true);
    // The one-click POST of RFC 8058, as a mail client sends it.
    let one_click = || {
        http.post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let first = one_click().await.expect("post");
    assert_eq!(first.status(), 200);
    assert!(first.text().await.expect("page").contains("no longer"));
    let second = one_click().await.expect("post");
    assert!(second.text().await.expect("page").contains("already"), "a second use changes nothing");
    assert_eq!(t.settings("rob").await["email_enabled"], false);
    assert_eq!(t.settings("olga").await["email_enabled"], true, "only the link's member");

    // Past the quiet period, a new message to rob sends nothing; one to olga (who does not read it
    // within the 2-s delay) does.
    tokio::time::sleep(Duration::from_secs(2)).await;
    t.say(&mut olga, "o-2", "Did you get the code?").await;
    let mut rob = connect_as(&t.stack, 7, "rob").await;
    t.say(&mut rob, "r-1", "Yes, thanks").await;
    t.expect_emails("olga", 1, Duration::from_secs(20), Duration::ZERO).await;
    t.expect_emails("rob", 1, Duration::ZERO, Duration::from_secs(4)).await;
}

/// A push service on loopback: records what each browser (the path's last segment) is sent, and answers
/// 201, or what it is told.
#[derive(Default)]
struct PushService {
    received: std::sync::Mutex<Vec<(String, Vec<u8>)>>,
    answer: std::sync::Mutex<u16>,
}

impl PushService {
    async fn start() -> (std::sync::Arc<Self>, String) {
        use axum::extract::{Path, State};
        let service = std::sync::Arc::new(Self { answer: std::sync::Mutex::new(201), ..Self::default() });
        let receive = |State(service): State<std::sync::Arc<Self>>,
                       Path(browser): Path<String>,
                       body: axum::body::Bytes| async move {
            service.received.lock().expect("lock").push((browser, body.to_vec()));
            axum::http::StatusCode::from_u16(*service.answer.lock().expect("lock")).expect("status")
        };
        let app = axum::Router::new()
            .route("/push/{browser}", axum::routing::post(receive))
            .with_state(service.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let origin = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (service, origin)
    }

    /// Waits up to `within` for `count` pushes; the bodies.
    async fn expect(&self, count: usize, within: Duration) -> Vec<Vec<u8>> {
        let deadline = tokio::time::Instant::now() + within;
        while self.received.lock().expect("lock").len() < count && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let received = self.received.lock().expect("lock").clone();
        assert_eq!(
            received.len(),
            count,
            "pushes: {:?}",
            received.iter().map(|(b, _)| b).collect::<Vec<_>>()
        );
        received.into_iter().map(|(_, body)| body).collect()
    }
}

#[tokio::test]
async fn a_message_to_an_offline_member_reaches_their_browser_encrypted_to_its_keys() {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;

    let (service, origin) = PushService::start().await;
    let public_key = chat_backend::store::push::LOCAL_VAPID_PUBLIC_KEY;
    let t =
        Harness::start(2, 1, &[("VAPID_PUBLIC_KEY", public_key), ("PUSH_ENDPOINT_HOSTS", "127.0.0.1")]).await;
    // Rob's browser subscribes, as the widget does: the key from the API, its subscription back to it.
    let http = reqwest::Client::new();
    let push_url = format!("{}/api/chat/notifications/push", t.stack.backend_url);
    let state: Value =
        http.get(&push_url).bearer_auth(token("rob")).send().await.expect("get").json().await.expect("json");
    assert_eq!(state["public_key"], public_key);
    let secret = p256::SecretKey::from_slice(&[42; 32]).expect("the browser's key");
    let auth = [7u8; 16];
    let subscription = json!({
        "endpoint": format!("{origin}/push/rob-phone"),
        "expirationTime": null,
        "keys": {
            "p256dh": URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes()),
            "auth": URL_SAFE_NO_PAD.encode(auth),
        },
    });
    let subscribed =
        http.post(&push_url).bearer_auth(token("rob")).json(&subscription).send().await.expect("post");
    assert_eq!(subscribed.status(), 200, "{}", subscribed.text().await.unwrap_or_default());

    let mut olga = connect_as(&t.stack, 7, "olga").await;
    t.say(&mut olga, "o-1", "The tent is dry and packed").await;

    // One push, which only rob's browser can read, and the email beside it.
    let bodies = service.expect(1, Duration::from_secs(20)).await;
    let plain =
        web_push_native::decrypt(bodies[0].clone(), &secret, &auth.into()).expect("decrypts with rob's keys");
    let payload: Value = serde_json::from_slice(&plain).expect("json");
    assert_eq!(payload["title"], "New message about Tent");
    assert_eq!(payload["body"], "The owner: The tent is dry and packed");
    assert_eq!(payload["url"], format!("{}/?booking_id=7", t.stack.backend_url));
    assert_eq!((payload["booking_id"].as_i64(), payload["tag"].as_str()), (Some(7), Some("booking-7")));
    t.expect_emails("rob", 1, Duration::from_secs(10), Duration::ZERO).await;

    // The browser is gone (its push service answers 410): the next notification removes it.
    *service.answer.lock().expect("lock") = 410;
    tokio::time::sleep(Duration::from_secs(2)).await;
    t.say(&mut olga, "o-2", "Did you see it?").await;
    service.expect(2, Duration::from_secs(20)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let state: Value = http
            .get(&push_url)
            .bearer_auth(token("rob"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if state["subscriptions"] == json!([]) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still subscribed: {state}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
