//! What the upload queue carries: S3 event notifications, one JSON document per SQS message, naming the
//! objects created under `uploads/`.
//!
//! Read with a type of our own that takes only what the processor needs (each record's event name and
//! object key): `aws_lambda_events`' `S3Event` requires fields (`userIdentity`, `requestParameters`, a
//! zoned `eventTime`) that moto's notifications lack, and the local runs read moto's.
//!
//! Keys arrive URL-encoded, a space as `+` (`uploads/1/my+photo.jpg`); [`parse`] decodes them. S3's
//! `s3:TestEvent`, sent once when the notification is configured, names no object.

use serde::Deserialize;

/// One queue message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// S3's test message when the notification is set up: nothing to do.
    Test,
    /// The keys of objects created, decoded (other events are left out).
    Created(Vec<String>),
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "Records")]
    records: Option<Vec<Record>>,
    #[serde(rename = "Event")]
    event: Option<String>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: Entity,
}

#[derive(Deserialize)]
struct Entity {
    object: Object,
}

#[derive(Deserialize)]
struct Object {
    key: String,
}

/// The notification in a queue message's body.
///
/// # Errors
/// The JSON error for a body that is neither an S3 event notification nor S3's test message.
pub fn parse(body: &str) -> Result<Notification, serde_json::Error> {
    let body: Body = serde_json::from_str(body)?;
    match (body.records, body.event.as_deref()) {
        (Some(records), _) => Ok(Notification::Created(
            records
                .into_iter()
                .filter(|r| r.event_name.starts_with("ObjectCreated:"))
                .map(|r| decode_key(&r.s3.object.key))
                .collect(),
        )),
        (None, Some("s3:TestEvent")) => Ok(Notification::Test),
        (None, _) => Err(serde::de::Error::missing_field("Records")),
    }
}

/// An S3 event's key as stored: `+` is a space, `%XX` a byte.
pub fn decode_key(encoded: &str) -> String {
    let spaced = encoded.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// S3's own example, as AWS documents it (`aws_lambda_events`' fixture).
    const AWS: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
        "eventTime":"2026-12-07T15:00:00.123Z","eventName":"ObjectCreated:Post",
        "userIdentity":{"principalId":"EXAMPLE"},"requestParameters":{"sourceIPAddress":"127.0.0.1"},
        "responseElements":{"x-amz-request-id":"C3D13FE58DE4C810","x-amz-id-2":"FMyUVURIY8/IgAtTv8xRjsk"},
        "s3":{"s3SchemaVersion":"1.0","configurationId":"uploads","bucket":{"name":"chat-files",
        "ownerIdentity":{"principalId":"EXAMPLE"},"arn":"arn:aws:s3:::chat-files"},
        "object":{"key":"uploads/7/att_0123456789abcdef0123456789abcdef","size":1024,
        "eTag":"d41d8cd98f00b204e9800998ecf8427e","sequencer":"0055AED6DCD90281E5"}}}]}"#;

    /// moto's: no userIdentity or requestParameters, an eventTime without a zone.
    const MOTO: &str = r#"{"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-12-07T15:00:00.123456", "eventName": "ObjectCreated:Post", "s3": {"s3SchemaVersion": "1.0",
        "configurationId": "uploads", "bucket": {"name": "chat-files", "arn": "arn:aws:s3:::chat-files"},
        "object": {"key": "uploads/7/my+photo%C3%A9.jpg", "size": 3, "eTag": "x"}}}]}"#;

    #[test]
    fn aws_and_moto_notifications_name_their_keys_decoded() {
        assert_eq!(
            parse(AWS).expect("AWS's"),
            Notification::Created(vec!["uploads/7/att_0123456789abcdef0123456789abcdef".into()])
        );
        assert_eq!(
            parse(MOTO).expect("moto's"),
            Notification::Created(vec!["uploads/7/my photoé.jpg".into()])
        );
    }

    #[test]
    fn the_test_event_and_other_events_need_nothing_and_junk_is_an_error() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-07T15:00:00.000Z",
            "Bucket":"chat-files","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}"#;
        assert_eq!(parse(test).expect("a test"), Notification::Test);
        let removed = AWS.replace("ObjectCreated:Post", "ObjectRemoved:Delete");
        assert_eq!(parse(&removed).expect("parses"), Notification::Created(vec![]));
        assert!(parse(r#"{"hello": 1}"#).is_err());
        assert!(parse("not json").is_err());
    }

    #[test]
    fn a_real_sqs_batch_of_s3_notifications_deserialises_with_the_lambda_types() {
        let sqs = serde_json::json!({"Records": [{
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
            "body": AWS, "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
            "messageAttributes": {}, "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:chat-media-uploads", "awsRegion": "us-east-1"}]});
        let event: aws_lambda_events::event::sqs::SqsEvent =
            serde_json::from_value(sqs).expect("an SQS event");
        let body = event.records[0].body.as_deref().expect("a body");
        assert!(matches!(parse(body), Ok(Notification::Created(keys)) if keys.len() == 1));
    }
}
