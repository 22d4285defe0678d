//! A tolerant, allocation-free HTML tokenizer: start tags (with their raw attribute text), end tags
//! and text, in one forward pass with `memchr`.
//!
//! It is not the WHATWG tokenizer: it does what main-content extraction needs and nothing more.
//! Comments, doctypes, processing instructions and CDATA are skipped; the content of raw-text
//! elements (`script`, `style`, ...) is skipped whole (found by the matching end tag, as browsers
//! do); `<title>` and `<textarea>` content comes out as text. Unterminated constructs end the input
//! rather than swallowing it as text, as in browsers. Every step moves forward, so it cannot loop.

use memchr::{memchr, memmem};

/// One token. Names are as written (compare with [`eq_name`]); text and attribute values are raw
/// (entities not yet decoded, see [`decode_entities_into`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token<'a> {
    /// `<name attrs...>`; `attrs` is everything between the name and `>` (or `/>`).
    Start {
        /// Tag name as written.
        name: &'a str,
        /// Raw attribute text.
        attrs: &'a str,
        /// Ended with `/>`.
        self_closing: bool,
    },
    /// `</name>`.
    End {
        /// Tag name as written.
        name: &'a str,
    },
    /// Character data between tags.
    Text(&'a str),
    /// The raw content of a raw-text element that we skip (`script`, `style`, ...), as one token so
    /// callers can count it without looking at it.
    Skipped(&'a str),
}

/// ASCII case-insensitive name comparison.
pub fn eq_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Elements whose content is not markup: skipped up to the matching end tag.
fn raw_kind(name: &str) -> Option<bool> {
    // Some(true): content is text we want (RCDATA); Some(false): content is skipped.
    const SKIP: &[&str] = &[
        "script",
        "style",
        "xmp",
        "iframe",
        "noembed",
        "noframes",
        "noscript",
        "plaintext",
    ];
    if name.len() > 9 {
        return None;
    }
    if eq_name(name, "title") || eq_name(name, "textarea") {
        return Some(true);
    }
    SKIP.iter().any(|s| eq_name(name, s)).then_some(false)
}

/// Iterator over the tokens of an HTML string.
pub struct Tokenizer<'a> {
    s: &'a str,
    pos: usize,
    /// Pending raw-text element: its name, and whether its content is text (RCDATA) or skipped.
    raw: Option<(&'a str, bool)>,
}

impl<'a> Tokenizer<'a> {
    /// Tokenizes `s` from the start.
    pub fn new(s: &'a str) -> Self {
        Tokenizer {
            s,
            pos: 0,
            raw: None,
        }
    }

    /// Reads the content of a raw-text element up to `</name` (case-insensitive).
    fn raw_text(&mut self, name: &'a str, as_text: bool) -> Token<'a> {
        let b = self.s.as_bytes();
        let mut i = self.pos;
        let end = loop {
            match memmem::find(&b[i..], b"</") {
                None => break b.len(),
                Some(o) => {
                    let k = i + o;
                    let after = k + 2 + name.len();
                    if after <= b.len()
                        && b[k + 2..after].eq_ignore_ascii_case(name.as_bytes())
                        && b.get(after)
                            .is_none_or(|c| c.is_ascii_whitespace() || *c == b'>' || *c == b'/')
                    {
                        break k;
                    }
                    i = k + 2;
                }
            }
        };
        let content = &self.s[self.pos..end];
        self.pos = end;
        if as_text {
            Token::Text(content)
        } else {
            Token::Skipped(content)
        }
    }
}

fn is_name_byte(c: u8) -> bool {
    !(c.is_ascii_whitespace() || c == b'/' || c == b'>')
}

/// End of a tag starting after its name at `i`: the index of its `>` (quotes respected), or `None`
/// if the input ends first.
fn tag_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let c = *b.get(i)?;
        match c {
            b'>' => return Some(i),
            b'"' | b'\'' => {
                // A quote only opens a value right after `=` (possibly with spaces); a stray quote
                // elsewhere is just a character, as in browsers' attribute-name state.
                let mut j = i;
                while j > 0 && b[j - 1].is_ascii_whitespace() {
                    j -= 1;
                }
                if j > 0 && b[j - 1] == b'=' {
                    i = i + 1 + memchr(c, &b[i + 1..])?;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        if let Some((name, as_text)) = self.raw.take() {
            if self.pos < self.s.len() {
                return Some(self.raw_text(name, as_text));
            }
        }
        let b = self.s.as_bytes();
        loop {
            if self.pos >= b.len() {
                return None;
            }
            let start = self.pos;
            if b[start] != b'<' {
                let end = memchr(b'<', &b[start..]).map_or(b.len(), |o| start + o);
                self.pos = end;
                return Some(Token::Text(&self.s[start..end]));
            }
            let next = b.get(start + 1).copied();
            match next {
                Some(c) if c.is_ascii_alphabetic() => {
                    let name_end = (start + 1..b.len())
                        .find(|&k| !is_name_byte(b[k]))
                        .unwrap_or(b.len());
                    let Some(gt) = tag_end(b, name_end) else {
                        self.pos = b.len();
                        return None;
                    };
                    let name = &self.s[start + 1..name_end];
                    // `/>` closes the tag only when the `/` is not the end of an unquoted
                    // value (`<a href=/>` is an open link to `/`).
                    let self_closing = gt > name_end
                        && b[gt - 1] == b'/'
                        && (gt - 1 == name_end
                            || matches!(
                                b[gt - 2],
                                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'"' | b'\''
                            ));
                    let attrs = &self.s[name_end..if self_closing { gt - 1 } else { gt }];
                    self.pos = gt + 1;
                    if !self_closing {
                        if let Some(as_text) = raw_kind(name) {
                            self.raw = Some((name, as_text));
                        }
                    }
                    return Some(Token::Start {
                        name,
                        attrs,
                        self_closing,
                    });
                }
                Some(b'/') => {
                    match b.get(start + 2) {
                        Some(c) if c.is_ascii_alphabetic() => {
                            let name_end = (start + 2..b.len())
                                .find(|&k| !is_name_byte(b[k]))
                                .unwrap_or(b.len());
                            let Some(gt) = tag_end(b, name_end) else {
                                self.pos = b.len();
                                return None;
                            };
                            self.pos = gt + 1;
                            return Some(Token::End {
                                name: &self.s[start + 2..name_end],
                            });
                        }
                        Some(b'>') => self.pos = start + 3, // `</>`: ignored
                        None => {
                            self.pos = b.len();
                            return Some(Token::Text(&self.s[start..]));
                        }
                        _ => {
                            // Bogus comment `</ ...>`.
                            self.pos = memchr(b'>', &b[start..]).map_or(b.len(), |o| start + o + 1);
                        }
                    }
                }
                Some(b'!') => {
                    let rest = &b[start + 2..];
                    self.pos = if rest.starts_with(b"--") {
                        // `<!-->` and `<!--->` close at once, as in browsers.
                        let body = start + 4;
                        if b[body..].starts_with(b">") {
                            body + 1
                        } else if b[body..].starts_with(b"->") {
                            body + 2
                        } else {
                            memmem::find(&b[body..], b"-->").map_or(b.len(), |o| body + o + 3)
                        }
                    } else if rest.starts_with(b"[CDATA[") {
                        memmem::find(&b[start..], b"]]>").map_or(b.len(), |o| start + o + 3)
                    } else {
                        memchr(b'>', &b[start..]).map_or(b.len(), |o| start + o + 1)
                    };
                }
                Some(b'?') => {
                    self.pos = memchr(b'>', &b[start..]).map_or(b.len(), |o| start + o + 1);
                }
                _ => {
                    // A `<` that opens nothing is text.
                    let end = memchr(b'<', &b[start + 1..]).map_or(b.len(), |o| start + 1 + o);
                    self.pos = end;
                    return Some(Token::Text(&self.s[start..end]));
                }
            }
        }
    }
}

/// Iterator over `(name, value)` of a raw attribute string; values unquoted, entities not decoded.
pub struct Attrs<'a> {
    s: &'a str,
    pos: usize,
}

/// Attributes of a start tag's raw attribute text.
pub fn attrs(s: &str) -> Attrs<'_> {
    Attrs { s, pos: 0 }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let b = self.s.as_bytes();
        let mut i = self.pos;
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            self.pos = i;
            return None;
        }
        let ns = i;
        i += 1; // a name has at least one byte (even `=`), so we always move forward
        while i < b.len() && !(b[i].is_ascii_whitespace() || b[i] == b'/' || b[i] == b'=') {
            i += 1;
        }
        let name = &self.s[ns..i];
        let mut j = i;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        if j >= b.len() || b[j] != b'=' {
            self.pos = i;
            return Some((name, ""));
        }
        j += 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let value;
        if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
            let q = b[j];
            let vs = j + 1;
            let ve = memchr(q, &b[vs..]).map_or(b.len(), |o| vs + o);
            value = &self.s[vs..ve];
            self.pos = (ve + 1).min(b.len());
        } else {
            let vs = j;
            while j < b.len() && !b[j].is_ascii_whitespace() {
                j += 1;
            }
            value = &self.s[vs..j];
            self.pos = j;
        }
        Some((name, value))
    }
}

/// Windows-1252 meanings of the C1 code points in numeric references (`&#150;` is an en dash).
fn c1_replacement(n: u32) -> Option<char> {
    const T: [u32; 32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
        0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC,
        0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ];
    if (0x80..0xA0).contains(&n) {
        let r = T[(n - 0x80) as usize];
        if r != 0 {
            return char::from_u32(r);
        }
    }
    None
}

/// Decodes one character reference at the start of `s` (which begins with `&`): the characters it
/// stands for and the bytes it used, or `None` if it is not a reference (then `&` is literal).
fn char_ref(s: &str) -> Option<(char, Option<char>, usize)> {
    let b = s.as_bytes();
    if b.get(1) == Some(&b'#') {
        let (hex, digits_start) = match b.get(2) {
            Some(b'x') | Some(b'X') => (true, 3),
            _ => (false, 2),
        };
        let mut i = digits_start;
        let mut n: u32 = 0;
        while i < b.len() && i - digits_start < 8 {
            let d = if hex {
                (b[i] as char).to_digit(16)
            } else {
                (b[i] as char).to_digit(10)
            };
            let Some(d) = d else { break };
            n = n * if hex { 16 } else { 10 } + d;
            i += 1;
        }
        if i == digits_start {
            return None;
        }
        // Skip any further digits of an absurdly long reference.
        while i < b.len() && (b[i] as char).is_ascii_hexdigit() {
            i += 1;
        }
        if b.get(i) == Some(&b';') {
            i += 1;
        }
        let c = c1_replacement(n)
            .or_else(|| char::from_u32(n).filter(|&c| c != '\0'))
            .unwrap_or('\u{FFFD}');
        return Some((c, None, i));
    }
    // Named: the longest name with `;` up to 32 bytes, or a legacy name without `;`.
    let mut i = 1;
    while i < b.len() && i < 33 && b[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if i == 1 {
        return None;
    }
    let ents = &markup5ever::data::NAMED_ENTITIES;
    if b.get(i) == Some(&b';') {
        if let Some(&(c1, c2)) = ents.get(&s[1..=i]) {
            return Some((
                char::from_u32(c1)?,
                char::from_u32(c2).filter(|_| c2 != 0),
                i + 1,
            ));
        }
    }
    // Legacy references without `;` (`&amp`, `&nbsp`, `&copy`): the longest prefix that is one.
    for end in (2..=i.min(7)).rev() {
        if let Some(&(c1, c2)) = ents.get(&s[1..end]) {
            return Some((
                char::from_u32(c1)?,
                char::from_u32(c2).filter(|_| c2 != 0),
                end,
            ));
        }
    }
    None
}

/// Appends `s` with character references decoded to `out`.
pub fn decode_entities_into(s: &str, out: &mut String) {
    let b = s.as_bytes();
    let mut copied = 0;
    let mut i = 0;
    while let Some(o) = memchr(b'&', &b[i..]) {
        let k = i + o;
        match char_ref(&s[k..]) {
            Some((c1, c2, used)) => {
                out.push_str(&s[copied..k]);
                out.push(c1);
                if let Some(c2) = c2 {
                    out.push(c2);
                }
                i = k + used;
                copied = i;
            }
            None => i = k + 1,
        }
    }
    out.push_str(&s[copied..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Token<'_>> {
        Tokenizer::new(s).collect()
    }

    #[test]
    fn tags_text_comments_and_raw_text() {
        let t = toks("<!DOCTYPE html><P class=\"a>b\" id=x>Hi <b>there</b><!-- <p>no --><script>if (a<b) {}</script>x<br/>");
        assert_eq!(
            t,
            vec![
                Token::Start {
                    name: "P",
                    attrs: " class=\"a>b\" id=x",
                    self_closing: false
                },
                Token::Text("Hi "),
                Token::Start {
                    name: "b",
                    attrs: "",
                    self_closing: false
                },
                Token::Text("there"),
                Token::End { name: "b" },
                Token::Start {
                    name: "script",
                    attrs: "",
                    self_closing: false
                },
                Token::Skipped("if (a<b) {}"),
                Token::End { name: "script" },
                Token::Text("x"),
                Token::Start {
                    name: "br",
                    attrs: "",
                    self_closing: true
                },
            ]
        );
        // `</script` inside a string still ends the script, as in browsers; `</scripts` does not.
        let t = toks("<SCRIPT>a='</scripts>'</Script >b");
        assert_eq!(t[1], Token::Skipped("a='</scripts>'"));
        assert_eq!(t[3], Token::Text("b"));
    }

    #[test]
    fn malformed_input_terminates_and_keeps_stray_lt() {
        assert_eq!(toks("a < b"), vec![Token::Text("a "), Token::Text("< b")]);
        assert_eq!(toks("x<p class='unterminated"), vec![Token::Text("x")]);
        assert_eq!(toks("<!-- never closed <p>x"), vec![]);
        assert_eq!(toks("</"), vec![Token::Text("</")]);
        assert_eq!(toks("<script>never closed"), toks("<script>never closed"));
        assert_eq!(
            toks("<title>T &amp; U"),
            vec![
                Token::Start {
                    name: "title",
                    attrs: "",
                    self_closing: false
                },
                Token::Text("T &amp; U")
            ]
        );
        // A stray quote inside a tag is not a value delimiter.
        assert_eq!(toks("<a b\"c>t</a>")[1], Token::Text("t"));
    }

    #[test]
    fn attributes() {
        let a: Vec<_> = attrs(" class=\"x y\" id=main hidden data-a = 'q' /").collect();
        assert_eq!(
            a,
            vec![
                ("class", "x y"),
                ("id", "main"),
                ("hidden", ""),
                ("data-a", "q")
            ]
        );
        assert_eq!(attrs("=x").count(), 1);
    }

    #[test]
    fn entities() {
        let mut o = String::new();
        decode_entities_into(
            "a &amp; b &lt;&gt; &nbsp;&#233;&#xE9;&#150; &copy 2024 &notanentity; &amp",
            &mut o,
        );
        assert_eq!(o, "a & b <> \u{a0}éé– © 2024 ¬anentity; &");
        let mut o = String::new();
        decode_entities_into("&#0; &#99999999999; & &#; &#x110000;", &mut o);
        assert_eq!(o, "\u{FFFD} \u{FFFD} & &#; \u{FFFD}");
    }
}
