//! The chat domain's rules, free of I/O: booking statuses and their transitions, who may do what, and what
//! a valid message, emoji or idempotency key is.

use chat_wire::BookingId;
use serde::{Deserialize, Serialize};

/// Where a booking is in its life: requested → confirmed → active → completed, or cancelled before it is
/// active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// The renter asked; the owner has not answered.
    Requested,
    /// The owner accepted.
    Confirmed,
    /// The rental is under way.
    Active,
    /// The rental is over.
    Completed,
    /// Called off.
    Cancelled,
}

impl BookingStatus {
    /// The status as stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Confirmed => "confirmed",
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored or requested status.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "requested" => Self::Requested,
            "confirmed" => Self::Confirmed,
            "active" => Self::Active,
            "completed" => Self::Completed,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// Whether a booking may move from `self` to `next`. Completed and cancelled are final.
    pub fn can_become(self, next: Self) -> bool {
        use BookingStatus::*;
        matches!(
            (self, next),
            (Requested, Confirmed | Cancelled) | (Confirmed, Active | Cancelled) | (Active, Completed)
        )
    }
}

/// A booking as the chat sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Its id, owned by the booking system.
    pub id: BookingId,
    /// The user who owns the rented thing.
    pub owner_id: String,
    /// The user who rents it.
    pub renter_id: String,
    /// What is booked.
    pub title: String,
    /// Where it is in its life.
    pub status: BookingStatus,
    /// Its chat's blocks and closure, read with it ([`crate::chat_state`]); the default for a booking
    /// the marketplace sends, whose chat state the store keeps apart from what it writes.
    pub chat: crate::chat_state::ChatState,
}

/// Longest user id of a booking's owner or renter.
pub const MAX_USER_ID_CHARS: usize = 128;

/// Longest booking title.
pub const MAX_TITLE_CHARS: usize = 200;

/// Checks a user id the marketplace sends: 1 to [`MAX_USER_ID_CHARS`] characters without control
/// characters or surrounding spaces (they become JWT subjects and store keys).
///
/// # Errors
/// A sentence naming `field` and saying what is wrong.
pub fn validate_user_id(field: &str, user: &str) -> Result<(), String> {
    let chars = user.chars().count();
    if chars == 0 || chars > MAX_USER_ID_CHARS || user.chars().any(char::is_control) || user.trim() != user {
        return Err(format!(
            "{field} must be 1 to {MAX_USER_ID_CHARS} characters, without control characters or surrounding spaces"
        ));
    }
    Ok(())
}

impl Booking {
    /// Only the owner and the renter may connect, read or write.
    pub fn is_member(&self, user_id: &str) -> bool {
        self.owner_id == user_id || self.renter_id == user_id
    }

    /// Checks what the marketplace sends: user ids of 1 to 128 characters without control characters
    /// (they become JWT subjects and store keys), two different users, a title of 1 to 200 characters.
    ///
    /// # Errors
    /// A sentence saying what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        for (field, user) in [("owner_id", &self.owner_id), ("renter_id", &self.renter_id)] {
            validate_user_id(field, user)?;
        }
        if self.owner_id == self.renter_id {
            return Err("owner_id and renter_id must be different users".into());
        }
        let title = self.title.chars().count();
        if title == 0 || title > MAX_TITLE_CHARS || self.title.chars().any(char::is_control) {
            return Err(format!(
                "title must be 1 to {MAX_TITLE_CHARS} characters, without control characters"
            ));
        }
        if self.id <= 0 {
            return Err("booking ids are positive integers".into());
        }
        Ok(())
    }
}

/// Why a message body is refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Empty or only whitespace.
    #[error("message body is empty")]
    Empty,
    /// Longer than the configured number of characters.
    #[error("message body is longer than {max} characters")]
    TooLong {
        /// The configured limit.
        max: usize,
    },
    /// Holds a control character other than newline and tab.
    #[error("message body contains the control character U+{0:04X}; only newline and tab are allowed")]
    ControlCharacter(u32),
}

/// A message body that can be stored: not blank, at most the configured number of characters (not
/// bytes), and free of control characters except newline and tab. NUL in particular is refused, because
/// PostgreSQL cannot store it in text and SQLite would: both stores must give the same answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    /// Checks a body against the rules above.
    ///
    /// # Errors
    /// The first rule the body breaks.
    pub fn parse(text: String, max_chars: usize) -> Result<Self, BodyError> {
        if text.trim().is_empty() {
            return Err(BodyError::Empty);
        }
        if text.chars().nth(max_chars).is_some() {
            return Err(BodyError::TooLong { max: max_chars });
        }
        if let Some(c) = text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
            return Err(BodyError::ControlCharacter(u32::from(c)));
        }
        Ok(Self(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Longest `client_message_id` accepted.
pub const MAX_CLIENT_MESSAGE_ID_LEN: usize = 64;

/// A client's idempotency key: 1 to [`MAX_CLIENT_MESSAGE_ID_LEN`] printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMessageId(String);

impl ClientMessageId {
    /// Checks a key.
    ///
    /// # Errors
    /// A message saying what a key must be.
    pub fn parse(id: String) -> Result<Self, String> {
        if !id.is_empty() && id.len() <= MAX_CLIENT_MESSAGE_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
        {
            Ok(Self(id))
        } else {
            Err(format!(
                "client_message_id must be 1 to {MAX_CLIENT_MESSAGE_ID_LEN} printable ASCII characters"
            ))
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Exactly one emoji of the Unicode emoji set (skin-tone variants included), in its one canonical,
/// fully-qualified form: `❤` and `❤️` (with the emoji variation selector) are the same reaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emoji(&'static str);

impl Emoji {
    /// The canonical form of `text`, if it is one emoji.
    pub fn parse(text: &str) -> Option<Self> {
        emojis::get(text).map(|emoji| Self(emoji.as_str()))
    }

    /// The canonical text.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_the_booking_life() {
        use BookingStatus::*;
        assert!(Requested.can_become(Confirmed));
        assert!(Requested.can_become(Cancelled));
        assert!(Confirmed.can_become(Active));
        assert!(Active.can_become(Completed));
        assert!(!Requested.can_become(Active));
        assert!(!Completed.can_become(Cancelled));
        assert!(!Cancelled.can_become(Requested));
        assert!(!Confirmed.can_become(Confirmed));
        for s in [Requested, Confirmed, Active, Completed, Cancelled] {
            assert_eq!(BookingStatus::parse(s.as_str()), Some(s));
        }
    }

    fn body(text: &str, max: usize) -> Result<MessageBody, BodyError> {
        MessageBody::parse(text.to_owned(), max)
    }

    #[test]
    fn bodies_are_measured_in_characters() {
        assert_eq!(body("   ", 10), Err(BodyError::Empty));
        assert!(body("ééééé", 5).is_ok());
        assert_eq!(body("éééééé", 5), Err(BodyError::TooLong { max: 5 }));
    }

    #[test]
    fn control_characters_other_than_newline_and_tab_are_refused() {
        assert!(body("two\nlines\tand a tab", 100).is_ok());
        assert_eq!(body("nul\u{0}inside", 100), Err(BodyError::ControlCharacter(0)));
        assert_eq!(body("bell\u{7}", 100), Err(BodyError::ControlCharacter(7)));
        assert_eq!(body("cr\r\n", 100), Err(BodyError::ControlCharacter(0x0d)));
        assert_eq!(body("del\u{7f}", 100), Err(BodyError::ControlCharacter(0x7f)));
        assert_eq!(body("c1\u{85}", 100), Err(BodyError::ControlCharacter(0x85)));
        assert!(body("right-to-left \u{200f}שלום and emoji 👍🏽", 100).is_ok());
    }

    #[test]
    fn emoji_must_be_a_single_real_emoji() {
        for ok in ["👍", "👍🏽", "❤️", "❤"] {
            assert!(Emoji::parse(ok).is_some(), "{ok}");
        }
        for bad in ["👍👍", "a", "", "<script>"] {
            assert!(Emoji::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_two_hearts_are_one_emoji() {
        let bare = Emoji::parse("\u{2764}").expect("heart");
        let with_selector = Emoji::parse("\u{2764}\u{fe0f}").expect("heart");
        assert_eq!(bare, with_selector);
        assert_eq!(bare.as_str(), "\u{2764}\u{fe0f}");
        assert_eq!(Emoji::parse("👍🏽").expect("thumbs").as_str(), "👍🏽", "skin tones stay distinct");
    }

    #[test]
    fn client_message_ids_are_short_printable_ascii() {
        assert!(ClientMessageId::parse("c-1f2e".into()).is_ok());
        assert!(ClientMessageId::parse(String::new()).is_err());
        assert!(ClientMessageId::parse("has space".into()).is_err());
        assert!(ClientMessageId::parse("x".repeat(65)).is_err());
    }
}
