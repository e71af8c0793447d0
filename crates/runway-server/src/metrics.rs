//! Prometheus metrics, one registry per app instance (no globals, so several
//! instances can live in one test process).

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use runway_jobs::{QueueStats, WorkerEvents};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderLabels {
    pub provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderReasonLabels {
    pub provider: String,
    pub reason: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: HistogramFamily<RouteLabels>,
    pub jobs_succeeded: Family<KindLabels, Counter>,
    pub jobs_retried: Family<KindLabels, Counter>,
    pub jobs_dead_lettered: Family<KindLabels, Counter>,
    pub job_duration: HistogramFamily<KindLabels>,
    /// Push deliveries accepted by the provider.
    pub push_sent: Family<ProviderLabels, Counter>,
    /// Push attempts that failed, by provider and reason (retried or not).
    pub push_failed: Family<ProviderReasonLabels, Counter>,
    /// Device tokens deleted because the provider reported them dead.
    pub push_pruned: Family<ProviderLabels, Counter>,
    pub push_latency: HistogramFamily<ProviderLabels>,
    /// Thumbnail Lambda reports recorded, by outcome.
    pub thumbnail_reports: Family<OutcomeLabels, Counter>,
    queue_depth: Gauge,
    queue_oldest_age: Gauge<f64, AtomicU64>,
    queue_dead: Gauge,
}

fn latency_histogram() -> Histogram {
    // 1 ms .. ~33 s
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("runway");
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_duration: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(latency_histogram);
        let jobs_succeeded = Family::<KindLabels, Counter>::default();
        let jobs_retried = Family::<KindLabels, Counter>::default();
        let jobs_dead_lettered = Family::<KindLabels, Counter>::default();
        let job_duration: HistogramFamily<KindLabels> =
            Family::new_with_constructor(latency_histogram);
        let push_sent = Family::<ProviderLabels, Counter>::default();
        let push_failed = Family::<ProviderReasonLabels, Counter>::default();
        let push_pruned = Family::<ProviderLabels, Counter>::default();
        let push_latency: HistogramFamily<ProviderLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "push_sent",
            "Push deliveries accepted by the provider",
            push_sent.clone(),
        );
        registry.register(
            "push_failed",
            "Push attempts that failed, by provider and reason",
            push_failed.clone(),
        );
        registry.register(
            "push_pruned",
            "Device tokens deleted after the provider reported them unregistered",
            push_pruned.clone(),
        );
        registry.register(
            "push_request_duration_seconds",
            "Latency of one provider request",
            push_latency.clone(),
        );
        let thumbnail_reports = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "thumbnail_reports",
            "Thumbnail Lambda reports recorded, by outcome (ready, failed, already_final, gone, mismatch)",
            thumbnail_reports.clone(),
        );
        let queue_depth = Gauge::default();
        let queue_oldest_age = Gauge::<f64, AtomicU64>::default();
        let queue_dead = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            http_duration.clone(),
        );
        registry.register(
            "jobs_succeeded",
            "Jobs completed successfully",
            jobs_succeeded.clone(),
        );
        registry.register(
            "jobs_retried",
            "Job attempts that failed and were scheduled for retry",
            jobs_retried.clone(),
        );
        registry.register(
            "jobs_dead_lettered",
            "Jobs moved to the dead-letter state",
            jobs_dead_lettered.clone(),
        );
        registry.register(
            "job_duration_seconds",
            "Run time of successful jobs",
            job_duration.clone(),
        );
        registry.register(
            "jobs_queue_depth",
            "Jobs waiting or running",
            queue_depth.clone(),
        );
        registry.register(
            "jobs_oldest_age_seconds",
            "Age of the oldest due job",
            queue_oldest_age.clone(),
        );
        registry.register(
            "jobs_dead_letter_count",
            "Jobs in the dead-letter state",
            queue_dead.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_duration,
            jobs_succeeded,
            jobs_retried,
            jobs_dead_lettered,
            job_duration,
            push_sent,
            push_failed,
            push_pruned,
            push_latency,
            thumbnail_reports,
            queue_depth,
            queue_oldest_age,
            queue_dead,
        }
    }

    /// Export a job kind's counters at zero, so rates and alerts see the
    /// series before its first event.
    pub fn thumbnail_report(&self, recorded: crate::media::Recorded) {
        use crate::media::Recorded;
        let outcome = match recorded {
            Recorded::Ready => "ready",
            Recorded::Failed => "failed",
            Recorded::AlreadyFinal => "already_final",
            Recorded::Gone => "gone",
            Recorded::Mismatch => "mismatch",
        };
        self.thumbnail_reports
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    pub fn register_job_kind(&self, kind: &str) {
        let labels = KindLabels { kind: kind.into() };
        drop(self.jobs_succeeded.get_or_create(&labels));
        drop(self.jobs_retried.get_or_create(&labels));
        drop(self.jobs_dead_lettered.get_or_create(&labels));
    }

    pub fn set_queue_stats(&self, stats: QueueStats) {
        self.queue_depth.set(stats.depth as i64);
        self.queue_oldest_age.set(stats.oldest_age_secs);
        self.queue_dead.set(stats.dead as i64);
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.http_requests
            .get_or_create(&RequestLabels {
                method: method.to_string(),
                route: route.to_string(),
                status: status.to_string(),
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                method: method.to_string(),
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Job outcomes feed the metrics.
pub struct JobMetrics(pub std::sync::Arc<Metrics>);

impl WorkerEvents for JobMetrics {
    fn succeeded(&self, kind: &str, elapsed: Duration) {
        let labels = KindLabels { kind: kind.into() };
        self.0.jobs_succeeded.get_or_create(&labels).inc();
        self.0
            .job_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    fn retried(&self, kind: &str, _attempt: u32) {
        self.0
            .jobs_retried
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc();
    }

    fn dead_lettered(&self, kind: &str) {
        self.0
            .jobs_dead_lettered
            .get_or_create(&KindLabels { kind: kind.into() })
            .inc();
    }
}
