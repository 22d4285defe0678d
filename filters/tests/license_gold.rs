//! Licence audit accuracy against hand-labelled real pages: the 58 gold HTML pages of the shared
//! data kit and the pages of three real WARCs that link licences.
//!
//! `tests/data/license/expected.jsonl` holds one line per page (`file`, `expected`: SPDX id or
//! null, `note`), written by reading each page's markup. The test prints a confusion table
//! (expected class × predicted class) and asserts ≥ 98% exact SPDX match on pages that declare a
//! licence and that no all-rights-reserved or unlicensed page is ever classed `open`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use quarry_corpus::warc::{read_documents, WarcOptions};
use quarry_corpus::ReadItem;
use quarry_filters::license::{self, spdx, Audit};

fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

/// Every page to score: (`key`, audit). HTML pages are keyed by file name, WARC pages by
/// `<warc file>#<target URI>`.
fn audits() -> Vec<(String, Audit)> {
    let dir = data_dir();
    let mut out = Vec::new();
    let index = std::fs::read_to_string(dir.join("html/index.jsonl")).expect("html/index.jsonl");
    for line in index.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let file = v["file"].as_str().unwrap().to_string();
        let body = std::fs::read(dir.join("html").join(&file)).unwrap();
        out.push((file, license::audit_bytes(&[], &body)));
    }
    for warc in [
        "warc/commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.gz",
        "warc/other/dolma_sample-0000.warc.gz",
        "warc/other/dolma_sample-0001.warc.gz",
    ] {
        let f = std::fs::File::open(dir.join(warc)).expect(warc);
        let name = warc.rsplit('/').next().unwrap();
        for item in read_documents(Box::new(f), name, &WarcOptions::default()) {
            if let ReadItem::Doc(doc) = item {
                let Some(raw) = doc.raw.as_ref() else {
                    continue;
                };
                let ct = doc.content_type.as_deref().unwrap_or("");
                if !ct.contains("html") {
                    continue;
                }
                let key = format!("{name}#{}", doc.url.as_deref().unwrap_or(&doc.id));
                let a = license::audit_bytes_at(&raw.http_headers, &raw.body, doc.url.as_deref());
                out.push((key, a));
            }
        }
    }
    out
}

fn class_label(id: Option<&str>) -> &'static str {
    match id {
        None => "none",
        Some(l) => spdx::class_of(l).as_str(),
    }
}

#[test]
fn gold_pages_confusion_and_accuracy() {
    let expected_src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/license/expected.jsonl"
    ))
    .unwrap();
    let mut expected: BTreeMap<String, Option<String>> = BTreeMap::new();
    for line in expected_src.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        expected.insert(
            v["file"].as_str().unwrap().to_string(),
            v["expected"].as_str().map(str::to_string),
        );
    }
    let audits = audits();
    if std::env::var_os("LICENSE_DUMP").is_some() {
        for (k, a) in &audits {
            println!("DUMP {k}\t{:?}", a.license);
            for f in &a.findings {
                println!(
                    "   {} {} {} {:.2} {}",
                    f.spdx,
                    f.source.as_str(),
                    f.location,
                    f.confidence,
                    f.evidence
                );
            }
        }
    }
    let classes = ["open", "nc-nd", "restricted", "unknown", "none"];
    let mut table: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let (mut declared, mut exact, mut scored) = (0usize, 0usize, 0usize);
    let mut errors = Vec::new();
    let mut open_violations = Vec::new();
    for (key, a) in &audits {
        let Some(want) = expected.get(key) else {
            panic!("page {key} has no line in expected.jsonl");
        };
        scored += 1;
        let got = a.license.as_deref();
        let (ec, pc) = (class_label(want.as_deref()), class_label(got));
        *table.entry((ec, pc)).or_default() += 1;
        if want.is_some() {
            declared += 1;
            if want.as_deref() == got {
                exact += 1;
            }
        }
        if want.as_deref() != got {
            errors.push(format!("{key}: expected {want:?}, got {got:?}"));
        }
        if matches!(ec, "restricted" | "none") && pc == "open" {
            open_violations.push(key.clone());
        }
    }
    for k in expected.keys() {
        assert!(
            audits.iter().any(|(a, _)| a == k),
            "expected.jsonl lists {k}, which was not read"
        );
    }
    println!(
        "\nexpected \\ predicted  {}",
        classes.map(|c| format!("{c:>11}")).join("")
    );
    for e in classes {
        let row: String = classes
            .iter()
            .map(|p| format!("{:>11}", table.get(&(e, *p)).copied().unwrap_or(0)))
            .collect();
        println!("{e:<21}{row}");
    }
    println!(
        "\npages {scored}; declaring a licence {declared}; exact SPDX match {exact}/{declared} ({:.1}%)",
        100.0 * exact as f64 / declared.max(1) as f64
    );
    for e in &errors {
        println!("MISMATCH {e}");
    }
    assert!(declared >= 25, "too few licensed pages scored: {declared}");
    assert!(
        exact as f64 >= 0.98 * declared as f64,
        "exact SPDX match {exact}/{declared} below 98%"
    );
    assert!(
        open_violations.is_empty(),
        "classed open: {open_violations:?}"
    );
}

/// Independent of expected.jsonl: the kit's own markup labels (`expected_license_class`,
/// `rel_license_cc`) in html/index.jsonl must agree with what the audit decides.
#[test]
fn kit_markup_labels_agree() {
    let dir = data_dir();
    let index = std::fs::read_to_string(dir.join("html/index.jsonl")).unwrap();
    let mut checked = 0;
    for line in index.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let file = v["file"].as_str().unwrap();
        let label = v["expected_license_class"].as_str().unwrap();
        let body = std::fs::read(dir.join("html").join(file)).unwrap();
        let a = license::audit_bytes(&[], &body);
        let got = a.license.as_deref();
        if label.starts_with("cc_rel_license") {
            // The decided licence is the kit's first rel=license CC URL, normalised.
            let url = v["rel_license_cc"][0].as_str().unwrap();
            assert_eq!(got, spdx::from_url(url).as_deref(), "{file}");
            assert!(got.is_some_and(|l| l.starts_with("CC-")), "{file}: {got:?}");
        }
        if label == "cc_link_without_rel" || label.starts_with("none") {
            // A CC link without rel never decides the licence on its own.
            let chosen = license::detect::decide(&a.findings).map(|f| f.source);
            assert_ne!(chosen, Some(license::Source::CcLink), "{file}");
        }
        if label.starts_with("none_false_friend") || label == "meta_rights_not_cc" {
            let cc_meta = v["meta_rights"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m.as_str().unwrap().contains("creativecommons.org"));
            if !cc_meta {
                assert_eq!(got, Some(spdx::ALL_RIGHTS_RESERVED), "{file}");
            }
        }
        if label == "rel_license_not_cc" {
            assert!(
                a.findings
                    .iter()
                    .any(|f| f.source == license::Source::RelLicense && f.spdx == spdx::UNKNOWN),
                "{file}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 58);
}
