//! S3 (a private bucket) through the AWS SDK.
//!
//! Credentials, region and endpoint come only from the SDK's default chain
//! (IRSA/web identity, instance profile, environment, `AWS_ENDPOINT_URL`),
//! never from runway's configuration. With a custom endpoint (moto, MinIO)
//! path-style addressing is used.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use bytes::Bytes;

use crate::{
    Blob, BlobError, BlobStore, ObjectMeta, PresignedRequest, validate_key, validate_prefix,
};

pub struct S3BlobStore {
    client: Client,
    bucket: String,
    /// Key prefix inside the bucket, empty or ending in `/`.
    prefix: String,
}

fn backend(e: impl std::fmt::Display) -> BlobError {
    BlobError::Backend(e.to_string())
}

/// The SDK's error with its context chain (service code and message), no
/// credentials or signed URLs.
fn sdk_error<E, R>(op: &str, e: aws_sdk_s3::error::SdkError<E, R>) -> BlobError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    BlobError::Backend(format!(
        "s3 {op}: {}",
        aws_sdk_s3::error::DisplayErrorContext(&e)
    ))
}

/// A key prefix as stored: empty, or without leading `/` and ending in one.
pub(crate) fn normalize_prefix(prefix: &str) -> String {
    let prefix = prefix.trim_matches('/');
    if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    }
}

impl S3BlobStore {
    /// Build a client from the default AWS configuration chain.
    pub async fn from_env(bucket: &str, prefix: &str) -> Result<Self, BlobError> {
        let shared = aws_config::load_from_env().await;
        let custom_endpoint = std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(custom_endpoint)
            .build();
        Ok(Self::new(Client::from_conf(config), bucket, prefix))
    }

    pub fn new(client: Client, bucket: &str, prefix: &str) -> Self {
        S3BlobStore {
            client,
            bucket: bucket.to_string(),
            prefix: normalize_prefix(prefix),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn presigned(req: aws_sdk_s3::presigning::PresignedRequest, ttl: Duration) -> PresignedRequest {
    PresignedRequest {
        method: req.method().to_string(),
        url: req.uri().to_string(),
        headers: req
            .headers()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect(),
        expires_at: SystemTime::now() + ttl,
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        cache_control: Option<&str>,
    ) -> Result<(), BlobError> {
        validate_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .body(ByteStream::from(bytes))
            .content_type(content_type)
            .set_cache_control(cache_control.map(str::to_string))
            .send()
            .await
            .map_err(|e| sdk_error("PutObject", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, BlobError> {
        validate_key(key)?;
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(sdk_error("GetObject", e)),
        };
        let content_type = out.content_type().map(str::to_string);
        let cache_control = out.cache_control().map(str::to_string);
        let bytes = out.body.collect().await.map_err(backend)?.into_bytes();
        Ok(Some(Blob {
            meta: ObjectMeta {
                content_type,
                cache_control,
                size: bytes.len() as u64,
            },
            bytes,
        }))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, BlobError> {
        validate_key(key)?;
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .send()
            .await
        {
            Ok(o) => Ok(Some(ObjectMeta {
                content_type: o.content_type().map(str::to_string),
                cache_control: o.cache_control().map(str::to_string),
                size: o.content_length().unwrap_or_default().max(0) as u64,
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(sdk_error("HeadObject", e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteObject", e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        validate_prefix(prefix)?;
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(self.full(prefix))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("ListObjectsV2", e))?;
            for obj in page.contents() {
                if let Some(k) = obj.key().and_then(|k| k.strip_prefix(&self.prefix)) {
                    keys.push(k.to_string());
                }
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, BlobError> {
        let keys = self.list(prefix).await?;
        for chunk in keys.chunks(1000) {
            let objects = chunk
                .iter()
                .map(|k| {
                    ObjectIdentifier::builder()
                        .key(self.full(k))
                        .build()
                        .map_err(backend)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()
                        .map_err(backend)?,
                )
                .send()
                .await
                .map_err(|e| sdk_error("DeleteObjects", e))?;
            if let Some(err) = out.errors().first() {
                return Err(BlobError::Backend(format!(
                    "s3 DeleteObjects: {} {}",
                    err.code().unwrap_or_default(),
                    err.message().unwrap_or_default()
                )));
            }
        }
        Ok(keys.len() as u64)
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        ttl: Duration,
    ) -> Result<PresignedRequest, BlobError> {
        validate_key(key)?;
        let config = PresigningConfig::expires_in(ttl).map_err(backend)?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .content_type(content_type)
            .content_length(content_length as i64)
            .presigned(config)
            .await
            .map_err(|e| sdk_error("presign PutObject", e))?;
        Ok(presigned(req, ttl))
    }

    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<PresignedRequest, BlobError> {
        validate_key(key)?;
        let config = PresigningConfig::expires_in(ttl).map_err(backend)?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .presigned(config)
            .await
            .map_err(|e| sdk_error("presign GetObject", e))?;
        Ok(presigned(req, ttl))
    }

    fn kind(&self) -> &'static str {
        "s3"
    }
}
