//! `quarry stages`: list the stage types a recipe may use.

use std::process::ExitCode;

/// Flags of `quarry stages`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Prints each registered stage type with its description.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    for (name, desc) in super::registry().list() {
        println!("{name:<24} {desc}");
    }
    Ok(ExitCode::SUCCESS)
}
