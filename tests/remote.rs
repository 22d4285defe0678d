//! Reading inputs over HTTP from a server on loopback (the same object_store code path serves
//! https:// and s3://).

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use util::{data_dir, quarry, TestDir};

/// A tiny HTTP/1.1 file server for one folder on 127.0.0.1; answers GET and HEAD, 404 otherwise.
fn serve(dir: std::path::PathBuf) -> (String, Arc<AtomicUsize>) {
    let (base, hits, _) = serve_counting(dir);
    (base, hits)
}

/// Like [`serve`], also counting body bytes sent; honours `Range: bytes=N-`.
fn serve_counting(dir: std::path::PathBuf) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let sent = Arc::new(AtomicUsize::new(0));
    let sent2 = sent.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut s) = stream else { continue };
            let dir = dir.clone();
            let h = h.clone();
            let sent = sent2.clone();
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
                    let mut from = 0usize;
                    loop {
                        let mut hl = String::new();
                        if r.read_line(&mut hl).unwrap_or(0) == 0 || hl == "\r\n" || hl == "\n" {
                            break;
                        }
                        let lower = hl.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("range: bytes=") {
                            from = v.trim().trim_end_matches('-').parse().unwrap_or(0);
                        }
                    }
                    h.fetch_add(1, Ordering::SeqCst);
                    let file = dir.join(path.trim_start_matches('/'));
                    match std::fs::read(&file) {
                        Ok(body) => {
                            let total = body.len();
                            let body = &body[from.min(total)..];
                            let head = if from > 0 {
                                format!(
                                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {}-{}/{}\r\nContent-Type: application/octet-stream\r\n\r\n",
                                    body.len(),
                                    from,
                                    total - 1,
                                    total
                                )
                            } else {
                                format!(
                                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
                                    body.len()
                                )
                            };
                            let _ = s.write_all(head.as_bytes());
                            if method != "HEAD" {
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
                    let mut probe = [0u8; 0];
                    let _ = r.get_mut().read(&mut probe);
                }
            });
        }
    });
    (format!("http://{addr}"), hits, sent)
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

/// Starts `moto_server` (an S3-compatible server; scripts/test.sh installs it) on a free loopback port.
fn start_s3() -> Option<(std::process::Child, String)> {
    let bin = std::env::var("QUARRY_MOTO_SERVER").unwrap_or_else(|_| "moto_server".to_string());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let ep = format!("127.0.0.1:{port}");
    for _ in 0..200 {
        if std::net::TcpStream::connect(&ep).is_ok() {
            return Some((child, format!("http://{ep}")));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    None
}

/// One raw unsigned HTTP request (moto accepts them), for creating a bucket and uploading objects.
fn raw_http(ep: &str, method: &str, path: &str, body: &[u8]) -> String {
    let hostport = ep.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(hostport).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = String::new();
    let _ = BufReader::new(s).read_to_string(&mut resp);
    resp
}

#[test]
fn reads_warc_and_globs_from_s3() {
    let Some((mut server, ep)) = start_s3() else {
        // scripts/test.sh installs moto[server]; running `cargo test` by hand without it skips loudly.
        eprintln!(
            "SKIPPED: moto_server not found (run scripts/test.sh, or pip install 'moto[server]')"
        );
        return;
    };
    let resp = raw_http(&ep, "PUT", "/quarry-test", b"");
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    for name in [
        "resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
        "jwarc_cc.warc.gz",
    ] {
        let body = std::fs::read(data_dir().join("warc/commoncrawl").join(name)).unwrap();
        let resp = raw_http(&ep, "PUT", &format!("/quarry-test/crawl/{name}"), &body);
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    }
    let env = [
        ("AWS_ENDPOINT_URL", ep.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let out = quarry()
        .envs(env)
        .args([
            "inspect",
            "--limit",
            "1",
            "s3://quarry-test/crawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("16 documents"), "{err}");

    let d = TestDir::new();
    let r = d.write(
        "r.toml",
        &format!(
            "[input]\npaths = [\"s3://quarry-test/crawl/*.warc.gz\"]\n[output]\npath = {:?}\n[run]\ntasks = 2\n",
            d.path().join("out").display().to_string()
        ),
    );
    let out = quarry().envs(env).arg("run").arg(&r).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["reader"]["documents"], 17);
    assert_eq!(m["inputs"].as_array().unwrap().len(), 2);
    let _ = server.kill();
    let _ = server.wait();
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
