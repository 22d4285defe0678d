//! FineWeb's URL filter (datatrove's `URLFilter`): block-listed registered domains, host names and
//! full URLs, hard- and soft-banned words among the URL's alphanumeric pieces, and banned sub-words
//! anywhere in the normalised URL (Aho-Corasick).
//!
//! The lists come from files (one entry per line, `#` starts a comment line), e.g. datatrove's
//! `banned_words.txt`, `banned_subwords.txt`, `soft_banned_words.txt` and the UT1 `domains`/`urls`
//! blocklists FineWeb used, plus inline entries in the recipe. Registered domains follow the Public
//! Suffix List's ICANN section, as tldextract computes them by default.

use std::collections::HashSet;

use aho_corasick::AhoCorasick;
use quarry_corpus::{Document, Step, StepError, Verdict};
use serde::Deserialize;

use crate::common::{conclude, config};

/// Recipe config of `url_filter`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UrlFilterConfig {
    /// Files of block-listed domains (registered domains or full host names).
    pub domains_files: Vec<String>,
    /// Files of block-listed full URLs.
    pub urls_files: Vec<String>,
    /// Files of hard-banned words (one is enough to drop).
    pub banned_words_files: Vec<String>,
    /// Files of banned sub-words (matched inside the normalised URL).
    pub banned_subwords_files: Vec<String>,
    /// Files of soft-banned words (`soft_word_threshold` of them drop).
    pub soft_banned_words_files: Vec<String>,
    /// Extra block-listed domains.
    pub extra_domains: Vec<String>,
    /// Extra block-listed URLs.
    pub extra_urls: Vec<String>,
    /// Extra hard-banned words.
    pub banned_words: Vec<String>,
    /// Extra banned sub-words.
    pub banned_subwords: Vec<String>,
    /// Extra soft-banned words.
    pub soft_banned_words: Vec<String>,
    /// How many distinct soft-banned words drop a URL (datatrove default 2).
    pub soft_word_threshold: usize,
    /// Add datatrove's integrated word lists (`banned_words.txt`, `banned_subwords.txt`,
    /// `soft_banned_words.txt` of datatrove 0.10.1, embedded in quarry) to the lists above. The UT1
    /// domain and URL blocklists that datatrove's `use_integrated_lists` also loads are 125 MB and
    /// are not embedded: pass them with `domains_files` / `urls_files`.
    pub integrated_word_lists: bool,
    /// Record the verdict as metadata and keep the document.
    pub annotate: bool,
}

impl Default for UrlFilterConfig {
    fn default() -> Self {
        UrlFilterConfig {
            domains_files: vec![],
            urls_files: vec![],
            banned_words_files: vec![],
            banned_subwords_files: vec![],
            soft_banned_words_files: vec![],
            extra_domains: vec![],
            extra_urls: vec![],
            banned_words: vec![],
            banned_subwords: vec![],
            soft_banned_words: vec![],
            soft_word_threshold: 2,
            integrated_word_lists: false,
            annotate: false,
        }
    }
}

/// The `url_filter` step.
pub struct UrlFilter {
    cfg: UrlFilterConfig,
    domains: HashSet<String>,
    urls: HashSet<String>,
    banned_words: HashSet<String>,
    soft_banned_words: HashSet<String>,
    subwords: Option<AhoCorasick>,
}

/// datatrove's `normalize`: drop every character outside `[a-zA-Z0-9]`, lower-case.
pub fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `re.split(r"[^a-zA-Z0-9]+", url)`: the URL's alphanumeric pieces (empty first/last pieces when
/// the URL starts or ends with a separator, as in Python).
fn url_words(url: &str) -> HashSet<&str> {
    let mut out = HashSet::new();
    let mut start = 0;
    let b = url.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            out.insert(&url[start..i]);
            while i < b.len() && !b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            start = i;
        } else {
            i += 1;
        }
    }
    out.insert(&url[start..]);
    out
}

/// The host of a URL as tldextract's lenient parser finds it: after the scheme, before the path,
/// query or fragment, after any user info, without port or trailing dot; lower-cased.
pub fn url_host(url: &str) -> String {
    let rest = match url.find("://") {
        Some(i)
            if url[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            &url[i + 3..]
        }
        _ => url.strip_prefix("//").unwrap_or(url),
    };
    let rest = rest.split(['/', '?', '#']).next().unwrap_or("");
    let rest = rest.rsplit('@').next().unwrap_or("");
    let host = if rest.starts_with('[') {
        rest.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        rest.split(':').next().unwrap_or("")
    };
    host.replace(['\u{3002}', '\u{ff0e}', '\u{ff61}'], ".")
        .trim_end_matches('.')
        .to_lowercase()
}

/// (registered domain, fully qualified host) with the ICANN section of the Public Suffix List, as
/// tldextract's default computes them; `None` for IPs, unknown suffixes or bare suffixes.
pub fn registered_domain(host: &str) -> Option<(String, String)> {
    let mut suffix = psl::suffix(host.as_bytes())?;
    // Private-section suffixes (blogspot.com, s3.amazonaws.com...) are not suffixes to tldextract's
    // default: fall back to the ICANN suffix below them.
    while suffix.typ() == Some(psl::Type::Private) {
        let bytes = suffix.as_bytes();
        let dot = bytes.iter().position(|&b| b == b'.')?;
        suffix = psl::suffix(&bytes[dot + 1..])?;
    }
    suffix.typ()?;
    let slen = suffix.as_bytes().len();
    if host.len() <= slen + 1 {
        return None;
    }
    let before = &host[..host.len() - slen - 1];
    let label = before.rsplit('.').next()?;
    if label.is_empty() {
        return None;
    }
    let suffix_str = &host[host.len() - slen..];
    Some((format!("{label}.{suffix_str}"), host.to_string()))
}

/// datatrove 0.10.1's integrated word lists (Apache-2.0; see `assets/url_filter/NOTICE`).
const INTEGRATED_BANNED_WORDS: &str = include_str!("../assets/url_filter/banned_words.txt");
const INTEGRATED_BANNED_SUBWORDS: &str = include_str!("../assets/url_filter/banned_subwords.txt");
const INTEGRATED_SOFT_BANNED_WORDS: &str =
    include_str!("../assets/url_filter/soft_banned_words.txt");

/// `extra` plus, when asked, the lines of an integrated list.
fn with_integrated(extra: &[String], integrated: Option<&str>) -> Vec<String> {
    let mut v = extra.to_vec();
    if let Some(text) = integrated {
        v.extend(text.lines().filter(|l| !l.is_empty()).map(str::to_string));
    }
    v
}

fn read_lists(
    step: &str,
    files: &[String],
    extra: &[String],
    norm: bool,
) -> Result<HashSet<String>, StepError> {
    let mut set = HashSet::new();
    let mut add = |x: &str| {
        if x.starts_with('#') {
            return;
        }
        let v = if norm {
            normalize(x)
        } else {
            x.trim().to_lowercase()
        };
        // A blank line would be "" here, which datatrove keeps and which then bans every URL ending
        // in a separator; we skip it.
        if !v.is_empty() {
            set.insert(v);
        }
    };
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| StepError::Io {
            step: step.to_string(),
            path: f.into(),
            source: e,
        })?;
        text.lines().for_each(&mut add);
    }
    extra.iter().for_each(|x| add(x));
    Ok(set)
}

impl UrlFilter {
    /// Reads the lists and builds the sub-word automaton.
    pub fn new(cfg: UrlFilterConfig) -> Result<Self, StepError> {
        let s = "url_filter";
        let domains = read_lists(s, &cfg.domains_files, &cfg.extra_domains, false)?;
        let urls: HashSet<String> = {
            // URLs are compared as written (datatrove strips them but does not lower-case).
            let mut set = HashSet::new();
            for f in &cfg.urls_files {
                let text = std::fs::read_to_string(f).map_err(|e| StepError::Io {
                    step: s.into(),
                    path: f.into(),
                    source: e,
                })?;
                set.extend(
                    text.lines()
                        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                        .map(|l| l.trim().to_string()),
                );
            }
            set.extend(cfg.extra_urls.iter().map(|u| u.trim().to_string()));
            set
        };
        let builtin = |text| cfg.integrated_word_lists.then_some(text);
        let banned_words = read_lists(
            s,
            &cfg.banned_words_files,
            &with_integrated(&cfg.banned_words, builtin(INTEGRATED_BANNED_WORDS)),
            true,
        )?;
        let soft_banned_words = read_lists(
            s,
            &cfg.soft_banned_words_files,
            &with_integrated(
                &cfg.soft_banned_words,
                builtin(INTEGRATED_SOFT_BANNED_WORDS),
            ),
            true,
        )?;
        let subwords = read_lists(
            s,
            &cfg.banned_subwords_files,
            &with_integrated(&cfg.banned_subwords, builtin(INTEGRATED_BANNED_SUBWORDS)),
            true,
        )?;
        let subwords = if subwords.is_empty() {
            None
        } else {
            let mut v: Vec<String> = subwords.into_iter().collect();
            v.sort();
            Some(AhoCorasick::new(&v).map_err(|e| StepError::Other {
                step: s.into(),
                message: format!("building the sub-word automaton: {e}"),
            })?)
        };
        Ok(UrlFilter {
            cfg,
            domains,
            urls,
            banned_words,
            soft_banned_words,
            subwords,
        })
    }

    /// The decision for one URL: `Err(reason)` with datatrove's reason strings.
    pub fn decide_url(&self, url: &str) -> Result<(), &'static str> {
        if let Some((domain, fqdn)) = registered_domain(&url_host(url)) {
            if self.domains.contains(&domain) {
                return Err("domain");
            }
            if self.domains.contains(&fqdn) {
                return Err("subdomain");
            }
        }
        if self.urls.contains(url) {
            return Err("url");
        }
        let words = url_words(url);
        if self.banned_words.iter().any(|w| words.contains(w.as_str())) {
            return Err("hard_blacklisted");
        }
        let soft = self
            .soft_banned_words
            .iter()
            .filter(|w| words.contains(w.as_str()))
            .count();
        if soft >= self.cfg.soft_word_threshold {
            return Err("soft_blacklisted");
        }
        if let Some(ac) = &self.subwords {
            if ac.is_match(&normalize(url)) {
                return Err("blacklisted_subword");
            }
        }
        Ok(())
    }
}

impl Step for UrlFilter {
    fn name(&self) -> &str {
        "url_filter"
    }
    fn process(&self, doc: &mut Document) -> Verdict {
        // datatrove asserts that every document has a URL; a document without one has nothing to
        // check here and is kept.
        let d = match doc.url.as_deref() {
            Some(url) => self.decide_url(url),
            None => Ok(()),
        };
        conclude(doc, "url_filter", self.cfg.annotate, d)
    }
}

/// Recipe factory.
pub fn build(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let cfg: UrlFilterConfig = config("url_filter", table)?;
    Ok(Box::new(UrlFilter::new(cfg)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_registered_domains_follow_tldextract() {
        assert_eq!(
            url_host("http://user:pw@Sub.Example.co.uk:8080/a?b#c"),
            "sub.example.co.uk"
        );
        assert_eq!(
            registered_domain("sub.example.co.uk"),
            Some(("example.co.uk".into(), "sub.example.co.uk".into()))
        );
        // Private suffixes are ignored, as tldextract does by default.
        assert_eq!(
            registered_domain("amid-the-olive-trees.blogspot.com")
                .unwrap()
                .0,
            "blogspot.com"
        );
        assert_eq!(registered_domain("192.168.0.1"), None);
        assert_eq!(registered_domain("co.uk"), None);
    }

    #[test]
    fn integrated_word_lists_are_datatrove_lists() {
        let f = UrlFilter::new(UrlFilterConfig {
            integrated_word_lists: true,
            ..Default::default()
        })
        .unwrap();
        // Sizes of datatrove 0.10.1's lists after its own parse (`get_list` with normalisation).
        assert_eq!(f.banned_words.len(), 203);
        assert_eq!(f.soft_banned_words.len(), 87);
        assert!(f.subwords.is_some());
        assert_eq!(
            f.decide_url("https://example.com/articles/gardening"),
            Ok(())
        );
        assert_eq!(
            f.decide_url("https://example.com/free-porn/page"),
            Err("hard_blacklisted")
        );
        // Without the flag nothing is banned.
        let off = UrlFilter::new(UrlFilterConfig::default()).unwrap();
        assert_eq!(off.decide_url("https://example.com/free-porn/page"), Ok(()));
    }

    #[test]
    fn every_rule_with_its_reason() {
        let f = UrlFilter::new(UrlFilterConfig {
            extra_domains: vec![
                "wikidot.com".into(),
                "admin.indiaenvironmentportal.org.in".into(),
            ],
            extra_urls: vec!["http://ami6.de/doku.php?id=en:1964-1968".into()],
            banned_words: vec!["dokuwiki".into()],
            soft_banned_words: vec!["jazz".into(), "article".into()],
            banned_subwords: vec!["olivetree".into()],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            f.decide_url("http://16thfleet.wikidot.com/chatter:anewhome"),
            Err("domain")
        );
        assert_eq!(
            f.decide_url("http://admin.indiaenvironmentportal.org.in/content/x"),
            Err("subdomain")
        );
        assert_eq!(
            f.decide_url("http://ami6.de/doku.php?id=en:1964-1968"),
            Err("url")
        );
        assert_eq!(
            f.decide_url("http://3korre.se/dokuwiki/doku.php?id=recept"),
            Err("hard_blacklisted")
        );
        assert_eq!(
            f.decide_url("http://apoloybaco.com/jazz/index.php?option=com_content&view=article"),
            Err("soft_blacklisted")
        );
        assert_eq!(
            f.decide_url("http://amid-the-olive-trees.blogspot.com/2011/07/x.html"),
            Err("blacklisted_subword")
        );
        assert_eq!(
            f.decide_url("http://adapei69.fr/sinformer/actualites"),
            Ok(())
        );
        // Hard words match whole pieces only, case-sensitively as in datatrove.
        assert_eq!(f.decide_url("http://example.com/DokuWiki/"), Ok(()));
    }
}
