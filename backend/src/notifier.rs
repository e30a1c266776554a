//! Pushing frames to a booking's connections when nobody asked: the [`BookingNotifier`] port and its
//! adapters.
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

/// Delivers a frame to every connection of a booking.
pub trait BookingNotifier: Send + Sync + 'static {
    /// Sends `frame` to the booking's connections. Delivery is best effort: failures are logged by the
    /// adapter, never returned, because the change that caused the frame has already happened.
    fn notify(&self, booking_id: BookingId, frame: ServerFrame) -> BoxFuture<'_, ()>;

    /// Sends `frame` to the user connections of `user_id` that cover `booking_id` only (an `unread`
    /// count is its reader's). Best effort, as [`BookingNotifier::notify`]. Nothing by default: a
    /// transport without user connections (the direct WebSocket) has no one to tell.
    fn notify_user<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        frame: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        let _ = (booking_id, user_id, frame);
        Box::pin(std::future::ready(()))
    }
}

/// How many frames may wait for a slow direct-WebSocket client before it is disconnected.
pub const CONNECTION_QUEUE: usize = 256;

/// A frame queued for one connection, already serialised.
pub type Outbound = Arc<str>;

struct Member {
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
        connection_type: ConnectionType,
    ) -> mpsc::Receiver<Outbound> {
        let (sender, receiver) = mpsc::channel(CONNECTION_QUEUE);
        self.lock()
            .entry(booking_id)
            .or_default()
            .insert(connection_id.to_owned(), Member { connection_type, sender });
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
        let frame_type = frame.payload.type_name();
        let text: Outbound = Arc::from(frame.to_text());
        let mut bookings = self.lock();
        let Some(members) = bookings.get_mut(&booking_id) else {
            return 0;
        };
        let mut delivered = 0;
        members.retain(|id, member| {
            if Some(id.as_str()) == exclude || !delivers_to(Some(frame_type), member.connection_type) {
                return true;
            }
            match member.sender.try_send(Arc::clone(&text)) {
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

    /// How many connections are registered (for metrics).
    pub fn connection_count(&self) -> usize {
        self.lock().values().map(HashMap::len).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<BookingId, HashMap<String, Member>>> {
        self.bookings.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BookingNotifier for LocalHub {
    fn notify(&self, booking_id: BookingId, frame: ServerFrame) -> BoxFuture<'_, ()> {
        self.deliver(booking_id, &frame, None);
        Box::pin(std::future::ready(()))
    }
}

/// Pushes through API Gateway: the booking's connection records, and the Management API (or the local
/// emulator's in-process gateway), with the same fan-out the Lambda uses.
pub struct FanoutNotifier<S, G> {
    fanout: Fanout<S, G>,
    endpoint: String,
}

impl<S: ConnectionStore, G: ConnectionGateway> FanoutNotifier<S, G> {
    /// A notifier delivering through `fanout` to the Management API at `endpoint`.
    pub fn new(fanout: Fanout<S, G>, endpoint: impl Into<String>) -> Self {
        Self { fanout, endpoint: endpoint.into() }
    }
}

impl<S: ConnectionStore, G: ConnectionGateway> BookingNotifier for FanoutNotifier<S, G> {
    fn notify(&self, booking_id: BookingId, frame: ServerFrame) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let text = frame.to_text();
            let frame_type = frame.payload.type_name();
            match self.fanout.to_booking(&self.endpoint, booking_id, Some(frame_type), &text, None).await {
                Ok(report) => Self::log(booking_id, frame_type, &report),
                Err(error) => {
                    tracing::error!(booking_id, error = %error, "could not list the booking's connections");
                }
            }
        })
    }

    /// One Query of the booking's records (where user connections are recorded too), then a post to
    /// each of the user's user connections.
    fn notify_user<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        frame: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let text = frame.to_text();
            let frame_type = frame.payload.type_name();
            let sent =
                self.fanout.to_user_connections(&self.endpoint, booking_id, user_id, Some(frame_type), &text);
            match sent.await {
                Ok(report) => Self::log(booking_id, frame_type, &report),
                Err(error) => {
                    tracing::error!(booking_id, error = %error, "could not list the booking's connections");
                }
            }
        })
    }
}

impl<S: ConnectionStore, G: ConnectionGateway> FanoutNotifier<S, G> {
    fn log(booking_id: BookingId, frame_type: &str, report: &chat_connections::FanoutReport) {
        tracing::info!(
            booking_id,
            frame_type,
            recipients = report.recipients,
            delivered = report.delivered,
            gone = report.gone,
            failed = report.failed,
            "pushed through API Gateway"
        );
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
    fn notify(&self, booking_id: BookingId, frame: ServerFrame) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let deliveries = self.0.iter().map(|n| n.notify(booking_id, frame.clone()));
            futures_util::future::join_all(deliveries).await;
        })
    }

    fn notify_user<'a>(
        &'a self,
        booking_id: BookingId,
        user_id: &'a str,
        frame: ServerFrame,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let deliveries = self.0.iter().map(|n| n.notify_user(booking_id, user_id, frame.clone()));
            futures_util::future::join_all(deliveries).await;
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
    let fanout = Fanout::new(
        chat_connections::store::DynamoDbConnectionStore::from_sdk_config(&sdk, &push.connections_table),
        chat_connections::gateway::ManagementApiGateway::new(sdk.clone()),
        chat_connections::DeliveryPolicy::default(),
    );
    tracing::info!(table = %push.connections_table, "booking status changes are pushed through API Gateway");
    Some(Arc::new(FanoutNotifier::new(fanout, &push.management_endpoint)))
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
        let mut a = hub.join(1, "a", ConnectionType::Chat);
        let mut b = hub.join(1, "b", ConnectionType::Chat);
        let mut other = hub.join(2, "c", ConnectionType::Chat);
        assert_eq!(hub.deliver(1, &pong(), Some("a")), 1);
        assert!(a.try_recv().is_err());
        assert!(b.try_recv().is_ok());
        assert!(other.try_recv().is_err());
    }

    #[test]
    fn booking_connections_get_status_frames_only() {
        let hub = LocalHub::default();
        let mut watcher = hub.join(1, "w", ConnectionType::Booking);
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
        let _slow = hub.join(1, "slow", ConnectionType::Chat);
        for _ in 0..CONNECTION_QUEUE {
            assert_eq!(hub.deliver(1, &pong(), None), 1);
        }
        assert_eq!(hub.deliver(1, &pong(), None), 0);
        assert_eq!(hub.connection_count(), 0);
    }
}
