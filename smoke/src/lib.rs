//! A two-client smoke test of a booking chat WebSocket API, local or deployed.
//!
//! Connects two clients to one booking the way browsers do (subprotocols `chat.v1` and `bearer.<jwt>`),
//! checks that the handshake echoes `chat.v1`, that a connection without a token is refused, that a message
//! from the first client reaches both (the sender's copy is its acknowledgement) as the same stored
//! message, and that `ping` is answered; each check with its latency.

use std::time::{Duration, Instant};

use chat_wire::handshake::CHAT_SUBPROTOCOL;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// What to test.
#[derive(Debug, Clone)]
pub struct SmokeOptions {
    /// The WebSocket API, e.g. `wss://abc.execute-api.eu-west-1.amazonaws.com/dev`.
    pub url: String,
    /// The booking both clients join.
    pub booking_id: i64,
    /// Token of the first client (a member of the booking).
    pub token_a: String,
    /// Token of the second client (the other member).
    pub token_b: String,
    /// How long each step may take.
    pub timeout: Duration,
}

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// What was seen.
    pub detail: String,
    /// How long it took, in milliseconds.
    pub millis: Option<f64>,
}

/// Every check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct SmokeReport {
    /// The API tested.
    pub url: String,
    /// The booking used.
    pub booking_id: i64,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// Whether every check held.
    pub passed: bool,
}

impl SmokeReport {
    /// A human-readable summary.
    pub fn to_text(&self) -> String {
        let mut text = format!("Smoke test of {} (booking {})\n", self.url, self.booking_id);
        for check in &self.checks {
            let mark = if check.passed { "ok  " } else { "FAIL" };
            let latency = check.millis.map(|ms| format!("{ms:>8.1} ms")).unwrap_or_default();
            text.push_str(&format!("  {mark} {:<52} {latency}\n", check.name));
            if !check.passed || !check.detail.is_empty() {
                text.push_str(&format!("       {}\n", check.detail));
            }
        }
        let passed = self.checks.iter().filter(|c| c.passed).count();
        let failed = self.checks.len() - passed;
        text.push_str(&format!("smoke: {passed} passed, {failed} failed\n"));
        text
    }
}

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn with_booking(url: &str, booking_id: i64) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}booking_id={booking_id}")
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Connects as a browser would; returns the client and the subprotocol the server chose.
async fn connect(url: &str, token: Option<&str>) -> Result<(Client, Option<String>), WsError> {
    let mut request = url.into_client_request()?;
    if let Some(token) = token {
        let offer = format!("{CHAT_SUBPROTOCOL}, bearer.{token}");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            offer.parse().map_err(|_| {
                WsError::Url(tokio_tungstenite::tungstenite::error::UrlError::UnsupportedUrlScheme)
            })?,
        );
    }
    let (client, response) = tokio_tungstenite::connect_async(request).await?;
    let chosen =
        response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok((client, chosen))
}

/// Waits for a text frame matching `wanted`, skipping others (typing, receipts, other messages).
async fn wait_for(
    client: &mut Client,
    timeout: Duration,
    wanted: impl Fn(&Value) -> bool,
) -> Result<Value, String> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, client.next()).await {
            Err(_) => return Err(format!("nothing matching within {timeout:?}")),
            Ok(None) => return Err("the connection closed".into()),
            Ok(Some(Err(e))) => return Err(format!("connection error: {e}")),
            Ok(Some(Ok(Message::Close(frame)))) => {
                return Err(format!("the server closed the connection: {frame:?}"));
            }
            Ok(Some(Ok(Message::Text(text)))) => {
                let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                if frame["type"] == "error" && !wanted(&frame) {
                    if frame["error"]["code"] == "AUTHENTICATION_ERROR" {
                        return Err(format!(
                            "error frame: {} (an accepted connection's frames carry its identity in the \
                             $connect authorizer's context: if API Gateway did not pass it on, check that the \
                             $connect route uses the authorizer)",
                            frame["error"]
                        ));
                    }
                    return Err(format!("error frame: {}", frame["error"]));
                }
                if wanted(&frame) {
                    return Ok(frame);
                }
            }
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Runs every check. Never panics; a failed step fails its check and the ones that need it.
pub async fn run(options: &SmokeOptions) -> SmokeReport {
    // Two WebSocket clients live in this future: box it once here rather than in every caller.
    Box::pin(checks(options)).await
}

async fn checks(options: &SmokeOptions) -> SmokeReport {
    let url = with_booking(&options.url, options.booking_id);
    let mut checks = Vec::new();
    let mut check = |name: &str, passed: bool, detail: String, millis: Option<f64>| {
        checks.push(Check { name: name.to_owned(), passed, detail, millis });
        passed
    };

    let started = Instant::now();
    let a = tokio::time::timeout(options.timeout, connect(&url, Some(&options.token_a))).await;
    let a_ms = ms(started);
    let started = Instant::now();
    let b = tokio::time::timeout(options.timeout, connect(&url, Some(&options.token_b))).await;
    let b_ms = ms(started);
    let mut clients = Vec::new();
    for (name, result, millis) in [
        ("client A connects and chat.v1 is echoed", a, a_ms),
        ("client B connects and chat.v1 is echoed", b, b_ms),
    ] {
        match result {
            Ok(Ok((client, Some(protocol)))) if protocol == CHAT_SUBPROTOCOL => {
                check(name, true, String::new(), Some(millis));
                clients.push(client);
            }
            Ok(Ok((_, protocol))) => {
                check(
                    name,
                    false,
                    format!("the handshake chose {protocol:?}, browsers need \"chat.v1\""),
                    Some(millis),
                );
            }
            Ok(Err(WsError::Http(response))) => {
                check(name, false, format!("handshake refused with {}", response.status()), Some(millis));
            }
            Ok(Err(WsError::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                let hint = if url.contains("127.0.0.1") || url.contains("localhost") {
                    "nothing listens there: is `make dev` running (in another terminal)?"
                } else {
                    "nothing listens there: check the URL (`terraform output websocket_url`)"
                };
                check(name, false, format!("cannot connect to {}: {hint}", options.url), Some(millis));
            }
            Ok(Err(e)) => {
                check(name, false, format!("cannot connect: {e}"), Some(millis));
            }
            Err(_) => {
                check(name, false, format!("no answer within {:?}", options.timeout), None);
            }
        }
    }

    let started = Instant::now();
    let anonymous = tokio::time::timeout(options.timeout, connect(&url, None)).await;
    match anonymous {
        Ok(Err(WsError::Http(response))) if [401, 403].contains(&response.status().as_u16()) => check(
            "a connection without a token is refused",
            true,
            format!("HTTP {}", response.status().as_u16()),
            Some(ms(started)),
        ),
        Ok(Ok(_)) => check(
            "a connection without a token is refused",
            false,
            "it was accepted".into(),
            Some(ms(started)),
        ),
        Ok(Err(e)) => check(
            "a connection without a token is refused",
            false,
            format!("unexpected failure: {e}"),
            Some(ms(started)),
        ),
        Err(_) => check("a connection without a token is refused", false, "no answer".into(), None),
    };

    let [mut a, mut b] = match <[Client; 2]>::try_from(clients) {
        Ok(pair) => pair,
        Err(_) => {
            check(
                "broadcast between the two clients",
                false,
                "skipped: a client did not connect".into(),
                None,
            );
            return finish(options, &url, checks);
        }
    };

    let client_message_id = format!("smoke-{}", uuid::Uuid::new_v4().simple());
    let frame = json!({
        "action": "send_message",
        "data": {"body": format!("smoke test {client_message_id}"), "client_message_id": client_message_id},
        "request_id": "smoke-send",
    });
    let sent = Instant::now();
    if let Err(e) = a.send(Message::Text(frame.to_string().into())).await {
        check("client A sends a message", false, e.to_string(), None);
        return finish(options, &url, checks);
    }
    let is_ours =
        |f: &Value| f["type"] == "message" && f["message"]["client_message_id"] == client_message_id.as_str();
    let (to_a, to_b) = tokio::join!(
        async { wait_for(&mut a, options.timeout, is_ours).await.map(|f| (f, ms(sent))) },
        async { wait_for(&mut b, options.timeout, is_ours).await.map(|f| (f, ms(sent))) },
    );
    let mut ids = Vec::new();
    for (name, result) in [
        ("the sender receives its own message (acknowledgement)", to_a),
        ("the other client receives the message", to_b),
    ] {
        match result {
            Ok((frame, millis)) => {
                ids.push(frame["message"]["id"].clone());
                check(name, true, String::new(), Some(millis));
            }
            Err(why) => {
                check(name, false, why, None);
            }
        }
    }
    if ids.len() == 2 {
        check(
            "both received the same stored message",
            ids[0] == ids[1] && !ids[0].is_null(),
            format!("message id {}", ids[0]),
            None,
        );
    }

    let pinged = Instant::now();
    let ping = json!({"action": "ping", "request_id": "smoke-ping"});
    let pong = match b.send(Message::Text(ping.to_string().into())).await {
        Ok(()) => wait_for(&mut b, options.timeout, |f| f["type"] == "pong").await.map(|_| ()),
        Err(e) => Err(e.to_string()),
    };
    match pong {
        Ok(()) => check("ping is answered with pong", true, String::new(), Some(ms(pinged))),
        Err(why) => check("ping is answered with pong", false, why, None),
    };

    // The session: proves the proxy passes the connection's times to the backend (a proxy older than
    // `session` answers INTERNAL_ERROR), and says when a client must renew and reconnect.
    let asked = Instant::now();
    let ask = json!({"action": "session", "request_id": "smoke-session"});
    let session = match b.send(Message::Text(ask.to_string().into())).await {
        Ok(()) => wait_for(&mut b, options.timeout, |f| f["type"] == "session").await,
        Err(e) => Err(e.to_string()),
    };
    let name = "session says when the token expires and the connection closes";
    match session {
        Ok(frame) => {
            let now = chat_wire::time::now_millis();
            let (expires, closes) = (frame["expires_at"].as_i64(), frame["closes_at"].as_i64());
            let sane =
                matches!((expires, closes), (Some(e), Some(c)) if e > now && c > now && c <= now + 7_200_000);
            let detail = format!(
                "token expires in {} s, the gateway closes the connection in {} s",
                expires.map_or(-1, |e| (e - now) / 1000),
                closes.map_or(-1, |c| (c - now) / 1000)
            );
            check(name, sane, detail, Some(ms(asked)))
        }
        Err(why) => check(name, false, why, None),
    };
    let _ = a.close(None).await;
    let _ = b.close(None).await;
    finish(options, &url, checks)
}

fn finish(options: &SmokeOptions, url: &str, checks: Vec<Check>) -> SmokeReport {
    let passed = !checks.is_empty() && checks.iter().all(|c| c.passed);
    SmokeReport { url: url.to_owned(), booking_id: options.booking_id, checks, passed }
}
