//! A polite web crawler that writes WARC: `quarry crawl`.
//!
//! [`crawl`] starts from seed URLs and follows links breadth-first per host, within a [`Scope`]
//! and a depth limit, honouring robots.txt ([`robots`], RFC 9309) for its own user agent. It writes
//! WARC/1.1 (one gzip member per record, rolling files, [`output`]) with, per fetched URL, a
//! `request`, a `response` and a `metadata` record; robots.txt and `/.well-known/tdmrep.json`
//! fetches are recorded the same way so a licence audit can use them later.
//!
//! # What each page carries for the licence audit
//!
//! For every page the crawler evaluates the host's robots.txt for the AI-crawler user agents of
//! [`robots::AI_USER_AGENTS`] and, when the site has a TDMRep file, its rule for the page:
//! - `WARC-Robots-AI-Disallow: GPTBot, CCBot` on the `response` record lists the agents the page
//!   is disallowed for (absent when none is);
//! - `WARC-TDM-Reservation: 1` (and `WARC-TDM-Policy: <url>`) when the site's tdmrep.json reserves
//!   text-and-data-mining rights for the page's path.
//!
//! The WARC reader turns them into the document metadata `robots_ai_disallow` (list) and
//! `tdm_reservation` / `tdm_policy`, and the `license` stage into the opt-out reasons `robots_ai`
//! and `tdm_reservation`.
//!
//! # Accounting
//!
//! Every distinct normalised URL the crawl sees ends with exactly one outcome: `fetched` (2xx),
//! `redirect` (3xx whose target was handled on its own), `http_error` (any other status; the
//! response is recorded), or a skip reason: `robots`, `scope`, `depth`, `content_type`,
//! `too_large`, `timeout`, `redirect_loop`, `too_many_redirects`, `no_location`, `ssrf`,
//! `fetch_error`, or `max_pages` (still in the frontier when the page limit was reached; a rerun
//! with a larger `--max-pages` continues with them). `crawl-urls.tsv` lists them all (sorted by
//! URL) and `crawl-report.json` counts them.
//!
//! # Politeness and determinism
//!
//! At most one request per host at a time (robots.txt included), `delay` between the end of one
//! request and the start of the next to the same host (or the robots.txt `crawl-delay`, capped at
//! [`MAX_CRAWL_DELAY`], when larger), and at most `concurrency` requests overall. Hosts take turns
//! round-robin; within a host URLs go in discovery order. The set of URLs crawled does not depend on
//! timing when the crawl runs to completion (every in-scope URL within the depth is fetched); the
//! order of fetches across hosts, WARC record order and dates do, as do the server's answers.
//! With `concurrency = 1` and no `max_pages` limit the fetch order is deterministic too.
//!
//! # Resume
//!
//! See [`journal`]: a crawl killed at any point (Ctrl-C, SIGKILL) and run again with the same
//! output folder continues from its frontier; pages already committed are not fetched again. Pages
//! that were in flight (at most `concurrency`) are fetched again, since their records were not
//! committed.

pub mod fetch;
pub mod journal;
pub mod links;
pub mod output;
pub mod robots;
pub mod tdmrep;
pub mod urls;

mod engine;

pub use engine::{crawl, CrawlConfig, CrawlError, CrawlReport};
pub use ipnet::IpNet;
pub use urls::{AddressPolicy, Scope};

/// The largest robots.txt `crawl-delay` honoured, in seconds (larger values are capped).
pub const MAX_CRAWL_DELAY: f64 = 30.0;

/// Every outcome name, in report order.
pub const OUTCOMES: &[&str] = &[
    "fetched",
    "redirect",
    "http_error",
    "robots",
    "scope",
    "depth",
    "content_type",
    "too_large",
    "timeout",
    "redirect_loop",
    "too_many_redirects",
    "no_location",
    "ssrf",
    "fetch_error",
    "max_pages",
    "stopped",
];
