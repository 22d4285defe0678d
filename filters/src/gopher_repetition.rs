//! Gopher's repetition filter (Rae et al. 2021, table A1) with datatrove's exact rules
//! (`GopherRepetitionFilter`): duplicated paragraphs and lines, the most frequent 2-4-gram, and
//! duplicated 5-10-grams, each as a fraction of the document's characters.

use std::collections::{HashMap, HashSet};

use quarry_corpus::{Document, Step, StepError, Verdict};
use serde::Deserialize;
use xxhash_rust::xxh3::Xxh3Builder;

use crate::common::{conclude, config, LanguageChoice, Semantics};
use crate::pytext::{
    find_duplicates, py_len, py_splitlines, py_strip, split_newline_runs, split_paragraphs,
};

/// Recipe config of `gopher_repetition` (datatrove's defaults).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GopherRepetitionConfig {
    /// Max fraction of duplicated lines (`dup_line_frac`); absent or 0 disables.
    pub dup_line_frac: Option<f64>,
    /// Max fraction of duplicated paragraphs.
    pub dup_para_frac: Option<f64>,
    /// Max fraction of characters in duplicated lines.
    pub dup_line_char_frac: Option<f64>,
    /// Max fraction of characters in duplicated paragraphs.
    pub dup_para_char_frac: Option<f64>,
    /// `[n, max_frac]` pairs: the most frequent n-gram's characters times its count.
    pub top_n_grams: Vec<(usize, f64)>,
    /// `[n, max_frac]` pairs: characters in duplicated n-grams.
    pub dup_n_grams: Vec<(usize, f64)>,
    /// Word splitting language (`en`, `zh`, ..., or `auto`).
    pub language: LanguageChoice,
    /// Rule set: `datatrove-0.10` (default) or `fineweb-2024`.
    pub semantics: Semantics,
    /// Record the verdict as metadata and keep the document.
    pub annotate: bool,
}

impl Default for GopherRepetitionConfig {
    fn default() -> Self {
        GopherRepetitionConfig {
            dup_line_frac: Some(0.3),
            dup_para_frac: Some(0.3),
            dup_line_char_frac: Some(0.2),
            dup_para_char_frac: Some(0.2),
            top_n_grams: vec![(2, 0.2), (3, 0.18), (4, 0.16)],
            dup_n_grams: vec![
                (5, 0.15),
                (6, 0.14),
                (7, 0.13),
                (8, 0.12),
                (9, 0.11),
                (10, 0.10),
            ],
            language: LanguageChoice::default(),
            semantics: Semantics::default(),
            annotate: false,
        }
    }
}

/// The `gopher_repetition` step.
#[derive(Debug, Clone, Default)]
pub struct GopherRepetition {
    cfg: GopherRepetitionConfig,
}

fn enabled(x: Option<f64>) -> Option<f64> {
    x.filter(|&v| v != 0.0)
}

/// The words laid out once in a buffer with a separator (`" "` for top n-grams, `""` for
/// duplicated n-grams, as datatrove joins them), so that every n-gram is one contiguous byte slice:
/// n-grams are compared exactly, without building a string per n-gram.
struct Joined {
    buf: String,
    /// Byte offset where word `i` starts; `starts[len]` is the end.
    starts: Vec<usize>,
    sep: usize,
}

impl Joined {
    fn new(words: &[&str], sep: &str) -> Joined {
        let mut buf = String::with_capacity(words.iter().map(|w| w.len() + sep.len()).sum());
        let mut starts = Vec::with_capacity(words.len() + 1);
        for w in words {
            starts.push(buf.len());
            buf.push_str(w);
            buf.push_str(sep);
        }
        starts.push(buf.len());
        Joined {
            buf,
            starts,
            sep: sep.len(),
        }
    }

    /// The n-gram of words `i..i + n`, joined.
    fn gram(&self, i: usize, n: usize) -> &[u8] {
        &self.buf.as_bytes()[self.starts[i]..self.starts[i + n] - self.sep]
    }
}

type FastSet<'a> = HashSet<&'a [u8], Xxh3Builder>;

/// Characters (joined with spaces) of the most frequent n-gram times its count; ties go to the
/// n-gram seen first, as `Counter.most_common(1)` does.
fn top_ngram_chars(spaced: &Joined, lens: &[usize], n: usize) -> Option<usize> {
    let words = lens.len();
    if words < n {
        return None;
    }
    let mut counts: HashMap<&[u8], (usize, usize), Xxh3Builder> =
        HashMap::with_capacity_and_hasher(words, Xxh3Builder::new());
    for i in 0..=words - n {
        counts.entry(spaced.gram(i, n)).or_insert((0, i)).0 += 1;
    }
    let &(count, first) = counts
        .values()
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))?;
    let chars: usize = lens[first..first + n].iter().sum::<usize>() + n - 1;
    Some(chars * count)
}

/// datatrove's `find_all_duplicate`: n-grams are compared as the words concatenated *without*
/// separator; after a repeat the scan jumps past it.
fn duplicated_ngram_chars(glued: &Joined, lens: &[usize], n: usize) -> usize {
    let words = lens.len();
    if words < n {
        return 0;
    }
    let mut seen: FastSet = HashSet::with_capacity_and_hasher(words, Xxh3Builder::new());
    let (mut repeated, mut idx) = (0usize, 0usize);
    while idx + n <= words {
        if !seen.insert(glued.gram(idx, n)) {
            repeated += lens[idx..idx + n].iter().sum::<usize>();
            idx += n;
        } else {
            idx += 1;
        }
    }
    repeated
}

impl GopherRepetition {
    /// A filter with this config.
    pub fn new(cfg: GopherRepetitionConfig) -> Self {
        GopherRepetition { cfg }
    }

    /// The decision for one text: `Err(reason)` to drop.
    pub fn decide(&self, doc: &Document) -> Result<(), &'static str> {
        let c = &self.cfg;
        let text = doc.text.as_str();
        if text.is_empty() {
            return Err("empty");
        }
        let text_len = py_len(text) as f64;
        let paragraphs = split_paragraphs(py_strip(text));
        let (dup, dup_chars) = find_duplicates(paragraphs.iter().copied());
        if let Some(t) = enabled(c.dup_para_frac) {
            if dup as f64 / paragraphs.len() as f64 > t {
                return Err("dup_para_frac");
            }
        }
        if let Some(t) = enabled(c.dup_para_char_frac) {
            if dup_chars as f64 / text_len > t {
                return Err("dup_para_char_frac");
            }
        }
        let lines = match c.semantics {
            Semantics::Datatrove010 => split_newline_runs(text),
            Semantics::Fineweb2024 => py_splitlines(text),
        };
        let (dup, dup_chars) = find_duplicates(lines.iter().copied());
        if let Some(t) = enabled(c.dup_line_frac) {
            if !lines.is_empty() && dup as f64 / lines.len() as f64 > t {
                return Err("dup_line_frac");
            }
        }
        if let Some(t) = enabled(c.dup_line_char_frac) {
            if dup_chars as f64 / text_len > t {
                return Err("dup_line_char_frac");
            }
        }
        let words = c.language.splitter(doc).words(text);
        let lens: Vec<usize> = words.iter().map(|w| py_len(w)).collect();
        let spaced = Joined::new(&words, " ");
        for &(n, frac) in &c.top_n_grams {
            if let Some(chars) = top_ngram_chars(&spaced, &lens, n) {
                if chars as f64 / text_len > frac {
                    return Err(top_reason(n));
                }
            }
        }
        drop(spaced);
        let glued = Joined::new(&words, "");
        for &(n, frac) in &c.dup_n_grams {
            if duplicated_ngram_chars(&glued, &lens, n) as f64 / text_len > frac {
                return Err(dup_reason(n));
            }
        }
        Ok(())
    }
}

fn top_reason(n: usize) -> &'static str {
    match n {
        1 => "top_1_gram",
        2 => "top_2_gram",
        3 => "top_3_gram",
        4 => "top_4_gram",
        5 => "top_5_gram",
        _ => "top_n_gram",
    }
}

fn dup_reason(n: usize) -> &'static str {
    match n {
        2 => "duplicated_2_n_grams",
        3 => "duplicated_3_n_grams",
        4 => "duplicated_4_n_grams",
        5 => "duplicated_5_n_grams",
        6 => "duplicated_6_n_grams",
        7 => "duplicated_7_n_grams",
        8 => "duplicated_8_n_grams",
        9 => "duplicated_9_n_grams",
        10 => "duplicated_10_n_grams",
        _ => "duplicated_n_grams",
    }
}

impl Step for GopherRepetition {
    fn name(&self) -> &str {
        "gopher_repetition"
    }
    fn process(&self, doc: &mut Document) -> Verdict {
        let d = self.decide(doc);
        conclude(doc, "gopher_repetition", self.cfg.annotate, d)
    }
}

/// Recipe factory.
pub fn build(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let cfg: GopherRepetitionConfig = config("gopher_repetition", table)?;
    for &(n, _) in cfg.top_n_grams.iter().chain(&cfg.dup_n_grams) {
        if n == 0 {
            return Err(StepError::Config {
                step: "gopher_repetition".into(),
                message: "n-gram sizes must be at least 1".into(),
            });
        }
    }
    Ok(Box::new(GopherRepetition::new(cfg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(text: &str) -> Result<(), &'static str> {
        GopherRepetition::default().decide(&Document::new("t", text))
    }

    #[test]
    fn repeated_paragraphs_and_lines_are_dropped_with_datatrove_reasons() {
        assert_eq!(decide(""), Err("empty"));
        let para = "This paragraph repeats itself over and over.";
        assert_eq!(decide(&[para; 4].join("\n\n")), Err("dup_para_frac"));
        let mut lines = vec!["A line that is repeated many times here."; 3];
        lines.extend([
            "one distinct line",
            "two distinct line",
            "three distinct line",
            "four",
            "five",
            "six",
        ]);
        assert_eq!(decide(&lines.join("\n")), Err("dup_line_char_frac"));
    }

    #[test]
    fn top_ngram_and_duplicate_ngrams() {
        let text = "buy cheap buy cheap buy cheap buy cheap now please";
        assert_eq!(decide(text), Err("top_2_gram"));
        let varied: String = (0..40).map(|i| format!("word{i} ")).collect();
        assert_eq!(decide(&varied), Ok(()));
    }

    #[test]
    fn find_all_duplicate_joins_without_spaces_and_skips_past_repeats() {
        let words = ["ab", "c", "x", "a", "bc", "x"];
        let lens: Vec<usize> = words.iter().map(|w| w.len()).collect();
        // "abcx" appears twice as a concatenation even though the word tuples differ.
        assert_eq!(
            duplicated_ngram_chars(&Joined::new(&words, ""), &lens, 3),
            4
        );
        // ...but joined with spaces the two 3-grams differ.
        assert_eq!(
            top_ngram_chars(&Joined::new(&words, " "), &lens, 3),
            Some(6)
        );
        let words = ["a", "b", "a", "b", "a", "b"];
        let lens = vec![1; 6];
        assert_eq!(
            duplicated_ngram_chars(&Joined::new(&words, ""), &lens, 2),
            4
        );
    }

    #[test]
    fn fineweb_2024_splits_lines_with_splitlines() {
        let cfg = GopherRepetitionConfig {
            semantics: Semantics::Fineweb2024,
            ..Default::default()
        };
        let f = GopherRepetition::new(cfg);
        // "\r" separates lines only under splitlines().
        let text = "same line here\rsame line here\rsame line here\rdifferent stuff goes here";
        assert_eq!(f.decide(&Document::new("t", text)), Err("dup_line_frac"));
        assert_ne!(
            GopherRepetition::default().decide(&Document::new("t", text)),
            Err("dup_line_frac")
        );
    }
}
