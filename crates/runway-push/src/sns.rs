//! Amazon SNS mobile push: platform endpoints per device, Publish per
//! notification.
//!
//! The per-platform message uses what SNS documents today:
//! - `APNS` / `APNS_SANDBOX`: the APNs payload (`{"aps": ...}`) as a JSON
//!   string; push type, priority, TTL and collapse id go in the reserved
//!   `AWS.SNS.MOBILE.APNS.*` message attributes.
//! - `GCM`: the FCM HTTP v1 form, `{"fcmV1Message": {"message": {...}}}` as
//!   a JSON string (SNS platform applications now authenticate to FCM with
//!   a service account and send through the v1 API; the legacy
//!   `{"notification":…, "data":…}` form belongs to the retired legacy API).
//!   TTL also goes in `AWS.SNS.MOBILE.FCM.TTL`.
//!
//! SNS has no Web Push platform: web devices need the `webpush` provider.

use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::MessageAttributeValue;
use secrecy::ExposeSecret;

use crate::apns::aps_payload;
use crate::fcm::fcm_message;
use crate::{ApnsEnvironment, Device, Message, Outcome, Platform, Priority, Provider, PushError};

/// SNS platform applications and the client to reach SNS.
#[derive(Clone, Debug)]
pub struct SnsConfig {
    /// APNS platform application (production tokens). Empty: not configured.
    pub ios_application_arn: String,
    /// APNS_SANDBOX platform application (development builds' tokens).
    pub ios_sandbox_application_arn: Option<String>,
    /// GCM (FCM) platform application. Empty: not configured.
    pub android_application_arn: String,
    pub client: aws_sdk_sns::Client,
}

impl SnsConfig {
    /// A config with an SNS client from the shared AWS configuration;
    /// `endpoint_url` overrides the SNS endpoint (tests, moto, VPC endpoints).
    pub fn from_sdk_config(
        sdk: &aws_types::SdkConfig,
        endpoint_url: Option<&str>,
        ios_application_arn: impl Into<String>,
        ios_sandbox_application_arn: Option<String>,
        android_application_arn: impl Into<String>,
    ) -> SnsConfig {
        let mut builder = aws_sdk_sns::config::Builder::from(sdk);
        if let Some(url) = endpoint_url {
            builder = builder.endpoint_url(url);
        }
        SnsConfig {
            ios_application_arn: ios_application_arn.into(),
            ios_sandbox_application_arn,
            android_application_arn: android_application_arn.into(),
            client: aws_sdk_sns::Client::from_conf(builder.build()),
        }
    }
}

/// The SNS mobile push provider.
#[derive(Clone, Debug)]
pub struct Sns {
    config: SnsConfig,
}

/// An SNS error as (code, HTTP status if the service answered).
fn error_code<E: ProvideErrorMetadata>(err: &SdkError<E>) -> (String, Option<u16>) {
    match err {
        SdkError::TimeoutError(_) => ("timeout".into(), None),
        SdkError::DispatchFailure(d) if d.is_timeout() => ("timeout".into(), None),
        SdkError::DispatchFailure(_) => ("connection_error".into(), None),
        SdkError::ResponseError(_) => ("response_error".into(), None),
        SdkError::ServiceError(ctx) => (
            ctx.err().code().unwrap_or("unknown").to_string(),
            Some(ctx.raw().status().as_u16()),
        ),
        _ => ("request_error".into(), None),
    }
}

fn is_transient(code: &str, status: Option<u16>) -> bool {
    matches!(
        code,
        "Throttling"
            | "Throttled"
            | "ThrottlingException"
            | "KMSThrottling"
            | "InternalError"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "RequestTimeout"
            | "timeout"
            | "connection_error"
            | "response_error"
    ) || status.is_some_and(|s| s >= 500 || s == 429)
}

/// What a Publish error means for the device.
pub(crate) fn publish_outcome(code: &str, status: Option<u16>) -> Outcome {
    let reason = crate::reason_code(Some(code), status.unwrap_or(0));
    match code {
        "EndpointDisabled" => Outcome::unregistered(reason, None),
        // The endpoint is gone, not necessarily the token (a recreated
        // platform application): the caller makes a new endpoint and
        // retries.
        "NotFound" => Outcome::retry(reason, None),
        "InvalidParameter" | "InvalidParameterValue" => Outcome::failed(reason),
        _ if is_transient(code, status) => Outcome::retry(reason, None),
        _ => Outcome::failed(reason),
    }
}

fn sns_error<E: ProvideErrorMetadata>(operation: &'static str, err: &SdkError<E>) -> PushError {
    let (code, status) = error_code(err);
    PushError::Sns {
        operation,
        retryable: is_transient(&code, status),
        code: crate::reason_code(Some(&code), status.unwrap_or(0)),
    }
}

/// The ARN in SNS' "Endpoint <arn> already exists with the same Token, but
/// different attributes." answer to CreatePlatformEndpoint.
fn existing_endpoint_arn(message: &str) -> Option<String> {
    let rest = &message[message.find("Endpoint ")? + "Endpoint ".len()..];
    let arn = rest.split_whitespace().next()?;
    (arn.starts_with("arn:") && message.contains("already exists")).then(|| arn.to_string())
}

fn string_attribute(value: impl Into<String>) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data_type is set")
}

/// Publish message attributes: (name, string value).
type MessageAttributes = Vec<(&'static str, String)>;

/// The Publish body (MessageStructure=json) and message attributes.
pub(crate) fn publish_request(
    device: &Device,
    message: &Message,
) -> Result<(String, MessageAttributes), Outcome> {
    let default = message
        .body
        .clone()
        .or_else(|| message.title.clone())
        .unwrap_or_else(|| message.delivery_id.to_string());
    let mut body = serde_json::Map::new();
    body.insert("default".into(), default.into());
    let mut attributes = Vec::new();
    match device.platform {
        Platform::Ios => {
            let (key, ttl_attribute) = match device.environment {
                ApnsEnvironment::Production => ("APNS", "AWS.SNS.MOBILE.APNS.TTL"),
                ApnsEnvironment::Sandbox => ("APNS_SANDBOX", "AWS.SNS.MOBILE.APNS_SANDBOX.TTL"),
            };
            body.insert(key.into(), aps_payload(message).to_string().into());
            let background = message.is_background();
            attributes.push((
                "AWS.SNS.MOBILE.APNS.PUSH_TYPE",
                if background { "background" } else { "alert" }.to_string(),
            ));
            let priority = if background || message.priority == Priority::Normal {
                "5"
            } else {
                "10"
            };
            attributes.push(("AWS.SNS.MOBILE.APNS.PRIORITY", priority.to_string()));
            if let Some(ttl) = message.ttl {
                attributes.push((ttl_attribute, ttl.as_secs().to_string()));
            }
            let key = message.replace_key();
            if key.len() > 64 {
                return Err(Outcome::failed("BadCollapseId"));
            }
            attributes.push(("AWS.SNS.MOBILE.APNS.COLLAPSE_ID", key));
            if let Some(topic) = &device.app_id {
                attributes.push(("AWS.SNS.MOBILE.APNS.TOPIC", topic.clone()));
            }
        }
        Platform::Android => {
            let gcm = serde_json::json!({"fcmV1Message": {"message": fcm_message(message)}});
            body.insert("GCM".into(), gcm.to_string().into());
            if let Some(ttl) = message.ttl {
                attributes.push(("AWS.SNS.MOBILE.FCM.TTL", ttl.as_secs().to_string()));
            }
        }
        Platform::Web => return Err(Outcome::failed("unsupported_platform")),
    }
    Ok((serde_json::Value::Object(body).to_string(), attributes))
}

impl Sns {
    pub fn new(config: SnsConfig) -> Sns {
        Sns { config }
    }

    pub fn client(&self) -> &aws_sdk_sns::Client {
        &self.config.client
    }

    fn application_arn(
        &self,
        platform: Platform,
        environment: ApnsEnvironment,
    ) -> Result<&str, PushError> {
        let not_configured = |detail| PushError::NotConfigured {
            provider: "sns",
            platform,
            detail,
        };
        let arn = match (platform, environment) {
            (Platform::Ios, ApnsEnvironment::Production) => {
                Some(self.config.ios_application_arn.as_str())
            }
            // No sandbox application configured: sandbox devices use the
            // production one (as docs/configuration.md says).
            (Platform::Ios, ApnsEnvironment::Sandbox) => self
                .config
                .ios_sandbox_application_arn
                .as_deref()
                .filter(|a| !a.is_empty())
                .or(Some(self.config.ios_application_arn.as_str())),
            (Platform::Android, _) => Some(self.config.android_application_arn.as_str()),
            (Platform::Web, _) => return Err(not_configured(" (SNS has no Web Push platform)")),
        };
        arn.filter(|a| !a.is_empty()).ok_or(not_configured(
            if environment == ApnsEnvironment::Sandbox && platform == Platform::Ios {
                " (sandbox)"
            } else {
                ""
            },
        ))
    }

    /// Make sure a platform endpoint exists for this token and is enabled;
    /// returns its ARN (store it as the device's `sns_endpoint_arn`).
    ///
    /// With `existing_arn`, the endpoint is updated in place (token, enabled,
    /// user data) and recreated if SNS no longer has it. Otherwise
    /// CreatePlatformEndpoint is called, which is idempotent for the same
    /// token and attributes; when SNS answers that an endpoint with this
    /// token exists with different attributes (for example disabled), that
    /// endpoint is updated and returned.
    pub async fn register(
        &self,
        platform: Platform,
        environment: ApnsEnvironment,
        token: &str,
        existing_arn: Option<&str>,
        user_data: &str,
    ) -> Result<String, PushError> {
        crate::validate_token(platform, token, None)?;
        let application = self.application_arn(platform, environment)?.to_string();
        if let Some(arn) = existing_arn {
            match self.update_endpoint(arn, token, user_data).await {
                Ok(()) => return Ok(arn.to_string()),
                Err(PushError::Sns { code, .. }) if code == "NotFound" => {}
                Err(e) => return Err(e),
            }
        }
        let created = self
            .config
            .client
            .create_platform_endpoint()
            .platform_application_arn(&application)
            .token(token)
            .custom_user_data(user_data)
            .send()
            .await;
        match created {
            Ok(out) => out.endpoint_arn.ok_or(PushError::Sns {
                operation: "CreatePlatformEndpoint",
                code: "missing_endpoint_arn".into(),
                retryable: true,
            }),
            Err(err) => {
                let (code, _) = error_code(&err);
                let existing = (code == "InvalidParameter")
                    .then(|| err.message().and_then(existing_endpoint_arn))
                    .flatten();
                match existing {
                    Some(arn) => {
                        self.update_endpoint(&arn, token, user_data).await?;
                        Ok(arn)
                    }
                    None => Err(sns_error("CreatePlatformEndpoint", &err)),
                }
            }
        }
    }

    async fn update_endpoint(
        &self,
        arn: &str,
        token: &str,
        user_data: &str,
    ) -> Result<(), PushError> {
        self.config
            .client
            .set_endpoint_attributes()
            .endpoint_arn(arn)
            .attributes("Token", token)
            .attributes("Enabled", "true")
            .attributes("CustomUserData", user_data)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sns_error("SetEndpointAttributes", &e))
    }

    /// Delete a platform endpoint (idempotent).
    pub async fn unregister(&self, arn: &str) -> Result<(), PushError> {
        self.config
            .client
            .delete_endpoint()
            .endpoint_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sns_error("DeleteEndpoint", &e))
    }
}

#[async_trait::async_trait]
impl Provider for Sns {
    fn name(&self) -> &'static str {
        "sns"
    }

    async fn send(&self, device: &Device, message: &Message) -> Outcome {
        let Some(arn) = device.sns_endpoint_arn.as_deref() else {
            return Outcome::failed("no_endpoint_arn");
        };
        let (body, attributes) = match publish_request(device, message) {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        let mut publish = self
            .config
            .client
            .publish()
            .target_arn(arn)
            .message_structure("json")
            .message(body);
        for (name, value) in attributes {
            publish = publish.message_attributes(name, string_attribute(value));
        }
        let outcome = match publish.send().await {
            Ok(out) => Outcome::Delivered {
                provider_id: out.message_id,
            },
            Err(err) => {
                let (code, status) = error_code(&err);
                publish_outcome(&code, status)
            }
        };
        if !matches!(outcome, Outcome::Delivered { .. }) {
            tracing::info!(
                provider = "sns",
                delivery_id = %message.delivery_id,
                token = %crate::redact(device.token.expose_secret()),
                outcome = ?outcome,
                "SNS publish not delivered"
            );
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_error_mapping() {
        let cases = [
            ("EndpointDisabled", Some(400), "unregistered"),
            ("NotFound", Some(404), "retry"),
            ("InvalidParameter", Some(400), "failed"),
            ("InvalidParameterValue", Some(400), "failed"),
            ("Throttling", Some(400), "retry"),
            ("Throttled", Some(429), "retry"),
            ("InternalError", Some(500), "retry"),
            ("KMSThrottling", Some(400), "retry"),
            ("timeout", None, "retry"),
            ("connection_error", None, "retry"),
            ("SomethingNew", Some(503), "retry"),
            ("AuthorizationError", Some(403), "failed"),
        ];
        for (code, status, want) in cases {
            let got = publish_outcome(code, status);
            let kind = match &got {
                Outcome::Unregistered { .. } => "unregistered",
                Outcome::Failed { .. } => "failed",
                Outcome::Retry { .. } => "retry",
                Outcome::Delivered { .. } => "delivered",
            };
            assert_eq!(kind, want, "{code}: {got:?}");
            assert_eq!(got.reason(), Some(code));
        }
    }

    #[test]
    fn existing_arn_from_duplicate_token_error() {
        let m = "Invalid parameter: Token Reason: Endpoint arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/0f1e already exists with the same Token, but different attributes.";
        assert_eq!(
            existing_endpoint_arn(m).as_deref(),
            Some("arn:aws:sns:us-east-1:123456789012:endpoint/GCM/app/0f1e")
        );
        assert_eq!(existing_endpoint_arn("Invalid parameter: Token"), None);
    }
}
