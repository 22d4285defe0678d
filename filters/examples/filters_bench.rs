//! Throughput of each filter and of the heuristic chain on one core, on the real documents of the
//! datatrove agreement test, optionally beside datatrove's same filters in the same run.
//!
//! ```text
//! CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo run -p quarry-filters --example bench -- \
//!     [--datatrove /work/venvs/filters/bin/python]
//! ```
//! (or `--release`). With `--datatrove PYTHON` it then runs
//! `scripts/filters/datatrove_reference.py --bench` with that interpreter and prints its table.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use quarry_corpus::{Document, Step};
use quarry_filters::{
    C4Quality, FineWebQuality, GopherQuality, GopherRepetition, LanguageId, LanguageIdConfig, Pii,
};

fn time_best<F: FnMut()>(mut f: F) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let python = args
        .iter()
        .position(|a| a == "--datatrove")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let docs = support::docs::load_docs();
    let mb = docs.iter().map(|(_, t)| t.len()).sum::<usize>() as f64 / 1e6;
    let data = support::docs::data_dir();
    let lid = LanguageId::new(LanguageIdConfig {
        model: Some(data.join("lid/lid.176.ftz").to_string_lossy().into_owned()),
        languages: Some(vec!["en".into()]),
        ..Default::default()
    })
    .expect("load lid.176.ftz");
    let heuristics: Vec<Box<dyn Step>> = vec![
        Box::new(GopherRepetition::default()),
        Box::new(GopherQuality::default()),
        Box::new(C4Quality::default()),
        Box::new(FineWebQuality::default()),
    ];
    let profile = if cfg!(debug_assertions) {
        "dev profile, debug assertions on"
    } else {
        "release"
    };
    println!(
        "quarry-filters ({profile}), {} docs, {mb:.2} MB, one core",
        docs.len()
    );
    println!("| step | docs/s | MB/s |");
    println!("|---|---|---|");
    let report = |name: &str, secs: f64| {
        println!(
            "| {name} | {:.0} | {:.2} |",
            docs.len() as f64 / secs,
            mb / secs
        );
    };
    for step in &heuristics {
        let secs = time_best(|| {
            for (id, text) in &docs {
                let mut d = Document::new(id.clone(), text.clone());
                std::hint::black_box(step.process(&mut d));
            }
        });
        report(step.name(), secs);
    }
    let pii = Pii::default();
    for step in [&lid as &dyn Step, &pii as &dyn Step] {
        let secs = time_best(|| {
            for (id, text) in &docs {
                let mut d = Document::new(id.clone(), text.clone());
                std::hint::black_box(step.process(&mut d));
            }
        });
        report(step.name(), secs);
    }
    let secs = time_best(|| {
        for (id, text) in &docs {
            let mut d = Document::new(id.clone(), text.clone());
            for step in &heuristics {
                if !step.process(&mut d).is_keep() {
                    break;
                }
            }
        }
    });
    report("chain", secs);
    if let Some(py) = python {
        println!();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/filters/datatrove_reference.py"
        );
        let status = std::process::Command::new(py)
            .arg(script)
            .arg("--bench")
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("datatrove bench failed: {status:?}");
        }
    }
}
