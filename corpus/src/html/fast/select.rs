//! Which lines of a parsed page are its main content.
//!
//! 1. **Boilerplate blocks** flagged by the tree (`nav`, `aside`, `footer`, `form`, class/id words
//!    such as `sidebar`, `cookie`, `share`, `comment`, roles) are removed with their subtree, unless
//!    they wrap most of the page's text (ASP.NET pages put everything in one `<form>`; some themes
//!    call the page wrapper `sidebar-layout`). A `<header>` is removed outside an article.
//! 2. **The article container** is chosen readability-style: every paragraph-sized line with few
//!    links scores its block and that block's ancestors (less with each level); a node's score is
//!    scaled by its share of non-link text; an article marker (`<article>`, `<main>`,
//!    `itemprop=articleBody`, `class=entry-content`) adds to it. The best node is the container;
//!    siblings that score close to it join it.
//! 3. **Lines** inside the container are kept unless they are mostly link text (menus, tag lists,
//!    "read more") or tiny fragments between links.

use super::tree::{flag, Kind, Page};

/// Tuning knobs, fixed: the gold-set score in `docs/html.md` was measured with these.
const MIN_PARA: u32 = 25;
/// How many ancestor levels of the container look for sibling blocks of article prose.
const SIBLING_LEVELS: usize = 6;
/// Most score one block's lines add up to.
const BLOCK_CAP: f64 = 8.0;
/// A flagged block holding at least this share of the page's text is a wrapper, not boilerplate.
const WRAPPER_SHARE: f64 = 0.6;
/// A candidate outside tolerated wrappers wins when it scores at least this share of the best.
const STRICT_SHARE: f64 = 0.25;
/// The container climbs into a content-marked parent whose other text has fewer links than this.
const CLIMB_MAX_LINKS: f64 = 0.25;
/// Lead lines (before the container) of at least this many characters are article prose.
const LEAD_MIN: u32 = 80;
/// A paragraph that is one link is content from this many words on.
const LINK_PARA_WORDS: usize = 4;

/// Per-node results of the selection, for tests and debugging.
#[derive(Debug, Default)]
pub struct Selection {
    /// Indices of the kept lines, in document order.
    pub lines: Vec<usize>,
    /// The chosen container node.
    pub container: u32,
    /// Why each line was dropped (`None`: kept); for tests and `html_show --explain`.
    pub why: Vec<Option<&'static str>>,
}

/// Chooses the main-content lines of `page` (which must have been [aggregated](Page::aggregate)).
pub fn select(page: &Page, include_tables: bool) -> Selection {
    let n = page.nodes.len();
    if page.lines.is_empty() {
        return Selection::default();
    }
    // Tuning aid: `QUARRY_FAST_DEBUG=1` prints the best container candidates (read once).
    static DEBUG: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let dbg = *DEBUG.get_or_init(|| std::env::var_os("QUARRY_FAST_DEBUG").is_some());
    let total = page.nodes[0].chars.max(1) as f64;
    // 1. Removed subtrees (parents precede children in the arena).
    let mut removed = vec![false; n];
    let mut in_content = vec![false; n];
    // Inside a flagged block that was kept only because it wraps most of the page.
    let mut wrapped = vec![false; n];
    for i in 1..n {
        let node = &page.nodes[i];
        let p = node.parent as usize;
        in_content[i] = in_content[p] || node.flags & flag::CONTENT_TAG != 0;
        if removed[p] {
            removed[i] = true;
            continue;
        }
        let f = node.flags;
        let wrapper = node.chars as f64 >= WRAPPER_SHARE * total;
        let positive = f & (flag::CONTENT_TAG | flag::CONTENT_ATTR) != 0;
        let bad = (f & flag::COMMENTS != 0 && f & flag::CONTENT_TAG == 0)
            || f & flag::BOILER_TAG != 0
            || (f & flag::BOILER_ATTR != 0 && !positive)
            || (f & flag::HEADER != 0 && !in_content[p]);
        // A comment section is never a wrapper: on busy pages it holds most of the text.
        let comments = f & flag::COMMENTS != 0 && f & flag::CONTENT_TAG == 0;
        removed[i] = comments || (bad && !wrapper);
        wrapped[i] = wrapped[p] || (bad && wrapper);
    }
    // Clean per-node text after removal, and line scores: long lines with few links and some
    // commas are article prose; short lines (menus, names, dates) score nothing.
    let mut chars = vec![0u32; n];
    let mut links = vec![0u32; n];
    let mut score = vec![0f64; n];
    let mut sub = vec![0f64; n];
    let mut own = vec![0f64; n];
    for l in &page.lines {
        let o = l.node as usize;
        if removed[o] {
            continue;
        }
        chars[o] += l.chars.saturating_sub(l.link_chars);
        links[o] += l.link_chars;
        own[o] += line_score(l);
    }
    for o in 0..n {
        // One block's lines count at most this much: a `<td>` of 200 `<br>`-separated names is
        // one block, not 200 paragraphs (readability scores elements, not lines, for the same
        // reason).
        let s = own[o].min(BLOCK_CAP);
        if s <= 0.0 {
            continue;
        }
        sub[o] += s;
        // The block itself, its parent, then fading.
        let mut node = o;
        for w in [1.0, 1.0, 0.5, 0.33, 0.25] {
            score[node] += s * w;
            if node == 0 {
                break;
            }
            node = page.nodes[node].parent as usize;
        }
    }
    for i in (1..n).rev() {
        let p = page.nodes[i].parent as usize;
        chars[p] += chars[i];
        links[p] += links[i];
        sub[p] += sub[i];
    }
    let link_density = |i: usize| links[i] as f64 / (chars[i] + links[i]).max(1) as f64;
    // 2. Container.
    let mut contains_wrapped = vec![false; n];
    for i in (1..n).rev() {
        if wrapped[i] || contains_wrapped[i] {
            contains_wrapped[page.nodes[i].parent as usize] = true;
        }
    }
    let container_score = |i: usize| {
        let node = &page.nodes[i];
        let mut s = score[i] * (1.0 - link_density(i));
        if node.flags & flag::CONTENT_TAG != 0 {
            s *= 1.25;
        } else if node.flags & flag::CONTENT_ATTR != 0 {
            s *= 1.15;
        }
        s
    };
    let (mut best, mut best_score) = (0usize, f64::MIN);
    // The best candidate that neither lies in nor holds a tolerated boilerplate wrapper.
    let (mut strict, mut strict_score) = (0usize, f64::MIN);
    for i in 1..n {
        if removed[i] || score[i] <= 0.0 {
            continue;
        }
        let s = container_score(i);
        if s > best_score {
            best_score = s;
            best = i;
        }
        if !wrapped[i] && !contains_wrapped[i] && s > strict_score {
            strict_score = s;
            strict = i;
        }
    }
    // Why: a flagged block that holds most of the text (a "next posts" strip under a short post)
    // is tolerated so ASP.NET-style page wrappers survive, but when prose of comparable weight lies
    // outside it, that prose is the article and the flagged block is what it says it is.
    if best != strict && strict != 0 && strict_score >= STRICT_SHARE * best_score {
        best = strict;
        best_score = strict_score;
    }
    // Why: an article body marked by its class (`entry-content`) often holds one block that
    // outscores it (a list of steps) beside short lines that score nothing (ingredients); when
    // the rest of the marked body is not link lists, the marked body is the container.
    for _ in 0..2 {
        let p = page.nodes[best].parent as usize;
        let marked = |i: usize| page.nodes[i].flags & (flag::CONTENT_ATTR | flag::CONTENT_TAG) != 0;
        if best == 0
            || p == 0
            || removed[p]
            || marked(best)
            || page.nodes[p].flags & flag::CONTENT_ATTR == 0
        {
            break;
        }
        let rest_links = links[p] - links[best];
        let rest = (chars[p] - chars[best]) + rest_links;
        if (rest_links as f64) >= CLIMB_MAX_LINKS * rest.max(1) as f64 {
            break;
        }
        best = p;
    }
    let container = best as u32;
    if dbg {
        let mut v: Vec<usize> = (1..n).filter(|&i| score[i] > 0.0 && !removed[i]).collect();
        v.sort_by(|a, b| score[*b].total_cmp(&score[*a]));
        for &i in v.iter().take(8) {
            eprintln!(
                "node {i} kind {:?} flags {:b} parent {} score {:.1} sub {:.1} chars {} links {}",
                page.nodes[i].kind,
                page.nodes[i].flags,
                page.nodes[i].parent,
                score[i],
                sub[i],
                chars[i],
                links[i]
            );
        }
        eprintln!("best {best} score {best_score:.1}");
    }
    let mut keep_node = vec![false; n];
    keep_node[best] = true;
    if best != 0 {
        // Blocks near the container that hold article prose join it: siblings first, then the
        // parent's siblings, and so on a few levels up (articles split over several sections).
        let base = sub[best];
        let mut cur = best;
        for level in 0..SIBLING_LEVELS {
            let parent = page.nodes[cur].parent as usize;
            if parent == 0 {
                break;
            }
            let threshold = (base * (0.2 + 0.05 * level as f64)).max(2.0);
            for i in parent + 1..n {
                if page.nodes[i].parent as usize == parent
                    && i != cur
                    && !removed[i]
                    && sub[i] >= threshold
                    && link_density(i) < 0.35
                    // A container outside tolerated wrappers does not pull them back in.
                    && (wrapped[best] || !(wrapped[i] || contains_wrapped[i]))
                {
                    keep_node[i] = true;
                }
            }
            cur = parent;
        }
    }
    // Propagate "inside a kept container" down the arena.
    let mut inside = keep_node.clone();
    for i in 1..n {
        if inside[page.nodes[i].parent as usize] {
            inside[i] = true;
        }
    }
    // Why: the title and lead paragraph often sit in blocks just before the body (`<header>` of an
    // article, a `standfirst` div): they score less than the body and rarely reach the sibling
    // threshold. Preceding siblings of the container (not flagged as boilerplate, except the
    // article's own `<header>`) contribute their headings and paragraph-sized prose lines, not
    // their dates, bylines or kickers.
    let mut lead = vec![false; n];
    if best != 0 {
        let parent = page.nodes[best].parent as usize;
        for i in parent + 1..best {
            let node = &page.nodes[i];
            let boiler = node.flags & flag::BOILER_ATTR != 0 && node.flags & flag::HEADER == 0;
            let p = node.parent as usize;
            if removed[i] || boiler || inside[i] {
                continue;
            }
            if p == parent || lead[p] {
                lead[i] = true;
            }
        }
    }
    // 3. Lines.
    let mut block_lines = vec![0u32; n];
    for l in &page.lines {
        block_lines[l.node as usize] += 1;
    }
    let mut out = Vec::new();
    let mut why = Vec::with_capacity(page.lines.len());
    for (idx, l) in page.lines.iter().enumerate() {
        let o = l.node as usize;
        let ld = l.link_chars as f64 / l.chars.max(1) as f64;
        let w = if removed[o] {
            Some("boilerplate")
        } else if lead[o] && !inside[o] {
            let heading = l.kind == Kind::Heading && ld < 0.5;
            if heading || (l.chars >= LEAD_MIN && ld < 0.2) || link_paragraph(l, block_lines[o]) {
                out.push(idx);
                None
            } else {
                Some("lead")
            }
        } else if !inside[o] {
            Some("outside")
        } else if !include_tables && in_table(page, o) {
            Some("table")
        } else if l.kind != Kind::Pre && ld > 0.5 && !link_paragraph(l, block_lines[o]) {
            Some("links")
        } else {
            out.push(idx);
            None
        };
        why.push(w);
    }
    Selection {
        lines: out,
        container,
        why,
    }
}

/// Score of one line as article prose: length (capped), commas (sentence structure), and a
/// bonus for paragraph-sized lines; zero for short or link-heavy lines.
fn line_score(l: &super::tree::Line) -> f64 {
    if l.chars < MIN_PARA || l.link_chars as f64 >= 0.5 * l.chars as f64 {
        return 0.0;
    }
    let text_chars = (l.chars - l.link_chars) as f64;
    let commas = l
        .text
        .chars()
        .filter(|c| matches!(c, ',' | '，' | '、' | '。' | '،'))
        .count()
        .min(5) as f64;
    if l.chars < 80 {
        return text_chars / 100.0;
    }
    (text_chars / 100.0).min(3.0) + 0.5 * commas + 1.0
}

/// Why: a link written as a sentence-paragraph of its own (a "read this in Turkish." line) or an
/// address to write to is part of the article, whereas menus, tag lists, "read more" and
/// "related" links are list items, cells, several links in one block, or not sentences.
fn link_paragraph(l: &super::tree::Line, lines_in_block: u32) -> bool {
    if l.kind != Kind::Para || lines_in_block != 1 {
        return false;
    }
    let mut words = l.text.split_whitespace();
    let first = words.next().unwrap_or("");
    let n = 1 + words.count();
    let sentence = l.text.ends_with(['.', '!', '?', '。', '！', '？']);
    (n >= LINK_PARA_WORDS && sentence) || (n == 1 && (first.contains('@') || first.contains("://")))
}

fn in_table(page: &Page, mut i: usize) -> bool {
    loop {
        if matches!(page.nodes[i].kind, Kind::Table | Kind::Row | Kind::Cell) {
            return true;
        }
        if i == 0 {
            return false;
        }
        i = page.nodes[i].parent as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree;
    use super::*;

    fn kept(html: &str) -> Vec<String> {
        let mut page = tree::parse(html);
        page.aggregate();
        let sel = select(&page, true);
        sel.lines
            .iter()
            .map(|&i| page.lines[i].text.clone())
            .collect()
    }

    const P: &str =
        "A sentence of article prose, long enough to score, with commas, clauses, and words. ";

    #[test]
    fn lead_before_the_body_keeps_title_and_standfirst_not_the_date() {
        let html = format!(
            "<body><div id=wrap><article><header class=entry-header><h1>The title</h1>\
             <div class=standfirst><p>The lead paragraph says what happened, to whom, and why it \
             matters, in one long sentence.</p></div><div>12.01.2020 um 10:00</div></header>\
             <div>{body}</div></article></div></body>",
            body = format!("<p>{P}{P}</p>").repeat(6)
        );
        let k = kept(&html);
        assert_eq!(k[0], "The title");
        assert!(k[1].starts_with("The lead paragraph"), "{k:?}");
        assert!(!k.iter().any(|l| l.contains("12.01.2020")), "{k:?}");
    }

    #[test]
    fn short_lines_of_a_marked_body_join_its_best_block() {
        let html = format!(
            "<body><div class=entry-content><p>Zutaten:<br>300 g Mehl<br>200 g Zucker<br>1 Ei</p>\
             <ol><li>{P}</li><li>{P}</li><li>{P}</li></ol></div>\
             <div class=other><p><a href=/a>Home</a> <a href=/b>Blog</a></p></div></body>"
        );
        let k = kept(&html);
        assert!(k.contains(&"200 g Zucker".to_string()), "{k:?}");
        assert!(!k.iter().any(|l| l.contains("Blog")));
        // An unmarked parent is not climbed into.
        let html2 = html.replace("entry-content", "plain");
        assert!(!kept(&html2).contains(&"200 g Zucker".to_string()));
    }

    #[test]
    fn prose_outside_a_tolerated_boilerplate_wrapper_wins() {
        let teaser =
            format!("<div class=teaser><h2><a href=/x>Other story</a></h2><p>{P}{P}</p></div>");
        let html = format!(
            "<body><div id=story><p>{P}{P}</p></div>\
             <div id=next-post-thumbnails>{}</div></body>",
            teaser.repeat(5)
        );
        let k = kept(&html);
        assert_eq!(k.len(), 1, "{k:?}");
        // With nothing outside it, the flagged wrapper is still the page (ASP.NET forms).
        let html = format!("<body><form id=aspnetForm><p>{P}{P}</p><p>{P}</p></form></body>");
        assert_eq!(kept(&html).len(), 2);
    }

    #[test]
    fn a_link_sentence_paragraph_is_content_a_link_list_is_not() {
        let html = format!(
            "<body><article><p>{P}{P}</p><p><a href=/tr>Read this article in Turkish here.</a></p>\
             <p><a href=mailto:x@example.org>x@example.org</a></p><p><a href=/m>Read more</a></p>\
             <p>Related:<br><a href=/1>First related story title here</a><br><a href=/2>Second one \
             of them here</a></p><p>{P}</p></article></body>"
        );
        let k = kept(&html);
        assert!(
            k.contains(&"Read this article in Turkish here.".to_string()),
            "{k:?}"
        );
        assert!(k.contains(&"x@example.org".to_string()));
        assert!(!k
            .iter()
            .any(|l| l.contains("Read more") || l.contains("related story")));
    }
}
