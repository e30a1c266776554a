//! The booking chat backend.
//!
//! It owns bookings' chat: messages, reactions, read receipts and typing, plus booking status changes. It is
//! reached two ways that share one implementation: the Lambda behind API Gateway calls the proxy routes
//! (`/api/chat/ws/{booking_id}/...`, see `chat_wire::proxy`), and, for local use, clients can open the
//! direct WebSocket `/chat/ws/{booking_id}`.
//!
//! # Layout
//! - [`config`]: typed settings, read once from the environment.
//! - [`auth`]: JWT verification and minting; the [`auth::AuthUser`] extractor.
//! - [`domain`]: rules without I/O (statuses and transitions, bodies, emoji).
//! - [`store`]: SQLite / PostgreSQL persistence through one set of queries.
//! - [`chat`]: [`chat::ChatService`], every client action, used by both transports.
//! - [`notifier`]: the [`notifier::BookingNotifier`] port and the in-process [`notifier::LocalHub`].
//! - [`rate_limit`]: per-user token buckets.
//! - [`metrics`]: Prometheus metrics.
//! - [`http`]: routes, the error type of the HTTP edge, and [`http::Application`], the startup path.
//! - [`seed`]: the demo bookings.
//! - [`shutdown`]: the signals that stop a server.
//! - [`telemetry`]: log setup.

pub mod auth;
pub mod chat;
pub mod config;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod notifier;
pub mod rate_limit;
pub mod seed;
pub mod shutdown;
pub mod store;
pub mod telemetry;

pub use config::Settings;
pub use http::Application;
