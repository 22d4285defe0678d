//! `quarry dedup`: exact and MinHash-LSH dedup of text shards, all four stages on this machine.
//!
//! Each input shard is one task. Stages 1–3 (signatures, candidate pairs, clustering) run through
//! `quarry_dedup::run_local`; stage 4 is a pipeline over the same shards with the dedup filter steps,
//! so the deduplicated shards come with a lineage manifest whose counts add up like any other run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::read::{open_documents, ReaderOptions};
use quarry_corpus::recipe::{InputSection, OutputSection, Recipe, RunSection};
use quarry_corpus::storage::{list_inputs, put_file, CopyMode, InputFile, Location, WorkDir};
use quarry_corpus::write::OutputFormat;
use quarry_corpus::{Document, Pipeline, ReadItem, RunOptions};
use quarry_dedup::format::write_atomic;
use quarry_dedup::{run_local, DedupError, DedupPlan, Method, Staged};
use rayon::prelude::*;

use super::run::TaskArgs;

/// Flags of `quarry dedup`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    /// One stage, one task at a time (for Slurm array jobs or any scheduler); all stages when absent.
    #[command(subcommand)]
    pub stage: Option<StageCommand>,
    /// Text shards (Parquet/JSONL; files, globs or folders). Each file is one task.
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// Output folder: shards/, removed.txt, clusters.jsonl, report.json, manifest.json, work/. A
    /// local path or s3://bucket/prefix (then each process works on a local copy of what it reads).
    #[arg(long, short)]
    pub out: Option<String>,
    #[command(flatten)]
    pub plan: PlanArgs,
}

/// Which dedup to run and its settings (the same flags for every stage of one run).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PlanArgs {
    /// Exact dedup on normalised text.
    #[arg(long)]
    pub exact: bool,
    /// MinHash-LSH near-duplicate dedup (the default when neither is given).
    #[arg(long)]
    pub minhash: bool,
    /// LSH bands [default 14].
    #[arg(long)]
    pub bands: Option<usize>,
    /// Rows per band [default 8].
    #[arg(long)]
    pub rows: Option<usize>,
    /// Word n-gram size of shingles [default 5].
    #[arg(long)]
    pub ngram: Option<usize>,
    /// Index of earlier crawls (from `quarry dedup index`; repeatable): documents matching it are
    /// removed (`*_duplicate_of_index`) and indexed documents are never kept again.
    #[arg(long = "index", value_name = "INDEX_DIR")]
    pub index: Vec<PathBuf>,
}

impl PlanArgs {
    /// The plan these flags describe.
    pub fn plan(&self) -> anyhow::Result<DedupPlan> {
        let mut plan =
            DedupPlan::from_flags(self.exact, self.minhash, self.bands, self.rows, self.ngram)?;
        plan.index = self.index.clone();
        plan.check_index()?;
        Ok(plan)
    }

    /// The flags of a recipe's `[dedup]` table (`exact`, `minhash`, `bands`, `rows`, `ngram`,
    /// `index`: one index folder or a list).
    pub fn from_table(t: &toml::Table) -> anyhow::Result<Self> {
        for k in t.keys() {
            anyhow::ensure!(
                ["exact", "minhash", "bands", "rows", "ngram", "index"].contains(&k.as_str()),
                "[dedup]: unknown key `{k}` (exact, minhash, bands, rows, ngram, index)"
            );
        }
        let index = match t.get("index") {
            None => Vec::new(),
            Some(toml::Value::String(s)) => vec![PathBuf::from(s)],
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(PathBuf::from)
                        .context("[dedup] index: a folder or a list of folders (strings)")
                })
                .collect::<anyhow::Result<_>>()?,
            Some(_) => anyhow::bail!("[dedup] index: a folder or a list of folders (strings)"),
        };
        let get = |k: &str| t.get(k).and_then(|v| v.as_bool()).unwrap_or(false);
        let num = |k: &str| t.get(k).and_then(|v| v.as_integer()).map(|v| v as usize);
        Ok(PlanArgs {
            exact: get("exact"),
            minhash: get("minhash"),
            bands: num("bands"),
            rows: num("rows"),
            ngram: num("ngram"),
            index,
        })
    }

    /// The same settings as command-line flags.
    pub fn to_flags(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.exact {
            v.push("--exact".to_string());
        }
        if self.minhash {
            v.push("--minhash".to_string());
        }
        for (k, x) in [
            ("--bands", self.bands),
            ("--rows", self.rows),
            ("--ngram", self.ngram),
        ] {
            if let Some(x) = x {
                v.push(k.to_string());
                v.push(x.to_string());
            }
        }
        for i in &self.index {
            v.push("--index".to_string());
            v.push(i.display().to_string());
        }
        v
    }
}

/// The stages of `quarry dedup`, each runnable as independent tasks. Run them in this order: for
/// each method of the plan (exact first, then MinHash) `signatures`, `buckets`, `cluster`; then
/// `filter`. Every task leaves a completion marker and is skipped when run again.
#[derive(clap::Subcommand, Debug)]
pub enum StageCommand {
    /// Stage 1: signatures of each input shard (slot I of N takes shards I, I+N, …).
    Signatures(SignaturesArgs),
    /// Stage 2: candidate pairs of each bucket: hash partition (exact) or band (MinHash).
    Buckets(BucketsArgs),
    /// Stage 3: union-find clustering over all pairs (one task); after the plan's last method it
    /// also writes OUT/removed.txt, OUT/clusters.jsonl and OUT/report.json.
    Cluster(ClusterArgs),
    /// Stage 4: deduplicated shards with a manifest (slot I of N takes shards I, I+N, …).
    Filter(FilterArgs),
    /// Build an index of a finished dedup run's kept documents (or add them to an existing index),
    /// for `--index` in the dedup of a later crawl.
    Index(IndexArgs),
}

/// Flags of `quarry dedup index`.
#[derive(clap::Args, Debug)]
pub struct IndexArgs {
    /// A finished dedup output folder (`quarry dedup --out`; its work/ folder is read).
    #[arg(long)]
    pub from: PathBuf,
    /// The index folder: created, or extended when it holds an index built under the same settings.
    #[arg(long, short)]
    pub out: PathBuf,
}

/// Flags of `quarry dedup signatures`.
#[derive(clap::Args, Debug)]
pub struct SignaturesArgs {
    /// Text shards, exactly as given to every other stage.
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// The dedup output folder, local or s3:// (intermediates go to OUT/work).
    #[arg(long, short)]
    pub out: String,
    /// `exact` or `minhash`.
    #[arg(long)]
    pub method: Method,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub tasks: TaskArgs,
}

/// Flags of `quarry dedup buckets`.
#[derive(clap::Args, Debug)]
pub struct BucketsArgs {
    /// The dedup output folder, local or s3://.
    #[arg(long, short)]
    pub out: String,
    /// `exact` or `minhash`.
    #[arg(long)]
    pub method: Method,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Slot I of N takes buckets I, I+N, … [default: all buckets, or the Slurm array task].
    #[command(flatten)]
    pub tasks: TaskArgs,
}

/// Flags of `quarry dedup cluster`.
#[derive(clap::Args, Debug)]
pub struct ClusterArgs {
    /// The dedup output folder, local or s3://.
    #[arg(long, short)]
    pub out: String,
    /// Redo the clustering even if it is finished.
    #[arg(long)]
    pub force: bool,
    /// Local folder under which the copy of s3:// intermediates is kept [default: QUARRY_STAGING,
    /// else quarry-staging in the system temp dir].
    #[arg(long, value_name = "DIR")]
    pub staging: Option<PathBuf>,
    /// `exact` or `minhash`.
    #[arg(long)]
    pub method: Method,
    #[command(flatten)]
    pub plan: PlanArgs,
}

/// Flags of `quarry dedup filter`.
#[derive(clap::Args, Debug)]
pub struct FilterArgs {
    /// Text shards, exactly as given to every other stage.
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// The dedup output folder, local or s3:// (shards/ and manifest.json are written there).
    #[arg(long, short)]
    pub out: String,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub tasks: TaskArgs,
}

/// Runs `quarry dedup` (all stages) or one stage.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.stage {
        None => {
            let out = args
                .out
                .context("--out is required (the dedup output folder)")?;
            dedup(&args.input, &out, &args.plan.plan()?)
        }
        Some(StageCommand::Signatures(a)) => run_signatures(a),
        Some(StageCommand::Buckets(a)) => run_buckets(a),
        Some(StageCommand::Cluster(a)) => run_cluster(a),
        Some(StageCommand::Filter(a)) => run_filter(a),
        Some(StageCommand::Index(a)) => run_index(a),
    }
}

fn run_index(a: IndexArgs) -> anyhow::Result<ExitCode> {
    let work = if a.from.join("work").is_dir() {
        a.from.join("work")
    } else {
        a.from.clone()
    };
    let extending = a.out.join("index.json").exists();
    let rep = quarry_dedup::build_index(&work, &a.out, &quarry_dedup::MergeLimits::default())
        .with_context(|| format!("indexing {}", work.display()))?;
    eprintln!(
        "dedup index {}: {} {} kept documents of {} ({} documents); keys: {}",
        a.out.display(),
        if extending { "added" } else { "indexed" },
        rep.kept,
        a.from.display(),
        rep.docs,
        rep.keys
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// The items `0..n` that slot `task` of `tasks` takes (`task, task + tasks, …`); all without a slot.
fn slot_items(n: usize, opts: &RunOptions) -> anyhow::Result<Vec<usize>> {
    let slots = opts.tasks.unwrap_or(1).max(1);
    match opts.task {
        None => Ok((0..n).collect()),
        Some(t) => {
            anyhow::ensure!(
                t < slots,
                "task {t} does not exist: the run has {slots} task(s) (0..{slots})"
            );
            Ok((t..n).step_by(slots).collect())
        }
    }
}

/// `OUT/rel`, for a local folder or s3://bucket/prefix.
fn sub(out: &str, rel: &str) -> anyhow::Result<Location> {
    Ok(Location::parse(out)?.join(rel))
}

/// The slot part of a work-copy name: the task, or `all` when one process runs every task.
fn slot_name(opts: &RunOptions) -> String {
    opts.task
        .map(|t| format!("{t:05}"))
        .unwrap_or_else(|| "all".into())
}

/// What one stage process reads of the intermediates (paths relative to OUT/work), so that with
/// OUT on s3:// it downloads only that: every marker and config, and per stage its own files.
enum Reads<'a> {
    /// Stage 1 of these input tasks (MinHash after exact reads exact's clusters of its tasks).
    Signatures(&'a [usize]),
    /// Stage 2 of one bucket: that bucket's sorted key files.
    Bucket(usize),
    /// Stage 3: all pairs, ids, and (verify modes) signatures or shingle sets.
    Cluster,
    /// Stage 4 of these input tasks: their ids and cluster memberships.
    Filter(&'a [usize]),
}

fn reads(rel: &str, what: &Reads) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        ["_markers", ..] => true,
        [_method, "config.json"] => true,
        // a method's clusters.jsonl / removed.txt: the last clustering merges them
        [_method, _file] => matches!(what, Reads::Cluster),
        [_method, dir, rest @ ..] => {
            let name = rest.last().copied().unwrap_or("");
            let own = |tasks: &[usize]| {
                tasks
                    .iter()
                    .any(|t| name.starts_with(&format!("task-{t:05}.")))
            };
            match (*dir, what) {
                ("ids" | "clusters", Reads::Signatures(t) | Reads::Filter(t)) => own(t),
                ("ids" | "clusters" | "pairs" | "sigs" | "shingles", Reads::Cluster) => true,
                ("buckets", Reads::Bucket(b)) => rest.first() == Some(&format!("{b:03}").as_str()),
                _ => false,
            }
        }
        _ => false,
    }
}

/// OUT/work for one stage process: in place when local, a private local copy holding what the
/// stage reads when on s3:// (uploaded back with [`WorkDir::push`]).
fn open_work(
    out: &str,
    staging: Option<&Path>,
    slot: String,
    what: Reads,
) -> anyhow::Result<WorkDir> {
    let mut w = WorkDir::open(
        &sub(out, "work")?.to_string(),
        staging,
        &slot,
        CopyMode::Private,
    )?;
    w.pull(|rel| reads(rel, &what))
        .context("downloading the dedup intermediates")?;
    Ok(w)
}

fn run_signatures(a: SignaturesArgs) -> anyhow::Result<ExitCode> {
    let inputs = shard_inputs(&a.input)?;
    anyhow::ensure!(
        !inputs.is_empty(),
        "no Parquet or JSONL shards among the inputs"
    );
    let opts = a.tasks.options()?;
    let mine = slot_items(inputs.len(), &opts)?;
    let mut work = open_work(
        &a.out,
        opts.staging.as_deref(),
        format!("{}-signatures-{}", a.method.as_str(), slot_name(&opts)),
        Reads::Signatures(&mine),
    )?;
    let staged = Staged::new(a.plan.plan()?, work.path())?.force(opts.force);
    let ran: Vec<(usize, bool)> = mine
        .par_iter()
        .map(|&t| {
            let docs = read_task(&inputs[t])?;
            let done = staged.signatures(a.method, t, inputs.len(), docs)?;
            Ok((t, done))
        })
        .collect::<Result<_, DedupError>>()?;
    work.push().context("uploading signatures")?;
    work.close()?;
    for (t, ran) in ran {
        eprintln!(
            "dedup {} signatures: shard task {t} of {}: {}",
            a.method.as_str(),
            inputs.len(),
            if ran { "done" } else { "already finished" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_buckets(a: BucketsArgs) -> anyhow::Result<ExitCode> {
    let opts = a.tasks.options()?;
    let plan = a.plan.plan()?;
    let n = Staged::new(plan.clone(), "")?.buckets(a.method)?;
    // One work copy per bucket, so a remote run downloads one band's files at a time.
    let ran: Vec<(usize, bool)> = slot_items(n, &opts)?
        .par_iter()
        .map(|&b| -> anyhow::Result<(usize, bool)> {
            let mut work = open_work(
                &a.out,
                opts.staging.as_deref(),
                format!("{}-bucket-{b:03}", a.method.as_str()),
                Reads::Bucket(b),
            )?;
            let staged = Staged::new(plan.clone(), work.path())?.force(opts.force);
            let ran = staged.bucket(a.method, b)?;
            work.push().context("uploading candidate pairs")?;
            work.close()?;
            Ok((b, ran))
        })
        .collect::<anyhow::Result<_>>()?;
    for (b, ran) in ran {
        eprintln!(
            "dedup {} bucket {b}: {}",
            a.method.as_str(),
            if ran { "done" } else { "already finished" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn run_cluster(a: ClusterArgs) -> anyhow::Result<ExitCode> {
    let mut work = open_work(
        &a.out,
        a.staging.as_deref(),
        format!("{}-cluster", a.method.as_str()),
        Reads::Cluster,
    )?;
    let staged = Staged::new(a.plan.plan()?, work.path())?.force(a.force);
    match staged.cluster(a.method)? {
        Some(s) => eprintln!(
            "dedup {} clustering: {} clusters, {} documents removed",
            a.method.as_str(),
            s.clusters,
            s.removed
        ),
        None => eprintln!("dedup {} clustering: already finished", a.method.as_str()),
    }
    let last = staged.methods().last() == Some(&a.method);
    if last {
        staged.finish()?;
        let report = staged.report()?;
        write_atomic(
            &work.path().join("report.json"),
            &serde_json::to_vec_pretty(&report).expect("report serialises"),
        )?;
    }
    work.push().context("uploading clusters")?;
    if last {
        for f in ["removed.txt", "clusters.jsonl", "report.json"] {
            put_file(&work.path().join(f), &sub(&a.out, f)?)
                .with_context(|| format!("publishing {f}"))?;
        }
    }
    work.close()?;
    Ok(ExitCode::SUCCESS)
}

fn run_filter(a: FilterArgs) -> anyhow::Result<ExitCode> {
    let inputs = shard_inputs(&a.input)?;
    anyhow::ensure!(
        !inputs.is_empty(),
        "no Parquet or JSONL shards among the inputs"
    );
    let plan = a.plan.plan()?;
    let opts = a.tasks.options()?;
    let mine = slot_items(inputs.len(), &opts)?;
    // Every filter task's recipe names the same work folder, so on s3:// the tasks of one machine
    // share one read-only copy (each downloads its own tasks' files into it).
    let mut work = WorkDir::open(
        &sub(&a.out, "work")?.to_string(),
        opts.staging.as_deref(),
        "filter",
        CopyMode::Shared,
    )?;
    work.pull(|rel| reads(rel, &Reads::Filter(&mine)))
        .context("downloading the dedup intermediates")?;
    let staged = Staged::new(plan.clone(), work.path())?;
    for m in staged.methods() {
        anyhow::ensure!(
            staged.cluster_done(m)?,
            "dedup {} clustering is not finished: run `quarry dedup cluster --method {}` first",
            m.as_str(),
            m.as_str()
        );
    }
    let pipeline = filter_pipeline(&inputs, &a.out, work.path(), &plan)?;
    let mut code = ExitCode::SUCCESS;
    for t in mine {
        let c = super::run_pipeline(
            &pipeline,
            &RunOptions {
                tasks: None,
                task: Some(t),
                force: opts.force,
                progress: opts.progress,
                staging: opts.staging.clone(),
            },
        )?;
        if c != ExitCode::SUCCESS {
            code = c;
        }
    }
    Ok(code)
}

/// The text shards among the inputs (manifests and dedup outputs beside them are skipped).
fn shard_inputs(patterns: &[String]) -> anyhow::Result<Vec<InputFile>> {
    Ok(list_inputs(patterns)?
        .into_iter()
        .filter(|f| {
            let n = f.location.file_name();
            n.ends_with(".parquet")
                || n.ends_with(".jsonl")
                || n.ends_with(".jsonl.zst")
                || n.ends_with(".jsonl.gz")
        })
        .collect())
}

fn read_task(input: &InputFile) -> Result<impl Iterator<Item = Document>, DedupError> {
    let opened = open_documents(input, &ReaderOptions::default()).map_err(|e| {
        DedupError::io(
            input.location.to_string(),
            std::io::Error::other(e.to_string()),
        )
    })?;
    Ok(opened.items.filter_map(|it| match it {
        ReadItem::Doc(d) => Some(d),
        _ => None,
    }))
}

/// Runs all four dedup stages over `patterns` into `out` (a local folder or s3://).
pub fn dedup(patterns: &[String], out: &str, plan: &DedupPlan) -> anyhow::Result<ExitCode> {
    let inputs = shard_inputs(patterns)?;
    anyhow::ensure!(
        !inputs.is_empty(),
        "no Parquet or JSONL shards among the inputs"
    );
    let mut work = WorkDir::open(
        &sub(out, "work")?.to_string(),
        None,
        "all",
        CopyMode::Private,
    )?;
    let report = run_local(plan, inputs.len(), |t| read_task(&inputs[t]), work.path())
        .context("dedup stages 1-3")?;
    work.push().context("uploading the dedup intermediates")?;
    for f in ["removed.txt", "clusters.jsonl", "report.json"] {
        put_file(&work.path().join(f), &sub(out, f)?).with_context(|| format!("publishing {f}"))?;
    }
    let pipeline = filter_pipeline(&inputs, out, work.path(), plan)?;
    let code = super::run_pipeline(
        &pipeline,
        &RunOptions {
            force: true,
            ..Default::default()
        },
    )?;
    work.close()?;
    eprintln!(
        "dedup: {} documents, {} exact duplicates, {} near-duplicates removed, {} kept; {} intermediate bytes",
        report.docs, report.exact_removed, report.minhash_removed, report.kept, report.intermediate_bytes
    );
    Ok(code)
}

/// Stage 4 as a pipeline: the dedup filter steps over the shards, one task per input shard (as in
/// stages 1-3, so each task loads its own removed set), writing OUT/shards and OUT/manifest.json.
fn filter_pipeline(
    inputs: &[InputFile],
    out: &str,
    work: &Path,
    plan: &DedupPlan,
) -> anyhow::Result<Pipeline> {
    let mut stages = Vec::new();
    if let Some(c) = &plan.exact {
        let mut t = toml::Table::try_from(c).context("exact config")?;
        t.insert("type".into(), "exact_dedup_filter".into());
        t.insert("dir".into(), work.display().to_string().into());
        stages.push(t);
    }
    if let Some(c) = &plan.minhash {
        let mut t = toml::Table::try_from(c).context("minhash config")?;
        t.insert("type".into(), "minhash_filter".into());
        t.insert("dir".into(), work.display().to_string().into());
        stages.push(t);
    }
    let recipe = Recipe {
        name: Some("quarry dedup (stage 4: filter)".into()),
        input: InputSection {
            paths: inputs.iter().map(|f| f.location.to_string()).collect(),
            format: None,
            text_key: None,
            metadata_records: false,
            max_record_bytes: None,
            crawl: None,
        },
        output: OutputSection {
            path: out.to_string(),
            format: OutputFormat::Parquet,
            max_shard_bytes: 256 << 20,
            prefix: "part".into(),
            count_metadata: Vec::new(),
        },
        // One task per input shard, as in stages 1-3, so each filter task loads its own removed set.
        run: RunSection {
            tasks: inputs.len(),
            ..Default::default()
        },
        stages,
        dedup: None,
        tokenizer: None,
        tokenize: None,
        card: None,
    };
    Ok(Pipeline::from_recipe(
        recipe,
        super::registry(),
        super::build_info(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipe_index_key_and_flags_round_trip() {
        let t: toml::Table = toml::from_str("exact = true\nindex = \"idx-a\"").unwrap();
        let p = PlanArgs::from_table(&t).unwrap();
        assert_eq!(p.index, vec![PathBuf::from("idx-a")]);
        assert_eq!(p.to_flags(), ["--exact", "--index", "idx-a"]);
        let t: toml::Table = toml::from_str("index = [\"a\", \"b\"]").unwrap();
        assert_eq!(
            PlanArgs::from_table(&t).unwrap().index,
            vec![PathBuf::from("a"), PathBuf::from("b")]
        );
        let t: toml::Table = toml::from_str("index = 3").unwrap();
        assert!(PlanArgs::from_table(&t).is_err());
        // a folder that is not an index is refused when the plan is made
        let t: toml::Table = toml::from_str("index = \"/nonexistent/index\"").unwrap();
        let e = PlanArgs::from_table(&t).unwrap().plan().unwrap_err();
        assert!(format!("{e:#}").contains("not a dedup index"), "{e:#}");
    }
}
