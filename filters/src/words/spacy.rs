//! A re-implementation of spaCy's rule-based tokenizer (the one `spacy.blank("en")` builds), which
//! datatrove 0.10 uses to split words for its Gopher, FineWeb and C4 filters.
//!
//! The algorithm follows spaCy's `Tokenizer`: split on whitespace (one plain space after a word is
//! swallowed, any other whitespace becomes a token of its own), then per span: a special case
//! (`don't` -> `do` `n't`) wins; otherwise prefixes and suffixes are peeled off alternately, checking
//! for special cases after each step; what remains is kept whole if it looks like a URL, else split
//! at infixes (hyphens between letters, `a,b`, `x/y`...). The affix rules are spaCy's default
//! prefix/suffix/infix patterns expressed as code over the same character classes (exported by
//! `scripts/filters/gen_word_tables.py`); regex alternation order, Python `re.search`'s leftmost match
//! for suffixes, and the lookbehinds that only see the current substring are reproduced, because they
//! decide where tokens end.
//!
//! Last, spaCy 3's "special-case matcher" pass: special cases whose key itself contains an affix
//! (`):`, `a.`, `Co.`, `'em`, `''`) are looked for as token sequences after affix splitting and
//! re-merged (`(see below):` ends in `):`, not `)` `:`). Longest matches win, as in spaCy's filter.

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use xxhash_rust::xxh3::Xxh3Builder;

use super::chars::{py_isspace, spacy_alpha, spacy_icon, spacy_lower, spacy_upper};
use super::tables;

/// Which special-case table a tokenizer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceptions {
    /// spaCy's English special cases (contractions, abbreviations, emoticons).
    English,
    /// spaCy's language-neutral (`xx`) special cases only (emoticons, a few abbreviations).
    Base,
}

type SpecialMap = HashMap<&'static str, Vec<&'static str>, Xxh3Builder>;

fn parse_specials(tsv: &'static str) -> SpecialMap {
    let mut map = HashMap::with_hasher(Xxh3Builder::new());
    for line in tsv.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if let Some((key, pieces)) = line.split_once('\t') {
            map.insert(key, pieces.split('\u{1f}').collect());
        }
    }
    map
}

/// Longer than any special-case key of spaCy's tables (the longest, a table-flip emoticon, is under 40 bytes).
const MAX_SPECIAL_LEN: usize = 64;

fn specials(which: Exceptions) -> &'static SpecialMap {
    static EN: OnceLock<SpecialMap> = OnceLock::new();
    static XX: OnceLock<SpecialMap> = OnceLock::new();
    match which {
        Exceptions::English => {
            EN.get_or_init(|| parse_specials(include_str!("spacy_en_exceptions.tsv")))
        }
        Exceptions::Base => {
            XX.get_or_init(|| parse_specials(include_str!("spacy_xx_exceptions.tsv")))
        }
    }
}

/// The punctuation list shared by spaCy's prefixes and suffixes (`LIST_PUNCT`, single characters).
fn is_list_punct(c: char) -> bool {
    matches!(
        c,
        '…' | ','
            | ':'
            | ';'
            | '!'
            | '?'
            | '¿'
            | '؟'
            | '¡'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '<'
            | '>'
            | '_'
            | '#'
            | '*'
            | '&'
            | '。'
            | '？'
            | '！'
            | '，'
            | '、'
            | '；'
            | '：'
            | '～'
            | '·'
            | '।'
            | '،'
            | '۔'
            | '؛'
            | '٪'
    )
}

/// spaCy's `LIST_QUOTES`.
fn is_quote(c: char) -> bool {
    matches!(
        c,
        '\'' | '"'
            | '”'
            | '“'
            | '`'
            | '‘'
            | '´'
            | '’'
            | '‚'
            | ','
            | '„'
            | '»'
            | '«'
            | '「'
            | '」'
            | '『'
            | '』'
            | '（'
            | '）'
            | '〔'
            | '〕'
            | '【'
            | '】'
            | '《'
            | '》'
            | '〈'
            | '〉'
            | '⟦'
            | '⟧'
    ) || c == '\u{2329}'
        || c == '\u{232A}'
}

/// Single-character currency symbols of spaCy's `LIST_CURRENCY` (the multi-character ones, `US$`,
/// `C$`, `A$`, are handled by the callers).
fn is_currency_char(c: char) -> bool {
    matches!(c, '$' | '£' | '€' | '¥' | '฿' | '﷼') || ('\u{20A0}'..='\u{20BF}').contains(&c)
}

const MULTI_CURRENCY: [&str; 3] = ["US$", "C$", "A$"];

/// spaCy's `UNITS` alternatives, split as spaCy splits them (space-separated, so two neighbours glued
/// by a missing space in spaCy's source stay glued here too).
fn units() -> &'static [&'static str] {
    static U: OnceLock<Vec<&'static str>> = OnceLock::new();
    U.get_or_init(|| {
        concat!(
            "km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft ",
            "kg g mg µg t lb oz m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb ",
            "TB T G M K % км км² км³ м м² м³ дм дм² дм³ см см² см³ мм мм² мм³ нм ",
            "кг г мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ тб",
            "كم كم² كم³ م م² م³ سم سم² سم³ مم مم² مم³ كم غرام جرام جم كغ ملغ كوب اكواب"
        )
        .split(' ')
        .collect()
    })
}

/// The character class spaCy's "period after a lower-case letter, digit or punctuation" suffix looks
/// behind at: `[0-9{ALPHA_LOWER}%²\-\+{PUNCT}(?:{QUOTES})]`, where PUNCT and the quote group are
/// pasted into the class with their `|`, `(`, `?`, `:` and `)` characters.
fn period_suffix_lookbehind(c: char) -> bool {
    c.is_ascii_digit()
        || spacy_lower(c)
        || matches!(c, '%' | '²' | '-' | '+' | '|' | '(' | '?' | ':' | ')')
        || is_list_punct(c)
        || is_quote(c)
}

/// Byte length of the prefix spaCy's prefix regex finds at the start of `s` (0 = none).
fn find_prefix(s: &str) -> usize {
    let mut it = s.chars();
    let Some(c) = it.next() else { return 0 };
    match c {
        '§' | '%' | '=' | '—' | '–' => return c.len_utf8(),
        '+' => {
            return match it.next() {
                Some(d) if d.is_ascii_digit() => 0,
                _ => 1,
            }
        }
        '.' => {
            let dots = s.bytes().take_while(|&b| b == b'.').count();
            return if dots >= 2 { dots } else { 0 };
        }
        _ => {}
    }
    if is_list_punct(c) || is_quote(c) || is_currency_char(c) {
        return c.len_utf8();
    }
    for m in MULTI_CURRENCY {
        if s.starts_with(m) {
            return m.len();
        }
    }
    if spacy_icon(c) {
        return c.len_utf8();
    }
    0
}

/// Whether `tail` (which starts at byte `i` of `s`) is, entirely, one of spaCy's suffix alternatives.
fn suffix_matches(s: &str, i: usize, tail: &str) -> bool {
    let mut tc = tail.chars();
    let first = match tc.next() {
        Some(c) => c,
        None => return false,
    };
    let single = tc.next().is_none();
    let prev = s[..i].chars().next_back();
    let prev_digit = prev.is_some_and(|p| p.is_ascii_digit());
    if single {
        if is_list_punct(first)
            || is_quote(first)
            || spacy_icon(first)
            || first == '—'
            || first == '–'
        {
            return true;
        }
        if first == '+' && prev_digit {
            return true;
        }
        if first == '.' {
            if let Some(p) = prev {
                if period_suffix_lookbehind(p) {
                    return true;
                }
                let mut back = s[..i].chars().rev();
                let p1 = back.next();
                let p2 = back.next();
                if let (Some(p1), Some(p2)) = (p1, p2) {
                    if spacy_upper(p1) && spacy_upper(p2) {
                        return true;
                    }
                    if p2 == '°' && matches!(p1, 'F' | 'f' | 'C' | 'c' | 'K' | 'k') {
                        return true;
                    }
                }
            }
            return false;
        }
    }
    if tail == "……" || matches!(tail, "'s" | "'S" | "’s" | "’S") {
        return true;
    }
    if tail.len() >= 2 && tail.bytes().all(|b| b == b'.') {
        return true;
    }
    if prev_digit {
        if (single && is_currency_char(first)) || MULTI_CURRENCY.contains(&tail) {
            return true;
        }
        if units().contains(&tail) {
            return true;
        }
    }
    false
}

/// Byte length of the suffix spaCy's suffix regex finds (Python `re.search`: the leftmost start whose
/// remainder is entirely one alternative), 0 if none.
fn find_suffix(s: &str) -> usize {
    if s.is_empty() {
        return 0;
    }
    // Candidates: a trailing run of dots (any length) and the last few characters (every other
    // alternative is at most 7 characters long).
    let dot_run = s.bytes().rev().take_while(|&b| b == b'.').count();
    if dot_run >= 2 {
        let i = s.len() - dot_run;
        // Leftmost wins: only a start before the dot run can beat it.
        let earlier = s[..i]
            .char_indices()
            .rev()
            .take(8)
            .map(|(j, _)| j)
            .collect::<Vec<_>>();
        for &j in earlier.iter().rev() {
            if suffix_matches(s, j, &s[j..]) {
                return s.len() - j;
            }
        }
        return dot_run;
    }
    let mut starts = [0usize; 8];
    let mut k = 0;
    for (i, _) in s.char_indices().rev().take(8) {
        starts[k] = i;
        k += 1;
    }
    for &i in starts[..k].iter().rev() {
        if suffix_matches(s, i, &s[i..]) {
            return s.len() - i;
        }
    }
    0
}

/// The infix matches in `s` (Python `re.finditer` over spaCy's infix alternation), as byte ranges.
fn find_infixes(s: &str) -> Vec<(usize, usize)> {
    if s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Vec::new();
    }
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut k = 0;
    let end_of = |k: usize| chars.get(k).map_or(s.len(), |&(i, _)| i);
    while k < chars.len() {
        let (i, c) = chars[k];
        let prev = if k > 0 { Some(chars[k - 1].1) } else { None };
        let next = chars.get(k + 1).map(|&(_, c)| c);
        let mut matched: Option<usize> = None; // number of chars
        if c == '.' && next == Some('.') {
            let n = chars[k..].iter().take_while(|&&(_, c)| c == '.').count();
            matched = Some(n);
        } else if c == '…'
            || spacy_icon(c)
            || (matches!(c, '+' | '-' | '*' | '^')
                && prev.is_some_and(|p| p.is_ascii_digit())
                && next.is_some_and(|n| n.is_ascii_digit() || n == '-'))
            || (c == '.'
                && prev.is_some_and(|p| spacy_lower(p) || is_quote(p))
                && next.is_some_and(|n| spacy_upper(n) || is_quote(n)))
            || (c == ',' && prev.is_some_and(spacy_alpha) && next.is_some_and(spacy_alpha))
        {
            matched = Some(1);
        } else if prev.is_some_and(|p| spacy_alpha(p) || p.is_ascii_digit()) {
            // Hyphen alternatives in spaCy's order; the first whose lookahead holds wins.
            let rest = &s[i..];
            for h in ["-", "–", "—", "--", "---", "——", "~"] {
                if rest.starts_with(h) {
                    let n = h.chars().count();
                    if chars.get(k + n).is_some_and(|&(_, a)| spacy_alpha(a)) {
                        matched = Some(n);
                        break;
                    }
                }
            }
            if matched.is_none()
                && matches!(c, ':' | '<' | '>' | '=' | '/')
                && next.is_some_and(spacy_alpha)
            {
                matched = Some(1);
            }
        }
        match matched {
            Some(n) => {
                out.push((i, end_of(k + n)));
                k += n;
            }
            None => k += 1,
        }
    }
    out
}

fn url_regex() -> &'static Regex {
    static RX: OnceLock<Regex> = OnceLock::new();
    RX.get_or_init(|| {
        let mut lower = String::new();
        for &(a, b) in tables::SPACY_ALPHA_LOWER {
            lower.push_str(&format!("\\x{{{a:X}}}-\\x{{{b:X}}}"));
        }
        let host = r"[A-Za-z0-9\x{a1}-\x{ffff}]";
        let host_ = r"[A-Za-z0-9\x{a1}-\x{ffff}_-]";
        let ip = r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))";
        let pat = format!(
            r"^(?:[\w\+\-\.]{{2,}}://)?(?:\S+(?::\S*)?@)?(?P<host>(?P<ip>{ip})|(?:(?:{host}{host_}{{0,62}})?{host}\.)+(?:[{lower}]{{2,63}}))(?::\d{{2,5}})?(?:[/?#]\S*)?$"
        );
        Regex::new(&pat).expect("spaCy URL pattern compiles")
    })
}

/// spaCy's `URL_MATCH`: the IP branch excludes private and loopback networks.
fn url_match(s: &str) -> bool {
    // Both branches need a dot (host names end in `.tld`, IPs are dotted): skip the regex otherwise.
    if !s.contains('.') {
        return false;
    }
    let Some(caps) = url_regex().captures(s) else {
        return false;
    };
    if let Some(ip) = caps.name("ip") {
        let ip = ip.as_str();
        let oct: Vec<u32> = ip.split('.').filter_map(|o| o.parse().ok()).collect();
        if oct.len() == 4 {
            let private = oct[0] == 10
                || oct[0] == 127
                || (oct[0] == 169 && oct[1] == 254)
                || (oct[0] == 192 && oct[1] == 168)
                || (oct[0] == 172 && (16..=31).contains(&oct[1]));
            if private {
                return false;
            }
        }
    }
    true
}

/// One token of spaCy's output: a word/punctuation token or a whitespace token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The token text, a slice of the input.
    pub text: &'a str,
    /// Whether this is a whitespace token (spaCy keeps runs of whitespace other than one plain space).
    pub space: bool,
}

/// spaCy's rule-based tokenizer with one special-case table.
#[derive(Debug, Clone, Copy)]
pub struct SpacyTokenizer {
    exceptions: Exceptions,
}

impl SpacyTokenizer {
    /// A tokenizer with the given special-case table.
    pub fn new(exceptions: Exceptions) -> Self {
        SpacyTokenizer { exceptions }
    }

    /// Tokenizes `text`, whitespace tokens included, calling `emit` for each token in order.
    pub fn tokenize<'a>(&self, text: &'a str, emit: &mut dyn FnMut(Token<'a>)) {
        let sp = specials(self.exceptions);
        let mut toks: Vec<Token<'a>> = Vec::new();
        let mut chars = text.char_indices();
        let Some((_, first)) = chars.next() else {
            return;
        };
        let mut in_ws = py_isspace(first);
        let mut start = 0usize;
        for (i, c) in text.char_indices() {
            if py_isspace(c) != in_ws {
                if start < i {
                    span_tokens(Some(sp), &text[start..i], in_ws, &mut toks);
                }
                start = if c == ' ' { i + 1 } else { i };
                in_ws = !in_ws;
            }
        }
        if start < text.len() {
            span_tokens(Some(sp), &text[start..], in_ws, &mut toks);
        }
        apply_special_matcher(self.exceptions, sp, text, &mut toks);
        for t in toks {
            emit(t);
        }
    }
}

/// Tokenizes one whitespace-delimited span (or emits a whitespace token). `sp = None` is spaCy's
/// `_tokenize_affixes(string, with_special_cases=False)`, used to build the matcher's patterns.
fn span_tokens<'a>(sp: Option<&SpecialMap>, s: &'a str, ws: bool, out: &mut Vec<Token<'a>>) {
    if ws {
        out.push(Token {
            text: s,
            space: true,
        });
        return;
    }
    if try_special(sp, s, out) {
        return;
    }
    // A plain ASCII word has no prefix, suffix or infix and is not a URL (every affix rule needs a
    // non-letter), so it is one token; this is most words, and skips the affix machinery.
    if s.bytes().all(|b| b.is_ascii_alphabetic()) {
        out.push(Token {
            text: s,
            space: false,
        });
        return;
    }
    let mut prefixes: Vec<&'a str> = Vec::new();
    let mut suffixes: Vec<&'a str> = Vec::new();
    let core = split_affixes(sp, s, &mut prefixes, &mut suffixes);
    for p in prefixes {
        out.push(Token {
            text: p,
            space: false,
        });
    }
    if !core.is_empty() && !try_special(sp, core, out) {
        if url_match(core) {
            out.push(Token {
                text: core,
                space: false,
            });
        } else {
            let infixes = find_infixes(core);
            let mut start = 0;
            for (a, b) in infixes {
                if a == 0 {
                    continue; // spaCy ignores an infix at the very start of the substring
                }
                if a != start {
                    out.push(Token {
                        text: &core[start..a],
                        space: false,
                    });
                }
                if a != b {
                    out.push(Token {
                        text: &core[a..b],
                        space: false,
                    });
                }
                start = b;
            }
            if start < core.len() {
                out.push(Token {
                    text: &core[start..],
                    space: false,
                });
            }
        }
    }
    for sfx in suffixes.into_iter().rev() {
        out.push(Token {
            text: sfx,
            space: false,
        });
    }
}

fn try_special<'a>(sp: Option<&SpecialMap>, s: &'a str, out: &mut Vec<Token<'a>>) -> bool {
    if s.len() > MAX_SPECIAL_LEN {
        return false;
    }
    let Some(pieces) = sp.and_then(|m| m.get(s)) else {
        return false;
    };
    let mut at = 0;
    for p in pieces {
        out.push(Token {
            text: &s[at..at + p.len()],
            space: false,
        });
        at += p.len();
    }
    true
}

/// The matcher patterns: for each special case whose key has a prefix, suffix or infix (spaCy's
/// `faster_heuristics` condition), the key's affix-only tokenization, indexed by first token.
type Patterns = HashMap<&'static str, Vec<(Vec<&'static str>, &'static str)>, Xxh3Builder>;

fn patterns(which: Exceptions, sp: &'static SpecialMap) -> &'static Patterns {
    static EN: OnceLock<Patterns> = OnceLock::new();
    static XX: OnceLock<Patterns> = OnceLock::new();
    let build = || {
        let mut map: Patterns = HashMap::with_hasher(Xxh3Builder::new());
        for &key in sp.keys() {
            if key.chars().any(py_isspace) {
                continue;
            }
            if find_prefix(key) == 0 && find_suffix(key) == 0 && find_infixes(key).is_empty() {
                continue;
            }
            let mut toks = Vec::new();
            span_tokens(None, key, false, &mut toks);
            let pat: Vec<&'static str> = toks.iter().map(|t| t.text).collect();
            map.entry(pat[0]).or_default().push((pat, key));
        }
        map
    };
    match which {
        Exceptions::English => EN.get_or_init(build),
        Exceptions::Base => XX.get_or_init(build),
    }
}

fn apply_special_matcher<'a>(
    which: Exceptions,
    sp: &'static SpecialMap,
    text: &'a str,
    toks: &mut Vec<Token<'a>>,
) {
    let pats = patterns(which, sp);
    let mut matches: Vec<(usize, usize)> = Vec::new();
    for i in 0..toks.len() {
        if let Some(cands) = pats.get(toks[i].text) {
            for (pat, _) in cands {
                let j = i + pat.len();
                if j <= toks.len() && toks[i..j].iter().zip(pat).all(|(t, p)| t.text == *p) {
                    matches.push((i, j));
                }
            }
        }
    }
    if matches.is_empty() {
        return;
    }
    // spaCy's _filter_special_spans: longest first (earlier first among equals); a span is taken
    // when neither its first nor its last token was covered by a span considered before it.
    matches.sort_by(|a, b| (b.1 - b.0).cmp(&(a.1 - a.0)).then(a.0.cmp(&b.0)));
    matches.dedup();
    let mut seen = vec![false; toks.len()];
    let mut taken: Vec<(usize, usize)> = Vec::new();
    for (a, b) in matches {
        if !seen[a] && !seen[b - 1] {
            taken.push((a, b));
        }
        for s in &mut seen[a..b] {
            *s = true;
        }
    }
    taken.sort_unstable();
    let base = text.as_ptr() as usize;
    let mut out: Vec<Token<'a>> = Vec::with_capacity(toks.len());
    let mut i = 0;
    let mut next = taken.into_iter().peekable();
    while i < toks.len() {
        match next.peek() {
            Some(&(a, b)) if a == i => {
                next.next();
                let start = toks[a].text.as_ptr() as usize - base;
                let last = toks[b - 1].text;
                let end = last.as_ptr() as usize - base + last.len();
                let span = &text[start..end];
                if let Some(pieces) = sp.get(span) {
                    let mut at = 0;
                    for p in pieces {
                        out.push(Token {
                            text: &span[at..at + p.len()],
                            space: false,
                        });
                        at += p.len();
                    }
                } else {
                    out.extend_from_slice(&toks[a..b]);
                }
                i = b;
            }
            _ => {
                out.push(toks[i]);
                i += 1;
            }
        }
    }
    *toks = out;
}

fn split_affixes<'a>(
    sp: Option<&SpecialMap>,
    mut s: &'a str,
    prefixes: &mut Vec<&'a str>,
    suffixes: &mut Vec<&'a str>,
) -> &'a str {
    // The length check keeps pathological spans (100k opening brackets) linear instead of hashing
    // the whole remainder after every peeled character.
    let is_special = |x: &str| x.len() <= MAX_SPECIAL_LEN && sp.is_some_and(|m| m.contains_key(x));
    let mut last_len = usize::MAX;
    while !s.is_empty() && s.len() != last_len {
        if is_special(s) {
            break;
        }
        last_len = s.len();
        let pre = find_prefix(s);
        if pre != 0 {
            let minus_pre = &s[pre..];
            if !minus_pre.is_empty() && is_special(minus_pre) {
                prefixes.push(&s[..pre]);
                s = minus_pre;
                break;
            }
        }
        let suf = find_suffix(&s[pre..]);
        if suf != 0 {
            let minus_suf = &s[..s.len() - suf];
            if !minus_suf.is_empty() && is_special(minus_suf) {
                suffixes.push(&s[s.len() - suf..]);
                s = minus_suf;
                break;
            }
        }
        if pre != 0 && suf != 0 && pre + suf <= s.len() {
            prefixes.push(&s[..pre]);
            suffixes.push(&s[s.len() - suf..]);
            s = &s[pre..s.len() - suf];
        } else if pre != 0 {
            prefixes.push(&s[..pre]);
            s = &s[pre..];
        } else if suf != 0 {
            suffixes.push(&s[s.len() - suf..]);
            s = &s[..s.len() - suf];
        }
        if !s.is_empty() && is_special(s) {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<String> {
        let mut v = Vec::new();
        SpacyTokenizer::new(Exceptions::English)
            .tokenize(text, &mut |t| v.push(t.text.to_string()));
        v
    }

    #[test]
    fn matches_spacy_on_a_mixed_sentence() {
        // Expected output produced by spaCy 3.8 `spacy.blank("en")`.
        let text = "Hello world, don't U.S. e.g. http://foo.com/a-b x--y 5km $5 (test). \"quoted\" ...end   new\nline";
        let expected = [
            "Hello",
            "world",
            ",",
            "do",
            "n't",
            "U.S.",
            "e.g.",
            "http://foo.com/a-b",
            "x",
            "--",
            "y",
            "5",
            "km",
            "$",
            "5",
            "(",
            "test",
            ")",
            ".",
            "\"",
            "quoted",
            "\"",
            "...",
            "end",
            "  ",
            "new",
            "\n",
            "line",
        ];
        assert_eq!(toks(text), expected);
    }

    #[test]
    fn affixes_follow_regex_order_and_lookbehinds() {
        assert_eq!(toks("well-known"), ["well", "-", "known"]);
        assert_eq!(toks("3-4"), ["3", "-", "4"]);
        assert_eq!(toks("end."), ["end", "."]);
        assert_eq!(toks("ABC."), ["ABC", "."]);
        assert_eq!(toks("Ab."), ["Ab", "."]);
        assert_eq!(toks("U.K."), ["U.K."]);
        assert_eq!(toks("wait..."), ["wait", "..."]);
        assert_eq!(toks("a,b"), ["a", ",", "b"]);
        assert_eq!(toks("John's"), ["John", "'s"]);
        assert_eq!(toks("10.0.0.1"), ["10.0.0.1"]);
        assert_eq!(toks("😀abc"), ["😀", "abc"]);
        assert_eq!(
            toks("(see below): (a.) Co. 'em :P"),
            ["(", "see", "below", "):", "(", "a.", ")", "Co.", "'em", ":P"]
        );
    }

    #[test]
    fn pathological_spans_stay_fast_and_lossless() {
        for text in [
            "(".repeat(200_000),
            ".".repeat(200_000),
            "a-".repeat(100_000),
            "😀".repeat(50_000),
        ] {
            let t = std::time::Instant::now();
            let n: usize = toks(&text).iter().map(|t| t.len()).sum();
            assert_eq!(n, text.len(), "tokens must cover the span");
            assert!(
                t.elapsed().as_secs() < 5,
                "tokenizing took {:?}",
                t.elapsed()
            );
        }
    }

    #[test]
    fn url_match_rejects_private_ips_and_accepts_domains() {
        assert!(url_match("www.example.com/path?q=1"));
        assert!(url_match("8.8.8.8"));
        assert!(!url_match("192.168.1.1"));
        assert!(!url_match("hello"));
    }
}
