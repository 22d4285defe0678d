//! Remote reads (HTTP(S), S3) through `object_store`, bridged to blocking `Read`.
//!
//! The pipeline is synchronous (rayon); object stores are async. One small shared tokio runtime drives
//! the downloads, and a bounded channel hands chunks to the reading thread, so at most a few chunks
//! are in memory whatever the object size.

use std::io::{self, Read};
use std::sync::{mpsc, Arc, OnceLock};

use bytes::Bytes;
use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::http::HttpBuilder;
use object_store::path::Path as ObjPath;
use object_store::{ClientConfigKey, ObjectStore, ObjectStoreExt};

use super::config::{AwsSettings, RemoteSettings};
use super::{InputFile, Location, StorageError};

pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("quarry-io")
            .enable_all()
            .build()
            .expect("tokio runtime for remote I/O")
    })
}

pub(crate) fn remote_err(loc: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Remote {
        location: loc.to_string(),
        message: e.to_string(),
    }
}

/// Builds the store and object path for a remote location, with the settings of the environment.
pub(crate) fn store_for(loc: &Location) -> Result<(Arc<dyn ObjectStore>, ObjPath), StorageError> {
    let rs = settings().map_err(|e| remote_err(&loc.to_string(), e))?;
    store_for_with(loc, &rs)
}

/// Builds the store and object path for a remote location with explicit settings.
pub(crate) fn store_for_with(
    loc: &Location,
    settings: &RemoteSettings,
) -> Result<(Arc<dyn ObjectStore>, ObjPath), StorageError> {
    let name = loc.to_string();
    match loc {
        Location::Http(url) => {
            // The store is rooted at scheme://host[:port]; the rest is the object path.
            let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
            let path_start = url[after_scheme..]
                .find('/')
                .map(|i| i + after_scheme)
                .unwrap_or(url.len());
            let base = &url[..path_start];
            let path = url[path_start..].trim_start_matches('/');
            let opts = settings
                .client_options()
                .with_config(ClientConfigKey::AllowHttp, "true");
            let store = HttpBuilder::new()
                .with_url(base)
                .with_client_options(opts)
                .with_retry(settings.retry.clone())
                .build()
                .map_err(|e| remote_err(&name, e))?;
            let p = ObjPath::parse(path).map_err(|e| remote_err(&name, e))?;
            Ok((Arc::new(store), p))
        }
        Location::S3 { bucket, key } => {
            let store = s3_store_with(bucket, settings).map_err(|e| remote_err(&name, e))?;
            let p = ObjPath::parse(key).map_err(|e| remote_err(&name, e))?;
            Ok((store, p))
        }
        Location::Local(_) => Err(StorageError::BadLocation(name)),
    }
}

/// The retry, timeout and multipart settings from the environment.
pub(crate) fn settings() -> Result<RemoteSettings, String> {
    RemoteSettings::from_env()
}

/// An S3 client from the usual AWS environment and shared config files ([`AwsSettings`]), with
/// plain HTTP allowed when the endpoint says `http://` (local S3-compatible servers), path-style
/// requests for custom endpoints, and the retry policy of [`RemoteSettings`]. Without credentials,
/// requests are unsigned, which public buckets such as `s3://commoncrawl` allow.
pub(crate) fn s3_store(bucket: &str) -> Result<Arc<dyn ObjectStore>, String> {
    s3_store_with(bucket, &settings()?)
}

fn s3_store_with(bucket: &str, rs: &RemoteSettings) -> Result<Arc<dyn ObjectStore>, String> {
    let aws = AwsSettings::resolve();
    let mut b = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_client_options(rs.client_options())
        .with_retry(rs.retry.clone())
        .with_region(aws.region.as_deref().unwrap_or("us-east-1"));
    if let Some(ep) = &aws.endpoint {
        b = b
            .with_endpoint(ep)
            .with_allow_http(ep.starts_with("http://"))
            .with_virtual_hosted_style_request(false);
    }
    match (&aws.access_key_id, &aws.secret_access_key) {
        (Some(k), Some(s)) => {
            b = b.with_access_key_id(k).with_secret_access_key(s);
            if let Some(t) = &aws.session_token {
                b = b.with_token(t);
            }
        }
        _ => b = b.with_skip_signature(true),
    }
    Ok(Arc::new(b.build().map_err(|e| e.to_string())?))
}

/// Streams a remote object.
pub(crate) fn open_read(loc: &Location) -> Result<Box<dyn Read + Send>, StorageError> {
    let (store, path) = store_for(loc)?;
    let name = loc.to_string();
    let (tx, rx) = mpsc::sync_channel::<io::Result<Bytes>>(4);
    // Fail fast on a missing object: the first response is awaited before returning.
    let first = runtime().block_on(async { store.get(&path).await });
    let res = first.map_err(|e| remote_err(&name, e))?;
    runtime().spawn(async move {
        let mut stream = res.into_stream();
        while let Some(chunk) = stream.next().await {
            let item = chunk.map_err(io::Error::other);
            let failed = item.is_err();
            // The reader went away: stop downloading.
            if tx.send(item).is_err() || failed {
                return;
            }
        }
    });
    Ok(Box::new(ChannelReader {
        rx,
        cur: Bytes::new(),
        done: false,
    }))
}

struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    cur: Bytes,
    done: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(b)) => self.cur = b,
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}

/// Lists S3 keys matching a glob on the key (listing by the prefix before the first wildcard).
pub(crate) fn list_s3(
    bucket: &str,
    key_glob: &str,
    out: &mut Vec<InputFile>,
) -> Result<(), StorageError> {
    let name = format!("s3://{bucket}/{key_glob}");
    let store = s3_store(bucket).map_err(|e| remote_err(&name, e))?;
    let wild = key_glob.find(['*', '?', '[']).unwrap_or(key_glob.len());
    let prefix = &key_glob[..wild];
    let prefix_dir = &prefix[..prefix.rfind('/').map(|i| i + 1).unwrap_or(0)];
    let pattern = glob::Pattern::new(key_glob).map_err(|e| remote_err(&name, e))?;
    let exact = wild == key_glob.len();
    let metas = runtime().block_on(async {
        let p = if prefix_dir.is_empty() {
            None
        } else {
            Some(ObjPath::from(prefix_dir.trim_end_matches('/')))
        };
        store.list(p.as_ref()).collect::<Vec<_>>().await
    });
    for m in metas {
        let m = m.map_err(|e| remote_err(&name, e))?;
        let key = m.location.to_string();
        let hit = if exact {
            key == key_glob || key.starts_with(&format!("{}/", key_glob.trim_end_matches('/')))
        } else {
            pattern.matches(&key)
        };
        if hit {
            out.push(InputFile {
                location: Location::S3 {
                    bucket: bucket.to_string(),
                    key,
                },
                size: Some(m.size),
            });
        }
    }
    Ok(())
}
