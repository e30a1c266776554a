//! How the DynamoDB adapter stores a message: at most three write units, no transaction unless the
//! message carries files.
//!
//! - **Ids in commit order, without gaps.** The message item itself is the counter: message n+1 is one
//!   `PutItem` of `MSG#{n+1}` on the condition that the key is free, by a writer that read message n
//!   (consistently). So n+1 commits only after n, and a writer that lost the race reads what committed
//!   and takes the next key. The booking item keeps `last_message_id` only as a floor (written before
//!   issue 27, and by a retention purge, which deletes the messages): ids never go back below it.
//! - **A `client_message_id` is stored once, whatever retries race.** Before its first write the sender
//!   reserves the key (`CMID#…`, one small `PutItem` on the condition that it is new), noting the newest
//!   message id it read (`after`). Every message with that key lies above `after`, and every writer of it
//!   (the first attempt, or a retry that found the reservation) reads every message committed between
//!   `after` and the key it takes, looking for the same sender and key, before its write can succeed.
//!   Two writers cannot both commit: the second to commit took a key above the first's message, so it
//!   read that message first. A writer that stopped between the reservation and the message leaves a
//!   reservation whose retry writes the message. Reservations written before issue 27 name their
//!   `message_id` and are read directly.
//! - **Files** are claimed in the same transaction as the message (one conditional `Update` per file),
//!   so a file is on one message whatever races; only such messages pay a transaction's double units.
//!
//! Per message without files: the rate-limit counter (1 write unit), the reservation (1, with a
//! `client_message_id`), the message (1 per KB), and one consistent `Query` of the newest message.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chat_wire::time::now_millis;
use chat_wire::{BookingId, MessageId};

use super::{NewMessage, StoreError, StoredMessage};
use crate::dynamodb::{DynamoDbStore, Item, MAX_ATTEMPTS, booking_pk, key, message_sk, n, number, s};

const OP: &str = "storing a message";

/// The reservation of a sender's `client_message_id` in a booking.
pub(crate) fn idempotency_sk(sender: &str, client_message_id: &str) -> String {
    format!("CMID#{}#{sender}#{client_message_id}", sender.len())
}

/// What reserving a `client_message_id` found.
enum Reservation {
    /// It is new: this call reserved it.
    Made,
    /// An earlier attempt reserved it after reading message `after`; its message, if written, is above.
    Earlier { after: MessageId },
    /// Written before issue 27, with its message's id.
    Legacy { message_id: MessageId },
}

/// What one attempt to write the message at a key did.
enum Written {
    Stored,
    /// The key is another message's: someone committed first.
    Taken,
    /// The message's file at this index is not the sender's to send (not ready, claimed).
    Unavailable(usize),
}

impl DynamoDbStore {
    /// Stores `new` as its booking's next message, or finds the message of an earlier attempt with the same
    /// `client_message_id`.
    pub(crate) async fn store_message(&self, new: NewMessage<'_>) -> Result<StoredMessage, StoreError> {
        let mut last = self.newest_message_id(new.booking_id).await?;
        if let Some(cmid) = new.client_message_id {
            match self.reserve(&new, cmid, last).await? {
                Reservation::Made => {}
                Reservation::Legacy { message_id } => return self.retried(new.booking_id, message_id).await,
                Reservation::Earlier { after } => match self.same_key_since(&new, cmid, after).await? {
                    Ok(found) => return self.retried(new.booking_id, found).await,
                    Err(newest) => last = last.max(newest),
                },
            }
        }
        for attempt in 0..MAX_ATTEMPTS {
            let now = now_millis();
            match self.write(&new, last + 1, now).await? {
                Written::Stored => {
                    return Ok(StoredMessage { message: new.stored(last + 1, now), inserted: true });
                }
                Written::Unavailable(index) => {
                    let id = new.attachments.get(index).map(|a| a.id.clone()).unwrap_or_default();
                    return Err(StoreError::AttachmentUnavailable(id));
                }
                Written::Taken => {}
            }
            // Someone committed first: what did they commit?
            last = match new.client_message_id {
                Some(cmid) => match self.same_key_since(&new, cmid, last).await? {
                    Ok(found) => return self.retried(new.booking_id, found).await,
                    Err(newest) => newest,
                },
                None => self.newest_message_id(new.booking_id).await?,
            };
            // Full jitter, growing slowly: a busy booking's senders spread out.
            let cap = 5u64 * u64::from(attempt.min(10) + 1);
            tokio::time::sleep(std::time::Duration::from_millis(fastrand::u64(0..=cap))).await;
        }
        Err(StoreError::Contention(OP))
    }

    /// The booking's newest message id (consistent): its newest message item, or the booking's floor when
    /// it has none (a new chat, or one a retention purge emptied).
    async fn newest_message_id(&self, booking_id: BookingId) -> Result<MessageId, StoreError> {
        let pk = booking_pk(booking_id);
        let newest = self.query(pk.clone(), message_range(0), false, Some(1), None, OP).await?;
        if let Some(item) = newest.first() {
            return number(item, "id");
        }
        let booking = self.get(key(pk, "BOOKING"), OP).await?;
        Ok(booking.and_then(|item| number(&item, "last_message_id").ok()).unwrap_or(0))
    }

    /// Reserves the sender's `client_message_id`, noting `after`, the newest message id read before it.
    async fn reserve(
        &self,
        new: &NewMessage<'_>,
        cmid: &str,
        after: MessageId,
    ) -> Result<Reservation, StoreError> {
        let reservation = key(booking_pk(new.booking_id), idempotency_sk(new.sender_id, cmid));
        let mut item = reservation.clone();
        item.insert("after".into(), n(after));
        item.insert("created_at".into(), n(now_millis()));
        if self.put_if_absent(item, OP).await? {
            return Ok(Reservation::Made);
        }
        let earlier = self
            .get(reservation, OP)
            .await?
            .ok_or_else(|| StoreError::Inconsistent("an idempotency key vanished".into()))?;
        match earlier.get("message_id") {
            Some(AttributeValue::N(_)) => {
                Ok(Reservation::Legacy { message_id: number(&earlier, "message_id")? })
            }
            _ => Ok(Reservation::Earlier { after: number(&earlier, "after")? }),
        }
    }

    /// Every message committed above `after` (consistent), looking for the sender's `cmid`: its id when
    /// found, else (`Err`) the newest id read.
    async fn same_key_since(
        &self,
        new: &NewMessage<'_>,
        cmid: &str,
        after: MessageId,
    ) -> Result<Result<MessageId, MessageId>, StoreError> {
        let since =
            self.query(booking_pk(new.booking_id), message_range(after + 1), true, None, None, OP).await?;
        let mut newest = after;
        for item in &since {
            let id = number(item, "id")?;
            let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str);
            if text("sender_id") == Some(new.sender_id) && text("client_message_id") == Some(cmid) {
                return Ok(Ok(id));
            }
            newest = newest.max(id);
        }
        Ok(Err(newest))
    }

    /// Writes the message at `id` on the condition that the key is free: one `PutItem`, or, with files, a
    /// transaction with their claims.
    async fn write(&self, new: &NewMessage<'_>, id: MessageId, now: i64) -> Result<Written, StoreError> {
        let item = message_item(new, id, now);
        if !new.attachments.is_empty() {
            return self.write_with_claims(new, item, id).await;
        }
        Ok(if self.put_if_absent(item, OP).await? { Written::Stored } else { Written::Taken })
    }

    async fn write_with_claims(
        &self,
        new: &NewMessage<'_>,
        item: Item,
        id: MessageId,
    ) -> Result<Written, StoreError> {
        let put = Put::builder()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::database(OP, e))?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        for attachment in new.attachments {
            items.push(self.claim(new, attachment, id).map_err(|e| StoreError::database(OP, e))?);
        }
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Written::Stored),
            Err(error) => cancelled(&error).ok_or_else(|| StoreError::database(OP, error)),
        }
    }

    /// The message an earlier attempt stored.
    async fn retried(&self, booking_id: BookingId, id: MessageId) -> Result<StoredMessage, StoreError> {
        let message = self.message(booking_id, id).await?.ok_or_else(|| {
            StoreError::Inconsistent(format!("message {id} of an idempotency key is missing"))
        })?;
        Ok(StoredMessage { message, inserted: false })
    }
}

/// Why a message's transaction with its files' claims was cancelled; `None` for any other error.
fn cancelled(error: &SdkError<TransactWriteItemsError, HttpResponse>) -> Option<Written> {
    // A server error after the SDK's own retries (DynamoDB's InternalServerError; moto under concurrent
    // transactions): nothing was written, and the next attempt reads afresh.
    if error.raw_response().is_some_and(|r| r.status().is_server_error()) {
        return Some(Written::Taken);
    }
    let TransactWriteItemsError::TransactionCanceledException(cancelled) = error.as_service_error()? else {
        return None;
    };
    let reasons = cancelled.cancellation_reasons();
    let failed = |index: usize| reasons.get(index).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
    // The key first: a retry's files were claimed by its first attempt's message. Then the claims; else a
    // conflicting transaction on one of the items: try again.
    if failed(0) {
        return Some(Written::Taken);
    }
    Some(
        (1..reasons.len())
            .find(|i| failed(*i))
            .map_or(Written::Taken, |index| Written::Unavailable(index - 1)),
    )
}

/// The sort-key range of the messages from `first` on.
fn message_range(first: MessageId) -> (String, String) {
    (message_sk(first.max(0)), message_sk(MessageId::MAX))
}

fn message_item(new: &NewMessage<'_>, id: MessageId, now: i64) -> Item {
    let mut item = key(booking_pk(new.booking_id), message_sk(id));
    item.insert("id".into(), n(id));
    item.insert("booking_id".into(), n(new.booking_id));
    item.insert("sender_id".into(), s(new.sender_id));
    item.insert("body".into(), s(new.body));
    // What search filters on ([`DynamoDbStore::search`]).
    item.insert("norm".into(), s(new.body.to_lowercase()));
    item.insert("created_at".into(), n(now));
    item.insert("changed_at".into(), n(now));
    if let Some(cmid) = new.client_message_id {
        item.insert("client_message_id".into(), s(cmid));
    }
    if let Some(attachments) = crate::attachments::to_json(new.attachments) {
        item.insert("att".into(), s(attachments));
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_range_starts_at_its_first_id_and_never_below_zero() {
        assert_eq!(message_range(7).0, message_sk(7));
        assert_eq!(message_range(-3).0, message_sk(0));
        assert_eq!(message_range(7).1, message_sk(MessageId::MAX));
    }
}
