//! Typed configuration, read once from the environment at start.
//!
//! [`Settings::from_env`] is the only place that reads environment variables. It fails fast and names every
//! missing or malformed key. `APP_ENV=local` gives the local defaults (JWT secret
//! `local-dev-secret`, proxy secret `local-proxy-secret`, SQLite under `.data/`, demo data); any other
//! environment refuses to start without `PROXY_SECRET`, and without `JWT_SECRET` unless tokens come from an
//! identity provider (`JWT_JWKS_URL`, which then requires `JWT_ISSUER` and `JWT_AUDIENCE`). Secrets are
//! [`SecretString`]s: they never appear in `Debug` output or logs.

use std::net::SocketAddr;
use std::time::Duration;

pub use chat_settings::ConfigError;
use chat_settings::env::{Lookup, parse, parse_bool, process_env};
use secrecy::SecretString;

pub use chat_store::StoreSettings;

/// The JWT secret used when `APP_ENV=local` and none is configured.
pub const LOCAL_JWT_SECRET: &str = "local-dev-secret";
/// The proxy secret used when `APP_ENV=local` and none is configured.
pub const LOCAL_PROXY_SECRET: &str = "local-proxy-secret";
/// The service API's credential with `APP_ENV=local` when `SERVICE_TOKEN` is not set.
pub const LOCAL_SERVICE_TOKEN: &str = "local-service-token";

/// The database used when `DATABASE_URL` is not set.
pub use chat_store::DEFAULT_DATABASE_URL;
/// Where the chat's events go with `APP_ENV=local` and no `EVENT_BUS_NAME` or `EVENTS_FILE`.
pub const DEFAULT_EVENTS_FILE: &str = ".data/events.jsonl";

/// Everything the backend needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether this is a developer's machine (`APP_ENV=local`), which enables defaults and demo helpers.
    pub local: bool,
    /// Where the HTTP server listens.
    pub bind_addr: SocketAddr,
    /// Where the chat is stored.
    pub store: StoreSettings,
    /// The marketplace's credential for the service API (`SERVICE_TOKEN`); the routes refuse everything
    /// without one.
    pub service_token: Option<SecretString>,
    /// How tokens are checked.
    pub jwt: JwtSettings,
    /// Shared with the Lambda; required on the proxy routes.
    pub proxy_secret: SecretString,
    /// The key of the notification emails' unsubscribe links (`NOTIFY_LINK_SECRET`, the notifier's too);
    /// without one the unsubscribe route refuses every link.
    pub notify_link_secret: Option<SecretString>,
    /// Web Push: the key browsers subscribe with (`VAPID_PUBLIC_KEY`; none, no Web Push) and the push
    /// services their endpoints may be on (`PUSH_ENDPOINT_HOSTS`).
    pub web_push: chat_store::push::PushSettings,
    /// Limits applied to chat traffic.
    pub limits: ChatLimits,
    /// The deployment's pre-send hook (`PRESEND_HOOK_*`), if it has one.
    pub presend: Option<crate::presend::PreSendSettings>,
    /// Members' files (`FILE_STORE`, `ATTACHMENTS_*`); `None`: attachments are off.
    pub files: Option<FileSettings>,
    /// Whether to insert the demo bookings at start.
    pub seed_demo_data: bool,
    /// JSON log lines instead of human-readable ones.
    pub json_logs: bool,
    /// Where the local demo page connects; the direct WebSocket when unset.
    pub demo_ws_url: Option<String>,
    /// With `APP_ENV=local`, the chat widget package (`STATIC_DIR`, default `web`): its demo page is served
    /// at `/` and its build at `/dist/`, from disk, so a rebuilt widget needs no backend restart; the API
    /// reference pages `make api-docs` writes into its `api-docs/` are served at `/docs`.
    pub static_dir: Option<std::path::PathBuf>,
    /// Push booking status changes to API Gateway connections too (through the Lambda's fan-out).
    pub api_gateway_push: Option<ApiGatewayPush>,
    /// Where the chat's events for the app are published ([`crate::events`]).
    pub events: EventSettings,
}

/// Where the chat's events for the app go (`chat_wire::events`): at most one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventSettings {
    /// Neither `EVENT_BUS_NAME` nor `EVENTS_FILE` is set (and not `APP_ENV=local`): nothing is published.
    Off,
    /// `EVENT_BUS_NAME`: `PutEvents` on that Amazon EventBridge bus.
    EventBridge {
        /// The bus's name or ARN.
        bus: String,
        /// `EVENTBRIDGE_ENDPOINT`: a local EventBridge (moto), reached with made-up credentials.
        endpoint: Option<String>,
        /// `AWS_TIMEOUT_MS`: the budget of one call.
        aws_timeout: Duration,
        /// `METRICS_NAMESPACE` of the `EventsPublished` and `EventsFailed` metrics (embedded metric
        /// format, as the fan-out's).
        metrics_namespace: String,
        /// Their `Stage`: `STAGE`, else the push's stage, else `default`.
        stage: String,
        /// `EVENTS_FILE` beside `EVENT_BUS_NAME`: each event appended there too (`make dev`, whose bus
        /// feeds the local notifier, keeps the developer's file).
        copy_to_file: Option<std::path::PathBuf>,
    },
    /// `EVENTS_FILE`: one JSON line per event appended to that file ([`DEFAULT_EVENTS_FILE`] with
    /// `APP_ENV=local`).
    File(std::path::PathBuf),
}

/// Where the backend finds API Gateway's connections to push to.
#[derive(Debug, Clone)]
pub struct ApiGatewayPush {
    /// The Lambda's DynamoDB table of connection records.
    pub connections_table: String,
    /// The Management API endpoint, `https://{api_id}.execute-api.{region}.amazonaws.com/{stage}`.
    pub management_endpoint: String,
    /// `AWS_TIMEOUT_MS`: the budget of one AWS call.
    pub aws_timeout: Duration,
    /// `POST_ATTEMPTS`: attempts per connection for throttled or failed posts (as the proxy's).
    pub post_attempts: u32,
    /// `FANOUT_CONCURRENCY`: posts in flight at once (as the proxy's).
    pub fanout_concurrency: usize,
    /// `METRICS_NAMESPACE`: where the fan-out's embedded-metric-format lines go, with the dimension
    /// `Stage`, so the same alarms watch both functions' deliveries.
    pub metrics_namespace: String,
    /// `STAGE`: the API Gateway stage the pushes go to (the metrics' `Stage`, as the proxy's are the
    /// event's stage); by default the last segment of the Management API endpoint.
    pub stage: String,
}

impl ApiGatewayPush {
    /// The API Gateway stage the pushes go to.
    pub fn stage(&self) -> &str {
        &self.stage
    }
}

/// How JSON Web Tokens are verified (and, locally, minted).
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// HS256 key (`JWT_SECRET`). Without one, HS256 tokens are refused and none can be minted: only an
    /// identity provider's tokens ([`JwtSettings::jwks`]) are accepted.
    pub secret: Option<SecretString>,
    /// Expected `iss`, checked when set (always set with [`JwtSettings::jwks`]).
    pub issuer: Option<String>,
    /// Expected `aud`, checked when set (always set with [`JwtSettings::jwks`]).
    pub audience: Option<String>,
    /// Clock skew tolerated on `exp`.
    pub leeway: Duration,
    /// An identity provider's signing keys (`JWT_JWKS_URL`): RS256 and ES256 tokens are accepted only with
    /// them.
    pub jwks: Option<JwksSettings>,
}

/// Where an identity provider (Cognito, Auth0, ...) publishes the public keys of its tokens, and how they
/// are fetched.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    /// The JWKS document's URL (`JWT_JWKS_URL`): `https://`, or `http://` to a loopback address.
    pub url: String,
    /// The budget of one fetch, connection included.
    pub fetch_timeout: Duration,
    /// The least time between two fetches: a token with an unknown `kid` triggers a fetch, and a flood of
    /// forged ones must not become a flood of requests to the identity provider.
    pub min_refresh_interval: Duration,
    /// How long fetched keys are used without asking again, so that a key the provider withdrew stops
    /// being accepted.
    pub max_age: Duration,
}

/// [`JwksSettings::fetch_timeout`] of a configured JWKS URL.
pub const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// [`JwksSettings::min_refresh_interval`] of a configured JWKS URL.
pub const JWKS_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// [`JwksSettings::max_age`] of a configured JWKS URL.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(10 * 60);

/// Limits on what clients may send.
#[derive(Debug, Clone)]
pub struct ChatLimits {
    /// Longest message body, in characters.
    pub max_message_chars: usize,
    /// Largest HTTP request body, in bytes (413 above it).
    pub max_body_bytes: usize,
    /// Largest frame on the direct WebSocket, in bytes (API Gateway's is 32 KB).
    pub max_ws_frame_bytes: usize,
    /// Client actions per user per calendar minute, across every instance ([`crate::rate_limit`]).
    pub rate_per_minute: u32,
    /// Client actions per user per second (the burst), across every instance.
    pub rate_burst: u32,
    /// Default (and largest) number of messages in one history page.
    pub history_page_size: u32,
    /// Largest history page in bytes of JSON: a `history` frame must fit API Gateway's 128 KB message.
    pub history_max_bytes: usize,
    /// How long after sending a user may still edit or delete a message (`CHAT_EDIT_WINDOW_SECONDS`);
    /// zero turns editing and deleting off.
    pub edit_window: Duration,
    /// Which contact details are hidden from messages, and while the booking is in which statuses.
    pub contact_masking: ContactMasking,
    /// How long the chat of a cancelled or completed booking stays writable
    /// (`CHAT_READ_ONLY_AFTER_SECONDS`, default 7 days; zero: read-only at once). History stays readable.
    pub read_only_after: Duration,
    /// How long the chat of an ended booking is kept, counted from when it ended (or its chat was last
    /// reopened): then the retention job deletes its messages and files (`CHAT_RETENTION_DAYS`; unset or
    /// `0`: kept until erased; 30 days with `APP_ENV=local`). Longer than `read_only_after`, so a chat is never deleted while writable.
    pub retention: Option<Duration>,
}

/// Contact details (phone numbers, email addresses, links, messaging handles) are hidden from a message
/// before it is stored while its booking is in one of `statuses` (`CONTACT_MASK_STATUSES`, default
/// `requested`; `none`: never, since an empty variable is an unset one), for the kinds of `kinds` (`CONTACT_MASK_KINDS`, default all four).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactMasking {
    /// The statuses during which details are hidden.
    pub statuses: Vec<crate::domain::BookingStatus>,
    /// The kinds hidden.
    pub kinds: Vec<chat_wire::ContactKind>,
    /// The countries whose national phone numbers are recognised (`CONTACT_PHONE_REGIONS`, ISO 3166
    /// codes, default the marketplace's seven); international numbers are recognised from anywhere.
    pub phone_regions: chat_store::contact::PhoneRegions,
}

impl Default for ContactMasking {
    fn default() -> Self {
        Self {
            statuses: vec![crate::domain::BookingStatus::Requested],
            kinds: chat_wire::ContactKind::ALL.to_vec(),
            phone_regions: chat_store::contact::PhoneRegions::default(),
        }
    }
}

impl ContactMasking {
    /// From `CONTACT_MASK_STATUSES` and `CONTACT_MASK_KINDS`.
    fn from_lookup(lookup: &impl Lookup) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let statuses = match lookup("CONTACT_MASK_STATUSES") {
            None => defaults.statuses,
            Some(list) if list.trim().eq_ignore_ascii_case("none") => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    crate::domain::BookingStatus::parse(s).ok_or_else(|| {
                        ConfigError::invalid(
                            "CONTACT_MASK_STATUSES",
                            format!("{s:?} is not a booking status"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        let kinds = match lookup("CONTACT_MASK_KINDS") {
            None => defaults.kinds,
            Some(list) => chat_wire::ContactKind::parse_list(&list)
                .map_err(|e| ConfigError::invalid("CONTACT_MASK_KINDS", e))?,
        };
        let phone_regions = match lookup("CONTACT_PHONE_REGIONS") {
            None => defaults.phone_regions,
            Some(list) => {
                let codes: Vec<&str> = list.split(',').map(str::trim).filter(|c| !c.is_empty()).collect();
                chat_store::contact::PhoneRegions::new(&codes)
                    .map_err(|e| ConfigError::invalid("CONTACT_PHONE_REGIONS", e))?
            }
        };
        Ok(Self { statuses, kinds, phone_regions })
    }
}

/// API Gateway's limit on one WebSocket message (and so on one frame the Management API posts).
pub const API_GATEWAY_MAX_MESSAGE_BYTES: usize = 128 * 1024;

/// The longest `MAX_MESSAGE_LENGTH` allowed: at four bytes per character at most, a `message` frame of
/// this many characters still fits API Gateway's message limit.
pub const MAX_MESSAGE_CHARS_LIMIT: usize = 30_000;

impl Default for ChatLimits {
    fn default() -> Self {
        Self {
            max_message_chars: 4000,
            max_body_bytes: 64 * 1024,
            max_ws_frame_bytes: 32 * 1024,
            rate_per_minute: 120,
            rate_burst: 30,
            history_page_size: 50,
            history_max_bytes: 96 * 1024,
            edit_window: Duration::from_secs(15 * 60),
            read_only_after: Duration::from_secs(7 * 24 * 3600),
            contact_masking: ContactMasking::default(),
            retention: None,
        }
    }
}

/// The settings that are secrets: each may be given as its value (`NAME`), or by reference
/// (`NAME_SSM_PARAMETER`, `NAME_SECRETS_MANAGER_ID`), read once at start by [`resolve_secrets`].
pub const SECRET_SETTINGS: [&str; 5] =
    ["JWT_SECRET", "PROXY_SECRET", "SERVICE_TOKEN", "DATABASE_URL", "NOTIFY_LINK_SECRET"];

/// `lookup`, with every secret of [`SECRET_SETTINGS`] given by reference fetched once (SSM Parameter Store
/// or Secrets Manager) and served as if given by value. The Lambda entry point reads its configuration
/// through this.
///
/// # Errors
/// [`ConfigError`] when a secret is given twice or cannot be read (naming where it was looked for).
pub async fn resolve_secrets(
    lookup: impl Lookup,
    sdk_config: &aws_config::SdkConfig,
) -> Result<impl Lookup, ConfigError> {
    chat_settings::secrets::resolve_all(lookup, &SECRET_SETTINGS, sdk_config).await
}

impl Settings {
    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming every missing key, or the first malformed one.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(process_env)
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    ///
    /// # Errors
    /// As [`Settings::from_env`].
    pub fn from_lookup(lookup: impl Lookup) -> Result<Self, ConfigError> {
        let local = lookup("APP_ENV").as_deref() == Some("local");
        let jwks = jwks_settings(&lookup)?;
        let mut missing = Vec::new();
        // With an identity provider, the HS256 secret is optional (HS256 tokens are then refused).
        let jwt_secret = match lookup("JWT_SECRET") {
            Some(value) => Some(SecretString::from(value)),
            None if local => Some(SecretString::from(LOCAL_JWT_SECRET.to_owned())),
            None if jwks.is_some() => None,
            None => {
                missing.push("JWT_SECRET".to_owned());
                None
            }
        };
        let proxy_secret = match lookup("PROXY_SECRET") {
            Some(value) => SecretString::from(value),
            None if local => SecretString::from(LOCAL_PROXY_SECRET.to_owned()),
            None => {
                missing.push("PROXY_SECRET".to_owned());
                SecretString::from(String::new())
            }
        };
        if !missing.is_empty() {
            return Err(ConfigError::Missing(missing));
        }
        let (issuer, audience) = (lookup("JWT_ISSUER"), lookup("JWT_AUDIENCE"));
        if jwks.is_some() {
            // An identity provider signs tokens for many applications: only its issuer and our audience
            // make a token ours.
            for (key, value) in [("JWT_ISSUER", &issuer), ("JWT_AUDIENCE", &audience)] {
                if value.is_none() {
                    return Err(ConfigError::invalid(
                        key,
                        "required with JWT_JWKS_URL: set JWT_ISSUER to the identity provider's issuer and \
                         JWT_AUDIENCE to this application's audience (the client id, or the API identifier)",
                    ));
                }
            }
        }

        let defaults = ChatLimits::default();
        let edit_window_seconds = parse(&lookup, "CHAT_EDIT_WINDOW_SECONDS", defaults.edit_window.as_secs())?;
        let limits = ChatLimits {
            max_message_chars: parse(&lookup, "MAX_MESSAGE_LENGTH", defaults.max_message_chars)?,
            max_body_bytes: parse(&lookup, "MAX_BODY_BYTES", defaults.max_body_bytes)?,
            max_ws_frame_bytes: parse(&lookup, "WS_MAX_FRAME_BYTES", defaults.max_ws_frame_bytes)?,
            rate_per_minute: parse(&lookup, "RATE_LIMIT_PER_MINUTE", defaults.rate_per_minute)?,
            rate_burst: parse(&lookup, "RATE_LIMIT_BURST", defaults.rate_burst)?,
            history_page_size: parse(&lookup, "HISTORY_PAGE_SIZE", defaults.history_page_size)?,
            history_max_bytes: parse(&lookup, "HISTORY_MAX_BYTES", defaults.history_max_bytes)?,
            edit_window: Duration::from_secs(edit_window_seconds),
            read_only_after: Duration::from_secs(parse(
                &lookup,
                "CHAT_READ_ONLY_AFTER_SECONDS",
                defaults.read_only_after.as_secs(),
            )?),
            contact_masking: ContactMasking::from_lookup(&lookup)?,
            // Locally, what `envs/dev` deploys: a month, so `make dev` runs the job as AWS would.
            retention: match parse::<u64>(&lookup, "CHAT_RETENTION_DAYS", if local { 30 } else { 0 })? {
                0 => None,
                days => Some(Duration::from_secs(days.saturating_mul(24 * 3600))),
            },
        };
        if limits.retention.is_some_and(|retention| retention <= limits.read_only_after) {
            return Err(ConfigError::invalid(
                "CHAT_RETENTION_DAYS",
                "must be longer than CHAT_READ_ONLY_AFTER_SECONDS: a chat is deleted only once it is read-only",
            ));
        }
        if limits.max_message_chars > MAX_MESSAGE_CHARS_LIMIT {
            return Err(ConfigError::Invalid {
                key: "MAX_MESSAGE_LENGTH".into(),
                reason: format!(
                    "must be at most {MAX_MESSAGE_CHARS_LIMIT}, so that a message frame always fits API Gateway's 128 KB"
                ),
            });
        }
        if !(8 * 1024..=API_GATEWAY_MAX_MESSAGE_BYTES).contains(&limits.history_max_bytes) {
            return Err(ConfigError::Invalid {
                key: "HISTORY_MAX_BYTES".into(),
                reason: format!(
                    "must be between 8192 and {API_GATEWAY_MAX_MESSAGE_BYTES} (API Gateway's message limit)"
                ),
            });
        }
        for (key, value) in [
            ("MAX_MESSAGE_LENGTH", limits.max_message_chars),
            ("MAX_BODY_BYTES", limits.max_body_bytes),
            ("WS_MAX_FRAME_BYTES", limits.max_ws_frame_bytes),
            ("RATE_LIMIT_PER_MINUTE", limits.rate_per_minute as usize),
            ("RATE_LIMIT_BURST", limits.rate_burst as usize),
            ("HISTORY_PAGE_SIZE", limits.history_page_size as usize),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(key, "must be greater than zero"));
            }
        }

        let aws_timeout = Duration::from_millis(parse(&lookup, "AWS_TIMEOUT_MS", 3_000)?);
        let store = StoreSettings::from_lookup(&lookup, local, aws_timeout)?;

        let api_gateway_push = match (lookup("CONNECTIONS_TABLE"), lookup("MANAGEMENT_ENDPOINT")) {
            (Some(connections_table), Some(management_endpoint)) => Some(ApiGatewayPush {
                connections_table,
                stage: lookup("STAGE").unwrap_or_else(|| {
                    management_endpoint
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or("unknown")
                        .to_owned()
                }),
                management_endpoint: management_endpoint.trim_end_matches('/').to_owned(),
                aws_timeout,
                post_attempts: parse(&lookup, "POST_ATTEMPTS", 3)?,
                fanout_concurrency: parse(&lookup, "FANOUT_CONCURRENCY", 32)?,
                metrics_namespace: lookup("METRICS_NAMESPACE").unwrap_or_else(|| "BookingChat".into()),
            }),
            (None, None) => None,
            (table, _) => {
                return Err(ConfigError::Invalid {
                    key: if table.is_some() { "MANAGEMENT_ENDPOINT" } else { "CONNECTIONS_TABLE" }.into(),
                    reason: "CONNECTIONS_TABLE and MANAGEMENT_ENDPOINT go together".into(),
                });
            }
        };

        let events = match (lookup("EVENT_BUS_NAME"), lookup("EVENTS_FILE")) {
            (None, None) if local => EventSettings::File(DEFAULT_EVENTS_FILE.into()),
            (None, None) => EventSettings::Off,
            (Some(bus), file) => EventSettings::EventBridge {
                bus,
                endpoint: lookup("EVENTBRIDGE_ENDPOINT"),
                aws_timeout,
                metrics_namespace: lookup("METRICS_NAMESPACE").unwrap_or_else(|| "BookingChat".into()),
                stage: lookup("STAGE")
                    .or_else(|| api_gateway_push.as_ref().map(|push| push.stage().to_owned()))
                    .unwrap_or_else(|| "default".into()),
                copy_to_file: file.map(Into::into),
            },
            (None, Some(path)) => EventSettings::File(path.into()),
        };

        let bind_addr = parse(&lookup, "BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], 8000)))?;
        Ok(Self {
            files: file_settings(&lookup, local, bind_addr)?,
            events,
            local,
            demo_ws_url: lookup("DEMO_WS_URL"),
            static_dir: local.then(|| lookup("STATIC_DIR").unwrap_or_else(|| "web".into()).into()),
            api_gateway_push,
            bind_addr,
            store,
            service_token: lookup("SERVICE_TOKEN")
                .or_else(|| local.then(|| LOCAL_SERVICE_TOKEN.to_owned()))
                .map(SecretString::from),
            jwt: JwtSettings {
                secret: jwt_secret,
                issuer,
                audience,
                leeway: Duration::from_secs(parse(&lookup, "JWT_LEEWAY_SECONDS", 30)?),
                jwks,
            },
            proxy_secret,
            notify_link_secret: chat_store::notifications::unsubscribe::key_setting(&lookup, local)?,
            web_push: chat_store::push::PushSettings::from_lookup(&lookup, local)?,
            limits,
            presend: presend_settings(&lookup)?,
            seed_demo_data: parse_bool(&lookup, "SEED_DEMO_DATA", local)?,
            json_logs: chat_settings::env::json_logs(&lookup, local)?,
        })
    }
}

/// Whether `url` is `https://`, or `http://` to this machine (tests, local services): what the backend
/// accepts for a URL it sends secrets or messages to, or trusts the answers of.
fn is_https_or_loopback(url: &str) -> bool {
    let loopback =
        ["http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/", "http://[::1]"];
    url.starts_with("https://") || loopback.iter().any(|prefix| url.starts_with(prefix))
}

/// `FILE_STORE` and the `ATTACHMENTS_*` rules. With `APP_ENV=local` and no `FILE_STORE`, files are kept
/// in `.data/files` and served by this backend (so `make dev` has attachments with no AWS account).
fn file_settings(
    lookup: &impl Lookup,
    local: bool,
    bind_addr: SocketAddr,
) -> Result<Option<FileSettings>, ConfigError> {
    let host =
        if bind_addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { bind_addr.ip().to_string() };
    let default_url = format!("http://{host}:{}", bind_addr.port());
    let store = match chat_files::FileStoreSettings::from_lookup(lookup, &default_url)? {
        Some(store) => store,
        None if local => {
            chat_files::FileStoreSettings::Disk { dir: ".data/files".into(), public_url: default_url }
        }
        None => return Ok(None),
    };
    Ok(Some(FileSettings { store, rules: chat_files::rules::AttachmentRules::from_lookup(lookup)? }))
}

/// Where members' files are kept, and the rules for them.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// `FILE_STORE`.
    pub store: chat_files::FileStoreSettings,
    /// `ATTACHMENTS_*`.
    pub rules: chat_files::rules::AttachmentRules,
}

/// `PRESEND_HOOK_URL` (https, or http to this machine) with `PRESEND_HOOK_SECRET` (required, at least 16
/// bytes), `PRESEND_HOOK_TIMEOUT_MS` (1 to 5000, default 1000) and `PRESEND_HOOK_ON_FAILURE` (`open`, the
/// default, or `closed`).
fn presend_settings(lookup: &impl Lookup) -> Result<Option<crate::presend::PreSendSettings>, ConfigError> {
    let Some(url) = lookup("PRESEND_HOOK_URL") else { return Ok(None) };
    let url = url.trim().to_owned();
    if !is_https_or_loopback(&url) {
        return Err(ConfigError::invalid(
            "PRESEND_HOOK_URL",
            format!("{url:?} must be an https:// URL (http:// only to localhost): messages travel to it"),
        ));
    }
    let secret = lookup("PRESEND_HOOK_SECRET")
        .filter(|s| s.len() >= 16)
        .ok_or_else(|| ConfigError::invalid("PRESEND_HOOK_SECRET", "required with PRESEND_HOOK_URL, at least 16 bytes: the hook checks the requests' signature with it"))?;
    let timeout_ms: u64 = parse(lookup, "PRESEND_HOOK_TIMEOUT_MS", 1000)?;
    let timeout = Duration::from_millis(timeout_ms);
    if timeout.is_zero() || timeout > crate::presend::MAX_TIMEOUT {
        return Err(ConfigError::invalid(
            "PRESEND_HOOK_TIMEOUT_MS",
            "must be 1 to 5000: the hook holds the sender's message",
        ));
    }
    let fail_open = match lookup("PRESEND_HOOK_ON_FAILURE").as_deref().map(str::trim) {
        None | Some("open") => true,
        Some("closed") => false,
        Some(other) => {
            return Err(ConfigError::invalid(
                "PRESEND_HOOK_ON_FAILURE",
                format!("{other:?} is neither open nor closed"),
            ));
        }
    };
    Ok(Some(crate::presend::PreSendSettings { url, secret: SecretString::from(secret), timeout, fail_open }))
}

fn jwks_settings(lookup: &impl Lookup) -> Result<Option<JwksSettings>, ConfigError> {
    let Some(url) = lookup("JWT_JWKS_URL") else { return Ok(None) };
    let url = url.trim().to_owned();
    // Whoever can change the keys in transit can sign any token: plain HTTP only to this machine (tests, a
    // local identity provider).
    if !is_https_or_loopback(&url) {
        return Err(ConfigError::invalid(
            "JWT_JWKS_URL",
            format!(
                "{url:?} must be an https:// URL (http:// only to localhost), e.g. \
                     https://cognito-idp.{{region}}.amazonaws.com/{{user_pool_id}}/.well-known/jwks.json"
            ),
        ));
    }
    Ok(Some(JwksSettings {
        url,
        fetch_timeout: JWKS_FETCH_TIMEOUT,
        min_refresh_interval: JWKS_MIN_REFRESH_INTERVAL,
        max_age: JWKS_MAX_AGE,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|key| map.get(key).cloned())
    }

    #[test]
    fn local_environment_has_working_defaults() {
        let s = settings(&[("APP_ENV", "local")]).expect("local defaults");
        assert!(s.local && s.seed_demo_data && !s.json_logs);
        assert_eq!(s.jwt.secret.as_ref().map(ExposeSecret::expose_secret), Some(LOCAL_JWT_SECRET));
        assert!(s.jwt.jwks.is_none());
        assert_eq!(s.proxy_secret.expose_secret(), LOCAL_PROXY_SECRET);
        assert!(matches!(&s.store, StoreSettings::Sql { url, .. } if url == DEFAULT_DATABASE_URL));
        assert_eq!(s.bind_addr.to_string(), "127.0.0.1:8000");
        assert_eq!(s.limits.edit_window, Duration::from_secs(900));
    }

    #[test]
    fn a_pre_send_hook_needs_its_secret_a_safe_url_a_short_timeout_and_a_known_failure_mode() {
        let hook = |extra: &[(&str, &str)]| {
            let mut vars = vec![("APP_ENV", "local"), ("PRESEND_HOOK_URL", "https://hooks.example/check")];
            vars.extend_from_slice(extra);
            settings(&vars)
        };
        let secret = ("PRESEND_HOOK_SECRET", "sixteen bytes at least");
        let s = hook(&[secret]).expect("valid");
        let presend = s.presend.expect("a hook");
        assert_eq!((presend.timeout, presend.fail_open), (Duration::from_secs(1), true));
        let closed = hook(&[secret, ("PRESEND_HOOK_ON_FAILURE", "closed")]).expect("closed");
        assert!(!closed.presend.expect("a hook").fail_open);
        for (extra, key) in [
            (vec![], "PRESEND_HOOK_SECRET"),
            (vec![("PRESEND_HOOK_SECRET", "short")], "PRESEND_HOOK_SECRET"),
            (vec![secret, ("PRESEND_HOOK_TIMEOUT_MS", "6000")], "PRESEND_HOOK_TIMEOUT_MS"),
            (vec![secret, ("PRESEND_HOOK_ON_FAILURE", "maybe")], "PRESEND_HOOK_ON_FAILURE"),
        ] {
            let error = hook(&extra).expect_err("refused");
            assert!(error.to_string().contains(key), "{error}");
        }
        let plain = settings(&[("APP_ENV", "local"), ("PRESEND_HOOK_URL", "http://hooks.example/"), secret]);
        assert!(plain.expect_err("plain http").to_string().contains("PRESEND_HOOK_URL"));
        assert!(settings(&[("APP_ENV", "local")]).expect("none").presend.is_none());
    }

    #[test]
    fn the_edit_window_is_read_in_seconds_and_zero_turns_editing_off() {
        let s = settings(&[("APP_ENV", "local"), ("CHAT_EDIT_WINDOW_SECONDS", "0")]).expect("zero is valid");
        assert_eq!(s.limits.edit_window, Duration::ZERO);
        let s = settings(&[("APP_ENV", "local"), ("CHAT_EDIT_WINDOW_SECONDS", "60")]).expect("a minute");
        assert_eq!(s.limits.edit_window, Duration::from_secs(60));
        let err =
            settings(&[("APP_ENV", "local"), ("CHAT_EDIT_WINDOW_SECONDS", "-1")]).expect_err("negative");
        assert!(err.to_string().starts_with("invalid CHAT_EDIT_WINDOW_SECONDS"), "{err}");
    }

    #[test]
    fn outside_local_every_missing_secret_is_named() {
        let err = settings(&[("APP_ENV", "production")]).expect_err("must refuse");
        assert_eq!(err.to_string(), "missing required configuration: JWT_SECRET, PROXY_SECRET");
        let err = settings(&[]).expect_err("no APP_ENV is not local");
        assert!(matches!(err, ConfigError::Missing(_)));
    }

    #[test]
    fn events_go_to_one_place_a_file_locally_and_nowhere_by_default_elsewhere() {
        let local = settings(&[("APP_ENV", "local")]).expect("local");
        assert_eq!(local.events, EventSettings::File(DEFAULT_EVENTS_FILE.into()));
        let secrets = [("JWT_SECRET", "s"), ("PROXY_SECRET", "p")];
        assert_eq!(settings(&secrets).expect("no events").events, EventSettings::Off);
        let s =
            settings(&[("APP_ENV", "local"), ("EVENT_BUS_NAME", "bus"), ("STAGE", "prod")]).expect("a bus");
        assert!(
            matches!(&s.events, EventSettings::EventBridge { bus, stage, endpoint: None, .. } if bus == "bus" && stage == "prod"),
            "{:?}",
            s.events
        );
        let both =
            settings(&[("APP_ENV", "local"), ("EVENT_BUS_NAME", "bus"), ("EVENTS_FILE", "f")]).expect("both");
        assert!(
            matches!(&both.events, EventSettings::EventBridge { copy_to_file: Some(file), .. } if file.as_os_str() == "f"),
            "{:?}",
            both.events
        );
    }

    #[test]
    fn api_gateway_push_needs_both_the_table_and_the_endpoint() {
        let err = settings(&[("APP_ENV", "local"), ("CONNECTIONS_TABLE", "t")]).expect_err("half configured");
        assert!(err.to_string().contains("MANAGEMENT_ENDPOINT"), "{err}");
        let s = settings(&[
            ("APP_ENV", "local"),
            ("CONNECTIONS_TABLE", "t"),
            ("MANAGEMENT_ENDPOINT", "http://x/dev/"),
        ])
        .expect("both");
        let push = s.api_gateway_push.expect("configured");
        assert_eq!(
            (push.connections_table.as_str(), push.management_endpoint.as_str()),
            ("t", "http://x/dev")
        );
        assert_eq!(
            (push.stage(), push.post_attempts, push.metrics_namespace.as_str()),
            ("dev", 3, "BookingChat")
        );
    }

    #[test]
    fn malformed_values_name_their_key() {
        let err = settings(&[("APP_ENV", "local"), ("RATE_LIMIT_BURST", "many")]).expect_err("must refuse");
        assert!(err.to_string().starts_with("invalid RATE_LIMIT_BURST"), "{err}");
        let err = settings(&[("APP_ENV", "local"), ("DATABASE_URL", "mysql://x")]).expect_err("must refuse");
        assert!(err.to_string().starts_with("invalid DATABASE_URL"), "{err}");
        let err = settings(&[("APP_ENV", "local"), ("MAX_MESSAGE_LENGTH", "0")]).expect_err("must refuse");
        assert!(err.to_string().contains("greater than zero"), "{err}");
    }

    #[test]
    fn an_identity_provider_needs_an_issuer_and_an_audience_but_no_secret() {
        let url = ("JWT_JWKS_URL", "https://idp.example.com/.well-known/jwks.json");
        let base = [("APP_ENV", "production"), ("PROXY_SECRET", "p"), url];
        let err = settings(&base).expect_err("no issuer");
        assert!(err.to_string().starts_with("invalid JWT_ISSUER: required with JWT_JWKS_URL"), "{err}");
        let err = settings(&[&base[..], &[("JWT_ISSUER", "https://idp.example.com/")]].concat())
            .expect_err("no audience");
        assert!(err.to_string().starts_with("invalid JWT_AUDIENCE: required with JWT_JWKS_URL"), "{err}");
        let s = settings(
            &[&base[..], &[("JWT_ISSUER", "https://idp.example.com/"), ("JWT_AUDIENCE", "chat")]].concat(),
        )
        .expect("configured");
        assert!(s.jwt.secret.is_none(), "HS256 is off without JWT_SECRET");
        let jwks = s.jwt.jwks.expect("jwks");
        assert_eq!(jwks.url, url.1);
        assert_eq!(jwks.min_refresh_interval, JWKS_MIN_REFRESH_INTERVAL);
        // Without a JWKS URL, the secret stays required.
        let err = settings(&[("APP_ENV", "production"), ("PROXY_SECRET", "p")]).expect_err("no secret");
        assert_eq!(err.to_string(), "missing required configuration: JWT_SECRET");
    }

    #[test]
    fn a_jwks_url_must_be_https_except_to_this_machine() {
        let with = |url: &str| {
            settings(&[
                ("APP_ENV", "local"),
                ("JWT_JWKS_URL", url),
                ("JWT_ISSUER", "i"),
                ("JWT_AUDIENCE", "a"),
            ])
        };
        for refused in
            ["http://idp.example.com/jwks.json", "idp.example.com", "ftp://x", "http://localhost.evil.com/"]
        {
            let err = with(refused).expect_err(refused);
            assert!(err.to_string().starts_with("invalid JWT_JWKS_URL"), "{err}");
        }
        for accepted in
            ["https://idp.example.com/jwks.json", "http://127.0.0.1:9000/jwks", "http://localhost/jwks"]
        {
            assert!(with(accepted).is_ok(), "{accepted}");
        }
    }

    #[test]
    fn an_unsubscribe_key_is_local_by_default_absent_otherwise_and_never_short() {
        let local = settings(&[("APP_ENV", "local")]).expect("local");
        assert!(local.notify_link_secret.is_some());
        let base = [("APP_ENV", "production"), ("PROXY_SECRET", "p"), ("JWT_SECRET", "j")];
        assert!(settings(&base).expect("no key").notify_link_secret.is_none(), "every link refused");
        let short = [base.as_slice(), &[("NOTIFY_LINK_SECRET", "")]].concat();
        let err = settings(&short).expect_err("empty key").to_string();
        assert!(err.contains("NOTIFY_LINK_SECRET"), "{err}");
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let s = settings(&[
            ("APP_ENV", "staging"),
            ("JWT_SECRET", "jwt-very-secret"),
            ("PROXY_SECRET", "proxy-very-secret"),
        ])
        .expect("configured");
        let debug = format!("{s:?}");
        assert!(!debug.contains("jwt-very-secret") && !debug.contains("proxy-very-secret"));
        assert!(s.json_logs && !s.seed_demo_data);
    }
}
