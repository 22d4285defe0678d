//! Lineage manifests: what a task read, what it wrote, with which recipe, and what happened to every
//! record on the way.
//!
//! One manifest per task (`<out>/_manifests/task-<i:05>.json`) and one merged per run
//! (`<out>/manifest.json`). The counts obey, exactly:
//! `records = documents + skipped + errors` for the reader, and for each stage in order
//! `in = kept + sum(dropped)`, with the first stage's `in` equal to the reader's `documents` and each
//! later stage's `in` equal to the previous stage's `kept`; the last `kept` equals the rows written.
//! [`TaskManifest::check`] verifies this, and the runtime refuses to mark a task finished otherwise.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::write::ShardInfo;

/// Manifest format name and version.
pub const MANIFEST_FORMAT: &str = "quarry-manifest/1";

/// Who built the outputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildInfo {
    /// quarry's version.
    pub version: String,
    /// The git commit quarry was built from (`unknown` outside a git checkout).
    pub git_commit: String,
}

/// The recipe as run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecipeRecord {
    /// The recipe's TOML text.
    pub text: String,
    /// sha256 of that text.
    pub sha256: String,
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// Path or URL.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// sha256 of its bytes.
    pub sha256: String,
}

/// What the readers saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReaderCounts {
    /// Records (documents + skipped + errors).
    pub records: u64,
    /// Records that became documents.
    pub documents: u64,
    /// Records skipped, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Unreadable records or stretches.
    pub errors: u64,
    /// The first errors, `file: offset N: message`, for the person reading the manifest.
    pub error_samples: Vec<String>,
}

/// What one stage did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageCounts {
    /// The stage type.
    pub name: String,
    /// Documents in.
    #[serde(rename = "in")]
    pub input: u64,
    /// Documents kept.
    pub kept: u64,
    /// Documents dropped, by reason.
    pub dropped: BTreeMap<String, u64>,
}

impl StageCounts {
    /// A stage with no documents yet.
    pub fn new(name: &str) -> Self {
        StageCounts {
            name: name.to_string(),
            ..Default::default()
        }
    }
    /// Total dropped.
    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }
}

/// A side output of a stage (e.g. signatures), or any non-shard output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// Path.
    pub path: String,
    /// Records in it.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// sha256.
    pub sha256: String,
}

impl From<ShardInfo> for OutputRecord {
    fn from(s: ShardInfo) -> Self {
        OutputRecord {
            path: s.path,
            rows: s.rows,
            bytes: s.bytes,
            sha256: s.sha256,
        }
    }
}

/// The manifest of one task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskManifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// Who built it.
    pub build: BuildInfo,
    /// The recipe.
    pub recipe: RecipeRecord,
    /// This task's index.
    pub task: usize,
    /// Number of tasks in the run.
    pub tasks: usize,
    /// Inputs, in the order read.
    pub inputs: Vec<InputRecord>,
    /// Reader counts.
    pub reader: ReaderCounts,
    /// Stage counts, in pipeline order.
    pub stages: Vec<StageCounts>,
    /// Text shards written.
    pub outputs: Vec<OutputRecord>,
    /// Side outputs of stages.
    pub side_outputs: Vec<OutputRecord>,
    /// For each metadata key named in `[output] count_metadata`: written documents by value
    /// (`(none)` when absent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata_counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// Peak resident memory of the process, bytes.
    pub peak_rss_bytes: u64,
}

/// A violated count invariant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("manifest counts do not add up: {0}")]
pub struct CountMismatch(pub String);

impl TaskManifest {
    /// Checks that every record is accounted for (see the module docs).
    pub fn check(&self) -> Result<(), CountMismatch> {
        let r = &self.reader;
        let skipped: u64 = r.skipped.values().sum();
        if r.records != r.documents + skipped + r.errors {
            return Err(CountMismatch(format!(
                "reader: records {} != documents {} + skipped {} + errors {}",
                r.records, r.documents, skipped, r.errors
            )));
        }
        let mut expected_in = r.documents;
        for s in &self.stages {
            if s.input != expected_in {
                return Err(CountMismatch(format!(
                    "stage {}: in {} but {} arrived",
                    s.name, s.input, expected_in
                )));
            }
            if s.input != s.kept + s.dropped_total() {
                return Err(CountMismatch(format!(
                    "stage {}: in {} != kept {} + dropped {}",
                    s.name,
                    s.input,
                    s.kept,
                    s.dropped_total()
                )));
            }
            expected_in = s.kept;
        }
        let rows: u64 = self.outputs.iter().map(|o| o.rows).sum();
        if rows != expected_in {
            return Err(CountMismatch(format!(
                "{expected_in} documents left the last stage but {rows} rows were written"
            )));
        }
        Ok(())
    }
}

/// The merged manifest of a run: sums over tasks, all inputs and outputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// [`MANIFEST_FORMAT`].
    pub format: String,
    /// Who built it.
    pub build: BuildInfo,
    /// The recipe.
    pub recipe: RecipeRecord,
    /// Number of tasks.
    pub tasks: usize,
    /// All inputs, by task then order.
    pub inputs: Vec<InputRecord>,
    /// Summed reader counts (error samples: the first few over all tasks).
    pub reader: ReaderCounts,
    /// Summed stage counts.
    pub stages: Vec<StageCounts>,
    /// All text shards.
    pub outputs: Vec<OutputRecord>,
    /// All side outputs.
    pub side_outputs: Vec<OutputRecord>,
    /// Summed metadata value counts.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata_counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// Sum of the tasks' wall-clock seconds.
    pub task_seconds: f64,
    /// Largest peak RSS of any task.
    pub peak_rss_bytes: u64,
    /// Per-task manifests' paths relative to the output folder.
    pub task_manifests: Vec<String>,
}

impl RunManifest {
    /// Merges task manifests (given in task order).
    pub fn merge(tasks: &[TaskManifest], task_paths: Vec<String>) -> RunManifest {
        let mut m = RunManifest {
            format: MANIFEST_FORMAT.to_string(),
            tasks: tasks.len(),
            task_manifests: task_paths,
            ..Default::default()
        };
        if let Some(t) = tasks.first() {
            m.build = t.build.clone();
            m.recipe = t.recipe.clone();
            m.stages = t.stages.iter().map(|s| StageCounts::new(&s.name)).collect();
        }
        for t in tasks {
            m.inputs.extend(t.inputs.iter().cloned());
            m.outputs.extend(t.outputs.iter().cloned());
            m.side_outputs.extend(t.side_outputs.iter().cloned());
            m.reader.records += t.reader.records;
            m.reader.documents += t.reader.documents;
            m.reader.errors += t.reader.errors;
            for (k, v) in &t.reader.skipped {
                *m.reader.skipped.entry(k.clone()).or_default() += v;
            }
            for e in &t.reader.error_samples {
                if m.reader.error_samples.len() < 100 {
                    m.reader.error_samples.push(e.clone());
                }
            }
            for (acc, s) in m.stages.iter_mut().zip(&t.stages) {
                acc.input += s.input;
                acc.kept += s.kept;
                for (k, v) in &s.dropped {
                    *acc.dropped.entry(k.clone()).or_default() += v;
                }
            }
            for (k, vals) in &t.metadata_counts {
                let acc = m.metadata_counts.entry(k.clone()).or_default();
                for (v, n) in vals {
                    *acc.entry(v.clone()).or_default() += n;
                }
            }
            m.task_seconds += t.wall_seconds;
            m.peak_rss_bytes = m.peak_rss_bytes.max(t.peak_rss_bytes);
        }
        m
    }

    /// The same count check as [`TaskManifest::check`], over the sums.
    pub fn check(&self) -> Result<(), CountMismatch> {
        TaskManifest {
            reader: self.reader.clone(),
            stages: self.stages.clone(),
            outputs: self.outputs.clone(),
            ..Default::default()
        }
        .check()
    }
}

/// Keys that hold measurements of one run (time, memory) rather than what the run did. They make two
/// otherwise identical runs' manifests differ, so [`content_sha256`] leaves them out.
pub const MEASUREMENT_KEYS: &[&str] =
    &["wall_seconds", "task_seconds", "peak_rss_bytes", "seconds"];

/// The sha256 of a JSON run record (a manifest, a dedup report) without its run measurements: every
/// object key in [`MEASUREMENT_KEYS`] is removed at any depth, then the value is serialised compactly
/// with object keys sorted. Two runs that read and wrote the same bytes with the same recipe get the
/// same content digest however long they took, so a dataset card can name its manifests and still be
/// reproducible byte for byte; the file's own sha256 stays in `lineage.json`.
/// `None` when `bytes` is not JSON.
pub fn content_sha256(bytes: &[u8]) -> Option<String> {
    use sha2::{Digest, Sha256};
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut out = String::new();
    canonical(&v, &mut out);
    Some(hex::encode(Sha256::digest(out.as_bytes())))
}

fn canonical(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m
                .keys()
                .filter(|k| !MEASUREMENT_KEYS.contains(&k.as_str()))
                .collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Peak resident set size of this process in bytes (Linux `VmHWM`; 0 where unavailable).
pub fn peak_rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TaskManifest {
        let mut m = TaskManifest::default();
        m.reader.records = 10;
        m.reader.documents = 7;
        m.reader.skipped.insert("request".into(), 2);
        m.reader.errors = 1;
        let mut s = StageCounts::new("extract");
        s.input = 7;
        s.kept = 5;
        s.dropped.insert("empty_text".into(), 2);
        m.stages.push(s);
        m.outputs.push(OutputRecord {
            path: "a".into(),
            rows: 5,
            bytes: 1,
            sha256: "x".into(),
        });
        m
    }

    #[test]
    fn counts_check_catches_every_gap() {
        let m = sample();
        m.check().unwrap();
        let mut bad = m.clone();
        bad.reader.records = 11;
        assert!(bad.check().is_err());
        let mut bad = m.clone();
        bad.stages[0].kept = 4;
        assert!(bad.check().is_err());
        let mut bad = m.clone();
        bad.outputs[0].rows = 4;
        assert!(bad.check().is_err());
        let merged = RunManifest::merge(&[m.clone(), m], vec![]);
        assert_eq!(merged.stages[0].input, 14);
        merged.check().unwrap();
    }

    #[test]
    fn content_digest_ignores_measurements_and_key_order_only() {
        let mut a = sample();
        a.wall_seconds = 1.5;
        a.peak_rss_bytes = 100;
        let mut b = a.clone();
        b.wall_seconds = 9.25;
        b.peak_rss_bytes = 7;
        let (ja, jb) = (
            serde_json::to_vec_pretty(&a).unwrap(),
            serde_json::to_vec(&b).unwrap(),
        );
        assert_ne!(ja, jb);
        let d = content_sha256(&ja).unwrap();
        assert_eq!(d, content_sha256(&jb).unwrap());
        // nested run measurements (a dedup report's per-stage seconds) are measurements too
        let r1 = br#"{"stages":[{"name":"a","seconds":0.1,"bytes":5}],"docs":3}"#;
        let r2 = br#"{"docs":3,"stages":[{"bytes":5,"name":"a","seconds":0.7}]}"#;
        assert_eq!(content_sha256(r1), content_sha256(r2));
        // anything the run did is content
        let mut c = a.clone();
        c.stages[0].kept = 4;
        assert_ne!(d, content_sha256(&serde_json::to_vec(&c).unwrap()).unwrap());
        let r3 = br#"{"docs":4,"stages":[{"bytes":5,"name":"a","seconds":0.7}]}"#;
        assert_ne!(content_sha256(r1), content_sha256(r3));
        assert_eq!(content_sha256(b"not json"), None);
    }
}
