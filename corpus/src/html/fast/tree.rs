//! One pass over the tokens: a flat arena of element nodes (parent links, boilerplate signals) and
//! the page's text already laid out in lines (one paragraph, heading, list item or table row per
//! line), each line owned by its nearest block element.
//!
//! Elements whose text is never content (`svg`, `button`, `select`, hidden elements, inline elements
//! with boilerplate class names, ...) drop their text here. Block-level boilerplate (`nav`,
//! `footer`, `class="sidebar"`, ...) is only *flagged*: whether it is removed is decided later, with
//! the whole page in view (a `<form>` or `id="comments-layout"` that wraps the whole page is not
//! boilerplate).

use super::tokenize::{attrs, decode_entities_into, Token, Tokenizer};

/// Deepest element nesting tracked; deeper start tags are treated as inline (their text stays).
pub const MAX_DEPTH: usize = 512;

/// What we need to know about an element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any element we do not treat specially (inline).
    Inline,
    /// Block container (`div`, `section`, ...): breaks lines, owns lines.
    Block,
    /// `<p>`.
    Para,
    /// `<h1>`..`<h6>`.
    Heading,
    /// `<li>`, `<dt>`, `<dd>`.
    Item,
    /// `<ul>`, `<ol>`, `<dl>`.
    List,
    /// `<table>`.
    Table,
    /// `<tr>`.
    Row,
    /// `<td>`, `<th>`.
    Cell,
    /// `<pre>`.
    Pre,
    /// `<a>`.
    Link,
    /// `<br>`.
    Br,
    /// Void elements other than `<br>` (`img`, `meta`, `input`, ...): never pushed.
    Void,
    /// Elements whose text is never content (`svg`, `button`, `select`, `template`, ...).
    Skip,
    /// `<body>`.
    Body,
    /// `<head>`: text in it is not content.
    Head,
}

impl Kind {
    /// Breaks the line before and after, and owns the lines inside.
    pub fn is_block(self) -> bool {
        !matches!(
            self,
            Kind::Inline | Kind::Link | Kind::Br | Kind::Void | Kind::Skip | Kind::Cell
        )
    }
}

/// Node flags.
pub mod flag {
    /// Boilerplate by tag (`nav`, `aside`, `footer`, `form`, `menu`, ...).
    pub const BOILER_TAG: u16 = 1;
    /// Boilerplate by class / id / role (`sidebar`, `cookie-banner`, `role=navigation`, ...).
    pub const BOILER_ATTR: u16 = 2;
    /// Main-content marker: `<article>`, `<main>`, `role=main`, `itemprop=articleBody`.
    pub const CONTENT_TAG: u16 = 4;
    /// Class / id looks like an article body (`entry-content`, `post-body`, `article-text`, ...).
    pub const CONTENT_ATTR: u16 = 8;
    /// `<header>`: boilerplate at page level, but often holds the title inside an article.
    pub const HEADER: u16 = 16;
    /// A comment section (class / id `comment`): removed even when positive words are present.
    pub const COMMENTS: u16 = 32;
}

/// An element.
#[derive(Debug, Clone)]
pub struct Node {
    /// Element type.
    pub kind: Kind,
    /// Parent index (the root, 0, is its own parent).
    pub parent: u32,
    /// [`flag`] bits.
    pub flags: u16,
    /// Hash of the lowercased tag name (to match end tags of [`Kind::Skip`] elements).
    pub name: u32,
    /// Non-link characters of the lines this node owns, then (after [`Page::aggregate`]) of its
    /// subtree.
    pub chars: u32,
    /// Link characters, likewise.
    pub link_chars: u32,
    /// Lines of at least 25 characters in the subtree (after aggregation).
    pub paras: u32,
}

/// A line of text.
#[derive(Debug, Clone)]
pub struct Line {
    /// Nearest block element.
    pub node: u32,
    /// Kind of that element (heading, item, ...), or of the line's table row.
    pub kind: Kind,
    /// Text, whitespace collapsed (verbatim inside `<pre>`).
    pub text: String,
    /// Characters in total.
    pub chars: u32,
    /// Characters inside `<a>`.
    pub link_chars: u32,
}

/// A parsed page.
#[derive(Debug, Default)]
pub struct Page {
    /// Elements; index 0 is the document root.
    pub nodes: Vec<Node>,
    /// Lines in document order.
    pub lines: Vec<Line>,
    /// `<title>`, whitespace collapsed.
    pub title: Option<String>,
    /// `<meta property="og:title">`.
    pub og_title: Option<String>,
}

fn kind_of(lower: &[u8]) -> Kind {
    match lower {
        b"div" | b"section" | b"article" | b"main" | b"header" | b"footer" | b"nav" | b"aside"
        | b"blockquote" | b"figure" | b"figcaption" | b"details" | b"summary" | b"address"
        | b"form" | b"fieldset" | b"center" | b"html" | b"caption" | b"thead" | b"tbody"
        | b"tfoot" | b"menu" | b"hgroup" | b"dialog" | b"legend" => Kind::Block,
        b"p" => Kind::Para,
        b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6" => Kind::Heading,
        b"li" | b"dt" | b"dd" => Kind::Item,
        b"ul" | b"ol" | b"dl" => Kind::List,
        b"table" => Kind::Table,
        b"tr" => Kind::Row,
        b"td" | b"th" => Kind::Cell,
        b"pre" | b"listing" => Kind::Pre,
        b"a" => Kind::Link,
        b"br" => Kind::Br,
        b"img" | b"meta" | b"link" | b"input" | b"hr" | b"area" | b"base" | b"col" | b"embed"
        | b"param" | b"source" | b"track" | b"wbr" | b"keygen" | b"image" => Kind::Void,
        b"svg" | b"math" | b"template" | b"button" | b"select" | b"option" | b"optgroup"
        | b"datalist" | b"object" | b"applet" | b"audio" | b"video" | b"canvas" | b"map"
        | b"rt" | b"rp" | b"label" | b"style" | b"script" | b"noscript" | b"iframe"
        | b"textarea" | b"output" | b"progress" | b"meter" | b"picture" => Kind::Skip,
        b"body" => Kind::Body,
        b"head" => Kind::Head,
        _ => Kind::Inline,
    }
}

/// Class/id words: boilerplate, comment sections, article bodies. Matched on the lowercased
/// `class` + `id` value.
fn classify_attr(s: &str) -> u16 {
    use aho_corasick::AhoCorasick;
    use std::sync::OnceLock;
    // Substrings that mark boilerplate wherever they occur in a class or id.
    const BOILER: &[&str] = &[
        "sidebar",
        "side-bar",
        "cookie",
        "consent",
        "gdpr",
        "banner",
        "advert",
        "adsense",
        "adslot",
        "ad-slot",
        "ad-container",
        "ad-wrapper",
        "sponsor",
        "promo",
        "newsletter",
        "subscri",
        "share",
        "sharing",
        "social",
        "breadcrumb",
        "navbar",
        "navigation",
        "nav-",
        "-nav",
        "menu",
        "footer",
        "masthead",
        "widget",
        "related",
        "recommend",
        "popular",
        "trending",
        "teaser",
        "popup",
        "modal",
        "overlay",
        "toolbar",
        "pagination",
        "pager",
        "skip-link",
        "skiplink",
        "login",
        "signup",
        "sign-up",
        "outbrain",
        "taboola",
        "disqus",
        "most-read",
        "mostread",
        "print-",
        "tag-list",
        "taglist",
        "post-tags",
        "tags",
        "author-bio",
        "byline",
        "rating",
        "jump-to",
        "toc-",
        "more-stories",
        "read-more",
        "readmore",
        "next-post",
        "prev-post",
        "post-nav",
        "dropdown",
        "topbar",
        "top-bar",
        "site-header",
        "page-header",
        "header-",
        "-header",
        "legal",
        "copyright",
        "infobox",
        "navbox",
        "catlinks",
        "editsection",
        "mw-jump",
        "printfooter",
        "hidden",
        "visually-hidden",
        "sr-only",
        "screen-reader",
        "offscreen",
        "meta-",
        "post-meta",
        "entry-meta",
        "article-meta",
        "caption",
        "credit",
        "contact",
        "search",
    ];
    const COMMENTS: &[&str] = &["comment", "respond", "reply", "discuss"];
    const CONTENT: &[&str] = &[
        "article",
        "content",
        "entry",
        "post-body",
        "postbody",
        "post-text",
        "posttext",
        "story",
        "main",
        "blog-post",
        "body-text",
        "bodytext",
        "text",
        "prose",
        "mw-parser",
        "rich-text",
        "richtext",
        "post-content",
        "single-post",
    ];
    static AC: OnceLock<(AhoCorasick, usize, usize)> = OnceLock::new();
    let (ac, nb, nc) = AC.get_or_init(|| {
        let pats: Vec<&str> = BOILER
            .iter()
            .chain(COMMENTS)
            .chain(CONTENT)
            .copied()
            .collect();
        (
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&pats)
                .expect("static patterns"),
            BOILER.len(),
            COMMENTS.len(),
        )
    });
    let mut f = 0;
    for m in ac.find_overlapping_iter(s) {
        let p = m.pattern().as_usize();
        if p >= *nb && p < nb + nc && s[m.end()..].starts_with("ary") {
            continue; // `commentary`: an opinion piece, not a comment section
        }
        if p < *nb
            && BOILER[p] == "search"
            && m.start() >= 2
            && s.as_bytes()[m.start() - 2..m.start()].eq_ignore_ascii_case(b"re")
        {
            continue; // `research-summary`: a researcher's page, not a search box
        }
        f |= if p < *nb {
            flag::BOILER_ATTR
        } else if p < nb + nc {
            flag::COMMENTS
        } else {
            flag::CONTENT_ATTR
        };
    }
    // Short words only as whole words: `ad`, `ads`, `nav`, `tags` would match inside `header`,
    // `uploads`, `canvas`.
    for w in s.split(|c: char| !c.is_ascii_alphanumeric()) {
        if [
            "ad", "ads", "nav", "share", "social", "menu", "tags", "aside", "meta", "widget",
        ]
        .iter()
        .any(|x| w.eq_ignore_ascii_case(x))
        {
            f |= flag::BOILER_ATTR;
        }
    }
    f
}

/// FNV-1a of an already lowercased name.
fn name_hash_lower(lower: &[u8]) -> u32 {
    lower.iter().fold(0x811c_9dc5u32, |h, &c| {
        (h ^ c as u32).wrapping_mul(0x0100_0193)
    })
}

/// FNV-1a of a name, ASCII-lowercased on the fly.
fn name_hash(name: &str) -> u32 {
    name.bytes().fold(0x811c_9dc5u32, |h, c| {
        (h ^ c.to_ascii_lowercase() as u32).wrapping_mul(0x0100_0193)
    })
}

fn hidden_style(v: &str) -> bool {
    let v: String = v
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    v.contains("display:none") || v.contains("visibility:hidden")
}

struct Builder {
    page: Page,
    stack: Vec<u32>,
    /// Nearest block element per stack entry (parallel to `stack`).
    blocks: Vec<u32>,
    /// Open elements that drop their text (skip kinds, hidden, inline boilerplate).
    skip_depth: usize,
    link_depth: usize,
    pre_depth: usize,
    in_head: usize,
    line: String,
    line_node: u32,
    line_kind: Kind,
    line_chars: u32,
    line_link_chars: u32,
    pending_space: bool,
    cells: usize,
    tmp: String,
}

impl Builder {
    fn top(&self) -> u32 {
        *self.stack.last().unwrap_or(&0)
    }

    fn block(&self) -> u32 {
        *self.blocks.last().unwrap_or(&0)
    }

    fn flush(&mut self) {
        let trimmed_end = self.line.trim_end().len();
        self.line.truncate(trimmed_end);
        if !self.line.trim_start().is_empty() {
            let text = if self.pre_depth > 0 {
                std::mem::take(&mut self.line)
            } else {
                self.line.trim_start().to_string()
            };
            self.page.lines.push(Line {
                node: self.line_node,
                kind: self.line_kind,
                chars: self.line_chars,
                link_chars: self.line_link_chars,
                text,
            });
            let n = &mut self.page.nodes[self.line_node as usize];
            n.chars += self.line_chars - self.line_link_chars.min(self.line_chars);
            n.link_chars += self.line_link_chars;
        }
        self.line.clear();
        self.line_chars = 0;
        self.line_link_chars = 0;
        self.pending_space = false;
    }

    fn text(&mut self, raw: &str) {
        if self.skip_depth > 0 || self.in_head > 0 {
            return;
        }
        self.tmp.clear();
        decode_entities_into(raw, &mut self.tmp);
        if self.tmp.contains('\u{ad}') {
            // Soft hyphens are invisible hyphenation hints (`réac&shy;tion`), not text.
            self.tmp.retain(|c| c != '\u{ad}');
        }
        let tmp = std::mem::take(&mut self.tmp);
        let starts_line = self.line.is_empty();
        let mut added = 0u32;
        if self.pre_depth > 0 {
            for (i, part) in tmp.split('\n').enumerate() {
                if i > 0 {
                    self.flush();
                }
                let part = part.trim_end_matches('\r');
                if !part.is_empty() && self.line.is_empty() {
                    self.line_node = self.block();
                    self.line_kind = Kind::Pre;
                }
                self.line.push_str(part);
                let n = part.chars().count() as u32;
                self.line_chars += n;
                if self.link_depth > 0 {
                    self.line_link_chars += n;
                }
            }
        } else {
            for (i, word) in tmp
                .split(|c: char| c.is_whitespace() || c == '\u{a0}')
                .enumerate()
            {
                if i > 0 {
                    self.pending_space = true;
                }
                if word.is_empty() {
                    continue;
                }
                if self.pending_space && !self.line.is_empty() && !self.line.ends_with(' ') {
                    self.line.push(' ');
                    added += 1;
                }
                self.pending_space = false;
                self.line.push_str(word);
                added += word.chars().count() as u32;
            }
            if starts_line && !self.line.is_empty() {
                let b = self.block();
                self.line_node = b;
                self.line_kind = self.page.nodes[b as usize].kind;
            }
            self.line_chars += added;
            if self.link_depth > 0 {
                self.line_link_chars += added;
            }
        }
        self.tmp = tmp;
    }

    fn push(&mut self, kind: Kind, flags: u16, name: u32, skip: bool) {
        let idx = self.page.nodes.len() as u32;
        self.page.nodes.push(Node {
            kind,
            parent: self.top(),
            flags,
            name,
            chars: 0,
            link_chars: 0,
            paras: 0,
        });
        let block = if kind.is_block() || kind == Kind::Cell {
            idx
        } else {
            self.block()
        };
        self.stack.push(idx);
        self.blocks.push(block);
        if skip {
            self.skip_depth += 1;
        }
        match kind {
            Kind::Link => self.link_depth += 1,
            Kind::Pre => self.pre_depth += 1,
            Kind::Head => self.in_head += 1,
            _ => {}
        }
    }

    /// Pops the top element.
    fn pop(&mut self) {
        let Some(idx) = self.stack.pop() else { return };
        self.blocks.pop();
        let n = &self.page.nodes[idx as usize];
        let kind = n.kind;
        if self.is_skipping(idx) {
            self.skip_depth = self.skip_depth.saturating_sub(1);
        }
        if kind.is_block() {
            self.flush();
        }
        match kind {
            Kind::Link => self.link_depth = self.link_depth.saturating_sub(1),
            Kind::Pre => self.pre_depth = self.pre_depth.saturating_sub(1),
            Kind::Head => self.in_head = self.in_head.saturating_sub(1),
            Kind::Row => self.cells = 0,
            _ => {}
        }
    }

    fn is_skipping(&self, idx: u32) -> bool {
        self.page.nodes[idx as usize].flags & SKIPPING != 0
    }

    /// Closes open elements down to and including the nearest one of `kind`, if there is one before
    /// any element of a `stop` kind.
    fn close_kind(&mut self, kind: Kind, stop: &[Kind]) -> bool {
        for i in (0..self.stack.len()).rev() {
            let k = self.page.nodes[self.stack[i] as usize].kind;
            if k == kind {
                while self.stack.len() > i {
                    self.pop();
                }
                return true;
            }
            if stop.contains(&k) {
                return false;
            }
        }
        false
    }
}

/// Internal flag: this node made the builder drop text (undone when it is popped).
const SKIPPING: u16 = 1 << 15;

/// Parses a page.
pub fn parse(html: &str) -> Page {
    let mut b = Builder {
        page: Page::default(),
        stack: Vec::with_capacity(64),
        blocks: Vec::with_capacity(64),
        skip_depth: 0,
        link_depth: 0,
        pre_depth: 0,
        in_head: 0,
        line: String::new(),
        line_node: 0,
        line_kind: Kind::Block,
        line_chars: 0,
        line_link_chars: 0,
        pending_space: false,
        cells: 0,
        tmp: String::new(),
    };
    b.page.nodes.push(Node {
        kind: Kind::Block,
        parent: 0,
        flags: 0,
        name: 0,
        chars: 0,
        link_chars: 0,
        paras: 0,
    });
    let mut in_title = false;
    let mut lower = [0u8; 12];
    for tok in Tokenizer::new(html) {
        match tok {
            Token::Text(t) => {
                if in_title {
                    if b.page.title.is_none() {
                        let mut s = String::new();
                        decode_entities_into(t, &mut s);
                        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
                        if !s.is_empty() {
                            b.page.title = Some(s);
                        }
                    }
                } else {
                    b.text(t);
                }
            }
            Token::Skipped(_) => {}
            Token::Start {
                name,
                attrs: a,
                self_closing,
            } => {
                let kind = if name.len() <= lower.len() {
                    let l = &mut lower[..name.len()];
                    l.copy_from_slice(name.as_bytes());
                    l.make_ascii_lowercase();
                    if l == b"title" {
                        in_title = !self_closing;
                        continue;
                    }
                    if l == b"meta" {
                        meta_title(&mut b.page, a);
                    }
                    kind_of(l)
                } else {
                    Kind::Inline
                };
                start_tag(
                    &mut b,
                    kind,
                    &lower[..name.len().min(lower.len())],
                    a,
                    self_closing,
                );
            }
            Token::End { name } => {
                if name.eq_ignore_ascii_case("title") {
                    in_title = false;
                    continue;
                }
                let kind = if name.len() <= lower.len() {
                    let l = &mut lower[..name.len()];
                    l.copy_from_slice(name.as_bytes());
                    l.make_ascii_lowercase();
                    kind_of(l)
                } else {
                    Kind::Inline
                };
                end_tag(&mut b, kind, name);
            }
        }
    }
    while !b.stack.is_empty() {
        b.pop();
    }
    b.flush();
    b.page
}

fn meta_title(page: &mut Page, a: &str) {
    if page.og_title.is_some() {
        return;
    }
    let mut is_og = false;
    let mut content = None;
    for (k, v) in attrs(a) {
        if (k.eq_ignore_ascii_case("property") || k.eq_ignore_ascii_case("name"))
            && v.eq_ignore_ascii_case("og:title")
        {
            is_og = true;
        } else if k.eq_ignore_ascii_case("content") {
            content = Some(v);
        }
    }
    if let (true, Some(c)) = (is_og, content) {
        let mut s = String::new();
        decode_entities_into(c, &mut s);
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        if !s.is_empty() {
            page.og_title = Some(s);
        }
    }
}

fn start_tag(b: &mut Builder, kind: Kind, lower: &[u8], a: &str, self_closing: bool) {
    // Implied end tags (a subset of the HTML parser's): enough to keep list items, rows and
    // paragraphs from nesting into each other.
    match kind {
        Kind::Para | Kind::Heading | Kind::List | Kind::Table | Kind::Pre => {
            if b.stack
                .last()
                .is_some_and(|&t| b.page.nodes[t as usize].kind == Kind::Para)
            {
                b.pop();
            }
        }
        Kind::Block => {
            if b.stack
                .last()
                .is_some_and(|&t| b.page.nodes[t as usize].kind == Kind::Para)
            {
                b.pop();
            }
        }
        Kind::Item => {
            b.close_kind(Kind::Item, &[Kind::List, Kind::Table, Kind::Body]);
        }
        Kind::Row => {
            b.close_kind(Kind::Row, &[Kind::Table]);
        }
        Kind::Cell => {
            b.close_kind(Kind::Cell, &[Kind::Row, Kind::Table]);
        }
        Kind::Body => {
            b.close_kind(Kind::Head, &[]);
        }
        _ => {}
    }
    if b.in_head > 0 && kind != Kind::Head && (kind.is_block() || kind == Kind::Cell) {
        // Content markup without `</head>`/`<body>`: the head has ended.
        b.close_kind(Kind::Head, &[]);
    }
    match kind {
        Kind::Br => {
            b.flush();
            return;
        }
        Kind::Void => return,
        _ => {}
    }
    if b.stack.len() >= MAX_DEPTH || (self_closing && kind != Kind::Skip) {
        if kind.is_block() {
            b.flush();
        }
        return;
    }
    if self_closing {
        return;
    }
    // Attributes: only what the selection uses.
    let mut flags = 0u16;
    let mut hidden = false;
    for (k, v) in attrs(a) {
        let k = k.as_bytes();
        if k.eq_ignore_ascii_case(b"class") || k.eq_ignore_ascii_case(b"id") {
            flags |= classify_attr(v);
        } else if k.eq_ignore_ascii_case(b"role") {
            let v = v.to_ascii_lowercase();
            if matches!(
                v.as_str(),
                "navigation"
                    | "banner"
                    | "contentinfo"
                    | "complementary"
                    | "menu"
                    | "menubar"
                    | "search"
                    | "dialog"
                    | "alert"
                    | "alertdialog"
                    | "toolbar"
            ) {
                flags |= flag::BOILER_ATTR;
            } else if v == "main" || v == "article" {
                flags |= flag::CONTENT_TAG;
            }
        } else if k.eq_ignore_ascii_case(b"itemprop") {
            if v.eq_ignore_ascii_case("articleBody") || v.eq_ignore_ascii_case("text") {
                flags |= flag::CONTENT_TAG;
            }
        } else if k.eq_ignore_ascii_case(b"hidden") {
            hidden = true;
        } else if k.eq_ignore_ascii_case(b"aria-hidden") {
            hidden |= v.eq_ignore_ascii_case("true");
        } else if k.eq_ignore_ascii_case(b"style") {
            hidden |= hidden_style(v);
        }
    }
    match lower {
        b"nav" | b"aside" | b"footer" | b"form" | b"menu" | b"dialog" | b"fieldset" => {
            flags |= flag::BOILER_TAG
        }
        b"header" => flags |= flag::HEADER,
        b"article" | b"main" => flags |= flag::CONTENT_TAG,
        _ => {}
    }
    // Text that is never content goes now; boilerplate *blocks* are only flagged (see module doc).
    let inline_boiler = !kind.is_block()
        && kind != Kind::Cell
        && flags & (flag::BOILER_ATTR | flag::COMMENTS) != 0
        && flags & (flag::CONTENT_ATTR | flag::CONTENT_TAG) == 0;
    let skip = kind == Kind::Skip || hidden || inline_boiler;
    if kind.is_block() {
        b.flush();
    }
    if kind == Kind::Cell {
        if b.cells > 0 && !b.line.is_empty() {
            b.line.push_str(" | ");
            b.line_chars += 3;
        }
        b.cells += 1;
    }
    if kind == Kind::Row {
        b.cells = 0;
    }
    b.push(
        kind,
        flags | if skip { SKIPPING } else { 0 },
        name_hash_lower(lower),
        skip,
    );
}

fn end_tag(b: &mut Builder, kind: Kind, name: &str) {
    match kind {
        Kind::Br => {
            b.flush();
            return;
        }
        Kind::Void => return,
        _ => {}
    }
    // Find the open element: the nearest open element of the same kind is a close enough match
    // for layout (`</div>` closing a `<section>` changes no line).
    let hash = name_hash(name);
    for i in (0..b.stack.len()).rev() {
        let node = &b.page.nodes[b.stack[i] as usize];
        let k = node.kind;
        // Skip kinds also compare names: `</select>` must not stop at an open `<option>`, or the
        // rest of the page would stay skipped.
        if k == kind && (k != Kind::Skip || node.name == hash) {
            while b.stack.len() > i {
                b.pop();
            }
            return;
        }
        // An end tag does not close through a table or list boundary it is not part of.
        if matches!(k, Kind::Table | Kind::Body) && kind != Kind::Table && kind != Kind::Body {
            break;
        }
    }
    if kind == Kind::Para {
        // `</p>` with no open `<p>` is an empty paragraph: a line break, as in browsers.
        b.flush();
    }
}

impl Page {
    /// Sums node counts over subtrees (children come after parents in the arena) and counts
    /// paragraph-sized lines.
    pub fn aggregate(&mut self) {
        for l in &self.lines {
            if l.chars >= 25 {
                self.nodes[l.node as usize].paras += 1;
            }
        }
        for i in (1..self.nodes.len()).rev() {
            let p = self.nodes[i].parent as usize;
            let (c, lc, pa) = (
                self.nodes[i].chars,
                self.nodes[i].link_chars,
                self.nodes[i].paras,
            );
            let n = &mut self.nodes[p];
            n.chars += c;
            n.link_chars += lc;
            n.paras += pa;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(html: &str) -> Vec<String> {
        parse(html).lines.into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn layout_of_blocks_lists_tables_and_pre() {
        let html = "<h2>Title  here</h2><p>First <b>bold</b>\n para.<p>Second<br>line</p>\
            <ul><li>one<li>two <i>x</i></ul><table><tr><td>a<td>b<tr><th>c</table>\
            <pre>fn main() {\n    x\n}</pre><p>  </p><p>a &amp; b&nbsp;c</p>";
        assert_eq!(
            lines(html),
            vec![
                "Title here",
                "First bold para.",
                "Second",
                "line",
                "one",
                "two x",
                "a | b",
                "c",
                "fn main() {",
                "    x",
                "}",
                "a & b c"
            ]
        );
    }

    #[test]
    fn skipped_and_hidden_text_is_gone_and_title_is_read() {
        let p = parse(
            "<html><head><title>The  title</title><meta property=og:title content='OG &amp; T'></head>\
             <body><p>kept <span class=share-buttons>Share this</span> text</p>\
             <div style='display: none'>hidden</div><svg><text>svg</text></svg><button>Click</button>\
             <select><option>opt</select><p hidden>h</p><p>end</p></body></html>",
        );
        let l: Vec<_> = p.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(l, vec!["kept text", "end"]);
        assert_eq!(p.title.as_deref(), Some("The title"));
        assert_eq!(p.og_title.as_deref(), Some("OG & T"));
    }

    #[test]
    fn flags_and_aggregates() {
        let mut p = parse(
            "<body><nav><a href=/>Home</a></nav><div class='entry-content'><p>A paragraph that is \
             long enough to count.</p><p><a href=x>link text</a> and words</p></div>\
             <div id=sidebar>Side</div></body>",
        );
        p.aggregate();
        let nav = p
            .nodes
            .iter()
            .position(|n| n.flags & flag::BOILER_TAG != 0)
            .unwrap();
        assert_eq!(p.nodes[nav].link_chars, 4);
        let content = p
            .nodes
            .iter()
            .position(|n| n.flags & flag::CONTENT_ATTR != 0)
            .unwrap();
        assert_eq!(p.nodes[content].link_chars, 9);
        assert_eq!(p.nodes[content].chars, 41 + 10);
        assert_eq!(p.nodes[content].paras, 1);
        assert!(p.nodes.iter().any(|n| n.flags & flag::BOILER_ATTR != 0));
        assert_eq!(p.nodes[0].chars + p.nodes[0].link_chars, 4 + 41 + 19 + 4);
    }

    #[test]
    fn research_is_not_search_and_commentary_is_not_comments() {
        assert_eq!(classify_attr("research-summary"), 0);
        assert_eq!(classify_attr("site-search"), flag::BOILER_ATTR);
        assert_eq!(classify_attr("commentary"), 0);
        assert_eq!(classify_attr("comments"), flag::COMMENTS);
        // MediaWiki's `[edit]` links beside every heading are not part of the heading.
        assert_eq!(classify_attr("mw-editsection"), flag::BOILER_ATTR);
    }

    #[test]
    fn deep_nesting_and_garbage_are_bounded() {
        let deep = "<div>".repeat(50_000) + "x" + &"</div>".repeat(50_000);
        assert_eq!(lines(&deep), vec!["x"]);
        let t = "<table><tr><td>".repeat(20_000) + "y";
        assert_eq!(lines(&t), vec!["y"]);
        for s in ["", "<", "</p></p></div>", "<p <a>>>", "\u{0}&#;<br/></br>"] {
            let _ = parse(s);
        }
    }
}
