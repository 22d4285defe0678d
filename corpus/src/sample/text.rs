//! Seeded sentence, paragraph and title generation from a language's [`Lexicon`].

use super::lang::{Lang, Lexicon};
use super::rng::Rng;

/// Which template family a sentence is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Register {
    /// Neutral reporting prose (articles, descriptions).
    Report,
    /// First-person conversational prose (forum posts, comments, reviews).
    Chat,
}

/// Expands one template into `out`. `product` fills `{X}` (falls back to a random product).
pub(crate) fn fill(
    rng: &mut Rng,
    lex: &Lexicon,
    template: &str,
    product: Option<&str>,
    out: &mut String,
) {
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let slot = rest.as_bytes().get(i + 1).copied().unwrap_or(b'?');
        match slot {
            b'S' => out.push_str(rng.word(lex.subjects)),
            b'V' => out.push_str(rng.word(lex.verbs)),
            b'O' => out.push_str(rng.word(lex.objects)),
            b'A' => out.push_str(rng.word(lex.adjectives)),
            b'P' => out.push_str(rng.word(lex.places)),
            b'T' => out.push_str(rng.word(lex.times)),
            b'C' => out.push_str(rng.word(lex.connectors)),
            b'X' => out.push_str(product.unwrap_or_else(|| rng.word(lex.products))),
            b'N' => {
                let n = 2 + rng.below(58);
                out.push_str(itoa(n as u64, &mut [0u8; 20]));
            }
            _ => out.push_str(&rest[i..(i + 3).min(rest.len())]),
        }
        rest = &rest[(i + 3).min(rest.len())..];
    }
    out.push_str(rest);
}

/// Formats an integer without allocating (sentence generation is on the hot path).
fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// Upper-cases the first character of `s` from byte `start` on (sentence case for cased scripts).
fn capitalise_from(s: &mut String, start: usize) {
    let Some(c) = s[start..].chars().next() else {
        return;
    };
    if c.is_lowercase() {
        let upper: String = c.to_uppercase().collect();
        s.replace_range(start..start + c.len_utf8(), &upper);
    }
}

/// Appends one sentence to `out`.
pub(crate) fn sentence_into(
    rng: &mut Rng,
    lang: Lang,
    register: Register,
    product: Option<&str>,
    out: &mut String,
) {
    let lex = lang.lexicon();
    let templates = match register {
        Register::Report => lex.templates,
        Register::Chat => lex.chat_templates,
    };
    let start = out.len();
    let t = rng.word(templates);
    fill(rng, lex, t, product, out);
    if lang.spaced() {
        capitalise_from(out, start);
    }
}

/// One sentence as a new string.
pub(crate) fn sentence(rng: &mut Rng, lang: Lang, register: Register) -> String {
    let mut s = String::with_capacity(128);
    sentence_into(rng, lang, register, None, &mut s);
    s
}

/// A paragraph of `lo..=hi` sentences.
pub(crate) fn paragraph(
    rng: &mut Rng,
    lang: Lang,
    register: Register,
    lo: usize,
    hi: usize,
) -> String {
    let n = rng.range(lo, hi);
    let mut p = String::with_capacity(n * 110);
    for k in 0..n {
        if k > 0 && lang.spaced() {
            p.push(' ');
        }
        sentence_into(rng, lang, register, None, &mut p);
    }
    p
}

/// A paragraph about one product (`{X}` templates mixed with neutral sentences).
pub(crate) fn product_paragraph(
    rng: &mut Rng,
    lang: Lang,
    product: &str,
    lo: usize,
    hi: usize,
) -> String {
    let lex = lang.lexicon();
    let n = rng.range(lo, hi);
    let mut p = String::with_capacity(n * 110);
    for k in 0..n {
        if k > 0 && lang.spaced() {
            p.push(' ');
        }
        let start = p.len();
        if rng.chance(0.6) {
            let t = rng.word(lex.product_templates);
            fill(rng, lex, t, Some(product), &mut p);
        } else {
            let t = rng.word(lex.templates);
            fill(rng, lex, t, Some(product), &mut p);
        }
        if lang.spaced() {
            capitalise_from(&mut p, start);
        }
    }
    p
}

/// A headline (no final punctuation), sentence-cased.
pub(crate) fn title(rng: &mut Rng, lang: Lang) -> String {
    let lex = lang.lexicon();
    let mut s = String::with_capacity(80);
    let t = rng.word(lex.title_templates);
    fill(rng, lex, t, None, &mut s);
    if lang.spaced() {
        capitalise_from(&mut s, 0);
    }
    s
}

/// The words of a text, for slugs and keyword lists: lower-cased ASCII folding of Latin letters.
/// Returns an empty string for scripts without a useful ASCII form (Han, kana, Cyrillic).
pub(crate) fn slug(text: &str, max_len: usize) -> String {
    let mut out = String::with_capacity(max_len);
    let mut dash = false;
    for c in text.chars() {
        let folded: &str = match c {
            'a'..='z' | '0'..='9' => {
                let mut b = [0u8; 4];
                let s = c.encode_utf8(&mut b);
                if dash && !out.is_empty() {
                    out.push('-');
                }
                dash = false;
                out.push_str(s);
                continue;
            }
            'A'..='Z' => {
                if dash && !out.is_empty() {
                    out.push('-');
                }
                dash = false;
                out.push(c.to_ascii_lowercase());
                continue;
            }
            'ä' | 'Ä' => "ae",
            'ö' | 'Ö' => "oe",
            'ü' | 'Ü' => "ue",
            'ß' => "ss",
            'à' | 'á' | 'â' | 'À' | 'Á' | 'Â' => "a",
            'è' | 'é' | 'ê' | 'ë' | 'É' | 'È' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'Í' => "i",
            'ò' | 'ó' | 'ô' | 'Ó' => "o",
            'ù' | 'ú' | 'û' | 'Ú' => "u",
            'ç' => "c",
            'ñ' => "n",
            'œ' => "oe",
            _ => {
                dash = true;
                continue;
            }
        };
        if dash && !out.is_empty() {
            out.push('-');
        }
        dash = false;
        out.push_str(folded);
        if out.len() >= max_len {
            break;
        }
    }
    if out.len() > max_len {
        let mut cut = max_len;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_sentences_have_stop_words_and_end_with_punctuation() {
        let mut rng = Rng::new(1);
        let p = paragraph(&mut rng, Lang::En, Register::Report, 20, 20);
        let words: Vec<&str> = p.split_whitespace().collect();
        let stop = [
            "the", "be", "to", "of", "and", "that", "have", "with", "is", "a",
        ];
        let n_stop = words
            .iter()
            .filter(|w| stop.contains(&w.to_lowercase().as_str()))
            .count();
        assert!(
            n_stop * 10 >= words.len(),
            "too few stop words: {n_stop}/{}",
            words.len()
        );
        assert!(p.ends_with('.') || p.ends_with('?'));
        assert!(!p.contains('{'), "unfilled slot in {p}");
        let first = p.chars().next().unwrap();
        assert!(first.is_uppercase(), "{p}");
    }

    #[test]
    fn cjk_sentences_have_no_spaces_between_words() {
        let mut rng = Rng::new(2);
        for lang in [Lang::Zh, Lang::Ja] {
            let p = paragraph(&mut rng, lang, Register::Report, 5, 5);
            assert!(!p.contains(' '), "{p}");
            assert!(p.ends_with('。'));
        }
    }

    #[test]
    fn slug_folds_accents_and_drops_other_scripts() {
        assert_eq!(
            slug("Straße über Äcker: 3 Fälle", 80),
            "strasse-ueber-aecker-3-faelle"
        );
        assert_eq!(slug("Débat sur l'économie", 80), "debat-sur-l-economie");
        assert_eq!(slug("市政府发布了新的计划", 80), "");
        assert_eq!(slug("abc def ghi", 5), "abc-d");
    }

    #[test]
    fn same_seed_same_text() {
        let a = paragraph(&mut Rng::new(5), Lang::De, Register::Chat, 3, 6);
        let b = paragraph(&mut Rng::new(5), Lang::De, Register::Chat, 3, 6);
        assert_eq!(a, b);
    }
}
