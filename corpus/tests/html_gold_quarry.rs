//! Gold-snippet quality of quarry's own extractor (`extractor = "quarry"`) on the 58 real pages of
//! the shared test-data kit, scored exactly as `html_gold` scores the trafilatura path: every
//! `trafilatura_with` snippet should be in the text, every `trafilatura_without` snippet not.
//!
//! The floors are the measured score (168 kept + 165 dropped = 333/343, see docs/extract-s3.md), so
//! any regression fails; the bar the issue sets (the trafilatura path's 328/343) is passed.

use std::path::PathBuf;

use quarry_corpus::html::{decode, extract_with, ExtractOptions, Extractor};

/// Kept / dropped gold snippets measured for the quarry extractor when it was committed.
const FLOOR_KEPT: usize = 168;
const FLOOR_DROPPED: usize = 165;

fn data_dir() -> PathBuf {
    let p = std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    assert!(
        p.join("html/index.jsonl").exists(),
        "test data not found at {} (set QUARRY_TEST_DATA to the shared/data folder)",
        p.display()
    );
    p
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn opts() -> ExtractOptions {
    ExtractOptions {
        extractor: Extractor::Quarry,
        ..Default::default()
    }
}

#[test]
fn quarry_extractor_gold_snippets_on_58_real_pages() {
    let dir = data_dir().join("html");
    let index = std::fs::read_to_string(dir.join("index.jsonl")).unwrap();
    let (mut kept, mut dropped, mut n_with, mut n_without, mut lines) = (0, 0, 0, 0, 0);
    let mut pages = 0;
    for l in index.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let strs = |k: &str| -> Vec<String> {
            v[k].as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        };
        let file = v["file"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let d = decode(&bytes, None);
        let e = extract_with(&d.text, v["url"].as_str(), &opts());
        // Deterministic: a second run gives the same bytes.
        assert_eq!(
            e,
            extract_with(&d.text, v["url"].as_str(), &opts()),
            "{file}"
        );
        let t = norm(&e.text);
        let with = strs("trafilatura_with");
        let without = strs("trafilatura_without");
        let k = with.iter().filter(|s| t.contains(&norm(s))).count();
        let dr = without.iter().filter(|s| !t.contains(&norm(s))).count();
        if k < with.len() || dr < without.len() {
            eprintln!(
                "{file:<60} kept {k}/{} dropped {dr}/{}",
                with.len(),
                without.len()
            );
        }
        assert!(
            e.text
                .lines()
                .all(|l| !l.trim().is_empty() && l.trim_end() == l),
            "{file}: blank or right-padded line"
        );
        kept += k;
        dropped += dr;
        n_with += with.len();
        n_without += without.len();
        lines += e.text.lines().count();
        pages += 1;
    }
    eprintln!(
        "quarry extractor: kept {kept}/{n_with}, dropped {dropped}/{n_without}, {lines} lines"
    );
    assert_eq!((pages, n_with, n_without), (58, 171, 172));
    assert!(kept >= FLOOR_KEPT, "kept {kept} < floor {FLOOR_KEPT}");
    assert!(
        dropped >= FLOOR_DROPPED,
        "dropped {dropped} < floor {FLOOR_DROPPED}"
    );
    assert!(
        lines > 58 * 10,
        "only {lines} lines: paragraphs are being joined"
    );
}

/// The charset pages of the kit come out as correct text through the quarry extractor too (the
/// decoding is shared; this checks the extractor keeps the article words).
#[test]
fn quarry_extractor_on_legacy_charset_pages() {
    let dir = data_dir().join("html");
    for (file, word) in [
        ("pl_rp.pl.unijne-fundusze.windows-1250.html", "fundusz"),
        (
            "de_cdu-fraktion-erfurt.de.waldorfschule.iso-8859-1.html",
            "Waldorfschule",
        ),
    ] {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let d = decode(&bytes, None);
        let e = extract_with(&d.text, None, &opts());
        assert!(e.text.contains(word), "{file}: {word} missing");
        assert!(
            !e.text.contains('\u{FFFD}'),
            "{file}: replacement characters"
        );
    }
}

/// Same page, same text, whatever else is extracted around it: all 58 pages in order on one
/// thread, then in reverse order on the rayon pool (as the pipeline runs batches), give the same
/// results.
#[test]
fn quarry_extractor_is_independent_of_batch_and_order() {
    use rayon::prelude::*;
    let dir = data_dir().join("html");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    files.sort();
    let pages: Vec<String> = files
        .iter()
        .map(|p| decode(&std::fs::read(p).unwrap(), None).text)
        .collect();
    let serial: Vec<_> = pages
        .iter()
        .map(|h| extract_with(h, None, &opts()))
        .collect();
    let mut parallel: Vec<(usize, _)> = pages
        .par_iter()
        .enumerate()
        .rev()
        .map(|(i, h)| (i, extract_with(h, None, &opts())))
        .collect();
    parallel.sort_by_key(|(i, _)| *i);
    assert_eq!(pages.len(), 58);
    for ((i, p), s) in parallel.iter().zip(&serial) {
        assert_eq!(p, s, "{}", files[*i].display());
    }
}
