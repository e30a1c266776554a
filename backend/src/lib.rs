//! The booking chat backend.
//!
//! It owns bookings' chat: messages, reactions, read receipts and typing, plus booking status changes. It is
//! reached two ways that share one implementation: the Lambda behind API Gateway calls the proxy routes
//! (`/api/chat/ws/{booking_id}/...`, see `chat_wire::proxy`), and, for local use, clients can open the
//! direct WebSocket `/chat/ws/{booking_id}`. The marketplace tells it about bookings through the service
//! API (`/api/service/bookings/...`). It runs as a server (`chat-backend`) or as a Lambda function
//! (`chat-backend-lambda`, [`lambda`]) with the same routes.
//!
//! # Layout
//! - [`config`]: typed settings, read once from the environment.
//! - [`auth`]: JWT verification (HS256 with the shared secret; RS256 and ES256 against an identity
//!   provider's JWKS, fetched and cached) and minting (nothing of the HTTP edge).
//! - [`domain`], [`store`], [`rate_limit`]: the `chat-store` crate's (the domain's rules and value types,
//!   the [`store::ChatStore`] port and its SQL and DynamoDB adapters, the shared rate limits), re-exported
//!   under the names the backend has always used.
//! - [`chat`]: [`chat::ChatService`], every client action (one method each), used by both transports.
//! - [`notifier`]: the [`notifier::BookingNotifier`] port, the in-process [`notifier::LocalHub`], and
//!   [`notifier::FanoutNotifier`] (API Gateway connections, through `chat-connections`).
//! - [`events`]: the [`events::EventPublisher`] port of the chat's events for the app, and its adapters
//!   (EventBridge, a JSON-lines file).
//! - [`preferences`]: members' notification settings and the unsubscribe link (the notifier, a
//!   deployable of its own, reads them through the store).
//! - [`lambda`]: the Lambda entry point (`lambda_http`).
//! - [`metrics`]: Prometheus metrics.
//! - [`http`]: routes, extractors (the authenticated [`http::AuthUser`] among them), the error type of the
//!   HTTP edge, and [`http::Application`], the startup path.
//! - [`seed`]: the demo bookings.
//! - [`shutdown`]: the signals that stop a server.
//! - [`telemetry`]: log setup.
//!
//! Dependencies point one way: `http` → `chat`, `preferences` → `domain`, `auth`, `store`, `notifier`,
//! `events`.

pub mod auth;
pub mod chat;
pub mod config;
pub mod events;
pub mod http;
pub mod lambda;
pub mod metrics;
pub mod notifier;
pub mod outbound;
pub mod preferences;
pub mod presend;
pub mod seed;
pub mod shutdown;
pub mod telemetry;

pub use chat_store::{domain, rate_limit};
pub use config::Settings;

/// The `chat-store` crate: the [`store::ChatStore`] port and its adapters.
pub use chat_store as store;
pub use http::Application;
