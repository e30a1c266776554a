//! Full-text search of chat history (issue 26): a member searches the booking of a frame, or all their
//! bookings (the `search` frame, `GET /api/chat/search`); the operator searches a booking or a user's
//! bookings (`GET /api/service/search`), each call in the audit log without its words. The store finds
//! the messages ([`chat_store::search`]); this cuts each one's snippet, the same on every store.

use chat_store::moderation::{AuditEntry, actions};
use chat_store::search::{self, QueryError, Search, SearchCursor, SearchPage, SearchQuery};
use chat_wire::proxy::MAX_USER_BOOKINGS;
use chat_wire::time::now_millis;
use chat_wire::{BookingId, SearchResult, SearchScope, ServerFrame, ServerPayload};
use serde_json::json;

use super::{Caller, ChatError, ChatService, Reply};
use crate::store::MAX_INBOX_BOOKINGS;

/// Longest snippet, in characters, before the `…` marking where the text was cut.
pub const SNIPPET_CHARS: usize = 160;

/// How much of a snippet comes before the matching word, at most, in characters.
const SNIPPET_LEAD_CHARS: usize = 40;

/// A page of search results, newest first.
#[derive(Debug, Clone)]
pub struct SearchResults {
    /// The query as searched (trimmed).
    pub query: String,
    /// The matches, newest first (ties by booking, then message id).
    pub results: Vec<SearchResult>,
    /// Whether more matches follow.
    pub has_more: bool,
    /// The `before` of the next page, when more follow.
    pub next: Option<String>,
}

/// A search as asked, checked: the query, where the page starts, its size.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    query: SearchQuery,
    before: Option<SearchCursor>,
    limit: u32,
}

impl SearchRequest {
    /// Checks what a client sent: the query's text ([`SearchQuery::parse`]), the cursor of an earlier
    /// answer, a limit of 1 to [`search::MAX_RESULTS`].
    ///
    /// # Errors
    /// [`ChatError::Invalid`] saying what is wrong.
    pub fn parse(query: &str, before: Option<&str>, limit: Option<u32>) -> Result<Self, ChatError> {
        let invalid = |e: QueryError| ChatError::Invalid(e.to_string());
        Ok(Self {
            query: SearchQuery::parse(query).map_err(invalid)?,
            before: before.map(SearchCursor::parse).transpose().map_err(invalid)?,
            limit: search::limit(limit).map_err(invalid)?,
        })
    }

    /// How many words the query has (what the audit log keeps of it).
    pub fn word_count(&self) -> usize {
        self.query.words().len()
    }
}

/// Whose bookings the operator searches.
#[derive(Debug, Clone, Copy)]
pub enum OperatorScope<'a> {
    /// One booking.
    Booking(BookingId),
    /// A user's bookings, their most recently active [`MAX_INBOX_BOOKINGS`].
    User(&'a str),
}

impl ChatService {
    /// `search` frame: the caller's frame booking, or all their bookings; answered to the sender only.
    pub(super) async fn search_frame(
        &self,
        caller: Caller<'_>,
        query: &str,
        scope: SearchScope,
        before: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Reply, ChatError> {
        let booking = self.admit(caller).await?;
        let request = SearchRequest::parse(query, before, limit)?;
        let bookings = match scope {
            SearchScope::Booking => vec![booking.id],
            SearchScope::All => self.bookings_to_search(caller.user_id, Some(booking.id)).await?,
        };
        let found = self.search(&bookings, &request).await?;
        let payload = ServerPayload::SearchResults {
            booking_id: caller.booking_id,
            query: found.query,
            scope,
            results: found.results,
            has_more: found.has_more,
            next: found.next,
        };
        Ok(Reply::to_sender(ServerFrame::new(payload, now_millis())))
    }

    /// A member's search over HTTP: in `booking_id`, or in all their bookings. Counted against the rate
    /// limit as a frame is.
    ///
    /// # Errors
    /// [`ChatError::Invalid`], [`ChatError::RateLimited`], those of [`ChatService::member_booking`].
    pub async fn search_http(
        &self,
        user_id: &str,
        booking_id: Option<BookingId>,
        request: &SearchRequest,
    ) -> Result<SearchResults, ChatError> {
        self.count_action(user_id).await?;
        let bookings = match booking_id {
            Some(id) => vec![self.member_booking(id, user_id).await?.id],
            None => self.bookings_to_search(user_id, None).await?,
        };
        self.search(&bookings, request).await
    }

    /// The operator's search of a booking or of a user's bookings, appended to the audit log first (the
    /// scope and the number of words, never the words).
    ///
    /// # Errors
    /// [`ChatError::BookingNotFound`], [`ChatError::Unexpected`].
    pub async fn search_as_operator(
        &self,
        scope: OperatorScope<'_>,
        request: &SearchRequest,
        actor: &str,
    ) -> Result<SearchResults, ChatError> {
        let words = request.word_count();
        let (bookings, entry) = match scope {
            OperatorScope::Booking(id) => {
                let booking = self.booking(id).await?;
                let entry = AuditEntry::new(actor, actions::SEARCH).booking(booking.id);
                (vec![booking.id], entry.detail(json!({"scope": "booking", "words": words})))
            }
            OperatorScope::User(user_id) => {
                let bookings = self.store.bookings_of(user_id, MAX_INBOX_BOOKINGS).await?;
                let entry = AuditEntry::new(actor, actions::SEARCH).target(user_id);
                let ids = bookings.into_iter().map(|b| b.booking.id).collect();
                (ids, entry.detail(json!({"scope": "user", "words": words})))
            }
        };
        self.audit(entry).await?;
        self.search(&bookings, request).await
    }

    /// A member's bookings a search of all of them covers: the most recently active ones a user
    /// connection covers ([`MAX_USER_BOOKINGS`]), and the frame's own when it is older than those.
    async fn bookings_to_search(
        &self,
        user_id: &str,
        frame_booking: Option<BookingId>,
    ) -> Result<Vec<BookingId>, ChatError> {
        let limit = MAX_USER_BOOKINGS.min(MAX_INBOX_BOOKINGS);
        let mut ids: Vec<BookingId> =
            self.store.bookings_of(user_id, limit).await?.into_iter().map(|b| b.booking.id).collect();
        if let Some(id) = frame_booking.filter(|id| !ids.contains(id)) {
            ids.push(id);
        }
        Ok(ids)
    }

    /// Runs a search in `bookings` (whose reading the caller checked) and cuts the snippets.
    async fn search(
        &self,
        bookings: &[BookingId],
        request: &SearchRequest,
    ) -> Result<SearchResults, ChatError> {
        let search = Search { bookings, query: &request.query, before: request.before, limit: request.limit };
        let page: SearchPage = self.store.search(search).await?;
        let next = page.next().map(SearchCursor::encode);
        let words = request.query.words();
        let results = page
            .hits
            .into_iter()
            .map(|hit| SearchResult {
                snippet: snippet(&hit.body, words),
                booking_id: hit.booking_id,
                message_id: hit.message_id,
                sender_id: hit.sender_id,
                created_at: hit.created_at,
            })
            .collect();
        Ok(SearchResults { query: request.query.text().to_owned(), results, has_more: page.has_more, next })
    }
}

/// At most [`SNIPPET_CHARS`] characters of `body`, whitespace collapsed, around the first word that
/// starts with one of `words` (lowercased), else the first place one of them occurs (DynamoDB matches
/// inside words), else from the start (SQLite matched with diacritics folded); `…` where it was cut.
fn snippet(body: &str, words: &[String]) -> String {
    let text: Vec<char> = body.split_whitespace().collect::<Vec<_>>().join(" ").chars().collect();
    if text.len() <= SNIPPET_CHARS {
        return text.into_iter().collect();
    }
    let at = first_match(&text, words).unwrap_or(0);
    let end = (at.saturating_sub(SNIPPET_LEAD_CHARS) + SNIPPET_CHARS).min(text.len());
    let start = end.saturating_sub(SNIPPET_CHARS);
    // Whole words at the cuts, unless a word is longer than the lead.
    let start = if start == 0 { 0 } else { word_start_after(&text, start, at) };
    let end = if end == text.len() { end } else { word_end_before(&text, end, at) };
    let cut: String = text[start..end].iter().collect();
    let before = if start > 0 { "…" } else { "" };
    let after = if end < text.len() { "…" } else { "" };
    format!("{before}{}{after}", cut.trim())
}

/// Where the match is, in characters: the first word starting with one of `words`, else the first
/// occurrence of one.
fn first_match(text: &[char], words: &[String]) -> Option<usize> {
    let starts_word = |i: usize| text[i].is_alphanumeric() && (i == 0 || !text[i - 1].is_alphanumeric());
    let matches_at = |i: usize| words.iter().any(|word| starts_with_at(text, i, word));
    (0..text.len())
        .find(|&i| starts_word(i) && matches_at(i))
        .or_else(|| (0..text.len()).find(|&i| matches_at(i)))
}

/// Whether `text` from `at`, lowercased, starts with `word` (lowercase).
fn starts_with_at(text: &[char], at: usize, word: &str) -> bool {
    let mut folded = text[at..].iter().flat_map(|c| c.to_lowercase());
    word.chars().all(|w| folded.next() == Some(w))
}

/// The first word start at or after `from` (a space's next character), not past `limit`.
fn word_start_after(text: &[char], from: usize, limit: usize) -> usize {
    if !text[from - 1].is_whitespace()
        && let Some(space) = (from..limit).find(|&i| text[i].is_whitespace())
    {
        return space + 1;
    }
    from
}

/// The last word end at or before `to` (a space), not before `limit`.
fn word_end_before(text: &[char], to: usize, limit: usize) -> usize {
    if !text[to].is_whitespace()
        && let Some(space) = (limit..to).rev().find(|&i| text[i].is_whitespace())
    {
        return space;
    }
    to
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(query: &str) -> Vec<String> {
        SearchQuery::parse(query).expect("valid").words().to_vec()
    }

    #[test]
    fn a_short_body_is_its_own_snippet_with_whitespace_collapsed() {
        assert_eq!(
            snippet("Is the canoe\n\nfree  on Saturday?", &words("canoe")),
            "Is the canoe free on Saturday?"
        );
    }

    #[test]
    fn a_long_body_is_cut_around_the_first_matching_word_at_word_boundaries() {
        let body = format!("{} the canoe is free {}", "lorem ipsum ".repeat(20), "dolor sit ".repeat(30));
        let cut = snippet(&body, &words("CANOE"));
        assert!(cut.starts_with('…') && cut.ends_with('…'), "{cut}");
        assert!(cut.contains("the canoe is free"), "{cut}");
        assert!(cut.chars().count() <= SNIPPET_CHARS + 2, "{} characters: {cut}", cut.chars().count());
        let inner = cut.trim_matches('…');
        assert!(["lorem", "ipsum"].iter().any(|w| inner.starts_with(w)), "a whole word first: {cut}");
        assert!(["dolor", "sit"].iter().any(|w| inner.ends_with(w)), "a whole word last: {cut}");
    }

    #[test]
    fn a_match_near_an_end_keeps_the_snippet_full_and_unmarked_there() {
        let body = format!("Canoe {}", "paddle ".repeat(40));
        let start = snippet(&body, &words("canoe"));
        assert!(start.starts_with("Canoe paddle") && start.ends_with('…'), "{start}");
        let body = format!("{}canoe", "paddle ".repeat(40));
        let end = snippet(&body, &words("canoe"));
        assert!(end.starts_with('…') && end.ends_with("paddle canoe"), "{end}");
        assert!(end.chars().count() > SNIPPET_CHARS - 10, "{end}");
    }

    #[test]
    fn a_word_prefix_wins_over_a_match_inside_a_word_and_no_match_starts_at_the_beginning() {
        let body = format!("a restart {} art gallery {}", "x ".repeat(60), "y ".repeat(60));
        assert!(snippet(&body, &words("art")).contains("art gallery"));
        let inside = format!("{} restart {}", "x ".repeat(60), "y ".repeat(60));
        assert!(snippet(&inside, &words("art")).contains("restart"));
        let folded = format!("café {}", "x ".repeat(100));
        assert!(snippet(&folded, &words("cafe")).starts_with("café x"));
    }
}
