//! The emulator's own rules, checked with a scripted integration that records every event it gets.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apigw_ws_emulator::config::AuthorizerConfig;
use apigw_ws_emulator::connections::Connections;
use apigw_ws_emulator::integration::{Integration, IntegrationError};
use apigw_ws_emulator::{Emulator, EmulatorConfig, Limits};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_apigatewaymanagement::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Answers `$connect` with `connect_status` and `connect_headers`, sleeps `delay` on messages whose body
/// says `"slow"`, fails on `"fail"`, and during `$connect` tries to push to the new connection.
struct Scripted {
    events: Mutex<Vec<Value>>,
    /// How the function answers an authorizer event.
    authorizer: Mutex<AuthorizerMode>,
    connect_status: u16,
    connect_headers: Vec<(String, String)>,
    management: Mutex<Option<String>>,
    push_during_connect: Mutex<Vec<u16>>,
    delay: Duration,
}

impl Scripted {
    fn new(connect_status: u16, connect_headers: &[(&str, &str)]) -> Arc<Self> {
        Arc::new(Self {
            events: Mutex::default(),
            authorizer: Mutex::new(AuthorizerMode::Allow),
            connect_status,
            connect_headers: connect_headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            management: Mutex::default(),
            push_during_connect: Mutex::default(),
            delay: Duration::from_secs(2),
        })
    }
    fn events(&self) -> Vec<Value> {
        self.events.lock().expect("lock").clone()
    }
    fn of_route(&self, route: &str) -> Vec<Value> {
        self.events().into_iter().filter(|e| e["requestContext"]["routeKey"] == route).collect()
    }
}

/// What a scripted authorizer does.
#[derive(Clone, Copy)]
enum AuthorizerMode {
    Allow,
    Deny,
    Unauthorized,
    Fail,
}

fn answer(status: u16, headers: &[(String, String)]) -> Value {
    let headers: serde_json::Map<String, Value> =
        headers.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    json!({"statusCode": status, "headers": headers})
}

impl Integration for Scripted {
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<Value, IntegrationError>> {
        Box::pin(async move {
            self.events.lock().expect("lock").push(event.clone());
            if event["type"] == "REQUEST" {
                let arn = event["methodArn"].clone();
                let policy = |effect: &str| json!({"Version": "2012-10-17", "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": arn}]});
                let mode = *self.authorizer.lock().expect("lock");
                return match mode {
                    AuthorizerMode::Allow => Ok(json!({
                        "principalId": "alice",
                        "policyDocument": policy("Allow"),
                        "context": {"booking_id": 7, "user_id": "alice", "verified": true}
                    })),
                    AuthorizerMode::Deny => {
                        Ok(json!({"principalId": "mallory", "policyDocument": policy("Deny")}))
                    }
                    AuthorizerMode::Unauthorized => Err(IntegrationError::Function("Unauthorized".into())),
                    AuthorizerMode::Fail => Err(IntegrationError::Function("kaboom".into())),
                };
            }
            let route = event["requestContext"]["routeKey"].as_str().unwrap_or_default().to_owned();
            if route == "$connect" {
                let base = self.management.lock().expect("lock").clone();
                if let Some(base) = base {
                    let id = event["requestContext"]["connectionId"].as_str().unwrap_or_default();
                    let status = reqwest::Client::new()
                        .post(format!("{base}/@connections/{id}"))
                        .body("too early")
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    self.push_during_connect.lock().expect("lock").push(status);
                }
                return Ok(answer(self.connect_status, &self.connect_headers));
            }
            match event["body"].as_str() {
                Some("slow") => tokio::time::sleep(self.delay).await,
                Some("fail") => return Err(IntegrationError::Failed("boom".into())),
                _ => {}
            }
            Ok(answer(200, &[]))
        })
    }
}

struct Running {
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Running {
    fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/local{query}", self.addr)
    }
    fn management(&self) -> String {
        format!("http://{}/local", self.addr)
    }
}

async fn start(integration: Arc<Scripted>, limits: Limits, routes: &[&str]) -> Running {
    start_with(
        integration,
        EmulatorConfig {
            routes: routes.iter().map(|r| r.to_string()).collect(),
            limits,
            ..EmulatorConfig::default()
        },
    )
    .await
}

async fn start_with(integration: Arc<Scripted>, config: EmulatorConfig) -> Running {
    let emulator = Arc::new(Emulator::new(config, Arc::new(Connections::default()), integration.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    *integration.management.lock().expect("lock") = Some(format!("http://{addr}/local"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(emulator.serve(listener, async {
        let _ = stopped.await;
    }));
    Running { addr, _stop: stop }
}

type Client = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, protocols: Option<&str>) -> Result<(Client, Option<String>), WsError> {
    let mut request = url.into_client_request().expect("request");
    if let Some(protocols) = protocols {
        request.headers_mut().insert("sec-websocket-protocol", protocols.parse().expect("header"));
    }
    let (client, response) = tokio_tungstenite::connect_async(request).await?;
    let protocol =
        response.headers().get("sec-websocket-protocol").map(|v| v.to_str().expect("ascii").to_owned());
    Ok((client, protocol))
}

async fn next_text(client: &mut Client) -> Value {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), client.next()).await.expect("a frame in 5 s") {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).expect("json"),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

async fn close_code(client: &mut Client) -> Option<u16> {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), client.next()).await.expect("close within 5 s") {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

async fn eventually<F: Fn() -> bool>(what: &str, check: F) {
    for _ in 0..100 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn connect_runs_before_the_upgrade_with_a_complete_api_gateway_event() {
    let integration = Scripted::new(200, &[]);
    let running = start(integration.clone(), Limits::default(), &[]).await;
    let (_client, _) = connect(&running.ws_url("?booking_id=1&type=chat"), None).await.expect("accepted");
    let connects = integration.of_route("$connect");
    assert_eq!(connects.len(), 1);
    let event = &connects[0];
    let context = &event["requestContext"];
    let id = context["connectionId"].as_str().expect("id");
    assert_eq!(id.len(), 16);
    assert!(id.ends_with('=') && id[..15].bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    assert_eq!(context["eventType"], "CONNECT");
    assert_eq!(context["stage"], "local");
    assert_eq!(context["messageDirection"], "IN");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    for field in [
        "apiId",
        "domainName",
        "requestId",
        "extendedRequestId",
        "requestTime",
        "connectedAt",
        "requestTimeEpoch",
    ] {
        assert!(!context[field].is_null(), "requestContext.{field}");
    }
    assert_eq!(event["queryStringParameters"], json!({"booking_id": "1", "type": "chat"}));
    assert_eq!(event["multiValueQueryStringParameters"]["booking_id"], json!(["1"]));
    assert_eq!(event["headers"]["sec-websocket-version"], "13");
    // The event is what the Lambda runtime deserialises.
    let typed: aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest =
        serde_json::from_value(event.clone()).expect("real type");
    assert_eq!(typed.request_context.route_key.as_deref(), Some("$connect"));
}

#[tokio::test]
async fn the_management_api_answers_410_while_connect_is_still_running() {
    let integration = Scripted::new(200, &[]);
    let running = start(integration.clone(), Limits::default(), &[]).await;
    let (_client, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    assert_eq!(*integration.push_during_connect.lock().expect("lock"), vec![410]);
}

#[tokio::test]
async fn a_non_2xx_connect_answer_refuses_the_handshake_with_that_status() {
    for status in [400, 401, 403, 404, 502] {
        let running = start(Scripted::new(status, &[]), Limits::default(), &[]).await;
        match connect(&running.ws_url(""), None).await {
            Err(WsError::Http(response)) => assert_eq!(response.status().as_u16(), status),
            other => panic!("expected refusal with {status}, got {:?}", other.map(|_| ())),
        }
    }
}

#[tokio::test]
async fn connect_answer_headers_are_applied_so_the_subprotocol_is_echoed() {
    let echoing =
        start(Scripted::new(200, &[("Sec-WebSocket-Protocol", "chat.v1")]), Limits::default(), &[]).await;
    let (_client, protocol) =
        connect(&echoing.ws_url(""), Some("chat.v1, bearer.abc")).await.expect("accepted");
    assert_eq!(protocol.as_deref(), Some("chat.v1"));
    // As with API Gateway, a Lambda that does not echo leaves a browser-style client with no protocol,
    // which the client then refuses.
    let silent = start(Scripted::new(200, &[]), Limits::default(), &[]).await;
    assert!(connect(&silent.ws_url(""), Some("chat.v1, bearer.abc")).await.is_err());
}

#[tokio::test]
async fn messages_are_routed_by_the_body_action_with_message_ids() {
    let integration = Scripted::new(200, &[]);
    let running = start(integration.clone(), Limits::default(), &["send_message"]).await;
    let (mut client, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    client.send(Message::Text(r#"{"action":"send_message","data":{}}"#.into())).await.expect("send");
    client.send(Message::Text(r#"{"action":"ping"}"#.into())).await.expect("send");
    client.send(Message::Binary(vec![0, 1, 2].into())).await.expect("send");
    eventually("three message events", || integration.events().len() == 4).await;
    let messages: Vec<Value> = integration.events().into_iter().skip(1).collect();
    let routes: Vec<&str> =
        messages.iter().map(|e| e["requestContext"]["routeKey"].as_str().expect("route")).collect();
    assert!(routes.contains(&"send_message") && routes.iter().filter(|r| **r == "$default").count() == 2);
    for event in &messages {
        assert_eq!(event["requestContext"]["eventType"], "MESSAGE");
        assert!(event["requestContext"]["messageId"].as_str().is_some_and(|m| m.ends_with('=')));
    }
    let binary = messages.iter().find(|e| e["isBase64Encoded"] == true).expect("binary frame");
    assert_eq!(binary["body"], "AAEC");
}

#[tokio::test]
async fn a_failed_or_slow_integration_sends_api_gateways_error_frame_and_keeps_the_connection() {
    let integration = Scripted::new(200, &[]);
    let limits = Limits { integration_timeout: Duration::from_millis(1_000), ..Limits::default() };
    let running = start(integration.clone(), limits, &[]).await;
    let (mut client, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    client.send(Message::Text("fail".into())).await.expect("send");
    let frame = next_text(&mut client).await;
    assert_eq!(frame["message"], "Internal server error");
    assert!(frame["connectionId"].as_str().is_some() && frame["requestId"].as_str().is_some());
    client.send(Message::Text("slow".into())).await.expect("send");
    assert_eq!(next_text(&mut client).await["message"], "Endpoint request timed out");
    client.send(Message::Text("fine".into())).await.expect("the connection is still open");
}

#[tokio::test]
async fn a_connect_integration_that_times_out_refuses_with_500() {
    struct Hangs;
    impl Integration for Hangs {
        fn invoke(&self, _event: Value) -> BoxFuture<'_, Result<Value, IntegrationError>> {
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(Value::Null)
            })
        }
    }
    let config = EmulatorConfig {
        limits: Limits { integration_timeout: Duration::from_millis(100), ..Limits::default() },
        ..EmulatorConfig::default()
    };
    let emulator = Arc::new(Emulator::new(config, Arc::new(Connections::default()), Arc::new(Hangs)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(emulator.serve(listener, std::future::pending()));
    match connect(&format!("ws://{addr}/local"), None).await {
        Err(WsError::Http(response)) => assert_eq!(response.status().as_u16(), 500),
        other => panic!("expected 500, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009_and_disconnect_says_so() {
    let integration = Scripted::new(200, &[]);
    let running = start(integration.clone(), Limits::default(), &[]).await;
    let (mut client, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    client.send(Message::Text("x".repeat(32 * 1024 + 1).into())).await.expect("send");
    assert_eq!(close_code(&mut client).await, Some(1009));
    eventually("$disconnect", || !integration.of_route("$disconnect").is_empty()).await;
    let context = &integration.of_route("$disconnect")[0]["requestContext"];
    assert_eq!(context["disconnectStatusCode"], 1009);
    assert_eq!(context["eventType"], "DISCONNECT");
    assert!(integration.of_route("$default").is_empty(), "the oversized frame never reached the integration");
}

#[tokio::test]
async fn a_frame_at_the_limit_is_delivered() {
    let integration = Scripted::new(200, &[]);
    let running = start(integration.clone(), Limits::default(), &[]).await;
    let (mut client, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    client.send(Message::Text("x".repeat(32 * 1024).into())).await.expect("send");
    eventually("the message event", || integration.of_route("$default").len() == 1).await;
}

#[tokio::test]
async fn disconnect_carries_the_clients_close_code_or_1005_or_1006() {
    let integration = Scripted::new(200, &[]);
    let running = start(integration.clone(), Limits::default(), &[]).await;
    let (mut with_code, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    with_code
        .close(Some(CloseFrame { code: CloseCode::Library(4000), reason: "bye".into() }))
        .await
        .expect("close");
    eventually("first $disconnect", || integration.of_route("$disconnect").len() == 1).await;
    let (mut without_code, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    without_code.close(None).await.expect("close");
    eventually("second $disconnect", || integration.of_route("$disconnect").len() == 2).await;
    let (dropped, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    drop(dropped); // TCP gone, no close frame
    eventually("third $disconnect", || integration.of_route("$disconnect").len() == 3).await;
    let codes: Vec<(Value, Value)> = integration
        .of_route("$disconnect")
        .iter()
        .map(|e| {
            (
                e["requestContext"]["disconnectStatusCode"].clone(),
                e["requestContext"]["disconnectReason"].clone(),
            )
        })
        .collect();
    assert_eq!(codes[0], (json!(4000), json!("bye")));
    assert_eq!(codes[1].0, json!(1005));
    assert_eq!(codes[2].0, json!(1006));
}

#[tokio::test]
async fn idle_and_overlong_connections_are_closed_with_1001() {
    let integration = Scripted::new(200, &[]);
    let idle = Limits { idle_timeout: Duration::from_millis(300), ..Limits::default() };
    let running = start(integration.clone(), idle, &[]).await;
    let (mut client, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    assert_eq!(close_code(&mut client).await, Some(1001));

    let integration = Scripted::new(200, &[]);
    let short = Limits { max_connection_duration: Duration::from_millis(600), ..Limits::default() };
    let running = start(integration.clone(), short, &[]).await;
    let (mut client, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    for _ in 0..3 {
        client.send(Message::Text("{}".into())).await.expect("keep busy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(close_code(&mut client).await, Some(1001));
    eventually("$disconnect", || !integration.of_route("$disconnect").is_empty()).await;
    assert_eq!(integration.of_route("$disconnect")[0]["requestContext"]["disconnectStatusCode"], 1001);
}

#[tokio::test]
async fn the_management_api_posts_gets_and_deletes_under_the_stage_path() {
    let integration = Scripted::new(200, &[]);
    let running = start(integration.clone(), Limits::default(), &[]).await;
    let (mut client, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    let id = integration.of_route("$connect")[0]["requestContext"]["connectionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let http = reqwest::Client::new();
    let url = format!("{}/@connections/{id}", running.management());

    assert_eq!(http.post(&url).body(r#"{"hello":1}"#).send().await.expect("post").status(), 200);
    assert_eq!(next_text(&mut client).await, json!({"hello": 1}));
    let info: Value = http.get(&url).send().await.expect("get").json().await.expect("json");
    assert_eq!(info["identity"]["sourceIp"], "127.0.0.1");
    assert!(info["connectedAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(info["lastActiveAt"].as_str().is_some());
    let too_big = http.post(&url).body("x".repeat(128 * 1024 + 1)).send().await.expect("post");
    assert_eq!(too_big.status(), 413);
    let wrong_stage = http
        .post(format!("http://{}/prod/@connections/{id}", running.addr))
        .body("x")
        .send()
        .await
        .expect("post");
    assert_eq!(wrong_stage.status(), 403);

    assert_eq!(http.delete(&url).send().await.expect("delete").status(), 204);
    assert_eq!(close_code(&mut client).await, Some(1000));
    eventually("$disconnect", || !integration.of_route("$disconnect").is_empty()).await;
    let gone = http.post(&url).body("late").send().await.expect("post");
    assert_eq!(gone.status(), 410);
    assert_eq!(gone.headers()["x-amzn-errortype"], "GoneException");
    assert_eq!(http.get(&url).send().await.expect("get").status(), 410);
    assert_eq!(
        http.post(format!("{}/@connections/NoSuchConnId0=", running.management()))
            .body("x")
            .send()
            .await
            .expect("post")
            .status(),
        410
    );
}

#[tokio::test]
async fn the_aws_sdk_talks_to_the_management_api_with_the_stage_in_the_endpoint() {
    let integration = Scripted::new(200, &[]);
    let running = start(integration.clone(), Limits::default(), &[]).await;
    let (mut client, _) = connect(&running.ws_url(""), None).await.expect("accepted");
    let id = integration.of_route("$connect")[0]["requestContext"]["connectionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "tests",
        )))
        .build();
    let endpoint = running.management();
    let config = aws_sdk_apigatewaymanagement::config::Builder::from(&sdk).endpoint_url(&endpoint).build();
    let management = aws_sdk_apigatewaymanagement::Client::from_conf(config);
    management
        .post_to_connection()
        .connection_id(&id)
        .data(Blob::new(r#"{"via":"sdk"}"#))
        .send()
        .await
        .expect("posted through the SDK");
    assert_eq!(next_text(&mut client).await, json!({"via": "sdk"}));
    management.delete_connection().connection_id(&id).send().await.expect("closed through the SDK");
    assert_eq!(close_code(&mut client).await, Some(1000));
    eventually("$disconnect", || !integration.of_route("$disconnect").is_empty()).await;
    let gone = management.post_to_connection().connection_id(&id).data(Blob::new("{}")).send().await;
    assert!(
        matches!(gone.map_err(|e| e.into_service_error()), Err(PostToConnectionError::GoneException(_))),
        "410 is read as GoneException"
    );
}

fn with_authorizer(identity_sources: &[&str]) -> EmulatorConfig {
    EmulatorConfig {
        authorizer: Some(AuthorizerConfig {
            identity_sources: identity_sources.iter().map(|s| s.to_string()).collect(),
        }),
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn an_authorizer_refuses_before_connect_runs_with_401_403_or_500() {
    for (mode, status) in
        [(AuthorizerMode::Unauthorized, 401), (AuthorizerMode::Deny, 403), (AuthorizerMode::Fail, 500)]
    {
        let integration = Scripted::new(200, &[]);
        *integration.authorizer.lock().expect("lock") = mode;
        let running = start_with(integration.clone(), with_authorizer(&[])).await;
        assert_eq!(handshake_status(connect(&running.ws_url("?x=1"), None).await), status);
        assert_eq!(integration.events().len(), 1, "only the authorizer ran");
        assert!(integration.of_route("$connect").iter().all(|e| e["type"] == "REQUEST"));
    }
}

#[tokio::test]
async fn a_missing_identity_source_is_401_without_invoking_the_authorizer() {
    let integration = Scripted::new(200, &[]);
    let running =
        start_with(integration.clone(), with_authorizer(&["route.request.querystring.token"])).await;
    assert_eq!(handshake_status(connect(&running.ws_url("?booking_id=1"), None).await), 401);
    assert!(integration.events().is_empty(), "nothing was invoked");
    let (client, _) = connect(&running.ws_url("?token=t"), None).await.expect("with the source it runs");
    drop(client);
}

#[tokio::test]
async fn the_authorizers_context_reaches_connect_every_message_and_disconnect_stringified() {
    let integration = Scripted::new(200, &[]);
    let running = start_with(integration.clone(), with_authorizer(&[])).await;
    let (mut client, _) = connect(&running.ws_url("?booking_id=7&token=t"), None).await.expect("accepted");
    let request = &integration.events()[0];
    assert_eq!(request["type"], "REQUEST");
    assert!(request["methodArn"].as_str().expect("arn").ends_with("/local/$connect"));
    assert_eq!(request["queryStringParameters"]["booking_id"], "7");
    assert_eq!(request["queryStringParameters"]["token"], "t");
    assert!(request["headers"]["sec-websocket-key"].is_string(), "the handshake's headers");
    client.send(Message::Text("hello".into())).await.expect("send");
    client.close(None).await.expect("close");
    eventually("$disconnect", || !integration.of_route("$disconnect").is_empty()).await;
    let expected = json!({"principalId": "alice", "booking_id": "7", "user_id": "alice", "verified": "true"});
    for route in ["$connect", "$default", "$disconnect"] {
        let event = integration.of_route(route).into_iter().find(|e| e["type"] != "REQUEST").expect(route);
        assert_eq!(event["requestContext"]["authorizer"], expected, "{route}");
    }
}

fn handshake_status(result: Result<(Client, Option<String>), WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected the handshake to be refused"),
    }
}
