use std::time::{Duration, SystemTime};

use rand::Rng;

/// The longest `Retry-After` honoured; anything longer is capped.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// `Retry-After` (RFC 9110 §10.2.3): either delay-seconds or an HTTP-date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Parse a header value relative to `now`. A date in the past gives a
    /// zero delay; garbage gives `None`; delays are capped at one day.
    pub fn parse(value: &str, now: SystemTime) -> Option<RetryAfter> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        let delay = if value.bytes().all(|b| b.is_ascii_digit()) {
            Duration::from_secs(value.parse::<u64>().unwrap_or(u64::MAX))
        } else {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        };
        Some(RetryAfter(delay.min(MAX_RETRY_AFTER)))
    }

    /// The delay from a response's `Retry-After` header, if it has a valid one.
    pub fn from_headers(headers: &http::HeaderMap, now: SystemTime) -> Option<Duration> {
        let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
        RetryAfter::parse(value, now).map(|r| r.0)
    }
}

/// Exponential backoff with full jitter: a uniformly random delay in
/// `[0, min(max, base * 2^attempt)]` (attempt 0 is the first retry).
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let cap = base
        .checked_mul(2u32.saturating_pow(attempt.min(31)))
        .unwrap_or(max)
        .min(max);
    let cap_ms = cap.as_millis().min(u64::MAX as u128) as u64;
    if cap_ms == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(rand::rng().random_range(0..=cap_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00 GMT
        assert_eq!(
            RetryAfter::parse("120", now),
            Some(RetryAfter(Duration::from_secs(120)))
        );
        assert_eq!(
            RetryAfter::parse(" 0 ", now),
            Some(RetryAfter(Duration::ZERO))
        );
        assert_eq!(
            RetryAfter::parse("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(RetryAfter(Duration::from_secs(120)))
        );
        assert_eq!(
            RetryAfter::parse("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(RetryAfter(Duration::ZERO))
        );
        assert_eq!(RetryAfter::parse("soon", now), None);
        assert_eq!(RetryAfter::parse("-5", now), None);
        assert_eq!(RetryAfter::parse("1.5", now), None);
        assert_eq!(RetryAfter::parse("", now), None);
        assert_eq!(
            RetryAfter::parse("99999999999999999999999", now),
            Some(RetryAfter(MAX_RETRY_AFTER))
        );
    }

    #[test]
    fn from_headers_reads_retry_after() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(RetryAfter::from_headers(&headers, SystemTime::now()), None);
        headers.insert(http::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(
            RetryAfter::from_headers(&headers, SystemTime::now()),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn backoff_stays_within_full_jitter_bounds() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(10);
        for attempt in 0..40 {
            let cap = (base * 2u32.saturating_pow(attempt.min(31))).min(max);
            let mut seen_low = false;
            let mut seen_high = false;
            for _ in 0..400 {
                let d = backoff(attempt, base, max);
                assert!(d <= cap, "attempt {attempt}: {d:?} > {cap:?}");
                seen_low |= d < cap / 2;
                seen_high |= d >= cap / 2;
            }
            // Full jitter spreads over the whole range, not just near the cap.
            assert!(seen_low && seen_high, "attempt {attempt} not jittered");
        }
        assert_eq!(backoff(3, Duration::ZERO, max), Duration::ZERO);
        assert!(backoff(u32::MAX, Duration::from_secs(u64::MAX / 4), max) <= max);
    }
}
