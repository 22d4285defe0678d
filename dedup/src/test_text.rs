//! Test documents shared by the unit tests of `local` and `staged`.

/// A base-26 letter name for `n` (`a`, `b`, …, `ba`, …).
fn letters(mut n: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return s;
        }
    }
}

/// 60 words that are distinct per `i` and letter-only (digits would all normalise to `0`), so
/// unrelated documents share no 5-gram.
pub(crate) fn text(i: usize) -> String {
    (0..60)
        .map(|k| format!("{}q{}", letters(i), letters(k)))
        .collect::<Vec<_>>()
        .join(" ")
}
