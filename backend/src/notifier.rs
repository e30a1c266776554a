//! Pushing frames to a booking's connections when no client frame caused them (a status change, a member
//! coming online, a member removed): the [`BookingNotifier`] port and its adapters. What a client frame
//! causes is delivered by the transport that carried the frame (the Lambda, or the direct WebSocket).
//!
//! - [`LocalHub`]: the direct WebSocket's connections, in process (it also carries every frame of that
//!   transport).
//! - [`FanoutNotifier`]: API Gateway connections, through the fan-out the Lambda uses too
//!   ([`chat_connections::Fanout`]: one Query of the booking's connection records, PostToConnection, Gone
//!   cleanup), over any connection store and gateway.
//! - [`Notifiers`]: several of them at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chat_connections::{ConnectionGateway, ConnectionStore, Fanout};
use chat_wire::proxy::{ConnectionType, delivers_to};
use chat_wire::{BookingId, ServerFrame};
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

/// Delivers frames to the connections of a booking.
pub trait BookingNotifier: Send + Sync + 'static {
    /// Sends `frame` to the booking's connections. Delivery is best effort: failures are logged by the
    /// adapter, never returned, because the change that caused the frame has already happened.
    fn notify(&self, booking_id: BookingId, frame: ServerFrame) -> BoxFuture<'_, ()> {
        self.notify_except(booking_id, frame, None)
    }

    /// Sends `frame` to the booking's connections but `except`. Best effort, as
    /// [`BookingNotifier::notify`].
    fn notify_except<'a>(
        &'a self,
        booking_id: BookingId,
        frame: ServerFrame,
        except: Option<&'a str>,
    ) -> BoxFuture<'a, ()>;

    /// Sends `frame` to `user_id`'s connections of the booking only (those its type reaches). Best effort,
    /// as [`BookingNotifier::notify`].
    fn notify_member<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        frame: ServerFrame,
    ) -> BoxFuture<'a, ()>;

    /// Ends `user_id`'s connections of the booking, whose member they no longer are: each chat or booking
    /// connection is sent `closing` and closed; each user connection (which covers other bookings too) is
    /// sent `leaving` and stops covering this one. Best effort, as [`BookingNotifier::notify`].
    fn evict<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        closing: ServerFrame,
        leaving: ServerFrame,
    ) -> BoxFuture<'a, ()>;

    /// Makes `user_id`'s open user connections cover the booking they just joined, and sends them
    /// `joined`. Best effort, as [`BookingNotifier::notify`]. Nothing by default: a transport without user
    /// connections (the direct WebSocket) has no one to tell.
    fn adopt<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        joined: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        let _ = (booking_id, user_id, joined);
        Box::pin(std::future::ready(()))
    }
}

/// How many frames may wait for a slow direct-WebSocket client before it is disconnected.
pub const CONNECTION_QUEUE: usize = 256;

/// What is queued for one direct-WebSocket connection.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A frame, already serialised.
    Text(Arc<str>),
    /// Close the socket with this code and reason (after the frames queued before).
    Close(u16, &'static str),
}

/// The close code of a connection whose member was removed from the booking: 4403, "forbidden" in the
/// application range, as HTTP's 403 for reconnecting to it.
pub const CLOSE_REMOVED: u16 = 4403;

struct Member {
    user_id: String,
    connection_type: ConnectionType,
    sender: mpsc::Sender<Outbound>,
}

/// The in-process registry of direct-WebSocket connections, by booking.
#[derive(Default)]
pub struct LocalHub {
    bookings: Mutex<HashMap<BookingId, HashMap<String, Member>>>,
}

impl LocalHub {
    /// Registers a connection; frames for it arrive on the returned receiver.
    pub fn join(
        &self,
        booking_id: BookingId,
        connection_id: &str,
        user_id: &str,
        connection_type: ConnectionType,
    ) -> mpsc::Receiver<Outbound> {
        let (sender, receiver) = mpsc::channel(CONNECTION_QUEUE);
        let member = Member { user_id: user_id.to_owned(), connection_type, sender };
        self.lock().entry(booking_id).or_default().insert(connection_id.to_owned(), member);
        receiver
    }

    /// Forgets a connection. Idempotent.
    pub fn leave(&self, booking_id: BookingId, connection_id: &str) {
        let mut bookings = self.lock();
        if let Some(members) = bookings.get_mut(&booking_id) {
            members.remove(connection_id);
            if members.is_empty() {
                bookings.remove(&booking_id);
            }
        }
    }

    /// Sends a frame to the booking's connections, except `exclude`. Connections of type `booking`
    /// receive status frames only. A connection whose queue is full is dropped (its socket closes)
    /// rather than slowing everyone down. Returns how many connections it was queued for.
    pub fn deliver(&self, booking_id: BookingId, frame: &ServerFrame, exclude: Option<&str>) -> usize {
        self.queue(booking_id, frame, exclude, None, None)
    }

    /// Sends the answer to a connection's frame: `frame` (with its `request_id`) to `sender`, when given,
    /// and the same without the `request_id` to the booking's other connections but `exclude`, each in the
    /// order its queue holds. Returns how many connections it was queued for.
    pub fn deliver_answer(
        &self,
        booking_id: BookingId,
        frame: &ServerFrame,
        exclude: Option<&str>,
        sender: Option<&str>,
    ) -> usize {
        self.queue(booking_id, frame, exclude, sender, None)
    }

    /// Queues `frame` for the booking's connections but `exclude` (only `only`'s, when given): with its
    /// `request_id` for `sender`, without for the others.
    fn queue(
        &self,
        booking_id: BookingId,
        frame: &ServerFrame,
        exclude: Option<&str>,
        sender: Option<&str>,
        only: Option<&str>,
    ) -> usize {
        let frame_type = frame.payload.type_name();
        let own: Arc<str> = Arc::from(frame.to_text());
        let others: Arc<str> = match (&frame.request_id, sender) {
            (Some(_), Some(_)) => Arc::from(frame.clone().without_request_id().to_text()),
            _ => Arc::clone(&own),
        };
        let mut bookings = self.lock();
        let Some(members) = bookings.get_mut(&booking_id) else {
            return 0;
        };
        let mut delivered = 0;
        members.retain(|id, member| {
            if Some(id.as_str()) == exclude
                || !delivers_to(Some(frame_type), member.connection_type)
                || only.is_some_and(|user| user != member.user_id)
            {
                return true;
            }
            let text = if Some(id.as_str()) == sender { &own } else { &others };
            match member.sender.try_send(Outbound::Text(Arc::clone(text))) {
                Ok(()) => {
                    delivered += 1;
                    true
                }
                Err(mpsc::error::TrySendError::Full(_)) => {
                    tracing::warn!(booking_id, connection_id = %id, "dropping a connection that does not keep up");
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            }
        });
        delivered
    }

    /// Sends `closing` to `user_id`'s connections of the booking, then closes them (4403) and forgets them.
    /// Returns how many there were.
    pub fn evict(&self, booking_id: BookingId, user_id: &str, closing: &ServerFrame) -> usize {
        let text: Arc<str> = Arc::from(closing.to_text());
        let mut bookings = self.lock();
        let Some(members) = bookings.get_mut(&booking_id) else {
            return 0;
        };
        let before = members.len();
        members.retain(|_, member| {
            if member.user_id != user_id {
                return true;
            }
            // Best effort: a full queue is closing anyway.
            let _ = member.sender.try_send(Outbound::Text(Arc::clone(&text)));
            let _ = member.sender.try_send(Outbound::Close(CLOSE_REMOVED, "removed from the booking"));
            false
        });
        before - members.len()
    }

    /// How many connections are registered (for metrics).
    pub fn connection_count(&self) -> usize {
        self.lock().values().map(HashMap::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BookingId, HashMap<String, Member>>> {
        self.bookings.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BookingNotifier for LocalHub {
    fn notify_except<'a>(
        &'a self,
        booking_id: BookingId,
        frame: ServerFrame,
        except: Option<&'a str>,
    ) -> BoxFuture<'a, ()> {
        self.deliver(booking_id, &frame, except);
        Box::pin(std::future::ready(()))
    }

    fn notify_member<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        frame: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        self.queue(booking_id, &frame, None, None, Some(user_id));
        Box::pin(std::future::ready(()))
    }

    /// The direct WebSocket has no user connections: `leaving` has no one to reach.
    fn evict<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        closing: ServerFrame,
        _leaving: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        LocalHub::evict(self, booking_id, user_id, &closing);
        Box::pin(std::future::ready(()))
    }
}

/// Pushes through API Gateway: the booking's connection records, and the Management API (or the local
/// emulator's in-process gateway), with the same fan-out the Lambda uses.
pub struct FanoutNotifier<S, G> {
    fanout: Fanout<S, G>,
    endpoint: String,
    metrics: Option<Metrics>,
}

/// Where a [`FanoutNotifier`]'s reports go as CloudWatch embedded-metric-format lines (on stdout, which
/// CloudWatch Logs reads in Lambda): the
/// namespace and `Stage` of the proxy's, so the same alarms watch both functions' deliveries.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// `METRICS_NAMESPACE`.
    pub namespace: String,
    /// The API Gateway stage.
    pub stage: String,
}

impl<S: ConnectionStore, G: ConnectionGateway> FanoutNotifier<S, G> {
    /// A notifier delivering through `fanout` to the Management API at `endpoint`.
    pub fn new(fanout: Fanout<S, G>, endpoint: impl Into<String>) -> Self {
        Self { fanout, endpoint: endpoint.into(), metrics: None }
    }

    /// Prints each push's report as an embedded-metric-format line too.
    #[must_use]
    pub fn emitting(self, metrics: Metrics) -> Self {
        Self { metrics: Some(metrics), ..self }
    }
}

impl<S: ConnectionStore, G: ConnectionGateway> BookingNotifier for FanoutNotifier<S, G> {
    fn notify_except<'a>(
        &'a self,
        booking_id: BookingId,
        frame: ServerFrame,
        except: Option<&'a str>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let text = frame.to_text();
            let frame_type = frame.payload.type_name();
            match self.fanout.to_booking(&self.endpoint, booking_id, Some(frame_type), &text, except).await {
                Ok(report) => self.log(booking_id, frame_type, &report),
                Err(error) => {
                    tracing::error!(booking_id, error = %error, "could not list the booking's connections");
                }
            }
        })
    }

    fn notify_member<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        frame: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let text = frame.to_text();
            let frame_type = frame.payload.type_name();
            let plan = |record: &chat_connections::ConnectionRecord| {
                if record.user_id == user_id && delivers_to(Some(frame_type), record.connection_type) {
                    vec![text.as_str()]
                } else {
                    Vec::new()
                }
            };
            match self.fanout.deliver(&self.endpoint, booking_id, plan).await {
                Ok(report) => self.log(booking_id, frame_type, &report),
                Err(error) => {
                    tracing::error!(booking_id, error = %error, "could not list the booking's connections");
                }
            }
        })
    }

    fn evict<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        closing: ServerFrame,
        leaving: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let (closing, leaving) = (closing.to_text(), leaving.to_text());
            match self.fanout.evict(&self.endpoint, booking_id, user_id, &closing, &leaving).await {
                Ok(ended) => {
                    tracing::info!(booking_id, user_id, ended, "a removed member's connections ended");
                }
                Err(error) => {
                    tracing::error!(booking_id, error = %error, "could not list the booking's connections");
                }
            }
        })
    }

    fn adopt<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        joined: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            match self.fanout.adopt(&self.endpoint, booking_id, user_id, &joined.to_text()).await {
                Ok(adopted) => {
                    tracing::info!(booking_id, user_id, adopted, "a new member's user connections joined");
                }
                Err(error) => {
                    tracing::error!(booking_id, error = %error, "could not list a user's connections");
                }
            }
        })
    }
}

impl<S: ConnectionStore, G: ConnectionGateway> FanoutNotifier<S, G> {
    fn log(&self, booking_id: BookingId, frame_type: &str, report: &chat_connections::FanoutReport) {
        tracing::info!(
            booking_id,
            frame_type,
            recipients = report.recipients,
            delivered = report.delivered,
            gone = report.gone,
            connecting = report.connecting,
            failed = report.failed,
            "pushed through API Gateway"
        );
        if let Some(metrics) = &self.metrics {
            let now = chat_wire::time::now_millis();
            println!(
                "{}",
                chat_connections::fanout::emf_line(report, &metrics.namespace, &metrics.stage, now)
            );
        }
    }
}

/// Several notifiers, each told every frame.
#[derive(Default)]
pub struct Notifiers(Vec<Arc<dyn BookingNotifier>>);

impl Notifiers {
    /// Adds a notifier.
    #[must_use]
    pub fn with(mut self, notifier: Arc<dyn BookingNotifier>) -> Self {
        self.0.push(notifier);
        self
    }
}

impl BookingNotifier for Notifiers {
    fn notify_except<'a>(
        &'a self,
        booking_id: BookingId,
        frame: ServerFrame,
        except: Option<&'a str>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let deliveries = self.0.iter().map(|n| n.notify_except(booking_id, frame.clone(), except));
            futures_util::future::join_all(deliveries).await;
        })
    }

    fn notify_member<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        frame: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let deliveries = self.0.iter().map(|n| n.notify_member(booking_id, user_id, frame.clone()));
            futures_util::future::join_all(deliveries).await;
        })
    }

    fn evict<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        closing: ServerFrame,
        leaving: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let evictions =
                self.0.iter().map(|n| n.evict(booking_id, user_id, closing.clone(), leaving.clone()));
            futures_util::future::join_all(evictions).await;
        })
    }

    fn adopt<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        joined: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let adoptions = self.0.iter().map(|n| n.adopt(booking_id, user_id, joined.clone()));
            futures_util::future::join_all(adoptions).await;
        })
    }
}

/// The notifier that pushes to API Gateway's connections (through the Lambda's fan-out over the
/// connections table), when the settings name the table and the Management API endpoint (`sdk`: an
/// SDK configuration loaded already, reused).
pub async fn api_gateway(
    settings: &crate::config::Settings,
    sdk: Option<&aws_config::SdkConfig>,
) -> Option<Arc<dyn BookingNotifier>> {
    let push = settings.api_gateway_push.as_ref()?;
    let sdk = chat_settings::aws::reuse_or_load(sdk, push.aws_timeout).await;
    let policy = chat_connections::DeliveryPolicy {
        attempts: push.post_attempts,
        concurrency: push.fanout_concurrency,
        ..chat_connections::DeliveryPolicy::default()
    };
    let fanout = Fanout::new(
        chat_connections::store::DynamoDbConnectionStore::from_sdk_config(&sdk, &push.connections_table),
        chat_connections::gateway::ManagementApiGateway::new(sdk.clone()),
        policy,
    );
    tracing::info!(table = %push.connections_table, "booking status changes are pushed through API Gateway");
    let metrics = Metrics { namespace: push.metrics_namespace.clone(), stage: push.stage().to_owned() };
    Some(Arc::new(FanoutNotifier::new(fanout, &push.management_endpoint).emitting(metrics)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_wire::ServerPayload;

    fn pong() -> ServerFrame {
        ServerFrame::new(ServerPayload::Pong, 0)
    }

    #[test]
    fn delivery_reaches_the_booking_except_the_excluded() {
        let hub = LocalHub::default();
        let mut a = hub.join(1, "a", "alice", ConnectionType::Chat);
        let mut b = hub.join(1, "b", "bob", ConnectionType::Chat);
        let mut other = hub.join(2, "c", "carol", ConnectionType::Chat);
        assert_eq!(hub.deliver(1, &pong(), Some("a")), 1);
        assert!(a.try_recv().is_err());
        assert!(b.try_recv().is_ok());
        assert!(other.try_recv().is_err());
    }

    #[test]
    fn booking_connections_get_status_frames_only() {
        let hub = LocalHub::default();
        let mut watcher = hub.join(1, "w", "bob", ConnectionType::Booking);
        hub.deliver(1, &pong(), None);
        assert!(watcher.try_recv().is_err());
        let status = ServerFrame::new(
            ServerPayload::BookingStatus {
                booking_id: 1,
                status: "confirmed".into(),
                previous_status: "requested".into(),
                changed_by: "alice".into(),
            },
            0,
        );
        hub.deliver(1, &status, None);
        assert!(watcher.try_recv().is_ok());
    }

    #[test]
    fn a_connection_that_does_not_keep_up_is_dropped() {
        let hub = LocalHub::default();
        let _slow = hub.join(1, "slow", "bob", ConnectionType::Chat);
        for _ in 0..CONNECTION_QUEUE {
            assert_eq!(hub.deliver(1, &pong(), None), 1);
        }
        assert_eq!(hub.deliver(1, &pong(), None), 0);
        assert_eq!(hub.connection_count(), 0);
    }
}
