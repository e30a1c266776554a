//! The [`ChatStore`] adapter for SQLite and PostgreSQL.
//!
//! One set of queries serves both databases through sqlx's `Any` driver: every query is written in the
//! common dialect (`$N` parameters, `ON CONFLICT`, `RETURNING`), and only the schema migrations differ
//! (`migrations/sqlite`, `migrations/postgres`, embedded in the binary). Timestamps are epoch milliseconds.
//!
//! Ordering matters for resume-after-reconnect: [`SqlStore::insert_message`] first updates the booking's
//! row, which takes that row's write lock in both databases, so two messages of one booking can never commit
//! out of id order and `after_message_id` never skips one.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use chat_wire::time::now_millis;
use chat_wire::{BookingId, ChatMessage, MessageId, ReactionSummary};
use futures_util::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, Row, SqlSafeStr};

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
use crate::search::{Search, SearchHit, SearchPage};

/// Which database a [`ChatStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// A SQLite file (the local default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

pub(crate) trait Context<T> {
    fn context(self, operation: &'static str) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn context(self, operation: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::database(operation, source))
    }
}

/// The chat on SQLite or PostgreSQL. Cheap to clone: it holds a connection pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    kind: DatabaseKind,
}

const MESSAGE_COLUMNS: &str = "id, booking_id, sender_id, body, client_message_id, created_at, edited_at, \
     deleted_at, hidden_reason, hidden_at, attachments";

pub(crate) const ATTACHMENT_COLUMNS: &str =
    "id, booking_id, uploader_id, status, description, message_id, created_at";

/// The conditions of an edit or a delete (after `SET`, whose parameters come first): the message of this
/// booking, sent by the caller within the window, not deleted.
const OWN_MESSAGE: &str =
    "WHERE id = $3 AND booking_id = $4 AND sender_id = $5 AND created_at >= $6 AND deleted_at IS NULL";

/// The migrations embedded for each database (the migrator applies them in version order); an applied one
/// must never change.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "edit delete",
        include_str!("../migrations/sqlite/0002_edit_delete.sql"),
        include_str!("../migrations/postgres/0002_edit_delete.sql"),
    ),
    (
        3,
        "inbox",
        include_str!("../migrations/sqlite/0003_inbox.sql"),
        include_str!("../migrations/postgres/0003_inbox.sql"),
    ),
    (
        4,
        "presence",
        include_str!("../migrations/sqlite/0004_presence.sql"),
        include_str!("../migrations/postgres/0004_presence.sql"),
    ),
    (
        5,
        "resume and shared rate limits",
        include_str!("../migrations/sqlite/0005_resume.sql"),
        include_str!("../migrations/postgres/0005_resume.sql"),
    ),
    (
        6,
        "notifications",
        include_str!("../migrations/sqlite/0006_notifications.sql"),
        include_str!("../migrations/postgres/0006_notifications.sql"),
    ),
    (
        7,
        "chat state",
        include_str!("../migrations/sqlite/0007_chat_state.sql"),
        include_str!("../migrations/postgres/0007_chat_state.sql"),
    ),
    (
        8,
        "moderation",
        include_str!("../migrations/sqlite/0008_moderation.sql"),
        include_str!("../migrations/postgres/0008_moderation.sql"),
    ),
    (
        9,
        "attachments",
        include_str!("../migrations/sqlite/0009_attachments.sql"),
        include_str!("../migrations/postgres/0009_attachments.sql"),
    ),
    (
        10,
        "search",
        include_str!("../migrations/sqlite/0010_search.sql"),
        include_str!("../migrations/postgres/0010_search.sql"),
    ),
    (
        11,
        "retention",
        include_str!("../migrations/sqlite/0011_retention.sql"),
        include_str!("../migrations/postgres/0011_retention.sql"),
    ),
];

/// How often a claim is decided again when another notifier changed the record between its read and its
/// write: each lost race means another claim was recorded, so the next decision is almost always final.
const CLAIM_ATTEMPTS: u32 = 8;

impl SqlStore {
    /// A transaction that writes: on SQLite `BEGIN IMMEDIATE`, which takes the write lock first (waiting
    /// for it as the busy timeout allows), so the transaction's snapshot cannot go stale before its first
    /// write, which SQLite reports as "database is locked" at once, whatever the timeout; on PostgreSQL an
    /// ordinary transaction.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.kind {
            DatabaseKind::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            DatabaseKind::Postgres => self.pool.begin().await,
        }
    }

    /// Connects to `url` (`sqlite:` or `postgres://`). A SQLite file and its directory are created when
    /// missing, and the file is switched to WAL.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the database cannot be reached or opened.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (kind, url) = if url.starts_with("sqlite:") {
            (DatabaseKind::Sqlite, prepare_sqlite_url(url)?)
        } else {
            (DatabaseKind::Postgres, url.to_owned())
        };
        let mut options = AnyPoolOptions::new().max_connections(max_connections);
        if kind == DatabaseKind::Sqlite {
            // WAL makes `synchronous = NORMAL` durable against application crashes; it is per connection.
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    Ok(())
                })
            });
        }
        // A database that does not answer fails the start within seconds, naming where it was looked for.
        let pool = options.acquire_timeout(CONNECT_TIMEOUT).connect(&url).await.map_err(|e| {
            StoreError::database("connecting", format!("{}: {e}", describe_target(kind, &url)))
        })?;
        if kind == DatabaseKind::Sqlite {
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
                .fetch_one(&pool)
                .await
                .context("enabling WAL")?;
            if !mode.eq_ignore_ascii_case("wal") {
                tracing::warn!(journal_mode = %mode, "SQLite did not switch to WAL");
            }
        }
        Ok(Self { pool, kind })
    }

    /// Brings the schema up to date with the migrations embedded for this database.
    ///
    /// # Errors
    /// [`StoreError::Migrate`] when a migration fails or the applied ones were changed.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrations = MIGRATIONS
            .iter()
            .map(|(version, description, sqlite, postgres)| {
                let sql = match self.kind {
                    DatabaseKind::Sqlite => sqlite,
                    DatabaseKind::Postgres => postgres,
                };
                Migration::new(
                    *version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect();
        let migrator = Migrator::with_migrations(migrations);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// [`StoreError::Database`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await.context("pinging")?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Inserts a booking unless one with its id exists.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn insert_booking_if_absent(&self, booking: &Booking) -> Result<bool, StoreError> {
        let now = now_millis();
        let done = sqlx::query(
            "INSERT INTO bookings (id, owner_id, renter_id, title, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING",
        )
        .bind(booking.id)
        .bind(&booking.owner_id)
        .bind(&booking.renter_id)
        .bind(&booking.title)
        .bind(booking.status.as_str())
        .bind(now)
        .execute(&self.pool)
        .await
        .context("inserting a booking")?;
        Ok(done.rows_affected() == 1)
    }

    /// Creates a booking, or updates its owner, renter and title.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn put_booking(&self, booking: &Booking) -> Result<BookingWrite, StoreError> {
        if self.insert_booking_if_absent(booking).await? {
            return Ok(BookingWrite::Created);
        }
        let done = sqlx::query(
            "UPDATE bookings SET owner_id = $1, renter_id = $2, title = $3, updated_at = $4 \
             WHERE id = $5 AND (owner_id <> $1 OR renter_id <> $2 OR title <> $3)",
        )
        .bind(&booking.owner_id)
        .bind(&booking.renter_id)
        .bind(&booking.title)
        .bind(now_millis())
        .bind(booking.id)
        .execute(&self.pool)
        .await
        .context("updating a booking")?;
        Ok(if done.rows_affected() == 1 { BookingWrite::Updated } else { BookingWrite::Unchanged })
    }

    /// The booking with this id.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Inconsistent`] for an unknown stored status.
    pub async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        let row = sqlx::query("SELECT id, owner_id, renter_id, title, status, chat_state, chat_version FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("reading a booking")?;
        row.as_ref().map(booking_from_row).transpose()
    }

    /// Replaces the chat state of a booking if its version is still `expected_version`; whether it wrote
    /// (false also for an unknown booking).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn put_chat_state(
        &self,
        booking_id: BookingId,
        state: &ChatState,
        expected_version: i64,
    ) -> Result<bool, StoreError> {
        const OP: &str = "writing a chat state";
        let json = serde_json::to_string(state).map_err(|e| StoreError::database(OP, e))?;
        let written = sqlx::query(
            "UPDATE bookings SET chat_state = $1, chat_version = $2 + 1, retained_from = $4 \
             WHERE id = $3 AND chat_version = $2",
        )
        .bind(json)
        .bind(expected_version)
        .bind(booking_id)
        .bind(crate::user_data::retained_from(state))
        .execute(&self.pool)
        .await
        .context(OP)?;
        Ok(written.rows_affected() == 1)
    }

    /// Records a live connection of a member, or moves its expiry; first prunes the booking's connections
    /// that lapsed without a disconnect (their token expired), keeping when their member was last seen.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn add_presence(
        &self,
        booking_id: BookingId,
        connection: PresenceConnection<'_>,
    ) -> Result<(), StoreError> {
        const OP: &str = "recording a presence";
        let mut tx = self.begin_write().await.context(OP)?;
        let now = now_millis();
        // `WHERE` before `GROUP BY` lets SQLite parse the upsert of an INSERT ... SELECT.
        sqlx::query(
            "INSERT INTO last_seen (booking_id, user_id, last_seen_at) \
             SELECT booking_id, user_id, MAX(expires_at) FROM presence_connections \
             WHERE booking_id = $1 AND expires_at <= $2 GROUP BY booking_id, user_id \
             ON CONFLICT (booking_id, user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at \
             WHERE last_seen.last_seen_at < excluded.last_seen_at",
        )
        .bind(booking_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context(OP)?;
        sqlx::query("DELETE FROM presence_connections WHERE booking_id = $1 AND expires_at <= $2")
            .bind(booking_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context(OP)?;
        sqlx::query(
            "INSERT INTO presence_connections (booking_id, connection_id, user_id, expires_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (booking_id, connection_id) DO UPDATE SET expires_at = excluded.expires_at",
        )
        .bind(booking_id)
        .bind(connection.connection_id)
        .bind(connection.user_id)
        .bind(connection.at)
        .execute(&mut *tx)
        .await
        .context(OP)?;
        tx.commit().await.context(OP)?;
        Ok(())
    }

    /// Forgets a closed connection and moves its member's last-seen time forward, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn remove_presence(
        &self,
        booking_id: BookingId,
        connection: PresenceConnection<'_>,
    ) -> Result<(), StoreError> {
        const OP: &str = "removing a presence";
        let mut tx = self.begin_write().await.context(OP)?;
        sqlx::query("DELETE FROM presence_connections WHERE booking_id = $1 AND connection_id = $2")
            .bind(booking_id)
            .bind(connection.connection_id)
            .execute(&mut *tx)
            .await
            .context(OP)?;
        sqlx::query(
            "INSERT INTO last_seen (booking_id, user_id, last_seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (booking_id, user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at \
             WHERE last_seen.last_seen_at < excluded.last_seen_at",
        )
        .bind(booking_id)
        .bind(connection.user_id)
        .bind(connection.at)
        .execute(&mut *tx)
        .await
        .context(OP)?;
        tx.commit().await.context(OP)?;
        Ok(())
    }

    /// The booking's presence records.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn presence_records(&self, booking_id: BookingId) -> Result<PresenceRecords, StoreError> {
        const OP: &str = "reading presence";
        let connections =
            sqlx::query("SELECT user_id, expires_at FROM presence_connections WHERE booking_id = $1")
                .bind(booking_id)
                .fetch_all(&self.pool)
                .await
                .context(OP)?
                .iter()
                .map(|row| Ok((row.try_get("user_id").context(OP)?, row.try_get("expires_at").context(OP)?)))
                .collect::<Result<_, StoreError>>()?;
        let last_seen = sqlx::query("SELECT user_id, last_seen_at FROM last_seen WHERE booking_id = $1")
            .bind(booking_id)
            .fetch_all(&self.pool)
            .await
            .context(OP)?
            .iter()
            .map(|row| Ok((row.try_get("user_id").context(OP)?, row.try_get("last_seen_at").context(OP)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(PresenceRecords { connections, last_seen })
    }

    /// Every member's read position in a booking.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn read_positions(
        &self,
        booking_id: BookingId,
    ) -> Result<Vec<chat_wire::ReadPosition>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, last_read_message_id FROM read_receipts WHERE booking_id = $1 ORDER BY user_id",
        )
        .bind(booking_id)
        .fetch_all(&self.pool)
        .await
        .context("reading read positions")?;
        rows.iter()
            .map(|row| {
                Ok(chat_wire::ReadPosition {
                    user_id: row.try_get("user_id").context("reading read positions")?,
                    last_read_message_id: row
                        .try_get("last_read_message_id")
                        .context("reading read positions")?,
                })
            })
            .collect()
    }

    /// The bookings a user owns or rents, most recently active first.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Inconsistent`] for an unknown stored status.
    pub async fn bookings_of(&self, user_id: &str, limit: u32) -> Result<Vec<BookingActivity>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, owner_id, renter_id, title, status, chat_state, chat_version, \
             COALESCE(last_message_at, created_at) AS active_at \
             FROM bookings WHERE owner_id = $1 OR renter_id = $1 ORDER BY active_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(i64::from(limit.min(MAX_INBOX_BOOKINGS)))
        .fetch_all(&self.pool)
        .await
        .context("listing a user's bookings")?;
        rows.iter()
            .map(|row| {
                Ok(BookingActivity {
                    booking: booking_from_row(row)?,
                    active_at: row.try_get("active_at").context("listing a user's bookings")?,
                })
            })
            .collect()
    }

    /// How many messages after `after` others than `user_id` sent and did not delete, counted up to `cap`
    /// (at most [`MAX_UNREAD_COUNT`]).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn unread_count(
        &self,
        booking_id: BookingId,
        user_id: &str,
        after: MessageId,
        cap: u32,
    ) -> Result<u32, StoreError> {
        let cap = cap.min(MAX_UNREAD_COUNT);
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM messages \
             WHERE booking_id = $1 AND id > $2 AND sender_id <> $3 AND deleted_at IS NULL LIMIT $4) AS unread",
        )
        .bind(booking_id)
        .bind(after)
        .bind(user_id)
        .bind(i64::from(cap))
        .fetch_one(&self.pool)
        .await
        .context("counting unread messages")?;
        Ok(u32::try_from(count).unwrap_or(cap))
    }

    /// Moves a booking from `from` to `to`, only if it is still in `from` (compare and set).
    /// Returns whether it moved.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn set_booking_status(
        &self,
        id: BookingId,
        from: BookingStatus,
        to: BookingStatus,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE bookings SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
                .bind(to.as_str())
                .bind(now_millis())
                .bind(id)
                .bind(from.as_str())
                .execute(&self.pool)
                .await
                .context("changing a booking's status")?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a message, or, when the sender already stored one with the same `client_message_id` in this
    /// booking, returns that one.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Inconsistent`] if the booking vanished.
    pub async fn insert_message(&self, new: NewMessage<'_>) -> Result<StoredMessage, StoreError> {
        const OP: &str = "storing a message";
        let now = now_millis();
        let mut tx = self.begin_write().await.context(OP)?;
        // Lock the booking row first: see the module documentation.
        let touched = sqlx::query("UPDATE bookings SET last_message_at = $1 WHERE id = $2")
            .bind(now)
            .bind(new.booking_id)
            .execute(&mut *tx)
            .await
            .context(OP)?;
        if touched.rows_affected() != 1 {
            return Err(StoreError::Inconsistent(format!("booking {} vanished", new.booking_id)));
        }
        let inserted: Option<MessageId> = sqlx::query_scalar(
            "INSERT INTO messages (booking_id, sender_id, body, client_message_id, created_at, changed_at, \
             attachments) VALUES ($1, $2, $3, $4, $5, $5, $6) \
             ON CONFLICT (booking_id, sender_id, client_message_id) DO NOTHING RETURNING id",
        )
        .bind(new.booking_id)
        .bind(new.sender_id)
        .bind(new.body)
        .bind(new.client_message_id)
        .bind(now)
        .bind(crate::attachments::to_json(new.attachments))
        .fetch_optional(&mut *tx)
        .await
        .context(OP)?;
        let result = match inserted {
            Some(id) => {
                claim_attachments(&mut tx, &new, id).await?;
                StoredMessage { message: new.stored(id, now), inserted: true }
            }
            None => {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages \
                     WHERE booking_id = $1 AND sender_id = $2 AND client_message_id = $3"
                )))
                .bind(new.booking_id)
                .bind(new.sender_id)
                .bind(new.client_message_id)
                .fetch_one(&mut *tx)
                .await
                .context(OP)?;
                let mut message = message_from_row(&row).context(OP)?;
                if !message.deleted {
                    message.reactions = self.reactions_of(&mut tx, message.id).await?;
                }
                StoredMessage { message, inserted: false }
            }
        };
        tx.commit().await.context(OP)?;
        Ok(result)
    }

    /// A page of a booking's history, oldest first, at most `limit` messages.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn messages(
        &self,
        booking_id: BookingId,
        cursor: PageCursor,
        limit: u32,
    ) -> Result<MessagePage, StoreError> {
        const OP: &str = "reading history";
        // The conditions after the booking's, with their values ($2 on), and the order.
        let (condition, values, order) = match cursor {
            PageCursor::After(after) => ("id > $2", vec![after], "ASC"),
            PageCursor::Before(before) => ("id < $2", vec![before.unwrap_or(MessageId::MAX)], "DESC"),
            PageCursor::Changed { from, since } => {
                ("id >= $2 AND changed_at >= $3", vec![from, since], "ASC")
            }
        };
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE booking_id = $1 AND {condition} \
             ORDER BY id {order} LIMIT ${}",
            values.len() + 2
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(booking_id);
        for value in values {
            query = query.bind(value);
        }
        let rows = query.bind(i64::from(limit) + 1).fetch_all(&self.pool).await.context(OP)?;
        let has_more = rows.len() > limit as usize;
        let mut messages = rows
            .iter()
            .take(limit as usize)
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()
            .context(OP)?;
        if matches!(cursor, PageCursor::Before(_)) {
            messages.reverse();
        }
        let range = messages.first().zip(messages.last()).map(|(first, last)| (first.id, last.id));
        if let Some((first, last)) = range {
            attach_reactions(&mut messages, self.reactions_between(booking_id, first, last).await?);
        }
        Ok(MessagePage { messages, has_more })
    }

    /// Whether the booking has this message.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn message_exists(
        &self,
        booking_id: BookingId,
        message_id: MessageId,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM messages WHERE id = $1 AND booking_id = $2")
                .bind(message_id)
                .bind(booking_id)
                .fetch_optional(&self.pool)
                .await
                .context("finding a message")?;
        Ok(found.is_some())
    }

    /// Adds the user's reaction if absent, removes it if present.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn toggle_reaction(
        &self,
        booking_id: BookingId,
        message_id: MessageId,
        user_id: &str,
        emoji: &str,
    ) -> Result<ReactionToggle, StoreError> {
        const OP: &str = "toggling a reaction";
        let mut tx = self.begin_write().await.context(OP)?;
        let removed =
            sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3")
                .bind(message_id)
                .bind(user_id)
                .bind(emoji)
                .execute(&mut *tx)
                .await
                .context(OP)?
                .rows_affected()
                > 0;
        if !removed {
            sqlx::query(
                "INSERT INTO reactions (message_id, booking_id, user_id, emoji, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (message_id, user_id, emoji) DO NOTHING",
            )
            .bind(message_id)
            .bind(booking_id)
            .bind(user_id)
            .bind(emoji)
            .bind(now_millis())
            .execute(&mut *tx)
            .await
            .context(OP)?;
        }
        // A reconnecting client learns of the change from the message's `changed_at`.
        sqlx::query("UPDATE messages SET changed_at = $1 WHERE id = $2 AND booking_id = $3")
            .bind(now_millis())
            .bind(message_id)
            .bind(booking_id)
            .execute(&mut *tx)
            .await
            .context(OP)?;
        let reactions = self.reactions_of(&mut tx, message_id).await?;
        tx.commit().await.context(OP)?;
        Ok(ReactionToggle { added: !removed, reactions })
    }

    /// Moves the user's read position forward to `message_id`; never backwards.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn mark_read(
        &self,
        booking_id: BookingId,
        user_id: &str,
        message_id: MessageId,
    ) -> Result<ReadPosition, StoreError> {
        const OP: &str = "recording a read receipt";
        let mut tx = self.begin_write().await.context(OP)?;
        let moved = sqlx::query(
            "INSERT INTO read_receipts (booking_id, user_id, last_read_message_id, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (booking_id, user_id) DO UPDATE \
             SET last_read_message_id = excluded.last_read_message_id, updated_at = excluded.updated_at \
             WHERE read_receipts.last_read_message_id < excluded.last_read_message_id",
        )
        .bind(booking_id)
        .bind(user_id)
        .bind(message_id)
        .bind(now_millis())
        .execute(&mut *tx)
        .await
        .context(OP)?
        .rows_affected()
            > 0;
        let current: MessageId = sqlx::query_scalar(
            "SELECT last_read_message_id FROM read_receipts WHERE booking_id = $1 AND user_id = $2",
        )
        .bind(booking_id)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await
        .context(OP)?;
        tx.commit().await.context(OP)?;
        Ok(ReadPosition { last_read_message_id: current, moved })
    }

    /// How many messages a booking has (tests and operations).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn count_messages(&self, booking_id: BookingId) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE booking_id = $1")
            .bind(booking_id)
            .fetch_one(&self.pool)
            .await
            .context("counting messages")
    }

    /// One message of a booking with its reactions (none for a deleted one).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn message(
        &self,
        booking_id: BookingId,
        message_id: MessageId,
    ) -> Result<Option<ChatMessage>, StoreError> {
        const OP: &str = "reading a message";
        let mut conn = self.pool.acquire().await.context(OP)?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1 AND booking_id = $2"
        )))
        .bind(message_id)
        .bind(booking_id)
        .fetch_optional(&mut *conn)
        .await
        .context(OP)?;
        let Some(row) = row else { return Ok(None) };
        let mut message = message_from_row(&row).context(OP)?;
        if !message.deleted {
            message.reactions = self.reactions_of(&mut conn, message_id).await?;
        }
        Ok(Some(message))
    }

    /// Replaces the body of the caller's message, if the conditions of [`OwnMessage`] hold and it is not
    /// deleted: one `UPDATE ... WHERE`, so the database decides against any concurrent edit or delete.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn edit_message(
        &self,
        change: OwnMessage<'_>,
        body: &str,
    ) -> Result<Option<ChatMessage>, StoreError> {
        const OP: &str = "editing a message";
        let mut conn = self.pool.acquire().await.context(OP)?;
        let Some(mut message) = change_own_message(&mut conn, "edited_at", body, change, OP).await? else {
            return Ok(None);
        };
        message.reactions = self.reactions_of(&mut conn, message.id).await?;
        Ok(Some(message))
    }

    /// Erases the body of the caller's message and removes its reactions, in one transaction, if the
    /// conditions of [`OwnMessage`] hold and it is not deleted already.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn delete_message(&self, change: OwnMessage<'_>) -> Result<Option<ChatMessage>, StoreError> {
        const OP: &str = "deleting a message";
        let mut tx = self.begin_write().await.context(OP)?;
        let Some(message) = change_own_message(&mut tx, "deleted_at", "", change, OP).await? else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM reactions WHERE message_id = $1")
            .bind(change.message_id)
            .execute(&mut *tx)
            .await
            .context(OP)?;
        tx.commit().await.context(OP)?;
        Ok(Some(message))
    }

    /// The operator hides a message: a tombstone with `reason`, whoever sent it and however old it is
    /// (a sender's tombstone gains the reason); one conditional write, so hiding again leaves the first
    /// reason. The message as it is now; `None` for an unknown message of this booking.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn hide_message(
        &self,
        booking_id: BookingId,
        message_id: MessageId,
        reason: &str,
    ) -> Result<Option<ChatMessage>, StoreError> {
        const OP: &str = "hiding a message";
        let mut tx = self.begin_write().await.context(OP)?;
        let now = now_millis();
        let hidden = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE messages SET body = '', deleted_at = COALESCE(deleted_at, $1), changed_at = $1, \
             hidden_reason = $2, hidden_at = $1, attachments = NULL \
             WHERE id = $3 AND booking_id = $4 AND hidden_reason IS NULL RETURNING {MESSAGE_COLUMNS}"
        )))
        .bind(now)
        .bind(reason)
        .bind(message_id)
        .bind(booking_id)
        .fetch_optional(&mut *tx)
        .await
        .context(OP)?;
        if hidden.is_some() {
            sqlx::query("DELETE FROM reactions WHERE message_id = $1")
                .bind(message_id)
                .execute(&mut *tx)
                .await
                .context(OP)?;
        }
        tx.commit().await.context(OP)?;
        match hidden {
            Some(row) => Ok(Some(message_from_row(&row).context(OP)?)),
            None => self.message(booking_id, message_id).await,
        }
    }

    /// A page of the messages that match a search ([`crate::search`]): one `SELECT` of the bookings'
    /// messages that match, not deleted, after the cursor, newest first, `LIMIT` page + 1. SQLite matches
    /// through the FTS5 index (`messages_fts`), PostgreSQL through the `search` column's GIN index.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn search(&self, search: Search<'_>) -> Result<SearchPage, StoreError> {
        const OP: &str = "searching messages";
        if search.bookings.is_empty() {
            return Ok(SearchPage::default());
        }
        let text = match self.kind {
            DatabaseKind::Sqlite => search.query.fts5(),
            DatabaseKind::Postgres => search.query.tsquery(),
        };
        let sql = search_sql(self.kind, search.bookings.len(), search.before.is_some());
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(text);
        for booking_id in search.bookings {
            query = query.bind(*booking_id);
        }
        if let Some(before) = search.before {
            query = query.bind(before.created_at).bind(before.booking_id).bind(before.message_id);
        }
        let limit = crate::search::clamp(search.limit);
        let rows = query.bind(limit as i64 + 1).fetch_all(&self.pool).await.context(OP)?;
        let hits = rows.iter().take(limit).map(hit_from_row).collect::<Result<Vec<_>, _>>().context(OP)?;
        Ok(SearchPage { hits, has_more: rows.len() > limit })
    }

    /// Records a new upload.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn create_attachment(&self, record: &AttachmentRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO attachments (id, booking_id, uploader_id, status, description, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&record.attachment.id)
        .bind(record.booking_id)
        .bind(&record.uploader_id)
        .bind(crate::attachments::status_name(record.attachment.status))
        .bind(crate::attachments::describe(&record.attachment))
        .bind(record.created_at)
        .execute(&self.pool)
        .await
        .context("recording an upload")?;
        Ok(())
    }

    /// An upload's record.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn attachment(
        &self,
        booking_id: BookingId,
        id: &str,
    ) -> Result<Option<AttachmentRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE id = $1 AND booking_id = $2"
        )))
        .bind(id)
        .bind(booking_id)
        .fetch_optional(&self.pool)
        .await
        .context("reading an attachment")?;
        row.as_ref().map(attachment_from_row).transpose()
    }

    /// Finishes a pending upload, once.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn finish_attachment(
        &self,
        booking_id: BookingId,
        attachment: &chat_wire::Attachment,
    ) -> Result<Option<AttachmentRecord>, StoreError> {
        sqlx::query(
            "UPDATE attachments SET status = $1, description = $2 \
             WHERE id = $3 AND booking_id = $4 AND status = 'pending'",
        )
        .bind(crate::attachments::status_name(attachment.status))
        .bind(crate::attachments::describe(attachment))
        .bind(&attachment.id)
        .bind(booking_id)
        .execute(&self.pool)
        .await
        .context("finishing an upload")?;
        self.attachment(booking_id, &attachment.id).await
    }

    /// Forgets uploads' records.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn delete_attachments(&self, booking_id: BookingId, ids: &[String]) -> Result<(), StoreError> {
        for id in ids {
            sqlx::query("DELETE FROM attachments WHERE id = $1 AND booking_id = $2")
                .bind(id)
                .bind(booking_id)
                .execute(&self.pool)
                .await
                .context("forgetting an upload")?;
        }
        Ok(())
    }

    /// A member's notification settings and their version; the defaults at version 0 when none are stored.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Inconsistent`] when the stored JSON does not parse.
    pub async fn notification_settings(&self, user_id: &str) -> Result<VersionedSettings, StoreError> {
        const OP: &str = "reading notification settings";
        let row = sqlx::query("SELECT settings, version FROM notification_settings WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .context(OP)?;
        let Some(row) = row else {
            return Ok(VersionedSettings { settings: NotificationSettings::default(), version: 0 });
        };
        let json: String = row.try_get("settings").context(OP)?;
        let settings = serde_json::from_str(&json)
            .map_err(|e| StoreError::Inconsistent(format!("notification settings of {user_id:?}: {e}")))?;
        Ok(VersionedSettings { settings, version: row.try_get("version").context(OP)? })
    }

    /// Replaces a member's notification settings if their version is still `expected_version` (0: none
    /// stored): an insert that does nothing on conflict, or an update on the version; whether it wrote.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn put_notification_settings(
        &self,
        user_id: &str,
        settings: &NotificationSettings,
        expected_version: i64,
    ) -> Result<bool, StoreError> {
        const OP: &str = "writing notification settings";
        let json = serde_json::to_string(settings).map_err(|e| StoreError::database(OP, e))?;
        let query = if expected_version == 0 {
            sqlx::query(
                "INSERT INTO notification_settings (user_id, settings, version, updated_at) \
                 VALUES ($1, $2, 1, $3) ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(json)
            .bind(now_millis())
        } else {
            sqlx::query(
                "UPDATE notification_settings SET settings = $1, version = $2 + 1, updated_at = $3 \
                 WHERE user_id = $4 AND version = $2",
            )
            .bind(json)
            .bind(expected_version)
            .bind(now_millis())
            .bind(user_id)
        };
        Ok(query.execute(&self.pool).await.context(OP)?.rows_affected() == 1)
    }

    /// Decides a claim on the recorded notification ([`decide_claim`]) and records it when granted, by an
    /// insert that does nothing on conflict or an update conditional on the values read; decides again
    /// when another notifier wrote in between.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Contention`] after [`CLAIM_ATTEMPTS`] lost races.
    pub async fn claim_notification(&self, request: ClaimRequest<'_>) -> Result<Claim, StoreError> {
        const OP: &str = "claiming a notification";
        for _ in 0..CLAIM_ATTEMPTS {
            let current = self.notified(request.booking_id, request.user_id).await?;
            let claim = decide_claim(current, &request);
            let Claim::Claimed { previous } = claim else { return Ok(claim) };
            let claimed = Notified { through: request.through, at: request.now };
            let written = match previous {
                None => sqlx::query(
                    "INSERT INTO notification_claims (booking_id, user_id, through_message_id, notified_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (booking_id, user_id) DO NOTHING",
                )
                .bind(request.booking_id)
                .bind(request.user_id)
                .bind(claimed.through)
                .bind(claimed.at)
                .execute(&self.pool)
                .await
                .context(OP)?,
                Some(previous) => replace_notified(&self.pool, &request, previous, claimed, OP).await?,
            };
            if written.rows_affected() == 1 {
                return Ok(claim);
            }
        }
        Err(StoreError::Contention(OP))
    }

    /// Puts `previous` back (deletes the record when `None`) if the record is still the claim `request`
    /// made; a later claim is left as it is.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn release_notification(
        &self,
        request: ClaimRequest<'_>,
        previous: Option<Notified>,
    ) -> Result<(), StoreError> {
        const OP: &str = "releasing a notification";
        let claimed = Notified { through: request.through, at: request.now };
        match previous {
            None => {
                sqlx::query(
                    "DELETE FROM notification_claims WHERE booking_id = $1 AND user_id = $2 \
                     AND through_message_id = $3 AND notified_at = $4",
                )
                .bind(request.booking_id)
                .bind(request.user_id)
                .bind(claimed.through)
                .bind(claimed.at)
                .execute(&self.pool)
                .await
                .context(OP)?;
            }
            Some(previous) => {
                replace_notified(&self.pool, &request, claimed, previous, OP).await?;
            }
        }
        Ok(())
    }

    /// The notification recorded for a member about a booking.
    async fn notified(&self, booking_id: BookingId, user_id: &str) -> Result<Option<Notified>, StoreError> {
        const OP: &str = "reading a notification claim";
        let row = sqlx::query(
            "SELECT through_message_id, notified_at FROM notification_claims \
             WHERE booking_id = $1 AND user_id = $2",
        )
        .bind(booking_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .context(OP)?;
        row.map(|row| {
            Ok(Notified {
                through: row.try_get("through_message_id").context(OP)?,
                at: row.try_get("notified_at").context(OP)?,
            })
        })
        .transpose()
    }

    async fn reactions_of(
        &self,
        conn: &mut sqlx::AnyConnection,
        message_id: MessageId,
    ) -> Result<Vec<ReactionSummary>, StoreError> {
        let rows = sqlx::query(
            "SELECT message_id, emoji, user_id FROM reactions WHERE message_id = $1 \
             ORDER BY created_at, emoji, user_id",
        )
        .bind(message_id)
        .fetch_all(conn)
        .await
        .context("reading reactions")?;
        Ok(summarise_rows(&rows)?.remove(&message_id).unwrap_or_default())
    }

    async fn reactions_between(
        &self,
        booking_id: BookingId,
        first: MessageId,
        last: MessageId,
    ) -> Result<HashMap<MessageId, Vec<ReactionSummary>>, StoreError> {
        let rows = sqlx::query(
            "SELECT message_id, emoji, user_id FROM reactions \
             WHERE booking_id = $1 AND message_id >= $2 AND message_id <= $3 \
             ORDER BY created_at, emoji, user_id",
        )
        .bind(booking_id)
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await
        .context("reading reactions")?;
        summarise_rows(&rows)
    }
}

/// Sets the text of the caller's own message to `body` and stamps `stamp` (`edited_at` or `deleted_at`)
/// and `changed_at` with now, in one `UPDATE` whose conditions are [`OwnMessage`]'s. The message as it is
/// now, or `None` when a condition failed.
async fn change_own_message(
    conn: &mut sqlx::AnyConnection,
    stamp: &'static str,
    body: &str,
    change: OwnMessage<'_>,
    op: &'static str,
) -> Result<Option<ChatMessage>, StoreError> {
    // A tombstone keeps no files' descriptions.
    let clear = if stamp == "deleted_at" { ", attachments = NULL" } else { "" };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE messages SET body = $1, {stamp} = $2, changed_at = $2{clear} {OWN_MESSAGE} \
         RETURNING {MESSAGE_COLUMNS}"
    )))
    .bind(body)
    .bind(now_millis())
    .bind(change.message_id)
    .bind(change.booking_id)
    .bind(change.sender_id)
    .bind(change.created_since)
    .fetch_optional(conn)
    .await
    .context(op)?;
    row.map(|row| message_from_row(&row).context(op)).transpose()
}

/// The `SELECT` of [`SqlStore::search`] for `bookings` bookings: `$1` the match (FTS5's or the
/// `tsquery`'s text), `$2...` the bookings, then the cursor's three values when `after_cursor`, then the
/// limit. Row values compare in the results' order: `(created_at, booking_id, id)`.
fn search_sql(kind: DatabaseKind, bookings: usize, after_cursor: bool) -> String {
    let (from, matches) = match kind {
        DatabaseKind::Sqlite => {
            ("messages_fts JOIN messages m ON m.id = messages_fts.rowid", "messages_fts MATCH $1")
        }
        DatabaseKind::Postgres => ("messages m", "m.search @@ to_tsquery('simple', $1)"),
    };
    let list: Vec<String> = (2..bookings + 2).map(|n| format!("${n}")).collect();
    let mut next = bookings + 2;
    let mut after = String::new();
    if after_cursor {
        after = format!(" AND (m.created_at, m.booking_id, m.id) < (${next}, ${}, ${})", next + 1, next + 2);
        next += 3;
    }
    format!(
        "SELECT m.id, m.booking_id, m.sender_id, m.body, m.created_at FROM {from} \
         WHERE {matches} AND m.booking_id IN ({}) AND m.deleted_at IS NULL{after} \
         ORDER BY m.created_at DESC, m.booking_id DESC, m.id DESC LIMIT ${next}",
        list.join(", ")
    )
}

fn hit_from_row(row: &AnyRow) -> Result<SearchHit, sqlx::Error> {
    Ok(SearchHit {
        booking_id: row.try_get("booking_id")?,
        message_id: row.try_get("id")?,
        sender_id: row.try_get("sender_id")?,
        created_at: row.try_get("created_at")?,
        body: row.try_get("body")?,
    })
}

/// Replaces the notification recorded for `request`'s member and booking with `to`, only if it is still
/// `from`: whether the row matched is in the result's `rows_affected`.
async fn replace_notified(
    pool: &AnyPool,
    request: &ClaimRequest<'_>,
    from: Notified,
    to: Notified,
    op: &'static str,
) -> Result<sqlx::any::AnyQueryResult, StoreError> {
    sqlx::query(
        "UPDATE notification_claims SET through_message_id = $1, notified_at = $2 \
         WHERE booking_id = $3 AND user_id = $4 AND through_message_id = $5 AND notified_at = $6",
    )
    .bind(to.through)
    .bind(to.at)
    .bind(request.booking_id)
    .bind(request.user_id)
    .bind(from.through)
    .bind(from.at)
    .execute(pool)
    .await
    .context(op)
}

/// Rate limits in the `rate_windows` table, shared by every backend on the database
/// ([`crate::rate_limit`]): a row per user and window (`m{minute}`, `s{second}`), each raised only while
/// under its limit, both in one transaction that locks them in that order. The user's windows that ended
/// over [`ENDED_WINDOW_GRACE_MS`] ago are deleted after it, on their own: deleting inside the transaction
/// deadlocked on PostgreSQL with a transaction still counting the second that had just ended.
#[derive(Debug, Clone)]
pub struct SqlRateLimits {
    store: SqlStore,
    limits: Limits,
}

impl SqlRateLimits {
    async fn acquire(&self, user_id: &str) -> Result<bool, StoreError> {
        const OP: &str = "counting an action";
        let now = now_millis();
        let windows = Windows::at(now);
        let mut tx = self.store.begin_write().await.context(OP)?;
        let periods = [
            (format!("m{}", windows.minute), (windows.minute + 1) * 60_000, self.limits.per_minute),
            (format!("s{}", windows.second), (windows.second + 1) * 1000, self.limits.burst),
        ];
        for (period, ends_at, limit) in periods {
            let counted = sqlx::query(
                "INSERT INTO rate_windows (user_id, period, actions, ends_at) VALUES ($1, $2, 1, $3) \
                 ON CONFLICT (user_id, period) DO UPDATE SET actions = rate_windows.actions + 1 \
                 WHERE rate_windows.actions < $4",
            )
            .bind(user_id)
            .bind(period)
            .bind(ends_at)
            .bind(i64::from(limit))
            .execute(&mut *tx)
            .await
            .context(OP)?;
            if counted.rows_affected() == 0 {
                // Over a limit: nothing of this action is counted.
                tx.rollback().await.context(OP)?;
                return Ok(false);
            }
        }
        tx.commit().await.context(OP)?;
        sqlx::query("DELETE FROM rate_windows WHERE user_id = $1 AND ends_at < $2")
            .bind(user_id)
            .bind(now - ENDED_WINDOW_GRACE_MS)
            .execute(&self.store.pool)
            .await
            .context(OP)?;
        Ok(true)
    }
}

/// How long after its end a rate window's row is kept: longer than any counting transaction lasts, so
/// that the deletion never waits on a row such a transaction holds (nor it on the deletion).
const ENDED_WINDOW_GRACE_MS: i64 = 60_000;

impl RateLimits for SqlRateLimits {
    fn try_acquire<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.acquire(user_id))
    }
}

impl ChatStore for SqlStore {
    super::delegate_to_inherent!();

    fn rate_limits(&self, limits: Limits) -> std::sync::Arc<dyn RateLimits> {
        std::sync::Arc::new(SqlRateLimits { store: self.clone(), limits })
    }

    fn user_data(&self) -> &dyn crate::user_data::UserDataStore {
        self
    }

    fn moderation(&self) -> std::sync::Arc<dyn crate::moderation::ModerationStore> {
        std::sync::Arc::new(crate::sql_moderation::SqlModeration::new(self.pool.clone()))
    }

    fn kind(&self) -> &'static str {
        match self.kind {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }
    }

    fn prepare(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.migrate())
    }

    fn close(&self) -> BoxFuture<'_, ()> {
        Box::pin(Self::close(self))
    }
}

/// Groups reaction rows (message, emoji, user, oldest first) as [`summarise`] does.
fn summarise_rows(rows: &[AnyRow]) -> Result<HashMap<MessageId, Vec<ReactionSummary>>, StoreError> {
    let reactions = rows
        .iter()
        .map(|row| {
            Ok((
                row.try_get::<MessageId, _>("message_id")?,
                row.try_get::<String, _>("emoji")?,
                row.try_get::<String, _>("user_id")?,
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .context("reading reactions")?;
    Ok(summarise(reactions.iter().map(|(m, e, u)| (*m, e.as_str(), u.as_str()))))
}

fn message_from_row(row: &AnyRow) -> Result<ChatMessage, sqlx::Error> {
    let deleted_at: Option<i64> = row.try_get("deleted_at")?;
    Ok(ChatMessage {
        id: row.try_get("id")?,
        booking_id: row.try_get("booking_id")?,
        sender_id: row.try_get("sender_id")?,
        body: row.try_get("body")?,
        client_message_id: row.try_get("client_message_id")?,
        created_at: row.try_get("created_at")?,
        reactions: Vec::new(),
        edited_at: row.try_get("edited_at")?,
        deleted: deleted_at.is_some(),
        moderation: row
            .try_get::<Option<String>, _>("hidden_reason")?
            .zip(row.try_get::<Option<i64>, _>("hidden_at")?)
            .map(|(reason, at)| chat_wire::Moderation { reason, at }),
        // A tombstone's column was cleared by its delete or hide.
        attachments: crate::attachments::from_json(
            row.try_get::<Option<String>, _>("attachments")?.as_deref(),
        )
        .map_err(|e| sqlx::Error::Decode(e.into()))?,
    })
}

/// Claims each attachment of a just-inserted message for it: one conditional `UPDATE` each, in the
/// message's transaction; the first that matches no row rolls everything back.
async fn claim_attachments(
    tx: &mut sqlx::AnyConnection,
    new: &NewMessage<'_>,
    message_id: MessageId,
) -> Result<(), StoreError> {
    for attachment in new.attachments {
        let claimed = sqlx::query(
            "UPDATE attachments SET message_id = $1 WHERE id = $2 AND booking_id = $3 AND uploader_id = $4 \
             AND status = 'ready' AND message_id IS NULL",
        )
        .bind(message_id)
        .bind(&attachment.id)
        .bind(new.booking_id)
        .bind(new.sender_id)
        .execute(&mut *tx)
        .await
        .context("claiming an attachment")?;
        if claimed.rows_affected() != 1 {
            return Err(StoreError::AttachmentUnavailable(attachment.id.clone()));
        }
    }
    Ok(())
}

pub(crate) fn attachment_from_row(row: &AnyRow) -> Result<AttachmentRecord, StoreError> {
    let read = || -> Result<(BookingId, String, String, Option<MessageId>, i64), sqlx::Error> {
        Ok((
            row.try_get("booking_id")?,
            row.try_get("uploader_id")?,
            row.try_get("description")?,
            row.try_get("message_id")?,
            row.try_get("created_at")?,
        ))
    };
    let (booking_id, uploader_id, description, message_id, created_at) =
        read().context("reading an attachment")?;
    Ok(AttachmentRecord {
        booking_id,
        uploader_id,
        attachment: crate::attachments::described(&description)?,
        message_id,
        created_at,
    })
}

/// The folder of the default `DATABASE_URL` (`sqlite://.data/chat.db`), the one folder made when missing.
const DEFAULT_SQLITE_DIR: &str = ".data";

/// How long the first connection may take before the start fails.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Where a database URL points, without its password: `PostgreSQL at host:port/db`, `SQLite file path`.
fn describe_target(kind: DatabaseKind, url: &str) -> String {
    match kind {
        DatabaseKind::Sqlite => format!("SQLite {}", url.split('?').next().unwrap_or(url)),
        DatabaseKind::Postgres => {
            let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("PostgreSQL at {}", host.split('?').next().unwrap_or(host))
        }
    }
}

/// Makes sure the SQLite file can be created: its directory exists and the URL asks for `mode=rwc`.
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        // Only the default's own folder is made; any other missing folder is a mistyped path, and creating
        // it (as root, anywhere) would hide the mistake.
        if dir != Path::new(DEFAULT_SQLITE_DIR) {
            return Err(StoreError::database(
                "opening SQLite",
                format!(
                    "the folder {} of DATABASE_URL does not exist: create it, or choose another path",
                    dir.display()
                ),
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| StoreError::database("creating the SQLite directory", e))?;
    }
    let url = if query.contains("mode=") {
        url.to_owned()
    } else if query.is_empty() {
        format!("sqlite://{path}?mode=rwc")
    } else {
        format!("sqlite://{path}?{query}&mode=rwc")
    };
    // Fail here, naming the URL's problem, rather than at the first query.
    sqlx::sqlite::SqliteConnectOptions::from_str(&url).context("parsing the SQLite URL")?;
    Ok(url)
}

/// A booking from a row with its columns.
fn booking_from_row(row: &AnyRow) -> Result<Booking, StoreError> {
    let status: String = row.try_get("status").context("reading a booking")?;
    let chat: Option<String> = row.try_get("chat_state").context("reading a booking")?;
    let mut chat: ChatState = match chat {
        None => ChatState::default(),
        Some(json) => {
            serde_json::from_str(&json).map_err(|e| StoreError::Inconsistent(format!("chat state: {e}")))?
        }
    };
    chat.version = row.try_get("chat_version").context("reading a booking")?;
    Ok(Booking {
        chat,
        id: row.try_get("id").context("reading a booking")?,
        owner_id: row.try_get("owner_id").context("reading a booking")?,
        renter_id: row.try_get("renter_id").context("reading a booking")?,
        title: row.try_get("title").context("reading a booking")?,
        status: BookingStatus::parse(&status)
            .ok_or_else(|| StoreError::Inconsistent(format!("booking status {status:?}")))?,
    })
}
