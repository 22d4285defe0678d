//! Storage: where inputs are read from and outputs are written to.
//!
//! A location is a local path, an `https://` (or `http://`) URL, or an `s3://bucket/key` URL. Reads
//! stream (memory stays bounded whatever the object size); remote reads go through `object_store`,
//! which gives S3 (with the usual AWS environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ENDPOINT_URL` for S3-compatible servers) and plain HTTP(S) with one API and
//! retries. Outputs are written atomically: to a temporary name first, renamed (or uploaded) only when
//! complete, so a reader never sees half a file and a killed run leaves no finished-looking output.
//! Credentials, region and endpoint also come from the shared `~/.aws/config` and
//! `~/.aws/credentials` files ([`AwsSettings`]); retries, timeouts and multipart sizes from
//! `QUARRY_*` variables ([`RemoteSettings`]). See docs/storage.md.

mod atomic;
mod config;
mod fetch;
mod hashing;
mod location;
mod mirror;
mod remote;
mod upload;

pub use atomic::{write_atomic, AtomicFile, FileDigest};
pub use fetch::{fetch, fetch_bytes, Expected};
pub use hashing::{sha256_file, DigestHandle, HashingReader, ReadDigest};
pub(crate) use remote::{runtime as io_runtime, store_for as remote_store};

pub use config::{AwsSettings, RemoteSettings, MIN_PART_SIZE};
pub use location::{list_inputs, InputFile, Location};
pub use mirror::{sync, CopyMode, WorkDir};
pub use upload::{
    delete_prefix, put_bytes, put_file, put_file_with, read_opt, upload_tree, UploadSummary,
};

use std::io::Read;

/// Errors from storage operations; each names the location.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A remote object could not be listed or fetched.
    #[error("{location}: {message}")]
    Remote {
        /// The URL.
        location: String,
        /// What the store said.
        message: String,
    },
    /// A pattern matched nothing.
    #[error("no input matches `{0}` (check the path; globs use *, ? and [..])")]
    NoMatch(String),
    /// The location string is not a path or a supported URL.
    #[error("`{0}` is not a local path, http(s):// or s3:// URL")]
    BadLocation(String),
}

/// The folder under which local copies of S3 work are kept when no folder is given:
/// `QUARRY_STAGING`, else `quarry-staging` in the system temp folder.
pub fn staging_root() -> std::path::PathBuf {
    std::env::var_os("QUARRY_STAGING")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("quarry-staging"))
}

/// A short stable name for a location (16 hex digits of the sha256 of its URL), for the local
/// folders that stage work published there.
pub fn location_tag(loc: &Location) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(loc.to_string().as_bytes()))[..16].to_string()
}

/// The local staging folder of output published to `loc`: `explicit` (one run's own folder), else
/// `<staging root>/<location tag>`, so that runs publishing to different places never share one
/// (e.g. the extraction and the dedup filter of a launched build on one node).
pub fn staging_dir(explicit: Option<&std::path::Path>, loc: &Location) -> std::path::PathBuf {
    match explicit {
        Some(p) => p.to_path_buf(),
        None => staging_root().join(location_tag(loc)),
    }
}

/// Opens a location for streaming reads.
pub fn open_read(loc: &Location) -> Result<Box<dyn Read + Send>, StorageError> {
    match loc {
        Location::Local(p) => {
            let f = std::fs::File::open(p).map_err(|source| StorageError::Io {
                path: p.display().to_string(),
                source,
            })?;
            Ok(Box::new(f))
        }
        _ => remote::open_read(loc),
    }
}
