//! Delivery of frames to connections: to one (the sender) or to a booking's records, through [`Fanout`].
//!
//! A booking fan-out is one paginated Query of the booking's records (user connections are recorded in
//! each booking of their user, so the same Query finds them), then PostToConnection with bounded
//! concurrency; what each record receives is the caller's plan ([`Fanout::deliver`]): nothing, one frame,
//! or several in order (a message, then its reader's `unread` count). A 410 Gone removes that connection's
//! records and does not fail the others, except for a record younger than the handshake window
//! ([`crate::record::HANDSHAKE_WINDOW_MS`]): API Gateway answers 410 for a connection whose upgrade is not
//! finished too, so that record is kept and retried ([`Delivery::Connecting`]). Throttling and 5xx are
//! retried with full-jitter exponential backoff a bounded number of times. A record whose token has
//! expired is not delivered to: its connection is told (`TOKEN_EXPIRED`), closed and forgotten
//! ([`Fanout::expire`]), so a client never sits on a connection that silently stopped receiving. Every
//! fan-out ends in a [`FanoutReport`], logged as one line and emitted as CloudWatch embedded-metric-format
//! metrics.

use std::time::{Duration, Instant};

use chat_wire::proxy::{ConnectionType, delivers_to};
use chat_wire::server::TOKEN_EXPIRED_MESSAGE;
use chat_wire::time::{now_millis, now_seconds};
use chat_wire::{BookingId, ErrorCode, ServerFrame};
use futures_util::StreamExt;

use crate::emf::{self, Unit};

use crate::ports::{ConnectionGateway, ConnectionStore, PostError, StoreError};
use crate::record::ConnectionRecord;

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
    /// API Gateway answered 410 for a record younger than the handshake window, on every attempt: the
    /// connection is most likely still completing its upgrade. The record is kept; the client's `sync` on
    /// opening returns what this frame carried.
    Connecting,
    /// Every attempt failed, or the failure was not retryable: the last failure.
    Failed(PostError),
}

/// The outcome of one fan-out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FanoutReport {
    /// Connections the fan-out had something for.
    pub recipients: usize,
    /// Connections that accepted everything they were sent.
    pub delivered: usize,
    /// Connections found gone (and forgotten).
    pub gone: usize,
    /// Connections still completing their handshake (kept, see [`Delivery::Connecting`]).
    pub connecting: usize,
    /// Connections whose token had expired: told, closed and forgotten instead of delivered to.
    pub expired: usize,
    /// Connections a delivery failed to.
    pub failed: usize,
    /// Retries made.
    pub retries: usize,
    /// The connections whose delivery failed, and why (so a failed sender can be told).
    pub failures: Vec<(String, PostError)>,
    /// Wall time of the fan-out.
    pub duration: Duration,
}

impl FanoutReport {
    fn count(&mut self, connection_id: String, delivery: Delivery, retries: usize) {
        self.retries += retries;
        match delivery {
            Delivery::Delivered => self.delivered += 1,
            Delivery::Gone => self.gone += 1,
            Delivery::Connecting => self.connecting += 1,
            Delivery::Failed(error) => {
                self.failed += 1;
                self.failures.push((connection_id, error));
            }
        }
    }
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
        /// When API Gateway accepted it, epoch milliseconds: a young record's 410 is not taken as gone.
        connected_at: i64,
    },
    /// A connection id alone (it never completed `$connect`, or its record expired).
    Unrecorded(&'a str),
}

impl<'a> Recipient<'a> {
    /// The connection of `record`.
    pub fn of(record: &'a ConnectionRecord) -> Self {
        Self::Recorded {
            booking_id: record.booking_id,
            connection_id: &record.connection_id,
            connected_at: record.connected_at,
        }
    }

    /// The connection id.
    pub fn connection_id(&self) -> &str {
        match self {
            Self::Recorded { connection_id, .. } | Self::Unrecorded(connection_id) => connection_id,
        }
    }

    /// Whether a 410 for it may mean an unfinished handshake rather than a closed connection.
    fn may_be_connecting(&self, now_millis: i64) -> bool {
        match self {
            Self::Recorded { connected_at, .. } => {
                crate::record::may_be_connecting(*connected_at, now_millis)
            }
            Self::Unrecorded(_) => false,
        }
    }
}

/// Delivery of frames to connections: over a store of connection records and a gateway to the
/// connections, paced and retried by a policy. The Lambda and the backend's own pushes both use it.
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
    /// 5xx (and a young record's 410) with backoff up to the policy's attempts; a recorded connection
    /// found gone is forgotten. Returns what happened and the retries made.
    pub async fn to_connection(
        &self,
        endpoint: &str,
        recipient: Recipient<'_>,
        frame: &str,
    ) -> (Delivery, usize) {
        let connection_id = recipient.connection_id();
        let mut retries = 0;
        let result = loop {
            let more = (retries as u32) + 1 < self.policy.attempts;
            match self.gateway.post(endpoint, connection_id, frame).await {
                Err(PostError::Retryable(reason)) if more => {
                    tracing::debug!(connection_id, reason = %reason, retry = retries + 1, "retrying a delivery");
                }
                Err(PostError::Gone) if more && recipient.may_be_connecting(now_millis()) => {
                    tracing::debug!(
                        connection_id,
                        retry = retries + 1,
                        "410 for a connection still connecting"
                    );
                }
                result => break result,
            }
            retries += 1;
            tokio::time::sleep(self.policy.backoff(retries as u32)).await;
        };
        let delivery = match result {
            Ok(()) => Delivery::Delivered,
            Err(PostError::Gone) if recipient.may_be_connecting(now_millis()) => Delivery::Connecting,
            Err(PostError::Gone) => Delivery::Gone,
            Err(error) => Delivery::Failed(error),
        };
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
        // An expired connection finished its handshake long ago: a 410 means gone.
        let recipient = Recipient::Recorded { booking_id, connection_id, connected_at: 0 };
        self.close_with(endpoint, recipient, &frame.to_text()).await;
    }

    /// Sends `frame`, then closes the connection and forgets its record (best effort).
    async fn close_with(&self, endpoint: &str, recipient: Recipient<'_>, frame: &str) {
        let connection_id = recipient.connection_id();
        let (delivery, _) = self.to_connection(endpoint, recipient, frame).await;
        if delivery == Delivery::Gone {
            return;
        }
        if let Err(error) = self.gateway.close(endpoint, connection_id).await
            && error != PostError::Gone
        {
            tracing::warn!(connection_id, error = %error, "could not close a connection");
        }
        if let Recipient::Recorded { booking_id, .. } = recipient
            && let Err(error) = self.store.remove(booking_id, connection_id).await
        {
            tracing::warn!(connection_id, error = %error, "could not remove a closed connection");
        }
    }

    /// Sends `frame` (whose `type` is `frame_type`) to every connection of `booking_id` except `except`,
    /// honouring connection types ([`delivers_to`]): one paginated Query, then posts with bounded
    /// concurrency. Connections whose token has expired are expired ([`Fanout::expire`]) instead.
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
        self.deliver(endpoint, booking_id, |record| {
            let wanted = Some(record.connection_id.as_str()) != except
                && delivers_to(frame_type, record.connection_type);
            if wanted { vec![frame] } else { Vec::new() }
        })
        .await
    }

    /// Delivers to the live records of `booking_id` what `plan` says each receives, in order (one
    /// paginated Query, then each record's posts one after the other, records concurrently); expires the
    /// expired ones whatever the plan (an expired connection is told whatever the frame). A record whose
    /// first post does not go through receives nothing more.
    ///
    /// # Errors
    /// Only when the booking's connections cannot be listed.
    pub async fn deliver<'f>(
        &self,
        endpoint: &str,
        booking_id: BookingId,
        mut plan: impl FnMut(&ConnectionRecord) -> Vec<&'f str>,
    ) -> Result<FanoutReport, StoreError> {
        let started = Instant::now();
        let now = now_seconds();
        let mut report = FanoutReport::default();
        let mut expired = Vec::new();
        // Each record's posts as indices into the distinct texts: the jobs then hold no borrowed data, which
        // rustc needs to prove the fan-out future `Send` where callers need it (spawned tasks, boxed
        // futures); a closure over borrowed arguments is higher-ranked, and that proof fails.
        let mut texts: Vec<&'f str> = Vec::new();
        let mut jobs: Vec<(ConnectionRecord, Vec<usize>)> = Vec::new();
        for record in self.store.list(booking_id).await? {
            let record = if record.is_expired(now) {
                match self.renewed_user_connection(record, now).await {
                    Ok(record) => record,
                    Err(record) => {
                        expired.push(record);
                        continue;
                    }
                }
            } else {
                record
            };
            let posts: Vec<usize> =
                plan(&record).into_iter().map(|text| index_of(&mut texts, text)).collect();
            if !posts.is_empty() {
                jobs.push((record, posts));
            }
        }
        report.expired = expired.len();
        report.recipients = jobs.len();
        let expiring = futures_util::future::join_all(
            expired.iter().map(|record| self.expire(endpoint, record.booking_id, &record.connection_id)),
        );
        let texts = &texts;
        let mut deliveries = futures_util::stream::iter(jobs)
            .map(|(record, posts)| async move {
                let (mut delivery, mut retries) = (Delivery::Delivered, 0);
                for post in posts {
                    let text = texts[post];
                    let (outcome, tries) = self.to_connection(endpoint, Recipient::of(&record), text).await;
                    (delivery, retries) = (outcome, retries + tries);
                    if delivery != Delivery::Delivered {
                        break;
                    }
                }
                (record.connection_id, delivery, retries)
            })
            .buffer_unordered(self.policy.concurrency.max(1));
        while let Some((connection_id, delivery, retries)) = deliveries.next().await {
            report.count(connection_id, delivery, retries);
        }
        expiring.await;
        report.duration = started.elapsed();
        Ok(report)
    }

    /// An expired record of a user connection that a `refresh` renewed after it joined this booking (the
    /// refresh renews the records of the bookings its connection knew): its record under its user says it
    /// lives on, and this one is renewed to match (one `GetItem`, one `UpdateItem`, only for such records).
    /// Any other record comes back as `Err`, expired.
    async fn renewed_user_connection(
        &self,
        record: ConnectionRecord,
        now: i64,
    ) -> Result<ConnectionRecord, ConnectionRecord> {
        if record.connection_type != ConnectionType::User {
            return Err(record);
        }
        let renewed = match self.store.find_user_connection(&record.user_id, &record.connection_id).await {
            Ok(Some(current)) if !current.is_expired(now) => current.ttl,
            Ok(_) => return Err(record),
            Err(error) => {
                tracing::warn!(error = %error, "could not read a user connection's own record");
                return Err(record);
            }
        };
        if let Err(error) = self.store.renew(record.booking_id, &record.connection_id, renewed).await {
            tracing::warn!(error = %error, "could not renew a user connection's record of a booking");
        }
        Ok(ConnectionRecord { ttl: renewed, ..record })
    }

    /// Ends `user_id`'s connections of `booking_id` after the marketplace removed them from it: each chat
    /// or booking connection is sent `closing` (a `REMOVED_FROM_BOOKING` error), closed and forgotten; each
    /// user connection (which covers their other bookings too) is sent `leaving` (a `membership` frame)
    /// and its record of this booking forgotten. Returns how many connections were ended.
    ///
    /// # Errors
    /// Only when the booking's connections cannot be listed.
    pub async fn evict(
        &self,
        endpoint: &str,
        booking_id: BookingId,
        user_id: &str,
        closing: &str,
        leaving: &str,
    ) -> Result<usize, StoreError> {
        let records: Vec<ConnectionRecord> =
            self.store.list(booking_id).await?.into_iter().filter(|r| r.user_id == user_id).collect();
        let endings = records.iter().map(|record| async move {
            let recipient = Recipient::of(record);
            if record.connection_type == ConnectionType::User {
                self.to_connection(endpoint, recipient, leaving).await;
                if let Err(error) = self.store.remove(booking_id, &record.connection_id).await {
                    tracing::warn!(error = %error, "could not forget a removed member's user connection");
                }
            } else {
                self.close_with(endpoint, recipient, closing).await;
            }
        });
        futures_util::future::join_all(endings).await;
        Ok(records.len())
    }

    /// Makes `user_id`'s open user connections cover `booking_id`, which the user just joined (a booking
    /// created or changed after they connected): one Query of the user's user connections, then for each
    /// live one a record in the booking (one PutItem) and `joined` (a `membership` frame). Returns how many.
    ///
    /// # Errors
    /// When the user's connections cannot be listed.
    pub async fn adopt(
        &self,
        endpoint: &str,
        booking_id: BookingId,
        user_id: &str,
        joined: &str,
    ) -> Result<usize, StoreError> {
        let now = now_seconds();
        let live: Vec<ConnectionRecord> = self
            .store
            .user_connections(user_id)
            .await?
            .into_iter()
            .filter(|record| !record.is_expired(now))
            .map(|record| ConnectionRecord { booking_id, ..record })
            .collect();
        let adoptions = live.iter().map(|record| async move {
            match self.store.put(record).await {
                Ok(()) => {
                    self.to_connection(endpoint, Recipient::of(record), joined).await;
                }
                Err(error) => tracing::warn!(error = %error, "could not add a booking to a user connection"),
            }
        });
        futures_util::future::join_all(adoptions).await;
        Ok(live.len())
    }
}

/// The index of `text` among `texts` (the same text by address, as the plans hand out the same few
/// texts), added if new.
fn index_of<'f>(texts: &mut Vec<&'f str>, text: &'f str) -> usize {
    match texts.iter().position(|t| std::ptr::eq(*t, text)) {
        Some(index) => index,
        None => {
            texts.push(text);
            texts.len() - 1
        }
    }
}

/// The report as one CloudWatch embedded-metric-format line ([`crate::emf`]): metrics
/// `FanoutRecipients`, `FanoutDelivered` and `FanoutDuration` always, `FanoutGone`, `FanoutConnecting`,
/// `FanoutExpired`, `FanoutFailed` and `FanoutRetries` when not 0, dimension `Stage`. A zero count is left
/// out (it was half the line): its `Sum` is the same, the alarms treat missing data as not breaching, and
/// `FanoutRecipients`' sample count still counts the fan-outs.
pub fn emf_line(report: &FanoutReport, namespace: &str, stage: &str, timestamp_ms: i64) -> String {
    let count = |n: usize| n as f64;
    let exceptions = [
        ("FanoutGone", report.gone),
        ("FanoutConnecting", report.connecting),
        ("FanoutExpired", report.expired),
        ("FanoutFailed", report.failed),
        ("FanoutRetries", report.retries),
    ];
    let mut metrics = vec![
        ("FanoutRecipients", Unit::Count, count(report.recipients)),
        ("FanoutDelivered", Unit::Count, count(report.delivered)),
    ];
    metrics.extend(
        exceptions.into_iter().filter(|(_, n)| *n > 0).map(|(name, n)| (name, Unit::Count, count(n))),
    );
    metrics.push(("FanoutDuration", Unit::Milliseconds, report.duration.as_secs_f64() * 1000.0));
    emf::line(namespace, stage, &metrics, timestamp_ms)
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
