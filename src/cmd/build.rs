//! `quarry build`: the main job. With no arguments it generates the built-in sample crawl and runs the
//! embedded default recipe on it, writing everything to `./quarry-out`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::recipe::Recipe;
use quarry_corpus::sample::{write_sample_crawl, SampleConfig};
use quarry_corpus::Pipeline;

use super::run::TaskArgs;

/// The embedded default recipe.
pub const DEFAULT_RECIPE: &str = include_str!("../../recipes/default.toml");

/// Flags of `quarry build`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input files or globs [default: the built-in sample crawl, generated into OUT/input].
    #[arg(long, short, num_args = 1.., value_name = "PATH")]
    pub input: Vec<String>,
    /// Output folder.
    #[arg(long, short, default_value = "quarry-out")]
    pub out: PathBuf,
    /// A recipe to use instead of the embedded default (its [input] and [output] paths are replaced).
    #[arg(long)]
    pub recipe: Option<PathBuf>,
    /// Print the embedded default recipe and exit.
    #[arg(long)]
    pub print_recipe: bool,
    /// Pages in the built-in sample crawl.
    #[arg(long, default_value_t = 2000)]
    pub sample_docs: usize,
    /// Seed of the built-in sample crawl.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub tasks: TaskArgs,
}

/// Runs the main job.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.print_recipe {
        print!("{DEFAULT_RECIPE}");
        return Ok(ExitCode::SUCCESS);
    }
    let text = match &args.recipe {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading recipe {}", p.display()))?
        }
        None => DEFAULT_RECIPE.to_string(),
    };
    let mut recipe = Recipe::parse(&text)?;
    let inputs = if args.input.is_empty() {
        let dir = args.out.join("input");
        let cfg = SampleConfig {
            docs: args.sample_docs,
            seed: args.seed,
            ..Default::default()
        };
        let s = write_sample_crawl(&cfg, &dir).context("writing the built-in sample crawl")?;
        eprintln!(
            "sample crawl: {} pages in {}",
            s.pages,
            s.warc.path.display()
        );
        vec![s.warc.path.display().to_string()]
    } else {
        args.input.clone()
    };
    recipe.input.paths = inputs;
    recipe.output.path = args.out.join("corpus").display().to_string();
    let pipeline = Pipeline::from_recipe(recipe, super::registry(), super::build_info())?;
    let code = super::run_pipeline(&pipeline, &args.tasks.options()?)?;
    Ok(code)
}
