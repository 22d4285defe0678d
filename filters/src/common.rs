//! What the heuristic filters share: the named rule sets (`semantics`), the language that picks the
//! word splitter, and annotate mode.

use quarry_corpus::{Document, Verdict};
use serde::Deserialize;

use crate::words::WordSplitter;

/// Which version of datatrove's rules a filter follows.
///
/// datatrove changed several rules after FineWeb (2024) was built; both are kept so that a corpus can
/// either reproduce FineWeb's choices or follow current datatrove. docs/filters.md lists every
/// difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Semantics {
    /// The rules of datatrove 0.2.0, which built FineWeb: stop words counted with repetition,
    /// `splitlines()` for Gopher repetition lines, FineWeb's five ASCII stop characters and
    /// inclusive (`<=`, `>=`) FineWeb thresholds.
    #[serde(rename = "fineweb-2024")]
    Fineweb2024,
    /// The rules of datatrove 0.10: distinct stop words, `\n+` line splitting, the full Unicode
    /// terminal punctuation set, strict FineWeb comparisons.
    #[default]
    #[serde(rename = "datatrove-0.10")]
    Datatrove010,
}

/// The `language` key: a fixed language code, or `auto` to use each document's `language` metadata
/// (set by `language_id`), falling back to English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageChoice {
    /// Always split words for this language.
    Fixed(WordSplitter),
    /// Follow the document's `language` metadata.
    Auto,
}

impl Default for LanguageChoice {
    fn default() -> Self {
        LanguageChoice::Fixed(WordSplitter::English)
    }
}

impl<'de> Deserialize<'de> for LanguageChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(if s == "auto" {
            LanguageChoice::Auto
        } else {
            LanguageChoice::Fixed(WordSplitter::for_language(&s))
        })
    }
}

impl LanguageChoice {
    /// The splitter for one document.
    pub fn splitter(&self, doc: &Document) -> WordSplitter {
        match self {
            LanguageChoice::Fixed(s) => *s,
            LanguageChoice::Auto => doc
                .meta("language")
                .and_then(|v| v.as_str())
                .map(WordSplitter::for_language)
                .unwrap_or_default(),
        }
    }
}

/// Turns a filter's decision into a verdict. In annotate mode the decision goes into the metadata
/// (`<name>_keep`, and `<name>_reason` for a drop) and the document is kept, so that one pass can
/// record every filter's independent verdict.
pub fn conclude(
    doc: &mut Document,
    name: &str,
    annotate: bool,
    decision: Result<(), &'static str>,
) -> Verdict {
    if !annotate {
        return match decision {
            Ok(()) => Verdict::Keep,
            Err(reason) => Verdict::drop(reason),
        };
    }
    doc.set_meta(format!("{name}_keep"), decision.is_ok());
    if let Err(reason) = decision {
        doc.set_meta(format!("{name}_reason"), reason);
    }
    Verdict::Keep
}

/// Reads a step config from its recipe table.
pub fn config<T: serde::de::DeserializeOwned>(
    step: &str,
    table: &toml::Table,
) -> Result<T, quarry_corpus::StepError> {
    quarry_corpus::step::table_into(step, table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotate_records_instead_of_dropping() {
        let mut d = Document::new("a", "x");
        assert_eq!(conclude(&mut d, "f", true, Err("why")), Verdict::Keep);
        assert_eq!(d.meta("f_keep").and_then(|v| v.as_bool()), Some(false));
        assert_eq!(d.meta("f_reason").and_then(|v| v.as_str()), Some("why"));
        assert_eq!(
            conclude(&mut d, "f", false, Err("why")),
            Verdict::drop("why")
        );
    }

    #[test]
    fn semantics_and_language_parse_from_toml() {
        #[derive(Deserialize)]
        struct C {
            semantics: Semantics,
            language: LanguageChoice,
        }
        let c: C = toml::from_str("semantics = \"fineweb-2024\"\nlanguage = \"auto\"").unwrap();
        assert_eq!(c.semantics, Semantics::Fineweb2024);
        assert_eq!(c.language, LanguageChoice::Auto);
        assert!(toml::from_str::<C>("semantics = \"v9\"\nlanguage = \"en\"").is_err());
    }
}
