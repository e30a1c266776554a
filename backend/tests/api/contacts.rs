//! Contact details follow the booking's status (issue 23): while a booking is `requested`, phone numbers,
//! email addresses, links and messaging handles are replaced before the message is stored or sent, the
//! frame says which kinds were hidden, and nothing keeps the original; from `confirmed` on they pass. On
//! every store, through the proxy route the Lambda calls.

use serde_json::{Value, json};

use crate::helpers::{StoreKind, TestApp, spawn_app_with, token};

crate::on_every_store!(
    while_a_booking_is_requested_contact_details_are_hidden_before_anything_keeps_them,
    from_confirmed_on_they_pass_untouched,
    an_edit_cannot_slip_a_detail_in_later,
    once_the_owner_confirms_details_pass,
);

/// Booking 2 of the demo data is `requested` (carol owns it, dave rents); booking 1 is `confirmed`.
const REQUESTED: i64 = 2;
const CONFIRMED: i64 = 1;

const PHONE: &str = "+44 20 7946 0958";

async fn while_a_booking_is_requested_contact_details_are_hidden_before_anything_keeps_them(app: TestApp) {
    let body = format!(
        "Call me on {PHONE} or write to dave.r@example.com, photos at https://pics.example.com/canoe"
    );
    let reply = app.send(REQUESTED, "dave", json!({"action": "send_message", "data": {"body": body}})).await;
    assert_eq!(reply["type"], "message", "{reply}");
    assert_eq!(
        reply["masked"],
        json!(["phone", "email", "link"]),
        "the sender is told what and why: {reply}"
    );
    let text = reply["message"]["body"].as_str().expect("body");
    assert!(text.starts_with("Call me on [phone number hidden until the booking is confirmed]"), "{text}");
    for secret in [PHONE, "dave.r@example.com", "pics.example.com"] {
        assert!(!reply.to_string().contains(secret), "{secret} left in {reply}");
    }
    // What is stored is what was sent: the original is kept nowhere, and history shows the placeholders.
    let stored: Value =
        app.history(REQUESTED, Some(&token("carol")), "").await.json().await.expect("history");
    assert_eq!(stored["messages"][0]["body"], text, "{stored}");
    assert!(!stored.to_string().contains("7946"), "{stored}");
}

async fn from_confirmed_on_they_pass_untouched(app: TestApp) {
    let body = format!("Call me on {PHONE}, I am @bob_rents on Instagram");
    let reply = app.send(CONFIRMED, "bob", json!({"action": "send_message", "data": {"body": body}})).await;
    assert_eq!(reply["message"]["body"], body, "{reply}");
    assert!(reply.get("masked").is_none(), "nothing hidden, no field: {reply}");
    // An ordinary message on a requested booking is left alone too.
    let plain = "See you at 9:30 on the 2nd of May 2026, it costs €1,250 for booking #123456";
    let reply = app.send(REQUESTED, "dave", json!({"action": "send_message", "data": {"body": plain}})).await;
    assert_eq!((reply["message"]["body"].as_str(), reply.get("masked")), (Some(plain), None), "{reply}");
}

async fn an_edit_cannot_slip_a_detail_in_later(app: TestApp) {
    let sent = app.post_message(REQUESTED, "dave", "Is the bike still free?").await;
    let id = sent["id"].as_i64().expect("id");
    let edit = json!({"action": "edit_message", "data": {"message_id": id, "body": "Is it free? WhatsApp me: 06 12 34 56 78"}});
    let reply = app.send(REQUESTED, "dave", edit).await;
    assert_eq!(reply["type"], "message_updated", "{reply}");
    let kinds: Vec<&Value> = reply["masked"].as_array().expect("masked").iter().collect();
    assert!(!kinds.is_empty(), "{reply}");
    assert!(!reply.to_string().contains("56 78"), "{reply}");
}

#[tokio::test]
async fn a_deployment_chooses_the_statuses_and_the_kinds() {
    let app = spawn_app_with(StoreKind::Sqlite, &[("CONTACT_MASK_KINDS", "phone")]).await;
    let body = format!("{PHONE} or https://example.com/bike");
    let reply = app.send(REQUESTED, "dave", json!({"action": "send_message", "data": {"body": body}})).await;
    assert_eq!(reply["masked"], json!(["phone"]), "{reply}");
    assert!(
        reply["message"]["body"].as_str().expect("body").ends_with(" or https://example.com/bike"),
        "{reply}"
    );

    let off = spawn_app_with(StoreKind::Sqlite, &[("CONTACT_MASK_STATUSES", "none")]).await;
    let reply = off.send(REQUESTED, "dave", json!({"action": "send_message", "data": {"body": body}})).await;
    assert_eq!(reply["message"]["body"], body, "masking off: {reply}");

    let everywhere =
        spawn_app_with(StoreKind::Sqlite, &[("CONTACT_MASK_STATUSES", "requested, confirmed")]).await;
    let reply =
        everywhere.send(CONFIRMED, "bob", json!({"action": "send_message", "data": {"body": body}})).await;
    assert_eq!(reply["masked"], json!(["phone", "link"]), "{reply}");

    // A São Paulo landline written as Brazil writes it: a number only where Brazil's numbers are read.
    let brazilian = "me liga no (11) 5555-1234";
    let reply =
        app.send(REQUESTED, "dave", json!({"action": "send_message", "data": {"body": brazilian}})).await;
    assert_eq!(reply["message"]["body"], brazilian, "not a number of the default countries: {reply}");
    let brazil = spawn_app_with(StoreKind::Sqlite, &[("CONTACT_PHONE_REGIONS", "BR, PT")]).await;
    let reply =
        brazil.send(REQUESTED, "dave", json!({"action": "send_message", "data": {"body": brazilian}})).await;
    assert_eq!(reply["masked"], json!(["phone"]), "{reply}");
}

async fn once_the_owner_confirms_details_pass(app: TestApp) {
    let body = format!("My number is {PHONE}");
    let before = app.send(REQUESTED, "dave", json!({"action": "send_message", "data": {"body": body}})).await;
    assert_eq!(before["masked"], json!(["phone"]), "{before}");
    // carol owns booking 2: she confirms it, and the same text now passes as written.
    let confirmed = app.change_status(REQUESTED, &token("carol"), "confirmed").await;
    assert!(confirmed.status().is_success(), "{}", confirmed.status());
    let after = app.send(REQUESTED, "dave", json!({"action": "send_message", "data": {"body": body}})).await;
    assert_eq!(
        (after["message"]["body"].as_str(), after.get("masked")),
        (Some(body.as_str()), None),
        "{after}"
    );
    // What was hidden before stays hidden: masking happens once, when a message is stored.
    let stored: Value = app.history(REQUESTED, Some(&token("dave")), "").await.json().await.expect("history");
    assert!(stored["messages"][0]["body"].as_str().expect("body").contains("hidden"), "{stored}");
}

#[tokio::test]
async fn placeholders_may_pass_the_length_limit_a_little_and_a_message_of_nothing_but_details_is_refused() {
    let app = spawn_app_with(StoreKind::Sqlite, &[("MAX_MESSAGE_LENGTH", "200")]).await;
    // 196 characters and one link: the placeholder takes it past 200, which is allowed.
    let body = format!("{} see www.example.com", "x".repeat(176));
    let reply = app.send(REQUESTED, "dave", json!({"action": "send_message", "data": {"body": body}})).await;
    assert_eq!(reply["masked"], json!(["link"]), "{reply}");
    assert!(reply["message"]["body"].as_str().expect("body").chars().count() > 200, "{reply}");
    // 200 characters of addresses would be some 1,600 of placeholders: refused, with the reason.
    let body = "a@b.fr ".repeat(28);
    let reply = app.send(REQUESTED, "dave", json!({"action": "send_message", "data": {"body": body}})).await;
    assert_eq!(reply["error"]["code"], "PAYLOAD_TOO_LARGE", "{reply}");
    assert!(reply["error"]["message"].as_str().expect("message").contains("contact details"), "{reply}");
}
