//! The Lambda behind the API Gateway WebSocket API.
//!
//! It knows nothing about chat: it authenticates connections through the backend, remembers them in
//! DynamoDB, forwards frames to the backend and relays the answers, to the sender or to every connection
//! of the booking. The contracts are in `shared/DESIGN.md` and the `chat-wire` crate.
//!
//! # Layout
//! - [`config`]: configuration read once at cold start.
//! - [`record`]: a connection record and its TTL rule.
//! - [`ports`]: what the proxy needs: [`ports::ConnectionStore`], [`ports::ConnectionGateway`],
//!   [`ports::Backend`].
//! - [`store`]: DynamoDB and in-memory connection stores.
//! - [`gateway`]: the Management API adapter and the endpoint rule.
//! - [`backend`]: the HTTP client of the backend's proxy routes.
//! - [`fanout`]: delivery with bounded concurrency, Gone cleanup, jittered retries and EMF metrics.
//! - [`handler`]: [`handler::Proxy`], which turns each event into the above.
//! - [`secrets`]: reading the proxy secret from SSM Parameter Store or Secrets Manager.
//!
//! Why `lambda_runtime` with `aws_lambda_events` and not `lambda_http`: `lambda_http` maps events onto
//! HTTP requests, and WebSocket events are not HTTP requests: they carry `routeKey`, `eventType`,
//! `connectionId` and `disconnectStatusCode`, which `lambda_http` does not expose, and a `$default` event has
//! no method or path at all.

pub mod backend;
pub mod config;
pub mod fanout;
pub mod gateway;
pub mod handler;
pub mod ports;
pub mod record;
pub mod secrets;
pub mod store;

pub use handler::{Proxy, ProxySettings};
