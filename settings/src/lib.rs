//! How booking chat's deployables (the Lambda proxy, the backend, the local stack) read their settings.
//!
//! Settings are read once, at start, through a lookup function (the process environment, or a map in
//! tests), into typed values; a missing or malformed value stops the start with its name. Secrets are
//! never plain environment values in AWS: a setting names an SSM Parameter Store parameter or a Secrets
//! Manager secret, read once at cold start.
//!
//! # Layout
//! - [`env`](mod@env): [`env::ConfigError`], parsing helpers, and [`env::secret_source`] (where a secret comes from).
//! - [`secrets`]: [`secrets::resolve`], reading a secret from where its source says.
//! - [`aws`]: the AWS SDK configuration every deployable shares (call timeouts, its HTTPS client).
//! - [`emf`]: CloudWatch embedded-metric-format lines, the deployables' metrics.
//! - [`tls`]: the trust roots of every HTTPS client, read once.
//! - [`tables`]: DynamoDB tables created as Terraform creates them, for local runs and tests.
//! - `http` (feature `http`): how a failed HTTP call is described.
//! - `logs` (feature `logs`): the deployables' log setup: one JSON line per event, sampled by `LOG_SAMPLE_RATE`.
//! - `sqs` (feature `sqs`): an SQS queue and its local poll loop, for the notifier and the media processor.

pub mod aws;
pub mod emf;
pub mod env;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "logs")]
pub mod logs;
pub mod secrets;
#[cfg(feature = "sqs")]
pub mod sqs;
pub mod tables;
pub mod tls;

pub use env::{ConfigError, Lookup};
pub use secrets::SecretSource;
