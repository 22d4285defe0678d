//! The byte source under the record parser: plain or gzip input, detected by its magic bytes, with a
//! small line reader on top. It gives the parser decompressed bytes, their stream position, and the
//! file offset a record starting at a given position should report.

use std::io::{self, Read};

use super::gzip::GzipSource;

const PLAIN_BUF: usize = 128 * 1024;

/// A fault in the byte source (a bad gzip member, trailing garbage, an I/O error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceError {
    /// Offset in the input file (compressed offset for gzip).
    pub offset: u64,
    /// What went wrong.
    pub message: String,
    /// True when nothing can follow (the input ended inside a member, or the reader failed).
    pub at_eof: bool,
}

/// How a line read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnd {
    /// The line ended with `\n` (kept in the buffer, if within the limit).
    Newline,
    /// The input ended first.
    Eof,
}

/// Plain or gzip input.
pub(crate) enum Source<R> {
    /// Uncompressed input.
    Plain(PlainSource<R>),
    /// gzip input (any number of members).
    Gzip(Box<GzipSource<R>>),
}

/// Uncompressed input through a buffer.
pub(crate) struct PlainSource<R> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    pos: u64,
    eof: bool,
}

impl<R: Read> Source<R> {
    /// Sniffs the first bytes of `inner`: gzip magic → gzip, anything else → plain.
    pub(crate) fn detect(mut inner: R) -> Result<Self, (R, io::Error)> {
        let mut head = [0u8; 2];
        let mut n = 0;
        while n < 2 {
            match inner.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err((inner, e)),
            }
        }
        if n == 2 && head == [0x1f, 0x8b] {
            Ok(Source::Gzip(Box::new(GzipSource::new(inner, &head))))
        } else {
            let mut buf = vec![0u8; PLAIN_BUF].into_boxed_slice();
            buf[..n].copy_from_slice(&head[..n]);
            Ok(Source::Plain(PlainSource {
                inner,
                buf,
                start: 0,
                end: n,
                pos: 0,
                eof: false,
            }))
        }
    }

    /// Whether the input is gzip.
    pub(crate) fn is_gzip(&self) -> bool {
        matches!(self, Source::Gzip(_))
    }

    /// The next bytes; empty at the end of input.
    pub(crate) fn fill(&mut self) -> Result<&[u8], SourceError> {
        match self {
            Source::Gzip(g) => g.fill(),
            Source::Plain(p) => p.fill(),
        }
    }

    /// Marks `n` bytes of the last fill as read.
    pub(crate) fn consume(&mut self, n: usize) {
        match self {
            Source::Gzip(g) => g.consume(n),
            Source::Plain(p) => {
                let n = n.min(p.end - p.start);
                p.start += n;
                p.pos += n as u64;
            }
        }
    }

    /// Stream position (decompressed) of the next byte.
    pub(crate) fn pos(&self) -> u64 {
        match self {
            Source::Gzip(g) => g.pos(),
            Source::Plain(p) => p.pos,
        }
    }

    /// The file offset to report for a record starting at stream position `pos` (asked in increasing
    /// order): the gzip member's offset, or `pos` itself for plain input.
    pub(crate) fn record_offset(&mut self, pos: u64) -> u64 {
        match self {
            Source::Gzip(g) => g.member_offset(pos),
            Source::Plain(_) => pos,
        }
    }

    /// Reads one line. At most `limit` bytes are appended to `out` (the rest of a longer line is
    /// skipped); returns how the line ended and its full length.
    pub(crate) fn read_line(
        &mut self,
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(LineEnd, usize), SourceError> {
        let mut len = 0usize;
        let mut kept = 0usize;
        loop {
            let buf = self.fill()?;
            if buf.is_empty() {
                return Ok((LineEnd::Eof, len));
            }
            let (take, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let keep = take.min(limit - kept);
            out.extend_from_slice(&buf[..keep]);
            kept += keep;
            len += take;
            self.consume(take);
            if done {
                return Ok((LineEnd::Newline, len));
            }
        }
    }

    /// Appends exactly `n` bytes to `out` unless the input ends or fails first; returns how many were
    /// appended and the error, if one stopped the read.
    pub(crate) fn read_exact_into(
        &mut self,
        out: &mut Vec<u8>,
        n: u64,
    ) -> (u64, Option<SourceError>) {
        let mut got = 0u64;
        while got < n {
            let buf = match self.fill() {
                Ok(b) => b,
                Err(e) => return (got, Some(e)),
            };
            if buf.is_empty() {
                break;
            }
            let take = (buf.len() as u64).min(n - got) as usize;
            out.extend_from_slice(&buf[..take]);
            self.consume(take);
            got += take as u64;
        }
        (got, None)
    }

    /// Skips `n` bytes without keeping them; like [`read_exact_into`](Self::read_exact_into).
    pub(crate) fn skip(&mut self, n: u64) -> (u64, Option<SourceError>) {
        let mut got = 0u64;
        while got < n {
            let buf = match self.fill() {
                Ok(b) => b,
                Err(e) => return (got, Some(e)),
            };
            if buf.is_empty() {
                break;
            }
            let take = (buf.len() as u64).min(n - got) as usize;
            self.consume(take);
            got += take as u64;
        }
        (got, None)
    }
}

impl<R: Read> PlainSource<R> {
    fn fill(&mut self) -> Result<&[u8], SourceError> {
        if self.start == self.end && !self.eof {
            self.start = 0;
            self.end = 0;
            loop {
                match self.inner.read(&mut self.buf) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(n) => {
                        self.end = n;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.eof = true;
                        return Err(SourceError {
                            offset: self.pos,
                            message: format!("read error: {e}"),
                            at_eof: true,
                        });
                    }
                }
            }
        }
        Ok(&self.buf[self.start..self.end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_limited_but_fully_consumed() {
        let data = b"WARC/1.0\r\nabcdefghij\nlast";
        let mut src = Source::detect(&data[..]).map_err(|e| e.1).unwrap();
        assert!(!src.is_gzip());
        let mut line = Vec::new();
        assert_eq!(
            src.read_line(&mut line, 100).unwrap(),
            (LineEnd::Newline, 10)
        );
        assert_eq!(line, b"WARC/1.0\r\n");
        line.clear();
        assert_eq!(src.read_line(&mut line, 3).unwrap(), (LineEnd::Newline, 11));
        assert_eq!(line, b"abc");
        assert_eq!(src.pos(), 21);
        line.clear();
        assert_eq!(src.read_line(&mut line, 100).unwrap(), (LineEnd::Eof, 4));
        assert_eq!(src.record_offset(21), 21);
    }

    #[test]
    fn short_inputs_are_plain() {
        for data in [&b""[..], b"\x1f", b"x"] {
            let mut src = Source::detect(data).map_err(|e| e.1).unwrap();
            assert!(!src.is_gzip());
            let mut v = Vec::new();
            assert_eq!(src.read_exact_into(&mut v, 10).0, data.len() as u64);
        }
    }
}
