//! Attachments (issue 24) on every store, with the disk file store the backend serves itself: the form
//! asked for and POSTed as a browser does, the media processor's verdict (played here through its
//! service route, with the files it would have written), a message carrying the files, signed URLs for
//! members only, and a deleted message's files gone. The real processor runs end to end in dev-stack.

use std::time::Duration;

use chat_files::keys;
use serde_json::{Value, json};

use crate::helpers::{StoreKind, TestApp, WsClient, spawn_app_with, token};

crate::on_every_store_kind!(
    a_photo_goes_from_its_form_to_a_message_and_to_the_other_member,
    what_may_not_be_uploaded_sent_or_seen_is_refused_with_why,
    one_file_goes_on_one_message_however_many_senders_race,
    the_http_routes_do_what_the_frames_do,
    an_erased_users_and_an_expired_chats_files_are_deleted,
);

/// Booking 1 of the demo data: alice owns it, bob rents it; confirmed.
const BOOKING: i64 = 1;
const JPEG: &[u8] = b"\xff\xd8\xff\xe0 a processed jpeg";

async fn app(kind: StoreKind) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let store = format!("disk:{}", dir.path().display());
    let app = spawn_app_with(kind, &[("FILE_STORE", &store), ("ATTACHMENTS_MAX_BYTES", "1000")]).await;
    (app, dir)
}

/// The next frame of `kind`, skipping others.
async fn next_of(ws: &mut WsClient, kind: &str) -> Value {
    loop {
        let frame = ws.next_json().await;
        if frame["type"] == kind {
            return frame;
        }
    }
}

fn upload_frame(name: &str, content_type: &str, size: u64) -> Value {
    json!({"action": "upload_attachment", "data": {"name": name, "content_type": content_type, "size": size}})
}

/// POSTs `body` with the form of an `upload` answer, as a browser does; the status and body.
async fn post_form(upload: &Value, body: Vec<u8>) -> (u16, String) {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in upload["fields"].as_object().expect("fields") {
        form = form.text(name.clone(), value.as_str().expect("text").to_owned());
    }
    form = form.part("file", reqwest::multipart::Part::bytes(body).file_name("photo.jpg"));
    let url = upload["url"].as_str().expect("url");
    let response = reqwest::Client::new().post(url).multipart(form).send().await.expect("post");
    (response.status().as_u16(), response.text().await.unwrap_or_default())
}

/// What the media processor does after an upload: its files written, its verdict reported.
async fn process(app: &TestApp, id: &str, verdict: Value) -> reqwest::Response {
    let files = &app.files.as_ref().expect("files").store;
    if verdict["status"] == "ready" {
        files.put(&keys::original(BOOKING, id), JPEG.to_vec(), "image/jpeg").await.expect("original");
        files.put(&keys::thumbnail(BOOKING, id), b"thumb".to_vec(), "image/jpeg").await.expect("thumbnail");
        files.delete(&[keys::upload(BOOKING, id)]).await.expect("upload deleted");
    }
    let mut body = json!({"booking_id": BOOKING, "attachment_id": id});
    body.as_object_mut().expect("object").extend(verdict.as_object().expect("verdict").clone());
    app.client
        .post(format!("{}/api/service/attachments/processed", app.base))
        .bearer_auth("test-service-token")
        .json(&body)
        .send()
        .await
        .expect("processed")
}

fn ready_verdict() -> Value {
    json!({"status": "ready", "content_type": "image/jpeg", "size": JPEG.len(), "width": 640, "height": 480,
        "thumbnail": true})
}

/// A ready attachment of `user`'s: asked for, uploaded, processed. Its id.
async fn ready_attachment(app: &TestApp, user: &str) -> String {
    let answer = app.send(BOOKING, user, upload_frame("bike.jpg", "image/jpeg", 20)).await;
    assert_eq!(answer["type"], "upload", "{answer}");
    let (status, body) = post_form(&answer["upload"], vec![7; 20]).await;
    assert_eq!(status, 204, "{body}");
    let id = answer["attachment"]["id"].as_str().expect("id").to_owned();
    assert_eq!(process(app, &id, ready_verdict()).await.status(), 200);
    id
}

async fn a_photo_goes_from_its_form_to_a_message_and_to_the_other_member(kind: StoreKind) {
    let (app, _dir) = app(kind).await;
    let mut alice = app.ws_as(BOOKING, "alice").await;
    let mut bob = app.ws_as(BOOKING, "bob").await;

    alice.send_json(upload_frame("C:\\photos\\scratch at pick-up.jpg", "image/jpeg", 600)).await;
    let answer = next_of(&mut alice, "upload").await;
    let attachment = &answer["attachment"];
    assert_eq!(
        (&attachment["name"], &attachment["status"], &attachment["size"]),
        (&json!("scratch at pick-up.jpg"), &json!("pending"), &json!(600)),
        "{answer}"
    );
    let id = attachment["id"].as_str().expect("id").to_owned();
    assert!(keys::is_attachment_id(&id), "{id}");
    assert_eq!(answer["upload"]["method"], "POST");
    assert_eq!(answer["upload"]["fields"]["key"], keys::upload(BOOKING, &id));

    // The browser's POST; the upload is announced to the processor.
    let mut uploads = app.files.as_ref().and_then(|f| f.disk.as_ref()).expect("disk").uploads();
    let (status, body) = post_form(&answer["upload"], vec![1; 600]).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(uploads.recv().await.as_deref(), Some(keys::upload(BOOKING, &id).as_str()));

    // The verdict reaches the uploader only, once.
    assert_eq!(process(&app, &id, ready_verdict()).await.status(), 200);
    let pushed = next_of(&mut alice, "attachment").await;
    assert_eq!(
        (&pushed["attachment"]["status"], &pushed["attachment"]["width"]),
        (&json!("ready"), &json!(640))
    );
    let again: Value = process(&app, &id, ready_verdict()).await.json().await.expect("json");
    assert_eq!(again["status"], "ready");

    // A message of the photo alone.
    alice
        .send_json(json!({"action": "send_message", "data": {"body": "", "client_message_id": "m1",
            "attachments": [id]}}))
        .await;
    let sent = next_of(&mut alice, "message").await;
    let received = next_of(&mut bob, "message").await;
    assert_eq!(received["message"]["attachments"], sent["message"]["attachments"]);
    assert_eq!(received["message"]["attachments"][0]["id"], json!(id), "{received}");
    assert_eq!(received["message"]["body"], "");
    bob.expect_silence(200).await;

    // bob fetches the thumbnail through a URL minted for him.
    bob.send_json(json!({"action": "attachment_url", "data": {"attachment_id": id, "variant": "thumbnail"}}))
        .await;
    let url = next_of(&mut bob, "attachment_url").await;
    let thumbnail = reqwest::get(url["url"].as_str().expect("url")).await.expect("get");
    assert_eq!(thumbnail.status(), 200);
    assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");
    assert_eq!(thumbnail.bytes().await.expect("bytes").as_ref(), b"thumb");
    // A URL changed by hand is refused, as S3 refuses it.
    let forged = url["url"].as_str().expect("url").replace("thumbnail?", "original?");
    assert_eq!(reqwest::get(forged).await.expect("get").status(), 403);

    // History carries the files; a delete takes them away, and their files.
    let page: Value = app.history(BOOKING, Some(&token("bob")), "").await.json().await.expect("history");
    let stored = page["messages"].as_array().expect("messages").last().expect("one").clone();
    assert_eq!(stored["attachments"][0]["name"], "scratch at pick-up.jpg");
    let files = &app.files.as_ref().expect("files").store;
    assert!(files.get(&keys::original(BOOKING, &id), 1000).await.expect("get").is_some());
    let deleted = app
        .send(BOOKING, "alice", json!({"action": "delete_message", "data": {"message_id": stored["id"]}}))
        .await;
    assert_eq!(deleted["message"]["deleted"], true, "{deleted}");
    assert!(deleted["message"].get("attachments").is_none(), "a tombstone has no files: {deleted}");
    assert!(files.get(&keys::original(BOOKING, &id), 1000).await.expect("get").is_none());
    assert!(files.get(&keys::thumbnail(BOOKING, &id), 1000).await.expect("get").is_none());
    // Nothing of them is left to name or sign.
    let gone = app
        .client
        .get(format!("{}/api/chat/bookings/{BOOKING}/attachments/{id}", app.base))
        .bearer_auth(token("bob"))
        .send()
        .await
        .expect("get");
    assert_eq!(gone.status(), 404);
    let url =
        app.send(BOOKING, "bob", json!({"action": "attachment_url", "data": {"attachment_id": id}})).await;
    assert_eq!(url["error"]["code"], "NOT_FOUND", "{url}");
    let page: Value = app.history(BOOKING, Some(&token("bob")), "").await.json().await.expect("history");
    assert!(page["messages"].as_array().expect("messages").iter().all(|m| m.get("attachments").is_none()));
}

async fn what_may_not_be_uploaded_sent_or_seen_is_refused_with_why(kind: StoreKind) {
    let (app, _dir) = app(kind).await;
    let code = |reply: &Value| reply["error"]["code"].as_str().unwrap_or_default().to_owned();
    // Declared too large, of a type not allowed, empty, nameless.
    let too_large = app.send(BOOKING, "alice", upload_frame("big.jpg", "image/jpeg", 1001)).await;
    assert_eq!(code(&too_large), "PAYLOAD_TOO_LARGE", "{too_large}");
    assert!(too_large["error"]["message"].as_str().expect("text").contains("1000"), "{too_large}");
    for (name, content_type, size) in
        [("x.exe", "application/x-msdownload", 10), ("e.jpg", "image/jpeg", 0), (" ", "image/jpeg", 5)]
    {
        let reply = app.send(BOOKING, "alice", upload_frame(name, content_type, size)).await;
        assert_eq!(code(&reply), "VALIDATION_ERROR", "{name}: {reply}");
    }

    // The form allows the declared size and no more, one key, one type: checked as S3 checks it.
    let answer = app.send(BOOKING, "alice", upload_frame("bike.jpg", "image/jpeg", 20)).await;
    let id = answer["attachment"]["id"].as_str().expect("id").to_owned();
    let (status, body) = post_form(&answer["upload"], vec![1; 21]).await;
    assert_eq!((status, body.contains("EntityTooLarge")), (400, true), "{body}");
    let mut other_type = answer["upload"].clone();
    other_type["fields"]["Content-Type"] = json!("text/html");
    let (status, body) = post_form(&other_type, vec![1; 20]).await;
    assert_eq!((status, body.contains("AccessDenied")), (403, true), "{body}");

    // Pending: neither sendable nor visible to the other member.
    let send = |user: &str, ids: Vec<&str>| json!({"action": "send_message", "data": {"body": format!("from {user}"), "attachments": ids}});
    let pending = app.send(BOOKING, "alice", send("alice", vec![&id])).await;
    assert_eq!(code(&pending), "VALIDATION_ERROR", "{pending}");
    assert!(pending["error"]["message"].as_str().expect("text").contains("still being"), "{pending}");
    let peek = json!({"action": "attachment_url", "data": {"attachment_id": id}});
    assert_eq!(code(&app.send(BOOKING, "bob", peek.clone()).await), "NOT_FOUND");

    // A client that missed the verdict asks: pending still.
    let asked =
        app.send(BOOKING, "alice", json!({"action": "get_attachment", "data": {"attachment_id": id}})).await;
    assert_eq!(
        (&asked["type"], &asked["attachment"]["status"]),
        (&json!("attachment"), &json!("pending")),
        "{asked}"
    );
    let asked =
        app.send(BOOKING, "bob", json!({"action": "get_attachment", "data": {"attachment_id": id}})).await;
    assert_eq!(code(&asked), "NOT_FOUND", "not bob's to see: {asked}");

    // Rejected: its reason reaches the uploader; it cannot be sent.
    let mut alice = app.ws_as(BOOKING, "alice").await;
    let verdict = json!({"status": "rejected", "reason": "HEIC photos are not supported: send a JPEG"});
    assert_eq!(process(&app, &id, verdict).await.status(), 200);
    let pushed = next_of(&mut alice, "attachment").await;
    assert_eq!(pushed["attachment"]["reason"], "HEIC photos are not supported: send a JPEG");
    let asked =
        app.send(BOOKING, "alice", json!({"action": "get_attachment", "data": {"attachment_id": id}})).await;
    assert_eq!(asked["attachment"], pushed["attachment"], "asking answers what the push said");
    assert_eq!(code(&app.send(BOOKING, "alice", send("alice", vec![&id])).await), "VALIDATION_ERROR");

    // Someone else's ready file is not bob's to send; an unknown id is nobody's.
    let ready = ready_attachment(&app, "alice").await;
    assert_eq!(code(&app.send(BOOKING, "bob", send("bob", vec![&ready])).await), "VALIDATION_ERROR");
    let unknown = "att_ffffffffffffffffffffffffffffffff";
    assert_eq!(code(&app.send(BOOKING, "alice", send("alice", vec![unknown])).await), "VALIDATION_ERROR");
    assert_eq!(
        code(&app.send(BOOKING, "alice", send("alice", vec![&ready, &ready])).await),
        "VALIDATION_ERROR"
    );
    // Not yet sent: alice may see her own file, bob may not.
    let own = json!({"action": "attachment_url", "data": {"attachment_id": ready, "variant": "original"}});
    assert_eq!(app.send(BOOKING, "alice", own.clone()).await["type"], "attachment_url");
    assert_eq!(code(&app.send(BOOKING, "bob", own).await), "NOT_FOUND");
    // Another booking's members see nothing of it (carol and dave are booking 2's).
    let reply =
        app.send(2, "carol", json!({"action": "attachment_url", "data": {"attachment_id": ready}})).await;
    assert_eq!(code(&reply), "NOT_FOUND", "{reply}");

    // The processor's route is the service's.
    let anonymous = app
        .client
        .post(format!("{}/api/service/attachments/processed", app.base))
        .json(&json!({"booking_id": BOOKING, "attachment_id": ready, "status": "rejected", "reason": "x"}))
        .send()
        .await
        .expect("post");
    assert_eq!(anonymous.status(), 401);
    assert_eq!(process(&app, unknown, ready_verdict()).await.status(), 404);

    // Without a file store, attachments are off and say so.
    let off = spawn_app_with(kind, &[]).await;
    let reply = off.send(BOOKING, "alice", upload_frame("bike.jpg", "image/jpeg", 20)).await;
    assert!(reply["error"]["message"].as_str().expect("text").contains("not enabled"), "{reply}");
}

async fn one_file_goes_on_one_message_however_many_senders_race(kind: StoreKind) {
    let (app, _dir) = app(kind).await;
    let id = ready_attachment(&app, "alice").await;
    let before: Value = app.history(BOOKING, Some(&token("alice")), "").await.json().await.expect("history");
    let count = |page: &Value| page["messages"].as_array().map_or(0, Vec::len);
    let sends = (0..8).map(|i| {
        let frame = json!({"action": "send_message", "data": {"body": format!("take {i}"),
            "client_message_id": format!("race-{i}"), "attachments": [id]}});
        app.send(BOOKING, "alice", frame)
    });
    let replies = futures_util::future::join_all(sends).await;
    let stored: Vec<&Value> = replies.iter().filter(|r| r["type"] == "message").collect();
    assert_eq!(stored.len(), 1, "{replies:?}");
    assert!(
        replies.iter().filter(|r| r["type"] != "message").all(|r| r["error"]["code"] == "VALIDATION_ERROR")
    );
    let after: Value = app.history(BOOKING, Some(&token("alice")), "").await.json().await.expect("history");
    assert_eq!(count(&after), count(&before) + 1, "the losers stored nothing");

    // The winner's retry is the same message, with its file.
    let winner = stored[0]["message"]["client_message_id"].clone();
    let retry = json!({"action": "send_message", "data": {"body": "again", "client_message_id": winner,
        "attachments": [id]}});
    let again = app.send(BOOKING, "alice", retry).await;
    assert_eq!(
        (again["message"]["id"].clone(), again["message"]["attachments"][0]["id"].clone()),
        (stored[0]["message"]["id"].clone(), json!(id)),
        "{again}"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
}

async fn the_http_routes_do_what_the_frames_do(kind: StoreKind) {
    let (app, _dir) = app(kind).await;
    let route = |path: &str| format!("{}/api/chat/bookings/{BOOKING}/attachments{path}", app.base);
    let created = app
        .client
        .post(route(""))
        .bearer_auth(token("bob"))
        .json(&json!({"name": "receipt.pdf", "content_type": "application/pdf", "size": 300}))
        .send()
        .await
        .expect("post");
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    let id = created["attachment"]["id"].as_str().expect("id").to_owned();
    let (status, _) = post_form(&created["upload"], vec![b'%'; 300]).await;
    assert_eq!(status, 204);
    let verdict = json!({"status": "ready", "content_type": "application/pdf", "size": 300});
    let files = &app.files.as_ref().expect("files").store;
    files.put(&keys::original(BOOKING, &id), b"%PDF-1.7".to_vec(), "application/pdf").await.expect("put");
    assert_eq!(process(&app, &id, verdict).await.status(), 200);

    let get = |path: String, user: &str| app.client.get(route(&path)).bearer_auth(token(user)).send();
    let read: Value = get(format!("/{id}"), "bob").await.expect("get").json().await.expect("json");
    assert_eq!((&read["status"], &read["thumbnail"]), (&json!("ready"), &json!(false)));
    let hidden = get(format!("/{id}"), "alice").await.expect("get");
    assert_eq!(hidden.status(), 404, "unsent: the uploader's alone");
    let no_thumbnail = get(format!("/{id}/url?variant=thumbnail"), "bob").await.expect("get");
    assert_eq!(no_thumbnail.status(), 400);
    let signed: Value = get(format!("/{id}/url"), "bob").await.expect("get").json().await.expect("json");
    let file = reqwest::get(signed["url"].as_str().expect("url")).await.expect("get");
    assert_eq!(file.headers()["content-type"], "application/pdf");
    let disposition = file.headers()["content-disposition"].to_str().expect("ascii").to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"receipt.pdf\""),
        "a PDF is saved, never shown: {disposition}"
    );
    let anonymous = app.client.post(route("")).json(&json!({})).send().await.expect("post");
    assert_eq!(anonymous.status(), 401);

    // The operator hides the message that carries it: its file and its record go, as for a delete.
    let sent = app
        .send(BOOKING, "bob", json!({"action": "send_message", "data": {"body": "", "attachments": [id]}}))
        .await;
    assert_eq!(sent["type"], "message", "{sent}");
    let hide = app
        .client
        .post(format!("{}/api/service/bookings/{BOOKING}/messages/{}/hide", app.base, sent["message"]["id"]))
        .bearer_auth("test-service-token")
        .json(&json!({"reason": "Removed by the marketplace"}))
        .send()
        .await
        .expect("hide");
    assert_eq!(hide.status(), 200);
    assert!(files.get(&keys::original(BOOKING, &id), 1000).await.expect("get").is_none());
    assert_eq!(get(format!("/{id}"), "alice").await.expect("get").status(), 404);
}

/// Issue 26: erasing a user deletes every file they uploaded, sent or not, and nobody else's; the
/// retention job deletes an expired chat's files with it.
async fn an_erased_users_and_an_expired_chats_files_are_deleted(kind: StoreKind) {
    let dir = tempfile::tempdir().expect("dir");
    let store = format!("disk:{}", dir.path().display());
    let app = spawn_app_with(kind, &[("FILE_STORE", &store), ("CHAT_RETENTION_DAYS", "30")]).await;
    let files = &app.files.as_ref().expect("files").store;
    let stored = |id: String| async move {
        files.get(&keys::original(BOOKING, &id), 1000).await.expect("get").is_some()
    };
    let send = |id: &str| json!({"action": "send_message", "data": {"body": "", "attachments": [id]}});
    let (sent, unsent, bobs) = (
        ready_attachment(&app, "alice").await,
        ready_attachment(&app, "alice").await,
        ready_attachment(&app, "bob").await,
    );
    assert_eq!(app.send(BOOKING, "alice", send(&sent)).await["type"], "message");
    assert_eq!(app.send(BOOKING, "bob", send(&bobs)).await["type"], "message");
    assert!(stored(sent.clone()).await && stored(unsent.clone()).await && stored(bobs.clone()).await);

    let erase = app
        .client
        .post(format!("{}/api/service/users/alice/erase", app.base))
        .bearer_auth("test-service-token");
    let erasure: Value = erase.send().await.expect("erase").json().await.expect("json");
    assert_eq!(
        (erasure["complete"].as_bool(), erasure["files"].as_u64()),
        (Some(true), Some(1)),
        "the unsent one; the sent one went with its message: {erasure}"
    );
    assert!(!stored(sent.clone()).await && !stored(unsent.clone()).await, "alice's files are gone");
    assert!(stored(bobs.clone()).await, "bob's stays");
    let thumbnail = files.get(&keys::thumbnail(BOOKING, &sent), 1000).await.expect("get");
    assert!(thumbnail.is_none(), "its thumbnail too");

    // The booking ends; 31 days later its chat and bob's file are deleted.
    let status = app
        .client
        .put(format!("{}/api/service/bookings/{BOOKING}/status", app.base))
        .bearer_auth("test-service-token");
    assert_eq!(status.json(&json!({"status": "cancelled"})).send().await.expect("status").status(), 200);
    app.ended_days_ago(BOOKING, 31).await;
    let run =
        app.client.post(format!("{}/api/service/retention/run", app.base)).bearer_auth("test-service-token");
    let pass: Value = run.send().await.expect("run").json().await.expect("json");
    assert_eq!((pass["bookings"].as_u64(), pass["files"].as_u64()), (Some(1), Some(1)), "{pass}");
    assert!(!stored(bobs).await, "the expired chat's files are gone");
}
