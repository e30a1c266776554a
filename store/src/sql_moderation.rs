//! The [`ModerationStore`] adapter for SQLite and PostgreSQL, on the chat's pool and with its `Any`
//! dialect (`$N` parameters, `ON CONFLICT`, `RETURNING`), over the tables of `0008_moderation.sql`:
//! `reports` and `audit_log`.
//!
//! A report is resolved by one `UPDATE ... WHERE id = $1 AND status = 'open'`, so of racing resolutions
//! one changes the row; a trigger refuses any change to a resolved row besides. The audit log is written
//! only by `INSERT ... ON CONFLICT (id) DO NOTHING`, and triggers refuse `UPDATE` and `DELETE` of it
//! (and `TRUNCATE` on PostgreSQL): append-only, whoever connects.

use chat_wire::BookingId;
use futures_util::future::BoxFuture;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::StoreError;
use crate::moderation::{
    AuditEntry, ModerationText, NewReport, Report, ReportReason, ReportStatus, Resolution, ResolutionOutcome,
    Resolved, new_record_id, page_size,
};

const REPORT_COLUMNS: &str = "id, booking_id, reporter_id, reported_user_id, message_id, reason, details, \
     created_at, status, outcome, note, resolved_by, resolved_at";

const AUDIT_COLUMNS: &str = "id, at, actor, action, booking_id, target, detail";

/// Reports and the audit log on SQLite or PostgreSQL. Cheap to clone: it holds the chat's pool.
#[derive(Debug, Clone)]
pub struct SqlModeration {
    pool: AnyPool,
}

impl SqlModeration {
    /// The moderation records in the database of `pool` (migrated by [`crate::sql::SqlStore::migrate`]).
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    async fn add_report(&self, new: &NewReport) -> Result<Report, StoreError> {
        let report = Report::open(new_record_id(), new);
        sqlx::query(
            "INSERT INTO reports (id, booking_id, reporter_id, reported_user_id, message_id, reason, \
             details, created_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open')",
        )
        .bind(&report.id)
        .bind(report.booking_id)
        .bind(&report.reporter_id)
        .bind(&report.reported_user_id)
        .bind(report.message_id)
        .bind(report.reason.as_str())
        .bind(report.details.as_ref().map(ModerationText::as_str))
        .bind(report.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::database("adding a report", e))?;
        Ok(report)
    }

    async fn report(&self, id: &str) -> Result<Option<Report>, StoreError> {
        const OP: &str = "reading a report";
        let query = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::database(OP, e))?;
        row.as_ref().map(report_from_row).transpose()
    }

    async fn reports(
        &self,
        status: ReportStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError> {
        let query = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(status.as_str())
            // Every id is greater than the empty string.
            .bind(after.unwrap_or(""))
            .bind(limit_param(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| StoreError::database("listing reports", e))?;
        rows.iter().map(report_from_row).collect()
    }

    async fn reports_by(&self, reporter_id: &str) -> Result<Vec<Report>, StoreError> {
        let query = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE reporter_id = $1 ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(reporter_id)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| StoreError::database("listing a member's reports", e))?;
        rows.iter().map(report_from_row).collect()
    }

    async fn resolve_report(
        &self,
        id: &str,
        resolution: &Resolution,
    ) -> Result<Option<Resolved>, StoreError> {
        let query = format!(
            "UPDATE reports SET status = 'resolved', outcome = $2, note = $3, resolved_by = $4, \
             resolved_at = $5 WHERE id = $1 AND status = 'open' RETURNING {REPORT_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(query))
            .bind(id)
            .bind(resolution.outcome.as_str())
            .bind(resolution.note.as_ref().map(ModerationText::as_str))
            .bind(&resolution.by)
            .bind(resolution.at)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| StoreError::database("resolving a report", e))?;
        if let Some(row) = row {
            return Ok(Some(Resolved::Now(report_from_row(&row)?)));
        }
        // Resolved already (a report never reopens), or no such report.
        match self.report(id).await? {
            Some(report) if report.resolution.is_some() => Ok(Some(Resolved::Already(report))),
            Some(_) => Err(StoreError::Inconsistent(format!("report {id:?} is open but was not resolved"))),
            None => Ok(None),
        }
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO audit_log (id, at, actor, action, booking_id, target, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&entry.id)
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(entry.booking_id)
        .bind(entry.target.as_deref())
        .bind(entry.detail.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| StoreError::database("appending to the audit log", e))?;
        Ok(done.rows_affected() == 1)
    }

    async fn audit(
        &self,
        booking_id: Option<BookingId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        const OP: &str = "reading the audit log";
        let after = after.unwrap_or("");
        let rows = match booking_id {
            None => {
                let query =
                    format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2");
                sqlx::query(sqlx::AssertSqlSafe(query))
                    .bind(after)
                    .bind(limit_param(limit))
                    .fetch_all(&self.pool)
                    .await
            }
            Some(booking_id) => {
                let query = format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE booking_id = $1 AND id > $2 ORDER BY id \
                     LIMIT $3"
                );
                sqlx::query(sqlx::AssertSqlSafe(query))
                    .bind(booking_id)
                    .bind(after)
                    .bind(limit_param(limit))
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(|e| StoreError::database(OP, e))?;
        rows.iter().map(audit_from_row).collect()
    }
}

crate::moderation::delegate_moderation_store!(SqlModeration);

/// A page size as a `LIMIT` parameter.
fn limit_param(limit: usize) -> i64 {
    // At most MAX_PAGE, which fits.
    i64::try_from(page_size(limit)).unwrap_or(i64::MAX)
}

fn inconsistent(what: &str, value: &str) -> StoreError {
    StoreError::Inconsistent(format!("{what} {value:?}"))
}

fn report_from_row(row: &AnyRow) -> Result<Report, StoreError> {
    const OP: &str = "reading a report";
    let get_text = |name: &str| row.try_get::<String, _>(name).map_err(|e| StoreError::database(OP, e));
    let get_optional_text =
        |name: &str| row.try_get::<Option<String>, _>(name).map_err(|e| StoreError::database(OP, e));
    let get_optional_number =
        |name: &str| row.try_get::<Option<i64>, _>(name).map_err(|e| StoreError::database(OP, e));
    let text = |value: Option<String>| {
        value.map(|t| {
            ModerationText::parse(t).map_err(|e| StoreError::Inconsistent(format!("report text: {e}")))
        })
    };
    let reason = get_text("reason")?;
    let status = get_text("status")?;
    let resolution = match ReportStatus::parse(&status)
        .ok_or_else(|| inconsistent("report status", &status))?
    {
        ReportStatus::Open => None,
        ReportStatus::Resolved => {
            let outcome = get_optional_text("outcome")?.unwrap_or_default();
            Some(Resolution {
                outcome: ResolutionOutcome::parse(&outcome)
                    .ok_or_else(|| inconsistent("resolution outcome", &outcome))?,
                note: text(get_optional_text("note")?).transpose()?,
                by: get_optional_text("resolved_by")?.ok_or_else(|| inconsistent("resolved_by", "NULL"))?,
                at: get_optional_number("resolved_at")?.ok_or_else(|| inconsistent("resolved_at", "NULL"))?,
            })
        }
    };
    Ok(Report {
        id: get_text("id")?,
        booking_id: row.try_get("booking_id").map_err(|e| StoreError::database(OP, e))?,
        reporter_id: get_text("reporter_id")?,
        reported_user_id: get_text("reported_user_id")?,
        message_id: get_optional_number("message_id")?,
        reason: ReportReason::parse(&reason).ok_or_else(|| inconsistent("report reason", &reason))?,
        details: text(get_optional_text("details")?).transpose()?,
        created_at: row.try_get("created_at").map_err(|e| StoreError::database(OP, e))?,
        resolution,
    })
}

fn audit_from_row(row: &AnyRow) -> Result<AuditEntry, StoreError> {
    const OP: &str = "reading the audit log";
    let detail: String = row.try_get("detail").map_err(|e| StoreError::database(OP, e))?;
    Ok(AuditEntry {
        id: row.try_get("id").map_err(|e| StoreError::database(OP, e))?,
        at: row.try_get("at").map_err(|e| StoreError::database(OP, e))?,
        actor: row.try_get("actor").map_err(|e| StoreError::database(OP, e))?,
        action: row.try_get("action").map_err(|e| StoreError::database(OP, e))?,
        booking_id: row.try_get("booking_id").map_err(|e| StoreError::database(OP, e))?,
        target: row.try_get("target").map_err(|e| StoreError::database(OP, e))?,
        detail: serde_json::from_str(&detail)
            .map_err(|e| StoreError::Inconsistent(format!("audit detail is not JSON: {e}")))?,
    })
}
