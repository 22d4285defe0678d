//! The loss-curve plot, `<out>/loss.svg` and `<out>/loss.png`, drawn from
//! `metrics.jsonl`: train and eval loss (top panel) and the learning rate (bottom).
//!
//! plotters without default features: the SVG backend, and the bitmap backend into an
//! RGB buffer that [`encode_png`] writes with flate2 (no `image` crate). Text uses the
//! embedded DejaVu Sans through ab_glyph, so output does not depend on the fonts of
//! the machine, and the same metrics give the same bytes.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::export::write_atomic;
use crate::Error;

/// DejaVu Sans (Bitstream Vera license, see `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Pixel size of both images.
pub const SIZE: (u32, u32) = (900, 600);

/// The series of a run's metrics log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curves {
    /// (step, training loss).
    pub train: Vec<(f64, f64)>,
    /// (step, held-out loss).
    pub eval: Vec<(f64, f64)>,
    /// (step, learning rate).
    pub lr: Vec<(f64, f64)>,
}

impl Curves {
    /// Parses `metrics.jsonl` text (step lines carry `loss` and `lr`, eval lines `eval_loss`).
    pub fn from_jsonl(text: &str) -> Result<Self, Error> {
        let mut c = Curves::default();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| Error::Format(format!("metrics line {}: {e}", i + 1)))?;
            let Some(step) = v["step"].as_f64() else {
                continue;
            };
            if let Some(l) = v["loss"].as_f64() {
                c.train.push((step, l));
            }
            if let Some(l) = v["eval_loss"].as_f64() {
                c.eval.push((step, l));
            }
            if let Some(l) = v["lr"].as_f64() {
                c.lr.push((step, l));
            }
        }
        Ok(c)
    }
}

fn register_font() -> Result<(), Error> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE.get_or_init(|| register_font_bytes("sans-serif", FontStyle::Normal, FONT));
    ok.then_some(())
        .ok_or_else(|| Error::Format("embedded font failed to load".into()))
}

fn register_font_bytes(name: &str, style: FontStyle, bytes: &'static [u8]) -> bool {
    plotters::style::register_font(name, style, bytes).is_ok()
}

fn span(points: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in points.filter(|p| p.is_finite()) {
        lo = lo.min(p);
        hi = hi.max(p);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-3).max(1e-12);
    (lo - pad, hi + pad)
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, c: &Curves) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let (top, bottom) = root.split_vertically(SIZE.1 * 2 / 3);
    let xmax = c
        .train
        .iter()
        .chain(&c.eval)
        .map(|p| p.0)
        .fold(1.0, f64::max);
    let (ylo, yhi) = span(c.train.iter().chain(&c.eval).map(|p| p.1));
    let mut ch = ChartBuilder::on(&top)
        .caption("loss", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..xmax, ylo..yhi)
        .map_err(e)?;
    ch.configure_mesh()
        .x_desc("step")
        .y_desc("nats")
        .draw()
        .map_err(e)?;
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(255, 127, 14);
    ch.draw_series(LineSeries::new(
        c.train.iter().copied(),
        blue.stroke_width(2),
    ))
    .map_err(e)?
    .label("train")
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], blue.stroke_width(2)));
    if !c.eval.is_empty() {
        ch.draw_series(LineSeries::new(
            c.eval.iter().copied(),
            orange.stroke_width(2),
        ))
        .map_err(e)?
        .label("eval")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(2)));
        ch.draw_series(c.eval.iter().map(|&p| Circle::new(p, 3, orange.filled())))
            .map_err(e)?;
    }
    ch.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    let (llo, lhi) = span(c.lr.iter().map(|p| p.1));
    let mut lr = ChartBuilder::on(&bottom)
        .caption("learning rate", ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..xmax, llo.min(0.0)..lhi)
        .map_err(e)?;
    lr.configure_mesh()
        .x_desc("step")
        .y_label_formatter(&|v| format!("{v:.1e}"))
        .draw()
        .map_err(e)?;
    lr.draw_series(LineSeries::new(
        c.lr.iter().copied(),
        RGBColor(44, 160, 44).stroke_width(2),
    ))
    .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// The SVG document of the plot.
pub fn render_svg(c: &Curves) -> Result<String, Error> {
    register_font()?;
    let mut s = String::new();
    draw(SVGBackend::with_string(&mut s, SIZE).into_drawing_area(), c).map_err(Error::Format)?;
    Ok(s)
}

/// The PNG file of the plot.
pub fn render_png(c: &Curves) -> Result<Vec<u8>, Error> {
    register_font()?;
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    draw(
        BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area(),
        c,
    )
    .map_err(Error::Format)?;
    Ok(encode_png(&rgb, w, h))
}

/// Writes `loss.svg` and `loss.png` into `run` from its `metrics.jsonl`.
pub fn write_loss_plot(run: &Path) -> Result<(), Error> {
    let p = run.join("metrics.jsonl");
    let text =
        std::fs::read_to_string(&p).map_err(|e| Error::io(format!("read {}", p.display()), e))?;
    let c = Curves::from_jsonl(&text)?;
    write_atomic(&run.join("loss.svg"), render_svg(&c)?.as_bytes())?;
    write_atomic(&run.join("loss.png"), &render_png(&c)?)
}

/// A minimal PNG encoder: 8-bit RGB, no interlace, filter 0 on every row, zlib at the
/// default level (deterministic for given pixels).
pub fn encode_png(rgb: &[u8], w: u32, h: u32) -> Vec<u8> {
    use std::io::Write;
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend(kind);
        out.extend(data);
        out.extend(crc.sum().to_be_bytes());
    }
    let mut raw = Vec::with_capacity(rgb.len() + h as usize);
    for row in rgb.chunks_exact(w as usize * 3) {
        raw.push(0);
        raw.extend(row);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).expect("writing to a Vec cannot fail");
    let idat = z.finish().expect("writing to a Vec cannot fail");
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &idat);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn metrics() -> String {
        let mut s = String::new();
        for step in 1..=20 {
            let loss = 4.0 / (1.0 + step as f64 * 0.2);
            s += &format!(
                "{{\"step\":{step},\"loss\":{loss},\"lr\":{}}}\n",
                1e-3 * step as f64
            );
            if step % 5 == 0 {
                s += &format!("{{\"step\":{step},\"eval_loss\":{}}}\n", loss + 0.1);
            }
        }
        s
    }

    #[test]
    fn parses_metrics_and_rejects_garbage() {
        let c = Curves::from_jsonl(&metrics()).unwrap();
        assert_eq!((c.train.len(), c.eval.len(), c.lr.len()), (20, 4, 20));
        assert_eq!(c.eval[0].0, 5.0);
        assert!(Curves::from_jsonl("{\"step\":1,\"loss\":2}\nnot json\n")
            .unwrap_err()
            .to_string()
            .contains("line 2"));
    }

    #[test]
    fn svg_and_png_are_valid_and_deterministic() {
        let c = Curves::from_jsonl(&metrics()).unwrap();
        let svg = render_svg(&c).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // plotters writes each text element's content on its own line.
        for word in ["loss", "eval", "train", "step", "learning rate"] {
            assert!(
                svg.contains(&format!(">\n{word}\n</text>")),
                "no {word} label"
            );
        }
        assert_eq!(svg, render_svg(&c).unwrap());
        let png = render_png(&c).unwrap();
        assert_eq!(png, render_png(&c).unwrap());
        // Decode our own PNG: signature, IHDR, then the IDAT stream inflates to
        // h rows of (filter byte + w RGB pixels) holding some non-white (drawn) pixels.
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), SIZE.0);
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&png[41..41 + idat_len])
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(raw.len(), (SIZE.1 * (SIZE.0 * 3 + 1)) as usize);
        let dark = raw.iter().filter(|&&b| b < 100).count();
        assert!(dark > 1000, "nothing drawn: {dark} dark bytes");
        assert!(png.ends_with(b"IEND\xaeB`\x82"));
    }

    #[test]
    fn empty_metrics_still_plot() {
        let c = Curves::default();
        assert!(render_svg(&c).is_ok());
        assert!(render_png(&c).is_ok());
    }
}
