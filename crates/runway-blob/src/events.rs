//! S3 event notifications, as they arrive on an SQS queue: directly from S3,
//! or wrapped in an SNS envelope (S3 → SNS → SQS). Direct uploads and the
//! thumbnail Lambda both start from these.
//!
//! - The first message after configuring notifications is an
//!   `s3:TestEvent` with no `Records`: [`S3Notification::Test`].
//! - Object keys arrive URL-encoded with `+` for spaces; they are decoded.
//! - Events other than `ObjectCreated:*` are returned as `Ignored`.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    pub bucket: String,
    /// Decoded key.
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    /// Orders events for the same key (hex, compare after padding).
    pub sequencer: Option<String>,
    /// e.g. `ObjectCreated:Put`.
    pub event_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum S3Notification {
    /// `s3:TestEvent`: S3 checking it can deliver; nothing to do.
    Test,
    Created(Vec<ObjectCreated>),
    /// Other S3 events (deletes, restores…), named.
    Ignored(Vec<String>),
}

#[derive(Debug, thiserror::Error)]
#[error("not an S3 event notification: {0}")]
pub struct EventError(String);

#[derive(Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Message")]
    message: String,
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "Event")]
    event: Option<String>,
    #[serde(rename = "Records")]
    records: Option<Vec<Record>>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "eventName")]
    event_name: String,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
struct Object {
    key: String,
    #[serde(default)]
    size: u64,
    #[serde(rename = "eTag")]
    etag: Option<String>,
    sequencer: Option<String>,
}

/// Decode an S3 event key: `+` is a space, then percent-decoding.
pub fn decode_key(raw: &str) -> Result<String, EventError> {
    let spaced = raw.replace('+', " ");
    percent_decode(&spaced).ok_or_else(|| EventError(format!("undecodable key {raw:?}")))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Parse an SQS message body carrying an S3 notification.
pub fn parse_notification(body: &str) -> Result<S3Notification, EventError> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| EventError(e.to_string()))?;
    if value.get("Type").and_then(|t| t.as_str()) == Some("Notification") {
        let env: SnsEnvelope =
            serde_json::from_value(value).map_err(|e| EventError(e.to_string()))?;
        debug_assert_eq!(env.kind, "Notification");
        return parse_notification(&env.message);
    }
    let body: Body = serde_json::from_value(value).map_err(|e| EventError(e.to_string()))?;
    if body.event.as_deref() == Some("s3:TestEvent") {
        return Ok(S3Notification::Test);
    }
    let Some(records) = body.records else {
        return Err(EventError("no Records".into()));
    };
    let mut created = Vec::new();
    let mut ignored = Vec::new();
    for r in records {
        if r.event_name.starts_with("ObjectCreated:") {
            created.push(ObjectCreated {
                bucket: r.s3.bucket.name,
                key: decode_key(&r.s3.object.key)?,
                size: r.s3.object.size,
                etag: r.s3.object.etag,
                sequencer: r.s3.object.sequencer,
                event_name: r.event_name,
            });
        } else {
            ignored.push(r.event_name);
        }
    }
    if created.is_empty() {
        Ok(S3Notification::Ignored(ignored))
    } else {
        Ok(S3Notification::Created(created))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUT: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
      "eventTime":"2026-12-01T12:00:00.000Z","eventName":"ObjectCreated:Put",
      "s3":{"s3SchemaVersion":"1.0","configurationId":"uploads",
        "bucket":{"name":"runway-media","arn":"arn:aws:s3:::runway-media"},
        "object":{"key":"uploads/u1/My+Photo%282%29.heic","size":3742168,"eTag":"abc123","sequencer":"0055AED6DCD90281E5"}}}]}"#;

    #[test]
    fn object_created_with_encoded_key() {
        let S3Notification::Created(objs) = parse_notification(PUT).unwrap() else {
            panic!()
        };
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].bucket, "runway-media");
        assert_eq!(objs[0].key, "uploads/u1/My Photo(2).heic");
        assert_eq!(objs[0].size, 3742168);
        assert_eq!(objs[0].event_name, "ObjectCreated:Put");
    }

    #[test]
    fn test_event_and_sns_envelope() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-01T12:00:00.000Z","Bucket":"runway-media","RequestId":"X","HostId":"Y"}"#;
        assert_eq!(parse_notification(test).unwrap(), S3Notification::Test);
        let wrapped = serde_json::json!({
            "Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t",
            "Message": PUT, "Timestamp": "2026-12-01T12:00:00.000Z"
        })
        .to_string();
        assert!(matches!(
            parse_notification(&wrapped).unwrap(),
            S3Notification::Created(_)
        ));
    }

    #[test]
    fn other_events_and_garbage() {
        let del = PUT.replace("ObjectCreated:Put", "ObjectRemoved:Delete");
        assert_eq!(
            parse_notification(&del).unwrap(),
            S3Notification::Ignored(vec!["ObjectRemoved:Delete".into()])
        );
        assert!(parse_notification("not json").is_err());
        assert!(parse_notification("{}").is_err());
        assert!(decode_key("bad%zz").is_err());
        assert_eq!(decode_key("a%2Bb+c").unwrap(), "a+b c");
    }
}
