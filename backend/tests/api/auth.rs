//! Tokens from an identity provider: RS256 and ES256 tokens verified against a JWKS the test serves on
//! 127.0.0.1, signed with RSA and P-256 keys generated at test time (aws-lc-rs, independently of the
//! verifier's JWT library). The verifier is driven directly, since its cache and rate limit are what is
//! tested (counted in the JWKS server's hits), and the whole backend once, through its HTTP API.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chat_backend::auth::{AuthError, JwksError, TokenVerifier};
use chat_backend::config::{JwksSettings, JwtSettings};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::helpers::{StoreKind, chrono_now, spawn_app_with, token as hs256_token};

const ISSUER: &str = "https://idp.test/";
const AUDIENCE: &str = "booking-chat";
/// Long enough that no second fetch becomes due during a test.
const HOUR: Duration = Duration::from_secs(3600);

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A key the test identity provider signs with.
struct SigningKey {
    kid: String,
    pair: Pair,
}

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl SigningKey {
    fn rsa(kid: &str) -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key");
        Self { kid: kid.to_owned(), pair: Pair::Rsa(pair) }
    }

    fn ec(kid: &str) -> Self {
        let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key");
        Self { kid: kid.to_owned(), pair: Pair::Ec(pair) }
    }

    fn alg(&self) -> &'static str {
        match self.pair {
            Pair::Rsa(_) => "RS256",
            Pair::Ec(_) => "ES256",
        }
    }

    /// The public key as the provider publishes it.
    fn jwk(&self) -> Value {
        match &self.pair {
            Pair::Rsa(pair) => {
                let public = pair.public_key();
                json!({
                    "kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Pair::Ec(pair) => {
                // The uncompressed point: 0x04, x, y.
                let point = pair.public_key().as_ref();
                json!({
                    "kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
                    "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                })
            }
        }
    }

    /// A token with these claims signed by this key, whatever `alg` and `kid` its header claims.
    fn sign_as(&self, alg: &str, kid: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": alg, "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = kid.into();
        }
        let message =
            format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let signature = match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message.as_bytes(),
                    &mut signature,
                )
                .expect("RSA signature");
                signature
            }
            Pair::Ec(pair) => pair
                .sign(&SystemRandom::new(), message.as_bytes())
                .expect("ECDSA signature")
                .as_ref()
                .to_vec(),
        };
        format!("{message}.{}", b64(&signature))
    }

    /// A token with these claims, as the provider issues them.
    fn sign(&self, claims: &Value) -> String {
        self.sign_as(self.alg(), Some(&self.kid), claims)
    }

    /// A valid token for `user`.
    fn token(&self, user: &str) -> String {
        self.sign(&claims(user))
    }
}

/// What the provider puts in a token for `user` of this application.
fn claims(user: &str) -> Value {
    json!({"sub": user, "iss": ISSUER, "aud": AUDIENCE, "iat": chrono_now(), "exp": chrono_now() + 3600})
}

/// A test identity provider: its JWKS at `/.well-known/jwks.json`, with the keys it publishes now, the
/// number of times it was asked, and a switch that makes it answer 503.
struct Idp {
    url: String,
    state: IdpState,
    _shutdown: oneshot::Sender<()>,
}

#[derive(Clone, Default)]
struct IdpState {
    keys: Arc<Mutex<Vec<Value>>>,
    hits: Arc<AtomicUsize>,
    down: Arc<AtomicBool>,
}

async fn jwks(State(state): State<IdpState>) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    if state.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys = state.keys.lock().expect("keys").clone();
    Json(json!({"keys": keys})).into_response()
}

impl Idp {
    async fn start(keys: &[&SigningKey]) -> Self {
        let state = IdpState::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().expect("addr"));
        let app = axum::Router::new()
            .route("/.well-known/jwks.json", axum::routing::get(jwks))
            .with_state(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        let idp = Self { url, state, _shutdown: tx };
        idp.publish(keys);
        idp
    }

    /// Publishes exactly these keys from now on.
    fn publish(&self, keys: &[&SigningKey]) {
        *self.state.keys.lock().expect("keys") = keys.iter().map(|key| key.jwk()).collect();
    }

    fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// A verifier of this provider's tokens only (no HS256 secret), refreshing at most once per
    /// `min_refresh_interval` and trusting fetched keys for `max_age`.
    fn verifier(&self, min_refresh_interval: Duration, max_age: Duration) -> TokenVerifier {
        verifier_for(&self.url, min_refresh_interval, max_age)
    }
}

fn verifier_for(url: &str, min_refresh_interval: Duration, max_age: Duration) -> TokenVerifier {
    TokenVerifier::new(&JwtSettings {
        secret: None,
        issuer: Some(ISSUER.to_owned()),
        audience: Some(AUDIENCE.to_owned()),
        leeway: Duration::from_secs(5),
        jwks: Some(JwksSettings {
            url: url.to_owned(),
            fetch_timeout: Duration::from_secs(5),
            min_refresh_interval,
            max_age,
        }),
    })
}

#[tokio::test]
async fn rs256_and_es256_tokens_of_the_identity_provider_are_accepted() {
    let (rsa, ec) = (SigningKey::rsa("rsa-1"), SigningKey::ec("ec-1"));
    let idp = Idp::start(&[&rsa, &ec]).await;
    let verifier = idp.verifier(HOUR, HOUR);
    assert_eq!(verifier.verify(&rsa.token("alice")).await.expect("RS256").sub, "alice");
    assert_eq!(verifier.verify(&ec.token("bob")).await.expect("ES256").sub, "bob");
    // An audience list that names this application (as Auth0's access tokens have) is accepted too.
    let mut listed = claims("carol");
    listed["aud"] = json!(["https://tenant.example/userinfo", AUDIENCE]);
    assert_eq!(verifier.verify(&rsa.sign(&listed)).await.expect("aud list").sub, "carol");
    assert_eq!(idp.hits(), 1, "the keys were fetched once, then served from the cache");
}

#[tokio::test]
async fn tokens_for_another_issuer_or_audience_or_without_one_are_refused() {
    let rsa = SigningKey::rsa("rsa-1");
    let idp = Idp::start(&[&rsa]).await;
    let verifier = idp.verifier(HOUR, HOUR);
    let with = |key: &str, value: Value| {
        let mut claims = claims("alice");
        if value.is_null() {
            claims.as_object_mut().expect("object").remove(key);
        } else {
            claims[key] = value;
        }
        rsa.sign(&claims)
    };
    for (case, token) in [
        ("another issuer", with("iss", json!("https://evil.test/"))),
        ("no issuer", with("iss", Value::Null)),
        ("another audience", with("aud", json!("another-app"))),
        ("a list without our audience", with("aud", json!(["another-app"]))),
        ("no audience", with("aud", Value::Null)),
    ] {
        let refused = verifier.verify(&token).await;
        assert!(matches!(refused, Err(AuthError::Invalid(_))), "{case}: {refused:?}");
    }
}

#[tokio::test]
async fn an_expired_provider_token_is_refused() {
    let ec = SigningKey::ec("ec-1");
    let idp = Idp::start(&[&ec]).await;
    let mut expired = claims("alice");
    expired["exp"] = json!(chrono_now() - 600);
    let refused = idp.verifier(HOUR, HOUR).verify(&ec.sign(&expired)).await;
    assert!(matches!(refused, Err(AuthError::Expired)), "{refused:?}");
}

#[tokio::test]
async fn a_key_rotated_in_is_fetched_once_and_a_kid_never_published_is_refused_after_one_fetch() {
    let (old, new, never) = (SigningKey::rsa("2024"), SigningKey::rsa("2025"), SigningKey::ec("forged"));
    let idp = Idp::start(&[&old]).await;
    // No rate limit here: every unknown kid may refresh (the limit has its own test).
    let verifier = idp.verifier(Duration::ZERO, HOUR);
    assert!(verifier.verify(&old.token("alice")).await.is_ok());
    assert_eq!(idp.hits(), 1);

    idp.publish(&[&old, &new]);
    assert_eq!(verifier.verify(&new.token("alice")).await.expect("rotated in").sub, "alice");
    assert_eq!(idp.hits(), 2, "the unknown kid refreshed the keys once");
    assert!(verifier.verify(&new.token("bob")).await.is_ok());
    assert!(verifier.verify(&old.token("bob")).await.is_ok());
    assert_eq!(idp.hits(), 2, "known kids are served from the cache");

    let refused = verifier.verify(&never.token("alice")).await;
    assert!(matches!(refused, Err(AuthError::UnknownKey)), "{refused:?}");
    assert_eq!(idp.hits(), 3, "one refresh, then refused");
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_the_keys_at_most_once_per_interval() {
    let (known, forger) = (SigningKey::rsa("known"), SigningKey::rsa("forger"));
    let idp = Idp::start(&[&known]).await;
    let verifier = idp.verifier(HOUR, HOUR);
    // Concurrent, before any key is cached: one fetch serves them all.
    let forged: Vec<String> =
        (0..20).map(|i| forger.sign_as("RS256", Some(&format!("kid-{i}")), &claims("alice"))).collect();
    let results = futures_util::future::join_all(forged.iter().map(|token| verifier.verify(token))).await;
    for refused in &results {
        assert!(matches!(refused, Err(AuthError::UnknownKey)), "{refused:?}");
    }
    assert_eq!(idp.hits(), 1);
    // And afterwards, one at a time, within the interval: none.
    for i in 20..40 {
        let token = forger.sign_as("RS256", Some(&format!("kid-{i}")), &claims("alice"));
        assert!(matches!(verifier.verify(&token).await, Err(AuthError::UnknownKey)));
    }
    assert_eq!(idp.hits(), 1, "the interval holds refreshes back");
    assert!(verifier.verify(&known.token("alice")).await.is_ok(), "the known key still verifies");
    // The price of the limit: a key rotated in within the interval waits for the next refresh.
    let rotated = SigningKey::ec("rotated");
    idp.publish(&[&known, &rotated]);
    assert!(matches!(verifier.verify(&rotated.token("alice")).await, Err(AuthError::UnknownKey)));
    assert_eq!(idp.hits(), 1);
}

#[tokio::test]
async fn hs256_and_unsigned_tokens_are_refused_when_only_an_identity_provider_is_configured() {
    let rsa = SigningKey::rsa("rsa-1");
    let idp = Idp::start(&[&rsa]).await;
    let verifier = idp.verifier(HOUR, HOUR);
    let hs256 = |secret: &[u8]| {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some("rsa-1".to_owned());
        jsonwebtoken::encode(&header, &claims("alice"), &jsonwebtoken::EncodingKey::from_secret(secret))
            .expect("HS256")
    };
    // Signed with a secret, and the classic confusion: the provider's public key used as an HMAC secret.
    let public_modulus = URL_SAFE_NO_PAD.decode(rsa.jwk()["n"].as_str().expect("n")).expect("n");
    for (case, token) in
        [("HS256", hs256(b"test-jwt-secret")), ("HS256 with the public key", hs256(&public_modulus))]
    {
        let refused = verifier.verify(&token).await;
        assert!(matches!(refused, Err(AuthError::AlgorithmNotAccepted)), "{case}: {refused:?}");
    }
    let unsigned = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT","kid":"rsa-1"}"#),
        b64(claims("alice").to_string().as_bytes())
    );
    assert!(matches!(verifier.verify(&unsigned).await, Err(AuthError::Invalid(_))));
}

#[tokio::test]
async fn a_token_whose_alg_is_not_the_one_of_its_key_or_that_names_no_key_is_refused() {
    let (rsa, ec) = (SigningKey::rsa("rsa-1"), SigningKey::ec("ec-1"));
    let idp = Idp::start(&[&rsa, &ec]).await;
    let verifier = idp.verifier(HOUR, HOUR);
    for (case, token) in [
        ("EC key, RS256 claimed", ec.sign_as("RS256", Some("ec-1"), &claims("alice"))),
        ("RSA key, ES256 claimed", rsa.sign_as("ES256", Some("rsa-1"), &claims("alice"))),
        ("RSA signature, kid of the EC key", rsa.sign_as("RS256", Some("ec-1"), &claims("alice"))),
        ("PS256", rsa.sign_as("PS256", Some("rsa-1"), &claims("alice"))),
    ] {
        let refused = verifier.verify(&token).await;
        assert!(matches!(refused, Err(AuthError::AlgorithmNotAccepted)), "{case}: {refused:?}");
    }
    // The right key and algorithm, another key's signature: a forgery.
    let forged = SigningKey::rsa("rsa-1").token("alice");
    assert!(matches!(verifier.verify(&forged).await, Err(AuthError::Invalid(_))));
    let no_kid = rsa.sign_as("RS256", None, &claims("alice"));
    assert!(matches!(verifier.verify(&no_kid).await, Err(AuthError::UnknownKey)));
}

#[tokio::test]
async fn when_the_keys_cannot_be_fetched_tokens_are_refused_with_a_clear_error_until_they_can() {
    let rsa = SigningKey::rsa("rsa-1");
    let idp = Idp::start(&[&rsa]).await;
    idp.set_down(true);
    let verifier = idp.verifier(Duration::ZERO, HOUR);
    verifier.prefetch().await; // logs, neither panics nor fails
    let refused = verifier.verify(&rsa.token("alice")).await;
    assert!(matches!(refused, Err(AuthError::KeysUnavailable(JwksError::Status(503)))), "{refused:?}");
    let message = refused.expect_err("refused").to_string();
    assert!(message.contains("identity provider's keys are unavailable"), "{message}");
    assert_eq!(idp.hits(), 2, "the prefetch and the token's own attempt");

    idp.set_down(false);
    assert!(verifier.verify(&rsa.token("alice")).await.is_ok(), "accepted once the provider is back");

    // Nothing listening at all: refused the same way, after the connection fails.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/jwks.json", closed.local_addr().expect("addr"));
    drop(closed);
    let refused = verifier_for(&url, Duration::ZERO, HOUR).verify(&rsa.token("alice")).await;
    assert!(matches!(refused, Err(AuthError::KeysUnavailable(JwksError::Request(_)))), "{refused:?}");
}

#[tokio::test]
async fn after_the_maximum_age_keys_are_fetched_again_and_a_withdrawn_key_stops_verifying() {
    let (rsa, ec) = (SigningKey::rsa("rsa-1"), SigningKey::ec("ec-1"));
    let idp = Idp::start(&[&rsa, &ec]).await;
    // Every verification finds the keys too old.
    let verifier = idp.verifier(Duration::ZERO, Duration::ZERO);
    assert!(verifier.verify(&rsa.token("alice")).await.is_ok());
    assert_eq!(idp.hits(), 1);
    // While the provider is down, the cached keys keep verifying.
    idp.set_down(true);
    assert!(verifier.verify(&rsa.token("alice")).await.is_ok());
    assert_eq!(idp.hits(), 2);
    idp.set_down(false);
    idp.publish(&[&ec]);
    let refused = verifier.verify(&rsa.token("alice")).await;
    assert!(matches!(refused, Err(AuthError::UnknownKey)), "{refused:?}");
    assert!(verifier.verify(&ec.token("alice")).await.is_ok());
}

#[tokio::test]
async fn the_backend_configured_with_a_jwks_url_accepts_the_providers_tokens_on_every_route() {
    let (rsa, ec) = (SigningKey::rsa("rsa-1"), SigningKey::ec("ec-1"));
    let idp = Idp::start(&[&rsa, &ec]).await;
    let app = spawn_app_with(
        StoreKind::Sqlite,
        &[("JWT_JWKS_URL", &idp.url), ("JWT_ISSUER", ISSUER), ("JWT_AUDIENCE", AUDIENCE), ("JWT_SECRET", "")],
    )
    .await;
    assert_eq!(idp.hits(), 1, "the keys are fetched at start");

    let response = app.connect(1, &rsa.token("alice")).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["user_id"], "alice");
    assert_eq!(app.history(1, Some(&ec.token("bob")), "").await.status(), 200);
    let mut socket = app.ws(1, &format!("?token={}", rsa.token("bob")), &[]).await.expect("ws connects");
    socket.send_json(json!({"action": "ping"})).await;
    assert_eq!(socket.next_json().await["type"], "pong");

    // Without JWT_SECRET, HS256 tokens are refused.
    let response = app.history(1, Some(&hs256_token("alice")), "").await;
    assert_eq!(response.status(), 401);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["code"], "AUTHENTICATION_ERROR");
    assert_eq!(app.connect(1, &hs256_token("alice")).await.status(), 401);
    assert_eq!(idp.hits(), 1, "every token was verified with the cached keys");
}

#[tokio::test]
async fn the_backend_starts_while_the_identity_provider_is_down_and_refuses_its_tokens_with_401() {
    let rsa = SigningKey::rsa("rsa-1");
    let idp = Idp::start(&[&rsa]).await;
    idp.set_down(true);
    let app = spawn_app_with(
        StoreKind::Sqlite,
        &[("JWT_JWKS_URL", &idp.url), ("JWT_ISSUER", ISSUER), ("JWT_AUDIENCE", AUDIENCE)],
    )
    .await;
    let response = app.history(1, Some(&rsa.token("alice")), "").await;
    assert_eq!(response.status(), 401);
    let error: Value = response.json().await.expect("json");
    assert_eq!(error["error"]["code"], "AUTHENTICATION_ERROR");
    assert!(error["error"]["message"].as_str().is_some_and(|m| m.contains("unavailable")), "{error}");
    // With JWT_SECRET also set, HS256 tokens keep working beside the provider's, with the same issuer and
    // audience (which `mint_token` writes).
    let ours = chat_backend::auth::mint_token(&app.settings.jwt, "alice", HOUR).expect("mint");
    assert_eq!(app.history(1, Some(&ours), "").await.status(), 200);
    assert_eq!(app.history(1, Some(&hs256_token("alice")), "").await.status(), 401, "no iss, no aud");
}
