//! One module per subcommand: its clap `Args` and a `run` that calls the crates.

pub mod stages;

use quarry_corpus::StepRegistry;

/// Every stage type of every crate. Only the CLI knows all crates, so only it builds the full registry.
pub fn registry() -> StepRegistry {
    let mut reg = StepRegistry::new();
    quarry_filters::register(&mut reg);
    quarry_dedup::register(&mut reg);
    reg
}
