//! Configuration: defaults, then an optional TOML file, then `RUNWAY_*`
//! environment variables (nested with `__`), then command-line flags.
//!
//! Any key may also be read from a file by setting `RUNWAY_<KEY>_FILE`, which
//! is how Kubernetes secrets are mounted. Unknown `RUNWAY_*` variables are
//! reported as warnings; invalid values are errors that name the key.
//!
//! `docs/configuration.md` documents every key; a test keeps the two in step.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::{Figment, Profile};
use serde::{Deserialize, Serialize};

use crate::Secret;

/// Environment variable prefix for every key.
pub const ENV_PREFIX: &str = "RUNWAY_";
/// The variable naming the TOML file (also `--config`).
pub const CONFIG_FILE_ENV: &str = "RUNWAY_CONFIG";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Directory holding the embedded database, blobs and generated keys.
    pub data_dir: PathBuf,
    /// Where `runway worker` serves /healthz, /readyz and /metrics. Unset: no HTTP.
    pub worker_listen: Option<SocketAddr>,
    /// Database URL. Empty means the embedded SQLite file `<data_dir>/runway.db`.
    pub database_url: Option<Secret>,
    /// Largest number of pooled database connections per process.
    pub database_max_connections: u32,
    /// Cache URL: empty for the in-process cache, or `redis://` / `rediss://`.
    pub cache_url: Option<Secret>,
    /// Object storage: empty for `<data_dir>/blobs`, `file://DIR` or `s3://BUCKET/PREFIX`.
    pub storage_url: String,
    /// Job queue: `db` (a table in the database) or an SQS queue URL.
    pub queue_url: String,
    /// Base URL clients reach this server at (for links it signs itself).
    pub public_url: Option<String>,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// A `tracing` env-filter directive, e.g. `info,runway_server=debug`.
    pub log_filter: String,
    pub http: HttpConfig,
    pub auth: AuthConfig,
    pub rate_limit: RateLimitConfig,
    pub idempotency: IdempotencyConfig,
    pub cache: CacheConfig,
    pub jobs: JobsConfig,
    pub cdn: CdnConfig,
    pub media: MediaConfig,
    pub push: PushConfig,
    pub events: EventsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// How long events are kept for streams that resume with `Last-Event-ID`.
    pub retention_secs: u64,
    /// Lifetime of a stream ticket (`POST /v1/events/tickets`), the
    /// credential browsers put in the EventSource URL.
    pub ticket_ttl_secs: u64,
    /// How often each API process reads new events from the database (the
    /// latency of events written by other processes).
    pub poll_interval_ms: u64,
}

impl Default for EventsConfig {
    fn default() -> Self {
        EventsConfig {
            retention_secs: 600,
            ticket_ttl_secs: 300,
            poll_interval_ms: 250,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// A request that takes longer than this gets 503 `request_timeout`.
    pub request_timeout_secs: u64,
    /// On SIGTERM, how long in-flight requests and running jobs may take to finish.
    pub shutdown_grace_secs: u64,
    /// Origins allowed by CORS (`*` for any). Empty disables CORS.
    pub cors_allowed_origins: Vec<String>,
    /// Take the client address from the last `X-Forwarded-For` hop (behind an ALB).
    pub trust_forwarded_for: bool,
    /// Send `Strict-Transport-Security` (enable when served over HTTPS).
    pub hsts: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `iss` claim of access tokens.
    pub issuer: String,
    /// `aud` claim of access tokens.
    pub audience: String,
    /// Access-token lifetime in seconds.
    pub access_token_ttl_secs: u64,
    /// Refresh-token lifetime in seconds.
    pub refresh_token_ttl_secs: u64,
    /// HS256 signing key (at least 32 bytes). Empty: generated once and kept in `<data_dir>/jwt-secret`.
    pub jwt_secret: Option<Secret>,
    /// Shortest accepted password, in characters.
    pub password_min_length: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests per minute to `/v1/auth/*` from one client address.
    pub auth_per_ip_per_minute: u64,
    /// Login and registration attempts per minute for one email address.
    pub auth_per_account_per_minute: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdempotencyConfig {
    /// How long a stored response is replayed for the same `Idempotency-Key`.
    pub ttl_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Entries kept by the in-process cache before the least used are evicted.
    pub max_entries: u64,
    /// Prefix of every Redis key, so several deployments can share a Redis.
    pub key_prefix: String,
    /// Bound on one Redis operation; slower calls count as a cache outage.
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CdnConfig {
    /// CloudFront base URL for media, e.g. `https://media.example.com`. Empty: presigned storage URLs.
    pub base_url: Option<String>,
    /// Id of the CloudFront public key (in a key group) used to sign URLs.
    pub key_pair_id: Option<String>,
    /// PEM RSA private key matching `key_pair_id`. Set it to sign URLs (private media).
    pub private_key: Option<Secret>,
    /// Lifetime of signed media URLs.
    pub url_ttl_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Largest accepted upload in bytes, on both upload paths.
    pub max_upload_bytes: u64,
    /// Largest accepted image, width × height.
    pub max_pixels: u64,
    /// Longest accepted side, in pixels.
    pub max_side: u32,
    /// Most animation frames accepted (variants use the first).
    pub max_frames: u32,
    /// Keep EXIF/XMP (including GPS) in the stored original. Variants never keep it.
    pub keep_original_metadata: bool,
    /// Bytes of originals one account may store; 0 for no limit.
    pub quota_bytes_per_user: u64,
    /// Encoding of the `thumb`, `small` and `large` variants: `webp` or `jpeg`.
    pub variant_format: String,
    /// Quality of the variants, 1 to 100.
    pub variant_quality: u8,
    /// Extra sizes rendered on demand (`WIDTHxHEIGHT`, fit within); any other size is refused.
    pub on_demand_sizes: Vec<String>,
    /// Lifetime of a direct-upload URL.
    pub upload_url_ttl_secs: u64,
    /// Longest `?wait=` a client may ask for on upload and complete.
    pub max_wait_secs: u64,
    /// Images decoded at once by one process; 0 for one per CPU core.
    pub processing_concurrency: usize,
    /// Who turns uploads into variants: `worker` (runway's job queue) or
    /// `lambda` (the thumbnail Lambda, triggered by S3; needs s3:// storage
    /// and `media.results_queue_url`).
    pub processor: String,
    /// SQS queue URL the thumbnail Lambda reports results on; runway's
    /// worker consumes it when `media.processor` is `lambda`.
    pub results_queue_url: String,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            max_upload_bytes: 50 * 1024 * 1024,
            max_pixels: 50_000_000,
            max_side: 20_000,
            max_frames: 1000,
            keep_original_metadata: false,
            quota_bytes_per_user: 1024 * 1024 * 1024,
            variant_format: "webp".into(),
            variant_quality: 80,
            on_demand_sizes: vec!["320x320".into(), "1080x1080".into()],
            upload_url_ttl_secs: 900,
            max_wait_secs: 15,
            processing_concurrency: 0,
            processor: "worker".into(),
            results_queue_url: String::new(),
        }
    }
}

impl MediaConfig {
    /// `on_demand_sizes` parsed into (width, height) pairs.
    pub fn on_demand(&self) -> Result<Vec<(u32, u32)>, String> {
        self.on_demand_sizes
            .iter()
            .map(|s| {
                let (w, h) = s
                    .split_once('x')
                    .ok_or_else(|| format!("{s:?} is not WIDTHxHEIGHT"))?;
                let w: u32 = w.parse().map_err(|_| format!("{s:?}: bad width"))?;
                let h: u32 = h.parse().map_err(|_| format!("{s:?}: bad height"))?;
                if w == 0 || h == 0 || w > 8192 || h > 8192 {
                    return Err(format!("{s:?}: sides must be 1 to 8192"));
                }
                Ok((w, h))
            })
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    /// Provider for iOS devices: `apns`, `sns` or `log`. Empty: `apns` when `push.apns_key` is set, else `log`.
    pub ios: String,
    /// Provider for Android devices: `fcm`, `sns` or `log`. Empty: `fcm` when `push.fcm_service_account` is set, else `log`.
    pub android: String,
    /// Provider for browsers: `webpush` or `log`. Empty: `webpush` when `push.vapid_private_key` is set, else `log`.
    pub web: String,
    /// APNs token-auth key (the .p8 file's PEM).
    pub apns_key: Option<Secret>,
    /// Key ID of `apns_key` (the JWT `kid`).
    pub apns_key_id: String,
    /// Apple developer team ID (the JWT `iss`).
    pub apns_team_id: String,
    /// Default `apns-topic`: the app's bundle id. A device's `app_id` overrides it.
    pub apns_topic: String,
    /// APNs production endpoint.
    pub apns_url: String,
    /// APNs sandbox endpoint (devices registered with `environment: sandbox`).
    pub apns_sandbox_url: String,
    /// HTTP/2 connections per APNs endpoint; each multiplexes many streams.
    pub apns_connections: usize,
    /// FCM service-account JSON (as downloaded from the Firebase console).
    pub fcm_service_account: Option<Secret>,
    /// FCM HTTP v1 base URL.
    pub fcm_url: String,
    /// OAuth2 token endpoint; empty: the service account's `token_uri`.
    pub fcm_token_url: String,
    /// SNS platform application ARN for iOS (APNs).
    pub sns_ios_application_arn: String,
    /// SNS platform application ARN for iOS sandbox builds (APNS_SANDBOX).
    pub sns_ios_sandbox_application_arn: String,
    /// SNS platform application ARN for Android (FCM).
    pub sns_android_application_arn: String,
    /// VAPID private key for Web Push (PEM, or the base64url raw P-256 scalar).
    pub vapid_private_key: Option<Secret>,
    /// VAPID `sub`: `mailto:` or `https:` contact of the sender.
    pub vapid_subject: String,
    /// Hosts a Web Push subscription endpoint may point at (the host itself or a subdomain): the browsers' push services.
    pub web_endpoint_hosts: Vec<String>,
    /// Extra CA certificates (PEM file) trusted for provider endpoints, besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Devices one fan-out step reads and one delivery job sends to.
    pub batch_size: u32,
    /// Sends in flight at once within one delivery job.
    pub concurrency: usize,
    /// Attempts per device before the delivery is recorded failed (dead-lettered).
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt, with full jitter.
    pub retry_base_ms: u64,
    /// Longest retry delay (a provider's `Retry-After` may ask for more).
    pub retry_max_secs: u64,
    /// Bound on one request to a provider.
    pub request_timeout_secs: u64,
    /// Tokens not refreshed for this many days age out.
    pub token_ttl_days: u64,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            ios: String::new(),
            android: String::new(),
            web: String::new(),
            apns_key: None,
            apns_key_id: String::new(),
            apns_team_id: String::new(),
            apns_topic: String::new(),
            apns_url: "https://api.push.apple.com".into(),
            apns_sandbox_url: "https://api.sandbox.push.apple.com".into(),
            apns_connections: 1,
            fcm_service_account: None,
            fcm_url: "https://fcm.googleapis.com".into(),
            fcm_token_url: String::new(),
            sns_ios_application_arn: String::new(),
            sns_ios_sandbox_application_arn: String::new(),
            sns_android_application_arn: String::new(),
            vapid_private_key: None,
            vapid_subject: String::new(),
            web_endpoint_hosts: vec![
                "fcm.googleapis.com".into(),
                "updates.push.services.mozilla.com".into(),
                "push.services.mozilla.com".into(),
                "web.push.apple.com".into(),
                "notify.windows.com".into(),
            ],
            ca_file: None,
            batch_size: 500,
            concurrency: 64,
            max_attempts: 5,
            retry_base_ms: 1000,
            retry_max_secs: 3600,
            request_timeout_secs: 15,
            token_ttl_days: 270,
        }
    }
}

impl PushConfig {
    /// The provider serving `platform` (`ios`, `android`, `web`), with the
    /// empty default resolved from which credentials are set.
    pub fn provider_for(&self, platform: &str) -> &str {
        let (chosen, default) = match platform {
            "ios" => (
                &self.ios,
                if self.apns_key.is_some() {
                    "apns"
                } else {
                    "log"
                },
            ),
            "android" => (
                &self.android,
                if self.fcm_service_account.is_some() {
                    "fcm"
                } else {
                    "log"
                },
            ),
            _ => (
                &self.web,
                if self.vapid_private_key.is_some() {
                    "webpush"
                } else {
                    "log"
                },
            ),
        };
        if chosen.is_empty() { default } else { chosen }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Jobs run at once by one worker process.
    pub concurrency: usize,
    /// How often an idle worker polls the queue, in milliseconds.
    pub poll_interval_ms: u64,
    /// Lease (visibility timeout) of a claimed job; renewed while it runs.
    pub lease_secs: u64,
    /// Attempts before a job is dead-lettered.
    pub max_attempts: u32,
    /// First retry delay; doubles each attempt, with jitter.
    pub backoff_base_ms: u64,
    /// Longest retry delay.
    pub backoff_max_secs: u64,
    /// SQS long-poll wait per receive (0 to 20).
    pub sqs_wait_secs: u64,
    /// A job run taking longer fails and is retried.
    pub timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            worker_listen: None,
            database_url: None,
            database_max_connections: 10,
            cache_url: None,
            storage_url: String::new(),
            queue_url: "db".into(),
            public_url: None,
            log_format: LogFormat::Text,
            log_filter: "info".into(),
            http: HttpConfig::default(),
            auth: AuthConfig::default(),
            rate_limit: RateLimitConfig::default(),
            idempotency: IdempotencyConfig::default(),
            events: EventsConfig::default(),
            cache: CacheConfig::default(),
            jobs: JobsConfig::default(),
            cdn: CdnConfig::default(),
            media: MediaConfig::default(),
            push: PushConfig::default(),
        }
    }
}

impl Default for CdnConfig {
    fn default() -> Self {
        CdnConfig {
            base_url: None,
            key_pair_id: None,
            private_key: None,
            url_ttl_secs: 3600,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 20,
            shutdown_grace_secs: 25,
            cors_allowed_origins: Vec::new(),
            trust_forwarded_for: false,
            hsts: false,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            issuer: "runway".into(),
            audience: "runway-api".into(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            jwt_secret: None,
            password_min_length: 10,
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            auth_per_ip_per_minute: 60,
            auth_per_account_per_minute: 10,
        }
    }
}

impl Default for IdempotencyConfig {
    fn default() -> Self {
        IdempotencyConfig {
            ttl_secs: 24 * 3600,
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_entries: 100_000,
            key_prefix: "runway:".into(),
            timeout_ms: 250,
        }
    }
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            concurrency: 4,
            poll_interval_ms: 1000,
            lease_secs: 30,
            max_attempts: 8,
            backoff_base_ms: 1000,
            backoff_max_secs: 3600,
            sqs_wait_secs: 10,
            timeout_secs: 600,
        }
    }
}

/// Values given on the command line; they win over every other source.
#[derive(Debug, Default, Clone)]
pub struct CliOverrides {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration key `{key}` ({env}): {message}")]
    Invalid {
        key: String,
        env: String,
        message: String,
    },
    #[error("configuration: cannot read {var} ({path}): {source}")]
    SecretFile {
        var: String,
        path: String,
        source: std::io::Error,
    },
}

/// The loaded configuration plus warnings worth logging once telemetry is up.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

impl Config {
    /// Load from every source, in order of precedence. Reads the process
    /// environment.
    pub fn load(file: Option<&Path>, cli: &CliOverrides) -> Result<Loaded, ConfigError> {
        let known = known_keys();
        let mut warnings = Vec::new();
        let mut figment = Figment::new();

        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::Load(format!(
                    "config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }

        let known_env = known.clone();
        figment = figment.merge(
            Env::raw()
                .filter_map(move |raw| {
                    let key = env_to_key(raw.as_str())?;
                    known_env.contains(&key).then(|| key.into())
                })
                .profile(Profile::Default),
        );

        // `RUNWAY_<KEY>_FILE`: read the value of <KEY> from a file.
        for (var, value) in std::env::vars() {
            let Some(key) = env_to_key(&var) else {
                continue;
            };
            if known.contains(&key) || var == CONFIG_FILE_ENV {
                continue;
            }
            if let Some(target) = key.strip_suffix("_file").filter(|k| known.contains(*k)) {
                let contents =
                    std::fs::read_to_string(&value).map_err(|source| ConfigError::SecretFile {
                        var: var.clone(),
                        path: value.clone(),
                        source,
                    })?;
                let contents = contents.trim_end_matches(['\r', '\n']).to_string();
                figment = figment.merge(Serialized::default(target, contents));
                continue;
            }
            warnings.push(format!("unknown configuration variable {var} is ignored"));
        }

        if let Some(listen) = cli.listen {
            figment = figment.merge(Serialized::default("listen", listen));
        }
        if let Some(dir) = &cli.data_dir {
            figment = figment.merge(Serialized::default("data_dir", dir));
        }

        let config: Config = figment.extract().map_err(|e| {
            let key = e.path.join(".");
            if key.is_empty() {
                ConfigError::Load(e.to_string())
            } else {
                ConfigError::Invalid {
                    env: key_to_env(&key),
                    key,
                    message: e.kind.to_string(),
                }
            }
        })?;
        config.validate()?;
        Ok(Loaded { config, warnings })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        fn invalid(key: &str, message: &str) -> ConfigError {
            ConfigError::Invalid {
                key: key.into(),
                env: key_to_env(key),
                message: message.into(),
            }
        }
        if let Some(url) = &self.database_url {
            let url = url.expose();
            if !(url.is_empty()
                || url.starts_with("sqlite:")
                || url.starts_with("mysql://")
                || url.starts_with("mariadb://"))
            {
                return Err(invalid(
                    "database_url",
                    "unsupported scheme: expected sqlite://PATH or mysql://USER:PASSWORD@HOST:PORT/DB",
                ));
            }
        }
        if self.database_max_connections == 0 {
            return Err(invalid("database_max_connections", "must be at least 1"));
        }
        if let Some(url) = &self.cache_url {
            let url = url.expose();
            if !(url.is_empty() || url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(invalid(
                    "cache_url",
                    "unsupported scheme: expected redis:// or rediss://",
                ));
            }
        }
        if !(self.storage_url.is_empty()
            || self.storage_url.starts_with("file://")
            || self.storage_url.starts_with("s3://"))
        {
            return Err(invalid(
                "storage_url",
                "expected file://DIR or s3://BUCKET[/PREFIX]",
            ));
        }
        if !(self.queue_url == "db"
            || self.queue_url.starts_with("https://")
            || self.queue_url.starts_with("http://"))
        {
            return Err(invalid(
                "queue_url",
                "expected `db` or an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)",
            ));
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid("public_url", "must start with http:// or https://"));
        }
        if self.cdn.private_key.is_some()
            && (self.cdn.key_pair_id.is_none() || self.cdn.base_url.is_none())
        {
            return Err(invalid(
                "cdn.private_key",
                "signing CloudFront URLs also needs cdn.key_pair_id and cdn.base_url",
            ));
        }
        if let Some(base) = &self.cdn.base_url
            && !base.starts_with("https://")
            && !base.starts_with("http://")
        {
            return Err(invalid("cdn.base_url", "must start with https://"));
        }
        if self.jobs.timeout_secs == 0 {
            return Err(invalid("jobs.timeout_secs", "must be at least 1"));
        }
        if self.http.request_timeout_secs > self.http.shutdown_grace_secs {
            return Err(invalid(
                "http.request_timeout_secs",
                "must not exceed http.shutdown_grace_secs, or shutdown could cut requests off",
            ));
        }
        if self.jobs.sqs_wait_secs > 20 {
            return Err(invalid("jobs.sqs_wait_secs", "must be at most 20"));
        }
        if self.http.body_limit_bytes < 1024 {
            return Err(invalid("http.body_limit_bytes", "must be at least 1024"));
        }
        if self.http.request_timeout_secs == 0 {
            return Err(invalid("http.request_timeout_secs", "must be at least 1"));
        }
        for origin in &self.http.cors_allowed_origins {
            if origin != "*" && !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(invalid(
                    "http.cors_allowed_origins",
                    "each origin must be `*` or start with http:// or https://",
                ));
            }
        }
        if self.auth.access_token_ttl_secs == 0 || self.auth.refresh_token_ttl_secs == 0 {
            return Err(invalid(
                "auth.access_token_ttl_secs",
                "token lifetimes must be positive",
            ));
        }
        if let Some(secret) = &self.auth.jwt_secret
            && secret.expose().len() < 32
        {
            return Err(invalid("auth.jwt_secret", "must be at least 32 bytes"));
        }
        if self.auth.password_min_length < 8 {
            return Err(invalid("auth.password_min_length", "must be at least 8"));
        }
        if self.rate_limit.auth_per_ip_per_minute == 0
            || self.rate_limit.auth_per_account_per_minute == 0
        {
            return Err(invalid("rate_limit", "limits must be at least 1"));
        }
        if self.jobs.concurrency == 0 {
            return Err(invalid("jobs.concurrency", "must be at least 1"));
        }
        let push = &self.push;
        for (key, value, allowed) in [
            ("push.ios", &push.ios, &["", "apns", "sns", "log"][..]),
            (
                "push.android",
                &push.android,
                &["", "fcm", "sns", "log"][..],
            ),
            ("push.web", &push.web, &["", "webpush", "log"][..]),
        ] {
            if !allowed.contains(&value.as_str()) {
                return Err(invalid(
                    key,
                    &format!("must be one of {}", allowed[1..].join(", ")),
                ));
            }
        }
        let needs = |platform: &str, provider: &str| push.provider_for(platform) == provider;
        if needs("ios", "apns")
            && (push.apns_key.is_none()
                || push.apns_key_id.is_empty()
                || push.apns_team_id.is_empty()
                || push.apns_topic.is_empty())
        {
            return Err(invalid(
                "push.apns_key",
                "APNs needs push.apns_key, push.apns_key_id, push.apns_team_id and push.apns_topic",
            ));
        }
        if needs("android", "fcm") && push.fcm_service_account.is_none() {
            return Err(invalid(
                "push.fcm_service_account",
                "FCM needs a service-account JSON",
            ));
        }
        if needs("ios", "sns") && push.sns_ios_application_arn.is_empty() {
            return Err(invalid(
                "push.sns_ios_application_arn",
                "push.ios = sns needs the iOS platform application ARN",
            ));
        }
        if needs("android", "sns") && push.sns_android_application_arn.is_empty() {
            return Err(invalid(
                "push.sns_android_application_arn",
                "push.android = sns needs the Android platform application ARN",
            ));
        }
        if needs("web", "webpush")
            && (push.vapid_private_key.is_none()
                || !(push.vapid_subject.starts_with("mailto:")
                    || push.vapid_subject.starts_with("https://")))
        {
            return Err(invalid(
                "push.vapid_subject",
                "Web Push needs push.vapid_private_key and a mailto: or https: push.vapid_subject",
            ));
        }
        if push.batch_size == 0 || push.batch_size > 1000 {
            return Err(invalid("push.batch_size", "must be 1 to 1000"));
        }
        if push.concurrency == 0 || push.apns_connections == 0 {
            return Err(invalid(
                "push.concurrency",
                "push.concurrency and push.apns_connections must be at least 1",
            ));
        }
        if !(1..=3650).contains(&push.token_ttl_days) {
            return Err(invalid("push.token_ttl_days", "must be 1 to 3650"));
        }
        if push.max_attempts == 0 || push.request_timeout_secs == 0 {
            return Err(invalid(
                "push.max_attempts",
                "push.max_attempts and push.request_timeout_secs must be at least 1",
            ));
        }
        if self.jobs.lease_secs < 2 {
            return Err(invalid("jobs.lease_secs", "must be at least 2"));
        }
        if self.jobs.max_attempts == 0 {
            return Err(invalid("jobs.max_attempts", "must be at least 1"));
        }
        if self.jobs.poll_interval_ms == 0 {
            return Err(invalid("jobs.poll_interval_ms", "must be at least 1"));
        }
        let media = &self.media;
        if !matches!(media.variant_format.as_str(), "webp" | "jpeg") {
            return Err(invalid("media.variant_format", "expected `webp` or `jpeg`"));
        }
        if !(1..=100).contains(&media.variant_quality) {
            return Err(invalid("media.variant_quality", "must be 1 to 100"));
        }
        if let Err(e) = media.on_demand() {
            return Err(invalid("media.on_demand_sizes", &e));
        }
        if media.max_upload_bytes < 1024 {
            return Err(invalid("media.max_upload_bytes", "must be at least 1024"));
        }
        if media.max_pixels == 0 || media.max_side == 0 || media.max_frames == 0 {
            return Err(invalid("media.max_pixels", "limits must be at least 1"));
        }
        if media.upload_url_ttl_secs == 0 || media.upload_url_ttl_secs > 7 * 24 * 3600 {
            return Err(invalid(
                "media.upload_url_ttl_secs",
                "must be 1 s to 7 days (the longest presigned S3 URL)",
            ));
        }
        if media.max_wait_secs >= self.http.request_timeout_secs {
            return Err(invalid(
                "media.max_wait_secs",
                "must be shorter than http.request_timeout_secs",
            ));
        }
        let events = &self.events;
        if events.retention_secs < 10 || events.retention_secs > 7 * 24 * 3600 {
            return Err(invalid("events.retention_secs", "must be 10 s to 7 days"));
        }
        if events.ticket_ttl_secs < 10 || events.ticket_ttl_secs > 24 * 3600 {
            return Err(invalid("events.ticket_ttl_secs", "must be 10 s to 1 day"));
        }
        if !(10..=10_000).contains(&events.poll_interval_ms) {
            return Err(invalid("events.poll_interval_ms", "must be 10 to 10000"));
        }
        match media.processor.as_str() {
            "worker" => {}
            "lambda" => {
                if !self.storage_url.starts_with("s3://") {
                    return Err(invalid(
                        "media.processor",
                        "`lambda` needs S3 storage (storage_url = s3://BUCKET/PREFIX): S3 events trigger the function",
                    ));
                }
                if !(media.results_queue_url.starts_with("https://")
                    || media.results_queue_url.starts_with("http://"))
                {
                    return Err(invalid(
                        "media.results_queue_url",
                        "`media.processor = lambda` needs the SQS queue URL the function reports on",
                    ));
                }
            }
            _ => {
                return Err(invalid("media.processor", "expected `worker` or `lambda`"));
            }
        }
        Ok(())
    }

    /// The storage URL in effect: the configured one, or `<data_dir>/blobs`.
    pub fn storage_url(&self) -> String {
        if self.storage_url.is_empty() {
            let dir = self.data_dir.join("blobs");
            format!("file://{}", dir.display())
        } else {
            self.storage_url.clone()
        }
    }

    /// Where clients reach this server: `public_url`, or the listen address.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.listen),
        }
    }

    /// The database URL in effect: the configured one, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.expose().is_empty() => url.expose().to_string(),
            _ => format!("sqlite://{}", self.data_dir.join("runway.db").display()),
        }
    }
}

/// Every configuration key, dotted (`auth.jwt_secret`), derived from the types.
pub fn known_keys() -> BTreeSet<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            _ => {
                out.insert(prefix.to_string());
            }
        }
    }
    let value = serde_json::to_value(Config::default()).expect("config serializes");
    let mut out = BTreeSet::new();
    walk("", &value, &mut out);
    out
}

/// `RUNWAY_AUTH__JWT_SECRET` -> `auth.jwt_secret`.
fn env_to_key(var: &str) -> Option<String> {
    let rest = var.strip_prefix(ENV_PREFIX)?;
    Some(rest.to_ascii_lowercase().replace("__", "."))
}

/// `auth.jwt_secret` -> `RUNWAY_AUTH__JWT_SECRET`.
pub fn key_to_env(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

#[cfg(test)]
// figment's Jail closures return figment::Error, which is large; fine in tests.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn defaults_are_the_documented_ones() {
        Jail::expect_with(|_| {
            let loaded = Config::load(None, &CliOverrides::default()).unwrap();
            assert_eq!(loaded.config.listen.to_string(), "127.0.0.1:8080");
            assert_eq!(loaded.config.data_dir, PathBuf::from("./data"));
            assert_eq!(loaded.config.database_url(), "sqlite://./data/runway.db");
            Ok(())
        });
    }

    #[test]
    fn precedence_file_env_cli() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "runway.toml",
                "listen = \"127.0.0.1:9000\"\nlog_filter = \"debug\"\n[jobs]\nconcurrency = 2\n",
            )?;
            jail.set_env("RUNWAY_JOBS__CONCURRENCY", "7");
            jail.set_env("RUNWAY_LOG_FORMAT", "json");
            let cli = CliOverrides {
                listen: Some("127.0.0.1:9001".parse().unwrap()),
                data_dir: None,
            };
            let c = Config::load(Some(Path::new("runway.toml")), &cli)
                .unwrap()
                .config;
            assert_eq!(c.listen.to_string(), "127.0.0.1:9001");
            assert_eq!(c.log_filter, "debug");
            assert_eq!(c.jobs.concurrency, 7);
            assert_eq!(c.log_format, LogFormat::Json);
            Ok(())
        });
    }

    #[test]
    fn secrets_from_files_and_unknown_vars_warn() {
        Jail::expect_with(|jail| {
            jail.create_file("secret", "0123456789abcdef0123456789abcdef\n")?;
            jail.set_env("RUNWAY_AUTH__JWT_SECRET_FILE", "secret");
            jail.set_env("RUNWAY_NOT_A_KEY", "1");
            let loaded = Config::load(None, &CliOverrides::default()).unwrap();
            assert_eq!(
                loaded.config.auth.jwt_secret.unwrap().expose(),
                "0123456789abcdef0123456789abcdef"
            );
            let about: Vec<_> = loaded
                .warnings
                .iter()
                .filter(|w| w.contains("RUNWAY_NOT_A_KEY"))
                .collect();
            assert_eq!(about.len(), 1, "{:?}", loaded.warnings);
            assert!(
                !loaded.warnings.iter().any(|w| w.contains("JWT_SECRET")),
                "a _FILE variable of a known key is not unknown"
            );
            Ok(())
        });
    }

    #[test]
    fn invalid_values_name_the_key() {
        Jail::expect_with(|jail| {
            jail.set_env("RUNWAY_HTTP__BODY_LIMIT_BYTES", "lots");
            let err = Config::load(None, &CliOverrides::default()).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("http.body_limit_bytes"), "{msg}");
            assert!(msg.contains("RUNWAY_HTTP__BODY_LIMIT_BYTES"), "{msg}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUNWAY_JOBS__CONCURRENCY", "0");
            let err = Config::load(None, &CliOverrides::default()).unwrap_err();
            assert!(err.to_string().contains("jobs.concurrency"));
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("RUNWAY_LISTEN", "not-an-address");
            let err = Config::load(None, &CliOverrides::default()).unwrap_err();
            assert!(err.to_string().contains("listen"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        Jail::expect_with(|jail| {
            jail.create_file("runway.toml", "[http]\nbody_limit = 5\n")?;
            let err =
                Config::load(Some(Path::new("runway.toml")), &CliOverrides::default()).unwrap_err();
            assert!(err.to_string().contains("body_limit"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn missing_secret_file_is_an_error_without_the_value() {
        Jail::expect_with(|jail| {
            jail.set_env("RUNWAY_AUTH__JWT_SECRET_FILE", "/nonexistent/secret");
            let err = Config::load(None, &CliOverrides::default()).unwrap_err();
            assert!(err.to_string().contains("RUNWAY_AUTH__JWT_SECRET_FILE"));
            Ok(())
        });
    }
}
