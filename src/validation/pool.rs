//! Validation off the HTTP workers. A validation can take CPU seconds (a large document, a hostile
//! instance); run on an HTTP worker it would hold up every request queued behind it, `GET
//! /metadata` and reads included. Here at most `threads` validations run at once, on tokio's
//! blocking threads; at most `queue` more wait for a turn; past that the request is refused at
//! once (503, Retry-After) rather than queued without end.

use std::sync::Arc;

use prometheus_client::metrics::histogram::Histogram;
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
    /// Where each job's running time goes (the metrics' validation histogram).
    timing: Option<Histogram>,
}

impl CpuPool {
    pub fn new(threads: usize, queue: usize) -> Self {
        CpuPool {
            running: Arc::new(Semaphore::new(threads)),
            admitted: Arc::new(Semaphore::new(threads.saturating_add(queue))),
            timing: None,
        }
    }

    /// The same pool, observing each job's running time (not its wait for a thread) in
    /// `histogram`.
    pub fn timed(self, histogram: Histogram) -> Self {
        CpuPool {
            timing: Some(histogram),
            ..self
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
        let timing = self.timing.clone();
        tokio::task::spawn_blocking(move || {
            let _held = (admitted, running);
            let started = std::time::Instant::now();
            let done = job();
            if let Some(h) = timing {
                h.observe(started.elapsed().as_secs_f64());
            }
            done
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

    #[tokio::test]
    async fn a_timed_pool_observes_each_job_it_runs() {
        let histogram = Histogram::new([1.0]);
        let pool = CpuPool::new(1, 0).timed(histogram.clone());
        assert_eq!(pool.run(|| 1).await, Ok(1));
        assert_eq!(pool.run(|| 2).await, Ok(2));
        let mut registry = prometheus_client::registry::Registry::default();
        registry.register("validation", "", histogram);
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        assert!(text.lines().any(|l| l == "validation_count 2"), "{text}");
    }
}
