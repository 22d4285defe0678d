//! A folder of intermediate files that may live on S3, worked on through a local copy.
//!
//! Multi-stage jobs (the dedup stages) run as separate processes, possibly on different machines,
//! and share their intermediates only through that folder. When it is `s3://…`, each process gets a
//! fresh local copy ([`WorkDir::open`]), downloads just the files its stage reads ([`WorkDir::pull`]
//! with a filter on relative paths), runs the stage on local files, and uploads what the stage wrote
//! ([`WorkDir::push`]): data first, manifests next, completion markers last, so a marker on the
//! bucket vouches for files that are already there. The copy is removed afterwards
//! ([`WorkDir::close`]), so no stale local state can leak into a later stage. A local folder is
//! worked on in place and every call is a no-op.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use futures::StreamExt;
use object_store::ObjectStoreExt;

use super::{remote, upload, Location, StorageError, UploadSummary};

/// How a process holds its local copy of a remote work folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyMode {
    /// A copy of its own (one stage task): emptied when opened, removed when closed. What the stage
    /// writes there is what [`WorkDir::push`] uploads.
    Private,
    /// A copy that processes on one machine share and only read from (e.g. every filter task of a
    /// run, whose recipe must name one folder): kept between processes, and [`WorkDir::pull`]
    /// always downloads afresh (atomically, so a concurrent reader sees one version or the other).
    Shared,
}

/// The folder of intermediates of one stage process.
#[derive(Debug)]
pub struct WorkDir {
    local: PathBuf,
    remote: Option<Location>,
    mode: CopyMode,
    /// Local files (relative path → size, mtime) as they were after the last pull.
    baseline: BTreeMap<String, (u64, Option<SystemTime>)>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl WorkDir {
    /// Opens the folder `path`. A local path is used in place. For `s3://…` the local copy is
    /// `STAGING/work-<hash of the URL>/<slot>`; `slot` names the stage and task, so concurrent
    /// processes on one machine never share a private copy, and the same task always gets the same
    /// path (recipes that record it stay reproducible). `STAGING` is `staging`, else
    /// `QUARRY_STAGING`, else `quarry-staging` in the system temp folder.
    pub fn open(
        path: &str,
        staging: Option<&Path>,
        slot: &str,
        mode: CopyMode,
    ) -> Result<WorkDir, StorageError> {
        match Location::parse(path)? {
            Location::Local(p) => Ok(WorkDir {
                local: p,
                remote: None,
                mode,
                baseline: BTreeMap::new(),
            }),
            loc @ Location::S3 { .. } => {
                let root = staging.map_or_else(super::staging_root, Path::to_path_buf);
                let local = root
                    .join(format!("work-{}", super::location_tag(&loc)))
                    .join(slot);
                if mode == CopyMode::Private && local.exists() {
                    std::fs::remove_dir_all(&local).map_err(io(&local))?;
                }
                std::fs::create_dir_all(&local).map_err(io(&local))?;
                Ok(WorkDir {
                    local,
                    remote: Some(loc),
                    mode,
                    baseline: BTreeMap::new(),
                })
            }
            Location::Http(u) => Err(StorageError::BadLocation(format!(
                "{u} (a work folder is a local path or s3://bucket/prefix)"
            ))),
        }
    }

    /// The local folder the stage reads and writes.
    pub fn path(&self) -> &Path {
        &self.local
    }

    /// The folder on the store, when it is remote.
    pub fn remote(&self) -> Option<&Location> {
        self.remote.as_ref()
    }

    /// Downloads every object below the remote folder whose relative path (`/`-separated) passes
    /// `want` (in a private copy: unless already there with the same size); then records the local
    /// state that [`WorkDir::push`] compares against. Returns what was downloaded.
    pub fn pull(&mut self, want: impl Fn(&str) -> bool) -> Result<UploadSummary, StorageError> {
        let mut got = UploadSummary::default();
        if let Some(r) = &self.remote {
            for (rel, size) in list_below(r)? {
                if !want(&rel) || is_temp(&rel) {
                    continue;
                }
                let dest = self.local.join(&rel);
                if self.mode == CopyMode::Private
                    && std::fs::metadata(&dest).ok().map(|m| m.len()) == Some(size)
                {
                    continue;
                }
                download(&r.join(&rel), &dest)?;
                got.files += 1;
                got.bytes += size;
            }
        }
        self.baseline = self.snapshot()?;
        Ok(got)
    }

    fn snapshot(&self) -> Result<BTreeMap<String, (u64, Option<SystemTime>)>, StorageError> {
        let mut out = BTreeMap::new();
        if self.remote.is_none() || !self.local.exists() {
            return Ok(out);
        }
        let mut files = Vec::new();
        upload::walk(&self.local, &self.local, &mut files)?;
        for rel in files {
            let p = self.local.join(&rel);
            let m = std::fs::metadata(&p).map_err(io(&p))?;
            out.insert(
                rel.to_string_lossy().replace('\\', "/"),
                (m.len(), m.modified().ok()),
            );
        }
        Ok(out)
    }

    /// Uploads the files that are new or changed since the last pull (data, then manifests, then
    /// markers); a no-op for a local folder. Returns what was uploaded.
    pub fn push(&mut self) -> Result<UploadSummary, StorageError> {
        let mut s = UploadSummary::default();
        let Some(r) = &self.remote else {
            return Ok(s);
        };
        let now = self.snapshot()?;
        let mut changed: Vec<&String> = now
            .iter()
            .filter(|(rel, st)| self.baseline.get(*rel) != Some(st))
            .map(|(rel, _)| rel)
            .collect();
        changed.sort_by_key(|rel| (upload::upload_rank(Path::new(rel.as_str())), (*rel).clone()));
        for rel in changed {
            s.bytes += super::put_file(&self.local.join(rel), &r.join(rel))?;
            s.files += 1;
        }
        self.baseline = now;
        Ok(s)
    }

    /// Removes a private local copy of a remote folder (a shared copy stays for the other
    /// processes; a local folder is the folder).
    pub fn close(self) -> Result<(), StorageError> {
        if self.remote.is_some() && self.mode == CopyMode::Private && self.local.exists() {
            std::fs::remove_dir_all(&self.local).map_err(io(&self.local))?;
        }
        Ok(())
    }
}

/// Copies `src` to `dst` (each a local path or s3://): a single file to the other path, or every
/// file below a folder to the same relative path below `dst`, skipping files that `dst` already
/// has with the same size. Files go in publishing order: data, then manifests, then markers, so a
/// reader of `dst` never sees a marker before what it vouches for. Temporary names (`.name`) are
/// skipped. Returns what was copied. (`quarry storage sync`; how launched jobs stage S3 data.)
pub fn sync(src: &Location, dst: &Location) -> Result<UploadSummary, StorageError> {
    let mut s = UploadSummary::default();
    let files = files_below(src)?;
    if files.is_empty() {
        return Err(StorageError::NoMatch(src.to_string()));
    }
    let present: BTreeMap<String, u64> = if files.len() == 1 && files[0].0.is_empty() {
        BTreeMap::new()
    } else {
        files_below(dst).unwrap_or_default().into_iter().collect()
    };
    let mut todo: Vec<(String, u64)> = files
        .into_iter()
        .filter(|(rel, size)| !is_temp(rel) && (rel.is_empty() || present.get(rel) != Some(size)))
        .collect();
    todo.sort_by_key(|(rel, _)| (upload::upload_rank(Path::new(rel)), rel.clone()));
    for (rel, size) in todo {
        let (from, to) = if rel.is_empty() {
            (src.clone(), dst.clone())
        } else {
            (src.join(&rel), dst.join(&rel))
        };
        copy_one(&from, &to)?;
        s.files += 1;
        s.bytes += size;
    }
    Ok(s)
}

/// Files below `loc` as (relative path, size); a single file is `("", size)`; nothing when absent.
fn files_below(loc: &Location) -> Result<Vec<(String, u64)>, StorageError> {
    match loc {
        Location::Local(p) if p.is_file() => Ok(vec![(
            String::new(),
            std::fs::metadata(p).map_err(io(p))?.len(),
        )]),
        Location::Local(p) if p.is_dir() => {
            let mut files = Vec::new();
            upload::walk(p, p, &mut files)?;
            files
                .into_iter()
                .map(|rel| {
                    let full = p.join(&rel);
                    let size = std::fs::metadata(&full).map_err(io(&full))?.len();
                    Ok((rel.to_string_lossy().replace('\\', "/"), size))
                })
                .collect()
        }
        Location::Local(_) => Ok(Vec::new()),
        Location::S3 { .. } => {
            let below = list_below(loc)?;
            if !below.is_empty() {
                return Ok(below);
            }
            // not a folder: maybe one object
            let name = loc.to_string();
            let (store, path) = remote::store_for(loc)?;
            match remote::runtime().block_on(store.head(&path)) {
                Ok(m) => Ok(vec![(String::new(), m.size)]),
                Err(object_store::Error::NotFound { .. }) => Ok(Vec::new()),
                Err(e) => Err(remote::remote_err(&name, e)),
            }
        }
        Location::Http(_) => Err(StorageError::BadLocation(format!(
            "{loc} (sync copies between local paths and s3://)"
        ))),
    }
}

fn copy_one(from: &Location, to: &Location) -> Result<(), StorageError> {
    match (from, to) {
        (Location::Local(f), _) => super::put_file(f, to).map(|_| ()),
        (_, Location::Local(t)) => download(from, t),
        _ => {
            // store to store: through a local temporary file
            static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let tmp = std::env::temp_dir().join(format!(
                ".quarry-sync-{}-{}",
                std::process::id(),
                N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ));
            let r = copy_one(from, &Location::Local(tmp.clone()))
                .and_then(|_| super::put_file(&tmp, to).map(|_| ()));
            let _ = std::fs::remove_file(&tmp);
            r
        }
    }
}

/// Downloads `from` to `dest` through a temporary name unique to this process and call, then
/// renames it: processes that share a copy may fetch the same file at once, and each rename puts a
/// whole file in place.
fn download(from: &Location, dest: &Path) -> Result<(), StorageError> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dest.with_file_name(format!(
        ".{name}.dl-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let r = (|| {
        let mut src = super::open_read(from)?;
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        std::io::copy(&mut src, &mut f).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, dest).map_err(io(dest))
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

/// Temporary names of atomic writes (`.name.tmp…`) are never copied.
fn is_temp(rel: &str) -> bool {
    rel.rsplit('/').next().is_some_and(|n| n.starts_with('.'))
}

/// Every object below `dir` as (path relative to `dir`, size), sorted.
fn list_below(dir: &Location) -> Result<Vec<(String, u64)>, StorageError> {
    let name = dir.to_string();
    let (store, prefix) = remote::store_for(dir)?;
    let strip = format!("{}/", prefix.as_ref().trim_end_matches('/'));
    let metas: Vec<_> =
        remote::runtime().block_on(async { store.list(Some(&prefix)).collect::<Vec<_>>().await });
    let mut out = Vec::new();
    for m in metas {
        let m = m.map_err(|e| remote::remote_err(&name, e))?;
        if let Some(rel) = m.location.as_ref().strip_prefix(&strip) {
            out.push((rel.to_string(), m.size));
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_folder_is_used_in_place_and_calls_are_no_ops() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("work");
        let mut w = WorkDir::open(&p.display().to_string(), None, "x", CopyMode::Private).unwrap();
        assert_eq!(w.path(), p);
        assert!(w.remote().is_none());
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("a"), b"1").unwrap();
        assert_eq!(w.pull(|_| true).unwrap(), UploadSummary::default());
        assert_eq!(w.push().unwrap(), UploadSummary::default());
        w.close().unwrap();
        assert!(
            p.join("a").exists(),
            "a local folder is the folder, not a copy"
        );
    }

    #[test]
    fn sync_copies_folders_and_files_in_publishing_order_and_skips_what_is_there() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src");
        for (rel, body) in [
            ("shards/a.parquet", "aaaa"),
            ("_markers/task-00000.done", "x"),
            ("manifest.json", "{}"),
            (".tmp-partial", "no"),
        ] {
            std::fs::create_dir_all(src.join(rel).parent().unwrap()).unwrap();
            std::fs::write(src.join(rel), body).unwrap();
        }
        let dst = d.path().join("dst");
        let s = sync(&Location::Local(src.clone()), &Location::Local(dst.clone())).unwrap();
        assert_eq!((s.files, s.bytes), (3, 7));
        assert_eq!(
            std::fs::read(dst.join("shards/a.parquet")).unwrap(),
            b"aaaa"
        );
        assert!(!dst.join(".tmp-partial").exists());
        // a second sync finds everything there
        let s = sync(&Location::Local(src.clone()), &Location::Local(dst.clone())).unwrap();
        assert_eq!(s.files, 0);
        // one file to another path
        let one = d.path().join("one/copy.parquet");
        sync(
            &Location::Local(src.join("shards/a.parquet")),
            &Location::Local(one.clone()),
        )
        .unwrap();
        assert_eq!(std::fs::read(one).unwrap(), b"aaaa");
        assert!(sync(
            &Location::Local(d.path().join("absent")),
            &Location::Local(dst)
        )
        .is_err());
    }

    #[test]
    fn temp_names_are_recognised() {
        assert!(is_temp("buckets/003/.task-00000.bin.tmp123"));
        assert!(!is_temp("buckets/003/task-00000.bin"));
    }
}
