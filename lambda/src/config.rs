//! The proxy's configuration, read once at cold start from the environment.
//!
//! Fails fast naming every missing key. The proxy secret is a plain value locally (`PROXY_SECRET`); in AWS
//! it is fetched once at cold start from SSM Parameter Store (`PROXY_SECRET_SSM_PARAMETER`, a SecureString)
//! or Secrets Manager (`PROXY_SECRET_SECRETS_MANAGER_ID`), never from a plaintext variable.

use std::time::Duration;

use chat_settings::env::{Lookup, parse, process_env, secret_keys, secret_source};
use chat_settings::{ConfigError, SecretSource};

/// API Gateway gives an integration 29 s; the backend must answer well within that.
pub const API_GATEWAY_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);

/// How the proxy reaches the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendTarget {
    /// `BACKEND_URL`: over HTTP(S), e.g. `https://chat.internal.example.com` (a backend that runs
    /// elsewhere, or the local stack).
    Url(String),
    /// `BACKEND_FUNCTION`: the backend's Lambda function (name or ARN, with its alias), invoked directly
    /// with IAM; what Terraform deploys.
    Function(String),
}

/// Everything the proxy needs.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Where the chat backend is.
    pub backend: BackendTarget,
    /// How long to wait for the backend before answering `BACKEND_UNAVAILABLE`.
    pub backend_timeout: Duration,
    /// How long one AWS call may take, retries included (`chat_settings::aws::timeouts`).
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

impl ProxyConfig {
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming every missing key, or the first malformed one.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(process_env)
    }

    /// Reads the configuration through `lookup` (tests, the local emulator).
    ///
    /// # Errors
    /// As [`ProxyConfig::from_env`].
    pub fn from_lookup(lookup: impl Lookup) -> Result<Self, ConfigError> {
        let mut missing = Vec::new();
        let backend = match (lookup("BACKEND_URL"), lookup("BACKEND_FUNCTION")) {
            (Some(url), None) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ConfigError::invalid("BACKEND_URL", "must be an http(s) URL"));
                }
                Some(BackendTarget::Url(url.trim_end_matches('/').to_owned()))
            }
            (None, Some(function)) => Some(BackendTarget::Function(function)),
            (Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    "BACKEND_URL",
                    "set BACKEND_URL or BACKEND_FUNCTION, not both",
                ));
            }
            (None, None) => {
                missing.push("BACKEND_URL (or BACKEND_FUNCTION)".to_owned());
                None
            }
        };
        let mut required = |key: &str| {
            lookup(key).unwrap_or_else(|| {
                missing.push(key.to_owned());
                String::new()
            })
        };
        let table_name = required("CONNECTIONS_TABLE");
        let proxy_secret = secret_source(&lookup, "PROXY_SECRET")?;
        if proxy_secret.is_none() {
            missing.push(secret_keys("PROXY_SECRET"));
        }
        let management_endpoint = lookup("MANAGEMENT_ENDPOINT").map(|e| e.trim_end_matches('/').to_owned());
        let region = lookup("AWS_REGION").or_else(|| lookup("AWS_DEFAULT_REGION"));
        if management_endpoint.is_none() && region.is_none() {
            missing.push("AWS_REGION (or MANAGEMENT_ENDPOINT)".to_owned());
        }
        let (Some(proxy_secret), Some(backend), true) = (proxy_secret, backend, missing.is_empty()) else {
            return Err(ConfigError::Missing(missing));
        };

        let backend_timeout = Duration::from_millis(parse(&lookup, "BACKEND_TIMEOUT_MS", 10_000)?);
        if backend_timeout.is_zero() || backend_timeout >= API_GATEWAY_INTEGRATION_TIMEOUT {
            return Err(ConfigError::invalid(
                "BACKEND_TIMEOUT_MS",
                "must be above 0 and below API Gateway's 29 s integration timeout",
            ));
        }
        let aws_timeout = aws_timeout(&lookup)?;
        let config = Self {
            backend,
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
                return Err(ConfigError::invalid(key, "must be greater than zero"));
            }
        }
        Ok(config)
    }
}

/// `AWS_TIMEOUT_MS`: the budget of one AWS call, at least 100 ms and below half of API Gateway's 29 s.
///
/// # Errors
/// [`ConfigError::Invalid`] outside those bounds.
pub fn aws_timeout(lookup: &impl Lookup) -> Result<Duration, ConfigError> {
    let default_ms = u64::try_from(chat_settings::aws::DEFAULT_TIMEOUT.as_millis()).unwrap_or(u64::MAX);
    let timeout = Duration::from_millis(parse(lookup, "AWS_TIMEOUT_MS", default_ms)?);
    if timeout < Duration::from_millis(100) || timeout >= API_GATEWAY_INTEGRATION_TIMEOUT / 2 {
        return Err(ConfigError::invalid(
            "AWS_TIMEOUT_MS",
            "must be at least 100 and below 14500 (half of API Gateway's 29 s)",
        ));
    }
    Ok(timeout)
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
        assert_eq!(c.backend, BackendTarget::Url("http://127.0.0.1:8000".into()));
        assert!(c.backend_timeout < API_GATEWAY_INTEGRATION_TIMEOUT);
        assert_eq!(c.aws_timeout, chat_settings::aws::DEFAULT_TIMEOUT);
        assert_eq!(c.max_frame_bytes, 32 * 1024);
        assert!(matches!(c.proxy_secret, SecretSource::Plain(_)));
        assert!(!format!("{c:?}").contains("\"s\""), "the secret never prints");
    }

    #[test]
    fn the_backend_is_a_url_or_a_function_never_both() {
        let mut pairs: Vec<(&str, &str)> =
            BASE.iter().copied().filter(|(k, _)| *k != "BACKEND_URL").collect();
        pairs.push(("BACKEND_FUNCTION", "arn:aws:lambda:eu-west-1:123456789012:function:chat-backend:live"));
        let c = config(&pairs).expect("valid");
        assert_eq!(
            c.backend,
            BackendTarget::Function(
                "arn:aws:lambda:eu-west-1:123456789012:function:chat-backend:live".into()
            )
        );
        pairs.push(("BACKEND_URL", "https://chat.example.com"));
        let err = config(&pairs).expect_err("both");
        assert!(err.to_string().contains("not both"), "{err}");
        let err = config(&[("CONNECTIONS_TABLE", "t"), ("PROXY_SECRET", "s"), ("AWS_REGION", "x")])
            .expect_err("none");
        assert!(err.to_string().contains("BACKEND_URL (or BACKEND_FUNCTION)"), "{err}");
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
