//! Many clients at once, through the emulator, the Lambda in-process and the real backend, with a log
//! subscriber recording every span as `make dev` does (the span pile-up that once crashed the process only
//! shows with one). These tests assert correctness under load (nothing lost, nothing twice, every frame
//! answered, the process alive), never speed: their bounds are generous timeouts, not measurements.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chat_backend::domain::{Booking, BookingStatus};
use chat_backend::store::sql::SqlStore;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{Client, connect_as, start_in_memory};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The deepest nesting of Lambda `event` spans seen around any log event: 1 when every invocation's span
/// stands alone. An entered span guard held across an `.await` makes concurrent invocations nest inside
/// one another without bound (the crash: a stack overflow once thousands deep).
static EVENT_SPAN_DEPTH: AtomicUsize = AtomicUsize::new(0);

struct EventSpanDepth;

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for EventSpanDepth {
    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        if let Some(scope) = ctx.event_scope(event) {
            let depth = scope.filter(|span| span.name() == "event").count();
            EVENT_SPAN_DEPTH.fetch_max(depth, Ordering::Relaxed);
        }
    }
}

/// Logs go through a real subscriber (formatting every span, as `make dev`'s does), into nothing.
fn install_log_subscriber() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("info"))
            .with(tracing_subscriber::fmt::layer().compact().with_writer(std::io::sink))
            .with(EventSpanDepth)
            .try_init()
            .expect("subscriber");
    });
}

/// Splits a client into a writer (a channel of frames) and a reader task that collects JSON frames.
fn drive(client: Client) -> (mpsc::UnboundedSender<Value>, mpsc::UnboundedReceiver<Value>) {
    let (mut sink, mut stream) = client.split();
    let (to_send, mut outgoing) = mpsc::unbounded_channel::<Value>();
    let (received, frames) = mpsc::unbounded_channel::<Value>();
    tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            if sink.send(Message::Text(frame.to_string().into())).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            if let Message::Text(text) = message
                && let Ok(frame) = serde_json::from_str::<Value>(&text)
                && received.send(frame).is_err()
            {
                break;
            }
        }
    });
    (to_send, frames)
}

/// Collects frames until `done` says so or `within` passes; returns what arrived.
async fn collect(
    frames: &mut mpsc::UnboundedReceiver<Value>,
    within: Duration,
    mut done: impl FnMut(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    let mut got = Vec::new();
    while !done(&got) {
        match tokio::time::timeout_at(deadline, frames.recv()).await {
            Ok(Some(frame)) => got.push(frame),
            Ok(None) | Err(_) => break,
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_client_flooding_thousands_of_frames_gets_one_answer_each_while_others_chat() {
    install_log_subscriber();
    let (stack, _dir) = start_in_memory(&[]).await;
    const FLOOD: usize = 3_000;
    const CHAT: usize = 50;
    let (flooder, mut flood_frames) = drive(connect_as(&stack, 1, "alice").await);
    let (carol, mut carol_frames) = drive(connect_as(&stack, 2, "carol").await);
    let (_dave, mut dave_frames) = drive(connect_as(&stack, 2, "dave").await);

    // Pings without waiting, half of them as frames the backend must refuse (unknown action).
    for n in 0..FLOOD {
        let frame = if n % 2 == 0 {
            json!({"action": "ping", "request_id": format!("f{n}")})
        } else {
            json!({"action": "explode", "request_id": format!("f{n}")})
        };
        flooder.send(frame).expect("queue");
    }
    // Meanwhile, another booking chats.
    let chat = |n: usize| json!({"action": "send_message", "data": {"body": format!("hi {n}"), "client_message_id": format!("c{n}")}});
    for n in 0..CHAT {
        carol.send(chat(n)).expect("queue");
    }

    let answers = collect(&mut flood_frames, Duration::from_secs(120), |got| got.len() >= FLOOD).await;
    let mut per_request: HashMap<String, usize> = HashMap::new();
    for frame in &answers {
        let id = frame["request_id"]
            .as_str()
            .unwrap_or_else(|| panic!("every answer echoes its request: {frame}"));
        *per_request.entry(id.to_owned()).or_default() += 1;
        assert!(frame["type"] == "pong" || frame["type"] == "error", "{frame}");
    }
    assert_eq!(per_request.len(), FLOOD, "every frame answered");
    assert!(per_request.values().all(|&n| n == 1), "no frame answered twice");
    let depth = EVENT_SPAN_DEPTH.load(Ordering::Relaxed);
    assert_eq!(depth, 1, "concurrent invocations' spans nested {depth} deep");

    // Every message of the other booking reaches both its members. On a machine starved of CPU some
    // are answered BACKEND_UNAVAILABLE (the backend did not answer within the proxy's budget): carol then
    // does what the widget does, sends her messages again with the same client_message_id, and the store
    // keeps one of each. Each round waits for what is still missing.
    let (mut carol_ids, mut dave_ids, mut unavailable) = (BTreeSet::new(), BTreeSet::new(), 0);
    for round in 0..5 {
        if round > 0 {
            (0..CHAT).for_each(|n| carol.send(chat(n)).expect("queue"));
        }
        for (frames, ids) in [(&mut carol_frames, &mut carol_ids), (&mut dave_frames, &mut dave_ids)] {
            let got = collect(frames, Duration::from_secs(30), |got| {
                let new =
                    got.iter().filter_map(|f| f["message"]["id"].as_i64()).filter(|id| !ids.contains(id));
                ids.len() + new.collect::<BTreeSet<i64>>().len() >= CHAT
            })
            .await;
            for frame in got {
                match frame["type"].as_str() {
                    Some("message") => {
                        ids.insert(frame["message"]["id"].as_i64().expect("id"));
                    }
                    Some("error") => {
                        assert_eq!(frame["error"]["code"], "BACKEND_UNAVAILABLE", "{frame}");
                        unavailable += 1;
                    }
                    _ => {}
                }
            }
        }
        if carol_ids.len() == CHAT && dave_ids.len() == CHAT {
            break;
        }
    }
    assert_eq!(carol_ids.len(), CHAT, "the other booking's chat all reached carol ({unavailable} refusals)");
    assert_eq!(dave_ids, carol_ids, "and dave, the same messages");
    // Still serving.
    let (late, mut late_frames) = drive(connect_as(&stack, 1, "bob").await);
    late.send(json!({"action": "ping", "request_id": "late"})).expect("queue");
    let got = collect(&mut late_frames, Duration::from_secs(10), |got| !got.is_empty()).await;
    assert_eq!(got.first().map(|f| f["type"].clone()), Some(json!("pong")));
}

/// Every frame a connection received, shared with the test, which can wait for one.
#[derive(Default)]
struct Inbox {
    frames: std::sync::Mutex<Vec<Value>>,
    arrived: tokio::sync::Notify,
}

impl Inbox {
    fn messages(&self) -> Vec<Value> {
        let frames = self.frames.lock().expect("lock");
        frames.iter().filter(|f| f["type"] == "message").cloned().collect()
    }

    fn errors(&self) -> Vec<Value> {
        let frames = self.frames.lock().expect("lock");
        frames.iter().filter(|f| f["type"] == "error").cloned().collect()
    }

    /// Waits until `done` holds of the frames, or the deadline passes.
    async fn wait_until(&self, deadline: tokio::time::Instant, done: impl Fn(&[Value]) -> bool) -> bool {
        loop {
            let notified = self.arrived.notified();
            if done(&self.frames.lock().expect("lock")) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }
}

/// A connection whose frames are gathered in an [`Inbox`].
fn gather(client: Client) -> (mpsc::UnboundedSender<Value>, std::sync::Arc<Inbox>) {
    let (writer, mut frames) = drive(client);
    let inbox = std::sync::Arc::new(Inbox::default());
    let filling = inbox.clone();
    tokio::spawn(async move {
        while let Some(frame) = frames.recv().await {
            filling.frames.lock().expect("lock").push(frame);
            filling.arrived.notify_waiters();
        }
    });
    (writer, inbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundreds_of_connections_over_many_bookings_lose_and_duplicate_nothing() {
    install_log_subscriber();
    const BOOKINGS: i64 = 50;
    const TABS_PER_MEMBER: usize = 3;
    const SENDERS: usize = 50;
    const MESSAGES_PER_SENDER: usize = 60;
    let (stack, dir) =
        start_in_memory(&[("RATE_LIMIT_PER_MINUTE", "600000"), ("RATE_LIMIT_BURST", "100000")]).await;
    let store =
        SqlStore::connect(&format!("sqlite://{}/chat.db", dir.path().display()), 2).await.expect("store");
    for b in 0..BOOKINGS {
        let booking = Booking {
            id: 100 + b,
            owner_id: format!("owner{b}"),
            renter_id: format!("renter{b}"),
            title: format!("booking {b}"),
            status: BookingStatus::Confirmed,
            chat: Default::default(),
        };
        store.insert_booking_if_absent(&booking).await.expect("booking");
    }

    // Every member of every booking, three tabs each: 300 connections.
    let mut connections = Vec::new();
    for b in 0..BOOKINGS {
        for user in [format!("owner{b}"), format!("renter{b}")] {
            for _ in 0..TABS_PER_MEMBER {
                let (writer, inbox) = gather(connect_as(&stack, 100 + b, &user).await);
                connections.push((100 + b, writer, inbox));
            }
        }
    }
    let connections = std::sync::Arc::new(connections);

    // Fifty senders at once, each sending from a random connection and waiting for its own copy (its
    // acknowledgement) before the next: three thousand messages, always fifty in flight.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        let connections = connections.clone();
        senders.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for n in 0..MESSAGES_PER_SENDER {
                let (booking, writer, inbox) = &connections[fastrand::usize(..connections.len())];
                let id = format!("s{sender}-{n}");
                writer
                    .send(json!({"action": "send_message", "data": {"body": format!("load {id}"), "client_message_id": id}}))
                    .expect("queue");
                let acked = inbox
                    .wait_until(deadline, |frames| {
                        frames.iter().any(|f| f["message"]["client_message_id"] == id.as_str())
                    })
                    .await;
                assert!(acked, "{id} was never acknowledged; errors: {:?}", inbox.errors());
                sent.push(*booking);
            }
            sent
        }));
    }
    let mut sent_per_booking: HashMap<i64, usize> = HashMap::new();
    for sender in senders {
        for booking in sender.await.expect("sender") {
            *sent_per_booking.entry(booking).or_default() += 1;
        }
    }

    for (booking, _writer, inbox) in connections.iter() {
        let expected = sent_per_booking.get(booking).copied().unwrap_or(0);
        let complete = inbox
            .wait_until(deadline, |frames| {
                frames.iter().filter(|f| f["type"] == "message").count() >= expected
            })
            .await;
        assert!(complete, "booking {booking}: a connection is missing messages");
        assert!(inbox.errors().is_empty(), "no errors under load: {:?}", inbox.errors());
    }
    // Anything still in flight would arrive now: nothing may.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for (booking, _writer, inbox) in connections.iter() {
        let history = store
            .messages(*booking, chat_backend::store::PageCursor::After(0), 10_000)
            .await
            .expect("history")
            .messages;
        let stored: Vec<i64> = history.iter().map(|m| m.id).collect();
        assert_eq!(
            stored.len(),
            sent_per_booking.get(booking).copied().unwrap_or(0),
            "booking {booking}: every message stored once"
        );
        assert!(stored.windows(2).all(|w| w[0] < w[1]), "ids increase in commit order");
        let ids: Vec<i64> = inbox.messages().iter().filter_map(|f| f["message"]["id"].as_i64()).collect();
        let unique: BTreeSet<i64> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "booking {booking}: nothing delivered twice");
        assert_eq!(
            unique.into_iter().collect::<Vec<_>>(),
            stored,
            "booking {booking}: every connection got every message"
        );
    }
}

/// Bookings of the connect-burst tests: two members each, confirmed, through the service API.
async fn put_bookings(stack: &dev_stack::DevStack, bookings: std::ops::Range<i64>) {
    for id in bookings {
        support::put_booking(stack, id, &format!("owner{id}"), &format!("renter{id}")).await;
    }
}

/// A connection that asks for the booking's whole history as soon as it is open (what a client does on
/// every connect), and gathers every frame.
async fn open_and_sync(stack: &dev_stack::DevStack, booking: i64, user: &str) -> std::sync::Arc<Inbox> {
    let (writer, inbox) = gather(connect_as(stack, booking, user).await);
    writer
        .send(json!({"action": "sync", "data": {"after_message_id": 0, "limit": 100}, "request_id": "open"}))
        .expect("queue");
    // Kept open for the test's length: the writer's task ends with it.
    std::mem::forget(writer);
    inbox
}

/// What a connection holds: the ids pushed to it (with repeats), and those its opening `sync` returned.
fn held(inbox: &Inbox) -> (Vec<i64>, BTreeSet<i64>) {
    let frames = inbox.frames.lock().expect("lock");
    let pushed = frames
        .iter()
        .filter(|f| f["type"] == "message")
        .filter_map(|f| f["message"]["id"].as_i64())
        .collect();
    let synced = frames
        .iter()
        .filter(|f| f["type"] == "history" && f["request_id"] == "open")
        .flat_map(|f| f["messages"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m["id"].as_i64())
        .collect();
    (pushed, synced)
}

/// The connect burst of issue 20: many clients connect at once to shared bookings while their bookings
/// chat (every message a fan-out over records still in `$connect`, which API Gateway and the emulator
/// answer with 410) and members come and go online. Afterwards every connection holds every message of
/// its booking (pushed, or returned by the `sync` it sent on opening), none pushed twice, and every
/// message sent once the burst is over reaches every connection by push.
async fn a_connect_burst_while_bookings_chat_leaves_no_connection_deaf(
    stack: &dev_stack::DevStack,
    tabs: usize,
) {
    const BOOKINGS: i64 = 10;
    const CHATTER: usize = 12;
    const AFTER: usize = 3;
    put_bookings(stack, 1000..1000 + BOOKINGS).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);

    // One chatting connection per booking, sending without pause while the others connect.
    let mut chatters = Vec::new();
    for booking in 1000..1000 + BOOKINGS {
        let (writer, inbox) = gather(connect_as(stack, booking, &format!("owner{booking}")).await);
        chatters.push(tokio::spawn(async move {
            for n in 0..CHATTER {
                let id = format!("chat-{booking}-{n}");
                writer
                    .send(json!({"action": "send_message", "data": {"body": id, "client_message_id": id}}))
                    .expect("queue");
                let acked = inbox
                    .wait_until(deadline, |f| {
                        f.iter().any(|f| f["message"]["client_message_id"] == id.as_str())
                    })
                    .await;
                assert!(acked, "{id} acknowledged");
            }
            (booking, writer, inbox)
        }));
    }
    // The burst: every tab of every member of every booking, all at once.
    let burst = futures_util::future::join_all((1000..1000 + BOOKINGS).flat_map(|booking| {
        (0..tabs).map(move |tab| async move {
            let user = if tab % 2 == 0 { format!("renter{booking}") } else { format!("owner{booking}") };
            (booking, open_and_sync(stack, booking, &user).await)
        })
    }))
    .await;
    let mut chatting = Vec::new();
    for chatter in chatters {
        chatting.push(chatter.await.expect("chatter"));
    }

    // After the burst: a few more messages per booking, which every connection must get pushed.
    let mut after: HashMap<i64, Vec<String>> = HashMap::new();
    for (booking, writer, inbox) in &chatting {
        for n in 0..AFTER {
            let id = format!("after-{booking}-{n}");
            writer
                .send(json!({"action": "send_message", "data": {"body": id, "client_message_id": id}}))
                .expect("queue");
            let acked = inbox
                .wait_until(deadline, |f| f.iter().any(|f| f["message"]["client_message_id"] == id.as_str()))
                .await;
            assert!(acked, "{id} acknowledged");
            after.entry(*booking).or_default().push(id);
        }
    }
    let expected_total = CHATTER + AFTER;
    let mut deaf = 0;
    for (booking, inbox) in &burst {
        let wanted = &after[booking];
        let complete = inbox
            .wait_until(deadline, |frames| {
                wanted
                    .iter()
                    .all(|id| frames.iter().any(|f| f["message"]["client_message_id"] == id.as_str()))
            })
            .await;
        if !complete {
            deaf += 1;
            continue;
        }
        let (pushed, synced) = held(inbox);
        let unique: BTreeSet<i64> = pushed.iter().copied().collect();
        assert_eq!(unique.len(), pushed.len(), "booking {booking}: nothing pushed twice");
        let all: BTreeSet<i64> = unique.union(&synced).copied().collect();
        assert_eq!(all.len(), expected_total, "booking {booking}: every message, pushed or synced");
    }
    assert_eq!(deaf, 0, "{deaf} of {} connections missed messages sent after the burst", burst.len());
}

/// The emulated API of the burst tests: 50 ms between `$connect`'s answer and the finished upgrade (a
/// client's round trip), during which the Management API answers 410 for the connection.
fn slow_upgrades() -> apigw_ws_emulator::EmulatorConfig {
    let mut config = apigw_ws_emulator::EmulatorConfig::default();
    config.limits.upgrade_delay = Duration::from_millis(50);
    config
}

const UNLIMITED: [(&str, &str); 2] = [("RATE_LIMIT_PER_MINUTE", "600000"), ("RATE_LIMIT_BURST", "100000")];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connect_burst_leaves_no_connection_deaf_on_in_memory_records() {
    install_log_subscriber();
    let (stack, _dir) = support::start_in_memory_with(&UNLIMITED, slow_upgrades()).await;
    a_connect_burst_while_bookings_chat_leaves_no_connection_deaf(&stack, 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connect_burst_leaves_no_connection_deaf_on_dynamodb_records() {
    install_log_subscriber();
    let stack = support::start_dynamodb_with(&UNLIMITED, slow_upgrades()).await;
    a_connect_burst_while_bookings_chat_leaves_no_connection_deaf(&stack.stack, 6).await;
}
