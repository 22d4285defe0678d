//! The HTTP layer of a page: status, headers, charset encoding, gzip content encoding, and the
//! non-HTML bodies (PNG, PDF), redirects and 404s.

use std::io::Write as _;

use super::chrome::Frame;
use super::content::Content;
use super::lang::Lang;
use super::license::{self, LicenseMarkup};
use super::rng::Rng;
use super::site::{self, Site};
use super::{html, PageKind, PageTruth, Plan, SamplePage};

/// The reason phrase for the status codes the sample uses.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        _ => "Unknown",
    }
}

/// Chooses the charset a page is written in: UTF-8 mostly, legacy encodings where they are still
/// common on the web for that language.
fn pick_charset(rng: &mut Rng, lang: Lang) -> &'static str {
    match lang {
        Lang::De | Lang::Fr | Lang::Es => {
            ["utf-8", "windows-1252", "iso-8859-1"][rng.weighted(&[0.85, 0.08, 0.07])]
        }
        Lang::Zh => ["utf-8", "gbk", "gb2312"][rng.weighted(&[0.75, 0.15, 0.10])],
        Lang::Ja => ["utf-8", "shift_jis", "euc-jp"][rng.weighted(&[0.8, 0.15, 0.05])],
        Lang::Ru => ["utf-8", "windows-1251", "koi8-r"][rng.weighted(&[0.8, 0.15, 0.05])],
        Lang::En => "utf-8",
    }
}

fn content_language(rng: &mut Rng, lang: Lang) -> String {
    let region = match lang {
        Lang::En => "en-US",
        Lang::De => "de-DE",
        Lang::Fr => "fr-FR",
        Lang::Es => "es-ES",
        Lang::Zh => "zh-CN",
        Lang::Ja => "ja-JP",
        Lang::Ru => "ru-RU",
    };
    if rng.chance(0.5) {
        lang.code().to_string()
    } else {
        region.to_string()
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    // GzEncoder writes mtime 0 and no file name, so the output is deterministic.
    let mut e = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::new(6),
    );
    let _ = e.write_all(data);
    e.finish().unwrap_or_default()
}

/// A small valid PNG of random pixels.
fn png(rng: &mut Rng) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, ty: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(ty);
        crc.update(data);
        out.extend_from_slice(ty);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let (w, h) = (rng.range(8, 48) as u32, rng.range(8, 48) as u32);
    let mut raw = Vec::with_capacity((w * 3 + 1) as usize * h as usize);
    for _ in 0..h {
        // Each scanline starts with filter type 0 (none), then w RGB pixels.
        raw.extend(std::iter::once(0u8).chain((0..w * 3).map(|_| rng.next_u64() as u8)));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A small PDF: one page with one line of text, plus a binary stream as real PDFs carry.
fn pdf(rng: &mut Rng, index: usize) -> Vec<u8> {
    let text = format!("BT /F1 12 Tf 72 720 Td (Report {index}) Tj ET");
    let mut out = Vec::new();
    out.extend_from_slice(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
    out.extend_from_slice(b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n");
    out.extend_from_slice(
        format!(
            "4 0 obj << /Length {} >> stream\n{text}\nendstream endobj\n",
            text.len()
        )
        .as_bytes(),
    );
    let n = rng.range(500, 4000);
    out.extend_from_slice(
        format!("5 0 obj << /Length {n} /Filter /FlateDecode >> stream\n").as_bytes(),
    );
    for _ in 0..n {
        out.push(rng.next_u64() as u8);
    }
    out.extend_from_slice(b"\nendstream endobj\ntrailer << /Root 1 0 R /Size 6 >>\n%%EOF\n");
    out
}

/// Everything [`dress`] needs about where the page lives.
pub(crate) struct Placement<'a> {
    pub site: &'a Site,
    pub url: &'a str,
    pub secs: i64,
    pub source_url: Option<&'a str>,
    /// Title for pages without generated content (short pages, 404s).
    pub fallback_title: &'a str,
}

/// Builds the full HTTP response of a page and its ground truth.
pub(crate) fn dress(
    rng: &mut Rng,
    index: usize,
    plan: &Plan,
    content: Option<&Content>,
    at: &Placement,
) -> SamplePage {
    let lang = plan.lang;
    let site = at.site;
    let mut headers: Vec<(String, String)> = vec![
        ("Date".into(), site::http_date(at.secs)),
        ("Server".into(), site.server.into()),
    ];
    let mut truth = PageTruth {
        kind: plan.kind,
        language: None,
        license: None,
        license_markup: "none".into(),
        near_dup_of: plan.dup_of,
        is_spam: plan.kind == PageKind::Spam,
        noai: false,
        charset: None,
    };
    let (status, body, content_type): (u16, Vec<u8>, String) = match plan.kind {
        PageKind::Binary => {
            if at.url.ends_with(".png") {
                (200, png(rng), "image/png".into())
            } else {
                (200, pdf(rng, index), "application/pdf".into())
            }
        }
        PageKind::Redirect => {
            let status = [301, 302, 307, 308][rng.below(4)];
            let target = if rng.chance(0.5) && at.url.starts_with("http://") {
                at.url.replacen("http://", "https://", 1)
            } else {
                format!("{}/article/{}", site.origin(), 100_000 + rng.below(900_000))
            };
            headers.push(("Location".into(), target.clone()));
            let b = html::redirect_body(rng, status, &target);
            let ct = if b.is_empty() {
                "text/html".into()
            } else {
                "text/html; charset=iso-8859-1".into()
            };
            (status, b.into_bytes(), ct)
        }
        _ => {
            let charset = pick_charset(rng, lang);
            let utf8 = charset == "utf-8";
            // Where the charset is declared: header, meta, both, or (UTF-8 only) nowhere.
            let decl = if utf8 {
                rng.weighted(&[0.45, 0.2, 0.25, 0.1])
            } else {
                rng.weighted(&[0.25, 0.25, 0.5, 0.0])
            };
            let (in_header, in_meta) = match decl {
                0 => (true, false),
                1 => (false, true),
                2 => (true, true),
                _ => (false, false),
            };
            let label_case = if rng.chance(0.5) {
                charset.to_ascii_uppercase()
            } else {
                charset.to_string()
            };
            let noai = rng.chance(0.05);
            let year = site::civil(at.secs.div_euclid(86_400)).0;
            let lic = if plan.kind == PageKind::NotFound {
                LicenseMarkup {
                    markup: "none",
                    ..Default::default()
                }
            } else {
                license::site_policy(&mut Rng::new(site.traits_seed), lang, &site.name, year)
            };
            let published =
                at.secs - content.map_or(0, |c| c.days_before as i64 * 86_400 + 3600 * 7);
            let published_iso = site::iso(published);
            let description = content
                .and_then(|c| {
                    c.blocks.iter().find_map(|b| match b {
                        super::content::Block::Para(p) => {
                            Some(p.chars().take(150).collect::<String>())
                        }
                        _ => None,
                    })
                })
                .unwrap_or_default();
            let title = content.map_or(at.fallback_title, |c| c.title.as_str());
            let json_ld_type = match plan.kind {
                PageKind::Article => Some("NewsArticle"),
                PageKind::BlogPost => Some("BlogPosting"),
                PageKind::ProductPage => Some("Product"),
                PageKind::ForumThread => Some("DiscussionForumPosting"),
                _ => None,
            }
            .filter(|_| lic.json_ld.is_some() || rng.chance(0.4));
            let frame = Frame {
                lang,
                site,
                license: &lic,
                url: at.url,
                title,
                description: &description,
                noai,
                meta_charset: in_meta.then_some(label_case.as_str()),
                json_ld_type,
                author: content.map_or("", |c| c.author),
                published_iso: &published_iso,
                year,
                index,
            };
            let (status, mut page) = if plan.kind == PageKind::NotFound {
                (404, html::not_found(rng, &frame))
            } else {
                truth.language = Some(lang.code().to_string());
                truth.license = lic.spdx.map(str::to_string);
                truth.license_markup = lic.markup.to_string();
                truth.noai = noai;
                (
                    200,
                    html::render(rng, &frame, plan.kind, content, published, at.source_url),
                )
            };
            let mut label = label_case.clone();
            let mut canonical = charset;
            if charset == "iso-8859-1" && page.chars().any(|c| c as u32 > 0xFF) {
                // Strict Latin-1 cannot hold this page; real servers then send windows-1252.
                page = page.replace(&label_case, "windows-1252");
                label = "windows-1252".into();
                canonical = "windows-1252";
            }
            let bytes = if utf8 {
                page.into_bytes()
            } else {
                let enc = encoding_rs::Encoding::for_label(canonical.as_bytes())
                    .unwrap_or(encoding_rs::UTF_8);
                enc.encode(&page).0.into_owned()
            };
            truth.charset = Some(canonical.to_string());
            let ct = if in_header {
                format!("text/html; charset={label}")
            } else {
                "text/html".into()
            };
            if rng.chance(0.25) && status == 200 {
                headers.push(("Content-Language".into(), content_language(rng, lang)));
            }
            (status, bytes, ct)
        }
    };
    headers.push(("Content-Type".into(), content_type));
    let is_html = !matches!(plan.kind, PageKind::Binary);
    let body = if is_html && body.len() > 512 && rng.chance(0.15) {
        headers.push(("Content-Encoding".into(), "gzip".into()));
        headers.push(("Vary".into(), "Accept-Encoding".into()));
        gzip(&body)
    } else {
        body
    };
    headers.push(("Content-Length".into(), body.len().to_string()));
    if rng.chance(0.4) {
        headers.push((
            "Last-Modified".into(),
            site::http_date(at.secs - rng.range(60, 3_000_000) as i64),
        ));
    }
    headers.push((
        "Cache-Control".into(),
        [
            "max-age=600",
            "no-cache",
            "public, max-age=3600",
            "private, no-store",
        ][rng.below(4)]
        .into(),
    ));
    if rng.chance(0.3) {
        headers.push((
            "ETag".into(),
            format!("\"{:x}-{:x}\"", rng.next_u64() as u32, body.len()),
        ));
    }
    if rng.chance(0.3) {
        headers.push((
            "Set-Cookie".into(),
            format!(
                "sid={:016x}; Path=/; HttpOnly; SameSite=Lax",
                rng.next_u64()
            ),
        ));
    }
    if rng.chance(0.4) {
        headers.push(("X-Frame-Options".into(), "SAMEORIGIN".into()));
    }
    headers.push(("Connection".into(), "close".into()));
    SamplePage {
        index,
        url: at.url.to_string(),
        date: site::iso(at.secs),
        http_status: status,
        http_headers: headers,
        body,
        truth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_well_formed() {
        let p = png(&mut Rng::new(1));
        assert!(p.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(&p[12..16], b"IHDR");
        assert!(
            p.ends_with(&[0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]),
            "IEND with its fixed CRC"
        );
    }

    #[test]
    fn gzip_is_deterministic_and_round_trips() {
        use std::io::Read;
        let data = b"hello hello hello hello".repeat(50);
        assert_eq!(gzip(&data), gzip(&data));
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gzip(&data)[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }
}
