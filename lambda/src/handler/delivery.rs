//! Delivering the backend's answer to a frame, and the proxy's own answers (errors, expiry).
//!
//! The proxy is the one owner of every frame a client frame causes: the answer goes to the sender (with
//! its `request_id`), to the booking (the sender's copy with its `request_id`, everyone else's without), or
//! to the booking but the sender; the reply's user frames (a member's `unread` count) go to that member's
//! user connections in the same fan-out, found by the same one `Query` of the booking's records. An answer
//! that cannot be delivered to its sender is replaced by an error frame saying why: no answer disappears.

use chat_connections::fanout::emf_line;
use chat_connections::{ConnectionGateway, ConnectionStore, Delivery, FanoutReport, PostError, Recipient};
use chat_wire::proxy::{Audience, ConnectionType, ProxyReply, delivers_to};
use chat_wire::server::TOKEN_EXPIRED_MESSAGE;
use chat_wire::time::now_millis;
use chat_wire::{BookingId, ErrorCode, ServerFrame};

use super::message::Sender;
use super::{Outcome, Proxy, span_field};
use crate::ports::Backend;

/// The texts one answer is delivered as.
struct Texts {
    /// The sender's copy, with its `request_id`.
    sender: String,
    /// Everyone else's copy, without it.
    others: String,
    /// Frames for members' user connections: (member, frame).
    users: Vec<(String, String)>,
}

impl<S: ConnectionStore, G: ConnectionGateway, B: Backend> Proxy<S, G, B> {
    /// Delivers the backend's answer to its audience. Without a broadcast or user frames, one post to the
    /// sender; otherwise one `Query` of the booking's records and a post per recipient
    /// ([`chat_connections::Fanout::deliver`]).
    pub(super) async fn deliver(
        &self,
        booking_id: BookingId,
        reply: &ProxyReply,
        sender: &Sender<'_>,
        stage: &str,
    ) -> Outcome {
        let audience = reply.audience();
        let texts = Texts {
            sender: reply.frame_text(),
            others: reply.others_text(),
            users: reply.user_frames.iter().map(|f| (f.user_id.clone(), f.frame_text())).collect(),
        };
        if audience == Audience::Sender && texts.users.is_empty() {
            return self.send(sender, &texts.sender, Outcome::Relayed).await;
        }
        let frame_type = reply.frame_type();
        let mut sender_found = false;
        let delivered = self
            .fanout
            .deliver(&sender.endpoint, booking_id, |record| {
                let mut posts = Vec::new();
                if record.connection_id == sender.connection_id {
                    sender_found = true;
                    if audience != Audience::BookingExceptSender {
                        posts.push(texts.sender.as_str());
                    }
                } else if audience != Audience::Sender && delivers_to(frame_type, record.connection_type) {
                    posts.push(texts.others.as_str());
                }
                if record.connection_type == ConnectionType::User {
                    posts.extend(
                        texts.users.iter().filter(|(u, _)| *u == record.user_id).map(|(_, t)| t.as_str()),
                    );
                }
                posts
            })
            .await;
        let report = match delivered {
            Ok(report) => report,
            Err(error) => {
                tracing::error!(error = %error, "could not list the booking's connections");
                let message = "the chat service is unavailable; try again shortly".to_owned();
                return self.refuse(sender, ErrorCode::BackendUnavailable, message).await;
            }
        };
        self.record_fanout(&report, stage);
        if !sender_found && audience != Audience::BookingExceptSender {
            // The sender has no record in this booking (a user connection's booking joined since it
            // connected, or a record lost): its copy, its acknowledgement, goes to it directly.
            return self.send(sender, &texts.sender, Outcome::Broadcast).await;
        }
        // The sender's copy is its acknowledgement: if it could not be delivered, say so rather than leave
        // the sender waiting.
        if let Some((_, error)) = report.failures.iter().find(|(id, _)| id == sender.connection_id) {
            self.tell_undelivered(sender, error).await;
        }
        if audience == Audience::Sender { Outcome::Relayed } else { Outcome::Broadcast }
    }

    /// The fan-out's report as fields of the event's log line (`recipients` and `delivered` always, the
    /// others when not 0: an absent count is 0) and, in Lambda, one metrics line.
    fn record_fanout(&self, report: &FanoutReport, stage: &str) {
        span_field("recipients", report.recipients);
        span_field("delivered", report.delivered);
        let exceptions = [
            ("gone", report.gone),
            ("connecting", report.connecting),
            ("expired", report.expired),
            ("failed", report.failed),
        ];
        for (field, count) in exceptions.into_iter().filter(|(_, count)| *count > 0) {
            span_field(field, count);
        }
        if self.settings.emit_metrics {
            println!("{}", emf_line(report, &self.settings.metrics_namespace, stage, now_millis()));
        }
    }

    /// Sends an `error` frame to the sender (naming the booking, for a user connection); the connection
    /// stays open.
    pub(super) async fn refuse(&self, sender: &Sender<'_>, code: ErrorCode, message: String) -> Outcome {
        let frame = ServerFrame::error(code, message, now_millis()).answering(sender.request_id.clone());
        let text = match sender.about {
            // A user connection's answers name their booking, errors included.
            Some(booking_id) => {
                ProxyReply::new(&frame, Audience::Sender).naming_booking(booking_id).frame_text()
            }
            None => frame.to_text(),
        };
        self.send(sender, &text, Outcome::Refused(code)).await
    }

    /// Sends a frame to the sender, retrying throttling; a recorded sender found gone is forgotten. An
    /// answer that cannot be delivered is replaced by an error frame saying why.
    async fn send(&self, sender: &Sender<'_>, frame: &str, outcome: Outcome) -> Outcome {
        let (delivery, retries) = self.fanout.to_connection(&sender.endpoint, sender.recipient, frame).await;
        if delivery != Delivery::Delivered {
            tracing::debug!(delivery = ?delivery, retries, "answer not delivered");
        }
        if let Delivery::Failed(error) = &delivery {
            self.tell_undelivered(sender, error).await;
        }
        outcome
    }

    /// Tells the sender that its answer could not be delivered, and why. Best effort, once: if this small
    /// frame cannot be delivered either, the failure is logged.
    async fn tell_undelivered(&self, sender: &Sender<'_>, error: &PostError) {
        let (code, message) = match error {
            PostError::TooLarge(bytes) => (
                ErrorCode::PayloadTooLarge,
                format!(
                    "the answer is {bytes} bytes, over API Gateway's 128 KB message limit, and was not \
                     delivered; ask for less (for example a smaller sync limit)"
                ),
            ),
            PostError::Gone => return,
            PostError::Retryable(_) | PostError::Failed(_) => (
                ErrorCode::InternalError,
                "the answer could not be delivered; send the frame again".to_owned(),
            ),
        };
        let frame = ServerFrame::error(code, message, now_millis()).answering(sender.request_id.clone());
        let (delivery, _) =
            self.fanout.to_connection(&sender.endpoint, sender.recipient, &frame.to_text()).await;
        if delivery != Delivery::Delivered {
            tracing::warn!(delivery = ?delivery, "could not tell the sender its answer was undelivered");
        }
    }

    /// Tells a user connection whose token has expired (`TOKEN_EXPIRED`) and closes it. Its records, one
    /// per booking, are forgotten by its `$disconnect` (or expire with the token: their TTL is its expiry).
    pub(super) async fn expire_user_connection(&self, endpoint: &str, connection_id: &str) {
        let frame = ServerFrame::error(ErrorCode::TokenExpired, TOKEN_EXPIRED_MESSAGE, now_millis());
        let recipient = Recipient::Unrecorded(connection_id);
        let (delivery, _) = self.fanout.to_connection(endpoint, recipient, &frame.to_text()).await;
        if delivery != Delivery::Gone
            && let Err(error) = self.fanout.gateway().close(endpoint, connection_id).await
            && error != PostError::Gone
        {
            tracing::warn!(error = %error, "could not close an expired user connection");
        }
    }
}
