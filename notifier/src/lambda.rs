//! The notifier as a Lambda function: SQS batches from the event source mapping, each record handled by
//! [`crate::handle_body`], failures reported per record (`ReportBatchItemFailures`), so that one bad
//! record does not bring back the whole batch.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{LambdaEvent, service_fn};

use crate::config::{NotifierSettings, SECRET_SETTINGS};
use crate::{Tally, build, handle_body};

/// How much of the invocation's time is kept back for one more record: a job makes a few store calls and
/// one SES call, each bounded by `AWS_TIMEOUT_MS` (3 s in Terraform).
const RESERVE_MS: i64 = 8_000;

/// Why the function could not start or serve.
pub type Error = lambda_runtime::Error;

/// Reads the configuration (secrets by reference fetched once), opens the store, and serves SQS batches
/// until the runtime stops.
///
/// # Errors
/// A configuration, secret or store error at cold start, or the runtime's.
pub async fn run() -> Result<(), Error> {
    let sdk = chat_settings::aws::load(chat_settings::aws::DEFAULT_TIMEOUT).await;
    let lookup =
        chat_settings::secrets::resolve_all(chat_settings::env::process_env, &SECRET_SETTINGS, &sdk).await?;
    let settings = NotifierSettings::from_lookup(lookup)?;
    chat_settings::logs::init(settings.json_logs)?;
    let (notifier, _queue) = build(&settings, Some(&sdk)).await?;
    tracing::info!(email = settings.email.is_some(), "notifier function ready");
    let (namespace, stage) = settings.metrics.clone();
    lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (notifier, namespace, stage) = (&notifier, &namespace, &stage);
        async move {
            let mut tally = Tally::default();
            let mut failures = Vec::new();
            let deadline = i64::try_from(event.context.deadline).unwrap_or(i64::MAX);
            for record in event.payload.records {
                // Records the function has no time left for come back (a timeout would bring back the
                // whole batch, and could leave a claim without its email).
                let out_of_time = chat_wire::time::now_millis() + RESERVE_MS > deadline;
                let body = record.body.unwrap_or_default();
                if out_of_time || handle_body(notifier, &body, &mut tally).await.is_err() {
                    let mut failure = BatchItemFailure::default();
                    failure.item_identifier = record.message_id.unwrap_or_default();
                    failures.push(failure);
                }
            }
            println!("{}", tally.emf(namespace, stage));
            let mut response = SqsBatchResponse::default();
            response.batch_item_failures = failures;
            Ok::<_, Error>(response)
        }
    }))
    .await
}
