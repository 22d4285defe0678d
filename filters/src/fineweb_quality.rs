//! FineWeb's own quality rules (Penedo et al. 2024, datatrove's `FineWebQualityFilter`): share of
//! lines ending in punctuation, share of short lines, characters in duplicated lines, and newlines
//! per word.

use quarry_corpus::{Document, Step, StepError, Verdict};
use serde::Deserialize;

use crate::common::{conclude, config, LanguageChoice, Semantics};
use crate::pytext::{find_duplicates, py_len, py_strip};
use crate::words::is_dt_terminal_punctuation;

/// The stop characters FineWeb was built with (datatrove 0.2.0).
const FINEWEB_2024_STOP_CHARS: [char; 5] = ['.', '\'', '"', '!', '?'];

/// Recipe config of `fineweb_quality` (datatrove's defaults).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FineWebQualityConfig {
    /// Drop when the share of lines ending in a stop character is below this (at or below under
    /// `fineweb-2024`).
    pub line_punct_thr: f64,
    /// Do not apply the punctuation rule to documents with no punctuated line at all.
    pub line_punct_exclude_zero: bool,
    /// Stop characters; default: datatrove's `TERMINAL_PUNCTUATION` (0.10) or `. ' " ! ?` (2024).
    pub stop_chars: Option<Vec<String>>,
    /// Drop when the share of lines of at most `short_line_length` characters is above this.
    pub short_line_thr: f64,
    /// What counts as a short line, in characters.
    pub short_line_length: usize,
    /// Drop when characters in duplicated lines exceed this share of the non-newline characters.
    pub char_duplicates_ratio: f64,
    /// Drop when newlines per word exceed this.
    pub new_line_ratio: f64,
    /// Word splitting language (`en`, `zh`, ..., or `auto`).
    pub language: LanguageChoice,
    /// Rule set: `datatrove-0.10` (default) or `fineweb-2024`.
    pub semantics: Semantics,
    /// Record the verdict as metadata and keep the document.
    pub annotate: bool,
}

impl Default for FineWebQualityConfig {
    fn default() -> Self {
        FineWebQualityConfig {
            line_punct_thr: 0.12,
            line_punct_exclude_zero: false,
            stop_chars: None,
            short_line_thr: 0.67,
            short_line_length: 30,
            char_duplicates_ratio: 0.01,
            new_line_ratio: 0.3,
            language: LanguageChoice::default(),
            semantics: Semantics::default(),
            annotate: false,
        }
    }
}

/// The `fineweb_quality` step.
#[derive(Debug, Clone, Default)]
pub struct FineWebQuality {
    cfg: FineWebQualityConfig,
}

impl FineWebQuality {
    /// A filter with this config.
    pub fn new(cfg: FineWebQualityConfig) -> Self {
        FineWebQuality { cfg }
    }

    fn ends_with_stop(&self, line: &str) -> bool {
        if let Some(stops) = &self.cfg.stop_chars {
            return stops.iter().any(|s| line.ends_with(s.as_str()));
        }
        let Some(last) = line.chars().next_back() else {
            return false;
        };
        match self.cfg.semantics {
            Semantics::Datatrove010 => is_dt_terminal_punctuation(last),
            Semantics::Fineweb2024 => FINEWEB_2024_STOP_CHARS.contains(&last),
        }
    }

    /// The decision for one text: `Err(reason)` to drop.
    pub fn decide(&self, doc: &Document) -> Result<(), &'static str> {
        let c = &self.cfg;
        let text = doc.text.as_str();
        let v2024 = c.semantics == Semantics::Fineweb2024;
        let all_lines: Vec<&str> = text.split('\n').collect();
        let non_empty: Vec<&str> = all_lines
            .iter()
            .copied()
            .filter(|l| !py_strip(l).is_empty())
            .collect();
        // 0.10 computes the line ratios over non-empty lines; FineWeb (2024) over all of them.
        let lines = if v2024 { &all_lines } else { &non_empty };
        if !v2024 && non_empty.is_empty() {
            return Err("empty");
        }
        let n = lines.len() as f64;
        let ratio = lines.iter().filter(|l| self.ends_with_stop(l)).count() as f64 / n;
        let punct_fail = if v2024 {
            ratio <= c.line_punct_thr
        } else {
            ratio < c.line_punct_thr
        };
        if punct_fail && !(ratio == 0.0 && c.line_punct_exclude_zero) {
            return Err("line_punct_ratio");
        }
        let ratio = lines
            .iter()
            .filter(|l| py_len(l) <= c.short_line_length)
            .count() as f64
            / n;
        let short_fail = if v2024 {
            ratio >= c.short_line_thr
        } else {
            ratio > c.short_line_thr
        };
        if short_fail {
            return Err("short_line_ratio");
        }
        let dup_chars = find_duplicates(non_empty.iter().copied()).1 as f64;
        let denom = (py_len(text) - text.matches('\n').count()) as f64;
        if denom == 0.0 {
            return Err("empty"); // datatrove 0.2.0 would divide by zero here
        }
        let ratio = dup_chars / denom;
        let dup_fail = if v2024 {
            ratio >= c.char_duplicates_ratio
        } else {
            ratio > c.char_duplicates_ratio
        };
        if dup_fail {
            return Err("char_dup_ratio");
        }
        let words = c.language.splitter(doc).words(text).len();
        let newlines = text.matches('\n').count();
        if words == 0 || newlines as f64 / words as f64 > c.new_line_ratio {
            return Err("list_ratio");
        }
        Ok(())
    }
}

impl Step for FineWebQuality {
    fn name(&self) -> &str {
        "fineweb_quality"
    }
    fn process(&self, doc: &mut Document) -> Verdict {
        let d = self.decide(doc);
        conclude(doc, "fineweb_quality", self.cfg.annotate, d)
    }
}

/// Recipe factory.
pub fn build(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let cfg: FineWebQualityConfig = config("fineweb_quality", table)?;
    Ok(Box::new(FineWebQuality::new(cfg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2024() -> FineWebQuality {
        FineWebQuality::new(FineWebQualityConfig {
            semantics: Semantics::Fineweb2024,
            ..Default::default()
        })
    }

    #[test]
    fn prose_passes_and_menus_fail() {
        let f = FineWebQuality::default();
        let prose = "This is a long line of prose that ends with a full stop, as prose does.\n\
                     Another long line of prose follows here and it also ends properly!";
        assert_eq!(f.decide(&Document::new("t", prose)), Ok(()));
        let menu = "Home\nAbout us\nContact\nProducts\nA longer line that ends with a stop.";
        assert_eq!(f.decide(&Document::new("t", menu)), Err("short_line_ratio"));
        let nopunct =
            "a line without any punctuation at the end of it\nand another one like that here";
        assert_eq!(
            f.decide(&Document::new("t", nopunct)),
            Err("line_punct_ratio")
        );
        assert_eq!(f.decide(&Document::new("t", "\n \n")), Err("empty"));
        assert_eq!(
            v2024().decide(&Document::new("t", "\n \n")),
            Err("line_punct_ratio")
        );
    }

    #[test]
    fn inclusive_thresholds_and_unicode_stops_differ_between_semantics() {
        // 3 of 3 lines end in "。": terminal punctuation in 0.10, not one of FineWeb's five.
        let zh = "这是一个很长的中文句子，它以句号结尾，内容足够长以避免短行规则。\n\
                  这是第二个很长的中文句子，它同样以句号结尾，内容也足够长。\n\
                  这是第三个很长的中文句子，它同样以句号结尾，内容也足够长呢。";
        let d = Document::new("t", zh);
        assert_eq!(v2024().decide(&d), Err("line_punct_ratio"));
        assert_ne!(
            FineWebQuality::default().decide(&d),
            Err("line_punct_ratio")
        );
        // Exactly 2 of 3 lines short: 0.667 > 0.67 is false in both, so use a 1-of-2 case for >=.
        let f = FineWebQuality::new(FineWebQualityConfig {
            short_line_thr: 0.5,
            semantics: Semantics::Fineweb2024,
            ..Default::default()
        });
        let half = "Short line.\nThis is a much longer line of text that ends with a period.";
        assert_eq!(f.decide(&Document::new("t", half)), Err("short_line_ratio"));
        let f10 = FineWebQuality::new(FineWebQualityConfig {
            short_line_thr: 0.5,
            ..Default::default()
        });
        assert_eq!(f10.decide(&Document::new("t", half)), Ok(()));
    }
}
