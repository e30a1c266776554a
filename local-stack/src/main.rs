//! `chat-dev` (`make dev`): the backend on :8000, the API Gateway WebSocket emulator on :3001 with the
//! Lambda in-process, connection records in memory (or in DynamoDB at `AWS_ENDPOINT_URL`), the chat on
//! SQLite (or, with `CHAT_STORE=dynamodb`, in DynamoDB on a moto_server it starts), and the demo page.
//! Prints what to open and paste; Ctrl-C (or SIGTERM) stops everything.

use std::time::Duration;

use anyhow::{Context, bail};
use chat_backend::config::StoreSettings;
use chat_backend::{auth, telemetry};
use chat_settings::aws::timeouts;
use local_stack::settings::DevSettings;
use local_stack::{ConnectionRecords, LocalStack, ManagementPath, StackOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = DevSettings::from_env().context("configuration")?;
    let mut backend = settings.backend.clone();
    if !backend.local {
        bail!("chat-dev runs the local stack only: set APP_ENV=local (make dev does)");
    }
    telemetry::init(backend.json_logs);
    // `make dev CHAT_STORE=dynamodb`: the chat on DynamoDB, on a moto_server started here (and stopped
    // with chat-dev) unless DYNAMODB_ENDPOINT names one.
    if let StoreSettings::DynamoDb { endpoint: endpoint @ None, table, .. } = &mut backend.store {
        let moto = local_services::moto::Moto::shared();
        tracing::info!(endpoint = %moto.endpoint(), table = %table, "the chat is stored in DynamoDB on moto_server");
        *endpoint = Some(moto.endpoint());
    }
    let records = match &settings.dynamodb {
        Some(dynamodb) => {
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .http_client(chat_settings::aws::https_client())
                .region(aws_config::Region::new(dynamodb.region.clone()))
                .endpoint_url(&dynamodb.endpoint)
                .timeout_config(timeouts(settings.aws_timeout))
                .load()
                .await;
            let client = aws_sdk_dynamodb::Client::new(&sdk);
            chat_connections::table::create_if_missing(&client, &dynamodb.table)
                .await
                .map_err(|e| anyhow::anyhow!(e))
                .with_context(|| format!("creating table {} at {}", dynamodb.table, dynamodb.endpoint))?;
            tracing::info!(endpoint = %dynamodb.endpoint, table = %dynamodb.table, "connection records in DynamoDB");
            ConnectionRecords::DynamoDb { client, table: dynamodb.table.clone() }
        }
        None => ConnectionRecords::InMemory,
    };
    let emulator_addr = settings.emulator_addr;
    let stack = LocalStack::start(StackOptions {
        management: ManagementPath::InProcess,
        backend: backend.clone(),
        emulator_addr,
        emulator: settings.emulator_config(),
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
         \n  Chat store         {store}\
         \n\n  Tokens (8 h): alice = {alice}\
         \n                bob   = {bob}\
         \n\n  wscat -c '{ws}?booking_id=1' -s chat.v1 -s 'bearer.{alice}'\
         \n  then send: {{\"action\":\"send_message\",\"data\":{{\"body\":\"hi\",\"client_message_id\":\"c1\"}}}}\
         \n\n  make smoke   checks the stack with two clients.  Ctrl-C stops everything.\n",
        backend = stack.backend_url,
        ws = stack.ws_url,
        management = stack.management_url,
        store = match &backend.store {
            StoreSettings::Sql { url, .. } => url.clone(),
            StoreSettings::DynamoDb { table, endpoint, .. } =>
                format!("DynamoDB table {table} at {}", endpoint.as_deref().unwrap_or("AWS")),
        },
    );
    chat_backend::shutdown::signal().await;
    stack.stop().await;
    Ok(())
}
