//! Authentication: verifying (and, locally, minting) the JWTs clients present.
//!
//! Tokens are HS256 with a configured secret. `exp` is required (with a small leeway); `iss` and `aud` are
//! checked when configured. Any other algorithm, `alg: none` included, is refused. The HTTP edge uses
//! [`AuthUser`], an extractor reading `Authorization: Bearer`; the WebSocket handshakes use
//! [`TokenVerifier::verify`] on whatever [`chat_wire::handshake::find_token`] found.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::JwtSettings;
use crate::http::AppState;

/// The claims we read from a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Issuer, when the deployment uses one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience, when the deployment uses one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// Why a token was refused. Every variant is a 401 / `AUTHENTICATION_ERROR`.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No token was presented.
    #[error("missing token")]
    Missing,
    /// The token's `exp` is in the past.
    #[error("token expired")]
    Expired,
    /// Malformed, forged, wrong algorithm, wrong issuer or audience.
    #[error("invalid token")]
    Invalid(#[source] jsonwebtoken::errors::Error),
}

/// Checks tokens. Built once from the configuration.
#[derive(Clone)]
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl TokenVerifier {
    /// A verifier for the configured secret, issuer and audience.
    pub fn new(settings: &JwtSettings) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = settings.leeway.as_secs();
        // A configured issuer or audience must also be present: jsonwebtoken only checks the claims a
        // token carries unless they are required.
        let mut required = vec!["exp", "sub"];
        match &settings.issuer {
            Some(issuer) => {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &settings.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        Self { key: DecodingKey::from_secret(settings.secret.expose_secret().as_bytes()), validation }
    }

    /// Verifies a token and returns its claims.
    ///
    /// # Errors
    /// [`AuthError::Expired`] past `exp` plus leeway; [`AuthError::Invalid`] for everything else wrong.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map(|data| data.claims).map_err(
            |e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid(e),
            },
        )
    }
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

/// Mints tokens with the configured secret: for local demos, smoke tests and tests.
pub fn mint_token(
    settings: &JwtSettings,
    user_id: &str,
    ttl: Duration,
) -> Result<String, jsonwebtoken::errors::Error> {
    let exp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().saturating_add(ttl).as_secs();
    let claims = Claims {
        sub: user_id.to_owned(),
        exp: i64::try_from(exp).unwrap_or(i64::MAX),
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(settings.secret.expose_secret().as_bytes()),
    )
}

/// The authenticated caller of an HTTP route (`Authorization: Bearer <jwt>`).
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user id (`sub`).
    pub user_id: String,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = crate::http::ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(chat_wire::handshake::token_from_authorization)
            .ok_or(AuthError::Missing)?;
        let claims = state.chat.verifier().verify(token)?;
        Ok(Self { user_id: claims.sub })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn settings(secret: &str) -> JwtSettings {
        JwtSettings {
            secret: SecretString::from(secret.to_owned()),
            issuer: None,
            audience: None,
            leeway: Duration::from_secs(5),
        }
    }

    #[test]
    fn minted_token_verifies() {
        let s = settings("k");
        let token = mint_token(&s, "alice", Duration::from_secs(60)).expect("mint");
        assert_eq!(TokenVerifier::new(&s).verify(&token).expect("valid").sub, "alice");
    }

    #[test]
    fn token_signed_with_another_secret_is_invalid() {
        let token = mint_token(&settings("other"), "alice", Duration::from_secs(60)).expect("mint");
        assert!(matches!(TokenVerifier::new(&settings("k")).verify(&token), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let mut strict = settings("k");
        strict.issuer = Some("bookings".into());
        strict.audience = Some("chat".into());
        let plain = mint_token(&settings("k"), "alice", Duration::from_secs(60)).expect("mint");
        assert!(TokenVerifier::new(&strict).verify(&plain).is_err());
        let good = mint_token(&strict, "alice", Duration::from_secs(60)).expect("mint");
        assert!(TokenVerifier::new(&strict).verify(&good).is_ok());
    }
}
