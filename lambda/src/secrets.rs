//! Resolving the proxy secret once, at cold start.

use secrecy::SecretString;

use crate::config::SecretSource;

/// Why the secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The AWS call failed.
    #[error("reading the proxy secret from {from} failed")]
    Fetch {
        /// Which service.
        from: &'static str,
        /// The SDK's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The parameter or secret exists but holds no text.
    #[error("the proxy secret in {0} is empty")]
    Empty(&'static str),
}

/// The secret's value, fetched from where the configuration says.
///
/// # Errors
/// [`SecretError`] when the parameter or secret cannot be read or is empty.
pub async fn resolve(
    source: &SecretSource,
    sdk_config: &aws_config::SdkConfig,
) -> Result<SecretString, SecretError> {
    match source {
        SecretSource::Plain(secret) => Ok(secret.clone()),
        SecretSource::SsmParameter(name) => {
            let client = aws_sdk_ssm::Client::new(sdk_config);
            let output = client
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| SecretError::Fetch { from: "SSM Parameter Store", source: Box::new(e) })?;
            output
                .parameter
                .and_then(|p| p.value)
                .filter(|v| !v.is_empty())
                .map(SecretString::from)
                .ok_or(SecretError::Empty("SSM Parameter Store"))
        }
        SecretSource::SecretsManager(id) => {
            let client = aws_sdk_secretsmanager::Client::new(sdk_config);
            let output = client
                .get_secret_value()
                .secret_id(id)
                .send()
                .await
                .map_err(|e| SecretError::Fetch { from: "Secrets Manager", source: Box::new(e) })?;
            output
                .secret_string
                .filter(|v| !v.is_empty())
                .map(SecretString::from)
                .ok_or(SecretError::Empty("Secrets Manager"))
        }
    }
}
