//! quarry's own main-content extractor: one pass of a tolerant tokenizer builds a flat arena of
//! elements and the page's text already laid out in lines; a readability-style selection keeps the
//! article's lines. No DOM library, no regular expressions, no recursion.
//!
//! It is the default extractor because it scores at least as well as the trafilatura port on the
//! gold pages, at a fraction of the time (numbers in `docs/html.md`); the port stays selectable
//! (`extractor = "trafilatura"`) as the reference.
//!
//! * [`tokenize`]: tags, attributes, text, character references;
//! * [`tree`]: nodes with boilerplate / content flags, lines with link counts;
//! * [`select`](mod@select): removal of boilerplate blocks, container choice, line filters.

pub mod select;
pub mod tokenize;
pub mod tree;

use super::extract::{ExtractOptions, Extracted};

/// Extracts the main text of an HTML page with quarry's own extractor.
///
/// Deterministic and stateless; never panics on any input (fuzzed), linear in the input size, and
/// bounded in nesting depth ([`tree::MAX_DEPTH`]). `include_tables` is honoured; `focus`,
/// `fallback` and `include_comments` are trafilatura options that this extractor does not have
/// (comment sections are always removed).
pub fn extract_quarry(html: &str, opts: &ExtractOptions) -> Extracted {
    let mut page = tree::parse(html);
    page.aggregate();
    let sel = select::select(&page, opts.include_tables);
    let mut text = String::with_capacity(
        sel.lines
            .iter()
            .map(|&i| page.lines[i].text.len() + 1)
            .sum(),
    );
    for &i in &sel.lines {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&page.lines[i].text);
    }
    // NFC, as trafilatura and most corpora do: the same word has the same bytes whichever way the
    // page composed it (Bengali `য়` is U+09DF in some pages, U+09AF U+09BC in others).
    if unicode_normalization::is_nfc_quick(text.chars()) != unicode_normalization::IsNormalized::Yes
    {
        text = unicode_normalization::UnicodeNormalization::nfc(text.as_str()).collect();
    }
    Extracted {
        text,
        title: page.og_title.take().or(page.title.take()),
        sitename: None,
        license: None,
        failed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(html: &str) -> String {
        extract_quarry(html, &ExtractOptions::default()).text
    }

    #[test]
    fn keeps_article_drops_boilerplate() {
        let para =
            "The quick brown fox jumps over the lazy dog near the river bank, while the sun sets. ";
        let html = format!(
            "<html><head><title>A story</title></head><body><header><a href=/>Logo</a> Site name</header>\
             <nav><a href=/>Home</a> <a href=/b>Blog</a></nav>\
             <div id=cookie-banner>We use cookies. Accept all cookies to continue using the website now.</div>\
             <article><h1>A story</h1><p>{}</p><p>{}</p><ul><li>first point of the list</li><li>second point</li></ul></article>\
             <aside><p>Related: another story that is long enough to be a paragraph here.</p></aside>\
             <div class=comments><p>Great post, thanks for sharing this with all of us today!</p></div>\
             <footer>Copyright 2024 Example Corp. All rights reserved.</footer></body></html>",
            para.repeat(4),
            para.repeat(3)
        );
        let e = extract_quarry(&html, &ExtractOptions::default());
        assert_eq!(e.title.as_deref(), Some("A story"));
        let lines: Vec<&str> = e.text.lines().collect();
        assert_eq!(lines[0], "A story");
        assert!(lines[1].starts_with("The quick brown fox"));
        assert!(lines.contains(&"first point of the list") && lines.contains(&"second point"));
        for bad in [
            "Copyright",
            "Blog",
            "cookies",
            "Related",
            "Great post",
            "Logo",
        ] {
            assert!(!e.text.contains(bad), "{bad}: {}", e.text);
        }
    }

    #[test]
    fn page_wide_form_is_not_boilerplate_and_link_lists_go() {
        let para =
            "Sentences of a real article body, with commas, clauses, and enough words to score. ";
        let html = format!(
            "<body><form id=aspnetForm><div class=menu><a href=1>One</a><a href=2>Two</a></div>\
             <div><p>{p}</p><p>{p}</p><p><a href=a>Tag one</a>, <a href=b>Tag two</a></p></div></form></body>",
            p = para.repeat(2)
        );
        let t = ex(&html);
        assert_eq!(t.lines().count(), 2, "{t}");
        assert!(t.starts_with("Sentences"));
    }

    #[test]
    fn tables_option_and_empty_pages() {
        let p =
            "A paragraph long enough to be the content of this little test page, with commas, yes.";
        let html =
            format!("<div><p>{p}</p><table><tr><td>cell a</td><td>cell b</td></tr></table></div>");
        assert!(ex(&html).contains("cell a | cell b"));
        let no = ExtractOptions {
            include_tables: false,
            ..Default::default()
        };
        assert!(!extract_quarry(&html, &no).text.contains("cell a"));
        assert_eq!(ex(""), "");
        // Soft hyphens vanish before layout, so they leave no trailing space or blank line.
        assert_eq!(ex("<p>réac&shy;tion x &shy;</p><p>&shy;</p>"), "réaction x");
        assert_eq!(
            ex("<html><body><script>var a = 1;</script></body></html>"),
            ""
        );
    }

    #[test]
    fn deterministic_and_ruby_free() {
        let html = "<article><p><ruby>子<rt>こ</rt></ruby>どもたちが、公園で遊んでいます。とても楽しそうです。</p></article>";
        let a = ex(html);
        assert_eq!(a, "子どもたちが、公園で遊んでいます。とても楽しそうです。");
        assert_eq!(a, ex(html));
    }
}
