//! Where a client's token comes from at the WebSocket handshake.
//!
//! Browsers cannot set headers on a WebSocket, so a browser offers two subprotocols, `chat.v1` and
//! `bearer.<jwt>`, and the server echoes `chat.v1`. Other clients may use `?token=`, `Authorization: Bearer`
//! or `X-Api-Key`. Every transport (the backend's direct WebSocket, the Lambda behind API Gateway) reads the
//! token through these functions, so they agree on precedence.

/// The application subprotocol a server echoes.
pub const CHAT_SUBPROTOCOL: &str = "chat.v1";

/// Prefix of the subprotocol that carries the token.
pub const BEARER_SUBPROTOCOL_PREFIX: &str = "bearer.";

/// Where a token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `?token=` in the URL.
    Query,
    /// `Sec-WebSocket-Protocol: chat.v1, bearer.<jwt>`.
    Subprotocol,
    /// `Authorization: Bearer <jwt>`.
    AuthorizationHeader,
    /// `X-Api-Key: <jwt>`.
    ApiKeyHeader,
}

/// The token carried by a `Sec-WebSocket-Protocol` header value, if any.
pub fn token_from_subprotocols(header: &str) -> Option<&str> {
    header
        .split(',')
        .map(str::trim)
        .find_map(|p| p.strip_prefix(BEARER_SUBPROTOCOL_PREFIX))
        .filter(|t| !t.is_empty())
}

/// Whether a `Sec-WebSocket-Protocol` header value offers [`CHAT_SUBPROTOCOL`].
pub fn offers_chat_subprotocol(header: &str) -> bool {
    header.split(',').map(str::trim).any(|p| p == CHAT_SUBPROTOCOL)
}

/// The token of an `Authorization` header value, if it is a bearer token.
pub fn token_from_authorization(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// Picks the token from what the handshake carried, in the order query, subprotocol, `Authorization`,
/// `X-Api-Key`.
pub fn find_token<'a>(
    query_token: Option<&'a str>,
    subprotocols: Option<&'a str>,
    authorization: Option<&'a str>,
    api_key: Option<&'a str>,
) -> Option<(&'a str, TokenSource)> {
    query_token
        .filter(|t| !t.is_empty())
        .map(|t| (t, TokenSource::Query))
        .or_else(|| subprotocols.and_then(token_from_subprotocols).map(|t| (t, TokenSource::Subprotocol)))
        .or_else(|| {
            authorization.and_then(token_from_authorization).map(|t| (t, TokenSource::AuthorizationHeader))
        })
        .or_else(|| api_key.map(str::trim).filter(|t| !t.is_empty()).map(|t| (t, TokenSource::ApiKeyHeader)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_subprotocol_pair_yields_the_token() {
        assert_eq!(token_from_subprotocols("chat.v1, bearer.abc.def.ghi"), Some("abc.def.ghi"));
        assert!(offers_chat_subprotocol("chat.v1, bearer.x"));
        assert!(!offers_chat_subprotocol("bearer.x"));
        assert_eq!(token_from_subprotocols("chat.v1"), None);
        assert_eq!(token_from_subprotocols("bearer."), None);
    }

    #[test]
    fn authorization_header_needs_the_bearer_scheme() {
        assert_eq!(token_from_authorization("Bearer t0k"), Some("t0k"));
        assert_eq!(token_from_authorization("bearer   t0k "), Some("t0k"));
        assert_eq!(token_from_authorization("Basic dXNlcg=="), None);
        assert_eq!(token_from_authorization("Bearer "), None);
    }

    #[test]
    fn query_wins_then_subprotocol_then_headers() {
        assert_eq!(
            find_token(Some("q"), Some("bearer.s"), Some("Bearer a"), Some("k")),
            Some(("q", TokenSource::Query))
        );
        assert_eq!(
            find_token(Some(""), Some("chat.v1, bearer.s"), Some("Bearer a"), None),
            Some(("s", TokenSource::Subprotocol))
        );
        assert_eq!(
            find_token(None, None, Some("Bearer a"), Some("k")),
            Some(("a", TokenSource::AuthorizationHeader))
        );
        assert_eq!(find_token(None, None, None, Some("k")), Some(("k", TokenSource::ApiKeyHeader)));
        assert_eq!(find_token(None, Some("chat.v1"), None, None), None);
    }
}
