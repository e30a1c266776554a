//! Measures `chat_store::contact` against a corpus of chat lines written as members write them
//! (`contact_corpus.txt`): phone numbers of several countries, spaced out or in words, addresses as written
//! and spelled out, links with and without a scheme, handles, and ordinary chat that must pass untouched.
//! Every line says what it expects; a line the detector misses is in the corpus as a known miss with its
//! reason, not left out. The table of caught and missed lines per category is printed:
//! `cargo test -p chat-store --test contact_corpus -- --nocapture`.

use chat_store::contact::{self, ContactKind};

const CORPUS: &str = include_str!("contact_corpus.txt");

/// One line of the corpus.
struct Line {
    number: usize,
    category: &'static str,
    /// What the detector should hide (empty: nothing).
    expected: Vec<ContactKind>,
    /// Why the detector misses what this line hides, when it does.
    known_miss: Option<&'static str>,
    /// Why the detector masks this ordinary line, when it does.
    known_false_alarm: Option<&'static str>,
    text: &'static str,
}

fn corpus() -> Vec<Line> {
    let mut lines = Vec::new();
    let mut known_miss = None;
    let mut known_false_alarm = None;
    for (index, raw) in CORPUS.lines().enumerate() {
        let number = index + 1;
        if let Some(reason) = raw.strip_prefix("# known miss:") {
            known_miss = Some(reason.trim());
            continue;
        }
        if let Some(reason) = raw.strip_prefix("# known false alarm:") {
            known_false_alarm = Some(reason.trim());
            continue;
        }
        if raw.trim().is_empty() || raw.starts_with('#') {
            continue;
        }
        let mut fields = raw.splitn(3, " | ");
        let (Some(category), Some(expected), Some(text)) = (fields.next(), fields.next(), fields.next())
        else {
            panic!("line {number} is not `category | expected | message`: {raw:?}");
        };
        let expected = match expected.trim() {
            "untouched" => Vec::new(),
            list => ContactKind::parse_list(list).unwrap_or_else(|error| panic!("line {number}: {error}")),
        };
        let (known_miss, known_false_alarm) = (known_miss.take(), known_false_alarm.take());
        assert!(
            known_miss.is_none() || expected.is_empty(),
            "line {number}: a known miss is expected untouched"
        );
        assert!(
            known_false_alarm.is_none() || !expected.is_empty(),
            "line {number}: a known false alarm is expected masked"
        );
        lines.push(Line { number, category: category.trim(), expected, known_miss, known_false_alarm, text });
    }
    lines
}

/// Counts for one category.
#[derive(Default)]
struct Tally {
    lines: usize,
    /// Lines with contact details, masked as expected.
    caught: usize,
    /// Lines with contact details the detector is known to miss.
    missed: usize,
    /// Ordinary lines left untouched.
    untouched: usize,
    /// Ordinary lines the detector is known to mask.
    false_alarms: usize,
    /// Lines that did not get what they expect (the test fails).
    wrong: usize,
}

#[test]
fn every_corpus_line_is_masked_as_it_expects() {
    let lines = corpus();
    let mut tallies: Vec<(&str, Tally)> = Vec::new();
    let mut failures = Vec::new();
    for line in &lines {
        let masked = contact::mask(line.text, &ContactKind::ALL);
        let hidden = masked.as_ref().map(|masked| masked.kinds.clone()).unwrap_or_default();
        let position = match tallies.iter().position(|(category, _)| *category == line.category) {
            Some(position) => position,
            None => {
                tallies.push((line.category, Tally::default()));
                tallies.len() - 1
            }
        };
        let tally = &mut tallies[position].1;
        tally.lines += 1;
        if hidden != line.expected {
            tally.wrong += 1;
            let now = masked.map_or_else(|| "untouched".to_owned(), |masked| masked.text);
            let was = match (line.known_miss, line.known_false_alarm) {
                (Some(why), _) => format!(" (a known miss: {why})"),
                (_, Some(why)) => format!(" (a known false alarm: {why})"),
                (None, None) => String::new(),
            };
            failures.push(format!(
                "line {}{was}: {:?} expected {:?}, got {hidden:?}: {now}",
                line.number, line.text, line.expected
            ));
        } else if line.known_miss.is_some() {
            tally.missed += 1;
        } else if line.known_false_alarm.is_some() {
            tally.false_alarms += 1;
        } else if line.expected.is_empty() {
            tally.untouched += 1;
        } else {
            tally.caught += 1;
        }
    }
    print_table(&tallies);
    assert!(failures.is_empty(), "{} corpus lines differ:\n{}", failures.len(), failures.join("\n"));
}

fn print_table(tallies: &[(&str, Tally)]) {
    println!(
        "{:<16} {:>5} {:>6} {:>6} {:>9} {:>12} {:>5}",
        "category", "lines", "caught", "missed", "untouched", "false alarms", "wrong"
    );
    let mut total = Tally::default();
    for (category, tally) in tallies {
        print_row(category, tally);
        total.lines += tally.lines;
        total.caught += tally.caught;
        total.missed += tally.missed;
        total.untouched += tally.untouched;
        total.false_alarms += tally.false_alarms;
        total.wrong += tally.wrong;
    }
    print_row("total", &total);
}

fn print_row(category: &str, tally: &Tally) {
    println!(
        "{category:<16} {:>5} {:>6} {:>6} {:>9} {:>12} {:>5}",
        tally.lines, tally.caught, tally.missed, tally.untouched, tally.false_alarms, tally.wrong
    );
}

#[test]
fn the_corpus_is_large_enough_to_say_something() {
    let lines = corpus();
    let ordinary = lines.iter().filter(|line| line.category == "ordinary").count();
    assert!(lines.len() >= 60, "{} lines", lines.len());
    assert!(ordinary >= 15, "{ordinary} ordinary lines");
    for category in ["phone-intl", "phone-national", "phone-spaced", "phone-words", "email", "email-spelled"]
    {
        assert!(lines.iter().any(|line| line.category == category), "no {category} line");
    }
}
