//! Exact dedup on a 128-bit hash of the normalised text (or of the URL), in the same staged design as
//! MinHash: per-task hash files partitioned by hash (`exact_dedup_signatures`), per-partition merge
//! ([`exact_pairs`]), clustering ([`exact_cluster`]) and the filter (`exact_dedup_filter`).
//!
//! The first document of each group by (task, document order) is kept. The 128-bit xxh3 hash makes an
//! accidental collision negligible (~n²/2^129).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use quarry_corpus::{Document, SideOutput, Step, StepError, TaskContext, Verdict};
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_128;

use crate::cluster::{cluster, ClusterParams, ClusterStats};
use crate::collect::{Buckets, TaskCollector};
use crate::config::{KeepRule, VerifyMode};
use crate::error::DedupError;
use crate::filter::DedupFilter;
use crate::layout::Layout;
use crate::merge::{find_pairs_with_index, MergeLimits, MergeStats, PairMode};
use crate::minhash::split_table;
use crate::normalize::{simplify_text, NormConfig};

/// What exact dedup compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExactKey {
    /// The document text.
    #[default]
    Text,
    /// The URL (documents without one are never duplicates).
    Url,
}

/// Exact dedup settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExactConfig {
    /// Text or URL.
    pub key: ExactKey,
    /// Normalise before hashing (text: datatrove's `simplify_text` with `norm`; URL: trim and
    /// lower-case scheme and host).
    pub normalize: bool,
    /// Text normalisation when `normalize` is on.
    pub norm: NormConfig,
    /// Hash partitions (the parallelism of stage 2).
    pub partitions: usize,
}

impl Default for ExactConfig {
    fn default() -> Self {
        ExactConfig {
            key: ExactKey::Text,
            normalize: true,
            norm: NormConfig::default(),
            partitions: 16,
        }
    }
}

impl ExactConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), DedupError> {
        if self.partitions == 0 || self.partitions > 4096 {
            return Err(DedupError::Config(format!(
                "partitions must be in 1..=4096, got {}",
                self.partitions
            )));
        }
        Ok(())
    }

    /// Short tag for paths, e.g. `text-lnpwd-p16`, `url-raw-p16`.
    pub fn tag(&self) -> String {
        let k = match self.key {
            ExactKey::Text => "text",
            ExactKey::Url => "url",
        };
        let n = match (self.normalize, self.key) {
            (false, _) => "raw".to_string(),
            (true, ExactKey::Text) => self.norm.code(),
            (true, ExactKey::Url) => "norm".to_string(),
        };
        format!("{k}-{n}-p{}", self.partitions)
    }

    /// Settings fingerprint for file headers.
    pub fn fingerprint(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(format!("exact-{}", self.tag()).as_bytes())
    }

    /// The drop reason of the filter.
    pub fn reason(&self) -> &'static str {
        match self.key {
            ExactKey::Text => "exact_duplicate",
            ExactKey::Url => "url_duplicate",
        }
    }

    /// The 128-bit key of a document as two words, or `None` if it has nothing to compare.
    pub fn key_of(&self, doc: &Document) -> Option<[u64; 2]> {
        let h = match self.key {
            ExactKey::Text => {
                if self.normalize {
                    let s = simplify_text(&doc.text, &self.norm);
                    if s.is_empty() {
                        return None;
                    }
                    xxh3_128(s.as_bytes())
                } else {
                    xxh3_128(doc.text.as_bytes())
                }
            }
            ExactKey::Url => {
                let u = doc.url.as_deref()?.trim();
                if u.is_empty() {
                    return None;
                }
                if self.normalize {
                    xxh3_128(normalize_url(u).as_bytes())
                } else {
                    xxh3_128(u.as_bytes())
                }
            }
        };
        Some([h as u64, (h >> 64) as u64])
    }
}

/// Lower-cases the scheme and host of a URL (they are case-insensitive); drops a `#fragment`.
fn normalize_url(u: &str) -> String {
    let u = u.split('#').next().unwrap_or(u);
    match u.find("://") {
        Some(i) => {
            let rest = &u[i + 3..];
            let host_end = rest.find('/').unwrap_or(rest.len());
            format!(
                "{}://{}{}",
                u[..i].to_ascii_lowercase(),
                rest[..host_end].to_ascii_lowercase(),
                &rest[host_end..]
            )
        }
        None => u.to_string(),
    }
}

/// The folder of an exact configuration: `<root>/exact-<tag>`.
pub fn exact_dir(root: &Path, cfg: &ExactConfig) -> PathBuf {
    root.join(format!("exact-{}", cfg.tag()))
}

/// Stage 1 of exact dedup.
pub struct ExactSignatures {
    cfg: ExactConfig,
    layout: Layout,
    collector: Mutex<TaskCollector>,
}

impl ExactSignatures {
    /// A stage writing under `exact_dir(root, cfg)`.
    pub fn new(cfg: ExactConfig, root: &Path) -> Result<Self, DedupError> {
        cfg.validate()?;
        let layout = Layout::new(exact_dir(root, &cfg));
        Ok(ExactSignatures {
            collector: Mutex::new(TaskCollector::with_budget(
                crate::spill::DEFAULT_SIGNATURE_BUDGET,
                layout.dir(),
            )),
            layout,
            cfg,
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

    /// Adds one document.
    pub fn add(&self, doc: &Document) {
        let key = self.cfg.key_of(doc).map(|k| k.to_vec()).unwrap_or_default();
        self.collector
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(doc, key, None);
    }

    /// Writes the task's files.
    pub fn write(&mut self, task: usize) -> Result<Vec<SideOutput>, DedupError> {
        let cfg_json = serde_json::to_vec_pretty(&self.cfg).expect("config serialises");
        crate::format::write_atomic(&self.layout.dir().join("config.json"), &cfg_json)?;
        let parts = Buckets::Partitions {
            parts: self.cfg.partitions,
        };
        let c = self.collector.get_mut().unwrap_or_else(|p| p.into_inner());
        Ok(
            c.finish(&self.layout, task, parts, self.cfg.fingerprint(), None)?
                .1,
        )
    }
}

impl Step for ExactSignatures {
    fn name(&self) -> &str {
        "exact_dedup_signatures"
    }
    fn process(&self, doc: &mut Document) -> Verdict {
        self.add(doc);
        Verdict::Keep
    }
    fn finish(&mut self, ctx: &TaskContext) -> Result<Vec<SideOutput>, StepError> {
        self.write(ctx.task)
            .map_err(|e| e.into_step("exact_dedup_signatures"))
    }
}

/// Stage 2 for one hash partition, also matching the partition's keys of `index` (indexes of earlier
/// crawls, see [`crate::index`]; empty for none).
pub fn exact_pairs(
    root: &Path,
    cfg: &ExactConfig,
    partition: usize,
    limits: &MergeLimits,
    index: &[PathBuf],
) -> Result<MergeStats, DedupError> {
    cfg.validate()?;
    let folder = exact_dir(Path::new(""), cfg).display().to_string();
    find_pairs_with_index(
        &Layout::new(exact_dir(root, cfg)),
        partition,
        cfg.fingerprint(),
        PairMode::First,
        limits,
        &crate::index::index_files(index, &folder, partition)?,
    )
}

/// Stage 3.
pub fn exact_cluster(root: &Path, cfg: &ExactConfig) -> Result<ClusterStats, DedupError> {
    cfg.validate()?;
    cluster(
        &Layout::new(exact_dir(root, cfg)),
        ClusterParams {
            fingerprint: cfg.fingerprint(),
            buckets: cfg.partitions,
            keep: KeepRule::First,
            verify: VerifyMode::None,
            threshold: 1.0,
        },
    )
}

/// Stage 4: the filter step.
pub fn exact_filter(root: &Path, cfg: &ExactConfig) -> Result<DedupFilter, DedupError> {
    cfg.validate()?;
    Ok(DedupFilter::new(
        "exact_dedup_filter",
        cfg.reason(),
        Layout::new(exact_dir(root, cfg)),
    ))
}

pub(crate) fn signatures_factory(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let (dir, cfg, budget): (PathBuf, ExactConfig, usize) =
        split_table("exact_dedup_signatures", table)?;
    Ok(Box::new(
        ExactSignatures::new(cfg, &dir)
            .map_err(|e| e.into_step("exact_dedup_signatures"))?
            .with_memory_budget(budget),
    ))
}

pub(crate) fn filter_factory(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let (dir, cfg, _): (PathBuf, ExactConfig, usize) = split_table("exact_dedup_filter", table)?;
    Ok(Box::new(
        exact_filter(&dir, &cfg).map_err(|e| e.into_step("exact_dedup_filter"))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalise() {
        let c = ExactConfig::default();
        let a = Document::new("a", "Hello,  World!");
        let b = Document::new("b", "hello world");
        assert_eq!(c.key_of(&a), c.key_of(&b));
        assert_eq!(c.key_of(&Document::new("c", " ?! ")), None);
        let raw = ExactConfig {
            normalize: false,
            ..Default::default()
        };
        assert_ne!(raw.key_of(&a), raw.key_of(&b));
        let u = ExactConfig {
            key: ExactKey::Url,
            ..Default::default()
        };
        let mut x = Document::new("x", "");
        x.url = Some("HTTPS://Example.COM/Path#top".into());
        let mut y = Document::new("y", "");
        y.url = Some("https://example.com/Path".into());
        assert_eq!(u.key_of(&x), u.key_of(&y));
        assert_eq!(u.key_of(&Document::new("z", "t")), None);
        assert_eq!(u.tag(), "url-norm-p16");
    }
}
