//! Scoring a method's output against the benchmark's ground truth (see the parent module's doc).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{band_of, truth_hasher, Bench, Truth, BANDS};
use crate::error::DedupError;
use crate::normalize::Shingler;
use crate::signature::jaccard_sorted;

/// A method's output, read back.
#[derive(Debug, Clone, Default)]
pub struct MethodOutput {
    /// Removed ids.
    pub removed: HashSet<String>,
    /// Cluster of each clustered id.
    pub cluster_of: HashMap<String, u64>,
    /// Kept id of each cluster.
    pub kept_of: HashMap<u64, String>,
}

impl MethodOutput {
    /// Reads `removed.txt` and `clusters.jsonl` (lines with `kept` and `removed`) from a folder;
    /// clusters are renumbered in file order.
    pub fn read(dir: &Path) -> Result<Self, DedupError> {
        let mut m = MethodOutput::default();
        let p = dir.join("removed.txt");
        let s = std::fs::read_to_string(&p).map_err(|e| DedupError::io(&p, e))?;
        m.removed = s
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        let p = dir.join("clusters.jsonl");
        let s = std::fs::read_to_string(&p).map_err(|e| DedupError::io(&p, e))?;
        for (cid, line) in s.lines().enumerate() {
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| DedupError::Format {
                    path: p.clone(),
                    message: format!("line {}: {e}", cid + 1),
                })?;
            let kept = v["kept"].as_str().unwrap_or_default().to_string();
            m.cluster_of.insert(kept.clone(), cid as u64);
            for r in v["removed"].as_array().into_iter().flatten() {
                if let Some(r) = r.as_str() {
                    m.cluster_of.insert(r.to_string(), cid as u64);
                }
            }
            m.kept_of.insert(cid as u64, kept);
        }
        Ok(m)
    }
}

/// Scores of one method.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scores {
    /// Per band: planted copies.
    pub planted: Vec<u64>,
    /// Per band: copies in their source's cluster.
    pub found: Vec<u64>,
    /// Per band (by Jaccard of removed to kept): removals.
    pub removed: Vec<u64>,
    /// Per band: removals whose kept document is a relative.
    pub removed_correct: Vec<u64>,
    /// Precision over all removals.
    pub precision: f64,
    /// Recall over all planted copies.
    pub recall: f64,
    /// Recall over copies with true Jaccard ≥ 0.5.
    pub recall_05: f64,
    /// Recall over copies with true Jaccard ≥ 0.7.
    pub recall_07: f64,
}

/// Scores a method's output against the benchmark.
pub fn evaluate(bench: &Bench, out: &MethodOutput) -> Scores {
    let nb = BANDS.len();
    let mut s = Scores {
        planted: vec![0; nb],
        found: vec![0; nb],
        removed: vec![0; nb],
        removed_correct: vec![0; nb],
        ..Default::default()
    };
    let truth: HashMap<&str, &Truth> = bench.truth.iter().map(|t| (t.id.as_str(), t)).collect();
    let text: HashMap<&str, &str> = bench
        .docs
        .iter()
        .map(|d| (d.id.as_str(), d.text.as_str()))
        .collect();
    let (mut f05, mut p05, mut f07, mut p07) = (0u64, 0u64, 0u64, 0u64);
    for t in &bench.truth {
        let (Some(src), Some(j)) = (&t.source, t.jaccard) else {
            continue;
        };
        let b = band_of(j);
        s.planted[b] += 1;
        let same = matches!((out.cluster_of.get(&t.id), out.cluster_of.get(src)), (Some(a), Some(c)) if a == c);
        if same {
            s.found[b] += 1;
        }
        if j >= 0.5 {
            p05 += 1;
            f05 += same as u64;
        }
        if j >= 0.7 {
            p07 += 1;
            f07 += same as u64;
        }
    }
    let h = truth_hasher();
    let mut sh = Shingler::default();
    for r in &out.removed {
        let Some(cid) = out.cluster_of.get(r) else {
            continue;
        };
        let kept = &out.kept_of[cid];
        let fr = truth.get(r.as_str()).and_then(|t| t.family);
        let fk = truth.get(kept.as_str()).and_then(|t| t.family);
        let j = match (text.get(r.as_str()), text.get(kept.as_str())) {
            (Some(a), Some(b)) => {
                jaccard_sorted(&h.shingle_hashes(a, &mut sh), &h.shingle_hashes(b, &mut sh))
            }
            _ => 0.0,
        };
        let b = band_of(j);
        s.removed[b] += 1;
        if fr.is_some() && fr == fk {
            s.removed_correct[b] += 1;
        }
    }
    let unclustered_removals = out
        .removed
        .iter()
        .filter(|r| !out.cluster_of.contains_key(*r))
        .count() as u64;
    let tot_removed: u64 = s.removed.iter().sum::<u64>() + unclustered_removals;
    let tot_correct: u64 = s.removed_correct.iter().sum();
    s.precision = if tot_removed == 0 {
        1.0
    } else {
        tot_correct as f64 / tot_removed as f64
    };
    let planted: u64 = s.planted.iter().sum();
    s.recall = if planted == 0 {
        0.0
    } else {
        s.found.iter().sum::<u64>() as f64 / planted as f64
    };
    s.recall_05 = if p05 == 0 {
        0.0
    } else {
        f05 as f64 / p05 as f64
    };
    s.recall_07 = if p07 == 0 {
        0.0
    } else {
        f07 as f64 / p07 as f64
    };
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::benchmark::BenchDoc;

    #[test]
    fn scoring_counts_false_merges() {
        let bench = Bench {
            docs: ["a", "b", "c"]
                .iter()
                .map(|i| BenchDoc {
                    id: i.to_string(),
                    text: format!("{i} one two three four five six"),
                })
                .collect(),
            truth: vec![
                Truth {
                    id: "a".into(),
                    family: Some(0),
                    source: None,
                    kind: None,
                    jaccard: None,
                },
                Truth {
                    id: "b".into(),
                    family: Some(0),
                    source: Some("a".into()),
                    kind: None,
                    jaccard: Some(0.95),
                },
                Truth {
                    id: "c".into(),
                    family: None,
                    source: None,
                    kind: None,
                    jaccard: None,
                },
            ],
        };
        let mut out = MethodOutput::default();
        for id in ["a", "b", "c"] {
            out.cluster_of.insert(id.into(), 0);
        }
        out.kept_of.insert(0, "a".into());
        out.removed = ["b".to_string(), "c".to_string()].into_iter().collect();
        let s = evaluate(&bench, &out);
        assert_eq!(s.recall, 1.0);
        assert_eq!(s.precision, 0.5);
    }
}
