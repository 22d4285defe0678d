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
    let mut best = 0usize;
    let mut best_score = f64::MIN;
    for i in 1..n {
        if removed[i] || score[i] <= 0.0 {
            continue;
        }
        let node = &page.nodes[i];
        let mut s = score[i] * (1.0 - link_density(i));
        if node.flags & flag::CONTENT_TAG != 0 {
            s *= 1.25;
        } else if node.flags & flag::CONTENT_ATTR != 0 {
            s *= 1.15;
        }
        if s > best_score {
            best_score = s;
            best = i;
        }
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
    // 3. Lines.
    let mut out = Vec::new();
    let mut why = Vec::with_capacity(page.lines.len());
    for (idx, l) in page.lines.iter().enumerate() {
        let o = l.node as usize;
        let ld = l.link_chars as f64 / l.chars.max(1) as f64;
        let w = if removed[o] {
            Some("boilerplate")
        } else if !inside[o] {
            Some("outside")
        } else if !include_tables && in_table(page, o) {
            Some("table")
        } else if l.kind != Kind::Pre && ld > 0.5 {
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
