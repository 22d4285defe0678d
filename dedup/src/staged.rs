//! [`Staged`]: the stages of a [`DedupPlan`] as separate entry points, one task of one stage per call,
//! so that a scheduler (Slurm array jobs, or any other) can run each stage as independent tasks on
//! different machines sharing the dedup folder.
//!
//! The order is the one [`run_local`](crate::run_local) follows: exact signatures → exact buckets →
//! exact clustering → MinHash signatures (of the documents exact dedup kept) → MinHash buckets (one per
//! band) → MinHash clustering → [`Staged::finish`] (`removed.txt`, `clusters.jsonl` over both methods).
//! Stage 4 (the filter) is the ordinary `exact_dedup_filter` / `minhash_filter` steps in a pipeline.
//!
//! Every call leaves a completion marker in `<root>/_markers/` after its outputs are in place, and a
//! call whose marker exists returns at once: a retried or repeated task is safe and does no work.
//! Markers are per configuration tag (the method folder's name), so runs under other settings never
//! count as done.

use std::path::{Path, PathBuf};

use quarry_corpus::Document;
use serde::{Deserialize, Serialize};

use crate::cluster::ClusterStats;
use crate::error::DedupError;
use crate::exact::{exact_cluster, exact_dir, exact_filter, exact_pairs, ExactSignatures};
use crate::filter::DedupFilter;
use crate::format::write_atomic;
use crate::local::{append_method_outputs, DedupPlan, LocalReport};
use crate::minhash::{minhash_cluster, minhash_dir, minhash_pairs, MinhashSignatures};

/// A dedup method (each has its own folder, buckets and clustering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Exact dedup on normalised text (or URL).
    Exact,
    /// MinHash-LSH near-duplicate dedup.
    Minhash,
}

impl Method {
    /// `exact` or `minhash`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::Minhash => "minhash",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = DedupError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "exact" => Ok(Method::Exact),
            "minhash" => Ok(Method::Minhash),
            other => Err(DedupError::Config(format!(
                "unknown dedup method {other:?} (exact or minhash)"
            ))),
        }
    }
}

/// What a signature-stage marker records: the task count it was part of, so later stages can tell a
/// missing task from a finished run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct SigMarker {
    task: usize,
    tasks: usize,
    docs: u64,
}

/// The stages of a plan over one dedup root folder.
#[derive(Debug, Clone)]
pub struct Staged {
    plan: DedupPlan,
    root: PathBuf,
    force: bool,
}

impl Staged {
    /// Stages of `plan` working in `root` (the folder `run_local` would be given).
    pub fn new(plan: DedupPlan, root: impl Into<PathBuf>) -> Result<Self, DedupError> {
        if let Some(c) = &plan.exact {
            c.validate()?;
        }
        if let Some(c) = &plan.minhash {
            c.validate()?;
        }
        plan.check_index()?;
        if plan.exact.is_none() && plan.minhash.is_none() {
            return Err(DedupError::Config(
                "neither exact nor MinHash dedup is on".into(),
            ));
        }
        Ok(Staged {
            plan,
            root: root.into(),
            force: false,
        })
    }

    /// Redo tasks even when their marker says they are finished (a task's outputs are overwritten;
    /// later stages must then be redone too).
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// The methods the plan runs, in order.
    pub fn methods(&self) -> Vec<Method> {
        let mut v = Vec::new();
        if self.plan.exact.is_some() {
            v.push(Method::Exact);
        }
        if self.plan.minhash.is_some() {
            v.push(Method::Minhash);
        }
        v
    }

    fn dir(&self, m: Method) -> Result<PathBuf, DedupError> {
        match m {
            Method::Exact => self.plan.exact.as_ref().map(|c| exact_dir(&self.root, c)),
            Method::Minhash => self
                .plan
                .minhash
                .as_ref()
                .map(|c| minhash_dir(&self.root, c)),
        }
        .ok_or_else(|| DedupError::Config(format!("{} dedup is not on in this plan", m.as_str())))
    }

    /// Stage-2 parallelism of a method: hash partitions (exact) or bands (MinHash).
    pub fn buckets(&self, m: Method) -> Result<usize, DedupError> {
        self.dir(m)?;
        Ok(match m {
            Method::Exact => self.plan.exact.as_ref().map(|c| c.partitions),
            Method::Minhash => self.plan.minhash.as_ref().map(|c| c.bands),
        }
        .unwrap_or(0))
    }

    fn marker(&self, m: Method, name: &str) -> Result<PathBuf, DedupError> {
        let dir = self.dir(m)?;
        let tag = dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        Ok(self.root.join("_markers").join(tag).join(name))
    }

    fn sig_marker(&self, m: Method, task: usize) -> Result<PathBuf, DedupError> {
        self.marker(m, &format!("signatures-{task:05}.done"))
    }

    /// Whether stage 1 of `m` is finished for `task`.
    pub fn signatures_done(&self, m: Method, task: usize) -> Result<bool, DedupError> {
        Ok(self.sig_marker(m, task)?.exists())
    }

    /// Whether stage 2 of `m` is finished for `bucket`.
    pub fn bucket_done(&self, m: Method, bucket: usize) -> Result<bool, DedupError> {
        Ok(self
            .marker(m, &format!("bucket-{bucket:03}.done"))?
            .exists())
    }

    /// Whether stage 3 of `m` is finished.
    pub fn cluster_done(&self, m: Method) -> Result<bool, DedupError> {
        Ok(self.marker(m, "cluster.done")?.exists())
    }

    /// The filters of the methods before `m` (MinHash sees only what exact dedup kept).
    fn prior_filters(&self, m: Method, task: usize) -> Result<Vec<DedupFilter>, DedupError> {
        let mut v = Vec::new();
        if m == Method::Minhash {
            if let Some(c) = &self.plan.exact {
                if !self.cluster_done(Method::Exact)? {
                    return Err(DedupError::Input(
                        "MinHash signatures need exact dedup's clustering first (run the exact stages)"
                            .into(),
                    ));
                }
                let mut f = exact_filter(&self.root, c)?;
                f.load_task(task)?;
                v.push(f);
            }
        }
        Ok(v)
    }

    /// Stage 1 of `m` for input task `task` of `tasks`: signatures of `docs` (the task's documents in
    /// order, as every pass must read them). Returns false when the task was already finished.
    pub fn signatures(
        &self,
        m: Method,
        task: usize,
        tasks: usize,
        docs: impl Iterator<Item = Document>,
    ) -> Result<bool, DedupError> {
        let marker = self.sig_marker(m, task)?;
        if marker.exists() && !self.force {
            return Ok(false);
        }
        let filters = self.prior_filters(m, task)?;
        let mut n = 0u64;
        match m {
            Method::Exact => {
                let cfg = self.plan.exact.clone().expect("checked by dir()");
                let mut st = ExactSignatures::new(cfg, &self.root)?
                    .with_memory_budget(self.plan.limits.signature_budget);
                for d in docs {
                    st.add(&d);
                    n += 1;
                }
                st.write(task)?;
            }
            Method::Minhash => {
                let cfg = self.plan.minhash.clone().expect("checked by dir()");
                let mut st = MinhashSignatures::new(cfg, &self.root)?
                    .with_memory_budget(self.plan.limits.signature_budget);
                for mut d in docs {
                    n += 1;
                    if filters
                        .iter()
                        .all(|f| quarry_corpus::Step::process(f, &mut d).is_keep())
                    {
                        st.add(&d);
                    }
                }
                st.write(task)?;
            }
        }
        let rec = SigMarker {
            task,
            tasks,
            docs: n,
        };
        write_atomic(
            &marker,
            &serde_json::to_vec(&rec).expect("marker serialises"),
        )?;
        Ok(true)
    }

    /// Checks that stage 1 of `m` is finished for every task, and returns the task count.
    fn check_signatures(&self, m: Method) -> Result<usize, DedupError> {
        let first = self.sig_marker(m, 0)?;
        let read = |p: &Path| -> Result<SigMarker, DedupError> {
            let b = std::fs::read(p).map_err(|e| {
                DedupError::Input(format!(
                    "{}: stage 1 ({} signatures) is not finished for this task: {e}",
                    p.display(),
                    m.as_str()
                ))
            })?;
            serde_json::from_slice(&b).map_err(|e| DedupError::Format {
                path: p.to_path_buf(),
                message: e.to_string(),
            })
        };
        let tasks = read(&first)?.tasks;
        for t in 0..tasks {
            let r = read(&self.sig_marker(m, t)?)?;
            if r.tasks != tasks {
                return Err(DedupError::Input(format!(
                    "signature task {t} was part of a run of {} tasks, task 0 of {tasks}: \
                     the inputs changed between tasks",
                    r.tasks
                )));
            }
        }
        Ok(tasks)
    }

    /// Stage 2 of `m` for one bucket (hash partition or band). Returns false when already finished.
    pub fn bucket(&self, m: Method, bucket: usize) -> Result<bool, DedupError> {
        let marker = self.marker(m, &format!("bucket-{bucket:03}.done"))?;
        if marker.exists() && !self.force {
            return Ok(false);
        }
        self.check_signatures(m)?;
        let stats = match m {
            Method::Exact => exact_pairs(
                &self.root,
                self.plan.exact.as_ref().expect("checked"),
                bucket,
                &self.plan.limits,
                &self.plan.index,
            )?,
            Method::Minhash => minhash_pairs(
                &self.root,
                self.plan.minhash.as_ref().expect("checked"),
                bucket,
                &self.plan.limits,
                &self.plan.index,
            )?,
        };
        write_atomic(&marker, format!("{stats:?}\n").as_bytes())?;
        Ok(true)
    }

    /// Stage 3 of `m`: clustering over all buckets' pairs. Returns `None` when already finished.
    pub fn cluster(&self, m: Method) -> Result<Option<ClusterStats>, DedupError> {
        let marker = self.marker(m, "cluster.done")?;
        if marker.exists() && !self.force {
            return Ok(None);
        }
        for b in 0..self.buckets(m)? {
            if !self.bucket_done(m, b)? {
                return Err(DedupError::Input(format!(
                    "stage 2 ({} buckets) is not finished for bucket {b}",
                    m.as_str()
                )));
            }
        }
        let stats = match m {
            Method::Exact => exact_cluster(&self.root, self.plan.exact.as_ref().expect("checked"))?,
            Method::Minhash => {
                minhash_cluster(&self.root, self.plan.minhash.as_ref().expect("checked"))?
            }
        };
        write_atomic(
            &marker,
            &serde_json::to_vec(&stats).expect("stats serialise"),
        )?;
        Ok(Some(stats))
    }

    /// After the last clustering: `removed.txt` and `clusters.jsonl` over all methods in `root`, the
    /// same bytes [`run_local`](crate::run_local) writes.
    pub fn finish(&self) -> Result<(), DedupError> {
        let mut removed = String::new();
        let mut clusters = String::new();
        for m in self.methods() {
            if !self.cluster_done(m)? {
                return Err(DedupError::Input(format!(
                    "stage 3 ({} clustering) is not finished",
                    m.as_str()
                )));
            }
            append_method_outputs(&self.dir(m)?, m.as_str(), &mut removed, &mut clusters)?;
        }
        write_atomic(&self.root.join("removed.txt"), removed.as_bytes())?;
        write_atomic(&self.root.join("clusters.jsonl"), clusters.as_bytes())?;
        Ok(())
    }

    /// Clustering counts of a finished method (from its marker).
    pub fn cluster_stats(&self, m: Method) -> Result<Option<ClusterStats>, DedupError> {
        let p = self.marker(m, "cluster.done")?;
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| DedupError::Format {
                    path: p,
                    message: e.to_string(),
                }),
            Err(_) => Ok(None),
        }
    }

    /// The run's counts from the markers (stage timings are not known to a staged run).
    pub fn report(&self) -> Result<LocalReport, DedupError> {
        let mut rep = LocalReport::default();
        if let Some(first) = self.methods().first().copied() {
            let tasks = self.check_signatures(first)?;
            for t in 0..tasks {
                let p = self.sig_marker(first, t)?;
                let b = std::fs::read(&p).map_err(|e| DedupError::io(&p, e))?;
                let m: SigMarker = serde_json::from_slice(&b).map_err(|e| DedupError::Format {
                    path: p.clone(),
                    message: e.to_string(),
                })?;
                rep.docs += m.docs;
            }
        }
        rep.exact = if self.plan.exact.is_some() {
            self.cluster_stats(Method::Exact)?
        } else {
            None
        };
        rep.minhash = if self.plan.minhash.is_some() {
            self.cluster_stats(Method::Minhash)?
        } else {
            None
        };
        rep.exact_removed = rep.exact.as_ref().map(|c| c.removed).unwrap_or(0);
        rep.minhash_removed = rep.minhash.as_ref().map(|c| c.removed).unwrap_or(0);
        rep.kept = rep
            .docs
            .saturating_sub(rep.exact_removed + rep.minhash_removed);
        for m in self.methods() {
            rep.intermediate_bytes += crate::local::dir_bytes(&self.dir(m)?);
        }
        Ok(rep)
    }

    /// Removes every marker and intermediate file of this plan (for a forced rerun from scratch).
    pub fn reset(&self) -> Result<(), DedupError> {
        for m in self.methods() {
            let d = self.dir(m)?;
            let _ = std::fs::remove_dir_all(&d);
            if let Some(p) = self.marker(m, "x")?.parent() {
                let _ = std::fs::remove_dir_all(p);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_text::text;
    use crate::{run_local, ExactConfig, MinhashConfig};

    fn corpus() -> Vec<Vec<Document>> {
        let mut t0 = vec![Document::new("a", text(1)), Document::new("b", text(2))];
        let mut t1 = vec![
            Document::new("c", format!("{} extra", text(1))),
            Document::new("d", text(2).to_uppercase()),
            Document::new("e", "short text"),
        ];
        let mut t2 = vec![Document::new("f", text(3)), Document::new("g", text(1))];
        for (i, d) in t0
            .iter_mut()
            .chain(t1.iter_mut())
            .chain(t2.iter_mut())
            .enumerate()
        {
            d.source.offset = i as u64;
        }
        vec![t0, t1, t2]
    }

    fn plan() -> DedupPlan {
        DedupPlan {
            exact: Some(ExactConfig::default()),
            minhash: Some(MinhashConfig::default()),
            ..Default::default()
        }
    }

    fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let p = e.path();
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                if e.file_type().unwrap().is_dir() {
                    stack.push(p);
                } else if !rel.starts_with("_markers") && rel != "report.json" {
                    out.push((rel, std::fs::read(&p).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    /// Stage by stage, in a scrambled task order and with every call repeated, gives the same files
    /// as `run_local`.
    #[test]
    fn staged_equals_run_local_and_repeats_are_no_ops() {
        let docs = corpus();
        let local = tempfile::tempdir().unwrap();
        let rep = run_local(
            &plan(),
            3,
            |t| Ok(docs[t].clone().into_iter()),
            local.path(),
        )
        .unwrap();
        assert!(
            rep.exact_removed >= 1 && rep.minhash_removed >= 1,
            "{rep:?}"
        );

        let dir = tempfile::tempdir().unwrap();
        let s = Staged::new(plan(), dir.path()).unwrap();
        assert_eq!(s.methods(), vec![Method::Exact, Method::Minhash]);
        for m in s.methods() {
            // stage 2 before stage 1 is a clear error
            let e = s.bucket(m, 0).unwrap_err().to_string();
            assert!(e.contains("not finished"), "{e}");
            for t in [2, 0, 1] {
                assert!(s.signatures(m, t, 3, docs[t].clone().into_iter()).unwrap());
                assert!(!s.signatures(m, t, 3, docs[t].clone().into_iter()).unwrap());
            }
            assert!(s.cluster(m).is_err(), "clustering before the buckets");
            for b in (0..s.buckets(m).unwrap()).rev() {
                assert!(s.bucket(m, b).unwrap());
                assert!(!s.bucket(m, b).unwrap());
            }
            assert!(s.cluster(m).unwrap().is_some());
            assert!(s.cluster(m).unwrap().is_none());
        }
        s.finish().unwrap();
        let r = s.report().unwrap();
        assert_eq!(
            (r.docs, r.exact_removed, r.minhash_removed, r.kept),
            (rep.docs, rep.exact_removed, rep.minhash_removed, rep.kept)
        );
        assert_eq!(
            s.cluster_stats(Method::Minhash).unwrap().unwrap().removed,
            rep.minhash_removed
        );
        assert_eq!(read_all(dir.path()), read_all(local.path()));
        // forced, a finished task is redone (same bytes)
        let forced = Staged::new(plan(), dir.path()).unwrap().force(true);
        assert!(forced
            .signatures(Method::Exact, 0, 3, docs[0].clone().into_iter())
            .unwrap());
        assert!(forced.cluster(Method::Exact).unwrap().is_some());
        assert_eq!(read_all(dir.path()), read_all(local.path()));
    }

    #[test]
    fn minhash_signatures_wait_for_exact_clustering() {
        let docs = corpus();
        let dir = tempfile::tempdir().unwrap();
        let s = Staged::new(plan(), dir.path()).unwrap();
        let e = s
            .signatures(Method::Minhash, 0, 3, docs[0].clone().into_iter())
            .unwrap_err()
            .to_string();
        assert!(e.contains("exact dedup's clustering"), "{e}");
        let only_minhash = DedupPlan {
            minhash: Some(MinhashConfig::default()),
            ..Default::default()
        };
        let s = Staged::new(only_minhash, dir.path()).unwrap();
        assert!(s.buckets(Method::Exact).is_err());
        assert_eq!(s.buckets(Method::Minhash).unwrap(), 14);
        assert!(Staged::new(DedupPlan::default(), dir.path()).is_err());
    }
}
