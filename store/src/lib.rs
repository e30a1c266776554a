//! Where booking chat keeps its data, for every deployable that needs it (the backend; the notifier to
//! come): the [`ChatStore`] port and its two adapters, and the domain they store.
//!
//! - [`domain`]: bookings and their rules (statuses and transitions, membership), and the value types of
//!   what members write ([`domain::MessageBody`], [`domain::ClientMessageId`], [`domain::Emoji`]).
//! - [`sql::SqlStore`]: SQLite (the local default) or PostgreSQL, through sqlx; its migrations are in
//!   `store/migrations/`, compiled in.
//! - [`dynamodb::DynamoDbStore`]: one DynamoDB table (the default on Lambda: no VPC, no pool, no idle cost).
//! - [`rate_limit`]: the per-user windows every adapter counts in ([`RateLimits`]).
//! - [`moderation`]: members' reports and the operator's append-only audit log, behind a port of their
//!   own ([`moderation::ModerationStore`]; adapters [`sql_moderation`] and [`dynamodb_moderation`]).
//! - [`search`]: full-text search of history ([`ChatStore::search`]): the query's words, the cursor, the
//!   hits; each adapter runs it its own way (FTS5, `tsvector`, a filtered `Query`).
//!
//! Every adapter keeps the same guarantees, enforced by the database itself:
//! - a booking's message ids increase in commit order, so `after_message_id` never skips a message that
//!   commits later with a smaller id;
//! - a message is stored once per (booking, sender, `client_message_id`), however many retries race;
//! - a reaction is toggled per (message, user, emoji);
//! - a read position never moves backwards;
//! - a booking's status moves only by compare-and-set from the status the caller saw;
//! - a message is edited or deleted only by its sender, only within the edit window, and never once
//!   deleted: one conditional write, so a deleted message never comes back whatever races it.
//!
//! Message ids are unique per booking on every store (on SQL they are also unique across bookings; no
//! caller relies on that). Rate limits shared by every instance of the backend live beside the chat data
//! ([`RateLimits`]). `docs/chat-store.md` is the design.

/// The data methods of [`ChatStore`], for an adapter whose inherent `async fn`s have the same names and
/// signatures: each is boxed and delegated. An adapter's `impl ChatStore` invokes this once and writes
/// only what differs (`kind`, `prepare`, `close`, `shared_rate_limits`).
macro_rules! delegate_to_inherent {
    () => {
        fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
            Box::pin(Self::ping(self))
        }

        fn insert_booking_if_absent<'a>(
            &'a self,
            booking: &'a Booking,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            Box::pin(Self::insert_booking_if_absent(self, booking))
        }

        fn put_booking<'a>(
            &'a self,
            booking: &'a Booking,
        ) -> BoxFuture<'a, Result<BookingWrite, StoreError>> {
            Box::pin(Self::put_booking(self, booking))
        }

        fn booking(&self, id: BookingId) -> BoxFuture<'_, Result<Option<Booking>, StoreError>> {
            Box::pin(Self::booking(self, id))
        }

        fn set_booking_status(
            &self,
            id: BookingId,
            from: BookingStatus,
            to: BookingStatus,
        ) -> BoxFuture<'_, Result<bool, StoreError>> {
            Box::pin(Self::set_booking_status(self, id, from, to))
        }

        fn hide_message<'a>(
            &'a self,
            booking_id: BookingId,
            message_id: MessageId,
            reason: &'a str,
        ) -> BoxFuture<'a, Result<Option<ChatMessage>, StoreError>> {
            Box::pin(Self::hide_message(self, booking_id, message_id, reason))
        }

        fn put_chat_state<'a>(
            &'a self,
            booking_id: BookingId,
            state: &'a crate::chat_state::ChatState,
            expected_version: i64,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            Box::pin(Self::put_chat_state(self, booking_id, state, expected_version))
        }

        fn insert_message<'a>(
            &'a self,
            new: NewMessage<'a>,
        ) -> BoxFuture<'a, Result<StoredMessage, StoreError>> {
            Box::pin(Self::insert_message(self, new))
        }

        fn messages(
            &self,
            booking_id: BookingId,
            cursor: PageCursor,
            limit: u32,
        ) -> BoxFuture<'_, Result<MessagePage, StoreError>> {
            Box::pin(Self::messages(self, booking_id, cursor, limit))
        }

        fn message_exists(
            &self,
            booking_id: BookingId,
            message_id: MessageId,
        ) -> BoxFuture<'_, Result<bool, StoreError>> {
            Box::pin(Self::message_exists(self, booking_id, message_id))
        }

        fn toggle_reaction<'a>(
            &'a self,
            booking_id: BookingId,
            message_id: MessageId,
            user_id: &'a str,
            emoji: &'a str,
        ) -> BoxFuture<'a, Result<ReactionToggle, StoreError>> {
            Box::pin(Self::toggle_reaction(self, booking_id, message_id, user_id, emoji))
        }

        fn mark_read<'a>(
            &'a self,
            booking_id: BookingId,
            user_id: &'a str,
            message_id: MessageId,
        ) -> BoxFuture<'a, Result<ReadPosition, StoreError>> {
            Box::pin(Self::mark_read(self, booking_id, user_id, message_id))
        }

        fn count_messages(&self, booking_id: BookingId) -> BoxFuture<'_, Result<i64, StoreError>> {
            Box::pin(Self::count_messages(self, booking_id))
        }

        fn read_positions(
            &self,
            booking_id: BookingId,
        ) -> BoxFuture<'_, Result<Vec<chat_wire::ReadPosition>, StoreError>> {
            Box::pin(Self::read_positions(self, booking_id))
        }

        fn bookings_of<'a>(
            &'a self,
            user_id: &'a str,
            limit: u32,
        ) -> BoxFuture<'a, Result<Vec<BookingActivity>, StoreError>> {
            Box::pin(Self::bookings_of(self, user_id, limit))
        }

        fn unread_count<'a>(
            &'a self,
            booking_id: BookingId,
            user_id: &'a str,
            after: MessageId,
            cap: u32,
        ) -> BoxFuture<'a, Result<u32, StoreError>> {
            Box::pin(Self::unread_count(self, booking_id, user_id, after, cap))
        }

        fn add_presence<'a>(
            &'a self,
            booking_id: BookingId,
            connection: PresenceConnection<'a>,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(Self::add_presence(self, booking_id, connection))
        }

        fn remove_presence<'a>(
            &'a self,
            booking_id: BookingId,
            connection: PresenceConnection<'a>,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(Self::remove_presence(self, booking_id, connection))
        }

        fn presence_records(
            &self,
            booking_id: BookingId,
        ) -> BoxFuture<'_, Result<PresenceRecords, StoreError>> {
            Box::pin(Self::presence_records(self, booking_id))
        }

        fn message(
            &self,
            booking_id: BookingId,
            message_id: MessageId,
        ) -> BoxFuture<'_, Result<Option<ChatMessage>, StoreError>> {
            Box::pin(Self::message(self, booking_id, message_id))
        }

        fn edit_message<'a>(
            &'a self,
            change: OwnMessage<'a>,
            body: &'a str,
        ) -> BoxFuture<'a, Result<Option<ChatMessage>, StoreError>> {
            Box::pin(Self::edit_message(self, change, body))
        }

        fn delete_message<'a>(
            &'a self,
            change: OwnMessage<'a>,
        ) -> BoxFuture<'a, Result<Option<ChatMessage>, StoreError>> {
            Box::pin(Self::delete_message(self, change))
        }

        fn create_attachment<'a>(
            &'a self,
            record: &'a $crate::attachments::AttachmentRecord,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(Self::create_attachment(self, record))
        }

        fn attachment<'a>(
            &'a self,
            booking_id: BookingId,
            id: &'a str,
        ) -> BoxFuture<'a, Result<Option<$crate::attachments::AttachmentRecord>, StoreError>> {
            Box::pin(Self::attachment(self, booking_id, id))
        }

        fn finish_attachment<'a>(
            &'a self,
            booking_id: BookingId,
            attachment: &'a chat_wire::Attachment,
        ) -> BoxFuture<'a, Result<Option<$crate::attachments::AttachmentRecord>, StoreError>> {
            Box::pin(Self::finish_attachment(self, booking_id, attachment))
        }

        fn delete_attachments<'a>(
            &'a self,
            booking_id: BookingId,
            ids: &'a [String],
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(Self::delete_attachments(self, booking_id, ids))
        }

        fn notification_settings<'a>(
            &'a self,
            user_id: &'a str,
        ) -> BoxFuture<'a, Result<VersionedSettings, StoreError>> {
            Box::pin(Self::notification_settings(self, user_id))
        }

        fn put_notification_settings<'a>(
            &'a self,
            user_id: &'a str,
            settings: &'a NotificationSettings,
            expected_version: i64,
        ) -> BoxFuture<'a, Result<bool, StoreError>> {
            Box::pin(Self::put_notification_settings(self, user_id, settings, expected_version))
        }

        fn claim_notification<'a>(
            &'a self,
            request: ClaimRequest<'a>,
        ) -> BoxFuture<'a, Result<Claim, StoreError>> {
            Box::pin(Self::claim_notification(self, request))
        }

        fn release_notification<'a>(
            &'a self,
            request: ClaimRequest<'a>,
            previous: Option<Notified>,
        ) -> BoxFuture<'a, Result<(), StoreError>> {
            Box::pin(Self::release_notification(self, request, previous))
        }

        fn search<'a>(
            &'a self,
            search: $crate::search::Search<'a>,
        ) -> BoxFuture<'a, Result<$crate::search::SearchPage, StoreError>> {
            Box::pin(Self::search(self, search))
        }
    };
}
use delegate_to_inherent;

pub mod attachments;
pub mod chat_state;
pub mod contact;
pub mod domain;
pub mod dynamodb;
mod dynamodb_messages;
pub mod dynamodb_moderation;
mod dynamodb_user_data;
pub mod moderation;
pub mod notifications;
pub mod push;
pub mod rate_limit;
pub mod search;
pub mod sql;
pub mod sql_moderation;
mod sql_user_data;
pub mod user_data;

use std::sync::Arc;
use std::time::Duration;

use chat_settings::env::{ConfigError, Lookup, parse, parse_bool};
use chat_wire::{BookingId, ChatMessage, MessageId, ReactionSummary};
use futures_util::future::BoxFuture;

use crate::domain::{Booking, BookingStatus};
use crate::notifications::{Claim, ClaimRequest, NotificationSettings, Notified, VersionedSettings};

/// Where the chat is stored (`CHAT_STORE`).
#[derive(Debug, Clone)]
pub enum StoreSettings {
    /// `CHAT_STORE=sql` (the default): SQLite or PostgreSQL at `DATABASE_URL`.
    Sql {
        /// `sqlite://...` or `postgres://...`.
        url: String,
        /// Upper bound of the database pool (`DATABASE_MAX_CONNECTIONS`).
        max_connections: u32,
    },
    /// `CHAT_STORE=dynamodb`: one DynamoDB table.
    DynamoDb {
        /// `CHAT_TABLE`.
        table: String,
        /// `CHAT_TABLE_CREATE`: create the table when missing (local runs and tests; default with
        /// `APP_ENV=local`). In AWS, Terraform owns it.
        create_table: bool,
        /// `DYNAMODB_ENDPOINT`: a local DynamoDB (moto, DynamoDB Local), reached with dummy credentials.
        endpoint: Option<String>,
        /// `AWS_TIMEOUT_MS`: the budget of one call.
        aws_timeout: Duration,
    },
}

/// The local default database (`make dev`): SQLite in `.data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://.data/chat.db";

impl StoreSettings {
    /// Reads `CHAT_STORE` and what it needs (`DATABASE_URL`, `DATABASE_MAX_CONNECTIONS`; `CHAT_TABLE`,
    /// `CHAT_TABLE_CREATE`, `DYNAMODB_ENDPOINT`): every deployable on the chat store reads it so. `local`
    /// (`APP_ENV=local`) gives the defaults a laptop needs; `aws_timeout` bounds one DynamoDB call.
    ///
    /// # Errors
    /// [`ConfigError`] naming the missing or malformed variable.
    pub fn from_lookup(
        lookup: &impl Lookup,
        local: bool,
        aws_timeout: Duration,
    ) -> Result<Self, ConfigError> {
        Ok(match lookup("CHAT_STORE").as_deref() {
            // `postgres` and `sqlite` name the same adapter; `DATABASE_URL` says which database.
            None | Some("sql" | "postgres" | "sqlite") => {
                let url = lookup("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
                if !(url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://"))
                {
                    return Err(ConfigError::Invalid {
                        key: "DATABASE_URL".into(),
                        reason: "must start with sqlite:, postgres:// or postgresql://".into(),
                    });
                }
                StoreSettings::Sql { url, max_connections: parse(lookup, "DATABASE_MAX_CONNECTIONS", 10)? }
            }
            Some("dynamodb") => StoreSettings::DynamoDb {
                table: match lookup("CHAT_TABLE") {
                    Some(table) => table,
                    None if local => "chat".into(),
                    None => {
                        return Err(ConfigError::invalid("CHAT_TABLE", "required with CHAT_STORE=dynamodb"));
                    }
                },
                create_table: parse_bool(lookup, "CHAT_TABLE_CREATE", local)?,
                endpoint: lookup("DYNAMODB_ENDPOINT"),
                aws_timeout,
            },
            Some(other) => {
                return Err(ConfigError::invalid(
                    "CHAT_STORE",
                    format!("{other:?} is none of \"sql\" (or \"postgres\", \"sqlite\") and \"dynamodb\""),
                ));
            }
        })
    }
}

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A call to the database failed.
    #[error("database error while {operation}")]
    Database {
        /// What we were doing.
        operation: &'static str,
        /// The driver's or SDK's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The schema could not be brought up to date.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database holds something our schema forbids, or a row vanished mid-operation.
    #[error("inconsistent data: {0}")]
    Inconsistent(String),
    /// Too many writers raced for the same booking; the caller may retry.
    #[error("too much contention while {0}")]
    Contention(&'static str),
    /// A new message names an attachment that is not a ready file of its sender's, in its booking, that
    /// no message carries yet; nothing was stored.
    #[error("attachment {0} cannot be sent: it is not a ready, unsent file of the sender's in this booking")]
    AttachmentUnavailable(String),
}

impl StoreError {
    pub(crate) fn database(
        operation: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::Database { operation, source: source.into() }
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
    /// Its files, `ready` (the store claims each for the message, or stores nothing).
    pub attachments: &'a [chat_wire::Attachment],
}

impl NewMessage<'_> {
    /// The message as stored with `id` at `now`: no reactions, edits or moderation yet.
    pub fn stored(&self, id: MessageId, now: i64) -> ChatMessage {
        ChatMessage {
            id,
            booking_id: self.booking_id,
            sender_id: self.sender_id.to_owned(),
            body: self.body.to_owned(),
            client_message_id: self.client_message_id.map(str::to_owned),
            created_at: now,
            reactions: Vec::new(),
            edited_at: None,
            deleted: false,
            moderation: None,
            attachments: self.attachments.to_vec(),
        }
    }
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

/// The message an edit or a delete is about, and the conditions the store checks in the same write.
#[derive(Debug, Clone, Copy)]
pub struct OwnMessage<'a> {
    /// The booking (chat room).
    pub booking_id: BookingId,
    /// The message.
    pub message_id: MessageId,
    /// Who asks: only the message's sender may change it.
    pub sender_id: &'a str,
    /// The edit window: only a message created at or after this instant (epoch ms) may change.
    pub created_since: i64,
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
    /// Messages from `from` on whose last change (sent, edited, deleted, a reaction added or removed) was
    /// at or after `since` (epoch ms), oldest first: what a client that holds them from `from` on, as they
    /// were at `since`, has missed (`sync` with `resume`).
    Changed {
        /// The oldest message the client holds.
        from: MessageId,
        /// When its copy was current, epoch ms (with the resume margin already taken off).
        since: i64,
    },
}

/// A booking and when it was last active (its last message, else its creation), for the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingActivity {
    /// The booking.
    pub booking: Booking,
    /// Epoch milliseconds of its last message, else of its creation.
    pub active_at: i64,
}

/// One connection of a member, for presence: live until `expires_at`.
#[derive(Debug, Clone, Copy)]
pub struct PresenceConnection<'a> {
    /// The member.
    pub user_id: &'a str,
    /// The connection (API Gateway's id, or the direct WebSocket's).
    pub connection_id: &'a str,
    /// When it lapses if no disconnect comes (its token's expiry), epoch milliseconds; for
    /// [`ChatStore::remove_presence`], when it closed.
    pub at: i64,
}

/// What a store keeps for presence in one booking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceRecords {
    /// (user, when the connection lapses, epoch ms) of every recorded connection.
    pub connections: Vec<(String, i64)>,
    /// (user, last seen, epoch ms): each member's last disconnect.
    pub last_seen: Vec<(String, i64)>,
}

impl PresenceRecords {
    /// Whether `user_id` has a live connection at `now` (epoch ms).
    pub fn is_online(&self, user_id: &str, now: i64) -> bool {
        self.connections.iter().any(|(user, expires_at)| user == user_id && *expires_at > now)
    }

    /// Every member with a record: online, or when last seen (their last disconnect, or a connection that
    /// lapsed without one), sorted by user id.
    pub fn members(&self, now: i64) -> Vec<chat_wire::MemberPresence> {
        let mut users: Vec<&str> = self
            .connections
            .iter()
            .map(|(user, _)| user.as_str())
            .chain(self.last_seen.iter().map(|(user, _)| user.as_str()))
            .collect();
        users.sort_unstable();
        users.dedup();
        users
            .into_iter()
            .map(|user| {
                let online = self.is_online(user, now);
                let seen = self.last_seen.iter().filter(|(u, _)| u == user).map(|(_, at)| *at);
                let lapsed = self.connections.iter().filter(|(u, _)| u == user).map(|(_, at)| (*at).min(now));
                let last_seen_at = if online { Some(now) } else { seen.chain(lapsed).max() };
                chat_wire::MemberPresence { user_id: user.to_owned(), online, last_seen_at }
            })
            .collect()
    }
}

/// Most bookings a user's inbox lists.
pub const MAX_INBOX_BOOKINGS: u32 = 100;

/// Most unread messages counted per booking: a count at the cap means "at least".
pub const MAX_UNREAD_COUNT: u32 = 999;

/// Most unread messages counted when a message arrives (the `unread` pushed to the other members' user
/// connections, on every message): a count at the cap means "at least", and it bounds what each message
/// reads.
pub const ARRIVAL_UNREAD_CAP: u32 = 99;

/// What [`ChatStore::put_booking`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingWrite {
    /// The booking did not exist and was created.
    Created,
    /// The booking existed and its owner, renter or title changed.
    Updated,
    /// The booking existed exactly so.
    Unchanged,
}

/// The store a backend runs on. Cheap to clone.
pub type Store = Arc<dyn ChatStore>;

/// Opens the store the settings name (not yet prepared: see [`ChatStore::prepare`]).
///
/// # Errors
/// [`StoreError::Database`] when a SQL database cannot be reached.
/// `sdk`: an SDK configuration loaded already, reused for DynamoDB in AWS.
pub async fn open(
    settings: &StoreSettings,
    sdk: Option<&aws_config::SdkConfig>,
) -> Result<Store, StoreError> {
    Ok(match settings {
        StoreSettings::Sql { url, max_connections } => {
            Arc::new(sql::SqlStore::connect(url, *max_connections).await?)
        }
        StoreSettings::DynamoDb { table, create_table, endpoint, aws_timeout } => {
            // A local DynamoDB (moto, DynamoDB Local): any credentials sign, none are checked.
            let sdk = chat_settings::aws::local_or_aws(endpoint.as_deref(), sdk, *aws_timeout).await;
            let client = aws_sdk_dynamodb::Client::new(&sdk);
            Arc::new(dynamodb::DynamoDbStore::new(client, table.as_str(), *create_table))
        }
    })
}

/// The chat's persistence: a port with an adapter per database.
pub trait ChatStore: Send + Sync + 'static {
    /// The database, for logs and readiness: `sqlite`, `postgres` or `dynamodb`.
    fn kind(&self) -> &'static str;

    /// Makes the database ready: migrations on SQL, the table's existence (or creation, when asked) on
    /// DynamoDB.
    fn prepare(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Checks that the database answers.
    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Releases connections (SQL); nothing to do elsewhere.
    fn close(&self) -> BoxFuture<'_, ()>;

    /// Inserts a booking unless one with its id exists; whether it inserted.
    fn insert_booking_if_absent<'a>(
        &'a self,
        booking: &'a Booking,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Creates a booking, or updates its owner, renter and title (never its status: see
    /// [`ChatStore::set_booking_status`]).
    fn put_booking<'a>(&'a self, booking: &'a Booking) -> BoxFuture<'a, Result<BookingWrite, StoreError>>;

    /// The booking with this id.
    fn booking(&self, id: BookingId) -> BoxFuture<'_, Result<Option<Booking>, StoreError>>;

    /// Moves a booking from `from` to `to`, only if it is still in `from`; whether it moved.
    fn set_booking_status(
        &self,
        id: BookingId,
        from: BookingStatus,
        to: BookingStatus,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// The operator hides a message of the booking, whoever sent it and however old: a tombstone
    /// (`deleted`, empty body, no reactions) carrying `reason` in its `moderation`. Hiding a hidden message
    /// changes nothing. The message as it is now; `None` when the booking has no such message.
    fn hide_message<'a>(
        &'a self,
        booking_id: BookingId,
        message_id: MessageId,
        reason: &'a str,
    ) -> BoxFuture<'a, Result<Option<ChatMessage>, StoreError>>;

    /// Replaces the chat state of a booking ([`chat_state`]) if its version is still `expected_version`
    /// (the `version` it was read at); whether it wrote. Go through [`chat_state::change`].
    fn put_chat_state<'a>(
        &'a self,
        booking_id: BookingId,
        state: &'a chat_state::ChatState,
        expected_version: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Stores a message with the booking's next id, or, when the sender already stored one with the same
    /// `client_message_id` in this booking, returns that one.
    fn insert_message<'a>(&'a self, new: NewMessage<'a>) -> BoxFuture<'a, Result<StoredMessage, StoreError>>;

    /// A page of a booking's history, oldest first, at most `limit` messages.
    fn messages(
        &self,
        booking_id: BookingId,
        cursor: PageCursor,
        limit: u32,
    ) -> BoxFuture<'_, Result<MessagePage, StoreError>>;

    /// Whether the booking has this message.
    fn message_exists(
        &self,
        booking_id: BookingId,
        message_id: MessageId,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// Adds the user's reaction if absent, removes it if present.
    fn toggle_reaction<'a>(
        &'a self,
        booking_id: BookingId,
        message_id: MessageId,
        user_id: &'a str,
        emoji: &'a str,
    ) -> BoxFuture<'a, Result<ReactionToggle, StoreError>>;

    /// Moves the user's read position forward to `message_id`; never backwards.
    fn mark_read<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        message_id: MessageId,
    ) -> BoxFuture<'a, Result<ReadPosition, StoreError>>;

    /// How many messages a booking has (tests and operations).
    fn count_messages(&self, booking_id: BookingId) -> BoxFuture<'_, Result<i64, StoreError>>;

    /// Records a live connection of a member (or moves its expiry, after a `refresh`).
    fn add_presence<'a>(
        &'a self,
        booking_id: BookingId,
        connection: PresenceConnection<'a>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Forgets a connection that closed and moves its member's last-seen time to `connection.at`.
    fn remove_presence<'a>(
        &'a self,
        booking_id: BookingId,
        connection: PresenceConnection<'a>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The booking's presence records.
    fn presence_records(&self, booking_id: BookingId) -> BoxFuture<'_, Result<PresenceRecords, StoreError>>;

    /// Every member's read position in a booking, by user id.
    fn read_positions(
        &self,
        booking_id: BookingId,
    ) -> BoxFuture<'_, Result<Vec<chat_wire::ReadPosition>, StoreError>>;

    /// The bookings `user_id` owns or rents, most recently active first, at most `limit` (itself at most
    /// [`MAX_INBOX_BOOKINGS`]).
    fn bookings_of<'a>(
        &'a self,
        user_id: &'a str,
        limit: u32,
    ) -> BoxFuture<'a, Result<Vec<BookingActivity>, StoreError>>;

    /// How many messages of a booking after `after` others than `user_id` sent and did not delete, counted
    /// up to `cap` (itself at most [`MAX_UNREAD_COUNT`]): a count at the cap means "at least".
    fn unread_count<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        after: MessageId,
        cap: u32,
    ) -> BoxFuture<'a, Result<u32, StoreError>>;
    /// One message of a booking with its reactions (none for a deleted one); `None` when the booking has
    /// no message with this id.
    fn message(
        &self,
        booking_id: BookingId,
        message_id: MessageId,
    ) -> BoxFuture<'_, Result<Option<ChatMessage>, StoreError>>;

    /// Replaces a message's body and sets its `edited_at` to now, in one write conditional on what
    /// [`OwnMessage`] says and on the message not being deleted. The message as it is afterwards, with its
    /// reactions; `None` when a condition failed (or there is no such message): [`ChatStore::message`]
    /// says which.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    fn edit_message<'a>(
        &'a self,
        change: OwnMessage<'a>,
        body: &'a str,
    ) -> BoxFuture<'a, Result<Option<ChatMessage>, StoreError>>;

    /// Turns a message into a tombstone (its body erased, its reactions removed or hidden, its id kept), in
    /// one write conditional as for [`ChatStore::edit_message`]. The tombstone; `None` when a condition
    /// failed, including when it was deleted already.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    fn delete_message<'a>(
        &'a self,
        change: OwnMessage<'a>,
    ) -> BoxFuture<'a, Result<Option<ChatMessage>, StoreError>>;

    /// Records a new upload (`pending`).
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Inconsistent`] when the id exists.
    fn create_attachment<'a>(
        &'a self,
        record: &'a attachments::AttachmentRecord,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// An upload's record; `None` when the booking has none with this id.
    fn attachment<'a>(
        &'a self,
        booking_id: BookingId,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<attachments::AttachmentRecord>, StoreError>>;

    /// Finishes a `pending` upload with what the processor found (`ready` or `rejected`), once: a second
    /// finish changes nothing. The record as it is afterwards; `None` for an unknown attachment.
    fn finish_attachment<'a>(
        &'a self,
        booking_id: BookingId,
        attachment: &'a chat_wire::Attachment,
    ) -> BoxFuture<'a, Result<Option<attachments::AttachmentRecord>, StoreError>>;

    /// Forgets uploads' records (a deleted or hidden message's, whose files are deleted); a missing one
    /// is not an error.
    fn delete_attachments<'a>(
        &'a self,
        booking_id: BookingId,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// A member's notification settings and their version (the defaults at version 0 when none are
    /// stored).
    fn notification_settings<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<VersionedSettings, StoreError>>;

    /// Replaces a member's notification settings if their version is still `expected_version` (0: none
    /// stored yet); whether it wrote. The caller reads, changes and retries on `false`, so concurrent
    /// changes (a mute in one tab, quiet hours in another) are never lost.
    fn put_notification_settings<'a>(
        &'a self,
        user_id: &'a str,
        settings: &'a NotificationSettings,
        expected_version: i64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Decides, in one conditional write, whether the notifier may notify `request.user_id` about
    /// `request.booking_id` up to `request.through` ([`crate::notifications::decide_claim`]), and records
    /// the claim when it may: of two notifiers racing for the same messages, one sends.
    fn claim_notification<'a>(
        &'a self,
        request: ClaimRequest<'a>,
    ) -> BoxFuture<'a, Result<Claim, StoreError>>;

    /// Puts back `previous` after a claim made with `request` could not be sent, if the claim is still
    /// the one recorded (a later claim is kept), so that a retry may send.
    fn release_notification<'a>(
        &'a self,
        request: ClaimRequest<'a>,
        previous: Option<Notified>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// A page of the messages of `search.bookings` that match its query, newest first, after its cursor
    /// ([`search`]); tombstones never match.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    fn search<'a>(
        &'a self,
        search: search::Search<'a>,
    ) -> BoxFuture<'a, Result<search::SearchPage, StoreError>>;

    /// The rate limits of `limits`, shared by every instance on this store ([`crate::rate_limit`]).
    fn rate_limits(&self, limits: crate::rate_limit::Limits) -> Arc<dyn RateLimits>;

    /// Members' reports and the operator's append-only audit log, on this store ([`moderation`]).
    fn moderation(&self) -> Arc<dyn moderation::ModerationStore>;

    /// A user's data and the retention job's, on this store ([`user_data`]).
    fn user_data(&self) -> &dyn user_data::UserDataStore;
}

/// Rate limits by user, kept where the chat is: an adapter per store, each shared by every instance on
/// it ([`crate::rate_limit`] says how they count).
pub trait RateLimits: Send + Sync + 'static {
    /// Counts one action of `user_id`; `false` means the user is over a limit (and nothing was counted).
    ///
    /// # Errors
    /// [`StoreError::Database`] when the count cannot be written.
    fn try_acquire<'a>(&'a self, user_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
}

/// Gives each message of a page its reactions, by message id; a tombstone shows none, even a reaction that
/// raced its delete (its reaction rows or items may outlive it).
pub(crate) fn attach_reactions(
    messages: &mut [ChatMessage],
    mut reactions: std::collections::HashMap<MessageId, Vec<ReactionSummary>>,
) {
    for message in messages.iter_mut().filter(|m| !m.deleted) {
        message.reactions = reactions.remove(&message.id).unwrap_or_default();
    }
}

/// Groups reactions (message, emoji, user), in the order they were made, by message and then by emoji in
/// the order each emoji was first used.
pub(crate) fn summarise<'a>(
    reactions: impl IntoIterator<Item = (MessageId, &'a str, &'a str)>,
) -> std::collections::HashMap<MessageId, Vec<ReactionSummary>> {
    let mut by_message: std::collections::HashMap<MessageId, Vec<ReactionSummary>> =
        std::collections::HashMap::new();
    for (message_id, emoji, user_id) in reactions {
        let summaries = by_message.entry(message_id).or_default();
        match summaries.iter_mut().find(|s| s.emoji == emoji) {
            Some(summary) => {
                summary.count += 1;
                summary.user_ids.push(user_id.to_owned());
            }
            None => summaries.push(ReactionSummary {
                emoji: emoji.to_owned(),
                count: 1,
                user_ids: vec![user_id.to_owned()],
            }),
        }
    }
    by_message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_is_a_live_connection_and_last_seen_respects_a_lost_disconnect() {
        let records = PresenceRecords {
            connections: vec![("alice".into(), 2_000), ("bob".into(), 900), ("carol".into(), 5_000)],
            last_seen: vec![("bob".into(), 500), ("dave".into(), 700), ("carol".into(), 100)],
        };
        let members = records.members(1_000);
        let view: Vec<(&str, bool, Option<i64>)> =
            members.iter().map(|m| (m.user_id.as_str(), m.online, m.last_seen_at)).collect();
        assert_eq!(
            view,
            vec![
                ("alice", true, Some(1_000)),
                ("bob", false, Some(900)), // its connection lapsed at 900 without a disconnect
                ("carol", true, Some(1_000)),
                ("dave", false, Some(700)),
            ]
        );
        assert!(!records.is_online("bob", 1_000));
        assert!(records.is_online("bob", 899));
    }
}
