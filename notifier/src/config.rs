//! The notifier's settings, read once from the environment (`docs/configuration.md` lists them). Secrets
//! ([`SECRET_SETTINGS`]) may be given by reference, as the backend's are.

use std::time::Duration;

use chat_settings::env::{ConfigError, Lookup, parse, process_env};
use chat_store::StoreSettings;
use secrecy::SecretString;

/// The link key with `APP_ENV=local`, the same as the local backend's.
pub use chat_store::notifications::unsubscribe::LOCAL_KEY as LOCAL_LINK_SECRET;

/// The settings that are secrets (see `chat_settings::secrets::resolve_all`).
pub const SECRET_SETTINGS: [&str; 3] = ["NOTIFY_LINK_SECRET", "VAPID_PRIVATE_KEY", "DATABASE_URL"];

/// How long a push service keeps a notification for an offline browser unless `PUSH_TTL_SECONDS` says.
pub const DEFAULT_PUSH_TTL: Duration = Duration::from_secs(24 * 3600);

/// The VAPID contact of `APP_ENV=local`.
const LOCAL_VAPID_SUBJECT: &str = "mailto:chat@example.com";

/// The longest a push service keeps a notification for an offline browser (FCM's limit, 28 days).
pub const MAX_PUSH_TTL: Duration = Duration::from_secs(28 * 24 * 3600);

/// SQS's longest delay: a wait longer than this is taken in hops.
pub const MAX_QUEUE_DELAY: Duration = Duration::from_secs(900);

/// Everything the notifier needs.
#[derive(Debug, Clone)]
pub struct NotifierSettings {
    /// `APP_ENV=local`: local defaults, and each email printed.
    pub local: bool,
    /// `LOG_FORMAT=json` (default outside `APP_ENV=local`).
    pub json_logs: bool,
    /// The chat store, read exactly as the backend reads it.
    pub store: StoreSettings,
    /// `NOTIFY_QUEUE_URL`: the queue it reads, and writes to in order to wait.
    pub queue_url: String,
    /// `SQS_ENDPOINT`: a local SQS (moto).
    pub sqs_endpoint: Option<String>,
    /// `NOTIFY_DELAY_SECONDS` (default 180): how long a member with a live connection has to read a message
    /// before being told. A member with none is told at once.
    pub delay: Duration,
    /// `NOTIFY_MIN_INTERVAL_SECONDS` (default 900): the quiet period, at most one notification per booking
    /// and member within it.
    pub min_interval: Duration,
    /// The email channel; off without `MAIL_FROM`.
    pub email: Option<EmailSettings>,
    /// The Web Push channel; off without `VAPID_PRIVATE_KEY` (outside `APP_ENV=local`).
    pub push: Option<PushSettings>,
    /// `APP_BOOKING_URL`: the marketplace's page of a booking's chat, `{booking_id}` replaced.
    pub booking_url: String,
    /// `PUBLIC_API_URL`: the backend's public base URL, where unsubscribe links point.
    pub public_api_url: String,
    /// `NOTIFY_LINK_SECRET`: the key that signs unsubscribe links (the backend checks them with it).
    pub link_secret: SecretString,
    /// `AWS_TIMEOUT_MS` (default 3000): the budget of one AWS call.
    pub aws_timeout: Duration,
    /// `METRICS_NAMESPACE` (default `BookingChat`) and `STAGE` (default `default`) of the metrics.
    pub metrics: (String, String),
}

/// How email goes out.
#[derive(Debug, Clone)]
pub struct EmailSettings {
    /// `MAIL_FROM`: the sender, an address (or `Name <address>`) of a verified SES identity.
    pub from: lettre::message::Mailbox,
    /// `SES_ENDPOINT`: a local SES (moto).
    pub ses_endpoint: Option<String>,
    /// `SES_CONFIGURATION_SET`: where SES reports sends, bounces and complaints.
    pub configuration_set: Option<String>,
    /// `MAIL_DIR`: write each email as an `.eml` file there instead of sending it.
    pub dir: Option<std::path::PathBuf>,
}

/// How pushes go out.
#[derive(Debug, Clone)]
pub struct PushSettings {
    /// `VAPID_PRIVATE_KEY` (base64url of the 32-byte P-256 private key; the backend's `VAPID_PUBLIC_KEY`
    /// is its public half) and `VAPID_SUBJECT` (`mailto:` or `https:`, for push services to write to).
    pub vapid: crate::push::Vapid,
    /// `PUSH_TTL_SECONDS` (default 86400): how long a push service keeps a notification for a browser that
    /// is offline; at most [`MAX_PUSH_TTL`].
    pub ttl: Duration,
    /// `PUSH_ENDPOINT_HOSTS`: the push services pushes may go to (the backend's list).
    pub hosts: chat_store::push::PushHosts,
}

impl PushSettings {
    /// The local channel: the local key pair (the local backend's `VAPID_PUBLIC_KEY`), a day's TTL, and
    /// these push services.
    pub fn local(hosts: chat_store::push::PushHosts) -> Self {
        let key = SecretString::from(chat_store::push::LOCAL_VAPID_PRIVATE_KEY);
        let vapid = crate::push::Vapid::new(&key, LOCAL_VAPID_SUBJECT)
            .unwrap_or_else(|_| unreachable!("the local key pair is valid"));
        Self { vapid, ttl: DEFAULT_PUSH_TTL, hosts }
    }

    /// The channel's settings, `None` when it is off: with `APP_ENV=local` the local key pair, else only
    /// with `VAPID_PRIVATE_KEY` set.
    fn from_lookup(lookup: &impl Lookup, local: bool) -> Result<Option<Self>, ConfigError> {
        let hosts = chat_store::push::PushHosts::from_setting(lookup);
        let key = match lookup("VAPID_PRIVATE_KEY") {
            Some(key) => SecretString::from(key),
            None if local => return Ok(Some(Self::local(hosts))),
            None => return Ok(None),
        };
        let subject = match lookup("VAPID_SUBJECT") {
            Some(subject) => subject,
            None if local => LOCAL_VAPID_SUBJECT.to_owned(),
            None => return Err(ConfigError::invalid("VAPID_SUBJECT", "required with VAPID_PRIVATE_KEY")),
        };
        let vapid = crate::push::Vapid::new(&key, &subject).map_err(|why| {
            let key = if why.starts_with("VAPID_SUBJECT") { "VAPID_SUBJECT" } else { "VAPID_PRIVATE_KEY" };
            ConfigError::invalid(key, why)
        })?;
        // The backend hands browsers VAPID_PUBLIC_KEY: given here too, a key pair that does not match
        // stops the notifier at start, not at the first push (which every push service would refuse).
        if lookup("VAPID_PUBLIC_KEY").is_some_and(|public| public.trim_end_matches('=') != vapid.public_key())
        {
            return Err(ConfigError::invalid(
                "VAPID_PUBLIC_KEY",
                "is not the public half of VAPID_PRIVATE_KEY: browsers would subscribe with a key pushes are not signed with",
            ));
        }
        let ttl = Duration::from_secs(parse(lookup, "PUSH_TTL_SECONDS", DEFAULT_PUSH_TTL.as_secs())?);
        if ttl > MAX_PUSH_TTL {
            return Err(ConfigError::invalid("PUSH_TTL_SECONDS", "at most 2419200 (28 days)"));
        }
        Ok(Some(Self { vapid, ttl, hosts }))
    }
}

impl NotifierSettings {
    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the missing or malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(process_env)
    }

    /// Reads the settings through `lookup`.
    ///
    /// # Errors
    /// As [`NotifierSettings::from_env`].
    pub fn from_lookup(lookup: impl Lookup) -> Result<Self, ConfigError> {
        let local = lookup("APP_ENV").as_deref() == Some("local");
        let required = |key: &str| lookup(key).ok_or_else(|| ConfigError::invalid(key, "required"));
        let aws_timeout = Duration::from_millis(parse(&lookup, "AWS_TIMEOUT_MS", 3_000)?);
        let seconds = |key: &str, default: u64| parse(&lookup, key, default).map(Duration::from_secs);
        let email = match lookup("MAIL_FROM") {
            Some(from) => Some(EmailSettings {
                from: from
                    .parse()
                    .map_err(|e| ConfigError::invalid("MAIL_FROM", format!("not an address: {e}")))?,
                ses_endpoint: lookup("SES_ENDPOINT"),
                configuration_set: lookup("SES_CONFIGURATION_SET"),
                dir: lookup("MAIL_DIR").map(Into::into),
            }),
            None => None,
        };
        let booking_url = required("APP_BOOKING_URL").or_else(|e| {
            if local { Ok("http://127.0.0.1:8000/?booking_id={booking_id}".into()) } else { Err(e) }
        })?;
        if !booking_url.contains("{booking_id}") {
            return Err(ConfigError::invalid("APP_BOOKING_URL", "must contain {booking_id}"));
        }
        let public_api_url = required("PUBLIC_API_URL")
            .or_else(|e| if local { Ok("http://127.0.0.1:8000".into()) } else { Err(e) })?;
        let link_secret = chat_store::notifications::unsubscribe::key_setting(&lookup, local)?
            .ok_or_else(|| ConfigError::invalid("NOTIFY_LINK_SECRET", "required outside APP_ENV=local"))?;
        let delay = seconds("NOTIFY_DELAY_SECONDS", 180)?;
        let min_interval = seconds("NOTIFY_MIN_INTERVAL_SECONDS", 900)?;
        Ok(Self {
            local,
            json_logs: chat_settings::env::json_logs(&lookup, local)?,
            store: StoreSettings::from_lookup(&lookup, local, aws_timeout)?,
            queue_url: required("NOTIFY_QUEUE_URL")?,
            sqs_endpoint: lookup("SQS_ENDPOINT"),
            delay,
            min_interval,
            email,
            push: PushSettings::from_lookup(&lookup, local)?,
            booking_url,
            public_api_url: public_api_url.trim_end_matches('/').to_owned(),
            link_secret,
            aws_timeout,
            metrics: (
                lookup("METRICS_NAMESPACE").unwrap_or_else(|| "BookingChat".into()),
                lookup("STAGE").unwrap_or_else(|| "default".into()),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<NotifierSettings, ConfigError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        NotifierSettings::from_lookup(|key| map.get(key).map(|v| (*v).to_owned()))
    }

    #[test]
    fn local_defaults_need_only_the_queue() {
        let s = settings(&[("APP_ENV", "local"), ("NOTIFY_QUEUE_URL", "http://q")]).expect("defaults");
        assert_eq!((s.delay.as_secs(), s.min_interval.as_secs()), (180, 900));
        assert!(s.email.is_none(), "email is off without MAIL_FROM");
        let push = s.push.expect("push is on locally, with the local key pair");
        assert_eq!(push.vapid.public_key(), chat_store::push::LOCAL_VAPID_PUBLIC_KEY);
        assert_eq!(push.ttl.as_secs(), 86_400);
        assert_eq!(s.link_secret.expose_secret(), LOCAL_LINK_SECRET);
        assert!(s.booking_url.contains("{booking_id}"));
    }

    #[test]
    fn outside_local_the_links_and_their_key_are_required() {
        let base =
            [("APP_ENV", "prod"), ("NOTIFY_QUEUE_URL", "q"), ("CHAT_STORE", "dynamodb"), ("CHAT_TABLE", "t")];
        let err = settings(&base).expect_err("no booking url").to_string();
        assert!(err.contains("APP_BOOKING_URL"), "{err}");
        let mut pairs = base.to_vec();
        pairs.extend([
            ("APP_BOOKING_URL", "https://m.example/b/{booking_id}"),
            ("PUBLIC_API_URL", "https://api/"),
        ]);
        let err = settings(&pairs).expect_err("no key").to_string();
        assert!(err.contains("NOTIFY_LINK_SECRET"), "{err}");
        let short = [pairs.clone(), vec![("NOTIFY_LINK_SECRET", "short")]].concat();
        assert!(settings(&short).expect_err("short key").to_string().contains("16 bytes"));
        pairs.extend([
            ("NOTIFY_LINK_SECRET", "a key of 16 bytes or more"),
            ("MAIL_FROM", "Booking chat <chat@example.com>"),
        ]);
        let s = settings(&pairs).expect("complete");
        assert!(s.push.is_none(), "no Web Push without a key outside APP_ENV=local");
        let key = ("VAPID_PRIVATE_KEY", chat_store::push::LOCAL_VAPID_PRIVATE_KEY);
        let err = settings(&[pairs.clone(), vec![key]].concat()).expect_err("no subject").to_string();
        assert!(err.contains("VAPID_SUBJECT"), "{err}");
        let subject = ("VAPID_SUBJECT", "mailto:ops@example.com");
        assert!(settings(&[pairs.clone(), vec![key, subject]].concat()).expect("push").push.is_some());
        let bad_key = ("VAPID_PRIVATE_KEY", "c2hvcnQ");
        let err =
            settings(&[pairs.clone(), vec![bad_key, subject]].concat()).expect_err("bad key").to_string();
        assert!(err.contains("VAPID_PRIVATE_KEY") && err.contains("32-byte"), "{err}");
        let other_half = (
            "VAPID_PUBLIC_KEY",
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
        );
        let err = settings(&[pairs.clone(), vec![key, subject, other_half]].concat())
            .expect_err("mismatch")
            .to_string();
        assert!(err.contains("VAPID_PUBLIC_KEY"), "{err}");
        let own_half = ("VAPID_PUBLIC_KEY", chat_store::push::LOCAL_VAPID_PUBLIC_KEY);
        assert!(settings(&[pairs.clone(), vec![key, subject, own_half]].concat()).is_ok());
        let long = ("PUSH_TTL_SECONDS", "2419201");
        let err = settings(&[pairs.clone(), vec![key, subject, long]].concat()).expect_err("ttl").to_string();
        assert!(err.contains("PUSH_TTL_SECONDS"), "{err}");
        assert_eq!(s.public_api_url, "https://api");
        assert_eq!(s.email.expect("email on").from.email.to_string(), "chat@example.com");
        let err =
            settings(&[("APP_ENV", "local"), ("NOTIFY_QUEUE_URL", "q"), ("APP_BOOKING_URL", "https://m/b")])
                .expect_err("no placeholder")
                .to_string();
        assert!(err.contains("{booking_id}"), "{err}");
        let err =
            settings(&[("APP_ENV", "local"), ("NOTIFY_QUEUE_URL", "q"), ("MAIL_FROM", "not an address")])
                .expect_err("bad sender")
                .to_string();
        assert!(err.contains("MAIL_FROM"), "{err}");
    }
}
