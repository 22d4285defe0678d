//! Member-aware gzip decoding: one continuous stream of decompressed bytes over any number of gzip
//! members, remembering where (in the compressed file) each member starts so that a record can be
//! given the offset of the member it begins in.
//!
//! Why not `flate2::read::MultiGzDecoder`: it hides member boundaries (so no exact offsets), and it
//! stops at the first corrupt member or trailing garbage. Here the gzip header and trailer are parsed
//! by hand and the deflate data goes through `flate2::Decompress` (raw deflate), so every compressed
//! byte is counted. Faults are reported once each as a [`SourceError`] and decoding goes on:
//! - bytes that are not a gzip member (trailing garbage): one error at their offset, then a scan for
//!   the next gzip magic `1f 8b 08`;
//! - corrupt deflate data: one error at the member's offset, then the same scan;
//! - a CRC or length mismatch in the trailer: one error (the data was already passed on);
//! - input ending inside a member: the data decoded so far is passed on, then one error with
//!   `at_eof = true`.

use std::collections::VecDeque;
use std::io::{self, Read};

use flate2::{Crc, Decompress, FlushDecompress, Status};

use super::source::SourceError;

const IN_BUF: usize = 64 * 1024;
const OUT_BUF: usize = 128 * 1024;
/// A gzip header with a longer file name or comment is treated as garbage.
const MAX_HEADER: usize = 16 * 1024;
/// Member boundaries remembered ahead of the reader (more only when one record spans thousands of
/// members; the oldest are then dropped and offsets become best effort).
const MAX_BOUNDARIES: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    BetweenMembers,
    Body,
    Trailer,
    /// After corrupt data: look for the next member without reporting the skipped bytes again.
    Resync,
    Done,
}

/// Decompressed bytes of a gzip file with member boundaries.
pub(crate) struct GzipSource<R> {
    inner: R,
    inbuf: Box<[u8]>,
    in_start: usize,
    in_end: usize,
    in_eof: bool,
    /// Compressed offset of `inbuf[in_start]`.
    in_off: u64,
    out: Box<[u8]>,
    out_start: usize,
    out_end: usize,
    /// Decompressed position of `out[out_start]`.
    pos: u64,
    state: State,
    inflate: Decompress,
    crc: Crc,
    member_start: u64,
    /// (decompressed position, compressed member offset), oldest first.
    boundaries: VecDeque<(u64, u64)>,
}

enum Header {
    Complete(usize),
    Incomplete,
    Invalid,
}

/// Parses a gzip member header (RFC 1952) at the start of `b`.
fn parse_header(b: &[u8]) -> Header {
    if b.len() < 10 {
        return if b.len() >= 3 && b[..3] != [0x1f, 0x8b, 0x08] {
            Header::Invalid
        } else {
            Header::Incomplete
        };
    }
    if b[..3] != [0x1f, 0x8b, 0x08] || b[3] & 0xe0 != 0 {
        return Header::Invalid;
    }
    let flags = b[3];
    let mut i = 10;
    if flags & 0x04 != 0 {
        if b.len() < i + 2 {
            return Header::Incomplete;
        }
        i += 2 + usize::from(u16::from_le_bytes([b[i], b[i + 1]]));
    }
    for bit in [0x08, 0x10] {
        if flags & bit != 0 {
            match b.get(i..).and_then(|rest| memchr::memchr(0, rest)) {
                Some(z) => i += z + 1,
                None => return Header::Incomplete,
            }
        }
    }
    if flags & 0x02 != 0 {
        i += 2;
    }
    if i > b.len() {
        Header::Incomplete
    } else {
        Header::Complete(i)
    }
}

impl<R: Read> GzipSource<R> {
    /// Wraps `inner`, whose first bytes (already read while sniffing the format) are `prefix`.
    pub(crate) fn new(inner: R, prefix: &[u8]) -> Self {
        let mut inbuf = vec![0u8; IN_BUF.max(prefix.len())].into_boxed_slice();
        inbuf[..prefix.len()].copy_from_slice(prefix);
        GzipSource {
            inner,
            inbuf,
            in_start: 0,
            in_end: prefix.len(),
            in_eof: false,
            in_off: 0,
            out: vec![0u8; OUT_BUF].into_boxed_slice(),
            out_start: 0,
            out_end: 0,
            pos: 0,
            state: State::BetweenMembers,
            inflate: Decompress::new(false),
            crc: Crc::new(),
            member_start: 0,
            boundaries: VecDeque::new(),
        }
    }

    fn avail(&self) -> usize {
        self.in_end - self.in_start
    }

    /// Reads more compressed input; false at end of input.
    fn refill(&mut self) -> io::Result<bool> {
        if self.in_eof {
            return Ok(false);
        }
        if self.in_start > 0 {
            self.inbuf.copy_within(self.in_start..self.in_end, 0);
            self.in_end -= self.in_start;
            self.in_start = 0;
        }
        if self.in_end == self.inbuf.len() {
            // Only header parsing asks for more than a buffer; MAX_HEADER < IN_BUF keeps this rare.
            return Ok(true);
        }
        loop {
            match self.inner.read(&mut self.inbuf[self.in_end..]) {
                Ok(0) => {
                    self.in_eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.in_end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // An I/O error of the underlying reader is not recoverable: stop here.
                    self.in_eof = true;
                    return Err(e);
                }
            }
        }
    }

    fn skip_input(&mut self, n: usize) {
        self.in_start += n;
        self.in_off += n as u64;
    }

    /// Skips input up to the next gzip magic (or to the end); returns how many bytes were skipped.
    fn scan_to_magic(&mut self) -> io::Result<u64> {
        let mut skipped = 0u64;
        loop {
            let hay = &self.inbuf[self.in_start..self.in_end];
            // Never match at position 0: the caller is standing on bytes that are not a good member.
            let found = memchr::memmem::find(hay.get(1..).unwrap_or(&[]), &[0x1f, 0x8b, 0x08]);
            if let Some(i) = found {
                self.skip_input(i + 1);
                return Ok(skipped + i as u64 + 1);
            }
            // Keep the last 2 bytes: a magic may straddle the buffer end.
            let keep = hay.len().min(2);
            let drop = hay.len() - keep;
            self.skip_input(drop);
            skipped += drop as u64;
            if !self.refill()? {
                let rest = self.avail();
                self.skip_input(rest);
                return Ok(skipped + rest as u64);
            }
        }
    }

    fn io_error(&mut self, e: io::Error) -> SourceError {
        self.state = State::Done;
        SourceError {
            offset: self.in_off,
            message: format!("read error: {e}"),
            at_eof: true,
        }
    }

    /// The next decompressed bytes; an empty slice at the end of input.
    pub(crate) fn fill(&mut self) -> Result<&[u8], SourceError> {
        loop {
            if self.out_start < self.out_end {
                return Ok(&self.out[self.out_start..self.out_end]);
            }
            self.out_start = 0;
            self.out_end = 0;
            match self.state {
                State::Done => return Ok(&[]),
                State::Resync => {
                    if let Err(e) = self.scan_to_magic() {
                        return Err(self.io_error(e));
                    }
                    self.state = State::BetweenMembers;
                }
                State::BetweenMembers => {
                    if self.avail() < 10 {
                        match self.refill() {
                            Ok(_) => {}
                            Err(e) => return Err(self.io_error(e)),
                        }
                        if self.avail() < 10 && !self.in_eof {
                            continue;
                        }
                    }
                    if self.avail() == 0 {
                        self.state = State::Done;
                        return Ok(&[]);
                    }
                    match parse_header(&self.inbuf[self.in_start..self.in_end]) {
                        Header::Complete(len) => {
                            self.member_start = self.in_off;
                            self.skip_input(len);
                            self.inflate.reset(false);
                            self.crc.reset();
                            if self.boundaries.len() >= MAX_BOUNDARIES {
                                self.boundaries.pop_front();
                            }
                            self.boundaries.push_back((self.pos, self.member_start));
                            self.state = State::Body;
                        }
                        Header::Incomplete if !self.in_eof && self.avail() < MAX_HEADER => {
                            if let Err(e) = self.refill() {
                                return Err(self.io_error(e));
                            }
                        }
                        Header::Incomplete if self.in_eof => {
                            let off = self.in_off;
                            let n = self.avail();
                            self.skip_input(n);
                            self.state = State::Done;
                            return Err(SourceError {
                                offset: off,
                                message: format!(
                                    "truncated gzip header ({n} bytes at end of file)"
                                ),
                                at_eof: true,
                            });
                        }
                        _ => {
                            let off = self.in_off;
                            let n = match self.scan_to_magic() {
                                Ok(n) => n,
                                Err(e) => return Err(self.io_error(e)),
                            };
                            return Err(SourceError {
                                offset: off,
                                message: format!("{n} bytes of non-gzip data"),
                                at_eof: false,
                            });
                        }
                    }
                }
                State::Body => {
                    if self.avail() == 0 {
                        if let Err(e) = self.refill() {
                            return Err(self.io_error(e));
                        }
                    }
                    let before_in = self.inflate.total_in();
                    let before_out = self.inflate.total_out();
                    let res = self.inflate.decompress(
                        &self.inbuf[self.in_start..self.in_end],
                        &mut self.out,
                        FlushDecompress::None,
                    );
                    let used = (self.inflate.total_in() - before_in) as usize;
                    let made = (self.inflate.total_out() - before_out) as usize;
                    self.skip_input(used);
                    match res {
                        Ok(status) => {
                            self.crc.update(&self.out[..made]);
                            self.out_end = made;
                            if status == Status::StreamEnd {
                                self.state = State::Trailer;
                            } else if used == 0 && made == 0 {
                                // No progress: the decoder needs more input than is buffered.
                                let before = self.avail();
                                if let Err(e) = self.refill() {
                                    return Err(self.io_error(e));
                                }
                                if self.avail() <= before {
                                    let at_eof = self.in_eof;
                                    self.state = if at_eof { State::Done } else { State::Resync };
                                    return Err(SourceError {
                                        offset: self.member_start,
                                        message: format!(
                                            "gzip member at offset {} is truncated (input ends inside its compressed data)",
                                            self.member_start
                                        ),
                                        at_eof,
                                    });
                                }
                            }
                        }
                        Err(e) => {
                            self.out_end = 0;
                            self.state = State::Resync;
                            return Err(SourceError {
                                offset: self.member_start,
                                message: format!(
                                    "corrupt gzip member at offset {}: {e}",
                                    self.member_start
                                ),
                                at_eof: false,
                            });
                        }
                    }
                }
                State::Trailer => {
                    while self.avail() < 8 {
                        match self.refill() {
                            Ok(true) => {}
                            Ok(false) => break,
                            Err(e) => return Err(self.io_error(e)),
                        }
                    }
                    if self.avail() < 8 {
                        let n = self.avail();
                        self.skip_input(n);
                        self.state = State::Done;
                        return Err(SourceError {
                            offset: self.member_start,
                            message: format!(
                                "gzip member at offset {} has no complete trailer",
                                self.member_start
                            ),
                            at_eof: true,
                        });
                    }
                    let t = &self.inbuf[self.in_start..self.in_start + 8];
                    let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
                    let size = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
                    self.skip_input(8);
                    self.state = State::BetweenMembers;
                    if crc != self.crc.sum() || size != self.crc.amount() {
                        return Err(SourceError {
                            offset: self.member_start,
                            message: format!(
                                "gzip member at offset {}: CRC or length mismatch",
                                self.member_start
                            ),
                            at_eof: false,
                        });
                    }
                }
            }
        }
    }

    /// Marks `n` bytes of the last [`fill`](Self::fill) as read.
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.out_end - self.out_start);
        self.out_start += n;
        self.pos += n as u64;
    }

    /// Decompressed position of the next byte.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Offset of the member holding decompressed position `pos`; positions must be asked in
    /// increasing order (earlier boundaries are forgotten).
    pub(crate) fn member_offset(&mut self, pos: u64) -> u64 {
        while self.boundaries.len() >= 2 && self.boundaries[1].0 <= pos {
            self.boundaries.pop_front();
        }
        self.boundaries.front().map_or(0, |b| b.1)
    }

    /// Compressed bytes consumed so far.
    #[cfg(test)]
    pub(crate) fn compressed_pos(&self) -> u64 {
        self.in_off
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn drain(src: &mut GzipSource<&[u8]>) -> (Vec<u8>, Vec<SourceError>) {
        let (mut out, mut errs) = (Vec::new(), Vec::new());
        for _ in 0..10_000 {
            match src.fill() {
                Ok([]) => return (out, errs),
                Ok(b) => {
                    let n = b.len();
                    out.extend_from_slice(b);
                    src.consume(n);
                }
                Err(e) => errs.push(e),
            }
        }
        panic!("no end");
    }

    #[test]
    fn members_are_concatenated_and_their_offsets_known() {
        let a = gz(b"first member\n");
        let b = gz(b"second\n");
        let file = [a.clone(), b.clone()].concat();
        let mut src = GzipSource::new(&file[..], &[]);
        let (out, errs) = drain(&mut src);
        assert_eq!(out, b"first member\nsecond\n");
        assert!(errs.is_empty());
        assert_eq!(src.compressed_pos(), file.len() as u64);
        let mut src = GzipSource::new(&file[..], &[]);
        src.fill().unwrap();
        assert_eq!(src.member_offset(0), 0);
        let n = src.fill().unwrap().len();
        src.consume(n);
        src.fill().unwrap();
        assert_eq!(src.member_offset(13), a.len() as u64);
    }

    #[test]
    fn garbage_between_members_is_one_error_then_decoding_resumes() {
        let a = gz(b"one\n");
        let b = gz(b"two\n");
        let file = [a.clone(), b"JUNKJUNK".to_vec(), b.clone(), b"tail".to_vec()].concat();
        let mut src = GzipSource::new(&file[..], &[]);
        let (out, errs) = drain(&mut src);
        assert_eq!(out, b"one\ntwo\n");
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].offset, a.len() as u64);
        assert_eq!(errs[1].offset, (a.len() + 8 + b.len()) as u64);
    }

    #[test]
    fn truncated_member_gives_its_data_then_an_eof_error() {
        let data: Vec<u8> = (0..50_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let a = gz(&data);
        let cut = &a[..a.len() / 2];
        let mut src = GzipSource::new(cut, &[]);
        let (out, errs) = drain(&mut src);
        assert!(!out.is_empty() && data.starts_with(&out));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].at_eof);
    }

    #[test]
    fn corrupt_member_is_reported_and_the_next_one_read() {
        let mut a = gz(&vec![b'x'; 1000]);
        let b = gz(b"after\n");
        for byte in &mut a[10..20] {
            *byte = 0xff;
        }
        let file = [a, b].concat();
        let mut src = GzipSource::new(&file[..], &[]);
        let (out, errs) = drain(&mut src);
        assert!(out.ends_with(b"after\n"));
        assert!(!errs.is_empty());
        assert_eq!(errs[0].offset, 0);
    }
}
