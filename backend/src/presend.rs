//! The pre-send hook (issue 23): a deployment may name an HTTP endpoint of its own
//! (`PRESEND_HOOK_URL`) that sees each message, and each edit, before it is stored, and answers whether
//! to allow it, reject it (with a reason the sender is shown) or rewrite it. Requests are signed
//! (`X-Chat-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under PRESEND_HOOK_SECRET>`,
//! the scheme Stripe's webhooks use, so the receiver can refuse forgeries and replays) and bounded by a
//! short timeout. When the hook fails (a timeout, an error status, an answer it cannot read), the
//! deployment's choice applies: open (the default: the message goes on, unchecked, and the failure is
//! logged and counted) or closed (the sender gets `BACKEND_UNAVAILABLE` and may retry).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chat_wire::{BookingId, MessageId};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The longest `PRESEND_HOOK_TIMEOUT_MS`: the hook holds the sender's message (and API Gateway's 29 s).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(5);

/// How a deployment reaches its hook.
#[derive(Debug, Clone)]
pub struct PreSendSettings {
    /// `PRESEND_HOOK_URL`: https, or http to this machine.
    pub url: String,
    /// `PRESEND_HOOK_SECRET`: the HMAC key of the signature, at least 16 bytes.
    pub secret: SecretString,
    /// `PRESEND_HOOK_TIMEOUT_MS` (default 1000, at most 5000).
    pub timeout: Duration,
    /// `PRESEND_HOOK_ON_FAILURE`: `open` (the default) lets a message through when the hook fails;
    /// `closed` refuses it.
    pub fail_open: bool,
}

/// What the hook decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Store it as written.
    Allow,
    /// Refuse it; the reason is shown to the sender.
    Reject(String),
    /// Store this text instead (checked as a message body, then masked like any).
    Rewrite(String),
}

/// The hook failed and the deployment fails closed.
#[derive(Debug, thiserror::Error)]
#[error("the message checks are unavailable: {0}")]
pub struct HookUnavailable(String);

/// What the hook is sent.
#[derive(Debug, Serialize)]
struct Request<'a> {
    booking_id: BookingId,
    sender_id: &'a str,
    body: &'a str,
    /// The message edited, for an edit; absent for a new message.
    #[serde(skip_serializing_if = "Option::is_none")]
    edit_of: Option<MessageId>,
}

/// What the hook answers.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum Answer {
    Allow,
    Reject { reason: String },
    Rewrite { body: String },
}

/// The hook's client.
#[derive(Debug)]
pub struct PreSendHook {
    /// The HTTP client, or why it could not be built (then every check fails, open or closed as
    /// configured: a hook that cannot be reached is never silently skipped).
    client: Result<reqwest::Client, String>,
    settings: PreSendSettings,
}

impl PreSendHook {
    /// A client for `settings`.
    pub fn new(settings: PreSendSettings) -> Self {
        let client = crate::outbound::client(settings.timeout)
            .map_err(|e| format!("its HTTP client could not be built: {e}"));
        Self { client, settings }
    }

    /// Asks the hook about `body`; a failure becomes [`Verdict::Allow`] when failing open.
    ///
    /// # Errors
    /// [`HookUnavailable`] when the hook failed and the deployment fails closed.
    pub async fn check(
        &self,
        booking_id: BookingId,
        sender_id: &str,
        body: &str,
        edit_of: Option<MessageId>,
    ) -> Result<Verdict, HookUnavailable> {
        let payload = serde_json::to_vec(&Request { booking_id, sender_id, body, edit_of })
            .map_err(|e| HookUnavailable(e.to_string()))?;
        match self.ask(payload).await {
            Ok(verdict) => Ok(verdict),
            Err(failure) if self.settings.fail_open => {
                tracing::warn!(failure = %failure, "the pre-send hook failed: the message goes on unchecked");
                Ok(Verdict::Allow)
            }
            Err(failure) => {
                tracing::warn!(failure = %failure, "the pre-send hook failed: the message is refused");
                Err(HookUnavailable(failure))
            }
        }
    }

    async fn ask(&self, payload: Vec<u8>) -> Result<Verdict, String> {
        let signature = sign(self.settings.secret.expose_secret().as_bytes(), unix_seconds(), &payload);
        let client = self.client.as_ref().map_err(Clone::clone)?;
        let response = client
            .post(&self.settings.url)
            .header("content-type", "application/json")
            .header("x-chat-signature", signature)
            .body(payload)
            .send()
            .await
            .map_err(|e| if e.is_timeout() { "timed out".to_owned() } else { e.to_string() })?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        match serde_json::from_slice(&bytes).map_err(|e| format!("an answer it cannot read: {e}"))? {
            Answer::Allow => Ok(Verdict::Allow),
            Answer::Reject { reason } => Ok(Verdict::Reject(reason)),
            Answer::Rewrite { body } => Ok(Verdict::Rewrite(body)),
        }
    }
}

/// The `X-Chat-Signature` of `payload` sent at `timestamp` (unix seconds).
pub fn sign(key: &[u8], timestamp: u64, payload: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let mut context = ring::hmac::Context::with_key(&key);
    context.update(format!("{timestamp}.").as_bytes());
    context.update(payload);
    let tag = context.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

fn unix_seconds() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_timestamp_and_the_body() {
        // The same as ring's one-shot HMAC of "<t>.<body>", in the format receivers parse.
        let signature = sign(b"Jefe", 1_700_000_000, b"{}");
        let expected =
            ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"Jefe"), b"1700000000.{}");
        let hex: String = expected.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(signature, format!("t=1700000000,v1={hex}"));
    }
}
