//! Licence-audit speed on the 58 real gold pages (µs per page). Run with
//! `cargo test -p quarry-filters --test license_bench -- --ignored --nocapture`
//! (add `--release` for release numbers). Ignored by default: it is a measurement, not a check.

use std::path::PathBuf;
use std::time::Instant;

use quarry_filters::license;

fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

#[test]
#[ignore]
fn license_audit_speed() {
    let dir = data_dir().join("html");
    let mut pages = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "html") {
            pages.push(std::fs::read(&p).unwrap());
        }
    }
    pages.sort();
    let bytes: usize = pages.iter().map(|p| p.len()).sum();
    let rounds = 20;
    let mut licensed = 0usize;
    let t = Instant::now();
    for _ in 0..rounds {
        for p in &pages {
            licensed += license::audit_bytes(&[], p).license.is_some() as usize;
        }
    }
    let s = t.elapsed().as_secs_f64();
    let n = (pages.len() * rounds) as f64;
    println!("| profile | pages | MB | µs/page | MB/s | licensed/round |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {:.2} | {:.0} | {:.1} | {} |",
        if cfg!(debug_assertions) {
            "dev"
        } else {
            "release"
        },
        pages.len(),
        bytes as f64 / 1e6,
        s * 1e6 / n,
        bytes as f64 * rounds as f64 / s / 1e6,
        licensed / rounds
    );
    assert_eq!(pages.len(), 58);
}
