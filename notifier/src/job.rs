//! What arrives on the notifier's queue, and what it puts back there to wait.
//!
//! Two kinds of body:
//! - an EventBridge event whose `detail` is a [`ChatEvent`] (`message.created`, routed by a rule on the
//!   chat's bus): one [`Job`] per recipient, not yet due;
//! - a [`Job`] the notifier queued itself with a delay (`{"notify": {...}}`), due at `due_at`.

use chat_wire::events::{Change, ChatEvent};
use chat_wire::{BookingId, MessageId};
use serde::{Deserialize, Serialize};

/// One recipient to consider telling about one booking's unread messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The booking.
    pub booking_id: BookingId,
    /// Who may be told.
    pub recipient: String,
    /// The message that caused it: nothing is sent if the recipient has read it.
    pub message_id: MessageId,
    /// When it is due, epoch ms; `None` for a message that just arrived (the notifier decides the delay
    /// from the recipient's presence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<i64>,
}

/// A queue body the notifier writes.
#[derive(Debug, Serialize, Deserialize)]
struct Queued {
    notify: Job,
}

/// An EventBridge event as its SQS target receives it; only `detail` matters here.
#[derive(Debug, Deserialize)]
struct Envelope {
    detail: ChatEvent,
}

/// Why a body was not understood: the message is dropped (it would fail the same way forever) and logged.
#[derive(Debug, thiserror::Error)]
#[error("not a chat event or a notification job (line {}, column {})", .0.line(), .0.column())]
pub struct BadBody(#[from] serde_json::Error);

impl BadBody {
    /// The line where parsing stopped.
    pub fn line(&self) -> usize {
        self.0.line()
    }

    /// The column where parsing stopped.
    pub fn column(&self) -> usize {
        self.0.column()
    }

    /// Whether the body was not JSON, or JSON of another shape.
    pub fn kind(&self) -> serde_json::error::Category {
        self.0.classify()
    }
}

/// The jobs a queue body carries: none for an event other than `message.created`.
///
/// # Errors
/// [`BadBody`] when the body is neither form.
pub fn parse(body: &str) -> Result<Vec<Job>, BadBody> {
    if let Ok(Queued { notify }) = serde_json::from_str::<Queued>(body) {
        return Ok(vec![notify]);
    }
    let Envelope { detail } = serde_json::from_str(body)?;
    Ok(match detail.change {
        Change::MessageCreated { message, recipients } => recipients
            .into_iter()
            .map(|recipient| Job {
                booking_id: detail.booking_id,
                recipient,
                message_id: message.id,
                due_at: None,
            })
            .collect(),
        _ => vec![],
    })
}

/// The body that queues `job`.
pub fn body(job: &Job) -> String {
    serde_json::to_string(&Queued { notify: job.clone() }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_event_from_eventbridge_becomes_one_job_per_recipient() {
        let event = serde_json::json!({
            "version": "0", "id": "e", "detail-type": "message.created", "source": "booking-chat",
            "account": "1", "time": "2026-12-07T10:00:00Z", "region": "eu-west-1", "resources": [],
            "detail": {
                "version": 1, "id": "7/message.created/3", "occurred_at": 1, "booking_id": 7,
                "type": "message.created", "recipients": ["bob", "carol"],
                "message": {"id": 3, "booking_id": 7, "sender_id": "alice", "body": "hi", "created_at": 1, "reactions": []}
            }
        });
        let jobs = parse(&event.to_string()).expect("parses");
        let recipients: Vec<&str> = jobs.iter().map(|j| j.recipient.as_str()).collect();
        assert_eq!(recipients, ["bob", "carol"]);
        assert!(jobs.iter().all(|j| j.booking_id == 7 && j.message_id == 3 && j.due_at.is_none()));
    }

    #[test]
    fn a_queued_job_round_trips_and_other_events_carry_none() {
        let job = Job { booking_id: 1, recipient: "bob".into(), message_id: 2, due_at: Some(5) };
        assert_eq!(parse(&body(&job)).expect("parses"), vec![job]);
        let read = serde_json::json!({"detail": {"version": 1, "id": "1/message.read/bob", "occurred_at": 1,
            "booking_id": 1, "type": "message.read", "user_id": "bob", "last_read_message_id": 2}});
        assert_eq!(parse(&read.to_string()).expect("parses"), vec![]);
        assert!(parse("{\"nothing\": 1}").is_err());
    }
}
