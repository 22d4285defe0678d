//! Word and sentence splitting as datatrove does it, per language.
//!
//! datatrove 0.10 splits English with spaCy's rule-based tokenizer (`spacy.blank("en")`), drops
//! whitespace tokens, and counts sentences with spaCy's `sentencizer`. [`WordSplitter::English`]
//! re-implements exactly that (see [`spacy`]). Other languages get the same affix rules without
//! English special cases, and scripts written without spaces are split so that a sentence is not one
//! "word": CJK ideographs and kana become one token per character (datatrove uses jieba / SudachiPy
//! dictionaries there, which we do not ship; per-character is the dictionary-free approximation, see
//! docs/filters.md).

pub mod chars;
pub mod spacy;
#[allow(clippy::all)]
mod tables;

use serde::Deserialize;

use self::chars::{is_cjk, is_unicode_punct};
use self::spacy::{Exceptions, SpacyTokenizer, Token};

/// Whether `c` is in datatrove's `PUNCTUATION` string.
pub fn is_dt_punctuation(c: char) -> bool {
    static ASCII: std::sync::OnceLock<[bool; 128]> = std::sync::OnceLock::new();
    if c.is_ascii() {
        let table = ASCII.get_or_init(|| {
            let mut t = [false; 128];
            for &p in tables::DT_PUNCTUATION.iter().filter(|p| p.is_ascii()) {
                t[p as usize] = true;
            }
            t
        });
        return table[c as usize];
    }
    tables::DT_PUNCTUATION.binary_search(&c).is_ok()
}

/// Whether `c` is in datatrove's `TERMINAL_PUNCTUATION` set.
pub fn is_dt_terminal_punctuation(c: char) -> bool {
    tables::DT_TERMINAL_PUNCTUATION.binary_search(&c).is_ok()
}

/// How a filter splits text into words and sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WordSplitter {
    /// spaCy's English tokenizer, as datatrove's default `language="eng"` uses.
    #[default]
    English,
    /// spaCy's language-neutral rules (no English contractions), for space-separated languages.
    Generic,
    /// Generic rules, then one token per CJK ideograph or kana character.
    Cjk,
}

impl WordSplitter {
    /// The splitter for an ISO 639-1/639-3 language code (`en`, `eng`, `zh`, `jpn`, ...).
    pub fn for_language(code: &str) -> WordSplitter {
        let base = code
            .split(['_', '-'])
            .next()
            .unwrap_or(code)
            .to_ascii_lowercase();
        match base.as_str() {
            "en" | "eng" => WordSplitter::English,
            "zh" | "zho" | "cmn" | "yue" | "wuu" | "ja" | "jpn" | "lzh" => WordSplitter::Cjk,
            _ => WordSplitter::Generic,
        }
    }

    fn tokenizer(self) -> SpacyTokenizer {
        SpacyTokenizer::new(match self {
            WordSplitter::English => Exceptions::English,
            _ => Exceptions::Base,
        })
    }

    fn tokens<'a>(self, text: &'a str, emit: &mut dyn FnMut(Token<'a>)) {
        let tok = self.tokenizer();
        if self != WordSplitter::Cjk {
            tok.tokenize(text, emit);
            return;
        }
        tok.tokenize(text, &mut |t: Token<'a>| {
            if t.space || !t.text.chars().any(is_cjk) {
                emit(t);
                return;
            }
            let s = t.text;
            let mut run_start: Option<usize> = None;
            for (i, c) in s.char_indices() {
                if is_cjk(c) {
                    if let Some(r) = run_start.take() {
                        emit(Token {
                            text: &s[r..i],
                            space: false,
                        });
                    }
                    emit(Token {
                        text: &s[i..i + c.len_utf8()],
                        space: false,
                    });
                } else if run_start.is_none() {
                    run_start = Some(i);
                }
            }
            if let Some(r) = run_start {
                emit(Token {
                    text: &s[r..],
                    space: false,
                });
            }
        });
    }

    /// The words of `text`: tokens with whitespace tokens removed (datatrove's `split_into_words`).
    pub fn words(self, text: &str) -> Vec<&str> {
        let mut out = Vec::with_capacity(text.len() / 5);
        self.tokens(text, &mut |t| {
            if !t.space {
                out.push(t.text);
            }
        });
        out
    }

    /// The number of sentences spaCy's `sentencizer` finds in `text` (datatrove's
    /// `len(split_into_sentences(text))`).
    pub fn count_sentences(self, text: &str) -> usize {
        self.sentence_ends(text).len()
    }

    /// datatrove's `split_into_sentences`: consecutive pieces that cover the whole text, each ending
    /// where a sentence of spaCy's `sentencizer` ends (the last piece runs to the end of the text).
    pub fn sentences(self, text: &str) -> Vec<&str> {
        let ends = self.sentence_ends(text);
        let mut out = Vec::with_capacity(ends.len());
        let mut start = 0;
        for (k, &e) in ends.iter().enumerate() {
            let e = if k + 1 == ends.len() { text.len() } else { e };
            out.push(&text[start..e]);
            start = e;
        }
        out
    }

    /// Byte offsets where sentences end. A sentence starts at the first token that is neither
    /// punctuation nor a sentence-final character after a sentence-final character (spaCy's
    /// `sentencizer` with its default `punct_chars`); whitespace tokens count as tokens there.
    fn sentence_ends(self, text: &str) -> Vec<usize> {
        let base = text.as_ptr() as usize;
        let mut ends = Vec::new();
        let mut last_end = None::<usize>;
        let mut seen_final = false;
        self.tokens(text, &mut |t| {
            let is_final = tables::SENT_PUNCT.contains(&t.text);
            let is_punct = t.text.chars().all(is_unicode_punct);
            if seen_final && !is_punct && !is_final {
                if let Some(e) = last_end {
                    ends.push(e);
                }
                seen_final = false;
            } else if is_final {
                seen_final = true;
            }
            last_end = Some(t.text.as_ptr() as usize - base + t.text.len());
        });
        if let Some(e) = last_end {
            ends.push(e);
        }
        ends
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_drop_whitespace_tokens() {
        let w = WordSplitter::English.words("Hello   big\n\nworld. It's fine!");
        assert_eq!(w, ["Hello", "big", "world", ".", "It", "'s", "fine", "!"]);
    }

    #[test]
    fn sentences_split_after_final_punctuation() {
        let s = WordSplitter::English;
        assert_eq!(s.count_sentences("One. Two! Three? Four"), 4);
        assert_eq!(s.count_sentences("Wait... what?! Yes."), 2);
        assert_eq!(s.count_sentences(""), 0);
        assert_eq!(s.count_sentences("No final punctuation"), 1);
        assert_eq!(
            s.sentences("One. Two!  Three"),
            ["One.", " Two!", "  Three"]
        );
    }

    #[test]
    fn cjk_is_split_per_character_and_latin_runs_stay_whole() {
        let w = WordSplitter::Cjk.words("我爱Rust语言。");
        assert_eq!(w, ["我", "爱", "Rust", "语", "言", "。"]);
        assert_eq!(WordSplitter::for_language("ja"), WordSplitter::Cjk);
        assert_eq!(WordSplitter::for_language("eng"), WordSplitter::English);
        assert_eq!(WordSplitter::for_language("fr"), WordSplitter::Generic);
    }
}
