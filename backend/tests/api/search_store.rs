//! Full-text search on every store (`ChatStore::search`), driven through the store the real startup path
//! opened: pages in the exact order even when messages share a millisecond, the index following edits and
//! tombstones, the ways the stores match differently (documented in docs/chat-store.md#search), and on
//! DynamoDB the message items' lowercased copy (`norm`), the items written before it, and what a search
//! reads (printed: `cargo nextest run -p chat-backend --test api search_store --no-capture`).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use chat_backend::store::search::{Search, SearchCursor, SearchPage, SearchQuery};
use chat_backend::store::{NewMessage, OwnMessage, Store};
use futures_util::future::join_all;

use crate::helpers::{StoreKind, TestApp, dynamodb, spawn_app};

crate::on_every_store!(
    pages_follow_the_order_exactly_when_messages_share_a_millisecond,
    the_index_follows_edits_deletes_and_hides,
    each_store_matches_a_word_its_own_way,
);

async fn insert(store: &Store, booking_id: i64, sender_id: &str, body: &str) -> i64 {
    let new = NewMessage { booking_id, sender_id, body, client_message_id: None, attachments: &[] };
    store.insert_message(new).await.expect("insert").message.id
}

async fn search(
    store: &Store,
    bookings: &[i64],
    query: &str,
    before: Option<SearchCursor>,
    limit: u32,
) -> SearchPage {
    let query = SearchQuery::parse(query).expect("query");
    store.search(Search { bookings, query: &query, before, limit }).await.expect("search")
}

async fn ids(store: &Store, bookings: &[i64], query: &str) -> Vec<i64> {
    search(store, bookings, query, None, 50).await.hits.iter().map(|h| h.message_id).collect()
}

async fn pages_follow_the_order_exactly_when_messages_share_a_millisecond(app: TestApp) {
    let store = &app.store;
    // Forty at once over two bookings: many share a created_at.
    let inserts = (0..40).map(|i| {
        let (booking, sender) = if i % 2 == 0 { (1, "alice") } else { (2, "carol") };
        async move { (booking, insert(store, booking, sender, &format!("Receipt {i} attached")).await) }
    });
    let mut expected: Vec<(i64, i64, i64)> = Vec::new();
    for (booking, id) in join_all(inserts).await {
        let message = store.message(booking, id).await.expect("read").expect("stored");
        expected.push((message.created_at, booking, id));
    }
    insert(store, 1, "alice", "Nothing to see").await;
    expected.sort_unstable_by(|a, b| b.cmp(a));
    let ties = expected.windows(2).filter(|pair| pair[0].0 == pair[1].0).count();

    let (mut paged, mut before) = (Vec::new(), None);
    loop {
        let page = search(store, &[1, 2], "receipt", before, 7).await;
        assert!(page.hits.len() <= 7);
        paged.extend(page.hits.iter().map(|h| (h.created_at, h.booking_id, h.message_id)));
        match page.next() {
            Some(next) => before = Some(SearchCursor::parse(&next.encode()).expect("cursor")),
            None => break,
        }
    }
    assert_eq!(paged, expected, "every hit once, newest first, ties by booking then id ({ties} ties)");
    assert_eq!(ids(store, &[2], "receipt").await.len(), 20, "one booking's only");
    assert!(ids(store, &[], "receipt").await.is_empty(), "no booking, no hit");
}

async fn the_index_follows_edits_deletes_and_hides(app: TestApp) {
    let store = &app.store;
    let own = |message_id| OwnMessage { booking_id: 1, message_id, sender_id: "alice", created_since: 0 };
    let edited = insert(store, 1, "alice", "Meet at the old mill").await;
    let deleted = insert(store, 1, "alice", "The mill key is under the mat").await;
    let hidden = insert(store, 1, "bob", "Mill pond swim at dawn").await;
    assert_eq!(ids(store, &[1], "mill").await, [hidden, deleted, edited]);

    store.edit_message(own(edited), "Meet at the new bakery").await.expect("edit").expect("edited");
    store.delete_message(own(deleted)).await.expect("delete").expect("deleted");
    store.hide_message(1, hidden, "Off-topic").await.expect("hide").expect("hidden");
    assert!(ids(store, &[1], "mill").await.is_empty(), "no old words, no tombstone");
    assert_eq!(ids(store, &[1], "bakery").await, [edited]);
    assert!(ids(store, &[1], "key mat").await.is_empty());
    assert!(ids(store, &[1], "dawn").await.is_empty());

    if let Some(table) = &app.table {
        let item = |id: i64| message_item(table, 1, id);
        assert_eq!(item(edited).await.get("norm"), Some(&AttributeValue::S("meet at the new bakery".into())));
        for tombstone in [deleted, hidden] {
            let item = item(tombstone).await;
            assert!(!item.contains_key("norm") && !item.contains_key("body"), "{item:?}");
        }
    }
}

async fn each_store_matches_a_word_its_own_way(app: TestApp) {
    let store = &app.store;
    let cafe = insert(store, 1, "alice", "Coffee at the Café Flore, then the CANOE").await;
    let masked = insert(store, 1, "bob", "Call [phone number hidden until the booking is confirmed]").await;
    // Every store: case-insensitive, every word, word prefixes; masked text is searched as stored.
    assert_eq!(ids(store, &[1], "canoe café").await, [cafe]);
    assert_eq!(ids(store, &[1], "CAN fl").await, [cafe]);
    assert_eq!(ids(store, &[1], "phone hidden").await, [masked]);
    assert!(ids(store, &[1], "canoe phone").await.is_empty());
    // Within a word: DynamoDB's `contains` only. Diacritics folded: SQLite's FTS5 (unicode61) only.
    let inside = ids(store, &[1], "offee").await;
    let folded = ids(store, &[1], "cafe").await;
    match store.kind() {
        "sqlite" => assert_eq!((inside, folded), (vec![], vec![cafe])),
        "postgres" => assert_eq!((inside, folded), (vec![], vec![])),
        _ => assert_eq!((inside, folded), (vec![cafe], vec![])),
    }
}

/// A message item as DynamoDB holds it.
async fn message_item(table: &str, booking_id: i64, id: i64) -> HashMap<String, AttributeValue> {
    let key = HashMap::from([
        ("pk".to_owned(), AttributeValue::S(format!("BOOKING#{booking_id}"))),
        ("sk".to_owned(), AttributeValue::S(format!("MSG#{id:020}"))),
    ]);
    let output = dynamodb().get_item().table_name(table).set_key(Some(key)).send().await.expect("get");
    output.item.expect("the message item")
}

/// A message item written before search existed (no `norm`) is still found, by its body, whatever the
/// case; one deleted then has no body and is not.
#[tokio::test]
async fn on_dynamodb_messages_written_before_search_are_found_by_their_body() {
    let app = spawn_app(StoreKind::DynamoDb).await;
    let (store, table) = (&app.store, app.table.as_deref().expect("table"));
    let old = insert(store, 1, "alice", "Old message about the Lighthouse").await;
    let old_deleted = insert(store, 1, "alice", "Old lighthouse tour, deleted").await;
    let own = OwnMessage { booking_id: 1, message_id: old_deleted, sender_id: "alice", created_since: 0 };
    store.delete_message(own).await.expect("delete").expect("deleted");
    for id in [old, old_deleted] {
        let key =
            message_item(table, 1, id).await.into_iter().filter(|(k, _)| k == "pk" || k == "sk").collect();
        dynamodb()
            .update_item()
            .table_name(table)
            .set_key(Some(key))
            .update_expression("REMOVE norm")
            .send()
            .await
            .expect("make it an item of before search");
    }
    let new = insert(store, 1, "bob", "A new lighthouse photo").await;
    assert_eq!(ids(store, &[1], "LIGHTHOUSE").await, [new, old]);
    assert_eq!(ids(store, &[1], "lighthouse about").await, [old]);
    assert!(ids(store, &[1], "tour").await.is_empty());
}

/// What one search of a booking reads on DynamoDB: every message item of the booking (the `Query` of its
/// `MSG#` range reads, and bills, them all before the filter), consistently: one read unit per 4 KB of
/// items, summed over the `Query` page (1 MB). Counted from the items' sizes by DynamoDB's rules, since
/// moto answers a constant `ConsumedCapacity`.
#[tokio::test]
async fn on_dynamodb_a_search_reads_every_message_item_of_the_booking() {
    let app = spawn_app(StoreKind::DynamoDb).await;
    let (store, table) = (&app.store, app.table.as_deref().expect("table"));
    let long = "x".repeat(300);
    for (booking, sender, body) in
        [(1, "alice", "Is the canoe free on Saturday? I can pick it up at ten."), (2, "carol", &long)]
    {
        let count = 100;
        for _ in 0..count {
            insert(store, booking, sender, body).await;
        }
        let items = message_items(table, booking).await;
        let bytes: usize = items.iter().map(item_size).sum();
        let norm: usize = items
            .iter()
            .map(|i| "norm".len() + i.get("norm").map_or(0, |n| n.as_s().map_or(0, String::len)))
            .sum();
        let units = bytes.div_ceil(4096);
        println!(
            "DynamoDB search of a booking of {} messages of {} characters: {} bytes of message items \
             ({} each, {} of them `norm`), {} read units per search (consistent); {:.1} per 1,000 such \
             messages",
            items.len(),
            body.chars().count(),
            bytes,
            bytes / items.len(),
            norm / items.len(),
            units,
            bytes as f64 * 1000.0 / items.len() as f64 / 4096.0,
        );
        assert_eq!(items.len(), count);
        assert!(units >= 1);
    }
}

/// Every message item of a booking (the range a search reads).
async fn message_items(table: &str, booking_id: i64) -> Vec<HashMap<String, AttributeValue>> {
    let (mut items, mut start) = (Vec::new(), None);
    loop {
        let output = dynamodb()
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :msg)")
            .expression_attribute_values(":pk", AttributeValue::S(format!("BOOKING#{booking_id}")))
            .expression_attribute_values(":msg", AttributeValue::S("MSG#".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("query");
        items.extend(output.items.unwrap_or_default());
        start = output.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// An item's size as DynamoDB bills it: each attribute's name and value in bytes; a number is about one
/// byte per two significant digits, plus one.
fn item_size(item: &HashMap<String, AttributeValue>) -> usize {
    item.iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(text) => text.len(),
                    AttributeValue::N(number) => {
                        let digits = number.trim_start_matches('-').replace('.', "");
                        digits.trim_start_matches('0').trim_end_matches('0').len().div_ceil(2) + 1
                    }
                    other => panic!("a message item holds strings and numbers, not {other:?}"),
                }
        })
        .sum()
}
