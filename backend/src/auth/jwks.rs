//! An identity provider's signing keys: fetched from its JWKS URL (`JWT_JWKS_URL`) and cached by `kid`.
//!
//! A token whose `kid` the cache does not know, or any token once the keys are older than
//! [`JwksSettings::max_age`], triggers a refresh; refreshes start at most once per
//! [`JwksSettings::min_refresh_interval`], so a flood of tokens with made-up `kid`s costs the provider one
//! request per interval, and one fetch runs at a time: tokens that need one wait for the fetch in flight
//! instead of starting their own, while tokens whose key is cached and fresh never wait. Keys are also
//! fetched once at start ([`JwksKeys::prefetch`]), which only logs a failure: a provider that is briefly
//! down must not keep the backend from starting, and the first token that needs the keys tries again.
//!
//! A failed fetch is logged with the URL and the cause (never a token) and refuses the tokens that needed
//! it ([`AuthError::KeysUnavailable`]); keys already cached keep verifying. Only keys that can sign what we
//! accept are kept: RSA keys (RS256) and EC keys on P-256 (ES256), not marked for encryption, not
//! published for another algorithm. Each key verifies exactly one algorithm.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use super::AuthError;
use crate::config::JwksSettings;

/// The largest JWKS document read: a provider publishes a handful of keys, a few KB.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Why the identity provider's keys could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The request failed: no connection, a timeout, TLS.
    #[error("request failed: {0}")]
    Request(String),
    /// The provider answered, but not with 200.
    #[error("the JWKS URL answered HTTP {0}")]
    Status(u16),
    /// The answer is larger than a JWKS can reasonably be.
    #[error("the answer is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    /// The answer is not a JSON Web Key Set.
    #[error("the answer is not a JSON Web Key Set: {0}")]
    Malformed(String),
    /// The set holds no key we can verify with (RSA, or EC on P-256, with a `kid`).
    #[error("the set holds no RS256 or ES256 signing key with a kid")]
    NoUsableKey,
    /// The last fetch failed, and the next is not due yet.
    #[error("the last fetch failed and the next is not due yet")]
    NotDue,
}

/// A public key of the provider and the one algorithm it verifies.
#[derive(Debug)]
pub(super) struct VerifyingKey {
    /// The key.
    pub(super) key: DecodingKey,
    /// RS256 for an RSA key, ES256 for a P-256 key.
    pub(super) algorithm: Algorithm,
}

/// The provider's keys, shared by every clone.
#[derive(Clone)]
pub(super) struct JwksKeys {
    inner: Arc<Inner>,
}

struct Inner {
    settings: JwksSettings,
    /// The HTTP client, or why none could be built (then every fetch fails with it).
    client: Result<reqwest::Client, String>,
    cache: RwLock<Cache>,
    /// Held while fetching, so that one fetch runs at a time; holds when the last token-triggered fetch
    /// started, for the rate limit.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

#[derive(Default)]
struct Cache {
    keys: HashMap<String, Arc<VerifyingKey>>,
    /// When the keys were fetched; `None` until a fetch succeeds.
    fetched_at: Option<Instant>,
}

impl JwksKeys {
    /// An empty cache for the provider at `settings.url`; nothing is fetched yet.
    pub(super) fn new(settings: &JwksSettings) -> Self {
        let client = crate::outbound::client(settings.fetch_timeout).map_err(|e| {
            tracing::error!(error = %e, "cannot build the HTTP client of JWT_JWKS_URL");
            e.to_string()
        });
        Self {
            inner: Arc::new(Inner {
                settings: settings.clone(),
                client,
                cache: RwLock::new(Cache::default()),
                fetching: tokio::sync::Mutex::new(None),
            }),
        }
    }

    /// Fetches the keys unless they are cached. A failure is logged and does not count against the rate
    /// limit: the first token that needs the keys tries again.
    pub(super) async fn prefetch(&self) {
        let _fetching = self.inner.fetching.lock().await;
        if self.read().fetched_at.is_none() {
            let _logged = self.refresh().await;
        }
    }

    /// The key named `kid`, refreshing the cache first when it does not know `kid` or is older than the
    /// maximum age, if a refresh is due.
    ///
    /// # Errors
    /// [`AuthError::UnknownKey`] when the provider does not publish `kid` (or did not when last asked, and
    /// it is too soon to ask again); [`AuthError::KeysUnavailable`] when the keys could not be fetched and
    /// no cached key named `kid` remains to serve.
    pub(super) async fn key(&self, kid: &str) -> Result<Arc<VerifyingKey>, AuthError> {
        if let (Some(key), true) = self.cached(kid) {
            return Ok(key);
        }
        let mut last_attempt = self.inner.fetching.lock().await;
        // Another token may have refreshed the cache while this one waited.
        let (cached, fresh) = self.cached(kid);
        if let (Some(key), true) = (&cached, fresh) {
            return Ok(Arc::clone(key));
        }
        let due = last_attempt.is_none_or(|at| at.elapsed() >= self.inner.settings.min_refresh_interval);
        if !due {
            return match cached {
                // Stale, but better than refusing everyone until the next refresh is due.
                Some(key) => Ok(key),
                None if self.read().fetched_at.is_some() => Err(AuthError::UnknownKey),
                None => Err(AuthError::KeysUnavailable(JwksError::NotDue)),
            };
        }
        *last_attempt = Some(Instant::now());
        match self.refresh().await {
            Ok(()) => self.cached(kid).0.ok_or(AuthError::UnknownKey),
            // A key the provider published stays usable while it cannot be asked.
            Err(error) => cached.ok_or(AuthError::KeysUnavailable(error)),
        }
    }

    /// The cached key named `kid`, and whether the cache is younger than the maximum age.
    fn cached(&self, kid: &str) -> (Option<Arc<VerifyingKey>>, bool) {
        let cache = self.read();
        let fresh = cache.fetched_at.is_some_and(|at| at.elapsed() < self.inner.settings.max_age);
        (cache.keys.get(kid).cloned(), fresh)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Cache> {
        // The cache is replaced whole, so a panic elsewhere cannot leave it half written.
        self.inner.cache.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fetches the set and replaces the cache with it; on failure logs why and keeps the cache.
    async fn refresh(&self) -> Result<(), JwksError> {
        let url = self.inner.settings.url.as_str();
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url, keys = keys.len(), "fetched the identity provider's keys (JWT_JWKS_URL)");
                let mut cache = self.inner.cache.write().unwrap_or_else(PoisonError::into_inner);
                *cache = Cache { keys, fetched_at: Some(Instant::now()) };
                Ok(())
            }
            Err(error) => {
                tracing::error!(
                    url,
                    error = %error,
                    "cannot fetch the identity provider's keys (JWT_JWKS_URL): its tokens are refused until a fetch succeeds, except those whose key is cached"
                );
                Err(error)
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<VerifyingKey>>, JwksError> {
        let client = self.inner.client.as_ref().map_err(|e| JwksError::Request(e.clone()))?;
        let mut response = client
            .get(&self.inner.settings.url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| JwksError::Request(chat_settings::http::describe(&e)))?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(JwksError::Status(response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| JwksError::Request(chat_settings::http::describe(&e)))?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(JwksError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        parse(&body)
    }
}

impl std::fmt::Debug for JwksKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksKeys")
            .field("url", &self.inner.settings.url)
            .field("keys", &self.read().keys.len())
            .finish_non_exhaustive()
    }
}

/// A JWKS document, each key read on its own so that one we cannot parse does not spoil the others.
#[derive(Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

/// The usable keys of a JWKS document, by `kid`.
fn parse(body: &[u8]) -> Result<HashMap<String, Arc<VerifyingKey>>, JwksError> {
    let set: KeySet = serde_json::from_slice(body).map_err(|e| JwksError::Malformed(e.to_string()))?;
    let keys: HashMap<_, _> = set
        .keys
        .into_iter()
        .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
        .filter_map(|jwk| usable(&jwk))
        .collect();
    if keys.is_empty() { Err(JwksError::NoUsableKey) } else { Ok(keys) }
}

/// The key's `kid` and what it verifies, if it is a signing key we accept.
fn usable(jwk: &Jwk) -> Option<(String, Arc<VerifyingKey>)> {
    let kid = jwk.common.key_id.clone()?;
    if jwk.common.public_key_use.as_ref().is_some_and(|usage| *usage != PublicKeyUse::Signature) {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => Algorithm::ES256,
        _ => return None,
    };
    // A key published for another algorithm (RS512, PS256, ...) is not one we verify with.
    if jwk.common.key_algorithm.is_some_and(|published| published != KeyAlgorithm::from(algorithm)) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, Arc::new(VerifyingKey { key, algorithm })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_signing_keys_of_the_accepted_algorithms_are_kept() {
        // A P-256 and an RSA public key (RFC 7515, appendices A.3 and A.2).
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        let rsa_n = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
        let rsa = json!({"kty": "RSA", "n": rsa_n, "e": "AQAB"});
        let with = |key: &serde_json::Value, extra: serde_json::Value| {
            let mut key = key.clone();
            key.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
            key
        };
        let body = json!({"keys": [
            with(&rsa, json!({"kid": "rsa", "use": "sig", "alg": "RS256"})),
            with(&ec, json!({"kid": "ec", "alg": "ES256"})),
            with(&rsa, json!({"kid": "no-alg"})),
            with(&rsa, json!({"kid": "encryption", "use": "enc"})),
            with(&rsa, json!({"kid": "rs512", "alg": "RS512"})),
            with(&ec, json!({"kid": "ec-as-rsa", "alg": "RS256"})),
            with(&rsa, json!({})),
            {"kid": "hmac", "kty": "oct", "k": "c2VjcmV0"},
            {"kid": "garbage", "kty": "RSA"},
            {"kid": "future", "kty": "AKP", "alg": "ML-DSA-44", "pub": "AAAA"},
        ]});
        let keys = parse(body.to_string().as_bytes()).expect("usable keys");
        let mut found: Vec<_> = keys.iter().map(|(kid, key)| (kid.as_str(), key.algorithm)).collect();
        found.sort_by_key(|(kid, _)| *kid);
        assert_eq!(
            found,
            [("ec", Algorithm::ES256), ("no-alg", Algorithm::RS256), ("rsa", Algorithm::RS256)]
        );
    }

    #[test]
    fn a_set_without_a_usable_key_or_not_a_set_at_all_is_an_error() {
        assert!(matches!(parse(br#"{"keys": []}"#), Err(JwksError::NoUsableKey)));
        assert!(matches!(
            parse(br#"{"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]}"#),
            Err(JwksError::NoUsableKey)
        ));
        assert!(matches!(parse(b"<html>"), Err(JwksError::Malformed(_))));
        assert!(matches!(parse(br#"{"key": []}"#), Err(JwksError::Malformed(_))));
    }
}
