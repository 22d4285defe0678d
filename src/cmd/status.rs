//! `quarry status RUN_DIR`: per-stage progress of a launched run (`quarry launch`), from the task
//! completion markers the job wrapper writes, the outputs' manifests, and `squeue` when Slurm is there.
//! Exit status 0 when nothing failed (finished or still going), 1 when a task failed for good, 2 when
//! the folder is not a launched run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;

use super::launch::LaunchRecord;

/// Flags of `quarry status`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run folder given to `quarry launch --out`.
    pub dir: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Progress of one stage.
#[derive(Debug, Clone, Default, serde::Serialize, PartialEq)]
pub struct StageStatus {
    /// Stage name.
    pub name: String,
    /// Array tasks.
    pub tasks: usize,
    /// Tasks with a done marker.
    pub done: usize,
    /// Tasks with a failure marker (every attempt failed).
    pub failed: Vec<usize>,
    /// Tasks Slurm lists as running.
    pub running: usize,
    /// Tasks Slurm lists as pending.
    pub pending: usize,
    /// Slurm's reasons for pending tasks (e.g. `Dependency`, `DependencyNeverSatisfied`).
    pub reasons: Vec<String>,
    /// Slurm job id.
    pub job_id: Option<String>,
    /// CPU seconds of the finished tasks (all threads, all attempts), from their markers.
    pub cpu_seconds: f64,
    /// Wall seconds of the slowest finished task.
    pub max_wall_seconds: f64,
}

/// A `key=value` field of a marker line.
fn field(text: &str, key: &str) -> Option<f64> {
    text.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// Counts the markers of a stage.
fn markers(dir: &Path, st: &mut StageStatus) {
    let d = dir.join("_launch").join(&st.name);
    let Ok(rd) = std::fs::read_dir(&d) else {
        return;
    };
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        let slot = |suffix: &str| {
            n.strip_prefix("task-")
                .and_then(|x| x.strip_suffix(suffix))
                .and_then(|x| x.parse::<usize>().ok())
        };
        if slot(".done").is_some() {
            st.done += 1;
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            st.cpu_seconds += field(&text, "cpu_s").unwrap_or(0.0);
            st.max_wall_seconds = st
                .max_wall_seconds
                .max(field(&text, "wall_s").unwrap_or(0.0));
        } else if let Some(t) = slot(".failed") {
            st.failed.push(t);
        }
    }
    st.failed.sort_unstable();
}

/// `squeue` states per job id (array tasks expanded), or `None` when squeue is not available.
fn squeue(ids: &[String]) -> Option<Vec<(String, String, String)>> {
    if ids.is_empty() {
        return Some(Vec::new());
    }
    let out = Command::new("squeue")
        .args(["-h", "-r", "-o", "%i|%T|%r", "-j", &ids.join(",")])
        .output()
        .ok()?;
    // squeue exits non-zero when every job has left the queue ("Invalid job id specified")
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .filter_map(|l| {
                let mut p = l.split('|');
                let id = p.next()?.trim().to_string();
                let job = id.split('_').next()?.to_string();
                Some((
                    job,
                    p.next()?.trim().to_string(),
                    p.next()?.trim().to_string(),
                ))
            })
            .collect(),
    )
}

/// The stages' status of a launched run.
pub fn collect(dir: &Path) -> anyhow::Result<(Vec<StageStatus>, bool)> {
    let p = dir.join("launch.json");
    let rec: LaunchRecord = serde_json::from_slice(
        &std::fs::read(&p).with_context(|| format!("{} (not a launched run?)", p.display()))?,
    )
    .with_context(|| format!("parsing {}", p.display()))?;
    let mut out: Vec<StageStatus> = rec
        .stages
        .iter()
        .map(|s| {
            let mut st = StageStatus {
                name: s.stage.name.clone(),
                tasks: s.stage.array,
                job_id: s.job_id.clone(),
                ..Default::default()
            };
            markers(dir, &mut st);
            st
        })
        .collect();
    let ids: Vec<String> = out.iter().filter_map(|s| s.job_id.clone()).collect();
    let q = squeue(&ids);
    if let Some(q) = &q {
        let by_job: BTreeMap<String, usize> = out
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.job_id.clone().map(|j| (j, i)))
            .collect();
        for (job, state, reason) in q {
            if let Some(&i) = by_job.get(job) {
                match state.as_str() {
                    "RUNNING" | "COMPLETING" | "CONFIGURING" => out[i].running += 1,
                    "PENDING" | "REQUEUED" => {
                        out[i].pending += 1;
                        if !out[i].reasons.contains(reason) && reason != "None" {
                            out[i].reasons.push(reason.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Ok((out, q.is_some()))
}

fn summary(dir: &Path) -> Vec<String> {
    let read = |p: PathBuf| -> Option<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(p).ok()?).ok()
    };
    let mut v = Vec::new();
    let rows = |m: &serde_json::Value| -> u64 {
        m["outputs"]
            .as_array()
            .map(|a| a.iter().filter_map(|o| o["rows"].as_u64()).sum())
            .unwrap_or(0)
    };
    if let Some(m) = read(dir.join("corpus/manifest.json")) {
        v.push(format!(
            "corpus: {} records read, {} documents written ({} read errors)",
            m["reader"]["records"],
            rows(&m),
            m["reader"]["errors"]
        ));
    }
    if let Some(r) = read(dir.join("dedup/report.json")) {
        v.push(format!(
            "dedup: {} documents, {} exact and {} near-duplicates removed",
            r["docs"], r["exact_removed"], r["minhash_removed"]
        ));
    }
    if let Some(m) = read(dir.join("dedup/manifest.json")) {
        v.push(format!("dedup shards: {} documents written", rows(&m)));
    }
    if let Some(m) = read(dir.join("tokens/manifest.json")) {
        v.push(format!(
            "tokens: {} tokens from {} documents in {} shard(s)",
            m["stats"]["tokens"],
            m["stats"]["documents"],
            m["stats"]["shards"]
                .as_array()
                .map(|a| a.len())
                .unwrap_or(0)
        ));
    }
    v
}

/// Runs `quarry status`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (stages, have_squeue) = collect(&args.dir)?;
    let failed = stages
        .iter()
        .any(|s| !s.failed.is_empty() || s.reasons.iter().any(|r| r == "DependencyNeverSatisfied"));
    let complete = stages.iter().all(|s| s.done == s.tasks);
    if args.json {
        println!(
            "{}",
            serde_json::json!({"stages": stages, "complete": complete, "failed": failed, "squeue": have_squeue})
        );
    } else {
        println!(
            "{:<20} {:>8} {:>6} {:>6} {:>8} {:>7} {:>9} {:>9}  notes",
            "stage", "job", "tasks", "done", "running", "pending", "cpu-s", "max wall"
        );
        for s in &stages {
            let mut notes = Vec::new();
            if !s.failed.is_empty() {
                notes.push(format!(
                    "FAILED tasks {:?} (logs: {}/logs/{}-*)",
                    s.failed,
                    args.dir.display(),
                    s.name
                ));
            }
            if !s.reasons.is_empty() {
                notes.push(format!("waiting: {}", s.reasons.join(",")));
            }
            println!(
                "{:<20} {:>8} {:>6} {:>6} {:>8} {:>7} {:>9.1} {:>9.1}  {}",
                s.name,
                s.job_id.as_deref().unwrap_or("-"),
                s.tasks,
                s.done,
                s.running,
                s.pending,
                s.cpu_seconds,
                s.max_wall_seconds,
                notes.join("; ")
            );
        }
        if !have_squeue {
            println!("(squeue not available: running/pending unknown)");
        }
        for l in summary(&args.dir) {
            println!("{l}");
        }
        println!(
            "{}",
            if failed {
                "run FAILED"
            } else if complete {
                "run complete"
            } else {
                "run in progress"
            }
        );
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_count_done_and_failed() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path().join("_launch/extract");
        std::fs::create_dir_all(&m).unwrap();
        for f in [
            "task-00000.done",
            "task-00002.done",
            "task-00001.failed",
            ".task-00003.tmp",
        ] {
            std::fs::write(
                m.join(f),
                "exit=0 attempts=1 job=7 cpu_s=1.50 wall_s=2.25\n",
            )
            .unwrap();
        }
        let mut st = StageStatus {
            name: "extract".into(),
            tasks: 4,
            ..Default::default()
        };
        markers(d.path(), &mut st);
        assert_eq!((st.done, st.failed.clone()), (2, vec![1]));
        assert_eq!((st.cpu_seconds, st.max_wall_seconds), (3.0, 2.25));
    }
}
