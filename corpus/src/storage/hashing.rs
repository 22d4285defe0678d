//! sha256 while reading, so inputs are hashed for the manifest without a second pass.

use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

/// What a [`HashingReader`] saw: bytes read, their sha256, and whether it reached the end.
#[derive(Debug, Clone, Default)]
pub struct ReadDigest {
    /// Bytes read so far.
    pub bytes: u64,
    /// Lower-case hex sha256 of those bytes (only final once `complete`).
    pub sha256: String,
    /// Whether the reader reached end of file.
    pub complete: bool,
}

#[derive(Default)]
struct State {
    hasher: Sha256,
    bytes: u64,
    done: Option<String>,
}

/// Wraps a reader and hashes every byte that passes through it.
pub struct HashingReader<R> {
    inner: R,
    state: Arc<Mutex<State>>,
}

/// A handle to read the digest of a [`HashingReader`] after the reader was moved away.
#[derive(Clone)]
pub struct DigestHandle(Arc<Mutex<State>>);

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`; the handle reads the digest later.
    pub fn new(inner: R) -> (Self, DigestHandle) {
        let state = Arc::new(Mutex::new(State::default()));
        (
            HashingReader {
                inner,
                state: state.clone(),
            },
            DigestHandle(state),
        )
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if n == 0 && !buf.is_empty() {
            if st.done.is_none() {
                let h = std::mem::take(&mut st.hasher);
                st.done = Some(hex::encode(h.finalize()));
            }
        } else if st.done.is_none() {
            st.hasher.update(&buf[..n]);
            st.bytes += n as u64;
        }
        Ok(n)
    }
}

impl DigestHandle {
    /// The digest so far; `complete` once the reader hit end of file.
    pub fn digest(&self) -> ReadDigest {
        let st = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match &st.done {
            Some(h) => ReadDigest {
                bytes: st.bytes,
                sha256: h.clone(),
                complete: true,
            },
            None => ReadDigest {
                bytes: st.bytes,
                sha256: hex::encode(st.hasher.clone().finalize()),
                complete: false,
            },
        }
    }
}

/// sha256 and size of a whole local file, streamed.
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        n_total += n as u64;
    }
    Ok((hex::encode(h.finalize()), n_total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_known_sha256() {
        let (mut r, h) = HashingReader::new(&b"abc"[..]);
        let mut s = Vec::new();
        r.read_to_end(&mut s).unwrap();
        let d = h.digest();
        assert!(d.complete);
        assert_eq!(d.bytes, 3);
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
