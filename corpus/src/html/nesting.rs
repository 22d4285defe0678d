//! A bound on element nesting, applied to the markup before parsing.
//!
//! Parts of the extraction stack (tree walks in the extractor and its readability/jusText
//! fallbacks) recurse over the DOM, and a hostile or broken page with tens of thousands of nested
//! elements overflows a thread's stack, which aborts the process (a stack overflow is not a panic
//! and cannot be caught). Real pages nest a few dozen levels, rarely more than 200. So a cheap
//! linear pre-pass tracks an *estimate* of the open-element depth and drops start tags (and their
//! end tags) beyond [`MAX_DEPTH`]: the text stays, only the excess structure is flattened. Pages under
//! the limit are returned as they are, without copying.

use std::borrow::Cow;

/// Deepest estimated nesting kept; deeper start and end tags are removed.
pub const MAX_DEPTH: usize = 400;

/// Deepest `<table>` nesting kept. Table cells close implicitly, so they are not in the general depth
/// estimate, but a deep stack of open tables makes the HTML parser's table modes slow (35 s for
/// 20,000 nested `<table><tr><td>`); inside tables nested deeper than this, every table-structure tag
/// is removed. Real pages (layout tables of the 2000s included) stay far below.
pub const MAX_TABLE_DEPTH: usize = 32;

fn is_table_part(name: &[u8]) -> bool {
    const NAMES: &[&[u8]] = &[
        b"table",
        b"tr",
        b"td",
        b"th",
        b"thead",
        b"tbody",
        b"tfoot",
        b"caption",
        b"colgroup",
        b"col",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Elements that never have an end tag, or whose end tag is implied by a sibling (`<p>`, `<li>`),
/// so that counting them would overestimate the depth of ordinary pages.
fn not_nesting(name: &[u8]) -> bool {
    const NAMES: &[&[u8]] = &[
        b"area",
        b"base",
        b"br",
        b"col",
        b"embed",
        b"hr",
        b"img",
        b"input",
        b"link",
        b"meta",
        b"param",
        b"source",
        b"track",
        b"wbr",
        b"p",
        b"li",
        b"dt",
        b"dd",
        b"option",
        b"optgroup",
        b"rt",
        b"rp",
        b"tr",
        b"td",
        b"th",
        b"thead",
        b"tbody",
        b"tfoot",
        b"colgroup",
        b"caption",
        b"html",
        b"head",
        b"body",
        b"keygen",
        b"basefont",
        b"bgsound",
        b"frame",
        b"image",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Returns `html` with nesting beyond [`MAX_DEPTH`] flattened (see the module docs).
pub fn limit_nesting(html: &str) -> Cow<'_, str> {
    limit_nesting_to(html, MAX_DEPTH)
}

/// [`limit_nesting`] with an explicit limit.
pub fn limit_nesting_to(html: &str, max_depth: usize) -> Cow<'_, str> {
    let b = html.as_bytes();
    // Tags removed, as byte ranges; only allocated once the limit is actually crossed.
    let mut cut: Vec<(usize, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut table_depth = 0usize;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &b[i..]) {
        let start = i + off;
        let rest = &b[start..];
        if rest.starts_with(b"<!--") {
            i = start + memchr::memmem::find(rest, b"-->").map_or(rest.len(), |p| p + 3);
            continue;
        }
        let (closing, name_from) = if rest.get(1) == Some(&b'/') {
            (true, 2)
        } else {
            (false, 1)
        };
        let name_len = rest[name_from..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len() - name_from);
        if name_len == 0 || !rest[name_from].is_ascii_alphabetic() {
            i = start + 1;
            continue;
        }
        let name = &rest[name_from..name_from + name_len];
        let end = start + memchr::memchr(b'>', rest).map_or(rest.len(), |p| p + 1);
        // Raw-text elements: skip to their end tag so that `<` inside scripts is not read as tags.
        if !closing && (name.eq_ignore_ascii_case(b"script") || name.eq_ignore_ascii_case(b"style"))
        {
            let close: &[u8] = if name.eq_ignore_ascii_case(b"script") {
                b"</script"
            } else {
                b"</style"
            };
            i = find_ci(&b[end..], close).map_or(b.len(), |p| end + p);
            continue;
        }
        let complete = b[..end].last() == Some(&b'>');
        if complete && is_table_part(name) {
            let is_table = name.eq_ignore_ascii_case(b"table");
            if is_table && !closing {
                table_depth += 1;
            }
            if table_depth > MAX_TABLE_DEPTH {
                cut.push((start, end));
                if is_table && closing {
                    table_depth -= 1;
                }
                i = end.max(start + 1);
                continue;
            }
            if is_table && closing {
                table_depth = table_depth.saturating_sub(1);
            }
        }
        if !not_nesting(name) && complete && !(end >= 2 && b[end - 2] == b'/') {
            if closing {
                if depth > max_depth {
                    cut.push((start, end));
                }
                depth = depth.saturating_sub(1);
            } else {
                depth += 1;
                if depth > max_depth {
                    cut.push((start, end));
                }
            }
        }
        i = end.max(start + 1);
    }
    if cut.is_empty() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut from = 0;
    for (s, e) in cut {
        out.push_str(&html[from..s]);
        from = e;
    }
    out.push_str(&html[from..]);
    Cow::Owned(out)
}

fn find_ci(hay: &[u8], needle_lower: &[u8]) -> Option<usize> {
    hay.windows(needle_lower.len())
        .position(|w| w.eq_ignore_ascii_case(needle_lower))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_pages_are_untouched() {
        let html =
            "<div><p>a<p>b<ul><li>x<li>y</ul><br><img src=x><script>if (a<b) {}</script></div>";
        assert!(matches!(limit_nesting(html), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_nesting_is_flattened_keeping_text() {
        let html = format!("{}deep{}", "<div class=a>".repeat(10), "</div>".repeat(10));
        let out = limit_nesting_to(&html, 3);
        assert_eq!(
            out,
            "<div class=a><div class=a><div class=a>deep</div></div></div>"
        );
        // Unclosed deep tags: only the first `max_depth` stay.
        let out = limit_nesting_to("<b><b><b><b>x", 2);
        assert_eq!(out, "<b><b>x");
        // Tables nested too deep lose their structure tags, not their text.
        let html = format!(
            "{}t{}",
            "<table><tr><td>".repeat(40),
            "</td></tr></table>".repeat(40)
        );
        let out = limit_nesting(&html);
        assert_eq!(out.matches("<table>").count(), MAX_TABLE_DEPTH);
        assert_eq!(out.matches("</table>").count(), MAX_TABLE_DEPTH);
        assert!(out.contains("<td>t</td>"));
        // `<` inside a script and comments are not tags.
        let out = limit_nesting_to(
            "<div><script><div><div><div></script><!--<div><div>-->t</div>",
            1,
        );
        assert_eq!(
            out,
            "<div><script><div><div><div></script><!--<div><div>-->t</div>"
        );
    }
}
