//! `chat-smoke`: two clients, one booking, one broadcast; a readable summary or `--json`; non-zero exit
//! on failure.

use std::time::Duration;

use anyhow::bail;
use chat_smoke::{SmokeOptions, run};
use chat_wire::token::mint_local;
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "chat-smoke",
    version,
    about = "Two-client broadcast smoke test of the booking chat WebSocket API"
)]
struct Args {
    /// The WebSocket API, e.g. ws://127.0.0.1:3001/local or wss://abc.execute-api.eu-west-1.amazonaws.com/dev
    #[arg(long, env = "SMOKE_URL")]
    url: String,
    /// The booking both clients join.
    #[arg(long, default_value_t = 1)]
    booking: i64,
    /// Token of the first client.
    #[arg(long, env = "SMOKE_TOKEN_A", hide_env_values = true)]
    token_a: Option<String>,
    /// Token of the second client.
    #[arg(long, env = "SMOKE_TOKEN_B", hide_env_values = true)]
    token_b: Option<String>,
    /// Mint both tokens with this HS256 secret instead (local environments).
    #[arg(long, env = "SMOKE_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// The first client's user when minting.
    #[arg(long, default_value = "alice")]
    user_a: String,
    /// The second client's user when minting.
    #[arg(long, default_value = "bob")]
    user_b: String,
    /// Seconds each step may take.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (token_a, token_b) = match (args.token_a, args.token_b, args.jwt_secret) {
        (Some(a), Some(b), _) => (a, b),
        (_, _, Some(secret)) => (
            mint_local(&secret, &args.user_a, Duration::from_secs(600))?,
            mint_local(&secret, &args.user_b, Duration::from_secs(600))?,
        ),
        _ => bail!("give --token-a and --token-b (or SMOKE_TOKEN_A/B), or --jwt-secret to mint them"),
    };
    let report = run(&SmokeOptions {
        url: args.url,
        booking_id: args.booking,
        token_a,
        token_b,
        timeout: Duration::from_secs(args.timeout),
    })
    .await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_text());
    }
    std::process::exit(if report.passed { 0 } else { 1 });
}
