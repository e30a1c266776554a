//! Telling the backend what became of an upload: the [`Backend`] port and its HTTP adapter, which calls
//! `POST {BACKEND_URL}/api/service/attachments/processed` with the service credential
//! (`Authorization: Bearer {SERVICE_TOKEN}`) and a [`Report`]:
//!
//! ```json
//! {"booking_id": 1, "attachment_id": "att_…", "status": "ready", "content_type": "image/jpeg",
//!  "size": 123, "width": 640, "height": 480, "thumbnail": true}
//! {"booking_id": 1, "attachment_id": "att_…", "status": "rejected", "reason": "unknown file type"}
//! ```
//!
//! The backend answers 200 (the attachment, recorded) or 404 (it knows no such attachment); anything
//! else is a failure the queue retries.

use std::time::Duration;

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The route the processor reports to.
pub const PROCESSED_PATH: &str = "/api/service/attachments/processed";

/// What became of one upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The booking the attachment belongs to.
    pub booking_id: i64,
    /// The attachment (`att_…`).
    pub attachment_id: String,
    /// Kept or refused.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// Kept or refused, with what the backend records of each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The file is kept at `files/{booking}/{attachment}/original`.
    Ready {
        /// What the bytes are, whatever was declared.
        content_type: String,
        /// The kept file's size in bytes.
        size: u64,
        /// An image's width in pixels (upright); absent for a PDF.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        width: Option<u32>,
        /// An image's height in pixels (upright); absent for a PDF.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        height: Option<u32>,
        /// Whether `files/{booking}/{attachment}/thumbnail` exists.
        thumbnail: bool,
    },
    /// The file was refused and nothing is kept.
    Rejected {
        /// Why, in words for the member.
        reason: String,
    },
}

/// How the backend took a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// Recorded (200).
    Recorded,
    /// The backend knows no such attachment (404): its files should not be kept.
    UnknownAttachment,
}

/// Why a report did not reach the backend; the queue retries it.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The backend answered something other than 200 or 404.
    #[error("the backend answered {0}")]
    Status(u16),
    /// The backend could not be reached, or did not answer in time.
    #[error("the backend could not be reached: {0}")]
    Unavailable(String),
}

/// Where reports go.
pub trait Backend: Send + Sync + 'static {
    /// Reports what became of one upload.
    ///
    /// # Errors
    /// [`BackendError`] when the backend did not take the report: it must be sent again.
    fn processed<'a>(&'a self, report: &'a Report) -> BoxFuture<'a, Result<Ack, BackendError>>;
}

/// The backend over HTTP(S).
#[derive(Debug, Clone)]
pub struct HttpBackend {
    client: reqwest::Client,
    url: String,
    token: SecretString,
}

impl HttpBackend {
    /// The backend at `base_url`, reached with the service credential `token`, each call within `timeout`.
    ///
    /// # Errors
    /// [`BackendError::Unavailable`] when the HTTP client cannot be built (its TLS configuration).
    pub fn new(base_url: &str, token: SecretString, timeout: Duration) -> Result<Self, BackendError> {
        let client = reqwest::Client::builder()
            // rustls on ring with the system roots read once (chat_settings::tls), as every deployable.
            .tls_backend_preconfigured(chat_settings::tls::client_config())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("chat-media/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BackendError::Unavailable(chat_settings::http::describe(&e)))?;
        let url = format!("{}{PROCESSED_PATH}", base_url.trim_end_matches('/'));
        Ok(Self { client, url, token })
    }
}

impl Backend for HttpBackend {
    fn processed<'a>(&'a self, report: &'a Report) -> BoxFuture<'a, Result<Ack, BackendError>> {
        Box::pin(async move {
            let response = self
                .client
                .post(&self.url)
                .bearer_auth(self.token.expose_secret())
                .json(report)
                .send()
                .await
                .map_err(|e| BackendError::Unavailable(chat_settings::http::describe(&e)))?;
            let status = response.status().as_u16();
            // Read to the end, so that the connection can be used again.
            let _body = response.bytes().await;
            match status {
                200 => Ok(Ack::Recorded),
                404 => Ok(Ack::UnknownAttachment),
                other => Err(BackendError::Status(other)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_the_json_the_backend_reads() {
        let ready = Report {
            booking_id: 1,
            attachment_id: "att_1".into(),
            outcome: Outcome::Ready {
                content_type: "image/jpeg".into(),
                size: 123,
                width: Some(640),
                height: Some(480),
                thumbnail: true,
            },
        };
        assert_eq!(
            serde_json::to_value(&ready).expect("serialises"),
            serde_json::json!({"booking_id": 1, "attachment_id": "att_1", "status": "ready",
                "content_type": "image/jpeg", "size": 123, "width": 640, "height": 480, "thumbnail": true})
        );
        let pdf = Outcome::Ready {
            content_type: "application/pdf".into(),
            size: 9,
            width: None,
            height: None,
            thumbnail: false,
        };
        let json = serde_json::to_value(Report { outcome: pdf, ..ready }).expect("serialises");
        assert!(json.get("width").is_none() && json.get("height").is_none(), "{json}");
        let rejected = Report {
            booking_id: 2,
            attachment_id: "att_2".into(),
            outcome: Outcome::Rejected { reason: "unknown file type".into() },
        };
        assert_eq!(
            serde_json::to_value(&rejected).expect("serialises"),
            serde_json::json!({"booking_id": 2, "attachment_id": "att_2", "status": "rejected", "reason": "unknown file type"})
        );
    }
}
