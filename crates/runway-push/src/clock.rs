use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Wall-clock time for token lifetimes (APNs/VAPID JWTs, OAuth2 access
/// tokens). Production uses [`Clock::system`]; tests use [`Clock::offset`]
/// and [`Clock::advance`] to age tokens without sleeping.
#[derive(Clone, Default)]
pub struct Clock {
    offset_ms: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { offset_ms: None }
    }

    /// The system clock plus an offset that starts at zero and grows with
    /// [`Clock::advance`]. Clones share the offset.
    pub fn offset() -> Clock {
        Clock {
            offset_ms: Some(Arc::new(AtomicU64::new(0))),
        }
    }

    /// Move an offset clock forward (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Some(offset) = &self.offset_ms {
            offset.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
        }
    }

    pub fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        match &self.offset_ms {
            None => now,
            Some(offset) => now + Duration::from_millis(offset.load(Ordering::SeqCst)),
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> u64 {
        self.now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.offset_ms {
            None => f.write_str("Clock::system"),
            Some(o) => write!(f, "Clock::offset({}ms)", o.load(Ordering::SeqCst)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_clock_advances_and_clones_share() {
        let clock = Clock::offset();
        let other = clock.clone();
        let before = clock.unix();
        clock.advance(Duration::from_secs(3600));
        assert!(other.unix() >= before + 3600);
        assert!(other.unix() < before + 3600 + 60);
        let system = Clock::system();
        system.advance(Duration::from_secs(3600));
        assert!(system.unix() < before + 60);
    }
}
