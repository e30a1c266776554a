//! The processor as a Lambda function: SQS batches from the event source mapping on the upload queue, each
//! message an S3 event notification handled by [`crate::handle_body`], failures reported per message
//! (`ReportBatchItemFailures`), so that one bad upload does not bring back the whole batch.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};

use crate::config::{MediaSettings, SECRET_SETTINGS};
use crate::processor::Processor;
use crate::{Tally, build, handle_body};

/// How much of the invocation's time a message after the first needs: reading and writing up to 10 MB
/// and decoding and encoding a large photo take a few seconds on one vCPU.
const RESERVE_MS: i64 = 15_000;

/// Why the function could not start or serve.
pub type Error = lambda_runtime::Error;

/// Reads the configuration (`SERVICE_TOKEN` by reference fetched once), opens the file store, and serves
/// SQS batches until the runtime stops.
///
/// # Errors
/// A configuration, secret or file-store error at cold start, or the runtime's.
pub async fn run() -> Result<(), Error> {
    let sdk = chat_settings::aws::load(chat_settings::aws::DEFAULT_TIMEOUT).await;
    let lookup =
        chat_settings::secrets::resolve_all(chat_settings::env::process_env, &SECRET_SETTINGS, &sdk).await?;
    let settings = MediaSettings::from_lookup(lookup)?;
    chat_settings::logs::init(settings.json_logs)?;
    let processor = build(&settings, Some(&sdk)).await?;
    tracing::info!(max_bytes = settings.max_bytes, "media processor ready");
    let (namespace, stage) = settings.metrics.clone();
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (processor, namespace, stage) = (&processor, &namespace, &stage);
        async move {
            let deadline = i64::try_from(event.context.deadline).unwrap_or(i64::MAX);
            let (response, tally) = handle_batch(processor, event.payload, deadline).await;
            println!("{}", tally.emf(namespace, stage));
            Ok::<_, Error>(response)
        }
    }))
    .await
}

/// Handles one SQS batch before `deadline` (epoch milliseconds): each message's uploads, the messages
/// that failed (or that there was no time left for) listed for SQS to bring back.
pub async fn handle_batch(
    processor: &Processor,
    event: SqsEvent,
    deadline: i64,
) -> (SqsBatchResponse, Tally) {
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for (i, record) in event.records.into_iter().enumerate() {
        // Messages the function has no time left for come back (a timeout would bring back the whole
        // batch); the first is always tried.
        let out_of_time = i > 0 && chat_wire::time::now_millis() + RESERVE_MS > deadline;
        let body = record.body.unwrap_or_default();
        if out_of_time || handle_body(processor, &body, &mut tally).await.is_err() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.unwrap_or_default();
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    (response, tally)
}
