//! runway's HTTP API, end to end over real sockets on port 0, each test with
//! its own data directory.

mod helpers;

mod accounts;
mod auth;
mod bad_input;
mod idempotency;
mod operations;
mod rate_limits;
mod shutdown;
