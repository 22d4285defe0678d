//! Bytes → text: finding a page's character encoding and decoding it.
//!
//! Order of evidence (first that answers wins):
//! 1. a byte-order mark (UTF-8, UTF-16LE/BE). The WHATWG encoding standard puts the BOM *before* the
//!    HTTP header, and browsers obey it, because a BOM is near-certain evidence while headers are often
//!    set server-wide and wrong;
//! 2. the HTTP `Content-Type` `charset` parameter;
//! 3. a `<meta charset>` or `<meta http-equiv="Content-Type" content="...; charset=...">` in the
//!    document (a prescan that skips comments, scripts and styles, over the first [`META_SCAN_BYTES`]);
//! 4. detection: valid UTF-8 is UTF-8, anything else goes to `chardetng` (Firefox's detector).
//!
//! Labels are resolved with the WHATWG rules (`encoding_rs::Encoding::for_label`), so `iso-8859-1` and
//! `ascii` decode as windows-1252 and `gb2312` as GBK, as in every browser.
//!
//! Two sanity checks correct the commonest wrong declarations found in crawls:
//! * a page that *declares* a legacy single- or multi-byte charset but whose bytes are valid UTF-8
//!   with non-ASCII sequences is UTF-8 (a legacy text is practically never valid UTF-8 by chance);
//! * a page that declares UTF-8 but has invalid bytes and *no* valid multi-byte sequence at all is a
//!   legacy page with a wrong label, so it goes to detection. A few stray invalid bytes in an otherwise
//!   UTF-8 page (a Latin-1 `alt` text pasted into a UTF-8 template) keep UTF-8 and become U+FFFD.

use encoding_rs::Encoding;

/// How many leading bytes the `<meta>` prescan looks at. Browsers stop at 1024 bytes, but real pages
/// put kilobytes of inline script before their `<meta>` (one test page declares its charset at byte
/// 58,128), and scanning tags only, not text, keeps false hits away.
pub const META_SCAN_BYTES: usize = 64 * 1024;

/// Where the encoding of a [`Decoded`] page came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharsetSource {
    /// A byte-order mark at the start of the body.
    Bom,
    /// The `charset` parameter of the HTTP `Content-Type` header.
    HttpHeader,
    /// A `<meta charset>` or `<meta http-equiv="Content-Type">` in the document.
    MetaTag,
    /// The bytes were valid UTF-8 with non-ASCII text although a legacy charset was declared.
    ValidUtf8,
    /// No usable declaration: valid UTF-8, or `chardetng`'s guess.
    Detected,
}

impl CharsetSource {
    /// Short stable name for metadata and stats (`bom`, `http`, `meta`, `valid_utf8`, `detected`).
    pub fn as_str(self) -> &'static str {
        match self {
            CharsetSource::Bom => "bom",
            CharsetSource::HttpHeader => "http",
            CharsetSource::MetaTag => "meta",
            CharsetSource::ValidUtf8 => "valid_utf8",
            CharsetSource::Detected => "detected",
        }
    }
}

/// A decoded page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The page as text (BOM removed; undecodable bytes replaced by U+FFFD).
    pub text: String,
    /// The encoding's lower-case WHATWG name: `utf-8`, `windows-1252`, `gbk`, `euc-jp`, ...
    pub charset: &'static str,
    /// Where the encoding came from.
    pub source: CharsetSource,
    /// How many U+FFFD replacement characters decoding inserted (0 for a clean decode).
    pub replacements: usize,
}

/// Decodes an HTML body given the HTTP `Content-Type` header value, if any.
///
/// Never fails: every byte string decodes to *some* text (undecodable bytes become U+FFFD).
pub fn decode(body: &[u8], http_content_type: Option<&str>) -> Decoded {
    decode_with_url(body, http_content_type, None)
}

/// Like [`decode`], with the page URL as a hint for detection: its top-level domain tells `chardetng`
/// which legacy encodings are likely (`.jp` → Shift_JIS/EUC-JP, `.ru` → windows-1251, ...).
pub fn decode_with_url(body: &[u8], http_content_type: Option<&str>, url: Option<&str>) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        return finish(&body[bom_len..], enc, CharsetSource::Bom);
    }
    let declared = http_content_type
        .and_then(charset_from_content_type)
        // A UTF-16 label on a body without NULs is a wrong header (UTF-16 text of markup is half NULs).
        .filter(|e| !is_utf16(e) || body.iter().take(1024).any(|&b| b == 0))
        .map(|e| (e, CharsetSource::HttpHeader))
        .or_else(|| prescan_meta(body).map(|e| (e, CharsetSource::MetaTag)));

    match declared {
        Some((enc, source)) if enc == encoding_rs::UTF_8 => match utf8_health(body) {
            // Stray bad bytes in a UTF-8 page: keep UTF-8; garbage everywhere: the label lies.
            Utf8Health::Valid | Utf8Health::Mostly => finish(body, enc, source),
            Utf8Health::NoMultibyte => detect(body, url),
        },
        Some((enc, source)) => {
            if !is_utf16(enc) && utf8_health(body) == Utf8Health::Valid && !body.is_ascii() {
                finish(body, encoding_rs::UTF_8, CharsetSource::ValidUtf8)
            } else {
                finish(body, enc, source)
            }
        }
        None => detect(body, url),
    }
}

fn is_utf16(e: &'static Encoding) -> bool {
    e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE
}

fn detect(body: &[u8], url: Option<&str>) -> Decoded {
    if std::str::from_utf8(body).is_ok() {
        return finish(body, encoding_rs::UTF_8, CharsetSource::Detected);
    }
    let mut det = chardetng::EncodingDetector::new();
    det.feed(body, true);
    let tld = url.and_then(url_tld);
    let enc = det.guess(tld.as_deref().map(str::as_bytes), false);
    finish(body, enc, CharsetSource::Detected)
}

/// The top-level domain of a URL, lower-cased (`https://www.rp.pl/x` → `pl`), if it has one.
fn url_tld(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?;
    let tld = host.trim_end_matches('.').rsplit('.').next()?;
    (!tld.is_empty() && tld.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| tld.to_ascii_lowercase())
}

fn finish(body: &[u8], enc: &'static Encoding, source: CharsetSource) -> Decoded {
    let (text, had_errors) = enc.decode_without_bom_handling(body);
    let replacements = if had_errors {
        text.chars().filter(|&c| c == '\u{FFFD}').count()
    } else {
        0
    };
    Decoded {
        text: text.into_owned(),
        charset: lower_name(enc),
        source,
        replacements,
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Utf8Health {
    /// Valid UTF-8 (maybe pure ASCII).
    Valid,
    /// Invalid bytes, but also valid multi-byte sequences: a UTF-8 page with some damage.
    Mostly,
    /// Invalid bytes and not one valid multi-byte sequence: not UTF-8.
    NoMultibyte,
}

fn utf8_health(body: &[u8]) -> Utf8Health {
    if std::str::from_utf8(body).is_ok() {
        return Utf8Health::Valid;
    }
    let mut rest = body;
    let mut multibyte = 0usize;
    let mut invalid = 0usize;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                multibyte += s.bytes().filter(|b| b & 0xC0 == 0xC0).count();
                break;
            }
            Err(e) => {
                let (good, after) = rest.split_at(e.valid_up_to());
                multibyte += good.iter().filter(|&&b| b & 0xC0 == 0xC0).count();
                invalid += 1;
                let skip = e.error_len().unwrap_or(after.len()).max(1);
                rest = &after[skip.min(after.len())..];
                if rest.is_empty() {
                    break;
                }
            }
        }
    }
    // One good sequence per ten bad ones is the least we accept as "a UTF-8 page with damage".
    if multibyte > 0 && multibyte * 10 >= invalid {
        Utf8Health::Mostly
    } else {
        Utf8Health::NoMultibyte
    }
}

/// The encoding named by the `charset` parameter of a `Content-Type` value, per WHATWG label rules.
pub fn charset_from_content_type(ct: &str) -> Option<&'static Encoding> {
    let lower = ct.to_ascii_lowercase();
    let at = lower.find("charset")?;
    let rest = lower[at + "charset".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let value = if let Some(q) = rest.strip_prefix(['"', '\'']) {
        q.split(['"', '\'']).next().unwrap_or("")
    } else {
        rest.split([';', ',', ' ', '\t']).next().unwrap_or("")
    };
    let enc = Encoding::for_label(value.trim().as_bytes())?;
    Some(meta_override(enc))
}

/// WHATWG "prescan a byte stream": a declared UTF-16 in a document we are already reading as
/// ASCII-compatible bytes means UTF-8, and `x-user-defined` means windows-1252.
fn meta_override(enc: &'static Encoding) -> &'static Encoding {
    if enc == encoding_rs::X_USER_DEFINED {
        encoding_rs::WINDOWS_1252
    } else {
        enc
    }
}

/// Finds the encoding declared by a `<meta>` tag in the first [`META_SCAN_BYTES`] of `body`,
/// skipping comments and the contents of `<script>`/`<style>` (where `charset=` strings are common).
pub fn prescan_meta(body: &[u8]) -> Option<&'static Encoding> {
    let buf = &body[..body.len().min(META_SCAN_BYTES)];
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &buf[i..]) {
        i += off;
        let rest = &buf[i..];
        if rest.starts_with(b"<!--") {
            i += find(rest, b"-->").map_or(rest.len(), |p| p + 3);
            continue;
        }
        let name_end = rest[1..]
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'>' || *b == b'/')
            .map_or(rest.len(), |p| p + 1);
        let name = rest[1..name_end].to_ascii_lowercase();
        let tag_end = find(rest, b">").map_or(rest.len(), |p| p + 1);
        match name.as_slice() {
            b"meta" => {
                if let Some(enc) = meta_charset(&rest[name_end..tag_end]) {
                    let enc = meta_override(enc);
                    return Some(if is_utf16(enc) {
                        encoding_rs::UTF_8
                    } else {
                        enc
                    });
                }
                i += tag_end;
            }
            b"script" | b"style" => {
                let close: &[u8] = if name == b"script" {
                    b"</script"
                } else {
                    b"</style"
                };
                i += find_ci(rest, close).map_or(rest.len(), |p| p + close.len());
            }
            b"body" => return None,
            _ => i += 1,
        }
    }
    None
}

fn meta_charset(attrs: &[u8]) -> Option<&'static Encoding> {
    let attrs = parse_attrs(attrs);
    let get = |n: &str| attrs.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    if let Some(cs) = get("charset") {
        return Encoding::for_label(cs.trim().as_bytes());
    }
    if get("http-equiv").is_some_and(|v| v.trim().eq_ignore_ascii_case("content-type")) {
        return get("content").and_then(charset_from_content_type);
    }
    None
}

/// A lenient attribute parser for one tag's attribute text: `name=value`, `name="v"`, `name='v'`, bare
/// `name`. Names are lower-cased.
fn parse_attrs(s: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = s.len();
    while i < n {
        while i < n && (s[i].is_ascii_whitespace() || s[i] == b'/' || s[i] == b'>') {
            i += 1;
        }
        let start = i;
        while i < n && !s[i].is_ascii_whitespace() && s[i] != b'=' && s[i] != b'>' && s[i] != b'/' {
            i += 1;
        }
        if i == start {
            i += 1;
            continue;
        }
        let name = String::from_utf8_lossy(&s[start..i]).to_ascii_lowercase();
        while i < n && s[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < n && s[i] == b'=' {
            i += 1;
            while i < n && s[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < n && (s[i] == b'"' || s[i] == b'\'') {
                let q = s[i];
                i += 1;
                let vs = i;
                while i < n && s[i] != q {
                    i += 1;
                }
                value = String::from_utf8_lossy(&s[vs..i]).into_owned();
                i += 1;
            } else {
                let vs = i;
                while i < n && !s[i].is_ascii_whitespace() && s[i] != b'>' {
                    i += 1;
                }
                value = String::from_utf8_lossy(&s[vs..i]).into_owned();
            }
        }
        out.push((name, value));
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn find_ci(hay: &[u8], needle_lower: &[u8]) -> Option<usize> {
    let first = needle_lower[0];
    let mut i = 0;
    while let Some(off) = memchr::memchr(first, &hay[i..]) {
        let p = i + off;
        if hay.len() >= p + needle_lower.len()
            && hay[p..p + needle_lower.len()].eq_ignore_ascii_case(needle_lower)
        {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

/// The lower-case WHATWG name of an encoding, as a static string (what [`Decoded::charset`] holds).
pub fn lower_name(enc: &'static Encoding) -> &'static str {
    use encoding_rs::*;
    const TABLE: &[(&Encoding, &str)] = &[
        (UTF_8, "utf-8"),
        (WINDOWS_1252, "windows-1252"),
        (WINDOWS_1250, "windows-1250"),
        (WINDOWS_1251, "windows-1251"),
        (WINDOWS_1253, "windows-1253"),
        (WINDOWS_1254, "windows-1254"),
        (WINDOWS_1255, "windows-1255"),
        (WINDOWS_1256, "windows-1256"),
        (WINDOWS_1257, "windows-1257"),
        (WINDOWS_1258, "windows-1258"),
        (WINDOWS_874, "windows-874"),
        (GBK, "gbk"),
        (GB18030, "gb18030"),
        (BIG5, "big5"),
        (EUC_JP, "euc-jp"),
        (ISO_2022_JP, "iso-2022-jp"),
        (SHIFT_JIS, "shift_jis"),
        (EUC_KR, "euc-kr"),
        (UTF_16LE, "utf-16le"),
        (UTF_16BE, "utf-16be"),
        (IBM866, "ibm866"),
        (ISO_8859_2, "iso-8859-2"),
        (ISO_8859_3, "iso-8859-3"),
        (ISO_8859_4, "iso-8859-4"),
        (ISO_8859_5, "iso-8859-5"),
        (ISO_8859_6, "iso-8859-6"),
        (ISO_8859_7, "iso-8859-7"),
        (ISO_8859_8, "iso-8859-8"),
        (ISO_8859_8_I, "iso-8859-8-i"),
        (ISO_8859_10, "iso-8859-10"),
        (ISO_8859_13, "iso-8859-13"),
        (ISO_8859_14, "iso-8859-14"),
        (ISO_8859_15, "iso-8859-15"),
        (ISO_8859_16, "iso-8859-16"),
        (KOI8_R, "koi8-r"),
        (KOI8_U, "koi8-u"),
        (MACINTOSH, "macintosh"),
        (X_MAC_CYRILLIC, "x-mac-cyrillic"),
        (X_USER_DEFINED, "x-user-defined"),
        (REPLACEMENT, "replacement"),
    ];
    TABLE
        .iter()
        .find(|(e, _)| *e == enc)
        .map(|(_, n)| *n)
        .unwrap_or("utf-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_beats_header_and_meta() {
        let mut body = vec![0xEF, 0xBB, 0xBF];
        body.extend_from_slice("<meta charset=windows-1251><p>ü</p>".as_bytes());
        let d = decode(&body, Some("text/html; charset=iso-8859-1"));
        assert_eq!((d.charset, d.source), ("utf-8", CharsetSource::Bom));
        assert!(d.text.starts_with("<meta") && d.text.contains('ü'));
    }

    #[test]
    fn header_then_meta_then_detection() {
        let body = b"<meta charset=windows-1251><p>\xcf\xf0\xe8\xe2\xe5\xf2</p>";
        let d = decode(body, Some("text/html; charset=KOI8-R"));
        assert_eq!((d.charset, d.source), ("koi8-r", CharsetSource::HttpHeader));
        let d = decode(body, Some("text/html"));
        assert_eq!(
            (d.charset, d.source),
            ("windows-1251", CharsetSource::MetaTag)
        );
        assert!(d.text.contains("Привет"));
        let d = decode(b"<p>plain ascii</p>", None);
        assert_eq!((d.charset, d.source), ("utf-8", CharsetSource::Detected));
    }

    #[test]
    fn whatwg_label_rules() {
        assert_eq!(
            charset_from_content_type("text/html; charset=ISO-8859-1").map(lower_name),
            Some("windows-1252")
        );
        assert_eq!(
            charset_from_content_type("text/html;charset=\"gb2312\"").map(lower_name),
            Some("gbk")
        );
        assert_eq!(
            charset_from_content_type("text/html; charset = 'utf8'").map(lower_name),
            Some("utf-8")
        );
        assert_eq!(
            charset_from_content_type("text/html; charset=bogus-thing"),
            None
        );
        assert_eq!(charset_from_content_type("text/html"), None);
    }

    #[test]
    fn meta_prescan_skips_scripts_and_comments() {
        let body = b"<html><head><script>var s='<meta charset=koi8-r>'; // charset=utf-8</script>\
            <!-- <meta charset=big5> --><meta\nhttp-equiv=\"content-type\" content=\"text/html; charset=iso-8859-2\">";
        assert_eq!(prescan_meta(body).map(lower_name), Some("iso-8859-2"));
        assert_eq!(
            prescan_meta(b"<meta charset=\"utf-16le\">").map(lower_name),
            Some("utf-8")
        );
        assert_eq!(prescan_meta(b"<body><meta charset=big5>"), None);
        assert_eq!(
            prescan_meta(b"<meta name=x content=y><meta charset='euc-jp'>").map(lower_name),
            Some("euc-jp")
        );
    }

    #[test]
    fn valid_utf8_overrides_a_legacy_label() {
        let body = "<meta charset=iso-8859-1><p>Grüße aus Köln</p>".as_bytes();
        let d = decode(body, None);
        assert_eq!((d.charset, d.source), ("utf-8", CharsetSource::ValidUtf8));
        assert!(d.text.contains("Grüße"));
        // Pure ASCII keeps its (harmless) label.
        let d = decode(b"<meta charset=windows-1252><p>plain</p>", None);
        assert_eq!(
            (d.charset, d.source),
            ("windows-1252", CharsetSource::MetaTag)
        );
    }

    #[test]
    fn utf8_label_with_stray_bytes_stays_utf8_but_garbage_goes_to_detection() {
        let mut body = "<meta charset=utf-8><p>Grüße schön</p><img alt=\"K"
            .as_bytes()
            .to_vec();
        body.extend_from_slice(b"\xfcchen\">");
        let d = decode(&body, None);
        assert_eq!((d.charset, d.replacements), ("utf-8", 1));
        assert!(d.text.contains("Grüße schön"));
        let body = b"<meta charset=utf-8><p>Gr\xfc\xdfe aus K\xf6ln, sch\xf6ne Gr\xfc\xdfe</p>";
        let d = decode(body, None);
        assert_eq!(d.source, CharsetSource::Detected);
        assert!(d.text.contains("Grüße aus Köln"), "{}", d.text);
    }

    #[test]
    fn undeclared_legacy_bytes_are_detected() {
        let body = "<p>Съешь же ещё этих мягких французских булок, да выпей чаю. Широкая электрификация южных губерний даст мощный толчок подъёму сельского хозяйства.</p>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(body);
        let d = decode_with_url(&bytes, None, Some("http://example.ru/x"));
        assert_eq!(
            (d.charset, d.source),
            ("windows-1251", CharsetSource::Detected)
        );
        assert_eq!(d.text, body);
    }

    #[test]
    fn utf16_header_on_ascii_body_is_ignored() {
        let d = decode(b"<p>hello</p>", Some("text/html; charset=utf-16"));
        assert_eq!(d.charset, "utf-8");
        assert_eq!(d.text, "<p>hello</p>");
    }

    #[test]
    fn tld_parsing() {
        assert_eq!(
            url_tld("https://user@www.rp.pl:8080/a?b").as_deref(),
            Some("pl")
        );
        assert_eq!(url_tld("http://127.0.0.1/").as_deref(), None);
        assert_eq!(url_tld("").as_deref(), None);
    }

    #[test]
    fn every_encoding_has_a_lower_case_name() {
        for label in [
            "utf-8",
            "gbk",
            "euc-jp",
            "shift_jis",
            "big5",
            "euc-kr",
            "windows-1250",
            "koi8-u",
            "iso-8859-15",
        ] {
            let e = Encoding::for_label(label.as_bytes()).unwrap();
            assert_eq!(lower_name(e), e.name().to_ascii_lowercase());
        }
    }
}
