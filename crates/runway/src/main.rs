//! The `runway` binary: parse the command line, load configuration, hand
//! over to the library. Nothing else lives here.

mod admin;
mod cli;
mod media_cmd;
mod plan_network;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
