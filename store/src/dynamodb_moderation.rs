//! The [`ModerationStore`] adapter for DynamoDB, in the chat's table (keys `pk`, `sk`; the `gsi1` index);
//! every access a key lookup, one `Query`, or a conditional write; never a Scan.
//!
//! | item | `pk` | `sk` |
//! |---|---|---|
//! | report, open (every attribute of the report) | `REPORTS#open` | `{report id}` |
//! | report, resolved (the same, with its resolution) | `REPORTS#resolved` | `{report id}` |
//! | audit entry (`detail` as JSON text; `gsi1pk = AUDIT#{booking id}`, `gsi1sk = {entry id}` when it names a booking) | `AUDIT` | `{entry id}` |
//!
//! A report lives in exactly one queue's partition: the queue is one `Query`, and a report is found by its
//! id in at most two consistent `GetItem`s, the open queue first (a report only ever moves from open to
//! resolved, so reading open then resolved cannot miss it). Resolving is one transaction that deletes the
//! open item, on the condition that it exists, and puts the resolved one, on the condition that it does
//! not: of racing resolutions one commits, and the others read the resolved item. An audit entry is put
//! once, on the condition that its key is new; nothing here updates or deletes one.
//!
//! `docs/chat-store.md` ("Reports and the audit log") says what each access costs.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use chat_wire::BookingId;
use futures_util::future::BoxFuture;

use crate::StoreError;
use crate::dynamodb::{conditional, n, s};
use crate::moderation::{
    AuditEntry, ModerationText, NewReport, Report, ReportReason, ReportStatus, Resolution, ResolutionOutcome,
    Resolved, new_record_id, page_size,
};

/// How often a resolution is tried when its transaction is cancelled with the report still open (a
/// conflict with another transaction on it; each retry reads it again).
const RESOLVE_ATTEMPTS: u32 = 8;

/// The audit log's partition.
const AUDIT_PK: &str = "AUDIT";

/// Longest key value DynamoDB accepts in a sort key, in bytes.
const MAX_SORT_KEY_BYTES: usize = 1024;

type Item = HashMap<String, AttributeValue>;

/// Reports and the audit log in the chat's DynamoDB table. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DynamoDbModeration {
    client: Client,
    table: Arc<str>,
}

fn queue_pk(status: ReportStatus) -> String {
    format!("REPORTS#{}", status.as_str())
}

fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

/// `id` as a sort key, if it can be one (ids are never empty nor that long): other strings name nothing.
fn sort_key(id: &str) -> Option<&str> {
    (!id.is_empty() && id.len() <= MAX_SORT_KEY_BYTES).then_some(id)
}

fn text(item: &Item, name: &str) -> Result<String, StoreError> {
    optional_text(item, name)?
        .ok_or_else(|| StoreError::Inconsistent(format!("item without the string {name}")))
}

fn optional_text(item: &Item, name: &str) -> Result<Option<String>, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(value)) => Ok(Some(value.clone())),
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(_) => Err(StoreError::Inconsistent(format!("{name} is not a string"))),
    }
}

fn number(item: &Item, name: &str) -> Result<i64, StoreError> {
    optional_number(item, name)?
        .ok_or_else(|| StoreError::Inconsistent(format!("item without the number {name}")))
}

fn optional_number(item: &Item, name: &str) -> Result<Option<i64>, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(value)) => value
            .parse()
            .map(Some)
            .map_err(|_| StoreError::Inconsistent(format!("{name} is not an integer: {value}"))),
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(_) => Err(StoreError::Inconsistent(format!("{name} is not a number"))),
    }
}

fn moderation_text(item: &Item, name: &str) -> Result<Option<ModerationText>, StoreError> {
    optional_text(item, name)?
        .map(|t| {
            ModerationText::parse(t).map_err(|e| StoreError::Inconsistent(format!("report {name}: {e}")))
        })
        .transpose()
}

/// The item of `report` in the queue of its status.
fn report_item(report: &Report) -> Item {
    let mut item = key(queue_pk(report.status()), report.id.as_str());
    item.insert("id".into(), s(report.id.as_str()));
    item.insert("booking_id".into(), n(report.booking_id));
    item.insert("reporter_id".into(), s(report.reporter_id.as_str()));
    item.insert("reported_user_id".into(), s(report.reported_user_id.as_str()));
    if let Some(message_id) = report.message_id {
        item.insert("message_id".into(), n(message_id));
    }
    item.insert("reason".into(), s(report.reason.as_str()));
    if let Some(details) = &report.details {
        item.insert("details".into(), s(details.as_str()));
    }
    item.insert("created_at".into(), n(report.created_at));
    item.insert("status".into(), s(report.status().as_str()));
    if let Some(resolution) = &report.resolution {
        item.insert("outcome".into(), s(resolution.outcome.as_str()));
        if let Some(note) = &resolution.note {
            item.insert("note".into(), s(note.as_str()));
        }
        item.insert("resolved_by".into(), s(resolution.by.as_str()));
        item.insert("resolved_at".into(), n(resolution.at));
    }
    item
}

fn report_from(item: &Item) -> Result<Report, StoreError> {
    let reason = text(item, "reason")?;
    let status = text(item, "status")?;
    let resolution = match ReportStatus::parse(&status)
        .ok_or_else(|| StoreError::Inconsistent(format!("report status {status:?}")))?
    {
        ReportStatus::Open => None,
        ReportStatus::Resolved => {
            let outcome = text(item, "outcome")?;
            Some(Resolution {
                outcome: ResolutionOutcome::parse(&outcome)
                    .ok_or_else(|| StoreError::Inconsistent(format!("resolution outcome {outcome:?}")))?,
                note: moderation_text(item, "note")?,
                by: text(item, "resolved_by")?,
                at: number(item, "resolved_at")?,
            })
        }
    };
    Ok(Report {
        id: text(item, "id")?,
        booking_id: number(item, "booking_id")?,
        reporter_id: text(item, "reporter_id")?,
        reported_user_id: text(item, "reported_user_id")?,
        message_id: optional_number(item, "message_id")?,
        reason: ReportReason::parse(&reason)
            .ok_or_else(|| StoreError::Inconsistent(format!("report reason {reason:?}")))?,
        details: moderation_text(item, "details")?,
        created_at: number(item, "created_at")?,
        resolution,
    })
}

fn audit_item(entry: &AuditEntry) -> Item {
    let mut item = key(AUDIT_PK, entry.id.as_str());
    item.insert("id".into(), s(entry.id.as_str()));
    item.insert("at".into(), n(entry.at));
    item.insert("actor".into(), s(entry.actor.as_str()));
    item.insert("action".into(), s(entry.action.as_str()));
    if let Some(booking_id) = entry.booking_id {
        item.insert("booking_id".into(), n(booking_id));
        // The booking's entries, in the index the inbox uses (whose `USER#` partitions these never meet).
        item.insert("gsi1pk".into(), s(format!("AUDIT#{booking_id}")));
        item.insert("gsi1sk".into(), s(entry.id.as_str()));
    }
    if let Some(target) = &entry.target {
        item.insert("target".into(), s(target.as_str()));
    }
    item.insert("detail".into(), s(entry.detail.to_string()));
    item
}

fn audit_from(item: &Item) -> Result<AuditEntry, StoreError> {
    let detail = text(item, "detail")?;
    Ok(AuditEntry {
        id: text(item, "id")?,
        at: number(item, "at")?,
        actor: text(item, "actor")?,
        action: text(item, "action")?,
        booking_id: optional_number(item, "booking_id")?,
        target: optional_text(item, "target")?,
        detail: serde_json::from_str(&detail)
            .map_err(|e| StoreError::Inconsistent(format!("audit detail is not JSON: {e}")))?,
    })
}

/// Whether a failed transaction may be tried again: cancelled (a condition failed, or it conflicted with
/// another transaction), or a server error after the SDK's retries; either way nothing was written.
fn may_retry(
    error: &SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> bool {
    error.raw_response().is_some_and(|r| r.status().is_server_error())
        || matches!(error.as_service_error(), Some(TransactWriteItemsError::TransactionCanceledException(_)))
}

/// Which partition (and, for the index, which key attributes) a page is read from.
struct Partition {
    index: Option<&'static str>,
    pk_name: &'static str,
    sk_name: &'static str,
    pk: String,
}

impl DynamoDbModeration {
    /// The moderation records in `table`, the chat's table (created by Terraform, or by
    /// [`crate::dynamodb::create_table`]).
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self { client, table: table.into() }
    }

    async fn get(&self, key: Item, operation: &'static str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&*self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::database(operation, e))?;
        Ok(output.item)
    }

    /// The items of a partition after `after`, in sort-key order, at most `limit`.
    async fn page(
        &self,
        partition: Partition,
        after: Option<&str>,
        limit: usize,
        operation: &'static str,
    ) -> Result<Vec<Item>, StoreError> {
        let limit = page_size(limit);
        let after = after.and_then(sort_key);
        let mut items = Vec::new();
        let mut start = None;
        while items.len() < limit {
            let condition = if after.is_some() { "#pk = :pk AND #sk > :after" } else { "#pk = :pk" };
            let output = self
                .client
                .query()
                .table_name(&*self.table)
                .set_index_name(partition.index.map(str::to_owned))
                .key_condition_expression(condition)
                .set_expression_attribute_names(Some(
                    [("#pk".to_owned(), partition.pk_name.to_owned())]
                        .into_iter()
                        .chain(after.map(|_| ("#sk".to_owned(), partition.sk_name.to_owned())))
                        .collect(),
                ))
                .set_expression_attribute_values(Some(
                    [(":pk".to_owned(), s(partition.pk.as_str()))]
                        .into_iter()
                        .chain(after.map(|after| (":after".to_owned(), s(after))))
                        .collect(),
                ))
                // An index cannot be read consistently; the table can, and the queues are.
                .consistent_read(partition.index.is_none())
                .limit(i32::try_from(limit - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| StoreError::database(operation, e))?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(items)
    }

    async fn add_report(&self, new: &NewReport) -> Result<Report, StoreError> {
        let report = Report::open(new_record_id(), new);
        self.client
            .put_item()
            .table_name(&*self.table)
            .set_item(Some(report_item(&report)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| StoreError::database("adding a report", e))?;
        Ok(report)
    }

    async fn report(&self, id: &str) -> Result<Option<Report>, StoreError> {
        const OP: &str = "reading a report";
        let Some(id) = sort_key(id) else { return Ok(None) };
        // Open first: a report moves from open to resolved and never back, so if it is not open by now
        // it is resolved by now (or does not exist).
        for status in [ReportStatus::Open, ReportStatus::Resolved] {
            if let Some(item) = self.get(key(queue_pk(status), id), OP).await? {
                return report_from(&item).map(Some);
            }
        }
        Ok(None)
    }

    async fn reports(
        &self,
        status: ReportStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError> {
        let partition = Partition { index: None, pk_name: "pk", sk_name: "sk", pk: queue_pk(status) };
        let items = self.page(partition, after, limit, "listing reports").await?;
        items.iter().map(report_from).collect()
    }

    async fn reports_by(&self, reporter_id: &str) -> Result<Vec<Report>, StoreError> {
        const OP: &str = "listing a member's reports";
        let mut reports = Vec::new();
        for status in [ReportStatus::Open, ReportStatus::Resolved] {
            let mut start = None;
            loop {
                let output = self
                    .client
                    .query()
                    .table_name(&*self.table)
                    .key_condition_expression("pk = :pk")
                    .filter_expression("reporter_id = :reporter")
                    .expression_attribute_values(":pk", s(queue_pk(status)))
                    .expression_attribute_values(":reporter", s(reporter_id))
                    .consistent_read(true)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| StoreError::database(OP, e))?;
                for item in output.items.unwrap_or_default() {
                    reports.push(report_from(&item)?);
                }
                start = output.last_evaluated_key;
                if start.is_none() {
                    break;
                }
            }
        }
        reports.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(reports)
    }

    async fn resolve_report(
        &self,
        id: &str,
        resolution: &Resolution,
    ) -> Result<Option<Resolved>, StoreError> {
        const OP: &str = "resolving a report";
        let Some(id) = sort_key(id) else { return Ok(None) };
        for attempt in 0..RESOLVE_ATTEMPTS {
            let Some(open) = self.get(key(queue_pk(ReportStatus::Open), id), OP).await? else {
                let resolved = self.get(key(queue_pk(ReportStatus::Resolved), id), OP).await?;
                return resolved.map(|item| report_from(&item).map(Resolved::Already)).transpose();
            };
            let report = Report { resolution: Some(resolution.clone()), ..report_from(&open)? };
            let delete = Delete::builder()
                .table_name(&*self.table)
                .set_key(Some(key(queue_pk(ReportStatus::Open), id)))
                .condition_expression("attribute_exists(pk)")
                .build()
                .map_err(|e| StoreError::database(OP, e))?;
            let put = Put::builder()
                .table_name(&*self.table)
                .set_item(Some(report_item(&report)))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|e| StoreError::database(OP, e))?;
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().delete(delete).build())
                .transact_items(TransactWriteItem::builder().put(put).build())
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Some(Resolved::Now(report))),
                // Another resolution committed (the next read finds it resolved), or conflicted: read again.
                Err(error) if may_retry(&error) => {
                    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=10u64 << attempt.min(4))))
                        .await;
                }
                Err(error) => return Err(StoreError::database(OP, error)),
            }
        }
        Err(StoreError::Contention(OP))
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&*self.table)
            .set_item(Some(audit_item(entry)))
            // Append-only: an entry is written once, never over another.
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        conditional(result, "appending to the audit log")
    }

    async fn audit(
        &self,
        booking_id: Option<BookingId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let partition = match booking_id {
            None => Partition { index: None, pk_name: "pk", sk_name: "sk", pk: AUDIT_PK.to_owned() },
            Some(booking_id) => Partition {
                index: Some("gsi1"),
                pk_name: "gsi1pk",
                sk_name: "gsi1sk",
                pk: format!("AUDIT#{booking_id}"),
            },
        };
        let items = self.page(partition, after, limit, "reading the audit log").await?;
        items.iter().map(audit_from).collect()
    }
}

crate::moderation::delegate_moderation_store!(DynamoDbModeration);
