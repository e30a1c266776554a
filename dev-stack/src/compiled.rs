//! The compiled proxy function (`chat-proxy`, the binary `make package` zips as `bootstrap`) behind the
//! emulator, as Lambda runs it: copies of the binary, each an execution environment, poll a
//! [`RuntimeApi`] for events; their configuration comes from the environment, as Terraform gives it,
//! pointed at the local parts. Its connection records live in DynamoDB (moto locally), the one store the
//! binary has, and its frames reach the emulator through the Management API over HTTP with the AWS SDK.
//!
//! `make dev-lambda` (`chat-dev --lambda`) runs the stack this way; the processes stop with the stack, and
//! a watchdog stops them if the stack's process dies without stopping them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::runtime_api::RuntimeApi;

/// How to run the compiled function.
#[derive(Debug, Clone)]
pub struct FunctionOptions {
    /// The binary, e.g. `target/debug/chat-proxy`.
    pub binary: PathBuf,
    /// How many copies poll for events: Lambda's execution environments, each one event at a time.
    pub instances: usize,
    /// The DynamoDB endpoint of its records (`AWS_ENDPOINT_URL`: moto locally).
    pub dynamodb_endpoint: String,
    /// `AWS_REGION`.
    pub region: String,
    /// Its `RUST_LOG`, a level (`error` … `trace`).
    pub log_level: String,
}

/// What the stack tells the function, as Terraform's environment variables do in AWS.
#[derive(Debug, Clone)]
pub(crate) struct Configuration {
    pub(crate) backend_url: String,
    pub(crate) proxy_secret: SecretString,
    pub(crate) table: String,
    pub(crate) management_endpoint: String,
    pub(crate) backend_timeout: Duration,
    pub(crate) max_frame_bytes: usize,
}

/// Why the compiled function did not start.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    /// The binary could not be run.
    #[error("cannot run the compiled function {binary}: {source} (make dev-lambda builds it)")]
    Spawn {
        /// The binary.
        binary: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The Runtime API could not listen.
    #[error("the Lambda Runtime API cannot listen on a loopback port")]
    RuntimeApi(#[source] std::io::Error),
    /// The records are in memory, out of the function's reach.
    #[error("the compiled function keeps its connection records in DynamoDB: give the stack a table")]
    NeedsDynamoDb,
}

/// The running copies of the function. Dropping it kills them.
#[derive(Debug)]
pub struct CompiledFunction {
    processes: Vec<Child>,
}

impl CompiledFunction {
    /// Starts `options.instances` copies of the binary against `runtime`.
    ///
    /// # Errors
    /// [`FunctionError::Spawn`] when the binary cannot be run.
    pub(crate) fn start(
        options: &FunctionOptions,
        runtime: &RuntimeApi,
        configuration: &Configuration,
    ) -> Result<Self, FunctionError> {
        let mut function = Self { processes: Vec::new() };
        for _ in 0..options.instances.max(1) {
            let mut command = Command::new(&options.binary);
            command
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("AWS_LAMBDA_RUNTIME_API", runtime.address())
                .env("AWS_LAMBDA_FUNCTION_NAME", "chat-proxy")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
                .env("AWS_REGION", &options.region)
                // moto takes any credentials; none are looked for elsewhere.
                .env("AWS_ACCESS_KEY_ID", "local")
                .env("AWS_SECRET_ACCESS_KEY", "local")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("AWS_ENDPOINT_URL", &options.dynamodb_endpoint)
                .env("BACKEND_URL", &configuration.backend_url)
                .env("BACKEND_TIMEOUT_MS", configuration.backend_timeout.as_millis().to_string())
                .env("PROXY_SECRET", configuration.proxy_secret.expose_secret())
                .env("CONNECTIONS_TABLE", &configuration.table)
                .env("MANAGEMENT_ENDPOINT", &configuration.management_endpoint)
                .env("MAX_FRAME_BYTES", configuration.max_frame_bytes.to_string())
                .env("RUST_LOG", &options.log_level)
                // Its log lines (JSON, one per event) go to this terminal, as to CloudWatch in AWS.
                .stdin(Stdio::null());
            let child = command
                .spawn()
                .map_err(|source| FunctionError::Spawn { binary: options.binary.clone(), source })?;
            // Killed by a watchdog if this process dies without stopping it (SIGKILL, a panic in a
            // destructor): a function left polling a dead Runtime API would only log errors.
            let _ = local_services::watchdog::after_exit(&format!("kill {} 2>/dev/null", child.id()));
            function.processes.push(child);
        }
        Ok(function)
    }

    /// The processes' ids.
    pub fn pids(&self) -> Vec<u32> {
        self.processes.iter().map(Child::id).collect()
    }

    /// Stops every copy and waits for it.
    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        for process in &mut self.processes {
            let _ = process.kill();
            let _ = process.wait();
        }
        self.processes.clear();
    }
}

impl Drop for CompiledFunction {
    fn drop(&mut self) {
        self.kill();
    }
}
