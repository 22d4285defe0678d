//! The statistics of a release bundle (`stats.json`): the streaming scan of the published shards,
//! the per-stage funnel from the manifests, dedup clusters, and token counts, cross-checked against
//! each other so that the card never prints a number the manifests contradict.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::bundle::{Bundle, PipelineRun};
use crate::error::{CardError, Result};
use crate::scan::{is_score_key, scan_shard, KeyStats, TextStats};
use crate::sketch::{HeavyHitter, Histogram};
use crate::tokens::{token_stats, TokenStats};

/// Format name of `stats.json`.
pub const STATS_FORMAT: &str = "quarry-stats/1";
/// Domains listed in `stats.json`.
pub const TOP_DOMAINS: usize = 100;

/// A value with its document count (and characters, where known).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueCount {
    /// The value (`(none)` when the key or column is absent).
    pub value: String,
    /// Documents.
    pub documents: u64,
    /// Characters of those documents, where counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chars: Option<u64>,
}

/// Domain statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainStats {
    /// Documents with a URL.
    pub documents: u64,
    /// Documents without one.
    pub no_url: u64,
    /// Whether every count below is exact (fewer distinct domains than the table holds).
    pub exact: bool,
    /// Distinct domains held by the table (all of them when `exact`).
    pub distinct_held: usize,
    /// The most frequent domains.
    pub top: Vec<HeavyHitter>,
}

/// One step of the funnel: documents in, kept, dropped by reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelStep {
    /// The run (recipe name).
    pub run: String,
    /// `read` (the input reader), a stage type, or `tokenize`.
    pub step: String,
    /// Records or documents in.
    #[serde(rename = "in")]
    pub input: u64,
    /// Kept.
    pub kept: u64,
    /// Dropped (or skipped), by reason.
    pub dropped: BTreeMap<String, u64>,
}

/// Clusters of one dedup method (`clusters.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterStats {
    /// `exact` or `minhash`.
    pub method: String,
    /// Clusters (of size ≥ 2).
    pub clusters: u64,
    /// Documents in those clusters.
    pub documents: u64,
    /// Documents removed (one per cluster is kept).
    pub removed: u64,
    /// Largest cluster.
    pub largest: u64,
    /// Cluster sizes.
    pub sizes: Histogram,
}

/// Dedup results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DedupStats {
    /// Documents dedup read.
    pub documents: u64,
    /// Documents it kept.
    pub kept: u64,
    /// Per method.
    pub methods: Vec<ClusterStats>,
}

/// Everything in `stats.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// [`STATS_FORMAT`].
    pub format: String,
    /// Published text shards.
    pub shards: usize,
    /// Their total size in bytes.
    pub shard_bytes: u64,
    /// Documents.
    pub documents: u64,
    /// Unicode characters.
    pub chars: u64,
    /// UTF-8 bytes of text.
    pub text_bytes: u64,
    /// Whitespace-separated words.
    pub words: u64,
    /// Characters per document.
    pub chars_per_doc: Histogram,
    /// Words per document.
    pub words_per_doc: Histogram,
    /// By `language` metadata, with characters.
    pub languages: Vec<ValueCount>,
    /// By `crawl` column.
    pub crawls: Vec<ValueCount>,
    /// By `source` metadata (JSONL inputs), when present.
    pub sources: Vec<ValueCount>,
    /// By `license` metadata (SPDX id).
    pub licenses: Vec<ValueCount>,
    /// By `license_class` metadata.
    pub license_classes: Vec<ValueCount>,
    /// By `opt_out` metadata (`true`, `false`, `(none)`).
    pub opt_out: Vec<ValueCount>,
    /// By `content_type`.
    pub content_types: Vec<ValueCount>,
    /// By `charset`.
    pub charsets: Vec<ValueCount>,
    /// By month of the crawl date.
    pub months: Vec<ValueCount>,
    /// Earliest and latest crawl date.
    pub date_range: Option<(String, String)>,
    /// Domains.
    pub domains: DomainStats,
    /// Score-like metadata (`*score`): histograms over [0, 1].
    pub quality_scores: BTreeMap<String, Histogram>,
    /// Every metadata key.
    pub metadata: BTreeMap<String, KeyStats>,
    /// Documents whose metadata was not a JSON object.
    pub bad_metadata: u64,
    /// Per-stage funnel over every run, then tokenization.
    pub funnel: Vec<FunnelStep>,
    /// Dedup clusters, when a dedup run is in the lineage.
    pub dedup: Option<DedupStats>,
    /// Tokens, when token shards are given.
    pub tokens: Option<TokenStats>,
}

fn counts(c: &crate::sketch::CappedCounts) -> Vec<ValueCount> {
    let mut v: Vec<ValueCount> = c
        .top(usize::MAX)
        .into_iter()
        .map(|(value, documents)| ValueCount {
            value,
            documents,
            chars: None,
        })
        .collect();
    if c.other > 0 {
        v.push(ValueCount {
            value: format!("(other: values beyond the first {})", c.cap),
            documents: c.other,
            chars: None,
        });
    }
    v
}

/// Values of a string metadata key, with `(none)` for documents without it.
fn key_counts(t: &TextStats, key: &str) -> Vec<ValueCount> {
    let Some(ks) = t.metadata.get(key) else {
        return if key == "language" || key == "license" || key == "license_class" {
            vec![ValueCount {
                value: "(none)".into(),
                documents: t.documents,
                chars: None,
            }]
        } else {
            Vec::new()
        };
    };
    let mut v = ks.strings.as_ref().map(counts).unwrap_or_default();
    if let Some([f, tr]) = ks.bools {
        for (value, documents) in [("true", tr), ("false", f)] {
            if documents > 0 {
                v.push(ValueCount {
                    value: value.into(),
                    documents,
                    chars: None,
                });
            }
        }
        v.sort_by(|a, b| {
            b.documents
                .cmp(&a.documents)
                .then_with(|| a.value.cmp(&b.value))
        });
    }
    let absent = t.documents - ks.present;
    if absent > 0 {
        v.push(ValueCount {
            value: "(none)".into(),
            documents: absent,
            chars: None,
        });
    }
    v
}

/// Label of a run: its recipe's `name`, else its folder name.
pub fn run_label(r: &PipelineRun) -> String {
    quarry_corpus::recipe::Recipe::parse(&r.manifest.recipe.text)
        .ok()
        .and_then(|x| x.name)
        .unwrap_or_else(|| {
            r.dir
                .file_name()
                .map_or("run".into(), |n| n.to_string_lossy().into_owned())
        })
}

/// The funnel of every run in lineage order, then tokenization.
pub fn funnel(b: &Bundle) -> Vec<FunnelStep> {
    let mut steps = Vec::new();
    for r in &b.runs {
        let m = &r.manifest;
        let label = run_label(r);
        let mut dropped = m.reader.skipped.clone();
        if m.reader.errors > 0 {
            dropped.insert("read_error".into(), m.reader.errors);
        }
        steps.push(FunnelStep {
            run: label.clone(),
            step: "read".into(),
            input: m.reader.records,
            kept: m.reader.documents,
            dropped,
        });
        for s in &m.stages {
            steps.push(FunnelStep {
                run: label.clone(),
                step: s.name.clone(),
                input: s.input,
                kept: s.kept,
                dropped: s.dropped.clone(),
            });
        }
    }
    if let Some(t) = &b.tokens {
        let s = &t.manifest.stats;
        let mut dropped = BTreeMap::new();
        if s.skipped_empty > 0 {
            dropped.insert("empty_text".into(), s.skipped_empty);
        }
        steps.push(FunnelStep {
            run: "tokenize".into(),
            step: "tokenize".into(),
            input: s.documents_in,
            kept: s.documents,
            dropped,
        });
    }
    steps
}

/// Reads `clusters.jsonl` line by line (memory: one line).
pub fn dedup_stats(r: &PipelineRun) -> Result<Option<DedupStats>> {
    let Some(cl) = r.extra.iter().find(|f| f.name() == "clusters.jsonl") else {
        return Ok(None);
    };
    let path = cl.local.clone().expect("extra files are local");
    let f = std::fs::File::open(&path).map_err(|e| CardError::io(&path, e))?;
    let mut methods: BTreeMap<String, ClusterStats> = BTreeMap::new();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| CardError::io(&path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| CardError::format(&path, format!("line {}: {e}", n + 1)))?;
        let size = v["size"]
            .as_u64()
            .ok_or_else(|| CardError::format(&path, format!("line {}: no `size`", n + 1)))?;
        let method = v["method"].as_str().unwrap_or("minhash").to_string();
        let c = methods
            .entry(method.clone())
            .or_insert_with(|| ClusterStats {
                method,
                clusters: 0,
                documents: 0,
                removed: 0,
                largest: 0,
                sizes: Histogram::log2(),
            });
        c.clusters += 1;
        c.documents += size;
        c.removed += size.saturating_sub(1);
        c.largest = c.largest.max(size);
        c.sizes.add_u64(size);
    }
    let m = &r.manifest;
    let removed: u64 = methods.values().map(|c| c.removed).sum();
    let kept = m.outputs.iter().map(|o| o.rows).sum::<u64>();
    if m.reader.documents != kept + removed {
        return Err(CardError::Mismatch {
            path,
            message: format!(
                "clusters remove {removed} documents, but the run read {} and kept {kept}",
                m.reader.documents
            ),
        });
    }
    Ok(Some(DedupStats {
        documents: m.reader.documents,
        kept,
        methods: methods.into_values().collect(),
    }))
}

/// Scans the published shards (a few in parallel, merged in shard order) and assembles the
/// statistics, checking them against the manifests.
pub fn compute(b: &Bundle) -> Result<Stats> {
    let corpus = b.corpus();
    let mpath = corpus.manifest_file.local.clone().unwrap_or_default();
    let mut text = TextStats::default();
    let shards: Vec<&Path> = corpus
        .outputs
        .iter()
        .map(|o| {
            o.local.as_deref().ok_or_else(|| CardError::Mismatch {
                path: mpath.clone(),
                message: format!("text shard {} is not on disk", o.recorded),
            })
        })
        .collect::<Result<_>>()?;
    let width = rayon::current_num_threads().max(1);
    for chunk in shards.chunks(width) {
        let parts: Vec<TextStats> = chunk
            .par_iter()
            .map(|p| scan_shard(p))
            .collect::<Result<_>>()?;
        for (p, part) in chunk.iter().zip(&parts) {
            let want = corpus
                .outputs
                .iter()
                .find(|o| o.local.as_deref() == Some(*p))
                .and_then(|o| o.rows);
            if want.is_some_and(|w| w != part.documents) {
                return Err(CardError::Mismatch {
                    path: p.to_path_buf(),
                    message: format!(
                        "{} rows, the manifest says {}",
                        part.documents,
                        want.unwrap_or(0)
                    ),
                });
            }
            text.merge(part);
        }
    }
    let mut stats = assemble(&text, b)?;
    stats.shards = shards.len();
    stats.shard_bytes = corpus.outputs.iter().map(|o| o.bytes).sum();
    check_metadata_counts(&stats, corpus, &mpath)?;
    Ok(stats)
}

fn assemble(t: &TextStats, b: &Bundle) -> Result<Stats> {
    let mut languages = key_counts(t, "language");
    for l in &mut languages {
        l.chars = t.chars_by_language.values.get(&l.value).copied();
    }
    let dedup = b
        .runs
        .iter()
        .rev()
        .find_map(|r| dedup_stats(r).transpose())
        .transpose()?;
    let tokens = b.tokens.as_ref().map(token_stats).transpose()?;
    let quality_scores = t
        .metadata
        .iter()
        .filter(|(k, _)| is_score_key(k))
        .filter_map(|(k, v)| Some((k.clone(), v.numbers.clone()?)))
        .collect();
    Ok(Stats {
        format: STATS_FORMAT.into(),
        shards: 0,
        shard_bytes: 0,
        documents: t.documents,
        chars: t.chars,
        text_bytes: t.bytes,
        words: t.words,
        chars_per_doc: t.chars_hist.clone(),
        words_per_doc: t.words_hist.clone(),
        languages,
        crawls: counts(&t.crawl),
        sources: key_counts(t, "source"),
        licenses: key_counts(t, "license"),
        license_classes: key_counts(t, "license_class"),
        opt_out: key_counts(t, "opt_out"),
        content_types: counts(&t.content_type),
        charsets: counts(&t.charset),
        months: counts(&t.months),
        date_range: t.date_min.clone().zip(t.date_max.clone()),
        domains: DomainStats {
            documents: t.documents - t.no_url,
            no_url: t.no_url,
            exact: t.domains.exact(),
            distinct_held: t.domains.len(),
            top: t.top_domains(TOP_DOMAINS),
        },
        quality_scores,
        metadata: t.metadata.clone(),
        bad_metadata: t.bad_metadata,
        funnel: funnel(b),
        dedup,
        tokens,
    })
}

/// The manifest's `metadata_counts` (counted by the runtime as it wrote) must equal the scan's.
fn check_metadata_counts(s: &Stats, corpus: &PipelineRun, mpath: &Path) -> Result<()> {
    let rows: u64 = corpus.manifest.outputs.iter().map(|o| o.rows).sum();
    if rows != s.documents {
        return Err(CardError::Mismatch {
            path: mpath.to_path_buf(),
            message: format!(
                "the shards hold {} documents, the manifest {rows}",
                s.documents
            ),
        });
    }
    let by_key = |k: &str| -> Option<&Vec<ValueCount>> {
        match k {
            "language" => Some(&s.languages),
            "license" => Some(&s.licenses),
            "license_class" => Some(&s.license_classes),
            "opt_out" => Some(&s.opt_out),
            _ => None,
        }
    };
    for (key, values) in &corpus.manifest.metadata_counts {
        let Some(scanned) = by_key(key) else { continue };
        let scanned: BTreeMap<&str, u64> = scanned
            .iter()
            .map(|v| (v.value.as_str(), v.documents))
            .collect();
        let recorded: BTreeMap<&str, u64> = values.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        if scanned != recorded {
            return Err(CardError::Mismatch {
                path: mpath.to_path_buf(),
                message: format!(
                    "metadata_counts.{key} is {recorded:?} but the shards hold {scanned:?}"
                ),
            });
        }
    }
    Ok(())
}
