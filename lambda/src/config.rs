//! The proxy's configuration, read once at cold start from the environment.
//!
//! Fails fast naming every missing key. The proxy secret is a plain value locally (`PROXY_SECRET`); in AWS
//! it is fetched once at cold start from SSM Parameter Store (`PROXY_SECRET_SSM_PARAMETER`, a SecureString)
//! or Secrets Manager (`PROXY_SECRET_SECRETS_MANAGER_ID`), never from a plaintext variable.

use std::time::Duration;

use secrecy::SecretString;

/// API Gateway gives an integration 29 s; the backend must answer well within that.
pub const API_GATEWAY_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);

/// How long one AWS call (DynamoDB, the Management API, a secret) may take, retries included, unless
/// `AWS_TIMEOUT_MS` says otherwise. DynamoDB answers in milliseconds; a call that takes seconds is a
/// service in trouble, and the client must hear so long before API Gateway's own 29 s.
pub const DEFAULT_AWS_TIMEOUT: Duration = Duration::from_secs(3);

/// The AWS SDK timeouts for a budget of `total` per call: connecting gets at most a second, each attempt
/// half the budget (so one retry fits), the whole call `total`.
pub fn aws_timeouts(total: Duration) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(total.min(Duration::from_secs(1)))
        .operation_attempt_timeout(total / 2)
        .operation_timeout(total)
        .build()
}

/// Where the proxy secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// The value itself (local development and tests).
    Plain(SecretString),
    /// The name of an SSM Parameter Store parameter (SecureString, decrypted at read).
    SsmParameter(String),
    /// The id or ARN of a Secrets Manager secret (its `SecretString`).
    SecretsManager(String),
}

/// Everything the proxy needs.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Base URL of the chat backend, e.g. `https://chat.internal.example.com`.
    pub backend_url: String,
    /// How long to wait for the backend before answering `BACKEND_UNAVAILABLE`.
    pub backend_timeout: Duration,
    /// How long one AWS call may take, retries included ([`aws_timeouts`]).
    pub aws_timeout: Duration,
    /// The DynamoDB table of connection records.
    pub table_name: String,
    /// Where the secret shared with the backend comes from.
    pub proxy_secret: SecretSource,
    /// Largest frame forwarded; larger ones are answered with `PAYLOAD_TOO_LARGE`.
    pub max_frame_bytes: usize,
    /// How many PostToConnection calls run at once during a fan-out.
    pub fanout_concurrency: usize,
    /// Attempts per PostToConnection when throttled or failing with 5xx (1 means no retry).
    pub post_attempts: u32,
    /// The Management API endpoint; when unset it is built from the event's `apiId` and `stage` and this
    /// region (never from `domainName`, which is wrong behind a custom domain).
    pub management_endpoint: Option<String>,
    /// The region, for building the Management API endpoint.
    pub region: Option<String>,
    /// CloudWatch namespace of the embedded-metric-format lines.
    pub metrics_namespace: String,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Keys that must be set are not.
    #[error("missing required configuration: {}", .0.join(", "))]
    Missing(Vec<&'static str>),
    /// A key is set to something unusable.
    #[error("invalid {key}: {reason}")]
    Invalid {
        /// The environment variable.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl ProxyConfig {
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming every missing key, or the first malformed one.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads the configuration through `lookup` (tests, the local emulator).
    ///
    /// # Errors
    /// As [`ProxyConfig::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut missing = Vec::new();
        let backend_url = lookup("BACKEND_URL").unwrap_or_else(|| {
            missing.push("BACKEND_URL");
            String::new()
        });
        let table_name = lookup("CONNECTIONS_TABLE").unwrap_or_else(|| {
            missing.push("CONNECTIONS_TABLE");
            String::new()
        });
        let sources = [
            lookup("PROXY_SECRET").map(|v| SecretSource::Plain(SecretString::from(v))),
            lookup("PROXY_SECRET_SSM_PARAMETER").map(SecretSource::SsmParameter),
            lookup("PROXY_SECRET_SECRETS_MANAGER_ID").map(SecretSource::SecretsManager),
        ];
        let mut sources = sources.into_iter().flatten();
        let proxy_secret = sources.next();
        if sources.next().is_some() {
            return Err(ConfigError::Invalid {
                key: "PROXY_SECRET",
                reason: "set only one of PROXY_SECRET, PROXY_SECRET_SSM_PARAMETER, PROXY_SECRET_SECRETS_MANAGER_ID"
                    .into(),
            });
        }
        if proxy_secret.is_none() {
            missing.push("PROXY_SECRET (or PROXY_SECRET_SSM_PARAMETER or PROXY_SECRET_SECRETS_MANAGER_ID)");
        }
        let management_endpoint = lookup("MANAGEMENT_ENDPOINT").map(|e| e.trim_end_matches('/').to_owned());
        let region = lookup("AWS_REGION").or_else(|| lookup("AWS_DEFAULT_REGION"));
        if management_endpoint.is_none() && region.is_none() {
            missing.push("AWS_REGION (or MANAGEMENT_ENDPOINT)");
        }
        let (Some(proxy_secret), true) = (proxy_secret, missing.is_empty()) else {
            return Err(ConfigError::Missing(missing));
        };
        if !(backend_url.starts_with("http://") || backend_url.starts_with("https://")) {
            return Err(ConfigError::Invalid { key: "BACKEND_URL", reason: "must be an http(s) URL".into() });
        }

        let backend_timeout = Duration::from_millis(parse(&lookup, "BACKEND_TIMEOUT_MS", 10_000)?);
        if backend_timeout.is_zero() || backend_timeout >= API_GATEWAY_INTEGRATION_TIMEOUT {
            return Err(ConfigError::Invalid {
                key: "BACKEND_TIMEOUT_MS",
                reason: "must be above 0 and below API Gateway's 29 s integration timeout".into(),
            });
        }
        let default_ms = u64::try_from(DEFAULT_AWS_TIMEOUT.as_millis()).unwrap_or(u64::MAX);
        let aws_timeout = Duration::from_millis(parse(&lookup, "AWS_TIMEOUT_MS", default_ms)?);
        if aws_timeout < Duration::from_millis(100) || aws_timeout >= API_GATEWAY_INTEGRATION_TIMEOUT / 2 {
            return Err(ConfigError::Invalid {
                key: "AWS_TIMEOUT_MS",
                reason: "must be at least 100 and below 14500 (half of API Gateway's 29 s)".into(),
            });
        }
        let config = Self {
            backend_url: backend_url.trim_end_matches('/').to_owned(),
            backend_timeout,
            aws_timeout,
            table_name,
            proxy_secret,
            max_frame_bytes: parse(&lookup, "MAX_FRAME_BYTES", 32 * 1024)?,
            fanout_concurrency: parse(&lookup, "FANOUT_CONCURRENCY", 32)?,
            post_attempts: parse(&lookup, "POST_ATTEMPTS", 3)?,
            management_endpoint,
            region,
            metrics_namespace: lookup("METRICS_NAMESPACE").unwrap_or_else(|| "BookingChat".into()),
        };
        for (key, value) in [
            ("MAX_FRAME_BYTES", config.max_frame_bytes),
            ("FANOUT_CONCURRENCY", config.fanout_concurrency),
            ("POST_ATTEMPTS", config.post_attempts as usize),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid { key, reason: "must be greater than zero".into() });
            }
        }
        Ok(config)
    }
}

fn parse<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    key: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match lookup(key) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid { key, reason: format!("{raw:?}: {e}") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<ProxyConfig, ConfigError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ProxyConfig::from_lookup(|k| map.get(k).cloned())
    }

    const BASE: &[(&str, &str)] = &[
        ("BACKEND_URL", "http://127.0.0.1:8000/"),
        ("CONNECTIONS_TABLE", "connections"),
        ("PROXY_SECRET", "s"),
        ("AWS_REGION", "eu-west-1"),
    ];

    #[test]
    fn defaults_are_within_api_gateway_limits() {
        let c = config(BASE).expect("valid");
        assert_eq!(c.backend_url, "http://127.0.0.1:8000");
        assert!(c.backend_timeout < API_GATEWAY_INTEGRATION_TIMEOUT);
        assert_eq!(c.aws_timeout, DEFAULT_AWS_TIMEOUT);
        assert_eq!(c.max_frame_bytes, 32 * 1024);
        assert!(matches!(c.proxy_secret, SecretSource::Plain(_)));
        assert!(!format!("{c:?}").contains("\"s\""), "the secret never prints");
    }

    #[test]
    fn every_missing_key_is_named() {
        let err = config(&[]).expect_err("nothing configured");
        let text = err.to_string();
        for key in ["BACKEND_URL", "CONNECTIONS_TABLE", "PROXY_SECRET", "AWS_REGION"] {
            assert!(text.contains(key), "{text}");
        }
    }

    #[test]
    fn the_secret_comes_from_exactly_one_place() {
        let mut pairs = BASE.to_vec();
        pairs.retain(|(k, _)| *k != "PROXY_SECRET");
        pairs.push(("PROXY_SECRET_SSM_PARAMETER", "/chat/dev/proxy-secret"));
        let c = config(&pairs).expect("valid");
        assert!(matches!(c.proxy_secret, SecretSource::SsmParameter(ref n) if n == "/chat/dev/proxy-secret"));
        pairs.push(("PROXY_SECRET_SECRETS_MANAGER_ID", "arn:x"));
        assert!(config(&pairs).is_err());
    }

    #[test]
    fn a_backend_timeout_at_or_over_29_s_is_refused() {
        let mut pairs = BASE.to_vec();
        pairs.push(("BACKEND_TIMEOUT_MS", "29000"));
        assert!(config(&pairs).expect_err("too long").to_string().contains("BACKEND_TIMEOUT_MS"));
    }
}
