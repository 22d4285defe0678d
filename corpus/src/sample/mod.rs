//! A deterministic synthetic multilingual web crawl, for demos, tests and benchmarks.
//!
//! `quarry sample` writes these pages as WARC response records and `quarry build` uses them as its
//! built-in input, so the sample is made to give every stage real work: boilerplate-heavy HTML in
//! several layouts (articles, blog posts, forum threads, product pages, near-empty pages), text in
//! seven languages and four scripts, near-duplicates (re-published with edits, other boilerplate,
//! truncation), spam (keyword stuffing, repeated lines, link farms), license markup of many kinds,
//! `noai` robots meta, non-UTF-8 charsets, gzip content encoding, binary responses, redirects and 404s.
//!
//! Every page is a pure function of `(seed, index)`: [`page`] can be called for any index from any
//! thread and gives the same bytes, and [`generate`] is just `page` over `0..docs`. The randomness is
//! a pinned xoshiro256** stream ([`rng`]), never `rand`'s unstable generators, so a seed names the
//! same corpus across releases and platforms. What each page *is* is recorded in its [`PageTruth`]
//! (written by [`TruthWriter`] as `truth.jsonl`), so filters, LID, dedup and license audit can be
//! scored against it.
//!
//! ```
//! use quarry_corpus::sample::{generate, SampleConfig};
//! let pages: Vec<_> = generate(SampleConfig { docs: 20, seed: 7, ..Default::default() }).collect();
//! assert_eq!(pages.len(), 20);
//! assert!(pages[0].http_response_bytes().starts_with(b"HTTP/1.1 "));
//! ```

mod chrome;
mod content;
mod html;
mod http;
pub mod lang;
mod license;
mod rng;
mod site;
mod text;
mod to_warc;
mod truth;

use serde::{Deserialize, Serialize};

pub use lang::Lang;
pub use to_warc::{write_sample_crawl, SampleCrawl};
pub use truth::{TruthRecord, TruthWriter};

use rng::{derive, Rng};

/// What kind of page a sample record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// A news article: headline, byline, paragraphs with sub-headings.
    Article,
    /// A blog post with comments.
    BlogPost,
    /// A forum thread: several posts by different users.
    ForumThread,
    /// A shop's product page: name, price, description, specs, reviews.
    ProductPage,
    /// A page with little or no main text (contact, tag listing, login, empty template).
    ShortPage,
    /// Search-engine spam: keyword stuffing, repeated lines or a link farm.
    Spam,
    /// A non-HTML response (PNG image, PDF stub): readers should skip it.
    Binary,
    /// A 3xx redirect.
    Redirect,
    /// A 404 error page.
    NotFound,
}

impl PageKind {
    /// Every kind, in a fixed order.
    pub const ALL: [PageKind; 9] = [
        PageKind::Article,
        PageKind::BlogPost,
        PageKind::ForumThread,
        PageKind::ProductPage,
        PageKind::ShortPage,
        PageKind::Spam,
        PageKind::Binary,
        PageKind::Redirect,
        PageKind::NotFound,
    ];

    /// Kinds with a main text that can be re-published as a near-duplicate.
    pub fn has_main_text(self) -> bool {
        matches!(
            self,
            PageKind::Article | PageKind::BlogPost | PageKind::ForumThread | PageKind::ProductPage
        )
    }

    /// The snake_case name used in `truth.jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            PageKind::Article => "article",
            PageKind::BlogPost => "blog_post",
            PageKind::ForumThread => "forum_thread",
            PageKind::ProductPage => "product_page",
            PageKind::ShortPage => "short_page",
            PageKind::Spam => "spam",
            PageKind::Binary => "binary",
            PageKind::Redirect => "redirect",
            PageKind::NotFound => "not_found",
        }
    }
}

/// How to generate a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleConfig {
    /// Number of pages (WARC response records).
    pub docs: usize,
    /// The seed: the same seed always gives the same bytes.
    pub seed: u64,
    /// Share of pages that re-publish an earlier page's main text (with edits, other boilerplate,
    /// truncation). About a fifth of them are verbatim copies of the text (exact duplicates after
    /// extraction).
    pub near_dup_rate: f64,
    /// Share of spam pages.
    pub spam_rate: f64,
    /// Relative weight of each language among pages with text.
    pub languages: Vec<(Lang, f64)>,
    /// Relative weights of the other page kinds (spam and near-duplicates are set by their rates).
    pub kinds: Vec<(PageKind, f64)>,
}

impl Default for SampleConfig {
    fn default() -> Self {
        SampleConfig {
            docs: 1000,
            seed: 0,
            near_dup_rate: 0.12,
            spam_rate: 0.06,
            languages: vec![
                (Lang::En, 0.40),
                (Lang::De, 0.14),
                (Lang::Fr, 0.12),
                (Lang::Es, 0.12),
                (Lang::Zh, 0.08),
                (Lang::Ja, 0.07),
                (Lang::Ru, 0.07),
            ],
            kinds: vec![
                (PageKind::Article, 0.34),
                (PageKind::BlogPost, 0.18),
                (PageKind::ForumThread, 0.13),
                (PageKind::ProductPage, 0.13),
                (PageKind::ShortPage, 0.08),
                (PageKind::Binary, 0.05),
                (PageKind::Redirect, 0.04),
                (PageKind::NotFound, 0.05),
            ],
        }
    }
}

/// Ground truth about one generated page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageTruth {
    /// What the page is.
    pub kind: PageKind,
    /// ISO 639-1 code of the main text's language; `None` for binary, redirect and 404 responses.
    pub language: Option<String>,
    /// SPDX id of the license the page's markup declares (`CC-BY-SA-4.0`, `CC-BY-3.0-DE`,
    /// `CC0-1.0`), `LicenseRef-All-Rights-Reserved` for a `dc.rights` all-rights-reserved meta, `None`
    /// when the markup declares nothing (plain footer copyright text does not count).
    pub license: Option<String>,
    /// How the license was declared: `rel_license_a`, `rel_license_link`, `cc_badge`, `json_ld`,
    /// `dc_rights`, or `none`. `cc_mention` marks a page that links to Creative Commons without
    /// licensing itself (a trap for naive detectors; `license` is `None`).
    pub license_markup: String,
    /// Index of the page whose main text this page re-publishes.
    pub near_dup_of: Option<usize>,
    /// Whether the page is spam.
    pub is_spam: bool,
    /// Whether the page carries `<meta name="robots" content="noai, ...">`.
    pub noai: bool,
    /// The character encoding the HTML body was written in (`utf-8`, `windows-1252`, `gbk`, ...);
    /// `None` for non-HTML bodies.
    pub charset: Option<String>,
}

/// One generated HTTP response, ready to be written as a WARC response record.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplePage {
    /// Index of the page in the sample (0-based).
    pub index: usize,
    /// The target URL.
    pub url: String,
    /// `WARC-Date`, ISO 8601 UTC with a `Z` (`2024-03-05T12:34:56Z`).
    pub date: String,
    /// HTTP status code.
    pub http_status: u16,
    /// HTTP response headers in order.
    pub http_headers: Vec<(String, String)>,
    /// The entity body exactly as sent (gzip-compressed when `Content-Encoding: gzip`).
    pub body: Vec<u8>,
    /// What the page is.
    pub truth: PageTruth,
}

impl SamplePage {
    /// The HTTP response as it goes into a WARC `response` record block: status line, headers,
    /// an empty line, then the body.
    pub fn http_response_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 512);
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(self.http_status.to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(http::reason_phrase(self.http_status).as_bytes());
        out.extend_from_slice(b"\r\n");
        for (k, v) in &self.http_headers {
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(v.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.http_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body with any `Content-Encoding: gzip` removed.
    pub fn decoded_body(&self) -> std::io::Result<Vec<u8>> {
        if self
            .header("Content-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"))
        {
            use std::io::Read;
            let mut out = Vec::with_capacity(self.body.len() * 4);
            flate2::read::GzDecoder::new(&self.body[..]).read_to_end(&mut out)?;
            Ok(out)
        } else {
            Ok(self.body.clone())
        }
    }
}

/// The pages `0..cfg.docs`, in order. Each is generated on demand by [`page`].
pub fn generate(cfg: SampleConfig) -> impl Iterator<Item = SamplePage> {
    let planner = Planner::new(cfg);
    (0..planner.cfg.docs).map(move |i| planner.page(i))
}

/// Page `index` of the sample `cfg` (the same bytes [`generate`] yields at that position).
pub fn page(cfg: &SampleConfig, index: usize) -> SamplePage {
    Planner::new(cfg.clone()).page(index)
}

/// Random streams of one page; each purpose has its own so that changing how much randomness one
/// part consumes never shifts another part.
#[derive(Clone, Copy)]
#[repr(u64)]
enum Stream {
    Plan = 1,
    Content = 2,
    Dress = 3,
    Mutate = 4,
    Source = 5,
    Url = 6,
}

/// The cheap, non-recursive first decisions about a page.
#[derive(Debug, Clone, Copy)]
struct BasePlan {
    wants_dup: bool,
    kind: PageKind,
    lang: Lang,
}

/// The resolved plan of a page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub kind: PageKind,
    pub lang: Lang,
    pub dup_of: Option<usize>,
}

/// Normalised weights and the page generator.
struct Planner {
    cfg: SampleConfig,
    kind_list: Vec<PageKind>,
    kind_weights: Vec<f64>,
    lang_list: Vec<Lang>,
    lang_weights: Vec<f64>,
}

impl Planner {
    fn new(cfg: SampleConfig) -> Self {
        let spam = cfg.spam_rate.clamp(0.0, 1.0);
        let mut kind_list = vec![PageKind::Spam];
        let mut kind_weights = vec![spam];
        let others: f64 = cfg
            .kinds
            .iter()
            .filter(|(k, _)| *k != PageKind::Spam)
            .map(|(_, w)| w.max(0.0))
            .sum();
        for (k, w) in &cfg.kinds {
            if *k != PageKind::Spam && others > 0.0 {
                kind_list.push(*k);
                kind_weights.push(w.max(0.0) / others * (1.0 - spam));
            }
        }
        let (mut lang_list, mut lang_weights): (Vec<Lang>, Vec<f64>) =
            cfg.languages.iter().copied().unzip();
        if lang_list.is_empty() {
            lang_list = vec![Lang::En];
            lang_weights = vec![1.0];
        }
        Planner {
            cfg,
            kind_list,
            kind_weights,
            lang_list,
            lang_weights,
        }
    }

    fn rng(&self, index: usize, stream: Stream) -> Rng {
        Rng::new(derive(self.cfg.seed, &[index as u64, stream as u64]))
    }

    fn base_plan(&self, index: usize) -> BasePlan {
        let mut r = self.rng(index, Stream::Plan);
        let wants_dup = r.chance(self.cfg.near_dup_rate.clamp(0.0, 1.0));
        let kind = self.kind_list[r.weighted(&self.kind_weights)];
        let lang = self.lang_list[r.weighted(&self.lang_weights)];
        BasePlan {
            wants_dup,
            kind,
            lang,
        }
    }

    /// A page whose base plan is an original page with main text can be re-published.
    fn is_source(&self, index: usize) -> Option<BasePlan> {
        let b = self.base_plan(index);
        (!b.wants_dup && b.kind.has_main_text()).then_some(b)
    }

    fn plan(&self, index: usize) -> Plan {
        let b = self.base_plan(index);
        if b.wants_dup && index > 0 {
            let mut r = self.rng(index, Stream::Source);
            for _ in 0..12 {
                // Mostly recent pages (syndication happens soon after publication), sometimes any.
                let k = if r.chance(0.7) {
                    index - 1 - r.below(index.min(200))
                } else {
                    r.below(index)
                };
                if let Some(src) = self.is_source(k) {
                    return Plan {
                        kind: src.kind,
                        lang: src.lang,
                        dup_of: Some(k),
                    };
                }
            }
        }
        let kind = if b.wants_dup && !b.kind.has_main_text() {
            // A page that wanted to be a copy but found no source stays an original article, so
            // the kind mix is not skewed towards the minor kinds.
            PageKind::Article
        } else {
            b.kind
        };
        Plan {
            kind,
            lang: b.lang,
            dup_of: None,
        }
    }

    /// The site and URL of page `index`; depends only on its own stream and title, so a
    /// near-duplicate can name its source's URL without generating the whole source page.
    fn locate(
        &self,
        index: usize,
        kind: PageKind,
        lang: Lang,
        title: &str,
    ) -> (site::Site, String) {
        let mut r = self.rng(index, Stream::Url);
        let secs = site::crawl_time(self.cfg.seed, index);
        let s = site::pick_site(&mut r, lang, kind);
        let path = site::path_for(&mut r, kind, index, title, secs);
        let url = format!("{}{}", s.origin(), path);
        (s, url)
    }

    fn page(&self, index: usize) -> SamplePage {
        let plan = self.plan(index);
        let (content, source_url) = match plan.dup_of {
            Some(src) => {
                let mut c =
                    content::generate(&mut self.rng(src, Stream::Content), plan.kind, plan.lang);
                let (_, src_url) = self.locate(src, plan.kind, plan.lang, &c.title);
                content::mutate(&mut self.rng(index, Stream::Mutate), &mut c);
                (Some(c), Some(src_url))
            }
            None if plan.kind.has_main_text() || plan.kind == PageKind::Spam => (
                Some(content::generate(
                    &mut self.rng(index, Stream::Content),
                    plan.kind,
                    plan.lang,
                )),
                None,
            ),
            None => (None, None),
        };
        let mut r = self.rng(index, Stream::Dress);
        let fallback_title = match plan.kind {
            PageKind::ShortPage => {
                let ui = &plan.lang.lexicon().ui;
                r.word(ui.nav).to_string()
            }
            PageKind::NotFound => plan.lang.lexicon().ui.not_found.to_string(),
            _ => text::title(&mut r, plan.lang),
        };
        let title = content
            .as_ref()
            .map_or(fallback_title.as_str(), |c| c.title.as_str());
        let (site, url) = self.locate(index, plan.kind, plan.lang, title);
        let at = http::Placement {
            site: &site,
            url: &url,
            secs: site::crawl_time(self.cfg.seed, index),
            source_url: source_url.as_deref(),
            fallback_title: &fallback_title,
        };
        http::dress(&mut r, index, &plan, content.as_ref(), &at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_a_pure_function_of_seed_and_index() {
        let cfg = SampleConfig {
            docs: 60,
            seed: 11,
            ..Default::default()
        };
        let all: Vec<SamplePage> = generate(cfg.clone()).collect();
        for i in [0, 7, 33, 59] {
            assert_eq!(page(&cfg, i), all[i]);
        }
    }

    #[test]
    fn near_duplicates_point_backwards_at_pages_with_text() {
        let cfg = SampleConfig {
            docs: 300,
            seed: 3,
            near_dup_rate: 0.3,
            ..Default::default()
        };
        let pages: Vec<SamplePage> = generate(cfg).collect();
        let mut n = 0;
        for p in &pages {
            if let Some(src) = p.truth.near_dup_of {
                n += 1;
                assert!(src < p.index);
                let s = &pages[src].truth;
                assert!(s.kind.has_main_text() && s.near_dup_of.is_none());
                assert_eq!(s.kind, p.truth.kind);
                assert_eq!(s.language, p.truth.language);
            }
        }
        assert!(n > 50, "only {n} near-duplicates");
    }

    #[test]
    fn response_bytes_have_status_line_headers_and_body() {
        let p = page(&SampleConfig::default(), 1);
        let bytes = p.http_response_bytes();
        let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        assert_eq!(&bytes[head_end + 4..], &p.body[..]);
        let head = std::str::from_utf8(&bytes[..head_end]).unwrap();
        assert!(head.starts_with(&format!("HTTP/1.1 {} ", p.http_status)));
        assert_eq!(head.lines().count(), p.http_headers.len() + 1);
    }
}
