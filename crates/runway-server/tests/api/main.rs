//! runway's HTTP API, end to end over real sockets on port 0, each test with
//! its own data directory.
//!
//! The suite runs twice (see scripts/test): on the embedded backends, and
//! with `TESTKIT_BACKENDS=production` on MySQL, Redis, S3 and SQS.

mod helpers;

mod accounts;
mod auth;
mod bad_input;
mod events;
mod idempotency;
mod lambda;
mod media;
mod operations;
mod push;
mod push_providers;
mod rate_limits;
mod recovery;
mod redis_outage;
mod shutdown;
mod web_app;
