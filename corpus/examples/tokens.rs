//! Reference driver for the token stages until the CLI wires them (`quarry tokenizer train`,
//! `quarry tokenize`), and the encoding benchmark.
//!
//! ```text
//! cargo run --release -p quarry-corpus --example tokens -- train  --vocab-size N [--sample-bytes B] [--seed S] --out tokenizer.json INPUT.jsonl[.gz]...
//! cargo run --release -p quarry-corpus --example tokens -- tokenize --tokenizer T --out DIR [--format megatron|olmo] [--shard-tokens N] [--shuffle-seed S] INPUT.jsonl[.gz]...
//! cargo run --release -p quarry-corpus --example tokens -- bench --tokenizer T [--threads 1,2] INPUT.jsonl[.gz]...
//! ```
//! Input is JSONL with a `text` field (and optional `id`); gzip when the name ends in `.gz`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Instant;

use quarry_corpus::tokens::{
    save_tokenizer_dir, save_tokenizer_json, tokenize_to_shards, train_bpe, TextTokenizer,
    TokenizeConfig, TrainConfig,
};
use quarry_corpus::{Document, Provenance};

fn read_jsonl(path: &Path) -> impl Iterator<Item = Document> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let r: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(f)))
    } else {
        Box::new(BufReader::new(f))
    };
    let file = path.display().to_string();
    r.lines().enumerate().filter_map(move |(i, line)| {
        let line = line.ok()?;
        let v: serde_json::Value = serde_json::from_str(&line).ok()?;
        let text = v.get("text")?.as_str()?.to_string();
        let id = v
            .get("id")
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("{file}:{i}"));
        let mut d = Document::new(id, text);
        d.source = Provenance {
            file: file.clone(),
            offset: i as u64,
        };
        Some(d)
    })
}

/// User + system CPU seconds of this process (Linux `/proc/self/stat`, clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are 12 and 13 after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

struct Args {
    flags: std::collections::HashMap<String, String>,
    inputs: Vec<PathBuf>,
}

fn parse(args: &[String]) -> Args {
    let mut flags = std::collections::HashMap::new();
    let mut inputs = Vec::new();
    let mut i = 0;
    while i < args.len() {
        if let Some(k) = args[i].strip_prefix("--") {
            flags.insert(k.to_string(), args.get(i + 1).cloned().unwrap_or_default());
            i += 2;
        } else {
            inputs.push(PathBuf::from(&args[i]));
            i += 1;
        }
    }
    Args { flags, inputs }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = argv
        .split_first()
        .expect("subcommand: train | tokenize | bench");
    let a = parse(rest);
    let get = |k: &str| a.flags.get(k).map(String::as_str);
    match cmd.as_str() {
        "train" => {
            let cfg = TrainConfig {
                vocab_size: get("vocab-size").expect("--vocab-size").parse().unwrap(),
                sample_bytes: get("sample-bytes").map_or(1 << 30, |v| v.parse().unwrap()),
                seed: get("seed").map_or(0, |v| v.parse().unwrap()),
                ..TrainConfig::default()
            };
            let texts = a.inputs.iter().flat_map(|p| read_jsonl(p)).map(|d| d.text);
            let t = Instant::now();
            let (tok, report) = train_bpe(texts, &cfg).unwrap();
            let out = Path::new(get("out").expect("--out"));
            // `x.json` gets the tokenizer.json alone; a folder gets tokenizer.json +
            // tokenizer_config.json (what transformers' AutoTokenizer loads).
            if out.extension().is_some_and(|e| e == "json") {
                save_tokenizer_json(&tok, out).unwrap();
            } else {
                save_tokenizer_dir(&tok, out).unwrap();
            }
            eprintln!(
                "{} in {:.2?}",
                serde_json::to_string(&report).unwrap(),
                t.elapsed()
            );
        }
        "tokenize" => {
            let tok =
                TextTokenizer::load(Path::new(get("tokenizer").expect("--tokenizer"))).unwrap();
            let mut cfg = TokenizeConfig::default();
            if let Some(f) = get("format") {
                cfg.format = f.parse().unwrap();
            }
            if let Some(n) = get("shard-tokens") {
                cfg.shard_tokens = n.parse().unwrap();
            }
            cfg.shuffle_seed = get("shuffle-seed").map(|s| s.parse().unwrap());
            let docs = a.inputs.iter().flat_map(|p| read_jsonl(p));
            let stats = tokenize_to_shards(&tok, docs, Path::new(get("out").expect("--out")), &cfg)
                .unwrap();
            println!("{}", serde_json::to_string_pretty(&stats).unwrap());
        }
        "bench" => {
            let tok =
                TextTokenizer::load(Path::new(get("tokenizer").expect("--tokenizer"))).unwrap();
            let texts: Vec<String> = a
                .inputs
                .iter()
                .flat_map(|p| read_jsonl(p))
                .map(|d| d.text)
                .collect();
            let bytes: usize = texts.iter().map(String::len).sum();
            let threads: Vec<usize> = get("threads")
                .unwrap_or("1,2")
                .split(',')
                .map(|s| s.parse().unwrap())
                .collect();
            let reps: usize = get("reps").map_or(3, |v| v.parse().unwrap());
            // Wall time and process CPU time: on a shared machine the CPU time per token is the
            // comparable number; wall time shows the parallel speed-up when cores are free.
            println!("impl\tthreads\tdocs\tMB\ttokens\twall_s\tcpu_s\ttokens_per_wall_s\tMB_per_wall_s\ttokens_per_cpu_s\tMB_per_cpu_s");
            for (name, fast) in [("quarry-fast", true), ("quarry-via-lib-encode_fast", false)] {
                for &n in &threads {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(n)
                        .build()
                        .unwrap();
                    let (mut wall, mut cpu) = (f64::MAX, f64::MAX);
                    let mut tokens = 0usize;
                    for _ in 0..reps {
                        let (t, c) = (Instant::now(), cpu_seconds());
                        tokens = pool.install(|| {
                            use rayon::prelude::*;
                            texts
                                .par_iter()
                                .map(|s| {
                                    if fast {
                                        tok.encode(s).unwrap().len()
                                    } else {
                                        tok.encode_reference(s).unwrap().len()
                                    }
                                })
                                .sum()
                        });
                        wall = wall.min(t.elapsed().as_secs_f64());
                        cpu = cpu.min(cpu_seconds() - c);
                    }
                    let mb = bytes as f64 / 1e6;
                    println!(
                        "{name}\t{n}\t{}\t{mb:.1}\t{tokens}\t{wall:.3}\t{cpu:.3}\t{:.0}\t{:.2}\t{:.0}\t{:.2}",
                        texts.len(),
                        tokens as f64 / wall,
                        mb / wall,
                        tokens as f64 / cpu,
                        mb / cpu
                    );
                }
            }
        }
        other => panic!("unknown subcommand {other}"),
    }
}
