//! Web Push subscriptions: what a member's browser hands us (`PushSubscription.toJSON()`), checked once
//! when it arrives (by the backend) and again before anything is sent to it (by the notifier), and the
//! push services a deployment lets the notifier call.
//!
//! A subscription's endpoint is a URL a member chose: without a list of push services, the notifier would
//! POST to any address on their behalf (a server-side request forgery). So an endpoint must be `https`
//! on a host of [`PushHosts`] (the browsers' push services by default); plain `http` only on a loopback
//! host named in the list, for local runs and tests.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chat_settings::env::{ConfigError, Lookup};
use serde::{Deserialize, Serialize};

/// Most browsers one member may subscribe: a new one beyond this replaces the oldest.
pub const MAX_PUSH_SUBSCRIPTIONS: usize = 10;

/// Longest endpoint accepted (push services' are under 500 bytes).
pub const MAX_ENDPOINT_BYTES: usize = 1024;

/// The push services of the browsers people use, by host suffix: Chrome, Edge on Android and Opera
/// (Firebase Cloud Messaging), Firefox (Mozilla's autopush), Safari (Apple), Edge (Windows Push
/// Notification Services).
pub const DEFAULT_PUSH_HOSTS: &str =
    "fcm.googleapis.com,updates.push.services.mozilla.com,push.apple.com,notify.windows.com";

/// The VAPID key pair of `APP_ENV=local` (the backend hands out the public key, the notifier signs with
/// the private one). Published here, so it identifies nobody: never for a deployment, which sets its own
/// (`VAPID_PUBLIC_KEY`, `VAPID_PRIVATE_KEY`). With it, a developer's browser on the internet really
/// receives the local notifier's pushes.
pub const LOCAL_VAPID_PUBLIC_KEY: &str =
    "BAyxfX2yDDVX89iGA6AcB3RABlpEtOAjwrshO0jTHUh3k3T-rdim-K1TnK6e6Ou6pRaIFVe_8ofBbqRgGLqSnGc";
/// The private half of [`LOCAL_VAPID_PUBLIC_KEY`].
pub const LOCAL_VAPID_PRIVATE_KEY: &str = "H2W3x4_TLM8KCe-JwjaxOhNBPMZsXqy8d-Z_QBCk_J0";

/// `VAPID_PUBLIC_KEY` (base64url of the 65-byte uncompressed P-256 point browsers subscribe with): the
/// local key with `APP_ENV=local`, none otherwise when unset (no Web Push).
///
/// # Errors
/// [`ConfigError`] naming the variable when it is not such a key.
pub fn public_key_setting(lookup: &impl Lookup, local: bool) -> Result<Option<String>, ConfigError> {
    match lookup("VAPID_PUBLIC_KEY") {
        Some(key) if decode_public_key(&key).is_none() => Err(ConfigError::invalid(
            "VAPID_PUBLIC_KEY",
            "must be the base64url of a 65-byte uncompressed P-256 public key (87 characters, starting with B)",
        )),
        Some(key) => Ok(Some(key)),
        None => Ok(local.then(|| LOCAL_VAPID_PUBLIC_KEY.to_owned())),
    }
}

/// A base64url uncompressed P-256 point's 65 bytes (the form, not that it is on the curve).
pub fn decode_public_key(text: &str) -> Option<[u8; 65]> {
    let bytes: [u8; 65] = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?.try_into().ok()?;
    (bytes[0] == 4).then_some(bytes)
}

/// What the backend needs of Web Push: the key browsers subscribe with (none: no Web Push) and the push
/// services their endpoints may be on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushSettings {
    /// `VAPID_PUBLIC_KEY` ([`public_key_setting`]).
    pub public_key: Option<String>,
    /// `PUSH_ENDPOINT_HOSTS` ([`PushHosts::from_setting`]).
    pub hosts: PushHosts,
}

impl PushSettings {
    /// From `VAPID_PUBLIC_KEY` and `PUSH_ENDPOINT_HOSTS`.
    ///
    /// # Errors
    /// [`ConfigError`] naming a malformed key.
    pub fn from_lookup(lookup: &impl Lookup, local: bool) -> Result<Self, ConfigError> {
        Ok(Self { public_key: public_key_setting(lookup, local)?, hosts: PushHosts::from_setting(lookup) })
    }
}

/// One browser's subscription, as the Push API gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscription {
    /// The push service's URL for this browser.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "https://fcm.googleapis.com/fcm/send/dXJ...:APA91b...")
    )]
    pub endpoint: String,
    /// The browser's keys.
    pub keys: PushKeys,
    /// When it was added, epoch ms (set by the server).
    #[serde(default)]
    pub created_at: i64,
}

/// The keys payloads are encrypted to (RFC 8291), base64url as the browser gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushKeys {
    /// The browser's P-256 public key, uncompressed (65 bytes).
    pub p256dh: String,
    /// The authentication secret (16 bytes).
    pub auth: String,
}

impl PushKeys {
    /// The public key's 65 bytes and the secret's 16, when both are well formed.
    pub fn decode(&self) -> Option<([u8; 65], [u8; 16])> {
        let auth = URL_SAFE_NO_PAD.decode(self.auth.trim_end_matches('=')).ok()?.try_into().ok()?;
        Some((decode_public_key(&self.p256dh)?, auth))
    }
}

/// The push services the notifier may call: host suffixes (`push.apple.com` allows `web.push.apple.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushHosts(Vec<String>);

impl Default for PushHosts {
    fn default() -> Self {
        Self::parse(DEFAULT_PUSH_HOSTS)
    }
}

impl PushHosts {
    /// From `PUSH_ENDPOINT_HOSTS`: comma-separated host suffixes, blanks ignored, case-insensitive.
    pub fn parse(list: &str) -> Self {
        Self(
            list.split(',')
                .map(|h| h.trim().trim_matches('.').to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        )
    }

    /// From the `PUSH_ENDPOINT_HOSTS` setting, [`DEFAULT_PUSH_HOSTS`] when unset.
    pub fn from_setting(lookup: &impl Lookup) -> Self {
        lookup("PUSH_ENDPOINT_HOSTS").map_or_else(Self::default, |list| Self::parse(&list))
    }

    /// Why `endpoint` may not be sent to, or `None` when it may.
    pub fn refusal(&self, endpoint: &str) -> Option<&'static str> {
        if endpoint.len() > MAX_ENDPOINT_BYTES {
            return Some("the endpoint is too long");
        }
        let Ok(url) = url::Url::parse(endpoint) else { return Some("the endpoint is not a URL") };
        let Some(host) = url.host_str().map(|h| h.trim_start_matches('[').trim_end_matches(']')) else {
            return Some("the endpoint has no host");
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Some("the endpoint may not carry credentials");
        }
        let listed = self.0.iter().any(|suffix| {
            host == suffix || host.strip_suffix(suffix.as_str()).is_some_and(|rest| rest.ends_with('.'))
        });
        let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
        match url.scheme() {
            _ if !listed => Some("the endpoint is not on a push service this deployment allows"),
            "https" => None,
            "http" if loopback => None,
            _ => Some("the endpoint must be https"),
        }
    }
}

impl PushSubscription {
    /// Checks what a browser sent: an allowed endpoint and well-formed keys.
    ///
    /// # Errors
    /// Why it is refused, for the member.
    pub fn validate(&self, hosts: &PushHosts) -> Result<(), &'static str> {
        if let Some(why) = hosts.refusal(&self.endpoint) {
            return Err(why);
        }
        self.keys
            .decode()
            .map(|_| ())
            .ok_or("keys.p256dh must be a 65-byte P-256 key and keys.auth 16 bytes, base64url")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> PushKeys {
        let mut public = [7u8; 65];
        public[0] = 4;
        PushKeys { p256dh: URL_SAFE_NO_PAD.encode(public), auth: URL_SAFE_NO_PAD.encode([1u8; 16]) }
    }

    #[test]
    fn the_browsers_push_services_are_allowed_and_nothing_else() {
        let hosts = PushHosts::default();
        for ok in [
            "https://fcm.googleapis.com/fcm/send/abc:APA91b",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
            "https://web.push.apple.com/QGuQyavXut",
            "https://wns2-par02p.notify.windows.com/w/?token=BQYAAA",
        ] {
            assert_eq!(hosts.refusal(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("http://fcm.googleapis.com/fcm/send/abc", "https"),
            ("https://evilfcm.googleapis.com.attacker.example/x", "push service"),
            ("https://notfcm.googleapis.com/x", "push service"),
            ("https://169.254.169.254/latest/meta-data", "push service"),
            ("https://user:pw@fcm.googleapis.com/x", "credentials"),
            ("fcm.googleapis.com/x", "not a URL"),
            ("http://127.0.0.1:9/push", "push service"),
        ] {
            assert!(hosts.refusal(bad).is_some_and(|r| r.contains(why)), "{bad}: {:?}", hosts.refusal(bad));
        }
        assert!(hosts.refusal(&format!("https://fcm.googleapis.com/{}", "a".repeat(1100))).is_some());
    }

    #[test]
    fn plain_http_only_on_a_listed_loopback_host() {
        let hosts = PushHosts::parse(" 127.0.0.1, ,localhost ");
        assert_eq!(hosts.refusal("http://127.0.0.1:4000/push/1"), None);
        assert_eq!(hosts.refusal("http://localhost:4000/push/1"), None);
        let lan = PushHosts::parse("push.internal");
        assert!(lan.refusal("http://push.internal/x").is_some_and(|r| r.contains("https")));
        assert_eq!(PushHosts::from_setting(&|_: &str| None), PushHosts::default());
    }

    #[test]
    fn the_public_key_setting_is_a_point_and_local_runs_have_one() {
        let unset = |_: &str| None;
        assert_eq!(public_key_setting(&unset, false).expect("unset"), None);
        assert_eq!(public_key_setting(&unset, true).expect("local").as_deref(), Some(LOCAL_VAPID_PUBLIC_KEY));
        let short = |_: &str| Some("BAyxfX2y".to_owned());
        assert!(public_key_setting(&short, false).is_err());
        let set = |_: &str| Some(LOCAL_VAPID_PUBLIC_KEY.to_owned());
        assert!(public_key_setting(&set, false).expect("a key").is_some());
    }

    #[test]
    fn keys_must_be_a_p256_point_and_a_16_byte_secret() {
        let hosts = PushHosts::default();
        let endpoint = "https://fcm.googleapis.com/fcm/send/x".to_owned();
        let good = PushSubscription { endpoint: endpoint.clone(), keys: keys(), created_at: 0 };
        assert_eq!(good.validate(&hosts), Ok(()));
        let padded = PushKeys { auth: format!("{}==", keys().auth), ..keys() };
        assert!(padded.decode().is_some(), "padding some browsers add is accepted");
        let short = PushKeys { auth: URL_SAFE_NO_PAD.encode([1u8; 8]), ..keys() };
        let compressed = PushKeys { p256dh: URL_SAFE_NO_PAD.encode([2u8; 65]), ..keys() };
        for keys in [short, compressed, PushKeys { p256dh: "not base64!".into(), ..keys() }] {
            let bad = PushSubscription { endpoint: endpoint.clone(), keys, created_at: 0 };
            assert!(bad.validate(&hosts).is_err());
        }
    }
}
