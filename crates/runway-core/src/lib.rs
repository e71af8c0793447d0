//! Domain types validated at construction, and runway's configuration.
//!
//! Nothing here talks to the outside world: the server, the workers and the
//! command line all build on these types.

pub mod config;
pub mod domain;
pub mod secret;

pub use config::Config;
pub use secret::Secret;
