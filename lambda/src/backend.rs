//! The adapters of [`Backend`]: the chat backend's proxy routes, with the shared secret and a timeout well
//! under API Gateway's 29 s, over one of two links ([`BackendLink`]).
//!
//! - [`HttpBackend`]: over HTTP(S) at a URL (a backend that runs elsewhere: a container, a server, the
//!   local stack). One `reqwest` client (one connection pool) for the process.
//! - [`InvokeBackend`]: the backend's Lambda function invoked directly with the Lambda Invoke API,
//!   authorised by IAM (`lambda:InvokeFunction` on that function alone). No public URL serves the proxy
//!   routes at all: the event is the one API Gateway's HTTP API would send (payload format 2.0), which
//!   the backend's `lambda_http` entry point reads as any request.
//!
//! Both read the answer the same way ([`BackendClient`]): 204 is "nothing to send", 2xx carries the
//! contract's JSON, 4xx the backend's error body (a refusal), 5xx or no answer is "unavailable".

use std::time::Duration;

use chat_wire::proxy::{
    ConnectRequest, ConnectResponse, ConnectedRequest, DisconnectRequest, ErrorResponse, MessageRequest,
    PROXY_SECRET_HEADER, ProxyReply, USER_CONNECT_PATH, UserConnectResponse,
};
use chat_wire::{BookingId, ErrorBody, ErrorCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::ports::{Backend, BackendError};

/// An answer of the backend: its HTTP status and body.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// How a proxy route's request reaches the backend.
pub trait BackendLink: Send + Sync + 'static {
    /// POSTs `body` (JSON) to `path` with the proxy secret.
    ///
    /// # Errors
    /// [`BackendError::Unavailable`] when no answer came.
    fn post(&self, path: &str, body: Vec<u8>) -> impl Future<Output = Result<Answer, BackendError>> + Send;
}

/// The [`Backend`] port over a [`BackendLink`].
#[derive(Debug, Clone)]
pub struct BackendClient<T> {
    link: T,
}

/// The backend over HTTP.
pub type HttpBackend = BackendClient<HttpLink>;

/// The backend's Lambda function, invoked directly.
pub type InvokeBackend = BackendClient<InvokeLink>;

impl HttpBackend {
    /// A client of the backend at `base_url` (no trailing slash), giving up after `timeout`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built (TLS roots unavailable).
    pub fn new(base_url: &str, secret: SecretString, timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(Self { link: HttpLink::new(base_url, secret, timeout)? })
    }
}

impl InvokeBackend {
    /// A client of the backend function `function` (name, ARN, or ARN with the alias), giving up after
    /// `timeout`.
    pub fn new(
        sdk_config: &aws_config::SdkConfig,
        function: &str,
        secret: SecretString,
        timeout: Duration,
    ) -> Self {
        Self { link: InvokeLink::new(sdk_config, function, secret, timeout) }
    }
}

impl<T: BackendLink> BackendClient<T> {
    async fn call<B: Serialize + Sync>(
        &self,
        booking_id: BookingId,
        route: &str,
        body: &B,
    ) -> Result<Option<Vec<u8>>, BackendError> {
        self.call_path(&format!("/api/chat/ws/{booking_id}/{route}"), body).await
    }

    async fn call_path<B: Serialize + Sync>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<Option<Vec<u8>>, BackendError> {
        let body = serde_json::to_vec(body).map_err(|e| BackendError::Contract(e.to_string()))?;
        let answer = self.link.post(path, body).await?;
        match answer.status {
            204 => Ok(None),
            200..=299 => Ok(Some(answer.body)),
            500.. => Err(BackendError::Unavailable(format!("backend answered {}", answer.status))),
            status => {
                let error = match serde_json::from_slice::<ErrorResponse>(&answer.body) {
                    Ok(body) => body.error,
                    Err(_) => ErrorBody::new(code_for(status), format!("backend answered {status}")),
                };
                Err(BackendError::Refused { status, error })
            }
        }
    }

    fn json<R: DeserializeOwned>(body: &[u8]) -> Result<R, BackendError> {
        serde_json::from_slice(body).map_err(|e| BackendError::Contract(format!("unreadable body: {e}")))
    }
}

fn code_for(status: u16) -> ErrorCode {
    match status {
        401 => ErrorCode::AuthenticationError,
        403 => ErrorCode::AuthorizationError,
        404 => ErrorCode::NotFound,
        413 => ErrorCode::PayloadTooLarge,
        429 => ErrorCode::RateLimited,
        _ => ErrorCode::ValidationError,
    }
}

impl<T: BackendLink> Backend for BackendClient<T> {
    async fn connect(
        &self,
        booking_id: BookingId,
        request: &ConnectRequest,
    ) -> Result<ConnectResponse, BackendError> {
        match self.call(booking_id, "connect", request).await? {
            Some(body) => Self::json(&body),
            None => Err(BackendError::Contract("connect answered 204".into())),
        }
    }

    async fn connected(&self, booking_id: BookingId, request: &ConnectedRequest) -> Result<(), BackendError> {
        self.call(booking_id, "connected", request).await.map(drop)
    }

    async fn connect_user(&self, request: &ConnectRequest) -> Result<UserConnectResponse, BackendError> {
        match self.call_path(USER_CONNECT_PATH, request).await? {
            Some(body) => Self::json(&body),
            None => Err(BackendError::Contract("user connect answered 204".into())),
        }
    }

    async fn message(
        &self,
        booking_id: BookingId,
        request: &MessageRequest,
    ) -> Result<Option<ProxyReply>, BackendError> {
        match self.call(booking_id, "message", request).await? {
            Some(body) => Self::json(&body).map(Some),
            None => Ok(None),
        }
    }

    async fn disconnect(
        &self,
        booking_id: BookingId,
        request: &DisconnectRequest,
    ) -> Result<(), BackendError> {
        self.call(booking_id, "disconnect", request).await.map(drop)
    }
}

/// Proxy routes over HTTP(S).
#[derive(Debug, Clone)]
pub struct HttpLink {
    client: reqwest::Client,
    base_url: String,
    secret: SecretString,
}

impl HttpLink {
    fn new(base_url: &str, secret: SecretString, timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            // rustls on ring with the system roots read once (chat_settings::tls), not reqwest's platform
            // verifier, which reads every certificate file of the system at start.
            .tls_backend_preconfigured(chat_settings::tls::client_config())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .pool_idle_timeout(Duration::from_secs(50))
            // A Lambda instance runs one invocation at a time and needs one or two connections; in the
            // local stack many invocations share this client, and after a burst (a close storm) only a
            // few connections are kept, not one per invocation of the burst.
            .pool_max_idle_per_host(8)
            .user_agent(concat!("chat-proxy/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, base_url: base_url.trim_end_matches('/').to_owned(), secret })
    }
}

impl BackendLink for HttpLink {
    async fn post(&self, path: &str, body: Vec<u8>) -> Result<Answer, BackendError> {
        let response = self
            .client
            .post(format!("{}{path}", self.base_url))
            .header(PROXY_SECRET_HEADER, self.secret.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| BackendError::Unavailable(chat_settings::http::describe(&e)))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| BackendError::Unavailable(chat_settings::http::describe(&e)))?;
        Ok(Answer { status, body: body.to_vec() })
    }
}

/// Proxy routes through the Lambda Invoke API, as API Gateway HTTP API events (payload format 2.0).
#[derive(Debug, Clone)]
pub struct InvokeLink {
    client: aws_sdk_lambda::Client,
    function: String,
    secret: SecretString,
}

impl InvokeLink {
    fn new(
        sdk_config: &aws_config::SdkConfig,
        function: &str,
        secret: SecretString,
        timeout: Duration,
    ) -> Self {
        let config = aws_sdk_lambda::config::Builder::from(sdk_config)
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(timeout.min(Duration::from_secs(1)))
                    .operation_timeout(timeout)
                    .build(),
            )
            .build();
        Self { client: aws_sdk_lambda::Client::from_conf(config), function: function.to_owned(), secret }
    }
}

/// The event API Gateway's HTTP API sends for `POST path` (payload format 2.0), with what `lambda_http`
/// needs to rebuild the request.
pub fn http_api_event(path: &str, secret: &str, body: &[u8], request_id: &str, now_ms: i64) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "content-type": "application/json",
            PROXY_SECRET_HEADER: secret,
            "user-agent": concat!("chat-proxy/", env!("CARGO_PKG_VERSION")),
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "chat-proxy-invoke",
            "domainName": "chat-backend.invoke.local",
            "domainPrefix": "chat-backend",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": concat!("chat-proxy/", env!("CARGO_PKG_VERSION")),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": "",
            "timeEpoch": now_ms,
        },
        "body": String::from_utf8_lossy(body),
        "isBase64Encoded": false,
    })
}

impl BackendLink for InvokeLink {
    async fn post(&self, path: &str, body: Vec<u8>) -> Result<Answer, BackendError> {
        let request_id = format!("invoke-{:016x}", fastrand::u64(..));
        let now = chat_wire::time::now_millis();
        let event = http_api_event(path, self.secret.expose_secret(), &body, &request_id, now);
        let payload = serde_json::to_vec(&event).map_err(|e| BackendError::Contract(e.to_string()))?;
        let output = self
            .client
            .invoke()
            .function_name(&self.function)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload))
            .send()
            .await
            .map_err(|e| {
                BackendError::Unavailable(format!(
                    "invoking {}: {}",
                    self.function,
                    aws_sdk_lambda::error::DisplayErrorContext(e)
                ))
            })?;
        let answer: Value = output
            .payload()
            .map(|p| serde_json::from_slice(p.as_ref()))
            .transpose()
            .map_err(|e| BackendError::Contract(format!("unreadable answer of {}: {e}", self.function)))?
            .unwrap_or(Value::Null);
        if let Some(kind) = output.function_error() {
            let message = answer.get("errorMessage").and_then(Value::as_str).unwrap_or("no message");
            return Err(BackendError::Unavailable(format!("{} failed ({kind}): {message}", self.function)));
        }
        let status =
            answer.get("statusCode").and_then(Value::as_u64).and_then(|s| u16::try_from(s).ok()).ok_or_else(
                || BackendError::Contract(format!("{} answered without a statusCode", self.function)),
            )?;
        let text = answer.get("body").and_then(Value::as_str).unwrap_or_default();
        let body = if answer.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
            base64_decode(text).ok_or_else(|| BackendError::Contract("a body that is not base64".into()))?
        } else {
            text.as_bytes().to_vec()
        };
        Ok(Answer { status, body })
    }
}

/// Standard base64 with padding, as Lambda's HTTP integrations encode binary bodies.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text.bytes().filter(|b| *b != b'=') {
        let value = ALPHABET.iter().position(|c| *c == byte)?;
        buffer = (buffer << 6) | u32::try_from(value).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_bodies_decode() {
        assert_eq!(base64_decode("eyJvayI6dHJ1ZX0=").as_deref(), Some(br#"{"ok":true}"#.as_slice()));
        assert_eq!(base64_decode("").as_deref(), Some(b"".as_slice()));
        assert!(base64_decode("not base64!").is_none());
    }

    #[test]
    fn the_invoke_event_is_an_http_api_request_lambda_http_reads() {
        let event = http_api_event("/api/chat/ws/1/message", "s3cret", br#"{"a":1}"#, "r1", 1);
        let request: aws_lambda_events::apigw::ApiGatewayV2httpRequest =
            serde_json::from_value(event).expect("an HTTP API v2 event");
        assert_eq!(request.raw_path.as_deref(), Some("/api/chat/ws/1/message"));
        assert_eq!(request.request_context.http.method, aws_lambda_events::http::Method::POST);
        assert_eq!(request.headers[PROXY_SECRET_HEADER], "s3cret");
        assert_eq!(request.body.as_deref(), Some(r#"{"a":1}"#));
    }
}
