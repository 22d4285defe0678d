//! Renders a page: the main content of its kind inside the site's boilerplate ([`super::chrome`]).

use std::fmt::Write;

use super::chrome::{self, esc, push_esc, Frame};
use super::content::{Block, Content};
use super::rng::Rng;
use super::site::display_date;
use super::text::{self, Register};
use super::PageKind;

fn open_main(f: &Frame, out: &mut String) {
    match f.site.layout {
        0 => out.push_str("<main id=\"content\"><article class=\"article\">\n"),
        1 => {
            let _ = writeln!(out, "<div id=\"content\" class=\"site-content\"><div id=\"primary\" class=\"content-area\"><main id=\"main\" class=\"site-main\"><article id=\"post-{0}\" class=\"post-{0} post type-post status-publish\">", f.index);
        }
        2 => out.push_str("<font face=\"Verdana, Arial\" size=\"2\">\n"),
        _ => out
            .push_str("<div class=\"col-8\"><div class=\"post-body\" itemprop=\"articleBody\">\n"),
    }
}

fn close_main(rng: &mut Rng, f: &Frame, out: &mut String) {
    match f.site.layout {
        0 => {
            out.push_str("</article>\n");
            chrome::sidebar(rng, f, out);
            out.push_str("</main>\n");
        }
        1 => {
            out.push_str("</article></main></div>\n");
            chrome::sidebar(rng, f, out);
        }
        2 => out.push_str("</font>\n"),
        _ => {
            out.push_str("</div></div>\n");
            chrome::sidebar(rng, f, out);
        }
    }
}

/// A paragraph, sometimes with an inline link or emphasis in the middle (as editors add them).
fn para(rng: &mut Rng, f: &Frame, s: &str, out: &mut String) {
    let old_school = f.site.layout == 2;
    if !old_school {
        out.push_str("<p>");
    }
    if rng.chance(0.2) && f.lang.spaced() {
        let spaces: Vec<usize> = s.match_indices(' ').map(|(i, _)| i).collect();
        if spaces.len() > 6 {
            let a = spaces[spaces.len() / 3];
            let b = spaces[spaces.len() / 3 + 2];
            push_esc(out, &s[..a + 1]);
            if rng.chance(0.5) {
                let _ = write!(out, "<a href=\"/tag/{}/\">", text::slug(&s[a + 1..b], 30));
                push_esc(out, &s[a + 1..b]);
                out.push_str("</a>");
            } else {
                out.push_str("<strong>");
                push_esc(out, &s[a + 1..b]);
                out.push_str("</strong>");
            }
            push_esc(out, &s[b..]);
        } else {
            push_esc(out, s);
        }
    } else {
        push_esc(out, s);
    }
    out.push_str(if old_school { "<br><br>\n" } else { "</p>\n" });
}

fn blocks(rng: &mut Rng, f: &Frame, c: &Content, out: &mut String) {
    let mut paras = 0;
    for b in &c.blocks {
        match b {
            Block::Heading(h) => {
                out.push_str("<h2>");
                push_esc(out, h);
                out.push_str("</h2>\n");
            }
            Block::Para(p) => {
                para(rng, f, p, out);
                paras += 1;
                if paras == 2 {
                    chrome::ad(f, 1, out);
                }
            }
            Block::Quote(q) => {
                out.push_str("<blockquote><p>");
                push_esc(out, q);
                out.push_str("</p></blockquote>\n");
            }
            Block::List(items) => {
                out.push_str("<ul>");
                for i in items {
                    out.push_str("<li>");
                    push_esc(out, i);
                    out.push_str("</li>");
                }
                out.push_str("</ul>\n");
            }
            Block::Lines(lines) => {
                out.push_str("<div class=\"text\">");
                for l in lines {
                    push_esc(out, l);
                    out.push_str("<br>\n");
                }
                out.push_str("</div>\n");
            }
            Block::Links(links) => {
                out.push_str("<ul class=\"partners\">\n");
                for (a, u) in links {
                    let _ = writeln!(out, "<li><a href=\"{}\">{}</a></li>", esc(u), esc(a));
                }
                out.push_str("</ul>\n");
            }
            Block::Post { .. } | Block::Review { .. } => {}
        }
    }
}

/// Renders the whole HTML document of a page with main content (or a short page when `c` is None).
pub(crate) fn render(
    rng: &mut Rng,
    f: &Frame,
    kind: PageKind,
    c: Option<&Content>,
    published: i64,
    source_url: Option<&str>,
) -> String {
    let mut out = String::with_capacity(16 * 1024);
    chrome::head(rng, f, &mut out);
    chrome::header(rng, f, &mut out);
    open_main(f, &mut out);
    let ui = &f.lang.lexicon().ui;
    let date = display_date(f.lang, published);
    match (kind, c) {
        (PageKind::Article | PageKind::BlogPost, Some(c)) => {
            let _ = writeln!(out, "<h1 class=\"entry-title\">{}</h1>", esc(&c.title));
            let by = if kind == PageKind::BlogPost {
                ui.posted_by
            } else {
                ""
            };
            let _ = writeln!(out, "<div class=\"byline\">{} <a href=\"/author/{}/\" rel=\"author\">{}</a> <time datetime=\"{}\">{date}</time></div>", esc(by), text::slug(c.author, 30), esc(c.author), f.published_iso);
            blocks(rng, f, c, &mut out);
            if c.truncated {
                let _ = writeln!(
                    out,
                    "<p class=\"read-more\"><a href=\"{}\">{} &raquo;</a></p>",
                    esc(source_url.unwrap_or("/")),
                    esc(ui.read_more)
                );
            } else if let Some(src) = source_url {
                if rng.chance(0.5) {
                    let _ = writeln!(
                        out,
                        "<p class=\"syndication\"><em>{} <a href=\"{}\">{}</a></em></p>",
                        esc(ui.originally),
                        esc(src),
                        esc(src)
                    );
                }
            }
            chrome::share(f, &mut out);
            if !c.comments.is_empty() {
                let _ = write!(out, "<div id=\"comments\" class=\"comments-area\"><h2 class=\"comments-title\">{} ({})</h2><ol class=\"comment-list\">", esc(ui.comments), c.comments.len());
                for (k, cm) in c.comments.iter().enumerate() {
                    if let Block::Post {
                        author,
                        paras,
                        minutes_after,
                    } = cm
                    {
                        let when = display_date(f.lang, published + *minutes_after as i64 * 60);
                        let _ = write!(out, "<li id=\"comment-{k}\" class=\"comment\"><div class=\"comment-author vcard\"><b class=\"fn\">{}</b> <span class=\"says\">{when}</span></div><div class=\"comment-content\">", esc(author));
                        for p in paras {
                            out.push_str("<p>");
                            push_esc(&mut out, p);
                            out.push_str("</p>");
                        }
                        let _ = writeln!(
                            out,
                            "</div><a class=\"comment-reply-link\" href=\"#respond\">{}</a></li>",
                            esc(ui.reply)
                        );
                    }
                }
                let _ = writeln!(out, "</ol><div id=\"respond\"><form action=\"/wp-comments-post.php\" method=\"post\"><textarea name=\"comment\"></textarea><input type=\"submit\" value=\"{}\"></form></div></div>", esc(ui.reply));
            }
        }
        (PageKind::ForumThread, Some(c)) => {
            let _ = writeln!(
                out,
                "<h1 class=\"topic-title\"><a href=\"{}\">{}</a></h1>",
                esc(f.url),
                esc(&c.title)
            );
            let pages = rng.range(1, 4);
            let _ = writeln!(
                out,
                "<div class=\"pagination\">{} {} &bull; 1 / {pages}</div>",
                c.blocks.len(),
                esc(ui.comments)
            );
            for (k, b) in c.blocks.iter().enumerate() {
                if let Block::Post {
                    author,
                    paras,
                    minutes_after,
                } = b
                {
                    let when = display_date(f.lang, published + *minutes_after as i64 * 60);
                    let _ = write!(out, "<div id=\"p{}\" class=\"post bg{}\"><div class=\"postprofile\"><a class=\"username\" href=\"/memberlist.php?u={}\">{}</a><br><span class=\"posts\">{}</span></div><div class=\"postbody\"><p class=\"author\">{} &raquo; {when}</p><div class=\"content\">", f.index * 10 + k, k % 2 + 1, rng.below(99_999), esc(author), rng.range(1, 4000), esc(author));
                    for (j, p) in paras.iter().enumerate() {
                        if j > 0 {
                            out.push_str("<br><br>");
                        }
                        push_esc(&mut out, p);
                    }
                    out.push_str("</div>");
                    if rng.chance(0.25) {
                        let _ = write!(
                            out,
                            "<div class=\"signature\">-- {} | {}</div>",
                            esc(author),
                            esc(&f.site.name)
                        );
                    }
                    let _ = writeln!(
                        out,
                        "<a class=\"button reply\" href=\"#\">{}</a></div></div>",
                        esc(ui.reply)
                    );
                }
            }
            if let Some(src) = source_url {
                let _ = writeln!(
                    out,
                    "<p class=\"mirror\"><a href=\"{}\">{}</a></p>",
                    esc(src),
                    esc(src)
                );
            }
        }
        (PageKind::ProductPage, Some(c)) => {
            let p = c.product.as_ref();
            let _ = writeln!(out, "<nav class=\"breadcrumbs\"><a href=\"/\">{}</a> &rsaquo; <a href=\"/c/{}/\">{}</a> &rsaquo; <span>{}</span></nav>", esc(ui.nav[0]), rng.below(50), esc(ui.nav[rng.range(1, 5)]), esc(&c.title));
            let _ = writeln!(out, "<div class=\"product\" itemscope itemtype=\"https://schema.org/Product\"><h1 itemprop=\"name\">{}</h1>", esc(&c.title));
            if let Some(p) = p {
                let price = match f.lang {
                    crate::sample::Lang::En => {
                        format!("${}.{:02}", p.price_cents / 100, p.price_cents % 100)
                    }
                    crate::sample::Lang::Zh => {
                        format!("¥{}.{:02}", p.price_cents / 100, p.price_cents % 100)
                    }
                    crate::sample::Lang::Ja => format!("{}円", p.price_cents),
                    crate::sample::Lang::Ru => format!("{} ₽", p.price_cents),
                    _ => format!("{},{:02} €", p.price_cents / 100, p.price_cents % 100),
                };
                let _ = writeln!(out, "<div class=\"price-box\"><span class=\"label\">{}:</span> <span class=\"price\" itemprop=\"price\">{}</span> <span class=\"stock\">{}</span></div><form action=\"/cart/add\" method=\"post\"><input type=\"hidden\" name=\"sku\" value=\"{}\"><input type=\"number\" name=\"qty\" value=\"1\"><button class=\"add-to-cart\">{}</button></form>", esc(ui.price), esc(&price), esc(ui.in_stock), p.sku, esc(ui.add_to_cart));
            }
            let _ = writeln!(
                out,
                "<div class=\"description\" itemprop=\"description\"><h2>{}</h2>",
                esc(ui.description)
            );
            blocks(rng, f, c, &mut out);
            out.push_str("</div>\n");
            if let Some(p) = p {
                out.push_str("<table class=\"specs\">");
                for (k, v) in &p.specs {
                    let _ = write!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
                }
                out.push_str("</table>\n");
            }
            let reviews: Vec<&Block> = c
                .blocks
                .iter()
                .filter(|b| matches!(b, Block::Review { .. }))
                .collect();
            if !reviews.is_empty() {
                let _ = write!(out, "<div class=\"reviews\"><h2>{}</h2>", esc(ui.reviews));
                for r in reviews {
                    if let Block::Review {
                        author,
                        stars,
                        text,
                    } = r
                    {
                        let s: String =
                            (0..5).map(|i| if i < *stars { '★' } else { '☆' }).collect();
                        let _ = write!(out, "<div class=\"review\"><span class=\"stars\" title=\"{stars}/5\">{s}</span> <b>{}</b><p>", esc(author));
                        push_esc(&mut out, text);
                        out.push_str("</p></div>\n");
                    }
                }
                out.push_str("</div>\n");
            }
            out.push_str("</div>\n");
        }
        (PageKind::Spam, Some(c)) => {
            let _ = writeln!(out, "<h1>{}</h1>", esc(&c.title));
            blocks(rng, f, c, &mut out);
            let _ = writeln!(
                out,
                "<div style=\"display:none\">{}</div>",
                esc(&c.title.repeat(20))
            );
        }
        _ => short_page(rng, f, &mut out),
    }
    close_main(rng, f, &mut out);
    chrome::footer(rng, f, &mut out);
    out
}

/// A page with little or no main text: contact, tag listing, login form, or an empty template.
fn short_page(rng: &mut Rng, f: &Frame, out: &mut String) {
    let ui = &f.lang.lexicon().ui;
    match rng.below(4) {
        0 => {
            let _ = writeln!(out, "<h1>{}</h1>", esc(ui.nav[ui.nav.len() - 1]));
            let s = text::sentence(rng, f.lang, Register::Report);
            para(rng, f, &s, out);
            let _ = writeln!(
                out,
                "<address>{}<br>{} {}<br>Tel. +00 {} {}</address>",
                esc(&f.site.name),
                10_000 + rng.below(89_999),
                esc(&f.site.domain),
                rng.range(100, 999),
                rng.range(100_000, 999_999)
            );
        }
        1 => {
            let _ = writeln!(out, "<h1>{}</h1><ul class=\"post-list\">", esc(f.title));
            for _ in 0..rng.range(4, 10) {
                let t = text::title(rng, f.lang);
                let _ = writeln!(
                    out,
                    "<li><a href=\"/article/{}\">{}</a> <a class=\"more\" href=\"#\">{}</a></li>",
                    100_000 + rng.below(900_000),
                    esc(&t),
                    esc(ui.read_more)
                );
            }
            out.push_str("</ul>\n");
        }
        2 => {
            let _ = writeln!(out, "<h1>Login</h1><form action=\"/login\" method=\"post\"><label>E-Mail <input type=\"email\" name=\"email\"></label><label>Password <input type=\"password\" name=\"pw\"></label><button type=\"submit\">Login</button></form>");
        }
        _ => out.push_str("<div class=\"placeholder\"></div>\n"),
    }
}

/// The small HTML body of a redirect (Apache style), or an empty body.
pub(crate) fn redirect_body(rng: &mut Rng, status: u16, location: &str) -> String {
    if rng.chance(0.3) {
        return String::new();
    }
    let reason = super::http::reason_phrase(status);
    format!("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>{status} {reason}</title>\n</head><body>\n<h1>{reason}</h1>\n<p>The document has moved <a href=\"{}\">here</a>.</p>\n</body></html>\n", esc(location))
}

/// A 404 page: a bare server page, or the site's template with a not-found message.
pub(crate) fn not_found(rng: &mut Rng, f: &Frame) -> String {
    if rng.chance(0.4) {
        return format!("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>{}</center>\r\n</body>\r\n</html>\r\n", f.site.server);
    }
    let ui = &f.lang.lexicon().ui;
    let mut out = String::with_capacity(8 * 1024);
    chrome::head(rng, f, &mut out);
    chrome::header(rng, f, &mut out);
    open_main(f, &mut out);
    let _ = writeln!(out, "<h1>404 &ndash; {}</h1><p>{}</p><form action=\"/search\"><input name=\"q\"><button>{}</button></form>", esc(ui.not_found), esc(ui.not_found_text), esc(ui.search));
    close_main(rng, f, &mut out);
    chrome::footer(rng, f, &mut out);
    out
}
