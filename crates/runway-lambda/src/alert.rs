//! The alert function: CloudWatch alarm notifications (delivered by SNS) in,
//! a short readable message out to chat and/or a JSON webhook.
//!
//! **Targets** (at least one), each a URL from the environment or from a
//! Secrets Manager secret named by ARN (the secret is the URL, or JSON with
//! a `url` field). Webhook URLs carry credentials: they are never logged.
//! - `RUNWAY_ALERT_SLACK_WEBHOOK_URL` / `RUNWAY_ALERT_SLACK_WEBHOOK_SECRET_ARN`:
//!   a Slack-compatible incoming webhook (`{"text": ...}`; Slack,
//!   Mattermost, Rocket.Chat).
//! - `RUNWAY_ALERT_WEBHOOK_URL` / `RUNWAY_ALERT_WEBHOOK_SECRET_ARN`: any
//!   endpoint taking the alarm as JSON ([`JsonAlert`]).
//!
//! **Flapping.** An alarm that changes state `RUNWAY_ALERT_FLAP_THRESHOLD`
//! times (default 3, at least 2) within `RUNWAY_ALERT_FLAP_WINDOW_SECS`
//! (default 900) gets one "flapping" message; its further changes are muted
//! until it has been quiet for a whole window, except a change into ALARM
//! when the last message announced another state ([`Flaps`]). The history lives in the function's
//! memory, which is why the function runs with a reserved concurrency of 1
//! (one warm instance sees every alarm; SNS invocations wait in Lambda's
//! async queue meanwhile). A cold start forgets it: at worst one extra
//! message.
//!
//! **Failures.** Targets are posted to concurrently, each tried 3 times
//! (5 s per attempt, 0.5 s then 1 s apart); a URL from Secrets Manager that
//! the webhook refuses (401/403/404/410) is read again once, for rotated
//! secrets. If a target still fails the invocation fails, Lambda retries it twice more, then sends the
//! event to the function's dead-letter queue (`alert_dlq` in Terraform,
//! itself alarmed by e-mail). Targets that already took a message are not
//! posted to again when Lambda retries it in the same instance.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lambda_events::sns::SnsEvent;
use bytes::Bytes;
use http_body_util::Full;
use runway_push::http::HttpClient;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Slack,
    Json,
}

/// One webhook to post to.
pub struct Target {
    pub kind: Kind,
    pub url: SecretString,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} webhook", self.kind)
    }
}

/// A CloudWatch alarm notification (the JSON SNS delivers). Lenient: fields
/// missing from composite alarms or older formats are optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alarm {
    pub alarm_name: String,
    #[serde(default)]
    pub alarm_description: Option<String>,
    #[serde(rename = "AWSAccountId", default)]
    pub account_id: Option<String>,
    pub new_state_value: String,
    #[serde(default)]
    pub old_state_value: Option<String>,
    #[serde(default)]
    pub new_state_reason: Option<String>,
    #[serde(default)]
    pub state_change_time: Option<String>,
    #[serde(default)]
    pub alarm_arn: Option<String>,
    #[serde(default)]
    pub trigger: Option<Trigger>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trigger {
    #[serde(default)]
    pub metric_name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub statistic: Option<String>,
    #[serde(default)]
    pub extended_statistic: Option<String>,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    #[serde(default)]
    pub period: Option<u64>,
    #[serde(default)]
    pub evaluation_periods: Option<u64>,
    #[serde(default)]
    pub comparison_operator: Option<String>,
    #[serde(default)]
    pub threshold: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Dimension {
    #[serde(alias = "Name")]
    pub name: String,
    #[serde(alias = "Value")]
    pub value: String,
}

/// What the JSON webhook receives.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JsonAlert {
    pub source: String,
    pub environment: Option<String>,
    pub alarm: String,
    pub state: String,
    pub previous_state: Option<String>,
    pub reason: Option<String>,
    pub description: Option<String>,
    pub metric: Option<String>,
    pub time: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    pub link: Option<String>,
    /// True for the one message sent when the alarm starts flapping.
    pub flapping: bool,
    /// The same message as the chat text.
    pub text: String,
}

impl Alarm {
    /// The region code, from the alarm ARN (`arn:aws:cloudwatch:REGION:…`).
    pub fn region(&self) -> Option<&str> {
        self.alarm_arn.as_deref()?.split(':').nth(3)
    }

    /// The CloudWatch console page of this alarm.
    pub fn link(&self) -> Option<String> {
        let region = self.region()?;
        let mut name = String::new();
        for b in self.alarm_name.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                name.push(b as char);
            } else {
                name.push_str(&format!("%{b:02X}"));
            }
        }
        Some(format!(
            "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{name}"
        ))
    }

    /// `AWS/SQS ApproximateNumberOfMessagesVisible (QueueName=x) Maximum > 0 for 1×300 s`.
    pub fn metric(&self) -> Option<String> {
        let t = self.trigger.as_ref()?;
        let name = t.metric_name.as_deref()?;
        let mut out = match &t.namespace {
            Some(ns) => format!("{ns} {name}"),
            None => name.to_string(),
        };
        if !t.dimensions.is_empty() {
            let dims: Vec<String> = t
                .dimensions
                .iter()
                .map(|d| format!("{}={}", d.name, d.value))
                .collect();
            out.push_str(&format!(" ({})", dims.join(", ")));
        }
        if let Some(stat) = t.statistic.as_deref().or(t.extended_statistic.as_deref()) {
            out.push(' ');
            out.push_str(&stat.to_ascii_lowercase());
        }
        if let (Some(op), Some(threshold)) = (&t.comparison_operator, t.threshold) {
            let op = match op.as_str() {
                "GreaterThanThreshold" => ">",
                "GreaterThanOrEqualToThreshold" => ">=",
                "LessThanThreshold" => "<",
                "LessThanOrEqualToThreshold" => "<=",
                other => other,
            };
            out.push_str(&format!(" {op} {threshold}"));
        }
        if let (Some(n), Some(p)) = (t.evaluation_periods, t.period) {
            out.push_str(&format!(" for {n}×{p} s"));
        }
        Some(out)
    }
}

fn icon(state: &str) -> &'static str {
    match state {
        "ALARM" => "🔴",
        "OK" => "✅",
        _ => "⚪",
    }
}

/// The chat text of one alarm change.
pub fn text(
    alarm: &Alarm,
    environment: Option<&str>,
    flapping: Option<(usize, Duration)>,
) -> String {
    let env = environment.map(|e| format!(" [{e}]")).unwrap_or_default();
    let mut lines = Vec::new();
    match flapping {
        Some((changes, window)) => lines.push(format!(
            "⚠️ *{}*{env} is flapping: {changes} state changes in {} min, now *{}*. Further changes are muted until it stays put for {} min.",
            alarm.alarm_name,
            window.as_secs().div_ceil(60),
            alarm.new_state_value,
            window.as_secs().div_ceil(60),
        )),
        None => lines.push(format!(
            "{} *{}*{env} is *{}*{}",
            icon(&alarm.new_state_value),
            alarm.alarm_name,
            alarm.new_state_value,
            alarm
                .old_state_value
                .as_deref()
                .map(|old| format!(" (was {old})"))
                .unwrap_or_default(),
        )),
    }
    if let Some(reason) = &alarm.new_state_reason {
        lines.push(reason.clone());
    }
    if let Some(metric) = alarm.metric() {
        lines.push(format!("Metric: {metric}"));
    }
    if let Some(link) = alarm.link() {
        lines.push(format!("<{link}|Open in CloudWatch>"));
    }
    lines.join("\n")
}

/// Per-alarm history of recent state changes.
#[derive(Default)]
struct History {
    changes: VecDeque<Instant>,
    muted: bool,
    /// The state the last message about this alarm announced.
    last_posted: Option<String>,
}

/// Whether to post one change, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Post,
    /// Post the one "flapping" message (changes seen in the window).
    Flapping(usize),
    /// Post although the alarm is flapping: it went into ALARM while the
    /// last message said otherwise.
    PostWhileFlapping,
    Mute,
}

/// Flap detection over a sliding window.
///
/// An alarm that changes `threshold` times within `window` gets one
/// "flapping" message; its further changes are muted until it has been
/// quiet for a whole window, except a change into ALARM when the last
/// message announced another state: chat never shows an alarm as fine
/// while it is in ALARM. (An alarm that settles in OK while muted is
/// announced with its next change.)
pub struct Flaps {
    window: Duration,
    threshold: usize,
    alarms: HashMap<String, History>,
}

impl Flaps {
    /// `threshold` must be at least 2 and `window` non-zero.
    pub fn new(window: Duration, threshold: usize) -> Flaps {
        assert!(threshold >= 2 && !window.is_zero(), "invalid flap settings");
        Flaps {
            window,
            threshold,
            alarms: HashMap::new(),
        }
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Record a change of `alarm` into `state` at `now` and decide.
    pub fn decide(&mut self, alarm: &str, state: &str, now: Instant) -> Decision {
        let window = self.window;
        self.alarms.retain(|_, h| {
            h.changes
                .back()
                .is_some_and(|t| now.duration_since(*t) < window)
                || h.last_posted.as_deref() == Some("ALARM")
        });
        let h = self.alarms.entry(alarm.to_string()).or_default();
        while h
            .changes
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            h.changes.pop_front();
        }
        if h.changes.is_empty() {
            // Quiet for a whole window: a new episode.
            h.muted = false;
        }
        h.changes.push_back(now);
        let decision = if h.muted {
            if state == "ALARM" && h.last_posted.as_deref() != Some("ALARM") {
                Decision::PostWhileFlapping
            } else {
                Decision::Mute
            }
        } else if h.changes.len() >= self.threshold {
            h.muted = true;
            Decision::Flapping(h.changes.len())
        } else {
            Decision::Post
        };
        if decision != Decision::Mute {
            h.last_posted = Some(state.to_string());
        }
        decision
    }
}

/// Remembers the last `capacity` keys (bounded memory for a warm instance).
struct Recent<K, V> {
    capacity: usize,
    order: VecDeque<K>,
    map: HashMap<K, V>,
}

impl<K: std::hash::Hash + Eq + Clone, V> Recent<K, V> {
    fn new(capacity: usize) -> Self {
        Recent {
            capacity,
            order: VecDeque::new(),
            map: HashMap::new(),
        }
    }

    fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    fn insert(&mut self, key: K, value: V) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
            while self.order.len() > self.capacity {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }
}

/// Where a target's URL comes from.
enum Source {
    Env,
    Secret(String),
}

/// One webhook and where its URL was read from.
struct Endpoint {
    target: Target,
    source: Source,
    /// The variable that named it (for error messages).
    var: &'static str,
}

pub struct Alerter {
    endpoints: Vec<Mutex<Endpoint>>,
    environment: Option<String>,
    /// The project's HTTPS client (rustls with an explicit provider); its
    /// timeout bounds each attempt.
    http: HttpClient,
    secrets: Option<aws_sdk_secretsmanager::Client>,
    flaps: Mutex<Flaps>,
    /// What each recent SNS message was turned into (`None`: muted), so that
    /// Lambda's retry of a failed invocation posts the same thing, and which
    /// targets already took it.
    decided: Mutex<Recent<String, Option<Post>>>,
    posted: Mutex<Recent<(String, usize), ()>>,
    attempts: u32,
    backoff: Duration,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The webhook URL in a secret: the whole value, or its JSON `url` field.
pub fn url_from_secret(value: &str) -> anyhow::Result<SecretString> {
    let value = value.trim();
    if value.starts_with('{') {
        let json: Value = serde_json::from_str(value)
            .map_err(|_| anyhow::anyhow!("the webhook secret is JSON but not valid"))?;
        let url = json["url"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("the webhook secret's JSON has no \"url\""))?;
        return Ok(SecretString::from(url.to_string()));
    }
    Ok(SecretString::from(value.to_string()))
}

/// An http(s) URL with a host; the error never contains it.
fn check_url(url: &SecretString, var: &str) -> anyhow::Result<()> {
    let parsed: http::Uri = url
        .expose_secret()
        .parse()
        .map_err(|_| anyhow::anyhow!("{var}: not a URL"))?;
    if !matches!(parsed.scheme_str(), Some("https" | "http")) || parsed.host().is_none() {
        anyhow::bail!("{var}: must be an http(s) URL");
    }
    Ok(())
}

async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    var: &str,
) -> anyhow::Result<SecretString> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "reading {var}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(&e)
            )
        })?;
    let value = out
        .secret_string()
        .ok_or_else(|| anyhow::anyhow!("{var}: the secret has no string value"))?;
    let url = url_from_secret(value).map_err(|e| anyhow::anyhow!("{var}: {e}"))?;
    check_url(&url, var)?;
    Ok(url)
}

fn parse_env<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match env(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}: not a valid number")),
    }
}

/// Per-attempt timeout of a webhook post.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

impl Alerter {
    /// Configured from the environment (see the module docs).
    pub async fn from_env() -> anyhow::Result<Alerter> {
        let mut endpoints = Vec::new();
        let mut secrets = None;
        for (kind, url_var, arn_var) in [
            (
                Kind::Slack,
                "RUNWAY_ALERT_SLACK_WEBHOOK_URL",
                "RUNWAY_ALERT_SLACK_WEBHOOK_SECRET_ARN",
            ),
            (
                Kind::Json,
                "RUNWAY_ALERT_WEBHOOK_URL",
                "RUNWAY_ALERT_WEBHOOK_SECRET_ARN",
            ),
        ] {
            let endpoint = match (env(url_var), env(arn_var)) {
                (Some(url), _) => {
                    let url = SecretString::from(url);
                    check_url(&url, url_var)?;
                    Endpoint {
                        target: Target { kind, url },
                        source: Source::Env,
                        var: url_var,
                    }
                }
                (None, Some(arn)) => {
                    if secrets.is_none() {
                        let aws = aws_config::load_from_env().await;
                        secrets = Some(aws_sdk_secretsmanager::Client::new(&aws));
                    }
                    let client = secrets.as_ref().expect("set above");
                    let url = read_secret(client, &arn, arn_var).await?;
                    Endpoint {
                        target: Target { kind, url },
                        source: Source::Secret(arn),
                        var: arn_var,
                    }
                }
                (None, None) => continue,
            };
            endpoints.push(endpoint);
        }
        if endpoints.is_empty() {
            anyhow::bail!(
                "no alert target: set RUNWAY_ALERT_SLACK_WEBHOOK_URL, RUNWAY_ALERT_WEBHOOK_URL or their _SECRET_ARN forms"
            );
        }
        let window: u64 = parse_env("RUNWAY_ALERT_FLAP_WINDOW_SECS", 900)?;
        if window == 0 {
            anyhow::bail!("RUNWAY_ALERT_FLAP_WINDOW_SECS: must be at least 1");
        }
        let threshold: usize = parse_env("RUNWAY_ALERT_FLAP_THRESHOLD", 3)?;
        if threshold < 2 {
            anyhow::bail!("RUNWAY_ALERT_FLAP_THRESHOLD: must be at least 2");
        }
        let mut alerter = Alerter::with_endpoints(
            endpoints,
            env("RUNWAY_ALERT_ENVIRONMENT"),
            Flaps::new(Duration::from_secs(window), threshold),
        );
        alerter.secrets = secrets;
        Ok(alerter)
    }

    /// Targets given directly (tests, embedders).
    pub fn new(targets: Vec<Target>, environment: Option<String>, flaps: Flaps) -> Alerter {
        let endpoints = targets
            .into_iter()
            .map(|target| Endpoint {
                target,
                source: Source::Env,
                var: "webhook",
            })
            .collect();
        Alerter::with_endpoints(endpoints, environment, flaps)
    }

    fn with_endpoints(
        endpoints: Vec<Endpoint>,
        environment: Option<String>,
        flaps: Flaps,
    ) -> Alerter {
        Alerter {
            endpoints: endpoints.into_iter().map(Mutex::new).collect(),
            environment,
            http: HttpClient::new(None, ATTEMPT_TIMEOUT).expect("TLS configuration"),
            secrets: None,
            flaps: Mutex::new(flaps),
            decided: Mutex::new(Recent::new(1000)),
            posted: Mutex::new(Recent::new(2000)),
            attempts: 3,
            backoff: Duration::from_millis(500),
        }
    }

    /// Shorter retry waits (tests).
    pub fn with_backoff(mut self, backoff: Duration) -> Alerter {
        self.backoff = backoff;
        self
    }

    /// Another per-attempt timeout (tests).
    pub fn with_attempt_timeout(mut self, timeout: Duration) -> Alerter {
        self.http = HttpClient::new(None, timeout).expect("TLS configuration");
        self
    }

    /// Handle one SNS invocation: every target gets each message at once
    /// (concurrently). An error makes Lambda retry the invocation, then
    /// dead-letter it.
    pub async fn handle(&self, event: Value) -> Result<Value, anyhow::Error> {
        let event: SnsEvent =
            serde_json::from_value(event).map_err(|e| anyhow::anyhow!("not an SNS event: {e}"))?;
        let mut failed = 0;
        for record in &event.records {
            let sns = &record.sns;
            let post = self.decide(&sns.message_id, sns.subject.as_deref(), &sns.message);
            let Some(post) = post else { continue };
            let pending: Vec<usize> = (0..self.endpoints.len())
                .filter(|i| {
                    self.posted
                        .lock()
                        .expect("lock")
                        .get(&(sns.message_id.clone(), *i))
                        .is_none()
                })
                .collect();
            let results =
                futures::future::join_all(pending.iter().map(|&i| self.post(i, &post))).await;
            for (i, result) in pending.into_iter().zip(results) {
                match result {
                    Ok(()) => self
                        .posted
                        .lock()
                        .expect("lock")
                        .insert((sns.message_id.clone(), i), ()),
                    Err(e) => {
                        tracing::error!(error = %e, "alert not delivered");
                        failed += 1;
                    }
                }
            }
        }
        if failed > 0 {
            anyhow::bail!("{failed} alert deliveries failed");
        }
        Ok(serde_json::json!({}))
    }

    /// What to post for one SNS message (`None` when muted), decided once
    /// per message id.
    fn decide(&self, message_id: &str, subject: Option<&str>, message: &str) -> Option<Post> {
        if let Some(post) = self
            .decided
            .lock()
            .expect("lock")
            .get(&message_id.to_string())
        {
            return post.clone();
        }
        let post = self.make_post(subject, message);
        self.decided
            .lock()
            .expect("lock")
            .insert(message_id.to_string(), post.clone());
        post
    }

    fn make_post(&self, subject: Option<&str>, message: &str) -> Option<Post> {
        let Ok(alarm) = serde_json::from_str::<Alarm>(message) else {
            // Something else published to the alert topic: forward it as is.
            let text = match subject {
                Some(s) => format!("*{s}*\n{message}"),
                None => message.to_string(),
            };
            return Some(Post::Text(text, self.environment.clone()));
        };
        let (decision, window) = {
            let mut flaps = self.flaps.lock().expect("lock");
            let d = flaps.decide(&alarm.alarm_name, &alarm.new_state_value, Instant::now());
            (d, flaps.window())
        };
        let flapping = match decision {
            Decision::Mute => {
                tracing::info!(alarm = %alarm.alarm_name, state = %alarm.new_state_value, "flapping alarm: change muted");
                return None;
            }
            Decision::Flapping(n) => Some((n, window)),
            Decision::Post | Decision::PostWhileFlapping => None,
        };
        let mut text = text(&alarm, self.environment.as_deref(), flapping);
        if decision == Decision::PostWhileFlapping {
            text.push_str("\n(still flapping; other changes stay muted)");
        }
        Some(Post::Alarm(Box::new(JsonAlert {
            source: "runway-alert".into(),
            environment: self.environment.clone(),
            alarm: alarm.alarm_name.clone(),
            state: alarm.new_state_value.clone(),
            previous_state: alarm.old_state_value.clone(),
            reason: alarm.new_state_reason.clone(),
            description: alarm.alarm_description.clone(),
            metric: alarm.metric(),
            time: alarm.state_change_time.clone(),
            region: alarm.region().map(str::to_string),
            account: alarm.account_id.clone(),
            link: alarm.link(),
            flapping: flapping.is_some() || decision == Decision::PostWhileFlapping,
            text,
        })))
    }

    /// Post to endpoint `i`, with retries. A URL read from Secrets Manager
    /// that the webhook refuses (401/403/404/410: revoked or rotated) is
    /// read again once.
    async fn post(&self, i: usize, post: &Post) -> anyhow::Result<()> {
        let (kind, mut url, var, arn) = {
            let e = self.endpoints[i].lock().expect("lock");
            let arn = match &e.source {
                Source::Secret(arn) => Some(arn.clone()),
                Source::Env => None,
            };
            (e.target.kind, e.target.url.clone(), e.var, arn)
        };
        let body = serde_json::to_vec(&post.body(kind))?;
        let mut wait = self.backoff;
        let mut last = String::new();
        let mut reread = false;
        for attempt in 1..=self.attempts {
            let request = http::Request::post(url.expose_secret())
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body.clone())))
                // Never the URL in errors: it holds the webhook's credentials.
                .map_err(|_| anyhow::anyhow!("{var}: invalid URL"))?;
            match self.http.request(request).await {
                Ok(r) if (200..300).contains(&r.status) => return Ok(()),
                Ok(r) => {
                    last = format!("HTTP {}", r.status);
                    if matches!(r.status, 401 | 403 | 404 | 410)
                        && !reread
                        && let (Some(arn), Some(client)) = (&arn, &self.secrets)
                    {
                        reread = true;
                        match read_secret(client, arn, var).await {
                            Ok(fresh) => {
                                tracing::info!(target = ?kind, "webhook refused its URL; read the secret again");
                                self.endpoints[i].lock().expect("lock").target.url = fresh.clone();
                                url = fresh;
                            }
                            Err(e) => {
                                tracing::warn!(target = ?kind, error = %e, "reading the webhook secret again failed")
                            }
                        }
                    }
                }
                Err(e) => last = e.reason().to_string(),
            }
            tracing::warn!(target = ?kind, attempt, error = %last, "webhook attempt failed");
            if attempt < self.attempts {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
        anyhow::bail!("{kind:?} webhook: {last} after {} attempts", self.attempts)
    }
}

#[derive(Clone)]
enum Post {
    Alarm(Box<JsonAlert>),
    Text(String, Option<String>),
}

impl Post {
    fn body(&self, kind: Kind) -> Value {
        match (self, kind) {
            (Post::Alarm(a), Kind::Slack) => serde_json::json!({ "text": a.text }),
            (Post::Alarm(a), Kind::Json) => serde_json::to_value(a).unwrap_or_default(),
            (Post::Text(t, _), Kind::Slack) => serde_json::json!({ "text": t }),
            (Post::Text(t, env), Kind::Json) => serde_json::json!({
                "source": "runway-alert",
                "environment": env,
                "text": t,
                "flapping": false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flapping_is_collapsed_until_quiet_for_a_window() {
        let mut flaps = Flaps::new(Duration::from_secs(600), 3);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(flaps.decide("a", "ALARM", at(0)), Decision::Post);
        assert_eq!(flaps.decide("a", "OK", at(60)), Decision::Post);
        assert_eq!(flaps.decide("a", "ALARM", at(120)), Decision::Flapping(3));
        assert_eq!(flaps.decide("a", "OK", at(180)), Decision::Mute);
        // Another alarm is unaffected.
        assert_eq!(flaps.decide("b", "ALARM", at(190)), Decision::Post);
        // Still changing within the window: muted (the last message said
        // ALARM, so going back into ALARM needs no message).
        assert_eq!(flaps.decide("a", "ALARM", at(240)), Decision::Mute);
        assert_eq!(flaps.decide("a", "OK", at(700)), Decision::Mute);
        // Quiet for a whole window: a new episode.
        assert_eq!(flaps.decide("a", "ALARM", at(1400)), Decision::Post);
        assert_eq!(flaps.decide("a", "OK", at(2100)), Decision::Post);
    }

    #[test]
    fn a_flapping_alarm_going_into_alarm_is_never_muted_after_an_ok() {
        let mut flaps = Flaps::new(Duration::from_secs(600), 3);
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        assert_eq!(flaps.decide("a", "OK", at(0)), Decision::Post);
        assert_eq!(flaps.decide("a", "ALARM", at(10)), Decision::Post);
        // The flapping message announces OK...
        assert_eq!(flaps.decide("a", "OK", at(20)), Decision::Flapping(3));
        // ...so the next ALARM is posted although muted,
        assert_eq!(
            flaps.decide("a", "ALARM", at(30)),
            Decision::PostWhileFlapping
        );
        // and after that only changes that would hide an ALARM are.
        assert_eq!(flaps.decide("a", "OK", at(40)), Decision::Mute);
        assert_eq!(flaps.decide("a", "ALARM", at(50)), Decision::Mute);
    }

    #[test]
    fn secrets_hold_a_url_or_json() {
        assert_eq!(
            url_from_secret("https://hooks.example/x\n")
                .unwrap()
                .expose_secret(),
            "https://hooks.example/x"
        );
        assert_eq!(
            url_from_secret(r#"{"url":"https://hooks.example/y"}"#)
                .unwrap()
                .expose_secret(),
            "https://hooks.example/y"
        );
        let e = url_from_secret(r#"{"token":"https://hooks.example/z"}"#).unwrap_err();
        assert!(!e.to_string().contains("hooks.example"));
    }
}
