//! Where booking chat keeps its members' files ([docs/attachments.md](../../docs/attachments.md)): the
//! [`FileStore`] port and its two adapters, which sign the same way.
//!
//! - [`s3::S3FileStore`]: objects in S3; the browser uploads with a SigV4 POST policy ([`policy`]) and
//!   downloads with a SigV4 presigned GET.
//! - [`disk::DiskFileStore`]: objects in a directory, for `make dev` and tests; its forms carry the same
//!   policy document, signed with HMAC-SHA256 under a key of the process, and it checks the policy's
//!   conditions on upload as S3 does.
//!
//! The object keys ([`keys`]) and the attachment rules ([`rules`]) are shared by the backend, which hands
//! out forms and URLs, and the media processor, which turns an upload into files.

pub mod disk;
pub mod keys;
pub mod policy;
pub mod rules;
pub mod s3;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chat_settings::env::{ConfigError, Lookup};
use futures_util::future::BoxFuture;
use serde::Serialize;

/// The tag of a processed file no message references yet; the lifecycle rule (S3) or the sweep (disk)
/// deletes it after a while.
pub const UNREFERENCED: &str = "state=unreferenced";

/// The tag of a file a message references.
pub const REFERENCED: &str = "state=referenced";

/// A form the browser POSTs a file with (multipart/form-data: every field, then the file as `file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadForm {
    /// Where to POST.
    pub url: String,
    /// Always `POST`.
    pub method: &'static str,
    /// The form's fields, sent before the file.
    pub fields: BTreeMap<String, String>,
    /// When the form stops being accepted, epoch milliseconds.
    pub expires_at: i64,
}

/// A URL that is valid for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedUrl {
    /// The URL.
    pub url: String,
    /// When it stops working, epoch milliseconds.
    pub expires_at: i64,
}

/// What an upload form allows.
#[derive(Debug, Clone, Copy)]
pub struct UploadRequest<'a> {
    /// The one key the form may write.
    pub key: &'a str,
    /// The one content type it may declare.
    pub content_type: &'a str,
    /// The largest body it accepts, in bytes (`content-length-range` 1..=max).
    pub max_bytes: u64,
    /// How long the form is valid.
    pub expires_in: Duration,
}

/// How a browser should treat a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Shown in the page (images).
    Inline,
    /// Saved as a file (documents).
    Attachment,
}

/// What a download URL serves.
#[derive(Debug, Clone, Copy)]
pub struct DownloadRequest<'a> {
    /// The object.
    pub key: &'a str,
    /// The type the response declares, whatever the object's metadata says.
    pub content_type: &'a str,
    /// The file name the browser saves it as.
    pub file_name: &'a str,
    /// Inline or as a file.
    pub disposition: Disposition,
    /// How long the URL is valid.
    pub expires_in: Duration,
}

/// Why a file operation failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The object is larger than the caller accepts.
    #[error("the object is larger than {limit} bytes")]
    TooLarge {
        /// The caller's limit.
        limit: u64,
    },
    /// A key or request the store refuses (never a key this crate made).
    #[error("invalid file request: {0}")]
    Invalid(String),
    /// The store failed or could not be reached.
    #[error("{operation} failed: {source}")]
    Unavailable {
        /// What was being done.
        operation: &'static str,
        /// Why.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl FileError {
    pub(crate) fn unavailable(
        operation: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Unavailable { operation, source: source.into() }
    }
}

/// Members' files: a port with an adapter per place they are kept.
pub trait FileStore: Send + Sync + 'static {
    /// `s3` or `disk`, for logs.
    fn kind(&self) -> &'static str;

    /// A form that lets a browser upload one object, of one type, at most `max_bytes`, for a while.
    fn upload_form<'a>(&'a self, request: UploadRequest<'a>) -> BoxFuture<'a, Result<UploadForm, FileError>>;

    /// A URL that serves one object for a while.
    fn download_url<'a>(
        &'a self,
        request: DownloadRequest<'a>,
    ) -> BoxFuture<'a, Result<SignedUrl, FileError>>;

    /// An object's bytes; `None` when there is none. [`FileError::TooLarge`] over `max_bytes`, found
    /// before reading the body.
    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> BoxFuture<'a, Result<Option<Vec<u8>>, FileError>>;

    /// Writes an object, tagged [`UNREFERENCED`].
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<(), FileError>>;

    /// Deletes objects; a missing one is not an error.
    fn delete<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), FileError>>;

    /// Tags objects [`REFERENCED`], so that the expiry of unreferenced files spares them.
    fn mark_referenced<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), FileError>>;
}

/// Where files are kept (`FILE_STORE`), or nowhere: attachments are then off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStoreSettings {
    /// `s3://bucket`: S3, or a local S3 at `S3_ENDPOINT` (moto), reached path-style with dummy credentials.
    S3 {
        /// The bucket.
        bucket: String,
        /// `S3_ENDPOINT`.
        endpoint: Option<String>,
    },
    /// `disk:/path`: a directory; its URLs start with `FILE_STORE_PUBLIC_URL`.
    Disk {
        /// The directory.
        dir: std::path::PathBuf,
        /// The origin the backend is reached at, which serves the disk adapter's routes.
        public_url: String,
    },
}

impl FileStoreSettings {
    /// Reads `FILE_STORE` (`s3://bucket` or `disk:/path`; unset: `None`), `S3_ENDPOINT` and
    /// `FILE_STORE_PUBLIC_URL` (`default_public_url` when unset).
    ///
    /// # Errors
    /// [`ConfigError`] naming the malformed variable.
    pub fn from_lookup(lookup: &impl Lookup, default_public_url: &str) -> Result<Option<Self>, ConfigError> {
        let Some(spec) = lookup("FILE_STORE") else { return Ok(None) };
        if let Some(bucket) = spec.strip_prefix("s3://") {
            let bucket = bucket.trim_end_matches('/');
            if bucket.is_empty() || bucket.contains('/') {
                return Err(ConfigError::invalid("FILE_STORE", "s3://bucket names one bucket"));
            }
            return Ok(Some(Self::S3 { bucket: bucket.into(), endpoint: lookup("S3_ENDPOINT") }));
        }
        if let Some(dir) = spec.strip_prefix("disk:") {
            if dir.is_empty() {
                return Err(ConfigError::invalid("FILE_STORE", "disk:/path names a directory"));
            }
            let public_url = lookup("FILE_STORE_PUBLIC_URL").unwrap_or_else(|| default_public_url.into());
            return Ok(Some(Self::Disk {
                dir: dir.into(),
                public_url: public_url.trim_end_matches('/').into(),
            }));
        }
        Err(ConfigError::invalid("FILE_STORE", format!("{spec:?} is neither s3://bucket nor disk:/path")))
    }
}

/// An opened file store; for the disk adapter also the adapter itself, whose routes the backend serves.
#[derive(Clone)]
pub struct Opened {
    /// The port.
    pub store: Arc<dyn FileStore>,
    /// The disk adapter, when it is the one.
    pub disk: Option<Arc<disk::DiskFileStore>>,
}

/// Opens the store the settings name. `sdk`: an SDK configuration loaded already, reused for S3 in AWS.
///
/// # Errors
/// [`FileError::Unavailable`] when the directory cannot be created.
pub async fn open(
    settings: &FileStoreSettings,
    sdk: Option<&aws_config::SdkConfig>,
    timeout: Duration,
) -> Result<Opened, FileError> {
    Ok(match settings {
        FileStoreSettings::S3 { bucket, endpoint } => {
            let sdk = chat_settings::aws::local_or_aws(endpoint.as_deref(), sdk, timeout).await;
            Opened { store: Arc::new(s3::S3FileStore::new(&sdk, bucket, endpoint.is_some())), disk: None }
        }
        FileStoreSettings::Disk { dir, public_url } => {
            let disk = Arc::new(disk::DiskFileStore::open(dir, public_url).await?);
            Opened { store: disk.clone(), disk: Some(disk) }
        }
    })
}

/// A `Content-Disposition` value naming `file_name`: an ASCII fallback (quotes, controls and non-ASCII
/// replaced) and the exact name in RFC 5987 form.
pub fn content_disposition(disposition: Disposition, file_name: &str) -> String {
    let kind = match disposition {
        Disposition::Inline => "inline",
        Disposition::Attachment => "attachment",
    };
    let ascii: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(file_name.as_bytes()).collect();
    // form_urlencoded writes a space as '+', which RFC 5987 does not know.
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}", encoded.replace('+', "%20"))
}

/// Epoch milliseconds `after` from now.
pub(crate) fn expiry(after: Duration) -> i64 {
    now_millis().saturating_add(i64::try_from(after.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_settings_read_both_adapters_and_refuse_the_rest() {
        let lookup = |spec: &'static str| move |key: &str| (key == "FILE_STORE").then(|| spec.to_owned());
        assert_eq!(
            FileStoreSettings::from_lookup(&lookup("s3://chat-files"), "http://x").ok().flatten(),
            Some(FileStoreSettings::S3 { bucket: "chat-files".into(), endpoint: None })
        );
        assert_eq!(
            FileStoreSettings::from_lookup(&lookup("disk:/tmp/f"), "http://127.0.0.1:8000/").ok().flatten(),
            Some(FileStoreSettings::Disk {
                dir: "/tmp/f".into(),
                public_url: "http://127.0.0.1:8000".into()
            })
        );
        for bad in ["s3://", "s3://a/b", "disk:", "ftp://x"] {
            assert!(FileStoreSettings::from_lookup(&lookup(bad), "http://x").is_err(), "{bad}");
        }
        assert_eq!(FileStoreSettings::from_lookup(&|_: &str| None, "http://x").ok(), Some(None));
    }

    #[test]
    fn content_disposition_keeps_the_name_and_an_ascii_fallback() {
        assert_eq!(
            content_disposition(Disposition::Attachment, "reçu \"final\".pdf"),
            "attachment; filename=\"re_u _final_.pdf\"; filename*=UTF-8''re%C3%A7u%20%22final%22.pdf"
        );
        assert!(content_disposition(Disposition::Inline, "a.jpg").starts_with("inline; "));
    }
}
