//! Delivery of a frame to connections: to one (the sender) or to a whole booking, through [`Fanout`].
//!
//! A booking fan-out is one paginated Query of the booking's records (user connections are recorded in
//! each booking of their user, so the same Query finds them), then PostToConnection with bounded
//! concurrency. A 410 Gone removes that connection's records and does not fail the others; throttling and
//! 5xx are retried with full-jitter exponential backoff a bounded number of times. A record whose token has
//! expired is not delivered to: its connection is told (`TOKEN_EXPIRED`), closed and forgotten
//! ([`Fanout::expire`]), so a client never sits on a connection that silently stopped receiving. Every
//! fan-out ends in a [`FanoutReport`], logged as one line and emitted as CloudWatch embedded-metric-format
//! metrics.

use std::time::{Duration, Instant};

use chat_wire::proxy::{ConnectionType, delivers_to};
use chat_wire::{BookingId, ErrorCode, ServerFrame};
use futures_util::StreamExt;

use crate::emf::{self, Unit};

use crate::ports::{ConnectionGateway, ConnectionStore, PostError, StoreError};
use crate::record::{ConnectionRecord, now_millis, now_seconds};

/// What an expired connection is told before it is closed.
pub const TOKEN_EXPIRED_MESSAGE: &str = "this connection's token has expired; reconnect with a fresh token";

/// How deliveries are paced and retried.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// PostToConnection calls in flight at once.
    pub concurrency: usize,
    /// Attempts per connection for retryable failures (1 means no retry).
    pub attempts: u32,
    /// The first backoff's upper bound; it doubles with each retry.
    pub base_delay: Duration,
    /// The largest backoff.
    pub max_delay: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self {
            concurrency: 32,
            attempts: 3,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(1),
        }
    }
}

impl DeliveryPolicy {
    /// The pause before retry number `retry` (1-based): uniformly random in `[0, min(max, base * 2^(retry-1))]`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let ceiling =
            self.base_delay.saturating_mul(1u32 << retry.saturating_sub(1).min(16)).min(self.max_delay);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=millis))
    }
}

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The frame was accepted by API Gateway.
    Delivered,
    /// The connection was gone; its records were removed.
    Gone,
    /// Every attempt failed, or the failure was not retryable: the last failure.
    Failed(PostError),
}

impl Delivery {
    /// The outcome of a post: gone and failed posts become [`Delivery::Gone`] and [`Delivery::Failed`].
    pub fn from_post(result: Result<(), PostError>) -> Self {
        match result {
            Ok(()) => Self::Delivered,
            Err(PostError::Gone) => Self::Gone,
            Err(error) => Self::Failed(error),
        }
    }
}

/// The outcome of one fan-out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FanoutReport {
    /// Connections the frame was meant for.
    pub recipients: usize,
    /// Deliveries accepted.
    pub delivered: usize,
    /// Connections found gone (and forgotten).
    pub gone: usize,
    /// Connections whose token had expired: told, closed and forgotten instead of delivered to.
    pub expired: usize,
    /// Deliveries that failed.
    pub failed: usize,
    /// Retries made.
    pub retries: usize,
    /// The connections whose delivery failed, and why (so a failed sender can be told).
    pub failures: Vec<(String, PostError)>,
    /// Wall time of the fan-out.
    pub duration: Duration,
}

/// Who a frame is posted to: a recorded connection (forgotten if found gone), or one without a record
/// (nothing to forget).
#[derive(Debug, Clone, Copy)]
pub enum Recipient<'a> {
    /// A connection recorded under a booking.
    Recorded {
        /// The booking whose record to forget if the connection is gone.
        booking_id: BookingId,
        /// The connection.
        connection_id: &'a str,
    },
    /// A connection id alone (it never completed `$connect`, or its record expired).
    Unrecorded(&'a str),
}

impl Recipient<'_> {
    /// The connection id.
    pub fn connection_id(&self) -> &str {
        match self {
            Self::Recorded { connection_id, .. } | Self::Unrecorded(connection_id) => connection_id,
        }
    }
}

/// Delivery of frames to connections: over a store of connection records and a gateway to the
/// connections, paced and retried by a policy. The Lambda and the backend's status pushes both use it.
#[derive(Debug)]
pub struct Fanout<S, G> {
    store: S,
    gateway: G,
    policy: DeliveryPolicy,
}

impl<S: ConnectionStore, G: ConnectionGateway> Fanout<S, G> {
    /// Delivery over `store` and `gateway`, paced by `policy`.
    pub fn new(store: S, gateway: G, policy: DeliveryPolicy) -> Self {
        Self { store, gateway, policy }
    }

    /// The connection records.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The gateway to the connections.
    pub fn gateway(&self) -> &G {
        &self.gateway
    }

    /// Posts `frame` to one connection through the Management API at `endpoint`, retrying throttling and
    /// 5xx with backoff up to the policy's attempts; a recorded connection found gone is forgotten.
    /// Returns what happened and the retries made.
    pub async fn to_connection(
        &self,
        endpoint: &str,
        recipient: Recipient<'_>,
        frame: &str,
    ) -> (Delivery, usize) {
        let connection_id = recipient.connection_id();
        let mut retries = 0;
        let result = loop {
            match self.gateway.post(endpoint, connection_id, frame).await {
                Err(PostError::Retryable(reason)) if (retries as u32) + 1 < self.policy.attempts => {
                    retries += 1;
                    tracing::debug!(connection_id, reason = %reason, retry = retries, "retrying a delivery");
                    tokio::time::sleep(self.policy.backoff(retries as u32)).await;
                }
                result => break result,
            }
        };
        let delivery = Delivery::from_post(result);
        match (&delivery, recipient) {
            (Delivery::Gone, Recipient::Recorded { booking_id, .. }) => {
                if let Err(error) = self.store.remove(booking_id, connection_id).await {
                    tracing::warn!(connection_id, error = %error, "could not remove a gone connection");
                }
            }
            (Delivery::Failed(error), _) => tracing::warn!(connection_id, error = %error, "delivery failed"),
            _ => {}
        }
        (delivery, retries)
    }

    /// Tells a connection its token has expired (an `error` frame, `TOKEN_EXPIRED`), closes it and forgets
    /// its record. Best effort: a connection already gone is simply forgotten.
    pub async fn expire(&self, endpoint: &str, booking_id: BookingId, connection_id: &str) {
        let frame = ServerFrame::error(ErrorCode::TokenExpired, TOKEN_EXPIRED_MESSAGE, now_millis());
        let recipient = Recipient::Recorded { booking_id, connection_id };
        let (delivery, _) = self.to_connection(endpoint, recipient, &frame.to_text()).await;
        if delivery != Delivery::Gone {
            if let Err(error) = self.gateway.close(endpoint, connection_id).await
                && error != PostError::Gone
            {
                tracing::warn!(connection_id, error = %error, "could not close an expired connection");
            }
            if let Err(error) = self.store.remove(booking_id, connection_id).await {
                tracing::warn!(connection_id, error = %error, "could not remove an expired connection");
            }
        }
    }

    /// Sends `frame` (whose `type` is `frame_type`) to every connection of `booking_id` except `except`,
    /// honouring connection types: one paginated Query, then posts with bounded concurrency. Connections
    /// whose token has expired are expired ([`Fanout::expire`]) instead.
    ///
    /// # Errors
    /// Only when the booking's connections cannot be listed; individual delivery failures are counted.
    pub async fn to_booking(
        &self,
        endpoint: &str,
        booking_id: BookingId,
        frame_type: Option<&str>,
        frame: &str,
        except: Option<&str>,
    ) -> Result<FanoutReport, StoreError> {
        self.to_records(endpoint, booking_id, frame, |record| {
            Some(record.connection_id.as_str()) != except && delivers_to(frame_type, record.connection_type)
        })
        .await
    }

    /// Sends `frame` (whose `type` is `frame_type`) to the user connections of `user_id` recorded in
    /// `booking_id` (an `unread` count only its reader's connections receive): the same one Query of the
    /// booking as [`Fanout::to_booking`], then a post to each of them.
    ///
    /// # Errors
    /// Only when the booking's connections cannot be listed.
    pub async fn to_user_connections(
        &self,
        endpoint: &str,
        booking_id: BookingId,
        user_id: &str,
        frame_type: Option<&str>,
        frame: &str,
    ) -> Result<FanoutReport, StoreError> {
        self.to_records(endpoint, booking_id, frame, |record| {
            record.connection_type == ConnectionType::User
                && record.user_id == user_id
                && delivers_to(frame_type, record.connection_type)
        })
        .await
    }

    /// Posts `frame` to the live records of `booking_id` that `wanted` picks; expires the expired ones
    /// (all of them: an expired connection is told whatever the frame).
    async fn to_records(
        &self,
        endpoint: &str,
        booking_id: BookingId,
        frame: &str,
        wanted: impl Fn(&ConnectionRecord) -> bool,
    ) -> Result<FanoutReport, StoreError> {
        let started = Instant::now();
        let now = now_seconds();
        let mut report = FanoutReport::default();
        let jobs: Vec<(ConnectionRecord, bool)> = self
            .store
            .list(booking_id)
            .await?
            .into_iter()
            .filter_map(|record| {
                if record.is_expired(now) {
                    report.expired += 1;
                    return Some((record, false));
                }
                wanted(&record).then(|| {
                    report.recipients += 1;
                    (record, true)
                })
            })
            .collect();
        // Owned records: a closure over borrowed ones is higher-ranked, and rustc then cannot prove the
        // fan-out future `Send` where callers need it (spawned tasks, boxed futures).
        let mut deliveries = futures_util::stream::iter(jobs)
            .map(|(record, live)| async move {
                if !live {
                    self.expire(endpoint, record.booking_id, &record.connection_id).await;
                    return None;
                }
                let recipient = Recipient::Recorded {
                    booking_id: record.booking_id,
                    connection_id: &record.connection_id,
                };
                let (outcome, retries) = self.to_connection(endpoint, recipient, frame).await;
                Some((record.connection_id, outcome, retries))
            })
            .buffer_unordered(self.policy.concurrency.max(1));
        while let Some(delivered) = deliveries.next().await {
            let Some((connection_id, outcome, retries)) = delivered else { continue };
            report.retries += retries;
            match outcome {
                Delivery::Delivered => report.delivered += 1,
                Delivery::Gone => report.gone += 1,
                Delivery::Failed(error) => {
                    report.failed += 1;
                    report.failures.push((connection_id, error));
                }
            }
        }
        report.duration = started.elapsed();
        Ok(report)
    }
}

/// The report as one CloudWatch embedded-metric-format line ([`crate::emf`]): metrics
/// `FanoutRecipients`, `FanoutDelivered`, `FanoutGone`, `FanoutExpired`, `FanoutFailed`, `FanoutRetries`
/// and `FanoutDuration`, dimension `Stage`.
pub fn emf_line(report: &FanoutReport, namespace: &str, stage: &str, timestamp_ms: i64) -> String {
    let count = |n: usize| n as f64;
    emf::line(
        namespace,
        stage,
        &[
            ("FanoutRecipients", Unit::Count, count(report.recipients)),
            ("FanoutDelivered", Unit::Count, count(report.delivered)),
            ("FanoutGone", Unit::Count, count(report.gone)),
            ("FanoutExpired", Unit::Count, count(report.expired)),
            ("FanoutFailed", Unit::Count, count(report.failed)),
            ("FanoutRetries", Unit::Count, count(report.retries)),
            ("FanoutDuration", Unit::Milliseconds, report.duration.as_secs_f64() * 1000.0),
        ],
        timestamp_ms,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_grows() {
        let policy = DeliveryPolicy {
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(25),
            ..DeliveryPolicy::default()
        };
        for _ in 0..100 {
            assert!(policy.backoff(1) <= Duration::from_millis(10));
            assert!(policy.backoff(2) <= Duration::from_millis(20));
            assert!(policy.backoff(30) <= Duration::from_millis(25));
        }
    }

    #[test]
    fn emf_line_declares_every_metric_it_carries() {
        let report = FanoutReport { recipients: 3, delivered: 2, gone: 1, ..FanoutReport::default() };
        let line: serde_json::Value =
            serde_json::from_str(&emf_line(&report, "BookingChat", "dev", 5)).expect("json");
        let metrics = line["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().expect("metrics");
        for metric in metrics {
            let name = metric["Name"].as_str().expect("name");
            assert!(line.get(name).is_some(), "{name} has a value");
        }
        assert_eq!(line["FanoutDelivered"], 2);
        assert_eq!(line["FanoutGone"], 1);
        assert_eq!(line["Stage"], "dev");
        assert_eq!(line["_aws"]["Timestamp"], 5);
    }
}
