//! `quarry inspect FILE`: show the records or rows of any supported input or shard.

use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::read::{open_documents, Format, ReaderOptions};
use quarry_corpus::storage::{InputFile, Location};
use quarry_corpus::ReadItem;

/// Flags of `quarry inspect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A WARC/WET/WAT, JSONL(.gz/.zst) or Parquet file (local path, https:// or s3://).
    pub file: String,
    /// One JSON object per document (dolma layout), skipped record or error.
    #[arg(long)]
    pub json: bool,
    /// Show at most N documents (0 = all).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// Treat the file as this format instead of guessing from its name.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// WARC: show metadata (WAT) records as documents too.
    #[arg(long)]
    pub metadata_records: bool,
}

/// `--format` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// WARC, WET or WAT.
    Warc,
    /// JSON lines.
    Jsonl,
    /// Parquet.
    Parquet,
}

/// Prints the file's items and a count summary.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let location = Location::parse(&args.file)?;
    if let Some(p) = location.as_local() {
        anyhow::ensure!(p.exists(), "{}: no such file", p.display());
    }
    let size = location
        .as_local()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len());
    let opts = ReaderOptions {
        format: args.format.map(|f| match f {
            FormatArg::Warc => Format::Warc,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Parquet => Format::Parquet,
        }),
        metadata_records: args.metadata_records,
        ..Default::default()
    };
    let opened = open_documents(&InputFile { location, size }, &opts)
        .with_context(|| format!("opening {}", args.file))?;
    let (mut docs, mut skipped, mut errors, mut shown) = (0u64, 0u64, 0u64, 0usize);
    let mut reasons = std::collections::BTreeMap::<&str, u64>::new();
    let show = |shown: usize| args.limit == 0 || shown < args.limit;
    for item in opened.items {
        match item {
            ReadItem::Doc(d) => {
                docs += 1;
                if show(shown) {
                    shown += 1;
                    if args.json {
                        println!("{}", quarry_corpus::schema::to_dolma_json(&d));
                    } else {
                        let body = if d.text.is_empty() {
                            format!(
                                "[{} raw payload bytes]",
                                d.raw_body().map_or(0, |b| b.len())
                            )
                        } else {
                            let t: String = d.text.chars().take(100).collect();
                            t.replace('\n', " ⏎ ")
                        };
                        println!(
                            "@{:<10} {}  {}  {}\n            {}",
                            d.source.offset,
                            d.id,
                            d.url.as_deref().unwrap_or("-"),
                            d.content_type.as_deref().unwrap_or(""),
                            body
                        );
                    }
                }
            }
            ReadItem::Skipped { reason, offset } => {
                skipped += 1;
                *reasons.entry(reason).or_default() += 1;
                if args.json && show(shown) {
                    println!(
                        "{}",
                        serde_json::json!({"skipped": reason, "offset": offset})
                    );
                }
            }
            ReadItem::Error(e) => {
                errors += 1;
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({"error": e.message, "offset": e.offset, "file": e.file})
                    );
                } else {
                    eprintln!("error: {e}");
                }
            }
        }
    }
    let dg = opened.digest.digest();
    eprintln!(
        "{}: {docs} documents, {skipped} skipped {:?}, {errors} errors; {} bytes read, sha256 {}",
        args.file,
        reasons,
        dg.bytes,
        if dg.complete {
            dg.sha256.as_str()
        } else {
            "(incomplete read)"
        }
    );
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
