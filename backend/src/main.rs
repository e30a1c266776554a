//! `chat-backend`: serve the backend, manage bookings, mint a local token, or seed the demo bookings.
//! Configuration comes from the environment (docs/configuration.md lists it); this file only wires it up.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use chat_backend::chat::ChatService;
use chat_backend::domain::{Booking, BookingStatus};
use chat_backend::http::{AppState, Hosting};
use chat_backend::{Application, Settings, auth, events, notifier, seed, shutdown, store, telemetry};
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
    /// Print the OpenAPI document of the HTTP API, generated from the routes (`make openapi` writes it to
    /// backend/openapi.json). Needs no configuration.
    Openapi,
    /// Create, read or change bookings in the configured store (as the service API does).
    #[command(subcommand)]
    Booking(BookingCommand),
}

#[derive(Subcommand)]
enum BookingCommand {
    /// Create a booking, or update its owner, renter and title (idempotent).
    Put {
        /// The booking's id (the marketplace's).
        #[arg(long)]
        id: i64,
        /// The owner's user id.
        #[arg(long)]
        owner: String,
        /// The renter's user id.
        #[arg(long)]
        renter: String,
        /// What is booked.
        #[arg(long)]
        title: String,
        /// The status (a new booking: default `requested`; an existing one: a valid transition).
        #[arg(long)]
        status: Option<String>,
    },
    /// Print a booking as JSON.
    Get {
        /// The booking's id.
        #[arg(long)]
        id: i64,
    },
    /// Move a booking to a status (valid transitions only); its connections are told when the backend
    /// pushes through API Gateway (CONNECTIONS_TABLE and MANAGEMENT_ENDPOINT set).
    Status {
        /// The booking's id.
        #[arg(long)]
        id: i64,
        /// requested, confirmed, active, completed or cancelled.
        #[arg(long)]
        status: String,
    },
}

fn parse_status(status: &str) -> anyhow::Result<BookingStatus> {
    BookingStatus::parse(status).with_context(|| {
        format!("unknown status {status:?}: expected requested, confirmed, active, completed or cancelled")
    })
}

/// The chat service over the configured store, as the server builds it.
async fn service(settings: &Settings) -> anyhow::Result<(Arc<ChatService>, store::Store)> {
    let store = store::open(&settings.store, None).await.context("opening the store")?;
    store.prepare().await.context("preparing the store")?;
    let push = notifier::api_gateway(settings, None).await;
    let events = events::publisher(&settings.events, None).await;
    Ok((AppState::new(settings, store.clone(), push, events, None).chat(), store))
}

async fn booking(settings: &Settings, command: BookingCommand) -> anyhow::Result<()> {
    let (chat, store) = service(settings).await?;
    let booking = match command {
        BookingCommand::Put { id, owner, renter, title, status } => {
            let status = match status {
                Some(status) => parse_status(&status)?,
                None => chat.booking(id).await.map_or(BookingStatus::Requested, |b| b.status),
            };
            let written = chat
                .put_booking(&Booking {
                    id,
                    owner_id: owner,
                    renter_id: renter,
                    title,
                    status,
                    chat: Default::default(),
                })
                .await?;
            eprintln!("booking {id}: {written:?}");
            chat.booking(id).await?
        }
        BookingCommand::Get { id } => chat.booking(id).await?,
        BookingCommand::Status { id, status } => {
            let previous = chat.set_status(id, parse_status(&status)?).await?;
            eprintln!("booking {id}: {} → {status}", previous.as_str());
            chat.booking(id).await?
        }
    };
    println!(
        "{}",
        serde_json::json!({
            "booking_id": booking.id,
            "owner_id": booking.owner_id,
            "renter_id": booking.renter_id,
            "title": booking.title,
            "status": booking.status,
        })
    );
    store.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if matches!(cli.command, Some(Command::Openapi)) {
        print!("{}", chat_backend::http::openapi_json());
        return Ok(());
    }
    let settings = Settings::from_env().context("configuration")?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init(settings.json_logs, Hosting::Server).context("log setup")?;
            let push = notifier::api_gateway(&settings, None).await;
            let app =
                Application::build_with_notifier(&settings, push).await.context("starting the backend")?;
            tracing::info!(addr = %app.local_addr(), database = app.store().kind(), "backend listening");
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
            let store = store::open(&settings.store, None).await?;
            store.prepare().await?;
            let inserted = seed::demo_bookings(store.as_ref()).await?;
            println!("seeded {inserted} demo booking(s)");
            store.close().await;
        }
        Command::Booking(command) => booking(&settings, command).await?,
        Command::Openapi => unreachable!("printed before the configuration is read"),
    }
    Ok(())
}
