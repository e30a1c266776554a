//! Minting HS256 tokens (feature `mint`): what `make token`, the smoke test, the local stack and the tests
//! sign with a shared secret. Production tokens come from the marketplace or its identity provider; the
//! backend only verifies them.

use std::time::Duration;

use serde::Serialize;

use crate::time::now_seconds;

/// The claims of a minted token: the user, its expiry and, when the deployment checks them, issuer and
/// audience.
#[derive(Debug, Clone, Serialize)]
struct Claims<'a> {
    sub: &'a str,
    exp: i64,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

/// An HS256 token for `user_id`, valid for `ttl`, signed with `secret`; with `iss` and `aud` when given.
///
/// # Errors
/// The encoder's error.
pub fn mint_hs256(
    secret: &[u8],
    user_id: &str,
    ttl: Duration,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = now_seconds();
    let claims = Claims {
        sub: user_id,
        exp: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
        iat: now,
        iss: issuer,
        aud: audience,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
}

/// An HS256 token for `user_id`, valid for `ttl`, with no issuer nor audience (a local deployment's).
///
/// # Errors
/// The encoder's error.
pub fn mint_local(secret: &str, user_id: &str, ttl: Duration) -> Result<String, jsonwebtoken::errors::Error> {
    mint_hs256(secret.as_bytes(), user_id, ttl, None, None)
}
