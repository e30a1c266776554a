//! [`UserDataStore`] on DynamoDB, in the chat's table: a member's items of a booking are read by key or
//! by one `Query` of their kind's sort-key range, and the bookings due for deletion by one `Query` of the
//! `gsi1` index's [`RETENTION_PARTITION`] (the booking item carries `gsi1pk`/`gsi1sk` while its chat
//! awaits deletion); never a Scan. A purge deletes the chat's items with `BatchWriteItem`, then takes the
//! booking out of the index on the condition that its retention did not start again meanwhile: a purge
//! that stopped half-way leaves the booking in the index, and the next pass finishes it.

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, ReturnValue, WriteRequest};
use chat_wire::BookingId;
use chat_wire::time::now_millis;
use futures_util::future::BoxFuture;

use crate::StoreError;
use crate::attachments::AttachmentRecord;
use crate::dynamodb::{
    DynamoDbStore, Item, attachment_from, booking_pk, conditional, key, n, notified_key, number, s,
    settings_key, text,
};
use crate::user_data::{MAX_DUE, MemberState, Purged, RETENTION_PARTITION, Removed};

/// The sort-key ranges of a chat's items that a purge deletes (the booking, its members, presence and
/// the chat state stay): messages, reactions, idempotency keys, read positions, claims, uploads.
const PURGED_KINDS: [&str; 6] = ["MSG", "REACT", "CMID", "READ", "NOTIFIED", "ATT"];

/// The sort-key range of one kind of item (`MSG#` to `MSG$`).
fn range(kind: &str) -> (String, String) {
    (format!("{kind}#"), format!("{kind}$"))
}

fn delete_request(item: &Item) -> Result<WriteRequest, StoreError> {
    let delete = DeleteRequest::builder()
        .set_key(Some(key(s(text(item, "pk")?), text(item, "sk")?)))
        .build()
        .map_err(|e| StoreError::database("deleting chat items", e))?;
    Ok(WriteRequest::builder().delete_request(delete).build())
}

impl DynamoDbStore {
    async fn uploads(
        &self,
        booking_id: BookingId,
        user_id: Option<&str>,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        const OP: &str = "reading uploads";
        let filter = user_id.map(|user| ("uploader_id = :user", vec![(":user", s(user))]));
        let items = self.query(booking_pk(booking_id), range("ATT"), true, None, filter, OP).await?;
        let mut records = items.iter().map(attachment_from).collect::<Result<Vec<_>, _>>()?;
        records.sort_by(|a, b| (a.created_at, &a.attachment.id).cmp(&(b.created_at, &b.attachment.id)));
        Ok(records)
    }

    /// The booking's live-connection items of `user_id`.
    async fn connections_of(&self, booking_id: BookingId, user_id: &str) -> Result<Vec<Item>, StoreError> {
        let filter = Some(("user_id = :user", vec![(":user", s(user_id))]));
        let range = ("PRES#C#".to_owned(), "PRES#C$".to_owned());
        self.query(booking_pk(booking_id), range, true, None, filter, "reading a member's connections").await
    }

    async fn member_of(&self, user_id: &str) -> Result<Vec<BookingId>, StoreError> {
        self.membership_ids(user_id, usize::MAX).await
    }

    async fn member_state_of(&self, booking_id: BookingId, user_id: &str) -> Result<MemberState, StoreError> {
        const OP: &str = "reading a member's state";
        let pk = booking_pk(booking_id);
        let (read, seen, notified, connections) = tokio::try_join!(
            self.get(key(pk.clone(), format!("READ#{user_id}")), OP),
            self.get(key(pk.clone(), format!("PRES#S#{user_id}")), OP),
            self.get(notified_key(booking_id, user_id), OP),
            self.connections_of(booking_id, user_id),
        )?;
        let field = |item: Option<Item>, name: &str| item.map(|item| number(&item, name)).transpose();
        Ok(MemberState {
            last_read_message_id: field(read, "last_read_message_id")?,
            last_seen_at: field(seen, "last_seen_at")?,
            open_connections: u32::try_from(connections.len()).unwrap_or(u32::MAX),
            notified_through: field(notified, "through")?,
        })
    }

    async fn forget_member_records(
        &self,
        booking_id: BookingId,
        user_id: &str,
    ) -> Result<Removed, StoreError> {
        const OP: &str = "forgetting a member's state";
        let pk = booking_pk(booking_id);
        let mut items = vec![
            key(pk.clone(), format!("READ#{user_id}")),
            key(pk.clone(), format!("PRES#S#{user_id}")),
            notified_key(booking_id, user_id),
        ];
        items.extend(self.connections_of(booking_id, user_id).await?);
        let mut records = 0;
        // One DeleteItem each, returning the old item: the report counts what existed.
        for item in items {
            let old = self
                .client
                .delete_item()
                .table_name(self.table())
                .key("pk", s(text(&item, "pk")?))
                .key("sk", s(text(&item, "sk")?))
                .return_values(ReturnValue::AllOld)
                .send()
                .await
                .map_err(|e| StoreError::database(OP, e))?;
            records += u64::from(old.attributes.is_some());
        }
        Ok(Removed { records })
    }

    async fn forget_settings_record(&self, user_id: &str) -> Result<bool, StoreError> {
        let old = self
            .client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(settings_key(user_id)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| StoreError::database("forgetting notification settings", e))?;
        Ok(old.attributes.is_some())
    }

    async fn due(&self, cutoff: i64, limit: u32) -> Result<Vec<BookingId>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(self.table())
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :retain AND gsi1sk < :cutoff")
            .expression_attribute_values(":retain", s(RETENTION_PARTITION))
            .expression_attribute_values(":cutoff", s(format!("{cutoff:020}")))
            .limit(i32::try_from(limit.min(MAX_DUE)).unwrap_or(1))
            .send()
            .await
            .map_err(|e| StoreError::database("finding chats due for deletion", e))?;
        output.items.unwrap_or_default().iter().map(|item| number(item, "id")).collect()
    }

    async fn purge(&self, booking_id: BookingId, cutoff: i64) -> Result<Option<Purged>, StoreError> {
        const OP: &str = "deleting a chat past its retention";
        let Some(booking) = self.get(key(booking_pk(booking_id), "BOOKING"), OP).await? else {
            return Ok(None);
        };
        let from = match booking.get("retained_from") {
            Some(AttributeValue::N(_)) => number(&booking, "retained_from")?,
            _ => return Ok(None),
        };
        if from >= cutoff {
            return Ok(None);
        }
        let mut purged = Purged::default();
        for kind in PURGED_KINDS {
            let items = self.query(booking_pk(booking_id), range(kind), true, None, None, OP).await?;
            let count = u64::try_from(items.len()).unwrap_or(u64::MAX);
            if kind == "MSG" {
                self.keep_floor(booking_id, &items).await?;
                purged.messages = count;
            } else {
                purged.records += count;
            }
            self.write_batch(items.iter().map(delete_request).collect::<Result<_, _>>()?, OP).await?;
        }
        let leave = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(booking_id), "BOOKING")))
            .update_expression("SET purged_at = :now REMOVE retained_from, gsi1pk, gsi1sk")
            .condition_expression("retained_from = :from")
            .expression_attribute_values(":now", n(now_millis()))
            .expression_attribute_values(":from", n(from))
            .send()
            .await;
        // A reopening since moved the start: the booking stays in the index for its new period.
        conditional(leave, OP)?;
        Ok(Some(purged))
    }

    /// Before a purge deletes `messages`, raises the booking's `last_message_id` to the newest of them:
    /// the next message's id comes from the newest message item, or from this floor when there is none,
    /// so a chat reopened after its purge never reuses an id.
    async fn keep_floor(&self, booking_id: BookingId, messages: &[Item]) -> Result<(), StoreError> {
        const OP: &str = "keeping a purged chat's newest message id";
        let Some(newest) =
            messages.iter().map(|item| number(item, "id")).collect::<Result<Vec<_>, _>>()?.into_iter().max()
        else {
            return Ok(());
        };
        let raise = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(booking_pk(booking_id), "BOOKING")))
            .update_expression("SET last_message_id = :newest")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(last_message_id) OR last_message_id < :newest)",
            )
            .expression_attribute_values(":newest", n(newest))
            .send()
            .await;
        // Already as high: nothing to raise.
        conditional(raise, OP).map(drop)
    }
}

crate::user_data::delegate_user_data_store!(DynamoDbStore);
