//! Parsing locations and expanding input globs.

use std::fmt;
use std::path::PathBuf;

use super::{remote, StorageError};

/// Where a file lives.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// A local path.
    Local(PathBuf),
    /// An `http://` or `https://` URL.
    Http(String),
    /// An object in S3 (or an S3-compatible server).
    S3 {
        /// Bucket name.
        bucket: String,
        /// Object key (no leading slash).
        key: String,
    },
}

impl Location {
    /// Parses `s3://bucket/key`, `http(s)://...` or a local path.
    pub fn parse(s: &str) -> Result<Location, StorageError> {
        if let Some(rest) = s.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StorageError::BadLocation(s.to_string()));
            }
            Ok(Location::S3 {
                bucket: bucket.to_string(),
                key: key.to_string(),
            })
        } else if s.starts_with("http://") || s.starts_with("https://") {
            Ok(Location::Http(s.to_string()))
        } else if s.contains("://") {
            Err(StorageError::BadLocation(s.to_string()))
        } else {
            Ok(Location::Local(PathBuf::from(s)))
        }
    }

    /// The file name part (after the last `/`).
    pub fn file_name(&self) -> &str {
        let s = match self {
            Location::Local(p) => return p.file_name().and_then(|n| n.to_str()).unwrap_or(""),
            Location::Http(u) => u.split(['?', '#']).next().unwrap_or(u),
            Location::S3 { key, .. } => key.as_str(),
        };
        s.rsplit('/').next().unwrap_or(s)
    }

    /// The location of `rel` (a `/`-separated relative path) below this one.
    pub fn join(&self, rel: &str) -> Location {
        let rel = rel.trim_start_matches('/');
        match self {
            Location::Local(p) => Location::Local(p.join(rel)),
            Location::Http(u) => Location::Http(format!("{}/{rel}", u.trim_end_matches('/'))),
            Location::S3 { bucket, key } => Location::S3 {
                bucket: bucket.clone(),
                key: if key.trim_matches('/').is_empty() {
                    rel.to_string()
                } else {
                    format!("{}/{rel}", key.trim_end_matches('/'))
                },
            },
        }
    }

    /// Whether this is a remote (S3 or HTTP) location.
    pub fn is_remote(&self) -> bool {
        !matches!(self, Location::Local(_))
    }

    /// The local path, if this is a local location.
    pub fn as_local(&self) -> Option<&std::path::Path> {
        match self {
            Location::Local(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Local(p) => write!(f, "{}", p.display()),
            Location::Http(u) => f.write_str(u),
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// One input file with its size (when the store tells it before reading).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputFile {
    /// Where it is.
    pub location: Location,
    /// Its size in bytes, when known.
    pub size: Option<u64>,
}

/// Expands input patterns into a sorted, de-duplicated list of files.
///
/// Local patterns are globs (`data/*.warc.gz`); a local directory means every file below it; S3
/// patterns may glob the key (`s3://bucket/crawl/*.warc.gz`, listed by the prefix before the first
/// wildcard); HTTP URLs are taken as they are. Sorting makes task assignment deterministic. A pattern
/// that matches nothing is an error, since a silent empty run hides a typo.
pub fn list_inputs(patterns: &[String]) -> Result<Vec<InputFile>, StorageError> {
    let mut out = Vec::new();
    for pat in patterns {
        let before = out.len();
        match Location::parse(pat)? {
            Location::Local(p) => {
                if p.is_dir() {
                    walk_dir(&p, &mut out)?;
                } else {
                    let s = p.to_string_lossy().to_string();
                    let paths = glob::glob(&s)
                        .map_err(|e| StorageError::BadLocation(format!("{s}: {e}")))?;
                    for entry in paths {
                        let path = entry.map_err(|e| StorageError::Io {
                            path: e.path().display().to_string(),
                            source: std::io::Error::other(e.to_string()),
                        })?;
                        if path.is_file() {
                            let size = std::fs::metadata(&path).ok().map(|m| m.len());
                            out.push(InputFile {
                                location: Location::Local(path),
                                size,
                            });
                        } else if path.is_dir() {
                            walk_dir(&path, &mut out)?;
                        }
                    }
                }
            }
            loc @ Location::Http(_) => out.push(InputFile {
                location: loc,
                size: None,
            }),
            Location::S3 { bucket, key } => remote::list_s3(&bucket, &key, &mut out)?,
        }
        if out.len() == before {
            return Err(StorageError::NoMatch(pat.clone()));
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.location == b.location);
    Ok(out)
}

fn walk_dir(dir: &std::path::Path, out: &mut Vec<InputFile>) -> Result<(), StorageError> {
    let rd = std::fs::read_dir(dir).map_err(|source| StorageError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Hidden files are temp files and markers of our own writers.
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if p.is_dir() {
            walk_dir(&p, out)?;
        } else if p.is_file() {
            let size = std::fs::metadata(&p).ok().map(|m| m.len());
            out.push(InputFile {
                location: Location::Local(p),
                size,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locations() {
        assert_eq!(
            Location::parse("s3://b/k/x.warc.gz").unwrap(),
            Location::S3 {
                bucket: "b".into(),
                key: "k/x.warc.gz".into()
            }
        );
        assert!(matches!(
            Location::parse("https://h/x").unwrap(),
            Location::Http(_)
        ));
        assert!(matches!(
            Location::parse("a/b").unwrap(),
            Location::Local(_)
        ));
        assert!(Location::parse("ftp://x").is_err());
        assert_eq!(
            Location::parse("https://h/a/b.warc.gz?x=1")
                .unwrap()
                .file_name(),
            "b.warc.gz"
        );
        let s3 = Location::parse("s3://b/out/").unwrap();
        assert_eq!(s3.join("shards/x").to_string(), "s3://b/out/shards/x");
        assert_eq!(
            Location::parse("s3://b").unwrap().join("x").to_string(),
            "s3://b/x"
        );
    }

    #[test]
    fn globs_sorted_and_no_match_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        for n in ["b.jsonl", "a.jsonl", "c.txt"] {
            std::fs::write(d.path().join(n), "x").unwrap();
        }
        let pat = format!("{}/*.jsonl", d.path().display());
        let files = list_inputs(&[pat]).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|f| f.location.file_name().to_string())
            .collect();
        assert_eq!(names, ["a.jsonl", "b.jsonl"]);
        let err = list_inputs(&[format!("{}/*.nothing", d.path().display())]).unwrap_err();
        assert!(err.to_string().contains("no input matches"));
    }
}
