//! `quarry run RECIPE.toml`: run a recipe, all tasks or one.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::{Pipeline, RunOptions};

/// Flags of `quarry run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The recipe (TOML). See README "Recipes".
    pub recipe: PathBuf,
    #[command(flatten)]
    pub tasks: TaskArgs,
}

/// Task selection shared by the commands that run pipelines.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TaskArgs {
    /// Split the inputs into N tasks [default: the recipe's, or SLURM_ARRAY_TASK_COUNT].
    #[arg(long, value_name = "N")]
    pub tasks: Option<usize>,
    /// Run only task I (0-based) [default: all tasks, or SLURM_ARRAY_TASK_ID].
    #[arg(long, value_name = "I")]
    pub task: Option<usize>,
    /// Redo tasks that are already finished.
    #[arg(long)]
    pub force: bool,
    /// Worker threads [default: all cores].
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// No progress bars.
    #[arg(long)]
    pub no_progress: bool,
    /// Local staging folder when the output is s3://bucket/prefix [default: a folder per output URL
    /// under QUARRY_STAGING, else under quarry-staging in the system temp dir].
    #[arg(long, value_name = "DIR")]
    pub staging: Option<PathBuf>,
}

impl TaskArgs {
    /// Run options from flags, falling back to Slurm's array variables.
    pub fn options(&self) -> anyhow::Result<RunOptions> {
        let env_usize = |k: &str| -> anyhow::Result<Option<usize>> {
            match std::env::var(k) {
                Ok(v) => Ok(Some(
                    v.trim()
                        .parse()
                        .with_context(|| format!("{k}={v} is not a number"))?,
                )),
                Err(_) => Ok(None),
            }
        };
        let tasks = match self.tasks {
            Some(t) => Some(t),
            None => env_usize("SLURM_ARRAY_TASK_COUNT")?,
        };
        let task = match self.task {
            Some(t) => Some(t),
            // Slurm numbers array tasks from SLURM_ARRAY_TASK_MIN, usually 0.
            None => match (
                env_usize("SLURM_ARRAY_TASK_ID")?,
                env_usize("SLURM_ARRAY_TASK_MIN")?,
            ) {
                (Some(id), min) => Some(id - min.unwrap_or(0)),
                (None, _) => None,
            },
        };
        if let Some(n) = self.threads {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global()
                .context("setting the thread count")?;
        }
        Ok(RunOptions {
            tasks,
            task,
            force: self.force,
            progress: !self.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            staging: self.staging.clone(),
        })
    }
}

/// Runs the recipe and prints a summary.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.recipe)
        .with_context(|| format!("reading recipe {}", args.recipe.display()))?;
    let pipeline = Pipeline::new(&text, super::registry(), super::build_info())
        .with_context(|| format!("recipe {}", args.recipe.display()))?;
    super::run_pipeline(&pipeline, &args.tasks.options()?)
}
