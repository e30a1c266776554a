//! `chat-backend`: serve the backend, mint a local token, or seed the demo bookings.
//! Configuration comes from the environment (see the README's table); this file only wires it up.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chat_backend::notifier::{BookingNotifier, FanoutNotifier};
use chat_backend::store::ChatStore;
use chat_backend::{Application, Settings, auth, seed, shutdown, telemetry};
use chat_connections::gateway::ManagementApiGateway;
use chat_connections::store::DynamoDbConnectionStore;
use chat_connections::{DeliveryPolicy, Fanout};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "chat-backend", version, about = "Booking chat backend")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve HTTP and the direct WebSocket (the default).
    Serve,
    /// Print a JWT for a user, signed with the configured secret (APP_ENV=local only).
    Token {
        /// The user id (`sub`), e.g. alice.
        #[arg(long)]
        user: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: u64,
    },
    /// Insert the demo bookings (1: alice/bob, 2: carol/dave) if missing.
    Seed,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_env().context("configuration")?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init(settings.json_logs);
            let push = match &settings.api_gateway_push {
                Some(push) => {
                    let sdk = chat_settings::aws::load(push.aws_timeout).await;
                    let fanout = Fanout::new(
                        DynamoDbConnectionStore::from_sdk_config(&sdk, &push.connections_table),
                        ManagementApiGateway::new(sdk.clone()),
                        DeliveryPolicy::default(),
                    );
                    let notifier = FanoutNotifier::new(fanout, &push.management_endpoint);
                    tracing::info!(table = %push.connections_table, "booking status changes are pushed through API Gateway");
                    Some(Arc::new(notifier) as Arc<dyn BookingNotifier>)
                }
                None => None,
            };
            let app =
                Application::build_with_notifier(&settings, push).await.context("starting the backend")?;
            tracing::info!(addr = %app.local_addr(), database = ?app.store().kind(), "backend listening");
            app.run_until(shutdown::signal()).await.context("serving")?;
        }
        Command::Token { user, ttl } => {
            if !settings.local {
                bail!(
                    "`token` mints tokens with the configured secret and is only available with APP_ENV=local"
                );
            }
            println!("{}", auth::mint_token(&settings.jwt, &user, Duration::from_secs(ttl))?);
        }
        Command::Seed => {
            let store = ChatStore::connect(&settings.database_url, 1).await?;
            store.migrate().await?;
            let inserted = seed::demo_bookings(&store).await?;
            println!("seeded {inserted} demo booking(s)");
            store.close().await;
        }
    }
    Ok(())
}
