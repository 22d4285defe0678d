//! Stage 3: union-find over the candidate pairs of all buckets; choose the kept document of each
//! cluster; write the removed set and the cluster files.
//!
//! Memory is proportional to the number of documents that appear in at least one pair (as in datatrove),
//! not to the corpus. Pairs are streamed bucket by bucket in bucket order, which makes the datatrove keep
//! rule reproducible.
//!
//! Keep rules ([`KeepRule`]): `first` keeps the smallest (task, document order) of each cluster, which
//! does not depend on the order pairs arrive in; `datatrove` replays datatrove's union-by-size (the root
//! of the larger set wins; on equal sizes the first document of the pair), so that with datatrove's hash
//! settings the removed set is the same document for document.
//!
//! With verification on, a candidate pair joins two clusters only if the two documents' estimated
//! (signature agreement) or exact (shingle-set) Jaccard similarity reaches the threshold.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::config::{KeepRule, VerifyMode};
use crate::error::DedupError;
use crate::format::{read_pairs, write_atomic, Kind, RandomAccess, INDEX_NODE};
use crate::layout::Layout;
use crate::signature::{estimated_jaccard, jaccard_sorted};

/// Settings of the clustering stage.
#[derive(Debug, Clone, Copy)]
pub struct ClusterParams {
    /// Settings fingerprint of the input files.
    pub fingerprint: u64,
    /// Number of buckets (pairs files `pairs/000.bin` ..).
    pub buckets: usize,
    /// Which document of a cluster is kept.
    pub keep: KeepRule,
    /// Pair verification.
    pub verify: VerifyMode,
    /// Threshold of the verification.
    pub threshold: f64,
}

/// What clustering found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterStats {
    /// Candidate pairs read.
    pub pairs: u64,
    /// Pairs whose documents were already in one cluster.
    pub pairs_redundant: u64,
    /// Pairs checked by verification.
    pub pairs_verified: u64,
    /// Pairs rejected by verification.
    pub pairs_rejected: u64,
    /// Documents in a cluster of size ≥ 2.
    pub clustered_docs: u64,
    /// Clusters of size ≥ 2.
    pub clusters: u64,
    /// Documents removed (clustered docs minus clusters, plus every member of a cluster that
    /// reaches an index of earlier crawls).
    pub removed: u64,
    /// Of the removed, those in a cluster that reaches an index of earlier crawls.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub index_removed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One line of `clusters/task-*.jsonl`: a clustered document of that task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// Document id.
    pub id: String,
    /// Cluster id (0-based, in order of the kept documents' (task, order)).
    pub cluster_id: u64,
    /// Documents in the cluster.
    pub cluster_size: u64,
    /// Whether this document is the one kept.
    pub keep: bool,
    /// Removed because its cluster reaches a document of an earlier crawl's index (none is kept).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub index: bool,
}

struct UnionFind {
    index: HashMap<u64, u32>,
    keys: Vec<u64>,
    parent: Vec<u32>,
    size: Vec<u32>,
    /// Per root: the set reaches an indexed document of an earlier crawl.
    indexed: Vec<bool>,
}

impl UnionFind {
    fn node(&mut self, key: u64) -> u32 {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let i = self.keys.len() as u32;
        self.index.insert(key, i);
        self.keys.push(key);
        self.parent.push(i);
        self.size.push(1);
        self.indexed.push(false);
        i
    }
    fn find(&mut self, mut x: u32) -> u32 {
        let mut root = x;
        while self.parent[root as usize] != root {
            root = self.parent[root as usize];
        }
        while self.parent[x as usize] != root {
            let next = self.parent[x as usize];
            self.parent[x as usize] = root;
            x = next;
        }
        root
    }
}

fn node_key(task: u32, ord: u32) -> u64 {
    ((task as u64) << 32) | ord as u64
}

struct Verifier<'a> {
    layout: &'a Layout,
    params: ClusterParams,
    open: HashMap<u32, RandomAccess>,
    a: Vec<u64>,
    b: Vec<u64>,
}

impl Verifier<'_> {
    fn load(&mut self, task: u32, ord: u32, into_a: bool) -> Result<(), DedupError> {
        if !self.open.contains_key(&task) {
            let (p, kind) = match self.params.verify {
                VerifyMode::Estimated => (self.layout.sigs(task as usize), Kind::Signatures),
                _ => (self.layout.shingles(task as usize), Kind::Shingles),
            };
            self.open
                .insert(task, RandomAccess::open(&p, kind, self.params.fingerprint)?);
        }
        let ra = &self.open[&task];
        ra.get(ord, if into_a { &mut self.a } else { &mut self.b })
    }

    fn similar(&mut self, x: u64, y: u64) -> Result<bool, DedupError> {
        self.load((x >> 32) as u32, x as u32, true)?;
        self.load((y >> 32) as u32, y as u32, false)?;
        let s = match self.params.verify {
            VerifyMode::Estimated => estimated_jaccard(&self.a, &self.b),
            _ => jaccard_sorted(&self.a, &self.b),
        };
        Ok(s >= self.params.threshold)
    }
}

/// Stage 3: clusters all pairs and writes `clusters/`, `clusters.jsonl` and `removed.txt`.
pub fn cluster(layout: &Layout, params: ClusterParams) -> Result<ClusterStats, DedupError> {
    let mut uf = UnionFind {
        index: HashMap::new(),
        keys: Vec::new(),
        parent: Vec::new(),
        size: Vec::new(),
        indexed: Vec::new(),
    };
    let mut stats = ClusterStats::default();
    let mut verifier = Verifier {
        layout,
        params,
        open: HashMap::new(),
        a: Vec::new(),
        b: Vec::new(),
    };
    let mut err = None;
    for b in 0..params.buckets {
        let p = layout.pairs(b);
        read_pairs(&p, params.fingerprint, |[t1, d1, t2, d2]| {
            if err.is_some() {
                return;
            }
            stats.pairs += 1;
            if t1 == INDEX_NODE && d1 == INDEX_NODE {
                // b collided with an index of earlier crawls: its whole cluster goes
                let nb = uf.node(node_key(t2, d2));
                let rb = uf.find(nb);
                uf.indexed[rb as usize] = true;
                return;
            }
            let (ka, kb) = (node_key(t1, d1), node_key(t2, d2));
            let (na, nb) = (uf.node(ka), uf.node(kb));
            let (mut ra, mut rb) = (uf.find(na), uf.find(nb));
            if ra == rb {
                stats.pairs_redundant += 1;
                return;
            }
            if params.verify != VerifyMode::None {
                stats.pairs_verified += 1;
                match verifier.similar(ka, kb) {
                    Ok(true) => {}
                    Ok(false) => {
                        stats.pairs_rejected += 1;
                        return;
                    }
                    Err(e) => {
                        err = Some(e);
                        return;
                    }
                }
            }
            let (sa, sb) = (uf.size[ra as usize], uf.size[rb as usize]);
            match params.keep {
                KeepRule::First => {
                    if uf.keys[rb as usize] < uf.keys[ra as usize] {
                        std::mem::swap(&mut ra, &mut rb);
                    }
                }
                KeepRule::Datatrove => {
                    if sa < sb {
                        std::mem::swap(&mut ra, &mut rb);
                    }
                }
            }
            uf.parent[rb as usize] = ra;
            uf.size[ra as usize] = sa + sb;
            uf.indexed[ra as usize] |= uf.indexed[rb as usize];
        })?;
        if let Some(e) = err.take() {
            return Err(e);
        }
    }

    // Resolve clusters; number them by their kept document's (task, order).
    let n = uf.keys.len();
    let roots: Vec<u32> = (0..n as u32).map(|i| uf.find(i)).collect();
    let mut root_keys: Vec<(u64, u32)> = roots
        .iter()
        .enumerate()
        .filter(|(i, r)| **r as usize == *i)
        .map(|(i, _)| (uf.keys[i], i as u32))
        .collect();
    root_keys.sort_unstable();
    let mut cluster_of_root: HashMap<u32, u64> = HashMap::with_capacity(root_keys.len());
    for (cid, (_, r)) in root_keys.iter().enumerate() {
        cluster_of_root.insert(*r, cid as u64);
    }
    stats.clusters = root_keys.len() as u64;
    stats.clustered_docs = n as u64;
    let kept_roots = root_keys
        .iter()
        .filter(|(_, r)| !uf.indexed[*r as usize])
        .count();
    stats.removed = (n - kept_roots) as u64;
    stats.index_removed = roots.iter().filter(|r| uf.indexed[**r as usize]).count() as u64;

    // Per task: members in document order.
    let mut by_task: HashMap<u32, Vec<(u32, u32)>> = HashMap::new(); // task -> (ord, node)
    for i in 0..n {
        let k = uf.keys[i];
        by_task
            .entry((k >> 32) as u32)
            .or_default()
            .push((k as u32, i as u32));
    }
    let mut names: Vec<Option<String>> = vec![None; n];
    let mut removed_txt = String::new();
    for task in layout.tasks()? {
        let mut members = by_task.remove(&(task as u32)).unwrap_or_default();
        members.sort_unstable();
        let mut out = String::new();
        if !members.is_empty() {
            let ids = layout.read_ids(task)?;
            for (ord, node) in members {
                let id = ids.get(ord as usize).ok_or_else(|| DedupError::Format {
                    path: layout.ids(task),
                    message: format!(
                        "pairs name document {ord} but the task has {} ids",
                        ids.len()
                    ),
                })?;
                let root = roots[node as usize];
                let index = uf.indexed[root as usize];
                let keep = root == node && !index;
                let m = Membership {
                    id: id.clone(),
                    cluster_id: cluster_of_root[&root],
                    cluster_size: uf.size[root as usize] as u64,
                    keep,
                    index,
                };
                out.push_str(&serde_json::to_string(&m).expect("serialises"));
                out.push('\n');
                if !keep {
                    removed_txt.push_str(id);
                    removed_txt.push('\n');
                }
                names[node as usize] = Some(id.clone());
            }
        }
        write_atomic(&layout.task_clusters(task), out.as_bytes())?;
    }
    if let Some((&t, _)) = by_task.iter().next() {
        return Err(DedupError::Input(format!(
            "pairs name task {t}, which has no ids file in {}",
            layout.dir().display()
        )));
    }

    // clusters.jsonl: one line per cluster, kept document first, members in (task, order) order.
    let mut members_of: Vec<Vec<u32>> = vec![Vec::new(); root_keys.len()];
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by_key(|&i| uf.keys[i as usize]);
    for i in order {
        members_of[cluster_of_root[&roots[i as usize]] as usize].push(i);
    }
    let mut cl = String::new();
    for (cid, (_, root)) in root_keys.iter().enumerate() {
        let name = |i: u32| names[i as usize].clone().unwrap_or_default();
        let line = if uf.indexed[*root as usize] {
            // duplicates of an earlier crawl's document: none of them is kept
            let removed: Vec<String> = members_of[cid].iter().map(|&i| name(i)).collect();
            serde_json::json!({
                "cluster_id": cid,
                "size": members_of[cid].len(),
                "kept": null,
                "kept_task": null,
                "removed": removed,
                "index": true,
            })
        } else {
            let removed: Vec<String> = members_of[cid]
                .iter()
                .filter(|&&i| i != *root)
                .map(|&i| name(i))
                .collect();
            serde_json::json!({
                "cluster_id": cid,
                "size": members_of[cid].len(),
                "kept": name(*root),
                "kept_task": uf.keys[*root as usize] >> 32,
                "removed": removed,
            })
        };
        cl.push_str(&line.to_string());
        cl.push('\n');
    }
    write_atomic(&layout.clusters(), cl.as_bytes())?;
    write_atomic(&layout.removed(), removed_txt.as_bytes())?;
    Ok(stats)
}
