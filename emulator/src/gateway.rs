//! The in-process adapter of the proxy's [`ConnectionGateway`] port: delivers straight into the
//! emulator's connections, with the Management API's answers (410 for gone, 429 when throttled, 413 for
//! oversized data), so the in-process Lambda sees exactly what it would see over HTTP.

use std::sync::Arc;

use chat_proxy::ports::{ConnectionGateway, PostError};

use crate::connections::{Connections, Outbound, Refusal};

/// Delivers frames to the emulator's connections without HTTP.
#[derive(Clone)]
pub struct InProcessGateway {
    connections: Arc<Connections>,
    max_message_bytes: usize,
}

impl InProcessGateway {
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

impl ConnectionGateway for InProcessGateway {
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
