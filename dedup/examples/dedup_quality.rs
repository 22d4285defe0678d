//! Near-duplicate benchmark: generate it, run our configurations, score them beside datatrove.
//!
//! ```text
//! cargo run --release -p quarry-dedup --example dedup_quality -- gen  BENCH_DIR [--tasks 14] [--seed 42]
//! cargo run --release -p quarry-dedup --example dedup_quality -- eval BENCH_DIR
//! ```
//! `gen` writes `BENCH_DIR/docs/task-*.jsonl` and `truth.jsonl` from the real documents in
//! `$QUARRY_TEST_DATA` (default `/work/shared/data`). `eval` runs our configurations into
//! `BENCH_DIR/out-<name>/`, reads datatrove's result from `BENCH_DIR/out-datatrove/` if
//! `scripts/dedup/datatrove_bench.py` wrote it, and prints precision/recall per similarity band and the
//! removed-set agreement between datatrove and our datatrove-compatible mode.
//! `scripts/dedup/run_quality.sh` does all three steps.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use quarry_dedup::benchmark::{
    evaluate, generate, load_base_texts, read_task, write_bench, Bench, BenchDoc, BenchParams,
    MethodOutput, Scores, Truth, BANDS,
};
use quarry_dedup::{run_local, DedupPlan, MinhashConfig, VerifyMode};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn read_bench(dir: &Path) -> Bench {
    let mut docs = Vec::new();
    let mut t = 0;
    loop {
        let p = dir.join(format!("docs/task-{t:05}.jsonl"));
        if !p.exists() {
            break;
        }
        for d in read_task(&p).expect("read task") {
            docs.push(BenchDoc {
                id: d.id,
                text: d.text,
            });
        }
        t += 1;
    }
    let truth: Vec<Truth> = std::fs::read_to_string(dir.join("truth.jsonl"))
        .expect("truth.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("truth line"))
        .collect();
    Bench { docs, truth }
}

fn configs() -> Vec<(&'static str, MinhashConfig)> {
    vec![
        ("ours-default-14x8", MinhashConfig::default()),
        ("ours-datatrove-compat", MinhashConfig::datatrove()),
        (
            "ours-verify-est-40x3@0.5",
            MinhashConfig::builder()
                .bands(40, 3)
                .verify(VerifyMode::Estimated, 0.5)
                .build()
                .unwrap(),
        ),
        (
            "ours-verify-exact-40x3@0.5",
            MinhashConfig::builder()
                .bands(40, 3)
                .verify(VerifyMode::Exact, 0.5)
                .build()
                .unwrap(),
        ),
        (
            "ours-verify-exact-28x4@0.7",
            MinhashConfig::builder()
                .bands(28, 4)
                .verify(VerifyMode::Exact, 0.7)
                .build()
                .unwrap(),
        ),
    ]
}

fn print_scores(rows: &[(String, Scores)]) {
    print!("| method | precision | recall all | recall J≥0.5 | recall J≥0.7 |");
    for (lo, hi) in BANDS {
        print!(" R [{lo:.1},{hi:.1}) |");
    }
    println!();
    print!("|---|---|---|---|---|");
    for _ in BANDS {
        print!("---|");
    }
    println!();
    for (name, s) in rows {
        print!(
            "| {name} | {:.4} | {:.3} | {:.3} | {:.3} |",
            s.precision, s.recall, s.recall_05, s.recall_07
        );
        for b in 0..BANDS.len() {
            if s.planted[b] == 0 {
                print!(" – |");
            } else {
                print!(
                    " {:.3} ({}/{}) |",
                    s.found[b] as f64 / s.planted[b] as f64,
                    s.found[b],
                    s.planted[b]
                );
            }
        }
        println!();
    }
    println!();
    println!("Precision by true Jaccard of removed document to the kept one (correct/removed):");
    print!("| method |");
    for (lo, hi) in BANDS {
        print!(" [{lo:.1},{hi:.1}) |");
    }
    println!();
    print!("|---|");
    for _ in BANDS {
        print!("---|");
    }
    println!();
    for (name, s) in rows {
        print!("| {name} |");
        for b in 0..BANDS.len() {
            print!(" {}/{} |", s.removed_correct[b], s.removed[b]);
        }
        println!();
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cmd = args.first().map(String::as_str).unwrap_or("");
    let dir = PathBuf::from(
        args.get(1)
            .expect("usage: dedup_quality gen|eval BENCH_DIR"),
    );
    match cmd {
        "gen" => {
            let data =
                std::env::var("QUARRY_TEST_DATA").unwrap_or_else(|_| "/work/shared/data".into());
            let tasks: usize = arg(&args, "--tasks")
                .map(|s| s.parse().unwrap())
                .unwrap_or(14);
            let seed: u64 = arg(&args, "--seed")
                .map(|s| s.parse().unwrap())
                .unwrap_or(42);
            let step: usize = arg(&args, "--subsample")
                .map(|s| s.parse().unwrap())
                .unwrap_or(1);
            let base = load_base_texts(Path::new(&data), 50, 300).expect("base texts");
            // --subsample 8 --tasks 4 gives the small benchmark of the crate's tests
            let base: Vec<String> = base.iter().step_by(step).cloned().collect();
            let bench = generate(
                &base,
                &BenchParams {
                    seed,
                    ..Default::default()
                },
            );
            write_bench(&bench, &dir, tasks).expect("write bench");
            let copies = bench.truth.iter().filter(|t| t.source.is_some()).count();
            println!(
                "benchmark: {} base texts read, {} documents ({} planted copies) in {tasks} tasks -> {}",
                base.len(),
                bench.docs.len(),
                copies,
                dir.display()
            );
        }
        "eval" => {
            let bench = read_bench(&dir);
            let mut tasks = Vec::new();
            let mut t = 0;
            while dir.join(format!("docs/task-{t:05}.jsonl")).exists() {
                tasks.push(read_task(&dir.join(format!("docs/task-{t:05}.jsonl"))).unwrap());
                t += 1;
            }
            let mut rows = Vec::new();
            let dt = dir.join("out-datatrove");
            if dt.join("removed.txt").exists() {
                rows.push((
                    "datatrove-0.10-default".to_string(),
                    evaluate(&bench, &MethodOutput::read(&dt).unwrap()),
                ));
            } else {
                println!(
                    "(no datatrove result in {}: run scripts/dedup/datatrove_bench.py)",
                    dt.display()
                );
            }
            for (name, cfg) in configs() {
                let out = dir.join(format!("out-{name}"));
                let _ = std::fs::remove_dir_all(&out);
                let plan = DedupPlan {
                    minhash: Some(cfg),
                    ..Default::default()
                };
                let t0 = std::time::Instant::now();
                run_local(
                    &plan,
                    tasks.len(),
                    |t| Ok(tasks[t].clone().into_iter()),
                    &out,
                )
                .expect("run");
                eprintln!("{name}: {:.2}s", t0.elapsed().as_secs_f64());
                rows.push((
                    name.to_string(),
                    evaluate(&bench, &MethodOutput::read(&out).unwrap()),
                ));
            }
            let planted: u64 = rows[0].1.planted.iter().sum();
            println!(
                "{} documents, {} planted copies; recall = copy in the same cluster as its source; \
                 precision = removed documents whose kept representative is a true relative\n",
                bench.docs.len(),
                planted
            );
            print_scores(&rows);
            if dt.join("removed.txt").exists() {
                let a = MethodOutput::read(&dt).unwrap();
                let b = MethodOutput::read(&dir.join("out-ours-datatrove-compat")).unwrap();
                let n = bench.docs.len();
                let differ = bench
                    .docs
                    .iter()
                    .filter(|d| a.removed.contains(&d.id) != b.removed.contains(&d.id))
                    .count();
                let both: HashSet<_> = a.removed.intersection(&b.removed).collect();
                println!(
                    "\ndatatrove vs ours-datatrove-compat: removed {} vs {}, both {}, documents with the same \
                     decision {}/{} = {:.4}",
                    a.removed.len(),
                    b.removed.len(),
                    both.len(),
                    n - differ,
                    n,
                    (n - differ) as f64 / n as f64
                );
            }
        }
        _ => eprintln!("usage: dedup_quality gen|eval BENCH_DIR"),
    }
}
