//! Languages of the sample and the word lists each one is generated from.
//!
//! Each language has its own hand-written [`Lexicon`]: noun phrases, conjugated verbs, adjectives,
//! place and time phrases, connectors and sentence templates, plus the interface strings a site in
//! that language shows (menus, cookie banners, footers). The lists are small grammars, not corpora:
//! sentences are assembled from them by [`super::text`], so the output reads as the language (function
//! words in natural proportion, which is what fastText LID and the Gopher stop-word rule look at)
//! without copying any real text.

mod de;
mod en;
mod es;
mod fr;
mod ja;
mod ru;
mod zh;

use serde::{Deserialize, Serialize};

/// A language of the sample corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Spanish.
    Es,
    /// Chinese (Simplified, Han script).
    Zh,
    /// Japanese (kanji and kana).
    Ja,
    /// Russian (Cyrillic).
    Ru,
}

impl Lang {
    /// Every language, in a fixed order.
    pub const ALL: [Lang; 7] = [
        Lang::En,
        Lang::De,
        Lang::Fr,
        Lang::Es,
        Lang::Zh,
        Lang::Ja,
        Lang::Ru,
    ];

    /// ISO 639-1 code, as lid.176 labels it (`__label__en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Es => "es",
            Lang::Zh => "zh",
            Lang::Ja => "ja",
            Lang::Ru => "ru",
        }
    }

    /// The language for an ISO 639-1 code.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// Whether words are separated by spaces (false for Chinese and Japanese).
    pub(crate) fn spaced(self) -> bool {
        !matches!(self, Lang::Zh | Lang::Ja)
    }

    /// The word lists of this language.
    pub(crate) fn lexicon(self) -> &'static Lexicon {
        match self {
            Lang::En => &en::LEX,
            Lang::De => &de::LEX,
            Lang::Fr => &fr::LEX,
            Lang::Es => &es::LEX,
            Lang::Zh => &zh::LEX,
            Lang::Ja => &ja::LEX,
            Lang::Ru => &ru::LEX,
        }
    }
}

/// Word lists and templates of one language.
///
/// Templates use slots in braces: `{S}` subject noun phrase, `{V}` verb (agreeing with a singular
/// subject), `{O}` object noun phrase, `{A}` adjective (predicative), `{P}` place phrase, `{T}` time
/// phrase, `{C}` connector, `{N}` a number, `{X}` a product name.
pub(crate) struct Lexicon {
    pub subjects: &'static [&'static str],
    pub objects: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub adjectives: &'static [&'static str],
    pub places: &'static [&'static str],
    pub times: &'static [&'static str],
    pub connectors: &'static [&'static str],
    /// Neutral, reporting sentences (articles, product descriptions).
    pub templates: &'static [&'static str],
    /// First-person, conversational sentences (forum posts, blog comments).
    pub chat_templates: &'static [&'static str],
    /// Headlines (no final punctuation).
    pub title_templates: &'static [&'static str],
    pub products: &'static [&'static str],
    /// Sentences about the product `{X}`.
    pub product_templates: &'static [&'static str],
    /// Search-engine-spam phrases.
    pub spam_keywords: &'static [&'static str],
    /// User and author names.
    pub names: &'static [&'static str],
    pub ui: Ui,
}

/// Interface strings of a site in one language.
pub(crate) struct Ui {
    pub nav: &'static [&'static str],
    pub footer_links: &'static [&'static str],
    pub cookie: &'static str,
    pub accept: &'static str,
    pub rights: &'static str,
    pub read_more: &'static str,
    pub related: &'static str,
    pub advertisement: &'static str,
    pub share: &'static str,
    pub comments: &'static str,
    pub reply: &'static str,
    pub posted_by: &'static str,
    pub add_to_cart: &'static str,
    pub price: &'static str,
    pub in_stock: &'static str,
    pub reviews: &'static str,
    pub description: &'static str,
    pub not_found: &'static str,
    pub not_found_text: &'static str,
    pub search: &'static str,
    pub newsletter: &'static str,
    pub licensed_under: &'static str,
    pub updated: &'static str,
    pub originally: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lexicon_is_big_enough_and_templates_use_known_slots() {
        for lang in Lang::ALL {
            let l = lang.lexicon();
            let words = l.subjects.len()
                + l.objects.len()
                + l.verbs.len()
                + l.adjectives.len()
                + l.places.len()
                + l.times.len()
                + l.connectors.len();
            assert!(words >= 200, "{lang:?} has only {words} entries");
            for list in [
                l.templates,
                l.chat_templates,
                l.title_templates,
                l.product_templates,
            ] {
                assert!(list.len() >= 4, "{lang:?}: too few templates");
                for t in list {
                    let mut rest = *t;
                    while let Some(i) = rest.find('{') {
                        let slot = &rest[i..i + 3];
                        assert!(
                            ["{S}", "{V}", "{O}", "{A}", "{P}", "{T}", "{C}", "{N}", "{X}"]
                                .contains(&slot),
                            "{lang:?}: bad slot {slot} in {t}"
                        );
                        rest = &rest[i + 3..];
                    }
                }
            }
            assert!(l.ui.nav.len() >= 5 && !l.names.is_empty() && !l.products.is_empty());
            assert_eq!(Lang::from_code(lang.code()), Some(lang));
        }
    }
}
