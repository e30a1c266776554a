//! `apigw-ws-emulator`: the emulated WebSocket API in front of a Lambda reached through the Lambda Invoke
//! API, for example `cargo lambda watch` running the real `bootstrap`. (`make dev` runs the whole stack
//! in one process instead, with the Lambda in-process: see the `chat-dev` binary.)

use std::sync::Arc;
use std::time::Duration;

use apigw_ws_emulator::connections::Connections;
use apigw_ws_emulator::integration::InvokeUrl;
use apigw_ws_emulator::{Emulator, EmulatorConfig, Limits};
use clap::Parser;

#[derive(Parser)]
#[command(name = "apigw-ws-emulator", version, about = "Local API Gateway WebSocket API")]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:3001", env = "EMULATOR_BIND_ADDR")]
    bind: std::net::SocketAddr,
    /// The stage: clients connect to ws://HOST/{stage}.
    #[arg(long, default_value = "local")]
    stage: String,
    /// The Lambda Invoke API URL of the function, e.g.
    /// http://127.0.0.1:9000/2015-03-31/functions/chat-proxy/invocations
    #[arg(long, env = "LAMBDA_INVOKE_URL")]
    invoke_url: String,
    /// Route keys selected by the body's `action` before `$default` (repeatable).
    #[arg(long = "route")]
    routes: Vec<String>,
    /// Integration timeout in seconds (API Gateway: 29).
    #[arg(long, default_value_t = 29)]
    integration_timeout: u64,
    /// Idle timeout in seconds (API Gateway: 600).
    #[arg(long, default_value_t = 600)]
    idle_timeout: u64,
    /// Invocations running at once; the others wait for a slot. `cargo lambda watch` queues at most 100
    /// invocations, so keep this below that.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .compact()
        .init();
    let args = Args::parse();
    let config = EmulatorConfig {
        stage: args.stage.clone(),
        routes: args.routes,
        limits: Limits {
            integration_timeout: Duration::from_secs(args.integration_timeout),
            idle_timeout: Duration::from_secs(args.idle_timeout),
            max_concurrent_invocations: args.concurrency,
            ..Limits::default()
        },
        ..EmulatorConfig::default()
    };
    let emulator = Arc::new(Emulator::new(
        config,
        Arc::new(Connections::default()),
        Arc::new(InvokeUrl::new(args.invoke_url)),
    ));
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        "WebSocket API: ws://{addr}/{0}  Management API: http://{addr}/{0}/@connections/{{id}}",
        args.stage
    );
    emulator
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
