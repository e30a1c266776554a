//! A local API Gateway WebSocket API, faithful where code breaks when it is not.
//!
//! Nothing in the Rust world emulates API Gateway WebSockets, and the Node tool most people use drifts from
//! AWS in ways that break code only in production: no subprotocol echo, no stage in the management path,
//! made-up ids, no size limits. This one calls the Lambda exactly as API Gateway does and serves the
//! Management API where the AWS SDK expects it, so what works against it works on AWS.
//! docs/local-development.md lists where it still differs.
//!
//! It knows nothing of what runs behind it: any function that handles API Gateway WebSocket events.
//!
//! # Layout
//! - [`cli`]: the standalone binary's options (its `$connect` authorizer among them).
//! - [`config`]: stage, API id, custom routes, limits and the `$connect` authorizer.
//! - [`server`]: [`server::Emulator`]: the WebSocket side and the `@connections` Management API.
//! - [`events`]: the events it sends, field for field, and route selection.
//! - [`integration`]: its port to the function ([`integration::Integration`]) and the adapter for a
//!   function behind the Lambda Invoke API.
//! - [`connections`]: the live connections both sides share; also the Management API in process, for a
//!   function composed with the emulator in one process.
//! - [`ids`]: ids and timestamps in API Gateway's formats.

pub mod cli;
pub mod config;
pub mod connections;
pub mod events;
pub mod ids;
pub mod integration;
pub mod server;

pub use config::{EmulatorConfig, Limits};
pub use server::Emulator;
