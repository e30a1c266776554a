//! The backend as a Lambda function: the same routes, served by `lambda_http` behind API Gateway's HTTP
//! API (or invoked directly by the proxy with the same event), instead of a listener.
//!
//! Configuration is read once at cold start; secrets given by reference are fetched once
//! ([`crate::config::resolve_secrets`]). The direct WebSocket is absent ([`Hosting::Lambda`]): a Lambda
//! invocation cannot hold a connection; clients use the API Gateway WebSocket API.

use crate::config::{Settings, resolve_secrets};
use crate::http::{AppState, Hosting, open_files, router};
use crate::{events, notifier, seed, store, telemetry};

/// Why the function could not start or serve.
pub type Error = lambda_http::Error;

/// Reads the configuration, opens the store, and serves Lambda events until the runtime stops.
///
/// # Errors
/// A configuration, secret or store error at cold start (Lambda reports it as an init error), or the
/// runtime's.
pub async fn run() -> Result<(), Error> {
    let sdk_config = chat_settings::aws::load(chat_settings::aws::DEFAULT_TIMEOUT).await;
    let settings =
        Settings::from_lookup(resolve_secrets(chat_settings::env::process_env, &sdk_config).await?)?;
    telemetry::init(settings.json_logs);
    // One SDK configuration for the whole cold start: the secrets', reused by the store, the notifier and
    // the events.
    let store = store::open(&settings.store, Some(&sdk_config)).await?;
    store.prepare().await?;
    if settings.seed_demo_data {
        seed::demo_bookings(store.as_ref()).await?;
    }
    let push = notifier::api_gateway(&settings, Some(&sdk_config)).await;
    tracing::info!(store = store.kind(), "backend function ready");
    let events = events::publisher(&settings.events, Some(&sdk_config)).await;
    let files = open_files(&settings, Some(&sdk_config)).await?;
    let state = AppState::new(&settings, store, push, events, files);
    // The identity provider's keys, if any, during the cold start (a failure is logged, not fatal).
    state.chat.verifier().prefetch().await;
    let app = router(state, Hosting::Lambda);
    lambda_http::run(app).await
}
