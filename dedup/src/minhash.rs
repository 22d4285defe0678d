//! MinHash-LSH near-duplicate removal as four stages, each runnable as independent tasks:
//!
//! 1. [`MinhashSignatures`] (`minhash_signatures`), one per input task: signature of each document in
//!    `process` (always `Keep`), per-band sorted files in `finish`.
//! 2. [`find_pairs`] per band: k-way merge of all tasks' files of that band into candidate pairs.
//! 3. [`cluster`] once: union-find, kept document, `removed.txt`, `clusters.jsonl`.
//! 4. `minhash_filter` ([`DedupFilter`]), one per input task: drops removed documents
//!    (`minhash_duplicate`) and writes `dedup_cluster_id` / `dedup_cluster_size` on kept ones.
//!
//! Every stage works in `<dir>/<config tag>/`, so runs with other settings never mix.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use quarry_corpus::{Document, SideOutput, Step, StepError, TaskContext, Verdict};

use crate::cluster::{cluster, ClusterParams, ClusterStats};
use crate::collect::{Buckets, TaskCollector};
use crate::config::{MinhashConfig, VerifyMode};
use crate::error::DedupError;
use crate::filter::DedupFilter;
use crate::layout::Layout;
use crate::merge::{find_pairs_with_index, MergeLimits, MergeStats, PairMode};
use crate::normalize::Shingler;
use crate::signature::{HashScheme, MinHasher};

/// The folder of a configuration under a dedup root: `<root>/minhash-<tag>`.
pub fn minhash_dir(root: &Path, cfg: &MinhashConfig) -> PathBuf {
    root.join(format!("minhash-{}", cfg.tag()))
}

thread_local! {
    static SHINGLER: std::cell::RefCell<Shingler> = std::cell::RefCell::new(Shingler::default());
}

/// Stage 1: computes signatures and writes the task's band files.
pub struct MinhashSignatures {
    cfg: MinhashConfig,
    layout: Layout,
    hasher: MinHasher,
    collector: Mutex<TaskCollector>,
    task: usize,
}

impl MinhashSignatures {
    /// A signature stage writing under `minhash_dir(root, cfg)`.
    pub fn new(cfg: MinhashConfig, root: &Path) -> Result<Self, DedupError> {
        cfg.validate()?;
        let layout = Layout::new(minhash_dir(root, &cfg));
        Ok(MinhashSignatures {
            collector: Mutex::new(TaskCollector::with_budget(
                crate::spill::DEFAULT_SIGNATURE_BUDGET,
                layout.dir(),
            )),
            layout,
            hasher: cfg.hasher(),
            cfg,
            task: 0,
        })
    }

    /// Sorted runs this task spilled to disk so far (0 when it fit in its memory budget).
    pub fn spills(&self) -> u64 {
        self.collector
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .spills()
    }

    /// Sets the bytes this task holds before it spills sorted runs to disk (same output either way).
    pub fn with_memory_budget(mut self, bytes: usize) -> Self {
        self.collector = Mutex::new(TaskCollector::with_budget(bytes, self.layout.dir()));
        self
    }

    /// Adds one document (what `process` does).
    pub fn add(&self, doc: &Document) {
        let (sig, shingles) = SHINGLER.with(|s| {
            let mut s = s.borrow_mut();
            let hs = self.hasher.shingle_hashes(&doc.text, &mut s);
            let mut sig = Vec::new();
            let has = self.hasher.signature_of(&hs, &mut sig);
            if !has {
                sig.clear();
            }
            let keep_shingles = self.cfg.verify == VerifyMode::Exact;
            (sig, keep_shingles.then_some(hs))
        });
        self.collector
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(doc, sig, shingles);
    }

    /// Writes the task's files (what `finish` does).
    pub fn write(&mut self, task: usize) -> Result<Vec<SideOutput>, DedupError> {
        let cfg_json = serde_json::to_vec_pretty(&self.cfg).expect("config serialises");
        crate::format::write_atomic(&self.layout.dir().join("config.json"), &cfg_json)?;
        let sigs = (self.cfg.verify == VerifyMode::Estimated).then_some(self.cfg.num_hashes());
        let (_, outputs) = self
            .collector
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .finish(
                &self.layout,
                task,
                Buckets::Bands {
                    bands: self.cfg.bands,
                    rows: self.cfg.rows,
                    // datatrove's scheme keeps raw rows, so that pairs come in datatrove's order
                    hashed: self.cfg.scheme == HashScheme::Xxh3 && self.cfg.rows > 2,
                },
                self.cfg.fingerprint(),
                sigs,
            )?;
        Ok(outputs)
    }
}

impl Step for MinhashSignatures {
    fn name(&self) -> &str {
        "minhash_signatures"
    }
    fn begin(&mut self, ctx: &TaskContext) -> Result<(), StepError> {
        self.task = ctx.task;
        Ok(())
    }
    fn process(&self, doc: &mut Document) -> Verdict {
        self.add(doc);
        Verdict::Keep
    }
    fn finish(&mut self, ctx: &TaskContext) -> Result<Vec<SideOutput>, StepError> {
        self.write(ctx.task)
            .map_err(|e| e.into_step("minhash_signatures"))
    }
}

/// Stage 2 for one band, also matching the band's keys of `index` (indexes of earlier crawls, see
/// [`crate::index`]; empty for none).
pub fn minhash_pairs(
    root: &Path,
    cfg: &MinhashConfig,
    band: usize,
    limits: &MergeLimits,
    index: &[PathBuf],
) -> Result<MergeStats, DedupError> {
    cfg.validate()?;
    if band >= cfg.bands {
        return Err(DedupError::Config(format!(
            "band {band} out of range (0..{})",
            cfg.bands
        )));
    }
    let mode = match cfg.verify {
        VerifyMode::None => PairMode::Consecutive,
        _ => PairMode::ConsecutiveAndFirst,
    };
    let folder = minhash_dir(Path::new(""), cfg).display().to_string();
    find_pairs_with_index(
        &Layout::new(minhash_dir(root, cfg)),
        band,
        cfg.fingerprint(),
        mode,
        limits,
        &crate::index::index_files(index, &folder, band)?,
    )
}

/// Stage 3.
pub fn minhash_cluster(root: &Path, cfg: &MinhashConfig) -> Result<ClusterStats, DedupError> {
    cfg.validate()?;
    cluster(
        &Layout::new(minhash_dir(root, cfg)),
        ClusterParams {
            fingerprint: cfg.fingerprint(),
            buckets: cfg.bands,
            keep: cfg.keep,
            verify: cfg.verify,
            threshold: cfg.verify_threshold,
        },
    )
}

/// Stage 4: the filter step for a configuration.
pub fn minhash_filter(root: &Path, cfg: &MinhashConfig) -> Result<DedupFilter, DedupError> {
    cfg.validate()?;
    Ok(DedupFilter::new(
        "minhash_filter",
        "minhash_duplicate",
        Layout::new(minhash_dir(root, cfg)),
    ))
}

/// Splits a recipe table into the dedup root (`dir`, required), the config (the other keys) and the
/// stage-1 memory budget (`signature_memory_mb`, optional; the filter ignores it).
pub(crate) fn split_table<T: serde::de::DeserializeOwned>(
    step: &str,
    table: &toml::Table,
) -> Result<(PathBuf, T, usize), StepError> {
    let mut t = table.clone();
    let budget = match t.remove("signature_memory_mb") {
        None => crate::spill::DEFAULT_SIGNATURE_BUDGET,
        Some(toml::Value::Integer(mb)) if mb > 0 => (mb as usize) << 20,
        Some(_) => {
            return Err(StepError::Config {
                step: step.into(),
                message: "`signature_memory_mb` must be a positive integer (MiB)".into(),
            })
        }
    };
    let dir = match t.remove("dir") {
        Some(toml::Value::String(s)) => PathBuf::from(s),
        Some(_) => {
            return Err(StepError::Config {
                step: step.into(),
                message: "`dir` must be a string (the dedup folder shared by all dedup stages)"
                    .into(),
            })
        }
        None => {
            return Err(StepError::Config {
                step: step.into(),
                message: "missing `dir` (the dedup folder shared by all dedup stages)".into(),
            })
        }
    };
    let cfg = quarry_corpus::step::table_into(step, &t)?;
    Ok((dir, cfg, budget))
}

pub(crate) fn signatures_factory(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let (dir, cfg, budget): (PathBuf, MinhashConfig, usize) =
        split_table("minhash_signatures", table)?;
    Ok(Box::new(
        MinhashSignatures::new(cfg, &dir)
            .map_err(|e| e.into_step("minhash_signatures"))?
            .with_memory_budget(budget),
    ))
}

pub(crate) fn filter_factory(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let (dir, cfg, _): (PathBuf, MinhashConfig, usize) = split_table("minhash_filter", table)?;
    Ok(Box::new(
        minhash_filter(&dir, &cfg).map_err(|e| e.into_step("minhash_filter"))?,
    ))
}
