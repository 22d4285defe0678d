//! The pipeline runtime: splits inputs into tasks, streams each task's documents through the stages
//! in parallel batches, writes shards, and leaves a manifest and a completion marker per task.
//!
//! Layout of an output folder:
//!
//! ```text
//! out/shards/part-<task>-<seq>.parquet   text shards
//! out/side/...                           side outputs of stages (e.g. dedup signatures)
//! out/_manifests/task-<task>.json        per-task lineage manifest
//! out/_markers/task-<task>.done          written last; holds the recipe's sha256
//! out/manifest.json                      merged manifest, once every task is done
//! ```
//!
//! Determinism: inputs are sorted and task `i` of `n` takes inputs `i, i+n, i+2n, ...`; inside a task
//! documents are read in file order, processed in batches with rayon (each document's verdict depends
//! only on that document), and written in read order. So output bytes do not depend on thread count.
//! A task whose marker exists is skipped on rerun; a task that was killed has no marker, so it is
//! redone from scratch, after removing whatever shards it had renamed into place.
//!
//! An output path may be `s3://bucket/prefix`. Tasks then write exactly as above into a local
//! staging folder (`RunOptions::staging`, else a folder named after the URL under `QUARRY_STAGING`
//! or the system temp dir), and each finished task is published to the bucket in a safe order: its
//! shards and side outputs, then its manifest, then its marker last. Markers are looked up on the
//! bucket, so a rerun (on any machine) skips what is finished there; the staged copies of a
//! published task are removed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::document::Document;
use crate::manifest::{
    peak_rss_bytes, BuildInfo, InputRecord, OutputRecord, ReaderCounts, RecipeRecord, RunManifest,
    StageCounts, TaskManifest, MANIFEST_FORMAT,
};
use crate::read::{open_documents, ReadItem};
use crate::recipe::Recipe;
use crate::step::{Step, StepRegistry, TaskContext, Verdict};
use crate::storage::{
    delete_prefix, list_inputs, put_bytes, put_file, read_opt, sha256_file, write_atomic,
    InputFile, Location,
};
use crate::write::RollingWriter;

/// Errors that stop a run (record-level problems are counted instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The recipe is wrong.
    #[error(transparent)]
    Recipe(#[from] crate::recipe::RecipeError),
    /// A stage could not be built or failed.
    #[error(transparent)]
    Step(#[from] crate::error::StepError),
    /// Inputs could not be listed.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// Writing outputs failed.
    #[error("{path}: {source}")]
    Io {
        /// What was being written.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The task index is out of range.
    #[error("task {task} does not exist: the run has {tasks} task(s) (0..{tasks})")]
    BadTask {
        /// Requested task.
        task: usize,
        /// Number of tasks.
        tasks: usize,
    },
    /// The output folder holds finished tasks of a different recipe.
    #[error("{out} holds a finished task {task} of a different recipe (sha256 {found}); use another output folder or --force")]
    OtherRecipe {
        /// Output folder.
        out: String,
        /// The task.
        task: usize,
        /// The recipe hash found in its marker.
        found: String,
    },
    /// Counts did not add up (a bug: every record must be accounted for).
    #[error(transparent)]
    Counts(#[from] crate::manifest::CountMismatch),
}

fn io_err(path: impl AsRef<Path>) -> impl FnOnce(std::io::Error) -> RunError {
    let path = path.as_ref().display().to_string();
    move |source| RunError::Io { path, source }
}

/// How to run a recipe.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Number of tasks (overrides the recipe's `[run] tasks`).
    pub tasks: Option<usize>,
    /// Run only this task (Slurm array task, or `--task`); all tasks one after the other otherwise.
    pub task: Option<usize>,
    /// Redo finished tasks.
    pub force: bool,
    /// Draw progress bars on the terminal.
    pub progress: bool,
    /// Local staging folder when the output is on S3 [default: a folder named after the output
    /// URL under `QUARRY_STAGING`, else under `quarry-staging` in the system temp dir].
    pub staging: Option<PathBuf>,
}

/// Where a run's files go: always written into `local` first; published to `remote` when set.
#[derive(Debug, Clone)]
struct Target {
    local: PathBuf,
    remote: Option<Location>,
}

impl Target {
    fn new(path: &str, staging: Option<&Path>) -> Result<Target, RunError> {
        match Location::parse(path)? {
            Location::Local(p) => Ok(Target {
                local: p,
                remote: None,
            }),
            loc @ Location::S3 { .. } => Ok(Target {
                local: crate::storage::staging_dir(staging, &loc),
                remote: Some(loc),
            }),
            Location::Http(u) => Err(RunError::Io {
                path: u,
                source: std::io::Error::other(
                    "outputs go to a local folder or s3://bucket/prefix, not http(s)",
                ),
            }),
        }
    }

    /// The task's marker text, if the task is finished (on the bucket when remote).
    fn marker(&self, task: usize) -> Result<Option<String>, RunError> {
        match &self.remote {
            None => Ok(std::fs::read_to_string(marker_path(&self.local, task)).ok()),
            Some(r) => Ok(read_opt(&r.join(&marker_rel(task)))?
                .map(|b| String::from_utf8_lossy(&b).into_owned())),
        }
    }

    /// The published location of a file written below the staging folder.
    fn published(&self, local: &str) -> Option<(PathBuf, Location)> {
        let r = self.remote.as_ref()?;
        let rel = Path::new(local).strip_prefix(&self.local).ok()?;
        let rel = rel.to_string_lossy().replace('\\', "/");
        Some((PathBuf::from(local), r.join(&rel)))
    }
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    /// Tasks run now.
    pub ran: Vec<usize>,
    /// Tasks skipped because they were already finished.
    pub skipped: Vec<usize>,
    /// Manifests of the tasks run now.
    pub manifests: Vec<TaskManifest>,
    /// The merged manifest, if every task of the run is finished.
    pub merged: Option<RunManifest>,
}

impl RunOutcome {
    /// Record-level read errors in the tasks run now.
    pub fn read_errors(&self) -> u64 {
        self.manifests.iter().map(|m| m.reader.errors).sum()
    }
}

/// A recipe ready to run: parsed, with its text and the registry its stages come from.
pub struct Pipeline {
    recipe: Recipe,
    recipe_text: String,
    registry: StepRegistry,
    build: BuildInfo,
}

impl Pipeline {
    /// Parses the recipe text and checks that every stage can be built, before any work starts.
    pub fn new(
        recipe_text: &str,
        registry: StepRegistry,
        build: BuildInfo,
    ) -> Result<Pipeline, RunError> {
        let recipe = Recipe::parse(recipe_text)?;
        let p = Pipeline {
            recipe,
            recipe_text: recipe_text.to_string(),
            registry,
            build,
        };
        p.build_steps()?;
        Ok(p)
    }

    /// A pipeline from a recipe built in code (its TOML form goes into the manifest).
    pub fn from_recipe(
        recipe: Recipe,
        registry: StepRegistry,
        build: BuildInfo,
    ) -> Result<Pipeline, RunError> {
        let text = recipe.to_toml();
        Pipeline::new(&text, registry, build)
    }

    /// The recipe.
    pub fn recipe(&self) -> &Recipe {
        &self.recipe
    }

    fn recipe_sha(&self) -> String {
        hex::encode(Sha256::digest(self.recipe_text.as_bytes()))
    }

    fn build_steps(&self) -> Result<Vec<Box<dyn Step>>, RunError> {
        let mut steps = Vec::new();
        for table in &self.recipe.stages {
            let mut t = table.clone();
            let ty = match t.remove("type") {
                Some(toml::Value::String(s)) => s,
                _ => unreachable!("checked by Recipe::parse"),
            };
            steps.push(self.registry.build(&ty, &t)?);
        }
        Ok(steps)
    }

    fn target(&self, opts: &RunOptions) -> Result<Target, RunError> {
        Target::new(&self.recipe.output.path, opts.staging.as_deref())
    }

    /// Runs the tasks asked for, then merges manifests if every task is finished.
    pub fn run(&self, opts: &RunOptions) -> Result<RunOutcome, RunError> {
        let tasks = opts.tasks.unwrap_or(self.recipe.run.tasks).max(1);
        let inputs = list_inputs(&self.recipe.input.paths)?;
        let which: Vec<usize> = match opts.task {
            Some(t) if t >= tasks => return Err(RunError::BadTask { task: t, tasks }),
            Some(t) => vec![t],
            None => (0..tasks).collect(),
        };
        let target = self.target(opts)?;
        let mut outcome = RunOutcome::default();
        let sha = self.recipe_sha();
        for &task in &which {
            if !opts.force {
                if let Some(found) = target.marker(task)? {
                    let found = found.trim().to_string();
                    if found != sha {
                        return Err(RunError::OtherRecipe {
                            out: self.recipe.output.path.clone(),
                            task,
                            found,
                        });
                    }
                    tracing::info!(task, "already finished, skipping");
                    outcome.skipped.push(task);
                    continue;
                }
            }
            let mine: Vec<InputFile> = inputs.iter().skip(task).step_by(tasks).cloned().collect();
            let m = self.run_task(&target, task, tasks, &mine, opts.progress)?;
            outcome.ran.push(task);
            outcome.manifests.push(m);
        }
        outcome.merged = self.merge_if_complete(&target, tasks)?;
        Ok(outcome)
    }

    fn run_task(
        &self,
        target: &Target,
        task: usize,
        tasks: usize,
        inputs: &[InputFile],
        progress: bool,
    ) -> Result<TaskManifest, RunError> {
        let started = Instant::now();
        let out = target.local.clone();
        let shard_dir = out.join("shards");
        std::fs::create_dir_all(&shard_dir).map_err(io_err(&shard_dir))?;
        let marker = marker_path(&out, task);
        let _ = std::fs::remove_file(&marker);
        let task_prefix = RollingWriter::task_prefix(&self.recipe.output.prefix, task);
        clean_task_outputs(&shard_dir, &task_prefix).map_err(io_err(&shard_dir))?;
        if let Some(r) = &target.remote {
            // A redone task first withdraws its marker, then what an earlier attempt uploaded.
            delete_prefix(&r.join("_markers"), &format!("task-{task:05}."))?;
            delete_prefix(&r.join("shards"), &task_prefix)?;
        }

        let ctx = TaskContext {
            task,
            tasks,
            output: out.display().to_string(),
            scratch: out.join("_scratch").join(format!("task-{task:05}")),
        };
        let mut steps = self.build_steps()?;
        for s in steps.iter_mut() {
            s.begin(&ctx)?;
        }
        let mut manifest = TaskManifest {
            format: MANIFEST_FORMAT.to_string(),
            build: self.build.clone(),
            recipe: RecipeRecord {
                text: self.recipe_text.clone(),
                sha256: self.recipe_sha(),
            },
            task,
            tasks,
            stages: steps.iter().map(|s| StageCounts::new(s.name())).collect(),
            ..Default::default()
        };
        let mut writer = RollingWriter::new(
            &shard_dir,
            &self.recipe.output.prefix,
            task,
            self.recipe.output.format,
            self.recipe.output.max_shard_bytes,
        );
        let total_bytes: u64 = inputs.iter().filter_map(|i| i.size).sum();
        let bar = progress_bar(progress, total_bytes, task, tasks);
        let ropts = self.recipe.input.reader_options();
        let batch_size = self.recipe.run.batch_size;
        let count_keys = self.recipe.output.count_metadata.clone();
        let mut done_bytes = 0u64;
        for input in inputs {
            let name = input.location.to_string();
            tracing::info!(task, input = %name, "reading");
            let opened = match open_documents(input, &ropts) {
                Ok(o) => o,
                Err(e) => {
                    // An input that cannot be opened is one failed record, so the run goes on
                    // and the exit status reports it.
                    tracing::error!("{e}");
                    manifest.reader.records += 1;
                    manifest.reader.errors += 1;
                    push_sample(&mut manifest.reader, e.to_string());
                    continue;
                }
            };
            let mut batch: Vec<Document> = Vec::with_capacity(batch_size);
            for item in opened.items {
                manifest.reader.records += 1;
                match item {
                    ReadItem::Doc(d) => {
                        manifest.reader.documents += 1;
                        batch.push(d);
                        if batch.len() >= batch_size {
                            process_batch(
                                &steps,
                                &mut batch,
                                &mut manifest,
                                &count_keys,
                                &mut writer,
                            )
                            .map_err(io_err(&shard_dir))?;
                            if let Some(b) = &bar {
                                b.set_position(done_bytes + opened.digest.digest().bytes);
                            }
                        }
                    }
                    ReadItem::Skipped { reason, .. } => {
                        *manifest
                            .reader
                            .skipped
                            .entry(reason.to_string())
                            .or_default() += 1;
                    }
                    ReadItem::Error(e) => {
                        tracing::warn!("{e}");
                        manifest.reader.errors += 1;
                        push_sample(&mut manifest.reader, e.to_string());
                    }
                }
            }
            process_batch(&steps, &mut batch, &mut manifest, &count_keys, &mut writer)
                .map_err(io_err(&shard_dir))?;
            let mut dg = opened.digest.digest();
            if !dg.complete {
                // The reader stopped early (unrecoverable error): hash the whole file for the record.
                if let Some(p) = input.location.as_local() {
                    let (sha, bytes) = sha256_file(p).map_err(io_err(p))?;
                    dg.sha256 = sha;
                    dg.bytes = bytes;
                }
            }
            done_bytes += input.size.unwrap_or(dg.bytes);
            if let Some(b) = &bar {
                b.set_position(done_bytes);
            }
            manifest.inputs.push(InputRecord {
                path: name,
                bytes: input.size.unwrap_or(dg.bytes),
                sha256: dg.sha256,
            });
        }
        for s in steps.iter_mut() {
            for so in s.finish(&ctx)? {
                manifest.side_outputs.push(OutputRecord {
                    path: so.path,
                    rows: so.rows,
                    bytes: so.bytes,
                    sha256: so.sha256,
                });
            }
        }
        let shards = writer.finish().map_err(io_err(&shard_dir))?;
        manifest.outputs = shards.into_iter().map(OutputRecord::from).collect();
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        manifest.wall_seconds = started.elapsed().as_secs_f64();
        manifest.peak_rss_bytes = peak_rss_bytes();
        manifest.check()?;
        // Files to publish, in order, and the manifest naming them where they will be.
        let mut publish = Vec::new();
        if target.remote.is_some() {
            for o in manifest
                .outputs
                .iter_mut()
                .chain(manifest.side_outputs.iter_mut())
            {
                if let Some((local, remote)) = target.published(&o.path) {
                    o.path = remote.to_string();
                    publish.push((local, remote));
                }
            }
        }
        let mpath = task_manifest_path(&out, task);
        let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        write_atomic(&mpath, &json).map_err(io_err(&mpath))?;
        let _ = std::fs::remove_dir_all(&ctx.scratch);
        let marker_text = format!("{}\n", manifest.recipe.sha256);
        match &target.remote {
            None => {
                // The marker is written last: its presence means every output above is complete.
                write_atomic(&marker, marker_text.as_bytes()).map_err(io_err(&marker))?;
            }
            Some(r) => {
                // Data, then the manifest, then the marker: a marker on the bucket vouches for
                // objects that are all there (S3 shows an object only once it is complete).
                for (local, remote) in &publish {
                    put_file(local, remote)?;
                }
                put_bytes(&r.join(&manifest_rel(task)), &json)?;
                put_bytes(&r.join(&marker_rel(task)), marker_text.as_bytes())?;
                for (local, _) in &publish {
                    let _ = std::fs::remove_file(local);
                }
                let _ = std::fs::remove_file(&mpath);
                tracing::info!(task, dest = %r, files = publish.len() + 2, "published");
            }
        }
        Ok(manifest)
    }

    fn merge_if_complete(
        &self,
        target: &Target,
        tasks: usize,
    ) -> Result<Option<RunManifest>, RunError> {
        let out = &target.local;
        let mut ms = Vec::with_capacity(tasks);
        let mut paths = Vec::with_capacity(tasks);
        for t in 0..tasks {
            let (p, bytes) = match &target.remote {
                None => {
                    if !marker_path(out, t).exists() {
                        return Ok(None);
                    }
                    let p = task_manifest_path(out, t);
                    let bytes = std::fs::read(&p).map_err(io_err(&p))?;
                    (p, bytes)
                }
                Some(r) => {
                    if target.marker(t)?.is_none() {
                        return Ok(None);
                    }
                    let loc = r.join(&manifest_rel(t));
                    let bytes = read_opt(&loc)?.ok_or_else(|| RunError::Io {
                        path: loc.to_string(),
                        source: std::io::Error::other("task marker present but manifest missing"),
                    })?;
                    (PathBuf::from(loc.to_string()), bytes)
                }
            };
            let m: TaskManifest = serde_json::from_slice(&bytes).map_err(|e| RunError::Io {
                path: p.display().to_string(),
                source: std::io::Error::other(e),
            })?;
            ms.push(m);
            paths.push(format!("_manifests/task-{t:05}.json"));
        }
        let merged = RunManifest::merge(&ms, paths);
        merged.check()?;
        let json = serde_json::to_vec_pretty(&merged).expect("serialises");
        match &target.remote {
            None => {
                let p = out.join("manifest.json");
                write_atomic(&p, &json).map_err(io_err(&p))?;
            }
            Some(r) => put_bytes(&r.join("manifest.json"), &json)?,
        }
        Ok(Some(merged))
    }
}

fn push_sample(r: &mut ReaderCounts, s: String) {
    if r.error_samples.len() < 20 {
        r.error_samples.push(s);
    }
}

/// Runs every step on every document of the batch (in parallel), counts verdicts in document order,
/// and writes the kept documents in order.
fn process_batch(
    steps: &[Box<dyn Step>],
    batch: &mut Vec<Document>,
    manifest: &mut TaskManifest,
    count_keys: &[String],
    writer: &mut RollingWriter,
) -> std::io::Result<()> {
    let counts = &mut manifest.stages;
    if batch.is_empty() {
        return Ok(());
    }
    let verdicts: Vec<Option<(usize, Verdict)>> = batch
        .par_iter_mut()
        .map(|doc| {
            for (i, s) in steps.iter().enumerate() {
                let v = s.process(doc);
                if !v.is_keep() {
                    return Some((i, v));
                }
            }
            None
        })
        .collect();
    for (doc, v) in batch.drain(..).zip(verdicts) {
        let stop = v.as_ref().map(|(i, _)| *i).unwrap_or(steps.len());
        for c in counts.iter_mut().take(stop) {
            c.input += 1;
            c.kept += 1;
        }
        match v {
            Some((i, Verdict::Drop(reason))) => {
                counts[i].input += 1;
                *counts[i].dropped.entry(reason.into_owned()).or_default() += 1;
            }
            _ => {
                for k in count_keys {
                    let v = match doc.metadata.get(k) {
                        None => "(none)".to_string(),
                        Some(crate::document::MetaValue::Str(s)) => s.clone(),
                        Some(other) => serde_json::to_string(other).unwrap_or_default(),
                    };
                    *manifest
                        .metadata_counts
                        .entry(k.clone())
                        .or_default()
                        .entry(v)
                        .or_default() += 1;
                }
                writer.write(&doc)?
            }
        }
    }
    Ok(())
}

fn marker_rel(task: usize) -> String {
    format!("_markers/task-{task:05}.done")
}

fn manifest_rel(task: usize) -> String {
    format!("_manifests/task-{task:05}.json")
}

fn marker_path(out: &Path, task: usize) -> PathBuf {
    out.join(marker_rel(task))
}

fn task_manifest_path(out: &Path, task: usize) -> PathBuf {
    out.join(manifest_rel(task))
}

/// Removes this task's shards and temporary files left by an earlier, interrupted run.
fn clean_task_outputs(dir: &Path, prefix: &str) -> std::io::Result<()> {
    let hidden = format!(".{prefix}");
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with(prefix) || name.starts_with(&hidden) {
            std::fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

fn progress_bar(
    enabled: bool,
    total: u64,
    task: usize,
    tasks: usize,
) -> Option<indicatif::ProgressBar> {
    if !enabled {
        return None;
    }
    let b = indicatif::ProgressBar::new(total);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    b.set_message(format!("task {task}/{tasks}"));
    Some(b)
}
