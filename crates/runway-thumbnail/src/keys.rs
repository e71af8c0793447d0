//! Object-key layout of media, shared by the API, the worker and the Lambda.
//!
//! - `uploads/<user>/<visibility>/<media>`: the upload as received, never
//!   served, deleted once its result is recorded (the S3 lifecycle rule
//!   expires leftovers). The visibility is in the key so that the thumbnail
//!   Lambda, which has no database, knows where the files go. Uploads of
//!   earlier versions, `uploads/<user>/<media>`, are private.
//! - `private/<user>/<media>/<name>-<hash>.<ext>`: the processed original
//!   and each variant of private media, served only through expiring signed
//!   URLs.
//! - `public/<user>/<media>/<name>-<hash>.<ext>`: the same for public media,
//!   served at stable URLs.
//!
//! `<hash>` is a SHA-256 prefix of the file's bytes: content addressed, so
//! every file is immutable and cacheable for a year, and a job that runs
//! twice writes the same keys.

use runway_core::domain::{UserId, Visibility};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Prefix of every staged upload.
pub const UPLOADS: &str = "uploads/";

/// One staged upload, identified by its key alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub key: String,
    pub user_id: UserId,
    pub media_id: Uuid,
    pub visibility: Visibility,
}

impl Upload {
    pub fn new(user_id: UserId, visibility: Visibility, media_id: Uuid) -> Upload {
        Upload {
            key: format!("{UPLOADS}{user_id}/{}/{media_id}", visibility.as_str()),
            user_id,
            media_id,
            visibility,
        }
    }

    /// Parse an upload key (either layout). `None` for anything else.
    pub fn parse(key: &str) -> Option<Upload> {
        let rest = key.strip_prefix(UPLOADS)?;
        let parts: Vec<&str> = rest.split('/').collect();
        let (user, visibility, media) = match parts.as_slice() {
            [user, media] => (*user, Visibility::Private, *media),
            [user, visibility, media] => (*user, Visibility::parse(visibility)?, *media),
            _ => return None,
        };
        Some(Upload {
            key: key.to_string(),
            user_id: UserId::parse(user).ok()?,
            media_id: Uuid::parse_str(media).ok()?,
            visibility,
        })
    }

    /// Where this upload's processed files go.
    pub fn files_prefix(&self) -> String {
        files_prefix(self.visibility, self.user_id, self.media_id)
    }
}

/// Where the processed files of one media item live.
pub fn files_prefix(visibility: Visibility, user: UserId, media: Uuid) -> String {
    format!("{}/{user}/{media}/", visibility.as_str())
}

/// Every prefix holding an account's objects (account deletion).
pub fn account_prefixes(user: UserId) -> [String; 4] {
    [
        format!("{UPLOADS}{user}/"),
        format!("private/{user}/"),
        format!("public/{user}/"),
        // Layout of earlier versions.
        format!("users/{user}/"),
    ]
}

/// The content-addressed key of one processed file.
pub fn file_key(prefix: &str, name: &str, bytes: &[u8], content_type: &str) -> String {
    let hash = hex::encode(&Sha256::digest(bytes)[..8]);
    format!(
        "{prefix}{name}-{hash}.{}",
        runway_media::file_extension(content_type)
    )
}

/// Parse `<visibility>/<user>/<media>/<file>` (a processed file's key).
pub fn parse_file_key(key: &str) -> Option<(Visibility, UserId, Uuid)> {
    let mut parts = key.split('/');
    let visibility = match parts.next()? {
        "private" => Visibility::Private,
        "public" => Visibility::Public,
        _ => return None,
    };
    let user = UserId::parse(parts.next()?).ok()?;
    let media = Uuid::parse_str(parts.next()?).ok()?;
    let file = parts.next()?;
    if file.is_empty() || parts.next().is_some() {
        return None;
    }
    Some((visibility, user, media))
}

/// The content hash in a processed file's key (its strong ETag).
pub fn etag_of_key(key: &str) -> Option<String> {
    let file = key.rsplit('/').next()?;
    let stem = file.split('.').next()?;
    let hash = stem.rsplit('-').next()?;
    (hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("\"{hash}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_round_trip() {
        let user = UserId::new();
        let media = Uuid::now_v7();
        let prefix = files_prefix(Visibility::Private, user, media);
        let key = file_key(&prefix, "thumb", b"abc", "image/webp");
        assert!(key.ends_with(".webp"));
        assert_eq!(
            parse_file_key(&key),
            Some((Visibility::Private, user, media))
        );
        assert_eq!(etag_of_key(&key).unwrap().len(), 18);
        // Same bytes, same key; other bytes, another key.
        assert_eq!(key, file_key(&prefix, "thumb", b"abc", "image/webp"));
        assert_ne!(key, file_key(&prefix, "thumb", b"abd", "image/webp"));
        assert!(runway_blob::validate_key(&key).is_ok());
        assert!(parse_file_key(&Upload::new(user, Visibility::Private, media).key).is_none());
        assert!(parse_file_key(&format!("{prefix}a/b")).is_none());
        assert!(parse_file_key("private/x/y/z").is_none());
    }

    #[test]
    fn upload_keys_round_trip_in_both_layouts() {
        let user = UserId::new();
        let media = Uuid::now_v7();
        for visibility in [Visibility::Private, Visibility::Public] {
            let upload = Upload::new(user, visibility, media);
            runway_blob::validate_key(&upload.key).unwrap();
            assert_eq!(Upload::parse(&upload.key), Some(upload.clone()));
            assert_eq!(
                upload.files_prefix(),
                format!("{}/{user}/{media}/", visibility.as_str())
            );
        }
        let legacy = Upload::parse(&format!("uploads/{user}/{media}")).unwrap();
        assert_eq!(legacy.visibility, Visibility::Private);
        assert_eq!(legacy.media_id, media);
        for bad in [
            format!("uploads/{user}/secret/{media}"),
            format!("uploads/{user}/private/{media}/x"),
            format!("uploads/not-a-user/{media}"),
            format!("private/{user}/{media}"),
            "uploads/".to_string(),
        ] {
            assert_eq!(Upload::parse(&bad), None, "{bad}");
        }
    }
}
