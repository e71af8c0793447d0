//! The result of one run, as the Lambda sends it on the results queue and
//! as the worker applies it (JSON, `"status": "ready" | "failed"`).

use std::collections::BTreeMap;

use runway_core::domain::UserId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::keys::Upload;

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Ready {
        /// The sniffed type of the upload.
        content_type: String,
        width: u32,
        height: u32,
        thumbhash: String,
        dominant_color: String,
        original: File,
        variants: BTreeMap<String, File>,
    },
    /// The pipeline refused the upload (or it was gone): final, not retried.
    Failed { code: String, detail: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub media_id: Uuid,
    pub user_id: UserId,
    /// The upload this run read; the recorder deletes it.
    pub upload_key: String,
    /// Its size in bytes (0 if it was missing).
    pub upload_bytes: u64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Report {
    pub fn failed(upload: &Upload, upload_bytes: u64, code: &str, detail: &str) -> Report {
        Report {
            media_id: upload.media_id,
            user_id: upload.user_id,
            upload_key: upload.key.clone(),
            upload_bytes,
            outcome: Outcome::Failed {
                code: code.to_string(),
                detail: detail.to_string(),
            },
        }
    }

    /// Every file this report names (to remove them if the media is gone).
    pub fn files(&self) -> Vec<&File> {
        match &self.outcome {
            Outcome::Ready {
                original, variants, ..
            } => std::iter::once(original).chain(variants.values()).collect(),
            Outcome::Failed { .. } => Vec::new(),
        }
    }

    /// Whether every file lies where `upload`'s files belong: the recorder
    /// never trusts a report to point at someone else's objects.
    pub fn files_belong_to(&self, upload: &Upload) -> bool {
        let prefix = upload.files_prefix();
        self.files().iter().all(|f| {
            f.key
                .strip_prefix(&prefix)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runway_core::domain::Visibility;

    #[test]
    fn reports_round_trip_as_json() {
        let upload = Upload::new(UserId::new(), Visibility::Public, Uuid::now_v7());
        let failed = Report::failed(&upload, 12, "unsupported_type", "not an image");
        let json = serde_json::to_value(&failed).unwrap();
        assert_eq!(json["status"], "failed");
        assert_eq!(json["code"], "unsupported_type");
        assert_eq!(json["upload_key"], upload.key.as_str());
        let back: Report = serde_json::from_value(json).unwrap();
        assert_eq!(back, failed);
        assert!(back.files_belong_to(&upload));

        let file = |key: String| File {
            key,
            width: 1,
            height: 1,
            content_type: "image/webp".into(),
            bytes: 3,
        };
        let prefix = upload.files_prefix();
        let mut ready = Report {
            outcome: Outcome::Ready {
                content_type: "image/jpeg".into(),
                width: 1,
                height: 1,
                thumbhash: "AAAA".into(),
                dominant_color: "#000000".into(),
                original: file(format!("{prefix}original-0011223344556677.jpg")),
                variants: BTreeMap::from([(
                    "thumb".to_string(),
                    file(format!("{prefix}thumb-0011223344556677.webp")),
                )]),
            },
            ..failed
        };
        let text = serde_json::to_string(&ready).unwrap();
        assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), ready);
        assert!(ready.files_belong_to(&upload));
        assert_eq!(ready.files().len(), 2);
        // A file outside the media's own prefix is refused.
        if let Outcome::Ready { variants, .. } = &mut ready.outcome {
            variants.insert(
                "x".into(),
                file(format!(
                    "private/{}/{}/x.webp",
                    upload.user_id, upload.media_id
                )),
            );
        }
        assert!(!ready.files_belong_to(&upload));
    }
}
