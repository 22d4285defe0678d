//! S3 against a real S3-compatible server (s3s-fs, started by scripts/test.sh through
//! scripts/s3/s3_up.sh), with faults injected by a proxy in front of it.
//!
//! The server's address comes from `QUARRY_S3_ENDPOINT` (with the usual `AWS_*` variables for
//! credentials); without it the tests say SKIPPED and pass, so `cargo test` works on a laptop
//! without the server. scripts/test.sh always sets it.

mod util;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use quarry_corpus::storage::{self, Location, RemoteSettings};
use util::{data_dir, quarry, unique, TestDir};

/// (endpoint, bucket) of the test server, or None (with a message) when it is not configured.
fn s3() -> Option<(String, String)> {
    match std::env::var("QUARRY_S3_ENDPOINT") {
        Ok(ep) if !ep.is_empty() => Some((
            ep,
            std::env::var("QUARRY_S3_BUCKET").unwrap_or_else(|_| "quarry-test".to_string()),
        )),
        _ => {
            eprintln!("SKIPPED: QUARRY_S3_ENDPOINT is not set (run scripts/test.sh, or `eval \"$(scripts/s3/s3_up.sh --print-env)\"`)");
            None
        }
    }
}

fn s3loc(bucket: &str, key: &str) -> Location {
    Location::parse(&format!("s3://{bucket}/{key}")).unwrap()
}

fn get(bucket: &str, key: &str) -> Option<Vec<u8>> {
    storage::read_opt(&s3loc(bucket, key)).unwrap()
}

fn recipe(inputs: &[String], out: &str, tasks: usize) -> String {
    format!(
        "[input]\npaths = {inputs:?}\n[output]\npath = {out:?}\nformat = \"jsonl\"\n[run]\ntasks = {tasks}\n\n[[stages]]\ntype = \"extract\"\n"
    )
}

fn warcs() -> Vec<String> {
    [
        "warc/commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
        "warc/commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.gz",
        "warc/other/dolma_sample-0000.warc.gz",
    ]
    .iter()
    .map(|p| data_dir().join(p).display().to_string())
    .collect()
}

fn ok(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    err
}

#[test]
fn reads_warc_and_globs_from_s3() {
    let Some((_, bucket)) = s3() else { return };
    let prefix = unique("read");
    for name in [
        "resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
        "jwarc_cc.warc.gz",
    ] {
        let src = data_dir().join("warc/commoncrawl").join(name);
        storage::put_file(&src, &s3loc(&bucket, &format!("{prefix}/crawl/{name}"))).unwrap();
    }
    let url = format!("s3://{bucket}/{prefix}/crawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz");
    let err = ok(&quarry()
        .args(["inspect", "--limit", "1", &url])
        .output()
        .unwrap());
    assert!(err.contains("16 documents"), "{err}");
    assert!(
        err.contains("5cb22a7ab6d90664d69d5d17bdb4054b8eccc9b0a3b0e766dbf6469f32613221"),
        "{err}"
    );

    let d = TestDir::new();
    let r = d.write(
        "r.toml",
        &format!(
            "[input]\npaths = [\"s3://{bucket}/{prefix}/crawl/*.warc.gz\"]\n[output]\npath = {:?}\n[run]\ntasks = 2\n",
            d.path().join("out").display().to_string()
        ),
    );
    ok(&quarry().arg("run").arg(&r).output().unwrap());
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["reader"]["documents"], 17);
    assert_eq!(m["inputs"].as_array().unwrap().len(), 2);
}

/// `quarry run` into s3://: shards byte-identical to a local run, manifest and markers on the
/// bucket, a rerun skips by the bucket's markers, and the staging folder is emptied.
#[test]
fn run_publishes_to_s3_byte_identical_and_rerun_skips() {
    let Some((_, bucket)) = s3() else { return };
    let prefix = unique("run");
    let d = TestDir::new();
    let local_out = d.path().join("local");
    let local = d.write(
        "local.toml",
        &recipe(&warcs(), local_out.to_str().unwrap(), 2),
    );
    ok(&quarry().arg("run").arg(&local).output().unwrap());

    let url = format!("s3://{bucket}/{prefix}/out");
    let remote = d.write("remote.toml", &recipe(&warcs(), &url, 2));
    let staging = d.path().join("staging");
    // Every shard goes up as a multipart upload (threshold 1 byte); manifests and markers as PUTs.
    let run = || {
        quarry()
            .env("QUARRY_S3_MULTIPART_THRESHOLD", "1")
            .arg("run")
            .arg(&remote)
            .arg("--staging")
            .arg(&staging)
            .output()
            .unwrap()
    };
    let err = ok(&run());
    assert!(err.contains("task 1/2"), "{err}");

    let m: serde_json::Value =
        serde_json::from_slice(&get(&bucket, &format!("{prefix}/out/manifest.json")).unwrap())
            .unwrap();
    let mut n = 0;
    for (name, bytes) in util::shard_bytes(&local_out.join("shards")) {
        let key = format!("{prefix}/out/shards/{name}");
        assert_eq!(get(&bucket, &key).as_ref(), Some(&bytes), "{key}");
        n += 1;
    }
    assert!(n >= 2);
    let local_m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(local_out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["reader"], local_m["reader"]);
    for t in 0..2 {
        let tm: serde_json::Value = serde_json::from_slice(
            &get(
                &bucket,
                &format!("{prefix}/out/_manifests/task-0000{t}.json"),
            )
            .unwrap(),
        )
        .unwrap();
        for o in tm["outputs"].as_array().unwrap() {
            let p = o["path"].as_str().unwrap();
            assert!(p.starts_with(&format!("{url}/shards/part-0000{t}-")), "{p}");
        }
        assert!(get(&bucket, &format!("{prefix}/out/_markers/task-0000{t}.done")).is_some());
    }
    // Published files are not kept twice.
    let left: Vec<_> = std::fs::read_dir(staging.join("shards"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A rerun (here without the staging folder) checks the bucket's markers and skips.
    std::fs::remove_dir_all(&staging).unwrap();
    let err = ok(&run());
    assert!(
        err.contains("already finished, skipped: tasks [0, 1]"),
        "{err}"
    );

    // A task redone with --force replaces its shards (no stale shard of an earlier attempt stays).
    let stale = format!("{prefix}/out/shards/part-00001-00099.jsonl.zst");
    storage::put_bytes(&s3loc(&bucket, &stale), b"stale").unwrap();
    ok(&quarry()
        .arg("run")
        .arg(&remote)
        .args(["--task", "1", "--force", "--staging"])
        .arg(&staging)
        .output()
        .unwrap());
    assert!(get(&bucket, &stale).is_none());
    assert!(get(&bucket, &format!("{prefix}/out/_markers/task-00001.done")).is_some());
}

/// A 12 MiB object in three 5 MiB parts, read back intact.
#[test]
fn multipart_upload_round_trips() {
    let Some((_, bucket)) = s3() else { return };
    let d = TestDir::new();
    let src = d.path().join("big.bin");
    let mut data = Vec::with_capacity(12 << 20);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    while data.len() < (12 << 20) + 12345 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    std::fs::write(&src, &data).unwrap();
    let settings = RemoteSettings {
        part_size: storage::MIN_PART_SIZE,
        multipart_threshold: 0,
        ..RemoteSettings::default()
    };
    let key = format!("{}/big.bin", unique("multipart"));
    let n = storage::put_file_with(&src, &s3loc(&bucket, &key), &settings).unwrap();
    assert_eq!(n, data.len() as u64);
    let mut back = Vec::new();
    storage::open_read(&s3loc(&bucket, &key))
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert!(back == data, "multipart object differs");
    let listed = storage::list_inputs(&[format!("s3://{bucket}/{key}")]).unwrap();
    assert_eq!(listed[0].size, Some(data.len() as u64));
}

/// Credentials and endpoint from the shared AWS files, with a named profile.
#[test]
fn credentials_from_aws_config_files_and_profiles() {
    let Some((ep, bucket)) = s3() else { return };
    let key = format!("{}/x.warc.gz", unique("profile"));
    storage::put_file(
        &data_dir().join("warc/commoncrawl/jwarc_cc.warc.gz"),
        &s3loc(&bucket, &key),
    )
    .unwrap();
    let d = TestDir::new();
    let id = std::env::var("AWS_ACCESS_KEY_ID").unwrap();
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap();
    let config = d.write(
        "config",
        &format!("[default]\nregion = eu-west-1\n\n[profile lab]\nregion = us-east-1\ns3 =\n  endpoint_url = {ep}\n"),
    );
    let inspect = |creds: &str| {
        let c = d.write("credentials", creds);
        quarry()
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_REGION")
            .env_remove("AWS_DEFAULT_REGION")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", c)
            .env("AWS_PROFILE", "lab")
            .env("QUARRY_RETRIES", "0")
            .args(["inspect", "--limit", "1", &format!("s3://{bucket}/{key}")])
            .output()
            .unwrap()
    };
    let err = ok(&inspect(&format!(
        "[default]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n[lab]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
    )));
    assert!(err.contains("1 documents"), "{err}");
    // The same with a wrong secret in the profile is refused by the server: the file is what counts.
    let out = inspect(&format!(
        "[lab]\naws_access_key_id = {id}\naws_secret_access_key = wrong\n"
    ));
    assert_eq!(out.status.code(), Some(2));
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// 503 with S3's SlowDown error body.
    SlowDown,
    /// Close the connection with the request unread (the client sees a reset).
    Reset,
}

/// A TCP proxy in front of the S3 server that injects faults into requests of some methods: the
/// n-th such request gets `schedule[n]` (or, with `forever`, `schedule[n % len]`); other requests
/// are forwarded (one request per connection).
struct FaultProxy {
    endpoint: String,
    injected: Arc<AtomicUsize>,
    /// "METHOD path" of every request seen.
    seen: Arc<Mutex<Vec<String>>>,
}

fn fault_proxy(
    upstream: &str,
    methods: &'static [&'static str],
    schedule: Vec<Fault>,
    forever: bool,
) -> FaultProxy {
    let upstream = upstream.trim_start_matches("http://").to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let injected = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let matched = Arc::new(AtomicUsize::new(0));
    let p = FaultProxy {
        endpoint,
        injected: injected.clone(),
        seen: seen.clone(),
    };
    let schedule = Arc::new(schedule);
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let (up, inj, seen, matched, sched) = (
                upstream.clone(),
                injected.clone(),
                seen.clone(),
                matched.clone(),
                schedule.clone(),
            );
            std::thread::spawn(move || {
                let _ = proxy_one(client, &up, methods, &sched, forever, &matched, &inj, &seen);
            });
        }
    });
    p
}

#[allow(clippy::too_many_arguments)]
fn proxy_one(
    mut client: TcpStream,
    upstream: &str,
    methods: &[&str],
    schedule: &[Fault],
    forever: bool,
    matched: &AtomicUsize,
    injected: &AtomicUsize,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut peek = [0u8; 256];
    let n = client.peek(&mut peek)?;
    let first = String::from_utf8_lossy(&peek[..n]).to_string();
    let mut words = first.split_whitespace();
    let method = words.next().unwrap_or("").to_string();
    let path = words.next().unwrap_or("").to_string();
    seen.lock().unwrap().push(format!("{method} {path}"));
    let fault = if methods.contains(&method.as_str()) {
        let i = matched.fetch_add(1, Ordering::SeqCst);
        if forever {
            Some(schedule[i % schedule.len()])
        } else {
            schedule.get(i).copied()
        }
    } else {
        None
    };
    if let Some(Fault::Reset) = fault {
        injected.fetch_add(1, Ordering::SeqCst);
        // Nothing read: closing with unread bytes makes the kernel send RST.
        drop(client);
        return Ok(());
    }
    let mut r = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") {
            head.extend_from_slice(line.as_bytes());
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    if let Some(Fault::SlowDown) = fault {
        injected.fetch_add(1, Ordering::SeqCst);
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>0</RequestId></Error>";
        write!(
            client,
            "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{xml}",
            xml.len()
        )?;
        return Ok(());
    }
    let mut up = TcpStream::connect(upstream)?;
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    up.write_all(&head)?;
    up.write_all(&body)?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp)?;
    // Tell the client this connection ends here, so it does not reuse it.
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(resp.len());
    let head = String::from_utf8_lossy(&resp[..split]);
    let kept: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    client.write_all(kept.join("\r\n").as_bytes())?;
    client.write_all(b"\r\nConnection: close")?;
    client.write_all(&resp[split..])?;
    client.flush()
}

/// Uploads (single and multipart) and downloads go through 503 SlowDown and connection resets.
#[test]
fn s3_faults_are_retried_for_uploads_and_downloads() {
    let Some((ep, bucket)) = s3() else { return };
    let prefix = unique("faults");
    let d = TestDir::new();
    let local_out = d.path().join("local");
    ok(&quarry()
        .arg("run")
        .arg(d.write(
            "local.toml",
            &recipe(&warcs(), local_out.to_str().unwrap(), 1),
        ))
        .output()
        .unwrap());

    use Fault::*;
    let up = fault_proxy(
        &ep,
        &["PUT", "POST"],
        vec![SlowDown, Reset, SlowDown, Reset, Reset, SlowDown, Reset],
        false,
    );
    let url = format!("s3://{bucket}/{prefix}/out");
    let err = ok(&quarry()
        .env("AWS_ENDPOINT_URL", &up.endpoint)
        .env("QUARRY_RETRY_BACKOFF_MS", "10")
        .env("QUARRY_S3_MULTIPART_THRESHOLD", "1")
        .arg("run")
        .arg(d.write("remote.toml", &recipe(&warcs(), &url, 1)))
        .arg("--staging")
        .arg(d.path().join("staging"))
        .output()
        .unwrap());
    assert_eq!(up.injected.load(Ordering::SeqCst), 7, "{err}");
    let seen = up.seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|s| s.starts_with("POST") && s.contains("uploads")),
        "no multipart upload: {seen:?}"
    );
    assert!(
        seen.iter()
            .any(|s| s.starts_with("PUT") && s.contains("partNumber=")),
        "no part upload: {seen:?}"
    );
    // What reached the server (read directly, not through the proxy) is byte-identical.
    for (name, bytes) in util::shard_bytes(&local_out.join("shards")) {
        assert_eq!(
            get(&bucket, &format!("{prefix}/out/shards/{name}")).as_ref(),
            Some(&bytes),
            "{name}"
        );
    }

    // Downloads: resets and SlowDown on GETs while streaming a WARC from the bucket.
    let key = format!("{prefix}/in/x.warc.gz");
    storage::put_file(
        &data_dir().join("warc/commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz"),
        &s3loc(&bucket, &key),
    )
    .unwrap();
    let down = fault_proxy(&ep, &["GET"], vec![Reset, SlowDown, Reset], false);
    let err = ok(&quarry()
        .env("AWS_ENDPOINT_URL", &down.endpoint)
        .env("QUARRY_RETRY_BACKOFF_MS", "10")
        .args(["inspect", "--limit", "1", &format!("s3://{bucket}/{key}")])
        .output()
        .unwrap());
    assert!(err.contains("16 documents"), "{err}");
    assert_eq!(down.injected.load(Ordering::SeqCst), 3);
}

/// When faults do not stop, the run fails with an error naming the object and the cause, and no
/// completion marker appears on the bucket (markers are written only after the data).
#[test]
fn s3_persistent_faults_fail_clearly_without_a_marker() {
    let Some((ep, bucket)) = s3() else { return };
    let prefix = unique("persist");
    let d = TestDir::new();
    let p = fault_proxy(&ep, &["PUT", "POST"], vec![Fault::SlowDown], true);
    let url = format!("s3://{bucket}/{prefix}/out");
    let out = quarry()
        .env("AWS_ENDPOINT_URL", &p.endpoint)
        .env("QUARRY_RETRIES", "2")
        .env("QUARRY_RETRY_BACKOFF_MS", "5")
        .arg("run")
        .arg(d.write("remote.toml", &recipe(&warcs()[..1], &url, 1)))
        .arg("--staging")
        .arg(d.path().join("staging"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&url) && err.contains("503"), "{err}");
    // 1 try + 2 retries of the first upload, then it stopped.
    assert_eq!(p.injected.load(Ordering::SeqCst), 3, "{err}");
    assert!(get(&bucket, &format!("{prefix}/out/_markers/task-00000.done")).is_none());
    assert!(get(&bucket, &format!("{prefix}/out/manifest.json")).is_none());

    // Downloads too: GETs that always fail end in a clear error (exit 2), not a hang.
    let key = format!("{prefix}/in/x.warc.gz");
    storage::put_file(
        &data_dir().join("warc/commoncrawl/jwarc_cc.warc.gz"),
        &s3loc(&bucket, &key),
    )
    .unwrap();
    let g = fault_proxy(&ep, &["GET"], vec![Fault::Reset], true);
    let out = quarry()
        .env("AWS_ENDPOINT_URL", &g.endpoint)
        .env("QUARRY_RETRIES", "2")
        .env("QUARRY_RETRY_BACKOFF_MS", "5")
        .args(["inspect", &format!("s3://{bucket}/{key}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&key), "{err}");
    assert_eq!(g.injected.load(Ordering::SeqCst), 3, "{err}");
}

/// `quarry cc fetch --base s3://bucket`: the crawl layout served from S3.
#[test]
fn cc_fetch_from_an_s3_bucket() {
    let Some((_, bucket)) = s3() else { return };
    let prefix = unique("cc");
    let name = "resiliparse_warcfile.CC-MAIN-2020-34.warc.gz";
    let src = data_dir().join("warc/commoncrawl").join(name);
    let rel = format!("crawl-data/CC-MAIN-2020-34/segments/1/warc/{name}");
    storage::put_file(&src, &s3loc(&bucket, &format!("{prefix}/{rel}"))).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("{rel}\n").as_bytes()).unwrap();
    storage::put_bytes(
        &s3loc(
            &bucket,
            &format!("{prefix}/crawl-data/CC-MAIN-2020-34/warc.paths.gz"),
        ),
        &gz.finish().unwrap(),
    )
    .unwrap();
    let d = TestDir::new();
    let base = format!("s3://{bucket}/{prefix}");
    ok(&quarry()
        .args([
            "cc",
            "fetch",
            "--crawl",
            "CC-MAIN-2020-34",
            "--base",
            &base,
            "--out",
        ])
        .arg(d.path())
        .output()
        .unwrap());
    assert_eq!(
        std::fs::read(d.path().join(&rel)).unwrap(),
        std::fs::read(&src).unwrap()
    );
}

/// `quarry build --out s3://…`: staged locally, then published (markers last).
#[test]
fn build_publishes_to_s3() {
    let Some((_, bucket)) = s3() else { return };
    let prefix = unique("build");
    let d = TestDir::new();
    let staging = d.path().join("staging");
    let url = format!("s3://{bucket}/{prefix}");
    let err = ok(&quarry()
        .env("QUARRY_LID_MODEL", data_dir().join("lid/lid.176.ftz"))
        .args(["build", "--sample-docs", "200", "--out", &url, "--staging"])
        .arg(&staging)
        .output()
        .unwrap());
    assert!(err.contains("published"), "{err}");
    let mut files = 0;
    for sub in ["corpus/shards", "dedup/shards", "tokens"] {
        for (name, bytes) in util::shard_bytes(&staging.join(sub)) {
            assert_eq!(
                get(&bucket, &format!("{prefix}/{sub}/{name}")).as_ref(),
                Some(&bytes),
                "{sub}/{name}"
            );
            files += 1;
        }
    }
    assert!(files >= 3);
    assert!(get(
        &bucket,
        &format!("{prefix}/corpus/_markers/task-00000.done")
    )
    .is_some());
    assert!(get(&bucket, &format!("{prefix}/corpus/manifest.json")).is_some());
    assert!(get(&bucket, &format!("{prefix}/_markers/build.done")).is_some());

    // A rerun from a machine without the staging folder finds the bucket's marker: nothing to do.
    std::fs::remove_dir_all(&staging).unwrap();
    let build = |docs: &str| {
        quarry()
            .env("QUARRY_LID_MODEL", data_dir().join("lid/lid.176.ftz"))
            .args(["build", "--sample-docs", docs, "--out", &url, "--staging"])
            .arg(&staging)
            .output()
            .unwrap()
    };
    let err = ok(&build("200"));
    assert!(err.contains("already published"), "{err}");
    assert!(!staging.exists(), "nothing was rebuilt");
    // Another build into the same prefix is refused, not mixed in.
    let o = build("300");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("holds another build"), "{err}");
}

/// The dedup stages with their folder (intermediates included) on s3://, each task its own process
/// with its own local staging folder as if on another machine, inputs read from s3:// too: the
/// removed set, clusters and deduplicated shards equal a local `quarry dedup` run's, the
/// intermediates are on the bucket, the private copies are gone, and a rerun skips by the bucket's
/// markers.
#[test]
fn dedup_stages_keep_their_intermediates_on_s3() {
    let Some((_, bucket)) = s3() else { return };
    let prefix = unique("dedup");
    let d = TestDir::new();
    ok(&quarry()
        .args(["sample", "--docs", "300", "--files", "3", "--out"])
        .arg(d.path().join("sample"))
        .output()
        .unwrap());
    let corpus = d.path().join("corpus");
    let warcs: Vec<String> = std::fs::read_dir(d.path().join("sample"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".warc.gz"))
        .collect();
    let r = d.write("extract.toml", &recipe(&warcs, corpus.to_str().unwrap(), 3));
    ok(&quarry().arg("run").arg(&r).output().unwrap());
    let shards = util::shard_bytes(&corpus.join("shards"));
    assert!(shards.len() >= 3, "{}", shards.len());
    for (name, _) in &shards {
        storage::put_file(
            &corpus.join("shards").join(name),
            &s3loc(&bucket, &format!("{prefix}/corpus/{name}")),
        )
        .unwrap();
    }
    let plan = ["--exact", "--minhash"];
    let reference = d.path().join("ref");
    ok(&quarry()
        .arg("dedup")
        .arg("--input")
        .arg(corpus.join("shards"))
        .arg("--out")
        .arg(&reference)
        .args(plan)
        .output()
        .unwrap());

    let input = format!("s3://{bucket}/{prefix}/corpus/*");
    let out = format!("s3://{bucket}/{prefix}/dedup");
    let host = |t: usize| d.path().join(format!("host-{}", t % 2));
    let stage = |args: &[&str], t: Option<usize>| {
        let mut c = quarry();
        c.arg("dedup").args(args).args(["--out", &out]).args(plan);
        if let Some(t) = t {
            c.args(["--task", &t.to_string()]);
        }
        c.arg("--staging").arg(host(t.unwrap_or(0)));
        ok(&c.output().unwrap())
    };
    for m in ["exact", "minhash"] {
        for t in 0..3 {
            stage(
                &[
                    "signatures",
                    "--method",
                    m,
                    "--input",
                    &input,
                    "--tasks",
                    "3",
                ],
                Some(t),
            );
        }
        for t in 0..2 {
            stage(&["buckets", "--method", m, "--tasks", "2"], Some(t));
        }
        stage(&["cluster", "--method", m], None);
    }
    for t in 0..3 {
        stage(&["filter", "--input", &input, "--tasks", "3"], Some(t));
    }

    for f in ["removed.txt", "clusters.jsonl"] {
        let want = std::fs::read(reference.join(f)).unwrap();
        assert!(!want.is_empty() || f == "clusters.jsonl");
        assert_eq!(
            get(&bucket, &format!("{prefix}/dedup/{f}")),
            Some(want),
            "{f}"
        );
    }
    let removed = std::fs::read_to_string(reference.join("removed.txt")).unwrap();
    assert!(
        removed.lines().count() > 0,
        "the sample crawl has duplicates"
    );
    let mut n = 0;
    for (name, bytes) in util::shard_bytes(&reference.join("shards")) {
        let key = format!("{prefix}/dedup/shards/{name}");
        assert_eq!(get(&bucket, &key).as_ref(), Some(&bytes), "{key}");
        n += 1;
    }
    assert!(n >= 3);
    let listed = storage::list_inputs(&[format!("{out}/work/minhash-*/pairs/*.bin")]).unwrap();
    assert_eq!(listed.len(), 14, "one pairs file per band on the bucket");
    for h in 0..2 {
        let left: Vec<_> = walk_files(&host(h));
        assert!(
            left.iter().all(|p| p.contains("/filter/")),
            "private work copies are removed: {left:?}"
        );
    }

    // A signature task run again (from a fresh machine) finds its marker on the bucket.
    let err = stage(
        &[
            "signatures",
            "--method",
            "minhash",
            "--input",
            &input,
            "--tasks",
            "3",
        ],
        Some(1),
    );
    assert!(err.contains("already finished"), "{err}");
}

fn walk_files(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk_files(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}
