//! The backend as a Lambda function: the same routes, served by `lambda_http` behind API Gateway's HTTP
//! API (or invoked directly by the proxy with the same event), instead of a listener.
//!
//! Configuration is read once at cold start; secrets given by reference are fetched once
//! ([`crate::config::resolve_secrets`]). The direct WebSocket is absent ([`Hosting::Lambda`]): a Lambda
//! invocation cannot hold a connection; clients use the API Gateway WebSocket API.
//!
//! With `CHAT_JOB=retention` the same binary is the retention job's function instead ([`run_job`]):
//! EventBridge Scheduler invokes it hourly with any JSON, and each invocation runs one pass.

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
    let job = chat_settings::env::process_env("CHAT_JOB");
    let sdk_config = chat_settings::aws::load(chat_settings::aws::DEFAULT_TIMEOUT).await;
    let lookup = resolve_secrets(chat_settings::env::process_env, &sdk_config).await?;
    if let Some(job) = job {
        return run_job(&job, lookup, &sdk_config).await;
    }
    let settings = Settings::from_lookup(lookup)?;
    telemetry::init(settings.json_logs, Hosting::Lambda)?;
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

/// How long one pass of the retention job may work: the function's timeout must leave it a margin
/// (Terraform gives it 300 s).
const JOB_BUDGET: std::time::Duration = std::time::Duration::from_secs(240);

/// The function as the job `job` names (only `retention`): one pass per invocation, answering what it
/// did; a failed pass fails the invocation, which the errors alarm counts (the scheduler invokes it
/// asynchronously and Terraform turns Lambda's own retries off: the next hour's pass is the retry).
///
/// The job serves no request, so it needs neither the JWT secret nor the proxy's: placeholders nobody can
/// know stand in for them when they are not set.
async fn run_job(
    job: &str,
    lookup: impl Fn(&str) -> Option<String>,
    sdk_config: &aws_config::SdkConfig,
) -> Result<(), Error> {
    if job != "retention" {
        return Err(format!("CHAT_JOB={job:?} is not a job: the only one is `retention`").into());
    }
    let placeholder = uuid::Uuid::new_v4().simple().to_string().repeat(2);
    let settings = Settings::from_lookup(move |key: &str| {
        lookup(key).or_else(|| matches!(key, "JWT_SECRET" | "PROXY_SECRET").then(|| placeholder.clone()))
    })?;
    telemetry::init(settings.json_logs, Hosting::Lambda)?;
    let store = store::open(&settings.store, Some(sdk_config)).await?;
    store.prepare().await?;
    let push = notifier::api_gateway(&settings, Some(sdk_config)).await;
    let events = events::publisher(&settings.events, Some(sdk_config)).await;
    let files = open_files(&settings, Some(sdk_config)).await?;
    let chat = AppState::new(&settings, store, push, events, files).chat;
    tracing::info!("retention job function ready");
    let handler = lambda_http::service_fn(move |_: lambda_http::LambdaEvent<serde_json::Value>| {
        let chat = chat.clone();
        async move {
            let pass = chat.run_retention("retention", JOB_BUDGET).await?;
            tracing::info!(?pass, "retention pass");
            Ok::<_, Error>(pass)
        }
    });
    lambda_http::lambda_runtime::run(handler).await
}
