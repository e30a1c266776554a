//! Log setup of the deployables (feature `logs`): the JSON lines CloudWatch receives, or compact text
//! locally, the level from `RUST_LOG` (default `info`), and in JSON the sampling of routine lines that
//! `LOG_SAMPLE_RATE` asks for. A level, not a filter expression: the filter's regex engine would weigh on
//! the zips (the backend, which has it, builds its own filter and uses [`JsonLines`] and [`Sampler`]).
//!
//! # A line
//! One JSON object per event, each key once: `msg` (the event's message, when it has one), `level` only
//! when it is not `INFO` (Lambda's JSON log format reads a line without one as INFO), then the fields of the
//! event's spans, outermost first, and the event's own; a later field of the same name replaces an earlier
//! one. No span names, no target, and no timestamp unless asked for ([`JsonLines::with_time`]): CloudWatch
//! stamps every line. The fields of the Lambda runtime's invocation span (`requestId`, `xrayTraceId`) are
//! written on warnings and errors only, where they lead to the invocation's trace.
//!
//! # Sampling
//! [`Sampler`] keeps every warning and error, and one in `n` of the rest, decided once per invocation (the
//! outermost span: in Lambda the runtime's, around each invocation) so that an invocation's lines are kept
//! or dropped together. An invocation that logged a warning or an error keeps its later lines too: the
//! one line that ends an event, with its outcome and duration, follows its warnings.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::layer::{Context, Filter, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The environment variable of the sampling rate: `N` keeps one routine line in `N` (`1`, the default,
/// keeps every line).
pub const SAMPLE_RATE_VAR: &str = "LOG_SAMPLE_RATE";

/// A `LOG_SAMPLE_RATE` that is not a whole number of at least 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "LOG_SAMPLE_RATE must be a whole number of at least 1 (1 keeps every line, 10 one invocation's routine lines in 10): got {0:?}"
)]
pub struct InvalidSampleRate(pub String);

/// Installs the global subscriber of the queue consumers (the notifier, the media processor) and the
/// proxy: JSON lines ([`JsonLines`], sampled by [`Sampler::from_env`]) or compact text, at the level of
/// `RUST_LOG`. Call once, from `main`.
///
/// # Errors
/// [`InvalidSampleRate`]: `LOG_SAMPLE_RATE` is set to something else than a whole number of at least 1.
pub fn init(json: bool) -> Result<(), InvalidSampleRate> {
    let level = level_from_env();
    if json {
        let level = tracing_subscriber::filter::LevelFilter::from_level(level);
        json_subscriber(level, Sampler::from_env()?, false, std::io::stdout).init();
    } else {
        tracing_subscriber::fmt().with_max_level(level).with_target(false).compact().init();
    }
    Ok(())
}

/// The JSON subscriber every deployable installs (this module's [`init`], the backend's own with its
/// filter expression), writing [`JsonLines`] (timestamped with `time`) to `writer` behind `filter` (a level,
/// or an `EnvFilter`): what a test captures to see the lines CloudWatch receives.
pub fn json_subscriber<F, W>(
    filter: F,
    sampler: Sampler,
    time: bool,
    writer: W,
) -> impl Subscriber + Send + Sync
where
    F: Layer<tracing_subscriber::Registry> + Send + Sync + 'static,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::registry()
        .with(filter)
        .with(JsonLines::new(writer).with_time(time).with_filter(sampler))
}

/// `RUST_LOG` as a level (`error` ... `trace`), `info` when unset or not a level.
pub fn level_from_env() -> Level {
    std::env::var("RUST_LOG").ok().and_then(|level| level.parse().ok()).unwrap_or(Level::INFO)
}

/// The layer that writes each event as one JSON line (the module's [# A line](self#a-line)).
#[derive(Debug)]
pub struct JsonLines<W> {
    make_writer: W,
    time: bool,
}

impl<W> JsonLines<W> {
    /// Lines without a timestamp (CloudWatch stamps them), written to `make_writer`.
    pub fn new(make_writer: W) -> Self {
        Self { make_writer, time: false }
    }

    /// Whether each line starts with its time (`"time"`, RFC 3339): for a long-running server whose lines
    /// nothing else stamps.
    #[must_use]
    pub fn with_time(self, time: bool) -> Self {
        Self { time, ..self }
    }
}

/// The fields a span carries so far, in the order they were first recorded.
#[derive(Debug, Default)]
struct Fields(Vec<(&'static str, Value)>);

impl Fields {
    fn set(&mut self, name: &'static str, value: Value) {
        match self.0.iter_mut().find(|(key, _)| *key == name) {
            Some((_, slot)) => *slot = value,
            None => self.0.push((name, value)),
        }
    }
}

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field.name(), serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field.name(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field.name(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field.name(), value.into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field.name(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.set(field.name(), format!("{value:?}").into());
    }
}

/// Whether a span is the Lambda runtime's own (its invocation's `requestId` and `xrayTraceId`).
fn is_runtime_span(metadata: &Metadata<'_>) -> bool {
    metadata.target().starts_with("lambda_runtime")
}

impl<S, W> Layer<S> for JsonLines<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        let mut all = Fields::default();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if level > Level::WARN && is_runtime_span(span.metadata()) {
                    continue;
                }
                if let Some(fields) = span.extensions().get::<Fields>() {
                    for (name, value) in &fields.0 {
                        all.set(name, value.clone());
                    }
                }
            }
        }
        event.record(&mut all);
        let mut line = String::with_capacity(256);
        line.push('{');
        if self.time {
            let mut now = String::new();
            if SystemTime.format_time(&mut Writer::new(&mut now)).is_ok() {
                push_member(&mut line, "time", &Value::String(now));
            }
        }
        if let Some((_, message)) = all.0.iter().find(|(name, _)| *name == "message") {
            push_member(&mut line, "msg", message);
        }
        if level != Level::INFO {
            push_member(&mut line, "level", &Value::String(level.as_str().to_owned()));
        }
        for (name, value) in all.0.iter().filter(|(name, _)| *name != "message") {
            push_member(&mut line, name, value);
        }
        line.push_str("}\n");
        // A line that cannot be written is lost: there is nowhere else to say so.
        let _ = self.make_writer.make_writer_for(event.metadata()).write_all(line.as_bytes());
    }
}

/// Appends `"name":value` to an object being written.
fn push_member(line: &mut String, name: &str, value: &Value) {
    if !line.ends_with('{') {
        line.push(',');
    }
    // Strings and JSON values always serialise.
    let _ = write!(line, "{}:{value}", Value::String(name.to_owned()));
}

/// Keeps every warning and error and one in `n` invocations' other lines (the module's
/// [# Sampling](self#sampling)); a per-layer filter of [`JsonLines`].
#[derive(Debug)]
pub struct Sampler {
    one_in: u64,
    /// The state of a SplitMix64 sequence: one step per decision, shared by every thread without a lock.
    state: AtomicU64,
}

/// An outermost span's decision, which every line under it follows.
#[derive(Debug)]
struct Decision {
    keep: bool,
    /// A warning or an error was logged under the span: its later lines are kept.
    troubled: AtomicBool,
}

impl Sampler {
    /// Keeps every line.
    pub fn all() -> Self {
        Self::one_in(1)
    }

    /// Keeps every warning and error, and one in `n` invocations' other lines (`n` of 0 counts as 1).
    pub fn one_in(n: u32) -> Self {
        let seed = std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), n);
        Self::seeded(n, seed)
    }

    /// As [`Sampler::one_in`], from a given seed: the same decisions every run (for tests).
    pub fn seeded(n: u32, seed: u64) -> Self {
        Self { one_in: u64::from(n.max(1)), state: AtomicU64::new(seed) }
    }

    /// The rate `LOG_SAMPLE_RATE` sets (every line when unset).
    ///
    /// # Errors
    /// [`InvalidSampleRate`]: set, but not a whole number of at least 1.
    pub fn from_env() -> Result<Self, InvalidSampleRate> {
        match std::env::var(SAMPLE_RATE_VAR) {
            Ok(text) => Ok(Self::one_in(parse_rate(&text)?)),
            Err(_) => Ok(Self::all()),
        }
    }

    /// One in how many invocations' routine lines are kept.
    pub fn rate(&self) -> u64 {
        self.one_in
    }

    fn draw(&self) -> bool {
        if self.one_in == 1 {
            return true;
        }
        // SplitMix64 (Steele, Lea and Flood): a Weyl sequence through a bit mixer.
        let mut z = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).is_multiple_of(self.one_in)
    }
}

/// Lines written into memory instead of stdout: the writer of a test's [`json_subscriber`] (`move ||
/// captured.clone()`), to read what CloudWatch would receive. Cheap to clone; clones share the lines.
#[derive(Debug, Clone, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    fn bytes(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Everything written so far.
    ///
    /// # Panics
    /// When what was written is not UTF-8 (a line is always written whole, from a `String`).
    pub fn text(&self) -> String {
        String::from_utf8(self.bytes().clone()).expect("log lines are UTF-8")
    }

    /// Each line written so far, without its newline.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// Forgets what was written so far.
    pub fn clear(&self) {
        self.bytes().clear();
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A `LOG_SAMPLE_RATE` value: a whole number of at least 1.
///
/// # Errors
/// [`InvalidSampleRate`] for anything else.
pub fn parse_rate(text: &str) -> Result<u32, InvalidSampleRate> {
    text.trim().parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| InvalidSampleRate(text.to_owned()))
}

impl<S> Filter<S> for Sampler
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    fn on_new_span(&self, _: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if self.one_in == 1 {
            return;
        }
        if let Some(span) = ctx.span(id)
            && span.parent().is_none()
        {
            span.extensions_mut().insert(Decision { keep: self.draw(), troubled: AtomicBool::new(false) });
        }
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        if self.one_in == 1 {
            return true;
        }
        let Some(root) = cx.event_scope(event).and_then(|scope| scope.from_root().next()) else {
            // Outside any span (a cold start's lines): each line on its own.
            return *event.metadata().level() <= Level::WARN || self.draw();
        };
        let extensions = root.extensions();
        let Some(decision) = extensions.get::<Decision>() else { return true };
        if *event.metadata().level() <= Level::WARN {
            decision.troubled.store(true, Ordering::Relaxed);
            return true;
        }
        decision.keep || decision.troubled.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_a_whole_number_of_at_least_one() {
        assert_eq!(parse_rate("1"), Ok(1));
        assert_eq!(parse_rate(" 20 "), Ok(20));
        for bad in ["0", "-3", "0.5", "ten", ""] {
            assert_eq!(parse_rate(bad), Err(InvalidSampleRate(bad.to_owned())), "{bad:?}");
        }
    }

    #[test]
    fn one_in_n_draws_keep_about_one_in_n() {
        let sampler = Sampler::seeded(10, 7);
        let kept = (0..100_000).filter(|_| sampler.draw()).count();
        assert!((9_000..=11_000).contains(&kept), "{kept} of 100,000 kept at 1 in 10");
        let all = Sampler::all();
        assert!((0..1_000).all(|_| all.draw()));
    }
}
