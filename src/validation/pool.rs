//! Validation off the HTTP workers. A validation can take CPU seconds (a large document, a hostile
//! instance); run on an HTTP worker it would hold up every request queued behind it, `GET
//! /metadata` and reads included. Here at most `threads` validations run at once, on tokio's
//! blocking threads; at most `queue` more wait for a turn; past that the request is refused at
//! once (503, Retry-After) rather than queued without end.

use std::sync::Arc;

use tokio::sync::Semaphore;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    #[error("every validation thread is busy and the queue is full")]
    Busy,
    #[error("a validation task failed: {0}")]
    Failed(String),
}

/// A handle on the pool; clones share it.
#[derive(Debug, Clone)]
pub struct CpuPool {
    /// One permit per validation thread.
    running: Arc<Semaphore>,
    /// One permit per validation running or waiting: what bounds the queue.
    admitted: Arc<Semaphore>,
}

impl CpuPool {
    pub fn new(threads: usize, queue: usize) -> Self {
        CpuPool {
            running: Arc::new(Semaphore::new(threads)),
            admitted: Arc::new(Semaphore::new(threads.saturating_add(queue))),
        }
    }

    /// Runs `job` on a validation thread once one is free; `Busy` at once if the queue is full.
    /// A caller that gives up while waiting leaves the queue; a job already running finishes
    /// and holds its thread until then, so the count stays true to the CPU in use.
    pub async fn run<T, F>(&self, job: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let admitted = Arc::clone(&self.admitted)
            .try_acquire_owned()
            .map_err(|_| PoolError::Busy)?;
        let running = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| PoolError::Busy)?;
        tokio::task::spawn_blocking(move || {
            let _held = (admitted, running);
            job()
        })
        .await
        .map_err(|e| PoolError::Failed(e.to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_frees_as_jobs_end() {
        let pool = CpuPool::new(1, 1);
        let (release, wait) = mpsc::channel::<()>();
        let (started, running) = mpsc::channel::<()>();
        let first = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || {
                    started.send(()).unwrap();
                    wait.recv().unwrap();
                })
                .await
            }
        });
        running.recv_timeout(Duration::from_secs(10)).unwrap();
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| 2).await }
        });
        // Let the second job take its place in the queue.
        while pool.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.run(|| 3).await, Err(PoolError::Busy));
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(queued.await.unwrap(), Ok(2));
        assert_eq!(pool.run(|| 4).await, Ok(4));
    }
}
