//! The notifier's one service: decides, for one [`Job`], whether to tell its recipient now, later, or
//! never, and tells them. Every transport (the Lambda's SQS batches, the local poller) calls
//! [`Notifier::handle`]; the ports are the chat store, the [`Queue`] it waits on, and the [`Mailer`].
//!
//! The rules, in order (`docs/notifications.md`):
//! 1. A job not yet due goes back on the queue until it is.
//! 2. Nothing for a booking that is gone, a recipient who is no longer a member, a muted booking, or a
//!    member with no channel (no email address, or email turned off).
//! 3. A message that just arrived waits `delay` if its recipient has a live connection to the booking
//!    (they may read it), and is due at once if not.
//! 4. Nothing if the recipient has read it (on any device: read positions are per member).
//! 5. During the recipient's quiet hours, it waits until they end.
//! 6. One notification per booking and member per quiet period, claimed in the store: what arrives
//!    within the period waits for its end and goes out together; what an earlier notification listed is
//!    not sent again.

use std::sync::Arc;
use std::time::Duration;

use chat_store::domain::Booking;
use chat_store::notifications::{Claim, ClaimRequest, NotificationSettings, unsubscribe};
use chat_store::{PageCursor, Store, StoreError};
use chat_wire::ChatMessage;
use secrecy::{ExposeSecret, SecretString};

use crate::config::MAX_QUEUE_DELAY;
use crate::job::Job;
use crate::mail::{self, Digest, MailError, Mailer};
use crate::queue::{Queue, QueueError};

/// What happened to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An email went out.
    Sent,
    /// It went back on the queue, due at this instant (epoch ms).
    Deferred(i64),
    /// Nothing is to be sent, and why.
    Skipped(Skip),
    /// SES did not answer whether it took the email (a timeout after sending). The claim is kept, so the
    /// member gets it at most once: a retry could send it twice.
    Unconfirmed,
}

/// Why nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The booking no longer exists, or the recipient is no longer a member.
    NotAMember,
    /// The recipient muted the booking.
    Muted,
    /// The recipient has no channel on (no email address, email off, or no mailer configured).
    NoChannel,
    /// The recipient read the message (or it was deleted) in time.
    Read,
    /// An earlier notification listed it.
    Covered,
    /// The email can never be sent (an address the mail library refuses, or SES rejecting the message):
    /// retrying would not help.
    Undeliverable,
}

/// Why a job failed: the queue brings it back (and, after its retries, to the dead-letter queue).
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The chat store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The email could not be sent this time.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// A queue body that is neither an event nor a job.
    #[error(transparent)]
    BadBody(#[from] crate::job::BadBody),
}

/// How the notifier behaves (from [`crate::config::NotifierSettings`]).
#[derive(Debug, Clone)]
pub struct Policy {
    /// How long a connected member has to read a message.
    pub delay: Duration,
    /// At most one notification per booking and member within this.
    pub min_interval: Duration,
    /// The booking's page, `{booking_id}` replaced.
    pub booking_url: String,
    /// The backend's public base URL (unsubscribe links).
    pub public_api_url: String,
    /// The key of unsubscribe links.
    pub link_secret: SecretString,
}

/// The service.
#[derive(Clone)]
pub struct Notifier {
    store: Store,
    queue: Arc<dyn Queue>,
    mailer: Option<Arc<dyn Mailer>>,
    policy: Policy,
}

/// A job due less than this far in the future is handled now (SQS delays are whole seconds); a job sent
/// back waits at least this, so that no mistake can make one spin.
const EARLY_TOLERANCE_MS: i64 = 1_000;

/// Who is to be told, and where.
struct Recipient<'a> {
    booking: Booking,
    settings: NotificationSettings,
    mailer: &'a dyn Mailer,
}

/// What the email will say, read before anything is claimed (so that nothing but sending can fail
/// after the claim).
struct Unread {
    /// The newest messages to quote, oldest first.
    messages: Vec<ChatMessage>,
    /// How many are unread in all (at most [`chat_store::ARRIVAL_UNREAD_CAP`]).
    count: u32,
}

impl Notifier {
    /// A notifier on these ports; without a mailer, nobody has a channel.
    pub fn new(store: Store, queue: Arc<dyn Queue>, mailer: Option<Arc<dyn Mailer>>, policy: Policy) -> Self {
        Self { store, queue, mailer, policy }
    }

    /// Sends `job` back to the queue to be handled as a job of its own (a message's recipients, one
    /// each, so that one's failure does not bring back the others').
    ///
    /// # Errors
    /// [`NotifyError::Queue`].
    pub async fn requeue(&self, job: &Job) -> Result<(), NotifyError> {
        Ok(self.queue.defer(job, Duration::ZERO).await?)
    }

    /// Handles one job at `now` (epoch ms), by the rules of the module's documentation.
    ///
    /// # Errors
    /// [`NotifyError`] when a port fails; the job may be handled again (it is idempotent: a claim that
    /// could not be sent is released).
    pub async fn handle(&self, job: &Job, now: i64) -> Result<Outcome, NotifyError> {
        if let Some(due) = job.due_at.filter(|due| *due > now + EARLY_TOLERANCE_MS) {
            return self.defer(job, due, now).await;
        }
        let recipient = match self.recipient(job).await? {
            Ok(recipient) => recipient,
            Err(skip) => return Ok(Outcome::Skipped(skip)),
        };
        if job.due_at.is_none()
            && self.store.presence_records(job.booking_id).await?.is_online(&job.recipient, now)
        {
            return self.defer(job, now + millis(self.policy.delay), now).await;
        }
        let last_read = self.last_read(job).await?;
        if last_read >= job.message_id {
            return Ok(Outcome::Skipped(Skip::Read));
        }
        if let Some(end) = recipient.settings.quiet_hours.as_ref().and_then(|q| q.ends_after(now)) {
            return self.defer(job, end, now).await;
        }
        let unread = self.unread(job, last_read).await?;
        self.claim_and_send(job, &recipient, &unread, now).await
    }

    /// The booking, the recipient's settings and the mailer, unless nothing is to be sent to them.
    async fn recipient(&self, job: &Job) -> Result<Result<Recipient<'_>, Skip>, StoreError> {
        let Some(booking) = self.store.booking(job.booking_id).await?.filter(|b| b.is_member(&job.recipient))
        else {
            return Ok(Err(Skip::NotAMember));
        };
        let settings = self.store.notification_settings(&job.recipient).await?.settings;
        if settings.is_muted(job.booking_id) {
            return Ok(Err(Skip::Muted));
        }
        match (settings.email_to(), &self.mailer) {
            (Some(_), Some(mailer)) => Ok(Ok(Recipient { booking, settings, mailer: mailer.as_ref() })),
            _ => Ok(Err(Skip::NoChannel)),
        }
    }

    async fn last_read(&self, job: &Job) -> Result<i64, StoreError> {
        let positions = self.store.read_positions(job.booking_id).await?;
        Ok(positions.into_iter().find(|p| p.user_id == job.recipient).map_or(0, |p| p.last_read_message_id))
    }

    async fn unread(&self, job: &Job, last_read: i64) -> Result<Unread, StoreError> {
        let messages = self.unread_messages(job, last_read).await?;
        let count = self
            .store
            .unread_count(job.booking_id, &job.recipient, last_read, chat_store::ARRIVAL_UNREAD_CAP)
            .await?;
        Ok(Unread { messages, count })
    }

    /// Claims the notification and sends it. After the claim only sending can fail: a refusal puts the
    /// claim back (so that the retry sends), an unknown outcome keeps it (so that nothing is sent twice).
    async fn claim_and_send(
        &self,
        job: &Job,
        recipient: &Recipient<'_>,
        unread: &Unread,
        now: i64,
    ) -> Result<Outcome, NotifyError> {
        let Some(through) = unread.messages.last().map(|m| m.id) else {
            return Ok(Outcome::Skipped(Skip::Read));
        };
        let request = ClaimRequest {
            booking_id: job.booking_id,
            user_id: &job.recipient,
            through,
            now,
            min_interval_ms: millis(self.policy.min_interval),
        };
        let previous = match self.store.claim_notification(request).await? {
            Claim::Covered => return Ok(Outcome::Skipped(Skip::Covered)),
            Claim::TooSoon { until } => return self.defer(job, until, now).await,
            Claim::Claimed { previous } => previous,
        };
        let address = recipient.settings.email.as_deref().unwrap_or_default();
        let email = mail::compose(address, &self.digest(job, recipient, unread));
        let booking_id = job.booking_id;
        match recipient.mailer.send(&email).await {
            Ok(()) => {
                tracing::info!(booking_id, through, unread = unread.count, "notification emailed");
                Ok(Outcome::Sent)
            }
            Err(MailError::Unknown(kind)) => {
                tracing::warn!(booking_id, kind, "SES did not say whether it took the email; not sent again");
                Ok(Outcome::Unconfirmed)
            }
            Err(MailError::Invalid(why)) => {
                tracing::warn!(booking_id, why, "the email cannot be sent to this member");
                Ok(Outcome::Skipped(Skip::Undeliverable))
            }
            Err(MailError::Rejected(code)) => {
                tracing::warn!(booking_id, code, "SES rejected the email");
                Ok(Outcome::Skipped(Skip::Undeliverable))
            }
            Err(error @ MailError::Failed(_)) => {
                if let Err(release) = self.store.release_notification(request, previous).await {
                    // The claim stays: the retry finds it covered, and these messages are not emailed.
                    tracing::error!(error = %release, booking_id, "could not release a notification claim");
                }
                Err(error.into())
            }
        }
    }

    fn digest<'a>(&self, job: &Job, recipient: &'a Recipient<'_>, unread: &'a Unread) -> Digest<'a> {
        Digest {
            booking: &recipient.booking,
            messages: &unread.messages,
            unread: unread.count,
            unread_capped: unread.count >= chat_store::ARRIVAL_UNREAD_CAP,
            booking_url: self.policy.booking_url.replace("{booking_id}", &job.booking_id.to_string()),
            unsubscribe_url: format!(
                "{}/api/notifications/unsubscribe?token={}",
                self.policy.public_api_url,
                unsubscribe::token(self.policy.link_secret.expose_secret().as_bytes(), &job.recipient)
            ),
        }
    }

    /// The newest unread messages others wrote to the recipient, oldest first, at most
    /// [`mail::MAX_QUOTED`] of them.
    async fn unread_messages(&self, job: &Job, last_read: i64) -> Result<Vec<ChatMessage>, StoreError> {
        let page = self.store.messages(job.booking_id, PageCursor::Before(None), 20).await?;
        let mut unread: Vec<ChatMessage> = page
            .messages
            .into_iter()
            .filter(|m| m.id > last_read && !m.deleted && m.sender_id != job.recipient)
            .collect();
        let skip = unread.len().saturating_sub(mail::MAX_QUOTED);
        unread.drain(..skip);
        Ok(unread)
    }

    async fn defer(&self, job: &Job, due: i64, now: i64) -> Result<Outcome, NotifyError> {
        let due = due.max(now + EARLY_TOLERANCE_MS);
        let later = Job { due_at: Some(due), ..job.clone() };
        let wait = Duration::from_millis(u64::try_from(due - now).unwrap_or(0)).min(MAX_QUEUE_DELAY);
        self.queue.defer(&later, wait).await?;
        Ok(Outcome::Deferred(due))
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
