//! The standalone emulator's command line (`apigw-ws-emulator`): the emulated API in front of a function
//! reached through the Lambda Invoke API, for example `cargo lambda watch` running the real `bootstrap`.

use std::time::Duration;

use clap::Parser;

use crate::config::AuthorizerConfig;
use crate::{EmulatorConfig, Limits};

/// The emulator's options.
#[derive(Debug, Parser)]
#[command(name = "apigw-ws-emulator", version, about = "Local API Gateway WebSocket API")]
pub struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:3001", env = "EMULATOR_BIND_ADDR")]
    pub bind: std::net::SocketAddr,
    /// The stage: clients connect to ws://HOST/{stage}.
    #[arg(long, default_value = "local")]
    pub stage: String,
    /// The Lambda Invoke API URL of the function, e.g.
    /// http://127.0.0.1:9000/2015-03-31/functions/chat-proxy/invocations
    #[arg(long, env = "LAMBDA_INVOKE_URL")]
    pub invoke_url: String,
    /// Route keys selected by the body's `action` before `$default` (repeatable).
    #[arg(long = "route")]
    pub routes: Vec<String>,
    /// Run a Lambda `REQUEST` authorizer on `$connect`: the same function, invoked with the handshake
    /// before its `$connect` route, its context passed to every later event of the connection (as
    /// Terraform deploys booking chat's proxy, which needs it).
    #[arg(long)]
    pub authorizer: bool,
    /// An identity source of the authorizer (repeatable), e.g. `route.request.header.Authorization`: a
    /// handshake missing one is refused with 401 before the authorizer runs. None: it always runs.
    #[arg(long = "identity-source", requires = "authorizer")]
    pub identity_sources: Vec<String>,
    /// Integration timeout in seconds (API Gateway: 29).
    #[arg(long, default_value_t = 29)]
    pub integration_timeout: u64,
    /// Idle timeout in seconds (API Gateway: 600).
    #[arg(long, default_value_t = 600)]
    pub idle_timeout: u64,
    /// Invocations running at once; the others wait for a slot. `cargo lambda watch` queues at most 100
    /// invocations, so keep this below that.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
}

impl Args {
    /// The emulated API these options describe.
    pub fn config(&self) -> EmulatorConfig {
        EmulatorConfig {
            stage: self.stage.clone(),
            routes: self.routes.clone(),
            limits: Limits {
                integration_timeout: Duration::from_secs(self.integration_timeout),
                idle_timeout: Duration::from_secs(self.idle_timeout),
                max_concurrent_invocations: self.concurrency,
                ..Limits::default()
            },
            authorizer: self
                .authorizer
                .then(|| AuthorizerConfig { identity_sources: self.identity_sources.clone() }),
            ..EmulatorConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(
            ["apigw-ws-emulator", "--invoke-url", "http://127.0.0.1:9000/x"].iter().chain(args),
        )
    }

    #[test]
    fn the_authorizer_is_off_unless_asked_and_takes_identity_sources() {
        assert!(parse(&[]).expect("args").config().authorizer.is_none());
        let config = parse(&["--authorizer"]).expect("args").config();
        assert!(config.authorizer.expect("on").identity_sources.is_empty(), "it always runs");
        let args = ["--authorizer", "--identity-source", "route.request.header.Authorization"];
        let config = parse(&args).expect("args").config();
        assert_eq!(config.authorizer.expect("on").identity_sources, ["route.request.header.Authorization"]);
        assert!(parse(&["--identity-source", "x"]).is_err(), "an identity source needs the authorizer");
    }

    #[test]
    fn the_limits_follow_the_options() {
        let config =
            parse(&["--concurrency", "8", "--idle-timeout", "5", "--stage", "dev"]).expect("args").config();
        assert_eq!(
            (config.limits.max_concurrent_invocations, config.limits.idle_timeout),
            (8, Duration::from_secs(5))
        );
        assert_eq!(config.stage, "dev");
    }
}
