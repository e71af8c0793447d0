//! One integration test binary for runway-media.

mod alloc;
mod avif;
mod build;
mod color;
mod fuzz;
mod inspect;
mod process;
mod props;
mod strip;
