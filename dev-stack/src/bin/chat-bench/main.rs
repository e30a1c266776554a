//! `chat-bench` (`make bench`): what a message and a connection cost, measured through the local stack.
//! Prints numbers; asserts nothing (`dev-stack/tests/aws_calls.rs` pins the call counts).
//!
//! Sections, each naming the path it measures:
//! 1. AWS calls per event, through the real adapters (DynamoDB on moto, the Management API over HTTP
//!    with the AWS SDK): the deterministic figure behind what a message costs on AWS.
//! 2. Per-message latency by path: records in memory, records on moto, and the compiled `bootstrap`
//!    behind a Lambda Runtime API. Loopback only: these measure our code, never AWS's latencies.
//! 3. How a message's cost scales with the table: 1 to 1,000 bookings on moto.
//! 4. Fan-out width: one booking with up to 200 connections.
//! 5. The compiled function alone: cold start, peak memory, CPU time and instructions per event (under
//!    valgrind's callgrind, with where they go), the zip.
//!
//! `chat-bench 5` (or any list of section numbers) runs only those sections.
//!
//! Every section prints the machine's load beside its figures: on a shared machine, times are noise
//! unless read as ratios within one run.

mod compiled;
mod instructions;
mod paths;
mod scaling;
mod setup;

use std::path::PathBuf;

use dev_stack::measure::machine;

/// Where the compiled function is: `PROXY_BINARY`, else the `deploy-proxy` build `make bench` makes.
fn proxy_binary() -> PathBuf {
    std::env::var_os("PROXY_BINARY")
        .map_or_else(|| setup::workspace_root().join("target/deploy-proxy/chat-proxy"), PathBuf::from)
}

fn messages() -> usize {
    std::env::var("BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let binary = proxy_binary();
    println!("chat-bench on {}", machine());
    println!("compiled function: {}\n", binary.display());

    let chosen: Vec<String> = std::env::args().skip(1).collect();
    let runs = |section: &str| chosen.is_empty() || chosen.iter().any(|c| c == section);

    // Boxed: each section's future holds a whole stack.
    if runs("1") {
        Box::pin(paths::aws_calls()).await?;
    }
    if runs("2") {
        Box::pin(paths::latency_by_path(&binary, messages())).await?;
    }
    if runs("3") {
        Box::pin(scaling::table_size(messages() / 4)).await?;
    }
    if runs("4") {
        Box::pin(paths::fanout_width(messages())).await?;
    }
    if runs("5") {
        Box::pin(compiled::cold_start(&binary, 20)).await?;
        Box::pin(compiled::per_event(&binary, 2_000)).await?;
        Box::pin(instructions::per_message(&binary)).await?;
        compiled::package_size();
    }
    println!("\ndone on {}", machine());
    Ok(())
}
