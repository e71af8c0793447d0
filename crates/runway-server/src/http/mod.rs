//! The HTTP edge: extractors and middleware.

pub mod extract;
pub mod idempotency;
pub mod middleware;
