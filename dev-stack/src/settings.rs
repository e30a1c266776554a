//! `chat-dev`'s settings, read once from the environment.
//!
//! Three parts share one process and one environment here, so each variable must mean one thing. The
//! backend reads its own settings, except `CONNECTIONS_TABLE` and `MANAGEMENT_ENDPOINT`: in the deployed
//! backend they switch on status pushes through API Gateway, but here the stack wires those pushes itself
//! (to the emulator, over the Lambda's own records), and `CONNECTIONS_TABLE` names the table of those
//! records when they live in DynamoDB.

use std::net::SocketAddr;
use std::time::Duration;

use chat_backend::Settings;
use chat_settings::ConfigError;
use chat_settings::env::{Lookup, parse, process_env};

/// The backend variables `chat-dev` keeps for itself (see the module documentation).
const STACK_OWNED: [&str; 2] = ["CONNECTIONS_TABLE", "MANAGEMENT_ENDPOINT"];

/// Where connection records live when they are in DynamoDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamoDbSettings {
    /// `AWS_ENDPOINT_URL`: moto_server or DynamoDB Local.
    pub endpoint: String,
    /// `CONNECTIONS_TABLE` (default `chat-connections-local`), created when missing.
    pub table: String,
    /// `AWS_REGION` (default `us-east-1`).
    pub region: String,
}

/// Everything `chat-dev` needs.
#[derive(Debug, Clone)]
pub struct DevSettings {
    /// The backend's settings (with the variables above left to the stack).
    pub backend: Settings,
    /// `EMULATOR_BIND_ADDR` (default `127.0.0.1:3001`).
    pub emulator_addr: SocketAddr,
    /// Connection records in DynamoDB when `AWS_ENDPOINT_URL` is set; in memory otherwise.
    pub dynamodb: Option<DynamoDbSettings>,
    /// `AWS_TIMEOUT_MS`: the bound on one DynamoDB call, as in the Lambda.
    pub aws_timeout: Duration,
    /// `EMULATOR_CONCURRENCY` (default 64): how many Lambda invocations run at once. Every invocation
    /// runs in this one process, where on AWS each execution environment has its own memory, so a burst
    /// (a thousand clients closing at once) is bounded here as reserved concurrency bounds it there.
    pub emulator_concurrency: usize,
    /// `FUNCTION_INSTANCES` (default 2), with `--lambda`: how many copies of the compiled function poll
    /// for events, as Lambda's execution environments (each runs one event at a time).
    pub function_instances: usize,
    /// `FUNCTION_LOG` (default `info`), with `--lambda`: the compiled function's `RUST_LOG`, a level.
    pub function_log: String,
    /// `NOTIFICATIONS` (default `on`): the notifier, with its event bus, queue and SES on moto; `off`
    /// leaves the chat's events in the backend's `EVENTS_FILE`.
    pub notifications: Option<LocalNotifySettings>,
}

/// How the local notifier waits: shorter than in AWS, so that a developer sees an email in a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalNotifySettings {
    /// `NOTIFY_DELAY_SECONDS` (default 30 here).
    pub delay: Duration,
    /// `NOTIFY_MIN_INTERVAL_SECONDS` (default 120 here).
    pub min_interval: Duration,
}

impl DevSettings {
    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the missing or malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(process_env)
    }

    /// Reads the settings through `lookup`.
    ///
    /// # Errors
    /// As [`DevSettings::from_env`].
    pub fn from_lookup(lookup: impl Lookup) -> Result<Self, ConfigError> {
        let backend =
            Settings::from_lookup(|key| if STACK_OWNED.contains(&key) { None } else { lookup(key) })?;
        let emulator_addr = parse(&lookup, "EMULATOR_BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 3001)))?;
        let dynamodb = lookup("AWS_ENDPOINT_URL").map(|endpoint| DynamoDbSettings {
            endpoint,
            table: lookup("CONNECTIONS_TABLE").unwrap_or_else(|| "chat-connections-local".into()),
            region: lookup("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
        });
        let aws_timeout = chat_proxy::config::aws_timeout(&lookup)?;
        let emulator_concurrency = parse(&lookup, "EMULATOR_CONCURRENCY", 64usize)?;
        if emulator_concurrency == 0 {
            return Err(ConfigError::invalid("EMULATOR_CONCURRENCY", "must be greater than zero"));
        }
        let function_instances = parse(&lookup, "FUNCTION_INSTANCES", 2usize)?;
        if function_instances == 0 {
            return Err(ConfigError::invalid("FUNCTION_INSTANCES", "must be greater than zero"));
        }
        let function_log = lookup("FUNCTION_LOG").unwrap_or_else(|| "info".into());
        if function_log.parse::<tracing::Level>().is_err() {
            return Err(ConfigError::invalid(
                "FUNCTION_LOG",
                "must be a level: error, warn, info, debug or trace",
            ));
        }
        let notifications = match lookup("NOTIFICATIONS").as_deref() {
            None | Some("on") => Some(LocalNotifySettings {
                delay: Duration::from_secs(parse(&lookup, "NOTIFY_DELAY_SECONDS", 30)?),
                min_interval: Duration::from_secs(parse(&lookup, "NOTIFY_MIN_INTERVAL_SECONDS", 120)?),
            }),
            Some("off") => None,
            Some(_) => return Err(ConfigError::invalid("NOTIFICATIONS", "must be on or off")),
        };
        Ok(Self {
            notifications,
            backend,
            emulator_addr,
            dynamodb,
            aws_timeout,
            emulator_concurrency,
            function_instances,
            function_log,
        })
    }

    /// The emulated API: API Gateway's defaults, with this stack's concurrency.
    pub fn emulator_config(&self) -> apigw_ws_emulator::EmulatorConfig {
        let mut config = apigw_ws_emulator::EmulatorConfig::default();
        config.limits.max_concurrent_invocations = self.emulator_concurrency;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<DevSettings, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        DevSettings::from_lookup(|key| map.get(key).map(|v| (*v).to_owned()))
    }

    #[test]
    fn the_readme_dynamodb_setting_is_accepted_and_names_the_records_table() {
        let s = settings(&[
            ("APP_ENV", "local"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("CONNECTIONS_TABLE", "my-connections"),
        ])
        .expect("the documented setting starts chat-dev");
        let dynamodb = s.dynamodb.expect("records in DynamoDB");
        assert_eq!(dynamodb.table, "my-connections");
        assert_eq!(dynamodb.endpoint, "http://127.0.0.1:5000");
        assert!(s.backend.api_gateway_push.is_none(), "the stack wires the backend's pushes itself");
    }

    #[test]
    fn defaults_keep_records_in_memory_on_port_3001() {
        let s = settings(&[("APP_ENV", "local")]).expect("defaults");
        assert!(s.dynamodb.is_none());
        assert_eq!(s.emulator_addr.to_string(), "127.0.0.1:3001");
        let err = settings(&[("APP_ENV", "local"), ("EMULATOR_BIND_ADDR", "nowhere")]).expect_err("bad");
        assert!(err.to_string().contains("EMULATOR_BIND_ADDR"), "{err}");
    }

    #[test]
    fn the_compiled_function_runs_two_copies_logging_at_info_unless_told_otherwise() {
        let s = settings(&[("APP_ENV", "local")]).expect("defaults");
        assert_eq!((s.function_instances, s.function_log.as_str()), (2, "info"));
        assert_eq!(s.notifications.map(|n| n.delay.as_secs()), Some(30), "notifications on, a 30-s delay");
        let s = settings(&[("APP_ENV", "local"), ("FUNCTION_INSTANCES", "4"), ("FUNCTION_LOG", "debug")])
            .expect("set");
        assert_eq!((s.function_instances, s.function_log.as_str()), (4, "debug"));
        let off = settings(&[("APP_ENV", "local"), ("NOTIFICATIONS", "off")]).expect("off");
        assert!(off.notifications.is_none());
        for (key, value) in
            [("FUNCTION_INSTANCES", "0"), ("FUNCTION_LOG", "chat_proxy=debug"), ("NOTIFICATIONS", "maybe")]
        {
            let err = settings(&[("APP_ENV", "local"), (key, value)]).expect_err("refused");
            assert!(err.to_string().contains(key), "{err}");
        }
    }
}
