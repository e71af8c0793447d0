//! `runway admin`: operator commands against the configured database.

use anyhow::Context;
use clap::Subcommand;
use runway_core::Config;
use runway_store::{Db, DbOptions};
use uuid::Uuid;

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a server API key. It is printed once, alone on the last line;
    /// only its hash is stored.
    CreateKey {
        /// What the key may do (repeatable): notifications:send.
        #[arg(long = "scope", required = true, value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A label to recognise the key by.
        #[arg(long, default_value = "default")]
        name: String,
    },
    /// List API keys (ids, names, scopes; never the keys).
    ListKeys,
    /// Revoke an API key by id.
    RevokeKey { id: Uuid },
    /// Generate a VAPID key pair for Web Push: the private key for
    /// push.vapid_private_key, then the public key browsers subscribe with.
    VapidKey,
}

async fn db(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url(), &DbOptions::default())
        .await
        .context("connecting to the database")?;
    db.migrate().await.context("applying database migrations")?;
    Ok(db)
}

pub async fn run(command: AdminCommand, config: Config) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateKey { scopes, name } => {
            for scope in &scopes {
                if !runway_server::push::SCOPES.contains(&scope.as_str()) {
                    anyhow::bail!(
                        "unknown scope {scope:?}; known scopes: {}",
                        runway_server::push::SCOPES.join(", ")
                    );
                }
            }
            if name.is_empty() || name.len() > 128 {
                anyhow::bail!("--name must be 1 to 128 characters");
            }
            let db = db(&config).await?;
            let (key, hash) = runway_server::push::generate_api_key();
            let id = Uuid::now_v7();
            db.insert_api_key(id, &name, &hash, &scopes, runway_store::now_ms())
                .await?;
            tracing::info!(api_key_id = %id, name, scopes = scopes.join(" "), "API key created");
            println!("API key {id} ({name}; scopes: {}).", scopes.join(" "));
            println!("Store it now: it is not shown again and only its hash is kept.");
            println!("{key}");
            Ok(())
        }
        AdminCommand::ListKeys => {
            let db = db(&config).await?;
            for k in db.list_api_keys().await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    k.id,
                    k.name,
                    k.scopes.join(" "),
                    if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    }
                );
            }
            Ok(())
        }
        AdminCommand::RevokeKey { id } => {
            let db = db(&config).await?;
            if db.revoke_api_key(id, runway_store::now_ms()).await? {
                println!("revoked {id}");
                Ok(())
            } else {
                anyhow::bail!("no active API key {id}")
            }
        }
        AdminCommand::VapidKey => {
            let (private, public) = runway_push::generate_vapid_key();
            println!("push.vapid_private_key = {private}");
            println!("public key (applicationServerKey) = {public}");
            Ok(())
        }
    }
}
