//! The command line: `serve`, `migrate` and `admin ...`. Each command reads the configuration from the
//! environment (see `.env.sample`).

pub mod admin;
mod kube_target;
mod serve;

use clap::{Parser, Subcommand};

pub use admin::AdminCommand;

/// ESaaS Portal: self-service Elasticsearch on Kubernetes.
#[derive(Debug, Parser)]
#[command(name = "esaas", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database and serve the portal (and the reconciler) until SIGINT/SIGTERM.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Administrative actions (users, first admin, tokens).
    Admin {
        /// The action.
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// Run a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = crate::config::Config::from_env()?;
    crate::telemetry::init(config.log_json);
    match cli.command {
        Command::Serve => serve::serve(config).await,
        Command::Migrate => {
            let pool = crate::db::connect_lazy(&config)?;
            crate::wait_and_migrate(&pool, std::time::Duration::from_secs(30)).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin { command } => admin::run(config, command).await,
    }
}
