//! `quarry card`: the dataset card of a release (README.md, croissant.json, stats.json, plots,
//! lineage.json), from the manifests and shards of the runs.

use std::path::PathBuf;
use std::process::ExitCode;

use quarry_datacards::{write_card, CardInputs, CardOptions};

/// Flags of `quarry card`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run folder whose text shards are published (manifest.json + shards/); earlier runs are
    /// found through its inputs.
    #[arg(long)]
    pub corpus: PathBuf,
    /// Token shards folder (tokenize manifest.json + shards).
    #[arg(long)]
    pub tokens: Option<PathBuf>,
    /// Training run folder(s) with a manifest.json of kind quarry-train/1.
    #[arg(long, num_args = 1..)]
    pub train: Vec<PathBuf>,
    /// Card folder (best: a folder above the shards, e.g. the build's output folder).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Take the card options from this recipe's `[card]` table instead of the flags below (how
    /// `quarry launch` runs the card with the same options as `quarry build`).
    #[arg(long, conflicts_with_all = ["name", "license", "url", "date"])]
    pub recipe: Option<PathBuf>,
    /// Name shown [default: the first recipe's name].
    #[arg(long)]
    pub name: Option<String>,
    /// SPDX id of the release license (e.g. odc-by) [default: per document, with the breakdown].
    #[arg(long)]
    pub license: Option<String>,
    /// Homepage of the release.
    #[arg(long)]
    pub url: Option<String>,
    /// Release version.
    #[arg(long, default_value = "1.0.0")]
    pub release_version: String,
    /// Publication date YYYY-MM-DD [default: from SOURCE_DATE_EPOCH when set, else none; never the clock].
    #[arg(long)]
    pub date: Option<String>,
    /// Publisher.
    #[arg(long, default_value = "quarry")]
    pub creator: String,
}

/// The card options from flags and the environment.
pub fn options(a: &Args) -> CardOptions {
    CardOptions {
        pretty_name: a.name.clone(),
        license: a.license.clone(),
        url: a.url.clone(),
        version: a.release_version.clone(),
        date: a.date.clone().or_else(source_date),
        creator: a.creator.clone(),
    }
}

/// Card options from a recipe's `[card]` table (`name`, `license`, `url`, `version`, `date`,
/// `creator`); unknown keys are errors, like everywhere in a recipe.
pub fn options_from_table(t: &toml::Table) -> anyhow::Result<CardOptions> {
    let mut o = CardOptions {
        date: source_date(),
        ..Default::default()
    };
    for (k, v) in t {
        let s = v
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("[card] {k}: want a string"))?
            .to_string();
        match k.as_str() {
            "name" => o.pretty_name = Some(s),
            "license" => o.license = Some(s),
            "url" => o.url = Some(s),
            "version" => o.version = s,
            "date" => o.date = Some(s),
            "creator" => o.creator = s,
            _ => anyhow::bail!(
                "[card]: unknown key `{k}` (known: name, license, url, version, date, creator)"
            ),
        }
    }
    Ok(o)
}

/// `SOURCE_DATE_EPOCH` as a date, when set.
pub fn source_date() -> Option<String> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(quarry_datacards::date_from_epoch)
}

/// Writes a card and prints what it wrote.
pub fn make(inputs: &CardInputs, opts: &CardOptions) -> anyhow::Result<()> {
    let r = write_card(inputs, opts)?;
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "card: {} documents{}, {} files in the lineage → {}",
        r.documents,
        r.tokens
            .map(|t| format!(", {t} tokens"))
            .unwrap_or_default(),
        r.lineage_files,
        inputs.out.join("README.md").display()
    );
    Ok(())
}

/// Runs `quarry card`.
pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let inputs = CardInputs {
        corpus: a.corpus.clone(),
        tokens: a.tokens.clone(),
        train: a.train.clone(),
        out: a.out.clone(),
    };
    let opts = match &a.recipe {
        Some(r) => {
            let text = std::fs::read_to_string(r)
                .map_err(|e| anyhow::anyhow!("reading recipe {}: {e}", r.display()))?;
            let recipe = quarry_corpus::recipe::Recipe::parse(&text)?;
            options_from_table(&recipe.card.unwrap_or_default())?
        }
        None => options(&a),
    };
    make(&inputs, &opts)?;
    Ok(ExitCode::SUCCESS)
}
