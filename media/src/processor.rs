//! The media processor's service: one upload in, its files out, the backend told. It reads and writes
//! through the file-store port ([`chat_files::FileStore`]) and reports through [`Backend`], so that the
//! Lambda, the local poller and a local stack (the disk adapter's uploads, in process) all run this.
//!
//! For `uploads/{booking}/{attachment}`:
//! 1. read the upload, at most the size limit (over it: refused);
//! 2. [`process`] it, on a blocking thread (decoding a photo takes a CPU for a while);
//! 3. kept: write `files/{booking}/{attachment}/original` (and `/thumbnail`); refused: write nothing;
//! 4. report to the backend: `ready` or `rejected` with the reason;
//! 5. delete the upload. The backend answered 404 (no such attachment): delete what was written too.
//!
//! The upload is deleted only once the backend has the outcome: a retry after a failed report finds it
//! and does it all again (the same keys are overwritten, the same report sent), while a missing upload
//! means the work is done and nothing is sent.

use std::sync::Arc;
use std::time::Instant;

use chat_files::{FileError, FileStore, keys};

use crate::backend::{Ack, Backend, BackendError, Outcome, Report};
use crate::process::{AllowedTypes, Processed, Refusal, process};

/// The content type of thumbnails.
const THUMBNAIL_TYPE: &str = "image/jpeg";

/// What became of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Kept: its files written, the backend told, the upload deleted.
    Ready {
        /// The upload's size.
        bytes_in: u64,
        /// The kept file's size.
        bytes_out: u64,
    },
    /// Refused: the backend told why, the upload deleted.
    Rejected {
        /// Why.
        refusal: Refusal,
        /// The upload's size (unknown, 0, when it was over the limit).
        bytes_in: u64,
    },
    /// The backend knows no such attachment: nothing is kept.
    UnknownAttachment,
    /// No upload at the key: it was handled already.
    Gone,
    /// The key is not an upload's: nothing to do.
    NotAnUpload,
}

impl Handled {
    /// A word for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Ready { .. } => "ready",
            Self::Rejected { .. } => "rejected",
            Self::UnknownAttachment => "unknown_attachment",
            Self::Gone => "gone",
            Self::NotAnUpload => "not_an_upload",
        }
    }
}

/// Why an upload could not be handled; handling it again may succeed (the queue retries).
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The file store failed.
    #[error(transparent)]
    Files(#[from] FileError),
    /// The backend did not take the report.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// Processing did not finish (its thread panicked).
    #[error("processing stopped: {0}")]
    Stopped(String),
}

/// The media processor.
pub struct Processor {
    files: Arc<dyn FileStore>,
    backend: Arc<dyn Backend>,
    allowed: AllowedTypes,
    max_bytes: u64,
}

impl std::fmt::Debug for Processor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processor")
            .field("files", &self.files.kind())
            .field("allowed", &self.allowed)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl Processor {
    /// A processor keeping `allowed` types up to `max_bytes` from `files`, reporting to `backend`.
    pub fn new(
        files: Arc<dyn FileStore>,
        backend: Arc<dyn Backend>,
        allowed: AllowedTypes,
        max_bytes: u64,
    ) -> Self {
        Self { files, backend, allowed, max_bytes }
    }

    /// Handles the upload at `key` (see the module's steps) and logs one line saying what became of it.
    ///
    /// # Errors
    /// [`HandleError`] when the store or the backend failed: the upload is still there, and handling it
    /// again does the work again.
    pub async fn handle_upload(&self, key: &str) -> Result<Handled, HandleError> {
        let started = Instant::now();
        let handled = self.handle(key).await;
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &handled {
            Ok(Handled::Ready { bytes_in, bytes_out }) => {
                tracing::info!(key, outcome = "ready", bytes_in, bytes_out, ms, "upload processed");
            }
            Ok(Handled::Rejected { refusal, bytes_in }) => {
                tracing::info!(key, outcome = "rejected", %refusal, bytes_in, ms, "upload processed");
            }
            Ok(other) => tracing::info!(key, outcome = other.name(), ms, "upload processed"),
            Err(error) => tracing::warn!(key, %error, ms, "upload not processed; the queue retries it"),
        }
        handled
    }

    async fn handle(&self, key: &str) -> Result<Handled, HandleError> {
        let Some((booking_id, attachment_id)) = keys::parse_upload(key) else {
            return Ok(Handled::NotAnUpload);
        };
        let upload = Upload { key, booking_id, attachment_id: &attachment_id };
        let bytes = match self.files.get(key, self.max_bytes).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(Handled::Gone),
            Err(FileError::TooLarge { .. }) => {
                return self.reject(&upload, Refusal::TooLarge { max_bytes: self.max_bytes }, 0).await;
            }
            Err(error) => return Err(error.into()),
        };
        let bytes_in = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        match self.process(bytes).await? {
            Ok(processed) => self.keep(&upload, processed, bytes_in).await,
            Err(refusal) => self.reject(&upload, refusal, bytes_in).await,
        }
    }

    /// [`process`] on a blocking thread: a photo keeps a CPU busy for a while, and the runtime's threads
    /// serve other uploads' I/O (and, in a local stack, the backend) meanwhile.
    async fn process(&self, bytes: Vec<u8>) -> Result<Result<Processed, Refusal>, HandleError> {
        let (allowed, max_bytes) = (self.allowed.clone(), self.max_bytes);
        tokio::task::spawn_blocking(move || process(&bytes, &allowed, max_bytes))
            .await
            .map_err(|e| HandleError::Stopped(e.to_string()))
    }

    async fn keep(
        &self,
        upload: &Upload<'_>,
        processed: Processed,
        bytes_in: u64,
    ) -> Result<Handled, HandleError> {
        let (booking_id, attachment_id) = (upload.booking_id, upload.attachment_id);
        let original = keys::original(booking_id, attachment_id);
        let thumbnail = keys::thumbnail(booking_id, attachment_id);
        let bytes_out = u64::try_from(processed.bytes.len()).unwrap_or(u64::MAX);
        let content_type = processed.content_type.as_str();
        self.files.put(&original, processed.bytes, content_type).await?;
        let (width, height) = match processed.image {
            Some(picture) => {
                self.files.put(&thumbnail, picture.thumbnail, THUMBNAIL_TYPE).await?;
                (Some(picture.width), Some(picture.height))
            }
            None => (None, None),
        };
        let outcome = Outcome::Ready {
            content_type: content_type.to_owned(),
            size: bytes_out,
            width,
            height,
            thumbnail: width.is_some(),
        };
        match self.report(upload, outcome).await? {
            Ack::Recorded => {
                self.files.delete(&[upload.key.to_owned()]).await?;
                Ok(Handled::Ready { bytes_in, bytes_out })
            }
            Ack::UnknownAttachment => {
                self.files.delete(&[original, thumbnail, upload.key.to_owned()]).await?;
                Ok(Handled::UnknownAttachment)
            }
        }
    }

    async fn reject(
        &self,
        upload: &Upload<'_>,
        refusal: Refusal,
        bytes_in: u64,
    ) -> Result<Handled, HandleError> {
        let ack = self.report(upload, Outcome::Rejected { reason: refusal.to_string() }).await?;
        self.files.delete(&[upload.key.to_owned()]).await?;
        Ok(match ack {
            Ack::Recorded => Handled::Rejected { refusal, bytes_in },
            Ack::UnknownAttachment => Handled::UnknownAttachment,
        })
    }

    async fn report(&self, upload: &Upload<'_>, outcome: Outcome) -> Result<Ack, BackendError> {
        let report =
            Report { booking_id: upload.booking_id, attachment_id: upload.attachment_id.to_owned(), outcome };
        self.backend.processed(&report).await
    }
}

/// The upload being handled.
struct Upload<'a> {
    key: &'a str,
    booking_id: i64,
    attachment_id: &'a str,
}
