//! Wire types for booking chat, shared by the backend, the Lambda proxy, the local emulator and the smoke test.
//!
//! Everything that crosses a process boundary is defined once, here, so that the parts cannot drift apart.
//! The contracts themselves are described in `docs/` (`protocol.md`, `proxy-contract.md`); this crate is
//! their executable form.
//!
//! # Layout
//! - [`client`]: frames a WebSocket client sends (`{"action": ..., "data": ..., "request_id": ...}`), including
//!   the two compatibility shapes of the frontend we replace, parsed into [`ClientFrame`].
//! - [`server`]: frames the server sends (`{"type": ..., "timestamp": ...}`), [`ServerFrame`], and the
//!   error codes every part uses, [`ErrorCode`].
//! - [`handshake`]: where the token comes from at the WebSocket handshake (query, subprotocol, headers).
//! - [`proxy`]: the HTTP contract between the Lambda and the backend (`/api/chat/ws/{booking_id}/...`), and
//!   who receives an answer ([`proxy::Audience`]).
//! - [`events`]: the chat events published for the app ([`events::ChatEvent`]), one per change.
//! - [`time`]: the clock as frames and records write it (epoch milliseconds and seconds).
//! - `token` (feature `mint`): minting HS256 tokens for local use and tests.

pub mod client;
pub mod events;
pub mod handshake;
pub mod proxy;
pub mod server;
pub mod time;
#[cfg(feature = "mint")]
pub mod token;

pub use client::{ClientAction, ClientFrame, FrameError, FrameRejection, ReportReason, Resume, SearchScope};
pub use server::{
    Attachment, AttachmentStatus, AttachmentVariant, ChatBlock, ChatClosure, ChatMessage, ChatStateView,
    ClosureReason, ContactKind, ErrorBody, ErrorCode, MemberPresence, Moderation, ReactionSummary,
    ReadPosition, SearchResult, ServerFrame, ServerPayload, UploadTarget,
};

/// Identifier of a booking (and so of a chat room). Positive.
pub type BookingId = i64;

/// Identifier of a chat message: assigned by the backend, increasing within a booking.
pub type MessageId = i64;
