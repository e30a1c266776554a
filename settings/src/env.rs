//! Reading typed settings through a lookup function, with errors that name the key.

use std::str::FromStr;

use secrecy::SecretString;

use crate::secrets::SecretSource;

/// Where settings come from: a key's value, `None` when unset.
pub trait Lookup: Fn(&str) -> Option<String> {}

impl<F: Fn(&str) -> Option<String>> Lookup for F {}

/// The process environment, with empty values counted as unset.
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// `LOG_FORMAT`: `json` (the default outside `APP_ENV=local`, for CloudWatch) or `text`; whether logs are
/// JSON lines.
///
/// # Errors
/// [`ConfigError::Invalid`] for any other value.
pub fn json_logs(lookup: &impl Lookup, local: bool) -> Result<bool, ConfigError> {
    match lookup("LOG_FORMAT").as_deref() {
        None => Ok(!local),
        Some("json") => Ok(true),
        Some("text") => Ok(false),
        Some(other) => Err(ConfigError::Invalid {
            key: "LOG_FORMAT".into(),
            reason: format!("{other:?} is neither \"json\" nor \"text\""),
        }),
    }
}

/// Why the settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Keys that must be set are not.
    #[error("missing required configuration: {}", .0.join(", "))]
    Missing(Vec<String>),
    /// A key is set to something unusable.
    #[error("invalid {key}: {reason}")]
    Invalid {
        /// The key (environment variable).
        key: String,
        /// What is wrong with its value.
        reason: String,
    },
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] for `key`.
    pub fn invalid(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid { key: key.into(), reason: reason.into() }
    }
}

/// `key` parsed as `T`, or `default` when unset.
///
/// # Errors
/// [`ConfigError::Invalid`] naming the key and the value when it does not parse.
pub fn parse<T: FromStr>(lookup: &impl Lookup, key: &str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match lookup(key) {
        None => Ok(default),
        Some(raw) => {
            raw.trim().parse().map_err(|e: T::Err| ConfigError::invalid(key, format!("{raw:?}: {e}")))
        }
    }
}

/// `key` as a boolean (`1`/`true`/`yes`, `0`/`false`/`no`, any case), or `default` when unset.
///
/// # Errors
/// [`ConfigError::Invalid`] for anything else.
pub fn parse_bool(lookup: &impl Lookup, key: &str, default: bool) -> Result<bool, ConfigError> {
    match lookup(key).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("1" | "true" | "yes") => Ok(true),
        Some("0" | "false" | "no") => Ok(false),
        Some(other) => Err(ConfigError::invalid(key, format!("{other:?} is not a boolean"))),
    }
}

/// Where the secret `name` comes from: the value itself in `{name}` (local development and tests), an
/// SSM Parameter Store parameter named in `{name}_SSM_PARAMETER`, or a Secrets Manager secret whose id or
/// ARN is in `{name}_SECRETS_MANAGER_ID`. `None` when none is set.
///
/// # Errors
/// [`ConfigError::Invalid`] when more than one is set.
pub fn secret_source(lookup: &impl Lookup, name: &str) -> Result<Option<SecretSource>, ConfigError> {
    let ssm = format!("{name}_SSM_PARAMETER");
    let secrets_manager = format!("{name}_SECRETS_MANAGER_ID");
    let sources = [
        lookup(name).map(|v| SecretSource::Plain(SecretString::from(v))),
        lookup(&ssm).map(SecretSource::SsmParameter),
        lookup(&secrets_manager).map(SecretSource::SecretsManager),
    ];
    let mut found = sources.into_iter().flatten();
    let source = found.next();
    if found.next().is_some() {
        return Err(ConfigError::invalid(name, format!("set only one of {name}, {ssm}, {secrets_manager}")));
    }
    Ok(source)
}

/// How to name a missing secret: its three keys.
pub fn secret_keys(name: &str) -> String {
    format!("{name} (or {name}_SSM_PARAMETER or {name}_SECRETS_MANAGER_ID)")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Lookup {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |key: &str| map.get(key).cloned()
    }

    #[test]
    fn values_parse_or_name_their_key() {
        let env = lookup(&[("N", " 42 "), ("BAD", "many"), ("FLAG", "Yes")]);
        assert_eq!(parse(&env, "N", 1u32).expect("number"), 42);
        assert_eq!(parse(&env, "UNSET", 7u32).expect("default"), 7);
        let error = parse(&env, "BAD", 1u32).expect_err("not a number");
        assert!(error.to_string().starts_with("invalid BAD: \"many\""), "{error}");
        assert!(parse_bool(&env, "FLAG", false).expect("bool"));
        assert!(parse_bool(&env, "BAD", false).is_err());
    }

    #[test]
    fn a_secret_comes_from_exactly_one_place() {
        let plain = lookup(&[("JWT_SECRET", "s")]);
        assert!(matches!(secret_source(&plain, "JWT_SECRET"), Ok(Some(SecretSource::Plain(_)))));
        let ssm = lookup(&[("JWT_SECRET_SSM_PARAMETER", "/chat/jwt")]);
        assert!(
            matches!(secret_source(&ssm, "JWT_SECRET"), Ok(Some(SecretSource::SsmParameter(n))) if n == "/chat/jwt")
        );
        assert!(matches!(secret_source(&ssm, "PROXY_SECRET"), Ok(None)));
        let both = lookup(&[("JWT_SECRET", "s"), ("JWT_SECRET_SECRETS_MANAGER_ID", "arn:x")]);
        assert!(
            secret_source(&both, "JWT_SECRET").expect_err("two places").to_string().contains("set only one")
        );
        assert!(
            !format!("{:?}", secret_source(&plain, "JWT_SECRET")).contains("\"s\""),
            "secrets never print"
        );
    }
}
