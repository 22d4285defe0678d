//! Generation throughput of the sample crawl. Not a pass/fail timing test: run it in release to get
//! the number, e.g. `cargo test --release -p quarry-corpus --test sample_speed -- --ignored --nocapture`.

use std::time::Instant;

use quarry_corpus::sample::{generate, SampleConfig};

#[test]
#[ignore = "throughput measurement; run in release with --ignored --nocapture"]
fn sample_generation_throughput() {
    let docs = std::env::var("QUARRY_SAMPLE_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let t = Instant::now();
    let mut bytes = 0usize;
    let mut body = 0usize;
    for p in generate(SampleConfig {
        docs,
        seed: 1,
        ..Default::default()
    }) {
        bytes += p.http_response_bytes().len();
        body += p.body.len();
    }
    let s = t.elapsed().as_secs_f64();
    println!("| docs | MB (HTTP responses) | seconds | MB/s | docs/s |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {docs} | {:.1} | {s:.2} | {:.1} | {:.0} |",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / s,
        docs as f64 / s
    );
    assert!(body > 0);
}
