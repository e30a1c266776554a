//! `chat-dev` (`make dev`): the backend on :8000, the API Gateway WebSocket emulator on :3001 with the
//! Lambda in-process, connection records in memory (or in DynamoDB at `AWS_ENDPOINT_URL`), the chat on
//! SQLite (or, with `CHAT_STORE=dynamodb`, in DynamoDB on a moto_server it starts), and the demo page.
//! With notifications on (the default), the chat's events go to a bus on moto and the notifier runs here,
//! emailing through moto's SES ([`dev_stack::notifications`]). Prints what to open and paste; Ctrl-C (or
//! SIGTERM) stops everything.
//!
//! `chat-dev --lambda` (`make dev-lambda`) puts the compiled function binary (`chat-proxy`, beside this
//! one) behind the emulator instead, through a Lambda Runtime API, with its connection records in
//! DynamoDB: at `AWS_ENDPOINT_URL`, or on a moto_server started here.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use aws_sdk_dynamodb::config::Credentials;
use chat_backend::config::StoreSettings;
use chat_backend::{auth, telemetry};
use chat_settings::aws::timeouts;
use dev_stack::compiled::FunctionOptions;
use dev_stack::notifications::LocalNotifications;
use dev_stack::settings::{DevSettings, DynamoDbSettings};
use dev_stack::{ConnectionRecords, DevStack, ManagementPath, StackOptions};

const USAGE: &str = "usage: chat-dev [--lambda]   (settings from the environment: docs/configuration.md)";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut compiled = false;
    for argument in std::env::args().skip(1) {
        match argument.as_str() {
            "--lambda" => compiled = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let mut settings = DevSettings::from_env().context("configuration")?;
    let mut backend = settings.backend.clone();
    if !backend.local {
        bail!("chat-dev runs the local stack only: set APP_ENV=local (make dev does)");
    }
    telemetry::init(backend.json_logs, chat_backend::http::Hosting::Server).context("log setup")?;
    // `make dev CHAT_STORE=dynamodb`: the chat on DynamoDB, on a moto_server started here (and stopped
    // with chat-dev) unless DYNAMODB_ENDPOINT names one.
    if let StoreSettings::DynamoDb { endpoint: endpoint @ None, table, .. } = &mut backend.store {
        let moto = local_services::moto::Moto::shared();
        tracing::info!(endpoint = %moto.endpoint(), table = %table, "the chat is stored in DynamoDB on moto_server");
        *endpoint = Some(moto.endpoint());
    }
    // The compiled function has one store for its records, DynamoDB: on moto unless AWS_ENDPOINT_URL
    // names one.
    let own_moto = compiled && settings.dynamodb.is_none();
    if own_moto {
        let moto = local_services::moto::Moto::shared();
        settings.dynamodb = Some(DynamoDbSettings {
            endpoint: moto.endpoint(),
            table: "chat-connections-local".into(),
            region: "us-east-1".into(),
        });
    }
    let records = match &settings.dynamodb {
        Some(dynamodb) => {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .http_client(chat_settings::aws::https_client())
                .region(aws_config::Region::new(dynamodb.region.clone()))
                .endpoint_url(&dynamodb.endpoint)
                .timeout_config(timeouts(settings.aws_timeout));
            if own_moto {
                // moto takes any credentials, and the developer's environment need not have any.
                loader =
                    loader.credentials_provider(Credentials::new("local", "local", None, None, "chat-dev"));
            }
            let sdk = loader.load().await;
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
    // Notifications: the chat's events go to a bus on moto, a rule routes messages to the notifier's
    // queue, and the notifier polls it in this process, sending through moto's SES.
    let notifications = match settings.notifications {
        Some(_) => {
            let moto = local_services::moto::Moto::shared();
            let local = LocalNotifications::provision(&moto.endpoint(), "chat-local").await?;
            backend.events = local.events(&backend);
            Some(local)
        }
        None => None,
    };
    let emulator_addr = settings.emulator_addr;
    let options = StackOptions {
        management: ManagementPath::InProcess,
        backend: backend.clone(),
        emulator_addr,
        emulator: settings.emulator_config(),
        records,
        max_frame_bytes: 32 * 1024,
        backend_timeout: Duration::from_secs(10),
    };
    let (stack, lambda) = match (compiled, &settings.dynamodb) {
        (true, Some(dynamodb)) => {
            let function = FunctionOptions {
                binary: function_binary()?,
                instances: settings.function_instances,
                dynamodb_endpoint: dynamodb.endpoint.clone(),
                region: dynamodb.region.clone(),
                log_level: settings.function_log.clone(),
            };
            let lambda = format!(
                "{} (compiled), {} cop{} behind a Lambda Runtime API; records in {} at {}",
                function.binary.display(),
                function.instances,
                if function.instances == 1 { "y" } else { "ies" },
                dynamodb.table,
                dynamodb.endpoint
            );
            (DevStack::start_compiled(options, function).await, lambda)
        }
        _ => {
            let lambda = match &settings.dynamodb {
                Some(dynamodb) => {
                    format!("in-process; records in {} at {}", dynamodb.table, dynamodb.endpoint)
                }
                None => "in-process; records in memory".to_owned(),
            };
            (DevStack::start(options).await, lambda)
        }
    };
    let mut stack = stack.context("starting the local stack")?;
    let notifications = match (&notifications, settings.notifications) {
        (Some(local), Some(wait)) => {
            let notifier = local.notifier(&backend, &stack.backend_url, wait.delay, wait.min_interval);
            stack.run_notifier(&notifier).await.context("starting the notifier")?;
            demo_addresses(&stack.backend_url, &backend).await?;
            format!(
                "alice@example.com and bob@example.com, {}s after a message they have not read (at once \
                 with no connection), at most one per {}s; each is logged, and moto's SES keeps it: \
                 {}/moto-api/data.json (ses.RawMessage). NOTIFICATIONS=off turns them off",
                wait.delay.as_secs(),
                wait.min_interval.as_secs(),
                local.endpoint
            )
        }
        _ => "off (NOTIFICATIONS=off)".to_owned(),
    };

    let token = |user: &str| auth::mint_token(&backend.jwt, user, Duration::from_secs(8 * 3600));
    let (alice, bob) = (token("alice")?, token("bob")?);
    println!(
        "\nBooking chat, local stack\n\
         \n  Demo page          {backend}/   (alice and bob on booking 1, through the emulator)\
         \n  WebSocket API      {ws}?booking_id=1\
         \n  Management API     {management}/@connections/{{connection_id}}\
         \n  Backend            {backend}   (history, status, /metrics, /api/openapi.json)\
         \n  API reference      {backend}/docs   (HTTP and WebSocket APIs; make api-docs builds the pages)\
         \n  Chat store         {store}\
         \n  Lambda             {lambda}\
         \n  Notifications      {notifications}\
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

/// Gives the demo members the addresses their notification emails go to, as a marketplace does through
/// the service API.
async fn demo_addresses(backend_url: &str, backend: &chat_backend::Settings) -> anyhow::Result<()> {
    use secrecy::ExposeSecret;
    let token = backend.service_token.as_ref().context("the service API needs SERVICE_TOKEN")?;
    let http = reqwest::Client::new();
    for user in ["alice", "bob", "carol", "dave"] {
        http.put(format!("{backend_url}/api/service/users/{user}/email"))
            .bearer_auth(token.expose_secret())
            .json(&serde_json::json!({"email": format!("{user}@example.com")}))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("setting {user}'s address"))?;
    }
    Ok(())
}

/// The compiled proxy function: `chat-proxy` beside this binary, as `make dev-lambda` builds both.
fn function_binary() -> anyhow::Result<PathBuf> {
    let this = std::env::current_exe().context("where chat-dev runs from")?;
    let binary = this.with_file_name("chat-proxy");
    if !binary.is_file() {
        bail!(
            "{} is missing: `make dev-lambda` builds it (cargo build -p chat-proxy --bin chat-proxy)",
            binary.display()
        );
    }
    Ok(binary)
}
