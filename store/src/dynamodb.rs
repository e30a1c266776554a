//! The [`ChatStore`] adapter for DynamoDB: one table, keys `pk` and `sk` (strings), every access one key
//! lookup, one `Query` on a partition, or one conditional write; never a Scan. `docs/chat-store.md` lists
//! the items and access patterns.
//!
//! | item | `pk` | `sk` |
//! |---|---|---|
//! | booking (`last_message_id`: a floor under the next message's id) | `BOOKING#{id}` | `BOOKING` |
//! | message (with `edited_at`, `deleted_at` once edited, deleted; `norm`, its body lowercased, for search) | `BOOKING#{id}` | `MSG#{message id, 20 digits}` |
//! | idempotency key (`after`: the newest message id read before it) | `BOOKING#{id}` | `CMID#{len(sender)}#{sender}#{client_message_id}` |
//! | reaction | `BOOKING#{id}` | `REACT#{message id, 20 digits}#{len(emoji)}#{emoji}#{user}` |
//! | read position | `BOOKING#{id}` | `READ#{user}` |
//! | presence: a live connection (expires by TTL a month after it lapses) | `BOOKING#{id}` | `PRES#C#{connection id}` |
//! | presence: a member's last disconnect | `BOOKING#{id}` | `PRES#S#{user}` |
//! | membership (the inbox's index: `gsi1pk = USER#{user}`, `gsi1sk = BOOKING#{id, 20 digits}`) | `BOOKING#{id}` | `MEMBER#{user}` |
//! | rate-limit windows (`actions` this minute, `s{second}` each second of it) | `RATE#{user}` | `MINUTE#{minutes since the epoch}` (expires by TTL) |
//! | notification settings (`settings`, their JSON; `version`, the compare-and-set guard) | `USER#{user}` | `NOTIFY#SETTINGS` |
//! | notification claim (`through`, the newest message notified; `at`, when claimed) | `BOOKING#{id}` | `NOTIFIED#{user}` |
//! | an upload's record (`status`, `description`, `message_id` once claimed) | `BOOKING#{id}` | `ATT#{attachment id}` |
//!
//! Every `Query` of a booking's partition names a sort-key range of one kind (`MSG#`, `REACT#`, `READ#`,
//! `PRES#`), so the claim items never show up in one; the settings items carry no `gsi1pk`, so the
//! inbox's index does not list them.
//!
//! A message takes the booking's next id with one conditional `PutItem` of its own item, by a writer that
//! read the one before, and a `client_message_id` is reserved before the message is written: how this keeps
//! ids in commit order without gaps and a retried `client_message_id` stored once, at three write units, is
//! in [`crate::dynamodb_messages`].
//!
//! An edit or a delete is one `UpdateItem` of the message on the condition that the caller sent it within
//! the edit window and it is not deleted (`attribute_not_exists(deleted_at)`), so a deleted message never
//! comes back. A delete removes the body; the reaction items of a deleted message stay but are never read.
//!
//! Notification settings are replaced by one `PutItem` on the condition that their `version` is still the
//! one read (or that there are none yet), and a claim by one `PutItem` on the condition that the claim item
//! still holds what was read (or is absent): of notifiers racing for the same messages, one sends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, PutRequest, ReturnValue, ScalarAttributeType,
    Select, TransactWriteItem, Update, WriteRequest,
};
use chat_wire::time::now_millis;
use chat_wire::{BookingId, ChatMessage, MessageId, ReactionSummary};
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, TryStreamExt};

use super::{
    BookingActivity, BookingWrite, ChatStore, MAX_INBOX_BOOKINGS, MAX_UNREAD_COUNT, MessagePage, NewMessage,
    OwnMessage, PageCursor, PresenceConnection, PresenceRecords, RateLimits, ReactionToggle, ReadPosition,
    StoreError, StoredMessage, attach_reactions, summarise,
};
use crate::attachments::AttachmentRecord;
use crate::chat_state::ChatState;
use crate::domain::{Booking, BookingStatus};
use crate::notifications::{
    Claim, ClaimRequest, NotificationSettings, Notified, VersionedSettings, decide_claim,
};
use crate::rate_limit::{Limits, Windows};
use crate::search::{Search, SearchHit, SearchPage, SearchQuery};

/// How often a write is tried when others win its race (a message's key, a batch's unprocessed items).
pub(crate) const MAX_ATTEMPTS: u32 = 50;

/// How often a claim is decided again when another notifier changed its item between the read and the
/// write: each lost race means another claim was recorded, so the next decision is almost always final.
const CLAIM_ATTEMPTS: u32 = 8;

/// Most memberships of one user read for the inbox (which then lists the most recently active).
const MAX_MEMBERSHIPS_READ: usize = 500;

/// Most bookings' newest messages an inbox reads at once.
const ACTIVITY_CONCURRENCY: usize = 16;

/// Most bookings' partitions a search reads at once.
const SEARCH_CONCURRENCY: usize = 8;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The chat in one DynamoDB table. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    pub(crate) client: Client,
    table: Arc<str>,
    create_table: bool,
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn booking_pk(id: BookingId) -> AttributeValue {
    s(format!("BOOKING#{id}"))
}

/// A booking's sort key in the retention index: due in order of `from`, then of id.
pub(crate) fn retention_sk(from: i64, booking_id: BookingId) -> String {
    format!("{from:020}#{booking_id:020}")
}

pub(crate) fn message_sk(id: MessageId) -> String {
    format!("MSG#{id:020}")
}

fn reaction_prefix(message_id: MessageId) -> String {
    format!("REACT#{message_id:020}#")
}

fn reaction_sk(message_id: MessageId, emoji: &str, user_id: &str) -> String {
    format!("{}{}#{emoji}#{user_id}", reaction_prefix(message_id), emoji.len())
}

pub(crate) fn settings_key(user_id: &str) -> Item {
    key(s(format!("USER#{user_id}")), "NOTIFY#SETTINGS")
}

pub(crate) fn notified_key(booking_id: BookingId, user_id: &str) -> Item {
    key(booking_pk(booking_id), format!("NOTIFIED#{user_id}"))
}

pub(crate) fn key(pk: AttributeValue, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), pk), ("sk".to_owned(), s(sk))])
}

pub(crate) fn text(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(StoreError::Inconsistent(format!("item without the string {name}"))),
    }
}

pub(crate) fn number(item: &Item, name: &str) -> Result<i64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => {
            value.parse().map_err(|_| StoreError::Inconsistent(format!("{name} is not an integer: {value}")))
        }
        _ => Err(StoreError::Inconsistent(format!("item without the number {name}"))),
    }
}

fn booking_from(item: &Item) -> Result<Booking, StoreError> {
    let status = text(item, "status")?;
    let mut chat: ChatState = match text(item, "chat_state") {
        Err(_) => ChatState::default(),
        Ok(json) => {
            serde_json::from_str(&json).map_err(|e| StoreError::Inconsistent(format!("chat state: {e}")))?
        }
    };
    chat.version = number(item, "chat_version").unwrap_or(0);
    Ok(Booking {
        chat,
        id: number(item, "id")?,
        owner_id: text(item, "owner_id")?,
        renter_id: text(item, "renter_id")?,
        title: text(item, "title")?,
        status: BookingStatus::parse(&status)
            .ok_or_else(|| StoreError::Inconsistent(format!("booking status {status:?}")))?,
    })
}

fn message_from(item: &Item) -> Result<ChatMessage, StoreError> {
    // A tombstone has no body: the delete removed it.
    let deleted = item.contains_key("deleted_at");
    Ok(ChatMessage {
        id: number(item, "id")?,
        booking_id: number(item, "booking_id")?,
        sender_id: text(item, "sender_id")?,
        body: if deleted { String::new() } else { text(item, "body")? },
        client_message_id: text(item, "client_message_id").ok(),
        created_at: number(item, "created_at")?,
        reactions: Vec::new(),
        edited_at: item.contains_key("edited_at").then(|| number(item, "edited_at")).transpose()?,
        deleted,
        moderation: match text(item, "hidden_reason") {
            Ok(reason) => Some(chat_wire::Moderation { reason, at: number(item, "hidden_at")? }),
            Err(_) => None,
        },
        // A tombstone's `att` was removed by its delete or hide.
        attachments: crate::attachments::from_json(text(item, "att").ok().as_deref())?,
    })
}

/// A message item a search's filter let through, as a hit; `None` for an item written before search
/// existed (no `norm`) whose body lacks a word.
fn hit_from(item: &Item, query: &SearchQuery) -> Result<Option<SearchHit>, StoreError> {
    let body = text(item, "body")?;
    if !item.contains_key("norm") && !query.found_in(&body.to_lowercase()) {
        return Ok(None);
    }
    Ok(Some(SearchHit {
        booking_id: number(item, "booking_id")?,
        message_id: number(item, "id")?,
        sender_id: text(item, "sender_id")?,
        created_at: number(item, "created_at")?,
        body,
    }))
}

fn attachment_sk(id: &str) -> String {
    format!("ATT#{id}")
}

pub(crate) fn attachment_from(item: &Item) -> Result<AttachmentRecord, StoreError> {
    Ok(AttachmentRecord {
        booking_id: number(item, "booking_id")?,
        uploader_id: text(item, "uploader_id")?,
        attachment: crate::attachments::described(&text(item, "description")?)?,
        message_id: item.contains_key("message_id").then(|| number(item, "message_id")).transpose()?,
        created_at: number(item, "created_at")?,
    })
}

fn is_conditional_failure<E, R>(error: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error.as_service_error().and_then(aws_sdk_dynamodb::error::ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// Whether a conditional write wrote: `false` when its condition failed.
pub(crate) fn conditional<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    op: &'static str,
) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if is_conditional_failure(&error) => Ok(false),
        Err(error) => Err(StoreError::database(op, error)),
    }
}

impl DynamoDbStore {
    /// The store in `table`; with `create_table`, [`ChatStore::prepare`] creates it when missing (local
    /// runs and tests; in AWS Terraform owns it).
    pub fn new(client: Client, table: impl Into<Arc<str>>, create_table: bool) -> Self {
        Self { client, table: table.into(), create_table }
    }

    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    pub(crate) async fn get(&self, key: Item, operation: &'static str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(self.table())
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::database(operation, e))?;
        Ok(output.item)
    }

    /// Every item of `pk` whose sort key is between `from` and `to` (and that passes `filter`, an expression
    /// with its values), in sort-key order (or reverse), stopping after `limit` items when given.
    pub(crate) async fn query(
        &self,
        pk: AttributeValue,
        (from, to): (String, String),
        forward: bool,
        limit: Option<usize>,
        filter: Option<(&str, Vec<(&str, AttributeValue)>)>,
        operation: &'static str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", pk.clone())
                .expression_attribute_values(":from", s(from.clone()))
                .expression_attribute_values(":to", s(to.clone()))
                .scan_index_forward(forward)
                .consistent_read(true)
                .set_exclusive_start_key(start);
            if let Some((expression, values)) = &filter {
                request = request.filter_expression(*expression);
                for (name, value) in values {
                    request = request.expression_attribute_values(*name, value.clone());
                }
            } else if let Some(limit) = limit {
                // Without a filter, DynamoDB's `Limit` (items read) is the items wanted.
                request = request.limit(i32::try_from(limit - items.len()).unwrap_or(i32::MAX));
            }
            let output = request.send().await.map_err(|e| StoreError::database(operation, e))?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if start.is_none() || limit.is_some_and(|limit| items.len() >= limit) {
                return Ok(items);
            }
        }
    }

    async fn reactions(
        &self,
        booking_id: BookingId,
        first: MessageId,
        last: MessageId,
    ) -> Result<HashMap<MessageId, Vec<ReactionSummary>>, StoreError> {
        // `$` sorts right after `#`: every reaction key of `last` is below `REACT#{last}$`.
        let to = format!("REACT#{last:020}$");
        let mut items = self
            .query(
                booking_pk(booking_id),
                (reaction_prefix(first), to),
                true,
                None,
                None,
                "reading reactions",
            )
            .await?
            .iter()
            .map(|item| {
                Ok((
                    number(item, "message_id")?,
                    number(item, "created_at")?,
                    text(item, "emoji")?,
                    text(item, "user_id")?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // In the order they were made, as the SQL store reads them.
        items.sort();
        Ok(summarise(items.iter().map(|(m, _, e, u)| (*m, e.as_str(), u.as_str()))))
    }

    pub(crate) async fn message(
        &self,
        booking_id: BookingId,
        id: MessageId,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let Some(item) = self.get(key(booking_pk(booking_id), message_sk(id)), "reading a message").await?
        else {
            return Ok(None);
        };
        self.with_reactions(message_from(&item)?).await.map(Some)
    }

    /// The message with its reactions read; a tombstone's are never read.
    async fn with_reactions(&self, mut message: ChatMessage) -> Result<ChatMessage, StoreError> {
        if !message.deleted {
            let (booking_id, id) = (message.booking_id, message.id);
            message.reactions = self.reactions(booking_id, id, id).await?.remove(&id).unwrap_or_default();
        }
        Ok(message)
    }

    /// One `UpdateItem` of the caller's message, on the conditions of [`OwnMessage`] and that it is not
    /// deleted; the message afterwards, or `None` when a condition failed.
    async fn change_own_message(
        &self,
        change: OwnMessage<'_>,
        update: &str,
        values: Vec<(&str, AttributeValue)>,
        operation: &'static str,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let mut request = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(change.booking_id), message_sk(change.message_id))))
            .update_expression(update)
            .condition_expression(
                "sender_id = :sender AND created_at >= :since AND attribute_not_exists(deleted_at)",
            )
            .expression_attribute_values(":sender", s(change.sender_id))
            .expression_attribute_values(":since", n(change.created_since))
            .return_values(ReturnValue::AllNew);
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        match request.send().await {
            Ok(output) => {
                let item = output
                    .attributes
                    .ok_or_else(|| StoreError::Inconsistent(format!("{operation} returned no message")))?;
                self.with_reactions(message_from(&item)?).await.map(Some)
            }
            Err(error) if is_conditional_failure(&error) => Ok(None),
            Err(error) => Err(StoreError::database(operation, error)),
        }
    }

    /// The claim of one attachment for message `id`, in its transaction: on the condition that it is
    /// ready, the sender's and claimed by no message.
    pub(crate) fn claim(
        &self,
        new: &NewMessage<'_>,
        attachment: &chat_wire::Attachment,
        id: MessageId,
    ) -> Result<TransactWriteItem, aws_sdk_dynamodb::error::BuildError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(new.booking_id), attachment_sk(&attachment.id))))
            .update_expression("SET message_id = :id")
            .condition_expression(
                "attribute_exists(pk) AND #status = :ready AND uploader_id = :sender \
                 AND attribute_not_exists(message_id)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":id", n(id))
            .expression_attribute_values(":ready", s("ready"))
            .expression_attribute_values(":sender", s(new.sender_id))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    async fn create_attachment(&self, record: &AttachmentRecord) -> Result<(), StoreError> {
        const OP: &str = "recording an upload";
        let mut item = key(booking_pk(record.booking_id), attachment_sk(&record.attachment.id));
        item.insert("booking_id".into(), n(record.booking_id));
        item.insert("uploader_id".into(), s(&record.uploader_id));
        item.insert("status".into(), s(crate::attachments::status_name(record.attachment.status)));
        item.insert("description".into(), s(crate::attachments::describe(&record.attachment)));
        item.insert("created_at".into(), n(record.created_at));
        if self.put_if_absent(item, OP).await? {
            Ok(())
        } else {
            Err(StoreError::Inconsistent(format!("attachment {} exists", record.attachment.id)))
        }
    }

    async fn attachment(
        &self,
        booking_id: BookingId,
        id: &str,
    ) -> Result<Option<AttachmentRecord>, StoreError> {
        self.get(key(booking_pk(booking_id), attachment_sk(id)), "reading an attachment")
            .await?
            .as_ref()
            .map(attachment_from)
            .transpose()
    }

    async fn finish_attachment(
        &self,
        booking_id: BookingId,
        attachment: &chat_wire::Attachment,
    ) -> Result<Option<AttachmentRecord>, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(booking_id), attachment_sk(&attachment.id))))
            .update_expression("SET #status = :status, description = :description")
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(crate::attachments::status_name(attachment.status)))
            .expression_attribute_values(":description", s(crate::attachments::describe(attachment)))
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await;
        conditional(update, "finishing an upload")?;
        self.attachment(booking_id, &attachment.id).await
    }

    async fn delete_attachments(&self, booking_id: BookingId, ids: &[String]) -> Result<(), StoreError> {
        for id in ids {
            self.client
                .delete_item()
                .table_name(self.table())
                .set_key(Some(key(booking_pk(booking_id), attachment_sk(id))))
                .send()
                .await
                .map_err(|e| StoreError::database("forgetting an upload", e))?;
        }
        Ok(())
    }

    async fn edit_message(
        &self,
        change: OwnMessage<'_>,
        body: &str,
    ) -> Result<Option<ChatMessage>, StoreError> {
        let values = vec![(":body", s(body)), (":norm", s(body.to_lowercase())), (":now", n(now_millis()))];
        let update = "SET body = :body, norm = :norm, edited_at = :now, changed_at = :now";
        self.change_own_message(change, update, values, "editing a message").await
    }

    async fn delete_message(&self, change: OwnMessage<'_>) -> Result<Option<ChatMessage>, StoreError> {
        let values = vec![(":now", n(now_millis()))];
        let update = "SET deleted_at = :now, changed_at = :now REMOVE body, norm, att";
        self.change_own_message(change, update, values, "deleting a message").await
    }

    async fn hide_message(
        &self,
        booking_id: BookingId,
        message_id: MessageId,
        reason: &str,
    ) -> Result<Option<ChatMessage>, StoreError> {
        const OP: &str = "hiding a message";
        let now = n(now_millis());
        let request = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(booking_id), message_sk(message_id))))
            .update_expression(
                "SET deleted_at = if_not_exists(deleted_at, :now), changed_at = :now, \
                 hidden_reason = :reason, hidden_at = :now REMOVE body, norm, att",
            )
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(hidden_reason)")
            .expression_attribute_values(":now", now)
            .expression_attribute_values(":reason", s(reason))
            .return_values(ReturnValue::AllNew);
        match request.send().await {
            // A tombstone's reactions are never read: nothing else to remove.
            Ok(output) => {
                let item = output
                    .attributes
                    .ok_or_else(|| StoreError::Inconsistent(format!("{OP} returned no message")))?;
                message_from(&item).map(Some)
            }
            Err(error) if is_conditional_failure(&error) => self.message(booking_id, message_id).await,
            Err(error) => Err(StoreError::database(OP, error)),
        }
    }

    async fn insert_message(&self, new: NewMessage<'_>) -> Result<StoredMessage, StoreError> {
        self.store_message(new).await
    }

    async fn messages(
        &self,
        booking_id: BookingId,
        cursor: PageCursor,
        limit: u32,
    ) -> Result<MessagePage, StoreError> {
        const OP: &str = "reading history";
        let fetch = limit as usize + 1;
        let mut filter = None;
        let (from, to, forward) = match cursor {
            PageCursor::After(after) => {
                (message_sk(after.saturating_add(1).max(0)), message_sk(MessageId::MAX), true)
            }
            PageCursor::Before(before) => {
                let before = before.unwrap_or(MessageId::MAX);
                if before <= 1 {
                    return Ok(MessagePage { messages: Vec::new(), has_more: false });
                }
                (message_sk(0), message_sk(before - 1), false)
            }
            // The client's copy, filtered on `changed_at` (DynamoDB reads, and bills, every message of the
            // range: the client's copy, usually a page); items older than `changed_at` count as changed.
            PageCursor::Changed { from, since } => {
                let expression = "changed_at >= :since OR attribute_not_exists(changed_at)";
                filter = Some((expression, vec![(":since", n(since))]));
                (message_sk(from.max(0)), message_sk(MessageId::MAX), true)
            }
        };
        let items = self.query(booking_pk(booking_id), (from, to), forward, Some(fetch), filter, OP).await?;
        let has_more = items.len() > limit as usize;
        let mut messages =
            items.iter().take(limit as usize).map(message_from).collect::<Result<Vec<_>, _>>()?;
        if !forward {
            messages.reverse();
        }
        let range = messages.first().zip(messages.last()).map(|(first, last)| (first.id, last.id));
        if let Some((first, last)) = range {
            attach_reactions(&mut messages, self.reactions(booking_id, first, last).await?);
        }
        Ok(MessagePage { messages, has_more })
    }

    /// A page of the messages that match a search: one `Query` of each booking's whole `MSG#` range
    /// ([`DynamoDbStore::search_booking`]), [`SEARCH_CONCURRENCY`] bookings at a time; the hits
    /// gathered, ordered and cut to the page.
    async fn search(&self, search: Search<'_>) -> Result<SearchPage, StoreError> {
        let per_booking: Vec<Vec<SearchHit>> = futures_util::stream::iter(search.bookings.iter().copied())
            .map(|booking_id| self.search_booking(booking_id, &search))
            .buffer_unordered(SEARCH_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(SearchPage::of(per_booking.into_iter().flatten().collect(), &search))
    }

    /// One booking's hits that may be on the page: a consistent `Query` of its whole `MSG#` range
    /// (paginated), filtered on `norm` (the lowercased body) containing every word and not deleted.
    /// DynamoDB reads, and bills, every message item of the range before the filter: a read unit per
    /// 4 KB of the booking's messages (`docs/chat-store.md#search`).
    async fn search_booking(
        &self,
        booking_id: BookingId,
        search: &Search<'_>,
    ) -> Result<Vec<SearchHit>, StoreError> {
        const OP: &str = "searching messages";
        let words = search.query.words();
        let all: Vec<String> = (0..words.len()).map(|i| format!("contains(#norm, :w{i})")).collect();
        // Items written before search existed have no `norm`: their bodies are matched below.
        let filter = format!(
            "attribute_not_exists(deleted_at) AND (({}) OR \
             (attribute_not_exists(#norm) AND attribute_exists(body)))",
            all.join(" AND ")
        );
        let (mut hits, mut start, mut read_units) = (Vec::new(), None, 0.0);
        loop {
            let mut request = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .filter_expression(&filter)
                .projection_expression("#id, booking_id, sender_id, body, created_at, #norm")
                .expression_attribute_names("#id", "id")
                .expression_attribute_names("#norm", "norm")
                .expression_attribute_values(":pk", booking_pk(booking_id))
                .expression_attribute_values(":from", s(message_sk(0)))
                .expression_attribute_values(":to", s(message_sk(MessageId::MAX)))
                .consistent_read(true)
                .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
                .set_exclusive_start_key(start);
            for (i, word) in words.iter().enumerate() {
                request = request.expression_attribute_values(format!(":w{i}"), s(word));
            }
            let output = request.send().await.map_err(|e| StoreError::database(OP, e))?;
            read_units += output.consumed_capacity().and_then(|c| c.capacity_units()).unwrap_or(0.0);
            for item in output.items() {
                hits.extend(hit_from(item, search.query)?);
            }
            // Only what may be on the page is kept, however many messages match.
            hits = crate::search::first_after(hits, search);
            start = output.last_evaluated_key;
            if start.is_none() {
                tracing::debug!(booking_id, read_units, "searched a booking");
                return Ok(hits);
            }
        }
    }

    async fn insert_booking_if_absent(&self, booking: &Booking) -> Result<bool, StoreError> {
        let now = now_millis();
        let mut item = key(booking_pk(booking.id), "BOOKING");
        item.insert("id".into(), n(booking.id));
        item.insert("owner_id".into(), s(&booking.owner_id));
        item.insert("renter_id".into(), s(&booking.renter_id));
        item.insert("title".into(), s(&booking.title));
        item.insert("status".into(), s(booking.status.as_str()));
        item.insert("created_at".into(), n(now));
        item.insert("updated_at".into(), n(now));
        if !self.put_if_absent(item, "inserting a booking").await? {
            return Ok(false);
        }
        self.index_members(booking, &[]).await?;
        Ok(true)
    }

    /// Writes `item` unless an item with its key exists; whether it wrote it.
    /// Puts `item` on the condition that its key is free: `false` when it is taken.
    pub(crate) async fn put_if_absent(&self, item: Item, op: &'static str) -> Result<bool, StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)");
        conditional(put.send().await, op)
    }

    /// Writes the booking's two membership items (the inbox's index on `gsi1`) and deletes those of
    /// `former` members. Idempotent; the booking item stays the authority on membership.
    async fn index_members(&self, booking: &Booking, former: &[String]) -> Result<(), StoreError> {
        const OP: &str = "indexing a booking's members";
        let members = [&booking.owner_id, &booking.renter_id];
        let mut writes = Vec::new();
        for user in members {
            let mut item = key(booking_pk(booking.id), format!("MEMBER#{user}"));
            item.insert("gsi1pk".into(), s(format!("USER#{user}")));
            item.insert("gsi1sk".into(), s(format!("BOOKING#{:020}", booking.id)));
            item.insert("booking_id".into(), n(booking.id));
            let put = PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(|e| StoreError::database(OP, e))?;
            writes.push(WriteRequest::builder().put_request(put).build());
        }
        for user in former.iter().filter(|user| !members.contains(user)) {
            let delete = DeleteRequest::builder()
                .set_key(Some(key(booking_pk(booking.id), format!("MEMBER#{user}"))))
                .build()
                .map_err(|e| StoreError::database(OP, e))?;
            writes.push(WriteRequest::builder().delete_request(delete).build());
        }
        self.write_batch(writes, OP).await
    }

    /// Writes `writes` with `BatchWriteItem`, 25 at a time (DynamoDB's most per call), retrying what
    /// DynamoDB left unprocessed with jittered backoff.
    pub(crate) async fn write_batch(
        &self,
        writes: Vec<WriteRequest>,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        let mut writes = writes.into_iter().peekable();
        while writes.peek().is_some() {
            let chunk: Vec<WriteRequest> = writes.by_ref().take(25).collect();
            let mut pending = HashMap::from([(self.table().to_owned(), chunk)]);
            let mut attempt = 0;
            loop {
                let output = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(|e| StoreError::database(operation, e))?;
                match output.unprocessed_items {
                    Some(left) if left.values().any(|writes| !writes.is_empty()) => pending = left,
                    _ => break,
                }
                attempt += 1;
                if attempt == MAX_ATTEMPTS {
                    return Err(StoreError::Contention(operation));
                }
                tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=10u64 << attempt.min(6)))).await;
            }
        }
        Ok(())
    }

    async fn put_booking(&self, booking: &Booking) -> Result<BookingWrite, StoreError> {
        if self.insert_booking_if_absent(booking).await? {
            return Ok(BookingWrite::Created);
        }
        let before = self.booking(booking.id).await?;
        let former: Vec<String> =
            before.iter().flat_map(|b| [b.owner_id.clone(), b.renter_id.clone()]).collect();
        // Also when nothing changed: a retry repairs an index a failed call left incomplete.
        self.index_members(booking, &former).await?;
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(booking.id), "BOOKING")))
            .update_expression("SET owner_id = :o, renter_id = :r, title = :t, updated_at = :now")
            .condition_expression(
                "attribute_exists(pk) AND (owner_id <> :o OR renter_id <> :r OR title <> :t)",
            )
            .expression_attribute_values(":o", s(&booking.owner_id))
            .expression_attribute_values(":r", s(&booking.renter_id))
            .expression_attribute_values(":t", s(&booking.title))
            .expression_attribute_values(":now", n(now_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(BookingWrite::Updated),
            Err(error) if is_conditional_failure(&error) => Ok(BookingWrite::Unchanged),
            Err(error) => Err(StoreError::database("updating a booking", error)),
        }
    }

    async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        let Some(item) = self.get(key(booking_pk(id), "BOOKING"), "reading a booking").await? else {
            return Ok(None);
        };
        booking_from(&item).map(Some)
    }

    async fn set_booking_status(
        &self,
        id: BookingId,
        from: BookingStatus,
        to: BookingStatus,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(id), "BOOKING")))
            .update_expression("SET #status = :to, updated_at = :now")
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":from", s(from.as_str()))
            .expression_attribute_values(":now", n(now_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_conditional_failure(&error) => Ok(false),
            Err(error) => Err(StoreError::database("changing a booking's status", error)),
        }
    }

    async fn put_chat_state(
        &self,
        booking_id: BookingId,
        state: &ChatState,
        expected_version: i64,
    ) -> Result<bool, StoreError> {
        const OP: &str = "writing a chat state";
        let json = serde_json::to_string(state).map_err(|e| StoreError::database(OP, e))?;
        let update = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(booking_id), "BOOKING")))
            .expression_attribute_values(":state", s(json))
            .expression_attribute_values(":next", n(expected_version + 1));
        let update = match crate::user_data::retained_from(state) {
            // The booking enters the retention index (docs/privacy.md), in the same write.
            Some(from) => update
                .update_expression(
                    "SET chat_state = :state, chat_version = :next, retained_from = :from, \
                     gsi1pk = :retain, gsi1sk = :due",
                )
                .expression_attribute_values(":from", n(from))
                .expression_attribute_values(":retain", s(crate::user_data::RETENTION_PARTITION))
                .expression_attribute_values(":due", s(retention_sk(from, booking_id))),
            None => update.update_expression(
                "SET chat_state = :state, chat_version = :next REMOVE retained_from, gsi1pk, gsi1sk",
            ),
        };
        let update = if expected_version == 0 {
            update.condition_expression("attribute_exists(pk) AND attribute_not_exists(chat_version)")
        } else {
            update
                .condition_expression("chat_version = :version")
                .expression_attribute_values(":version", n(expected_version))
        };
        match update.send().await {
            Ok(_) => Ok(true),
            Err(error) if is_conditional_failure(&error) => Ok(false),
            Err(error) => Err(StoreError::database(OP, error)),
        }
    }

    async fn message_exists(&self, booking_id: BookingId, message_id: MessageId) -> Result<bool, StoreError> {
        Ok(self
            .get(key(booking_pk(booking_id), message_sk(message_id)), "finding a message")
            .await?
            .is_some())
    }

    async fn toggle_reaction(
        &self,
        booking_id: BookingId,
        message_id: MessageId,
        user_id: &str,
        emoji: &str,
    ) -> Result<ReactionToggle, StoreError> {
        const OP: &str = "toggling a reaction";
        // The message's `changed_at` first, so a reconnecting client learns of the change: should the
        // toggle then fail, a resume only returns the message once more, unchanged.
        self.client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(booking_id), message_sk(message_id))))
            .update_expression("SET changed_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now_millis()))
            .send()
            .await
            .map_err(|e| StoreError::database(OP, e))?;
        let reaction = key(booking_pk(booking_id), reaction_sk(message_id, emoji, user_id));
        let removed = self
            .client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(reaction.clone()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| StoreError::database(OP, e))?
            .attributes
            .is_some_and(|old| !old.is_empty());
        if !removed {
            let mut item = reaction;
            item.insert("message_id".into(), n(message_id));
            item.insert("emoji".into(), s(emoji));
            item.insert("user_id".into(), s(user_id));
            item.insert("created_at".into(), n(now_millis()));
            // Present either way: when it was not written, a concurrent toggle of it added it first.
            self.put_if_absent(item, OP).await?;
        }
        let reactions =
            self.reactions(booking_id, message_id, message_id).await?.remove(&message_id).unwrap_or_default();
        Ok(ReactionToggle { added: !removed, reactions })
    }

    async fn mark_read(
        &self,
        booking_id: BookingId,
        user_id: &str,
        message_id: MessageId,
    ) -> Result<ReadPosition, StoreError> {
        const OP: &str = "recording a read receipt";
        let read = key(booking_pk(booking_id), format!("READ#{user_id}"));
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(read.clone()))
            .update_expression("SET last_read_message_id = :m, updated_at = :now")
            .condition_expression("attribute_not_exists(last_read_message_id) OR last_read_message_id < :m")
            .expression_attribute_values(":m", n(message_id))
            .expression_attribute_values(":now", n(now_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(ReadPosition { last_read_message_id: message_id, moved: true }),
            Err(error) if is_conditional_failure(&error) => {
                let item = self
                    .get(read, OP)
                    .await?
                    .ok_or_else(|| StoreError::Inconsistent("a read position vanished".into()))?;
                Ok(ReadPosition {
                    last_read_message_id: number(&item, "last_read_message_id")?,
                    moved: false,
                })
            }
            Err(error) => Err(StoreError::database(OP, error)),
        }
    }

    async fn add_presence(
        &self,
        booking_id: BookingId,
        connection: PresenceConnection<'_>,
    ) -> Result<(), StoreError> {
        let mut item = key(booking_pk(booking_id), format!("PRES#C#{}", connection.connection_id));
        item.insert("user_id".into(), s(connection.user_id));
        item.insert("expires_at".into(), n(connection.at));
        // Lapsed records still say when their member was last seen; DynamoDB removes them a month later.
        item.insert("ttl".into(), n(connection.at.div_euclid(1000) + 30 * 24 * 3600));
        self.client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::database("recording a presence", e))?;
        Ok(())
    }

    async fn remove_presence(
        &self,
        booking_id: BookingId,
        connection: PresenceConnection<'_>,
    ) -> Result<(), StoreError> {
        const OP: &str = "removing a presence";
        self.client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(booking_id), format!("PRES#C#{}", connection.connection_id))))
            .send()
            .await
            .map_err(|e| StoreError::database(OP, e))?;
        let seen = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(booking_id), format!("PRES#S#{}", connection.user_id))))
            .update_expression("SET last_seen_at = :at, user_id = :user")
            .condition_expression("attribute_not_exists(last_seen_at) OR last_seen_at < :at")
            .expression_attribute_values(":at", n(connection.at))
            .expression_attribute_values(":user", s(connection.user_id))
            .send()
            .await;
        match seen {
            Ok(_) => Ok(()),
            Err(error) if is_conditional_failure(&error) => Ok(()),
            Err(error) => Err(StoreError::database(OP, error)),
        }
    }

    async fn presence_records(&self, booking_id: BookingId) -> Result<PresenceRecords, StoreError> {
        const OP: &str = "reading presence";
        // `$` sorts right after `#`: every PRES# key is below `PRES$`.
        let items = self
            .query(booking_pk(booking_id), ("PRES#".into(), "PRES$".into()), true, None, None, OP)
            .await?;
        let mut records = PresenceRecords::default();
        for item in &items {
            let user = text(item, "user_id")?;
            if text(item, "sk")?.starts_with("PRES#C#") {
                records.connections.push((user, number(item, "expires_at")?));
            } else {
                records.last_seen.push((user, number(item, "last_seen_at")?));
            }
        }
        Ok(records)
    }

    async fn read_positions(
        &self,
        booking_id: BookingId,
    ) -> Result<Vec<chat_wire::ReadPosition>, StoreError> {
        // `$` sorts right after `#`: every READ# key is below `READ$`.
        self.query(
            booking_pk(booking_id),
            ("READ#".into(), "READ$".into()),
            true,
            None,
            None,
            "reading read positions",
        )
        .await?
        .iter()
        .map(|item| {
            let user_id = text(item, "sk")?.trim_start_matches("READ#").to_owned();
            Ok(chat_wire::ReadPosition {
                user_id,
                last_read_message_id: number(item, "last_read_message_id")?,
            })
        })
        .collect()
    }

    /// The bookings `user_id` is a member of by the inbox's index (eventually consistent), newest id
    /// first, at most `max`.
    pub(crate) async fn membership_ids(
        &self,
        user_id: &str,
        max: usize,
    ) -> Result<Vec<BookingId>, StoreError> {
        const OP: &str = "listing a user's bookings";
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(self.table())
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :user")
                .expression_attribute_values(":user", s(format!("USER#{user_id}")))
                .scan_index_forward(false)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::database(OP, e))?;
            for item in output.items() {
                ids.push(number(item, "booking_id")?);
            }
            start = output.last_evaluated_key;
            if start.is_none() || ids.len() >= max {
                break;
            }
        }
        ids.truncate(max);
        Ok(ids)
    }

    async fn bookings_of(&self, user_id: &str, limit: u32) -> Result<Vec<BookingActivity>, StoreError> {
        const OP: &str = "listing a user's bookings";
        // The index is eventually consistent (a GSI cannot be read consistently); the booking items read
        // after it are the authority, so a former member never sees a booking.
        let ids = self.membership_ids(user_id, MAX_MEMBERSHIPS_READ).await?;
        let mut bookings = Vec::new();
        for chunk in ids.chunks(100) {
            let keys: Vec<Item> = chunk.iter().map(|id| key(booking_pk(*id), "BOOKING")).collect();
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::database(OP, e))?,
            );
            let mut attempt = 0;
            while let Some(request) = pending.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(self.table(), request)
                    .send()
                    .await
                    .map_err(|e| StoreError::database(OP, e))?;
                for item in output.responses.and_then(|mut r| r.remove(self.table())).unwrap_or_default() {
                    let booking = booking_from(&item)?;
                    if booking.is_member(user_id) {
                        let active_at = number(&item, "created_at")?;
                        bookings.push(BookingActivity { booking, active_at });
                    }
                }
                pending = output.unprocessed_keys.and_then(|mut left| left.remove(self.table()));
                if pending.is_some() {
                    attempt += 1;
                    if attempt >= MAX_ATTEMPTS {
                        return Err(StoreError::Contention(OP));
                    }
                    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=10u64 << attempt.min(6))))
                        .await;
                }
            }
        }
        // A booking is as recent as its newest message (the booking item no longer moves with each one).
        let ids: Vec<BookingId> = bookings.iter().map(|b| b.booking.id).collect();
        let newest: Vec<Option<i64>> = futures_util::stream::iter(ids)
            .map(|id| self.newest_message_at(id))
            .buffered(ACTIVITY_CONCURRENCY)
            .try_collect()
            .await?;
        for (booking, newest) in bookings.iter_mut().zip(newest) {
            booking.active_at = newest.unwrap_or(booking.active_at);
        }
        bookings.sort_by_key(|b| std::cmp::Reverse((b.active_at, b.booking.id)));
        bookings.truncate(limit.min(MAX_INBOX_BOOKINGS) as usize);
        Ok(bookings)
    }

    /// When the booking's newest message was written, if it has one: one `Query` of one item, eventually
    /// consistent (an inbox's order).
    async fn newest_message_at(&self, booking_id: BookingId) -> Result<Option<i64>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :msg)")
            .expression_attribute_values(":pk", booking_pk(booking_id))
            .expression_attribute_values(":msg", s("MSG#"))
            .projection_expression("created_at")
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(|e| StoreError::database("reading a booking's newest message", e))?;
        output.items().first().map(|item| number(item, "created_at")).transpose()
    }

    async fn unread_count(
        &self,
        booking_id: BookingId,
        user_id: &str,
        after: MessageId,
        cap: u32,
    ) -> Result<u32, StoreError> {
        const OP: &str = "counting unread messages";
        let cap = cap.min(MAX_UNREAD_COUNT);
        let mut count = 0u32;
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .filter_expression("sender_id <> :me AND attribute_not_exists(deleted_at)")
                .expression_attribute_values(":pk", booking_pk(booking_id))
                .expression_attribute_values(":from", s(message_sk(after.saturating_add(1))))
                .expression_attribute_values(":to", s(message_sk(MessageId::MAX)))
                .expression_attribute_values(":me", s(user_id))
                .select(Select::Count)
                // Consistent: the count that comes with a message includes it.
                .consistent_read(true)
                // Items read before the filter: a page never reads far past the cap.
                .limit(i32::try_from(cap.saturating_sub(count).saturating_add(1)).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::database(OP, e))?;
            count = count.saturating_add(u32::try_from(output.count).unwrap_or(0));
            start = output.last_evaluated_key;
            if start.is_none() || count >= cap {
                return Ok(count.min(cap));
            }
        }
    }

    async fn count_messages(&self, booking_id: BookingId) -> Result<i64, StoreError> {
        let mut count = 0i64;
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND begins_with(sk, :msg)")
                .expression_attribute_values(":pk", booking_pk(booking_id))
                .expression_attribute_values(":msg", s("MSG#"))
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::database("counting messages", e))?;
            count += i64::from(output.count);
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(count);
            }
        }
    }

    async fn notification_settings(&self, user_id: &str) -> Result<VersionedSettings, StoreError> {
        let Some(item) = self.get(settings_key(user_id), "reading notification settings").await? else {
            return Ok(VersionedSettings { settings: NotificationSettings::default(), version: 0 });
        };
        let settings = serde_json::from_str(&text(&item, "settings")?)
            .map_err(|e| StoreError::Inconsistent(format!("notification settings of {user_id:?}: {e}")))?;
        Ok(VersionedSettings { settings, version: number(&item, "version")? })
    }

    /// One `PutItem` on the condition that the item is absent (`expected_version` 0) or still at
    /// `expected_version`; whether it wrote.
    async fn put_notification_settings(
        &self,
        user_id: &str,
        settings: &NotificationSettings,
        expected_version: i64,
    ) -> Result<bool, StoreError> {
        const OP: &str = "writing notification settings";
        let json = serde_json::to_string(settings).map_err(|e| StoreError::database(OP, e))?;
        let mut item = settings_key(user_id);
        item.insert("settings".into(), s(json));
        item.insert("version".into(), n(expected_version + 1));
        item.insert("updated_at".into(), n(now_millis()));
        let put = self.client.put_item().table_name(self.table()).set_item(Some(item));
        let put = if expected_version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :v").expression_attribute_values(":v", n(expected_version))
        };
        conditional(put.send().await, OP)
    }

    /// Decides on the claim item read consistently ([`decide_claim`]) and, when granted, writes it on
    /// the condition that it is unchanged; decides again when another notifier wrote in between.
    async fn claim_notification(&self, request: ClaimRequest<'_>) -> Result<Claim, StoreError> {
        const OP: &str = "claiming a notification";
        for _ in 0..CLAIM_ATTEMPTS {
            let current = self.notified(request.booking_id, request.user_id).await?;
            let claim = decide_claim(current, &request);
            let Claim::Claimed { previous } = claim else { return Ok(claim) };
            let claimed = Notified { through: request.through, at: request.now };
            if self.replace_notified(&request, previous, Some(claimed), OP).await? {
                return Ok(claim);
            }
        }
        Err(StoreError::Contention(OP))
    }

    async fn release_notification(
        &self,
        request: ClaimRequest<'_>,
        previous: Option<Notified>,
    ) -> Result<(), StoreError> {
        let claimed = Notified { through: request.through, at: request.now };
        self.replace_notified(&request, Some(claimed), previous, "releasing a notification").await?;
        Ok(())
    }

    /// The notification recorded for a member about a booking, read consistently.
    async fn notified(&self, booking_id: BookingId, user_id: &str) -> Result<Option<Notified>, StoreError> {
        let item = self.get(notified_key(booking_id, user_id), "reading a notification claim").await?;
        item.map(|item| Ok(Notified { through: number(&item, "through")?, at: number(&item, "at")? }))
            .transpose()
    }

    /// Replaces the claim item of `request`'s booking and member with `to` (deletes it for `None`), on the
    /// condition that it holds `from` (is absent for `None`); whether it did.
    async fn replace_notified(
        &self,
        request: &ClaimRequest<'_>,
        from: Option<Notified>,
        to: Option<Notified>,
        op: &'static str,
    ) -> Result<bool, StoreError> {
        let key = notified_key(request.booking_id, request.user_id);
        let (condition, values) = match from {
            None => ("attribute_not_exists(pk)", None),
            Some(from) => ("through = :t AND #at = :a", Some((n(from.through), n(from.at)))),
        };
        match to {
            Some(to) => {
                let mut item = key;
                item.insert("through".into(), n(to.through));
                item.insert("at".into(), n(to.at));
                let put = self
                    .client
                    .put_item()
                    .table_name(self.table())
                    .set_item(Some(item))
                    .condition_expression(condition);
                let put = match values {
                    // `at` is a reserved word of DynamoDB's expressions.
                    Some((through, at)) => put
                        .expression_attribute_names("#at", "at")
                        .expression_attribute_values(":t", through)
                        .expression_attribute_values(":a", at),
                    None => put,
                };
                conditional(put.send().await, op)
            }
            None => {
                let delete = self
                    .client
                    .delete_item()
                    .table_name(self.table())
                    .set_key(Some(key))
                    .condition_expression(condition);
                let delete = match values {
                    Some((through, at)) => delete
                        .expression_attribute_names("#at", "at")
                        .expression_attribute_values(":t", through)
                        .expression_attribute_values(":a", at),
                    None => delete,
                };
                conditional(delete.send().await, op)
            }
        }
    }

    /// With `create_table`, creates the table unless it exists; otherwise (in AWS, where the function may
    /// read and write items but not describe tables) checks that it answers a `GetItem`.
    async fn prepare(&self) -> Result<(), StoreError> {
        if !self.create_table {
            return self.ping().await;
        }
        let created = create_table(&self.client, self.table())
            .await
            .map_err(|e| StoreError::database("creating the chat table", e))?;
        if created {
            tracing::info!(table = %self.table, "created the chat table");
        }
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.get(key(s("PING"), "PING"), "pinging").await.map(drop)
    }
}

/// Creates the table as Terraform creates it, unless it exists: `pk`/`sk`, the `gsi1` index
/// (`gsi1pk`/`gsi1sk`, per user), on demand, TTL on `ttl`. For local runs and tests; in AWS, Terraform
/// owns the table. Returns whether it created it.
///
/// # Errors
/// The SDK's error.
pub async fn create_table(client: &Client, table: &str) -> Result<bool, chat_settings::tables::TableError> {
    let attribute = |name: &str| {
        AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
    };
    let key =
        |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let index = GlobalSecondaryIndex::builder()
        .index_name("gsi1")
        .key_schema(key("gsi1pk", KeyType::Hash)?)
        .key_schema(key("gsi1sk", KeyType::Range)?)
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()?;
    let create = client
        .create_table()
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk")?)
        .attribute_definitions(attribute("sk")?)
        .attribute_definitions(attribute("gsi1pk")?)
        .attribute_definitions(attribute("gsi1sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(index);
    chat_settings::tables::create_if_missing(client, table, create).await
}

/// Rate limits in the chat table, shared by every instance ([`crate::rate_limit`]): one item per user and
/// minute, `actions` counting the minute and `s{second}` each of its seconds, raised by one conditional
/// `UpdateItem` that fails when either is at its limit, removed by TTL.
#[derive(Debug, Clone)]
pub struct DynamoDbRateLimits {
    store: DynamoDbStore,
    limits: Limits,
}

impl RateLimits for DynamoDbRateLimits {
    fn try_acquire<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let windows = Windows::at(now_millis());
            let result = self
                .store
                .client
                .update_item()
                .table_name(self.store.table())
                .set_key(Some(key(s(format!("RATE#{user_id}")), format!("MINUTE#{}", windows.minute))))
                .update_expression("ADD actions :one, #second :one SET #ttl = :ttl")
                .condition_expression(
                    "(attribute_not_exists(actions) OR actions < :limit) \
                     AND (attribute_not_exists(#second) OR #second < :burst)",
                )
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_names("#second", format!("s{}", windows.second.rem_euclid(60)))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":limit", n(self.limits.per_minute))
                .expression_attribute_values(":burst", n(self.limits.burst))
                .expression_attribute_values(":ttl", n(windows.forget_after()))
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(error) if is_conditional_failure(&error) => Ok(false),
                Err(error) => Err(StoreError::database("counting an action", error)),
            }
        })
    }
}

impl ChatStore for DynamoDbStore {
    super::delegate_to_inherent!();

    fn kind(&self) -> &'static str {
        "dynamodb"
    }

    fn prepare(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(Self::prepare(self))
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    fn rate_limits(&self, limits: Limits) -> Arc<dyn RateLimits> {
        Arc::new(DynamoDbRateLimits { store: self.clone(), limits })
    }

    fn user_data(&self) -> &dyn crate::user_data::UserDataStore {
        self
    }

    fn moderation(&self) -> Arc<dyn crate::moderation::ModerationStore> {
        Arc::new(crate::dynamodb_moderation::DynamoDbModeration::new(self.client.clone(), self.table.clone()))
    }
}
