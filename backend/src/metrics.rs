//! Prometheus metrics, served as text at `GET /metrics`.
//!
//! Each [`Metrics`] owns its registry (no global recorder), so several backends can run in one test
//! process. Labels carry route templates and action names only, never ids, tokens or message text.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FrameLabels {
    action: String,
    outcome: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The backend's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: HistogramFamily,
    frames: Family<FrameLabels, Counter>,
    /// Messages stored (retries that returned a stored message are not counted).
    pub messages_stored: Counter,
    /// Messages (and edits) whose contact details were hidden (`CONTACT_MASK_STATUSES`).
    pub contacts_masked: Counter,
    /// Open direct-WebSocket connections.
    pub direct_connections: Gauge,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("chat");
        let http_requests = Family::<HttpLabels, Counter>::default();
        let http_duration: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let frames = Family::<FrameLabels, Counter>::default();
        let messages_stored = Counter::default();
        let contacts_masked = Counter::default();
        let direct_connections = Gauge::default();
        registry.register("http_requests", "HTTP requests by route and status", http_requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            http_duration.clone(),
        );
        registry.register("frames", "Client frames by action and outcome", frames.clone());
        registry.register("messages_stored", "Chat messages stored", messages_stored.clone());
        registry.register(
            "contacts_masked",
            "Messages and edits whose contact details were hidden before they were stored",
            contacts_masked.clone(),
        );
        registry.register(
            "direct_ws_connections",
            "Open connections on the direct WebSocket",
            direct_connections.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            frames,
            messages_stored,
            contacts_masked,
            direct_connections,
        }
    }
}

impl Metrics {
    /// Counts an HTTP request; `route` is the matched route template.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.http_requests
            .get_or_create(&HttpLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels { route: route.to_owned() })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a client frame; `outcome` is `ok` or an error code.
    pub fn frame(&self, action: &str, outcome: &str) {
        self.frames
            .get_or_create(&FrameLabels { action: action.to_owned(), outcome: outcome.to_owned() })
            .inc();
    }

    /// The metrics in the Prometheus / OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
