//! Fake web sites (domains under the reserved `example` names), their stable per-site traits, URLs
//! and dates.
//!
//! A site's layout, server, banners and license policy are derived from its domain name alone, so
//! every page of a site looks alike (as on the real web) and a near-duplicate moved to another site
//! gets that site's boilerplate.

use super::lang::Lang;
use super::rng::{derive, Rng};
use super::PageKind;

const NAMES_EN: &[&str] = &[
    "dailyledger",
    "rivertonherald",
    "techbits",
    "homecook",
    "trailnotes",
    "citybeat",
    "greenthumb",
    "thecommuter",
    "weekendreads",
    "brightside",
    "northstar",
    "coastalpost",
];
const NAMES_DE: &[&str] = &[
    "tageblatt-nord",
    "kuechenzauber",
    "stadtspiegel",
    "wanderweg",
    "technikecke",
    "heimatbote",
    "gartenfreunde",
    "rheinkurier",
    "alltagsnotizen",
    "buergerblatt",
    "bergpost",
    "elbtext",
];
const NAMES_FR: &[&str] = &[
    "lequotidien",
    "cuisinefacile",
    "lavoixdunord",
    "carnetdevoyage",
    "technomag",
    "lapetitegazette",
    "jardinage",
    "echosdelaville",
    "monquartier",
    "lecourrier",
    "lesnouvelles",
    "regardsud",
];
const NAMES_ES: &[&str] = &[
    "eldiario",
    "cocinacasera",
    "lavozdelsur",
    "rutasymas",
    "tecnohoy",
    "elnoticiero",
    "mijardin",
    "ecosdelpueblo",
    "mibarrio",
    "elcorreo",
    "lasnoticias",
    "miradanorte",
];
const NAMES_ZH: &[&str] = &[
    "xinwen", "meishi", "lvyou", "keji", "shenghuo", "chengshi", "huayuan", "dushi", "jiaoyu",
    "caijing", "tiyu", "wenhua",
];
const NAMES_JA: &[&str] = &[
    "nippo", "ryori", "tabi", "gijutsu", "kurashi", "machi", "niwa", "shimbun", "manabi", "keizai",
    "supotsu", "bunka",
];
const NAMES_RU: &[&str] = &[
    "novosti",
    "kuhnya",
    "puteshestvie",
    "tehnika",
    "zhizn",
    "gorod",
    "sad",
    "vesti",
    "obrazovanie",
    "ekonomika",
    "sport",
    "kultura",
];
const TLDS: &[&str] = &["example", "example.org", "example.com", "example.net"];
const SERVERS: &[&str] = &[
    "nginx",
    "Apache/2.4.57 (Debian)",
    "cloudflare",
    "Microsoft-IIS/10.0",
    "LiteSpeed",
    "openresty",
    "nginx/1.18.0 (Ubuntu)",
    "Apache",
];

/// The stable traits of one site.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub domain: String,
    /// Display name shown in the logo and footer.
    pub name: String,
    /// Page layout family (0 news, 1 WordPress blog, 2 old table layout, 3 script-heavy app).
    pub layout: u8,
    pub server: &'static str,
    pub https: bool,
    pub cookie_banner: bool,
    pub ads: bool,
    pub sidebar: bool,
    /// Site-level random stream seed (license policy, header habits).
    pub traits_seed: u64,
}

fn names(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => NAMES_EN,
        Lang::De => NAMES_DE,
        Lang::Fr => NAMES_FR,
        Lang::Es => NAMES_ES,
        Lang::Zh => NAMES_ZH,
        Lang::Ja => NAMES_JA,
        Lang::Ru => NAMES_RU,
    }
}

/// FNV-1a: a stable hash of a domain name to seed its traits.
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Picks a site for a page of `kind` in `lang`.
pub(crate) fn pick_site(rng: &mut Rng, lang: Lang, kind: PageKind) -> Site {
    let base = rng.word(names(lang));
    let tld = rng.word(TLDS);
    let domain = match kind {
        PageKind::ForumThread => format!(
            "{}.{base}.{tld}",
            ["forum", "community", "board"][rng.below(3)]
        ),
        PageKind::ProductPage => format!("{}.{base}.{tld}", ["shop", "store"][rng.below(2)]),
        PageKind::BlogPost if rng.chance(0.5) => format!("blog.{base}.{tld}"),
        PageKind::Spam => {
            let kw = rng.word(lang.lexicon().spam_keywords);
            let s = super::text::slug(kw, 30);
            let s = if s.is_empty() {
                "best-deals".to_string()
            } else {
                s
            };
            format!("{s}-{}.{tld}", rng.below(1000))
        }
        _ => format!("www.{base}.{tld}"),
    };
    site_for_domain(domain, base)
}

pub(crate) fn site_for_domain(domain: String, base: &str) -> Site {
    let traits_seed = fnv(&domain);
    let mut t = Rng::new(traits_seed);
    let name = {
        let mut n = String::new();
        for (i, part) in base.split('-').enumerate() {
            if i > 0 {
                n.push(' ');
            }
            let mut c = part.chars();
            if let Some(f) = c.next() {
                n.extend(f.to_uppercase());
                n.push_str(c.as_str());
            }
        }
        n
    };
    Site {
        layout: t.below(4) as u8,
        server: t.word(SERVERS),
        https: t.chance(0.85),
        cookie_banner: t.chance(0.6),
        ads: t.chance(0.55),
        sidebar: t.chance(0.7),
        traits_seed: t.next_u64(),
        domain,
        name,
    }
}

impl Site {
    /// The scheme and host, e.g. `https://www.citybeat.example`.
    pub(crate) fn origin(&self) -> String {
        format!(
            "{}://{}",
            if self.https { "https" } else { "http" },
            self.domain
        )
    }
}

/// The path (and query) of page `index` of `kind`, made from its title where the script allows.
pub(crate) fn path_for(
    rng: &mut Rng,
    kind: PageKind,
    index: usize,
    title: &str,
    secs: i64,
) -> String {
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let mut slug = super::text::slug(title, 60);
    if slug.is_empty() {
        slug = format!("p{index}");
    }
    let id = 100_000 + index;
    match kind {
        PageKind::Article => match rng.below(3) {
            0 => format!("/{y}/{m:02}/{slug}-{id}.html"),
            1 => format!("/news/{slug}/{id}"),
            _ => format!("/article/{id}/{slug}"),
        },
        PageKind::BlogPost => match rng.below(2) {
            0 => format!("/{y}/{m:02}/{d:02}/{slug}-{id}/"),
            _ => format!("/?p={id}"),
        },
        PageKind::ForumThread => match rng.below(2) {
            0 => format!("/viewtopic.php?f={}&t={id}", rng.range(1, 40)),
            _ => format!("/threads/{slug}.{id}/"),
        },
        PageKind::ProductPage => match rng.below(2) {
            0 => format!("/p/{slug}-{id}"),
            _ => format!("/product.php?id={id}&ref=cat{}", rng.range(1, 30)),
        },
        PageKind::ShortPage => {
            let p = ["about", "contact", "login", "tag", "category", "search"][rng.below(6)];
            format!("/{p}/{id}")
        }
        PageKind::Spam => format!("/{slug}-{id}.html"),
        PageKind::Binary => {
            if rng.chance(0.5) {
                format!("/images/{id}.png")
            } else {
                format!("/files/report-{id}.pdf")
            }
        }
        PageKind::Redirect => format!("/go/{id}"),
        PageKind::NotFound => format!("/{slug}-{id}.html"),
    }
}

/// Seconds since the Unix epoch at which page `index` was fetched: a crawl that starts on a day
/// derived from the seed (between mid 2023 and 2025) and fetches a page every few tens of seconds.
pub(crate) fn crawl_time(seed: u64, index: usize) -> i64 {
    const START_DAY: i64 = 19_509; // 2023-06-01
    let day = START_DAY + (derive(seed, &[0xDA7E]) % 540) as i64;
    let jitter = (derive(seed, &[0xDA7E, index as u64]) % 30) as i64;
    day * 86_400 + 6 * 3600 + index as i64 * 37 + jitter
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2024-03-05T12:34:56Z`.
pub(crate) fn iso(secs: i64) -> String {
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `Tue, 05 Mar 2024 12:34:56 GMT` (RFC 7231 IMF-fixdate).
pub(crate) fn http_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let (y, m, d) = civil(days);
    let s = secs.rem_euclid(86_400);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(m - 1) as usize],
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A date as a page shows it, in the language's usual numeric form.
pub(crate) fn display_date(lang: Lang, secs: i64) -> String {
    let (y, m, d) = civil(secs.div_euclid(86_400));
    match lang {
        Lang::En => format!("{m}/{d}/{y}"),
        Lang::De | Lang::Ru => format!("{d:02}.{m:02}.{y}"),
        Lang::Fr | Lang::Es => format!("{d:02}/{m:02}/{y}"),
        Lang::Zh | Lang::Ja => format!("{y}年{m}月{d}日"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_known_instants() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        // 2024-02-29 12:00:00 UTC, a leap day and a Thursday.
        assert_eq!(iso(1_709_208_000), "2024-02-29T12:00:00Z");
        assert_eq!(http_date(1_709_208_000), "Thu, 29 Feb 2024 12:00:00 GMT");
        assert_eq!(display_date(Lang::De, 1_709_208_000), "29.02.2024");
    }

    #[test]
    fn crawl_times_increase_and_depend_on_the_seed() {
        assert!(crawl_time(1, 10) > crawl_time(1, 9));
        assert_ne!(crawl_time(1, 0), crawl_time(2, 0));
        let y = iso(crawl_time(5, 0));
        assert!(
            y.starts_with("2023") || y.starts_with("2024") || y.starts_with("2025"),
            "{y}"
        );
    }

    #[test]
    fn site_traits_follow_the_domain() {
        let a = site_for_domain("www.citybeat.example".into(), "citybeat");
        let b = site_for_domain("www.citybeat.example".into(), "citybeat");
        assert_eq!(
            (a.layout, a.server, a.traits_seed),
            (b.layout, b.server, b.traits_seed)
        );
        assert_eq!(a.name, "Citybeat");
        assert_eq!(
            site_for_domain("x".into(), "tageblatt-nord").name,
            "Tageblatt Nord"
        );
    }
}
