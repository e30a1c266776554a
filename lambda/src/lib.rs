//! The Lambda behind the API Gateway WebSocket API.
//!
//! It knows nothing about chat: it authenticates connections through the backend, remembers them in
//! DynamoDB, forwards frames to the backend and relays the answers, to the sender or to every connection
//! of the booking. The contracts are in `docs/` (the request path, the wire protocol, the Lambda ↔ backend
//! contract) and, as code, in the `chat-wire` crate; connection records and delivery are `chat-connections`.
//!
//! # Layout
//! - [`config`]: configuration read once at cold start.
//! - [`ports`]: [`ports::Backend`], the chat backend's proxy routes.
//! - [`backend`]: the HTTP client of those routes.
//! - [`authorizer`]: the `$connect` authorizer's event and answer, and the connection context it leaves
//!   for every later event.
//! - [`event`]: [`event::Event`] and [`event::Answer`], an invocation's JSON read and written directly.
//! - [`handler`]: [`handler::Proxy`], which turns each invocation into backend calls and deliveries.
//!
//! Why `lambda_runtime` with `aws_lambda_events` and not `lambda_http`: `lambda_http` maps events onto
//! HTTP requests, and WebSocket events are not HTTP requests: they carry `routeKey`, `eventType`,
//! `connectionId` and `disconnectStatusCode`, which `lambda_http` does not expose, and a `$default` event has
//! no method or path at all.

pub mod authorizer;
pub mod backend;
pub mod config;
pub mod event;
pub mod handler;
pub mod ports;

pub use handler::{InvocationError, Proxy, ProxySettings, Unauthorized};
