//! JSONL reader (`.jsonl`, `.jsonl.gz`, `.jsonl.zst`, also `.json.gz`), dolma's and datatrove's fields.

use std::io::{BufRead, BufReader, Read};

use crate::document::Provenance;
use crate::read::{ReadItem, RecordError};
use crate::schema::from_json_object;

/// Longest line accepted; longer lines are skipped as `too_large` without being held in memory.
pub const MAX_LINE_BYTES: usize = 256 << 20;

/// Streams documents from JSONL. `input` must already be decompressed. Line numbers (0-based) are the
/// offsets; a document without an id gets `<file>/<line>` (datatrove's convention).
pub struct JsonlReader {
    input: BufReader<Box<dyn Read + Send>>,
    file: String,
    text_key: String,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl JsonlReader {
    /// Reads `input` (already decompressed), naming `file` in ids and errors.
    pub fn new(input: Box<dyn Read + Send>, file: &str, text_key: &str) -> Self {
        JsonlReader {
            input: BufReader::with_capacity(1 << 20, input),
            file: file.to_string(),
            text_key: text_key.to_string(),
            line: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    fn err(&self, line: u64, message: String) -> ReadItem {
        ReadItem::Error(RecordError {
            file: self.file.clone(),
            offset: line,
            message: format!("line {}: {message}", line + 1),
        })
    }

    /// Reads one line into `self.buf`, at most `MAX_LINE_BYTES`; returns (bytes seen, overflowed).
    fn read_line(&mut self) -> std::io::Result<(usize, bool)> {
        self.buf.clear();
        let mut seen = 0usize;
        let mut overflow = false;
        loop {
            let avail = self.input.fill_buf()?;
            if avail.is_empty() {
                return Ok((seen, overflow));
            }
            let (chunk, found) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..=i], true),
                None => (avail, false),
            };
            let n = chunk.len();
            if !overflow && self.buf.len() + n <= MAX_LINE_BYTES {
                self.buf.extend_from_slice(chunk);
            } else {
                overflow = true;
                self.buf.clear();
            }
            seen += n;
            self.input.consume(n);
            if found {
                return Ok((seen, overflow));
            }
        }
    }
}

impl Iterator for JsonlReader {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        loop {
            if self.done {
                return None;
            }
            let line = self.line;
            let (seen, overflow) = match self.read_line() {
                Ok(x) => x,
                Err(e) => {
                    self.done = true;
                    return Some(self.err(
                        line,
                        format!("read error: {e} (truncated or corrupt compressed input?)"),
                    ));
                }
            };
            if seen == 0 {
                self.done = true;
                return None;
            }
            self.line += 1;
            if overflow {
                return Some(ReadItem::Skipped {
                    reason: "too_large",
                    offset: line,
                });
            }
            let trimmed = trim_ascii(&self.buf);
            if trimmed.is_empty() {
                continue;
            }
            let value: serde_json::Value = match serde_json::from_slice(trimmed) {
                Ok(v) => v,
                Err(e) => return Some(self.err(line, format!("not valid JSON: {e}"))),
            };
            let Some(obj) = value.as_object() else {
                return Some(self.err(line, "not a JSON object".to_string()));
            };
            let fallback = format!("{}/{}", self.file, line);
            let prov = Provenance {
                file: self.file.clone(),
                offset: line,
            };
            return Some(
                match from_json_object(obj, &self.text_key, &fallback, prov) {
                    Ok(d) => ReadItem::Doc(d),
                    Err(m) => self.err(line, m),
                },
            );
        }
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map(|i| i + 1)
        .unwrap_or(start);
    &b[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &'static str) -> Vec<ReadItem> {
        JsonlReader::new(Box::new(s.as_bytes()), "t.jsonl", "text").collect()
    }

    #[test]
    fn reads_dolma_and_datatrove_lines_and_counts_bad_ones() {
        let items = read(concat!(
            r#"{"id":"a","text":"one","metadata":{"url":"https://x.example/"}}"#,
            "\n\n",
            r#"{"text":"two","metadata":{"lang":"en"}}"#,
            "\n",
            "{not json\n",
            r#"{"id":3,"txt":"x"}"#,
            "\n",
            "\u{fffd}\n",
        ));
        assert_eq!(items.len(), 5);
        match &items[0] {
            ReadItem::Doc(d) => {
                assert_eq!(d.id, "a");
                assert_eq!(d.url.as_deref(), Some("https://x.example/"));
            }
            o => panic!("{o:?}"),
        }
        match &items[1] {
            ReadItem::Doc(d) => {
                assert_eq!(d.id, "t.jsonl/2");
                assert_eq!(d.meta("lang").and_then(|v| v.as_str()), Some("en"));
            }
            o => panic!("{o:?}"),
        }
        assert!(matches!(&items[2], ReadItem::Error(e) if e.message.contains("line 4")));
        assert!(matches!(&items[3], ReadItem::Error(e) if e.message.contains("keys found")));
        assert!(matches!(&items[4], ReadItem::Error(_)));
    }
}
