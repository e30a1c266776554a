//! Log setup of the queue consumers, the notifier and the media processor (feature `logs`): JSON lines
//! (CloudWatch) or compact text, the level from `RUST_LOG` (default `info`). A level, not a filter
//! expression: the filter's regex engine would weigh on their zips.

/// Installs the global subscriber. Call once, from `main`.
pub fn init(json: bool) {
    let level = std::env::var("RUST_LOG").ok().and_then(|l| l.parse().ok()).unwrap_or(tracing::Level::INFO);
    let builder = tracing_subscriber::fmt().with_max_level(level).with_target(false);
    if json {
        builder.json().flatten_event(true).init();
    } else {
        builder.compact().init();
    }
}
