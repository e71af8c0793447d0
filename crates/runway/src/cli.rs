use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use runway_core::Config;
use runway_core::config::{CONFIG_FILE_ENV, CliOverrides};
use runway_server::{Runway, ServeOptions, shutdown_signal, telemetry};

/// runway: a self-hostable backend for launching a mobile app.
#[derive(Parser, Debug)]
#[command(name = "runway", version, about)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = CONFIG_FILE_ENV, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Directory for the embedded database, blobs and generated keys.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API, with job workers in the same process (the main job).
    Serve {
        /// Address to listen on [env: RUNWAY_LISTEN] [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Serve the API only; run workers in separate `runway worker` processes.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run job workers only (no HTTP API).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Print the version.
    Version,
    /// Print the OpenAPI document.
    Openapi,
    /// Plan the VPC range and subnets for EKS (docs/network-planning.md).
    PlanNetwork(Box<crate::plan_network::Args>),
    /// Run the image pipeline on local files (no configuration or database).
    #[command(subcommand)]
    Media(crate::media_cmd::MediaCommand),
    /// Operator commands: server API keys, VAPID keys.
    #[command(subcommand)]
    Admin(crate::admin::AdminCommand),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::PlanNetwork(args) => return crate::plan_network::run(*args),
        Command::Media(command) => return crate::media_cmd::run(command),
        Command::Version => {
            println!("runway {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Openapi => match serde_json::to_string_pretty(&runway_server::openapi::document())
        {
            Ok(doc) => {
                println!("{doc}");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("runway: {e}");
                return ExitCode::FAILURE;
            }
        },
        _ => {}
    }

    let listen = match &cli.command {
        Command::Serve { listen, .. } => *listen,
        _ => None,
    };
    let overrides = CliOverrides {
        listen,
        data_dir: cli.data_dir.clone(),
    };
    let loaded = match Config::load(cli.config.as_deref(), &overrides) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("runway: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(loaded.config.log_format, &loaded.config.log_filter);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runway: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, loaded.config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "runway failed");
            eprintln!("runway: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { no_workers, .. } => {
            let listen = config.listen;
            let runway = Runway::build(config).await?;
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            runway
                .serve(
                    listener,
                    ServeOptions {
                        workers: !no_workers,
                    },
                    shutdown_signal(),
                )
                .await
        }
        Command::Worker => {
            let listener = match config.worker_listen {
                Some(addr) => Some(
                    tokio::net::TcpListener::bind(addr)
                        .await
                        .with_context(|| format!("binding {addr}"))?,
                ),
                None => None,
            };
            Runway::build(config)
                .await?
                .work(listener, shutdown_signal())
                .await
        }
        Command::Admin(command) => crate::admin::run(command, config).await,
        Command::Migrate => {
            Runway::build(config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Version | Command::Openapi | Command::PlanNetwork(_) | Command::Media(_) => Ok(()),
    }
}
