//! Full-text search of chat history (issue 26), what every adapter shares: the query a member typed
//! ([`SearchQuery`], its words), one search ([`Search`]: which bookings, from where, how many), what a
//! store finds ([`SearchHit`], [`SearchPage`]) and where a page ends ([`SearchCursor`], opaque to
//! clients).
//!
//! Results are ordered newest first by `(created_at, booking_id, message_id)`, descending: a total order
//! across bookings, so a page ends at a cursor and the next one starts right after it, whatever the
//! store. Every word must match (AND), case-insensitively; how a word matches is each store's
//! (`docs/chat-store.md#search`): a word prefix on SQLite (FTS5) and PostgreSQL (`tsvector`), a
//! substring of the lowercased text on DynamoDB. Tombstones (deleted or hidden) never match.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chat_wire::{BookingId, MessageId};

/// Longest query, in characters once trimmed.
pub const MAX_QUERY_CHARS: usize = 200;

/// Most results in one page.
pub const MAX_RESULTS: u32 = 50;

/// Results in a page when the caller names no limit.
pub const DEFAULT_RESULTS: u32 = 20;

/// Why a query or a page size is refused; the text is what the member is told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Empty once trimmed, or too long.
    #[error("the search query must be 1 to {MAX_QUERY_CHARS} characters")]
    Length,
    /// Only punctuation, symbols or spaces: nothing to look for.
    #[error("the search query must contain at least one letter or digit")]
    NoWord,
    /// A page size out of range.
    #[error("limit must be 1 to {MAX_RESULTS}")]
    Limit,
    /// A `before` this server did not hand out.
    #[error("before must be the next of an earlier search's answer")]
    Cursor,
}

/// A member's query: the text as searched (trimmed) and its words, lowercased, each once. A word is a
/// run of letters and digits, so no store's query syntax can be written in one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    text: String,
    words: Vec<String>,
}

impl SearchQuery {
    /// Parses what a member typed.
    ///
    /// # Errors
    /// [`QueryError::Length`] for an empty query or one over [`MAX_QUERY_CHARS`] once trimmed;
    /// [`QueryError::NoWord`] for one without a letter or a digit.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_QUERY_CHARS {
            return Err(QueryError::Length);
        }
        let mut words: Vec<String> = Vec::new();
        for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            let word = word.to_lowercase();
            if !words.contains(&word) {
                words.push(word);
            }
        }
        if words.is_empty() {
            return Err(QueryError::NoWord);
        }
        Ok(Self { text: text.to_owned(), words })
    }

    /// The query as searched: trimmed.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Its words, lowercased, in order, each once.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The FTS5 `MATCH` expression: each word a quoted prefix (`"word"*`), all of them (FTS5's implicit
    /// AND). Quoting makes every character a literal; a word has no `"` to escape, but one is doubled.
    pub fn fts5(&self) -> String {
        let terms: Vec<String> =
            self.words.iter().map(|w| format!("\"{}\"*", w.replace('"', "\"\""))).collect();
        terms.join(" ")
    }

    /// The PostgreSQL `tsquery` text for `to_tsquery('simple', ...)`: each word a quoted lexeme matched
    /// as a prefix (`'word':*`), joined by `&`. A word has no `'` nor `\` to escape, but they would be.
    pub fn tsquery(&self) -> String {
        let terms: Vec<String> = self
            .words
            .iter()
            .map(|w| format!("'{}':*", w.replace('\\', "\\\\").replace('\'', "''")))
            .collect();
        terms.join(" & ")
    }

    /// Whether every word occurs in `lowercased` (a text already lowercased): DynamoDB's rule, for the
    /// message items written before search existed, which have no lowercased copy to filter on.
    pub fn found_in(&self, lowercased: &str) -> bool {
        self.words.iter().all(|word| lowercased.contains(word.as_str()))
    }
}

/// A page size as asked: [`DEFAULT_RESULTS`] when absent.
///
/// # Errors
/// [`QueryError::Limit`] outside 1 to [`MAX_RESULTS`].
pub fn limit(requested: Option<u32>) -> Result<u32, QueryError> {
    match requested {
        None => Ok(DEFAULT_RESULTS),
        Some(n) if (1..=MAX_RESULTS).contains(&n) => Ok(n),
        Some(_) => Err(QueryError::Limit),
    }
}

/// Where a page of results ended: its last result's place in the order. Fields in sort order, so the
/// derived ordering is the results' (a page holds the hits below its cursor, largest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SearchCursor {
    /// When the message was sent, epoch ms.
    pub created_at: i64,
    /// Its booking.
    pub booking_id: BookingId,
    /// The message.
    pub message_id: MessageId,
}

impl SearchCursor {
    /// The cursor as clients carry it: opaque text (URL-safe).
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}.{}", self.created_at, self.booking_id, self.message_id))
    }

    /// A cursor [`SearchCursor::encode`] made.
    ///
    /// # Errors
    /// [`QueryError::Cursor`] for any other text.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        let decoded = URL_SAFE_NO_PAD.decode(text).map_err(|_| QueryError::Cursor)?;
        let decoded = String::from_utf8(decoded).map_err(|_| QueryError::Cursor)?;
        let mut parts = decoded.split('.').map(str::parse::<i64>);
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(Ok(created_at)), Some(Ok(booking_id)), Some(Ok(message_id)), None) => {
                Ok(Self { created_at, booking_id, message_id })
            }
            _ => Err(QueryError::Cursor),
        }
    }
}

/// One search, as a store runs it.
#[derive(Debug, Clone, Copy)]
pub struct Search<'a> {
    /// The bookings to look in (the caller checked the member may read each).
    pub bookings: &'a [BookingId],
    /// What to look for.
    pub query: &'a SearchQuery,
    /// Only hits after this one in the order (the previous page's end).
    pub before: Option<SearchCursor>,
    /// Most hits, 1 to [`MAX_RESULTS`] (a store clamps it).
    pub limit: u32,
}

/// A message that matched, with its text as stored (the backend cuts the snippet from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    /// Its booking.
    pub booking_id: BookingId,
    /// The message.
    pub message_id: MessageId,
    /// Who sent it.
    pub sender_id: String,
    /// When it was sent, epoch ms.
    pub created_at: i64,
    /// Its text as stored (masked contact details stay masked).
    pub body: String,
}

impl SearchHit {
    /// Its place in the order.
    pub fn cursor(&self) -> SearchCursor {
        SearchCursor { created_at: self.created_at, booking_id: self.booking_id, message_id: self.message_id }
    }
}

/// A page of hits, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPage {
    /// The hits, in the order.
    pub hits: Vec<SearchHit>,
    /// Whether more hits follow the last one.
    pub has_more: bool,
}

impl SearchPage {
    /// Where the next page starts: the last hit, when more follow.
    pub fn next(&self) -> Option<SearchCursor> {
        self.hits.last().filter(|_| self.has_more).map(SearchHit::cursor)
    }

    /// The page of `hits` (in any order, possibly more than a page) for `search`: those after its
    /// cursor, in the order, at most its limit. For a store that gathers hits itself (DynamoDB).
    pub(crate) fn of(hits: Vec<SearchHit>, search: &Search<'_>) -> Self {
        let mut hits = first_after(hits, search);
        let limit = clamp(search.limit);
        let has_more = hits.len() > limit;
        hits.truncate(limit);
        Self { hits, has_more }
    }
}

/// The first page + 1 of `hits` after `search`'s cursor, in the order: all a store gathering hits per
/// booking needs to keep of one booking's to make the page of all of them ([`SearchPage::of`]).
pub(crate) fn first_after(mut hits: Vec<SearchHit>, search: &Search<'_>) -> Vec<SearchHit> {
    if let Some(before) = search.before {
        hits.retain(|hit| hit.cursor() < before);
    }
    hits.sort_unstable_by_key(|hit| std::cmp::Reverse(hit.cursor()));
    hits.truncate(clamp(search.limit) + 1);
    hits
}

/// A limit as stores apply it: 1 to [`MAX_RESULTS`].
pub(crate) fn clamp(limit: u32) -> usize {
    limit.clamp(1, MAX_RESULTS) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_its_trimmed_text_and_its_lowercased_words_once_each() {
        let query = SearchQuery::parse("  Canoe, PADDLE! canoe l'été 12:30  ").expect("valid");
        assert_eq!(query.text(), "Canoe, PADDLE! canoe l'été 12:30");
        assert_eq!(query.words(), ["canoe", "paddle", "l", "été", "12", "30"]);
    }

    #[test]
    fn an_empty_overlong_or_wordless_query_is_refused() {
        assert_eq!(SearchQuery::parse("   "), Err(QueryError::Length));
        assert_eq!(SearchQuery::parse(&"a".repeat(MAX_QUERY_CHARS + 1)), Err(QueryError::Length));
        assert!(SearchQuery::parse(&format!("  {}  ", "a".repeat(MAX_QUERY_CHARS))).is_ok());
        assert_eq!(SearchQuery::parse("?!* -- \"\""), Err(QueryError::NoWord));
    }

    #[test]
    fn no_query_syntax_survives_into_fts5_or_tsquery() {
        let query = SearchQuery::parse(r#"canoe* OR "x" NEAR(a b) 'y' & !z:* \"#).expect("valid");
        assert_eq!(query.words(), ["canoe", "or", "x", "near", "a", "b", "y", "z"]);
        assert_eq!(query.fts5(), r#""canoe"* "or"* "x"* "near"* "a"* "b"* "y"* "z"*"#);
        assert_eq!(query.tsquery(), "'canoe':* & 'or':* & 'x':* & 'near':* & 'a':* & 'b':* & 'y':* & 'z':*");
    }

    #[test]
    fn every_word_must_occur_for_a_text_to_be_found() {
        let query = SearchQuery::parse("Free SATURDAY").expect("valid");
        assert!(query.found_in("is the canoe free on saturday?"));
        assert!(!query.found_in("is the canoe free on sunday?"));
    }

    #[test]
    fn a_cursor_survives_its_text_and_nothing_else_parses() {
        let cursor = SearchCursor { created_at: 1_700_000_000_000, booking_id: 1, message_id: 3 };
        assert_eq!(cursor.encode(), "MTcwMDAwMDAwMDAwMC4xLjM");
        assert_eq!(SearchCursor::parse(&cursor.encode()), Ok(cursor));
        for bad in ["", "not base64!", "MTcwMA", &URL_SAFE_NO_PAD.encode("1.2.3.4")] {
            assert_eq!(SearchCursor::parse(bad), Err(QueryError::Cursor), "{bad}");
        }
    }

    #[test]
    fn a_limit_defaults_to_20_and_is_1_to_50() {
        assert_eq!(limit(None), Ok(DEFAULT_RESULTS));
        assert_eq!(limit(Some(50)), Ok(50));
        assert_eq!(limit(Some(0)), Err(QueryError::Limit));
        assert_eq!(limit(Some(51)), Err(QueryError::Limit));
    }

    fn hit(created_at: i64, booking_id: BookingId, message_id: MessageId) -> SearchHit {
        SearchHit { booking_id, message_id, sender_id: "alice".into(), created_at, body: String::new() }
    }

    #[test]
    fn a_page_is_newest_first_ties_by_booking_then_message_and_starts_after_its_cursor() {
        let query = SearchQuery::parse("x").expect("valid");
        let hits = vec![hit(5, 1, 1), hit(7, 1, 2), hit(7, 2, 1), hit(7, 2, 3), hit(1, 2, 4)];
        let search = Search { bookings: &[1, 2], query: &query, before: None, limit: 2 };
        let first = SearchPage::of(hits.clone(), &search);
        let keys =
            |page: &SearchPage| page.hits.iter().map(|h| (h.booking_id, h.message_id)).collect::<Vec<_>>();
        assert_eq!(keys(&first), [(2, 3), (2, 1)]);
        assert!(first.has_more);
        let second = SearchPage::of(hits.clone(), &Search { before: first.next(), ..search });
        assert_eq!(keys(&second), [(1, 2), (1, 1)]);
        let last = SearchPage::of(hits, &Search { before: second.next(), ..search });
        assert_eq!((keys(&last), last.has_more, last.next()), (vec![(2, 4)], false, None));
    }
}
