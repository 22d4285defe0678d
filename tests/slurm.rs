//! `quarry launch`: the whole default pipeline (extract + filters with N = 4 tasks, exact and MinHash
//! dedup stage by stage, tokenizer, tokenize) as chained array jobs gives byte-identical text shards,
//! dedup outputs, tokenizer and token shards, and the same manifest counts, as `quarry build` with the
//! same recipe and N. Run twice: with the local executor (always), and through a real one-node Slurm
//! cluster when `scripts/slurm/up.sh` brought one up (scripts/test.sh runs it and sets QUARRY_SLURM).

mod util;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use util::{quarry, shard_bytes, TestDir};

const TASKS: &str = "4";
const SAMPLE_DOCS: &str = "800";

/// The real web archives of the shared test data (Common Crawl, dolma's wget crawls, ClueWeb09-ja,
/// UKWA's Heritrix crawls; the malformed ones are left to the reader tests).
const SHARED_WARCS: [&str; 8] = [
    "warc/commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
    "warc/commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.gz",
    "warc/commoncrawl/jwarc_cc.warc.gz",
    "warc/other/dolma_sample-0000.warc.gz",
    "warc/other/dolma_sample-0001.warc.gz",
    "warc/other/resiliparse_clueweb09-ja-quirk.warc.gz",
    "warc/other/ukwa_sopa-wikipedia-homepage-2012.warc.gz",
    "warc/other/ukwa_IAH-20080430204825-00000-blackbook-truncated.warc.gz",
];

/// `quarry build` with the default recipe over the real WARCs of the shared data plus the built-in
/// sample crawl (4 WARC files; it brings the planted exact and near-duplicates that exercise every
/// dedup stage), and the recipe that names the same inputs for `quarry launch`.
fn reference(d: &TestDir) -> (PathBuf, PathBuf) {
    let sample = d.path().join("sample");
    let o = quarry()
        .args(["sample", "--docs", SAMPLE_DOCS, "--files", "4", "--out"])
        .arg(&sample)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut inputs: Vec<String> = SHARED_WARCS
        .iter()
        .map(|p| util::data_dir().join(p).display().to_string())
        .collect();
    inputs.push(sample.join("*.warc.gz").display().to_string());
    let out = d.path().join("build");
    let o = quarry()
        .arg("build")
        .arg("--input")
        .args(&inputs)
        .args(["--tasks", TASKS, "--no-progress", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "quarry build failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let recipe = String::from_utf8(
        quarry()
            .args(["build", "--print-recipe"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let recipe = recipe.replace(
        "paths = [\"quarry-out/input/*.warc.gz\"]",
        &format!("paths = {inputs:?}"),
    );
    assert!(
        recipe.contains(&inputs[0]),
        "the default recipe's [input] line changed"
    );
    let rp = d.write("recipe.toml", &recipe);
    (out, rp)
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// Everything that must not depend on how the stages were scheduled.
fn assert_same_outputs(a: &Path, b: &Path) {
    for sub in ["corpus/shards", "dedup/shards", "tokens"] {
        let (x, y) = (a.join(sub), b.join(sub));
        let keep = |v: Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
            v.into_iter()
                .filter(|(n, _)| n != "manifest.json")
                .collect()
        };
        let (x, y) = (keep(shard_bytes(&x)), keep(shard_bytes(&y)));
        assert!(!x.is_empty(), "{sub} is empty");
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&x), names(&y), "{sub}: file names");
        for (f, g) in x.iter().zip(&y) {
            assert!(f.1 == g.1, "{sub}/{} differs", f.0);
        }
    }
    for f in [
        "dedup/removed.txt",
        "dedup/clusters.jsonl",
        "tokenizer.json",
        // the dataset card's statistics come from the data alone (its README and croissant.json
        // also name the run's manifests by digest, and those record wall times and paths)
        "stats.json",
    ] {
        let (x, y) = (
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs");
    }
    for (m, keys) in [
        (
            "corpus/manifest.json",
            &["reader", "stages", "metadata_counts"][..],
        ),
        ("dedup/manifest.json", &["reader", "stages"][..]),
    ] {
        let (x, y) = (json(&a.join(m)), json(&b.join(m)));
        for k in keys {
            assert_eq!(x[k], y[k], "{m}: {k}");
        }
        let rows = |v: &serde_json::Value| -> Vec<(u64, String)> {
            v["outputs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| {
                    (
                        o["rows"].as_u64().unwrap(),
                        o["sha256"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        };
        assert_eq!(rows(&x), rows(&y), "{m}: outputs");
    }
    let plots = shard_bytes(&a.join("plots"));
    assert!(plots.len() >= 10, "card plots: {}", plots.len());
    assert!(plots == shard_bytes(&b.join("plots")), "card plots differ");
    let (x, y) = (
        json(&a.join("tokens/manifest.json")),
        json(&b.join("tokens/manifest.json")),
    );
    for k in ["tokens", "documents", "skipped_empty"] {
        assert_eq!(x["stats"][k], y["stats"][k], "tokens manifest: {k}");
    }
    let r = json(&a.join("dedup/report.json"));
    let s = json(&b.join("dedup/report.json"));
    for k in ["docs", "exact_removed", "minhash_removed", "kept"] {
        assert_eq!(r[k], s[k], "dedup report: {k}");
    }
    assert!(r["exact_removed"].as_u64().unwrap() > 0 && r["minhash_removed"].as_u64().unwrap() > 0);
}

/// Polls a Slurm run's markers through `quarry status` until it is complete (sbatch --wait polls
/// slowly); fails on a failed task or after 4 minutes.
fn wait_for(run: &Path) {
    let t0 = Instant::now();
    loop {
        let (st, code) = status_json(run);
        if st["complete"] == true {
            assert_eq!(code, Some(0), "{st}");
            break;
        }
        assert!(
            code == Some(0) && t0.elapsed() < Duration::from_secs(240),
            "Slurm run failed or timed out: {st}\n{}",
            logs(run)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("slurm run finished in {:.1}s", t0.elapsed().as_secs_f64());
}

fn status_json(dir: &Path) -> (serde_json::Value, Option<i32>) {
    let o = quarry()
        .args(["status", "--json"])
        .arg(dir)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (v, o.status.code())
}

fn logs(dir: &Path) -> String {
    let mut s = String::new();
    if let Ok(rd) = std::fs::read_dir(dir.join("logs")) {
        for e in rd.flatten() {
            let t = std::fs::read_to_string(e.path()).unwrap_or_default();
            let tail: Vec<&str> = t.lines().rev().take(15).collect();
            s.push_str(&format!(
                "--- {}\n{}\n",
                e.path().display(),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
    }
    s
}

/// Whether this run must use Slurm: QUARRY_SLURM=up (set by scripts/test.sh after a successful
/// bring-up), or a reachable `sinfo` when the variable is not set. A failed bring-up skips loudly.
fn slurm_available() -> bool {
    match std::env::var("QUARRY_SLURM").as_deref() {
        Ok("up") => true,
        Ok(other) => {
            eprintln!(
                "\n!!!!!!!! SKIPPING the Slurm end-to-end test: QUARRY_SLURM={other} \
                 (scripts/slurm/up.sh did not bring Slurm up; see its output) !!!!!!!!\n"
            );
            false
        }
        Err(_) => {
            let ok = std::process::Command::new("sinfo")
                .args(["-h", "-o", "%T"])
                .output()
                .map(|o| {
                    o.status.success()
                        && String::from_utf8_lossy(&o.stdout)
                            .lines()
                            .any(|l| ["idle", "mixed", "allocated"].contains(&l.trim()))
                })
                .unwrap_or(false);
            if !ok {
                eprintln!(
                    "\n!!!!!!!! SKIPPING the Slurm end-to-end test: no Slurm here \
                     (run scripts/slurm/up.sh, or scripts/test.sh which does) !!!!!!!!\n"
                );
            }
            ok
        }
    }
}

#[test]
fn launch_local_and_slurm_match_quarry_build() {
    let d = TestDir::new();
    let (build, recipe) = reference(&d);

    // The local executor: the same stage commands, task after task. Both executors write to the same
    // folder (the local run is moved aside before Slurm starts), so that the paths the manifests
    // record are equal and the whole dataset card can be compared byte for byte.
    let local = d.path().join("run");
    let launch_local = || {
        quarry()
            .args(["launch", "local"])
            .arg(&recipe)
            .args([
                "--tasks",
                TASKS,
                "--quarry",
                env!("CARGO_BIN_EXE_quarry"),
                "--out",
            ])
            .arg(&local)
            .output()
            .unwrap()
    };
    let o = launch_local();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        logs(&local)
    );
    assert_same_outputs(&build, &local);
    let (st, code) = status_json(&local);
    assert_eq!(code, Some(0), "{st}");
    assert_eq!(st["complete"], true, "{st}");
    // every task of every stage is idempotent: a second launch redoes nothing and changes nothing
    let before = shard_bytes(&local.join("dedup/shards"));
    let o = launch_local();
    assert!(o.status.success());
    assert_eq!(shard_bytes(&local.join("dedup/shards")), before);
    let log = std::fs::read_to_string(local.join("logs/minhash-signatures-local_0.log")).unwrap();
    assert!(log.contains("already finished"), "{log}");

    if !slurm_available() {
        return;
    }
    let local = {
        let aside = d.path().join("local");
        std::fs::rename(&local, &aside).unwrap();
        aside
    };
    let slurm = d.path().join("run");
    let o = quarry()
        .args(["launch", "slurm"])
        .arg(&recipe)
        .args([
            "--tasks",
            TASKS,
            "--cpus-per-task",
            "1",
            "--retries",
            "1",
            "--quarry",
            env!("CARGO_BIN_EXE_quarry"),
            "--out",
        ])
        .arg(&slurm)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let launch = json(&slurm.join("launch.json"));
    let stages = launch["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 11, "{launch}");
    assert!(stages.iter().all(|s| s["job_id"].as_str().is_some()));
    assert!(slurm.join("slurm/00-extract.sbatch").exists());
    wait_for(&slurm);
    assert_same_outputs(&build, &slurm);
    // The card names run records by content digest, so beside its statistics and plots its README
    // and Croissant file are byte-identical too; only lineage.json (file digests of the manifests,
    // which hold wall times) may differ.
    for f in ["README.md", "croissant.json", "stats.json"] {
        let (x, y) = (
            std::fs::read(local.join(f)).unwrap(),
            std::fs::read(slurm.join(f)).unwrap(),
        );
        assert!(
            x == y,
            "card {f} differs between the local and the Slurm run"
        );
    }
    assert!(shard_bytes(&local.join("plots")) == shard_bytes(&slurm.join("plots")));
    // per-task logs, named by job id and array index
    let names: Vec<String> = std::fs::read_dir(slurm.join("logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let job = stages[0]["job_id"].as_str().unwrap();
    for t in 0..4 {
        assert!(
            names.contains(&format!("extract-{job}_{t}.log")),
            "{names:?}"
        );
    }
}

/// A task that fails on every attempt is retried, marked failed, and the stages after it are cancelled;
/// `quarry status` says so and exits 1. Uses the local executor (the wrapper is the same script).
#[test]
fn failing_task_is_retried_and_reported() {
    let d = TestDir::new();
    let recipe = d.write(
        "r.toml",
        &format!(
            "[input]\npaths = [{:?}]\n[output]\npath = \"x\"\n[run]\ntasks = 2\n[[stages]]\ntype = \"extract\"\n",
            d.path().join("missing/*.warc.gz").display().to_string()
        ),
    );
    let out = d.path().join("run");
    let o = quarry()
        .args(["launch", "local"])
        .arg(&recipe)
        .args(["--tasks", "2", "--retries", "1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let log = std::fs::read_to_string(out.join("logs/extract-local_0.log")).unwrap();
    assert!(
        log.contains("attempt 0 failed") && log.contains("attempt 1 failed"),
        "{log}"
    );
    let s = quarry().arg("status").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&s.stdout);
    assert_eq!(s.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAILED tasks [0]") && text.contains("run FAILED"),
        "{text}"
    );
}

/// `quarry launch --data s3://…`: outputs and intermediates on a real S3 server (s3s-fs, from
/// scripts/test.sh), through Slurm when it is up (else the local executor): the shards, dedup
/// outputs, tokenizer, token shards and card statistics on the bucket equal `quarry build`'s.
#[test]
fn launch_with_data_on_s3_matches_quarry_build() {
    let Ok(endpoint) = std::env::var("QUARRY_S3_ENDPOINT") else {
        eprintln!("SKIPPED: QUARRY_S3_ENDPOINT is not set (scripts/test.sh starts the S3 server)");
        return;
    };
    assert!(!endpoint.is_empty());
    let bucket = std::env::var("QUARRY_S3_BUCKET").unwrap_or_else(|_| "quarry-test".into());
    let d = TestDir::new();
    let (build, recipe) = reference(&d);
    let data = format!("s3://{bucket}/{}", util::unique("launch"));
    let run = d.path().join("run");
    let executor = if slurm_available() { "slurm" } else { "local" };
    let mut cmd = quarry();
    cmd.args(["launch", executor])
        .arg(&recipe)
        .args(["--tasks", TASKS, "--retries", "0", "--data", &data])
        .arg("--staging")
        .arg(d.path().join("staging"))
        .arg("--quarry")
        .arg(env!("CARGO_BIN_EXE_quarry"))
        .arg("--out")
        .arg(&run);
    if executor == "slurm" {
        cmd.args(["--cpus-per-task", "1"]);
    }
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stderr),
        logs(&run)
    );
    if executor == "slurm" {
        wait_for(&run);
    }
    // Nothing of the outputs is in the run folder; everything is on the bucket.
    assert!(!run.join("corpus").exists() && !run.join("dedup").exists());
    let copy = d.path().join("from-s3");
    let o = quarry()
        .args(["storage", "sync", &data])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_outputs(&build, &copy);
    for f in ["README.md", "croissant.json", "lineage.json"] {
        assert!(copy.join(f).is_file(), "card {f} on the bucket");
    }
    // The dedup intermediates are on the bucket too, and the corpus manifest names s3:// shards.
    assert!(copy.join("dedup/work/_markers").is_dir());
    let m = json(&copy.join("corpus/manifest.json"));
    assert!(m["outputs"][0]["path"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{data}/corpus/shards/")));
}
