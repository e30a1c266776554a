//! The service API: how the marketplace that owns bookings tells the chat about them. Authenticated by a
//! service credential (`Authorization: Bearer <SERVICE_TOKEN>`), never by a user's token.
//!
//! - `PUT /api/service/bookings/{booking_id}`: create or update (idempotent; 201 when created).
//! - `GET /api/service/bookings/{booking_id}`: read.
//! - `PUT /api/service/bookings/{booking_id}/status`: move to a status (valid transitions only;
//!   idempotent), which the booking's connections hear about.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use chat_wire::proxy::ErrorResponse;
use chat_wire::{BookingId, ErrorCode};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::openapi::{InternalError, PayloadTooLarge, ServiceUnauthorized, UnsupportedMediaType};
use super::rest::StatusChanged;
use crate::domain::{Booking, BookingStatus};
use crate::store::BookingWrite;

/// The header in which the marketplace names the person acting through the service credential, for the
/// audit log: `X-Operator: support/ana` is recorded as `service:support/ana`.
pub(super) const OPERATOR_HEADER: &str = "x-operator";

/// Longest operator name accepted in [`OPERATOR_HEADER`].
const MAX_OPERATOR_CHARS: usize = 64;

/// Proof that the caller presented the service credential, and who acts: `service`, or
/// `service:{operator}` when the request names its operator ([`OPERATOR_HEADER`]).
#[derive(Debug)]
pub(super) struct ServiceCaller {
    actor: String,
}

impl ServiceCaller {
    /// Who the audit log records for this request.
    pub(super) fn actor(&self) -> &str {
        &self.actor
    }
}

/// The actor named by [`OPERATOR_HEADER`]: printable ASCII without spaces, 1 to 64 characters, so a log
/// line or a CSV export of the audit log cannot be forged through it.
fn actor(parts: &Parts) -> Result<String, ApiError> {
    let Some(value) = parts.headers.get(OPERATOR_HEADER) else {
        return Ok(crate::chat::SERVICE_ACTOR.to_owned());
    };
    let name = value.to_str().ok().filter(|name| {
        (1..=MAX_OPERATOR_CHARS).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_graphic())
    });
    match name {
        Some(name) => Ok(format!("{}:{name}", crate::chat::SERVICE_ACTOR)),
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::ValidationError,
            format!(
                "{OPERATOR_HEADER} must be 1 to {MAX_OPERATOR_CHARS} printable ASCII characters without spaces"
            ),
        )),
    }
}

impl FromRequestParts<AppState> for ServiceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let unauthorized =
            |message: &str| ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::AuthenticationError, message);
        let Some(expected) = state.service_token.as_deref() else {
            return Err(unauthorized("the service API is off: the backend has no SERVICE_TOKEN"));
        };
        let presented = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(chat_wire::handshake::token_from_authorization)
            .ok_or_else(|| unauthorized("the service API needs Authorization: Bearer <service token>"))?;
        if bool::from(presented.as_bytes().ct_eq(expected.expose_secret().as_bytes())) {
            Ok(Self { actor: actor(parts)? })
        } else {
            tracing::warn!("service route called with a wrong service token");
            Err(unauthorized("wrong service token"))
        }
    }
}

/// A booking as the service API writes it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub(super) struct BookingBody {
    /// The owner's user id.
    owner_id: String,
    /// The renter's user id (not the owner's).
    renter_id: String,
    /// What is booked.
    title: String,
    /// Optional when writing: `requested` for a new booking, unchanged for an existing one.
    status: Option<BookingStatus>,
}

/// A booking as the service API answers it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct BookingView {
    booking_id: BookingId,
    /// The owner's user id.
    owner_id: String,
    /// The renter's user id.
    renter_id: String,
    /// What is booked.
    title: String,
    status: BookingStatus,
}

impl From<Booking> for BookingView {
    fn from(b: Booking) -> Self {
        Self {
            booking_id: b.id,
            owner_id: b.owner_id,
            renter_id: b.renter_id,
            title: b.title,
            status: b.status,
        }
    }
}

/// `PUT /api/service/bookings/{booking_id}`.
#[utoipa::path(
    put,
    path = "/api/service/bookings/{booking_id}",
    operation_id = "putBooking",
    tag = "service",
    summary = "Create a booking or update its owner, renter and title (idempotent)",
    description = "Without status: requested for a new booking, unchanged for an existing one. A status for an \
        existing booking must be a valid transition (or the status it has); the booking's connections then get a \
        booking_status frame.",
    security(("serviceToken" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking (the marketplace's id).")),
    request_body = BookingBody,
    responses(
        (status = 200, description = "Updated, or already exactly so", body = BookingView),
        (status = 201, description = "Created", body = BookingView),
        (status = 400, description = "Malformed body or fields (users, title, booking_id)", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 409, description = "Status transition not allowed", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn put_booking(
    _caller: ServiceCaller,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(body): ApiJson<BookingBody>,
) -> Result<(StatusCode, Json<BookingView>), ApiError> {
    let status = match body.status {
        Some(status) => status,
        None => match state.chat.booking(booking_id).await {
            Ok(existing) => existing.status,
            Err(crate::chat::ChatError::BookingNotFound) => BookingStatus::Requested,
            Err(error) => return Err(error.into()),
        },
    };
    let booking = Booking {
        id: booking_id,
        owner_id: body.owner_id,
        renter_id: body.renter_id,
        title: body.title,
        status,
        chat: Default::default(),
    };
    let written = state.chat.put_booking(&booking).await?;
    let stored = state.chat.booking(booking_id).await?;
    let code = if written == BookingWrite::Created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((code, Json(stored.into())))
}

/// `GET /api/service/bookings/{booking_id}`.
#[utoipa::path(
    get,
    path = "/api/service/bookings/{booking_id}",
    operation_id = "getBooking",
    tag = "service",
    summary = "Read a booking (the marketplace's view: any booking, no membership)",
    security(("serviceToken" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking (the marketplace's id).")),
    responses(
        (status = 200, description = "The booking", body = BookingView),
        (status = 400, description = "Malformed booking_id", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn get_booking(
    _caller: ServiceCaller,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
) -> Result<Json<BookingView>, ApiError> {
    Ok(Json(state.chat.booking(booking_id).await?.into()))
}

/// Body of the service's status route.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct StatusTarget {
    /// The status to move to.
    status: BookingStatus,
}

/// `PUT /api/service/bookings/{booking_id}/status`.
#[utoipa::path(
    put,
    path = "/api/service/bookings/{booking_id}/status",
    operation_id = "setBookingStatus",
    tag = "service",
    summary = "Move a booking to a status (valid transitions only; idempotent); its connections get a booking_status frame",
    security(("serviceToken" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking (the marketplace's id).")),
    request_body = StatusTarget,
    responses(
        (status = 200, description = "Moved (or there already)", body = StatusChanged),
        (status = 400, description = "Malformed body or unknown status", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 404, description = "Unknown booking", body = ErrorResponse),
        (status = 409, description = "Transition not allowed (requested→confirmed|cancelled, confirmed→active|cancelled, active→completed)", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn set_status(
    _caller: ServiceCaller,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(body): ApiJson<StatusTarget>,
) -> Result<Json<StatusChanged>, ApiError> {
    let previous_status = state.chat.set_status(booking_id, body.status).await?;
    Ok(Json(StatusChanged { booking_id, status: body.status, previous_status }))
}
