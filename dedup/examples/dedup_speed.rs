//! Speed and scale of the dedup stages.
//!
//! ```text
//! # signature throughput on one core, on the quality benchmark's real documents
//! cargo run --release -p quarry-dedup --example dedup_speed -- sig BENCH_DIR
//! # the four stages on N synthetic documents (one process per size, so peak RSS is per run)
//! cargo run --release -p quarry-dedup --example dedup_speed -- scale 100000 WORK_DIR [--tasks 16]
//! ```
//! `scripts/dedup/datatrove_speed.py BENCH_DIR` measures datatrove's signature stage on the same
//! documents; `scripts/dedup/run_speed.sh` runs both and the scale runs.

use std::path::{Path, PathBuf};
use std::time::Instant;

use quarry_corpus::Document;
use quarry_dedup::benchmark::{read_task, Rng};
use quarry_dedup::local::process_cpu_seconds;
use quarry_dedup::normalize::Shingler;
use quarry_dedup::{
    run_local, DedupPlan, ExactConfig, HashScheme, MinhashConfig, MinhashSignatures, WordTokenizer,
};

fn peak_rss_mib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .map(|k| k / 1024.0)
        .unwrap_or(f64::NAN)
}

const REPS: usize = 5;

fn sig_bench(dir: &Path) {
    let mut docs = Vec::new();
    let mut t = 0;
    while dir.join(format!("docs/task-{t:05}.jsonl")).exists() {
        docs.extend(read_task(&dir.join(format!("docs/task-{t:05}.jsonl"))).unwrap());
        t += 1;
    }
    let bytes: usize = docs.iter().map(|d| d.text.len()).sum();
    println!(
        "signature stage, one thread, {} real documents, {:.1} MB of text (each config: best of 3 \
         measurements of {REPS} passes; CPU seconds of this process)\n",
        docs.len(),
        bytes as f64 / 1e6
    );
    println!("| config | MB per CPU-s | docs per CPU-s | MB/s wall |");
    println!("|---|---|---|---|");
    let cfgs = [
        ("xxh3 (default), 14x8", MinhashConfig::default()),
        ("datatrove scheme, 14x8", MinhashConfig::datatrove()),
        (
            "xxh3, whitespace tokenizer, 14x8",
            MinhashConfig::builder()
                .tokenizer(WordTokenizer::Whitespace)
                .build()
                .unwrap(),
        ),
        (
            "xxh3, 40x3 (120 hashes)",
            MinhashConfig::builder().bands(40, 3).build().unwrap(),
        ),
        (
            "datatrove scheme, 40x3",
            MinhashConfig::builder()
                .bands(40, 3)
                .scheme(HashScheme::Datatrove)
                .build()
                .unwrap(),
        ),
    ];
    for (name, cfg) in cfgs {
        let h = cfg.hasher();
        let mut sh = Shingler::default();
        let mut sig = Vec::new();
        let (mut best, mut best_cpu) = (f64::MAX, f64::MAX);
        for _ in 0..3 {
            // REPS passes per measurement: the CPU clock ticks at 10 ms
            let (t0, c0) = (Instant::now(), process_cpu_seconds());
            let mut n = 0u64;
            for _ in 0..REPS {
                for d in &docs {
                    n += h.signature(&d.text, &mut sh, &mut sig) as u64;
                }
            }
            std::hint::black_box(n);
            best = best.min(t0.elapsed().as_secs_f64() / REPS as f64);
            best_cpu = best_cpu.min((process_cpu_seconds() - c0) / REPS as f64);
        }
        println!(
            "| {name} | {:.2} | {:.0} | {:.2} |",
            bytes as f64 / 1e6 / best_cpu,
            docs.len() as f64 / best_cpu,
            bytes as f64 / 1e6 / best
        );
    }
    // The whole stage 1 as one task: read the JSONL, signatures, sorted band files (as datatrove's
    // MinhashDedupSignature task does), on one thread.
    let work = std::env::temp_dir().join(format!("quarry-dedup-sig-{}", std::process::id()));
    let (mut best, mut best_cpu) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let (t0, c0) = (Instant::now(), process_cpu_seconds());
        for _ in 0..REPS {
            let _ = std::fs::remove_dir_all(&work);
            let mut st = MinhashSignatures::new(MinhashConfig::default(), &work).unwrap();
            let mut t = 0;
            while dir.join(format!("docs/task-{t:05}.jsonl")).exists() {
                for d in read_task(&dir.join(format!("docs/task-{t:05}.jsonl"))).unwrap() {
                    st.add(&d);
                }
                t += 1;
            }
            st.write(0).unwrap();
        }
        best = best.min(t0.elapsed().as_secs_f64() / REPS as f64);
        best_cpu = best_cpu.min((process_cpu_seconds() - c0) / REPS as f64);
    }
    let _ = std::fs::remove_dir_all(&work);
    println!(
        "| ours full stage 1 (read JSONL + sorted band files), xxh3 14x8, 1 task | {:.2} | {:.0} | {:.2} |",
        bytes as f64 / 1e6 / best_cpu,
        docs.len() as f64 / best_cpu,
        bytes as f64 / 1e6 / best
    );
}

/// Synthetic documents: ~120 words from a Zipf-like 50k-word vocabulary; 4% of documents are
/// near-copies (5% word edits) of an earlier one and 1% exact copies.
fn synth_task(task: usize, per_task: usize, seed: u64) -> impl Iterator<Item = Document> {
    let vocab: Vec<String> = (0..50_000).map(|i| format!("w{i:x}")).collect();
    let mut rng = Rng::new(seed ^ (task as u64).wrapping_mul(0x9e37_79b9));
    let mut recent: Vec<String> = Vec::new();
    (0..per_task).map(move |i| {
        let r = rng.unit();
        let text = if r < 0.05 && !recent.is_empty() {
            let src = recent[rng.below(recent.len())].clone();
            if r < 0.01 {
                src
            } else {
                src.split(' ')
                    .map(|w| {
                        if rng.unit() < 0.05 {
                            vocab[rng.below(vocab.len())].as_str()
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        } else {
            let n = 80 + rng.below(80);
            (0..n)
                .map(|_| {
                    let u = rng.unit();
                    vocab[((u * u * u) * vocab.len() as f64) as usize].as_str()
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        if recent.len() < 256 {
            recent.push(text.clone());
        } else {
            let k = rng.below(256);
            recent[k] = text.clone();
        }
        let mut d = Document::new(format!("t{task}-{i}"), text);
        d.source.offset = i as u64;
        d
    })
}

fn scale(n: usize, work: &Path, tasks: usize) {
    let per_task = n.div_ceil(tasks);
    let plan = DedupPlan {
        exact: Some(ExactConfig::default()),
        minhash: Some(MinhashConfig::default()),
        ..Default::default()
    };
    let _ = std::fs::remove_dir_all(work);
    let text_bytes: usize = (0..tasks)
        .map(|t| {
            synth_task(t, per_task, 7)
                .map(|d| d.text.len())
                .sum::<usize>()
        })
        .sum();
    let (t0, c0) = (Instant::now(), process_cpu_seconds());
    let rep = run_local(&plan, tasks, |t| Ok(synth_task(t, per_task, 7)), work).expect("run");
    let total = t0.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - c0;
    println!(
        "\n{} synthetic documents ({:.0} MB of text), {tasks} tasks, {} threads: total {:.1}s wall, {:.1} CPU-s, \
         peak RSS {:.0} MiB, intermediate {:.1} MB; exact removed {}, minhash removed {}, kept {}",
        rep.docs,
        text_bytes as f64 / 1e6,
        rayon::current_num_threads(),
        total,
        cpu,
        peak_rss_mib(),
        rep.intermediate_bytes as f64 / 1e6,
        rep.exact_removed,
        rep.minhash_removed,
        rep.kept
    );
    println!("\n| stage | seconds | CPU seconds | bytes written |");
    println!("|---|---|---|---|");
    for s in &rep.stages {
        println!(
            "| {} | {:.2} | {:.2} | {:.1} MB |",
            s.stage,
            s.seconds,
            s.cpu_seconds,
            s.bytes as f64 / 1e6
        );
    }
    println!(
        "SCALE\t{}\t{:.1}\t{:.1}\t{:.0}\t{}\t{:.0}",
        rep.docs,
        total,
        cpu,
        peak_rss_mib(),
        rep.intermediate_bytes,
        text_bytes as f64 / 1e6
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("sig") => sig_bench(Path::new(&args[1])),
        Some("scale") => {
            let n: usize = args[1].parse().expect("document count");
            let work = PathBuf::from(&args[2]);
            let tasks = args
                .iter()
                .position(|a| a == "--tasks")
                .and_then(|i| args.get(i + 1))
                .map(|s| s.parse().unwrap())
                .unwrap_or(16);
            scale(n, &work, tasks);
        }
        _ => eprintln!("usage: dedup_speed sig BENCH_DIR | scale N WORK_DIR [--tasks T]"),
    }
}
