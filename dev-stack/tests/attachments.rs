//! Attachments end to end (issue 24): through the API Gateway emulator, the Lambda proxy (in process),
//! the real backend with the disk file store, and the real media processor beside it, as `make dev` runs
//! them. A phone's photo with its GPS position goes in; what the other member downloads has none and
//! stands upright. A PNG named and declared a PDF is treated as the PNG it is; text declared a JPEG is
//! refused, and the uploader is told why.

mod support;

#[path = "../../media/tests/support/mod.rs"]
mod media_files;

use serde_json::{Value, json};
use support::{Client, connect_as, next_matching, send, start_in_memory};

fn of_type(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |f: &Value| f["type"] == kind
}

/// Asks for an upload form, POSTs `bytes` with it as a browser does, and waits for the processor's
/// verdict: the `attachment` frame.
async fn upload(tab: &mut Client, name: &str, declared: &str, bytes: Vec<u8>) -> Value {
    let size = bytes.len();
    send(tab, json!({"action": "upload_attachment", "data": {"name": name, "content_type": declared, "size": size}}))
        .await;
    let answer = next_matching(tab, of_type("upload")).await;
    let mut form = reqwest::multipart::Form::new();
    for (field, value) in answer["upload"]["fields"].as_object().expect("fields") {
        form = form.text(field.clone(), value.as_str().expect("text").to_owned());
    }
    form = form.part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    let url = answer["upload"]["url"].as_str().expect("url");
    let posted = reqwest::Client::new().post(url).multipart(form).send().await.expect("post");
    assert_eq!(posted.status(), 204, "{}", posted.text().await.unwrap_or_default());
    let verdict = next_matching(tab, of_type("attachment")).await;
    assert_eq!(verdict["attachment"]["id"], answer["attachment"]["id"]);
    verdict["attachment"].clone()
}

async fn download(tab: &mut Client, id: &Value, variant: &str) -> (String, Vec<u8>) {
    send(tab, json!({"action": "attachment_url", "data": {"attachment_id": id, "variant": variant}})).await;
    let signed = next_matching(tab, of_type("attachment_url")).await;
    let response = reqwest::get(signed["url"].as_str().expect("url")).await.expect("get");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    (content_type, response.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn a_phone_photo_reaches_the_other_member_without_its_location_and_upright() {
    let files = tempfile::tempdir().expect("dir");
    let store = format!("disk:{}", files.path().display());
    let (stack, _dir) = start_in_memory(&[("FILE_STORE", &store)]).await;
    photos_and_refusals(&stack).await;
    stack.stop().await;
}

/// As on AWS: the files in S3 (moto), each upload announced by S3's own notification on an SQS queue
/// (moto), which the media processor polls.
#[tokio::test]
async fn on_s3_and_sqs_each_upload_is_announced_by_s3_and_processed_from_the_queue() {
    let moto = local_services::moto::Moto::shared();
    let endpoint = moto.endpoint();
    let sdk = chat_settings::aws::local(&endpoint, std::time::Duration::from_secs(5));
    let bucket = format!("files-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let (_, sqs, queue_url) = media_files::bucket_announcing_uploads(&sdk, &bucket).await;

    let store = format!("s3://{bucket}");
    let (mut stack, _dir) = start_in_memory(&[("FILE_STORE", &store), ("S3_ENDPOINT", &endpoint)]).await;
    let env = [
        ("FILE_STORE", store),
        ("S3_ENDPOINT", endpoint.clone()),
        ("BACKEND_URL", stack.backend_url.clone()),
        ("SERVICE_TOKEN", support::SERVICE_TOKEN.to_owned()),
        ("SQS_ENDPOINT", endpoint.clone()),
    ];
    let settings = chat_media::config::MediaSettings::from_lookup(|key: &str| {
        env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    })
    .expect("settings");
    stack.run_media(&settings, chat_media::queue::SqsQueue::new(sqs, &queue_url)).await.expect("processor");
    photos_and_refusals(&stack).await;
    stack.stop().await;
}

async fn photos_and_refusals(stack: &dev_stack::DevStack) {
    let mut alice = connect_as(stack, 1, "alice").await;
    let mut bob = connect_as(stack, 1, "bob").await;

    // Orientation 6: the camera was turned; the 64×32 photo stands 32×64.
    let photo = media_files::phone_jpeg(6);
    assert!(media_files::contains(&photo, &media_files::gps_bytes()), "the input has a GPS position");
    let attachment = upload(&mut alice, "IMG_0042.jpg", "image/jpeg", photo).await;
    assert_eq!(
        (&attachment["status"], &attachment["width"], &attachment["height"], &attachment["thumbnail"]),
        (&json!("ready"), &json!(32), &json!(64), &json!(true)),
        "{attachment}"
    );
    send(
        &mut alice,
        json!({"action": "send_message", "data": {"body": "The scratch, at pick-up",
        "attachments": [attachment["id"]]}}),
    )
    .await;
    let received = next_matching(&mut bob, of_type("message")).await;
    assert_eq!(received["message"]["attachments"][0], attachment, "{received}");

    let (content_type, original) = download(&mut bob, &attachment["id"], "original").await;
    assert_eq!(content_type, "image/jpeg");
    media_files::assert_no_metadata(&original);
    let upright = media_files::decode(&original);
    assert_eq!((upright.width(), upright.height()), (32, 64));
    let (content_type, thumbnail) = download(&mut bob, &attachment["id"], "thumbnail").await;
    assert_eq!(content_type, "image/jpeg");
    media_files::assert_no_metadata(&thumbnail);

    // What the bytes are, not what the name or the declaration say.
    let png =
        media_files::encode(&image::DynamicImage::ImageRgb8(media_files::photo()), image::ImageFormat::Png);
    let renamed = upload(&mut alice, "contract.pdf", "application/pdf", png).await;
    assert_eq!(
        (&renamed["status"], &renamed["content_type"]),
        (&json!("ready"), &json!("image/png")),
        "{renamed}"
    );
    let text = b"#!/bin/sh\necho this is no photo\n".to_vec();
    let refused = upload(&mut alice, "photo.jpg", "image/jpeg", text).await;
    assert_eq!(refused["status"], "rejected", "{refused}");
    assert!(refused["reason"].as_str().is_some_and(|r| !r.is_empty()), "{refused}");
    send(&mut alice, json!({"action": "send_message", "data": {"body": "", "attachments": [refused["id"]]}}))
        .await;
    let error = next_matching(&mut alice, of_type("error")).await;
    assert_eq!(error["error"]["code"], "VALIDATION_ERROR", "{error}");
}
