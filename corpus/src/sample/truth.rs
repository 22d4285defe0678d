//! `truth.jsonl`: one JSON line of ground truth per generated page, so stages can be scored.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::{PageKind, SamplePage};

/// One line of `truth.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthRecord {
    /// Index of the page in the sample.
    pub index: usize,
    /// The page's URL (`WARC-Target-URI`).
    pub url: String,
    /// HTTP status.
    pub status: u16,
    /// What the page is.
    pub kind: PageKind,
    /// Language of the main text (ISO 639-1).
    pub language: Option<String>,
    /// Declared license (SPDX id), see [`super::PageTruth::license`].
    pub license: Option<String>,
    /// How the license was declared.
    pub license_markup: String,
    /// Index of the page this one re-publishes.
    pub near_dup_of: Option<usize>,
    /// Whether the page is spam.
    pub is_spam: bool,
    /// Whether the page opts out of AI use (`noai` robots meta).
    pub noai: bool,
    /// Encoding of the HTML body.
    pub charset: Option<String>,
}

impl TruthRecord {
    /// The ground-truth record of a page.
    pub fn of(page: &SamplePage) -> Self {
        let t = &page.truth;
        TruthRecord {
            index: page.index,
            url: page.url.clone(),
            status: page.http_status,
            kind: t.kind,
            language: t.language.clone(),
            license: t.license.clone(),
            license_markup: t.license_markup.clone(),
            near_dup_of: t.near_dup_of,
            is_spam: t.is_spam,
            noai: t.noai,
            charset: t.charset.clone(),
        }
    }
}

/// Writes `truth.jsonl` lines as pages are generated (the caller owns atomic file handling).
pub struct TruthWriter<W: Write> {
    out: W,
    lines: u64,
}

impl<W: Write> TruthWriter<W> {
    /// A writer over `out` (wrap files in a `BufWriter`).
    pub fn new(out: W) -> Self {
        TruthWriter { out, lines: 0 }
    }

    /// Appends the truth line of `page`.
    pub fn write(&mut self, page: &SamplePage) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &TruthRecord::of(page)).map_err(io::Error::other)?;
        self.out.write_all(b"\n")?;
        self.lines += 1;
        Ok(())
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{generate, SampleConfig};

    #[test]
    fn truth_lines_parse_back() {
        let pages: Vec<_> = generate(SampleConfig {
            docs: 30,
            seed: 4,
            ..Default::default()
        })
        .collect();
        let mut w = TruthWriter::new(Vec::new());
        for p in &pages {
            w.write(p).unwrap();
        }
        assert_eq!(w.lines(), 30);
        let buf = w.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        for (line, p) in text.lines().zip(&pages) {
            let r: TruthRecord = serde_json::from_str(line).unwrap();
            assert_eq!(r, TruthRecord::of(p));
            assert_eq!(r.url, p.url);
        }
        assert!(text.contains("\"kind\":\""));
    }
}
