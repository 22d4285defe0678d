//! `quarry license --input WARC|HTML... [--json]`: the licence audit of every page, with its
//! findings and opt-out signals.
//!
//! HTML files are audited as one document (no HTTP headers); anything else is read as WARC
//! (plain or gzip) and every HTML response is audited with its HTTP headers.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::warc::{read_documents, WarcOptions};
use quarry_corpus::ReadItem;
use quarry_filters::license::{audit_bytes, audit_bytes_at, Audit};

/// Flags of `quarry license`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input WARC files (plain or gzip) or HTML files (`.html`/`.htm`, or any file not starting
    /// like a WARC).
    #[arg(long, short, required = true, num_args = 1.., value_name = "WARC|HTML")]
    pub input: Vec<String>,
    /// One JSON object per document (`file`, `url`, `offset` and the audit) instead of text.
    #[arg(long)]
    pub json: bool,
}

fn is_html(path: &str, head: &[u8]) -> bool {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".html") || lower.ends_with(".htm") || lower.ends_with(".xhtml") {
        return true;
    }
    !(head.starts_with(b"WARC/") || head.starts_with(&[0x1f, 0x8b]))
}

fn print(
    out: &mut impl Write,
    json: bool,
    file: &str,
    url: Option<&str>,
    offset: u64,
    a: &Audit,
) -> std::io::Result<()> {
    if json {
        let mut v = a.to_json();
        v["file"] = file.into();
        v["url"] = url.into();
        v["offset"] = offset.into();
        return writeln!(out, "{v}");
    }
    writeln!(
        out,
        "{file}@{offset} {}\n  license: {} ({})",
        url.unwrap_or("-"),
        a.license.as_deref().unwrap_or("none"),
        a.class.as_str()
    )?;
    for f in &a.findings {
        writeln!(
            out,
            "  - {:<32} {:<12} {:<24} {:.2}  {}",
            f.spdx,
            f.source.as_str(),
            f.location,
            f.confidence,
            f.evidence
        )?;
    }
    for o in &a.opt_outs {
        writeln!(out, "  opt-out: {} ({})", o.reason, o.source)?;
    }
    Ok(())
}

/// Audits every input and prints the result; record errors in a WARC give exit status 1.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut errors = 0u64;
    for path in &args.input {
        let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
        if is_html(path, &bytes[..bytes.len().min(8)]) {
            let a = audit_bytes(&[], &bytes);
            print(&mut out, args.json, path, None, 0, &a)?;
            continue;
        }
        let reader = read_documents(
            Box::new(std::io::Cursor::new(bytes)),
            path,
            &WarcOptions::default(),
        );
        for item in reader {
            match item {
                ReadItem::Doc(doc) => {
                    let Some(raw) = doc.raw.as_ref() else {
                        continue;
                    };
                    let mut a = audit_bytes_at(&raw.http_headers, &raw.body, doc.url.as_deref());
                    quarry_filters::license::optout::from_metadata(&doc.metadata, &mut a.opt_outs);
                    print(
                        &mut out,
                        args.json,
                        path,
                        doc.url.as_deref(),
                        doc.source.offset,
                        &a,
                    )?;
                }
                ReadItem::Skipped { .. } => {}
                ReadItem::Error(e) => {
                    errors += 1;
                    eprintln!("quarry license: {}@{}: {}", e.file, e.offset, e.message);
                }
            }
        }
    }
    out.flush()?;
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
