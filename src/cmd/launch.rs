//! `quarry launch slurm|local RECIPE.toml --tasks N --out DIR`: the whole build (the stages of
//! `quarry build`) as a chain of jobs, each stage one array job of independent, idempotent tasks.
//!
//! [`plan`] is the one description of the stages: every entry is a `quarry` command line that one
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

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;
use quarry_corpus::recipe::Recipe;
use serde::{Deserialize, Serialize};

use super::build::{TokenizeParams, TokenizerParams};
use super::dedup::PlanArgs;
use quarry_dedup::Staged;

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

/// One stage: `array` independent tasks, each running `quarry ARGS` with its slot in
/// `SLURM_ARRAY_TASK_ID` (the quarry commands read it when `--task` is absent).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stage {
    /// Stage name (file names, logs, status).
    pub name: String,
    /// Number of array tasks (1: a single job).
    pub array: usize,
    /// The quarry arguments every task runs.
    pub args: Vec<String>,
    /// quarry commands run before it in the same attempt (copying s3:// data it reads to the node).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre: Vec<Vec<String>>,
    /// quarry commands run after it succeeded (uploading what it wrote).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post: Vec<Vec<String>>,
}

/// Where a launched run's outputs and intermediates live.
#[derive(Debug, Clone)]
pub struct DataRoot {
    /// The folder (absolute) or s3://bucket/prefix.
    pub root: String,
    /// For s3:// data: the folder on each node where the whole-corpus jobs (tokenizer, tokenize,
    /// card) keep their copy, laid out like the bucket; the same path for every such job, so the
    /// manifests they write name each other's files consistently.
    pub mirror: Option<PathBuf>,
}

impl DataRoot {
    /// Data in the local (shared) folder `dir`.
    pub fn local(dir: &Path) -> DataRoot {
        DataRoot {
            root: dir.display().to_string(),
            mirror: None,
        }
    }

    /// `rel` below the data root.
    fn at(&self, rel: &str) -> String {
        if rel.is_empty() {
            self.root.clone()
        } else if self.mirror.is_some() {
            format!("{}/{rel}", self.root.trim_end_matches('/'))
        } else {
            Path::new(&self.root).join(rel).display().to_string()
        }
    }

    /// `rel` where a whole-corpus job works on it: in the node's copy for s3:// data.
    fn work(&self, rel: &str) -> String {
        match &self.mirror {
            Some(m) if rel.is_empty() => m.display().to_string(),
            Some(m) => m.join(rel).display().to_string(),
            None => self.at(rel),
        }
    }

    /// The copy commands that bring `rels` from the bucket to the node (none for local data).
    fn pull(&self, rels: &[&str]) -> Vec<Vec<String>> {
        match self.mirror {
            Some(_) => rels
                .iter()
                .map(|r| vec![s("storage"), s("sync"), self.at(r), self.work(r)])
                .collect(),
            None => Vec::new(),
        }
    }

    /// The copy commands that publish `rels` from the node to the bucket (none for local data).
    fn push(&self, rels: &[&str]) -> Vec<Vec<String>> {
        match self.mirror {
            Some(_) => rels
                .iter()
                .map(|r| vec![s("storage"), s("sync"), self.work(r), self.at(r)])
                .collect(),
            None => Vec::new(),
        }
    }
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

fn s(x: impl AsRef<str>) -> String {
    x.as_ref().to_string()
}

/// The stages of `quarry build` for `recipe` (already pointing its output at `DATA/corpus`), as
/// commands over the data root: extraction and filters (`quarry run`), each dedup method's
/// signatures / buckets / clustering, the dedup filter, tokenizer training, tokenization and the
/// card.
pub fn plan(
    recipe_path: &Path,
    recipe: &Recipe,
    tasks: usize,
    data: &DataRoot,
) -> anyhow::Result<Vec<Stage>> {
    anyhow::ensure!(tasks >= 1, "--tasks must be at least 1");
    let d = |p: &str| data.at(p);
    let w = |p: &str| data.work(p);
    let mut v = vec![Stage {
        name: s("extract"),
        array: tasks,
        args: vec![
            s("run"),
            recipe_path.display().to_string(),
            s("--tasks"),
            tasks.to_string(),
            s("--no-progress"),
        ],
        pre: Vec::new(),
        post: Vec::new(),
    }];
    let corpus_shards = d("corpus/shards");
    let mut text_shards = corpus_shards.clone();
    if let Some(t) = &recipe.dedup {
        let flags = PlanArgs::from_table(t)?;
        let staged = Staged::new(flags.plan()?, "")?;
        let out = d("dedup");
        let common = |stage: &str, m: Option<&str>| {
            let mut a = vec![s("dedup"), s(stage), s("--out"), out.clone()];
            if let Some(m) = m {
                a.extend([s("--method"), s(m)]);
            }
            a.extend(flags.to_flags());
            a
        };
        for m in staged.methods() {
            let name = m.as_str();
            let mut a = common("signatures", Some(name));
            a.extend([
                s("--input"),
                corpus_shards.clone(),
                s("--tasks"),
                tasks.to_string(),
            ]);
            v.push(Stage {
                name: format!("{name}-signatures"),
                array: tasks,
                args: a,
                pre: Vec::new(),
                post: Vec::new(),
            });
            let buckets = staged.buckets(m)?;
            let mut a = common("buckets", Some(name));
            a.extend([s("--tasks"), buckets.to_string()]);
            v.push(Stage {
                name: format!("{name}-buckets"),
                array: buckets,
                args: a,
                pre: Vec::new(),
                post: Vec::new(),
            });
            v.push(Stage {
                name: format!("{name}-cluster"),
                array: 1,
                args: common("cluster", Some(name)),
                pre: Vec::new(),
                post: Vec::new(),
            });
        }
        let mut a = common("filter", None);
        a.extend([
            s("--input"),
            corpus_shards.clone(),
            s("--tasks"),
            tasks.to_string(),
            s("--no-progress"),
        ]);
        v.push(Stage {
            name: s("dedup-filter"),
            array: tasks,
            args: a,
            pre: Vec::new(),
            post: Vec::new(),
        });
        text_shards = d("dedup/shards");
    }
    // the whole-corpus jobs below work on the node's copy when the data is on s3://
    let published_rel = if recipe.dedup.is_some() {
        "dedup"
    } else {
        "corpus"
    };
    let shards_rel = format!("{published_rel}/shards");
    let work_shards = w(&shards_rel);
    let _ = &text_shards;
    let tok_path = match &recipe.tokenizer {
        Some(t) => {
            let p = TokenizerParams::from_table(t)?;
            match p.path {
                Some(path) => Some(path.display().to_string()),
                None => {
                    let out = w("tokenizer.json");
                    v.push(Stage {
                        name: s("tokenizer"),
                        array: 1,
                        pre: data.pull(&[&shards_rel]),
                        post: data.push(&["tokenizer.json"]),
                        args: vec![
                            s("tokenizer"),
                            s("train"),
                            s("--input"),
                            work_shards.clone(),
                            s("--vocab-size"),
                            p.vocab_size.to_string(),
                            s("--sample-bytes"),
                            p.sample_bytes.to_string(),
                            s("--seed"),
                            p.seed.to_string(),
                            s("--out"),
                            out.clone(),
                        ],
                    });
                    Some(out)
                }
            }
        }
        None => None,
    };
    if let (Some(t), Some(tok)) = (&recipe.tokenize, tok_path) {
        let p = TokenizeParams::from_table(t)?;
        // a tokenizer trained here is in the node's copy; one named by the recipe is used as given
        let trained = tok == w("tokenizer.json");
        let mut pre = data.pull(&[&shards_rel]);
        if trained {
            pre.extend(data.pull(&["tokenizer.json"]));
        }
        v.push(Stage {
            name: s("tokenize"),
            array: 1,
            pre,
            post: data.push(&["tokens"]),
            args: vec![
                s("tokenize"),
                s("--tokenizer"),
                tok,
                s("--input"),
                work_shards.clone(),
                s("--out"),
                w("tokens"),
                s("--format"),
                p.format,
                s("--shard-tokens"),
                p.shard_tokens.to_string(),
            ],
        });
    }
    // The dataset card closes the release, as in `quarry build`: written into the data root itself
    // so that its relative paths (HF `configs`, Croissant FileSet) stay inside the release.
    let has_tokens = recipe.tokenize.is_some() && v.iter().any(|st| st.name == "tokenize");
    let mut a = vec![s("card"), s("--corpus"), w(published_rel)];
    // what the card reads: each run's shards and manifests (not dedup's intermediates)
    let mut pulled = vec!["corpus/shards", "corpus/manifest.json", "corpus/_manifests"];
    if recipe.dedup.is_some() {
        pulled.extend([
            "dedup/shards",
            "dedup/manifest.json",
            "dedup/_manifests",
            "dedup/removed.txt",
            "dedup/clusters.jsonl",
            "dedup/report.json",
        ]);
    }
    if has_tokens {
        a.extend([s("--tokens"), w("tokens")]);
        pulled.push("tokens");
    }
    // The run's recipe carries the `[card]` options, read by `quarry card` as `quarry build` does;
    // checked here so that a bad key fails before anything is submitted.
    super::card::options_from_table(&recipe.card.clone().unwrap_or_default())?;
    a.extend([
        s("--out"),
        w(""),
        s("--recipe"),
        recipe_path.display().to_string(),
    ]);
    v.push(Stage {
        name: s("card"),
        array: 1,
        pre: data.pull(&pulled),
        post: data.push(&[
            "plots",
            "stats.json",
            "croissant.json",
            "lineage.json",
            "README.md",
        ]),
        args: a,
    });
    Ok(v)
}

/// Variables every job script exports (name, value).
type Exports = Vec<(String, String)>;

/// Where `--data` (or the run folder) puts the outputs.
fn data_root(c: &CommonArgs, dir: &Path) -> anyhow::Result<DataRoot> {
    use sha2::{Digest, Sha256};
    let Some(data) = &c.data else {
        return Ok(DataRoot::local(dir));
    };
    match quarry_corpus::storage::Location::parse(data)? {
        quarry_corpus::storage::Location::Local(p) => Ok(DataRoot::local(&std::path::absolute(p)?)),
        loc @ quarry_corpus::storage::Location::S3 { .. } => {
            let root = match &c.staging {
                Some(p) => std::path::absolute(p)?,
                None => match std::env::var_os("QUARRY_STAGING") {
                    Some(p) => PathBuf::from(p),
                    None => std::env::temp_dir().join("quarry-staging"),
                },
            };
            let url = loc.to_string();
            let hash = hex::encode(Sha256::digest(url.as_bytes()));
            Ok(DataRoot {
                root: url,
                mirror: Some(root.join(format!("launch-{}", &hash[..16]))),
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

fn sh_quote(x: &str) -> String {
    if !x.is_empty()
        && x.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b))
    {
        x.to_string()
    } else {
        format!("'{}'", x.replace('\'', r"'\''"))
    }
}

/// The body every task runs: the quarry command with retries, then a completion (or failure) marker.
/// Exit 1 from quarry means "finished, some input records were unreadable and are counted": the task
/// is done (and says so in its marker), since rerunning cannot read them either.
fn task_body(
    dir: &Path,
    stage: &Stage,
    quarry: &Path,
    env: &[(String, String)],
    retries: u32,
) -> String {
    let marks = dir.join("_launch").join(&stage.name);
    let line = |args: &[String]| -> String {
        std::iter::once(quarry.display().to_string())
            .chain(args.iter().cloned())
            .map(|a| sh_quote(&a))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut b = String::new();
    b.push_str("set -u\n");
    // Copies in (s3:// data to the node) and out (results to the bucket) belong to the attempt: a
    // failed copy fails it (exit 2), and results are published only after the command succeeded.
    let cmd = if stage.pre.is_empty() && stage.post.is_empty() {
        line(&stage.args)
    } else {
        b.push_str("run_task() {\n");
        for p in &stage.pre {
            b.push_str(&format!("  {} || return 2\n", line(p)));
        }
        b.push_str(&format!(
            "  {}\n  r=$?\n  if [ $r -gt 1 ]; then return $r; fi\n",
            line(&stage.args)
        ));
        for p in &stage.post {
            b.push_str(&format!("  {} || return 2\n", line(p)));
        }
        b.push_str("  return $r\n}\n");
        "run_task".to_string()
    };
    for (k, v) in env {
        b.push_str(&format!("export {k}={}\n", sh_quote(v)));
    }
    if stage.array == 1 {
        // a single job must not inherit array variables from a submitter that runs inside an array
        b.push_str("unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN\n");
    }
    b.push_str(
        "# one thread per allocated CPU (rayon reads RAYON_NUM_THREADS)\n\
         if [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then export RAYON_NUM_THREADS=$SLURM_CPUS_PER_TASK; fi\n",
    );
    b.push_str(&format!(
        "slot=${{SLURM_ARRAY_TASK_ID:-0}}\nmarks={}\nmkdir -p \"$marks\"\n\
         name=$(printf 'task-%05d' \"$slot\")\n\
         rc=0\n\
         t0=$(date +%s.%N)\n\
         # CPU seconds of finished children (all attempts, all threads), from /proc (Linux)\n\
         cpu() {{ if [ -r /proc/$$/stat ]; then read -r -a st < /proc/$$/stat; \
         awk -v a=\"${{st[15]}}\" -v b=\"${{st[16]}}\" -v t=\"$(getconf CLK_TCK)\" 'BEGIN {{ printf \"%.2f\", (a + b) / t }}'; \
         else echo 0; fi; }}\n\
         usage() {{ echo \"cpu_s=$(cpu) wall_s=$(awk -v a=\"$t0\" -v b=\"$(date +%s.%N)\" 'BEGIN {{ printf \"%.2f\", b - a }}')\"; }}\n\
         for attempt in $(seq 0 {retries}); do\n\
         \x20 echo \"== {stage} task $slot attempt $attempt on $(hostname) at $(date -u +%FT%TZ)\" >&2\n\
         \x20 {cmd}\n\
         \x20 rc=$?\n\
         \x20 if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then\n\
         \x20   rm -f \"$marks/$name.failed\"\n\
         \x20   echo \"exit=$rc attempts=$((attempt + 1)) job=${{SLURM_JOB_ID:-local}} $(usage)\" > \"$marks/.$name.tmp\" && mv \"$marks/.$name.tmp\" \"$marks/$name.done\"\n\
         \x20   exit 0\n\
         \x20 fi\n\
         \x20 echo \"== {stage} task $slot attempt $attempt failed with exit $rc\" >&2\n\
         done\n\
         echo \"exit=$rc attempts=$(({retries} + 1)) job=${{SLURM_JOB_ID:-local}} $(usage)\" > \"$marks/$name.failed\"\n\
         exit $rc\n",
        sh_quote(&marks.display().to_string()),
        stage = stage.name,
    ));
    b
}

/// The sbatch script of a stage.
fn sbatch_script(a: &SlurmArgs, dir: &Path, stage: &Stage, body: &str) -> String {
    let mut h = String::from("#!/bin/bash\n");
    let mut opt = |k: &str, v: &str| h.push_str(&format!("#SBATCH --{k}={v}\n"));
    opt("job-name", &format!("quarry-{}", stage.name));
    let log = dir.join("logs");
    if stage.array > 1 {
        let mut arr = format!("0-{}", stage.array - 1);
        if let Some(k) = a.max_running {
            arr.push_str(&format!("%{k}"));
        }
        opt("array", &arr);
        opt(
            "output",
            &format!("{}/{}-%A_%a.log", log.display(), stage.name),
        );
    } else {
        opt(
            "output",
            &format!("{}/{}-%j.log", log.display(), stage.name),
        );
    }
    opt("ntasks", "1");
    if let Some(p) = &a.partition {
        opt("partition", p);
    }
    if let Some(c) = a.cpus_per_task {
        opt("cpus-per-task", &c.to_string());
    }
    if let Some(m) = &a.mem {
        opt("mem", m);
    }
    if let Some(t) = &a.time {
        opt("time", t);
    }
    // a task that fails for good cancels the stages waiting on it instead of leaving them pending
    opt("kill-on-invalid-dep", "yes");
    // a node failure puts the task back in the queue (application failures are retried below)
    h.push_str("#SBATCH --requeue\n");
    for x in &a.sbatch_args {
        h.push_str(&format!("#SBATCH {x}\n"));
    }
    h.push_str(body);
    h
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_of_the_default_recipe_chains_every_stage() {
        let r = Recipe::parse(super::super::build::DEFAULT_RECIPE).unwrap();
        let p = plan(
            Path::new("/run/recipe.toml"),
            &r,
            4,
            &DataRoot::local(Path::new("/run")),
        )
        .unwrap();
        let names: Vec<_> = p.iter().map(|s| (s.name.as_str(), s.array)).collect();
        assert_eq!(
            names,
            vec![
                ("extract", 4),
                ("exact-signatures", 4),
                ("exact-buckets", 16),
                ("exact-cluster", 1),
                ("minhash-signatures", 4),
                ("minhash-buckets", 14),
                ("minhash-cluster", 1),
                ("dedup-filter", 4),
                ("tokenizer", 1),
                ("tokenize", 1),
                ("card", 1),
            ]
        );
        assert_eq!(p[0].args[..2], [s("run"), s("/run/recipe.toml")]);
        assert!(p[4].args.contains(&s("--exact")) && p[4].args.contains(&s("--minhash")));
        assert!(p.iter().all(|st| st.pre.is_empty() && st.post.is_empty()));

        // With the data on s3://, the per-input stages use the bucket directly and the whole-corpus
        // jobs copy in what they read and publish what they write, through one node folder.
        let data = DataRoot {
            root: s("s3://b/run"),
            mirror: Some(PathBuf::from("/stage/launch-x")),
        };
        let p = plan(Path::new("/run/recipe.toml"), &r, 4, &data).unwrap();
        assert!(
            p[1].args.contains(&s("s3://b/run/dedup")),
            "{:?}",
            p[1].args
        );
        assert!(p[1].pre.is_empty());
        let tok = p.iter().find(|st| st.name == "tokenize").unwrap();
        assert!(tok.args.contains(&s("/stage/launch-x/tokens")));
        assert_eq!(
            tok.pre[0],
            [
                s("storage"),
                s("sync"),
                s("s3://b/run/dedup/shards"),
                s("/stage/launch-x/dedup/shards")
            ]
        );
        assert_eq!(
            tok.post,
            [[
                s("storage"),
                s("sync"),
                s("/stage/launch-x/tokens"),
                s("s3://b/run/tokens")
            ]]
        );
        let card = p.last().unwrap();
        assert!(card.pre.iter().all(|c| !c[2].contains("/work")));
        assert!(card.post.iter().any(|c| c[3] == "s3://b/run/README.md"));
    }

    #[test]
    fn scripts_quote_and_retry() {
        assert_eq!(sh_quote("a b'c"), r"'a b'\''c'");
        assert_eq!(sh_quote("/x/y.toml"), "/x/y.toml");
        let st = Stage {
            name: s("extract"),
            array: 4,
            args: vec![s("run"), s("r.toml")],
            pre: Vec::new(),
            post: Vec::new(),
        };
        let a = SlurmArgs {
            common: CommonArgs {
                recipe: "r.toml".into(),
                tasks: 4,
                out: "/run".into(),
                data: None,
                staging: None,
                quarry: None,
                retries: 3,
            },
            partition: Some(s("cpu")),
            cpus_per_task: Some(8),
            mem: Some(s("16G")),
            time: None,
            max_running: Some(2),
            sbatch_args: vec![s("--account=lab")],
            dry_run: true,
        };
        let body = task_body(Path::new("/run"), &st, Path::new("/bin/quarry"), &[], 3);
        let sc = sbatch_script(&a, Path::new("/run"), &st, &body);
        for want in [
            "#SBATCH --array=0-3%2",
            "#SBATCH --output=/run/logs/extract-%A_%a.log",
            "#SBATCH --partition=cpu",
            "#SBATCH --cpus-per-task=8",
            "#SBATCH --mem=16G",
            "#SBATCH --account=lab",
            "for attempt in $(seq 0 3)",
            "/bin/quarry run r.toml",
        ] {
            assert!(sc.contains(want), "{want} missing in\n{sc}");
        }
    }

    /// The wrapper retries a failing command and records the failure; a command that succeeds on a
    /// later attempt leaves a done marker.
    #[test]
    fn wrapper_retries_then_marks() {
        let dir = tempfile::tempdir().unwrap();
        let flaky = dir.path().join("flaky.sh");
        // fails twice (exit 3; exit 1 would count as done), then succeeds: counts attempts in a file
        std::fs::write(
            &flaky,
            format!(
                "#!/bin/bash\nn=$(cat {0}/n 2>/dev/null || echo 0); echo $((n+1)) > {0}/n; [ $n -ge 2 ] || exit 3\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let st = Stage {
            name: s("x"),
            array: 1,
            args: vec![],
            pre: Vec::new(),
            post: Vec::new(),
        };
        for (retries, ok) in [(1u32, false), (2, true)] {
            let _ = std::fs::remove_file(dir.path().join("n"));
            let body = task_body(
                dir.path(),
                &st,
                Path::new(&format!("bash {}", flaky.display())),
                &[],
                retries,
            );
            // the binary path is quoted as one word, so call the script through a wrapper name
            let body = body.replace(
                &format!("'bash {}'", flaky.display()),
                &format!("bash {}", flaky.display()),
            );
            let status = Command::new("bash").arg("-c").arg(&body).status().unwrap();
            assert_eq!(status.success(), ok, "retries {retries}");
            let m = dir.path().join("_launch/x");
            assert_eq!(m.join("task-00000.done").exists(), ok);
            assert_eq!(m.join("task-00000.failed").exists(), !ok);
        }
    }
}
