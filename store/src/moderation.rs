//! Trust and safety's records: members' reports and the operator's append-only audit log, behind their own
//! port, [`ModerationStore`], kept beside the chat on every store ([`crate::ChatStore::moderation`]).
//!
//! - A member reports a message or the other member of a booking ([`NewReport`], with a
//!   [`ReportReason`]); the report waits in the open queue until the operator resolves it, once
//!   ([`Resolution`]: dismissed or actioned). A resolution is final: the store changes only an open
//!   report, in one conditional write, so of operators resolving the same report at once, one wins and
//!   the others are told it was resolved already ([`Resolved::Already`]).
//! - Every moderation action is appended to the audit log ([`AuditEntry`]), which no method updates or
//!   deletes; on SQL the database itself refuses to (triggers of `0008_moderation.sql`), on DynamoDB each
//!   entry is written once, on the condition that its key is new.
//!
//! Report and audit ids ([`new_record_id`]) sort in the order they were made, so queues and the log are
//! read oldest first and paged by the last id seen, the same on every store. Free text (a report's
//! details, a resolution's note) is a [`ModerationText`]: at most [`MAX_TEXT_CHARS`] characters.
//!
//! The adapters: [`crate::sql_moderation::SqlModeration`] and
//! [`crate::dynamodb_moderation::DynamoDbModeration`]; `docs/chat-store.md` ("Reports and the audit log")
//! is the design.

use std::sync::Mutex;

use chat_wire::time::now_millis;
use chat_wire::{BookingId, MessageId};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// Most characters of a report's details or a resolution's note.
pub const MAX_TEXT_CHARS: usize = 1000;

/// Most reports or audit entries one call returns; a larger `limit` is read as this.
pub const MAX_PAGE: usize = 100;

/// Why a member reports (the wire's: a `report` frame names it).
pub use chat_wire::ReportReason;

/// Where a report is: waiting for the operator, or resolved (which is final).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// In the operator's queue.
    Open,
    /// The operator decided; it never changes again.
    Resolved,
}

impl ReportStatus {
    /// The status as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
        }
    }

    /// Parses a stored or requested status.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(Self::Open),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

/// What the operator decided about a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionOutcome {
    /// Nothing to act on.
    Dismissed,
    /// Acted on (a message hidden, a chat closed, a member warned or removed: the audit log says what).
    Actioned,
}

impl ResolutionOutcome {
    /// The outcome as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dismissed => "dismissed",
            Self::Actioned => "actioned",
        }
    }

    /// Parses a stored or requested outcome.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "dismissed" => Some(Self::Dismissed),
            "actioned" => Some(Self::Actioned),
            _ => None,
        }
    }
}

/// Why a text cannot be a [`ModerationText`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Longer than [`MAX_TEXT_CHARS`] characters.
    #[error("longer than {MAX_TEXT_CHARS} characters ({chars})")]
    TooLong {
        /// How many characters it has.
        chars: usize,
    },
    /// Holds a control character other than newline and tab (PostgreSQL cannot store NUL in text; every
    /// store must give the same answer).
    #[error("contains the control character U+{0:04X}; only newline and tab are allowed")]
    ControlCharacter(u32),
}

/// A free text of a moderation record (a report's details, a resolution's note): at most
/// [`MAX_TEXT_CHARS`] characters (not bytes), no control character but newline and tab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModerationText(String);

impl ModerationText {
    /// Checks a text against the rules above.
    ///
    /// # Errors
    /// The first rule it breaks.
    pub fn parse(text: impl Into<String>) -> Result<Self, TextError> {
        let text = text.into();
        if text.chars().nth(MAX_TEXT_CHARS).is_some() {
            return Err(TextError::TooLong { chars: text.chars().count() });
        }
        if let Some(c) = text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
            return Err(TextError::ControlCharacter(u32::from(c)));
        }
        Ok(Self(text))
    }

    /// A blank text is no text: `None`; otherwise as [`ModerationText::parse`].
    ///
    /// # Errors
    /// As [`ModerationText::parse`].
    pub fn parse_optional(text: Option<&str>) -> Result<Option<Self>, TextError> {
        text.filter(|t| !t.trim().is_empty()).map(Self::parse).transpose()
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ModerationText {
    type Error = TextError;

    fn try_from(text: String) -> Result<Self, TextError> {
        Self::parse(text)
    }
}

impl From<ModerationText> for String {
    fn from(text: ModerationText) -> Self {
        text.0
    }
}

/// Why a report cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// The details break a rule of [`ModerationText`].
    #[error("details: {0}")]
    Details(#[from] TextError),
    /// A member reports themselves.
    #[error("a member cannot report themselves")]
    ReportsSelf,
}

/// A member's report, before the store gives it an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReport {
    /// The booking whose chat it is about.
    pub booking_id: BookingId,
    /// Who reports (a member of the booking).
    pub reporter_id: String,
    /// Who is reported (the booking's other member; a message's sender).
    pub reported_user_id: String,
    /// The message reported, when it is about one message rather than the member.
    pub message_id: Option<MessageId>,
    /// Why.
    pub reason: ReportReason,
    /// What the reporter added, if anything.
    pub details: Option<ModerationText>,
    /// When it was made, epoch ms.
    pub created_at: i64,
}

impl NewReport {
    /// A report with its details checked (blank details are none).
    ///
    /// # Errors
    /// [`ReportError::Details`] when the details break a rule of [`ModerationText`] (too long);
    /// [`ReportError::ReportsSelf`] when the reporter is the reported member.
    pub fn new(
        booking_id: BookingId,
        reporter_id: impl Into<String>,
        reported_user_id: impl Into<String>,
        message_id: Option<MessageId>,
        reason: ReportReason,
        details: Option<&str>,
        created_at: i64,
    ) -> Result<Self, ReportError> {
        let (reporter_id, reported_user_id) = (reporter_id.into(), reported_user_id.into());
        if reporter_id == reported_user_id {
            return Err(ReportError::ReportsSelf);
        }
        Ok(Self {
            booking_id,
            reporter_id,
            reported_user_id,
            message_id,
            reason,
            details: ModerationText::parse_optional(details)?,
            created_at,
        })
    }
}

/// The operator's decision about a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// Dismissed or actioned.
    pub outcome: ResolutionOutcome,
    /// Why, for the next operator who reads it.
    pub note: Option<ModerationText>,
    /// Who decided (the operator's name, or `service`).
    pub by: String,
    /// When, epoch ms.
    pub at: i64,
}

/// A stored report. Its status follows from its resolution ([`Report::status`]): a report cannot be
/// resolved without saying how, nor open with a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Its id: ids sort in the order reports were made ([`new_record_id`]).
    pub id: String,
    /// The booking whose chat it is about.
    pub booking_id: BookingId,
    /// Who reported.
    pub reporter_id: String,
    /// Who is reported.
    pub reported_user_id: String,
    /// The message reported, if it is about one.
    pub message_id: Option<MessageId>,
    /// Why.
    pub reason: ReportReason,
    /// What the reporter added.
    pub details: Option<ModerationText>,
    /// When it was made, epoch ms.
    pub created_at: i64,
    /// The operator's decision; `None` while open.
    pub resolution: Option<Resolution>,
}

impl Report {
    /// The report `new` becomes, open, with `id`.
    pub fn open(id: String, new: &NewReport) -> Self {
        Self {
            id,
            booking_id: new.booking_id,
            reporter_id: new.reporter_id.clone(),
            reported_user_id: new.reported_user_id.clone(),
            message_id: new.message_id,
            reason: new.reason,
            details: new.details.clone(),
            created_at: new.created_at,
            resolution: None,
        }
    }

    /// Open until resolved.
    pub fn status(&self) -> ReportStatus {
        if self.resolution.is_some() { ReportStatus::Resolved } else { ReportStatus::Open }
    }
}

/// What [`ModerationStore::resolve_report`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// This call resolved the open report: the report as it is now.
    Now(Report),
    /// The report had been resolved already (perhaps by a call racing this one): the report as it is, not
    /// changed again.
    Already(Report),
}

impl Resolved {
    /// The report, resolved.
    pub fn report(&self) -> &Report {
        match self {
            Self::Now(report) | Self::Already(report) => report,
        }
    }

    /// The report, resolved.
    pub fn into_report(self) -> Report {
        match self {
            Self::Now(report) | Self::Already(report) => report,
        }
    }

    /// Whether this call resolved it (and so is the one to record it in the audit log).
    pub fn by_this_call(&self) -> bool {
        matches!(self, Self::Now(_))
    }
}

/// The actions the backend records, as [`AuditEntry::action`]; an entry may name others.
pub mod actions {
    /// A report was resolved (target: the report id; detail: `{"outcome": ...}`).
    pub const REPORT_RESOLVED: &str = "report.resolved";
    /// A message was hidden (target: the message id; detail: `{"reason": ...}`).
    pub const MESSAGE_HIDDEN: &str = "message.hidden";
    /// A booking's chat was closed to writing.
    pub const CHAT_CLOSED: &str = "chat.closed";
    /// A closed chat was opened again.
    pub const CHAT_REOPENED: &str = "chat.reopened";
    /// The operator searched a booking (its booking) or a user's bookings (target: the user); detail: the
    /// scope and how many words, never the words.
    pub const SEARCH: &str = "search";
    /// A user's data was exported (target: the user).
    pub const USER_EXPORTED: &str = "user.exported";
    /// A call erased (some of) a user's data (target: the user; detail: what it did, and whether the
    /// erasure is complete).
    pub const USER_ERASED: &str = "user.erased";
    /// The retention job deleted chats (detail: how many bookings, messages and files).
    pub const RETENTION_RUN: &str = "retention.run";
}

/// One moderation action, as the audit log keeps it forever: appended once, never changed nor deleted.
///
/// `detail` is small, structured context (an outcome, a reason code, a status): never a message body, a
/// report's details, a token, a credential or contact details. The log outlives what it describes (a
/// hidden message's body is erased; the log must not keep it) and is read by more people than the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its id: ids sort in the order entries were made ([`new_record_id`]); the log is read in id order.
    pub id: String,
    /// When the action was taken, epoch ms.
    pub at: i64,
    /// Who acted (an operator's name, or `service` for the service credentials).
    pub actor: String,
    /// What was done: one of [`actions`], or another `noun.verb`.
    pub action: String,
    /// The booking it concerns, if any (the log can be read per booking).
    pub booking_id: Option<BookingId>,
    /// What it was done to, as text: a message id, a report id, a user id.
    pub target: Option<String>,
    /// Small structured context; see the type's documentation for what never goes here.
    pub detail: serde_json::Value,
}

impl AuditEntry {
    /// An entry of `actor` doing `action` now, with a fresh id, no booking, no target and an empty detail
    /// (`{}`).
    pub fn new(actor: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            id: new_record_id(),
            at: now_millis(),
            actor: actor.into(),
            action: action.into(),
            booking_id: None,
            target: None,
            detail: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// The same entry about `booking_id`.
    #[must_use]
    pub fn booking(self, booking_id: BookingId) -> Self {
        Self { booking_id: Some(booking_id), ..self }
    }

    /// The same entry done to `target`.
    #[must_use]
    pub fn target(self, target: impl Into<String>) -> Self {
        Self { target: Some(target.into()), ..self }
    }

    /// The same entry with `detail`.
    #[must_use]
    pub fn detail(self, detail: serde_json::Value) -> Self {
        Self { detail, ..self }
    }
}

/// The last id made by this process: (milliseconds, sequence within them).
static LAST_ID: Mutex<(i64, u32)> = Mutex::new((0, 0));

/// The sequence numbers available within one millisecond (four hex digits).
const SEQUENCE_SPAN: u32 = 0x1_0000;

/// A fresh id for a report or an audit entry: `{epoch ms, 13 digits}-{sequence, 4 hex}{random, 12 hex}`,
/// 30 ASCII characters that sort (bytewise, as SQLite, PostgreSQL's `C` collation and DynamoDB compare
/// them) in the order they were made: strictly within a process, even within one millisecond or if the
/// clock steps back; across processes, to the millisecond of their clocks. The random part keeps two
/// processes' ids apart.
pub fn new_record_id() -> String {
    let (ms, sequence) = {
        let mut last = LAST_ID.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = now_millis();
        *last = if now > last.0 {
            (now, 0)
        } else if last.1 + 1 < SEQUENCE_SPAN {
            (last.0, last.1 + 1)
        } else {
            // 65,536 ids in one millisecond: borrow the next one.
            (last.0 + 1, 0)
        };
        *last
    };
    format!("{ms:013}-{sequence:04x}{:012x}", fastrand::u64(..1 << 48))
}

/// The members' reports and the operator's audit log: an adapter per store
/// ([`crate::ChatStore::moderation`]), every guarantee kept by the database.
pub trait ModerationStore: Send + Sync + 'static {
    /// Stores `report`, open, under a fresh id ([`new_record_id`]); the report as stored.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    fn add_report<'a>(&'a self, report: &'a NewReport) -> BoxFuture<'a, Result<Report, StoreError>>;

    /// The report with this id, open or resolved.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Inconsistent`] when the stored report is not one.
    fn report<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Report>, StoreError>>;

    /// The reports in `status`, oldest first (by id), from the first after `after` (an id; `None`: from
    /// the oldest), at most `limit` (itself at most [`MAX_PAGE`]): the operator's queue, paged by the last
    /// id of the previous page.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Inconsistent`] when a stored report is not one.
    fn reports<'a>(
        &'a self,
        status: ReportStatus,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Report>, StoreError>>;

    /// Every report `reporter_id` made, open or resolved, oldest first: for their export. On DynamoDB it
    /// reads both queues' partitions with a filter (reports are few beside messages), so it costs a read
    /// unit per 4 KB of all reports.
    ///
    /// # Errors
    /// As [`ModerationStore::reports`].
    fn reports_by<'a>(&'a self, reporter_id: &'a str) -> BoxFuture<'a, Result<Vec<Report>, StoreError>>;

    /// Resolves the report with this id, if it is open, in one conditional write: of calls racing on the
    /// same report, one resolves it ([`Resolved::Now`]) and the others get it as that one left it
    /// ([`Resolved::Already`]), as does any later call. `None` when there is no such report.
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Contention`] when the write kept losing to others (DynamoDB
    /// transaction conflicts) without the report being resolved.
    fn resolve_report<'a>(
        &'a self,
        id: &'a str,
        resolution: &'a Resolution,
    ) -> BoxFuture<'a, Result<Option<Resolved>, StoreError>>;

    /// Appends `entry` to the audit log, unless an entry with its id is there (a retry): whether this call
    /// appended it. An entry, once appended, is never changed: the existing one stays as it was.
    ///
    /// # Errors
    /// [`StoreError::Database`].
    fn append_audit<'a>(&'a self, entry: &'a AuditEntry) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The audit log, oldest first (by id), from the first entry after `after` (`None`: from the oldest),
    /// at most `limit` (itself at most [`MAX_PAGE`]).
    ///
    /// # Errors
    /// [`StoreError::Database`]; [`StoreError::Inconsistent`] when a stored entry is not one.
    fn audit<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<AuditEntry>, StoreError>>;

    /// The audit entries about one booking, as [`ModerationStore::audit`]. On DynamoDB it reads an index,
    /// which may lag a write by a moment.
    ///
    /// # Errors
    /// As [`ModerationStore::audit`].
    fn audit_of_booking<'a>(
        &'a self,
        booking_id: BookingId,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<AuditEntry>, StoreError>>;
}

/// [`ModerationStore`] for an adapter whose inherent `async fn`s have its methods' names and signatures
/// (`audit` taking the booking as an `Option`): each is boxed and delegated, as `delegate_to_inherent!`
/// does for [`crate::ChatStore`].
macro_rules! delegate_moderation_store {
    ($adapter:ty) => {
        impl $crate::moderation::ModerationStore for $adapter {
            fn add_report<'a>(&'a self, report: &'a NewReport) -> BoxFuture<'a, Result<Report, StoreError>> {
                Box::pin(self.add_report(report))
            }

            fn report<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Report>, StoreError>> {
                Box::pin(self.report(id))
            }

            fn reports<'a>(
                &'a self,
                status: ReportStatus,
                after: Option<&'a str>,
                limit: usize,
            ) -> BoxFuture<'a, Result<Vec<Report>, StoreError>> {
                Box::pin(self.reports(status, after, limit))
            }

            fn reports_by<'a>(
                &'a self,
                reporter_id: &'a str,
            ) -> BoxFuture<'a, Result<Vec<Report>, StoreError>> {
                Box::pin(self.reports_by(reporter_id))
            }

            fn resolve_report<'a>(
                &'a self,
                id: &'a str,
                resolution: &'a Resolution,
            ) -> BoxFuture<'a, Result<Option<Resolved>, StoreError>> {
                Box::pin(self.resolve_report(id, resolution))
            }

            fn append_audit<'a>(&'a self, entry: &'a AuditEntry) -> BoxFuture<'a, Result<bool, StoreError>> {
                Box::pin(self.append_audit(entry))
            }

            fn audit<'a>(
                &'a self,
                after: Option<&'a str>,
                limit: usize,
            ) -> BoxFuture<'a, Result<Vec<AuditEntry>, StoreError>> {
                Box::pin(self.audit(None, after, limit))
            }

            fn audit_of_booking<'a>(
                &'a self,
                booking_id: BookingId,
                after: Option<&'a str>,
                limit: usize,
            ) -> BoxFuture<'a, Result<Vec<AuditEntry>, StoreError>> {
                Box::pin(self.audit(Some(booking_id), after, limit))
            }
        }
    };
}
pub(crate) use delegate_moderation_store;

/// `limit` as a page size: at most [`MAX_PAGE`].
pub(crate) fn page_size(limit: usize) -> usize {
    limit.min(MAX_PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_statuses_and_outcomes_round_trip_through_their_text_and_serde() {
        for reason in ReportReason::ALL {
            assert_eq!(ReportReason::parse(reason.as_str()), Some(reason));
            assert_eq!(serde_json::to_value(reason).ok(), Some(serde_json::json!(reason.as_str())));
        }
        assert_eq!(ReportReason::parse("off-platform"), None);
        for status in [ReportStatus::Open, ReportStatus::Resolved] {
            assert_eq!(ReportStatus::parse(status.as_str()), Some(status));
        }
        for outcome in [ResolutionOutcome::Dismissed, ResolutionOutcome::Actioned] {
            assert_eq!(ResolutionOutcome::parse(outcome.as_str()), Some(outcome));
        }
    }

    #[test]
    fn texts_are_limited_in_characters_not_bytes() {
        assert!(ModerationText::parse("é".repeat(MAX_TEXT_CHARS)).is_ok());
        assert_eq!(
            ModerationText::parse("a".repeat(MAX_TEXT_CHARS + 1)),
            Err(TextError::TooLong { chars: MAX_TEXT_CHARS + 1 })
        );
        assert_eq!(ModerationText::parse("a\0b"), Err(TextError::ControlCharacter(0)));
        assert!(ModerationText::parse("line\n\tline").is_ok());
        assert_eq!(ModerationText::parse_optional(Some("  ")), Ok(None));
        let parsed: Result<ModerationText, _> = serde_json::from_value(serde_json::json!("x".repeat(1001)));
        assert!(parsed.is_err(), "serde parses too");
    }

    #[test]
    fn a_report_needs_short_details_and_another_member() {
        let too_long = "x".repeat(MAX_TEXT_CHARS + 1);
        let refused = NewReport::new(1, "bob", "alice", None, ReportReason::Spam, Some(&too_long), 0);
        assert_eq!(refused, Err(ReportError::Details(TextError::TooLong { chars: MAX_TEXT_CHARS + 1 })));
        let refused = NewReport::new(1, "bob", "bob", None, ReportReason::Spam, None, 0);
        assert_eq!(refused, Err(ReportError::ReportsSelf));
        let report = NewReport::new(1, "bob", "alice", Some(3), ReportReason::Scam, Some(" "), 0);
        assert_eq!(report.map(|r| r.details), Ok(None));
    }

    #[test]
    fn record_ids_increase_strictly_and_have_one_shape() {
        let ids: Vec<String> = (0..10_000).map(|_| new_record_id()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "strictly increasing");
        for id in &ids {
            assert_eq!(id.len(), 30, "{id}");
            assert_eq!(&id[13..14], "-", "{id}");
            assert!(id[..13].bytes().all(|b| b.is_ascii_digit()), "{id}");
            assert!(id[14..].bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{id}");
        }
    }
}
