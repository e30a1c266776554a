//! `chat-dev` (`make dev`): the backend on :8000, the API Gateway WebSocket emulator on :3001 with the
//! Lambda in-process, connection records in memory (or in DynamoDB at `AWS_ENDPOINT_URL`), and the demo
//! page. Prints what to open and paste; Ctrl-C (or SIGTERM) stops everything.

use std::time::Duration;

use anyhow::{Context, bail};
use apigw_ws_emulator::EmulatorConfig;
use chat_backend::{Settings, auth, telemetry};
use local_stack::{ConnectionRecords, LocalStack, StackOptions, ensure_connections_table};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let backend = Settings::from_env().context("configuration")?;
    if !backend.local {
        bail!("chat-dev runs the local stack only: set APP_ENV=local (make dev does)");
    }
    telemetry::init(backend.json_logs);
    let emulator_addr = std::env::var("EMULATOR_BIND_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3001".into())
        .parse()
        .context("EMULATOR_BIND_ADDR")?;
    let records = match std::env::var("AWS_ENDPOINT_URL") {
        Ok(endpoint) if !endpoint.is_empty() => {
            let table =
                std::env::var("CONNECTIONS_TABLE").unwrap_or_else(|_| "chat-connections-local".into());
            let sdk = aws_config::from_env()
                .region(aws_config::Region::new(
                    std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()),
                ))
                .load()
                .await;
            let client = aws_sdk_dynamodb::Client::new(&sdk);
            ensure_connections_table(&client, &table)
                .await
                .map_err(|e| anyhow::anyhow!(e))
                .with_context(|| format!("creating table {table} at {endpoint}"))?;
            tracing::info!(endpoint = %endpoint, table = %table, "connection records in DynamoDB");
            ConnectionRecords::DynamoDb { client, table }
        }
        _ => ConnectionRecords::InMemory,
    };
    let stack = LocalStack::start(StackOptions {
        backend: backend.clone(),
        emulator_addr,
        emulator: EmulatorConfig::default(),
        records,
        max_frame_bytes: 32 * 1024,
        backend_timeout: Duration::from_secs(10),
    })
    .await
    .context("starting the local stack")?;

    let token = |user: &str| auth::mint_token(&backend.jwt, user, Duration::from_secs(8 * 3600));
    let (alice, bob) = (token("alice")?, token("bob")?);
    println!(
        "\nBooking chat, local stack\n\
         \n  Demo page          {backend}/   (alice and bob on booking 1, through the emulator)\
         \n  WebSocket API      {ws}?booking_id=1\
         \n  Management API     {management}/@connections/{{connection_id}}\
         \n  Backend            {backend}   (history, status, /metrics, /api/openapi.json)\
         \n\n  Tokens (8 h): alice = {alice}\
         \n                bob   = {bob}\
         \n\n  wscat -c '{ws}?booking_id=1' -s chat.v1 -s 'bearer.{alice}'\
         \n  then send: {{\"action\":\"send_message\",\"data\":{{\"body\":\"hi\",\"client_message_id\":\"c1\"}}}}\
         \n\n  make smoke   checks the stack with two clients.  Ctrl-C stops everything.\n",
        backend = stack.backend_url,
        ws = stack.ws_url,
        management = stack.management_url,
    );
    chat_backend::shutdown::signal().await;
    stack.stop().await;
    Ok(())
}
