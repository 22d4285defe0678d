//! `quarry export --checkpoint C --out DIR`: a training checkpoint as a Hugging Face model folder
//! (safetensors with `{"format": "pt"}` + config.json + the tokenizer) that transformers loads as
//! `OlmoeForCausalLM`, and quarry.json naming the checkpoint (and its weights' digest, as the run
//! manifest lists it) the folder came from.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::tokens::{save_tokenizer_dir, TextTokenizer};
use quarry_trainer::export::{export_hf, flat_from, load_all};
use quarry_trainer::{Model, ParamLayout, TrainConfig};

/// Flags of `quarry export`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A checkpoint folder (`RUN/checkpoints/step_N`), or a run's `checkpoints` folder (its latest).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Output folder for the Hugging Face model.
    #[arg(long, short)]
    pub out: PathBuf,
    /// The tokenizer to ship with the model (tokenizer.json + tokenizer_config.json).
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
}

/// Writes the model folder.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ckpt = match quarry_trainer::checkpoint::latest(&args.checkpoint)
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        Some(l) if !args.checkpoint.join("state.json").exists() => l,
        _ => args.checkpoint.clone(),
    };
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(ckpt.join("state.json"))
            .with_context(|| format!("{}: not a checkpoint (no state.json)", ckpt.display()))?,
    )?;
    let cfg_toml = state["config_toml"]
        .as_str()
        .context("state.json has no config_toml")?;
    let cfg = TrainConfig::from_toml(cfg_toml).map_err(|e| anyhow::anyhow!("{e}"))?;
    quarry_trainer::export::exportable(&cfg.model).map_err(|e| anyhow::anyhow!("{e}"))?;
    let tensors = load_all(&ckpt.join("model.safetensors")).map_err(|e| anyhow::anyhow!("{e}"))?;
    let layout = ParamLayout::olmoe(&cfg.model);
    let flat: Vec<f32> = flat_from(&layout, &tensors, "").map_err(|e| anyhow::anyhow!("{e}"))?;
    let model = Model::from_params(cfg.model.clone(), flat).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(&args.out)?;
    export_hf(&model, &args.out).map_err(|e| anyhow::anyhow!("{e}"))?;
    let step = state["step"].as_u64().context("state.json has no step")?;
    quarry_trainer::export::write_lineage(&args.out, &ckpt, step)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(t) = &args.tokenizer {
        let tok = TextTokenizer::load(t).with_context(|| format!("tokenizer {}", t.display()))?;
        anyhow::ensure!(
            tok.vocab_size() <= cfg.model.vocab_size,
            "the tokenizer has {} tokens but the model's vocabulary is {}",
            tok.vocab_size(),
            cfg.model.vocab_size
        );
        save_tokenizer_dir(&tok, &args.out)?;
    }
    eprintln!(
        "exported {} (step {}) → {}",
        ckpt.display(),
        state["step"],
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
