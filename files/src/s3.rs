//! The [`FileStore`] adapter for S3: objects through the SDK, downloads as SigV4 presigned GETs with the
//! response's type and disposition fixed by the signature, uploads as a SigV4 POST policy
//! ([`crate::policy`]) signed with the function's own credentials (so a form can never do more than the
//! function's role may: `s3:PutObject` on `uploads/*`).

use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{Tag, Tagging};
use futures_util::future::BoxFuture;

use crate::policy::{Policy, sign_hex, sigv4_key};
use crate::{
    DownloadRequest, FileError, FileStore, SignedUrl, UploadForm, UploadRequest, content_disposition, expiry,
};

/// Files in one S3 bucket. Cheap to clone.
#[derive(Debug, Clone)]
pub struct S3FileStore {
    client: Client,
    sdk: aws_config::SdkConfig,
    bucket: String,
    /// Path-style URLs at the SDK's endpoint (a local S3); virtual-hosted ones on AWS.
    local: bool,
}

impl S3FileStore {
    /// The store on `bucket`; `local`: an emulator at the configuration's endpoint (moto), reached
    /// path-style.
    pub fn new(sdk: &aws_config::SdkConfig, bucket: &str, local: bool) -> Self {
        let config = aws_sdk_s3::config::Builder::from(sdk).force_path_style(local).build();
        Self { client: Client::from_conf(config), sdk: sdk.clone(), bucket: bucket.to_owned(), local }
    }

    /// Where the browser POSTs: the bucket's own endpoint.
    fn form_url(&self, region: &str) -> String {
        match (self.local, self.sdk.endpoint_url()) {
            (true, Some(endpoint)) => format!("{}/{}", endpoint.trim_end_matches('/'), self.bucket),
            _ => format!("https://{}.s3.{region}.amazonaws.com/", self.bucket),
        }
    }

    async fn form(&self, request: UploadRequest<'_>) -> Result<UploadForm, FileError> {
        const OP: &str = "signing an upload form";
        let credentials = self
            .sdk
            .credentials_provider()
            .ok_or_else(|| FileError::unavailable(OP, "no AWS credentials"))?
            .provide_credentials()
            .await
            .map_err(|e| FileError::unavailable(OP, e))?;
        let region = self.sdk.region().map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
        let now = jiff::Timestamp::now();
        let date = now.strftime("%Y%m%d").to_string();
        let mut exact = vec![
            ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
            (
                "x-amz-credential".to_owned(),
                format!("{}/{date}/{region}/s3/aws4_request", credentials.access_key_id()),
            ),
            ("x-amz-date".to_owned(), now.strftime("%Y%m%dT%H%M%SZ").to_string()),
        ];
        if let Some(token) = credentials.session_token() {
            exact.push(("x-amz-security-token".to_owned(), token.to_owned()));
        }
        let policy = Policy {
            expires_at: expiry(request.expires_in),
            bucket: Some(self.bucket.clone()),
            key: request.key.to_owned(),
            content_type: request.content_type.to_owned(),
            max_bytes: request.max_bytes,
            exact,
        };
        let key = sigv4_key(credentials.secret_access_key(), &date, &region, "s3");
        let mut fields = policy.fields();
        fields.insert("x-amz-signature".to_owned(), sign_hex(&key, &policy.encoded()));
        Ok(UploadForm { url: self.form_url(&region), method: "POST", fields, expires_at: policy.expires_at })
    }

    async fn presign_get(&self, request: DownloadRequest<'_>) -> Result<SignedUrl, FileError> {
        const OP: &str = "signing a download";
        let config = PresigningConfig::expires_in(request.expires_in.min(Duration::from_secs(7 * 24 * 3600)))
            .map_err(|e| FileError::unavailable(OP, e))?;
        let presigned = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(request.key)
            .response_content_type(request.content_type)
            .response_content_disposition(content_disposition(request.disposition, request.file_name))
            .response_cache_control("private, max-age=300")
            .presigned(config)
            .await
            .map_err(|e| FileError::unavailable(OP, e))?;
        Ok(SignedUrl { url: presigned.uri().to_owned(), expires_at: expiry(request.expires_in) })
    }

    async fn read(&self, key: &str, max_bytes: u64) -> Result<Option<Vec<u8>>, FileError> {
        const OP: &str = "reading a file";
        let object = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(object) => object,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(error) => return Err(FileError::unavailable(OP, error)),
        };
        if object.content_length().is_some_and(|n| u64::try_from(n).unwrap_or(u64::MAX) > max_bytes) {
            return Err(FileError::TooLarge { limit: max_bytes });
        }
        let bytes = object.body.collect().await.map_err(|e| FileError::unavailable(OP, e))?.into_bytes();
        if bytes.len() as u64 > max_bytes {
            return Err(FileError::TooLarge { limit: max_bytes });
        }
        Ok(Some(bytes.to_vec()))
    }

    async fn write(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), FileError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .tagging(crate::UNREFERENCED)
            .body(bytes.into())
            .send()
            .await
            .map_err(|e| FileError::unavailable("writing a file", e))?;
        Ok(())
    }

    async fn remove(&self, keys: &[String]) -> Result<(), FileError> {
        for key in keys {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| FileError::unavailable("deleting a file", e))?;
        }
        Ok(())
    }

    async fn tag_referenced(&self, keys: &[String]) -> Result<(), FileError> {
        const OP: &str = "tagging a file referenced";
        let (name, value) = crate::REFERENCED.split_once('=').unwrap_or_default();
        let tag = Tag::builder().key(name).value(value).build().map_err(|e| FileError::unavailable(OP, e))?;
        let tagging = Tagging::builder().tag_set(tag).build().map_err(|e| FileError::unavailable(OP, e))?;
        for key in keys {
            self.client
                .put_object_tagging()
                .bucket(&self.bucket)
                .key(key)
                .tagging(tagging.clone())
                .send()
                .await
                .map_err(|e| FileError::unavailable(OP, e))?;
        }
        Ok(())
    }
}

impl FileStore for S3FileStore {
    fn kind(&self) -> &'static str {
        "s3"
    }

    fn upload_form<'a>(&'a self, request: UploadRequest<'a>) -> BoxFuture<'a, Result<UploadForm, FileError>> {
        Box::pin(self.form(request))
    }

    fn download_url<'a>(
        &'a self,
        request: DownloadRequest<'a>,
    ) -> BoxFuture<'a, Result<SignedUrl, FileError>> {
        Box::pin(self.presign_get(request))
    }

    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> BoxFuture<'a, Result<Option<Vec<u8>>, FileError>> {
        Box::pin(self.read(key, max_bytes))
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        content_type: &'a str,
    ) -> BoxFuture<'a, Result<(), FileError>> {
        Box::pin(self.write(key, bytes, content_type))
    }

    fn delete<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), FileError>> {
        Box::pin(self.remove(keys))
    }

    fn mark_referenced<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), FileError>> {
        Box::pin(self.tag_referenced(keys))
    }
}
