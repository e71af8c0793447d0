use std::time::Duration;

use runway_lambda::alert::{Alerter, Flaps, JsonAlert, Kind, Target};
use runway_testkit::lambda::RuntimeApi;
use secrecy::SecretString;
use serde_json::Value;

use crate::support::{Receiver, fixture};

const SLACK: &str = "/services/T0001/B0001/SECRETTOKEN";
const JSON: &str = "/alerts";

/// An SNS event carrying a CloudWatch alarm change.
fn alarm_event(message_id: &str, state: &str, old_state: &str) -> Value {
    let alarm = fixture(
        "cloudwatch-alarm.json",
        &[("state", state), ("old_state", old_state)],
    );
    let alarm: Value = serde_json::from_str(&alarm).unwrap();
    let mut event: Value = serde_json::from_str(&fixture(
        "sns-cloudwatch-alarm.json",
        &[("message_id", message_id)],
    ))
    .unwrap();
    event["Records"][0]["Sns"]["Message"] = Value::String(alarm.to_string());
    event
}

fn alerter(base: &str) -> Alerter {
    Alerter::new(
        vec![
            Target {
                kind: Kind::Slack,
                url: SecretString::from(format!("{base}{SLACK}")),
            },
            Target {
                kind: Kind::Json,
                url: SecretString::from(format!("{base}{JSON}")),
            },
        ],
        Some("runway-prod".into()),
        Flaps::new(Duration::from_secs(900), 3),
    )
    .with_backoff(Duration::from_millis(10))
}

#[tokio::test]
async fn an_alarm_reaches_chat_and_the_json_webhook_readably() {
    let (receiver, base) = Receiver::start().await;
    let alerter = alerter(&base);
    alerter
        .handle(alarm_event("m-1", "ALARM", "OK"))
        .await
        .unwrap();

    let slack = receiver.posts_to(SLACK);
    assert_eq!(slack.len(), 1);
    let text = slack[0]["text"].as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "🔴 *runway-prod-uploads-dlq-not-empty* [runway-prod] is *ALARM* (was OK)"
    );
    assert!(lines[1].starts_with("Threshold Crossed: 1 out of the last 1 datapoints"));
    assert_eq!(
        lines[2],
        "Metric: AWS/SQS ApproximateNumberOfMessagesVisible (QueueName=runway-prod-uploads-dlq) maximum > 0 for 1×300 s"
    );
    assert_eq!(
        lines[3],
        "<https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#alarmsV2:alarm/runway-prod-uploads-dlq-not-empty|Open in CloudWatch>"
    );

    let json = receiver.posts_to(JSON);
    assert_eq!(json.len(), 1);
    let alert: JsonAlert = serde_json::from_value(json[0].clone()).unwrap();
    assert_eq!(alert.alarm, "runway-prod-uploads-dlq-not-empty");
    assert_eq!(alert.state, "ALARM");
    assert_eq!(alert.previous_state.as_deref(), Some("OK"));
    assert_eq!(alert.region.as_deref(), Some("us-east-1"));
    assert_eq!(alert.account.as_deref(), Some("123456789012"));
    assert_eq!(alert.environment.as_deref(), Some("runway-prod"));
    assert!(!alert.flapping);
    assert_eq!(alert.text, text);

    // Back to OK: a second, resolving message.
    alerter
        .handle(alarm_event("m-2", "OK", "ALARM"))
        .await
        .unwrap();
    let slack = receiver.posts_to(SLACK);
    assert!(
        slack[1]["text"].as_str().unwrap().starts_with(
            "✅ *runway-prod-uploads-dlq-not-empty* [runway-prod] is *OK* (was ALARM)"
        )
    );
}

#[tokio::test]
async fn a_flapping_alarm_is_collapsed_into_one_message() {
    let (receiver, base) = Receiver::start().await;
    let alerter = alerter(&base);
    let states = [("ALARM", "OK"), ("OK", "ALARM")];
    for i in 0..6 {
        let (state, old) = states[i % 2];
        alerter
            .handle(alarm_event(&format!("flap-{i}"), state, old))
            .await
            .unwrap();
    }
    let slack: Vec<String> = receiver
        .posts_to(SLACK)
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(slack.len(), 3, "{slack:#?}");
    assert!(slack[2].starts_with(
        "⚠️ *runway-prod-uploads-dlq-not-empty* [runway-prod] is flapping: 3 state changes in 15 min, now *ALARM*."
    ), "{}", slack[2]);
    let json = receiver.posts_to(JSON);
    assert_eq!(json.len(), 3);
    assert_eq!(json[2]["flapping"], true);
}

#[tokio::test]
async fn webhook_failures_are_retried_then_fail_the_invocation_without_leaking_the_url() {
    let (receiver, base) = Receiver::start().await;
    let alerter = alerter(&base);

    // Two 503s, then accepted: delivered on the third attempt.
    receiver.script(SLACK, &[503, 503]);
    alerter
        .handle(alarm_event("r-1", "ALARM", "OK"))
        .await
        .unwrap();
    assert_eq!(receiver.posts_to(SLACK).len(), 3);
    assert_eq!(receiver.posts_to(JSON).len(), 1);

    // Chat is down for good: the invocation fails (Lambda retries it, then
    // dead-letters it), and the error never shows the webhook's secret URL.
    receiver.script(SLACK, &[500, 500, 500]);
    let err = alerter
        .handle(alarm_event("r-2", "OK", "ALARM"))
        .await
        .unwrap_err();
    let shown = format!("{err:#}");
    assert!(shown.contains("failed"), "{shown}");
    assert!(
        !shown.contains("SECRETTOKEN") && !shown.contains(&base),
        "{shown}"
    );
    assert_eq!(receiver.posts_to(SLACK).len(), 6);
    assert_eq!(receiver.posts_to(JSON).len(), 2, "the JSON webhook took it");

    // Lambda's retry of the same event: only the target that missed it is
    // posted to again.
    alerter
        .handle(alarm_event("r-2", "OK", "ALARM"))
        .await
        .unwrap();
    assert_eq!(receiver.posts_to(SLACK).len(), 7);
    assert_eq!(receiver.posts_to(JSON).len(), 2);
}

#[tokio::test]
async fn a_hanging_webhook_times_out_without_holding_up_the_other_target() {
    let (receiver, base) = Receiver::start().await;
    let alerter = alerter(&base).with_attempt_timeout(Duration::from_millis(200));
    receiver.script(SLACK, &[0, 0, 0]);
    let started = std::time::Instant::now();
    let err = alerter
        .handle(alarm_event("h-1", "ALARM", "OK"))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(format!("{err:#}").contains("failed"), "{err:#}");
    // Three attempts of 200 ms plus 10 + 20 ms of backoff, not 3 × 30 s.
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(receiver.posts_to(SLACK).len(), 3);
    assert_eq!(
        receiver.posts_to(JSON).len(),
        1,
        "the JSON webhook got it meanwhile"
    );
}

/// The real `bootstrap` binary under the local Runtime API, with the chat
/// webhook URL read from Secrets Manager (moto) by ARN.
#[tokio::test]
async fn the_alert_binary_runs_under_the_lambda_runtime_api_with_a_secret_webhook() {
    let (receiver, base) = Receiver::start().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&runway_testkit::aws_config().await);
    let secret = secrets
        .create_secret()
        .name(runway_testkit::unique("runway-prod/alerts/slack-"))
        .secret_string(serde_json::json!({ "url": format!("{base}{SLACK}") }).to_string())
        .send()
        .await
        .unwrap();
    let api = RuntimeApi::start("runway-test-alert", Duration::from_secs(30)).await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_alert"))
        .envs(api.env("runway-test-alert", 256))
        .env(
            "RUNWAY_ALERT_SLACK_WEBHOOK_SECRET_ARN",
            secret.arn().unwrap(),
        )
        .env("RUNWAY_ALERT_WEBHOOK_URL", format!("{base}{JSON}"))
        .env("RUNWAY_ALERT_ENVIRONMENT", "runway-prod")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    api.wait_first_poll(Duration::from_secs(30)).await;
    let done = api
        .invoke(alarm_event("bin-1", "ALARM", "OK"), Duration::from_secs(30))
        .await;
    assert!(done.result.is_ok(), "{done:?}");
    let slack = receiver.wait_for(SLACK, 1).await;
    assert!(slack[0]["text"].as_str().unwrap().contains("is *ALARM*"));
    receiver.wait_for(JSON, 1).await;

    // Chat down: the invocation's error goes to the Runtime API.
    receiver.script(SLACK, &[500, 500, 500]);
    let failed = api
        .invoke(alarm_event("bin-2", "OK", "ALARM"), Duration::from_secs(30))
        .await;
    let err = failed.result.unwrap_err();
    assert!(!err.to_string().contains("SECRETTOKEN"), "{err}");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn the_alert_binary_refuses_to_start_without_a_target() {
    let api = RuntimeApi::start("runway-test-alert-bare", Duration::from_secs(30)).await;
    let status = tokio::process::Command::new(env!("CARGO_BIN_EXE_alert"))
        .envs(api.env("runway-test-alert-bare", 256))
        .env_remove("RUNWAY_ALERT_SLACK_WEBHOOK_URL")
        .env_remove("RUNWAY_ALERT_WEBHOOK_URL")
        .kill_on_drop(true)
        .status()
        .await
        .unwrap();
    assert!(!status.success());
    let init = api
        .init_error()
        .expect("init error reported to the Runtime API");
    assert!(init.to_string().contains("no alert target"), "{init}");
}

#[tokio::test]
async fn other_messages_on_the_alert_topic_are_forwarded_as_text() {
    let (receiver, base) = Receiver::start().await;
    let alerter = alerter(&base);
    let mut event: Value = serde_json::from_str(&fixture(
        "sns-cloudwatch-alarm.json",
        &[("message_id", "t-1")],
    ))
    .unwrap();
    event["Records"][0]["Sns"]["Subject"] = Value::String("Release".into());
    event["Records"][0]["Sns"]["Message"] = Value::String("runway 1.4.2 rolled out".into());
    alerter.handle(event).await.unwrap();
    assert_eq!(
        receiver.posts_to(SLACK)[0]["text"],
        "*Release*\nrunway 1.4.2 rolled out"
    );
    let json = &receiver.posts_to(JSON)[0];
    assert_eq!(json["text"], "*Release*\nrunway 1.4.2 rolled out");
    assert_eq!(json["environment"], "runway-prod");
}
