//! The [`FileStore`] adapter on a directory, for `make dev` and tests: no AWS account, the same flow.
//!
//! Its upload forms carry the same policy document as S3's ([`crate::policy`]), signed with HMAC-SHA256
//! under a key made when the store opens (field `x-chat-signature`), and [`DiskFileStore::accept_upload`]
//! checks the signature and every condition as S3 does before it writes a byte. Its download URLs sign the
//! key, the expiry, the type, the disposition and the name. The backend serves both
//! (`/api/files/upload`, `/api/files/{key}`) and the uploads are announced on [`DiskFileStore::uploads`],
//! where the media processor, in process, takes them as it takes S3's notifications on AWS.
//!
//! A processed file is written with a marker beside it (`{file}.unreferenced`) that
//! [`FileStore::mark_referenced`] removes; [`DiskFileStore::sweep`] deletes what S3's lifecycle rules would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::mpsc;

use crate::policy::{Policy, Violation, sign_hex};
use crate::{
    Disposition, DownloadRequest, FileError, FileStore, SignedUrl, UploadForm, UploadRequest,
    content_disposition, expiry, keys, now_millis,
};

/// The form field carrying the disk adapter's signature of the policy.
pub const SIGNATURE_FIELD: &str = "x-chat-signature";

const MARKER: &str = ".unreferenced";

/// Files in a directory.
pub struct DiskFileStore {
    dir: PathBuf,
    public_url: String,
    key: hmac::Key,
    uploads: Mutex<Option<mpsc::UnboundedSender<String>>>,
}

impl std::fmt::Debug for DiskFileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskFileStore").field("dir", &self.dir).field("public_url", &self.public_url).finish()
    }
}

/// A download the disk adapter serves.
#[derive(Debug)]
pub struct Served {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// `Content-Type`.
    pub content_type: String,
    /// `Content-Disposition`.
    pub content_disposition: String,
}

/// What a download URL's query carries.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct DownloadQuery {
    /// Epoch milliseconds.
    pub expires: i64,
    /// The response's type.
    #[serde(rename = "type")]
    pub content_type: String,
    /// `inline` or `attachment`.
    pub disposition: String,
    /// The file name.
    pub name: String,
    /// The signature.
    pub signature: String,
}

impl DiskFileStore {
    /// The store in `dir` (created if missing), whose URLs start with `public_url` (the backend).
    ///
    /// # Errors
    /// [`FileError::Unavailable`] when the directory cannot be created or no random key made.
    pub async fn open(dir: &Path, public_url: &str) -> Result<Self, FileError> {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| FileError::unavailable("creating the file directory", e))?;
        let mut secret = [0u8; 32];
        SystemRandom::new()
            .fill(&mut secret)
            .map_err(|_| FileError::unavailable("making a key", "no randomness"))?;
        Ok(Self {
            dir: dir.to_owned(),
            public_url: public_url.trim_end_matches('/').to_owned(),
            key: hmac::Key::new(hmac::HMAC_SHA256, &secret),
            uploads: Mutex::new(None),
        })
    }

    /// The keys of accepted uploads, from now on (one subscriber: the processor).
    pub fn uploads(&self) -> mpsc::UnboundedReceiver<String> {
        let (sender, receiver) = mpsc::unbounded_channel();
        *self.uploads.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(sender);
        receiver
    }

    fn path(&self, key: &str) -> Result<PathBuf, FileError> {
        if keys::is_known(key) {
            Ok(self.dir.join(key))
        } else {
            Err(FileError::Invalid(format!("{key:?} is not a file key")))
        }
    }

    /// Checks an uploaded form (its fields and the file's length) against its signed policy, as S3
    /// does, then stores the file and announces its key.
    ///
    /// # Errors
    /// [`Rejected::Policy`] with what S3 would answer; [`Rejected::File`] when the disk fails.
    pub async fn accept_upload(
        &self,
        fields: &BTreeMap<String, String>,
        file: Vec<u8>,
    ) -> Result<String, Rejected> {
        let encoded = fields.get("policy").ok_or(Violation::AccessDenied("no policy"))?;
        let signature = fields.get(SIGNATURE_FIELD).ok_or(Violation::AccessDenied("no signature"))?;
        let signature = unhex(signature).ok_or(Violation::AccessDenied("malformed signature"))?;
        hmac::verify(&self.key, encoded.as_bytes(), &signature)
            .map_err(|_| Violation::AccessDenied("the signature does not match"))?;
        let policy = Policy::decode(encoded)?;
        policy.check(fields, file.len() as u64, now_millis())?;
        if keys::parse_upload(&policy.key).is_none() {
            return Err(Violation::AccessDenied("not an upload key").into());
        }
        write_atomically(&self.path(&policy.key)?, &file).await?;
        if let Some(sender) = self.uploads.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref()
        {
            let _ = sender.send(policy.key.clone());
        }
        Ok(policy.key)
    }

    /// What a download URL's signature covers.
    fn signed_text(key: &str, query: &DownloadQuery) -> String {
        format!(
            "GET\n{key}\n{}\n{}\n{}\n{}",
            query.expires, query.content_type, query.disposition, query.name
        )
    }

    /// Serves a download whose URL this store signed.
    ///
    /// # Errors
    /// [`Rejected::Policy`] for a wrong signature or an expired URL, [`Rejected::File`] when the disk
    /// fails. A missing file is `Ok(None)`.
    pub async fn serve(&self, key: &str, query: &DownloadQuery) -> Result<Option<Served>, Rejected> {
        let signature = unhex(&query.signature).ok_or(Violation::AccessDenied("malformed signature"))?;
        hmac::verify(&self.key, Self::signed_text(key, query).as_bytes(), &signature)
            .map_err(|_| Violation::AccessDenied("the signature does not match"))?;
        if now_millis() >= query.expires {
            return Err(Violation::Expired.into());
        }
        let disposition =
            if query.disposition == "inline" { Disposition::Inline } else { Disposition::Attachment };
        let Some(bytes) = read(&self.path(key)?).await? else { return Ok(None) };
        Ok(Some(Served {
            bytes,
            content_type: query.content_type.clone(),
            content_disposition: content_disposition(disposition, &query.name),
        }))
    }

    /// Deletes what S3's lifecycle rules would: uploads older than `uploads_after`, files still
    /// unreferenced after `unreferenced_after`. Answers how many files it deleted.
    ///
    /// # Errors
    /// [`FileError::Unavailable`] when the directory cannot be read.
    pub async fn sweep(
        &self,
        uploads_after: Duration,
        unreferenced_after: Duration,
    ) -> Result<usize, FileError> {
        let now = SystemTime::now();
        let old = |modified: SystemTime, after: Duration| {
            now.duration_since(modified).is_ok_and(|age| age >= after)
        };
        let mut deleted = 0;
        for path in walk(&self.dir).await? {
            let Ok(meta) = tokio::fs::metadata(&path).await else { continue };
            let modified = meta.modified().unwrap_or(now);
            let relative = path.strip_prefix(&self.dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if relative.starts_with(keys::UPLOADS_PREFIX) && old(modified, uploads_after) {
                deleted += usize::from(tokio::fs::remove_file(&path).await.is_ok());
            } else if let Some(file) =
                relative.strip_suffix(MARKER).filter(|_| old(modified, unreferenced_after))
            {
                let file = self.dir.join(file);
                deleted += usize::from(tokio::fs::remove_file(&file).await.is_ok());
                let _ = tokio::fs::remove_file(&path).await;
            }
        }
        Ok(deleted)
    }

    /// Whether a file is still marked unreferenced (tests).
    pub async fn is_unreferenced(&self, key: &str) -> bool {
        match self.path(key) {
            Ok(path) => tokio::fs::try_exists(marker(&path)).await.unwrap_or(false),
            Err(_) => false,
        }
    }

    fn form(&self, request: UploadRequest<'_>) -> UploadForm {
        let policy = Policy {
            expires_at: expiry(request.expires_in),
            bucket: None,
            key: request.key.to_owned(),
            content_type: request.content_type.to_owned(),
            max_bytes: request.max_bytes,
            exact: Vec::new(),
        };
        let mut fields = policy.fields();
        fields.insert(SIGNATURE_FIELD.to_owned(), sign_hex(&self.key, &policy.encoded()));
        UploadForm {
            url: format!("{}/api/files/upload", self.public_url),
            method: "POST",
            fields,
            expires_at: policy.expires_at,
        }
    }

    fn url(&self, request: DownloadRequest<'_>) -> SignedUrl {
        let mut query = DownloadQuery {
            expires: expiry(request.expires_in),
            content_type: request.content_type.to_owned(),
            disposition: match request.disposition {
                Disposition::Inline => "inline".into(),
                Disposition::Attachment => "attachment".into(),
            },
            name: request.file_name.to_owned(),
            signature: String::new(),
        };
        query.signature = sign_hex(&self.key, &Self::signed_text(request.key, &query));
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("expires", &query.expires.to_string())
            .append_pair("type", &query.content_type)
            .append_pair("disposition", &query.disposition)
            .append_pair("name", &query.name)
            .append_pair("signature", &query.signature)
            .finish();
        SignedUrl {
            url: format!("{}/api/files/{}?{encoded}", self.public_url, request.key),
            expires_at: query.expires,
        }
    }

    async fn put_file(&self, key: &str, bytes: Vec<u8>) -> Result<(), FileError> {
        let path = self.path(key)?;
        write_atomically(&path, &bytes).await?;
        tokio::fs::write(marker(&path), b"").await.map_err(|e| FileError::unavailable("marking a file", e))
    }

    async fn remove(&self, keys: &[String]) -> Result<(), FileError> {
        for key in keys {
            let path = self.path(key)?;
            for path in [marker(&path), path] {
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(FileError::unavailable("deleting a file", e)),
                }
            }
        }
        Ok(())
    }

    async fn unmark(&self, keys: &[String]) -> Result<(), FileError> {
        for key in keys {
            match tokio::fs::remove_file(marker(&self.path(key)?)).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(FileError::unavailable("marking a file referenced", e)),
            }
        }
        Ok(())
    }

    async fn get_bounded(&self, key: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, FileError> {
        let path = self.path(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.len() > max_bytes => return Err(FileError::TooLarge { limit: max_bytes }),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FileError::unavailable("reading a file", e)),
        }
        read(&path).await
    }
}

/// Why the disk adapter refuses an upload or a download: what S3 would answer, or a failure of its own.
#[derive(Debug, thiserror::Error)]
pub enum Rejected {
    /// What S3 would answer (403 or 400).
    #[error(transparent)]
    Policy(#[from] Violation),
    /// The disk failed, or the key is not one of ours.
    #[error(transparent)]
    File(#[from] FileError),
}

fn marker(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(MARKER);
    PathBuf::from(name)
}

async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    const OP: &str = "writing a file";
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(|e| FileError::unavailable(OP, e))?;
    }
    let partial = path.with_extension(format!("partial-{}", random_suffix()));
    tokio::fs::write(&partial, bytes).await.map_err(|e| FileError::unavailable(OP, e))?;
    tokio::fs::rename(&partial, path).await.map_err(|e| FileError::unavailable(OP, e))
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    let _ = SystemRandom::new().fill(&mut bytes);
    crate::policy::hex(&bytes)
}

async fn read(path: &Path) -> Result<Option<Vec<u8>>, FileError> {
    match tokio::fs::read(path).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FileError::unavailable("reading a file", e)),
    }
}

async fn walk(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    let mut pending = vec![dir.to_owned()];
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        let mut entries = match tokio::fs::read_dir(&dir).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(FileError::unavailable("reading the file directory", e)),
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            match entry.file_type().await {
                Ok(kind) if kind.is_dir() => pending.push(entry.path()),
                Ok(_) => files.push(entry.path()),
                Err(_) => {}
            }
        }
    }
    Ok(files)
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

impl FileStore for DiskFileStore {
    fn kind(&self) -> &'static str {
        "disk"
    }

    fn upload_form<'a>(&'a self, request: UploadRequest<'a>) -> BoxFuture<'a, Result<UploadForm, FileError>> {
        Box::pin(async move { Ok(self.form(request)) })
    }

    fn download_url<'a>(
        &'a self,
        request: DownloadRequest<'a>,
    ) -> BoxFuture<'a, Result<SignedUrl, FileError>> {
        Box::pin(async move { Ok(self.url(request)) })
    }

    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> BoxFuture<'a, Result<Option<Vec<u8>>, FileError>> {
        Box::pin(self.get_bounded(key, max_bytes))
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        _content_type: &'a str,
    ) -> BoxFuture<'a, Result<(), FileError>> {
        Box::pin(self.put_file(key, bytes))
    }

    fn delete<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), FileError>> {
        Box::pin(self.remove(keys))
    }

    fn mark_referenced<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), FileError>> {
        Box::pin(self.unmark(keys))
    }
}
