//! Real services for tests, started on loopback ports chosen at run time and stopped when the test
//! process exits, however it exits.
//!
//! # Layout
//! - [`postgres`]: a PostgreSQL cluster from the machine's binaries (`initdb`, `pg_ctl`), one per test
//!   process, a database per test.
//! - [`moto`]: `moto_server`, an AWS emulator faithful for the DynamoDB calls we make, one per test process.
//! - [`watchdog`]: the shell watchdog that stops a service once the test process is gone.
//!
//! Nothing here skips: when a service cannot start, [`postgres::Postgres::shared`] and
//! [`moto::Moto::shared`] panic with the reason, so the test fails and says why.

pub mod moto;
pub mod postgres;
pub mod watchdog;

/// A free TCP port on 127.0.0.1 (bound then released; the small race is acceptable for tests).
///
/// # Panics
/// When no port can be bound at all.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"))
}

/// Waits until something accepts TCP connections on `127.0.0.1:port`.
pub fn wait_for_port(port: u16, timeout: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}
