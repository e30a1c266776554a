//! `chat-notifier`: tells members about chat messages they have not read, by email, once per booking per
//! quiet period. A deployable of its own beside the proxy and the backend: it reads the chat through the
//! same store port ([`chat_store`]) and never calls the backend.
//!
//! On AWS, an EventBridge rule sends each `message.created` event of the chat's bus to an SQS queue, and
//! this function consumes it (an SQS event source mapping, with partial batch failures). Locally
//! (`make dev`, tests), [`poll`] long-polls the same queue on moto.
//!
//! # Layout
//! - [`config`]: the settings.
//! - [`job`]: what the queue carries.
//! - [`service`]: the rules ([`service::Notifier`]).
//! - [`queue`]: the SQS adapter, where jobs wait.
//! - [`mail`]: the email, and the SES and directory mailers.
//! - [`lambda`]: the Lambda transport (SQS batches).
//!
//! `docs/notifications.md` is the design.

use std::sync::Arc;
use std::time::Duration;

use chat_settings::emf::{self, Unit};
use chat_wire::time::now_millis;
use tokio::sync::watch;

pub mod config;
pub mod job;
pub mod lambda;
pub mod mail;
pub mod push;
pub mod queue;
pub mod service;

use crate::config::NotifierSettings;
use crate::queue::SqsQueue;
use crate::service::{ChannelCounts, Channels, Notifier, NotifyError, Outcome, Policy};

/// The budget of one push to a push service (they answer in well under a second).
const PUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// What one batch of queue messages came to, for logs and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Notifications sent (on one channel or more).
    pub sent: u32,
    /// Jobs that went back on the queue: to wait, or split from an event with several recipients.
    pub deferred: u32,
    /// Jobs that needed nothing sent (read in time, covered, muted, no channel, undeliverable).
    pub skipped: u32,
    /// Jobs that failed (their message comes back), emails whose sending SES did not confirm, and bodies
    /// not understood.
    pub failed: u32,
    /// What each channel did.
    pub channels: ChannelCounts,
}

impl Tally {
    /// Counts one outcome.
    pub fn count(&mut self, outcome: &Result<Outcome, NotifyError>) {
        match outcome {
            Ok(Outcome::Sent) => self.sent += 1,
            Ok(Outcome::Deferred(_)) => self.deferred += 1,
            Ok(Outcome::Skipped(_)) => self.skipped += 1,
            Ok(Outcome::Unconfirmed) | Err(_) => self.failed += 1,
        }
    }

    /// The tally as one CloudWatch embedded-metric-format line.
    pub fn emf(&self, namespace: &str, stage: &str) -> String {
        let metrics = [
            ("NotificationsSent", Unit::Count, f64::from(self.sent)),
            ("NotificationsDeferred", Unit::Count, f64::from(self.deferred)),
            ("NotificationsSkipped", Unit::Count, f64::from(self.skipped)),
            ("NotificationsFailed", Unit::Count, f64::from(self.failed)),
            ("EmailsSent", Unit::Count, f64::from(self.channels.emailed)),
            ("PushSent", Unit::Count, f64::from(self.channels.pushed)),
            ("PushGone", Unit::Count, f64::from(self.channels.push_gone)),
            ("PushFailed", Unit::Count, f64::from(self.channels.push_failed)),
            ("PushUnauthorized", Unit::Count, f64::from(self.channels.push_unauthorized)),
        ];
        emf::line(namespace, stage, &metrics, now_millis())
    }
}

/// Handles one queue body. `Ok` when the message may be deleted.
///
/// An event for several recipients is split into one job each, queued on their own, so that one
/// recipient's failure brings back only their job (a booking has two members, so most events carry one
/// recipient and are handled at once).
///
/// # Errors
/// The job's error, or the split's; [`NotifyError::BadBody`] for a body that is neither an event nor a
/// job (it reaches the dead-letter queue after its retries, where it can be looked at).
pub async fn handle_body(notifier: &Notifier, body: &str, tally: &mut Tally) -> Result<(), NotifyError> {
    let jobs = match job::parse(body) {
        Ok(jobs) => jobs,
        Err(error) => {
            // The error's place only: its text may quote the event, message bodies included.
            tracing::warn!(line = error.line(), column = error.column(), kind = ?error.kind(), "a queue message is neither an event nor a job");
            tally.failed += 1;
            return Err(error.into());
        }
    };
    if let [job] = jobs.as_slice() {
        let outcome = notifier.handle(job, now_millis()).await;
        tally.count(&outcome);
        let channels = notifier.take_counts();
        tally.channels.emailed += channels.emailed;
        tally.channels.pushed += channels.pushed;
        tally.channels.push_gone += channels.push_gone;
        tally.channels.push_failed += channels.push_failed;
        tally.channels.push_unauthorized += channels.push_unauthorized;
        return match outcome {
            Ok(outcome) => {
                tracing::debug!(booking_id = job.booking_id, ?outcome, "job handled");
                Ok(())
            }
            Err(error) => {
                tracing::warn!(booking_id = job.booking_id, %error, "notification failed; the queue retries it");
                Err(error)
            }
        };
    }
    for job in &jobs {
        notifier.requeue(job).await?;
        tally.deferred += 1;
    }
    Ok(())
}

/// The notifier and its queue, from the settings: the store opened (not created), SES (or `MAIL_DIR`'s
/// directory) when `MAIL_FROM` is set.
///
/// # Errors
/// When the store cannot be opened.
pub async fn build(
    settings: &NotifierSettings,
    sdk: Option<&aws_config::SdkConfig>,
) -> Result<(Notifier, Arc<SqsQueue>), chat_store::StoreError> {
    let store = chat_store::open(&settings.store, sdk).await?;
    let queue = Arc::new(SqsQueue::new(
        aws_sdk_sqs::Client::new(
            &chat_settings::aws::local_or_aws(settings.sqs_endpoint.as_deref(), sdk, settings.aws_timeout)
                .await,
        ),
        settings.queue_url.clone(),
    ));
    let pusher: Option<Arc<dyn push::Pusher>> = settings.push.as_ref().map(|push| {
        let pusher = push::WebPusher::new(push.vapid.clone(), push.ttl, push.hosts.clone(), PUSH_TIMEOUT);
        Arc::new(pusher) as Arc<dyn push::Pusher>
    });
    let mailer: Option<Arc<dyn mail::Mailer>> = match &settings.email {
        None => None,
        Some(email) => Some(match &email.dir {
            Some(dir) => Arc::new(mail::DirMailer::new(dir.clone(), email.from.clone())),
            None => Arc::new(mail::SesMailer::new(
                aws_sdk_sesv2::Client::new(
                    &chat_settings::aws::local_or_aws(
                        email.ses_endpoint.as_deref(),
                        sdk,
                        settings.aws_timeout,
                    )
                    .await,
                ),
                email.from.clone(),
                email.configuration_set.clone(),
            )),
        }),
    };
    let policy = Policy {
        delay: settings.delay,
        min_interval: settings.min_interval,
        booking_url: settings.booking_url.clone(),
        public_api_url: settings.public_api_url.clone(),
        link_secret: settings.link_secret.clone(),
    };
    Ok((Notifier::new(store, queue.clone(), Channels { mailer, pusher }, policy), queue))
}

/// Polls `queue` and handles what arrives until `stop` turns true (the local transport; on AWS, Lambda
/// polls). A message whose jobs failed is left on the queue: it comes back after its visibility timeout.
///
/// Short polls, a quarter of a second apart when the queue is empty: the local moto answers one request
/// at a time, and a long poll would hold every other call to it (the backend's `PutEvents` among them).
pub async fn poll(notifier: Notifier, queue: Arc<SqsQueue>, stop: watch::Receiver<bool>) {
    let notifier = &notifier;
    chat_settings::sqs::poll(&queue, "notification", Duration::from_secs(30), stop, |messages| async move {
        let mut tally = Tally::default();
        let mut handled = Vec::new();
        for message in messages {
            if handle_body(notifier, &message.body, &mut tally).await.is_ok() {
                handled.push(message.receipt_handle);
            }
        }
        if tally != Tally::default() {
            tracing::debug!(?tally, "notification batch");
        }
        handled
    })
    .await;
}
