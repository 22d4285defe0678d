//! The release bundle: the manifests a card is built from, found by following the lineage upstream, and
//! every file they name, located on disk and re-hashed.
//!
//! `--corpus DIR` is a run folder (`DIR/manifest.json`, `DIR/shards/`). Each input of its manifest that
//! is itself a shard of an earlier run (`X/shards/NAME` with `X/manifest.json` listing `NAME` with the
//! same sha256) pulls that run in, and so on up to the raw inputs (WARC files). `--tokens DIR` adds the
//! tokenize manifest, `--train DIR` a training run's manifest (`quarry-train/1`).
//!
//! Manifests record paths as they were given to the run (often relative to the directory it ran in).
//! To find the files after the bundle was moved, each manifest's recorded output folder is matched
//! against where the manifest actually is (longest common suffix of path components) and the same
//! prefix substitution is applied to its other paths.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use quarry_corpus::manifest::{InputRecord, OutputRecord, RunManifest, MANIFEST_FORMAT};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{CardError, Result};

/// Format name of tokenize manifests.
pub const TOKENS_FORMAT: &str = "quarry-tokens-manifest/1";
/// `kind` of training-run manifests.
pub const TRAIN_KIND: &str = "quarry-train/1";
/// Files a dedup run writes beside its manifest (not listed in it).
pub const DEDUP_FILES: [&str; 3] = ["removed.txt", "clusters.jsonl", "report.json"];

/// One file the bundle names.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRef {
    /// The path or URL as the manifest recorded it.
    pub recorded: String,
    /// Where it is now (`None`: remote, or absent when the card was made).
    pub local: Option<PathBuf>,
    /// sha256 the manifest recorded (empty when the manifest records none).
    pub recorded_sha256: String,
    /// sha256 of the bytes now (set by [`Bundle::hash_all`]).
    pub sha256: String,
    /// Size in bytes now (or as recorded, when not local).
    pub bytes: u64,
    /// Rows or documents, when the manifest says.
    pub rows: Option<u64>,
}

impl FileRef {
    fn new(recorded: &str, local: Option<PathBuf>, sha256: &str, bytes: u64) -> Self {
        FileRef {
            recorded: recorded.to_string(),
            local,
            recorded_sha256: sha256.to_string(),
            sha256: sha256.to_string(),
            bytes,
            rows: None,
        }
    }
    /// Whether the location is a URL (`s3://`, `https://`).
    pub fn is_remote(&self) -> bool {
        self.recorded.contains("://")
    }
    /// The file name.
    pub fn name(&self) -> &str {
        self.recorded.rsplit('/').next().unwrap_or(&self.recorded)
    }
}

/// A document-pipeline run (`quarry run`, the build's corpus step, the dedup filter pass).
#[derive(Debug, Clone)]
pub struct PipelineRun {
    /// Its output folder.
    pub dir: PathBuf,
    /// Its merged manifest file.
    pub manifest_file: FileRef,
    /// The parsed manifest.
    pub manifest: RunManifest,
    /// Inputs, in manifest order.
    pub inputs: Vec<FileRef>,
    /// Text shards.
    pub outputs: Vec<FileRef>,
    /// Side outputs of stages.
    pub side_outputs: Vec<FileRef>,
    /// Other files of the run folder: per-task manifests, dedup's `removed.txt`, `clusters.jsonl`,
    /// `report.json`.
    pub extra: Vec<FileRef>,
    /// Index in [`Bundle::runs`] of the run that produced each input (`None` for raw inputs).
    pub upstream: Vec<Option<usize>>,
}

/// The tokenize manifest (`quarry-tokens-manifest/1`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TokensManifest {
    /// [`TOKENS_FORMAT`].
    pub format: String,
    /// Tokenizer: path, sha256, vocabulary size, EOS id.
    pub tokenizer: TokenizerRecord,
    /// Tokenize settings.
    #[serde(default)]
    pub config: serde_json::Value,
    /// Unreadable input records.
    #[serde(default)]
    pub read_errors: u64,
    /// Text shards read.
    pub inputs: Vec<InputRecord>,
    /// Token shard files.
    pub outputs: Vec<OutputRecord>,
    /// Counts.
    pub stats: TokenizeStatsRecord,
}

/// The tokenizer a manifest names.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TokenizerRecord {
    /// Path as recorded.
    pub path: String,
    /// sha256.
    pub sha256: String,
    /// Vocabulary size.
    #[serde(default)]
    pub vocab_size: Option<u64>,
    /// End-of-document id.
    #[serde(default)]
    pub eos_id: Option<u64>,
}

/// `stats` of a tokenize manifest.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TokenizeStatsRecord {
    /// Documents read.
    pub documents_in: u64,
    /// Documents written.
    pub documents: u64,
    /// Documents with empty text, skipped.
    pub skipped_empty: u64,
    /// Tokens written, EOS included.
    pub tokens: u64,
    /// Bytes of text encoded.
    pub text_bytes: u64,
    /// Token dtype.
    pub dtype: String,
    /// Documents and tokens per source file.
    #[serde(default)]
    pub per_source: BTreeMap<String, SourceTokensRecord>,
    /// Shards in order.
    pub shards: Vec<TokenShardRecord>,
}

/// Documents and tokens of one source.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SourceTokensRecord {
    /// Documents.
    pub documents: u64,
    /// Tokens.
    pub tokens: u64,
}

/// One token shard in a tokenize manifest.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TokenShardRecord {
    /// Its files (`.bin` + `.idx`, or `.npy` + `.csv.gz`).
    pub files: Vec<String>,
    /// Documents.
    pub documents: u64,
    /// Tokens.
    pub tokens: u64,
}

/// A tokenize run.
#[derive(Debug, Clone)]
pub struct TokensRun {
    /// Its folder.
    pub dir: PathBuf,
    /// `manifest.json`.
    pub manifest_file: FileRef,
    /// The parsed manifest.
    pub manifest: TokensManifest,
    /// The tokenizer file.
    pub tokenizer: FileRef,
    /// Text shards read.
    pub inputs: Vec<FileRef>,
    /// Token shard files.
    pub outputs: Vec<FileRef>,
}

/// A file named by a training manifest.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TrainFile {
    /// Path.
    pub path: String,
    /// sha256.
    #[serde(default)]
    pub sha256: String,
}

/// A checkpoint named by a training manifest.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TrainCheckpoint {
    /// Optimizer step.
    pub step: u64,
    /// Path.
    pub path: String,
    /// sha256.
    #[serde(default)]
    pub sha256: String,
}

/// A training run's manifest (`"kind": "quarry-train/1"`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TrainManifest {
    /// [`TRAIN_KIND`].
    pub kind: String,
    /// The training config as text (TOML).
    #[serde(default)]
    pub config: String,
    /// The tokenizer.
    pub tokenizer: TrainFile,
    /// Token shards trained on.
    #[serde(default)]
    pub shards: Vec<TrainFile>,
    /// Checkpoints.
    #[serde(default)]
    pub checkpoints: Vec<TrainCheckpoint>,
    /// `metrics.jsonl`: `{path, sha256}` as quarry's trainer writes it, or a bare path.
    #[serde(default)]
    pub metrics: Option<MetricsRef>,
}

/// How a training manifest names its metrics file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum MetricsRef {
    /// A path only.
    Path(String),
    /// A path with its sha256.
    File(TrainFile),
}

/// A training run.
#[derive(Debug, Clone)]
pub struct TrainRun {
    /// Its folder.
    pub dir: PathBuf,
    /// `manifest.json`.
    pub manifest_file: FileRef,
    /// The parsed manifest.
    pub manifest: TrainManifest,
    /// The tokenizer.
    pub tokenizer: FileRef,
    /// Token shards.
    pub shards: Vec<FileRef>,
    /// Checkpoints with their step.
    pub checkpoints: Vec<(u64, FileRef)>,
    /// The metrics file.
    pub metrics: Option<FileRef>,
}

/// Everything the card describes.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Pipeline runs, upstream first; the last is `--corpus`.
    pub runs: Vec<PipelineRun>,
    /// The tokenize run.
    pub tokens: Option<TokensRun>,
    /// Training runs.
    pub train: Vec<TrainRun>,
}

/// Maps recorded paths to where the files are now (see the module docs).
#[derive(Debug, Clone, Default)]
struct Rebase {
    from: PathBuf,
    to: PathBuf,
}

impl Rebase {
    /// The substitution that turns `recorded_dir` into `actual_dir`.
    fn between(recorded_dir: &Path, actual_dir: &Path) -> Rebase {
        let r: Vec<Component> = recorded_dir.components().collect();
        let a: Vec<Component> = actual_dir.components().collect();
        let mut k = 0;
        while k < r.len() && k < a.len() && r[r.len() - 1 - k] == a[a.len() - 1 - k] {
            k += 1;
        }
        Rebase {
            from: r[..r.len() - k].iter().collect(),
            to: a[..a.len() - k].iter().collect(),
        }
    }
    fn apply(&self, p: &Path) -> Option<PathBuf> {
        p.strip_prefix(&self.from)
            .ok()
            .map(|rest| self.to.join(rest))
    }
}

/// Where a recorded path is now. An `s3://` record (a run that wrote to a bucket) resolves only
/// through a rebase: when the run's folder was copied to disk (as `quarry launch --data s3://…`
/// does for its card job), its manifest's recorded bucket folder maps onto the local copy.
fn resolve(recorded: &str, rebases: &[Rebase]) -> Option<PathBuf> {
    if recorded.is_empty() {
        return None;
    }
    let p = Path::new(recorded);
    let remote = recorded.contains("://");
    rebases
        .iter()
        .filter_map(|r| r.apply(p))
        .chain((!remote).then(|| p.to_path_buf()))
        .find(|c| c.is_file())
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| CardError::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| CardError::format(path, e.to_string()))
}

fn local_ref(path: &Path) -> FileRef {
    FileRef::new(&path.display().to_string(), Some(path.to_path_buf()), "", 0)
}

fn canonical(p: &Path) -> Result<PathBuf> {
    std::fs::canonicalize(p).map_err(|e| CardError::io(p, e))
}

/// Reads a pipeline run folder.
fn load_run(dir: &Path) -> Result<PipelineRun> {
    let dir = canonical(dir)?;
    let mpath = dir.join("manifest.json");
    let m: RunManifest = read_json(&mpath)?;
    if m.format != MANIFEST_FORMAT {
        return Err(CardError::format(
            &mpath,
            format!("format `{}`, want `{MANIFEST_FORMAT}`", m.format),
        ));
    }
    m.check().map_err(|e| CardError::Mismatch {
        path: mpath.clone(),
        message: e.to_string(),
    })?;
    // Shards are `<out>/shards/NAME`; side outputs and task manifests also hang off `<out>`.
    let recorded_dir = m
        .outputs
        .iter()
        .filter_map(|o| Path::new(&o.path).parent()?.parent().map(Path::to_path_buf))
        .next();
    let rebases: Vec<Rebase> = recorded_dir
        .iter()
        .map(|r| Rebase::between(r, &dir))
        .collect();
    let refs = |recs: &[OutputRecord]| -> Vec<FileRef> {
        recs.iter()
            .map(|o| {
                let mut f = FileRef::new(&o.path, resolve(&o.path, &rebases), &o.sha256, o.bytes);
                f.rows = Some(o.rows);
                f
            })
            .collect()
    };
    let outputs = refs(&m.outputs);
    let side_outputs = refs(&m.side_outputs);
    let inputs = m
        .inputs
        .iter()
        .map(|i| FileRef::new(&i.path, resolve(&i.path, &rebases), &i.sha256, i.bytes))
        .collect();
    let mut extra: Vec<FileRef> = m
        .task_manifests
        .iter()
        .map(|t| dir.join(t))
        .filter(|p| p.is_file())
        .map(|p| local_ref(&p))
        .collect();
    extra.extend(
        DEDUP_FILES
            .iter()
            .map(|n| dir.join(n))
            .filter(|p| p.is_file())
            .map(|p| local_ref(&p)),
    );
    Ok(PipelineRun {
        manifest_file: local_ref(&mpath),
        dir,
        manifest: m,
        inputs,
        outputs,
        side_outputs,
        extra,
        upstream: Vec::new(),
    })
}

/// The run folder that produced `shard`, when `shard` is `X/shards/NAME` and `X/manifest.json` lists
/// `NAME` with sha256 `sha`.
fn producer_dir(shard: &Path, sha: &str) -> Option<PathBuf> {
    let shards = shard.parent()?;
    if shards.file_name()? != "shards" {
        return None;
    }
    let dir = shards.parent()?;
    let m: RunManifest = read_json(&dir.join("manifest.json")).ok()?;
    let name = shard.file_name()?.to_str()?;
    m.outputs
        .iter()
        .any(|o| o.sha256 == sha && o.path.rsplit('/').next() == Some(name))
        .then(|| dir.to_path_buf())
}

impl Bundle {
    /// Follows the lineage from `corpus` upstream, and adds the tokenize and training runs.
    pub fn discover(corpus: &Path, tokens: Option<&Path>, train: &[PathBuf]) -> Result<Bundle> {
        let mut runs: Vec<PipelineRun> = Vec::new();
        let mut index: BTreeMap<PathBuf, usize> = BTreeMap::new();
        // Depth-first from the corpus; runs are then ordered so that producers come first.
        let mut stack = vec![canonical(corpus)?];
        let mut seen = BTreeSet::new();
        while let Some(dir) = stack.pop() {
            if !seen.insert(dir.clone()) {
                continue;
            }
            if seen.len() > 64 {
                return Err(CardError::format(&dir, "lineage deeper than 64 runs"));
            }
            let run = load_run(&dir)?;
            for i in &run.inputs {
                if let Some(up) = i
                    .local
                    .as_deref()
                    .and_then(|p| producer_dir(p, &i.recorded_sha256))
                {
                    stack.push(canonical(&up)?);
                }
            }
            index.insert(run.dir.clone(), runs.len());
            runs.push(run);
        }
        // Producers before consumers: reverse discovery order is a valid order for a chain and for
        // trees; a shared producer is already unique through `seen`.
        runs.reverse();
        let dirs: Vec<PathBuf> = runs.iter().map(|r| r.dir.clone()).collect();
        for r in runs.iter_mut() {
            r.upstream = r
                .inputs
                .iter()
                .map(|i| {
                    let up = i
                        .local
                        .as_deref()
                        .and_then(|p| producer_dir(p, &i.recorded_sha256))?;
                    let up = std::fs::canonicalize(up).ok()?;
                    dirs.iter().position(|d| *d == up)
                })
                .collect();
        }
        let tokens = tokens.map(load_tokens).transpose()?;
        let train = train
            .iter()
            .map(|d| load_train(d))
            .collect::<Result<Vec<_>>>()?;
        Ok(Bundle {
            runs,
            tokens,
            train,
        })
    }

    /// The run whose shards the card publishes (`--corpus`).
    pub fn corpus(&self) -> &PipelineRun {
        self.runs
            .last()
            .expect("discover loads at least the corpus run")
    }

    /// Every file of the bundle, mutable, in lineage order.
    fn files_mut(&mut self) -> Vec<&mut FileRef> {
        let mut v: Vec<&mut FileRef> = Vec::new();
        for r in &mut self.runs {
            v.extend(r.inputs.iter_mut());
            v.push(&mut r.manifest_file);
            v.extend(r.outputs.iter_mut());
            v.extend(r.side_outputs.iter_mut());
            v.extend(r.extra.iter_mut());
        }
        if let Some(t) = &mut self.tokens {
            v.push(&mut t.tokenizer);
            v.extend(t.inputs.iter_mut());
            v.push(&mut t.manifest_file);
            v.extend(t.outputs.iter_mut());
        }
        for t in &mut self.train {
            v.push(&mut t.manifest_file);
            v.push(&mut t.tokenizer);
            v.extend(t.shards.iter_mut());
            v.extend(t.checkpoints.iter_mut().map(|(_, f)| f));
            v.extend(t.metrics.iter_mut());
        }
        v
    }

    /// Hashes every local file (in parallel, each distinct file once) and checks it against the
    /// sha256 its manifest recorded: a difference is an error, since the card would describe other
    /// bytes than the manifests.
    pub fn hash_all(&mut self) -> Result<()> {
        let paths: BTreeSet<PathBuf> = self
            .files_mut()
            .into_iter()
            .filter_map(|f| f.local.clone())
            .collect();
        let digests: BTreeMap<PathBuf, (String, u64)> = paths
            .into_par_iter()
            .map(|p| {
                quarry_corpus::storage::sha256_file(&p)
                    .map(|d| (p.clone(), d))
                    .map_err(|e| CardError::io(&p, e))
            })
            .collect::<Result<_>>()?;
        for f in self.files_mut() {
            if let Some(p) = &f.local {
                let (sha, bytes) = digests[p].clone();
                if !f.recorded_sha256.is_empty() && f.recorded_sha256 != sha {
                    return Err(CardError::Mismatch {
                        path: p.clone(),
                        message: format!(
                            "sha256 is {sha} but the manifest recorded {}",
                            f.recorded_sha256
                        ),
                    });
                }
                f.sha256 = sha;
                f.bytes = bytes;
            }
        }
        Ok(())
    }
}

fn load_tokens(dir: &Path) -> Result<TokensRun> {
    let dir = canonical(dir)?;
    let mpath = dir.join("manifest.json");
    let m: TokensManifest = read_json(&mpath)?;
    if m.format != TOKENS_FORMAT {
        return Err(CardError::format(
            &mpath,
            format!("format `{}`, want `{TOKENS_FORMAT}`", m.format),
        ));
    }
    let rebases: Vec<Rebase> = m
        .outputs
        .iter()
        .filter_map(|o| {
            Path::new(&o.path)
                .parent()
                .map(|r| Rebase::between(r, &dir))
        })
        .take(1)
        .collect();
    let tokenizer = FileRef::new(
        &m.tokenizer.path,
        resolve(&m.tokenizer.path, &rebases),
        &m.tokenizer.sha256,
        0,
    );
    let inputs = m
        .inputs
        .iter()
        .map(|i| FileRef::new(&i.path, resolve(&i.path, &rebases), &i.sha256, i.bytes))
        .collect();
    let outputs = m
        .outputs
        .iter()
        .map(|o| {
            let mut f = FileRef::new(&o.path, resolve(&o.path, &rebases), &o.sha256, o.bytes);
            f.rows = Some(o.rows);
            f
        })
        .collect();
    Ok(TokensRun {
        manifest_file: local_ref(&mpath),
        dir,
        manifest: m,
        tokenizer,
        inputs,
        outputs,
    })
}

fn load_train(dir: &Path) -> Result<TrainRun> {
    let dir = canonical(dir)?;
    let mpath = dir.join("manifest.json");
    let m: TrainManifest = read_json(&mpath)?;
    if m.kind != TRAIN_KIND {
        return Err(CardError::format(
            &mpath,
            format!("kind `{}`, want `{TRAIN_KIND}`", m.kind),
        ));
    }
    // Paths may be absolute, relative to the run folder, or relative to where training ran.
    let fr =
        |f: &TrainFile| FileRef::new(&f.path, resolve_under(&dir, &f.path, false), &f.sha256, 0);
    let tokenizer = fr(&m.tokenizer);
    let shards = m.shards.iter().map(fr).collect();
    let checkpoints = m
        .checkpoints
        .iter()
        .map(|c| {
            // quarry's trainer names a checkpoint folder and digests its weights file
            // (`model.safetensors`, the part a release ships); other trainers may name a file.
            if let Some(d) = resolve_under(&dir, &c.path, true) {
                let weights = d.join("model.safetensors");
                if !weights.is_file() {
                    return Err(CardError::format(
                        &mpath,
                        format!(
                            "checkpoint {} is a folder ({}) without model.safetensors",
                            c.step,
                            d.display()
                        ),
                    ));
                }
                let name = format!("{}/model.safetensors", c.path.trim_end_matches('/'));
                return Ok((c.step, FileRef::new(&name, Some(weights), &c.sha256, 0)));
            }
            let p = resolve_under(&dir, &c.path, false);
            Ok((c.step, FileRef::new(&c.path, p, &c.sha256, 0)))
        })
        .collect::<Result<Vec<_>>>()?;
    let metrics = m.metrics.as_ref().map(|r| {
        let (p, sha) = match r {
            MetricsRef::Path(p) => (p.as_str(), ""),
            MetricsRef::File(f) => (f.path.as_str(), f.sha256.as_str()),
        };
        FileRef::new(p, resolve_under(&dir, p, false), sha, 0)
    });
    Ok(TrainRun {
        manifest_file: local_ref(&mpath),
        dir,
        manifest: m,
        tokenizer,
        shards,
        checkpoints,
        metrics,
    })
}

/// A path a training manifest records: absolute, or relative to the run folder, or relative to the
/// folder training ran in (then its leading components name the run folder: they are stripped one by
/// one until the rest exists under `dir`).
fn resolve_under(dir: &Path, recorded: &str, want_dir: bool) -> Option<PathBuf> {
    if recorded.contains("://") || recorded.is_empty() {
        return None;
    }
    let ok = |c: &Path| if want_dir { c.is_dir() } else { c.is_file() };
    let p = Path::new(recorded);
    if p.is_absolute() {
        return ok(p).then(|| p.to_path_buf());
    }
    let comps: Vec<Component> = p.components().collect();
    // Relative to the run folder (leading components stripped), then to a folder above it (training
    // often runs one level up, e.g. `quarry train --out run` next to `quarry-out/`), then to the
    // current folder; always made absolute so that paths relative to the card come out right.
    (0..comps.len())
        .map(|k| dir.join(comps[k..].iter().collect::<PathBuf>()))
        .chain(dir.ancestors().skip(1).map(|a| a.join(p)))
        .chain(std::path::absolute(p).ok())
        .find(|c| ok(c))
}

/// `to` relative to the folder `from` (both absolute), with `..` where needed.
pub fn relative_path(from: &Path, to: &Path) -> String {
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); f.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebase_maps_relative_records_to_where_the_run_is_now() {
        let r = Rebase::between(
            Path::new("quarry-out/corpus"),
            Path::new("/data/x/quarry-out/corpus"),
        );
        assert_eq!(
            r.apply(Path::new("quarry-out/input/a.warc.gz")).unwrap(),
            Path::new("/data/x/quarry-out/input/a.warc.gz")
        );
        let r = Rebase::between(
            Path::new("/old/place/out/dedup"),
            Path::new("/new/out/dedup"),
        );
        assert_eq!(
            r.apply(Path::new("/old/place/out/corpus/shards/p.parquet"))
                .unwrap(),
            Path::new("/new/out/corpus/shards/p.parquet")
        );
        assert_eq!(r.apply(Path::new("/elsewhere/f")), None);
    }

    #[test]
    fn bucket_records_resolve_onto_a_local_copy() {
        let d = tempfile::tempdir().unwrap();
        let copy = d.path().join("stage/dedup");
        std::fs::create_dir_all(copy.join("shards")).unwrap();
        std::fs::write(copy.join("shards/p.parquet"), b"x").unwrap();
        let rb = Rebase::between(Path::new("s3://bucket/run/dedup"), &copy);
        assert_eq!(
            resolve("s3://bucket/run/dedup/shards/p.parquet", &[rb.clone()]),
            Some(copy.join("shards/p.parquet"))
        );
        // not in the copy, or no rebase: stays remote
        assert_eq!(
            resolve("s3://bucket/run/dedup/shards/q.parquet", &[rb]),
            None
        );
        assert_eq!(resolve("s3://bucket/run/dedup/shards/p.parquet", &[]), None);
    }

    #[test]
    fn relative_paths_walk_up_and_down() {
        assert_eq!(
            relative_path(
                Path::new("/a/b/card"),
                Path::new("/a/b/dedup/shards/x.parquet")
            ),
            "../dedup/shards/x.parquet"
        );
        assert_eq!(
            relative_path(Path::new("/a/b"), Path::new("/a/b/dedup/x")),
            "dedup/x"
        );
        assert_eq!(relative_path(Path::new("/a/b"), Path::new("/a/b")), ".");
    }
}
