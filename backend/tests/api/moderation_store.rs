//! Trust and safety's records on every store (`ChatStore::moderation`): members' reports, listed oldest
//! first in pages and resolved once however many operators race, and the append-only audit log. Driven
//! through the store the real startup path opened; on SQL, the database itself refuses to change the log.

use chat_backend::store::moderation::{
    AuditEntry, MAX_TEXT_CHARS, ModerationStore, ModerationText, NewReport, Report, ReportError,
    ReportReason, ReportStatus, Resolution, ResolutionOutcome, Resolved, TextError, actions, new_record_id,
};
use serde_json::json;

use crate::helpers::{TestApp, chrono_now};

crate::on_every_store!(
    reports_are_listed_oldest_first_in_pages_and_read_back_by_id,
    a_report_is_resolved_once_and_a_second_resolve_changes_nothing,
    of_eight_concurrent_resolves_exactly_one_wins_and_the_report_keeps_its_resolution,
    unknown_report_ids_are_none_to_read_and_to_resolve,
    details_longer_than_1000_characters_are_refused_and_1000_are_kept_whole,
    the_audit_log_is_listed_oldest_first_in_pages_and_per_booking,
    an_audit_entry_appended_again_is_not_appended_twice_nor_changed,
);

fn report(reporter: &str, reported: &str, message_id: Option<i64>, reason: ReportReason) -> NewReport {
    NewReport::new(
        1,
        reporter,
        reported,
        message_id,
        reason,
        Some("asked me to pay by wire"),
        chrono_now() * 1000,
    )
    .expect("a valid report")
}

fn resolution(outcome: ResolutionOutcome, by: &str) -> Resolution {
    Resolution {
        outcome,
        note: Some(ModerationText::parse(format!("checked by {by}")).expect("note")),
        by: by.to_owned(),
        at: chrono_now() * 1000,
    }
}

fn ids(reports: &[Report]) -> Vec<&str> {
    reports.iter().map(|r| r.id.as_str()).collect()
}

/// Adds five reports of booking 1, one after the other.
async fn five_reports(store: &dyn ModerationStore) -> Vec<Report> {
    let mut added = Vec::new();
    for (i, reason) in
        [ReportReason::Scam, ReportReason::Spam, ReportReason::OffPlatform].iter().cycle().take(5).enumerate()
    {
        let message_id = (i % 2 == 0).then_some(i as i64 + 1);
        added.push(store.add_report(&report("bob", "alice", message_id, *reason)).await.expect("add"));
    }
    added
}

async fn reports_are_listed_oldest_first_in_pages_and_read_back_by_id(app: TestApp) {
    let store = app.store.moderation();
    let added = five_reports(&*store).await;
    assert!(added.windows(2).all(|pair| pair[0].id < pair[1].id), "ids sort in creation order: {added:?}");
    for report in &added {
        assert_eq!(report.status(), ReportStatus::Open);
        assert_eq!(store.report(&report.id).await.expect("read").as_ref(), Some(report));
    }

    let all = store.reports(ReportStatus::Open, None, 10).await.expect("list");
    assert_eq!(all, added);
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.reports(ReportStatus::Open, after.as_deref(), 2).await.expect("page");
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        paged.extend(page);
    }
    assert_eq!(ids(&paged), ids(&added), "pages of 2 cover the queue once, in order");
    assert!(store.reports(ReportStatus::Resolved, None, 10).await.expect("list").is_empty());

    // Resolved out of order, the resolved queue is still oldest first; the open one keeps the rest.
    for report in [&added[3], &added[1]] {
        let resolution = resolution(ResolutionOutcome::Dismissed, "ops");
        store.resolve_report(&report.id, &resolution).await.expect("resolve").expect("exists");
    }
    let open = store.reports(ReportStatus::Open, None, 10).await.expect("list");
    assert_eq!(ids(&open), [&added[0].id, &added[2].id, &added[4].id]);
    let resolved = store.reports(ReportStatus::Resolved, None, 10).await.expect("list");
    assert_eq!(ids(&resolved), [&added[1].id, &added[3].id]);
    let after_first = store.reports(ReportStatus::Resolved, Some(&added[1].id), 10).await.expect("list");
    assert_eq!(ids(&after_first), [&added[3].id]);
    assert!(store.reports(ReportStatus::Open, None, 0).await.expect("list").is_empty());
}

async fn a_report_is_resolved_once_and_a_second_resolve_changes_nothing(app: TestApp) {
    let store = app.store.moderation();
    let added =
        store.add_report(&report("bob", "alice", Some(7), ReportReason::Harassment)).await.expect("add");

    let first = resolution(ResolutionOutcome::Actioned, "first-operator");
    let resolved = store.resolve_report(&added.id, &first).await.expect("resolve").expect("exists");
    let Resolved::Now(report) = &resolved else { panic!("the first resolve resolves: {resolved:?}") };
    assert!(resolved.by_this_call());
    assert_eq!(report.resolution.as_ref(), Some(&first));
    assert_eq!(report.status(), ReportStatus::Resolved);
    assert_eq!(*report, Report { resolution: Some(first.clone()), ..added.clone() }, "nothing else changed");

    let second = Resolution { note: None, ..resolution(ResolutionOutcome::Dismissed, "second-operator") };
    let again = store.resolve_report(&added.id, &second).await.expect("resolve").expect("exists");
    assert_eq!(again, Resolved::Already(report.clone()), "returned as it is, not changed again");
    assert_eq!(store.report(&added.id).await.expect("read").as_ref(), Some(report));
    assert_eq!(
        store.reports(ReportStatus::Resolved, None, 10).await.expect("list"),
        std::slice::from_ref(report)
    );
    assert!(store.reports(ReportStatus::Open, None, 10).await.expect("list").is_empty());
}

async fn of_eight_concurrent_resolves_exactly_one_wins_and_the_report_keeps_its_resolution(app: TestApp) {
    let store = app.store.moderation();
    let added = store.add_report(&report("bob", "alice", None, ReportReason::Scam)).await.expect("add");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (store, id) = (store.clone(), added.id.clone());
            let outcome = if i % 2 == 0 { ResolutionOutcome::Actioned } else { ResolutionOutcome::Dismissed };
            let mine = resolution(outcome, &format!("operator-{i}"));
            tokio::spawn(async move {
                let resolved = store.resolve_report(&id, &mine).await.expect("resolve").expect("exists");
                (mine, resolved)
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }

    let winners: Vec<&Resolution> =
        outcomes.iter().filter(|(_, resolved)| resolved.by_this_call()).map(|(mine, _)| mine).collect();
    assert_eq!(winners.len(), 1, "exactly one resolves: {outcomes:?}");
    let stored = store.report(&added.id).await.expect("read").expect("exists");
    assert_eq!(stored.resolution.as_ref(), Some(winners[0]), "the winner's resolution is the one kept");
    for (_, resolved) in &outcomes {
        assert_eq!(resolved.report(), &stored, "every caller sees the report as the winner left it");
    }
    assert_eq!(store.reports(ReportStatus::Resolved, None, 10).await.expect("list"), [stored]);
    assert!(store.reports(ReportStatus::Open, None, 10).await.expect("list").is_empty());
}

async fn unknown_report_ids_are_none_to_read_and_to_resolve(app: TestApp) {
    let store = app.store.moderation();
    let added = store.add_report(&report("bob", "alice", None, ReportReason::Other)).await.expect("add");
    let unknown = new_record_id();
    let long = "9".repeat(2000);
    for id in [unknown.as_str(), "nope", "", long.as_str(), &added.id[..13]] {
        assert_eq!(store.report(id).await.expect("read"), None, "{id:?}");
        let resolution = resolution(ResolutionOutcome::Dismissed, "ops");
        assert_eq!(store.resolve_report(id, &resolution).await.expect("resolve"), None, "{id:?}");
    }
    // Nothing was created by resolving what does not exist, and the real report is still open.
    assert!(store.reports(ReportStatus::Resolved, None, 10).await.expect("list").is_empty());
    assert_eq!(store.reports(ReportStatus::Open, None, 10).await.expect("list"), [added]);
}

async fn details_longer_than_1000_characters_are_refused_and_1000_are_kept_whole(app: TestApp) {
    let too_long = "x".repeat(MAX_TEXT_CHARS + 1);
    assert_eq!(
        NewReport::new(1, "bob", "alice", None, ReportReason::Spam, Some(&too_long), 0),
        Err(ReportError::Details(TextError::TooLong { chars: MAX_TEXT_CHARS + 1 }))
    );
    assert_eq!(
        NewReport::new(1, "bob", "bob", None, ReportReason::Spam, None, 0),
        Err(ReportError::ReportsSelf)
    );
    assert!(ModerationText::parse(too_long).is_err(), "nor can a resolution's note be longer");

    // A thousand characters of up to four bytes each are kept whole on every store.
    let longest: String = "é💬a\n".chars().cycle().take(MAX_TEXT_CHARS).collect();
    let new = NewReport::new(1, "bob", "alice", Some(2), ReportReason::Inappropriate, Some(&longest), 5)
        .expect("1000 characters are fine");
    let store = app.store.moderation();
    let added = store.add_report(&new).await.expect("add");
    let read = store.report(&added.id).await.expect("read").expect("exists");
    assert_eq!(read.details.as_ref().map(ModerationText::as_str), Some(longest.as_str()));
    let note = ModerationText::parse(longest.clone()).expect("note");
    let resolution = Resolution { note: Some(note), ..resolution(ResolutionOutcome::Actioned, "ops") };
    let resolved = store.resolve_report(&added.id, &resolution).await.expect("resolve").expect("exists");
    assert_eq!(store.report(&added.id).await.expect("read").as_ref(), Some(resolved.report()));
    assert_eq!(resolved.report().resolution.as_ref(), Some(&resolution));
}

/// Appends seven entries: about booking 1, booking 2, or none.
async fn seven_entries(store: &dyn ModerationStore) -> Vec<AuditEntry> {
    let mut appended = Vec::new();
    for i in 0..7_i64 {
        let entry = AuditEntry::new(if i == 0 { "ops" } else { "service" }, actions::MESSAGE_HIDDEN)
            .target(i.to_string())
            .detail(json!({"reason": "scam", "step": i, "nested": {"list": [1, 2.5, null, "x"]}}));
        let entry = match i % 3 {
            0 => entry.booking(1),
            1 => entry.booking(2),
            _ => entry,
        };
        assert!(store.append_audit(&entry).await.expect("append"));
        appended.push(entry);
    }
    appended
}

async fn the_audit_log_is_listed_oldest_first_in_pages_and_per_booking(app: TestApp) {
    let store = app.store.moderation();
    assert!(store.audit(None, 10).await.expect("read").is_empty());
    let appended = seven_entries(&*store).await;
    assert!(appended.windows(2).all(|pair| pair[0].id < pair[1].id));

    assert_eq!(store.audit(None, 100).await.expect("read"), appended);
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.audit(after.as_deref(), 3).await.expect("page");
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        paged.extend(page);
    }
    assert_eq!(paged, appended, "pages of 3 cover the log once, in order");

    let of_one: Vec<AuditEntry> = appended.iter().filter(|e| e.booking_id == Some(1)).cloned().collect();
    assert_eq!(of_one.len(), 3);
    assert_eq!(store.audit_of_booking(1, None, 10).await.expect("read"), of_one);
    assert_eq!(store.audit_of_booking(1, Some(&of_one[0].id), 1).await.expect("read"), [of_one[1].clone()]);
    assert_eq!(store.audit_of_booking(2, None, 10).await.expect("read").len(), 2);
    assert!(store.audit_of_booking(3, None, 10).await.expect("read").is_empty());
}

async fn an_audit_entry_appended_again_is_not_appended_twice_nor_changed(app: TestApp) {
    let store = app.store.moderation();
    let entry = AuditEntry::new("service", actions::REPORT_RESOLVED)
        .booking(1)
        .target("a report")
        .detail(json!({"outcome": "actioned"}));
    assert!(store.append_audit(&entry).await.expect("append"));
    assert!(!store.append_audit(&entry).await.expect("a retry"), "a retry appends nothing");
    let forged =
        AuditEntry { actor: "someone else".into(), detail: json!({"outcome": "dismissed"}), ..entry.clone() };
    assert!(!store.append_audit(&forged).await.expect("append"), "an entry is never written over");
    assert_eq!(store.audit(None, 10).await.expect("read"), std::slice::from_ref(&entry));
    assert_eq!(store.audit_of_booking(1, None, 10).await.expect("read"), [entry]);
}

/// What the SQL databases enforce themselves, whoever connects: the audit log is append-only, and a
/// resolved report is final. (DynamoDB has no triggers: its adapter only ever puts an audit entry on the
/// condition that it is new, and resolves only an open report.)
mod enforced_by_the_database {
    use chat_backend::store::StoreSettings;

    use super::*;

    crate::on_sql_stores!(updates_and_deletes_of_the_audit_log_and_of_a_resolved_report_are_refused);

    /// A connection of our own to the app's database, as an operator's SQL console would be.
    async fn console(app: &TestApp) -> sqlx::AnyConnection {
        let StoreSettings::Sql { url, .. } = &app.settings.store else { panic!("a SQL store") };
        sqlx::any::install_default_drivers();
        <sqlx::AnyConnection as sqlx::Connection>::connect(url).await.expect("connect")
    }

    async fn refused(console: &mut sqlx::AnyConnection, statement: String, because: &str) {
        let result = sqlx::query(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *console).await;
        let error = result.expect_err(&statement);
        assert!(error.to_string().contains(because), "{statement}: {error}");
    }

    async fn updates_and_deletes_of_the_audit_log_and_of_a_resolved_report_are_refused(app: TestApp) {
        let store = app.store.moderation();
        let appended = seven_entries(&*store).await;
        let mut console = console(&app).await;
        let id = &appended[2].id;
        for statement in [
            format!("UPDATE audit_log SET actor = 'someone else' WHERE id = '{id}'"),
            "UPDATE audit_log SET detail = '{}'".to_owned(),
            format!("DELETE FROM audit_log WHERE id = '{id}'"),
            "DELETE FROM audit_log".to_owned(),
        ] {
            refused(&mut console, statement, "append-only").await;
        }
        if app.store.kind() == "postgres" {
            refused(&mut console, "TRUNCATE audit_log".to_owned(), "append-only").await;
        }
        assert_eq!(store.audit(None, 100).await.expect("read"), appended, "the log is as it was");
        // Appending still works.
        assert!(
            store.append_audit(&AuditEntry::new("service", actions::CHAT_REOPENED)).await.expect("append")
        );

        let added = store.add_report(&report("bob", "alice", None, ReportReason::Spam)).await.expect("add");
        let resolution = resolution(ResolutionOutcome::Dismissed, "ops");
        let resolved = store.resolve_report(&added.id, &resolution).await.expect("resolve").expect("exists");
        refused(
            &mut console,
            format!(
                "UPDATE reports SET status = 'open', outcome = NULL, note = NULL, resolved_by = NULL, \
                 resolved_at = NULL WHERE id = '{}'",
                added.id
            ),
            "final",
        )
        .await;
        assert_eq!(store.report(&added.id).await.expect("read").as_ref(), Some(resolved.report()));
        // A half-resolved row is refused too (the CHECK constraint), on an open report.
        let open = store.add_report(&report("bob", "alice", None, ReportReason::Spam)).await.expect("add");
        let half = format!("UPDATE reports SET status = 'resolved' WHERE id = '{}'", open.id);
        let result = sqlx::query(sqlx::AssertSqlSafe(half)).execute(&mut console).await;
        assert!(result.is_err(), "a resolved report says how it was resolved");
    }
}
