//! Authentication: verifying (and, locally, minting) the JWTs clients present.
//!
//! Two kinds of token are accepted, each only when configured:
//! - HS256, signed with the shared secret `JWT_SECRET` (our own tokens: the marketplace's, the local ones).
//! - RS256 and ES256, signed by an identity provider (Cognito, Auth0, ...) whose public keys are published
//!   at `JWT_JWKS_URL`. The token's `kid` names the key; the key's type (RSA, or EC on P-256) decides the
//!   one algorithm it verifies, and a token whose `alg` is another is refused. Keys are cached
//!   (`auth/jwks.rs`); an unknown `kid` triggers a refresh, at most one per
//!   [`JwksSettings::min_refresh_interval`](crate::config::JwksSettings). With an identity provider,
//!   `iss` and `aud` are required settings, so its tokens for other applications are refused.
//!
//! For every token, `exp` is required; `nbf`, when present, must have passed, and `iat`, when present, must
//! not lie in the future (all three with the same small leeway for clock skew); `iss` and `aud` are checked
//! when configured; `sub` must be a plausible user id (1 to [`MAX_USER_ID_CHARS`] characters, no control
//! characters), because it is stored and compared as text. Any other algorithm, `alg: none` included, is
//! refused. Verification is async because it may fetch the provider's keys. The HTTP edge's extractor of
//! an authenticated caller is `http::extract::AuthUser`, and the WebSocket handshakes call
//! [`TokenVerifier::verify`] on whatever [`chat_wire::handshake::find_token`] found; this module knows
//! nothing of HTTP.

mod jwks;

use std::time::Duration;

use chat_wire::time::now_seconds;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::JwtSettings;
pub use jwks::JwksError;
use jwks::JwksKeys;

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
    pub aud: Option<Audience>,
}

/// A token's `aud`: one audience, or several (Auth0's access tokens name the API and its `userinfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "chat"`.
    One(String),
    /// `"aud": ["chat", "..."]`.
    Many(Vec<String>),
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
    /// The token's `alg` is not one this deployment accepts (HS256 without `JWT_SECRET`, RS256 or ES256
    /// without `JWT_JWKS_URL`, anything else always), or not the one of the key its `kid` names.
    #[error("invalid token: algorithm not accepted")]
    AlgorithmNotAccepted,
    /// An RS256 or ES256 token without a `kid`, or one whose `kid` the identity provider does not publish
    /// (even after a refresh of its keys).
    #[error("invalid token: unknown signing key")]
    UnknownKey,
    /// The identity provider's keys could not be fetched (logged where it happened).
    #[error("cannot verify the token now: the identity provider's keys are unavailable")]
    KeysUnavailable(#[source] JwksError),
    /// Malformed, forged, wrong issuer or audience.
    #[error("invalid token")]
    Invalid(#[source] jsonwebtoken::errors::Error),
}

/// Longest user id (`sub`) accepted.
pub const MAX_USER_ID_CHARS: usize = 255;

/// Checks tokens. Built once from the configuration; cheap to clone (the key cache is shared).
#[derive(Clone)]
pub struct TokenVerifier {
    /// The HS256 key, when `JWT_SECRET` is set.
    secret: Option<DecodingKey>,
    /// The identity provider's keys, when `JWT_JWKS_URL` is set.
    jwks: Option<JwksKeys>,
    /// Leeway, issuer, audience and required claims; the algorithm is set per token.
    validation: Validation,
}

impl TokenVerifier {
    /// A verifier for the configured secret, identity provider, issuer and audience. Keys are fetched on
    /// first use, or by [`TokenVerifier::prefetch`].
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
        Self {
            secret: settings.secret.as_ref().map(|s| DecodingKey::from_secret(s.expose_secret().as_bytes())),
            jwks: settings.jwks.as_ref().map(JwksKeys::new),
            validation,
        }
    }

    /// Fetches the identity provider's keys now (at start), if one is configured, so that the first
    /// token need not wait for them. A failure is logged, not returned: the provider may be briefly down,
    /// and the keys are fetched again when a token needs them.
    pub async fn prefetch(&self) {
        if let Some(jwks) = &self.jwks {
            jwks.prefetch().await;
        }
    }

    /// Verifies a token and returns its claims.
    ///
    /// # Errors
    /// [`AuthError::Expired`] past `exp` plus leeway; [`AuthError::NotYetValid`] before `nbf` or `iat`
    /// minus leeway; [`AuthError::InvalidSubject`] for an unusable `sub`; [`AuthError::AlgorithmNotAccepted`],
    /// [`AuthError::UnknownKey`] and [`AuthError::KeysUnavailable`] as they say; [`AuthError::Invalid`]
    /// for everything else wrong.
    pub async fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(AuthError::Invalid)?;
        let fetched;
        let key = match (header.alg, &self.secret, &self.jwks) {
            (Algorithm::HS256, Some(secret), _) => secret,
            (Algorithm::RS256 | Algorithm::ES256, _, Some(jwks)) => {
                let kid = header.kid.as_deref().ok_or(AuthError::UnknownKey)?;
                let key = jwks.key(kid).await?;
                // A key verifies one algorithm: an RSA key's token cannot pass as ES256, nor the reverse.
                if key.algorithm != header.alg {
                    return Err(AuthError::AlgorithmNotAccepted);
                }
                fetched = key;
                &fetched.key
            }
            _ => return Err(AuthError::AlgorithmNotAccepted),
        };
        let mut validation = self.validation.clone();
        validation.algorithms = vec![header.alg];
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
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
        f.debug_struct("TokenVerifier")
            .field("hs256", &self.secret.is_some())
            .field("jwks", &self.jwks)
            .finish_non_exhaustive()
    }
}

/// Whether `sub` can name a user: 1 to [`MAX_USER_ID_CHARS`] characters, none of them a control character.
pub fn is_valid_user_id(sub: &str) -> bool {
    !sub.is_empty() && sub.chars().count() <= MAX_USER_ID_CHARS && !sub.chars().any(char::is_control)
}

/// Why no token could be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// `JWT_SECRET` is not set: tokens come from the identity provider only.
    #[error("no JWT_SECRET to sign with: this deployment's tokens come from its identity provider")]
    NoSecret,
    /// Signing failed.
    #[error("cannot sign the token")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Mints HS256 tokens with the configured secret: for local demos, smoke tests and tests.
///
/// # Errors
/// [`MintError::NoSecret`] without `JWT_SECRET`; [`MintError::Sign`] if signing fails.
pub fn mint_token(settings: &JwtSettings, user_id: &str, ttl: Duration) -> Result<String, MintError> {
    let secret = settings.secret.as_ref().ok_or(MintError::NoSecret)?;
    Ok(chat_wire::token::mint_hs256(
        secret.expose_secret().as_bytes(),
        user_id,
        ttl,
        settings.issuer.as_deref(),
        settings.audience.as_deref(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use secrecy::SecretString;

    fn settings(secret: &str) -> JwtSettings {
        JwtSettings {
            secret: Some(SecretString::from(secret.to_owned())),
            issuer: None,
            audience: None,
            leeway: Duration::from_secs(5),
            jwks: None,
        }
    }

    #[tokio::test]
    async fn minted_token_verifies() {
        let s = settings("k");
        let token = mint_token(&s, "alice", Duration::from_secs(60)).expect("mint");
        assert_eq!(TokenVerifier::new(&s).verify(&token).await.expect("valid").sub, "alice");
    }

    #[tokio::test]
    async fn token_signed_with_another_secret_is_invalid() {
        let token = mint_token(&settings("other"), "alice", Duration::from_secs(60)).expect("mint");
        assert!(matches!(
            TokenVerifier::new(&settings("k")).verify(&token).await,
            Err(AuthError::Invalid(_))
        ));
    }

    fn signed(claims: &serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("sign")
    }

    #[tokio::test]
    async fn a_token_that_becomes_valid_later_is_refused_until_then() {
        let verifier = TokenVerifier::new(&settings("k"));
        let now = now_seconds();
        let later = signed(&serde_json::json!({"sub": "alice", "exp": now + 7200, "nbf": now + 3600}), "k");
        assert!(matches!(verifier.verify(&later).await, Err(AuthError::NotYetValid)));
        let issued_later =
            signed(&serde_json::json!({"sub": "alice", "exp": now + 7200, "iat": now + 3600}), "k");
        assert!(matches!(verifier.verify(&issued_later).await, Err(AuthError::NotYetValid)));
        // Within the leeway (5 s here), clock skew is tolerated as it is for `exp`.
        let skewed = signed(
            &serde_json::json!({"sub": "alice", "exp": now + 60, "nbf": now + 3, "iat": now + 3}),
            "k",
        );
        assert!(verifier.verify(&skewed).await.is_ok());
    }

    #[tokio::test]
    async fn a_subject_that_cannot_name_a_user_is_refused() {
        let verifier = TokenVerifier::new(&settings("k"));
        let exp = now_seconds() + 60;
        for sub in ["", "al\u{0}ice", "line\nbreak", &"x".repeat(MAX_USER_ID_CHARS + 1)] {
            let token = signed(&serde_json::json!({"sub": sub, "exp": exp}), "k");
            assert!(matches!(verifier.verify(&token).await, Err(AuthError::InvalidSubject)), "{sub:?}");
        }
    }

    #[tokio::test]
    async fn issuer_and_audience_are_checked_when_configured() {
        let mut strict = settings("k");
        strict.issuer = Some("bookings".into());
        strict.audience = Some("chat".into());
        let plain = mint_token(&settings("k"), "alice", Duration::from_secs(60)).expect("mint");
        assert!(TokenVerifier::new(&strict).verify(&plain).await.is_err());
        let good = mint_token(&strict, "alice", Duration::from_secs(60)).expect("mint");
        assert!(TokenVerifier::new(&strict).verify(&good).await.is_ok());
    }
}
