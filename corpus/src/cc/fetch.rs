//! Downloading a slice of a crawl: bounded parallelism, retries with exponential backoff and full
//! jitter, resume via `Range`, size checks, and a manifest (path, size, sha256).
//!
//! Two layers retry. `object_store` retries each request (5xx, 429, `SlowDown`, connection resets;
//! `QUARRY_RETRIES`); on top of that a download that still fails, or whose body is cut off, is
//! attempted again from where its `.partial` file ends, after a backoff of
//! `random(0, min(max_backoff, backoff * 2^attempt))` (full jitter, so many clients hitting the
//! same throttled bucket spread out instead of retrying in lockstep).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use object_store::path::Path as ObjPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;

use super::{object_url, CcError};
use crate::storage::{sha256_file, write_atomic, Location};

/// File name of the fetch manifest inside the output folder.
pub const FETCH_MANIFEST: &str = "cc-manifest.json";

/// How to download.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Downloads in flight at once.
    pub jobs: usize,
    /// Attempts after the first, per file.
    pub retries: u32,
    /// First backoff; doubles per attempt (before jitter).
    pub backoff: Duration,
    /// Backoff cap.
    pub max_backoff: Duration,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            jobs: 4,
            retries: 8,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// One downloaded file, as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FetchedFile {
    /// Path as in the crawl's listing (and below the output folder).
    pub path: String,
    /// Where it came from.
    pub url: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Lower-case hex sha256.
    pub sha256: String,
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Manifest {
    format: String,
    files: Vec<FetchedFile>,
}

/// What [`fetch_paths`] did.
#[derive(Debug, Clone, Default)]
pub struct FetchReport {
    /// Files downloaded now (completely or by resuming a partial file).
    pub downloaded: Vec<FetchedFile>,
    /// Files that were already complete in the output folder.
    pub already: usize,
    /// Bytes received over the network now.
    pub bytes_received: u64,
    /// Bytes that resumed downloads did not have to fetch again.
    pub bytes_resumed: u64,
    /// Download attempts that failed and were retried.
    pub retries: u64,
    /// The manifest file.
    pub manifest: PathBuf,
}

/// Per file: its listing path and the download's outcome (`true`: it was already complete).
type Outcome = (String, Result<(FetchedFile, bool), String>);

#[derive(Default)]
struct Stats {
    received: AtomicU64,
    resumed: AtomicU64,
    retries: AtomicU64,
}

/// Downloads `paths` (relative to `base`) into `out/<path>`, then writes `out/cc-manifest.json`
/// listing every file fetched into `out` so far (this run and earlier ones), sorted by path.
/// Files already complete are not downloaded again. Failed files are reported together at the end
/// (the others are kept and recorded).
pub fn fetch_paths(
    base: &str,
    paths: &[String],
    out: &Path,
    opts: &FetchOptions,
) -> Result<FetchReport, CcError> {
    let manifest_path = out.join(FETCH_MANIFEST);
    let mut known: BTreeMap<String, FetchedFile> = std::fs::read(&manifest_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
        .map(|m| m.files.into_iter().map(|f| (f.path.clone(), f)).collect())
        .unwrap_or_default();
    let stats = Arc::new(Stats::default());
    let mut report = FetchReport {
        manifest: manifest_path.clone(),
        ..Default::default()
    };
    let mut todo = Vec::new();
    for p in paths {
        let dest = out.join(p);
        let size = std::fs::metadata(&dest).ok().map(|m| m.len());
        match (known.get(p), size) {
            (Some(f), Some(s)) if f.bytes == s => report.already += 1,
            _ => todo.push(p.clone()),
        }
    }
    let results: Vec<Outcome> = crate::storage::io_runtime().block_on(async {
        futures::stream::iter(todo.into_iter().map(|p| {
            let url = object_url(base, &p);
            let dest = out.join(&p);
            let stats = stats.clone();
            let opts = opts.clone();
            async move {
                let r = fetch_one(&p, &url, &dest, &opts, &stats).await;
                (p, r)
            }
        }))
        .buffer_unordered(opts.jobs.max(1))
        .collect()
        .await
    });
    let total = results.len() + report.already;
    let mut failed = Vec::new();
    for (p, r) in results {
        match r {
            Ok((f, was_present)) => {
                if was_present {
                    report.already += 1;
                } else {
                    report.downloaded.push(f.clone());
                }
                known.insert(p, f);
            }
            Err(e) => failed.push(format!("  {p}: {e}")),
        }
    }
    report.downloaded.sort_by(|a, b| a.path.cmp(&b.path));
    report.bytes_received = stats.received.load(Ordering::Relaxed);
    report.bytes_resumed = stats.resumed.load(Ordering::Relaxed);
    report.retries = stats.retries.load(Ordering::Relaxed);
    let m = Manifest {
        format: "quarry-cc-fetch/1".to_string(),
        files: known.into_values().collect(),
    };
    std::fs::create_dir_all(out).map_err(|source| crate::storage::StorageError::Io {
        path: out.display().to_string(),
        source,
    })?;
    write_atomic(
        &manifest_path,
        &serde_json::to_vec_pretty(&m).expect("manifest serialises"),
    )
    .map_err(|source| crate::storage::StorageError::Io {
        path: manifest_path.display().to_string(),
        source,
    })?;
    if !failed.is_empty() {
        failed.sort();
        return Err(CcError::Failed {
            failed: failed.len(),
            total,
            details: failed.join("\n"),
        });
    }
    Ok(report)
}

/// Whether an error is worth retrying.
enum Attempt {
    Retry(String),
    Fatal(String),
}

fn classify(e: object_store::Error) -> Attempt {
    match e {
        object_store::Error::NotFound { .. }
        | object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => Attempt::Fatal(e.to_string()),
        other => Attempt::Retry(other.to_string()),
    }
}

/// Downloads one file; `Ok((file, true))` when it was already complete on disk.
async fn fetch_one(
    rel: &str,
    url: &str,
    dest: &Path,
    opts: &FetchOptions,
    stats: &Stats,
) -> Result<(FetchedFile, bool), String> {
    let loc = Location::parse(url).map_err(|e| e.to_string())?;
    let (store, path) = crate::storage::remote_store(&loc).map_err(|e| e.to_string())?;
    let partial = PathBuf::from(format!("{}.partial", dest.display()));
    if let Some(dir) = dest.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut attempt = 0u32;
    let size = loop {
        let err = match try_once(&store, &path, dest, &partial, stats).await {
            Ok(s) => break s,
            Err(Attempt::Fatal(e)) => return Err(e),
            Err(Attempt::Retry(e)) => e,
        };
        if attempt >= opts.retries {
            return Err(format!("gave up after {} attempt(s): {err}", attempt + 1));
        }
        let wait = backoff(opts, attempt);
        tracing::warn!(
            "{url}: {err}; retry {} of {} in {:.1}s",
            attempt + 1,
            opts.retries,
            wait.as_secs_f64()
        );
        stats.retries.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(wait).await;
        attempt += 1;
    };
    let (file, present) = match size {
        Done::AlreadyThere(s) => (dest.to_path_buf(), Some(s)),
        Done::Partial => (partial.clone(), None),
    };
    let hashed = file.clone();
    let (sha, bytes) = tokio::task::spawn_blocking(move || sha256_file(&hashed))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{}: {e}", file.display()))?;
    if present.is_none() {
        tokio::fs::rename(&partial, dest)
            .await
            .map_err(|e| format!("{}: {e}", dest.display()))?;
    }
    Ok((
        FetchedFile {
            path: rel.to_string(),
            url: url.to_string(),
            bytes,
            sha256: sha,
        },
        present.is_some(),
    ))
}

enum Done {
    /// `dest` already exists with the server's size.
    AlreadyThere(u64),
    /// `.partial` holds the whole object.
    Partial,
}

/// One attempt: asks the size, then requests the bytes after what `.partial` holds.
async fn try_once(
    store: &Arc<dyn ObjectStore>,
    path: &ObjPath,
    dest: &Path,
    partial: &Path,
    stats: &Stats,
) -> Result<Done, Attempt> {
    let size = store.head(path).await.map_err(classify)?.size;
    if let Ok(m) = tokio::fs::metadata(dest).await {
        if m.len() == size {
            return Ok(Done::AlreadyThere(size));
        }
    }
    let mut have = tokio::fs::metadata(partial)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    if have > size {
        // Longer than the object: not a prefix of it, start over.
        let _ = tokio::fs::remove_file(partial).await;
        have = 0;
    }
    if have < size {
        if have > 0 {
            stats.resumed.fetch_add(have, Ordering::Relaxed);
        }
        let opts = if have > 0 {
            GetOptions::new().with_range(Some(GetRange::Offset(have)))
        } else {
            GetOptions::new()
        };
        let r = store.get_opts(path, opts).await.map_err(classify)?;
        if r.meta.size != size {
            return Err(Attempt::Retry(format!(
                "object size changed from {size} to {} bytes during the download",
                r.meta.size
            )));
        }
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(partial)
            .await
            .map_err(|e| Attempt::Fatal(format!("{}: {e}", partial.display())))?;
        let mut stream = r.into_stream();
        let mut res = Ok(());
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(b) => {
                    if let Err(e) = f.write_all(&b).await {
                        return Err(Attempt::Fatal(format!("{}: {e}", partial.display())));
                    }
                    stats.received.fetch_add(b.len() as u64, Ordering::Relaxed);
                }
                Err(e) => {
                    res = Err(classify(e));
                    break;
                }
            }
        }
        f.flush()
            .await
            .map_err(|e| Attempt::Fatal(format!("{}: {e}", partial.display())))?;
        f.sync_all()
            .await
            .map_err(|e| Attempt::Fatal(format!("{}: {e}", partial.display())))?;
        res?;
    }
    let got = tokio::fs::metadata(partial)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    if got != size {
        return Err(Attempt::Retry(format!(
            "got {got} of {size} bytes (Content-Length)"
        )));
    }
    Ok(Done::Partial)
}

/// `random(0, min(max, base * 2^attempt))`, at least 1 ms.
fn backoff(opts: &FetchOptions, attempt: u32) -> Duration {
    let cap = opts
        .backoff
        .saturating_mul(1u32 << attempt.min(20))
        .min(opts.max_backoff);
    let r = jitter();
    Duration::from_secs_f64((cap.as_secs_f64() * r).max(0.001))
}

/// A number in [0, 1) that differs between calls and processes (no RNG dependency needed: it only
/// spreads retries out in time).
fn jitter() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = t
        ^ (std::process::id() as u64).rotate_left(32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // splitmix64 finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped_with_jitter() {
        let o = FetchOptions {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            ..Default::default()
        };
        let mut seen = std::collections::BTreeSet::new();
        for attempt in 0..10 {
            let cap = (100u64 << attempt).min(1000);
            for _ in 0..50 {
                let b = backoff(&o, attempt);
                assert!(b <= Duration::from_millis(cap), "{b:?} > {cap} ms");
                seen.insert(b.as_micros());
            }
        }
        // Jitter: waits differ.
        assert!(seen.len() > 100, "{}", seen.len());
    }
}
