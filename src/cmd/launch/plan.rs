//! The stages of a launched build: one `quarry` command line per array task, and where the data
//! they read and write lives.

use std::path::{Path, PathBuf};

use quarry_corpus::recipe::Recipe;
use serde::{Deserialize, Serialize};

use super::super::build::{TokenizeParams, TokenizerParams};
use super::super::dedup::PlanArgs;
use quarry_dedup::Staged;

/// One stage: `array` independent tasks, each running `quarry ARGS` with its slot in
/// `SLURM_ARRAY_TASK_ID` (the quarry commands read it when `--task` is absent).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stage {
    /// Stage name (file names, logs, status).
    pub name: String,
    /// Number of array tasks (1: a single job).
    pub array: usize,
    /// The quarry arguments every task runs.
    pub args: Vec<String>,
    /// quarry commands run before it in the same attempt (copying s3:// data it reads to the node).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre: Vec<Vec<String>>,
    /// quarry commands run after it succeeded (uploading what it wrote).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post: Vec<Vec<String>>,
}

/// Where a launched run's outputs and intermediates live.
#[derive(Debug, Clone)]
pub struct DataRoot {
    /// The folder (absolute) or s3://bucket/prefix.
    pub root: String,
    /// For s3:// data: the folder on each node where the whole-corpus jobs (tokenizer, tokenize,
    /// card) keep their copy, laid out like the bucket; the same path for every such job, so the
    /// manifests they write name each other's files consistently.
    pub mirror: Option<PathBuf>,
}

impl DataRoot {
    /// Data in the local (shared) folder `dir`.
    pub fn local(dir: &Path) -> DataRoot {
        DataRoot {
            root: dir.display().to_string(),
            mirror: None,
        }
    }

    /// `rel` below the data root.
    pub(super) fn at(&self, rel: &str) -> String {
        if rel.is_empty() {
            self.root.clone()
        } else if self.mirror.is_some() {
            format!("{}/{rel}", self.root.trim_end_matches('/'))
        } else {
            Path::new(&self.root).join(rel).display().to_string()
        }
    }

    /// `rel` where a whole-corpus job works on it: in the node's copy for s3:// data.
    fn work(&self, rel: &str) -> String {
        match &self.mirror {
            Some(m) if rel.is_empty() => m.display().to_string(),
            Some(m) => m.join(rel).display().to_string(),
            None => self.at(rel),
        }
    }

    /// The copy commands that bring `rels` from the bucket to the node (none for local data).
    fn pull(&self, rels: &[&str]) -> Vec<Vec<String>> {
        self.syncs(rels, true)
    }

    /// The copy commands that publish `rels` from the node to the bucket (none for local data).
    fn push(&self, rels: &[&str]) -> Vec<Vec<String>> {
        self.syncs(rels, false)
    }

    fn syncs(&self, rels: &[&str], to_node: bool) -> Vec<Vec<String>> {
        if self.mirror.is_none() {
            return Vec::new();
        }
        rels.iter()
            .map(|r| {
                let (bucket, node) = (self.at(r), self.work(r));
                let (from, to) = if to_node {
                    (bucket, node)
                } else {
                    (node, bucket)
                };
                vec![s("storage"), s("sync"), from, to]
            })
            .collect()
    }
}

pub(super) fn s(x: impl AsRef<str>) -> String {
    x.as_ref().to_string()
}

/// The stages of `quarry build` for `recipe` (already pointing its output at `DATA/corpus`), as
/// commands over the data root: extraction and filters (`quarry run`), each dedup method's
/// signatures / buckets / clustering, the dedup filter, tokenizer training, tokenization and the
/// card.
pub fn plan(
    recipe_path: &Path,
    recipe: &Recipe,
    tasks: usize,
    data: &DataRoot,
) -> anyhow::Result<Vec<Stage>> {
    anyhow::ensure!(tasks >= 1, "--tasks must be at least 1");
    let d = |p: &str| data.at(p);
    let w = |p: &str| data.work(p);
    let mut v = vec![Stage {
        name: s("extract"),
        array: tasks,
        args: vec![
            s("run"),
            recipe_path.display().to_string(),
            s("--tasks"),
            tasks.to_string(),
            s("--no-progress"),
        ],
        pre: Vec::new(),
        post: Vec::new(),
    }];
    let corpus_shards = d("corpus/shards");
    let mut text_shards = corpus_shards.clone();
    if let Some(t) = &recipe.dedup {
        let flags = PlanArgs::from_table(t)?;
        let staged = Staged::new(flags.plan()?, "")?;
        let out = d("dedup");
        let common = |stage: &str, m: Option<&str>| {
            let mut a = vec![s("dedup"), s(stage), s("--out"), out.clone()];
            if let Some(m) = m {
                a.extend([s("--method"), s(m)]);
            }
            a.extend(flags.to_flags());
            a
        };
        for m in staged.methods() {
            let name = m.as_str();
            let mut a = common("signatures", Some(name));
            a.extend([
                s("--input"),
                corpus_shards.clone(),
                s("--tasks"),
                tasks.to_string(),
            ]);
            v.push(Stage {
                name: format!("{name}-signatures"),
                array: tasks,
                args: a,
                pre: Vec::new(),
                post: Vec::new(),
            });
            let buckets = staged.buckets(m)?;
            let mut a = common("buckets", Some(name));
            a.extend([s("--tasks"), buckets.to_string()]);
            v.push(Stage {
                name: format!("{name}-buckets"),
                array: buckets,
                args: a,
                pre: Vec::new(),
                post: Vec::new(),
            });
            v.push(Stage {
                name: format!("{name}-cluster"),
                array: 1,
                args: common("cluster", Some(name)),
                pre: Vec::new(),
                post: Vec::new(),
            });
        }
        let mut a = common("filter", None);
        a.extend([
            s("--input"),
            corpus_shards.clone(),
            s("--tasks"),
            tasks.to_string(),
            s("--no-progress"),
        ]);
        v.push(Stage {
            name: s("dedup-filter"),
            array: tasks,
            args: a,
            pre: Vec::new(),
            post: Vec::new(),
        });
        text_shards = d("dedup/shards");
    }
    // the whole-corpus jobs below work on the node's copy when the data is on s3://
    let published_rel = if recipe.dedup.is_some() {
        "dedup"
    } else {
        "corpus"
    };
    let shards_rel = format!("{published_rel}/shards");
    let work_shards = w(&shards_rel);
    let _ = &text_shards;
    let tok_path = match &recipe.tokenizer {
        Some(t) => {
            let p = TokenizerParams::from_table(t)?;
            match p.path {
                Some(path) => Some(path.display().to_string()),
                None => {
                    let out = w("tokenizer.json");
                    v.push(Stage {
                        name: s("tokenizer"),
                        array: 1,
                        pre: data.pull(&[&shards_rel]),
                        post: data.push(&["tokenizer.json"]),
                        args: vec![
                            s("tokenizer"),
                            s("train"),
                            s("--input"),
                            work_shards.clone(),
                            s("--vocab-size"),
                            p.vocab_size.to_string(),
                            s("--sample-bytes"),
                            p.sample_bytes.to_string(),
                            s("--seed"),
                            p.seed.to_string(),
                            s("--out"),
                            out.clone(),
                        ],
                    });
                    Some(out)
                }
            }
        }
        None => None,
    };
    if let (Some(t), Some(tok)) = (&recipe.tokenize, tok_path) {
        let p = TokenizeParams::from_table(t)?;
        // a tokenizer trained here is in the node's copy; one named by the recipe is used as given
        let trained = tok == w("tokenizer.json");
        let mut pre = data.pull(&[&shards_rel]);
        if trained {
            pre.extend(data.pull(&["tokenizer.json"]));
        }
        v.push(Stage {
            name: s("tokenize"),
            array: 1,
            pre,
            post: data.push(&["tokens"]),
            args: vec![
                s("tokenize"),
                s("--tokenizer"),
                tok,
                s("--input"),
                work_shards.clone(),
                s("--out"),
                w("tokens"),
                s("--format"),
                p.format,
                s("--shard-tokens"),
                p.shard_tokens.to_string(),
            ],
        });
    }
    // The dataset card closes the release, as in `quarry build`: written into the data root itself
    // so that its relative paths (HF `configs`, Croissant FileSet) stay inside the release.
    let has_tokens = recipe.tokenize.is_some() && v.iter().any(|st| st.name == "tokenize");
    let mut a = vec![s("card"), s("--corpus"), w(published_rel)];
    // what the card reads: each run's shards and manifests (not dedup's intermediates)
    let mut pulled = vec!["corpus/shards", "corpus/manifest.json", "corpus/_manifests"];
    if recipe.dedup.is_some() {
        pulled.extend([
            "dedup/shards",
            "dedup/manifest.json",
            "dedup/_manifests",
            "dedup/removed.txt",
            "dedup/clusters.jsonl",
            "dedup/report.json",
        ]);
    }
    if has_tokens {
        a.extend([s("--tokens"), w("tokens")]);
        pulled.push("tokens");
    }
    // The run's recipe carries the `[card]` options, read by `quarry card` as `quarry build` does;
    // checked here so that a bad key fails before anything is submitted.
    super::super::card::options_from_table(&recipe.card.clone().unwrap_or_default())?;
    a.extend([
        s("--out"),
        w(""),
        s("--recipe"),
        recipe_path.display().to_string(),
    ]);
    v.push(Stage {
        name: s("card"),
        array: 1,
        pre: data.pull(&pulled),
        post: data.push(&[
            "plots",
            "stats.json",
            "croissant.json",
            "lineage.json",
            "README.md",
        ]),
        args: a,
    });
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_of_the_default_recipe_chains_every_stage() {
        let r = Recipe::parse(crate::cmd::build::DEFAULT_RECIPE).unwrap();
        let p = plan(
            Path::new("/run/recipe.toml"),
            &r,
            4,
            &DataRoot::local(Path::new("/run")),
        )
        .unwrap();
        let names: Vec<_> = p.iter().map(|s| (s.name.as_str(), s.array)).collect();
        assert_eq!(
            names,
            vec![
                ("extract", 4),
                ("exact-signatures", 4),
                ("exact-buckets", 16),
                ("exact-cluster", 1),
                ("minhash-signatures", 4),
                ("minhash-buckets", 14),
                ("minhash-cluster", 1),
                ("dedup-filter", 4),
                ("tokenizer", 1),
                ("tokenize", 1),
                ("card", 1),
            ]
        );
        assert_eq!(p[0].args[..2], [s("run"), s("/run/recipe.toml")]);
        assert!(p[4].args.contains(&s("--exact")) && p[4].args.contains(&s("--minhash")));
        assert!(p.iter().all(|st| st.pre.is_empty() && st.post.is_empty()));

        // With the data on s3://, the per-input stages use the bucket directly and the whole-corpus
        // jobs copy in what they read and publish what they write, through one node folder.
        let data = DataRoot {
            root: s("s3://b/run"),
            mirror: Some(PathBuf::from("/stage/launch-x")),
        };
        let p = plan(Path::new("/run/recipe.toml"), &r, 4, &data).unwrap();
        assert!(
            p[1].args.contains(&s("s3://b/run/dedup")),
            "{:?}",
            p[1].args
        );
        assert!(p[1].pre.is_empty());
        let tok = p.iter().find(|st| st.name == "tokenize").unwrap();
        assert!(tok.args.contains(&s("/stage/launch-x/tokens")));
        assert_eq!(
            tok.pre[0],
            [
                s("storage"),
                s("sync"),
                s("s3://b/run/dedup/shards"),
                s("/stage/launch-x/dedup/shards")
            ]
        );
        assert_eq!(
            tok.post,
            [[
                s("storage"),
                s("sync"),
                s("/stage/launch-x/tokens"),
                s("s3://b/run/tokens")
            ]]
        );
        let card = p.last().unwrap();
        assert!(card.pre.iter().all(|c| !c[2].contains("/work")));
        assert!(card.post.iter().any(|c| c[3] == "s3://b/run/README.md"));
    }
}
