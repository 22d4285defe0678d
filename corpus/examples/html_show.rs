//! Prints the extracted text (and the charset) of one HTML file: `html_show FILE [URL]`.
//!
//! `HTML_SHOW_EXTRACTOR=trafilatura` picks the reference extractor; `HTML_SHOW_EXPLAIN=1` (quarry
//! extractor) prints every line of the page with the reason it was dropped, or `+` if kept.
use quarry_corpus::html::fast::{select, tree};
use quarry_corpus::html::{ExtractOptions, Extractor};

fn main() {
    let mut a = std::env::args().skip(1);
    let path = a.next().expect("usage: html_show FILE [URL]");
    let url = a.next();
    let bytes = std::fs::read(&path).expect("readable file");
    let d = quarry_corpus::html::decode_with_url(&bytes, None, url.as_deref());
    let extractor = match std::env::var("HTML_SHOW_EXTRACTOR") {
        Ok(s) => s.parse::<Extractor>().expect("quarry or trafilatura"),
        Err(_) => Extractor::Quarry,
    };
    if std::env::var_os("HTML_SHOW_EXPLAIN").is_some() {
        let mut page = tree::parse(&d.text);
        page.aggregate();
        let sel = select::select(&page, true);
        for (l, why) in page.lines.iter().zip(&sel.why) {
            // Flagged ancestors: `index:flags` from the line's block up.
            let mut chain = String::new();
            let mut i = l.node as usize;
            while i != 0 {
                let n = &page.nodes[i];
                if n.flags & 0x7fff != 0 {
                    chain.push_str(&format!("{i}:{:b} ", n.flags & 0x7fff));
                }
                i = n.parent as usize;
            }
            println!(
                "{:<12} n{:<5} [{}] {:>4}/{:<4} {}",
                why.unwrap_or("+"),
                chain.trim_end(),
                l.node,
                l.link_chars,
                l.chars,
                l.text.chars().take(100).collect::<String>()
            );
        }
        return;
    }
    let opts = ExtractOptions {
        extractor,
        ..Default::default()
    };
    let e = quarry_corpus::html::extract_with(&d.text, url.as_deref(), &opts);
    eprintln!(
        "charset {} ({}), title {:?}",
        d.charset,
        d.source.as_str(),
        e.title
    );
    println!("{}", e.text);
}
