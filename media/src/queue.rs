//! The upload queue on Amazon SQS, read by `chat-media poll` (a local run on moto): the queue the notifier
//! reads too ([`chat_settings::sqs`]). On AWS, Lambda's event source mapping reads it and deletes what the
//! function handled.

pub use chat_settings::sqs::{QueueError, Received, SqsQueue};
