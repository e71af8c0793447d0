//! runway's two AWS Lambda functions (SEED: "thumbnail generation when an
//! image is uploaded, and monitoring alerts"), each a `bootstrap` binary for
//! the `provided.al2023` runtime built by `scripts/build-lambdas`:
//!
//! - [`thumbnail`]: S3 `ObjectCreated` events (through SQS, or direct) in;
//!   the same `runway-thumbnail` job as runway's worker; a report out on SQS
//!   that runway's worker records. No database access.
//! - [`alert`]: CloudWatch alarm notifications (through SNS) in; a short
//!   message out to a Slack-compatible and/or a JSON webhook.
//!
//! The handlers are plain async functions over event JSON, so the tests call
//! them directly as well as through the real binaries and a local Lambda
//! Runtime API (`runway_testkit::lambda`).

pub mod alert;
pub mod thumbnail;

/// Process-wide setup every function's `main` does first: the runtime's
/// log subscriber (JSON when the function's log format is JSON).
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// Report a failed initialisation to the Runtime API's `/init/error` (so
/// Lambda records `Runtime.InitError` with the reason) and return the error
/// for `main` to exit with. The message must not hold secrets; none of the
/// configuration errors here do.
pub async fn init_failed(err: anyhow::Error) -> lambda_runtime::Error {
    let message = format!("{err:#}");
    tracing::error!(error = %message, "initialisation failed");
    if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") {
        let body = serde_json::json!({
            "errorType": "Runtime.InitError",
            "errorMessage": message,
        });
        let sent = reqwest::Client::new()
            .post(format!("http://{api}/2018-06-01/runtime/init/error"))
            .header("Lambda-Runtime-Function-Error-Type", "Runtime.InitError")
            .json(&body)
            .send()
            .await;
        if let Err(e) = sent {
            tracing::error!(error = %e.without_url(), "reporting the init error failed");
        }
    }
    err.into()
}
