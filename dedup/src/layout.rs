//! Where each stage reads and writes inside a dedup folder (one folder per configuration tag).
//!
//! ```text
//! <dir>/ids/task-00000.jsonl        document ids of task 0 in document order (one JSON string a line)
//! <dir>/ids/task-00000.stats.json   counts of stage 1 for task 0
//! <dir>/buckets/003/task-00000.bin  stage 1: sorted keys of band (or hash partition) 3 for task 0
//! <dir>/sigs/task-00000.bin         stage 1, verify=estimated: full signatures by document order
//! <dir>/shingles/task-00000.bin     stage 1, verify=exact: shingle hash sets by document order
//! <dir>/pairs/003.bin               stage 2: candidate pairs found in bucket 3
//! <dir>/clusters/task-00000.jsonl   stage 3: cluster membership of task 0's clustered documents
//! <dir>/clusters.jsonl              stage 3: one line per cluster
//! <dir>/removed.txt                 stage 3: ids of all removed documents, one a line
//! ```

use std::path::{Path, PathBuf};

use crate::error::DedupError;

/// Paths inside one dedup folder.
#[derive(Debug, Clone)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// The layout rooted at `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Layout { dir: dir.into() }
    }
    /// The root folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    /// Ids of a task.
    pub fn ids(&self, task: usize) -> PathBuf {
        self.dir.join(format!("ids/task-{task:05}.jsonl"))
    }
    /// Stage-1 counts of a task.
    pub fn stats(&self, task: usize) -> PathBuf {
        self.dir.join(format!("ids/task-{task:05}.stats.json"))
    }
    /// Folder of one bucket's per-task files.
    pub fn bucket_dir(&self, bucket: usize) -> PathBuf {
        self.dir.join(format!("buckets/{bucket:03}"))
    }
    /// Sorted keys of one bucket for one task.
    pub fn bucket(&self, bucket: usize, task: usize) -> PathBuf {
        self.bucket_dir(bucket).join(format!("task-{task:05}.bin"))
    }
    /// Full signatures of a task.
    pub fn sigs(&self, task: usize) -> PathBuf {
        self.dir.join(format!("sigs/task-{task:05}.bin"))
    }
    /// Shingle sets of a task.
    pub fn shingles(&self, task: usize) -> PathBuf {
        self.dir.join(format!("shingles/task-{task:05}.bin"))
    }
    /// Candidate pairs of a bucket.
    pub fn pairs(&self, bucket: usize) -> PathBuf {
        self.dir.join(format!("pairs/{bucket:03}.bin"))
    }
    /// Cluster membership of a task's documents.
    pub fn task_clusters(&self, task: usize) -> PathBuf {
        self.dir.join(format!("clusters/task-{task:05}.jsonl"))
    }
    /// All clusters.
    pub fn clusters(&self) -> PathBuf {
        self.dir.join("clusters.jsonl")
    }
    /// All removed ids.
    pub fn removed(&self) -> PathBuf {
        self.dir.join("removed.txt")
    }

    /// The task indices that have an ids file, sorted.
    pub fn tasks(&self) -> Result<Vec<usize>, DedupError> {
        let d = self.dir.join("ids");
        let mut out = Vec::new();
        let rd = std::fs::read_dir(&d).map_err(|e| DedupError::io(&d, e))?;
        for e in rd {
            let e = e.map_err(|e| DedupError::io(&d, e))?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_prefix("task-")
                .and_then(|s| s.strip_suffix(".jsonl"))
            {
                if let Ok(t) = n.parse() {
                    out.push(t);
                }
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Reads a task's ids (document order).
    pub fn read_ids(&self, task: usize) -> Result<Vec<String>, DedupError> {
        let p = self.ids(task);
        let s = std::fs::read_to_string(&p).map_err(|e| DedupError::io(&p, e))?;
        s.lines()
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| DedupError::Format {
                    path: p.clone(),
                    message: format!("line {}: {e}", i + 1),
                })
            })
            .collect()
    }
}
