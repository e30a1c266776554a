//! Secrets by reference: where a secret comes from ([`SecretSource`]), and reading it once at start.

use secrecy::{ExposeSecret, SecretString};

use crate::env::{ConfigError, Lookup, secret_source};

/// Where a secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// The value itself (local development and tests).
    Plain(SecretString),
    /// The name of an SSM Parameter Store parameter (SecureString, decrypted at read).
    SsmParameter(String),
    /// The id or ARN of a Secrets Manager secret (its `SecretString`).
    SecretsManager(String),
}

impl SecretSource {
    /// Where the secret is, for messages (never its value).
    pub fn describe(&self) -> String {
        match self {
            Self::Plain(_) => "the environment".to_owned(),
            Self::SsmParameter(name) => format!("SSM parameter {name}"),
            Self::SecretsManager(id) => format!("Secrets Manager secret {id}"),
        }
    }
}

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The AWS call failed.
    #[error("reading {what} from {from} failed: {source}")]
    Fetch {
        /// Which secret (the setting's name).
        what: String,
        /// Where it was read from.
        from: String,
        /// The SDK's error, with its whole chain.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The parameter or secret exists but holds no text.
    #[error("{what} in {from} is empty")]
    Empty {
        /// Which secret.
        what: String,
        /// Where it was read from.
        from: String,
    },
}

/// The value of the secret `what` (the setting's name, for errors), fetched from where `source` says.
///
/// # Errors
/// [`SecretError`] when the parameter or secret cannot be read or is empty.
pub async fn resolve(
    what: &str,
    source: &SecretSource,
    sdk_config: &aws_config::SdkConfig,
) -> Result<SecretString, SecretError> {
    let from = source.describe();
    let fetch = |source: Box<dyn std::error::Error + Send + Sync>| SecretError::Fetch {
        what: what.to_owned(),
        from: from.clone(),
        source,
    };
    let value = match source {
        SecretSource::Plain(secret) => return Ok(secret.clone()),
        SecretSource::SsmParameter(name) => aws_sdk_ssm::Client::new(sdk_config)
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| fetch(aws_sdk_ssm::error::DisplayErrorContext(e).to_string().into()))?
            .parameter
            .and_then(|p| p.value),
        SecretSource::SecretsManager(id) => {
            aws_sdk_secretsmanager::Client::new(sdk_config)
                .get_secret_value()
                .secret_id(id)
                .send()
                .await
                .map_err(|e| fetch(aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string().into()))?
                .secret_string
        }
    };
    value
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
        .ok_or_else(|| SecretError::Empty { what: what.to_owned(), from: from.clone() })
}

/// `lookup`, with each secret of `names` given by reference (`NAME_SSM_PARAMETER`,
/// `NAME_SECRETS_MANAGER_ID`) fetched once and served as if given by value (`NAME`): how a Lambda reads
/// its configuration at cold start.
///
/// # Errors
/// [`ConfigError`] when a secret is given twice or cannot be read (naming where it was looked for).
pub async fn resolve_all(
    lookup: impl Lookup,
    names: &[&str],
    sdk_config: &aws_config::SdkConfig,
) -> Result<impl Lookup, ConfigError> {
    let mut resolved = std::collections::HashMap::new();
    for name in names {
        match secret_source(&lookup, name)? {
            Some(source @ (SecretSource::SsmParameter(_) | SecretSource::SecretsManager(_))) => {
                let value = resolve(name, &source, sdk_config)
                    .await
                    .map_err(|e| ConfigError::invalid(*name, e.to_string()))?;
                resolved.insert((*name).to_owned(), value.expose_secret().to_owned());
            }
            Some(SecretSource::Plain(_)) | None => {}
        }
    }
    Ok(move |key: &str| resolved.get(key).cloned().or_else(|| lookup(key)))
}
