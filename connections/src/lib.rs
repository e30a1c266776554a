//! WebSocket connections of bookings, and delivery to them: what the Lambda behind API Gateway and the
//! backend's own pushes (booking status) share.
//!
//! A connection is recorded when API Gateway accepts it (a user connection also under its user), listed by booking
//! for a broadcast, and forgotten on `$disconnect` or when API Gateway says it is gone. Frames reach it
//! through API Gateway's Management API. The record layout is `docs/connection-records.md`.
//!
//! # Layout
//! - [`record`]: a connection record and its TTL rule.
//! - [`ports`]: [`ports::ConnectionStore`] (where records live) and [`ports::ConnectionGateway`] (how
//!   frames reach connections), with their errors.
//! - [`store`]: the DynamoDB and in-memory stores.
//! - [`gateway`]: the Management API gateway and the endpoint rule.
//! - [`fanout`]: [`fanout::Fanout`], delivery to one connection or a whole booking, with bounded
//!   concurrency, Gone cleanup, jittered retries and EMF metrics.
//! - [`table`]: the DynamoDB table as Terraform creates it, for local DynamoDB and tests.
//! - [`metering`]: [`metering::AwsCalls`], counting the adapters' AWS calls by operation.
//! - [`emf`]: CloudWatch embedded-metric-format lines (from `chat-settings`, which every deployable shares).
//! - `testing` (feature `testing`): fakes of the ports for the tests of their users.

pub use chat_settings::emf;
pub mod billing;
pub mod fanout;
pub mod gateway;
pub mod metering;
pub mod ports;
pub mod record;
pub mod store;
pub mod table;
#[cfg(feature = "testing")]
pub mod testing;

pub use fanout::{Delivery, DeliveryPolicy, Fanout, FanoutReport, Recipient};
pub use ports::{ConnectionGateway, ConnectionStore, PostError, StoreError};
pub use record::ConnectionRecord;
