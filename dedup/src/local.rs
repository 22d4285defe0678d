//! [`run_local`]: all stages on one machine, tasks in parallel with rayon, for `quarry dedup` and the
//! benchmarks. Exact dedup (when on) runs first; MinHash then sees only the documents exact dedup kept.
//!
//! Output in `out`: `removed.txt` (ids of all removed documents, one a line: exact first, then MinHash),
//! `clusters.jsonl` (all clusters, each line with `"method": "exact" | "minhash"`), `report.json`, and
//! the per-method work folders (`exact-<tag>/`, `minhash-<tag>/`).

use std::path::Path;
use std::time::Instant;

use quarry_corpus::{Document, Step, TaskContext};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cluster::ClusterStats;
use crate::config::MinhashConfig;
use crate::error::DedupError;
use crate::exact::{
    exact_cluster, exact_dir, exact_filter, exact_pairs, ExactConfig, ExactSignatures,
};
use crate::filter::DedupFilter;
use crate::format::write_atomic;
use crate::merge::MergeLimits;
use crate::minhash::{
    minhash_cluster, minhash_dir, minhash_filter, minhash_pairs, MinhashSignatures,
};

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct DedupPlan {
    /// Exact dedup settings, if on.
    pub exact: Option<ExactConfig>,
    /// MinHash settings, if on.
    pub minhash: Option<MinhashConfig>,
    /// Merge memory limits.
    pub limits: MergeLimits,
    /// Indexes of earlier crawls ([`crate::index`]) whose documents this run's documents are matched
    /// against in stage 2: a match is removed (`<reason>_of_index`), indexed documents are never kept.
    pub index: Vec<std::path::PathBuf>,
}

impl DedupPlan {
    /// Checks that every index holds this plan's methods under the same settings, and that MinHash
    /// does not verify pairs (an index keeps keys, not the signatures or shingles verification needs).
    pub fn check_index(&self) -> Result<(), DedupError> {
        if self.index.is_empty() {
            return Ok(());
        }
        if let Some(c) = &self.minhash {
            if c.verify != crate::VerifyMode::None {
                return Err(DedupError::Config(
                    "MinHash pair verification cannot check matches against an index (it keeps band \
                     keys, not signatures or shingles): use verify = \"none\" with an index"
                        .into(),
                ));
            }
            crate::index::index_files(
                &self.index,
                &folder_name(&minhash_dir(Path::new(""), c)),
                0,
            )?;
        }
        if let Some(c) = &self.exact {
            crate::index::index_files(&self.index, &folder_name(&exact_dir(Path::new(""), c)), 0)?;
        }
        Ok(())
    }
}

fn folder_name(p: &Path) -> String {
    p.display().to_string()
}

impl DedupPlan {
    /// The plan `quarry dedup` builds from its flags: `--exact` (exact text dedup), `--minhash` (on when
    /// neither is given) with `--bands B --rows R --ngram N` over the datatrove defaults.
    pub fn from_flags(
        exact: bool,
        minhash: bool,
        bands: Option<usize>,
        rows: Option<usize>,
        ngram: Option<usize>,
    ) -> Result<Self, DedupError> {
        let minhash = minhash || !exact;
        let mut cfg = MinhashConfig::default();
        cfg.bands = bands.unwrap_or(cfg.bands);
        cfg.rows = rows.unwrap_or(cfg.rows);
        cfg.n_grams = ngram.unwrap_or(cfg.n_grams);
        cfg.validate()?;
        Ok(DedupPlan {
            exact: exact.then(ExactConfig::default),
            minhash: minhash.then_some(cfg),
            limits: MergeLimits::default(),
            index: Vec::new(),
        })
    }
}

/// Timing and size of one stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageReport {
    /// `exact:1-signatures`, `minhash:2-pairs`, ...
    pub stage: String,
    /// Wall seconds.
    pub seconds: f64,
    /// CPU seconds of the whole process (user + system, all threads) during the stage; 0 where
    /// `/proc/self/stat` is not available.
    #[serde(default)]
    pub cpu_seconds: f64,
    /// Bytes the stage wrote.
    pub bytes: u64,
}

/// Summary of a local run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LocalReport {
    /// Input documents.
    pub docs: u64,
    /// Documents removed by exact dedup.
    pub exact_removed: u64,
    /// Documents removed by MinHash.
    pub minhash_removed: u64,
    /// Documents the final filter pass kept.
    pub kept: u64,
    /// Exact clustering counts.
    pub exact: Option<ClusterStats>,
    /// MinHash clustering counts.
    pub minhash: Option<ClusterStats>,
    /// Per-stage timings.
    pub stages: Vec<StageReport>,
    /// Bytes of intermediate files (everything under the work folders).
    pub intermediate_bytes: u64,
}

fn ctx(task: usize, tasks: usize, out: &Path) -> TaskContext {
    TaskContext {
        task,
        tasks,
        output: out.display().to_string(),
        scratch: out.join("scratch"),
    }
}

/// Total bytes of files under a folder.
pub fn dir_bytes(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, 100 ticks a second as
/// on every mainstream Linux build); 0 elsewhere.
pub fn process_cpu_seconds() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    let rest = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn timed<T>(
    stages: &mut Vec<StageReport>,
    name: &str,
    bytes_dir: Option<&Path>,
    f: impl FnOnce() -> Result<T, DedupError>,
) -> Result<T, DedupError> {
    let before = bytes_dir.map(dir_bytes).unwrap_or(0);
    let cpu0 = process_cpu_seconds();
    let t = Instant::now();
    let r = f()?;
    let after = bytes_dir.map(dir_bytes).unwrap_or(0);
    tracing::info!(
        stage = name,
        seconds = t.elapsed().as_secs_f64(),
        "dedup stage done"
    );
    stages.push(StageReport {
        stage: name.to_string(),
        seconds: t.elapsed().as_secs_f64(),
        cpu_seconds: process_cpu_seconds() - cpu0,
        bytes: after.saturating_sub(before),
    });
    Ok(r)
}

fn load_filters(filters: &mut [DedupFilter], task: usize) -> Result<(), DedupError> {
    for f in filters.iter_mut() {
        f.load_task(task)?;
    }
    Ok(())
}

fn passes(filters: &[DedupFilter], doc: &mut Document) -> bool {
    filters.iter().all(|f| f.process(doc).is_keep())
}

/// Appends a method folder's `removed.txt` and its `clusters.jsonl` (each line tagged with `"method"`)
/// to the run-wide files, exact first, then MinHash.
pub(crate) fn append_method_outputs(
    dir: &Path,
    method: &str,
    removed: &mut String,
    clusters: &mut String,
) -> Result<(), DedupError> {
    let r = dir.join("removed.txt");
    removed.push_str(&std::fs::read_to_string(&r).map_err(|e| DedupError::io(&r, e))?);
    let c = dir.join("clusters.jsonl");
    for line in std::fs::read_to_string(&c)
        .map_err(|e| DedupError::io(&c, e))?
        .lines()
    {
        let mut v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| DedupError::Format {
                path: c.clone(),
                message: e.to_string(),
            })?;
        v["method"] = method.into();
        clusters.push_str(&v.to_string());
        clusters.push('\n');
    }
    Ok(())
}

/// Runs every stage of the plan over `tasks` input tasks; `docs(task)` yields a task's documents (it is
/// called once per pass: up to three times). Documents need unique ids within a task; their
/// `source.offset` (line or record number) fixes their order.
pub fn run_local<I, F>(
    plan: &DedupPlan,
    tasks: usize,
    docs: F,
    out: &Path,
) -> Result<LocalReport, DedupError>
where
    I: Iterator<Item = Document>,
    F: Fn(usize) -> Result<I, DedupError> + Sync,
{
    if let Some(c) = &plan.minhash {
        c.validate()?;
    }
    if let Some(c) = &plan.exact {
        c.validate()?;
    }
    plan.check_index()?;
    std::fs::create_dir_all(out).map_err(|e| DedupError::io(out, e))?;
    let mut rep = LocalReport::default();
    let mut removed_txt = String::new();
    let mut clusters_jsonl = String::new();
    let append = append_method_outputs;
    let mut prior: Vec<(usize, &'static str)> = Vec::new(); // filters applied before a method: (kind, ..)

    if let Some(cfg) = &plan.exact {
        let dir = exact_dir(out, cfg);
        let _ = std::fs::remove_dir_all(&dir);
        let counts = timed(&mut rep.stages, "exact:1-signatures", Some(&dir), || {
            (0..tasks)
                .into_par_iter()
                .map(|t| {
                    let mut st = ExactSignatures::new(cfg.clone(), out)?
                        .with_memory_budget(plan.limits.signature_budget);
                    let mut n = 0u64;
                    for d in docs(t)? {
                        st.add(&d);
                        n += 1;
                    }
                    st.write(t)?;
                    Ok(n)
                })
                .collect::<Result<Vec<u64>, DedupError>>()
        })?;
        rep.docs = counts.iter().sum();
        timed(&mut rep.stages, "exact:2-pairs", Some(&dir), || {
            (0..cfg.partitions)
                .into_par_iter()
                .map(|p| exact_pairs(out, cfg, p, &plan.limits, &plan.index).map(|_| ()))
                .collect::<Result<(), _>>()
        })?;
        let cs = timed(&mut rep.stages, "exact:3-cluster", Some(&dir), || {
            exact_cluster(out, cfg)
        })?;
        rep.exact_removed = cs.removed;
        rep.exact = Some(cs);
        append(&dir, "exact", &mut removed_txt, &mut clusters_jsonl)?;
        prior.push((0, "exact"));
    }

    let make_prior = |prior: &[(usize, &'static str)]| -> Result<Vec<DedupFilter>, DedupError> {
        let mut v = Vec::new();
        for (k, _) in prior {
            match k {
                0 => v.push(exact_filter(
                    out,
                    plan.exact.as_ref().expect("exact is on"),
                )?),
                _ => v.push(minhash_filter(
                    out,
                    plan.minhash.as_ref().expect("minhash is on"),
                )?),
            }
        }
        Ok(v)
    };

    if let Some(cfg) = &plan.minhash {
        let dir = minhash_dir(out, cfg);
        let _ = std::fs::remove_dir_all(&dir);
        let counts = timed(&mut rep.stages, "minhash:1-signatures", Some(&dir), || {
            (0..tasks)
                .into_par_iter()
                .map(|t| {
                    let mut filters = make_prior(&prior)?;
                    load_filters(&mut filters, t)?;
                    let mut st = MinhashSignatures::new(cfg.clone(), out)?
                        .with_memory_budget(plan.limits.signature_budget);
                    st.begin(&ctx(t, tasks, out))
                        .map_err(|e| DedupError::Input(e.to_string()))?;
                    let mut n = 0u64;
                    for mut d in docs(t)? {
                        n += 1;
                        if passes(&filters, &mut d) {
                            st.add(&d);
                        }
                    }
                    st.write(t)?;
                    Ok(n)
                })
                .collect::<Result<Vec<u64>, DedupError>>()
        })?;
        if plan.exact.is_none() {
            rep.docs = counts.iter().sum();
        }
        timed(&mut rep.stages, "minhash:2-pairs", Some(&dir), || {
            (0..cfg.bands)
                .into_par_iter()
                .map(|b| minhash_pairs(out, cfg, b, &plan.limits, &plan.index).map(|_| ()))
                .collect::<Result<(), _>>()
        })?;
        let cs = timed(&mut rep.stages, "minhash:3-cluster", Some(&dir), || {
            minhash_cluster(out, cfg)
        })?;
        rep.minhash_removed = cs.removed;
        rep.minhash = Some(cs);
        append(&dir, "minhash", &mut removed_txt, &mut clusters_jsonl)?;
        prior.push((1, "minhash"));
    }

    // Stage 4: the filters over every task, as a recipe would run them.
    let kept = timed(&mut rep.stages, "4-filter", None, || {
        (0..tasks)
            .into_par_iter()
            .map(|t| {
                let mut filters = make_prior(&prior)?;
                load_filters(&mut filters, t)?;
                let mut kept = 0u64;
                for mut d in docs(t)? {
                    if passes(&filters, &mut d) {
                        kept += 1;
                    }
                }
                Ok(kept)
            })
            .collect::<Result<Vec<u64>, DedupError>>()
    })?;
    rep.kept = kept.iter().sum();
    if rep.kept + rep.exact_removed + rep.minhash_removed != rep.docs {
        return Err(DedupError::Input(format!(
            "filter pass kept {} of {} documents but clustering removed {} + {}: do ids repeat across \
             tasks' inputs or did the input change between passes?",
            rep.kept, rep.docs, rep.exact_removed, rep.minhash_removed
        )));
    }
    rep.intermediate_bytes = plan
        .exact
        .as_ref()
        .map(|c| dir_bytes(&exact_dir(out, c)))
        .unwrap_or(0)
        + plan
            .minhash
            .as_ref()
            .map(|c| dir_bytes(&minhash_dir(out, c)))
            .unwrap_or(0);
    write_atomic(&out.join("removed.txt"), removed_txt.as_bytes())?;
    write_atomic(&out.join("clusters.jsonl"), clusters_jsonl.as_bytes())?;
    write_atomic(
        &out.join("report.json"),
        &serde_json::to_vec_pretty(&rep).expect("report serialises"),
    )?;
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::minhash_dir;
    use crate::test_text::text;
    use quarry_corpus::{StepRegistry, Verdict};

    fn corpus() -> Vec<Vec<Document>> {
        let mut t0 = vec![Document::new("a", text(1)), Document::new("b", text(2))];
        let mut t1 = vec![
            Document::new("c", format!("{} extra", text(1))), // near-duplicate of a
            Document::new("d", text(2).to_uppercase()),       // exact after normalisation of b
            Document::new("e", "short text"),                 // no 5-gram
        ];
        for (i, d) in t0.iter_mut().chain(t1.iter_mut()).enumerate() {
            d.source.offset = i as u64;
        }
        vec![t0, t1]
    }

    #[test]
    fn steps_from_recipe_tables_run_all_four_stages() {
        let dir = tempfile::tempdir().unwrap();
        let mut reg = StepRegistry::new();
        crate::register(&mut reg);
        let table: toml::Table =
            toml::from_str(&format!("dir = {:?}\nbands = 14\nrows = 8", dir.path())).unwrap();
        let docs = corpus();
        for (t, task) in docs.iter().enumerate() {
            let mut s = reg.build("minhash_signatures", &table).unwrap();
            let c = ctx(t, 2, dir.path());
            s.begin(&c).unwrap();
            for d in task {
                let mut d = d.clone();
                assert_eq!(s.process(&mut d), Verdict::Keep);
            }
            let outs = s.finish(&c).unwrap();
            assert_eq!(outs.len(), 1 + 14, "ids + one file per band");
        }
        let cfg = MinhashConfig::default();
        for b in 0..14 {
            minhash_pairs(dir.path(), &cfg, b, &MergeLimits::default(), &[]).unwrap();
        }
        let stats = minhash_cluster(dir.path(), &cfg).unwrap();
        assert_eq!((stats.clusters, stats.removed), (2, 2), "{stats:?}");
        let removed =
            std::fs::read_to_string(minhash_dir(dir.path(), &cfg).join("removed.txt")).unwrap();
        assert_eq!(removed, "c\nd\n");
        let mut verdicts = Vec::new();
        for (t, task) in docs.iter().enumerate() {
            let mut f = reg.build("minhash_filter", &table).unwrap();
            f.begin(&ctx(t, 2, dir.path())).unwrap();
            for d in task {
                let mut d = d.clone();
                let v = f.process(&mut d);
                verdicts.push((
                    d.id.clone(),
                    v,
                    d.meta("dedup_cluster_size").and_then(|m| m.as_i64()),
                ));
            }
        }
        assert_eq!(
            verdicts,
            vec![
                ("a".into(), Verdict::Keep, Some(2)),
                ("b".into(), Verdict::Keep, Some(2)),
                ("c".into(), Verdict::drop("minhash_duplicate"), None),
                ("d".into(), Verdict::drop("minhash_duplicate"), None),
                ("e".into(), Verdict::Keep, Some(1)),
            ]
        );
        // a filter under other settings finds no stage-3 output and says so
        let other: toml::Table =
            toml::from_str(&format!("dir = {:?}\nbands = 20\nrows = 5", dir.path())).unwrap();
        let mut f = reg.build("minhash_filter", &other).unwrap();
        let e = f.begin(&ctx(0, 2, dir.path())).unwrap_err().to_string();
        assert!(e.contains("clustering stage"), "{e}");
        assert!(
            reg.build("minhash_signatures", &toml::Table::new())
                .is_err(),
            "dir is required"
        );
        let bad: toml::Table =
            toml::from_str(&format!("dir = {:?}\nbandz = 3", dir.path())).unwrap();
        assert!(
            reg.build("minhash_signatures", &bad).is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn run_local_exact_then_minhash_is_deterministic() {
        let docs = corpus();
        let plan = DedupPlan {
            exact: Some(ExactConfig::default()),
            minhash: Some(MinhashConfig::default()),
            ..Default::default()
        };
        let mut outputs = Vec::new();
        for _ in 0..2 {
            let dir = tempfile::tempdir().unwrap();
            let rep = run_local(&plan, 2, |t| Ok(docs[t].clone().into_iter()), dir.path()).unwrap();
            assert_eq!(
                (rep.docs, rep.exact_removed, rep.minhash_removed, rep.kept),
                (5, 1, 1, 3)
            );
            let removed = std::fs::read_to_string(dir.path().join("removed.txt")).unwrap();
            assert_eq!(removed, "d\nc\n");
            let clusters = std::fs::read_to_string(dir.path().join("clusters.jsonl")).unwrap();
            assert!(
                clusters.contains(r#""method":"exact""#)
                    && clusters.contains(r#""method":"minhash""#)
            );
            outputs.push((removed, clusters));
        }
        assert_eq!(outputs[0], outputs[1]);
    }

    #[test]
    fn repeated_ids_within_a_task_are_an_error() {
        let docs = [vec![
            Document::new("x", text(1)),
            Document::new("x", text(2)),
        ]];
        let dir = tempfile::tempdir().unwrap();
        let plan = DedupPlan {
            minhash: Some(MinhashConfig::default()),
            ..Default::default()
        };
        let e = run_local(&plan, 1, |t| Ok(docs[t].clone().into_iter()), dir.path()).unwrap_err();
        assert!(e.to_string().contains("appears twice"), "{e}");
    }

    #[test]
    fn verify_modes_reject_dissimilar_candidates() {
        // c is a plus one word: 5-gram Jaccard 56/57 ≈ 0.98, so a 0.99 threshold rejects that pair
        let docs = corpus();
        for (mode, thr, removed) in [
            (crate::VerifyMode::Estimated, 0.5, 2),
            (crate::VerifyMode::Exact, 0.5, 2),
            (crate::VerifyMode::Exact, 0.99, 1),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let plan = DedupPlan {
                minhash: Some(MinhashConfig::builder().verify(mode, thr).build().unwrap()),
                ..Default::default()
            };
            let rep = run_local(&plan, 2, |t| Ok(docs[t].clone().into_iter()), dir.path()).unwrap();
            assert_eq!(rep.minhash_removed, removed, "{mode:?} at {thr}");
        }
    }

    #[test]
    fn url_dedup_keeps_the_first_by_task_and_order() {
        let mk = |id: &str, url: Option<&str>, off: u64| {
            let mut d = Document::new(id, text(off as usize));
            d.url = url.map(String::from);
            d.source.offset = off;
            d
        };
        let docs = [
            vec![mk("a", Some("https://Example.com/x"), 0), mk("b", None, 1)],
            vec![
                mk("c", Some("https://example.com/x#frag"), 0),
                mk("d", Some("https://example.com/y"), 1),
            ],
        ];
        let plan = DedupPlan {
            exact: Some(ExactConfig {
                key: crate::ExactKey::Url,
                ..Default::default()
            }),
            ..Default::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let rep = run_local(&plan, 2, |t| Ok(docs[t].clone().into_iter()), dir.path()).unwrap();
        assert_eq!((rep.exact_removed, rep.kept), (1, 3));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("removed.txt")).unwrap(),
            "c\n"
        );
        let cfg = plan.exact.as_ref().unwrap();
        let mut f = exact_filter(dir.path(), cfg).unwrap();
        f.load_task(1).unwrap();
        let mut c = docs[1][0].clone();
        assert_eq!(
            f.process(&mut c),
            quarry_corpus::Verdict::drop("url_duplicate")
        );
    }
}
