//! Prints the extracted text (and the charset) of one HTML file: `html_show FILE [URL]`.
fn main() {
    let mut a = std::env::args().skip(1);
    let path = a.next().expect("usage: html_show FILE [URL]");
    let url = a.next();
    let bytes = std::fs::read(&path).expect("readable file");
    let d = quarry_corpus::html::decode_with_url(&bytes, None, url.as_deref());
    let e = quarry_corpus::html::extract(&d.text, url.as_deref());
    eprintln!(
        "charset {} ({}), title {:?}",
        d.charset,
        d.source.as_str(),
        e.title
    );
    println!("{}", e.text);
    if std::env::var_os("HTML_SHOW_RAW").is_some() {
        let r = trafilatura::extract(&d.text, &trafilatura::Options::default()).unwrap();
        println!("----\n{}", r.content_html);
    }
}
