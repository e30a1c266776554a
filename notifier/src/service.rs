//! The notifier's one service: decides, for one [`Job`], whether to tell its recipient now, later, or
//! never, and tells them. Every transport (the Lambda's SQS batches, the local poller) calls
//! [`Notifier::handle`]; the ports are the chat store, the [`Queue`] it waits on, and the channels: the
//! [`Mailer`] and the [`Pusher`].
//!
//! The rules, in order (`docs/notifications.md`):
//! 1. A job not yet due goes back on the queue until it is.
//! 2. Nothing for a booking that is gone, a recipient who is no longer a member, a muted booking, or a
//!    member with no channel (no email address or email off, and no browser subscribed or push off).
//! 3. A message that just arrived waits `delay` if its recipient has a live connection to the booking
//!    (they may read it), and is due at once if not.
//! 4. Nothing if the recipient has read it (on any device: read positions are per member).
//! 5. During the recipient's quiet hours, it waits until they end.
//! 6. One notification per booking and member per quiet period, claimed in the store: what arrives
//!    within the period waits for its end and goes out together; what an earlier notification listed is
//!    not sent again. One claim covers every channel: the email and a push to each of the member's
//!    browsers go out together.

use std::sync::Arc;
use std::time::Duration;

use chat_store::domain::Booking;
use chat_store::notifications::{self, Claim, ClaimRequest, NotificationSettings, unsubscribe};
use chat_store::push::PushSubscription;
use chat_store::{PageCursor, Store, StoreError};
use chat_wire::ChatMessage;
use secrecy::{ExposeSecret, SecretString};

use crate::config::MAX_QUEUE_DELAY;
use crate::job::Job;
use crate::mail::{self, Digest, MailError, Mailer};
use crate::push::{self, PushError, Pusher};
use crate::queue::{Queue, QueueError};

/// What happened to a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The notification went out on at least one channel.
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
    /// The recipient blocked the other member: nothing of theirs reaches the recipient.
    Blocked,
    /// The recipient has no channel on: no email address, email off or no mailer configured; and no
    /// browser subscribed, push off or no VAPID key configured.
    NoChannel,
    /// The recipient read the message (or it was deleted) in time.
    Read,
    /// An earlier notification listed it.
    Covered,
    /// No channel can ever deliver it (an address the mail library refuses, SES rejecting the message,
    /// push services refusing or no longer knowing the browsers): retrying would not help.
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
    /// No push went out, and one may later.
    #[error(transparent)]
    Push(#[from] PushError),
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

/// The channels a notification goes out on; without either, nobody has that channel.
#[derive(Clone, Default)]
pub struct Channels {
    /// Email.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// Web Push.
    pub pusher: Option<Arc<dyn Pusher>>,
}

/// What each channel did since the counts were last taken ([`Notifier::take_counts`]), for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelCounts {
    /// Emails SES took.
    pub emailed: u32,
    /// Pushes a push service took.
    pub pushed: u32,
    /// Browsers a push service no longer knows (their subscriptions removed).
    pub push_gone: u32,
    /// Pushes that failed otherwise (refused, not answered, or to be retried).
    pub push_failed: u32,
    /// Of those, pushes refused with 401 or 403: the push service does not accept the VAPID key, and
    /// will refuse every push until it is fixed.
    pub push_unauthorized: u32,
}

/// The service.
#[derive(Clone)]
pub struct Notifier {
    store: Store,
    queue: Arc<dyn Queue>,
    channels: Channels,
    policy: Policy,
    counts: Arc<std::sync::Mutex<ChannelCounts>>,
}

/// A job due less than this far in the future is handled now (SQS delays are whole seconds); a job sent
/// back waits at least this, so that no mistake can make one spin.
const EARLY_TOLERANCE_MS: i64 = 1_000;

/// Who is to be told, and where.
struct Recipient {
    booking: Booking,
    /// The address, when email is to be sent.
    email: Option<String>,
    /// The browsers to push to.
    browsers: Vec<PushSubscription>,
    settings: NotificationSettings,
}

/// What the channels did with one notification.
struct Sending {
    email: Option<Result<(), MailError>>,
    pushes: Vec<(String, Result<(), PushError>)>,
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
    /// A notifier on these ports.
    pub fn new(store: Store, queue: Arc<dyn Queue>, channels: Channels, policy: Policy) -> Self {
        Self { store, queue, channels, policy, counts: Arc::default() }
    }

    /// What each channel did since the last call, and zero again.
    pub fn take_counts(&self) -> ChannelCounts {
        std::mem::take(&mut *self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
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

    /// The booking, the recipient's settings and channels, unless nothing is to be sent to them.
    async fn recipient(&self, job: &Job) -> Result<Result<Recipient, Skip>, StoreError> {
        let Some(booking) = self.store.booking(job.booking_id).await?.filter(|b| b.is_member(&job.recipient))
        else {
            return Ok(Err(Skip::NotAMember));
        };
        let settings = self.store.notification_settings(&job.recipient).await?.settings;
        if settings.is_muted(job.booking_id) {
            return Ok(Err(Skip::Muted));
        }
        if booking.chat.blocks.iter().any(|block| block.user_id == job.recipient) {
            return Ok(Err(Skip::Blocked));
        }
        let email = settings.email_to().filter(|_| self.channels.mailer.is_some()).map(str::to_owned);
        let browsers = if self.channels.pusher.is_some() { settings.push_to().to_vec() } else { vec![] };
        if email.is_none() && browsers.is_empty() {
            return Ok(Err(Skip::NoChannel));
        }
        Ok(Ok(Recipient { booking, email, browsers, settings }))
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

    /// Claims the notification and sends it on every channel. After the claim only sending can fail:
    /// when nothing went out and a channel may succeed later, the claim is put back (so that the retry
    /// sends); when any channel may have delivered, it is kept (so that nothing is sent twice).
    async fn claim_and_send(
        &self,
        job: &Job,
        recipient: &Recipient,
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
        let digest = self.digest(job, recipient, unread);
        let (email, pushes) =
            futures_util::join!(self.email(recipient, &digest), self.push(recipient, &digest));
        let sending = Sending { email, pushes };
        self.count(&sending);
        self.forget_gone(&job.recipient, &sending).await;
        let booking_id = job.booking_id;
        let verdict = sending.verdict();
        match &verdict {
            Ok(Outcome::Sent) => {
                tracing::info!(booking_id, through, unread = unread.count, "notification sent");
            }
            Ok(_) => {}
            Err(_) => {
                if let Err(release) = self.store.release_notification(request, previous).await {
                    // The claim stays: the retry finds it covered, and these messages are not notified.
                    tracing::error!(error = %release, booking_id, "could not release a notification claim");
                }
            }
        }
        verdict
    }

    async fn email(&self, recipient: &Recipient, digest: &Digest<'_>) -> Option<Result<(), MailError>> {
        let (address, mailer) = recipient.email.as_deref().zip(self.channels.mailer.as_deref())?;
        let result = mailer.send(&mail::compose(address, digest)).await;
        match &result {
            Ok(()) => {}
            Err(MailError::Unknown(kind)) => {
                tracing::warn!(kind, "SES did not say whether it took the email");
            }
            Err(MailError::Invalid(why)) => tracing::warn!(why, "the email cannot be sent to this member"),
            Err(MailError::Rejected(code)) => tracing::warn!(code, "SES rejected the email"),
            Err(MailError::Failed(why)) => tracing::warn!(why, "the email could not be sent this time"),
        }
        Some(result)
    }

    /// Pushes to each of the recipient's browsers at once.
    async fn push(&self, recipient: &Recipient, digest: &Digest<'_>) -> Vec<(String, Result<(), PushError>)> {
        let Some(pusher) = self.channels.pusher.as_deref() else { return vec![] };
        let payload = push::payload(digest);
        let topic = push::topic(recipient.booking.id);
        let sends = recipient.browsers.iter().map(|browser| {
            let (payload, topic) = (&payload, &topic);
            async move {
                let result = pusher.push(browser, payload, topic).await;
                if let Err(error) = &result {
                    // The endpoint's host only: its path identifies the browser.
                    let host =
                        url::Url::parse(&browser.endpoint).ok().and_then(|u| u.host_str().map(str::to_owned));
                    tracing::warn!(%error, host, "a push did not go out");
                }
                (browser.endpoint.clone(), result)
            }
        });
        futures_util::future::join_all(sends).await
    }

    fn count(&self, sending: &Sending) {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        counts.emailed += u32::from(matches!(sending.email, Some(Ok(()))));
        for (_, result) in &sending.pushes {
            match result {
                Ok(()) => counts.pushed += 1,
                Err(PushError::Gone(_)) => counts.push_gone += 1,
                Err(error) => {
                    counts.push_failed += 1;
                    counts.push_unauthorized += u32::from(matches!(error, PushError::Rejected(401 | 403)));
                }
            }
        }
    }

    /// Removes the browsers push services no longer know. A failure is logged: the next notification
    /// finds them gone again.
    async fn forget_gone(&self, user_id: &str, sending: &Sending) {
        let gone: Vec<&str> = sending
            .pushes
            .iter()
            .filter(|(_, result)| matches!(result, Err(PushError::Gone(_))))
            .map(|(endpoint, _)| endpoint.as_str())
            .collect();
        if gone.is_empty() {
            return;
        }
        let removed = notifications::change_settings(self.store.as_ref(), user_id, |settings| {
            Ok::<_, StoreError>(gone.iter().filter(|endpoint| settings.remove_push(endpoint)).count() > 0)
        })
        .await;
        match removed {
            Ok(_) => {
                tracing::info!(browsers = gone.len(), "removed browsers their push service no longer knows");
            }
            Err(error) => tracing::error!(%error, "could not remove gone browsers"),
        }
    }

    fn digest<'a>(&self, job: &Job, recipient: &'a Recipient, unread: &'a Unread) -> Digest<'a> {
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

impl Sending {
    /// The job's outcome: sent when any channel delivered; unconfirmed when none did but one may have
    /// (no answer); the error to retry on when one may deliver later and nothing may have gone out; else
    /// undeliverable.
    fn verdict(&self) -> Result<Outcome, NotifyError> {
        let email = || self.email.iter();
        let pushes = || self.pushes.iter().map(|(_, result)| result);
        if email().any(Result::is_ok) || pushes().any(Result::is_ok) {
            return Ok(Outcome::Sent);
        }
        if email().any(|r| matches!(r, Err(MailError::Unknown(_))))
            || pushes().any(|r| matches!(r, Err(PushError::Unknown(_))))
        {
            return Ok(Outcome::Unconfirmed);
        }
        if let Some(Err(error @ MailError::Failed(_))) = email().next() {
            return Err(NotifyError::Mail(error.clone()));
        }
        if let Some(Err(error)) = pushes().find(|r| matches!(r, Err(PushError::Failed(_)))) {
            return Err(NotifyError::Push(error.clone()));
        }
        Ok(Outcome::Skipped(Skip::Undeliverable))
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
