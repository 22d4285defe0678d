//! S3 write/read throughput against local disk, through quarry's storage layer.
//!
//! ```text
//! eval "$(scripts/s3/s3_up.sh --print-env)"
//! cargo run -p quarry-corpus --example s3_bench -- [MB] [DIR]
//! ```
//!
//! Writes an incompressible file of MB megabytes (default 256) to DIR (default the system temp
//! dir), then uploads it to `s3://$QUARRY_S3_BUCKET/bench/…` as one PUT and as a multipart upload
//! (16 MiB parts, 4 in flight), and streams each back. Prints a Markdown table of MB/s (1 MB =
//! 10^6 bytes). Local reads come from the page cache (a loopback S3 server writes to the same disk,
//! so both sides see the same cache).

use std::io::{Read, Write};
use std::time::Instant;

use quarry_corpus::storage::{self, AtomicFile, Location, RemoteSettings};

fn mbps(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

fn read_all(mut r: Box<dyn Read + Send>) -> u64 {
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = r.read(&mut buf).expect("read");
        if k == 0 {
            return n;
        }
        n += k as u64;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mb: u64 = args.get(1).map(|s| s.parse().expect("MB")).unwrap_or(256);
    let dir = args
        .get(2)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let bucket = std::env::var("QUARRY_S3_BUCKET").unwrap_or_else(|_| "quarry-test".into());
    if std::env::var("AWS_ENDPOINT_URL").is_err() {
        eprintln!(
            "AWS_ENDPOINT_URL is not set: run `eval \"$(scripts/s3/s3_up.sh --print-env)\"` first"
        );
        std::process::exit(2);
    }
    let bytes = mb * 1_000_000;
    let path = dir.join(format!("quarry-s3-bench-{}.bin", std::process::id()));
    let mut rows: Vec<(String, String, f64, f64)> = Vec::new();

    // Local disk: write (with fsync, as shards are written) and read back.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut block = vec![0u8; 1 << 20];
    let t = Instant::now();
    let mut f = AtomicFile::create(&path).expect("create");
    let mut left = bytes;
    while left > 0 {
        for c in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c.copy_from_slice(&x.to_le_bytes()[..c.len()]);
        }
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).expect("write");
        left -= n as u64;
    }
    f.commit().expect("commit");
    let w = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let n = read_all(Box::new(std::fs::File::open(&path).expect("open")));
    assert_eq!(n, bytes);
    let r = t.elapsed().as_secs_f64();
    rows.push((
        "local disk".into(),
        "write+fsync / read".into(),
        mbps(bytes, w),
        mbps(bytes, r),
    ));

    let run = |name: &str, settings: &RemoteSettings| -> (f64, f64) {
        let loc = Location::parse(&format!(
            "s3://{bucket}/bench/{}-{name}.bin",
            std::process::id()
        ))
        .expect("location");
        let t = Instant::now();
        storage::put_file_with(&path, &loc, settings).expect("upload");
        let w = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let n = read_all(storage::open_read(&loc).expect("open"));
        assert_eq!(n, bytes);
        let r = t.elapsed().as_secs_f64();
        (mbps(bytes, w), mbps(bytes, r))
    };
    let single = RemoteSettings {
        multipart_threshold: u64::MAX,
        ..RemoteSettings::default()
    };
    let (w, r) = run("single", &single);
    rows.push(("s3s-fs (loopback)".into(), "single PUT / GET".into(), w, r));
    let multi = RemoteSettings {
        multipart_threshold: 0,
        part_size: 16 << 20,
        concurrency: 4,
        ..RemoteSettings::default()
    };
    let (w, r) = run("multipart", &multi);
    rows.push((
        "s3s-fs (loopback)".into(),
        "multipart 16 MiB x4 / GET".into(),
        w,
        r,
    ));
    let _ = std::fs::remove_file(&path);
    let bench_dir = Location::parse(&format!("s3://{bucket}/bench")).expect("location");
    let _ = storage::delete_prefix(&bench_dir, &format!("{}-", std::process::id()));

    println!("\n{mb} MB object, MB/s (10^6 bytes/s)\n");
    println!("| target | mode | write MB/s | read MB/s |");
    println!("|---|---|---:|---:|");
    for (t, m, w, r) in rows {
        println!("| {t} | {m} | {w:.0} | {r:.0} |");
    }
}
