//! What the emulated API looks like: its stage, id, custom routes and API Gateway's limits.

use std::time::Duration;

/// API Gateway's WebSocket limits; each one can be lowered for tests.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest frame; a larger one closes the connection with 1009 (AWS: 32 KB).
    pub max_frame_bytes: usize,
    /// Largest message, across frames (AWS: 128 KB).
    pub max_message_bytes: usize,
    /// A connection with no traffic for this long is closed (AWS: 10 minutes).
    pub idle_timeout: Duration,
    /// No connection lives longer than this (AWS: 2 hours).
    pub max_connection_duration: Duration,
    /// How long an integration may take (AWS: 29 seconds).
    pub integration_timeout: Duration,
    /// How many invocations run at once (AWS: the function's concurrency, 1,000 per account by default).
    /// Keep it at or below what the integration can take: `cargo lambda watch` queues at most 100
    /// invocations and was seen to stall beyond that.
    pub max_concurrent_invocations: usize,
    /// How long API Gateway takes, once `$connect` has answered 200, to complete the upgrade. The
    /// connection is still connecting meanwhile, so the Management API answers 410 for it: the window in
    /// which a fan-out finds a connection's record before the connection can receive anything. On AWS it
    /// is the network's round trip to the client; zero by default, raised by tests of that race.
    pub upgrade_delay: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 32 * 1024,
            max_message_bytes: 128 * 1024,
            idle_timeout: Duration::from_secs(10 * 60),
            max_connection_duration: Duration::from_secs(2 * 60 * 60),
            integration_timeout: Duration::from_secs(29),
            max_concurrent_invocations: 1000,
            upgrade_delay: Duration::ZERO,
        }
    }
}

/// A Lambda `REQUEST` authorizer on `$connect`, run by the function behind the API (the same one that
/// handles the routes, told apart by the event's shape).
#[derive(Debug, Clone, Default)]
pub struct AuthorizerConfig {
    /// Identity sources such as `route.request.header.Authorization` or `route.request.querystring.token`:
    /// a handshake missing any of them is refused with 401 before the authorizer runs. None: it always runs.
    pub identity_sources: Vec<String>,
}

/// The emulated WebSocket API.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The stage: clients connect to `/{stage}`, the Management API is `/{stage}/@connections/{id}`.
    pub stage: String,
    /// The API id put in events (`requestContext.apiId`).
    pub api_id: String,
    /// Route keys selected by `$request.body.action` before falling back to `$default`.
    pub routes: Vec<String>,
    /// API Gateway's limits.
    pub limits: Limits,
    /// The `$connect` authorizer, if the API has one.
    pub authorizer: Option<AuthorizerConfig>,
    /// The region put in ARNs.
    pub region: String,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            stage: "local".into(),
            api_id: "localapi00".into(),
            routes: Vec::new(),
            limits: Limits::default(),
            authorizer: None,
            region: "us-east-1".into(),
        }
    }
}
