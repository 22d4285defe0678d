//! `quarry cc list|fetch`: Common Crawl path listings and downloads of slices of a crawl.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use quarry_corpus::cc::{self, FetchOptions, Kind};

/// Flags of `quarry cc`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

/// `quarry cc` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print the object paths of a crawl's listing (one per line).
    List(ListArgs),
    /// Download a slice of a crawl (resumable, retried, checked) into a folder.
    Fetch(FetchArgs),
}

/// Which crawl, which files, from where.
#[derive(clap::Args, Debug, Clone)]
pub struct Source {
    /// The crawl, e.g. CC-MAIN-2024-10.
    #[arg(long)]
    pub crawl: String,
    /// Which listing: warc, wet or wat.
    #[arg(long, default_value = "warc")]
    pub kind: String,
    /// Where the crawl is served: https://data.commoncrawl.org, s3://commoncrawl, or a mirror.
    #[arg(long, default_value = cc::DEFAULT_BASE, env = "QUARRY_CC_BASE")]
    pub base: String,
    /// Keep only shard I of N of the listing (paths I, I+N, ...), e.g. 3/100.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Keep at most this many paths (after --shard / --slice).
    #[arg(long)]
    pub limit: Option<usize>,
}

/// Flags of `quarry cc list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub source: Source,
    /// Print full URLs instead of paths.
    #[arg(long)]
    pub urls: bool,
}

/// Flags of `quarry cc fetch`.
#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    #[command(flatten)]
    pub source: Source,
    /// Listing entries A..B (0-based, half-open; `A..` to the end).
    #[arg(long, value_name = "A..B", conflicts_with = "paths")]
    pub slice: Option<String>,
    /// A file of paths to fetch (one per line, as `quarry cc list` prints) instead of the listing.
    #[arg(long, value_name = "FILE")]
    pub paths: Option<PathBuf>,
    /// Output folder; files land at OUT/<path> with OUT/cc-manifest.json.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Downloads in flight at once.
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Attempts after the first per file (each resumes where the last stopped).
    #[arg(long, default_value_t = 8)]
    pub retries: u32,
    /// First backoff in milliseconds (doubles per attempt, with full jitter).
    #[arg(long, default_value_t = 1000)]
    pub backoff_ms: u64,
    /// Backoff cap in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub max_backoff_ms: u64,
}

/// Runs `quarry cc`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::List(a) => list(a),
        Command::Fetch(a) => fetch(a),
    }
}

fn select(src: &Source, slice: Option<&str>, listed: Vec<String>) -> anyhow::Result<Vec<String>> {
    let mut paths = listed;
    if let Some(s) = slice {
        paths = cc::slice(&paths, s)?;
    }
    if let Some(s) = &src.shard {
        let (i, n) = cc::parse_shard(s)?;
        paths = cc::shard(&paths, i, n)?;
    }
    if let Some(l) = src.limit {
        paths.truncate(l);
    }
    Ok(paths)
}

fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let kind: Kind = a.source.kind.parse()?;
    let listed = cc::list_paths(&a.source.base, &a.source.crawl, kind)?;
    let n = listed.len();
    let paths = select(&a.source, None, listed)?;
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for p in &paths {
        let line = if a.urls {
            cc::object_url(&a.source.base, p)
        } else {
            p.clone()
        };
        if writeln!(w, "{line}").is_err() {
            // A closed pipe (`| head`) is not an error.
            return Ok(ExitCode::SUCCESS);
        }
    }
    let _ = w.flush();
    eprintln!(
        "{} of {n} {} path(s) of {}",
        paths.len(),
        kind.as_str(),
        a.source.crawl
    );
    Ok(ExitCode::SUCCESS)
}

fn fetch(a: FetchArgs) -> anyhow::Result<ExitCode> {
    let kind: Kind = a.source.kind.parse()?;
    cc::check_crawl(&a.source.crawl)?;
    let listed = match &a.paths {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("reading {}", f.display()))?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect(),
        None => cc::list_paths(&a.source.base, &a.source.crawl, kind)?,
    };
    let paths = select(&a.source, a.slice.as_deref(), listed)?;
    anyhow::ensure!(!paths.is_empty(), "nothing selected to fetch");
    let opts = FetchOptions {
        jobs: a.jobs,
        retries: a.retries,
        backoff: Duration::from_millis(a.backoff_ms),
        max_backoff: Duration::from_millis(a.max_backoff_ms),
    };
    eprintln!(
        "fetching {} file(s) from {} into {} ({} at a time)",
        paths.len(),
        a.source.base,
        a.out.display(),
        opts.jobs
    );
    let r = cc::fetch_paths(&a.source.base, &paths, &a.out, &opts)?;
    eprintln!(
        "{} downloaded ({} bytes received, {} bytes resumed from partial files, {} retries), {} already present; manifest {}",
        r.downloaded.len(),
        r.bytes_received,
        r.bytes_resumed,
        r.retries,
        r.already,
        r.manifest.display()
    );
    Ok(ExitCode::SUCCESS)
}
