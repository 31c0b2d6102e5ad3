//! The threads CPU-bound guest code runs on: a tokio runtime of its own, one worker per
//! core, apart from the runtime that serves the API, the scheduler and the webhook worker.
//! A call starts on its caller's task and moves here at its first epoch yield (it has
//! computed for a whole tick). Yielding alone is not enough: a runtime whose workers are busy
//! with guests polls its sockets only every few dozen task polls (hundreds of milliseconds
//! when each poll is a 10 ms slice of a spinning guest). Here, guests compete with the API
//! only for CPU, which the operating system shares fairly, so `/health` and the scheduler
//! keep answering however many guests spin.

use std::future::Future;
use tokio::task::JoinHandle;

pub struct WasmPool {
    runtime: Option<tokio::runtime::Runtime>,
}

impl WasmPool {
    /// A pool of `threads` workers (at least one).
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("ats-wasm")
            .enable_all()
            .build()?;
        Ok(Self { runtime: Some(runtime) })
    }

    /// Runs `future` on the pool; dropping the returned handle cancels it.
    pub fn spawn<F>(&self, future: F) -> AbortOnDrop<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.runtime {
            Some(runtime) => AbortOnDrop(runtime.spawn(future)),
            // Only during drop, when no call can be made any more.
            None => AbortOnDrop(tokio::spawn(future)),
        }
    }
}

impl Drop for WasmPool {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which is not allowed inside another runtime (tests and
        // the CLI drop the sandbox there): stop it in the background instead.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A task handle that aborts the task when dropped: a caller that gives up on a call (its
/// request was cancelled, an outer deadline passed) does not leave the guest running.
pub struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
