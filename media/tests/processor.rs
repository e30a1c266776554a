//! The processor through its real parts: the disk adapter of the file store in a temporary directory (and
//! S3 and SQS on moto, end to end through `poll`), and a backend on a loopback port that checks the
//! service credential, records each report and answers as it is told.

mod support;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::{Json, Router, routing::post};
use chat_files::disk::DiskFileStore;
use chat_files::{FileStore, keys};
use chat_media::backend::{HttpBackend, Outcome, PROCESSED_PATH, Report};
use chat_media::process::{AllowedTypes, Refusal};
use chat_media::processor::{HandleError, Handled, Processor};
use secrecy::SecretString;
use support::*;

const ID: &str = "att_0123456789abcdef0123456789abcdef";
const TOKEN: &str = "test-service-token";
const MAX: u64 = 10 * 1024 * 1024;

/// What the backend was sent, and what it answers next (200 when nothing is queued).
#[derive(Clone, Default)]
struct Calls {
    reports: Arc<Mutex<Vec<Report>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Calls {
    fn reports(&self) -> Vec<Report> {
        self.reports.lock().expect("lock").clone()
    }

    fn answer_next(&self, status: u16) {
        self.answers.lock().expect("lock").push_back(status);
    }
}

async fn processed(State(calls): State<Calls>, headers: HeaderMap, Json(report): Json<Report>) -> StatusCode {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
        return StatusCode::UNAUTHORIZED;
    }
    calls.reports.lock().expect("lock").push(report);
    let status = calls.answers.lock().expect("lock").pop_front().unwrap_or(200);
    StatusCode::from_u16(status).expect("a status")
}

/// A backend on port 0 serving the processor's route.
async fn spawn_backend() -> (String, Calls) {
    let calls = Calls::default();
    let app = Router::new().route(PROCESSED_PATH, post(processed)).with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (format!("http://{addr}"), calls)
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<DiskFileStore>,
    processor: Arc<Processor>,
    calls: Calls,
}

async fn setup(max_bytes: u64) -> Setup {
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(DiskFileStore::open(dir.path(), "http://127.0.0.1:8000").await.expect("store"));
    let (url, calls) = spawn_backend().await;
    let backend =
        HttpBackend::new(&url, SecretString::from(TOKEN), Duration::from_secs(5)).expect("backend client");
    let processor = Processor::new(store.clone(), Arc::new(backend), AllowedTypes::default(), max_bytes);
    Setup { _dir: dir, store, processor: Arc::new(processor), calls }
}

impl Setup {
    async fn upload(&self, bytes: Vec<u8>) -> String {
        let key = keys::upload(1, ID);
        self.store.put(&key, bytes, "image/jpeg").await.expect("upload");
        key
    }

    async fn object(&self, key: &str) -> Option<Vec<u8>> {
        self.store.get(key, MAX).await.expect("get")
    }
}

#[tokio::test]
async fn a_phone_photo_becomes_a_clean_original_and_a_thumbnail_and_the_backend_hears_ready() {
    let s = setup(MAX).await;
    let key = s.upload(phone_jpeg(6)).await;

    let handled = s.processor.handle_upload(&key).await.expect("handled");

    let original = s.object(&keys::original(1, ID)).await.expect("the original");
    assert_no_metadata(&original);
    let thumbnail = s.object(&keys::thumbnail(1, ID)).await.expect("the thumbnail");
    assert_eq!((decode(&thumbnail).width(), decode(&thumbnail).height()), (32, 64));
    assert_eq!(s.object(&key).await, None, "the upload is deleted");
    let size = u64::try_from(original.len()).expect("small");
    assert!(matches!(handled, Handled::Ready { bytes_out, .. } if bytes_out == size));
    assert_eq!(
        s.calls.reports(),
        [Report {
            booking_id: 1,
            attachment_id: ID.into(),
            outcome: Outcome::Ready {
                content_type: "image/jpeg".into(),
                size,
                width: Some(32),
                height: Some(64),
                thumbnail: true,
            },
        }]
    );
}

#[tokio::test]
async fn a_refused_upload_is_deleted_and_reported_rejected_with_its_reason() {
    let s = setup(MAX).await;
    let key = s.upload(b"#!/bin/sh\necho not a photo\n".to_vec()).await;

    let handled = s.processor.handle_upload(&key).await.expect("handled");

    assert!(matches!(handled, Handled::Rejected { refusal: Refusal::Unsupported(_), .. }), "{handled:?}");
    assert_eq!(s.object(&key).await, None);
    assert_eq!(s.object(&keys::original(1, ID)).await, None);
    let [report] = s.calls.reports().try_into().expect("one report");
    assert_eq!(report.outcome, Outcome::Rejected { reason: "text files are not supported".into() });
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_without_being_read() {
    let s = setup(1000).await;
    let key = s.upload(vec![0xFF; 1001]).await;

    let handled = s.processor.handle_upload(&key).await.expect("handled");

    assert_eq!(handled, Handled::Rejected { refusal: Refusal::TooLarge { max_bytes: 1000 }, bytes_in: 0 });
    let [report] = s.calls.reports().try_into().expect("one report");
    assert_eq!(report.outcome, Outcome::Rejected { reason: "larger than 1000 bytes".into() });
    assert_eq!(s.store.get(&key, MAX).await.expect("get"), None, "deleted");
}

#[tokio::test]
async fn an_attachment_the_backend_does_not_know_leaves_no_files() {
    let s = setup(MAX).await;
    let key = s.upload(phone_jpeg(1)).await;
    s.calls.answer_next(404);

    assert_eq!(s.processor.handle_upload(&key).await.expect("handled"), Handled::UnknownAttachment);

    for gone in [key, keys::original(1, ID), keys::thumbnail(1, ID)] {
        assert_eq!(s.object(&gone).await, None, "{gone}");
    }
}

#[tokio::test]
async fn a_report_the_backend_did_not_take_is_sent_again_when_the_queue_retries() {
    let s = setup(MAX).await;
    let key = s.upload(phone_jpeg(1)).await;
    s.calls.answer_next(503);

    let failed = s.processor.handle_upload(&key).await.expect_err("the backend failed");
    assert!(matches!(failed, HandleError::Backend(_)), "{failed}");
    assert!(s.object(&key).await.is_some(), "the upload is kept for the retry");

    assert!(matches!(s.processor.handle_upload(&key).await, Ok(Handled::Ready { .. })));
    let reports = s.calls.reports();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0], reports[1], "the same report, again");
    assert_eq!(s.object(&key).await, None);

    // A duplicate notification finds the work done and says nothing.
    assert_eq!(s.processor.handle_upload(&key).await.expect("handled"), Handled::Gone);
    assert_eq!(s.calls.reports().len(), 2);
}

#[tokio::test]
async fn an_unreachable_backend_is_an_error_and_the_upload_stays() {
    let dir = tempfile::tempdir().expect("dir");
    let store = Arc::new(DiskFileStore::open(dir.path(), "http://127.0.0.1:8000").await.expect("store"));
    let port = local_services::free_port();
    let backend = HttpBackend::new(
        &format!("http://127.0.0.1:{port}"),
        SecretString::from(TOKEN),
        Duration::from_secs(2),
    )
    .expect("client");
    let processor = Processor::new(store.clone(), Arc::new(backend), AllowedTypes::default(), MAX);
    let key = keys::upload(1, ID);
    store.put(&key, phone_jpeg(1), "image/jpeg").await.expect("upload");

    let failed = processor.handle_upload(&key).await.expect_err("no backend");

    assert!(failed.to_string().contains("could not be reached"), "{failed}");
    assert!(store.get(&key, MAX).await.expect("get").is_some());
}

#[tokio::test]
async fn keys_that_are_not_uploads_are_left_alone() {
    let s = setup(MAX).await;
    let handled = s.processor.handle_upload(&keys::original(1, ID)).await.expect("handled");
    assert_eq!(handled, Handled::NotAnUpload);
    assert!(s.calls.reports().is_empty());
}

#[tokio::test]
async fn the_disk_adapters_uploads_are_followed_in_process() {
    let s = setup(MAX).await;
    let uploads = s.store.uploads();
    tokio::spawn(chat_media::follow(s.processor.clone(), uploads));
    let key = keys::upload(1, ID);
    let form = s
        .store
        .upload_form(chat_files::UploadRequest {
            key: &key,
            content_type: "image/png",
            max_bytes: MAX,
            expires_in: Duration::from_secs(60),
        })
        .await
        .expect("form");
    let png = encode(&image::DynamicImage::ImageRgb8(photo()), image::ImageFormat::Png);
    s.store.accept_upload(&form.fields, png).await.expect("accepted");

    let report = wait_for_report(&s.calls).await;
    assert!(matches!(report.outcome, Outcome::Ready { ref content_type, .. } if content_type == "image/png"));
}

async fn wait_for_report(calls: &Calls) -> Report {
    for _ in 0..200 {
        if let Some(report) = calls.reports().first() {
            return report.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no report reached the backend");
}

#[tokio::test]
async fn a_batch_reports_only_the_messages_that_failed() {
    let s = setup(MAX).await;
    let key = s.upload(phone_jpeg(1)).await;
    let notification = serde_json::json!({"Records": [{"eventName": "ObjectCreated:Post",
        "s3": {"bucket": {"name": "chat-files"}, "object": {"key": key, "size": 3}}}]});
    let event: aws_lambda_events::event::sqs::SqsEvent = serde_json::from_value(serde_json::json!({"Records": [
        {"messageId": "good", "body": notification.to_string(), "eventSource": "aws:sqs"},
        {"messageId": "junk", "body": "{\"not\": \"s3\"}", "eventSource": "aws:sqs"},
        {"messageId": "test", "body": "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\"}", "eventSource": "aws:sqs"},
    ]}))
    .expect("an SQS event");

    let (response, tally) = chat_media::lambda::handle_batch(&s.processor, event, i64::MAX).await;

    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, ["junk"]);
    assert_eq!((tally.ready, tally.failed), (1, 1));
    assert_eq!(s.calls.reports().len(), 1);
}

/// S3 and SQS on moto: an object created under `uploads/` is announced on the queue by S3's own
/// notification, which `poll` reads.
#[tokio::test]
async fn on_moto_an_upload_announced_by_s3_on_sqs_is_processed_by_the_poller() {
    let moto = local_services::moto::Moto::shared();
    let endpoint = moto.endpoint();
    let sdk = chat_settings::aws::local(&endpoint, Duration::from_secs(5));
    let bucket = format!("media-{}", std::process::id());
    let (s3, sqs, queue_url) = support::bucket_announcing_uploads(&sdk, &bucket).await;

    let (backend_url, calls) = spawn_backend().await;
    let env = [
        ("FILE_STORE", format!("s3://{bucket}")),
        ("S3_ENDPOINT", endpoint.clone()),
        ("BACKEND_URL", backend_url),
        ("SERVICE_TOKEN", TOKEN.into()),
        ("SQS_ENDPOINT", endpoint.clone()),
    ];
    let settings = chat_media::config::MediaSettings::from_lookup(|key: &str| {
        env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    })
    .expect("settings");
    let processor = chat_media::build(&settings, None).await.expect("processor");
    let queue = chat_media::queue::SqsQueue::new(sqs.clone(), &queue_url);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let poller = tokio::spawn(async move { chat_media::poll(&processor, &queue, stopped).await });

    let key = keys::upload(3, ID);
    s3.put_object().bucket(&bucket).key(&key).body(phone_jpeg(6).into()).send().await.expect("upload");
    let report = wait_for_report(&calls).await;
    stop.send(true).expect("stop");
    poller.await.expect("poller");

    assert_eq!((report.booking_id, report.attachment_id.as_str()), (3, ID));
    assert!(matches!(
        report.outcome,
        Outcome::Ready { width: Some(32), height: Some(64), thumbnail: true, .. }
    ));
    let original = s3.get_object().bucket(&bucket).key(keys::original(3, ID)).send().await.expect("original");
    assert_eq!(original.content_type(), Some("image/jpeg"));
    assert_no_metadata(&original.body.collect().await.expect("body").into_bytes());
    assert!(s3.head_object().bucket(&bucket).key(keys::thumbnail(3, ID)).send().await.is_ok());
    assert!(s3.head_object().bucket(&bucket).key(&key).send().await.is_err(), "the upload is deleted");
}
