//! `apigw-ws-emulator`: the emulated WebSocket API in front of a Lambda reached through the Lambda Invoke
//! API, for example `cargo lambda watch` running the real `bootstrap`. (`make dev` runs the whole stack
//! in one process instead, with the Lambda in-process: see the `chat-dev` binary.)

use std::sync::Arc;

use apigw_ws_emulator::Emulator;
use apigw_ws_emulator::cli::Args;
use apigw_ws_emulator::connections::Connections;
use apigw_ws_emulator::integration::InvokeUrl;
use clap::Parser;

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
    let config = args.config();
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
