//! # quarry-datacards
//!
//! The documentation half of a release: from the manifests and shards a quarry run wrote, a dataset
//! card (`README.md`, Hugging Face YAML header + "Datasheets for Datasets" body), MLCommons
//! Croissant 1.0 metadata (`croissant.json`), statistics (`stats.json`), plots (`plots/*.png|svg`)
//! and the lineage graph (`lineage.json`) from raw inputs to token shards and training runs; and
//! [`verify`], which re-hashes everything a bundle names.
//!
//! ```no_run
//! use quarry_datacards::{write_card, CardInputs, CardOptions};
//! let inputs = CardInputs { corpus: "out/dedup".into(), tokens: Some("out/tokens".into()), train: vec![], out: "out".into() };
//! let report = write_card(&inputs, &CardOptions::default())?;
//! println!("{} documents", report.documents);
//! # Ok::<(), quarry_datacards::CardError>(())
//! ```
//!
//! Statistics are one streaming pass over the Parquet shards with arrow-rs (see [`scan`] for why
//! not polars); memory is bounded by the batch size and the sketches of [`sketch`]. Output is
//! deterministic: the same inputs give byte-identical files (no wall-clock time anywhere; a
//! publication date is an option).
#![warn(missing_docs)]

pub mod bundle;
pub mod card;
pub mod croissant;
mod error;
pub mod lineage;
pub mod plots;
mod png;
pub mod readme;
pub mod scan;
pub mod sketch;
pub mod stats;
pub mod tokens;

use std::path::{Path, PathBuf};

pub use bundle::Bundle;
pub use card::{CardContext, CardOptions};
pub use error::{CardError, Result};
pub use lineage::{verify, Lineage, Problem, VerifyReport};
pub use stats::Stats;

/// What a card is made from, and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct CardInputs {
    /// The run folder whose shards are published (`manifest.json` + `shards/`).
    pub corpus: PathBuf,
    /// A tokenize output folder (`manifest.json` + token shards).
    pub tokens: Option<PathBuf>,
    /// Training run folders (`manifest.json` of kind `quarry-train/1`).
    pub train: Vec<PathBuf>,
    /// The card folder (best: an ancestor of the shards, so relative paths need no `..`).
    pub out: PathBuf,
}

/// What [`write_card`] wrote.
#[derive(Debug, Clone)]
pub struct CardReport {
    /// Files written, in order.
    pub files: Vec<PathBuf>,
    /// Documents described.
    pub documents: u64,
    /// Tokens, when token shards were given.
    pub tokens: Option<u64>,
    /// Files in the lineage.
    pub lineage_files: usize,
    /// Warnings for the user (e.g. shards outside the card folder).
    pub warnings: Vec<String>,
}

fn write(path: &Path, bytes: &[u8], files: &mut Vec<PathBuf>) -> Result<()> {
    quarry_corpus::storage::write_atomic(path, bytes).map_err(|e| CardError::io(path, e))?;
    files.push(path.to_path_buf());
    Ok(())
}

fn json_bytes<T: serde::Serialize>(v: &T) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).expect("card data serialises");
    b.push(b'\n');
    b
}

/// The Arrow schema of the first shard (the quarry-text/1 schema when there are none).
fn shard_schema(b: &Bundle) -> Result<arrow_schema::Schema> {
    match b.corpus().outputs.iter().find_map(|o| o.local.clone()) {
        Some(p) => {
            let f = std::fs::File::open(&p).map_err(|e| CardError::io(&p, e))?;
            let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
                .map_err(|e| CardError::format(&p, e.to_string()))?;
            Ok(builder
                .schema()
                .as_ref()
                .clone()
                .with_metadata(std::collections::HashMap::new()))
        }
        None => Ok(quarry_corpus::schema::arrow_schema().as_ref().clone()),
    }
}

/// The glob of the corpus shards relative to the card folder, and a warning when it leaves it.
fn shard_glob(b: &Bundle, out: &Path) -> (String, Option<String>) {
    let dirs: std::collections::BTreeSet<PathBuf> = b
        .corpus()
        .outputs
        .iter()
        .filter_map(|o| o.local.as_deref()?.parent().map(Path::to_path_buf))
        .collect();
    let dir = dirs
        .into_iter()
        .next()
        .unwrap_or_else(|| b.corpus().dir.join("shards"));
    let rel = bundle::relative_path(out, &dir);
    let glob = if rel == "." {
        "*.parquet".to_string()
    } else {
        format!("{rel}/*.parquet")
    };
    let warn = rel.starts_with("..").then(|| {
        format!(
            "the shards ({}) are not below the card folder: `configs` and the Croissant FileSet use `{glob}`, \
             which Hugging Face and mlcroissant do not follow; write the card into a folder above the shards",
            dir.display()
        )
    });
    (glob, warn)
}

/// The last training loss and evaluation loss in a `metrics.jsonl`.
pub(crate) fn final_metrics(m: &bundle::FileRef) -> Option<String> {
    use std::io::BufRead;
    let f = std::fs::File::open(m.local.as_ref()?).ok()?;
    let (mut loss, mut eval) = (None, None);
    for line in std::io::BufReader::new(f).lines().map_while(|l| l.ok()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let step = v["step"].as_u64();
        if let (Some(s), Some(l)) = (step, v["loss"].as_f64()) {
            loss = Some((s, l));
        }
        if let (Some(s), Some(l)) = (step, v["eval_loss"].as_f64()) {
            eval = Some((s, l));
        }
    }
    let mut parts = Vec::new();
    if let Some((s, l)) = loss {
        parts.push(format!("training loss {l:.4} at step {s}"));
    }
    if let Some((s, l)) = eval {
        parts.push(format!("evaluation loss {l:.4} at step {s}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Writes the card folder: `stats.json`, `plots/`, `lineage.json`, `croissant.json`, `README.md`.
pub fn write_card(inputs: &CardInputs, options: &CardOptions) -> Result<CardReport> {
    let mut bundle = Bundle::discover(&inputs.corpus, inputs.tokens.as_deref(), &inputs.train)?;
    bundle.hash_all()?;
    let stats = stats::compute(&bundle)?;
    std::fs::create_dir_all(&inputs.out).map_err(|e| CardError::io(&inputs.out, e))?;
    let out = std::fs::canonicalize(&inputs.out).map_err(|e| CardError::io(&inputs.out, e))?;
    let mut lineage = Lineage::of(&bundle, &out);
    let (glob, warning) = shard_glob(&bundle, &out);
    let mut files = Vec::new();

    let (plots, plot_files) = plots::write_plots(&stats, &out)?;
    write(&out.join("stats.json"), &json_bytes(&stats), &mut files)?;
    let card_files: Vec<PathBuf> = std::iter::once(out.join("stats.json"))
        .chain(plot_files)
        .collect();
    for f in &card_files {
        let (sha256, bytes) =
            quarry_corpus::storage::sha256_file(f).map_err(|e| CardError::io(f, e))?;
        lineage.card_files.push(lineage::LineageFile {
            path: bundle::relative_path(&out, f),
            role: "card".into(),
            sha256,
            content_sha256: None,
            bytes,
            rows: None,
            recorded: bundle::relative_path(&out, f),
            verifiable: true,
        });
    }
    files.extend(card_files.into_iter().skip(1));
    write(&out.join("lineage.json"), &json_bytes(&lineage), &mut files)?;

    let pretty_name = options
        .pretty_name
        .clone()
        .unwrap_or_else(|| stats::run_label(&bundle.runs[0]));
    let cx = CardContext {
        options,
        bundle: &bundle,
        stats: &stats,
        lineage: &lineage,
        pretty_name,
        shard_glob: glob,
        plots,
    };
    let schema = shard_schema(&bundle)?;
    write(
        &out.join("croissant.json"),
        &json_bytes(&croissant::croissant(&cx, &schema)),
        &mut files,
    )?;
    write(
        &out.join("README.md"),
        readme::readme(&cx, &schema).as_bytes(),
        &mut files,
    )?;
    Ok(CardReport {
        files,
        documents: stats.documents,
        tokens: stats.tokens.as_ref().map(|t| t.tokens),
        lineage_files: lineage.files.len(),
        warnings: warning.into_iter().collect(),
    })
}

/// `YYYY-MM-DD` of a Unix time (for `SOURCE_DATE_EPOCH`, the reproducible-builds convention).
pub fn date_from_epoch(secs: i64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_dates() {
        assert_eq!(date_from_epoch(0), "1970-01-01");
        assert_eq!(date_from_epoch(1_700_000_000), "2023-11-14");
        assert_eq!(date_from_epoch(951_782_400), "2000-02-29");
    }
}
