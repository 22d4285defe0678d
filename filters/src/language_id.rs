//! Language identification with fastText's lid.176 model, as datatrove's `LanguageFilter` does it.
//!
//! The text's newlines become spaces (fastText predicts one line), the top label and its probability
//! go into the metadata as `language` and `language_score`, and with `languages = [...]` a document
//! is kept when one of those languages scores strictly above `threshold` (datatrove's rule; for
//! thresholds of 0.5 or more that is the same as "the top label is listed and scores above the
//! threshold", since only one label can pass 0.5). Without `languages`, the top score must pass.

use fasttext::FastText;
use quarry_corpus::{Document, Step, StepError, Verdict};
use serde::Deserialize;

use crate::common::{conclude, config};

/// Environment variable naming the model when the recipe does not.
pub const MODEL_ENV: &str = "QUARRY_LID_MODEL";

/// Recipe config of `language_id`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LanguageIdConfig {
    /// Path of the fastText model (`lid.176.ftz` or `lid.176.bin`); default `$QUARRY_LID_MODEL`.
    pub model: Option<String>,
    /// Languages to keep (ISO 639-1 codes as lid.176 labels them); none keeps every language.
    pub languages: Option<Vec<String>>,
    /// Minimum score, exclusive (datatrove's `language_threshold`, default 0.65).
    pub threshold: f64,
    /// Only label, never drop (datatrove's `label_only`).
    pub label_only: bool,
    /// Record the verdict as `language_id_keep`/`language_id_reason` and keep the document.
    pub annotate: bool,
}

impl Default for LanguageIdConfig {
    fn default() -> Self {
        LanguageIdConfig {
            model: None,
            languages: None,
            threshold: 0.65,
            label_only: false,
            annotate: false,
        }
    }
}

/// A fastText language identifier (shareable across threads: fastText's predict is read-only).
pub struct LanguageId {
    cfg: LanguageIdConfig,
    model: FastText,
}

/// One prediction: label without the `__label__` prefix, and probability.
#[derive(Debug, Clone, PartialEq)]
pub struct LangScore {
    /// ISO code, e.g. `en`.
    pub label: String,
    /// Probability as fastText reports it (lid.176.ftz can exceed 1 by ~1e-4).
    pub score: f32,
}

/// datatrove's preprocessing: one line (newlines to spaces). NUL bytes, which cannot cross into
/// C++, become spaces too, and the final newline is what fastText's Python `predict` appends (it
/// adds the end-of-sentence token, which changes scores).
fn prepare(text: &str) -> String {
    let mut s: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\0' { ' ' } else { c })
        .collect();
    s.push('\n');
    s
}

impl LanguageId {
    /// Loads the model named by the config (or `$QUARRY_LID_MODEL`).
    pub fn new(cfg: LanguageIdConfig) -> Result<Self, StepError> {
        let path = match cfg.model.clone().or_else(|| std::env::var(MODEL_ENV).ok()) {
            Some(p) => p,
            None => {
                return Err(StepError::Config {
                    step: "language_id".into(),
                    message: format!(
                        "no model: set `model = \"path/to/lid.176.ftz\"` or ${MODEL_ENV}"
                    ),
                })
            }
        };
        if !std::path::Path::new(&path).is_file() {
            return Err(StepError::Io {
                step: "language_id".into(),
                path: path.into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "fastText model not found",
                ),
            });
        }
        let mut model = FastText::new();
        model.load_model(&path).map_err(|e| StepError::Other {
            step: "language_id".into(),
            message: format!("loading {path}: {e}"),
        })?;
        Ok(LanguageId { cfg, model })
    }

    /// The top `k` predictions for a text (`k = -1`: all labels), best first.
    pub fn predict(&self, text: &str, k: i32) -> Result<Vec<LangScore>, String> {
        let preds = self.model.predict(&prepare(text), k, 0.0)?;
        Ok(preds
            .into_iter()
            .map(|p| LangScore {
                label: p
                    .label
                    .strip_prefix("__label__")
                    .unwrap_or(&p.label)
                    .to_string(),
                score: p.prob,
            })
            .collect())
    }

    fn decide(&self, doc: &mut Document) -> Result<(), &'static str> {
        let c = &self.cfg;
        // Below 0.5 a listed language that is not the top one can still pass, so ask for all labels.
        let k = if c.languages.is_some() && c.threshold < 0.5 {
            -1
        } else {
            1
        };
        let preds = match self.predict(&doc.text, k) {
            Ok(p) if !p.is_empty() => p,
            Ok(_) => return Err("language_id_no_prediction"),
            Err(e) => {
                tracing::warn!(doc = %doc.id, error = %e, "fastText prediction failed");
                return Err("language_id_error");
            }
        };
        let top = &preds[0];
        doc.set_meta("language", top.label.as_str());
        doc.set_meta("language_score", top.score as f64);
        if c.label_only {
            return Ok(());
        }
        let pass = match &c.languages {
            None => top.score as f64 > c.threshold,
            Some(langs) => preds
                .iter()
                .any(|p| langs.contains(&p.label) && p.score as f64 > c.threshold),
        };
        if pass {
            Ok(())
        } else {
            Err("language")
        }
    }
}

impl Step for LanguageId {
    fn name(&self) -> &str {
        "language_id"
    }
    fn process(&self, doc: &mut Document) -> Verdict {
        let d = self.decide(doc);
        conclude(doc, "language_id", self.cfg.annotate, d)
    }
}

/// Recipe factory.
pub fn build(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let cfg: LanguageIdConfig = config("language_id", table)?;
    Ok(Box::new(LanguageId::new(cfg)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_path() -> String {
        let manifest = env!("CARGO_MANIFEST_DIR");
        let mut candidates = vec![];
        if let Ok(d) = std::env::var("QUARRY_TEST_DATA") {
            candidates.push(format!("{d}/lid/lid.176.ftz"));
        }
        candidates.push(format!("{manifest}/../../shared/data/lid/lid.176.ftz"));
        candidates.push(format!("{manifest}/../../../shared/data/lid/lid.176.ftz"));
        candidates
            .into_iter()
            .find(|p| std::path::Path::new(p).is_file())
            .expect("lid.176.ftz not found: set QUARRY_TEST_DATA")
    }

    fn lid(languages: Option<Vec<&str>>, threshold: f64) -> LanguageId {
        LanguageId::new(LanguageIdConfig {
            model: Some(model_path()),
            languages: languages.map(|v| v.into_iter().map(String::from).collect()),
            threshold,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn labels_and_filters_real_sentences() {
        let f = lid(Some(vec!["en"]), 0.65);
        let mut en = Document::new(
            "en",
            "The quick brown fox jumps over the lazy dog.\nIt was a sunny day.",
        );
        assert_eq!(f.process(&mut en), Verdict::Keep);
        assert_eq!(en.meta("language").and_then(|v| v.as_str()), Some("en"));
        assert!(en.meta("language_score").and_then(|v| v.as_f64()).unwrap() > 0.65);
        let mut fr = Document::new("fr", "Le renard brun saute par-dessus le chien paresseux.");
        assert_eq!(f.process(&mut fr), Verdict::drop("language"));
        assert_eq!(fr.meta("language").and_then(|v| v.as_str()), Some("fr"));
    }

    #[test]
    fn nul_bytes_and_empty_text_do_not_crash() {
        let f = lid(None, 0.0);
        let mut d = Document::new("x", "hello\0world");
        let _ = f.process(&mut d);
        assert!(d.meta("language").is_some());
        let mut e = Document::new("e", "");
        let _ = f.process(&mut e);
    }

    #[test]
    fn missing_model_is_a_clear_error() {
        let err = LanguageId::new(LanguageIdConfig {
            model: Some("/nonexistent/lid.bin".into()),
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(err.to_string().contains("/nonexistent/lid.bin"));
    }
}
