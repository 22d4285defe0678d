//! Character classes with Python's and spaCy's exact definitions, looked up in generated range tables.
//!
//! datatrove decides "is this word alphabetic", "is this whitespace" and "is this punctuation" with
//! Python's `str` methods and spaCy's hand-written classes, which differ from Rust's `char` methods in
//! many places (`char::is_alphabetic` includes combining vowel signs, `char::is_whitespace` excludes
//! U+001C..U+001F, ...). The tables come from the same Python and spaCy datatrove runs on.

use super::tables;

fn in_ranges(table: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    table
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// Python's `str.isalpha` for one character (general category L*).
pub fn py_isalpha(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_ranges(tables::PY_ALPHA, c)
}

/// Python's `str.isspace` for one character.
pub fn py_isspace(c: char) -> bool {
    if c.is_ascii() {
        return matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ');
    }
    in_ranges(tables::PY_SPACE, c)
}

/// Whether the character's Unicode general category is punctuation (P*).
pub fn is_unicode_punct(c: char) -> bool {
    in_ranges(tables::UNI_PUNCT, c)
}

/// spaCy's `ALPHA` class.
pub fn spacy_alpha(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    in_ranges(tables::SPACY_ALPHA, c)
}

/// spaCy's `ALPHA_LOWER` class.
pub fn spacy_lower(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_lowercase();
    }
    in_ranges(tables::SPACY_ALPHA_LOWER, c)
}

/// spaCy's `ALPHA_UPPER` class.
pub fn spacy_upper(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_uppercase();
    }
    in_ranges(tables::SPACY_ALPHA_UPPER, c)
}

/// spaCy's icon class (symbols and emoji), a prefix, suffix and infix on its own.
pub fn spacy_icon(c: char) -> bool {
    !c.is_ascii() && in_ranges(tables::SPACY_ICONS, c)
}

/// Python `re`'s `\w` in Unicode mode.
pub fn py_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    in_ranges(tables::PY_WORD, c)
}

/// Whether a character is a CJK ideograph, kana or Hangul syllable: scripts written without spaces
/// between words, where a whitespace splitter would see a whole sentence as one word.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // hiragana, katakana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xF900..=0xFAFF // compatibility ideographs
        | 0xFF66..=0xFF9F // half-width katakana
        | 0x20000..=0x2FA1F // CJK extensions B..
    )
}

/// Whether a character belongs to a script written without spaces that is not CJK (Thai, Lao,
/// Khmer, Myanmar, Tibetan).
pub fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0E7F   // Thai
        | 0x0E80..=0x0EFF // Lao
        | 0x0F00..=0x0FFF // Tibetan
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_semantics_differ_from_rust_where_datatrove_depends_on_it() {
        // Devanagari vowel sign AA is Alphabetic in Rust but category Mc, so not isalpha in Python.
        assert!('\u{093E}'.is_alphabetic());
        assert!(!py_isalpha('\u{093E}'));
        // U+001F is whitespace to Python, not to Rust.
        assert!(py_isspace('\x1f'));
        assert!(!'\x1f'.is_whitespace());
        assert!(py_isspace('\u{3000}') && py_isspace('\u{a0}'));
        assert!(py_isalpha('é') && py_isalpha('中') && !py_isalpha('1'));
        assert!(is_unicode_punct('«') && is_unicode_punct('。') && !is_unicode_punct('$'));
        assert!(spacy_lower('ß') && spacy_upper('Ä') && !spacy_lower('A'));
        assert!(spacy_icon('😀') && spacy_icon('©') && !spacy_icon('a'));
        assert!(is_cjk('中') && is_cjk('か') && !is_cjk('a'));
    }
}
