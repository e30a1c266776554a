//! The media processor's settings, read once from the environment (`docs/configuration.md` lists them).
//! `SERVICE_TOKEN` may be given by reference, as the backend's secrets are ([`SECRET_SETTINGS`]).

use std::time::Duration;

use chat_files::FileStoreSettings;
use chat_files::rules::AttachmentRules;
use chat_settings::env::{ConfigError, Lookup, parse, process_env, secret_keys};
use secrecy::SecretString;

use crate::process::AllowedTypes;

/// The settings that are secrets (see `chat_settings::secrets::resolve_all`).
pub const SECRET_SETTINGS: [&str; 1] = ["SERVICE_TOKEN"];

/// The service credential with `APP_ENV=local`, the local backend's.
pub const LOCAL_SERVICE_TOKEN: &str = "local-service-token";

/// The local backend's address with `APP_ENV=local`.
pub const LOCAL_BACKEND_URL: &str = "http://127.0.0.1:8000";

/// Everything the processor needs.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// `LOG_FORMAT=json` (default outside `APP_ENV=local`).
    pub json_logs: bool,
    /// `FILE_STORE` (`s3://bucket` or `disk:/path`) and `S3_ENDPOINT`: where uploads are read and files
    /// written.
    pub files: FileStoreSettings,
    /// `BACKEND_URL`: the backend the processor reports to (`http://127.0.0.1:8000` when local).
    pub backend_url: String,
    /// `SERVICE_TOKEN`: the service API's credential (`local-service-token` when local).
    pub service_token: SecretString,
    /// `ATTACHMENTS_TYPES` (default `image/jpeg,image/png,image/webp,application/pdf`): what is kept.
    pub allowed: AllowedTypes,
    /// `ATTACHMENTS_MAX_BYTES` (default 10485760): the largest upload kept.
    pub max_bytes: u64,
    /// `MEDIA_QUEUE_URL`: the upload queue `chat-media poll` reads (`--queue-url` overrides it); on AWS
    /// Lambda's event source mapping reads it.
    pub queue_url: Option<String>,
    /// `SQS_ENDPOINT`: a local SQS (moto).
    pub sqs_endpoint: Option<String>,
    /// `AWS_TIMEOUT_MS` (default 10000): the budget of one file-store call (a read or write of up to
    /// `ATTACHMENTS_MAX_BYTES`).
    pub aws_timeout: Duration,
    /// `BACKEND_TIMEOUT_MS` (default 5000): the budget of one report to the backend.
    pub backend_timeout: Duration,
    /// `METRICS_NAMESPACE` (default `BookingChat`) and `STAGE` (default `default`) of the metrics.
    pub metrics: (String, String),
}

impl MediaSettings {
    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the missing or malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(process_env)
    }

    /// Reads the settings through `lookup`, secrets given by reference resolved already (the Lambda's
    /// `chat_settings::secrets::resolve_all`).
    ///
    /// # Errors
    /// As [`MediaSettings::from_env`].
    pub fn from_lookup(lookup: impl Lookup) -> Result<Self, ConfigError> {
        let local = lookup("APP_ENV").as_deref() == Some("local");
        let backend_url = match lookup("BACKEND_URL") {
            Some(url) => url,
            None if local => LOCAL_BACKEND_URL.to_owned(),
            None => return Err(ConfigError::Missing(vec!["BACKEND_URL".into()])),
        };
        if !(backend_url.starts_with("https://") || backend_url.starts_with("http://")) {
            return Err(ConfigError::invalid("BACKEND_URL", "an http:// or https:// URL"));
        }
        let service_token = match lookup("SERVICE_TOKEN") {
            Some(token) => SecretString::from(token),
            None if local => SecretString::from(LOCAL_SERVICE_TOKEN),
            None => return Err(ConfigError::Missing(vec![secret_keys("SERVICE_TOKEN")])),
        };
        let files = FileStoreSettings::from_lookup(&lookup, &backend_url)?
            .ok_or_else(|| ConfigError::Missing(vec!["FILE_STORE".into()]))?;
        let rules = AttachmentRules::from_lookup(&lookup)?;
        let allowed =
            AllowedTypes::parse(&rules.types).map_err(|e| ConfigError::invalid("ATTACHMENTS_TYPES", e))?;
        let millis = |key: &str, default: u64| parse(&lookup, key, default).map(Duration::from_millis);
        Ok(Self {
            json_logs: chat_settings::env::json_logs(&lookup, local)?,
            files,
            backend_url: backend_url.trim_end_matches('/').to_owned(),
            service_token,
            allowed,
            max_bytes: rules.max_bytes,
            queue_url: lookup("MEDIA_QUEUE_URL"),
            sqs_endpoint: lookup("SQS_ENDPOINT"),
            aws_timeout: millis("AWS_TIMEOUT_MS", 10_000)?,
            backend_timeout: millis("BACKEND_TIMEOUT_MS", 5_000)?,
            metrics: (
                lookup("METRICS_NAMESPACE").unwrap_or_else(|| "BookingChat".into()),
                lookup("STAGE").unwrap_or_else(|| "default".into()),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;
    use crate::process::MediaType;

    fn settings(pairs: &[(&str, &str)]) -> Result<MediaSettings, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        MediaSettings::from_lookup(|key| map.get(key).map(|v| (*v).to_owned()))
    }

    #[test]
    fn local_defaults_need_only_the_file_store() {
        let s = settings(&[("APP_ENV", "local"), ("FILE_STORE", "disk:/tmp/files")]).expect("local");
        assert_eq!(s.backend_url, LOCAL_BACKEND_URL);
        assert_eq!(s.service_token.expose_secret(), LOCAL_SERVICE_TOKEN);
        assert_eq!((s.max_bytes, s.allowed.clone()), (10_485_760, AllowedTypes::default()));
        assert!(!s.json_logs);
        let err = settings(&[("APP_ENV", "local")]).expect_err("no store").to_string();
        assert!(err.contains("FILE_STORE"), "{err}");
    }

    #[test]
    fn outside_local_the_backend_and_its_credential_are_required() {
        let base = [("FILE_STORE", "s3://chat-files")];
        let err = settings(&base).expect_err("no backend").to_string();
        assert!(err.contains("BACKEND_URL"), "{err}");
        let with_url = [base.as_slice(), &[("BACKEND_URL", "https://chat.internal/")]].concat();
        let err = settings(&with_url).expect_err("no token").to_string();
        assert!(err.contains("SERVICE_TOKEN_SSM_PARAMETER"), "{err}");
        let s = settings(
            &[with_url.as_slice(), &[("SERVICE_TOKEN", "t"), ("ATTACHMENTS_TYPES", "image/gif")]].concat(),
        )
        .expect("complete");
        assert_eq!(s.backend_url, "https://chat.internal");
        assert!(s.json_logs && s.allowed.allows(MediaType::Gif) && !s.allowed.allows(MediaType::Jpeg));
        let err = settings(
            &[with_url.as_slice(), &[("SERVICE_TOKEN", "t"), ("ATTACHMENTS_TYPES", "image/heic")]].concat(),
        )
        .expect_err("HEIC")
        .to_string();
        assert!(err.contains("ATTACHMENTS_TYPES"), "{err}");
        let err =
            settings(&[("FILE_STORE", "s3://b"), ("BACKEND_URL", "chat.internal"), ("SERVICE_TOKEN", "t")])
                .expect_err("not a URL")
                .to_string();
        assert!(err.contains("BACKEND_URL"), "{err}");
    }
}
