//! `quarry lineage verify DIR`: re-hashes every file a release bundle names.

use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `quarry lineage`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// `quarry lineage` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Re-hash every file named by DIR/lineage.json, DIR/croissant.json and the manifests they name;
    /// report each missing or changed file (exit 1 if any).
    Verify {
        /// The card folder (holds lineage.json).
        dir: PathBuf,
    },
}

/// Runs `quarry lineage`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    match a.command {
        Command::Verify { dir } => {
            let r = quarry_datacards::verify(&dir)?;
            for p in &r.problems {
                println!("FAIL {}: {}", p.path, p.message);
            }
            if !r.unverifiable.is_empty() {
                println!(
                    "{} file(s) not verifiable here (URLs, or absent when the card was written): {}",
                    r.unverifiable.len(),
                    r.unverifiable.join(", ")
                );
            }
            if r.ok() {
                println!("OK: {} files re-hashed, all match", r.checked);
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "{} problem(s) in {} files re-hashed",
                    r.problems.len(),
                    r.checked
                );
                Ok(ExitCode::from(1))
            }
        }
    }
}
