//! Text normalisation and word shingling, compatible with datatrove's MinHash stage.
//!
//! datatrove (`utils/text.py::simplify_text` with its default `TextNormConfig`, then the English word
//! tokenizer, then word n-grams) does, in this order: lower-case; replace each run of decimal digits
//! (optionally with one decimal separator and more digits) by `0`; map a fixed set of punctuation and
//! control characters to spaces; collapse whitespace runs to one space and trim; NFD-decompose and drop
//! non-spacing marks (`Mn`); trim. We re-implement that here from the documented behaviour, and check it
//! against outputs produced by datatrove itself (`scripts/dedup/datatrove_golden.py` writes
//! `dedup/data/datatrove_golden.jsonl`, tested below).
//!
//! datatrove tokenizes English with `spacy.blank("en")`. On simplified text (no ASCII punctuation, lower
//! case) spaCy differs from a whitespace split only through its special cases (`cannot` → `can not`,
//! `dont` → `do nt`; the table is extracted by `scripts/dedup/spacy_special_cases.py`), symbol characters
//! (`So`, split off everywhere), currency signs (split as prefixes, or after a digit) and units after a
//! number (`0km` → `0 km`). [`WordTokenizer::Datatrove`] does those; [`WordTokenizer::Whitespace`] is the
//! plain split for other languages or speed.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Which text normalisations to apply before shingling (datatrove's `TextNormConfig`, same defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NormConfig {
    /// Lower-case the text.
    pub lowercase: bool,
    /// Replace digit runs (with an optional decimal part) by `0`.
    pub norm_numbers: bool,
    /// Map datatrove's punctuation set and ASCII/C1 control characters to spaces.
    pub remove_punctuation: bool,
    /// Collapse whitespace runs to one space and trim.
    pub norm_whitespace: bool,
    /// NFD-decompose and drop non-spacing marks (`é` → `e`).
    pub norm_unicode_diacritics: bool,
}

impl Default for NormConfig {
    fn default() -> Self {
        NormConfig {
            lowercase: true,
            norm_numbers: true,
            remove_punctuation: true,
            norm_whitespace: true,
            norm_unicode_diacritics: true,
        }
    }
}

impl NormConfig {
    /// A short code for the config tag: one letter per enabled option (`lnpwd` for the default).
    pub fn code(&self) -> String {
        let mut s = String::new();
        for (on, c) in [
            (self.lowercase, 'l'),
            (self.norm_numbers, 'n'),
            (self.remove_punctuation, 'p'),
            (self.norm_whitespace, 'w'),
            (self.norm_unicode_diacritics, 'd'),
        ] {
            if on {
                s.push(c);
            }
        }
        if s.is_empty() {
            s.push('0');
        }
        s
    }
}

/// How the simplified text is split into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WordTokenizer {
    /// datatrove's English tokenizer (spaCy) as far as it matters on simplified text.
    #[default]
    Datatrove,
    /// Split on whitespace only.
    Whitespace,
}

/// The non-letter characters datatrove maps to spaces (its `PUNCTUATION` constant: ASCII punctuation,
/// C0/C1 controls except `\t`/`\n`, and some typographic and CJK punctuation), sorted for binary search.
const PUNCTUATION: &[u32] = &[
    0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0x8, 0xB, 0xC, 0xD, 0xE, 0xF, 0x10, 0x11, 0x12, 0x13,
    0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x21, 0x22, 0x23, 0x24,
    0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E,
    0x3F, 0x40, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x7B, 0x7C, 0x7D, 0x7E, 0x7F, 0x80, 0x81, 0x82,
    0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8D, 0x8E, 0x8F, 0x90, 0x91, 0x92,
    0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xAB, 0xB4, 0xBB,
    0x2013, 0x2014, 0x2019, 0x201C, 0x201D, 0x201E, 0x2026, 0x2236, 0x2501, 0x25BA, 0x3001, 0x3002,
    0x3008, 0x3009, 0x300A, 0x300B, 0x300C, 0x300D, 0x3010, 0x3011, 0xFF01, 0xFF05, 0xFF08, 0xFF09,
    0xFF0C, 0xFF0E, 0xFF11, 0xFF1A, 0xFF1B, 0xFF1F, 0xFF5E,
];

fn is_punct(c: char) -> bool {
    PUNCTUATION.binary_search(&(c as u32)).is_ok()
}

/// Python's `str.isspace` (what `re`'s `\s` and `str.strip()` use), which adds the separators
/// U+001C..U+001F to Unicode `White_Space`.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn is_decimal_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    char_flags(c) & F_DIGIT != 0
}

const F_SYMBOL: u8 = 1;
const F_CURRENCY: u8 = 2;
const F_DIGIT: u8 = 4;
const F_MARK: u8 = 8;
const F_SPACE: u8 = 16;

/// The properties the normaliser and tokenizer ask of a character: general category `So`, `Sc`,
/// `Nd`, `Mn`, and "punctuation or whitespace" (mapped to a space).
fn compute_flags(c: char) -> u8 {
    let mut f = match c.general_category() {
        GeneralCategory::OtherSymbol => F_SYMBOL,
        GeneralCategory::CurrencySymbol => F_CURRENCY,
        GeneralCategory::DecimalNumber => F_DIGIT,
        GeneralCategory::NonspacingMark => F_MARK,
        _ => 0,
    };
    if is_punct(c) || is_py_space(c) {
        f |= F_SPACE;
    }
    f
}

/// [`compute_flags`] through a table of the Basic Multilingual Plane, built once (64 KiB): the
/// category lookup was a tenth of shingling time on multilingual text.
fn char_flags(c: char) -> u8 {
    static BMP: OnceLock<Vec<u8>> = OnceLock::new();
    let cp = c as u32;
    if cp < 0x10000 {
        BMP.get_or_init(|| {
            (0..0x10000u32)
                .map(|cp| char::from_u32(cp).map(compute_flags).unwrap_or(0))
                .collect()
        })[cp as usize]
    } else {
        compute_flags(c)
    }
}

fn is_decimal_sep(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | '\u{60C}' | '\u{66B}' | '\u{2396}' | '\u{2397}' | '\u{2398}'
    )
}

/// Replaces `\p{Nd}+([.,،٫⎖⎗⎘]\p{Nd}+)?` by `0`.
fn norm_numbers(text: &str, out: &mut String) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if is_decimal_digit(chars[i]) {
            while i < chars.len() && is_decimal_digit(chars[i]) {
                i += 1;
            }
            if i + 1 < chars.len() && is_decimal_sep(chars[i]) && is_decimal_digit(chars[i + 1]) {
                i += 1;
                while i < chars.len() && is_decimal_digit(chars[i]) {
                    i += 1;
                }
            }
            out.push('0');
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
}

/// Per ASCII byte: mapped to a space by punctuation removal or whitespace normalisation.
const fn ascii_space_table() -> [bool; 128] {
    let mut t = [false; 128];
    let mut i = 0;
    while i < PUNCTUATION.len() {
        if PUNCTUATION[i] < 128 {
            t[PUNCTUATION[i] as usize] = true;
        }
        i += 1;
    }
    let mut c = 9;
    while c <= 13 {
        t[c] = true;
        c += 1;
    }
    let mut c = 0x1c;
    while c <= 0x20 {
        t[c] = true;
        c += 1;
    }
    t
}
static ASCII_SPACE: [bool; 128] = ascii_space_table();

/// The end of the run of decimal digits starting at byte `i`.
fn skip_digits(s: &str, mut i: usize) -> usize {
    while let Some(c) = s[i..].chars().next() {
        if !is_decimal_digit(c) {
            break;
        }
        i += c.len_utf8();
    }
    i
}

/// Numbers, punctuation and whitespace in one pass over lower-cased text (ASCII bytes are lower-cased
/// here, so ASCII text needs no lower-casing pass): the same result as the separate passes of
/// [`simplify_text`] with `norm_numbers`, `remove_punctuation` and `norm_whitespace` on, before the
/// diacritics step.
fn simplify_one_pass(s: &str, out: &mut String) {
    let b = s.as_bytes();
    let mut pending = false;
    let mut i = 0;
    while i < b.len() {
        let (c, len) = if b[i] < 128 {
            (b[i].to_ascii_lowercase() as char, 1)
        } else {
            let c = s[i..].chars().next().expect("i is a char boundary");
            (c, c.len_utf8())
        };
        let emit = if is_decimal_digit(c) {
            // `\d+([.,،٫⎖⎗⎘]\d+)?` → `0`
            let mut j = skip_digits(s, i + len);
            if let Some(sep) = s[j..].chars().next() {
                if is_decimal_sep(sep) {
                    let k = j + sep.len_utf8();
                    if s[k..].chars().next().is_some_and(is_decimal_digit) {
                        j = skip_digits(s, k);
                    }
                }
            }
            i = j;
            Some('0')
        } else {
            i += len;
            let space = if c.is_ascii() {
                ASCII_SPACE[c as usize]
            } else {
                char_flags(c) & F_SPACE != 0
            };
            (!space).then_some(c)
        };
        match emit {
            Some(c) => {
                if pending && !out.is_empty() {
                    out.push(' ');
                }
                pending = false;
                out.push(c);
            }
            None => pending = true,
        }
    }
}

/// NFD minus non-spacing marks, decomposing only the runs of non-ASCII characters: ASCII characters
/// are their own decomposition and starters (combining class 0), so canonical reordering never
/// crosses them and the result equals decomposing the whole text.
fn strip_marks(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        let ascii = rest.bytes().position(|b| b >= 128).unwrap_or(rest.len());
        out.push_str(&rest[..ascii]);
        rest = &rest[ascii..];
        // a byte < 128 is always a char boundary in UTF-8
        let other = rest.bytes().position(|b| b < 128).unwrap_or(rest.len());
        out.extend(
            rest[..other]
                .nfd()
                .filter(|c| c.is_ascii() || char_flags(*c) & F_MARK == 0),
        );
        rest = &rest[other..];
    }
    out
}

/// Simplifies text the way datatrove's `simplify_text` does (see the module doc).
pub fn simplify_text(text: &str, cfg: &NormConfig) -> String {
    if cfg.lowercase && cfg.norm_numbers && cfg.remove_punctuation && cfg.norm_whitespace {
        // the default: one pass instead of four (same output, see `one_pass_equals_the_steps`)
        let mut out = String::with_capacity(text.len());
        if text.is_ascii() {
            simplify_one_pass(text, &mut out);
            return out;
        }
        simplify_one_pass(&text.to_lowercase(), &mut out);
        if cfg.norm_unicode_diacritics && !out.is_ascii() {
            out = strip_marks(&out);
            return out.trim_matches(is_py_space).to_string();
        }
        return out;
    }
    simplify_steps(text, cfg)
}

/// [`simplify_text`] step by step, as datatrove applies its options.
fn simplify_steps(text: &str, cfg: &NormConfig) -> String {
    let mut cur: String = if cfg.lowercase {
        text.to_lowercase()
    } else {
        text.to_string()
    };
    if cfg.norm_numbers {
        let mut out = String::with_capacity(cur.len());
        norm_numbers(&cur, &mut out);
        cur = out;
    }
    if cfg.remove_punctuation {
        cur = cur
            .chars()
            .map(|c| if is_punct(c) { ' ' } else { c })
            .collect();
    }
    if cfg.norm_whitespace {
        let mut out = String::with_capacity(cur.len());
        let mut pending_space = false;
        for c in cur.trim_matches(is_py_space).chars() {
            if is_py_space(c) {
                pending_space = true;
            } else {
                if pending_space {
                    out.push(' ');
                    pending_space = false;
                }
                out.push(c);
            }
        }
        cur = out;
    }
    if cfg.norm_unicode_diacritics && !cur.is_ascii() {
        cur = cur
            .nfd()
            .filter(|c| c.is_ascii() || c.general_category() != GeneralCategory::NonspacingMark)
            .collect();
    }
    cur.trim_matches(is_py_space).to_string()
}

/// A small multiply-rotate hasher for the special-case table, looked up once per word (SipHash was a
/// visible share of shingling time); the table is fixed, so flooding resistance is not needed.
#[derive(Default)]
struct WordHasher(u64);

impl std::hash::Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type SpecialCases =
    HashMap<&'static str, Vec<&'static str>, std::hash::BuildHasherDefault<WordHasher>>;

fn special_cases() -> &'static SpecialCases {
    static TABLE: OnceLock<SpecialCases> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../data/spacy_en_special_cases.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k, v.split(' ').collect()))
            .collect()
    })
}

/// Units spaCy splits off a number (`0km` → `0 km`); lower-case ones only, since the text is lower-cased.
const UNITS: &[&str] = &[
    "km", "km²", "km³", "m", "m²", "m³", "dm", "dm²", "dm³", "cm", "cm²", "cm³", "mm", "mm²",
    "mm³", "ha", "µm", "nm", "yd", "in", "ft", "kg", "g", "mg", "µg", "t", "lb", "oz", "kmh",
    "mph", "mbar", "mb", "kb", "gb", "tb", "км", "км²", "км³", "м", "м²", "м³", "дм", "дм²", "дм³",
    "см", "см²", "см³", "мм", "мм²", "мм³", "нм", "кг", "г", "мг", "мбар", "кб", "мб", "гб",
];

fn is_symbol(c: char) -> bool {
    !c.is_ascii() && char_flags(c) & F_SYMBOL != 0
}
/// spaCy's prefix/suffix punctuation that datatrove's punctuation set leaves in place.
fn is_affix_punct(c: char) -> bool {
    matches!(
        c,
        '¿' | '؟'
            | '¡'
            | '·'
            | '।'
            | '،'
            | '۔'
            | '؛'
            | '٪'
            | '‘'
            | '‚'
            | '『'
            | '』'
            | '〔'
            | '〕'
            | '⟦'
            | '⟧'
            | '§'
            | '\u{2329}'
            | '\u{232A}'
    )
}
fn is_currency(c: char) -> bool {
    !c.is_ascii() && char_flags(c) & F_CURRENCY != 0
}

/// Splits one whitespace-free chunk the way spaCy's English tokenizer would on simplified text.
fn split_chunk<'a>(chunk: &'a str, out: &mut Vec<&'a str>) {
    let table = special_cases();
    if let Some(parts) = table.get(chunk) {
        // The special-case pieces concatenate back to the chunk, so they are sub-slices of it.
        let mut at = 0;
        for p in parts {
            out.push(&chunk[at..at + p.len()]);
            at += p.len();
        }
        return;
    }
    let mut rest = chunk;
    // prefixes: symbols and currency signs
    while let Some(c) = rest.chars().next() {
        if (is_symbol(c) || is_currency(c) || is_affix_punct(c)) && rest.len() > c.len_utf8() {
            out.push(&rest[..c.len_utf8()]);
            rest = &rest[c.len_utf8()..];
            if let Some(parts) = table.get(rest) {
                let mut at = 0;
                for p in parts {
                    out.push(&rest[at..at + p.len()]);
                    at += p.len();
                }
                return;
            }
        } else {
            break;
        }
    }
    // suffixes, collected in reverse
    let mut suffixes: Vec<&str> = Vec::new();
    while let Some(c) = rest.chars().next_back() {
        let head = &rest[..rest.len() - c.len_utf8()];
        if head.is_empty() {
            break;
        }
        let after_digit = head.chars().next_back().is_some_and(|p| p.is_ascii_digit());
        if is_symbol(c) || is_affix_punct(c) || (is_currency(c) && after_digit) {
            suffixes.push(&rest[head.len()..]);
            rest = head;
            continue;
        }
        let digits_end = rest
            .find(|ch: char| !ch.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits_end > 0 && digits_end < rest.len() && UNITS.contains(&&rest[digits_end..]) {
            suffixes.push(&rest[digits_end..]);
            rest = &rest[..digits_end];
        }
        break;
    }
    // infix symbols
    let mut start = 0;
    for (i, c) in rest.char_indices() {
        if is_symbol(c) {
            if i > start {
                out.push(&rest[start..i]);
            }
            out.push(&rest[i..i + c.len_utf8()]);
            start = i + c.len_utf8();
        }
    }
    if start < rest.len() {
        let mid = &rest[start..];
        match table.get(mid) {
            Some(parts) if start > 0 => {
                let mut at = 0;
                for p in parts {
                    out.push(&mid[at..at + p.len()]);
                    at += p.len();
                }
            }
            _ => out.push(mid),
        }
    }
    out.extend(suffixes.into_iter().rev());
}

/// Splits simplified text into words.
pub fn tokenize<'a>(text: &'a str, tok: WordTokenizer, out: &mut Vec<&'a str>) {
    out.clear();
    for chunk in text.split(is_py_space).filter(|s| !s.is_empty()) {
        match tok {
            WordTokenizer::Whitespace => out.push(chunk),
            WordTokenizer::Datatrove => split_chunk(chunk, out),
        }
    }
}

/// Reusable buffers for shingling: the words of a document joined by single spaces, so that every word
/// n-gram is one contiguous slice (the exact bytes datatrove hashes: `" ".join(ngram)`).
#[derive(Debug, Default)]
pub struct Shingler {
    joined: String,
    starts: Vec<usize>,
    ends: Vec<usize>,
}

impl Shingler {
    /// Calls `f` with each word n-gram of `text` (after simplification and tokenization), as the UTF-8
    /// bytes of the words joined by spaces. Texts with fewer than `n` words have no shingles.
    pub fn for_each_shingle(
        &mut self,
        text: &str,
        norm: &NormConfig,
        tok: WordTokenizer,
        n: usize,
        mut f: impl FnMut(&[u8]),
    ) {
        let simple = simplify_text(text, norm);
        let mut words = Vec::new();
        tokenize(&simple, tok, &mut words);
        self.joined.clear();
        self.starts.clear();
        self.ends.clear();
        for w in &words {
            if !self.joined.is_empty() {
                self.joined.push(' ');
            }
            self.starts.push(self.joined.len());
            self.joined.push_str(w);
            self.ends.push(self.joined.len());
        }
        if words.len() < n || n == 0 {
            return;
        }
        let b = self.joined.as_bytes();
        for i in 0..=words.len() - n {
            f(&b[self.starts[i]..self.ends[i + n - 1]]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        let simple = simplify_text(s, &NormConfig::default());
        let mut out = Vec::new();
        tokenize(&simple, WordTokenizer::Datatrove, &mut out);
        out.into_iter().map(String::from).collect()
    }

    /// The one-pass default path equals the step-by-step path on tricky and real texts.
    #[test]
    fn one_pass_equals_the_steps() {
        let cfg = NormConfig::default();
        let mut texts: Vec<String> = [
            "",
            "  ",
            "a",
            "3.14 and 1,000,000 or 2. and .5 x1y 12a",
            "Hello,\tWORLD!!  \u{1c}end ",
            "ÉCOLE déjà vu ١٢٣٫٤ ³ 1٫2",
            "x \u{301}",
            "\u{301} x",
            "İstanbul ΣΑΣ ς",
            "don't — “quoted” …",
            "a\u{a0}b\u{2003}c\u{85}d",
            "0km 5 km 9%",
            "tab\tnew\nline\r\n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let data = std::env::var_os("QUARRY_TEST_DATA")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data")
            });
        let p = data.join(
            "text/dolma_cc-licensed-docs.CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz",
        );
        if let Ok(f) = std::fs::File::open(&p) {
            use std::io::BufRead;
            for l in std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f)).lines() {
                let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
                texts.push(v["text"].as_str().unwrap().to_string());
            }
            assert!(texts.len() > 600);
        }
        for t in &texts {
            assert_eq!(simplify_text(t, &cfg), simplify_steps(t, &cfg), "{t:?}");
        }
    }

    #[test]
    fn simplify_matches_documented_steps() {
        let c = NormConfig::default();
        assert_eq!(
            simplify_text("  Hello,   WORLD!\n\tNaïve café ", &c),
            "hello world naive cafe"
        );
        assert_eq!(
            simplify_text("Pi is 3.14159, e is 2,71 and 1|2|3", &c),
            "pi is 0 e is 0 and 0 0 0"
        );
        assert_eq!(simplify_text("«quoted» — dash… ok", &c), "quoted dash ok");
        assert_eq!(simplify_text("", &c), "");
        assert_eq!(simplify_text("!!!", &c), "");
    }

    #[test]
    fn tokenizer_applies_spacy_cases() {
        assert_eq!(
            words("I cannot go, I'm gonna stay"),
            ["i", "can", "not", "go", "i", "m", "gon", "na", "stay"]
        );
        assert_eq!(
            words("5km and £3 and 4kg™"),
            ["0", "km", "and", "£", "0", "and", "0", "kg", "™"]
        );
        assert_eq!(words("x😀y"), ["x", "😀", "y"]);
        assert_eq!(words("¡Hola! ¿qué?"), ["¡", "hola", "¿", "que"]);
    }

    #[test]
    fn shingles_are_joined_ngrams() {
        let mut s = Shingler::default();
        let mut got = Vec::new();
        s.for_each_shingle(
            "A b, C d!",
            &NormConfig::default(),
            WordTokenizer::Datatrove,
            3,
            |b| got.push(String::from_utf8(b.to_vec()).unwrap()),
        );
        assert_eq!(got, ["a b c", "b c d"]);
        got.clear();
        s.for_each_shingle(
            "too short",
            &NormConfig::default(),
            WordTokenizer::Datatrove,
            3,
            |b| got.push(String::from_utf8(b.to_vec()).unwrap()),
        );
        assert!(got.is_empty());
    }

    /// datatrove's own outputs (scripts/dedup/datatrove_golden.py) on tricky strings.
    #[test]
    fn matches_datatrove_golden_normalisation_and_tokens() {
        let golden = include_str!("../data/datatrove_golden.jsonl");
        let mut n = 0;
        for line in golden.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let Some(text) = v["text"].as_str() else {
                continue;
            };
            let simple = simplify_text(text, &NormConfig::default());
            assert_eq!(
                simple,
                v["simplified"].as_str().unwrap(),
                "simplify {text:?}"
            );
            let mut toks = Vec::new();
            tokenize(&simple, WordTokenizer::Datatrove, &mut toks);
            let want: Vec<&str> = v["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert_eq!(toks, want, "tokens of {text:?}");
            n += 1;
        }
        assert_eq!(n, 10);
    }
}
