//! Reports and moderation over HTTP (issue 23; the rules are in `chat::moderation`):
//!
//! - `POST /api/chat/bookings/{booking_id}/reports`: a member reports a message or the other member.
//! - `GET /api/service/reports`: the operator's queue, oldest first, each report with its context.
//! - `POST /api/service/reports/{report_id}/resolve`: dismissed or actioned, once.
//! - `POST /api/service/bookings/{booking_id}/messages/{message_id}/hide`: a tombstone with a reason.
//! - `GET /api/service/audit`: the append-only log of every operator action.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chat_store::moderation::{AuditEntry, MAX_PAGE, Report, ReportStatus, ResolutionOutcome};
use chat_wire::proxy::ErrorResponse;
use chat_wire::{BookingId, ChatMessage, ErrorCode, MessageId, ReportReason};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, AuthUser};
use super::openapi::{
    InternalError, PayloadTooLarge, ServiceUnauthorized, Unauthenticated, UnsupportedMediaType,
};
use super::service::ServiceCaller;
use crate::chat::ReportInContext;

/// Body of a member's report.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct NewReportBody {
    /// Why.
    reason: ReportReason,
    /// The message reported; absent to report the other member.
    #[serde(default)]
    message_id: Option<MessageId>,
    /// The member's own words, at most 1,000 characters.
    #[serde(default)]
    details: Option<String>,
}

/// A report received.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReportReceived {
    /// The report's id.
    report_id: String,
}

/// `POST /api/chat/bookings/{booking_id}/reports`.
#[utoipa::path(
    post,
    path = "/api/chat/bookings/{booking_id}/reports",
    operation_id = "reportMember",
    tag = "chat",
    summary = "Report a message of the booking, or its other member, to the marketplace",
    security(("bearer" = [])),
    params(("booking_id" = i64, Path, minimum = 1, description = "The booking.")),
    request_body = NewReportBody,
    responses(
        (status = 201, description = "Received", body = ReportReceived),
        (status = 400, description = "Malformed body, details too long, or one's own message", body = ErrorResponse),
        (status = 401, response = Unauthenticated),
        (status = 403, description = "Not a member", body = ErrorResponse),
        (status = 404, description = "Unknown booking or message", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn report(
    user: AuthUser,
    State(state): State<AppState>,
    ApiPath(booking_id): ApiPath<BookingId>,
    ApiJson(body): ApiJson<NewReportBody>,
) -> Result<(StatusCode, Json<ReportReceived>), ApiError> {
    let report_id = state
        .chat
        .report_http(booking_id, &user.user_id, body.reason, body.message_id, body.details.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(ReportReceived { report_id })))
}

/// Query of the reports route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ReportsQuery {
    /// `open` (the default) or `resolved`.
    #[param(value_type = Option<String>)]
    status: Option<ReportStatus>,
    /// Only reports after this id (the `next_after` of the previous page).
    after: Option<String>,
    /// How many, at most 100 (the default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

/// A page of reports.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReportsPage {
    /// Oldest first.
    reports: Vec<ReportView>,
    /// Pass as `after` for the next page; `null` when this page is the last.
    next_after: Option<String>,
}

/// A report with its context.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReportView {
    /// `{id, booking_id, reporter_id, reported_user_id, message_id, reason, details, created_at,
    /// resolution: null | {outcome, note, by, at}}`.
    #[schema(value_type = Object)]
    report: Report,
    /// The booking's members and status; `null` if it no longer exists.
    #[schema(value_type = Option<Object>)]
    booking: Option<serde_json::Value>,
    /// The messages around the reported one (it included, as it is now), or the latest ten for a report
    /// about the member; oldest first.
    messages: Vec<ChatMessage>,
}

impl From<ReportInContext> for ReportView {
    fn from(item: ReportInContext) -> Self {
        let booking = item.booking.map(|b| {
            serde_json::json!({"id": b.id, "owner_id": b.owner_id, "renter_id": b.renter_id,
                "title": b.title, "status": b.status})
        });
        Self { report: item.report, booking, messages: item.messages }
    }
}

/// `GET /api/service/reports`.
#[utoipa::path(
    get,
    path = "/api/service/reports",
    operation_id = "listReports",
    tag = "service",
    summary = "The reports in a status, oldest first, each with its booking and the messages around it",
    security(("serviceToken" = [])),
    params(ReportsQuery),
    responses(
        (status = 200, description = "A page of reports", body = ReportsPage),
        (status = 400, description = "Bad query", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn reports(
    _caller: ServiceCaller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ReportsQuery>,
) -> Result<Json<ReportsPage>, ApiError> {
    let limit = query.limit.unwrap_or(20).clamp(1, MAX_PAGE);
    let status = query.status.unwrap_or(ReportStatus::Open);
    let page = state.chat.reports(status, query.after.as_deref(), limit).await?;
    let next_after = (page.len() == limit).then(|| page.last().map(|r| r.report.id.clone())).flatten();
    Ok(Json(ReportsPage { reports: page.into_iter().map(ReportView::from).collect(), next_after }))
}

/// Body of the resolve route.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct ResolveBody {
    /// `dismissed` or `actioned`.
    #[schema(value_type = String)]
    outcome: ResolutionOutcome,
    /// Why, for the next operator, at most 1,000 characters.
    #[serde(default)]
    note: Option<String>,
}

/// A report after the resolve route.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ReportResolved {
    /// Whether this call resolved it (false: it was resolved before, and is answered unchanged).
    resolved_now: bool,
    /// The report with its resolution.
    #[schema(value_type = Object)]
    report: Report,
}

/// `POST /api/service/reports/{report_id}/resolve`.
#[utoipa::path(
    post,
    path = "/api/service/reports/{report_id}/resolve",
    operation_id = "resolveReport",
    tag = "service",
    summary = "Resolve a report (the first resolution stands; it goes to the audit log)",
    security(("serviceToken" = [])),
    params(("report_id" = String, Path, description = "The report.")),
    request_body = ResolveBody,
    responses(
        (status = 200, description = "Resolved, now or before", body = ReportResolved),
        (status = 400, description = "Malformed body or note too long", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 404, description = "Unknown report", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn resolve(
    caller: ServiceCaller,
    State(state): State<AppState>,
    ApiPath(report_id): ApiPath<String>,
    ApiJson(body): ApiJson<ResolveBody>,
) -> Result<Json<ReportResolved>, ApiError> {
    let (report, resolved_now) = state
        .chat
        .resolve_report(&report_id, body.outcome, body.note.as_deref(), caller.actor())
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "report not found"))?;
    Ok(Json(ReportResolved { resolved_now, report }))
}

/// Body of the hide route.
#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct HideBody {
    /// What the members see instead of the message, 1 to 200 characters.
    reason: String,
}

/// `POST /api/service/bookings/{booking_id}/messages/{message_id}/hide`.
#[utoipa::path(
    post,
    path = "/api/service/bookings/{booking_id}/messages/{message_id}/hide",
    operation_id = "hideMessage",
    tag = "service",
    summary = "Hide a message: a tombstone with a reason, sent to the booking's connections like a delete (idempotent; audited)",
    security(("serviceToken" = [])),
    params(
        ("booking_id" = i64, Path, minimum = 1, description = "The booking."),
        ("message_id" = i64, Path, minimum = 1, description = "The message."),
    ),
    request_body = HideBody,
    responses(
        (status = 200, description = "The tombstone", body = ChatMessage),
        (status = 400, description = "Malformed body or reason", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 404, description = "Unknown booking or message", body = ErrorResponse),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn hide(
    caller: ServiceCaller,
    State(state): State<AppState>,
    ApiPath((booking_id, message_id)): ApiPath<(BookingId, MessageId)>,
    ApiJson(body): ApiJson<HideBody>,
) -> Result<Json<ChatMessage>, ApiError> {
    Ok(Json(state.chat.hide_message(booking_id, message_id, &body.reason, caller.actor()).await?))
}

/// Query of the audit route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditQuery {
    /// Only this booking's entries.
    booking_id: Option<BookingId>,
    /// Only entries after this id (the `next_after` of the previous page).
    after: Option<String>,
    /// How many, at most 100 (the default).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AuditPage {
    /// `[{id, at, actor, action, booking_id, target, detail}]`, oldest first. Never a message's text, a
    /// report's details or a token.
    #[schema(value_type = Vec<Object>)]
    entries: Vec<AuditEntry>,
    /// Pass as `after` for the next page; `null` when this page is the last.
    next_after: Option<String>,
}

/// `GET /api/service/audit`.
#[utoipa::path(
    get,
    path = "/api/service/audit",
    operation_id = "auditLog",
    tag = "service",
    summary = "The audit log of operator actions (resolving reports, hiding messages, closing and reopening chats), oldest first",
    security(("serviceToken" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the log", body = AuditPage),
        (status = 400, description = "Bad query", body = ErrorResponse),
        (status = 401, response = ServiceUnauthorized),
        (status = 500, response = InternalError),
    ),
)]
pub(super) async fn audit(
    _caller: ServiceCaller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = query.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let entries = state.chat.audit_log(query.booking_id, query.after.as_deref(), limit).await?;
    let next_after = (entries.len() == limit).then(|| entries.last().map(|e| e.id.clone())).flatten();
    Ok(Json(AuditPage { entries, next_after }))
}
