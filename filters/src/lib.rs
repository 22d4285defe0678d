//! # quarry-filters
//!
//! Document filters and taggers for quarry recipes: datatrove-exact heuristic quality filters
//! (Gopher repetition and quality, C4, FineWeb), fastText language identification, FineWeb's URL
//! filter and PII replacement.
//!
//! Every filter is a [`quarry_corpus::Step`] built from a recipe table with `deny_unknown_fields`;
//! drops carry datatrove's reason strings so that stats compare one to one with datatrove runs. The
//! heuristic filters take `semantics = "datatrove-0.10"` (default) or `"fineweb-2024"` (the rules
//! FineWeb was built with) and `annotate = true` (record `<filter>_keep` / `<filter>_reason` and
//! keep the document).
#![warn(missing_docs)]

pub mod c4_quality;
pub mod classifier;
pub mod common;
pub mod fineweb_quality;
pub mod gopher_quality;
pub mod gopher_repetition;
pub mod language_id;
pub mod license;
pub mod pii;
pub mod pytext;
pub mod url_filter;
pub mod words;

pub use c4_quality::{C4Quality, C4QualityConfig};
pub use common::{LanguageChoice, Semantics};
pub use fineweb_quality::{FineWebQuality, FineWebQualityConfig};
pub use gopher_quality::{GopherQuality, GopherQualityConfig};
pub use gopher_repetition::{GopherRepetition, GopherRepetitionConfig};
pub use language_id::{LanguageId, LanguageIdConfig};
pub use pii::{Pii, PiiConfig};
pub use url_filter::{UrlFilter, UrlFilterConfig};
pub use words::WordSplitter;

use quarry_corpus::StepRegistry;

/// Registers this crate's recipe stages.
pub fn register(reg: &mut StepRegistry) {
    reg.register(
        "quality_classifier",
        "fastText quality classifier (quarry classifier train): quality_score metadata, optional threshold",
        classifier::build,
    );
    reg.register(
        "gopher_repetition",
        "Gopher repetition filter (datatrove GopherRepetitionFilter semantics)",
        gopher_repetition::build,
    );
    reg.register(
        "gopher_quality",
        "Gopher quality filter (datatrove GopherQualityFilter semantics)",
        gopher_quality::build,
    );
    reg.register(
        "c4_quality",
        "C4 quality filter with line removal (datatrove C4QualityFilter semantics)",
        c4_quality::build,
    );
    reg.register(
        "fineweb_quality",
        "FineWeb quality filter (datatrove FineWebQualityFilter semantics)",
        fineweb_quality::build,
    );
    reg.register(
        "language_id",
        "fastText lid.176 language ID: `language`/`language_score` metadata, keeps listed languages",
        language_id::build,
    );
    reg.register(
        "url_filter",
        "FineWeb URL filter: blocklisted domains/URLs, banned words and sub-words (datatrove URLFilter)",
        url_filter::build,
    );
    reg.register(
        "license",
        "License audit: SPDX licence and opt-out signals from raw HTML/headers; keeps listed classes",
        license::step::build,
    );
    reg.register(
        "pii",
        "Replace e-mails and public IPs (datatrove PIIFormatter)",
        pii::build,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_builds_every_filter_and_rejects_unknown_keys() {
        let mut reg = StepRegistry::new();
        register(&mut reg);
        for name in [
            "gopher_repetition",
            "gopher_quality",
            "c4_quality",
            "fineweb_quality",
        ] {
            let step = reg.build(name, &toml::Table::new()).unwrap();
            assert_eq!(step.name(), name);
            let mut bad = toml::Table::new();
            bad.insert("no_such_key".into(), toml::Value::Integer(1));
            assert!(
                reg.build(name, &bad).is_err(),
                "{name} accepted an unknown key"
            );
        }
        let t: toml::Table =
            toml::from_str("semantics = \"fineweb-2024\"\nannotate = true").unwrap();
        assert!(reg.build("gopher_quality", &t).is_ok());
    }

    #[test]
    fn degenerate_texts_get_a_verdict_under_both_semantics() {
        let mut reg = StepRegistry::new();
        register(&mut reg);
        let texts = [
            "",
            " ",
            "\n\n\n",
            "...",
            "\r\n\r\n",
            "#",
            "•",
            "{",
            "a",
            "\u{0}",
            "。",
            "\u{2028}x",
        ];
        for semantics in ["datatrove-0.10", "fineweb-2024"] {
            for name in [
                "gopher_repetition",
                "gopher_quality",
                "c4_quality",
                "fineweb_quality",
            ] {
                let t: toml::Table =
                    toml::from_str(&format!("semantics = \"{semantics}\"")).unwrap();
                let step = reg.build(name, &t).unwrap();
                for text in texts {
                    let mut d = quarry_corpus::Document::new("t", text);
                    // Either verdict is fine; what matters is one, with a reason when dropping.
                    if let quarry_corpus::Verdict::Drop(r) = step.process(&mut d) {
                        assert!(!r.is_empty(), "{name} dropped {text:?} without a reason");
                    }
                }
            }
        }
        let pii = reg.build("pii", &toml::Table::new()).unwrap();
        for text in texts {
            assert!(pii
                .process(&mut quarry_corpus::Document::new("t", text))
                .is_keep());
        }
    }
}
