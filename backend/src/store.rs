//! Persistence of bookings, messages, reactions and read receipts, on SQLite or PostgreSQL.
//!
//! One set of queries serves both databases through sqlx's `Any` driver: every query is written in the
//! common dialect (`$N` parameters, `ON CONFLICT`, `RETURNING`), and only the schema migrations differ
//! (`migrations/sqlite`, `migrations/postgres`, embedded in the binary). Timestamps are epoch milliseconds.
//!
//! Ordering matters for resume-after-reconnect: [`ChatStore::insert_message`] first updates the booking's
//! row, which takes that row's write lock in both databases, so two messages of one booking can never commit
//! out of id order and `after_message_id` never skips one.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use chat_wire::{BookingId, ChatMessage, MessageId, ReactionSummary};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, Row, SqlSafeStr};

use crate::domain::{Booking, BookingStatus, now_ms};

/// Which database a [`ChatStore`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    /// A SQLite file (the local default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A failure of the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A query failed.
    #[error("database error while {operation}")]
    Database {
        /// What we were doing.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database holds something our schema forbids, or a row vanished mid-operation.
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
}

trait Context<T> {
    fn context(self, operation: &'static str) -> Result<T, StoreError>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn context(self, operation: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Database { operation, source })
    }
}

/// A new message to store.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// The booking (chat room).
    pub booking_id: BookingId,
    /// The author.
    pub sender_id: &'a str,
    /// The text, already validated.
    pub body: &'a str,
    /// The author's idempotency key.
    pub client_message_id: Option<&'a str>,
}

/// A message as [`ChatStore::insert_message`] left it.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// The stored message (the earlier one, for a retry).
    pub message: ChatMessage,
    /// Whether this call inserted it (`false`: a retry of the same `client_message_id`).
    pub inserted: bool,
}

/// A reaction as [`ChatStore::toggle_reaction`] left it.
#[derive(Debug, Clone)]
pub struct ReactionToggle {
    /// Whether the reaction was added (`false`: removed).
    pub added: bool,
    /// Every reaction of the message afterwards.
    pub reactions: Vec<ReactionSummary>,
}

/// A read position as [`ChatStore::mark_read`] left it.
#[derive(Debug, Clone, Copy)]
pub struct ReadPosition {
    /// The last message the user has read.
    pub last_read_message_id: MessageId,
    /// Whether this call moved it forward.
    pub moved: bool,
}

/// A page of messages, oldest first.
#[derive(Debug, Clone)]
pub struct MessagePage {
    /// The messages, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Whether more exist in the direction asked for.
    pub has_more: bool,
}

/// Which page of history to read.
#[derive(Debug, Clone, Copy)]
pub enum PageCursor {
    /// Messages after this id, oldest first (resume after reconnect).
    After(MessageId),
    /// The latest messages before this id, or the latest of all (scrolling back, first open).
    Before(Option<MessageId>),
}

/// The database of the chat. Cheap to clone: it holds a connection pool.
#[derive(Debug, Clone)]
pub struct ChatStore {
    pool: AnyPool,
    kind: DatabaseKind,
}

const MESSAGE_COLUMNS: &str = "id, booking_id, sender_id, body, client_message_id, created_at";

impl ChatStore {
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
        let pool = options.connect(&url).await.context("connecting")?;
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

    /// Which database this is.
    pub fn kind(&self) -> DatabaseKind {
        self.kind
    }

    /// Brings the schema up to date with the migrations embedded for this database.
    ///
    /// # Errors
    /// [`StoreError::Migrate`] when a migration fails or the applied ones were changed.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let sql = match self.kind {
            DatabaseKind::Sqlite => include_str!("../migrations/sqlite/0001_init.sql"),
            DatabaseKind::Postgres => include_str!("../migrations/postgres/0001_init.sql"),
        };
        let migrator = Migrator::with_migrations(vec![Migration::new(
            1,
            Cow::Borrowed("init"),
            MigrationType::Simple,
            sql.into_sql_str(),
            false,
        )]);
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
        let now = now_ms();
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

    /// The booking with this id.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Inconsistent`] for an unknown stored status.
    pub async fn booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        let row = sqlx::query("SELECT id, owner_id, renter_id, title, status FROM bookings WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("reading a booking")?;
        row.map(|row| {
            let status: String = row.try_get("status").context("reading a booking")?;
            Ok(Booking {
                id: row.try_get("id").context("reading a booking")?,
                owner_id: row.try_get("owner_id").context("reading a booking")?,
                renter_id: row.try_get("renter_id").context("reading a booking")?,
                title: row.try_get("title").context("reading a booking")?,
                status: BookingStatus::parse(&status)
                    .ok_or_else(|| StoreError::Inconsistent(format!("booking status {status:?}")))?,
            })
        })
        .transpose()
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
                .bind(now_ms())
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
        let now = now_ms();
        let mut tx = self.pool.begin().await.context(OP)?;
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
            "INSERT INTO messages (booking_id, sender_id, body, client_message_id, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (booking_id, sender_id, client_message_id) DO NOTHING RETURNING id",
        )
        .bind(new.booking_id)
        .bind(new.sender_id)
        .bind(new.body)
        .bind(new.client_message_id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .context(OP)?;
        let result = match inserted {
            Some(id) => {
                let message = ChatMessage {
                    id,
                    booking_id: new.booking_id,
                    sender_id: new.sender_id.to_owned(),
                    body: new.body.to_owned(),
                    client_message_id: new.client_message_id.map(str::to_owned),
                    created_at: now,
                    reactions: Vec::new(),
                };
                StoredMessage { message, inserted: true }
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
                message.reactions = self.reactions_of(&mut tx, message.id).await?;
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
        let fetch = i64::from(limit) + 1;
        let (sql, bound) = match cursor {
            PageCursor::After(after) => (
                format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE booking_id = $1 AND id > $2 \
                     ORDER BY id ASC LIMIT $3"
                ),
                after,
            ),
            PageCursor::Before(before) => (
                format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE booking_id = $1 AND id < $2 \
                     ORDER BY id DESC LIMIT $3"
                ),
                before.unwrap_or(MessageId::MAX),
            ),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(booking_id)
            .bind(bound)
            .bind(fetch)
            .fetch_all(&self.pool)
            .await
            .context(OP)?;
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
        if let (Some(first), Some(last)) = (messages.first(), messages.last()) {
            let mut reactions = self.reactions_between(booking_id, first.id, last.id).await?;
            for message in &mut messages {
                message.reactions = reactions.remove(&message.id).unwrap_or_default();
            }
        }
        Ok(MessagePage { messages, has_more })
    }

    /// The booking a message belongs to, if the message exists.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub async fn message_booking(&self, message_id: MessageId) -> Result<Option<BookingId>, StoreError> {
        sqlx::query_scalar("SELECT booking_id FROM messages WHERE id = $1")
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await
            .context("finding a message's booking")
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
        let mut tx = self.pool.begin().await.context(OP)?;
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
            .bind(now_ms())
            .execute(&mut *tx)
            .await
            .context(OP)?;
        }
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
        let mut tx = self.pool.begin().await.context(OP)?;
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
        .bind(now_ms())
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
        Ok(summarise(&rows)?.remove(&message_id).unwrap_or_default())
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
        summarise(&rows)
    }
}

/// Groups reaction rows by message, then by emoji in the order each emoji was first used.
fn summarise(rows: &[AnyRow]) -> Result<HashMap<MessageId, Vec<ReactionSummary>>, StoreError> {
    let mut by_message: HashMap<MessageId, Vec<ReactionSummary>> = HashMap::new();
    for row in rows {
        let message_id: MessageId = row.try_get("message_id").context("reading reactions")?;
        let emoji: String = row.try_get("emoji").context("reading reactions")?;
        let user_id: String = row.try_get("user_id").context("reading reactions")?;
        let summaries = by_message.entry(message_id).or_default();
        match summaries.iter_mut().find(|s| s.emoji == emoji) {
            Some(summary) => {
                summary.count += 1;
                summary.user_ids.push(user_id);
            }
            None => summaries.push(ReactionSummary { emoji, count: 1, user_ids: vec![user_id] }),
        }
    }
    Ok(by_message)
}

fn message_from_row(row: &AnyRow) -> Result<ChatMessage, sqlx::Error> {
    Ok(ChatMessage {
        id: row.try_get("id")?,
        booking_id: row.try_get("booking_id")?,
        sender_id: row.try_get("sender_id")?,
        body: row.try_get("body")?,
        client_message_id: row.try_get("client_message_id")?,
        created_at: row.try_get("created_at")?,
        reactions: Vec::new(),
    })
}

/// Makes sure the SQLite file can be created: its directory exists and the URL asks for `mode=rwc`.
fn prepare_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Database {
            operation: "creating the SQLite directory",
            source: sqlx::Error::Io(e),
        })?;
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
