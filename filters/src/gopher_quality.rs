//! Gopher's quality rules (Rae et al. 2021) with datatrove's exact semantics
//! (`GopherQualityFilter`): word count, mean word length, `#` and ellipsis ratios, bullet and
//! ellipsis lines, alphabetic words and stop words.

use std::collections::HashSet;

use quarry_corpus::{Document, Step, StepError, Verdict};
use serde::Deserialize;

use crate::common::{conclude, config, LanguageChoice, Semantics};
use crate::pytext::{py_len, py_lstrip, py_rstrip, py_splitlines};
use crate::words::chars::py_isalpha;
use crate::words::{is_dt_punctuation, is_dt_terminal_punctuation};

/// Gopher's stop words.
pub const STOP_WORDS: [&str; 8] = ["the", "be", "to", "of", "and", "that", "have", "with"];

/// Recipe config of `gopher_quality` (datatrove's defaults; a `0` disables a rule, as in datatrove).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GopherQualityConfig {
    /// Minimum number of non-symbol words.
    pub min_doc_words: Option<usize>,
    /// Maximum number of non-symbol words.
    pub max_doc_words: Option<usize>,
    /// Minimum mean length of non-symbol words.
    pub min_avg_word_length: Option<f64>,
    /// Maximum mean length of non-symbol words.
    pub max_avg_word_length: Option<f64>,
    /// Maximum `#` and ellipsis counts per word.
    pub max_symbol_word_ratio: Option<f64>,
    /// Maximum fraction of lines starting with a bullet (`•` or `-`).
    pub max_bullet_lines_ratio: Option<f64>,
    /// Maximum fraction of lines ending with an ellipsis.
    pub max_ellipsis_lines_ratio: Option<f64>,
    /// Minimum fraction of words with an alphabetic character (datatrove's misnamed
    /// `max_non_alpha_words_ratio`).
    pub max_non_alpha_words_ratio: Option<f64>,
    /// Minimum number of stop words (distinct under `datatrove-0.10`, counted under `fineweb-2024`).
    pub min_stop_words: Option<usize>,
    /// The stop words (default: Gopher's eight).
    pub stop_words: Option<Vec<String>>,
    /// Word splitting language (`en`, `zh`, ..., or `auto`).
    pub language: LanguageChoice,
    /// Rule set: `datatrove-0.10` (default) or `fineweb-2024`.
    pub semantics: Semantics,
    /// Record the verdict as metadata and keep the document.
    pub annotate: bool,
}

impl Default for GopherQualityConfig {
    fn default() -> Self {
        GopherQualityConfig {
            min_doc_words: Some(50),
            max_doc_words: Some(100_000),
            min_avg_word_length: Some(3.0),
            max_avg_word_length: Some(10.0),
            max_symbol_word_ratio: Some(0.1),
            max_bullet_lines_ratio: Some(0.9),
            max_ellipsis_lines_ratio: Some(0.3),
            max_non_alpha_words_ratio: Some(0.8),
            min_stop_words: Some(2),
            stop_words: None,
            language: LanguageChoice::default(),
            semantics: Semantics::default(),
            annotate: false,
        }
    }
}

/// The `gopher_quality` step.
#[derive(Debug, Clone)]
pub struct GopherQuality {
    cfg: GopherQualityConfig,
    stop_words: HashSet<String>,
    /// Longest stop word in bytes: longer words need no lookup.
    max_stop_len: usize,
}

impl Default for GopherQuality {
    fn default() -> Self {
        GopherQuality::new(GopherQualityConfig::default())
    }
}

fn on<T: PartialEq + Default + Copy>(x: Option<T>) -> Option<T> {
    x.filter(|v| *v != T::default())
}

impl GopherQuality {
    /// A filter with this config.
    pub fn new(cfg: GopherQualityConfig) -> Self {
        let stop_words: HashSet<String> = match &cfg.stop_words {
            Some(v) => v.iter().cloned().collect(),
            None => STOP_WORDS.iter().map(|s| s.to_string()).collect(),
        };
        let max_stop_len = stop_words
            .iter()
            .map(|w: &String| w.len())
            .max()
            .unwrap_or(0);
        GopherQuality {
            cfg,
            stop_words,
            max_stop_len,
        }
    }

    /// The decision for one text: `Err(reason)` to drop.
    pub fn decide(&self, doc: &Document) -> Result<(), &'static str> {
        let c = &self.cfg;
        let text = doc.text.as_str();
        let words = c.language.splitter(doc).words(text);
        let n_words = words.len();
        let is_symbol_char = |ch: char| match c.semantics {
            Semantics::Datatrove010 => is_dt_punctuation(ch) || is_dt_terminal_punctuation(ch),
            Semantics::Fineweb2024 => is_dt_punctuation(ch),
        };
        let mut n_non_symbol = 0usize;
        let mut non_symbol_chars = 0usize;
        for w in &words {
            if w.chars().any(|ch| !is_symbol_char(ch)) {
                n_non_symbol += 1;
                non_symbol_chars += py_len(w);
            }
        }
        if let Some(m) = on(c.min_doc_words) {
            if n_non_symbol < m {
                return Err("gopher_short_doc");
            }
        }
        if let Some(m) = on(c.max_doc_words) {
            if n_non_symbol > m {
                return Err("gopher_long_doc");
            }
        }
        // numpy's mean of an empty list is NaN, which fails every comparison.
        let avg = if n_non_symbol == 0 {
            f64::NAN
        } else {
            non_symbol_chars as f64 / n_non_symbol as f64
        };
        if let Some(m) = on(c.min_avg_word_length) {
            if avg < m {
                return Err("gopher_below_avg_threshold");
            }
        }
        if let Some(m) = on(c.max_avg_word_length) {
            if avg > m {
                return Err("gopher_above_avg_threshold");
            }
        }
        if n_words == 0 {
            // datatrove would divide by zero below; with its defaults this is unreachable because
            // the short-document rule fires first.
            return Err("gopher_short_doc");
        }
        if let Some(m) = on(c.max_symbol_word_ratio) {
            if text.matches('#').count() as f64 / n_words as f64 > m {
                return Err("gopher_too_many_hashes");
            }
            let ellipses = text.matches("...").count() + text.matches('…').count();
            if ellipses as f64 / n_words as f64 > m {
                return Err("gopher_too_many_ellipsis");
            }
        }
        let lines = py_splitlines(text);
        if !lines.is_empty() {
            let n = lines.len() as f64;
            if let Some(m) = on(c.max_bullet_lines_ratio) {
                let bullets = lines
                    .iter()
                    .filter(|l| {
                        let l = py_lstrip(l);
                        l.starts_with('•') || l.starts_with('-')
                    })
                    .count();
                if bullets as f64 / n > m {
                    return Err("gopher_too_many_bullets");
                }
            }
            if let Some(m) = on(c.max_ellipsis_lines_ratio) {
                let ell = lines
                    .iter()
                    .filter(|l| {
                        let l = py_rstrip(l);
                        l.ends_with("...") || l.ends_with('…')
                    })
                    .count();
                if ell as f64 / n > m {
                    return Err("gopher_too_many_end_ellipsis");
                }
            }
        }
        if let Some(m) = on(c.max_non_alpha_words_ratio) {
            let alpha = words.iter().filter(|w| w.chars().any(py_isalpha)).count();
            if (alpha as f64 / n_words as f64) < m {
                return Err("gopher_below_alpha_threshold");
            }
        }
        if let Some(m) = on(c.min_stop_words) {
            let stops = words
                .iter()
                .filter(|w| w.len() <= self.max_stop_len && self.stop_words.contains(**w));
            let found = match c.semantics {
                Semantics::Datatrove010 => stops.collect::<HashSet<&&str>>().len(),
                Semantics::Fineweb2024 => stops.count(),
            };
            if found < m {
                return Err("gopher_enough_stop_words");
            }
        }
        Ok(())
    }
}

impl Step for GopherQuality {
    fn name(&self) -> &str {
        "gopher_quality"
    }
    fn process(&self, doc: &mut Document) -> Verdict {
        let d = self.decide(doc);
        conclude(doc, "gopher_quality", self.cfg.annotate, d)
    }
}

/// Recipe factory.
pub fn build(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let cfg: GopherQualityConfig = config("gopher_quality", table)?;
    Ok(Box::new(GopherQuality::new(cfg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(text: &str) -> Result<(), &'static str> {
        GopherQuality::default().decide(&Document::new("t", text))
    }

    const GOOD: &str =
        "The quick brown fox jumps over the lazy dog and then runs to the river with \
        its friends. It is a sunny day and the animals have a lot of fun together in the forest. \
        Later that evening they return home, tired but happy, and tell stories of their adventures \
        to the younger ones who listen carefully to every word.";

    #[test]
    fn a_normal_paragraph_passes_and_short_text_fails() {
        assert_eq!(decide(GOOD), Ok(()));
        assert_eq!(
            decide("Too short to be a document."),
            Err("gopher_short_doc")
        );
    }

    #[test]
    fn symbol_and_line_rules_fire_with_datatrove_reasons() {
        let hashes = format!("{GOOD} {}", "#tag ".repeat(10));
        assert_eq!(decide(&hashes), Err("gopher_too_many_hashes"));
        let bullets: String = (0..60)
            .map(|i| format!("• item number {i} with the words\n"))
            .collect();
        assert_eq!(decide(&bullets), Err("gopher_too_many_bullets"));
        let ell: String = (0..30)
            .map(|i| format!("the story number {i} goes on and on and...\n"))
            .collect();
        assert_eq!(decide(&ell), Err("gopher_too_many_end_ellipsis"));
        let dots = format!("{GOOD} {}", "wait... ".repeat(12));
        assert_eq!(decide(&dots), Err("gopher_too_many_ellipsis"));
    }

    #[test]
    fn stop_words_distinct_vs_counted() {
        // "the" many times but no other stop word: enough when counted, not when distinct.
        let text: String = (0..60).map(|i| format!("the cat{i} sleeps ")).collect();
        assert_eq!(decide(&text), Err("gopher_enough_stop_words"));
        let f = GopherQuality::new(GopherQualityConfig {
            semantics: Semantics::Fineweb2024,
            ..Default::default()
        });
        assert_eq!(f.decide(&Document::new("t", text)), Ok(()));
    }
}
