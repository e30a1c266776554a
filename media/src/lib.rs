//! `chat-media`: the media processor of attachments ([docs/attachments.md](../../docs/attachments.md)).
//! Each upload a member sends lands in the file store as `uploads/{booking}/{attachment}`; the processor
//! reads what really arrived, keeps it without its metadata (and with a thumbnail) as
//! `files/{booking}/{attachment}/…`, and tells the backend. It runs apart from the message path, as a
//! function of its own on the bucket's upload events, so that neither the proxy's nor the backend's zip
//! carries an image codec.
//!
//! On AWS, S3 sends a notification of each object created under `uploads/` to an SQS queue, and this
//! function consumes it (an SQS event source mapping, with partial batch failures). Locally, [`poll`]
//! reads the same queue on moto, and [`follow`] takes the disk adapter's uploads in process.
//!
//! # Layout
//! - [`process`]: what is done to one file, without I/O (types, refusals, re-encoding, thumbnails).
//! - [`processor`]: the service, one upload in, its files out ([`processor::Processor`]).
//! - [`backend`]: the report to the backend, and its HTTP adapter.
//! - [`notification`]: what the queue carries (S3 event notifications).
//! - [`queue`]: the SQS adapter `chat-media poll` reads.
//! - [`config`]: the settings.
//! - [`lambda`]: the Lambda transport (SQS batches).

use std::sync::Arc;
use std::time::Duration;

use chat_settings::emf::{self, Unit};
use tokio::sync::{mpsc, watch};

pub mod backend;
pub mod config;
pub mod lambda;
pub mod notification;
pub mod process;
pub mod processor;
pub mod queue;

use crate::backend::{BackendError, HttpBackend};
use crate::config::MediaSettings;
use crate::notification::Notification;
use crate::processor::{HandleError, Handled, Processor};
use crate::queue::SqsQueue;

/// What one batch of queue messages came to, for logs and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Uploads kept.
    pub ready: u32,
    /// Uploads refused.
    pub rejected: u32,
    /// Uploads that need nothing (handled already, an unknown attachment, not an upload's key).
    pub skipped: u32,
    /// Uploads that failed (their message comes back) and bodies not understood.
    pub failed: u32,
}

impl Tally {
    /// Counts one upload's outcome.
    pub fn count(&mut self, handled: &Result<Handled, HandleError>) {
        match handled {
            Ok(Handled::Ready { .. }) => self.ready += 1,
            Ok(Handled::Rejected { .. }) => self.rejected += 1,
            Ok(Handled::UnknownAttachment | Handled::Gone | Handled::NotAnUpload) => self.skipped += 1,
            Err(_) => self.failed += 1,
        }
    }

    /// The tally as one CloudWatch embedded-metric-format line.
    pub fn emf(&self, namespace: &str, stage: &str) -> String {
        let metrics = [
            ("AttachmentsReady", Unit::Count, f64::from(self.ready)),
            ("AttachmentsRejected", Unit::Count, f64::from(self.rejected)),
            ("AttachmentsSkipped", Unit::Count, f64::from(self.skipped)),
            ("AttachmentsFailed", Unit::Count, f64::from(self.failed)),
        ];
        emf::line(namespace, stage, &metrics, chat_wire::time::now_millis())
    }
}

/// Why a queue message was not handled; it comes back (and after its retries reaches the dead-letter
/// queue).
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is not an S3 event notification.
    #[error("not an S3 event notification: {0}")]
    NotANotification(#[from] serde_json::Error),
    /// An upload it names failed.
    #[error(transparent)]
    Upload(#[from] HandleError),
}

/// Handles one queue message: each upload its notification names. `Ok` when the message may be deleted.
///
/// # Errors
/// [`BodyError`]: a body not understood, or the first upload that failed (every upload is tried; those
/// that succeeded are found gone when the message comes back).
pub async fn handle_body(processor: &Processor, body: &str, tally: &mut Tally) -> Result<(), BodyError> {
    let keys = match notification::parse(body) {
        Ok(Notification::Created(keys)) => keys,
        Ok(Notification::Test) => return Ok(()),
        Err(error) => {
            tracing::warn!(%error, "a queue message is not an S3 event notification");
            tally.failed += 1;
            return Err(error.into());
        }
    };
    let mut first_error = None;
    for key in keys {
        let handled = processor.handle_upload(&key).await;
        tally.count(&handled);
        if let Err(error) = handled {
            first_error.get_or_insert(error);
        }
    }
    first_error.map_or(Ok(()), |error| Err(error.into()))
}

/// Why the processor could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The file store could not be opened.
    #[error("opening the file store: {0}")]
    Files(#[from] chat_files::FileError),
    /// The backend's client could not be made.
    #[error("the backend's client: {0}")]
    Backend(#[from] BackendError),
}

/// The processor from the settings: the file store opened, the backend's HTTP client made. `sdk`: an SDK
/// configuration loaded already (a Lambda's cold start loads one for its secrets).
///
/// # Errors
/// [`BuildError`].
pub async fn build(
    settings: &MediaSettings,
    sdk: Option<&aws_config::SdkConfig>,
) -> Result<Processor, BuildError> {
    let files = chat_files::open(&settings.files, sdk, settings.aws_timeout).await?.store;
    let backend =
        HttpBackend::new(&settings.backend_url, settings.service_token.clone(), settings.backend_timeout)?;
    Ok(Processor::new(files, Arc::new(backend), settings.allowed.clone(), settings.max_bytes))
}

/// Polls `queue` and handles what arrives until `stop` turns true (the local transport; on AWS, Lambda
/// polls). A message that failed is left on the queue: it comes back after its visibility timeout.
pub async fn poll(processor: &Processor, queue: &SqsQueue, stop: watch::Receiver<bool>) {
    chat_settings::sqs::poll(queue, "upload", Duration::from_secs(60), stop, |messages| async move {
        let mut tally = Tally::default();
        let mut handled = Vec::new();
        for message in messages {
            if handle_body(processor, &message.body, &mut tally).await.is_ok() {
                handled.push(message.receipt_handle);
            }
        }
        tracing::debug!(?tally, "upload batch");
        handled
    })
    .await;
}

/// Handles the keys of uploads as they are announced, until the sender is dropped: the disk adapter's
/// uploads (`chat_files::disk::DiskFileStore::uploads`), in the process that serves them. A failure is
/// tried twice more, a second and then two apart, as a queue would bring it back; then the upload is
/// left to the sweep.
pub async fn follow(processor: Arc<Processor>, mut uploads: mpsc::UnboundedReceiver<String>) {
    while let Some(key) = uploads.recv().await {
        let mut delay = Duration::from_secs(1);
        for attempt in 1..=3 {
            if processor.handle_upload(&key).await.is_ok() {
                break;
            }
            if attempt == 3 {
                tracing::warn!(key, "upload left unprocessed after 3 attempts");
            } else {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
}
