use crate::{Platform, TokenError};

/// Errors from building a provider or from SNS endpoint management.
///
/// Messages name what is wrong ("not a PKCS#8 P-256 key", "missing
/// client_email"), never the secret or the token itself.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// A private key (APNs .p8, VAPID, service account) could not be used.
    #[error("invalid {what} key: {reason}")]
    InvalidKey {
        what: &'static str,
        reason: &'static str,
    },
    /// The FCM service account JSON is unusable.
    #[error("invalid service account JSON: {0}")]
    InvalidServiceAccount(String),
    /// Some other configuration value is unusable (a URL, a subject, a CA).
    #[error("invalid push configuration: {0}")]
    InvalidConfig(String),
    /// The device token failed validation.
    #[error(transparent)]
    InvalidToken(#[from] TokenError),
    /// The provider has no application for this platform / environment.
    #[error("{provider} has no application configured for {platform}{detail}")]
    NotConfigured {
        provider: &'static str,
        platform: Platform,
        detail: &'static str,
    },
    /// An SNS call failed. `code` is the AWS error code (or `timeout`,
    /// `connection_error`); `retryable` says whether trying again may help.
    #[error("SNS {operation} failed: {code}")]
    Sns {
        operation: &'static str,
        code: String,
        retryable: bool,
    },
}
