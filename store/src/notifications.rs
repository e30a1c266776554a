//! What a member asked to be told about messages they have not read, and the rules the notifier and the
//! backend share: notification settings (channels, quiet hours in the member's time zone, muted
//! bookings), the claim that keeps notifications to one per booking per quiet period, and the signed
//! unsubscribe link. Pure: the store keeps these values, the notifier and the backend act on them.
//!
//! `docs/notifications.md` is the design.

use chat_wire::{BookingId, MessageId};
use serde::{Deserialize, Serialize};

use crate::push::{MAX_PUSH_SUBSCRIPTIONS, PushSubscription};
use crate::{ChatStore, StoreError};

/// Most bookings one member may mute.
pub const MAX_MUTED_BOOKINGS: usize = 500;

/// Longest email address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// A member's notification settings. Absent in the store means [`NotificationSettings::default`]:
/// every channel on, no quiet hours, nothing muted, and no email address (so no email).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationSettings {
    /// Where emails go; set by the marketplace through the service API (it knows the verified address),
    /// never by the member.
    #[serde(default)]
    pub email: Option<String>,
    /// Whether unread messages are emailed (the member's choice; the unsubscribe link turns it off).
    #[serde(default = "yes")]
    pub email_enabled: bool,
    /// Whether unread messages are pushed to the browsers the member subscribed (Web Push).
    #[serde(default = "yes")]
    pub push_enabled: bool,
    /// Hours during which nothing is sent: what is due then waits until they end.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Bookings the member muted: none of their messages are notified, on any channel.
    #[serde(default)]
    pub muted_bookings: Vec<BookingId>,
    /// The browsers the member subscribed to Web Push, oldest first, at most
    /// [`MAX_PUSH_SUBSCRIPTIONS`].
    #[serde(default)]
    pub push_subscriptions: Vec<PushSubscription>,
}

fn yes() -> bool {
    true
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            email: None,
            email_enabled: true,
            push_enabled: true,
            quiet_hours: None,
            muted_bookings: vec![],
            push_subscriptions: vec![],
        }
    }
}

impl NotificationSettings {
    /// Whether `booking_id` is muted.
    pub fn is_muted(&self, booking_id: BookingId) -> bool {
        self.muted_bookings.contains(&booking_id)
    }

    /// Mutes or unmutes a booking; whether that changed anything.
    ///
    /// # Errors
    /// [`SettingsError::TooManyMuted`] when muting one more would pass [`MAX_MUTED_BOOKINGS`].
    pub fn set_muted(&mut self, booking_id: BookingId, muted: bool) -> Result<bool, SettingsError> {
        match (muted, self.is_muted(booking_id)) {
            (true, false) if self.muted_bookings.len() >= MAX_MUTED_BOOKINGS => {
                Err(SettingsError::TooManyMuted)
            }
            (true, false) => {
                self.muted_bookings.push(booking_id);
                Ok(true)
            }
            (false, true) => {
                self.muted_bookings.retain(|id| *id != booking_id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// The address emails go to, when the member has one and wants email.
    pub fn email_to(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_enabled)
    }

    /// The browsers pushes go to: none when the member turned Web Push off.
    pub fn push_to(&self) -> &[PushSubscription] {
        if self.push_enabled { &self.push_subscriptions } else { &[] }
    }

    /// Adds a browser's subscription, or replaces the one with the same endpoint (a browser subscribing
    /// again with new keys). Beyond [`MAX_PUSH_SUBSCRIPTIONS`], the oldest goes. Whether anything changed.
    pub fn add_push(&mut self, subscription: PushSubscription) -> bool {
        let same = |s: &PushSubscription| s.endpoint == subscription.endpoint && s.keys == subscription.keys;
        if self.push_subscriptions.iter().any(same) {
            return false;
        }
        self.push_subscriptions.retain(|s| s.endpoint != subscription.endpoint);
        self.push_subscriptions.push(subscription);
        let excess = self.push_subscriptions.len().saturating_sub(MAX_PUSH_SUBSCRIPTIONS);
        self.push_subscriptions.drain(..excess);
        true
    }

    /// Removes the subscription of `endpoint`; whether there was one.
    pub fn remove_push(&mut self, endpoint: &str) -> bool {
        let before = self.push_subscriptions.len();
        self.push_subscriptions.retain(|s| s.endpoint != endpoint);
        self.push_subscriptions.len() != before
    }
}

/// How many times a change of settings is tried against concurrent changes before giving up.
const MAX_CHANGE_ATTEMPTS: usize = 8;

/// Applies `change` to a member's settings: a read, the change, and a write conditional on the version
/// read, tried again when another change came between (a mute in one tab and quiet hours in another, or
/// the notifier removing a dead browser while the member subscribes a new one: all are kept). `change`
/// answers whether it changed anything; nothing is written otherwise. The settings afterwards.
///
/// # Errors
/// What `change` refuses with; the store's errors, and [`StoreError::Contention`] when other changes keep
/// winning the race.
pub async fn change_settings<E: From<StoreError>>(
    store: &dyn ChatStore,
    user_id: &str,
    change: impl Fn(&mut NotificationSettings) -> Result<bool, E>,
) -> Result<NotificationSettings, E> {
    for _ in 0..MAX_CHANGE_ATTEMPTS {
        let current = store.notification_settings(user_id).await?;
        let mut settings = current.settings;
        if !change(&mut settings)? {
            return Ok(settings);
        }
        if store.put_notification_settings(user_id, &settings, current.version).await? {
            return Ok(settings);
        }
    }
    Err(StoreError::Contention("changing notification settings").into())
}

/// Checks an email address as the service API sets it: at most [`MAX_EMAIL_BYTES`], and one that the
/// notifier's mail library (`lettre`) will put in a `To:` header, parsed by the same code, so that an
/// address accepted here is never refused when an email is due. Deliverability is the marketplace's to
/// verify.
///
/// # Errors
/// [`SettingsError::InvalidEmail`].
pub fn validate_email(address: &str) -> Result<(), SettingsError> {
    let parsed: Result<lettre::Address, _> = address.parse();
    match parsed {
        Ok(parsed) if address.len() <= MAX_EMAIL_BYTES && parsed.domain().contains('.') => Ok(()),
        _ => Err(SettingsError::InvalidEmail),
    }
}

/// Daily hours during which nothing is sent, in the member's time zone: `start` to `end`, local wall
/// clock, `HH:MM`; across midnight when `end` is earlier than `start` (22:00 to 07:00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuietHours {
    /// When they begin, `HH:MM`.
    #[cfg_attr(feature = "openapi", schema(example = "22:00"))]
    pub start: String,
    /// When they end, `HH:MM`.
    #[cfg_attr(feature = "openapi", schema(example = "07:00"))]
    pub end: String,
    /// An IANA time zone name.
    #[cfg_attr(feature = "openapi", schema(example = "Europe/Paris"))]
    pub time_zone: String,
}

impl QuietHours {
    /// Checks the times and the time zone.
    ///
    /// # Errors
    /// [`SettingsError::InvalidQuietHours`] naming what is wrong.
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.parts().map(|_| ())
    }

    /// When the quiet hours that hold at `now` (epoch ms) end, epoch ms; `None` when `now` is outside them.
    /// On a day whose clocks change, a wall-clock end that does not exist is moved forward by the gap's
    /// length (02:30 on a day that jumps from 02:00 to 03:00 becomes 03:30), as RFC 5545 and JavaScript's
    /// Temporal do: what `jiff` calls the compatible choice.
    pub fn ends_after(&self, now: i64) -> Option<i64> {
        let (start, end, zone) = self.parts().ok()?;
        let now = jiff::Timestamp::from_millisecond(now).ok()?.to_zoned(zone);
        let time = now.time();
        let today = now.date();
        let end_day = if start <= end {
            (start <= time && time < end).then_some(today)?
        } else if time >= start {
            today.tomorrow().ok()?
        } else if time < end {
            today
        } else {
            return None;
        };
        let ends = zone_end(now.time_zone(), end_day.to_datetime(end), now.timestamp())?;
        Some(ends.as_millisecond())
    }

    fn parts(&self) -> Result<(jiff::civil::Time, jiff::civil::Time, jiff::tz::TimeZone), SettingsError> {
        let invalid = |why: &str| SettingsError::InvalidQuietHours(why.to_owned());
        let time = |text: &str| {
            let (hour, minute) = text.split_once(':').filter(|(h, m)| h.len() == 2 && m.len() == 2)?;
            jiff::civil::Time::new(hour.parse().ok()?, minute.parse().ok()?, 0, 0).ok()
        };
        let start = time(&self.start).ok_or_else(|| invalid("start must be HH:MM, 00:00 to 23:59"))?;
        let end = time(&self.end).ok_or_else(|| invalid("end must be HH:MM, 00:00 to 23:59"))?;
        if start == end {
            return Err(invalid("start and end must differ"));
        }
        let zone = jiff::tz::TimeZone::get(&self.time_zone)
            .map_err(|_| invalid("time_zone must be an IANA time zone name, such as Europe/Paris"))?;
        Ok((start, end, zone))
    }
}

/// The instant a wall-clock end falls on. In a gap (clocks jump forward), moved forward by the gap's
/// length (jiff's compatible choice). In a fold (clocks go back, the wall-clock time happens twice), the
/// first of the two that is still ahead of `now`: taking the first one blindly would end quiet hours
/// in the past, during the repeated hour.
fn zone_end(
    zone: &jiff::tz::TimeZone,
    end: jiff::civil::DateTime,
    now: jiff::Timestamp,
) -> Option<jiff::Timestamp> {
    let ambiguous = zone.to_ambiguous_zoned(end);
    match ambiguous.offset() {
        jiff::tz::AmbiguousOffset::Fold { .. } => {
            let earlier = ambiguous.clone().earlier().ok()?.timestamp();
            if earlier > now { Some(earlier) } else { Some(ambiguous.later().ok()?.timestamp()) }
        }
        _ => Some(ambiguous.compatible().ok()?.timestamp()),
    }
}

/// Why settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// The quiet hours are malformed.
    #[error("invalid quiet hours: {0}")]
    InvalidQuietHours(String),
    /// The email address is malformed.
    #[error("invalid email address")]
    InvalidEmail,
    /// Too many bookings muted.
    #[error("at most {MAX_MUTED_BOOKINGS} bookings may be muted")]
    TooManyMuted,
}

/// A member's settings as stored, with the version that guards the next write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionedSettings {
    /// The settings.
    pub settings: NotificationSettings,
    /// 0 when none were stored yet; each write adds one.
    pub version: i64,
}

/// The last notification a member was sent about a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notified {
    /// The newest message it covered.
    pub through: MessageId,
    /// When it was claimed, epoch ms.
    pub at: i64,
}

/// What the notifier asks before it sends: may it notify `user_id` about `booking_id`'s messages up to
/// `through`, at `now`?
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest<'a> {
    /// The booking.
    pub booking_id: BookingId,
    /// The recipient.
    pub user_id: &'a str,
    /// The newest message the notification will list.
    pub through: MessageId,
    /// Now, epoch ms.
    pub now: i64,
    /// The quiet period: at most one notification per booking and member within it, ms.
    pub min_interval_ms: i64,
}

/// The store's answer to a [`ClaimRequest`], decided in one conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The caller may send: the store now records `{through, at: now}`; `previous` is what it recorded
    /// before (to put back with [`crate::ChatStore::release_notification`] if sending fails).
    Claimed {
        /// The notification before this one.
        previous: Option<Notified>,
    },
    /// A notification already covered `through`.
    Covered,
    /// The last notification was less than the quiet period ago: ask again at `until`, epoch ms.
    TooSoon {
        /// When the quiet period ends.
        until: i64,
    },
}

/// Decides a claim from what the store holds: the rule every adapter applies before its conditional
/// write (which fails, and is retried, if `current` changed meanwhile).
pub fn decide_claim(current: Option<Notified>, request: &ClaimRequest<'_>) -> Claim {
    match current {
        Some(last) if last.through >= request.through => Claim::Covered,
        Some(last) if last.at.saturating_add(request.min_interval_ms) > request.now => {
            Claim::TooSoon { until: last.at.saturating_add(request.min_interval_ms) }
        }
        previous => Claim::Claimed { previous },
    }
}

/// The unsubscribe link's token: the user it is for, signed with the deployment's link key (HMAC-SHA256,
/// `NOTIFY_LINK_SECRET`), so that a link works only for the member it was sent to. It does not expire: an
/// old email's link must keep working (RFC 8058).
pub mod unsubscribe {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chat_settings::env::{ConfigError, Lookup};
    use secrecy::SecretString;

    /// The shortest key accepted: anyone who can guess the key can unsubscribe anyone.
    pub const MIN_KEY_BYTES: usize = 16;

    /// The key with `APP_ENV=local`, shared by the local backend and notifier.
    pub const LOCAL_KEY: &str = "local-notify-link-secret";

    const PURPOSE: &[u8] = b"booking-chat unsubscribe email v1\0";

    fn tag(key: &[u8], user_id: &str) -> ring::hmac::Tag {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        let mut context = ring::hmac::Context::with_key(&key);
        context.update(PURPOSE);
        context.update(user_id.as_bytes());
        context.sign()
    }

    /// `NOTIFY_LINK_SECRET`, which the backend and the notifier both read: the local key with
    /// `APP_ENV=local`, none otherwise when unset; a key shorter than [`MIN_KEY_BYTES`] is refused.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable.
    pub fn key_setting(lookup: &impl Lookup, local: bool) -> Result<Option<SecretString>, ConfigError> {
        match lookup("NOTIFY_LINK_SECRET") {
            Some(secret) if secret.len() < MIN_KEY_BYTES => Err(ConfigError::invalid(
                "NOTIFY_LINK_SECRET",
                format!("must be at least {MIN_KEY_BYTES} bytes"),
            )),
            Some(secret) => Ok(Some(SecretString::from(secret))),
            None => Ok(local.then(|| SecretString::from(LOCAL_KEY))),
        }
    }

    /// The token for `user_id`'s link.
    pub fn token(key: &[u8], user_id: &str) -> String {
        let tag = tag(key, user_id);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(user_id), URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The user a token was made for, if its signature holds (compared in constant time).
    pub fn verify(key: &[u8], token: &str) -> Option<String> {
        let (user, signature) = token.split_once('.')?;
        let user = String::from_utf8(URL_SAFE_NO_PAD.decode(user).ok()?).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        let mut message = PURPOSE.to_vec();
        message.extend_from_slice(user.as_bytes());
        ring::hmac::verify(&key, &message, &signature).ok()?;
        Some(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet(start: &str, end: &str, zone: &str) -> QuietHours {
        QuietHours { start: start.into(), end: end.into(), time_zone: zone.into() }
    }

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<jiff::Timestamp>().expect("instant").as_millisecond()
    }

    fn subscription(endpoint: &str, auth: &str) -> PushSubscription {
        let keys = crate::push::PushKeys { p256dh: "B".repeat(87), auth: auth.to_owned() };
        PushSubscription { endpoint: endpoint.to_owned(), keys, created_at: 0 }
    }

    #[test]
    fn a_browser_subscribes_once_renews_its_keys_and_the_oldest_goes_beyond_the_cap() {
        let mut settings = NotificationSettings::default();
        assert!(settings.add_push(subscription("https://a/1", "k1")));
        assert!(!settings.add_push(subscription("https://a/1", "k1")), "the same subscription twice");
        assert!(settings.add_push(subscription("https://a/1", "k2")), "new keys replace the old");
        assert_eq!(settings.push_subscriptions.len(), 1);
        assert_eq!(settings.push_subscriptions[0].keys.auth, "k2");
        for n in 2..=MAX_PUSH_SUBSCRIPTIONS + 1 {
            settings.add_push(subscription(&format!("https://a/{n}"), "k"));
        }
        assert_eq!(settings.push_subscriptions.len(), MAX_PUSH_SUBSCRIPTIONS);
        assert_eq!(settings.push_subscriptions[0].endpoint, "https://a/2", "the oldest went");
        assert!(settings.remove_push("https://a/2") && !settings.remove_push("https://a/2"));
        assert_eq!(settings.push_to().len(), MAX_PUSH_SUBSCRIPTIONS - 1);
        settings.push_enabled = false;
        assert!(settings.push_to().is_empty(), "push off: no browser");
    }

    #[test]
    fn settings_written_before_web_push_existed_still_read() {
        let old: NotificationSettings =
            serde_json::from_str(r#"{"email":"a@b.co","email_enabled":true,"push_enabled":true}"#)
                .expect("reads");
        assert!(old.push_subscriptions.is_empty());
    }

    #[test]
    fn overnight_quiet_hours_hold_in_the_members_time_zone_and_end_at_their_local_end() {
        let hours = quiet("22:00", "07:00", "Europe/Paris");
        // 21:30 UTC in December is 22:30 in Paris: quiet until 07:00 Paris, 06:00 UTC the next day.
        assert_eq!(hours.ends_after(ms("2026-12-07T21:30:00Z")), Some(ms("2026-12-08T06:00:00Z")));
        // 05:00 UTC is 06:00 in Paris: quiet until 06:00 UTC the same day.
        assert_eq!(hours.ends_after(ms("2026-12-08T05:00:00Z")), Some(ms("2026-12-08T06:00:00Z")));
        // 20:59 Paris and 07:00 Paris are outside.
        assert_eq!(hours.ends_after(ms("2026-12-07T19:59:00Z")), None);
        assert_eq!(hours.ends_after(ms("2026-12-08T06:00:00Z")), None);
        // The same hours in New York are another instant.
        let new_york = quiet("22:00", "07:00", "America/New_York");
        assert_eq!(new_york.ends_after(ms("2026-12-07T21:30:00Z")), None);
        assert_eq!(new_york.ends_after(ms("2026-12-08T03:30:00Z")), Some(ms("2026-12-08T12:00:00Z")));
    }

    #[test]
    fn daytime_quiet_hours_and_a_clock_change_are_handled() {
        let lunch = quiet("12:00", "14:00", "UTC");
        assert_eq!(lunch.ends_after(ms("2026-12-07T12:00:00Z")), Some(ms("2026-12-07T14:00:00Z")));
        assert_eq!(lunch.ends_after(ms("2026-12-07T14:00:00Z")), None);
        // Paris springs forward from 02:00 to 03:00 on 2027-03-28: quiet hours ending at 02:30 (a time that
        // does not exist that day) end at 03:30 CEST = 01:30 UTC.
        let gap = quiet("23:00", "02:30", "Europe/Paris");
        assert_eq!(gap.ends_after(ms("2027-03-27T23:30:00Z")), Some(ms("2027-03-28T01:30:00Z")));
        // Paris falls back from 03:00 to 02:00 on 2026-10-25, so 02:30 happens twice (00:30 and 01:30
        // UTC). Before the first, quiet hours end at the first; during the repeated hour, at the second,
        // never in the past.
        let fold = quiet("22:00", "02:30", "Europe/Paris");
        assert_eq!(fold.ends_after(ms("2026-10-24T23:00:00Z")), Some(ms("2026-10-25T00:30:00Z")));
        assert_eq!(fold.ends_after(ms("2026-10-25T01:15:00Z")), Some(ms("2026-10-25T01:30:00Z")));
        assert_eq!(fold.ends_after(ms("2026-10-25T01:30:00Z")), None);
    }

    #[test]
    fn malformed_quiet_hours_are_refused_with_the_reason() {
        for (hours, why) in [
            (quiet("7:00", "08:00", "UTC"), "start"),
            (quiet("07:00", "24:00", "UTC"), "end"),
            (quiet("07:00", "07:00", "UTC"), "differ"),
            (quiet("22:00", "07:00", "Mars/Olympus"), "time_zone"),
        ] {
            let error = hours.validate().expect_err("refused").to_string();
            assert!(error.contains(why), "{error}");
        }
    }

    #[test]
    fn a_claim_is_covered_too_soon_or_granted() {
        let request =
            ClaimRequest { booking_id: 1, user_id: "bob", through: 5, now: 10_000, min_interval_ms: 3_000 };
        assert_eq!(decide_claim(None, &request), Claim::Claimed { previous: None });
        assert_eq!(decide_claim(Some(Notified { through: 5, at: 0 }), &request), Claim::Covered);
        assert_eq!(
            decide_claim(Some(Notified { through: 4, at: 8_000 }), &request),
            Claim::TooSoon { until: 11_000 }
        );
        let previous = Some(Notified { through: 4, at: 7_000 });
        assert_eq!(decide_claim(previous, &request), Claim::Claimed { previous });
    }

    #[test]
    fn an_unsubscribe_token_names_its_user_and_nothing_else_verifies() {
        let token = unsubscribe::token(b"key", "bob");
        assert_eq!(unsubscribe::verify(b"key", &token).as_deref(), Some("bob"));
        assert_eq!(unsubscribe::verify(b"other key", &token), None);
        let (_, signature) = token.split_once('.').expect("two parts");
        let forged = format!(
            "{}.{signature}",
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, "alice")
        );
        assert_eq!(unsubscribe::verify(b"key", &forged), None);
        assert_eq!(unsubscribe::verify(b"key", "garbage"), None);
    }

    #[test]
    fn email_addresses_and_mutes_are_checked() {
        assert!(validate_email("bob@example.com").is_ok());
        for bad in
            ["bob", "bob@", "@example.com", "bob@localhost", "bo b@example.com", "a@b@c.com", "bob@.com"]
        {
            assert_eq!(validate_email(bad), Err(SettingsError::InvalidEmail), "{bad}");
        }
        let mut settings = NotificationSettings::default();
        assert_eq!(settings.set_muted(7, true), Ok(true));
        assert_eq!(settings.set_muted(7, true), Ok(false));
        assert!(settings.is_muted(7));
        assert_eq!(settings.set_muted(7, false), Ok(true));
        settings.muted_bookings = (0..MAX_MUTED_BOOKINGS as i64).collect();
        assert_eq!(settings.set_muted(-1, true), Err(SettingsError::TooManyMuted));
    }

    #[test]
    fn absent_fields_read_as_the_defaults() {
        let settings: NotificationSettings = serde_json::from_str("{}").expect("parses");
        assert_eq!(settings, NotificationSettings::default());
        assert_eq!(settings.email_to(), None);
    }
}
