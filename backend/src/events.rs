//! Publishing the chat's events for the app (`chat_wire::events`, `docs/events.md`): the
//! [`EventPublisher`] port and its adapters.
//!
//! - [`EventBridgePublisher`]: `PutEvents` on the deployment's Amazon EventBridge bus, where the app's own
//!   rules route them (a queue, a function, a signed webhook through an API destination).
//! - [`FilePublisher`]: one JSON line per event appended to a file, the local equivalent (`make dev`:
//!   `.data/events.jsonl`, to `tail -f` or to read in a test).
//! - [`NoEvents`]: nothing, when neither is configured.
//!
//! The service publishes after the change is stored, once per change (a retried message or a read that
//! moves nothing publishes nothing). Publishing never fails or changes the sender's answer: the change
//! has happened. An adapter retries, then logs and counts what it could not publish (`EventsFailed`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chat_connections::emf::{self, Unit};
use chat_wire::events::{ChatEvent, EVENT_SOURCE};
use chat_wire::time::now_millis;
use futures_util::future::BoxFuture;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use crate::config::EventSettings;

/// Publishes chat events.
pub trait EventPublisher: Send + Sync + 'static {
    /// Publishes `event`. Best effort: failures are retried, logged and counted by the adapter, never
    /// returned, because the change it tells of has already happened.
    fn publish(&self, event: ChatEvent) -> BoxFuture<'_, ()>;
}

/// The publisher the settings name.
pub async fn publisher(
    settings: &EventSettings,
    sdk: Option<&aws_config::SdkConfig>,
) -> Arc<dyn EventPublisher> {
    match settings {
        EventSettings::Off => Arc::new(NoEvents),
        EventSettings::File(path) => {
            tracing::info!(file = %path.display(), "chat events are appended to a file");
            Arc::new(FilePublisher::new(path.clone()))
        }
        EventSettings::EventBridge { bus, endpoint, aws_timeout, metrics_namespace, stage, copy_to_file } => {
            let sdk = chat_settings::aws::local_or_aws(endpoint.as_deref(), sdk, *aws_timeout).await;
            tracing::info!(bus = %bus, "chat events are published to EventBridge");
            let bridge = Arc::new(EventBridgePublisher {
                client: aws_sdk_eventbridge::Client::new(&sdk),
                bus: bus.clone(),
                metrics: Some((metrics_namespace.clone(), stage.clone())),
            });
            match copy_to_file {
                Some(path) => {
                    tracing::info!(file = %path.display(), "and appended to a file");
                    Arc::new(Tee(bridge, Arc::new(FilePublisher::new(path.clone()))))
                }
                None => bridge,
            }
        }
    }
}

/// Publishes to two publishers at once.
struct Tee(Arc<dyn EventPublisher>, Arc<dyn EventPublisher>);

impl EventPublisher for Tee {
    fn publish(&self, event: ChatEvent) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let copy = event.clone();
            futures_util::join!(self.0.publish(event), self.1.publish(copy));
        })
    }
}

/// Publishes nothing.
#[derive(Debug, Default)]
pub struct NoEvents;

impl EventPublisher for NoEvents {
    fn publish(&self, _event: ChatEvent) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// How many times an entry is put before it counts as failed, and the pause before the second.
const PUT_ATTEMPTS: u32 = 3;
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(50);
/// How long one event's publication may take, attempts included: the sender's answer waits for it, so a
/// slow EventBridge costs a message at most this, not three of the SDK's call budgets.
pub const PUBLISH_BUDGET: Duration = Duration::from_secs(1);

/// `PutEvents` on one bus: one entry per event (`Source` [`EVENT_SOURCE`], `DetailType` the event's
/// type, `Detail` the event), retried when the call fails or EventBridge refuses the entry, within
/// [`PUBLISH_BUDGET`], then logged and counted as `EventsFailed`.
#[derive(Debug, Clone)]
pub struct EventBridgePublisher {
    client: aws_sdk_eventbridge::Client,
    bus: String,
    /// Where the embedded-metric-format lines go (namespace, stage); none in tests.
    metrics: Option<(String, String)>,
}

impl EventBridgePublisher {
    /// A publisher to `bus` through `client`, printing no metrics.
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        Self { client, bus: bus.into(), metrics: None }
    }

    /// One `PutEvents` call; `Err` says why the entry was not accepted.
    async fn put(&self, entry: PutEventsRequestEntry) -> Result<(), String> {
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| aws_sdk_eventbridge::error::DisplayErrorContext(e).to_string())?;
        match output.entries().first() {
            Some(result) if result.error_code().is_some() => Err(format!(
                "{}: {}",
                result.error_code().unwrap_or_default(),
                result.error_message().unwrap_or_default()
            )),
            _ if output.failed_entry_count() > 0 => Err("the entry was refused".into()),
            _ => Ok(()),
        }
    }

    async fn publish_event(&self, event: ChatEvent) {
        let detail = match serde_json::to_string(&event) {
            Ok(detail) => detail,
            Err(error) => {
                tracing::error!(error = %error, "a chat event could not be serialised");
                return;
            }
        };
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(event.change.kind())
            .detail(detail)
            .build();
        let attempts = async {
            let mut delay = FIRST_RETRY_DELAY;
            let mut failure = String::new();
            for attempt in 1..=PUT_ATTEMPTS {
                match self.put(entry.clone()).await {
                    Ok(()) => return Ok(()),
                    Err(why) => failure = why,
                }
                if attempt < PUT_ATTEMPTS {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
            Err(failure)
        };
        let failure = match tokio::time::timeout(PUBLISH_BUDGET, attempts).await {
            Ok(Ok(())) => return self.count(true),
            Ok(Err(failure)) => failure,
            Err(_) => format!("no answer within {} ms", PUBLISH_BUDGET.as_millis()),
        };
        tracing::warn!(event_id = %event.id, kind = event.change.kind(), error = %failure, "a chat event could not be published");
        self.count(false);
    }

    fn count(&self, published: bool) {
        let Some((namespace, stage)) = &self.metrics else { return };
        println!("{}", metrics_line(namespace, stage, published, now_millis()));
    }
}

/// The embedded-metric-format line of one event put on the bus (`EventsPublished`) or not (`EventsFailed`),
/// as the publisher prints it. Only the count that is 1: a zero is left out (the `events-failed` alarm sums,
/// and treats missing data as not breaching), which keeps the line a third shorter.
pub fn metrics_line(namespace: &str, stage: &str, published: bool, timestamp_ms: i64) -> String {
    let metric = if published { "EventsPublished" } else { "EventsFailed" };
    emf::line(namespace, stage, &[(metric, Unit::Count, 1.0)], timestamp_ms)
}

impl EventPublisher for EventBridgePublisher {
    fn publish(&self, event: ChatEvent) -> BoxFuture<'_, ()> {
        Box::pin(self.publish_event(event))
    }
}

/// Appends one JSON line per event to a file (created with its directory when missing). Lines are
/// written whole, one at a time, so a reader never sees half an event.
#[derive(Debug)]
pub struct FilePublisher {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FilePublisher {
    /// A publisher appending to `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path, lock: Mutex::new(()) }
    }

    async fn append(&self, event: &ChatEvent) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event)?;
        line.push(b'\n');
        let _one_writer = self.lock.lock().await;
        if let Some(dir) = self.path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await?;
        }
        let mut file = tokio::fs::OpenOptions::new().create(true).append(true).open(&self.path).await?;
        file.write_all(&line).await?;
        file.flush().await
    }
}

impl EventPublisher for FilePublisher {
    fn publish(&self, event: ChatEvent) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Err(error) = self.append(&event).await {
                tracing::warn!(file = %self.path.display(), error = %error, "a chat event could not be written");
            }
        })
    }
}
