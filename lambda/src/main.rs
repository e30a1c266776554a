//! The Lambda's entry point: read the configuration, build every client once, serve events.

use chat_connections::gateway::ManagementApiGateway;
use chat_connections::store::DynamoDbConnectionStore;
use chat_proxy::backend::{HttpBackend, InvokeBackend};
use chat_proxy::config::{BackendTarget, ProxyConfig};
use chat_proxy::ports::Backend;
use chat_proxy::{Proxy, ProxySettings};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .without_time() // CloudWatch stamps every line
        // `RUST_LOG` is a level (error, warn, info, debug, trace), not a filter expression: the regex
        // engine of the filter expressions is a tenth of the zip.
        .with_max_level(
            std::env::var("RUST_LOG")
                .ok()
                .and_then(|level| level.parse::<tracing::Level>().ok())
                .unwrap_or(tracing::Level::INFO),
        )
        .init();

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
/// integration of every route.
async fn serve<B: Backend>(
    proxy: Proxy<DynamoDbConnectionStore, ManagementApiGateway, B>,
) -> Result<(), Error> {
    let proxy = &proxy;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        proxy.invoke(event.payload).await.map_err(Error::from)
    }))
    .await
}
