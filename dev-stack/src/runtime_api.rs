//! A Lambda Runtime API as the Lambda service serves it to a function's `bootstrap`, for running the
//! compiled function locally and measuring it (`make bench`): events wait in a queue, the function takes
//! them one at a time with `GET /2018-06-01/runtime/invocation/next` and answers with `POST …/{id}/response`
//! or `…/{id}/error`. [`RuntimeApi::invoke`] is the caller's side (as the Invoke API is), and
//! [`RuntimeApi`] is an emulator [`Integration`], so API Gateway's emulator can sit in front of the binary.
//!
//! It records when the function first asked for an event: a process's start to that moment is its
//! initialisation (a cold start's part before the first event).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apigw_ws_emulator::integration::{Integration, IntegrationError};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::future::BoxFuture;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// How long an invocation may take, as the function's timeout.
const DEADLINE: Duration = Duration::from_secs(30);

type Outcome = Result<Value, IntegrationError>;

struct Invocation {
    id: String,
    event: Value,
    done: oneshot::Sender<Outcome>,
}

struct Shared {
    queue: mpsc::UnboundedSender<Invocation>,
    next: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    running: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    first_next: OnceLock<Instant>,
    ids: AtomicU64,
    /// Requests for an event so far: one more than the events handed out while the function waits.
    nexts: AtomicU64,
}

/// The Runtime API, serving on a loopback port until dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Serves on a free loopback port.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start() -> std::io::Result<Self> {
        let (queue, queued) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue,
            next: tokio::sync::Mutex::new(queued),
            running: Mutex::new(HashMap::new()),
            first_next: OnceLock::new(),
            ids: AtomicU64::new(0),
            nexts: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, server })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` for the function (`host:port`).
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// When the function first asked for an event, if it has.
    pub fn first_next(&self) -> Option<Instant> {
        self.shared.first_next.get().copied()
    }

    /// Waits until the function has answered every event it was handed and asks for the next one, so that
    /// nothing of an event is still running; `false` if it is not idle within `timeout`.
    pub async fn idle(&self, timeout: Duration) -> bool {
        let started = Instant::now();
        loop {
            let given = self.shared.ids.load(Ordering::SeqCst);
            let waiting = self.shared.running.lock().unwrap_or_else(PoisonError::into_inner).is_empty()
                && self.shared.nexts.load(Ordering::SeqCst) == given + 1;
            if waiting {
                return true;
            }
            if started.elapsed() > timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Hands `event` to the function and waits for its answer.
    ///
    /// # Errors
    /// [`IntegrationError::Function`] when the function reported an error, [`IntegrationError::Timeout`]
    /// when it did not answer within the deadline.
    pub async fn invoke(&self, event: Value) -> Outcome {
        let id = format!("bench-{}", self.shared.ids.fetch_add(1, Ordering::Relaxed));
        let (done, outcome) = oneshot::channel();
        self.shared
            .queue
            .send(Invocation { id, event, done })
            .map_err(|_| IntegrationError::Failed("runtime API stopped".into()))?;
        match tokio::time::timeout(DEADLINE, outcome).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(IntegrationError::Failed("the invocation was dropped".into())),
            Err(_) => Err(IntegrationError::Timeout),
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Integration for RuntimeApi {
    fn invoke(&self, event: Value) -> BoxFuture<'_, Outcome> {
        Box::pin(RuntimeApi::invoke(self, event))
    }
}

impl Shared {
    fn finish(&self, id: &str, outcome: Outcome) -> StatusCode {
        let done = self.running.lock().unwrap_or_else(PoisonError::into_inner).remove(id);
        match done {
            Some(done) => {
                let _ = done.send(outcome);
                StatusCode::ACCEPTED
            }
            None => StatusCode::BAD_REQUEST,
        }
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    shared.first_next.get_or_init(Instant::now);
    shared.nexts.fetch_add(1, Ordering::SeqCst);
    let Some(invocation) = shared.next.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    shared
        .running
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(invocation.id.clone(), invocation.done);
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + DEADLINE;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", invocation.id);
    set("lambda-runtime-deadline-ms", deadline.as_millis().to_string());
    set("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:000000000000:function:bench".into());
    set("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".into());
    set("content-type", "application/json".into());
    (headers, invocation.event.to_string()).into_response()
}

async fn response(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let value = if body.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(&body).map_err(|e| IntegrationError::Failed(format!("unreadable answer: {e}")))
    };
    shared.finish(&id, value)
}

async fn error(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let message = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("errorMessage").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    shared.finish(&id, Err(IntegrationError::Function(message)))
}

async fn init_error(body: Bytes) -> StatusCode {
    tracing::error!(error = %String::from_utf8_lossy(&body), "the function failed to initialise");
    StatusCode::ACCEPTED
}
