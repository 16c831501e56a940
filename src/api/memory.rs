//! Memory handed back to the system after a large request. A 2 MB body becomes tens of MB of
//! parsed values and issues on an HTTP worker and a validation thread; glibc's allocator keeps
//! what they free in per-thread arenas, so the resident size stays at its highest and, with
//! every thread its own arena, creeps up. `malloc_trim` returns the free pages of every arena.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};

/// Bodies from this size on are followed by a trim: below, the freed memory is small and the
/// allocator reuses it for the next request anyway.
pub const LARGE_BODY: usize = 1 << 20;

/// Noted on a request whose body was at least [`LARGE_BODY`] bytes (by `body::read`).
#[derive(Debug, Clone, Copy)]
pub struct LargeBody;

pub async fn release_after_large(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let response = next.call(req).await?;
    if response.request().extensions().get::<LargeBody>().is_some() {
        // After the handler: the parsed body and its issues are dropped by now. A trim walks
        // every arena (milliseconds), so not on an HTTP worker.
        tokio::task::spawn_blocking(trim);
    }
    Ok(response)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only releases free memory of the allocator's own arenas; it takes no
    // pointer and is safe to call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
