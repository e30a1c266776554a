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

/// The SDK configuration from the environment (credentials, region, `AWS_ENDPOINT_URL`), with calls
/// bounded by `timeout`.
pub async fn load(timeout: Duration) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeouts(timeout)).load().await
}
