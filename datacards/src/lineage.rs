//! The lineage graph of a release (`lineage.json`) and `quarry lineage verify`.
//!
//! The graph is bipartite: files (raw inputs, manifests, text shards, dedup outputs, the tokenizer,
//! token shards, training checkpoints) and steps (each manifest: a pipeline run, tokenization, a
//! training run) with the files they read and wrote. Paths are relative to the folder of
//! `lineage.json` (so the bundle can move), except inputs that were URLs or not on disk when the
//! card was written: those keep the recorded location and are marked not verifiable.
//!
//! [`verify`] re-hashes every verifiable file named by `lineage.json` and by `croissant.json`, and
//! every file a named manifest records with a digest, and reports each missing file and each
//! mismatch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bundle::{relative_path, Bundle, FileRef};
use crate::error::{CardError, Result};
use crate::stats::run_label;

/// Format name of `lineage.json`.
pub const LINEAGE_FORMAT: &str = "quarry-lineage/1";

/// One file of the lineage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageFile {
    /// Path relative to the card folder (or the recorded URL / path when not verifiable).
    pub path: String,
    /// `raw_input`, `manifest`, `task_manifest`, `text_shard`, `side_output`, `dedup_output`,
    /// `tokenizer`, `token_shard`, `train_manifest`, `checkpoint`, `metrics`, `card`.
    pub role: String,
    /// sha256 of the bytes.
    pub sha256: String,
    /// For run records (manifests, the dedup report): the digest of their content without run
    /// measurements ([`quarry_corpus::manifest::content_sha256`]). The card's README names run
    /// records by it, so that two runs that did the same thing get byte-identical cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_sha256: Option<String>,
    /// Size in bytes.
    pub bytes: u64,
    /// Rows or documents, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// The path as the manifest recorded it.
    pub recorded: String,
    /// Whether the file was on disk when the card was written (and so can be re-hashed).
    pub verifiable: bool,
}

impl LineageFile {
    /// Whether the file records one run (a manifest, the dedup report): it holds wall times and
    /// memory peaks, so its bytes differ between runs that did the same thing.
    pub fn is_run_record(&self) -> bool {
        is_run_record(&self.role, &self.path)
    }

    /// The digest a reproducible card names the file by: the content digest of a run record, the
    /// file's sha256 otherwise.
    pub fn card_digest(&self) -> &str {
        self.content_sha256.as_deref().unwrap_or(&self.sha256)
    }

    /// A sentence for the Croissant `description`.
    pub fn role_description(&self) -> String {
        let what = match self.role.as_str() {
            "raw_input" => "Raw input (crawl file) of the pipeline",
            "manifest" => "Lineage manifest of a run",
            "task_manifest" => "Per-task lineage manifest",
            "text_shard" => "Parquet text shard",
            "side_output" => "Side output of a stage",
            "dedup_output" => "Dedup output (removed ids, clusters, report)",
            "tokenizer" => "Tokenizer (tokenizer.json)",
            "token_shard" => "Token shard file",
            "train_manifest" => "Training run manifest",
            "checkpoint" => "Training checkpoint",
            "metrics" => "Training metrics",
            _ => "File of the release",
        };
        match self.rows {
            Some(r) => format!("{what}; {r} documents."),
            None => format!("{what}."),
        }
    }
}

/// One step: a manifest with what it read and wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageStep {
    /// `pipeline`, `tokenize` or `train`.
    pub kind: String,
    /// Recipe name or folder.
    pub name: String,
    /// Path of its manifest.
    pub manifest: String,
    /// sha256 of the recipe text (pipelines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe_sha256: Option<String>,
    /// quarry version and commit that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// Stage types, in order (pipelines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
    /// Paths read.
    pub inputs: Vec<String>,
    /// Paths written.
    pub outputs: Vec<String>,
}

/// `lineage.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    /// [`LINEAGE_FORMAT`].
    pub format: String,
    /// Every file, each once, in lineage order.
    pub files: Vec<LineageFile>,
    /// Steps, producers first.
    pub steps: Vec<LineageStep>,
    /// Files of the card itself (statistics, plots), hashed after writing.
    pub card_files: Vec<LineageFile>,
}

fn is_run_record(role: &str, path: &str) -> bool {
    role.ends_with("manifest") || (role == "dedup_output" && path.ends_with("report.json"))
}

struct Builder<'a> {
    root: &'a Path,
    files: Vec<LineageFile>,
    index: BTreeMap<String, usize>,
}

impl Builder<'_> {
    fn add(&mut self, f: &FileRef, role: &str) -> String {
        let path = match &f.local {
            Some(p) => relative_path(self.root, p),
            None => f.recorded.clone(),
        };
        if !self.index.contains_key(&path) {
            self.index.insert(path.clone(), self.files.len());
            let content_sha256 = match &f.local {
                Some(p) if is_run_record(role, &path) => std::fs::read(p)
                    .ok()
                    .and_then(|b| quarry_corpus::manifest::content_sha256(&b)),
                _ => None,
            };
            self.files.push(LineageFile {
                path: path.clone(),
                role: role.into(),
                sha256: f.sha256.clone(),
                content_sha256,
                bytes: f.bytes,
                rows: f.rows,
                recorded: f.recorded.clone(),
                verifiable: f.local.is_some(),
            });
        }
        path
    }
}

impl Lineage {
    /// The lineage of a hashed bundle, with paths relative to `root` (the card folder, absolute).
    pub fn of(b: &Bundle, root: &Path) -> Lineage {
        let mut bl = Builder {
            root,
            files: Vec::new(),
            index: BTreeMap::new(),
        };
        let mut steps = Vec::new();
        for r in &b.runs {
            let inputs = r
                .inputs
                .iter()
                .zip(&r.upstream)
                .map(|(f, up)| {
                    bl.add(
                        f,
                        if up.is_some() {
                            "text_shard"
                        } else {
                            "raw_input"
                        },
                    )
                })
                .collect();
            let manifest = bl.add(&r.manifest_file, "manifest");
            let mut outputs: Vec<String> =
                r.outputs.iter().map(|f| bl.add(f, "text_shard")).collect();
            outputs.extend(r.side_outputs.iter().map(|f| bl.add(f, "side_output")));
            outputs.extend(r.extra.iter().map(|f| {
                let role = if f.name().starts_with("task-") {
                    "task_manifest"
                } else {
                    "dedup_output"
                };
                bl.add(f, role)
            }));
            steps.push(LineageStep {
                kind: "pipeline".into(),
                name: run_label(r),
                manifest,
                recipe_sha256: Some(r.manifest.recipe.sha256.clone()),
                build: Some(format!(
                    "quarry {} ({})",
                    r.manifest.build.version, r.manifest.build.git_commit
                )),
                stages: r.manifest.stages.iter().map(|s| s.name.clone()).collect(),
                inputs,
                outputs,
            });
        }
        if let Some(t) = &b.tokens {
            let mut inputs: Vec<String> =
                t.inputs.iter().map(|f| bl.add(f, "text_shard")).collect();
            inputs.push(bl.add(&t.tokenizer, "tokenizer"));
            let manifest = bl.add(&t.manifest_file, "manifest");
            let outputs = t.outputs.iter().map(|f| bl.add(f, "token_shard")).collect();
            steps.push(LineageStep {
                kind: "tokenize".into(),
                name: "tokenize".into(),
                manifest,
                recipe_sha256: None,
                build: None,
                stages: Vec::new(),
                inputs,
                outputs,
            });
        }
        for t in &b.train {
            let mut inputs = vec![bl.add(&t.tokenizer, "tokenizer")];
            inputs.extend(t.shards.iter().map(|f| bl.add(f, "token_shard")));
            let manifest = bl.add(&t.manifest_file, "train_manifest");
            let mut outputs: Vec<String> = t
                .checkpoints
                .iter()
                .map(|(_, f)| bl.add(f, "checkpoint"))
                .collect();
            outputs.extend(t.metrics.iter().map(|f| bl.add(f, "metrics")));
            steps.push(LineageStep {
                kind: "train".into(),
                name: t
                    .dir
                    .file_name()
                    .map_or("train".into(), |n| n.to_string_lossy().into_owned()),
                manifest,
                recipe_sha256: None,
                build: None,
                stages: Vec::new(),
                inputs,
                outputs,
            });
        }
        Lineage {
            format: LINEAGE_FORMAT.into(),
            files: bl.files,
            steps,
            card_files: Vec::new(),
        }
    }

    /// The file at `path`, if the lineage names it.
    pub fn file(&self, path: &str) -> Option<&LineageFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// One problem [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (relative to the bundle folder, as named).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// What [`verify`] did.
#[derive(Debug, Clone, Default)]
pub struct VerifyReport {
    /// Files re-hashed.
    pub checked: usize,
    /// Missing or different files, in path order.
    pub problems: Vec<Problem>,
    /// Files named but not verifiable here (URLs, or absent when the card was written).
    pub unverifiable: Vec<String>,
}

impl VerifyReport {
    /// Whether every named file is present with the recorded bytes.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Re-hashes everything the bundle in `dir` names (see the module docs).
pub fn verify(dir: &Path) -> Result<VerifyReport> {
    let lpath = dir.join("lineage.json");
    let bytes = std::fs::read(&lpath).map_err(|e| CardError::io(&lpath, e))?;
    let lineage: Lineage =
        serde_json::from_slice(&bytes).map_err(|e| CardError::format(&lpath, e.to_string()))?;
    if lineage.format != LINEAGE_FORMAT {
        return Err(CardError::format(
            &lpath,
            format!("format `{}`, want `{LINEAGE_FORMAT}`", lineage.format),
        ));
    }
    // path → (expected sha256, who names it); a disagreement between namers is itself a problem.
    let mut expected: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut unverifiable = Vec::new();
    let mut expect =
        |path: &str, sha: &str, by: &str, problems: &mut Vec<Problem>| match expected.get(path) {
            Some((s, first)) if s != sha => problems.push(Problem {
                path: path.into(),
                message: format!("{first} records sha256 {s} but {by} records {sha}"),
            }),
            Some(_) => {}
            None => {
                expected.insert(path.into(), (sha.into(), by.into()));
            }
        };
    for f in lineage.files.iter().chain(&lineage.card_files) {
        if f.verifiable {
            expect(&f.path, &f.sha256, "lineage.json", &mut problems);
        } else {
            unverifiable.push(f.path.clone());
        }
    }
    let cpath = dir.join("croissant.json");
    if cpath.is_file() {
        let bytes = std::fs::read(&cpath).map_err(|e| CardError::io(&cpath, e))?;
        let c: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| CardError::format(&cpath, e.to_string()))?;
        for d in c["distribution"].as_array().into_iter().flatten() {
            if let (Some(url), Some(sha)) = (d["contentUrl"].as_str(), d["sha256"].as_str()) {
                if url.contains("://") {
                    unverifiable.push(url.into());
                } else {
                    expect(url, sha, "croissant.json", &mut problems);
                }
            }
        }
    }
    // Each manifest's own digests of the files it names, matched through the recorded path.
    let by_recorded: BTreeMap<&str, &LineageFile> = lineage
        .files
        .iter()
        .map(|f| (f.recorded.as_str(), f))
        .collect();
    for m in lineage
        .files
        .iter()
        .filter(|f| f.role.ends_with("manifest") && f.verifiable)
    {
        let Ok(text) = std::fs::read(dir.join(&m.path)) else {
            continue; // reported as missing below
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&text) else {
            problems.push(Problem {
                path: m.path.clone(),
                message: "not valid JSON".into(),
            });
            continue;
        };
        let mut named = Vec::new();
        collect_digests(&v, &mut named);
        for (rec, sha) in named {
            if let Some(f) = by_recorded.get(rec.as_str()).filter(|f| f.verifiable) {
                expect(&f.path, &sha, &m.path, &mut problems);
            }
        }
    }
    // Run records are also named by their content digest (in README.md): recompute it.
    for f in lineage.files.iter().filter(|f| f.verifiable) {
        let Some(want) = &f.content_sha256 else {
            continue;
        };
        if let Ok(b) = std::fs::read(dir.join(&f.path)) {
            match quarry_corpus::manifest::content_sha256(&b) {
                Some(got) if &got == want => {}
                got => problems.push(Problem {
                    path: f.path.clone(),
                    message: format!(
                        "content sha256 {}, but lineage.json records {want}",
                        got.as_deref().unwrap_or("(not JSON)")
                    ),
                }),
            }
        }
    }
    let results: Vec<(String, std::result::Result<String, String>)> = expected
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|p| {
            let full: PathBuf = dir.join(&p);
            let r = if full.is_file() {
                quarry_corpus::storage::sha256_file(&full)
                    .map(|(s, _)| s)
                    .map_err(|e| format!("unreadable: {e}"))
            } else {
                Err("missing".to_string())
            };
            (p, r)
        })
        .collect();
    for (p, r) in &results {
        let (want, by) = &expected[p];
        match r {
            Ok(s) if s == want => {}
            Ok(s) => problems.push(Problem {
                path: p.clone(),
                message: format!("sha256 {s}, but {by} records {want}"),
            }),
            Err(m) => problems.push(Problem {
                path: p.clone(),
                message: format!("{m} (named by {by})"),
            }),
        }
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.message.cmp(&b.message)));
    problems.dedup();
    unverifiable.sort();
    unverifiable.dedup();
    Ok(VerifyReport {
        checked: results.len(),
        problems,
        unverifiable,
    })
}

/// Every `{"path": .., "sha256": ..}` object in a manifest.
fn collect_digests(v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(o) => {
            if let (Some(p), Some(s)) = (
                o.get("path").and_then(|x| x.as_str()),
                o.get("sha256").and_then(|x| x.as_str()),
            ) {
                out.push((p.to_string(), s.to_string()));
            }
            for (k, x) in o {
                // The recipe record has a sha256 of its text, not of a file.
                if k != "recipe" {
                    collect_digests(x, out);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_digests(x, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, sha: &str) -> LineageFile {
        LineageFile {
            path: path.into(),
            role: "text_shard".into(),
            sha256: sha.into(),
            content_sha256: None,
            bytes: 1,
            rows: None,
            recorded: format!("rec/{path}"),
            verifiable: true,
        }
    }

    #[test]
    fn verify_reports_missing_and_changed_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.txt"), b"abc").unwrap();
        std::fs::write(d.path().join("b.txt"), b"xyz").unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let mut remote = file("s3://bucket/raw.warc.gz", "00");
        remote.verifiable = false;
        let l = Lineage {
            format: LINEAGE_FORMAT.into(),
            files: vec![
                file("a.txt", abc),
                file("b.txt", abc),
                file("c.txt", abc),
                remote,
            ],
            steps: vec![],
            card_files: vec![],
        };
        std::fs::write(
            d.path().join("lineage.json"),
            serde_json::to_vec(&l).unwrap(),
        )
        .unwrap();
        let r = verify(d.path()).unwrap();
        assert_eq!(r.checked, 3);
        assert_eq!(r.unverifiable, ["s3://bucket/raw.warc.gz"]);
        let paths: Vec<&str> = r.problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["b.txt", "c.txt"]);
        assert!(
            r.problems[0].message.contains("records ba7816bf"),
            "{:?}",
            r.problems
        );
        assert!(
            r.problems[1].message.starts_with("missing"),
            "{:?}",
            r.problems
        );
        // A manifest that records another digest for a file is a problem too.
        let m = serde_json::json!({"outputs": [{"path": "rec/a.txt", "sha256": "ff"}]});
        std::fs::write(d.path().join("m.json"), m.to_string()).unwrap();
        let (_, msha) = (
            0,
            quarry_corpus::storage::sha256_file(&d.path().join("m.json"))
                .unwrap()
                .0,
        );
        let mut l2 = l.clone();
        l2.files.truncate(1);
        l2.files.push(LineageFile {
            role: "manifest".into(),
            ..file("m.json", &msha)
        });
        std::fs::write(
            d.path().join("lineage.json"),
            serde_json::to_vec(&l2).unwrap(),
        )
        .unwrap();
        let r = verify(d.path()).unwrap();
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(
            r.problems[0].message.contains("m.json records ff"),
            "{:?}",
            r.problems
        );
    }
}
