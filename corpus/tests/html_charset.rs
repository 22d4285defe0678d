//! Charset handling on real pages: legacy encodings come out as correct text (specific words of each
//! page), and the traps of the test-data kit (README §5) are handled.
//!
//! The GBK/GB2312 and windows-1251 pages live in the real Common Crawl WARC of the kit, the EUC-JP
//! ones in the ClueWeb09 WARC; the WARC reader belongs to another module, so [`http_bodies`] pulls the
//! HTTP responses out of the decompressed records with a few lines, just for this test.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use quarry_corpus::html::{decode, extract, CharsetSource, Extract};
use quarry_corpus::{Document, RawPayload, Step, Verdict};

fn data_dir() -> PathBuf {
    let p = std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    assert!(
        p.join("html").exists(),
        "test data not found at {} (set QUARRY_TEST_DATA)",
        p.display()
    );
    p
}

fn page(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join("html").join(name)).unwrap()
}

/// Decodes and extracts a page file; returns (charset, source, decoded html, extracted text).
fn run(name: &str) -> (&'static str, CharsetSource, String, String) {
    let d = decode(&page(name), None);
    let e = extract(&d.text, None);
    (d.charset, d.source, d.text, e.text)
}

#[test]
fn iso_8859_1_page() {
    let (cs, src, html, text) = run("de_cdu-fraktion-erfurt.de.waldorfschule.iso-8859-1.html");
    assert_eq!((cs, src), ("windows-1252", CharsetSource::MetaTag));
    assert!(html.contains("Geschäftsstelle") && html.contains("Ausschüsse"));
    assert!(
        text.contains("der steigenden Nachfrage gerecht zu werden."),
        "{text}"
    );
    assert!(!text.contains('\u{FFFD}'));
}

#[test]
fn windows_1250_page() {
    let (cs, src, _html, text) = run("pl_rp.pl.unijne-fundusze.windows-1250.html");
    assert_eq!((cs, src), ("windows-1250", CharsetSource::MetaTag));
    for w in [
        "Ciężar dyskusji przeniesie",
        "Na lepszą konkurencyjność gospodarki",
        "się",
        "pieniądze",
    ] {
        assert!(text.contains(w), "missing {w:?} in {text}");
    }
    assert!(!text.contains('\u{FFFD}'));
}

#[test]
fn no_charset_page_is_detected_as_western() {
    // Declares nothing before byte 58,128 (where a stray `<meta http-equiv>` says iso-8859-1) and
    // holds a `charset=utf-8` inside a script, which must not count.
    let (cs, _src, _html, text) = run("de_nmb-media.de.ebay.no-charset.html");
    assert_eq!(cs, "windows-1252");
    assert!(
        text.contains("Aus datenschutzrechtlichen Gründen wird"),
        "{text}"
    );
    assert!(!text.contains('\u{FFFD}'));
}

#[test]
fn utf8_page_with_stray_latin1_bytes_stays_utf8() {
    let d = decode(&page("de_der-erfolg-gibt-recht.de.rinderleber.html"), None);
    assert_eq!((d.charset, d.source), ("utf-8", CharsetSource::MetaTag));
    // Exactly the three Latin-1 'ü' bytes in alt/title attributes are replaced; the text is intact.
    assert_eq!(d.replacements, 3);
    let text = extract(&d.text, None).text;
    for w in ["So schön winterlich ist es wie", "Gemüsebrühe", "Olivenöl"] {
        assert!(text.contains(w), "missing {w:?}");
    }
}

#[test]
fn windows_1252_declared_ascii_page() {
    let bytes = page("en_wordsmith.org.maudlin.html");
    let d = decode(&bytes, None);
    assert_eq!(
        (d.charset, d.source),
        ("windows-1252", CharsetSource::MetaTag)
    );
    assert_eq!(d.text.as_bytes(), &bytes[..], "ASCII must decode to itself");
    assert!(extract(&d.text, None)
        .text
        .contains("adjective: Overly sentimental"));
}

#[test]
fn every_kit_page_decodes_without_replacement_except_the_known_one() {
    let dir = data_dir().join("html");
    for l in std::fs::read_to_string(dir.join("index.jsonl"))
        .unwrap()
        .lines()
    {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let f = v["file"].as_str().unwrap();
        let d = decode(&std::fs::read(dir.join(f)).unwrap(), None);
        let expected = if f.starts_with("de_der-erfolg") { 3 } else { 0 };
        assert_eq!(d.replacements, expected, "{f} decoded as {}", d.charset);
    }
}

/// (target URI, HTTP headers, HTTP body) of one WARC `response` record.
type Response = (String, Vec<(String, String)>, Vec<u8>);

/// Every `response` record of a gzipped WARC.
fn http_bodies(path: &str) -> Vec<Response> {
    let mut data = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(data_dir().join(path)).unwrap())
        .read_to_end(&mut data)
        .unwrap();
    let find =
        |hay: &[u8], n: &[u8], from: usize| memchr::memmem::find(&hay[from..], n).map(|p| p + from);
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(start) = find(&data, b"WARC/", i) {
        let hdr_end = find(&data, b"\r\n\r\n", start).unwrap();
        let hdr = String::from_utf8_lossy(&data[start..hdr_end]).to_string();
        let field = |name: &str| {
            hdr.lines().find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_string())
            })
        };
        let len: usize = field("Content-Length").unwrap().parse().unwrap();
        let block = &data[hdr_end + 4..hdr_end + 4 + len];
        i = hdr_end + 4 + len;
        if field("WARC-Type").as_deref() != Some("response") {
            continue;
        }
        // ClueWeb09 uses bare LF in its HTTP headers: take whichever blank line comes first.
        let crlf = find(block, b"\r\n\r\n", 0).map(|p| (p, 4));
        let lf = find(block, b"\n\n", 0).map(|p| (p, 2));
        let (sep, sep_len) = match (crlf, lf) {
            (Some(a), Some(b)) => {
                if a.0 <= b.0 {
                    a
                } else {
                    b
                }
            }
            (a, b) => a.or(b).unwrap(),
        };
        let headers = String::from_utf8_lossy(&block[..sep])
            .lines()
            .skip(1)
            .filter_map(|l| {
                l.split_once(':')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            })
            .collect();
        out.push((
            field("WARC-Target-URI").unwrap_or_default(),
            headers,
            block[sep + sep_len..].to_vec(),
        ));
    }
    out
}

/// Runs the `extract` step on a WARC response and returns (charset, text + title).
fn step_on(uri: &str, headers: Vec<(String, String)>, body: Vec<u8>) -> (String, String) {
    let mut d = Document::new("t", "");
    d.url = Some(uri.to_string());
    d.raw = Some(RawPayload {
        http_headers: headers,
        body: Arc::from(body),
    });
    let v = Extract::default().process(&mut d);
    let title = d
        .meta("title")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_string();
    assert!(
        v == Verdict::Keep || v == Verdict::drop("empty_text"),
        "{uri}: {v:?}"
    );
    (
        d.charset.unwrap_or_default(),
        format!("{title}\n{}", d.text),
    )
}

#[test]
fn gbk_gb2312_and_windows_1251_pages_from_the_common_crawl_warc() {
    let recs = http_bodies("warc/commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz");
    assert_eq!(recs.len(), 16);
    let get = |u: &str| recs.iter().find(|r| r.0 == u).cloned().unwrap();
    let cases: [(&str, &str, &[&str]); 3] = [
        // HTTP header says gb2312 (decoded as GBK, its WHATWG superset).
        (
            "http://037426.cn/",
            "gbk",
            &["含羞草视频独家共享", "KUNSHAN STANLEY TRADING"],
        ),
        // No HTTP charset; `<meta>` says gbk.
        (
            "http://041696.com/15477/list_6_4.html",
            "gbk",
            &["上海特舟实业有限公司", "耐磨板特价销售"],
        ),
        (
            "http://01spb.ru/company/",
            "windows-1251",
            &["Стратегия пожарной безопасности"],
        ),
    ];
    for (uri, cs, words) in cases {
        let (u, h, b) = get(uri);
        let (charset, text) = step_on(&u, h, b);
        assert_eq!(charset, cs, "{uri}");
        for w in words {
            assert!(text.contains(w), "{uri}: missing {w:?} in {text}");
        }
        assert!(!text.contains('\u{FFFD}'), "{uri}");
    }
    // Every HTML response of the file decodes cleanly with its header/meta/detected charset.
    for (u, h, b) in &recs {
        let ct = h
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        let d = decode(b, ct);
        assert_eq!(d.replacements, 0, "{u}: {}", d.charset);
    }
}

#[test]
fn euc_jp_pages_from_the_clueweb09_warc() {
    let recs = http_bodies("warc/other/resiliparse_clueweb09-ja-quirk.warc.gz");
    assert_eq!(recs.len(), 29);
    let (u, h, b) = recs
        .iter()
        .find(|r| r.0 == "http://www.uraharajuku.st/shopdetail/001005000005/019/000/order/")
        .cloned()
        .unwrap();
    let (charset, text) = step_on(&u, h, b);
    assert_eq!(charset, "euc-jp");
    for w in [
        "ブリーフケース",
        "ヘッドポーター",
        "ビジネスバッグとしてもおすすめ",
    ] {
        assert!(text.contains(w), "missing {w:?} in {text}");
    }
    assert!(!text.contains('\u{FFFD}'));
    for (u, h, b) in &recs {
        let ct = h
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        let d = decode(b, ct);
        assert_eq!((d.charset, d.replacements), ("euc-jp", 0), "{u}");
        assert!(d.text.contains("ヘッドポーター"), "{u}");
        // Without the header, the `<meta>` prescan or detection must still find EUC-JP.
        assert_eq!(decode(b, None).charset, "euc-jp", "{u}");
    }
}
