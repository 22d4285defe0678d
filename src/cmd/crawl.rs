//! `quarry crawl --seeds FILE --out DIR [...]`: a polite crawl from seed URLs into WARC files.
//!
//! Run it again with the same `--out` to resume a stopped crawl. See `docs/crawl.md`.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use quarry_corpus::crawl::{crawl, AddressPolicy, CrawlConfig};

/// Flags of `quarry crawl`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// File of seed URLs, one per line (`#` comments and blank lines ignored).
    #[arg(long, value_name = "FILE")]
    pub seeds: String,
    /// Output folder: WARC files, `journal.jsonl`, `crawl-urls.tsv`, `crawl-report.json`.
    #[arg(long, value_name = "DIR")]
    pub out: String,
    /// Stop after this many page requests (robots.txt and tdmrep.json not counted), over all runs
    /// of this output folder.
    #[arg(long)]
    pub max_pages: Option<u64>,
    /// Follow links at most this many hops from a seed.
    #[arg(long, default_value_t = 5)]
    pub max_depth: u32,
    /// `host` (the seeds' hosts), `domain` (the seeds' hosts and their subdomains, `www.` removed)
    /// or a regular expression the normalised URL must match.
    #[arg(long, default_value = "host")]
    pub scope: String,
    /// User-Agent header; its product token (before `/`) selects the robots.txt group.
    #[arg(long)]
    pub user_agent: Option<String>,
    /// Requests in flight overall (at most one per host).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Milliseconds between requests to the same host (robots.txt crawl-delay wins when larger).
    #[arg(long, default_value_t = 1000)]
    pub delay_ms: u64,
    /// Whole-request timeout in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub timeout_ms: u64,
    /// Response body cap in bytes; larger responses are skipped (`too_large`).
    #[arg(long, default_value_t = 10 << 20)]
    pub max_bytes: u64,
    /// Comma-separated MIME types accepted for pages; others are skipped (`content_type`).
    #[arg(long, default_value = "text/html,application/xhtml+xml")]
    pub content_types: String,
    /// Redirect hops followed from one URL.
    #[arg(long, default_value_t = 5)]
    pub max_redirects: u32,
    /// Allow private, loopback, link-local and unique-local addresses (SSRF guard off).
    #[arg(long)]
    pub allow_private: bool,
    /// Allow one private network (CIDR, e.g. 127.0.0.2/32) while refusing the rest; repeatable.
    #[arg(long, value_name = "CIDR")]
    pub allow_net: Vec<String>,
    /// WARC files roll past this many bytes.
    #[arg(long, default_value_t = 1 << 30)]
    pub warc_size: u64,
    /// WARC file name prefix (`<prefix>-00000.warc.gz`) and warcinfo `isPartOf`.
    #[arg(long, default_value = "crawl")]
    pub warc_prefix: String,
}

/// Runs the crawl and prints its outcome counts.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.seeds)
        .with_context(|| format!("reading seeds from {}", args.seeds))?;
    let seeds: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let mut cfg = CrawlConfig::new(seeds, &args.out);
    cfg.max_pages = args.max_pages;
    cfg.max_depth = args.max_depth;
    cfg.scope = args.scope;
    if let Some(ua) = args.user_agent {
        cfg.user_agent = ua;
    }
    cfg.concurrency = args.concurrency.max(1);
    cfg.delay = Duration::from_millis(args.delay_ms);
    cfg.timeout = Duration::from_millis(args.timeout_ms.max(1));
    cfg.max_bytes = args.max_bytes;
    cfg.content_types = args
        .content_types
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    cfg.max_redirects = args.max_redirects;
    cfg.policy = AddressPolicy {
        allow_all: args.allow_private,
        allowed_nets: args
            .allow_net
            .iter()
            .map(|n| {
                n.parse()
                    .or_else(|_| n.parse::<std::net::IpAddr>().map(Into::into))
                    .with_context(|| format!("--allow-net `{n}` is not a CIDR network"))
            })
            .collect::<anyhow::Result<_>>()?,
    };
    cfg.warc_max_bytes = args.warc_size;
    cfg.warc_prefix = args.warc_prefix;
    cfg.stop_on_ctrl_c = true;
    let out = cfg.out.clone();
    let r = crawl(cfg)?;
    eprintln!(
        "{} URLs seen, {} pages requested in {:.1}s ({:.1} pages/s){}",
        r.urls_seen,
        r.pages_requested,
        r.elapsed_s,
        r.pages_per_s,
        if r.resumed { ", resumed" } else { "" }
    );
    for (k, v) in r.outcomes.iter().filter(|(_, v)| **v > 0) {
        eprintln!("  {k:<20} {v}");
    }
    eprintln!("WARC files: {}", r.warc_files.join(", "));
    if r.interrupted {
        eprintln!(
            "stopped by Ctrl-C: rerun the same command to continue ({} in {})",
            "journal.jsonl",
            out.display()
        );
        // the shell's convention for "ended by SIGINT"
        return Ok(ExitCode::from(130));
    }
    Ok(ExitCode::SUCCESS)
}
