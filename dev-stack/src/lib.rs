//! The whole request path on one machine, in one process: the chat backend, the API Gateway WebSocket
//! emulator, and the Lambda proxy behind it in-process, with connection records in memory or in DynamoDB
//! (moto or DynamoDB Local). The backend's own pushes (booking status) go through the same fan-out as the
//! Lambda's, over the same records and the emulator's gateway.
//!
//! `make dev` runs it through the `chat-dev` binary; the end-to-end tests start it on port 0.
//!
//! This crate is where the parts meet: nothing else depends on both the emulator and the proxy.
//!
//! # Layout
//! - [`DevStack`]: start and stop the stack; where its parts listen.
//! - [`ConnectionRecords`]: in memory or DynamoDB.
//! - [`in_process`]: the adapters that put the proxy behind the emulator in one process.
//! - [`compiled`]: the compiled function binary behind the emulator instead (`make dev-lambda`).
//! - [`notifications`]: the notifier and its bus, queue and SES identity, on moto.
//! - [`runtime_api`]: a Lambda Runtime API, to run the compiled function binary behind the emulator or
//!   alone (`make bench`).
//! - [`measure`]: what the benchmarks share (a client, a process's memory and CPU time).
//! - [`settings`]: `chat-dev`'s settings, read once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use apigw_ws_emulator::config::AuthorizerConfig;
use apigw_ws_emulator::connections::Connections;
use apigw_ws_emulator::integration::Integration;
use apigw_ws_emulator::{Emulator, EmulatorConfig};
use chat_backend::notifier::{BookingNotifier, FanoutNotifier};
use chat_backend::{Application, Settings};
use chat_connections::gateway::ManagementApiGateway;
use chat_connections::store::{DynamoDbConnectionStore, InMemoryConnectionStore};
use chat_connections::{ConnectionGateway, ConnectionStore, DeliveryPolicy, Fanout};
use chat_proxy::backend::HttpBackend;
use chat_proxy::{Proxy, ProxySettings};
use tokio::sync::watch;

use crate::compiled::{CompiledFunction, FunctionOptions};
use crate::in_process::{EmulatorGateway, InProcessLambda};
use crate::runtime_api::RuntimeApi;

pub mod compiled;
pub mod in_process;
pub mod measure;
pub mod notifications;
pub mod runtime_api;
pub mod settings;

/// Where the Lambda keeps connection records.
#[derive(Debug, Clone)]
pub enum ConnectionRecords {
    /// In the process's memory.
    InMemory,
    /// In a DynamoDB table (moto or DynamoDB Local locally).
    DynamoDb {
        /// A client for the endpoint.
        client: aws_sdk_dynamodb::Client,
        /// The table.
        table: String,
    },
}

/// How the Lambda (and the backend's pushes) reach the emulator's connections.
#[derive(Debug, Clone, Default)]
pub enum ManagementPath {
    /// Straight into the emulator's connections, without HTTP (`make dev`).
    #[default]
    InProcess,
    /// Through the Management API over HTTP with the AWS SDK, as in AWS (measured, counted).
    Http(Arc<ManagementApiGateway>),
}

/// How to start the stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// How frames reach the connections.
    pub management: ManagementPath,
    /// The backend's settings (its `demo_ws_url` is set to the emulator's URL).
    pub backend: Settings,
    /// Where the emulator listens.
    pub emulator_addr: SocketAddr,
    /// The emulated API.
    pub emulator: EmulatorConfig,
    /// Where connection records live.
    pub records: ConnectionRecords,
    /// Largest frame the Lambda forwards.
    pub max_frame_bytes: usize,
    /// The Lambda's backend timeout.
    pub backend_timeout: Duration,
}

/// Why the stack did not start.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// The backend failed to start.
    #[error("the backend did not start")]
    Backend(#[from] chat_backend::http::StartupError),
    /// The emulator's address could not be bound.
    #[error(
        "the emulator cannot listen on {addr}: is something else on that port? EMULATOR_BIND_ADDR moves it"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The Lambda's HTTP client could not be built.
    #[error("the Lambda's backend client could not be built")]
    Client(#[from] reqwest::Error),
    /// The compiled function did not start.
    #[error(transparent)]
    Function(#[from] compiled::FunctionError),
    /// The media processor beside the backend could not be built.
    #[error("the media processor did not start: {0}")]
    Media(String),
}

/// Which Lambda the emulator invokes.
enum Lambda {
    /// The proxy library, in this process.
    InProcess,
    /// The compiled function binary, through a Lambda Runtime API.
    Compiled(FunctionOptions),
}

/// A running stack. Dropping it stops every part.
pub struct DevStack {
    /// The backend, e.g. `http://127.0.0.1:8000`.
    pub backend_url: String,
    /// The WebSocket API, e.g. `ws://127.0.0.1:3001/local`.
    pub ws_url: String,
    /// The Management API, e.g. `http://127.0.0.1:3001/local`.
    pub management_url: String,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The compiled function's processes, when it is the Lambda.
    function: Option<CompiledFunction>,
}

impl DevStack {
    /// Starts the backend, the emulator and the Lambda behind it.
    ///
    /// # Errors
    /// [`StackError`] naming the part that did not start.
    pub async fn start(options: StackOptions) -> Result<Self, StackError> {
        // Boxed: the start-up's future holds every part's (16 KB), too much to keep on callers' stacks.
        Box::pin(Self::start_lambda(options, Lambda::InProcess)).await
    }

    /// Starts the backend, the emulator and the compiled function binary behind it, as `make dev-lambda`
    /// runs it: the function keeps its records in the DynamoDB table of `options.records` and posts to the
    /// emulator's Management API over HTTP; the backend's own pushes go through the same records.
    ///
    /// # Errors
    /// [`StackError`] naming the part that did not start; [`compiled::FunctionError::NeedsDynamoDb`] when
    /// the records are in memory, where a separate process cannot reach them.
    pub async fn start_compiled(
        options: StackOptions,
        function: FunctionOptions,
    ) -> Result<Self, StackError> {
        if matches!(options.records, ConnectionRecords::InMemory) {
            return Err(compiled::FunctionError::NeedsDynamoDb.into());
        }
        Box::pin(Self::start_lambda(options, Lambda::Compiled(function))).await
    }

    async fn start_lambda(options: StackOptions, lambda: Lambda) -> Result<Self, StackError> {
        let connections = Arc::new(Connections::default());
        let in_process = EmulatorGateway::new(connections.clone(), options.emulator.limits.max_message_bytes);
        match (options.records.clone(), options.management.clone()) {
            (ConnectionRecords::InMemory, ManagementPath::InProcess) => {
                let store = Arc::new(InMemoryConnectionStore::default());
                Self::start_with(options, connections, store, in_process, lambda).await
            }
            (ConnectionRecords::InMemory, ManagementPath::Http(gateway)) => {
                let store = Arc::new(InMemoryConnectionStore::default());
                Self::start_with(options, connections, store, gateway, lambda).await
            }
            (ConnectionRecords::DynamoDb { client, table }, ManagementPath::InProcess) => {
                let store = Arc::new(DynamoDbConnectionStore::new(client, table));
                Self::start_with(options, connections, store, in_process, lambda).await
            }
            (ConnectionRecords::DynamoDb { client, table }, ManagementPath::Http(gateway)) => {
                let store = Arc::new(DynamoDbConnectionStore::new(client, table));
                Self::start_with(options, connections, store, gateway, lambda).await
            }
        }
    }

    async fn start_with<S: ConnectionStore, G: ConnectionGateway + Clone>(
        options: StackOptions,
        connections: Arc<Connections>,
        store: Arc<S>,
        gateway: G,
        lambda: Lambda,
    ) -> Result<Self, StackError> {
        let listener = tokio::net::TcpListener::bind(options.emulator_addr)
            .await
            .map_err(|source| StackError::Bind { addr: options.emulator_addr, source })?;
        let emulator_addr = listener
            .local_addr()
            .map_err(|source| StackError::Bind { addr: options.emulator_addr, source })?;
        let stage = options.emulator.stage.clone();
        let ws_url = format!("ws://{emulator_addr}/{stage}");
        let management_url = format!("http://{emulator_addr}/{stage}");
        let (stop, stopped) = watch::channel(false);
        let until_stopped = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };

        let mut backend_settings = options.backend.clone();
        backend_settings.demo_ws_url = Some(ws_url.clone());
        let fanout = Fanout::new(store.clone(), gateway.clone(), DeliveryPolicy::default());
        let push: Arc<dyn BookingNotifier> = Arc::new(FanoutNotifier::new(fanout, &management_url));
        let backend = Box::pin(Application::build_with_notifier(&backend_settings, Some(push))).await?;
        let backend_url = format!("http://{}", backend.local_addr());
        let media = media_beside(&backend, &backend_settings, &backend_url)?;

        // The proxy is the `$connect` authorizer too, as Terraform deploys it.
        let mut emulator_config = options.emulator.clone();
        emulator_config.authorizer.get_or_insert_with(AuthorizerConfig::default);
        let (integration, function): (Arc<dyn Integration>, _) = match lambda {
            Lambda::InProcess => {
                let proxy = Proxy::new(
                    store,
                    gateway,
                    HttpBackend::new(
                        &backend_url,
                        options.backend.proxy_secret.clone(),
                        options.backend_timeout,
                    )?,
                    ProxySettings {
                        max_frame_bytes: options.max_frame_bytes,
                        delivery: DeliveryPolicy::default(),
                        management_endpoint: Some(management_url.clone()),
                        region: None,
                        metrics_namespace: "BookingChat".into(),
                        emit_metrics: false,
                    },
                );
                (Arc::new(InProcessLambda::new(Arc::new(proxy))), None)
            }
            Lambda::Compiled(function) => {
                let runtime =
                    Arc::new(RuntimeApi::start().await.map_err(compiled::FunctionError::RuntimeApi)?);
                let table = match &options.records {
                    ConnectionRecords::DynamoDb { table, .. } => table.clone(),
                    ConnectionRecords::InMemory => return Err(compiled::FunctionError::NeedsDynamoDb.into()),
                };
                let configuration = compiled::Configuration {
                    backend_url: backend_url.clone(),
                    proxy_secret: options.backend.proxy_secret.clone(),
                    table,
                    management_endpoint: management_url.clone(),
                    backend_timeout: options.backend_timeout,
                    max_frame_bytes: options.max_frame_bytes,
                };
                let started = CompiledFunction::start(&function, &runtime, &configuration)?;
                (runtime, Some(started))
            }
        };
        let emulator = Arc::new(Emulator::new(emulator_config, connections.clone(), integration));

        let mut tasks = Vec::new();
        let backend_stop = until_stopped();
        tasks.push(tokio::spawn(async move {
            if let Err(error) = backend.run_until(backend_stop).await {
                tracing::error!(error = %error, "backend stopped");
            }
        }));
        let emulator_stop = until_stopped();
        tasks.push(tokio::spawn(async move {
            if let Err(error) = emulator.serve(listener, emulator_stop).await {
                tracing::error!(error = %error, "emulator stopped");
            }
        }));
        if let Some(media) = media {
            let media_stop = until_stopped();
            tasks.push(tokio::spawn(async move {
                tokio::select! {
                    () = media => {}
                    () = media_stop => {}
                }
            }));
        }
        Ok(Self { backend_url, ws_url, management_url, stop, tasks, function })
    }

    /// Runs the media processor beside the stack too, on an S3 upload queue (moto), until the stack stops:
    /// as on AWS, where S3 notifies the queue of each upload.
    ///
    /// # Errors
    /// When the processor cannot be built.
    pub async fn run_media(
        &mut self,
        settings: &chat_media::config::MediaSettings,
        queue: chat_media::queue::SqsQueue,
    ) -> Result<(), chat_media::BuildError> {
        let processor = chat_media::build(settings, None).await?;
        let stop = self.stop.subscribe();
        self.tasks.push(tokio::spawn(async move { chat_media::poll(&processor, &queue, stop).await }));
        Ok(())
    }

    /// Runs the notifier beside the stack (polling its queue in this process) until the stack stops.
    ///
    /// # Errors
    /// When the notifier's store cannot be opened.
    pub async fn run_notifier(
        &mut self,
        settings: &chat_notifier::config::NotifierSettings,
    ) -> Result<(), chat_backend::store::StoreError> {
        let (notifier, queue) = chat_notifier::build(settings, None).await?;
        self.tasks.push(tokio::spawn(chat_notifier::poll(notifier, queue, self.stop.subscribe())));
        Ok(())
    }

    /// The process ids of the compiled function's copies (none with the Lambda in-process).
    pub fn function_pids(&self) -> Vec<u32> {
        self.function.as_ref().map(CompiledFunction::pids).unwrap_or_default()
    }

    /// Stops every part and waits for them (open WebSockets are dropped).
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        for task in self.tasks.drain(..) {
            // Upgraded sockets keep graceful shutdown waiting; give it a moment, then abandon it.
            let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
        }
        if let Some(function) = self.function.take() {
            function.stop();
        }
    }
}

impl Drop for DevStack {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// With the disk file store (`make dev`'s), the media processor in this process, on the uploads the
/// backend accepts, reporting to the backend as the deployed processor does (its service route):
/// the future that runs it.
fn media_beside(
    backend: &Application,
    settings: &chat_backend::config::Settings,
    backend_url: &str,
) -> Result<Option<impl std::future::Future<Output = ()> + use<>>, StackError> {
    let (Some(files), Some(rules), Some(token)) =
        (backend.files(), settings.files.as_ref().map(|f| &f.rules), settings.service_token.clone())
    else {
        return Ok(None);
    };
    let Some(disk) = files.disk.as_ref() else { return Ok(None) };
    let allowed = chat_media::process::AllowedTypes::parse(&rules.types).map_err(StackError::Media)?;
    let report = chat_media::backend::HttpBackend::new(backend_url, token, std::time::Duration::from_secs(5))
        .map_err(|e| StackError::Media(e.to_string()))?;
    let processor = chat_media::processor::Processor::new(
        files.store.clone(),
        Arc::new(report),
        allowed,
        rules.max_bytes,
    );
    let following = chat_media::follow(Arc::new(processor), disk.uploads());
    // What S3's lifecycle rules do on AWS (terraform/modules/booking-chat/attachments.tf): uploads after a
    // day, files no message references after two, checked hourly.
    let disk = Arc::clone(disk);
    let sweeping = async move {
        let day = std::time::Duration::from_secs(24 * 3600);
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            match disk.sweep(day, 2 * day).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "expired files swept"),
                Err(error) => tracing::warn!(error = %error, "could not sweep expired files"),
            }
        }
    };
    Ok(Some(async move {
        tokio::join!(following, sweeping);
    }))
}
