//! The chat domain's rules, free of I/O: booking statuses and their transitions, who may do what, and what
//! a valid message, emoji or idempotency key is.

use std::time::{SystemTime, UNIX_EPOCH};

use chat_wire::BookingId;
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, the unit of every timestamp we store and send.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Where a booking is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl Booking {
    /// Only the owner and the renter may connect, read or write.
    pub fn is_member(&self, user_id: &str) -> bool {
        self.owner_id == user_id || self.renter_id == user_id
    }
}

/// Why a message body is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum BodyError {
    /// Empty or only whitespace.
    Empty,
    /// Longer than the configured number of characters.
    TooLong {
        /// The configured limit.
        max: usize,
    },
}

/// Checks a message body against the configured length, in characters (not bytes).
pub fn check_body(body: &str, max_chars: usize) -> Result<(), BodyError> {
    if body.trim().is_empty() {
        return Err(BodyError::Empty);
    }
    if body.chars().nth(max_chars).is_some() {
        return Err(BodyError::TooLong { max: max_chars });
    }
    Ok(())
}

/// Longest `client_message_id` accepted.
pub const MAX_CLIENT_MESSAGE_ID_LEN: usize = 64;

/// Whether a client's idempotency key is acceptable: 1 to 64 printable ASCII characters.
pub fn is_valid_client_message_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_CLIENT_MESSAGE_ID_LEN && id.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether `text` is exactly one emoji of the Unicode emoji set (skin-tone variants included).
pub fn is_emoji(text: &str) -> bool {
    emojis::get(text).is_some()
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

    #[test]
    fn bodies_are_measured_in_characters() {
        assert_eq!(check_body("   ", 10), Err(BodyError::Empty));
        assert_eq!(check_body("ééééé", 5), Ok(()));
        assert_eq!(check_body("éééééé", 5), Err(BodyError::TooLong { max: 5 }));
    }

    #[test]
    fn emoji_must_be_a_single_real_emoji() {
        assert!(is_emoji("👍"));
        assert!(is_emoji("👍🏽"));
        assert!(is_emoji("❤️"));
        assert!(!is_emoji("👍👍"));
        assert!(!is_emoji("a"));
        assert!(!is_emoji(""));
        assert!(!is_emoji("<script>"));
    }

    #[test]
    fn client_message_ids_are_short_printable_ascii() {
        assert!(is_valid_client_message_id("c-1f2e"));
        assert!(!is_valid_client_message_id(""));
        assert!(!is_valid_client_message_id("has space"));
        assert!(!is_valid_client_message_id(&"x".repeat(65)));
    }
}
