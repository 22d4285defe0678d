//! Common Crawl: a crawl's path listings and downloads of chosen slices of it.
//!
//! Every crawl publishes `crawl-data/CC-MAIN-YYYY-WW/{warc,wet,wat}.paths.gz`, a gzipped list of
//! object paths relative to the bucket root. The same paths are served over HTTPS from
//! `https://data.commoncrawl.org/` and from `s3://commoncrawl/`, so the base is a parameter (tests
//! point it at a server on loopback). [`list_paths`] reads a listing; [`fetch_paths`] downloads a
//! slice with retries, backoff with jitter, resume of partial files via `Range`, size checks, bounded
//! parallelism and a manifest of what was fetched.

mod fetch;

pub use fetch::{fetch_paths, FetchOptions, FetchReport, FetchedFile, FETCH_MANIFEST};

use std::io::Read;

use crate::storage::{fetch_bytes, StorageError};

/// The public HTTPS endpoint of Common Crawl.
pub const DEFAULT_BASE: &str = "https://data.commoncrawl.org";

/// Errors of Common Crawl listing and fetching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CcError {
    /// The crawl name is not `CC-MAIN-YYYY-WW`.
    #[error("`{0}` is not a crawl name like CC-MAIN-2024-10")]
    BadCrawl(String),
    /// Unknown listing kind.
    #[error("`{0}` is not a kind of listing (warc, wet or wat)")]
    BadKind(String),
    /// A slice or shard selection is malformed or out of range.
    #[error("{0}")]
    BadSelection(String),
    /// Reading the listing or a file failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The listing is not gzip or not UTF-8 text.
    #[error("{url}: not a gzipped path listing: {message}")]
    BadListing {
        /// Listing URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// Some downloads failed after all retries (the others are done and in the manifest).
    #[error("{failed} of {total} download(s) failed:\n{details}")]
    Failed {
        /// Number of failed files.
        failed: usize,
        /// Number of files asked for.
        total: usize,
        /// One line per failed file.
        details: String,
    },
}

/// Which files of a crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// Raw HTTP responses (WARC).
    #[default]
    Warc,
    /// Extracted plain text (WET).
    Wet,
    /// Metadata (WAT).
    Wat,
}

impl Kind {
    /// The listing's name part (`warc` in `warc.paths.gz`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Warc => "warc",
            Kind::Wet => "wet",
            Kind::Wat => "wat",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = CcError;
    fn from_str(s: &str) -> Result<Kind, CcError> {
        match s.to_ascii_lowercase().as_str() {
            "warc" => Ok(Kind::Warc),
            "wet" => Ok(Kind::Wet),
            "wat" => Ok(Kind::Wat),
            _ => Err(CcError::BadKind(s.to_string())),
        }
    }
}

/// Checks that `crawl` looks like `CC-MAIN-YYYY-WW` (it becomes part of a URL).
pub fn check_crawl(crawl: &str) -> Result<(), CcError> {
    let ok = crawl
        .strip_prefix("CC-MAIN-")
        .and_then(|r| r.split_once('-'))
        .is_some_and(|(y, w)| {
            y.len() == 4
                && w.len() == 2
                && y.bytes().all(|b| b.is_ascii_digit())
                && w.bytes().all(|b| b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(CcError::BadCrawl(crawl.to_string()))
    }
}

/// The URL of an object below `base` (`https://…` or `s3://bucket`).
pub fn object_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// The URL of a crawl's listing of `kind` files.
pub fn listing_url(base: &str, crawl: &str, kind: Kind) -> String {
    object_url(
        base,
        &format!("crawl-data/{crawl}/{}.paths.gz", kind.as_str()),
    )
}

/// Reads a crawl's listing: the object paths, in the listing's order.
pub fn list_paths(base: &str, crawl: &str, kind: Kind) -> Result<Vec<String>, CcError> {
    check_crawl(crawl)?;
    let url = listing_url(base, crawl, kind);
    let gz = fetch_bytes(&url)?;
    parse_listing(&url, &gz)
}

/// Decompresses and splits a `*.paths.gz` listing.
pub fn parse_listing(url: &str, gz: &[u8]) -> Result<Vec<String>, CcError> {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(gz)
        .read_to_string(&mut text)
        .map_err(|e| CcError::BadListing {
            url: url.to_string(),
            message: e.to_string(),
        })?;
    let paths: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = paths.iter().find(|p| p.contains("..") || p.contains("://")) {
        return Err(CcError::BadListing {
            url: url.to_string(),
            message: format!("unexpected entry `{bad}` (expected relative object paths)"),
        });
    }
    Ok(paths)
}

/// Selects paths `i, i+n, i+2n, …` (shard `i` of `n`, the same striding as pipeline tasks).
pub fn shard<T: Clone>(items: &[T], i: usize, n: usize) -> Result<Vec<T>, CcError> {
    if n == 0 || i >= n {
        return Err(CcError::BadSelection(format!(
            "shard {i}/{n}: need 0 <= i < n"
        )));
    }
    Ok(items.iter().skip(i).step_by(n).cloned().collect())
}

/// Parses `i/n` (a shard selector).
pub fn parse_shard(s: &str) -> Result<(usize, usize), CcError> {
    let bad = || CcError::BadSelection(format!("`{s}` is not a shard like 3/100"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    Ok((
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    ))
}

/// Selects items `a..b` (half-open, 0-based; `a..` runs to the end), clamped to the list: a slice
/// that starts past the end is an error, since it would silently select nothing.
pub fn slice<T: Clone>(items: &[T], spec: &str) -> Result<Vec<T>, CcError> {
    let bad = || CcError::BadSelection(format!("`{spec}` is not a slice like 0..10 or 5.."));
    let (a, b) = spec.split_once("..").ok_or_else(bad)?;
    let a: usize = if a.trim().is_empty() {
        0
    } else {
        a.trim().parse().map_err(|_| bad())?
    };
    let b: usize = if b.trim().is_empty() {
        items.len()
    } else {
        b.trim().parse().map_err(|_| bad())?
    };
    if a >= b || a >= items.len() {
        return Err(CcError::BadSelection(format!(
            "slice {spec} selects nothing from {} path(s)",
            items.len()
        )));
    }
    Ok(items[a..b.min(items.len())].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn crawl_names_kinds_and_urls() {
        assert!(check_crawl("CC-MAIN-2024-10").is_ok());
        for bad in [
            "CC-MAIN-24-10",
            "CC-MAIN-2024-1",
            "CC-MAIN-2024-10/../x",
            "x",
        ] {
            assert!(check_crawl(bad).is_err(), "{bad}");
        }
        assert_eq!("WET".parse::<Kind>().unwrap(), Kind::Wet);
        assert!("warcs".parse::<Kind>().is_err());
        assert_eq!(
            listing_url(
                "https://data.commoncrawl.org/",
                "CC-MAIN-2024-10",
                Kind::Wat
            ),
            "https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-10/wat.paths.gz"
        );
        assert_eq!(
            object_url("s3://commoncrawl", "/crawl-data/x.warc.gz"),
            "s3://commoncrawl/crawl-data/x.warc.gz"
        );
    }

    #[test]
    fn listings_shards_and_slices() {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"a/1.warc.gz\na/2.warc.gz\n\na/3.warc.gz\n")
            .unwrap();
        let gz = e.finish().unwrap();
        let p = parse_listing("u", &gz).unwrap();
        assert_eq!(p, ["a/1.warc.gz", "a/2.warc.gz", "a/3.warc.gz"]);
        assert!(parse_listing("u", b"plain text").is_err());
        assert_eq!(shard(&p, 1, 2).unwrap(), ["a/2.warc.gz"]);
        assert_eq!(shard(&p, 0, 2).unwrap(), ["a/1.warc.gz", "a/3.warc.gz"]);
        assert!(shard(&p, 2, 2).is_err());
        assert_eq!(parse_shard("3/100").unwrap(), (3, 100));
        assert!(parse_shard("3").is_err());
        assert_eq!(slice(&p, "1..").unwrap(), ["a/2.warc.gz", "a/3.warc.gz"]);
        assert_eq!(slice(&p, "0..1").unwrap(), ["a/1.warc.gz"]);
        assert_eq!(slice(&p, "..9").unwrap().len(), 3);
        assert!(slice(&p, "3..4").is_err());
        assert!(slice(&p, "2..1").is_err());
        assert!(slice(&p, "x").is_err());
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b"../etc/passwd\n").unwrap();
        assert!(parse_listing("u", &e.finish().unwrap()).is_err());
    }
}
