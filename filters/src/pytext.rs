//! Python `str` operations that datatrove's filters are defined in terms of.
//!
//! Ratios in datatrove divide by `len(text)`, which counts code points, and split lines with
//! `str.splitlines()`, which breaks on ten characters besides `\n`. Using Rust's byte lengths or
//! `str::lines` would move documents across thresholds, so the filters use these instead.

use std::collections::HashSet;

use crate::words::chars::py_isspace;

/// `len(s)`: the number of code points.
pub fn py_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// `s.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// `s.lstrip()`.
pub fn py_lstrip(s: &str) -> &str {
    s.trim_start_matches(py_isspace)
}

/// `s.rstrip()`.
pub fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(py_isspace)
}

/// `s.split()` (no argument): runs of whitespace separate, empty pieces are dropped.
pub fn py_split_ws(s: &str) -> impl Iterator<Item = &str> {
    s.split(py_isspace).filter(|w| !w.is_empty())
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\x0b'
            | '\x0c'
            | '\x1c'
            | '\x1d'
            | '\x1e'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// `s.splitlines()`: breaks on `\n`, `\r`, `\r\n`, `\v`, `\f`, `\x1c`-`\x1e`, `\x85`, `\u2028`,
/// `\u2029`; a final line break does not produce an empty last line.
pub fn py_splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if is_line_break(c) {
            out.push(&s[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r' {
                if let Some(&(_, '\n')) = it.peek() {
                    it.next();
                    end += 1;
                }
            }
            start = end;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// `re.split(r"\n+", s)`: keeps empty first/last pieces when `s` starts/ends with newlines.
pub fn split_newline_runs(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' {
            out.push(&s[start..i]);
            while i < b.len() && b[i] == b'\n' {
                i += 1;
            }
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// `re.split(r"\n{2,}", s)`.
pub fn split_paragraphs(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' {
            let mut j = i;
            while j < b.len() && b[j] == b'\n' {
                j += 1;
            }
            if j - i >= 2 {
                out.push(&s[start..i]);
                start = j;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out.push(&s[start..]);
    out
}

/// datatrove's `find_duplicates`: (number of elements seen before, their total length in code
/// points).
pub fn find_duplicates<'a>(items: impl IntoIterator<Item = &'a str>) -> (usize, usize) {
    let mut seen: HashSet<&str> = HashSet::new();
    let (mut n, mut chars) = (0, 0);
    for x in items {
        if !seen.insert(x) {
            n += 1;
            chars += py_len(x);
        }
    }
    (n, chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitlines_matches_python() {
        assert_eq!(
            py_splitlines("a\nb\r\nc\rd\u{2028}e\x0cf\n"),
            ["a", "b", "c", "d", "e", "f"]
        );
        assert_eq!(py_splitlines("a\n\nb"), ["a", "", "b"]);
        assert!(py_splitlines("").is_empty());
    }

    #[test]
    fn regex_splits_match_python() {
        assert_eq!(split_newline_runs("\na\n\n\nb\n"), ["", "a", "b", ""]);
        assert_eq!(split_paragraphs("a\nb\n\nc\n\n\nd"), ["a\nb", "c", "d"]);
        assert_eq!(split_paragraphs(""), [""]);
    }

    #[test]
    fn duplicates_count_code_points() {
        assert_eq!(find_duplicates(["é", "x", "é", "é"]), (2, 2));
        assert_eq!(py_len("日本"), 2);
        assert_eq!(py_strip("\u{3000} a \x1f"), "a");
        assert_eq!(
            py_split_ws(" a  b\u{a0}c ").collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }
}
