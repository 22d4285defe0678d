//! The main content of a page (what an extractor should keep), separate from its boilerplate, so
//! that a near-duplicate can re-publish the same content with edits inside different boilerplate.

use super::lang::Lang;
use super::rng::Rng;
use super::text::{self, Register};
use super::PageKind;

/// One block of main content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    /// A sub-heading.
    Heading(String),
    /// A paragraph.
    Para(String),
    /// A pull quote.
    Quote(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A forum post or blog comment.
    Post {
        author: &'static str,
        paras: Vec<String>,
        minutes_after: u32,
    },
    /// A product review.
    Review {
        author: &'static str,
        stars: u8,
        text: String,
    },
    /// Lines shown one per line (`<br>`), used by repeated-line spam.
    Lines(Vec<String>),
    /// Links with anchor text, used by link-farm spam.
    Links(Vec<(String, String)>),
}

/// Product data of a product page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Product {
    pub name: String,
    pub price_cents: u32,
    pub sku: u32,
    pub specs: Vec<(String, String)>,
}

/// The main content of a page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Content {
    pub kind: PageKind,
    pub lang: Lang,
    pub title: String,
    pub author: &'static str,
    /// Publication date, in days before the crawl date.
    pub days_before: u32,
    pub blocks: Vec<Block>,
    /// Blog comments (rendered in a separate comments section).
    pub comments: Vec<Block>,
    pub product: Option<Product>,
    /// The re-publisher cut the text and links to the full version.
    pub truncated: bool,
}

/// Generates the main content of a page of `kind` in `lang`.
pub(crate) fn generate(rng: &mut Rng, kind: PageKind, lang: Lang) -> Content {
    let lex = lang.lexicon();
    let mut c = Content {
        kind,
        lang,
        title: String::new(),
        author: rng.word(lex.names),
        days_before: rng.range(0, 400) as u32,
        blocks: Vec::new(),
        comments: Vec::new(),
        product: None,
        truncated: false,
    };
    match kind {
        PageKind::Article => article(rng, &mut c),
        PageKind::BlogPost => blog(rng, &mut c),
        PageKind::ForumThread => forum(rng, &mut c),
        PageKind::ProductPage => product(rng, &mut c),
        PageKind::Spam => spam(rng, &mut c),
        _ => c.title = text::title(rng, lang),
    }
    c
}

fn article(rng: &mut Rng, c: &mut Content) {
    let lang = c.lang;
    c.title = text::title(rng, lang);
    c.blocks.push(Block::Para(text::paragraph(
        rng,
        lang,
        Register::Report,
        2,
        3,
    )));
    let n = rng.range(4, 12);
    for k in 0..n {
        if k > 0 && k % 3 == 0 && rng.chance(0.6) {
            c.blocks.push(Block::Heading(text::title(rng, lang)));
        }
        c.blocks.push(Block::Para(text::paragraph(
            rng,
            lang,
            Register::Report,
            3,
            7,
        )));
        if rng.chance(0.06) {
            c.blocks
                .push(Block::Quote(text::sentence(rng, lang, Register::Report)));
        }
        if rng.chance(0.04) {
            let items = (0..rng.range(3, 5))
                .map(|_| text::sentence(rng, lang, Register::Report))
                .collect();
            c.blocks.push(Block::List(items));
        }
    }
}

fn blog(rng: &mut Rng, c: &mut Content) {
    let lang = c.lang;
    c.title = text::title(rng, lang);
    let n = rng.range(3, 9);
    for k in 0..n {
        let reg = if rng.chance(0.3) {
            Register::Chat
        } else {
            Register::Report
        };
        if k > 1 && rng.chance(0.2) {
            c.blocks.push(Block::Heading(text::title(rng, lang)));
        }
        c.blocks
            .push(Block::Para(text::paragraph(rng, lang, reg, 2, 6)));
    }
    let lex = lang.lexicon();
    let mut minutes = 0;
    for _ in 0..rng.range(0, 5) {
        minutes += rng.range(5, 900) as u32;
        c.comments.push(Block::Post {
            author: rng.word(lex.names),
            paras: vec![text::paragraph(rng, lang, Register::Chat, 1, 3)],
            minutes_after: minutes,
        });
    }
}

fn forum(rng: &mut Rng, c: &mut Content) {
    let lang = c.lang;
    let lex = lang.lexicon();
    // Thread titles are questions or short statements from the conversational register.
    let mut t = text::sentence(rng, lang, Register::Chat);
    while t.chars().count() > 90 {
        t = text::sentence(rng, lang, Register::Chat);
    }
    c.title = t;
    let mut minutes = 0;
    for _ in 0..rng.range(2, 9) {
        let paras = (0..rng.range(1, 3))
            .map(|_| text::paragraph(rng, lang, Register::Chat, 1, 5))
            .collect();
        c.blocks.push(Block::Post {
            author: rng.word(lex.names),
            paras,
            minutes_after: minutes,
        });
        minutes += rng.range(3, 3000) as u32;
    }
}

fn product(rng: &mut Rng, c: &mut Content) {
    let lang = c.lang;
    let lex = lang.lexicon();
    let base: &str = rng.word(lex.products);
    let model = format!(
        "{}-{}",
        ["S", "X", "Pro", "Go", "Max", "Lite"][rng.below(6)],
        10 * rng.range(1, 90)
    );
    let name = if lang.spaced() {
        let mut n = String::new();
        let mut ch = base.chars();
        if let Some(f) = ch.next() {
            n.extend(f.to_uppercase());
            n.push_str(ch.as_str());
        }
        format!("{n} {model}")
    } else {
        format!("{base} {model}")
    };
    c.title = name.clone();
    for _ in 0..rng.range(2, 4) {
        c.blocks
            .push(Block::Para(text::product_paragraph(rng, lang, base, 2, 5)));
    }
    let specs = vec![
        ("SKU".to_string(), format!("{:08}", rng.below(100_000_000))),
        (
            "EAN".to_string(),
            format!("40{:011}", rng.below(100_000_000_000)),
        ),
        (
            "kg".to_string(),
            format!("{}.{}", rng.range(0, 9), rng.range(0, 99)),
        ),
        (
            "cm".to_string(),
            format!(
                "{} x {} x {}",
                rng.range(5, 90),
                rng.range(5, 60),
                rng.range(1, 40)
            ),
        ),
    ];
    c.product = Some(Product {
        name,
        price_cents: (rng.range(3, 400) * 100 + [0, 49, 90, 95, 99][rng.below(5)]) as u32,
        sku: rng.below(1_000_000) as u32,
        specs,
    });
    for _ in 0..rng.range(0, 6) {
        let text = text::paragraph(rng, lang, Register::Chat, 1, 3);
        c.blocks.push(Block::Review {
            author: rng.word(lex.names),
            stars: rng.range(1, 5) as u8,
            text,
        });
    }
}

fn spam(rng: &mut Rng, c: &mut Content) {
    let lang = c.lang;
    let lex = lang.lexicon();
    let sep = if lang.spaced() { " " } else { "" };
    let kw: Vec<&str> = (0..3).map(|_| rng.word(lex.spam_keywords)).collect();
    c.title = kw.join(if lang.spaced() { " - " } else { "｜" });
    match rng.below(3) {
        0 => {
            // Keyword stuffing: long runs of the same few phrases, barely any function words.
            for _ in 0..rng.range(3, 8) {
                let mut p = String::new();
                for j in 0..rng.range(40, 120) {
                    if j > 0 {
                        p.push_str(if rng.chance(0.2) { ", " } else { sep });
                    }
                    p.push_str(if rng.chance(0.8) {
                        rng.word(&kw)
                    } else {
                        rng.word(lex.spam_keywords)
                    });
                }
                p.push('.');
                c.blocks.push(Block::Para(p));
            }
        }
        1 => {
            // The same line over and over, with a keyword line in between now and then.
            let line = text::sentence(rng, lang, Register::Report);
            let kwline = kw.join(sep);
            let lines = (0..rng.range(15, 60))
                .map(|_| {
                    if rng.chance(0.15) {
                        kwline.clone()
                    } else {
                        line.clone()
                    }
                })
                .collect();
            c.blocks.push(Block::Lines(lines));
        }
        _ => {
            // A link farm: hundreds of keyword anchors to throw-away domains.
            let mut links = Vec::new();
            for j in 0..rng.range(80, 300) {
                let k: &str = rng.word(lex.spam_keywords);
                let s = text::slug(k, 40);
                let host = if s.is_empty() {
                    format!("deals{}", rng.below(900))
                } else {
                    s
                };
                links.push((
                    k.to_string(),
                    format!("https://{host}-{}.example/?ref={j}", rng.below(100)),
                ));
            }
            c.blocks.push(Block::Para(kw.join(sep)));
            c.blocks.push(Block::Links(links));
        }
    }
}

/// Applies a re-publisher's edits to `c`: nothing (verbatim copy, about a fifth of the time), or one
/// to three of: rewrite a paragraph, drop a block, truncate, append an update note, retitle.
pub(crate) fn mutate(rng: &mut Rng, c: &mut Content) {
    if rng.chance(0.2) {
        return;
    }
    let lang = c.lang;
    for _ in 0..rng.range(1, 3) {
        match rng.below(5) {
            0 => {
                let paras: Vec<usize> = (0..c.blocks.len())
                    .filter(|&i| matches!(c.blocks[i], Block::Para(_) | Block::Post { .. }))
                    .collect();
                if paras.is_empty() {
                    continue;
                }
                let i = *rng.pick(&paras);
                let reg = if c.kind == PageKind::ForumThread {
                    Register::Chat
                } else {
                    Register::Report
                };
                let fresh = text::paragraph(rng, lang, reg, 2, 4);
                match &mut c.blocks[i] {
                    Block::Para(p) => {
                        // Keep the paragraph's first sentence and rewrite the rest, as editors do.
                        let cut = first_sentence_end(p);
                        p.truncate(cut);
                        if lang.spaced() {
                            p.push(' ');
                        }
                        p.push_str(&fresh);
                    }
                    Block::Post { paras, .. } => paras.push(fresh),
                    _ => {}
                }
            }
            1 if c.blocks.len() > 3 => {
                let i = rng.range(1, c.blocks.len() - 1);
                c.blocks.remove(i);
            }
            2 if c.blocks.len() > 4 => {
                let keep = (c.blocks.len() * rng.range(70, 90)).div_ceil(100);
                c.blocks.truncate(keep.max(3));
                c.truncated = true;
            }
            3 => {
                let ui = &lang.lexicon().ui;
                let sep = if lang.spaced() { " " } else { "" };
                let s = text::sentence(rng, lang, Register::Report);
                c.blocks
                    .push(Block::Para(format!("{}{sep}{s}", ui.updated)));
            }
            _ => {
                let ui = &lang.lexicon().ui;
                let sep = if lang.spaced() { " " } else { "" };
                c.title = format!("{}{sep}{}", ui.updated, c.title);
            }
        }
    }
}

fn first_sentence_end(p: &str) -> usize {
    for (i, ch) in p.char_indices() {
        if matches!(ch, '.' | '?' | '!' | '。' | '？' | '！') {
            return i + ch.len_utf8();
        }
    }
    p.len()
}

#[cfg(test)]
impl Content {
    /// The main text as an extractor should ideally see it (title, then blocks), one block a line.
    pub(crate) fn plain_text(&self) -> String {
        let mut out = self.title.clone();
        for b in self.blocks.iter().chain(&self.comments) {
            out.push('\n');
            match b {
                Block::Heading(s) | Block::Para(s) | Block::Quote(s) => out.push_str(s),
                Block::List(items) | Block::Lines(items) => out.push_str(&items.join("\n")),
                Block::Post { paras, .. } => out.push_str(&paras.join("\n")),
                Block::Review { text, .. } => out.push_str(text),
                Block::Links(links) => {
                    for (a, _) in links {
                        out.push_str(a);
                        out.push('\n');
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shingles(s: &str) -> std::collections::HashSet<Vec<&str>> {
        let w: Vec<&str> = s.split_whitespace().collect();
        w.windows(5).map(|x| x.to_vec()).collect()
    }

    #[test]
    fn mutated_articles_stay_similar_to_their_source() {
        let mut sims = Vec::new();
        for seed in 0..40 {
            let orig = generate(&mut Rng::new(seed), PageKind::Article, Lang::En);
            let mut copy = orig.clone();
            mutate(&mut Rng::new(seed + 1000), &mut copy);
            let (ta, tb) = (orig.plain_text(), copy.plain_text());
            let (a, b) = (shingles(&ta), shingles(&tb));
            let j = a.intersection(&b).count() as f64 / a.union(&b).count() as f64;
            sims.push(j);
        }
        let mean = sims.iter().sum::<f64>() / sims.len() as f64;
        assert!(mean > 0.6, "mean Jaccard {mean}");
        assert!(sims.iter().any(|&j| j < 1.0), "no copy was edited");
        assert!(sims.contains(&1.0), "no verbatim copy");
    }

    #[test]
    fn every_kind_has_a_title_and_content_where_expected() {
        for lang in Lang::ALL {
            for kind in [
                PageKind::Article,
                PageKind::BlogPost,
                PageKind::ForumThread,
                PageKind::ProductPage,
                PageKind::Spam,
            ] {
                let c = generate(&mut Rng::new(9), kind, lang);
                assert!(!c.title.is_empty());
                assert!(!c.blocks.is_empty(), "{kind:?} {lang:?}");
                assert!(!c.plain_text().contains('{'));
            }
        }
    }
}
