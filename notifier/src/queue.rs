//! The notifier's queue on Amazon SQS: where it waits (a job sent back with a delay, at most 15 minutes a
//! hop) and, locally, where it polls (on AWS, Lambda's event source mapping polls for it).
//!
//! Waiting on the queue, not on a timer in the function: a Lambda may be frozen or recycled at any time,
//! a queued message is not lost.

use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::config::MAX_QUEUE_DELAY;
use crate::job::{self, Job};

pub use chat_settings::sqs::{QueueError, Received, SqsQueue};

/// Where a job waits until it is due.
pub trait Queue: Send + Sync + 'static {
    /// Queues `job` to come back after `delay` (at most [`MAX_QUEUE_DELAY`]; longer waits take hops).
    fn defer<'a>(&'a self, job: &'a Job, delay: Duration) -> BoxFuture<'a, Result<(), QueueError>>;
}

impl Queue for SqsQueue {
    fn defer<'a>(&'a self, job: &'a Job, delay: Duration) -> BoxFuture<'a, Result<(), QueueError>> {
        let seconds = delay.min(MAX_QUEUE_DELAY).as_secs_f64().ceil() as i32;
        Box::pin(self.send(job::body(job), seconds))
    }
}
