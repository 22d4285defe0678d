//! Resumable downloads with size and sha256 checks (models, Common Crawl files).
//!
//! Bytes go to `<dest>.partial`; a rerun after an interruption asks the server only for the bytes
//! after what is already there (an HTTP `Range` request), and the file is renamed to `dest` only once
//! its size and sha256 match what was expected.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use futures::StreamExt;
use object_store::{GetOptions, GetRange};

use super::{remote, FileDigest, Location, StorageError};

/// What a download must be.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// Size in bytes, when known.
    pub size: Option<u64>,
    /// Lower-case hex sha256, when known.
    pub sha256: Option<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Downloads `url` to `dest`, resuming a partial download, and checks size and sha256.
/// Returns immediately when `dest` already exists and matches.
pub fn fetch(url: &str, dest: &Path, expected: &Expected) -> Result<FileDigest, StorageError> {
    if dest.exists() {
        let (sha, bytes) = super::sha256_file(dest).map_err(io(dest))?;
        if matches(expected, bytes, &sha) {
            return Ok(FileDigest {
                path: dest.to_path_buf(),
                bytes,
                sha256: sha,
            });
        }
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let partial = PathBuf::from(format!("{}.partial", dest.display()));
    let have = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
    let loc = Location::parse(url)?;
    let (store, path) = remote::store_for(&loc)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&partial)
        .map_err(io(&partial))?;
    let complete_already = expected.size.is_some_and(|s| s == have);
    if !complete_already {
        let opts = if have > 0 {
            GetOptions::new().with_range(Some(GetRange::Offset(have)))
        } else {
            GetOptions::new()
        };
        let res: Result<(), StorageError> = remote::runtime().block_on(async {
            let r = store
                .get_opts(&path, opts)
                .await
                .map_err(|e| remote::remote_err(url, e))?;
            let mut stream = r.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| remote::remote_err(url, e))?;
                file.write_all(&chunk).map_err(io(&partial))?;
            }
            Ok(())
        });
        res?;
        file.sync_all().map_err(io(&partial))?;
    }
    drop(file);
    let (sha, bytes) = super::sha256_file(&partial).map_err(io(&partial))?;
    if !matches(expected, bytes, &sha) {
        // A corrupt partial file would never heal by resuming: start over next time.
        let _ = std::fs::remove_file(&partial);
        return Err(StorageError::Remote {
            location: url.to_string(),
            message: format!(
                "downloaded {bytes} bytes with sha256 {sha}, expected {} bytes with sha256 {}; the partial file was removed, run again",
                expected.size.map_or("any".to_string(), |s| s.to_string()),
                expected.sha256.as_deref().unwrap_or("any")
            ),
        });
    }
    std::fs::rename(&partial, dest).map_err(io(dest))?;
    Ok(FileDigest {
        path: dest.to_path_buf(),
        bytes,
        sha256: sha,
    })
}

fn matches(e: &Expected, bytes: u64, sha: &str) -> bool {
    e.size.is_none_or(|s| s == bytes) && e.sha256.as_deref().is_none_or(|h| h == sha)
}

/// Reads a whole small remote object into memory (listings, robots.txt, checksums).
pub fn fetch_bytes(url: &str) -> Result<Vec<u8>, StorageError> {
    let loc = Location::parse(url)?;
    let mut r = super::open_read(&loc)?;
    let mut v = Vec::new();
    r.read_to_end(&mut v)
        .map_err(|e| remote::remote_err(url, e))?;
    Ok(v)
}
