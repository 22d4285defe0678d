//! C4's heuristic cleaning (Raffel et al. 2020) with datatrove's exact rules (`C4QualityFilter`).
//!
//! Unlike the other filters this one rewrites the text: lines that fail a line rule are removed and
//! the kept lines are joined with `\n`. A document is dropped whole for `lorem ipsum`, a curly
//! bracket in a kept-so-far line, or fewer than five sentences left.

use std::sync::OnceLock;

use quarry_corpus::{Document, Step, StepError, Verdict};
use regex::Regex;
use serde::Deserialize;

use crate::common::{conclude, config, LanguageChoice, Semantics};
use crate::pytext::{py_len, py_split_ws, py_splitlines, py_strip};

/// Line endings C4 accepts as terminal punctuation.
const END_PUNCTUATION: [char; 5] = ['.', '?', '!', '"', '\''];

/// Substrings that mark cookie and policy boilerplate lines.
pub const POLICY_SUBSTRINGS: [&str; 6] = [
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
];

/// Recipe config of `c4_quality` (datatrove's defaults; `-1` disables the numeric rules).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct C4QualityConfig {
    /// Split into lines (C4) rather than sentences.
    pub split_paragraph: bool,
    /// Remove Wikipedia-style citations (`[1]`, `[edit]`, `[citation needed]`).
    pub remove_citations: bool,
    /// Drop lines that do not end in terminal punctuation (FineWeb sets this to false).
    pub filter_no_terminal_punct: bool,
    /// Minimum number of sentences in the kept lines.
    pub min_num_sentences: i64,
    /// Minimum words (whitespace-separated) per line.
    pub min_words_per_line: i64,
    /// Drop lines with a word longer than this.
    pub max_word_length: i64,
    /// Drop documents containing "lorem ipsum".
    pub filter_lorem_ipsum: bool,
    /// Drop lines mentioning "javascript".
    pub filter_javascript: bool,
    /// Drop documents with a `{`.
    pub filter_curly_bracket: bool,
    /// Drop lines with cookie/terms-of-use phrases.
    pub filter_policy: bool,
    /// Sentence splitting language (`en`, `zh`, ..., or `auto`).
    pub language: LanguageChoice,
    /// Rule set (C4's rules did not change between the two; kept for uniform recipes).
    pub semantics: Semantics,
    /// Record the verdict as metadata and keep the document (the text is still rewritten when the
    /// document would be kept).
    pub annotate: bool,
}

impl Default for C4QualityConfig {
    fn default() -> Self {
        C4QualityConfig {
            split_paragraph: true,
            remove_citations: true,
            filter_no_terminal_punct: true,
            min_num_sentences: 5,
            min_words_per_line: 3,
            max_word_length: 1000,
            filter_lorem_ipsum: true,
            filter_javascript: true,
            filter_curly_bracket: true,
            filter_policy: true,
            language: LanguageChoice::default(),
            semantics: Semantics::default(),
            annotate: false,
        }
    }
}

/// The `c4_quality` step.
#[derive(Debug, Clone, Default)]
pub struct C4Quality {
    cfg: C4QualityConfig,
}

fn citation_regex() -> &'static Regex {
    static RX: OnceLock<Regex> = OnceLock::new();
    RX.get_or_init(|| Regex::new(r"\[\d*\]|\[edit\]|\[citation needed\]").expect("valid regex"))
}

impl C4Quality {
    /// A filter with this config.
    pub fn new(cfg: C4QualityConfig) -> Self {
        C4Quality { cfg }
    }

    /// The decision for one text, and the rewritten text when kept.
    pub fn decide(&self, doc: &Document) -> Result<String, &'static str> {
        let c = &self.cfg;
        let splitter = c.language.splitter(doc);
        let text = doc.text.as_str();
        let pieces = if c.split_paragraph {
            py_splitlines(text)
        } else {
            splitter.sentences(text)
        };
        let mut num_sentences: i64 = 0;
        let mut kept: Vec<String> = Vec::new();
        for piece in pieces {
            let stripped = py_strip(piece);
            let n_words = py_split_ws(stripped).count() as i64;
            if c.max_word_length != -1
                && py_split_ws(stripped).any(|w| py_len(w) as i64 > c.max_word_length)
            {
                continue;
            }
            let line = if c.remove_citations {
                citation_regex().replace_all(stripped, "").into_owned()
            } else {
                stripped.to_string()
            };
            if c.filter_no_terminal_punct
                && (!line.ends_with(END_PUNCTUATION) || line.ends_with("..."))
            {
                continue;
            }
            if n_words < c.min_words_per_line {
                continue;
            }
            let lower = line.to_lowercase();
            if c.filter_lorem_ipsum && lower.contains("lorem ipsum") {
                return Err("lorem_ipsum");
            }
            if c.filter_javascript && lower.contains("javascript") {
                continue;
            }
            if c.filter_curly_bracket && line.contains('{') {
                return Err("curly_bracket");
            }
            if c.filter_policy && POLICY_SUBSTRINGS.iter().any(|p| lower.contains(p)) {
                continue;
            }
            if c.min_num_sentences != -1 {
                num_sentences += if c.split_paragraph {
                    splitter.count_sentences(&line) as i64
                } else {
                    1
                };
            }
            kept.push(line);
        }
        if num_sentences < c.min_num_sentences {
            return Err("too_few_sentences");
        }
        let joined = kept.join(if c.split_paragraph { "\n" } else { " " });
        Ok(py_strip(&joined).to_string())
    }
}

impl Step for C4Quality {
    fn name(&self) -> &str {
        "c4_quality"
    }
    fn process(&self, doc: &mut Document) -> Verdict {
        let d = match self.decide(doc) {
            Ok(text) => {
                doc.text = text;
                Ok(())
            }
            Err(r) => Err(r),
        };
        conclude(doc, "c4_quality", self.cfg.annotate, d)
    }
}

/// Recipe factory.
pub fn build(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let cfg: C4QualityConfig = config("c4_quality", table)?;
    Ok(Box::new(C4Quality::new(cfg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_bad_lines_and_keeps_the_rest() {
        let text = "Menu\nHome | About\nThis is the first real sentence. And a second one here.\n\
            We use cookies to improve your experience of this site.\n\
            Enable JavaScript to view the comments on this page.\n\
            The third sentence is here. The fourth sentence follows it.\n\
            A fifth sentence ends the article[1].\nShare this...";
        let mut d = Document::new("t", text);
        assert_eq!(C4Quality::default().process(&mut d), Verdict::Keep);
        assert_eq!(
            d.text,
            "This is the first real sentence. And a second one here.\n\
             The third sentence is here. The fourth sentence follows it.\n\
             A fifth sentence ends the article."
        );
    }

    #[test]
    fn whole_document_drops() {
        let f = C4Quality::default();
        let lorem = "Lorem ipsum dolor sit amet, consectetur adipiscing.";
        assert_eq!(f.decide(&Document::new("t", lorem)), Err("lorem_ipsum"));
        assert_eq!(
            f.decide(&Document::new("t", "var x = {a: 1}; is code.")),
            Err("curly_bracket")
        );
        assert_eq!(
            f.decide(&Document::new("t", "Only one sentence here.")),
            Err("too_few_sentences")
        );
    }

    #[test]
    fn sentence_mode_joins_with_spaces() {
        let f = C4Quality::new(C4QualityConfig {
            split_paragraph: false,
            min_num_sentences: 2,
            ..Default::default()
        });
        let d = Document::new(
            "t",
            "First sentence is here.\nSecond sentence is here. menu",
        );
        assert_eq!(
            f.decide(&d),
            Ok("First sentence is here. Second sentence is here.".to_string())
        );
    }
}
