//! Stops what a test process started once that process is gone: a detached `sh` polls the test
//! process's pid and then runs a cleanup command. This works whether the tests pass, fail, panic or are
//! killed, which a `Drop` on a `static` cannot promise.

use std::process::{Command, Stdio};

/// Runs `cleanup` (a shell command) after the current process exits.
///
/// # Errors
/// When `sh` cannot be started.
pub fn after_exit(cleanup: &str) -> std::io::Result<()> {
    let script =
        format!("while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {cleanup}", pid = std::process::id());
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
}
