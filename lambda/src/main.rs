//! The Lambda's entry point: read the configuration, build every client once, serve events.

use chat_connections::gateway::ManagementApiGateway;
use chat_connections::store::DynamoDbConnectionStore;
use chat_proxy::backend::{HttpBackend, InvokeBackend};
use chat_proxy::config::{BackendTarget, ProxyConfig};
use chat_proxy::event::Event;
use chat_proxy::ports::Backend;
use chat_proxy::{InvocationError, Proxy, ProxySettings};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::value::RawValue;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread: Lambda hands an execution environment one event at a time, and the work of an event waits on
// the network. Worker threads would only pass its connections' tasks between threads (a wake-up and a
// system call each time), which was a tenth of a message's CPU.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // One JSON line per event, each key once, no timestamp (CloudWatch stamps every line): chat_settings::logs.
    // `RUST_LOG` is a level (error, warn, info, debug, trace), not a filter expression: the regex engine of
    // the filter expressions is a tenth of the zip. `LOG_SAMPLE_RATE=N` keeps every warning and error and
    // one in N invocations' other lines.
    chat_settings::logs::init(true)?;

    let config = ProxyConfig::from_env()?;
    let sdk_config = chat_settings::aws::load(config.aws_timeout).await;
    let secret = chat_settings::secrets::resolve("PROXY_SECRET", &config.proxy_secret, &sdk_config).await?;
    let store = DynamoDbConnectionStore::from_sdk_config(&sdk_config, &config.table_name);
    let gateway = ManagementApiGateway::new(sdk_config.clone());
    let settings = ProxySettings::from_config(&config);
    match &config.backend {
        BackendTarget::Url(url) => {
            let backend = HttpBackend::new(url, secret, config.backend_timeout)?;
            serve(Proxy::new(store, gateway, backend, settings)).await
        }
        BackendTarget::Function(function) => {
            let backend = InvokeBackend::new(&sdk_config, function, secret, config.backend_timeout);
            serve(Proxy::new(store, gateway, backend, settings)).await
        }
    }
}

/// Serves events until the runtime stops. One function is both the `$connect` authorizer and the
/// integration of every route. Each event's text is read straight into its type ([`Event`]).
async fn serve<B: Backend>(
    proxy: Proxy<DynamoDbConnectionStore, ManagementApiGateway, B>,
) -> Result<(), Error> {
    let proxy = &proxy;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        let event = Event::from_json(event.payload.get()).map_err(InvocationError::from)?;
        proxy.answer(event).await.map_err(Error::from)
    }))
    .await
}
