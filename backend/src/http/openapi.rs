//! The OpenAPI document, generated from the code: each route is registered from its handler's
//! `#[utoipa::path]` (so a route cannot be served undocumented nor documented unserved), and every schema
//! comes from the type that is (de)serialised (`ToSchema`, the wire types' included). What is written here is
//! what no handler knows: the document's description, its servers, tags, security schemes and the error
//! answers many operations share.
//!
//! `backend/openapi.json` is this document as `chat-backend openapi` prints it (`make openapi` writes it), so
//! that Redocly, the API reference pages and readers of the repository have it without a build; a test fails
//! when it differs from the code's.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The parts of the document no route carries.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Booking chat backend",
        description = "Chat for bookings. The Lambda behind API Gateway calls the /api/chat/ws routes (the proxy \
            contract, docs/proxy-contract.md) with the shared proxy secret; users call the history, inbox and status \
            routes with a Bearer JWT; the marketplace writes bookings through /api/service with its service token; \
            /chat/ws is a direct WebSocket (served by the chat-backend binary, not by the backend as a Lambda), \
            speaking the frames of docs/asyncapi.yaml. Every non-2xx answer of the JSON routes has the body \
            {\"error\": {\"code\", \"message\"}}; 5xx answers say only \"internal error\". With APP_ENV=local the \
            backend also serves the demo page (GET /), the API reference (GET /docs/) and their helpers GET \
            /dev/config and GET /dev/token?user= (see the README).\n\nThis document is generated from the \
            backend's routes and types (backend/src/http/openapi.rs).",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers(
        (url = "http://127.0.0.1:8000", description = "make dev, or chat-backend with its default BIND_ADDR"),
        (
            url = "{backend_url}",
            description = "A deployed backend: the Lambda's BACKEND_URL (Terraform's backend_url)",
            variables(("backend_url" = (
                default = "https://chat.internal.example.com",
                description = "The backend's base URL, without a trailing slash."
            )))
        ),
    ),
    tags(
        (name = "proxy", description = "The Lambda ↔ backend contract (docs/proxy-contract.md): one call per \
            WebSocket event, guarded by X-Proxy-Secret."),
        (name = "chat", description = "Chat for a booking's members, with a Bearer JWT."),
        (name = "bookings", description = "Bookings, with a Bearer JWT."),
        (name = "service", description = "How the marketplace that owns bookings tells the chat about them, with \
            the service credential (SERVICE_TOKEN), never a user's token."),
        (name = "notifications", description = "The notification emails' unsubscribe link: no authentication, a signed token."),
        (name = "ops", description = "Liveness, readiness, metrics and this document: no authentication."),
    ),
    components(responses(Unauthenticated, ServiceUnauthorized, PayloadTooLarge, UnsupportedMediaType, InternalError)),
    modifiers(&SecuritySchemes),
)]
pub(super) struct ApiDoc;

pub(super) use responses::{
    InternalError, PayloadTooLarge, ServiceUnauthorized, Unauthenticated, UnsupportedMediaType,
};

/// The error answers many operations share. Each is a description, never built: the answers themselves are
/// `ApiError`s, whose body is `ErrorResponse`.
#[expect(dead_code, reason = "only the field's type is read, by the derive")]
mod responses {
    use chat_wire::proxy::ErrorResponse;
    use utoipa::ToResponse;

    /// Missing or invalid token (AUTHENTICATION_ERROR), or an expired one (TOKEN_EXPIRED).
    #[derive(ToResponse)]
    pub(in crate::http) struct Unauthenticated(ErrorResponse);

    /// Missing or wrong service token, or the service API is off (the backend has no SERVICE_TOKEN).
    #[derive(ToResponse)]
    pub(in crate::http) struct ServiceUnauthorized(ErrorResponse);

    /// Body larger than MAX_BODY_BYTES (PAYLOAD_TOO_LARGE).
    #[derive(ToResponse)]
    pub(in crate::http) struct PayloadTooLarge(ErrorResponse);

    /// Content-Type is not application/json (VALIDATION_ERROR).
    #[derive(ToResponse)]
    pub(in crate::http) struct UnsupportedMediaType(ErrorResponse);

    /// The database failed; the body says only "internal error" (INTERNAL_ERROR).
    #[derive(ToResponse)]
    pub(in crate::http) struct InternalError(ErrorResponse);
}

/// How each kind of caller proves who it is; the extractors that check them are `ProxyCaller`, `AuthUser`,
/// `ServiceCaller` and the direct WebSocket's `find_token`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let api_key = |header: &str, description: &str| {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(header, description)))
        };
        let bearer = |format: Option<&str>, description: &str| {
            let builder = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description));
            SecurityScheme::Http(match format {
                Some(format) => builder.bearer_format(format).build(),
                None => builder.build(),
            })
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_schemes_from_iter([
            (
                "proxySecret",
                api_key(
                    chat_wire::proxy::PROXY_SECRET_HEADER,
                    "The secret shared by the Lambda and the backend (PROXY_SECRET); compared in constant time, \
                     403 when missing or wrong.",
                ),
            ),
            (
                "bearer",
                bearer(
                    Some("JWT"),
                    "A user's JWT: sub and exp required, nbf/iat not in the future, iss/aud when configured. \
                     HS256 with JWT_SECRET, or RS256/ES256 with the identity provider's keys (JWT_JWKS_URL). \
                     An expired one is TOKEN_EXPIRED.",
                ),
            ),
            (
                "queryToken",
                SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                    "token",
                    "The JWT in the query string (direct WebSocket).",
                ))),
            ),
            (
                "subprotocolToken",
                api_key(
                    "Sec-WebSocket-Protocol",
                    "'chat.v1, bearer.<jwt>': the browsers' way (direct WebSocket).",
                ),
            ),
            ("apiKeyHeader", api_key("X-Api-Key", "The JWT itself (direct WebSocket).")),
            (
                "serviceToken",
                bearer(
                    None,
                    "The marketplace's service credential (SERVICE_TOKEN; local-service-token with \
                     APP_ENV=local): Authorization: Bearer <service token>. X-Operator (optional, 1 to 64 \
                     printable ASCII characters) names the person acting, for the audit log.",
                ),
            ),
        ]);
    }
}
