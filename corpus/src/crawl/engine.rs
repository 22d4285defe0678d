//! The crawl loop: one coordinator owns the frontier, the seen set, the journal and the WARC
//! output; fetches run as tokio tasks and report back over a channel. See the
//! [module documentation](super) for the behaviour.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;
use url::Url;

use super::fetch::{FetchError, FetchLimits, Fetched, Fetcher};
use super::journal::{AddEntry, Event, Journal};
use super::links::{self, PageLinks};
use super::output::WarcFiles;
use super::robots::{Robots, MAX_ROBOTS_BYTES};
use super::tdmrep::TdmRep;
use super::urls::{self, AddressPolicy, Scope};
use super::{MAX_CRAWL_DELAY, OUTCOMES};
use crate::warc::http as whttp;
use crate::warc::writer::{format_warc_date, record_id_from_hash, RecordSpec, WriteType};

/// Settings of one crawl.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// Seed URLs.
    pub seeds: Vec<String>,
    /// Output folder (WARC files, journal, report).
    pub out: PathBuf,
    /// Stop after this many page requests (robots.txt and tdmrep.json not counted), over all runs.
    pub max_pages: Option<u64>,
    /// Links deeper than this many hops from a seed are not followed.
    pub max_depth: u32,
    /// `host`, `domain` or a regular expression over the normalised URL.
    pub scope: String,
    /// `User-Agent`; its product token (before `/`) selects the robots.txt group.
    pub user_agent: String,
    /// Requests in flight overall.
    pub concurrency: usize,
    /// Pause between requests to one host.
    pub delay: Duration,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Response body cap in bytes.
    pub max_bytes: u64,
    /// MIME types accepted for pages (lower case).
    pub content_types: Vec<String>,
    /// Redirect hops followed from one URL.
    pub max_redirects: u32,
    /// SSRF guard.
    pub policy: AddressPolicy,
    /// WARC files roll past this size.
    pub warc_max_bytes: u64,
    /// WARC file name prefix.
    pub warc_prefix: String,
    /// Stop gracefully on Ctrl-C (SIGINT): start nothing new, let the requests in flight finish and
    /// be journalled, close the WARC file, write the report (`interrupted: true`); a rerun of the
    /// same command then resumes without fetching anything twice. A second Ctrl-C exits at once
    /// (the journal still makes the crawl resumable, as after a kill). Off for library callers,
    /// whose process may want SIGINT for itself.
    pub stop_on_ctrl_c: bool,
}

impl CrawlConfig {
    /// Defaults for everything but seeds and output folder.
    pub fn new(seeds: Vec<String>, out: impl Into<PathBuf>) -> Self {
        CrawlConfig {
            seeds,
            out: out.into(),
            max_pages: None,
            max_depth: 5,
            scope: "host".into(),
            user_agent: format!(
                "quarrybot/{} (+https://example.invalid/quarry)",
                env!("CARGO_PKG_VERSION")
            ),
            concurrency: 8,
            delay: Duration::from_millis(1000),
            timeout: Duration::from_secs(30),
            max_bytes: 10 << 20,
            content_types: vec!["text/html".into(), "application/xhtml+xml".into()],
            max_redirects: 5,
            policy: AddressPolicy::default(),
            warc_max_bytes: 1 << 30,
            warc_prefix: "crawl".into(),
            stop_on_ctrl_c: false,
        }
    }
}

/// Why a crawl could not run.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// Bad settings (seed, scope).
    #[error("{0}")]
    Config(String),
    /// Output folder, journal or WARC I/O.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> CrawlError {
    let context = context.into();
    move |source| CrawlError::Io { context, source }
}

/// What a crawl did (`crawl-report.json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CrawlReport {
    /// Distinct normalised URLs seen (all runs).
    pub urls_seen: u64,
    /// Outcome → URL count (all runs); sums to `urls_seen`.
    pub outcomes: BTreeMap<String, u64>,
    /// Page requests made by this run.
    pub pages_requested: u64,
    /// robots.txt requests made by this run.
    pub robots_requested: u64,
    /// tdmrep.json requests made by this run.
    pub tdmrep_requested: u64,
    /// Response body bytes received by this run.
    pub bytes_received: u64,
    /// Pages whose `Content-Encoding` could not be decoded (recorded, links not extracted).
    pub decode_errors: u64,
    /// Fetched pages with at least one AI crawler disallowed by robots.txt (this run).
    pub pages_ai_disallowed: u64,
    /// Fetched pages with a TDMRep reservation (this run).
    pub pages_tdm_reserved: u64,
    /// WARC files written (all runs), in order.
    pub warc_files: Vec<String>,
    /// This run continued an earlier one.
    pub resumed: bool,
    /// This run was stopped by Ctrl-C before the frontier was empty (URLs still queued are
    /// `stopped`; rerun to continue).
    pub interrupted: bool,
    /// Seconds this run took.
    pub elapsed_s: f64,
    /// `pages_requested / elapsed_s`.
    pub pages_per_s: f64,
}

enum RobotsState {
    Unknown,
    Ready(Robots, Option<TdmRep>),
    /// The host's address is refused: every URL of it ends `ssrf`.
    Refused,
}

struct HostState {
    origin: Url,
    queue: VecDeque<AddEntry>,
    robots: RobotsState,
    busy: bool,
    next_at: Instant,
    delay: Duration,
}

struct Hop {
    url: Url,
    res: Result<Fetched, FetchError>,
}

enum Msg {
    Host {
        host: usize,
        robots: Vec<Hop>,
        tdm: Option<Hop>,
    },
    Page {
        host: usize,
        item: AddEntry,
        hop: Hop,
        links: Option<PageLinks>,
        decode_error: bool,
    },
}

struct Outcome {
    outcome: String,
    status: Option<u16>,
    depth: u32,
}

struct Crawler {
    cfg: CrawlConfig,
    scope: Scope,
    fetcher: Arc<Fetcher>,
    journal: Journal,
    warc: WarcFiles,
    hosts: Vec<HostState>,
    host_index: HashMap<String, usize>,
    seen: HashSet<String>,
    outcomes: BTreeMap<String, Outcome>,
    pages_started: u64,
    in_flight: usize,
    rr: usize,
    report: CrawlReport,
    rec_seq: u64,
    /// Ctrl-C was pressed: start nothing new.
    stopping: bool,
}

/// Runs a crawl to completion (or resumes one in `cfg.out`) and returns its report, also written
/// to `crawl-report.json` beside `crawl-urls.tsv`.
pub fn crawl(cfg: CrawlConfig) -> Result<CrawlReport, CrawlError> {
    let threads = cfg.concurrency.clamp(1, 4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(io_err("starting the async runtime"))?;
    rt.block_on(run(cfg))
}

async fn run(cfg: CrawlConfig) -> Result<CrawlReport, CrawlError> {
    let start = Instant::now();
    std::fs::create_dir_all(&cfg.out).map_err(io_err(format!("creating {}", cfg.out.display())))?;
    let seeds: Vec<Url> = cfg
        .seeds
        .iter()
        .map(|s| {
            urls::resolve(None, s)
                .ok_or_else(|| CrawlError::Config(format!("seed `{s}` is not an http(s) URL")))
        })
        .collect::<Result<_, _>>()?;
    if seeds.is_empty() {
        return Err(CrawlError::Config("no seed URLs".into()));
    }
    let scope = Scope::parse(&cfg.scope, &seeds)
        .map_err(|e| CrawlError::Config(format!("--scope `{}`: {e}", cfg.scope)))?;
    let fetcher = Fetcher::new(FetchLimits {
        user_agent: cfg.user_agent.clone(),
        timeout: cfg.timeout,
        max_bytes: cfg.max_bytes,
        content_types: cfg.content_types.clone(),
        policy: cfg.policy.clone(),
    })
    .map_err(CrawlError::Config)?;
    let (journal, events) = Journal::open(&cfg.out).map_err(io_err(format!(
        "opening the journal in {}",
        cfg.out.display()
    )))?;
    let info = vec![
        (
            "software".to_string(),
            format!("quarry/{}", env!("CARGO_PKG_VERSION")),
        ),
        ("format".to_string(), "WARC File Format 1.1".to_string()),
        (
            "conformsTo".to_string(),
            "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
                .to_string(),
        ),
        ("robots".to_string(), "obey".to_string()),
        ("http-header-user-agent".to_string(), cfg.user_agent.clone()),
        ("isPartOf".to_string(), cfg.warc_prefix.clone()),
    ];
    let warc = WarcFiles::new(&cfg.out, &cfg.warc_prefix, cfg.warc_max_bytes, info);
    let mut c = Crawler {
        scope,
        fetcher: Arc::new(fetcher),
        journal,
        warc,
        hosts: Vec::new(),
        host_index: HashMap::new(),
        seen: HashSet::new(),
        outcomes: BTreeMap::new(),
        pages_started: 0,
        in_flight: 0,
        rr: 0,
        report: CrawlReport {
            resumed: !events.is_empty(),
            ..Default::default()
        },
        rec_seq: 0,
        stopping: false,
        cfg,
    };
    c.replay(events)?;
    for s in seeds {
        if c.seen.insert(s.to_string()) {
            let a = AddEntry {
                url: s.to_string(),
                depth: 0,
                via: None,
                chain: Vec::new(),
            };
            c.journal
                .append(&Event::Add(a.clone()))
                .map_err(io_err("writing the journal"))?;
            c.enqueue(a, false);
        }
    }
    c.main_loop().await?;
    c.finish(start)
}

impl Crawler {
    fn replay(&mut self, events: Vec<Event>) -> Result<(), CrawlError> {
        let mut pending: Vec<Option<AddEntry>> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut finished = Vec::new();
        let mut open: Option<(String, u64)> = None;
        fn add(
            a: AddEntry,
            seen: &mut HashSet<String>,
            index: &mut HashMap<String, usize>,
            pending: &mut Vec<Option<AddEntry>>,
        ) {
            seen.insert(a.url.clone());
            index.insert(a.url.clone(), pending.len());
            pending.push(Some(a));
        }
        for e in events {
            match e {
                Event::Add(a) => add(a, &mut self.seen, &mut index, &mut pending),
                Event::Done {
                    url,
                    outcome,
                    status,
                    depth,
                    warc,
                    add: adds,
                    skip,
                } => {
                    if let Some(i) = index.get(&url) {
                        pending[*i] = None;
                    }
                    if requested(&outcome, status) {
                        self.pages_started += 1;
                    }
                    self.seen.insert(url.clone());
                    self.outcomes.insert(
                        url,
                        Outcome {
                            outcome,
                            status,
                            depth,
                        },
                    );
                    for a in adds {
                        add(a, &mut self.seen, &mut index, &mut pending);
                    }
                    for (u, d, r) in skip {
                        self.seen.insert(u.clone());
                        self.outcomes.insert(
                            u,
                            Outcome {
                                outcome: r,
                                status: None,
                                depth: d,
                            },
                        );
                    }
                    if let Some(w) = warc {
                        open = Some(w);
                    }
                }
                Event::Warc {
                    file,
                    end,
                    finished: f,
                } => {
                    if f {
                        finished.push(file);
                        open = None;
                    } else {
                        open = Some((file, end));
                    }
                }
            }
        }
        self.warc
            .resume(finished, open)
            .map_err(io_err("resuming the open WARC file"))?;
        for a in pending.into_iter().flatten() {
            if !self.outcomes.contains_key(&a.url) {
                self.enqueue(a, false);
            }
        }
        Ok(())
    }

    fn host_of(&mut self, u: &Url) -> usize {
        let key = urls::host_key(u);
        if let Some(&i) = self.host_index.get(&key) {
            return i;
        }
        let mut origin = u.clone();
        origin.set_path("/");
        origin.set_query(None);
        self.hosts.push(HostState {
            origin,
            queue: VecDeque::new(),
            robots: RobotsState::Unknown,
            busy: false,
            next_at: Instant::now(),
            delay: self.cfg.delay,
        });
        self.host_index.insert(key, self.hosts.len() - 1);
        self.hosts.len() - 1
    }

    fn enqueue(&mut self, a: AddEntry, front: bool) {
        let Ok(u) = Url::parse(&a.url) else {
            return;
        };
        let h = self.host_of(&u);
        if front {
            self.hosts[h].queue.push_front(a);
        } else {
            self.hosts[h].queue.push_back(a);
        }
    }

    fn limit_reached(&self) -> bool {
        self.cfg.max_pages.is_some_and(|m| self.pages_started >= m)
    }

    async fn main_loop(&mut self) -> Result<(), CrawlError> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        let on_ctrl_c = self.cfg.stop_on_ctrl_c;
        let ctrl_c = async move {
            if on_ctrl_c {
                tokio::signal::ctrl_c().await
            } else {
                std::future::pending().await
            }
        };
        tokio::pin!(ctrl_c);
        loop {
            if !self.stopping {
                self.dispatch(&tx)?;
            }
            let now = Instant::now();
            let waiting = self
                .hosts
                .iter()
                .filter(|h| !h.busy && !h.queue.is_empty())
                .map(|h| h.next_at)
                .min();
            let can_start = !self.stopping
                && (!self.limit_reached()
                    || self.hosts.iter().any(|h| {
                        !h.busy && !h.queue.is_empty() && matches!(h.robots, RobotsState::Refused)
                    }));
            if self.in_flight == 0 && (waiting.is_none() || !can_start) {
                break;
            }
            let wake =
                waiting.filter(|_| can_start && self.in_flight < self.cfg.concurrency.max(1));
            tokio::select! {
                m = rx.recv(), if self.in_flight > 0 => {
                    if let Some(m) = m {
                        self.in_flight -= 1;
                        self.handle(m)?;
                    }
                }
                _ = tokio::time::sleep_until(wake.unwrap_or(now + Duration::from_secs(3600)).into()), if wake.is_some() => {}
                r = &mut ctrl_c, if !self.stopping => {
                    if r.is_ok() {
                        self.stopping = true;
                        eprintln!(
                            "Ctrl-C: finishing {} request(s) in flight, then stopping (Ctrl-C again to quit at once)",
                            self.in_flight
                        );
                        tokio::spawn(async {
                            if tokio::signal::ctrl_c().await.is_ok() {
                                eprintln!("stopped at once; rerun the same command to resume from the journal");
                                std::process::exit(130);
                            }
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Starts every job that may start now.
    fn dispatch(&mut self, tx: &mpsc::UnboundedSender<Msg>) -> Result<(), CrawlError> {
        let n = self.hosts.len();
        if n == 0 {
            return Ok(());
        }
        let mut idle_rounds = 0;
        while self.in_flight < self.cfg.concurrency.max(1) && idle_rounds < n {
            let h = self.rr % n;
            self.rr = self.rr.wrapping_add(1);
            let now = Instant::now();
            let host = &self.hosts[h];
            if host.busy || host.queue.is_empty() || host.next_at > now {
                idle_rounds += 1;
                continue;
            }
            let state = match &host.robots {
                RobotsState::Unknown => 0,
                RobotsState::Refused => 1,
                RobotsState::Ready(..) => 2,
            };
            match state {
                0 => {
                    self.hosts[h].busy = true;
                    self.in_flight += 1;
                    idle_rounds = 0;
                    let origin = self.hosts[h].origin.clone();
                    let fetcher = self.fetcher.clone();
                    let tx = tx.clone();
                    let ua = self.cfg.user_agent.clone();
                    tokio::spawn(async move {
                        let (robots, tdm) = fetch_host_files(&fetcher, &origin, &ua).await;
                        let _ = tx.send(Msg::Host {
                            host: h,
                            robots,
                            tdm,
                        });
                    });
                }
                1 => {
                    idle_rounds = 0;
                    while let Some(item) = self.hosts[h].queue.pop_front() {
                        self.finalise(
                            item.url.clone(),
                            "ssrf",
                            None,
                            item.depth,
                            None,
                            Vec::new(),
                            Vec::new(),
                        )?;
                    }
                }
                _ => {
                    if self.limit_reached() {
                        idle_rounds += 1;
                        continue;
                    }
                    let item = self.hosts[h].queue.pop_front().expect("non-empty queue");
                    let Ok(url) = Url::parse(&item.url) else {
                        continue;
                    };
                    let allowed = match &self.hosts[h].robots {
                        RobotsState::Ready(r, _) => {
                            r.allowed(&self.cfg.user_agent, &urls::path_and_query(&url))
                        }
                        _ => false,
                    };
                    if !allowed {
                        self.finalise(
                            item.url.clone(),
                            "robots",
                            None,
                            item.depth,
                            None,
                            Vec::new(),
                            Vec::new(),
                        )?;
                        idle_rounds = 0;
                        continue;
                    }
                    idle_rounds = 0;
                    self.hosts[h].busy = true;
                    self.in_flight += 1;
                    self.pages_started += 1;
                    self.report.pages_requested += 1;
                    let fetcher = self.fetcher.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let res = fetcher.get(&url, true).await;
                        let (links, decode_error) = match &res {
                            Ok(f) if (200..300).contains(&f.status) => page_links(f, &url),
                            _ => (None, false),
                        };
                        let _ = tx.send(Msg::Page {
                            host: h,
                            item,
                            hop: Hop { url, res },
                            links,
                            decode_error,
                        });
                    });
                }
            }
        }
        Ok(())
    }

    fn handle(&mut self, m: Msg) -> Result<(), CrawlError> {
        match m {
            Msg::Host { host, robots, tdm } => self.handle_host(host, robots, tdm),
            Msg::Page {
                host,
                item,
                hop,
                links,
                decode_error,
            } => self.handle_page(host, item, hop, links, decode_error),
        }
    }

    fn handle_host(
        &mut self,
        h: usize,
        robots: Vec<Hop>,
        tdm: Option<Hop>,
    ) -> Result<(), CrawlError> {
        self.report.robots_requested += robots.len() as u64;
        let mut refused = false;
        let mut outcome: Option<(Option<u16>, Vec<u8>)> = None;
        for hop in &robots {
            match &hop.res {
                Ok(f) => {
                    self.write_fetch(&hop.url, f, &[], &[])?;
                    outcome = Some((Some(f.status), f.body.clone()));
                }
                Err(FetchError::Ssrf(_)) => refused = true,
                Err(_) => outcome = Some((None, Vec::new())),
            }
        }
        let mut tdm_rules = None;
        if let Some(hop) = &tdm {
            self.report.tdmrep_requested += 1;
            if let Ok(f) = &hop.res {
                self.write_fetch(&hop.url, f, &[], &[])?;
                if (200..300).contains(&f.status) {
                    tdm_rules = TdmRep::parse(&decoded_body(f).0);
                }
            }
        }
        let host = &mut self.hosts[h];
        host.busy = false;
        if refused {
            host.robots = RobotsState::Refused;
        } else {
            let (status, body) = outcome.unwrap_or((None, Vec::new()));
            let body = if status.is_some_and(|s| (200..300).contains(&s)) {
                let f = robots.last().and_then(|hop| hop.res.as_ref().ok());
                f.map(|f| decoded_body(f).0).unwrap_or(body)
            } else {
                body
            };
            let r = Robots::from_status(status, &body[..body.len().min(MAX_ROBOTS_BYTES)]);
            if let Some(d) = r.crawl_delay(&self.cfg.user_agent) {
                let d = Duration::from_secs_f64(d.min(MAX_CRAWL_DELAY));
                if d > host.delay {
                    host.delay = d;
                }
            }
            host.robots = RobotsState::Ready(r, tdm_rules);
        }
        host.next_at = Instant::now() + host.delay;
        Ok(())
    }

    fn handle_page(
        &mut self,
        h: usize,
        item: AddEntry,
        hop: Hop,
        page_links: Option<PageLinks>,
        decode_error: bool,
    ) -> Result<(), CrawlError> {
        {
            let host = &mut self.hosts[h];
            host.busy = false;
            host.next_at = Instant::now() + host.delay;
        }
        let url = hop.url;
        let f = match hop.res {
            Err(e) => {
                tracing::debug!("{url}: {e}");
                return self.finalise(
                    item.url,
                    e.reason(),
                    None,
                    item.depth,
                    None,
                    Vec::new(),
                    Vec::new(),
                );
            }
            Ok(f) => f,
        };
        self.report.bytes_received += f.body.len() as u64;
        if decode_error {
            self.report.decode_errors += 1;
        }
        let mut adds = Vec::new();
        let mut skips = Vec::new();
        let mut outcome = "http_error";
        let mut redirect_front: Option<AddEntry> = None;
        let mut outlinks: Vec<String> = Vec::new();
        if (200..300).contains(&f.status) {
            outcome = "fetched";
            for l in page_links.map(|p| p.links).unwrap_or_default() {
                let key = l.to_string();
                outlinks.push(key.clone());
                if !self.seen.insert(key.clone()) {
                    continue;
                }
                let depth = item.depth + 1;
                if !self.scope.contains(&l) {
                    skips.push((key, depth, "scope".to_string()));
                } else if depth > self.cfg.max_depth {
                    skips.push((key, depth, "depth".to_string()));
                } else {
                    adds.push(AddEntry {
                        url: key,
                        depth,
                        via: Some(item.url.clone()),
                        chain: Vec::new(),
                    });
                }
            }
        } else if (300..400).contains(&f.status) {
            let target = f
                .header("location")
                .and_then(|l| urls::resolve(Some(&url), l));
            outcome = match target {
                None => "no_location",
                Some(t) => {
                    let key = t.to_string();
                    let looped = key == item.url || item.chain.iter().any(|c| *c == key);
                    if looped {
                        "redirect_loop"
                    } else if self.seen.contains(&key) {
                        "redirect"
                    } else if item.chain.len() as u32 >= self.cfg.max_redirects {
                        "too_many_redirects"
                    } else {
                        self.seen.insert(key.clone());
                        outlinks.push(key.clone());
                        if !self.scope.contains(&t) {
                            skips.push((key, item.depth, "scope".to_string()));
                        } else {
                            let mut chain = item.chain.clone();
                            chain.push(item.url.clone());
                            let a = AddEntry {
                                url: key,
                                depth: item.depth,
                                via: Some(item.url.clone()),
                                chain,
                            };
                            adds.push(a.clone());
                            redirect_front = Some(a);
                        }
                        "redirect"
                    }
                }
            };
        }
        // AI crawler rules and TDMRep for this page.
        let pq = urls::path_and_query(&url);
        let (ai, tdm) = match &self.hosts[h].robots {
            RobotsState::Ready(r, t) => (
                r.ai_disallowed(&pq),
                t.as_ref()
                    .and_then(|t| t.rule_for(&pq))
                    .filter(|r| r.reserved)
                    .cloned(),
            ),
            _ => (Vec::new(), None),
        };
        let mut warc_headers: Vec<(String, String)> = Vec::new();
        let mut meta: Vec<(String, String)> = vec![
            ("hopsFromSeed".into(), item.depth.to_string()),
            ("fetchTimeMs".into(), f.elapsed.as_millis().to_string()),
        ];
        if let Some(v) = &item.via {
            meta.insert(0, ("via".into(), v.clone()));
        }
        if !ai.is_empty() {
            let v = ai.join(", ");
            warc_headers.push(("WARC-Robots-AI-Disallow".into(), v.clone()));
            meta.push(("robots-ai-disallow".into(), v));
            if outcome == "fetched" {
                self.report.pages_ai_disallowed += 1;
            }
        }
        if let Some(t) = &tdm {
            warc_headers.push(("WARC-TDM-Reservation".into(), "1".into()));
            meta.push(("tdm-reservation".into(), "1".into()));
            if let Some(p) = &t.policy {
                warc_headers.push(("WARC-TDM-Policy".into(), p.clone()));
                meta.push(("tdm-policy".into(), p.clone()));
            }
            if outcome == "fetched" {
                self.report.pages_tdm_reserved += 1;
            }
        }
        if decode_error {
            meta.push(("content-decode-error".into(), "true".into()));
        }
        for l in &outlinks {
            meta.push(("outlink".into(), l.clone()));
        }
        let warc = self.write_fetch(&url, &f, &warc_headers, &meta)?;
        let status = Some(f.status);
        // A redirect target goes to the front of its host's queue so a chain proceeds promptly.
        let front = redirect_front.is_some();
        self.finalise_with(
            item.url,
            outcome,
            status,
            item.depth,
            Some(warc),
            adds,
            skips,
            front,
        )
    }

    /// Commits a URL's outcome (and the URLs its page discovered) to the journal and the tallies.
    #[allow(clippy::too_many_arguments)]
    fn finalise(
        &mut self,
        url: String,
        outcome: &str,
        status: Option<u16>,
        depth: u32,
        warc: Option<(String, u64)>,
        add: Vec<AddEntry>,
        skip: Vec<(String, u32, String)>,
    ) -> Result<(), CrawlError> {
        self.finalise_with(url, outcome, status, depth, warc, add, skip, false)
    }

    #[allow(clippy::too_many_arguments)]
    fn finalise_with(
        &mut self,
        url: String,
        outcome: &str,
        status: Option<u16>,
        depth: u32,
        warc: Option<(String, u64)>,
        add: Vec<AddEntry>,
        skip: Vec<(String, u32, String)>,
        front: bool,
    ) -> Result<(), CrawlError> {
        let e = Event::Done {
            url: url.clone(),
            outcome: outcome.to_string(),
            status,
            depth,
            warc,
            add,
            skip,
        };
        self.journal
            .append(&e)
            .map_err(io_err("writing the journal"))?;
        let Event::Done { add, skip, .. } = e else {
            unreachable!()
        };
        self.outcomes.insert(
            url,
            Outcome {
                outcome: outcome.to_string(),
                status,
                depth,
            },
        );
        for (u, d, r) in skip {
            self.outcomes.insert(
                u,
                Outcome {
                    outcome: r,
                    status: None,
                    depth: d,
                },
            );
        }
        for a in add {
            self.enqueue(a, front);
        }
        if self.warc.full() {
            self.close_warc()?;
        }
        Ok(())
    }

    /// Finishes the open WARC file (if any) and journals it as finished, so a resume never
    /// reopens it.
    fn close_warc(&mut self) -> Result<(), CrawlError> {
        let closed = self
            .warc
            .finish_current()
            .map_err(io_err("finishing a WARC file"))?;
        self.journal_warc(closed, true)
    }

    /// Journals a WARC file that was just opened or finished (`None`: nothing happened).
    fn journal_warc(
        &mut self,
        file: Option<(String, u64)>,
        finished: bool,
    ) -> Result<(), CrawlError> {
        if let Some((file, end)) = file {
            self.journal
                .append(&Event::Warc {
                    file,
                    end,
                    finished,
                })
                .map_err(io_err("writing the journal"))?;
        }
        Ok(())
    }

    /// Writes request, response and metadata records for one fetch; returns (file, end offset).
    fn write_fetch(
        &mut self,
        url: &Url,
        f: &Fetched,
        warc_headers: &[(String, String)],
        meta: &[(String, String)],
    ) -> Result<(String, u64), CrawlError> {
        let opened = self
            .warc
            .ensure_open(f.unix_secs)
            .map_err(io_err("opening a WARC file"))?;
        self.journal_warc(opened, false)?;
        self.rec_seq += 1;
        let date = format_warc_date(f.unix_secs);
        let seed = format!("{url}\0{date}\0{}", self.rec_seq);
        let req_id = record_id_from_hash(format!("request\0{seed}").as_bytes());
        let resp_id = record_id_from_hash(format!("response\0{seed}").as_bytes());
        let meta_id = record_id_from_hash(format!("metadata\0{seed}").as_bytes());
        let path = urls::path_and_query(url);
        let mut req_block = format!("GET {path} HTTP/1.1\r\n").into_bytes();
        for (k, v) in &f.request_headers {
            req_block.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        req_block.extend_from_slice(b"\r\n");
        let reason = reqwest::StatusCode::from_u16(f.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        let version = if f.version == "HTTP/2" {
            "HTTP/1.1"
        } else {
            f.version.as_str()
        };
        let mut resp_block = format!("{version} {} {reason}\r\n", f.status).into_bytes();
        for (k, v) in &f.headers {
            resp_block.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        resp_block.extend_from_slice(b"\r\n");
        resp_block.extend_from_slice(&f.body);
        let mut meta_block = Vec::new();
        for (k, v) in meta {
            meta_block.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        let ip = f.ip.map(|i| i.to_string());
        let resp_ref = format!("<{resp_id}>");
        let u = url.as_str();
        let mut resp =
            RecordSpec::new(WriteType::Response, &resp_id, &date, &resp_block).target_uri(u);
        if let Some(ip) = &ip {
            resp = resp.header("WARC-IP-Address", ip);
        }
        for (k, v) in warc_headers {
            resp = resp.header(k, v);
        }
        let mut specs = vec![
            RecordSpec::new(WriteType::Request, &req_id, &date, &req_block)
                .target_uri(u)
                .header("WARC-Concurrent-To", &resp_ref),
            resp,
        ];
        if !meta.is_empty() {
            specs.push(
                RecordSpec::new(WriteType::Metadata, &meta_id, &date, &meta_block)
                    .target_uri(u)
                    .content_type("application/warc-fields")
                    .header("WARC-Refers-To", &resp_ref),
            );
        }
        self.warc
            .write(&specs)
            .map_err(io_err("writing a WARC record"))
    }

    fn finish(mut self, start: Instant) -> Result<CrawlReport, CrawlError> {
        self.close_warc()?;
        self.journal.sync().map_err(io_err("syncing the journal"))?;
        // URLs still queued when the page limit stopped the crawl.
        let mut left = Vec::new();
        for h in &self.hosts {
            for a in &h.queue {
                left.push((a.url.clone(), a.depth));
            }
        }
        let mut rows: BTreeMap<&str, (&str, Option<u16>, u32)> = self
            .outcomes
            .iter()
            .map(|(u, o)| (u.as_str(), (o.outcome.as_str(), o.status, o.depth)))
            .collect();
        // URLs still queued: left by the page limit, or by Ctrl-C (then a rerun continues them).
        let left_as = if self.stopping {
            "stopped"
        } else {
            "max_pages"
        };
        for (u, d) in &left {
            rows.entry(u.as_str()).or_insert((left_as, None, *d));
        }
        let mut r = self.report;
        r.interrupted = self.stopping;
        for name in OUTCOMES {
            r.outcomes.insert((*name).to_string(), 0);
        }
        let mut tsv = String::from("url\toutcome\tstatus\tdepth\n");
        for (u, (o, s, d)) in &rows {
            *r.outcomes.entry((*o).to_string()).or_insert(0) += 1;
            let s = s.map(|s| s.to_string()).unwrap_or_default();
            tsv.push_str(&format!("{u}\t{o}\t{s}\t{d}\n"));
        }
        r.urls_seen = rows.len() as u64;
        r.warc_files = self.warc.finished().to_vec();
        r.elapsed_s = start.elapsed().as_secs_f64();
        r.pages_per_s = if r.elapsed_s > 0.0 {
            r.pages_requested as f64 / r.elapsed_s
        } else {
            0.0
        };
        let out = &self.cfg.out;
        write_atomic(&out.join("crawl-urls.tsv"), tsv.as_bytes())?;
        let json = serde_json::to_vec_pretty(&r).map_err(|e| CrawlError::Config(e.to_string()))?;
        write_atomic(&out.join("crawl-report.json"), &json)?;
        Ok(r)
    }
}

/// Whether a journalled outcome used up a page request (for `max_pages` across runs).
fn requested(outcome: &str, status: Option<u16>) -> bool {
    status.is_some()
        || matches!(
            outcome,
            "timeout" | "too_large" | "content_type" | "fetch_error"
        )
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CrawlError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io_err(format!("writing {}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(io_err(format!("renaming to {}", path.display())))
}

/// The body with its `Content-Encoding` undone (capped), and whether decoding failed.
fn decoded_body(f: &Fetched) -> (Vec<u8>, bool) {
    match f.header("content-encoding") {
        Some(enc) if !enc.trim().eq_ignore_ascii_case("identity") => {
            match whttp::decode_content(enc, &f.body, 64 << 20) {
                Some(whttp::Decoded::Full(d)) => (d, false),
                Some(whttp::Decoded::Partial(d, _)) => (d, true),
                Some(whttp::Decoded::Failed(_)) => (f.body.clone(), true),
                None => (f.body.clone(), false),
            }
        }
        _ => (f.body.clone(), false),
    }
}

/// Links of an HTML page (`None` for other types), and whether the body failed to decode.
fn page_links(f: &Fetched, url: &Url) -> (Option<PageLinks>, bool) {
    let mime = f
        .header("content-type")
        .map(|c| whttp::split_content_type(c).0)
        .unwrap_or_default();
    let (body, err) = decoded_body(f);
    if err {
        return (None, true);
    }
    let html = if mime.is_empty() {
        whttp::sniff_html(&body)
    } else {
        mime == "text/html" || mime == "application/xhtml+xml"
    };
    if !html {
        return (None, false);
    }
    (
        Some(links::extract(&String::from_utf8_lossy(&body), url)),
        false,
    )
}

/// robots.txt (following up to five redirects, RFC 9309 §2.3.1.2) and tdmrep.json of a host.
async fn fetch_host_files(fetcher: &Fetcher, origin: &Url, ua: &str) -> (Vec<Hop>, Option<Hop>) {
    let mut hops = Vec::new();
    let mut url = origin.join("/robots.txt").expect("valid origin");
    for _ in 0..6 {
        let res = fetcher.get(&url, false).await;
        let next = match &res {
            Ok(f) if (300..400).contains(&f.status) => f
                .header("location")
                .and_then(|l| urls::resolve(Some(&url), l)),
            _ => None,
        };
        hops.push(Hop {
            url: url.clone(),
            res,
        });
        match next {
            Some(n) if hops.len() < 6 => url = n,
            _ => break,
        }
    }
    // A redirect chain that never ends in a response counts as unreachable.
    if let Some(Hop { res: Ok(f), .. }) = hops.last() {
        if (300..400).contains(&f.status) {
            hops.push(Hop {
                url: url.clone(),
                res: Err(FetchError::Net("robots.txt: too many redirects".into())),
            });
        }
    }
    let robots_ok = match hops.last().map(|h| &h.res) {
        Some(Ok(f)) => {
            let r = Robots::from_status(Some(f.status), &decoded_body(f).0);
            r.allowed(ua, "/.well-known/tdmrep.json")
        }
        _ => false,
    };
    let tdm = if robots_ok {
        let u = origin
            .join("/.well-known/tdmrep.json")
            .expect("valid origin");
        let res = fetcher.get(&u, false).await;
        Some(Hop { url: u, res })
    } else {
        None
    };
    (hops, tdm)
}
