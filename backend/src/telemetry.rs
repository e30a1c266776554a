//! Log setup: human-readable lines locally, JSON elsewhere; `RUST_LOG` overrides the default filter.
//! Colours only on a terminal (and never with `NO_COLOR`): a log file gets plain text.
//!
//! The JSON lines are [`chat_settings::logs`]'s, as every deployable writes them: one object per event,
//! each key once, the level only when it is not INFO, the fields of the event's spans flattened into it;
//! a timestamp only on a long-running server (CloudWatch stamps a function's lines). `LOG_SAMPLE_RATE=N`
//! keeps every warning and error and one in N invocations' other lines.

use chat_settings::logs::{InvalidSampleRate, Sampler};
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::http::Hosting;

/// The filter when `RUST_LOG` is unset: the backend's own lines from INFO, its libraries' from WARN.
/// tower-http's request lines are DEBUG: a request's line, when there is one, is the handler's.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=warn";

/// Installs the global subscriber. Call once, from `main`.
///
/// # Errors
/// [`InvalidSampleRate`]: with JSON lines, `LOG_SAMPLE_RATE` is set but not a whole number of at least 1.
pub fn init(json: bool, hosting: Hosting) -> Result<(), InvalidSampleRate> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    if json {
        json_subscriber(filter, Sampler::from_env()?, hosting, std::io::stdout).init();
    } else {
        let colour =
            std::io::IsTerminal::is_terminal(&std::io::stdout()) && std::env::var_os("NO_COLOR").is_none();
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_ansi(colour)
            .compact()
            .init();
    }
    Ok(())
}

/// The JSON subscriber [`init`] installs, writing to `writer`: [`chat_settings::logs::json_subscriber`]
/// behind the backend's filter, timestamped only on a long-running server (CloudWatch stamps a function's
/// lines). What a test captures to see the lines CloudWatch receives.
pub fn json_subscriber<W>(
    filter: EnvFilter,
    sampler: Sampler,
    hosting: Hosting,
    writer: W,
) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    chat_settings::logs::json_subscriber(filter, sampler, hosting == Hosting::Server, writer)
}
