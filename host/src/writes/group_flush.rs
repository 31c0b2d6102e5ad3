//! Group commit for the sled journal: one thread flushes the tree, and one flush serves
//! every write that asked for durability before it started. With a flush per request on
//! the blocking pool, 64 clients pushing at once kept dozens of pool threads blocked in
//! sled's flush, woken one by one; here a waiter is a task waiting on a `watch`, and a
//! burst of parts done at once costs one flush.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use tokio::sync::watch;

/// The result of a round of flushing, for the waiters it covers.
#[derive(Debug, Clone)]
struct Round {
    /// The last request the round covers (requests are numbered from 1).
    covers: u64,
    /// Why the flush failed, if it did.
    failure: Option<Arc<str>>,
}

struct Requests {
    /// The number of the last request made.
    last: u64,
    stop: bool,
}

struct Shared {
    requests: Mutex<Requests>,
    wake: Condvar,
}

/// Handle to a tree's flushing thread; the thread stops when the last handle is dropped.
#[derive(Clone)]
pub struct GroupFlush {
    shared: Arc<Shared>,
    rounds: watch::Receiver<Round>,
    _stop: Arc<StopOnDrop>,
}

struct StopOnDrop(Arc<Shared>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.requests.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
        self.0.wake.notify_one();
    }
}

impl GroupFlush {
    /// Starts the flushing thread of `tree`.
    pub fn start(tree: sled::Tree) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Requests { last: 0, stop: false }),
            wake: Condvar::new(),
        });
        let (publish, rounds) = watch::channel(Round { covers: 0, failure: None });
        let worker = shared.clone();
        std::thread::Builder::new()
            .name("ats-journal-flush".into())
            .spawn(move || flush_rounds(&tree, &worker, &publish))?;
        Ok(GroupFlush { _stop: Arc::new(StopOnDrop(shared.clone())), shared, rounds })
    }

    /// Returns once a flush that started after this call has finished (everything written
    /// to the tree before the call is then on disk).
    pub async fn flush(&self) -> Result<(), String> {
        let ticket = {
            let mut requests = self.shared.requests.lock().unwrap_or_else(PoisonError::into_inner);
            requests.last += 1;
            requests.last
        };
        self.shared.wake.notify_one();
        let mut rounds = self.rounds.clone();
        let round = rounds
            .wait_for(|round| round.covers >= ticket)
            .await
            .map_err(|_| "the journal's flushing thread stopped".to_string())?;
        match &round.failure {
            None => Ok(()),
            Some(reason) => Err(reason.to_string()),
        }
    }
}

/// The thread: waits for requests, flushes once for all made before the flush starts,
/// publishes the round; ends when stopped (or no one listens any more).
fn flush_rounds(tree: &sled::Tree, shared: &Shared, publish: &watch::Sender<Round>) {
    let mut flushed = 0;
    loop {
        let covers = {
            let mut requests = shared.requests.lock().unwrap_or_else(PoisonError::into_inner);
            while requests.last <= flushed && !requests.stop {
                requests = shared.wake.wait(requests).unwrap_or_else(PoisonError::into_inner);
            }
            if requests.stop && requests.last <= flushed {
                return;
            }
            requests.last
        };
        let failure = tree.flush().err().map(|error| Arc::from(error.to_string()));
        flushed = covers;
        if publish.send(Round { covers, failure }).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_caller_is_answered_by_a_flush_that_started_after_it() {
        let db = sled::Config::new().temporary(true).open().expect("a temporary db");
        let tree = db.open_tree("t").expect("a tree");
        let group = GroupFlush::start(tree.clone()).expect("the thread starts");
        // Sequential callers: each waits for its own round.
        for i in 0u32..5 {
            tree.insert(i.to_be_bytes(), &b"x"[..]).expect("insert");
            group.flush().await.expect("flushed");
        }
        assert_eq!(group.rounds.borrow().covers, 5);
        // Concurrent callers share rounds; all are answered.
        let waits: Vec<_> = (0..64)
            .map(|_| {
                let group = group.clone();
                tokio::spawn(async move { group.flush().await })
            })
            .collect();
        for wait in waits {
            wait.await.expect("joined").expect("flushed");
        }
        assert_eq!(group.rounds.borrow().covers, 69, "the last round covers every request");
    }

    #[tokio::test]
    async fn the_thread_stops_with_the_last_handle() {
        let db = sled::Config::new().temporary(true).open().expect("a temporary db");
        let group = GroupFlush::start(db.open_tree("t").expect("a tree")).expect("starts");
        let rounds = group.rounds.clone();
        group.flush().await.expect("flushed");
        drop(group);
        // The publishing side goes away when the thread ends.
        let mut rounds = rounds;
        assert!(rounds.wait_for(|_| false).await.is_err(), "the thread ended");
    }
}
