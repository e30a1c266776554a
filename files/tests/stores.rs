//! Both adapters through the port, and the browser's side of each: the upload form POSTed as a browser
//! does (fields, then the file), the download URL fetched. S3 runs on moto.
//!
//! moto 5.2 does not check a POST policy's conditions (its `_bucket_response_post` stores whatever
//! arrives), so S3's refusal of an oversized body cannot be shown here: the disk adapter's check of the
//! same document is, and the S3 form's document is asserted to carry the range.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chat_files::disk::DiskFileStore;
use chat_files::policy::Policy;
use chat_files::{Disposition, DownloadRequest, FileStore, UploadForm, UploadRequest, keys};

const ID: &str = "att_0123456789abcdef0123456789abcdef";

async fn post(form: &UploadForm, body: Vec<u8>) -> (u16, String) {
    let mut multipart = reqwest::multipart::Form::new();
    for (name, value) in &form.fields {
        multipart = multipart.text(name.clone(), value.clone());
    }
    let file = reqwest::multipart::Part::bytes(body).file_name("photo.jpg");
    multipart = multipart.part("file", file);
    let response = reqwest::Client::new().post(&form.url).multipart(multipart).send().await.expect("post");
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

fn upload_request(key: &str) -> UploadRequest<'_> {
    UploadRequest { key, content_type: "image/jpeg", max_bytes: 1000, expires_in: Duration::from_secs(60) }
}

fn download_request(key: &str) -> DownloadRequest<'_> {
    DownloadRequest {
        key,
        content_type: "image/jpeg",
        file_name: "vélo 1.jpg",
        disposition: Disposition::Inline,
        expires_in: Duration::from_secs(60),
    }
}

/// Objects through the port: written tagged unreferenced, read bounded, deleted idempotently.
async fn objects_behave(store: &dyn FileStore) {
    let key = keys::original(1, ID);
    store.put(&key, b"processed".to_vec(), "image/jpeg").await.expect("put");
    assert_eq!(store.get(&key, 100).await.expect("get").as_deref(), Some(&b"processed"[..]));
    assert!(matches!(store.get(&key, 3).await, Err(chat_files::FileError::TooLarge { limit: 3 })));
    store.mark_referenced(std::slice::from_ref(&key)).await.expect("mark");
    store.delete(&[key.clone(), keys::thumbnail(1, ID)]).await.expect("delete");
    store.delete(std::slice::from_ref(&key)).await.expect("delete again");
    assert_eq!(store.get(&key, 100).await.expect("get"), None);
}

#[tokio::test]
async fn the_disk_adapter_checks_its_forms_as_s3_does_and_serves_signed_downloads() {
    let dir = tempfile::tempdir().expect("dir");
    // The backend serves the form's target and the downloads; here the store is called as it would.
    let base = "http://127.0.0.1:8000";
    let store = Arc::new(DiskFileStore::open(dir.path(), base).await.expect("open"));
    let mut uploads = store.uploads();
    let key = keys::upload(1, ID);
    let form = store.upload_form(upload_request(&key)).await.expect("form");
    assert_eq!(form.url, format!("{base}/api/files/upload"));

    // The form as a browser sends it.
    let fields: BTreeMap<String, String> = form.fields.clone();
    assert_eq!(store.accept_upload(&fields, vec![7; 1000]).await.expect("accepted"), key);
    assert_eq!(uploads.recv().await.as_deref(), Some(key.as_str()));
    assert_eq!(store.get(&key, 1000).await.expect("get").map(|b| b.len()), Some(1000));

    // What S3 refuses, refused: too large, empty, another key, another type, a forged policy.
    let refused =
        |outcome: Result<String, chat_files::disk::Rejected>| outcome.expect_err("refused").to_string();
    assert!(refused(store.accept_upload(&fields, vec![7; 1001]).await).starts_with("EntityTooLarge"));
    assert!(refused(store.accept_upload(&fields, Vec::new()).await).starts_with("EntityTooSmall"));
    let mut other = fields.clone();
    other.insert("key".into(), keys::upload(2, ID));
    assert!(refused(store.accept_upload(&other, vec![1]).await).contains("field key"));
    let mut other = fields.clone();
    other.insert("Content-Type".into(), "text/html".into());
    assert!(refused(store.accept_upload(&other, vec![1]).await).contains("Content-Type"));
    let mut forged = Policy::decode(&fields["policy"]).expect("policy");
    forged.max_bytes = 1_000_000;
    let mut other = fields.clone();
    other.insert("policy".into(), forged.encoded());
    assert!(refused(store.accept_upload(&other, vec![1]).await).contains("signature"));
    let expired = store
        .upload_form(UploadRequest { expires_in: Duration::ZERO, ..upload_request(&key) })
        .await
        .expect("form");
    assert!(refused(store.accept_upload(&expired.fields, vec![1]).await).contains("expired"));

    // Downloads: the signed URL serves, a changed one does not.
    let original = keys::original(1, ID);
    store.put(&original, b"jpeg".to_vec(), "image/jpeg").await.expect("put");
    assert!(store.is_unreferenced(&original).await);
    let signed = store.download_url(download_request(&original)).await.expect("url");
    let url = url::Url::parse(&signed.url).expect("url");
    let pairs: BTreeMap<String, String> =
        url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let query = chat_files::disk::DownloadQuery {
        expires: pairs["expires"].parse().expect("expires"),
        content_type: pairs["type"].clone(),
        disposition: pairs["disposition"].clone(),
        name: pairs["name"].clone(),
        signature: pairs["signature"].clone(),
    };
    let path_key = url.path().strip_prefix("/api/files/").expect("path");
    let served = store.serve(path_key, &query).await.expect("served").expect("found");
    assert_eq!(served.bytes, b"jpeg");
    assert_eq!(
        served.content_disposition,
        "inline; filename=\"v_lo 1.jpg\"; filename*=UTF-8''v%C3%A9lo%201.jpg"
    );
    let mut tampered = query.clone();
    tampered.content_type = "text/html".into();
    assert!(store.serve(path_key, &tampered).await.is_err());
    assert!(store.serve(&keys::thumbnail(1, ID), &query).await.is_err(), "a signature is for one key");

    // The sweep deletes what the lifecycle rules would, and spares referenced files.
    objects_behave(store.as_ref()).await;
    store.put(&original, b"jpeg".to_vec(), "image/jpeg").await.expect("put");
    let thumbnail = keys::thumbnail(1, ID);
    store.put(&thumbnail, b"t".to_vec(), "image/jpeg").await.expect("put");
    store.mark_referenced(std::slice::from_ref(&thumbnail)).await.expect("mark");
    assert_eq!(
        store.sweep(Duration::ZERO, Duration::ZERO).await.expect("sweep"),
        2,
        "the upload and the original"
    );
    assert!(store.get(&thumbnail, 10).await.expect("get").is_some());
}

#[tokio::test]
async fn the_s3_adapter_signs_forms_and_downloads_that_s3_accepts() {
    let moto = local_services::moto::Moto::shared();
    let sdk = chat_settings::aws::local(&moto.endpoint(), Duration::from_secs(5));
    let bucket = format!("files-{}", std::process::id());
    let client =
        aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    client.create_bucket().bucket(&bucket).send().await.expect("bucket");
    let store = chat_files::s3::S3FileStore::new(&sdk, &bucket, true);

    let key = keys::upload(1, ID);
    let form = store.upload_form(upload_request(&key)).await.expect("form");
    assert_eq!(form.url, format!("{}/{bucket}", moto.endpoint()));
    let policy = Policy::decode(&form.fields["policy"]).expect("policy");
    assert_eq!(
        (policy.key.as_str(), policy.content_type.as_str(), policy.max_bytes),
        (key.as_str(), "image/jpeg", 1000)
    );
    assert!(form.fields["x-amz-credential"].ends_with("/us-east-1/s3/aws4_request"));
    assert_eq!(form.fields["x-amz-signature"].len(), 64);
    let (status, body) = post(&form, vec![9; 500]).await;
    assert!((200..300).contains(&status), "{status} {body}");
    assert_eq!(store.get(&key, 1000).await.expect("get").map(|b| b.len()), Some(500));

    objects_behave(&store).await;
    let original = keys::original(1, ID);
    store.put(&original, b"jpeg bytes".to_vec(), "image/jpeg").await.expect("put");
    let tags = client.get_object_tagging().bucket(&bucket).key(&original).send().await.expect("tags");
    assert_eq!(tags.tag_set()[0].value(), "unreferenced");
    store.mark_referenced(std::slice::from_ref(&original)).await.expect("mark");
    let tags = client.get_object_tagging().bucket(&bucket).key(&original).send().await.expect("tags");
    assert_eq!(tags.tag_set()[0].value(), "referenced");

    let signed = store.download_url(download_request(&original)).await.expect("url");
    assert!(signed.url.contains("X-Amz-Signature=") && signed.url.contains("response-content-disposition="));
    let response = reqwest::get(&signed.url).await.expect("get");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.expect("body").as_ref(), b"jpeg bytes");
}
