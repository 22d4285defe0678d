//! `quarry storage sync SRC DST`: copy a file or folder between local paths and s3://, skipping what
//! the destination already has, markers last (how launched jobs stage data that lives on S3).

use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::storage::{sync, Location};

/// Flags of `quarry storage`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: StorageCommand,
}

/// Storage operations.
#[derive(clap::Subcommand, Debug)]
pub enum StorageCommand {
    /// Copy SRC to DST (local path or s3://bucket/prefix each): a file, or every file below a
    /// folder to the same relative path; files DST has with the same size are skipped; data first,
    /// manifests next, `_markers/` last.
    Sync {
        /// Source file or folder.
        src: String,
        /// Destination file or folder.
        dst: String,
    },
}

/// Runs `quarry storage`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    match a.command {
        StorageCommand::Sync { src, dst } => {
            let s = sync(&Location::parse(&src)?, &Location::parse(&dst)?)
                .with_context(|| format!("syncing {src} to {dst}"))?;
            eprintln!(
                "synced {} file(s), {} bytes: {src} → {dst}",
                s.files, s.bytes
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
