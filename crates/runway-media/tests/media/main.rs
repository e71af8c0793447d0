//! One integration test binary for runway-media.

mod alloc;
mod build;
mod inspect;
mod process;
mod props;
mod strip;
