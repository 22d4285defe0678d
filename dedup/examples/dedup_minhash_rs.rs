//! The MinHash implementation here beside the `minhash-rs` crate (the one the design card names), on
//! the quality benchmark's real documents, one thread, CPU seconds: speed of the signature step and of
//! shingling + signature, and accuracy at the same 112 permutations: mean absolute error of the
//! estimated Jaccard against the true 5-gram Jaccard of every planted copy, and the 14×8 band recall of
//! planted copies and collision rate of unrelated pairs.
//!
//! ```text
//! cargo run --release -p quarry-dedup --example dedup_minhash_rs -- BENCH_DIR
//! ```
//! BENCH_DIR comes from `scripts/dedup/run_quality.sh` (or `dedup_quality gen`).

use std::collections::HashMap;
use std::path::Path;

use minhash_rs::prelude::*;
use quarry_dedup::benchmark::{read_task, Rng};
use quarry_dedup::local::process_cpu_seconds;
use quarry_dedup::normalize::Shingler;
use quarry_dedup::signature::{estimated_jaccard, jaccard_sorted};
use quarry_dedup::MinhashConfig;

const P: usize = 112;
const BANDS: usize = 14;
const ROWS: usize = 8;

/// Best-of-3 CPU seconds of `f` (each measurement 5 calls: the CPU clock ticks at 10 ms).
fn cpu_best(mut f: impl FnMut() -> u64) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let c0 = process_cpu_seconds();
        for _ in 0..5 {
            std::hint::black_box(f());
        }
        best = best.min((process_cpu_seconds() - c0) / 5.0);
    }
    best
}

fn band_collide(a: &[u64], b: &[u64]) -> bool {
    (0..BANDS).any(|k| a[k * ROWS..(k + 1) * ROWS] == b[k * ROWS..(k + 1) * ROWS])
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: dedup_minhash_rs BENCH_DIR");
    let dir = Path::new(&dir);
    let mut docs = Vec::new();
    let mut t = 0;
    while dir.join(format!("docs/task-{t:05}.jsonl")).exists() {
        docs.extend(read_task(&dir.join(format!("docs/task-{t:05}.jsonl"))).unwrap());
        t += 1;
    }
    let truth: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("truth.jsonl"))
        .expect("truth.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let bytes: usize = docs.iter().map(|d| d.text.len()).sum();
    let cfg = MinhashConfig::default();
    let h = cfg.hasher();
    let mut sh = Shingler::default();
    let shingles: Vec<Vec<u64>> = docs
        .iter()
        .map(|d| h.shingle_hashes(&d.text, &mut sh))
        .collect();

    // Signatures of both, from the same shingle hashes.
    let ours: Vec<Vec<u64>> = shingles
        .iter()
        .map(|s| {
            let mut sig = Vec::new();
            h.signature_of(s, &mut sig);
            sig
        })
        .collect();
    let theirs: Vec<Vec<u64>> = shingles
        .iter()
        .map(|s| {
            let mut m = MinHash::<u64, P>::new();
            for &x in s {
                m.insert(x);
            }
            m.into_words().to_vec()
        })
        .collect();

    let sig_ours = cpu_best(|| {
        let mut sig = Vec::new();
        shingles
            .iter()
            .map(|s| h.signature_of(s, &mut sig) as u64)
            .sum()
    });
    let sig_theirs = cpu_best(|| {
        shingles
            .iter()
            .map(|s| {
                let mut m = MinHash::<u64, P>::new();
                for &x in s {
                    m.insert(x);
                }
                m.into_words()[0] & 1
            })
            .sum()
    });
    let full_ours = cpu_best(|| {
        let mut sig = Vec::new();
        docs.iter()
            .map(|d| h.signature(&d.text, &mut sh, &mut sig) as u64)
            .sum()
    });
    let full_theirs = cpu_best(|| {
        docs.iter()
            .map(|d| {
                let mut m = MinHash::<u64, P>::new();
                for x in h.shingle_hashes(&d.text, &mut sh) {
                    m.insert(x);
                }
                m.into_words()[0] & 1
            })
            .sum()
    });

    // Accuracy on planted copies (source → copy) and on random unrelated pairs.
    let index: HashMap<&str, usize> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let mut planted = Vec::new();
    for t in &truth {
        if let (Some(id), Some(src)) = (t["id"].as_str(), t["source"].as_str()) {
            if let (Some(&a), Some(&b)) = (index.get(id), index.get(src)) {
                if !shingles[a].is_empty() && !shingles[b].is_empty() {
                    planted.push((a, b));
                }
            }
        }
    }
    let family: Vec<Option<i64>> = truth.iter().map(|t| t["family"].as_i64()).collect();
    let mut rng = Rng::new(11);
    let mut unrelated = Vec::new();
    while unrelated.len() < 200_000 {
        let (a, b) = (rng.below(docs.len()), rng.below(docs.len()));
        let related = a == b || (family[a].is_some() && family[a] == family[b]);
        if !related && !shingles[a].is_empty() && !shingles[b].is_empty() {
            unrelated.push((a, b));
        }
    }
    let score = |sigs: &[Vec<u64>]| {
        let mut err = 0.0;
        let mut found = 0;
        for &(a, b) in &planted {
            let j = jaccard_sorted(&shingles[a], &shingles[b]);
            err += (estimated_jaccard(&sigs[a], &sigs[b]) - j).abs();
            found += band_collide(&sigs[a], &sigs[b]) as usize;
        }
        let false_hits = unrelated
            .iter()
            .filter(|&&(a, b)| band_collide(&sigs[a], &sigs[b]))
            .count();
        (err / planted.len() as f64, found, false_hits)
    };
    let (e_ours, f_ours, x_ours) = score(&ours);
    let (e_theirs, f_theirs, x_theirs) = score(&theirs);

    println!(
        "{} real documents, {:.1} MB; {} planted copies; {} unrelated pairs; 112 permutations, \
         14x8 bands; one thread, best of 3, CPU seconds\n",
        docs.len(),
        bytes as f64 / 1e6,
        planted.len(),
        unrelated.len()
    );
    println!("| implementation | signature only, docs per CPU-s | shingling + signature, docs per CPU-s | MB per CPU-s | mean abs. Jaccard error | planted copies found (14x8) | unrelated pairs colliding |");
    println!("|---|---|---|---|---|---|---|");
    for (name, s, f, e, found, x) in [
        (
            "quarry (xxh3 + 128-bit multiply-shift)",
            sig_ours,
            full_ours,
            e_ours,
            f_ours,
            x_ours,
        ),
        (
            "minhash-rs 0.6.0 MinHash<u64, 112> (SipHash-1-3)",
            sig_theirs,
            full_theirs,
            e_theirs,
            f_theirs,
            x_theirs,
        ),
    ] {
        println!(
            "| {name} | {:.0} | {:.0} | {:.2} | {:.4} | {found}/{} | {x} |",
            docs.len() as f64 / s,
            docs.len() as f64 / f,
            bytes as f64 / 1e6 / f,
            e,
            planted.len()
        );
    }
}
