//! `moto_server` on a free loopback port, shared by every test of a process, answering one request at a
//! time (`moto_serialized.py`: moto's transactions are not atomic under concurrent requests, DynamoDB's
//! are).
//!
//! moto is faithful for the DynamoDB operations the project uses (conditional writes, Query with
//! pagination, TransactWriteItems); it never expires TTL items, so expiry logic is tested by reading the
//! `ttl` attribute. Install it with `pip install 'moto[server]'` (the Makefile does when it is missing).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::{free_port, wait_for_port, watchdog};

/// A running `moto_server`.
#[derive(Debug)]
pub struct Moto {
    port: u16,
    pid: u32,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

impl Moto {
    /// The server of this test process, started on first use.
    ///
    /// # Panics
    /// When `moto_server` cannot be started; the message says why.
    pub fn shared() -> &'static Moto {
        MOTO.get_or_init(|| match start() {
            Ok(moto) => moto,
            Err(why) => panic!("moto_server could not start, so the DynamoDB tests cannot run: {why}"),
        })
    }

    /// A server of its own, for a test that must do something to it (freeze it); stopped when dropped.
    ///
    /// # Panics
    /// When `moto_server` cannot be started; the message says why.
    pub fn private() -> Moto {
        start().unwrap_or_else(|why| panic!("moto_server could not start: {why}"))
    }

    /// Freezes the server (SIGSTOP): it keeps its port and accepts connections but answers nothing, as
    /// a service in trouble does.
    pub fn freeze(&self) {
        signal(self.pid, "-STOP");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) {
        signal(self.pid, "-CONT");
    }

    /// The endpoint URL to give the AWS SDK (`AWS_ENDPOINT_URL`).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill").args([signal, &pid.to_string()]).status();
    assert!(status.is_ok_and(|s| s.success()), "kill {signal} {pid} failed");
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Only private servers are ever dropped (the shared one lives in a static).
        signal(self.pid, "-CONT");
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

fn start() -> Result<Moto, String> {
    let program = std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".into());
    let port = free_port();
    let log: PathBuf = std::env::temp_dir().join(format!("moto-{}-{port}.log", std::process::id()));
    let log_file = std::fs::File::create(&log).map_err(|e| format!("log file {}: {e}", log.display()))?;
    let child = Command::new(&program)
        .args(["-c", include_str!("moto_serialized.py"), "127.0.0.1", &port.to_string()])
        // No `MOTO_IAM_LOAD_MANAGED_POLICIES`: no Rust test uses IAM, and AWS's managed policies made
        // `/moto-api/data.json` (where tests read the emails SES kept) 4 MB and 2.5 s, during which this
        // one-request-at-a-time server answered nothing else.
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
        .stderr(log_file)
        .spawn()
        .map_err(|e| {
            format!("cannot run {program:?} ({e}); moto needs Python 3 and pip install 'moto[server]'")
        })?;
    watchdog::after_exit(&format!("kill {} 2>/dev/null; rm -f '{}'", child.id(), log.display()))
        .map_err(|e| format!("starting the watchdog: {e}"))?;
    if !wait_for_port(port, Duration::from_secs(60)) {
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!("not listening on {port} after 60 s\n--- moto log ---\n{output}"));
    }
    eprintln!("moto_server started on 127.0.0.1:{port}");
    Ok(Moto { port, pid: child.id() })
}
