//! `quarry launch slurm|local RECIPE.toml --tasks N --out DIR`: the whole build (the stages of
//! `quarry build`) as a chain of jobs, each stage one array job of independent, idempotent tasks.
//!
//! [`plan::plan`] is the one description of the stages: every entry is a `quarry` command line that one
//! array task runs (its slot comes from `SLURM_ARRAY_TASK_ID`), so a stage added here (e.g. the data
//! card) runs under every executor. `slurm` writes one sbatch script per stage and submits them chained
//! with `afterok`; `local` runs the same commands one task after the other on this machine (for tests
//! and for machines without a scheduler). Both leave the same per-task completion markers, which
//! `quarry status` reads:
//!
//! ```text
//! DIR/recipe.toml              the recipe with [output] path = DIR/corpus
//! DIR/launch.json              stages, array sizes, commands, job ids
//! DIR/slurm/NN-<stage>.sbatch  the generated job scripts
//! DIR/logs/<stage>-%A_%a.log   one log per array task (Slurm's job id and task index)
//! DIR/_launch/<stage>/task-NNNNN.done | .failed   per-task outcome, written by the job wrapper
//! DIR/corpus/ DIR/dedup/ DIR/tokenizer.json DIR/tokens/   the outputs, as `quarry build` lays them out
//! ```

//!
//! `plan.rs` turns a recipe into the stage commands, `script.rs` turns a stage into the shell body
//! every task runs (retries, markers) and the sbatch script; this file holds the flags and the two
//! executors.

mod plan;
mod script;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;
use quarry_corpus::recipe::Recipe;
use serde::{Deserialize, Serialize};

use plan::s;
pub use plan::{plan, DataRoot, Stage};
use script::{sbatch_script, task_body};

/// Flags of `quarry launch`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub executor: Executor,
}

/// Where the jobs run.
#[derive(clap::Subcommand, Debug)]
pub enum Executor {
    /// Submit every stage as an sbatch array job, chained with afterok dependencies.
    Slurm(SlurmArgs),
    /// Run the same stage commands here, task after task (no scheduler).
    Local(CommonArgs),
}

/// Flags every executor takes.
#[derive(clap::Args, Debug, Clone)]
pub struct CommonArgs {
    /// The recipe (TOML); its [input] paths are used as they are (local, shared storage or s3://).
    pub recipe: PathBuf,
    /// Tasks of the per-input stages (extraction/filtering, dedup signatures and filter).
    #[arg(long, value_name = "N")]
    pub tasks: usize,
    /// Run folder (on storage every node sees): scripts, logs, markers, and the outputs unless
    /// --data puts them elsewhere.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Where the outputs and intermediates go: a folder every node sees, or s3://bucket/prefix
    /// [default: the run folder]. With s3://, the extraction and dedup tasks read and write the
    /// bucket directly; the tokenizer, tokenize and card jobs copy what they read into their node's
    /// staging folder and upload what they write (markers last). Jobs need the AWS_* environment
    /// (Slurm passes the submitter's environment on).
    #[arg(long, value_name = "LOC")]
    pub data: Option<String>,
    /// Local folder on each node for copies of s3:// data [default: QUARRY_STAGING, else
    /// quarry-staging in the system temp folder].
    #[arg(long, value_name = "DIR")]
    pub staging: Option<PathBuf>,
    /// The quarry binary the jobs run [default: this one].
    #[arg(long, value_name = "PATH")]
    pub quarry: Option<PathBuf>,
    /// Attempts after a failed task (tasks are idempotent, so a retry redoes only unfinished work).
    #[arg(long, default_value_t = 2, value_name = "R")]
    pub retries: u32,
}

/// Flags of `quarry launch slurm`.
#[derive(clap::Args, Debug)]
pub struct SlurmArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// sbatch --partition.
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// sbatch --cpus-per-task (also the thread count of each task).
    #[arg(long, value_name = "C")]
    pub cpus_per_task: Option<u32>,
    /// sbatch --mem (e.g. 8G).
    #[arg(long, value_name = "M")]
    pub mem: Option<String>,
    /// sbatch --time (e.g. 04:00:00).
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    /// Most array tasks of one stage running at once (sbatch --array=…%K).
    #[arg(long, value_name = "K")]
    pub max_running: Option<usize>,
    /// Extra sbatch flags, passed through (e.g. --account=A, --qos=Q); repeatable.
    #[arg(long = "sbatch-arg", value_name = "FLAG", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
    /// Print the job scripts and submit nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// What `launch.json` records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LaunchRecord {
    /// `slurm` or `local`.
    pub executor: String,
    /// The recipe as given.
    pub recipe: String,
    /// Per-input tasks.
    pub tasks: usize,
    /// Attempts after a failure.
    pub retries: u32,
    /// Stages in order, with their Slurm job ids once submitted.
    pub stages: Vec<LaunchedStage>,
}

/// A stage and its job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LaunchedStage {
    /// The stage.
    #[serde(flatten)]
    pub stage: Stage,
    /// The job script.
    pub script: Option<String>,
    /// Slurm job id.
    pub job_id: Option<String>,
}

/// Variables every job script exports (name, value).
type Exports = Vec<(String, String)>;

/// Where `--data` (or the run folder) puts the outputs.
fn data_root(c: &CommonArgs, dir: &Path) -> anyhow::Result<DataRoot> {
    let Some(data) = &c.data else {
        return Ok(DataRoot::local(dir));
    };
    match quarry_corpus::storage::Location::parse(data)? {
        quarry_corpus::storage::Location::Local(p) => Ok(DataRoot::local(&std::path::absolute(p)?)),
        loc @ quarry_corpus::storage::Location::S3 { .. } => {
            let root = match &c.staging {
                Some(p) => std::path::absolute(p)?,
                None => quarry_corpus::storage::staging_root(),
            };
            let tag = quarry_corpus::storage::location_tag(&loc);
            Ok(DataRoot {
                root: loc.to_string(),
                mirror: Some(root.join(format!("launch-{tag}"))),
            })
        }
        quarry_corpus::storage::Location::Http(u) => {
            anyhow::bail!("--data {u}: outputs go to a folder or s3://bucket/prefix")
        }
    }
}

/// Prepares the run folder: the recipe with its output in `DATA/corpus`, the folders, and the
/// environment every job needs. Returns (recipe path, recipe, data root, exports).
fn prepare(c: &CommonArgs) -> anyhow::Result<(PathBuf, Recipe, DataRoot, Exports)> {
    let text = std::fs::read_to_string(&c.recipe)
        .with_context(|| format!("reading recipe {}", c.recipe.display()))?;
    let mut recipe = Recipe::parse(&text)?;
    std::fs::create_dir_all(&c.out).with_context(|| format!("creating {}", c.out.display()))?;
    let dir = std::path::absolute(&c.out)?;
    let data = data_root(c, &dir)?;
    recipe.output.path = data.at("corpus");
    let rp = dir.join("recipe.toml");
    let new_text = recipe.to_toml();
    // A resubmission into the same folder must not change the recipe under finished tasks.
    if let Ok(old) = std::fs::read_to_string(&rp) {
        anyhow::ensure!(
            old == new_text,
            "{} holds a run of another recipe; use another --out",
            dir.display()
        );
    }
    quarry_corpus::storage::write_atomic(&rp, new_text.as_bytes())?;
    for sub in ["logs", "slurm", "_launch"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let mut env = Vec::new();
    if super::build::needs_lid_model(&recipe) {
        let p = super::models::ensure_lid_model()?;
        env.push((s("QUARRY_LID_MODEL"), p.display().to_string()));
    } else if let Ok(p) = std::env::var("QUARRY_LID_MODEL") {
        env.push((s("QUARRY_LID_MODEL"), p));
    }
    if let Some(p) = &c.staging {
        env.push((
            s("QUARRY_STAGING"),
            std::path::absolute(p)?.display().to_string(),
        ));
    }
    Ok((rp, recipe, data, env))
}

fn quarry_bin(c: &CommonArgs) -> anyhow::Result<PathBuf> {
    match &c.quarry {
        Some(p) => Ok(std::path::absolute(p)?),
        None => std::env::current_exe().context("locating the quarry binary"),
    }
}

/// Runs `quarry launch`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.executor {
        Executor::Slurm(a) => run_slurm(a),
        Executor::Local(c) => run_local(c),
    }
}

fn write_record(dir: &Path, rec: &LaunchRecord) -> anyhow::Result<()> {
    quarry_corpus::storage::write_atomic(
        dir.join("launch.json"),
        &serde_json::to_vec_pretty(rec).expect("serialises"),
    )?;
    Ok(())
}

fn run_slurm(a: SlurmArgs) -> anyhow::Result<ExitCode> {
    let c = &a.common;
    let (rp, recipe, data, env) = prepare(c)?;
    let dir = std::path::absolute(&c.out)?;
    let quarry = quarry_bin(c)?;
    let stages = plan(&rp, &recipe, c.tasks, &data)?;
    let mut rec = LaunchRecord {
        executor: s("slurm"),
        recipe: c.recipe.display().to_string(),
        tasks: c.tasks,
        retries: c.retries,
        stages: Vec::new(),
    };
    let mut prev: Option<String> = None;
    for (i, st) in stages.iter().enumerate() {
        let script = sbatch_script(&a, &dir, st, &task_body(&dir, st, &quarry, &env, c.retries));
        let sp = dir.join("slurm").join(format!("{i:02}-{}.sbatch", st.name));
        quarry_corpus::storage::write_atomic(&sp, script.as_bytes())?;
        let job_id = if a.dry_run {
            println!("# ---- {} ----\n{script}", sp.display());
            None
        } else {
            let mut cmd = Command::new("sbatch");
            cmd.arg("--parsable");
            if let Some(p) = &prev {
                cmd.arg(format!("--dependency=afterok:{p}"));
            }
            cmd.arg(&sp);
            let out = cmd
                .output()
                .context("running sbatch (is Slurm's client installed and on PATH?)")?;
            anyhow::ensure!(
                out.status.success(),
                "sbatch {} failed: {}",
                sp.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
            let id = String::from_utf8_lossy(&out.stdout)
                .trim()
                .split(';')
                .next()
                .unwrap_or_default()
                .to_string();
            anyhow::ensure!(!id.is_empty(), "sbatch printed no job id");
            eprintln!(
                "submitted {:<20} {:>3} task(s)  job {id}",
                st.name, st.array
            );
            prev = Some(id.clone());
            Some(id)
        };
        rec.stages.push(LaunchedStage {
            stage: st.clone(),
            script: Some(sp.display().to_string()),
            job_id,
        });
        // written after every submission, so a failed sbatch leaves a record of what is queued
        write_record(&dir, &rec)?;
    }
    if !a.dry_run {
        eprintln!("follow with: quarry status {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn run_local(c: CommonArgs) -> anyhow::Result<ExitCode> {
    let (rp, recipe, data, env) = prepare(&c)?;
    let dir = std::path::absolute(&c.out)?;
    let quarry = quarry_bin(&c)?;
    let stages = plan(&rp, &recipe, c.tasks, &data)?;
    let rec = LaunchRecord {
        executor: s("local"),
        recipe: c.recipe.display().to_string(),
        tasks: c.tasks,
        retries: c.retries,
        stages: stages
            .iter()
            .map(|st| LaunchedStage {
                stage: st.clone(),
                script: None,
                job_id: None,
            })
            .collect(),
    };
    write_record(&dir, &rec)?;
    for st in &stages {
        let body = task_body(&dir, st, &quarry, &env, c.retries);
        for slot in 0..st.array {
            let log = dir
                .join("logs")
                .join(format!("{}-local_{slot}.log", st.name));
            let f = std::fs::File::create(&log)?;
            let mut cmd = Command::new("bash");
            cmd.arg("-c").arg(&body).stdout(f.try_clone()?).stderr(f);
            cmd.env_remove("SLURM_ARRAY_TASK_ID")
                .env_remove("SLURM_ARRAY_TASK_COUNT")
                .env_remove("SLURM_ARRAY_TASK_MIN")
                .env_remove("SLURM_CPUS_PER_TASK");
            if st.array > 1 {
                cmd.env("SLURM_ARRAY_TASK_ID", slot.to_string())
                    .env("SLURM_ARRAY_TASK_MIN", "0")
                    .env("SLURM_ARRAY_TASK_COUNT", st.array.to_string());
            }
            let status = cmd.status().context("running bash")?;
            anyhow::ensure!(
                status.success(),
                "stage {} task {slot} failed (log: {})",
                st.name,
                log.display()
            );
        }
        eprintln!("{:<20} {:>3} task(s) done", st.name, st.array);
    }
    Ok(ExitCode::SUCCESS)
}
