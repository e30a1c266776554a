//! The chat service: the one implementation of every client action, used by both transports (the proxy
//! routes the Lambda calls, and the direct WebSocket).
//!
//! [`ChatService::handle_frame`] never fails: whatever goes wrong becomes an `error` frame for the sender,
//! because an error must never close a healthy connection. The other operations return [`ChatError`],
//! which the HTTP edge turns into a status code.

use std::sync::Arc;

use chat_wire::events::{Change, ChatEvent};
use chat_wire::proxy::{Audience, ConnectionType, MAX_USER_BOOKINGS, UserFrame};
use chat_wire::server::{MAX_CONNECTION_SECONDS, RESUME_MARGIN_MS};
use chat_wire::time::now_millis;
use chat_wire::{
    BookingId, ChatMessage, ChatStateView, ClientAction, ClientFrame, ContactKind, ErrorCode, MemberPresence,
    MessageId, ReadPosition, Resume, ServerFrame, ServerPayload,
};
use futures_util::StreamExt;
use serde_json::Value;

use crate::auth::{AuthError, TokenVerifier};
use crate::config::ChatLimits;
use crate::domain::{BodyError, Booking, BookingStatus, ClientMessageId, Emoji, MessageBody};
use crate::events::EventPublisher;
use crate::metrics::Metrics;
use crate::notifier::BookingNotifier;
use crate::store::{
    ARRIVAL_UNREAD_CAP, BookingActivity, BookingWrite, MAX_INBOX_BOOKINGS, MAX_UNREAD_COUNT, MessagePage,
    NewMessage, OwnMessage, PageCursor, PresenceConnection, RateLimits, Store, StoreError,
};

/// The envelope of a `history` frame around its messages (type, booking, `has_more`, a `request_id` of
/// up to 128 characters, timestamp), with room to spare: what a page's messages may not use of the limit.
const HISTORY_ENVELOPE_BYTES: usize = 1024;

/// `changed_by` of a status change the marketplace made through the service API.
pub const SERVICE_ACTOR: &str = "service";

mod attachments;
mod export;
mod moderation;
mod safety;
mod search;
mod user_data;
pub use attachments::{Files, Verdict};
pub use export::{EXPORT_FORMAT, ExportStream};
pub use moderation::{MAX_HIDE_REASON_CHARS, ReportInContext};
pub use safety::MAX_NOTE_CHARS;
pub use search::{OperatorScope, SNIPPET_CHARS, SearchRequest, SearchResults};
pub use user_data::{Budget, ERASED_REASON, Erasure, RetentionPass};

/// Why a chat operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The token is missing, invalid or expired.
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    /// A `refresh` brought another user's token: a connection keeps the user it was opened as.
    #[error("the new token is for another user; a connection keeps the user it was opened as")]
    OtherUser,
    /// The transport did not say when the connection's token expires (a proxy older than `session`).
    #[error("this connection's session is unknown to the server")]
    NoSession,
    /// No booking has this id.
    #[error("booking not found")]
    BookingNotFound,
    /// The user is neither the booking's owner nor its renter.
    #[error("you are not a member of this booking")]
    NotMember,
    /// Only the owner may do this.
    #[error("only the booking's owner may change its status")]
    NotOwner,
    /// No message with this id in this booking.
    #[error("message not found")]
    MessageNotFound,
    /// The request breaks a rule; the text says which.
    #[error("{0}")]
    Invalid(String),
    /// The request is larger than allowed; the text says what the limit is.
    #[error("{0}")]
    TooLarge(String),
    /// The user sends faster than the configured rate.
    #[error("too many requests: slow down")]
    RateLimited,
    /// The booking cannot move to the requested status.
    #[error("a booking cannot go from {from} to {to}")]
    InvalidTransition {
        /// The current status.
        from: &'static str,
        /// The requested one.
        to: &'static str,
    },
    /// The database failed; details are logged, never sent.
    #[error(transparent)]
    Unexpected(#[from] StoreError),
    /// Only a message's sender may edit or delete it.
    #[error("only the sender of a message may edit or delete it")]
    NotSender,
    /// The other member blocked the caller.
    #[error("the other member blocked you: you cannot write in this conversation")]
    Blocked,
    /// The chat is read-only.
    #[error("this conversation is closed: it can be read, not written")]
    ChatClosed,
    /// The deployment's pre-send hook refused the message; the text is its reason.
    #[error("message refused: {0}")]
    Refused(String),
    /// The pre-send hook failed and the deployment fails closed.
    #[error("the message checks are unavailable: try again")]
    HookUnavailable,
    /// No attachment with this id that the caller may see.
    #[error("attachment not found")]
    AttachmentNotFound,
    /// The file store failed; details are logged, never sent.
    #[error("the file store is unavailable: try again")]
    FilesUnavailable(#[source] chat_files::FileError),
}

impl ChatError {
    /// The wire code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(AuthError::Expired) => ErrorCode::TokenExpired,
            Self::Unauthenticated(_) | Self::OtherUser => ErrorCode::AuthenticationError,
            Self::BookingNotFound | Self::MessageNotFound => ErrorCode::NotFound,
            Self::NotMember | Self::NotOwner | Self::NotSender => ErrorCode::AuthorizationError,
            Self::Invalid(_) | Self::InvalidTransition { .. } => ErrorCode::ValidationError,
            Self::TooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::RateLimited => ErrorCode::RateLimited,
            Self::Blocked => ErrorCode::Blocked,
            Self::ChatClosed => ErrorCode::ChatClosed,
            Self::Refused(_) => ErrorCode::ValidationError,
            Self::HookUnavailable | Self::FilesUnavailable(_) => ErrorCode::BackendUnavailable,
            Self::AttachmentNotFound => ErrorCode::NotFound,
            Self::Unexpected(_) | Self::NoSession => ErrorCode::InternalError,
        }
    }

    /// The message clients may see: internals are hidden.
    pub fn public_message(&self) -> String {
        match self {
            Self::Unexpected(_) => "internal error".to_owned(),
            other => other.to_string(),
        }
    }
}

/// What the sender's frame produced, and who should receive it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The frame to deliver.
    pub frame: ServerFrame,
    /// Who receives it.
    pub audience: Audience,
    /// After a `refresh`: the connection's token now expires at this time (epoch seconds), and the
    /// transport must extend the connection to match before delivering the frame.
    pub renewed_until: Option<i64>,
    /// Frames for members' user connections of the booking (their `unread` counts), delivered with the
    /// frame by the transport that has user connections (through API Gateway; the direct WebSocket has
    /// none).
    pub user_frames: Vec<UserFrame>,
}

impl Reply {
    fn to_sender(frame: ServerFrame) -> Self {
        Self { frame, audience: Audience::Sender, renewed_until: None, user_frames: Vec::new() }
    }

    fn to_booking(frame: ServerFrame) -> Self {
        Self { frame, audience: Audience::Booking, renewed_until: None, user_frames: Vec::new() }
    }

    fn with_user_frames(self, user_frames: Vec<UserFrame>) -> Self {
        Self { user_frames, ..self }
    }
}

/// When a connection's token expires and when it was opened: what `session` answers from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// When the gateway accepted the connection, epoch milliseconds.
    pub connected_at: i64,
    /// When the connection's current token expires, epoch seconds.
    pub expires_at: i64,
}

impl Session {
    /// When the connection ends if nothing closes it first: its token's expiry, or the gateway's two
    /// hours; epoch milliseconds.
    pub fn lapses_at(self) -> i64 {
        self.expires_at
            .saturating_mul(1000)
            .min(self.connected_at.saturating_add(MAX_CONNECTION_SECONDS * 1000))
    }

    /// The `session` frame: expiry and closing time in epoch milliseconds.
    fn frame(self, user_id: &str) -> ServerFrame {
        let closes_at = self.connected_at.saturating_add(MAX_CONNECTION_SECONDS * 1000);
        let payload = ServerPayload::Session {
            user_id: user_id.to_owned(),
            expires_at: self.expires_at.saturating_mul(1000),
            closes_at,
        };
        ServerFrame::new(payload, now_millis())
    }
}

/// A page of history, oldest first, with where each member has read up to and who is online.
#[derive(Debug, Clone)]
pub struct History {
    /// The messages, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Whether more exist in the direction asked for.
    pub has_more: bool,
    /// Every member's read position.
    pub read_positions: Vec<ReadPosition>,
    /// Whether each member is online, and when they were last seen.
    pub presence: Vec<MemberPresence>,
    /// When the reads began, epoch ms: the `changed_since` of the client's next resume.
    pub synced_at: i64,
    /// Whether the chat may be written in, and who blocked whom.
    pub chat_state: ChatStateView,
}

/// One booking of a user's inbox.
#[derive(Debug, Clone)]
pub struct InboxEntry {
    /// The booking.
    pub booking: Booking,
    /// When it was last active (its last message, else its creation), epoch milliseconds.
    pub active_at: i64,
    /// Its latest message.
    pub last_message: Option<ChatMessage>,
    /// Messages of the other member after the user's read position (at most
    /// [`crate::store::MAX_UNREAD_COUNT`]).
    pub unread_count: u32,
    /// The user's own read position.
    pub last_read_message_id: Option<MessageId>,
    /// Every member's read position (the other member's says what the user's messages show as seen).
    pub read_positions: Vec<ReadPosition>,
}

/// Who sent a frame: the connection's booking, user and type, as recorded at connect time.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The booking the connection belongs to.
    pub booking_id: BookingId,
    /// The user the connection was authenticated as.
    pub user_id: &'a str,
    /// What the connection is for.
    pub connection_type: ConnectionType,
    /// The connection's session, when the transport reports it (both of ours do).
    pub session: Option<Session>,
    /// The connection (API Gateway's id, or the direct WebSocket's), for presence.
    pub connection_id: &'a str,
}

impl<'a> Caller<'a> {
    /// A member calling over HTTP: a chat caller without a connection.
    pub fn http(booking_id: BookingId, user_id: &'a str) -> Self {
        Self { booking_id, user_id, connection_type: ConnectionType::Chat, session: None, connection_id: "" }
    }
}

/// An accepted connection.
#[derive(Debug, Clone)]
pub struct Membership {
    /// Who connected.
    pub user_id: String,
    /// To which booking.
    pub booking: Booking,
    /// When the token expires, seconds since the Unix epoch.
    pub expires_at: i64,
}

/// An accepted user connection.
#[derive(Debug, Clone)]
pub struct UserMembership {
    /// Who connected.
    pub user_id: String,
    /// When the token expires, seconds since the Unix epoch.
    pub expires_at: i64,
    /// The user's bookings, most recently active first (at most
    /// [`chat_wire::proxy::MAX_USER_BOOKINGS`]).
    pub booking_ids: Vec<BookingId>,
}

/// Everything the chat does.
pub struct ChatService {
    store: Store,
    verifier: TokenVerifier,
    limits: ChatLimits,
    rate_limits: Arc<dyn RateLimits>,
    notifier: Arc<dyn BookingNotifier>,
    events: Arc<dyn EventPublisher>,
    metrics: Arc<Metrics>,
    moderation: Arc<dyn chat_store::moderation::ModerationStore>,
    presend: Option<Arc<crate::presend::PreSendHook>>,
    /// Members' files; `None`: attachments are off.
    files: Option<Files>,
}

impl ChatService {
    /// Wires the service to its store, token verifier, notifier and event publisher.
    pub fn new(
        store: Store,
        verifier: TokenVerifier,
        limits: ChatLimits,
        notifier: Arc<dyn BookingNotifier>,
        events: Arc<dyn EventPublisher>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            // Kept in the store, so every instance on it shares them.
            rate_limits: store.rate_limits(crate::rate_limit::Limits {
                per_minute: limits.rate_per_minute,
                burst: limits.rate_burst,
            }),
            moderation: store.moderation(),
            presend: None,
            files: None,
            store,
            verifier,
            limits,
            notifier,
            events,
            metrics,
        }
    }

    /// Publishes the event of `change` for the app ([`crate::events`]); best effort.
    async fn publish(&self, booking_id: BookingId, occurred_at: i64, change: Change) {
        self.events.publish(ChatEvent::new(booking_id, occurred_at, change)).await;
    }

    /// The same service, asking `hook` about each message and edit before storing it.
    #[must_use]
    pub fn with_presend(self, hook: Option<Arc<crate::presend::PreSendHook>>) -> Self {
        Self { presend: hook, ..self }
    }

    /// The same service, keeping members' files in `files` (attachments on).
    #[must_use]
    pub fn with_files(self, files: Option<Files>) -> Self {
        Self { files, ..self }
    }

    /// The store, for readiness checks.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The token verifier, for the HTTP edge.
    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }

    /// Authenticates a connection attempt and checks the user may join the booking.
    ///
    /// # Errors
    /// [`ChatError::Unauthenticated`], [`ChatError::BookingNotFound`], [`ChatError::NotMember`],
    /// [`ChatError::Unexpected`].
    pub async fn connect(&self, booking_id: BookingId, token: &str) -> Result<Membership, ChatError> {
        let claims = self.verifier.verify(token).await?;
        let booking = self.member_booking(booking_id, &claims.sub).await?;
        Ok(Membership { user_id: claims.sub, booking, expires_at: claims.exp })
    }

    /// Authenticates a user connection (`?type=user`, no booking) and lists the bookings it covers: the
    /// user's most recently active ones, at most [`chat_wire::proxy::MAX_USER_BOOKINGS`].
    ///
    /// # Errors
    /// [`ChatError::Unauthenticated`], [`ChatError::Unexpected`].
    pub async fn connect_user(&self, token: &str) -> Result<UserMembership, ChatError> {
        let claims = self.verifier.verify(token).await?;
        let limit = MAX_USER_BOOKINGS.min(MAX_INBOX_BOOKINGS);
        let bookings = self.store.bookings_of(&claims.sub, limit).await?;
        Ok(UserMembership {
            booking_ids: bookings.into_iter().map(|activity| activity.booking.id).collect(),
            user_id: claims.sub,
            expires_at: claims.exp,
        })
    }

    /// A member's connection opened (best effort: presence never refuses a connection). When it is their
    /// first live one, the booking hears that they came online.
    pub async fn joined(&self, booking_id: BookingId, session: Session, user_id: &str, connection_id: &str) {
        let connection = PresenceConnection { user_id, connection_id, at: session.lapses_at() };
        let now = now_millis();
        let was_online = match self.store.presence_records(booking_id).await {
            Ok(records) => records.is_online(user_id, now),
            Err(error) => {
                tracing::warn!(error = %error, "could not read presence");
                true
            }
        };
        if let Err(error) = self.store.add_presence(booking_id, connection).await {
            tracing::warn!(error = %error, "could not record a presence");
            return;
        }
        if !was_online {
            // Not to the joining connection itself: it may still be completing its handshake (a post to it
            // would answer 410), and its `sync` on opening says who is online.
            self.tell_presence(booking_id, user_id, true, now, Some(connection_id)).await;
        }
    }

    /// A member's connection closed (best effort). When it was their last live one, the booking hears
    /// that they went offline.
    pub async fn left(&self, booking_id: BookingId, user_id: &str, connection_id: &str) {
        let now = now_millis();
        let connection = PresenceConnection { user_id, connection_id, at: now };
        if let Err(error) = self.store.remove_presence(booking_id, connection).await {
            tracing::warn!(error = %error, "could not remove a presence");
            return;
        }
        match self.store.presence_records(booking_id).await {
            Ok(records) if !records.is_online(user_id, now) => {
                self.tell_presence(booking_id, user_id, false, now, None).await;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "could not read presence"),
        }
    }

    async fn tell_presence(
        &self,
        booking_id: BookingId,
        user_id: &str,
        online: bool,
        at: i64,
        except: Option<&str>,
    ) {
        let payload = ServerPayload::Presence {
            booking_id,
            user_id: user_id.to_owned(),
            online,
            last_seen_at: Some(at),
        };
        self.notifier.notify_except(booking_id, ServerFrame::new(payload, at), except).await;
    }

    /// The booking, if the user is its owner or renter.
    ///
    /// # Errors
    /// [`ChatError::BookingNotFound`], [`ChatError::NotMember`], [`ChatError::Unexpected`].
    pub async fn member_booking(&self, booking_id: BookingId, user_id: &str) -> Result<Booking, ChatError> {
        let booking = self.store.booking(booking_id).await?.ok_or(ChatError::BookingNotFound)?;
        if booking.is_member(user_id) { Ok(booking) } else { Err(ChatError::NotMember) }
    }

    /// A page of history for a member, with every member's read position and presence.
    ///
    /// # Errors
    /// As [`ChatService::member_booking`].
    pub async fn history(
        &self,
        booking_id: BookingId,
        user_id: &str,
        cursor: PageCursor,
        limit: Option<u32>,
    ) -> Result<History, ChatError> {
        let booking = self.member_booking(booking_id, user_id).await?;
        self.page_with_positions(&booking, cursor, limit).await
    }

    /// A page of history with the booking's read positions and presence, read concurrently.
    async fn page_with_positions(
        &self,
        booking: &Booking,
        cursor: PageCursor,
        limit: Option<u32>,
    ) -> Result<History, ChatError> {
        let booking_id = booking.id;
        let synced_at = now_millis();
        let (page, read_positions, presence) = futures_util::try_join!(
            self.page(booking_id, cursor, limit),
            async { Ok(self.store.read_positions(booking_id).await?) },
            async { Ok(self.store.presence_records(booking_id).await?) },
        )?;
        Ok(History {
            messages: page.messages,
            has_more: page.has_more,
            read_positions,
            presence: presence.members(now_millis()),
            synced_at,
            chat_state: self.chat_view(booking),
        })
    }

    /// The user's bookings, most recently active first (at most `limit`, capped), each with its last
    /// message, the user's unread count and every member's read position.
    ///
    /// # Errors
    /// [`ChatError::Unexpected`].
    pub async fn inbox(&self, user_id: &str, limit: Option<u32>) -> Result<Vec<InboxEntry>, ChatError> {
        let limit = limit.map_or(MAX_INBOX_BOOKINGS, |n| n.clamp(1, MAX_INBOX_BOOKINGS));
        let bookings = self.store.bookings_of(user_id, limit).await?;
        let entries = futures_util::stream::iter(bookings)
            .map(|activity| self.inbox_entry(user_id, activity))
            .buffered(8)
            .collect::<Vec<_>>()
            .await;
        entries.into_iter().collect()
    }

    async fn inbox_entry(&self, user_id: &str, activity: BookingActivity) -> Result<InboxEntry, ChatError> {
        let booking_id = activity.booking.id;
        let (last, read_positions) = futures_util::try_join!(
            self.store.messages(booking_id, PageCursor::Before(None), 1),
            self.store.read_positions(booking_id),
        )?;
        let last_read_message_id =
            read_positions.iter().find(|p| p.user_id == user_id).map(|p| p.last_read_message_id);
        let last_message = last.messages.into_iter().next_back();
        let unread_count = match &last_message {
            Some(last) if last_read_message_id.is_none_or(|read| read < last.id) => {
                let after = last_read_message_id.unwrap_or(0);
                self.store.unread_count(booking_id, user_id, after, MAX_UNREAD_COUNT).await?
            }
            _ => 0,
        };
        Ok(InboxEntry {
            booking: activity.booking,
            active_at: activity.active_at,
            last_message,
            unread_count,
            last_read_message_id,
            read_positions,
        })
    }

    /// A page of history sized to fit: at most `limit` (capped) messages, and at most the configured
    /// number of bytes, because a `history` frame over API Gateway's 128 KB message limit cannot be
    /// delivered at all. `has_more` says when the client should ask again.
    async fn page(
        &self,
        booking_id: BookingId,
        cursor: PageCursor,
        limit: Option<u32>,
    ) -> Result<MessagePage, ChatError> {
        let page = self.store.messages(booking_id, cursor, self.page_size(limit)).await?;
        let budget = self.limits.history_max_bytes.saturating_sub(HISTORY_ENVELOPE_BYTES);
        Ok(fit_page(page, cursor, budget))
    }

    /// Changes a booking's status (owner only, valid transitions only) and tells its connections.
    /// Returns the status it had before.
    ///
    /// # Errors
    /// [`ChatError::NotOwner`], [`ChatError::InvalidTransition`], and those of
    /// [`ChatService::member_booking`].
    pub async fn change_status(
        &self,
        booking_id: BookingId,
        user_id: &str,
        next: BookingStatus,
    ) -> Result<BookingStatus, ChatError> {
        let booking = self.member_booking(booking_id, user_id).await?;
        if booking.owner_id != user_id {
            return Err(ChatError::NotOwner);
        }
        self.transition(&booking, next, user_id).await
    }

    /// The marketplace's view of a booking (service API): any booking, no membership.
    ///
    /// # Errors
    /// [`ChatError::BookingNotFound`], [`ChatError::Unexpected`].
    pub async fn booking(&self, booking_id: BookingId) -> Result<Booking, ChatError> {
        self.store.booking(booking_id).await?.ok_or(ChatError::BookingNotFound)
    }

    /// Creates a booking or updates its owner, renter and title (service API, the CLI). Idempotent:
    /// the same booking twice is [`BookingWrite::Unchanged`]. A status given for an existing booking
    /// must be a valid transition (or the status it has), applied as [`ChatService::set_status`].
    ///
    /// # Errors
    /// [`ChatError::Invalid`] for malformed fields, [`ChatError::InvalidTransition`],
    /// [`ChatError::Unexpected`].
    pub async fn put_booking(&self, booking: &Booking) -> Result<BookingWrite, ChatError> {
        booking.validate().map_err(ChatError::Invalid)?;
        let before = self.store.booking(booking.id).await?;
        let written = self.store.put_booking(booking).await?;
        if written != BookingWrite::Created {
            self.set_status(booking.id, booking.status).await?;
        }
        if written != BookingWrite::Unchanged {
            self.members_changed(before.as_ref(), booking).await;
        }
        Ok(written)
    }

    /// Follows a change of members (`before` is `None` for a created booking). A member the marketplace
    /// removed stops receiving the booking at once, not when their token expires: their connections of it
    /// are told and closed (every frame they might still send is refused already: membership is checked
    /// on each). A new member's open user connections start covering the booking.
    async fn members_changed(&self, before: Option<&Booking>, after: &Booking) {
        let now = now_millis();
        let membership = |user_id: &str, member| {
            let payload =
                ServerPayload::Membership { booking_id: after.id, user_id: user_id.to_owned(), member };
            ServerFrame::new(payload, now)
        };
        let former = before.map_or(Vec::new(), |b| vec![&b.owner_id, &b.renter_id]);
        for user in former.into_iter().filter(|user| !after.is_member(user)) {
            let message = "you are no longer a member of this booking";
            let closing = ServerFrame::error(ErrorCode::RemovedFromBooking, message, now);
            self.notifier.evict(after.id, user, closing, membership(user, false)).await;
        }
        for user in [&after.owner_id, &after.renter_id] {
            if !before.is_some_and(|b| b.is_member(user)) {
                self.notifier.adopt(after.id, user, membership(user, true)).await;
            }
        }
    }

    /// Moves a booking to `next` for the marketplace (valid transitions only; nothing to do when it is
    /// there already) and tells its connections. Returns the status it had before.
    ///
    /// # Errors
    /// [`ChatError::BookingNotFound`], [`ChatError::InvalidTransition`], [`ChatError::Unexpected`].
    pub async fn set_status(
        &self,
        booking_id: BookingId,
        next: BookingStatus,
    ) -> Result<BookingStatus, ChatError> {
        let booking = self.booking(booking_id).await?;
        if booking.status == next {
            return Ok(next);
        }
        self.transition(&booking, next, SERVICE_ACTOR).await
    }

    /// Moves `booking` to `next` by compare-and-set from the status read, and tells its connections.
    async fn transition(
        &self,
        booking: &Booking,
        next: BookingStatus,
        changed_by: &str,
    ) -> Result<BookingStatus, ChatError> {
        let booking_id = booking.id;
        let invalid = || ChatError::InvalidTransition { from: booking.status.as_str(), to: next.as_str() };
        if !booking.status.can_become(next) {
            return Err(invalid());
        }
        if !self.store.set_booking_status(booking_id, booking.status, next).await? {
            // Someone else changed it between our read and our write.
            return Err(invalid());
        }
        let frame = ServerFrame::new(
            ServerPayload::BookingStatus {
                booking_id,
                status: next.as_str().to_owned(),
                previous_status: booking.status.as_str().to_owned(),
                changed_by: changed_by.to_owned(),
            },
            now_millis(),
        );
        let change = Change::BookingStatusChanged {
            status: next.as_str().to_owned(),
            previous_status: booking.status.as_str().to_owned(),
            changed_by: changed_by.to_owned(),
        };
        tokio::join!(self.notifier.notify(booking_id, frame), self.publish(booking_id, now_millis(), change));
        if matches!(next, BookingStatus::Cancelled | BookingStatus::Completed) {
            self.booking_ended(booking_id).await;
        }
        Ok(booking.status)
    }

    /// Handles one client frame and says what to send to whom. Errors become `error` frames to the
    /// sender; `message` is a parsed JSON value or the frame's raw text.
    #[tracing::instrument(skip_all, fields(booking_id = caller.booking_id, user_id = %caller.user_id, action))]
    pub async fn handle_frame(&self, caller: Caller<'_>, message: Value) -> Reply {
        let parsed = match message {
            Value::String(text) => ClientFrame::parse(&text),
            other => ClientFrame::from_value(other),
        };
        let frame = match parsed {
            Ok(frame) => frame,
            Err(rejection) => {
                self.metrics.frame("invalid", ErrorCode::ValidationError.as_str());
                return Reply::to_sender(
                    ServerFrame::error(ErrorCode::ValidationError, rejection.error.to_string(), now_millis())
                        .answering(rejection.request_id),
                );
            }
        };
        let action = frame.action.name();
        tracing::Span::current().record("action", action);
        let request_id = frame.request_id.clone();
        match self.act(caller, frame.action).await {
            Ok(reply) => {
                self.metrics.frame(action, "ok");
                Reply { frame: reply.frame.answering(request_id), ..reply }
            }
            Err(error) => {
                let code = error.code();
                if let ChatError::Unexpected(source) = &error {
                    tracing::error!(error = %source, cause = ?std::error::Error::source(source), "chat action failed");
                } else if let ChatError::FilesUnavailable(source) = &error {
                    tracing::error!(error = %source, "the file store failed");
                } else {
                    tracing::info!(code = code.as_str(), "chat action refused");
                }
                self.metrics.frame(action, code.as_str());
                Reply::to_sender(
                    ServerFrame::error(code, error.public_message(), now_millis()).answering(request_id),
                )
            }
        }
    }

    /// One action, by the method that implements it.
    async fn act(&self, caller: Caller<'_>, action: ClientAction) -> Result<Reply, ChatError> {
        match action {
            ClientAction::Ping => Ok(Reply::to_sender(ServerFrame::new(ServerPayload::Pong, now_millis()))),
            ClientAction::SendMessage { body, client_message_id, attachments } => {
                self.send_message(caller, body, client_message_id, &attachments).await
            }
            ClientAction::UploadAttachment { name, content_type, size } => {
                self.upload_frame(caller, &name, &content_type, size).await
            }
            ClientAction::AttachmentUrl { attachment_id, variant } => {
                self.attachment_url_frame(caller, &attachment_id, variant).await
            }
            ClientAction::GetAttachment { attachment_id } => {
                self.attachment_frame(caller, &attachment_id).await
            }
            ClientAction::React { message_id, emoji } => self.react(caller, message_id, &emoji).await,
            ClientAction::Read { message_id } => self.read(caller, message_id).await,
            ClientAction::Typing { is_typing } => self.typing(caller, is_typing).await,
            ClientAction::Session => {
                let session = caller.session.ok_or(ChatError::NoSession)?;
                Ok(Reply::to_sender(session.frame(caller.user_id)))
            }
            ClientAction::Refresh { token } => self.refresh(caller, &token).await,
            ClientAction::Sync { after_message_id, before_message_id, resume, limit } => {
                let cursor = match (resume, after_message_id) {
                    (Some(Resume { from_message_id, changed_since }), _) => PageCursor::Changed {
                        from: from_message_id,
                        since: changed_since.saturating_sub(RESUME_MARGIN_MS),
                    },
                    (None, Some(after)) => PageCursor::After(after),
                    (None, None) => PageCursor::Before(before_message_id),
                };
                self.sync(caller, cursor, limit).await
            }
            ClientAction::EditMessage { message_id, body } => {
                self.edit_message(caller, message_id, body).await
            }
            ClientAction::DeleteMessage { message_id } => self.delete_message(caller, message_id).await,
            ClientAction::Block => self.block_frame(caller, true).await,
            ClientAction::Unblock => self.block_frame(caller, false).await,
            ClientAction::Report { reason, message_id, details } => {
                self.report_frame(caller, reason, message_id, details).await
            }
            ClientAction::Search { query, scope, before, limit } => {
                self.search_frame(caller, &query, scope, before.as_deref(), limit).await
            }
        }
    }

    /// What every chat action but `ping` requires: a chat connection, a user under the rate limit, and
    /// membership, checked on every frame and not only at connect (a booking's members can change).
    /// Returns the booking.
    async fn admit(&self, caller: Caller<'_>) -> Result<Booking, ChatError> {
        if caller.connection_type == ConnectionType::Booking {
            return Err(ChatError::Invalid(
                "a booking-status connection only receives status updates; connect with type=chat".into(),
            ));
        }
        self.count_action(caller.user_id).await?;
        self.member_booking(caller.booking_id, caller.user_id).await
    }

    /// Counts one action of `user_id` against the rate limit, shared by every instance on the store.
    ///
    /// # Errors
    /// [`ChatError::RateLimited`] when the user is over it; [`ChatError::Unexpected`].
    pub(super) async fn count_action(&self, user_id: &str) -> Result<(), ChatError> {
        if self.rate_limits.try_acquire(user_id).await? { Ok(()) } else { Err(ChatError::RateLimited) }
    }

    /// `refresh`: the connection's user presents a new token, still a member of the booking; the
    /// connection lives on until the new token expires (or the gateway's two hours end).
    async fn refresh(&self, caller: Caller<'_>, token: &str) -> Result<Reply, ChatError> {
        let session = caller.session.ok_or(ChatError::NoSession)?;
        self.count_action(caller.user_id).await?;
        let claims = self.verifier.verify(token).await?;
        if claims.sub != caller.user_id {
            return Err(ChatError::OtherUser);
        }
        self.member_booking(caller.booking_id, caller.user_id).await?;
        let renewed = Session { expires_at: claims.exp, ..session };
        // The member stays online as long as the connection now lives (a user connection counts for no
        // presence: it renews its records in every booking, through the transport).
        if caller.connection_type != ConnectionType::User {
            let connection = PresenceConnection {
                user_id: caller.user_id,
                connection_id: caller.connection_id,
                at: renewed.lapses_at(),
            };
            if let Err(error) = self.store.add_presence(caller.booking_id, connection).await {
                tracing::warn!(error = %error, "could not extend the connection's presence");
            }
        }
        Ok(Reply { renewed_until: Some(claims.exp), ..Reply::to_sender(renewed.frame(caller.user_id)) })
    }

    /// `send_message`: stores the message (once per `client_message_id`) and sends it to the booking.
    async fn send_message(
        &self,
        caller: Caller<'_>,
        body: String,
        client_message_id: Option<String>,
        attachment_ids: &[String],
    ) -> Result<Reply, ChatError> {
        let booking = self.admit_writer(caller).await?;
        let client_message_id =
            client_message_id.map(ClientMessageId::parse).transpose().map_err(ChatError::Invalid)?;
        // Files say enough: a message of attachments alone needs no text.
        let (body, masked) = if body.trim().is_empty() && !attachment_ids.is_empty() {
            (String::new(), Vec::new())
        } else {
            let body = self.presend(&booking, caller.user_id, self.body(body)?, None).await?;
            let (body, masked) = self.hide_contacts(&booking, body)?;
            (body.as_str().to_owned(), masked)
        };
        let may_retry = client_message_id.is_some();
        let attachments =
            self.attachments_to_send(caller.booking_id, caller.user_id, attachment_ids, may_retry).await?;
        let stored = self
            .store
            .insert_message(NewMessage {
                booking_id: caller.booking_id,
                sender_id: caller.user_id,
                body: &body,
                client_message_id: client_message_id.as_ref().map(ClientMessageId::as_str),
                attachments: &attachments,
            })
            .await
            .map_err(|error| match error {
                StoreError::AttachmentUnavailable(id) => {
                    ChatError::Invalid(format!("attachment {id} is on another message already, or not ready"))
                }
                other => ChatError::Unexpected(other),
            })?;
        let readers: Vec<&String> =
            [&booking.owner_id, &booking.renter_id].into_iter().filter(|m| *m != caller.user_id).collect();
        // A retry publishes nothing more: the app hears of each message once.
        let created = stored.inserted.then(|| Change::MessageCreated {
            message: stored.message.clone(),
            recipients: readers.iter().map(|reader| (*reader).clone()).collect(),
        });
        if stored.inserted {
            self.metrics.messages_stored.inc();
        }
        let published = async {
            if let Some(change) = created {
                self.publish(caller.booking_id, stored.message.created_at, change).await;
            }
        };
        let (unread, ()) =
            tokio::join!(self.unread_frames(caller.booking_id, readers.into_iter()), published);
        // A retry is broadcast again: delivery is at least once, and clients de-duplicate by message id.
        // The store guarantees a retry never creates a second message.
        let payload =
            ServerPayload::Message { booking_id: caller.booking_id, message: stored.message, masked };
        Ok(Reply::to_booking(ServerFrame::new(payload, now_millis())).with_user_frames(unread))
    }

    /// The `unread` count of each of `readers` after a message arrived, for their user connections (every
    /// inbox they have open): one `Query` of the booking's read positions, and a count per reader (at most
    /// [`ARRIVAL_UNREAD_CAP`]). Best effort: the message is stored already, and a reader whose count
    /// cannot be read gets none.
    async fn unread_frames<'a>(
        &self,
        booking_id: BookingId,
        readers: impl Iterator<Item = &'a String>,
    ) -> Vec<UserFrame> {
        let positions = match self.store.read_positions(booking_id).await {
            Ok(positions) => positions,
            Err(error) => {
                tracing::warn!(error = %error, "could not read the read positions for unread counts");
                return Vec::new();
            }
        };
        let mut frames = Vec::new();
        for reader in readers {
            let read = positions.iter().find(|p| &p.user_id == reader).map(|p| p.last_read_message_id);
            match self.unread_frame(booking_id, reader, read, ARRIVAL_UNREAD_CAP).await {
                Ok(frame) => frames.push(UserFrame::new(reader.as_str(), &frame)),
                Err(error) => tracing::warn!(error = %error, "could not count unread messages"),
            }
        }
        frames
    }

    /// `reader`'s `unread` frame for the booking, given their read position.
    async fn unread_frame(
        &self,
        booking_id: BookingId,
        reader: &str,
        last_read_message_id: Option<MessageId>,
        cap: u32,
    ) -> Result<ServerFrame, StoreError> {
        let after = last_read_message_id.unwrap_or(0);
        let unread_count = self.store.unread_count(booking_id, reader, after, cap).await?;
        let payload = ServerPayload::Unread { booking_id, unread_count, last_read_message_id };
        Ok(ServerFrame::new(payload, now_millis()))
    }

    /// `react`: toggles the caller's reaction and sends the message's reactions to the booking.
    async fn react(
        &self,
        caller: Caller<'_>,
        message_id: MessageId,
        emoji: &str,
    ) -> Result<Reply, ChatError> {
        self.admit_writer(caller).await?;
        let emoji =
            Emoji::parse(emoji).ok_or_else(|| ChatError::Invalid("emoji must be a single emoji".into()))?;
        match self.store.message(caller.booking_id, message_id).await? {
            // A message of another booking is reported exactly like a missing one: ids leak nothing.
            None => return Err(ChatError::MessageNotFound),
            Some(message) if message.deleted => {
                return Err(ChatError::Invalid("the message was deleted: it takes no reactions".into()));
            }
            Some(_) => {}
        }
        let toggled =
            self.store.toggle_reaction(caller.booking_id, message_id, caller.user_id, emoji.as_str()).await?;
        let payload = ServerPayload::Reaction {
            booking_id: caller.booking_id,
            message_id,
            user_id: caller.user_id.to_owned(),
            emoji: emoji.as_str().to_owned(),
            added: toggled.added,
            reactions: toggled.reactions,
        };
        Ok(Reply::to_booking(ServerFrame::new(payload, now_millis())))
    }

    /// `read`: moves the caller's read position forward; a receipt that moved goes to the booking, one
    /// that did not (it tells the others nothing new) to the sender only.
    async fn read(&self, caller: Caller<'_>, message_id: MessageId) -> Result<Reply, ChatError> {
        self.admit(caller).await?;
        self.check_message_in_booking(caller.booking_id, message_id).await?;
        let position = self.store.mark_read(caller.booking_id, caller.user_id, message_id).await?;
        let payload = ServerPayload::Receipt {
            booking_id: caller.booking_id,
            user_id: caller.user_id.to_owned(),
            last_read_message_id: position.last_read_message_id,
        };
        let frame = ServerFrame::new(payload, now_millis());
        if !position.moved {
            return Ok(Reply::to_sender(frame));
        }
        let change = Change::MessageRead {
            user_id: caller.user_id.to_owned(),
            last_read_message_id: position.last_read_message_id,
        };
        self.publish(caller.booking_id, frame.timestamp, change).await;
        // The reader's new count goes to their user connections (every tab and device that shows the
        // inbox), in the receipt's own fan-out. Best effort: the read position has moved already.
        let reader = caller.user_id;
        let read = Some(position.last_read_message_id);
        let unread = match self.unread_frame(caller.booking_id, reader, read, MAX_UNREAD_COUNT).await {
            Ok(unread) => vec![UserFrame::new(reader, &unread)],
            Err(error) => {
                tracing::warn!(error = %error, "could not count unread messages");
                Vec::new()
            }
        };
        Ok(Reply::to_booking(frame).with_user_frames(unread))
    }

    /// `typing`: relayed to the others, never stored.
    async fn typing(&self, caller: Caller<'_>, is_typing: bool) -> Result<Reply, ChatError> {
        self.admit_writer(caller).await?;
        let payload = ServerPayload::Typing {
            booking_id: caller.booking_id,
            user_id: caller.user_id.to_owned(),
            is_typing,
        };
        Ok(Reply {
            audience: Audience::BookingExceptSender,
            ..Reply::to_sender(ServerFrame::new(payload, now_millis()))
        })
    }

    /// `sync`: a page of history for the caller.
    async fn sync(
        &self,
        caller: Caller<'_>,
        cursor: PageCursor,
        limit: Option<u32>,
    ) -> Result<Reply, ChatError> {
        let booking = self.admit(caller).await?;
        let page = self.page_with_positions(&booking, cursor, limit).await?;
        let payload = ServerPayload::History {
            booking_id: caller.booking_id,
            messages: page.messages,
            has_more: page.has_more,
            read_positions: page.read_positions,
            presence: page.presence,
            synced_at: Some(page.synced_at),
            chat_state: Some(page.chat_state),
        };
        Ok(Reply::to_sender(ServerFrame::new(payload, now_millis())))
    }

    /// `edit_message`: replaces the text of the caller's own message, within the edit window, and sends
    /// the message as it is now to the booking.
    async fn edit_message(
        &self,
        caller: Caller<'_>,
        message_id: MessageId,
        body: String,
    ) -> Result<Reply, ChatError> {
        let booking = self.admit_writer(caller).await?;
        let own = self.own_message(caller, message_id)?;
        let body = self.presend(&booking, caller.user_id, self.body(body)?, Some(message_id)).await?;
        let (body, masked) = self.hide_contacts(&booking, body)?;
        match self.store.edit_message(own, body.as_str()).await? {
            Some(message) => {
                let edited_at = message.edited_at.unwrap_or_else(now_millis);
                self.publish(
                    caller.booking_id,
                    edited_at,
                    Change::MessageEdited { message: message.clone() },
                )
                .await;
                Ok(message_updated(message, masked))
            }
            None => match self.deleted_or_refused(own).await {
                Ok(_tombstone) => {
                    Err(ChatError::Invalid("the message was deleted: it can no longer be edited".into()))
                }
                Err(refusal) => Err(refusal),
            },
        }
    }

    /// `delete_message`: turns the caller's own message into a tombstone, within the edit window, and sends
    /// the tombstone to the booking. Deleting a deleted message answers its tombstone again (and sends it
    /// to the booking again, as a retried `send_message` is: clients replace a message by id).
    async fn delete_message(&self, caller: Caller<'_>, message_id: MessageId) -> Result<Reply, ChatError> {
        self.admit_writer(caller).await?;
        let own = self.own_message(caller, message_id)?;
        // Its files go with it: what they are is on the message, which the delete clears.
        let before = match self.files {
            Some(_) => self.store.message(caller.booking_id, message_id).await?,
            None => None,
        };
        let tombstone = match self.store.delete_message(own).await? {
            Some(tombstone) => {
                if let Some(before) = &before {
                    self.delete_files(before).await;
                }
                let change = Change::MessageDeleted {
                    message_id: tombstone.id,
                    sender_id: tombstone.sender_id.clone(),
                };
                self.publish(caller.booking_id, now_millis(), change).await;
                tombstone
            }
            // Deleted before: its event was published then.
            None => self.deleted_or_refused(own).await?,
        };
        Ok(message_updated(tombstone, vec![]))
    }

    /// What an edit or a delete asks the store to check: the caller's message of this booking, sent within
    /// the edit window. Refused when the window is zero (editing is turned off).
    fn own_message<'a>(
        &self,
        caller: Caller<'a>,
        message_id: MessageId,
    ) -> Result<OwnMessage<'a>, ChatError> {
        let window = self.limits.edit_window;
        if window.is_zero() {
            return Err(ChatError::Invalid("editing and deleting messages is turned off".into()));
        }
        let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
        Ok(OwnMessage {
            booking_id: caller.booking_id,
            message_id,
            sender_id: caller.user_id,
            created_since: now_millis().saturating_sub(window_ms),
        })
    }

    /// After the store refused to change a message, reads it to say why (the write's conditions decided;
    /// this only names the one that failed): the caller's tombstone when it is deleted already and nothing
    /// else is wrong, else the refusal.
    async fn deleted_or_refused(&self, own: OwnMessage<'_>) -> Result<ChatMessage, ChatError> {
        let message =
            self.store.message(own.booking_id, own.message_id).await?.ok_or(ChatError::MessageNotFound)?;
        if message.sender_id != own.sender_id {
            return Err(ChatError::NotSender);
        }
        if message.deleted {
            return Ok(message);
        }
        if message.created_at < own.created_since {
            return Err(ChatError::Invalid(format!(
                "a message can only be edited or deleted within {} of sending it",
                describe(self.limits.edit_window)
            )));
        }
        // Sender, window and tombstone never change back, so one of them must have failed the write.
        Err(StoreError::Inconsistent(format!("message {} refused a change for no reason", own.message_id))
            .into())
    }

    /// `body` with the contact details the deployment hides while `booking` is in its status replaced by
    /// their placeholders (before anything stores or sends it: the original is kept nowhere), and the
    /// kinds hidden. A placeholder is longer than what it hides, so the result may pass the length limit
    /// by up to [`MASK_SLACK_CHARS`] (a message of nothing but details beyond that is `PAYLOAD_TOO_LARGE`).
    fn hide_contacts(
        &self,
        booking: &Booking,
        body: MessageBody,
    ) -> Result<(MessageBody, Vec<ContactKind>), ChatError> {
        let policy = &self.limits.contact_masking;
        if !policy.statuses.contains(&booking.status) {
            return Ok((body, vec![]));
        }
        let Some(masked) =
            chat_store::contact::mask_with(body.as_str(), &policy.kinds, &policy.phone_regions)
        else {
            return Ok((body, vec![]));
        };
        self.metrics.contacts_masked.inc();
        let hidden = MessageBody::parse(masked.text, self.limits.max_message_chars + MASK_SLACK_CHARS)
            .map_err(|_| {
                ChatError::TooLarge(format!(
                    "too many contact details to hide while the booking is {}: send fewer",
                    booking.status.as_str()
                ))
            })?;
        Ok((hidden, masked.kinds))
    }

    /// A message body as `send_message` and `edit_message` accept it.
    fn body(&self, text: String) -> Result<MessageBody, ChatError> {
        MessageBody::parse(text, self.limits.max_message_chars).map_err(|e| match e {
            BodyError::TooLong { .. } => ChatError::TooLarge(e.to_string()),
            BodyError::Empty | BodyError::ControlCharacter(_) => ChatError::Invalid(e.to_string()),
        })
    }

    async fn check_message_in_booking(
        &self,
        booking_id: BookingId,
        message_id: MessageId,
    ) -> Result<(), ChatError> {
        // A message of another booking is reported exactly like a missing one: ids leak nothing.
        if self.store.message_exists(booking_id, message_id).await? {
            Ok(())
        } else {
            Err(ChatError::MessageNotFound)
        }
    }

    fn page_size(&self, requested: Option<u32>) -> u32 {
        let max = self.limits.history_page_size;
        requested.map_or(max, |n| n.clamp(1, max))
    }
}

/// How far past `MAX_MESSAGE_LENGTH` a body may grow when its contact details are replaced by placeholders
/// (about twenty of them): with the longest limit (30,000) a message frame still fits API Gateway's 128 KB.
const MASK_SLACK_CHARS: usize = 1_000;

/// A `message_updated` frame for the booking: the sender's copy is its acknowledgement.
fn message_updated(message: ChatMessage, masked: Vec<ContactKind>) -> Reply {
    let payload = ServerPayload::MessageUpdated { booking_id: message.booking_id, message, masked };
    Reply::to_booking(ServerFrame::new(payload, now_millis()))
}

/// A duration as a person says it: `15 minutes`, `1 hour`, `90 seconds`.
fn describe(window: std::time::Duration) -> String {
    let seconds = window.as_secs();
    let (count, unit) = match seconds {
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

/// Drops messages from the far end of a page (the newest when reading forward, the oldest when reading
/// back) until their JSON fits `max_bytes`, keeping at least one; a page that lost messages says
/// `has_more`, so the client asks again from where it ends.
fn fit_page(mut page: MessagePage, cursor: PageCursor, max_bytes: usize) -> MessagePage {
    let sizes: Vec<usize> = page
        .messages
        .iter()
        .map(|m| serde_json::to_vec(m).map_or(usize::MAX, |json| json.len() + 1))
        .collect();
    let forward = !matches!(cursor, PageCursor::Before(_));
    let mut used = 0usize;
    let mut keep = 0;
    let order: Box<dyn Iterator<Item = &usize>> =
        if forward { Box::new(sizes.iter()) } else { Box::new(sizes.iter().rev()) };
    for size in order {
        if keep > 0 && used.saturating_add(*size) > max_bytes {
            break;
        }
        used = used.saturating_add(*size);
        keep += 1;
    }
    let dropped = page.messages.len() - keep;
    if dropped > 0 {
        if forward {
            page.messages.truncate(keep);
        } else {
            page.messages.drain(..dropped);
        }
        page.has_more = true;
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_of(bodies: &[usize]) -> MessagePage {
        let messages = bodies
            .iter()
            .enumerate()
            .map(|(i, len)| ChatMessage {
                id: i as i64 + 1,
                booking_id: 1,
                sender_id: "alice".into(),
                body: "x".repeat(*len),
                client_message_id: None,
                created_at: 0,
                reactions: Vec::new(),
                edited_at: None,
                deleted: false,
                moderation: None,
                attachments: Vec::new(),
            })
            .collect();
        MessagePage { messages, has_more: false }
    }

    fn ids(page: &MessagePage) -> Vec<i64> {
        page.messages.iter().map(|m| m.id).collect()
    }

    #[test]
    fn a_page_over_the_byte_budget_keeps_the_messages_nearest_the_cursor_and_says_has_more() {
        let forward = fit_page(page_of(&[400, 400, 400, 400]), PageCursor::After(0), 1200);
        assert_eq!(ids(&forward), vec![1, 2]);
        assert!(forward.has_more);
        let back = fit_page(page_of(&[400, 400, 400, 400]), PageCursor::Before(None), 1200);
        assert_eq!(ids(&back), vec![3, 4], "reading back keeps the newest");
        assert!(back.has_more);
    }

    #[test]
    fn a_page_within_budget_is_untouched_and_one_message_always_fits() {
        let fits = fit_page(page_of(&[10, 10]), PageCursor::After(0), 10_000);
        assert_eq!((ids(&fits), fits.has_more), (vec![1, 2], false));
        let huge = fit_page(page_of(&[5000, 10]), PageCursor::After(0), 100);
        assert_eq!((ids(&huge), huge.has_more), (vec![1], true));
    }

    #[test]
    fn the_edit_window_is_described_in_its_largest_whole_unit() {
        use std::time::Duration;
        assert_eq!(describe(Duration::from_secs(900)), "15 minutes");
        assert_eq!(describe(Duration::from_secs(3600)), "1 hour");
        assert_eq!(describe(Duration::from_secs(7200)), "2 hours");
        assert_eq!(describe(Duration::from_secs(90)), "90 seconds");
        assert_eq!(describe(Duration::from_secs(1)), "1 second");
        assert_eq!(describe(Duration::from_secs(60)), "1 minute");
    }
}
