//! Writing to S3 (and, through the same calls, to local paths): whole files, small objects,
//! existence checks, and deleting what an interrupted run left.
//!
//! S3 makes an object visible only when its `PUT` or `CompleteMultipartUpload` succeeds, so an
//! upload is atomic by itself; a failed multipart upload is aborted so its parts are not kept (and
//! billed). Callers that publish several objects upload the data first and the marker that says
//! "complete" last ([`upload_tree`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use super::{remote, Location, RemoteSettings, StorageError};

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Copies a local file to `dest`: a local path (atomic rename) or an S3 object (single `PUT` below
/// `QUARRY_S3_MULTIPART_THRESHOLD`, multipart upload above). Returns the bytes written.
pub fn put_file(local: &Path, dest: &Location) -> Result<u64, StorageError> {
    match dest {
        Location::S3 { .. } => {
            let settings =
                remote::settings().map_err(|e| remote::remote_err(&dest.to_string(), e))?;
            put_file_with(local, dest, &settings)
        }
        _ => put_file_with(local, dest, &RemoteSettings::default()),
    }
}

/// [`put_file`] with explicit retry and multipart settings instead of the `QUARRY_*` variables.
pub fn put_file_with(
    local: &Path,
    dest: &Location,
    settings: &RemoteSettings,
) -> Result<u64, StorageError> {
    let size = std::fs::metadata(local).map_err(io(local))?.len();
    match dest {
        Location::Local(p) => {
            let mut f = super::AtomicFile::create(p).map_err(io(p))?;
            let mut src = std::fs::File::open(local).map_err(io(local))?;
            std::io::copy(&mut src, &mut f).map_err(io(p))?;
            f.commit().map_err(io(p))?;
            Ok(size)
        }
        Location::Http(_) => Err(StorageError::BadLocation(format!(
            "{dest} (outputs go to a local path or s3://)"
        ))),
        Location::S3 { .. } => {
            let name = dest.to_string();
            let (store, path) = remote::store_for_with(dest, settings)?;
            if size < settings.multipart_threshold {
                let data = std::fs::read(local).map_err(io(local))?;
                remote::runtime()
                    .block_on(store.put(&path, PutPayload::from(data)))
                    .map_err(|e| remote::remote_err(&name, e))?;
            } else {
                multipart(
                    &store,
                    &path,
                    local,
                    settings.part_size,
                    settings.concurrency,
                )
                .map_err(|e| remote::remote_err(&name, e))?;
            }
            tracing::debug!(dest = %name, bytes = size, "uploaded");
            Ok(size)
        }
    }
}

/// Uploads a file in parts of `part_size` bytes, at most `concurrency` in flight; aborts the
/// upload on any error so no half object (and no orphan parts) remain.
fn multipart(
    store: &std::sync::Arc<dyn ObjectStore>,
    path: &ObjPath,
    local: &Path,
    part_size: usize,
    concurrency: usize,
) -> Result<(), String> {
    let mut file = std::fs::File::open(local).map_err(|e| format!("{}: {e}", local.display()))?;
    remote::runtime().block_on(async {
        let upload = store.put_multipart(path).await.map_err(|e| e.to_string())?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, part_size);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = w.abort().await;
                    return Err(format!("{}: {e}", local.display()));
                }
            };
            if let Err(e) = w.wait_for_capacity(concurrency).await {
                let _ = w.abort().await;
                return Err(e.to_string());
            }
            w.write(&buf[..n]);
        }
        // `finish` aborts the upload itself when a part or the completion fails.
        w.finish().await.map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// Writes a small object (manifests, markers) in one request; local paths are written atomically.
pub fn put_bytes(dest: &Location, data: &[u8]) -> Result<(), StorageError> {
    match dest {
        Location::Local(p) => {
            super::write_atomic(p, data).map_err(io(p))?;
            Ok(())
        }
        Location::Http(_) => Err(StorageError::BadLocation(dest.to_string())),
        Location::S3 { .. } => {
            let name = dest.to_string();
            let (store, path) = remote::store_for(dest)?;
            remote::runtime()
                .block_on(store.put(&path, PutPayload::from(data.to_vec())))
                .map_err(|e| remote::remote_err(&name, e))?;
            Ok(())
        }
    }
}

/// Reads a whole object, or `None` when it does not exist (markers, manifests).
pub fn read_opt(loc: &Location) -> Result<Option<Vec<u8>>, StorageError> {
    match loc {
        Location::Local(p) => match std::fs::read(p) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(p)(e)),
        },
        _ => {
            let name = loc.to_string();
            let (store, path) = remote::store_for(loc)?;
            remote::runtime().block_on(async {
                match store.get(&path).await {
                    Ok(r) => r
                        .bytes()
                        .await
                        .map(|b| Some(b.to_vec()))
                        .map_err(|e| remote::remote_err(&name, e)),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(remote::remote_err(&name, e)),
                }
            })
        }
    }
}

/// Deletes the objects directly below `dir` whose names start with `name_prefix` (the outputs of
/// an interrupted task); returns how many. Local folders are handled by the caller.
pub fn delete_prefix(dir: &Location, name_prefix: &str) -> Result<usize, StorageError> {
    let Location::S3 { key, .. } = dir else {
        return Err(StorageError::BadLocation(dir.to_string()));
    };
    let name = format!("{dir}/{name_prefix}*");
    let (store, _) = remote::store_for(dir)?;
    let prefix = ObjPath::from(key.trim_end_matches('/'));
    remote::runtime().block_on(async {
        let listed: Vec<_> = store.list(Some(&prefix)).collect().await;
        let mut n = 0;
        for m in listed {
            let m = m.map_err(|e| remote::remote_err(&name, e))?;
            let base = m.location.filename().unwrap_or("");
            let parent_ok =
                m.location.as_ref().rsplit_once('/').map(|(p, _)| p) == Some(prefix.as_ref());
            if parent_ok && base.starts_with(name_prefix) {
                store
                    .delete(&m.location)
                    .await
                    .map_err(|e| remote::remote_err(&name, e))?;
                n += 1;
            }
        }
        Ok(n)
    })
}

/// What [`upload_tree`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadSummary {
    /// Files uploaded.
    pub files: usize,
    /// Bytes uploaded.
    pub bytes: u64,
}

/// Uploads every file below `local` to `dest` (same relative paths), in an order that keeps
/// readers safe: data files first, then manifests (`manifest.json`, `_manifests/`), then
/// completion markers (`_markers/`) last, so a marker on the store means everything it vouches
/// for is already there. Hidden temporary files (`.name.tmp`) are not uploaded.
pub fn upload_tree(local: &Path, dest: &Location) -> Result<UploadSummary, StorageError> {
    let mut files = Vec::new();
    walk(local, local, &mut files)?;
    files.sort_by_key(|rel| (upload_rank(rel), rel.clone()));
    let mut s = UploadSummary::default();
    for rel in files {
        let rel_s = rel.to_string_lossy().replace('\\', "/");
        s.bytes += put_file(&local.join(&rel), &dest.join(&rel_s))?;
        s.files += 1;
    }
    Ok(s)
}

/// 0: data, 1: manifests, 2: markers.
pub(crate) fn upload_rank(rel: &Path) -> u8 {
    let s = rel.to_string_lossy();
    if s.starts_with("_markers/") || s.contains("/_markers/") {
        2
    } else if s.ends_with("manifest.json")
        || s.starts_with("_manifests/")
        || s.contains("/_manifests/")
    {
        1
    } else {
        0
    }
}

pub(crate) fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), StorageError> {
    let rd = std::fs::read_dir(dir).map_err(io(dir))?;
    for e in rd {
        let e = e.map_err(io(dir))?;
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            walk(root, &p, out)?;
        } else if p.is_file() {
            out.push(p.strip_prefix(root).expect("below root").to_path_buf());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_go_last_and_local_destinations_work() {
        assert_eq!(upload_rank(Path::new("shards/part-00000-00000.parquet")), 0);
        assert_eq!(upload_rank(Path::new("corpus/manifest.json")), 1);
        assert_eq!(upload_rank(Path::new("_manifests/task-00000.json")), 1);
        assert_eq!(upload_rank(Path::new("corpus/_markers/task-00000.done")), 2);

        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(src.path().join("a/_markers")).unwrap();
        std::fs::write(src.path().join("a/x.bin"), b"xyz").unwrap();
        std::fs::write(src.path().join("a/_markers/t.done"), b"ok").unwrap();
        std::fs::write(src.path().join("a/.x.bin.tmp"), b"partial").unwrap();
        let s = upload_tree(src.path(), &Location::Local(dst.path().to_path_buf())).unwrap();
        assert_eq!(s, UploadSummary { files: 2, bytes: 5 });
        assert_eq!(std::fs::read(dst.path().join("a/x.bin")).unwrap(), b"xyz");
        assert!(!dst.path().join("a/.x.bin.tmp").exists());
        let m = Location::Local(dst.path().join("a/_markers/t.done"));
        assert_eq!(read_opt(&m).unwrap().unwrap(), b"ok");
        assert!(read_opt(&Location::Local(dst.path().join("nope")))
            .unwrap()
            .is_none());
    }
}
