//! `endpoint_sdk::main()`: the subcommands of a user's binary.

use clap::{Parser, Subcommand};

use crate::deploy::Manifest;
use crate::{Result, registry};

/// The command line of a binary built with endpoint-sdk.
#[derive(Debug, Parser)]
#[command(
    about = "An application built with endpoint-sdk: its endpoints, runnable locally and on Runpod Serverless."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every endpoint in this binary with its full configuration, as JSON.
    Manifest,
}

/// The application's name: the binary's file name.
pub fn app_name() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".to_string())
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let defs = registry::endpoints();
    registry::check(&defs)?;
    match cli.command {
        Command::Manifest => {
            println!("{}", Manifest::new(app_name(), &defs).to_json());
            Ok(())
        }
    }
}
