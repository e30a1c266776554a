//! Web Push: what a subscribed browser's service worker shows, and how it gets there. The payload is JSON
//! ([`payload`]), encrypted to the browser's keys (RFC 8291, `aes128gcm`, by `web-push-native`, on
//! RustCrypto: the zips are cross-compiled and link no OpenSSL), and sent with a VAPID signature (RFC
//! 8292: an ES256 JWT signed by `p256`) to the browser's push service over HTTPS (`reqwest`).
//!
//! The [`Pusher`] port, its adapter [`WebPusher`], and what a push service's answer means
//! ([`PushError`]): 404 or 410 say the browser is gone (its subscription is removed), 429 and 5xx are
//! worth another try, other refusals are not.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chat_store::push::{PushHosts, PushSubscription};
use futures_util::future::BoxFuture;
use p256::ecdsa::signature::Signer as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::mail::{self, Digest};

/// Longest body quoted in a notification: a lock screen shows two lines.
const MAX_BODY_CHARS: usize = 140;

/// How long a VAPID signature is valid (RFC 8292 allows at most 24 hours).
const VAPID_VALIDITY: Duration = Duration::from_secs(12 * 3600);

/// What the service worker receives (`web/src/sw.ts` reads it; version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Payload {
    /// The format's version.
    pub v: u8,
    /// The notification's title: the email's subject.
    pub title: String,
    /// The newest unread message, who wrote it and its start.
    pub body: String,
    /// The booking's page.
    pub url: String,
    /// The booking.
    pub booking_id: i64,
    /// Unread messages in all.
    pub unread: u32,
    /// One notification per booking on the device: a newer one replaces it.
    pub tag: String,
}

/// The payload for `digest`, as UTF-8 JSON (a few hundred bytes: push services take 4,096).
pub fn payload(digest: &Digest<'_>) -> Vec<u8> {
    let body = digest.messages.last().map_or_else(String::new, |newest| {
        format!("{}: {}", mail::sender_label(digest.booking, newest), mail::preview(newest, MAX_BODY_CHARS))
    });
    let payload = Payload {
        v: 1,
        title: mail::subject(digest),
        body,
        url: digest.booking_url.clone(),
        booking_id: digest.booking.id,
        unread: digest.unread,
        tag: topic(digest.booking.id),
    };
    serde_json::to_vec(&payload).unwrap_or_default()
}

/// The push `Topic` (RFC 8030: at most 32 URL-safe characters): a push service keeps only the newest
/// undelivered notification of a booking for a sleeping phone.
pub fn topic(booking_id: i64) -> String {
    format!("booking-{booking_id}")
}

/// Why a push did not go out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The push service no longer knows this browser (404, 410): its subscription is removed.
    #[error("the subscription is gone ({0})")]
    Gone(u16),
    /// The subscription can never be pushed to: malformed keys, or an endpoint this deployment does not
    /// allow (any more).
    #[error("the subscription cannot be used: {0}")]
    Invalid(&'static str),
    /// The push service refused it and would again (400, 401 and 403 for a VAPID key it does not accept,
    /// 413): not retried.
    #[error("the push service refused it ({0})")]
    Rejected(u16),
    /// Not delivered, and it may be later (429, 5xx, no connection): retried through the queue.
    #[error("pushing failed: {0}")]
    Failed(String),
    /// The request may have reached the push service but no answer came.
    #[error("no answer from the push service: {0}")]
    Unknown(&'static str),
}

/// Sends a payload to one browser.
pub trait Pusher: Send + Sync + 'static {
    /// Pushes `payload` (plain; the adapter encrypts it) to `to`, with `topic`.
    fn push<'a>(
        &'a self,
        to: &'a PushSubscription,
        payload: &'a [u8],
        topic: &'a str,
    ) -> BoxFuture<'a, Result<(), PushError>>;
}

/// The VAPID identity: the key push services see the subscriptions were made for.
#[derive(Clone)]
pub struct Vapid {
    key: p256::ecdsa::SigningKey,
    public_key: String,
    subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid").field("public_key", &self.public_key).field("subject", &self.subject).finish()
    }
}

impl Vapid {
    /// From `VAPID_PRIVATE_KEY` (base64url of the 32-byte private scalar) and `VAPID_SUBJECT`.
    ///
    /// # Errors
    /// What is wrong with either, for the configuration error.
    pub fn new(private_key: &SecretString, subject: &str) -> Result<Self, &'static str> {
        let bytes = URL_SAFE_NO_PAD
            .decode(private_key.expose_secret().trim().trim_end_matches('='))
            .map_err(|_| "must be base64url")?;
        let key =
            p256::ecdsa::SigningKey::from_slice(&bytes).map_err(|_| "must be a 32-byte P-256 private key")?;
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            return Err("VAPID_SUBJECT must be a mailto: or https: URL");
        }
        let public_key = URL_SAFE_NO_PAD.encode(key.verifying_key().to_encoded_point(false).as_bytes());
        Ok(Self { key, public_key, subject: subject.to_owned() })
    }

    /// The public key, base64url: what the backend's `VAPID_PUBLIC_KEY` must be.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The `Authorization` header for a push service at `origin` (`https://host[:port]`), at `now`
    /// (epoch seconds): `vapid t=<ES256 JWT>, k=<public key>`.
    pub fn authorization(&self, origin: &str, now: u64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": origin,
            "exp": now + VAPID_VALIDITY.as_secs(),
            "sub": self.subject,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let signature: p256::ecdsa::Signature = self.key.sign(signed.as_bytes());
        format!("vapid t={signed}.{}, k={}", URL_SAFE_NO_PAD.encode(signature.to_bytes()), self.public_key)
    }
}

/// Pushes over HTTPS to the browsers' push services.
pub struct WebPusher {
    client: reqwest::Client,
    vapid: Vapid,
    ttl: Duration,
    hosts: PushHosts,
}

impl WebPusher {
    /// A pusher signing as `vapid`, asking push services to keep a notification `ttl` for a browser
    /// that is offline, and calling only `hosts`; each request within `timeout`.
    pub fn new(vapid: Vapid, ttl: Duration, hosts: PushHosts, timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(chat_settings::tls::client_config())
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { client, vapid, ttl, hosts }
    }

    async fn send(&self, to: &PushSubscription, payload: &[u8], topic: &str) -> Result<(), PushError> {
        if let Some(why) = self.hosts.refusal(&to.endpoint) {
            return Err(PushError::Invalid(why));
        }
        let (public, auth) = to.keys.decode().ok_or(PushError::Invalid("malformed keys"))?;
        let public =
            p256::PublicKey::from_sec1_bytes(&public).map_err(|_| PushError::Invalid("not a P-256 key"))?;
        let endpoint: url::Url = to.endpoint.parse().map_err(|_| PushError::Invalid("not a URL"))?;
        let body = web_push_native::encrypt(payload.to_vec(), &public, &auth.into())
            .map_err(|_| PushError::Invalid("the payload cannot be encrypted"))?;
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        let response = self
            .client
            .post(endpoint.clone())
            .header("authorization", self.vapid.authorization(&endpoint.origin().ascii_serialization(), now))
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            .header("ttl", self.ttl.as_secs())
            .header("urgency", "normal")
            .header("topic", topic)
            .body(body)
            .send()
            .await
            .map_err(|e| match e {
                e if e.is_connect() => PushError::Failed("no connection".to_owned()),
                e if e.is_timeout() => PushError::Unknown("timed out"),
                _ => PushError::Unknown("the request failed"),
            })?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            status @ (404 | 410) => Err(PushError::Gone(status)),
            status @ (429 | 500..=599) => Err(PushError::Failed(format!("status {status}"))),
            status => Err(PushError::Rejected(status)),
        }
    }
}

impl Pusher for WebPusher {
    fn push<'a>(
        &'a self,
        to: &'a PushSubscription,
        payload: &'a [u8],
        topic: &'a str,
    ) -> BoxFuture<'a, Result<(), PushError>> {
        Box::pin(self.send(to, payload, topic))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vapid_key_gives_the_public_key_and_a_jwt_ring_verifies() {
        let vapid = Vapid::new(
            &SecretString::from(chat_store::push::LOCAL_VAPID_PRIVATE_KEY),
            "mailto:ops@example.com",
        )
        .expect("the local key");
        assert_eq!(vapid.public_key(), chat_store::push::LOCAL_VAPID_PUBLIC_KEY, "the backend's half");

        let header = vapid.authorization("https://fcm.googleapis.com", 1_796_630_400);
        let (token, key) = header.strip_prefix("vapid t=").and_then(|h| h.split_once(", k=")).expect("form");
        assert_eq!(key, vapid.public_key());
        let (signed, signature) = token.rsplit_once('.').expect("three parts");
        let claims = signed.split_once('.').expect("header.claims").1;
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("b64")).expect("json");
        assert_eq!(claims["aud"], "https://fcm.googleapis.com");
        assert_eq!(claims["exp"], 1_796_630_400 + 12 * 3600);
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        // Checked by another implementation than the one that signed it.
        let public = URL_SAFE_NO_PAD.decode(key).expect("b64");
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, public)
            .verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(signature).expect("b64"))
            .expect("a valid ES256 signature");
    }

    #[test]
    fn malformed_keys_and_subjects_are_refused() {
        let subject = "mailto:ops@example.com";
        assert!(Vapid::new(&SecretString::from("not base64!"), subject).is_err());
        assert!(Vapid::new(&SecretString::from(URL_SAFE_NO_PAD.encode([0u8; 32])), subject).is_err(), "zero");
        assert!(Vapid::new(&SecretString::from(URL_SAFE_NO_PAD.encode([1u8; 16])), subject).is_err());
        let key = SecretString::from(chat_store::push::LOCAL_VAPID_PRIVATE_KEY);
        assert!(Vapid::new(&key, "ops@example.com").is_err(), "not a URL");
        assert!(format!("{:?}", Vapid::new(&key, subject).expect("ok")).contains("public_key"));
        assert!(
            !format!("{:?}", Vapid::new(&key, subject).expect("ok")).contains("H2W3x4"),
            "no private key"
        );
    }

    #[test]
    fn the_topic_is_a_valid_push_topic() {
        let topic = topic(i64::MAX);
        assert!(topic.len() <= 32 && topic.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{topic}");
    }
}
