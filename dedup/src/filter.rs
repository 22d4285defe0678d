//! Stage 4: a [`Step`] that drops the documents stage 3 removed and annotates the kept ones.
//!
//! It loads `clusters/task-<task>.jsonl` of its task (so it must run with the same task split as stage
//! 1, like datatrove's filter) and matches documents by id. Removed documents are dropped with the given
//! reason (`minhash_duplicate`, `exact_duplicate`); kept members of a cluster get `dedup_cluster_id` and
//! `dedup_cluster_size`; documents in no cluster get `dedup_cluster_size = 1` and no cluster id.
//! Documents whose cluster reaches an index of earlier crawls are dropped with [`index_reason`].

use std::borrow::Cow;
use std::collections::HashMap;

use quarry_corpus::{Document, Step, StepError, TaskContext, Verdict};

use crate::cluster::Membership;
use crate::error::DedupError;
use crate::layout::Layout;

/// Drops removed documents of one dedup folder.
pub struct DedupFilter {
    name: &'static str,
    reason: &'static str,
    layout: Layout,
    members: HashMap<String, Membership>,
    loaded: bool,
}

impl DedupFilter {
    /// A filter over the stage-3 output in `layout`, dropping with `reason`; `name` is the step type.
    pub fn new(name: &'static str, reason: &'static str, layout: Layout) -> Self {
        DedupFilter {
            name,
            reason,
            layout,
            members: HashMap::new(),
            loaded: false,
        }
    }

    /// Loads the cluster file of `task`.
    pub fn load_task(&mut self, task: usize) -> Result<(), DedupError> {
        let p = self.layout.task_clusters(task);
        let s = std::fs::read_to_string(&p).map_err(|e| {
            DedupError::io(
                &p,
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "{e} (has the clustering stage run for task {task} with these settings?)"
                    ),
                ),
            )
        })?;
        self.members.clear();
        for (i, line) in s.lines().enumerate() {
            let m: Membership = serde_json::from_str(line).map_err(|e| DedupError::Format {
                path: p.clone(),
                message: format!("line {}: {e}", i + 1),
            })?;
            self.members.insert(m.id.clone(), m);
        }
        self.loaded = true;
        Ok(())
    }

    /// Documents of the loaded task that will be dropped.
    pub fn removed_count(&self) -> usize {
        self.members.values().filter(|m| !m.keep).count()
    }
}

/// The drop reason of a document removed as a duplicate of an earlier crawl's indexed document:
/// `minhash_duplicate_of_index`, `exact_duplicate_of_index`, `url_duplicate_of_index`.
pub fn index_reason(reason: &str) -> &'static str {
    match reason {
        "minhash_duplicate" => "minhash_duplicate_of_index",
        "exact_duplicate" => "exact_duplicate_of_index",
        "url_duplicate" => "url_duplicate_of_index",
        _ => "duplicate_of_index",
    }
}

impl Step for DedupFilter {
    fn name(&self) -> &str {
        self.name
    }

    fn begin(&mut self, ctx: &TaskContext) -> Result<(), StepError> {
        self.load_task(ctx.task).map_err(|e| e.into_step(self.name))
    }

    fn process(&self, doc: &mut Document) -> Verdict {
        debug_assert!(
            self.loaded,
            "begin() loads the task's clusters before process()"
        );
        match self.members.get(&doc.id) {
            Some(m) if m.index => Verdict::Drop(Cow::Borrowed(index_reason(self.reason))),
            Some(m) if !m.keep => Verdict::Drop(Cow::Borrowed(self.reason)),
            Some(m) => {
                doc.set_meta("dedup_cluster_id", m.cluster_id);
                doc.set_meta("dedup_cluster_size", m.cluster_size);
                Verdict::Keep
            }
            None => {
                doc.set_meta("dedup_cluster_size", 1u64);
                Verdict::Keep
            }
        }
    }
}
