use secrecy::ExposeSecret;

use crate::{Device, Message, Outcome, Provider, redact};

/// For local development: logs one line per notification and reports it
/// delivered. Tokens are redacted like everywhere else.
#[derive(Debug, Clone, Default)]
pub struct LogProvider;

impl LogProvider {
    pub fn new() -> LogProvider {
        LogProvider
    }
}

#[async_trait::async_trait]
impl Provider for LogProvider {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn send(&self, device: &Device, message: &Message) -> Outcome {
        tracing::info!(
            provider = "log",
            delivery_id = %message.delivery_id,
            platform = %device.platform,
            token = %redact(device.token.expose_secret()),
            title = message.title.as_deref().unwrap_or(""),
            "push notification (log provider)"
        );
        Outcome::Delivered {
            provider_id: Some(format!("log-{}", message.delivery_id)),
        }
    }
}
