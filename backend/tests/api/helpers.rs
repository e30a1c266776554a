//! Spawns the real backend (the `Application::build` startup path) on port 0 against a fresh database, and
//! offers one helper per endpoint.

use std::collections::HashMap;
use std::fmt::Display;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chat_backend::store::Store;
use chat_backend::{Application, Settings, auth};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use local_services::moto::Moto;
use local_services::postgres::Postgres;

/// The test backend's key of unsubscribe links.
pub const NOTIFY_LINK_SECRET: &str = "test-unsubscribe-link-key";

pub const PROXY_SECRET: &str = "test-proxy-secret";
pub const JWT_SECRET: &str = "test-jwt-secret";

/// Which store the app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Sqlite,
    Postgres,
    /// A fresh table on moto_server.
    DynamoDb,
}

/// Generates each listed test three times, in modules `sqlite`, `postgres` and `dynamodb`: the same
/// black-box tests against every store.
#[macro_export]
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name($crate::helpers::spawn_app($crate::helpers::StoreKind::Sqlite).await).await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name($crate::helpers::spawn_app($crate::helpers::StoreKind::Postgres).await).await; })*
        }
        mod dynamodb {
            $(#[tokio::test] async fn $name() { super::$name($crate::helpers::spawn_app($crate::helpers::StoreKind::DynamoDb).await).await; })*
        }
    };
}

/// As [`on_every_store`], for what only the SQL stores do themselves (DynamoDB leaves it to its TTL).
#[macro_export]
macro_rules! on_sql_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name($crate::helpers::spawn_app($crate::helpers::StoreKind::Sqlite).await).await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name($crate::helpers::spawn_app($crate::helpers::StoreKind::Postgres).await).await; })*
        }
    };
}

/// For tests that start their own apps (with settings of their own): generates, for each listed
/// `async fn(StoreKind)`, a module of its name with one test per store (`on_sqlite`, `on_postgres`,
/// `on_dynamodb`).
#[macro_export]
macro_rules! on_every_store_kind {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[tokio::test] async fn on_sqlite() { super::$name($crate::helpers::StoreKind::Sqlite).await; }
            #[tokio::test] async fn on_postgres() { super::$name($crate::helpers::StoreKind::Postgres).await; }
            #[tokio::test] async fn on_dynamodb() { super::$name($crate::helpers::StoreKind::DynamoDb).await; }
        })*
    };
}

pub struct TestApp {
    pub base: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub store: Store,
    pub settings: Settings,
    /// The DynamoDB table, on [`StoreKind::DynamoDb`].
    pub table: Option<String>,
    /// The file store, when `FILE_STORE` names one.
    pub files: Option<chat_files::Opened>,
    /// How this app reaches its store, for [`TestApp::another_instance`].
    kind: StoreKind,
    store_vars: Vec<(String, String)>,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
}

pub async fn spawn_app(db: StoreKind) -> TestApp {
    spawn_app_with(db, &[]).await
}

/// As [`spawn_app`], with `overrides` of the test environment (an empty value unsets the key).
pub async fn spawn_app_with(db: StoreKind, overrides: &[(&str, &str)]) -> TestApp {
    let mut store_env: Vec<(&str, String)> = Vec::new();
    let mut table = None;
    let (url, dir) = match db {
        StoreKind::DynamoDb => {
            let name = format!("chat-{}", uuid::Uuid::new_v4().simple());
            store_env.extend([
                ("CHAT_STORE", "dynamodb".to_owned()),
                ("CHAT_TABLE", name.clone()),
                ("CHAT_TABLE_CREATE", "true".to_owned()),
                ("DYNAMODB_ENDPOINT", Moto::shared().endpoint()),
                // moto is slow to create the first table of a fresh server.
                ("AWS_TIMEOUT_MS", "20000".to_owned()),
            ]);
            table = Some(name);
            (String::new(), None)
        }
        StoreKind::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (format!("sqlite://{}/chat.db", dir.path().display()), Some(dir))
        }
        StoreKind::Postgres => {
            let cluster = Postgres::shared();
            let name = format!("chat_{}", uuid::Uuid::new_v4().simple());
            sqlx::any::install_default_drivers();
            let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&cluster.url("postgres"))
                .await
                .expect("connect to the test cluster");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .expect("create test database");
            (cluster.url(&name), None)
        }
    };
    let mut env: HashMap<String, String> = [
        ("APP_ENV", "test"),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("JWT_SECRET", JWT_SECRET),
        ("PROXY_SECRET", PROXY_SECRET),
        ("SEED_DEMO_DATA", "true"),
        ("SERVICE_TOKEN", "test-service-token"),
        ("NOTIFY_LINK_SECRET", NOTIFY_LINK_SECRET),
        ("VAPID_PUBLIC_KEY", chat_backend::store::push::LOCAL_VAPID_PUBLIC_KEY),
        ("RATE_LIMIT_PER_MINUTE", "6000"),
        ("RATE_LIMIT_BURST", "1000"),
        ("DATABASE_MAX_CONNECTIONS", "5"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if !url.is_empty() {
        env.insert("DATABASE_URL".into(), url);
    }
    for (k, v) in store_env {
        env.insert(k.to_owned(), v);
    }
    let store_vars = ["DATABASE_URL", "CHAT_STORE", "CHAT_TABLE", "DYNAMODB_ENDPOINT", "AWS_TIMEOUT_MS"]
        .iter()
        .filter_map(|k| env.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    // An empty value unsets the key, as it does in the process environment.
    for (k, v) in overrides {
        if v.is_empty() {
            env.remove(*k);
        } else {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
    }
    let settings = Settings::from_lookup(|key| env.get(key).cloned()).expect("test settings");
    let app = Application::build(&settings).await.expect("backend starts");
    let port = app.port();
    let store = app.store().clone();
    let files = app.files().cloned();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        port,
        client: reqwest::Client::new(),
        store,
        settings,
        table,
        files,
        kind: db,
        store_vars,
        shutdown: Some(tx),
        _dir: dir,
    }
}

impl TestApp {
    /// A second backend on the same store, as a second Lambda instance is (`overrides` applied last).
    pub async fn another_instance(&self, overrides: &[(&str, &str)]) -> TestApp {
        let mut all: Vec<(&str, &str)> =
            self.store_vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        all.push(("SEED_DEMO_DATA", "false"));
        all.extend_from_slice(overrides);
        spawn_app_with(self.kind, &all).await
    }

    /// Moves the end of `booking` (cancelled or completed already) `days` back, as if it had ended then:
    /// what the retention job counts from.
    pub async fn ended_days_ago(&self, booking: i64, days: i64) {
        let mut state = self.store.booking(booking).await.expect("read").expect("the booking").chat;
        state.ended_at = state.ended_at.map(|at| at - days * 24 * 3600 * 1000);
        assert!(state.ended_at.is_some(), "booking {booking} has not ended");
        assert!(self.store.put_chat_state(booking, &state, state.version).await.expect("write"));
    }

    /// Makes the store unreachable: the SQL pool closed, the DynamoDB table deleted.
    pub async fn take_the_store_down(&self) {
        match &self.table {
            Some(table) => {
                dynamodb().delete_table().table_name(table).send().await.expect("delete the table");
            }
            None => self.store.close().await,
        }
    }
}

/// A DynamoDB client of the shared moto_server.
pub fn dynamodb() -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .http_client(chat_settings::aws::https_client())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(Moto::shared().endpoint())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// An HS256 token for `user`, valid for an hour.
pub fn token(user: &str) -> String {
    token_with_secret(user, JWT_SECRET)
}

pub fn token_with_secret(user: &str, secret: &str) -> String {
    let settings = chat_backend::config::JwtSettings {
        secret: Some(secret.to_owned().into()),
        issuer: None,
        audience: None,
        leeway: Duration::from_secs(0),
        jwks: None,
    };
    auth::mint_token(&settings, user, Duration::from_secs(3600)).expect("mint")
}

/// A correctly signed token that expired an hour ago.
pub fn expired_token(user: &str) -> String {
    signed_token(&json!({"sub": user, "exp": chrono_now() - 3600}))
}

/// A token with exactly these claims, signed with the test secret.
pub fn signed_token(claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .expect("encode")
}

/// An unsigned token (`alg: none`) for `user`.
pub fn alg_none_token(user: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims = URL_SAFE_NO_PAD.encode(json!({"sub": user, "exp": chrono_now() + 3600}).to_string());
    format!("{header}.{claims}.")
}

pub fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

impl TestApp {
    pub async fn post_proxy(
        &self,
        booking: impl Display,
        route: &str,
        body: Value,
        secret: Option<&str>,
    ) -> reqwest::Response {
        let mut request =
            self.client.post(format!("{}/api/chat/ws/{booking}/{route}", self.base)).json(&body);
        if let Some(secret) = secret {
            request = request.header("x-proxy-secret", secret);
        }
        request.send().await.expect("request")
    }

    /// The Lambda's `$connect` call.
    pub async fn connect(&self, booking: impl Display, token: &str) -> reqwest::Response {
        self.post_proxy(
            booking,
            "connect",
            json!({"connection_id": "conn-1", "token": token}),
            Some(PROXY_SECRET),
        )
        .await
    }

    /// The Lambda's call once `$connect` recorded the connection (`conn-1`): presence. Asserts 204.
    pub async fn connected(&self, booking: impl Display, user: &str, expires_at: i64) {
        let body = json!({"connection_id": "conn-1", "user_id": user, "connected_at": chrono_now() * 1000,
            "expires_at": expires_at});
        let response = self.post_proxy(booking, "connected", body, Some(PROXY_SECRET)).await;
        assert_eq!(response.status(), 204, "connected route answers 204");
    }

    /// The Lambda's `$default` call; asserts 200 and returns the reply.
    pub async fn send(&self, booking: impl Display, user: &str, message: Value) -> Value {
        let response = self
            .post_proxy(
                booking,
                "message",
                json!({"connection_id": "conn-1", "user_id": user, "message": message}),
                Some(PROXY_SECRET),
            )
            .await;
        assert_eq!(response.status(), 200, "message route answers 200");
        response.json().await.expect("json reply")
    }

    /// Sends a chat message through the proxy route and returns the stored message.
    pub async fn post_message(&self, booking: impl Display, user: &str, body: &str) -> Value {
        let reply = self.send(booking, user, json!({"action": "send_message", "data": {"body": body}})).await;
        assert_eq!(reply["type"], "message", "{reply}");
        reply["message"].clone()
    }

    /// The Lambda's `$disconnect` call.
    pub async fn disconnect(&self, booking: impl Display, user: &str) -> reqwest::Response {
        self.post_proxy(
            booking,
            "disconnect",
            json!({"connection_id": "conn-1", "user_id": user}),
            Some(PROXY_SECRET),
        )
        .await
    }

    pub async fn history(
        &self,
        booking: impl Display,
        token: Option<&str>,
        query: &str,
    ) -> reqwest::Response {
        let mut request =
            self.client.get(format!("{}/api/chat/bookings/{booking}/messages{query}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    pub async fn change_status(&self, booking: impl Display, token: &str, status: &str) -> reqwest::Response {
        self.client
            .patch(format!("{}/api/bookings/{booking}/status", self.base))
            .bearer_auth(token)
            .json(&json!({"status": status}))
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("request")
    }

    /// Opens the direct WebSocket; `query` starts with `?` or is empty.
    pub async fn ws(
        &self,
        booking: impl Display,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<WsClient, tokio_tungstenite::tungstenite::Error> {
        let mut request = format!("ws://127.0.0.1:{}/chat/ws/{booking}{query}", self.port)
            .into_client_request()
            .expect("request");
        for (name, value) in headers {
            let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(name.as_bytes())
                .expect("header name");
            request.headers_mut().insert(name, value.parse().expect("header value"));
        }
        let (stream, response) = tokio_tungstenite::connect_async(request).await?;
        let protocol =
            response.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(WsClient { stream, protocol })
    }

    /// Opens the direct WebSocket as `user` with `?token=`.
    pub async fn ws_as(&self, booking: impl Display, user: &str) -> WsClient {
        self.ws(booking, &format!("?token={}", token(user)), &[]).await.expect("ws connects")
    }
}

pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub protocol: Option<String>,
}

impl WsClient {
    pub async fn send_json(&mut self, value: Value) {
        self.send_text(value.to_string()).await;
    }

    pub async fn send_text(&mut self, text: String) {
        self.stream.send(Message::Text(text.into())).await.expect("send");
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.stream.send(Message::Binary(bytes.into())).await.expect("send");
    }

    /// Sends a text frame whose payload is not UTF-8 (which a well-behaved library refuses to build).
    pub async fn send_invalid_utf8_text(&mut self) {
        use tokio_tungstenite::tungstenite::protocol::frame::Frame;
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        let frame = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
        self.stream.send(Message::Frame(frame)).await.expect("send");
    }

    /// The next text frame as JSON; fails after 5 s.
    /// The next frame, skipping `presence` frames (members coming and going are incidental to every
    /// test but the presence tests, which read them with [`WsClient::next_presence`]).
    pub async fn next_json(&mut self) -> Value {
        loop {
            let frame = self.next_any().await;
            if frame["type"] != "presence" {
                return frame;
            }
        }
    }

    /// The next `presence` frame, skipping others.
    pub async fn next_presence(&mut self) -> Value {
        loop {
            let frame = self.next_any().await;
            if frame["type"] == "presence" {
                return frame;
            }
        }
    }

    /// The next `presence` frame within `ms` milliseconds, if one comes.
    pub async fn presence_within(&mut self, ms: u64) -> Option<Value> {
        tokio::time::timeout(Duration::from_millis(ms), self.next_presence()).await.ok()
    }

    /// The next frame, whatever its type.
    pub async fn next_any(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), self.stream.next())
                .await
                .expect("a frame within 5 s")
                .expect("stream open")
                .expect("frame");
            match message {
                Message::Text(text) => return serde_json::from_str(&text).expect("JSON frame"),
                Message::Close(frame) => panic!("socket closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// The close frame's code, waiting up to `within`.
    pub async fn next_close(&mut self, within: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) | Err(_) => return None,
            }
        }
    }

    /// Asserts nothing arrives for `ms` milliseconds.
    pub async fn expect_silence(&mut self, ms: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while let Ok(Some(Ok(Message::Text(text)))) =
            tokio::time::timeout_at(deadline, self.stream.next()).await
        {
            assert!(text.contains(r#""type":"presence""#), "expected no frame, got {text}");
        }
    }
}

/// The status of a refused WebSocket handshake.
pub fn handshake_status(result: Result<WsClient, tokio_tungstenite::tungstenite::Error>) -> u16 {
    match result {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected the handshake to be refused"),
    }
}
