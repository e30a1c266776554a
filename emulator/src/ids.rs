//! Identifiers and timestamps in API Gateway's formats.

use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// An id shaped like API Gateway's connection, request and message ids: 15 characters and `=`
/// (`Vx2pYdWsliACFtw=`). Code that assumes a UUID or a number breaks here as it would on AWS.
pub fn api_gateway_id() -> String {
    let mut id: String = (0..15).map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())])).collect();
    id.push('=');
    id
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `requestTime` as API Gateway writes it: `22/Nov/2026:05:30:00 +0000`.
pub fn request_time(epoch_ms: i64) -> String {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (year, month, day, hour, minute, second) = civil(epoch_ms);
    format!("{day:02}/{}/{year}:{hour:02}:{minute:02}:{second:02} +0000", MONTHS[(month - 1) as usize])
}

/// ISO 8601 in UTC with milliseconds, as the Management API's `GetConnection` answers.
pub fn iso8601(epoch_ms: i64) -> String {
    let (year, month, day, hour, minute, second) = civil(epoch_ms);
    format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{:03}Z",
        epoch_ms.rem_euclid(1000)
    )
}

/// (year, month, day, hour, minute, second) in UTC; Howard Hinnant's days-to-civil algorithm.
fn civil(epoch_ms: i64) -> (i64, u32, u32, u32, u32, u32) {
    let seconds = epoch_ms.div_euclid(1000);
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, (rest / 3600) as u32, (rest % 3600 / 60) as u32, (rest % 60) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_api_gateways_shape() {
        for _ in 0..100 {
            let id = api_gateway_id();
            assert_eq!(id.len(), 16);
            assert!(id.ends_with('='));
            assert!(id[..15].bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        assert_ne!(api_gateway_id(), api_gateway_id());
    }

    #[test]
    fn timestamps_are_formatted_like_api_gateway() {
        // 2026-11-22T05:30:00.123Z
        let ms = 1_795_325_400_123;
        assert_eq!(request_time(ms), "22/Nov/2026:05:30:00 +0000");
        assert_eq!(iso8601(ms), "2026-11-22T05:30:00.123Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
