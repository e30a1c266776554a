//! A real PostgreSQL for the tests, started from the machine's binaries.
//!
//! The first test that asks starts one cluster for the whole test process: `initdb` into a temporary
//! directory, `pg_ctl start` on a free loopback port; each test then creates a database of its own.
//! `initdb` refuses to run as root, so as root the binaries run as the `postgres` user (or `nobody`). A
//! [`watchdog`](crate::watchdog) stops the server and removes the directory once the test process is gone.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::{free_port, watchdog};

/// A running cluster.
#[derive(Debug)]
pub struct Postgres {
    port: u16,
}

static CLUSTER: OnceLock<Postgres> = OnceLock::new();

impl Postgres {
    /// The cluster of this test process, started on first use.
    ///
    /// # Panics
    /// When PostgreSQL cannot start; the message carries the reason and the server log.
    pub fn shared() -> &'static Postgres {
        CLUSTER.get_or_init(|| match start() {
            Ok(cluster) => cluster,
            Err(why) => panic!("PostgreSQL could not start, so the PostgreSQL tests cannot run: {why}"),
        })
    }

    /// A URL for database `name` on this cluster (user `postgres`, trust authentication, loopback only).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

fn bin_dir() -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("no /usr/lib/postgresql ({e}); install PostgreSQL or set PG_BIN"))?
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("postgres").exists())
        .collect();
    versions.sort_by_key(|p| {
        p.parent()
            .and_then(Path::file_name)
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop().ok_or_else(|| "no PostgreSQL server under /usr/lib/postgresql/*/bin".into())
}

/// The user to run the server as: ourselves, or, as root, an unprivileged account.
fn run_as() -> Option<&'static str> {
    let root = std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false);
    if !root {
        return None;
    }
    let has_postgres = Command::new("id")
        .args(["-u", "postgres"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    Some(if has_postgres { "postgres" } else { "nobody" })
}

fn command(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", user, "--"]).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{what}: cannot run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn start() -> Result<Postgres, String> {
    let bin = bin_dir()?;
    let user = run_as();
    let root =
        tempfile::Builder::new().prefix("chat-pg-").tempdir().map_err(|e| format!("temp dir: {e}"))?.keep();
    let data = root.join("data");
    let log = root.join("postgres.log");
    if let Some(user) = user {
        let mut chown = Command::new("chown");
        chown.arg(user).arg(&root);
        run(chown, "chown of the cluster directory")?;
    }
    let mut initdb = command(user, &bin.join("initdb"));
    initdb.args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "-D"]).arg(&data);
    run(initdb, "initdb")?;

    let port = free_port();
    let options = format!(
        "-p {port} -h 127.0.0.1 -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c max_connections=300",
        root.display()
    );
    let mut pg_ctl = command(user, &bin.join("pg_ctl"));
    pg_ctl.args(["start", "-w", "-t", "60", "-D"]).arg(&data).arg("-l").arg(&log).arg("-o").arg(&options);
    let started = run(pg_ctl, "pg_ctl start");
    // Register the cleanup even when start failed half-way: a postmaster may be running.
    watchdog::after_exit(&format!(
        "kill -QUIT $(head -n 1 '{data}/postmaster.pid' 2>/dev/null) 2>/dev/null; sleep 1; rm -rf '{root}'",
        data = data.display(),
        root = root.display(),
    ))
    .map_err(|e| format!("starting the watchdog: {e}"))?;
    if let Err(why) = started {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!("{why}\n--- postgres.log ---\n{log}"));
    }
    eprintln!("PostgreSQL started from {} on 127.0.0.1:{port}", bin.display());
    Ok(Postgres { port })
}
