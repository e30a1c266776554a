//! The attachment rules every part applies: which types, how large, how many on a message, how long forms
//! and URLs live (`ATTACHMENTS_*`). The backend checks what a member declares against them, the media
//! processor what arrived.

use std::time::Duration;

use chat_settings::env::{ConfigError, Lookup, parse};

/// The types allowed unless `ATTACHMENTS_TYPES` says otherwise.
pub const DEFAULT_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "application/pdf"];

/// The types the media processor knows how to check; `ATTACHMENTS_TYPES` may name only these.
pub const KNOWN_TYPES: [&str; 5] = ["image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"];

/// How long a processed file may wait to be sent: less than the shortest expiry of unreferenced files
/// (S3's lifecycle rule, at least a day; the disk adapter's sweep, two), so that a file accepted on a
/// message still exists. An older one is refused, and uploaded again.
pub const MAX_UNSENT_AGE: Duration = Duration::from_secs(20 * 3600);

/// Longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// The rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRules {
    /// `ATTACHMENTS_MAX_BYTES`: the largest file (10 MiB).
    pub max_bytes: u64,
    /// `ATTACHMENTS_TYPES`: the allowed types, comma-separated.
    pub types: Vec<String>,
    /// `ATTACHMENTS_PER_MESSAGE`: most attachments on one message (10).
    pub per_message: usize,
    /// `ATTACHMENTS_UPLOAD_TTL_SECONDS`: how long an upload form is valid (300).
    pub upload_ttl: Duration,
    /// `ATTACHMENTS_DOWNLOAD_TTL_SECONDS`: how long a download URL is valid (300).
    pub download_ttl: Duration,
}

impl Default for AttachmentRules {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            types: DEFAULT_TYPES.iter().map(|t| (*t).to_owned()).collect(),
            per_message: 10,
            upload_ttl: Duration::from_secs(300),
            download_ttl: Duration::from_secs(300),
        }
    }
}

/// Why a declared file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Larger than the limit.
    #[error("the file is {size} bytes, more than the {limit} allowed")]
    TooLarge {
        /// The declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Empty.
    #[error("the file is empty")]
    Empty,
    /// A type not allowed.
    #[error("{0} files are not accepted (allowed: {1})")]
    Type(String, String),
    /// A name that is empty or too long.
    #[error("a file name needs 1 to {MAX_NAME_CHARS} characters")]
    Name,
}

impl AttachmentRules {
    /// Reads the `ATTACHMENTS_*` variables.
    ///
    /// # Errors
    /// [`ConfigError`] naming a malformed variable, a type no part can check, or a limit of zero.
    pub fn from_lookup(lookup: &impl Lookup) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let types = match lookup("ATTACHMENTS_TYPES") {
            None => defaults.types,
            Some(list) => {
                let types: Vec<String> = list
                    .split(',')
                    .map(|t| t.trim().to_ascii_lowercase())
                    .filter(|t| !t.is_empty())
                    .collect();
                if let Some(unknown) = types.iter().find(|t| !KNOWN_TYPES.contains(&t.as_str())) {
                    return Err(ConfigError::invalid(
                        "ATTACHMENTS_TYPES",
                        format!("{unknown} is none of {}", KNOWN_TYPES.join(", ")),
                    ));
                }
                types
            }
        };
        let rules = Self {
            max_bytes: parse(lookup, "ATTACHMENTS_MAX_BYTES", defaults.max_bytes)?,
            types,
            per_message: parse(lookup, "ATTACHMENTS_PER_MESSAGE", defaults.per_message)?,
            upload_ttl: Duration::from_secs(parse(lookup, "ATTACHMENTS_UPLOAD_TTL_SECONDS", 300)?),
            download_ttl: Duration::from_secs(parse(lookup, "ATTACHMENTS_DOWNLOAD_TTL_SECONDS", 300)?),
        };
        for (key, zero) in [
            ("ATTACHMENTS_MAX_BYTES", rules.max_bytes == 0),
            ("ATTACHMENTS_PER_MESSAGE", rules.per_message == 0),
            ("ATTACHMENTS_UPLOAD_TTL_SECONDS", rules.upload_ttl.is_zero()),
            ("ATTACHMENTS_DOWNLOAD_TTL_SECONDS", rules.download_ttl.is_zero()),
        ] {
            if zero {
                return Err(ConfigError::invalid(key, "must be more than 0"));
            }
        }
        Ok(rules)
    }

    /// Whether `content_type` is allowed.
    pub fn allows(&self, content_type: &str) -> bool {
        self.types.iter().any(|t| t.eq_ignore_ascii_case(content_type))
    }

    /// Checks what a member declares before they get an upload form; answers the name as it is kept
    /// (path, control characters and surrounding spaces removed).
    ///
    /// # Errors
    /// [`Refused`], saying why in words for the member.
    pub fn check_declared(&self, name: &str, content_type: &str, size: u64) -> Result<String, Refused> {
        if size > self.max_bytes {
            return Err(Refused::TooLarge { size, limit: self.max_bytes });
        }
        if size == 0 {
            return Err(Refused::Empty);
        }
        if !self.allows(content_type) {
            return Err(Refused::Type(content_type.to_owned(), self.types.join(", ")));
        }
        clean_name(name).ok_or(Refused::Name)
    }
}

/// A file name as kept: its last path segment, without control characters, trimmed; `None` if that
/// leaves nothing or more than [`MAX_NAME_CHARS`].
pub fn clean_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty() && cleaned.chars().count() <= MAX_NAME_CHARS && cleaned != "." && cleaned != "..")
        .then(|| cleaned.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_files_are_checked_with_reasons() {
        let rules = AttachmentRules::default();
        assert_eq!(rules.check_declared("C:\\photos\\bike.jpg", "image/jpeg", 10), Ok("bike.jpg".into()));
        assert_eq!(rules.check_declared("../x\u{0}.png", "image/png", 1), Ok("x.png".into()));
        assert!(matches!(
            rules.check_declared("a.jpg", "image/jpeg", rules.max_bytes + 1),
            Err(Refused::TooLarge { .. })
        ));
        assert_eq!(rules.check_declared("a.jpg", "image/jpeg", 0), Err(Refused::Empty));
        assert!(matches!(
            rules.check_declared("a.exe", "application/x-msdownload", 5),
            Err(Refused::Type(..))
        ));
        assert_eq!(rules.check_declared("  ", "image/jpeg", 5), Err(Refused::Name));
        assert_eq!(rules.check_declared(&"n".repeat(201), "image/jpeg", 5), Err(Refused::Name));
    }

    #[test]
    fn rules_are_read_and_unknown_types_refused() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned())
        };
        let rules =
            AttachmentRules::from_lookup(&env(&[("ATTACHMENTS_TYPES", "image/PNG, application/pdf")]))
                .expect("valid");
        assert_eq!(rules.types, ["image/png", "application/pdf"]);
        assert!(AttachmentRules::from_lookup(&env(&[("ATTACHMENTS_TYPES", "image/heic")])).is_err());
        assert!(AttachmentRules::from_lookup(&env(&[("ATTACHMENTS_MAX_BYTES", "0")])).is_err());
    }
}
