//! Link extraction from an HTML page.
//!
//! Follows `a`, `area` (`href`), `frame` and `iframe` (`src`); resolves against `<base href>` when
//! present, else the page URL. `<meta name="robots" content="nofollow">` (or `none`) means no links
//! are taken from the page; `rel="nofollow"` on a single link is not honoured (it is a ranking hint,
//! not a crawl directive). Links come back normalised, deduplicated, in document order.

use std::collections::HashSet;

use scraper::{Html, Node};
use url::Url;

use super::urls;

/// The links of a page, and whether the page asked not to be followed.
#[derive(Debug, Default, PartialEq)]
pub struct PageLinks {
    /// Normalised, deduplicated outlinks in document order.
    pub links: Vec<Url>,
    /// `<meta name="robots">` said `nofollow`/`none` (then `links` is empty).
    pub nofollow: bool,
}

/// Extracts the links of `html` fetched from `page`.
pub fn extract(html: &str, page: &Url) -> PageLinks {
    let doc = Html::parse_document(html);
    let mut base: Option<Url> = None;
    let mut raw: Vec<&str> = Vec::new();
    for node in doc.tree.nodes() {
        let Node::Element(e) = node.value() else {
            continue;
        };
        match e.name() {
            "base" if base.is_none() => {
                if let Some(h) = e.attr("href") {
                    base = page.join(h.trim()).ok();
                }
            }
            "meta" => {
                let name = e.attr("name").unwrap_or("").to_ascii_lowercase();
                if name == "robots" {
                    let c = e.attr("content").unwrap_or("").to_ascii_lowercase();
                    if c.split([',', ' ']).any(|t| t == "nofollow" || t == "none") {
                        return PageLinks {
                            links: Vec::new(),
                            nofollow: true,
                        };
                    }
                }
            }
            "a" | "area" => raw.extend(e.attr("href")),
            "frame" | "iframe" => raw.extend(e.attr("src")),
            _ => {}
        }
    }
    let base = base.as_ref().unwrap_or(page);
    let mut seen = HashSet::new();
    let mut links = Vec::new();
    for h in raw {
        if let Some(u) = urls::resolve(Some(base), h) {
            if seen.insert(u.as_str().to_string()) {
                links.push(u);
            }
        }
    }
    PageLinks {
        links,
        nofollow: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_resolves_dedups() {
        let page = Url::parse("http://e.org/dir/p.html").unwrap();
        let html = r#"<html><head><title>t</title></head><body>
            <a href="a.html">a</a> <a href="/b#x">b</a> <a href="a.html#y">again</a>
            <a href="mailto:x@y">m</a> <a>no href</a> <area href="HTTP://E.ORG:80/c">
            <iframe src="//other.org/f"></iframe><a href="javascript:0">j</a></body></html>"#;
        let l = extract(html, &page);
        let got: Vec<String> = l.links.iter().map(|u| u.to_string()).collect();
        assert_eq!(
            got,
            [
                "http://e.org/dir/a.html",
                "http://e.org/b",
                "http://e.org/c",
                "http://other.org/f"
            ]
        );
        assert!(!l.nofollow);
    }

    #[test]
    fn base_href_and_nofollow() {
        let page = Url::parse("http://e.org/dir/p.html").unwrap();
        let l = extract(
            r#"<head><base href="http://cdn.e.org/root/"></head><a href="x">x</a>"#,
            &page,
        );
        assert_eq!(l.links[0].as_str(), "http://cdn.e.org/root/x");
        let l = extract(
            r#"<meta name="ROBOTS" content="noindex, NOFOLLOW"><a href="x">x</a>"#,
            &page,
        );
        assert!(l.nofollow && l.links.is_empty());
        // Garbage input does not panic; an empty href is the page itself.
        let l = extract("\u{0}<<a href=>>>", &page);
        assert!(l.links.iter().all(|u| u.host_str() == Some("e.org")));
    }
}
