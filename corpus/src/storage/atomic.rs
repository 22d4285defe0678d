//! Atomic output files: write to a hidden temporary name, rename when complete.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Size and sha256 of a finished output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// Final path.
    pub path: PathBuf,
    /// Size in bytes.
    pub bytes: u64,
    /// Lower-case hex sha256.
    pub sha256: String,
}

/// A file that appears under its final name only when [`AtomicFile::commit`] is called.
///
/// Bytes go to `.<name>.tmp` in the same directory (same filesystem, so the rename is atomic) and are
/// hashed as they are written. Dropping without commit removes the temporary file. A process killed
/// half-way leaves only a hidden `.tmp` file, which the next run of the same task overwrites.
pub struct AtomicFile {
    tmp: PathBuf,
    path: PathBuf,
    out: Option<BufWriter<File>>,
    hasher: Sha256,
    bytes: u64,
}

impl AtomicFile {
    /// Starts writing `path` (parent folders are created).
    pub fn create(path: impl AsRef<Path>) -> io::Result<AtomicFile> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let name = path
            .file_name()
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "output path has no file name")
            })?
            .to_string_lossy();
        let tmp = path.with_file_name(format!(".{name}.tmp"));
        let f = File::create(&tmp)?;
        Ok(AtomicFile {
            tmp,
            path,
            out: Some(BufWriter::with_capacity(1 << 20, f)),
            hasher: Sha256::new(),
            bytes: 0,
        })
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Flushes, syncs and renames to the final name; returns size and sha256.
    pub fn commit(mut self) -> io::Result<FileDigest> {
        let out = self.out.take().expect("commit called once");
        let f = out.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&self.tmp, &self.path)?;
        Ok(FileDigest {
            path: self.path.clone(),
            bytes: self.bytes,
            sha256: hex::encode(std::mem::take(&mut self.hasher).finalize()),
        })
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.as_mut().expect("not committed").write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.as_mut().expect("not committed").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.out.is_some() {
            self.out = None;
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes a whole file atomically.
pub fn write_atomic(path: impl AsRef<Path>, data: &[u8]) -> io::Result<FileDigest> {
    let mut f = AtomicFile::create(path)?;
    f.write_all(data)?;
    f.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appears_only_on_commit_and_hashes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/out.txt");
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"abc").unwrap();
        assert!(!p.exists());
        let dg = f.commit().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"abc");
        assert_eq!(dg.bytes, 3);
        assert_eq!(
            dg.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let q = d.path().join("dropped.txt");
        {
            let mut f = AtomicFile::create(&q).unwrap();
            f.write_all(b"x").unwrap();
        }
        assert!(!q.exists());
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
