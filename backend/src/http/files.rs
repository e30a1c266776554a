//! The disk file store's two routes (local runs only, never on AWS, where S3 serves both): the target of
//! its upload forms and its signed downloads ([`chat_files::disk`]). They answer as S3 does: 204 for a
//! stored upload, 403 `AccessDenied` or 400 `EntityTooLarge` with S3's XML error body, the file with its
//! signed type and disposition.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chat_files::disk::{DownloadQuery, Rejected};
use chat_files::policy::Violation;

use super::AppState;

/// Room for the form's fields around the file.
const FORM_OVERHEAD: u64 = 64 * 1024;

/// The routes, the upload's body limit the largest file and its form.
pub(super) fn routes(routes: Router<AppState>, max_bytes: u64) -> Router<AppState> {
    let limit = usize::try_from(max_bytes.saturating_add(FORM_OVERHEAD)).unwrap_or(usize::MAX);
    routes
        .route("/api/files/upload", post(upload).layer(DefaultBodyLimit::max(limit)))
        .route("/api/files/{*key}", get(download))
}

async fn upload(State(state): State<AppState>, mut form: Multipart) -> Response {
    let Some((disk, _)) = state.disk.as_ref() else { return StatusCode::NOT_FOUND.into_response() };
    let mut fields = BTreeMap::new();
    let mut file: Option<Bytes> = None;
    loop {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let Ok(value) = field.bytes().await else {
                    return s3_error(StatusCode::BAD_REQUEST, "IncompleteBody", "the form could not be read");
                };
                // S3 ignores what follows the file.
                if name == "file" {
                    file = Some(value);
                    break;
                }
                fields.insert(name, String::from_utf8_lossy(&value).into_owned());
            }
            Ok(None) => break,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return s3_error(
                    StatusCode::BAD_REQUEST,
                    "EntityTooLarge",
                    "the file is larger than allowed",
                );
            }
            Err(_) => return s3_error(StatusCode::BAD_REQUEST, "MalformedPOSTRequest", "not a valid form"),
        }
    }
    let Some(file) = file else {
        return s3_error(StatusCode::BAD_REQUEST, "InvalidArgument", "the form has no file field");
    };
    match disk.accept_upload(&fields, file.to_vec()).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(rejected) => rejection(&rejected),
    }
}

async fn download(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(query): Query<DownloadQuery>,
) -> Response {
    let Some((disk, _)) = state.disk.as_ref() else { return StatusCode::NOT_FOUND.into_response() };
    match disk.serve(&key, &query).await {
        Ok(Some(served)) => {
            let mut response = served.bytes.into_response();
            let headers = response.headers_mut();
            for (name, value) in [
                (header::CONTENT_TYPE, served.content_type.as_str()),
                (header::CONTENT_DISPOSITION, served.content_disposition.as_str()),
                (header::CACHE_CONTROL, "private, max-age=300"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ] {
                if let Ok(value) = HeaderValue::from_str(value) {
                    headers.insert(name, value);
                }
            }
            response
        }
        Ok(None) => s3_error(StatusCode::NOT_FOUND, "NoSuchKey", "the file does not exist"),
        Err(rejected) => rejection(&rejected),
    }
}

fn rejection(rejected: &Rejected) -> Response {
    match rejected {
        Rejected::Policy(Violation::TooLarge(_)) => {
            s3_error(StatusCode::BAD_REQUEST, "EntityTooLarge", &rejected.to_string())
        }
        Rejected::Policy(Violation::TooSmall) => {
            s3_error(StatusCode::BAD_REQUEST, "EntityTooSmall", &rejected.to_string())
        }
        Rejected::Policy(_) => s3_error(StatusCode::FORBIDDEN, "AccessDenied", &rejected.to_string()),
        Rejected::File(chat_files::FileError::Invalid(_)) => {
            s3_error(StatusCode::FORBIDDEN, "AccessDenied", "not a file of this store")
        }
        Rejected::File(error) => {
            tracing::error!(error = %error, "the disk file store failed");
            s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "the file store failed")
        }
    }
}

/// S3's error body, so that a client handles both stores alike.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let escape = |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message></Error>",
        escape(message)
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}
