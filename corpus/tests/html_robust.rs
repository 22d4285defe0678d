//! Robustness of decode + extract: random bytes, garbage and truncated real pages never panic, and
//! pathological nesting finishes in bounded time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use quarry_corpus::html::{decode, extract, Extract};
use quarry_corpus::{Document, RawPayload, Step, Verdict};

fn step_on(body: Vec<u8>, ct: Option<&str>) -> (Verdict, Document) {
    let mut d = Document::new("x", "");
    d.url = Some("https://example.com/a".into());
    d.raw = Some(RawPayload {
        http_headers: ct
            .map(|c| vec![("content-type".into(), c.into())])
            .unwrap_or_default(),
        body: Arc::from(body),
    });
    let v = Extract::default().process(&mut d);
    (v, d)
}

fn allowed(v: &Verdict) -> bool {
    match v {
        Verdict::Keep => true,
        Verdict::Drop(r) => ["empty_text", "not_text", "extract_failed"].contains(&r.as_ref()),
    }
}

/// HTML-ish fragments, so random inputs reach the tree builder's corners, not only its text path.
fn htmlish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"<div>".to_vec()),
        Just(b"</div>".to_vec()),
        Just(b"<p>".to_vec()),
        Just(b"<table><tr><td>".to_vec()),
        Just(b"<li>".to_vec()),
        Just(b"<a href='".to_vec()),
        Just(b"<!--".to_vec()),
        Just(b"<script>".to_vec()),
        Just(b"<meta charset=gbk>".to_vec()),
        Just(b"&amp;&#x10FFFF;&#0;&bogus;".to_vec()),
        Just(b"<svg><math><template>".to_vec()),
        Just(
            "Größere Texte über Köln und 北京 的 文字. "
                .as_bytes()
                .to_vec()
        ),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let d = decode(&body, None);
        prop_assert!(!d.charset.is_empty());
        let (v, _) = step_on(body, Some("text/html"));
        prop_assert!(allowed(&v), "{:?}", v);
    }

    #[test]
    fn htmlish_garbage_never_panics_and_is_deterministic(body in htmlish(), ct in prop_oneof![
        Just(None), Just(Some("text/html; charset=euc-jp")), Just(Some("text/html; charset=utf-16")),
        Just(Some("text/plain"))]) {
        let (v1, d1) = step_on(body.clone(), ct);
        let (v2, d2) = step_on(body, ct);
        prop_assert!(allowed(&v1), "{:?}", v1);
        prop_assert_eq!(v1, v2);
        prop_assert_eq!(d1.text, d2.text);
    }
}

#[test]
fn truncated_real_pages_never_panic() {
    let dir = std::env::var_os("QUARRY_TEST_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data").into())
        .join("html");
    let mut n = 0;
    for name in [
        "zh_banyuetan.org.detail.html",
        "pl_rp.pl.unijne-fundusze.windows-1250.html",
        "en_blog.python.org.html",
    ] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        for cut in [
            1,
            7,
            100,
            1000,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len() - 3,
        ] {
            let (v, _) = step_on(bytes[..cut].to_vec(), None);
            assert!(allowed(&v), "{name}@{cut}: {v:?}");
            n += 1;
        }
    }
    assert_eq!(n, 21);
}

#[test]
fn deep_nesting_is_bounded() {
    for (open, close) in [
        ("<div>", "</div>"),
        ("<b><i>", "</i></b>"),
        ("<table><tr><td>", "</td></tr></table>"),
        ("<ul><li>", ""),
    ] {
        let depth = 5_000;
        let html = format!(
            "<html><body>{}Deep text here.{}</body></html>",
            open.repeat(depth),
            close.repeat(depth)
        );
        let t = Instant::now();
        let e = extract(&html, None);
        assert!(!e.failed, "{open}");
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{open}: {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn oversized_body_is_dropped_before_parsing() {
    let body = vec![b'a'; 8 * 1024 * 1024 + 1];
    let t = Instant::now();
    let (v, d) = step_on(body, Some("text/html"));
    assert_eq!(v, Verdict::drop("html_too_large"));
    assert!(d.raw.is_none());
    assert!(t.elapsed() < Duration::from_secs(1));
}
