//! Authentication: verifying (and, locally, minting) the JWTs clients present.
//!
//! Tokens are HS256 with a configured secret. `exp` is required; `nbf`, when present, must have passed, and
//! `iat`, when present, must not lie in the future (all three with the same small leeway for clock skew);
//! `iss` and `aud` are checked when configured; `sub` must be a plausible user id (1 to
//! [`MAX_USER_ID_CHARS`] characters, no control characters), because it is stored and compared as text.
//! Any other algorithm, `alg: none` included, is refused. The HTTP edge's extractor of an authenticated
//! caller is `http::extract::AuthUser`, and the WebSocket handshakes call [`TokenVerifier::verify`] on
//! whatever [`chat_wire::handshake::find_token`] found; this module knows nothing of HTTP.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::JwtSettings;

/// The claims we read from a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Not valid before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Issued at, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
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
    /// The token's `nbf` or `iat` lies in the future.
    #[error("token not valid yet")]
    NotYetValid,
    /// `sub` is empty, too long, or holds control characters.
    #[error("invalid token: unusable subject")]
    InvalidSubject,
    /// Malformed, forged, wrong algorithm, wrong issuer or audience.
    #[error("invalid token")]
    Invalid(#[source] jsonwebtoken::errors::Error),
}

/// Longest user id (`sub`) accepted.
pub const MAX_USER_ID_CHARS: usize = 255;

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
        validation.validate_nbf = true;
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
    /// [`AuthError::Expired`] past `exp` plus leeway; [`AuthError::NotYetValid`] before `nbf` or `iat`
    /// minus leeway; [`AuthError::InvalidSubject`] for an unusable `sub`; [`AuthError::Invalid`] for
    /// everything else wrong.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                _ => AuthError::Invalid(e),
            })?;
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(i64::MAX);
        if claims.iat.is_some_and(|iat| iat > now_seconds().saturating_add(leeway)) {
            return Err(AuthError::NotYetValid);
        }
        if !is_valid_user_id(&claims.sub) {
            return Err(AuthError::InvalidSubject);
        }
        Ok(claims)
    }
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

/// Whether `sub` can name a user: 1 to [`MAX_USER_ID_CHARS`] characters, none of them a control character.
pub fn is_valid_user_id(sub: &str) -> bool {
    !sub.is_empty() && sub.chars().count() <= MAX_USER_ID_CHARS && !sub.chars().any(char::is_control)
}

fn now_seconds() -> i64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    i64::try_from(now).unwrap_or(i64::MAX)
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
        nbf: None,
        iat: Some(now_seconds()),
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(settings.secret.expose_secret().as_bytes()),
    )
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

    fn signed(claims: &serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("sign")
    }

    #[test]
    fn a_token_that_becomes_valid_later_is_refused_until_then() {
        let verifier = TokenVerifier::new(&settings("k"));
        let now = now_seconds();
        let later = signed(&serde_json::json!({"sub": "alice", "exp": now + 7200, "nbf": now + 3600}), "k");
        assert!(matches!(verifier.verify(&later), Err(AuthError::NotYetValid)));
        let issued_later =
            signed(&serde_json::json!({"sub": "alice", "exp": now + 7200, "iat": now + 3600}), "k");
        assert!(matches!(verifier.verify(&issued_later), Err(AuthError::NotYetValid)));
        // Within the leeway (5 s here), clock skew is tolerated as it is for `exp`.
        let skewed = signed(
            &serde_json::json!({"sub": "alice", "exp": now + 60, "nbf": now + 3, "iat": now + 3}),
            "k",
        );
        assert!(verifier.verify(&skewed).is_ok());
    }

    #[test]
    fn a_subject_that_cannot_name_a_user_is_refused() {
        let verifier = TokenVerifier::new(&settings("k"));
        let exp = now_seconds() + 60;
        for sub in ["", "al\u{0}ice", "line\nbreak", &"x".repeat(MAX_USER_ID_CHARS + 1)] {
            let token = signed(&serde_json::json!({"sub": sub, "exp": exp}), "k");
            assert!(matches!(verifier.verify(&token), Err(AuthError::InvalidSubject)), "{sub:?}");
        }
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
