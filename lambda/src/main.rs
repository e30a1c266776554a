//! The Lambda's entry point: read the configuration, build every client once, serve events.

use chat_connections::gateway::ManagementApiGateway;
use chat_connections::store::DynamoDbConnectionStore;
use chat_proxy::backend::HttpBackend;
use chat_proxy::config::ProxyConfig;
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
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let config = ProxyConfig::from_env()?;
    let sdk_config = chat_settings::aws::load(config.aws_timeout).await;
    let secret = chat_settings::secrets::resolve("PROXY_SECRET", &config.proxy_secret, &sdk_config).await?;
    let proxy = Proxy::new(
        DynamoDbConnectionStore::from_sdk_config(&sdk_config, &config.table_name),
        ManagementApiGateway::new(sdk_config.clone()),
        HttpBackend::new(&config.backend_url, secret, config.backend_timeout)?,
        ProxySettings::from_config(&config),
    );
    let proxy = &proxy;
    // One function is both the `$connect` authorizer and the integration of every route.
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        proxy.invoke(event.payload).await.map_err(Error::from)
    }))
    .await
}
