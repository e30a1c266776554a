//! Finds contact details in a chat message (phone numbers, email addresses, links, messaging handles) and
//! masks them, for the chat of a booking that is still `requested`: owner and renter are strangers until the
//! booking is confirmed, and a number or an address handed over before then takes the booking off the
//! platform. Pure functions, no I/O and no state: the message path decides when to call [`mask`] and what to
//! record of what it hid.
//!
//! How each kind is found (libraries for the hard parts, a few rules around them):
//! - links and email addresses: `linkify`, schemes optional. A link without a scheme counts only when its
//!   host starts with `www.` or ends in a public suffix (`psl`, Mozilla's list compiled in), so
//!   `good.thanks` or `node.js` stay text;
//! - addresses spelled to dodge a filter ("john at gmail dot com", "john(at)gmail(dot)com",
//!   "john [at] gmail [dot] com"): the spellings are rewritten to `@` and `.` in a copy that remembers where
//!   each byte came from, `linkify` reads the copy, and the mask covers the spelling in the original;
//! - phone numbers: a scan for runs of digits and English digit words ("zero six one ...") with the
//!   separators people put between them (spaces, dots, dashes, parentheses, commas, a leading `+`); a run,
//!   or else a stretch of it, is a phone number only when `phonenumber` (Google's libphonenumber metadata)
//!   says it is valid: as an international number (`+` or `00`), or as a national number of one of the
//!   [`PhoneRegions`] written as that country writes it (its trunk prefix included: `20261207` is a valid
//!   German number without the leading `0` nobody would omit, and stays a date). Dates (`2026-12-07`,
//!   `07.12.2026`) are set aside before the scan; a time, a price, or a short order number is too short or
//!   not valid anywhere;
//! - messaging handles: `@name` outside an email, and a service's name followed by an id
//!   (`insta: jd_92`, `my telegram is johnd`); `t.me/…` and `wa.me/…` are links.
//!
//! `tests/contact_corpus.rs` measures what this catches and what it misses, line by line.

use std::cmp::Reverse;
use std::ops::Range;
use std::str::FromStr;
use std::sync::LazyLock;

use phonenumber::country::Id as Country;
use regex::Regex;

/// The kinds of contact detail (the wire's: frames say which were hidden).
pub use chat_wire::ContactKind;

/// A message with its contact details replaced by placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// The message, each detail replaced by its kind's [`ContactKind::placeholder`], the rest byte for byte.
    pub text: String,
    /// What was hidden, sorted and without duplicates: for the sender's notice and the metrics.
    pub kinds: Vec<ContactKind>,
}

/// A contact detail found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// What it is.
    pub kind: ContactKind,
    /// Where it is, in bytes of the text (always on character boundaries).
    pub span: Range<usize>,
}

/// The marketplace's main countries, whose national numbers (`06 12 34 56 78`, `(415) 555-2671`) are
/// recognised without a country code; an international number (`+…`, `00…`) is recognised from anywhere.
pub const MARKETPLACE_REGIONS: &[&str] = &["US", "GB", "FR", "DE", "ES", "IT", "NL"];

/// The countries whose national phone numbers are recognised (ISO 3166 codes, tried in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneRegions(Vec<Country>);

impl PhoneRegions {
    /// The regions of these ISO 3166 codes (`"FR"`, `"gb"`).
    ///
    /// # Errors
    /// A message naming the code that libphonenumber does not know.
    pub fn new(codes: &[&str]) -> Result<Self, String> {
        codes
            .iter()
            .map(|code| {
                Country::from_str(&code.trim().to_ascii_uppercase()).map_err(|_| {
                    format!("unknown phone region {code:?}: expected an ISO 3166 code such as FR")
                })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The regions of a comma-separated list of ISO 3166 codes (`"US,GB,FR"`).
    ///
    /// # Errors
    /// As [`PhoneRegions::new`].
    pub fn parse(list: &str) -> Result<Self, String> {
        let codes: Vec<&str> = list.split(',').map(str::trim).filter(|code| !code.is_empty()).collect();
        Self::new(&codes)
    }
}

impl Default for PhoneRegions {
    /// [`MARKETPLACE_REGIONS`].
    fn default() -> Self {
        Self::new(MARKETPLACE_REGIONS).expect("the marketplace's regions are ISO 3166 codes")
    }
}

static MARKETPLACE: LazyLock<PhoneRegions> = LazyLock::new(PhoneRegions::default);

/// Masks every contact detail of the given kinds, national phone numbers read as in
/// [`MARKETPLACE_REGIONS`]; `None` when nothing was found (the text is unchanged).
pub fn mask(text: &str, kinds: &[ContactKind]) -> Option<Masked> {
    mask_with(text, kinds, &MARKETPLACE)
}

/// Loads what the first [`mask`] would otherwise load (libphonenumber's metadata, the patterns): about
/// 0.1 s of CPU, better spent while a process starts than on a member's first message.
pub fn warm_up() {
    let _ = mask("+33 6 12 34 56 78, john at example dot com, @name", &ContactKind::ALL);
}

/// As [`mask`], with national phone numbers read as in `regions`.
pub fn mask_with(text: &str, kinds: &[ContactKind], regions: &PhoneRegions) -> Option<Masked> {
    let found = find(text, kinds, regions);
    if found.is_empty() {
        return None;
    }
    let mut masked = String::with_capacity(text.len() + found.len() * 48);
    let mut hidden = Vec::with_capacity(found.len());
    let mut copied = 0;
    for detail in &found {
        masked.push_str(&text[copied..detail.span.start]);
        masked.push_str(detail.kind.placeholder());
        hidden.push(detail.kind);
        copied = detail.span.end;
    }
    masked.push_str(&text[copied..]);
    hidden.sort_unstable();
    hidden.dedup();
    Some(Masked { text: masked, kinds: hidden })
}

/// The contact details of the given kinds in `text`, in order and not overlapping: where two overlap
/// (a phone number inside a link), one span covers both, of the kind that starts first.
pub fn find(text: &str, kinds: &[ContactKind], regions: &PhoneRegions) -> Vec<Found> {
    let wanted = |kind: &ContactKind| kinds.contains(kind);
    let mut found = Vec::new();
    if wanted(&ContactKind::Email) || wanted(&ContactKind::Link) {
        found.extend(links::find(text).into_iter().filter(|f| wanted(&f.kind)));
        found.extend(spelled::find(text).into_iter().filter(|f| wanted(&f.kind)));
    }
    if wanted(&ContactKind::Phone) {
        found.extend(phones::find(text, regions));
    }
    if wanted(&ContactKind::Handle) {
        found.extend(handles::find(text));
    }
    merge(found)
}

/// Sorts spans and joins those that overlap.
fn merge(mut found: Vec<Found>) -> Vec<Found> {
    found.sort_by_key(|f| (f.span.start, Reverse(f.span.end)));
    let mut merged: Vec<Found> = Vec::with_capacity(found.len());
    for detail in found {
        match merged.last_mut() {
            Some(last) if detail.span.start < last.span.end => {
                last.span.end = last.span.end.max(detail.span.end);
            }
            _ => merged.push(detail),
        }
    }
    merged
}

/// Links and email addresses, as written.
mod links {
    use super::{ContactKind, Found, LazyLock};
    use linkify::{LinkFinder, LinkKind};

    /// `linkify`, URLs without a scheme included.
    pub(super) static FINDER: LazyLock<LinkFinder> = LazyLock::new(|| {
        let mut finder = LinkFinder::new();
        finder.url_must_have_scheme(false);
        finder
    });

    /// Every link and address `linkify` finds in `text`, less scheme-less links whose host is no domain.
    pub(super) fn find(text: &str) -> Vec<Found> {
        FINDER
            .links(text)
            .filter_map(|link| {
                let kind = match link.kind() {
                    LinkKind::Email => ContactKind::Email,
                    LinkKind::Url if link.as_str().contains("://") || is_domain_url(link.as_str()) => {
                        ContactKind::Link
                    }
                    _ => return None,
                };
                Some(Found { kind, span: link.start()..link.end() })
            })
            .collect()
    }

    /// Whether a URL without a scheme (`example.com/x`) names a host on the internet: `www.` or a known
    /// public suffix.
    pub(super) fn is_domain_url(url: &str) -> bool {
        let host = url.split(['/', '?', '#', ':']).next().unwrap_or(url);
        host.get(..4).is_some_and(|www| www.eq_ignore_ascii_case("www.")) || has_known_suffix(host)
    }

    /// Whether `host` ends in a suffix of the public suffix list (`com`, `co.uk`, `me`), and not in a word
    /// that starts a sentence after a full stop missing its space (`Paris.It's`, `end.See`).
    pub(super) fn has_known_suffix(host: &str) -> bool {
        let host = host.trim_end_matches('.');
        let tld = host.rsplit('.').next().unwrap_or(host);
        let mut letters = tld.chars();
        let capitalised = letters.next().is_some_and(char::is_uppercase) && letters.any(char::is_lowercase);
        !capitalised
            && host.contains('.')
            && psl::suffix(host.to_lowercase().as_bytes()).is_some_and(|suffix| suffix.is_known())
    }
}

/// Addresses and links spelled out: "john at gmail dot com", "john(at)gmail(dot)com", "gmail [.] com".
mod spelled {
    use super::{ContactKind, Found, LazyLock, Range, Regex, links};
    use linkify::LinkKind;

    /// The spellings of `@` and `.`: a bracketed word or sign, a bare `at`/`dot` between spaces, or the sign
    /// itself between spaces.
    static SPELLING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)(?P<at>\s*[(\[{<]\s*(?:at|@)\s*[)\]}>]\s*|\s+at\s+|\s+@\s*|\s*@\s+)|(?P<dot>\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+dot\s+|\s+\.\s+)",
        )
        .expect("a valid regex")
    });

    /// A copy of a text with spellings rewritten, and where each of its bytes came from.
    struct Rewritten {
        text: String,
        /// For each byte of `text`, the bytes of the original it stands for.
        origin: Vec<Range<usize>>,
        /// The rewritten signs, in bytes of `text`.
        rewrites: Vec<usize>,
    }

    impl Rewritten {
        fn of(original: &str) -> Option<Self> {
            let mut rewritten = Self {
                text: String::with_capacity(original.len()),
                origin: Vec::new(),
                rewrites: Vec::new(),
            };
            let mut copied = 0;
            for spelling in SPELLING.captures_iter(original) {
                let Some(whole) = spelling.get(0) else { continue };
                rewritten.copy(original, copied..whole.start());
                rewritten.rewrites.push(rewritten.text.len());
                rewritten.text.push(if spelling.name("at").is_some() { '@' } else { '.' });
                rewritten.origin.push(whole.range());
                copied = whole.end();
            }
            if rewritten.rewrites.is_empty() {
                return None;
            }
            rewritten.copy(original, copied..original.len());
            Some(rewritten)
        }

        fn copy(&mut self, original: &str, range: Range<usize>) {
            let start = range.start;
            for (at, c) in original[range].char_indices() {
                self.text.push(c);
                let from = start + at;
                self.origin.extend(std::iter::repeat_n(from..from + c.len_utf8(), c.len_utf8()));
            }
        }

        /// The original bytes of the rewritten bytes `span`.
        fn original(&self, span: Range<usize>) -> Range<usize> {
            self.origin[span.start].start..self.origin[span.end - 1].end
        }
    }

    /// Whether a spelled-out host starts with a word that is no name ("the dot com era").
    fn starts_with_a_word(host: &str) -> bool {
        let label = host.split('.').next().unwrap_or(host);
        ["the", "a", "an", "this", "that", "my", "your", "our", "their"]
            .iter()
            .any(|word| word.eq_ignore_ascii_case(label))
    }

    /// Addresses and links that exist only once their spellings are read as signs.
    pub(super) fn find(text: &str) -> Vec<Found> {
        let Some(rewritten) = Rewritten::of(text) else { return Vec::new() };
        links::FINDER
            .links(&rewritten.text)
            .filter(|link| rewritten.rewrites.iter().any(|at| (link.start()..link.end()).contains(at)))
            .filter_map(|link| {
                let kind = match link.kind() {
                    LinkKind::Email => ContactKind::Email,
                    LinkKind::Url => ContactKind::Link,
                    _ => return None,
                };
                let host = link.as_str().rsplit('@').next().unwrap_or_default();
                let real = match kind {
                    ContactKind::Email => links::has_known_suffix(host),
                    _ => {
                        (link.as_str().contains("://") || links::is_domain_url(host))
                            && !starts_with_a_word(host)
                    }
                };
                real.then(|| Found { kind, span: rewritten.original(link.start()..link.end()) })
            })
            .collect()
    }
}

/// Phone numbers, in digits or in English digit words, checked by libphonenumber.
mod phones {
    use super::{ContactKind, Country, Found, LazyLock, PhoneRegions, Range, Regex};

    /// The fewest and most digits a candidate may have: the shortest national numbers of the marketplace
    /// have 7, E.164 allows 15, and `00` may stand for the `+`.
    const DIGITS: Range<usize> = 7..18;
    /// How many separator characters may stand between two pieces of one number (`" - "`, `") "`).
    const MAX_GAP: usize = 3;
    /// How many numbers libphonenumber may parse for one message (each takes a few microseconds). Past
    /// this, what is left of a run long enough to be a number is masked unchecked: a message made of digits
    /// to wear the checker down is hidden, not let through.
    const MAX_CHECKS: u32 = 2_000;

    const DIGIT_WORDS: [(&str, char); 11] = [
        ("zero", '0'),
        ("oh", '0'),
        ("one", '1'),
        ("two", '2'),
        ("three", '3'),
        ("four", '4'),
        ("five", '5'),
        ("six", '6'),
        ("seven", '7'),
        ("eight", '8'),
        ("nine", '9'),
    ];

    /// Runs of digits joined by dots, slashes or dashes, and day, month and year between spaces: the
    /// date-shaped ones are set aside.
    static DATE_LIKE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\d+(?:[-./]\d+)+|\d{1,2} \d{1,2} (?:19|20)\d\d").expect("a valid regex")
    });

    /// One piece of a number as written.
    #[derive(Debug, Clone)]
    struct Piece {
        span: Range<usize>,
        /// Its digits (empty for a `+`).
        digits: String,
        plus: bool,
    }

    /// Phone numbers in `text`.
    pub(super) fn find(text: &str, regions: &PhoneRegions) -> Vec<Found> {
        let scanned = without_dates(text);
        let mut checker = Checker { regions, checks_left: MAX_CHECKS };
        runs(&scanned)
            .iter()
            .flat_map(|run| numbers_in(text, run, &mut checker))
            .map(|span| Found { kind: ContactKind::Phone, span })
            .collect()
    }

    /// `text` with its dates (`2026-12-07`, `07.12.2026`, `7/12/26`, `07 12 2026`) blotted out, byte for
    /// byte.
    fn without_dates(text: &str) -> String {
        let mut scanned = text.to_owned();
        for candidate in DATE_LIKE.find_iter(text) {
            let spaced = candidate.as_str().contains(' ');
            if is_date(candidate.as_str()) && !(spaced && continues_a_number(text, candidate.range())) {
                scanned.replace_range(candidate.range(), &"|".repeat(candidate.len()));
            }
        }
        scanned
    }

    /// Whether `text` is year, month and day or day, month and year, with one separator throughout.
    fn is_date(text: &str) -> bool {
        let mut separators = text.chars().filter(|c| !c.is_ascii_digit());
        let first = separators.next();
        if !separators.all(|c| Some(c) == first) {
            return false;
        }
        let parts: Vec<u32> = text.split(['-', '.', '/', ' ']).filter_map(|part| part.parse().ok()).collect();
        let lengths: Vec<usize> = text.split(['-', '.', '/', ' ']).map(str::len).collect();
        let day_and_month = |a: u32, b: u32| (1..=31).contains(&a) && (1..=12).contains(&b);
        match (lengths.as_slice(), parts.as_slice()) {
            ([4, 1..=2, 1..=2], &[_, month, day]) => day_and_month(day, month),
            ([1..=2, 1..=2, 2 | 4], &[a, b, _]) => day_and_month(a, b) || day_and_month(b, a),
            _ => false,
        }
    }

    /// Whether the digits around `range` go on past it, spaces between (`06 12 2026 78` is no date).
    fn continues_a_number(text: &str, range: Range<usize>) -> bool {
        let before = text[..range.start].trim_end_matches(' ');
        let after = text[range.end..].trim_start_matches(' ');
        before.ends_with(|c: char| c.is_ascii_digit()) || after.starts_with(|c: char| c.is_ascii_digit())
    }

    /// Runs of pieces separated by at most [`MAX_GAP`] separators; anything else ends a run.
    fn runs(text: &str) -> Vec<Vec<Piece>> {
        let mut runs = Vec::new();
        let mut run: Vec<Piece> = Vec::new();
        let mut gap = 0;
        let mut at = 0;
        while let Some(c) = text[at..].chars().next() {
            let piece = piece_at(text, at, c);
            let width = piece.as_ref().map_or(c.len_utf8(), |piece| piece.span.len());
            match piece {
                Some(piece) => {
                    if piece.plus || gap > MAX_GAP {
                        runs.push(std::mem::take(&mut run));
                    }
                    run.push(piece);
                    gap = 0;
                }
                None if is_separator(c) => gap += 1,
                None => {
                    runs.push(std::mem::take(&mut run));
                    gap = 0;
                }
            }
            at += width;
        }
        runs.push(run);
        runs.retain(|run| run.iter().map(|piece| piece.digits.len()).sum::<usize>() >= DIGITS.start);
        runs
    }

    /// The piece of a number starting at `at`, if any: a `+` before a digit, a group of digits, or a
    /// whole word that is a digit word (`one`, not the end of `someone`).
    fn piece_at(text: &str, at: usize, c: char) -> Option<Piece> {
        let rest = &text[at..];
        if c == '+' {
            let after = rest[1..].strip_prefix(' ').unwrap_or(&rest[1..]);
            return after.starts_with(|d: char| d.is_ascii_digit()).then(|| Piece {
                span: at..at + 1,
                digits: String::new(),
                plus: true,
            });
        }
        if c.is_ascii_digit() {
            let len = rest.find(|d: char| !d.is_ascii_digit()).unwrap_or(rest.len());
            return Some(Piece { span: at..at + len, digits: rest[..len].to_owned(), plus: false });
        }
        let starts_word = text[..at].chars().next_back().is_none_or(|before| !before.is_alphabetic());
        if !c.is_ascii_alphabetic() || !starts_word {
            return None;
        }
        let len = rest.find(|l: char| !l.is_alphabetic()).unwrap_or(rest.len());
        let word = &rest[..len];
        DIGIT_WORDS.iter().find(|(name, _)| name.eq_ignore_ascii_case(word)).map(|&(_, digit)| Piece {
            span: at..at + len,
            digits: digit.to_string(),
            plus: false,
        })
    }

    /// What may stand between the pieces of one number.
    fn is_separator(c: char) -> bool {
        matches!(c, ' ' | '\t' | '.' | '-' | '(' | ')' | ',' | '\u{a0}' | '\u{2009}' | '\u{202f}')
    }

    /// Whether the character before `at` glues a piece to something that is not a number (a word, a
    /// price, a reference: `AB0612345678`, `€1250000`, `#1234567`).
    fn glued_before(text: &str, at: usize) -> bool {
        text[..at].chars().next_back().is_some_and(|c| {
            c.is_alphanumeric()
                || matches!(c, '_' | '@' | '#' | '/' | '\\' | '=' | '&' | '%' | '€' | '$' | '£' | '¥')
        })
    }

    /// Whether the character after `at` glues a piece to something that is not a number (`0612345678€`).
    fn glued_after(text: &str, at: usize) -> bool {
        text[at..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '@' | '%' | '€' | '$' | '£' | '¥'))
    }

    /// The spans of the phone numbers in one run: the longest valid stretch from each start, left to right.
    fn numbers_in(text: &str, run: &[Piece], checker: &mut Checker<'_>) -> Vec<Range<usize>> {
        let mut numbers = Vec::new();
        let mut first = 0;
        let mut unmasked = 0;
        while first < run.len() {
            if glued_before(text, run[first].span.start) {
                first += 1;
                continue;
            }
            match longest_number_from(text, &run[first..], checker) {
                Verdict::Number(count) => {
                    // The parenthesis of `(415) 555-2671` is part of the number.
                    let start = run[first].span.start;
                    let start = if text[..start].ends_with('(') { start - 1 } else { start };
                    numbers.push(start..run[first + count - 1].span.end);
                    first += count;
                    unmasked = first;
                }
                Verdict::NotANumber => first += 1,
                Verdict::Unchecked => {
                    let last = run.last().map_or(0, |piece| piece.span.end);
                    numbers.push(run[unmasked].span.start..last);
                    break;
                }
            }
        }
        numbers
    }

    enum Verdict {
        /// The first this many pieces are a phone number.
        Number(usize),
        NotANumber,
        /// The checker ran out of checks.
        Unchecked,
    }

    fn longest_number_from(text: &str, pieces: &[Piece], checker: &mut Checker<'_>) -> Verdict {
        let mut total = 0;
        let mut longest = 0;
        for piece in pieces {
            total += piece.digits.len();
            if total >= DIGITS.end {
                break;
            }
            longest += 1;
        }
        for count in (1..=longest).rev() {
            let candidate = &pieces[..count];
            let digits: String = candidate.iter().map(|piece| piece.digits.as_str()).collect();
            if digits.len() < DIGITS.start {
                break;
            }
            if glued_after(text, candidate[count - 1].span.end) {
                continue;
            }
            match checker.is_phone_number(&digits, candidate[0].plus) {
                Some(true) => return Verdict::Number(count),
                Some(false) => {}
                None => return Verdict::Unchecked,
            }
        }
        Verdict::NotANumber
    }

    /// libphonenumber, within a budget of checks.
    struct Checker<'a> {
        regions: &'a PhoneRegions,
        checks_left: u32,
    }

    impl Checker<'_> {
        /// Whether `digits` is a valid number: international after a `+` or `00`, else national in one of
        /// the regions and written as it would be there (`None`: out of checks).
        fn is_phone_number(&mut self, digits: &str, plus: bool) -> Option<bool> {
            if plus || digits.starts_with("00") {
                let international = format!("+{}", digits.strip_prefix("00").unwrap_or(digits));
                return self.parse(None, &international).map(|number| number.is_some());
            }
            for &region in &self.regions.0 {
                if let Some(number) = self.parse(Some(region), digits)? {
                    let national: String = number
                        .format()
                        .mode(phonenumber::Mode::National)
                        .to_string()
                        .chars()
                        .filter(char::is_ascii_digit)
                        .collect();
                    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
                    if national == digits || e164.strip_prefix('+') == Some(digits) {
                        return Some(true);
                    }
                }
            }
            Some(false)
        }

        /// The number if it parses and is valid (`None` outside: out of checks).
        fn parse(
            &mut self,
            region: Option<Country>,
            digits: &str,
        ) -> Option<Option<phonenumber::PhoneNumber>> {
            self.checks_left = self.checks_left.checked_sub(1)?;
            Some(phonenumber::parse(region, digits).ok().filter(phonenumber::is_valid))
        }
    }
}

/// Messaging handles: `@name`, and a service's name followed by an id.
mod handles {
    use super::{ContactKind, Found, LazyLock, Regex};

    static AT_NAME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"@([A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?)").expect("a valid regex")
    });

    /// A service, then `:`, `is`, `at`, `me` or a space, then an id.
    static SERVICE_ID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\b(?P<my>my\s+)?(?P<service>whats\s?app|telegram|signal|insta(?:gram)?|ig|snap(?:chat)?|wechat|line|kik|skype|viber)(?:(?P<colon>\s*:\s*)|\s+(?:me\s+)?(?P<is>is)\s+|\s+(?:me\s+)?at\s+|\s+me\s+|\s+)(?P<id>@?[A-Za-z_][A-Za-z0-9_.\-]{2,31})",
        )
        .expect("a valid regex")
    });

    /// Services whose name is also an everyday word or a common abbreviation ("the signal is weak",
    /// "line: 2"): their id must look like one.
    const AMBIGUOUS_SERVICES: [&str; 3] = ["signal", "line", "ig"];

    /// Words that follow a service's name in ordinary chat and are no id ("whatsapp: yes, it works").
    const NOT_IDS: &[&str] = &[
        "the", "and", "for", "you", "your", "yes", "yeah", "yep", "not", "nope", "now", "please", "thanks",
        "thank", "sure", "okay", "same", "only", "also", "too", "better", "best", "good", "great", "fine",
        "works", "here", "there", "later", "maybe", "never", "sorry", "today", "tomorrow", "tonight",
        "number", "account", "when", "what", "why", "how", "instead", "call", "message", "text",
    ];

    /// Handles in `text`.
    pub(super) fn find(text: &str) -> Vec<Found> {
        let mut found: Vec<Found> = at_names(text).collect();
        found.extend(service_ids(text));
        found
    }

    fn at_names(text: &str) -> impl Iterator<Item = Found> + '_ {
        AT_NAME.captures_iter(text).filter_map(|capture| {
            let whole = capture.get(0)?;
            let name = capture.get(1)?.as_str();
            let inside_a_word = text[..whole.start()]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@'));
            let plausible = (3..=32).contains(&name.len())
                && name.chars().any(|c| c.is_ascii_alphabetic())
                && !is_time(name);
            (plausible && !inside_a_word).then(|| Found { kind: ContactKind::Handle, span: whole.range() })
        })
    }

    /// `10am`, `9pm`, `10h30`: "see you @10am".
    fn is_time(name: &str) -> bool {
        let rest = name.trim_start_matches(|c: char| c.is_ascii_digit());
        rest.len() < name.len()
            && ["am", "pm", "h", "hr", "hrs"].iter().any(|unit| {
                rest.strip_prefix(unit).is_some_and(|tail| tail.chars().all(|c| c.is_ascii_digit()))
            })
    }

    fn service_ids(text: &str) -> impl Iterator<Item = Found> + '_ {
        SERVICE_ID.captures_iter(text).filter_map(|capture| {
            let service = capture.name("service")?.as_str().to_ascii_lowercase();
            let id_match = capture.name("id")?;
            let id = id_match.as_str().trim_end_matches(['.', '-']);
            let bare = id.trim_start_matches('@');
            let looks_like_an_id = bare.contains(|c: char| c.is_ascii_digit() || c == '_' || c == '.');
            let said_plainly = capture.name("colon").is_some()
                || (capture.name("is").is_some() && capture.name("my").is_some());
            let lenient = said_plainly && !AMBIGUOUS_SERVICES.contains(&service.as_str());
            let accepted = bare.len() >= 3
                && !NOT_IDS.iter().any(|word| word.eq_ignore_ascii_case(bare))
                && (looks_like_an_id || lenient || id.starts_with('@'));
            accepted.then(|| Found {
                kind: ContactKind::Handle,
                span: id_match.start()..id_match.start() + id.len(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContactKind::{Email, Handle, Link, Phone};

    fn masked(text: &str) -> Option<String> {
        mask(text, &ContactKind::ALL).map(|masked| masked.text)
    }

    fn spans(text: &str) -> Vec<(ContactKind, &str)> {
        find(text, &ContactKind::ALL, &PhoneRegions::default())
            .into_iter()
            .map(|found| (found.kind, &text[found.span]))
            .collect()
    }

    #[test]
    fn a_phone_number_is_replaced_by_its_placeholder_and_the_rest_is_kept() {
        let result = mask("Call me on 06 12 34 56 78 tonight", &ContactKind::ALL).expect("a phone number");
        assert_eq!(result.text, "Call me on [phone number hidden until the booking is confirmed] tonight");
        assert_eq!(result.kinds, vec![Phone]);
    }

    #[test]
    fn international_and_national_numbers_of_several_countries_are_found_whole() {
        for number in [
            "+33 6 12 34 56 78",
            "0033 6 12 34 56 78",
            "(415) 555-2671",
            "+1 415-555-2671",
            "07911 123456",
            "+44 (0)20 7946 0958",
            "0176 12345678",
            "612 34 56 78",
            "347 123 4567",
            "06-12345678",
        ] {
            let text = format!("my number: {number}.");
            assert_eq!(spans(&text), vec![(Phone, number)], "{text}");
        }
    }

    #[test]
    fn dates_times_prices_and_references_are_not_phone_numbers() {
        for text in [
            "see you at 9:30",
            "from 2026-12-07 to 2026-12-14",
            "arriving 07.12.2026, leaving 14.12.2026",
            "the 2nd of May 2026",
            "that's €1,250.00 in total",
            "booking #123456",
            "room 12, floor 3",
            "1 250 000 visitors a year",
            "order 20261207",
        ] {
            assert_eq!(masked(text), None, "{text}");
        }
    }

    #[test]
    fn spaced_out_digits_and_digit_words_are_phone_numbers() {
        assert_eq!(spans("it's 0 6 1 2 3 4 5 6 7 8 ok"), vec![(Phone, "0 6 1 2 3 4 5 6 7 8")]);
        assert_eq!(
            spans("text zero six one two three four five six seven eight please"),
            vec![(Phone, "zero six one two three four five six seven eight")]
        );
        assert_eq!(masked("one two three, go!"), None);
    }

    #[test]
    fn a_number_after_other_digits_is_found_alone() {
        assert_eq!(spans("room 12 06 12 34 56 78"), vec![(Phone, "06 12 34 56 78")]);
    }

    #[test]
    fn emails_plain_and_spelled_out_are_masked_over_their_spelling() {
        assert_eq!(spans("write to john.doe@gmail.com!"), vec![(Email, "john.doe@gmail.com")]);
        for spelled in [
            "john at gmail dot com",
            "john(at)gmail(dot)com",
            "john [at] gmail [dot] com",
            "john @ gmail.com",
        ] {
            let text = format!("mail {spelled} thanks");
            assert_eq!(spans(&text), vec![(Email, spelled)], "{text}");
        }
    }

    #[test]
    fn links_with_and_without_a_scheme_are_found_but_not_sentences_missing_a_space() {
        assert_eq!(spans("see https://example.org/a?b=c."), vec![(Link, "https://example.org/a?b=c")]);
        assert_eq!(spans("go to www.foo.com now"), vec![(Link, "www.foo.com")]);
        assert_eq!(spans("book on example.com/x instead"), vec![(Link, "example.com/x")]);
        assert_eq!(spans("t.me/johnd"), vec![(Link, "t.me/johnd")]);
        assert_eq!(masked("ok.bye, see you at the end.See you"), None);
        assert_eq!(masked("I use node.js and file.txt"), None);
    }

    #[test]
    fn handles_are_found_outside_emails() {
        assert_eq!(spans("I'm @john_doe92 on insta"), vec![(Handle, "@john_doe92")]);
        assert_eq!(spans("telegram: johnd"), vec![(Handle, "johnd")]);
        assert_eq!(spans("my insta is johnny"), vec![(Handle, "johnny")]);
        assert_eq!(spans("whatsapp me at jd_92"), vec![(Handle, "jd_92")]);
        assert_eq!(spans("john@example.com"), vec![(Email, "john@example.com")]);
        assert_eq!(masked("see you @10am, the signal is weak, line: 2 min"), None);
    }

    #[test]
    fn only_the_kinds_asked_for_are_masked() {
        let text = "call 06 12 34 56 78 or mail john@example.com";
        let only_phones = mask(text, &[Phone]).expect("a phone number");
        assert_eq!(
            only_phones.text,
            "call [phone number hidden until the booking is confirmed] or mail john@example.com"
        );
        assert_eq!(only_phones.kinds, vec![Phone]);
        let both = mask(text, &[Email, Phone]).expect("both");
        assert_eq!(both.kinds, vec![Phone, Email]);
        assert_eq!(mask(text, &[]), None);
        assert_eq!(mask(text, &[Link, Handle]), None);
    }

    #[test]
    fn nothing_found_is_none() {
        assert_eq!(mask("call me when you arrive, I'm at the gate 🙂", &ContactKind::ALL), None);
        assert_eq!(mask("", &ContactKind::ALL), None);
    }

    #[test]
    fn text_around_a_match_keeps_its_bytes() {
        let text = "Привет 👋 — écris-moi: +33 6 12 34 56 78 ✨ 谢谢";
        let result = mask(text, &ContactKind::ALL).expect("a phone number");
        assert_eq!(
            result.text,
            "Привет 👋 — écris-moi: [phone number hidden until the booking is confirmed] ✨ 谢谢"
        );
    }

    #[test]
    fn a_phone_number_inside_a_link_is_one_link() {
        let result = mask("wa.me/33612345678", &ContactKind::ALL).expect("a link");
        assert_eq!(result.text, Link.placeholder());
        assert_eq!(result.kinds, vec![Link]);
    }

    #[test]
    fn kinds_are_read_from_a_list() {
        assert_eq!(ContactKind::parse_list("phone,email,link,handle"), Ok(ContactKind::ALL.to_vec()));
        assert_eq!(ContactKind::parse_list(" Handle , phone,phone"), Ok(vec![Phone, Handle]));
        assert_eq!(ContactKind::parse_list(""), Ok(vec![]));
        assert!(ContactKind::parse_list("phone,fax").is_err_and(|error| error.contains("\"fax\"")));
    }

    #[test]
    fn kinds_serialise_in_snake_case() {
        assert_eq!(serde_json::to_string(&Handle).ok().as_deref(), Some("\"handle\""));
    }

    #[test]
    fn regions_decide_which_national_numbers_are_read() {
        let france = PhoneRegions::parse("FR").expect("a region");
        assert!(mask_with("06 12 34 56 78", &[Phone], &france).is_some());
        assert!(mask_with("(415) 555-2671", &[Phone], &france).is_none());
        assert!(mask_with("+1 415 555 2671", &[Phone], &france).is_some());
        assert!(PhoneRegions::parse("FR,XX").is_err());
    }

    #[test]
    fn a_flood_of_digits_is_masked_without_checking_it_all() {
        let flood = "1 ".repeat(2_000);
        let result = mask(&flood, &[Phone]);
        assert!(result.is_some_and(|masked| !masked.text.contains("1 1 1 1 1 1 1")));
    }
}
