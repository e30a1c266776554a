//! The AWS SDK configuration every deployable shares: the default credential chain and region, and call
//! timeouts well under API Gateway's 29 s.

use std::time::Duration;

/// How long one AWS call (DynamoDB, the Management API, a secret) may take, retries included, unless
/// `AWS_TIMEOUT_MS` says otherwise. DynamoDB answers in milliseconds; a call that takes seconds is a
/// service in trouble, and the client must hear so long before API Gateway's own 29 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// The AWS SDK timeouts for a budget of `total` per call: connecting gets at most a second, each attempt
/// half the budget (so one retry fits), the whole call `total`.
pub fn timeouts(total: Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(total.min(Duration::from_secs(1)))
        .operation_attempt_timeout(total / 2)
        .operation_timeout(total)
        .build()
}

/// The SDK's stalled-stream protection, off, for clients whose bodies are small (connection records, frames):
/// it watches every request and response body for a stall (under one byte a second after a grace period of
/// 5 s), and such bodies are sent and read well within the calls' [`timeouts`], which end a stalled call
/// first. The watch is a measurable part of the instructions of each call of the proxy.
pub fn without_stall_protection()
-> aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig {
    aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig::disabled()
}

/// The SDK configuration from the environment (credentials, region, `AWS_ENDPOINT_URL`), with calls
/// bounded by `timeout`, over [`https_client`].
pub async fn load(timeout: Duration) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https_client())
        .timeout_config(timeouts(timeout))
        .load()
        .await
}

/// The SDK configuration of a local AWS emulator at `endpoint` (moto, DynamoDB Local): calls bounded by
/// `timeout`, signed with made-up credentials in `us-east-1`, since nothing there checks them.
pub fn local(endpoint: &str, timeout: Duration) -> aws_config::SdkConfig {
    use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .http_client(https_client())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "local", "local", None, None, "local",
        )))
        .timeout_config(timeouts(timeout))
        .build()
}

/// The SDK configuration of a service that may be emulated: [`local`] at `endpoint` when one is given
/// (moto, DynamoDB Local), else AWS's through [`reuse_or_load`].
pub async fn local_or_aws(
    endpoint: Option<&str>,
    loaded: Option<&aws_config::SdkConfig>,
    timeout: Duration,
) -> aws_config::SdkConfig {
    match endpoint {
        Some(endpoint) => local(endpoint, timeout),
        None => reuse_or_load(loaded, timeout).await,
    }
}

/// The SDK configuration with calls bounded by `timeout`: `loaded`'s credentials, region and HTTP client
/// when a configuration was loaded already (a Lambda's cold start loads one for its secrets), without
/// resolving them again; else [`load`].
pub async fn reuse_or_load(
    loaded: Option<&aws_config::SdkConfig>,
    timeout: Duration,
) -> aws_config::SdkConfig {
    match loaded {
        Some(loaded) => loaded.to_builder().timeout_config(timeouts(timeout)).build(),
        None => load(timeout).await,
    }
}

/// The one HTTPS client of the AWS SDK: rustls on ring, trusting the system roots read once
/// (`crate::tls`). Connections are made on first use.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    let trust = tls::TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(crate::tls::system_roots().pem.clone());
    let context = tls::TlsContext::builder().with_trust_store(trust).build();
    let builder = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring));
    match context {
        Ok(context) => builder.tls_context(context).build_https(),
        Err(_) => builder.build_https(),
    }
}
