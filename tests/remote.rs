//! Reading inputs over HTTP from a server on loopback (the same object_store code path serves
//! https:// and s3://): streaming with retries through 503 SlowDown and cut bodies, `quarry cc`
//! against a fake crawl, and resumable downloads. S3 itself is tested in tests/s3.rs against a real
//! S3-compatible server.

mod util;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use util::{data_dir, quarry, TestDir};

/// A tiny HTTP/1.1 file server for one folder on 127.0.0.1; answers GET and HEAD, 404 otherwise.
fn serve(dir: std::path::PathBuf) -> (String, Arc<AtomicUsize>) {
    let s = serve_with(dir, Faults::default());
    (s.base, s.hits)
}

/// Like [`serve`], also counting body bytes sent; honours `Range`.
fn serve_counting(dir: std::path::PathBuf) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let s = serve_with(dir, Faults::default());
    (s.base, s.hits, s.sent)
}

/// Faults the test server injects, each into the first N requests of its kind.
#[derive(Clone, Default)]
struct Faults {
    /// Answer this many requests with 503 SlowDown.
    slow_down: usize,
    /// Cut this many GET bodies over 10 kB half-way (full Content-Length announced, then the
    /// connection closes).
    cut_body: usize,
    /// Send an ETag (lets object_store resume a cut body by itself).
    etag: bool,
}

struct Served {
    base: String,
    hits: Arc<AtomicUsize>,
    sent: Arc<AtomicUsize>,
    faults_injected: Arc<AtomicUsize>,
}

/// The test file server with faults: `Range: bytes=a-` and `bytes=a-b`, optional ETag, 503s and
/// bodies cut off mid-way.
fn serve_with(dir: std::path::PathBuf, faults: Faults) -> Served {
    let sent = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let injected = Arc::new(AtomicUsize::new(0));
    let slow = Arc::new(AtomicUsize::new(faults.slow_down));
    let cut = Arc::new(AtomicUsize::new(faults.cut_body));
    let served = Served {
        base: format!("http://{addr}"),
        hits: hits.clone(),
        sent: sent.clone(),
        faults_injected: injected.clone(),
    };
    let take = |c: &AtomicUsize| {
        c.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
            .is_ok()
    };
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4096) {
            let Ok(mut s) = stream else { continue };
            let (dir, h, sent, injected, slow, cut) = (
                dir.clone(),
                hits.clone(),
                sent.clone(),
                injected.clone(),
                slow.clone(),
                cut.clone(),
            );
            let etag = faults.etag;
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or("").to_string();
                    let path = parts.next().unwrap_or("/").to_string();
                    let mut range: Option<(usize, Option<usize>)> = None;
                    loop {
                        let mut hl = String::new();
                        if r.read_line(&mut hl).unwrap_or(0) == 0 || hl == "\r\n" || hl == "\n" {
                            break;
                        }
                        let lower = hl.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("range: bytes=") {
                            let (a, b) = v.trim().split_once('-').unwrap_or((v.trim(), ""));
                            range = Some((a.parse().unwrap_or(0), b.parse().ok()));
                        }
                    }
                    h.fetch_add(1, Ordering::SeqCst);
                    if take(&slow) {
                        injected.fetch_add(1, Ordering::SeqCst);
                        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                        let _ = write!(
                            s,
                            "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        continue;
                    }
                    let file = dir.join(path.trim_start_matches('/'));
                    match std::fs::read(&file) {
                        Ok(body) => {
                            let total = body.len();
                            let (from, to) = match range {
                                Some((a, b)) => {
                                    (a.min(total), b.map_or(total, |b| (b + 1).min(total)))
                                }
                                None => (0, total),
                            };
                            let body = &body[from..to.max(from)];
                            let tag = if etag { "ETag: \"v1\"\r\n" } else { "" };
                            let head = if range.is_some() {
                                format!(
                                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {}-{}/{}\r\n{tag}Content-Type: application/octet-stream\r\n\r\n",
                                    body.len(),
                                    from,
                                    to.max(1) - 1,
                                    total
                                )
                            } else {
                                format!(
                                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{tag}Content-Type: application/octet-stream\r\n\r\n",
                                    body.len()
                                )
                            };
                            let _ = s.write_all(head.as_bytes());
                            if method != "HEAD" {
                                if body.len() > 10_000 && take(&cut) {
                                    injected.fetch_add(1, Ordering::SeqCst);
                                    let half = &body[..body.len() / 2];
                                    let _ = s.write_all(half);
                                    sent.fetch_add(half.len(), Ordering::SeqCst);
                                    let _ = s.flush();
                                    let _ = s.shutdown(std::net::Shutdown::Both);
                                    return;
                                }
                                let _ = s.write_all(body);
                                sent.fetch_add(body.len(), Ordering::SeqCst);
                            }
                        }
                        Err(_) => {
                            let _ =
                                s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                        }
                    }
                    let _ = s.flush();
                }
            });
        }
    });
    served
}

#[test]
fn inspect_and_run_read_warc_over_http() {
    let dir = data_dir().join("warc/commoncrawl");
    let (base, hits) = serve(dir);
    let url = format!("{base}/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz");
    let out = quarry()
        .args(["inspect", "--limit", "1", &url])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("16 documents"), "{err}");
    assert!(
        err.contains("5cb22a7ab6d90664d69d5d17bdb4054b8eccc9b0a3b0e766dbf6469f32613221"),
        "{err}"
    );
    assert!(hits.load(Ordering::SeqCst) >= 1);

    // A pipeline over the same URL records the URL and the digest in its manifest.
    let d = TestDir::new();
    let r = d.write(
        "r.toml",
        &format!(
            "[input]\npaths = [{url:?}]\n[output]\npath = {:?}\n",
            d.path().join("out").display().to_string()
        ),
    );
    let out = quarry().arg("run").arg(&r).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["inputs"][0]["path"], url.as_str());
    assert_eq!(
        m["inputs"][0]["sha256"],
        "5cb22a7ab6d90664d69d5d17bdb4054b8eccc9b0a3b0e766dbf6469f32613221"
    );
    assert_eq!(m["reader"]["documents"], 16);

    // A missing object is a clear error, not a hang.
    let out = quarry()
        .args(["inspect", &format!("{base}/nope.warc.gz")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope.warc.gz"), "{err}");
}

#[test]
fn models_fetch_resumes_and_checks_sha256() {
    let served = TestDir::new();
    let model = std::fs::read(data_dir().join("lid/lid.176.ftz")).unwrap();
    std::fs::write(served.path().join("lid.176.ftz"), &model).unwrap();
    let (base, _, sent) = serve_counting(served.path().to_path_buf());
    let cache = TestDir::new();

    // An interrupted download left the first 300000 bytes: only the rest is fetched.
    std::fs::write(cache.path().join("lid.176.ftz.partial"), &model[..300_000]).unwrap();
    let fetch = || {
        quarry()
            .args([
                "models",
                "fetch",
                "lid176-ftz",
                "--base-url",
                &base,
                "--dir",
            ])
            .arg(cache.path())
            .output()
            .unwrap()
    };
    let out = fetch();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(cache.path().join("lid.176.ftz")).unwrap(),
        model
    );
    assert_eq!(sent.load(Ordering::SeqCst), model.len() - 300_000);
    assert!(!cache.path().join("lid.176.ftz.partial").exists());

    // A second fetch finds the file in place and downloads nothing.
    let out = fetch();
    assert!(out.status.success());
    assert_eq!(sent.load(Ordering::SeqCst), model.len() - 300_000);

    // A corrupt partial file fails the sha256 check, is removed, and the next run succeeds.
    std::fs::remove_file(cache.path().join("lid.176.ftz")).unwrap();
    let mut bad = model[..300_000].to_vec();
    bad[1000] ^= 0xff;
    std::fs::write(cache.path().join("lid.176.ftz.partial"), &bad).unwrap();
    let out = fetch();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("expected 938013 bytes with sha256 8f3472cf")
    );
    let out = fetch();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(cache.path().join("lid.176.ftz")).unwrap(),
        model
    );
}

/// Lays out a fake crawl: `crawl-data/CC-MAIN-2020-34/warc.paths.gz` listing three real WARCs of
/// the shared data (linked, not copied) under `crawl-data/CC-MAIN-2020-34/segments/…`.
fn fake_crawl() -> (TestDir, Vec<(String, std::path::PathBuf)>) {
    let d = TestDir::new();
    let src = data_dir().join("warc/commoncrawl");
    let mut files = Vec::new();
    for (i, name) in [
        "resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
        "jwarc_cc.warc.gz",
        "whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.gz",
    ]
    .iter()
    .enumerate()
    {
        let rel = format!("crawl-data/CC-MAIN-2020-34/segments/159878{i}/warc/{name}");
        let p = d.path().join(&rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(src.join(name), &p).unwrap();
        files.push((rel, src.join(name)));
    }
    let listing: String = files.iter().map(|(r, _)| format!("{r}\n")).collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(listing.as_bytes()).unwrap();
    std::fs::write(
        d.path().join("crawl-data/CC-MAIN-2020-34/warc.paths.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    (d, files)
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

#[test]
fn cc_list_reads_a_crawl_listing_with_shards_and_limits() {
    let (site, files) = fake_crawl();
    let s = serve_with(site.path().to_path_buf(), Faults::default());
    let list = |extra: &[&str]| {
        let out = quarry()
            .args([
                "cc",
                "list",
                "--crawl",
                "CC-MAIN-2020-34",
                "--base",
                &s.base,
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let all: Vec<String> = files.iter().map(|(r, _)| r.clone()).collect();
    assert_eq!(list(&[]).lines().collect::<Vec<_>>(), all);
    assert_eq!(
        list(&["--shard", "1/2"]).lines().collect::<Vec<_>>(),
        [&all[1]]
    );
    assert_eq!(list(&["--limit", "2"]).lines().count(), 2);
    assert_eq!(
        list(&["--urls", "--limit", "1"]).trim(),
        format!("{}/{}", s.base, all[0])
    );
    // A listing that does not exist (wrong kind) and a malformed crawl name are clear errors.
    let out = quarry()
        .args([
            "cc",
            "list",
            "--crawl",
            "CC-MAIN-2020-34",
            "--kind",
            "wet",
            "--base",
            &s.base,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wet.paths.gz"));
    let out = quarry()
        .args(["cc", "list", "--crawl", "CC-MAIN-20", "--base", &s.base])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a crawl name"));
}

#[test]
fn cc_fetch_retries_resumes_cut_downloads_and_writes_a_manifest() {
    let (site, files) = fake_crawl();
    // One 503 SlowDown and two bodies cut half-way (no ETag, so object_store cannot resume them
    // by itself: quarry's own retry asks for the rest with a Range request).
    let s = serve_with(
        site.path().to_path_buf(),
        Faults {
            slow_down: 1,
            cut_body: 2,
            etag: false,
        },
    );
    let out_dir = TestDir::new();
    let fetch = |extra: &[&str]| {
        quarry()
            .env("QUARRY_RETRY_BACKOFF_MS", "10")
            .args([
                "cc",
                "fetch",
                "--crawl",
                "CC-MAIN-2020-34",
                "--base",
                &s.base,
            ])
            .args(["--backoff-ms", "10", "--jobs", "2"])
            .args(extra)
            .arg("--out")
            .arg(out_dir.path())
            .output()
            .unwrap()
    };
    let out = fetch(&["--slice", "0..3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(s.faults_injected.load(Ordering::SeqCst), 3, "{err}");
    let listing = site.path().join("crawl-data/CC-MAIN-2020-34/warc.paths.gz");
    let listing_len = std::fs::metadata(listing).unwrap().len() as usize;
    let mut total: usize = files
        .iter()
        .map(|(_, p)| std::fs::metadata(p).unwrap().len() as usize)
        .sum::<usize>()
        + listing_len;
    // Every byte was sent exactly once: the cut downloads resumed instead of starting over.
    assert_eq!(s.sent.load(Ordering::SeqCst), total, "{err}");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.path().join("cc-manifest.json")).unwrap())
            .unwrap();
    let listed = m["files"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    for (rel, src) in &files {
        let want = std::fs::read(src).unwrap();
        assert_eq!(
            std::fs::read(out_dir.path().join(rel)).unwrap(),
            want,
            "{rel}"
        );
        let e = listed.iter().find(|f| f["path"] == rel.as_str()).unwrap();
        assert_eq!(e["bytes"], want.len());
        assert_eq!(e["sha256"], sha256_hex(&want).as_str());
        assert!(!out_dir.path().join(format!("{rel}.partial")).exists());
    }

    // A rerun finds everything in place and downloads nothing.
    let out = fetch(&["--slice", "0.."]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("0 downloaded") && err.contains("3 already present"),
        "{err}"
    );
    total += listing_len; // only the listing was read again
    assert_eq!(s.sent.load(Ordering::SeqCst), total);

    // A partial file left by a killed run: only the missing bytes are requested.
    let (rel, src) = &files[2];
    let want = std::fs::read(src).unwrap();
    std::fs::remove_file(out_dir.path().join(rel)).unwrap();
    std::fs::write(out_dir.path().join(format!("{rel}.partial")), &want[..1000]).unwrap();
    let list_file = out_dir.path().join("paths.txt");
    std::fs::write(&list_file, format!("{rel}\n")).unwrap();
    let out = fetch(&["--paths", list_file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.sent.load(Ordering::SeqCst), total + want.len() - 1000);
    assert_eq!(std::fs::read(out_dir.path().join(rel)).unwrap(), want);

    // A missing object fails at once (no retries on 404) with its path in the message.
    std::fs::write(&list_file, "crawl-data/CC-MAIN-2020-34/nope.warc.gz\n").unwrap();
    let out = fetch(&["--paths", list_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 of 1 download(s) failed") && err.contains("nope.warc.gz"),
        "{err}"
    );
}

#[test]
fn cc_fetch_gives_up_with_a_clear_error_when_faults_persist() {
    let (site, _) = fake_crawl();
    let s = serve_with(
        site.path().to_path_buf(),
        Faults {
            slow_down: usize::MAX,
            ..Default::default()
        },
    );
    let list_file = site.path().join("paths.txt");
    std::fs::write(
        &list_file,
        "crawl-data/CC-MAIN-2020-34/segments/1598781/warc/jwarc_cc.warc.gz\n",
    )
    .unwrap();
    let out_dir = TestDir::new();
    let out = quarry()
        .envs([("QUARRY_RETRIES", "2"), ("QUARRY_RETRY_BACKOFF_MS", "5")])
        .args([
            "cc",
            "fetch",
            "--crawl",
            "CC-MAIN-2020-34",
            "--base",
            &s.base,
        ])
        .args(["--retries", "2", "--backoff-ms", "5", "--paths"])
        .arg(&list_file)
        .arg("--out")
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gave up after 3 attempt(s)") && err.contains("503"),
        "{err}"
    );
    // 3 attempts, each retried twice by object_store: 9 requests, then it stops.
    assert_eq!(s.hits.load(Ordering::SeqCst), 9, "{err}");
}

#[test]
fn extract_streams_over_http_through_slowdown_and_a_cut_body() {
    let warc = data_dir().join("warc/commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz");
    // Two 503 SlowDown answers, then a body cut half-way; with an ETag, object_store resumes the
    // stream with a Range request, so the reader never sees the fault.
    let s = serve_with(
        warc.parent().unwrap().to_path_buf(),
        Faults {
            slow_down: 2,
            cut_body: 1,
            etag: true,
        },
    );
    let url = format!("{}/{}", s.base, warc.file_name().unwrap().to_string_lossy());
    let d = TestDir::new();
    let extract = |input: &str, out: &str| {
        quarry()
            .env("QUARRY_RETRY_BACKOFF_MS", "10")
            .args([
                "extract", "--format", "jsonl", "--input", input, "--out", out,
            ])
            .output()
            .unwrap()
    };
    let remote_out = d.path().join("remote");
    let out = extract(&url, remote_out.to_str().unwrap());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(s.faults_injected.load(Ordering::SeqCst), 3);
    let local_out = d.path().join("local");
    let out = extract(warc.to_str().unwrap(), local_out.to_str().unwrap());
    assert!(out.status.success());
    // The same documents as reading the file from disk (only the recorded source differs).
    let docs = |dir: &std::path::Path| -> Vec<String> {
        util::shard_docs(&dir.join("shards"))
            .iter()
            .map(|d| d["text"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (docs(&remote_out), docs(&local_out));
    assert_eq!(a.len(), 16);
    assert_eq!(a, b);
}
