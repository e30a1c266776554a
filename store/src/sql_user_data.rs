//! [`UserDataStore`] on SQLite and PostgreSQL: a user's state in a booking, their settings, and the
//! retention job's reads and deletes, in the common dialect of [`SqlStore`]. A chat is purged in one
//! transaction that first takes it out of the retention index, on the condition that it is still due, so
//! of two jobs racing one deletes and the other finds nothing to do.

use chat_wire::{BookingId, MessageId};
use futures_util::future::BoxFuture;
use sqlx::Row;

use crate::StoreError;
use crate::attachments::AttachmentRecord;
use crate::sql::{ATTACHMENT_COLUMNS, Context, SqlStore, attachment_from_row};
use crate::user_data::{MAX_DUE, MemberState, Purged, Removed};

/// The tables a purge empties of one booking's rows, children before parents (reactions name messages).
const PURGED_TABLES: [&str; 4] = ["reactions", "read_receipts", "notification_claims", "attachments"];

impl SqlStore {
    async fn uploads(
        &self,
        booking_id: BookingId,
        user_id: Option<&str>,
    ) -> Result<Vec<AttachmentRecord>, StoreError> {
        const OP: &str = "reading uploads";
        let by_user = if user_id.is_some() { " AND uploader_id = $2" } else { "" };
        let sql = format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE booking_id = $1{by_user} ORDER BY created_at, id"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(booking_id);
        if let Some(user_id) = user_id {
            query = query.bind(user_id);
        }
        let rows = query.fetch_all(&self.pool).await.context(OP)?;
        rows.iter().map(attachment_from_row).collect()
    }

    async fn member_of(&self, user_id: &str) -> Result<Vec<BookingId>, StoreError> {
        const OP: &str = "listing a member's bookings";
        let rows = sqlx::query("SELECT id FROM bookings WHERE owner_id = $1 OR renter_id = $1 ORDER BY id")
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .context(OP)?;
        rows.iter().map(|row| row.try_get("id").context(OP)).collect()
    }

    async fn member_state_of(&self, booking_id: BookingId, user_id: &str) -> Result<MemberState, StoreError> {
        const OP: &str = "reading a member's state";
        let row = sqlx::query(
            "SELECT \
               (SELECT last_read_message_id FROM read_receipts WHERE booking_id = $1 AND user_id = $2) AS read, \
               (SELECT last_seen_at FROM last_seen WHERE booking_id = $1 AND user_id = $2) AS seen, \
               (SELECT COUNT(*) FROM presence_connections WHERE booking_id = $1 AND user_id = $2) AS open, \
               (SELECT through_message_id FROM notification_claims WHERE booking_id = $1 AND user_id = $2) \
                 AS notified",
        )
        .bind(booking_id)
        .bind(user_id)
        .fetch_one(&self.pool)
        .await
        .context(OP)?;
        let open: i64 = row.try_get("open").context(OP)?;
        Ok(MemberState {
            last_read_message_id: row.try_get::<Option<MessageId>, _>("read").context(OP)?,
            last_seen_at: row.try_get("seen").context(OP)?,
            open_connections: u32::try_from(open).unwrap_or(u32::MAX),
            notified_through: row.try_get("notified").context(OP)?,
        })
    }

    async fn forget_member_records(
        &self,
        booking_id: BookingId,
        user_id: &str,
    ) -> Result<Removed, StoreError> {
        const OP: &str = "forgetting a member's state";
        let mut tx = self.begin_write().await.context(OP)?;
        let mut records = 0;
        for table in ["read_receipts", "last_seen", "presence_connections", "notification_claims"] {
            let sql = format!("DELETE FROM {table} WHERE booking_id = $1 AND user_id = $2");
            let done = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(booking_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await
                .context(OP)?;
            records += done.rows_affected();
        }
        tx.commit().await.context(OP)?;
        Ok(Removed { records })
    }

    async fn forget_settings_record(&self, user_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM notification_settings WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .context("forgetting notification settings")?;
        Ok(done.rows_affected() > 0)
    }

    async fn due(&self, cutoff: i64, limit: u32) -> Result<Vec<BookingId>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM bookings WHERE retained_from IS NOT NULL AND retained_from < $1 \
             ORDER BY retained_from, id LIMIT $2",
        )
        .bind(cutoff)
        .bind(i64::from(limit.min(MAX_DUE)))
        .fetch_all(&self.pool)
        .await
        .context("finding chats due for deletion")?;
        rows.iter().map(|row| row.try_get("id").context("finding chats due for deletion")).collect()
    }

    async fn purge(&self, booking_id: BookingId, cutoff: i64) -> Result<Option<Purged>, StoreError> {
        const OP: &str = "deleting a chat past its retention";
        let mut tx = self.begin_write().await.context(OP)?;
        // First, so the booking row's lock orders this purge after any message insert in progress.
        let due = sqlx::query(
            "UPDATE bookings SET retained_from = NULL, purged_at = $1 \
             WHERE id = $2 AND retained_from IS NOT NULL AND retained_from < $3",
        )
        .bind(chat_wire::time::now_millis())
        .bind(booking_id)
        .bind(cutoff)
        .execute(&mut *tx)
        .await
        .context(OP)?;
        if due.rows_affected() == 0 {
            return Ok(None);
        }
        let mut purged = Purged::default();
        for table in PURGED_TABLES {
            let sql = format!("DELETE FROM {table} WHERE booking_id = $1");
            let done =
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(booking_id).execute(&mut *tx).await.context(OP)?;
            purged.records += done.rows_affected();
        }
        let done = sqlx::query("DELETE FROM messages WHERE booking_id = $1")
            .bind(booking_id)
            .execute(&mut *tx)
            .await
            .context(OP)?;
        purged.messages = done.rows_affected();
        tx.commit().await.context(OP)?;
        Ok(Some(purged))
    }
}

crate::user_data::delegate_user_data_store!(SqlStore);
