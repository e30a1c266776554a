//! The object keys of a booking's files: one layout, so that the backend, the media processor, the S3
//! notification's prefix filter and the lifecycle rules agree.
//!
//! | object | key |
//! |---|---|
//! | an upload, as the browser sent it | `uploads/{booking}/{attachment}` |
//! | the processed file | `files/{booking}/{attachment}/original` |
//! | its thumbnail | `files/{booking}/{attachment}/thumbnail` |

/// The prefix S3's upload notification and the uploads' lifecycle rule filter on.
pub const UPLOADS_PREFIX: &str = "uploads/";

/// Where an attachment's upload lands.
pub fn upload(booking_id: i64, attachment_id: &str) -> String {
    format!("{UPLOADS_PREFIX}{booking_id}/{attachment_id}")
}

/// The processed file.
pub fn original(booking_id: i64, attachment_id: &str) -> String {
    format!("files/{booking_id}/{attachment_id}/original")
}

/// The thumbnail of a processed image.
pub fn thumbnail(booking_id: i64, attachment_id: &str) -> String {
    format!("files/{booking_id}/{attachment_id}/thumbnail")
}

/// The booking and attachment of an upload's key; `None` for any other key.
pub fn parse_upload(key: &str) -> Option<(i64, String)> {
    let rest = key.strip_prefix(UPLOADS_PREFIX)?;
    let (booking, attachment) = rest.split_once('/')?;
    let booking: i64 = booking.parse().ok().filter(|b| *b > 0)?;
    is_attachment_id(attachment).then(|| (booking, attachment.to_owned()))
}

/// Whether `id` has the shape of an attachment id: `att_` and 32 lowercase hex digits.
pub fn is_attachment_id(id: &str) -> bool {
    id.strip_prefix("att_").is_some_and(|hex| {
        hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Whether `key` is one this layout makes (so a disk path built from it stays in its directory).
pub fn is_known(key: &str) -> bool {
    if parse_upload(key).is_some() {
        return true;
    }
    let mut parts = key.split('/');
    matches!(
        (parts.next(), parts.next().map(str::parse::<i64>), parts.next(), parts.next(), parts.next()),
        (Some("files"), Some(Ok(b)), Some(id), Some("original" | "thumbnail"), None) if b > 0 && is_attachment_id(id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "att_0123456789abcdef0123456789abcdef";

    #[test]
    fn keys_round_trip_and_nothing_else_parses() {
        assert_eq!(parse_upload(&upload(7, ID)), Some((7, ID.to_owned())));
        assert!(is_known(&original(7, ID)) && is_known(&thumbnail(7, ID)) && is_known(&upload(7, ID)));
        for bad in [
            "uploads/7/../../etc/passwd",
            "uploads/0/att_0123456789abcdef0123456789abcdef",
            "uploads/7/att_0123",
            "files/7/att_0123456789abcdef0123456789abcdef/other",
            "files/7/att_0123456789abcdef0123456789abcdef/original/x",
            "uploads/7/ATT_0123456789ABCDEF0123456789ABCDEF",
        ] {
            assert!(!is_known(bad), "{bad}");
        }
    }
}
