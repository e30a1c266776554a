//! How the emulator calls the function behind the API: the [`Integration`] port, and its adapter for a
//! function behind the Lambda Invoke API at a URL (for example `cargo lambda watch`, running the real
//! `bootstrap`). Whoever composes the emulator with a function in the same process brings an adapter of its
//! own. Either way the event is the JSON API Gateway sends and the answer is read as API Gateway reads it
//! ([`read_response`]).

use futures_util::future::BoxFuture;
use serde_json::Value;

/// What API Gateway uses of an integration's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationResponse {
    /// `statusCode`; a Lambda that returns no status code counts as 200, as on AWS.
    pub status: u16,
    /// `headers` (single-valued); on `$connect` they go into the handshake response.
    pub headers: Vec<(String, String)>,
}

/// Why an integration gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum IntegrationError {
    /// The integration timeout passed.
    #[error("integration timed out")]
    Timeout,
    /// The function failed with this error message (an authorizer's `Unauthorized` is one).
    #[error("function error: {0}")]
    Function(String),
    /// The invocation failed (a crash, an unreachable Invoke API, an unreadable answer).
    #[error("integration failed: {0}")]
    Failed(String),
}

/// Something that handles API Gateway events: a function behind the API.
pub trait Integration: Send + Sync + 'static {
    /// Invokes the function with an event and returns its JSON answer (`null` when it returned nothing).
    ///
    /// # Errors
    /// [`IntegrationError::Function`] when the function failed with a message, else
    /// [`IntegrationError::Failed`].
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<Value, IntegrationError>>;
}

/// Reads a Lambda proxy answer as API Gateway does.
pub fn read_response(value: &Value) -> Result<IntegrationResponse, IntegrationError> {
    if value.is_null() {
        return Ok(IntegrationResponse { status: 200, headers: Vec::new() });
    }
    let status = match value.get("statusCode") {
        None | Some(Value::Null) => 200,
        Some(code) => code
            .as_u64()
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| (100..600).contains(c))
            .ok_or_else(|| IntegrationError::Failed(format!("malformed statusCode {code}")))?,
    };
    let mut headers = Vec::new();
    if let Some(Value::Object(map)) = value.get("headers") {
        for (name, v) in map {
            if let Some(text) = v.as_str() {
                headers.push((name.clone(), text.to_owned()));
            }
        }
    }
    if let Some(Value::Object(map)) = value.get("multiValueHeaders") {
        for (name, values) in map {
            if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            for v in values.as_array().into_iter().flatten().filter_map(Value::as_str) {
                headers.push((name.clone(), v.to_owned()));
            }
        }
    }
    Ok(IntegrationResponse { status, headers })
}

/// A function behind the Lambda Invoke API (`POST {url}` with the event as body).
pub struct InvokeUrl {
    client: reqwest::Client,
    url: String,
}

impl InvokeUrl {
    /// The full invocation URL, e.g.
    /// `http://127.0.0.1:9000/2015-03-31/functions/chat-proxy/invocations`.
    pub fn new(url: impl Into<String>) -> Self {
        Self { client: reqwest::Client::new(), url: url.into() }
    }
}

impl Integration for InvokeUrl {
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<Value, IntegrationError>> {
        Box::pin(async move {
            let response = self
                .client
                .post(&self.url)
                .json(&event)
                .send()
                .await
                .map_err(|e| IntegrationError::Failed(format!("Invoke API unreachable: {e}")))?;
            let function_error = response.headers().get("x-amz-function-error").is_some();
            let status = response.status();
            let body = response.bytes().await.map_err(|e| IntegrationError::Failed(e.to_string()))?;
            if function_error {
                // The Lambda runtime's error document: {"errorType": "...", "errorMessage": "..."}.
                let message = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
                return Err(IntegrationError::Function(message));
            }
            if !status.is_success() {
                let text = String::from_utf8_lossy(&body);
                return Err(IntegrationError::Failed(format!("Invoke API answered {status}: {text}")));
            }
            if body.is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_slice(&body)
                .map_err(|e| IntegrationError::Failed(format!("unreadable function answer: {e}")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_read_as_api_gateway_reads_them() {
        assert_eq!(read_response(&Value::Null).expect("null").status, 200);
        assert_eq!(read_response(&json!({})).expect("no status").status, 200);
        let answer =
            read_response(&json!({"statusCode": 401, "headers": {"Sec-WebSocket-Protocol": "chat.v1"}}))
                .expect("valid");
        assert_eq!(answer.status, 401);
        assert_eq!(answer.headers, vec![("Sec-WebSocket-Protocol".to_owned(), "chat.v1".to_owned())]);
        assert!(read_response(&json!({"statusCode": "two hundred"})).is_err());
        assert!(read_response(&json!({"statusCode": 42})).is_err());
    }
}
