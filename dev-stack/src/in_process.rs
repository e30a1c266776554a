//! The adapters that put the chat proxy behind the emulator in one process: the emulator's
//! [`Integration`] port served by the proxy library, and the proxy's [`ConnectionGateway`] port served by
//! the emulator's connections. Neither side knows the other; they meet here, where the parts are composed.

use std::sync::Arc;

use apigw_ws_emulator::connections::{Connections, Outbound, Refusal};
use apigw_ws_emulator::integration::{Integration, IntegrationError};
use chat_connections::{ConnectionGateway, ConnectionStore, PostError};
use chat_proxy::ports::Backend;
use chat_proxy::{InvocationError, Proxy};
use futures_util::future::BoxFuture;
use serde_json::Value;

/// The proxy library as the emulator's integration, for the authorizer and every route, as the Lambda
/// runtime would run it: the event goes in as JSON, the answer comes out as JSON, and the authorizer's
/// refusal is the function error `Unauthorized`.
pub struct InProcessLambda<S, G, B> {
    proxy: Arc<Proxy<S, G, B>>,
}

impl<S, G, B> InProcessLambda<S, G, B> {
    /// Wraps a proxy.
    pub fn new(proxy: Arc<Proxy<S, G, B>>) -> Self {
        Self { proxy }
    }
}

impl<S: ConnectionStore, G: ConnectionGateway, B: Backend> Integration for InProcessLambda<S, G, B> {
    fn invoke(&self, event: Value) -> BoxFuture<'_, Result<Value, IntegrationError>> {
        Box::pin(async move {
            self.proxy.invoke(event).await.map_err(|error| match error {
                InvocationError::Unauthorized(refusal) => IntegrationError::Function(refusal.to_string()),
                InvocationError::Unreadable(e) => {
                    IntegrationError::Failed(format!("the runtime could not read the event: {e}"))
                }
            })
        })
    }
}

/// Delivers frames straight into the emulator's connections, with the Management API's answers (410 for
/// gone, 429 when throttled, 413 for oversized data), so the in-process Lambda sees exactly what it would
/// see over HTTP.
#[derive(Clone)]
pub struct EmulatorGateway {
    connections: Arc<Connections>,
    max_message_bytes: usize,
}

impl EmulatorGateway {
    /// A gateway over `connections`, refusing data above `max_message_bytes` as API Gateway does.
    pub fn new(connections: Arc<Connections>, max_message_bytes: usize) -> Self {
        Self { connections, max_message_bytes }
    }
}

fn post_error(refusal: Refusal) -> PostError {
    match refusal {
        Refusal::Gone => PostError::Gone,
        Refusal::Throttled => PostError::Retryable("LimitExceededException".into()),
    }
}

impl ConnectionGateway for EmulatorGateway {
    async fn post(&self, _endpoint: &str, connection_id: &str, frame: &str) -> Result<(), PostError> {
        if frame.len() > self.max_message_bytes {
            return Err(PostError::TooLarge(frame.len()));
        }
        self.connections.send(connection_id, Outbound::Text(frame.to_owned())).map_err(post_error)
    }

    async fn close(&self, _endpoint: &str, connection_id: &str) -> Result<(), PostError> {
        self.connections.send(connection_id, Outbound::Close(1000, String::new())).map_err(post_error)
    }
}
