//! Log setup: human-readable lines locally, JSON elsewhere; `RUST_LOG` overrides the default filter.
//! Colours only on a terminal (and never with `NO_COLOR`): a log file gets plain text.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Call once, from `main`.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let colour =
        std::io::IsTerminal::is_terminal(&std::io::stdout()) && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(colour);
    if json {
        builder.json().flatten_event(true).with_current_span(true).init();
    } else {
        builder.compact().init();
    }
}
