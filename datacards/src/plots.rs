//! The card's charts, each as PNG and SVG, drawn with plotters: languages, licenses, document
//! lengths, quality scores, and the stage funnel.
//!
//! PNG text is drawn with DejaVu Sans (embedded; its license is `assets/DejaVuSans-LICENSE.txt`),
//! so the pixels do not depend on the fonts of the machine; SVG text names the family and lets the
//! viewer render it. Both outputs are deterministic.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::card::PlotRef;
use crate::error::{CardError, Result};
use crate::sketch::{Histogram, Scale};
use crate::stats::Stats;

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";
const W: u32 = 900;
const BLUE: RGBColor = RGBColor(46, 110, 171);

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded file is a valid TrueType font; a failure would show as missing text, not a crash.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// What to draw.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Horizontal bars, top to bottom.
    Bars {
        /// Labels.
        labels: Vec<String>,
        /// Values.
        values: Vec<u64>,
        /// Axis caption.
        x_desc: String,
    },
    /// A histogram of fixed buckets.
    Hist {
        /// The histogram.
        hist: Histogram,
        /// Axis caption.
        x_desc: String,
    },
}

fn err(name: &str) -> impl Fn(String) -> CardError + '_ {
    move |message| CardError::Plot {
        name: name.to_string(),
        message,
    }
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    chart: &Chart,
) -> std::result::Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let style = |size: u32| (FAMILY, size).into_font();
    match chart {
        Chart::Bars {
            labels,
            values,
            x_desc,
        } => {
            let n = labels.len().max(1);
            let max = values.iter().copied().max().unwrap_or(1).max(1);
            let label_w = labels
                .iter()
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(4)
                .clamp(4, 40) as u32
                * 8
                + 10;
            let mut c = ChartBuilder::on(&root)
                .caption(title, style(20))
                .margin(12)
                .x_label_area_size(36)
                .y_label_area_size(label_w)
                .build_cartesian_2d(0u64..max + max / 10 + 1, (0..n).into_segmented())
                .map_err(e)?;
            let labels_c = labels.clone();
            c.configure_mesh()
                .disable_y_mesh()
                .y_labels(n)
                .y_label_formatter(&|v: &SegmentValue<usize>| match v {
                    SegmentValue::CenterOf(i) => n
                        .checked_sub(1 + *i)
                        .and_then(|k| labels_c.get(k).cloned())
                        .unwrap_or_default(),
                    _ => String::new(),
                })
                .x_desc(x_desc.as_str())
                .label_style(style(13))
                .draw()
                .map_err(e)?;
            c.draw_series(values.iter().enumerate().map(|(i, v)| {
                let y = n - 1 - i;
                let mut r = Rectangle::new(
                    [
                        (0, SegmentValue::Exact(y)),
                        (*v, SegmentValue::Exact(y + 1)),
                    ],
                    BLUE.filled(),
                );
                r.set_margin(3, 3, 0, 0);
                r
            }))
            .map_err(e)?;
        }
        Chart::Hist { hist, x_desc } => {
            let edges = hist.edges();
            let ymax = hist.counts.iter().copied().max().unwrap_or(1).max(1);
            let yr = 0u64..ymax + ymax / 10 + 1;
            let bars = |lo_floor: f64| {
                hist.counts
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c > 0)
                    .map(|(i, c)| {
                        Rectangle::new(
                            [(edges[i].max(lo_floor), 0), (edges[i + 1], *c)],
                            BLUE.filled(),
                        )
                    })
                    .collect::<Vec<_>>()
            };
            match hist.scale {
                Scale::Linear { lo, hi, .. } => {
                    let mut c = ChartBuilder::on(&root)
                        .caption(title, style(20))
                        .margin(12)
                        .x_label_area_size(40)
                        .y_label_area_size(60)
                        .build_cartesian_2d(lo..hi, yr)
                        .map_err(e)?;
                    c.configure_mesh()
                        .x_desc(x_desc.as_str())
                        .y_desc("documents")
                        .label_style(style(13))
                        .draw()
                        .map_err(e)?;
                    c.draw_series(bars(lo)).map_err(e)?;
                }
                Scale::Log2 => {
                    let hi = edges.last().copied().unwrap_or(2.0).max(2.0);
                    // Start at the power of ten below the first non-empty bucket.
                    let first = hist
                        .counts
                        .iter()
                        .position(|c| *c > 0)
                        .map_or(1.0, |i| edges[i].max(1.0));
                    let lo = 10f64.powi(first.log10().floor() as i32).min(hi / 2.0);
                    let mut c = ChartBuilder::on(&root)
                        .caption(title, style(20))
                        .margin(12)
                        .x_label_area_size(40)
                        .y_label_area_size(60)
                        .build_cartesian_2d((lo..hi).log_scale(), yr)
                        .map_err(e)?;
                    c.configure_mesh()
                        .x_desc(x_desc.as_str())
                        .y_desc("documents")
                        .x_label_formatter(&|v| format!("{v:.0}"))
                        .label_style(style(13))
                        .draw()
                        .map_err(e)?;
                    c.draw_series(bars(lo)).map_err(e)?;
                }
            }
        }
    }
    root.present().map_err(e)
}

/// Draws one chart as `(png bytes, svg text)`.
pub fn render(name: &str, title: &str, chart: &Chart) -> Result<(Vec<u8>, String)> {
    register_font();
    let h = match chart {
        Chart::Bars { labels, .. } => (labels.len() as u32 * 26 + 110).clamp(220, 900),
        Chart::Hist { .. } => 420,
    };
    let mut rgb = vec![255u8; (W * h * 3) as usize];
    draw(
        BitMapBackend::with_buffer(&mut rgb, (W, h)).into_drawing_area(),
        title,
        chart,
    )
    .map_err(err(name))?;
    let png = crate::png::encode_rgb(W, h, &rgb);
    let mut svg = String::new();
    draw(
        SVGBackend::with_string(&mut svg, (W, h)).into_drawing_area(),
        title,
        chart,
    )
    .map_err(err(name))?;
    Ok((png, svg))
}

fn bars(v: &[crate::stats::ValueCount], k: usize, x_desc: &str) -> Chart {
    let mut labels: Vec<String> = v.iter().take(k).map(|c| c.value.clone()).collect();
    let mut values: Vec<u64> = v.iter().take(k).map(|c| c.documents).collect();
    if v.len() > k {
        labels.push(format!("{} others", v.len() - k));
        values.push(v[k..].iter().map(|c| c.documents).sum());
    }
    Chart::Bars {
        labels,
        values,
        x_desc: x_desc.into(),
    }
}

/// The charts of a card: `(plot, chart)` in the order the card shows them.
pub fn charts(s: &Stats) -> Vec<(PlotRef, Chart)> {
    let mut v = Vec::new();
    let mut add = |name: &str, title: String, c: Chart| {
        v.push((
            PlotRef {
                name: name.into(),
                title,
            },
            c,
        ));
    };
    add(
        "languages",
        "Documents by language".into(),
        bars(&s.languages, 15, "documents"),
    );
    add(
        "licenses",
        "Documents by license".into(),
        bars(&s.licenses, 15, "documents"),
    );
    add(
        "license_classes",
        "Documents by license class".into(),
        bars(&s.license_classes, 10, "documents"),
    );
    add(
        "length_chars",
        "Document length".into(),
        Chart::Hist {
            hist: s.chars_per_doc.clone(),
            x_desc: "characters per document (log scale)".into(),
        },
    );
    if let Some(t) = &s.tokens {
        add(
            "length_tokens",
            "Tokens per document".into(),
            Chart::Hist {
                hist: t.tokens_per_doc.clone(),
                x_desc: "tokens per document, EOS included (log scale)".into(),
            },
        );
    }
    for (k, h) in &s.quality_scores {
        add(
            &format!("score_{k}"),
            k.to_string(),
            Chart::Hist {
                hist: h.clone(),
                x_desc: k.clone(),
            },
        );
    }
    let mut labels = Vec::new();
    let mut values = Vec::new();
    if let Some(first) = s.funnel.first() {
        labels.push("input records".to_string());
        values.push(first.input);
    }
    for f in &s.funnel {
        // A reader step that drops nothing (a later run reading shards) adds no information.
        if f.step == "read"
            && f.dropped.is_empty()
            && !labels.is_empty()
            && f.input == *values.last().unwrap_or(&0)
        {
            continue;
        }
        labels.push(format!("after {}", f.step));
        values.push(f.kept);
    }
    add(
        "funnel",
        "Documents after each step".into(),
        Chart::Bars {
            labels,
            values,
            x_desc: "documents".into(),
        },
    );
    v
}

/// Writes every chart under `dir/plots/` (PNG and SVG); returns the plots and the files written.
pub fn write_plots(
    s: &Stats,
    dir: &std::path::Path,
) -> Result<(Vec<PlotRef>, Vec<std::path::PathBuf>)> {
    let pdir = dir.join("plots");
    std::fs::create_dir_all(&pdir).map_err(|e| CardError::io(&pdir, e))?;
    let mut refs = Vec::new();
    let mut files = Vec::new();
    for (p, c) in charts(s) {
        let (png, svg) = render(&p.name, &p.title, &c)?;
        for (ext, bytes) in [("png", png.as_slice()), ("svg", svg.as_bytes())] {
            let f = pdir.join(format!("{}.{ext}", p.name));
            quarry_corpus::storage::write_atomic(&f, bytes).map_err(|e| CardError::io(&f, e))?;
            files.push(f);
        }
        refs.push(p);
    }
    Ok((refs, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_render_deterministically_with_text() {
        let c = Chart::Bars {
            labels: vec!["en".into(), "de".into()],
            values: vec![10, 3],
            x_desc: "documents".into(),
        };
        let (png, svg) = render("t", "Documents by language", &c).unwrap();
        let (png2, svg2) = render("t", "Documents by language", &c).unwrap();
        assert_eq!(png, png2);
        assert_eq!(svg, svg2);
        assert!(svg.contains("Documents by language"), "title in the SVG");
        assert!(
            svg.contains(">\nen\n</text>") && svg.contains(">\nde\n</text>"),
            "labels in the SVG"
        );
        let mut h = Histogram::log2();
        for v in [0u64, 5, 50, 500, 5000, 5000] {
            h.add_u64(v);
        }
        let (png3, svg3) = render(
            "h",
            "Document length",
            &Chart::Hist {
                hist: h,
                x_desc: "chars".into(),
            },
        )
        .unwrap();
        assert!(png3.len() > 1000 && svg3.contains("<rect"));
        let mut s = Histogram::linear(0.0, 1.0, 20);
        s.add(0.7);
        render(
            "s",
            "score",
            &Chart::Hist {
                hist: s,
                x_desc: "score".into(),
            },
        )
        .unwrap();
    }
}
