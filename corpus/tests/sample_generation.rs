//! Properties of the synthetic sample crawl: determinism, distributions, charsets, sizes, HTTP form.

use std::collections::BTreeMap;

use quarry_corpus::sample::{
    generate, page, Lang, PageKind, SampleConfig, SamplePage, TruthWriter,
};
use sha2::{Digest, Sha256};

fn digest(pages: &[SamplePage]) -> String {
    let mut h = Sha256::new();
    for p in pages {
        h.update(p.url.as_bytes());
        h.update(p.date.as_bytes());
        h.update(p.http_response_bytes());
    }
    hex::encode(h.finalize())
}

fn sample(docs: usize, seed: u64) -> Vec<SamplePage> {
    generate(SampleConfig {
        docs,
        seed,
        ..Default::default()
    })
    .collect()
}

#[test]
fn same_seed_gives_identical_bytes_and_other_seeds_differ() {
    let a = sample(300, 42);
    let b = sample(300, 42);
    assert_eq!(digest(&a), digest(&b));
    let c = sample(300, 43);
    assert_ne!(digest(&a), digest(&c));
    // Not just a shifted stream: most pages of another seed differ.
    let same = a.iter().zip(&c).filter(|(x, y)| x.body == y.body).count();
    assert!(same < 10, "{same} identical bodies across seeds");
}

#[test]
fn pages_do_not_depend_on_thread_count_or_order() {
    let cfg = SampleConfig {
        docs: 200,
        seed: 5,
        ..Default::default()
    };
    let serial: Vec<SamplePage> = generate(cfg.clone()).collect();
    let parallel: Vec<SamplePage> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let cfg = &cfg;
                // Each thread generates an interleaved share, in reverse order.
                s.spawn(move || {
                    (0..200)
                        .rev()
                        .filter(|i| i % 4 == t)
                        .map(|i| page(cfg, i))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<SamplePage> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort_by_key(|p| p.index);
        all
    });
    assert_eq!(digest(&serial), digest(&parallel));
}

#[test]
fn a_longer_sample_starts_with_the_shorter_one() {
    let short = sample(50, 9);
    let long = sample(120, 9);
    assert_eq!(digest(&short), digest(&long[..50]));
}

#[test]
fn kinds_languages_and_rates_follow_the_config() {
    let cfg = SampleConfig {
        docs: 3000,
        seed: 1,
        ..Default::default()
    };
    let pages: Vec<SamplePage> = generate(cfg.clone()).collect();
    let n = pages.len() as f64;
    let mut kinds: BTreeMap<PageKind, usize> = BTreeMap::new();
    let mut langs: BTreeMap<String, usize> = BTreeMap::new();
    let mut markups: BTreeMap<String, usize> = BTreeMap::new();
    let mut charsets: BTreeMap<String, usize> = BTreeMap::new();
    let (mut dups, mut gz, mut noai, mut licensed) = (0, 0, 0, 0);
    for p in &pages {
        *kinds.entry(p.truth.kind).or_default() += 1;
        if let Some(l) = &p.truth.language {
            *langs.entry(l.clone()).or_default() += 1;
        }
        *markups.entry(p.truth.license_markup.clone()).or_default() += 1;
        if let Some(c) = &p.truth.charset {
            *charsets.entry(c.clone()).or_default() += 1;
        }
        dups += p.truth.near_dup_of.is_some() as usize;
        gz += (p.header("Content-Encoding") == Some("gzip")) as usize;
        noai += p.truth.noai as usize;
        licensed += p
            .truth
            .license
            .as_deref()
            .is_some_and(|l| l.starts_with("CC")) as usize;
        assert_eq!(p.truth.is_spam, p.truth.kind == PageKind::Spam);
    }
    eprintln!("kinds {kinds:?}\nlangs {langs:?}\nmarkups {markups:?}\ncharsets {charsets:?}");
    eprintln!("near-dups {dups} gzip {gz} noai {noai} cc-licensed {licensed}");
    for k in PageKind::ALL {
        assert!(kinds.get(&k).copied().unwrap_or(0) > 0, "no {k:?} page");
    }
    let dup_rate = dups as f64 / n;
    assert!(
        (cfg.near_dup_rate - 0.03..cfg.near_dup_rate + 0.03).contains(&dup_rate),
        "near-dup rate {dup_rate}"
    );
    let spam_rate = kinds[&PageKind::Spam] as f64 / n;
    assert!(
        (cfg.spam_rate - 0.02..cfg.spam_rate + 0.02).contains(&spam_rate),
        "spam rate {spam_rate}"
    );
    let with_lang: usize = langs.values().sum();
    let total_w: f64 = cfg.languages.iter().map(|(_, w)| w).sum();
    for (lang, w) in &cfg.languages {
        let got = langs.get(lang.code()).copied().unwrap_or(0) as f64 / with_lang as f64;
        let want = w / total_w;
        assert!((got - want).abs() < 0.04, "{lang:?}: {got:.3} vs {want:.3}");
    }
    for m in [
        "none",
        "rel_license_a",
        "rel_license_link",
        "cc_badge",
        "json_ld",
        "dc_rights",
        "cc_mention",
    ] {
        assert!(markups.contains_key(m), "no page with license markup {m}");
    }
    for c in ["utf-8", "windows-1252", "gbk", "shift_jis", "windows-1251"] {
        assert!(charsets.contains_key(c), "no page in {c}");
    }
    assert!(
        gz > 100 && noai > 50 && licensed > 200,
        "gzip {gz} noai {noai} licensed {licensed}"
    );
}

/// The charset a page declares: the `Content-Type` header first, then a `<meta>` in the head.
fn declared_charset(p: &SamplePage, body: &[u8]) -> Option<String> {
    let from = |s: &str| {
        let i = s.to_ascii_lowercase().find("charset=")?;
        let rest = s[i + 8..].trim_start_matches(['"', '\'']);
        let end = rest
            .find(|c: char| c == '"' || c == ';' || c == '>' || c.is_whitespace())
            .unwrap_or(rest.len());
        Some(rest[..end].trim_matches('"').to_string())
    };
    if let Some(cs) = p.header("Content-Type").and_then(from) {
        return Some(cs);
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).into_owned();
    from(&head)
}

#[test]
fn every_html_page_decodes_cleanly_from_its_declared_charset() {
    let pages = sample(1500, 77);
    let mut checked = 0;
    for p in &pages {
        let ct = p.header("Content-Type").unwrap_or("");
        assert_eq!(
            p.header("Content-Length").unwrap(),
            p.body.len().to_string()
        );
        if !ct.starts_with("text/html") || p.body.is_empty() {
            continue;
        }
        let body = p.decoded_body().expect("gzip body decodes");
        let label = declared_charset(p, &body).unwrap_or_else(|| "utf-8".into());
        let enc = encoding_rs::Encoding::for_label(label.as_bytes())
            .unwrap_or_else(|| panic!("unknown label {label}"));
        if p.http_status == 200 {
            let truth =
                encoding_rs::Encoding::for_label(p.truth.charset.as_deref().unwrap().as_bytes())
                    .unwrap();
            assert_eq!(
                enc, truth,
                "{}: declared {label}, written in {:?}",
                p.url, p.truth.charset
            );
        }
        let text = enc
            .decode_without_bom_handling_and_without_replacement(&body)
            .unwrap_or_else(|| panic!("{} does not decode as {label}", p.url));
        assert!(std::str::from_utf8(text.as_bytes()).is_ok());
        if p.http_status == 200 {
            assert!(text.contains("</html>"), "{} is cut", p.url);
            assert!(text.contains("<title>"));
        }
        checked += 1;
    }
    assert!(checked > 1000, "checked {checked}");
}

#[test]
fn html_pages_have_realistic_sizes_and_http_forms() {
    let pages = sample(1500, 8);
    let (mut min, mut max) = (usize::MAX, 0);
    for p in &pages {
        let body = p.decoded_body().unwrap();
        match p.truth.kind {
            PageKind::Binary => {
                let ct = p.header("Content-Type").unwrap();
                assert!(ct == "image/png" || ct == "application/pdf", "{ct}");
                assert!(body.starts_with(b"\x89PNG") || body.starts_with(b"%PDF-"));
            }
            PageKind::Redirect => {
                assert!((301..=308).contains(&p.http_status));
                assert!(p.header("Location").unwrap().starts_with("http"));
            }
            PageKind::NotFound => assert_eq!(p.http_status, 404),
            _ => {
                assert_eq!(p.http_status, 200);
                min = min.min(body.len());
                max = max.max(body.len());
                assert!(
                    (1024..=50 * 1024).contains(&body.len()),
                    "{} is {} bytes",
                    p.url,
                    body.len()
                );
            }
        }
        assert!(p.url.starts_with("http://") || p.url.starts_with("https://"));
        let host = p.url.split('/').nth(2).unwrap();
        assert!(
            host.ends_with(".example") || host.contains(".example."),
            "{host}"
        );
        assert!(p.date.ends_with('Z') && p.date.len() == 20, "{}", p.date);
    }
    eprintln!("HTML page sizes: {min}..{max} bytes");
    let urls: std::collections::HashSet<&str> = pages.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(urls.len(), pages.len(), "URLs are unique");
}

/// Visible text lines of an HTML page: scripts and styles dropped, block tags turned into newlines.
fn visible_lines(html: &str) -> Vec<String> {
    let mut text = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        text.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after.find('>').map_or(after.len(), |e| e + 1);
        let tag = after[..end].to_ascii_lowercase();
        let name: String = tag[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect();
        rest = &after[end..];
        if name == "script" || name == "style" {
            let close = format!("</{name}>");
            let e = rest.find(&close).map_or(rest.len(), |e| e + close.len());
            rest = &rest[e..];
            continue;
        }
        let bare = name.trim_start_matches('/');
        if [
            "br",
            "p",
            "li",
            "div",
            "h1",
            "h2",
            "h3",
            "h4",
            "tr",
            "ul",
            "ol",
            "td",
            "header",
            "footer",
            "nav",
            "blockquote",
        ]
        .contains(&bare)
        {
            text.push('\n');
        }
    }
    text.push_str(rest);
    text.lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Gopher-style repetition measures: share of lines that repeat an earlier line, and share of
/// characters covered by the most frequent word bigram.
fn repetition(lines: &[String]) -> (f64, f64) {
    let mut seen = std::collections::HashSet::new();
    let dup = lines.iter().filter(|l| !seen.insert(l.as_str())).count() as f64
        / lines.len().max(1) as f64;
    let words: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
    let mut counts: std::collections::HashMap<(&str, &str), usize> =
        std::collections::HashMap::new();
    for w in words.windows(2) {
        *counts.entry((w[0], w[1])).or_default() += 1;
    }
    let total: usize = words.iter().map(|w| w.chars().count()).sum();
    let top = counts
        .iter()
        .map(|((a, b), n)| (a.chars().count() + b.chars().count()) * n)
        .max()
        .unwrap_or(0);
    (dup, top as f64 / total.max(1) as f64)
}

#[test]
fn english_articles_pass_gopher_style_rules_and_spam_does_not() {
    let cfg = SampleConfig {
        docs: 1000,
        seed: 21,
        languages: vec![(Lang::En, 1.0)],
        ..Default::default()
    };
    let stop = ["the", "be", "to", "of", "and", "that", "have", "with"];
    let (mut articles, mut spam, mut spam_flagged) = (0, 0, 0);
    for p in generate(cfg) {
        if p.truth.kind == PageKind::Binary {
            continue;
        }
        let html = String::from_utf8_lossy(&p.decoded_body().unwrap()).into_owned();
        let lines = visible_lines(&html);
        let (dup, top2) = repetition(&lines);
        if p.truth.kind == PageKind::Article && p.truth.near_dup_of.is_none() {
            let words: Vec<String> = lines
                .iter()
                .flat_map(|l| l.split_whitespace())
                .map(|w| w.to_lowercase())
                .collect();
            let n_stop = words.iter().filter(|w| stop.contains(&w.as_str())).count();
            assert!(words.len() >= 80, "{}: {} words", p.url, words.len());
            assert!(n_stop >= 2, "{}", p.url);
            let mean =
                words.iter().map(|w| w.chars().count()).sum::<usize>() as f64 / words.len() as f64;
            assert!((3.0..10.0).contains(&mean), "mean word length {mean}");
            assert!(
                dup < 0.3 && top2 < 0.2,
                "{}: dup lines {dup:.2}, top bigram {top2:.2}",
                p.url
            );
            articles += 1;
        }
        if p.truth.is_spam {
            spam += 1;
            spam_flagged += (dup > 0.3 || top2 > 0.2) as usize;
        }
    }
    assert!(
        articles > 100 && spam > 30,
        "{articles} articles, {spam} spam"
    );
    assert!(
        spam_flagged * 10 >= spam * 9,
        "only {spam_flagged}/{spam} spam pages are repetitive"
    );
}

#[test]
fn truth_writer_writes_one_line_per_page() {
    let pages = sample(100, 2);
    let mut w = TruthWriter::new(Vec::new());
    for p in &pages {
        w.write(p).unwrap();
    }
    let text = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(text.lines().count(), 100);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    for key in [
        "url",
        "kind",
        "language",
        "license",
        "near_dup_of",
        "is_spam",
    ] {
        assert!(first.get(key).is_some(), "missing {key}");
    }
}

/// Writes a sample to `$QUARRY_SAMPLE_DUMP` for inspection with other tools: one `<index>.http`
/// file per page (the WARC response block) plus `truth.jsonl` and `pages.tsv` (index, url, date).
#[test]
#[ignore = "writes files; run with QUARRY_SAMPLE_DUMP=dir [QUARRY_SAMPLE_DOCS=n] -- --ignored"]
fn dump_sample_for_inspection() {
    let Ok(dir) = std::env::var("QUARRY_SAMPLE_DUMP") else {
        return;
    };
    let docs = std::env::var("QUARRY_SAMPLE_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut truth = TruthWriter::new(std::fs::File::create(dir.join("truth.jsonl")).unwrap());
    let mut tsv = String::new();
    for p in generate(SampleConfig {
        docs,
        seed: 0,
        ..Default::default()
    }) {
        std::fs::write(
            dir.join(format!("{}.http", p.index)),
            p.http_response_bytes(),
        )
        .unwrap();
        truth.write(&p).unwrap();
        tsv.push_str(&format!("{}\t{}\t{}\n", p.index, p.url, p.date));
    }
    truth.finish().unwrap();
    std::fs::write(dir.join("pages.tsv"), tsv).unwrap();
}
