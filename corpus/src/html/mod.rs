//! HTML → text: charset detection and decoding, main-content extraction, and the `extract` step.
//!
//! ```
//! use quarry_corpus::html::{decode, extract};
//!
//! let body = b"<html><head><meta charset=windows-1252><title>Hi</title></head><body>\
//!     <nav>Home</nav><article><p>Gr\xfc\xdfe aus K\xf6ln: this paragraph is the page's main text, \
//!     long enough to count as content for the extractor.</p></article></body></html>";
//! let d = decode(body, Some("text/html"));
//! assert_eq!(d.charset, "windows-1252");
//! let e = extract(&d.text, Some("https://example.de/"));
//! assert!(e.text.starts_with("Grüße aus Köln"));
//! assert_eq!(e.title.as_deref(), Some("Hi"));
//! ```
//!
//! * [`charset`]: which encoding (BOM, HTTP header, `<meta>`, detection) and decoding;
//! * [`sniff`]: is the payload text at all;
//! * [`nesting`]: a depth bound on the markup, so hostile pages cannot overflow the stack;
//! * [`extract`](mod@extract): boilerplate removal and line layout;
//! * [`step`]: the `extract` pipeline step and its recipe config.

pub mod charset;
pub mod extract;
pub mod fast;
pub mod nesting;
pub mod sniff;
pub mod step;

pub use charset::{decode, decode_with_url, CharsetSource, Decoded};
pub use extract::{extract, extract_with, ExtractOptions, Extracted, Extractor, Focus};
pub use step::{extract_factory, Extract, ExtractConfig};
