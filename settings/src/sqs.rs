//! An Amazon SQS queue as the deployables that consume one use it (feature `sqs`): the notifier's jobs and
//! the media processor's uploads. On AWS, Lambda's event source mapping reads each; locally, [`poll`]
//! does, on moto.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Why the queue could not be used.
#[derive(Debug, thiserror::Error)]
#[error("SQS {operation} failed: {message}")]
pub struct QueueError {
    operation: &'static str,
    message: String,
}

impl QueueError {
    fn new<E: std::error::Error + 'static>(operation: &'static str, error: E) -> Self {
        Self { operation, message: aws_sdk_sqs::error::DisplayErrorContext(error).to_string() }
    }
}

/// One received message.
#[derive(Debug, Clone)]
pub struct Received {
    /// What deletes it.
    pub receipt_handle: String,
    /// Its body.
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

    /// Up to ten messages, waiting up to `wait` (at most 20 s) for the first (`Duration::ZERO`: a short
    /// poll); each hidden for `visibility` until deleted.
    ///
    /// # Errors
    /// [`QueueError`] when SQS fails.
    pub async fn receive(&self, wait: Duration, visibility: Duration) -> Result<Vec<Received>, QueueError> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(i32::try_from(wait.as_secs()).unwrap_or(20).min(20))
            .visibility_timeout(i32::try_from(visibility.as_secs()).unwrap_or(30))
            .send()
            .await
            .map_err(|e| QueueError::new("ReceiveMessage", e))?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| Some(Received { receipt_handle: m.receipt_handle?, body: m.body? }))
            .collect())
    }

    /// Sends `body`, invisible for `delay_seconds` (at most 900).
    ///
    /// # Errors
    /// [`QueueError`] when SQS fails.
    pub async fn send(&self, body: String, delay_seconds: i32) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay_seconds)
            .send()
            .await
            .map_err(|e| QueueError::new("SendMessage", e))?;
        Ok(())
    }

    /// Deletes a handled message.
    ///
    /// # Errors
    /// [`QueueError`] when SQS fails (the message comes back, and is handled again: consumers are
    /// idempotent).
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| QueueError::new("DeleteMessage", e))?;
        Ok(())
    }
}

/// Polls `queue` until `stop` turns true (the local transport; on AWS, Lambda polls): each batch goes to
/// `handle`, which answers the receipt handles of the messages it handled; those are deleted, the others
/// come back after `visibility`. `queue_name` names the queue in the logs.
///
/// Short polls, a quarter of a second apart when the queue is empty: the local moto answers one request
/// at a time, and a long poll would hold every other call to it.
pub async fn poll<F, Fut>(
    queue: &SqsQueue,
    queue_name: &'static str,
    visibility: Duration,
    mut stop: watch::Receiver<bool>,
    mut handle: F,
) where
    F: FnMut(Vec<Received>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    while !*stop.borrow() {
        let received = tokio::select! {
            received = queue.receive(Duration::ZERO, visibility) => received,
            _ = stop.changed() => break,
        };
        let messages = match received {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(%error, queue = queue_name, "polling the queue failed; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = stop.changed() => break,
            }
            continue;
        }
        for receipt_handle in handle(messages).await {
            if let Err(error) = queue.delete(&receipt_handle).await {
                tracing::warn!(%error, queue = queue_name, "a handled message was not deleted; it will come back");
            }
        }
    }
}
