//! Licence findings from a page's raw HTML.
//!
//! A small forgiving tag scanner walks the markup once (no DOM): comments, `<script>` (except
//! JSON-LD), `<style>`, `<template>` and `<textarea>` contents are skipped, so a licence word inside
//! a script ("…MIT License" in a bundled comment) never counts. Every start tag is checked for the
//! machine-readable declarations (`rel="license"` on `a`/`link`, RDFa `cc:license`/`dct:license`,
//! microdata `itemprop="license"`, `<meta name="dc.license|dcterms.license|dc.rights|
//! dcterms.rights|copyright">`), `<script type="application/ld+json">` blocks are searched for
//! `"license"`, and the visible text is searched for prose declarations. Each finding records
//! where it was found (`head`, `body`, `footer`) and its evidence.

use std::sync::LazyLock;

use regex::Regex;

use super::optout::{self, OptOut};
use super::spdx;

/// How a finding was declared; the order is the document-licence precedence (first wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// `rel="license"` (any token list holding `license`, or RDFa `cc:license`) on `a`/`link`.
    RelLicense,
    /// `<meta name="dc.license" | "dcterms.license">` or RDFa/microdata `license` properties.
    MetaLicense,
    /// `<meta name="dc.rights" | "dcterms.rights" | "copyright" | "rights">`.
    MetaRights,
    /// `"license"` in a JSON-LD block.
    JsonLd,
    /// A Creative Commons badge (link wrapping an image) inside `<footer>`.
    FooterBadge,
    /// A prose declaration in the visible text.
    Text,
    /// A Creative Commons licence link without `rel="license"` outside a footer badge: recorded as
    /// evidence, never licenses the page by itself.
    CcLink,
}

impl Source {
    /// The label written in `license_findings[].source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::RelLicense => "rel_license",
            Source::MetaLicense => "meta_license",
            Source::MetaRights => "meta_rights",
            Source::JsonLd => "json_ld",
            Source::FooterBadge => "footer_badge",
            Source::Text => "text",
            Source::CcLink => "cc_link",
        }
    }
}

/// One licence statement found in a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Normalised SPDX id (or `LicenseRef-…`).
    pub spdx: String,
    /// How it was declared.
    pub source: Source,
    /// `<tag>[@attr]:<head|body|footer>`, e.g. `link@rel:head`, `meta@dc.rights:head`, `text:footer`.
    pub location: String,
    /// The markup or text it came from, at most ~160 bytes.
    pub evidence: String,
    /// How sure the declaration is about the page as a whole, 0..1.
    pub confidence: f64,
}

/// What one scan of a page yields.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// Every licence finding, in document order.
    pub findings: Vec<Finding>,
    /// Opt-out signals found in the markup.
    pub opt_outs: Vec<OptOut>,
}

#[derive(Clone, Copy, PartialEq)]
enum Region {
    Head,
    Body,
    Footer,
}

impl Region {
    fn as_str(self) -> &'static str {
        match self {
            Region::Head => "head",
            Region::Body => "body",
            Region::Footer => "footer",
        }
    }
}

struct Tag<'a> {
    name: String,
    attrs: Vec<(String, &'a str)>,
    raw: &'a str,
}

impl Tag<'_> {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }
}

fn snippet(s: &str) -> String {
    let s = s.trim();
    if s.len() <= 160 {
        return s.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    let mut end = 160;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}…",
        s[..end].split_whitespace().collect::<Vec<_>>().join(" ")
    )
}

/// Parses one start tag at `html[start..]` (which begins with `<` + letter); returns the tag and
/// the index after `>`.
fn parse_tag(html: &str, start: usize) -> (Tag<'_>, usize) {
    let b = html.as_bytes();
    let mut i = start + 1;
    let ns = i;
    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' && b[i] != b'/' {
        i += 1;
    }
    let name = html[ns..i].to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() || b[i] == b'>' {
            break;
        }
        let an = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let aname = html[an..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                let ve = memchr(q, &b[vs..]).map(|p| vs + p).unwrap_or(b.len());
                value = &html[vs..ve];
                i = (ve + 1).min(b.len());
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = &html[vs..i];
            }
        }
        if !aname.is_empty() {
            attrs.push((aname, value));
        }
    }
    let end = (i + 1).min(b.len());
    (
        Tag {
            name,
            attrs,
            raw: &html[start..end.min(html.len())],
        },
        end,
    )
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == needle)
}

/// Index of the case-insensitive `</name` at or after `from`, or the end of input.
fn find_close(html: &str, from: usize, name: &str) -> usize {
    let b = html.as_bytes();
    let pat = format!("</{name}");
    let p = pat.as_bytes();
    let mut i = from;
    while let Some(off) = memchr(b'<', &b[i..]) {
        let j = i + off;
        if b.len() - j >= p.len() && b[j..j + p.len()].eq_ignore_ascii_case(p) {
            return j;
        }
        i = j + 1;
    }
    b.len()
}

/// Minimal entity decoding for matching prose and attribute values.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&nbsp;", " ")
        .replace("&#160;", " ")
        .replace("&copy;", "©")
        .replace("&#169;", "©")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn rel_is_license(rel: &str) -> bool {
    rel.split_ascii_whitespace().any(|t| {
        let t = t.to_ascii_lowercase();
        t == "license" || t.ends_with(":license")
    })
}

/// What a rights/copyright meta says: a licence URL, a public-domain statement, or a plain notice.
fn rights_value(content: &str) -> String {
    if let Some(id) = url_in(content).and_then(spdx::from_url) {
        return id;
    }
    let lower = content.to_ascii_lowercase();
    if lower.contains("public domain") {
        return spdx::PUBLIC_DOMAIN.into();
    }
    if let Some(id) = text_cc(content) {
        return id;
    }
    spdx::ALL_RIGHTS_RESERVED.into()
}

fn url_in(s: &str) -> Option<&str> {
    let i = s.find("http").or_else(|| s.find("//"))?;
    Some(s[i..].split_whitespace().next().unwrap_or(""))
}

static TEXT_CC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:licen[cs]ed|available|published|released|distributed)\s+under\s+(?:a|an|the)?\s*(creative\s+commons\s+(?:license\s*[:,-]?\s*)?(?:cc\s*)?(?:attribution|by|cc0|zero)[a-z\s\-–]{0,60}|cc[\s\-]+(?:by|zero|0)[a-z\s\-]{0,30})\s*(\d\.\d)?\b",
    )
    .unwrap()
});

static TEXT_ARR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\ball\s+rights\s+reserved\b|\balle\s+rechte\s+vorbehalten\b|\btous\s+droits\s+r[ée]serv[ée]s\b|\btodos\s+los\s+derechos\s+reservados\b|\btutti\s+i\s+diritti\s+riservati\b").unwrap()
});

static TEXT_PD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:dedicated|released|placed)\s+(?:in)?to\s+the\s+public\s+domain\b")
        .unwrap()
});

/// A prose licence statement must be about the page or site itself ("this work", "content on
/// this site", "text is available", "user contributions"), not about a photo or someone else's
/// work that the page merely describes.
static TEXT_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:this|our|all|the|site|website)\s+(?:work|site|website|blog|page|content|contents|text|article|articles|material|materials|post|posts|weblog|podcast)\b|\bcontent\s+on\s+this\b|\buser\s+contributions\b|\btext\s+is\s+available\b|\bcommunity\s+content\b|\bexcept\s+where\s+otherwise\s+noted\b|\bunless\s+otherwise\s+(?:noted|stated)\b").unwrap()
});

/// An all-rights-reserved phrase counts only as a copyright notice: a ©, `(c)` or year close
/// before it (not "…Copyright (all rights reserved) and the public domain…" in an explanation).
static NOTICE_MARK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)©|\(c\)|\b(?:19|20)\d\d\b").unwrap());

/// Up to `n` bytes of `text` before `pos`, cut at the last sentence end.
fn sentence_before(text: &str, pos: usize, n: usize) -> &str {
    let mut a = pos.saturating_sub(n);
    while !text.is_char_boundary(a) {
        a += 1;
    }
    let w = &text[a..pos];
    match w.rfind(['.', '!', '?', '|']) {
        Some(p) if p + 1 < w.len() && w.as_bytes()[p + 1].is_ascii_whitespace() => &w[p + 1..],
        _ => w,
    }
}

static JSONLD_LICENSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""license"\s*:\s*(?:\[\s*)?(?:\{[^}]*?"(?:@id|url)"\s*:\s*)?"([^"]+)""#).unwrap()
});

/// A CC licence named in prose, if any.
fn text_cc(text: &str) -> Option<String> {
    let c = TEXT_CC.captures(text)?;
    spdx::from_cc_name(c.get(1)?.as_str(), c.get(2).map(|m| m.as_str()))
}

/// Scans a page's HTML for licence findings and opt-out metas.
pub fn scan(html: &str) -> Scan {
    scan_at(html, None)
}

/// `scheme://host` of a URL, for resolving root-relative links (`/licenses/by/4.0/`).
fn origin(url: &str) -> Option<&str> {
    let rest_at = url.find("://")? + 3;
    let end = url[rest_at..]
        .find(['/', '?', '#'])
        .map(|p| rest_at + p)
        .unwrap_or(url.len());
    Some(&url[..end])
}

/// [`scan`] for a page fetched from `url`: root-relative links are resolved against its origin
/// (creativecommons.org links its own licences as `/licenses/by/4.0/`).
pub fn scan_at(html: &str, url: Option<&str>) -> Scan {
    let base = url.and_then(origin).map(str::to_string);
    let mut out = Scan::default();
    let b = html.as_bytes();
    let mut region = Region::Body;
    let mut saw_head = false;
    let mut footer_depth = 0usize;
    // A footer container that is not a <footer> element (`<div id="footer">`, role=contentinfo):
    // its tag name and how many same-named elements are open inside it.
    let mut footer_like: Option<(String, usize)> = None;
    // Visible text with the region of each chunk start, for prose declarations.
    let mut text = String::new();
    let mut marks: Vec<(usize, Region)> = Vec::new();
    // Open <a>: (href, raw tag, region, has rel=license, saw img).
    let mut open_a: Option<(String, String, Region, bool)> = None;
    // CC links without rel: (offset in `text`, SPDX id, raw tag, region) for declaration sentences.
    let mut links: Vec<(usize, String, String, Region)> = Vec::new();
    let mut i = 0;
    let region_now = |region: Region, footer_depth: usize| {
        if footer_depth > 0 && region != Region::Head {
            Region::Footer
        } else {
            region
        }
    };
    while i < b.len() {
        let Some(off) = memchr(b'<', &b[i..]) else {
            push_text(
                &mut text,
                &mut marks,
                &html[i..],
                region_now(region, footer_depth + footer_like.is_some() as usize),
            );
            break;
        };
        let lt = i + off;
        if lt > i {
            push_text(
                &mut text,
                &mut marks,
                &html[i..lt],
                region_now(region, footer_depth + footer_like.is_some() as usize),
            );
        }
        let rest = &b[lt + 1..];
        if rest.starts_with(b"!--") {
            i = html[lt + 4..]
                .find("-->")
                .map(|p| lt + 4 + p + 3)
                .unwrap_or(b.len());
            continue;
        }
        if rest.first().is_some_and(|&c| c == b'!' || c == b'?') {
            i = memchr(b'>', rest)
                .map(|p| lt + 1 + p + 1)
                .unwrap_or(b.len());
            continue;
        }
        if rest.first() == Some(&b'/') {
            let ne = memchr(b'>', rest).map(|p| lt + 1 + p).unwrap_or(b.len());
            let name = html[lt + 2..ne]
                .trim()
                .split_ascii_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match name.as_str() {
                "head" => region = Region::Body,
                "footer" => footer_depth = footer_depth.saturating_sub(1),
                n if footer_like.as_ref().is_some_and(|f| f.0 == n) => {
                    if let Some(f) = footer_like.as_mut() {
                        f.1 -= 1;
                        if f.1 == 0 {
                            footer_like = None;
                        }
                    }
                }
                "a" => {
                    if let Some((href, raw, reg, has_img)) = open_a.take() {
                        if has_img && reg == Region::Footer {
                            if let Some(id) = spdx::from_url(&href) {
                                out.findings.push(Finding {
                                    spdx: id,
                                    source: Source::FooterBadge,
                                    location: "a@href+img:footer".into(),
                                    evidence: snippet(&raw),
                                    confidence: 0.6,
                                });
                            }
                        }
                    }
                }
                _ => {}
            }
            i = (ne + 1).min(b.len());
            continue;
        }
        if !rest.first().is_some_and(|c| c.is_ascii_alphabetic()) {
            push_text(
                &mut text,
                &mut marks,
                "<",
                region_now(region, footer_depth + footer_like.is_some() as usize),
            );
            i = lt + 1;
            continue;
        }
        let (tag, end) = parse_tag(html, lt);
        i = end;
        match footer_like.as_mut() {
            Some(f) if f.0 == tag.name => f.1 += 1,
            None if footer_depth == 0 && is_footer_container(&tag) => {
                footer_like = Some((tag.name.clone(), 1));
            }
            _ => {}
        }
        let reg = region_now(region, footer_depth + footer_like.is_some() as usize);
        match tag.name.as_str() {
            "head" => {
                region = Region::Head;
                saw_head = true;
            }
            "body" => region = Region::Body,
            "footer" => footer_depth += 1,
            "script" | "style" | "template" | "textarea" | "noscript" | "title" | "svg" => {
                let close = find_close(html, i, &tag.name);
                let is_jsonld = tag.name == "script"
                    && tag
                        .attr("type")
                        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"));
                if is_jsonld {
                    for c in JSONLD_LICENSE.captures_iter(&html[i..close]) {
                        let url = c.get(1).map(|m| m.as_str()).unwrap_or("");
                        let id = spdx::from_url(url).unwrap_or_else(|| spdx::UNKNOWN.into());
                        out.findings.push(Finding {
                            spdx: id,
                            source: Source::JsonLd,
                            location: format!("script@ld+json:{}", reg.as_str()),
                            evidence: snippet(c.get(0).unwrap().as_str()),
                            confidence: 0.8,
                        });
                    }
                }
                i = memchr(b'>', &b[close.min(b.len())..])
                    .map(|p| close + p + 1)
                    .unwrap_or(b.len());
                continue;
            }
            _ => {}
        }
        // An element seen before <body> without an explicit <head> is still head content when it
        // is head-only (meta/link); everything else is body.
        let reg = if !saw_head
            && matches!(tag.name.as_str(), "meta" | "link")
            && text.trim().is_empty()
        {
            Region::Head
        } else {
            reg
        };
        let before = out.findings.len();
        inspect_tag(&tag, reg, base.as_deref(), &mut out, &mut open_a);
        if let Some(f) = out.findings[before..]
            .iter()
            .find(|f| f.source == Source::CcLink)
        {
            links.push((text.len(), f.spdx.clone(), tag.raw.to_string(), reg));
        }
    }
    prose(&text, &marks, &mut out);
    linked_declarations(&text, &links, &mut out);
    out
}

/// A container element that plays the footer role: `id`/`class` naming a footer, or
/// `role="contentinfo"`.
fn is_footer_container(tag: &Tag<'_>) -> bool {
    if !matches!(
        tag.name.as_str(),
        "div" | "section" | "aside" | "nav" | "ul" | "table" | "td" | "p" | "center"
    ) || tag.raw.ends_with("/>")
    {
        return false;
    }
    let named = |k: &str| {
        tag.attr(k)
            .is_some_and(|v| v.to_ascii_lowercase().contains("footer"))
    };
    named("id")
        || named("class")
        || tag
            .attr("role")
            .is_some_and(|r| r.eq_ignore_ascii_case("contentinfo"))
}

fn push_text(text: &mut String, marks: &mut Vec<(usize, Region)>, chunk: &str, region: Region) {
    if marks.last().map(|m| m.1) != Some(region) {
        marks.push((text.len(), region));
    }
    text.push_str(&decode_entities(chunk));
    text.push(' ');
}

fn inspect_tag(
    tag: &Tag<'_>,
    reg: Region,
    base: Option<&str>,
    out: &mut Scan,
    open_a: &mut Option<(String, String, Region, bool)>,
) {
    let name = tag.name.as_str();
    if name == "img" {
        if let Some(a) = open_a.as_mut() {
            a.3 = true;
        }
        return;
    }
    if name == "meta" {
        let key = tag
            .attr("name")
            .or_else(|| tag.attr("property"))
            .or_else(|| tag.attr("http-equiv"))
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let content = decode_entities(tag.attr("content").unwrap_or(""));
        optout::from_meta(&key, &content, &mut out.opt_outs);
        let (source, id, conf) = match key.as_str() {
            "dc.license" | "dcterms.license" | "dct.license" | "dc:license" | "dcterms:license"
            | "cc:license" | "license" => (
                Source::MetaLicense,
                url_in(&content)
                    .and_then(spdx::from_url)
                    .or_else(|| text_cc(&content))
                    .unwrap_or_else(|| spdx::UNKNOWN.into()),
                0.9,
            ),
            "dc.rights" | "dcterms.rights" | "dc:rights" | "dcterms:rights" | "copyright"
            | "rights" => {
                let id = rights_value(&content);
                let conf = if id == spdx::ALL_RIGHTS_RESERVED {
                    0.6
                } else {
                    0.85
                };
                (Source::MetaRights, id, conf)
            }
            _ => return,
        };
        if content.trim().is_empty() {
            return;
        }
        out.findings.push(Finding {
            spdx: id,
            source,
            location: format!("meta@{key}:{}", reg.as_str()),
            evidence: snippet(tag.raw),
            confidence: conf,
        });
        return;
    }
    let href = tag
        .attr("href")
        .or_else(|| tag.attr("resource"))
        .map(decode_entities)
        .map(|h| match base {
            Some(b) if h.starts_with('/') && !h.starts_with("//") => format!("{b}{h}"),
            _ => h,
        });
    let rel = tag.attr("rel").unwrap_or("");
    let prop = tag
        .attr("property")
        .or_else(|| tag.attr("itemprop"))
        .unwrap_or("");
    if let Some(href) = href.as_deref() {
        if rel_is_license(rel) && matches!(name, "a" | "link" | "area") {
            let id = spdx::from_url(href).unwrap_or_else(|| spdx::UNKNOWN.into());
            let conf = if id == spdx::UNKNOWN { 0.5 } else { 0.95 };
            out.findings.push(Finding {
                spdx: id,
                source: Source::RelLicense,
                location: format!("{name}@rel:{}", reg.as_str()),
                evidence: snippet(tag.raw),
                confidence: conf,
            });
        } else if rel_is_license(prop) {
            let id = spdx::from_url(href).unwrap_or_else(|| spdx::UNKNOWN.into());
            out.findings.push(Finding {
                spdx: id,
                source: Source::MetaLicense,
                location: format!("{name}@property:{}", reg.as_str()),
                evidence: snippet(tag.raw),
                confidence: 0.85,
            });
        } else if name == "a" {
            if let Some(id) = spdx::from_url(href).filter(|id| id != spdx::UNKNOWN) {
                out.findings.push(Finding {
                    spdx: id,
                    source: Source::CcLink,
                    location: format!("a@href:{}", reg.as_str()),
                    evidence: snippet(tag.raw),
                    confidence: 0.1,
                });
            }
        }
    } else if rel_is_license(prop) {
        if let Some(c) = tag.attr("content") {
            let id = url_in(c)
                .and_then(spdx::from_url)
                .or_else(|| text_cc(c))
                .unwrap_or_else(|| spdx::UNKNOWN.into());
            out.findings.push(Finding {
                spdx: id,
                source: Source::MetaLicense,
                location: format!("{name}@property:{}", reg.as_str()),
                evidence: snippet(tag.raw),
                confidence: 0.85,
            });
        }
    }
    if name == "a" {
        *open_a = href.map(|h| (h, tag.raw.to_string(), reg, false));
    }
}

fn region_at(marks: &[(usize, Region)], pos: usize) -> Region {
    marks
        .iter()
        .take_while(|m| m.0 <= pos)
        .last()
        .map(|m| m.1)
        .unwrap_or(Region::Body)
}

fn context(text: &str, s: usize, e: usize) -> String {
    let mut a = s.saturating_sub(60);
    while !text.is_char_boundary(a) {
        a -= 1;
    }
    let mut z = (e + 60).min(text.len());
    while !text.is_char_boundary(z) {
        z += 1;
    }
    snippet(&text[a..z])
}

fn prose(text: &str, marks: &[(usize, Region)], out: &mut Scan) {
    for c in TEXT_CC.captures_iter(text) {
        let m = c.get(0).unwrap();
        let before = sentence_before(text, m.start(), 160);
        let subject = &text[m.start() - before.len()..m.end()];
        if !TEXT_SUBJECT.is_match(subject) {
            continue;
        }
        let Some(id) = spdx::from_cc_name(c.get(1).unwrap().as_str(), c.get(2).map(|v| v.as_str()))
        else {
            continue;
        };
        out.findings.push(Finding {
            spdx: id,
            source: Source::Text,
            location: format!("text:{}", region_at(marks, m.start()).as_str()),
            evidence: context(text, m.start(), m.end()),
            confidence: 0.5,
        });
    }
    if let Some(m) = TEXT_PD
        .find_iter(text)
        .find(|m| TEXT_SUBJECT.is_match(sentence_before(text, m.start(), 160)))
    {
        out.findings.push(Finding {
            spdx: spdx::PUBLIC_DOMAIN.into(),
            source: Source::Text,
            location: format!("text:{}", region_at(marks, m.start()).as_str()),
            evidence: context(text, m.start(), m.end()),
            confidence: 0.4,
        });
    }
    let notice = TEXT_ARR.find_iter(text).find(|m| {
        let mut a = m.start().saturating_sub(120);
        while !text.is_char_boundary(a) {
            a += 1;
        }
        NOTICE_MARK.is_match(&text[a..m.start()])
    });
    if let Some(m) = notice {
        out.findings.push(Finding {
            spdx: spdx::ALL_RIGHTS_RESERVED.into(),
            source: Source::Text,
            location: format!("text:{}", region_at(marks, m.start()).as_str()),
            evidence: context(text, m.start(), m.end()),
            confidence: 0.4,
        });
    }
}

static UNDER_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:licen[cs]ed|published|available|released|distributed)\s+under\s*(?:a|an|the)?\s*$").unwrap()
});

/// "Boing Boing is published under <a href=CC>a Creative Commons license</a> except where
/// otherwise noted": a CC link that completes a site-wide declaration sentence licenses the page
/// as a prose declaration (the link gives the exact licence the words leave out).
fn linked_declarations(text: &str, links: &[(usize, String, String, Region)], out: &mut Scan) {
    for (off, id, raw, region) in links {
        let before = sentence_before(text, *off, 160);
        if !UNDER_END.is_match(before.trim_end()) && !UNDER_END.is_match(before) {
            continue;
        }
        let mut z = (*off + 120).min(text.len());
        while !text.is_char_boundary(z) {
            z -= 1;
        }
        let after = &text[*off..z];
        let after = after.split(['.', '|']).next().unwrap_or(after);
        if !TEXT_SUBJECT.is_match(before) && !TEXT_SUBJECT.is_match(after) {
            continue;
        }
        out.findings.push(Finding {
            spdx: id.clone(),
            source: Source::Text,
            location: format!("text+a@href:{}", region.as_str()),
            evidence: snippet(&format!("{}{} {}", before, raw, after)),
            confidence: 0.55,
        });
    }
}

/// The document licence chosen from a page's findings, by ONE rule:
///
/// 1. Only *explicit grants* compete first: findings whose id is a known licence (not
///    all-rights-reserved, not unknown), ranked by [`Source`] order — `rel=license` >
///    `dc.license`-style meta/RDFa > `dc.rights`-style meta > JSON-LD > footer badge > prose. A CC
///    link without `rel=license` ([`Source::CcLink`]) never competes.
/// 2. Otherwise an all-rights-reserved notice (meta before prose).
/// 3. Otherwise an unidentifiable declared licence (`LicenseRef-Unknown`).
///
/// So an explicit `rel="license"` to CC beats a conflicting `dc.rights="All rights reserved"`
/// (CMS templates emit the latter by default; the CC link is the author's deliberate choice),
/// and both findings stay in `license_findings`. Ties within a tier go to the first in document
/// order.
pub fn decide(findings: &[Finding]) -> Option<&Finding> {
    let competing = || findings.iter().filter(|f| f.source != Source::CcLink);
    let grant = competing()
        .filter(|f| f.spdx != spdx::ALL_RIGHTS_RESERVED && f.spdx != spdx::UNKNOWN)
        .min_by_key(|f| f.source);
    grant
        .or_else(|| {
            competing()
                .filter(|f| f.spdx == spdx::ALL_RIGHTS_RESERVED)
                .min_by_key(|f| f.source)
        })
        .or_else(|| competing().find(|f| f.spdx == spdx::UNKNOWN))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lic(html: &str) -> Option<String> {
        decide(&scan(html).findings).map(|f| f.spdx.clone())
    }

    #[test]
    fn rel_license_with_several_tokens_and_quotes() {
        let h = r#"<html><body><a rel="license noopener noreferrer" href="https://creativecommons.org/licenses/by/4.0/">CC BY</a></body></html>"#;
        assert_eq!(lic(h).as_deref(), Some("CC-BY-4.0"));
        let h = "<link rel=license href=//creativecommons.org/licenses/by-sa/4.0/deed.an>";
        let s = scan(h);
        assert_eq!(s.findings[0].location, "link@rel:head");
        assert_eq!(lic(h).as_deref(), Some("CC-BY-SA-4.0"));
    }

    #[test]
    fn cc_link_without_rel_does_not_license() {
        let h = r#"<body><p>Read about <a href="https://creativecommons.org/licenses/by-sa/4.0/">BY-SA</a>.</p></body>"#;
        let s = scan(h);
        assert_eq!(s.findings.len(), 1);
        assert_eq!(s.findings[0].source, Source::CcLink);
        assert_eq!(decide(&s.findings), None);
    }

    #[test]
    fn footer_badge_licenses_the_page() {
        let h = r#"<body><footer><a href="http://creativecommons.org/licenses/by-nc/4.0/"><img src="b.png"></a></footer></body>"#;
        let s = scan(h);
        assert_eq!(lic(h).as_deref(), Some("CC-BY-NC-4.0"));
        assert!(s.findings.iter().any(|f| f.source == Source::FooterBadge));
    }

    #[test]
    fn scripts_styles_and_comments_are_ignored() {
        let h = r#"<head><script>/* licensed under the Creative Commons Attribution 4.0. MIT License */ var a="<a rel='license' href='https://creativecommons.org/licenses/by/4.0/'>";</script>
        <!-- <link rel="license" href="https://creativecommons.org/licenses/by/4.0/"> --><style>.x{}</style></head><body>hi</body>"#;
        assert!(scan(h).findings.is_empty());
    }

    #[test]
    fn conflict_rel_beats_all_rights_reserved_meta_and_both_are_kept() {
        let h = r#"<head><meta name="DC.Rights" content="All rights reserved"></head><body><a href="http://creativecommons.org/licenses/by/2.0/" rel="license">x</a></body>"#;
        let s = scan(h);
        assert_eq!(s.findings.len(), 2);
        assert_eq!(lic(h).as_deref(), Some("CC-BY-2.0"));
        let h = r#"<meta name="copyright" content="Gala">"#;
        assert_eq!(lic(h).as_deref(), Some(spdx::ALL_RIGHTS_RESERVED));
    }

    #[test]
    fn json_ld_meta_license_and_prose() {
        let h = r#"<script type="application/ld+json">{"@type":"Article","license":"https://creativecommons.org/publicdomain/zero/1.0/"}</script>"#;
        assert_eq!(lic(h).as_deref(), Some("CC0-1.0"));
        let h = r#"<meta name="dcterms.license" content="http://creativecommons.org/licenses/by-sa/3.0/de/">"#;
        assert_eq!(lic(h).as_deref(), Some("CC-BY-SA-3.0-DE"));
        let h = "<p>This work is licensed under a Creative Commons Attribution-ShareAlike 4.0 International License.</p>";
        assert_eq!(lic(h).as_deref(), Some("CC-BY-SA-4.0"));
        let h = "<p>Text is available under the CC BY-NC-ND 4.0 license.</p>";
        assert_eq!(lic(h).as_deref(), Some("CC-BY-NC-ND-4.0"));
        let h = "<p>Between copyright (all rights reserved) and the public domain.</p>";
        assert_eq!(lic(h), None);
        let h = r#"<p>Boing Boing is published under <a href="https://creativecommons.org/licenses/by-nc-sa/3.0/deed.en_US">a Creative Commons license</a> except where otherwise noted.</p>"#;
        assert_eq!(lic(h).as_deref(), Some("CC-BY-NC-SA-3.0"));
        let h = r#"<p>Photo by Ana is licensed under <a href="https://creativecommons.org/licenses/by/2.0/">CC BY</a>.</p>"#;
        assert_eq!(lic(h), None);
        let h = "<p>Photo by Ana is licensed under CC BY-NC-SA 4.0.</p>";
        assert_eq!(lic(h), None);
        let h = "<footer>&copy; 2020 ACME. All Rights Reserved.</footer>";
        let s = scan(h);
        assert_eq!(s.findings[0].location, "text:footer");
        assert_eq!(lic(h).as_deref(), Some(spdx::ALL_RIGHTS_RESERVED));
        let h = r#"<div xmlns:cc="http://creativecommons.org/ns#"><a rel="cc:license" href="http://creativecommons.org/licenses/by-nd/3.0/de/">x</a></div>"#;
        assert_eq!(lic(h).as_deref(), Some("CC-BY-ND-3.0-DE"));
    }

    #[test]
    fn root_relative_links_resolve_against_the_page() {
        let h = r#"<p>Content on this site is licensed under a <a href="/licenses/by/4.0/">free licence</a>.</p>"#;
        assert_eq!(decide(&scan(h).findings), None);
        let s = scan_at(h, Some("https://creativecommons.org/mission/"));
        assert_eq!(
            decide(&s.findings).map(|f| f.spdx.as_str()),
            Some("CC-BY-4.0")
        );
    }

    #[test]
    fn every_truncation_of_a_page_scans() {
        let page = r#"<html><head><meta name="dc.rights" content="© 2020 Ünïcødé"><link rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/deed.an"><script type="application/ld+json">{"license":"https://creativecommons.org/publicdomain/zero/1.0/"}</script></head><body><!-- c --><p>日本語 This work is licensed under CC BY 4.0 — © 2020 X. All rights reserved.</p><footer><a href='//creativecommons.org/licenses/by/4.0/'><img src=x></a></footer></body></html>"#;
        for (i, _) in page.char_indices() {
            let _ = scan(&page[..i]);
        }
        let s = scan(page);
        assert_eq!(
            decide(&s.findings).map(|f| f.spdx.as_str()),
            Some("CC-BY-SA-4.0")
        );
        assert!(s.findings.iter().any(|f| f.source == Source::JsonLd));
        assert!(s.findings.iter().any(|f| f.source == Source::FooterBadge));
    }

    #[test]
    fn footer_containers_count_as_footer() {
        let h = r#"<body><div id="page-footer"><div class="x"><a href="https://creativecommons.org/licenses/by/4.0/"><img src=b></a></div></div><p><a href="https://creativecommons.org/licenses/by-sa/4.0/"><img src=c></a></p></body>"#;
        let s = scan(h);
        let badges: Vec<_> = s
            .findings
            .iter()
            .filter(|f| f.source == Source::FooterBadge)
            .collect();
        assert_eq!(badges.len(), 1);
        assert_eq!(badges[0].spdx, "CC-BY-4.0");
        assert_eq!(s.findings.last().unwrap().location, "a@href:body");
    }

    #[test]
    fn broken_markup_never_panics() {
        for h in [
            "<",
            "<a",
            "<a href=\"",
            "<!--",
            "<script>",
            "</",
            "<meta name=robots content=noai",
            "é<ü",
        ] {
            let _ = scan(h);
        }
        let s = scan("<meta name=robots content=\"noindex,noai\">");
        assert_eq!(s.opt_outs.len(), 2);
    }
}
