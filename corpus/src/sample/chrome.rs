//! Boilerplate around the main content: `<head>`, header and navigation, cookie banner, ads, sidebar,
//! footer and trailing scripts, in the site's layout family. This is what an extractor must drop.

use std::fmt::Write;

use super::lang::Lang;
use super::license::LicenseMarkup;
use super::rng::Rng;
use super::site::Site;
use super::text;

/// Everything about a page that the boilerplate needs.
pub(crate) struct Frame<'a> {
    pub lang: Lang,
    pub site: &'a Site,
    pub license: &'a LicenseMarkup,
    pub url: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub noai: bool,
    /// Charset label to declare in a `<meta>`, if any.
    pub meta_charset: Option<&'a str>,
    /// `@type` for JSON-LD, if the page carries JSON-LD.
    pub json_ld_type: Option<&'a str>,
    pub author: &'a str,
    pub published_iso: &'a str,
    pub year: i64,
    pub index: usize,
}

/// Appends `s` with HTML special characters escaped.
pub(crate) fn push_esc(out: &mut String, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

/// `s` with HTML special characters escaped.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    push_esc(&mut o, s);
    o
}

fn href_for(item: &str, k: usize) -> String {
    let s = text::slug(item, 30);
    if s.is_empty() {
        format!("/c/{k}/")
    } else {
        format!("/{s}/")
    }
}

/// `<!DOCTYPE html>` through `<body ...>`.
pub(crate) fn head(rng: &mut Rng, f: &Frame, out: &mut String) {
    out.push_str("<!DOCTYPE html>\n");
    match rng.below(4) {
        0 => out.push_str("<html>\n"),
        1 => {
            let _ = writeln!(out, "<html lang=\"{}\">", f.lang.code());
        }
        _ => {
            let region = match f.lang {
                Lang::En => "en-US",
                Lang::De => "de-DE",
                Lang::Fr => "fr-FR",
                Lang::Es => "es-ES",
                Lang::Zh => "zh-CN",
                Lang::Ja => "ja-JP",
                Lang::Ru => "ru-RU",
            };
            let _ = writeln!(out, "<html lang=\"{region}\" class=\"no-js\">");
        }
    }
    out.push_str("<head>\n");
    if let Some(cs) = f.meta_charset {
        if rng.chance(0.6) {
            let _ = writeln!(out, "<meta charset=\"{cs}\">");
        } else {
            let _ = writeln!(
                out,
                "<meta http-equiv=\"Content-Type\" content=\"text/html; charset={cs}\">"
            );
        }
    }
    out.push_str("<title>");
    push_esc(out, f.title);
    out.push_str(" | ");
    push_esc(out, &f.site.name);
    out.push_str(
        "</title>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    );
    out.push_str("<meta name=\"description\" content=\"");
    push_esc(out, f.description);
    out.push_str("\">\n<meta property=\"og:title\" content=\"");
    push_esc(out, f.title);
    let _ = write!(
        out,
        "\">\n<meta property=\"og:url\" content=\"{}\">\n",
        esc(f.url)
    );
    if f.noai {
        let v = ["noai, noimageai", "noai", "index, follow, noai, noimageai"][rng.below(3)];
        let _ = writeln!(out, "<meta name=\"robots\" content=\"{v}\">");
    } else if rng.chance(0.3) {
        out.push_str("<meta name=\"robots\" content=\"index, follow\">\n");
    }
    out.push_str(&f.license.head);
    let _ = writeln!(out, "<link rel=\"canonical\" href=\"{}\">", esc(f.url));
    let _ = writeln!(
        out,
        "<link rel=\"stylesheet\" href=\"/assets/css/main.{:08x}.css\">",
        f.site.traits_seed as u32
    );
    if rng.chance(0.4) {
        out.push_str("<style>body{margin:0;font-family:Georgia,serif;line-height:1.6}.ad-slot{min-height:250px;background:#f4f4f4}.cookie-banner{position:fixed;bottom:0;left:0;right:0;padding:1em;background:#222;color:#fff}</style>\n");
    }
    let _ = writeln!(
        out,
        "<script async src=\"https://tags.analytics.example/gtag/js?id=G-{:010X}\"></script>\n<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments);}}gtag('js',new Date());gtag('config','G-{:010X}',{{anonymize_ip:true}});</script>",
        f.site.traits_seed >> 24,
        f.site.traits_seed >> 24
    );
    if let Some(t) = f.json_ld_type {
        json_ld(f, t, out);
    }
    out.push_str("</head>\n");
    let class = [
        "home page",
        "single single-post",
        "article-page",
        "layout-default",
        "theme-light",
    ][rng.below(5)];
    let _ = writeln!(out, "<body class=\"{class}\">");
}

fn json_ld(f: &Frame, ty: &str, out: &mut String) {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let _ = write!(
        out,
        "<script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\"@type\":{},\"headline\":{},\"datePublished\":{},\"author\":{{\"@type\":\"Person\",\"name\":{}}},\"publisher\":{{\"@type\":\"Organization\",\"name\":{}}}",
        q(ty),
        q(f.title),
        q(f.published_iso),
        q(f.author),
        q(&f.site.name)
    );
    if let Some(l) = &f.license.json_ld {
        let _ = write!(out, ",\"license\":{}", q(l));
    }
    out.push_str("}</script>\n");
}

/// Cookie banner, header with logo and navigation.
pub(crate) fn header(rng: &mut Rng, f: &Frame, out: &mut String) {
    let ui = &f.lang.lexicon().ui;
    if f.site.cookie_banner {
        let _ = writeln!(
            out,
            "<div class=\"cookie-banner\" id=\"cookie-consent\"><p>{}</p><button class=\"btn-accept\">{}</button> <a href=\"/privacy/\">{}</a></div>",
            esc(ui.cookie),
            esc(ui.accept),
            esc(ui.footer_links[0])
        );
    }
    let nav_n = rng.range(5, ui.nav.len());
    let mut nav = String::new();
    for (k, item) in ui.nav.iter().take(nav_n).enumerate() {
        match f.site.layout {
            2 => {
                let _ = writeln!(
                    nav,
                    "<a href=\"{}\">{}</a><br>",
                    href_for(item, k),
                    esc(item)
                );
            }
            _ => {
                let _ = write!(
                    nav,
                    "<li class=\"menu-item\"><a href=\"{}\">{}</a></li>",
                    href_for(item, k),
                    esc(item)
                );
            }
        }
    }
    let search = esc(ui.search);
    match f.site.layout {
        0 => {
            let _ = writeln!(out, "<header class=\"site-header\"><div class=\"logo\"><a href=\"/\">{}</a></div><nav class=\"main-nav\"><ul>{nav}</ul></nav><form class=\"search\" action=\"/search\"><input type=\"text\" name=\"q\" placeholder=\"{search}\"><button>{search}</button></form></header>", esc(&f.site.name));
        }
        1 => {
            let _ = writeln!(out, "<div id=\"page\" class=\"site\"><a class=\"skip-link screen-reader-text\" href=\"#content\">Skip to content</a><header id=\"masthead\" class=\"site-header\"><div class=\"site-branding\"><p class=\"site-title\"><a href=\"/\" rel=\"home\">{}</a></p></div><nav id=\"site-navigation\" class=\"main-navigation\"><ul id=\"primary-menu\" class=\"menu\">{nav}</ul></nav></header>", esc(&f.site.name));
        }
        2 => {
            let _ = writeln!(out, "<table width=\"100%\" border=\"0\" cellpadding=\"4\" cellspacing=\"0\"><tr><td colspan=\"2\" class=\"header\" bgcolor=\"#003366\"><font color=\"#ffffff\" size=\"5\"><b>{}</b></font></td></tr><tr><td width=\"180\" valign=\"top\" class=\"menu\" bgcolor=\"#eeeeee\">{nav}</td><td valign=\"top\">", esc(&f.site.name));
        }
        _ => {
            let _ = writeln!(out, "<div id=\"app\" data-v-3f2a><div class=\"topbar\"><a class=\"brand\" href=\"/\">{}</a><ul class=\"nav nav-pills\">{nav}</ul><a class=\"btn btn-login\" href=\"/login\">Login</a></div><div class=\"container\"><div class=\"row\">", esc(&f.site.name));
        }
    }
}

/// An ad slot (if the site runs ads).
pub(crate) fn ad(f: &Frame, n: usize, out: &mut String) {
    if !f.site.ads {
        return;
    }
    let ui = &f.lang.lexicon().ui;
    let _ = writeln!(
        out,
        "<div class=\"ad-slot ad-{n}\"><span class=\"ad-label\">{}</span><ins class=\"adsbygoogle\" style=\"display:block\" data-ad-client=\"ca-pub-{:016}\" data-ad-slot=\"{}\" data-ad-format=\"auto\"></ins><script>(adsbygoogle=window.adsbygoogle||[]).push({{}});</script></div>",
        esc(ui.advertisement),
        f.site.traits_seed % 10_000_000_000_000_000,
        1_000_000 + n
    );
}

/// Share buttons.
pub(crate) fn share(f: &Frame, out: &mut String) {
    let ui = &f.lang.lexicon().ui;
    let u = esc(f.url);
    let _ = writeln!(out, "<div class=\"share-buttons\"><span>{}</span> <a href=\"https://social.example/share?u={u}\">Facebook</a> <a href=\"https://microblog.example/intent?url={u}\">X</a> <a href=\"mailto:?subject={}\">E-Mail</a></div>", esc(ui.share), esc(f.title));
}

/// Sidebar with related links, newsletter box and an ad.
pub(crate) fn sidebar(rng: &mut Rng, f: &Frame, out: &mut String) {
    if !f.site.sidebar || f.site.layout == 2 {
        return;
    }
    let ui = &f.lang.lexicon().ui;
    match f.site.layout {
        1 => out.push_str("<aside id=\"secondary\" class=\"widget-area\"><section class=\"widget widget_recent_entries\">"),
        3 => out.push_str("<div class=\"col-4 sidebar\"><div class=\"card\">"),
        _ => out.push_str("<aside class=\"sidebar\"><div class=\"related\">"),
    }
    let _ = write!(out, "<h3>{}</h3><ul>", esc(ui.related));
    for _ in 0..rng.range(3, 6) {
        let t = text::title(rng, f.lang);
        let _ = write!(
            out,
            "<li><a href=\"/article/{}\">{}</a></li>",
            100_000 + rng.below(900_000),
            esc(&t)
        );
    }
    out.push_str("</ul>");
    match f.site.layout {
        1 => out.push_str("</section><section class=\"widget widget_newsletter\">"),
        3 => out.push_str("</div><div class=\"card newsletter\">"),
        _ => out.push_str("</div><div class=\"newsletter\">"),
    }
    let _ = write!(out, "<h4>{}</h4><form action=\"/subscribe\" method=\"post\"><input type=\"email\" name=\"email\" placeholder=\"E-Mail\"><button type=\"submit\">OK</button></form>", esc(ui.newsletter));
    match f.site.layout {
        1 => out.push_str("</section>"),
        _ => out.push_str("</div>"),
    }
    ad(f, 9, out);
    match f.site.layout {
        3 => out.push_str("</div>\n"),
        _ => out.push_str("</aside>\n"),
    }
}

/// Footer with links, copyright line and license markup, then closing wrappers and scripts.
pub(crate) fn footer(rng: &mut Rng, f: &Frame, out: &mut String) {
    let ui = &f.lang.lexicon().ui;
    let mut links = String::new();
    for (k, l) in ui.footer_links.iter().enumerate() {
        if k > 0 {
            links.push_str(" | ");
        }
        let _ = write!(links, "<a href=\"{}\">{}</a>", href_for(l, k + 20), esc(l));
    }
    let rights = format!(
        "&copy; {} {}. {}",
        f.year,
        esc(&f.site.name),
        esc(ui.rights)
    );
    match f.site.layout {
        0 => {
            let _ = writeln!(out, "<footer class=\"site-footer\"><nav class=\"footer-nav\">{links}</nav><p class=\"copyright\">{rights}</p>{}</footer>", f.license.footer);
        }
        1 => {
            let _ = writeln!(out, "</div><footer id=\"colophon\" class=\"site-footer\"><div class=\"site-info\">{links}<br>{rights} Proudly powered by WordPress.</div>{}</footer></div>", f.license.footer);
        }
        2 => {
            let _ = writeln!(out, "</td></tr><tr><td colspan=\"2\" align=\"center\"><font size=\"1\">{links}<br>{rights}</font>{}</td></tr></table>", f.license.footer);
        }
        _ => {
            let _ = writeln!(out, "</div></div><footer class=\"footer\"><div class=\"container\">{links}<p>{rights}</p>{}</div></footer></div>", f.license.footer);
            // A client-side app ships its state as JSON: text an extractor must not take as content.
            let _ = writeln!(out, "<script>window.__INITIAL_STATE__={{\"route\":{},\"page\":{},\"user\":null,\"flags\":{{\"paywall\":false,\"comments\":true}}}};</script>", serde_json::to_string(f.url).unwrap_or_default(), f.index);
        }
    }
    let _ = writeln!(
        out,
        "<script src=\"/assets/js/app.{:08x}.js\" defer></script>",
        (f.site.traits_seed >> 32) as u32
    );
    if rng.chance(0.5) {
        out.push_str("<script>(function(w,d){var s=d.createElement('script');s.async=1;s.src='https://stats.example/t.js';d.head.appendChild(s);})(window,document);</script>\n");
    }
    out.push_str("</body>\n</html>\n");
}
