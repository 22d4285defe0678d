//! Main-content extraction: HTML text → the article's paragraphs, one per line.
//!
//! Two extractors drop the boilerplate (navigation, footers, cookie banners, ads, comments): the
//! default, quarry's own single-pass extractor ([`super::fast`]), and the [`trafilatura`] crate, a
//! Rust port of go-trafilatura/Python trafilatura (numbers for both in `docs/html.md`). The port's own
//! plain-text output joins paragraphs with spaces, which would defeat line-based quality filters
//! (Gopher, C4), so we take its cleaned HTML and lay it out ourselves in [`render`]: one paragraph,
//! heading, list item or table row per line, the same layout the own extractor produces.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::Deserialize;

/// How much of the page to look for: trafilatura's precision/recall trade-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Focus {
    /// trafilatura's default balance.
    #[default]
    Balanced,
    /// Less text, less boilerplate (datatrove's choice: `favour_precision=True`).
    Precision,
    /// More text, more risk of boilerplate.
    Recall,
}

/// Which main-content extractor to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extractor {
    /// quarry's own single-pass extractor ([`super::fast`]): the default, chosen by measured
    /// quality (gold checks) and speed (docs/html.md).
    #[default]
    Quarry,
    /// The `trafilatura` crate (Rust port of trafilatura) plus our line layout.
    Trafilatura,
}

impl Extractor {
    /// The config / CLI name.
    pub fn as_str(self) -> &'static str {
        match self {
            Extractor::Quarry => "quarry",
            Extractor::Trafilatura => "trafilatura",
        }
    }
}

impl std::str::FromStr for Extractor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "quarry" => Ok(Extractor::Quarry),
            "trafilatura" => Ok(Extractor::Trafilatura),
            _ => Err(format!("unknown extractor `{s}` (quarry, trafilatura)")),
        }
    }
}

/// Options of the extractor (all have defaults; the `extract` step exposes them in its config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Which extractor runs; the options below marked *trafilatura* only apply to that one.
    pub extractor: Extractor,
    /// Keep the text of tables (one row per line, cells separated by ` | `).
    pub include_tables: bool,
    /// Keep user comments found under the article (*trafilatura*).
    pub include_comments: bool,
    /// Precision/recall trade-off (*trafilatura*).
    pub focus: Focus,
    /// (*trafilatura*) Let trafilatura compare its result with readability and jusText and take the better one.
    /// Costs time; on the gold pages it gains kept snippets (see `docs/html.md`).
    pub fallback: bool,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            extractor: Extractor::default(),
            include_tables: true,
            include_comments: false,
            focus: Focus::Balanced,
            fallback: true,
        }
    }
}

/// What [`extract`] found on a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// The main text: paragraphs, headings, list items and table rows, one per line (`\n`), with
    /// whitespace inside a line collapsed to single spaces. Empty when no main content was found.
    pub text: String,
    /// The page title (from `<title>`, OpenGraph, JSON-LD, ...), if any.
    pub title: Option<String>,
    /// The site name, if the page declares one.
    pub sitename: Option<String>,
    /// The license the page's metadata declares (e.g. a CC URL from `rel="license"`), if any.
    pub license: Option<String>,
    /// Set when the extractor failed internally (a panic in the HTML library, caught); `text` is empty.
    pub failed: bool,
}

/// Extracts the main text of an HTML page with default options.
///
/// `url` (when known) lets the extractor resolve relative links and recognise the site.
pub fn extract(html: &str, url: Option<&str>) -> Extracted {
    extract_with(html, url, &ExtractOptions::default())
}

/// Extracts the main text of an HTML page.
///
/// Deterministic: the result depends only on the arguments (the extractor keeps no state between
/// calls; its duplicate cache is per call and disabled).
pub fn extract_with(html: &str, url: Option<&str>, opts: &ExtractOptions) -> Extracted {
    match opts.extractor {
        Extractor::Quarry => super::fast::extract_quarry(html, opts),
        Extractor::Trafilatura => extract_trafilatura(html, url, opts),
    }
}

/// Extracts with the `trafilatura` crate and lays its cleaned HTML out in lines ([`render`]).
pub fn extract_trafilatura(html: &str, url: Option<&str>, opts: &ExtractOptions) -> Extracted {
    let mut o = trafilatura::Options::default()
        .with_fallback(opts.fallback)
        .with_exclude_comments(!opts.include_comments)
        .with_exclude_tables(!opts.include_tables)
        .with_deduplicate(false)
        .with_focus(match opts.focus {
            Focus::Balanced => trafilatura::ExtractionFocus::Balanced,
            Focus::Precision => trafilatura::ExtractionFocus::FavorPrecision,
            Focus::Recall => trafilatura::ExtractionFocus::FavorRecall,
        })
        // We do not use the publication date; its search is a large share of the run time.
        .with_html_date_mode(trafilatura::HtmlDateMode::Disabled);
    if let Some(u) = url.and_then(|u| url::Url::parse(u).ok()) {
        o = o.with_url(u);
    }
    // A panic inside the third-party extractor must not take the pipeline down: it becomes a failed
    // extraction that the step counts.
    let html = strip_ruby_annotations(html);
    let html = super::nesting::limit_nesting(&html);
    let result = catch_unwind(AssertUnwindSafe(|| trafilatura::extract(&html, &o)));
    let r = match result {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => return Extracted::default(),
        Err(_) => {
            return Extracted {
                failed: true,
                ..Default::default()
            }
        }
    };
    let mut text = render(&r.content_html);
    if opts.include_comments && !r.comments_html.is_empty() {
        let c = render(&r.comments_html);
        if !c.is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&c);
        }
    }
    let non_empty = |s: String| {
        let s = s.trim().to_string();
        (!s.is_empty()).then_some(s)
    };
    Extracted {
        text,
        title: non_empty(r.metadata.title),
        sitename: non_empty(r.metadata.sitename),
        license: non_empty(r.metadata.license),
        failed: false,
    }
}

/// Removes `<rt>`/`<rp>` ruby annotations (furigana readings, fallback parentheses) from the markup.
///
/// The extractor flattens `<ruby>` and would interleave each reading with its kanji
/// (`子こども`), corrupting every annotated word of Japanese and Chinese pages. An `<rt>` ends at its
/// close tag or at the next `<rt>`/`<rp>`/`</ruby>`, as in the HTML parser. Pages without `<rt` are
/// returned as they are, without copying.
pub fn strip_ruby_annotations(html: &str) -> std::borrow::Cow<'_, str> {
    let b = html.as_bytes();
    let is_ann_start = |i: usize| -> bool {
        b.len() > i + 3
            && b[i] == b'<'
            && b[i + 1].eq_ignore_ascii_case(&b'r')
            && (b[i + 2].eq_ignore_ascii_case(&b't') || b[i + 2].eq_ignore_ascii_case(&b'p'))
            && (b[i + 3] == b'>' || b[i + 3].is_ascii_whitespace())
    };
    let finder = memchr::memmem::Finder::new(b"<r");
    let upper = memchr::memmem::Finder::new(b"<R");
    if finder
        .find_iter(b)
        .chain(upper.find_iter(b))
        .all(|i| !is_ann_start(i))
    {
        return std::borrow::Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut i = 0;
    let mut copied = 0;
    while let Some(off) = memchr::memchr(b'<', &b[i..]) {
        let start = i + off;
        if !is_ann_start(start) {
            i = start + 1;
            continue;
        }
        out.push_str(&html[copied..start]);
        // Scan to the end of this annotation.
        let mut j = start + 3;
        let end = loop {
            match memchr::memchr(b'<', &b[j..]) {
                None => break b.len(),
                Some(o) => {
                    let k = j + o;
                    let rest = &b[k..];
                    let close =
                        |t: &[u8]| rest.len() >= t.len() && rest[..t.len()].eq_ignore_ascii_case(t);
                    if close(b"</rt>") || close(b"</rp>") {
                        break k + 5;
                    }
                    if close(b"</ruby") || is_ann_start(k) {
                        break k;
                    }
                    j = k + 1;
                }
            }
        };
        copied = end;
        i = end;
    }
    out.push_str(&html[copied..]);
    std::borrow::Cow::Owned(out)
}

/// Elements that end a line before and after them.
fn is_block(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "head"
            | "li"
            | "item"
            | "ul"
            | "ol"
            | "list"
            | "dl"
            | "dt"
            | "dd"
            | "table"
            | "tr"
            | "row"
            | "thead"
            | "tbody"
            | "tfoot"
            | "blockquote"
            | "quote"
            | "pre"
            | "section"
            | "article"
            | "main"
            | "header"
            | "footer"
            | "aside"
            | "nav"
            | "figure"
            | "figcaption"
            | "details"
            | "summary"
            | "address"
            | "form"
            | "fieldset"
            | "hr"
            | "body"
            | "html"
            | "caption"
    )
}

/// Lays out extracted HTML as text: block elements become lines, `<br>` breaks a line, table cells
/// are joined with ` | `, whitespace inside a line collapses (except in `<pre>`), empty lines vanish.
pub fn render(html: &str) -> String {
    if html.trim().is_empty() {
        return String::new();
    }
    let frag = scraper::Html::parse_fragment(html);
    let mut out = Layout::default();
    // Iterative walk (explicit stack): no recursion, so no stack overflow on deep trees.
    enum Ev<'a> {
        Open(ego_tree::NodeRef<'a, scraper::Node>),
        Close(&'a str),
    }
    let mut stack = vec![Ev::Open(frag.tree.root())];
    while let Some(ev) = stack.pop() {
        match ev {
            Ev::Close(tag) => out.close(tag),
            Ev::Open(node) => match node.value() {
                scraper::Node::Text(t) => out.text(t),
                scraper::Node::Element(e) => {
                    let tag = e.name();
                    match tag {
                        // `rt`/`rp`: ruby readings (furigana) would split every annotated word.
                        "script" | "style" | "noscript" | "template" | "svg" | "math" | "rt"
                        | "rp" => continue,
                        "br" | "lb" => {
                            out.newline();
                            continue;
                        }
                        _ => {}
                    }
                    out.open(tag);
                    stack.push(Ev::Close(tag));
                    let children: Vec<_> = node.children().collect();
                    stack.extend(children.into_iter().rev().map(Ev::Open));
                }
                _ => {
                    let children: Vec<_> = node.children().collect();
                    stack.extend(children.into_iter().rev().map(Ev::Open));
                }
            },
        }
    }
    out.finish()
}

#[derive(Default)]
struct Layout {
    out: String,
    line: String,
    pre: usize,
    /// Cells already written on the current table row (for the ` | ` separator).
    cells: usize,
    pending_space: bool,
}

impl Layout {
    fn open(&mut self, tag: &str) {
        match tag {
            "pre" => {
                self.newline();
                self.pre += 1;
            }
            "td" | "th" | "cell" => {
                if self.cells > 0 {
                    self.line.push_str(" | ");
                    self.pending_space = false;
                }
                self.cells += 1;
            }
            "tr" | "row" => {
                self.newline();
                self.cells = 0;
            }
            t if is_block(t) => self.newline(),
            _ => {}
        }
    }

    fn close(&mut self, tag: &str) {
        match tag {
            "pre" => {
                self.newline();
                self.pre = self.pre.saturating_sub(1);
            }
            "tr" | "row" => {
                self.newline();
                self.cells = 0;
            }
            "td" | "th" | "cell" => {}
            t if is_block(t) => self.newline(),
            _ => {}
        }
    }

    fn text(&mut self, t: &str) {
        if self.pre > 0 {
            for (i, part) in t.split('\n').enumerate() {
                if i > 0 {
                    self.newline();
                }
                self.line.push_str(part.trim_end());
            }
            return;
        }
        for (i, word) in t.split(char::is_whitespace).enumerate() {
            if i > 0 {
                self.pending_space = true;
            }
            if word.is_empty() {
                continue;
            }
            if self.pending_space && !self.line.is_empty() && !self.line.ends_with(' ') {
                self.line.push(' ');
            }
            self.pending_space = false;
            self.line.push_str(word);
        }
    }

    fn newline(&mut self) {
        // Inside <pre> the indentation is content; elsewhere a line is trimmed.
        let l = if self.pre > 0 {
            self.line.trim_end()
        } else {
            self.line.trim()
        };
        let l = if l.trim_start().is_empty() { "" } else { l };
        if !l.is_empty() {
            if !self.out.is_empty() {
                self.out.push('\n');
            }
            self.out.push_str(l);
        }
        self.line.clear();
        self.pending_space = false;
    }

    fn finish(mut self) -> String {
        self.newline();
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_lays_out_blocks_lists_tables_and_pre() {
        let html = "<h2>Title  here</h2><p>First <b>bold</b>\n para.</p><p>Second<br>line</p>\
            <ul><li>one</li><li>two <i>x</i></li></ul><table><tr><td>a</td><td>b</td></tr><tr><th>c</th></tr></table>\
            <pre>fn main() {\n    x\n}</pre><p>  </p>";
        assert_eq!(
            render(html),
            "Title here\nFirst bold para.\nSecond\nline\none\ntwo x\na | b\nc\nfn main() {\n    x\n}"
        );
        assert_eq!(render(""), "");
        assert_eq!(render("<p>a &amp; b&nbsp;c</p>"), "a & b c");
    }

    #[test]
    fn drops_navigation_and_footer_and_keeps_paragraphs() {
        let para =
            "The quick brown fox jumps over the lazy dog near the river bank while the sun sets. ";
        let html = format!(
            "<html><head><title>A story</title></head><body><nav><a href=/>Home</a> <a href=/b>Blog</a></nav>\
             <div id=cookie-banner>We use cookies. Accept all cookies.</div>\
             <article><h1>A story</h1><p>{}</p><p>{}</p><ul><li>first point of the list</li><li>second point</li></ul></article>\
             <footer>Copyright 2024 Example Corp. All rights reserved.</footer></body></html>",
            para.repeat(4),
            para.repeat(3)
        );
        let e = extract(&html, Some("https://example.com/story"));
        assert_eq!(e.title.as_deref(), Some("A story"));
        let lines: Vec<&str> = e.text.lines().collect();
        assert!(
            lines.iter().any(|l| l.starts_with("The quick brown fox")),
            "{}",
            e.text
        );
        assert!(
            lines.contains(&"first point of the list") && lines.contains(&"second point"),
            "{}",
            e.text
        );
        assert!(
            !e.text.contains("Copyright") && !e.text.contains("Blog"),
            "{}",
            e.text
        );
        assert!(!e.text.contains("cookies"), "{}", e.text);
        assert!(lines.len() >= 4);
    }

    #[test]
    fn ruby_annotations_are_removed() {
        assert_eq!(
            strip_ruby_annotations("<p><ruby>子<rt>こ</rt></ruby>ども<RUBY>漢字<rp>(</rp><rt class=x>かんじ<rp>)</rp></ruby></p>"),
            "<p><ruby>子</ruby>ども<RUBY>漢字</ruby></p>"
        );
        assert!(matches!(
            strip_ruby_annotations("<p>no ruby <rtx></p>"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(strip_ruby_annotations("a<rt>unclosed"), "a");
    }

    #[test]
    fn empty_and_garbage_give_empty_text() {
        assert_eq!(extract("", None).text, "");
        assert_eq!(extract("<html><body></body></html>", None).text, "");
        let e = extract("\u{0}\u{1}<<<>>>&&&#;", Some("not a url"));
        assert!(e.text.len() < 20 && !e.failed, "{e:?}");
    }
}
