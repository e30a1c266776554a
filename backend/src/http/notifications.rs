//! Routes of notification settings ([`crate::preferences`]):
//!
//! - `GET|PUT /api/chat/notifications`: the caller's settings (channels, quiet hours); Bearer JWT.
//! - `PUT /api/chat/bookings/{booking_id}/mute`: mute or unmute one booking (members only).
//! - `PUT /api/service/users/{user_id}/email`: where a member's emails go (the service credential: the
//!   marketplace knows the verified address; a member cannot point emails at someone else).
//! - `GET|POST /api/notifications/unsubscribe?token=...`: the emails' unsubscribe link, no login. `GET`
//!   shows a page with one button and changes nothing (mail scanners follow links); `POST` unsubscribes:
//!   the button's form, and the one-click POST of RFC 8058 that mail clients send from the
//!   `List-Unsubscribe-Post` header.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use chat_store::notifications::{NotificationSettings, QuietHours, validate_email};
use chat_wire::BookingId;
use chat_wire::proxy::ErrorResponse;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::openapi::{
    InternalError, PayloadTooLarge, ServiceUnauthorized, Unauthenticated, UnsupportedMediaType,
};
use super::service::ServiceCaller;

/// A member's settings as the API shows them: the browsers subscribed to Web Push by endpoint only (their
/// keys are the browser's; `GET /api/chat/notifications/push` lists them).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SettingsView {
    /// Where emails go (set by the marketplace through the service API).
    #[schema(example = "renter@example.com")]
    email: Option<String>,
    /// Whether unread messages are emailed.
    email_enabled: bool,
    /// Whether unread messages are pushed to the member's subscribed browsers.
    push_enabled: bool,
    /// Hours during which nothing is sent.
    quiet_hours: Option<QuietHours>,
    /// Muted bookings: none of their messages are notified.
    muted_bookings: Vec<BookingId>,
    /// How many browsers are subscribed to Web Push.
    push_subscriptions: usize,
}

impl From<NotificationSettings> for SettingsView {
    fn from(s: NotificationSettings) -> Self {
        Self {
            email: s.email,
            email_enabled: s.email_enabled,
            push_enabled: s.push_enabled,
            quiet_hours: s.quiet_hours,
            muted_bookings: s.muted_bookings,
            push_subscriptions: s.push_subscriptions.len(),
        }
    }
}

/// What a member may change of their settings (the address is the marketplace's; mutes have their route).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SettingsChange {
    /// Whether unread messages are emailed.
    email_enabled: bool,
    /// Whether unread messages are pushed to subscribed browsers.
    push_enabled: bool,
    /// Hours during which nothing is sent, in the member's time zone; `null` for none.
    quiet_hours: Option<QuietHours>,
}

/// `GET /api/chat/notifications`.
#[utoipa::path(
    get,
    path = "/api/chat/notifications",
    operation_id = "getNotificationSettings",
    tag = "chat",
    summary = "The caller's notification settings: channels, quiet hours, muted bookings, and the address emails go to",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings (the defaults if never changed)", body = SettingsView),
        (status = 401, response = Unauthenticated),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn get_settings(
    user: AuthUser,
    State(state): State<AppState>,
) -> Result<Json<SettingsView>, ApiError> {
    Ok(Json(state.preferences.get(&user.user_id).await?.into()))
}

/// `PUT /api/chat/notifications`.
#[utoipa::path(
    put,
    path = "/api/chat/notifications",
    operation_id = "putNotificationSettings",
    tag = "chat",
    summary = "Change the caller's channels and quiet hours",
    description = "Quiet hours are `HH:MM` wall-clock times in an IANA time zone; across midnight when `end` \
        is earlier than `start`. What falls due during them waits until they end.",
    security(("bearer" = [])),
    request_body = SettingsChange,
    responses(
        (status = 200, description = "The settings now", body = SettingsView),
        (status = 400, description = "Malformed body or quiet hours", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn put_settings(
    user: AuthUser,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SettingsChange>,
) -> Result<Json<SettingsView>, ApiError> {
    if let Some(hours) = &body.quiet_hours {
        hours.validate().map_err(|e| ApiError::validation(e.to_string()))?;
    }
    let settings = state
        .preferences
        .change(&user.user_id, |settings| {
            let before = settings.clone();
            settings.email_enabled = body.email_enabled;
            settings.push_enabled = body.push_enabled;
            settings.quiet_hours.clone_from(&body.quiet_hours);
            Ok(*settings != before)
        })
        .await?;
    Ok(Json(settings.into()))
}

/// Body of the mute route.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Mute {
    /// `true` to mute the booking, `false` to unmute it.
    muted: bool,
}

/// `PUT /api/chat/bookings/{booking_id}/mute`.
#[utoipa::path(
    put,
    path = "/api/chat/bookings/{booking_id}/mute",
    operation_id = "muteBooking",
    tag = "chat",
    summary = "Mute or unmute a booking: no notification of its messages on any channel (members only; idempotent)",
    security(("bearer" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking.")),
    request_body = Mute,
    responses(
        (status = 200, description = "The settings now", body = SettingsView),
        (status = 400, description = "Malformed body, or too many muted bookings", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member of the booking", body = ErrorResponse),
        (status = 404, description = "No such booking", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn mute(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(body): ApiJson<Mute>,
) -> Result<Json<SettingsView>, ApiError> {
    state.chat.member_booking(booking_id, &user.user_id).await?;
    let settings = state
        .preferences
        .change(&user.user_id, |settings| settings.set_muted(booking_id, body.muted))
        .await?;
    Ok(Json(settings.into()))
}

/// Body of the service's email route.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EmailAddress {
    /// Where the member's emails go; `null` to stop emailing them.
    #[schema(example = "renter@example.com")]
    email: Option<String>,
}

/// `PUT /api/service/users/{user_id}/email`.
#[utoipa::path(
    put,
    path = "/api/service/users/{user_id}/email",
    operation_id = "setUserEmail",
    tag = "service",
    summary = "Set (or clear) the address a member's notification emails go to",
    description = "The marketplace verifies the address; the chat only checks its form. The member's own \
        choice (email on or off) is kept.",
    security(("serviceToken" = [])),
    params(("user_id" = String, Path, description = "The member (the token's `sub`).")),
    request_body = EmailAddress,
    responses(
        (status = 200, description = "The member's settings now", body = SettingsView),
        (status = 400, description = "Malformed body or address", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn set_email(
    _caller: ServiceCaller,
    State(state): State<AppState>,
    ApiPath(user_id): ApiPath<String>,
    ApiJson(body): ApiJson<EmailAddress>,
) -> Result<Json<SettingsView>, ApiError> {
    crate::domain::validate_user_id("user_id", &user_id).map_err(ApiError::validation)?;
    if let Some(email) = &body.email {
        validate_email(email).map_err(|e| ApiError::validation(e.to_string()))?;
    }
    let settings = state
        .preferences
        .change(&user_id, |settings| {
            let changed = settings.email != body.email;
            settings.email.clone_from(&body.email);
            Ok(changed)
        })
        .await?;
    Ok(Json(settings.into()))
}

/// The unsubscribe link's query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LinkQuery {
    /// The signed token of the email's link (without one, the answer is the invalid link's page).
    token: Option<String>,
}

impl LinkQuery {
    fn token(&self) -> &str {
        self.token.as_deref().unwrap_or_default()
    }
}

/// `GET /api/notifications/unsubscribe`.
#[utoipa::path(
    get,
    path = "/api/notifications/unsubscribe",
    operation_id = "unsubscribePage",
    tag = "notifications",
    security(()),
    summary = "The page of an email's unsubscribe link: one button, nothing changed until it is pressed",
    params(LinkQuery),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 400, description = "Not a valid link", content_type = "text/html", body = String),
    ),
)]
pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LinkQuery>,
) -> (StatusCode, Html<String>) {
    if !state.preferences.check_link(query.token()) {
        return page(
            StatusCode::BAD_REQUEST,
            "This link is not valid",
            "Open the link from the email again.",
        );
    }
    let form = format!(
        "<form method=\"post\" action=\"?token={}\"><button type=\"submit\">Stop these emails</button></form>",
        escape_attribute(query.token())
    );
    page(StatusCode::OK, "Stop emails about unread messages?", &form)
}

/// `POST /api/notifications/unsubscribe`.
#[utoipa::path(
    post,
    path = "/api/notifications/unsubscribe",
    operation_id = "unsubscribe",
    tag = "notifications",
    security(()),
    summary = "Turn off the link's member's notification emails (RFC 8058 one-click; idempotent)",
    description = "The body, if any (`List-Unsubscribe=One-Click` from a mail client, or the page's form), is \
        ignored: the token says who. A second use changes nothing and says so.",
    params(LinkQuery),
    responses(
        (status = 200, description = "Unsubscribed (or already)", content_type = "text/html", body = String),
        (status = 400, description = "Not a valid link", content_type = "text/html", body = String),
        (status = 500, description = "The settings could not be written", content_type = "text/html", body = String),
    ),
)]
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LinkQuery>,
) -> (StatusCode, Html<String>) {
    match state.preferences.unsubscribe(query.token()).await {
        Ok(done) if done.changed => {
            tracing::info!("a member unsubscribed from notification emails");
            page(
                StatusCode::OK,
                "You will no longer get these emails",
                "Turn them on again in the chat's settings.",
            )
        }
        Ok(_) => page(StatusCode::OK, "You had already unsubscribed", "Nothing changed."),
        Err(crate::chat::ChatError::Invalid(_)) => {
            page(StatusCode::BAD_REQUEST, "This link is not valid", "Open the link from the email again.")
        }
        Err(error) => {
            tracing::error!(error = %error, "unsubscribe failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "Please try again in a minute.")
        }
    }
}

fn page(status: StatusCode, title: &str, body: &str) -> (StatusCode, Html<String>) {
    (
        status,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
             content=\"width=device-width\"><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>"
        )),
    )
}

/// A token (base64url and a dot) is safe in an attribute already; anything else is refused by
/// `check_link` before it gets here. Escaped anyway, so this page never depends on that.
fn escape_attribute(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect()
}
