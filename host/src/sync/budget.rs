//! One rate budget per connection, shared by syncs and writes: a token bucket of connector
//! calls per second, and a cool-down after the ATS answered 429 with `Retry-After`, during
//! which nothing is sent to that ATS for that connection.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

struct Bucket {
    tokens: f64,
    refilled: Instant,
    cool_down_until: Option<Instant>,
}

pub struct RateBudgets {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateBudgets {
    pub fn new(per_second: f64) -> Self {
        let per_second = per_second.max(0.01);
        RateBudgets { per_second, burst: per_second.max(1.0), buckets: Mutex::new(HashMap::new()) }
    }

    /// How long the caller must wait before its next call for `connection` (and takes the
    /// token when the answer is zero).
    fn reserve(&self, connection: &str) -> Duration {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let bucket = buckets.entry(connection.to_string()).or_insert(Bucket {
            tokens: self.burst,
            refilled: now,
            cool_down_until: None,
        });
        if let Some(until) = bucket.cool_down_until {
            if until > now {
                return until - now;
            }
            bucket.cool_down_until = None;
        }
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second)
        }
    }

    /// Waits for a token of `connection`'s budget; returns how long it waited.
    pub async fn acquire(&self, connection: &str, connector: &str) -> Duration {
        let mut waited = Duration::ZERO;
        loop {
            let wait = self.reserve(connection);
            if wait.is_zero() {
                if !waited.is_zero() {
                    crate::metrics::global().rate_limit_wait(connector, waited);
                }
                return waited;
            }
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    /// The time left of `connection`'s cool-down, if any.
    pub fn cool_down_left(&self, connection: &str) -> Option<Duration> {
        let buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let until = buckets.get(connection)?.cool_down_until?;
        until.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }

    /// The ATS asked to wait `retry_after` before calling again for `connection`.
    pub fn cool_down(&self, connection: &str, retry_after: Duration) {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let bucket = buckets.entry(connection.to_string()).or_insert(Bucket {
            tokens: self.burst,
            refilled: now,
            cool_down_until: None,
        });
        let until = now + retry_after;
        bucket.cool_down_until = Some(bucket.cool_down_until.map_or(until, |u| u.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_budget_spaces_calls_and_a_cool_down_blocks_the_connection_only() {
        let budgets = RateBudgets::new(20.0);
        for _ in 0..20 {
            assert_eq!(budgets.acquire("a", "x").await, Duration::ZERO, "burst is free");
        }
        assert!(budgets.acquire("a", "x").await > Duration::ZERO, "the 21st call waits");
        budgets.cool_down("a", Duration::from_millis(200));
        assert!(budgets.cool_down_left("a").is_some());
        assert!(budgets.cool_down_left("b").is_none());
        assert_eq!(
            budgets.acquire("b", "x").await,
            Duration::ZERO,
            "other connections are not affected"
        );
        assert!(budgets.acquire("a", "x").await >= Duration::from_millis(150));
    }
}
