//! Admission of calls into the sandbox: how many calls of one connection, of one connector
//! version and of the whole process run at once. A call that finds its share taken waits in
//! a first-in, first-out queue for at most `limits.call_queue_timeout`, then fails `busy`,
//! naming whose slots are full. One connector can therefore hold at most its own share of
//! the instance pool, and the pool itself is never asked for more instances than it has
//! (other tenants' calls queue briefly instead of failing with the pool's error).

use super::limits::Limits;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Whose slots were all taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusyScope {
    /// Every slot of this connector version is in use (by its own calls).
    Connector,
    /// Every slot of this connection is in use.
    Connection,
    /// Every instance of the sandbox's pool is in use.
    Pool,
}

/// A call that could not get a slot in time.
#[derive(Debug, Clone)]
pub struct Busy {
    pub scope: BusyScope,
    pub limit: usize,
    pub waited: Duration,
}

/// Semaphores per key, created on first use and dropped when idle.
struct Keyed {
    limit: usize,
    semaphores: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// Keys above which idle semaphores are pruned on insert.
const PRUNE_ABOVE: usize = 1024;

impl Keyed {
    fn new(limit: usize) -> Self {
        Self { limit: limit.max(1), semaphores: Mutex::new(HashMap::new()) }
    }

    fn semaphore(&self, key: &str) -> Arc<Semaphore> {
        let mut map = self.semaphores.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(semaphore) = map.get(key) {
            return semaphore.clone();
        }
        if map.len() >= PRUNE_ABOVE {
            let limit = self.limit;
            map.retain(|_, s| Arc::strong_count(s) > 1 || s.available_permits() < limit);
        }
        let semaphore = Arc::new(Semaphore::new(self.limit));
        map.insert(key.to_string(), semaphore.clone());
        semaphore
    }
}

/// The three admission limits of a runtime.
pub struct CallGates {
    connections: Keyed,
    connectors: Keyed,
    pool: Arc<Semaphore>,
    pool_size: usize,
    queue_timeout: Duration,
}

/// The slots one admitted call holds; released on drop.
pub struct Admission {
    _connection: OwnedSemaphorePermit,
    _connector: OwnedSemaphorePermit,
    _pool: OwnedSemaphorePermit,
}

impl CallGates {
    pub fn new(limits: &Limits) -> Self {
        let pool_size = usize::try_from(limits.pooling_instances.max(1)).unwrap_or(usize::MAX);
        Self {
            connections: Keyed::new(limits.max_concurrent_calls_per_connection),
            connectors: Keyed::new(limits.max_concurrent_calls_per_connector),
            pool: Arc::new(Semaphore::new(pool_size)),
            pool_size,
            queue_timeout: limits.call_queue_timeout,
        }
    }

    /// Waits (FIFO) for a slot of `connection`, then of `connector` (a version's content
    /// hash), then of the pool. The connection's slot comes first, so one connection's
    /// backlog never holds connector or pool slots while it waits.
    pub async fn admit(&self, connector: &str, connection: &str) -> Result<Admission, Busy> {
        let started = tokio::time::Instant::now();
        let deadline = started + self.queue_timeout;
        let wait = |semaphore: Arc<Semaphore>, scope: BusyScope, limit: usize| async move {
            // A free slot is taken at once (no timer is set up); otherwise the call queues.
            // A free slot while others queue cannot happen: tokio's semaphore hands released
            // permits to its queue first, so `try_acquire` never overtakes a waiter.
            if let Ok(permit) = semaphore.clone().try_acquire_owned() {
                return Ok(permit);
            }
            match tokio::time::timeout_at(deadline, semaphore.acquire_owned()).await {
                Ok(Ok(permit)) => Ok(permit),
                // A closed semaphore cannot happen (they are never closed); treat as busy.
                Ok(Err(_)) | Err(_) => Err(Busy { scope, limit, waited: started.elapsed() }),
            }
        };
        let connection_permit = wait(
            self.connections.semaphore(connection),
            BusyScope::Connection,
            self.connections.limit,
        )
        .await?;
        let connector_permit =
            wait(self.connectors.semaphore(connector), BusyScope::Connector, self.connectors.limit)
                .await?;
        let pool_permit = wait(self.pool.clone(), BusyScope::Pool, self.pool_size).await?;
        Ok(Admission {
            _connection: connection_permit,
            _connector: connector_permit,
            _pool: pool_permit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gates(per_connection: usize, per_connector: usize) -> CallGates {
        CallGates::new(&Limits {
            max_concurrent_calls_per_connection: per_connection,
            max_concurrent_calls_per_connector: per_connector,
            call_queue_timeout: Duration::from_millis(50),
            pooling_instances: 100,
            ..Limits::default()
        })
    }

    #[tokio::test]
    async fn a_full_connector_is_busy_and_other_connectors_are_not() {
        let gates = gates(10, 2);
        let _a = gates.admit("hostile", "c1").await.expect("first");
        let _b = gates.admit("hostile", "c2").await.expect("second");
        let busy = gates.admit("hostile", "c3").await.err().expect("third waits, then busy");
        assert_eq!(busy.scope, BusyScope::Connector);
        assert_eq!(busy.limit, 2);
        assert!(gates.admit("victim", "c4").await.is_ok(), "another connector is admitted");
    }

    #[tokio::test]
    async fn a_full_connection_is_busy_and_a_released_slot_is_reused() {
        let gates = gates(1, 10);
        let first = gates.admit("x", "c1").await.expect("first");
        let busy = gates.admit("x", "c1").await.err().expect("busy");
        assert_eq!(busy.scope, BusyScope::Connection);
        drop(first);
        assert!(gates.admit("x", "c1").await.is_ok());
    }
}
