//! What the deployables' HTTP clients (reqwest) say about a failed call (feature `http`).

/// A reqwest error's kind and causes, without the URL: a URL is logged beside it if at all (it may be
/// long, and a query string is no place for a log line).
pub fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_decode() {
        "unreadable body"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
