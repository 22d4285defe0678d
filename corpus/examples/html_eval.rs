//! Quality and speed table of the HTML → text candidates on the 58 gold pages of the test-data kit,
//! beside the Python peers' numbers (from `scripts/html-eval/eval_python.py`, same pages, same
//! scoring: whitespace-collapsed substring match of the `trafilatura_with`/`_without` snippets).
//!
//! ```text
//! QUARRY_TEST_DATA=/path/to/shared/data cargo run --release -p quarry-corpus --example html_eval [-- REPEAT]
//! ```
//! All candidates get the same decoded text (our charset step, timed separately) and run on one
//! thread; each is timed over REPEAT passes (default 3): wall time of the fastest pass, and the
//! thread's CPU time per pass (the fair number on a shared machine; the Python script reports the
//! same two).

use std::path::PathBuf;
use std::time::Instant;

use quarry_corpus::html::{decode_with_url, extract_with, ExtractOptions, Extractor, Focus};

struct Page {
    file: String,
    url: Option<String>,
    with: Vec<String>,
    without: Vec<String>,
    bytes: Vec<u8>,
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// CPU time of this thread so far, in seconds (`/proc/thread-self/stat` utime + stime, at the
/// kernel's USER_HZ of 100 ticks/s). On a shared, loaded machine wall time mostly measures the other
/// processes; CPU time stays comparable between runs. `None` off Linux.
fn thread_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let after = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

type Cand = (&'static str, Box<dyn Fn(&str, Option<&str>) -> String>);

fn main() {
    let repeat: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let data = std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    let dir = data.join("html");
    let index = std::fs::read_to_string(dir.join("index.jsonl"))
        .expect("set QUARRY_TEST_DATA to shared/data");
    let pages: Vec<Page> = index
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let strs = |k: &str| {
                v[k].as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect()
            };
            let file = v["file"].as_str().unwrap().to_string();
            Page {
                bytes: std::fs::read(dir.join(&file)).unwrap(),
                url: v["url"].as_str().map(str::to_string),
                with: strs("trafilatura_with"),
                without: strs("trafilatura_without"),
                file,
            }
        })
        .collect();
    let total_bytes: usize = pages.iter().map(|p| p.bytes.len()).sum();
    let n_with: usize = pages.iter().map(|p| p.with.len()).sum();
    let n_without: usize = pages.iter().map(|p| p.without.len()).sum();

    let t = Instant::now();
    let mut decoded = Vec::new();
    for _ in 0..repeat {
        decoded = pages
            .iter()
            .map(|p| decode_with_url(&p.bytes, None, p.url.as_deref()).text)
            .collect::<Vec<_>>();
    }
    let decode_ms = t.elapsed().as_secs_f64() * 1000.0 / (repeat * pages.len()) as f64;

    let opts = |fallback: bool, focus: Focus| ExtractOptions {
        extractor: Extractor::Trafilatura,
        fallback,
        focus,
        ..ExtractOptions::default()
    };
    let cands: Vec<Cand> = vec![
        ("quarry extract, extractor=quarry", {
            let o = ExtractOptions {
                extractor: Extractor::Quarry,
                ..ExtractOptions::default()
            };
            Box::new(move |h, u| extract_with(h, u, &o).text)
        }),
        ("quarry extract, extractor=trafilatura", {
            let o = opts(true, Focus::Balanced);
            Box::new(move |h, u| extract_with(h, u, &o).text)
        }),
        ("quarry, fallback=false", {
            let o = opts(false, Focus::Balanced);
            Box::new(move |h, u| extract_with(h, u, &o).text)
        }),
        ("quarry, focus=precision", {
            let o = opts(true, Focus::Precision);
            Box::new(move |h, u| extract_with(h, u, &o).text)
        }),
        (
            "trafilatura-rs content_text",
            Box::new(|h, _| {
                let o = trafilatura::Options::default()
                    .with_fallback(true)
                    .with_exclude_comments(true);
                trafilatura::extract(h, &o)
                    .map(|r| r.content_text)
                    .unwrap_or_default()
            }),
        ),
        (
            "dom_smoothie 0.19",
            Box::new(|h, u| {
                let cfg = dom_smoothie::Config {
                    text_mode: dom_smoothie::TextMode::Formatted,
                    ..Default::default()
                };
                dom_smoothie::Readability::new(h, u, Some(cfg))
                    .ok()
                    .and_then(|mut r| r.parse().ok())
                    .map(|a| a.text_content.to_string())
                    .unwrap_or_default()
            }),
        ),
    ];

    println!(
        "{} pages, {:.2} MB, gold: {n_with} must-keep, {n_without} must-drop snippets",
        pages.len(),
        total_bytes as f64 / 1e6
    );
    println!("charset decode: {decode_ms:.3} ms/page (included in no row below)\n");
    println!("| implementation | kept | dropped | lines/page | wall ms/page | CPU ms/page | MB/s (CPU) |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    // HTML_EVAL_ONLY=SUBSTRING: only the candidates whose name contains it (quick tuning loops).
    let only = std::env::var("HTML_EVAL_ONLY").ok();
    for (name, f) in &cands {
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let mut best = f64::MAX;
        let mut texts = Vec::new();
        let cpu0 = thread_cpu_secs();
        for _ in 0..repeat {
            let t = Instant::now();
            texts = pages
                .iter()
                .zip(&decoded)
                .map(|(p, h)| f(h, p.url.as_deref()))
                .collect();
            best = best.min(t.elapsed().as_secs_f64());
        }
        let cpu = match (cpu0, thread_cpu_secs()) {
            (Some(a), Some(b)) => (b - a) / repeat as f64,
            _ => f64::NAN,
        };
        let (mut kept, mut dropped, mut lines) = (0, 0, 0);
        // HTML_EVAL_DUMP=DIR: each page's text as DIR/<file>.txt (for diffs between versions).
        let dump = std::env::var_os("HTML_EVAL_DUMP").map(PathBuf::from);
        for (p, t) in pages.iter().zip(&texts) {
            if let Some(d) = &dump {
                std::fs::create_dir_all(d).expect("HTML_EVAL_DUMP folder");
                let safe: String = name
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                std::fs::write(d.join(format!("{}.{safe}.txt", p.file)), t).expect("dump");
            }
            let n = norm(t);
            kept += p.with.iter().filter(|s| n.contains(&norm(s))).count();
            dropped += p.without.iter().filter(|s| !n.contains(&norm(s))).count();
            lines += t.lines().filter(|l| !l.trim().is_empty()).count();
            if std::env::var("HTML_EVAL_VERBOSE").is_ok_and(|v| name.contains(v.as_str())) {
                let k = p.with.iter().filter(|s| n.contains(&norm(s))).count();
                let d = p.without.iter().filter(|s| !n.contains(&norm(s))).count();
                if k < p.with.len() || d < p.without.len() {
                    eprintln!(
                        "  {:<58} kept {k}/{} dropped {d}/{}",
                        p.file,
                        p.with.len(),
                        p.without.len()
                    );
                    for w in p.with.iter().filter(|s| !n.contains(&norm(s))) {
                        eprintln!("      missing: {w}");
                    }
                    for w in p.without.iter().filter(|s| n.contains(&norm(s))) {
                        eprintln!("      leaked:  {w}");
                    }
                }
            }
        }
        println!(
            "| {name} | {kept}/{n_with} | {dropped}/{n_without} | {:.1} | {:.2} | {:.2} | {:.1} |",
            lines as f64 / pages.len() as f64,
            best * 1000.0 / pages.len() as f64,
            cpu * 1000.0 / pages.len() as f64,
            total_bytes as f64 / 1e6 / cpu
        );
    }
    let py = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/html-eval/python_scores.json"
    ));
    if let Ok(s) = std::fs::read_to_string(&py) {
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        for (name, imp) in v["implementations"].as_object().unwrap() {
            let cpu = imp["cpu_ms_per_page"].as_f64().unwrap_or(f64::NAN);
            println!(
                "| {name} (committed run) | {}/{n_with} | {}/{n_without} | | {:.2} | {:.2} | {:.1} |",
                imp["kept"],
                imp["dropped"],
                imp["ms_per_page"].as_f64().unwrap(),
                cpu,
                total_bytes as f64 / 1e3 / pages.len() as f64 / cpu
            );
        }
    }
}
