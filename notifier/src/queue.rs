//! The notifier's queue on Amazon SQS: where it waits (a job sent back with a delay, at most 15 minutes a
//! hop) and, locally, where it polls (on AWS, Lambda's event source mapping polls for it).
//!
//! Waiting on the queue, not on a timer in the function: a Lambda may be frozen or recycled at any time,
//! a queued message is not lost.

use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::config::MAX_QUEUE_DELAY;
use crate::job::{self, Job};

/// Why the queue could not be used.
#[derive(Debug, thiserror::Error)]
#[error("SQS {operation} failed: {message}")]
pub struct QueueError {
    operation: &'static str,
    message: String,
}

impl QueueError {
    fn new(operation: &'static str, error: impl std::fmt::Display) -> Self {
        Self { operation, message: error.to_string() }
    }
}

/// Where a job waits until it is due.
pub trait Queue: Send + Sync + 'static {
    /// Queues `job` to come back after `delay` (at most [`MAX_QUEUE_DELAY`]; longer waits take hops).
    fn defer<'a>(&'a self, job: &'a Job, delay: Duration) -> BoxFuture<'a, Result<(), QueueError>>;
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

    /// Up to ten messages, waiting up to `wait` for the first (long polling); each hidden for `visibility`
    /// until deleted.
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
            .map_err(|e| QueueError::new("ReceiveMessage", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
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
    /// [`QueueError`] when SQS fails (the message comes back, and is handled again: jobs are idempotent).
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| QueueError::new("DeleteMessage", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
        Ok(())
    }
}

impl Queue for SqsQueue {
    fn defer<'a>(&'a self, job: &'a Job, delay: Duration) -> BoxFuture<'a, Result<(), QueueError>> {
        Box::pin(async move {
            let seconds = delay.min(MAX_QUEUE_DELAY).as_secs_f64().ceil() as i32;
            self.client
                .send_message()
                .queue_url(&self.url)
                .message_body(job::body(job))
                .delay_seconds(seconds)
                .send()
                .await
                .map_err(|e| QueueError::new("SendMessage", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            Ok(())
        })
    }
}
