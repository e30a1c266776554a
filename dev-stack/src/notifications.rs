//! Notifications on one machine, as Terraform deploys them on AWS but on moto: the chat's event bus, a
//! rule sending `message.created` to the notifier's queue, the SES identity it sends as, and the notifier
//! itself polling that queue in this process. `make dev` runs it; the end-to-end tests start it on a
//! fresh bus and queue each.
//!
//! Emails go to moto's SES, which keeps them: `GET {moto}/moto-api/data.json`, `ses.RawMessage` (and the
//! notifier logs each one's subject).

use std::time::Duration;

use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs::types::QueueAttributeName;
use chat_backend::Settings;
use chat_backend::config::EventSettings;
use chat_backend::store::notifications::unsubscribe::LOCAL_KEY;
use chat_notifier::config::{EmailSettings, NotifierSettings, PushSettings};
use secrecy::SecretString;

/// The sender of local emails (its domain is the verified SES identity on moto).
pub const LOCAL_MAIL_FROM: &str = "Booking chat <chat@example.com>";

/// The notifier's resources on a local emulator.
#[derive(Debug, Clone)]
pub struct LocalNotifications {
    /// The emulator (moto), e.g. `http://127.0.0.1:5000`.
    pub endpoint: String,
    /// The chat's event bus.
    pub bus: String,
    /// The notifier's queue.
    pub queue_url: String,
}

/// Why the resources could not be made.
#[derive(Debug, thiserror::Error)]
#[error("provisioning notifications on {endpoint}: {step} failed: {message}")]
pub struct ProvisionError {
    endpoint: String,
    step: &'static str,
    message: String,
}

impl LocalNotifications {
    /// Creates the bus `{prefix}-events`, the queue `{prefix}-notify`, the rule between them and the SES
    /// identity `example.com` at `endpoint` (each kept if it exists).
    ///
    /// # Errors
    /// [`ProvisionError`] naming the step that failed.
    pub async fn provision(endpoint: &str, prefix: &str) -> Result<Self, ProvisionError> {
        let fail = |step: &'static str| {
            let endpoint = endpoint.to_owned();
            move |error: String| ProvisionError { endpoint: endpoint.clone(), step, message: error }
        };
        let context = |e: &dyn std::fmt::Debug| format!("{e:?}");
        let sdk = chat_settings::aws::local(endpoint, Duration::from_secs(20));
        let (events, sqs) = (aws_sdk_eventbridge::Client::new(&sdk), aws_sdk_sqs::Client::new(&sdk));
        let bus = format!("{prefix}-events");
        if events.describe_event_bus().name(&bus).send().await.is_err() {
            events
                .create_event_bus()
                .name(&bus)
                .send()
                .await
                .map_err(|e| fail("CreateEventBus")(context(&e)))?;
        }
        let queue = sqs
            .create_queue()
            .queue_name(format!("{prefix}-notify"))
            .send()
            .await
            .map_err(|e| fail("CreateQueue")(context(&e)))?;
        let queue_url = queue.queue_url().unwrap_or_default().to_owned();
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| fail("GetQueueAttributes")(context(&e)))?;
        let queue_arn = attributes
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .cloned()
            .ok_or_else(|| fail("GetQueueAttributes")("no QueueArn".into()))?;
        let pattern = serde_json::json!({
            "source": [chat_wire::events::EVENT_SOURCE],
            "detail-type": ["message.created"],
        });
        events
            .put_rule()
            .event_bus_name(&bus)
            .name("messages-to-notifier")
            .event_pattern(pattern.to_string())
            .send()
            .await
            .map_err(|e| fail("PutRule")(context(&e)))?;
        let target = Target::builder()
            .id("notifier")
            .arn(queue_arn)
            .build()
            .map_err(|e| fail("Target")(e.to_string()))?;
        events
            .put_targets()
            .event_bus_name(&bus)
            .rule("messages-to-notifier")
            .targets(target)
            .send()
            .await
            .map_err(|e| fail("PutTargets")(context(&e)))?;
        let ses = aws_sdk_sesv2::Client::new(&sdk);
        // Verified at once on moto; on AWS the domain's DNS records verify it.
        if ses.get_email_identity().email_identity("example.com").send().await.is_err() {
            ses.create_email_identity()
                .email_identity("example.com")
                .send()
                .await
                .map_err(|e| fail("CreateEmailIdentity")(context(&e)))?;
        }
        Ok(Self { endpoint: endpoint.to_owned(), bus, queue_url })
    }

    /// The backend's events, published to this bus (and still to the file the backend was writing).
    pub fn events(&self, backend: &Settings) -> EventSettings {
        EventSettings::EventBridge {
            bus: self.bus.clone(),
            endpoint: Some(self.endpoint.clone()),
            aws_timeout: chat_settings::aws::DEFAULT_TIMEOUT,
            metrics_namespace: "BookingChat".into(),
            stage: if backend.local { "local".into() } else { "test".into() },
            copy_to_file: match &backend.events {
                EventSettings::File(path) => Some(path.clone()),
                EventSettings::EventBridge { copy_to_file, .. } => copy_to_file.clone(),
                EventSettings::Off => None,
            },
        }
    }

    /// The notifier's settings: this queue, moto's SES, the backend's store and link key (the local one
    /// when the backend has none, which then refuses every link), links to `backend_url`; `delay` and
    /// `min_interval` as given.
    pub fn notifier(
        &self,
        backend: &Settings,
        backend_url: &str,
        delay: Duration,
        min_interval: Duration,
    ) -> NotifierSettings {
        NotifierSettings {
            local: backend.local,
            json_logs: backend.json_logs,
            store: backend.store.clone(),
            queue_url: self.queue_url.clone(),
            sqs_endpoint: Some(self.endpoint.clone()),
            delay,
            min_interval,
            email: Some(EmailSettings {
                from: LOCAL_MAIL_FROM.parse().unwrap_or_else(|_| unreachable!("a valid address")),
                ses_endpoint: Some(self.endpoint.clone()),
                configuration_set: None,
                dir: None,
            }),
            // The local key pair, whose public half the local backend hands browsers; pushes only to the
            // push services the backend accepts subscriptions on.
            push: backend
                .web_push
                .public_key
                .as_ref()
                .map(|_| PushSettings::local(backend.web_push.hosts.clone())),
            booking_url: format!("{backend_url}/?booking_id={{booking_id}}"),
            public_api_url: backend_url.to_owned(),
            link_secret: backend.notify_link_secret.clone().unwrap_or_else(|| SecretString::from(LOCAL_KEY)),
            aws_timeout: chat_settings::aws::DEFAULT_TIMEOUT,
            metrics: ("BookingChat".into(), "local".into()),
        }
    }
}
