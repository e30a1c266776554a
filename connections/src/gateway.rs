//! The API Gateway Management API adapter of [`ConnectionGateway`], and where its endpoint comes from.
//!
//! The endpoint is `https://{api_id}.execute-api.{region}.amazonaws.com/{stage}`: configured, or built from
//! the event's `apiId` and `stage`, never from `domainName` (behind a custom domain that name does not
//! serve `@connections`). SDK retries are off: the fan-out retries throttling and 5xx itself, with jitter,
//! so that it can count and bound them.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::http::HttpResponse;
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::primitives::Blob;

use crate::metering::AwsCalls;
use crate::ports::{ConnectionGateway, PostError};

/// The Management API endpoint of an API's stage.
pub fn management_endpoint(api_id: &str, region: &str, stage: &str) -> String {
    format!("https://{api_id}.execute-api.{region}.amazonaws.com/{stage}")
}

/// Pushes frames through the API Gateway Management API. One SDK client per endpoint, built on first use
/// and reused (a Lambda serves one stage, so in practice one client).
#[derive(Debug)]
pub struct ManagementApiGateway {
    sdk_config: aws_config::SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
    calls: Option<AwsCalls>,
}

impl ManagementApiGateway {
    /// An adapter using the shared SDK configuration (credentials, region, HTTP client).
    pub fn new(sdk_config: aws_config::SdkConfig) -> Self {
        Self { sdk_config, clients: Mutex::new(HashMap::new()), calls: None }
    }

    /// Counts every call in `calls`.
    #[must_use]
    pub fn counting(mut self, calls: &AwsCalls) -> Self {
        self.calls = Some(calls.clone());
        self
    }

    fn client(&self, endpoint: &str) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients
            .entry(endpoint.to_owned())
            .or_insert_with(|| {
                let mut config = aws_sdk_apigatewaymanagement::config::Builder::from(&self.sdk_config)
                    .endpoint_url(endpoint)
                    .retry_config(aws_config::retry::RetryConfig::disabled())
                    .stalled_stream_protection(chat_settings::aws::without_stall_protection());
                if let Some(calls) = &self.calls {
                    config = config.interceptor(calls.clone());
                }
                Client::from_conf(config.build())
            })
            .clone()
    }
}

/// How an operation's modelled errors read: gone, throttled, too large.
struct ErrorKinds<E> {
    gone: fn(&E) -> bool,
    throttled: fn(&E) -> bool,
    too_large: fn(&E) -> bool,
}

/// Sorts an SDK failure into gone, retryable, too large and failed; `bytes` is the size of what was sent.
fn classify<E>(error: &SdkError<E, HttpResponse>, kinds: &ErrorKinds<E>, bytes: usize) -> PostError
where
    E: std::error::Error + Send + Sync + 'static,
{
    let status = error.raw_response().map(|r| r.status().as_u16());
    let text = aws_sdk_apigatewaymanagement::error::DisplayErrorContext(error).to_string();
    match error {
        SdkError::ServiceError(service) if (kinds.gone)(service.err()) => PostError::Gone,
        SdkError::ServiceError(service) if (kinds.throttled)(service.err()) => PostError::Retryable(text),
        SdkError::ServiceError(service) if (kinds.too_large)(service.err()) => PostError::TooLarge(bytes),
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            PostError::Retryable(text)
        }
        _ if status == Some(410) => PostError::Gone,
        _ if status == Some(413) => PostError::TooLarge(bytes),
        _ if status.is_some_and(|s| s == 429 || s >= 500) => PostError::Retryable(text),
        _ => PostError::Failed(text),
    }
}

impl ConnectionGateway for ManagementApiGateway {
    async fn post(&self, endpoint: &str, connection_id: &str, frame: &str) -> Result<(), PostError> {
        use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError as E;
        const KINDS: ErrorKinds<E> = ErrorKinds {
            gone: |e| matches!(e, E::GoneException(_)),
            throttled: |e| matches!(e, E::LimitExceededException(_)),
            too_large: |e| matches!(e, E::PayloadTooLargeException(_)),
        };
        self.client(endpoint)
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame.as_bytes()))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify(&e, &KINDS, frame.len()))
    }

    async fn close(&self, endpoint: &str, connection_id: &str) -> Result<(), PostError> {
        use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError as E;
        const KINDS: ErrorKinds<E> = ErrorKinds {
            gone: |e| matches!(e, E::GoneException(_)),
            throttled: |e| matches!(e, E::LimitExceededException(_)),
            too_large: |_| false,
        };
        self.client(endpoint)
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await
            .map(drop)
            .map_err(|e| classify(&e, &KINDS, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_built_from_api_id_region_and_stage() {
        assert_eq!(
            management_endpoint("a1b2c3", "eu-west-1", "dev"),
            "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/dev"
        );
    }
}
