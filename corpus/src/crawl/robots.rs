//! robots.txt per RFC 9309 (the Robots Exclusion Protocol), plus the non-standard `crawl-delay`.
//!
//! - **Groups.** A group is one or more `user-agent` lines followed by rules. A crawler obeys the
//!   groups whose user agent equals its product token, case-insensitively (all such groups are
//!   merged); if there are none, the `*` groups (merged); if there is none either, everything is
//!   allowed. Rules before the first `user-agent` line belong to no group and are ignored.
//! - **Rules.** `allow` and `disallow` take a path pattern where `*` matches any run of octets and
//!   a final `$` anchors the end. The matching rule with the longest pattern (in octets) decides;
//!   on a tie `allow` wins. An empty `disallow` matches nothing. `/robots.txt` itself is always
//!   allowed. Patterns and paths are compared after the same percent-encoding normalisation:
//!   non-ASCII octets and spaces are percent-encoded, `%xx` of unreserved characters decoded, other
//!   `%xx` upper-cased (RFC 9309 §2.2.2).
//! - **Fetch outcome** ([`Robots::from_status`]): 2xx parses the body (first [`MAX_ROBOTS_BYTES`]
//!   only); 4xx means "no robots.txt": everything allowed; 5xx and an unreachable server mean
//!   everything disallowed.
//! - **Lenient parsing**, as deployed parsers are: keys are case-insensitive, `#` starts a comment, a
//!   missing colon after a known key (`disallow /x`) is accepted, a UTF-8 BOM is skipped, unknown
//!   keys (`sitemap`, `host`, ...) are ignored. `crawl-delay` is read per group (seconds, decimal).

/// Bytes of a robots.txt that are parsed (RFC 9309 asks for at least 500 KiB).
pub const MAX_ROBOTS_BYTES: usize = 512 * 1024;

/// The AI-crawler user agents whose rules are evaluated for every fetched page (product tokens as
/// their operators document them).
pub const AI_USER_AGENTS: &[&str] = &[
    "GPTBot",
    "ChatGPT-User",
    "OAI-SearchBot",
    "CCBot",
    "ClaudeBot",
    "Claude-Web",
    "anthropic-ai",
    "Google-Extended",
    "PerplexityBot",
    "Bytespider",
    "Applebot-Extended",
    "meta-externalagent",
    "FacebookBot",
    "cohere-ai",
    "Diffbot",
    "Amazonbot",
    "AI2Bot",
    "Omgilibot",
    "YouBot",
    "Timpibot",
];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    allow: bool,
    /// Normalised pattern octets, without a trailing `$`.
    pattern: Vec<u8>,
    anchored: bool,
    /// Length used for the longest-match comparison (the pattern as written, normalised).
    len: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Group {
    agents: Vec<String>,
    rules: Vec<Rule>,
    crawl_delay: Option<f64>,
}

/// A parsed robots.txt, or the blanket outcome of a fetch that gave none.
#[derive(Debug, Clone, PartialEq)]
pub enum Robots {
    /// Everything allowed (4xx: no robots.txt).
    AllowAll,
    /// Everything disallowed (5xx or unreachable).
    DisallowAll,
    /// A parsed file.
    Rules(RobotsFile),
}

/// The groups of one robots.txt file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RobotsFile {
    groups: Vec<Group>,
}

/// The rules that apply to one user agent: the merged matching groups.
#[derive(Debug, Clone, Default)]
pub struct AgentRules<'a> {
    rules: Vec<&'a Rule>,
    crawl_delay: Option<f64>,
}

impl Robots {
    /// The robots outcome for a fetch: `status` is `None` when the server could not be reached.
    pub fn from_status(status: Option<u16>, body: &[u8]) -> Robots {
        match status {
            Some(s) if (200..300).contains(&s) => Robots::Rules(RobotsFile::parse(body)),
            Some(s) if (400..500).contains(&s) => Robots::AllowAll,
            _ => Robots::DisallowAll,
        }
    }

    /// Whether `agent` may fetch `path_and_query` (the URL's path plus `?query`, e.g. `/a?b=1`).
    pub fn allowed(&self, agent: &str, path_and_query: &str) -> bool {
        match self {
            Robots::AllowAll => true,
            Robots::DisallowAll => false,
            Robots::Rules(f) => f.allowed(agent, path_and_query),
        }
    }

    /// The `crawl-delay` (seconds) of the group that applies to `agent`, if any.
    pub fn crawl_delay(&self, agent: &str) -> Option<f64> {
        match self {
            Robots::Rules(f) => f.rules_for(agent).crawl_delay,
            _ => None,
        }
    }

    /// The agents of [`AI_USER_AGENTS`] that may not fetch `path_and_query`, in list order.
    pub fn ai_disallowed(&self, path_and_query: &str) -> Vec<&'static str> {
        AI_USER_AGENTS
            .iter()
            .copied()
            .filter(|a| !self.allowed(a, path_and_query))
            .collect()
    }
}

impl RobotsFile {
    /// Parses a robots.txt body (only its first [`MAX_ROBOTS_BYTES`]; invalid UTF-8 is fine).
    pub fn parse(body: &[u8]) -> RobotsFile {
        let body = &body[..body.len().min(MAX_ROBOTS_BYTES)];
        let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
        let mut groups: Vec<Group> = Vec::new();
        // True while the current group is still collecting user-agent lines.
        let mut in_agents = false;
        for raw_line in body.split(|&b| b == b'\n' || b == b'\r') {
            let line = match raw_line.iter().position(|&b| b == b'#') {
                Some(i) => &raw_line[..i],
                None => raw_line,
            };
            let line = String::from_utf8_lossy(line);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some((key, value)) = split_line(line) else {
                continue;
            };
            match key.as_str() {
                "user-agent" => {
                    if !in_agents {
                        groups.push(Group::default());
                        in_agents = true;
                    }
                    // `Googlebot/2.1` names the product token `Googlebot`.
                    let token = value.split(['/', ' ']).next().unwrap_or("").trim();
                    if let Some(g) = groups.last_mut() {
                        g.agents.push(token.to_ascii_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    let Some(g) = groups.last_mut() else { continue };
                    if value.is_empty() {
                        // `Disallow:` with no path allows everything: no rule. An empty `allow`
                        // has no effect either.
                        continue;
                    }
                    g.rules.push(Rule::new(key == "allow", value));
                }
                "crawl-delay" => {
                    in_agents = false;
                    let Some(g) = groups.last_mut() else { continue };
                    if let Ok(d) = value.parse::<f64>() {
                        if d.is_finite() && d >= 0.0 {
                            g.crawl_delay = Some(d);
                        }
                    }
                }
                _ => {
                    // Other records (sitemap, host, ...) do not end the user-agent list: RFC 9309
                    // only defines groups by user-agent and rule lines.
                }
            }
        }
        RobotsFile { groups }
    }

    /// The merged groups for `agent` (its product token is the part before `/`).
    pub fn rules_for(&self, agent: &str) -> AgentRules<'_> {
        let token = agent
            .split(['/', ' '])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut out = AgentRules::default();
        let mut collect = |pred: &dyn Fn(&Group) -> bool| {
            let mut any = false;
            for g in self.groups.iter().filter(|g| pred(g)) {
                any = true;
                out.rules.extend(g.rules.iter());
                if out.crawl_delay.is_none() {
                    out.crawl_delay = g.crawl_delay;
                }
            }
            any
        };
        if !token.is_empty() && collect(&|g: &Group| g.agents.iter().any(|a| *a == token)) {
            return out;
        }
        collect(&|g: &Group| g.agents.iter().any(|a| a == "*"));
        out
    }

    /// Whether `agent` may fetch `path_and_query`.
    pub fn allowed(&self, agent: &str, path_and_query: &str) -> bool {
        self.rules_for(agent).allowed(path_and_query)
    }
}

impl AgentRules<'_> {
    /// Longest match decides, `allow` wins ties, no match allows; `/robots.txt` is always allowed.
    pub fn allowed(&self, path_and_query: &str) -> bool {
        let path = normalise(if path_and_query.is_empty() {
            "/"
        } else {
            path_and_query
        });
        if path == b"/robots.txt" {
            return true;
        }
        let mut best: Option<(usize, bool)> = None;
        for r in &self.rules {
            if !matches(&r.pattern, r.anchored, &path) {
                continue;
            }
            best = match best {
                None => Some((r.len, r.allow)),
                Some((l, a)) if r.len > l || (r.len == l && r.allow && !a) => {
                    Some((r.len, r.allow))
                }
                keep => keep,
            };
        }
        best.is_none_or(|(_, allow)| allow)
    }

    /// The group's crawl delay in seconds.
    pub fn crawl_delay(&self) -> Option<f64> {
        self.crawl_delay
    }
}

impl Rule {
    fn new(allow: bool, value: &str) -> Rule {
        let value = value.split_whitespace().next().unwrap_or("");
        let mut pattern = normalise(value);
        let len = pattern.len();
        let anchored = pattern.last() == Some(&b'$');
        if anchored {
            pattern.pop();
        }
        Rule {
            allow,
            pattern,
            anchored,
            len,
        }
    }
}

/// `key: value` with the key lower-cased; tolerates a missing colon after a known key.
fn split_line(line: &str) -> Option<(String, &str)> {
    if let Some(i) = line.find(':') {
        let key = line[..i].trim().to_ascii_lowercase();
        return Some((normalise_key(&key), line[i + 1..].trim()));
    }
    let mut parts = line.splitn(2, char::is_whitespace);
    let key = parts.next()?.to_ascii_lowercase();
    let key = normalise_key(&key);
    if matches!(key.as_str(), "user-agent" | "allow" | "disallow") {
        return Some((key, parts.next().unwrap_or("").trim()));
    }
    None
}

/// Common misspellings deployed parsers accept.
fn normalise_key(key: &str) -> String {
    match key {
        "useragent" | "user agent" => "user-agent".into(),
        "dissallow" | "dissalow" | "disalow" | "diasllow" | "disallaw" => "disallow".into(),
        _ => key.into(),
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encoding normalisation shared by patterns and paths (RFC 9309 §2.2.2).
pub(super) fn normalise(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' && i + 2 < b.len() {
            let h = (hex_val(b[i + 1]), hex_val(b[i + 2]));
            if let (Some(h1), Some(h2)) = h {
                let v = h1 * 16 + h2;
                if is_unreserved(v) {
                    out.push(v);
                } else {
                    out.push(b'%');
                    out.push(b[i + 1].to_ascii_uppercase());
                    out.push(b[i + 2].to_ascii_uppercase());
                }
                i += 3;
                continue;
            }
        }
        if c >= 0x80 || c == b' ' {
            out.extend_from_slice(format!("%{c:02X}").as_bytes());
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Prefix match of `pattern` (with `*` wildcards) against `path`; `anchored` requires the pattern
/// to reach the end of the path.
pub(super) fn matches(pattern: &[u8], anchored: bool, path: &[u8]) -> bool {
    // Split on `*`: the first piece must be a prefix, the others are found greedily left to right;
    // an anchored pattern's last piece must be a suffix.
    let pieces: Vec<&[u8]> = pattern.split(|&b| b == b'*').collect();
    if pieces.len() == 1 {
        return if anchored {
            path == pattern
        } else {
            path.starts_with(pattern)
        };
    }
    let first = pieces[0];
    if !path.starts_with(first) {
        return false;
    }
    let mut pos = first.len();
    let last_idx = pieces.len() - 1;
    for (i, piece) in pieces.iter().enumerate().skip(1) {
        if i == last_idx && anchored {
            return path.len() >= pos + piece.len() && path.ends_with(piece);
        }
        if piece.is_empty() {
            continue;
        }
        match find(&path[pos..], piece) {
            Some(j) => pos += j + piece.len(),
            None => return false,
        }
    }
    true
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rf(s: &str) -> RobotsFile {
        RobotsFile::parse(s.as_bytes())
    }

    #[test]
    fn longest_match_and_allow_wins_ties() {
        let r = rf("User-agent: *\nDisallow: /a\nAllow: /a/b\nDisallow: /a/b/c\n");
        assert!(r.allowed("x", "/"));
        assert!(!r.allowed("x", "/a"));
        assert!(!r.allowed("x", "/abc"));
        assert!(r.allowed("x", "/a/b"));
        assert!(r.allowed("x", "/a/bz"));
        assert!(!r.allowed("x", "/a/b/c/d"));
        // Same length: allow wins, in either order.
        let r = rf("User-agent: *\nDisallow: /p\nAllow: /p\n");
        assert!(r.allowed("x", "/page"));
        let r = rf("User-agent: *\nAllow: /p\nDisallow: /p\n");
        assert!(r.allowed("x", "/page"));
        // RFC 9309 §5.2 example: allow /folder/page wins over disallow /folder.
        let r = rf("user-agent: *\nallow: /folder/page\ndisallow: /folder\n");
        assert!(r.allowed("x", "/folder/page.html"));
        assert!(!r.allowed("x", "/folder/other"));
    }

    #[test]
    fn wildcards_and_end_anchor() {
        let r = rf("User-agent: *\nDisallow: /*.pdf$\nDisallow: /private*/secret\nAllow: /$\nDisallow: /\n");
        assert!(r.allowed("x", "/"));
        assert!(!r.allowed("x", "/index.html"));
        let r = rf("User-agent: *\nDisallow: /*.pdf$\nDisallow: /private*/secret\n");
        assert!(!r.allowed("x", "/docs/a.pdf"));
        assert!(r.allowed("x", "/docs/a.pdf?x=1"));
        assert!(r.allowed("x", "/docs/a.pdfx"));
        assert!(!r.allowed("x", "/private-area/secret/x"));
        assert!(!r.allowed("x", "/private/secret"));
        assert!(r.allowed("x", "/private/public"));
        // `*` matches the empty run; several stars; a star at the end is a no-op.
        let r = rf("User-agent: *\nDisallow: /a*b*c\nDisallow: /z*\n");
        assert!(!r.allowed("x", "/abc"));
        assert!(!r.allowed("x", "/a-b-c-d"));
        assert!(r.allowed("x", "/acb"));
        assert!(!r.allowed("x", "/z"));
        // Anchored with a star: suffix must match at the very end.
        let r = rf("User-agent: *\nDisallow: /*/end$\n");
        assert!(!r.allowed("x", "/a/end"));
        assert!(r.allowed("x", "/a/end/"));
        assert!(r.allowed("x", "/end"));
        // Query strings are part of the matched path.
        let r = rf("User-agent: *\nDisallow: /*?sessionid=\n");
        assert!(!r.allowed("x", "/page?sessionid=1"));
        assert!(r.allowed("x", "/page?id=1"));
    }

    #[test]
    fn group_selection_merging_and_case() {
        let txt = "User-agent: *\nDisallow: /\n\nUser-agent: GoodBot\nUser-agent: OtherBot\nDisallow: /private\n\nuser-agent: goodbot\nDisallow: /tmp\n";
        let r = rf(txt);
        // Case-insensitive product token; two goodbot groups merged; `*` ignored once matched.
        assert!(r.allowed("GOODBOT/1.0 (+https://x)", "/page"));
        assert!(!r.allowed("goodbot", "/private/x"));
        assert!(!r.allowed("goodbot", "/tmp/x"));
        assert!(!r.allowed("otherbot", "/private"));
        assert!(r.allowed("otherbot", "/tmp"));
        // Unknown agent falls back to `*`.
        assert!(!r.allowed("somebot", "/page"));
        // A token that only contains the group name does not match it.
        assert!(!r.allowed("goodbotx", "/page"));
        // No matching group and no `*`: allowed.
        let r = rf("User-agent: a\nDisallow: /\n");
        assert!(r.allowed("b", "/x"));
        // Rules before any user-agent line are ignored.
        let r = rf("Disallow: /\nUser-agent: *\nDisallow: /x\n");
        assert!(r.allowed("b", "/y"));
    }

    #[test]
    fn empty_disallow_comments_bom_and_sloppy_syntax() {
        let r = rf("\u{feff}# comment\nUser-agent: * # all\nDisallow:\n");
        assert!(r.allowed("x", "/anything"));
        let r = rf("user-agent *\r\ndisallow /x # no colon\r\nSitemap: https://e/s.xml\r\nDISALLOW: /Y\r\n");
        assert!(!r.allowed("x", "/x1"));
        assert!(!r.allowed("x", "/Y"));
        // Paths are case-sensitive.
        assert!(r.allowed("x", "/y"));
        // Sitemap between user-agent lines does not split the group.
        let r = rf("User-agent: a\nSitemap: /s\nUser-agent: b\nDisallow: /\n");
        assert!(!r.allowed("a", "/z"));
        assert!(!r.allowed("b", "/z"));
        // Garbage and binary input never panics.
        let r = RobotsFile::parse(b"\xff\xfe\x00<html>%%%\nDisallow: %zz%4\n*\n");
        assert!(r.allowed("x", "/"));
    }

    #[test]
    fn percent_encoding_normalisation() {
        // An encoded unreserved char equals the plain one; non-ASCII is compared encoded.
        let r = rf("User-agent: *\nDisallow: /%7Euser\nDisallow: /caf\u{e9}\nDisallow: /a%2fb\n");
        assert!(!r.allowed("x", "/~user/page"));
        assert!(!r.allowed("x", "/%7euser"));
        assert!(!r.allowed("x", "/caf%C3%A9/menu"));
        assert!(!r.allowed("x", "/caf%c3%a9"));
        // `%2F` (reserved) is not `/`.
        assert!(!r.allowed("x", "/a%2Fb"));
        assert!(r.allowed("x", "/a/b"));
    }

    #[test]
    fn robots_txt_always_allowed_and_status_outcomes() {
        let r = Robots::Rules(rf("User-agent: *\nDisallow: /\n"));
        assert!(r.allowed("x", "/robots.txt"));
        assert!(!r.allowed("x", "/"));
        assert!(!r.allowed("x", ""));
        assert!(Robots::from_status(Some(404), b"").allowed("x", "/a"));
        assert!(Robots::from_status(Some(403), b"").allowed("x", "/a"));
        assert!(!Robots::from_status(Some(500), b"").allowed("x", "/a"));
        assert!(!Robots::from_status(Some(503), b"").allowed("x", "/a"));
        assert!(!Robots::from_status(None, b"").allowed("x", "/a"));
        assert!(!Robots::from_status(Some(200), b"User-agent: *\nDisallow: /a").allowed("x", "/a"));
    }

    #[test]
    fn crawl_delay_per_group() {
        let r = Robots::Rules(rf(
            "User-agent: *\nCrawl-delay: 2.5\nDisallow: /x\n\nUser-agent: fast\nAllow: /\n",
        ));
        assert_eq!(r.crawl_delay("slowbot"), Some(2.5));
        assert_eq!(r.crawl_delay("fast"), None);
        let r = Robots::Rules(rf("User-agent: *\nCrawl-delay: -1\nCrawl-delay: abc\n"));
        assert_eq!(r.crawl_delay("a"), None);
    }

    #[test]
    fn ai_agents_evaluated_by_their_own_groups() {
        let r = Robots::Rules(rf(
            "User-agent: GPTBot\nDisallow: /articles/\n\nUser-agent: CCBot\nUser-agent: ClaudeBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
        ));
        assert_eq!(r.ai_disallowed("/about"), vec!["CCBot", "ClaudeBot"]);
        assert_eq!(
            r.ai_disallowed("/articles/1"),
            vec!["GPTBot", "CCBot", "ClaudeBot"]
        );
        assert!(Robots::AllowAll.ai_disallowed("/").is_empty());
        assert_eq!(
            Robots::DisallowAll.ai_disallowed("/").len(),
            AI_USER_AGENTS.len()
        );
    }

    #[test]
    fn size_limit() {
        let mut body = "User-agent: *\n".to_string();
        body.push_str(&"# pad\n".repeat(MAX_ROBOTS_BYTES / 6 + 10));
        body.push_str("Disallow: /late\n");
        assert!(rf(&body).allowed("x", "/late"));
    }
}
