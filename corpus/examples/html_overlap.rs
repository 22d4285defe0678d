//! Dumps both extractors' text for the HTML responses of WARC files, for the word-overlap check
//! against Python trafilatura (`scripts/html-eval/overlap.py`, which runs this and scores it).
//!
//! ```text
//! cargo run --release -p quarry-corpus --example html_overlap -- OUT.jsonl LIMIT WARC...
//! ```
//! Each HTML response (up to LIMIT over all files) goes through the real `extract` step twice,
//! `extractor = "quarry"` and `extractor = "trafilatura"` (charset from the HTTP header, BOM,
//! `<meta>`, detection, exactly as a pipeline does). One JSON line per record:
//! `{"id", "url", "quarry", "trafilatura"}` (an empty string where the step dropped the page). The
//! last line on stderr gives the CPU milliseconds per page of each extractor;
//! `HTML_OVERLAP_ONLY=quarry` runs only that one (to time the whole process with `time`).

use std::io::Write;

use quarry_corpus::html::{Extract, ExtractConfig, Extractor};
use quarry_corpus::read::ReadItem;
use quarry_corpus::step::Step;
use quarry_corpus::warc::{read_documents, WarcOptions};

/// CPU time of this thread so far, in seconds (`/proc/thread-self/stat`, 100 ticks/s).
fn thread_cpu_secs() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return f64::NAN;
    };
    let Some(close) = s.rfind(')') else {
        return f64::NAN;
    };
    let f: Vec<&str> = s[close + 2..].split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    (t(11) + t(12)) as f64 / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: html_overlap OUT.jsonl LIMIT WARC...");
        std::process::exit(2);
    }
    let limit: usize = args[1].parse().expect("LIMIT must be a number");
    let step = |extractor| {
        Extract::new(ExtractConfig {
            extractor,
            ..Default::default()
        })
    };
    let steps = [
        ("quarry", step(Extractor::Quarry)),
        ("trafilatura", step(Extractor::Trafilatura)),
    ];
    // HTML_OVERLAP_ONLY=quarry|trafilatura: run one extractor (for timing the whole process).
    let only = std::env::var("HTML_OVERLAP_ONLY").ok();
    let mut cpu = [0f64; 2];
    let mut out = std::io::BufWriter::new(std::fs::File::create(&args[0]).expect("create OUT"));
    let mut n = 0usize;
    'files: for path in &args[2..] {
        let file = std::fs::File::open(path).expect("open WARC");
        for item in read_documents(Box::new(file), path, &WarcOptions::default()) {
            let ReadItem::Doc(doc) = item else { continue };
            let html = doc.content_type.as_deref().is_some_and(|c| {
                let c = c.to_ascii_lowercase();
                c.starts_with("text/html") || c.starts_with("application/xhtml")
            });
            if !html || doc.raw.is_none() {
                continue;
            }
            if n == limit {
                break 'files;
            }
            n += 1;
            let mut rec = serde_json::Map::new();
            rec.insert("id".into(), doc.id.clone().into());
            rec.insert("url".into(), doc.url.clone().unwrap_or_default().into());
            for (k, (name, s)) in steps.iter().enumerate() {
                if only.as_deref().is_some_and(|o| o != *name) {
                    continue;
                }
                let mut d = doc.clone();
                let t0 = thread_cpu_secs();
                let keep = s.process(&mut d).is_keep();
                cpu[k] += thread_cpu_secs() - t0;
                let text = if keep { d.text } else { String::new() };
                rec.insert((*name).into(), text.into());
            }
            serde_json::to_writer(&mut out, &rec).expect("write");
            out.write_all(b"\n").expect("write");
        }
    }
    out.flush().expect("write");
    eprintln!(
        "{n} pages; CPU ms/page: quarry {:.3}, trafilatura {:.3}",
        cpu[0] * 1000.0 / n.max(1) as f64,
        cpu[1] * 1000.0 / n.max(1) as f64
    );
}
