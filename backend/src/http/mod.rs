//! The HTTP server: shared state, the router, and [`Application`], the startup path every test drives.

mod attachments;
mod dev;
mod direct_ws;
mod error;
mod extract;
mod files;
mod moderation;
mod notifications;
mod openapi;
mod ops;
mod rest;
mod safety;
mod search;
mod service;
mod socket_events;
mod user_data;
mod web_push;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Extension, Router};
use secrecy::SecretString;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::ApiError;
pub use extract::{ApiJson, ApiPath, ApiQuery, AuthUser};

use crate::auth::TokenVerifier;
use crate::chat::ChatService;
use crate::config::{ChatLimits, JwtSettings, Settings};
use crate::events::EventPublisher;
use crate::metrics::Metrics;
use crate::notifier::{BookingNotifier, LocalHub, Notifiers};
use crate::preferences::Preferences;
use crate::seed;
use crate::store::{Store, StoreError};

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) chat: Arc<ChatService>,
    pub(crate) preferences: Arc<Preferences>,
    hub: Arc<LocalHub>,
    metrics: Arc<Metrics>,
    proxy_secret: Arc<SecretString>,
    /// The marketplace's credential for the service API; without one the service routes refuse.
    service_token: Option<Arc<SecretString>>,
    limits: ChatLimits,
    /// The JWT settings, present only with `APP_ENV=local`, where they mint development tokens.
    dev_jwt: Option<Arc<JwtSettings>>,
    /// Where the demo page connects (`DEMO_WS_URL`); the direct WebSocket when unset.
    demo_ws_url: Option<String>,
    /// The widget package whose demo page and build are served locally.
    static_dir: Option<std::path::PathBuf>,
    /// The disk file store, whose form target and downloads this server serves, with the largest file.
    disk: Option<(Arc<chat_files::disk::DiskFileStore>, u64)>,
}

/// What serves the routes: a long-running server, or a Lambda function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hosting {
    /// A long-running server: every route, the direct WebSocket included.
    Server,
    /// A Lambda function behind API Gateway (`lambda_http`): no direct WebSocket, which needs a
    /// connection that outlives a request (clients use the API Gateway WebSocket API).
    Lambda,
}

/// The routes, without a listener.
pub fn router(state: AppState, hosting: Hosting) -> Router {
    let max_body = state.limits.max_body_bytes;
    let (mut routes, document) = documented_routes(hosting).split_for_parts();
    if state.dev_jwt.is_some() {
        routes = routes.route("/dev/token", get(dev::token)).route("/dev/config", get(dev::config));
    }
    if let Some(dir) = state.static_dir.as_deref().filter(|_| state.dev_jwt.is_some()) {
        routes = dev::static_files(routes, dir);
    }
    if let Some((_, max_bytes)) = &state.disk {
        routes = files::routes(routes, *max_bytes);
    }
    routes
        .layer(Extension(ops::Document(to_json(&document).into())))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(state.clone(), track))
        // The span names the route template, never the URI: a query string may carry a token.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
            tracing::info_span!("http", method = %request.method(), route)
        }))
        .with_state(state)
}

/// Every route but local mode's, each registered from its handler's `#[utoipa::path]`: the route and its
/// description are one declaration. The direct WebSocket is the long-running server's only.
fn documented_routes(hosting: Hosting) -> OpenApiRouter<AppState> {
    let mut routes = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(socket_events::connect))
        .routes(routes!(socket_events::connected))
        .routes(routes!(socket_events::connect_user))
        .routes(routes!(socket_events::message))
        .routes(routes!(socket_events::disconnect))
        .routes(routes!(rest::history))
        .routes(routes!(rest::inbox))
        .routes(routes!(rest::change_status))
        .routes(routes!(service::get_booking, service::put_booking))
        .routes(routes!(service::set_status))
        .routes(routes!(safety::block, safety::unblock))
        .routes(routes!(safety::set_chat_open))
        .routes(routes!(attachments::upload))
        .routes(routes!(attachments::get))
        .routes(routes!(attachments::url))
        .routes(routes!(attachments::processed))
        .routes(routes!(moderation::report))
        .routes(routes!(moderation::reports))
        .routes(routes!(moderation::resolve))
        .routes(routes!(moderation::hide))
        .routes(routes!(moderation::audit))
        .routes(routes!(user_data::export))
        .routes(routes!(user_data::erase))
        .routes(routes!(user_data::run_retention))
        .routes(routes!(search::search))
        .routes(routes!(search::operator_search))
        .routes(routes!(notifications::get_settings, notifications::put_settings))
        .routes(routes!(notifications::mute))
        .routes(routes!(notifications::set_email))
        .routes(routes!(web_push::get, web_push::subscribe, web_push::unsubscribe))
        .routes(routes!(notifications::unsubscribe_page, notifications::unsubscribe));
    if hosting == Hosting::Server {
        routes = routes.routes(routes!(direct_ws::upgrade));
    }
    routes
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi))
}

/// The OpenAPI document of the long-running server's routes (the backend as a Lambda serves the same but
/// the direct WebSocket), as JSON text: what `chat-backend openapi` prints and `backend/openapi.json` holds.
pub fn openapi_json() -> String {
    to_json(&documented_routes(Hosting::Server).into_openapi())
}

fn to_json(document: &utoipa::openapi::OpenApi) -> String {
    // A document of strings, numbers and maps with string keys: serialising cannot fail.
    let mut json = document.to_pretty_json().unwrap_or_else(|_| String::from("{}"));
    json.push('\n');
    json
}

async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.http_request(method.as_str(), &route, response.status().as_u16(), started.elapsed());
    response
}

/// Why the backend could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened, migrated or seeded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file store could not be opened.
    #[error(transparent)]
    Files(#[from] chat_files::FileError),
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}: is something else on that port? BIND_ADDR moves the backend")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A backend ready to serve: database migrated, listener bound.
pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Store,
    files: Option<chat_files::Opened>,
    chat: Arc<ChatService>,
}

/// The settings with the disk file store's URLs on the port bound (`BIND_ADDR` port 0: tests).
fn on_port(settings: &Settings, port: u16) -> Settings {
    let mut settings = settings.clone();
    if let Some(crate::config::FileSettings {
        store: chat_files::FileStoreSettings::Disk { public_url, .. },
        ..
    }) = &mut settings.files
        && let Some(base) = public_url.strip_suffix(":0")
    {
        *public_url = format!("{base}:{port}");
    }
    settings
}

/// Opens the file store the settings name, if any.
///
/// # Errors
/// [`StartupError::Files`] when it cannot be opened.
pub async fn open_files(
    settings: &Settings,
    sdk: Option<&aws_config::SdkConfig>,
) -> Result<Option<chat_files::Opened>, StartupError> {
    let Some(files) = &settings.files else { return Ok(None) };
    let opened = chat_files::open(&files.store, sdk, chat_settings::aws::DEFAULT_TIMEOUT).await?;
    tracing::info!(store = opened.store.kind(), "members' files kept");
    Ok(Some(opened))
}

impl Application {
    /// Opens and migrates the database, seeds demo data when configured, binds the listener.
    ///
    /// # Errors
    /// [`StartupError`] naming what failed.
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        Self::build_with_notifier(settings, None).await
    }

    /// As [`Application::build`], with a notifier for pushes beyond the direct WebSocket (API Gateway's
    /// connections, through the Lambda's fan-out).
    ///
    /// # Errors
    /// [`StartupError`] naming what failed.
    pub async fn build_with_notifier(
        settings: &Settings,
        push: Option<Arc<dyn BookingNotifier>>,
    ) -> Result<Self, StartupError> {
        let store = crate::store::open(&settings.store, None).await?;
        store.prepare().await?;
        if settings.seed_demo_data {
            seed::demo_bookings(store.as_ref()).await?;
        }
        let listener = TcpListener::bind(settings.bind_addr)
            .await
            .map_err(|source| StartupError::Bind { addr: settings.bind_addr, source })?;
        let events = crate::events::publisher(&settings.events, None).await;
        let files =
            open_files(&on_port(settings, listener.local_addr().map(|a| a.port()).unwrap_or(0)), None)
                .await?;
        let state = AppState::new(settings, store.clone(), push, events, files.clone());
        // The identity provider's keys, if any, before the first token needs them (a failure is logged).
        state.chat.verifier().prefetch().await;
        let chat = state.chat();
        Ok(Self { listener, router: router(state, Hosting::Server), store, files, chat })
    }
}

impl AppState {
    /// The state of every route over an opened store: the chat service with its token verifier and
    /// notifiers (the direct WebSocket's hub, and `push` when given), publishing the chat's events to
    /// `events`, keeping members' files in `files` (attachments on; with the disk adapter, its routes
    /// too).
    pub fn new(
        settings: &Settings,
        store: Store,
        push: Option<Arc<dyn BookingNotifier>>,
        events: Arc<dyn EventPublisher>,
        files: Option<chat_files::Opened>,
    ) -> Self {
        let hub = Arc::new(LocalHub::default());
        let mut notifiers = Notifiers::default().with(hub.clone());
        if let Some(push) = push {
            notifiers = notifiers.with(push);
        }
        let metrics = Arc::new(Metrics::default());
        if !settings.limits.contact_masking.statuses.is_empty() {
            // The phone-number data loads in about 0.1 s: not on the first masked message's time.
            tokio::task::spawn_blocking(chat_store::contact::warm_up);
        }
        let preferences = Arc::new(Preferences::new(
            store.clone(),
            settings.notify_link_secret.clone(),
            settings.web_push.clone(),
        ));
        let presend = settings.presend.clone().map(|hook| Arc::new(crate::presend::PreSendHook::new(hook)));
        let chat = ChatService::new(
            store,
            TokenVerifier::new(&settings.jwt),
            settings.limits.clone(),
            Arc::new(notifiers),
            events,
            metrics.clone(),
        )
        .with_presend(presend);
        let files = files.zip(settings.files.as_ref().map(|f| f.rules.clone()));
        let disk = files.as_ref().and_then(|(opened, rules)| Some((opened.disk.clone()?, rules.max_bytes)));
        let chat =
            chat.with_files(files.map(|(opened, rules)| crate::chat::Files { store: opened.store, rules }));
        Self {
            preferences,
            chat: Arc::new(chat),
            hub,
            metrics,
            proxy_secret: Arc::new(settings.proxy_secret.clone()),
            service_token: settings.service_token.clone().map(Arc::new),
            limits: settings.limits.clone(),
            dev_jwt: settings.local.then(|| Arc::new(settings.jwt.clone())),
            demo_ws_url: settings.demo_ws_url.clone(),
            static_dir: settings.static_dir.clone(),
            disk,
        }
    }
}

impl AppState {
    /// The chat service, for tools that act without HTTP (the `booking` command).
    pub fn chat(&self) -> Arc<ChatService> {
        Arc::clone(&self.chat)
    }
}

impl Application {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The port the server listens on (useful after binding port 0).
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The database, for tests and tools.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The file store, for the composition that runs the media processor beside the backend.
    pub fn files(&self) -> Option<&chat_files::Opened> {
        self.files.as_ref()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and closes the pool.
    ///
    /// # Errors
    /// The server's I/O error.
    /// With `CHAT_RETENTION_DAYS` set, the server also runs a pass of the retention job at start and hourly
    /// (what EventBridge Scheduler does on AWS; several instances may: a chat is purged once).
    ///
    /// # Errors
    /// The server's I/O error.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let retention = self.chat.retains().then(|| tokio::spawn(retention_hourly(Arc::clone(&self.chat))));
        let result = axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await;
        if let Some(job) = retention {
            job.abort();
        }
        self.store.close().await;
        result
    }
}

/// A pass of the retention job every hour, each logged; a failed pass is retried at the next.
async fn retention_hourly(chat: Arc<ChatService>) {
    let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        hourly.tick().await;
        match chat.run_retention("retention", std::time::Duration::from_secs(300)).await {
            Ok(pass) if pass.bookings > 0 || pass.files > 0 => tracing::info!(?pass, "retention pass"),
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "the retention pass failed; the next one continues"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Hosting, documented_routes};

    #[test]
    fn the_lambda_documents_every_route_but_the_direct_websocket() {
        let paths = |hosting| -> Vec<String> {
            documented_routes(hosting).into_openapi().paths.paths.into_keys().collect()
        };
        let (server, lambda) = (paths(Hosting::Server), paths(Hosting::Lambda));
        let only_server: Vec<&String> = server.iter().filter(|path| !lambda.contains(path)).collect();
        assert_eq!(only_server, ["/chat/ws/{booking_id}"]);
        assert!(lambda.iter().all(|path| server.contains(path)));
    }
}
