//! The upload queue on Amazon SQS, read by `chat-media poll` (a local run on moto). On AWS, Lambda's event
//! source mapping reads it and deletes what the function handled.

use std::time::Duration;

/// Why the queue could not be used.
#[derive(Debug, thiserror::Error)]
#[error("SQS {operation} failed: {message}")]
pub struct QueueError {
    operation: &'static str,
    message: String,
}

/// One received message.
#[derive(Debug, Clone)]
pub struct Received {
    /// What deletes it.
    pub receipt_handle: String,
    /// Its body: an S3 event notification.
    pub body: String,
}

/// An SQS queue.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    /// The queue at `url`.
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }

    /// Up to ten messages, without waiting (a short poll), each hidden for `visibility` until deleted.
    ///
    /// # Errors
    /// [`QueueError`] when SQS fails.
    pub async fn receive(&self, visibility: Duration) -> Result<Vec<Received>, QueueError> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .visibility_timeout(i32::try_from(visibility.as_secs()).unwrap_or(60))
            .send()
            .await
            .map_err(|e| QueueError {
                operation: "ReceiveMessage",
                message: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
            })?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| Some(Received { receipt_handle: m.receipt_handle?, body: m.body? }))
            .collect())
    }

    /// Deletes a handled message.
    ///
    /// # Errors
    /// [`QueueError`] when SQS fails (the message comes back, and is handled again: handling is
    /// idempotent).
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| QueueError {
                operation: "DeleteMessage",
                message: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
            })?;
        Ok(())
    }
}
