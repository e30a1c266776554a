//! The HTTP client of every request the backend makes to a URL its configuration names (the identity
//! provider's keys, the pre-send hook): rustls on ring with the system roots read once, as the
//! deployables' other HTTPS clients, one timeout for connecting and for the whole exchange, and no
//! redirects (an answer comes from the configured URL, not from wherever it points, possibly over plain
//! HTTP).

use std::time::Duration;

/// A client whose requests take at most `timeout`.
///
/// # Errors
/// reqwest's, when the TLS configuration cannot be used.
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(chat_settings::tls::client_config())
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("chat-backend/", env!("CARGO_PKG_VERSION")))
        .build()
}
