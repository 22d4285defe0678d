//! `quarry crawl` end to end against a multi-host web site served on loopback by the test itself:
//! robots.txt variants, redirects and a loop, slow, huge, broken-gzip and non-HTML responses, the
//! SSRF guard, the WARC output (our reader, warcio), the AI-crawler opt-out through the licence
//! stage, and resume after SIGKILL.

#[path = "util/crawl_site.rs"]
mod crawl_site;
mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crawl_site::{Reply, Site};
use quarry_corpus::warc::{read_documents, WarcOptions};
use quarry_corpus::{MetaValue, ReadItem};
use util::{quarry, TestDir};

const IPS: [&str; 3] = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The test site. Host 0 (127.0.0.2) is the main site; host 1 has no robots.txt (404); host 2's
/// robots.txt fails with 500 (everything disallowed). `unrouted` is an origin nothing allows.
fn site() -> Site {
    // Origins are only known after binding: the handler reads them from this cell.
    let origins: Arc<std::sync::OnceLock<Vec<String>>> = Arc::new(std::sync::OnceLock::new());
    let o2 = origins.clone();
    let handler = move |host: usize, path: &str| -> Reply {
        let o = o2.get().expect("origins set");
        match (host, path) {
            (0, "/robots.txt") => Reply::ok(
                "text/plain",
                "User-agent: GPTBot\nUser-agent: CCBot\nDisallow: /articles/\n\n\
                 User-agent: Google-Extended\nDisallow: /about\n\n\
                 User-agent: *\nDisallow: /private/\nCrawl-delay: 0\n",
            ),
            (0, "/.well-known/tdmrep.json") => Reply::ok(
                "application/json",
                r#"[{"location":"/reserved/*","tdm-reservation":1,"tdm-policy":"https://example.org/tdm.json"}]"#,
            ),
            (0, "/") => Reply::html(&format!(
                r##"<html><head><title>home</title></head><body>
                <a href="/articles/1">a1</a> <a href="articles/2#frag">a2</a> <a href="/about">about</a>
                <a href="/private/secret">secret</a> <a href="/reserved/r1">reserved</a>
                <a href="/redir-a">r</a> <a href="/loop1">loop</a> <a href="/slow">slow</a>
                <a href="/huge">huge</a> <a href="/huge-chunked">huge2</a> <a href="/broken-gzip">bg</a>
                <a href="/gz-ok">gz</a> <a href="/image.png">img</a> <a href="/data.json">json</a>
                <a href="/missing">404</a> <a href="/error">500</a> <a href="/d1">deep</a>
                <a href="{b}/">b</a> <a href="http://127.0.0.9:{port}/">private</a>
                <a href="http://other.invalid/x">out of scope</a> <a href="mailto:x@y.z">mail</a>
                <a href="/ABOUT">case matters in paths</a> <a href="HTTP://{host0}/about">dup</a>
                </body></html>"##,
                b = o[1],
                port = o[0].rsplit(':').next().unwrap(),
                host0 = o[0].trim_start_matches("http://"),
            )),
            (0, "/articles/1") | (0, "/articles/2") => Reply::html(
                "<html><body><p>An article about rivers and their many long bends.</p><a href=\"/\">home</a></body></html>",
            ),
            (0, "/about") | (0, "/ABOUT") | (0, "/final") | (0, "/reserved/r1") => {
                Reply::html("<html><body><p>About this site.</p></body></html>")
            }
            (0, "/private/secret") => Reply::html("<p>secret</p>"),
            (0, "/redir-a") => Reply::redirect(301, "/redir-b"),
            (0, "/redir-b") => Reply::redirect(302, &format!("{}/final", o[0])),
            (0, "/loop1") => Reply::redirect(302, "/loop2"),
            (0, "/loop2") => Reply::redirect(302, "/loop1"),
            (0, "/slow") => {
                let mut r = Reply::html("<p>late</p>");
                r.delay = Duration::from_millis(2500);
                r
            }
            (0, "/huge") => Reply::html(&"x".repeat(3 << 20)),
            (0, "/huge-chunked") => {
                let mut r = Reply::html(&"y".repeat(3 << 20));
                r.no_length = true;
                r
            }
            (0, "/broken-gzip") => {
                let mut r = Reply::html("");
                r.body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03this is not deflate data at all".to_vec();
                r.headers.push(("Content-Encoding".into(), "gzip".into()));
                r
            }
            (0, "/gz-ok") => {
                let mut r = Reply::html("");
                r.body = gzip(b"<html><body><a href=\"/gz-child\">c</a></body></html>");
                r.headers.push(("Content-Encoding".into(), "gzip".into()));
                r
            }
            (0, "/gz-child") => Reply::html("<p>child of a gzip page</p>"),
            (0, "/image.png") => Reply::ok("image/png", b"\x89PNG\r\n\x1a\n".to_vec()),
            (0, "/data.json") => Reply::ok("application/json", "{}"),
            (0, "/error") => Reply::status(500),
            (0, "/d1") => Reply::html("<a href=\"/d2\">d2</a>"),
            (0, "/d2") => Reply::html("<a href=\"/d3\">d3</a>"),
            (0, "/d3") => Reply::html("<a href=\"/d4\">d4</a>"),
            (1, "/robots.txt") => Reply::status(404),
            (1, "/") => Reply::html(&format!(
                "<a href=\"/b1\">b1</a> <a href=\"{c}/\">c</a>",
                c = o[2]
            )),
            (1, "/b1") => Reply::html("<p>b1</p>"),
            (2, "/robots.txt") => Reply::status(500),
            _ => Reply::status(404),
        }
    };
    let s = Site::start(&IPS, Arc::new(handler));
    origins.set(s.origins.clone()).unwrap();
    s
}

fn crawl_cmd(seeds: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut c = quarry();
    c.args(["crawl", "--seeds"])
        .arg(seeds)
        .arg("--out")
        .arg(out)
        .args([
            "--delay-ms",
            "0",
            "--timeout-ms",
            "1000",
            "--max-bytes",
            "1000000",
            "--scope",
            r"^http://127\.0\.0\.\d+:\d+/",
            "--user-agent",
            "quarrytest/1.0",
        ])
        .args(["--allow-net", "127.0.0.2/32", "--allow-net", "127.0.0.3/32"])
        .args(["--allow-net", "127.0.0.4/32"])
        .args(extra);
    c
}

fn urls_tsv(out: &Path) -> BTreeMap<String, (String, String, String)> {
    let t = std::fs::read_to_string(out.join("crawl-urls.tsv")).unwrap();
    t.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].to_string(),
                (f[1].to_string(), f[2].to_string(), f[3].to_string()),
            )
        })
        .collect()
}

fn warc_files(out: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
        .collect();
    v.sort();
    v
}

fn documents(out: &Path) -> Vec<quarry_corpus::Document> {
    let mut docs = Vec::new();
    for f in warc_files(out) {
        let r = read_documents(
            Box::new(std::fs::File::open(&f).unwrap()),
            &f.to_string_lossy(),
            &WarcOptions::default(),
        );
        for item in r {
            match item {
                ReadItem::Doc(d) => docs.push(d),
                ReadItem::Skipped { .. } => {}
                ReadItem::Error(e) => panic!("read error in our own WARC: {e:?}"),
            }
        }
    }
    docs
}

#[test]
fn crawls_the_local_site_with_every_url_accounted_for() {
    let s = site();
    let (a, b, c) = (&s.origins[0], &s.origins[1], &s.origins[2]);
    let dir = TestDir::new();
    let seeds = dir.write("seeds.txt", &format!("# seeds\n{a}/\n\n"));
    let out = dir.path().join("out");
    let o = crawl_cmd(&seeds, &out, &["--max-depth", "3", "--concurrency", "4"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let port0 = a.rsplit(':').next().unwrap();
    let expected: BTreeMap<String, (&str, &str)> = [
        (format!("{a}/"), ("fetched", "200")),
        (format!("{a}/articles/1"), ("fetched", "200")),
        (format!("{a}/articles/2"), ("fetched", "200")),
        (format!("{a}/about"), ("fetched", "200")),
        (format!("{a}/ABOUT"), ("fetched", "200")),
        (format!("{a}/private/secret"), ("robots", "")),
        (format!("{a}/reserved/r1"), ("fetched", "200")),
        (format!("{a}/redir-a"), ("redirect", "301")),
        (format!("{a}/redir-b"), ("redirect", "302")),
        (format!("{a}/final"), ("fetched", "200")),
        (format!("{a}/loop1"), ("redirect", "302")),
        (format!("{a}/loop2"), ("redirect_loop", "302")),
        (format!("{a}/slow"), ("timeout", "")),
        (format!("{a}/huge"), ("too_large", "")),
        (format!("{a}/huge-chunked"), ("too_large", "")),
        (format!("{a}/broken-gzip"), ("fetched", "200")),
        (format!("{a}/gz-ok"), ("fetched", "200")),
        (format!("{a}/gz-child"), ("fetched", "200")),
        (format!("{a}/image.png"), ("content_type", "")),
        (format!("{a}/data.json"), ("content_type", "")),
        (format!("{a}/missing"), ("http_error", "404")),
        (format!("{a}/error"), ("http_error", "500")),
        (format!("{a}/d1"), ("fetched", "200")),
        (format!("{a}/d2"), ("fetched", "200")),
        (format!("{a}/d3"), ("fetched", "200")),
        (format!("{a}/d4"), ("depth", "")),
        (format!("{b}/"), ("fetched", "200")),
        (format!("{b}/b1"), ("fetched", "200")),
        (format!("{c}/"), ("robots", "")),
        (format!("http://127.0.0.9:{port0}/"), ("ssrf", "")),
        ("http://other.invalid/x".to_string(), ("scope", "")),
    ]
    .into_iter()
    .collect();
    let got = urls_tsv(&out);
    let got_simple: BTreeMap<String, (&str, &str)> = got
        .iter()
        .map(|(u, (o, s, _))| (u.clone(), (o.as_str(), s.as_str())))
        .collect();
    assert_eq!(got_simple, expected);

    // The report's counts add up and agree with the URL list.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("crawl-report.json")).unwrap()).unwrap();
    let outcomes = report["outcomes"].as_object().unwrap();
    let sum: u64 = outcomes.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(sum, report["urls_seen"].as_u64().unwrap());
    assert_eq!(sum as usize, expected.len());
    for (name, n) in outcomes {
        let want = expected.values().filter(|(o, _)| o == name).count() as u64;
        assert_eq!(n.as_u64().unwrap(), want, "{name}");
    }
    // Page requests: every URL with an HTTP outcome or a fetch failure (not robots/scope/depth/ssrf).
    let requested = expected
        .values()
        .filter(|(o, _)| !matches!(*o, "robots" | "scope" | "depth" | "ssrf"))
        .count() as u64;
    assert_eq!(report["pages_requested"].as_u64().unwrap(), requested);
    assert_eq!(report["decode_errors"].as_u64().unwrap(), 1);
    assert_eq!(report["resumed"], false);

    // Server side: each page once, robots.txt once per host, tdmrep only where robots allowed it,
    // nothing ever sent to a disallowed path, and our user agent on every request.
    let log = s.requests();
    assert!(log.iter().all(|l| l.user_agent == "quarrytest/1.0"));
    let mut counts: BTreeMap<(usize, String), usize> = BTreeMap::new();
    for l in &log {
        *counts.entry((l.host, l.path.clone())).or_default() += 1;
    }
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    assert!(!counts.contains_key(&(0, "/private/secret".to_string())));
    assert_eq!(s.paths(2), vec!["/robots.txt"]);
    assert_eq!(s.paths(1).iter().filter(|p| *p == "/robots.txt").count(), 1);
    assert!(s.paths(0).contains(&"/.well-known/tdmrep.json".to_string()));

    // Our reader: the HTML pages are documents, with the crawler's opt-out signals.
    let docs = documents(&out);
    let by_url: BTreeMap<&str, &quarry_corpus::Document> = docs
        .iter()
        .map(|d| (d.url.as_deref().unwrap(), d))
        .collect();
    let html_pages: BTreeSet<&str> = expected
        .iter()
        .filter(|(_, (o, _))| *o == "fetched")
        .map(|(u, _)| u.as_str())
        .collect();
    assert_eq!(by_url.keys().copied().collect::<BTreeSet<_>>(), html_pages);
    let ai = |u: &str| match by_url[u].meta("robots_ai_disallow") {
        Some(MetaValue::List(l)) => l.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
        None => Vec::<String>::new(),
        other => panic!("{other:?}"),
    };
    assert_eq!(ai(&format!("{a}/articles/1")), ["GPTBot", "CCBot"]);
    assert_eq!(ai(&format!("{a}/about")), ["Google-Extended"]);
    assert!(ai(&format!("{a}/")).is_empty());
    assert!(ai(&format!("{b}/")).is_empty());
    assert_eq!(
        by_url[format!("{a}/reserved/r1").as_str()]
            .meta("tdm_reservation")
            .and_then(|v| v.as_bool()),
        Some(true)
    );
    assert!(by_url[format!("{a}/about").as_str()]
        .meta("tdm_reservation")
        .is_none());
    // The gzip page was stored as sent and decodes on reading.
    let gz = by_url[format!("{a}/gz-ok").as_str()];
    assert!(String::from_utf8_lossy(&gz.raw.as_ref().unwrap().body).contains("gz-child"));

    // Every WARC file is finished (no `.open` left) and `quarry inspect` reads it.
    assert!(std::fs::read_dir(&out).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".open")));
    for f in warc_files(&out) {
        let o = quarry().arg("inspect").arg(&f).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    // warcio reads every record, with valid digests (skipped only when warcio is not installed).
    warcio_check(&out, &expected);

    // `quarry license --json` marks the AI-disallowed and TDM-reserved pages as opted out.
    let files: Vec<_> = warc_files(&out);
    let o = quarry()
        .arg("license")
        .arg("--json")
        .arg("--input")
        .args(&files)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let r = v["opt_out_reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap().to_string())
            .collect();
        reasons.insert(v["url"].as_str().unwrap().to_string(), r);
    }
    assert_eq!(reasons[&format!("{a}/articles/1")], ["robots_ai"]);
    assert_eq!(reasons[&format!("{a}/about")], ["robots_ai"]);
    assert_eq!(reasons[&format!("{a}/reserved/r1")], ["tdm_reservation"]);
    assert!(reasons[&format!("{a}/d1")].is_empty());

    // A recipe with `license` drop_opted_out keeps exactly the pages without opt-out.
    let recipe = dir.write(
        "r.toml",
        &format!(
            "name = \"crawl opt-out\"\n[input]\npaths = [\"{}/*.warc.gz\"]\n[output]\npath = \"{}\"\nformat = \"jsonl\"\n[[stages]]\ntype = \"license\"\ndrop_opted_out = true\n",
            out.display(),
            dir.path().join("corpus").display()
        ),
    );
    let o = quarry().arg("run").arg(&recipe).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut kept = BTreeSet::new();
    for e in walk(&dir.path().join("corpus")) {
        let name = e.to_string_lossy().to_string();
        if !(name.ends_with(".jsonl")
            || name.ends_with(".jsonl.gz")
            || name.ends_with(".jsonl.zst"))
        {
            continue;
        }
        // Our own JSONL.zst reader, through `quarry inspect --json`.
        let o = quarry()
            .args(["inspect", "--json", "--limit", "0"])
            .arg(&e)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for l in String::from_utf8_lossy(&o.stdout).lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else {
                continue;
            };
            if let Some(u) = v.get("url").and_then(|u| u.as_str()) {
                kept.insert(u.to_string());
            } else if let Some(u) = v["metadata"]["url"].as_str() {
                kept.insert(u.to_string());
            }
        }
    }
    let opted: BTreeSet<String> = [
        format!("{a}/articles/1"),
        format!("{a}/articles/2"),
        format!("{a}/about"),
        format!("{a}/reserved/r1"),
    ]
    .into();
    let want: BTreeSet<String> = html_pages
        .iter()
        .map(|u| u.to_string())
        .filter(|u| !opted.contains(u))
        .collect();
    assert_eq!(kept, want);
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Runs scripts/crawl/warcio_check.py over the output and compares its record counts with ours.
fn warcio_check(out: &Path, expected: &BTreeMap<String, (&str, &str)>) {
    let py = std::env::var("QUARRY_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = Command::new(&py)
        .args(["-c", "import warcio"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        eprintln!("warcio not installed for {py}: skipping the warcio check (scripts/test.sh installs it)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/crawl/warcio_check.py");
    let o = Command::new(&py)
        .arg(script)
        .args(warc_files(out))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "warcio: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // One response per URL that got an HTTP answer, plus robots.txt (3 hosts) and tdmrep (2 hosts
    // whose robots.txt allowed it: hosts 0 and 1).
    let answered = expected.values().filter(|(_, s)| !s.is_empty()).count() as u64;
    assert_eq!(v["response"].as_u64().unwrap(), answered + 3 + 2, "{v}");
    assert_eq!(v["request"], v["response"]);
    assert_eq!(v["metadata"].as_u64().unwrap(), answered, "{v}");
    assert_eq!(
        v["warcinfo"].as_u64().unwrap(),
        warc_files(out).len() as u64
    );
    assert_eq!(v["digest_errors"].as_u64().unwrap(), 0, "{v}");
    assert_eq!(v["ai_disallow_headers"].as_u64().unwrap(), 3, "{v}");
}

#[test]
fn refuses_private_addresses_without_allow_private() {
    let s = site();
    let dir = TestDir::new();
    let seeds = dir.write("seeds.txt", &format!("{}/\n", s.origins[0]));
    let out = dir.path().join("out");
    let o = quarry()
        .args(["crawl", "--seeds"])
        .arg(&seeds)
        .arg("--out")
        .arg(&out)
        .args(["--delay-ms", "0", "--timeout-ms", "1000"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got = urls_tsv(&out);
    assert_eq!(got.len(), 1);
    assert_eq!(got[&format!("{}/", s.origins[0])].0, "ssrf");
    assert!(
        s.requests().is_empty(),
        "nothing may reach a refused address"
    );
    // --allow-private lets the same crawl through.
    let out2 = dir.path().join("out2");
    let o = quarry()
        .args([
            "crawl",
            "--allow-private",
            "--max-depth",
            "0",
            "--delay-ms",
            "0",
            "--seeds",
        ])
        .arg(&seeds)
        .arg("--out")
        .arg(&out2)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(urls_tsv(&out2)[&format!("{}/", s.origins[0])].0, "fetched");
}

/// A site of `n` pages in a chain of link lists, each page answering after `delay`.
fn big_site(n: usize, delay: Duration) -> Site {
    let handler = move |_: usize, path: &str| -> Reply {
        let Some(Ok(i)) = path.strip_prefix("/p").map(str::parse::<usize>) else {
            return Reply::status(404);
        };
        let links: String = (1..=4)
            .map(|k| i * 4 + k)
            .filter(|&j| j < n)
            .map(|j| format!("<a href=\"/p{j}\">p{j}</a>"))
            .collect();
        let mut r = Reply::html(&format!("<html><body><p>page {i}</p>{links}</body></html>"));
        r.delay = delay;
        r
    };
    Site::start(&IPS[..1], Arc::new(handler))
}

/// Waits until the running crawl has committed `n` pages to its journal (fails if it ends first or
/// makes no progress for 30 s, showing its log).
fn wait_for_pages(child: &mut std::process::Child, out: &Path, log: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done = std::fs::read_to_string(out.join("journal.jsonl"))
            .map(|t| t.matches("\"k\":\"done\"").count())
            .unwrap_or(0);
        if done >= n {
            return;
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!(
                "crawl ended or made no progress: {}",
                std::fs::read_to_string(log).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn resumes_after_sigkill_without_refetching() {
    let n = 60;
    let s = big_site(n, Duration::from_millis(40));
    let dir = TestDir::new();
    let seeds = dir.write("seeds.txt", &format!("{}/p0\n", s.origins[0]));
    let out = dir.path().join("out");
    let args = ["--max-depth", "10", "--concurrency", "2"];
    let log = std::fs::File::create(dir.path().join("first-run.log")).unwrap();
    let mut child = crawl_cmd(&seeds, &out, &args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    // Kill it once some pages are committed to the journal.
    wait_for_pages(&mut child, &out, &dir.path().join("first-run.log"), 15);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first: Vec<String> = s.paths(0);
    assert!(
        first.len() < n,
        "the crawl must be cut short ({} requests)",
        first.len()
    );
    assert!(out.join("crawl-00000.warc.gz.open").exists());
    // Pages committed before the kill.
    let committed: BTreeSet<String> = std::fs::read_to_string(out.join("journal.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["k"] == "done")
        .map(|v| v["url"].as_str().unwrap().to_string())
        .collect();

    let o = crawl_cmd(&seeds, &out, &args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let all = s.paths(0);
    let second = &all[first.len()..];
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &all {
        *counts.entry(p.as_str()).or_default() += 1;
    }
    // No committed page is fetched again; only requests in flight at the kill (at most
    // `--concurrency`) are repeated.
    for p in second {
        let u = format!("{}{p}", s.origins[0]);
        assert!(!committed.contains(&u), "{u} fetched again after resume");
    }
    let repeated: Vec<_> = counts
        .iter()
        .filter(|(p, c)| **c > 1 && **p != "/robots.txt")
        .collect();
    assert!(repeated.len() <= 2, "{repeated:?}");

    // The final set of pages equals an uninterrupted run's.
    let out2 = dir.path().join("out2");
    let o = crawl_cmd(&seeds, &out2, &args).output().unwrap();
    assert!(o.status.success());
    assert_eq!(urls_tsv(&out), urls_tsv(&out2));
    let pages = |out: &Path| -> BTreeSet<String> {
        documents(out).into_iter().map(|d| d.url.unwrap()).collect()
    };
    let p1 = pages(&out);
    assert_eq!(p1.len(), n);
    assert_eq!(p1, pages(&out2));
    // Each page's response record is in the WARC output exactly once.
    assert_eq!(documents(&out).len(), n);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("crawl-report.json")).unwrap()).unwrap();
    assert_eq!(report["resumed"], true);
    assert_eq!(report["outcomes"]["fetched"].as_u64().unwrap(), n as u64);
    // A third run over a finished crawl fetches nothing.
    let before = s.paths(0).len();
    let o = crawl_cmd(&seeds, &out, &args).output().unwrap();
    assert!(o.status.success());
    let after: Vec<String> = s.paths(0)[before..].to_vec();
    assert!(after.iter().all(|p| p == "/robots.txt"), "{after:?}");
}

/// Ctrl-C (SIGINT) stops a crawl gracefully: the requests in flight finish and are journalled, the
/// WARC file is closed, the report says `interrupted` with the queued URLs `stopped`, the exit code is
/// 130; a rerun continues and fetches no page twice.
#[test]
fn ctrl_c_stops_gracefully_and_a_rerun_fetches_nothing_twice() {
    let n = 60;
    let s = big_site(n, Duration::from_millis(40));
    let dir = TestDir::new();
    let seeds = dir.write("seeds.txt", &format!("{}/p0\n", s.origins[0]));
    let out = dir.path().join("out");
    let args = ["--max-depth", "10", "--concurrency", "2"];
    let log = dir.path().join("first-run.log");
    let mut child = crawl_cmd(&seeds, &out, &args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for_pages(&mut child, &out, &log, 15);
    let k = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(k.success());
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(text.contains("stopped by Ctrl-C"), "{text}");
    let first = s.paths(0);
    assert!(first.len() < n, "the crawl must be cut short");
    assert!(
        !out.join("crawl-00000.warc.gz.open").exists(),
        "the WARC file is closed"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("crawl-report.json")).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true);
    assert!(
        report["outcomes"]["stopped"].as_u64().unwrap() > 0,
        "{report}"
    );
    let sum: u64 = report["outcomes"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(sum, report["urls_seen"].as_u64().unwrap());

    let o = crawl_cmd(&seeds, &out, &args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for p in s.paths(0) {
        *counts.entry(p).or_default() += 1;
    }
    // (a run reads each host's robots.txt and tdmrep.json afresh; pages are never fetched twice)
    let repeated: Vec<_> = counts
        .iter()
        .filter(|(p, c)| {
            **c > 1 && !["/robots.txt", "/.well-known/tdmrep.json"].contains(&p.as_str())
        })
        .collect();
    assert!(repeated.is_empty(), "fetched twice: {repeated:?}");
    assert_eq!(documents(&out).len(), n);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("crawl-report.json")).unwrap()).unwrap();
    assert_eq!(report["interrupted"], false);
    assert_eq!(report["outcomes"]["stopped"], 0);
    assert_eq!(report["outcomes"]["fetched"].as_u64().unwrap(), n as u64);
}

#[test]
fn max_pages_stops_and_a_larger_limit_continues() {
    let s = big_site(30, Duration::ZERO);
    let dir = TestDir::new();
    let seeds = dir.write("seeds.txt", &format!("{}/p0\n", s.origins[0]));
    let out = dir.path().join("out");
    let args = [
        "--max-depth",
        "10",
        "--concurrency",
        "1",
        "--max-pages",
        "10",
    ];
    let o = crawl_cmd(&seeds, &out, &args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = urls_tsv(&out);
    assert_eq!(r.values().filter(|v| v.0 == "fetched").count(), 10);
    assert!(r.values().any(|v| v.0 == "max_pages"));
    let o = crawl_cmd(&seeds, &out, &["--max-depth", "10", "--max-pages", "100"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let r = urls_tsv(&out);
    assert_eq!(r.values().filter(|v| v.0 == "fetched").count(), 30);
    assert_eq!(r.len(), 30);
    // concurrency 1 and one host: the fetch order is the discovery order (BFS).
    let order: Vec<String> = s
        .paths(0)
        .into_iter()
        .filter(|p| p.starts_with("/p"))
        .collect();
    let want: Vec<String> = (0..30).map(|i| format!("/p{i}")).collect();
    assert_eq!(order, want);
}
